/* SPDX-License-Identifier: MIT
 * test_orders_http.c - handler tier of yunshui's 訂單管理 API (document 002 "GET /orders",
 * "POST /orders", "PUT /orders/:id", "DELETE /orders/:id", "PUT /orders/:id/status"; note
 * yunshui.md "Orders" and "Roles"): the envelope, exact totals, ORD-<year>-<seq> numbers,
 * every edge of the status machine, stock taken and returned, the status history, list
 * filters and pagination, and what a USER may and may not do.
 * Each test gets a fresh database with the development admin, two USERs and materials
 * created through POST /v1/materials; the same cases run on SQLite and PostgreSQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yunshui_test.h"

struct fixture {
    struct bt_test_app *t;
    char *admin, *alice, *bob; /* tokens: ADMIN, USER, USER */
    char *steel;               /* 不鏽鋼板 304: price 1500.0000, stock 50 */
    char *pipe;                /* 銅管: price 12.3456, stock 10 */
};

static char *material_new(struct fixture *f, const char *name, const char *price, long stock)
{
    struct bt_test_resp r = {0};
    char body[512];
    char *id;

    snprintf(body, sizeof(body),
             "{\"name\":\"%s\",\"category\":\"測試\",\"unit\":\"片\",\"price\":%s,\"stock\":%ld,"
             "\"minStock\":0}",
             name, price, stock);
    bt_test_request(f->t, "POST", "/v1/materials", ys_auth(f->admin), body, &r);
    if (r.status != 201)
        fail_msg("create material %s: %d %s", name, r.status, r.body);
    id = strdup(bt_json_str(r.json, "/data/id"));
    bt_test_resp_release(&r);
    return id;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->t = ys_app();
    f->admin = ys_admin(f->t);
    f->alice = ys_make_user(f->t, f->admin, "alice", "USER");
    f->bob = ys_make_user(f->t, f->admin, "bob", "USER");
    f->steel = material_new(f, "不鏽鋼板 304", "1500.0000", 50);
    f->pipe = material_new(f, "銅管", "12.3456", 10);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    free(f->admin);
    free(f->alice);
    free(f->bob);
    free(f->steel);
    free(f->pipe);
    bt_test_app_free(f->t);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static void req(struct fixture *f, const char *token, const char *method, const char *path,
                const char *body, struct bt_test_resp *r)
{
    bt_test_request(f->t, method, path, token ? ys_auth(token) : NULL, body, r);
}

/* {"success":false,"error":{"code","message","details"}} with status and code. */
static void assert_fail(const struct bt_test_resp *r, int status, const char *code)
{
    if (r->status != status)
        fail_msg("want %d, got %d: %s", status, r->status, r->body);
    assert_non_null(r->json);
    assert_true(json_is_false(json_object_get(r->json, "success")));
    assert_string_equal(ys_code(r), code);
    assert_true(json_is_string(bt_json_at(r->json, "/error/message")));
    assert_true(json_string_length(bt_json_at(r->json, "/error/message")) > 0);
    assert_true(json_is_object(bt_json_at(r->json, "/error/details")));
    assert_null(json_object_get(r->json, "data"));
}

static void assert_ok(const struct bt_test_resp *r, int status)
{
    if (r->status != status)
        fail_msg("want %d, got %d: %s", status, r->status, r->body);
    assert_non_null(r->json);
    assert_true(json_is_true(json_object_get(r->json, "success")));
    assert_null(json_object_get(r->json, "error"));
}

/* A 422 whose details name field. */
static void assert_invalid(const struct bt_test_resp *r, const char *field)
{
    assert_fail(r, 422, "VALIDATION_ERROR");
    if (!json_object_get(bt_json_at(r->json, "/error/details"), field))
        fail_msg("details lack %s: %s", field, r->body);
}

/* POST /v1/orders with one item; returns the new order's id (malloc'd). */
static char *order_new_q(struct fixture *f, const char *token, const char *material, long qty)
{
    struct bt_test_resp r = {0};
    char body[512];
    char *id;

    snprintf(body, sizeof(body),
             "{\"customerName\":\"台灣鋼鐵公司\",\"items\":[{\"materialId\":\"%s\","
             "\"quantity\":%ld}]}",
             material, qty);
    req(f, token, "POST", "/v1/orders", body, &r);
    assert_ok(&r, 201);
    id = strdup(bt_json_str(r.json, "/data/id"));
    bt_test_resp_release(&r);
    return id;
}

static char *order_new(struct fixture *f, const char *token)
{
    return order_new_q(f, token, f->steel, 1);
}

static void set_status(struct fixture *f, const char *token, const char *id, const char *status,
                       struct bt_test_resp *r)
{
    char path[128], body[128];

    snprintf(path, sizeof(path), "/v1/orders/%s/status", id);
    snprintf(body, sizeof(body), "{\"status\":\"%s\"}", status);
    req(f, token, "PUT", path, body, r);
}

static void must_set_status(struct fixture *f, const char *id, const char *status)
{
    struct bt_test_resp r = {0};

    set_status(f, f->admin, id, status, &r);
    assert_ok(&r, 200);
    assert_string_equal(bt_json_str(r.json, "/data/status"), status);
    bt_test_resp_release(&r);
}

static long stock_of(struct fixture *f, const char *material)
{
    struct bt_db *db = bt_test_db_get(f->t);
    struct bt_err err;
    int64_t v = -1;

    bt_err_clear(&err);
    if (bt_db_query_i64(db, &v, "SELECT stock FROM yunshui_materials WHERE id = $1",
                        BT_ARGS(bt_text(material)), &err) != BT_OK)
        fail_msg("stock: %s", err.msg);
    bt_test_db_put(f->t, db);
    return (long)v;
}

static void get_order(struct fixture *f, const char *token, const char *id, struct bt_test_resp *r)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/orders/%s", id);
    req(f, token, "GET", path, NULL, r);
}

static const char *status_of(struct fixture *f, const char *id)
{
    static char buf[32];
    struct bt_test_resp r = {0};

    get_order(f, f->admin, id, &r);
    assert_ok(&r, 200);
    snprintf(buf, sizeof(buf), "%s", bt_json_str(r.json, "/data/status"));
    bt_test_resp_release(&r);
    return buf;
}

static void assert_keys(const json_t *obj, const char *const *keys, size_t n)
{
    size_t i = 0;
    const char *key;
    json_t *v;

    assert_true(json_is_object(obj));
    json_object_foreach((json_t *)(uintptr_t)obj, key, v)
    {
        (void)v;
        if (i >= n)
            fail_msg("unexpected key %s", key);
        if (strcmp(key, keys[i]) != 0)
            fail_msg("key %zu is %s, want %s", i, key, keys[i]);
        i++;
    }
    assert_int_equal(i, n);
}

static const char *const order_keys[] = {
    "id",     "orderNumber",  "customerName", "customerPhone", "customerEmail", "customerAddress",
    "status", "totalAmount",  "notes",        "createdBy",     "createdAt",     "updatedAt",
    "items",  "statusHistory"};
static const char *const item_keys[] = {"id",       "materialId", "materialName",
                                        "quantity", "unitPrice",  "subtotal"};

/* tmpl with every "@M" replaced by id */
static void subst(char *out, size_t n, const char *tmpl, const char *id)
{
    size_t o = 0, idn = strlen(id);

    for (const char *p = tmpl; *p && o + 1 < n; p++) {
        if (p[0] == '@' && p[1] == 'M' && o + idn + 1 < n) {
            memcpy(out + o, id, idn);
            o += idn;
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

static void current_year(char out[5])
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(out, 5, "%Y", &tm);
}

/* ---- POST /orders ---- */

/* the document's example: 30 × 1500.0000 = 45000, every field in the document's order */
static void test_create_document_example(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char body[1024], number[32], year[5];
    json_t *d, *item;

    snprintf(body, sizeof(body),
             "{\"customerName\":\"台灣鋼鐵公司\",\"customerPhone\":\"02-1234-5678\","
             "\"customerEmail\":\"contact@steel.com.tw\","
             "\"customerAddress\":\"台北市信義區信義路五段7號\",\"notes\":\"急件，請優先處理\","
             "\"items\":[{\"materialId\":\"%s\",\"quantity\":30,\"unitPrice\":1500.0000}]}",
             f->steel);
    req(f, f->admin, "POST", "/v1/orders", body, &r);
    assert_ok(&r, 201);
    d = json_object_get(r.json, "data");
    assert_keys(d, order_keys, sizeof(order_keys) / sizeof(order_keys[0]));
    current_year(year);
    snprintf(number, sizeof(number), "ORD-%s-001", year);
    bt_assert_subset(d, "{\"customerName\":\"台灣鋼鐵公司\",\"customerPhone\":\"02-1234-5678\","
                        "\"customerEmail\":\"contact@steel.com.tw\","
                        "\"customerAddress\":\"台北市信義區信義路五段7號\","
                        "\"status\":\"PENDING\",\"totalAmount\":45000,"
                        "\"notes\":\"急件，請優先處理\"}");
    assert_string_equal(bt_json_str(d, "/orderNumber"), number);
    assert_int_equal(strlen(bt_json_str(d, "/id")), 36);
    assert_int_equal(strlen(bt_json_str(d, "/createdAt")), 24);
    assert_string_equal(bt_json_str(d, "/createdAt"), bt_json_str(d, "/updatedAt"));
    assert_non_null(strstr(r.body, "\"totalAmount\":45000,"));
    assert_int_equal(json_array_size(json_object_get(d, "items")), 1);
    item = bt_json_at(d, "/items/0");
    assert_keys(item, item_keys, sizeof(item_keys) / sizeof(item_keys[0]));
    assert_string_equal(bt_json_str(item, "/materialId"), f->steel);
    bt_assert_subset(item, "{\"materialName\":\"不鏽鋼板 304\",\"quantity\":30,"
                           "\"unitPrice\":1500,\"subtotal\":45000}");
    assert_non_null(strstr(r.body, "\"unitPrice\":1500,\"subtotal\":45000}"));
    /* creation is the first history entry */
    bt_assert_subset(d, "{\"statusHistory\":[{\"fromStatus\":null,\"toStatus\":\"PENDING\"}]}");
    assert_int_equal(json_array_size(json_object_get(d, "statusHistory")), 1);
    /* creating does not touch stock */
    assert_int_equal(stock_of(f, f->steel), 50);
    bt_test_resp_release(&r);
}

/* unitPrice defaults to the material's price; decimals stay exact */
static void test_create_exact_decimals(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char body[1024];

    snprintf(body, sizeof(body),
             "{\"customerName\":\"A\",\"items\":[{\"materialId\":\"%s\",\"quantity\":3},"
             "{\"materialId\":\"%s\",\"quantity\":3,\"unitPrice\":0.1},"
             "{\"materialId\":\"%s\",\"quantity\":7,\"unitPrice\":0.0001},"
             "{\"materialId\":\"%s\",\"quantity\":2,\"unitPrice\":null}]}",
             f->pipe, f->steel, f->steel, f->pipe);
    req(f, f->admin, "POST", "/v1/orders", body, &r);
    assert_ok(&r, 201);
    /* 37.0368 + 0.3 + 0.0007 + 24.6912 = 62.0287 */
    bt_assert_subset(r.json,
                     "{\"data\":{\"totalAmount\":62.0287,\"items\":["
                     "{\"materialName\":\"銅管\",\"unitPrice\":12.3456,\"subtotal\":37.0368},"
                     "{\"unitPrice\":0.1,\"subtotal\":0.3},"
                     "{\"unitPrice\":0.0001,\"subtotal\":0.0007},"
                     "{\"unitPrice\":12.3456,\"subtotal\":24.6912}]}}");
    assert_non_null(strstr(r.body, "\"subtotal\":0.3}"));
    assert_non_null(strstr(r.body, "\"totalAmount\":62.0287,"));
    /* a price of 0 is allowed */
    snprintf(body, sizeof(body),
             "{\"customerName\":\"A\",\"items\":[{\"materialId\":\"%s\",\"quantity\":5,"
             "\"unitPrice\":0}]}",
             f->steel);
    req(f, f->admin, "POST", "/v1/orders", body, &r);
    assert_ok(&r, 201);
    bt_assert_subset(r.json, "{\"data\":{\"totalAmount\":0,\"items\":[{\"subtotal\":0}]}}");
    bt_test_resp_release(&r);
}

/* totals up to 10^10 are accepted exactly; above that 422, never an overflow */
static void test_create_total_limit(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char body[1024];

    snprintf(body, sizeof(body),
             "{\"customerName\":\"A\",\"items\":[{\"materialId\":\"%s\",\"quantity\":1000000,"
             "\"unitPrice\":10000}]}",
             f->steel);
    req(f, f->admin, "POST", "/v1/orders", body, &r);
    assert_ok(&r, 201);
    assert_non_null(strstr(r.body, "\"totalAmount\":10000000000,"));

    snprintf(body, sizeof(body),
             "{\"customerName\":\"A\",\"items\":[{\"materialId\":\"%s\",\"quantity\":1000000,"
             "\"unitPrice\":10000.0001}]}",
             f->steel);
    req(f, f->admin, "POST", "/v1/orders", body, &r);
    assert_invalid(&r, "totalAmount");

    /* the largest product (10^6 × 10^10) would overflow 64 bits in 1/10000 units */
    snprintf(body, sizeof(body),
             "{\"customerName\":\"A\",\"items\":[{\"materialId\":\"%s\",\"quantity\":1000000,"
             "\"unitPrice\":10000000000}]}",
             f->steel);
    req(f, f->admin, "POST", "/v1/orders", body, &r);
    assert_invalid(&r, "totalAmount");

    /* two items each under the cap whose sum is over it */
    snprintf(body, sizeof(body),
             "{\"customerName\":\"A\",\"items\":[{\"materialId\":\"%s\",\"quantity\":1,"
             "\"unitPrice\":6000000000},{\"materialId\":\"%s\",\"quantity\":1,"
             "\"unitPrice\":6000000000}]}",
             f->steel, f->steel);
    req(f, f->admin, "POST", "/v1/orders", body, &r);
    assert_invalid(&r, "totalAmount");
    bt_test_resp_release(&r);
}

/* ORD-<year>-<seq>: 001, 002, ... and a number never comes back after a delete */
static void test_create_numbering(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char year[5], want[32];
    char *ids[3];

    current_year(year);
    for (int i = 0; i < 3; i++) {
        ids[i] = order_new(f, i == 1 ? f->alice : f->admin);
        get_order(f, f->admin, ids[i], &r);
        snprintf(want, sizeof(want), "ORD-%s-%03d", year, i + 1);
        assert_string_equal(bt_json_str(r.json, "/data/orderNumber"), want);
    }
    {
        char path[128];
        snprintf(path, sizeof(path), "/v1/orders/%s", ids[2]);
        req(f, f->admin, "DELETE", path, NULL, &r);
        assert_ok(&r, 200);
    }
    free(order_new(f, f->admin));
    req(f, f->admin, "GET", "/v1/orders?limit=1", NULL, &r);
    snprintf(want, sizeof(want), "ORD-%s-004", year);
    assert_string_equal(bt_json_str(r.json, "/data/orders/0/orderNumber"), want);
    for (int i = 0; i < 3; i++)
        free(ids[i]);
    bt_test_resp_release(&r);
}

/* a failed create gives its number back: numbers stay gap-free */
static void test_create_failure_keeps_numbers(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char year[5], want[32];

    current_year(year);
    req(f, f->admin, "POST", "/v1/orders",
        "{\"customerName\":\"A\",\"items\":[{\"materialId\":\"nope\",\"quantity\":1}]}", &r);
    assert_invalid(&r, "items[0].materialId");
    free(order_new(f, f->admin));
    req(f, f->admin, "GET", "/v1/orders", NULL, &r);
    snprintf(want, sizeof(want), "ORD-%s-001", year);
    assert_string_equal(bt_json_str(r.json, "/data/orders/0/orderNumber"), want);
    bt_test_resp_release(&r);
}

static void test_create_validation(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char body[4096], name101[400], notes[2100];
    static const struct {
        const char *items; /* @M = a material id */
        const char *field;
    } bad_items[] = {
        {"[]", "items"},
        {"[{\"quantity\":1}]", "items[0].materialId"},
        {"[{\"materialId\":\"\",\"quantity\":1}]", "items[0].materialId"},
        {"[{\"materialId\":\"@M\"}]", "items[0].quantity"},
        {"[{\"materialId\":\"@M\",\"quantity\":0}]", "items[0].quantity"},
        {"[{\"materialId\":\"@M\",\"quantity\":-3}]", "items[0].quantity"},
        {"[{\"materialId\":\"@M\",\"quantity\":1000001}]", "items[0].quantity"},
        {"[{\"materialId\":\"@M\",\"quantity\":1.5}]", "items[0].quantity"},
        {"[{\"materialId\":\"@M\",\"quantity\":\"3\"}]", "items[0].quantity"},
        {"[{\"materialId\":\"@M\",\"quantity\":1,\"unitPrice\":1.23456}]", "items[0].unitPrice"},
        {"[{\"materialId\":\"@M\",\"quantity\":1,\"unitPrice\":-1}]", "items[0].unitPrice"},
        {"[{\"materialId\":\"@M\",\"quantity\":1,\"unitPrice\":\"15\"}]", "items[0].unitPrice"},
        {"[{\"materialId\":\"@M\",\"quantity\":1,\"unitPrice\":10000000001}]",
         "items[0].unitPrice"},
        {"[{\"materialId\":\"@M\",\"quantity\":1},{\"materialId\":\"@M\",\"quantity\":1,"
         "\"unitPrice\":0.00001}]",
         "items[1].unitPrice"},
        {"[1]", "items[0]"},
        {"{}", "items"},
    };

    for (size_t i = 0; i < sizeof(bad_items) / sizeof(bad_items[0]); i++) {
        char items[512];
        subst(items, sizeof(items), bad_items[i].items, f->steel);
        snprintf(body, sizeof(body), "{\"customerName\":\"A\",\"items\":%s}", items);
        req(f, f->admin, "POST", "/v1/orders", body, &r);
        assert_invalid(&r, bad_items[i].field);
    }

    /* 101 items */
    {
        size_t o = (size_t)snprintf(body, sizeof(body), "{\"customerName\":\"A\",\"items\":[");
        for (int i = 0; i < 101; i++)
            o += (size_t)snprintf(body + o, sizeof(body) - o,
                                  "%s{\"materialId\":\"m\",\"quantity\":1}", i ? "," : "");
        snprintf(body + o, sizeof(body) - o, "]}");
        req(f, f->admin, "POST", "/v1/orders", body, &r);
        assert_invalid(&r, "items");
    }

    /* customer fields */
    memset(name101, 0, sizeof(name101));
    for (int i = 0; i < 101; i++)
        strcat(name101, "名");
    memset(notes, 'n', 2001);
    notes[2001] = '\0';
    {
        const char *cases[][2] = {
            {"\"customerPhone\":\"1\"", "customerName"},
            {"\"customerName\":\"   \"", "customerName"},
            {"\"customerName\":null", "customerName"},
            {"\"customerName\":5", "customerName"},
            {"\"customerName\":\"A\",\"customerEmail\":\"not-an-email\"", "customerEmail"},
            {"\"customerName\":\"A\",\"customerEmail\":\"a@b\"", "customerEmail"},
            {"\"customerName\":\"A\",\"customerEmail\":\"a b@c.com\"", "customerEmail"},
            {"\"customerName\":\"A\",\"customerEmail\":\"a@@c.com\"", "customerEmail"},
            {"\"customerName\":\"A\",\"customerEmail\":\"a@-c.com\"", "customerEmail"},
            {"\"customerName\":\"A\",\"customerPhone\":"
             "\"012345678901234567890123456789012345678901234567890\"",
             "customerPhone"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            snprintf(body, sizeof(body), "{%s,\"items\":[{\"materialId\":\"%s\",\"quantity\":1}]}",
                     cases[i][0], f->steel);
            req(f, f->admin, "POST", "/v1/orders", body, &r);
            assert_invalid(&r, cases[i][1]);
        }
    }
    snprintf(body, sizeof(body),
             "{\"customerName\":\"%s\",\"items\":[{\"materialId\":\"%s\",\"quantity\":1}]}",
             name101, f->steel);
    req(f, f->admin, "POST", "/v1/orders", body, &r);
    assert_invalid(&r, "customerName");
    snprintf(body, sizeof(body),
             "{\"customerName\":\"A\",\"notes\":\"%s\",\"items\":[{\"materialId\":\"%s\","
             "\"quantity\":1}]}",
             notes, f->steel);
    req(f, f->admin, "POST", "/v1/orders", body, &r);
    assert_invalid(&r, "notes");
    /* every bad field at once */
    req(f, f->admin, "POST", "/v1/orders", "{\"customerEmail\":3,\"items\":[]}", &r);
    assert_invalid(&r, "customerName");
    assert_invalid(&r, "customerEmail");
    assert_invalid(&r, "items");

    /* 100 characters, 2000 notes and 100 items are fine; an empty e-mail means none */
    name101[strlen(name101) - strlen("名")] = '\0';
    notes[2000] = '\0';
    {
        size_t o = (size_t)snprintf(
            body, sizeof(body),
            "{\"customerName\":\"%s\",\"customerEmail\":\"\",\"notes\":\"%s\",\"items\":[", name101,
            notes);
        char *big = malloc(o + 100 * 80 + 8);
        assert_non_null(big);
        memcpy(big, body, o);
        for (int i = 0; i < 100; i++)
            o += (size_t)sprintf(big + o, "%s{\"materialId\":\"%s\",\"quantity\":1}", i ? "," : "",
                                 f->pipe);
        strcpy(big + o, "]}");
        req(f, f->admin, "POST", "/v1/orders", big, &r);
        assert_ok(&r, 201);
        assert_true(json_is_null(bt_json_at(r.json, "/data/customerEmail")));
        assert_int_equal(json_array_size(bt_json_at(r.json, "/data/items")), 100);
        /* 100 × 12.3456 */
        assert_non_null(strstr(r.body, "\"totalAmount\":1234.56,"));
        free(big);
    }
    bt_test_resp_release(&r);
}

/* an unknown material is 422 naming each bad item */
static void test_create_unknown_material(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char body[512];

    snprintf(body, sizeof(body),
             "{\"customerName\":\"A\",\"items\":[{\"materialId\":\"%s\",\"quantity\":1},"
             "{\"materialId\":\"00000000-0000-4000-8000-000000000000\",\"quantity\":1},"
             "{\"materialId\":\"x'; DROP TABLE yunshui_orders; --\",\"quantity\":1}]}",
             f->steel);
    req(f, f->admin, "POST", "/v1/orders", body, &r);
    assert_invalid(&r, "items[1].materialId");
    assert_invalid(&r, "items[2].materialId");
    assert_null(json_object_get(bt_json_at(r.json, "/error/details"), "items[0].materialId"));
    req(f, f->admin, "GET", "/v1/orders", NULL, &r);
    assert_ok(&r, 200);
    assert_int_equal(bt_json_int(r.json, "/data/pagination/total", -1), 0);
    bt_test_resp_release(&r);
}

static void test_create_bad_requests(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    const char *const bad_token[] = {"Authorization: Bearer x", NULL};
    char auth[2048];
    const char *hdrs[3];

    req(f, NULL, "POST", "/v1/orders", "{\"customerName\":\"A\"}", &r);
    assert_fail(&r, 401, "INVALID_CREDENTIALS");
    bt_test_request(f->t, "POST", "/v1/orders", bad_token, "{}", &r);
    assert_fail(&r, 401, "INVALID_CREDENTIALS");
    req(f, f->admin, "POST", "/v1/orders", "{\"customerName\":", &r);
    assert_fail(&r, 400, "VALIDATION_ERROR");
    req(f, f->admin, "POST", "/v1/orders", "[1,2]", &r);
    assert_fail(&r, 422, "VALIDATION_ERROR");
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", f->admin);
    hdrs[0] = auth;
    hdrs[1] = "Content-Type: text/plain";
    hdrs[2] = NULL;
    bt_test_request(f->t, "POST", "/v1/orders", hdrs, "{\"customerName\":\"A\"}", &r);
    assert_fail(&r, 400, "VALIDATION_ERROR");
    req(f, f->admin, "PATCH", "/v1/orders", "{}", &r);
    assert_fail(&r, 405, "METHOD_NOT_ALLOWED");
    bt_test_resp_release(&r);
}

/* ---- GET /orders/:id ---- */

static void test_get(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id = order_new(f, f->admin);

    get_order(f, f->admin, id, &r);
    assert_ok(&r, 200);
    assert_keys(json_object_get(r.json, "data"), order_keys,
                sizeof(order_keys) / sizeof(order_keys[0]));
    assert_string_equal(bt_json_str(r.json, "/data/id"), id);
    assert_non_null(strstr(r.body, "\"totalAmount\":1500,"));
    get_order(f, f->alice, id, &r); /* a USER reads every order */
    assert_ok(&r, 200);
    get_order(f, f->admin, "00000000-0000-4000-8000-000000000000", &r);
    assert_fail(&r, 404, "RESOURCE_NOT_FOUND");
    get_order(f, f->admin, "%27%20OR%201%3D1", &r);
    assert_fail(&r, 404, "RESOURCE_NOT_FOUND");
    get_order(f, NULL, id, &r);
    assert_fail(&r, 401, "INVALID_CREDENTIALS");
    free(id);
    bt_test_resp_release(&r);
}

/* ---- GET /orders ---- */

static void list(struct fixture *f, const char *token, const char *query, struct bt_test_resp *r)
{
    char path[512];

    snprintf(path, sizeof(path), "/v1/orders%s", query);
    req(f, token, "GET", path, NULL, r);
    assert_ok(r, 200);
}

static long list_total(struct fixture *f, const char *query)
{
    struct bt_test_resp r = {0};
    long n;

    list(f, f->admin, query, &r);
    n = (long)bt_json_int(r.json, "/data/pagination/total", -1);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/orders")), n < 20 ? (size_t)n : 20);
    bt_test_resp_release(&r);
    return n;
}

static void test_list(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char body[512], year[5], q[256];
    char *ids[5];
    json_t *first;

    current_year(year);
    list(f, f->admin, "", &r);
    bt_assert_subset(r.json, "{\"data\":{\"orders\":[],\"pagination\":{\"page\":1,\"limit\":20,"
                             "\"total\":0,\"totalPages\":0,\"hasNext\":false,\"hasPrev\":false}}}");
    static const char *const customers[5][3] = {
        {"台灣鋼鐵公司", "02-1234-5678", "contact@steel.com.tw"},
        {"Acme Corp", "03-555-0000", "Buyer@Acme.example"},
        {"新客戶公司", NULL, "new@customer.com"},
        {"100% Pure_Co", "0912-345-678", NULL},
        {"北部建材行", "04-2222-3333", "north@build.tw"},
    };
    for (int i = 0; i < 5; i++) {
        char phone[64] = "null", email[96] = "null";
        if (customers[i][1])
            snprintf(phone, sizeof(phone), "\"%s\"", customers[i][1]);
        if (customers[i][2])
            snprintf(email, sizeof(email), "\"%s\"", customers[i][2]);
        snprintf(body, sizeof(body),
                 "{\"customerName\":\"%s\",\"customerPhone\":%s,\"customerEmail\":%s,"
                 "\"items\":[{\"materialId\":\"%s\",\"quantity\":%d},{\"materialId\":\"%s\","
                 "\"quantity\":1}]}",
                 customers[i][0], phone, email, f->steel, i + 1, f->pipe);
        req(f, i == 2 ? f->alice : f->admin, "POST", "/v1/orders", body, &r);
        assert_ok(&r, 201);
        ids[i] = strdup(bt_json_str(r.json, "/data/id"));
    }
    must_set_status(f, ids[1], "PROCESSING");
    must_set_status(f, ids[4], "CANCELLED");

    /* newest first, with items, without the history */
    list(f, f->admin, "", &r);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/orders")), 5);
    first = bt_json_at(r.json, "/data/orders/0");
    assert_keys(first, order_keys, sizeof(order_keys) / sizeof(order_keys[0]) - 1);
    snprintf(q, sizeof(q), "ORD-%s-005", year);
    assert_string_equal(bt_json_str(first, "/orderNumber"), q);
    assert_int_equal(json_array_size(json_object_get(first, "items")), 2);
    assert_keys(bt_json_at(first, "/items/0"), item_keys, sizeof(item_keys) / sizeof(item_keys[0]));
    bt_assert_subset(first, "{\"totalAmount\":7512.3456,\"items\":[{\"quantity\":5,"
                            "\"subtotal\":7500},{\"quantity\":1,\"subtotal\":12.3456}]}");
    snprintf(q, sizeof(q), "ORD-%s-001", year);
    assert_string_equal(bt_json_str(r.json, "/data/orders/4/orderNumber"), q);
    bt_assert_subset(r.json, "{\"data\":{\"pagination\":{\"page\":1,\"limit\":20,\"total\":5,"
                             "\"totalPages\":1,\"hasNext\":false,\"hasPrev\":false}}}");

    /* pages */
    list(f, f->admin, "?page=2&limit=2", &r);
    bt_assert_subset(r.json, "{\"data\":{\"pagination\":{\"page\":2,\"limit\":2,\"total\":5,"
                             "\"totalPages\":3,\"hasNext\":true,\"hasPrev\":true}}}");
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/orders")), 2);
    snprintf(q, sizeof(q), "ORD-%s-003", year);
    assert_string_equal(bt_json_str(r.json, "/data/orders/0/orderNumber"), q);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/orders/1/items")), 2);
    list(f, f->admin, "?page=3&limit=2", &r);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/orders")), 1);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/orders/0/items")), 2);
    list(f, f->admin, "?page=9&limit=2", &r);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/orders")), 0);

    /* search: number, name, phone, e-mail; case-insensitive; LIKE characters are literal */
    snprintf(q, sizeof(q), "?search=ord-%s-002", year);
    assert_int_equal(list_total(f, q), 1);
    assert_int_equal(list_total(f, "?search=%E9%8B%BC%E9%90%B5"), 1); /* 鋼鐵 */
    assert_int_equal(list_total(f, "?search=acme"), 1);
    assert_int_equal(list_total(f, "?search=0912-345"), 1);
    assert_int_equal(list_total(f, "?search=BUYER%40acme"), 1);
    assert_int_equal(list_total(f, "?search=.tw"), 2);
    assert_int_equal(list_total(f, "?search=100%25"), 1);
    assert_int_equal(list_total(f, "?search=%25"), 1);
    assert_int_equal(list_total(f, "?search=_"), 1);
    assert_int_equal(list_total(f, "?search=nothing-like-this"), 0);
    assert_int_equal(list_total(f, "?search=ORD-"), 5);

    /* status */
    assert_int_equal(list_total(f, "?status=PENDING"), 3);
    assert_int_equal(list_total(f, "?status=PROCESSING"), 1);
    assert_int_equal(list_total(f, "?status=CANCELLED"), 1);
    assert_int_equal(list_total(f, "?status=COMPLETED"), 0);
    assert_int_equal(list_total(f, "?status=PENDING&search=acme"), 0);

    /* a USER lists every order */
    list(f, f->alice, "", &r);
    assert_int_equal(bt_json_int(r.json, "/data/pagination/total", -1), 5);

    /* bad queries */
    static const char *const bad[][2] = {
        {"?limit=0", "limit"},
        {"?limit=101", "limit"},
        {"?limit=x", "limit"},
        {"?page=0", "page"},
        {"?page=-1", "page"},
        {"?status=pending", "status"},
        {"?status=DONE", "status"},
        {"?dateFrom=yesterday", "dateFrom"},
        {"?dateTo=2024-13-01", "dateTo"},
        {"?dateFrom=2024-02-30", "dateFrom"},
        {"?dateTo=2024-01-01T25:00:00Z", "dateTo"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(q, sizeof(q), "/v1/orders%s", bad[i][0]);
        req(f, f->admin, "GET", q, NULL, &r);
        assert_invalid(&r, bad[i][1]);
    }
    list(f, f->admin, "?limit=100", &r);
    for (int i = 0; i < 5; i++)
        free(ids[i]);
    bt_test_resp_release(&r);
}

/* dateFrom / dateTo: inclusive on createdAt; a bare dateTo is the whole day */
static void test_list_dates(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char q[256], today[16], created[32], later[40];
    char *id = order_new(f, f->admin);
    time_t now = time(NULL);
    struct tm tm;
    char tomorrow[16], yesterday[16];

    get_order(f, f->admin, id, &r);
    snprintf(created, sizeof(created), "%s", bt_json_str(r.json, "/data/createdAt"));
    memcpy(today, created, 10);
    today[10] = '\0';
    now = timegm(&(struct tm){
        .tm_year = atoi(today) - 1900, .tm_mon = atoi(today + 5) - 1, .tm_mday = atoi(today + 8)});
    {
        time_t t = now + 86400;
        gmtime_r(&t, &tm);
        strftime(tomorrow, sizeof(tomorrow), "%Y-%m-%d", &tm);
        t = now - 86400;
        gmtime_r(&t, &tm);
        strftime(yesterday, sizeof(yesterday), "%Y-%m-%d", &tm);
    }

    snprintf(q, sizeof(q), "?dateFrom=%s&dateTo=%s", today, today);
    assert_int_equal(list_total(f, q), 1);
    snprintf(q, sizeof(q), "?dateTo=%s", today);
    assert_int_equal(list_total(f, q), 1);
    snprintf(q, sizeof(q), "?dateFrom=%s", tomorrow);
    assert_int_equal(list_total(f, q), 0);
    snprintf(q, sizeof(q), "?dateTo=%s", yesterday);
    assert_int_equal(list_total(f, q), 0);
    snprintf(q, sizeof(q), "?dateFrom=%s", yesterday);
    assert_int_equal(list_total(f, q), 1);
    /* date-times, inclusive at both ends, to the millisecond */
    snprintf(q, sizeof(q), "?dateFrom=%s&dateTo=%s", created, created);
    assert_int_equal(list_total(f, q), 1);
    snprintf(later, sizeof(later), "%s", created);
    snprintf(later + 19, sizeof(later) - 19, ".999Z");
    snprintf(q, sizeof(q), "?dateFrom=%sT00:00:00Z&dateTo=%s", today, later);
    assert_int_equal(list_total(f, q), 1);
    /* an offset is honoured (+ must be %2B in a query): the same instant at +08:00 */
    {
        int64_t us;
        char local[40];
        time_t t;
        assert_int_equal(bt_time_parse(created, &us), 0);
        for (int k = 0; k < 2; k++) {
            int64_t at = us - k * 1000; /* k = 1: a millisecond before the creation */
            t = (time_t)(at / 1000000) + 8 * 3600;
            gmtime_r(&t, &tm);
            strftime(local, sizeof(local), "%Y-%m-%dT%H:%M:%S", &tm);
            snprintf(q, sizeof(q), "?dateFrom=%s.%03d%%2B08:00", local, (int)(at % 1000000 / 1000));
            assert_int_equal(list_total(f, q), 1);
            snprintf(q, sizeof(q), "?dateTo=%s.%03d%%2B08:00", local, (int)(at % 1000000 / 1000));
            assert_int_equal(list_total(f, q), k == 0 ? 1 : 0);
        }
    }
    snprintf(q, sizeof(q), "?dateTo=%sT00:00:00%%2B01:00", today);
    assert_int_equal(list_total(f, q), 0);
    /* a far future bound is fine */
    assert_int_equal(list_total(f, "?dateTo=9999-12-31"), 1);
    assert_int_equal(list_total(f, "?dateFrom=0001-01-01"), 1);
    /* from after to */
    snprintf(q, sizeof(q), "/v1/orders?dateFrom=%s&dateTo=%s", tomorrow, today);
    req(f, f->admin, "GET", q, NULL, &r);
    assert_invalid(&r, "dateTo");
    free(id);
    bt_test_resp_release(&r);
}

/* ---- PUT /orders/:id ---- */

static void update(struct fixture *f, const char *token, const char *id, const char *body,
                   struct bt_test_resp *r)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/orders/%s", id);
    req(f, token, "PUT", path, body, r);
}

static void test_update(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char body[1024], number[32], created[32];
    char *id = order_new_q(f, f->admin, f->steel, 30);
    json_t *d;

    get_order(f, f->admin, id, &r);
    snprintf(number, sizeof(number), "%s", bt_json_str(r.json, "/data/orderNumber"));
    snprintf(created, sizeof(created), "%s", bt_json_str(r.json, "/data/createdAt"));

    /* customer fields only: the items stay */
    update(f, f->admin, id,
           "{\"customerName\":\"改名公司\",\"customerPhone\":\"02-0000-0000\","
           "\"customerEmail\":\"a@b.co\",\"customerAddress\":\"新北市\",\"notes\":\"改\","
           "\"status\":\"COMPLETED\",\"orderNumber\":\"ORD-1999-999\",\"totalAmount\":1}",
           &r);
    assert_ok(&r, 200);
    d = json_object_get(r.json, "data");
    assert_keys(d, order_keys, sizeof(order_keys) / sizeof(order_keys[0]));
    bt_assert_subset(d, "{\"customerName\":\"改名公司\",\"customerPhone\":\"02-0000-0000\","
                        "\"customerEmail\":\"a@b.co\",\"customerAddress\":\"新北市\","
                        "\"notes\":\"改\",\"status\":\"PENDING\",\"totalAmount\":45000,"
                        "\"items\":[{\"quantity\":30}]}");
    assert_string_equal(bt_json_str(d, "/orderNumber"), number);
    assert_string_equal(bt_json_str(d, "/createdAt"), created);
    assert_true(strcmp(bt_json_str(d, "/updatedAt"), created) >= 0);

    /* items replace all; totals recomputed */
    snprintf(body, sizeof(body),
             "{\"items\":[{\"materialId\":\"%s\",\"quantity\":2},{\"materialId\":\"%s\","
             "\"quantity\":1,\"unitPrice\":99.5}]}",
             f->pipe, f->steel);
    update(f, f->admin, id, body, &r);
    assert_ok(&r, 200);
    bt_assert_subset(r.json, "{\"data\":{\"customerName\":\"改名公司\",\"totalAmount\":124.1912,"
                             "\"items\":[{\"materialName\":\"銅管\",\"quantity\":2,"
                             "\"subtotal\":24.6912},{\"materialName\":\"不鏽鋼板 304\","
                             "\"unitPrice\":99.5,\"subtotal\":99.5}]}}");
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/items")), 2);

    /* nullable fields clear; an empty body changes nothing but the time */
    update(f, f->admin, id, "{\"customerPhone\":null,\"customerEmail\":\"\",\"notes\":null}", &r);
    assert_ok(&r, 200);
    assert_true(json_is_null(bt_json_at(r.json, "/data/customerPhone")));
    assert_true(json_is_null(bt_json_at(r.json, "/data/customerEmail")));
    assert_true(json_is_null(bt_json_at(r.json, "/data/notes")));
    update(f, f->admin, id, "{}", &r);
    assert_ok(&r, 200);
    assert_string_equal(bt_json_str(r.json, "/data/customerName"), "改名公司");
    /* history has only the creation: edits are not status changes */
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/statusHistory")), 1);

    /* validation: the same rules as create */
    update(f, f->admin, id, "{\"customerName\":null}", &r);
    assert_invalid(&r, "customerName");
    update(f, f->admin, id, "{\"customerName\":\"\"}", &r);
    assert_invalid(&r, "customerName");
    update(f, f->admin, id, "{\"items\":[]}", &r);
    assert_invalid(&r, "items");
    update(f, f->admin, id, "{\"customerEmail\":\"bad\"}", &r);
    assert_invalid(&r, "customerEmail");
    update(f, f->admin, id, "{\"items\":[{\"materialId\":\"missing\",\"quantity\":1}]}", &r);
    assert_invalid(&r, "items[0].materialId");
    snprintf(body, sizeof(body),
             "{\"items\":[{\"materialId\":\"%s\",\"quantity\":1,\"unitPrice\":0.12345}]}",
             f->steel);
    update(f, f->admin, id, body, &r);
    assert_invalid(&r, "items[0].unitPrice");
    /* nothing of the failed edits stuck */
    get_order(f, f->admin, id, &r);
    bt_assert_subset(r.json, "{\"data\":{\"totalAmount\":124.1912}}");
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/items")), 2);

    update(f, f->admin, "00000000-0000-4000-8000-000000000000", "{\"notes\":\"x\"}", &r);
    assert_fail(&r, 404, "RESOURCE_NOT_FOUND");

    /* only PENDING: 409 afterwards */
    must_set_status(f, id, "PROCESSING");
    update(f, f->admin, id, "{\"notes\":\"late\"}", &r);
    assert_fail(&r, 409, "ORDER_STATE_CONFLICT");
    bt_assert_subset(r.json, "{\"error\":{\"details\":{\"status\":\"PROCESSING\","
                             "\"requiredStatus\":[\"PENDING\"]}}}");
    must_set_status(f, id, "COMPLETED");
    update(f, f->admin, id, "{\"notes\":\"late\"}", &r);
    assert_fail(&r, 409, "ORDER_STATE_CONFLICT");
    free(id);
    id = order_new(f, f->admin);
    must_set_status(f, id, "CANCELLED");
    update(f, f->admin, id, "{\"notes\":\"late\"}", &r);
    assert_fail(&r, 409, "ORDER_STATE_CONFLICT");
    free(id);
    bt_test_resp_release(&r);
}

/* ---- DELETE /orders/:id ---- */

static void test_delete(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char path[128];
    const char *states[] = {"PENDING", "PROCESSING", "COMPLETED", "CANCELLED"};

    for (int i = 0; i < 4; i++) {
        char *id = order_new(f, f->alice);
        if (i == 1 || i == 2)
            must_set_status(f, id, "PROCESSING");
        if (i == 2)
            must_set_status(f, id, "COMPLETED");
        if (i == 3)
            must_set_status(f, id, "CANCELLED");
        assert_string_equal(status_of(f, id), states[i]);
        snprintf(path, sizeof(path), "/v1/orders/%s", id);
        /* a USER may not delete, not even its own order */
        req(f, f->alice, "DELETE", path, NULL, &r);
        assert_fail(&r, 403, "INSUFFICIENT_PERMISSIONS");
        req(f, f->admin, "DELETE", path, NULL, &r);
        if (i == 0 || i == 3) {
            assert_ok(&r, 200);
            bt_assert_subset(r.json, "{\"success\":true,\"message\":\"訂單已成功刪除\"}");
            get_order(f, f->admin, id, &r);
            assert_fail(&r, 404, "RESOURCE_NOT_FOUND");
            req(f, f->admin, "DELETE", path, NULL, &r);
            assert_fail(&r, 404, "RESOURCE_NOT_FOUND");
        } else {
            assert_fail(&r, 409, "ORDER_STATE_CONFLICT");
            bt_assert_subset(r.json, "{\"error\":{\"details\":{\"requiredStatus\":[\"PENDING\","
                                     "\"CANCELLED\"]}}}");
            assert_string_equal(status_of(f, id), states[i]);
        }
        free(id);
    }
    /* stock taken by the PROCESSING and COMPLETED orders stays taken */
    assert_int_equal(stock_of(f, f->steel), 48);
    req(f, f->admin, "DELETE", "/v1/orders/nope", NULL, &r);
    assert_fail(&r, 404, "RESOURCE_NOT_FOUND");
    req(f, NULL, "DELETE", "/v1/orders/nope", NULL, &r);
    assert_fail(&r, 401, "INVALID_CREDENTIALS");
    bt_test_resp_release(&r);
}

/* ---- PUT /orders/:id/status ---- */

static const char *const all_states[] = {"PENDING", "PROCESSING", "COMPLETED", "CANCELLED"};

/* An order in the given state (stock 1 of steel taken when it passed PROCESSING). */
static char *order_in_state(struct fixture *f, const char *state)
{
    char *id = order_new(f, f->admin);

    if (!strcmp(state, "PROCESSING") || !strcmp(state, "COMPLETED"))
        must_set_status(f, id, "PROCESSING");
    if (!strcmp(state, "COMPLETED"))
        must_set_status(f, id, "COMPLETED");
    if (!strcmp(state, "CANCELLED"))
        must_set_status(f, id, "CANCELLED");
    return id;
}

/* every (from, to) pair: the four legal moves succeed, the twelve others are 422 with the
 * allowed next states */
static void test_status_machine(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    static const char *const allowed[4] = {"[\"PROCESSING\",\"CANCELLED\"]",
                                           "[\"COMPLETED\",\"CANCELLED\"]", "[]", "[]"};

    for (int from = 0; from < 4; from++) {
        for (int to = 0; to < 4; to++) {
            char *id = order_in_state(f, all_states[from]);
            bool legal = (from == 0 && (to == 1 || to == 3)) || (from == 1 && (to == 2 || to == 3));

            set_status(f, f->admin, id, all_states[to], &r);
            if (legal) {
                assert_ok(&r, 200);
                assert_string_equal(bt_json_str(r.json, "/data/status"), all_states[to]);
                assert_keys(json_object_get(r.json, "data"), order_keys,
                            sizeof(order_keys) / sizeof(order_keys[0]));
            } else {
                char pattern[256];
                json_t *details;
                assert_invalid(&r, "status");
                details = bt_json_at(r.json, "/error/details");
                assert_int_equal(json_array_size(json_object_get(details, "allowed")),
                                 from < 2 ? 2 : 0);
                snprintf(pattern, sizeof(pattern), "{\"currentStatus\":\"%s\",\"allowed\":%s}",
                         all_states[from], allowed[from]);
                bt_assert_subset(details, pattern);
                assert_string_equal(status_of(f, id), all_states[from]);
            }
            free(id);
        }
    }
    /* the body's rules */
    {
        char *id = order_new(f, f->admin);
        char path[128];
        snprintf(path, sizeof(path), "/v1/orders/%s/status", id);
        req(f, f->admin, "PUT", path, "{}", &r);
        assert_invalid(&r, "status");
        req(f, f->admin, "PUT", path, "{\"status\":\"processing\"}", &r);
        assert_invalid(&r, "status");
        req(f, f->admin, "PUT", path, "{\"status\":null}", &r);
        assert_invalid(&r, "status");
        req(f, f->admin, "PUT", path, "{\"status\":\"CANCELLED\",\"notes\":5}", &r);
        assert_invalid(&r, "notes");
        req(f, f->admin, "PUT", path, "not json", &r);
        assert_fail(&r, 400, "VALIDATION_ERROR");
        set_status(f, f->admin, "00000000-0000-4000-8000-000000000000", "CANCELLED", &r);
        assert_fail(&r, 404, "RESOURCE_NOT_FOUND");
        set_status(f, NULL, id, "CANCELLED", &r);
        assert_fail(&r, 401, "INVALID_CREDENTIALS");
        assert_string_equal(status_of(f, id), "PENDING");
        free(id);
    }
    bt_test_resp_release(&r);
}

/* PROCESSING takes stock, COMPLETED keeps it taken, CANCELLED from PROCESSING returns it,
 * CANCELLED from PENDING never touched it */
static void test_stock_taken_and_returned(void **state)
{
    struct fixture *f = *state;
    char body[512];
    struct bt_test_resp r = {0};
    char *a, *b, *c;

    snprintf(body, sizeof(body),
             "{\"customerName\":\"A\",\"items\":[{\"materialId\":\"%s\",\"quantity\":30},"
             "{\"materialId\":\"%s\",\"quantity\":4}]}",
             f->steel, f->pipe);
    req(f, f->admin, "POST", "/v1/orders", body, &r);
    assert_ok(&r, 201);
    a = strdup(bt_json_str(r.json, "/data/id"));
    assert_int_equal(stock_of(f, f->steel), 50);
    must_set_status(f, a, "PROCESSING");
    assert_int_equal(stock_of(f, f->steel), 20);
    assert_int_equal(stock_of(f, f->pipe), 6);
    must_set_status(f, a, "COMPLETED");
    assert_int_equal(stock_of(f, f->steel), 20);
    assert_int_equal(stock_of(f, f->pipe), 6);

    b = order_new_q(f, f->admin, f->steel, 15);
    must_set_status(f, b, "PROCESSING");
    assert_int_equal(stock_of(f, f->steel), 5);
    must_set_status(f, b, "CANCELLED");
    assert_int_equal(stock_of(f, f->steel), 20);

    c = order_new_q(f, f->admin, f->steel, 20);
    must_set_status(f, c, "CANCELLED");
    assert_int_equal(stock_of(f, f->steel), 20);

    /* the material's own view agrees */
    {
        char path[128];
        snprintf(path, sizeof(path), "/v1/materials/%s", f->steel);
        req(f, f->admin, "GET", path, NULL, &r);
        assert_ok(&r, 200);
        assert_int_equal(bt_json_int(r.json, "/data/stock", -1), 20);
    }
    free(a);
    free(b);
    free(c);
    bt_test_resp_release(&r);
}

/* insufficient stock: 409 INSUFFICIENT_STOCK listing every short material, nothing taken */
static void test_stock_insufficient(void **state)
{
    struct fixture *f = *state;
    char body[512], pattern[512];
    struct bt_test_resp r = {0};
    char *id;

    /* steel is enough (50), pipe is short (10 < 11): nothing is taken at all */
    snprintf(body, sizeof(body),
             "{\"customerName\":\"A\",\"items\":[{\"materialId\":\"%s\",\"quantity\":50},"
             "{\"materialId\":\"%s\",\"quantity\":11}]}",
             f->steel, f->pipe);
    req(f, f->admin, "POST", "/v1/orders", body, &r);
    assert_ok(&r, 201);
    id = strdup(bt_json_str(r.json, "/data/id"));
    set_status(f, f->admin, id, "PROCESSING", &r);
    assert_fail(&r, 409, "INSUFFICIENT_STOCK");
    assert_int_equal(json_array_size(bt_json_at(r.json, "/error/details/materials")), 1);
    snprintf(pattern, sizeof(pattern),
             "{\"error\":{\"details\":{\"materials\":[{\"materialId\":\"%s\",\"name\":\"銅管\","
             "\"requested\":11,\"available\":10}]}}}",
             f->pipe);
    bt_assert_subset(r.json, pattern);
    assert_int_equal(stock_of(f, f->steel), 50);
    assert_int_equal(stock_of(f, f->pipe), 10);
    assert_string_equal(status_of(f, id), "PENDING");
    get_order(f, f->admin, id, &r);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/statusHistory")), 1);
    free(id);

    /* the same material on two lines counts once, summed; both short ones are listed */
    snprintf(body, sizeof(body),
             "{\"customerName\":\"A\",\"items\":[{\"materialId\":\"%s\",\"quantity\":30},"
             "{\"materialId\":\"%s\",\"quantity\":21},{\"materialId\":\"%s\",\"quantity\":99}]}",
             f->steel, f->steel, f->pipe);
    req(f, f->admin, "POST", "/v1/orders", body, &r);
    assert_ok(&r, 201);
    id = strdup(bt_json_str(r.json, "/data/id"));
    set_status(f, f->admin, id, "PROCESSING", &r);
    assert_fail(&r, 409, "INSUFFICIENT_STOCK");
    assert_int_equal(json_array_size(bt_json_at(r.json, "/error/details/materials")), 2);
    snprintf(pattern, sizeof(pattern),
             "{\"materialId\":\"%s\",\"name\":\"不鏽鋼板 304\",\"requested\":51,\"available\":50}",
             f->steel);
    {
        json_t *m = bt_json_at(r.json, "/error/details/materials");
        bool found = false;
        for (size_t i = 0; i < json_array_size(m); i++)
            found = found || bt_json_subset(json_array_get(m, i), pattern);
        assert_true(found);
    }
    assert_int_equal(stock_of(f, f->steel), 50);
    assert_int_equal(stock_of(f, f->pipe), 10);

    /* exactly enough is enough, and leaves 0 */
    snprintf(body, sizeof(body),
             "{\"items\":[{\"materialId\":\"%s\",\"quantity\":30},{\"materialId\":\"%s\","
             "\"quantity\":20},{\"materialId\":\"%s\",\"quantity\":10}]}",
             f->steel, f->steel, f->pipe);
    update(f, f->admin, id, body, &r);
    assert_ok(&r, 200);
    must_set_status(f, id, "PROCESSING");
    assert_int_equal(stock_of(f, f->steel), 0);
    assert_int_equal(stock_of(f, f->pipe), 0);
    must_set_status(f, id, "CANCELLED");
    assert_int_equal(stock_of(f, f->steel), 50);
    assert_int_equal(stock_of(f, f->pipe), 10);
    free(id);
    bt_test_resp_release(&r);
}

/* every change is in the history: who, when, notes, in order */
static void test_history(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char path[128], admin_id[64], alice_id[64];
    char *id = order_new(f, f->alice), *other;
    json_t *h;

    get_order(f, f->admin, id, &r);
    snprintf(alice_id, sizeof(alice_id), "%s", bt_json_str(r.json, "/data/createdBy"));
    other = order_new(f, f->admin);
    get_order(f, f->admin, other, &r);
    snprintf(admin_id, sizeof(admin_id), "%s", bt_json_str(r.json, "/data/createdBy"));
    assert_string_not_equal(admin_id, alice_id);

    snprintf(path, sizeof(path), "/v1/orders/%s/status", id);
    req(f, f->admin, "PUT", path, "{\"status\":\"PROCESSING\",\"notes\":\"開始處理訂單\"}", &r);
    assert_ok(&r, 200);
    req(f, f->admin, "PUT", path, "{\"status\":\"COMPLETED\"}", &r);
    assert_ok(&r, 200);
    h = bt_json_at(r.json, "/data/statusHistory");
    assert_int_equal(json_array_size(h), 3);
    for (size_t i = 0; i < 3; i++) {
        static const char *const hkeys[] = {"id",    "fromStatus", "toStatus",
                                            "notes", "changedBy",  "changedAt"};
        assert_keys(json_array_get(h, i), hkeys, 6);
        assert_int_equal(strlen(bt_json_str(json_array_get(h, i), "/changedAt")), 24);
    }
    bt_assert_subset(h, "[{\"fromStatus\":null,\"toStatus\":\"PENDING\",\"notes\":null},"
                        "{\"fromStatus\":\"PENDING\",\"toStatus\":\"PROCESSING\","
                        "\"notes\":\"開始處理訂單\"},"
                        "{\"fromStatus\":\"PROCESSING\",\"toStatus\":\"COMPLETED\","
                        "\"notes\":null}]");
    assert_string_equal(bt_json_str(h, "/0/changedBy"), alice_id);
    assert_string_equal(bt_json_str(h, "/1/changedBy"), admin_id);
    assert_string_equal(bt_json_str(h, "/2/changedBy"), admin_id);
    assert_true(strcmp(bt_json_str(h, "/1/changedAt"), bt_json_str(h, "/0/changedAt")) >= 0);
    assert_true(strcmp(bt_json_str(h, "/2/changedAt"), bt_json_str(h, "/1/changedAt")) >= 0);
    assert_string_equal(bt_json_str(r.json, "/data/updatedAt"), bt_json_str(h, "/2/changedAt"));
    /* a refused change is not recorded */
    req(f, f->admin, "PUT", path, "{\"status\":\"CANCELLED\",\"notes\":\"too late\"}", &r);
    assert_invalid(&r, "status");
    get_order(f, f->alice, id, &r);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/statusHistory")), 3);
    free(id);
    free(other);
    bt_test_resp_release(&r);
}

/* ---- USER rules ---- */

static void test_user_rules(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char body[512];
    char *mine = order_new(f, f->alice), *theirs = order_new(f, f->bob);
    char *admins = order_new(f, f->admin);

    /* create: createdBy is the caller */
    get_order(f, f->alice, mine, &r);
    assert_ok(&r, 200);
    {
        char alice_id[64];
        snprintf(alice_id, sizeof(alice_id), "%s", bt_json_str(r.json, "/data/createdBy"));
        get_order(f, f->alice, theirs, &r); /* reads others' orders too */
        assert_ok(&r, 200);
        assert_string_not_equal(bt_json_str(r.json, "/data/createdBy"), alice_id);
    }

    /* update: own PENDING only */
    update(f, f->alice, mine, "{\"notes\":\"mine\"}", &r);
    assert_ok(&r, 200);
    snprintf(body, sizeof(body), "{\"items\":[{\"materialId\":\"%s\",\"quantity\":2}]}", f->pipe);
    update(f, f->alice, mine, body, &r);
    assert_ok(&r, 200);
    assert_non_null(strstr(r.body, "\"totalAmount\":24.6912,"));
    update(f, f->alice, theirs, "{\"notes\":\"not mine\"}", &r);
    assert_fail(&r, 403, "INSUFFICIENT_PERMISSIONS");
    update(f, f->alice, admins, "{\"notes\":\"not mine\"}", &r);
    assert_fail(&r, 403, "INSUFFICIENT_PERMISSIONS");
    update(f, f->alice, "00000000-0000-4000-8000-000000000000", "{\"notes\":\"x\"}", &r);
    assert_fail(&r, 404, "RESOURCE_NOT_FOUND");

    /* status: only CANCELLED, only own, only from PENDING */
    set_status(f, f->alice, mine, "PROCESSING", &r);
    assert_fail(&r, 403, "INSUFFICIENT_PERMISSIONS");
    set_status(f, f->alice, theirs, "CANCELLED", &r);
    assert_fail(&r, 403, "INSUFFICIENT_PERMISSIONS");
    set_status(f, f->alice, mine, "COMPLETED", &r);
    assert_fail(&r, 403, "INSUFFICIENT_PERMISSIONS");
    set_status(f, f->alice, "00000000-0000-4000-8000-000000000000", "CANCELLED", &r);
    assert_fail(&r, 404, "RESOURCE_NOT_FOUND");
    assert_string_equal(status_of(f, mine), "PENDING");
    assert_string_equal(status_of(f, theirs), "PENDING");

    /* once PROCESSING it is not the USER's to cancel or edit */
    must_set_status(f, theirs, "PROCESSING");
    set_status(f, f->bob, theirs, "CANCELLED", &r);
    assert_fail(&r, 403, "INSUFFICIENT_PERMISSIONS");
    update(f, f->bob, theirs, "{\"notes\":\"x\"}", &r);
    assert_fail(&r, 409, "ORDER_STATE_CONFLICT");
    assert_string_equal(status_of(f, theirs), "PROCESSING");

    set_status(f, f->alice, mine, "CANCELLED", &r);
    assert_ok(&r, 200);
    assert_string_equal(bt_json_str(r.json, "/data/status"), "CANCELLED");
    /* cancelled: final, and an edit is now a state conflict */
    set_status(f, f->alice, mine, "CANCELLED", &r);
    assert_fail(&r, 403, "INSUFFICIENT_PERMISSIONS");
    update(f, f->alice, mine, "{\"notes\":\"x\"}", &r);
    assert_fail(&r, 409, "ORDER_STATE_CONFLICT");

    /* ADMIN does anything, also to a USER's order */
    set_status(f, f->admin, theirs, "CANCELLED", &r);
    assert_ok(&r, 200);
    free(mine);
    free(theirs);
    free(admins);
    bt_test_resp_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_document_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_exact_decimals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_total_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_numbering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_failure_keeps_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_unknown_material, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_dates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_machine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stock_taken_and_returned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stock_insufficient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_rules, setup, teardown),
    };

    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
