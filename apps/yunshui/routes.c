/* SPDX-License-Identifier: MIT
 * routes.c - yunshui's route table, mounted under /v1 on its own listener. Access: public
 * (login, refresh, uploaded images), any signed-in user (BT_AUTH), or ADMIN only.
 * Ownership rules for USER (own PENDING orders) are checked in orders.c.
 * Each route declares its success body (responses.c) and the errors its handler returns
 * itself (X(...)); the core adds those of its own phases (docs/ARCHITECTURE.md).
 */
#include "yunshui.h"

#define J BT_R_JSON_BODY
#define A YUNSHUI_ADMIN
#define X(code) BT_XERR(code)

const struct bt_route yunshui_routes[] = {
    /* 認證 API */
    /* 429 is the handler's own (login throttling), declared even with the rate limit off */
    {BT_POST, "/auth/login", yunshui_login, BT_PUBLIC, &yunshui_login_in, NULL, J, "用戶登入", 200,
     &yunshui_login_out, X(BT_EAUTH) | X(BT_ELIMIT), NULL},
    {BT_POST, "/auth/refresh", yunshui_refresh, BT_PUBLIC, &yunshui_refresh_in, NULL, J,
     "刷新 JWT Token", 200, &yunshui_login_out, X(BT_EAUTH), NULL},
    {BT_POST, "/auth/logout", yunshui_logout, BT_AUTH, NULL, NULL, 0, "用戶登出", 200,
     &yunshui_message_out, 0, NULL},
    {BT_GET, "/auth/me", yunshui_me_get, BT_AUTH, NULL, NULL, 0, "the signed-in user", 200,
     &yunshui_user_out, X(BT_ENOTFOUND), NULL},
    {BT_PUT, "/auth/password", yunshui_password_change, BT_AUTH, &yunshui_password_in, NULL, J,
     "change own password", 200, &yunshui_message_out, X(BT_ENOTFOUND) | X(BT_ELIMIT), NULL},

    /* user administration (bento, ADMIN) */
    {BT_GET, "/users", yunshui_user_list, A, NULL, &yunshui_user_list_q, BT_R_SLOW, "list users",
     200, &yunshui_user_list_out, 0, NULL},
    {BT_POST, "/users", yunshui_user_create, A, &yunshui_user_in, NULL, J, "create a user", 201,
     &yunshui_user_out, X(BT_ECONFLICT), NULL},
    {BT_GET, "/users/:id", yunshui_user_get, A, NULL, NULL, 0, "get a user", 200, &yunshui_user_out,
     0, NULL},
    {BT_PUT, "/users/:id", yunshui_user_update, A, &yunshui_user_update_in, NULL, J,
     "update a user", 200, &yunshui_user_out, X(BT_ECONFLICT), NULL},
    {BT_DELETE, "/users/:id", yunshui_user_delete, A, NULL, NULL, 0, "disable a user", 200,
     &yunshui_user_out, X(BT_EINVAL), NULL},

    /* 基材管理 API */
    {BT_GET, "/materials", yunshui_material_list, BT_AUTH, NULL, &yunshui_material_list_q,
     BT_R_SLOW, "取得基材列表", 200, &yunshui_material_list_out, 0, NULL},
    {BT_GET, "/materials/:id", yunshui_material_get, BT_AUTH, NULL, NULL, 0, "取得特定基材詳情",
     200, &yunshui_material_out, 0, NULL},
    {BT_POST, "/materials", yunshui_material_create, A, &yunshui_material_in, NULL, J, "新增基材",
     201, &yunshui_material_out, X(BT_ECONFLICT), NULL},
    {BT_PUT, "/materials/:id", yunshui_material_update, A, &yunshui_material_update_in, NULL, J,
     "更新基材", 200, &yunshui_material_out, X(BT_ECONFLICT), NULL},
    {BT_DELETE, "/materials/:id", yunshui_material_delete, A, NULL, NULL, 0, "刪除基材", 200,
     &yunshui_message_out, X(BT_ECONFLICT), NULL},

    /* 訂單管理 API */
    {BT_GET, "/orders", yunshui_order_list, BT_AUTH, NULL, &yunshui_order_list_q, BT_R_SLOW,
     "取得訂單列表", 200, &yunshui_order_list_out, 0, NULL},
    {BT_GET, "/orders/:id", yunshui_order_get, BT_AUTH, NULL, NULL, 0, "取得訂單詳情", 200,
     &yunshui_order_out, 0, NULL},
    {BT_POST, "/orders", yunshui_order_create, BT_AUTH, &yunshui_order_in, NULL, J, "建立新訂單",
     201, &yunshui_order_out, 0, NULL},
    {BT_PUT, "/orders/:id", yunshui_order_update, BT_AUTH, &yunshui_order_update_in, NULL, J,
     "更新訂單", 200, &yunshui_order_out, X(BT_EFORBIDDEN) | X(BT_ECONFLICT), NULL},
    {BT_DELETE, "/orders/:id", yunshui_order_delete, A, NULL, NULL, 0, "刪除訂單", 200,
     &yunshui_message_out, X(BT_ECONFLICT), NULL},
    {BT_PUT, "/orders/:id/status", yunshui_order_status, BT_AUTH, &yunshui_order_status_in, NULL, J,
     "更新訂單狀態", 200, &yunshui_order_out, X(BT_EFORBIDDEN) | X(BT_ECONFLICT), NULL},

    /* 圖片上傳 API: a multipart body the handler reads itself (upload.c) */
    {BT_POST, "/upload/image", yunshui_upload_image, A, &yunshui_upload_in, NULL, BT_R_RAW_BODY,
     "上傳圖片", 200, &yunshui_upload_out, X(BT_EMALFORMED) | X(BT_EMEDIATYPE) | X(BT_EINVAL),
     NULL},
    {BT_GET, "/uploads/:folder/:file", yunshui_upload_get, BT_PUBLIC, NULL, NULL, 0,
     "an uploaded image", 200, NULL, 0, "image/*"},
    BT_ROUTE_END,
};
