/* SPDX-License-Identifier: MIT
 * test_schema.c - unit tests for src/json/schema.c: body validation (types, ranges, lengths,
 * enums, nesting, extra fields, every error collected), typed query strings and the small
 * parsers (bool, int64, UTF-8 length).
 */
#include "bt_test.h"

#include <string.h>

static const char *const colors[] = {"red", "green", NULL};

static const struct bt_field config_fields[] = {
    {"param_key", BT_T_STR, BT_F_REQUIRED | BT_F_NONEMPTY, .max_len = 20},
    {"value", BT_T_NUM, BT_F_MIN, .min = 0},
    BT_FIELD_END,
};

static const struct bt_field addr_fields[] = {
    {"city", BT_T_STR, BT_F_REQUIRED, .desc = "city name"},
    {"zip", BT_T_INT, 0, .desc = "postal code"},
    BT_FIELD_END,
};

static const struct bt_field item_fields[] = {
    {"name", BT_T_STR, BT_F_REQUIRED | BT_F_NONEMPTY, .max_len = 200},
    {"qty", BT_T_INT, BT_F_REQUIRED | BT_F_MIN | BT_F_MAX, .min = 1, .max = 10},
    {"price", BT_T_NUM, BT_F_MIN, .min = 0.5},
    {"active", BT_T_BOOL, 0, .desc = "flag"},
    {"color", BT_T_ENUM, 0, .one_of = colors},
    {"note", BT_T_STR, BT_F_NULLABLE, .min_len = 2, .max_len = 5},
    {"tags", BT_T_ARRAY, 0, .item_type = BT_T_STR, .max_len = 3},
    {"scores", BT_T_ARRAY, BT_F_MAX, .item_type = BT_T_INT, .max = 100},
    {"configs", BT_T_ARRAY, 0, .items = config_fields, .min_len = 1},
    {"address", BT_T_OBJECT, 0, .items = addr_fields},
    {"meta", BT_T_OBJECT, 0, .desc = "free-form object"},
    {"extra", BT_T_ANY, 0, .desc = "anything"},
    BT_FIELD_END,
};

static const struct bt_schema item_schema = {"Item", item_fields, 0, false};
static const struct bt_schema item_schema_keep = {"Item", item_fields, BT_S_ALLOW_EXTRA, false};
static const struct bt_schema item_schema_strict = {"Item", item_fields, BT_S_REJECT_EXTRA, false};
static const struct bt_schema item_bulk = {"Item", item_fields, 0, true};

/* Run the check on text and return the error (code and fields). */
static int check(const struct bt_schema *s, const char *text, struct bt_err *err, json_t **keep)
{
    json_t *j = bt_json_parse(text, strlen(text), NULL);
    int rc;

    assert_non_null(j);
    bt_err_clear(err);
    rc = bt_schema_check(s, j, err);
    if (keep)
        *keep = j;
    else
        json_decref(j);
    return rc;
}

/* Has err a field error with this field and message? */
static bool has(const struct bt_err *err, const char *field, const char *msg)
{
    for (int i = 0; i < err->nfields; i++) {
        if (strcmp(err->fields[i].field, field) == 0 && strcmp(err->fields[i].msg, msg) == 0)
            return true;
    }
    return false;
}

static void dump_err(const struct bt_err *err)
{
    for (int i = 0; i < err->nfields; i++)
        print_message("  %s: %s\n", err->fields[i].field, err->fields[i].msg);
}

#define assert_has(err, field, msg)                                                                \
    do {                                                                                           \
        if (!has((err), (field), (msg))) {                                                         \
            dump_err(err);                                                                         \
            fail_msg("missing error %s: %s", (field), (msg));                                      \
        }                                                                                          \
    } while (0)

static void test_valid_body(void **state)
{
    struct bt_err err;
    json_t *j = NULL;

    (void)state;
    assert_int_equal(check(&item_schema,
                           "{\"name\":\"便當\",\"qty\":3,\"price\":1,\"active\":true,"
                           "\"color\":\"red\",\"note\":null,\"tags\":[\"a\",\"b\"],"
                           "\"scores\":[1,100],\"configs\":[{\"param_key\":\"k\",\"value\":0.5}],"
                           "\"address\":{\"city\":\"台北\",\"zip\":100},\"meta\":{\"x\":[1]},"
                           "\"extra\":[null]}",
                           &err, &j),
                     BT_OK);
    assert_int_equal(err.nfields, 0);
    assert_int_equal(err.code, BT_OK);
    /* an integer is fine for a number; everything is kept */
    assert_true(json_is_integer(json_object_get(j, "price")));
    assert_int_equal(json_object_size(j), 12);
    json_decref(j);

    /* minimum body */
    assert_int_equal(check(&item_schema, "{\"name\":\"x\",\"qty\":10}", &err, NULL), BT_OK);
}

static void test_required_and_types(void **state)
{
    struct bt_err err;

    (void)state;
    assert_int_equal(check(&item_schema,
                           "{\"qty\":1.0,\"price\":\"1\",\"active\":1,\"color\":\"blue\","
                           "\"tags\":\"a\",\"address\":[],\"note\":5}",
                           &err, NULL),
                     BT_EINVAL);
    assert_int_equal(err.code, BT_EINVAL);
    assert_has(&err, "name", "field required");
    assert_has(&err, "qty", "must be an integer");
    assert_has(&err, "price", "must be a number");
    assert_has(&err, "active", "must be a boolean");
    assert_has(&err, "color", "must be one of: red, green");
    assert_has(&err, "tags", "must be an array");
    assert_has(&err, "address", "must be an object");
    assert_has(&err, "note", "must be a string");
    assert_int_equal(err.nfields, 8);
}

static void test_nulls(void **state)
{
    struct bt_err err;

    (void)state;
    /* null on a required field counts as missing; on an optional non-nullable field it is
     * the wrong type; on a nullable field it is fine */
    assert_int_equal(check(&item_schema,
                           "{\"name\":null,\"qty\":1,\"price\":null,\"color\":null,\"note\":null,"
                           "\"extra\":null}",
                           &err, NULL),
                     BT_EINVAL);
    assert_has(&err, "name", "field required");
    assert_has(&err, "price", "must be a number");
    assert_has(&err, "color", "must be one of: red, green");
    assert_int_equal(err.nfields, 3);
}

static void test_ranges_and_lengths(void **state)
{
    struct bt_err err;
    char body[800], name[700];

    (void)state;
    assert_int_equal(check(&item_schema, "{\"name\":\"x\",\"qty\":0,\"price\":0.25}", &err, NULL),
                     BT_EINVAL);
    assert_has(&err, "qty", "must be at least 1");
    assert_has(&err, "price", "must be at least 0.5");

    assert_int_equal(check(&item_schema, "{\"name\":\"x\",\"qty\":11}", &err, NULL), BT_EINVAL);
    assert_has(&err, "qty", "must be at most 10");
    assert_int_equal(err.nfields, 1);

    assert_int_equal(
        check(&item_schema, "{\"name\":\"x\",\"qty\":-9223372036854775808}", &err, NULL),
        BT_EINVAL);
    assert_has(&err, "qty", "must be at least 1");

    /* 200 code points are fine even though they are 600 bytes; 201 are not */
    memset(name, 0, sizeof name);
    for (int i = 0; i < 200; i++)
        strcat(name, "字");
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"qty\":1}", name);
    assert_int_equal(check(&item_schema, body, &err, NULL), BT_OK);
    strcat(name, "a");
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"qty\":1}", name);
    assert_int_equal(check(&item_schema, body, &err, NULL), BT_EINVAL);
    assert_has(&err, "name", "must be at most 200 characters");

    assert_int_equal(check(&item_schema, "{\"name\":\"x\",\"qty\":1,\"note\":\"a\"}", &err, NULL),
                     BT_EINVAL);
    assert_has(&err, "note", "must be at least 2 characters");
    assert_int_equal(
        check(&item_schema, "{\"name\":\"x\",\"qty\":1,\"note\":\"abcdef\"}", &err, NULL),
        BT_EINVAL);
    assert_has(&err, "note", "must be at most 5 characters");

    /* array counts */
    assert_int_equal(check(&item_schema,
                           "{\"name\":\"x\",\"qty\":1,\"tags\":[\"a\",\"b\",\"c\",\"d\"],"
                           "\"configs\":[]}",
                           &err, NULL),
                     BT_EINVAL);
    assert_has(&err, "tags", "must have at most 3 items");
    assert_has(&err, "configs", "must have at least 1 item");
}

static void test_nonempty(void **state)
{
    struct bt_err err;

    (void)state;
    assert_int_equal(check(&item_schema, "{\"name\":\"\",\"qty\":1}", &err, NULL), BT_EINVAL);
    assert_has(&err, "name", "must not be empty");
    assert_int_equal(check(&item_schema, "{\"name\":\" \\t\\n\",\"qty\":1}", &err, NULL),
                     BT_EINVAL);
    assert_has(&err, "name", "must not be empty");
    /* ideographic space only */
    assert_int_equal(check(&item_schema, "{\"name\":\"\xe3\x80\x80\",\"qty\":1}", &err, NULL),
                     BT_EINVAL);
    assert_has(&err, "name", "must not be empty");
    assert_int_equal(check(&item_schema, "{\"name\":\" a \",\"qty\":1}", &err, NULL), BT_OK);
}

static void test_nested_paths(void **state)
{
    struct bt_err err;

    (void)state;
    assert_int_equal(check(&item_schema,
                           "{\"name\":\"x\",\"qty\":1,"
                           "\"configs\":[{\"param_key\":\"a\"},{\"param_key\":\"b\",\"value\":-1},"
                           "{\"value\":1},5],"
                           "\"address\":{\"zip\":\"100\"},"
                           "\"tags\":[\"a\",1],\"scores\":[5,101,1.5]}",
                           &err, NULL),
                     BT_EINVAL);
    assert_has(&err, "configs[1].value", "must be at least 0");
    assert_has(&err, "configs[2].param_key", "field required");
    assert_has(&err, "configs[3]", "must be an object");
    assert_has(&err, "address.city", "field required");
    assert_has(&err, "address.zip", "must be an integer");
    assert_has(&err, "tags[1]", "must be a string");
    assert_has(&err, "scores[1]", "must be at most 100");
    assert_has(&err, "scores[2]", "must be an integer");
    assert_int_equal(err.nfields, 8);
}

/* BT_F_MAP: an object of typed values; each value is checked like an array element */
static const struct bt_field map_entry[] = {
    {"n", BT_T_INT, BT_F_REQUIRED, .desc = "count"},
    BT_FIELD_END,
};
static const struct bt_field map_fields[] = {
    {"limits", BT_T_OBJECT, BT_F_MAP | BT_F_MAX, .item_type = BT_T_INT, .max = 10},
    {"entries", BT_T_OBJECT, BT_F_MAP, .items = map_entry},
    BT_FIELD_END,
};
static const struct bt_schema map_schema = {"Maps", map_fields, 0, false};

static void test_maps(void **state)
{
    struct bt_err err;

    (void)state;
    assert_int_equal(check(&map_schema,
                           "{\"limits\":{\"a\":1,\"b\":10},\"entries\":{\"x\":{\"n\":1}}}", &err,
                           NULL),
                     BT_OK);
    assert_int_equal(check(&map_schema,
                           "{\"limits\":{\"a\":\"1\",\"b\":11},\"entries\":{\"x\":{},\"y\":2}}",
                           &err, NULL),
                     BT_EINVAL);
    assert_has(&err, "limits.a", "must be an integer");
    assert_has(&err, "limits.b", "must be at most 10");
    assert_has(&err, "entries.x.n", "field required");
    assert_has(&err, "entries.y", "must be an object");
    assert_int_equal(err.nfields, 4);
}

static void test_extra_fields(void **state)
{
    struct bt_err err;
    json_t *j = NULL;

    (void)state;
    /* default: dropped silently, also inside nested objects */
    assert_int_equal(check(&item_schema,
                           "{\"name\":\"x\",\"qty\":1,\"hack\":true,\"address\":{\"city\":\"c\","
                           "\"evil\":1},\"meta\":{\"free\":1}}",
                           &err, &j),
                     BT_OK);
    assert_null(json_object_get(j, "hack"));
    assert_null(bt_json_at(j, "/address/evil"));
    assert_non_null(bt_json_at(j, "/address/city"));
    assert_non_null(bt_json_at(j, "/meta/free")); /* any-object keeps everything */
    json_decref(j);

    assert_int_equal(check(&item_schema_keep, "{\"name\":\"x\",\"qty\":1,\"hack\":true}", &err, &j),
                     BT_OK);
    assert_non_null(json_object_get(j, "hack"));
    json_decref(j);

    assert_int_equal(check(&item_schema_strict,
                           "{\"name\":\"x\",\"qty\":1,\"hack\":true,\"address\":{\"city\":\"c\","
                           "\"evil\":1}}",
                           &err, NULL),
                     BT_EINVAL);
    assert_has(&err, "hack", "unknown field");
    assert_has(&err, "address.evil", "unknown field");
    assert_int_equal(err.nfields, 2);
}

static void test_body_not_object(void **state)
{
    struct bt_err err;
    const char *bad[] = {"[]", "1", "\"x\"", "null", "true"};

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(check(&item_schema, bad[i], &err, NULL), BT_EINVAL);
        assert_int_equal(err.nfields, 1);
        assert_has(&err, "", "body must be a JSON object");
    }
    bt_err_clear(&err);
    assert_int_equal(bt_schema_check(&item_schema, NULL, &err), BT_EINVAL);
    assert_has(&err, "", "body must be a JSON object");
    /* err may be NULL */
    assert_int_equal(bt_schema_check(&item_schema, NULL, NULL), BT_EINVAL);
}

static void test_array_body(void **state)
{
    struct bt_err err;

    (void)state;
    assert_int_equal(
        check(&item_bulk, "[{\"name\":\"a\",\"qty\":1},{\"name\":\"b\",\"qty\":2}]", &err, NULL),
        BT_OK);
    assert_int_equal(check(&item_bulk, "[]", &err, NULL), BT_OK);
    assert_int_equal(check(&item_bulk, "[{\"name\":\"a\",\"qty\":1},{\"qty\":0},3]", &err, NULL),
                     BT_EINVAL);
    assert_has(&err, "[1].name", "field required");
    assert_has(&err, "[1].qty", "must be at least 1");
    assert_has(&err, "[2]", "must be an object");
    assert_int_equal(check(&item_bulk, "{\"name\":\"a\",\"qty\":1}", &err, NULL), BT_EINVAL);
    assert_has(&err, "", "body must be a JSON array");
}

static void test_many_errors_capped(void **state)
{
#define REQ_INT(n)                                                                                 \
    {                                                                                              \
        n, BT_T_INT, BT_F_REQUIRED, .desc = n                                                      \
    }
    static const struct bt_field many[] = {
        REQ_INT("a"), REQ_INT("b"), REQ_INT("c"), REQ_INT("d"), REQ_INT("e"),
        REQ_INT("f"), REQ_INT("g"), REQ_INT("h"), REQ_INT("i"), REQ_INT("j"),
        REQ_INT("k"), REQ_INT("l"), REQ_INT("m"), REQ_INT("n"), REQ_INT("o"),
        REQ_INT("p"), REQ_INT("q"), REQ_INT("r"), BT_FIELD_END,
    };
    static const struct bt_schema s = {"Many", many, 0, false};
    struct bt_err err;

    (void)state;
    assert_int_equal(check(&s, "{}", &err, NULL), BT_EINVAL);
    assert_int_equal(err.nfields, BT_ERR_MAX_FIELDS);
    assert_has(&err, "a", "field required");
}

static void test_long_paths_truncated(void **state)
{
    static const struct bt_field inner[] = {
        {"a_very_long_field_name_that_goes_on_and_on_and_on_forever_and_ever", BT_T_INT,
         BT_F_REQUIRED, .desc = "long"},
        BT_FIELD_END,
    };
    static const struct bt_field outer[] = {
        {"another_very_long_field_name_that_also_goes_on_and_on", BT_T_OBJECT, BT_F_REQUIRED,
         .items = inner},
        BT_FIELD_END,
    };
    static const struct bt_schema s = {"Long", outer, 0, false};
    struct bt_err err;

    (void)state;
    assert_int_equal(
        check(&s, "{\"another_very_long_field_name_that_also_goes_on_and_on\":{}}", &err, NULL),
        BT_EINVAL);
    assert_int_equal(err.nfields, 1);
    assert_int_equal(strncmp(err.fields[0].field, "another_very_long", 17), 0);
}

static void test_long_enum_list(void **state)
{
    static const char *const words[] = {"一二三四五六七八九十", "一二三四五六七八九十",
                                        "一二三四五六七八九十", "一二三四五六七八九十",
                                        "一二三四五六七八九十", "一二三四五六七八九十",
                                        "一二三四五六七八九十", NULL};
    static const struct bt_field f[] = {
        {"w", BT_T_ENUM, BT_F_REQUIRED, .one_of = words},
        BT_FIELD_END,
    };
    static const struct bt_schema s = {"Words", f, 0, false};
    struct bt_err err;
    const char *msg;

    (void)state;
    assert_int_equal(check(&s, "{\"w\":\"x\"}", &err, NULL), BT_EINVAL);
    msg = err.fields[0].msg;
    /* only whole values are listed, so the message stays valid UTF-8 */
    assert_true(strncmp(msg, "must be one of: 一二三四五六七八九十, ", 20) == 0);
    assert_true(bt_utf8_len(msg, strlen(msg)) > 0);
    assert_true(strlen(msg) < sizeof err.fields[0].msg);
    assert_string_equal(msg + strlen(msg) - strlen("一二三四五六七八九十"), "一二三四五六七八九十");
}

/* ---- query ---- */

static const char *const sorts[] = {"name", "created_at", NULL};

static const struct bt_field list_fields[] = {
    {"page", BT_T_INT, BT_F_MIN, .min = 1},
    {"limit", BT_T_INT, BT_F_MIN | BT_F_MAX, .min = 1, .max = 100},
    {"q", BT_T_STR, 0, .max_len = 5},
    {"active", BT_T_BOOL, 0, .desc = "flag"},
    {"sort", BT_T_ENUM, 0, .one_of = sorts},
    {"ratio", BT_T_NUM, 0, .desc = "a ratio"},
    {"tag", BT_T_ARRAY, 0, .item_type = BT_T_INT, .max_len = 3},
    {"word", BT_T_ARRAY, 0, .desc = "words"},
    {"vendor_id", BT_T_INT, BT_F_REQUIRED, .desc = "vendor"},
    BT_FIELD_END,
};
static const struct bt_schema list_schema = {"List", list_fields, 0, false};

static int query(const struct bt_kv *q, size_t n, json_t **out, struct bt_err *err)
{
    bt_err_clear(err);
    return bt_schema_query(&list_schema, q, n, out, err);
}

static void test_query_ok(void **state)
{
    const struct bt_kv q[] = {
        {"vendor_id", "7"}, {"page", "2"},    {"limit", "100"}, {"q", "台北"},
        {"active", "YES"},  {"sort", "name"}, {"ratio", "0.5"}, {"tag", "1"},
        {"unknown", "zzz"}, {"tag", "2"},     {"page", "9"},    {"word[]", "a"},
        {"word", "b"},
    };
    struct bt_err err;
    json_t *out = NULL;

    (void)state;
    assert_int_equal(query(q, sizeof q / sizeof q[0], &out, &err), BT_OK);
    assert_non_null(out);
    assert_true(bt_json_subset(out, "{\"vendor_id\":7,\"page\":2,\"limit\":100,\"q\":\"台北\","
                                    "\"active\":true,\"sort\":\"name\",\"ratio\":0.5,"
                                    "\"tag\":[1,2],\"word\":[\"a\",\"b\"]}"));
    assert_null(json_object_get(out, "unknown"));
    json_decref(out);

    /* a whole number for BT_T_NUM stays an integer */
    {
        const struct bt_kv q2[] = {{"vendor_id", "1"}, {"ratio", "3"}};
        assert_int_equal(query(q2, 2, &out, &err), BT_OK);
        assert_true(json_is_integer(json_object_get(out, "ratio")));
        assert_null(json_object_get(out, "page")); /* absent stays absent */
        json_decref(out);
    }
}

static void test_query_errors(void **state)
{
    const struct bt_kv q[] = {
        {"page", "abc"},  {"limit", "101"}, {"q", "toolong"}, {"active", "maybe"}, {"sort", "x"},
        {"ratio", "nan"}, {"tag", "1"},     {"tag", "x"},     {"tag", "3"},        {"tag", "4"},
    };
    struct bt_err err;
    json_t *out = (json_t *)&err; /* must be reset to NULL */

    (void)state;
    assert_int_equal(query(q, sizeof q / sizeof q[0], &out, &err), BT_EINVAL);
    assert_null(out);
    assert_has(&err, "page", "must be an integer");
    assert_has(&err, "limit", "must be at most 100");
    assert_has(&err, "q", "must be at most 5 characters");
    assert_has(&err, "active", "must be a boolean");
    assert_has(&err, "sort", "must be one of: name, created_at");
    assert_has(&err, "ratio", "must be a number");
    assert_has(&err, "tag[1]", "must be an integer");
    assert_has(&err, "tag", "must have at most 3 items");
    assert_has(&err, "vendor_id", "field required");
    assert_int_equal(err.nfields, 9);
}

static void test_query_numbers(void **state)
{
    const char *bad_int[] = {"", " 1", "1 ", "1.0", "0x10", "+", "-", "9223372036854775808", "1e3"};
    const char *bad_num[] = {"", "inf", "-Infinity", "NaN", "0x1p3", "1e999", " 1", "1,5"};
    struct bt_err err;
    json_t *out;

    (void)state;
    for (size_t i = 0; i < sizeof bad_int / sizeof bad_int[0]; i++) {
        const struct bt_kv q[] = {{"vendor_id", bad_int[i]}};
        assert_int_equal(query(q, 1, &out, &err), BT_EINVAL);
        assert_has(&err, "vendor_id", "must be an integer");
    }
    for (size_t i = 0; i < sizeof bad_num / sizeof bad_num[0]; i++) {
        const struct bt_kv q[] = {{"vendor_id", "1"}, {"ratio", bad_num[i]}};
        assert_int_equal(query(q, 2, &out, &err), BT_EINVAL);
        assert_has(&err, "ratio", "must be a number");
    }
    {
        const struct bt_kv q[] = {{"vendor_id", "-9223372036854775808"}, {"ratio", "-1.5e3"}};
        assert_int_equal(query(q, 2, &out, &err), BT_OK);
        assert_true(json_integer_value(json_object_get(out, "vendor_id")) == INT64_MIN);
        assert_true(json_real_value(json_object_get(out, "ratio")) == -1500.0);
        json_decref(out);
    }
}

static void test_query_null_schema(void **state)
{
    struct bt_err err;
    json_t *out = NULL;
    const struct bt_kv q[] = {{"a", "b"}};

    (void)state;
    bt_err_clear(&err);
    assert_int_equal(bt_schema_query(NULL, q, 1, &out, &err), BT_OK);
    assert_int_equal(json_object_size(out), 0);
    json_decref(out);
}

/* ---- parsers ---- */

static void test_parse_bool(void **state)
{
    const char *yes[] = {"true", "TRUE", "True", "1", "yes", "YES", "on", "On"};
    const char *no[] = {"false", "FALSE", "0", "no", "No", "off", "OFF"};
    const char *bad[] = {"", "2", "tru", "truee", "y", "n", " true", "null"};
    bool b;

    (void)state;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        b = false;
        assert_int_equal(bt_parse_bool(yes[i], &b), 0);
        assert_true(b);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        b = true;
        assert_int_equal(bt_parse_bool(no[i], &b), 0);
        assert_false(b);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(bt_parse_bool(bad[i], &b), -1);
    assert_int_equal(bt_parse_bool(NULL, &b), -1);
}

static void test_parse_i64(void **state)
{
    int64_t v;

    (void)state;
    assert_int_equal(bt_parse_i64("0", &v), 0);
    assert_true(v == 0);
    assert_int_equal(bt_parse_i64("-42", &v), 0);
    assert_true(v == -42);
    assert_int_equal(bt_parse_i64("+42", &v), 0);
    assert_true(v == 42);
    assert_int_equal(bt_parse_i64("007", &v), 0);
    assert_true(v == 7);
    assert_int_equal(bt_parse_i64("9223372036854775807", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(bt_parse_i64("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(bt_parse_i64("9223372036854775808", &v), -1);
    assert_int_equal(bt_parse_i64("-9223372036854775809", &v), -1);
    assert_int_equal(bt_parse_i64("99999999999999999999999", &v), -1);
    assert_int_equal(bt_parse_i64("", &v), -1);
    assert_int_equal(bt_parse_i64("-", &v), -1);
    assert_int_equal(bt_parse_i64(" 1", &v), -1);
    assert_int_equal(bt_parse_i64("1 ", &v), -1);
    assert_int_equal(bt_parse_i64("1a", &v), -1);
    assert_int_equal(bt_parse_i64("--1", &v), -1);
    assert_int_equal(bt_parse_i64(NULL, &v), -1);
}

static void test_utf8_len(void **state)
{
    (void)state;
    assert_int_equal(bt_utf8_len("", 0), 0);
    assert_int_equal(bt_utf8_len("abc", 3), 3);
    assert_int_equal(bt_utf8_len("台北", 6), 2);
    assert_int_equal(bt_utf8_len("\xf0\x9f\x8d\xb1", 4), 1);  /* U+1F371 */
    assert_int_equal(bt_utf8_len("\xf4\x8f\xbf\xbf", 4), 1);  /* U+10FFFF */
    assert_int_equal(bt_utf8_len("a\0b", 3), 3);              /* NUL is a code point */
    assert_int_equal(bt_utf8_len("\xc0\x80", 2), -1);         /* overlong NUL */
    assert_int_equal(bt_utf8_len("\xc1\xbf", 2), -1);         /* overlong */
    assert_int_equal(bt_utf8_len("\xe0\x80\xaf", 3), -1);     /* overlong */
    assert_int_equal(bt_utf8_len("\xf0\x80\x80\xaf", 4), -1); /* overlong */
    assert_int_equal(bt_utf8_len("\xed\xa0\x80", 3), -1);     /* U+D800 */
    assert_int_equal(bt_utf8_len("\xed\xbf\xbf", 3), -1);     /* U+DFFF */
    assert_int_equal(bt_utf8_len("\xf4\x90\x80\x80", 4), -1); /* U+110000 */
    assert_int_equal(bt_utf8_len("\xf5\x80\x80\x80", 4), -1);
    assert_int_equal(bt_utf8_len("\xff", 1), -1);
    assert_int_equal(bt_utf8_len("\x80", 1), -1);         /* lone continuation */
    assert_int_equal(bt_utf8_len("\xe5\x8f", 2), -1);     /* truncated */
    assert_int_equal(bt_utf8_len("\xe5\x8f\xb0", 2), -1); /* n cuts the sequence */
    assert_int_equal(bt_utf8_len("\xe5"
                                 "a"
                                 "\xb0",
                                 3),
                     -1); /* bad continuation */
}

static void test_invalid_utf8_in_built_json(void **state)
{
    /* strings built in C bypass Jansson's check; the schema still refuses them */
    struct bt_err err;
    json_t *j = json_pack("{s:i}", "qty", 1);

    (void)state;
    json_object_set_new(j, "name", json_stringn_nocheck("\xff", 1));
    bt_err_clear(&err);
    assert_int_equal(bt_schema_check(&item_schema, j, &err), BT_EINVAL);
    assert_has(&err, "name", "must be valid UTF-8");
    json_decref(j);
}

/* BT_S_PARTIAL: update shares the create table; nothing required at the top level, but a
 * present null is still refused and nested objects keep their required fields */
static void test_partial_schema(void **state)
{
    static const struct bt_field inner[] = {
        {.name = "k", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "k"},
        BT_FIELD_END,
    };
    static const struct bt_field fields[] = {
        {.name = "name", .type = BT_T_STR, .flags = BT_F_REQUIRED, .min_len = 1},
        {.name = "obj", .type = BT_T_OBJECT, .items = inner},
        BT_FIELD_END,
    };
    static const struct bt_schema create = {.name = "C", .fields = fields};
    static const struct bt_schema update = {.name = "U", .fields = fields, .flags = BT_S_PARTIAL};
    struct bt_err err;
    json_t *j;
    (void)state;

    bt_err_clear(&err);
    j = json_loads("{}", 0, NULL);
    assert_int_equal(bt_schema_check(&create, j, &err), BT_EINVAL);
    bt_err_clear(&err);
    assert_int_equal(bt_schema_check(&update, j, &err), BT_OK);
    json_decref(j);
    j = json_loads("{\"name\":null}", 0, NULL);
    bt_err_clear(&err);
    assert_int_equal(bt_schema_check(&update, j, &err), BT_EINVAL);
    json_decref(j);
    j = json_loads("{\"obj\":{}}", 0, NULL);
    bt_err_clear(&err);
    assert_int_equal(bt_schema_check(&update, j, &err), BT_EINVAL);
    assert_string_equal(err.fields[0].field, "obj.k");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_schema),
        cmocka_unit_test(test_valid_body),
        cmocka_unit_test(test_required_and_types),
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_ranges_and_lengths),
        cmocka_unit_test(test_nonempty),
        cmocka_unit_test(test_nested_paths),
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_extra_fields),
        cmocka_unit_test(test_body_not_object),
        cmocka_unit_test(test_array_body),
        cmocka_unit_test(test_many_errors_capped),
        cmocka_unit_test(test_long_paths_truncated),
        cmocka_unit_test(test_long_enum_list),
        cmocka_unit_test(test_query_ok),
        cmocka_unit_test(test_query_errors),
        cmocka_unit_test(test_query_numbers),
        cmocka_unit_test(test_query_null_schema),
        cmocka_unit_test(test_parse_bool),
        cmocka_unit_test(test_parse_i64),
        cmocka_unit_test(test_utf8_len),
        cmocka_unit_test(test_invalid_utf8_in_built_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
