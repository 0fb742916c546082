/* SPDX-License-Identifier: MIT
 * app.c - the vendorchat app descriptor: error envelope {"detail": "..."}, migrations,
 * init/fini of the app state (LLM settings, retrieval index, read caches).
 */
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "vendorchat.h"

/* generated from sql/NNNN_name.sql by the build (cmake/BentoApps.cmake) */
extern const struct bt_migration vendorchat_migrations[];

/* FastAPI's words for the core's own failures, so clients of the original see the same. */
static const char *vendorchat_core_detail(const struct bt_err *err)
{
    switch (err->code) {
    case BT_ENOTFOUND: return "Not Found";
    case BT_EMETHOD: return "Method Not Allowed";
    case BT_ETOOLARGE: return "Request Entity Too Large";
    case BT_EHEADERS: return "Request Header Fields Too Large";
    case BT_EMEDIATYPE: return "Unsupported Media Type";
    case BT_ELIMIT: return "Too Many Requests";
    default: return "Internal Server Error";
    }
}

/* The envelope vendorchat_render_error writes: FastAPI's {"detail": "..."}, plus "errors"
 * with every offending field when validation failed (detail then joins them). */
static const struct bt_field vendorchat_field_error_fields[] = {
    {.name = "field",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .desc = "offending input (\"configs[2].param_key\", \"[3].vendor_id\", \"body\"); \"\" when "
             "not about one field"},
    {.name = "msg", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "what is wrong with it"},
    BT_FIELD_END,
};

static const struct bt_field vendorchat_error_fields[] = {
    {.name = "detail", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "錯誤訊息說明"},
    {.name = "errors",
     .type = BT_T_ARRAY,
     .item_type = BT_T_OBJECT,
     .items = vendorchat_field_error_fields,
     .desc = "validation failures only: every offending field"},
    BT_FIELD_END,
};

static const struct bt_schema vendorchat_error_schema = {
    .name = "Error",
    .fields = vendorchat_error_fields,
};

/* {"detail": "..."}; validation failures also list every field in "errors". */
static void vendorchat_render_error(struct bt_req *rq, struct bt_res *rs, const struct bt_err *err)
{
    json_t *j = json_object();
    const char *detail = err->msg[0] ? err->msg : vendorchat_core_detail(err);
    int status = bt_err_http(err);

    if (err->nfields > 0) {
        struct bt_buf b;
        json_t *list = json_array();

        bt_buf_init(&b, rs->arena, 128);
        if (err->msg[0])
            bt_buf_adds(&b, err->msg);
        for (int i = 0; i < err->nfields; i++) {
            const struct bt_field_err *f = &err->fields[i];
            if (b.len)
                bt_buf_adds(&b, "; ");
            if (f->field[0])
                bt_buf_addf(&b, "%s: ", f->field);
            bt_buf_adds(&b, f->msg);
            json_array_append_new(list, json_pack("{s:s,s:s}", "field", f->field, "msg", f->msg));
        }
        json_object_set_new(j, "detail", json_string(b.p));
        json_object_set_new(j, "errors", list);
    } else if (status >= 500 && err->code != BT_EUPSTREAM) {
        /* never leak internals; the document's wording for server failures (its chat
         * endpoint says 處理聊天請求失敗: [錯誤訊息]; the message stays generic). 503: the
         * database or the disk cannot serve now (docs/apps/vendorchat.md, "Errors") */
        bool chat = rq && rq->route && rq->route->handler == vendorchat_message;
        bool later = err->code == BT_EUNAVAILABLE;
        json_object_set_new(j, "detail",
                            json_string(chat ? (later ? "處理聊天請求失敗: 服務暫時無法使用"
                                                      : "處理聊天請求失敗: 伺服器錯誤")
                                             : (later ? "處理請求失敗: 服務暫時無法使用"
                                                      : "處理請求失敗: 伺服器錯誤")));
    } else {
        json_object_set_new(j, "detail", json_string(detail));
    }
    bt_res_json(rs, status, j);
}

static int vendorchat_init(struct bt_app_ctx *ctx, struct bt_err *err)
{
    struct vendorchat_state *st = calloc(1, sizeof(*st));
    const char *timeout;

    if (!st)
        return bt_fail(err, BT_EINTERNAL, NULL, "out of memory");
    st->llm_url = bt_app_setting(ctx, "llm_url", NULL);
    st->llm_key = bt_app_setting(ctx, "llm_key", NULL);
    st->llm_model = bt_app_setting(ctx, "llm_model", "gpt-4o-mini");
    timeout = bt_app_setting(ctx, "llm_timeout_ms", "15000");
    st->llm_timeout_ms = strtol(timeout, NULL, 10);
    if (st->llm_timeout_ms <= 0)
        st->llm_timeout_ms = 15000;
    if (st->llm_url && !st->llm_url[0])
        st->llm_url = NULL;
    st->index = vendorchat_index_new();
    /* bounds: far more vendors than a deployment has, a few MB at most */
    st->vendors = bt_cache_new(ctx->pool, "vendorchat_vendors", 4096, 4u << 20);
    st->params = bt_cache_new(ctx->pool, "vendorchat_params", 4096, 16u << 20);
    st->meta = bt_cache_new(ctx->pool, "vendorchat_meta", 16, 64u << 10);
    ctx->state = st;
    return BT_OK;
}

static void vendorchat_fini(struct bt_app_ctx *ctx)
{
    struct vendorchat_state *st = ctx->state;

    if (!st)
        return;
    /* intent usage counts are buffered in memory (classify.c); write the last second's worth
     * before the index goes, so a clean shutdown loses none */
    if (ctx->pool) {
        struct bt_err err;
        struct bt_db *db;
        bt_err_clear(&err);
        db = bt_dbpool_get(ctx->pool, 1000, &err);
        if (db) {
            if (vendorchat_usage_flush(st->index, db, true, &err) != BT_OK)
                bt_log_warn("usage counts not saved", "detail", err.msg, NULL);
            bt_dbpool_put(ctx->pool, db);
        }
    }
    vendorchat_index_free(st->index);
    bt_cache_free(st->vendors);
    bt_cache_free(st->params);
    bt_cache_free(st->meta);
    free(st);
    ctx->state = NULL;
}

/* Path parameters, for the OpenAPI document: every id is a positive integer. */
static const struct bt_field vendorchat_path_params[] = {
    {.name = "vendor_id", .type = BT_T_INT, .flags = BT_F_MIN, .min = 1, .desc = "業者 ID"},
    {.name = "knowledge_id", .type = BT_T_INT, .flags = BT_F_MIN, .min = 1, .desc = "知識 ID"},
    {.name = "intent_id", .type = BT_T_INT, .flags = BT_F_MIN, .min = 1, .desc = "意圖 ID"},
    BT_FIELD_END,
};

/* Every setting vendorchat reads (bt_app_setting refuses any other key). */
static const struct bt_setting vendorchat_settings[] = {
    {"llm_url", 0, NULL,
     "base URL of an OpenAI-compatible API (e.g. https://host/v1); unset = built-in "
     "classifier only"},
    {"llm_key", BT_SETTING_SECRET, NULL, "its bearer key"},
    {"llm_model", 0, "gpt-4o-mini", "model name"},
    {"llm_timeout_ms", 0, "15000", "per-call timeout in milliseconds"},
    BT_SETTING_END,
};

const struct bt_app bt_app_vendorchat = {
    .name = "vendorchat",
    .title = "vendorchat: multi-vendor customer-service chat (Phase 1 API)",
    .version = "2.1",
    .mount = "",
    .default_port = 8100,
    .routes = vendorchat_routes,
    .path_params = vendorchat_path_params,
    .error_schema = &vendorchat_error_schema,
    .migrations = vendorchat_migrations,
    .render_error = vendorchat_render_error,
    .init = vendorchat_init,
    .fini = vendorchat_fini,
    /* the document's requests are application/json; a text/plain POST is also the one a web
     * page can send cross-origin without a CORS preflight (docs/apps/vendorchat.md) */
    .flags = BT_APP_STRICT_JSON,
    .settings = vendorchat_settings,
};
