/* SPDX-License-Identifier: MIT
 * test_fuzz_replay.c - replays every file of tests/fuzz/corpus/{json,schema}/ through the
 * JSON parser, dumper, pointer look-ups, schema checks and query typing (gcc has no
 * libFuzzer; this is the regression half of fuzzing). Asserts no crash and a few
 * invariants: a parsed value dumps to text that parses back equal, validation failures
 * always carry field errors. Every prefix of small files is replayed too.
 * The corpus is found next to this source file (or in BENTO_FUZZ_CORPUS).
 */
#include "bt_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const colors[] = {"red", "green", NULL};

static const struct bt_field config_fields[] = {
    {"param_key", BT_T_STR, BT_F_REQUIRED | BT_F_NONEMPTY, .max_len = 20},
    {"value", BT_T_NUM, BT_F_MIN | BT_F_NULLABLE, .min = 0},
    BT_FIELD_END,
};

static const struct bt_field addr_fields[] = {
    {"city", BT_T_STR, BT_F_REQUIRED, .max_len = 50},
    {"zip", BT_T_INT, BT_F_MIN | BT_F_MAX, .min = 0, .max = 99999},
    BT_FIELD_END,
};

static const struct bt_field item_fields[] = {
    {"name", BT_T_STR, BT_F_REQUIRED | BT_F_NONEMPTY, .max_len = 200},
    {"qty", BT_T_INT, BT_F_REQUIRED | BT_F_MIN | BT_F_MAX, .min = 1, .max = 10},
    {"price", BT_T_NUM, BT_F_MIN, .min = 0},
    {"active", BT_T_BOOL, BT_F_NULLABLE, .desc = "flag"},
    {"color", BT_T_ENUM, 0, .one_of = colors},
    {"note", BT_T_STR, BT_F_NULLABLE, .min_len = 2, .max_len = 5},
    {"tags", BT_T_ARRAY, 0, .item_type = BT_T_STR, .max_len = 3},
    {"scores", BT_T_ARRAY, BT_F_MAX, .item_type = BT_T_INT, .max = 100},
    {"configs", BT_T_ARRAY, 0, .items = config_fields, .max_len = 1000},
    {"address", BT_T_OBJECT, 0, .items = addr_fields},
    {"extra", BT_T_ANY, 0, .desc = "anything"},
    BT_FIELD_END,
};

static const struct bt_schema schemas[] = {
    {"Drop", item_fields, 0, false},
    {"Keep", item_fields, BT_S_ALLOW_EXTRA, false},
    {"Reject", item_fields, BT_S_REJECT_EXTRA, false},
    {"Bulk", item_fields, 0, true},
};

static const char *const pointers[] = {
    "",    "/",  "/a",  "/a/b",   "/0", "/0/0", "/name", "/configs/0/param_key", "/a~1b/m~0n/0/",
    "/~1", "/-", "/00", "/k4999", "/s",
};

static void check_err(int rc, const struct bt_err *err)
{
    assert_true(rc == BT_OK || rc == BT_EINVAL);
    if (rc == BT_EINVAL) {
        assert_int_equal(err->code, BT_EINVAL);
        assert_true(err->nfields > 0);
        for (int i = 0; i < err->nfields; i++) {
            assert_true(strlen(err->fields[i].msg) > 0);
            /* both go back to the client inside JSON strings */
            assert_true(bt_utf8_len(err->fields[i].field, strlen(err->fields[i].field)) >= 0);
            assert_true(bt_utf8_len(err->fields[i].msg, strlen(err->fields[i].msg)) >= 0);
        }
    } else {
        assert_int_equal(err->nfields, 0);
    }
}

/* One input through everything. */
static void replay_one(struct bt_arena *a, const char *p, size_t n, bool with_schema)
{
    const char *why = NULL;
    json_t *j = bt_json_parse(p, n, &why);

    if (!j) {
        assert_non_null(why);
        return;
    }
    assert_null(why);

    /* dump -> parse gives the same value */
    {
        size_t len;
        const char *text = bt_json_dump(a, j, &len);
        json_t *back = bt_json_parse(text, len, &why);
        assert_non_null(text);
        assert_int_equal(len, strlen(text));
        assert_non_null(back);
        assert_true(json_equal(j, back));
        assert_true(bt_json_subset_j(back, j));
        json_decref(back);
    }
    for (size_t i = 0; i < sizeof pointers / sizeof pointers[0]; i++) {
        (void)bt_json_str(j, pointers[i]);
        (void)bt_json_int(j, pointers[i], 0);
    }

    if (with_schema) {
        for (size_t i = 0; i < sizeof schemas / sizeof schemas[0]; i++) {
            json_t *copy = json_deep_copy(j);
            struct bt_err err;
            bt_err_clear(&err);
            check_err(bt_schema_check(&schemas[i], copy, &err), &err);
            json_decref(copy);
        }
    }
    json_decref(j);
}

/* The same bytes as every query value of the item schema. */
static void replay_query(const char *p, size_t n)
{
    struct bt_kv q[2 * (sizeof item_fields / sizeof item_fields[0])];
    size_t nq = 0;
    struct bt_err err;
    json_t *out = NULL;
    int rc;

    if (memchr(p, '\0', n) || bt_utf8_len(p, n) < 0 || n > 4096)
        return;
    for (const struct bt_field *f = item_fields; f->type != BT_T_NONE; f++) {
        q[nq].name = f->name;
        q[nq++].value = p;
        q[nq].name = f->name;
        q[nq++].value = "1";
    }
    bt_err_clear(&err);
    rc = bt_schema_query(&schemas[0], q, nq, &out, &err);
    check_err(rc, &err);
    if (rc == BT_OK)
        assert_non_null(out);
    else
        assert_null(out);
    json_decref(out);
}

struct replay {
    struct bt_arena *a;
    bool with_schema;
};

static void replay_file(const char *name, const char *buf, size_t n, void *ud)
{
    struct replay *r = ud;
    (void)name;

    replay_one(r->a, buf, n, r->with_schema);
    replay_query(buf, n);
    /* truncated inputs: every prefix of small files */
    for (size_t k = 0; n <= 2048 && k < n; k++) {
        char *prefix = malloc(k + 1);
        assert_non_null(prefix);
        memcpy(prefix, buf, k);
        prefix[k] = '\0';
        replay_one(r->a, prefix, k, r->with_schema);
        free(prefix);
        bt_arena_reset(r->a);
    }
    bt_arena_reset(r->a);
}

static size_t replay_dir(const char *sub, bool with_schema)
{
    struct replay r = {bt_arena_new(), with_schema};
    size_t files = bt_test_corpus_each(sub, replay_file, &r);

    bt_arena_free(r.a);
    return files;
}

static void test_replay_json(void **state)
{
    (void)state;
    assert_true(replay_dir("json", false) > 0);
}

static void test_replay_schema(void **state)
{
    (void)state;
    assert_true(replay_dir("schema", true) > 0);
}

/* The json corpus also goes through the schemas: bodies of every shape. */
static void test_replay_json_through_schema(void **state)
{
    (void)state;
    assert_true(replay_dir("json", true) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_json),
        cmocka_unit_test(test_replay_schema),
        cmocka_unit_test(test_replay_json_through_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
