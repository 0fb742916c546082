/* SPDX-License-Identifier: MIT
 * test_openapi.c - unit tests for src/json/openapi.c: the document generated from a tiny
 * app's route table and validation tables (paths, parameters, bodies, components, hidden
 * routes, determinism).
 */
#include "bt_test.h"

#include <string.h>

static int h_dummy(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    (void)rq;
    (void)err;
    return bt_res_json(rs, 200, json_object());
}

static const char *const kinds[] = {"food", "drink", NULL};

static const struct bt_field tag_fields[] = {
    {"key", BT_T_STR, BT_F_REQUIRED, .max_len = 20},
    BT_FIELD_END,
};

static const struct bt_field vendor_fields[] = {
    {"name", BT_T_STR, BT_F_REQUIRED | BT_F_NONEMPTY, .max_len = 100, .desc = "display name"},
    {"rating", BT_T_NUM, BT_F_MIN | BT_F_MAX, .min = 0, .max = 4.5},
    {"seats", BT_T_INT, BT_F_MIN, .min = 1},
    {"open", BT_T_BOOL, BT_F_NULLABLE, .desc = "open now"},
    {"kind", BT_T_ENUM, BT_F_NULLABLE, .one_of = kinds},
    {"aliases", BT_T_ARRAY, 0, .item_type = BT_T_STR, .max_len = 5},
    {"tags", BT_T_ARRAY, 0, .items = tag_fields},
    {"address", BT_T_OBJECT, BT_F_REQUIRED, .items = tag_fields},
    {"meta", BT_T_OBJECT, 0, .desc = "free-form"},
    {"extra", BT_T_ANY, 0, .desc = "anything"},
    BT_FIELD_END,
};
static const struct bt_schema vendor_in = {"VendorCreate", vendor_fields, BT_S_REJECT_EXTRA, false};
static const struct bt_schema vendor_bulk = {"VendorCreate", vendor_fields, 0, true};
static const struct bt_schema vendor_bulk_strict = {"VendorCreate", vendor_fields,
                                                    BT_S_REJECT_EXTRA, true};

static const struct bt_field list_q_fields[] = {
    {"page", BT_T_INT, BT_F_MIN, .min = 1, .desc = "page number"},
    {"kind", BT_T_ENUM, BT_F_REQUIRED, .one_of = kinds},
    BT_FIELD_END,
};
static const struct bt_schema list_q = {"VendorList", list_q_fields, 0, false};

static const struct bt_route routes[] = {
    {BT_GET, "/api/vendors", h_dummy, BT_AUTH, NULL, &list_q, 0, "List vendors", 0, NULL, 0, NULL},
    {BT_POST, "/api/vendors", h_dummy, BT_AUTH, &vendor_in, NULL, 0, "Create a vendor", 201, NULL,
     0, NULL},
    {BT_POST, "/api/vendors/bulk", h_dummy, BT_AUTH, &vendor_bulk, NULL, 0, "Import", 0, NULL, 0,
     NULL},
    {BT_PATCH, "/api/vendors/bulk", h_dummy, BT_AUTH, &vendor_bulk_strict, NULL, 0, NULL, 0, NULL,
     0, NULL},
    {BT_GET, "/api/vendors/:vendor_id/menus/:slug", h_dummy, BT_PUBLIC, NULL, NULL, 0, NULL, 0,
     NULL, 0, NULL},
    {BT_PUT, "/api/vendors/:id", h_dummy, BT_ROLE(1), &vendor_in, NULL, 0, "Replace", 0, NULL, 0,
     NULL},
    {BT_GET, "/api/old-vendors", h_dummy, BT_PUBLIC, NULL, NULL, BT_R_ALIAS, "alias", 0, NULL, 0,
     NULL},
    {BT_GET, "/", h_dummy, BT_PUBLIC, NULL, NULL, 0, "root", 0, NULL, 0, NULL},
    BT_ROUTE_END,
};

/* declared path parameters are typed; "slug" is not declared, so it is a string */
static const struct bt_field path_params[] = {
    {.name = "vendor_id", .type = BT_T_INT},
    {.name = "id", .type = BT_T_INT},
    BT_FIELD_END,
};

static const struct bt_app app = {
    .name = "demo",
    .title = "Demo API",
    .version = "1.2.3",
    .mount = "/v1",
    .routes = routes,
    .path_params = path_params,
    .security = "bearer",
};

static json_t *build(void)
{
    struct bt_err err;
    struct bt_app_ctx ctx;
    json_t *doc;

    bt_err_clear(&err);
    memset(&ctx, 0, sizeof ctx);
    ctx.app = &app;
    ctx.router = bt_router_new(routes, &err);
    if (!ctx.router)
        fail_msg("router: %s", err.msg);
    doc = bt_openapi_build(&ctx);
    bt_router_free(ctx.router);
    assert_non_null(doc);
    return doc;
}

static void test_document_header(void **state)
{
    json_t *doc = build();

    (void)state;
    bt_assert_subset(doc, "{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"Demo API\","
                          "\"version\":\"1.2.3\"}}");
    json_decref(doc);
}

static void test_paths_and_operations(void **state)
{
    json_t *doc = build();
    json_t *paths = json_object_get(doc, "paths");
    const char *key;
    json_t *v;
    const char *order[] = {"/v1/api/vendors", "/v1/api/vendors/bulk",
                           "/v1/api/vendors/{vendor_id}/menus/{slug}", "/v1/api/vendors/{id}",
                           "/v1"};
    size_t i = 0;

    (void)state;
    /* route-table order, mount prefixed, hidden route left out */
    json_object_foreach(paths, key, v)
    {
        assert_true(i < sizeof order / sizeof order[0]);
        assert_string_equal(key, order[i]);
        i++;
    }
    assert_int_equal(i, sizeof order / sizeof order[0]);
    assert_null(json_object_get(paths, "/v1/api/old-vendors"));

    bt_assert_subset(paths,
                     "{\"/v1/api/vendors\":{"
                     "\"get\":{\"summary\":\"List vendors\",\"operationId\":\"get_v1_api_vendors\","
                     "\"responses\":{\"200\":{\"description\":\"success\"},"
                     "\"default\":{\"description\":\"error\"}}},"
                     "\"post\":{\"summary\":\"Create a vendor\","
                     "\"operationId\":\"post_v1_api_vendors\","
                     "\"responses\":{\"201\":{\"description\":\"success\"}}}}}");
    assert_null(bt_json_at(paths, "/~1v1~1api~1vendors/post/responses/200"));
    /* no summary given -> none emitted */
    assert_null(bt_json_at(paths, "/~1v1~1api~1vendors~1{vendor_id}~1menus~1{slug}/get/summary"));
    json_decref(doc);
}

static void test_parameters(void **state)
{
    json_t *doc = build();
    json_t *paths = json_object_get(doc, "paths");

    (void)state;
    bt_assert_subset(paths,
                     "{\"/v1/api/vendors/{vendor_id}/menus/{slug}\":{\"get\":{\"parameters\":["
                     "{\"name\":\"vendor_id\",\"in\":\"path\",\"required\":true,"
                     "\"schema\":{\"type\":\"integer\"}},"
                     "{\"name\":\"slug\",\"in\":\"path\",\"required\":true,"
                     "\"schema\":{\"type\":\"string\"}}]}},"
                     "\"/v1/api/vendors/{id}\":{\"put\":{\"parameters\":["
                     "{\"name\":\"id\",\"in\":\"path\",\"schema\":{\"type\":\"integer\"}}]}},"
                     "\"/v1/api/vendors\":{\"get\":{\"parameters\":["
                     "{\"name\":\"page\",\"in\":\"query\",\"required\":false,"
                     "\"description\":\"page number\","
                     "\"schema\":{\"type\":\"integer\",\"minimum\":1}},"
                     "{\"name\":\"kind\",\"in\":\"query\",\"required\":true,"
                     "\"schema\":{\"type\":\"string\",\"enum\":[\"food\",\"drink\"]}}]}}}");
    /* exactly the parameters listed */
    assert_int_equal(
        json_array_size(bt_json_at(paths, "/~1v1~1api~1vendors~1{vendor_id}~1menus~1{slug}/get/"
                                          "parameters")),
        2);
    /* no parameters at all -> the key is left out */
    assert_null(bt_json_at(paths, "/~1v1~1api~1vendors/post/parameters"));
    json_decref(doc);
}

static void test_request_bodies_and_components(void **state)
{
    json_t *doc = build();
    json_t *schemas = bt_json_at(doc, "/components/schemas");

    (void)state;
    bt_assert_subset(doc, "{\"paths\":{\"/v1/api/vendors\":{\"post\":{\"requestBody\":{"
                          "\"required\":true,\"content\":{\"application/json\":{\"schema\":"
                          "{\"$ref\":\"#/components/schemas/VendorCreate\"}}}}}},"
                          "\"/v1/api/vendors/{id}\":{\"put\":{\"requestBody\":{\"content\":"
                          "{\"application/json\":{\"schema\":"
                          "{\"$ref\":\"#/components/schemas/VendorCreate\"}}}}}}}}");
    /* the array body is a different schema with the same name: kept apart */
    bt_assert_subset(doc, "{\"paths\":{\"/v1/api/vendors/bulk\":{\"post\":{\"requestBody\":{"
                          "\"content\":{\"application/json\":{\"schema\":{\"type\":\"array\","
                          "\"items\":{\"$ref\":\"#/components/schemas/VendorCreate2\"}}}}}},"
                          "\"patch\":{\"requestBody\":{\"content\":{\"application/json\":{"
                          "\"schema\":{\"type\":\"array\",\"items\":"
                          "{\"$ref\":\"#/components/schemas/VendorCreate\"}}}}}}}}}");
    assert_int_equal(json_object_size(schemas), 2);

    bt_assert_subset(
        schemas, "{\"VendorCreate\":{\"type\":\"object\",\"additionalProperties\":false,"
                 "\"required\":[\"name\",\"address\"],\"properties\":{"
                 "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100,"
                 "\"description\":\"display name\"},"
                 "\"rating\":{\"type\":\"number\",\"minimum\":0,\"maximum\":4.5},"
                 "\"seats\":{\"type\":\"integer\",\"minimum\":1},"
                 "\"open\":{\"type\":[\"boolean\",\"null\"],\"description\":\"open now\"},"
                 "\"kind\":{\"type\":[\"string\",\"null\"],\"enum\":[\"food\",\"drink\",null]},"
                 "\"aliases\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":5},"
                 "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
                 "\"key\":{\"type\":\"string\",\"maxLength\":20}},\"required\":[\"key\"]}},"
                 "\"address\":{\"type\":\"object\",\"properties\":{\"key\":{\"type\":\"string\"}}},"
                 "\"meta\":{\"type\":\"object\",\"description\":\"free-form\"},"
                 "\"extra\":{\"description\":\"anything\"}}}}");
    assert_null(bt_json_at(schemas, "/VendorCreate/properties/meta/properties"));
    assert_null(bt_json_at(schemas, "/VendorCreate/properties/extra/type"));
    assert_null(bt_json_at(schemas, "/VendorCreate/properties/aliases/minItems"));
    assert_null(bt_json_at(schemas, "/VendorCreate2/additionalProperties"));
    json_decref(doc);
}

static void test_deterministic(void **state)
{
    struct bt_arena *a = bt_arena_new();
    json_t *d1 = build(), *d2 = build();
    const char *s1 = bt_json_dump(a, d1, NULL), *s2 = bt_json_dump(a, d2, NULL);

    (void)state;
    assert_string_equal(s1, s2);
    json_decref(d1);
    json_decref(d2);
    bt_arena_free(a);
}

static void test_empty_context(void **state)
{
    struct bt_app_ctx ctx;
    static const struct bt_app bare = {.name = "bare"};
    json_t *doc;

    (void)state;
    memset(&ctx, 0, sizeof ctx);
    ctx.app = &bare;
    doc = bt_openapi_build(&ctx);
    bt_assert_subset(doc, "{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"bare\"},\"paths\":{},"
                          "\"components\":{\"schemas\":{}}}");
    json_decref(doc);
}

/* non-public routes carry the app's bearer scheme; public ones none */
static void test_security(void **state)
{
    json_t *doc = build();
    json_t *paths = json_object_get(doc, "paths");

    (void)state;
    bt_assert_subset(doc, "{\"components\":{\"securitySchemes\":{\"bearerAuth\":{\"type\":"
                          "\"http\",\"scheme\":\"bearer\",\"bearerFormat\":\"JWT\"}}}}");
    bt_assert_subset(paths, "{\"/v1/api/vendors\":{\"get\":{\"security\":[{\"bearerAuth\":[]}]}}}");
    assert_null(bt_json_at(paths, "/~1v1~1api~1vendors~1{vendor_id}~1menus~1{slug}/get/security"));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_security),
        cmocka_unit_test(test_document_header),
        cmocka_unit_test(test_paths_and_operations),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_request_bodies_and_components),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_empty_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
