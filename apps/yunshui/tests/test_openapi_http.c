/* SPDX-License-Identifier: MIT
 * test_openapi_http.c - yunshui's OpenAPI document as the handler tier serves it
 * (GET /v1/openapi.json): servers from the mount and public_url, the document's envelopes
 * as response components, errors with the statuses yunshui's renderer sends (422 for
 * validation, 400 for unreadable bodies), the multipart upload body, bearer security only on
 * the routes that need a token.
 */
#include "yunshui_test.h"

static json_t *fetch_doc(struct bt_test_app *t)
{
    struct bt_test_resp r = {0};
    json_t *doc;

    bt_test_request(t, "GET", "/v1/openapi.json", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    doc = json_incref(r.json);
    bt_test_resp_release(&r);
    return doc;
}

/* a public operation says so: "security": [] (no credentials) */
static void assert_public(const json_t *security)
{
    assert_true(json_is_array(security));
    assert_int_equal(json_array_size(security), 0);
}

static void test_servers(void **state)
{
    const char *const pub[] = {"public_url=https://api.yunshui.com/", NULL};
    struct bt_test_app *t = ys_app();
    json_t *doc = fetch_doc(t);

    (void)state;
    bt_assert_subset(doc, "{\"openapi\":\"3.1.0\",\"servers\":[{\"url\":\"/v1\"}]}");
    assert_int_equal(json_array_size(json_object_get(doc, "servers")), 1);
    json_decref(doc);
    bt_test_app_free(t);

    t = ys_app_with(pub);
    doc = fetch_doc(t);
    bt_assert_subset(doc, "{\"servers\":[{\"url\":\"https://api.yunshui.com/v1\"},"
                          "{\"url\":\"/v1\"}]}");
    json_decref(doc);
    bt_test_app_free(t);
}

static void test_envelopes_and_errors(void **state)
{
    struct bt_test_app *t = ys_app();
    json_t *doc = fetch_doc(t);

    (void)state;
    bt_assert_subset(doc, "{\"components\":{\"schemas\":{\"Error\":{\"type\":\"object\","
                          "\"required\":[\"success\",\"error\"],\"additionalProperties\":false,"
                          "\"properties\":{\"error\":{\"required\":[\"code\",\"message\","
                          "\"details\"]}}}}}}");
    /* POST /materials: 201 MaterialResponse; 422 validation, 400 unreadable or non-JSON
     * body, 409 duplicate, 401, 403 (ADMIN), 413; all in the Error envelope */
    bt_assert_subset(
        doc, "{\"paths\":{\"/materials\":{\"post\":{\"responses\":{"
             "\"201\":{\"content\":{\"application/json\":{\"schema\":{\"$ref\":"
             "\"#/components/schemas/MaterialResponse\"}}}},"
             "\"422\":{\"description\":\"VALIDATION_ERROR\",\"content\":{\"application/json\":"
             "{\"schema\":{\"$ref\":\"#/components/schemas/Error\"}}}},"
             "\"400\":{\"description\":\"BAD_REQUEST, UNSUPPORTED_MEDIA_TYPE\"},"
             "\"409\":{},\"401\":{},\"403\":{},\"413\":{},\"500\":{},\"503\":{}}}}}}");
    /* no rate limit in this fixture: no 429; the core's 400 for validation is not used */
    assert_null(bt_json_at(doc, "/paths/~1materials/post/responses/429"));
    assert_null(bt_json_at(doc, "/paths/~1materials/post/responses/415"));
    /* GET /materials/{id}: 404 from the path parameter, no 409 */
    assert_non_null(bt_json_at(doc, "/paths/~1materials~1{id}/get/responses/404"));
    assert_null(bt_json_at(doc, "/paths/~1materials~1{id}/get/responses/409"));
    json_decref(doc);
    bt_test_app_free(t);
}

static void test_upload_and_images(void **state)
{
    struct bt_test_app *t = ys_app();
    json_t *doc = fetch_doc(t);

    (void)state;
    bt_assert_subset(doc, "{\"paths\":{\"/upload/image\":{\"post\":{\"requestBody\":{"
                          "\"content\":{\"multipart/form-data\":{\"schema\":{\"$ref\":"
                          "\"#/components/schemas/ImageUpload\"}}}}}},"
                          "\"/uploads/{folder}/{file}\":{\"get\":{\"responses\":{\"200\":{"
                          "\"content\":{\"image/*\":{\"schema\":{\"type\":\"string\","
                          "\"format\":\"binary\"}}}}}}}},"
                          "\"components\":{\"schemas\":{\"ImageUpload\":{\"required\":[\"image\"],"
                          "\"properties\":{\"image\":{\"type\":\"string\",\"format\":\"binary\"},"
                          "\"folder\":{\"type\":\"string\"}}}}}}");
    json_decref(doc);
    bt_test_app_free(t);
}

static void test_security_where_needed(void **state)
{
    struct bt_test_app *t = ys_app();
    json_t *doc = fetch_doc(t);

    (void)state;
    bt_assert_subset(doc,
                     "{\"components\":{\"securitySchemes\":{\"bearerAuth\":{\"type\":\"http\","
                     "\"scheme\":\"bearer\",\"bearerFormat\":\"JWT\"}}},"
                     "\"paths\":{\"/orders\":{\"get\":{\"security\":[{\"bearerAuth\":[]}]}}}}");
    assert_public(bt_json_at(doc, "/paths/~1auth~1login/post/security"));
    assert_public(bt_json_at(doc, "/paths/~1uploads~1{folder}~1{file}/get/security"));
    assert_public(bt_json_at(doc, "/paths/~1health/get/security"));
    /* a public route has no 401 */
    assert_null(bt_json_at(doc, "/paths/~1uploads~1{folder}~1{file}/get/responses/401"));
    json_decref(doc);
    bt_test_app_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_servers),
        cmocka_unit_test(test_envelopes_and_errors),
        cmocka_unit_test(test_upload_and_images),
        cmocka_unit_test(test_security_where_needed),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
