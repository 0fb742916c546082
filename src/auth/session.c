/* SPDX-License-Identifier: MIT
 * session.c - login sessions as refresh-token families (include/bento/session.h).
 * Owns: the session and refresh-token SQL over the app's two tables, rotation with re-use
 *       detection, revocation, the liveness check (alone or with the app's user row, one
 *       statement), housekeeping at login.
 * Must not: splice anything but the table and column names validated by
 *           bt_session_store_init and bt_session_store_users into SQL text; keep or log a
 *           plain refresh token; read the app's other tables (its users table only in the
 *           statement bt_session_store_users builds).
 *
 * Why the exchange is one transaction with a guarded UPDATE: on SQLite bt_db_begin is
 * BEGIN IMMEDIATE, so two exchanges of one token run one after the other and the second sees
 * the token spent. On PostgreSQL (READ COMMITTED) both may read the token unspent; the
 * second's "UPDATE ... WHERE rotated_at IS NULL" then waits for the first's row lock,
 * re-reads the committed row and changes nothing, which is treated as re-use. Either way at
 * most one exchange succeeds.
 */
#include <stdio.h>
#include <string.h>

#include <bento/arena.h>
#include <bento/auth.h>
#include <bento/db.h>
#include <bento/err.h>
#include <bento/session.h>
#include <bento/time.h>

/* Bytes of randomness in a refresh token (43 base64url characters). */
#define SESSION_TOKEN_BYTES 32

/* ---- store ---- */

/* [a-z_][a-z0-9_]*, 1..BT_SESSION_TABLE_MAX bytes: a plain SQL identifier on both engines,
 * never a keyword in practice for app-prefixed names, and nothing that could end one. */
static bool table_name_ok(const char *s)
{
    size_t n;

    if (!s || !*s)
        return false;
    n = strlen(s);
    if (n > BT_SESSION_TABLE_MAX || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
        return false;
    return !(s[0] >= '0' && s[0] <= '9');
}

int bt_session_store_init(struct bt_session_store *st, const char *sessions_table,
                          const char *tokens_table, int64_t refresh_ttl_s, struct bt_err *err)
{
    memset(st, 0, sizeof(*st));
    if (!table_name_ok(sessions_table))
        return bt_fail(err, BT_EINVAL, "sessions_table",
                       "session store: sessions table name must match [a-z_][a-z0-9_]* "
                       "(at most %d bytes)",
                       BT_SESSION_TABLE_MAX);
    if (!table_name_ok(tokens_table))
        return bt_fail(err, BT_EINVAL, "tokens_table",
                       "session store: tokens table name must match [a-z_][a-z0-9_]* "
                       "(at most %d bytes)",
                       BT_SESSION_TABLE_MAX);
    if (!strcmp(sessions_table, tokens_table))
        return bt_fail(err, BT_EINVAL, "tokens_table",
                       "session store: the two tables must be different");
    if (refresh_ttl_s <= 0)
        return bt_fail(err, BT_EINVAL, "refresh_ttl_s",
                       "session store: refresh token lifetime must be positive");
    st->sessions_table = sessions_table;
    st->tokens_table = tokens_table;
    st->refresh_ttl_s = refresh_ttl_s;
    st->checked = true;
    return BT_OK;
}

/* "a, b_2, c": identifiers as table_name_ok takes them, a comma and optional spaces between;
 * each goes into out as "u.<name>", ", "-separated. false when it is not such a list or
 * out (n bytes) is too small. */
static bool user_columns(const char *s, char *out, size_t n, size_t *ncols)
{
    size_t len = 0;

    *ncols = 0;
    if (!s || strlen(s) > BT_SESSION_USER_COLUMNS_MAX)
        return false;
    for (;;) {
        size_t k = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
        int w;
        if (k == 0 || k > BT_SESSION_TABLE_MAX || (s[0] >= '0' && s[0] <= '9'))
            return false;
        w = snprintf(out + len, n - len, "%su.%.*s", *ncols ? ", " : "", (int)k, s);
        if (w < 0 || (size_t)w >= n - len)
            return false;
        len += (size_t)w;
        ++*ncols;
        s += k;
        if (!*s)
            return true;
        if (*s++ != ',')
            return false;
        s += strspn(s, " ");
    }
}

int bt_session_store_users(struct bt_session_store *st, const char *users_table,
                           const char *columns, struct bt_err *err)
{
    char cols[BT_SESSION_ALIVE_SQL_MAX];
    size_t ncols;
    int w;

    if (!st || !st->checked)
        return bt_fail(err, BT_EINTERNAL, NULL,
                       "bt_session_store_users on a store without bt_session_store_init");
    st->alive_user_sql[0] = '\0';
    st->user_ncols = 0;
    if (!table_name_ok(users_table) || !strcmp(users_table, st->sessions_table) ||
        !strcmp(users_table, st->tokens_table))
        return bt_fail(err, BT_EINVAL, "users_table",
                       "session store: users table name must match [a-z_][a-z0-9_]* (at most %d "
                       "bytes) and not be a session table",
                       BT_SESSION_TABLE_MAX);
    if (!user_columns(columns, cols, sizeof(cols), &ncols))
        return bt_fail(err, BT_EINVAL, "columns",
                       "session store: user columns must be a comma-separated list of "
                       "[a-z_][a-z0-9_]* (at most %d bytes)",
                       BT_SESSION_USER_COLUMNS_MAX);
    /* the session's columns first (the check), then u.id (is the user row there?), then the
     * app's; a LEFT JOIN so that a session without its user tells itself apart from none */
    w = snprintf(st->alive_user_sql, sizeof(st->alive_user_sql),
                 "SELECT s.user_id, s.revoked_at, u.id, %s FROM %s s LEFT JOIN %s u"
                 " ON u.id = s.user_id WHERE s.id = $1",
                 cols, st->sessions_table, users_table);
    if (w < 0 || (size_t)w >= sizeof(st->alive_user_sql)) {
        st->alive_user_sql[0] = '\0';
        return bt_fail(err, BT_EINVAL, "columns", "session store: user columns too long");
    }
    st->user_ncols = ncols;
    return BT_OK;
}

/* A store that did not pass bt_session_store_init never reaches SQL. */
static int store_ok(const struct bt_session_store *st, struct bt_err *err)
{
    if (!st || !st->checked)
        return bt_fail(err, BT_EINTERNAL, NULL, "session store used without bt_session_store_init");
    return BT_OK;
}

/* ---- helpers ---- */

/* "2024-01-01T00:00:00.000Z" for unix_us, arena-owned */
static const char *iso_ms(struct bt_arena *a, int64_t unix_us)
{
    char buf[32];

    return bt_arena_strdup(a, bt_time_fmt(unix_us, BT_ISO_MS_Z, buf));
}

static const char *token_hash(struct bt_arena *a, const char *token)
{
    return bt_sha256_hex(a, token, strlen(token));
}

static bool empty(const char *s)
{
    return !s || !*s;
}

/* BT_EAUTH for a credential that does not get its holder in; *outcome (may be NULL) says
 * which. The messages are for logs and tests: apps word their own. */
static int refuse(struct bt_err *err, enum bt_session_outcome o, enum bt_session_outcome *outcome)
{
    const char *msg;

    if (outcome)
        *outcome = o;
    switch (o) {
    case BT_SESSION_EXPIRED: msg = "refresh token expired"; break;
    case BT_SESSION_REVOKED: msg = "session revoked"; break;
    case BT_SESSION_REUSED: msg = "spent refresh token presented again: session revoked"; break;
    default: msg = "unknown refresh token or session"; break;
    }
    bt_fail(err, BT_EAUTH, NULL, "%s", msg);
    if (err)
        snprintf(err->app_code, sizeof(err->app_code), "%s",
                 o == BT_SESSION_EXPIRED ? "TOKEN_EXPIRED" : "INVALID_CREDENTIALS");
    return BT_EAUTH;
}

/* Insert a fresh refresh token of session sid issued at now_us; *token gets it (arena). */
static int token_insert(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                        const char *sid, const char *user_id, int64_t now_us, const char **token,
                        struct bt_err *err)
{
    const char *tok = bt_random_token(a, SESSION_TOKEN_BYTES);

    *token = tok;
    return bt_db_exec(db, NULL,
                      bt_arena_printf(a,
                                      "INSERT INTO %s (token_hash, session_id, user_id,"
                                      " created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                                      st->tokens_table),
                      BT_ARGS(bt_text(token_hash(a, tok)), bt_text(sid), bt_text(user_id),
                              bt_text(iso_ms(a, now_us)),
                              bt_text(iso_ms(a, now_us + st->refresh_ttl_s * 1000000))),
                      err);
}

/* ---- open ---- */

int bt_session_open(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                    const char *user_id, struct bt_session_grant *out, struct bt_err *err)
{
    int64_t now_us = bt_now_unix_us();
    const char *now;
    bool own = !bt_db_in_tx(db);
    char sid[37];
    int rc;

    memset(out, 0, sizeof(*out));
    out->outcome = BT_SESSION_UNKNOWN;
    rc = store_ok(st, err);
    if (rc != BT_OK)
        return rc;
    if (empty(user_id))
        return bt_fail(err, BT_EINVAL, "user_id", "session store: user id is required");
    now = iso_ms(a, now_us);
    bt_uuid_v4(sid);
    rc = own ? bt_db_begin(db, err) : BT_OK;
    /* housekeeping: the user's expired tokens, then the sessions left without any */
    if (rc == BT_OK)
        rc = bt_db_exec(db, NULL,
                        bt_arena_printf(a, "DELETE FROM %s WHERE user_id = $1 AND expires_at < $2",
                                        st->tokens_table),
                        BT_ARGS(bt_text(user_id), bt_text(now)), err);
    if (rc == BT_OK)
        rc = bt_db_exec(db, NULL,
                        bt_arena_printf(a,
                                        "DELETE FROM %s WHERE user_id = $1 AND NOT EXISTS"
                                        " (SELECT 1 FROM %s t WHERE t.session_id = %s.id)",
                                        st->sessions_table, st->tokens_table, st->sessions_table),
                        BT_ARGS(bt_text(user_id)), err);
    if (rc == BT_OK)
        rc = bt_db_exec(db, NULL,
                        bt_arena_printf(a,
                                        "INSERT INTO %s (id, user_id, created_at)"
                                        " VALUES ($1, $2, $3)",
                                        st->sessions_table),
                        BT_ARGS(bt_text(sid), bt_text(user_id), bt_text(now)), err);
    if (rc == BT_OK)
        rc = token_insert(st, db, a, sid, user_id, now_us, &out->refresh_token, err);
    if (rc == BT_OK && own)
        rc = bt_db_commit(db, err);
    if (rc != BT_OK) {
        if (own)
            bt_db_rollback(db);
        out->refresh_token = NULL;
        return rc;
    }
    out->user_id = bt_arena_strdup(a, user_id);
    out->sid = bt_arena_strdup(a, sid);
    out->outcome = BT_SESSION_OK;
    return BT_OK;
}

/* ---- refresh ---- */

/* Columns of the exchange's read. */
enum { R_SID, R_USER, R_EXPIRES, R_ROTATED, R_REVOKED };

int bt_session_refresh(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                       const char *refresh_token, bt_session_check_fn *check, void *ud,
                       struct bt_session_grant *out, struct bt_err *err)
{
    int64_t now_us = bt_now_unix_us(), expires_us = 0, changed = 0;
    const char *hash, *now, *next;
    struct bt_rows *rows;
    int rc;

    memset(out, 0, sizeof(*out));
    out->outcome = BT_SESSION_UNKNOWN;
    rc = store_ok(st, err);
    if (rc != BT_OK)
        return rc;
    if (bt_db_in_tx(db))
        return bt_fail(err, BT_EINTERNAL, NULL,
                       "bt_session_refresh runs its own transaction: none may be open");
    if (empty(refresh_token))
        return refuse(err, BT_SESSION_UNKNOWN, &out->outcome);
    hash = token_hash(a, refresh_token);
    now = iso_ms(a, now_us);
    rc = bt_db_begin(db, err);
    if (rc != BT_OK)
        return rc;
    rc = bt_db_query(db, a, &rows,
                     bt_arena_printf(a,
                                     "SELECT t.session_id, t.user_id, t.expires_at, t.rotated_at,"
                                     " s.revoked_at FROM %s t JOIN %s s ON s.id = t.session_id"
                                     " WHERE t.token_hash = $1",
                                     st->tokens_table, st->sessions_table),
                     BT_ARGS(bt_text(hash)), err);
    if (rc != BT_OK)
        goto fail;
    if (rows->nrows == 0) {
        bt_db_rollback(db);
        return refuse(err, BT_SESSION_UNKNOWN, &out->outcome);
    }
    out->sid = bt_rows_text(rows, 0, R_SID);
    out->user_id = bt_rows_text(rows, 0, R_USER);
    if (!bt_rows_isnull(rows, 0, R_REVOKED)) {
        bt_db_rollback(db);
        return refuse(err, BT_SESSION_REVOKED, &out->outcome);
    }
    /* re-use before expiry: a spent token coming back is theft or replay even when old */
    if (!bt_rows_isnull(rows, 0, R_ROTATED))
        goto reuse;
    if (bt_time_parse(bt_rows_text(rows, 0, R_EXPIRES), &expires_us) != 0 || expires_us <= now_us) {
        bt_db_rollback(db);
        return refuse(err, BT_SESSION_EXPIRED, &out->outcome);
    }
    if (check) {
        rc = check(db, out->user_id, ud, err);
        if (rc != BT_OK) {
            bt_db_rollback(db);
            out->outcome = BT_SESSION_REFUSED;
            return rc;
        }
    }
    rc = bt_db_exec(db, &changed,
                    bt_arena_printf(a,
                                    "UPDATE %s SET rotated_at = $1"
                                    " WHERE token_hash = $2 AND rotated_at IS NULL",
                                    st->tokens_table),
                    BT_ARGS(bt_text(now), bt_text(hash)), err);
    if (rc != BT_OK)
        goto fail;
    if (changed != 1)
        goto reuse; /* a concurrent exchange spent it first (PostgreSQL) */
    rc = token_insert(st, db, a, out->sid, out->user_id, now_us, &next, err);
    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc != BT_OK)
        goto fail;
    out->refresh_token = next;
    out->outcome = BT_SESSION_OK;
    return BT_OK;

reuse:
    /* someone holds a copy of a spent token: end the whole family, the holder of the newest
     * token included, so the thief's successor dies with it */
    rc = bt_db_exec(db, NULL,
                    bt_arena_printf(a,
                                    "UPDATE %s SET revoked_at = $1, revoked_reason = $2"
                                    " WHERE id = $3 AND revoked_at IS NULL",
                                    st->sessions_table),
                    BT_ARGS(bt_text(now), bt_text("reuse"), bt_text(out->sid)), err);
    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc != BT_OK)
        goto fail;
    return refuse(err, BT_SESSION_REUSED, &out->outcome);

fail:
    bt_db_rollback(db);
    out->outcome = BT_SESSION_UNKNOWN;
    return rc;
}

/* ---- liveness ---- */

int bt_session_alive(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                     const char *sid, const char *user_id, enum bt_session_outcome *outcome,
                     struct bt_err *err)
{
    struct bt_rows *rows;
    int rc = store_ok(st, err);

    if (outcome)
        *outcome = BT_SESSION_UNKNOWN;
    if (rc != BT_OK)
        return rc;
    if (empty(sid) || empty(user_id))
        return refuse(err, BT_SESSION_UNKNOWN, outcome);
    rc = bt_db_query(
        db, a, &rows,
        bt_arena_printf(a, "SELECT user_id, revoked_at FROM %s WHERE id = $1", st->sessions_table),
        BT_ARGS(bt_text(sid)), err);
    if (rc != BT_OK)
        return rc;
    /* user ids are not secret: a plain compare */
    if (rows->nrows == 0 || strcmp(bt_rows_text(rows, 0, 0), user_id) != 0)
        return refuse(err, BT_SESSION_UNKNOWN, outcome);
    if (!bt_rows_isnull(rows, 0, 1))
        return refuse(err, BT_SESSION_REVOKED, outcome);
    if (outcome)
        *outcome = BT_SESSION_OK;
    return BT_OK;
}

/* Columns of bt_session_alive_user's statement before the app's. */
enum { A_USER, A_REVOKED, A_UID, A_NFIXED };

/* A refusal of bt_session_alive_user: the reads ahead keep no rows. */
static int refuse_user(struct bt_err *err, enum bt_session_outcome o,
                       enum bt_session_outcome *outcome, struct bt_db_read *ahead, size_t nahead)
{
    for (size_t i = 0; i < nahead; i++)
        ahead[i].rows = NULL;
    return refuse(err, o, outcome);
}

int bt_session_alive_user(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                          const char *sid, const char *user_id, struct bt_rows **user,
                          struct bt_db_read *ahead, size_t nahead, enum bt_session_outcome *outcome,
                          struct bt_err *err)
{
    struct bt_db_read reads[BT_DB_BATCH_MAX];
    struct bt_val arg = bt_text(sid);
    struct bt_rows *rows, *u;
    int rc = store_ok(st, err);

    *user = NULL;
    if (outcome)
        *outcome = BT_SESSION_UNKNOWN;
    for (size_t i = 0; ahead && i < nahead; i++)
        ahead[i].rows = NULL;
    if (rc != BT_OK)
        return rc;
    if (!st->alive_user_sql[0])
        return bt_fail(err, BT_EINTERNAL, NULL,
                       "bt_session_alive_user on a store without bt_session_store_users");
    if (nahead >= BT_DB_BATCH_MAX || (nahead && !ahead))
        return bt_fail(err, BT_EINTERNAL, NULL, "bt_session_alive_user: at most %d reads ahead",
                       BT_DB_BATCH_MAX - 1);
    if (empty(sid) || empty(user_id))
        return refuse(err, BT_SESSION_UNKNOWN, outcome);
    /* the check first, then the reads ahead: one round trip on PostgreSQL */
    reads[0] = (struct bt_db_read){.sql = st->alive_user_sql, .args = &arg, .nargs = 1};
    for (size_t i = 0; i < nahead; i++)
        reads[i + 1] = ahead[i];
    rc = bt_db_query_batch(db, a, reads, nahead + 1, err);
    if (rc != BT_OK)
        return rc;
    rows = reads[0].rows;
    for (size_t i = 0; i < nahead; i++)
        ahead[i].rows = reads[i + 1].rows;
    /* bt_session_alive's checks in its order, then the user row */
    if (rows->nrows == 0 || strcmp(bt_rows_text(rows, 0, A_USER), user_id) != 0)
        return refuse_user(err, BT_SESSION_UNKNOWN, outcome, ahead, nahead);
    if (!bt_rows_isnull(rows, 0, A_REVOKED))
        return refuse_user(err, BT_SESSION_REVOKED, outcome, ahead, nahead);
    if (bt_rows_isnull(rows, 0, A_UID) || rows->ncols != A_NFIXED + st->user_ncols)
        return refuse_user(err, BT_SESSION_UNKNOWN, outcome, ahead, nahead);
    /* the one row's app columns, in place: a row is contiguous */
    u = bt_arena_alloc(a, sizeof(*u));
    u->nrows = 1;
    u->ncols = st->user_ncols;
    u->names = rows->names + A_NFIXED;
    u->kinds = rows->kinds + A_NFIXED;
    u->cells = rows->cells + A_NFIXED;
    *user = u;
    if (outcome)
        *outcome = BT_SESSION_OK;
    return BT_OK;
}

/* ---- revocation ---- */

int bt_session_revoke(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                      const char *sid, const char *reason, int64_t *changed, struct bt_err *err)
{
    int rc = store_ok(st, err);

    if (changed)
        *changed = 0;
    if (rc != BT_OK)
        return rc;
    if (empty(sid) || empty(reason))
        return bt_fail(err, BT_EINVAL, empty(sid) ? "sid" : "reason",
                       "session store: session id and reason are required");
    return bt_db_exec(db, changed,
                      bt_arena_printf(a,
                                      "UPDATE %s SET revoked_at = $1, revoked_reason = $2"
                                      " WHERE id = $3 AND revoked_at IS NULL",
                                      st->sessions_table),
                      BT_ARGS(bt_text(iso_ms(a, bt_now_unix_us())), bt_text(reason), bt_text(sid)),
                      err);
}

int bt_session_revoke_token(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                            const char *refresh_token, const char *user_id, const char *reason,
                            int64_t *changed, struct bt_err *err)
{
    int rc = store_ok(st, err);

    if (changed)
        *changed = 0;
    if (rc != BT_OK)
        return rc;
    if (empty(refresh_token) || empty(user_id) || empty(reason))
        return bt_fail(err, BT_EINVAL, NULL,
                       "session store: refresh token, user id and reason are required");
    return bt_db_exec(db, changed,
                      bt_arena_printf(a,
                                      "UPDATE %s SET revoked_at = $1, revoked_reason = $2"
                                      " WHERE revoked_at IS NULL AND user_id = $3 AND id IN"
                                      " (SELECT session_id FROM %s WHERE token_hash = $4)",
                                      st->sessions_table, st->tokens_table),
                      BT_ARGS(bt_text(iso_ms(a, bt_now_unix_us())), bt_text(reason),
                              bt_text(user_id), bt_text(token_hash(a, refresh_token))),
                      err);
}

int bt_session_revoke_user(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                           const char *user_id, const char *keep_sid, const char *reason,
                           int64_t *changed, struct bt_err *err)
{
    int rc = store_ok(st, err);

    if (changed)
        *changed = 0;
    if (rc != BT_OK)
        return rc;
    if (empty(user_id) || empty(reason))
        return bt_fail(err, BT_EINVAL, empty(user_id) ? "user_id" : "reason",
                       "session store: user id and reason are required");
    return bt_db_exec(db, changed,
                      bt_arena_printf(a,
                                      "UPDATE %s SET revoked_at = $1, revoked_reason = $2"
                                      " WHERE user_id = $3 AND revoked_at IS NULL"
                                      " AND (CAST($4 AS TEXT) IS NULL OR id <> CAST($4 AS TEXT))",
                                      st->sessions_table),
                      BT_ARGS(bt_text(iso_ms(a, bt_now_unix_us())), bt_text(reason),
                              bt_text(user_id), bt_text(keep_sid)),
                      err);
}
