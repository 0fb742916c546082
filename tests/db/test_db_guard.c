/* SPDX-License-Identifier: MIT
 * test_db_guard.c - the statement guard (bt_db_guard in include/bento/db.h) on the engine
 * named by BENTO_TEST_ENGINE: a statement past its deadline, or whose client has closed its
 * socket, stops with BT_EUNAVAILABLE long before it would end by itself; the connection is
 * usable afterwards; once the client is gone every later statement fails at once; the pool
 * removes the guard. The long statements would run for 30 s or more unguarded, so "stopped"
 * is told apart from "finished" with a wide margin (10 s).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bt_test.h"

#define MARGIN_NS (10ull * 1000000000ull)

struct fix {
    struct bt_test_dbfix db;
    struct bt_dbpool *pool; /* db.pool */
    struct bt_arena *a;
};

static bool is_pg(void)
{
    return !strcmp(bt_test_engine(), "pg");
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    if (bt_test_dbfix_open(&f->db, 4))
        return -1;
    f->pool = f->db.pool;
    f->a = bt_arena_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    bt_test_dbfix_close(&f->db);
    bt_arena_free(f->a);
    free(f);
    return 0;
}

static struct bt_db *get(struct fix *f)
{
    struct bt_err err;
    struct bt_db *db = bt_dbpool_get(f->pool, 5000, &err);

    assert_non_null(db);
    return db;
}

/* a statement that runs for far longer than MARGIN_NS unless stopped */
static const char *long_sql(void)
{
    return is_pg() ? "SELECT pg_sleep(60)"
                   : "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                     "WHERE x < 5000000000) SELECT count(*) FROM c";
}

static int run_long(struct fix *f, struct bt_db *db, struct bt_err *err)
{
    struct bt_rows *rows;

    bt_err_clear(err);
    return bt_db_query(db, f->a, &rows, long_sql(), BT_NOARGS, err);
}

static void select_one_ok(struct fix *f, struct bt_db *db)
{
    struct bt_err err;
    int64_t n = 0;

    assert_int_equal(bt_db_query_i64(db, &n, "SELECT 1", BT_NOARGS, &err), BT_OK);
    assert_int_equal(n, 1);
    (void)f;
}

static void test_deadline_stops_statement(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    struct bt_err err;
    uint64_t t0 = bt_mono_ns();

    bt_db_guard(db, 200, -1);
    assert_int_equal(run_long(f, db, &err), BT_EUNAVAILABLE);
    assert_true(bt_mono_ns() - t0 < MARGIN_NS);
    assert_int_equal(bt_db_stopped(db), BT_DB_STOP_DEADLINE);
    assert_non_null(strstr(err.msg, "deadline"));
    /* the next statement has a deadline of its own, and the connection still works */
    select_one_ok(f, db);
    bt_dbpool_put(f->pool, db);
}

/* Reads in one round trip (bt_db_query_batch) are held to the deadline too: a batch whose
 * second read would run on is stopped, no read keeps rows, and the connection works after. */
static void test_deadline_stops_batch(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    struct bt_db_read r[2] = {{.sql = "SELECT 1"}, {.sql = long_sql()}};
    struct bt_err err;
    uint64_t t0 = bt_mono_ns();

    bt_db_guard(db, 200, -1);
    bt_err_clear(&err);
    assert_int_equal(bt_db_query_batch(db, f->a, r, 2, &err), BT_EUNAVAILABLE);
    assert_true(bt_mono_ns() - t0 < MARGIN_NS);
    assert_int_equal(bt_db_stopped(db), BT_DB_STOP_DEADLINE);
    assert_non_null(strstr(err.msg, "deadline"));
    assert_null(r[0].rows);
    assert_null(r[1].rows);
    select_one_ok(f, db);
    r[1].sql = "SELECT 2";
    assert_int_equal(bt_db_query_batch(db, f->a, r, 2, &err), BT_OK);
    assert_int_equal(bt_rows_i64(r[1].rows, 0, 0, 0), 2);
    bt_dbpool_put(f->pool, db);
}

static void test_deadline_inside_transaction(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    struct bt_err err;

    assert_int_equal(bt_db_exec(db, NULL, "CREATE TABLE g (v INTEGER)", BT_NOARGS, &err), BT_OK);
    bt_db_guard(db, 200, -1);
    assert_int_equal(bt_db_begin(db, &err), BT_OK);
    assert_int_equal(bt_db_exec(db, NULL, "INSERT INTO g (v) VALUES (1)", BT_NOARGS, &err), BT_OK);
    assert_int_equal(run_long(f, db, &err), BT_EUNAVAILABLE);
    bt_db_rollback(db);
    bt_dbpool_put(f->pool, db);

    /* the transaction is rolled back whole, and the connection serves the next caller */
    db = get(f);
    {
        int64_t n = -1;
        assert_int_equal(bt_db_query_i64(db, &n, "SELECT COUNT(*) FROM g", BT_NOARGS, &err), BT_OK);
        assert_int_equal(n, 0);
    }
    bt_dbpool_put(f->pool, db);
}

/* the guard also bounds a wait for another connection's lock */
static void test_deadline_stops_lock_wait(void **state)
{
    struct fix *f = *state;
    struct bt_db *holder = get(f), *db = get(f);
    struct bt_err err;
    uint64_t t0;

    assert_int_equal(bt_db_exec(holder, NULL, "CREATE TABLE g (v INTEGER)", BT_NOARGS, &err),
                     BT_OK);
    assert_int_equal(bt_db_exec(holder, NULL, "INSERT INTO g (v) VALUES (1)", BT_NOARGS, &err),
                     BT_OK);
    assert_int_equal(bt_db_begin(holder, &err), BT_OK);
    assert_int_equal(bt_db_exec(holder, NULL, "UPDATE g SET v = 2", BT_NOARGS, &err), BT_OK);

    bt_db_guard(db, 200, -1);
    t0 = bt_mono_ns();
    /* SQLite waits in its busy handler (5 s unguarded), PostgreSQL on the row lock (forever) */
    assert_int_equal(bt_db_exec(db, NULL, "UPDATE g SET v = 3", BT_NOARGS, &err), BT_EUNAVAILABLE);
    assert_true(bt_mono_ns() - t0 < 4000000000ull);
    assert_int_equal(bt_db_stopped(db), BT_DB_STOP_DEADLINE);

    assert_int_equal(bt_db_commit(holder, &err), BT_OK);
    assert_int_equal(bt_db_exec(db, NULL, "UPDATE g SET v = 3", BT_NOARGS, &err), BT_OK);
    bt_dbpool_put(f->pool, holder);
    bt_dbpool_put(f->pool, db);
}

struct closer {
    struct fix *f;
    int fd;
};

/* Close the client's end once the statement is running: on PostgreSQL once the server shows
 * it active, on SQLite at once (it then stops in its progress handler or before it starts;
 * either way the client is gone while the request is in progress). */
static void *close_when_running(void *arg)
{
    struct closer *c = arg;

    if (is_pg()) {
        struct bt_err err;
        struct bt_db *spy = get(c->f);
        uint64_t deadline = bt_mono_ns() + MARGIN_NS;
        for (;;) {
            int64_t n = 0;
            assert_int_equal(
                bt_db_query_i64(spy, &n,
                                "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' "
                                "AND query LIKE 'SELECT pg_sleep(60)%'",
                                BT_NOARGS, &err),
                BT_OK);
            if (n > 0 || bt_mono_ns() > deadline)
                break;
        }
        bt_dbpool_put(c->f->pool, spy);
    }
    close(c->fd);
    return NULL;
}

static void test_client_gone_stops_statement(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    struct bt_err err;
    int sv[2];
    pthread_t t;
    struct closer c;
    uint64_t t0 = bt_mono_ns();

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    c.f = f;
    c.fd = sv[1];
    bt_db_guard(db, 0, sv[0]); /* no deadline: only the client's leaving stops it */
    assert_int_equal(pthread_create(&t, NULL, close_when_running, &c), 0);
    assert_int_equal(run_long(f, db, &err), BT_EUNAVAILABLE);
    pthread_join(t, NULL);
    assert_true(bt_mono_ns() - t0 < MARGIN_NS);
    assert_int_equal(bt_db_stopped(db), BT_DB_STOP_GONE);
    assert_non_null(strstr(err.msg, "client"));

    /* nobody is left to answer: every later statement of the request fails at once */
    assert_int_equal(bt_db_exec(db, NULL, "SELECT 1", BT_NOARGS, &err), BT_EUNAVAILABLE);

    /* back in the pool the guard is gone: the next caller's statements run */
    bt_dbpool_put(f->pool, db);
    close(sv[0]);
    db = get(f);
    assert_int_equal(bt_db_stopped(db), BT_DB_STOP_NONE);
    select_one_ok(f, db);
    bt_dbpool_put(f->pool, db);
}

/* a client that half-closes has left too (what nginx calls 499); one that only pipelines
 * more bytes has not */
static void test_peer_closed_rules(void **state)
{
    int sv[2];
    (void)state;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_false(bt_sock_peer_closed(sv[0]));
    assert_int_equal(write(sv[1], "GET / HTTP/1.1\r\n\r\n", 18), 18);
    assert_false(bt_sock_peer_closed(sv[0]));
    assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
    assert_true(bt_sock_peer_closed(sv[0]));
    close(sv[0]);
    close(sv[1]);
}

static void test_unguarded_statements_run(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    struct bt_err err;
    int sv[2];

    /* a guard with neither a deadline nor a socket stops nothing */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    bt_db_guard(db, 0, -1);
    select_one_ok(f, db);
    assert_int_equal(bt_db_stopped(db), BT_DB_STOP_NONE);
    /* a guard removed again forgets the socket */
    bt_db_guard(db, 0, sv[0]);
    assert_int_equal(bt_db_exec(db, NULL, "SELECT 1", BT_NOARGS, &err), BT_EUNAVAILABLE);
    bt_db_guard(db, 0, -1);
    select_one_ok(f, db);
    close(sv[0]);
    bt_dbpool_put(f->pool, db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_deadline_stops_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_stops_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_inside_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_stops_lock_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_gone_stops_statement, setup, teardown),
        cmocka_unit_test(test_peer_closed_rules),
        cmocka_unit_test_setup_teardown(test_unguarded_statements_run, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
