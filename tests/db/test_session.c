/* SPDX-License-Identifier: MIT
 * test_session.c - the session store (include/bento/session.h) on the engine named by
 * BENTO_TEST_ENGINE (registered once per engine): opening, rotation, re-use revoking the
 * family, expiry, the app's check, revocation of one session / by token / of a user except
 * one, liveness (alone and with the app's user row), transactions, housekeeping, refusal of
 * bad table and column names, and concurrent exchanges of one token. Every test opens its
 * own fresh database with the documented layout; nothing depends on order.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

#define SESSIONS "app_sessions"
#define TOKENS "app_refresh_tokens"
#define TTL_S (30 * 86400)

/* The layout the header documents, as an app's migration would create it, with the app's
 * own foreign keys and a CHECK on the reasons. */
static const char layout_sql[] =
    "CREATE TABLE app_users (id TEXT PRIMARY KEY);"
    "CREATE TABLE app_sessions ("
    " id TEXT PRIMARY KEY,"
    " user_id TEXT NOT NULL REFERENCES app_users (id),"
    " created_at TEXT NOT NULL,"
    " revoked_at TEXT,"
    " revoked_reason TEXT CHECK (revoked_reason IN ('logout', 'reuse', 'password', 'test')));"
    "CREATE INDEX app_sessions_user ON app_sessions (user_id);"
    "CREATE TABLE app_refresh_tokens ("
    " token_hash TEXT PRIMARY KEY,"
    " session_id TEXT NOT NULL REFERENCES app_sessions (id),"
    " user_id TEXT NOT NULL REFERENCES app_users (id),"
    " created_at TEXT NOT NULL,"
    " expires_at TEXT NOT NULL,"
    " rotated_at TEXT);"
    "CREATE INDEX app_refresh_tokens_session ON app_refresh_tokens (session_id);"
    "CREATE INDEX app_refresh_tokens_user ON app_refresh_tokens (user_id, expires_at);"
    "INSERT INTO app_users (id) VALUES ('u1'), ('u2');"
    /* what bt_session_alive_user reads: an app table keyed by the user id (no foreign key,
     * so a session can outlive its row here), with a column named like a session column */
    "CREATE TABLE app_profiles ("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT, enabled BOOLEAN NOT NULL);"
    "INSERT INTO app_profiles (id, name, created_at, enabled)"
    " VALUES ('u1', 'Una', '2024-01-01T00:00:00.000Z', FALSE)";
#define PROFILES "app_profiles"
#define PROFILE_COLUMNS "name, created_at,enabled"

struct fix {
    char *url;
    struct bt_dbpool *pool;
    struct bt_db *db; /* one connection checked out for the test's own calls */
    struct bt_arena *a;
    struct bt_session_store st;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct bt_err err;

    assert_non_null(f);
    f->url = bt_test_db_url_new();
    f->a = bt_arena_new();
    bt_err_clear(&err);
    if (bt_dbpool_open(f->url, 10, &f->pool, &err) != BT_OK) {
        fprintf(stderr, "pool: %s\n", err.msg);
        return -1;
    }
    f->db = bt_dbpool_get(f->pool, 5000, &err);
    if (!f->db || bt_db_exec_script(f->db, layout_sql, &err) != BT_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    if (bt_session_store_init(&f->st, SESSIONS, TOKENS, TTL_S, &err) != BT_OK) {
        fprintf(stderr, "store: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    bt_dbpool_put(f->pool, f->db);
    bt_dbpool_free(f->pool);
    bt_arena_free(f->a);
    bt_test_db_url_release(f->url);
    free(f);
    return 0;
}

static int64_t qi64(struct fix *f, const char *sql, const struct bt_val *args, size_t nargs)
{
    struct bt_err err;
    int64_t v = -1;

    bt_err_clear(&err);
    if (bt_db_query_i64(f->db, &v, sql, args, nargs, &err) != BT_OK)
        fail_msg("%s: %s", sql, err.msg);
    return v;
}

static void exec(struct fix *f, const char *sql, const struct bt_val *args, size_t nargs)
{
    struct bt_err err;

    bt_err_clear(&err);
    if (bt_db_exec(f->db, NULL, sql, args, nargs, &err) != BT_OK)
        fail_msg("%s: %s", sql, err.msg);
}

/* A new session of user (must succeed). */
static struct bt_session_grant open_for(struct fix *f, const char *user)
{
    struct bt_session_grant g;
    struct bt_err err;

    bt_err_clear(&err);
    if (bt_session_open(&f->st, f->db, f->a, user, &g, &err) != BT_OK)
        fail_msg("open: %s", err.msg);
    assert_int_equal(g.outcome, BT_SESSION_OK);
    return g;
}

/* Exchange token; err gets the outcome's details. */
static int refresh(struct fix *f, const char *token, struct bt_session_grant *g, struct bt_err *err)
{
    bt_err_clear(err);
    return bt_session_refresh(&f->st, f->db, f->a, token, NULL, NULL, g, err);
}

/* A refusal: BT_EAUTH with app_code and outcome, an English message that never repeats the
 * token. */
static void assert_refused(int rc, const struct bt_err *err, const struct bt_session_grant *g,
                           const char *app_code, enum bt_session_outcome outcome, const char *token)
{
    assert_int_equal(rc, BT_EAUTH);
    assert_int_equal(err->code, BT_EAUTH);
    assert_string_equal(err->app_code, app_code);
    assert_int_equal(g->outcome, outcome);
    assert_true(strlen(err->msg) > 0);
    if (token && *token)
        assert_null(strstr(err->msg, token));
    assert_null(g->refresh_token);
}

static const char *hash_of(struct fix *f, const char *token)
{
    return bt_sha256_hex(f->a, token, strlen(token));
}

static bool alive(struct fix *f, const char *sid, const char *user,
                  enum bt_session_outcome *outcome)
{
    struct bt_err err;

    bt_err_clear(&err);
    return bt_session_alive(&f->st, f->db, f->a, sid, user, outcome, &err) == BT_OK;
}

static int64_t n_tokens(struct fix *f)
{
    return qi64(f, "SELECT COUNT(*) FROM app_refresh_tokens", BT_NOARGS);
}

/* ---- store ---- */

static void test_store_names(void **state)
{
    static const char *const bad[] = {
        "",
        "App_sessions",
        "app-sessions",
        "app sessions",
        "1sessions",
        "sessions;",
        "s\"x",
        "s.x",
        "s; DROP TABLE app_users; --",
        "ünicode",
    };
    char longest[BT_SESSION_TABLE_MAX + 2];
    struct bt_session_store st;
    struct bt_err err;

    (void)state;
    bt_err_clear(&err);
    assert_int_equal(
        bt_session_store_init(&st, "yunshui_sessions", "yunshui_refresh_tokens", TTL_S, &err),
        BT_OK);
    assert_true(st.checked);
    assert_string_equal(st.sessions_table, "yunshui_sessions");
    assert_int_equal(st.refresh_ttl_s, TTL_S);
    assert_int_equal(bt_session_store_init(&st, "_s2", "t_9", 1, &err), BT_OK);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bt_err_clear(&err);
        assert_int_equal(bt_session_store_init(&st, bad[i], TOKENS, TTL_S, &err), BT_EINVAL);
        assert_false(st.checked);
        assert_string_equal(err.field, "sessions_table");
        assert_int_equal(bt_session_store_init(&st, SESSIONS, bad[i], TTL_S, &err), BT_EINVAL);
        assert_false(st.checked);
        assert_string_equal(err.field, "tokens_table");
    }
    assert_int_equal(bt_session_store_init(&st, NULL, TOKENS, TTL_S, &err), BT_EINVAL);
    assert_int_equal(bt_session_store_init(&st, SESSIONS, NULL, TTL_S, &err), BT_EINVAL);
    assert_int_equal(bt_session_store_init(&st, SESSIONS, SESSIONS, TTL_S, &err), BT_EINVAL);
    assert_int_equal(bt_session_store_init(&st, SESSIONS, TOKENS, 0, &err), BT_EINVAL);
    assert_int_equal(bt_session_store_init(&st, SESSIONS, TOKENS, -5, &err), BT_EINVAL);
    assert_false(st.checked);

    /* 63 bytes is the longest identifier PostgreSQL keeps whole */
    memset(longest, 'a', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    assert_int_equal(bt_session_store_init(&st, longest, TOKENS, TTL_S, &err), BT_EINVAL);
    longest[BT_SESSION_TABLE_MAX] = '\0';
    assert_int_equal(bt_session_store_init(&st, longest, TOKENS, TTL_S, &err), BT_OK);
}

/* The users table and its columns for bt_session_alive_user: identifiers only, each
 * refusal naming its argument and leaving the store without users. */
static void test_store_users_names(void **state)
{
    static const char *const bad_tables[] = {
        "", "App_profiles", "profiles;", "s.x", "1p", "p x", SESSIONS, TOKENS, NULL,
    };
    static const char *const bad_columns[] = {
        "",   "a,",  ",a",  "a,,b", "a ,b", " a",  "a b", "Name",
        "1a", "u.a", "a;b", "a)--", "*",    "a,*", "a\n", "a, b;DROP TABLE app_users",
    };
    struct bt_session_store st, zero = {0};
    char ident[BT_SESSION_TABLE_MAX + 2], list[BT_SESSION_USER_COLUMNS_MAX + 8];
    struct bt_err err;

    (void)state;
    bt_err_clear(&err);
    assert_int_equal(bt_session_store_users(&zero, PROFILES, "name", &err), BT_EINTERNAL);
    assert_int_equal(bt_session_store_init(&st, SESSIONS, TOKENS, TTL_S, &err), BT_OK);
    assert_string_equal(st.alive_user_sql, "");
    assert_int_equal(bt_session_store_users(&st, PROFILES, PROFILE_COLUMNS, &err), BT_OK);
    assert_int_equal(st.user_ncols, 3);
    assert_int_equal(bt_session_store_users(&st, PROFILES, "name", &err), BT_OK);
    assert_int_equal(st.user_ncols, 1);

    for (size_t i = 0; i < sizeof(bad_tables) / sizeof(bad_tables[0]); i++) {
        bt_err_clear(&err);
        assert_int_equal(bt_session_store_users(&st, PROFILES, "name", &err), BT_OK);
        assert_int_equal(bt_session_store_users(&st, bad_tables[i], "name", &err), BT_EINVAL);
        assert_string_equal(err.field, "users_table");
        assert_string_equal(st.alive_user_sql, "");
        assert_true(st.checked); /* the session calls keep working */
    }
    for (size_t i = 0; i < sizeof(bad_columns) / sizeof(bad_columns[0]); i++) {
        bt_err_clear(&err);
        assert_int_equal(bt_session_store_users(&st, PROFILES, "name", &err), BT_OK);
        assert_int_equal(bt_session_store_users(&st, PROFILES, bad_columns[i], &err), BT_EINVAL);
        assert_string_equal(err.field, "columns");
        assert_string_equal(st.alive_user_sql, "");
    }
    assert_int_equal(bt_session_store_users(&st, PROFILES, NULL, &err), BT_EINVAL);

    /* one identifier of 63 bytes, not 64; a list of at most 255 bytes */
    memset(ident, 'c', sizeof(ident) - 1);
    ident[sizeof(ident) - 1] = '\0';
    assert_int_equal(bt_session_store_users(&st, PROFILES, ident, &err), BT_EINVAL);
    ident[BT_SESSION_TABLE_MAX] = '\0';
    assert_int_equal(bt_session_store_users(&st, PROFILES, ident, &err), BT_OK);
    list[0] = '\0';
    while (strlen(list) + 4 <= BT_SESSION_USER_COLUMNS_MAX)
        strcat(list, list[0] ? ", ab" : "abc"); /* 3 + 4k: exactly 255 bytes */
    assert_int_equal(strlen(list), BT_SESSION_USER_COLUMNS_MAX);
    assert_int_equal(bt_session_store_users(&st, PROFILES, list, &err), BT_OK);
    strcat(list, "x");
    assert_int_equal(bt_session_store_users(&st, PROFILES, list, &err), BT_EINVAL);
}

/* A store that did not pass init never reaches SQL, whatever its names say. */
static void test_store_unchecked_refused(void **state)
{
    struct fix *f = *state;
    struct bt_session_store evil = {.sessions_table = "app_users; DROP TABLE app_users; --",
                                    .tokens_table = "app_users; DROP TABLE app_users; --",
                                    .refresh_ttl_s = TTL_S};
    struct bt_session_store zero = {0};
    const struct bt_session_store *stores[] = {&evil, &zero, NULL};
    struct bt_session_grant g;
    enum bt_session_outcome o;
    struct bt_err err;

    for (size_t i = 0; i < 3; i++) {
        const struct bt_session_store *st = stores[i];
        bt_err_clear(&err);
        assert_int_equal(bt_session_open(st, f->db, f->a, "u1", &g, &err), BT_EINTERNAL);
        assert_int_equal(bt_session_refresh(st, f->db, f->a, "x", NULL, NULL, &g, &err),
                         BT_EINTERNAL);
        assert_int_equal(bt_session_alive(st, f->db, f->a, "s", "u1", &o, &err), BT_EINTERNAL);
        assert_int_equal(bt_session_revoke(st, f->db, f->a, "s", "test", NULL, &err), BT_EINTERNAL);
        assert_int_equal(bt_session_revoke_token(st, f->db, f->a, "x", "u1", "test", NULL, &err),
                         BT_EINTERNAL);
        assert_int_equal(bt_session_revoke_user(st, f->db, f->a, "u1", NULL, "test", NULL, &err),
                         BT_EINTERNAL);
    }
    assert_int_equal(qi64(f, "SELECT COUNT(*) FROM app_users", BT_NOARGS), 2);
}

/* ---- open ---- */

static void test_open(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant g = open_for(f, "u1"), g2 = open_for(f, "u1");
    struct bt_rows *rows;
    struct bt_err err;
    int64_t created = 0, expires = 0;

    assert_string_equal(g.user_id, "u1");
    assert_int_equal(strlen(g.sid), 36); /* UUID v4 */
    assert_int_equal(g.sid[14], '4');
    assert_int_equal(strlen(g.refresh_token), 43);
    assert_string_not_equal(g.sid, g2.sid); /* each login is its own family */
    assert_string_not_equal(g.refresh_token, g2.refresh_token);

    /* only the hash is stored; the token expires TTL after it was issued */
    assert_int_equal(qi64(f, "SELECT COUNT(*) FROM app_refresh_tokens WHERE token_hash = $1",
                          BT_ARGS(bt_text(g.refresh_token))),
                     0);
    bt_err_clear(&err);
    assert_int_equal(bt_db_query(f->db, f->a, &rows,
                                 "SELECT session_id, user_id, created_at, expires_at, rotated_at"
                                 " FROM app_refresh_tokens WHERE token_hash = $1",
                                 BT_ARGS(bt_text(hash_of(f, g.refresh_token))), &err),
                     BT_OK);
    assert_int_equal(rows->nrows, 1);
    assert_string_equal(bt_rows_text(rows, 0, 0), g.sid);
    assert_string_equal(bt_rows_text(rows, 0, 1), "u1");
    assert_int_equal(strlen(bt_rows_text(rows, 0, 2)), 24); /* 2024-01-01T00:00:00.000Z */
    assert_int_equal(bt_time_parse(bt_rows_text(rows, 0, 2), &created), 0);
    assert_int_equal(bt_time_parse(bt_rows_text(rows, 0, 3), &expires), 0);
    assert_int_equal(expires - created, (int64_t)TTL_S * 1000000);
    assert_true(bt_rows_isnull(rows, 0, 4));
    assert_int_equal(qi64(f,
                          "SELECT COUNT(*) FROM app_sessions WHERE id = $1 AND user_id = 'u1'"
                          " AND revoked_at IS NULL AND revoked_reason IS NULL",
                          BT_ARGS(bt_text(g.sid))),
                     1);
    assert_true(alive(f, g.sid, "u1", NULL));

    /* the app's foreign key and an empty user are refused */
    bt_err_clear(&err);
    assert_int_equal(bt_session_open(&f->st, f->db, f->a, "nobody", &g, &err), BT_ECONFLICT);
    assert_null(g.sid);
    assert_null(g.refresh_token);
    assert_int_equal(bt_session_open(&f->st, f->db, f->a, "", &g, &err), BT_EINVAL);
    assert_int_equal(bt_session_open(&f->st, f->db, f->a, NULL, &g, &err), BT_EINVAL);
    assert_int_equal(qi64(f, "SELECT COUNT(*) FROM app_sessions", BT_NOARGS), 2);
    assert_false(bt_db_in_tx(f->db));
}

/* In the caller's transaction the caller decides; outside, the store commits its own. */
static void test_open_transactions(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant g;
    struct bt_err err;

    bt_err_clear(&err);
    assert_int_equal(bt_db_begin(f->db, &err), BT_OK);
    assert_int_equal(bt_session_open(&f->st, f->db, f->a, "u1", &g, &err), BT_OK);
    assert_true(bt_db_in_tx(f->db)); /* not committed behind the caller's back */
    bt_db_rollback(f->db);
    assert_int_equal(qi64(f, "SELECT COUNT(*) FROM app_sessions", BT_NOARGS), 0);
    assert_int_equal(n_tokens(f), 0);

    assert_int_equal(bt_db_begin(f->db, &err), BT_OK);
    assert_int_equal(bt_session_open(&f->st, f->db, f->a, "u1", &g, &err), BT_OK);
    assert_int_equal(bt_db_commit(f->db, &err), BT_OK);
    assert_true(alive(f, g.sid, "u1", NULL));

    /* a failing open inside the caller's transaction leaves it to the caller to roll back */
    assert_int_equal(bt_db_begin(f->db, &err), BT_OK);
    assert_int_equal(bt_session_open(&f->st, f->db, f->a, "nobody", &g, &err), BT_ECONFLICT);
    assert_true(bt_db_in_tx(f->db));
    bt_db_rollback(f->db);
    assert_int_equal(qi64(f, "SELECT COUNT(*) FROM app_sessions", BT_NOARGS), 1);
}

/* A login sweeps the user's expired tokens and the sessions left without any. */
static void test_open_housekeeping(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant old = open_for(f, "u1"), live = open_for(f, "u1");
    struct bt_session_grant other = open_for(f, "u2");

    exec(f, "UPDATE app_refresh_tokens SET expires_at = $1 WHERE session_id IN ($2, $3)",
         BT_ARGS(bt_text("2020-01-01T00:00:00.000Z"), bt_text(old.sid), bt_text(other.sid)));
    open_for(f, "u1");
    assert_int_equal(
        qi64(f, "SELECT COUNT(*) FROM app_sessions WHERE id = $1", BT_ARGS(bt_text(old.sid))), 0);
    assert_int_equal(
        qi64(f, "SELECT COUNT(*) FROM app_sessions WHERE id = $1", BT_ARGS(bt_text(live.sid))), 1);
    /* another user's rows are left for that user's next login */
    assert_int_equal(qi64(f, "SELECT COUNT(*) FROM app_refresh_tokens WHERE session_id = $1",
                          BT_ARGS(bt_text(other.sid))),
                     1);
    assert_int_equal(n_tokens(f), 3);
}

/* ---- refresh ---- */

static void test_refresh_rotates(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant g0 = open_for(f, "u1"), g1, g2;
    struct bt_err err;

    assert_int_equal(refresh(f, g0.refresh_token, &g1, &err), BT_OK);
    assert_int_equal(g1.outcome, BT_SESSION_OK);
    assert_string_equal(g1.user_id, "u1");
    assert_string_equal(g1.sid, g0.sid); /* same family */
    assert_int_equal(strlen(g1.refresh_token), 43);
    assert_string_not_equal(g1.refresh_token, g0.refresh_token);
    assert_false(bt_db_in_tx(f->db));
    /* the old one is spent, the new one is not */
    assert_int_equal(qi64(f,
                          "SELECT COUNT(*) FROM app_refresh_tokens WHERE token_hash = $1"
                          " AND rotated_at IS NOT NULL",
                          BT_ARGS(bt_text(hash_of(f, g0.refresh_token)))),
                     1);
    assert_int_equal(qi64(f,
                          "SELECT COUNT(*) FROM app_refresh_tokens WHERE token_hash = $1"
                          " AND rotated_at IS NULL AND session_id = $2",
                          BT_ARGS(bt_text(hash_of(f, g1.refresh_token)), bt_text(g0.sid))),
                     1);
    assert_int_equal(refresh(f, g1.refresh_token, &g2, &err), BT_OK);
    assert_string_equal(g2.sid, g0.sid);
    assert_int_equal(n_tokens(f), 3);
    assert_true(alive(f, g0.sid, "u1", NULL));
}

/* The old token after rotation is refused, and that re-use ends the whole family. */
static void test_refresh_reuse_revokes_family(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant g0 = open_for(f, "u1"), other = open_for(f, "u1"), g1, g2, r;
    enum bt_session_outcome o;
    struct bt_err err;
    int rc;

    assert_int_equal(refresh(f, g0.refresh_token, &g1, &err), BT_OK);
    assert_int_equal(refresh(f, g1.refresh_token, &g2, &err), BT_OK);

    rc = refresh(f, g0.refresh_token, &r, &err); /* a copy of a spent token */
    assert_refused(rc, &err, &r, "INVALID_CREDENTIALS", BT_SESSION_REUSED, g0.refresh_token);
    assert_string_equal(r.sid, g0.sid);
    assert_string_equal(r.user_id, "u1");
    assert_false(bt_db_in_tx(f->db));
    assert_int_equal(qi64(f,
                          "SELECT COUNT(*) FROM app_sessions WHERE id = $1"
                          " AND revoked_at IS NOT NULL AND revoked_reason = 'reuse'",
                          BT_ARGS(bt_text(g0.sid))),
                     1);
    /* the newest token of the family dies with it, and so does the session */
    rc = refresh(f, g2.refresh_token, &r, &err);
    assert_refused(rc, &err, &r, "INVALID_CREDENTIALS", BT_SESSION_REVOKED, g2.refresh_token);
    assert_false(alive(f, g0.sid, "u1", &o));
    assert_int_equal(o, BT_SESSION_REVOKED);
    /* presenting the spent token again changes nothing more */
    rc = refresh(f, g1.refresh_token, &r, &err);
    assert_refused(rc, &err, &r, "INVALID_CREDENTIALS", BT_SESSION_REVOKED, NULL);

    /* another login of the same user is another family */
    assert_true(alive(f, other.sid, "u1", NULL));
    assert_int_equal(refresh(f, other.refresh_token, &r, &err), BT_OK);
}

static void test_refresh_unknown(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant g = open_for(f, "u1"), r;
    struct bt_err err;
    int rc;

    rc = refresh(f, "not-a-token-we-issued", &r, &err);
    assert_refused(rc, &err, &r, "INVALID_CREDENTIALS", BT_SESSION_UNKNOWN, NULL);
    assert_null(r.sid);
    rc = refresh(f, hash_of(f, g.refresh_token), &r, &err); /* the stored form is no token */
    assert_refused(rc, &err, &r, "INVALID_CREDENTIALS", BT_SESSION_UNKNOWN, NULL);
    rc = refresh(f, "", &r, &err);
    assert_refused(rc, &err, &r, "INVALID_CREDENTIALS", BT_SESSION_UNKNOWN, NULL);
    rc = refresh(f, NULL, &r, &err);
    assert_refused(rc, &err, &r, "INVALID_CREDENTIALS", BT_SESSION_UNKNOWN, NULL);
    assert_false(bt_db_in_tx(f->db));
    /* none of it hurt the real token */
    assert_int_equal(refresh(f, g.refresh_token, &r, &err), BT_OK);
}

static void test_refresh_expired(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant g = open_for(f, "u1"), g1, r;
    struct bt_err err;
    int rc;

    exec(f, "UPDATE app_refresh_tokens SET expires_at = $1 WHERE token_hash = $2",
         BT_ARGS(bt_text("2020-01-01T00:00:00.000Z"), bt_text(hash_of(f, g.refresh_token))));
    rc = refresh(f, g.refresh_token, &r, &err);
    assert_refused(rc, &err, &r, "TOKEN_EXPIRED", BT_SESSION_EXPIRED, g.refresh_token);
    assert_false(bt_db_in_tx(f->db));
    /* nothing issued, nothing spent, the session lives on (other tokens may be valid) */
    assert_int_equal(n_tokens(f), 1);
    assert_int_equal(
        qi64(f, "SELECT COUNT(*) FROM app_refresh_tokens WHERE rotated_at IS NULL", BT_NOARGS), 1);
    assert_true(alive(f, g.sid, "u1", NULL));

    /* a spent token is re-use even when it has expired since */
    g = open_for(f, "u2");
    assert_int_equal(refresh(f, g.refresh_token, &g1, &err), BT_OK);
    exec(f, "UPDATE app_refresh_tokens SET expires_at = $1 WHERE token_hash = $2",
         BT_ARGS(bt_text("2020-01-01T00:00:00.000Z"), bt_text(hash_of(f, g.refresh_token))));
    rc = refresh(f, g.refresh_token, &r, &err);
    assert_refused(rc, &err, &r, "INVALID_CREDENTIALS", BT_SESSION_REUSED, NULL);
    assert_false(alive(f, g.sid, "u2", NULL));
}

/* The app's check: a refusal is its status and words, and the token stays unspent. */
struct check_state {
    int calls;
    int answer;
    char user[16];
};

static int check_user(struct bt_db *db, const char *user_id, void *ud, struct bt_err *err)
{
    struct check_state *c = ud;

    assert_non_null(db);
    assert_true(bt_db_in_tx(db)); /* inside the exchange */
    c->calls++;
    snprintf(c->user, sizeof(c->user), "%s", user_id);
    if (c->answer != BT_OK) {
        bt_fail(err, (enum bt_status)c->answer, NULL, "account disabled");
        snprintf(err->app_code, sizeof(err->app_code), "ACCOUNT_DISABLED");
    }
    return c->answer;
}

static void test_refresh_check(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant g = open_for(f, "u2"), r;
    struct check_state c = {.answer = BT_EFORBIDDEN};
    struct bt_err err;

    bt_err_clear(&err);
    assert_int_equal(
        bt_session_refresh(&f->st, f->db, f->a, g.refresh_token, check_user, &c, &r, &err),
        BT_EFORBIDDEN);
    assert_int_equal(r.outcome, BT_SESSION_REFUSED);
    assert_string_equal(err.app_code, "ACCOUNT_DISABLED");
    assert_null(r.refresh_token);
    assert_int_equal(c.calls, 1);
    assert_string_equal(c.user, "u2");
    assert_false(bt_db_in_tx(f->db));
    assert_int_equal(n_tokens(f), 1);
    assert_true(alive(f, g.sid, "u2", NULL));

    /* not consulted for tokens that are refused anyway */
    bt_err_clear(&err);
    assert_int_equal(bt_session_refresh(&f->st, f->db, f->a, "unknown", check_user, &c, &r, &err),
                     BT_EAUTH);
    assert_int_equal(c.calls, 1);

    /* the same token still works once the app says yes */
    c.answer = BT_OK;
    bt_err_clear(&err);
    assert_int_equal(
        bt_session_refresh(&f->st, f->db, f->a, g.refresh_token, check_user, &c, &r, &err), BT_OK);
    assert_int_equal(c.calls, 2);
    assert_string_equal(r.sid, g.sid);
}

static void test_refresh_in_transaction_refused(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant g = open_for(f, "u1"), r;
    struct bt_err err;

    bt_err_clear(&err);
    assert_int_equal(bt_db_begin(f->db, &err), BT_OK);
    assert_int_equal(refresh(f, g.refresh_token, &r, &err), BT_EINTERNAL);
    bt_db_rollback(f->db);
    assert_int_equal(refresh(f, g.refresh_token, &r, &err), BT_OK);
}

/* ---- liveness and revocation ---- */

static void test_alive(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant g = open_for(f, "u1");
    enum bt_session_outcome o = BT_SESSION_REUSED;
    struct bt_err err;

    assert_true(alive(f, g.sid, "u1", &o));
    assert_int_equal(o, BT_SESSION_OK);
    assert_true(alive(f, g.sid, "u1", NULL));
    /* a token naming someone else's session gets nothing */
    bt_err_clear(&err);
    assert_int_equal(bt_session_alive(&f->st, f->db, f->a, g.sid, "u2", &o, &err), BT_EAUTH);
    assert_int_equal(o, BT_SESSION_UNKNOWN);
    assert_string_equal(err.app_code, "INVALID_CREDENTIALS");
    assert_false(alive(f, "00000000-0000-4000-8000-000000000000", "u1", &o));
    assert_int_equal(o, BT_SESSION_UNKNOWN);
    assert_false(alive(f, NULL, "u1", &o));
    assert_false(alive(f, g.sid, NULL, &o));
    assert_false(alive(f, "", "", &o));
    assert_int_equal(o, BT_SESSION_UNKNOWN);
    /* inside a transaction too */
    assert_int_equal(bt_db_begin(f->db, &err), BT_OK);
    assert_true(alive(f, g.sid, "u1", NULL));
    bt_db_rollback(f->db);
}

static int alive_user(struct fix *f, const char *sid, const char *user, struct bt_rows **u,
                      enum bt_session_outcome *outcome, struct bt_err *err)
{
    bt_err_clear(err);
    return bt_session_alive_user(&f->st, f->db, f->a, sid, user, u, NULL, 0, outcome, err);
}

/* The session and its user's row in one statement: the row's columns, read afresh on each
 * call, and the refusals of bt_session_alive in its order, then a missing user row. */
static void test_alive_user(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant g = open_for(f, "u1"), g2 = open_for(f, "u2");
    enum bt_session_outcome o = BT_SESSION_REUSED;
    struct bt_rows *u = NULL;
    struct bt_err err;

    /* a store without its users table: refused before any SQL */
    assert_int_equal(alive_user(f, g.sid, "u1", &u, &o, &err), BT_EINTERNAL);
    assert_null(u);
    assert_int_equal(o, BT_SESSION_UNKNOWN);
    assert_int_equal(bt_session_store_users(&f->st, PROFILES, PROFILE_COLUMNS, &err), BT_OK);

    assert_int_equal(alive_user(f, g.sid, "u1", &u, &o, &err), BT_OK);
    assert_int_equal(o, BT_SESSION_OK);
    assert_non_null(u);
    assert_int_equal(u->nrows, 1);
    assert_int_equal(u->ncols, 3);
    assert_string_equal(u->names[0], "name");
    assert_string_equal(u->names[1], "created_at");
    assert_string_equal(u->names[2], "enabled");
    assert_string_equal(bt_rows_text(u, 0, 0), "Una");
    /* the profile's created_at, not the session's of the same name */
    assert_string_equal(bt_rows_text(u, 0, 1), "2024-01-01T00:00:00.000Z");
    assert_int_equal(u->kinds[2], BT_COL_BOOL);
    assert_false(bt_rows_bool(u, 0, 2, true));
    exec(f, "UPDATE app_profiles SET enabled = TRUE WHERE id = 'u1'", BT_NOARGS);
    assert_int_equal(alive_user(f, g.sid, "u1", &u, NULL, &err), BT_OK);
    assert_true(bt_rows_bool(u, 0, 2, false));

    /* bt_session_alive's refusals */
    assert_int_equal(alive_user(f, g.sid, "u2", &u, &o, &err), BT_EAUTH);
    assert_int_equal(o, BT_SESSION_UNKNOWN);
    assert_string_equal(err.app_code, "INVALID_CREDENTIALS");
    assert_null(u);
    assert_int_equal(alive_user(f, "00000000-0000-4000-8000-000000000000", "u1", &u, &o, &err),
                     BT_EAUTH);
    assert_int_equal(o, BT_SESSION_UNKNOWN);
    assert_int_equal(alive_user(f, NULL, "u1", &u, &o, &err), BT_EAUTH);
    assert_int_equal(alive_user(f, g.sid, NULL, &u, &o, &err), BT_EAUTH);
    assert_int_equal(alive_user(f, "", "", &u, &o, &err), BT_EAUTH);
    assert_int_equal(o, BT_SESSION_UNKNOWN);

    /* u2 has a live session but no row in the users table */
    assert_true(alive(f, g2.sid, "u2", NULL));
    assert_int_equal(alive_user(f, g2.sid, "u2", &u, &o, &err), BT_EAUTH);
    assert_int_equal(o, BT_SESSION_UNKNOWN);
    assert_null(u);

    /* revoked comes before a missing user, as bt_session_alive sees it first */
    assert_int_equal(bt_session_revoke(&f->st, f->db, f->a, g2.sid, "test", NULL, &err), BT_OK);
    assert_int_equal(alive_user(f, g2.sid, "u2", &u, &o, &err), BT_EAUTH);
    assert_int_equal(o, BT_SESSION_REVOKED);
    assert_string_equal(err.app_code, "INVALID_CREDENTIALS");
    /* inside a transaction too, where a revocation shows at once */
    assert_int_equal(bt_db_begin(f->db, &err), BT_OK);
    assert_int_equal(alive_user(f, g.sid, "u1", &u, &o, &err), BT_OK);
    assert_int_equal(bt_session_revoke(&f->st, f->db, f->a, g.sid, "test", NULL, &err), BT_OK);
    assert_int_equal(alive_user(f, g.sid, "u1", &u, &o, &err), BT_EAUTH);
    assert_int_equal(o, BT_SESSION_REVOKED);
    assert_null(u);
    bt_db_rollback(f->db);
    assert_int_equal(alive_user(f, g.sid, "u1", &u, &o, &err), BT_OK);
}

/* Reads that go with the check (one round trip on PostgreSQL): their rows on BT_OK, none on
 * a refusal; at most BT_DB_BATCH_MAX - 1 of them. */
static void test_alive_user_ahead(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant g = open_for(f, "u1");
    struct bt_val who = bt_text("u1");
    struct bt_db_read ahead[BT_DB_BATCH_MAX];
    enum bt_session_outcome o;
    struct bt_rows *u;
    struct bt_err err;

    assert_int_equal(bt_session_store_users(&f->st, PROFILES, PROFILE_COLUMNS, &err), BT_OK);
    for (size_t i = 0; i < BT_DB_BATCH_MAX; i++)
        ahead[i] = (struct bt_db_read){
            .sql = "SELECT name FROM app_profiles WHERE id = $1", .args = &who, .nargs = 1};
    bt_err_clear(&err);
    assert_int_equal(
        bt_session_alive_user(&f->st, f->db, f->a, g.sid, "u1", &u, ahead, 2, &o, &err), BT_OK);
    assert_string_equal(bt_rows_text(u, 0, 0), "Una");
    for (size_t i = 0; i < 2; i++) {
        assert_non_null(ahead[i].rows);
        assert_string_equal(bt_rows_text(ahead[i].rows, 0, 0), "Una");
    }
    /* the most there is room for beside the check */
    assert_int_equal(bt_session_alive_user(&f->st, f->db, f->a, g.sid, "u1", &u, ahead,
                                           BT_DB_BATCH_MAX - 1, &o, &err),
                     BT_OK);
    assert_int_equal(bt_session_alive_user(&f->st, f->db, f->a, g.sid, "u1", &u, ahead,
                                           BT_DB_BATCH_MAX, &o, &err),
                     BT_EINTERNAL);
    assert_null(ahead[0].rows);
    /* refused: the reads ran, their rows are not handed out */
    assert_int_equal(
        bt_session_alive_user(&f->st, f->db, f->a, g.sid, "u2", &u, ahead, 1, &o, &err), BT_EAUTH);
    assert_int_equal(o, BT_SESSION_UNKNOWN);
    assert_null(ahead[0].rows);
    assert_int_equal(bt_session_revoke(&f->st, f->db, f->a, g.sid, "test", NULL, &err), BT_OK);
    assert_int_equal(
        bt_session_alive_user(&f->st, f->db, f->a, g.sid, "u1", &u, ahead, 1, &o, &err), BT_EAUTH);
    assert_int_equal(o, BT_SESSION_REVOKED);
    assert_null(ahead[0].rows);
    assert_null(u);
    /* a read that fails fails the call */
    ahead[0].sql = "SELECT name FROM no_such_table WHERE id = $1";
    assert_int_equal(
        bt_session_alive_user(&f->st, f->db, f->a, g.sid, "u1", &u, ahead, 1, &o, &err), BT_EDB);
    assert_null(u);
}

static void test_revoke_one(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant g = open_for(f, "u1"), keep = open_for(f, "u1"), g1, r;
    enum bt_session_outcome o;
    struct bt_err err;
    int64_t changed = -1;
    int rc;

    assert_int_equal(refresh(f, g.refresh_token, &g1, &err), BT_OK);
    bt_err_clear(&err);
    assert_int_equal(bt_session_revoke(&f->st, f->db, f->a, g.sid, "logout", &changed, &err),
                     BT_OK);
    assert_int_equal(changed, 1);
    assert_false(alive(f, g.sid, "u1", &o));
    assert_int_equal(o, BT_SESSION_REVOKED);
    rc = refresh(f, g1.refresh_token, &r, &err);
    assert_refused(rc, &err, &r, "INVALID_CREDENTIALS", BT_SESSION_REVOKED, NULL);
    assert_true(alive(f, keep.sid, "u1", NULL));

    /* again, or unknown: fine, nothing changes, the first reason stays */
    assert_int_equal(bt_session_revoke(&f->st, f->db, f->a, g.sid, "password", &changed, &err),
                     BT_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(
        qi64(f, "SELECT COUNT(*) FROM app_sessions WHERE revoked_reason = 'logout'", BT_NOARGS), 1);
    assert_int_equal(bt_session_revoke(&f->st, f->db, f->a, "nope", "logout", NULL, &err), BT_OK);
    assert_int_equal(bt_session_revoke(&f->st, f->db, f->a, NULL, "logout", NULL, &err), BT_EINVAL);
    assert_int_equal(bt_session_revoke(&f->st, f->db, f->a, keep.sid, "", NULL, &err), BT_EINVAL);
    assert_true(alive(f, keep.sid, "u1", NULL));
}

static void test_revoke_by_token(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant g = open_for(f, "u1"), g1;
    struct bt_err err;
    int64_t changed = -1;

    assert_int_equal(refresh(f, g.refresh_token, &g1, &err), BT_OK);
    bt_err_clear(&err);
    /* another user's logout cannot end this session */
    assert_int_equal(bt_session_revoke_token(&f->st, f->db, f->a, g1.refresh_token, "u2", "logout",
                                             &changed, &err),
                     BT_OK);
    assert_int_equal(changed, 0);
    assert_true(alive(f, g.sid, "u1", NULL));
    assert_int_equal(
        bt_session_revoke_token(&f->st, f->db, f->a, "unknown", "u1", "logout", &changed, &err),
        BT_OK);
    assert_int_equal(changed, 0);
    /* the owner's, even naming a spent token of the family */
    assert_int_equal(bt_session_revoke_token(&f->st, f->db, f->a, g.refresh_token, "u1", "logout",
                                             &changed, &err),
                     BT_OK);
    assert_int_equal(changed, 1);
    assert_false(alive(f, g.sid, "u1", NULL));
    assert_int_equal(bt_session_revoke_token(&f->st, f->db, f->a, "", "u1", "logout", NULL, &err),
                     BT_EINVAL);
}

static void test_revoke_user_except_one(void **state)
{
    struct fix *f = *state;
    struct bt_session_grant a = open_for(f, "u1"), b = open_for(f, "u1"), c = open_for(f, "u1");
    struct bt_session_grant other = open_for(f, "u2"), r;
    struct bt_err err;
    int64_t changed = -1;
    int rc;

    bt_err_clear(&err);
    assert_int_equal(
        bt_session_revoke_user(&f->st, f->db, f->a, "u1", b.sid, "password", &changed, &err),
        BT_OK);
    assert_int_equal(changed, 2);
    assert_false(alive(f, a.sid, "u1", NULL));
    assert_true(alive(f, b.sid, "u1", NULL));
    assert_false(alive(f, c.sid, "u1", NULL));
    assert_true(alive(f, other.sid, "u2", NULL));
    assert_int_equal(
        qi64(f, "SELECT COUNT(*) FROM app_sessions WHERE revoked_reason = 'password'", BT_NOARGS),
        2);
    rc = refresh(f, a.refresh_token, &r, &err);
    assert_refused(rc, &err, &r, "INVALID_CREDENTIALS", BT_SESSION_REVOKED, NULL);
    assert_int_equal(refresh(f, b.refresh_token, &r, &err), BT_OK);

    /* in the caller's transaction: undone with it */
    assert_int_equal(bt_db_begin(f->db, &err), BT_OK);
    assert_int_equal(
        bt_session_revoke_user(&f->st, f->db, f->a, "u1", NULL, "test", &changed, &err), BT_OK);
    assert_int_equal(changed, 1);
    bt_db_rollback(f->db);
    assert_true(alive(f, b.sid, "u1", NULL));

    /* keep none */
    assert_int_equal(
        bt_session_revoke_user(&f->st, f->db, f->a, "u1", NULL, "test", &changed, &err), BT_OK);
    assert_int_equal(changed, 1);
    assert_false(alive(f, b.sid, "u1", NULL));
    assert_true(alive(f, other.sid, "u2", NULL));
    assert_int_equal(bt_session_revoke_user(&f->st, f->db, f->a, NULL, NULL, "test", NULL, &err),
                     BT_EINVAL);
    assert_int_equal(bt_session_revoke_user(&f->st, f->db, f->a, "u2", NULL, NULL, NULL, &err),
                     BT_EINVAL);
    assert_true(alive(f, other.sid, "u2", NULL));
}

/* ---- concurrency ---- */

#define RACERS 6
#define RACE_ROUNDS 3

struct racer {
    struct bt_dbpool *pool;
    const struct bt_session_store *st;
    const char *token;
    pthread_barrier_t *start;
    int rc;
    enum bt_session_outcome outcome;
    char token_out[64];
    char msg[512];
};

static void *race_thread(void *p)
{
    struct racer *r = p;
    struct bt_arena *a = bt_arena_new();
    struct bt_session_grant g;
    struct bt_err err;
    /* its own pooled connection, checked out before the start so all go at once */
    struct bt_db *db = bt_dbpool_get(r->pool, 20000, &err);

    pthread_barrier_wait(r->start);
    if (!db) {
        r->rc = err.code;
        snprintf(r->msg, sizeof(r->msg), "get: %.400s", err.msg);
    } else {
        bt_err_clear(&err);
        r->rc = bt_session_refresh(r->st, db, a, r->token, NULL, NULL, &g, &err);
        r->outcome = g.outcome;
        snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
        if (r->rc == BT_OK)
            snprintf(r->token_out, sizeof(r->token_out), "%s", g.refresh_token);
        bt_dbpool_put(r->pool, db);
    }
    bt_arena_free(a);
    return NULL;
}

/* Several exchanges of one token at once: exactly one gets a new token; the others are
 * re-use (or find the session already revoked by a re-use) and the family ends. */
static void test_refresh_concurrent(void **state)
{
    struct fix *f = *state;

    for (int round = 0; round < RACE_ROUNDS; round++) {
        struct bt_session_grant g = open_for(f, "u1"), r;
        struct racer racers[RACERS];
        pthread_t th[RACERS];
        pthread_barrier_t start;
        int ok = 0, reused = 0, winner = -1;
        struct bt_err err;

        assert_int_equal(pthread_barrier_init(&start, NULL, RACERS), 0);
        for (int i = 0; i < RACERS; i++) {
            racers[i] = (struct racer){
                .pool = f->pool, .st = &f->st, .token = g.refresh_token, .start = &start};
            assert_int_equal(pthread_create(&th[i], NULL, race_thread, &racers[i]), 0);
        }
        for (int i = 0; i < RACERS; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < RACERS; i++) {
            if (racers[i].rc == BT_OK) {
                ok++;
                winner = i;
                continue;
            }
            if (racers[i].rc != BT_EAUTH)
                fail_msg("round %d racer %d: rc %d: %s", round, i, racers[i].rc, racers[i].msg);
            assert_true(racers[i].outcome == BT_SESSION_REUSED ||
                        racers[i].outcome == BT_SESSION_REVOKED);
            reused += racers[i].outcome == BT_SESSION_REUSED;
        }
        assert_int_equal(ok, 1);
        assert_true(reused >= 1);
        assert_int_equal(qi64(f, "SELECT COUNT(*) FROM app_refresh_tokens WHERE session_id = $1",
                              BT_ARGS(bt_text(g.sid))),
                         2); /* the presented token and the winner's successor, no more */
        assert_int_equal(qi64(f,
                              "SELECT COUNT(*) FROM app_sessions WHERE id = $1"
                              " AND revoked_reason = 'reuse'",
                              BT_ARGS(bt_text(g.sid))),
                         1);
        /* the winner's new token died with the family */
        assert_int_equal(refresh(f, racers[winner].token_out, &r, &err), BT_EAUTH);
        assert_int_equal(r.outcome, BT_SESSION_REVOKED);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_names),
        cmocka_unit_test(test_store_users_names),
        cmocka_unit_test_setup_teardown(test_store_unchecked_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_housekeeping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_rotates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_reuse_revokes_family, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_in_transaction_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alive_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alive_user_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_by_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_user_except_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_concurrent, setup, teardown),
    };

    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
