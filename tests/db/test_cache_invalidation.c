/* SPDX-License-Identifier: MIT
 * test_cache_invalidation.c - the read caches on a real database (include/bento/cache.h,
 * docs/DATABASE.md "Read caches"), on the engine named by BENTO_TEST_ENGINE. A table with a
 * {{CACHE}} line and a cache on the pool; writes are made on a second pool (another instance, as
 * far as the cache can tell), then bt_cache_sync. PostgreSQL: every committed write, by key
 * (insert, update, delete, a key change: old and new key), TRUNCATE (the whole cache), nothing from
 * an open or rolled-back transaction, the classic fill race with a real row, and the listener's
 * connection killed (pg_terminate_backend): the caches emptied and nothing stale served 100 ms
 * after a write, then serving again. SQLite: the cache never serves and the line makes no
 * trigger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt_test.h"

#include <bento/cache.h>

static const struct bt_migration migs[] = {
    {1, "rows",
     "CREATE TABLE ct_rows (id BIGINT PRIMARY KEY, v TEXT);\n"
     "CREATE TABLE ct_other (id BIGINT PRIMARY KEY, v TEXT);\n"
     "{{CACHE ct_rows ct_rows id}}\n"},
    BT_MIGRATION_END,
};

struct fix {
    char *url;
    struct bt_dbpool *pool;   /* the cache's */
    struct bt_dbpool *writer; /* "another instance" */
    struct bt_cache *c;
    struct bt_arena *a;
};

static bool is_pg(void)
{
    return !strcmp(bt_test_engine(), "pg");
}

static void exec_on(struct bt_dbpool *pool, const char *sql)
{
    struct bt_err err;
    struct bt_db *db;

    bt_err_clear(&err);
    db = bt_dbpool_get(pool, 5000, &err);
    if (!db)
        fail_msg("db: %s", err.msg);
    if (bt_db_exec_script(db, sql, &err) != BT_OK)
        fail_msg("%s: %s", sql, err.msg);
    bt_dbpool_put(pool, db);
}

/* the row's v as the database has it now ("-" when there is no row) */
static const char *read_row(struct fix *f, const char *key)
{
    struct bt_rows *rows;
    struct bt_err err;
    struct bt_db *db;

    bt_err_clear(&err);
    db = bt_dbpool_get(f->pool, 5000, &err);
    assert_non_null(db);
    assert_int_equal(bt_db_query(db, f->a, &rows, "SELECT v FROM ct_rows WHERE id = $1",
                                 BT_ARGS(bt_i64(atoll(key))), &err),
                     BT_OK);
    bt_dbpool_put(f->pool, db);
    return rows->nrows ? bt_rows_text(rows, 0, 0) : "-";
}

/* cache-aside as a handler does it; returns what the caller would use */
static const char *lookup(struct fix *f, const char *key, bool *hit)
{
    struct bt_cache_fill fill;
    const char *v;
    size_t len;

    *hit = bt_cache_get(f->c, key, f->a, &v, &len, &fill);
    if (*hit)
        return v;
    v = read_row(f, key);
    bt_cache_put(&fill, v, strlen(v));
    return v;
}

static bool cached(struct fix *f, const char *key)
{
    struct bt_cache_fill fill;
    const char *v;
    size_t len;

    return bt_cache_get(f->c, key, f->a, &v, &len, &fill);
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct bt_err err;
    struct bt_db *db;
    int applied;

    assert_non_null(f);
    bt_err_clear(&err);
    f->url = bt_test_db_url_new();
    f->a = bt_arena_new();
    if (bt_dbpool_open(f->url, 2, &f->pool, &err) != BT_OK ||
        bt_dbpool_open(f->url, 2, &f->writer, &err) != BT_OK) {
        fprintf(stderr, "pool: %s\n", err.msg);
        return -1;
    }
    db = bt_dbpool_get(f->writer, 5000, &err);
    if (!db || bt_migrate(db, "ct", migs, &applied, &err) != BT_OK) {
        fprintf(stderr, "migrate: %s\n", err.msg);
        return -1;
    }
    bt_dbpool_put(f->writer, db);
    exec_on(f->writer, "INSERT INTO ct_rows (id, v) VALUES (1, 'one'), (2, 'two')");
    f->c = bt_cache_new(f->pool, "ct_rows", 100, 1 << 20);
    if (is_pg() && !bt_cache_wait_listening(f->pool, 10000)) {
        fprintf(stderr, "the cache listener did not start\n");
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    bt_cache_free(f->c);
    bt_dbpool_free(f->pool);
    bt_dbpool_free(f->writer);
    bt_arena_free(f->a);
    bt_test_db_url_release(f->url);
    free(f);
    return 0;
}

/* a write made elsewhere, then the wait a handler makes after its own commit */
static void write_elsewhere(struct fix *f, const char *sql)
{
    exec_on(f->writer, sql);
    bt_cache_sync(f->pool);
}

/* ---- SQLite ---- */

static void test_sqlite_never_serves(void **state)
{
    struct fix *f = *state;
    struct bt_cache_fill fill;
    struct bt_rows *rows;
    struct bt_err err;
    struct bt_db *db;
    bool hit;

    if (is_pg())
        skip();
    assert_false(bt_cache_serving(f->c));
    assert_false(bt_cache_listening(f->pool));
    assert_string_equal(lookup(f, "1", &hit), "one");
    assert_false(hit);
    assert_string_equal(lookup(f, "1", &hit), "one");
    assert_false(hit); /* nothing was stored */
    assert_false(bt_cache_get(f->c, "1", f->a, &(const char *){NULL}, &(size_t){0}, &fill));
    assert_null(fill.cache);
    write_elsewhere(f, "UPDATE ct_rows SET v = 'uno' WHERE id = 1"); /* sync returns at once */
    assert_string_equal(lookup(f, "1", &hit), "uno");
    /* the {{CACHE}} line made nothing */
    bt_err_clear(&err);
    db = bt_dbpool_get(f->pool, 5000, &err);
    assert_int_equal(bt_db_query(db, f->a, &rows,
                                 "SELECT name FROM sqlite_master WHERE type = 'trigger'", BT_NOARGS,
                                 &err),
                     BT_OK);
    assert_int_equal(rows->nrows, 0);
    bt_dbpool_put(f->pool, db);
}

/* ---- PostgreSQL ---- */

static void test_pg_hit_until_written(void **state)
{
    struct fix *f = *state;
    bool hit;

    if (!is_pg())
        skip();
    assert_string_equal(lookup(f, "1", &hit), "one");
    assert_string_equal(lookup(f, "1", &hit), "one");
    assert_true(hit);
    assert_string_equal(lookup(f, "2", &hit), "two");

    write_elsewhere(f, "UPDATE ct_rows SET v = 'uno' WHERE id = 1");
    assert_false(cached(f, "1"));
    assert_true(cached(f, "2")); /* only the written key */
    assert_string_equal(lookup(f, "1", &hit), "uno");
    assert_string_equal(lookup(f, "1", &hit), "uno");
    assert_true(hit);

    write_elsewhere(f, "DELETE FROM ct_rows WHERE id = 1");
    assert_string_equal(lookup(f, "1", &hit), "-");
    assert_false(hit);
    lookup(f, "3", &hit); /* "-": a row that is not there yet, cached as such */
    write_elsewhere(f, "INSERT INTO ct_rows (id, v) VALUES (3, 'three')");
    assert_string_equal(lookup(f, "3", &hit), "three");
    assert_false(hit);

    /* another table, no {{CACHE}}: no invalidation */
    write_elsewhere(f, "INSERT INTO ct_other (id, v) VALUES (2, 'x')");
    assert_true(cached(f, "2"));
}

/* pg_notify inside the transaction: delivered at commit, never on rollback */
static void test_pg_only_committed_writes(void **state)
{
    struct fix *f = *state;
    struct bt_err err;
    struct bt_db *w;
    bool hit;

    if (!is_pg())
        skip();
    lookup(f, "1", &hit);
    bt_err_clear(&err);
    w = bt_dbpool_get(f->writer, 5000, &err);
    assert_non_null(w);
    assert_int_equal(bt_db_begin(w, &err), BT_OK);
    assert_int_equal(
        bt_db_exec(w, NULL, "UPDATE ct_rows SET v = 'uno' WHERE id = 1", BT_NOARGS, &err), BT_OK);
    bt_cache_sync(f->pool);
    assert_string_equal(lookup(f, "1", &hit), "one"); /* still the committed value */
    assert_true(hit);
    bt_db_rollback(w);
    bt_cache_sync(f->pool);
    assert_true(cached(f, "1"));

    assert_int_equal(bt_db_begin(w, &err), BT_OK);
    assert_int_equal(
        bt_db_exec(w, NULL, "UPDATE ct_rows SET v = 'uno' WHERE id = 1", BT_NOARGS, &err), BT_OK);
    assert_int_equal(bt_db_commit(w, &err), BT_OK);
    bt_dbpool_put(f->writer, w);
    bt_cache_sync(f->pool);
    assert_string_equal(lookup(f, "1", &hit), "uno");
    assert_false(hit);
}

/* a key that changes invalidates the old key and the new one; TRUNCATE the whole cache */
static void test_pg_key_change_and_truncate(void **state)
{
    struct fix *f = *state;
    bool hit;

    if (!is_pg())
        skip();
    lookup(f, "1", &hit);
    lookup(f, "2", &hit);
    lookup(f, "5", &hit); /* "-" */
    write_elsewhere(f, "UPDATE ct_rows SET id = 5 WHERE id = 1");
    assert_false(cached(f, "1"));
    assert_false(cached(f, "5"));
    assert_true(cached(f, "2"));
    assert_string_equal(lookup(f, "5", &hit), "one");
    assert_string_equal(lookup(f, "1", &hit), "-");

    write_elsewhere(f, "TRUNCATE ct_rows");
    assert_false(cached(f, "2"));
    assert_false(cached(f, "5"));
    assert_string_equal(lookup(f, "2", &hit), "-");
}

/* The classic race with a real row: the reader misses and reads the old row, the write
 * commits and its invalidation arrives, then the reader offers the old row: refused. */
static void test_pg_fill_race(void **state)
{
    struct fix *f = *state;
    struct bt_cache_fill fill;
    struct bt_cache_stats st;
    const char *v, *old;
    size_t len;
    bool hit;

    if (!is_pg())
        skip();
    assert_false(bt_cache_get(f->c, "1", f->a, &v, &len, &fill));
    assert_non_null(fill.cache);
    old = read_row(f, "1");
    write_elsewhere(f, "UPDATE ct_rows SET v = 'uno' WHERE id = 1");
    bt_cache_put(&fill, old, strlen(old));
    assert_false(cached(f, "1"));
    bt_cache_stats(f->c, &st);
    assert_int_equal(st.stale_fills, 1);
    assert_string_equal(lookup(f, "1", &hit), "uno");
}

static uint64_t now_ms(void)
{
    return bt_mono_ns() / 1000000u;
}

/* The listener's backend, by the application_name the listener sets. */
static int64_t listener_pid(struct fix *f)
{
    struct bt_rows *rows;
    struct bt_err err;
    struct bt_db *db;
    char name[64];
    int64_t pid = 0;

    snprintf(name, sizeof(name), "bento cache listener %ld", (long)getpid());
    bt_err_clear(&err);
    db = bt_dbpool_get(f->writer, 5000, &err);
    assert_non_null(db);
    assert_int_equal(bt_db_query(db, f->a, &rows,
                                 "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
                                 BT_ARGS(bt_text(name)), &err),
                     BT_OK);
    bt_dbpool_put(f->writer, db);
    if (rows->nrows == 1)
        pid = bt_rows_i64(rows, 0, 0, 0);
    return pid;
}

/* The listener's connection killed: a write made while it is gone is never served stale past
 * 100 ms, what was cached before is dropped, and the cache serves again once it listens on a
 * new connection - whose invalidations work. */
static void test_pg_listener_killed(void **state)
{
    struct fix *f = *state;
    int64_t pid, again;
    uint64_t t0;
    bool hit;
    char sql[96];

    if (!is_pg())
        skip();
    lookup(f, "1", &hit);
    lookup(f, "2", &hit);
    assert_true(cached(f, "1"));
    pid = listener_pid(f);
    assert_true(pid > 0);
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)", (long long)pid);
    exec_on(f->writer, sql);
    /* the backend is gone from the server's view before the write: no listener of this
     * process can hear it (unless a new one is up already) */
    for (t0 = now_ms(); listener_pid(f) == pid;)
        assert_true(now_ms() - t0 < 5000);
    exec_on(f->writer, "UPDATE ct_rows SET v = 'uno' WHERE id = 1");
    t0 = now_ms();
    /* from 100 ms after the commit on, "one" is never served again */
    while (now_ms() - t0 < 300) {
        const char *v = lookup(f, "1", &hit);
        if (now_ms() - t0 > 100)
            assert_string_equal(v, "uno");
    }
    /* listening again, on a new connection; everything from before was dropped */
    assert_true(bt_cache_wait_listening(f->pool, 10000));
    again = listener_pid(f);
    assert_true(again > 0 && again != pid);
    assert_string_equal(lookup(f, "2", &hit), "two");
    assert_string_equal(lookup(f, "2", &hit), "two");
    assert_true(hit);
    write_elsewhere(f, "UPDATE ct_rows SET v = 'dos' WHERE id = 2");
    assert_string_equal(lookup(f, "2", &hit), "dos");
    assert_false(hit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sqlite_never_serves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_hit_until_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_only_committed_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_key_change_and_truncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_fill_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_listener_killed, setup, teardown),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
