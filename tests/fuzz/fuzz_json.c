/* SPDX-License-Identifier: MIT
 * fuzz_json.c - a request body through what the pipeline does with it: bt_json_parse, then
 * bt_schema_check against every body schema of every linked app (a fresh copy each time,
 * since the check drops unknown fields). Invariants: a parsed value dumps to text that parses
 * back equal; a failed check is BT_EINVAL with field errors whose names and messages are
 * UTF-8 (they go back inside JSON); a passed one has none. Corpus: corpus/json, corpus/schema.
 */
#include "fuzz.h"
#include "fuzz_apps.h"

#include <bento/arena.h>
#include <bento/err.h>
#include <bento/json.h>
#include <bento/schema.h>

static const struct bt_schema *schemas[256];
static size_t nschemas;

static void check_one(const struct bt_schema *s, const json_t *j)
{
    json_t *copy = json_deep_copy(j);
    struct bt_err err;
    int rc;

    FUZZ_CHECK(copy != NULL);
    bt_err_clear(&err);
    rc = bt_schema_check(s, copy, &err);
    FUZZ_CHECK(rc == BT_OK || rc == BT_EINVAL);
    if (rc == BT_EINVAL) {
        FUZZ_CHECK(err.code == BT_EINVAL);
        FUZZ_CHECK(err.nfields > 0);
        for (int i = 0; i < err.nfields && i < BT_ERR_MAX_FIELDS; i++) {
            FUZZ_CHECK(err.fields[i].msg[0] != '\0');
            FUZZ_CHECK(bt_utf8_len(err.fields[i].field, strlen(err.fields[i].field)) >= 0);
            FUZZ_CHECK(bt_utf8_len(err.fields[i].msg, strlen(err.fields[i].msg)) >= 0);
        }
    } else {
        FUZZ_CHECK(err.nfields == 0);
    }
    json_decref(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL;
    json_t *j;

    if (!nschemas) {
        nschemas = fuzz_app_schemas(FUZZ_BODY, schemas, sizeof schemas / sizeof schemas[0]);
        FUZZ_CHECK(nschemas > 0);
        if (getenv("FUZZ_DEBUG"))
            fprintf(stderr, "%zu body schemas\n", nschemas);
    }
    j = bt_json_parse((const char *)data, size, &why);
    if (!j) {
        FUZZ_CHECK(why != NULL);
        return 0;
    }
    {
        struct bt_arena *a = bt_arena_new();
        size_t len = 0;
        const char *text = bt_json_dump(a, j, &len);
        json_t *back;

        FUZZ_CHECK(text != NULL && len == strlen(text));
        back = bt_json_parse(text, len, &why);
        FUZZ_CHECK(back != NULL);
        FUZZ_CHECK(json_equal(j, back));
        json_decref(back);
        bt_arena_free(a);
    }
    for (size_t i = 0; i < nschemas; i++)
        check_one(schemas[i], j);
    json_decref(j);
    return 0;
}
