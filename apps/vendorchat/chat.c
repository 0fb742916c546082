/* SPDX-License-Identifier: MIT
 * chat.c - POST /chat/v1/message (and its alias /api/v1/message): the message pipeline of
 * the note's "The message pipeline" section: vendor check, classification, retrieval,
 * parameter injection, optional LLM polish, fallbacks and the response in the document's
 * field order.
 * Owns: the request schema, the fallback texts, recording unanswered questions, counting
 * intent usage (buffered by classify.c).
 * Must not: read the vendor or its parameters around the read caches (the caches are what
 * keeps them current: a config change shows in the next answer), fail a message because the
 * LLM provider failed, or log message text.
 */
#include <math.h>
#include <string.h>

#include "classify.h"

/* The note's fallback texts, exact. */
#define CHAT_FALLBACK_UNCLEAR                                                                      \
    "抱歉，我不太理解您的問題。請您換個方式描述，或撥打客服專線 %s 尋求協助。"
#define CHAT_FALLBACK_NO_KNOWLEDGE                                                                 \
    "很抱歉，關於「%s」我目前沒有相關資訊。建議您撥打客服專線 %s 獲取協助。"

/* ---- schema ---- */

static const struct bt_field message_fields[] = {
    {.name = "message",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 2000,
     .desc = "使用者訊息"},
    {.name = "vendor_id",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED | BT_F_MIN,
     .min = 1,
     .desc = "業者 ID"},
    {.name = "mode",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE | BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 50,
     .desc = "模式（預設：tenant）: tenant or customer_service"},
    {.name = "session_id",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 200,
     .desc = "會話 ID（用於追蹤）"},
    {.name = "user_id",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 200,
     .desc = "使用者 ID"},
    {.name = "top_k",
     .type = BT_T_INT,
     .flags = BT_F_NULLABLE | BT_F_MIN | BT_F_MAX,
     .min = 1,
     .max = 10,
     .desc = "返回知識數量（預設：3）"},
    {.name = "include_sources",
     .type = BT_T_BOOL,
     .flags = BT_F_NULLABLE,
     .desc = "是否包含知識來源（預設：true）"},
    {.name = "user_role",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 50,
     .desc = "使用者角色（預設：customer）"},
    {.name = "disable_answer_synthesis",
     .type = BT_T_BOOL,
     .flags = BT_F_NULLABLE,
     .desc = "true: never let an LLM rewrite the answer"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_message_in = {
    .name = "ChatMessage",
    .fields = message_fields,
};

/* The response, in the document's field order (docs/apps/vendorchat.md, "Responses"). */
static const char *const chat_intent_types[] = {"knowledge", "data_query", "action", "hybrid",
                                                NULL};
static const char *const chat_scopes[] = {"global", "vendor", "customized", NULL};

static const struct bt_field source_fields[] = {
    {.name = "id", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "知識 ID"},
    {.name = "question_summary", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "問題摘要"},
    {.name = "answer",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .desc = "答案（原始知識庫內容，未替換模板變數）"},
    {.name = "scope",
     .type = BT_T_ENUM,
     .flags = BT_F_REQUIRED,
     .one_of = chat_scopes,
     .desc = "知識範圍"},
    BT_FIELD_END,
};

static const struct bt_field llm_fields[] = {
    {.name = "optimization_applied",
     .type = BT_T_BOOL,
     .flags = BT_F_REQUIRED,
     .desc = "是否使用了 LLM 優化"},
    {.name = "tokens_used",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED | BT_F_MIN,
     .min = 0,
     .desc = "使用的 tokens 數（無 LLM 時為 0）"},
    {.name = "processing_time_ms",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED | BT_F_MIN,
     .min = 0,
     .desc = "處理時間（毫秒）"},
    {.name = "vendor_params_injected",
     .type = BT_T_BOOL,
     .flags = BT_F_REQUIRED,
     .desc = "是否進行了業者參數注入"},
    BT_FIELD_END,
};

static const struct bt_field answer_fields[] = {
    {.name = "answer",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .desc = "AI 回答（已替換模板變數）"},
    {.name = "intent_name",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .desc = "主要意圖名稱; \"unclear\" when no intent reached its threshold"},
    {.name = "intent_type",
     .type = BT_T_ENUM,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .one_of = chat_intent_types,
     .desc = "意圖類型; null when the intent is unclear"},
    {.name = "confidence",
     .type = BT_T_NUM,
     .flags = BT_F_REQUIRED | BT_F_MIN | BT_F_MAX,
     .min = 0,
     .max = 1,
     .desc = "意圖分類信心度 (0-1)"},
    {.name = "all_intents",
     .type = BT_T_ARRAY,
     .flags = BT_F_REQUIRED,
     .item_type = BT_T_STR,
     .desc = "所有匹配的意圖名稱（主要 + 次要）; empty when unclear"},
    {.name = "secondary_intents",
     .type = BT_T_ARRAY,
     .flags = BT_F_REQUIRED,
     .max_len = 2,
     .item_type = BT_T_STR,
     .desc = "次要意圖名稱列表"},
    {.name = "intent_ids",
     .type = BT_T_ARRAY,
     .flags = BT_F_REQUIRED,
     .item_type = BT_T_INT,
     .desc = "所有意圖的 ID（與 all_intents 同序）"},
    {.name = "sources",
     .type = BT_T_ARRAY,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .max_len = 10,
     .item_type = BT_T_OBJECT,
     .items = source_fields,
     .desc = "知識來源; null when include_sources is false"},
    {.name = "source_count",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED | BT_F_MIN,
     .min = 0,
     .desc = "知識來源數量 (set even when sources is null)"},
    {.name = "vendor_id", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "業者 ID"},
    {.name = "mode", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "模式"},
    {.name = "session_id",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "會話 ID（如有提供）"},
    {.name = "timestamp",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .desc = "ISO 8601, UTC, no zone, microseconds: 2024-01-01T12:00:00.000000"},
    {.name = "llm_optimization",
     .type = BT_T_OBJECT,
     .flags = BT_F_REQUIRED,
     .items = llm_fields,
     .desc = "LLM 優化資訊"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_message_out = {
    .name = "ChatAnswer",
    .fields = answer_fields,
};

/* ---- helpers ---- */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The formatted values the template's placeholders were filled with (each once), so an LLM
 * rewrite can be checked for keeping them. Same matching as vendorchat_inject. */
static size_t injected_values(struct bt_arena *a, const char *tmpl,
                              const struct vendorchat_param *ps, size_t np, const char ***out)
{
    size_t n = 0, cap = 8;
    const char **vals = bt_arena_alloc(a, cap * sizeof(*vals));
    const char *p = tmpl ? tmpl : "";

    while ((p = strstr(p, "{{")) != NULL) {
        const char *w = p + 2, *e = w;
        const struct vendorchat_param *hit;
        const char *v;
        bool dup = false;

        while ((*e >= 'A' && *e <= 'Z') || (*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9') ||
               *e == '_')
            e++;
        if (e == w || e[0] != '}' || e[1] != '}') {
            p++;
            continue;
        }
        hit = vendorchat_param_find(ps, np, bt_arena_strndup(a, w, (size_t)(e - w)));
        p = e + 2;
        if (!hit)
            continue;
        v = vendorchat_param_format(a, hit);
        for (size_t i = 0; i < n && !dup; i++)
            dup = strcmp(vals[i], v) == 0;
        if (dup || !*v)
            continue;
        if (n == cap) {
            const char **more = bt_arena_alloc(a, 2 * cap * sizeof(*more));
            memcpy(more, vals, cap * sizeof(*vals));
            vals = more;
            cap *= 2;
        }
        vals[n++] = v;
    }
    *out = vals;
    return n;
}

static int record_unanswered(struct bt_db *db, int64_t vendor_id, const char *message,
                             const char *intent_name, const char *session_id, const char *user_id,
                             const char *now, struct bt_err *err)
{
    return bt_db_exec(db, NULL,
                      "INSERT INTO vendorchat_unanswered (vendor_id, message, intent_name,"
                      " session_id, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                      BT_ARGS(bt_i64(vendor_id), bt_text(message), bt_text(intent_name),
                              bt_text(session_id), bt_text(user_id), bt_text(now)),
                      err);
}

static json_t *intent_names(const struct vendorchat_class *c, bool with_primary, bool ids)
{
    json_t *list = json_array();

    if (!c->primary)
        return list;
    if (with_primary)
        json_array_append_new(list, ids ? json_integer((json_int_t)c->primary->id)
                                        : json_string(c->primary->name));
    for (size_t i = 0; i < c->nsecondary; i++)
        json_array_append_new(list, ids ? json_integer((json_int_t)c->secondary[i]->id)
                                        : json_string(c->secondary[i]->name));
    return list;
}

/* ---- handler ---- */

int vendorchat_message(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct vendorchat_state *st = vendorchat_state(rq);
    uint64_t t0 = rq->start_ns ? rq->start_ns : bt_mono_ns();
    int64_t vendor_id = bt_req_int(rq, "vendor_id", 0);
    int64_t top_k = bt_req_int(rq, "top_k", 3);
    const char *message = bt_req_str(rq, "message");
    const char *mode = bt_req_str(rq, "mode");
    const char *session_id = bt_req_str(rq, "session_id");
    const char *user_id = bt_req_str(rq, "user_id");
    bool include_sources = bt_req_bool(rq, "include_sources", true);
    bool no_synthesis = bt_req_bool(rq, "disable_answer_synthesis", false);
    struct vendorchat_hit hits[10];
    struct vendorchat_param *ps;
    struct vendorchat_snap *snap;
    struct vendorchat_query q;
    struct vendorchat_class cls;
    const struct vendorchat_param *hotline_p;
    const char *answer, *hotline, *intent_name;
    bool injected = false, polished = false;
    long tokens = 0;
    size_t np, nh;
    json_t *vendor, *out, *sources;
    struct bt_db *db;
    char now[32], ts[32];
    int64_t now_us;
    int rc;

    if (top_k < 1 || top_k > 10)
        top_k = 3;
    rc = vendorchat_vendor_fetch(rq, vendor_id, &vendor, err);
    if (rc == BT_ENOTFOUND)
        return bt_fail(err, BT_ENOTFOUND, NULL, "業者不存在: %lld", (long long)vendor_id);
    if (rc != BT_OK)
        return rc;
    if (!json_is_true(json_object_get(vendor, "is_active")))
        return bt_fail(err, BT_EFORBIDDEN, NULL, "業者未啟用: %lld", (long long)vendor_id);
    /* vendor, knowledge generation and parameters come from the read caches when they serve
     * (PostgreSQL): a message then needs the database only to record or count something */
    if ((rc = vendorchat_index_get(st->index, rq, &snap, err)) != BT_OK)
        return rc;
    if ((rc = vendorchat_params_load(rq, vendor_id, &ps, &np, err)) != BT_OK)
        return rc;

    /* classify: the provider when configured, the built-in scorer otherwise or on failure */
    vendorchat_query_run(snap, rq->arena, message, vendor_id, &q);
    vendorchat_classify(&q, &cls);
    if (vendorchat_llm_enabled(st)) {
        struct vendorchat_class llm;
        if (vendorchat_llm_classify(rq, snap, message, &llm, &tokens) == BT_OK)
            cls = llm;
    }
    nh = vendorchat_retrieve(&q, &cls, (size_t)top_k, hits);

    now_us = bt_now_unix_us();
    bt_time_fmt(now_us, BT_ISO_SEC, now);
    hotline_p = vendorchat_param_find(ps, np, "service_hotline");
    hotline = hotline_p ? vendorchat_param_format(rq->arena, hotline_p) : "客服";
    intent_name = cls.primary ? cls.primary->name : "unclear";
    if (nh > 0) {
        answer = vendorchat_inject(rq->arena, hits[0].k->answer, ps, np, &injected);
        if (vendorchat_llm_enabled(st) && !no_synthesis) {
            const char **vals;
            size_t nv = injected_values(rq->arena, hits[0].k->answer, ps, np, &vals);
            char *better;

            if (vendorchat_llm_polish(rq, message, answer, vals, nv, &better, &tokens) == BT_OK) {
                answer = better;
                polished = true;
            }
        }
    } else {
        if (cls.primary)
            answer =
                bt_arena_printf(rq->arena, CHAT_FALLBACK_NO_KNOWLEDGE, cls.primary->name, hotline);
        else
            answer = bt_arena_printf(rq->arena, CHAT_FALLBACK_UNCLEAR, hotline);
        if (!(db = bt_req_db(rq, err)))
            return err->code != BT_OK ? (int)err->code : BT_EDB;
        rc = record_unanswered(db, vendor_id, message, intent_name, session_id, user_id, now, err);
        if (rc != BT_OK)
            return rc;
    }
    if (cls.primary) {
        struct bt_err uerr;

        vendorchat_usage_note(st->index, cls.primary->id, now);
        bt_err_clear(&uerr);
        /* the counts stay buffered when the write fails: no reason to fail the answer */
        if (vendorchat_usage_due(st->index) &&
            (!(db = bt_req_db(rq, &uerr)) ||
             vendorchat_usage_flush(st->index, db, false, &uerr) != BT_OK))
            bt_log(BT_LOG_WARN, "intent usage not written", "reason", uerr.msg, NULL);
    }

    sources = json_null();
    if (include_sources) {
        sources = json_array();
        for (size_t i = 0; i < nh; i++)
            json_array_append_new(sources, json_pack("{s:I,s:s,s:s,s:s}", "id",
                                                     (json_int_t)hits[i].k->id, "question_summary",
                                                     hits[i].k->question_summary, "answer",
                                                     hits[i].k->answer, "scope", hits[i].k->scope));
    }

    /* the document's field order */
    out = json_object();
    json_object_set_new(out, "answer", json_string(answer));
    json_object_set_new(out, "intent_name", json_string(intent_name));
    json_object_set_new(out, "intent_type",
                        cls.primary ? json_string(cls.primary->type) : json_null());
    json_object_set_new(out, "confidence", json_real(round(cls.confidence * 10000.0) / 10000.0));
    json_object_set_new(out, "all_intents", intent_names(&cls, true, false));
    json_object_set_new(out, "secondary_intents", intent_names(&cls, false, false));
    json_object_set_new(out, "intent_ids", intent_names(&cls, true, true));
    json_object_set_new(out, "sources", sources);
    json_object_set_new(out, "source_count", json_integer((json_int_t)nh));
    json_object_set_new(out, "vendor_id", json_integer((json_int_t)vendor_id));
    json_object_set_new(out, "mode", json_string(mode ? mode : "tenant"));
    json_object_set_new(out, "session_id", str_or_null(session_id));
    json_object_set_new(out, "timestamp", json_string(bt_time_fmt(now_us, BT_ISO_US, ts)));
    json_object_set_new(out, "llm_optimization",
                        json_pack("{s:b,s:I,s:I,s:b}", "optimization_applied", polished,
                                  "tokens_used", (json_int_t)tokens, "processing_time_ms",
                                  (json_int_t)((bt_mono_ns() - t0) / 1000000u),
                                  "vendor_params_injected", injected));
    return bt_res_json(rs, 200, out);
}
