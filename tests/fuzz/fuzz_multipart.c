/* SPDX-License-Identifier: MIT
 * fuzz_multipart.c - an upload through bt_multipart_parse (src/http/multipart.c), each part's
 * data then through bt_image_sniff, as yunshui's upload handler does. The input's first line
 * is the Content-Type header value, the rest the body (held in a block of exactly its size).
 * Invariants: OK, EINVAL or EMEDIATYPE; on OK at most 64 parts, each inside the body with a
 * UTF-8 name (and filename), found again by bt_multipart_find; on failure no parts and a
 * message. Corpus: corpus/multipart (the same format as tests/unit/test_fuzz_ops_replay.c).
 */
#include "fuzz.h"

#include <bento/arena.h>
#include <bento/err.h>
#include <bento/image.h>
#include <bento/multipart.h>
#include <bento/schema.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    char *ct = fuzz_line(&in, NULL);
    size_t len;
    char *body = fuzz_rest(&in, &len);
    struct bt_arena *a = bt_arena_new();
    struct bt_multipart_part *parts = NULL;
    size_t n = 99;
    struct bt_err err;
    int rc;

    bt_err_clear(&err);
    rc = bt_multipart_parse(a, ct, body, len, &parts, &n, &err);
    if (rc != BT_OK) {
        FUZZ_CHECK(rc == BT_EINVAL || rc == BT_EMEDIATYPE);
        FUZZ_CHECK((int)err.code == rc && err.msg[0] != '\0');
        FUZZ_CHECK(parts == NULL && n == 0);
    } else {
        FUZZ_CHECK(n <= BT_MULTIPART_MAX_PARTS);
        for (size_t i = 0; i < n; i++) {
            const struct bt_multipart_part *pt = &parts[i];
            struct bt_image_info info;

            FUZZ_CHECK(pt->name != NULL);
            FUZZ_CHECK(bt_utf8_len(pt->name, strlen(pt->name)) >= 0);
            FUZZ_CHECK(!pt->filename || bt_utf8_len(pt->filename, strlen(pt->filename)) >= 0);
            FUZZ_CHECK(pt->len == 0 || (pt->data >= body && pt->data + pt->len <= body + len));
            FUZZ_CHECK(bt_multipart_find(parts, n, pt->name) <= pt);
            for (size_t h = 0; h < pt->nheaders; h++)
                FUZZ_CHECK(pt->headers[h].name && pt->headers[h].value);
            (void)bt_image_sniff(pt->data, pt->len, &info);
        }
    }
    bt_arena_free(a);
    free(body);
    free(ct);
    return 0;
}
