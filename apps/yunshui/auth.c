/* SPDX-License-Identifier: MIT
 * auth.c - yunshui's authentication (document 002 "認證 API", note "Users and auth"): login,
 * refresh with rotation and re-use detection, logout, the signed-in user, password change,
 * the bearer-token check and start-up (JWT secret, admin seeding, production refusals).
 * Owns: the JWT claims and lifetimes, the wording of every refusal. Sessions and refresh
 * tokens (rotation, re-use, revocation, the per-request session check) are the core's
 * (include/bento/session.h) over yunshui_sessions and yunshui_refresh_tokens.
 * Must not: log or return a password, hash, secret or token except the caller's own new
 * tokens; tell an unknown user from a wrong password; trust a role written in a token.
 */
#include <string.h>

#include "accounts.h"

/* Development-only JWT key; production refuses it (bt_secret_check). */
#define AUTH_DEV_SECRET "yunshui-development-jwt-secret-do-not-use-in-production"
/* The document's example account, seeded in development. */
#define AUTH_ADMIN_USERNAME "admin"
#define AUTH_ADMIN_EMAIL "admin@yunshui.com"
#define AUTH_ADMIN_DEFAULT_PASSWORD YUNSHUI_ADMIN_DEFAULT_PASSWORD

#define AUTH_BAD_LOGIN "用戶名稱或密碼錯誤"
#define AUTH_BAD_TOKEN "Token 無效"
#define AUTH_EXPIRED "Token 已過期"
#define AUTH_REVOKED "登入狀態已失效，請重新登入"
#define AUTH_DISABLED "帳號已停用"
#define AUTH_BAD_REFRESH "Refresh Token 無效"
#define AUTH_LOCKED "登入失敗次數過多，請稍後再試"
#define AUTH_EXPIRED_REFRESH "Refresh Token 已過期"

/* What the bearer check reads of the user with the session (bt_session_alive_user), in
 * this order. */
#define USER_CHECK_COLUMNS "username, role, is_active"

/* ---- schemas ---- */

static const struct bt_field login_fields[] = {
    {.name = "username",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 200,
     .desc = "用戶名稱"},
    {.name = "password",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .min_len = 1,
     .max_len = 1024,
     .desc = "密碼"},
    BT_FIELD_END,
};

const struct bt_schema yunshui_login_in = {.name = "LoginRequest", .fields = login_fields};

static const struct bt_field refresh_fields[] = {
    {.name = "refreshToken",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 1024,
     .desc = "登入或上次刷新時取得的 Refresh Token"},
    BT_FIELD_END,
};

const struct bt_schema yunshui_refresh_in = {.name = "RefreshRequest", .fields = refresh_fields};

/* Logout needs no body: it revokes the session of the access token. A body naming a refresh
 * token is accepted for clients that send one (its session is revoked too when it is the
 * caller's); the route table gives logout no schema, so this table only documents it. */
static const struct bt_field logout_fields[] = {
    {.name = "refreshToken", .type = BT_T_STR, .max_len = 1024, .desc = "Refresh Token（可選）"},
    BT_FIELD_END,
};

const struct bt_schema yunshui_logout_in = {.name = "LogoutRequest", .fields = logout_fields};

static const struct bt_field password_fields[] = {
    {.name = "currentPassword",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .min_len = 1,
     .max_len = 1024,
     .desc = "目前密碼"},
    {.name = "newPassword",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .min_len = YUNSHUI_PASSWORD_MIN,
     .max_len = YUNSHUI_PASSWORD_MAX,
     .desc = "新密碼（至少 8 個字元）"},
    BT_FIELD_END,
};

const struct bt_schema yunshui_password_in = {.name = "PasswordChange", .fields = password_fields};

/* ---- shared with users.c ---- */

const char *yunshui_password_hash(struct bt_arena *a, const char *pw, struct bt_err *err)
{
    char *out = bt_arena_alloc(a, BT_PASSWORD_PHC_MAX);

    if (bt_password_hash(pw, out, BT_PASSWORD_PHC_MAX, err) != BT_OK) {
        bt_fail(err, BT_EINTERNAL, NULL, "password hashing failed");
        return NULL;
    }
    return out;
}

/* ---- tokens ---- */

/* A signed access token of session sid. The role claim is informative: every request reads
 * the role again from the database (yunshui_token_check). */
static int access_token(struct bt_req *rq, const char *user_id, const char *username,
                        const char *role, const char *sid, char **out, struct bt_err *err)
{
    const struct yunshui_state *st = yunshui_state(rq);
    int64_t now = bt_now_unix();
    json_t *j_claims =
        json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "sub", user_id, "username", username, "role",
                  role, "iat", (json_int_t)now, "exp", (json_int_t)(now + st->access_ttl_s), "jti",
                  yunshui_uuid(rq->arena), "sid", sid);
    int rc;

    if (!j_claims)
        return bt_fail(err, BT_EINTERNAL, NULL, "cannot build token claims");
    rc = bt_jwt_sign(rq->arena, j_claims, st->jwt_secret, out);
    json_decref(j_claims);
    if (rc != BT_OK)
        return bt_fail(err, BT_EINTERNAL, NULL, "cannot sign token");
    return BT_OK;
}

/* The login response's user: exactly the document's {id, username, email, role, createdAt}. */
static json_t *login_user(const char *id, const char *username, const char *email, const char *role,
                          const char *created_at)
{
    return json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?}", "id", id, "username", username, "email", email,
                     "role", role, "createdAt", created_at);
}

/* ---- login ---- */

static int bad_login(struct bt_req *rq, const char *key, struct bt_err *err)
{
    bt_login_failed(rq, key);
    return yunshui_fail(rq, err, BT_EAUTH, "INVALID_CREDENTIALS", AUTH_BAD_LOGIN, NULL);
}

/* The core's login throttling (include/bento/loginguard.h) for the account named key (the
 * folded user name, known or not): 429 RATE_LIMIT_EXCEEDED with Retry-After when this
 * address is locked out of this account or has made too many attempts. */
static int login_throttle(struct bt_req *rq, struct bt_res *rs, const char *key, struct bt_err *err)
{
    struct bt_login_verdict v;
    int rc = bt_login_check(rq, rs, key, &v, err);

    if (rc == BT_ELIMIT && v.why == BT_LOGIN_LOCKED)
        return yunshui_fail(rq, err, BT_ELIMIT, "RATE_LIMIT_EXCEEDED", AUTH_LOCKED, NULL);
    return rc; /* the address's limit: the envelope's default words */
}

int yunshui_login(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const char *password = bt_req_str(rq, "password");
    const char *key = yunshui_fold(rq->arena, bt_req_str(rq, "username"));
    struct bt_db *db = bt_req_db(rq, err);
    struct bt_session_grant g;
    struct bt_rows *rows;
    const char *id, *name, *role, *hash;
    char *token;
    int rc;

    if (!db)
        return err->code;
    rc = bt_db_query(db, rq->arena, &rows,
                     "SELECT " YUNSHUI_USER_COLUMNS ", password_hash FROM yunshui_users"
                     " WHERE username_key = $1",
                     BT_ARGS(bt_text(key)), err);
    if (rc != BT_OK)
        return rc;
    /* before any password is looked at (a locked-out client learns nothing, not even that a
     * password is right), after what can fail otherwise (an attempt is a failure until it
     * succeeds) */
    rc = login_throttle(rq, rs, key, err);
    if (rc != BT_OK)
        return rc;
    if (rows->nrows == 0) {
        bt_password_dummy_verify(password); /* the same time as a wrong password */
        return bad_login(rq, key, err);     /* and the same count towards a lock-out */
    }
    hash = bt_rows_text(rows, 0, 7);
    if (bt_password_verify(password, hash) != BT_OK)
        return bad_login(rq, key, err);
    bt_login_succeeded(rq, key);
    id = bt_rows_text(rows, 0, 0);
    name = bt_rows_text(rows, 0, 1);
    role = bt_rows_text(rows, 0, 3);
    /* only someone who knows the password learns that the account is disabled */
    if (!bt_rows_bool(rows, 0, 4, false))
        return yunshui_fail(rq, err, BT_EAUTH, "INVALID_CREDENTIALS", AUTH_DISABLED, NULL);
    if (bt_password_needs_rehash(hash)) {
        struct bt_err e;
        const char *fresh;
        bt_err_clear(&e);
        fresh = yunshui_password_hash(rq->arena, password, &e);
        /* best effort: the old hash keeps working if this fails */
        if (fresh)
            bt_db_exec(db, NULL, "UPDATE yunshui_users SET password_hash = $1 WHERE id = $2",
                       BT_ARGS(bt_text(fresh), bt_text(id)), &e);
    }
    /* a new refresh-token family; the user's expired tokens are swept on the way */
    rc = bt_session_open(yunshui_sessions(rq), db, rq->arena, id, &g, err);
    if (rc == BT_OK)
        rc = access_token(rq, id, name, role, g.sid, &token, err);
    if (rc != BT_OK)
        return rc;
    return yunshui_ok(
        rs, 200,
        json_pack("{s:s,s:s,s:o}", "token", token, "refreshToken", g.refresh_token, "user",
                  login_user(id, name, bt_rows_text(rows, 0, 2), role, bt_rows_text(rows, 0, 5))),
        NULL);
}

/* ---- refresh ---- */

static int bad_refresh(struct bt_req *rq, struct bt_err *err, const char *code, const char *msg)
{
    return yunshui_fail(rq, err, BT_EAUTH, code, msg, NULL);
}

/* The token's user, read inside the exchange (bt_session_check_fn): a disabled account gets
 * no new token and keeps its old one unspent. The row also answers the response's user. */
struct refresh_user {
    struct bt_req *rq;
    struct bt_rows *rows; /* id, username, email, role, is_active, created_at */
};

static int refresh_user_check(struct bt_db *db, const char *user_id, void *ud, struct bt_err *err)
{
    struct refresh_user *u = ud;
    int rc = bt_db_query(db, u->rq->arena, &u->rows,
                         "SELECT id, username, email, role, is_active, created_at"
                         " FROM yunshui_users WHERE id = $1",
                         BT_ARGS(bt_text(user_id)), err);

    if (rc != BT_OK)
        return rc;
    if (u->rows->nrows == 0)
        return bad_refresh(u->rq, err, "INVALID_CREDENTIALS", AUTH_BAD_REFRESH);
    if (!bt_rows_bool(u->rows, 0, 4, false))
        return bad_refresh(u->rq, err, "INVALID_CREDENTIALS", AUTH_DISABLED);
    return BT_OK;
}

int yunshui_refresh(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_db *db = bt_req_db(rq, err);
    struct refresh_user u = {.rq = rq};
    struct bt_session_grant g;
    char *token;
    int rc;

    if (!db)
        return err->code;
    /* rotation with re-use detection: the core spends the token and issues its successor in
     * one transaction, or revokes the whole family when a spent token comes back */
    rc = bt_session_refresh(yunshui_sessions(rq), db, rq->arena, bt_req_str(rq, "refreshToken"),
                            refresh_user_check, &u, &g, err);
    if (rc == BT_EAUTH) {
        switch (g.outcome) {
        case BT_SESSION_REFUSED: return rc; /* refresh_user_check worded it */
        case BT_SESSION_EXPIRED: return bad_refresh(rq, err, "TOKEN_EXPIRED", AUTH_EXPIRED_REFRESH);
        case BT_SESSION_REVOKED: return bad_refresh(rq, err, "INVALID_CREDENTIALS", AUTH_REVOKED);
        case BT_SESSION_REUSED:
            bt_log_warn("refresh token re-used, session revoked", "service", "yunshui", "user",
                        g.user_id, NULL);
            return bad_refresh(rq, err, "INVALID_CREDENTIALS", AUTH_REVOKED);
        default: return bad_refresh(rq, err, "INVALID_CREDENTIALS", AUTH_BAD_REFRESH);
        }
    }
    if (rc == BT_OK)
        rc = access_token(rq, g.user_id, bt_rows_text(u.rows, 0, 1), bt_rows_text(u.rows, 0, 3),
                          g.sid, &token, err);
    if (rc != BT_OK)
        return rc;
    return yunshui_ok(
        rs, 200,
        json_pack("{s:s,s:s,s:o}", "token", token, "refreshToken", g.refresh_token, "user",
                  login_user(g.user_id, bt_rows_text(u.rows, 0, 1), bt_rows_text(u.rows, 0, 2),
                             bt_rows_text(u.rows, 0, 3), bt_rows_text(u.rows, 0, 5))),
        NULL);
}

/* ---- logout, me, password ---- */

int yunshui_logout(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const struct yunshui_principal *me = yunshui_me(rq);
    struct bt_db *db = bt_req_db(rq, err);
    int rc;

    if (!db)
        return err->code;
    rc = bt_session_revoke(yunshui_sessions(rq), db, rq->arena, me->sid, "logout", NULL, err);
    if (rc != BT_OK)
        return rc;
    /* An optional {"refreshToken"} body: the route parses no body (logout works without
     * one), so read it here and ignore anything unreadable. Only the caller's own sessions
     * can be ended this way. */
    if (rq->body && rq->body_len > 0) {
        json_t *j = bt_json_own(rq->arena, bt_json_parse(rq->body, rq->body_len, NULL));
        const char *tok = json_string_value(json_object_get(j, "refreshToken"));
        if (tok && *tok) {
            rc = bt_session_revoke_token(yunshui_sessions(rq), db, rq->arena, tok, me->user_id,
                                         "logout", NULL, err);
            if (rc != BT_OK)
                return rc;
        }
    }
    return yunshui_ok(rs, 200, NULL, "登出成功");
}

int yunshui_me_get(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_db *db = bt_req_db(rq, err);
    struct bt_rows *rows;
    int rc;

    if (!db)
        return err->code;
    rc = bt_db_query(db, rq->arena, &rows,
                     "SELECT " YUNSHUI_USER_COLUMNS " FROM yunshui_users WHERE id = $1",
                     BT_ARGS(bt_text(yunshui_me(rq)->user_id)), err);
    if (rc != BT_OK)
        return rc;
    if (rows->nrows == 0)
        return yunshui_fail(rq, err, BT_ENOTFOUND, "RESOURCE_NOT_FOUND", "用戶不存在", NULL);
    return yunshui_ok(rs, 200, yunshui_user_json(rows, 0), NULL);
}

int yunshui_password_change(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const struct yunshui_principal *me = yunshui_me(rq);
    /* the login's account key: a stolen access token is no way around the login's lock-out
     * to guess the password here */
    const char *key = yunshui_fold(rq->arena, me->username);
    struct bt_db *db = bt_req_db(rq, err);
    const char *fresh;
    struct bt_rows *rows;
    int rc;

    if (!db)
        return err->code;
    rc = bt_db_query(db, rq->arena, &rows, "SELECT password_hash FROM yunshui_users WHERE id = $1",
                     BT_ARGS(bt_text(me->user_id)), err);
    if (rc != BT_OK)
        return rc;
    if (rows->nrows == 0)
        return yunshui_fail(rq, err, BT_ENOTFOUND, "RESOURCE_NOT_FOUND", "用戶不存在", NULL);
    rc = login_throttle(rq, rs, key, err);
    if (rc != BT_OK)
        return rc;
    /* 422, not 401: the access token is fine, and a 401 would make the app log out */
    if (bt_password_verify(bt_req_str(rq, "currentPassword"), bt_rows_text(rows, 0, 0)) != BT_OK) {
        bt_login_failed(rq, key);
        return yunshui_fail(rq, err, BT_EINVAL, "VALIDATION_ERROR", "目前密碼不正確",
                            json_pack("{s:s}", "currentPassword", "目前密碼不正確"));
    }
    bt_login_succeeded(rq, key);
    fresh = yunshui_password_hash(rq->arena, bt_req_str(rq, "newPassword"), err);
    if (!fresh)
        return err->code;
    /* the new password and the end of every other session (a thief's included) together */
    rc = bt_db_begin(db, err);
    if (rc == BT_OK)
        rc = bt_db_exec(
            db, NULL, "UPDATE yunshui_users SET password_hash = $1, updated_at = $2 WHERE id = $3",
            BT_ARGS(bt_text(fresh), bt_text(yunshui_now(rq->arena)), bt_text(me->user_id)), err);
    if (rc == BT_OK)
        rc = bt_session_revoke_user(yunshui_sessions(rq), db, rq->arena, me->user_id, me->sid,
                                    "password", NULL, err);
    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc != BT_OK)
        return rc;
    return yunshui_ok(rs, 200, NULL, "密碼已更新");
}

/* ---- bearer check ---- */

static int bad_token(struct bt_req *rq, struct bt_err *err, const char *msg)
{
    return yunshui_fail(rq, err, BT_EAUTH, "INVALID_CREDENTIALS", msg, NULL);
}

int yunshui_token_check(struct bt_req *rq, const char *token, struct yunshui_principal **out,
                        struct bt_err *err)
{
    struct bt_err e;
    json_t *j_claims = NULL;
    const char *sub, *sid, *jti;
    enum bt_session_outcome why;
    struct yunshui_principal *p;
    struct bt_db_read ahead;
    size_t nahead;
    struct bt_rows *rows;
    struct bt_db *db;
    int rc;

    bt_err_clear(&e);
    if (bt_jwt_verify(rq->arena, token, yunshui_state(rq)->jwt_secret, bt_now_unix(), &j_claims,
                      &e) != BT_OK) {
        if (!strcmp(e.app_code, "TOKEN_EXPIRED"))
            return yunshui_fail(rq, err, BT_EAUTH, "TOKEN_EXPIRED", AUTH_EXPIRED, NULL);
        return bad_token(rq, err, AUTH_BAD_TOKEN);
    }
    sub = json_string_value(json_object_get(j_claims, "sub"));
    sid = json_string_value(json_object_get(j_claims, "sid"));
    jti = json_string_value(json_object_get(j_claims, "jti"));
    /* every token we issue has exp; one without it would never expire */
    if (!sub || !sid || !json_is_integer(json_object_get(j_claims, "exp")))
        return bad_token(rq, err, AUTH_BAD_TOKEN);
    db = bt_req_db(rq, err);
    if (!db)
        return err->code;
    /* one statement: the session must be alive (logout, re-use, password change and
     * disabling revoke it) and the token's own user's, and its user must exist and be
     * active; the role is read here, so a role change or a disabled account applies to the
     * next request (columns: USER_CHECK_COLUMNS). The route's first read, when known, goes
     * with it: one round trip on PostgreSQL for such a request. */
    nahead = yunshui_read_ahead(rq, &ahead) ? 1 : 0;
    rc = bt_session_alive_user(yunshui_sessions(rq), db, rq->arena, sid, sub, &rows, &ahead, nahead,
                               &why, err);
    if (rc == BT_EAUTH)
        return bad_token(rq, err, why == BT_SESSION_REVOKED ? AUTH_REVOKED : AUTH_BAD_TOKEN);
    if (rc != BT_OK)
        return rc;
    if (!bt_rows_bool(rows, 0, 2, false))
        return bad_token(rq, err, AUTH_DISABLED);
    p = bt_arena_alloc(rq->arena, sizeof(*p));
    p->user_id = bt_arena_strdup(rq->arena, sub);
    p->username = bt_rows_text(rows, 0, 0);
    p->role = bt_rows_text(rows, 0, 1);
    p->jti = jti ? bt_arena_strdup(rq->arena, jti) : "";
    p->sid = bt_arena_strdup(rq->arena, sid);
    p->admin = !strcmp(p->role, "ADMIN");
    p->ahead = nahead ? ahead.rows : NULL;
    *out = p;
    return BT_OK;
}

/* ---- start-up ---- */

/* The rules for the password of the first ADMIN (yunshui.admin_password), on an empty
 * database: required in production, at least 8 characters, not the documented default there. */
static int admin_seed_check(bool production, const char *pw, struct bt_err *err)
{
    if (!pw && production)
        return bt_fail(err, BT_EUNAVAILABLE, "yunshui.admin_password",
                       "yunshui.admin_password must be set to create the first ADMIN account in "
                       "production");
    if (pw && (strlen(pw) < YUNSHUI_PASSWORD_MIN ||
               (production && !strcmp(pw, AUTH_ADMIN_DEFAULT_PASSWORD))))
        return bt_fail(err, BT_EUNAVAILABLE, "yunshui.admin_password",
                       "yunshui.admin_password must have at least 8 characters and not be the "
                       "documented default in production");
    return BT_OK;
}

static int seed_admin(struct bt_app_ctx *ctx, struct bt_db *db, struct bt_arena *a,
                      struct bt_err *err)
{
    bool production = bt_app_production(ctx);
    const char *pw = bt_app_setting(ctx, "admin_password", NULL);
    const char *hash, *now = yunshui_now(a);
    int64_t n = 0;
    int rc;

    rc = bt_db_query_i64(db, &n, "SELECT COUNT(*) FROM yunshui_users", BT_NOARGS, err);
    if (rc != BT_OK || n > 0)
        return rc;
    rc = admin_seed_check(production, pw, err);
    if (rc != BT_OK)
        return rc;
    hash = yunshui_password_hash(a, pw ? pw : AUTH_ADMIN_DEFAULT_PASSWORD, err);
    if (!hash)
        return err->code;
    /* two processes starting on one empty database: the second insert does nothing */
    rc = bt_db_exec(db, NULL,
                    "INSERT INTO yunshui_users (id, username, username_key, email, password_hash,"
                    " role, is_active, created_at, updated_at)"
                    " VALUES ($1, $2, $3, $4, $5, 'ADMIN', TRUE, $6, $6) ON CONFLICT DO NOTHING",
                    BT_ARGS(bt_text(yunshui_uuid(a)), bt_text(AUTH_ADMIN_USERNAME),
                            bt_text(AUTH_ADMIN_USERNAME), bt_text(AUTH_ADMIN_EMAIL), bt_text(hash),
                            bt_text(now)),
                    err);
    if (rc == BT_OK)
        bt_log_info("created the first ADMIN account", "service", "yunshui", "username",
                    AUTH_ADMIN_USERNAME, "password",
                    pw ? "from yunshui.admin_password" : "the development default", NULL);
    return rc;
}

/* Production must not run with an ADMIN whose password is still the documented one. */
static int check_default_admins(struct bt_db *db, struct bt_arena *a, struct bt_err *err)
{
    struct bt_rows *rows;
    int rc = bt_db_query(db, a, &rows,
                         "SELECT username, password_hash FROM yunshui_users WHERE role = 'ADMIN'",
                         BT_NOARGS, err);

    if (rc != BT_OK)
        return rc;
    for (size_t i = 0; i < rows->nrows; i++)
        if (bt_password_verify(AUTH_ADMIN_DEFAULT_PASSWORD, bt_rows_text(rows, i, 1)) == BT_OK)
            return bt_fail(err, BT_EUNAVAILABLE, NULL,
                           "yunshui: ADMIN account %s still has the default password; change it "
                           "(PUT /v1/auth/password or bento user passwd yunshui %s) before "
                           "running in production",
                           bt_rows_text(rows, i, 0), bt_rows_text(rows, i, 0));
    return BT_OK;
}

int yunshui_session_store_init(struct bt_session_store *st, int64_t ttl_s, struct bt_err *err)
{
    int rc = bt_session_store_init(st, "yunshui_sessions", "yunshui_refresh_tokens", ttl_s, err);

    return rc == BT_OK ? bt_session_store_users(st, "yunshui_users", USER_CHECK_COLUMNS, err) : rc;
}

int yunshui_auth_init(struct bt_app_ctx *ctx, struct yunshui_state *st, struct bt_err *err)
{
    bool production = bt_app_production(ctx);
    struct bt_arena *a;
    struct bt_db *db;
    int rc;

    rc = bt_secret_check("yunshui.jwt_secret", st->jwt_secret, AUTH_DEV_SECRET, production, err);
    if (rc != BT_OK)
        return rc;
    if (!st->jwt_secret || !st->jwt_secret[0]) {
        st->jwt_secret = AUTH_DEV_SECRET;
        bt_log_warn("yunshui.jwt_secret is not set: signing tokens with the development key",
                    "service", "yunshui", NULL);
    }
    /* the tables of 0001_users.sql; refresh tokens live refresh_ttl_s each */
    rc = yunshui_session_store_init(&st->sessions, st->refresh_ttl_s, err);
    if (rc != BT_OK)
        return rc;
    if (!ctx->pool)
        return BT_OK;
    db = bt_dbpool_get(ctx->pool, ctx->config->db_timeout_ms, err);
    if (!db)
        return err->code;
    a = bt_arena_new();
    rc = seed_admin(ctx, db, a, err);
    if (rc == BT_OK && production)
        rc = check_default_admins(db, a, err);
    bt_dbpool_put(ctx->pool, db);
    bt_arena_free(a);
    return rc;
}

/* bento check: what init would refuse, without seeding or changing anything. */
int yunshui_check(struct bt_app_ctx *ctx, struct bt_db *db, struct bt_err *err)
{
    bool production = bt_app_production(ctx);
    struct bt_arena *a;
    int64_t n = 0;
    int rc;

    rc = bt_secret_check("yunshui.jwt_secret", bt_app_setting(ctx, "jwt_secret", NULL),
                         AUTH_DEV_SECRET, production, err);
    if (rc != BT_OK || !db)
        return rc;
    rc = bt_db_query_i64(db, &n, "SELECT COUNT(*) FROM yunshui_users", BT_NOARGS, err);
    if (rc == BT_OK && n == 0)
        rc = admin_seed_check(production, bt_app_setting(ctx, "admin_password", NULL), err);
    if (rc != BT_OK || !production)
        return rc;
    a = bt_arena_new();
    rc = check_default_admins(db, a, err);
    bt_arena_free(a);
    return rc;
}
