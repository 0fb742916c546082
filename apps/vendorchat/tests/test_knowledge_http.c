/* SPDX-License-Identifier: MIT
 * test_knowledge_http.c - handler tier of the operator API (note "Vendors API details", last
 * point): knowledge and intent CRUD and import, the unanswered list, the knowledge generation
 * every write bumps, and that what an operator changes is what the next message answers.
 * Each test gets a fresh database with the seed rows; the same cases run on SQLite and
 * PostgreSQL.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"
#include "classify.h"

extern const struct bt_app bt_app_vendorchat;

#define SEED_KNOWLEDGE 17
#define SEED_INTENTS 10

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

static void assert_error(const struct bt_test_resp *r, int status, const char *detail)
{
    json_t *d;

    if (r->status != status)
        fail_msg("status %d (want %d): %s", r->status, status, r->body);
    assert_non_null(r->json);
    d = json_object_get(r->json, "detail");
    assert_true(json_is_string(d));
    if (detail)
        assert_string_equal(json_string_value(d), detail);
}

static void req(struct bt_test_app *t, const char *method, const char *path, const char *body,
                int status, struct bt_test_resp *r)
{
    bt_test_request(t, method, path, NULL, body, r);
    if (r->status != status)
        fail_msg("%s %s -> %d (want %d): %s", method, path, r->status, status, r->body);
}

static const char *chat_answer(struct bt_test_app *t, int64_t vendor, const char *msg,
                               struct bt_test_resp *r)
{
    json_t *j = json_pack("{s:s,s:I}", "message", msg, "vendor_id", (json_int_t)vendor);
    char *body = json_dumps(j, JSON_COMPACT);

    bt_test_request(t, "POST", "/chat/v1/message", NULL, body, r);
    free(body);
    json_decref(j);
    if (r->status != 200)
        fail_msg("%s -> %d: %s", msg, r->status, r->body);
    return bt_json_str(r->json, "/answer");
}

static int64_t intent_id(struct bt_test_app *t, const char *name)
{
    struct bt_test_resp r = {0};
    json_t *it;
    size_t i;
    int64_t id = 0;

    req(t, "GET", "/api/v1/intents", NULL, 200, &r);
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "name")), name) == 0)
            id = (int64_t)json_integer_value(json_object_get(it, "id"));
    }
    bt_test_resp_release(&r);
    assert_true(id > 0);
    return id;
}

static int64_t knowledge_gen(struct bt_test_app *t)
{
    struct bt_db *db = bt_test_db_get(t);
    struct bt_err err;
    int64_t gen = -1;

    bt_err_clear(&err);
    assert_int_equal(
        bt_db_query_i64(db, &gen, "SELECT value FROM vendorchat_meta WHERE key = 'knowledge_gen'",
                        BT_NOARGS, &err),
        BT_OK);
    bt_test_db_put(t, db);
    return gen;
}

static int64_t total_of(struct bt_test_app *t, const char *path)
{
    struct bt_test_resp r = {0};
    int64_t n;

    req(t, "GET", path, NULL, 200, &r);
    n = (int64_t)bt_json_int(r.json, "/total", -1);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")) <= (size_t)n, 1);
    bt_test_resp_release(&r);
    return n;
}

/* ---- knowledge: list ---- */

static void test_knowledge_list_and_filters(void **state)
{
    struct bt_test_resp r = {0};
    json_t *items, *first;
    char path[128];
    size_t i;

    req(*state, "GET", "/api/v1/knowledge", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"total\":17}");
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), SEED_KNOWLEDGE);
    first = json_array_get(items, 0);
    bt_assert_subset(first, "{\"question_summary\":\"每月繳費日期\",\"category\":\"payment\","
                            "\"audience\":\"tenant\",\"vendor_id\":null,\"scope\":\"global\","
                            "\"priority\":0,\"is_template\":true,\"is_active\":true,"
                            "\"updated_at\":null,\"intents\":[{\"kind\":\"primary\"}]}");
    assert_true(json_is_array(json_object_get(first, "keywords")));
    assert_true(json_array_size(json_object_get(first, "keywords")) > 5);
    assert_int_equal(json_array_size(json_object_get(first, "intent_ids")), 1);
    /* ids ascending */
    for (i = 1; i < json_array_size(items); i++)
        assert_true(json_integer_value(json_object_get(json_array_get(items, i), "id")) >
                    json_integer_value(json_object_get(json_array_get(items, i - 1), "id")));

    req(*state, "GET", "/api/v1/knowledge?vendor_id=1", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"total\":1,\"items\":[{\"scope\":\"customized\",\"vendor_id\":1,"
                             "\"priority\":10,\"question_summary\":\"客服專線是多少\"}]}");
    req(*state, "GET", "/api/v1/knowledge?scope=vendor", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"total\":1,\"items\":[{\"vendor_id\":2,\"priority\":5,"
                             "\"question_summary\":\"信用卡繳費說明\"}]}");
    assert_int_equal(total_of(*state, "/api/v1/knowledge?scope=global"), 15);
    snprintf(path, sizeof(path), "/api/v1/knowledge?intent_id=%lld",
             (long long)intent_id(*state, "帳務查詢"));
    assert_int_equal(total_of(*state, path), 5);
    snprintf(path, sizeof(path), "/api/v1/knowledge?intent_id=%lld&scope=vendor",
             (long long)intent_id(*state, "帳務查詢"));
    assert_int_equal(total_of(*state, path), 1);
    /* q: substring of question or answer; LIKE wildcards are literal */
    assert_int_equal(total_of(*state, "/api/v1/knowledge?q=%E6%8A%BC%E9%87%91"), 3); /* 押金 */
    assert_int_equal(total_of(*state, "/api/v1/knowledge?q=%E5%AE%98%E6%96%B9"), 5); /* 官方 */
    /* case-insensitive: "line" is in 「官方 LINE」 and in {{service_hotline}} */
    assert_int_equal(total_of(*state, "/api/v1/knowledge?q=LINE"), 12);
    assert_int_equal(total_of(*state, "/api/v1/knowledge?q=line"), 12);
    assert_int_equal(total_of(*state, "/api/v1/knowledge?q=%25"), 0);
    assert_int_equal(total_of(*state, "/api/v1/knowledge?q=%E6%8A%BC_"), 0); /* 押_ */
    assert_int_equal(total_of(*state, "/api/v1/knowledge?q=_day"),
                     7); /* payment_day, termination_notice_days */
    /* paging */
    req(*state, "GET", "/api/v1/knowledge?limit=2&offset=1", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"total\":17}");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    assert_int_equal(bt_json_int(r.json, "/items/0/id", 0), 2);
    req(*state, "GET", "/api/v1/knowledge?offset=100", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"total\":17,\"items\":[]}");
    bt_test_resp_release(&r);
}

static void test_knowledge_list_errors(void **state)
{
    static const char *const paths[] = {
        "/api/v1/knowledge?limit=0",     "/api/v1/knowledge?limit=201",
        "/api/v1/knowledge?limit=abc",   "/api/v1/knowledge?offset=-1",
        "/api/v1/knowledge?scope=bogus", "/api/v1/knowledge?vendor_id=abc",
        "/api/v1/knowledge?vendor_id=0", "/api/v1/knowledge?intent_id=-2",
    };
    struct bt_test_resp r = {0};

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        bt_test_request(*state, "GET", paths[i], NULL, NULL, &r);
        assert_error(&r, 400, NULL);
    }
    bt_test_resp_release(&r);
}

/* ---- knowledge: create / get / update / delete ---- */

static void test_knowledge_create_get(void **state)
{
    struct bt_test_resp r = {0};
    char body[512];
    int64_t id, it = intent_id(*state, "設備使用");
    const char *created;

    snprintf(body, sizeof(body),
             "{\"question_summary\":\"垃圾怎麼丟\",\"answer\":\"垃圾請於每晚八點後丟到一樓回收區，"
             "詳洽 {{service_hotline}}。\",\"category\":\"building\",\"keywords\":[\"垃圾\","
             "\"倒垃圾\",\"丟垃圾\",\"回收\"],\"intent_ids\":[%lld]}",
             (long long)it);
    req(*state, "POST", "/api/v1/knowledge", body, 201, &r);
    bt_assert_subset(r.json,
                     "{\"question_summary\":\"垃圾怎麼丟\",\"category\":\"building\","
                     "\"audience\":null,\"keywords\":[\"垃圾\",\"倒垃圾\",\"丟垃圾\",\"回收\"],"
                     "\"vendor_id\":null,\"scope\":\"global\",\"priority\":0,"
                     "\"is_template\":true,\"is_active\":true,"
                     "\"intents\":[{\"kind\":\"primary\"}]}");
    assert_int_equal(bt_json_int(r.json, "/intent_ids/0", 0), it);
    id = (int64_t)bt_json_int(r.json, "/id", 0);
    assert_true(id > SEED_KNOWLEDGE);
    created = bt_json_str(r.json, "/created_at");
    assert_non_null(created);
    assert_int_equal(strlen(created), 19);

    bt_test_requestf(*state, "GET", NULL, &r, "/api/v1/knowledge/%lld", (long long)id);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"question_summary\":\"垃圾怎麼丟\",\"scope\":\"global\"}");
    assert_int_equal(total_of(*state, "/api/v1/knowledge"), SEED_KNOWLEDGE + 1);

    /* the new row answers the next message, for every vendor, with their values */
    assert_non_null(strstr(chat_answer(*state, 1, "垃圾要丟哪裡", &r), "一樓回收區"));
    assert_non_null(strstr(chat_answer(*state, 1, "垃圾要丟哪裡", &r), "02-2345-6789"));
    assert_non_null(strstr(chat_answer(*state, 2, "倒垃圾的時間", &r), "02-8765-4321"));
    bt_assert_subset(r.json, "{\"intent_name\":\"設備使用\"}");

    /* vendor scope defaults when vendor_id is given; visible to that vendor only */
    req(*state, "POST", "/api/v1/knowledge",
        "{\"question_summary\":\"停車位租金\",\"answer\":\"機車位每月 500 元，洽 {{line_id}}。\","
        "\"keywords\":[\"停車\",\"車位\",\"機車位\"],\"vendor_id\":2,\"priority\":3,"
        "\"intents\":[{\"intent_id\":7,\"kind\":\"secondary\"}]}",
        201, &r);
    bt_assert_subset(r.json,
                     "{\"scope\":\"vendor\",\"vendor_id\":2,\"priority\":3,"
                     "\"intent_ids\":[7],\"intents\":[{\"intent_id\":7,\"kind\":\"secondary\"}]}");
    assert_non_null(
        strstr(chat_answer(*state, 2, "機車位怎麼租", &r), "機車位每月 500 元，洽 @vendorB"));
    assert_null(strstr(chat_answer(*state, 1, "機車位怎麼租", &r), "500 元"));

    /* customized for vendor 1 */
    req(*state, "POST", "/api/v1/knowledge",
        "{\"question_summary\":\"押金是多少\",\"answer\":\"甲山林押金一律 "
        "{{deposit_months}}租金。\","
        "\"keywords\":[\"押金\",\"保證金\"],\"vendor_id\":1,\"scope\":\"customized\","
        "\"is_template\":true}",
        201, &r);
    assert_non_null(
        strstr(chat_answer(*state, 1, "押金要付幾個月", &r), "甲山林押金一律 2 月租金"));
    assert_null(strstr(chat_answer(*state, 2, "押金要付幾個月", &r), "甲山林"));
    bt_test_resp_release(&r);
}

static void test_knowledge_create_errors(void **state)
{
    static const struct {
        const char *body;
        int status;
        const char *detail;
    } cases[] = {
        {"{\"answer\":\"a\"}", 400, NULL},
        {"{\"question_summary\":\"q\"}", 400, NULL},
        {"{\"question_summary\":\"\",\"answer\":\"a\"}", 400, NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"  \"}", 400, NULL},
        {"{\"question_summary\":5,\"answer\":\"a\"}", 400, NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"scope\":\"everyone\"}", 400, NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"keywords\":\"押金\"}", 400, NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"keywords\":[\"\"]}", 400, NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"keywords\":[1]}", 400, NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"priority\":\"high\"}", 400, NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"vendor_id\":0}", 400, NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"intent_ids\":[0]}", 400, NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"intents\":[{\"kind\":\"primary\"}]}", 400,
         NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"intents\":[{\"intent_id\":1,"
         "\"kind\":\"main\"}]}",
         400, NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"scope\":\"customized\"}", 400, NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"scope\":\"vendor\"}", 400, NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"scope\":\"global\",\"vendor_id\":1}", 400,
         NULL},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"vendor_id\":999}", 404, "業者不存在: 999"},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"scope\":\"customized\",\"vendor_id\":999}",
         404, "業者不存在: 999"},
        {"{\"question_summary\":\"q\",\"answer\":\"a\",\"intent_ids\":[999]}", 404,
         "意圖不存在: 999"},
        {"[]", 400, NULL},
        {"{", 400, NULL},
    };
    struct bt_test_resp r = {0};
    char *long_kw;
    int64_t gen = knowledge_gen(*state);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bt_test_request(*state, "POST", "/api/v1/knowledge", NULL, cases[i].body, &r);
        if (r.status != cases[i].status)
            fail_msg("%s -> %d: %s", cases[i].body, r.status, r.body);
        assert_error(&r, cases[i].status, cases[i].detail);
    }
    /* a keyword of 101 characters */
    long_kw = malloc(300);
    assert_non_null(long_kw);
    strcpy(long_kw, "{\"question_summary\":\"q\",\"answer\":\"a\",\"keywords\":[\"");
    for (int i = 0; i < 101; i++)
        strcat(long_kw, "k");
    strcat(long_kw, "\"]}");
    bt_test_request(*state, "POST", "/api/v1/knowledge", NULL, long_kw, &r);
    assert_error(&r, 400, NULL);
    free(long_kw);
    /* nothing was written, not even the generation */
    assert_int_equal(total_of(*state, "/api/v1/knowledge"), SEED_KNOWLEDGE);
    assert_int_equal(knowledge_gen(*state), gen);
    bt_test_resp_release(&r);
}

static void test_knowledge_get_errors(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_request(*state, "GET", "/api/v1/knowledge/9999", NULL, NULL, &r);
    assert_error(&r, 404, "知識不存在");
    bt_test_request(*state, "GET", "/api/v1/knowledge/abc", NULL, NULL, &r);
    assert_error(&r, 400, NULL);
    bt_test_request(*state, "GET", "/api/v1/knowledge/0", NULL, NULL, &r);
    assert_error(&r, 400, NULL);
    bt_test_request(*state, "GET", "/api/v1/knowledge/99999999999999999999", NULL, NULL, &r);
    assert_error(&r, 400, NULL);
    bt_test_resp_release(&r);
}

static void test_knowledge_update(void **state)
{
    struct bt_test_resp r = {0};
    int64_t gen = knowledge_gen(*state);
    int64_t it = intent_id(*state, "退租流程");
    char body[256];

    /* knowledge 6 is 押金是多少 */
    req(*state, "GET", "/api/v1/knowledge/6", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"question_summary\":\"押金是多少\"}");
    req(*state, "PUT", "/api/v1/knowledge/6",
        "{\"answer\":\"押金為 {{deposit_months}}租金，退租點交後 14 天內退還。\",\"priority\":4}",
        200, &r);
    bt_assert_subset(r.json, "{\"question_summary\":\"押金是多少\",\"priority\":4,"
                             "\"scope\":\"global\",\"category\":\"contract\"}");
    assert_true(json_is_string(json_object_get(r.json, "updated_at")));
    assert_true(knowledge_gen(*state) > gen);
    assert_non_null(strstr(chat_answer(*state, 2, "押金是多少", &r), "14 天內退還"));

    /* replace the intent mapping */
    snprintf(body, sizeof(body), "{\"intent_ids\":[%lld]}", (long long)it);
    req(*state, "PUT", "/api/v1/knowledge/6", body, 200, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "intent_ids")), 1);
    assert_int_equal(bt_json_int(r.json, "/intent_ids/0", 0), it);
    req(*state, "PUT", "/api/v1/knowledge/6", "{\"intents\":[]}", 200, &r);
    bt_assert_subset(r.json, "{\"intent_ids\":[],\"intents\":[]}");
    /* absent mapping fields keep the mapping */
    req(*state, "PUT", "/api/v1/knowledge/6", body, 200, &r);
    req(*state, "PUT", "/api/v1/knowledge/6", "{\"category\":null}", 200, &r);
    bt_assert_subset(r.json, "{\"category\":null,\"intents\":[{\"kind\":\"primary\"}]}");

    /* scope rule on the row as it will be */
    bt_test_request(*state, "PUT", "/api/v1/knowledge/6", NULL, "{\"scope\":\"customized\"}", &r);
    assert_error(&r, 400, NULL);
    bt_test_request(*state, "PUT", "/api/v1/knowledge/6", NULL,
                    "{\"scope\":\"vendor\",\"vendor_id\":999}", &r);
    assert_error(&r, 404, "業者不存在: 999");
    req(*state, "PUT", "/api/v1/knowledge/6", "{\"scope\":\"customized\",\"vendor_id\":2}", 200,
        &r);
    bt_assert_subset(r.json, "{\"scope\":\"customized\",\"vendor_id\":2}");
    assert_null(strstr(chat_answer(*state, 1, "押金是多少", &r), "14 天內退還"));
    assert_non_null(strstr(chat_answer(*state, 2, "押金是多少", &r), "14 天內退還"));
    bt_test_request(*state, "PUT", "/api/v1/knowledge/6", NULL, "{\"vendor_id\":null}", &r);
    assert_error(&r, 400, NULL);
    req(*state, "PUT", "/api/v1/knowledge/6", "{\"scope\":\"global\",\"vendor_id\":null}", 200, &r);

    /* deactivated rows no longer answer */
    req(*state, "PUT", "/api/v1/knowledge/6", "{\"is_active\":false}", 200, &r);
    bt_assert_subset(r.json, "{\"is_active\":false}");
    assert_null(strstr(chat_answer(*state, 2, "押金是多少", &r), "14 天內退還"));

    /* errors */
    bt_test_request(*state, "PUT", "/api/v1/knowledge/9999", NULL, "{\"priority\":1}", &r);
    assert_error(&r, 404, "知識不存在");
    bt_test_request(*state, "PUT", "/api/v1/knowledge/6", NULL, "{\"answer\":\"\"}", &r);
    assert_error(&r, 400, NULL);
    bt_test_request(*state, "PUT", "/api/v1/knowledge/6", NULL, "{\"intent_ids\":[999]}", &r);
    assert_error(&r, 404, "意圖不存在: 999");
    bt_test_request(*state, "PUT", "/api/v1/knowledge/x", NULL, "{}", &r);
    assert_error(&r, 400, NULL);
    req(*state, "PUT", "/api/v1/knowledge/6", "{}", 200, &r);
    bt_test_resp_release(&r);
}

static void test_knowledge_delete(void **state)
{
    struct bt_test_resp r = {0};
    int64_t gen = knowledge_gen(*state);

    /* knowledge 14 is 官方LINE帳號 */
    assert_non_null(strstr(chat_answer(*state, 1, "有LINE嗎", &r), "歡迎加入我們的官方 LINE"));
    req(*state, "DELETE", "/api/v1/knowledge/14", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"knowledge_id\":14}");
    assert_true(json_is_string(json_object_get(r.json, "message")));
    assert_true(knowledge_gen(*state) > gen);
    bt_test_request(*state, "GET", "/api/v1/knowledge/14", NULL, NULL, &r);
    assert_error(&r, 404, "知識不存在");
    bt_test_request(*state, "DELETE", "/api/v1/knowledge/14", NULL, NULL, &r);
    assert_error(&r, 404, "知識不存在");
    bt_test_request(*state, "DELETE", "/api/v1/knowledge/-1", NULL, NULL, &r);
    assert_error(&r, 400, NULL);
    assert_null(strstr(chat_answer(*state, 1, "有LINE嗎", &r), "歡迎加入我們的官方 LINE"));
    assert_int_equal(total_of(*state, "/api/v1/knowledge"), SEED_KNOWLEDGE - 1);
    bt_test_resp_release(&r);
}

/* ---- knowledge: import ---- */

static void test_knowledge_import(void **state)
{
    struct bt_test_resp r = {0};
    int64_t gen = knowledge_gen(*state);

    req(*state, "POST", "/api/v1/knowledge/import",
        "[{\"question_summary\":\"可以養寵物嗎\",\"answer\":\"經房東同意可飼養小型寵物，押金另計 "
        "{{deposit_months}}。\",\"keywords\":[\"寵物\",\"養貓\",\"養狗\"]},"
        "{\"question_summary\":\"網路怎麼申請\",\"answer\":\"網路請洽 {{line_id}}。\","
        "\"keywords\":[\"網路\",\"wifi\"],\"vendor_id\":1}]",
        200, &r);
    bt_assert_subset(r.json, "{\"imported\":2}");
    assert_true(knowledge_gen(*state) > gen);
    assert_int_equal(total_of(*state, "/api/v1/knowledge"), SEED_KNOWLEDGE + 2);
    assert_non_null(strstr(chat_answer(*state, 2, "可以養貓嗎", &r), "小型寵物"));
    assert_non_null(strstr(chat_answer(*state, 1, "wifi怎麼申請", &r), "@vendorA"));

    req(*state, "POST", "/api/v1/knowledge/import", "[]", 200, &r);
    bt_assert_subset(r.json, "{\"imported\":0}");
    bt_test_resp_release(&r);
}

/* all or nothing: one bad item and no row is stored */
static void test_knowledge_import_atomic(void **state)
{
    struct bt_test_resp r = {0};
    int64_t gen = knowledge_gen(*state);

    bt_test_request(*state, "POST", "/api/v1/knowledge/import", NULL,
                    "[{\"question_summary\":\"a\",\"answer\":\"b\"},"
                    "{\"question_summary\":\"c\",\"answer\":\"d\",\"vendor_id\":999}]",
                    &r);
    assert_error(&r, 404, "業者不存在: 999");
    bt_test_request(*state, "POST", "/api/v1/knowledge/import", NULL,
                    "[{\"question_summary\":\"a\",\"answer\":\"b\"},"
                    "{\"question_summary\":\"c\",\"answer\":\"d\",\"intent_ids\":[4242]}]",
                    &r);
    assert_error(&r, 404, "意圖不存在: 4242");
    bt_test_request(*state, "POST", "/api/v1/knowledge/import", NULL,
                    "[{\"question_summary\":\"a\",\"answer\":\"b\"},{\"question_summary\":\"c\"}]",
                    &r);
    assert_error(&r, 400, NULL);
    assert_non_null(strstr(bt_json_str(r.json, "/detail"), "[1].answer"));
    bt_test_request(*state, "POST", "/api/v1/knowledge/import", NULL,
                    "{\"question_summary\":\"a\",\"answer\":\"b\"}", &r);
    assert_error(&r, 400, NULL);
    bt_test_request(*state, "POST", "/api/v1/knowledge/import", NULL, "[1,2]", &r);
    assert_error(&r, 400, NULL);
    assert_int_equal(total_of(*state, "/api/v1/knowledge"), SEED_KNOWLEDGE);
    assert_int_equal(knowledge_gen(*state), gen);
    bt_test_resp_release(&r);
}

/* ---- intents ---- */

static void test_intent_list_get(void **state)
{
    struct bt_test_resp r = {0};
    json_t *it;

    req(*state, "GET", "/api/v1/intents", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"total\":10}");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), SEED_INTENTS);
    it = json_array_get(json_object_get(r.json, "items"), 0);
    bt_assert_subset(it, "{\"id\":1,\"name\":\"退租流程\",\"type\":\"knowledge\","
                         "\"confidence_threshold\":0.5,\"is_enabled\":true,\"usage_count\":0,"
                         "\"last_used_at\":null}");
    assert_true(json_is_real(json_object_get(it, "confidence_threshold")));
    assert_true(json_array_size(json_object_get(it, "keywords")) > 5);
    req(*state, "GET", "/api/v1/intents/6", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"name\":\"帳務查詢\",\"type\":\"data_query\"}");
    assert_non_null(strstr(r.body, "\"繳費日\""));
    bt_test_request(*state, "GET", "/api/v1/intents/99", NULL, NULL, &r);
    assert_error(&r, 404, "意圖不存在");
    bt_test_request(*state, "GET", "/api/v1/intents/abc", NULL, NULL, &r);
    assert_error(&r, 400, NULL);
    bt_test_resp_release(&r);
}

static void test_intent_create_used_by_classifier(void **state)
{
    struct bt_test_resp r = {0};
    int64_t gen = knowledge_gen(*state), id;
    char body[256];

    /* before: nothing knows about pets */
    chat_answer(*state, 1, "可以養貓嗎", &r);
    bt_assert_subset(r.json, "{\"intent_name\":\"unclear\"}");

    req(*state, "POST", "/api/v1/intents",
        "{\"name\":\"寵物規定\",\"type\":\"knowledge\",\"description\":\"飼養寵物的規定\","
        "\"keywords\":[\"寵物\",\"養貓\",\"養狗\",\"毛小孩\"],\"confidence_threshold\":0.4,"
        "\"priority\":1}",
        201, &r);
    bt_assert_subset(r.json,
                     "{\"name\":\"寵物規定\",\"type\":\"knowledge\",\"confidence_threshold\":"
                     "0.4,\"is_enabled\":true,\"priority\":1,\"usage_count\":0,"
                     "\"keywords\":[\"寵物\",\"養貓\",\"養狗\",\"毛小孩\"]}");
    id = (int64_t)bt_json_int(r.json, "/id", 0);
    assert_true(knowledge_gen(*state) > gen);
    /* the intent is known, the knowledge is not yet: the second fallback, recorded */
    assert_string_equal(chat_answer(*state, 1, "可以養貓嗎", &r),
                        "很抱歉，關於「寵物規定」我目前沒有相關資訊。建議您撥打客服專線 "
                        "02-2345-6789 獲取協助。");
    snprintf(body, sizeof(body),
             "{\"question_summary\":\"可以養寵物嗎\",\"answer\":\"需經房東書面同意。\","
             "\"keywords\":[\"寵物\",\"養貓\"],\"intent_ids\":[%lld]}",
             (long long)id);
    req(*state, "POST", "/api/v1/knowledge", body, 201, &r);
    assert_string_equal(chat_answer(*state, 1, "可以養貓嗎", &r), "需經房東書面同意。");
    bt_assert_subset(r.json, "{\"intent_name\":\"寵物規定\",\"intent_type\":\"knowledge\"}");

    /* defaults */
    req(*state, "POST", "/api/v1/intents", "{\"name\":\"其他\"}", 201, &r);
    bt_assert_subset(r.json, "{\"type\":\"knowledge\",\"description\":null,\"keywords\":[],"
                             "\"confidence_threshold\":0.5,\"is_enabled\":true,\"priority\":0}");
    bt_test_resp_release(&r);
}

static void test_intent_create_errors(void **state)
{
    static const char *const bad[] = {
        "{}",
        "{\"name\":\"\"}",
        "{\"name\":\" \"}",
        "{\"name\":1}",
        "{\"name\":\"x\",\"type\":\"chitchat\"}",
        "{\"name\":\"x\",\"confidence_threshold\":1.5}",
        "{\"name\":\"x\",\"confidence_threshold\":-0.1}",
        "{\"name\":\"x\",\"confidence_threshold\":\"high\"}",
        "{\"name\":\"x\",\"keywords\":[\"a\",null]}",
        "{\"name\":\"x\",\"is_enabled\":\"yes\"}",
        "[]",
    };
    struct bt_test_resp r = {0};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bt_test_request(*state, "POST", "/api/v1/intents", NULL, bad[i], &r);
        if (r.status != 400)
            fail_msg("%s -> %d: %s", bad[i], r.status, r.body);
    }
    bt_test_request(*state, "POST", "/api/v1/intents", NULL, "{\"name\":\"帳務查詢\"}", &r);
    assert_error(&r, 400, "意圖已存在: 帳務查詢");
    assert_int_equal(total_of(*state, "/api/v1/intents"), SEED_INTENTS);
    bt_test_resp_release(&r);
}

static void test_intent_update(void **state)
{
    struct bt_test_resp r = {0};

    req(*state, "PUT", "/api/v1/intents/9",
        "{\"keywords\":[\"看房\",\"預約看房\",\"看屋\"],\"description\":\"帶看\","
        "\"confidence_threshold\":0.6}",
        200, &r);
    bt_assert_subset(r.json, "{\"name\":\"預約看房\",\"description\":\"帶看\","
                             "\"keywords\":[\"看房\",\"預約看房\",\"看屋\"],"
                             "\"confidence_threshold\":0.6,\"type\":\"action\"}");
    assert_true(json_is_string(json_object_get(r.json, "updated_at")));
    chat_answer(*state, 1, "我想預約看房", &r);
    bt_assert_subset(r.json, "{\"intent_name\":\"預約看房\"}");

    /* disabled intents are not used */
    req(*state, "PUT", "/api/v1/intents/9", "{\"is_enabled\":false}", 200, &r);
    chat_answer(*state, 1, "我想預約看房", &r);
    bt_assert_subset(r.json, "{\"intent_name\":\"unclear\"}");

    /* rename; to a taken name is refused */
    req(*state, "PUT", "/api/v1/intents/9", "{\"name\":\"看房預約\",\"is_enabled\":true}", 200, &r);
    chat_answer(*state, 1, "我想預約看房", &r);
    bt_assert_subset(r.json, "{\"intent_name\":\"看房預約\"}");
    req(*state, "PUT", "/api/v1/intents/9", "{\"name\":\"看房預約\"}", 200, &r);
    bt_test_request(*state, "PUT", "/api/v1/intents/9", NULL, "{\"name\":\"帳務查詢\"}", &r);
    assert_error(&r, 400, "意圖已存在: 帳務查詢");
    bt_test_request(*state, "PUT", "/api/v1/intents/99", NULL, "{\"priority\":1}", &r);
    assert_error(&r, 404, "意圖不存在");
    bt_test_request(*state, "PUT", "/api/v1/intents/9", NULL, "{\"type\":\"other\"}", &r);
    assert_error(&r, 400, NULL);
    bt_test_request(*state, "PUT", "/api/v1/intents/0", NULL, "{}", &r);
    assert_error(&r, 400, NULL);
    bt_test_resp_release(&r);
}

static void test_intent_delete(void **state)
{
    struct bt_test_resp r = {0};
    int64_t gen = knowledge_gen(*state);

    /* intent 8 (設備報修) maps 如何報修 (12) and 緊急維修 (13) */
    req(*state, "DELETE", "/api/v1/intents/8", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"intent_id\":8}");
    assert_true(knowledge_gen(*state) > gen);
    bt_test_request(*state, "GET", "/api/v1/intents/8", NULL, NULL, &r);
    assert_error(&r, 404, "意圖不存在");
    bt_test_request(*state, "DELETE", "/api/v1/intents/8", NULL, NULL, &r);
    assert_error(&r, 404, "意圖不存在");
    req(*state, "GET", "/api/v1/knowledge/13", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"intent_ids\":[]}");
    req(*state, "GET", "/api/v1/knowledge/12", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "intent_ids")), 1); /* 設備使用 */
    assert_int_equal(total_of(*state, "/api/v1/intents"), SEED_INTENTS - 1);
    /* the knowledge still answers, through its text */
    assert_non_null(strstr(chat_answer(*state, 1, "半夜漏水怎麼辦", &r), "24小時"));
    bt_test_resp_release(&r);
}

static void test_intent_import(void **state)
{
    struct bt_test_resp r = {0};
    int64_t gen = knowledge_gen(*state);

    req(*state, "POST", "/api/v1/intents/import",
        "[{\"name\":\"帳務查詢\",\"keywords\":[\"繳費\",\"租金\",\"帳單\"]},"
        "{\"name\":\"寵物規定\",\"type\":\"knowledge\",\"keywords\":[\"寵物\",\"養貓\"]}]",
        200, &r);
    bt_assert_subset(r.json, "{\"imported\":2,\"created\":1,\"updated\":1}");
    assert_true(knowledge_gen(*state) > gen);
    assert_int_equal(total_of(*state, "/api/v1/intents"), SEED_INTENTS + 1);
    req(*state, "GET", "/api/v1/intents/6", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"name\":\"帳務查詢\",\"keywords\":[\"繳費\",\"租金\",\"帳單\"],"
                             "\"type\":\"data_query\"}");

    /* all or nothing */
    gen = knowledge_gen(*state);
    bt_test_request(*state, "POST", "/api/v1/intents/import", NULL,
                    "[{\"name\":\"新的\"},{\"name\":\"壞的\",\"type\":\"bogus\"}]", &r);
    assert_error(&r, 400, NULL);
    bt_test_request(*state, "POST", "/api/v1/intents/import", NULL,
                    "[{\"name\":\"新的\"},{\"name\":\"寵物規定\",\"name\":\"押金\","
                    "\"confidence_threshold\":2}]",
                    &r);
    assert_error(&r, 400, NULL);
    bt_test_request(*state, "POST", "/api/v1/intents/import", NULL, "{\"name\":\"x\"}", &r);
    assert_error(&r, 400, NULL);
    assert_int_equal(total_of(*state, "/api/v1/intents"), SEED_INTENTS + 1);
    assert_int_equal(knowledge_gen(*state), gen);
    bt_test_resp_release(&r);
}

/* ---- unanswered ---- */

static void test_unanswered_list(void **state)
{
    static const char *const msgs[] = {"今天天氣如何", "晚餐吃什麼", "我想預約看房"};
    struct bt_test_resp r = {0};

    req(*state, "GET", "/api/v1/unanswered", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"total\":0,\"items\":[]}");
    for (size_t i = 0; i < 3; i++)
        chat_answer(*state, 1, msgs[i], &r);
    chat_answer(*state, 2, "推薦好看的電影", &r);
    chat_answer(*state, 2, "押金是多少", &r); /* answered: not recorded */

    req(*state, "GET", "/api/v1/unanswered", NULL, 200, &r);
    bt_assert_subset(r.json,
                     "{\"total\":4,\"items\":[{\"vendor_id\":2,\"message\":\"推薦好看的電影\","
                     "\"intent_name\":\"unclear\",\"session_id\":null,\"user_id\":null},"
                     "{\"vendor_id\":1,\"message\":\"我想預約看房\","
                     "\"intent_name\":\"預約看房\"}]}");
    assert_true(json_is_integer(bt_json_at(r.json, "/items/0/id")));
    assert_true(json_is_string(bt_json_at(r.json, "/items/0/created_at")));
    req(*state, "GET", "/api/v1/unanswered?vendor_id=1&limit=2&offset=1", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"total\":3,\"items\":[{\"message\":\"晚餐吃什麼\"},"
                             "{\"message\":\"今天天氣如何\"}]}");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    req(*state, "GET", "/api/v1/unanswered?vendor_id=999", NULL, 200, &r);
    bt_assert_subset(r.json, "{\"total\":0,\"items\":[]}");

    bt_test_request(*state, "GET", "/api/v1/unanswered?limit=0", NULL, NULL, &r);
    assert_error(&r, 400, NULL);
    bt_test_request(*state, "GET", "/api/v1/unanswered?limit=500", NULL, NULL, &r);
    assert_error(&r, 400, NULL);
    bt_test_request(*state, "GET", "/api/v1/unanswered?vendor_id=x", NULL, NULL, &r);
    assert_error(&r, 400, NULL);
    bt_test_request(*state, "GET", "/api/v1/unanswered?offset=-5", NULL, NULL, &r);
    assert_error(&r, 400, NULL);
    bt_test_resp_release(&r);
}

/* ---- concurrency: messages keep answering while an operator edits knowledge ---- */

struct chatter {
    struct bt_test_app *t;
    atomic_int *bad;
};

static void *chatter_run(void *p)
{
    struct chatter *c = p;
    struct bt_test_resp r = {0};

    for (int i = 0; i < 20; i++) {
        bt_test_request(c->t, "POST", "/chat/v1/message", NULL,
                        i % 2 ? "{\"message\":\"押金是多少\",\"vendor_id\":1}"
                              : "{\"message\":\"房租幾號要繳\",\"vendor_id\":2}",
                        &r);
        if (r.status != 200 ||
            !strstr(bt_json_str(r.json, "/answer") ? bt_json_str(r.json, "/answer") : "",
                    i % 2 ? "2 月" : "5 號"))
            atomic_fetch_add(c->bad, 1);
    }
    bt_test_resp_release(&r);
    return NULL;
}

static void test_concurrent_messages_during_edits(void **state)
{
    struct vendorchat_state *st = bt_test_ctx(*state)->state;
    struct bt_test_resp r = {0};
    pthread_t th[3];
    struct chatter c;
    atomic_int bad;
    uint64_t builds;

    atomic_init(&bad, 0);
    c.t = *state;
    c.bad = &bad;
    chat_answer(*state, 1, "押金是多少", &r);
    builds = vendorchat_index_builds(st->index);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, chatter_run, &c), 0);
    for (int i = 0; i < 10; i++) {
        char body[128];
        snprintf(body, sizeof(body), "{\"priority\":%d}", i);
        bt_test_request(*state, "PUT", "/api/v1/knowledge/13", NULL, body, &r);
        if (r.status != 200)
            atomic_fetch_add(&bad, 1);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&bad), 0);
    chat_answer(*state, 1, "押金是多少", &r);
    assert_true(vendorchat_index_builds(st->index) > builds);
    bt_test_resp_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_knowledge_list_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_knowledge_list_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_knowledge_create_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_knowledge_create_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_knowledge_get_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_knowledge_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_knowledge_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_knowledge_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_knowledge_import_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intent_list_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intent_create_used_by_classifier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intent_create_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intent_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intent_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intent_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unanswered_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_messages_during_edits, setup, teardown),
    };

    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
