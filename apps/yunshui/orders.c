/* SPDX-License-Identifier: MIT
 * orders.c - yunshui's orders (document 002 "訂單管理 API", note yunshui.md "Orders"):
 * list, get, create, edit, delete, and the status machine with its stock movements.
 * Owns: the order, item, status-history and numbering tables' SQL; order numbers
 *       (ORD-<year>-<seq>, unique and gap-free per year); exact totals in 1/10000 units; the
 *       status machine PENDING -> PROCESSING|CANCELLED, PROCESSING -> COMPLETED|CANCELLED;
 *       taking stock on PROCESSING and returning it on CANCELLED from PROCESSING, all or
 *       nothing; the USER rules (edit or cancel only its own PENDING orders).
 * Must not: read-modify-write a counter or a stock level (every change is one conditional
 *           UPDATE, safe on both engines under concurrency); touch materials beyond their
 *           stock column; let a money product or sum overflow 64 bits.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "yunshui.h"

#define ORD_NOT_FOUND "訂單不存在"
#define ORD_FORBIDDEN "權限不足"
#define ORD_INVALID "資料驗證錯誤"
#define ORD_MATERIAL_NOT_FOUND "基材不存在"

/* Amounts are 1/10000 units; 10^10 (the note's cap on any amount) is 10^14 units. */
#define ORD_MONEY_MAX 100000000000000LL
#define ORD_QTY_MAX 1000000
#define ORD_ITEMS_MAX 100
/* 10000-01-01T00:00:00Z: later bounds would not compare as four-digit-year text */
#define ORD_TIME_END_US 253402300800000000LL

/* The document's order object, field by field in its order (items follow). */
#define ORD_COLUMNS                                                                                \
    "id, order_number, customer_name, customer_phone, customer_email, customer_address,"           \
    " status, total_amount, notes, created_by, created_at, updated_at"
#define ITEM_COLUMNS "id, material_id, material_name, quantity, unit_price, subtotal"
#define HIST_COLUMNS "id, from_status, to_status, notes, changed_by, changed_at"

/* ---- schemas ---- */

static const char *const ord_statuses[] = {"PENDING", "PROCESSING", "COMPLETED", "CANCELLED", NULL};

static const struct bt_field ord_list_q_fields[] = {
    YUNSHUI_PAGE_FIELDS,
    {.name = "search",
     .type = BT_T_STR,
     .max_len = 100,
     .desc = "搜尋關鍵字（訂單編號、客戶名稱、電話、Email）"},
    {.name = "status", .type = BT_T_ENUM, .one_of = ord_statuses, .desc = "狀態篩選"},
    {.name = "dateFrom",
     .type = BT_T_STR,
     .max_len = 64,
     .desc = "開始日期 (ISO 8601)，含當時；只有日期時從該日 00:00 UTC 起"},
    {.name = "dateTo",
     .type = BT_T_STR,
     .max_len = 64,
     .desc = "結束日期 (ISO 8601)，含當時；只有日期時含該日全天 (UTC)"},
    BT_FIELD_END,
};

const struct bt_schema yunshui_order_list_q = {
    .name = "OrderListQuery",
    .fields = ord_list_q_fields,
};

static const struct bt_field ord_item_fields[] = {
    {.name = "materialId",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .max_len = 64,
     .desc = "基材 ID"},
    {.name = "quantity",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED | BT_F_MIN | BT_F_MAX,
     .min = 1,
     .max = ORD_QTY_MAX,
     .desc = "數量"},
    {.name = "unitPrice",
     .type = BT_T_NUM,
     .flags = BT_F_NULLABLE | BT_F_MIN | BT_F_MAX,
     .min = 0,
     .max = 10000000000.0,
     .desc = "單價（最多 4 位小數）；省略時為基材目前價格"},
    BT_FIELD_END,
};

static const struct bt_field ord_in_fields[] = {
    {.name = "customerName",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .max_len = 100,
     .desc = "客戶名稱"},
    {.name = "customerPhone",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 50,
     .desc = "客戶電話"},
    {.name = "customerEmail",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 100,
     .desc = "客戶 Email（有值時驗證格式）"},
    {.name = "customerAddress",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 500,
     .desc = "客戶地址"},
    {.name = "notes", .type = BT_T_STR, .flags = BT_F_NULLABLE, .max_len = 2000, .desc = "備註"},
    {.name = "items",
     .type = BT_T_ARRAY,
     .flags = BT_F_REQUIRED,
     .min_len = 1,
     .max_len = ORD_ITEMS_MAX,
     .item_type = BT_T_OBJECT,
     .items = ord_item_fields,
     .desc = "訂單項目（更新時整批取代）"},
    BT_FIELD_END,
};

const struct bt_schema yunshui_order_in = {
    .name = "OrderCreate",
    .fields = ord_in_fields,
};

/* Every field optional; present items replace all items. */
const struct bt_schema yunshui_order_update_in = {
    .name = "OrderUpdate",
    .fields = ord_in_fields,
    .flags = BT_S_PARTIAL,
};

static const struct bt_field ord_status_fields[] = {
    {.name = "status",
     .type = BT_T_ENUM,
     .flags = BT_F_REQUIRED,
     .one_of = ord_statuses,
     .desc = "新狀態"},
    {.name = "notes", .type = BT_T_STR, .flags = BT_F_NULLABLE, .max_len = 2000, .desc = "備註"},
    BT_FIELD_END,
};

const struct bt_schema yunshui_order_status_in = {
    .name = "OrderStatusUpdate",
    .fields = ord_status_fields,
};

/* ---- small helpers ---- */

static struct bt_db *ord_db(struct bt_req *rq, struct bt_err *err, int *rc)
{
    struct bt_db *db = bt_req_db(rq, err);

    *rc = BT_OK;
    if (!db)
        *rc = err->code != BT_OK ? (int)err->code : BT_EDB;
    return db;
}

static json_t *ord_str(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;

    return j ? j : json_null();
}

static void ord_rollback(struct bt_db *db)
{
    if (db && bt_db_in_tx(db))
        bt_db_rollback(db);
}

/* Roll back (if a transaction is open) and pass rc through. */
static int ord_abort(struct bt_db *db, int rc)
{
    ord_rollback(db);
    return rc;
}

static int ord_not_found(struct bt_req *rq, struct bt_db *db, struct bt_err *err)
{
    ord_rollback(db);
    bt_err_clear(err);
    return yunshui_fail(rq, err, BT_ENOTFOUND, "RESOURCE_NOT_FOUND", ORD_NOT_FOUND, NULL);
}

static int ord_forbidden(struct bt_req *rq, struct bt_db *db, struct bt_err *err)
{
    ord_rollback(db);
    return yunshui_fail(rq, err, BT_EFORBIDDEN, "INSUFFICIENT_PERMISSIONS", ORD_FORBIDDEN, NULL);
}

/* 409 for an order whose status does not allow the operation (a bento code: the document's
 * table has no code for a state conflict). */
static int ord_state_conflict(struct bt_req *rq, struct bt_db *db, struct bt_err *err,
                              const char *status, const char *message, const char *const *required)
{
    json_t *j_required = json_array();

    ord_rollback(db);
    for (size_t i = 0; required[i]; i++)
        json_array_append_new(j_required, json_string(required[i]));
    return yunshui_fail(rq, err, BT_ECONFLICT, "ORDER_STATE_CONFLICT", message,
                        json_pack("{s:s,s:o}", "status", status, "requiredStatus", j_required));
}

static bool ord_owner(const struct bt_req *rq, const char *created_by)
{
    const struct yunshui_principal *me = yunshui_me(rq);

    return me && me->user_id && created_by && strcmp(me->user_id, created_by) == 0;
}

static bool ord_admin(const struct bt_req *rq)
{
    const struct yunshui_principal *me = yunshui_me(rq);

    return me && me->admin;
}

static const char *ord_user_id(const struct bt_req *rq)
{
    const struct yunshui_principal *me = yunshui_me(rq);

    return me && me->user_id ? me->user_id : "";
}

/* The status machine: the states each state may move to, NULL-terminated. */
static const char *const *ord_next_states(const char *from)
{
    static const char *const from_pending[] = {"PROCESSING", "CANCELLED", NULL};
    static const char *const from_processing[] = {"COMPLETED", "CANCELLED", NULL};
    static const char *const final_state[] = {NULL};

    if (strcmp(from, "PENDING") == 0)
        return from_pending;
    if (strcmp(from, "PROCESSING") == 0)
        return from_processing;
    return final_state;
}

static bool ord_in(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* A practical address check: one '@', a local part without spaces, a dotted domain of
 * letters, digits and hyphens whose labels neither start nor end with a hyphen. */
static bool ord_email_ok(const char *s)
{
    const char *at = strchr(s, '@'), *d;
    size_t label = 0, labels = 0;

    if (!at || at == s || strchr(at + 1, '@') || at - s > 64)
        return false;
    for (const char *p = s; p < at; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c == 0x7f || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' ||
            c == '<' || c == '>' || c == '[' || c == ']' || c == '\\' || c == '"')
            return false;
    }
    if (s[0] == '.' || at[-1] == '.' || strstr(s, ".."))
        return false;
    for (d = at + 1;; d++) {
        char c = *d;
        if (c == '.' || c == '\0') {
            if (label == 0 || d[-1] == '-')
                return false;
            labels++;
            label = 0;
            if (c == '\0')
                break;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
        if (label == 0 && c == '-')
            return false;
        label++;
    }
    return labels >= 2;
}

/* ---- order JSON ---- */

static json_t *ord_item_json(const struct bt_rows *rows, size_t r, size_t c0)
{
    json_t *j = json_object();

    json_object_set_new(j, "id", ord_str(bt_rows_text(rows, r, c0)));
    json_object_set_new(j, "materialId", ord_str(bt_rows_text(rows, r, c0 + 1)));
    json_object_set_new(j, "materialName", ord_str(bt_rows_text(rows, r, c0 + 2)));
    json_object_set_new(j, "quantity", json_integer(bt_rows_i64(rows, r, c0 + 3, 0)));
    json_object_set_new(j, "unitPrice", yunshui_money_json(bt_rows_i64(rows, r, c0 + 4, 0)));
    json_object_set_new(j, "subtotal", yunshui_money_json(bt_rows_i64(rows, r, c0 + 5, 0)));
    return j;
}

/* Row r of an ORD_COLUMNS result, without items (the caller adds them). */
static json_t *ord_json(const struct bt_rows *o, size_t r)
{
    static const char *const keys[] = {
        "id",    "orderNumber", "customerName", "customerPhone", "customerEmail", "customerAddress",
        "status"};
    json_t *j = json_object();

    for (size_t c = 0; c < sizeof(keys) / sizeof(keys[0]); c++)
        json_object_set_new(j, keys[c], ord_str(bt_rows_text(o, r, c)));
    json_object_set_new(j, "totalAmount", yunshui_money_json(bt_rows_i64(o, r, 7, 0)));
    json_object_set_new(j, "notes", ord_str(bt_rows_text(o, r, 8)));
    json_object_set_new(j, "createdBy", ord_str(bt_rows_text(o, r, 9)));
    json_object_set_new(j, "createdAt", ord_str(bt_rows_text(o, r, 10)));
    json_object_set_new(j, "updatedAt", ord_str(bt_rows_text(o, r, 11)));
    return j;
}

/* One order with its items and status history (arena-owned); BT_ENOTFOUND when none. */
static int ord_load(struct bt_req *rq, struct bt_db *db, const char *id, json_t **out,
                    struct bt_err *err)
{
    struct bt_rows *o, *it, *h;
    json_t *j, *j_items, *j_hist;
    int rc;

    rc = bt_db_query(db, rq->arena, &o, "SELECT " ORD_COLUMNS " FROM yunshui_orders WHERE id = $1",
                     BT_ARGS(bt_text(id)), err);
    if (rc != BT_OK)
        return rc;
    if (o->nrows == 0)
        return BT_ENOTFOUND;
    rc = bt_db_query(db, rq->arena, &it,
                     "SELECT " ITEM_COLUMNS " FROM yunshui_order_items WHERE order_id = $1"
                     " ORDER BY position",
                     BT_ARGS(bt_text(id)), err);
    if (rc != BT_OK)
        return rc;
    rc = bt_db_query(db, rq->arena, &h,
                     "SELECT " HIST_COLUMNS " FROM yunshui_order_status_history"
                     " WHERE order_id = $1 ORDER BY position",
                     BT_ARGS(bt_text(id)), err);
    if (rc != BT_OK)
        return rc;
    j = bt_json_own(rq->arena, ord_json(o, 0));
    j_items = json_array();
    for (size_t r = 0; r < it->nrows; r++)
        json_array_append_new(j_items, ord_item_json(it, r, 0));
    json_object_set_new(j, "items", j_items);
    j_hist = json_array();
    for (size_t r = 0; r < h->nrows; r++) {
        json_t *e = json_object();
        json_object_set_new(e, "id", ord_str(bt_rows_text(h, r, 0)));
        json_object_set_new(e, "fromStatus", ord_str(bt_rows_text(h, r, 1)));
        json_object_set_new(e, "toStatus", ord_str(bt_rows_text(h, r, 2)));
        json_object_set_new(e, "notes", ord_str(bt_rows_text(h, r, 3)));
        json_object_set_new(e, "changedBy", ord_str(bt_rows_text(h, r, 4)));
        json_object_set_new(e, "changedAt", ord_str(bt_rows_text(h, r, 5)));
        json_array_append_new(j_hist, e);
    }
    json_object_set_new(j, "statusHistory", j_hist);
    *out = j;
    return BT_OK;
}

/* Answer with the order (after a commit, so it is what others now see). */
static int ord_reply(struct bt_req *rq, struct bt_res *rs, struct bt_db *db, int status,
                     const char *id, struct bt_err *err)
{
    json_t *j;
    int rc = ord_load(rq, db, id, &j, err);

    if (rc == BT_ENOTFOUND) /* deleted by someone else right after our commit */
        return ord_not_found(rq, db, err);
    if (rc != BT_OK)
        return rc;
    return yunshui_ok(rs, status, json_incref(j), NULL);
}

/* ---- items: validation, prices, totals ---- */

struct ord_item {
    const char *material_id;
    const char *material_name;
    int64_t quantity;
    int64_t unit_price; /* 1/10000 units; -1 until known */
    int64_t subtotal;
};

/* The checks the schema cannot express: the e-mail's shape and each unitPrice's precision.
 * Fills items (arena) when j_items is not NULL. Adds one details member per bad field. */
static void ord_check_body(struct bt_req *rq, json_t *j_items, struct ord_item **items,
                           size_t *nitems, json_t *details)
{
    const char *email = bt_req_str(rq, "customerEmail");
    size_t n = j_items ? json_array_size(j_items) : 0;

    if (email && *email && !ord_email_ok(email))
        json_object_set_new(details, "customerEmail", json_string("must be a valid email address"));
    *items = n ? bt_arena_alloc(rq->arena, n * sizeof(**items)) : NULL;
    *nitems = n;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(j_items, i);
        json_t *price = json_object_get(e, "unitPrice");
        struct ord_item *it = &(*items)[i];

        it->material_id = json_string_value(json_object_get(e, "materialId"));
        it->quantity = (int64_t)json_integer_value(json_object_get(e, "quantity"));
        it->unit_price = -1;
        if (price && !json_is_null(price) && yunshui_money_parse(price, &it->unit_price) != 0) {
            char field[48];
            snprintf(field, sizeof(field), "items[%zu].unitPrice", i);
            json_object_set_new(details, field,
                                json_string("must have at most 4 decimal places and be between 0 "
                                            "and 10000000000"));
        }
    }
}

/* Look every item's material up (inside the caller's transaction): name snapshot and, when
 * no unitPrice was given, the current price. Then subtotals and the total, refusing a total
 * over 10^10. Returns BT_OK, an error already rendered (422), or a database error. */
static int ord_price_items(struct bt_req *rq, struct bt_db *db, struct ord_item *items, size_t n,
                           int64_t *total, struct bt_err *err)
{
    json_t *missing = json_object();
    int64_t sum = 0;
    bool too_large = false;
    int rc;

    bt_json_own(rq->arena, missing);
    for (size_t i = 0; i < n; i++) {
        struct ord_item *it = &items[i];
        struct bt_rows *m;

        rc = bt_db_query(db, rq->arena, &m,
                         "SELECT name, price FROM yunshui_materials WHERE id = $1",
                         BT_ARGS(bt_text(it->material_id)), err);
        if (rc != BT_OK)
            return rc;
        if (m->nrows == 0) {
            char field[48];
            snprintf(field, sizeof(field), "items[%zu].materialId", i);
            json_object_set_new(missing, field, json_string("material not found"));
            continue;
        }
        it->material_name = bt_rows_text(m, 0, 0);
        if (it->unit_price < 0)
            it->unit_price = bt_rows_i64(m, 0, 1, 0);
        /* quantity <= 10^6 and price <= 10^14 units: test before multiplying */
        if (it->unit_price > 0 && it->quantity > ORD_MONEY_MAX / it->unit_price) {
            too_large = true;
            continue;
        }
        it->subtotal = it->quantity * it->unit_price;
        if (sum > ORD_MONEY_MAX - it->subtotal)
            too_large = true;
        else
            sum += it->subtotal;
    }
    if (json_object_size(missing) > 0)
        return yunshui_fail(rq, err, BT_EINVAL, "VALIDATION_ERROR", ORD_MATERIAL_NOT_FOUND,
                            json_incref(missing));
    if (too_large)
        return yunshui_fail(rq, err, BT_EINVAL, "VALIDATION_ERROR", "訂單總金額超過上限",
                            json_pack("{s:s}", "totalAmount", "must be at most 10000000000"));
    *total = sum;
    return BT_OK;
}

static int ord_insert_items(struct bt_req *rq, struct bt_db *db, const char *order_id,
                            const struct ord_item *items, size_t n, struct bt_err *err)
{
    for (size_t i = 0; i < n; i++) {
        int rc = bt_db_exec(db, NULL,
                            "INSERT INTO yunshui_order_items (id, order_id, position, material_id,"
                            " material_name, quantity, unit_price, subtotal)"
                            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                            BT_ARGS(bt_text(yunshui_uuid(rq->arena)), bt_text(order_id),
                                    bt_i64((int64_t)i), bt_text(items[i].material_id),
                                    bt_text(items[i].material_name), bt_i64(items[i].quantity),
                                    bt_i64(items[i].unit_price), bt_i64(items[i].subtotal)),
                            err);
        if (rc == BT_ECONFLICT) {
            /* the material was deleted after we read it (the foreign key refused the row) */
            char field[48];
            bt_err_clear(err);
            snprintf(field, sizeof(field), "items[%zu].materialId", i);
            return yunshui_fail(rq, err, BT_EINVAL, "VALIDATION_ERROR", ORD_MATERIAL_NOT_FOUND,
                                json_pack("{s:s}", field, "material not found"));
        }
        if (rc != BT_OK)
            return rc;
    }
    return BT_OK;
}

static int ord_history_add(struct bt_req *rq, struct bt_db *db, const char *order_id,
                           const char *from, const char *to, const char *notes, const char *now,
                           struct bt_err *err)
{
    int64_t pos = 0;
    int rc = bt_db_query_i64(db, &pos,
                             "SELECT COUNT(*) FROM yunshui_order_status_history"
                             " WHERE order_id = $1",
                             BT_ARGS(bt_text(order_id)), err);

    if (rc != BT_OK)
        return rc;
    return bt_db_exec(db, NULL,
                      "INSERT INTO yunshui_order_status_history (id, order_id, position,"
                      " from_status, to_status, notes, changed_by, changed_at)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                      BT_ARGS(bt_text(yunshui_uuid(rq->arena)), bt_text(order_id), bt_i64(pos),
                              bt_text(from), bt_text(to), bt_text(notes), bt_text(ord_user_id(rq)),
                              bt_text(now)),
                      err);
}

/* An empty e-mail means none. */
static const char *ord_email_value(const struct bt_req *rq)
{
    const char *email = bt_req_str(rq, "customerEmail");

    return email && *email ? email : NULL;
}

/* ---- list ---- */

int yunshui_order_list(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    int64_t page = bt_req_qint(rq, "page", 1), limit = bt_req_qint(rq, "limit", 20), total = 0;
    const char *search = bt_req_qstr(rq, "search"), *status = bt_req_qstr(rq, "status");
    const char *from_s = bt_req_qstr(rq, "dateFrom"), *to_s = bt_req_qstr(rq, "dateTo");
    bool to_day = to_s && strlen(to_s) == 10; /* "YYYY-MM-DD", the only 10-byte form */
    int64_t from_us = 0, to_us = 0;
    struct bt_val args[6];
    size_t nargs = 0;
    struct bt_buf where, sql;
    struct bt_rows *o, *it = NULL;
    json_t *details = bt_json_own(rq->arena, json_object()), *j_orders, *by_id;
    struct bt_db *db;
    char buf[32];
    int rc;

    if (from_s && bt_time_parse(from_s, &from_us) != 0)
        json_object_set_new(details, "dateFrom",
                            json_string("must be an ISO 8601 date or date-time"));
    if (to_s && bt_time_parse(to_s, &to_us) != 0)
        json_object_set_new(details, "dateTo",
                            json_string("must be an ISO 8601 date or date-time"));
    if (json_object_size(details) > 0)
        return yunshui_fail(rq, err, BT_EINVAL, "VALIDATION_ERROR", ORD_INVALID,
                            json_incref(details));
    if (to_day)
        to_us += 86400LL * 1000000; /* a bare date: the whole day, up to the next midnight */
    if (from_s && to_s && (to_day ? from_us >= to_us : from_us > to_us))
        return yunshui_fail(rq, err, BT_EINVAL, "VALIDATION_ERROR", ORD_INVALID,
                            json_pack("{s:s}", "dateTo", "must not be before dateFrom"));
    if (!(db = ord_db(rq, err, &rc)))
        return rc;

    /* The text depends only on which filters are present; every value is bound. */
    bt_buf_init(&where, rq->arena, 256);
    bt_buf_adds(&where, " WHERE 1 = 1");
    if (search && *search) {
        args[nargs++] = bt_text(bt_db_like_contains(rq->arena, search));
        bt_buf_addf(&where,
                    " AND (lower(order_number) LIKE lower($%zu) ESCAPE '\\'"
                    " OR lower(customer_name) LIKE lower($%zu) ESCAPE '\\'"
                    " OR lower(customer_phone) LIKE lower($%zu) ESCAPE '\\'"
                    " OR lower(customer_email) LIKE lower($%zu) ESCAPE '\\')",
                    nargs, nargs, nargs, nargs);
    }
    if (status) {
        args[nargs++] = bt_text(status);
        bt_buf_addf(&where, " AND status = $%zu", nargs);
    }
    if (from_s) {
        args[nargs++] = bt_text(bt_arena_strdup(rq->arena, bt_time_fmt(from_us, BT_ISO_MS_Z, buf)));
        bt_buf_addf(&where, " AND created_at >= $%zu", nargs);
    }
    if (to_s && to_us < ORD_TIME_END_US) {
        args[nargs++] = bt_text(bt_arena_strdup(rq->arena, bt_time_fmt(to_us, BT_ISO_MS_Z, buf)));
        bt_buf_addf(&where, to_day ? " AND created_at < $%zu" : " AND created_at <= $%zu", nargs);
    }

    bt_buf_init(&sql, rq->arena, 512);
    bt_buf_addf(&sql, "SELECT COUNT(*) FROM yunshui_orders%s", where.p);
    rc = bt_db_query_i64(db, &total, sql.p, args, nargs, err);
    if (rc != BT_OK)
        return rc;

    args[nargs++] = bt_i64(limit);
    args[nargs++] = bt_i64((page - 1) * limit);
    bt_buf_init(&sql, rq->arena, 512);
    bt_buf_addf(&sql,
                "SELECT " ORD_COLUMNS " FROM yunshui_orders%s"
                " ORDER BY created_at DESC, order_number DESC LIMIT $%zu OFFSET $%zu",
                where.p, nargs - 1, nargs);
    rc = bt_db_query(db, rq->arena, &o, sql.p, args, nargs, err);
    if (rc != BT_OK)
        return rc;

    /* the page's items in one statement, by the ids just read (re-running the filter could
     * pick another page if an order was created in between) */
    if (o->nrows > 0) {
        struct bt_val *ids = bt_arena_alloc(rq->arena, o->nrows * sizeof(*ids));

        bt_buf_init(&sql, rq->arena, 512);
        bt_buf_adds(&sql, "SELECT order_id, " ITEM_COLUMNS
                          " FROM yunshui_order_items WHERE order_id IN (");
        for (size_t r = 0; r < o->nrows; r++) {
            ids[r] = bt_text(bt_rows_text(o, r, 0));
            bt_buf_addf(&sql, "%s$%zu", r ? ", " : "", r + 1);
        }
        bt_buf_adds(&sql, ") ORDER BY order_id, position");
        rc = bt_db_query(db, rq->arena, &it, sql.p, ids, o->nrows, err);
        if (rc != BT_OK)
            return rc;
    }

    by_id = bt_json_own(rq->arena, json_object());
    for (size_t r = 0; it && r < it->nrows; r++) {
        const char *oid = bt_rows_text(it, r, 0);
        json_t *arr = json_object_get(by_id, oid);
        if (!arr) {
            arr = json_array();
            json_object_set_new(by_id, oid, arr);
        }
        json_array_append_new(arr, ord_item_json(it, r, 1));
    }
    j_orders = json_array();
    for (size_t r = 0; r < o->nrows; r++) {
        json_t *j = ord_json(o, r);
        json_t *arr = json_object_get(by_id, bt_rows_text(o, r, 0));
        json_object_set_new(j, "items", arr ? json_incref(arr) : json_array());
        json_array_append_new(j_orders, j);
    }
    return yunshui_ok(rs, 200,
                      json_pack("{s:o,s:o}", "orders", j_orders, "pagination",
                                yunshui_pagination(page, limit, total)),
                      NULL);
}

/* ---- get ---- */

int yunshui_order_get(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_db *db;
    int rc;

    if (!(db = ord_db(rq, err, &rc)))
        return rc;
    return ord_reply(rq, rs, db, 200, bt_req_param(rq, "id"), err);
}

/* ---- create ---- */

int yunshui_order_create(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const char *now = yunshui_now(rq->arena), *id = yunshui_uuid(rq->arena);
    json_t *details = bt_json_own(rq->arena, json_object());
    struct ord_item *items;
    size_t nitems;
    int64_t total = 0, seq = 0;
    char year[5], number[48];
    struct bt_db *db;
    int rc;

    ord_check_body(rq, json_object_get(rq->json, "items"), &items, &nitems, details);
    if (json_object_size(details) > 0)
        return yunshui_fail(rq, err, BT_EINVAL, "VALIDATION_ERROR", ORD_INVALID,
                            json_incref(details));
    if (!(db = ord_db(rq, err, &rc)))
        return rc;
    if ((rc = bt_db_begin(db, err)) != BT_OK)
        return rc;
    rc = ord_price_items(rq, db, items, nitems, &total, err);
    if (rc != BT_OK)
        return ord_abort(db, rc);

    /* the number comes from a counter row bumped in this transaction: a concurrent creator
     * waits on the row, and a rollback gives the number back, so numbers have no gaps */
    memcpy(year, now, 4);
    year[4] = '\0';
    rc = bt_db_query_i64(db, &seq,
                         "INSERT INTO yunshui_order_seq (year, last) VALUES ($1, 1)"
                         " ON CONFLICT (year) DO UPDATE SET last = yunshui_order_seq.last + 1"
                         " RETURNING last",
                         BT_ARGS(bt_text(year)), err);
    if (rc != BT_OK)
        return ord_abort(db, rc);
    snprintf(number, sizeof(number), "ORD-%s-%03lld", year, (long long)seq);
    /* stamped after the counter: creators are serialised from here to commit, so a higher
     * number never carries an earlier createdAt (the list's order) */
    now = yunshui_now(rq->arena);

    rc = bt_db_exec(db, NULL,
                    "INSERT INTO yunshui_orders (id, order_number, customer_name, customer_phone,"
                    " customer_email, customer_address, status, total_amount, notes, created_by,"
                    " created_at, updated_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $8, $9, $10, $10)",
                    BT_ARGS(bt_text(id), bt_text(number), bt_text(bt_req_str(rq, "customerName")),
                            bt_text(bt_req_str(rq, "customerPhone")), bt_text(ord_email_value(rq)),
                            bt_text(bt_req_str(rq, "customerAddress")), bt_i64(total),
                            bt_text(bt_req_str(rq, "notes")), bt_text(ord_user_id(rq)),
                            bt_text(now)),
                    err);
    if (rc == BT_OK)
        rc = ord_insert_items(rq, db, id, items, nitems, err);
    if (rc == BT_OK)
        rc = ord_history_add(rq, db, id, NULL, "PENDING", NULL, now, err);
    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc != BT_OK)
        return ord_abort(db, rc);
    return ord_reply(rq, rs, db, 201, id, err);
}

/* ---- lock and read one order inside a transaction ---- */

struct ord_head {
    const char *status;
    const char *created_by;
};

/* Begin, lock the order's row (a no-op UPDATE: the portable SELECT ... FOR UPDATE, so the
 * status read next cannot change before this transaction ends) and read it. BT_ENOTFOUND
 * (transaction rolled back, err untouched) when there is no such order. */
static int ord_lock(struct bt_req *rq, struct bt_db *db, const char *id, struct ord_head *h,
                    struct bt_err *err)
{
    struct bt_rows *o;
    int64_t changed = 0;
    int rc;

    if ((rc = bt_db_begin(db, err)) != BT_OK)
        return rc;
    rc = bt_db_exec(db, &changed, "UPDATE yunshui_orders SET updated_at = updated_at WHERE id = $1",
                    BT_ARGS(bt_text(id)), err);
    if (rc == BT_OK && changed == 0)
        return ord_abort(db, BT_ENOTFOUND);
    if (rc == BT_OK)
        rc = bt_db_query(db, rq->arena, &o,
                         "SELECT status, created_by FROM yunshui_orders WHERE id = $1",
                         BT_ARGS(bt_text(id)), err);
    if (rc != BT_OK)
        return ord_abort(db, rc);
    if (o->nrows == 0)
        return ord_abort(db, BT_ENOTFOUND);
    h->status = bt_rows_text(o, 0, 0);
    h->created_by = bt_rows_text(o, 0, 1);
    return BT_OK;
}

/* ---- update (PENDING only; items replace all) ---- */

static const char *const ord_only_pending[] = {"PENDING", NULL};

/* Columns PUT may change, body name -> column; only those present are written. */
static const struct {
    const char *field, *column;
} ord_updatable[] = {
    {"customerName", "customer_name"},
    {"customerPhone", "customer_phone"},
    {"customerEmail", "customer_email"},
    {"customerAddress", "customer_address"},
    {"notes", "notes"},
};
#define ORD_NUPDATABLE (sizeof(ord_updatable) / sizeof(ord_updatable[0]))

int yunshui_order_update(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const char *id = bt_req_param(rq, "id"), *now;
    json_t *details = bt_json_own(rq->arena, json_object());
    json_t *j_items = json_object_get(rq->json, "items");
    struct bt_val args[ORD_NUPDATABLE + 3];
    struct ord_item *items;
    struct ord_head h;
    size_t nitems, nargs = 0;
    int64_t total = 0;
    struct bt_buf sql;
    struct bt_db *db;
    int rc;

    if (j_items && json_is_null(j_items))
        j_items = NULL;
    ord_check_body(rq, j_items, &items, &nitems, details);
    if (json_object_size(details) > 0)
        return yunshui_fail(rq, err, BT_EINVAL, "VALIDATION_ERROR", ORD_INVALID,
                            json_incref(details));
    if (!(db = ord_db(rq, err, &rc)))
        return rc;
    rc = ord_lock(rq, db, id, &h, err);
    if (rc == BT_ENOTFOUND)
        return ord_not_found(rq, db, err);
    if (rc != BT_OK)
        return rc;
    if (!ord_admin(rq) && !ord_owner(rq, h.created_by))
        return ord_forbidden(rq, db, err);
    if (strcmp(h.status, "PENDING") != 0)
        return ord_state_conflict(rq, db, err, h.status, "只能修改待處理的訂單", ord_only_pending);
    now = yunshui_now(rq->arena); /* under the row lock: changes to one order are in order */

    bt_buf_init(&sql, rq->arena, 256);
    bt_buf_adds(&sql, "UPDATE yunshui_orders SET updated_at = $1");
    args[nargs++] = bt_text(now);
    if (j_items) {
        rc = ord_price_items(rq, db, items, nitems, &total, err);
        if (rc != BT_OK)
            return ord_abort(db, rc);
        rc = bt_db_exec(db, NULL, "DELETE FROM yunshui_order_items WHERE order_id = $1",
                        BT_ARGS(bt_text(id)), err);
        if (rc == BT_OK)
            rc = ord_insert_items(rq, db, id, items, nitems, err);
        if (rc != BT_OK)
            return ord_abort(db, rc);
        args[nargs++] = bt_i64(total);
        bt_buf_addf(&sql, ", total_amount = $%zu", nargs);
    }
    for (size_t i = 0; i < ORD_NUPDATABLE; i++) {
        const char *f = ord_updatable[i].field;

        if (!bt_req_has(rq, f))
            continue;
        args[nargs++] =
            bt_text(strcmp(f, "customerEmail") == 0 ? ord_email_value(rq) : bt_req_str(rq, f));
        bt_buf_addf(&sql, ", %s = $%zu", ord_updatable[i].column, nargs);
    }
    args[nargs++] = bt_text(id);
    bt_buf_addf(&sql, " WHERE id = $%zu", nargs);
    rc = bt_db_exec(db, NULL, sql.p, args, nargs, err);
    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc != BT_OK)
        return ord_abort(db, rc);
    return ord_reply(rq, rs, db, 200, id, err);
}

/* ---- delete (ADMIN by route; PENDING or CANCELLED) ---- */

int yunshui_order_delete(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    static const char *const deletable[] = {"PENDING", "CANCELLED", NULL};
    const char *id = bt_req_param(rq, "id");
    struct bt_rows *o;
    int64_t changed = 0;
    struct bt_db *db;
    int rc;

    if (!(db = ord_db(rq, err, &rc)))
        return rc;
    /* one conditional statement: a concurrent move to PROCESSING cannot slip in between */
    rc = bt_db_exec(
        db, &changed,
        "DELETE FROM yunshui_orders WHERE id = $1 AND status IN ('PENDING', 'CANCELLED')",
        BT_ARGS(bt_text(id)), err);
    if (rc != BT_OK)
        return rc;
    if (changed > 0)
        return yunshui_ok(rs, 200, NULL, "訂單已成功刪除");
    rc = bt_db_query(db, rq->arena, &o, "SELECT status FROM yunshui_orders WHERE id = $1",
                     BT_ARGS(bt_text(id)), err);
    if (rc != BT_OK)
        return rc;
    if (o->nrows == 0)
        return ord_not_found(rq, db, err);
    return ord_state_conflict(rq, db, err, bt_rows_text(o, 0, 0), "只能刪除待處理或已取消的訂單",
                              deletable);
}

/* ---- status machine and stock ---- */

/* Take every item's quantity out of stock, all or nothing: one conditional UPDATE per
 * material (in id order, so two transactions never lock materials in opposite orders).
 * Every short material is collected; any shortage answers 409 INSUFFICIENT_STOCK (a bento
 * code) and the caller rolls everything back. */
static int ord_take_stock(struct bt_req *rq, struct bt_db *db, const char *id, struct bt_err *err)
{
    struct bt_rows *q;
    json_t *shorts;
    int rc;

    rc = bt_db_query(db, rq->arena, &q,
                     "SELECT material_id, SUM(quantity) AS quantity, MIN(material_name) AS name"
                     " FROM yunshui_order_items WHERE order_id = $1"
                     " GROUP BY material_id ORDER BY material_id",
                     BT_ARGS(bt_text(id)), err);
    if (rc != BT_OK)
        return rc;
    shorts = bt_json_own(rq->arena, json_array());
    for (size_t r = 0; r < q->nrows; r++) {
        const char *mid = bt_rows_text(q, r, 0), *name = bt_rows_text(q, r, 2);
        int64_t want = bt_rows_i64(q, r, 1, 0), have = 0, changed = 0;

        if (mid) {
            struct bt_rows *m;
            rc = bt_db_exec(db, &changed,
                            "UPDATE yunshui_materials SET stock = stock - $1"
                            " WHERE id = $2 AND stock >= $1",
                            BT_ARGS(bt_i64(want), bt_text(mid)), err);
            if (rc != BT_OK)
                return rc;
            if (changed > 0)
                continue;
            rc = bt_db_query(db, rq->arena, &m,
                             "SELECT name, stock FROM yunshui_materials WHERE id = $1",
                             BT_ARGS(bt_text(mid)), err);
            if (rc != BT_OK)
                return rc;
            if (m->nrows > 0) {
                name = bt_rows_text(m, 0, 0);
                have = bt_rows_i64(m, 0, 1, 0);
            }
        }
        json_array_append_new(shorts, json_pack("{s:o,s:o,s:I,s:I}", "materialId", ord_str(mid),
                                                "name", ord_str(name), "requested",
                                                (json_int_t)want, "available", (json_int_t)have));
    }
    if (json_array_size(shorts) > 0)
        return yunshui_fail(rq, err, BT_ECONFLICT, "INSUFFICIENT_STOCK", "庫存不足",
                            json_pack("{s:O}", "materials", shorts));
    return BT_OK;
}

/* Put the items' quantities back (CANCELLED after PROCESSING). */
static int ord_return_stock(struct bt_req *rq, struct bt_db *db, const char *id, struct bt_err *err)
{
    struct bt_rows *q;
    int rc;

    rc = bt_db_query(db, rq->arena, &q,
                     "SELECT material_id, SUM(quantity) AS quantity FROM yunshui_order_items"
                     " WHERE order_id = $1 AND material_id IS NOT NULL"
                     " GROUP BY material_id ORDER BY material_id",
                     BT_ARGS(bt_text(id)), err);
    if (rc != BT_OK)
        return rc;
    for (size_t r = 0; r < q->nrows; r++) {
        rc = bt_db_exec(db, NULL, "UPDATE yunshui_materials SET stock = stock + $1 WHERE id = $2",
                        BT_ARGS(bt_i64(bt_rows_i64(q, r, 1, 0)), bt_text(bt_rows_text(q, r, 0))),
                        err);
        if (rc != BT_OK)
            return rc;
    }
    return BT_OK;
}

int yunshui_order_status(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const char *id = bt_req_param(rq, "id"), *now;
    const char *to = bt_req_str(rq, "status"), *notes = bt_req_str(rq, "notes");
    const char *const *allowed;
    struct ord_head h;
    struct bt_db *db;
    int rc;

    if (!(db = ord_db(rq, err, &rc)))
        return rc;
    rc = ord_lock(rq, db, id, &h, err);
    if (rc == BT_ENOTFOUND)
        return ord_not_found(rq, db, err);
    if (rc != BT_OK)
        return rc;
    /* USER: only cancelling its own PENDING order */
    if (!ord_admin(rq) && !(ord_owner(rq, h.created_by) && strcmp(h.status, "PENDING") == 0 &&
                            strcmp(to, "CANCELLED") == 0))
        return ord_forbidden(rq, db, err);
    allowed = ord_next_states(h.status);
    if (!ord_in(to, allowed)) {
        json_t *j_allowed = json_array();
        char msg[96];

        ord_rollback(db);
        for (size_t i = 0; allowed[i]; i++)
            json_array_append_new(j_allowed, json_string(allowed[i]));
        snprintf(msg, sizeof(msg), "cannot change from %s to %s", h.status, to);
        return yunshui_fail(rq, err, BT_EINVAL, "VALIDATION_ERROR", "訂單狀態無法變更",
                            json_pack("{s:s,s:s,s:o}", "status", msg, "currentStatus", h.status,
                                      "allowed", j_allowed));
    }
    now = yunshui_now(rq->arena); /* under the row lock: history times follow its order */
    if (strcmp(to, "PROCESSING") == 0)
        rc = ord_take_stock(rq, db, id, err);
    else if (strcmp(to, "CANCELLED") == 0 && strcmp(h.status, "PROCESSING") == 0)
        rc = ord_return_stock(rq, db, id, err);
    if (rc == BT_OK)
        rc = bt_db_exec(db, NULL,
                        "UPDATE yunshui_orders SET status = $1, updated_at = $2 WHERE id = $3",
                        BT_ARGS(bt_text(to), bt_text(now), bt_text(id)), err);
    if (rc == BT_OK)
        rc = ord_history_add(rq, db, id, h.status, to, notes, now, err);
    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc != BT_OK)
        return ord_abort(db, rc);
    return ord_reply(rq, rs, db, 200, id, err);
}
