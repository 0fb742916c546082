/* SPDX-License-Identifier: MIT
 * session.h - login sessions as refresh-token families, in two tables the app names and
 * creates in its own migration: one row per login (the session, whose id an app puts in its
 * access tokens, e.g. a JWT "sid" claim) and one row per refresh token ever issued to it.
 * Owns: the session and refresh-token SQL, rotation, re-use detection (a spent token coming
 *       back revokes its whole session), revocation, the per-request liveness check, the
 *       housekeeping of expired tokens.
 * Must not: store, log or put into a struct bt_err a refresh token (only its SHA-256 hex is
 *           stored); know anything about the app's users (roles, passwords, whether an
 *           account is enabled: see bt_session_check_fn; bt_session_alive_user reads the
 *           columns an app names and leaves their meaning to it); choose user-facing words.
 *
 * Table layout. The names are the app's (validated by bt_session_store_init); the columns
 * are fixed. Portable subset, timestamps written by this module as ISO-8601 UTC text with
 * milliseconds ("2024-01-01T00:00:00.000Z", one width, so they compare correctly as text):
 *
 *   CREATE TABLE <sessions> (
 *       id             TEXT PRIMARY KEY,  -- UUID v4 (bt_session_grant.sid)
 *       user_id        TEXT NOT NULL,     -- the app's user id; a FK is the app's business
 *       created_at     TEXT NOT NULL,
 *       revoked_at     TEXT,              -- NULL while the session is alive
 *       revoked_reason TEXT               -- the reason given to a revoke; "reuse" is
 *   );                                    -- written by bt_session_refresh itself
 *   CREATE INDEX ... ON <sessions> (user_id);
 *
 *   CREATE TABLE <tokens> (
 *       token_hash TEXT PRIMARY KEY,      -- SHA-256 hex of the refresh token
 *       session_id TEXT NOT NULL,         -- <sessions>.id
 *       user_id    TEXT NOT NULL,         -- the same user as the session
 *       created_at TEXT NOT NULL,
 *       expires_at TEXT NOT NULL,         -- created_at + refresh_ttl_s
 *       rotated_at TEXT                   -- set when exchanged for its successor
 *   );
 *   CREATE INDEX ... ON <tokens> (session_id);
 *   CREATE INDEX ... ON <tokens> (user_id, expires_at);
 *
 * An app may add constraints (foreign keys to its users table, a CHECK on revoked_reason that
 * must then allow "reuse") but no further NOT NULL column without a default. Rows are
 * deleted by bt_session_open's housekeeping, so other tables must not reference them.
 *
 * Outcomes: every failure meaning "this credential does not get you in" is BT_EAUTH with
 * err->app_code "INVALID_CREDENTIALS", or "TOKEN_EXPIRED" for an expired refresh token, and
 * an English err->msg; the app renders its own words and can tell the cases apart through
 * enum bt_session_outcome. Database failures are BT_EDB, misuse BT_EINTERNAL.
 *
 * Threads: the store is read-only after bt_session_store_init and may be shared by every
 * thread; each call uses the connection it is given (one thread at a time, as db.h says).
 */
#ifndef BENTO_SESSION_H
#define BENTO_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_arena;
struct bt_db;
struct bt_db_read;
struct bt_err;
struct bt_rows;

/* Longest table name accepted (PostgreSQL truncates identifiers after 63 bytes). */
#define BT_SESSION_TABLE_MAX 63
/* Longest column list bt_session_store_users accepts, and the room for the statement it
 * builds from it. */
#define BT_SESSION_USER_COLUMNS_MAX 255
#define BT_SESSION_ALIVE_SQL_MAX 640

/* Where an app keeps its sessions. Fill it with bt_session_store_init, once, at start-up.
 * The table names are spliced into the SQL text (identifiers cannot be bound), which is safe
 * only because they are the app's compile-time constants, never input, and because
 * bt_session_store_init accepts nothing but [a-z_][a-z0-9_]* of at most 63 bytes. Every
 * other value is bound. */
struct bt_session_store {
    const char *sessions_table; /* e.g. "yunshui_sessions" (borrowed: a string literal) */
    const char *tokens_table;   /* e.g. "yunshui_refresh_tokens" */
    int64_t refresh_ttl_s;      /* lifetime of each refresh token from its issue, > 0 */
    bool checked;               /* set by bt_session_store_init only; the calls below refuse
                                   (BT_EINTERNAL, no SQL run) a store without it */
    /* set by bt_session_store_users only: bt_session_alive_user's statement, "" without */
    char alive_user_sql[BT_SESSION_ALIVE_SQL_MAX];
    size_t user_ncols; /* columns bt_session_alive_user hands back */
};

/* Why a call refused, for the app's wording (also BT_SESSION_OK on success). */
enum bt_session_outcome {
    BT_SESSION_OK = 0,
    BT_SESSION_UNKNOWN, /* no such refresh token or session, or not the expected user's */
    BT_SESSION_EXPIRED, /* the refresh token's lifetime is over (app_code TOKEN_EXPIRED) */
    BT_SESSION_REVOKED, /* the session was revoked before this call */
    BT_SESSION_REUSED,  /* a spent refresh token came back: its session was revoked now */
    BT_SESSION_REFUSED, /* the app's bt_session_check_fn said no; err is what it filled */
};

/* What bt_session_open and bt_session_refresh hand out (strings arena-owned). */
struct bt_session_grant {
    const char *user_id;       /* the session's user */
    const char *sid;           /* the session id: put it in the access tokens */
    const char *refresh_token; /* the new opaque token (32 random bytes, base64url, 43
                                  characters): give it to the client, never log it */
    enum bt_session_outcome outcome;
};

/** Validate and fill st. Table names: [a-z_][a-z0-9_]*, 1..BT_SESSION_TABLE_MAX bytes, the
 *  two different; refresh_ttl_s > 0. BT_OK, or BT_EINVAL (st left unusable) with a message
 *  naming the offending argument. */
int bt_session_store_init(struct bt_session_store *st, const char *sessions_table,
                          const char *tokens_table, int64_t refresh_ttl_s, struct bt_err *err);

/** Start a session for user_id: a session row and its first refresh token, expiring
 *  refresh_ttl_s from now. On the way, the user's expired refresh tokens and the sessions
 *  left without any token are deleted, so the tables do not grow with every login.
 *  Transaction: the caller's when one is open on db (then nothing is committed or rolled
 *  back here: the caller decides), otherwise its own. BT_OK with *out filled, BT_EINVAL
 *  for an empty user_id, BT_EDB / BT_ECONFLICT (e.g. the app's FK refused user_id). */
int bt_session_open(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                    const char *user_id, struct bt_session_grant *out, struct bt_err *err);

/** The app's last word before a refresh token is exchanged: called inside the exchange's
 *  transaction (on SQLite the write lock is held: be brief, use db only) with the session's
 *  user. Return BT_OK to go on, or fill err and return its status to refuse (e.g. a disabled
 *  account): the transaction is rolled back, the token stays unspent, and that status comes
 *  back from bt_session_refresh with outcome BT_SESSION_REFUSED. ud is the caller's. */
typedef int bt_session_check_fn(struct bt_db *db, const char *user_id, void *ud,
                                struct bt_err *err);

/** Exchange refresh token for a new one of the same session (rotation): the presented token
 *  is marked spent and its successor issued, all or nothing. Checks in this order:
 *    unknown token (or NULL)             -> BT_EAUTH INVALID_CREDENTIALS, BT_SESSION_UNKNOWN
 *    session revoked                     -> BT_EAUTH INVALID_CREDENTIALS, BT_SESSION_REVOKED
 *    token already spent (re-use: a copy
 *      or a replay), or spent by a
 *      concurrent exchange meanwhile     -> the session is revoked (reason "reuse", every
 *                                           token of the family dies, the newest included),
 *                                           BT_EAUTH INVALID_CREDENTIALS, BT_SESSION_REUSED
 *    token expired                       -> BT_EAUTH TOKEN_EXPIRED, BT_SESSION_EXPIRED
 *    check (may be NULL) refuses         -> its status, BT_SESSION_REFUSED
 *  So of several concurrent exchanges of one token exactly one succeeds, and the others,
 *  being re-use, then end the session. Refusals other than re-use change nothing.
 *  Transaction: always its own (the re-use revocation must be committed although the call
 *  fails), so a transaction open on db is misuse: BT_EINTERNAL. out->outcome is set on
 *  every path; the strings are set on success (user_id and sid also on refusals that found
 *  the token). */
int bt_session_refresh(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                       const char *refresh_token, bt_session_check_fn *check, void *ud,
                       struct bt_session_grant *out, struct bt_err *err);

/** The per-request check of an access token's session: one primary-key read. BT_OK when
 *  session sid exists, belongs to user_id and is not revoked; otherwise BT_EAUTH
 *  INVALID_CREDENTIALS with *outcome (may be NULL) BT_SESSION_UNKNOWN (no such session,
 *  another user's, NULL arguments) or BT_SESSION_REVOKED. Any transaction state is fine. */
int bt_session_alive(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                     const char *sid, const char *user_id, enum bt_session_outcome *outcome,
                     struct bt_err *err);

/** Name the app's users table for bt_session_alive_user, on a store bt_session_store_init
 *  filled: users_table (the same rules as the session tables' names, and neither of them)
 *  has its key in a column "id" that the sessions' user_id holds; columns is the list to
 *  read from it, comma-separated identifiers ([a-z_][a-z0-9_]* of at most
 *  BT_SESSION_TABLE_MAX bytes, optional spaces after a comma, BT_SESSION_USER_COLUMNS_MAX
 *  bytes in all), e.g. "username, role, is_active".
 *  Borrowed like the table names (string literals). BT_OK, or BT_EINVAL naming the
 *  argument (the store is then without users: everything but bt_session_alive_user works);
 *  BT_EINTERNAL on a store without bt_session_store_init. */
int bt_session_store_users(struct bt_session_store *st, const char *users_table,
                           const char *columns, struct bt_err *err);

/** bt_session_alive and the session's user row in one statement (the per-request check of
 *  an app that reads its user on every request, e.g. whether the account is enabled, which
 *  this module leaves to the app). The same refusals as bt_session_alive, checked in the
 *  same order, and a session whose user row no longer exists is BT_SESSION_UNKNOWN; on BT_OK
 *  *user is one row (arena-owned) of the columns given to bt_session_store_users, in their
 *  order. A store without bt_session_store_users: BT_EINTERNAL, no SQL run.
 *  ahead[0..nahead) (nahead < BT_DB_BATCH_MAX; ahead may be NULL when nahead is 0) are reads
 *  the caller will need once the check passes, e.g. the request's first read when the route
 *  makes it known: they go with the check in one round trip (bt_db_query_batch), so they run
 *  whatever the check finds, and their rows are handed back (ahead[i].rows) only on BT_OK:
 *  reads only, whose rows are thrown away on a refusal. */
int bt_session_alive_user(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                          const char *sid, const char *user_id, struct bt_rows **user,
                          struct bt_db_read *ahead, size_t nahead, enum bt_session_outcome *outcome,
                          struct bt_err *err);

/* Revocation. reason is stored in revoked_reason (non-empty: "logout", "password", ...).
 * A revoked session stays revoked: its refresh tokens are refused and bt_session_alive
 * fails, at once. Revoking what is already revoked or unknown is BT_OK and changes nothing
 * (the first reason and time stay). Each is one statement: it runs in the caller's
 * transaction when one is open, on its own otherwise. *changed (may be NULL) gets the number
 * of sessions revoked by this call. BT_EINVAL for an empty argument, BT_EDB. */

/** Revoke session sid. */
int bt_session_revoke(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                      const char *sid, const char *reason, int64_t *changed, struct bt_err *err);

/** Revoke the session refresh_token belongs to (spent or not), but only when it is user_id's
 *  (e.g. a logout naming a refresh token must not end somebody else's session). */
int bt_session_revoke_token(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                            const char *refresh_token, const char *user_id, const char *reason,
                            int64_t *changed, struct bt_err *err);

/** Revoke every live session of user_id except keep_sid (NULL: all of them), e.g. after a
 *  password change (keep the caller's) or when an account is disabled (keep none). */
int bt_session_revoke_user(const struct bt_session_store *st, struct bt_db *db, struct bt_arena *a,
                           const char *user_id, const char *keep_sid, const char *reason,
                           int64_t *changed, struct bt_err *err);

#endif
