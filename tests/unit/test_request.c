/* SPDX-License-Identifier: MIT
 * test_request.c - percent-decoding, query parsing, request accessors, time and config. */
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

static void test_url_decode(void **state)
{
    struct bt_arena *a = bt_arena_new();
    (void)state;
    assert_string_equal(bt_url_decode(a, "a%20b+c", 7, true), "a b c");
    assert_string_equal(bt_url_decode(a, "a%20b+c", 7, false), "a b+c");
    assert_string_equal(bt_url_decode(a, "%E7%B9%B3", 9, false), "繳");
    assert_string_equal(bt_url_decode(a, "100%", 4, false), "100%");
    assert_string_equal(bt_url_decode(a, "%zz", 3, false), "%zz");
    assert_null(bt_url_decode(a, "%ff%fe", 6, false)); /* not UTF-8 */
    assert_null(bt_url_decode(a, "a%00b", 5, false));  /* embedded NUL */
    bt_arena_free(a);
}

static void test_query_parse(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_kv *kv;
    size_t n;
    (void)state;
    assert_int_equal(bt_query_parse(a, "a=1&b=&c&a=2&&d=%E4%B8%AD", 16, &kv, &n), 0);
    assert_int_equal(n, 5);
    assert_string_equal(kv[0].name, "a");
    assert_string_equal(kv[0].value, "1");
    assert_string_equal(kv[1].value, "");
    assert_string_equal(kv[2].name, "c");
    assert_string_equal(kv[2].value, "");
    assert_string_equal(kv[3].value, "2");
    assert_string_equal(kv[4].value, "中");
    assert_int_equal(bt_query_parse(a, "", 16, &kv, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(bt_query_parse(a, "a=%ff", 16, &kv, &n), -1);
    assert_int_equal(bt_query_parse(a, "a&b&c&d", 3, &kv, &n), -1);
    bt_arena_free(a);
}

static void test_accessors(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_req rq;
    struct bt_res rs;
    struct bt_kv headers[] = {{"content-type", "application/json"}, {"x-a", "1"}};
    int64_t id;
    (void)state;

    bt_req_init(&rq, &rs, a, NULL);
    rq.headers = headers;
    rq.nheaders = 2;
    assert_string_equal(bt_req_header(&rq, "Content-Type"), "application/json");
    assert_null(bt_req_header(&rq, "x-b"));
    rq.params[0] = (struct bt_kv){"id", "42"};
    rq.params[1] = (struct bt_kv){"bad", "4x"};
    rq.params[2] = (struct bt_kv){"neg", "-1"};
    rq.params[3] = (struct bt_kv){"huge", "99999999999999999999"};
    rq.nparams = 4;
    assert_int_equal(bt_req_param_i64(&rq, "id", &id), 0);
    assert_int_equal(id, 42);
    assert_int_equal(bt_req_param_i64(&rq, "bad", &id), -1);
    assert_int_equal(bt_req_param_i64(&rq, "neg", &id), -1);
    assert_int_equal(bt_req_param_i64(&rq, "huge", &id), -1);
    assert_int_equal(bt_req_param_i64(&rq, "none", &id), -1);
    rq.json = bt_json_own(
        a, json_pack("{s:s,s:I,s:b,s:n,s:f}", "s", "x", "i", (json_int_t)7, "b", 1, "z", "f", 1.5));
    assert_string_equal(bt_req_str(&rq, "s"), "x");
    assert_null(bt_req_str(&rq, "i"));
    assert_int_equal(bt_req_int(&rq, "i", -1), 7);
    assert_int_equal(bt_req_int(&rq, "s", -1), -1);
    assert_true(bt_req_bool(&rq, "b", false));
    assert_true(bt_req_has(&rq, "z"));
    assert_false(bt_req_has(&rq, "q"));
    assert_true(bt_req_num(&rq, "f", 0) == 1.5);
    assert_true(bt_req_num(&rq, "i", 0) == 7.0);
    bt_arena_free(a);
}

static void test_time(void **state)
{
    char buf[32];
    int64_t us;
    (void)state;
    assert_string_equal(bt_time_fmt(0, BT_ISO_Z, buf), "1970-01-01T00:00:00Z");
    assert_string_equal(bt_time_fmt(1704110400123456, BT_ISO_US, buf),
                        "2024-01-01T12:00:00.123456");
    assert_string_equal(bt_time_fmt(1704110400123456, BT_ISO_MS_Z, buf),
                        "2024-01-01T12:00:00.123Z");
    assert_string_equal(bt_time_fmt(1704110400123456, BT_ISO_SEC, buf), "2024-01-01T12:00:00");
    assert_string_equal(bt_time_fmt(1704110400123456, BT_ISO_DATE, buf), "2024-01-01");
    assert_int_equal(bt_time_parse("2024-01-01T12:00:00Z", &us), 0);
    assert_int_equal(us, 1704110400000000);
    assert_int_equal(bt_time_parse("2024-01-01T20:00:00+08:00", &us), 0);
    assert_int_equal(us, 1704110400000000);
    assert_int_equal(bt_time_parse("2024-01-01", &us), 0);
    assert_int_equal(bt_time_parse("2024-02-30", &us), -1);
    assert_int_equal(bt_time_parse("2024-01-01T25:00", &us), -1);
    assert_int_equal(bt_time_parse("nope", &us), -1);
    assert_int_equal(bt_time_parse("2024-01-01T12:00:00.5", &us), 0);
    assert_int_equal(us, 1704110400500000);
}

static void test_config(void **state)
{
    struct bt_config c;
    const char *why = NULL;
    struct bt_listen l;
    (void)state;

    unsetenv("BENTO_DB");
    setenv("BENTO_THREADS", "3", 1);
    setenv("BENTO_VENDORCHAT_LLM_URL", "http://x", 1);
    assert_int_equal(bt_config_defaults(&c, &why), 0);
    assert_int_equal(c.threads, 3);
    assert_string_equal(bt_config_setting(&c, "vendorchat", "llm_url", NULL), "http://x");
    assert_int_equal(bt_config_add_setting(&c, "vendorchat.llm_url=http://y"), 0);
    assert_string_equal(bt_config_setting(&c, "vendorchat", "llm_url", NULL), "http://y");
    assert_int_equal(bt_config_add_setting(&c, "nodot=1"), -1);
    assert_null(bt_config_setting(&c, "vendorchat", "other", NULL));
    assert_int_equal(bt_config_parse_listen(&c, "0.0.0.0:8100", "127.0.0.1", &l), 0);
    assert_string_equal(l.host, "0.0.0.0");
    assert_int_equal(l.port, 8100);
    assert_int_equal(bt_config_parse_listen(&c, "9000", "127.0.0.1", &l), 0);
    assert_string_equal(l.host, "127.0.0.1");
    assert_int_equal(bt_config_parse_listen(&c, "[::1]:0", "127.0.0.1", &l), 0);
    assert_string_equal(l.host, "::1");
    assert_int_equal(bt_config_parse_listen(&c, "host:99999", "127.0.0.1", &l), -1);
    assert_int_equal(bt_config_parse_listen(&c, "host:", "127.0.0.1", &l), -1);
    assert_int_equal(bt_config_set_services(&c, "vendorchat, momo"), 0);
    assert_true(bt_config_enabled(&c, "momo"));
    assert_false(bt_config_enabled(&c, "invite"));
    c.threads = 0;
    assert_int_equal(bt_config_finish(&c, &why), 0);
    assert_string_equal(c.db_url, "sqlite:./data/bento.db");
    assert_true(c.threads >= 1 && c.threads <= 64);
    bt_config_release(&c);
    setenv("BENTO_THREADS", "0", 1);
    assert_int_equal(bt_config_defaults(&c, &why), -1);
    assert_non_null(strstr(why, "BENTO_THREADS"));
    unsetenv("BENTO_THREADS");
    setenv("BENTO_ENV", "staging", 1);
    assert_int_equal(bt_config_defaults(&c, &why), -1);
    setenv("BENTO_ENV", "production", 1);
    assert_int_equal(bt_config_defaults(&c, &why), 0);
    assert_true(c.production);
    unsetenv("BENTO_ENV");
    setenv("BENTO_VENDORCHAT_LISTEN", "0.0.0.0:9", 1);
    assert_int_equal(bt_config_apply_listen_env(&c, "vendorchat", &why), 0);
    l = bt_config_listen(&c, "vendorchat", 8100);
    assert_string_equal(l.host, "0.0.0.0");
    assert_int_equal(l.port, 9);
    setenv("BENTO_VENDORCHAT_LISTEN", "x:y", 1);
    bt_config_release(&c);
    assert_int_equal(bt_config_defaults(&c, &why), 0);
    assert_int_equal(bt_config_apply_listen_env(&c, "vendorchat", &why), -1);
    unsetenv("BENTO_VENDORCHAT_LISTEN");
    bt_config_release(&c);
}

static void test_err(void **state)
{
    struct bt_err err;
    (void)state;
    bt_err_clear(&err);
    assert_int_equal(bt_fail(&err, BT_ENOTFOUND, "id", "no vendor %d", 3), BT_ENOTFOUND);
    assert_string_equal(err.msg, "no vendor 3");
    assert_string_equal(err.field, "id");
    assert_int_equal(bt_err_http(&err), 404);
    err.http = 422;
    assert_int_equal(bt_err_http(&err), 422);
    bt_err_clear(&err);
    for (int i = 0; i < BT_ERR_MAX_FIELDS + 5; i++)
        bt_err_add_field(&err, "f", "bad %d", i);
    assert_int_equal(err.nfields, BT_ERR_MAX_FIELDS);
    assert_int_equal(err.code, BT_EINVAL);
    assert_int_equal(bt_status_http(BT_EHEADERS), 431);
    assert_int_equal(bt_status_http(BT_ETOOLARGE), 413);
    assert_string_equal(bt_http_reason(405), "Method Not Allowed");
    assert_int_equal(bt_fail(NULL, BT_EDB, NULL, "x"), BT_EDB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_decode), cmocka_unit_test(test_query_parse),
        cmocka_unit_test(test_accessors),  cmocka_unit_test(test_time),
        cmocka_unit_test(test_config),     cmocka_unit_test(test_err),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
