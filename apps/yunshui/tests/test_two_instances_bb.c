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
    struct race *x = calloc(1, sizeof(*x));
    const char *const env[] = {"BENTO_YUNSHUI_RATE_LIMIT=0", NULL};
    struct bt_test_resp r = {0};
    const char *login = "{\"username\":\"admin\",\"password\":\"password123\"}";
    const char *user =
        "{\"username\":\"racer\",\"email\":\"racer@example.com\",\"password\":\"secret-racer-1\","
        "\"role\":\"USER\"}";

    assert_non_null(x);
    x->p = bt_test_proc_start("yunshui", NULL, env);
    x->p2 = bt_test_proc_twin(x->p);
    /* on this thread first: libcurl's global set-up is done before any worker thread */
    bt_test_http(x->p, "yunshui", "POST", "/v1/auth/login", NULL, login, strlen(login), &r);
    assert_int_equal(r.status, 200);
    x->admin = strdup(bt_json_str(r.json, "/data/token"));
    race_send(x, x->admin, "POST", "/v1/users", user, &r);
    assert_int_equal(r.status, 201);
    /* the second instance: the same account and its session, seen through the database */
    login = "{\"username\":\"racer\",\"password\":\"secret-racer-1\"}";
    bt_test_http(x->p2, "yunshui", "POST", "/v1/auth/login", NULL, login, strlen(login), &r);
    assert_int_equal(r.status, 200);
    x->user = strdup(bt_json_str(r.json, "/data/token"));
    bt_test_resp_release(&r);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct race *x = *state;

    free(x->admin);
    free(x->user);
    assert_int_equal(bt_test_proc_stop(x->p2), 0); /* before p, which owns the database */
    assert_int_equal(bt_test_proc_stop(x->p), 0);
    free(x);
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
