/* SPDX-License-Identifier: MIT
 * test_fuzz_ops_replay.c - replays tests/fuzz/corpus/{multipart,image}/ through
 * bt_multipart_parse and bt_image_sniff, each file and every prefix of it, each copied
 * into a heap block of exactly its size so that an over-read is caught under
 * -fsanitize=address. Asserts no crash and the invariants:
 *   multipart  the result is OK, EINVAL or EMEDIATYPE; on OK every part lies inside the
 *              body, has a UTF-8 name, and there are at most 64; on failure there are no
 *              parts and the message is set. Part data is sniffed as an image too.
 *   image      OK means a known format with 1..65535 dimensions; and since a truncated
 *              upload must never pass, no strict prefix of an accepted file is accepted.
 * Multipart corpus files hold the Content-Type value on the first line, then the body.
 * The corpus is found next to this source file (or in BENTO_FUZZ_CORPUS).
 */
#include "bt_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bento/image.h>
#include <bento/multipart.h>

/* An exact-size heap copy: one byte past the end is outside the allocation. */
static char *exact_copy(const char *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    assert_non_null(c);
    if (n)
        memcpy(c, p, n);
    return c;
}

static int sniff_checked(const void *p, size_t n)
{
    struct bt_image_info info;
    int rc = bt_image_sniff(p, n, &info);

    if (rc == BT_OK) {
        assert_true(info.format >= BT_IMG_JPEG && info.format <= BT_IMG_WEBP);
        assert_non_null(info.mime);
        assert_non_null(info.ext);
        assert_true(info.width >= 1 && info.width <= 65535);
        assert_true(info.height >= 1 && info.height <= 65535);
        assert_null(info.reason);
    } else {
        assert_int_equal(rc, BT_EINVAL);
        assert_int_equal(info.format, BT_IMG_NONE);
        assert_non_null(info.reason);
    }
    return rc;
}

static void multipart_checked(struct bt_arena *a, const char *ct, const char *body, size_t len)
{
    struct bt_multipart_part *parts = (void *)1;
    size_t n = 99;
    struct bt_err err;
    int rc;

    bt_err_clear(&err);
    rc = bt_multipart_parse(a, ct, body, len, &parts, &n, &err);
    if (rc != BT_OK) {
        assert_true(rc == BT_EINVAL || rc == BT_EMEDIATYPE);
        assert_int_equal(err.code, rc);
        assert_true(strlen(err.msg) > 0);
        assert_null(parts);
        assert_int_equal(n, 0);
        return;
    }
    assert_true(n <= BT_MULTIPART_MAX_PARTS);
    for (size_t i = 0; i < n; i++) {
        const struct bt_multipart_part *pt = &parts[i];
        assert_non_null(pt->name);
        assert_true(bt_utf8_len(pt->name, strlen(pt->name)) >= 0);
        if (pt->filename)
            assert_true(bt_utf8_len(pt->filename, strlen(pt->filename)) >= 0);
        assert_true(pt->data >= body && pt->data + pt->len <= body + len);
        /* find returns the first part of that name: this one or an earlier one */
        assert_true(bt_multipart_find(parts, n, pt->name) <= pt);
        assert_string_equal(bt_multipart_find(parts, n, pt->name)->name, pt->name);
        /* part data is what an upload handler sniffs next */
        {
            char *copy = exact_copy(pt->data, pt->len);
            sniff_checked(copy, pt->len);
            free(copy);
        }
    }
}

typedef void replay_fn(struct bt_arena *a, const char *name, const char *p, size_t n);

static void replay_multipart(struct bt_arena *a, const char *name, const char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n);
    char *ct, *body;
    size_t blen;
    (void)name;

    assert_non_null(nl); /* corpus format: Content-Type line first */
    ct = strndup(p, (size_t)(nl - p));
    blen = n - (size_t)(nl + 1 - p);
    body = exact_copy(nl + 1, blen);

    multipart_checked(a, ct, body, blen);
    bt_arena_reset(a);
    /* the same body under fixed content types, and with no type at all */
    multipart_checked(a, "multipart/form-data; boundary=b", body, blen);
    multipart_checked(a, NULL, body, blen);
    bt_arena_reset(a);
    /* every prefix of the body (a truncated upload), and every prefix of the type */
    for (size_t k = 0; k < blen; k++) {
        char *pre = exact_copy(body, k);
        multipart_checked(a, ct, pre, k);
        free(pre);
        bt_arena_reset(a);
    }
    for (size_t k = 0; k < strlen(ct); k++) {
        char *pre = strndup(ct, k);
        multipart_checked(a, pre, body, blen);
        free(pre);
        bt_arena_reset(a);
    }
    free(body);
    free(ct);
}

static void replay_image(struct bt_arena *a, const char *name, const char *p, size_t n)
{
    char *whole = exact_copy(p, n);
    int rc = sniff_checked(whole, n);
    (void)a;

    for (size_t k = 0; k < n; k++) {
        char *pre = exact_copy(p, k);
        int prc = sniff_checked(pre, k);
        if (rc == BT_OK && prc == BT_OK)
            fail_msg("%s: the %zu-byte prefix of an accepted image was accepted", name, k);
        free(pre);
    }
    free(whole);
}

struct replay {
    replay_fn *fn;
    struct bt_arena *a;
    size_t *accepted_images;
};

static void replay_file(const char *name, const char *p, size_t n, void *ud)
{
    struct replay *r = ud;

    r->fn(r->a, name, p, n);
    if (r->accepted_images) {
        struct bt_image_info info;
        if (bt_image_sniff(p, n, &info) == BT_OK)
            (*r->accepted_images)++;
    }
    bt_arena_reset(r->a);
}

static size_t replay_dir(const char *sub, replay_fn *fn, size_t *accepted_images)
{
    struct replay r = {fn, bt_arena_new(), accepted_images};
    size_t files = bt_test_corpus_each(sub, replay_file, &r);

    bt_arena_free(r.a);
    return files;
}

static void test_replay_multipart(void **state)
{
    (void)state;
    assert_true(replay_dir("multipart", replay_multipart, NULL) >= 20);
}

static void test_replay_image(void **state)
{
    size_t accepted = 0;
    (void)state;
    assert_true(replay_dir("image", replay_image, &accepted) >= 30);
    /* the corpus holds valid images of every format, not only rejects */
    assert_true(accepted >= 10);
}

/* Images go through the multipart parser too (bodies that are not multipart at all). */
static void image_as_body(struct bt_arena *a, const char *name, const char *p, size_t n)
{
    char *body = exact_copy(p, n);
    (void)name;
    multipart_checked(a, "multipart/form-data; boundary=b", body, n);
    free(body);
}

static void test_images_as_bodies(void **state)
{
    (void)state;
    assert_true(replay_dir("image", image_as_body, NULL) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_multipart),
        cmocka_unit_test(test_replay_image),
        cmocka_unit_test(test_images_as_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
