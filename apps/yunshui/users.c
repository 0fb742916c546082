/* SPDX-License-Identifier: MIT
 * users.c - user administration for ADMIN (note yunshui.md "Users and auth": list, create,
 * update, disable), under /v1/users in the document's envelope and pagination.
 * Owns: the user JSON, username/e-mail rules and folding, the users SQL of these routes.
 * Must not: return or log a password hash; delete a user row (orders point at users);
 * let an ADMIN demote or disable itself (so at least one active ADMIN always remains).
 */
#include <string.h>

#include "accounts.h"

#define USERS_NOT_FOUND "用戶不存在"

/* ---- schemas ---- */

static const char *const users_roles[] = {"ADMIN", "USER", NULL};

static const struct bt_field users_list_q_fields[] = {
    YUNSHUI_PAGE_FIELDS,
    {.name = "search", .type = BT_T_STR, .max_len = 100, .desc = "搜尋用戶名稱或電子郵件"},
    {.name = "role", .type = BT_T_ENUM, .one_of = users_roles, .desc = "角色篩選 (ADMIN, USER)"},
    {.name = "isActive", .type = BT_T_BOOL, .desc = "啟用狀態篩選"},
    BT_FIELD_END,
};

const struct bt_schema yunshui_user_list_q = {.name = "UserListQuery",
                                              .fields = users_list_q_fields};

static const struct bt_field users_create_fields[] = {
    {.name = "username",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 50,
     .desc = "用戶名稱（唯一，不分大小寫，不可含空白）"},
    {.name = "email",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .min_len = 3,
     .max_len = 100,
     .desc = "電子郵件（唯一）"},
    {.name = "password",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .min_len = YUNSHUI_PASSWORD_MIN,
     .max_len = YUNSHUI_PASSWORD_MAX,
     .desc = "密碼（至少 8 個字元）"},
    {.name = "role", .type = BT_T_ENUM, .one_of = users_roles, .desc = "角色，預設 USER"},
    {.name = "isActive", .type = BT_T_BOOL, .desc = "是否啟用，預設 true"},
    BT_FIELD_END,
};

const struct bt_schema yunshui_user_in = {.name = "UserCreate", .fields = users_create_fields};

/* The username never changes (it is how people log in); other fields are optional. */
static const struct bt_field users_update_fields[] = {
    {.name = "email",
     .type = BT_T_STR,
     .flags = BT_F_NONEMPTY,
     .min_len = 3,
     .max_len = 100,
     .desc = "電子郵件（唯一）"},
    {.name = "role", .type = BT_T_ENUM, .one_of = users_roles, .desc = "角色"},
    {.name = "password",
     .type = BT_T_STR,
     .min_len = YUNSHUI_PASSWORD_MIN,
     .max_len = YUNSHUI_PASSWORD_MAX,
     .desc = "新密碼（至少 8 個字元；該用戶的登入狀態全部失效）"},
    {.name = "isActive", .type = BT_T_BOOL, .desc = "是否啟用（停用即登出該用戶）"},
    BT_FIELD_END,
};

const struct bt_schema yunshui_user_update_in = {.name = "UserUpdate",
                                                 .fields = users_update_fields};

/* ---- shared with auth.c ---- */

json_t *yunshui_user_json(const struct bt_rows *rows, size_t r)
{
    return json_pack("{s:s?,s:s?,s:s?,s:s?,s:b,s:s?,s:s?}", "id", bt_rows_text(rows, r, 0),
                     "username", bt_rows_text(rows, r, 1), "email", bt_rows_text(rows, r, 2),
                     "role", bt_rows_text(rows, r, 3), "isActive", bt_rows_bool(rows, r, 4, false),
                     "createdAt", bt_rows_text(rows, r, 5), "updatedAt", bt_rows_text(rows, r, 6));
}

char *yunshui_fold(struct bt_arena *a, const char *s)
{
    char *out = bt_arena_strdup(a, s ? s : "");

    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

/* ---- validation beyond the schema ---- */

/* Usernames: no spaces or control characters (people type them on a phone keyboard). */
static bool username_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* A practical address check: printable ASCII, one '@', a non-empty local part, a domain
 * of dot-separated non-empty labels with at least one dot and no leading or trailing '-'. */
static bool email_ok(const char *s)
{
    const char *at = strchr(s, '@');
    const char *label;
    bool dot = false;

    if (!at || at == s || strchr(at + 1, '@'))
        return false;
    for (const char *p = s; p < at; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("()<>[]\\,;:\"", *p))
            return false;
    label = at + 1;
    for (const char *p = at + 1;; p++) {
        if (*p == '.' || *p == '\0') {
            if (p == label || *label == '-' || p[-1] == '-')
                return false;
            if (*p == '\0')
                break;
            dot = true;
            label = p + 1;
            continue;
        }
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return false;
    }
    return dot;
}

static int invalid(struct bt_req *rq, struct bt_err *err, const char *field, const char *msg)
{
    return yunshui_fail(rq, err, BT_EINVAL, "VALIDATION_ERROR", "資料驗證錯誤",
                        json_pack("{s:s}", field, msg));
}

static int duplicate(struct bt_req *rq, struct bt_err *err, const char *field, const char *msg)
{
    return yunshui_fail(rq, err, BT_ECONFLICT, "DUPLICATE_RESOURCE", msg,
                        field ? json_pack("{s:s}", field, msg) : NULL);
}

/* 409 naming the field another user already has (username key or e-mail), or BT_OK. */
static int check_unique(struct bt_req *rq, struct bt_db *db, const char *self_id,
                        const char *username_key, const char *email, struct bt_err *err)
{
    struct bt_rows *rows;
    int rc = bt_db_query(db, rq->arena, &rows,
                         "SELECT username_key, email FROM yunshui_users"
                         " WHERE (username_key = CAST($1 AS TEXT) OR email = CAST($2 AS TEXT))"
                         " AND (CAST($3 AS TEXT) IS NULL OR id <> CAST($3 AS TEXT))",
                         BT_ARGS(bt_text(username_key), bt_text(email), bt_text(self_id)), err);

    if (rc != BT_OK)
        return rc;
    for (size_t i = 0; i < rows->nrows; i++) {
        if (username_key && !strcmp(bt_rows_text(rows, i, 0), username_key))
            return duplicate(rq, err, "username", "用戶名稱已存在");
    }
    if (rows->nrows > 0)
        return duplicate(rq, err, "email", "電子郵件已被使用");
    return BT_OK;
}

static int user_fetch(struct bt_req *rq, struct bt_db *db, const char *id, struct bt_rows **rows,
                      struct bt_err *err)
{
    int rc = bt_db_query(db, rq->arena, rows,
                         "SELECT " YUNSHUI_USER_COLUMNS " FROM yunshui_users WHERE id = $1",
                         BT_ARGS(bt_text(id)), err);

    if (rc == BT_OK && (*rows)->nrows == 0)
        return yunshui_fail(rq, err, BT_ENOTFOUND, "RESOURCE_NOT_FOUND", USERS_NOT_FOUND, NULL);
    return rc;
}

/* ---- handlers ---- */

int yunshui_user_list(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    int64_t page = bt_req_qint(rq, "page", 1), limit = bt_req_qint(rq, "limit", 20), total = 0;
    const char *search = bt_req_qstr(rq, "search");
    const char *role = bt_req_qstr(rq, "role");
    struct bt_val args[6];
    size_t n = 0;
    struct bt_buf where;
    struct bt_db *db = bt_req_db(rq, err);
    struct bt_rows *rows;
    json_t *j_users;
    int rc;

    if (!db)
        return err->code;
    /* optional filters appended as fixed SQL fragments; every value is bound */
    bt_buf_init(&where, rq->arena, 256);
    bt_buf_adds(&where, " WHERE 1 = 1");
    if (search && *search) {
        args[n++] = bt_text(bt_db_like_contains(rq->arena, search));
        bt_buf_addf(&where,
                    " AND (lower(username) LIKE lower($%zu) ESCAPE '\\'"
                    " OR lower(email) LIKE lower($%zu) ESCAPE '\\')",
                    n, n);
    }
    if (role) {
        args[n++] = bt_text(role);
        bt_buf_addf(&where, " AND role = $%zu", n);
    }
    if (bt_req_qhas(rq, "isActive")) {
        args[n++] = bt_bool(bt_req_qbool(rq, "isActive", true));
        bt_buf_addf(&where, " AND is_active = $%zu", n);
    }
    rc = bt_db_query_i64(
        db, &total, bt_arena_printf(rq->arena, "SELECT COUNT(*) FROM yunshui_users%s", where.p),
        args, n, err);
    if (rc != BT_OK)
        return rc;
    args[n++] = bt_i64(limit);
    args[n++] = bt_i64((page - 1) * limit);
    rc = bt_db_query(db, rq->arena, &rows,
                     bt_arena_printf(rq->arena,
                                     "SELECT " YUNSHUI_USER_COLUMNS " FROM yunshui_users%s"
                                     " ORDER BY username_key LIMIT $%zu OFFSET $%zu",
                                     where.p, n - 1, n),
                     args, n, err);
    if (rc != BT_OK)
        return rc;
    j_users = json_array();
    for (size_t i = 0; i < rows->nrows; i++)
        json_array_append_new(j_users, yunshui_user_json(rows, i));
    return yunshui_ok(rs, 200,
                      json_pack("{s:o,s:o}", "users", j_users, "pagination",
                                yunshui_pagination(page, limit, total)),
                      NULL);
}

int yunshui_user_create(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const char *username = bt_req_str(rq, "username");
    const char *email = yunshui_fold(rq->arena, bt_req_str(rq, "email"));
    const char *role = bt_req_str(rq, "role");
    const char *id = yunshui_uuid(rq->arena), *now = yunshui_now(rq->arena);
    const char *key = yunshui_fold(rq->arena, username);
    const char *hash;
    struct bt_db *db = bt_req_db(rq, err);
    struct bt_rows *rows;
    int rc;

    if (!db)
        return err->code;
    if (!username_ok(username))
        return invalid(rq, err, "username", "用戶名稱不可包含空白或控制字元");
    if (!email_ok(email))
        return invalid(rq, err, "email", "電子郵件格式不正確");
    rc = check_unique(rq, db, NULL, key, email, err);
    if (rc != BT_OK)
        return rc;
    hash = yunshui_password_hash(rq->arena, bt_req_str(rq, "password"), err);
    if (!hash)
        return err->code;
    rc = bt_db_exec(db, NULL,
                    "INSERT INTO yunshui_users (id, username, username_key, email, password_hash,"
                    " role, is_active, created_at, updated_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                    BT_ARGS(bt_text(id), bt_text(username), bt_text(key), bt_text(email),
                            bt_text(hash), bt_text(role ? role : "USER"),
                            bt_bool(bt_req_bool(rq, "isActive", true)), bt_text(now)),
                    err);
    if (rc == BT_ECONFLICT) /* created by a concurrent request since the check */
        return duplicate(rq, err, NULL, "用戶名稱或電子郵件已存在");
    if (rc == BT_OK)
        rc = user_fetch(rq, db, id, &rows, err);
    if (rc != BT_OK)
        return rc;
    return yunshui_ok(rs, 201, yunshui_user_json(rows, 0), "用戶已建立");
}

int yunshui_user_get(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_db *db = bt_req_db(rq, err);
    struct bt_rows *rows;
    int rc;

    if (!db)
        return err->code;
    rc = user_fetch(rq, db, bt_req_param(rq, "id"), &rows, err);
    if (rc != BT_OK)
        return rc;
    return yunshui_ok(rs, 200, yunshui_user_json(rows, 0), NULL);
}

int yunshui_user_update(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const struct yunshui_principal *me = yunshui_me(rq);
    const char *id = bt_req_param(rq, "id");
    const char *email = bt_req_str(rq, "email");
    const char *role = bt_req_str(rq, "role");
    const char *password = bt_req_str(rq, "password");
    bool has_active = bt_req_has(rq, "isActive");
    bool active = bt_req_bool(rq, "isActive", true);
    const char *hash = NULL, *revoke = NULL;
    struct bt_val args[7];
    size_t n = 0;
    struct bt_buf sql;
    struct bt_db *db = bt_req_db(rq, err);
    struct bt_rows *rows;
    int rc;

    if (!db)
        return err->code;
    rc = user_fetch(rq, db, id, &rows, err);
    if (rc != BT_OK)
        return rc;
    id = bt_rows_text(rows, 0, 0);
    if (!strcmp(id, me->user_id)) {
        if (role && strcmp(role, "ADMIN") != 0)
            return invalid(rq, err, "role", "不可變更自己的角色");
        if (has_active && !active)
            return invalid(rq, err, "isActive", "不可停用自己的帳號");
    }
    if (email) {
        email = yunshui_fold(rq->arena, email);
        if (!email_ok(email))
            return invalid(rq, err, "email", "電子郵件格式不正確");
        rc = check_unique(rq, db, id, NULL, email, err);
        if (rc != BT_OK)
            return rc;
    }
    if (password) {
        hash = yunshui_password_hash(rq->arena, password, err);
        if (!hash)
            return err->code;
        revoke = "reset";
    }
    if (has_active && !active)
        revoke = "disabled";
    bt_buf_init(&sql, rq->arena, 256);
    args[n++] = bt_text(yunshui_now(rq->arena));
    bt_buf_adds(&sql, "UPDATE yunshui_users SET updated_at = $1");
    if (email) {
        args[n++] = bt_text(email);
        bt_buf_addf(&sql, ", email = $%zu", n);
    }
    if (role) {
        args[n++] = bt_text(role);
        bt_buf_addf(&sql, ", role = $%zu", n);
    }
    if (hash) {
        args[n++] = bt_text(hash);
        bt_buf_addf(&sql, ", password_hash = $%zu", n);
    }
    if (has_active) {
        args[n++] = bt_bool(active);
        bt_buf_addf(&sql, ", is_active = $%zu", n);
    }
    args[n++] = bt_text(id);
    bt_buf_addf(&sql, " WHERE id = $%zu", n);
    /* the change and the end of the user's sessions together (a new password or disabling
     * logs the user out everywhere; a role change applies on the next request anyway) */
    rc = bt_db_begin(db, err);
    if (rc == BT_OK)
        rc = bt_db_exec(db, NULL, sql.p, args, n, err);
    if (rc == BT_OK && revoke)
        rc = bt_session_revoke_user(yunshui_sessions(rq), db, rq->arena, id, NULL, revoke, NULL,
                                    err);
    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc == BT_ECONFLICT) {
        bt_db_rollback(db);
        return duplicate(rq, err, "email", "電子郵件已被使用");
    }
    if (rc == BT_OK)
        rc = user_fetch(rq, db, id, &rows, err);
    if (rc != BT_OK)
        return rc;
    return yunshui_ok(rs, 200, yunshui_user_json(rows, 0), "用戶已更新");
}

int yunshui_user_delete(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const char *id = bt_req_param(rq, "id");
    struct bt_db *db = bt_req_db(rq, err);
    struct bt_rows *rows;
    int rc;

    if (!db)
        return err->code;
    rc = user_fetch(rq, db, id, &rows, err);
    if (rc != BT_OK)
        return rc;
    id = bt_rows_text(rows, 0, 0);
    if (!strcmp(id, yunshui_me(rq)->user_id))
        return invalid(rq, err, "id", "不可停用自己的帳號");
    rc = bt_db_begin(db, err);
    if (rc == BT_OK)
        rc = bt_db_exec(db, NULL,
                        "UPDATE yunshui_users SET is_active = FALSE, updated_at = $1"
                        " WHERE id = $2 AND is_active = TRUE",
                        BT_ARGS(bt_text(yunshui_now(rq->arena)), bt_text(id)), err);
    if (rc == BT_OK)
        rc = bt_session_revoke_user(yunshui_sessions(rq), db, rq->arena, id, NULL, "disabled", NULL,
                                    err);
    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc == BT_OK)
        rc = user_fetch(rq, db, id, &rows, err);
    if (rc != BT_OK)
        return rc;
    return yunshui_ok(rs, 200, yunshui_user_json(rows, 0), "用戶已停用");
}

/* ---- the operator CLI (bento user ... yunshui) ---- */

/* The roles `bento user add` accepts; the first is the default, as POST /v1/users's. */
static const char *const cli_roles[] = {"USER", "ADMIN", NULL};

/* Code points of UTF-8 text (the schema's min_len/max_len count the same way). */
static size_t cli_chars(const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xc0) != 0x80;
    return n;
}

static int cli_password_ok(struct bt_app_ctx *ctx, const char *pw, struct bt_err *err)
{
    size_t n = pw ? cli_chars(pw) : 0;

    if (n < YUNSHUI_PASSWORD_MIN || n > YUNSHUI_PASSWORD_MAX)
        return bt_fail(err, BT_EINVAL, "password", "the password must have %d to %d characters",
                       YUNSHUI_PASSWORD_MIN, YUNSHUI_PASSWORD_MAX);
    if (bt_app_production(ctx) && !strcmp(pw, YUNSHUI_ADMIN_DEFAULT_PASSWORD))
        return bt_fail(err, BT_EINVAL, "password",
                       "the documented default password is refused in production");
    return BT_OK;
}

/* The id of the account named username (case-insensitive, as login), or BT_ENOTFOUND. */
static int cli_user_id(struct bt_db *db, struct bt_arena *a, const char *username, const char **id,
                       struct bt_err *err)
{
    struct bt_rows *rows;
    int rc = bt_db_query(db, a, &rows, "SELECT id FROM yunshui_users WHERE username_key = $1",
                         BT_ARGS(bt_text(yunshui_fold(a, username))), err);

    if (rc != BT_OK)
        return rc;
    if (rows->nrows == 0)
        return bt_fail(err, BT_ENOTFOUND, "username", "no yunshui user %s", username);
    *id = bt_rows_text(rows, 0, 0);
    return BT_OK;
}

static int cli_list(struct bt_app_ctx *ctx, struct bt_db *db, struct bt_arena *a,
                    struct bt_rows **out, struct bt_err *err)
{
    (void)ctx;
    return bt_db_query(db, a, out,
                       "SELECT username, email, role, is_active AS active, created_at AS created"
                       " FROM yunshui_users ORDER BY username_key",
                       BT_NOARGS, err);
}

static int cli_add(struct bt_app_ctx *ctx, struct bt_db *db, struct bt_arena *a,
                   const struct bt_user_new *u, struct bt_err *err)
{
    const char *role = u->role ? u->role : cli_roles[0];
    const char *email = u->email ? yunshui_fold(a, u->email) : NULL;
    const char *hash, *now = yunshui_now(a);
    size_t ulen = u->username ? cli_chars(u->username) : 0;
    bool role_ok = false;
    int rc;

    if (ulen < 1 || ulen > 50 || !username_ok(u->username))
        return bt_fail(err, BT_EINVAL, "username",
                       "the username must have 1 to 50 characters, without spaces or control "
                       "characters");
    if (!email || cli_chars(email) < 3 || cli_chars(email) > 100 || !email_ok(email))
        return bt_fail(err, BT_EINVAL, "email",
                       "yunshui accounts need a valid e-mail address (--email ADDRESS)");
    for (size_t i = 0; cli_roles[i]; i++)
        role_ok |= !strcmp(cli_roles[i], role);
    if (!role_ok)
        return bt_fail(err, BT_EINVAL, "role", "the role must be ADMIN or USER");
    rc = cli_password_ok(ctx, u->password, err);
    if (rc != BT_OK)
        return rc;
    hash = yunshui_password_hash(a, u->password, err);
    if (!hash)
        return err->code;
    rc = bt_db_exec(db, NULL,
                    "INSERT INTO yunshui_users (id, username, username_key, email, password_hash,"
                    " role, is_active, created_at, updated_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $7)",
                    BT_ARGS(bt_text(yunshui_uuid(a)), bt_text(u->username),
                            bt_text(yunshui_fold(a, u->username)), bt_text(email), bt_text(hash),
                            bt_text(role), bt_text(now)),
                    err);
    if (rc == BT_ECONFLICT)
        return bt_fail(err, BT_ECONFLICT, "username",
                       "a yunshui user with this username or e-mail address exists");
    return rc;
}

static int cli_passwd(struct bt_app_ctx *ctx, struct bt_db *db, struct bt_arena *a,
                      const char *username, const char *password, struct bt_err *err)
{
    struct bt_session_store st;
    const char *id = NULL, *hash;
    int rc = cli_password_ok(ctx, password, err);

    if (rc == BT_OK)
        rc = yunshui_session_store_init(&st, 30 * 24 * 3600, err);
    if (rc == BT_OK)
        rc = cli_user_id(db, a, username, &id, err);
    if (rc != BT_OK)
        return rc;
    hash = yunshui_password_hash(a, password, err);
    if (!hash)
        return err->code;
    /* as an ADMIN's reset through PUT /v1/users/:id: every session of the user ends */
    rc = bt_db_begin(db, err);
    if (rc == BT_OK)
        rc = bt_db_exec(
            db, NULL, "UPDATE yunshui_users SET password_hash = $1, updated_at = $2 WHERE id = $3",
            BT_ARGS(bt_text(hash), bt_text(yunshui_now(a)), bt_text(id)), err);
    if (rc == BT_OK)
        rc = bt_session_revoke_user(&st, db, a, id, NULL, "reset", NULL, err);
    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc != BT_OK)
        bt_db_rollback(db);
    return rc;
}

static int cli_set_active(struct bt_app_ctx *ctx, struct bt_db *db, struct bt_arena *a,
                          const char *username, bool active, int64_t *revoked, struct bt_err *err)
{
    struct bt_session_store st;
    const char *id = NULL;
    int rc = yunshui_session_store_init(&st, 30 * 24 * 3600, err);

    (void)ctx;
    if (revoked)
        *revoked = 0;
    if (rc == BT_OK)
        rc = cli_user_id(db, a, username, &id, err);
    if (rc != BT_OK)
        return rc;
    /* as DELETE /v1/users/:id: the flag and the end of every session and refresh token */
    rc = bt_db_begin(db, err);
    if (rc == BT_OK)
        rc = bt_db_exec(db, NULL,
                        "UPDATE yunshui_users SET is_active = $1, updated_at = $2 WHERE id = $3",
                        BT_ARGS(bt_bool(active), bt_text(yunshui_now(a)), bt_text(id)), err);
    if (rc == BT_OK && !active)
        rc = bt_session_revoke_user(&st, db, a, id, NULL, "disabled", revoked, err);
    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc != BT_OK)
        bt_db_rollback(db);
    return rc;
}

const struct bt_app_users yunshui_users_ops = {
    .roles = cli_roles,
    .needs_email = true,
    .list = cli_list,
    .add = cli_add,
    .passwd = cli_passwd,
    .set_active = cli_set_active,
};
