/* SPDX-License-Identifier: MIT
 * routes.c - vendorchat's route table: the document's paths, the aliases the original's
 * clients used (listed in OpenAPI as deprecated), and the operator API for knowledge and
 * intents. Each route declares its success body (resp) and the errors its handler returns
 * beyond those the core derives (validation, malformed JSON, 413, 415, 404 of a route with
 * path parameters, 500/503): see docs/apps/vendorchat.md, "Responses".
 * Phase 1 of the document has no authentication: every route is BT_PUBLIC
 * (docs/apps/vendorchat.md).
 */
#include "vendorchat.h"

#define J BT_R_JSON_BODY
#define A BT_R_ALIAS
#define JA (BT_R_JSON_BODY | BT_R_ALIAS)

/* Errors handlers return that the core cannot derive from the route's shape. */
#define E_PATH BT_XERR(BT_EINVAL) /* a path id that is not a positive integer: 400 */
#define E_NOTFOUND BT_XERR(BT_ENOTFOUND)
#define E_MESSAGE (BT_XERR(BT_ENOTFOUND) | BT_XERR(BT_EFORBIDDEN)) /* unknown / inactive vendor */

const struct bt_route vendorchat_routes[] = {
    /* Chat API (document) */
    {BT_POST, "/chat/v1/message", vendorchat_message, BT_PUBLIC, &vendorchat_message_in, NULL, J,
     "多業者通用聊天端點", 200, &vendorchat_message_out, E_MESSAGE, NULL},
    {BT_GET, "/chat/v1/vendors/:vendor_id/test", vendorchat_vendor_test, BT_PUBLIC, NULL, NULL, 0,
     "測試業者配置", 200, &vendorchat_vendor_test_out, E_PATH, NULL},
    {BT_POST, "/chat/v1/reload", vendorchat_reload, BT_PUBLIC, NULL, NULL, 0, "重新載入多業者服務",
     200, &vendorchat_reload_out, 0, NULL},
    /* aliases of the original's code: the documented routes' handlers and schemas */
    {BT_POST, "/api/v1/message", vendorchat_message, BT_PUBLIC, &vendorchat_message_in, NULL, JA,
     "多業者通用聊天端點 (alias of POST /chat/v1/message)", 200, &vendorchat_message_out, E_MESSAGE,
     NULL},
    {BT_GET, "/api/v1/vendors/:vendor_id/test", vendorchat_vendor_test, BT_PUBLIC, NULL, NULL, A,
     "測試業者配置 (alias of GET /chat/v1/vendors/{vendor_id}/test)", 200,
     &vendorchat_vendor_test_out, E_PATH, NULL},
    {BT_POST, "/api/v1/reload", vendorchat_reload, BT_PUBLIC, NULL, NULL, A,
     "重新載入多業者服務 (alias of POST /chat/v1/reload)", 200, &vendorchat_reload_out, 0, NULL},

    /* Vendors API (document) */
    {BT_GET, "/api/v1/vendors", vendorchat_vendor_list, BT_PUBLIC, NULL, &vendorchat_vendor_list_q,
     BT_R_SLOW, "獲取業者列表", 200, &vendorchat_vendor_list_out, 0, NULL},
    {BT_POST, "/api/v1/vendors", vendorchat_vendor_create, BT_PUBLIC, &vendorchat_vendor_create_in,
     NULL, J, "建立新業者", 201, &vendorchat_vendor_out, 0, NULL},
    {BT_GET, "/api/v1/vendors/:vendor_id", vendorchat_vendor_get, BT_PUBLIC, NULL, NULL, 0,
     "獲取業者詳情", 200, &vendorchat_vendor_out, E_PATH, NULL},
    {BT_PUT, "/api/v1/vendors/:vendor_id", vendorchat_vendor_update, BT_PUBLIC,
     &vendorchat_vendor_update_in, NULL, J, "更新業者資訊", 200, &vendorchat_vendor_out, 0, NULL},
    {BT_DELETE, "/api/v1/vendors/:vendor_id", vendorchat_vendor_delete, BT_PUBLIC, NULL, NULL, 0,
     "停用業者", 200, &vendorchat_vendor_deleted_out, E_PATH, NULL},
    {BT_GET, "/api/v1/vendors/:vendor_id/configs", vendorchat_configs_get, BT_PUBLIC, NULL,
     &vendorchat_configs_q, 0, "獲取業者配置參數", 200, &vendorchat_configs_out, 0, NULL},
    {BT_PUT, "/api/v1/vendors/:vendor_id/configs", vendorchat_configs_put, BT_PUBLIC,
     &vendorchat_configs_put_in, NULL, J, "批次更新業者配置", 200, &vendorchat_configs_updated_out,
     0, NULL},
    {BT_GET, "/api/v1/vendors/:vendor_id/stats", vendorchat_vendor_stats, BT_PUBLIC, NULL, NULL,
     BT_R_SLOW, "獲取業者統計資訊", 200, &vendorchat_vendor_stats_out, E_PATH, NULL},

    /* Operator API: knowledge, intents, unanswered questions (bento) */
    {BT_GET, "/api/v1/knowledge", vendorchat_knowledge_list, BT_PUBLIC, NULL,
     &vendorchat_knowledge_list_q, BT_R_SLOW, "list knowledge", 200, &vendorchat_knowledge_page_out,
     0, NULL},
    /* an unknown vendor_id or intent id in the body is a 404 */
    {BT_POST, "/api/v1/knowledge", vendorchat_knowledge_create, BT_PUBLIC, &vendorchat_knowledge_in,
     NULL, J, "create knowledge", 201, &vendorchat_knowledge_out, E_NOTFOUND, NULL},
    {BT_POST, "/api/v1/knowledge/import", vendorchat_knowledge_import, BT_PUBLIC,
     &vendorchat_knowledge_import_in, NULL, J | BT_R_SLOW, "bulk import knowledge (JSON array)",
     200, &vendorchat_knowledge_imported_out, E_NOTFOUND, NULL},
    {BT_GET, "/api/v1/knowledge/:knowledge_id", vendorchat_knowledge_get, BT_PUBLIC, NULL, NULL, 0,
     "get knowledge", 200, &vendorchat_knowledge_out, E_PATH, NULL},
    {BT_PUT, "/api/v1/knowledge/:knowledge_id", vendorchat_knowledge_update, BT_PUBLIC,
     &vendorchat_knowledge_update_in, NULL, J, "update knowledge", 200, &vendorchat_knowledge_out,
     0, NULL},
    {BT_DELETE, "/api/v1/knowledge/:knowledge_id", vendorchat_knowledge_delete, BT_PUBLIC, NULL,
     NULL, 0, "delete knowledge", 200, &vendorchat_knowledge_deleted_out, E_PATH, NULL},
    {BT_GET, "/api/v1/intents", vendorchat_intent_list, BT_PUBLIC, NULL, NULL, 0, "list intents",
     200, &vendorchat_intent_page_out, 0, NULL},
    {BT_POST, "/api/v1/intents", vendorchat_intent_create, BT_PUBLIC, &vendorchat_intent_in, NULL,
     J, "create intent", 201, &vendorchat_intent_out, 0, NULL},
    {BT_POST, "/api/v1/intents/import", vendorchat_intent_import, BT_PUBLIC,
     &vendorchat_intent_import_in, NULL, J | BT_R_SLOW, "bulk import intents (JSON array)", 200,
     &vendorchat_intent_imported_out, 0, NULL},
    {BT_GET, "/api/v1/intents/:intent_id", vendorchat_intent_get, BT_PUBLIC, NULL, NULL, 0,
     "get intent", 200, &vendorchat_intent_out, E_PATH, NULL},
    {BT_PUT, "/api/v1/intents/:intent_id", vendorchat_intent_update, BT_PUBLIC,
     &vendorchat_intent_update_in, NULL, J, "update intent", 200, &vendorchat_intent_out, 0, NULL},
    {BT_DELETE, "/api/v1/intents/:intent_id", vendorchat_intent_delete, BT_PUBLIC, NULL, NULL, 0,
     "delete intent", 200, &vendorchat_intent_deleted_out, E_PATH, NULL},
    {BT_GET, "/api/v1/unanswered", vendorchat_unanswered_list, BT_PUBLIC, NULL,
     &vendorchat_unanswered_q, BT_R_SLOW, "list unanswered questions", 200,
     &vendorchat_unanswered_page_out, 0, NULL},
    BT_ROUTE_END,
};
