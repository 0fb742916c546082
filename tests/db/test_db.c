/* SPDX-License-Identifier: MIT
 * test_db.c - the database layer (include/bento/db.h, migrate.h) on the engine named by
 * BENTO_TEST_ENGINE (registered once per engine). Expected JSON is one literal for both
 * engines: the same SQL must give byte-identical JSON on SQLite and PostgreSQL.
 * Every test opens its own fresh database (bt_test_db_url_new); nothing depends on order.
 * Reads in one round trip (bt_db_query_batch) are tested on both engines too.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bt_test.h"

struct fix {
    char *url;
    struct bt_dbpool *pool;
    struct bt_arena *a;
};

static bool is_pg(void)
{
    return !strcmp(bt_test_engine(), "pg");
}

static int setup_n(void **state, unsigned size)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct bt_err err;

    assert_non_null(f);
    f->url = bt_test_db_url_new();
    f->a = bt_arena_new();
    if (bt_dbpool_open(f->url, size, &f->pool, &err) != BT_OK) {
        fprintf(stderr, "pool: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_n(state, 4);
}

static int setup2(void **state)
{
    return setup_n(state, 2);
}

static int teardown(void **state)
{
    struct fix *f = *state;

    bt_dbpool_free(f->pool);
    bt_arena_free(f->a);
    bt_test_db_url_release(f->url);
    free(f);
    return 0;
}

static struct bt_db *get(struct fix *f)
{
    struct bt_err err;
    struct bt_db *db = bt_dbpool_get(f->pool, 5000, &err);

    if (!db)
        fail_msg("bt_dbpool_get: %s", err.msg);
    return db;
}

/* exec that must succeed */
#define EXEC(db, sql, ...)                                                                         \
    do {                                                                                           \
        struct bt_err e_;                                                                          \
        int rc_ = bt_db_exec((db), NULL, (sql), __VA_ARGS__, &e_);                                 \
        if (rc_ != BT_OK)                                                                          \
            fail_msg("%s: %s", (sql), e_.msg);                                                     \
    } while (0)

static void script(struct bt_db *db, const char *sql)
{
    struct bt_err err;

    if (bt_db_exec_script(db, sql, &err) != BT_OK)
        fail_msg("script: %s", err.msg);
}

/* Query as compact JSON text, for exact comparison across engines. */
static char *qjson(struct fix *f, struct bt_db *db, const char *sql, const struct bt_val *args,
                   size_t nargs)
{
    struct bt_err err;
    json_t *j;

    if (bt_db_query_json(db, f->a, &j, sql, args, nargs, &err) != BT_OK)
        fail_msg("%s: %s", sql, err.msg);
    return bt_json_dump(f->a, j, NULL);
}

static int64_t qi64(struct bt_db *db, const char *sql, const struct bt_val *args, size_t nargs)
{
    struct bt_err err;
    int64_t v;

    if (bt_db_query_i64(db, &v, sql, args, nargs, &err) != BT_OK)
        fail_msg("%s: %s", sql, err.msg);
    return v;
}

/* ---- binding and types ---- */

static void test_bind_by_name(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);

    /* SQLite numbers named parameters by first appearance: positional binding swaps these */
    assert_string_equal(
        qjson(f, db, "SELECT $2 AS b, $1 AS a", BT_ARGS(bt_text("one"), bt_text("two"))),
        "[{\"b\":\"two\",\"a\":\"one\"}]");
    /* the same parameter twice */
    assert_string_equal(qjson(f, db, "SELECT $1 || '-' || $1 AS x", BT_ARGS(bt_text("ab"))),
                        "[{\"x\":\"ab-ab\"}]");
    bt_dbpool_put(f->pool, db);
}

static void test_round_trip_types(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);

    script(db, "CREATE TABLE t (id BIGINT PRIMARY KEY, s TEXT, i BIGINT, "
               "f DOUBLE PRECISION, b BOOLEAN, n TEXT)");
    EXEC(db, "INSERT INTO t (id, s, i, f, b, n) VALUES ($1, $2, $3, $4, $5, $6)",
         BT_ARGS(bt_i64(1), bt_text("h\xc3\xa9llo \"q\" \xe2\x9c\x93"), bt_i64(-42), bt_f64(0.1),
                 bt_bool(true), bt_null()));
    EXEC(db, "INSERT INTO t (id, s, i, f, b, n) VALUES ($1, $2, $3, $4, $5, $6)",
         BT_ARGS(bt_i64(2), bt_text(""), bt_i64(0), bt_f64(5.0), bt_bool(false), bt_text(NULL)));
    EXEC(db, "INSERT INTO t (id, s, i, f, b, n) VALUES ($1, $2, $3, $4, $5, $6)",
         BT_ARGS(bt_i64(3), bt_text("x"), bt_i64(7), bt_f64(-1234.5e-10), bt_bool(true),
                 bt_text("y")));
    /* literal TRUE/FALSE: SQLite stores 1/0, PostgreSQL t/f; both must read as booleans */
    EXEC(db, "INSERT INTO t (id, s, i, f, b, n) VALUES (4, 'lit', 1, 2.5, FALSE, NULL)", BT_NOARGS);
    EXEC(db, "UPDATE t SET b = TRUE WHERE id = $1", BT_ARGS(bt_i64(2)));

    assert_string_equal(
        qjson(f, db, "SELECT id, s, i, f, b, n FROM t ORDER BY id", BT_NOARGS),
        "[{\"id\":1,\"s\":\"h\xc3\xa9llo \\\"q\\\" \xe2\x9c\x93\",\"i\":-42,\"f\":0.1,"
        "\"b\":true,\"n\":null},"
        "{\"id\":2,\"s\":\"\",\"i\":0,\"f\":5.0,\"b\":true,\"n\":null},"
        "{\"id\":3,\"s\":\"x\",\"i\":7,\"f\":-1.2345e-07,\"b\":true,\"n\":\"y\"},"
        "{\"id\":4,\"s\":\"lit\",\"i\":1,\"f\":2.5,\"b\":false,\"n\":null}]");

    /* the cell text forms and accessors agree across engines too */
    struct bt_rows *rows;
    struct bt_err err;
    assert_int_equal(bt_db_query(db, f->a, &rows, "SELECT s, i, f, b, n FROM t WHERE id = $1",
                                 BT_ARGS(bt_i64(1)), &err),
                     BT_OK);
    assert_int_equal(rows->nrows, 1);
    assert_int_equal(rows->ncols, 5);
    assert_int_equal(rows->kinds[0], BT_COL_TEXT);
    assert_int_equal(rows->kinds[1], BT_COL_INT);
    assert_int_equal(rows->kinds[2], BT_COL_REAL);
    assert_int_equal(rows->kinds[3], BT_COL_BOOL);
    assert_int_equal(rows->kinds[4], BT_COL_TEXT);
    assert_string_equal(bt_rows_text(rows, 0, 1), "-42");
    assert_string_equal(bt_rows_text(rows, 0, 2), "0.1");
    assert_string_equal(bt_rows_text(rows, 0, 3), "true");
    assert_true(bt_rows_isnull(rows, 0, 4));
    assert_null(bt_rows_text(rows, 0, 4));
    assert_int_equal(bt_rows_i64(rows, 0, 1, 0), -42);
    assert_true(bt_rows_f64(rows, 0, 2, 0) == 0.1);
    assert_true(bt_rows_bool(rows, 0, 3, false));
    assert_int_equal(bt_rows_i64(rows, 0, 4, 99), 99);
    assert_int_equal(bt_rows_col(rows, "f"), 2);
    assert_int_equal(bt_rows_col(rows, "nope"), -1);

    /* bool parameters compare against BOOLEAN columns on both engines */
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM t WHERE b = $1", BT_ARGS(bt_bool(true))), 3);
    bt_dbpool_put(f->pool, db);
}

static void test_big_integers(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    const int64_t big = (INT64_C(1) << 53) + 1; /* not representable as a double */

    script(db, "CREATE TABLE n (v BIGINT NOT NULL)");
    EXEC(db, "INSERT INTO n (v) VALUES ($1)", BT_ARGS(bt_i64(big)));
    EXEC(db, "INSERT INTO n (v) VALUES ($1)", BT_ARGS(bt_i64(INT64_MAX)));
    EXEC(db, "INSERT INTO n (v) VALUES ($1)", BT_ARGS(bt_i64(INT64_MIN)));
    assert_string_equal(qjson(f, db, "SELECT v FROM n ORDER BY v", BT_NOARGS),
                        "[{\"v\":-9223372036854775808},{\"v\":9007199254740993},"
                        "{\"v\":9223372036854775807}]");
    assert_true(qi64(db, "SELECT v FROM n WHERE v = $1", BT_ARGS(bt_i64(big))) == big);
    assert_true(qi64(db, "SELECT v + 1 FROM n WHERE v = $1", BT_ARGS(bt_i64(big))) == big + 1);
    /* a bound value selected back keeps its integer type on both engines */
    assert_string_equal(qjson(f, db, "SELECT CAST($1 AS BIGINT) AS v", BT_ARGS(bt_i64(big))),
                        "[{\"v\":9007199254740993}]");
    bt_dbpool_put(f->pool, db);
}

static void test_reals_round_trip(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    const double vals[] = {0.5, 0.1, 1.0 / 3.0, 123456789.125, 1e-300, 1e300, -2.5};
    struct bt_rows *rows;
    struct bt_err err;

    script(db, "CREATE TABLE r (k BIGINT, v DOUBLE PRECISION)");
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        EXEC(db, "INSERT INTO r (k, v) VALUES ($1, $2)",
             BT_ARGS(bt_i64((int64_t)i), bt_f64(vals[i])));
    assert_int_equal(bt_db_query(db, f->a, &rows, "SELECT v FROM r ORDER BY k", BT_NOARGS, &err),
                     BT_OK);
    assert_int_equal(rows->nrows, sizeof(vals) / sizeof(vals[0]));
    for (size_t i = 0; i < rows->nrows; i++)
        assert_true(bt_rows_f64(rows, i, 0, 0) == vals[i]);
    assert_string_equal(bt_rows_text(rows, 0, 0), "0.5");
    assert_string_equal(bt_rows_text(rows, 1, 0), "0.1");
    assert_string_equal(bt_rows_text(rows, 2, 0), "0.3333333333333333");
    assert_string_equal(bt_rows_text(rows, 3, 0), "123456789.125");
    bt_dbpool_put(f->pool, db);
}

/* ---- errors ---- */

static void test_constraint_conflicts(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    struct bt_err err;

    script(db, "CREATE TABLE p (id BIGINT PRIMARY KEY, email TEXT NOT NULL UNIQUE, "
               "qty BIGINT NOT NULL CHECK (qty > 0));"
               "CREATE TABLE c (id BIGINT PRIMARY KEY, p_id BIGINT NOT NULL REFERENCES p (id))");
    EXEC(db, "INSERT INTO p (id, email, qty) VALUES ($1, $2, $3)",
         BT_ARGS(bt_i64(1), bt_text("a@x"), bt_i64(1)));

    assert_int_equal(bt_db_exec(db, NULL, "INSERT INTO p (id, email, qty) VALUES ($1, $2, $3)",
                                BT_ARGS(bt_i64(2), bt_text("a@x"), bt_i64(1)), &err),
                     BT_ECONFLICT);
    assert_int_equal(err.code, BT_ECONFLICT);
    assert_string_equal(err.msg, "unique constraint violated");
    assert_string_equal(err.field, "email");

    assert_int_equal(bt_db_exec(db, NULL, "INSERT INTO p (id, email, qty) VALUES ($1, $2, $3)",
                                BT_ARGS(bt_i64(1), bt_text("b@x"), bt_i64(1)), &err),
                     BT_ECONFLICT);
    assert_string_equal(err.field, "id");

    assert_int_equal(bt_db_exec(db, NULL, "INSERT INTO p (id, email, qty) VALUES ($1, $2, $3)",
                                BT_ARGS(bt_i64(3), bt_text("c@x"), bt_i64(0)), &err),
                     BT_ECONFLICT);
    assert_string_equal(err.msg, "check constraint violated");

    assert_int_equal(bt_db_exec(db, NULL, "INSERT INTO p (id, email, qty) VALUES ($1, $2, $3)",
                                BT_ARGS(bt_i64(4), bt_null(), bt_i64(1)), &err),
                     BT_ECONFLICT);
    assert_string_equal(err.msg, "not null constraint violated");

    assert_int_equal(bt_db_exec(db, NULL, "INSERT INTO c (id, p_id) VALUES ($1, $2)",
                                BT_ARGS(bt_i64(1), bt_i64(999)), &err),
                     BT_ECONFLICT);
    assert_string_equal(err.msg, "foreign key constraint violated");

    /* a conflict does not poison a connection outside a transaction */
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM p", BT_NOARGS), 1);
    bt_dbpool_put(f->pool, db);
}

static void expect_edb(struct bt_db *db, const char *sql, const struct bt_val *args, size_t nargs)
{
    struct bt_err err;
    struct bt_arena *a = bt_arena_new();
    struct bt_rows *rows = (struct bt_rows *)&err; /* must be reset to NULL */

    bt_err_clear(&err);
    int rc = bt_db_query(db, a, &rows, sql, args, nargs, &err);
    if (rc != BT_EDB)
        fail_msg("%s: expected BT_EDB, got %d", sql, rc);
    assert_null(rows);
    assert_int_equal(err.code, BT_EDB);
    assert_true(err.msg[0] != '\0');
    assert_int_equal(bt_db_exec(db, NULL, sql, args, nargs, &err), BT_EDB);
    bt_arena_free(a);
}

static void test_bad_sql(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);

    script(db, "CREATE TABLE t (a BIGINT)");
    expect_edb(db, "SELEC 1", BT_NOARGS);
    expect_edb(db, "SELECT * FROM no_such_table", BT_NOARGS);
    expect_edb(db, "SELECT no_such_col FROM t", BT_NOARGS);
    expect_edb(db, "", BT_NOARGS);
    expect_edb(db, "   ", BT_NOARGS);
    /* a parameter without an argument, and an argument without a parameter */
    expect_edb(db, "SELECT a FROM t WHERE a = $1 OR a = $3", BT_ARGS(bt_i64(1), bt_i64(2)));
    expect_edb(db, "SELECT a FROM t WHERE a = $2", BT_ARGS(bt_i64(1), bt_i64(2)));
    expect_edb(db, "SELECT a FROM t WHERE a = $1", BT_ARGS(bt_i64(1), bt_i64(2)));
    expect_edb(db, "SELECT a FROM t WHERE a = $1", BT_NOARGS);
    /* not the portable parameter syntax */
    expect_edb(db, "SELECT a FROM t WHERE a = ?", BT_ARGS(bt_i64(1)));
    /* one statement per query; scripts go through bt_db_exec_script */
    expect_edb(db, "SELECT 1; SELECT 2", BT_NOARGS);

    struct bt_err err;
    assert_int_equal(bt_db_exec_script(db, "CREATE TABLE u (a BIGINT); SELEC", &err), BT_EDB);

    /* the connection still works, also after a trailing semicolon */
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM t;", BT_NOARGS), 0);
    bt_dbpool_put(f->pool, db);
}

/* ---- transactions ---- */

static void test_commit_and_rollback(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f), *other;
    struct bt_err err;

    script(db, "CREATE TABLE t (k TEXT PRIMARY KEY)");
    assert_false(bt_db_in_tx(db));
    assert_int_equal(bt_db_begin(db, &err), BT_OK);
    assert_true(bt_db_in_tx(db));
    EXEC(db, "INSERT INTO t (k) VALUES ($1)", BT_ARGS(bt_text("a")));
    assert_int_equal(bt_db_commit(db, &err), BT_OK);
    assert_false(bt_db_in_tx(db));

    assert_int_equal(bt_db_begin(db, &err), BT_OK);
    EXEC(db, "INSERT INTO t (k) VALUES ($1)", BT_ARGS(bt_text("b")));
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM t", BT_NOARGS), 2);
    bt_db_rollback(db);
    assert_false(bt_db_in_tx(db));
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM t", BT_NOARGS), 1);

    /* committed rows are visible on another connection */
    other = get(f);
    assert_ptr_not_equal(other, db);
    assert_int_equal(qi64(other, "SELECT COUNT(*) FROM t WHERE k = $1", BT_ARGS(bt_text("a"))), 1);
    bt_dbpool_put(f->pool, other);

    /* after an error inside a transaction only rollback is allowed, on both engines */
    assert_int_equal(bt_db_begin(db, &err), BT_OK);
    EXEC(db, "INSERT INTO t (k) VALUES ($1)", BT_ARGS(bt_text("c")));
    assert_int_equal(
        bt_db_exec(db, NULL, "INSERT INTO t (k) VALUES ($1)", BT_ARGS(bt_text("a")), &err),
        BT_ECONFLICT);
    int64_t n;
    assert_int_equal(bt_db_query_i64(db, &n, "SELECT COUNT(*) FROM t", BT_NOARGS, &err), BT_EDB);
    assert_int_equal(bt_db_commit(db, &err), BT_EDB);
    assert_false(bt_db_in_tx(db));
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM t", BT_NOARGS), 1);

    /* rollback without a transaction is harmless */
    bt_db_rollback(db);
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM t", BT_NOARGS), 1);
    bt_dbpool_put(f->pool, db);
}

static void test_put_rolls_back(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    struct bt_err err;
    unsigned in_use;

    script(db, "CREATE TABLE t (k TEXT PRIMARY KEY)");
    assert_int_equal(bt_db_begin(db, &err), BT_OK);
    EXEC(db, "INSERT INTO t (k) VALUES ($1)", BT_ARGS(bt_text("lost")));
    bt_dbpool_put(f->pool, db);

    /* the same connection comes back (LIFO), clean */
    db = get(f);
    assert_false(bt_db_in_tx(db));
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM t", BT_NOARGS), 0);
    /* and a transaction can start again (SQLite would say "within a transaction") */
    assert_int_equal(bt_db_begin(db, &err), BT_OK);
    bt_db_rollback(db);

    /* a transaction begun with raw SQL is rolled back too */
    EXEC(db, "BEGIN", BT_NOARGS);
    EXEC(db, "INSERT INTO t (k) VALUES ($1)", BT_ARGS(bt_text("raw")));
    bt_dbpool_put(f->pool, db);
    db = get(f);
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM t", BT_NOARGS), 0);
    bt_dbpool_stats(f->pool, &in_use, NULL, NULL);
    assert_int_equal(in_use, 1);
    bt_dbpool_put(f->pool, db);
}

/* ---- portable SQL ---- */

static void test_returning_and_upsert(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    struct bt_err err;
    int64_t changed;
    char *sql = NULL;

    sql = bt_migrate_expand(db, "CREATE TABLE v (id {{ID}}, name TEXT NOT NULL UNIQUE, "
                                "hits BIGINT NOT NULL DEFAULT 0)");
    script(db, sql);
    free(sql);

    assert_string_equal(qjson(f, db, "INSERT INTO v (name) VALUES ($1) RETURNING id, name, hits",
                              BT_ARGS(bt_text("a"))),
                        "[{\"id\":1,\"name\":\"a\",\"hits\":0}]");
    assert_string_equal(qjson(f, db, "INSERT INTO v (name) VALUES ($1), ($2) RETURNING id",
                              BT_ARGS(bt_text("b"), bt_text("c"))),
                        "[{\"id\":2},{\"id\":3}]");

    const char *upsert = "INSERT INTO v (name, hits) VALUES ($1, $2) "
                         "ON CONFLICT (name) DO UPDATE SET hits = v.hits + excluded.hits "
                         "RETURNING id, hits";
    assert_string_equal(qjson(f, db, upsert, BT_ARGS(bt_text("a"), bt_i64(5))),
                        "[{\"id\":1,\"hits\":5}]");
    assert_string_equal(qjson(f, db, upsert, BT_ARGS(bt_text("a"), bt_i64(2))),
                        "[{\"id\":1,\"hits\":7}]");
    /* both engines draw the id before they find the conflict: the two upserts of "a" used
     * up 4 and 5 (ids have gaps; never rely on them being dense) */
    assert_string_equal(qjson(f, db, upsert, BT_ARGS(bt_text("d"), bt_i64(1))),
                        "[{\"id\":6,\"hits\":1}]");

    /* DO NOTHING: zero rows changed, no error */
    assert_int_equal(bt_db_exec(db, &changed,
                                "INSERT INTO v (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
                                BT_ARGS(bt_text("a")), &err),
                     BT_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(bt_db_exec(db, &changed, "UPDATE v SET hits = hits + 1 WHERE id > $1",
                                BT_ARGS(bt_i64(1)), &err),
                     BT_OK);
    assert_int_equal(changed, 3);
    assert_int_equal(
        bt_db_exec(db, &changed, "DELETE FROM v WHERE name = $1", BT_ARGS(bt_text("zzz")), &err),
        BT_OK);
    assert_int_equal(changed, 0);
    /* exec of RETURNING counts the rows too */
    assert_int_equal(bt_db_exec(db, &changed, "DELETE FROM v WHERE id >= $1 RETURNING id",
                                BT_ARGS(bt_i64(3)), &err),
                     BT_OK);
    assert_int_equal(changed, 2);
    /* DDL reports no change count (SQLite would repeat the last DML's) */
    assert_int_equal(bt_db_exec(db, &changed, "CREATE TABLE w (a TEXT)", BT_NOARGS, &err), BT_OK);
    assert_int_equal(changed, 0);
    bt_dbpool_put(f->pool, db);
}

static void test_portable_subset(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    struct bt_err err;
    json_t *j;

    script(db, "CREATE TABLE o (id TEXT PRIMARY KEY, name TEXT NOT NULL, qty BIGINT NOT NULL, "
               "w DOUBLE PRECISION NOT NULL, "
               "status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'done')), "
               "archived BOOLEAN NOT NULL DEFAULT FALSE, created_at TEXT NOT NULL);"
               "CREATE INDEX o_created_at ON o (created_at)");
    const char *ins = "INSERT INTO o (id, name, qty, w, created_at) VALUES ($1, $2, $3, $4, $5)";
    EXEC(db, ins,
         BT_ARGS(bt_text("o1"), bt_text("Acme Tea"), bt_i64(10), bt_f64(1.5),
                 bt_text("2026-01-29T14:00:00Z")));
    EXEC(db, ins,
         BT_ARGS(bt_text("o2"), bt_text("ACME coffee"), bt_i64(20), bt_f64(2.25),
                 bt_text("2026-01-30T09:00:00Z")));
    EXEC(db, ins,
         BT_ARGS(bt_text("o3"), bt_text("Other"), bt_i64(5), bt_f64(3),
                 bt_text("2025-12-31T23:59:59Z")));

    /* case-insensitive search without ILIKE; LIMIT/OFFSET bound; text timestamps sort */
    assert_string_equal(
        qjson(f, db,
              "SELECT id FROM o WHERE lower(name) LIKE lower($1) ORDER BY created_at DESC "
              "LIMIT $2 OFFSET $3",
              BT_ARGS(bt_text("%acme%"), bt_i64(10), bt_i64(0))),
        "[{\"id\":\"o2\"},{\"id\":\"o1\"}]");
    assert_string_equal(qjson(f, db, "SELECT id FROM o ORDER BY created_at LIMIT $1 OFFSET $2",
                              BT_ARGS(bt_i64(1), bt_i64(1))),
                        "[{\"id\":\"o1\"}]");
    /* optional filter: CAST lets PostgreSQL type a parameter compared with NULL */
    const char *opt = "SELECT COUNT(*) FROM o WHERE (CAST($1 AS TEXT) IS NULL OR status = $1)";
    assert_int_equal(qi64(db, opt, BT_ARGS(bt_null())), 3);
    assert_int_equal(qi64(db, opt, BT_ARGS(bt_text("done"))), 0);
    /* defaults, COALESCE, || */
    assert_string_equal(
        qjson(f, db,
              "SELECT status, archived, COALESCE(NULL, name) || '#' || id AS label FROM o "
              "WHERE id = $1",
              BT_ARGS(bt_text("o1"))),
        "[{\"status\":\"draft\",\"archived\":false,\"label\":\"Acme Tea#o1\"}]");
    /* aggregates: COUNT and SUM of BIGINT are integers, AVG and SUM of DOUBLE are reals */
    assert_string_equal(qjson(f, db,
                              "SELECT COUNT(*) AS n, SUM(qty) AS total, SUM(w) AS wsum, "
                              "MAX(qty) AS top, MIN(name) AS first FROM o",
                              BT_NOARGS),
                        "[{\"n\":3,\"total\":35,\"wsum\":6.75,\"top\":20,\"first\":\"ACME "
                        "coffee\"}]");
    assert_string_equal(
        qjson(f, db, "SELECT AVG(w) AS a FROM o WHERE id <> $1", BT_ARGS(bt_text("o3"))),
        "[{\"a\":1.875}]");
    /* an aggregate over no rows is NULL */
    assert_string_equal(
        qjson(f, db, "SELECT SUM(qty) AS total FROM o WHERE id = $1", BT_ARGS(bt_text("none"))),
        "[{\"total\":null}]");
    /* more of the subset: IN, CASE, NULLIF, FILTER, NULLS LAST, string functions */
    EXEC(db, "UPDATE o SET status = 'done' WHERE id = $1", BT_ARGS(bt_text("o3")));
    assert_string_equal(qjson(f, db,
                              "SELECT id, CASE WHEN qty > $1 THEN 'big' ELSE 'small' END AS size, "
                              "NULLIF(status, 'draft') AS st, substr(name, 1, 4) AS pre, "
                              "replace(trim(' ' || name), ' ', '_') AS slug, length(name) AS len "
                              "FROM o WHERE id IN ($2, $3) ORDER BY st DESC NULLS LAST, id",
                              BT_ARGS(bt_i64(8), bt_text("o1"), bt_text("o3"))),
                        "[{\"id\":\"o3\",\"size\":\"small\",\"st\":\"done\",\"pre\":\"Othe\","
                        "\"slug\":\"Other\",\"len\":5},"
                        "{\"id\":\"o1\",\"size\":\"big\",\"st\":null,\"pre\":\"Acme\","
                        "\"slug\":\"Acme_Tea\",\"len\":8}]");
    assert_string_equal(qjson(f, db,
                              "SELECT COUNT(*) FILTER (WHERE status = $1) AS done, "
                              "COUNT(*) FILTER (WHERE archived = $2) AS live FROM o",
                              BT_ARGS(bt_text("done"), bt_bool(false))),
                        "[{\"done\":1,\"live\":3}]");
    assert_string_equal(qjson(f, db,
                              "UPDATE o SET archived = $1 WHERE status = $2 "
                              "RETURNING id, archived",
                              BT_ARGS(bt_bool(true), bt_text("done"))),
                        "[{\"id\":\"o3\",\"archived\":true}]");
    EXEC(db, "UPDATE o SET status = 'draft', archived = FALSE WHERE id = $1",
         BT_ARGS(bt_text("o3")));

    /* CHECK ... IN keeps enums honest */
    assert_int_equal(bt_db_exec(db, NULL, "UPDATE o SET status = $1 WHERE id = $2",
                                BT_ARGS(bt_text("bogus"), bt_text("o1")), &err),
                     BT_ECONFLICT);

    /* helpers: one object, not found, i64 of NULL */
    assert_int_equal(bt_db_query_one_json(db, f->a, &j, "SELECT id, qty FROM o WHERE id = $1",
                                          BT_ARGS(bt_text("o2")), &err),
                     BT_OK);
    assert_string_equal(bt_json_dump(f->a, j, NULL), "{\"id\":\"o2\",\"qty\":20}");
    assert_int_equal(bt_db_query_one_json(db, f->a, &j, "SELECT id FROM o WHERE id = $1",
                                          BT_ARGS(bt_text("nope")), &err),
                     BT_ENOTFOUND);
    assert_null(j);
    int64_t v = 5;
    assert_int_equal(bt_db_query_i64(db, &v, "SELECT MAX(qty) FROM o WHERE id = $1",
                                     BT_ARGS(bt_text("nope")), &err),
                     BT_ENOTFOUND);
    assert_int_equal(bt_db_query_json(db, f->a, &j, "SELECT id FROM o WHERE qty > $1",
                                      BT_ARGS(bt_i64(100)), &err),
                     BT_OK);
    assert_string_equal(bt_json_dump(f->a, j, NULL), "[]");
    bt_dbpool_put(f->pool, db);
}

/* ---- migrations ---- */

static const struct bt_migration migs_v1[] = {
    {1, "vendors",
     "CREATE TABLE mt_vendors (id {{ID}}, name TEXT NOT NULL);"
     "CREATE INDEX mt_vendors_name ON mt_vendors (name);"},
    {2, "codes",
     "CREATE TABLE mt_codes (id {{ID}}, code TEXT NOT NULL UNIQUE, "
     "vendor_id BIGINT REFERENCES mt_vendors (id))"},
    BT_MIGRATION_END,
};

static const struct bt_migration migs_v2[] = {
    {1, "vendors",
     "CREATE TABLE mt_vendors (id {{ID}}, name TEXT NOT NULL);"
     "CREATE INDEX mt_vendors_name ON mt_vendors (name);"},
    {2, "codes",
     "CREATE TABLE mt_codes (id {{ID}}, code TEXT NOT NULL UNIQUE, "
     "vendor_id BIGINT REFERENCES mt_vendors (id))"},
    {3, "flags", "ALTER TABLE mt_vendors ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE"},
    BT_MIGRATION_END,
};

static const struct bt_migration migs_bad[] = {
    {1, "first", "CREATE TABLE mt_other (id {{ID}}, name TEXT NOT NULL);"},
    {2, "broken", "CREATE TABLE mt_half (a TEXT); INSERT INTO no_such_table VALUES (1)"},
    BT_MIGRATION_END,
};

static void test_migrations(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    struct bt_err err;
    int applied = -1;

    assert_int_equal(bt_migrate(db, "mt", migs_v1, &applied, &err), BT_OK);
    assert_int_equal(applied, 2);
    assert_int_equal(bt_migrate(db, "mt", migs_v1, &applied, &err), BT_OK);
    assert_int_equal(applied, 0);
    assert_int_equal(bt_migrate(db, "mt", migs_v2, &applied, &err), BT_OK);
    assert_int_equal(applied, 1);
    assert_int_equal(bt_migrate(db, "mt", migs_v2, NULL, &err), BT_OK);
    /* another app's ledger is separate */
    assert_int_equal(bt_migrate(db, "other", migs_bad, &applied, &err), BT_EDB);
    assert_int_equal(applied, 1);
    assert_non_null(strstr(err.msg, "broken"));
    assert_string_equal(qjson(f, db,
                              "SELECT app, version, name FROM bento_migrations "
                              "ORDER BY app, version",
                              BT_NOARGS),
                        "[{\"app\":\"mt\",\"version\":1,\"name\":\"vendors\"},"
                        "{\"app\":\"mt\",\"version\":2,\"name\":\"codes\"},"
                        "{\"app\":\"mt\",\"version\":3,\"name\":\"flags\"},"
                        "{\"app\":\"other\",\"version\":1,\"name\":\"first\"}]");
    /* the failed migration left nothing behind (DDL is transactional on both) */
    int64_t n;
    assert_int_equal(bt_db_query_i64(db, &n, "SELECT COUNT(*) FROM mt_half", BT_NOARGS, &err),
                     BT_EDB);
    assert_false(bt_db_in_tx(db));
    assert_non_null(
        strstr(qjson(f, db, "SELECT applied_at FROM bento_migrations WHERE version = 3", BT_NOARGS),
               "Z\"}]"));

    /* {{ID}}: ids count from 1 and are never reused, on both engines */
    assert_int_equal(
        qi64(db, "INSERT INTO mt_vendors (name) VALUES ($1) RETURNING id", BT_ARGS(bt_text("a"))),
        1);
    assert_int_equal(
        qi64(db, "INSERT INTO mt_vendors (name) VALUES ($1) RETURNING id", BT_ARGS(bt_text("b"))),
        2);
    EXEC(db, "DELETE FROM mt_vendors WHERE id = $1", BT_ARGS(bt_i64(2)));
    assert_int_equal(
        qi64(db, "INSERT INTO mt_vendors (name) VALUES ($1) RETURNING id", BT_ARGS(bt_text("c"))),
        3);
    assert_string_equal(
        qjson(f, db, "SELECT id, name, active FROM mt_vendors ORDER BY id", BT_NOARGS),
        "[{\"id\":1,\"name\":\"a\",\"active\":true},"
        "{\"id\":3,\"name\":\"c\",\"active\":true}]");
    /* foreign keys are enforced (SQLite needs PRAGMA foreign_keys per connection) */
    assert_int_equal(bt_db_exec(db, NULL, "INSERT INTO mt_codes (code, vendor_id) VALUES ($1, $2)",
                                BT_ARGS(bt_text("x"), bt_i64(2)), &err),
                     BT_ECONFLICT);

    char *s = bt_migrate_expand(db, "a {{ID}} b {{ID}} {{X}}");
    if (is_pg())
        assert_string_equal(s, "a BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY b "
                               "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY {{X}}");
    else
        assert_string_equal(
            s, "a INTEGER PRIMARY KEY AUTOINCREMENT b INTEGER PRIMARY KEY AUTOINCREMENT {{X}}");
    free(s);
    bt_dbpool_put(f->pool, db);
}

/* Several pools (as several bento processes) migrating one database at once. */
struct mig_arg {
    const char *url;
    int rc, applied;
    char msg[512];
};

static void *mig_thread(void *p)
{
    struct mig_arg *m = p;
    struct bt_dbpool *pool;
    struct bt_err err;

    m->rc = bt_dbpool_open(m->url, 1, &pool, &err);
    if (m->rc == BT_OK) {
        struct bt_db *db = bt_dbpool_get(pool, 10000, &err);
        m->rc = db ? bt_migrate(db, "mt", migs_v2, &m->applied, &err) : (int)err.code;
        bt_dbpool_put(pool, db);
        bt_dbpool_free(pool);
    }
    if (m->rc != BT_OK)
        snprintf(m->msg, sizeof(m->msg), "%s", err.msg);
    return NULL;
}

static void test_migrations_concurrent(void **state)
{
    struct fix *f = *state;
    pthread_t th[4];
    struct mig_arg args[4];
    int total = 0;

    for (int i = 0; i < 4; i++) {
        args[i] = (struct mig_arg){.url = f->url};
        assert_int_equal(pthread_create(&th[i], NULL, mig_thread, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        if (args[i].rc != BT_OK)
            fail_msg("migrate %d: %s", i, args[i].msg);
        total += args[i].applied;
    }
    assert_int_equal(total, 3);
    struct bt_db *db = get(f);
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM bento_migrations", BT_NOARGS), 3);
    bt_dbpool_put(f->pool, db);
}

/* ---- pool ---- */

static double elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_pool_exhaustion(void **state)
{
    struct fix *f = *state; /* pool of 2 */
    struct bt_err err;
    struct timespec t0;
    unsigned in_use, open, max;

    bt_dbpool_stats(f->pool, &in_use, &open, &max);
    assert_int_equal(in_use, 0);
    assert_int_equal(open, 1); /* the first connection is opened eagerly, the rest lazily */
    assert_int_equal(max, 2);
    assert_int_equal(bt_dbpool_engine(f->pool), is_pg() ? BT_ENGINE_PG : BT_ENGINE_SQLITE);

    struct bt_db *a = get(f), *b = get(f);
    assert_int_equal(bt_db_engine(a), bt_dbpool_engine(f->pool));
    bt_dbpool_stats(f->pool, &in_use, &open, &max);
    assert_int_equal(in_use, 2);
    assert_int_equal(open, 2);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_null(bt_dbpool_get(f->pool, 150, &err));
    assert_int_equal(err.code, BT_EUNAVAILABLE);
    assert_true(elapsed_ms(&t0) >= 140.0);
    assert_null(bt_dbpool_get(f->pool, 0, &err));
    assert_int_equal(err.code, BT_EUNAVAILABLE);

    bt_dbpool_put(f->pool, b);
    struct bt_db *c = get(f);
    assert_ptr_equal(c, b);
    bt_dbpool_put(f->pool, c);
    bt_dbpool_put(f->pool, a);
    bt_dbpool_put(f->pool, NULL);
    bt_dbpool_stats(f->pool, &in_use, &open, &max);
    assert_int_equal(in_use, 0);
    assert_int_equal(open, 2);
}

struct waiter {
    struct bt_dbpool *pool;
    struct bt_db *got;
    struct bt_err err;
};

static void *wait_thread(void *p)
{
    struct waiter *w = p;

    w->got = bt_dbpool_get(w->pool, 30000, &w->err);
    return NULL;
}

static void test_pool_waiter_wakes(void **state)
{
    struct fix *f = *state; /* pool of 2 */
    struct bt_db *a = get(f), *b = get(f);
    struct waiter w = {.pool = f->pool};
    pthread_t th;

    /* the waiter either blocks until the put below or finds the connection already back:
     * it must get exactly that connection either way, well before its timeout */
    assert_int_equal(pthread_create(&th, NULL, wait_thread, &w), 0);
    bt_dbpool_put(f->pool, a);
    pthread_join(th, NULL);
    assert_ptr_equal(w.got, a);
    bt_dbpool_put(f->pool, w.got);
    bt_dbpool_put(f->pool, b);
}

struct worker {
    struct bt_dbpool *pool;
    int id, ok, failures;
    char msg[600];
};

#define WORKERS 8
#define ROUNDS 40

static void *work_thread(void *p)
{
    struct worker *w = p;
    struct bt_arena *a = bt_arena_new();
    struct bt_err err;

    for (int i = 0; i < ROUNDS; i++) {
        struct bt_db *db = bt_dbpool_get(w->pool, 20000, &err);
        struct bt_rows *rows;
        int rc;
        if (!db) {
            w->failures++;
            snprintf(w->msg, sizeof(w->msg), "get: %s", err.msg);
            continue;
        }
        rc = bt_db_begin(db, &err);
        if (rc == BT_OK)
            rc = bt_db_exec(db, NULL, "UPDATE ctr SET n = n + 1 WHERE k = $1",
                            BT_ARGS(bt_text("c")), &err);
        if (rc == BT_OK)
            rc = bt_db_exec(db, NULL, "INSERT INTO log (worker, round) VALUES ($1, $2)",
                            BT_ARGS(bt_i64(w->id), bt_i64(i)), &err);
        if (rc == BT_OK)
            rc = bt_db_query(db, a, &rows, "SELECT COUNT(*) AS n FROM log WHERE worker = $1",
                             BT_ARGS(bt_i64(w->id)), &err);
        if (rc == BT_OK && bt_rows_i64(rows, 0, 0, -1) != i + 1) {
            rc = BT_EINTERNAL;
            snprintf(err.msg, sizeof(err.msg), "own rows not visible in own transaction");
        }
        if (rc == BT_OK)
            rc = bt_db_commit(db, &err);
        if (rc == BT_OK) {
            w->ok++;
        } else {
            w->failures++;
            snprintf(w->msg, sizeof(w->msg), "%s", err.msg);
        }
        bt_dbpool_put(w->pool, db);
        bt_arena_reset(a);
    }
    bt_arena_free(a);
    return NULL;
}

static void test_pool_concurrent(void **state)
{
    struct fix *f = *state; /* pool of 4, 8 threads */
    struct worker w[WORKERS];
    pthread_t th[WORKERS];
    struct bt_db *db = get(f);
    unsigned in_use, open, max;

    script(db, "CREATE TABLE ctr (k TEXT PRIMARY KEY, n BIGINT NOT NULL);"
               "CREATE TABLE log (worker BIGINT NOT NULL, round BIGINT NOT NULL, "
               "PRIMARY KEY (worker, round));"
               "INSERT INTO ctr (k, n) VALUES ('c', 0)");
    bt_dbpool_put(f->pool, db);

    for (int i = 0; i < WORKERS; i++) {
        w[i] = (struct worker){.pool = f->pool, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, work_thread, &w[i]), 0);
    }
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(th[i], NULL);
        if (w[i].failures)
            fail_msg("worker %d: %d failures, last: %s", i, w[i].failures, w[i].msg);
        assert_int_equal(w[i].ok, ROUNDS);
    }
    db = get(f);
    assert_int_equal(qi64(db, "SELECT n FROM ctr WHERE k = $1", BT_ARGS(bt_text("c"))),
                     WORKERS * ROUNDS);
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM log", BT_NOARGS), WORKERS * ROUNDS);
    bt_dbpool_put(f->pool, db);
    bt_dbpool_stats(f->pool, &in_use, &open, &max);
    assert_int_equal(in_use, 0);
    assert_true(open <= max);
    assert_int_equal(max, 4);
}

static void test_bad_url(void **state)
{
    struct bt_dbpool *pool = (struct bt_dbpool *)state; /* must be reset to NULL */
    struct bt_err err;

    if (is_pg()) {
        /* the test server, but a database that does not exist */
        const char *dsn = getenv("BENTO_TEST_PG_DSN");
        char url[512];
        snprintf(url, sizeof(url), "%s%sdbname=bt_no_such_database", dsn,
                 strchr(dsn, '?') ? "&" : "?");
        assert_int_equal(bt_dbpool_open(url, 2, &pool, &err), BT_EUNAVAILABLE);
        assert_non_null(strstr(err.msg, "bt_no_such_database"));
    } else {
        assert_int_equal(bt_dbpool_open("sqlite:/proc/no/such/dir/x.db", 2, &pool, &err),
                         BT_EUNAVAILABLE);
    }
    /* a database that cannot be reached or opened is "unavailable" (503), not a failed
     * statement (docs/DATABASE.md, "Errors") */
    assert_null(pool);
    assert_int_equal(err.code, BT_EUNAVAILABLE);
    assert_true(err.msg[0] != '\0');
}

/* ---- engine-specific ---- */

static void test_sqlite_urls(void **state)
{
    char dir[] = "/tmp/bt-dbtest-XXXXXX", path[256], url[300];
    struct bt_dbpool *pool;
    struct bt_err err;
    unsigned max;
    struct stat st;

    (void)state;
    if (is_pg())
        skip();
    assert_non_null(mkdtemp(dir));

    /* :memory: is one private database: the pool keeps a single connection */
    assert_int_equal(bt_dbpool_open(":memory:", 8, &pool, &err), BT_OK);
    bt_dbpool_stats(pool, NULL, NULL, &max);
    assert_int_equal(max, 1);
    struct bt_db *db = bt_dbpool_get(pool, 1000, &err);
    assert_non_null(db);
    script(db, "CREATE TABLE t (a BIGINT)");
    bt_dbpool_put(pool, db);
    db = bt_dbpool_get(pool, 1000, &err);
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM t", BT_NOARGS), 0);
    bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);

    assert_int_equal(bt_dbpool_open("sqlite::memory:", 8, &pool, &err), BT_OK);
    bt_dbpool_stats(pool, NULL, NULL, &max);
    assert_int_equal(max, 1);
    bt_dbpool_free(pool);

    /* sqlite://, sqlite: and a plain path name the same file; parents are created */
    snprintf(path, sizeof(path), "%s/sub/dir/a.db", dir);
    snprintf(url, sizeof(url), "sqlite://%s", path);
    assert_int_equal(bt_dbpool_open(url, 2, &pool, &err), BT_OK);
    db = bt_dbpool_get(pool, 1000, &err);
    script(db, "CREATE TABLE t (a BIGINT); INSERT INTO t VALUES (1)");
    /* WAL and foreign keys are on for every connection */
    struct bt_arena *a = bt_arena_new();
    struct bt_rows *rows;
    assert_int_equal(bt_db_query(db, a, &rows, "PRAGMA journal_mode", BT_NOARGS, &err), BT_OK);
    assert_string_equal(bt_rows_text(rows, 0, 0), "wal");
    assert_int_equal(qi64(db, "PRAGMA foreign_keys", BT_NOARGS), 1);
    assert_int_equal(qi64(db, "PRAGMA synchronous", BT_NOARGS), 1); /* NORMAL */
    bt_arena_free(a);
    bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);
    assert_int_equal(stat(path, &st), 0);

    snprintf(url, sizeof(url), "sqlite:%s", path);
    assert_int_equal(bt_dbpool_open(url, 2, &pool, &err), BT_OK);
    db = bt_dbpool_get(pool, 1000, &err);
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM t", BT_NOARGS), 1);
    bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);

    assert_int_equal(bt_dbpool_open(path, 2, &pool, &err), BT_OK);
    db = bt_dbpool_get(pool, 1000, &err);
    assert_int_equal(qi64(db, "SELECT COUNT(*) FROM t", BT_NOARGS), 1);
    bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);

    const char *sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[300];
        snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
        unlink(p);
    }
    snprintf(path, sizeof(path), "%s/sub/dir", dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
}

static void test_statement_cache(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    char sql[128];

    /* more distinct statements than the SQLite cache holds, then the first ones again */
    script(db, "CREATE TABLE t (a BIGINT)");
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 100; i++) {
            snprintf(sql, sizeof(sql), "SELECT COUNT(*) + %d FROM t WHERE a <> $1", i);
            assert_int_equal(qi64(db, sql, BT_ARGS(bt_i64(-1))), i);
        }
    }
    /* same text at a different address, and a schema change under a cached statement */
    strcpy(sql, "SELECT * FROM t");
    assert_string_equal(qjson(f, db, sql, BT_NOARGS), "[]");
    EXEC(db, "INSERT INTO t (a) VALUES ($1)", BT_ARGS(bt_i64(1)));
    script(db, "ALTER TABLE t ADD COLUMN b TEXT");
    char *copy = strdup(sql);
    assert_string_equal(qjson(f, db, copy, BT_NOARGS), "[{\"a\":1,\"b\":null}]");
    free(copy);
    bt_dbpool_put(f->pool, db);
}

/* Several reads in one call (one round trip on PostgreSQL): each one's rows, in order, with
 * statements new and cached, every argument type; the connection is as usable after it. */
static void test_query_batch(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    struct bt_val a1[] = {bt_i64(2)}, a2[] = {bt_text("b"), bt_bool(true)};
    struct bt_val a3[] = {bt_f64(1.5), bt_text(NULL)};
    struct bt_db_read r[3];
    struct bt_err err;

    script(db, "CREATE TABLE t (a BIGINT, b TEXT, c BOOLEAN)");
    EXEC(db, "INSERT INTO t (a, b, c) VALUES (1, 'a', FALSE), (2, 'b', TRUE), (3, 'b', TRUE)",
         BT_NOARGS);
    for (int round = 0; round < 2; round++) { /* prepared in the first, cached in the second */
        r[0] = (struct bt_db_read){.sql = "SELECT b FROM t WHERE a = $1", .args = a1, .nargs = 1};
        r[1] = (struct bt_db_read){
            .sql = "SELECT a FROM t WHERE b = $1 AND c = $2 ORDER BY a", .args = a2, .nargs = 2};
        r[2] = (struct bt_db_read){.sql = "SELECT CAST($1 AS DOUBLE PRECISION) * 2 AS x,"
                                          " CAST($2 AS TEXT) AS y",
                                   .args = a3,
                                   .nargs = 2};
        bt_err_clear(&err);
        assert_int_equal(bt_db_query_batch(db, f->a, r, 3, &err), BT_OK);
        assert_int_equal(r[0].rows->nrows, 1);
        assert_string_equal(bt_rows_text(r[0].rows, 0, 0), "b");
        assert_int_equal(r[1].rows->nrows, 2);
        assert_int_equal(bt_rows_i64(r[1].rows, 0, 0, 0), 2);
        assert_int_equal(bt_rows_i64(r[1].rows, 1, 0, 0), 3);
        assert_true(bt_rows_f64(r[2].rows, 0, 0, 0) == 3.0);
        assert_true(bt_rows_isnull(r[2].rows, 0, 1));
        /* the connection goes on as before */
        assert_int_equal(qi64(db, "SELECT COUNT(*) FROM t", BT_NOARGS), 3);
    }
    /* one read is a batch too, and inside a transaction it sees the transaction's rows */
    assert_int_equal(bt_db_begin(db, &err), BT_OK);
    EXEC(db, "INSERT INTO t (a, b, c) VALUES (9, 'z', FALSE)", BT_NOARGS);
    r[0] = (struct bt_db_read){.sql = "SELECT b FROM t WHERE a = $1", .args = BT_ARGS(bt_i64(9))};
    assert_int_equal(bt_db_query_batch(db, f->a, r, 1, &err), BT_OK);
    assert_string_equal(bt_rows_text(r[0].rows, 0, 0), "z");
    bt_db_rollback(db);
    /* none, or more than BT_DB_BATCH_MAX: a bug in the caller */
    {
        struct bt_db_read many[BT_DB_BATCH_MAX + 1];
        for (size_t i = 0; i <= BT_DB_BATCH_MAX; i++)
            many[i] = (struct bt_db_read){.sql = "SELECT 1"};
        assert_int_equal(bt_db_query_batch(db, f->a, many, 0, &err), BT_EINTERNAL);
        assert_int_equal(bt_db_query_batch(db, f->a, many, BT_DB_BATCH_MAX + 1, &err),
                         BT_EINTERNAL);
        assert_int_equal(bt_db_query_batch(db, f->a, many, BT_DB_BATCH_MAX, &err), BT_OK);
        assert_int_equal(bt_rows_i64(many[BT_DB_BATCH_MAX - 1].rows, 0, 0, 0), 1);
    }
    bt_dbpool_put(f->pool, db);
}

/* A read of a batch that fails - when prepared, or only when run - fails the call with its
 * error and no read keeps rows; in a transaction, the transaction has failed. */
static void test_query_batch_failure(void **state)
{
    struct fix *f = *state;
    struct bt_db *db = get(f);
    struct bt_val min[] = {bt_i64(INT64_MIN)}, one[] = {bt_i64(1)};
    struct bt_db_read r[3];
    struct bt_err err;
    int64_t n;

    script(db, "CREATE TABLE t (a BIGINT)");
    EXEC(db, "INSERT INTO t (a) VALUES (1)", BT_NOARGS);
    for (int how = 0; how < 2; how++) {
        r[0] = (struct bt_db_read){.sql = "SELECT a FROM t WHERE a = $1", .args = one, .nargs = 1};
        /* no such table (fails to prepare), or an overflow (fails as it runs, both engines) */
        r[1] = how == 0 ? (struct bt_db_read){.sql = "SELECT a FROM no_such_table"}
                        : (struct bt_db_read){
                              .sql = "SELECT abs(CAST($1 AS BIGINT))", .args = min, .nargs = 1};
        r[2] = (struct bt_db_read){.sql = "SELECT a FROM t", .args = NULL, .nargs = 0};
        bt_err_clear(&err);
        assert_int_equal(bt_db_query_batch(db, f->a, r, 3, &err), BT_EDB);
        assert_true(strlen(err.msg) > 0);
        for (size_t i = 0; i < 3; i++)
            assert_null(r[i].rows);
        assert_int_equal(qi64(db, "SELECT COUNT(*) FROM t", BT_NOARGS), 1);
    }
    assert_int_equal(bt_db_begin(db, &err), BT_OK);
    assert_int_equal(bt_db_query_batch(db, f->a, r, 3, &err), BT_EDB);
    assert_int_equal(bt_db_query_i64(db, &n, "SELECT COUNT(*) FROM t", BT_NOARGS, &err), BT_EDB);
    assert_int_equal(bt_db_query_batch(db, f->a, r, 1, &err), BT_EDB);
    bt_db_rollback(db);
    assert_int_equal(bt_db_query_batch(db, f->a, r, 1, &err), BT_OK);
    bt_dbpool_put(f->pool, db);
}

/* PostgreSQL's statement cache: a statement the server forgot (DISCARD ALL, as a pooler in
 * transaction mode does) is prepared again at once; one whose columns changed inside a
 * transaction fails that transaction only, and the next use prepares it again */
static void test_pg_statement_cache_stale(void **state)
{
    struct fix *f = *state;
    struct bt_db *db;
    struct bt_rows *rows;
    struct bt_err err;

    if (!is_pg())
        skip();
    db = get(f);
    script(db, "CREATE TABLE t (a BIGINT)");
    EXEC(db, "INSERT INTO t (a) VALUES ($1)", BT_ARGS(bt_i64(7)));
    assert_int_equal(qi64(db, "SELECT a FROM t WHERE a = $1", BT_ARGS(bt_i64(7))), 7);
    script(db, "DISCARD ALL");
    assert_int_equal(qi64(db, "SELECT a FROM t WHERE a = $1", BT_ARGS(bt_i64(7))), 7);

    assert_string_equal(qjson(f, db, "SELECT * FROM t", BT_NOARGS), "[{\"a\":7}]");
    assert_int_equal(bt_db_begin(db, &err), BT_OK);
    script(db, "ALTER TABLE t ADD COLUMN b TEXT");
    assert_int_not_equal(bt_db_query(db, f->a, &rows, "SELECT * FROM t", BT_NOARGS, &err), BT_OK);
    bt_db_rollback(db);
    script(db, "ALTER TABLE t ADD COLUMN c TEXT");
    assert_string_equal(qjson(f, db, "SELECT * FROM t", BT_NOARGS), "[{\"a\":7,\"c\":null}]");

    /* the same in a batch: forgotten statements are prepared again at once outside a
     * transaction; changed columns inside one fail it, and the next use prepares again */
    {
        struct bt_val seven[] = {bt_i64(7)};
        struct bt_db_read r[2] = {
            {.sql = "SELECT a FROM t WHERE a = $1", .args = seven, .nargs = 1},
            {.sql = "SELECT * FROM t"},
        };
        script(db, "DISCARD ALL");
        assert_int_equal(bt_db_query_batch(db, f->a, r, 2, &err), BT_OK);
        assert_int_equal(bt_rows_i64(r[0].rows, 0, 0, 0), 7);
        assert_int_equal(r[1].rows->ncols, 2);
        assert_int_equal(bt_db_begin(db, &err), BT_OK);
        script(db, "ALTER TABLE t ADD COLUMN d TEXT");
        assert_int_equal(bt_db_query_batch(db, f->a, r, 2, &err), BT_EDB);
        assert_null(r[0].rows);
        /* the ROLLBACK cached before DISCARD ALL is stale too: still the transaction ends
         * and the connection stays */
        bt_db_rollback(db);
        assert_false(bt_db_in_tx(db));
        script(db, "ALTER TABLE t ADD COLUMN e TEXT");
        assert_int_equal(bt_db_query_batch(db, f->a, r, 2, &err), BT_OK);
        assert_int_equal(r[1].rows->ncols, 3);
        assert_string_equal(r[1].rows->names[2], "e");
    }
    bt_dbpool_put(f->pool, db);
}

static void test_pg_reconnect(void **state)
{
    struct fix *f = *state;
    struct bt_db *db, *killer;
    struct bt_err err;
    int64_t pid, pid2, n;

    if (!is_pg())
        skip();
    db = get(f);
    killer = get(f);
    pid = qi64(db, "SELECT pg_backend_pid()", BT_NOARGS);

    /* killed while checked out: the next statement fails cleanly, the pool drops it */
    assert_int_equal(
        qi64(killer, "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1", BT_ARGS(bt_i64(pid))),
        1);
    EXEC(killer, "SELECT pg_terminate_backend(CAST($1 AS INTEGER), 10000)", BT_ARGS(bt_i64(pid)));
    assert_int_equal(bt_db_query_i64(db, &n, "SELECT 1", BT_NOARGS, &err), BT_EUNAVAILABLE);
    bt_dbpool_put(f->pool, db);
    db = get(f);
    pid2 = qi64(db, "SELECT pg_backend_pid()", BT_NOARGS);
    assert_true(pid2 != pid);

    /* killed while idle in the pool: found dead on check-out and reopened */
    bt_dbpool_put(f->pool, db);
    EXEC(killer, "SELECT pg_terminate_backend(CAST($1 AS INTEGER), 10000)", BT_ARGS(bt_i64(pid2)));
    /* (with a timeout, pg_terminate_backend returns once the backend has exited) */
    db = get(f);
    assert_int_equal(qi64(db, "SELECT 1", BT_NOARGS), 1);
    assert_true(qi64(db, "SELECT pg_backend_pid()", BT_NOARGS) != pid2);
    bt_dbpool_put(f->pool, db);
    bt_dbpool_put(f->pool, killer);
}

static char *qtext(struct fix *f, struct bt_db *db, const char *sql)
{
    struct bt_rows *rows;
    struct bt_err err;

    if (bt_db_query(db, f->a, &rows, sql, BT_NOARGS, &err) != BT_OK)
        fail_msg("%s: %s", sql, err.msg);
    return (char *)bt_rows_text(rows, 0, 0);
}

/* Each PostgreSQL connection runs in UTC without parallel workers or JIT, unless the URL's
 * options name a value of their own (docs/DATABASE.md, "Connection settings"). */
static void test_pg_session_settings(void **state)
{
    struct fix *f = *state;
    struct bt_dbpool *pool;
    struct bt_db *db;
    struct bt_err err;
    char *url;

    if (!is_pg())
        skip();
    db = get(f);
    assert_string_equal(qtext(f, db, "SELECT current_setting('TimeZone')"), "UTC");
    assert_string_equal(qtext(f, db, "SELECT current_setting('jit')"), "off");
    assert_string_equal(qtext(f, db, "SELECT current_setting('max_parallel_workers_per_gather')"),
                        "0");
    bt_dbpool_put(f->pool, db);

    /* the test URL already carries options (search_path): one more -c there wins */
    assert_non_null(strstr(f->url, "options="));
    assert_true(asprintf(&url, "%s%%20-cjit%%3Don", f->url) > 0);
    if (bt_dbpool_open(url, 1, &pool, &err) != BT_OK)
        fail_msg("pool: %s", err.msg);
    db = bt_dbpool_get(pool, 5000, &err);
    assert_non_null(db);
    assert_string_equal(qtext(f, db, "SELECT current_setting('jit')"), "on");
    assert_string_equal(qtext(f, db, "SELECT current_setting('max_parallel_workers_per_gather')"),
                        "0");
    assert_string_equal(qtext(f, db, "SELECT current_setting('TimeZone')"), "UTC");
    bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);
    free(url);
}

/* bt_db_like_contains: %, _ and \ in a search are literal with ESCAPE '\' on both engines */
static void test_like_contains(void **state)
{
    struct fix *f = *state;
    struct bt_err err;
    struct bt_db *db = bt_dbpool_get(f->pool, 5000, &err);
    static const char *const rows[] = {"100%", "1000", "a_b", "axb", "c\\d", "cd", "鋼板 304"};
    static const struct {
        const char *term;
        int64_t count;
    } cases[] = {{"%", 1}, {"0%", 1}, {"_", 1}, {"a_", 1}, {"\\", 1}, {"鋼板", 1}, {"", 7}};
    int64_t n = 0;

    assert_non_null(db);
    assert_int_equal(bt_db_exec(db, NULL, "CREATE TABLE t_like (s TEXT)", BT_NOARGS, &err), BT_OK);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_int_equal(bt_db_exec(db, NULL, "INSERT INTO t_like (s) VALUES ($1)",
                                    BT_ARGS(bt_text(rows[i])), &err),
                         BT_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *pat = bt_db_like_contains(f->a, cases[i].term);
        assert_int_equal(bt_db_query_i64(db, &n,
                                         "SELECT COUNT(*) FROM t_like WHERE s LIKE $1 ESCAPE '\\'",
                                         BT_ARGS(bt_text(pat)), &err),
                         BT_OK);
        if (n != cases[i].count)
            fail_msg("term \"%s\" (pattern %s): %lld rows, want %lld", cases[i].term, pat,
                     (long long)n, (long long)cases[i].count);
    }
    assert_null(bt_db_like_contains(f->a, NULL));
    bt_dbpool_put(f->pool, db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bind_by_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_like_contains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_integers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reals_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constraint_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_sql, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_and_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_returning_and_upsert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_portable_subset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_exhaustion, setup2, teardown),
        cmocka_unit_test_setup_teardown(test_pool_waiter_wakes, setup2, teardown),
        cmocka_unit_test_setup_teardown(test_pool_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_batch_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_statement_cache_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_session_settings, setup, teardown),
        cmocka_unit_test(test_bad_url),
        cmocka_unit_test(test_sqlite_urls),
    };

    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
