/* SPDX-License-Identifier: MIT
 * cache_pg.c - the PostgreSQL side of the read caches: the triggers that tell every bento
 * instance which cached rows a transaction wrote (pg_notify, delivered at commit), and the
 * listener's connection that hears them (LISTEN, a heartbeat query, notifications read
 * without blocking). cache.c decides what to do with both.
 * Must not: block on the server anywhere but in bt_cache_pg_open; splice anything but checked
 * identifiers and the channel (hex) into SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include <bento/arena.h>
#include <bento/err.h>

#include "db/db_private.h"

/* One channel per schema, so that databases shared by several schemas (the test suite, or
 * two deployments) do not invalidate each other's caches. A trigger names its table's
 * schema, the listener its current schema: the one bento's unqualified tables live in. */
#define CHANNEL_PREFIX "bt_cache_"

struct bt_cache_pg {
    struct bt_db *db; /* opened by db_pg.c, for its connection defaults */
    PGconn *conn;
    bool ping_out;
    char error[200];
};

static void set_error(struct bt_cache_pg *l, const char *msg)
{
    size_t n = 0;

    for (; msg && *msg && n + 1 < sizeof(l->error); msg++)
        l->error[n++] = *msg == '\n' || *msg == '\r' || *msg == '\t' ? ' ' : *msg;
    while (n && l->error[n - 1] == ' ')
        n--;
    l->error[n] = '\0';
}

const char *bt_cache_pg_error(struct bt_cache_pg *l)
{
    return l->error;
}

void bt_cache_pg_close(struct bt_cache_pg *l)
{
    if (!l)
        return;
    if (l->db)
        bt_db_pg_ops.close(l->db);
    free(l);
}

static bool command(struct bt_cache_pg *l, const char *sql, char *out, size_t n)
{
    PGresult *r = PQexec(l->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

    if (!ok)
        set_error(l, PQerrorMessage(l->conn));
    else if (out && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok;
}

int bt_cache_pg_open(const char *url, struct bt_cache_pg **out, struct bt_err *err)
{
    struct bt_cache_pg *l = calloc(1, sizeof(*l));
    char sql[128], channel[64] = "";
    int rc;

    *out = NULL;
    if (!l)
        return bt_fail(err, BT_EDB, NULL, "pg: out of memory");
    rc = bt_db_pg_ops.open(url, 2000, &l->db, err);
    if (rc != BT_OK) {
        free(l);
        return rc;
    }
    l->conn = (PGconn *)bt_db_pg_conn(l->db);
    /* operators (and the tests) find it in pg_stat_activity by this name */
    snprintf(sql, sizeof(sql), "SET application_name TO 'bento cache listener %ld'",
             (long)getpid());
    if (!command(l, sql, NULL, 0) ||
        !command(l, "SELECT '" CHANNEL_PREFIX "' || md5(coalesce(current_schema(), ''))", channel,
                 sizeof(channel)) ||
        strlen(channel) != strlen(CHANNEL_PREFIX) + 32) {
        rc = bt_fail(err, BT_EUNAVAILABLE, NULL, "pg: cache listener: %s",
                     l->error[0] ? l->error : "no channel");
        bt_cache_pg_close(l);
        return rc;
    }
    snprintf(sql, sizeof(sql), "LISTEN %s", channel); /* prefix and hex: a plain identifier */
    if (!command(l, sql, NULL, 0)) {
        rc = bt_fail(err, BT_EUNAVAILABLE, NULL, "pg: cache listener: %s", l->error);
        bt_cache_pg_close(l);
        return rc;
    }
    *out = l;
    return BT_OK;
}

int bt_cache_pg_fd(const struct bt_cache_pg *l)
{
    return PQsocket(l->conn);
}

bool bt_cache_pg_ping(struct bt_cache_pg *l)
{
    if (l->ping_out)
        return true;
    if (!PQsendQuery(l->conn, "SELECT 1")) {
        set_error(l, PQerrorMessage(l->conn));
        return false;
    }
    l->ping_out = true;
    return true;
}

static void drain(struct bt_cache_pg *l, void (*fn)(void *ud, const char *payload), void *ud)
{
    PGnotify *n;

    while ((n = PQnotifies(l->conn)) != NULL) {
        fn(ud, n->extra ? n->extra : "");
        PQfreemem(n);
    }
}

bool bt_cache_pg_read(struct bt_cache_pg *l, void (*fn)(void *ud, const char *payload), void *ud,
                      bool *pong)
{
    *pong = false;
    if (!PQconsumeInput(l->conn)) {
        set_error(l, PQerrorMessage(l->conn));
        return false;
    }
    /* Messages are parsed in the order they came: the notifications the server sent before
     * the heartbeat's ReadyForQuery are queued by the time PQgetResult says the query is
     * over (NULL), and are handed on before *pong is set. */
    drain(l, fn, ud);
    while (l->ping_out && !PQisBusy(l->conn)) {
        PGresult *r = PQgetResult(l->conn);
        if (!r) {
            l->ping_out = false;
            *pong = true;
            break;
        }
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            set_error(l, PQresultErrorMessage(r));
            PQclear(r);
            return false;
        }
        PQclear(r);
    }
    drain(l, fn, ud);
    if (PQstatus(l->conn) != CONNECTION_OK) {
        set_error(l, PQerrorMessage(l->conn));
        return false;
    }
    return true;
}

/* {{CACHE table cache key}}: after every row written, the cache's name and the row's key,
 * old and new (an update that keeps the key sends it twice; the server sends identical
 * notifications of one transaction once). A NULL key, or TRUNCATE, flushes the whole cache. */
void bt_cache_pg_ddl(const char *table, const char *cache, const char *key, struct bt_buf *sql)
{
    bt_buf_addf(sql,
                "CREATE OR REPLACE FUNCTION %s_on_%s() RETURNS trigger LANGUAGE plpgsql AS $bt$\n"
                "DECLARE\n"
                "    channel text := '" CHANNEL_PREFIX "' || md5(TG_TABLE_SCHEMA);\n"
                "BEGIN\n"
                "    IF TG_OP = 'TRUNCATE' THEN\n"
                "        PERFORM pg_notify(channel, '%s');\n"
                "        RETURN NULL;\n"
                "    END IF;\n"
                "    IF TG_OP <> 'INSERT' THEN\n"
                "        PERFORM pg_notify(channel, coalesce('%s ' || OLD.%s, '%s'));\n"
                "    END IF;\n"
                "    IF TG_OP <> 'DELETE' THEN\n"
                "        PERFORM pg_notify(channel, coalesce('%s ' || NEW.%s, '%s'));\n"
                "    END IF;\n"
                "    RETURN NULL;\n"
                "END\n"
                "$bt$;\n"
                "CREATE TRIGGER %s_on_%s AFTER INSERT OR UPDATE OR DELETE ON %s\n"
                "    FOR EACH ROW EXECUTE FUNCTION %s_on_%s();\n"
                "CREATE TRIGGER %s_on_%s_truncate AFTER TRUNCATE ON %s\n"
                "    FOR EACH STATEMENT EXECUTE FUNCTION %s_on_%s();\n",
                cache, table, cache, cache, key, cache, cache, key, cache, cache, table, table,
                cache, table, cache, table, table, cache, table);
}
