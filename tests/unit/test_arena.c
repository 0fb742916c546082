/* SPDX-License-Identifier: MIT
 * test_arena.c - the per-request arena: alignment, zeroing, big blocks, defers, buffers. */
#include <string.h>

#include "bt_test.h"

static int defer_log[8];
static int ndefer;

static void record(void *p)
{
    defer_log[ndefer++] = (int)(intptr_t)p;
}

static void test_alloc_aligned_and_zeroed(void **state)
{
    struct bt_arena *a = bt_arena_new();
    (void)state;
    for (size_t n = 1; n < 3000; n += 37) {
        unsigned char *p = bt_arena_alloc(a, n);
        assert_int_equal((uintptr_t)p % 16, 0);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(p[i], 0);
        memset(p, 0xab, n);
    }
    bt_arena_free(a);
}

static void test_big_allocations_and_reset(void **state)
{
    struct bt_arena *a = bt_arena_new();
    (void)state;
    for (int round = 0; round < 3; round++) {
        char *big = bt_arena_alloc(a, 1 << 20);
        char *small = bt_arena_alloc(a, 10);
        memset(big, 1, 1 << 20);
        memcpy(small, "123456789", 10);
        assert_true(bt_arena_used(a) >= (1u << 20));
        bt_arena_reset(a);
        assert_int_equal(bt_arena_used(a), 0);
    }
    bt_arena_free(a);
}

static void test_strings(void **state)
{
    struct bt_arena *a = bt_arena_new();
    (void)state;
    assert_null(bt_arena_strdup(a, NULL));
    assert_string_equal(bt_arena_strdup(a, "繳費"), "繳費");
    assert_string_equal(bt_arena_strndup(a, "abcdef", 3), "abc");
    assert_string_equal(bt_arena_strndup(a, "ab", 10), "ab");
    assert_string_equal(bt_arena_printf(a, "%s-%d", "x", 42), "x-42");
    bt_arena_free(a);
}

static void test_defers_run_in_reverse_on_reset(void **state)
{
    struct bt_arena *a = bt_arena_new();
    (void)state;
    ndefer = 0;
    bt_arena_defer(a, record, (void *)1);
    bt_arena_defer(a, record, (void *)2);
    bt_arena_defer(a, record, (void *)3);
    bt_arena_reset(a);
    assert_int_equal(ndefer, 3);
    assert_int_equal(defer_log[0], 3);
    assert_int_equal(defer_log[2], 1);
    bt_arena_reset(a); /* defers ran once only */
    assert_int_equal(ndefer, 3);
    bt_arena_defer(a, record, (void *)4);
    bt_arena_free(a);
    assert_int_equal(ndefer, 4);
}

static void test_json_own_releases(void **state)
{
    struct bt_arena *a = bt_arena_new();
    json_t *j = json_object();
    (void)state;
    json_incref(j);
    bt_json_own(a, j);
    assert_int_equal(j->refcount, 2);
    bt_arena_reset(a);
    assert_int_equal(j->refcount, 1);
    json_decref(j);
    assert_null(bt_json_own(a, NULL));
    bt_arena_free(a);
}

static void test_buf_grows(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_buf b;
    (void)state;
    bt_buf_init(&b, a, 4);
    for (int i = 0; i < 1000; i++)
        bt_buf_addf(&b, "%d,", i % 10);
    assert_int_equal(b.len, 2000);
    assert_int_equal(strlen(b.p), 2000);
    bt_buf_adds(&b, "end");
    bt_buf_addc(&b, '!');
    assert_string_equal(b.p + 2000, "end!");
    bt_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_aligned_and_zeroed),
        cmocka_unit_test(test_big_allocations_and_reset),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_defers_run_in_reverse_on_reset),
        cmocka_unit_test(test_json_own_releases),
        cmocka_unit_test(test_buf_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
