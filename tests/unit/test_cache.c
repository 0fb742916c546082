/* SPDX-License-Identifier: MIT
 * test_cache.c - the read caches' own rules (include/bento/cache.h, docs/CORE-MODULES.md
 * "Read caches") on caches of this process alone (no pool): hits and misses, a fill refused
 * when an invalidation came between the miss and the put (by key and whole cache), the
 * bounds (entries with least-recently-used order, bytes), JSON values, many threads racing
 * readers against a writer, and the {{CACHE}} migration line's statements. What the database
 * adds (triggers, the listener) is tests/db/test_cache_invalidation.c.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

#include <bento/cache.h>

static bool get_text(struct bt_cache *c, struct bt_arena *a, const char *key, const char **val,
                     struct bt_cache_fill *fill)
{
    size_t len;
    bool hit = bt_cache_get(c, key, a, val, &len, fill);

    if (hit)
        assert_int_equal(len, strlen(*val));
    return hit;
}

static void put_text(const struct bt_cache_fill *fill, const char *val)
{
    bt_cache_put(fill, val, strlen(val));
}

static void test_miss_then_hit(void **state)
{
    struct bt_cache *c = bt_cache_new(NULL, "t_rows", 64, 1 << 20);
    struct bt_arena *a = bt_arena_new();
    struct bt_cache_fill fill;
    struct bt_cache_stats st;
    const char *v;
    size_t len;

    (void)state;
    assert_true(bt_cache_serving(c));
    assert_false(get_text(c, a, "7", &v, &fill));
    assert_null(v);
    assert_non_null(fill.cache);
    bt_cache_put(&fill, "ab\0cd", 5); /* bytes, NULs included */
    assert_true(bt_cache_get(c, "7", a, &v, &len, &fill));
    assert_int_equal(len, 5);
    assert_memory_equal(v, "ab\0cd", 6); /* and a NUL after them */
    assert_false(get_text(c, a, "8", &v, &fill));
    bt_cache_stats(c, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.stores, 1);
    assert_int_equal(st.entries, 1);
    assert_true(st.serving);
    bt_arena_free(a);
    bt_cache_free(c);
}

/* The classic race: a reader misses and reads the old row, a writer commits and the
 * invalidation arrives, then the reader offers the old row. It must not be stored. */
static void test_fill_after_invalidation_refused(void **state)
{
    struct bt_cache *c = bt_cache_new(NULL, "t_rows", 64, 1 << 20);
    struct bt_arena *a = bt_arena_new();
    struct bt_cache_fill fill, late;
    struct bt_cache_stats st;
    const char *v;

    (void)state;
    assert_false(get_text(c, a, "1", &v, &late)); /* the reader misses, reads "old" ... */
    bt_cache_evict(c, "1");                       /* ... the write's invalidation ... */
    put_text(&late, "old");                       /* ... then the reader's put */
    assert_false(get_text(c, a, "1", &v, &fill));
    bt_cache_stats(c, &st);
    assert_int_equal(st.stale_fills, 1);
    assert_int_equal(st.invalidations, 1);
    /* a fill begun after the invalidation is stored */
    put_text(&fill, "new");
    assert_true(get_text(c, a, "1", &v, &fill));
    assert_string_equal(v, "new");

    /* the same with the whole cache flushed (the listener lost, /reload) */
    assert_false(get_text(c, a, "2", &v, &late));
    bt_cache_evict(c, NULL);
    put_text(&late, "old");
    assert_false(get_text(c, a, "2", &v, &fill));
    assert_false(get_text(c, a, "1", &v, &fill)); /* the flush took every key */
    bt_arena_free(a);
    bt_cache_free(c);
}

/* Invalidating a key drops its value; a value put again replaces the old one. */
static void test_evict_and_replace(void **state)
{
    struct bt_cache *c = bt_cache_new(NULL, "t_rows", 64, 1 << 20);
    struct bt_arena *a = bt_arena_new();
    struct bt_cache_fill fill, f2;
    struct bt_cache_stats st;
    const char *v;

    (void)state;
    get_text(c, a, "k", &v, &fill);
    put_text(&fill, "one");
    get_text(c, a, "other", &v, &fill);
    put_text(&fill, "x");
    bt_cache_evict(c, "k");
    assert_false(get_text(c, a, "k", &v, &fill));
    assert_true(get_text(c, a, "other", &v, &f2));
    put_text(&fill, "two");
    /* two fills of one key, both valid: the later put wins, the entry count stays */
    bt_cache_evict(c, "k");
    get_text(c, a, "k", &v, &fill);
    get_text(c, a, "k", &v, &f2);
    put_text(&fill, "three");
    put_text(&f2, "four");
    assert_true(get_text(c, a, "k", &v, &fill));
    assert_string_equal(v, "four");
    bt_cache_stats(c, &st);
    assert_int_equal(st.entries, 2);
    bt_arena_free(a);
    bt_cache_free(c);
}

/* Entries: never more than the bound, and a value read between writes is never the one that
 * goes (least recently used first). 32 entries = 2 per shard, so every new key lands in a
 * shard next to at most one other. */
static void test_bound_entries_lru(void **state)
{
    struct bt_cache *c = bt_cache_new(NULL, "t_lru", 32, 1 << 20);
    struct bt_arena *a = bt_arena_new();
    struct bt_cache_fill fill;
    struct bt_cache_stats st;
    const char *v;
    char key[16];

    (void)state;
    get_text(c, a, "hot", &v, &fill);
    put_text(&fill, "h");
    for (int i = 0; i < 2000; i++) {
        assert_true(get_text(c, a, "hot", &v, &fill)); /* read between writes: stays */
        snprintf(key, sizeof(key), "k%d", i);
        assert_false(get_text(c, a, key, &v, &fill));
        put_text(&fill, key);
        assert_true(get_text(c, a, key, &v, &fill)); /* the newest is always there */
        bt_cache_stats(c, &st);
        assert_true(st.entries <= 32);
        bt_arena_reset(a);
    }
    bt_cache_stats(c, &st);
    assert_int_equal(st.evictions, st.stores - st.entries);
    assert_true(st.evictions >= 2000 - 32);
    bt_arena_free(a);
    bt_cache_free(c);
}

/* Bytes: a shard holds a sixteenth of max_bytes; a value larger than that is not stored, and
 * the total never passes the bound. */
static void test_bound_bytes(void **state)
{
    struct bt_cache *c = bt_cache_new(NULL, "t_bytes", 10000, 16 * 1024);
    struct bt_arena *a = bt_arena_new();
    struct bt_cache_fill fill;
    struct bt_cache_stats st;
    char big[2048], key[16];
    const char *v;

    (void)state;
    memset(big, 'x', sizeof(big));
    get_text(c, a, "big", &v, &fill);
    bt_cache_put(&fill, big, sizeof(big)); /* over a shard's 1 KiB */
    assert_false(get_text(c, a, "big", &v, &fill));
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        get_text(c, a, key, &v, &fill);
        bt_cache_put(&fill, big, 300);
        bt_cache_stats(c, &st);
        assert_true(st.bytes <= 16 * 1024);
    }
    bt_cache_stats(c, &st);
    assert_true(st.entries > 16); /* it holds some: at least two per shard */
    assert_int_equal(st.stores, 500);
    bt_arena_free(a);
    bt_cache_free(c);
}

/* JSON values come back as the same document, written as bt_json_dump writes it. */
static void test_json_values(void **state)
{
    struct bt_cache *c = bt_cache_new(NULL, "t_json", 64, 1 << 20);
    struct bt_arena *a = bt_arena_new();
    struct bt_cache_fill fill;
    json_t *in =
        json_pack("{s:I,s:s,s:b,s:n,s:f,s:[i,s]}", "id", (json_int_t)1, "name", "甲山林 \"A\"",
                  "is_active", 1, "updated_at", "ratio", 0.25, "list", 1, "x");
    json_t *out;
    const char *text;
    size_t len;

    (void)state;
    assert_false(bt_cache_get_json(c, "1", a, &out, &fill));
    assert_null(out);
    bt_cache_put_json(&fill, a, in);
    assert_true(bt_cache_get_json(c, "1", a, &out, &fill));
    assert_true(json_equal(in, out));
    assert_true(bt_cache_get(c, "1", a, &text, &len, &fill));
    assert_string_equal(text, bt_json_dump(a, in, NULL)); /* field order kept */
    json_decref(in);
    bt_arena_free(a);
    bt_cache_free(c);
}

/* ---- many threads ----
 * A fake database of 2 rows, each a version number. The writer commits a new version of a
 * row, then invalidates it (as the listener would), then publishes "every reader starting
 * now must see at least this version". Readers get, or on a miss read the row and put it.
 * With the generation check a reader can never see a version older than what was published
 * before its get began; without it, a reader that read the old row before the commit and put
 * it after the invalidation would leave it there for the next ones. */

#define NROWS 2
#define NREADERS 6
#define WRITES 20000

struct race {
    struct bt_cache *c;
    atomic_long row[NROWS];   /* the "database" */
    atomic_long floor[NROWS]; /* versions every later get must see at least */
    atomic_bool done;
    atomic_long stale_seen, gets;
};

static void *race_reader(void *arg)
{
    struct race *r = arg;
    struct bt_arena *a = bt_arena_new();
    unsigned k = 0;

    while (!atomic_load(&r->done)) {
        struct bt_cache_fill fill;
        char key[8], val[24];
        const char *v;
        size_t len;
        long floor;

        k = (k + 1) % NROWS;
        snprintf(key, sizeof(key), "%u", k);
        floor = atomic_load(&r->floor[k]);
        if (bt_cache_get(r->c, key, a, &v, &len, &fill)) {
            if (atol(v) < floor)
                atomic_fetch_add(&r->stale_seen, 1);
        } else {
            snprintf(val, sizeof(val), "%ld", atomic_load(&r->row[k]));
            sched_yield(); /* a query takes a while: let the writer in between */
            bt_cache_put(&fill, val, strlen(val));
        }
        atomic_fetch_add(&r->gets, 1);
        bt_arena_reset(a);
    }
    bt_arena_free(a);
    return NULL;
}

static void test_threads_never_stale(void **state)
{
    struct race r = {.c = bt_cache_new(NULL, "t_race", 64, 1 << 20)};
    pthread_t th[NREADERS];
    struct bt_cache_stats st;

    (void)state;
    for (int i = 0; i < NREADERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_reader, &r), 0);
    for (long w = 1; w <= WRITES; w++) {
        unsigned k = (unsigned)(w % NROWS);
        char key[8];

        snprintf(key, sizeof(key), "%u", k);
        atomic_store(&r.row[k], w); /* commit */
        bt_cache_evict(r.c, key);   /* the invalidation arrives */
        atomic_store(&r.floor[k], w);
        /* let the readers run between writes, as real writes are rare */
        for (long until = atomic_load(&r.gets) + 3; atomic_load(&r.gets) < until;)
            sched_yield();
    }
    atomic_store(&r.done, true);
    for (int i = 0; i < NREADERS; i++)
        pthread_join(th[i], NULL);
    bt_cache_stats(r.c, &st);
    assert_int_equal(atomic_load(&r.stale_seen), 0);
    assert_true(st.hits > 0);
    bt_cache_free(r.c);
}

/* ---- the {{CACHE}} migration line ---- */

static void test_ddl(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_buf b;

    (void)state;
    bt_buf_init(&b, a, 64);
    assert_true(bt_cache_ddl("app_rows", "app_rows", "id", BT_ENGINE_SQLITE, &b));
    assert_int_equal(b.len, 0); /* SQLite: no cache, no trigger */
    assert_true(bt_cache_ddl("app_rows", "app_row_cache", "id", BT_ENGINE_PG, &b));
    assert_non_null(strstr(b.p, "CREATE OR REPLACE FUNCTION app_row_cache_on_app_rows()"));
    assert_non_null(strstr(b.p, "CREATE TRIGGER app_row_cache_on_app_rows AFTER INSERT OR "
                                "UPDATE OR DELETE ON app_rows"));
    assert_non_null(strstr(b.p, "AFTER TRUNCATE ON app_rows"));
    assert_non_null(strstr(b.p, "coalesce('app_row_cache ' || OLD.id, 'app_row_cache')"));
    assert_non_null(strstr(b.p, "coalesce('app_row_cache ' || NEW.id, 'app_row_cache')"));
    assert_non_null(strstr(b.p, "md5(TG_TABLE_SCHEMA)"));

    /* names are identifiers; generated names fit PostgreSQL's 63 characters */
    assert_false(bt_cache_ddl("app-rows", "c", "id", BT_ENGINE_PG, &b));
    assert_false(bt_cache_ddl("app_rows", "C", "id", BT_ENGINE_SQLITE, &b));
    assert_false(bt_cache_ddl("app_rows", "c", "id; DROP", BT_ENGINE_PG, &b));
    assert_false(bt_cache_ddl("", "c", "id", BT_ENGINE_PG, &b));
    assert_false(bt_cache_ddl("a_table_with_a_rather_long_name_x", "a_cache_also_long_ish", "id",
                              BT_ENGINE_PG, &b));
    assert_true(bt_cache_ddl("a_table_with_a_rather_long_name_x", "a_cache_shorter", "id",
                             BT_ENGINE_PG, &b));
    bt_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_miss_then_hit),
        cmocka_unit_test(test_fill_after_invalidation_refused),
        cmocka_unit_test(test_evict_and_replace),
        cmocka_unit_test(test_bound_entries_lru),
        cmocka_unit_test(test_bound_bytes),
        cmocka_unit_test(test_json_values),
        cmocka_unit_test(test_threads_never_stale),
        cmocka_unit_test(test_ddl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
