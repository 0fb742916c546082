/* SPDX-License-Identifier: MIT
 * test_auth_bb.c - yunshui's start-up rules against the real binary (note yunshui.md
 * "Development default account", docs/SECURITY.md "Production mode and default secrets"):
 * development runs with the documented admin/password123 and a development JWT key (with a
 * warning); BENTO_ENV=production refuses a missing, short or default JWT secret, an empty
 * database without yunshui.admin_password (or with the documented one as it), and any ADMIN
 * whose password is still password123, and starts once all of that is right.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

#define KEY "0123456789abcdef0123456789abcdef" /* 32 bytes */
#define SET_SECRET "yunshui.jwt_secret=" KEY
#define DEV_SECRET "yunshui-development-jwt-secret-do-not-use-in-production"

static const char *const production[] = {"BENTO_ENV=production", NULL};

static void post(struct bt_test_proc *p, const char *path, const char *const *headers,
                 const char *body, struct bt_test_resp *r)
{
    bt_test_http(p, "yunshui", "POST", path, headers, body, strlen(body), r);
}

static void login(struct bt_test_proc *p, const char *user, const char *pass,
                  struct bt_test_resp *r)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", user, pass);
    post(p, "/v1/auth/login", NULL, body, r);
}

/* bento must refuse to start, saying why (the setting's name, never its value) */
static void refuses(const char *const *args, const char *const *env, const char *why)
{
    char *log = NULL;
    int rc = bt_test_proc_run_fail("yunshui", args, env, &log);

    if (rc == 0 || rc >= 127 || !strstr(log, why))
        fail_msg("want a refusal mentioning \"%s\", got exit %d and log:\n%s", why, rc, log);
    assert_null(strstr(log, KEY));
    free(log);
}

/* development: the document's admin/password123 and a development key, with a warning */
static void test_development_defaults(void **state)
{
    struct bt_test_proc *p = bt_test_proc_start("yunshui", NULL, NULL);
    struct bt_test_resp r = {0};
    char *log;
    (void)state;

    login(p, "admin", "password123", &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"success\":true,\"data\":{\"user\":{\"username\":\"admin\","
                             "\"email\":\"admin@yunshui.com\",\"role\":\"ADMIN\"}}}");
    log = bt_test_proc_log(p);
    assert_non_null(strstr(log, "yunshui.jwt_secret is not set"));
    free(log);
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

static void test_production_refuses_bad_secret(void **state)
{
    const char *const none[] = {"--set", "yunshui.admin_password=Strong-Admin-Pass-1", NULL};
    const char *const shorty[] = {"--set", "yunshui.jwt_secret=too-short-a-secret", "--set",
                                  "yunshui.admin_password=Strong-Admin-Pass-1", NULL};
    const char *const dflt[] = {"--set", "yunshui.jwt_secret=" DEV_SECRET, "--set",
                                "yunshui.admin_password=Strong-Admin-Pass-1", NULL};
    const char *const empty_env[] = {"BENTO_ENV=production", "BENTO_YUNSHUI_JWT_SECRET=", NULL};
    (void)state;

    refuses(none, production, "yunshui.jwt_secret");
    refuses(shorty, production, "yunshui.jwt_secret");
    refuses(dflt, production, "yunshui.jwt_secret");
    refuses(none, empty_env, "yunshui.jwt_secret");
}

static void test_production_refuses_default_admin_seed(void **state)
{
    const char *const no_pw[] = {"--set", SET_SECRET, NULL};
    const char *const default_pw[] = {"--set", SET_SECRET, "--set",
                                      "yunshui.admin_password=password123", NULL};
    const char *const short_pw[] = {"--set", SET_SECRET, "--set", "yunshui.admin_password=abc",
                                    NULL};
    (void)state;

    refuses(no_pw, production, "yunshui.admin_password");
    refuses(default_pw, production, "yunshui.admin_password");
    refuses(short_pw, production, "yunshui.admin_password");
}

/* a database whose ADMIN kept password123 cannot go to production until it is changed */
static void test_production_refuses_default_admin_password(void **state)
{
    char *url = bt_test_db_url_new();
    const char *const dev_args[] = {"--db", url, NULL};
    const char *const prod_args[] = {"--db", url, "--set", SET_SECRET, NULL};
    struct bt_test_proc *p;
    struct bt_test_resp r = {0};
    char hdr[2048];
    const char *h[2] = {hdr, NULL};
    const char *change =
        "{\"currentPassword\":\"password123\",\"newPassword\":\"Changed-Pass-42\"}";
    (void)state;

    p = bt_test_proc_start("yunshui", dev_args, NULL); /* seeds admin/password123 */
    assert_int_equal(bt_test_proc_stop(p), 0);
    refuses(prod_args, production, "still has the default password");

    /* change it, and production starts; the new password works there, the old one not */
    p = bt_test_proc_start("yunshui", dev_args, NULL);
    login(p, "admin", "password123", &r);
    assert_int_equal(r.status, 200);
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", bt_json_str(r.json, "/data/token"));
    bt_test_http(p, "yunshui", "PUT", "/v1/auth/password", h, change, strlen(change), &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(bt_test_proc_stop(p), 0);

    p = bt_test_proc_start("yunshui", prod_args, production);
    login(p, "admin", "password123", &r);
    assert_int_equal(r.status, 401);
    login(p, "admin", "Changed-Pass-42", &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
    bt_test_db_url_release(url);
}

/* everything right: the first admin comes from yunshui.admin_password (secret from the
 * environment this time) */
static void test_production_starts(void **state)
{
    const char *const args[] = {"--set", "yunshui.admin_password=Strong-Admin-Pass-1", NULL};
    const char *const env[] = {"BENTO_ENV=production", "BENTO_YUNSHUI_JWT_SECRET=" KEY, NULL};
    struct bt_test_proc *p = bt_test_proc_start("yunshui", args, env);
    struct bt_test_resp r = {0};
    char hdr[2048];
    const char *h[2] = {hdr, NULL};
    char *log;
    (void)state;

    login(p, "admin", "password123", &r);
    assert_int_equal(r.status, 401);
    bt_assert_subset(r.json, "{\"success\":false,\"error\":{\"code\":\"INVALID_CREDENTIALS\"}}");
    login(p, "admin", "Strong-Admin-Pass-1", &r);
    assert_int_equal(r.status, 200);
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", bt_json_str(r.json, "/data/token"));
    bt_test_http(p, "yunshui", "GET", "/v1/auth/me", h, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"data\":{\"username\":\"admin\",\"role\":\"ADMIN\"}}");
    log = bt_test_proc_log(p);
    assert_null(strstr(log, "Strong-Admin-Pass-1"));
    assert_null(strstr(log, KEY));
    assert_null(strstr(log, "jwt_secret is not set"));
    free(log);
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_development_defaults),
        cmocka_unit_test(test_production_refuses_bad_secret),
        cmocka_unit_test(test_production_refuses_default_admin_seed),
        cmocka_unit_test(test_production_refuses_default_admin_password),
        cmocka_unit_test(test_production_starts),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
