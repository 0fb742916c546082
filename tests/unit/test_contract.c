/* SPDX-License-Identifier: MIT
 * test_contract.c - unit tests for the harness's contract validator (bt_test_contract_check,
 * bt_test_schema_validate): responses checked against a document built by bt_openapi_build
 * from a tiny app. It must catch a wrong type, a missing required field, an undeclared field,
 * an undeclared status, a wrong content type and a bad error envelope, and pass what conforms.
 */
#include "bt_test.h"

#include <string.h>

static int h_dummy(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    (void)rq;
    (void)err;
    return bt_res_json(rs, 200, json_object());
}

static const char *const states[] = {"open", "closed", NULL};

static const struct bt_field line_fields[] = {
    {"sku", BT_T_STR, BT_F_REQUIRED, .max_len = 3},
    {"qty", BT_T_INT, BT_F_REQUIRED | BT_F_MIN, .min = 1},
    BT_FIELD_END,
};

static const struct bt_field item_fields[] = {
    {"id", BT_T_STR, BT_F_REQUIRED, .format = "uuid"},
    {"state", BT_T_ENUM, BT_F_REQUIRED, .one_of = states},
    {"note", BT_T_STR, BT_F_NULLABLE, .desc = "may be null"},
    {"price", BT_T_NUM, BT_F_REQUIRED | BT_F_MIN, .min = 0},
    {"at", BT_T_STR, BT_F_REQUIRED, .format = "date-time"},
    {"lines", BT_T_ARRAY, BT_F_REQUIRED, .items = line_fields, .max_len = 2},
    {"stock", BT_T_OBJECT, BT_F_MAP, .item_type = BT_T_INT},
    BT_FIELD_END,
};
static const struct bt_schema item_out = {"Item", item_fields, 0, false};

static const struct bt_field err_inner[] = {
    {"code", BT_T_STR, BT_F_REQUIRED, .desc = "code"},
    BT_FIELD_END,
};
static const struct bt_field err_fields[] = {
    {"error", BT_T_OBJECT, BT_F_REQUIRED, .items = err_inner},
    BT_FIELD_END,
};
static const struct bt_schema err_schema = {"Err", err_fields, 0, false};

static const struct bt_route routes[] = {
    {BT_GET, "/items/:id", h_dummy, BT_PUBLIC, NULL, NULL, 0, NULL, 0, &item_out, 0, NULL},
    {BT_GET, "/items/latest", h_dummy, BT_PUBLIC, NULL, NULL, 0, NULL, 0, NULL, 0, "image/*"},
    {BT_PUT, "/items/:id", h_dummy, BT_PUBLIC, NULL, NULL, BT_R_JSON_BODY, NULL, 0, &item_out, 0,
     NULL},
    {BT_DELETE, "/items/:id", h_dummy, BT_PUBLIC, NULL, NULL, 0, NULL, 204, NULL, 0, NULL},
    BT_ROUTE_END,
};

static void render(struct bt_req *rq, struct bt_res *rs, const struct bt_err *err)
{
    (void)rq;
    bt_res_json(rs, bt_err_http(err),
                json_pack("{s:{s:s}}", "error", "code", bt_status_name(err->code)));
}

static const struct bt_app app = {
    .name = "items",
    .mount = "/v2",
    .routes = routes,
    .render_error = render,
    .error_schema = &err_schema,
};

static json_t *doc_for(const struct bt_app *a)
{
    struct bt_err err;
    struct bt_app_ctx ctx;
    json_t *doc;

    bt_err_clear(&err);
    memset(&ctx, 0, sizeof ctx);
    ctx.app = a;
    ctx.router = bt_router_new(a->routes, &err);
    assert_non_null(ctx.router);
    doc = bt_openapi_build(&ctx);
    bt_router_free(ctx.router);
    return doc;
}

static int setup(void **state)
{
    *state = doc_for(&app);
    return 0;
}

static int teardown(void **state)
{
    json_decref(*state);
    return 0;
}

#define GOOD                                                                                       \
    "{\"id\":\"6f1c2d4e-8a9b-4c3d-9e8f-0a1b2c3d4e5f\",\"state\":\"open\",\"note\":null,"           \
    "\"price\":12.5,\"at\":\"2024-01-15T10:30:00.000Z\",\"lines\":[{\"sku\":\"\xe5\x9f\xba\xe6"    \
    "\x9d\x90x\",\"qty\":1}],\"stock\":{\"a\":1}}"

/* check GET /v2/items/1 answering 200 JSON with body; returns the reason or "" */
static const char *check_get(void **state, int status, const char *ct, const char *body, char *why,
                             size_t cap)
{
    if (bt_test_contract_check(*state, "GET", "/v2/items/1", status, ct, body, strlen(body), why,
                               cap) == 0)
        return "";
    return why;
}

static void test_conforming_passes(void **state)
{
    char why[512];

    assert_string_equal(check_get(state, 200, "application/json", GOOD, why, sizeof why), "");
    /* the charset parameter does not matter; a query string does not either */
    assert_int_equal(bt_test_contract_check(*state, "GET", "/v2/items/1?x=1", 200,
                                            "application/json; charset=utf-8", GOOD, strlen(GOOD),
                                            why, sizeof why),
                     0);
    /* 204: no body */
    assert_int_equal(
        bt_test_contract_check(*state, "DELETE", "/v2/items/1", 204, NULL, "", 0, why, sizeof why),
        0);
    /* a literal segment wins over a parameter: /items/latest is the image route */
    assert_int_equal(bt_test_contract_check(*state, "GET", "/v2/items/latest", 200, "image/png",
                                            "\x89PNG", 4, why, sizeof why),
                     0);
    /* a declared error (404 with a path parameter) in the error envelope */
    assert_string_equal(check_get(state, 404, "application/json",
                                  "{\"error\":{\"code\":\"NOT_FOUND\"}}", why, sizeof why),
                        "");
}

static void test_wrong_type(void **state)
{
    char why[512], body[1024];

    /* price becomes a string */
    snprintf(body, sizeof body, "%.*s\"12.5\"%s", (int)(strstr(GOOD, "12.5") - GOOD), GOOD,
             strstr(GOOD, "12.5") + 4);
    assert_non_null(strstr(check_get(state, 200, "application/json", body, why, sizeof why),
                           "200 for GET /v2/items/{id}: at /price: expected number, got string"));
}

static void test_missing_required(void **state)
{
    char why[512];
    const char *body = "{\"id\":\"6f1c2d4e-8a9b-4c3d-9e8f-0a1b2c3d4e5f\",\"state\":\"open\","
                       "\"price\":1,\"at\":\"2024-01-15T10:30:00Z\",\"lines\":[{\"sku\":\"a\"}]}";

    assert_non_null(strstr(check_get(state, 200, "application/json", body, why, sizeof why),
                           "at /lines/0/qty: required field missing"));
}

static void test_extra_field(void **state)
{
    char why[512], body[1024];

    snprintf(body, sizeof body, "{\"secret\":1,%s", GOOD + 1);
    assert_non_null(strstr(check_get(state, 200, "application/json", body, why, sizeof why),
                           "at /secret: field not declared (additionalProperties is false)"));
}

static void test_undeclared_status(void **state)
{
    char why[512];

    assert_int_equal(bt_test_contract_check(*state, "PUT", "/v2/items/1", 409, "application/json",
                                            "{\"error\":{\"code\":\"CONFLICT\"}}", 29, why,
                                            sizeof why),
                     -1);
    assert_string_equal(why, "undeclared status 409 for PUT /v2/items/{id}");
}

static void test_values(void **state)
{
    struct {
        const char *from, *to, *want;
    } cases[] = {
        {"\"open\"", "\"gone\"", "at /state: \"gone\" is not one of [\"open\",\"closed\"]"},
        {"12.5", "-1", "at /price: -1 is below the minimum 0"},
        {"\"note\":null", "\"note\":7",
         "at /note: expected one of [\"string\",\"null\"], got integer"},
        {"2024-01-15T10:30:00.000Z", "2024-01-15 10:30",
         "at /at: \"2024-01-15 10:30\" is not a "
         "date-time"},
        {"6f1c2d4e-8a9b", "6f1c2d4e_8a9b",
         "at /id: \"6f1c2d4e_8a9b-4c3d-9e8f-0a1b2c3d4e5f\" is "
         "not a uuid"},
        {"\xe5\x9f\xba\xe6\x9d\x90x", "abcd", "at /lines/0/sku: string longer than maxLength 3"},
        {"\"qty\":1", "\"qty\":0", "at /lines/0/qty: 0 is below the minimum 1"},
        {"{\"a\":1}", "{\"a\":\"1\"}", "at /stock/a: expected integer, got string"},
        {"[{", "[{\"sku\":\"a\",\"qty\":1},{\"sku\":\"b\",\"qty\":1},{",
         "at /lines: 3 items, more than maxItems 2"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char why[512], body[1024];
        const char *at = strstr(GOOD, cases[i].from);
        assert_non_null(at);
        snprintf(body, sizeof body, "%.*s%s%s", (int)(at - GOOD), GOOD, cases[i].to,
                 at + strlen(cases[i].from));
        if (!strstr(check_get(state, 200, "application/json", body, why, sizeof why),
                    cases[i].want))
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, why, cases[i].want);
    }
}

static void test_content_type(void **state)
{
    char why[512];

    assert_non_null(strstr(check_get(state, 200, "text/plain", GOOD, why, sizeof why),
                           "content type text/plain, expected one of"));
    assert_int_equal(bt_test_contract_check(*state, "GET", "/v2/items/latest", 200,
                                            "application/json", "{}", 2, why, sizeof why),
                     -1);
    /* 204 declares no body */
    assert_int_equal(
        bt_test_contract_check(*state, "DELETE", "/v2/items/1", 204, NULL, "x", 1, why, sizeof why),
        -1);
    assert_non_null(strstr(why, "a body of 1 bytes where none is declared"));
}

/* no route (unknown path, outside the mount, 405): the app's error envelope */
static void test_unrouted_uses_error_schema(void **state)
{
    char why[512];
    const char *good = "{\"error\":{\"code\":\"NOT_FOUND\"}}";

    assert_int_equal(bt_test_contract_check(*state, "GET", "/v2/nothing", 404, "application/json",
                                            good, strlen(good), why, sizeof why),
                     0);
    assert_int_equal(bt_test_contract_check(*state, "POST", "/v2/items/latest", 405,
                                            "application/json", good, strlen(good), why,
                                            sizeof why),
                     0);
    assert_int_equal(bt_test_contract_check(*state, "GET", "/elsewhere", 404, "application/json",
                                            "{\"detail\":\"x\"}", 14, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "404 for GET /elsewhere: at /error: required field missing"));
    /* an OPTIONS answer of the core (CORS preflight) is no operation; its refusal is */
    assert_int_equal(
        bt_test_contract_check(*state, "OPTIONS", "/v2/items/1", 204, NULL, "", 0, why, sizeof why),
        0);
    assert_int_equal(bt_test_contract_check(*state, "OPTIONS", "/v2/items/1", 405, "text/plain",
                                            "no", 2, why, sizeof why),
                     -1);
}

/* an app without an error schema has not adopted the contract: nothing is checked */
static void test_unadopted_app_not_checked(void **state)
{
    static const struct bt_app legacy = {
        .name = "legacy", .routes = routes, .render_error = render};
    json_t *doc = doc_for(&legacy);
    char why[512];

    (void)state;
    assert_int_equal(
        bt_test_contract_check(doc, "PUT", "/items/1", 418, "text/plain", "x", 1, why, sizeof why),
        0);
    json_decref(doc);
}

static void test_schema_validate_direct(void **state)
{
    json_t *schema = json_pack("{s:s}", "$ref", "#/components/schemas/Item");
    json_t *v = json_loads(GOOD, 0, NULL);
    char why[512];

    assert_int_equal(bt_test_schema_validate(*state, schema, v, why, sizeof why), 0);
    json_object_del(v, "id");
    assert_int_equal(bt_test_schema_validate(*state, schema, v, why, sizeof why), -1);
    assert_non_null(strstr(why, "at /id: required field missing"));
    json_decref(v);
    json_decref(schema);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_conforming_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extra_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undeclared_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_content_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unrouted_uses_error_schema, setup, teardown),
        cmocka_unit_test(test_unadopted_app_not_checked),
        cmocka_unit_test_setup_teardown(test_schema_validate_direct, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
