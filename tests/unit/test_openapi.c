/* SPDX-License-Identifier: MIT
 * test_openapi.c - unit tests for src/json/openapi.c: the document generated from a tiny
 * app's route table and validation tables (paths, parameters, bodies, components, responses,
 * errors derived through the app's renderer, servers, deprecated aliases, multipart bodies,
 * security only where used, determinism) and the start-up contract check.
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

static const struct bt_field out_fields[] = {
    {"id", BT_T_STR, BT_F_REQUIRED, .format = "uuid"},
    {"name", BT_T_STR, BT_F_REQUIRED, .desc = "display name"},
    {"note", BT_T_STR, BT_F_NULLABLE, .max_len = 200},
    {"createdAt", BT_T_STR, BT_F_REQUIRED, .format = "date-time"},
    {"tags", BT_T_ARRAY, BT_F_REQUIRED, .items = tag_fields},
    {"counts", BT_T_OBJECT, BT_F_MAP, .item_type = BT_T_INT, .desc = "per kind"},
    {"menus", BT_T_OBJECT, BT_F_MAP, .items = tag_fields},
    BT_FIELD_END,
};
static const struct bt_schema vendor_out = {"Vendor", out_fields, 0, false};
static const struct bt_schema vendor_list_out = {"Vendor", out_fields, 0, true};

static const struct bt_field upload_fields[] = {
    {"image", BT_T_FILE, BT_F_REQUIRED, .desc = "the file"},
    {"folder", BT_T_STR, 0, .max_len = 50},
    BT_FIELD_END,
};
static const struct bt_schema upload_in = {"UploadForm", upload_fields, BT_S_MULTIPART, false};

static const struct bt_field problem_inner[] = {
    {"code", BT_T_STR, BT_F_REQUIRED, .desc = "stable code"},
    {"message", BT_T_STR, BT_F_REQUIRED, .desc = "for people"},
    BT_FIELD_END,
};
static const struct bt_field problem_fields[] = {
    {"error", BT_T_OBJECT, BT_F_REQUIRED, .items = problem_inner},
    BT_FIELD_END,
};
static const struct bt_schema problem = {"Problem", problem_fields, 0, false};

static const struct bt_route routes[] = {
    {BT_GET, "/api/vendors", h_dummy, BT_AUTH, NULL, &list_q, 0, "List vendors", 0,
     &vendor_list_out, 0, NULL},
    {BT_POST, "/api/vendors", h_dummy, BT_AUTH, &vendor_in, NULL, 0, "Create a vendor", 201,
     &vendor_out, BT_XERR(BT_ECONFLICT), NULL},
    {BT_POST, "/api/vendors/bulk", h_dummy, BT_AUTH, &vendor_bulk, NULL, 0, "Import", 0, NULL, 0,
     "text/csv"},
    {BT_PATCH, "/api/vendors/bulk", h_dummy, BT_AUTH, &vendor_bulk_strict, NULL, 0, NULL, 204, NULL,
     0, NULL},
    {BT_GET, "/api/vendors/:vendor_id/menus/:slug", h_dummy, BT_PUBLIC, NULL, NULL, 0, NULL, 0,
     NULL, 0, "text/html"},
    {BT_PUT, "/api/vendors/:id", h_dummy, BT_ROLE(1), &vendor_in, NULL, 0, "Replace", 0,
     &vendor_out, BT_XERR(BT_EUPSTREAM), NULL},
    {BT_GET, "/api/old-vendors", h_dummy, BT_PUBLIC, NULL, NULL, BT_R_ALIAS, "alias", 0,
     &vendor_list_out, 0, NULL},
    {BT_GET, "/", h_dummy, BT_PUBLIC, NULL, NULL, 0, "root", 204, NULL, 0, NULL},
    {BT_POST, "/api/upload", h_dummy, BT_AUTH, &upload_in, NULL, BT_R_RAW_BODY | BT_R_NO_LIMIT,
     "upload", 0, &vendor_out, 0, NULL},
    BT_ROUTE_END,
};

/* declared path parameters are typed; "slug" is not declared, so it is a string */
static const struct bt_field path_params[] = {
    {.name = "vendor_id", .type = BT_T_INT},
    {.name = "id", .type = BT_T_INT},
    BT_FIELD_END,
};

/* validation failures are 422 in this app (as in yunshui); the rest keep the core's status */
static void render_problem(struct bt_req *rq, struct bt_res *rs, const struct bt_err *err)
{
    int http = err->code == BT_EINVAL ? 422 : bt_err_http(err);
    (void)rq;
    bt_res_json(rs, http,
                json_pack("{s:{s:s,s:s}}", "error", "code", bt_status_name(err->code), "message",
                          err->msg));
}

static const struct bt_app app = {
    .name = "demo",
    .title = "Demo API",
    .version = "1.2.3",
    .mount = "/v1",
    .routes = routes,
    .path_params = path_params,
    .security = "bearer",
    .render_error = render_problem,
    .flags = BT_APP_STRICT_JSON,
    .rate = {10, 60},
    .error_schema = &problem,
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

/* a public operation says so: "security": [] (no credentials) */
static void assert_public(const json_t *security)
{
    assert_true(json_is_array(security));
    assert_int_equal(json_array_size(security), 0);
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
    const char *order[] = {
        "/api/vendors",      "/api/vendors/bulk", "/api/vendors/{vendor_id}/menus/{slug}",
        "/api/vendors/{id}", "/api/old-vendors",  "/",
        "/api/upload"};
    size_t i = 0;

    (void)state;
    /* route-table order, relative to the mount (the server URL carries it), aliases listed */
    json_object_foreach(paths, key, v)
    {
        assert_true(i < sizeof order / sizeof order[0]);
        assert_string_equal(key, order[i]);
        i++;
    }
    assert_int_equal(i, sizeof order / sizeof order[0]);

    bt_assert_subset(paths,
                     "{\"/api/vendors\":{"
                     "\"get\":{\"summary\":\"List vendors\",\"operationId\":\"get_api_vendors\","
                     "\"responses\":{\"200\":{\"description\":\"success\"}}},"
                     "\"post\":{\"summary\":\"Create a vendor\","
                     "\"operationId\":\"post_api_vendors\","
                     "\"responses\":{\"201\":{\"description\":\"success\"}}}}}");
    assert_null(bt_json_at(paths, "/~1api~1vendors/post/responses/200"));
    assert_null(bt_json_at(paths, "/~1api~1vendors/get/deprecated"));
    /* no summary given -> none emitted */
    assert_null(bt_json_at(paths, "/~1api~1vendors~1{vendor_id}~1menus~1{slug}/get/summary"));
    json_decref(doc);
}

/* an alias is listed, marked deprecated, with its own stable operationId */
static void test_aliases_deprecated(void **state)
{
    json_t *doc = build();

    (void)state;
    bt_assert_subset(doc, "{\"paths\":{\"/api/old-vendors\":{\"get\":{\"deprecated\":true,"
                          "\"operationId\":\"get_api_old_vendors\",\"summary\":\"alias\"}}}}");
    json_decref(doc);
}

static void test_servers(void **state)
{
    struct bt_config cfg;
    const char *why = NULL;
    struct bt_err err;
    struct bt_app_ctx ctx;
    json_t *doc = build();

    (void)state;
    /* without a public URL: the mount alone, a relative URL */
    bt_assert_subset(doc, "{\"servers\":[{\"url\":\"/v1\"}]}");
    assert_int_equal(json_array_size(json_object_get(doc, "servers")), 1);
    json_decref(doc);

    /* with one: public_url + mount first (trailing slash dropped), then the relative one */
    assert_int_equal(bt_config_defaults(&cfg, &why), 0);
    assert_int_equal(bt_config_add_setting(&cfg, "demo.public_url=https://api.example.com/"), 0);
    bt_err_clear(&err);
    memset(&ctx, 0, sizeof ctx);
    ctx.app = &app;
    ctx.config = &cfg;
    ctx.router = bt_router_new(routes, &err);
    assert_non_null(ctx.router);
    doc = bt_openapi_build(&ctx);
    bt_assert_subset(doc, "{\"servers\":[{\"url\":\"https://api.example.com/v1\"},"
                          "{\"url\":\"/v1\"}]}");
    assert_int_equal(json_array_size(json_object_get(doc, "servers")), 2);
    json_decref(doc);
    bt_router_free(ctx.router);
    bt_config_release(&cfg);
}

/* success responses: JSON schemas as components, other media, 204 with no content */
static void test_success_responses(void **state)
{
    json_t *doc = build();
    json_t *paths = json_object_get(doc, "paths");

    (void)state;
    bt_assert_subset(paths, "{\"/api/vendors\":{\"post\":{\"responses\":{\"201\":{\"content\":{"
                            "\"application/json\":{\"schema\":{\"$ref\":"
                            "\"#/components/schemas/Vendor\"}}}}}},"
                            "\"get\":{\"responses\":{\"200\":{\"content\":{\"application/json\":{"
                            "\"schema\":{\"type\":\"array\",\"items\":{\"$ref\":"
                            "\"#/components/schemas/Vendor\"}}}}}}}}}");
    bt_assert_subset(paths,
                     "{\"/api/vendors/{vendor_id}/menus/{slug}\":{\"get\":{\"responses\":{"
                     "\"200\":{\"content\":{\"text/html\":{\"schema\":{\"type\":"
                     "\"string\"}}}}}}},"
                     "\"/api/vendors/bulk\":{\"post\":{\"responses\":{\"200\":{"
                     "\"content\":{\"text/csv\":{}}}}},"
                     "\"patch\":{\"responses\":{\"204\":{\"description\":\"no content\"}}}}}");
    assert_null(bt_json_at(paths, "/~1api~1vendors~1{vendor_id}~1menus~1{slug}/get/responses/200/"
                                  "content/text~1html/schema/format"));
    assert_null(bt_json_at(paths, "/~1api~1vendors~1bulk/patch/responses/204/content"));
    assert_null(bt_json_at(paths, "/~1/get/responses/204/content"));
    /* a response component is closed at every level; required = always present; formats and
     * typed maps */
    bt_assert_subset(
        doc,
        "{\"components\":{\"schemas\":{\"Vendor\":{\"type\":\"object\","
        "\"additionalProperties\":false,\"required\":[\"id\",\"name\",\"createdAt\",\"tags\"],"
        "\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"
        "\"note\":{\"type\":[\"string\",\"null\"]},"
        "\"createdAt\":{\"type\":\"string\",\"format\":\"date-time\"},"
        "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
        "\"additionalProperties\":false,\"required\":[\"key\"]}},"
        "\"counts\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"},"
        "\"description\":\"per kind\"},"
        "\"menus\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"object\","
        "\"properties\":{\"key\":{\"type\":\"string\"}},\"additionalProperties\":false}}}}}}}");
    assert_null(bt_json_at(doc, "/components/schemas/Vendor/properties/counts/properties"));
    json_decref(doc);
}

static json_t *responses_of(json_t *doc, const char *path, const char *method)
{
    json_t *r = json_object_get(
        json_object_get(json_object_get(json_object_get(doc, "paths"), path), method), "responses");
    assert_non_null(r);
    return r;
}

static void assert_statuses(json_t *resp, const char *const *want)
{
    size_t n = 0;
    for (; want[n]; n++)
        if (!json_object_get(resp, want[n]))
            fail_msg("status %s not declared", want[n]);
    assert_int_equal(json_object_size(resp), n);
}

/* errors: derived from the pipeline's phases plus the route's own, with the statuses the
 * app's renderer sends (validation is 422 here, not the core's 400) */
static void test_errors_derived(void **state)
{
    json_t *doc = build();

    (void)state;
    /* authenticated, typed query, rate limited */
    assert_statuses(responses_of(doc, "/api/vendors", "get"),
                    (const char *const[]){"200", "401", "422", "429", "500", "503", NULL});
    /* + a strict JSON body: 400 malformed, 413, 415; and its own 409 */
    assert_statuses(responses_of(doc, "/api/vendors", "post"),
                    (const char *const[]){"201", "400", "401", "409", "413", "415", "422", "429",
                                          "500", "503", NULL});
    /* a role route with a path parameter: 403, 404; its own 502 */
    assert_statuses(responses_of(doc, "/api/vendors/{id}", "put"),
                    (const char *const[]){"200", "400", "401", "403", "404", "413", "415", "422",
                                          "429", "500", "502", "503", NULL});
    /* public, no body, no parameters */
    assert_statuses(responses_of(doc, "/", "get"),
                    (const char *const[]){"204", "429", "500", "503", NULL});
    /* a raw multipart body: 413 but no JSON failures; not rate limited */
    assert_statuses(responses_of(doc, "/api/upload", "post"),
                    (const char *const[]){"200", "401", "413", "500", "503", NULL});
    /* every error response is the app's error schema, described by its codes */
    bt_assert_subset(responses_of(doc, "/api/vendors", "post"),
                     "{\"409\":{\"description\":\"CONFLICT\",\"content\":{\"application/json\":"
                     "{\"schema\":{\"$ref\":\"#/components/schemas/Problem\"}}}},"
                     "\"500\":{\"description\":\"DATABASE_ERROR, INTERNAL_ERROR\"},"
                     "\"400\":{\"description\":\"BAD_REQUEST\"},"
                     "\"422\":{\"description\":\"VALIDATION_ERROR\"}}");
    bt_assert_subset(doc, "{\"components\":{\"schemas\":{\"Problem\":{\"type\":\"object\","
                          "\"required\":[\"error\"],\"additionalProperties\":false}}}}");
    assert_int_equal(bt_route_errors(NULL, &routes[1]) & BT_XERR(BT_ECONFLICT),
                     BT_XERR(BT_ECONFLICT));
    json_decref(doc);
}

/* an upload route documents its multipart/form-data body with the file part */
static void test_multipart_body(void **state)
{
    json_t *doc = build();

    (void)state;
    bt_assert_subset(doc, "{\"paths\":{\"/api/upload\":{\"post\":{\"requestBody\":{"
                          "\"required\":true,\"content\":{\"multipart/form-data\":{\"schema\":"
                          "{\"$ref\":\"#/components/schemas/UploadForm\"}}}}}}},"
                          "\"components\":{\"schemas\":{\"UploadForm\":{\"type\":\"object\","
                          "\"required\":[\"image\"],\"properties\":{"
                          "\"image\":{\"type\":\"string\",\"format\":\"binary\","
                          "\"description\":\"the file\"},"
                          "\"folder\":{\"type\":\"string\",\"maxLength\":50}}}}}}");
    assert_null(bt_json_at(doc, "/paths/~1api~1upload/post/requestBody/content/application~1json"));
    json_decref(doc);
}

/* start-up: an app with an error schema must declare every route's response */
static void test_startup_check(void **state)
{
    static const struct bt_route missing[] = {
        {BT_GET, "/ok", h_dummy, BT_PUBLIC, NULL, NULL, 0, NULL, 0, &vendor_out, 0, NULL},
        {BT_GET, "/img", h_dummy, BT_PUBLIC, NULL, NULL, 0, NULL, 0, NULL, 0, "image/*"},
        {BT_DELETE, "/gone", h_dummy, BT_PUBLIC, NULL, NULL, 0, NULL, 204, NULL, 0, NULL},
        {BT_GET, "/undeclared", h_dummy, BT_PUBLIC, NULL, NULL, 0, NULL, 0, NULL, 0, NULL},
    };
    static const struct bt_app adopted = {.name = "demo", .error_schema = &problem};
    static const struct bt_app legacy = {.name = "old"};
    struct bt_err err;

    (void)state;
    bt_err_clear(&err);
    assert_int_equal(bt_openapi_check(&adopted, missing, 3, &err), BT_OK);
    assert_int_equal(bt_openapi_check(&adopted, missing, 4, &err), BT_EINTERNAL);
    assert_non_null(strstr(err.msg, "GET /undeclared declares no response"));
    /* not adopted yet: not enforced */
    bt_err_clear(&err);
    assert_int_equal(bt_openapi_check(&legacy, missing, 4, &err), BT_OK);
}

/* the check runs when an app context is made: such an app does not start */
static void test_startup_refuses(void **state)
{
    static const struct bt_route bad_routes[] = {
        {BT_GET, "/undeclared", h_dummy, BT_PUBLIC, NULL, NULL, 0, NULL, 0, NULL, 0, NULL},
        BT_ROUTE_END,
    };
    static const struct bt_app bad = {.name = "demo",
                                      .routes = bad_routes,
                                      .render_error = render_problem,
                                      .error_schema = &problem};
    static const struct bt_route good_routes[] = {
        {BT_GET, "/declared", h_dummy, BT_PUBLIC, NULL, NULL, 0, NULL, 0, &vendor_out, 0, NULL},
        BT_ROUTE_END,
    };
    static const struct bt_app good = {.name = "demo",
                                       .routes = good_routes,
                                       .render_error = render_problem,
                                       .error_schema = &problem};
    struct bt_config cfg;
    const char *why = NULL;
    struct bt_app_ctx *ctx = NULL;
    struct bt_err err;

    (void)state;
    assert_int_equal(bt_config_defaults(&cfg, &why), 0);
    bt_err_clear(&err);
    assert_int_equal(bt_app_ctx_new(&bad, &cfg, NULL, &ctx, &err), BT_EINTERNAL);
    assert_null(ctx);
    assert_non_null(strstr(err.msg, "demo: route GET /undeclared declares no response"));
    /* with the route declared it starts (the core routes declare theirs) */
    bt_err_clear(&err);
    assert_int_equal(bt_app_ctx_new(&good, &cfg, NULL, &ctx, &err), BT_OK);
    bt_app_ctx_free(ctx);
    bt_config_release(&cfg);
}

static void test_parameters(void **state)
{
    json_t *doc = build();
    json_t *paths = json_object_get(doc, "paths");

    (void)state;
    bt_assert_subset(paths,
                     "{\"/api/vendors/{vendor_id}/menus/{slug}\":{\"get\":{\"parameters\":["
                     "{\"name\":\"vendor_id\",\"in\":\"path\",\"required\":true,"
                     "\"schema\":{\"type\":\"integer\"}},"
                     "{\"name\":\"slug\",\"in\":\"path\",\"required\":true,"
                     "\"schema\":{\"type\":\"string\"}}]}},"
                     "\"/api/vendors/{id}\":{\"put\":{\"parameters\":["
                     "{\"name\":\"id\",\"in\":\"path\",\"schema\":{\"type\":\"integer\"}}]}},"
                     "\"/api/vendors\":{\"get\":{\"parameters\":["
                     "{\"name\":\"page\",\"in\":\"query\",\"required\":false,"
                     "\"description\":\"page number\","
                     "\"schema\":{\"type\":\"integer\",\"minimum\":1}},"
                     "{\"name\":\"kind\",\"in\":\"query\",\"required\":true,"
                     "\"schema\":{\"type\":\"string\",\"enum\":[\"food\",\"drink\"]}}]}}}");
    /* exactly the parameters listed */
    assert_int_equal(json_array_size(bt_json_at(
                         paths, "/~1api~1vendors~1{vendor_id}~1menus~1{slug}/get/parameters")),
                     2);
    /* no parameters at all -> the key is left out */
    assert_null(bt_json_at(paths, "/~1api~1vendors/post/parameters"));
    json_decref(doc);
}

static void test_request_bodies_and_components(void **state)
{
    json_t *doc = build();
    json_t *schemas = bt_json_at(doc, "/components/schemas");

    (void)state;
    bt_assert_subset(doc, "{\"paths\":{\"/api/vendors\":{\"post\":{\"requestBody\":{"
                          "\"required\":true,\"content\":{\"application/json\":{\"schema\":"
                          "{\"$ref\":\"#/components/schemas/VendorCreate\"}}}}}},"
                          "\"/api/vendors/{id}\":{\"put\":{\"requestBody\":{\"content\":"
                          "{\"application/json\":{\"schema\":"
                          "{\"$ref\":\"#/components/schemas/VendorCreate\"}}}}}}}}");
    /* the array body is a different schema with the same name: kept apart */
    bt_assert_subset(doc, "{\"paths\":{\"/api/vendors/bulk\":{\"post\":{\"requestBody\":{"
                          "\"content\":{\"application/json\":{\"schema\":{\"type\":\"array\","
                          "\"items\":{\"$ref\":\"#/components/schemas/VendorCreate2\"}}}}}},"
                          "\"patch\":{\"requestBody\":{\"content\":{\"application/json\":{"
                          "\"schema\":{\"type\":\"array\",\"items\":"
                          "{\"$ref\":\"#/components/schemas/VendorCreate\"}}}}}}}}}");
    /* Problem (errors), VendorCreate, VendorCreate2, Vendor (responses), UploadForm */
    assert_int_equal(json_object_size(schemas), 5);

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
    bt_assert_subset(paths, "{\"/api/vendors\":{\"get\":{\"security\":[{\"bearerAuth\":[]}]}}}");
    assert_public(bt_json_at(paths, "/~1api~1vendors~1{vendor_id}~1menus~1{slug}/get/security"));
    json_decref(doc);
}

/* a scheme no route uses is not declared */
static void test_security_only_where_used(void **state)
{
    static const struct bt_route open_routes[] = {
        {BT_GET, "/a", h_dummy, BT_PUBLIC, NULL, NULL, 0, NULL, 0, NULL, 0, "text/plain"},
        BT_ROUTE_END,
    };
    static const struct bt_app open_app = {
        .name = "open", .routes = open_routes, .security = "bearer"};
    struct bt_err err;
    struct bt_app_ctx ctx;
    json_t *doc;

    (void)state;
    bt_err_clear(&err);
    memset(&ctx, 0, sizeof ctx);
    ctx.app = &open_app;
    ctx.router = bt_router_new(open_routes, &err);
    assert_non_null(ctx.router);
    doc = bt_openapi_build(&ctx);
    assert_null(bt_json_at(doc, "/components/securitySchemes"));
    assert_public(bt_json_at(doc, "/paths/~1a/get/security"));
    /* no error schema: error responses carry a description only */
    bt_assert_subset(doc, "{\"paths\":{\"/a\":{\"get\":{\"responses\":{\"500\":{"
                          "\"description\":\"DATABASE_ERROR, INTERNAL_ERROR\"}}}}}}");
    assert_null(bt_json_at(doc, "/paths/~1a/get/responses/500/content"));
    json_decref(doc);
    bt_router_free(ctx.router);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_security),
        cmocka_unit_test(test_security_only_where_used),
        cmocka_unit_test(test_aliases_deprecated),
        cmocka_unit_test(test_servers),
        cmocka_unit_test(test_success_responses),
        cmocka_unit_test(test_errors_derived),
        cmocka_unit_test(test_multipart_body),
        cmocka_unit_test(test_startup_check),
        cmocka_unit_test(test_startup_refuses),
        cmocka_unit_test(test_document_header),
        cmocka_unit_test(test_paths_and_operations),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_request_bodies_and_components),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_empty_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
