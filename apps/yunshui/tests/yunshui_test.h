/* SPDX-License-Identifier: MIT
 * yunshui_test.h - helpers shared by yunshui's tests: an app with the rate limit off and a
 * cheap password hash, logging in, making users, and the Authorization header.
 * Contract used: POST /v1/auth/login {username,password} -> data.token, data.refreshToken;
 * POST /v1/users {username,email,password,role} (ADMIN) -> 201.
 */
#ifndef YUNSHUI_TEST_H
#define YUNSHUI_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

extern const struct bt_app bt_app_yunshui;

/** The app on a fresh database; extra settings ("key=value", NULL-terminated) may be NULL.
 *  The rate limit is off (tests of it pass their own "rate_limit=..." first, which wins
 *  because the last --set of a key wins and ours comes first). Password hashing uses cheap
 *  Argon2id parameters so tests can log in many times. Login throttling keeps its defaults
 *  (5 wrong passwords per name and address lock it out, 10 login attempts a minute per
 *  address): a test that logs in more often passes "login_ip_limit=0". */
static inline struct bt_test_app *ys_app_with(const char *const *extra)
{
    const char *settings[16] = {"rate_limit=0"};
    size_t n = 1;
    struct bt_password_params cheap = {.m_cost_kib = 64, .t_cost = 1, .parallelism = 1};

    bt_password_set_params(&cheap);
    for (size_t i = 0; extra && extra[i] && n < 15; i++)
        settings[n++] = extra[i];
    settings[n] = NULL;
    return bt_test_app_new(&bt_app_yunshui, settings);
}

static inline struct bt_test_app *ys_app(void)
{
    return ys_app_with(NULL);
}

/** "Authorization: Bearer <token>" as a one-header list (static storage per slot). */
static inline const char *const *ys_auth_slot(const char *token, int slot)
{
    static char hdr[4][2048];
    static const char *list[4][2];

    snprintf(hdr[slot], sizeof(hdr[slot]), "Authorization: Bearer %s", token ? token : "");
    list[slot][0] = hdr[slot];
    list[slot][1] = NULL;
    return list[slot];
}
#define ys_auth(token) ys_auth_slot((token), 0)

/** Log in; returns the access token (malloc'd) or fails the test. refresh (may be NULL)
 *  gets the refresh token (malloc'd). */
static inline char *ys_login_full(struct bt_test_app *t, const char *user, const char *pass,
                                  char **refresh)
{
    struct bt_test_resp r = {0};
    char body[1024]; /* room for a password from ys_make_user's 512-byte buffer */
    const char *tok;
    char *out;

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", user, pass);
    bt_test_request(t, "POST", "/v1/auth/login", NULL, body, &r);
    if (r.status != 200)
        fail_msg("login %s: %d %s", user, r.status, r.body);
    tok = bt_json_str(r.json, "/data/token");
    assert_non_null(tok);
    out = strdup(tok);
    if (refresh)
        *refresh = strdup(bt_json_str(r.json, "/data/refreshToken"));
    bt_test_resp_release(&r);
    return out;
}

static inline char *ys_login(struct bt_test_app *t, const char *user, const char *pass)
{
    return ys_login_full(t, user, pass, NULL);
}

/** The development admin's token (admin / password123). */
static inline char *ys_admin(struct bt_test_app *t)
{
    return ys_login(t, "admin", "password123");
}

/** Create a user with role ("USER" or "ADMIN") through the API and log it in. */
static inline char *ys_make_user(struct bt_test_app *t, const char *admin_token,
                                 const char *username, const char *role)
{
    struct bt_test_resp r = {0};
    char body[512];

    snprintf(body, sizeof(body),
             "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"secret-%s-1\","
             "\"role\":\"%s\"}",
             username, username, username, role);
    bt_test_request(t, "POST", "/v1/users", ys_auth(admin_token), body, &r);
    if (r.status != 201)
        fail_msg("create user %s: %d %s", username, r.status, r.body);
    bt_test_resp_release(&r);
    {
        char pass[128]; /* not body: ys_login copies it into a buffer of the same size */
        snprintf(pass, sizeof(pass), "secret-%s-1", username);
        return ys_login(t, username, pass);
    }
}

/** The error code of an error envelope, or "" */
static inline const char *ys_code(const struct bt_test_resp *r)
{
    const char *c = bt_json_str(r->json, "/error/code");
    return c ? c : "";
}

#endif
