/* SPDX-License-Identifier: MIT
 * test_params_unit.c - vendor parameter formatting and {{key}} injection (note rule 5), no
 * database: parameters are built in memory.
 */
#include <string.h>

#include "bt_test.h"
#include "vendorchat.h"

static int setup(void **state)
{
    *state = bt_arena_new();
    return 0;
}

static int teardown(void **state)
{
    bt_arena_free(*state);
    return 0;
}

static struct vendorchat_param param(const char *key, const char *value, const char *type,
                                     const char *unit)
{
    return (struct vendorchat_param){
        .category = "payment", .key = key, .value = value, .data_type = type, .unit = unit};
}

static const char *fmt(struct bt_arena *a, const char *value, const char *type, const char *unit)
{
    struct vendorchat_param p = param("k", value, type, unit);

    return vendorchat_param_format(a, &p);
}

/* rule 5: number -> value without a trailing .0, then a space and the unit if any */
static void test_format_number(void **state)
{
    struct bt_arena *a = *state;

    assert_string_equal(fmt(a, "1", "number", "號"), "1 號");
    assert_string_equal(fmt(a, "200", "number", "元"), "200 元");
    assert_string_equal(fmt(a, "200.0", "number", "元"), "200 元");
    assert_string_equal(fmt(a, "200.00", "number", "元"), "200 元");
    assert_string_equal(fmt(a, "-3.0", "number", NULL), "-3");
    assert_string_equal(fmt(a, "1.5", "number", "月"), "1.5 月");
    assert_string_equal(fmt(a, "1.50", "number", NULL), "1.50");
    assert_string_equal(fmt(a, "12", "number", NULL), "12");
    assert_string_equal(fmt(a, "12", "number", ""), "12");
    assert_string_equal(fmt(a, "abc.0", "number", "元"), "abc.0 元");
    assert_string_equal(fmt(a, "5.", "number", NULL), "5.");
}

/* rule 5: boolean -> 是/否, true/1/yes/是 -> 是 */
static void test_format_boolean(void **state)
{
    struct bt_arena *a = *state;

    assert_string_equal(fmt(a, "true", "boolean", NULL), "是");
    assert_string_equal(fmt(a, "True", "boolean", NULL), "是");
    assert_string_equal(fmt(a, "1", "boolean", NULL), "是");
    assert_string_equal(fmt(a, "YES", "boolean", NULL), "是");
    assert_string_equal(fmt(a, "是", "boolean", NULL), "是");
    assert_string_equal(fmt(a, "false", "boolean", NULL), "否");
    assert_string_equal(fmt(a, "0", "boolean", NULL), "否");
    assert_string_equal(fmt(a, "否", "boolean", NULL), "否");
    assert_string_equal(fmt(a, "", "boolean", NULL), "否");
    assert_string_equal(fmt(a, "maybe", "boolean", "x"), "否");
}

/* rule 5: json -> an array joined with 、, an object as JSON, anything else verbatim */
static void test_format_json(void **state)
{
    struct bt_arena *a = *state;

    assert_string_equal(fmt(a, "[\"銀行轉帳\",\"超商繳費\"]", "json", NULL), "銀行轉帳、超商繳費");
    assert_string_equal(fmt(a, "[1, 2.5, true, null]", "json", NULL), "1、2.5、true、null");
    assert_string_equal(fmt(a, "[\"a\", [1,2], {\"b\": 1}]", "json", NULL), "a、[1,2]、{\"b\":1}");
    assert_string_equal(fmt(a, "[]", "json", NULL), "");
    assert_string_equal(fmt(a, "{\"morning\": \"09:00\", \"n\": 2}", "json", NULL),
                        "{\"morning\":\"09:00\",\"n\":2}");
    assert_string_equal(fmt(a, "\"plain\"", "json", NULL), "\"plain\"");
    assert_string_equal(fmt(a, "42", "json", NULL), "42");
    assert_string_equal(fmt(a, "not json [", "json", NULL), "not json [");
}

static void test_format_verbatim(void **state)
{
    struct bt_arena *a = *state;

    assert_string_equal(fmt(a, "02-2345-6789", "string", NULL), "02-2345-6789");
    assert_string_equal(fmt(a, "200.0", "string", "元"), "200.0");
    assert_string_equal(fmt(a, "2024-01-31", "date", "日"), "2024-01-31");
    assert_string_equal(fmt(a, "x", NULL, NULL), "x");
    assert_string_equal(fmt(a, "x", "unknown", "u"), "x");
}

/* the document's /test template for vendor 1 */
static void test_inject_document_example(void **state)
{
    struct bt_arena *a = *state;
    struct vendorchat_param ps[] = {
        param("late_fee", "200", "number", "元"),
        param("payment_day", "1", "number", "號"),
    };
    bool injected = false;
    char *out =
        vendorchat_inject(a, "繳費日為 {{payment_day}}，逾期費 {{late_fee}}。", ps, 2, &injected);

    assert_string_equal(out, "繳費日為 1 號，逾期費 200 元。");
    assert_true(injected);
}

static void test_inject_unknown_keys_stay(void **state)
{
    struct bt_arena *a = *state;
    struct vendorchat_param ps[] = {param("payment_day", "5", "number", "號")};
    bool injected = true;

    assert_string_equal(vendorchat_inject(a, "請洽 {{service_hotline}}。", ps, 1, &injected),
                        "請洽 {{service_hotline}}。");
    assert_false(injected);
    assert_string_equal(
        vendorchat_inject(a, "{{service_hotline}} / {{payment_day}}", ps, 1, &injected),
        "{{service_hotline}} / 5 號");
    assert_true(injected);
    /* no parameters at all */
    assert_string_equal(vendorchat_inject(a, "{{payment_day}}", NULL, 0, &injected),
                        "{{payment_day}}");
    assert_false(injected);
}

/* \{\{(\w+)\}\} with \w = [A-Za-z0-9_]: what is not a placeholder is left alone */
static void test_inject_scanner_edges(void **state)
{
    struct bt_arena *a = *state;
    struct vendorchat_param ps[] = {param("a", "X", "string", NULL),
                                    param("A_1", "Y", "string", NULL)};
    bool injected;

    assert_string_equal(vendorchat_inject(a, "", ps, 2, &injected), "");
    assert_false(injected);
    assert_string_equal(vendorchat_inject(a, "no placeholders", ps, 2, NULL), "no placeholders");
    assert_string_equal(vendorchat_inject(a, "{{a}}{{a}}", ps, 2, NULL), "XX");
    assert_string_equal(vendorchat_inject(a, "{{{a}}}", ps, 2, NULL), "{X}");
    assert_string_equal(vendorchat_inject(a, "{{A_1}}", ps, 2, NULL), "Y");
    assert_string_equal(vendorchat_inject(a, "{{ a }}", ps, 2, NULL), "{{ a }}");
    assert_string_equal(vendorchat_inject(a, "{{}}", ps, 2, NULL), "{{}}");
    assert_string_equal(vendorchat_inject(a, "{{a-b}}", ps, 2, NULL), "{{a-b}}");
    assert_string_equal(vendorchat_inject(a, "{{a}", ps, 2, NULL), "{{a}");
    assert_string_equal(vendorchat_inject(a, "{{a", ps, 2, NULL), "{{a");
    assert_string_equal(vendorchat_inject(a, "{{", ps, 2, NULL), "{{");
    assert_string_equal(vendorchat_inject(a, "{", ps, 2, NULL), "{");
    assert_string_equal(vendorchat_inject(a, "{{繳費}}", ps, 2, NULL), "{{繳費}}");
    assert_string_equal(vendorchat_inject(a, "{{{{a}}}}", ps, 2, NULL), "{{X}}");
    assert_string_equal(vendorchat_inject(a, "x{{a}}y{{zz}}z", ps, 2, NULL), "xXy{{zz}}z");
    assert_string_equal(vendorchat_inject(a, NULL, ps, 2, NULL), "");
}

/* a value is inserted once and never scanned again */
static void test_inject_no_recursion(void **state)
{
    struct bt_arena *a = *state;
    struct vendorchat_param ps[] = {param("a", "{{b}}", "string", NULL),
                                    param("b", "B", "string", NULL)};

    assert_string_equal(vendorchat_inject(a, "{{a}} {{b}}", ps, 2, NULL), "{{b}} B");
}

static void test_inject_formats_types(void **state)
{
    struct bt_arena *a = *state;
    struct vendorchat_param ps[] = {
        param("pets", "false", "boolean", NULL),
        param("methods", "[\"銀行轉帳\",\"信用卡\"]", "json", NULL),
        param("fee", "300.0", "number", "元"),
    };

    assert_string_equal(
        vendorchat_inject(a, "寵物：{{pets}}；方式：{{methods}}；{{fee}}", ps, 3, NULL),
        "寵物：否；方式：銀行轉帳、信用卡；300 元");
}

static void test_param_find(void **state)
{
    struct vendorchat_param ps[] = {
        param("payment_day", "1", "number", "號"),
        param("late_fee", "200", "number", "元"),
        param("payment_day", "9", "number", "號"),
    };

    (void)state;
    assert_null(vendorchat_param_find(ps, 3, "nope"));
    assert_null(vendorchat_param_find(NULL, 0, "payment_day"));
    assert_ptr_equal(vendorchat_param_find(ps, 3, "late_fee"), &ps[1]);
    /* the last of duplicate keys wins, as in /test's parameters object */
    assert_ptr_equal(vendorchat_param_find(ps, 3, "payment_day"), &ps[2]);
    assert_ptr_equal(vendorchat_param_find(ps, 2, "payment_day"), &ps[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_format_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_boolean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inject_document_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inject_unknown_keys_stay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inject_scanner_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inject_no_recursion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inject_formats_types, setup, teardown),
        cmocka_unit_test(test_param_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
