/* SPDX-License-Identifier: MIT
 * test_orders_race_bb.c - the orders concurrency cases (ys_orders_race.h) against the real
 * bento binary over HTTP: concurrent clients on real connections and server threads, on
 * SQLite and PostgreSQL. The rate limit is off (200 creations from one address).
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
    /* on this thread first: libcurl's global set-up is done before any worker thread */
    bt_test_http(x->p, "yunshui", "POST", "/v1/auth/login", NULL, login, strlen(login), &r);
    assert_int_equal(r.status, 200);
    x->admin = strdup(bt_json_str(r.json, "/data/token"));
    race_send(x, x->admin, "POST", "/v1/users", user, &r);
    assert_int_equal(r.status, 201);
    login = "{\"username\":\"racer\",\"password\":\"secret-racer-1\"}";
    bt_test_http(x->p, "yunshui", "POST", "/v1/auth/login", NULL, login, strlen(login), &r);
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
    assert_int_equal(bt_test_proc_stop(x->p), 0);
    free(x);
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
