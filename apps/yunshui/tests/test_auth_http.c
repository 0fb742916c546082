/* SPDX-License-Identifier: MIT
 * test_auth_http.c - handler tier of yunshui's 認證 API (document 002 "POST /auth/login",
 * "/auth/refresh", "/auth/logout", note "Users and auth"), plus /auth/me and /auth/password:
 * the document's login response, one answer for unknown user and wrong password, the JWT
 * claims, refresh-token rotation and family revocation on re-use, expiry, logout, TOKEN_EXPIRED
 * against INVALID_CREDENTIALS, password change ending the other sessions, and role or account
 * changes applying to tokens already issued. Each test gets a fresh database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yunshui_test.h"

#define SECRET "test-secret-for-yunshui-auth-0123456789abcdef"

/* ---- fixture and helpers ---- */

struct fixture {
    struct bt_test_app *t;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *const settings[] = {"jwt_secret=" SECRET, NULL};

    assert_non_null(f);
    f->t = ys_app_with(settings);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    bt_test_app_free(f->t);
    free(f);
    return 0;
}

/* The document's error envelope with status and code; message compared when given. */
static void assert_err(const struct bt_test_resp *r, int status, const char *code,
                       const char *message)
{
    if (r->status != status)
        fail_msg("want %d %s, got %d %s", status, code, r->status, r->body);
    assert_non_null(r->json);
    assert_true(json_is_false(json_object_get(r->json, "success")));
    assert_string_equal(ys_code(r), code);
    assert_non_null(bt_json_str(r->json, "/error/message"));
    assert_true(strlen(bt_json_str(r->json, "/error/message")) > 0);
    assert_true(json_is_object(bt_json_at(r->json, "/error/details")));
    if (message)
        assert_string_equal(bt_json_str(r->json, "/error/message"), message);
}

static void assert_ok(const struct bt_test_resp *r, int status)
{
    if (r->status != status)
        fail_msg("want %d, got %d %s", status, r->status, r->body);
    assert_true(json_is_true(json_object_get(r->json, "success")));
}

/* "2024-01-01T00:00:00.000Z" */
static void assert_ts(const char *s)
{
    int64_t us;

    assert_non_null(s);
    assert_int_equal(strlen(s), 24);
    assert_true(s[10] == 'T' && s[19] == '.' && s[23] == 'Z');
    assert_int_equal(bt_time_parse(s, &us), 0);
}

/* The claims of a token (new reference), without checking the signature. */
static json_t *claims_of(const char *token)
{
    struct bt_arena *a = bt_arena_new();
    const char *dot1 = strchr(token, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    unsigned char *raw = NULL;
    size_t n = 0;
    json_t *j;

    assert_non_null(dot2);
    assert_int_equal(bt_base64url_decode(a, dot1 + 1, (size_t)(dot2 - dot1 - 1), &raw, &n), 0);
    j = json_loadb((const char *)raw, n, 0, NULL);
    bt_arena_free(a);
    assert_non_null(j);
    return j;
}

/* A token signed with secret over the claims in JSON text (malloc'd). */
static char *sign(const char *secret, const char *claims)
{
    struct bt_arena *a = bt_arena_new();
    json_t *j = json_loads(claims, 0, NULL);
    char *tok = NULL, *out;

    assert_non_null(j);
    assert_int_equal(bt_jwt_sign(a, j, secret, &tok), BT_OK);
    out = strdup(tok);
    json_decref(j);
    bt_arena_free(a);
    return out;
}

static void db_exec(struct bt_test_app *t, const char *sql, const struct bt_val *args, size_t n)
{
    struct bt_db *db = bt_test_db_get(t);
    struct bt_err err;

    bt_err_clear(&err);
    if (bt_db_exec(db, NULL, sql, args, n, &err) != BT_OK)
        fail_msg("db: %s", err.msg);
    bt_test_db_put(t, db);
}

static int64_t db_count(struct bt_test_app *t, const char *sql, const struct bt_val *args, size_t n)
{
    struct bt_db *db = bt_test_db_get(t);
    struct bt_err err;
    int64_t v = -1;

    bt_err_clear(&err);
    if (bt_db_query_i64(db, &v, sql, args, n, &err) != BT_OK)
        fail_msg("db: %s", err.msg);
    bt_test_db_put(t, db);
    return v;
}

static void get_me(struct bt_test_app *t, const char *token, struct bt_test_resp *r)
{
    bt_test_request(t, "GET", "/v1/auth/me", ys_auth(token), NULL, r);
}

static void refresh(struct bt_test_app *t, const char *rt, struct bt_test_resp *r)
{
    char body[1024];

    snprintf(body, sizeof(body), "{\"refreshToken\":\"%s\"}", rt);
    bt_test_request(t, "POST", "/v1/auth/refresh", NULL, body, r);
}

static void login_raw(struct bt_test_app *t, const char *user, const char *pass,
                      struct bt_test_resp *r)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", user, pass);
    bt_test_request(t, "POST", "/v1/auth/login", NULL, body, r);
}

/* ---- login ---- */

/* spec 002 §POST /auth/login: the document's example request and response shape */
static void test_login_document_example(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    json_t *user, *claims;
    const char *token, *rt, *key;
    json_t *v;

    login_raw(f->t, "admin", "password123", &r);
    assert_ok(&r, 200);
    token = bt_json_str(r.json, "/data/token");
    rt = bt_json_str(r.json, "/data/refreshToken");
    assert_non_null(token);
    assert_non_null(rt);
    assert_int_equal(strncmp(token, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37), 0);
    assert_int_equal(strlen(rt), 43); /* 32 random bytes, base64url */
    assert_int_equal(json_object_size(json_object_get(r.json, "data")), 3);
    user = bt_json_at(r.json, "/data/user");
    /* exactly {id, username, email, role, createdAt} */
    assert_int_equal(json_object_size(user), 5);
    json_object_foreach(user, key, v)
    {
        assert_true(!strcmp(key, "id") || !strcmp(key, "username") || !strcmp(key, "email") ||
                    !strcmp(key, "role") || !strcmp(key, "createdAt"));
        assert_true(json_is_string(v));
    }
    bt_assert_subset(user, "{\"username\":\"admin\",\"email\":\"admin@yunshui.com\","
                           "\"role\":\"ADMIN\"}");
    assert_int_equal(strlen(bt_json_str(user, "/id")), 36);
    assert_ts(bt_json_str(user, "/createdAt"));

    /* HS256 with sub, username, role, iat, exp (24 h), jti, sid */
    claims = claims_of(token);
    assert_string_equal(bt_json_str(claims, "/sub"), bt_json_str(user, "/id"));
    assert_string_equal(bt_json_str(claims, "/username"), "admin");
    assert_string_equal(bt_json_str(claims, "/role"), "ADMIN");
    assert_int_equal(bt_json_int(claims, "/exp", 0) - bt_json_int(claims, "/iat", 0), 86400);
    assert_true(llabs(bt_json_int(claims, "/iat", 0) - bt_now_unix()) < 60);
    assert_int_equal(strlen(bt_json_str(claims, "/jti")), 36);
    assert_int_equal(strlen(bt_json_str(claims, "/sid")), 36);
    json_decref(claims);

    /* the token works */
    {
        char *tok = strdup(token);
        get_me(f->t, tok, &r);
        assert_ok(&r, 200);
        free(tok);
    }
    bt_test_resp_release(&r);
}

/* spec 002 §POST /auth/login 401: the same answer for a wrong password and an unknown user */
static void test_login_bad_credentials(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *wrong_pw, *no_user;

    login_raw(f->t, "admin", "password124", &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", "用戶名稱或密碼錯誤");
    wrong_pw = strdup(r.body);
    login_raw(f->t, "nobody", "password123", &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", "用戶名稱或密碼錯誤");
    no_user = strdup(r.body);
    assert_string_equal(wrong_pw, no_user);
    login_raw(f->t, "admin", "", &r);
    assert_int_equal(r.status, 422); /* an empty password is not a password */
    login_raw(f->t, "admin", "PASSWORD123", &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", "用戶名稱或密碼錯誤");
    free(wrong_pw);
    free(no_user);
    bt_test_resp_release(&r);
}

/* user names are case-insensitive; passwords are not */
static void test_login_username_case(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};

    login_raw(f->t, "ADMIN", "password123", &r);
    assert_ok(&r, 200);
    assert_string_equal(bt_json_str(r.json, "/data/user/username"), "admin");
    bt_test_resp_release(&r);
}

static void test_login_validation(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};

    bt_test_request(f->t, "POST", "/v1/auth/login", NULL, "{\"username\":\"admin\"}", &r);
    assert_err(&r, 422, "VALIDATION_ERROR", NULL);
    assert_non_null(bt_json_at(r.json, "/error/details/password"));

    bt_test_request(f->t, "POST", "/v1/auth/login", NULL, "{\"username\":1,\"password\":[]}", &r);
    assert_err(&r, 422, "VALIDATION_ERROR", NULL);
    assert_non_null(bt_json_at(r.json, "/error/details/username"));
    assert_non_null(bt_json_at(r.json, "/error/details/password"));

    bt_test_request(f->t, "POST", "/v1/auth/login", NULL, "{\"username\":\"admin\",", &r);
    assert_err(&r, 400, "VALIDATION_ERROR", NULL);

    bt_test_request(f->t, "POST", "/v1/auth/login", NULL, "", &r);
    assert_int_equal(r.status, 400);

    {
        const char *const hdr[] = {"Content-Type: text/plain", NULL};
        bt_test_request(f->t, "POST", "/v1/auth/login", hdr,
                        "{\"username\":\"admin\",\"password\":\"password123\"}", &r);
        assert_int_equal(r.status, 400);
    }

    bt_test_request(f->t, "POST", "/v1/auth/login", NULL, "[]", &r);
    assert_int_equal(r.status, 422);

    bt_test_request(f->t, "GET", "/v1/auth/login", NULL, NULL, &r);
    assert_int_equal(r.status, 405);
    bt_test_resp_release(&r);
}

/* a disabled account cannot log in; only the right password learns that it is disabled */
static void test_login_disabled_user(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *admin = ys_admin(f->t);
    char *user = ys_make_user(f->t, admin, "walter", "USER");
    char *id;

    get_me(f->t, user, &r);
    assert_ok(&r, 200);
    id = strdup(bt_json_str(r.json, "/data/id"));
    bt_test_requestf(f->t, "GET", NULL, &r, "/v1/users/%s", id); /* no token */
    assert_int_equal(r.status, 401);
    {
        char path[128];
        snprintf(path, sizeof(path), "/v1/users/%s", id);
        bt_test_request(f->t, "DELETE", path, ys_auth(admin), NULL, &r);
        assert_ok(&r, 200);
    }
    login_raw(f->t, "walter", "secret-walter-1", &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", "帳號已停用");
    login_raw(f->t, "walter", "wrong-password", &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", "用戶名稱或密碼錯誤");
    /* the token issued before is refused at once */
    get_me(f->t, user, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    free(id);
    free(user);
    free(admin);
    bt_test_resp_release(&r);
}

/* ---- me ---- */

static void test_me(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *admin = ys_admin(f->t);

    get_me(f->t, admin, &r);
    assert_ok(&r, 200);
    bt_assert_subset(r.json, "{\"data\":{\"username\":\"admin\",\"email\":\"admin@yunshui.com\","
                             "\"role\":\"ADMIN\",\"isActive\":true}}");
    assert_int_equal(json_object_size(json_object_get(r.json, "data")), 7);
    assert_null(strstr(r.body, "argon2"));
    assert_null(strstr(r.body, "password"));
    assert_ts(bt_json_str(r.json, "/data/updatedAt"));

    bt_test_request(f->t, "GET", "/v1/auth/me", NULL, NULL, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    free(admin);
    bt_test_resp_release(&r);
}

/* ---- refresh ---- */

/* rotation: each refresh spends the token and issues a new one of the same session */
static void test_refresh_rotates(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *rt1 = NULL, *rt2, *rt3, *tok1 = ys_login_full(f->t, "admin", "password123", &rt1);
    char *tok2;
    json_t *c1, *c2;

    refresh(f->t, rt1, &r);
    assert_ok(&r, 200);
    tok2 = strdup(bt_json_str(r.json, "/data/token"));
    rt2 = strdup(bt_json_str(r.json, "/data/refreshToken"));
    assert_string_not_equal(rt1, rt2);
    assert_string_not_equal(tok1, tok2);
    bt_assert_subset(r.json, "{\"data\":{\"user\":{\"username\":\"admin\",\"role\":\"ADMIN\"}}}");
    c1 = claims_of(tok1);
    c2 = claims_of(tok2);
    assert_string_equal(bt_json_str(c1, "/sid"), bt_json_str(c2, "/sid")); /* same family */
    assert_string_not_equal(bt_json_str(c1, "/jti"), bt_json_str(c2, "/jti"));
    json_decref(c1);
    json_decref(c2);

    /* both access tokens of the live session work */
    get_me(f->t, tok2, &r);
    assert_ok(&r, 200);
    get_me(f->t, tok1, &r);
    assert_ok(&r, 200);

    refresh(f->t, rt2, &r);
    assert_ok(&r, 200);
    rt3 = strdup(bt_json_str(r.json, "/data/refreshToken"));
    refresh(f->t, rt3, &r);
    assert_ok(&r, 200);
    free(rt3);
    free(rt2);
    free(tok2);
    free(tok1);
    free(rt1);
    bt_test_resp_release(&r);
}

/* re-use of a spent token revokes the whole family: its refresh tokens and access tokens */
static void test_refresh_reuse_revokes_family(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *rt1 = NULL, *tok1 = ys_login_full(f->t, "admin", "password123", &rt1);
    char *rt_other = NULL, *tok_other = ys_login_full(f->t, "admin", "password123", &rt_other);
    char *rt2, *tok2;

    refresh(f->t, rt1, &r);
    assert_ok(&r, 200);
    rt2 = strdup(bt_json_str(r.json, "/data/refreshToken"));
    tok2 = strdup(bt_json_str(r.json, "/data/token"));

    refresh(f->t, rt1, &r); /* the spent token again: a stolen copy */
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    refresh(f->t, rt2, &r); /* the legitimate newest token dies with the family */
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    get_me(f->t, tok2, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    get_me(f->t, tok1, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);

    /* another login of the same user is another family and lives on */
    get_me(f->t, tok_other, &r);
    assert_ok(&r, 200);
    refresh(f->t, rt_other, &r);
    assert_ok(&r, 200);
    free(rt1);
    free(tok1);
    free(rt2);
    free(tok2);
    free(rt_other);
    free(tok_other);
    bt_test_resp_release(&r);
}

static void test_refresh_errors(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *rt = NULL, *tok = ys_login_full(f->t, "admin", "password123", &rt);

    refresh(f->t, "not-a-token-we-issued", &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    refresh(f->t, tok, &r); /* an access token is not a refresh token */
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    bt_test_request(f->t, "POST", "/v1/auth/refresh", NULL, "{}", &r);
    assert_err(&r, 422, "VALIDATION_ERROR", NULL);
    assert_non_null(bt_json_at(r.json, "/error/details/refreshToken"));
    bt_test_request(f->t, "POST", "/v1/auth/refresh", NULL, "{\"refreshToken\":42}", &r);
    assert_err(&r, 422, "VALIDATION_ERROR", NULL);
    bt_test_request(f->t, "POST", "/v1/auth/refresh", NULL, "nope", &r);
    assert_err(&r, 400, "VALIDATION_ERROR", NULL);
    /* the failed attempts did not hurt the real token */
    refresh(f->t, rt, &r);
    assert_ok(&r, 200);
    free(rt);
    free(tok);
    bt_test_resp_release(&r);
}

/* spec 002 §請求限制: a refresh token lives 30 days */
static void test_refresh_expired(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *rt = NULL, *tok = ys_login_full(f->t, "admin", "password123", &rt);
    struct bt_arena *a = bt_arena_new();
    const char *hash = bt_sha256_hex(a, rt, strlen(rt));
    int64_t created_us = 0, expires_us = 0;
    struct bt_db *db = bt_test_db_get(f->t);
    struct bt_rows *rows;
    struct bt_err err;

    /* issued with 30 days to live */
    bt_err_clear(&err);
    assert_int_equal(bt_db_query(db, a, &rows,
                                 "SELECT created_at, expires_at FROM yunshui_refresh_tokens"
                                 " WHERE token_hash = $1",
                                 BT_ARGS(bt_text(hash)), &err),
                     BT_OK);
    bt_test_db_put(f->t, db);
    assert_int_equal(rows->nrows, 1);
    assert_int_equal(bt_time_parse(bt_rows_text(rows, 0, 0), &created_us), 0);
    assert_int_equal(bt_time_parse(bt_rows_text(rows, 0, 1), &expires_us), 0);
    assert_true(llabs((expires_us - created_us) / 1000000 - 30 * 86400) <= 1);

    db_exec(f->t, "UPDATE yunshui_refresh_tokens SET expires_at = $1 WHERE token_hash = $2",
            BT_ARGS(bt_text("2020-01-01T00:00:00.000Z"), bt_text(hash)));
    refresh(f->t, rt, &r);
    assert_err(&r, 401, "TOKEN_EXPIRED", NULL);
    /* nothing was issued */
    assert_int_equal(db_count(f->t, "SELECT COUNT(*) FROM yunshui_refresh_tokens", BT_NOARGS), 1);
    bt_arena_free(a);
    free(rt);
    free(tok);
    bt_test_resp_release(&r);
}

/* ---- logout ---- */

static void test_logout_revokes_session(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *rt = NULL, *tok = ys_login_full(f->t, "admin", "password123", &rt);
    char *rt2 = NULL, *tok2 = ys_login_full(f->t, "admin", "password123", &rt2);
    char *rt_new, *tok_new;

    /* a refreshed access token of the same session dies too */
    refresh(f->t, rt, &r);
    assert_ok(&r, 200);
    rt_new = strdup(bt_json_str(r.json, "/data/refreshToken"));
    tok_new = strdup(bt_json_str(r.json, "/data/token"));

    bt_test_request(f->t, "POST", "/v1/auth/logout", ys_auth(tok), NULL, &r);
    assert_ok(&r, 200);
    assert_string_equal(bt_json_str(r.json, "/message"), "登出成功");
    get_me(f->t, tok, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    get_me(f->t, tok_new, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    refresh(f->t, rt_new, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    bt_test_request(f->t, "POST", "/v1/auth/logout", ys_auth(tok), NULL, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL); /* already logged out */

    /* the other login is untouched */
    get_me(f->t, tok2, &r);
    assert_ok(&r, 200);
    refresh(f->t, rt2, &r);
    assert_ok(&r, 200);

    bt_test_request(f->t, "POST", "/v1/auth/logout", NULL, NULL, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    free(rt);
    free(tok);
    free(rt2);
    free(tok2);
    free(rt_new);
    free(tok_new);
    bt_test_resp_release(&r);
}

/* an optional {"refreshToken"} body ends that session too, but only the caller's own */
static void test_logout_with_refresh_body(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *admin = ys_admin(f->t);
    char *user = ys_make_user(f->t, admin, "olga", "USER");
    char *rt_a = NULL, *tok_a = ys_login_full(f->t, "admin", "password123", &rt_a);
    char *rt_u = NULL, *tok_u = ys_login_full(f->t, "olga", "secret-olga-1", &rt_u);
    char body[256];

    snprintf(body, sizeof(body), "{\"refreshToken\":\"%s\"}", rt_u);
    bt_test_request(f->t, "POST", "/v1/auth/logout", ys_auth(admin), body, &r);
    assert_ok(&r, 200);
    get_me(f->t, tok_u, &r); /* someone else's session is not the admin's to end */
    assert_ok(&r, 200);

    snprintf(body, sizeof(body), "{\"refreshToken\":\"%s\"}", rt_a);
    bt_test_request(f->t, "POST", "/v1/auth/logout", ys_auth(user), "garbage", &r);
    assert_ok(&r, 200); /* an unreadable body does not stop a logout */
    get_me(f->t, tok_a, &r);
    assert_ok(&r, 200);
    {
        char *tok_b = ys_login(f->t, "admin", "password123");
        bt_test_request(f->t, "POST", "/v1/auth/logout", ys_auth(tok_b), body, &r);
        assert_ok(&r, 200);
        get_me(f->t, tok_a, &r);
        assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
        free(tok_b);
    }
    free(admin);
    free(user);
    free(rt_a);
    free(tok_a);
    free(rt_u);
    free(tok_u);
    bt_test_resp_release(&r);
}

/* ---- the bearer check ---- */

/* spec 002 §錯誤代碼: TOKEN_EXPIRED only for a genuine token past exp */
static void test_token_expired_vs_invalid(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *tok = ys_admin(f->t), *t;
    json_t *c = claims_of(tok);
    const char *sub = bt_json_str(c, "/sub"), *sid = bt_json_str(c, "/sid");
    char claims[512];
    int64_t now = bt_now_unix();

    snprintf(claims, sizeof(claims),
             "{\"sub\":\"%s\",\"username\":\"admin\",\"role\":\"ADMIN\",\"iat\":%lld,"
             "\"exp\":%lld,\"jti\":\"x\",\"sid\":\"%s\"}",
             sub, (long long)(now - 90000), (long long)(now - 3600), sid);
    t = sign(SECRET, claims);
    get_me(f->t, t, &r);
    assert_err(&r, 401, "TOKEN_EXPIRED", "Token 已過期");
    free(t);

    /* the same claims with exp in the future: accepted (the test signs like the app) */
    snprintf(claims, sizeof(claims),
             "{\"sub\":\"%s\",\"username\":\"admin\",\"role\":\"ADMIN\",\"iat\":%lld,"
             "\"exp\":%lld,\"jti\":\"x\",\"sid\":\"%s\"}",
             sub, (long long)now, (long long)(now + 3600), sid);
    t = sign(SECRET, claims);
    get_me(f->t, t, &r);
    assert_ok(&r, 200);
    free(t);

    /* expired, but signed with another key: not ours, so not "expired" */
    snprintf(claims, sizeof(claims),
             "{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"x\",\"sid\":\"%s\"}", sub,
             (long long)(now - 90000), (long long)(now - 3600), sid);
    t = sign("another-secret-another-secret-another", claims);
    get_me(f->t, t, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    free(t);

    /* valid signature but no sid, an unknown sid, another user's sid, no exp */
    snprintf(claims, sizeof(claims), "{\"sub\":\"%s\",\"exp\":%lld}", sub, (long long)(now + 3600));
    t = sign(SECRET, claims);
    get_me(f->t, t, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    free(t);
    snprintf(claims, sizeof(claims),
             "{\"sub\":\"%s\",\"exp\":%lld,\"sid\":\"00000000-0000-4000-8000-000000000000\"}", sub,
             (long long)(now + 3600));
    t = sign(SECRET, claims);
    get_me(f->t, t, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    free(t);
    snprintf(claims, sizeof(claims),
             "{\"sub\":\"00000000-0000-4000-8000-000000000001\",\"exp\":%lld,\"sid\":\"%s\"}",
             (long long)(now + 3600), sid);
    t = sign(SECRET, claims);
    get_me(f->t, t, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    free(t);
    snprintf(claims, sizeof(claims), "{\"sub\":\"%s\",\"sid\":\"%s\"}", sub, sid);
    t = sign(SECRET, claims);
    get_me(f->t, t, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    free(t);

    /* the alg=none trick and garbage */
    {
        struct bt_arena *a = bt_arena_new();
        const char *hdr = bt_base64url_encode(a, "{\"alg\":\"none\",\"typ\":\"JWT\"}", 27);
        const char *dot = strchr(tok, '.');
        const char *payload = bt_arena_strndup(a, dot + 1, strcspn(dot + 1, "."));
        char *none = bt_arena_printf(a, "%s.%s.", hdr, payload);
        get_me(f->t, none, &r);
        assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
        bt_arena_free(a);
    }
    get_me(f->t, "abc.def.ghi", &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    {
        const char *const basic[] = {"Authorization: Basic YWRtaW46cGFzc3dvcmQxMjM=", NULL};
        bt_test_request(f->t, "GET", "/v1/auth/me", basic, NULL, &r);
        assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    }
    /* a token with one character changed */
    {
        char *bad = strdup(tok);
        size_t n = strlen(bad);
        bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
        get_me(f->t, bad, &r);
        assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
        free(bad);
    }
    json_decref(c);
    free(tok);
    bt_test_resp_release(&r);
}

/* the role comes from the database on each request, not from the token */
static void test_role_change_applies_at_once(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *admin = ys_admin(f->t);
    char *user = ys_make_user(f->t, admin, "rita", "USER");
    char path[128];

    bt_test_request(f->t, "GET", "/v1/users", ys_auth(user), NULL, &r);
    assert_err(&r, 403, "INSUFFICIENT_PERMISSIONS", NULL);
    get_me(f->t, user, &r);
    snprintf(path, sizeof(path), "/v1/users/%s", bt_json_str(r.json, "/data/id"));
    bt_test_request(f->t, "PUT", path, ys_auth(admin), "{\"role\":\"ADMIN\"}", &r);
    assert_ok(&r, 200);
    bt_test_request(f->t, "GET", "/v1/users", ys_auth(user), NULL, &r);
    assert_ok(&r, 200);
    bt_test_request(f->t, "PUT", path, ys_auth(admin), "{\"role\":\"USER\"}", &r);
    assert_ok(&r, 200);
    bt_test_request(f->t, "GET", "/v1/users", ys_auth(user), NULL, &r);
    assert_err(&r, 403, "INSUFFICIENT_PERMISSIONS", NULL);
    free(admin);
    free(user);
    bt_test_resp_release(&r);
}

/* An account disabled while its session stays alive (an operator's UPDATE; the API revokes
 * the sessions as it disables) is refused on the very next request and let in again once
 * enabled: the bearer check reads the account with the session on every request. */
static void test_bearer_refuses_disabled_account(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *admin = ys_admin(f->t);
    char *user = ys_make_user(f->t, admin, "dora", "USER");
    char *id;

    get_me(f->t, user, &r);
    assert_ok(&r, 200);
    id = strdup(bt_json_str(r.json, "/data/id"));
    db_exec(f->t, "UPDATE yunshui_users SET is_active = FALSE WHERE id = $1", BT_ARGS(bt_text(id)));
    get_me(f->t, user, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", "帳號已停用");
    bt_test_request(f->t, "GET", "/v1/materials", ys_auth(user), NULL, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", "帳號已停用");
    db_exec(f->t, "UPDATE yunshui_users SET is_active = TRUE WHERE id = $1", BT_ARGS(bt_text(id)));
    get_me(f->t, user, &r);
    assert_ok(&r, 200);
    free(id);
    free(user);
    free(admin);
    bt_test_resp_release(&r);
}

/* The bearer check's words: a revoked session is told to log in again, an unknown one that
 * the token is invalid. */
static void test_bearer_revoked_and_unknown_session_words(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *tok = ys_admin(f->t);
    json_t *c = claims_of(tok);
    char claims[256], *t;

    bt_test_request(f->t, "POST", "/v1/auth/logout", ys_auth(tok), NULL, &r);
    assert_ok(&r, 200);
    get_me(f->t, tok, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", "登入狀態已失效，請重新登入");
    snprintf(claims, sizeof(claims),
             "{\"sub\":\"%s\",\"exp\":%lld,\"sid\":\"00000000-0000-4000-8000-000000000000\"}",
             bt_json_str(c, "/sub"), (long long)(bt_now_unix() + 3600));
    t = sign(SECRET, claims);
    get_me(f->t, t, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", "Token 無效");
    free(t);
    json_decref(c);
    free(tok);
    bt_test_resp_release(&r);
}

/* ---- password change ---- */

static void test_password_change(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *rt = NULL, *tok = ys_login_full(f->t, "admin", "password123", &rt);
    char *rt_other = NULL, *tok_other = ys_login_full(f->t, "admin", "password123", &rt_other);

    bt_test_request(f->t, "PUT", "/v1/auth/password", ys_auth(tok),
                    "{\"currentPassword\":\"wrong-one\",\"newPassword\":\"new-password-1\"}", &r);
    assert_err(&r, 422, "VALIDATION_ERROR", NULL);
    assert_non_null(bt_json_at(r.json, "/error/details/currentPassword"));
    bt_test_request(f->t, "PUT", "/v1/auth/password", ys_auth(tok),
                    "{\"currentPassword\":\"password123\",\"newPassword\":\"short\"}", &r);
    assert_err(&r, 422, "VALIDATION_ERROR", NULL);
    assert_non_null(bt_json_at(r.json, "/error/details/newPassword"));
    bt_test_request(f->t, "PUT", "/v1/auth/password", ys_auth(tok), "{}", &r);
    assert_err(&r, 422, "VALIDATION_ERROR", NULL);
    assert_non_null(bt_json_at(r.json, "/error/details/currentPassword"));
    assert_non_null(bt_json_at(r.json, "/error/details/newPassword"));
    bt_test_request(f->t, "PUT", "/v1/auth/password", NULL,
                    "{\"currentPassword\":\"password123\",\"newPassword\":\"new-password-1\"}", &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    /* nothing changed so far */
    get_me(f->t, tok_other, &r);
    assert_ok(&r, 200);

    bt_test_request(f->t, "PUT", "/v1/auth/password", ys_auth(tok),
                    "{\"currentPassword\":\"password123\",\"newPassword\":\"new-password-1\"}", &r);
    assert_ok(&r, 200);
    /* this session goes on; every other one is over */
    get_me(f->t, tok, &r);
    assert_ok(&r, 200);
    refresh(f->t, rt, &r);
    assert_ok(&r, 200);
    get_me(f->t, tok_other, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    refresh(f->t, rt_other, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", NULL);
    login_raw(f->t, "admin", "password123", &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS", "用戶名稱或密碼錯誤");
    login_raw(f->t, "admin", "new-password-1", &r);
    assert_ok(&r, 200);
    free(rt);
    free(tok);
    free(rt_other);
    free(tok_other);
    bt_test_resp_release(&r);
}

/* only hashes are stored: no refresh token and no password in the database */
static void test_secrets_stored_hashed(void **state)
{
    struct fixture *f = *state;
    char *rt = NULL, *tok = ys_login_full(f->t, "admin", "password123", &rt);

    assert_int_equal(db_count(f->t,
                              "SELECT COUNT(*) FROM yunshui_refresh_tokens"
                              " WHERE token_hash = $1",
                              BT_ARGS(bt_text(rt))),
                     0);
    assert_int_equal(db_count(f->t,
                              "SELECT COUNT(*) FROM yunshui_users"
                              " WHERE password_hash LIKE '$argon2id$%'",
                              BT_NOARGS),
                     1);
    free(rt);
    free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_login_document_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_bad_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_username_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_disabled_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_me, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_rotates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_reuse_revokes_family, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logout_revokes_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logout_with_refresh_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_expired_vs_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_role_change_applies_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bearer_refuses_disabled_account, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bearer_revoked_and_unknown_session_words, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_password_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets_stored_hashed, setup, teardown),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
