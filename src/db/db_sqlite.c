/* SPDX-License-Identifier: MIT
 * db_sqlite.c - the SQLite back end: connection set-up (WAL, foreign keys, busy timeout),
 * a per-connection prepared-statement cache, $N binding by name, and result typing from
 * declared column types so the JSON matches the PostgreSQL back end; faults of the disk
 * (full, read-only, I/O errors) are told apart from failed statements.
 * Must not: bind $N positionally (SQLite numbers named parameters by first appearance, so
 * "$2 ... $1" would swap); accept parameters other than $1..$n; share a connection between
 * threads (connections are opened SQLITE_OPEN_NOMUTEX; the pool hands each to one thread).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <bento/arena.h>
#include <bento/db.h>
#include <bento/err.h>
#include <bento/time.h>

#include "db/db_private.h"

#define SQ_BUSY_TIMEOUT_MS 5000
#define SQ_CACHE_SIZE 64

struct sq_stmt {
    sqlite3_stmt *st; /* NULL = free slot */
    char *sql;        /* own copy of the text, the cache key */
    const char *ptr;  /* caller's pointer at last use: equal pointer skips strcmp */
    uint64_t hash;
    uint64_t used; /* LRU tick */
    unsigned nparams, maxref;
};

struct sq_db {
    struct bt_db base; /* first: a struct bt_db * is a struct sq_db * */
    sqlite3 *h;
    char *path; /* the file; NULL for an in-memory database (never reopened: it would be empty) */
    uint64_t tick;
    uint64_t busy_since; /* when the current wait for a lock began (sq_busy) */
    struct sq_stmt cache[SQ_CACHE_SIZE];
};

static struct sq_db *sq(struct bt_db *db)
{
    return (struct sq_db *)db;
}

/* ---- URL ---- */

static const char *sq_path(const char *url)
{
    if (!strncmp(url, "sqlite://", 9))
        return url + 9; /* sqlite:///abs/path -> /abs/path */
    if (!strncmp(url, "sqlite:", 7))
        return url + 7;
    return url;
}

bool bt_db_sqlite_url_is_memory(const char *url)
{
    const char *p = sq_path(url);

    /* "" is a private temporary database per connection, as :memory: is */
    return !*p || !strcmp(p, ":memory:");
}

const char *bt_db_sqlite_file(const char *url)
{
    return bt_db_sqlite_url_is_memory(url) ? NULL : sq_path(url);
}

/* mkdir -p of the directory part of path. */
static int make_parent(const char *path, struct bt_err *err)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');

    if (!slash || slash == path)
        return BT_OK;
    size_t n = (size_t)(slash - path);
    if (n >= sizeof(dir))
        return bt_fail(err, BT_EDB, NULL, "sqlite: database path too long");
    memcpy(dir, path, n);
    dir[n] = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST)
                return bt_fail(err, BT_EUNAVAILABLE, NULL, "sqlite: cannot create directory %s: %s",
                               dir, strerror(errno));
            *p = c;
            if (!c)
                break;
        }
    }
    return BT_OK;
}

/* ---- errors ---- */

/* "UNIQUE constraint failed: t.a, t.b" -> "a,b" (the columns, as PostgreSQL's detail). */
static void unique_columns(const char *msg, char *out, size_t n)
{
    const char *p = strstr(msg, "constraint failed: ");
    size_t len = 0;

    out[0] = '\0';
    if (!p || strncmp(p + 19, "index ", 6) == 0)
        return;
    p += 19;
    while (*p && len + 1 < n) {
        const char *end = strchr(p, ',');
        const char *stop = end ? end : p + strlen(p);
        const char *dot = memchr(p, '.', (size_t)(stop - p));
        const char *col = dot ? dot + 1 : p;
        size_t cl = (size_t)(stop - col);
        if (len && len + 1 < n)
            out[len++] = ',';
        if (cl > n - 1 - len)
            cl = n - 1 - len;
        memcpy(out + len, col, cl);
        len += cl;
        out[len] = '\0';
        if (!end)
            break;
        p = end + 1;
        while (*p == ' ')
            p++;
    }
}

/* Result codes that are the storage's fault, not the statement's: the disk is full, the
 * file or its directory cannot be written, an I/O error, the file cannot be opened, or
 * another writer held the lock past the busy timeout. The client gets 503 and may retry
 * (docs/DATABASE.md, "Errors"). */
static bool sq_unavailable(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_BUSY: return true;
    default: return false;
    }
}

/* After these the connection may be stale (an I/O error, a file that moved or was opened
 * read-only): the pool opens a fresh one. A full disk or a busy lock leaves it usable. */
static bool sq_reopen(int rc)
{
    int primary = rc & 0xff;

    return primary == SQLITE_READONLY || primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN;
}

/* Map the connection's last error: every constraint kind is a conflict (as PostgreSQL's
 * SQLSTATE class 23), a fault of the storage is BT_EUNAVAILABLE, the rest is BT_EDB with
 * SQLite's message. */
static int sq_fail(struct sq_db *s, struct bt_err *err)
{
    int ext = sqlite3_extended_errcode(s->h);
    const char *msg = sqlite3_errmsg(s->h);
    char cols[64];

    if (((ext & 0xff) == SQLITE_INTERRUPT || (ext & 0xff) == SQLITE_BUSY) && s->base.stop)
        return bt_db_fail_stopped(&s->base, err);
    if (sq_unavailable(ext)) {
        if (sq_reopen(ext) && s->path)
            s->base.broken = true;
        return bt_db_fail(&s->base, err, BT_EUNAVAILABLE, NULL, msg);
    }
    if ((ext & 0xff) != SQLITE_CONSTRAINT)
        return bt_db_fail(&s->base, err, BT_EDB, NULL, msg);
    switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        unique_columns(msg, cols, sizeof(cols));
        return bt_db_fail(&s->base, err, BT_ECONFLICT, cols[0] ? cols : NULL,
                          "unique constraint violated");
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return bt_db_fail(&s->base, err, BT_ECONFLICT, NULL, "foreign key constraint violated");
    case SQLITE_CONSTRAINT_CHECK:
        return bt_db_fail(&s->base, err, BT_ECONFLICT, NULL, "check constraint violated");
    case SQLITE_CONSTRAINT_NOTNULL:
        return bt_db_fail(&s->base, err, BT_ECONFLICT, NULL, "not null constraint violated");
    default: return bt_db_fail(&s->base, err, BT_ECONFLICT, NULL, "constraint violated");
    }
}

/* ---- connection ---- */

static void sq_close(struct bt_db *db)
{
    struct sq_db *s = sq(db);

    if (!s)
        return;
    for (size_t i = 0; i < SQ_CACHE_SIZE; i++) {
        sqlite3_finalize(s->cache[i].st);
        free(s->cache[i].sql);
    }
    sqlite3_close_v2(s->h);
    free(s->path);
    free(s);
}

/* Waiting for another connection's write lock: up to SQ_BUSY_TIMEOUT_MS in all (then
 * SQLITE_BUSY, a 503), and no longer than the guard allows (bt_db_guard). Short naps first:
 * most locks are held for well under a millisecond. */
static int sq_busy(void *arg, int count)
{
    struct sq_db *s = arg;
    uint64_t now = bt_mono_ns();

    if (count == 0)
        s->busy_since = now;
    if (now - s->busy_since >= (uint64_t)SQ_BUSY_TIMEOUT_MS * 1000000u)
        return 0;
    if ((s->base.timeout_ns || s->base.watch_fd >= 0) && bt_db_guard_check(&s->base))
        return 0;
    usleep(count < 4 ? 250u << count : 5000u);
    return 1;
}

/* Before SQLite's first use in the process: no memory statistics. With them on, every
 * allocation of every connection takes one global mutex, so a list query on the slow lane
 * that is preempted while holding it stalls a fast request's allocation until it runs again
 * (docs/PERFORMANCE.md, "Lanes"). bento never reads them. Ignored (SQLITE_MISUSE) if SQLite
 * was already initialised. */
static void sq_global_config(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sq_open(const char *url, int timeout_ms, struct bt_db **out, struct bt_err *err)
{
    const char *path = sq_path(url);
    bool memory = bt_db_sqlite_url_is_memory(url);
    struct sq_db *s;
    char *msg = NULL;
    int rc, code;

    static pthread_once_t once = PTHREAD_ONCE_INIT;

    (void)timeout_ms; /* a local file: opening does not wait on anyone */
    pthread_once(&once, sq_global_config);
    *out = NULL;
    if (!memory && (rc = make_parent(path, err)) != BT_OK)
        return rc;
    s = calloc(1, sizeof(*s));
    if (!s)
        return bt_fail(err, BT_EDB, NULL, "sqlite: out of memory");
    s->base.ops = &bt_db_sqlite_ops;
    if (!memory && !(s->path = strdup(path))) {
        free(s);
        return bt_fail(err, BT_EDB, NULL, "sqlite: out of memory");
    }
    /* a file bento may not write is opened read-only: reads go on, writes fail with
     * SQLITE_READONLY (503) until the file is writable again (sq_healthy) */
    code = sqlite3_open_v2(path, &s->h,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (code != SQLITE_OK) {
        rc = bt_fail(err, s->h ? BT_EUNAVAILABLE : BT_EDB, NULL, "sqlite: cannot open %s: %s", path,
                     s->h ? sqlite3_errmsg(s->h) : "out of memory");
        sq_close(&s->base);
        return rc;
    }
    sqlite3_extended_result_codes(s->h, 1);
    sqlite3_busy_handler(s->h, sq_busy, s);
    /* WAL: readers do not block the writer; NORMAL is durable at checkpoints under WAL.
     * recursive_triggers: a row deleted by a REPLACE conflict then fires its delete
     * triggers, which keep the search index exact (search.c). */
    if ((code = sqlite3_exec(s->h,
                             "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; "
                             "PRAGMA synchronous=NORMAL; PRAGMA recursive_triggers=ON;",
                             NULL, NULL, &msg)) != SQLITE_OK) {
        rc = bt_fail(err, sq_unavailable(code) ? BT_EUNAVAILABLE : BT_EDB, NULL,
                     "sqlite: cannot set up %s: %s", path, msg ? msg : sqlite3_errmsg(s->h));
        sqlite3_free(msg);
        sq_close(&s->base);
        return rc;
    }
    /* the search index's tokenizer, on every connection: its FTS5 tables cannot even be
     * opened without it, so no connection may write a searched table without it */
    if ((rc = bt_db_sqlite_register_search(s->h)) != SQLITE_OK) {
        rc = bt_fail(err, BT_EDB, NULL, "sqlite: cannot register the search tokenizer: %s",
                     sqlite3_errstr(rc));
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return BT_OK;
}

static bool sq_healthy(struct bt_db *db)
{
    struct sq_db *s = sq(db);

    if (db->broken || !sqlite3_get_autocommit(s->h))
        return false;
    /* opened read-only because bento could not write the file: once it can, a new connection
     * writes again, without a restart (one access(2) per check-out, only in that state) */
    if (s->path && sqlite3_db_readonly(s->h, "main") == 1 && access(s->path, W_OK) == 0)
        return false;
    return true;
}

/* ---- the guard: SQLite calls this every SQ_PROGRESS_OPS virtual machine instructions of a
 * running statement (about every 10-50 microseconds); a true return interrupts it
 * (SQLITE_INTERRUPT), which sq_fail turns into the guard's 503. Installed only while a guard
 * is set, so migrations and the command line run without it. */

#define SQ_PROGRESS_OPS 1000

static int sq_progress(void *arg)
{
    return bt_db_guard_tick(arg);
}

static void sq_guard(struct bt_db *db)
{
    bool on = db->timeout_ns || db->watch_fd >= 0;

    sqlite3_progress_handler(sq(db)->h, on ? SQ_PROGRESS_OPS : 0, on ? sq_progress : NULL, db);
}

static bool sq_engine_in_tx(struct bt_db *db)
{
    return !sqlite3_get_autocommit(sq(db)->h);
}

/* ---- statement cache ---- */

/* Only $1..$n: anything else (?, ?NNN, :name, @name, $name) would bind differently on
 * PostgreSQL or not at all. */
static int check_params(struct sq_db *s, sqlite3_stmt *st, unsigned *maxref, struct bt_err *err)
{
    int n = sqlite3_bind_parameter_count(st);

    *maxref = 0;
    for (int i = 1; i <= n; i++) {
        const char *name = sqlite3_bind_parameter_name(st, i);
        char *end;
        if (!name || name[0] != '$' || name[1] < '1' || name[1] > '9')
            return bt_db_fail(&s->base, err, BT_EDB, NULL, "only $1..$n parameters are supported");
        unsigned long k = strtoul(name + 1, &end, 10);
        if (*end || k > 32767)
            return bt_db_fail(&s->base, err, BT_EDB, NULL, "only $1..$n parameters are supported");
        if (k > *maxref)
            *maxref = (unsigned)k;
    }
    return BT_OK;
}

static int sq_prepare(struct sq_db *s, const char *sql, struct sq_stmt **out, struct bt_err *err)
{
    uint64_t h = bt_db_sql_hash(sql);
    struct sq_stmt *victim = NULL;
    sqlite3_stmt *st = NULL, *more = NULL;
    const char *tail = NULL;
    unsigned maxref;
    int rc;

    s->tick++;
    for (size_t i = 0; i < SQ_CACHE_SIZE; i++) {
        struct sq_stmt *e = &s->cache[i];
        if (e->st && e->hash == h && (e->ptr == sql || !strcmp(e->sql, sql))) {
            e->ptr = sql;
            e->used = s->tick;
            *out = e;
            return BT_OK;
        }
        /* a free slot if there is one, else the least recently used statement */
        if (!e->st) {
            if (!victim || victim->st)
                victim = e;
        } else if (!victim || (victim->st && e->used < victim->used)) {
            victim = e;
        }
    }

    if (sqlite3_prepare_v3(s->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail) != SQLITE_OK)
        return sq_fail(s, err);
    if (!st)
        return bt_db_fail(&s->base, err, BT_EDB, NULL, "empty statement");
    /* one statement only, as PostgreSQL's extended protocol: scripts use exec_script */
    if (tail && *tail) {
        if (sqlite3_prepare_v2(s->h, tail, -1, &more, NULL) != SQLITE_OK || more) {
            sqlite3_finalize(more);
            sqlite3_finalize(st);
            return bt_db_fail(&s->base, err, BT_EDB, NULL,
                              "several statements in one query (use bt_db_exec_script)");
        }
    }
    if ((rc = check_params(s, st, &maxref, err)) != BT_OK) {
        sqlite3_finalize(st);
        return rc;
    }
    char *copy = strdup(sql);
    if (!copy) {
        sqlite3_finalize(st);
        return bt_fail(err, BT_EDB, NULL, "sqlite: out of memory");
    }
    sqlite3_finalize(victim->st);
    free(victim->sql);
    *victim = (struct sq_stmt){.st = st,
                               .sql = copy,
                               .ptr = sql,
                               .hash = h,
                               .used = s->tick,
                               .nparams = (unsigned)sqlite3_bind_parameter_count(st),
                               .maxref = maxref};
    *out = victim;
    return BT_OK;
}

static int sq_bind(struct sq_db *s, struct sq_stmt *e, const struct bt_val *args, size_t nargs,
                   struct bt_err *err)
{
    sqlite3_stmt *st = e->st;

    if (e->maxref > nargs)
        return bt_fail(err, BT_EDB, NULL, "sqlite: $%u used but only %zu argument(s) given",
                       e->maxref, nargs);
    /* PostgreSQL cannot type a parameter the text never mentions and fails the statement;
     * fail here too, so the mistake shows on the default engine */
    if (e->nparams != nargs)
        return bt_fail(err, BT_EDB, NULL, "sqlite: %zu argument(s) given but the statement uses %u",
                       nargs, e->nparams);
    for (size_t i = 0; i < nargs; i++) {
        char name[24];
        int rc;
        snprintf(name, sizeof(name), "$%zu", i + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx == 0)
            continue;
        switch (args[i].type) {
        case BT_V_NULL: rc = sqlite3_bind_null(st, idx); break;
        case BT_V_TEXT:
            /* STATIC: the statement is stepped to completion before the caller's text can go */
            rc = sqlite3_bind_text(st, idx, args[i].u.s, -1, SQLITE_STATIC);
            break;
        case BT_V_I64: rc = sqlite3_bind_int64(st, idx, args[i].u.i); break;
        case BT_V_F64: rc = sqlite3_bind_double(st, idx, args[i].u.f); break;
        case BT_V_BOOL: rc = sqlite3_bind_int(st, idx, args[i].u.b ? 1 : 0); break;
        default: return bt_fail(err, BT_EDB, NULL, "sqlite: bad argument type for %s", name);
        }
        if (rc != SQLITE_OK)
            return sq_fail(s, err);
    }
    return BT_OK;
}

static void sq_done(struct sq_stmt *e)
{
    sqlite3_reset(e->st);
    sqlite3_clear_bindings(e->st);
}

/* ---- results ---- */

/* Kind from the declared type, -1 when there is none (an expression) or it says nothing
 * portable (NUMERIC): then the values' storage classes decide. */
static int decl_kind(const char *decl)
{
    char up[64];
    size_t i;

    if (!decl)
        return -1;
    for (i = 0; decl[i] && i + 1 < sizeof(up); i++)
        up[i] = (char)(decl[i] >= 'a' && decl[i] <= 'z' ? decl[i] - 32 : decl[i]);
    up[i] = '\0';
    if (strstr(up, "BOOL"))
        return BT_COL_BOOL;
    if (strstr(up, "INT"))
        return BT_COL_INT;
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
        return BT_COL_REAL;
    if (strstr(up, "NUM") || strstr(up, "DEC"))
        return -1;
    return BT_COL_TEXT;
}

static void set_cell(struct bt_arena *a, struct bt_cell *cell, const char *p, size_t n)
{
    char *s = bt_arena_alloc(a, n + 1);

    memcpy(s, p, n);
    s[n] = '\0';
    cell->s = s;
    cell->len = n;
}

static int sq_query(struct bt_db *db, struct bt_arena *a, struct bt_rows **out, const char *sql,
                    const struct bt_val *args, size_t nargs, struct bt_err *err)
{
    struct sq_db *s = sq(db);
    struct sq_stmt *e;
    struct bt_db_rowbuf rb;
    int rc;

    if ((rc = sq_prepare(s, sql, &e, err)) != BT_OK)
        return rc;
    if ((rc = sq_bind(s, e, args, nargs, err)) != BT_OK) {
        sq_done(e);
        return rc;
    }

    sqlite3_stmt *st = e->st;
    /* step before reading column metadata: a statement re-prepared after a schema change
     * (SELECT * after ALTER TABLE) only shows its new columns once stepped */
    rc = sqlite3_step(st);
    size_t ncols = (size_t)sqlite3_column_count(st);
    struct bt_rows *rows = bt_arena_alloc(a, sizeof(*rows));
    int *decl = bt_arena_alloc(a, (ncols ? ncols : 1) * sizeof(*decl));
    /* storage classes seen per column, for columns without a usable declared type */
    unsigned char *seen = bt_arena_alloc(a, ncols ? ncols : 1);

    rows->ncols = ncols;
    rows->names = bt_arena_alloc(a, (ncols ? ncols : 1) * sizeof(*rows->names));
    rows->kinds = bt_arena_alloc(a, (ncols ? ncols : 1) * sizeof(*rows->kinds));
    for (size_t c = 0; c < ncols; c++) {
        const char *name = sqlite3_column_name(st, (int)c);
        rows->names[c] = bt_arena_strdup(a, name ? name : "");
        decl[c] = decl_kind(sqlite3_column_decltype(st, (int)c));
    }

    bt_db_rowbuf_init(&rb, a, ncols);
    for (; rc == SQLITE_ROW; rc = sqlite3_step(st)) {
        struct bt_cell *row = bt_db_rowbuf_add(&rb);
        for (size_t c = 0; c < ncols; c++) {
            char num[40];
            int t = sqlite3_column_type(st, (int)c);
            switch (t) {
            case SQLITE_INTEGER: {
                sqlite3_int64 v = sqlite3_column_int64(st, (int)c);
                if (decl[c] == BT_COL_BOOL)
                    snprintf(num, sizeof(num), "%s", v ? "true" : "false");
                else
                    snprintf(num, sizeof(num), "%lld", (long long)v);
                set_cell(a, &row[c], num, strlen(num));
                seen[c] |= 1;
                break;
            }
            case SQLITE_FLOAT:
                /* sqlite3_column_text would print 15 digits: not a round trip */
                bt_db_fmt_real(sqlite3_column_double(st, (int)c), num, sizeof(num));
                set_cell(a, &row[c], num, strlen(num));
                seen[c] |= 2;
                break;
            case SQLITE_TEXT:
            case SQLITE_BLOB: {
                const void *p = t == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, (int)c)
                                                 : sqlite3_column_blob(st, (int)c);
                int n = sqlite3_column_bytes(st, (int)c);
                set_cell(a, &row[c], p ? p : "", p ? (size_t)n : 0);
                seen[c] |= 4;
                break;
            }
            default: break; /* NULL */
            }
        }
    }
    if (rc != SQLITE_DONE) {
        rc = sq_fail(s, err);
        sq_done(e);
        return rc;
    }
    sq_done(e);

    for (size_t c = 0; c < ncols; c++) {
        if (decl[c] >= 0)
            rows->kinds[c] = (enum bt_col_kind)decl[c];
        else if (seen[c] & 4)
            rows->kinds[c] = BT_COL_TEXT;
        else if (seen[c] & 2)
            rows->kinds[c] = BT_COL_REAL;
        else if (seen[c] & 1)
            rows->kinds[c] = BT_COL_INT;
        else
            rows->kinds[c] = BT_COL_TEXT;
    }
    rows->nrows = rb.nrows;
    rows->cells = rb.cells;
    *out = rows;
    return BT_OK;
}

static int sq_exec(struct bt_db *db, int64_t *changed, const char *sql, const struct bt_val *args,
                   size_t nargs, struct bt_err *err)
{
    struct sq_db *s = sq(db);
    struct sq_stmt *e;
    int64_t nrows = 0;
    int rc;

    *changed = 0;
    if ((rc = sq_prepare(s, sql, &e, err)) != BT_OK)
        return rc;
    if ((rc = sq_bind(s, e, args, nargs, err)) != BT_OK) {
        sq_done(e);
        return rc;
    }
    sqlite3_int64 before = sqlite3_total_changes64(s->h);
    while ((rc = sqlite3_step(e->st)) == SQLITE_ROW)
        nrows++; /* RETURNING must be stepped to the end to finish the write */
    if (rc != SQLITE_DONE) {
        rc = sq_fail(s, err);
        sq_done(e);
        return rc;
    }
    /* sqlite3_changes64 keeps the last DML's count across DDL: trust it only if this
     * statement changed something. A SELECT counts its rows, as PostgreSQL reports. */
    if (sqlite3_total_changes64(s->h) != before)
        *changed = sqlite3_changes64(s->h);
    else if (sqlite3_stmt_readonly(e->st))
        *changed = nrows;
    sq_done(e);
    return BT_OK;
}

static int sq_exec_script(struct bt_db *db, const char *sql, struct bt_err *err)
{
    struct sq_db *s = sq(db);
    char *msg = NULL;

    if (sqlite3_exec(s->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sqlite3_free(msg); /* the connection's errmsg says the same */
        return sq_fail(s, err);
    }
    return BT_OK;
}

const struct bt_db_ops bt_db_sqlite_ops = {
    .engine = BT_ENGINE_SQLITE,
    .name = "sqlite",
    .begin_sql = "BEGIN IMMEDIATE",
    .open = sq_open,
    .close = sq_close,
    .healthy = sq_healthy,
    .engine_in_tx = sq_engine_in_tx,
    .query = sq_query,
    .exec = sq_exec,
    .exec_script = sq_exec_script,
    .guard = sq_guard,
};

/* ---- online backup (bento backup) ---- */

int bt_db_sqlite_backup(const char *url, const char *dest, struct bt_err *err)
{
    const char *path = sq_path(url);
    sqlite3 *src = NULL, *dst = NULL;
    sqlite3_backup *b;
    struct stat st;
    int fd, rc, step;

    if (bt_db_sqlite_url_is_memory(url))
        return bt_fail(err, BT_EINVAL, NULL, "an in-memory database has nothing to back up");
    if (stat(path, &st) != 0)
        return bt_fail(err, BT_EINVAL, NULL, "no database at %s: %s", path, strerror(errno));
    /* O_EXCL: never overwrite a file (an older backup, or the database itself); 0600 because
     * the copy holds password hashes and secrets at rest like the original */
    fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return bt_fail(err, BT_EINVAL, NULL, "cannot create %s: %s%s", dest, strerror(errno),
                       errno == EEXIST ? " (backup never overwrites a file)" : "");
    close(fd);
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        rc = bt_fail(err, BT_EDB, NULL, "sqlite: cannot open %s: %s", path,
                     src ? sqlite3_errmsg(src) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(src, SQ_BUSY_TIMEOUT_MS);
    if (sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        rc = bt_fail(err, BT_EDB, NULL, "sqlite: cannot open %s: %s", dest,
                     dst ? sqlite3_errmsg(dst) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(dst, SQ_BUSY_TIMEOUT_MS);
    b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        rc = bt_fail(err, BT_EDB, NULL, "sqlite: backup: %s", sqlite3_errmsg(dst));
        goto out;
    }
    /* every page in one step: one read transaction on the source, so the copy is one
     * consistent snapshot; under WAL the server's writers go on meanwhile. A busy source
     * (a checkpoint or recovery holding a lock) is retried for up to ~10 seconds. */
    for (int tries = 0;; tries++) {
        step = sqlite3_backup_step(b, -1);
        if ((step == SQLITE_BUSY || step == SQLITE_LOCKED) && tries < 100) {
            sqlite3_sleep(100);
            continue;
        }
        break;
    }
    sqlite3_backup_finish(b);
    if (step != SQLITE_DONE) {
        rc = bt_fail(err, BT_EDB, NULL, "sqlite: backup of %s failed: %s", path,
                     sqlite3_errstr(step));
        goto out;
    }
    /* a self-contained file: no -wal/-shm beside it (bento switches it back to WAL when it
     * opens the file as its database) */
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = bt_fail(err, BT_EDB, NULL, "sqlite: backup: %s", sqlite3_errmsg(dst));
        goto out;
    }
    rc = BT_OK;
out:
    sqlite3_close_v2(src);
    if (dst && sqlite3_close(dst) != SQLITE_OK && rc == BT_OK)
        rc = bt_fail(err, BT_EDB, NULL, "sqlite: cannot close %s", dest);
    if (rc != BT_OK)
        unlink(dest); /* ours: created above with O_EXCL */
    return rc;
}
