/* SPDX-License-Identifier: MIT
 * test_ratelimit.c - the GCRA limiter (src/ops/ratelimit.c) with injected time: yunshui's
 * "100 requests/minute per client" (429 + Retry-After, X-RateLimit-* headers), refill,
 * window roll-over, bounded memory under a flood of keys, and exactly `limit` passes when
 * many threads race on one key.
 */
#include "bt_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bento/ratelimit.h>

#define T0 1700000000000LL /* an arbitrary "now" in milliseconds */

static void test_new_rejects_zero(void **state)
{
    (void)state;
    assert_null(bt_ratelimit_new(0, 60, 10));
    assert_null(bt_ratelimit_new(10, 0, 10));
    assert_null(bt_ratelimit_new(10, 60, 0));
    bt_ratelimit_free(NULL);
}

/* yunshui: at most 100 requests per minute per client. */
static void test_limit_and_remaining(void **state)
{
    struct bt_ratelimit *rl = bt_ratelimit_new(100, 60, 1000);
    struct bt_ratelimit_result r;
    (void)state;

    assert_non_null(rl);
    for (unsigned i = 0; i < 100; i++) {
        assert_int_equal(bt_ratelimit_take(rl, "10.0.0.1", T0, &r), BT_OK);
        assert_true(r.allowed);
        assert_int_equal(r.limit, 100);
        assert_int_equal(r.remaining, 99 - i);
        assert_int_equal(r.retry_after_s, 0);
        /* (i+1) * 0.6 s of budget used, rounded up */
        assert_int_equal(r.reset_s, ((i + 1) * 600 + 999) / 1000);
    }
    assert_int_equal(r.reset_s, 60);

    /* the 101st is refused and consumes nothing */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(bt_ratelimit_take(rl, "10.0.0.1", T0, &r), BT_ELIMIT);
        assert_false(r.allowed);
        assert_int_equal(r.remaining, 0);
        assert_int_equal(r.limit, 100);
        assert_int_equal(r.retry_after_s, 1); /* the next slot frees in 0.6 s */
        assert_int_equal(r.reset_s, 60);
    }

    /* another client is not affected */
    assert_int_equal(bt_ratelimit_take(rl, "10.0.0.2", T0, &r), BT_OK);
    assert_int_equal(r.remaining, 99);
    bt_ratelimit_free(rl);
}

/* Retry-After is the real wait: with 2 per 60 s the next slot frees 30 s after the first. */
static void test_retry_after_exact(void **state)
{
    struct bt_ratelimit *rl = bt_ratelimit_new(2, 60, 16);
    struct bt_ratelimit_result r;
    (void)state;

    assert_int_equal(bt_ratelimit_take(rl, "k", T0, &r), BT_OK);
    assert_int_equal(bt_ratelimit_take(rl, "k", T0 + 1000, &r), BT_OK);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(bt_ratelimit_take(rl, "k", T0 + 1000, &r), BT_ELIMIT);
    assert_int_equal(r.retry_after_s, 29);
    assert_int_equal(r.reset_s, 59);
    assert_int_equal(bt_ratelimit_take(rl, "k", T0 + 29999, &r), BT_ELIMIT);
    assert_int_equal(r.retry_after_s, 1);
    /* exactly when Retry-After said */
    assert_int_equal(bt_ratelimit_take(rl, "k", T0 + 30000, &r), BT_OK);
    assert_int_equal(r.remaining, 0);
    bt_ratelimit_free(rl);
}

/* Budget comes back smoothly (one slot per window/limit) and wholly after a window. */
static void test_refill_and_rollover(void **state)
{
    struct bt_ratelimit *rl = bt_ratelimit_new(10, 10, 16); /* one slot per second */
    struct bt_ratelimit_result r;
    (void)state;

    for (int i = 0; i < 10; i++)
        assert_int_equal(bt_ratelimit_take(rl, "u1", T0, &r), BT_OK);
    assert_int_equal(bt_ratelimit_take(rl, "u1", T0, &r), BT_ELIMIT);
    assert_int_equal(r.retry_after_s, 1);

    /* 3.5 s later three slots are back */
    assert_int_equal(bt_ratelimit_peek(rl, "u1", T0 + 3500, &r), BT_OK);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(bt_ratelimit_take(rl, "u1", T0 + 3500, &r), BT_OK);
    assert_int_equal(bt_ratelimit_take(rl, "u1", T0 + 3500, &r), BT_ELIMIT);

    /* a whole window after the last use, the full limit is available again */
    assert_int_equal(bt_ratelimit_peek(rl, "u1", T0 + 13000, &r), BT_OK);
    assert_int_equal(r.remaining, 10);
    assert_int_equal(r.reset_s, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(bt_ratelimit_take(rl, "u1", T0 + 13000, &r), BT_OK);
    assert_int_equal(bt_ratelimit_take(rl, "u1", T0 + 13000, &r), BT_ELIMIT);

    /* no boundary burst: in any 10 s interval at most 10 pass (a fixed window would let
     * 20 through around a boundary) */
    {
        int passed = 0;
        for (int64_t t = T0 + 13000; t < T0 + 23000; t += 100)
            if (bt_ratelimit_take(rl, "u1", t, NULL) == BT_OK)
                passed++;
        assert_int_equal(passed, 9); /* 10 used at T0+13000, one frees each second */
    }
    bt_ratelimit_free(rl);
}

/* peek counts nothing; forget starts the key over; a clock that goes back is harmless. */
static void test_peek_forget_clock_back(void **state)
{
    struct bt_ratelimit *rl = bt_ratelimit_new(3, 60, 16);
    struct bt_ratelimit_result r;
    (void)state;

    assert_int_equal(bt_ratelimit_peek(rl, "a", T0, &r), BT_OK);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 3);
    assert_int_equal(r.reset_s, 0);
    assert_int_equal(bt_ratelimit_count(rl), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(bt_ratelimit_take(rl, "a", T0, NULL), BT_OK);
    assert_int_equal(bt_ratelimit_peek(rl, "a", T0, &r), BT_OK);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after_s, 20);

    /* time going backwards never grants more */
    assert_int_equal(bt_ratelimit_take(rl, "a", T0 - 5000, &r), BT_ELIMIT);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry_after_s, 25);

    bt_ratelimit_forget(rl, "a");
    assert_int_equal(bt_ratelimit_count(rl), 0);
    assert_int_equal(bt_ratelimit_take(rl, "a", T0, &r), BT_OK);
    assert_int_equal(r.remaining, 2);

    assert_int_equal(bt_ratelimit_take(NULL, "a", T0, &r), BT_EINVAL);
    assert_int_equal(bt_ratelimit_take(rl, NULL, T0, &r), BT_EINVAL);
    /* extreme clocks do not overflow */
    assert_int_equal(bt_ratelimit_take(rl, "z", INT64_MAX, &r), BT_OK);
    assert_int_equal(bt_ratelimit_take(rl, "y", INT64_MIN, &r), BT_OK);
    bt_ratelimit_free(rl);
}

/* Long keys: distinct long keys stay distinct, the same long key is the same key. */
static void test_long_keys(void **state)
{
    /* room enough that no shard's cap evicts a key: this test is about key handling */
    struct bt_ratelimit *rl = bt_ratelimit_new(1, 60, 4096);
    char a[600], b[600];
    (void)state;

    memset(a, 'x', sizeof(a) - 1);
    a[sizeof(a) - 1] = '\0';
    memcpy(b, a, sizeof(b));
    b[500] = 'y'; /* differs after the stored prefix */
    assert_int_equal(bt_ratelimit_take(rl, a, T0, NULL), BT_OK);
    assert_int_equal(bt_ratelimit_take(rl, a, T0, NULL), BT_ELIMIT);
    assert_int_equal(bt_ratelimit_take(rl, b, T0, NULL), BT_OK);
    assert_int_equal(bt_ratelimit_take(rl, b, T0, NULL), BT_ELIMIT);
    /* a raw key of exactly 200 bytes is not confused with a folded one */
    a[200] = '\0';
    assert_int_equal(bt_ratelimit_take(rl, a, T0, NULL), BT_OK);
    assert_int_equal(bt_ratelimit_count(rl), 3);
    bt_ratelimit_free(rl);
}

/* A flood of distinct keys never holds more than max_keys, and expired keys go first. */
static void test_bounded_memory(void **state)
{
    struct bt_ratelimit *rl = bt_ratelimit_new(5, 60, 1000);
    struct bt_ratelimit_result r;
    char key[32];
    (void)state;

    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "198.51.%d.%d", i / 256, i % 256);
        assert_int_equal(bt_ratelimit_take(rl, key, T0 + i / 100, &r), BT_OK);
        assert_int_equal(r.remaining, 4);
        assert_true(bt_ratelimit_count(rl) <= 1000);
    }
    assert_true(bt_ratelimit_count(rl) >= 900); /* full shards, not emptied */

    /* a small limiter: total capacity is exactly max_keys, not a per-shard rounding */
    {
        struct bt_ratelimit *small = bt_ratelimit_new(1, 60, 10);
        for (int i = 0; i < 500; i++) {
            snprintf(key, sizeof(key), "k%d", i);
            bt_ratelimit_take(small, key, T0, NULL);
            assert_true(bt_ratelimit_count(small) <= 10);
        }
        bt_ratelimit_free(small);
    }

    /* once the old keys have expired, new keys evict them first; when only live keys are
     * left the one with the least state (smallest TAT) goes, so a busy key survives */
    {
        struct bt_ratelimit *rl2 = bt_ratelimit_new(2, 1, 512);
        for (int i = 0; i < 5000; i++) {
            snprintf(key, sizeof(key), "old%d", i);
            bt_ratelimit_take(rl2, key, T0, NULL);
        }
        assert_int_equal(bt_ratelimit_count(rl2), 512);
        bt_ratelimit_take(rl2, "busy", T0 + 5000, NULL);
        bt_ratelimit_take(rl2, "busy", T0 + 5000, NULL);
        for (int i = 0; i < 2000; i++) {
            snprintf(key, sizeof(key), "new%d", i);
            bt_ratelimit_take(rl2, key, T0 + 5000, NULL);
            assert_true(bt_ratelimit_count(rl2) <= 512);
        }
        assert_int_equal(bt_ratelimit_take(rl2, "busy", T0 + 5000, &r), BT_ELIMIT);
        bt_ratelimit_free(rl2);
    }
    bt_ratelimit_free(rl);
}

/* Many threads take from one key at the same instant: exactly `limit` pass. */
struct race {
    struct bt_ratelimit *rl;
    const char *key;
    int tries;
    int passed;
};

static void *race_thread(void *p)
{
    struct race *ra = p;
    for (int i = 0; i < ra->tries; i++)
        if (bt_ratelimit_take(ra->rl, ra->key, T0, NULL) == BT_OK)
            ra->passed++;
    return NULL;
}

static void test_concurrent_one_key(void **state)
{
    enum { NTHREADS = 8, TRIES = 5000, LIMIT = 1234 };
    struct bt_ratelimit *rl = bt_ratelimit_new(LIMIT, 60, 4096);
    pthread_t th[NTHREADS];
    struct race ra[NTHREADS];
    int total = 0, other = 0;
    (void)state;

    for (int i = 0; i < NTHREADS; i++) {
        /* odd threads race on a second key too, so two shards are busy */
        ra[i] = (struct race){rl, (i & 1) ? "other" : "shared", TRIES, 0};
        assert_int_equal(pthread_create(&th[i], NULL, race_thread, &ra[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        if (i & 1)
            other += ra[i].passed;
        else
            total += ra[i].passed;
    }
    assert_int_equal(total, LIMIT);
    assert_int_equal(other, LIMIT);
    bt_ratelimit_free(rl);
}

/* The response headers yunshui (and invite/momo) send. */
static void test_headers(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_res rs = {0};
    struct bt_ratelimit *rl = bt_ratelimit_new(2, 60, 16);
    struct bt_ratelimit_result r;
    (void)state;

    rs.arena = a;
    rs.file_fd = -1;
    bt_ratelimit_take(rl, "c", T0, &r);
    bt_ratelimit_headers(&rs, &r);
    assert_int_equal(rs.nheaders, 3);
    assert_string_equal(rs.headers[0].name, "X-RateLimit-Limit");
    assert_string_equal(rs.headers[0].value, "2");
    assert_string_equal(rs.headers[1].name, "X-RateLimit-Remaining");
    assert_string_equal(rs.headers[1].value, "1");
    assert_string_equal(rs.headers[2].name, "X-RateLimit-Reset");
    assert_string_equal(rs.headers[2].value, "30");

    rs.nheaders = 0;
    bt_ratelimit_take(rl, "c", T0, &r);
    bt_ratelimit_take(rl, "c", T0 + 10000, &r);
    assert_false(r.allowed);
    bt_ratelimit_headers(&rs, &r);
    assert_int_equal(rs.nheaders, 4);
    assert_string_equal(rs.headers[1].value, "0");
    assert_string_equal(rs.headers[2].value, "50");
    assert_string_equal(rs.headers[3].name, "Retry-After");
    assert_string_equal(rs.headers[3].value, "20");

    bt_ratelimit_free(rl);
    bt_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_rejects_zero),
        cmocka_unit_test(test_limit_and_remaining),
        cmocka_unit_test(test_retry_after_exact),
        cmocka_unit_test(test_refill_and_rollover),
        cmocka_unit_test(test_peek_forget_clock_back),
        cmocka_unit_test(test_long_keys),
        cmocka_unit_test(test_bounded_memory),
        cmocka_unit_test(test_concurrent_one_key),
        cmocka_unit_test(test_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
