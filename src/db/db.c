/* SPDX-License-Identifier: MIT
 * db.c - the engine-independent half of the database layer: result accessors, rows as
 * JSON, the transaction rules and the connection pool. Statements are handed to the back end
 * chosen by the URL through struct bt_db_ops (db_private.h).
 * Must not: know any engine's API (sqlite3_*, PQ*); splice values into SQL text.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <bento/arena.h>
#include <bento/db.h>
#include <bento/err.h>
#include <bento/net.h>
#include <bento/time.h>

#include "db/db_private.h"

/* ---- cells ---- */

static const struct bt_cell *cell_at(const struct bt_rows *rows, size_t r, size_t c)
{
    return &rows->cells[r * rows->ncols + c];
}

const char *bt_rows_text(const struct bt_rows *rows, size_t r, size_t c)
{
    return cell_at(rows, r, c)->s;
}

bool bt_rows_isnull(const struct bt_rows *rows, size_t r, size_t c)
{
    return cell_at(rows, r, c)->s == NULL;
}

int bt_rows_col(const struct bt_rows *rows, const char *name)
{
    for (size_t c = 0; c < rows->ncols; c++) {
        if (strcmp(rows->names[c], name) == 0)
            return (int)c;
    }
    return -1;
}

/* Whole-string integer parse; false on junk, overflow or empty text. */
static bool parse_i64(const char *s, int64_t *out)
{
    char *end;

    if (!s || !*s)
        return false;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_f64(const char *s, double *out)
{
    char *end;

    if (!s || !*s)
        return false;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL)))
        return false;
    *out = v;
    return true;
}

/* Text forms a boolean may arrive in: ours ("true"/"false"), PostgreSQL's "t"/"f", and
 * SQLite's stored integers. Returns -1 for anything else. */
static int parse_bool(const char *s)
{
    if (!s)
        return -1;
    if (!strcmp(s, "true") || !strcmp(s, "t") || !strcmp(s, "1") || !strcasecmp(s, "TRUE"))
        return 1;
    if (!strcmp(s, "false") || !strcmp(s, "f") || !strcmp(s, "0") || !strcasecmp(s, "FALSE"))
        return 0;
    int64_t i;
    if (parse_i64(s, &i))
        return i != 0;
    return -1;
}

int64_t bt_rows_i64(const struct bt_rows *rows, size_t r, size_t c, int64_t dflt)
{
    const char *s = bt_rows_text(rows, r, c);
    int64_t i;
    double f;

    if (!s)
        return dflt;
    if (parse_i64(s, &i))
        return i;
    if (rows->kinds[c] == BT_COL_BOOL) {
        int b = parse_bool(s);
        return b < 0 ? dflt : b;
    }
    /* REAL columns (or SQLite values stored as REAL): truncate like a C cast, in range */
    if (parse_f64(s, &f) && isfinite(f) && f >= -9.2233720368547758e18 && f < 9.2233720368547758e18)
        return (int64_t)f;
    return dflt;
}

double bt_rows_f64(const struct bt_rows *rows, size_t r, size_t c, double dflt)
{
    const char *s = bt_rows_text(rows, r, c);
    double f;

    if (!s)
        return dflt;
    if (rows->kinds[c] == BT_COL_BOOL) {
        int b = parse_bool(s);
        return b < 0 ? dflt : b;
    }
    return parse_f64(s, &f) ? f : dflt;
}

bool bt_rows_bool(const struct bt_rows *rows, size_t r, size_t c, bool dflt)
{
    int b = parse_bool(bt_rows_text(rows, r, c));

    return b < 0 ? dflt : b == 1;
}

/* ---- JSON ---- */

static json_t *cell_json(enum bt_col_kind kind, const struct bt_cell *cell)
{
    int64_t i;
    double f;
    int b;

    if (!cell->s)
        return json_null();
    switch (kind) {
    case BT_COL_INT:
        if (parse_i64(cell->s, &i))
            return json_integer(i);
        /* SQLite lets a BIGINT column hold 1.5 or text: show what is there */
        if (parse_f64(cell->s, &f))
            return isfinite(f) ? json_real(f) : json_null();
        break;
    case BT_COL_REAL:
        if (parse_f64(cell->s, &f))
            return isfinite(f) ? json_real(f) : json_null();
        break;
    case BT_COL_BOOL:
        b = parse_bool(cell->s);
        if (b >= 0)
            return json_boolean(b);
        break;
    case BT_COL_TEXT: break;
    }
    json_t *j = json_stringn(cell->s, cell->len);
    /* invalid UTF-8 (a BLOB) cannot be JSON text; null beats a broken document */
    return j ? j : json_null();
}

json_t *bt_rows_obj(const struct bt_rows *rows, size_t r)
{
    json_t *j_obj = json_object();

    for (size_t c = 0; c < rows->ncols; c++)
        json_object_set_new(j_obj, rows->names[c], cell_json(rows->kinds[c], cell_at(rows, r, c)));
    return j_obj;
}

/* ---- helpers for the back ends ---- */

void bt_db_fmt_real(double f, char *buf, size_t n)
{
    if (isnan(f)) {
        snprintf(buf, n, "NaN");
        return;
    }
    if (isinf(f)) {
        snprintf(buf, n, f > 0 ? "Infinity" : "-Infinity");
        return;
    }
    /* %.17g always round-trips but prints 0.1 as 0.10000000000000001: take the shortest
     * precision that reads back to the same double */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, f);
        if (strtod(buf, NULL) == f)
            return;
    }
}

void bt_db_rowbuf_init(struct bt_db_rowbuf *rb, struct bt_arena *a, size_t ncols)
{
    *rb = (struct bt_db_rowbuf){.a = a, .ncols = ncols};
}

struct bt_cell *bt_db_rowbuf_add(struct bt_db_rowbuf *rb)
{
    if (rb->nrows == rb->cap) {
        size_t cap = rb->cap ? rb->cap * 2 : 16;
        size_t width = rb->ncols ? rb->ncols : 1;
        struct bt_cell *cells = bt_arena_alloc(rb->a, cap * width * sizeof(*cells));
        if (rb->nrows)
            memcpy(cells, rb->cells, rb->nrows * rb->ncols * sizeof(*cells));
        rb->cells = cells;
        rb->cap = cap;
    }
    struct bt_cell *row = &rb->cells[rb->nrows * rb->ncols];
    memset(row, 0, rb->ncols * sizeof(*row));
    rb->nrows++;
    return row;
}

uint64_t bt_db_sql_hash(const char *sql)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *sql; sql++) {
        h ^= (unsigned char)*sql;
        h *= 1099511628211ULL;
    }
    return h;
}

int bt_db_fail(struct bt_db *db, struct bt_err *err, int code, const char *field,
               const char *detail)
{
    if (code == BT_ECONFLICT)
        return bt_fail(err, BT_ECONFLICT, field, "%s", detail);
    return bt_fail(err, code, field, "%s: %s", db->ops->name, detail);
}

/* ---- statements ---- */

enum bt_engine bt_db_engine(const struct bt_db *db)
{
    return db->ops->engine;
}

/* PostgreSQL refuses every statement after an error until ROLLBACK; SQLite carries on.
 * Both engines get PostgreSQL's rule, so code tested on one behaves the same on the other. */
static int check_tx(struct bt_db *db, struct bt_err *err)
{
    /* a connection that went bad earlier in this request stays unusable: the same 503 */
    if (db->broken)
        return bt_fail(err, BT_EUNAVAILABLE, NULL, "%s: the connection failed earlier",
                       db->ops->name);
    if (db->tx_failed)
        return bt_fail(err, BT_EDB, NULL,
                       "%s: statement in a failed transaction (roll it back first)", db->ops->name);
    return BT_OK;
}

static int after_stmt(struct bt_db *db, int rc)
{
    db->deadline_ns = 0;
    if (rc != BT_OK && db->in_tx)
        db->tx_failed = true;
    return rc;
}

/* ---- guards ---- */

void bt_db_guard(struct bt_db *db, int timeout_ms, int watch_fd)
{
    db->timeout_ns = timeout_ms > 0 ? (uint64_t)timeout_ms * 1000000u : 0;
    db->watch_fd = watch_fd;
    db->deadline_ns = 0;
    db->ticks = 0;
    db->stop = BT_DB_STOP_NONE;
    if (db->ops->guard)
        db->ops->guard(db);
}

enum bt_db_stop bt_db_stopped(const struct bt_db *db)
{
    return db->stop;
}

static bool guard_check(struct bt_db *db, bool look_at_socket)
{
    if (db->deadline_ns && bt_mono_ns() >= db->deadline_ns) {
        db->stop = BT_DB_STOP_DEADLINE;
        return true;
    }
    if (db->watch_fd >= 0 && look_at_socket && bt_sock_peer_closed(db->watch_fd)) {
        db->stop = BT_DB_STOP_GONE;
        return true;
    }
    return false;
}

bool bt_db_guard_tick(struct bt_db *db)
{
    return guard_check(db, (++db->ticks & 31u) == 0);
}

bool bt_db_guard_check(struct bt_db *db)
{
    return guard_check(db, true);
}

int bt_db_fail_stopped(struct bt_db *db, struct bt_err *err)
{
    return bt_db_fail(db, err, BT_EUNAVAILABLE, NULL,
                      db->stop == BT_DB_STOP_GONE ? "stopped: the client closed the connection"
                                                  : "stopped: the statement's deadline passed");
}

/* Before each statement: its deadline, or an immediate failure once the client is gone. */
static int guard_start(struct bt_db *db, struct bt_err *err)
{
    if (db->stop == BT_DB_STOP_GONE || (db->watch_fd >= 0 && bt_sock_peer_closed(db->watch_fd) &&
                                        (db->stop = BT_DB_STOP_GONE) != BT_DB_STOP_NONE))
        return bt_db_fail_stopped(db, err);
    db->deadline_ns = db->timeout_ns ? bt_mono_ns() + db->timeout_ns : 0;
    return BT_OK;
}

int bt_db_query(struct bt_db *db, struct bt_arena *a, struct bt_rows **out, const char *sql,
                const struct bt_val *args, size_t nargs, struct bt_err *err)
{
    int rc = check_tx(db, err);

    *out = NULL;
    if (rc != BT_OK)
        return rc;
    if ((rc = guard_start(db, err)) != BT_OK)
        return after_stmt(db, rc);
    return after_stmt(db, db->ops->query(db, a, out, sql, args, nargs, err));
}

int bt_db_query_batch(struct bt_db *db, struct bt_arena *a, struct bt_db_read *reads, size_t n,
                      struct bt_err *err)
{
    int rc;

    if (n == 0 || n > BT_DB_BATCH_MAX)
        return bt_fail(err, BT_EINTERNAL, NULL, "bt_db_query_batch: 1 to %d reads, not %zu",
                       BT_DB_BATCH_MAX, n);
    for (size_t i = 0; i < n; i++)
        reads[i].rows = NULL;
    rc = check_tx(db, err);
    if (rc != BT_OK)
        return rc;
    if (db->ops->query_batch) {
        /* one round trip: one statement's deadline for all of it */
        if ((rc = guard_start(db, err)) == BT_OK)
            rc = db->ops->query_batch(db, a, reads, n, err);
        rc = after_stmt(db, rc);
    } else {
        for (size_t i = 0; i < n && rc == BT_OK; i++) {
            if ((rc = guard_start(db, err)) == BT_OK)
                rc = db->ops->query(db, a, &reads[i].rows, reads[i].sql, reads[i].args,
                                    reads[i].nargs, err);
            rc = after_stmt(db, rc);
        }
    }
    if (rc != BT_OK) /* the documented all-or-nothing */
        for (size_t i = 0; i < n; i++)
            reads[i].rows = NULL;
    return rc;
}

int bt_db_exec(struct bt_db *db, int64_t *changed, const char *sql, const struct bt_val *args,
               size_t nargs, struct bt_err *err)
{
    int64_t n = 0;
    int rc = check_tx(db, err);

    if (rc == BT_OK) {
        rc = guard_start(db, err);
        if (rc == BT_OK)
            rc = db->ops->exec(db, &n, sql, args, nargs, err);
        rc = after_stmt(db, rc);
    }
    if (changed)
        *changed = rc == BT_OK ? n : 0;
    return rc;
}

int bt_db_exec_script(struct bt_db *db, const char *sql, struct bt_err *err)
{
    int rc = check_tx(db, err);

    if (rc != BT_OK)
        return rc;
    return after_stmt(db, db->ops->exec_script(db, sql, err));
}

int bt_db_query_json(struct bt_db *db, struct bt_arena *a, json_t **out, const char *sql,
                     const struct bt_val *args, size_t nargs, struct bt_err *err)
{
    struct bt_rows *rows;
    int rc = bt_db_query(db, a, &rows, sql, args, nargs, err);

    *out = NULL;
    if (rc != BT_OK)
        return rc;
    json_t *j_arr = bt_json_own(a, json_array());
    for (size_t r = 0; r < rows->nrows; r++)
        json_array_append_new(j_arr, bt_rows_obj(rows, r));
    *out = j_arr;
    return BT_OK;
}

int bt_db_query_one_json(struct bt_db *db, struct bt_arena *a, json_t **out, const char *sql,
                         const struct bt_val *args, size_t nargs, struct bt_err *err)
{
    struct bt_rows *rows;
    int rc = bt_db_query(db, a, &rows, sql, args, nargs, err);

    *out = NULL;
    if (rc != BT_OK)
        return rc;
    if (rows->nrows == 0)
        return bt_fail(err, BT_ENOTFOUND, NULL, "not found");
    *out = bt_json_own(a, bt_rows_obj(rows, 0));
    return BT_OK;
}

int bt_db_query_i64(struct bt_db *db, int64_t *out, const char *sql, const struct bt_val *args,
                    size_t nargs, struct bt_err *err)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_rows *rows;
    int rc = bt_db_query(db, a, &rows, sql, args, nargs, err);

    *out = 0;
    if (rc == BT_OK) {
        /* a NULL (MAX over no rows) is "no value" as much as a missing row is */
        if (rows->nrows == 0 || rows->ncols == 0 || bt_rows_isnull(rows, 0, 0))
            rc = bt_fail(err, BT_ENOTFOUND, NULL, "not found");
        else
            *out = bt_rows_i64(rows, 0, 0, 0);
    }
    bt_arena_free(a);
    return rc;
}

/* ---- transactions ---- */

int bt_db_begin(struct bt_db *db, struct bt_err *err)
{
    int64_t n;

    if (db->in_tx)
        bt_bug("bt_db_begin: transaction already open (nested begin)");
    int rc = guard_start(db, err);
    if (rc == BT_OK)
        rc = db->ops->exec(db, &n, db->ops->begin_sql, NULL, 0, err);
    db->deadline_ns = 0;
    if (rc != BT_OK)
        return rc;
    db->in_tx = true;
    db->tx_failed = false;
    return BT_OK;
}

int bt_db_commit(struct bt_db *db, struct bt_err *err)
{
    int64_t n;

    if (!db->in_tx)
        bt_bug("bt_db_commit: no transaction open");
    if (db->tx_failed) {
        bt_db_rollback(db);
        return bt_fail(err, db->broken ? BT_EUNAVAILABLE : BT_EDB, NULL,
                       "%s: transaction rolled back after an earlier error", db->ops->name);
    }
    int rc = db->ops->exec(db, &n, "COMMIT", NULL, 0, err);
    db->in_tx = false;
    db->tx_failed = false;
    /* a failed COMMIT (deferred constraint) leaves SQLite's transaction open: close it */
    if (rc != BT_OK)
        bt_db_rollback(db);
    return rc;
}

void bt_db_rollback(struct bt_db *db)
{
    int64_t n;
    struct bt_err err;

    if (db->in_tx || db->ops->engine_in_tx(db)) {
        if (db->ops->exec(db, &n, "ROLLBACK", NULL, 0, &err) != BT_OK && db->ops->engine_in_tx(db))
            db->broken = true; /* cannot get it clean: let the pool drop it */
    }
    db->in_tx = false;
    db->tx_failed = false;
}

bool bt_db_in_tx(const struct bt_db *db)
{
    return db->in_tx;
}

/* ---- pool ---- */

struct bt_dbpool {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled when a connection is returned or a slot frees up */
    const struct bt_db_ops *ops;
    char *url;
    unsigned max, open, in_use;
    struct bt_db **idle; /* stack: the most recently used connection goes out first */
    unsigned nidle;
    bool closing;
    struct bt_cachebus *_Atomic bus; /* read caches (cache.c), made by the first cache */
};

static const struct bt_db_ops *ops_for_url(const char *url)
{
    if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))
        return &bt_db_pg_ops;
    return &bt_db_sqlite_ops;
}

int bt_dbpool_open(const char *url, unsigned size, struct bt_dbpool **out, struct bt_err *err)
{
    struct bt_dbpool *pool;
    pthread_condattr_t ca;
    struct bt_db *db;
    int rc;

    *out = NULL;
    if (!url || !*url)
        return bt_fail(err, BT_EDB, NULL, "database url is empty");
    pool = calloc(1, sizeof(*pool));
    if (!pool)
        return bt_fail(err, BT_EDB, NULL, "out of memory");
    pool->ops = ops_for_url(url);
    pool->max = size ? size : 1;
    if (pool->ops == &bt_db_sqlite_ops && bt_db_sqlite_url_is_memory(url))
        pool->max = 1; /* every connection would be a different, empty database */
    pool->url = strdup(url);
    pool->idle = calloc(pool->max, sizeof(*pool->idle));
    if (!pool->url || !pool->idle) {
        free(pool->url);
        free(pool->idle);
        free(pool);
        return bt_fail(err, BT_EDB, NULL, "out of memory");
    }
    pthread_mutex_init(&pool->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->cv, &ca);
    pthread_condattr_destroy(&ca);

    /* the first connection now, so a bad URL fails at start-up and not on a request */
    rc = pool->ops->open(pool->url, 0, &db, err);
    if (rc != BT_OK) {
        pool->closing = true;
        bt_dbpool_free(pool);
        return rc;
    }
    db->watch_fd = -1;
    pool->idle[pool->nidle++] = db;
    pool->open = 1;
    *out = pool;
    return BT_OK;
}

static void pool_destroy(struct bt_dbpool *pool)
{
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    free(pool->idle);
    free(pool->url);
    free(pool);
}

void bt_dbpool_free(struct bt_dbpool *pool)
{
    if (!pool)
        return;
    /* the listener first: it has its own connection, and no cache may serve past here */
    bt_cachebus_free(atomic_load(&pool->bus));
    atomic_store(&pool->bus, NULL);
    pthread_mutex_lock(&pool->mu);
    pool->closing = true;
    while (pool->nidle) {
        pool->ops->close(pool->idle[--pool->nidle]);
        pool->open--;
    }
    bool busy = pool->in_use > 0;
    pthread_mutex_unlock(&pool->mu);
    /* connections still checked out: the last bt_dbpool_put frees the pool */
    if (!busy)
        pool_destroy(pool);
}

struct bt_cachebus *bt_dbpool_cachebus_find(struct bt_dbpool *pool)
{
    return pool ? atomic_load(&pool->bus) : NULL;
}

struct bt_cachebus *bt_dbpool_cachebus(struct bt_dbpool *pool)
{
    struct bt_cachebus *bus;

    pthread_mutex_lock(&pool->mu);
    bus = atomic_load(&pool->bus);
    if (!bus) {
        bus = bt_cachebus_new(pool->ops->engine, pool->url);
        atomic_store(&pool->bus, bus);
    }
    pthread_mutex_unlock(&pool->mu);
    return bus;
}

enum bt_engine bt_dbpool_engine(const struct bt_dbpool *pool)
{
    return pool->ops->engine;
}

void bt_dbpool_stats(struct bt_dbpool *pool, unsigned *in_use, unsigned *open, unsigned *max)
{
    pthread_mutex_lock(&pool->mu);
    if (in_use)
        *in_use = pool->in_use;
    if (open)
        *open = pool->open;
    if (max)
        *max = pool->max;
    pthread_mutex_unlock(&pool->mu);
}

/* Give up a slot (connection closed or never opened) and wake one waiter for it. */
static void pool_release_slot(struct bt_dbpool *pool)
{
    pthread_mutex_lock(&pool->mu);
    pool->open--;
    pool->in_use--;
    bool destroy = pool->closing && pool->in_use == 0;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    if (destroy)
        pool_destroy(pool);
}

/* Milliseconds from now until deadline, at least 1. */
static int ms_left(const struct timespec *deadline)
{
    struct timespec now;
    long long ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
         (deadline->tv_nsec - now.tv_nsec) / 1000000L;
    return ms < 1 ? 1 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

struct bt_db *bt_dbpool_get(struct bt_dbpool *pool, int timeout_ms, struct bt_err *err)
{
    struct timespec deadline;
    struct bt_db *db = NULL;
    bool have_slot = false;

    if (timeout_ms > 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }

    pthread_mutex_lock(&pool->mu);
    for (;;) {
        if (pool->closing) {
            pthread_mutex_unlock(&pool->mu);
            bt_fail(err, BT_EUNAVAILABLE, NULL, "database pool is closing");
            return NULL;
        }
        if (pool->nidle) {
            db = pool->idle[--pool->nidle];
            pool->in_use++;
            break;
        }
        if (pool->open < pool->max) {
            pool->open++; /* reserve the slot; the slow connect runs unlocked */
            pool->in_use++;
            have_slot = true;
            break;
        }
        int wrc = 0;
        if (timeout_ms == 0)
            wrc = ETIMEDOUT;
        else if (timeout_ms < 0)
            pthread_cond_wait(&pool->cv, &pool->mu);
        else
            wrc = pthread_cond_timedwait(&pool->cv, &pool->mu, &deadline);
        if (wrc == ETIMEDOUT && !pool->nidle && pool->open >= pool->max) {
            pthread_mutex_unlock(&pool->mu);
            bt_fail(err, BT_EUNAVAILABLE, NULL,
                    "no database connection free within %d ms (pool of %u)", timeout_ms, pool->max);
            return NULL;
        }
    }
    pthread_mutex_unlock(&pool->mu);

    /* an idle connection may have died (server restart, idle kill): reopen it */
    if (db && (db->broken || !pool->ops->healthy(db))) {
        pool->ops->close(db);
        db = NULL;
        have_slot = true;
    }
    if (have_slot) {
        /* connecting spends what is left of the caller's wait, no more (a server that went
         * away must not hold a request longer than a busy pool would) */
        if (pool->ops->open(pool->url, timeout_ms > 0 ? ms_left(&deadline) : timeout_ms, &db,
                            err) != BT_OK) {
            pool_release_slot(pool);
            return NULL;
        }
        db->watch_fd = -1;
    }
    db->in_tx = false;
    db->tx_failed = false;
    return db;
}

void bt_dbpool_put(struct bt_dbpool *pool, struct bt_db *db)
{
    if (!db)
        return;
    bt_db_guard(db, 0, -1); /* the rollback below must not be stopped */
    if (!db->broken && (db->in_tx || db->ops->engine_in_tx(db)))
        bt_db_rollback(db);

    pthread_mutex_lock(&pool->mu);
    if (db->broken || pool->closing) {
        pthread_mutex_unlock(&pool->mu);
        pool->ops->close(db);
        pool_release_slot(pool);
        return;
    }
    pool->idle[pool->nidle++] = db;
    pool->in_use--;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
}

/* ---- LIKE patterns ---- */

const char *bt_db_like_contains(struct bt_arena *a, const char *s)
{
    struct bt_buf b;

    if (!s)
        return NULL;
    bt_buf_init(&b, a, strlen(s) * 2 + 3);
    bt_buf_addc(&b, '%');
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            bt_buf_addc(&b, '\\');
        bt_buf_addc(&b, *s);
    }
    bt_buf_addc(&b, '%');
    return b.p;
}

/* ---- URLs and whole-database operations ---- */

enum bt_engine bt_db_url_engine(const char *url)
{
    return ops_for_url(url ? url : "") == &bt_db_pg_ops ? BT_ENGINE_PG : BT_ENGINE_SQLITE;
}

char *bt_db_url_redact(struct bt_arena *a, const char *url)
{
    const char *scheme_end, *auth, *at, *colon, *q;
    struct bt_buf b;

    if (bt_db_url_engine(url) != BT_ENGINE_PG)
        return bt_arena_strdup(a, url);
    bt_buf_init(&b, a, strlen(url) + 1);
    scheme_end = strstr(url, "://") + 3;
    auth = scheme_end;
    at = NULL;
    /* the userinfo ends at the last '@' before the path or query */
    for (const char *p = auth; *p && *p != '/' && *p != '?'; p++)
        if (*p == '@')
            at = p;
    bt_buf_add(&b, url, (size_t)(auth - url));
    if (at) {
        colon = memchr(auth, ':', (size_t)(at - auth));
        bt_buf_add(&b, auth, (size_t)((colon ? colon : at) - auth));
        auth = at; /* "@host..." follows */
    }
    q = strchr(auth, '?');
    if (!q) {
        bt_buf_adds(&b, auth);
        return b.p;
    }
    bt_buf_add(&b, auth, (size_t)(q - auth));
    /* keep every query parameter but password */
    {
        const char *p = q + 1;
        bool first = true;
        while (*p) {
            const char *amp = strchr(p, '&');
            size_t n = amp ? (size_t)(amp - p) : strlen(p);
            if (!(n >= 9 && !strncmp(p, "password=", 9)) && n > 0) {
                bt_buf_adds(&b, first ? "?" : "&");
                bt_buf_add(&b, p, n);
                first = false;
            }
            p += n;
            if (*p == '&')
                p++;
        }
    }
    return b.p;
}

int bt_db_backup(const char *url, const char *path, struct bt_err *err)
{
    if (!url || !*url || !path || !*path)
        return bt_fail(err, BT_EINVAL, NULL, "backup needs a database and a file");
    if (bt_db_url_engine(url) == BT_ENGINE_PG) {
        struct bt_arena *a = bt_arena_new();
        int rc = bt_fail(err, BT_EUNAVAILABLE, NULL,
                         "the database is PostgreSQL: back it up with pg_dump, e.g. pg_dump "
                         "--format=custom --file='%s' '%s' (the password from PGPASSWORD or "
                         "~/.pgpass)",
                         path, bt_db_url_redact(a, url));
        bt_arena_free(a);
        return rc;
    }
    return bt_db_sqlite_backup(url, path, err);
}
