/* SPDX-License-Identifier: MIT
 * db_private.h - the contract between the engine-independent layer (db.c: pool, JSON,
 * transactions) and the two back ends (db_sqlite.c, db_pg.c).
 * Owns: struct bt_db's common head and the back-end vtable.
 * Must not: be included outside src/db/; leak engine types (sqlite3 *, PGconn *) to callers.
 */
#ifndef BENTO_DB_PRIVATE_H
#define BENTO_DB_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bento/db.h>

struct bt_arena;
struct bt_err;

/* One back end. Every function gets a connection made by the same back end's open. */
struct bt_db_ops {
    enum bt_engine engine;
    const char *name;      /* "sqlite" / "pg", prefixes error messages */
    const char *begin_sql; /* "BEGIN IMMEDIATE" / "BEGIN" */

    /* Open one connection for url (already classified as this engine), taking at most about
     * timeout_ms to connect (<= 0: the back end's default). A database that cannot be
     * reached or opened is BT_EUNAVAILABLE. */
    int (*open)(const char *url, int timeout_ms, struct bt_db **out, struct bt_err *err);
    void (*close)(struct bt_db *db);
    /* Is the connection usable and outside any transaction? Called on check-out and
     * check-in; a back end may poll its socket here (must not block). */
    bool (*healthy)(struct bt_db *db);
    /* The engine's own view: is a transaction open (also one begun with raw SQL)? */
    bool (*engine_in_tx)(struct bt_db *db);

    int (*query)(struct bt_db *db, struct bt_arena *a, struct bt_rows **out, const char *sql,
                 const struct bt_val *args, size_t nargs, struct bt_err *err);
    int (*exec)(struct bt_db *db, int64_t *changed, const char *sql, const struct bt_val *args,
                size_t nargs, struct bt_err *err);
    int (*exec_script)(struct bt_db *db, const char *sql, struct bt_err *err);
    /* Optional: n reads in one round trip (bt_db_query_batch; 1 <= n <= BT_DB_BATCH_MAX); the
     * rows of those that succeeded before a failure may be set. NULL: one query at a time. */
    int (*query_batch)(struct bt_db *db, struct bt_arena *a, struct bt_db_read *reads, size_t n,
                       struct bt_err *err);
    /* The guard was set or removed (db->timeout_ns, db->watch_fd); NULL if the back end
     * needs no notice. */
    void (*guard)(struct bt_db *db);
};

/* The head every back end's connection struct starts with. */
struct bt_db {
    const struct bt_db_ops *ops;
    bool in_tx;     /* bt_db_begin succeeded, no commit/rollback yet */
    bool tx_failed; /* a statement failed inside the transaction: only rollback is allowed */
    bool broken;    /* the back end saw the connection die or go bad; the pool drops it and
                     * the next check-out opens a new one */
    /* the guard (bt_db_guard) */
    uint64_t timeout_ns;  /* each statement's budget, 0 = none */
    int watch_fd;         /* the client's socket, -1 = none */
    uint64_t deadline_ns; /* the running statement's deadline, 0 = none */
    unsigned ticks;       /* bt_db_guard_tick calls: the socket is looked at every 32nd */
    enum bt_db_stop stop; /* why a statement was stopped (sticky until the guard changes) */
};

/* The guard's check, for a back end's progress hook: returns true (and sets db->stop) when
 * the running statement must stop now. Cheap: a clock read, the socket every 32nd call. */
bool bt_db_guard_tick(struct bt_db *db);
/* The same, looking at the socket every time (for a back end that waits, not computes). */
bool bt_db_guard_check(struct bt_db *db);

/* A stopped statement's error: BT_EUNAVAILABLE saying why. */
int bt_db_fail_stopped(struct bt_db *db, struct bt_err *err);

extern const struct bt_db_ops bt_db_sqlite_ops;
extern const struct bt_db_ops bt_db_pg_ops;

/* Is url one SQLite treats as a private in-memory database (one connection only)? */
bool bt_db_sqlite_url_is_memory(const char *url);

/* Register the search index's FTS5 tokenizer "bento_grams" on a new SQLite connection
 * (search_sqlite.c). Returns an SQLite result code. */
struct sqlite3;
int bt_db_sqlite_register_search(struct sqlite3 *h);

/* ---- read caches (cache.c, cache_pg.c; include/bento/cache.h) ---- */

/* The pool's cache bus: every cache of the pool, and on PostgreSQL the listener's thread.
 * bt_dbpool_cachebus makes it on first use (engine and url from the pool); _find returns NULL
 * until then. bt_dbpool_free frees it. */
struct bt_cachebus;
struct bt_cachebus *bt_dbpool_cachebus(struct bt_dbpool *pool);
struct bt_cachebus *bt_dbpool_cachebus_find(struct bt_dbpool *pool);
struct bt_cachebus *bt_cachebus_new(enum bt_engine engine, const char *url);
void bt_cachebus_free(struct bt_cachebus *bus);

/* The listener's connection (cache_pg.c): connected as the pool connects (db_pg.c's
 * defaults), named "bento cache listener <pid>" (application_name), LISTENing on the
 * channel of its schema. */
struct bt_cache_pg;
int bt_cache_pg_open(const char *url, struct bt_cache_pg **out, struct bt_err *err);
void bt_cache_pg_close(struct bt_cache_pg *l); /* NULL is fine */
int bt_cache_pg_fd(const struct bt_cache_pg *l);
/* the last libpq error, one line (for the log) */
const char *bt_cache_pg_error(struct bt_cache_pg *l);
/* send a heartbeat (one query); false when the connection failed */
bool bt_cache_pg_ping(struct bt_cache_pg *l);
/* read what has arrived without blocking: each notification's payload to fn, in order;
 * *pong set once the heartbeat's answer is complete (after the notifications before it).
 * false when the connection is lost */
bool bt_cache_pg_read(struct bt_cache_pg *l, void (*fn)(void *ud, const char *payload), void *ud,
                      bool *pong);
/* the trigger function and triggers of {{CACHE table cache key}} (names already checked) */
struct bt_buf;
void bt_cache_pg_ddl(const char *table, const char *cache, const char *key, struct bt_buf *sql);

/* The libpq connection of a PostgreSQL struct bt_db (db_pg.c), for the listener. */
struct pg_conn;
struct pg_conn *bt_db_pg_conn(struct bt_db *db);

/* bt_db_backup's SQLite half (db_sqlite.c). */
int bt_db_sqlite_backup(const char *url, const char *dest, struct bt_err *err);

/* ---- helpers shared by the back ends (db.c) ---- */

/* Shortest text that strtod reads back to exactly f ("0.1", "5", "1e+20"); buf >= 32. */
void bt_db_fmt_real(double f, char *buf, size_t n);

/* Growable row collector: cells are appended row by row into arena memory. */
struct bt_db_rowbuf {
    struct bt_arena *a;
    size_t ncols, nrows, cap; /* cap in rows */
    struct bt_cell *cells;
};
void bt_db_rowbuf_init(struct bt_db_rowbuf *rb, struct bt_arena *a, size_t ncols);
/* Pointer to the ncols cells of a new row (zeroed = all NULL). */
struct bt_cell *bt_db_rowbuf_add(struct bt_db_rowbuf *rb);

/* "sqlite: msg" style error for the engine, code BT_EDB, BT_ECONFLICT or BT_EUNAVAILABLE. */
/* FNV-1a of a statement's text: the key of both engines' statement caches */
uint64_t bt_db_sql_hash(const char *sql);

int bt_db_fail(struct bt_db *db, struct bt_err *err, int code, const char *field,
               const char *detail);

#endif
