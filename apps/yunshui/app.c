/* SPDX-License-Identifier: MIT
 * app.c - the yunshui app descriptor: the document's envelope
 * {"success":false,"error":{"code","message","details"}}, bearer-token authentication and
 * the ADMIN role on routes, start-up (settings, admin seeding, production checks), and the
 * helpers every yunshui handler shares (success envelope, timestamps, pagination, money).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "yunshui.h"

/* generated from sql/NNNN_name.sql by the build (cmake/BentoApps.cmake) */
extern const struct bt_migration yunshui_migrations[];

/* ---- envelope ---- */

int yunshui_ok(struct bt_res *rs, int status, json_t *data, const char *message)
{
    json_t *j = json_object();

    json_object_set_new(j, "success", json_true());
    if (data)
        json_object_set_new(j, "data", data);
    if (message)
        json_object_set_new(j, "message", json_string(message));
    return bt_res_json(rs, status, j);
}

int yunshui_fail(struct bt_req *rq, struct bt_err *err, enum bt_status status, const char *code,
                 const char *message, json_t *details)
{
    bt_fail(err, status, NULL, "%s", message);
    snprintf(err->app_code, sizeof(err->app_code), "%s", code);
    err->details = details ? bt_json_own(rq->arena, details) : NULL;
    return status;
}

/* The document's codes and words for each status when a handler gave none. */
static void default_code(const struct bt_err *err, int http, const char **code,
                         const char **message)
{
    switch (err->code) {
    case BT_EINVAL:
        *code = "VALIDATION_ERROR";
        *message = "資料驗證錯誤";
        return;
    case BT_EMALFORMED:
    case BT_EMEDIATYPE:
        *code = "VALIDATION_ERROR";
        *message = "請求格式錯誤";
        return;
    case BT_EAUTH:
        *code = "INVALID_CREDENTIALS";
        *message = "未授權 (Token 無效或過期)";
        return;
    case BT_EFORBIDDEN:
        *code = "INSUFFICIENT_PERMISSIONS";
        *message = "權限不足";
        return;
    case BT_ENOTFOUND:
        *code = "RESOURCE_NOT_FOUND";
        *message = "資源不存在";
        return;
    case BT_ECONFLICT:
        *code = "DUPLICATE_RESOURCE";
        *message = "資源衝突";
        return;
    case BT_EMETHOD:
        *code = "METHOD_NOT_ALLOWED";
        *message = "不支援的請求方法";
        return;
    case BT_ETOOLARGE:
        *code = "PAYLOAD_TOO_LARGE";
        *message = "請求大小超過上限";
        return;
    case BT_EHEADERS:
        *code = "HEADERS_TOO_LARGE";
        *message = "請求標頭過大";
        return;
    case BT_ELIMIT:
        *code = "RATE_LIMIT_EXCEEDED";
        *message = "請求過於頻繁，請稍後再試";
        return;
    case BT_EUNAVAILABLE:
        *code = "SERVICE_UNAVAILABLE";
        *message = "服務暫時無法使用，請稍後再試";
        return;
    default: break;
    }
    (void)http;
    *code = "INTERNAL_ERROR";
    *message = "內部伺服器錯誤";
}

static void yunshui_render_error(struct bt_req *rq, struct bt_res *rs, const struct bt_err *err)
{
    const char *code = NULL, *message = NULL;
    json_t *j_err = json_object();
    int http;

    /* the document: validation failures are 422; a body that cannot be read is 400 */
    switch (err->code) {
    case BT_EINVAL: http = 422; break;
    case BT_EMALFORMED:
    case BT_EMEDIATYPE: http = 400; break;
    default: http = bt_err_http(err); break;
    }
    default_code(err, http, &code, &message);
    if (err->app_code[0])
        code = err->app_code;
    if (err->msg[0] && http < 500)
        message = err->msg; /* 5xx text is internal: the log has it, the client does not */
    json_object_set_new(j_err, "code", json_string(code));
    json_object_set_new(j_err, "message", json_string(message));
    if (err->details) {
        json_object_set(j_err, "details", err->details);
    } else if (err->nfields > 0) {
        json_t *d = json_object();
        for (int i = 0; i < err->nfields; i++)
            if (!json_object_get(d, err->fields[i].field[0] ? err->fields[i].field : "body"))
                json_object_set_new(d, err->fields[i].field[0] ? err->fields[i].field : "body",
                                    json_string(err->fields[i].msg));
        json_object_set_new(j_err, "details", d);
    } else {
        json_object_set_new(j_err, "details", json_object());
    }
    (void)rq; /* Retry-After and X-RateLimit-* come from the core's limit phase */
    bt_res_json(rs, http, json_pack("{s:b,s:o}", "success", 0, "error", j_err));
}

/* ---- authentication and roles ---- */

static int yunshui_authenticate(struct bt_req *rq, struct bt_err *err)
{
    const char *h = bt_req_header(rq, "authorization");
    struct yunshui_principal *p;
    int rc;

    if (!h || strncasecmp(h, "Bearer ", 7) || !h[7])
        return yunshui_fail(rq, err, BT_EAUTH, "INVALID_CREDENTIALS", "未提供有效的認證 Token",
                            NULL);
    h += 7;
    while (*h == ' ')
        h++;
    rc = yunshui_token_check(rq, h, &p, err);
    if (rc != BT_OK)
        return rc;
    rq->principal = p;
    return BT_OK;
}

static int yunshui_authorize(struct bt_req *rq, unsigned access, struct bt_err *err)
{
    const struct yunshui_principal *p = yunshui_me(rq);

    if ((access & YUNSHUI_ADMIN) && !(p && p->admin))
        return yunshui_fail(rq, err, BT_EFORBIDDEN, "INSUFFICIENT_PERMISSIONS", "權限不足", NULL);
    return BT_OK;
}

/* ---- shared helpers ---- */

const char *yunshui_now(struct bt_arena *a)
{
    char buf[32];
    return bt_arena_strdup(a, bt_time_fmt(bt_now_unix_us(), BT_ISO_MS_Z, buf));
}

const char *yunshui_uuid(struct bt_arena *a)
{
    char buf[37];
    bt_uuid_v4(buf);
    return bt_arena_strdup(a, buf);
}

json_t *yunshui_pagination(int64_t page, int64_t limit, int64_t total)
{
    int64_t pages = limit > 0 ? (total + limit - 1) / limit : 0;

    return json_pack("{s:I,s:I,s:I,s:I,s:b,s:b}", "page", (json_int_t)page, "limit",
                     (json_int_t)limit, "total", (json_int_t)total, "totalPages", (json_int_t)pages,
                     "hasNext", page<pages, "hasPrev", page> 1);
}

/* A decimal with at most 4 places and at most 10^10 scales into 10^14 < 2^53, where the
 * double nearest the decimal is within 1/64 of the exact scaled integer; a fifth decimal
 * moves it by at least 0.1, so the 0.05 tolerance tells the two apart. */
int yunshui_money_parse(const json_t *v, int64_t *out)
{
    double d, scaled, r;

    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || i > 10000000000LL)
            return -1;
        *out = (int64_t)i * 10000;
        return 0;
    }
    if (!json_is_real(v))
        return -1;
    d = json_real_value(v);
    if (!(d >= 0) || d > 1e10)
        return -1;
    scaled = d * 10000.0;
    r = nearbyint(scaled);
    if (fabs(scaled - r) > 0.05)
        return -1;
    *out = (int64_t)r;
    return 0;
}

json_t *yunshui_money_json(int64_t units)
{
    if (units % 10000 == 0)
        return json_integer(units / 10000); /* 1500.0000 renders 1500 */
    return json_real((double)units / 10000.0);
}

/* ---- start-up ---- */

static int yunshui_init(struct bt_app_ctx *ctx, struct bt_err *err)
{
    struct yunshui_state *st = calloc(1, sizeof(*st));
    int rc;

    if (!st)
        return bt_fail(err, BT_EINTERNAL, NULL, "out of memory");
    st->jwt_secret = bt_app_setting(ctx, "jwt_secret", NULL);
    st->access_ttl_s = 24 * 3600;
    st->refresh_ttl_s = 30 * 24 * 3600;
    st->data_dir = ctx->config->data_dir;
    rc = yunshui_auth_init(ctx, st, err);
    if (rc != BT_OK) {
        free(st);
        return rc;
    }
    ctx->state = st;
    return BT_OK;
}

static void yunshui_fini(struct bt_app_ctx *ctx)
{
    free(ctx->state);
    ctx->state = NULL;
}

/* Path parameters, for the OpenAPI document. */
static const struct bt_field yunshui_path_params[] = {
    {.name = "id", .type = BT_T_STR, .desc = "UUID"},
    {.name = "folder", .type = BT_T_STR, .max_len = 50, .desc = "上傳資料夾"},
    {.name = "file", .type = BT_T_STR, .desc = "檔名 (<id>.<format>)"},
    BT_FIELD_END,
};

/* Every setting yunshui reads besides the core's (bt_app_setting refuses any other key). */
static const struct bt_setting yunshui_settings[] = {
    {"jwt_secret", BT_SETTING_SECRET, NULL,
     "HS256 key for access tokens; production requires >= 32 bytes, not the development key"},
    {"admin_password", BT_SETTING_SECRET, NULL,
     "password of the first ADMIN on an empty database (development default password123, "
     "refused in production)"},
    BT_SETTING_END,
};

const struct bt_app bt_app_yunshui = {
    .name = "yunshui",
    .title = "雲水基材管理系統 Mobile App API",
    .version = "1.0.0",
    .mount = "/v1",
    .default_port = 3004,
    .routes = yunshui_routes,
    .path_params = yunshui_path_params,
    .security = "bearer",
    .error_schema = &yunshui_error,
    .migrations = yunshui_migrations,
    .render_error = yunshui_render_error,
    .authenticate = yunshui_authenticate,
    .authorize = yunshui_authorize,
    .init = yunshui_init,
    .fini = yunshui_fini,
    .flags = BT_APP_STRICT_JSON,
    .rate = {100, 60},
    .max_body = 10u << 20,
    .settings = yunshui_settings,
    .users = &yunshui_users_ops,
    .check = yunshui_check,
    .login = &bt_login_defaults,
};
