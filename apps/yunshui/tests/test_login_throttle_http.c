/* SPDX-License-Identifier: MIT
 * test_login_throttle_http.c - issue 7 "Login brute force" in-process: POST /v1/auth/login
 * and PUT /v1/auth/password under the core's login throttling (include/bento/loginguard.h,
 * docs/apps/yunshui.md "Login throttling"): 429 RATE_LIMIT_EXCEEDED with Retry-After after
 * five wrong passwords, the right password refused while locked, the owner at another address
 * unaffected (the real address from BENTO_TRUSTED_PROXIES), unknown users and user-name case
 * counting alike, success clearing the failures, the per-address limit, the password change
 * sharing the login's lock, the settings, and 429 in the OpenAPI document.
 */
#include "yunshui_test.h"

#define RIGHT "password123"
#define LOCKED_MSG "登入失敗次數過多，請稍後再試"

static int teardown(void **state)
{
    bt_test_app_free(*state);
    unsetenv("BENTO_TRUSTED_PROXIES");
    return 0;
}

/* the app behind a trusted proxy (this process's requests come from 127.0.0.1), so each test
 * picks a client address with X-Forwarded-For */
static struct bt_test_app *behind_proxy(const char *const *extra)
{
    setenv("BENTO_TRUSTED_PROXIES", "127.0.0.1", 1);
    return ys_app_with(extra);
}

static int setup(void **state)
{
    *state = behind_proxy(NULL);
    return 0;
}

/* POST /v1/auth/login as client address addr (NULL: the peer itself) */
static void login_as(struct bt_test_app *t, const char *addr, const char *user, const char *pass,
                     struct bt_test_resp *r)
{
    char xff[96], body[256];
    const char *const h[] = {xff, NULL};

    snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", addr ? addr : "127.0.0.1");
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", user, pass);
    bt_test_request(t, "POST", "/v1/auth/login", h, body, r);
}

static void assert_locked(const struct bt_test_resp *r)
{
    assert_int_equal(r->status, 429);
    bt_assert_subset(r->json, "{\"success\":false,\"error\":{\"code\":\"RATE_LIMIT_EXCEEDED\","
                              "\"message\":\"" LOCKED_MSG "\",\"details\":{}}}");
    assert_null(bt_json_str(r->json, "/data/token"));
    assert_non_null(bt_test_resp_header(r, "retry-after"));
}

/* the reproduction: 30 wrong passwords, then the right one gets no token */
static void test_thirty_wrong_then_right(void **state)
{
    struct bt_test_app *t = *state;
    struct bt_test_resp r = {0};
    int retry;

    for (int i = 0; i < 30; i++) {
        login_as(t, "198.51.100.7", "admin", "wrong-password", &r);
        if (i < 5) {
            assert_int_equal(r.status, 401);
            bt_assert_subset(r.json, "{\"error\":{\"code\":\"INVALID_CREDENTIALS\"}}");
        } else {
            assert_locked(&r);
        }
    }
    login_as(t, "198.51.100.7", "admin", RIGHT, &r);
    assert_locked(&r);
    /* locked for the default 300 s from the fifth failure, a moment ago */
    retry = atoi(bt_test_resp_header(&r, "retry-after"));
    assert_true(retry > 290 && retry <= 300);
    bt_test_resp_release(&r);
}

/* a stranger's failures never lock the owner out: the lock-out is per account and address */
static void test_owner_elsewhere_unaffected(void **state)
{
    struct bt_test_app *t = *state;
    struct bt_test_resp r = {0};

    for (int i = 0; i < 6; i++)
        login_as(t, "198.51.100.7", "admin", "wrong-password", &r);
    assert_locked(&r);
    login_as(t, "203.0.113.20", "admin", RIGHT, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(bt_json_str(r.json, "/data/token"));
    /* and the owner's success does not unlock the stranger */
    login_as(t, "198.51.100.7", "admin", RIGHT, &r);
    assert_locked(&r);
    bt_test_resp_release(&r);
}

/* the address that counts is the one the trusted proxy reports, not the proxy's */
static void test_other_client_behind_proxy(void **state)
{
    struct bt_test_app *t = *state;
    struct bt_test_resp r = {0};

    for (int i = 0; i < 6; i++)
        login_as(t, "198.51.100.7", "admin", "wrong-password", &r);
    assert_locked(&r);
    login_as(t, NULL, "admin", RIGHT, &r); /* the proxy's own address is someone else too */
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
}

/* an unknown user is counted like a known one (no way to tell them apart), and names are
 * counted as they are looked up: without regard to ASCII case */
static void test_unknown_user_and_case(void **state)
{
    struct bt_test_app *t = *state;
    struct bt_test_resp r = {0};

    for (int i = 0; i < 5; i++) {
        login_as(t, "198.51.100.8", "nobody", "wrong-password", &r);
        assert_int_equal(r.status, 401);
    }
    login_as(t, "198.51.100.8", "nobody", "wrong-password", &r);
    assert_locked(&r);

    for (int i = 0; i < 5; i++) {
        login_as(t, "198.51.100.9", i % 2 ? "ADMIN" : "Admin", "wrong-password", &r);
        assert_int_equal(r.status, 401);
    }
    login_as(t, "198.51.100.9", "admin", RIGHT, &r);
    assert_locked(&r);
    bt_test_resp_release(&r);
}

/* a successful login gives the failures back: five more before a lock-out */
static void test_success_clears_failures(void **state)
{
    struct bt_test_app *t = *state;
    struct bt_test_resp r = {0};

    for (int i = 0; i < 4; i++)
        login_as(t, "203.0.113.20", "admin", "typo", &r);
    login_as(t, "203.0.113.20", "admin", RIGHT, &r);
    assert_int_equal(r.status, 200);
    for (int i = 0; i < 5; i++) {
        login_as(t, "203.0.113.21", "admin", "typo", &r); /* another address: its own count */
        assert_int_equal(r.status, 401);
    }
    for (int i = 0; i < 5; i++) {
        login_as(t, "203.0.113.20", "admin", "typo", &r);
        assert_int_equal(r.status, 401);
    }
    login_as(t, "203.0.113.20", "admin", "typo", &r);
    assert_locked(&r);
    bt_test_resp_release(&r);
}

/* login attempts per address, whatever accounts they name: the envelope's rate-limit words */
static void test_address_limit(void **state)
{
    const char *const rules[] = {"login_ip_limit=3/60", NULL};
    struct bt_test_app *t = behind_proxy(rules);
    struct bt_test_resp r = {0};
    char user[16];

    *state = t;
    for (int i = 0; i < 3; i++) {
        snprintf(user, sizeof(user), "user%d", i);
        login_as(t, "198.51.100.7", user, "guess", &r);
        assert_int_equal(r.status, 401);
    }
    login_as(t, "198.51.100.7", "admin", RIGHT, &r);
    assert_int_equal(r.status, 429);
    bt_assert_subset(r.json, "{\"success\":false,\"error\":{\"code\":\"RATE_LIMIT_EXCEEDED\","
                             "\"message\":\"請求過於頻繁，請稍後再試\"}}");
    /* one attempt frees every 20 s */
    assert_true(atoi(bt_test_resp_header(&r, "retry-after")) > 0);
    assert_true(atoi(bt_test_resp_header(&r, "retry-after")) <= 20);
    login_as(t, "198.51.100.8", "admin", RIGHT, &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
}

/* both rules off: the reproduction is answered as before (operators who limit at a
 * proxy) */
static void test_rules_off(void **state)
{
    const char *const off[] = {"login_limit=0", "login_ip_limit=0", NULL};
    struct bt_test_app *t = behind_proxy(off);
    struct bt_test_resp r = {0};

    *state = t;
    for (int i = 0; i < 30; i++) {
        login_as(t, "198.51.100.7", "admin", "wrong-password", &r);
        assert_int_equal(r.status, 401);
    }
    login_as(t, "198.51.100.7", "admin", RIGHT, &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
}

/* settings: a lower limit and a shorter lock-out */
static void test_settings(void **state)
{
    const char *const rules[] = {"login_limit=2", "login_lockout=30", NULL};
    struct bt_test_app *t = behind_proxy(rules);
    struct bt_test_resp r = {0};

    *state = t;
    login_as(t, "198.51.100.7", "admin", "wrong-password", &r);
    assert_int_equal(r.status, 401);
    login_as(t, "198.51.100.7", "admin", "wrong-password", &r);
    assert_int_equal(r.status, 401);
    login_as(t, "198.51.100.7", "admin", RIGHT, &r);
    assert_locked(&r);
    assert_true(atoi(bt_test_resp_header(&r, "retry-after")) <= 30);
    bt_test_resp_release(&r);
}

/* PUT /auth/password checks a password too: with a stolen token it is the login's lock-out
 * that stops guessing, and the two share one count */
static void test_password_change_shares_lock(void **state)
{
    struct bt_test_app *t = *state;
    struct bt_test_resp r = {0};
    char *token = ys_admin(t); /* from 127.0.0.1, the same address as the requests below */

    for (int i = 0; i < 5; i++) {
        bt_test_request(t, "PUT", "/v1/auth/password", ys_auth(token),
                        "{\"currentPassword\":\"guess\",\"newPassword\":\"new-password-1\"}", &r);
        assert_int_equal(r.status, 422);
    }
    bt_test_request(t, "PUT", "/v1/auth/password", ys_auth(token),
                    "{\"currentPassword\":\"" RIGHT "\",\"newPassword\":\"new-password-1\"}", &r);
    assert_locked(&r);
    login_as(t, NULL, "admin", RIGHT, &r);
    assert_locked(&r);
    free(token);
    bt_test_resp_release(&r);
}

/* 429 is in the login's contract even with the service's rate limit off (these tests run
 * with rate_limit=0, and every response is checked against the document) */
static void test_contract_declares_429(void **state)
{
    struct bt_test_app *t = *state;
    struct bt_test_resp r = {0};

    bt_test_request(t, "GET", "/v1/openapi.json", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(bt_json_at(r.json, "/paths/~1auth~1login/post/responses/429"));
    assert_non_null(bt_json_at(r.json, "/paths/~1auth~1password/put/responses/429"));
    bt_test_resp_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_thirty_wrong_then_right, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_elsewhere_unaffected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_client_behind_proxy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_user_and_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_success_clears_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_limit, NULL, teardown),
        cmocka_unit_test_setup_teardown(test_rules_off, NULL, teardown),
        cmocka_unit_test_setup_teardown(test_settings, NULL, teardown),
        cmocka_unit_test_setup_teardown(test_password_change_shares_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_declares_429, setup, teardown),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
