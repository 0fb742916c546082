/* SPDX-License-Identifier: MIT
 * test_router.c - route matching, specificity, parameters, 404/405 and table checks. */
#include <string.h>

#include "bt_test.h"

static int h(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    (void)rq;
    (void)err;
    return bt_res_static(rs, 200, "text/plain", "", 0);
}

static const struct bt_route routes[] = {
    {.method = BT_GET, .path = "/api/v1/vendors", .handler = h, .access = BT_PUBLIC},
    {.method = BT_POST, .path = "/api/v1/vendors", .handler = h, .access = BT_PUBLIC},
    {.method = BT_GET, .path = "/api/v1/vendors/:vendor_id", .handler = h, .access = BT_PUBLIC},
    {.method = BT_PUT, .path = "/api/v1/vendors/:vendor_id", .handler = h, .access = BT_PUBLIC},
    {.method = BT_GET,
     .path = "/api/v1/vendors/:vendor_id/configs",
     .handler = h,
     .access = BT_PUBLIC},
    {.method = BT_POST, .path = "/api/v1/knowledge/import", .handler = h, .access = BT_PUBLIC},
    {.method = BT_GET, .path = "/api/v1/knowledge/:id", .handler = h, .access = BT_PUBLIC},
    {.method = BT_POST, .path = "/api/v1/knowledge/:id", .handler = h, .access = BT_PUBLIC},
    {.method = BT_GET, .path = "/", .handler = h, .access = BT_PUBLIC},
    BT_ROUTE_END,
};

struct fixture {
    struct bt_router *r;
    struct bt_arena *a;
};

static int setup(void **state)
{
    static struct fixture f;
    struct bt_err err;
    bt_err_clear(&err);
    f.r = bt_router_new(routes, &err);
    f.a = bt_arena_new();
    *state = &f;
    return f.r ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    bt_router_free(f->r);
    bt_arena_free(f->a);
    return 0;
}

static enum bt_match match(struct fixture *f, enum bt_method m, const char *path, int *index,
                           struct bt_kv *params, size_t *np, const char **allow)
{
    const struct bt_route *rt = NULL;
    return bt_router_match(f->r, f->a, m, path, &rt, index, params, np, allow);
}

static void test_static_and_params(void **state)
{
    struct fixture *f = *state;
    struct bt_kv params[BT_MAX_PARAMS];
    size_t np;
    int idx;
    const char *allow;

    assert_int_equal(match(f, BT_GET, "/api/v1/vendors", &idx, params, &np, &allow), BT_MATCH_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(np, 0);
    assert_int_equal(match(f, BT_GET, "/api/v1/vendors/42", &idx, params, &np, &allow),
                     BT_MATCH_OK);
    assert_int_equal(idx, 2);
    assert_int_equal(np, 1);
    assert_string_equal(params[0].name, "vendor_id");
    assert_string_equal(params[0].value, "42");
    assert_int_equal(match(f, BT_GET, "/api/v1/vendors/42/configs", &idx, params, &np, &allow),
                     BT_MATCH_OK);
    assert_int_equal(idx, 4);
    /* the raw path: no trailing slash, no empty segment, a parameter decoded after matching */
    assert_int_equal(match(f, BT_GET, "/api/v1/vendors/42/configs/", &idx, params, &np, &allow),
                     BT_MATCH_NO_PATH);
    assert_int_equal(match(f, BT_GET, "/api/v1//vendors", &idx, params, &np, &allow),
                     BT_MATCH_NO_PATH);
    assert_int_equal(match(f, BT_GET, "/api/v1/vendors%2F42", &idx, params, &np, &allow),
                     BT_MATCH_NO_PATH);
    assert_int_equal(match(f, BT_GET, "/api/v1/vendors/4%2F2", &idx, params, &np, &allow),
                     BT_MATCH_NO_PATH);
    assert_int_equal(match(f, BT_GET, "/api/v1/vendors/42%00", &idx, params, &np, &allow),
                     BT_MATCH_NO_PATH);
    assert_int_equal(match(f, BT_GET, "/api/v1/vendors/4%2", &idx, params, &np, &allow),
                     BT_MATCH_NO_PATH);
    assert_int_equal(match(f, BT_GET, "/api/v1/vendors/%ff", &idx, params, &np, &allow),
                     BT_MATCH_NO_PATH);
    assert_int_equal(match(f, BT_GET, "/api/v1/vendors/%34%32", &idx, params, &np, &allow),
                     BT_MATCH_OK);
    assert_string_equal(params[0].value, "42");
    assert_int_equal(match(f, BT_GET, "/", &idx, params, &np, &allow), BT_MATCH_OK);
    assert_int_equal(idx, 8);
}

static void test_literal_beats_parameter(void **state)
{
    struct fixture *f = *state;
    struct bt_kv params[BT_MAX_PARAMS];
    size_t np;
    int idx;
    const char *allow;

    assert_int_equal(match(f, BT_POST, "/api/v1/knowledge/import", &idx, params, &np, &allow),
                     BT_MATCH_OK);
    assert_int_equal(idx, 5);
    assert_int_equal(np, 0);
    assert_int_equal(match(f, BT_POST, "/api/v1/knowledge/7", &idx, params, &np, &allow),
                     BT_MATCH_OK);
    assert_int_equal(idx, 7);
    /* GET on the literal path falls to the parameter route: the handler validates the id */
    assert_int_equal(match(f, BT_GET, "/api/v1/knowledge/import", &idx, params, &np, &allow),
                     BT_MATCH_OK);
    assert_int_equal(idx, 6);
}

static void test_404_and_405(void **state)
{
    struct fixture *f = *state;
    struct bt_kv params[BT_MAX_PARAMS];
    size_t np;
    int idx;
    const char *allow;

    assert_int_equal(match(f, BT_GET, "/nope", &idx, params, &np, &allow), BT_MATCH_NO_PATH);
    assert_int_equal(match(f, BT_GET, "/api/v1/vendors/1/configs/x", &idx, params, &np, &allow),
                     BT_MATCH_NO_PATH);
    assert_int_equal(match(f, BT_GET, "/api/v1//vendors", &idx, params, &np, &allow),
                     BT_MATCH_NO_PATH);
    assert_int_equal(match(f, BT_DELETE, "/api/v1/vendors", &idx, params, &np, &allow),
                     BT_MATCH_NO_METHOD);
    assert_string_equal(allow, "GET, POST");
    assert_int_equal(match(f, BT_DELETE, "/api/v1/vendors/3", &idx, params, &np, &allow),
                     BT_MATCH_NO_METHOD);
    assert_string_equal(allow, "GET, PUT");
    /* HEAD is served by GET routes */
    assert_int_equal(match(f, BT_HEAD, "/api/v1/vendors", &idx, params, &np, &allow), BT_MATCH_OK);
}

static void test_deep_and_absurd_paths(void **state)
{
    struct fixture *f = *state;
    struct bt_kv params[BT_MAX_PARAMS];
    size_t np;
    int idx;
    const char *allow;
    char path[4096];

    memset(path, 0, sizeof(path));
    for (size_t i = 0; i + 2 < sizeof(path); i += 2)
        memcpy(path + i, "/a", 2);
    assert_int_equal(match(f, BT_GET, path, &idx, params, &np, &allow), BT_MATCH_NO_PATH);
    assert_int_equal(match(f, BT_GET, "", &idx, params, &np, &allow), BT_MATCH_OK);
}

static int h2(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    return h(rq, rs, err);
}

static void test_bad_tables_refused(void **state)
{
    struct bt_err err;
    static const struct bt_route dup[] = {
        {.method = BT_GET, .path = "/a/:x", .handler = h, .access = BT_PUBLIC},
        {.method = BT_GET, .path = "/a/:y", .handler = h2, .access = BT_PUBLIC},
        BT_ROUTE_END,
    };
    static const struct bt_route noaccess[] = {
        {.method = BT_GET, .path = "/a", .handler = h},
        BT_ROUTE_END,
    };
    static const struct bt_field f[] = {{.name = "x", .type = BT_T_STR}, BT_FIELD_END};
    static const struct bt_schema s = {.name = "S", .fields = f};
    static const struct bt_route getbody[] = {
        {.method = BT_GET, .path = "/a", .handler = h, .access = BT_PUBLIC, .body = &s},
        BT_ROUTE_END,
    };
    static const struct bt_route badparam[] = {
        {.method = BT_GET, .path = "/a/:", .handler = h, .access = BT_PUBLIC},
        BT_ROUTE_END,
    };
    (void)state;
    bt_err_clear(&err);
    assert_null(bt_router_new(dup, &err));
    assert_non_null(strstr(err.msg, "duplicate"));
    assert_null(bt_router_new(noaccess, &err));
    assert_non_null(strstr(err.msg, "access"));
    assert_null(bt_router_new(getbody, &err));
    assert_null(bt_router_new(badparam, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_static_and_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literal_beats_parameter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_404_and_405, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_and_absurd_paths, setup, teardown),
        cmocka_unit_test(test_bad_tables_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
