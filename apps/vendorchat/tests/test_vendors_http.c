/* SPDX-License-Identifier: MIT
 * test_vendors_http.c - handler tier of vendorchat's Vendors API, /vendors/{id}/test and
 * /reload (document 004 "Vendors API" and "Chat API", note "Vendors API details").
 * Each test gets a fresh database with the seed vendors 1 (VENDOR_A) and 2 (VENDOR_B); the
 * same cases run on SQLite and PostgreSQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

extern const struct bt_app bt_app_vendorchat;

/* ---- fixture and helpers ---- */

static int setup(void **state)
{
    *state = bt_test_app_new(&bt_app_vendorchat, NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    bt_test_app_free(*state);
    return 0;
}

/* Error envelope: {"detail": "..."} with the given status; detail compared when given. */
static void assert_error(const struct bt_test_resp *r, int status, const char *detail)
{
    json_t *d;

    assert_int_equal(r->status, status);
    assert_non_null(r->json);
    assert_true(json_is_object(r->json));
    d = json_object_get(r->json, "detail");
    assert_non_null(d);
    assert_true(json_is_string(d));
    assert_true(json_string_length(d) > 0);
    if (detail)
        assert_string_equal(json_string_value(d), detail);
}

static bool is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* "2024-01-01T12:00:00" (frac == 0) or "2024-01-01T12:00:00.000000" (frac == 6) */
static void assert_iso(const char *s, size_t frac)
{
    assert_non_null(s);
    assert_int_equal(strlen(s), 19 + (frac ? frac + 1 : 0));
    assert_true(is_digits(s, 4) && s[4] == '-' && is_digits(s + 5, 2) && s[7] == '-' &&
                is_digits(s + 8, 2) && s[10] == 'T' && is_digits(s + 11, 2) && s[13] == ':' &&
                is_digits(s + 14, 2) && s[16] == ':' && is_digits(s + 17, 2));
    if (frac)
        assert_true(s[19] == '.' && is_digits(s + 20, frac));
}

static const char *const vendor_keys[] = {
    "id",
    "code",
    "name",
    "short_name",
    "contact_phone",
    "contact_email",
    "address",
    "subscription_plan",
    "subscription_status",
    "is_active",
    "created_at",
    "updated_at",
};
#define NVENDOR_KEYS (sizeof(vendor_keys) / sizeof(vendor_keys[0]))

/* A vendor object has exactly the document's fields, typed, in the document's order. */
static void assert_vendor_shape(const json_t *v)
{
    const char *key;
    json_t *val;
    size_t i = 0;

    assert_true(json_is_object(v));
    assert_int_equal(json_object_size(v), NVENDOR_KEYS);
    json_object_foreach((json_t *)v, key, val)
    {
        assert_string_equal(key, vendor_keys[i]);
        i++;
    }
    assert_true(json_is_integer(json_object_get(v, "id")));
    assert_true(json_is_boolean(json_object_get(v, "is_active")));
    assert_true(json_is_string(json_object_get(v, "code")));
    assert_iso(json_string_value(json_object_get(v, "created_at")), 0);
}

static int64_t db_i64(struct bt_test_app *t, const char *sql, int64_t id)
{
    struct bt_db *db = bt_test_db_get(t);
    struct bt_err err;
    int64_t out = -1;

    bt_err_clear(&err);
    assert_int_equal(bt_db_query_i64(db, &out, sql, BT_ARGS(bt_i64(id)), &err), BT_OK);
    bt_test_db_put(t, db);
    return out;
}

static const char *db_text(struct bt_test_app *t, struct bt_arena *a, const char *sql, int64_t id)
{
    struct bt_db *db = bt_test_db_get(t);
    struct bt_rows *rows;
    struct bt_err err;
    const char *s;

    bt_err_clear(&err);
    assert_int_equal(bt_db_query(db, a, &rows, sql, BT_ARGS(bt_i64(id)), &err), BT_OK);
    assert_int_equal(rows->nrows, 1);
    s = bt_rows_text(rows, 0, 0);
    bt_test_db_put(t, db);
    return s;
}

static void db_exec(struct bt_test_app *t, const char *sql)
{
    struct bt_db *db = bt_test_db_get(t);
    struct bt_err err;

    bt_err_clear(&err);
    assert_int_equal(bt_db_exec(db, NULL, sql, BT_NOARGS, &err), BT_OK);
    bt_test_db_put(t, db);
}

static char *repeat(const char *unit, size_t n)
{
    size_t len = strlen(unit);
    char *s = malloc(len * n + 1);

    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * len, unit, len);
    s[len * n] = '\0';
    return s;
}

/* ---- list ---- */

/* spec 004 GET /api/v1/vendors: seed vendors, newest first */
static void test_list_seed(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "GET", "/api/v1/vendors", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_array(r.json));
    assert_int_equal(json_array_size(r.json), 2);
    for (size_t i = 0; i < 2; i++)
        assert_vendor_shape(json_array_get(r.json, i));
    /* same created_at: the later id comes first */
    assert_int_equal(bt_json_int(r.json, "/0/id", 0), 2);
    assert_int_equal(bt_json_int(r.json, "/1/id", 0), 1);
    bt_assert_subset(r.json, "[{},{\"id\":1,\"code\":\"VENDOR_A\","
                             "\"name\":\"甲山林包租代管股份有限公司\",\"short_name\":\"甲山林\","
                             "\"contact_phone\":\"02-2345-6789\","
                             "\"contact_email\":\"service@vendorA.com\","
                             "\"address\":\"台北市信義區信義路五段100號\","
                             "\"subscription_plan\":\"premium\",\"subscription_status\":\"active\","
                             "\"is_active\":true,\"created_at\":\"2024-01-01T00:00:00\","
                             "\"updated_at\":\"2024-01-01T00:00:00\"}]");
    bt_assert_subset(r.json, "[{\"code\":\"VENDOR_B\",\"name\":\"信義包租代管股份有限公司\","
                             "\"short_name\":\"信義\",\"subscription_plan\":\"standard\"}]");
    bt_test_resp_release(&r);
}

static void test_list_newest_first(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "POST", "/api/v1/vendors", NULL,
                    "{\"code\":\"VENDOR_C\",\"name\":\"永慶包租代管股份有限公司\"}", &r);
    assert_int_equal(r.status, 201);
    bt_test_request(*state, "GET", "/api/v1/vendors", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 3);
    bt_assert_subset(r.json, "[{\"code\":\"VENDOR_C\"},{\"code\":\"VENDOR_B\"},"
                             "{\"code\":\"VENDOR_A\"}]");
    bt_test_resp_release(&r);
}

/* spec 004 GET /api/v1/vendors: is_active and subscription_plan filters */
static void test_list_filters(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "GET", "/api/v1/vendors?subscription_plan=premium", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    bt_assert_subset(r.json, "[{\"id\":1}]");

    bt_test_request(*state, "GET", "/api/v1/vendors?subscription_plan=gold", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);

    bt_test_request(*state, "GET", "/api/v1/vendors?is_active=false", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);

    bt_test_request(*state, "DELETE", "/api/v1/vendors/2", NULL, NULL, &r);
    assert_int_equal(r.status, 200);

    bt_test_request(*state, "GET", "/api/v1/vendors?is_active=false", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    bt_assert_subset(r.json, "[{\"id\":2,\"is_active\":false}]");

    bt_test_request(*state, "GET", "/api/v1/vendors?is_active=true", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    bt_assert_subset(r.json, "[{\"id\":1,\"is_active\":true}]");

    bt_test_request(*state, "GET", "/api/v1/vendors?is_active=true&subscription_plan=standard",
                    NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);

    bt_test_request(*state, "GET", "/api/v1/vendors?is_active=false&subscription_plan=standard",
                    NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 1);
    bt_assert_subset(r.json, "[{\"id\":2}]");

    /* the unfiltered list still shows both */
    bt_test_request(*state, "GET", "/api/v1/vendors", NULL, NULL, &r);
    assert_int_equal(json_array_size(r.json), 2);

    bt_test_request(*state, "GET", "/api/v1/vendors?is_active=maybe", NULL, NULL, &r);
    assert_error(&r, 400, NULL);
    bt_test_resp_release(&r);
}

/* ---- create ---- */

/* spec 004 POST /api/v1/vendors: the document's example */
static void test_create(void **state)
{
    struct bt_test_resp r = {0};
    struct bt_arena *a = bt_arena_new();
    const char *created, *updated, *start;

    bt_test_request(*state, "POST", "/api/v1/vendors", NULL,
                    "{\"code\":\"VENDOR_C\",\"name\":\"永慶包租代管股份有限公司\","
                    "\"short_name\":\"永慶\",\"contact_phone\":\"02-1234-5678\","
                    "\"contact_email\":\"service@vendorc.com\","
                    "\"address\":\"台北市松山區南京東路三段200號\","
                    "\"subscription_plan\":\"standard\",\"created_by\":\"ops\"}",
                    &r);
    assert_int_equal(r.status, 201);
    assert_vendor_shape(r.json);
    bt_assert_subset(r.json,
                     "{\"id\":3,\"code\":\"VENDOR_C\",\"name\":\"永慶包租代管股份有限公司\","
                     "\"short_name\":\"永慶\",\"contact_phone\":\"02-1234-5678\","
                     "\"contact_email\":\"service@vendorc.com\","
                     "\"address\":\"台北市松山區南京東路三段200號\","
                     "\"subscription_plan\":\"standard\","
                     "\"subscription_status\":\"active\",\"is_active\":true}");
    created = json_string_value(json_object_get(r.json, "created_at"));
    updated = json_string_value(json_object_get(r.json, "updated_at"));
    assert_iso(created, 0);
    assert_string_equal(created, updated);

    assert_string_equal(
        db_text(*state, a, "SELECT created_by FROM vendorchat_vendors WHERE id = $1", 3), "ops");
    /* the subscription starts on the day of creation: the date of created_at, from the same
     * clock reading (no window around midnight to allow for) */
    start = db_text(*state, a,
                    "SELECT subscription_start_date FROM vendorchat_vendors WHERE id = $1", 3);
    assert_int_equal(strlen(start), 10);
    assert_memory_equal(start, created, 10);
    assert_string_equal(
        db_text(*state, a, "SELECT settings FROM vendorchat_vendors WHERE id = $1", 3), "{}");

    /* it is there afterwards */
    bt_test_request(*state, "GET", "/api/v1/vendors/3", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"id\":3,\"code\":\"VENDOR_C\"}");
    bt_test_resp_release(&r);
    bt_arena_free(a);
}

/* spec 004 POST /api/v1/vendors: defaults (basic plan, created_by admin, nulls) */
static void test_create_defaults(void **state)
{
    struct bt_test_resp r = {0};
    struct bt_arena *a = bt_arena_new();

    bt_test_request(*state, "POST", "/api/v1/vendors", NULL,
                    "{\"code\":\"V_MIN\",\"name\":\"最小業者\",\"short_name\":null}", &r);
    assert_int_equal(r.status, 201);
    assert_vendor_shape(r.json);
    bt_assert_subset(r.json, "{\"code\":\"V_MIN\",\"name\":\"最小業者\",\"short_name\":null,"
                             "\"contact_phone\":null,\"contact_email\":null,\"address\":null,"
                             "\"subscription_plan\":\"basic\","
                             "\"subscription_status\":\"active\",\"is_active\":true}");
    assert_string_equal(
        db_text(*state, a, "SELECT created_by FROM vendorchat_vendors WHERE id = $1", 3), "admin");
    /* unknown fields (is_active, id) are ignored, not applied */
    bt_test_request(*state, "POST", "/api/v1/vendors", NULL,
                    "{\"code\":\"V_X\",\"name\":\"x\",\"is_active\":false,\"id\":77}", &r);
    assert_int_equal(r.status, 201);
    bt_assert_subset(r.json, "{\"id\":4,\"is_active\":true}");
    bt_test_resp_release(&r);
    bt_arena_free(a);
}

/* spec 004 POST /api/v1/vendors: 400 業者代碼已存在 */
static void test_create_duplicate_code(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "POST", "/api/v1/vendors", NULL,
                    "{\"code\":\"VENDOR_A\",\"name\":\"重複\"}", &r);
    assert_error(&r, 400, "業者代碼已存在: VENDOR_A");

    bt_test_request(*state, "POST", "/api/v1/vendors", NULL,
                    "{\"code\":\"VENDOR_C\",\"name\":\"永慶\"}", &r);
    assert_int_equal(r.status, 201);
    bt_test_request(*state, "POST", "/api/v1/vendors", NULL,
                    "{\"code\":\"VENDOR_C\",\"name\":\"永慶 2\"}", &r);
    assert_error(&r, 400, "業者代碼已存在: VENDOR_C");

    /* nothing was written by the refused creates */
    bt_test_request(*state, "GET", "/api/v1/vendors", NULL, NULL, &r);
    assert_int_equal(json_array_size(r.json), 3);
    bt_test_resp_release(&r);
}

/* note: code 1-50, name 1-200, short_name <=100, contact_phone <=50, contact_email <=100;
 * validation failures are 400 {"detail": ...} */
static void test_create_validation(void **state)
{
    struct bt_test_resp r = {0};
    char *code51 = repeat("C", 51), *code50 = repeat("C", 50);
    char *name201 = repeat("名", 201), *name200 = repeat("名", 200);
    char *s101 = repeat("s", 101), *s51 = repeat("p", 51);
    char body[4096];
    const char *bad[] = {
        "{\"name\":\"x\"}",
        "{\"code\":\"X1\"}",
        "{}",
        "{\"code\":\"\",\"name\":\"x\"}",
        "{\"code\":\"X1\",\"name\":\"\"}",
        "{\"code\":\"   \",\"name\":\"x\"}",
        "{\"code\":null,\"name\":\"x\"}",
        "{\"code\":123,\"name\":\"x\"}",
        "{\"code\":\"X1\",\"name\":[\"x\"]}",
        "{\"code\":\"X1\",\"name\":\"x\",\"contact_phone\":12345}",
        "{\"code\":\"X1\",\"name\":\"x\",\"subscription_plan\":null}",
        "{\"code\":\"X1\",\"name\":\"x\",\"subscription_plan\":1}",
        "{\"code\":\"X1\",\"name\":\"x\",\"created_by\":true}",
        "[]",
        "\"VENDOR\"",
        "{\"code\":\"X1\",",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bt_test_request(*state, "POST", "/api/v1/vendors", NULL, bad[i], &r);
        print_message("body %s\n", bad[i]);
        assert_error(&r, 400, NULL);
    }

    snprintf(body, sizeof(body), "{\"code\":\"%s\",\"name\":\"x\"}", code51);
    bt_test_request(*state, "POST", "/api/v1/vendors", NULL, body, &r);
    assert_error(&r, 400, NULL);
    snprintf(body, sizeof(body), "{\"code\":\"X1\",\"name\":\"%s\"}", name201);
    bt_test_request(*state, "POST", "/api/v1/vendors", NULL, body, &r);
    assert_error(&r, 400, NULL);
    snprintf(body, sizeof(body), "{\"code\":\"X1\",\"name\":\"x\",\"short_name\":\"%s\"}", s101);
    bt_test_request(*state, "POST", "/api/v1/vendors", NULL, body, &r);
    assert_error(&r, 400, NULL);
    snprintf(body, sizeof(body), "{\"code\":\"X1\",\"name\":\"x\",\"contact_phone\":\"%s\"}", s51);
    bt_test_request(*state, "POST", "/api/v1/vendors", NULL, body, &r);
    assert_error(&r, 400, NULL);
    snprintf(body, sizeof(body), "{\"code\":\"X1\",\"name\":\"x\",\"contact_email\":\"%s\"}", s101);
    bt_test_request(*state, "POST", "/api/v1/vendors", NULL, body, &r);
    assert_error(&r, 400, NULL);

    /* nothing was created by any of them */
    bt_test_request(*state, "GET", "/api/v1/vendors", NULL, NULL, &r);
    assert_int_equal(json_array_size(r.json), 2);

    /* the limits themselves are accepted (name counts characters, not bytes) */
    snprintf(body, sizeof(body), "{\"code\":\"%s\",\"name\":\"%s\"}", code50, name200);
    bt_test_request(*state, "POST", "/api/v1/vendors", NULL, body, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), code50);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), name200);

    bt_test_resp_release(&r);
    free(code51);
    free(code50);
    free(name201);
    free(name200);
    free(s101);
    free(s51);
}

/* ---- get ---- */

/* spec 004 GET /api/v1/vendors/{vendor_id}: the document's example */
static void test_get(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "GET", "/api/v1/vendors/1", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_vendor_shape(r.json);
    bt_assert_subset(r.json, "{\"id\":1,\"code\":\"VENDOR_A\","
                             "\"name\":\"甲山林包租代管股份有限公司\",\"short_name\":\"甲山林\","
                             "\"contact_phone\":\"02-2345-6789\","
                             "\"contact_email\":\"service@vendorA.com\","
                             "\"address\":\"台北市信義區信義路五段100號\","
                             "\"subscription_plan\":\"premium\",\"subscription_status\":\"active\","
                             "\"is_active\":true,\"created_at\":\"2024-01-01T00:00:00\","
                             "\"updated_at\":\"2024-01-01T00:00:00\"}");
    bt_test_request(*state, "GET", "/api/v1/vendors/2", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"id\":2,\"code\":\"VENDOR_B\",\"contact_phone\":\"02-8765-4321\","
                             "\"contact_email\":\"support@vendorB.com\"}");
    bt_test_resp_release(&r);
}

/* spec 004: 404 業者不存在 */
static void test_get_unknown(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "GET", "/api/v1/vendors/999", NULL, NULL, &r);
    assert_error(&r, 404, "業者不存在");
    bt_test_request(*state, "GET", "/api/v1/vendors/9223372036854775807", NULL, NULL, &r);
    assert_error(&r, 404, "業者不存在");
    bt_test_resp_release(&r);
}

/* A vendor id that is not a positive integer is a validation failure (400) on every route
 * that takes one. */
static void test_bad_ids(void **state)
{
    static const char *const ids[] = {"abc", "0",   "-1",  "99999999999999999999",
                                      "1.5", "1e3", "%20", "0x10"};
    static const char *const shapes[][2] = {
        {"GET", "/api/v1/vendors/%s"},         {"PUT", "/api/v1/vendors/%s"},
        {"DELETE", "/api/v1/vendors/%s"},      {"GET", "/api/v1/vendors/%s/configs"},
        {"PUT", "/api/v1/vendors/%s/configs"}, {"GET", "/api/v1/vendors/%s/stats"},
        {"GET", "/chat/v1/vendors/%s/test"},   {"GET", "/api/v1/vendors/%s/test"},
    };
    struct bt_test_resp r = {0};

    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        const char *body = NULL;

        if (strcmp(shapes[s][0], "PUT") == 0)
            body = strstr(shapes[s][1], "configs") ? "{\"configs\":[]}" : "{\"name\":\"x\"}";
        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
            char path[128];

            snprintf(path, sizeof(path), shapes[s][1], ids[i]);
            print_message("%s %s\n", shapes[s][0], path);
            bt_test_request(*state, shapes[s][0], path, NULL, body, &r);
            assert_error(&r, 400, NULL);
        }
    }
    /* nothing changed */
    bt_test_request(*state, "GET", "/api/v1/vendors?is_active=true", NULL, NULL, &r);
    assert_int_equal(json_array_size(r.json), 2);
    bt_test_resp_release(&r);
}

/* ---- update ---- */

/* spec 004 PUT /api/v1/vendors/{vendor_id}: the document's example; only given fields change */
static void test_update(void **state)
{
    struct bt_test_resp r = {0};
    struct bt_arena *a = bt_arena_new();
    const char *updated;

    bt_test_request(*state, "PUT", "/api/v1/vendors/1", NULL,
                    "{\"contact_phone\":\"02-9999-8888\",\"subscription_plan\":\"enterprise\","
                    "\"updated_by\":\"ops\"}",
                    &r);
    assert_int_equal(r.status, 200);
    assert_vendor_shape(r.json);
    bt_assert_subset(r.json, "{\"id\":1,\"code\":\"VENDOR_A\","
                             "\"name\":\"甲山林包租代管股份有限公司\",\"short_name\":\"甲山林\","
                             "\"contact_phone\":\"02-9999-8888\","
                             "\"contact_email\":\"service@vendorA.com\","
                             "\"address\":\"台北市信義區信義路五段100號\","
                             "\"subscription_plan\":\"enterprise\",\"is_active\":true,"
                             "\"created_at\":\"2024-01-01T00:00:00\"}");
    updated = json_string_value(json_object_get(r.json, "updated_at"));
    assert_iso(updated, 0);
    assert_string_not_equal(updated, "2024-01-01T00:00:00");
    assert_string_equal(
        db_text(*state, a, "SELECT updated_by FROM vendorchat_vendors WHERE id = $1", 1), "ops");

    /* a GET shows the same */
    bt_test_request(*state, "GET", "/api/v1/vendors/1", NULL, NULL, &r);
    bt_assert_subset(r.json, "{\"contact_phone\":\"02-9999-8888\","
                             "\"subscription_plan\":\"enterprise\"}");

    /* updated_by defaults to admin */
    bt_test_request(*state, "PUT", "/api/v1/vendors/1", NULL, "{\"name\":\"甲山林 新\"}", &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"name\":\"甲山林 新\",\"contact_phone\":\"02-9999-8888\"}");
    assert_string_equal(
        db_text(*state, a, "SELECT updated_by FROM vendorchat_vendors WHERE id = $1", 1), "admin");

    /* the other vendor is untouched */
    bt_test_request(*state, "GET", "/api/v1/vendors/2", NULL, NULL, &r);
    bt_assert_subset(r.json, "{\"name\":\"信義包租代管股份有限公司\","
                             "\"contact_phone\":\"02-8765-4321\","
                             "\"updated_at\":\"2024-01-01T00:00:00\"}");
    bt_test_resp_release(&r);
    bt_arena_free(a);
}

/* note: code cannot change (ignored in the body); null clears an optional field; is_active */
static void test_update_code_ignored_and_nulls(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "PUT", "/api/v1/vendors/2", NULL,
                    "{\"code\":\"HACKED\",\"short_name\":null,\"address\":\"新地址\"}", &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"id\":2,\"code\":\"VENDOR_B\",\"short_name\":null,"
                             "\"address\":\"新地址\",\"name\":\"信義包租代管股份有限公司\"}");

    /* only a code: nothing but the update stamp changes */
    bt_test_request(*state, "PUT", "/api/v1/vendors/2", NULL, "{\"code\":\"OTHER\"}", &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"code\":\"VENDOR_B\",\"address\":\"新地址\"}");

    /* an empty body object is a valid no-op update */
    bt_test_request(*state, "PUT", "/api/v1/vendors/2", NULL, "{}", &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"code\":\"VENDOR_B\"}");

    bt_test_request(*state, "PUT", "/api/v1/vendors/2", NULL, "{\"is_active\":false}", &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"is_active\":false}");
    bt_test_request(*state, "PUT", "/api/v1/vendors/2", NULL, "{\"is_active\":true}", &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"is_active\":true}");

    /* the code is still searchable by its old value: a new vendor cannot take it */
    bt_test_request(*state, "POST", "/api/v1/vendors", NULL,
                    "{\"code\":\"VENDOR_B\",\"name\":\"x\"}", &r);
    assert_error(&r, 400, "業者代碼已存在: VENDOR_B");
    bt_test_resp_release(&r);
}

static void test_update_errors(void **state)
{
    struct bt_test_resp r = {0};
    char *name201 = repeat("n", 201);
    char body[1024];
    const char *bad[] = {
        "{\"name\":\"\"}",
        "{\"name\":null}",
        "{\"name\":5}",
        "{\"is_active\":\"yes\"}",
        "{\"is_active\":null}",
        "{\"contact_phone\":[]}",
        "{\"subscription_plan\":null}",
        "[]",
        "{\"name\":",
    };

    bt_test_request(*state, "PUT", "/api/v1/vendors/999", NULL, "{\"name\":\"x\"}", &r);
    assert_error(&r, 404, "業者不存在");

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        print_message("body %s\n", bad[i]);
        bt_test_request(*state, "PUT", "/api/v1/vendors/1", NULL, bad[i], &r);
        assert_error(&r, 400, NULL);
    }
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name201);
    bt_test_request(*state, "PUT", "/api/v1/vendors/1", NULL, body, &r);
    assert_error(&r, 400, NULL);

    /* vendor 1 is unchanged */
    bt_test_request(*state, "GET", "/api/v1/vendors/1", NULL, NULL, &r);
    bt_assert_subset(r.json, "{\"name\":\"甲山林包租代管股份有限公司\",\"is_active\":true,"
                             "\"updated_at\":\"2024-01-01T00:00:00\"}");
    bt_test_resp_release(&r);
    free(name201);
}

/* ---- delete ---- */

/* spec 004 DELETE /api/v1/vendors/{vendor_id}: soft delete */
static void test_delete(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "DELETE", "/api/v1/vendors/1", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"message\":\"業者已停用\",\"vendor_id\":1}");
    assert_int_equal(json_object_size(r.json), 2);
    assert_true(json_is_integer(json_object_get(r.json, "vendor_id")));

    /* still there, inactive, with its configs */
    bt_test_request(*state, "GET", "/api/v1/vendors/1", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_vendor_shape(r.json);
    bt_assert_subset(r.json, "{\"id\":1,\"code\":\"VENDOR_A\",\"is_active\":false}");
    assert_string_not_equal(json_string_value(json_object_get(r.json, "updated_at")),
                            "2024-01-01T00:00:00");
    bt_test_request(*state, "GET", "/api/v1/vendors/1/configs", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_object_size(r.json), 4);

    /* deleting again is still fine: the vendor exists */
    bt_test_request(*state, "DELETE", "/api/v1/vendors/1", NULL, NULL, &r);
    assert_int_equal(r.status, 200);

    bt_test_request(*state, "DELETE", "/api/v1/vendors/42", NULL, NULL, &r);
    assert_error(&r, 404, "業者不存在");

    /* reactivated through PUT */
    bt_test_request(*state, "PUT", "/api/v1/vendors/1", NULL, "{\"is_active\":true}", &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"is_active\":true}");
    bt_test_resp_release(&r);
}

/* ---- configs ---- */

static void assert_config_shape(const json_t *c)
{
    static const char *const keys[] = {"id",        "category",     "param_key",   "param_value",
                                       "data_type", "display_name", "description", "unit",
                                       "is_active", "created_at",   "updated_at"};
    const char *key;
    json_t *val;
    size_t i = 0;

    assert_true(json_is_object(c));
    assert_int_equal(json_object_size(c), sizeof(keys) / sizeof(keys[0]));
    json_object_foreach((json_t *)c, key, val)
    {
        assert_string_equal(key, keys[i]);
        i++;
    }
    assert_true(json_is_integer(json_object_get(c, "id")));
    assert_true(json_is_true(json_object_get(c, "is_active")));
}

/* spec 004 GET /api/v1/vendors/{vendor_id}/configs: grouped by category, then key */
static void test_configs_get(void **state)
{
    static const char *const cats[] = {"contact", "contract", "payment", "service"};
    struct bt_test_resp r = {0};
    const char *key;
    json_t *group;
    size_t i = 0, total = 0;

    bt_test_request(*state, "GET", "/api/v1/vendors/1/configs", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_object(r.json));
    assert_int_equal(json_object_size(r.json), 4);
    json_object_foreach(r.json, key, group)
    {
        size_t j;
        json_t *c;
        const char *prev = "";

        assert_string_equal(key, cats[i]);
        i++;
        json_array_foreach(group, j, c)
        {
            const char *k = json_string_value(json_object_get(c, "param_key"));

            assert_config_shape(c);
            assert_string_equal(json_string_value(json_object_get(c, "category")), key);
            assert_true(strcmp(prev, k) < 0);
            prev = k;
            total++;
        }
    }
    assert_int_equal(total, 12);
    bt_assert_subset(r.json, "{\"payment\":[{\"param_key\":\"grace_period\"},"
                             "{\"param_key\":\"late_fee\"},{\"param_key\":\"payment_day\"},"
                             "{\"param_key\":\"payment_method\"}]}");
    bt_assert_subset(
        r.json, "{\"payment\":[{},{},{\"id\":1,\"category\":\"payment\","
                "\"param_key\":\"payment_day\",\"param_value\":\"1\",\"data_type\":\"number\","
                "\"display_name\":\"繳費日期\",\"description\":\"每月繳費日期\",\"unit\":\"號\","
                "\"is_active\":true,\"created_at\":\"2024-01-01T00:00:00\","
                "\"updated_at\":null}]}");
    bt_assert_subset(r.json, "{\"payment\":[{},{\"id\":2,\"param_value\":\"200\","
                             "\"display_name\":\"逾期手續費\",\"description\":\"逾期繳費手續費\","
                             "\"unit\":\"元\"}]}");
    bt_assert_subset(r.json, "{\"service\":[{},{\"param_key\":\"service_hotline\","
                             "\"param_value\":\"02-2345-6789\",\"data_type\":\"string\","
                             "\"display_name\":\"客服專線\",\"description\":\"24小時客服專線\","
                             "\"unit\":null}]}");

    bt_test_request(*state, "GET", "/api/v1/vendors/2/configs", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"payment\":[{},{\"param_value\":\"300\"},"
                             "{\"param_value\":\"5\"}]}");
    bt_test_resp_release(&r);
}

static void test_configs_get_filter_and_inactive(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "GET", "/api/v1/vendors/1/configs?category=payment", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_object_size(r.json), 1);
    assert_int_equal(json_array_size(json_object_get(r.json, "payment")), 4);

    bt_test_request(*state, "GET", "/api/v1/vendors/1/configs?category=nothing", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_object(r.json));
    assert_int_equal(json_object_size(r.json), 0);

    /* inactive configs are not listed */
    db_exec(*state, "UPDATE vendorchat_vendor_configs SET is_active = FALSE"
                    " WHERE vendor_id = 1 AND param_key = 'line_id'");
    bt_test_request(*state, "GET", "/api/v1/vendors/1/configs", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "contact")), 1);
    bt_assert_subset(r.json, "{\"contact\":[{\"param_key\":\"office_address\"}]}");

    bt_test_request(*state, "GET", "/api/v1/vendors/999/configs", NULL, NULL, &r);
    assert_error(&r, 404, "業者不存在");
    bt_test_request(*state, "GET", "/api/v1/vendors/999/configs?category=payment", NULL, NULL, &r);
    assert_error(&r, 404, "業者不存在");
    bt_test_resp_release(&r);
}

/* spec 004 PUT /api/v1/vendors/{vendor_id}/configs: upsert, the document's example */
static void test_configs_put_upsert(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(
        *state, "PUT", "/api/v1/vendors/1/configs", NULL,
        "{\"configs\":["
        "{\"category\":\"payment\",\"param_key\":\"payment_day\",\"param_value\":\"10\","
        "\"data_type\":\"number\",\"display_name\":\"繳費日期\","
        "\"description\":\"每月繳費日期\",\"unit\":\"號\"},"
        "{\"category\":\"payment\",\"param_key\":\"late_fee\",\"param_value\":\"250\"},"
        "{\"category\":\"pets\",\"param_key\":\"pets_allowed\",\"param_value\":\"true\","
        "\"data_type\":\"boolean\",\"display_name\":\"可養寵物\",\"unit\":null}"
        "]}",
        &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"message\":\"配置已更新\",\"vendor_id\":1,\"updated_count\":3}");
    assert_int_equal(json_object_size(r.json), 3);

    bt_test_request(*state, "GET", "/api/v1/vendors/1/configs", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_object_size(r.json), 5);
    /* updated in place: same ids, fields absent from the item kept */
    bt_assert_subset(r.json, "{\"payment\":[{},{\"id\":2,\"param_key\":\"late_fee\","
                             "\"param_value\":\"250\",\"data_type\":\"number\","
                             "\"display_name\":\"逾期手續費\",\"description\":\"逾期繳費手續費\","
                             "\"unit\":\"元\",\"created_at\":\"2024-01-01T00:00:00\"},"
                             "{\"id\":1,\"param_value\":\"10\"}]}");
    assert_iso(bt_json_str(r.json, "/payment/1/updated_at"), 0);
    assert_iso(bt_json_str(r.json, "/payment/2/updated_at"), 0);
    assert_true(json_is_null(bt_json_at(r.json, "/payment/0/updated_at")));
    /* inserted */
    bt_assert_subset(r.json, "{\"pets\":[{\"category\":\"pets\",\"param_key\":\"pets_allowed\","
                             "\"param_value\":\"true\",\"data_type\":\"boolean\","
                             "\"display_name\":\"可養寵物\",\"description\":null,\"unit\":null,"
                             "\"is_active\":true,\"updated_at\":null}]}");
    assert_iso(bt_json_str(r.json, "/pets/0/created_at"), 0);

    /* vendor 2 is unaffected */
    bt_test_request(*state, "GET", "/api/v1/vendors/2/configs?category=payment", NULL, NULL, &r);
    bt_assert_subset(r.json, "{\"payment\":[{},{\"param_value\":\"300\"},"
                             "{\"param_value\":\"5\"}]}");
    bt_test_resp_release(&r);
}

static void test_configs_put_defaults_and_nulls(void **state)
{
    struct bt_test_resp r = {0};

    /* a new item without data_type is a string */
    bt_test_request(*state, "PUT", "/api/v1/vendors/2/configs", NULL,
                    "{\"configs\":[{\"category\":\"service\",\"param_key\":\"wechat\","
                    "\"param_value\":\"vb\"}]}",
                    &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"vendor_id\":2,\"updated_count\":1}");
    bt_test_request(*state, "GET", "/api/v1/vendors/2/configs?category=service", NULL, NULL, &r);
    bt_assert_subset(r.json, "{\"service\":[{},{},{},{\"param_key\":\"wechat\","
                             "\"data_type\":\"string\",\"display_name\":null}]}");

    /* an explicit null clears; a new data_type replaces */
    bt_test_request(*state, "PUT", "/api/v1/vendors/2/configs", NULL,
                    "{\"configs\":[{\"category\":\"payment\",\"param_key\":\"late_fee\","
                    "\"param_value\":\"300\",\"unit\":null,\"description\":null,"
                    "\"data_type\":\"string\"}]}",
                    &r);
    assert_int_equal(r.status, 200);
    bt_test_request(*state, "GET", "/api/v1/vendors/2/configs?category=payment", NULL, NULL, &r);
    bt_assert_subset(r.json, "{\"payment\":[{},{\"param_key\":\"late_fee\","
                             "\"data_type\":\"string\",\"unit\":null,\"description\":null,"
                             "\"display_name\":\"逾期手續費\"}]}");

    /* the same key twice in one request: the later item wins, both are counted */
    bt_test_request(*state, "PUT", "/api/v1/vendors/2/configs", NULL,
                    "{\"configs\":[{\"category\":\"payment\",\"param_key\":\"grace_period\","
                    "\"param_value\":\"7\"},{\"category\":\"payment\","
                    "\"param_key\":\"grace_period\",\"param_value\":\"9\"}]}",
                    &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"updated_count\":2}");
    bt_test_request(*state, "GET", "/api/v1/vendors/2/configs?category=payment", NULL, NULL, &r);
    bt_assert_subset(r.json, "{\"payment\":[{\"param_key\":\"grace_period\","
                             "\"param_value\":\"9\",\"unit\":\"天\"}]}");

    /* an empty list changes nothing */
    bt_test_request(*state, "PUT", "/api/v1/vendors/2/configs", NULL, "{\"configs\":[]}", &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"message\":\"配置已更新\",\"vendor_id\":2,\"updated_count\":0}");

    /* a deactivated config comes back when written again */
    db_exec(*state, "UPDATE vendorchat_vendor_configs SET is_active = FALSE"
                    " WHERE vendor_id = 2 AND param_key = 'line_id'");
    bt_test_request(*state, "PUT", "/api/v1/vendors/2/configs", NULL,
                    "{\"configs\":[{\"category\":\"contact\",\"param_key\":\"line_id\","
                    "\"param_value\":\"@vb2\"}]}",
                    &r);
    assert_int_equal(r.status, 200);
    bt_test_request(*state, "GET", "/api/v1/vendors/2/configs?category=contact", NULL, NULL, &r);
    bt_assert_subset(r.json, "{\"contact\":[{\"param_key\":\"line_id\",\"param_value\":\"@vb2\","
                             "\"is_active\":true}]}");
    bt_test_resp_release(&r);
}

static void test_configs_put_errors(void **state)
{
    struct bt_test_resp r = {0};
    const char *bad[] = {
        "{}",
        "{\"configs\":null}",
        "{\"configs\":{}}",
        "{\"configs\":\"x\"}",
        "{\"configs\":[1]}",
        "{\"configs\":[{\"param_key\":\"k\",\"param_value\":\"v\"}]}",
        "{\"configs\":[{\"category\":\"c\",\"param_value\":\"v\"}]}",
        "{\"configs\":[{\"category\":\"c\",\"param_key\":\"k\"}]}",
        "{\"configs\":[{\"category\":\"c\",\"param_key\":\"k\",\"param_value\":5}]}",
        "{\"configs\":[{\"category\":\"c\",\"param_key\":\"k\",\"param_value\":null}]}",
        "{\"configs\":[{\"category\":\"c\",\"param_key\":\"k\",\"param_value\":\"v\","
        "\"data_type\":\"float\"}]}",
        "{\"configs\":[{\"category\":\"c\",\"param_key\":\"k\",\"param_value\":\"v\","
        "\"unit\":3}]}",
        "{\"configs\":[{\"category\":\"\",\"param_key\":\"k\",\"param_value\":\"v\"}]}",
        /* one bad item refuses the whole request */
        "{\"configs\":[{\"category\":\"payment\",\"param_key\":\"payment_day\","
        "\"param_value\":\"28\"},{\"category\":\"c\",\"param_key\":\"k\"}]}",
        "[]",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        print_message("body %s\n", bad[i]);
        bt_test_request(*state, "PUT", "/api/v1/vendors/1/configs", NULL, bad[i], &r);
        assert_error(&r, 400, NULL);
    }

    bt_test_request(*state, "PUT", "/api/v1/vendors/999/configs", NULL,
                    "{\"configs\":[{\"category\":\"payment\",\"param_key\":\"payment_day\","
                    "\"param_value\":\"28\"}]}",
                    &r);
    assert_error(&r, 404, "業者不存在");
    assert_int_equal(
        db_i64(*state, "SELECT COUNT(*) FROM vendorchat_vendor_configs WHERE vendor_id = $1", 999),
        0);

    /* nothing changed for vendor 1 */
    bt_test_request(*state, "GET", "/api/v1/vendors/1/configs?category=payment", NULL, NULL, &r);
    bt_assert_subset(r.json, "{\"payment\":[{},{},{\"param_key\":\"payment_day\","
                             "\"param_value\":\"1\",\"updated_at\":null}]}");
    assert_int_equal(
        db_i64(*state, "SELECT COUNT(*) FROM vendorchat_vendor_configs WHERE vendor_id = $1", 1),
        12);
    bt_test_resp_release(&r);
}

/* ---- stats ---- */

/* spec 004 GET /api/v1/vendors/{vendor_id}/stats */
static void test_stats(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "GET", "/api/v1/vendors/1/stats", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_vendor_shape(json_object_get(r.json, "vendor"));
    bt_assert_subset(r.json, "{\"vendor\":{\"id\":1,\"code\":\"VENDOR_A\","
                             "\"name\":\"甲山林包租代管股份有限公司\",\"is_active\":true},"
                             "\"config_counts\":{\"payment\":4,\"contract\":3,\"service\":3,"
                             "\"contact\":2},\"total_configs\":12}");
    assert_int_equal(json_object_size(json_object_get(r.json, "config_counts")), 4);
    /* seed knowledge: vendor 1 has one customized row of its own */
    bt_assert_subset(r.json, "{\"knowledge\":{\"total_knowledge\":1,\"vendor_knowledge\":0,"
                             "\"customized_knowledge\":1}}");

    bt_test_request(*state, "GET", "/api/v1/vendors/2/stats", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"vendor\":{\"id\":2},\"total_configs\":12,"
                             "\"knowledge\":{\"total_knowledge\":1,\"vendor_knowledge\":1,"
                             "\"customized_knowledge\":0}}");

    bt_test_request(*state, "GET", "/api/v1/vendors/999/stats", NULL, NULL, &r);
    assert_error(&r, 404, "業者不存在");
    bt_test_resp_release(&r);
}

static void test_stats_counts_follow_changes(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "PUT", "/api/v1/vendors/1/configs", NULL,
                    "{\"configs\":[{\"category\":\"pets\",\"param_key\":\"pets_allowed\","
                    "\"param_value\":\"1\",\"data_type\":\"boolean\"},"
                    "{\"category\":\"payment\",\"param_key\":\"late_fee\",\"param_value\":\"1\"}]}",
                    &r);
    assert_int_equal(r.status, 200);
    db_exec(*state, "UPDATE vendorchat_vendor_configs SET is_active = FALSE"
                    " WHERE vendor_id = 1 AND param_key = 'line_id'");
    bt_test_request(*state, "GET", "/api/v1/vendors/1/stats", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"config_counts\":{\"payment\":4,\"contract\":3,\"service\":3,"
                             "\"contact\":1,\"pets\":1},\"total_configs\":12}");

    /* a new vendor has nothing yet */
    bt_test_request(*state, "POST", "/api/v1/vendors", NULL, "{\"code\":\"V3\",\"name\":\"三\"}",
                    &r);
    assert_int_equal(r.status, 201);
    bt_test_request(*state, "GET", "/api/v1/vendors/3/stats", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"vendor\":{\"id\":3},\"config_counts\":{},\"total_configs\":0,"
                             "\"knowledge\":{\"total_knowledge\":0,\"vendor_knowledge\":0,"
                             "\"customized_knowledge\":0}}");
    assert_int_equal(json_object_size(json_object_get(r.json, "config_counts")), 0);

    /* stats of an inactive vendor still work */
    bt_test_request(*state, "DELETE", "/api/v1/vendors/2", NULL, NULL, &r);
    bt_test_request(*state, "GET", "/api/v1/vendors/2/stats", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"vendor\":{\"id\":2,\"is_active\":false},\"total_configs\":12}");
    bt_test_resp_release(&r);
}

/* ---- /vendors/{id}/test ---- */

/* spec 004 GET /chat/v1/vendors/{vendor_id}/test: the document's example */
static void test_vendor_test(void **state)
{
    static const char *const paths[] = {"/chat/v1/vendors/1/test", "/api/v1/vendors/1/test"};
    static const char *const vkeys[] = {"id",
                                        "code",
                                        "name",
                                        "short_name",
                                        "contact_phone",
                                        "contact_email",
                                        "is_active",
                                        "subscription_plan"};
    struct bt_test_resp r = {0};

    for (size_t p = 0; p < 2; p++) {
        json_t *vendor, *val;
        const char *key;
        size_t i = 0;

        bt_test_request(*state, "GET", paths[p], NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        vendor = json_object_get(r.json, "vendor");
        assert_int_equal(json_object_size(vendor), 8);
        json_object_foreach(vendor, key, val)
        {
            assert_string_equal(key, vkeys[i]);
            i++;
        }
        bt_assert_subset(
            r.json,
            "{\"vendor\":{\"id\":1,\"code\":\"VENDOR_A\","
            "\"name\":\"甲山林包租代管股份有限公司\",\"short_name\":\"甲山林\","
            "\"contact_phone\":\"02-2345-6789\",\"contact_email\":\"service@vendorA.com\","
            "\"is_active\":true,\"subscription_plan\":\"premium\"},"
            "\"param_count\":12,"
            "\"parameters\":{\"payment_day\":{\"value\":\"1\",\"data_type\":\"number\","
            "\"unit\":\"號\",\"display_name\":\"繳費日期\",\"description\":\"每月繳費日期\"},"
            "\"late_fee\":{\"value\":\"200\",\"data_type\":\"number\",\"unit\":\"元\","
            "\"display_name\":\"逾期手續費\",\"description\":\"逾期繳費手續費\"},"
            "\"service_hotline\":{\"value\":\"02-2345-6789\",\"data_type\":\"string\","
            "\"unit\":null,\"display_name\":\"客服專線\",\"description\":\"24小時客服專線\"}},"
            "\"test_template\":{\"original\":\"繳費日為 {{payment_day}}，逾期費 {{late_fee}}。\","
            "\"resolved\":\"繳費日為 1 號，逾期費 200 元。\"}}");
        assert_int_equal(json_object_size(json_object_get(r.json, "parameters")), 12);
        assert_int_equal(json_object_size(bt_json_at(r.json, "/parameters/payment_day")), 5);
    }

    bt_test_request(*state, "GET", "/chat/v1/vendors/2/test", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json,
                     "{\"vendor\":{\"id\":2,\"code\":\"VENDOR_B\"},\"param_count\":12,"
                     "\"test_template\":{\"resolved\":\"繳費日為 5 號，逾期費 300 元。\"}}");

    bt_test_request(*state, "GET", "/chat/v1/vendors/999/test", NULL, NULL, &r);
    assert_error(&r, 404, "業者不存在: 999");
    bt_test_request(*state, "GET", "/api/v1/vendors/999/test", NULL, NULL, &r);
    assert_error(&r, 404, "業者不存在: 999");
    bt_test_resp_release(&r);
}

/* docs/apps/vendorchat.md "Requests and responses": a vendor with nothing optional and no
 * configs still gets every documented field, null where it has no value, and empty maps */
static void test_vendor_without_configs(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "POST", "/api/v1/vendors", NULL, "{\"code\":\"V_E\",\"name\":\"空\"}",
                    &r);
    assert_int_equal(r.status, 201);
    assert_int_equal(json_integer_value(json_object_get(r.json, "id")), 3);

    bt_test_request(*state, "GET", "/api/v1/vendors/3/configs", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_object(r.json));
    assert_int_equal(json_object_size(r.json), 0);

    bt_test_request(*state, "GET", "/chat/v1/vendors/3/test", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"vendor\":{\"id\":3,\"short_name\":null,\"contact_phone\":null,"
                             "\"contact_email\":null},\"param_count\":0,\"parameters\":{},"
                             "\"test_template\":{\"resolved\":"
                             "\"繳費日為 {{payment_day}}，逾期費 {{late_fee}}。\"}}");
    assert_int_equal(json_object_size(json_object_get(r.json, "parameters")), 0);

    bt_test_request(*state, "GET", "/api/v1/vendors/3/stats", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"vendor\":{\"id\":3,\"address\":null},\"config_counts\":{},"
                             "\"total_configs\":0,\"knowledge\":{\"total_knowledge\":0,"
                             "\"vendor_knowledge\":0,\"customized_knowledge\":0}}");
    assert_int_equal(json_object_size(json_object_get(r.json, "config_counts")), 0);
    bt_test_resp_release(&r);
}

/* note: a config change is visible at once (the original needed /reload; bento does not) */
static void test_config_change_visible_in_test(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "PUT", "/api/v1/vendors/1/configs", NULL,
                    "{\"configs\":[{\"category\":\"payment\",\"param_key\":\"payment_day\","
                    "\"param_value\":\"15\"},{\"category\":\"payment\",\"param_key\":\"late_fee\","
                    "\"param_value\":\"350.0\"}]}",
                    &r);
    assert_int_equal(r.status, 200);
    bt_test_request(*state, "GET", "/chat/v1/vendors/1/test", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json,
                     "{\"parameters\":{\"payment_day\":{\"value\":\"15\"},"
                     "\"late_fee\":{\"value\":\"350.0\",\"unit\":\"元\"}},"
                     "\"test_template\":{\"resolved\":\"繳費日為 15 號，逾期費 350 元。\"}}");

    /* a deactivated parameter is no longer injected: the placeholder stays */
    db_exec(*state, "UPDATE vendorchat_vendor_configs SET is_active = FALSE"
                    " WHERE vendor_id = 1 AND param_key = 'late_fee'");
    bt_test_request(*state, "GET", "/chat/v1/vendors/1/test", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"param_count\":11,\"test_template\":"
                             "{\"resolved\":\"繳費日為 15 號，逾期費 {{late_fee}}。\"}}");
    assert_null(bt_json_at(r.json, "/parameters/late_fee"));

    /* a vendor with no parameters resolves nothing */
    bt_test_request(*state, "POST", "/api/v1/vendors", NULL, "{\"code\":\"V3\",\"name\":\"三\"}",
                    &r);
    assert_int_equal(r.status, 201);
    bt_test_request(*state, "GET", "/chat/v1/vendors/3/test", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"vendor\":{\"id\":3,\"short_name\":null},\"param_count\":0,"
                             "\"parameters\":{},\"test_template\":{\"resolved\":"
                             "\"繳費日為 {{payment_day}}，逾期費 {{late_fee}}。\"}}");
    bt_test_resp_release(&r);
}

/* ---- /reload ---- */

/* spec 004 POST /chat/v1/reload */
static void test_reload(void **state)
{
    static const char *const paths[] = {"/chat/v1/reload", "/api/v1/reload"};
    struct bt_test_resp r = {0};

    for (size_t p = 0; p < 2; p++) {
        bt_test_request(*state, "POST", paths[p], NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        bt_assert_subset(r.json, "{\"success\":true,\"message\":\"多業者服務已重新載入\"}");
        assert_int_equal(json_object_size(r.json), 3);
        assert_iso(json_string_value(json_object_get(r.json, "timestamp")), 6);
    }
    /* the service works as before afterwards */
    bt_test_request(*state, "GET", "/chat/v1/vendors/1/test", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_test_request(*state, "GET", "/chat/v1/reload", NULL, NULL, &r);
    assert_error(&r, 405, NULL);
    bt_test_resp_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_seed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_duplicate_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_code_ignored_and_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configs_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configs_get_filter_and_inactive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configs_put_upsert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configs_put_defaults_and_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configs_put_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_counts_follow_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vendor_test, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vendor_without_configs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_change_visible_in_test, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
    };

    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
