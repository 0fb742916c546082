/* SPDX-License-Identifier: MIT
 * vendors.c - the Vendors API (list, create, get, update, soft delete, configs, stats) and the
 * chat-side vendor endpoints /vendors/{id}/test and /reload (document 004, note "Vendors API
 * details").
 * Owns: the vendor and vendor-config tables' SQL, the vendor JSON shape (document field order),
 * the vendors read cache (filled here; the database's triggers invalidate it on every write).
 * Must not: answer a write before bt_cache_sync (the client's next request must see it),
 * cache an unknown vendor, hard-delete a vendor, or change a vendor's code.
 */
#include <stdio.h>
#include <string.h>

#include "vendorchat.h"

#define VENDORS_NOT_FOUND "業者不存在"

/* The document's vendor object, field by field in its order. */
#define VENDORS_COLUMNS                                                                            \
    "id, code, name, short_name, contact_phone, contact_email, address, subscription_plan,"        \
    " subscription_status, is_active, created_at, updated_at"

#define CONFIG_COLUMNS                                                                             \
    "id, category, param_key, param_value, data_type, display_name, description, unit,"            \
    " is_active, created_at, updated_at"

/* ---- schemas ---- */

static const char *const vendors_data_types[] = {"string",  "number", "date",
                                                 "boolean", "json",   NULL};

static const struct bt_field vendors_list_q_fields[] = {
    {.name = "is_active", .type = BT_T_BOOL, .desc = "過濾啟用/停用狀態"},
    {.name = "subscription_plan", .type = BT_T_STR, .max_len = 50, .desc = "過濾訂閱方案"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_vendor_list_q = {
    .name = "VendorListQuery",
    .fields = vendors_list_q_fields,
};

static const struct bt_field vendors_create_fields[] = {
    {.name = "code",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 50,
     .desc = "業者代碼（唯一，建立後不可修改）"},
    {.name = "name",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 200,
     .desc = "業者名稱"},
    {.name = "short_name",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 100,
     .desc = "簡稱"},
    {.name = "contact_phone",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 50,
     .desc = "聯絡電話"},
    {.name = "contact_email",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 100,
     .desc = "聯絡郵箱"},
    {.name = "address", .type = BT_T_STR, .flags = BT_F_NULLABLE, .desc = "公司地址"},
    {.name = "subscription_plan",
     .type = BT_T_STR,
     .flags = BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 50,
     .desc = "訂閱方案（預設：basic）"},
    {.name = "created_by",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 100,
     .desc = "建立者（預設：admin）"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_vendor_create_in = {
    .name = "VendorCreate",
    .fields = vendors_create_fields,
};

/* No "code": it cannot change, and the schema drops unknown fields, so a code in the body is
 * ignored rather than refused (as the original did). */
static const struct bt_field vendors_update_fields[] = {
    {.name = "name",
     .type = BT_T_STR,
     .flags = BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 200,
     .desc = "業者名稱"},
    {.name = "short_name",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 100,
     .desc = "簡稱"},
    {.name = "contact_phone",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 50,
     .desc = "聯絡電話"},
    {.name = "contact_email",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 100,
     .desc = "聯絡郵箱"},
    {.name = "address", .type = BT_T_STR, .flags = BT_F_NULLABLE, .desc = "公司地址"},
    {.name = "subscription_plan",
     .type = BT_T_STR,
     .flags = BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 50,
     .desc = "訂閱方案"},
    {.name = "is_active", .type = BT_T_BOOL, .desc = "是否啟用"},
    {.name = "updated_by",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 100,
     .desc = "更新者（預設：admin）"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_vendor_update_in = {
    .name = "VendorUpdate",
    .fields = vendors_update_fields,
};

static const struct bt_field vendors_configs_q_fields[] = {
    {.name = "category",
     .type = BT_T_STR,
     .max_len = 50,
     .desc = "過濾分類（payment, contract, service, contact）"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_configs_q = {
    .name = "VendorConfigsQuery",
    .fields = vendors_configs_q_fields,
};

static const struct bt_field vendors_config_item_fields[] = {
    {.name = "category",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 50,
     .desc = "分類"},
    {.name = "param_key",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 100,
     .desc = "參數鍵"},
    {.name = "param_value", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "參數值"},
    {.name = "data_type",
     .type = BT_T_ENUM,
     .one_of = vendors_data_types,
     .desc = "資料型別（預設：string）"},
    {.name = "display_name",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 200,
     .desc = "顯示名稱"},
    {.name = "description", .type = BT_T_STR, .flags = BT_F_NULLABLE, .desc = "參數說明"},
    {.name = "unit", .type = BT_T_STR, .flags = BT_F_NULLABLE, .max_len = 20, .desc = "單位"},
    BT_FIELD_END,
};

static const struct bt_field vendors_configs_put_fields[] = {
    {.name = "configs",
     .type = BT_T_ARRAY,
     .flags = BT_F_REQUIRED,
     .max_len = 1000,
     .item_type = BT_T_OBJECT,
     .items = vendors_config_item_fields,
     .desc = "配置列表"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_configs_put_in = {
    .name = "VendorConfigsUpdate",
    .fields = vendors_configs_put_fields,
};

/* ---- response schemas (docs/apps/vendorchat.md, "Responses") ---- */

/* The vendor's first six fields, shared by the vendor object and the /test summary. */
#define VENDOR_HEAD_FIELDS                                                                         \
    {.name = "id", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "業者 ID"},                   \
        {.name = "code", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "業者代碼"},            \
        {.name = "name", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "業者名稱"},            \
        {.name = "short_name",                                                                     \
         .type = BT_T_STR,                                                                         \
         .flags = BT_F_REQUIRED | BT_F_NULLABLE,                                                   \
         .desc = "簡稱"},                                                                          \
        {.name = "contact_phone",                                                                  \
         .type = BT_T_STR,                                                                         \
         .flags = BT_F_REQUIRED | BT_F_NULLABLE,                                                   \
         .desc = "聯絡電話"},                                                                      \
    {                                                                                              \
        .name = "contact_email", .type = BT_T_STR, .flags = BT_F_REQUIRED | BT_F_NULLABLE,         \
        .desc = "聯絡郵箱"                                                                     \
    }

static const char *const vendors_statuses[] = {"active", "suspended", "expired", NULL};

/* The vendor object (VENDORS_COLUMNS), in the document's order. Timestamps are the original's
 * ISO 8601 without a zone (UTC), which is not RFC 3339, so they carry no "date-time" format. */
static const struct bt_field vendors_out_fields[] = {
    VENDOR_HEAD_FIELDS,
    {.name = "address",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "公司地址"},
    {.name = "subscription_plan", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "訂閱方案"},
    {.name = "subscription_status",
     .type = BT_T_ENUM,
     .flags = BT_F_REQUIRED,
     .one_of = vendors_statuses,
     .desc = "訂閱狀態"},
    {.name = "is_active", .type = BT_T_BOOL, .flags = BT_F_REQUIRED, .desc = "是否啟用"},
    {.name = "created_at",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .desc = "建立時間 (ISO 8601, UTC, no zone: 2024-01-01T00:00:00)"},
    {.name = "updated_at",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "更新時間 (ISO 8601, UTC, no zone)"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_vendor_out = {
    .name = "Vendor",
    .fields = vendors_out_fields,
};

/* GET /api/v1/vendors: a JSON array of vendors (the same component). */
const struct bt_schema vendorchat_vendor_list_out = {
    .name = "Vendor",
    .fields = vendors_out_fields,
    .array_body = true,
};

static const struct bt_field vendors_deleted_fields[] = {
    {.name = "message", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "業者已停用"},
    {.name = "vendor_id", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "業者 ID"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_vendor_deleted_out = {
    .name = "VendorDeactivated",
    .fields = vendors_deleted_fields,
};

static const struct bt_field vendors_config_out_fields[] = {
    {.name = "id", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "配置 ID"},
    {.name = "category", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "分類"},
    {.name = "param_key", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "參數鍵"},
    {.name = "param_value", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "參數值"},
    {.name = "data_type",
     .type = BT_T_ENUM,
     .flags = BT_F_REQUIRED,
     .one_of = vendors_data_types,
     .desc = "資料型別"},
    {.name = "display_name",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "顯示名稱"},
    {.name = "description",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "參數說明"},
    {.name = "unit", .type = BT_T_STR, .flags = BT_F_REQUIRED | BT_F_NULLABLE, .desc = "單位"},
    {.name = "is_active", .type = BT_T_BOOL, .flags = BT_F_REQUIRED, .desc = "是否啟用"},
    {.name = "created_at",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .desc = "建立時間 (ISO 8601, UTC, no zone)"},
    {.name = "updated_at",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "更新時間 (ISO 8601, UTC, no zone); null until first updated"},
    BT_FIELD_END,
};

/* GET configs: {category: [config, ...]}, one member per category that has active configs,
 * in category order. Categories are free text, so the body is an open object; the document's
 * four categories are declared so that clients get them typed (and the validator checks
 * them), any other category is an extra member of the same shape. */
#define VENDORS_CATEGORY(cat, what)                                                                \
    {                                                                                              \
        .name = cat, .type = BT_T_ARRAY, .item_type = BT_T_OBJECT,                                 \
        .items = vendors_config_out_fields, .desc = what                                           \
    }

static const struct bt_field vendors_configs_out_fields[] = {
    VENDORS_CATEGORY("payment", "帳務（present when the vendor has such configs）"),
    VENDORS_CATEGORY("contract", "合約"),
    VENDORS_CATEGORY("service", "服務"),
    VENDORS_CATEGORY("contact", "聯絡"),
    BT_FIELD_END,
};

const struct bt_schema vendorchat_configs_out = {
    .name = "VendorConfigsByCategory",
    .fields = vendors_configs_out_fields,
    .flags = BT_S_ALLOW_EXTRA,
};

static const struct bt_field vendors_configs_updated_fields[] = {
    {.name = "message", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "配置已更新"},
    {.name = "vendor_id", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "業者 ID"},
    {.name = "updated_count",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED,
     .desc = "number of configs written (items in the request)"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_configs_updated_out = {
    .name = "VendorConfigsUpdated",
    .fields = vendors_configs_updated_fields,
};

static const struct bt_field vendors_kn_counts_fields[] = {
    {.name = "total_knowledge",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED,
     .desc = "this vendor's own knowledge rows"},
    {.name = "vendor_knowledge",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED,
     .desc = "of which scope vendor"},
    {.name = "customized_knowledge",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED,
     .desc = "of which scope customized"},
    BT_FIELD_END,
};

static const struct bt_field vendors_stats_fields[] = {
    {.name = "vendor",
     .type = BT_T_OBJECT,
     .flags = BT_F_REQUIRED,
     .items = vendors_out_fields,
     .desc = "the vendor"},
    {.name = "config_counts",
     .type = BT_T_OBJECT,
     .flags = BT_F_REQUIRED | BT_F_MAP,
     .item_type = BT_T_INT,
     .desc = "active configs per category"},
    {.name = "total_configs", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "active configs"},
    {.name = "knowledge",
     .type = BT_T_OBJECT,
     .flags = BT_F_REQUIRED,
     .items = vendors_kn_counts_fields,
     .desc = "knowledge counts"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_vendor_stats_out = {
    .name = "VendorStats",
    .fields = vendors_stats_fields,
};

/* /vendors/{id}/test: the document's vendor summary (the vendor object's first six fields,
 * is_active, subscription_plan), parameters by key, the test template. */
static const struct bt_field vendors_summary_fields[] = {
    VENDOR_HEAD_FIELDS,
    {.name = "is_active", .type = BT_T_BOOL, .flags = BT_F_REQUIRED, .desc = "是否啟用"},
    {.name = "subscription_plan", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "訂閱方案"},
    BT_FIELD_END,
};

static const struct bt_field vendors_param_fields[] = {
    {.name = "value", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "參數值（原始）"},
    {.name = "data_type",
     .type = BT_T_ENUM,
     .flags = BT_F_REQUIRED,
     .one_of = vendors_data_types,
     .desc = "資料型別"},
    {.name = "unit", .type = BT_T_STR, .flags = BT_F_REQUIRED | BT_F_NULLABLE, .desc = "單位"},
    {.name = "display_name",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "顯示名稱"},
    {.name = "description",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "參數說明"},
    BT_FIELD_END,
};

static const struct bt_field vendors_template_fields[] = {
    {.name = "original", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "測試模板"},
    {.name = "resolved", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "注入參數後"},
    BT_FIELD_END,
};

static const struct bt_field vendors_test_fields[] = {
    {.name = "vendor",
     .type = BT_T_OBJECT,
     .flags = BT_F_REQUIRED,
     .items = vendors_summary_fields,
     .desc = "業者摘要"},
    {.name = "param_count",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED,
     .desc = "distinct active parameter keys"},
    {.name = "parameters",
     .type = BT_T_OBJECT,
     .flags = BT_F_REQUIRED | BT_F_MAP,
     .items = vendors_param_fields,
     .desc = "param_key → parameter"},
    {.name = "test_template",
     .type = BT_T_OBJECT,
     .flags = BT_F_REQUIRED,
     .items = vendors_template_fields,
     .desc = "參數注入預覽"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_vendor_test_out = {
    .name = "VendorTest",
    .fields = vendors_test_fields,
};

static const struct bt_field vendors_reload_fields[] = {
    {.name = "success", .type = BT_T_BOOL, .flags = BT_F_REQUIRED, .desc = "always true"},
    {.name = "message", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "多業者服務已重新載入"},
    {.name = "timestamp",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .desc = "ISO 8601, UTC, no zone, microseconds: 2024-01-01T12:00:00.000000"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_reload_out = {
    .name = "ReloadResult",
    .fields = vendors_reload_fields,
};

/* ---- helpers ---- */

static struct bt_db *vendors_db(struct bt_req *rq, struct bt_err *err, int *rc)
{
    struct bt_db *db = bt_req_db(rq, err);

    *rc = BT_OK;
    if (!db)
        *rc = err->code != BT_OK ? (int)err->code : BT_EDB;
    return db;
}

static json_t *vendors_str_or_null(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;

    return j ? j : json_null();
}

/* Copy one member (borrowed from src) into dst, null when absent. */
static void vendors_copy(json_t *dst, const json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);

    json_object_set_new(dst, key, v ? json_incref(v) : json_null());
}

static char *vendors_now(char out[32])
{
    return bt_time_fmt(bt_now_unix_us(), BT_ISO_SEC, out);
}

int vendorchat_path_id(struct bt_req *rq, const char *name, int64_t *id, struct bt_err *err)
{
    const char *s = bt_req_param(rq, name);
    int64_t v = 0;

    if (!s || bt_parse_i64(s, &v) != 0 || v < 1) {
        bt_err_add_field(err, name, "must be a positive integer");
        return BT_EINVAL;
    }
    *id = v;
    return BT_OK;
}

/* The vendor row as the API shows it: *text (compact JSON, arena-owned) always, *vendor (may
 * be NULL) the parsed object. From the vendors cache when it has the row, else read and
 * offered to it (docs/apps/vendorchat.md, "Caches"). BT_ENOTFOUND with err clear when
 * unknown (not cached: a vendor created later must not be hidden). */
static int vendors_load(struct bt_req *rq, int64_t id, json_t **vendor, const char **text,
                        size_t *len, struct bt_err *err)
{
    struct bt_cache *cache = vendorchat_state(rq)->vendors;
    struct bt_cache_fill fill;
    struct bt_db *db;
    json_t *row;
    char key[24];
    int rc;

    if (vendor)
        *vendor = NULL;
    snprintf(key, sizeof(key), "%lld", (long long)id);
    if (bt_cache_get(cache, key, rq->arena, text, len, &fill)) {
        if (!vendor)
            return BT_OK;
        *vendor = bt_json_own(rq->arena, json_loadb(*text, *len, 0, NULL));
        if (*vendor)
            return BT_OK;
        /* what the cache holds was written by bt_json_dump below: cannot happen */
        fill = (struct bt_cache_fill){.key = key};
    }
    if (!(db = vendors_db(rq, err, &rc)))
        return rc;
    rc = bt_db_query_one_json(db, rq->arena, &row,
                              "SELECT " VENDORS_COLUMNS " FROM vendorchat_vendors WHERE id = $1",
                              BT_ARGS(bt_i64(id)), err);
    if (rc == BT_ENOTFOUND)
        bt_err_clear(err);
    if (rc != BT_OK)
        return rc;
    *text = bt_json_dump(rq->arena, row, len);
    bt_cache_put(&fill, *text, *len);
    if (vendor)
        *vendor = row;
    return BT_OK;
}

int vendorchat_vendor_fetch(struct bt_req *rq, int64_t id, json_t **vendor, struct bt_err *err)
{
    const char *text;
    size_t len;

    return vendors_load(rq, id, vendor, &text, &len, err);
}

/* A write committed: the client's next request to this instance must see it (the caches
 * hear of it through the database; this waits until they have). */
static void vendors_written(struct bt_req *rq)
{
    bt_cache_sync(rq->ctx->pool);
}

/* Does the vendor exist? BT_OK, or BT_ENOTFOUND with the Vendors API's 404 wording. */
static int vendors_exists(struct bt_db *db, int64_t id, struct bt_err *err)
{
    int64_t one;
    int rc = bt_db_query_i64(db, &one, "SELECT id FROM vendorchat_vendors WHERE id = $1",
                             BT_ARGS(bt_i64(id)), err);

    if (rc == BT_ENOTFOUND) {
        bt_err_clear(err);
        return bt_fail(err, BT_ENOTFOUND, NULL, VENDORS_NOT_FOUND);
    }
    return rc;
}

/* Answer with the vendor row (its cached text as it is); 404 in the Vendors API wording. */
static int vendors_reply(struct bt_req *rq, struct bt_res *rs, int status, int64_t id,
                         struct bt_err *err)
{
    const char *text;
    size_t len;
    int rc = vendors_load(rq, id, NULL, &text, &len, err);

    if (rc == BT_ENOTFOUND)
        return bt_fail(err, BT_ENOTFOUND, NULL, VENDORS_NOT_FOUND);
    if (rc != BT_OK)
        return rc;
    return bt_res_static(rs, status, "application/json", text, len);
}

/* ---- vendors ---- */

int vendorchat_vendor_list(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_val args[2];
    size_t nargs = 0;
    struct bt_buf sql;
    struct bt_db *db;
    json_t *list;
    int rc;

    if (!(db = vendors_db(rq, err, &rc)))
        return rc;
    bt_buf_init(&sql, rq->arena, 256);
    bt_buf_adds(&sql, "SELECT " VENDORS_COLUMNS " FROM vendorchat_vendors");
    if (bt_req_qhas(rq, "is_active")) {
        args[nargs++] = bt_bool(bt_req_qbool(rq, "is_active", true));
        bt_buf_addf(&sql, " WHERE is_active = $%zu", nargs);
    }
    if (bt_req_qhas(rq, "subscription_plan")) {
        args[nargs++] = bt_text(bt_req_qstr(rq, "subscription_plan"));
        bt_buf_addf(&sql, "%s subscription_plan = $%zu", nargs > 1 ? " AND" : " WHERE", nargs);
    }
    /* newest first; the id breaks ties between rows created within the same second */
    bt_buf_adds(&sql, " ORDER BY created_at DESC, id DESC");
    rc = bt_db_query_json(db, rq->arena, &list, sql.p, args, nargs, err);
    if (rc != BT_OK)
        return rc;
    return bt_res_json(rs, 200, json_incref(list));
}

int vendorchat_vendor_create(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const char *code = bt_req_str(rq, "code");
    const char *plan = bt_req_str(rq, "subscription_plan");
    const char *by = bt_req_str(rq, "created_by");
    char now[32], today[32];
    int64_t us = bt_now_unix_us(), id;
    struct bt_db *db;
    int rc;

    if (!(db = vendors_db(rq, err, &rc)))
        return rc;
    rc = bt_db_query_i64(db, &id, "SELECT id FROM vendorchat_vendors WHERE code = $1",
                         BT_ARGS(bt_text(code)), err);
    if (rc == BT_OK)
        return bt_fail(err, BT_EINVAL, "code", "業者代碼已存在: %s", code);
    if (rc != BT_ENOTFOUND)
        return rc;
    bt_err_clear(err);

    bt_time_fmt(us, BT_ISO_SEC, now);
    bt_time_fmt(us, BT_ISO_DATE, today);
    rc = bt_db_query_i64(
        db, &id,
        "INSERT INTO vendorchat_vendors (code, name, short_name, contact_phone, contact_email,"
        " address, subscription_plan, subscription_status, subscription_start_date, is_active,"
        " settings, created_at, updated_at, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, TRUE, '{}', $9, $9, $10)"
        " RETURNING id",
        BT_ARGS(bt_text(code), bt_text(bt_req_str(rq, "name")),
                bt_text(bt_req_str(rq, "short_name")), bt_text(bt_req_str(rq, "contact_phone")),
                bt_text(bt_req_str(rq, "contact_email")), bt_text(bt_req_str(rq, "address")),
                bt_text(plan ? plan : "basic"), bt_text(today), bt_text(now),
                bt_text(by ? by : "admin")),
        err);
    if (rc == BT_ECONFLICT) {
        /* lost a race with a concurrent create of the same code */
        bt_err_clear(err);
        return bt_fail(err, BT_EINVAL, "code", "業者代碼已存在: %s", code);
    }
    if (rc != BT_OK)
        return rc;
    vendors_written(rq);
    return vendors_reply(rq, rs, 201, id, err);
}

int vendorchat_vendor_get(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    int64_t id;
    int rc;

    if ((rc = vendorchat_path_id(rq, "vendor_id", &id, err)) != BT_OK)
        return rc;
    return vendors_reply(rq, rs, 200, id, err);
}

/* Columns PUT may change; only those present in the body are written. */
static const struct {
    const char *name;
    bool is_bool;
} vendors_updatable[] = {
    {"name", false},          {"short_name", false}, {"contact_phone", false},
    {"contact_email", false}, {"address", false},    {"subscription_plan", false},
    {"is_active", true},
};

#define VENDORS_NUPDATABLE (sizeof(vendors_updatable) / sizeof(vendors_updatable[0]))

int vendorchat_vendor_update(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_val args[VENDORS_NUPDATABLE + 3];
    const char *by = bt_req_str(rq, "updated_by");
    size_t nargs = 0;
    struct bt_buf sql;
    struct bt_db *db;
    int64_t id, changed = 0;
    char now[32];
    int rc;

    if ((rc = vendorchat_path_id(rq, "vendor_id", &id, err)) != BT_OK)
        return rc;
    if (!(db = vendors_db(rq, err, &rc)))
        return rc;
    /* The statement text depends only on which fields are present (a fixed, small set of
     * shapes); every value is bound. */
    bt_buf_init(&sql, rq->arena, 256);
    bt_buf_adds(&sql, "UPDATE vendorchat_vendors SET updated_at = $1, updated_by = $2");
    args[nargs++] = bt_text(vendors_now(now));
    args[nargs++] = bt_text(by ? by : "admin");
    for (size_t i = 0; i < VENDORS_NUPDATABLE; i++) {
        const char *col = vendors_updatable[i].name;

        if (!bt_req_has(rq, col))
            continue;
        if (vendors_updatable[i].is_bool)
            args[nargs++] = bt_bool(bt_req_bool(rq, col, true));
        else
            args[nargs++] = bt_text(bt_req_str(rq, col));
        bt_buf_addf(&sql, ", %s = $%zu", col, nargs);
    }
    args[nargs++] = bt_i64(id);
    bt_buf_addf(&sql, " WHERE id = $%zu", nargs);
    rc = bt_db_exec(db, &changed, sql.p, args, nargs, err);
    if (rc != BT_OK)
        return rc;
    if (changed == 0)
        return bt_fail(err, BT_ENOTFOUND, NULL, VENDORS_NOT_FOUND);
    vendors_written(rq);
    return vendors_reply(rq, rs, 200, id, err);
}

int vendorchat_vendor_delete(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_db *db;
    int64_t id, changed = 0;
    char now[32];
    int rc;

    if ((rc = vendorchat_path_id(rq, "vendor_id", &id, err)) != BT_OK)
        return rc;
    if (!(db = vendors_db(rq, err, &rc)))
        return rc;
    rc = bt_db_exec(db, &changed,
                    "UPDATE vendorchat_vendors SET is_active = FALSE, updated_at = $1,"
                    " updated_by = 'admin' WHERE id = $2",
                    BT_ARGS(bt_text(vendors_now(now)), bt_i64(id)), err);
    if (rc != BT_OK)
        return rc;
    if (changed == 0)
        return bt_fail(err, BT_ENOTFOUND, NULL, VENDORS_NOT_FOUND);
    vendors_written(rq);
    return bt_res_json(
        rs, 200, json_pack("{s:s,s:I}", "message", "業者已停用", "vendor_id", (json_int_t)id));
}

/* ---- configs ---- */

int vendorchat_configs_get(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const char *category = bt_req_qstr(rq, "category");
    struct bt_db *db;
    json_t *rows, *row, *out;
    int64_t id;
    size_t i;
    int rc;

    if ((rc = vendorchat_path_id(rq, "vendor_id", &id, err)) != BT_OK)
        return rc;
    if (!(db = vendors_db(rq, err, &rc)))
        return rc;
    if ((rc = vendors_exists(db, id, err)) != BT_OK)
        return rc;
    if (category)
        rc = bt_db_query_json(db, rq->arena, &rows,
                              "SELECT " CONFIG_COLUMNS " FROM vendorchat_vendor_configs"
                              " WHERE vendor_id = $1 AND is_active = TRUE AND category = $2"
                              " ORDER BY category, param_key",
                              BT_ARGS(bt_i64(id), bt_text(category)), err);
    else
        rc = bt_db_query_json(db, rq->arena, &rows,
                              "SELECT " CONFIG_COLUMNS " FROM vendorchat_vendor_configs"
                              " WHERE vendor_id = $1 AND is_active = TRUE"
                              " ORDER BY category, param_key",
                              BT_ARGS(bt_i64(id)), err);
    if (rc != BT_OK)
        return rc;

    out = json_object();
    json_array_foreach(rows, i, row)
    {
        const char *cat = json_string_value(json_object_get(row, "category"));
        json_t *group;

        if (!cat)
            continue;
        group = json_object_get(out, cat);
        if (!group) {
            group = json_array();
            json_object_set_new(out, cat, group);
        }
        json_array_append(group, row);
    }
    return bt_res_json(rs, 200, out);
}

/* One upsert per item. Fields absent from an item keep their stored value on update (a PUT of
 * just param_value must not wipe the unit or the display name); on insert they take the
 * column defaults. An explicit null clears a nullable field. */
static int vendors_config_upsert(struct bt_db *db, int64_t vendor_id, const json_t *item,
                                 const char *now, struct bt_err *err)
{
    const json_t *dt = json_object_get(item, "data_type");
    const json_t *dn = json_object_get(item, "display_name");
    const json_t *desc = json_object_get(item, "description");
    const json_t *unit = json_object_get(item, "unit");
    const char *type = json_string_value(dt);

    return bt_db_exec(
        db, NULL,
        "INSERT INTO vendorchat_vendor_configs (vendor_id, category, param_key, param_value,"
        " data_type, display_name, description, unit, is_active, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9)"
        " ON CONFLICT (vendor_id, category, param_key) DO UPDATE SET"
        " param_value = excluded.param_value,"
        " data_type = CASE WHEN $10 = 1 THEN excluded.data_type"
        " ELSE vendorchat_vendor_configs.data_type END,"
        " display_name = CASE WHEN $11 = 1 THEN excluded.display_name"
        " ELSE vendorchat_vendor_configs.display_name END,"
        " description = CASE WHEN $12 = 1 THEN excluded.description"
        " ELSE vendorchat_vendor_configs.description END,"
        " unit = CASE WHEN $13 = 1 THEN excluded.unit ELSE vendorchat_vendor_configs.unit END,"
        " is_active = TRUE, updated_at = $9",
        BT_ARGS(bt_i64(vendor_id), bt_text(json_string_value(json_object_get(item, "category"))),
                bt_text(json_string_value(json_object_get(item, "param_key"))),
                bt_text(json_string_value(json_object_get(item, "param_value"))),
                bt_text(type ? type : "string"), bt_text(json_string_value(dn)),
                bt_text(json_string_value(desc)), bt_text(json_string_value(unit)), bt_text(now),
                bt_i64(type != NULL), bt_i64(dn != NULL), bt_i64(desc != NULL),
                bt_i64(unit != NULL)),
        err);
}

int vendorchat_configs_put(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const json_t *configs = json_object_get(rq->json, "configs");
    struct bt_db *db;
    json_t *item;
    int64_t id;
    char now[32];
    size_t i;
    int rc;

    if ((rc = vendorchat_path_id(rq, "vendor_id", &id, err)) != BT_OK)
        return rc;
    if (!(db = vendors_db(rq, err, &rc)))
        return rc;
    vendors_now(now);
    if ((rc = bt_db_begin(db, err)) != BT_OK)
        return rc;
    if ((rc = vendors_exists(db, id, err)) != BT_OK)
        goto fail;
    json_array_foreach(configs, i, item)
    {
        if ((rc = vendors_config_upsert(db, id, item, now, err)) != BT_OK)
            goto fail;
    }
    if ((rc = bt_db_commit(db, err)) != BT_OK)
        goto fail;
    vendors_written(rq);
    return bt_res_json(rs, 200,
                       json_pack("{s:s,s:I,s:I}", "message", "配置已更新", "vendor_id",
                                 (json_int_t)id, "updated_count",
                                 (json_int_t)json_array_size(configs)));
fail:
    if (bt_db_in_tx(db))
        bt_db_rollback(db);
    return rc;
}

/* ---- stats ---- */

int vendorchat_vendor_stats(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_rows *counts, *kn;
    struct bt_db *db;
    json_t *vendor, *by_cat, *out;
    int64_t id, total = 0;
    int rc;

    if ((rc = vendorchat_path_id(rq, "vendor_id", &id, err)) != BT_OK)
        return rc;
    rc = vendorchat_vendor_fetch(rq, id, &vendor, err);
    if (rc == BT_ENOTFOUND)
        return bt_fail(err, BT_ENOTFOUND, NULL, VENDORS_NOT_FOUND);
    if (rc != BT_OK)
        return rc;
    if (!(db = vendors_db(rq, err, &rc)))
        return rc;
    rc = bt_db_query(db, rq->arena, &counts,
                     "SELECT category, COUNT(*) AS n FROM vendorchat_vendor_configs"
                     " WHERE vendor_id = $1 AND is_active = TRUE"
                     " GROUP BY category ORDER BY category",
                     BT_ARGS(bt_i64(id)), err);
    if (rc != BT_OK)
        return rc;
    /* this vendor's own knowledge rows; globals are shared and not counted */
    rc = bt_db_query(db, rq->arena, &kn,
                     "SELECT COUNT(*),"
                     " COALESCE(SUM(CASE WHEN scope = 'vendor' THEN 1 ELSE 0 END), 0),"
                     " COALESCE(SUM(CASE WHEN scope = 'customized' THEN 1 ELSE 0 END), 0)"
                     " FROM vendorchat_knowledge WHERE vendor_id = $1",
                     BT_ARGS(bt_i64(id)), err);
    if (rc != BT_OK)
        return rc;

    by_cat = json_object();
    for (size_t r = 0; r < counts->nrows; r++) {
        int64_t n = bt_rows_i64(counts, r, 1, 0);
        const char *cat = bt_rows_text(counts, r, 0);

        if (!cat)
            continue;
        json_object_set_new(by_cat, cat, json_integer((json_int_t)n));
        total += n;
    }
    out = json_object();
    json_object_set(out, "vendor", vendor);
    json_object_set_new(out, "config_counts", by_cat);
    json_object_set_new(out, "total_configs", json_integer((json_int_t)total));
    json_object_set_new(
        out, "knowledge",
        json_pack("{s:I,s:I,s:I}", "total_knowledge",
                  (json_int_t)(kn->nrows ? bt_rows_i64(kn, 0, 0, 0) : 0), "vendor_knowledge",
                  (json_int_t)(kn->nrows ? bt_rows_i64(kn, 0, 1, 0) : 0), "customized_knowledge",
                  (json_int_t)(kn->nrows ? bt_rows_i64(kn, 0, 2, 0) : 0)));
    return bt_res_json(rs, 200, out);
}

/* ---- chat-side: /vendors/{id}/test and /reload ---- */

#define VENDORS_TEST_TEMPLATE "繳費日為 {{payment_day}}，逾期費 {{late_fee}}。"

int vendorchat_vendor_test(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    static const char *const shown[] = {"id",
                                        "code",
                                        "name",
                                        "short_name",
                                        "contact_phone",
                                        "contact_email",
                                        "is_active",
                                        "subscription_plan"};
    struct vendorchat_param *ps;
    size_t n;
    json_t *vendor, *v, *params, *out;
    int64_t id;
    int rc;

    if ((rc = vendorchat_path_id(rq, "vendor_id", &id, err)) != BT_OK)
        return rc;
    rc = vendorchat_vendor_fetch(rq, id, &vendor, err);
    if (rc == BT_ENOTFOUND)
        return bt_fail(err, BT_ENOTFOUND, NULL, VENDORS_NOT_FOUND ": %lld", (long long)id);
    if (rc != BT_OK)
        return rc;
    if ((rc = vendorchat_params_load(rq, id, &ps, &n, err)) != BT_OK)
        return rc;

    /* the document's vendor summary, in its field order */
    v = json_object();
    for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
        vendors_copy(v, vendor, shown[i]);

    params = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_object();

        json_object_set_new(p, "value", vendors_str_or_null(ps[i].value));
        json_object_set_new(p, "data_type", vendors_str_or_null(ps[i].data_type));
        json_object_set_new(p, "unit", vendors_str_or_null(ps[i].unit));
        json_object_set_new(p, "display_name", vendors_str_or_null(ps[i].display_name));
        json_object_set_new(p, "description", vendors_str_or_null(ps[i].description));
        json_object_set_new(params, ps[i].key, p);
    }

    out = json_object();
    json_object_set_new(out, "vendor", v);
    json_object_set_new(out, "param_count", json_integer((json_int_t)json_object_size(params)));
    json_object_set_new(out, "parameters", params);
    json_object_set_new(
        out, "test_template",
        json_pack("{s:s,s:s}", "original", VENDORS_TEST_TEMPLATE, "resolved",
                  vendorchat_inject(rq->arena, VENDORS_TEST_TEMPLATE, ps, n, NULL)));
    return bt_res_json(rs, 200, out);
}

int vendorchat_reload(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    char ts[32];

    (void)err;
    vendorchat_cache_clear(vendorchat_state(rq));
    bt_time_fmt(bt_now_unix_us(), BT_ISO_US, ts);
    return bt_res_json(rs, 200,
                       json_pack("{s:b,s:s,s:s}", "success", 1, "message", "多業者服務已重新載入",
                                 "timestamp", ts));
}
