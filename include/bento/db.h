/* SPDX-License-Identifier: MIT
 * db.h - one database API, two engines: SQLite (embedded default) and PostgreSQL (libpq).
 * SQL is written once in the portable subset (docs/CONVENTIONS.md) with $1..$n parameters;
 * every value is bound, never spliced into the text.
 * Thread-safety: a struct bt_db (one connection) belongs to one thread at a time; the pool
 * is thread-safe.
 */
#ifndef BENTO_DB_H
#define BENTO_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct bt_arena;
struct bt_err;

enum bt_engine { BT_ENGINE_SQLITE = 1, BT_ENGINE_PG = 2 };

/* A bound value. Build with the inline constructors; bt_text(NULL) is SQL NULL. */
struct bt_val {
    enum { BT_V_NULL, BT_V_TEXT, BT_V_I64, BT_V_F64, BT_V_BOOL } type;
    union {
        const char *s;
        int64_t i;
        double f;
        bool b;
    } u;
};

static inline struct bt_val bt_null(void)
{
    return (struct bt_val){.type = BT_V_NULL};
}
static inline struct bt_val bt_text(const char *s)
{
    return (struct bt_val){.type = s ? BT_V_TEXT : BT_V_NULL, .u.s = s};
}
static inline struct bt_val bt_i64(int64_t i)
{
    return (struct bt_val){.type = BT_V_I64, .u.i = i};
}
static inline struct bt_val bt_f64(double f)
{
    return (struct bt_val){.type = BT_V_F64, .u.f = f};
}
static inline struct bt_val bt_bool(bool b)
{
    return (struct bt_val){.type = BT_V_BOOL, .u.b = b};
}

#define BT_ARGS(...)                                                                               \
    (const struct bt_val[]){__VA_ARGS__},                                                          \
        (sizeof((const struct bt_val[]){__VA_ARGS__}) / sizeof(struct bt_val))
#define BT_NOARGS NULL, 0

/* Column kinds in a result, mapped from PostgreSQL type OIDs and SQLite declared types, so
 * both engines give the same JSON: BIGINT/INTEGER -> INT, DOUBLE PRECISION/REAL -> REAL,
 * BOOLEAN -> BOOL, everything else -> TEXT. SQLite expression columns without a declared
 * type take the value's storage class. */
enum bt_col_kind { BT_COL_TEXT, BT_COL_INT, BT_COL_REAL, BT_COL_BOOL };

struct bt_cell {
    const char *s; /* text form, NULL for SQL NULL; arena-owned */
    size_t len;
};

struct bt_rows {
    size_t nrows, ncols;
    const char **names;      /* column names */
    enum bt_col_kind *kinds; /* per column */
    struct bt_cell *cells;   /* nrows * ncols, row-major */
};

/** Cell accessors; r and c must be in range. NULL cell -> NULL / dflt. */
const char *bt_rows_text(const struct bt_rows *rows, size_t r, size_t c);
int64_t bt_rows_i64(const struct bt_rows *rows, size_t r, size_t c, int64_t dflt);
double bt_rows_f64(const struct bt_rows *rows, size_t r, size_t c, double dflt);
bool bt_rows_bool(const struct bt_rows *rows, size_t r, size_t c, bool dflt);
bool bt_rows_isnull(const struct bt_rows *rows, size_t r, size_t c);
/** Column index by name, -1 if none. */
int bt_rows_col(const struct bt_rows *rows, const char *name);

/** One row as a JSON object typed by column kind (new reference). */
json_t *bt_rows_obj(const struct bt_rows *rows, size_t r);

/* ---- pool ---- */

struct bt_dbpool;
struct bt_db;

/** Open a pool. url: "postgres://..." or "postgresql://..." (libpq URI), or
 *  "sqlite:PATH" / a plain path / ":memory:" for SQLite. size = max connections (SQLite in
 *  :memory: always uses 1). Connections are opened lazily except the first, which is opened
 *  now to report a bad URL early. Returns BT_OK or BT_EDB. */
int bt_dbpool_open(const char *url, unsigned size, struct bt_dbpool **out, struct bt_err *err);
void bt_dbpool_free(struct bt_dbpool *pool);

/** Check out a connection, waiting up to timeout_ms for one to be free. Returns NULL and
 *  fills err (BT_EDB / BT_EUNAVAILABLE) on failure. A connection found broken is reopened. */
struct bt_db *bt_dbpool_get(struct bt_dbpool *pool, int timeout_ms, struct bt_err *err);
/** Return a connection. An open transaction is rolled back first. */
void bt_dbpool_put(struct bt_dbpool *pool, struct bt_db *db);

enum bt_engine bt_dbpool_engine(const struct bt_dbpool *pool);
/** In-use and total connection counts (metrics). */
void bt_dbpool_stats(struct bt_dbpool *pool, unsigned *in_use, unsigned *open, unsigned *max);

enum bt_engine bt_db_engine(const struct bt_db *db);

/* ---- URLs and operations on a whole database (the operator CLI) ---- */

/** The engine url names: postgres:// or postgresql:// is PostgreSQL, anything else SQLite.
 *  No connection is made. */
enum bt_engine bt_db_url_engine(const char *url);

/** The file of a SQLite url (borrowed from url); NULL for an in-memory database. */
const char *bt_db_sqlite_file(const char *url);

/** url with the password removed (user:password@ -> user@, password=... query parameters
 *  dropped), for messages and logs; arena-owned. Other URLs are returned as they are. */
char *bt_db_url_redact(struct bt_arena *a, const char *url);

/** Copy the database of url into the new file path. SQLite: the online backup API, one
 *  consistent snapshot while this and other processes keep reading and writing (WAL); path
 *  must not exist (never overwritten: BT_EINVAL), is created mode 0600 and is a
 *  self-contained database (no -wal file); a partial file is removed on failure. An
 *  in-memory or missing source is BT_EINVAL. PostgreSQL: BT_EUNAVAILABLE, with a message
 *  giving the pg_dump command for url without its password. BT_OK or BT_EDB otherwise. */
int bt_db_backup(const char *url, const char *path, struct bt_err *err);

/* ---- statements ----
 * Return BT_OK, BT_ECONFLICT (unique or foreign-key violation; err->msg names the
 * constraint kind) or BT_EDB. Statement text is cached per connection (prepared once). */

/** Run sql and copy every row into the arena. */
int bt_db_query(struct bt_db *db, struct bt_arena *a, struct bt_rows **out, const char *sql,
                const struct bt_val *args, size_t nargs, struct bt_err *err);

/* One read of bt_db_query_batch: the statement in, its rows out. */
struct bt_db_read {
    const char *sql;
    const struct bt_val *args;
    size_t nargs;
    struct bt_rows *rows; /* set by bt_db_query_batch (arena-owned), NULL until then */
};

/* The most reads bt_db_query_batch takes at once. */
#define BT_DB_BATCH_MAX 8

/** Run n reads (1..BT_DB_BATCH_MAX) in order, each as bt_db_query would, in one round trip
 *  to PostgreSQL (libpq's pipeline mode: the statements go out together, then the results
 *  come back); on SQLite, which has no round trips, one after the other. For reads known
 *  together, e.g. a per-request check and the read that follows it: every read runs, so a
 *  read after a check must be one whose rows the caller may simply throw away when the check
 *  refuses. Stops at the first failure: its status and err, and no read's rows (on
 *  PostgreSQL the reads after it are not run either). Outside a transaction PostgreSQL runs
 *  the batch as one implicit transaction; reads only, so that changes nothing. Under a guard
 *  (bt_db_guard) a PostgreSQL batch has one statement's deadline in all, SQLite each read
 *  its own. n out of range: BT_EINTERNAL. */
int bt_db_query_batch(struct bt_db *db, struct bt_arena *a, struct bt_db_read *reads, size_t n,
                      struct bt_err *err);

/** Run a statement that returns no rows; *changed gets the affected row count (may be NULL). */
int bt_db_exec(struct bt_db *db, int64_t *changed, const char *sql, const struct bt_val *args,
               size_t nargs, struct bt_err *err);

/** Rows as a JSON array of objects (arena-owned via bt_json_own). */
int bt_db_query_json(struct bt_db *db, struct bt_arena *a, json_t **out, const char *sql,
                     const struct bt_val *args, size_t nargs, struct bt_err *err);

/** First row as a JSON object (arena-owned); BT_ENOTFOUND (err filled) when no row. */
int bt_db_query_one_json(struct bt_db *db, struct bt_arena *a, json_t **out, const char *sql,
                         const struct bt_val *args, size_t nargs, struct bt_err *err);

/** First column of the first row as int64; BT_ENOTFOUND when no row. */
int bt_db_query_i64(struct bt_db *db, int64_t *out, const char *sql, const struct bt_val *args,
                    size_t nargs, struct bt_err *err);

/** Run several statements without parameters (migrations). */
int bt_db_exec_script(struct bt_db *db, const char *sql, struct bt_err *err);

/** A LIKE pattern matching s anywhere: "%" + s with %, _ and \ escaped + "%" (arena-owned).
 *  Use it as `col LIKE $n ESCAPE '\'`, which means the same on both engines (PostgreSQL's
 *  standard_conforming_strings is on). s == NULL -> NULL. */
const char *bt_db_like_contains(struct bt_arena *a, const char *s);

/* ---- guards: a deadline for every statement, and the client's connection ----
 * A request's connection is guarded (bt_req_db does it): each statement may run for
 * timeout_ms at most, and on a request served by the slow lane it stops as soon as the
 * client has closed its connection (watch_fd: the client's socket; FIN or reset). A stopped
 * statement fails with BT_EUNAVAILABLE (the service's 503); once the client is gone every
 * later statement of the request fails at once, so the request's transaction is rolled back
 * whole. SQLite checks from a progress handler, PostgreSQL waits for the result on both
 * sockets and sends a cancel request (docs/DATABASE.md, "Deadlines"). bt_dbpool_put removes
 * the guard before it rolls back an open transaction. */

enum bt_db_stop { BT_DB_STOP_NONE, BT_DB_STOP_DEADLINE, BT_DB_STOP_GONE };

/** Guard db: timeout_ms per statement (0: none), watch_fd the client's socket (-1: none).
 *  bt_db_guard(db, 0, -1) removes the guard and forgets the last stop. */
void bt_db_guard(struct bt_db *db, int timeout_ms, int watch_fd);

/** Why a statement of this guard was stopped, BT_DB_STOP_NONE if none was. */
enum bt_db_stop bt_db_stopped(const struct bt_db *db);

/* ---- transactions ----
 * begin on SQLite is BEGIN IMMEDIATE (take the write lock now, so read-then-write does not
 * deadlock into SQLITE_BUSY). Nested begin is a bug. */
int bt_db_begin(struct bt_db *db, struct bt_err *err);
int bt_db_commit(struct bt_db *db, struct bt_err *err);
void bt_db_rollback(struct bt_db *db);
bool bt_db_in_tx(const struct bt_db *db);

#endif
