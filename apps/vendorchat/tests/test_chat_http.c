/* SPDX-License-Identifier: MIT
 * test_chat_http.c - handler tier of POST /chat/v1/message (document 004 "Chat API", note
 * "The message pipeline"): the document's test script, everyday tenant phrasings answered
 * with each vendor's own values, scope ranking, response shape, fallbacks, every error path.
 * Each test gets a fresh database with the seed vendors, intents and knowledge; the same cases
 * run on SQLite and PostgreSQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"
#include "classify.h"

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

static void assert_error(const struct bt_test_resp *r, int status, const char *detail)
{
    json_t *d;

    if (r->status != status)
        fail_msg("status %d (want %d): %s", r->status, status, r->body);
    assert_non_null(r->json);
    d = json_object_get(r->json, "detail");
    assert_true(json_is_string(d));
    assert_true(json_string_length(d) > 0);
    if (detail)
        assert_string_equal(json_string_value(d), detail);
}

/* POST a message to vendor (json_pack escapes the text). extra: more members as JSON text
 * ("\"top_k\":1") or NULL. */
static void chat_on(struct bt_test_app *t, const char *path, int64_t vendor, const char *msg,
                    const char *extra, struct bt_test_resp *r)
{
    json_t *j = json_pack("{s:s,s:I}", "message", msg, "vendor_id", (json_int_t)vendor);
    char *body = json_dumps(j, JSON_COMPACT);
    char *full;

    assert_non_null(body);
    if (extra) {
        body[strlen(body) - 1] = '\0'; /* drop the closing brace */
        assert_true(asprintf(&full, "%s,%s}", body, extra) > 0);
    } else {
        full = strdup(body);
    }
    bt_test_request(t, "POST", path, NULL, full, r);
    free(full);
    free(body);
    json_decref(j);
}

static void chat(struct bt_test_app *t, int64_t vendor, const char *msg, const char *extra,
                 struct bt_test_resp *r)
{
    chat_on(t, "/chat/v1/message", vendor, msg, extra, r);
    if (r->status != 200)
        fail_msg("%s -> %d: %s", msg, r->status, r->body);
}

static const char *answer_of(const struct bt_test_resp *r)
{
    const char *a = bt_json_str(r->json, "/answer");

    assert_non_null(a);
    return a;
}

static void assert_contains(const char *hay, const char *needle, const char *msg)
{
    if (!strstr(hay, needle))
        fail_msg("answer to 「%s」 lacks 「%s」: %s", msg, needle, hay);
}

/* ---- the document's test script ---- */

/* spec 004 §測試腳本: 測試 1 and 2 */
static void test_document_script(void **state)
{
    struct bt_test_resp r = {0};

    chat(*state, 1, "每月繳費日期是什麼時候？", NULL, &r);
    assert_contains(answer_of(&r), "1 號", "每月繳費日期是什麼時候？");
    assert_contains(answer_of(&r), "200 元", "每月繳費日期是什麼時候？");
    /* word for word the document's sample answer (spec 004 §回應 成功回應) */
    assert_string_equal(answer_of(&r),
                        "您的租金繳費日為每月 1 號，請務必在期限前完成繳費。如果超過繳費日 5 "
                        "天仍未繳納，將加收 200 元的逾期手續費。");
    chat(*state, 2, "每月繳費日期是什麼時候？", NULL, &r);
    assert_contains(answer_of(&r), "5 號", "每月繳費日期是什麼時候？");
    assert_contains(answer_of(&r), "300 元", "每月繳費日期是什麼時候？");
    assert_contains(answer_of(&r), "3 天", "每月繳費日期是什麼時候？");
    /* the document's second cURL example */
    chat(*state, 2, "客服專線是多少？", "\"mode\":\"tenant\"", &r);
    assert_contains(answer_of(&r), "02-8765-4321", "客服專線是多少？");
    bt_test_resp_release(&r);
}

/* spec 004 §回應: every field, in the document's order, with its type */
static void test_response_shape(void **state)
{
    static const char *const order[] = {
        "answer",       "intent_name",       "intent_type", "confidence",
        "all_intents",  "secondary_intents", "intent_ids",  "sources",
        "source_count", "vendor_id",         "mode",        "session_id",
        "timestamp",    "llm_optimization"};
    struct bt_test_resp r = {0};
    const char *key, *ts;
    json_t *v, *src, *llm;
    size_t i = 0;
    double conf;

    chat(*state, 1, "每月繳費日期是什麼時候？", "\"mode\":\"tenant\",\"include_sources\":true", &r);
    json_object_foreach(r.json, key, v)
    {
        assert_true(i < sizeof(order) / sizeof(order[0]));
        assert_string_equal(key, order[i]);
        i++;
    }
    assert_int_equal(i, sizeof(order) / sizeof(order[0]));
    bt_assert_subset(r.json, "{\"intent_name\":\"帳務查詢\",\"intent_type\":\"data_query\","
                             "\"all_intents\":[\"帳務查詢\"],\"secondary_intents\":[],"
                             "\"vendor_id\":1,\"mode\":\"tenant\",\"session_id\":null}");
    conf = json_number_value(json_object_get(r.json, "confidence"));
    assert_true(json_is_real(json_object_get(r.json, "confidence")));
    assert_true(conf >= 0.5 && conf <= 1.0);
    assert_int_equal(json_array_size(json_object_get(r.json, "intent_ids")), 1);
    assert_true(json_is_integer(json_array_get(json_object_get(r.json, "intent_ids"), 0)));

    /* sources: the raw template, not the injected text */
    src = json_array_get(json_object_get(r.json, "sources"), 0);
    assert_non_null(src);
    bt_assert_subset(src, "{\"question_summary\":\"每月繳費日期\",\"scope\":\"global\"}");
    assert_true(json_is_integer(json_object_get(src, "id")));
    assert_non_null(strstr(json_string_value(json_object_get(src, "answer")), "{{payment_day}}"));
    assert_int_equal(json_object_size(src), 4);
    assert_int_equal(json_integer_value(json_object_get(r.json, "source_count")),
                     json_array_size(json_object_get(r.json, "sources")));

    /* "2024-01-01T12:00:00.000000" */
    ts = bt_json_str(r.json, "/timestamp");
    assert_non_null(ts);
    assert_int_equal(strlen(ts), 26);
    assert_true(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' && ts[16] == ':' &&
                ts[19] == '.');

    /* no LLM configured: nothing rewritten, no tokens, but parameters were injected */
    llm = json_object_get(r.json, "llm_optimization");
    bt_assert_subset(llm, "{\"optimization_applied\":false,\"tokens_used\":0,"
                          "\"vendor_params_injected\":true}");
    assert_true(json_is_integer(json_object_get(llm, "processing_time_ms")));
    assert_true(json_integer_value(json_object_get(llm, "processing_time_ms")) >= 0);
    assert_int_equal(json_object_size(llm), 4);
    bt_test_resp_release(&r);
}

/* ---- everyday phrasings (note "The message pipeline" 3-6) ---- */

/* Each vendor's value of a parameter, formatted as tenants read it. */
#define V_DAY "1 號", "5 號"
#define V_FEE "200 元", "300 元"
#define V_GRACE "5 天", "3 天"
#define V_METHOD "銀行轉帳、超商繳費", "銀行轉帳、信用卡"
#define V_DEPOSIT "2 月", "2 月"
#define V_LEASE "12 月", "6 月"
#define V_NOTICE "30 天", "60 天"
#define V_HOTLINE "02-2345-6789", "02-8765-4321"
#define V_HOURS "週一至週日 09:00-21:00", "週一至週五 09:00-18:00"
#define V_EMERGENCY "24小時", "2小時內回應"
#define V_LINE "@vendorA", "@vendorB"
#define V_ADDRESS "台北市信義區信義路五段100號", "台北市大安區仁愛路三段200號"

struct phrasing {
    const char *msg, *intent;
    const char *v1, *v2; /* a value each vendor's answer must contain */
};

static const struct phrasing phrasings[] = {
    /* due date */
    {"房租幾號要繳", "帳務查詢", V_DAY},
    {"租金什麼時候付", "帳務查詢", V_DAY},
    {"每個月幾號繳房租？", "帳務查詢", V_DAY},
    {"請問繳費日是哪一天", "帳務查詢", V_DAY},
    {"我要在每個月什麼時候交租", "帳務查詢", V_DAY},
    {"你好，我想請問一下，我們家的房租是每個月幾號要繳呢？謝謝", "帳務查詢", V_DAY},
    /* late fee */
    {"遲繳要罰多少", "帳務查詢", V_FEE},
    {"晚繳房租會怎樣", "帳務查詢", V_FEE},
    {"逾期會有罰款嗎", "帳務查詢", V_FEE},
    {"我上個月忘記繳房租了怎麼辦", "帳務查詢", V_FEE},
    /* grace period */
    {"繳費有寬限期嗎", "帳務查詢", V_GRACE},
    {"租金可以晚一點繳嗎", "帳務查詢", V_GRACE},
    {"租金晚幾天繳可以嗎", "帳務查詢", V_GRACE},
    /* payment methods */
    {"可以刷卡嗎", "帳務查詢", V_METHOD},
    {"房租要怎麼繳", "帳務查詢", V_METHOD},
    {"有哪些付款方式", "帳務查詢", V_METHOD},
    {"可以去超商繳嗎", "帳務查詢", V_METHOD},
    /* deposit */
    {"押金要付幾個月", "合約規定", V_DEPOSIT},
    {"保證金多少", "合約規定", V_DEPOSIT},
    {"押金是幾個月", "合約規定", V_DEPOSIT},
    /* minimum lease */
    {"最少要租多久", "合約規定", V_LEASE},
    {"最短可以租幾個月", "合約規定", V_LEASE},
    {"租期最短多久", "合約規定", V_LEASE},
    /* early termination */
    {"提前退租要怎麼辦", "退租流程", V_NOTICE},
    {"我想提前解約", "退租流程", V_NOTICE},
    {"不租了要提早多久說", "退租流程", V_NOTICE},
    {"退租要多久前通知", "退租流程", V_NOTICE},
    /* hotline */
    {"你們電話幾號", "服務說明", V_HOTLINE},
    {"客服電話多少", "服務說明", V_HOTLINE},
    {"要怎麼聯絡你們", "服務說明", V_HOTLINE},
    /* service hours */
    {"幾點有人接電話", "服務說明", V_HOURS},
    {"客服幾點上班", "服務說明", V_HOURS},
    {"假日有人服務嗎", "服務說明", V_HOURS},
    /* repairs */
    {"東西壞了找誰修", "設備報修", V_EMERGENCY},
    {"冷氣壞了怎麼辦", "設備報修", V_EMERGENCY},
    {"馬桶塞住了", "設備報修", V_HOTLINE},
    {"半夜漏水怎麼辦", "設備報修", V_EMERGENCY},
    /* LINE */
    {"有LINE嗎", "服務說明", V_LINE},
    {"ＬＩＮＥ帳號是多少", "服務說明", V_LINE},
    {"可以加賴嗎", "服務說明", V_LINE},
    /* office address */
    {"公司在哪裡", "服務說明", V_ADDRESS},
    {"你們辦公室地址", "服務說明", V_ADDRESS},
};

static void test_everyday_phrasings(void **state)
{
    struct bt_test_resp r = {0};

    assert_true(sizeof(phrasings) / sizeof(phrasings[0]) >= 30);
    for (size_t i = 0; i < sizeof(phrasings) / sizeof(phrasings[0]); i++) {
        const struct phrasing *p = &phrasings[i];

        for (int v = 1; v <= 2; v++) {
            chat(*state, v, p->msg, NULL, &r);
            assert_contains(answer_of(&r), v == 1 ? p->v1 : p->v2, p->msg);
            if (strcmp(bt_json_str(r.json, "/intent_name"), p->intent) != 0)
                fail_msg("「%s」 classified %s, want %s", p->msg,
                         bt_json_str(r.json, "/intent_name"), p->intent);
            assert_true(json_integer_value(json_object_get(r.json, "source_count")) >= 1);
            /* no placeholder may reach a tenant */
            if (strstr(answer_of(&r), "{{"))
                fail_msg("「%s」 left a placeholder: %s", p->msg, answer_of(&r));
        }
    }
    bt_test_resp_release(&r);
}

/* ---- ranking ---- */

/* note rule 4: a customized row outranks the global row for the same question */
static void test_customized_row_wins(void **state)
{
    struct bt_test_resp r = {0};
    json_t *sources;

    chat(*state, 1, "客服專線是多少？", NULL, &r);
    sources = json_object_get(r.json, "sources");
    bt_assert_subset(sources, "[{\"question_summary\":\"客服專線是多少\",\"scope\":\"customized\"},"
                              "{\"question_summary\":\"客服專線是多少\",\"scope\":\"global\"}]");
    assert_non_null(strstr(answer_of(&r), "甲山林客服專線：02-2345-6789"));
    /* vendor 2 has no customized row: the global one answers */
    chat(*state, 2, "客服專線是多少？", NULL, &r);
    sources = json_object_get(r.json, "sources");
    bt_assert_subset(sources, "[{\"question_summary\":\"客服專線是多少\",\"scope\":\"global\"}]");
    assert_int_equal(json_array_size(sources), 1);
    assert_null(strstr(answer_of(&r), "甲山林"));
    bt_test_resp_release(&r);
}

/* The relevance gate: scope weight only orders relevant rows. Vendor 1's customized hotline
 * row shares 「是多少」 with 「押金是多少」 and 「客服」 with the second message, yet must not
 * answer either. */
static void test_scope_does_not_make_rows_relevant(void **state)
{
    static const char *const msgs[] = {"押金是多少", "請問客服，押金是多少？", "最短租期是多少",
                                       "每月繳費日期是什麼時候？", "公司在哪裡"};
    struct bt_test_resp r = {0};

    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        json_t *src;
        size_t k;

        chat(*state, 1, msgs[i], "\"top_k\":10", &r);
        json_array_foreach(json_object_get(r.json, "sources"), k, src)
        {
            if (strcmp(json_string_value(json_object_get(src, "scope")), "customized") == 0)
                fail_msg("「%s」 retrieved the customized hotline row", msgs[i]);
        }
        assert_null(strstr(answer_of(&r), "甲山林客服專線"));
    }
    bt_test_resp_release(&r);
}

/* Partly relevant is not relevant enough: these messages share 「客服」 or 「電話」 with the
 * customized hotline row, but ask about opening hours; the global hours row must answer. */
static void test_weak_overlap_does_not_outrank(void **state)
{
    static const char *const msgs[] = {"幾點有人接電話", "客服幾點上班", "客服假日有上班嗎",
                                       "客服幾點下班"};
    struct bt_test_resp r = {0};

    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        chat(*state, 1, msgs[i], NULL, &r);
        if (strcmp(bt_json_str(r.json, "/sources/0/question_summary"), "客服服務時間") != 0)
            fail_msg("「%s」 answered by %s (%s)", msgs[i],
                     bt_json_str(r.json, "/sources/0/question_summary"),
                     bt_json_str(r.json, "/sources/0/scope"));
        assert_non_null(strstr(answer_of(&r), "週一至週日 09:00-21:00"));
    }
    bt_test_resp_release(&r);
}

/* vendor scope: vendor 2's own 信用卡繳費說明 is visible to vendor 2 only */
static void test_vendor_row_visibility(void **state)
{
    struct bt_test_resp r = {0};

    chat(*state, 2, "可以分期嗎", NULL, &r);
    bt_assert_subset(r.json, "{\"sources\":[{\"question_summary\":\"信用卡繳費說明\","
                             "\"scope\":\"vendor\"}]}");
    assert_non_null(strstr(answer_of(&r), "銀行轉帳、信用卡"));
    chat(*state, 1, "可以分期嗎", NULL, &r);
    bt_assert_subset(r.json, "{\"source_count\":0,\"sources\":[]}");
    chat(*state, 1, "可以用信用卡付房租嗎", "\"top_k\":10", &r);
    assert_null(strstr(r.body, "信用卡繳費說明"));
    bt_test_resp_release(&r);
}

/* two intents in one message: primary plus a secondary one */
static void test_multi_intent(void **state)
{
    struct bt_test_resp r = {0};
    json_t *all;

    chat(*state, 1, "房租幾號繳？另外東西壞了要找誰修", NULL, &r);
    all = json_object_get(r.json, "all_intents");
    assert_int_equal(json_array_size(all), 2);
    assert_int_equal(json_array_size(json_object_get(r.json, "secondary_intents")), 1);
    assert_int_equal(json_array_size(json_object_get(r.json, "intent_ids")), 2);
    assert_string_equal(json_string_value(json_array_get(all, 0)),
                        bt_json_str(r.json, "/intent_name"));
    assert_string_equal(json_string_value(json_array_get(all, 1)),
                        bt_json_str(r.json, "/secondary_intents/0"));
    assert_non_null(strstr(r.body, "設備報修"));
    assert_non_null(strstr(r.body, "帳務查詢"));
    bt_test_resp_release(&r);
}

/* ---- request options ---- */

static void test_include_sources_false(void **state)
{
    struct bt_test_resp r = {0};

    chat(*state, 1, "押金是多少", "\"include_sources\":false", &r);
    assert_true(json_is_null(json_object_get(r.json, "sources")));
    assert_true(json_integer_value(json_object_get(r.json, "source_count")) >= 1);
    assert_non_null(strstr(answer_of(&r), "2 月"));
    bt_test_resp_release(&r);
}

static void test_top_k(void **state)
{
    struct bt_test_resp r = {0};

    /* 「押金」 alone is relevant to two rows */
    chat(*state, 1, "押金", "\"top_k\":10", &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "sources")), 2);
    assert_int_equal(json_integer_value(json_object_get(r.json, "source_count")), 2);
    chat(*state, 1, "押金", "\"top_k\":1", &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "sources")), 1);
    assert_int_equal(json_integer_value(json_object_get(r.json, "source_count")), 1);
    /* default 3 */
    chat(*state, 1, "客服專線是多少？我想問怎麼繳費", NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "sources")), 3);
    chat(*state, 1, "客服專線是多少？我想問怎麼繳費", "\"top_k\":2", &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "sources")), 2);
    bt_test_resp_release(&r);
}

static void test_optional_fields_echoed(void **state)
{
    struct bt_test_resp r = {0};

    chat(*state, 1, "押金是多少",
         "\"mode\":\"customer_service\",\"session_id\":\"session_123\","
         "\"user_id\":\"user_456\",\"user_role\":\"staff\",\"disable_answer_synthesis\":true",
         &r);
    bt_assert_subset(r.json, "{\"mode\":\"customer_service\",\"session_id\":\"session_123\"}");
    /* nulls mean "not given" */
    chat(*state, 1, "押金是多少",
         "\"mode\":null,\"session_id\":null,\"user_id\":null,\"top_k\":null,"
         "\"include_sources\":null",
         &r);
    bt_assert_subset(r.json, "{\"mode\":\"tenant\",\"session_id\":null}");
    assert_true(json_is_array(json_object_get(r.json, "sources")));
    /* unknown fields are ignored */
    chat(*state, 1, "押金是多少", "\"whatever\":[1,2]", &r);
    bt_test_resp_release(&r);
}

/* The original's clients posted to /api/v1/message. */
static void test_alias_path(void **state)
{
    struct bt_test_resp r = {0};

    chat_on(*state, "/api/v1/message", 2, "每月繳費日期是什麼時候？", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(answer_of(&r), "5 號"));
    chat_on(*state, "/api/v1/message", 999, "hi", NULL, &r);
    assert_error(&r, 404, "業者不存在: 999");
    bt_test_resp_release(&r);
}

/* ---- freshness ---- */

/* note "Vendors API details": a config change is visible to the next chat message */
static void test_config_change_visible_next_message(void **state)
{
    struct bt_test_resp r = {0};

    chat(*state, 1, "房租幾號要繳", NULL, &r);
    assert_non_null(strstr(answer_of(&r), "1 號"));
    bt_test_request(*state, "PUT", "/api/v1/vendors/1/configs", NULL,
                    "{\"configs\":[{\"category\":\"payment\",\"param_key\":\"payment_day\","
                    "\"param_value\":\"15\"},{\"category\":\"payment\",\"param_key\":\"late_fee\","
                    "\"param_value\":\"250\"}]}",
                    &r);
    assert_int_equal(r.status, 200);
    chat(*state, 1, "房租幾號要繳", NULL, &r);
    assert_non_null(strstr(answer_of(&r), "15 號"));
    assert_non_null(strstr(answer_of(&r), "250 元"));
    /* the other vendor is untouched */
    chat(*state, 2, "房租幾號要繳", NULL, &r);
    assert_non_null(strstr(answer_of(&r), "5 號"));
    assert_non_null(strstr(answer_of(&r), "300 元"));
    bt_test_resp_release(&r);
}

/* The index is built once and reused; /reload and a knowledge write rebuild it, and so does a
 * generation bump made by another instance sharing the database. */
static void test_index_cached_and_invalidated(void **state)
{
    struct vendorchat_state *st = bt_test_ctx(*state)->state;
    struct bt_test_resp r = {0};
    struct bt_err err;
    struct bt_db *db;
    uint64_t b0;

    chat(*state, 1, "押金是多少", NULL, &r);
    b0 = vendorchat_index_builds(st->index);
    assert_true(b0 >= 1);
    chat(*state, 1, "押金是多少", NULL, &r);
    chat(*state, 2, "公司在哪裡", NULL, &r);
    assert_int_equal(vendorchat_index_builds(st->index), b0);

    bt_test_request(*state, "POST", "/chat/v1/reload", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    chat(*state, 1, "押金是多少", NULL, &r);
    assert_int_equal(vendorchat_index_builds(st->index), b0 + 1);

    /* another instance adds a row straight into the shared database and bumps the
     * generation: this instance must see it on the next message */
    db = bt_test_db_get(*state);
    bt_err_clear(&err);
    assert_int_equal(
        bt_db_exec(db, NULL,
                   "INSERT INTO vendorchat_knowledge (question_summary, answer, keywords, scope,"
                   " priority, is_template, is_active, created_at) VALUES ($1, $2, $3, 'global',"
                   " 0, TRUE, TRUE, '2024-01-01T00:00:00')",
                   BT_ARGS(bt_text("垃圾怎麼丟"),
                           bt_text("垃圾請於每晚八點後丟到一樓回收區，詳洽 {{service_hotline}}。"),
                           bt_text("[\"垃圾\",\"倒垃圾\",\"丟垃圾\",\"回收\"]")),
                   &err),
        BT_OK);
    chat(*state, 1, "垃圾要丟哪裡", NULL, &r);
    assert_null(strstr(answer_of(&r), "一樓回收區")); /* generation not bumped yet */
    assert_int_equal(vendorchat_knowledge_touch(db, &err), BT_OK);
    bt_test_db_put(*state, db);
    chat(*state, 1, "垃圾要丟哪裡", NULL, &r);
    assert_non_null(strstr(answer_of(&r), "一樓回收區"));
    assert_non_null(strstr(answer_of(&r), "02-2345-6789"));
    assert_int_equal(vendorchat_index_builds(st->index), b0 + 2);
    bt_test_resp_release(&r);
}

/* ---- fallbacks (note rule 7), exact texts ---- */

static void test_fallback_unclear(void **state)
{
    struct bt_test_resp r = {0};

    chat(*state, 1, "今天天氣如何", "\"session_id\":\"s-1\",\"user_id\":\"u-1\"", &r);
    assert_string_equal(answer_of(&r), "抱歉，我不太理解您的問題。請您換個方式描述，或撥打客服專線 "
                                       "02-2345-6789 尋求協助。");
    bt_assert_subset(r.json, "{\"intent_name\":\"unclear\",\"intent_type\":null,"
                             "\"all_intents\":[],\"secondary_intents\":[],\"intent_ids\":[],"
                             "\"sources\":[],\"source_count\":0,\"session_id\":\"s-1\","
                             "\"llm_optimization\":{\"optimization_applied\":false,"
                             "\"vendor_params_injected\":false}}");
    chat(*state, 2, "asdfghjkl", NULL, &r);
    assert_string_equal(answer_of(&r), "抱歉，我不太理解您的問題。請您換個方式描述，或撥打客服專線 "
                                       "02-8765-4321 尋求協助。");

    /* recorded for review, newest first */
    bt_test_request(*state, "GET", "/api/v1/unanswered?vendor_id=1", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json,
                     "{\"total\":1,\"items\":[{\"vendor_id\":1,\"message\":\"今天天氣如何\","
                     "\"intent_name\":\"unclear\",\"session_id\":\"s-1\","
                     "\"user_id\":\"u-1\"}]}");
    bt_test_request(*state, "GET", "/api/v1/unanswered", NULL, NULL, &r);
    bt_assert_subset(r.json,
                     "{\"total\":2,\"items\":[{\"vendor_id\":2,\"message\":\"asdfghjkl\"}]}");
    bt_test_resp_release(&r);
}

static void test_fallback_intent_without_knowledge(void **state)
{
    struct bt_test_resp r = {0};

    chat(*state, 2, "我想預約看房", NULL, &r);
    assert_string_equal(answer_of(&r),
                        "很抱歉，關於「預約看房」我目前沒有相關資訊。建議您撥打客服專線 "
                        "02-8765-4321 獲取協助。");
    bt_assert_subset(r.json, "{\"intent_name\":\"預約看房\",\"intent_type\":\"action\","
                             "\"all_intents\":[\"預約看房\"],\"sources\":[],\"source_count\":0}");
    chat(*state, 1, "我的租約什麼時候到期", NULL, &r);
    assert_string_equal(answer_of(&r),
                        "很抱歉，關於「租約查詢」我目前沒有相關資訊。建議您撥打客服專線 "
                        "02-2345-6789 獲取協助。");
    bt_test_request(*state, "GET", "/api/v1/unanswered?vendor_id=2", NULL, NULL, &r);
    bt_assert_subset(r.json, "{\"total\":1,\"items\":[{\"message\":\"我想預約看房\","
                             "\"intent_name\":\"預約看房\",\"session_id\":null}]}");
    bt_test_resp_release(&r);
}

/* a vendor without a service_hotline config: the fallbacks say 客服 */
static void test_fallback_without_hotline(void **state)
{
    struct bt_test_resp r = {0};
    int64_t id;

    bt_test_request(*state, "POST", "/api/v1/vendors", NULL,
                    "{\"code\":\"VENDOR_C\",\"name\":\"永慶包租代管股份有限公司\"}", &r);
    assert_int_equal(r.status, 201);
    id = (int64_t)bt_json_int(r.json, "/id", 0);
    chat(*state, id, "今天天氣如何", NULL, &r);
    assert_string_equal(answer_of(&r), "抱歉，我不太理解您的問題。請您換個方式描述，或撥打客服專線 "
                                       "客服 尋求協助。");
    /* global knowledge still answers; unknown placeholders stay as they are */
    chat(*state, id, "押金是多少", NULL, &r);
    assert_non_null(strstr(answer_of(&r), "{{deposit_months}}"));
    bt_assert_subset(r.json, "{\"llm_optimization\":{\"vendor_params_injected\":false}}");
    bt_test_resp_release(&r);
}

/* the classified intent's usage is counted (buffered in memory, written before it is read) */
static void test_intent_usage_counted(void **state)
{
    struct bt_test_resp r = {0};
    int64_t intent;
    json_t *it;
    size_t i;

    chat(*state, 1, "押金是多少", NULL, &r);
    intent = (int64_t)bt_json_int(r.json, "/intent_ids/0", 0);
    bt_test_requestf(*state, "GET", NULL, &r, "/api/v1/intents/%lld", (long long)intent);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"name\":\"合約規定\",\"usage_count\":1}");
    assert_true(json_is_string(json_object_get(r.json, "last_used_at")));
    chat(*state, 2, "保證金多少", NULL, &r);
    bt_test_requestf(*state, "GET", NULL, &r, "/api/v1/intents/%lld", (long long)intent);
    bt_assert_subset(r.json, "{\"usage_count\":2}");

    /* several intents at once, seen through the list */
    for (int k = 0; k < 3; k++)
        chat(*state, 1 + k % 2, "房租幾號要繳", NULL, &r);
    chat(*state, 1, "最少要租多久", NULL, &r);
    chat(*state, 1, "今天天氣如何", NULL, &r); /* unclear: counts nowhere */
    bt_test_request(*state, "GET", "/api/v1/intents", NULL, NULL, &r);
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        const char *name = json_string_value(json_object_get(it, "name"));
        json_int_t n = json_integer_value(json_object_get(it, "usage_count"));

        if (strcmp(name, "帳務查詢") == 0)
            assert_int_equal(n, 3);
        else if (strcmp(name, "合約規定") == 0)
            assert_int_equal(n, 3);
        else
            assert_int_equal(n, 0);
    }

    /* an intent deleted while its uses are pending: the others are still written */
    chat(*state, 1, "我想預約看房", NULL, &r);
    chat(*state, 1, "押金是多少", NULL, &r);
    bt_test_request(*state, "DELETE", "/api/v1/intents/9", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_test_requestf(*state, "GET", NULL, &r, "/api/v1/intents/%lld", (long long)intent);
    bt_assert_subset(r.json, "{\"usage_count\":4}");
    bt_test_resp_release(&r);
}

/* ---- errors ---- */

/* spec 004 "500 - 伺服器錯誤": a database failure answers the document's wording and leaks no
 * SQL; other routes say 處理請求失敗 (docs/apps/vendorchat.md, "Requests and responses") */
static void test_server_error(void **state)
{
    struct bt_test_resp r = {0};
    struct bt_db *db = bt_test_db_get(*state);
    struct bt_err err;

    bt_err_clear(&err);
    /* the table of unanswered questions is gone: an unclear message cannot be recorded */
    assert_int_equal(bt_db_exec(db, NULL, "DROP TABLE vendorchat_unanswered", BT_NOARGS, &err),
                     BT_OK);
    bt_test_db_put(*state, db);
    chat_on(*state, "/chat/v1/message", 1, "今天天氣如何", NULL, &r);
    assert_error(&r, 500, "處理聊天請求失敗: 伺服器錯誤");
    assert_null(r.json ? json_object_get(r.json, "errors") : NULL);
    chat_on(*state, "/api/v1/message", 1, "今天天氣如何", NULL, &r);
    assert_error(&r, 500, "處理聊天請求失敗: 伺服器錯誤");
    /* a message that needs no record still answers */
    chat(*state, 1, "押金是多少", NULL, &r);
    assert_int_equal(r.status, 200);
    bt_test_request(*state, "GET", "/api/v1/unanswered", NULL, NULL, &r);
    assert_error(&r, 500, "處理請求失敗: 伺服器錯誤");
    bt_test_resp_release(&r);
}

static void test_unknown_and_inactive_vendor(void **state)
{
    struct bt_test_resp r = {0};

    chat_on(*state, "/chat/v1/message", 999, "每月繳費日期是什麼時候？", NULL, &r);
    assert_error(&r, 404, "業者不存在: 999");
    chat_on(*state, "/chat/v1/message", INT64_MAX, "hi", NULL, &r);
    assert_error(&r, 404, "業者不存在: 9223372036854775807");
    bt_test_request(*state, "DELETE", "/api/v1/vendors/1", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    chat_on(*state, "/chat/v1/message", 1, "每月繳費日期是什麼時候？", NULL, &r);
    assert_error(&r, 403, "業者未啟用: 1");
    /* nothing is recorded for a refused message */
    bt_test_request(*state, "GET", "/api/v1/unanswered", NULL, NULL, &r);
    bt_assert_subset(r.json, "{\"total\":0}");
    bt_test_resp_release(&r);
}

static void test_bad_bodies(void **state)
{
    static const char *const bodies[] = {
        /* message */
        "{\"vendor_id\":1}",
        "{\"message\":\"\",\"vendor_id\":1}",
        "{\"message\":\"   \",\"vendor_id\":1}",
        "{\"message\":null,\"vendor_id\":1}",
        "{\"message\":123,\"vendor_id\":1}",
        "{\"message\":[\"押金\"],\"vendor_id\":1}",
        /* vendor_id */
        "{\"message\":\"押金\"}",
        "{\"message\":\"押金\",\"vendor_id\":\"abc\"}",
        "{\"message\":\"押金\",\"vendor_id\":\"1\"}",
        "{\"message\":\"押金\",\"vendor_id\":1.5}",
        "{\"message\":\"押金\",\"vendor_id\":0}",
        "{\"message\":\"押金\",\"vendor_id\":-1}",
        "{\"message\":\"押金\",\"vendor_id\":true}",
        "{\"message\":\"押金\",\"vendor_id\":null}",
        "{\"message\":\"押金\",\"vendor_id\":99999999999999999999999}",
        /* top_k */
        "{\"message\":\"押金\",\"vendor_id\":1,\"top_k\":0}",
        "{\"message\":\"押金\",\"vendor_id\":1,\"top_k\":11}",
        "{\"message\":\"押金\",\"vendor_id\":1,\"top_k\":-3}",
        "{\"message\":\"押金\",\"vendor_id\":1,\"top_k\":1000000000000}",
        "{\"message\":\"押金\",\"vendor_id\":1,\"top_k\":\"abc\"}",
        "{\"message\":\"押金\",\"vendor_id\":1,\"top_k\":2.5}",
        /* other fields */
        "{\"message\":\"押金\",\"vendor_id\":1,\"include_sources\":\"yes\"}",
        "{\"message\":\"押金\",\"vendor_id\":1,\"mode\":5}",
        "{\"message\":\"押金\",\"vendor_id\":1,\"session_id\":7}",
        /* not an object / not JSON */
        "[]",
        "\"押金\"",
        "{",
        "{\"message\":\"押金\",\"vendor_id\":1",
        "{\"message\":\"押金\" \"vendor_id\":1}",
        "null",
    };
    static const char *const json_ct[] = {"Content-Type: application/json", NULL};
    struct bt_test_resp r = {0};

    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        bt_test_request(*state, "POST", "/chat/v1/message", NULL, bodies[i], &r);
        if (r.status != 400)
            fail_msg("%s -> %d %s", bodies[i], r.status, r.body);
        assert_error(&r, 400, NULL);
    }
    /* an empty application/json body */
    bt_test_request(*state, "POST", "/chat/v1/message", json_ct, NULL, &r);
    assert_error(&r, 400, "body: request body is required");
    /* no body and no content type: nothing says JSON (vendorchat is strict, see below) */
    bt_test_request(*state, "POST", "/chat/v1/message", NULL, NULL, &r);
    assert_error(&r, 415, "content type must be application/json");
    bt_test_resp_release(&r);
}

static void test_message_length_limits(void **state)
{
    struct bt_test_resp r = {0};
    /* 2000 code points of 3-byte characters (「押金」 x 1000), then one more */
    char *text = malloc(2001 * 3 + 1);

    assert_non_null(text);
    for (size_t i = 0; i < 1000; i++)
        memcpy(text + 6 * i, "押金", 6);
    text[2000 * 3] = '\0';
    chat(*state, 1, text, NULL, &r);
    assert_non_null(strstr(answer_of(&r), "2 月"));
    memcpy(text + 2000 * 3, "押", 3);
    text[2001 * 3] = '\0';
    chat_on(*state, "/chat/v1/message", 1, text, NULL, &r);
    assert_error(&r, 400, NULL);
    assert_non_null(strstr(bt_json_str(r.json, "/detail"), "message"));
    free(text);
    /* one character is enough */
    chat(*state, 1, "？", NULL, &r);
    assert_string_equal(bt_json_str(r.json, "/intent_name"), "unclear");
    bt_test_resp_release(&r);
}

static void test_invalid_utf8_body(void **state)
{
    static const char bad[] = "{\"message\":\"\xe6\x8a\xbc\xff\xfe\",\"vendor_id\":1}";
    static const char overlong[] = "{\"message\":\"\xc0\xaf\",\"vendor_id\":1}";
    static const char nul[] = "{\"message\":\"a\0b\",\"vendor_id\":1}";
    struct bt_test_resp r = {0};

    bt_test_request_raw(*state, "POST", "/chat/v1/message", NULL, bad, sizeof(bad) - 1, &r);
    assert_error(&r, 400, NULL);
    bt_test_request_raw(*state, "POST", "/chat/v1/message", NULL, overlong, sizeof(overlong) - 1,
                        &r);
    assert_error(&r, 400, NULL);
    bt_test_request_raw(*state, "POST", "/chat/v1/message", NULL, nul, sizeof(nul) - 1, &r);
    assert_error(&r, 400, NULL);
    /* an escaped NUL inside a valid string is refused by the JSON parser like a raw one: no
     * stored text can be cut short at the NUL */
    bt_test_request(*state, "POST", "/chat/v1/message", NULL,
                    "{\"message\":\"押金\\u0000是多少\",\"vendor_id\":1}", &r);
    assert_error(&r, 400, "body: body contains a NUL character");
    assert_string_equal(bt_json_str(r.json, "/errors/0/field"), "body");
    bt_test_resp_release(&r);
}

static void test_wrong_method_and_media_type(void **state)
{
    struct bt_test_resp r = {0};
    static const char *const text_plain[] = {"Content-Type: text/plain", NULL};

    bt_test_request(*state, "GET", "/chat/v1/message", NULL, NULL, &r);
    assert_error(&r, 405, NULL);
    /* the document's requests are application/json; vendorchat is strict about it (a
     * text/plain POST is what a foreign web page can send without a CORS preflight) */
    bt_test_request(*state, "POST", "/chat/v1/message", text_plain,
                    "{\"message\":\"押金\",\"vendor_id\":1}", &r);
    assert_error(&r, 415, "content type must be application/json");
    /* nothing was asked: the same body as application/json answers */
    bt_test_request(*state, "POST", "/chat/v1/message", NULL,
                    "{\"message\":\"押金\",\"vendor_id\":1}", &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_document_script, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_everyday_phrasings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_customized_row_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scope_does_not_make_rows_relevant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weak_overlap_does_not_outrank, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vendor_row_visibility, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_intent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_include_sources_false, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top_k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_optional_fields_echoed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alias_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_change_visible_next_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_cached_and_invalidated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fallback_unclear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fallback_intent_without_knowledge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fallback_without_hotline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intent_usage_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_inactive_vendor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_length_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_method_and_media_type, setup, teardown),
    };

    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
