/* SPDX-License-Identifier: MIT
 * test_limits_http.c - spec 002 §請求限制 in-process: the per-client rate limit with its
 * headers and envelope, probes not counted, the limit applying before authentication.
 */
#include <stdlib.h>
#include <string.h>

#include "yunshui_test.h"

static int setup(void **state)
{
    static const char *const limit[] = {"rate_limit=5/60", NULL};
    *state = ys_app_with(limit);
    return 0;
}

static int teardown(void **state)
{
    bt_test_app_free(*state);
    return 0;
}

static void test_headers_then_429(void **state)
{
    struct bt_test_app *t = *state;
    struct bt_test_resp r = {0};
    char want[8];
    const char *retry;

    for (int i = 0; i < 5; i++) {
        /* unauthenticated requests count too: the limit runs before authentication */
        bt_test_request(t, "GET", "/v1/materials", NULL, NULL, &r);
        assert_int_equal(r.status, 401);
        assert_string_equal(bt_test_resp_header(&r, "x-ratelimit-limit"), "5");
        snprintf(want, sizeof(want), "%d", 4 - i);
        assert_string_equal(bt_test_resp_header(&r, "x-ratelimit-remaining"), want);
        assert_non_null(bt_test_resp_header(&r, "x-ratelimit-reset"));
        assert_null(bt_test_resp_header(&r, "retry-after"));
    }
    bt_test_request(t, "GET", "/v1/materials", NULL, NULL, &r);
    assert_int_equal(r.status, 429);
    bt_assert_subset(r.json, "{\"success\":false,\"error\":{\"code\":\"RATE_LIMIT_EXCEEDED\","
                             "\"message\":\"請求過於頻繁，請稍後再試\",\"details\":{}}}");
    retry = bt_test_resp_header(&r, "retry-after");
    assert_non_null(retry);
    /* 5 per 60 s: one request frees up every 12 s */
    assert_true(atoi(retry) >= 1 && atoi(retry) <= 12);
    assert_string_equal(bt_test_resp_header(&r, "x-ratelimit-remaining"), "0");
    /* login is limited too (no way around the limit by hammering the public routes) */
    bt_test_request(t, "POST", "/v1/auth/login", NULL,
                    "{\"username\":\"admin\",\"password\":\"password123\"}", &r);
    assert_int_equal(r.status, 429);
    bt_test_resp_release(&r);
}

static void test_probes_not_counted(void **state)
{
    struct bt_test_app *t = *state;
    struct bt_test_resp r = {0};

    for (int i = 0; i < 20; i++) {
        bt_test_request(t, "GET", "/v1/health", NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        assert_null(bt_test_resp_header(&r, "x-ratelimit-limit"));
    }
    bt_test_request(t, "GET", "/v1/metrics", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    /* the budget is untouched */
    bt_test_request(t, "GET", "/v1/materials", NULL, NULL, &r);
    assert_string_equal(bt_test_resp_header(&r, "x-ratelimit-remaining"), "4");
    bt_test_resp_release(&r);
}

static void test_unknown_path_and_method_envelopes(void **state)
{
    struct bt_test_app *t = *state;
    struct bt_test_resp r = {0};

    bt_test_request(t, "GET", "/v1/nope", NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    bt_assert_subset(r.json, "{\"success\":false,\"error\":{\"code\":\"RESOURCE_NOT_FOUND\"}}");
    bt_test_request(t, "GET", "/materials", NULL, NULL, &r); /* outside the /v1 mount */
    assert_int_equal(r.status, 404);
    bt_test_request(t, "PATCH", "/v1/materials", NULL, NULL, &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(bt_test_resp_header(&r, "allow"), "GET, POST");
    bt_assert_subset(r.json, "{\"success\":false,\"error\":{\"code\":\"METHOD_NOT_ALLOWED\"}}");
    bt_test_resp_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_headers_then_429, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probes_not_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_path_and_method_envelopes, setup, teardown),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
