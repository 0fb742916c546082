/* SPDX-License-Identifier: MIT
 * test_orders_race_bb.c - the orders concurrency cases (ys_orders_race.h) against the real
 * bento binary over HTTP: concurrent clients on real connections and server threads, on
 * SQLite and PostgreSQL. The rate limit is off (200 creations from one address).
 */
#include "ys_orders_race.h"

static int setup(void **state)
{
    *state = race_bb_start(false);
    return 0;
}

static int teardown(void **state)
{
    race_bb_stop(*state);
    return 0;
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

static void test_numbering(void **state)
{
    race_numbering(*state, 8, 25);
}

static void test_material_delete_vs_create(void **state)
{
    race_material_delete(*state, 40, false);
}

static void test_material_delete_vs_edit(void **state)
{
    race_material_delete(*state, 40, true);
}

static void test_stock_hammer(void **state)
{
    race_stock_hammer(*state, 8, 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_last_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_for_few, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_material_delete_vs_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_material_delete_vs_edit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stock_hammer, setup, teardown),
    };

    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
