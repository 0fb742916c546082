/* SPDX-License-Identifier: MIT
 * test_orders_race_http.c - the orders concurrency cases (ys_orders_race.h) in-process:
 * threads send requests through one app's real pipeline at once (each request has its own
 * arena and pooled connection), on SQLite and PostgreSQL.
 */
#include "ys_orders_race.h"

static int setup(void **state)
{
    struct race *x = calloc(1, sizeof(*x));

    assert_non_null(x);
    x->t = ys_app();
    x->admin = ys_admin(x->t);
    x->user = ys_make_user(x->t, x->admin, "racer", "USER");
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct race *x = *state;

    free(x->admin);
    free(x->user);
    bt_test_app_free(x->t);
    free(x);
    return 0;
}

static void test_last_units(void **state)
{
    race_last_units(*state, 20);
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
    race_material_delete(*state, 100, false);
}

static void test_material_delete_vs_edit(void **state)
{
    race_material_delete(*state, 100, true);
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
