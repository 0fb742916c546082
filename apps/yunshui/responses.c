/* SPDX-License-Identifier: MIT
 * responses.c - what yunshui sends, as tables: the document's success envelope
 * {"success":true,"data":...,"message"?} around each route's data, and the error envelope
 * {"success":false,"error":{"code","message","details"}}. The route table (routes.c) points
 * at these; the OpenAPI document and the test suite's contract validator read them, so a
 * handler that drifts from the document fails the suite.
 */
#include "yunshui.h"

#define UUID .format = "uuid"
#define TIME .format = "date-time"
#define R BT_F_REQUIRED
#define RN (BT_F_REQUIRED | BT_F_NULLABLE)

/* ---- error envelope ---- */

static const struct bt_field error_body[] = {
    {"code", BT_T_STR, R, .desc = "INVALID_CREDENTIALS, TOKEN_EXPIRED, VALIDATION_ERROR, ..."},
    {"message", BT_T_STR, R, .desc = "for people (Traditional Chinese)"},
    {"details", BT_T_OBJECT, R, .desc = "per-field messages or facts about the failure; {}"},
    BT_FIELD_END,
};
static const struct bt_field error_fields[] = {
    {"success", BT_T_BOOL, R, .desc = "false"},
    {"error", BT_T_OBJECT, R, .items = error_body},
    BT_FIELD_END,
};
const struct bt_schema yunshui_error = {"Error", error_fields, 0, false};

/* ---- shared parts ---- */

static const struct bt_field pagination_fields[] = {
    {"page", BT_T_INT, R, .desc = "current page, from 1"},
    {"limit", BT_T_INT, R, .desc = "page size"},
    {"total", BT_T_INT, R, .desc = "rows matching the filters"},
    {"totalPages", BT_T_INT, R, .desc = "ceil(total / limit)"},
    {"hasNext", BT_T_BOOL, R, .desc = "page < totalPages"},
    {"hasPrev", BT_T_BOOL, R, .desc = "page > 1"},
    BT_FIELD_END,
};

static const struct bt_field message_fields[] = {
    {"success", BT_T_BOOL, R, .desc = "true"},
    {"message", BT_T_STR, R, .desc = "what was done"},
    BT_FIELD_END,
};
const struct bt_schema yunshui_message_out = {"MessageResponse", message_fields, 0, false};

/* ---- users and auth ---- */

static const char *const roles[] = {"ADMIN", "USER", NULL};

static const struct bt_field user_fields[] = {
    {"id", BT_T_STR, R, UUID},
    {"username", BT_T_STR, R, .max_len = 50},
    {"email", BT_T_STR, R, .format = "email"},
    {"role", BT_T_ENUM, R, .one_of = roles},
    {"isActive", BT_T_BOOL, R, .desc = "false once disabled"},
    {"createdAt", BT_T_STR, R, TIME},
    {"updatedAt", BT_T_STR, R, TIME},
    BT_FIELD_END,
};

/* the login response's user: exactly the document's five fields */
static const struct bt_field login_user_fields[] = {
    {"id", BT_T_STR, R, UUID},
    {"username", BT_T_STR, R, .max_len = 50},
    {"email", BT_T_STR, R, .format = "email"},
    {"role", BT_T_ENUM, R, .one_of = roles},
    {"createdAt", BT_T_STR, R, TIME},
    BT_FIELD_END,
};
static const struct bt_field login_data[] = {
    {"token", BT_T_STR, R, .desc = "access token (JWT HS256, 24 h)"},
    {"refreshToken", BT_T_STR, R, .desc = "opaque, 30 days, rotated on every refresh"},
    {"user", BT_T_OBJECT, R, .items = login_user_fields},
    BT_FIELD_END,
};
static const struct bt_field login_fields[] = {
    {"success", BT_T_BOOL, R, .desc = "true"},
    {"data", BT_T_OBJECT, R, .items = login_data},
    BT_FIELD_END,
};
const struct bt_schema yunshui_login_out = {"LoginResponse", login_fields, 0, false};

static const struct bt_field user_resp_fields[] = {
    {"success", BT_T_BOOL, R, .desc = "true"},
    {"data", BT_T_OBJECT, R, .items = user_fields},
    {"message", BT_T_STR, 0, .desc = "what was done (writes)"},
    BT_FIELD_END,
};
const struct bt_schema yunshui_user_out = {"UserResponse", user_resp_fields, 0, false};

static const struct bt_field user_list_data[] = {
    {"users", BT_T_ARRAY, R, .items = user_fields},
    {"pagination", BT_T_OBJECT, R, .items = pagination_fields},
    BT_FIELD_END,
};
static const struct bt_field user_list_fields[] = {
    {"success", BT_T_BOOL, R, .desc = "true"},
    {"data", BT_T_OBJECT, R, .items = user_list_data},
    BT_FIELD_END,
};
const struct bt_schema yunshui_user_list_out = {"UserListResponse", user_list_fields, 0, false};

/* ---- materials ---- */

static const char *const mat_statuses[] = {"available", "low_stock", "out_of_stock", NULL};

static const struct bt_field material_fields[] = {
    {"id", BT_T_STR, R, UUID},
    {"name", BT_T_STR, R, .max_len = 100},
    {"category", BT_T_STR, RN, .max_len = 50},
    {"specification", BT_T_STR, RN, .max_len = 200},
    {"unit", BT_T_STR, RN, .max_len = 20},
    {"price", BT_T_NUM, R | BT_F_MIN, .min = 0, .desc = "exact to 4 decimal places"},
    {"stock", BT_T_INT, R | BT_F_MIN, .min = 0},
    {"minStock", BT_T_INT, R | BT_F_MIN, .min = 0},
    {"imageUrl", BT_T_STR, RN, .max_len = 500},
    {"description", BT_T_STR, RN, .max_len = 2000},
    {"createdAt", BT_T_STR, R, TIME},
    {"updatedAt", BT_T_STR, R, TIME},
    {"status", BT_T_ENUM, R, .one_of = mat_statuses,
     .desc = "out_of_stock when stock = 0, low_stock when stock <= minStock"},
    BT_FIELD_END,
};
static const struct bt_field material_resp_fields[] = {
    {"success", BT_T_BOOL, R, .desc = "true"},
    {"data", BT_T_OBJECT, R, .items = material_fields},
    BT_FIELD_END,
};
const struct bt_schema yunshui_material_out = {"MaterialResponse", material_resp_fields, 0, false};

static const struct bt_field material_list_data[] = {
    {"materials", BT_T_ARRAY, R, .items = material_fields},
    {"pagination", BT_T_OBJECT, R, .items = pagination_fields},
    BT_FIELD_END,
};
static const struct bt_field material_list_fields[] = {
    {"success", BT_T_BOOL, R, .desc = "true"},
    {"data", BT_T_OBJECT, R, .items = material_list_data},
    BT_FIELD_END,
};
const struct bt_schema yunshui_material_list_out = {"MaterialListResponse", material_list_fields, 0,
                                                    false};

/* ---- orders ---- */

static const char *const ord_statuses[] = {"PENDING", "PROCESSING", "COMPLETED", "CANCELLED", NULL};

static const struct bt_field item_fields[] = {
    {"id", BT_T_STR, R, UUID},
    {"materialId", BT_T_STR, RN, UUID, .desc = "null once the material is deleted"},
    {"materialName", BT_T_STR, R, .desc = "the name when ordered"},
    {"quantity", BT_T_INT, R | BT_F_MIN, .min = 1},
    {"unitPrice", BT_T_NUM, R | BT_F_MIN, .min = 0},
    {"subtotal", BT_T_NUM, R | BT_F_MIN, .min = 0, .desc = "quantity x unitPrice"},
    BT_FIELD_END,
};
static const struct bt_field history_fields[] = {
    {"id", BT_T_STR, R, UUID},
    {"fromStatus", BT_T_ENUM, RN, .one_of = ord_statuses, .desc = "null for the creation"},
    {"toStatus", BT_T_ENUM, R, .one_of = ord_statuses},
    {"notes", BT_T_STR, RN, .desc = "the change's notes"},
    {"changedBy", BT_T_STR, R, UUID},
    {"changedAt", BT_T_STR, R, TIME},
    BT_FIELD_END,
};

/* the order fields every answer has; a single order adds statusHistory */
#define ORDER_FIELDS                                                                               \
    {"id", BT_T_STR, R, UUID}, {"orderNumber", BT_T_STR, R, .desc = "ORD-<year>-<seq>"},           \
        {"customerName", BT_T_STR, R, .max_len = 100},                                             \
        {"customerPhone", BT_T_STR, RN, .desc = "phone"},                                          \
        {"customerEmail", BT_T_STR, RN, .format = "email"},                                        \
        {"customerAddress", BT_T_STR, RN, .desc = "address"},                                      \
        {"status", BT_T_ENUM, R, .one_of = ord_statuses},                                          \
        {"totalAmount", BT_T_NUM, R | BT_F_MIN, .min = 0, .desc = "sum of the subtotals"},         \
        {"notes", BT_T_STR, RN, .desc = "notes"}, {"createdBy", BT_T_STR, R, UUID},                \
        {"createdAt", BT_T_STR, R, TIME}, {"updatedAt", BT_T_STR, R, TIME},                        \
    {                                                                                              \
        "items", BT_T_ARRAY, R, .items = item_fields                                               \
    }

static const struct bt_field order_fields[] = {
    ORDER_FIELDS,
    {"statusHistory", BT_T_ARRAY, R, .items = history_fields,
     .desc = "every status change, oldest first"},
    BT_FIELD_END,
};
static const struct bt_field order_summary_fields[] = {
    ORDER_FIELDS,
    BT_FIELD_END,
};

static const struct bt_field order_resp_fields[] = {
    {"success", BT_T_BOOL, R, .desc = "true"},
    {"data", BT_T_OBJECT, R, .items = order_fields},
    BT_FIELD_END,
};
const struct bt_schema yunshui_order_out = {"OrderResponse", order_resp_fields, 0, false};

static const struct bt_field order_list_data[] = {
    {"orders", BT_T_ARRAY, R, .items = order_summary_fields},
    {"pagination", BT_T_OBJECT, R, .items = pagination_fields},
    BT_FIELD_END,
};
static const struct bt_field order_list_fields[] = {
    {"success", BT_T_BOOL, R, .desc = "true"},
    {"data", BT_T_OBJECT, R, .items = order_list_data},
    BT_FIELD_END,
};
const struct bt_schema yunshui_order_list_out = {"OrderListResponse", order_list_fields, 0, false};

/* ---- uploads ---- */

static const struct bt_field upload_form[] = {
    {"image", BT_T_FILE, R, .desc = "JPEG, PNG, GIF or WebP, at most 5 MB"},
    {"folder", BT_T_STR, 0, .max_len = 50, .desc = "letters, digits, - and _"},
    BT_FIELD_END,
};
const struct bt_schema yunshui_upload_in = {"ImageUpload", upload_form, BT_S_MULTIPART, false};

static const char *const formats[] = {"jpg", "png", "gif", "webp", NULL};

static const struct bt_field upload_data[] = {
    {"url", BT_T_STR, R, .format = "uri", .desc = "where the image is served"},
    {"publicId", BT_T_STR, R, .desc = "<folder>/<id>"},
    {"width", BT_T_INT, R | BT_F_MIN, .min = 1},
    {"height", BT_T_INT, R | BT_F_MIN, .min = 1},
    {"format", BT_T_ENUM, R, .one_of = formats},
    {"bytes", BT_T_INT, R | BT_F_MIN, .min = 1},
    BT_FIELD_END,
};
static const struct bt_field upload_fields[] = {
    {"success", BT_T_BOOL, R, .desc = "true"},
    {"data", BT_T_OBJECT, R, .items = upload_data},
    BT_FIELD_END,
};
const struct bt_schema yunshui_upload_out = {"UploadResponse", upload_fields, 0, false};
