/* SPDX-License-Identifier: MIT
 * test_limits_bb.c - spec 002 §請求限制 against the real binary with the default limits: the
 * 101st request within a minute from one client is refused with 429 and Retry-After.
 */
#include <string.h>

#include "bt_test.h"

static void test_default_100_per_minute(void **state)
{
    struct bt_test_proc *p = bt_test_proc_start("yunshui", NULL, NULL);
    struct bt_test_resp r = {0};
    int ok = 0;
    (void)state;

    /* the bucket refills one request per 0.6 s: a fast loop sees 100, maybe one more */
    for (int i = 0; i < 100; i++) {
        bt_test_http(p, "yunshui", "GET", "/v1/materials", NULL, NULL, 0, &r);
        if (r.status == 401)
            ok++;
    }
    assert_int_equal(ok, 100);
    for (int i = 0; i < 3 && r.status != 429; i++)
        bt_test_http(p, "yunshui", "GET", "/v1/materials", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 429);
    assert_non_null(bt_test_resp_header(&r, "retry-after"));
    assert_string_equal(bt_test_resp_header(&r, "x-ratelimit-limit"), "100");
    bt_assert_subset(r.json, "{\"success\":false,\"error\":{\"code\":\"RATE_LIMIT_EXCEEDED\"}}");
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_100_per_minute),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
