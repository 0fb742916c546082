/* SPDX-License-Identifier: MIT
 * test_two_instances_bb.c - issue 7 §3 "Two instances, one PostgreSQL": two bento processes
 * serve yunshui from the same PostgreSQL schema (bt_test_proc_twin), and the orders
 * concurrency cases of ys_orders_race.h run across them: every other client thread talks to
 * the second process. Numbers stay unique and gap-free (the per-year counter row), stock stays
 * exact with no oversell (one conditional UPDATE per material), a short order gets 409
 * INSUFFICIENT_STOCK, one order is moved once, and a material deleted on one instance while
 * the other writes an order naming it never leaves that order without it (docs/apps/yunshui.md,
 * "Numbers", "Status machine and stock", Materials "Delete").
 * PostgreSQL only: on SQLite the test exits 77 (skipped). The rate limit is off (it is per
 * process, and one address sends hundreds of requests).
 */
#include "ys_orders_race.h"

static int setup(void **state)
{
    *state = race_bb_start(true);
    return 0;
}

static int teardown(void **state)
{
    race_bb_stop(*state);
    return 0;
}

static void test_stock_hammer(void **state)
{
    race_stock_hammer(*state, 8, 12);
}

static void test_numbering(void **state)
{
    race_numbering(*state, 8, 25);
}

static void test_last_units(void **state)
{
    race_last_units(*state, 10);
}

static void test_many_for_few(void **state)
{
    race_many_for_few(*state);
}

static void test_same_order(void **state)
{
    race_same_order(*state);
}

static void test_material_delete_vs_create(void **state)
{
    race_material_delete(*state, 40, false);
}

static void test_material_delete_vs_edit(void **state)
{
    race_material_delete(*state, 40, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stock_hammer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_for_few, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_material_delete_vs_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_material_delete_vs_edit, setup, teardown),
    };

    if (!strcmp(bt_test_engine(), "sqlite")) {
        fprintf(stderr, "skipped: two instances share one PostgreSQL database (pg only)\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
