/* SPDX-License-Identifier: MIT
 * fuzz_query.c - a raw query string (the bytes after '?') through what the server and the
 * pipeline do with it: bt_query_parse (percent and '+' decoding, at most 256 pairs, as
 * src/http/server.c calls it), then bt_schema_query against every query schema of every
 * linked app. Invariants: parsed names and values are UTF-8 without NULs; typing gives an
 * object (BT_OK) or BT_EINVAL with UTF-8 field errors and no object. Corpus: corpus/query.
 */
#include "fuzz.h"
#include "fuzz_apps.h"

#include <bento/arena.h>
#include <bento/err.h>
#include <bento/http.h>
#include <bento/schema.h>

static const struct bt_schema *schemas[256];
static size_t nschemas;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    size_t len;
    char *qs = fuzz_rest_str(&in, &len);
    struct bt_arena *a = bt_arena_new();
    struct bt_kv *kv = NULL;
    size_t n = 0;

    if (!nschemas) {
        nschemas = fuzz_app_schemas(FUZZ_QUERY, schemas, sizeof schemas / sizeof schemas[0]);
        FUZZ_CHECK(nschemas > 0);
        if (getenv("FUZZ_DEBUG"))
            fprintf(stderr, "%zu query schemas\n", nschemas);
    }
    if (bt_query_parse(a, qs, 256, &kv, &n) == 0) {
        FUZZ_CHECK(n <= 256);
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(kv[i].name && kv[i].value);
            FUZZ_CHECK(bt_utf8_len(kv[i].name, strlen(kv[i].name)) >= 0);
            FUZZ_CHECK(bt_utf8_len(kv[i].value, strlen(kv[i].value)) >= 0);
        }
        for (size_t s = 0; s < nschemas; s++) {
            json_t *out = NULL;
            struct bt_err err;
            int rc;

            bt_err_clear(&err);
            rc = bt_schema_query(schemas[s], kv, n, &out, &err);
            if (rc == BT_OK) {
                FUZZ_CHECK(json_is_object(out));
                FUZZ_CHECK(err.nfields == 0);
            } else {
                FUZZ_CHECK(rc == BT_EINVAL && err.code == BT_EINVAL && err.nfields > 0);
                FUZZ_CHECK(out == NULL);
                for (int i = 0; i < err.nfields && i < BT_ERR_MAX_FIELDS; i++)
                    FUZZ_CHECK(bt_utf8_len(err.fields[i].msg, strlen(err.fields[i].msg)) >= 0);
            }
            json_decref(out);
        }
    }
    bt_arena_free(a);
    free(qs);
    return 0;
}
