/* SPDX-License-Identifier: MIT
 * test_login_throttle_bb.c - issue 7 "Login brute force" against the real binary with the
 * default rules: 30 wrong passwords then the right one is 429 RATE_LIMIT_EXCEEDED with
 * Retry-After and no token; behind a trusted proxy the owner at another address still logs
 * in; without one, an attacker rotating X-Forwarded-For stays locked; the lock-out is logged
 * with the client address and without the account; a bad setting stops the start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

#define LOGIN "/v1/auth/login"
#define WRONG "{\"username\":\"admin\",\"password\":\"wrong-password\"}"
#define RIGHT "{\"username\":\"admin\",\"password\":\"password123\"}"

static void login(struct bt_test_proc *p, const char *xff, const char *body, struct bt_test_resp *r)
{
    char h[96];
    const char *const headers[] = {h, "Content-Type: application/json", NULL};

    snprintf(h, sizeof(h), "X-Forwarded-For: %s", xff);
    bt_test_http(p, "yunshui", "POST", LOGIN, headers, body, strlen(body), r);
}

static void assert_refused(const struct bt_test_resp *r)
{
    const char *retry = bt_test_resp_header(r, "retry-after");

    assert_int_equal(r->status, 429);
    bt_assert_subset(r->json, "{\"success\":false,\"error\":{\"code\":\"RATE_LIMIT_EXCEEDED\"}}");
    assert_null(bt_json_str(r->json, "/data/token"));
    assert_non_null(retry);
    assert_true(atoi(retry) > 0 && atoi(retry) <= 300);
}

/* The lock-out's log line (the first), or fail. */
static char *lockout_line(struct bt_test_proc *p)
{
    char *log = bt_test_proc_log(p), *line, *end;

    line = strstr(log, "login locked out after repeated failures");
    if (!line)
        fail_msg("no lock-out in the log:\n%s", log);
    while (line > log && line[-1] != '\n')
        line--;
    end = strchr(line, '\n');
    if (end)
        *end = '\0';
    line = strdup(line);
    free(log);
    return line;
}

static void test_behind_proxy(void **state)
{
    const char *const env[] = {"BENTO_TRUSTED_PROXIES=127.0.0.1", NULL};
    struct bt_test_proc *p = bt_test_proc_start("yunshui", NULL, env);
    struct bt_test_resp r = {0};
    char *line;
    (void)state;

    for (int i = 0; i < 30; i++) {
        login(p, "198.51.100.7", WRONG, &r);
        if (i < 5)
            assert_int_equal(r.status, 401);
        else
            assert_refused(&r);
    }
    login(p, "198.51.100.7", RIGHT, &r);
    assert_refused(&r);
    /* the owner, elsewhere, is not locked out by a stranger */
    login(p, "203.0.113.20", RIGHT, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(bt_json_str(r.json, "/data/token"));

    line = lockout_line(p);
    assert_non_null(strstr(line, "\"client\":\"198.51.100.7\""));
    assert_non_null(strstr(line, "\"seconds\":\"300\""));
    assert_null(strstr(line, "admin")); /* users type passwords into the name field */
    free(line);
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

/* X-Forwarded-For from a peer nobody trusts changes nothing: one address, one lock-out */
static void test_forged_forwarded_for(void **state)
{
    struct bt_test_proc *p = bt_test_proc_start("yunshui", NULL, NULL);
    struct bt_test_resp r = {0};
    char xff[32];
    (void)state;

    for (int i = 0; i < 30; i++) {
        snprintf(xff, sizeof(xff), "10.0.%d.%d", i / 200, i % 200 + 1);
        login(p, xff, WRONG, &r);
        if (i < 5)
            assert_int_equal(r.status, 401);
        else
            assert_refused(&r);
    }
    login(p, "192.0.2.99", RIGHT, &r);
    assert_refused(&r);
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

static void test_bad_setting_refused(void **state)
{
    const char *const args[] = {"--set", "yunshui.login_ip_limit=ten", NULL};
    char *log = NULL;
    int rc = bt_test_proc_run_fail("yunshui", args, NULL, &log);
    (void)state;

    if (rc == 0 || rc >= 127 || !strstr(log, "yunshui.login_ip_limit must be N or N/SECONDS"))
        fail_msg("want a refusal naming yunshui.login_ip_limit, got exit %d and log:\n%s", rc, log);
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_behind_proxy),
        cmocka_unit_test(test_forged_forwarded_for),
        cmocka_unit_test(test_bad_setting_refused),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
