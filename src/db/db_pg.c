/* SPDX-License-Identifier: MIT
 * db_pg.c - the PostgreSQL back end over libpq: connect (UTF8, TimeZone UTC, no parallel
 * workers or JIT unless configured otherwise), run one statement with text-format
 * parameters (or several reads in one round trip), type results by column OID so the JSON
 * matches the SQLite back end, and tell "the server is not there" (503, the pool
 * reconnects) from "this statement failed" (500).
 * Must not: change the URL it is given (tests pass search_path in options=; our connection
 * defaults go before it, so the URL overrides them); splice values into SQL; print libpq
 * notices (they would interleave with the JSON log on stderr).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include <bento/arena.h>
#include <bento/db.h>
#include <bento/err.h>
#include <bento/time.h>

#include "db/db_private.h"

/* Type OIDs from PostgreSQL's pg_type.dat; stable across versions. */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_OID 26
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

#define PG_CACHE_SIZE 64

/* a statement prepared on this connection under the name "bt<id>" */
struct pg_stmt {
    char *sql;       /* own copy of the text, the cache key; NULL = free slot */
    const char *ptr; /* caller's pointer at last use: equal pointer skips strcmp */
    uint64_t hash;
    uint64_t used; /* LRU tick */
    unsigned id;
    int nparams;
};

struct pg_db {
    struct bt_db base; /* first: a struct bt_db * is a struct pg_db * */
    PGconn *conn;
    uint64_t tick;
    unsigned next_id;
    struct pg_stmt cache[PG_CACHE_SIZE];
};

static struct pg_db *pg(struct bt_db *db)
{
    return (struct pg_db *)db;
}

static void pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* libpq messages end in a newline and may span lines: one line for struct bt_err. */
static void one_line(const char *in, char *out, size_t n)
{
    size_t len = 0;

    for (; in && *in && len + 1 < n; in++) {
        char c = *in == '\n' || *in == '\t' || *in == '\r' ? ' ' : *in;
        if (c == ' ' && (len == 0 || out[len - 1] == ' '))
            continue;
        out[len++] = c;
    }
    while (len && out[len - 1] == ' ')
        len--;
    out[len] = '\0';
}

/* ---- connection ---- */

static void pg_close(struct bt_db *db)
{
    if (!db)
        return;
    PQfinish(pg(db)->conn);
    for (size_t i = 0; i < PG_CACHE_SIZE; i++)
        free(pg(db)->cache[i].sql);
    free(db);
}

/* Connection defaults (docs/DATABASE.md, "Lost connections"), in effect unless the URL
 * sets them: TCP keepalives notice a server host that vanished without closing the
 * connection (power loss, a cut network) within about 11 s of silence, and
 * tcp_user_timeout drops a connection whose sent data stays unacknowledged for 10 s. */
static const char *const pg_default_keys[] = {
    "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
};
static const char *const pg_default_values[] = {"1", "5", "2", "3", "10000"};
#define PG_NDEFAULTS (sizeof(pg_default_keys) / sizeof(pg_default_keys[0]))

/* Session settings, one round trip after connecting (docs/DATABASE.md, "Connection
 * settings"): UTC always; and, unless the URL's options (-c name=value), ALTER DATABASE ...
 * SET or ALTER ROLE ... SET chose a value of their own, no parallel workers (on a small host
 * shared with bento, starting them costs more than they save: a 1-character search count
 * took 12 ms with two and 8 ms without) and no JIT compilation (bento's statements are
 * short; compiling one costs 5-30 ms whenever the planner overestimates it). */
static const char pg_session_sql[] =
    "SET TimeZone TO 'UTC';"
    "SELECT set_config(d.name, d.value, false)"
    " FROM (VALUES ('max_parallel_workers_per_gather', '0'), ('jit', 'off')) AS d (name, value)"
    " WHERE NOT EXISTS (SELECT 1 FROM pg_settings s WHERE s.name = d.name"
    " AND s.source IN ('client', 'database', 'user', 'database user'))";

/* connect_timeout for a connect that may take timeout_ms (<= 0: start-up and the CLI, 10 s).
 * libpq counts whole seconds and treats less than 2 as 2. */
static int connect_seconds(int timeout_ms)
{
    int secs = timeout_ms > 0 ? (timeout_ms + 999) / 1000 : 10;

    return secs < 2 ? 2 : secs > 60 ? 60 : secs;
}

static int pg_open(const char *url, int timeout_ms, struct bt_db **out, struct bt_err *err)
{
    const char *keys[PG_NDEFAULTS + 3], *values[PG_NDEFAULTS + 3];
    char msg[400], connect_s[16];
    struct pg_db *p;
    PGresult *res;
    size_t n = 0;
    int rc;

    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return bt_fail(err, BT_EDB, NULL, "pg: out of memory");
    p->base.ops = &bt_db_pg_ops;
    snprintf(connect_s, sizeof(connect_s), "%d", connect_seconds(timeout_ms));
    keys[n] = "connect_timeout";
    values[n++] = connect_s;
    for (size_t i = 0; i < PG_NDEFAULTS; i++) {
        keys[n] = pg_default_keys[i];
        values[n++] = pg_default_values[i];
    }
    /* last: the URL, expanded into its parameters, overrides the defaults above */
    keys[n] = "dbname";
    values[n++] = url;
    keys[n] = NULL;
    values[n] = NULL;
    p->conn = PQconnectdbParams(keys, values, 1);
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        one_line(p->conn ? PQerrorMessage(p->conn) : "out of memory", msg, sizeof(msg));
        rc = bt_fail(err, BT_EUNAVAILABLE, NULL, "pg: cannot connect: %s", msg);
        pg_close(&p->base);
        return rc;
    }
    PQsetNoticeProcessor(p->conn, pg_quiet, NULL);
    if (PQsetClientEncoding(p->conn, "UTF8") != 0) {
        one_line(PQerrorMessage(p->conn), msg, sizeof(msg));
        rc = bt_fail(err, BT_EUNAVAILABLE, NULL, "pg: cannot set client encoding: %s", msg);
        pg_close(&p->base);
        return rc;
    }
    res = PQexec(p->conn, pg_session_sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        one_line(PQerrorMessage(p->conn), msg, sizeof(msg));
        PQclear(res);
        rc = bt_fail(err, BT_EUNAVAILABLE, NULL, "pg: cannot apply session settings: %s", msg);
        pg_close(&p->base);
        return rc;
    }
    PQclear(res);
    *out = &p->base;
    return BT_OK;
}

static bool pg_engine_in_tx(struct bt_db *db)
{
    PGTransactionStatusType ts = PQtransactionStatus(pg(db)->conn);

    return ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR || ts == PQTRANS_ACTIVE;
}

static bool pg_healthy(struct bt_db *db)
{
    PGconn *conn = pg(db)->conn;
    struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};

    if (db->broken || PQstatus(conn) != CONNECTION_OK ||
        PQtransactionStatus(conn) != PQTRANS_IDLE || pfd.fd < 0)
        return false;
    /* An idle connection has nothing to read (bento never LISTENs). Anything there is the
     * server's FATAL message and EOF after a restart or pg_terminate_backend, or a stray
     * notice: either way a fresh connection is the safe choice. */
    return poll(&pfd, 1, 0) == 0;
}

/* ---- errors ---- */

/* DETAIL "Key (a, b)=(1, 2) already exists." -> "a,b" */
static void unique_columns(const char *detail, char *out, size_t n)
{
    size_t len = 0;

    out[0] = '\0';
    if (!detail || strncmp(detail, "Key (", 5) != 0)
        return;
    const char *end = strstr(detail, ")=(");
    if (!end)
        return;
    for (const char *p = detail + 5; p < end && len + 1 < n; p++) {
        if (*p != ' ')
            out[len++] = *p;
    }
    out[len] = '\0';
}

/* SQLSTATEs that say "the database cannot serve us now", not "this statement is wrong":
 * the client gets 503 and may retry. */
static bool unavailable_state(const char *state)
{
    static const char *const codes[] = {
        "57P01", /* admin_shutdown: pg_ctl stop -m fast, pg_terminate_backend */
        "57P02", /* crash_shutdown: pg_ctl stop -m immediate, another backend crashed */
        "57P03", /* cannot_connect_now: starting up, shutting down, in recovery */
        "53300", /* too_many_connections */
        "53100", /* disk_full */
        "25006", /* read_only_sql_transaction: a standby (after a failover), or read-only set */
    };

    if (!state)
        return false;
    /* connection exception, but not 08P01: a protocol violation is our bug (a bind with the
     * wrong number of parameters), and the connection survives it */
    if (!strncmp(state, "08", 2))
        return strcmp(state, "08P01") != 0;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (!strcmp(state, codes[i]))
            return true;
    return false;
}

static int pg_fail(struct pg_db *p, PGresult *res, struct bt_err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[400], cols[64];

    /* our cancel request (57014 query_canceled), or no answer to it (the connection is
     * dropped): the guard's 503, whatever the connection's state */
    if (p->base.stop && (!res || (state && !strcmp(state, "57014"))))
        return bt_db_fail_stopped(&p->base, err);

    if (PQstatus(p->conn) != CONNECTION_OK) {
        p->base.broken = true;
        one_line(PQerrorMessage(p->conn), msg, sizeof(msg));
        return bt_db_fail(&p->base, err, BT_EUNAVAILABLE, NULL, msg[0] ? msg : "connection lost");
    }
    if (unavailable_state(state)) {
        /* a full disk leaves the connection usable; the others end it, or (a standby) would
         * fail every write on it: a fresh connection may reach a server that can serve */
        if (strcmp(state, "53100"))
            p->base.broken = true;
        one_line(primary ? primary : PQerrorMessage(p->conn), msg, sizeof(msg));
        return bt_db_fail(&p->base, err, BT_EUNAVAILABLE, NULL, msg[0] ? msg : state);
    }
    if (state && !strncmp(state, "23", 2)) {
        if (!strcmp(state, "23505")) {
            unique_columns(PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL), cols, sizeof(cols));
            return bt_db_fail(&p->base, err, BT_ECONFLICT, cols[0] ? cols : NULL,
                              "unique constraint violated");
        }
        if (!strcmp(state, "23503"))
            return bt_db_fail(&p->base, err, BT_ECONFLICT, NULL, "foreign key constraint violated");
        if (!strcmp(state, "23514"))
            return bt_db_fail(&p->base, err, BT_ECONFLICT, NULL, "check constraint violated");
        if (!strcmp(state, "23502"))
            return bt_db_fail(&p->base, err, BT_ECONFLICT, NULL, "not null constraint violated");
        return bt_db_fail(&p->base, err, BT_ECONFLICT, NULL, "constraint violated");
    }
    if (res && PQresultStatus(res) == PGRES_EMPTY_QUERY)
        return bt_db_fail(&p->base, err, BT_EDB, NULL, "empty statement");
    one_line(primary ? primary : PQerrorMessage(p->conn), msg, sizeof(msg));
    return bt_db_fail(&p->base, err, BT_EDB, NULL, msg[0] ? msg : "unknown error");
}

/* ---- the guard (bt_db_guard) ----
 * A guarded statement is sent without waiting (PQsendQueryPrepared) and its result awaited
 * with poll(2) on the server's socket and the client's, until the statement's deadline. When
 * the deadline passes or the client goes, a cancel request is sent (PQcancel: the server
 * stops the statement with 57014, the connection stays usable) and the result awaited for
 * PG_CANCEL_GRACE_MS more; a server that does not answer even then costs the connection.
 * Done here rather than with statement_timeout, which would need a SET per request (or would
 * also bound migrations and `bento sql`), could not see the client, and cannot help when the
 * server itself stops answering. */

#define PG_CANCEL_GRACE_MS 2000

static void pg_cancel(struct pg_db *p)
{
    PGcancel *c = PQgetCancel(p->conn);
    char errbuf[256];

    if (c) {
        PQcancel(c, errbuf, sizeof(errbuf)); /* failing to send it: the grace runs out */
        PQfreeCancel(c);
    }
}

/* Wait until a result can be read without blocking; false when the connection failed or
 * the server did not answer the cancel in time (the connection is then broken). */
static bool pg_wait(struct pg_db *p, uint64_t *grace_end)
{
    struct bt_db *b = &p->base;

    while (PQisBusy(p->conn)) {
        struct pollfd fds[2] = {{.fd = PQsocket(p->conn), .events = POLLIN},
                                {.fd = b->watch_fd, .events = POLLRDHUP}};
        uint64_t now = bt_mono_ns(), until = *grace_end ? *grace_end : b->deadline_ns;
        int ms = until ? (until > now ? (int)((until - now + 999999u) / 1000000u) : 0) : -1;
        int n = poll(fds, !*grace_end && b->watch_fd >= 0 ? 2 : 1, ms);

        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && fds[0].revents) {
            if (!PQconsumeInput(p->conn))
                break;
            continue;
        }
        now = bt_mono_ns();
        if (*grace_end) {
            if (now >= *grace_end)
                break;
            continue;
        }
        if (b->deadline_ns && now >= b->deadline_ns)
            b->stop = BT_DB_STOP_DEADLINE;
        else if (n > 0 && (fds[1].revents & (POLLRDHUP | POLLHUP | POLLERR)))
            b->stop = BT_DB_STOP_GONE;
        else
            continue;
        pg_cancel(p);
        *grace_end = now + (uint64_t)PG_CANCEL_GRACE_MS * 1000000u;
    }
    if (!PQisBusy(p->conn))
        return true;
    b->broken = true;
    return false;
}

static bool guarded(const struct pg_db *p)
{
    return p->base.timeout_ns || p->base.watch_fd >= 0;
}

/* The result of what was just sent, under the guard: its first result (NULL when there is
 * none to read: the connection failed or was given up) */
static PGresult *pg_guarded_result(struct pg_db *p)
{
    PGresult *res = NULL, *r;
    uint64_t grace_end = 0;

    for (;;) {
        if (!pg_wait(p, &grace_end)) {
            PQclear(res);
            return NULL;
        }
        if (!(r = PQgetResult(p->conn)))
            return res;
        if (res)
            PQclear(r);
        else
            res = r;
    }
}

/* ---- statements ----
 *
 * The statement cache (docs/DATABASE.md, "Statement cache"): each connection prepares a
 * statement the first time it runs it (Parse, one extra round trip) and then only binds and
 * executes it, so the server neither parses nor, once it settles on a generic plan, plans it
 * again. Keyed by the SQL text, least recently used out past PG_CACHE_SIZE (DEALLOCATE). A
 * statement the server no longer knows (DISCARD ALL, a pooler in transaction mode) or whose
 * result columns changed under it (a migration by another instance) is prepared again: at
 * once outside a transaction, on the next use inside one (the transaction has failed). */

static void stmt_forget(struct pg_db *p, struct pg_stmt *e, bool deallocate)
{
    if (deallocate && PQtransactionStatus(p->conn) != PQTRANS_INERROR) {
        char cmd[32];
        snprintf(cmd, sizeof(cmd), "DEALLOCATE bt%u", e->id);
        PQclear(PQexec(p->conn, cmd));
    }
    free(e->sql);
    memset(e, 0, sizeof(*e));
}

/* the cached statement for sql, prepared now if it is not there yet; NULL (*rc and err set)
 * when it cannot be prepared */
static struct pg_stmt *stmt_get(struct pg_db *p, const char *sql, int nargs, int *rc,
                                struct bt_err *err)
{
    uint64_t h = bt_db_sql_hash(sql);
    struct pg_stmt *victim = NULL;
    char name[16];
    PGresult *r;

    p->tick++;
    for (size_t i = 0; i < PG_CACHE_SIZE; i++) {
        struct pg_stmt *e = &p->cache[i];
        if (e->sql && e->hash == h && e->nparams == nargs &&
            (e->ptr == sql || !strcmp(e->sql, sql))) {
            e->ptr = sql;
            e->used = p->tick;
            return e;
        }
        if (!e->sql) {
            if (!victim || victim->sql)
                victim = e;
        } else if (!victim || (victim->sql && e->used < victim->used)) {
            victim = e;
        }
    }
    if (victim->sql)
        stmt_forget(p, victim, true);
    snprintf(name, sizeof(name), "bt%u", ++p->next_id);
    /* types left to the server (NULL): it infers them from the statement, as SQLite does not
     * need to; CAST($1 AS TEXT) where it cannot */
    /* under the guard too: parsing waits for the lock of every table the statement names */
    r = !guarded(p) ? PQprepare(p->conn, name, sql, nargs, NULL)
        : PQsendPrepare(p->conn, name, sql, nargs, NULL) ? pg_guarded_result(p)
                                                         : NULL;
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        *rc = pg_fail(p, r, err);
        PQclear(r);
        return NULL;
    }
    PQclear(r);
    victim->sql = strdup(sql);
    if (!victim->sql) {
        stmt_forget(p, victim, true);
        *rc = bt_fail(err, BT_EDB, NULL, "pg: out of memory");
        return NULL;
    }
    victim->ptr = sql;
    victim->hash = h;
    victim->used = p->tick;
    victim->id = p->next_id;
    victim->nparams = nargs;
    return victim;
}

/* SQLSTATEs after which a cached statement must be prepared again */
static bool stale_statement(const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

    /* 26000 invalid_sql_statement_name: the server does not know it (DISCARD ALL, a pooler);
     * 0A000 "cached plan must not change result type": its tables changed under it */
    return state && (!strcmp(state, "26000") || !strcmp(state, "0A000"));
}

/* A statement's arguments as libpq's text parameters. */
struct pg_params {
    const char **values; /* NULL when there are none */
    char (*bufs)[32];    /* the text of numbers */
};

static void pg_params_free(struct pg_params *prm)
{
    free(prm->values);
    free(prm->bufs);
    prm->values = NULL;
    prm->bufs = NULL;
}

static int pg_params(struct pg_params *prm, const struct bt_val *args, size_t nargs,
                     struct bt_err *err)
{
    memset(prm, 0, sizeof(*prm));
    if (nargs > 65535)
        return bt_fail(err, BT_EDB, NULL, "pg: too many arguments");
    if (!nargs)
        return BT_OK;
    prm->values = calloc(nargs, sizeof(*prm->values));
    prm->bufs = calloc(nargs, sizeof(*prm->bufs));
    if (!prm->values || !prm->bufs) {
        pg_params_free(prm);
        return bt_fail(err, BT_EDB, NULL, "pg: out of memory");
    }
    for (size_t i = 0; i < nargs; i++) {
        switch (args[i].type) {
        case BT_V_NULL: prm->values[i] = NULL; break;
        case BT_V_TEXT: prm->values[i] = args[i].u.s; break;
        case BT_V_I64:
            snprintf(prm->bufs[i], sizeof(prm->bufs[i]), "%lld", (long long)args[i].u.i);
            prm->values[i] = prm->bufs[i];
            break;
        case BT_V_F64:
            snprintf(prm->bufs[i], sizeof(prm->bufs[i]), "%.17g", args[i].u.f);
            prm->values[i] = prm->bufs[i];
            break;
        case BT_V_BOOL: prm->values[i] = args[i].u.b ? "t" : "f"; break;
        default:
            pg_params_free(prm);
            return bt_fail(err, BT_EDB, NULL, "pg: bad argument type for $%zu", i + 1);
        }
    }
    return BT_OK;
}

/* Run one statement with text parameters; *res is a result that succeeded. */
static int pg_run(struct pg_db *p, const char *sql, const struct bt_val *args, size_t nargs,
                  PGresult **res, struct bt_err *err)
{
    struct pg_params prm;
    int rc;

    *res = NULL;
    rc = pg_params(&prm, args, nargs, err);
    for (int attempt = 0; rc == BT_OK; attempt++) {
        struct pg_stmt *e = stmt_get(p, sql, (int)nargs, &rc, err);
        char name[16];
        PGresult *r;
        ExecStatusType st;
        if (!e)
            break;
        snprintf(name, sizeof(name), "bt%u", e->id);
        if (!guarded(p))
            r = PQexecPrepared(p->conn, name, (int)nargs, prm.values, NULL, NULL, 0);
        else if (PQsendQueryPrepared(p->conn, name, (int)nargs, prm.values, NULL, NULL, 0))
            r = pg_guarded_result(p);
        else
            r = NULL;
        st = PQresultStatus(r);
        if (r && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) {
            *res = r;
            break;
        }
        if (stale_statement(r)) {
            stmt_forget(p, e, true);
            /* outside a transaction nothing was lost: prepare it again and run it now; and
             * a failed transaction must still end (the server parses ROLLBACK even then) */
            if (attempt == 0 &&
                (PQtransactionStatus(p->conn) == PQTRANS_IDLE || !strcmp(sql, "ROLLBACK"))) {
                PQclear(r);
                continue;
            }
        }
        rc = pg_fail(p, r, err);
        PQclear(r);
    }
    pg_params_free(&prm);
    return rc;
}

static enum bt_col_kind oid_kind(Oid t)
{
    switch (t) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID: return BT_COL_INT;
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC: return BT_COL_REAL;
    case OID_BOOL: return BT_COL_BOOL;
    default: return BT_COL_TEXT;
    }
}

static bool is_integral(const char *s)
{
    if (*s == '-')
        s++;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
    }
    return true;
}

static void set_cell(struct bt_arena *a, struct bt_cell *cell, const char *s, size_t n)
{
    cell->s = bt_arena_strndup(a, s, n);
    cell->len = n;
}

/* The rows of a result that succeeded, copied into the arena. */
static struct bt_rows *pg_rows(struct bt_arena *a, const PGresult *res)
{
    size_t ncols = (size_t)PQnfields(res), nrows = (size_t)PQntuples(res);
    struct bt_rows *rows = bt_arena_alloc(a, sizeof(*rows));
    rows->nrows = nrows;
    rows->ncols = ncols;
    rows->names = bt_arena_alloc(a, (ncols ? ncols : 1) * sizeof(*rows->names));
    rows->kinds = bt_arena_alloc(a, (ncols ? ncols : 1) * sizeof(*rows->kinds));
    size_t ncells = nrows * ncols;
    rows->cells = bt_arena_alloc(a, (ncells ? ncells : 1) * sizeof(*rows->cells));

    for (size_t c = 0; c < ncols; c++) {
        Oid t = PQftype(res, (int)c);
        rows->names[c] = bt_arena_strdup(a, PQfname(res, (int)c));
        rows->kinds[c] = oid_kind(t);
        if (t == OID_NUMERIC) {
            /* SUM(bigint) is NUMERIC here and an integer in SQLite: whole numbers stay INT */
            bool whole = true;
            for (size_t r = 0; r < nrows && whole; r++)
                whole = PQgetisnull(res, (int)r, (int)c) ||
                        is_integral(PQgetvalue(res, (int)r, (int)c));
            if (whole)
                rows->kinds[c] = BT_COL_INT;
        }
    }
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            struct bt_cell *cell = &rows->cells[r * ncols + c];
            const char *v;
            char num[40];
            if (PQgetisnull(res, (int)r, (int)c))
                continue;
            v = PQgetvalue(res, (int)r, (int)c);
            switch (rows->kinds[c]) {
            case BT_COL_BOOL: v = v[0] == 't' ? "true" : "false"; break;
            case BT_COL_REAL:
                /* the same shortest round-trip text SQLite's back end prints */
                bt_db_fmt_real(strtod(v, NULL), num, sizeof(num));
                v = num;
                break;
            default: break;
            }
            set_cell(a, cell, v, strlen(v));
        }
    }
    return rows;
}

static int pg_query(struct bt_db *db, struct bt_arena *a, struct bt_rows **out, const char *sql,
                    const struct bt_val *args, size_t nargs, struct bt_err *err)
{
    PGresult *res;
    int rc = pg_run(pg(db), sql, args, nargs, &res, err);

    if (rc != BT_OK)
        return rc;
    *out = pg_rows(a, res);
    PQclear(res);
    return BT_OK;
}

static int pg_exec(struct bt_db *db, int64_t *changed, const char *sql, const struct bt_val *args,
                   size_t nargs, struct bt_err *err)
{
    PGresult *res;
    int rc = pg_run(pg(db), sql, args, nargs, &res, err);

    *changed = 0;
    if (rc != BT_OK)
        return rc;
    const char *n = PQcmdTuples(res);
    if (n && *n)
        *changed = strtoll(n, NULL, 10);
    PQclear(res);
    return BT_OK;
}

static int pg_exec_script(struct bt_db *db, const char *sql, struct bt_err *err)
{
    struct pg_db *p = pg(db);
    /* the simple protocol runs several statements; the result is the last one's, or the
     * first failure's */
    PGresult *res = PQexec(p->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = BT_OK;

    if (!res || (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY))
        rc = pg_fail(p, res, err);
    PQclear(res);
    return rc;
}

struct pg_conn *bt_db_pg_conn(struct bt_db *db)
{
    return pg(db)->conn;
}

/* ---- reads in one round trip (bt_db_query_batch) ----
 *
 * libpq's pipeline mode: every statement is prepared first (one seen for the first time on
 * this connection costs its own Parse round trip, once), then all the Bind/Execute messages
 * go out with one Sync and the results come back in order. After a statement fails the
 * server skips the rest up to the Sync (PGRES_PIPELINE_ABORTED). A stale cached statement
 * (see pg_run) is prepared again and, outside a transaction, the batch run again (at most
 * once per statement). */

#ifdef LIBPQ_HAS_PIPELINING

/* The connection is in an unknown state inside a pipeline: give it up (the pool replaces
 * it). A batch the guard gave up on fails as a stopped statement does. */
static int batch_lost(struct pg_db *p, struct bt_err *err)
{
    char msg[400];

    p->base.broken = true;
    if (p->base.stop)
        return bt_db_fail_stopped(&p->base, err);
    one_line(PQerrorMessage(p->conn), msg, sizeof(msg));
    return bt_db_fail(&p->base, err, BT_EUNAVAILABLE, NULL, msg[0] ? msg : "pipeline failed");
}

/* The next result of the pipeline; under the guard (see pg_wait) awaited until the deadline,
 * a cancel sent past it. NULL when there is none to read: the connection failed or was given
 * up (then broken). */
static PGresult *batch_result(struct pg_db *p, uint64_t *grace_end)
{
    if (guarded(p) && !pg_wait(p, grace_end))
        return NULL;
    return PQgetResult(p->conn);
}

/* One try: BT_OK with every read's rows set; or *bad, the first failed result (the caller
 * clears it), with *stale its statement when that was stale; or the connection's failure. */
static int batch_once(struct pg_db *p, struct bt_arena *a, struct bt_db_read *reads, size_t n,
                      const struct pg_params *prm, PGresult **bad, struct pg_stmt **stale,
                      struct bt_err *err)
{
    struct pg_stmt *stmts[BT_DB_BATCH_MAX];
    uint64_t grace_end = 0;
    PGresult *r;
    size_t got;
    int rc = BT_OK;

    *bad = NULL;
    *stale = NULL;
    for (size_t i = 0; i < n; i++) {
        stmts[i] = stmt_get(p, reads[i].sql, (int)reads[i].nargs, &rc, err);
        if (!stmts[i])
            return rc;
    }
    if (!PQenterPipelineMode(p->conn))
        return batch_lost(p, err);
    for (size_t i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof(name), "bt%u", stmts[i]->id);
        if (!PQsendQueryPrepared(p->conn, name, (int)reads[i].nargs, prm[i].values, NULL, NULL, 0))
            return batch_lost(p, err);
    }
    if (!PQpipelineSync(p->conn))
        return batch_lost(p, err);
    /* each statement's result and the NULL after it, then the Sync's */
    for (got = 0; got < n; got++) {
        ExecStatusType st;
        if (!(r = batch_result(p, &grace_end)))
            break;
        st = PQresultStatus(r);
        if ((st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) && !*bad) {
            reads[got].rows = pg_rows(a, r);
        } else if (st != PGRES_PIPELINE_ABORTED && st != PGRES_TUPLES_OK &&
                   st != PGRES_COMMAND_OK && !*bad) {
            *bad = r;
            if (stale_statement(r))
                *stale = stmts[got];
            r = NULL;
        }
        PQclear(r);
        if ((r = batch_result(p, &grace_end)) || p->base.broken) {
            PQclear(r);
            break;
        }
    }
    r = got == n ? batch_result(p, &grace_end) : NULL;
    if (PQresultStatus(r) != PGRES_PIPELINE_SYNC || !PQexitPipelineMode(p->conn)) {
        /* out of step with the server, or it went: nothing on this connection can be trusted */
        PQclear(r);
        PQclear(*bad);
        *bad = NULL;
        *stale = NULL;
        return batch_lost(p, err);
    }
    PQclear(r);
    return *bad ? BT_EDB : BT_OK;
}

static int pg_query_batch(struct bt_db *db, struct bt_arena *a, struct bt_db_read *reads, size_t n,
                          struct bt_err *err)
{
    struct pg_db *p = pg(db);
    struct pg_params prm[BT_DB_BATCH_MAX] = {0};
    int rc = BT_OK;

    for (size_t i = 0; i < n && rc == BT_OK; i++)
        rc = pg_params(&prm[i], reads[i].args, reads[i].nargs, err);
    for (int attempt = 0; rc == BT_OK; attempt++) {
        struct pg_stmt *stale;
        PGresult *bad;
        rc = batch_once(p, a, reads, n, prm, &bad, &stale, err);
        if (!bad)
            break;
        if (stale) {
            stmt_forget(p, stale, true);
            /* outside a transaction nothing was lost: prepare it again and run them now (each
             * try finds one stale statement: after DISCARD ALL every one of them is) */
            if ((size_t)attempt < n && PQtransactionStatus(p->conn) == PQTRANS_IDLE) {
                PQclear(bad);
                for (size_t i = 0; i < n; i++)
                    reads[i].rows = NULL;
                rc = BT_OK;
                continue;
            }
        }
        rc = pg_fail(p, bad, err);
        PQclear(bad);
    }
    for (size_t i = 0; i < n; i++)
        pg_params_free(&prm[i]);
    return rc;
}

#endif

const struct bt_db_ops bt_db_pg_ops = {
    .engine = BT_ENGINE_PG,
    .name = "pg",
    .begin_sql = "BEGIN",
    .open = pg_open,
    .close = pg_close,
    .healthy = pg_healthy,
    .engine_in_tx = pg_engine_in_tx,
    .query = pg_query,
    .exec = pg_exec,
    .exec_script = pg_exec_script,
#ifdef LIBPQ_HAS_PIPELINING
    .query_batch = pg_query_batch,
#endif
};
