/* SPDX-License-Identifier: MIT
 * test_materials_http.c - handler tier of yunshui's 基材管理 API (document 002 "GET /materials",
 * "GET /materials/:id", "POST /materials", "PUT /materials/:id", "DELETE /materials/:id";
 * note "Materials"): the envelope and field order, prices exact to 4 decimals, duplicates,
 * partial updates, deletes blocked by open orders, pagination, every filter, sort and order,
 * search in Chinese and case-insensitive ASCII (through the core's index: terms of every
 * length, common and rare, on every way to a page), the computed status at its boundaries,
 * the cached totals following every write, and USER reading but not writing.
 * Each test gets a fresh database; the same cases run on SQLite and PostgreSQL.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yunshui_test.h"

struct fixture {
    struct bt_test_app *t;
    char *admin;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->t = ys_app();
    f->admin = ys_admin(f->t);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    free(f->admin);
    bt_test_app_free(f->t);
    free(f);
    return 0;
}

/* ---- helpers ---- */

/* method path (printf) with the given token (NULL: none) and body (may be NULL). */
__attribute__((format(printf, 6, 7))) static void req(struct fixture *f, const char *token,
                                                      const char *method, const char *body,
                                                      struct bt_test_resp *r, const char *fmt, ...)
{
    char path[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    bt_test_request(f->t, method, path, token ? ys_auth(token) : NULL, body, r);
}

/* Create a material as admin from a JSON body; returns its id (malloc'd). */
static char *create(struct fixture *f, const char *body)
{
    struct bt_test_resp r = {0};
    char *id;

    req(f, f->admin, "POST", body, &r, "/v1/materials");
    if (r.status != 201)
        fail_msg("create %s: %d %s", body, r.status, r.body);
    id = strdup(bt_json_str(r.json, "/data/id"));
    bt_test_resp_release(&r);
    return id;
}

/* {"success":false,"error":{"code","message","details"}} with status and code; message
 * compared when given. */
static void assert_error(const struct bt_test_resp *r, int status, const char *code,
                         const char *message)
{
    if (r->status != status)
        fail_msg("expected %d %s, got %d %s", status, code, r->status, r->body);
    assert_non_null(r->json);
    assert_true(json_is_false(json_object_get(r->json, "success")));
    assert_string_equal(ys_code(r), code);
    assert_true(json_is_string(bt_json_at(r->json, "/error/message")));
    assert_true(json_is_object(bt_json_at(r->json, "/error/details")));
    if (message)
        assert_string_equal(bt_json_str(r->json, "/error/message"), message);
}

/* A 422 whose details name field. */
static void assert_invalid(const struct bt_test_resp *r, const char *field)
{
    char ptr[128];

    assert_error(r, 422, "VALIDATION_ERROR", NULL);
    snprintf(ptr, sizeof(ptr), "/error/details/%s", field);
    if (!bt_json_at(r->json, ptr))
        fail_msg("details lack %s: %s", field, r->body);
}

static const char *const material_keys[] = {
    "id",       "name",     "category",    "specification", "unit",      "price",  "stock",
    "minStock", "imageUrl", "description", "createdAt",     "updatedAt", "status",
};
#define NMATERIAL_KEYS (sizeof(material_keys) / sizeof(material_keys[0]))

static void assert_timestamp(const char *s)
{
    /* "2024-01-01T00:00:00.000Z" */
    assert_non_null(s);
    assert_int_equal(strlen(s), 24);
    assert_true(s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
                s[19] == '.' && s[23] == 'Z');
}

/* The document's fields in its order, then the computed status. */
static void assert_material_shape(const json_t *m)
{
    const char *key;
    json_t *v;
    size_t i = 0;

    assert_true(json_is_object(m));
    assert_int_equal(json_object_size(m), NMATERIAL_KEYS);
    json_object_foreach((json_t *)m, key, v)
    {
        assert_string_equal(key, material_keys[i]);
        i++;
    }
    assert_int_equal(strlen(json_string_value(json_object_get(m, "id"))), 36);
    assert_true(json_is_number(json_object_get(m, "price")));
    assert_true(json_is_integer(json_object_get(m, "stock")));
    assert_true(json_is_integer(json_object_get(m, "minStock")));
    assert_timestamp(json_string_value(json_object_get(m, "createdAt")));
    assert_timestamp(json_string_value(json_object_get(m, "updatedAt")));
}

/* GET /v1/materials?<query> as admin; asserts 200 and returns the total. */
static long long list(struct fixture *f, const char *query, struct bt_test_resp *r)
{
    req(f, f->admin, "GET", NULL, r, "/v1/materials%s%s", query && *query ? "?" : "",
        query ? query : "");
    if (r->status != 200)
        fail_msg("list %s: %d %s", query, r->status, r->body);
    assert_true(json_is_true(json_object_get(r->json, "success")));
    assert_true(json_is_array(bt_json_at(r->json, "/data/materials")));
    return bt_json_int(r->json, "/data/pagination/total", -1);
}

/* The names of a list response, joined by ',' (static buffer). */
static const char *names(const struct bt_test_resp *r)
{
    static char out[2048];
    json_t *arr = bt_json_at(r->json, "/data/materials"), *m;
    size_t i, n = 0;

    out[0] = '\0';
    json_array_foreach(arr, i, m)
    {
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? "," : "",
                              json_string_value(json_object_get(m, "name")));
    }
    return out;
}

static long long search_total(struct fixture *f, const char *query)
{
    struct bt_test_resp r = {0};
    long long n = list(f, query, &r);

    bt_test_resp_release(&r);
    return n;
}

/* Run one statement directly (test setup that the API does not offer). */
static void sql(struct fixture *f, const char *stmt, const struct bt_val *args, size_t n)
{
    struct bt_db *db = bt_test_db_get(f->t);
    struct bt_err err;

    bt_err_clear(&err);
    if (bt_db_exec(db, NULL, stmt, args, n, &err) != BT_OK)
        fail_msg("%s: %s", stmt, err.msg);
    bt_test_db_put(f->t, db);
}

/* A USER account, logged in (token malloc'd). */
static char *make_reader(struct fixture *f)
{
    struct bt_test_resp r = {0};
    char pass[32] = "reader-secret-1";

    req(f, f->admin, "POST",
        "{\"username\":\"reader\",\"email\":\"reader@example.com\","
        "\"password\":\"reader-secret-1\",\"role\":\"USER\"}",
        &r, "/v1/users");
    if (r.status != 201)
        fail_msg("create user: %d %s", r.status, r.body);
    bt_test_resp_release(&r);
    return ys_login(f->t, "reader", pass);
}

/* ---- create and get ---- */

/* spec 002 POST /materials: 201 with the document's example echoed, then GET /materials/:id */
static void test_create_and_get(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    json_t *m;
    char *id;

    req(f, f->admin, "POST",
        "{\"name\":\"不鏽鋼板 316\",\"category\":\"不鏽鋼\",\"specification\":\"厚度 3mm, 尺寸 "
        "1200x2400mm\",\"unit\":\"片\",\"price\":2000.0000,\"stock\":30,\"minStock\":5,"
        "\"imageUrl\":\"https://res.cloudinary.com/yunshui/image/upload/v1/materials/"
        "steel_316.jpg\",\"description\":\"耐腐蝕性更強的不鏽鋼板\"}",
        &r, "/v1/materials");
    assert_int_equal(r.status, 201);
    assert_true(json_is_true(json_object_get(r.json, "success")));
    m = bt_json_at(r.json, "/data");
    assert_material_shape(m);
    bt_assert_subset(m, "{\"name\":\"不鏽鋼板 316\",\"category\":\"不鏽鋼\","
                        "\"specification\":\"厚度 3mm, 尺寸 1200x2400mm\",\"unit\":\"片\","
                        "\"price\":2000,\"stock\":30,\"minStock\":5,\"imageUrl\":"
                        "\"https://res.cloudinary.com/yunshui/image/upload/v1/materials/"
                        "steel_316.jpg\",\"description\":\"耐腐蝕性更強的不鏽鋼板\","
                        "\"status\":\"available\"}");
    assert_string_equal(bt_json_str(m, "/createdAt"), bt_json_str(m, "/updatedAt"));
    id = strdup(bt_json_str(m, "/id"));

    req(f, f->admin, "GET", NULL, &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "success")));
    assert_material_shape(bt_json_at(r.json, "/data"));
    assert_string_equal(bt_json_str(r.json, "/data/id"), id);
    assert_string_equal(bt_json_str(r.json, "/data/name"), "不鏽鋼板 316");

    /* ids are UUIDs: any case finds the row */
    for (char *p = id; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    req(f, f->admin, "GET", NULL, &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);
    free(id);
    bt_test_resp_release(&r);
}

/* only the name is required; the rest default to null or 0 */
static void test_create_defaults(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};

    req(f, f->admin, "POST", "{\"name\":\"鋁板\"}", &r, "/v1/materials");
    assert_int_equal(r.status, 201);
    assert_material_shape(bt_json_at(r.json, "/data"));
    bt_assert_subset(r.json, "{\"data\":{\"name\":\"鋁板\",\"category\":null,"
                             "\"specification\":null,\"unit\":null,\"price\":0,\"stock\":0,"
                             "\"minStock\":0,\"imageUrl\":null,\"description\":null,"
                             "\"status\":\"out_of_stock\"}}");
    /* unknown fields are dropped, never stored or echoed */
    req(f, f->admin, "POST", "{\"name\":\"銅管\",\"id\":\"x\",\"createdAt\":\"y\",\"owner\":1}", &r,
        "/v1/materials");
    assert_int_equal(r.status, 201);
    assert_material_shape(bt_json_at(r.json, "/data"));
    assert_string_not_equal(bt_json_str(r.json, "/data/id"), "x");
    bt_test_resp_release(&r);
}

/* VALIDATION_ERROR 422 names every bad field at once */
static void test_create_validation(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char body[4096], big[2100];
    static const char *const one_bad[][2] = {
        {"{}", "name"},
        {"{\"name\":\"\"}", "name"},
        {"{\"name\":\"   \"}", "name"},
        {"{\"name\":null}", "name"},
        {"{\"name\":5}", "name"},
        {"{\"name\":\"a\",\"price\":-1}", "price"},
        {"{\"name\":\"a\",\"price\":\"1500\"}", "price"},
        {"{\"name\":\"a\",\"price\":null}", "price"},
        {"{\"name\":\"a\",\"price\":10000000000.0001}", "price"},
        {"{\"name\":\"a\",\"price\":10000000001}", "price"},
        {"{\"name\":\"a\",\"stock\":-1}", "stock"},
        {"{\"name\":\"a\",\"stock\":1.5}", "stock"},
        {"{\"name\":\"a\",\"stock\":\"3\"}", "stock"},
        {"{\"name\":\"a\",\"minStock\":-1}", "minStock"},
        {"{\"name\":\"a\",\"imageUrl\":\"ftp://x.example/a.jpg\"}", "imageUrl"},
        {"{\"name\":\"a\",\"imageUrl\":\"not a url\"}", "imageUrl"},
        {"{\"name\":\"a\",\"imageUrl\":\"https://\"}", "imageUrl"},
        {"{\"name\":\"a\",\"imageUrl\":\"https://a.example/x y.jpg\"}", "imageUrl"},
        {"{\"name\":\"a\",\"imageUrl\":\"\"}", "imageUrl"},
        {"{\"name\":\"a\",\"category\":7}", "category"},
    };

    for (size_t i = 0; i < sizeof(one_bad) / sizeof(one_bad[0]); i++) {
        req(f, f->admin, "POST", one_bad[i][0], &r, "/v1/materials");
        assert_invalid(&r, one_bad[i][1]);
    }

    /* lengths count characters, not bytes: 100 Chinese characters is a valid name */
    memset(big, 0, sizeof(big));
    for (int i = 0; i < 100; i++)
        strcat(big, "鋼");
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", big);
    req(f, f->admin, "POST", body, &r, "/v1/materials");
    assert_int_equal(r.status, 201);
    snprintf(body, sizeof(body), "{\"name\":\"%s鋼\"}", big);
    req(f, f->admin, "POST", body, &r, "/v1/materials");
    assert_invalid(&r, "name");

    /* every length limit, all in one request */
    memset(big, 'x', 2001);
    big[2001] = '\0';
    snprintf(body, sizeof(body),
             "{\"name\":\"ok\",\"category\":\"%.51s\",\"specification\":\"%.201s\","
             "\"unit\":\"%.21s\",\"imageUrl\":\"https://a.example/%.490s\","
             "\"description\":\"%s\",\"price\":0.00001,\"minStock\":-3}",
             big, big, big, big, big);
    req(f, f->admin, "POST", body, &r, "/v1/materials");
    assert_invalid(&r, "category");
    assert_invalid(&r, "specification");
    assert_invalid(&r, "unit");
    assert_invalid(&r, "imageUrl");
    assert_invalid(&r, "description");
    assert_invalid(&r, "minStock");
    /* the schema's errors come first; money is checked once they pass */
    big[2000] = '\0';
    snprintf(body, sizeof(body),
             "{\"name\":\"ok2\",\"category\":\"%.50s\",\"specification\":\"%.200s\","
             "\"unit\":\"%.20s\",\"imageUrl\":\"https://a.example/%.482s\","
             "\"description\":\"%s\",\"price\":1.5}",
             big, big, big, big, big);
    req(f, f->admin, "POST", body, &r, "/v1/materials");
    assert_int_equal(r.status, 201);
    assert_int_equal(strlen(bt_json_str(r.json, "/data/imageUrl")), 500);

    /* a body that is not JSON, or not declared as JSON, is 400 */
    req(f, f->admin, "POST", "{\"name\":", &r, "/v1/materials");
    assert_int_equal(r.status, 400);
    {
        const char *hdrs[] = {NULL, "Content-Type: text/plain", NULL};
        char auth[2048];
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", f->admin);
        hdrs[0] = auth;
        bt_test_request(f->t, "POST", "/v1/materials", hdrs, "{\"name\":\"x\"}", &r);
        assert_int_equal(r.status, 400);
    }
    bt_test_resp_release(&r);
}

/* note "Materials": price is exact to 4 decimal places; a 5th is refused */
static void test_price_exact(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id;

    req(f, f->admin, "POST", "{\"name\":\"p1\",\"price\":1500.1234}", &r, "/v1/materials");
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.body, "\"price\":1500.1234,"));
    id = strdup(bt_json_str(r.json, "/data/id"));
    req(f, f->admin, "GET", NULL, &r, "/v1/materials/%s", id);
    assert_non_null(strstr(r.body, "\"price\":1500.1234,"));

    req(f, f->admin, "POST", "{\"name\":\"p2\",\"price\":0.0001}", &r, "/v1/materials");
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.body, "\"price\":0.0001,"));

    req(f, f->admin, "POST", "{\"name\":\"p3\",\"price\":1500.0000}", &r, "/v1/materials");
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.body, "\"price\":1500,"));

    req(f, f->admin, "POST", "{\"name\":\"p4\",\"price\":9999999999.9999}", &r, "/v1/materials");
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.body, "\"price\":9999999999.9999,"));

    req(f, f->admin, "POST", "{\"name\":\"p5\",\"price\":10000000000}", &r, "/v1/materials");
    assert_int_equal(r.status, 201);

    req(f, f->admin, "POST", "{\"name\":\"p6\",\"price\":1500.12345}", &r, "/v1/materials");
    assert_invalid(&r, "price");
    req(f, f->admin, "POST", "{\"name\":\"p7\",\"price\":0.00001}", &r, "/v1/materials");
    assert_invalid(&r, "price");
    req(f, f->admin, "POST", "{\"name\":\"p8\",\"price\":1e-5}", &r, "/v1/materials");
    assert_invalid(&r, "price");
    req(f, f->admin, "POST", "{\"name\":\"p9\",\"price\":1.5e3}", &r, "/v1/materials");
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.body, "\"price\":1500,"));

    /* the same rules on update */
    req(f, f->admin, "PUT", "{\"price\":0.12345}", &r, "/v1/materials/%s", id);
    assert_invalid(&r, "price");
    req(f, f->admin, "PUT", "{\"price\":12.3456}", &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"price\":12.3456,"));
    free(id);
    bt_test_resp_release(&r);
}

/* note "Materials": the same name and specification twice is 409 DUPLICATE_RESOURCE */
static void test_duplicates(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id;

    free(create(f, "{\"name\":\"不鏽鋼板 304\",\"specification\":\"厚度 2mm\"}"));
    req(f, f->admin, "POST", "{\"name\":\"不鏽鋼板 304\",\"specification\":\"厚度 2mm\"}", &r,
        "/v1/materials");
    assert_error(&r, 409, "DUPLICATE_RESOURCE", "基材已存在");
    /* another specification is another material */
    id = create(f, "{\"name\":\"不鏽鋼板 304\",\"specification\":\"厚度 3mm\"}");
    /* no specification: two of the same name collide too, and "" is no specification */
    free(create(f, "{\"name\":\"鋁板\"}"));
    req(f, f->admin, "POST", "{\"name\":\"鋁板\"}", &r, "/v1/materials");
    assert_error(&r, 409, "DUPLICATE_RESOURCE", "基材已存在");
    req(f, f->admin, "POST", "{\"name\":\"鋁板\",\"specification\":null}", &r, "/v1/materials");
    assert_error(&r, 409, "DUPLICATE_RESOURCE", NULL);
    req(f, f->admin, "POST", "{\"name\":\"鋁板\",\"specification\":\"\"}", &r, "/v1/materials");
    assert_error(&r, 409, "DUPLICATE_RESOURCE", NULL);
    /* names are compared exactly */
    free(create(f, "{\"name\":\"鋁板 \"}"));
    free(create(f, "{\"name\":\"Steel\"}"));
    free(create(f, "{\"name\":\"steel\"}"));

    /* an update that would make a duplicate is refused and changes nothing */
    req(f, f->admin, "PUT", "{\"specification\":\"厚度 2mm\",\"stock\":9}", &r, "/v1/materials/%s",
        id);
    assert_error(&r, 409, "DUPLICATE_RESOURCE", "基材已存在");
    req(f, f->admin, "GET", NULL, &r, "/v1/materials/%s", id);
    assert_string_equal(bt_json_str(r.json, "/data/specification"), "厚度 3mm");
    assert_int_equal(bt_json_int(r.json, "/data/stock", -1), 0);
    assert_int_equal(search_total(f, "search=不鏽鋼板"), 2);
    free(id);
    bt_test_resp_release(&r);
}

/* GET, PUT and DELETE of an unknown or malformed id: 404 RESOURCE_NOT_FOUND 基材不存在 */
static void test_not_found(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    static const char *const ids[] = {
        "123e4567-e89b-12d3-a456-426614174000",
        "123",
        "not-a-uuid",
        "123e4567-e89b-12d3-a456-42661417400g",
        "123e4567e89b-12d3-a456-4266141740000",
        "%27%20OR%201%3D1%20--",
    };

    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        req(f, f->admin, "GET", NULL, &r, "/v1/materials/%s", ids[i]);
        assert_error(&r, 404, "RESOURCE_NOT_FOUND", "基材不存在");
        req(f, f->admin, "PUT", "{\"stock\":1}", &r, "/v1/materials/%s", ids[i]);
        assert_error(&r, 404, "RESOURCE_NOT_FOUND", "基材不存在");
        req(f, f->admin, "DELETE", NULL, &r, "/v1/materials/%s", ids[i]);
        assert_error(&r, 404, "RESOURCE_NOT_FOUND", "基材不存在");
    }
    /* a body error on an unknown id is still the body error */
    req(f, f->admin, "PUT", "{\"stock\":-1}", &r, "/v1/materials/%s", ids[0]);
    assert_invalid(&r, "stock");
    bt_test_resp_release(&r);
}

/* ---- update ---- */

/* spec 002 PUT /materials/:id: every field optional; only those given change */
static void test_update_partial(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id = create(f, "{\"name\":\"鋼筋\",\"category\":\"鋼\",\"specification\":\"#4\","
                         "\"unit\":\"支\",\"price\":12.5,\"stock\":100,\"minStock\":10,"
                         "\"imageUrl\":\"http://img.example/a.png\",\"description\":\"竹節\"}");
    char created[32];

    req(f, f->admin, "GET", NULL, &r, "/v1/materials/%s", id);
    snprintf(created, sizeof(created), "%s", bt_json_str(r.json, "/data/createdAt"));

    req(f, f->admin, "PUT", "{\"price\":13}", &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "success")));
    assert_material_shape(bt_json_at(r.json, "/data"));
    bt_assert_subset(r.json, "{\"data\":{\"name\":\"鋼筋\",\"category\":\"鋼\","
                             "\"specification\":\"#4\",\"unit\":\"支\",\"price\":13,"
                             "\"stock\":100,\"minStock\":10,\"imageUrl\":"
                             "\"http://img.example/a.png\",\"description\":\"竹節\"}}");
    assert_string_equal(bt_json_str(r.json, "/data/createdAt"), created);
    assert_true(strcmp(bt_json_str(r.json, "/data/updatedAt"), created) >= 0);
    assert_string_equal(bt_json_str(r.json, "/data/id"), id);

    /* null clears an optional field; an empty body changes nothing but updatedAt */
    req(f, f->admin, "PUT",
        "{\"category\":null,\"specification\":null,\"unit\":null,\"imageUrl\":null,"
        "\"description\":null,\"name\":\"鋼筋 SD280\",\"stock\":0,\"minStock\":0}",
        &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"data\":{\"name\":\"鋼筋 SD280\",\"category\":null,"
                             "\"specification\":null,\"unit\":null,\"price\":13,\"stock\":0,"
                             "\"minStock\":0,\"imageUrl\":null,\"description\":null,"
                             "\"status\":\"out_of_stock\"}}");
    req(f, f->admin, "PUT", "{}", &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);
    assert_string_equal(bt_json_str(r.json, "/data/name"), "鋼筋 SD280");

    /* required and typed fields keep their rules */
    req(f, f->admin, "PUT", "{\"name\":null}", &r, "/v1/materials/%s", id);
    assert_invalid(&r, "name");
    req(f, f->admin, "PUT", "{\"name\":\" \"}", &r, "/v1/materials/%s", id);
    assert_invalid(&r, "name");
    req(f, f->admin, "PUT", "{\"stock\":null}", &r, "/v1/materials/%s", id);
    assert_invalid(&r, "stock");
    req(f, f->admin, "PUT", "{\"imageUrl\":\"javascript:alert(1)\"}", &r, "/v1/materials/%s", id);
    assert_invalid(&r, "imageUrl");
    req(f, f->admin, "PUT", "[1]", &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 422);

    /* the new name is searchable, the old one is not */
    assert_int_equal(search_total(f, "search=SD280"), 1);
    assert_int_equal(search_total(f, "search=竹節"), 0);
    free(id);
    bt_test_resp_release(&r);
}

/* ---- delete ---- */

/* spec 002 DELETE /materials/:id: {"success":true,"message":"基材已成功刪除"}, no data */
static void test_delete(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id = create(f, "{\"name\":\"玻璃\"}");

    req(f, f->admin, "DELETE", NULL, &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"success\":true,\"message\":\"基材已成功刪除\"}");
    req(f, f->admin, "GET", NULL, &r, "/v1/materials/%s", id);
    assert_error(&r, 404, "RESOURCE_NOT_FOUND", "基材不存在");
    req(f, f->admin, "DELETE", NULL, &r, "/v1/materials/%s", id);
    assert_error(&r, 404, "RESOURCE_NOT_FOUND", "基材不存在");
    /* the name is free again */
    free(create(f, "{\"name\":\"玻璃\"}"));
    free(id);
    bt_test_resp_release(&r);
}

static void add_order(struct fixture *f, const char *order_id, const char *number,
                      const char *status, const char *item_id, const char *material_id)
{
    const char *now = "2024-01-01T00:00:00.000Z";

    sql(f,
        "INSERT INTO yunshui_orders (id, order_number, customer_name, status, total_amount,"
        " created_by, created_at, updated_at) VALUES ($1, $2, '客戶', $3, 0, 'u', $4, $4)",
        BT_ARGS(bt_text(order_id), bt_text(number), bt_text(status), bt_text(now)));
    sql(f,
        "INSERT INTO yunshui_order_items (id, order_id, position, material_id, material_name,"
        " quantity, unit_price, subtotal) VALUES ($1, $2, 0, $3, '玻璃', 1, 0, 0)",
        BT_ARGS(bt_text(item_id), bt_text(order_id), bt_text(material_id)));
}

/* note "Materials": a material used by an order that is not CANCELLED or COMPLETED cannot be
 * deleted (409); once every such order is closed it can, and the items keep their name */
static void test_delete_in_use(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id = create(f, "{\"name\":\"玻璃\"}");
    static const char *const o1 = "aaaaaaaa-0000-4000-8000-000000000001";
    static const char *const o2 = "aaaaaaaa-0000-4000-8000-000000000002";
    struct bt_db *db;
    struct bt_err err;
    int64_t n = -1;

    add_order(f, o1, "ORD-2024-001", "PENDING", "bbbbbbbb-0000-4000-8000-000000000001", id);
    add_order(f, o2, "ORD-2024-002", "COMPLETED", "bbbbbbbb-0000-4000-8000-000000000002", id);
    req(f, f->admin, "DELETE", NULL, &r, "/v1/materials/%s", id);
    assert_error(&r, 409, "RESOURCE_IN_USE", "基材正被未完成的訂單使用，無法刪除");
    bt_assert_subset(r.json, "{\"error\":{\"details\":{\"orderIds\":[\"aaaaaaaa-0000-4000-8000-"
                             "000000000001\"]}}}");
    assert_int_equal(json_array_size(bt_json_at(r.json, "/error/details/orderIds")), 1);

    sql(f, "UPDATE yunshui_orders SET status = 'PROCESSING' WHERE id = $1", BT_ARGS(bt_text(o1)));
    req(f, f->admin, "DELETE", NULL, &r, "/v1/materials/%s", id);
    assert_error(&r, 409, "RESOURCE_IN_USE", NULL);
    req(f, f->admin, "GET", NULL, &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);

    sql(f, "UPDATE yunshui_orders SET status = 'CANCELLED' WHERE id = $1", BT_ARGS(bt_text(o1)));
    req(f, f->admin, "DELETE", NULL, &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "success")));

    /* the closed orders' items lost the link but kept the name */
    db = bt_test_db_get(f->t);
    bt_err_clear(&err);
    assert_int_equal(bt_db_query_i64(db, &n,
                                     "SELECT count(*) FROM yunshui_order_items"
                                     " WHERE material_id IS NULL AND material_name = '玻璃'",
                                     BT_NOARGS, &err),
                     BT_OK);
    bt_test_db_put(f->t, db);
    assert_int_equal(n, 2);
    free(id);
    bt_test_resp_release(&r);
}

/* issue 7 §3: the database itself refuses to delete a material an item names (ON DELETE
 * NO ACTION, 0004_order_items_restrict.sql), so an order the handler's check cannot see yet
 * (PostgreSQL: written after the check) makes the delete fail instead of losing its material */
static void test_delete_refused_by_foreign_key(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id = create(f, "{\"name\":\"玻璃\"}");
    struct bt_db *db;
    struct bt_err err;
    int64_t changed = -1;

    add_order(f, "aaaaaaaa-0000-4000-8000-000000000003", "ORD-2024-003", "PENDING",
              "bbbbbbbb-0000-4000-8000-000000000003", id);
    db = bt_test_db_get(f->t);
    bt_err_clear(&err);
    assert_int_equal(bt_db_exec(db, &changed, "DELETE FROM yunshui_materials WHERE id = $1",
                                BT_ARGS(bt_text(id)), &err),
                     BT_ECONFLICT);
    assert_string_equal(err.msg, "foreign key constraint violated");
    bt_test_db_put(f->t, db);
    req(f, f->admin, "GET", NULL, &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);
    free(id);
    bt_test_resp_release(&r);
}

/* ---- access ---- */

/* note "Roles": USER may read materials; every write is 403; no token is 401 */
static void test_user_reads_only(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id = create(f, "{\"name\":\"鋼管\",\"stock\":3}");
    char *user = make_reader(f);

    req(f, user, "GET", NULL, &r, "/v1/materials");
    assert_int_equal(r.status, 200);
    assert_int_equal(bt_json_int(r.json, "/data/pagination/total", -1), 1);
    req(f, user, "GET", NULL, &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);
    assert_string_equal(bt_json_str(r.json, "/data/name"), "鋼管");

    req(f, user, "POST", "{\"name\":\"x\"}", &r, "/v1/materials");
    assert_error(&r, 403, "INSUFFICIENT_PERMISSIONS", NULL);
    req(f, user, "PUT", "{\"stock\":1}", &r, "/v1/materials/%s", id);
    assert_error(&r, 403, "INSUFFICIENT_PERMISSIONS", NULL);
    req(f, user, "DELETE", NULL, &r, "/v1/materials/%s", id);
    assert_error(&r, 403, "INSUFFICIENT_PERMISSIONS", NULL);
    /* nothing changed */
    req(f, user, "GET", NULL, &r, "/v1/materials/%s", id);
    assert_int_equal(bt_json_int(r.json, "/data/stock", -1), 3);
    assert_int_equal(search_total(f, ""), 1);

    req(f, NULL, "GET", NULL, &r, "/v1/materials");
    assert_error(&r, 401, "INVALID_CREDENTIALS", NULL);
    req(f, NULL, "GET", NULL, &r, "/v1/materials/%s", id);
    assert_error(&r, 401, "INVALID_CREDENTIALS", NULL);
    req(f, "not.a.token", "POST", "{\"name\":\"y\"}", &r, "/v1/materials");
    assert_int_equal(r.status, 401);
    free(user);
    free(id);
    bt_test_resp_release(&r);
}

/* GET /materials/:id reads the material together with the bearer check (one round trip on
 * PostgreSQL): the check still decides - a logged-out session gets 401, not the material -
 * and each GET reads the row as it is now. */
static void test_get_read_with_the_bearer_check(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id = create(f, "{\"name\":\"鋼管\",\"stock\":3}");
    char *user = make_reader(f);

    req(f, user, "GET", NULL, &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);
    assert_int_equal(bt_json_int(r.json, "/data/stock", -1), 3);
    req(f, f->admin, "PUT", "{\"stock\":4}", &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);
    req(f, user, "GET", NULL, &r, "/v1/materials/%s", id);
    assert_int_equal(bt_json_int(r.json, "/data/stock", -1), 4);

    req(f, user, "POST", NULL, &r, "/v1/auth/logout");
    assert_int_equal(r.status, 200);
    req(f, user, "GET", NULL, &r, "/v1/materials/%s", id);
    assert_error(&r, 401, "INVALID_CREDENTIALS", "登入狀態已失效，請重新登入");
    assert_null(strstr(r.body, "鋼管"));
    free(user);
    free(id);
    bt_test_resp_release(&r);
}

/* ---- list ---- */

/* spec 002 GET /materials: pagination {page, limit, total, totalPages, hasNext, hasPrev} */
static void test_pagination(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char body[128];

    /* an empty table */
    list(f, NULL, &r);
    assert_string_equal(r.body, "{\"success\":true,\"data\":{\"materials\":[],\"pagination\":"
                                "{\"page\":1,\"limit\":20,\"total\":0,\"totalPages\":0,"
                                "\"hasNext\":false,\"hasPrev\":false}}}");

    for (int i = 0; i < 45; i++) {
        snprintf(body, sizeof(body), "{\"name\":\"m%02d\",\"price\":%d}", i, i);
        free(create(f, body));
    }
    assert_int_equal(list(f, NULL, &r), 45);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/materials")), 20);
    assert_true(bt_json_subset(r.json, "{\"data\":{\"pagination\":{\"page\":1,\"limit\":20,"
                                       "\"total\":45,\"totalPages\":3,\"hasNext\":true,"
                                       "\"hasPrev\":false}}}"));
    assert_material_shape(bt_json_at(r.json, "/data/materials/0"));

    list(f, "page=2", &r);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/materials")), 20);
    bt_assert_subset(r.json, "{\"data\":{\"pagination\":{\"page\":2,\"totalPages\":3,"
                             "\"hasNext\":true,\"hasPrev\":true}}}");

    list(f, "page=3&sort=price", &r);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/materials")), 5);
    assert_string_equal(names(&r), "m40,m41,m42,m43,m44");
    bt_assert_subset(r.json, "{\"data\":{\"pagination\":{\"page\":3,\"hasNext\":false,"
                             "\"hasPrev\":true}}}");

    list(f, "page=4", &r);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/materials")), 0);
    bt_assert_subset(r.json, "{\"data\":{\"pagination\":{\"page\":4,\"total\":45,"
                             "\"totalPages\":3,\"hasNext\":false,\"hasPrev\":true}}}");

    list(f, "limit=45", &r);
    bt_assert_subset(r.json, "{\"data\":{\"pagination\":{\"limit\":45,\"totalPages\":1,"
                             "\"hasNext\":false,\"hasPrev\":false}}}");
    list(f, "limit=100", &r);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/materials")), 45);
    list(f, "limit=7&page=7&sort=price", &r);
    assert_string_equal(names(&r), "m42,m43,m44");
    bt_assert_subset(r.json, "{\"data\":{\"pagination\":{\"totalPages\":7,\"hasNext\":false,"
                             "\"hasPrev\":true}}}");
    list(f, "limit=1&page=45&sort=price&order=desc", &r);
    assert_string_equal(names(&r), "m00");

    /* with a search, early pages walk the sort index and late ones scan and sort: the
     * same order either way */
    assert_int_equal(list(f, "search=M&sort=price&limit=5&page=2", &r), 45);
    assert_string_equal(names(&r), "m05,m06,m07,m08,m09");
    list(f, "search=M&sort=price&limit=5&page=8", &r);
    assert_string_equal(names(&r), "m35,m36,m37,m38,m39");
    list(f, "search=m&sort=price&order=desc&limit=5&page=2", &r);
    assert_string_equal(names(&r), "m39,m38,m37,m36,m35");
    list(f, "search=m&sort=price&order=desc&limit=5&page=8", &r);
    assert_string_equal(names(&r), "m09,m08,m07,m06,m05");
    list(f, "search=m&sort=name&order=desc&limit=5&page=9", &r);
    assert_string_equal(names(&r), "m04,m03,m02,m01,m00");
    list(f, "search=m&sort=name&limit=5&page=1", &r);
    assert_string_equal(names(&r), "m00,m01,m02,m03,m04");
    list(f, "status=out_of_stock&sort=stock&order=desc&limit=3&page=15", &r);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/materials")), 3);

    /* out of range: 422 (limit above 100 is refused, not clamped) */
    static const char *const bad[][2] = {
        {"limit=101", "limit"}, {"limit=0", "limit"},      {"limit=-1", "limit"},
        {"limit=abc", "limit"}, {"page=0", "page"},        {"page=-2", "page"},
        {"page=1.5", "page"},   {"page=10000001", "page"}, {"page=", "page"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        req(f, f->admin, "GET", NULL, &r, "/v1/materials?%s", bad[i][0]);
        assert_invalid(&r, bad[i][1]);
    }
    list(f, "page=10000000", &r);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/materials")), 0);
    bt_test_resp_release(&r);
}

/* sort name|price|stock|created_at, order asc|desc; created_at defaults to desc, the others
 * to asc; ties are broken by id in the same direction */
static void test_sort(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *a = create(f, "{\"name\":\"b-item\",\"price\":3.5,\"stock\":10}");
    char *b = create(f, "{\"name\":\"a-item\",\"price\":10,\"stock\":30}");
    char *c = create(f, "{\"name\":\"c-item\",\"price\":0.25,\"stock\":20}");

    /* creation times set apart so the default order is certain */
    sql(f, "UPDATE yunshui_materials SET created_at = '2024-01-01T00:00:00.001Z' WHERE id = $1",
        BT_ARGS(bt_text(a)));
    sql(f, "UPDATE yunshui_materials SET created_at = '2024-01-01T00:00:00.002Z' WHERE id = $1",
        BT_ARGS(bt_text(b)));
    sql(f, "UPDATE yunshui_materials SET created_at = '2024-01-02T00:00:00.000Z' WHERE id = $1",
        BT_ARGS(bt_text(c)));

    list(f, NULL, &r);
    assert_string_equal(names(&r), "c-item,a-item,b-item");
    list(f, "sort=created_at", &r);
    assert_string_equal(names(&r), "c-item,a-item,b-item");
    list(f, "sort=created_at&order=asc", &r);
    assert_string_equal(names(&r), "b-item,a-item,c-item");
    list(f, "order=asc", &r);
    assert_string_equal(names(&r), "b-item,a-item,c-item");
    list(f, "sort=name", &r);
    assert_string_equal(names(&r), "a-item,b-item,c-item");
    list(f, "sort=name&order=desc", &r);
    assert_string_equal(names(&r), "c-item,b-item,a-item");
    list(f, "sort=price", &r);
    assert_string_equal(names(&r), "c-item,b-item,a-item");
    list(f, "sort=price&order=desc", &r);
    assert_string_equal(names(&r), "a-item,b-item,c-item");
    list(f, "sort=stock&order=asc", &r);
    assert_string_equal(names(&r), "b-item,c-item,a-item");
    list(f, "sort=stock&order=desc", &r);
    assert_string_equal(names(&r), "a-item,c-item,b-item");

    /* equal keys: the id decides, in the requested direction */
    sql(f, "UPDATE yunshui_materials SET price = 5", BT_NOARGS);
    {
        char *ids[3] = {a, b, c}, *tmp;
        char expect[256];
        const char *nm[3];

        for (int i = 0; i < 3; i++)
            for (int j = i + 1; j < 3; j++)
                if (strcmp(ids[i], ids[j]) > 0) {
                    tmp = ids[i];
                    ids[i] = ids[j];
                    ids[j] = tmp;
                }
        for (int i = 0; i < 3; i++)
            nm[i] = ids[i] == a ? "b-item" : ids[i] == b ? "a-item" : "c-item";
        snprintf(expect, sizeof(expect), "%s,%s,%s", nm[0], nm[1], nm[2]);
        list(f, "sort=price", &r);
        assert_string_equal(names(&r), expect);
        snprintf(expect, sizeof(expect), "%s,%s,%s", nm[2], nm[1], nm[0]);
        list(f, "sort=price&order=desc", &r);
        assert_string_equal(names(&r), expect);
    }

    /* anything else is 422, never spliced into SQL */
    static const char *const bad[][2] = {
        {"sort=id", "sort"},       {"sort=price;DROP%20TABLE%20yunshui_materials", "sort"},
        {"sort=PRICE", "sort"},    {"sort=min_stock", "sort"},
        {"order=up", "order"},     {"order=DESC", "order"},
        {"order=asc;--", "order"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        req(f, f->admin, "GET", NULL, &r, "/v1/materials?%s", bad[i][0]);
        assert_invalid(&r, bad[i][1]);
    }
    assert_int_equal(search_total(f, NULL), 3);
    free(a);
    free(b);
    free(c);
    bt_test_resp_release(&r);
}

/* note "Materials": out_of_stock when stock = 0, low_stock when 0 < stock <= minStock,
 * otherwise available; in every material and as a filter */
static void test_status(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    static const struct {
        int stock, min;
        const char *status;
    } cases[] = {
        {0, 0, "out_of_stock"}, {0, 5, "out_of_stock"},
        {1, 1, "low_stock"},    {4, 5, "low_stock"},
        {5, 5, "low_stock"},    {6, 5, "available"},
        {1, 0, "available"},    {1000000, 999999, "available"},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    char body[128], *ids[8];

    for (size_t i = 0; i < n; i++) {
        snprintf(body, sizeof(body), "{\"name\":\"s%zu\",\"stock\":%d,\"minStock\":%d}", i,
                 cases[i].stock, cases[i].min);
        req(f, f->admin, "POST", body, &r, "/v1/materials");
        assert_int_equal(r.status, 201);
        assert_string_equal(bt_json_str(r.json, "/data/status"), cases[i].status);
        ids[i] = strdup(bt_json_str(r.json, "/data/id"));
        req(f, f->admin, "GET", NULL, &r, "/v1/materials/%s", ids[i]);
        assert_string_equal(bt_json_str(r.json, "/data/status"), cases[i].status);
    }
    assert_int_equal(list(f, "status=out_of_stock&sort=name", &r), 2);
    assert_string_equal(names(&r), "s0,s1");
    assert_int_equal(list(f, "status=low_stock&sort=name", &r), 3);
    assert_string_equal(names(&r), "s2,s3,s4");
    assert_int_equal(list(f, "status=available&sort=name", &r), 3);
    assert_string_equal(names(&r), "s5,s6,s7");
    list(f, "sort=name&limit=100", &r);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(
            bt_json_str(json_array_get(bt_json_at(r.json, "/data/materials"), i), "/status"),
            cases[i].status);

    /* stock moved by something else (orders.c) shows at once, totals included */
    sql(f, "UPDATE yunshui_materials SET stock = 0 WHERE id = $1", BT_ARGS(bt_text(ids[5])));
    assert_int_equal(list(f, "status=out_of_stock&sort=name", &r), 3);
    assert_string_equal(names(&r), "s0,s1,s5");
    assert_int_equal(search_total(f, "status=available"), 2);
    /* a PUT moves it back */
    req(f, f->admin, "PUT", "{\"stock\":5,\"minStock\":4}", &r, "/v1/materials/%s", ids[5]);
    assert_string_equal(bt_json_str(r.json, "/data/status"), "available");
    req(f, f->admin, "PUT", "{\"minStock\":5}", &r, "/v1/materials/%s", ids[5]);
    assert_string_equal(bt_json_str(r.json, "/data/status"), "low_stock");
    assert_int_equal(search_total(f, "status=low_stock"), 4);

    req(f, f->admin, "GET", NULL, &r, "/v1/materials?status=unknown");
    assert_invalid(&r, "status");
    req(f, f->admin, "GET", NULL, &r, "/v1/materials?status=AVAILABLE");
    assert_invalid(&r, "status");
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    bt_test_resp_release(&r);
}

static void seed_search(struct fixture *f)
{
    free(create(f, "{\"name\":\"不鏽鋼板 304\",\"category\":\"不鏽鋼\",\"specification\":\"厚度 "
                   "2mm, 尺寸 1000x2000mm\",\"price\":1500,\"stock\":50,\"minStock\":10,"
                   "\"description\":\"高品質不鏽鋼板，適用於各種工業用途\"}"));
    free(create(f, "{\"name\":\"Steel Pipe\",\"category\":\"steel\",\"specification\":\"DN50\","
                   "\"price\":300,\"stock\":5,\"minStock\":10,\"description\":\"Galvanized\"}"));
    free(create(f, "{\"name\":\"鋁板\",\"category\":\"鋁\",\"specification\":\"厚度 3mm\","
                   "\"price\":800,\"stock\":0,\"description\":\"輕量 100% 回收\"}"));
    free(create(f, "{\"name\":\"銅管\",\"category\":\"銅\",\"specification\":\"a_b\","
                   "\"price\":450,\"stock\":7}"));
    free(create(f,
                "{\"name\":\"木板\",\"category\":\"steel\",\"price\":90,\"stock\":1,\"minStock\":1,"
                "\"description\":\"含 STEEL 骨架\\\\back\"}"));
}

/* note "Materials": search over name, specification and description; case-insensitive;
 * Chinese works */
static void test_search(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};

    seed_search(f);
    assert_int_equal(list(f, "search=%E9%8B%BC", &r), 1); /* 鋼 */
    assert_string_equal(names(&r), "不鏽鋼板 304");
    assert_int_equal(list(f, "search=鋼板", &r), 1);
    assert_int_equal(list(f, "search=板&sort=name", &r), 3);
    assert_string_equal(names(&r), "不鏽鋼板 304,木板,鋁板");
    /* ASCII in any case, in the name and in the description */
    assert_int_equal(list(f, "search=steel&sort=price", &r), 2);
    assert_string_equal(names(&r), "木板,Steel Pipe");
    assert_int_equal(search_total(f, "search=STEEL"), 2);
    assert_int_equal(search_total(f, "search=sTeEl%20pIPE"), 1);
    /* specification and description */
    assert_int_equal(list(f, "search=1000X2000", &r), 1);
    assert_string_equal(names(&r), "不鏽鋼板 304");
    assert_int_equal(list(f, "search=輕量", &r), 1);
    assert_string_equal(names(&r), "鋁板");
    assert_int_equal(list(f, "search=galvanized", &r), 1);
    /* LIKE's wildcards and the escape character are plain characters */
    assert_int_equal(list(f, "search=%25", &r), 1);
    assert_string_equal(names(&r), "鋁板");
    assert_int_equal(list(f, "search=100%25", &r), 1);
    assert_int_equal(list(f, "search=_", &r), 1);
    assert_string_equal(names(&r), "銅管");
    assert_int_equal(search_total(f, "search=a_b"), 1);
    assert_int_equal(search_total(f, "search=a%25b"), 0);
    assert_int_equal(search_total(f, "search=%5C"), 1);
    assert_int_equal(search_total(f, "search=%5Cback"), 1);
    /* never across two fields */
    assert_int_equal(search_total(f, "search=304%20厚度"), 0);
    assert_int_equal(search_total(f, "search=304%1F厚度"), 0);
    /* surrounding white space is dropped; nothing left is no filter */
    assert_int_equal(search_total(f, "search=%20%20鋁板%20"), 1);
    assert_int_equal(search_total(f, "search=%20%20"), 5);
    assert_int_equal(search_total(f, "search="), 5);
    assert_int_equal(search_total(f, "search=不存在"), 0);
    list(f, "search=不存在", &r);
    bt_assert_subset(r.json, "{\"data\":{\"materials\":[],\"pagination\":{\"total\":0,"
                             "\"totalPages\":0,\"hasNext\":false,\"hasPrev\":false}}}");

    /* with the other filters, sort and order */
    assert_int_equal(list(f, "search=steel&category=steel", &r), 2);
    assert_int_equal(list(f, "search=pipe&category=steel", &r), 1);
    assert_int_equal(list(f, "category=steel&sort=price&order=desc", &r), 2);
    assert_string_equal(names(&r), "Steel Pipe,木板");
    assert_int_equal(search_total(f, "category=Steel"), 0);
    assert_int_equal(search_total(f, "category=不鏽鋼"), 1);
    assert_int_equal(search_total(f, "category="), 5);
    assert_int_equal(list(f, "search=steel&status=low_stock&sort=name", &r), 2);
    assert_string_equal(names(&r), "Steel Pipe,木板");
    assert_int_equal(list(f, "search=板&status=out_of_stock", &r), 1);
    assert_string_equal(names(&r), "鋁板");
    assert_int_equal(list(f, "search=板&sort=price&order=desc&limit=2&page=2", &r), 3);
    assert_string_equal(names(&r), "木板");
    bt_assert_subset(r.json, "{\"data\":{\"pagination\":{\"page\":2,\"limit\":2,\"total\":3,"
                             "\"totalPages\":2,\"hasNext\":false,\"hasPrev\":true}}}");

    /* limits of the query itself */
    {
        char q[1024] = "search=";
        for (int i = 0; i < 201; i++)
            strcat(q, "x");
        req(f, f->admin, "GET", NULL, &r, "/v1/materials?%s", q);
        assert_invalid(&r, "search");
        q[strlen(q) - 1] = '\0';
        assert_int_equal(search_total(f, q), 0);
    }
    bt_test_resp_release(&r);
}

/* Totals are cached per revision: every create, rename, description change and delete is
 * seen by the very next list. */
static void test_totals_follow_writes(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id, *glass;

    seed_search(f);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(search_total(f, "search=鋼"), 1);
        assert_int_equal(search_total(f, NULL), 5);
        assert_int_equal(search_total(f, "category=steel"), 2);
    }
    id = create(f, "{\"name\":\"鋼筋\",\"category\":\"steel\"}");
    assert_int_equal(search_total(f, "search=鋼"), 2);
    assert_int_equal(search_total(f, NULL), 6);
    assert_int_equal(search_total(f, "category=steel"), 3);

    req(f, f->admin, "PUT", "{\"name\":\"鐵筋\"}", &r, "/v1/materials/%s", id);
    assert_int_equal(r.status, 200);
    assert_int_equal(search_total(f, "search=鋼"), 1);
    assert_int_equal(search_total(f, "search=鐵筋"), 1);
    req(f, f->admin, "PUT", "{\"category\":\"鐵\"}", &r, "/v1/materials/%s", id);
    assert_int_equal(search_total(f, "category=steel"), 2);
    req(f, f->admin, "PUT", "{\"description\":\"含鋼\"}", &r, "/v1/materials/%s", id);
    assert_int_equal(search_total(f, "search=鋼"), 2);
    req(f, f->admin, "PUT", "{\"specification\":\"鋼 #5\",\"description\":null}", &r,
        "/v1/materials/%s", id);
    assert_int_equal(search_total(f, "search=鋼"), 2);
    assert_int_equal(search_total(f, "search=含鋼"), 0);
    assert_int_equal(search_total(f, "search=%235"), 1);

    /* a failed write changes nothing */
    req(f, f->admin, "PUT", "{\"name\":\"鋁板\",\"specification\":\"厚度 3mm\"}", &r,
        "/v1/materials/%s", id);
    assert_int_equal(r.status, 409);
    assert_int_equal(search_total(f, "search=鋁板"), 1);
    assert_int_equal(search_total(f, "search=鐵筋"), 1);

    glass = create(f, "{\"name\":\"玻璃鋼\"}");
    assert_int_equal(search_total(f, "search=鋼"), 3);
    req(f, f->admin, "DELETE", NULL, &r, "/v1/materials/%s", glass);
    assert_int_equal(r.status, 200);
    assert_int_equal(search_total(f, "search=鋼"), 2);
    req(f, f->admin, "DELETE", NULL, &r, "/v1/materials/%s", id);
    assert_int_equal(search_total(f, "search=鋼"), 1);
    assert_int_equal(search_total(f, NULL), 5);
    free(glass);
    free(id);
    bt_test_resp_release(&r);
}

/* ---- search through the index, every way to a page ---- */

#define NSEARCH 90

/* Material i of the search set: unique names and prices (a permutation of 1..90), so every
 * order is fully determined. */
static void search_material(int i, char *name, char *spec, char *desc, int *price)
{
    sprintf(name, "M%02d %s", i, i % 3 == 0 ? "鋼板" : "鋁管");
    sprintf(spec, "SPEC-%s", i % 10 == 7 ? "Rare" : "x");
    sprintf(desc, "%s", i == 42 ? "唯一無二的庫存" : "一般庫存");
    *price = (i * 37) % NSEARCH + 1;
}

static const char *search_field(int i, int k)
{
    static char name[64], spec[64], desc[64];
    int price;

    search_material(i, name, spec, desc, &price);
    return k == 0 ? name : k == 1 ? spec : desc;
}

/* The names of the materials matching term (already folded), sorted by price (desc when
 * desc), page `page` of `limit`, joined by ',' - the answer the list must give; *total
 * gets the number of matches. */
static const char *search_expect(const char *term, bool desc, int page, int limit, long long *total)
{
    static char out[2048];
    int order[NSEARCH], n = 0;
    size_t len = 0;

    for (int i = 0; i < NSEARCH; i++) {
        for (int k = 0; k < 3; k++) {
            char folded[64];
            const char *s = search_field(i, k);
            size_t j = 0;
            for (; s[j]; j++)
                folded[j] = (char)(s[j] >= 'A' && s[j] <= 'Z' ? s[j] - 'A' + 'a' : s[j]);
            folded[j] = '\0';
            if (strstr(folded, term)) {
                order[n++] = i;
                break;
            }
        }
    }
    /* by price: insertion sort of a few dozen */
    for (int a = 1; a < n; a++) {
        for (int b = a; b > 0; b--) {
            int pa, pb;
            char x[64], y[64], z[64];
            search_material(order[b - 1], x, y, z, &pa);
            search_material(order[b], x, y, z, &pb);
            if (desc ? pa >= pb : pa <= pb)
                break;
            int tmp = order[b];
            order[b] = order[b - 1];
            order[b - 1] = tmp;
        }
    }
    *total = n;
    out[0] = '\0';
    for (int r = (page - 1) * limit; r < n && r < page * limit; r++)
        len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
                                r > (page - 1) * limit ? "," : "", search_field(order[r], 0));
    return out;
}

/* Terms of 1, 2 and more characters, common and rare, CJK and ASCII in any case: totals
 * and pages as a brute force says, on pages that walk the sort index (early pages of
 * common terms), take a rare term's rows from the index, or scan (deep pages); the
 * totals again after a write. */
static void test_search_index_pages(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    static const struct {
        const char *query; /* as sent */
        const char *term;  /* folded */
    } terms[] = {
        {"%E9%8B%BC", "鋼"},                  /* 1 character, CJK: 30 */
        {"鋁", "鋁"},                         /* 60 */
        {"鋼板", "鋼板"},                     /* 2 characters */
        {"唯一", "唯一"},                     /* rare: 1 */
        {"無二的", "無二的"},                 /* 3 characters, rare */
        {"唯一無二的庫存", "唯一無二的庫存"}, /* long */
        {"rARE", "rare"},                     /* 4 characters, any case: 9 */
        {"spec-", "spec-"},                   /* every material */
        {"m4", "m4"},                         /* 10 */
        {"M4%20鋼", "m4 鋼"},                 /* 2 */
        {"2%20鋼", "2 鋼"},
        {"不存在", "不存在"}, /* none */
        {"鋼管", "鋼管"},     /* none: 鋼 and 管 are never next to each other */
        {"板SPEC", "板spec"}, /* none: across two fields */
    };
    char name[64], spec[64], desc[64], body[512];
    int price;

    for (int i = 0; i < NSEARCH; i++) {
        search_material(i, name, spec, desc, &price);
        snprintf(body, sizeof(body),
                 "{\"name\":\"%s\",\"specification\":\"%s\",\"description\":\"%s\","
                 "\"price\":%d,\"stock\":%d,\"minStock\":5}",
                 name, spec, desc, price, i % 2 ? 100 : 3);
        free(create(f, body));
    }
    for (size_t t = 0; t < sizeof(terms) / sizeof(terms[0]); t++) {
        static const int pages[][2] = {{1, 5}, {2, 5}, {3, 20}, {6, 5}, {12, 5}, {1, 100}};
        for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
            for (int desc_order = 0; desc_order < 2; desc_order++) {
                char q[256];
                long long total;
                const char *want =
                    search_expect(terms[t].term, desc_order, pages[p][0], pages[p][1], &total);
                snprintf(q, sizeof(q), "search=%s&sort=price&order=%s&page=%d&limit=%d",
                         terms[t].query, desc_order ? "desc" : "asc", pages[p][0], pages[p][1]);
                if (list(f, q, &r) != total)
                    fail_msg("%s: total %s, expected %lld", q, r.body, total);
                if (strcmp(names(&r), want))
                    fail_msg("%s:\n  got      %s\n  expected %s", q, names(&r), want);
            }
        }
    }
    /* the totals of a few, exactly */
    assert_int_equal(search_total(f, "search=鋼"), 30);
    assert_int_equal(search_total(f, "search=鋁"), 60);
    assert_int_equal(search_total(f, "search=唯一"), 1);
    assert_int_equal(search_total(f, "search=RARE"), 9);
    /* with the other filters: stock 3 of minStock 5 is low_stock (the even ones) */
    assert_int_equal(search_total(f, "search=鋼&status=low_stock"), 15);
    assert_int_equal(search_total(f, "search=唯一&status=low_stock"), 1);
    assert_int_equal(search_total(f, "search=rare&status=available"), 9);
    assert_int_equal(list(f, "search=鋁&status=low_stock&sort=name&limit=3&page=10", &r), 30);
    assert_string_equal(names(&r), "M82 鋁管,M86 鋁管,M88 鋁管");
    list(f, "search=鋁&status=low_stock&sort=name&order=desc&limit=4", &r);
    assert_string_equal(names(&r), "M88 鋁管,M86 鋁管,M82 鋁管,M80 鋁管");
    /* a write moves the totals at once */
    free(create(f, "{\"name\":\"另一個唯一\"}"));
    assert_int_equal(search_total(f, "search=唯一"), 2);
    assert_int_equal(search_total(f, "search=鋼"), 30);
    bt_test_resp_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_price_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_refused_by_foreign_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_reads_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_read_with_the_bearer_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pagination, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_totals_follow_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_index_pages, setup, teardown),
    };

    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
