/* SPDX-License-Identifier: MIT
 * test_json.c - unit tests for src/json/json.c: parsing rules, compact dumping (shortest
 * round-trip reals, insertion order, UTF-8 kept), JSON pointers and subset matching.
 */
#include "bt_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *parse_s(const char *s, const char **why)
{
    return bt_json_parse(s, strlen(s), why);
}

static void test_parse_ok(void **state)
{
    const char *why = "unset";
    json_t *j = parse_s("{\"a\":1,\"b\":[true,null,\"x\"]}", &why);

    (void)state;
    assert_non_null(j);
    assert_null(why);
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
    json_decref(j);

    /* top-level scalars and arrays parse; the schema decides whether they are acceptable */
    j = parse_s(" [1,2] ", NULL);
    assert_true(json_is_array(j));
    json_decref(j);
    j = parse_s("\"hi\"", NULL);
    assert_true(json_is_string(j));
    json_decref(j);
}

static void test_parse_rejects(void **state)
{
    const char *why = NULL;

    (void)state;
    assert_null(parse_s("{\"a\":", &why));
    assert_string_equal(why, "invalid json");
    assert_null(parse_s("{\"a\":1} trailing", &why));
    assert_string_equal(why, "invalid json");
    assert_null(parse_s("", &why));
    assert_string_equal(why, "empty body");
    assert_null(bt_json_parse(NULL, 0, &why));
    assert_null(parse_s("{'a':1}", &why));
    assert_null(parse_s("{\"a\":NaN}", &why));
    assert_null(parse_s("[1,]", &why));
    /* why may be NULL */
    assert_null(parse_s("nope", NULL));
}

static void test_parse_nul_bytes(void **state)
{
    const char body[] = "{\"a\":\"x\0y\"}";
    const char *why = NULL;

    (void)state;
    assert_null(bt_json_parse(body, sizeof body - 1, &why));
    assert_non_null(why);
    /* an escaped NUL is refused too: C strings downstream would be cut at it */
    assert_null(parse_s("{\"a\":\"x\\u0000y\"}", &why));
    assert_non_null(why);
    assert_null(parse_s("{\"a\\u0000\":1}", &why));
}

static void test_parse_invalid_utf8(void **state)
{
    const char *why = NULL;

    (void)state;
    assert_null(parse_s("{\"a\":\"\xff\"}", &why));
    assert_string_equal(why, "invalid utf-8");
    assert_null(parse_s("{\"a\":\"\xc0\xaf\"}", &why));         /* overlong '/' */
    assert_null(parse_s("{\"a\":\"\xed\xa0\x80\"}", &why));     /* surrogate */
    assert_null(parse_s("{\"a\":\"\xf4\x90\x80\x80\"}", &why)); /* > U+10FFFF */
    assert_null(parse_s("{\"a\":\"\xe5\x8f\"}", &why));         /* truncated */
    /* valid multi-byte text is fine */
    json_t *j = parse_s("{\"name\":\"台北 🍱\"}", &why);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "台北 🍱");
    json_decref(j);
}

static char *nested(int depth, char open, char close)
{
    char *s = malloc((size_t)depth * 2 + 1);
    for (int i = 0; i < depth; i++) {
        s[i] = open;
        s[depth * 2 - 1 - i] = close;
    }
    s[depth * 2] = '\0';
    return s;
}

static void test_parse_depth(void **state)
{
    const char *why = NULL;
    char *s;
    json_t *j;

    (void)state;
    s = nested(64, '[', ']');
    j = parse_s(s, &why);
    assert_non_null(j);
    json_decref(j);
    free(s);

    s = nested(65, '[', ']');
    assert_null(parse_s(s, &why));
    assert_string_equal(why, "json nested too deeply");
    free(s);

    s = nested(100000, '[', ']');
    assert_null(parse_s(s, &why));
    free(s);

    /* brackets inside strings (including after escaped quotes) are not nesting */
    {
        char buf[512];
        snprintf(buf, sizeof buf, "{\"a\":\"\\\"%s\"}",
                 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
        j = parse_s(buf, &why);
        assert_non_null(j);
        json_decref(j);
    }
}

static void test_parse_duplicates_last_wins(void **state)
{
    json_t *j = parse_s("{\"a\":1,\"a\":2}", NULL);

    (void)state;
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 2);
    json_decref(j);
}

static void test_parse_numbers(void **state)
{
    const char *why = NULL;
    json_t *j;

    (void)state;
    j = parse_s("[9007199254740993, -9223372036854775808, 9223372036854775807, 1.5, 1e2]", &why);
    assert_non_null(j);
    assert_true(json_integer_value(json_array_get(j, 0)) == 9007199254740993LL);
    assert_true(json_integer_value(json_array_get(j, 1)) == INT64_MIN);
    assert_true(json_integer_value(json_array_get(j, 2)) == INT64_MAX);
    assert_true(json_is_real(json_array_get(j, 3)));
    assert_true(json_is_real(json_array_get(j, 4)));
    json_decref(j);

    assert_null(parse_s("[9223372036854775808]", &why));
    assert_string_equal(why, "number out of range");
    assert_null(parse_s("[1e999]", &why));
    assert_string_equal(why, "number out of range");
}

/* ---- dump ---- */

static const char *dump(struct bt_arena *a, const char *text)
{
    json_t *j = parse_s(text, NULL);
    const char *out;

    assert_non_null(j);
    out = bt_json_dump(a, j, NULL);
    json_decref(j);
    return out;
}

static void test_dump_compact_ordered(void **state)
{
    struct bt_arena *a = bt_arena_new();
    size_t len = 0;
    json_t *j = json_object();
    const char *s;

    (void)state;
    assert_string_equal(dump(a, "{ \"z\" : 1 , \"a\" : [ 1 , 2 ] , \"m\" : { } }"),
                        "{\"z\":1,\"a\":[1,2],\"m\":{}}");
    json_object_set_new(j, "zeta", json_integer(1));
    json_object_set_new(j, "alpha", json_integer(2));
    json_object_set_new(j, "mid", json_null());
    s = bt_json_dump(a, j, &len);
    assert_string_equal(s, "{\"zeta\":1,\"alpha\":2,\"mid\":null}");
    assert_int_equal(len, strlen(s));
    json_decref(j);
    assert_string_equal(bt_json_dump(a, NULL, NULL), "null");
    assert_string_equal(dump(a, "[true,false,null,[],{}]"), "[true,false,null,[],{}]");
    bt_arena_free(a);
}

static void test_dump_strings(void **state)
{
    struct bt_arena *a = bt_arena_new();
    json_t *j;

    (void)state;
    /* UTF-8 is kept as is, "/" is not escaped */
    assert_string_equal(dump(a, "[\"台北/高雄 🍱\"]"), "[\"台北/高雄 🍱\"]");
    assert_string_equal(dump(a, "[\"\\u00e9\"]"), "[\"é\"]");
    assert_string_equal(dump(a, "[\"q\\\"b\\\\n\\n\\t\\r\\b\\f\\u0001\\u001f\"]"),
                        "[\"q\\\"b\\\\n\\n\\t\\r\\b\\f\\u0001\\u001f\"]");
    /* embedded NUL in a string built in C is escaped, not cut */
    j = json_stringn("a\0b", 3);
    assert_string_equal(bt_json_dump(a, j, NULL), "\"a\\u0000b\"");
    json_decref(j);
    bt_arena_free(a);
}

static void test_dump_reals(void **state)
{
    struct bt_arena *a = bt_arena_new();
    json_t *j;

    (void)state;
    assert_string_equal(dump(a, "[0.95, 1.5, 0.1, 100.25, -2.5e-7]"),
                        "[0.95,1.5,0.1,100.25,-2.5e-07]");
    j = json_pack("[f,f,f,f,f]", 0.1 + 0.2, 1.0, 1e300, -0.0, 123456789012.0);
    assert_string_equal(bt_json_dump(a, j, NULL),
                        "[0.30000000000000004,1.0,1e+300,-0.0,123456789012.0]");
    json_decref(j);

    /* every dumped real reads back as the same double, and as a real */
    srand(42);
    for (int i = 0; i < 20000; i++) {
        double v = (double)rand() / RAND_MAX * (rand() % 2 ? 1e6 : 1e-3);
        if (i % 3 == 0)
            v = (double)(rand() % 100000) / 100.0;
        j = json_real(v);
        const char *s = bt_json_dump(a, j, NULL);
        json_t *back = parse_s(s, NULL);
        assert_non_null(back);
        assert_true(json_is_real(back));
        assert_true(json_real_value(back) == v);
        assert_true(strlen(s) <= 24);
        json_decref(back);
        json_decref(j);
        if (i % 1000 == 0)
            bt_arena_reset(a);
    }
    bt_arena_free(a);
}

static void test_dump_integers(void **state)
{
    struct bt_arena *a = bt_arena_new();

    (void)state;
    assert_string_equal(dump(a, "[0,-1,9223372036854775807,-9223372036854775808]"),
                        "[0,-1,9223372036854775807,-9223372036854775808]");
    bt_arena_free(a);
}

/* ---- pointers ---- */

static void test_pointer(void **state)
{
    json_t *j =
        parse_s("{\"data\":{\"id\":7,\"name\":\"x\",\"items\":[{\"k\":\"a\"},{\"k\":\"b\"}]},"
                "\"a/b\":1,\"m~n\":2,\"\":3,\"10\":4}",
                NULL);

    (void)state;
    assert_non_null(j);
    assert_ptr_equal(bt_json_at(j, ""), j);
    assert_int_equal(bt_json_int(j, "/data/id", -1), 7);
    assert_string_equal(bt_json_str(j, "/data/name"), "x");
    assert_string_equal(bt_json_str(j, "/data/items/1/k"), "b");
    assert_string_equal(bt_json_str(j, "/data/items/0/k"), "a");
    assert_null(bt_json_at(j, "/data/items/2"));
    assert_null(bt_json_at(j, "/data/items/01"));
    assert_null(bt_json_at(j, "/data/items/-"));
    assert_null(bt_json_at(j, "/data/items/x"));
    assert_null(bt_json_at(j, "/data/items/99999999999999999999999"));
    assert_int_equal(bt_json_int(j, "/a~1b", -1), 1);
    assert_int_equal(bt_json_int(j, "/m~0n", -1), 2);
    assert_null(bt_json_at(j, "/m~2n"));
    assert_null(bt_json_at(j, "/m~"));
    assert_int_equal(bt_json_int(j, "/", -1), 3);
    assert_int_equal(bt_json_int(j, "/10", -1), 4);
    assert_null(bt_json_at(j, "data/id")); /* must start with '/' */
    assert_null(bt_json_at(j, "/nope"));
    assert_null(bt_json_at(j, "/data/id/deeper"));
    assert_null(bt_json_at(NULL, "/data"));
    assert_null(bt_json_at(j, NULL));
    /* wrong types give the default */
    assert_null(bt_json_str(j, "/data/id"));
    assert_int_equal(bt_json_int(j, "/data/name", 42), 42);
    assert_int_equal(bt_json_int(j, "/missing", 42), 42);
    json_decref(j);
}

static void test_pointer_long_key(void **state)
{
    char key[400], ptr[410];
    json_t *j = json_object();

    (void)state;
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    json_object_set_new(j, key, json_integer(5));
    snprintf(ptr, sizeof ptr, "/%s", key);
    assert_int_equal(bt_json_int(j, ptr, 0), 5);
    json_decref(j);
}

/* ---- subset ---- */

static void test_subset(void **state)
{
    json_t *j =
        parse_s("{\"success\":true,\"data\":{\"id\":1,\"name\":\"x\",\"tags\":[\"a\",\"b\"],"
                "\"price\":1.0,\"none\":null},\"list\":[{\"id\":1,\"x\":0},{\"id\":2}]}",
                NULL);

    (void)state;
    assert_true(bt_json_subset(j, "{}"));
    assert_true(bt_json_subset(j, "{\"success\":true}"));
    assert_true(bt_json_subset(j, "{\"data\":{\"name\":\"x\"}}"));
    assert_true(bt_json_subset(j, "{\"data\":{\"tags\":[\"a\"]}}"));
    assert_true(bt_json_subset(j, "{\"data\":{\"tags\":[\"a\",\"b\"]}}"));
    assert_true(bt_json_subset(j, "{\"data\":{\"none\":null}}"));
    assert_true(bt_json_subset(j, "{\"list\":[{\"id\":1},{\"id\":2}]}"));
    assert_true(bt_json_subset(j, "{\"data\":{\"price\":1.0}}"));

    assert_false(bt_json_subset(j, "{\"success\":false}"));
    assert_false(bt_json_subset(j, "{\"missing\":null}"));
    assert_false(bt_json_subset(j, "{\"data\":{\"tags\":[\"b\"]}}"));
    assert_false(bt_json_subset(j, "{\"data\":{\"tags\":[\"a\",\"b\",\"c\"]}}"));
    assert_false(bt_json_subset(j, "{\"data\":{\"id\":1.0}}"));  /* integer vs real */
    assert_false(bt_json_subset(j, "{\"data\":{\"price\":1}}")); /* real vs integer */
    assert_false(bt_json_subset(j, "{\"data\":{\"id\":\"1\"}}"));
    assert_false(bt_json_subset(j, "{\"data\":[]}"));
    assert_false(bt_json_subset(j, "{\"list\":{}}"));
    assert_false(bt_json_subset(j, "{not json"));
    assert_false(bt_json_subset(j, NULL));
    assert_false(bt_json_subset(NULL, "{}"));
    assert_true(bt_json_subset_j(j, j));
    json_decref(j);

    /* scalars at the top */
    j = json_integer(3);
    assert_true(bt_json_subset(j, "3"));
    assert_false(bt_json_subset(j, "4"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),         cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_nul_bytes),  cmocka_unit_test(test_parse_invalid_utf8),
        cmocka_unit_test(test_parse_depth),      cmocka_unit_test(test_parse_duplicates_last_wins),
        cmocka_unit_test(test_parse_numbers),    cmocka_unit_test(test_dump_compact_ordered),
        cmocka_unit_test(test_dump_strings),     cmocka_unit_test(test_dump_reals),
        cmocka_unit_test(test_dump_integers),    cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_pointer_long_key), cmocka_unit_test(test_subset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
