/* SPDX-License-Identifier: MIT
 * yunshui.h - app-private declarations shared by the yunshui sources.
 * Never included outside apps/yunshui/.
 * File ownership:
 *   app.c        descriptor, envelope, authenticate/authorize hooks, init (admin seeding,
 *                production checks), shared helpers below
 *   routes.c     the route table
 *   auth.c       login, refresh (rotation), logout, me, password change
 *   users.c      user administration (ADMIN routes and the operator CLI's bento user)
 *   materials.c  materials
 *   orders.c     orders, numbering, status machine, stock
 *   upload.c     image upload and serving uploaded files
 *   responses.c  response schemas (success envelopes per route) and the error envelope
 */
#ifndef YUNSHUI_H
#define YUNSHUI_H

#include <stdbool.h>
#include <stdint.h>

#include <bento/bento.h>

/* Roles: ADMIN is role bit 0 on routes; USER is any authenticated principal (BT_AUTH). */
#define YUNSHUI_ADMIN BT_ROLE(0)

/* The authenticated caller (rq->principal), from a verified access token. */
struct yunshui_principal {
    const char *user_id; /* UUID */
    const char *username;
    const char *role; /* "ADMIN" or "USER" */
    const char *jti;  /* the token's id */
    const char *sid;  /* the login session (refresh-token family) the token belongs to */
    bool admin;
    /* the rows of the route's first read when the bearer check fetched them with the
     * session (yunshui_read_ahead), else NULL */
    struct bt_rows *ahead;
};

static inline const struct yunshui_principal *yunshui_me(const struct bt_req *rq)
{
    return (const struct yunshui_principal *)rq->principal;
}

/* App state (app.c owns it). */
struct yunshui_state {
    const char *jwt_secret; /* HS256 key; production refuses the development default */
    int64_t access_ttl_s;   /* 24 h */
    int64_t refresh_ttl_s;  /* 30 days */
    const char *data_dir;   /* uploads live under <data_dir>/uploads */
    /* login sessions and their refresh tokens (yunshui_auth_init sets it up) */
    struct bt_session_store sessions;
};

static inline struct yunshui_state *yunshui_state(const struct bt_req *rq)
{
    return (struct yunshui_state *)rq->ctx->state;
}

/* ---- envelope helpers (app.c) ---- */

/** {"success":true,"data":data} (+ "message" when message is not NULL). Takes data. */
int yunshui_ok(struct bt_res *rs, int status, json_t *data, const char *message);

/** Fail with a document error code: code is one of INVALID_CREDENTIALS, TOKEN_EXPIRED,
 *  INSUFFICIENT_PERMISSIONS, RESOURCE_NOT_FOUND, VALIDATION_ERROR, DUPLICATE_RESOURCE,
 *  INTERNAL_ERROR (or a documented bento extension, docs/apps/yunshui.md); message is the
 *  user-facing Traditional Chinese text; details (may be NULL) is owned by the request arena
 *  afterwards. Returns status. */
int yunshui_fail(struct bt_req *rq, struct bt_err *err, enum bt_status status, const char *code,
                 const char *message, json_t *details);

/** Timestamps as the document shows them: "2024-01-01T00:00:00.000Z" (arena-owned). */
const char *yunshui_now(struct bt_arena *a);

/** A new UUID v4 (arena-owned). */
const char *yunshui_uuid(struct bt_arena *a);

/** Pagination object {page, limit, total, totalPages, hasNext, hasPrev} (new reference). */
json_t *yunshui_pagination(int64_t page, int64_t limit, int64_t total);

/** Decimal amounts with 4 places are stored as integers of 1/10000. Parse a JSON number into
 *  that form exactly (at most 4 decimals, 0 <= value <= 10^10); -1 when out of range or too
 *  precise. Render one back as a JSON number (new reference). */
int yunshui_money_parse(const json_t *v, int64_t *out);
json_t *yunshui_money_json(int64_t units);

/* The document's paging parameters, shared by every list's query schema: page 1..10^7
 * (default 1), limit 1..100 (default 20; more is 422, not clamped). */
#define YUNSHUI_PAGE_FIELDS                                                                        \
    {.name = "page",                                                                               \
     .type = BT_T_INT,                                                                             \
     .flags = BT_F_MIN | BT_F_MAX,                                                                 \
     .min = 1,                                                                                     \
     .max = 10000000,                                                                              \
     .desc = "頁碼，預設 1"},                                                                      \
    {                                                                                              \
        .name = "limit", .type = BT_T_INT, .flags = BT_F_MIN | BT_F_MAX, .min = 1, .max = 100,     \
        .desc = "每頁數量，預設 20，最大 100（超過為 422）"                         \
    }

/* ---- handlers (routes.c lists them) ---- */
bt_handler_fn yunshui_login, yunshui_refresh, yunshui_logout, yunshui_me_get,
    yunshui_password_change; /* auth.c */
bt_handler_fn yunshui_user_list, yunshui_user_create, yunshui_user_get, yunshui_user_update,
    yunshui_user_delete; /* users.c */
bt_handler_fn yunshui_material_list, yunshui_material_get, yunshui_material_create,
    yunshui_material_update, yunshui_material_delete; /* materials.c */
bt_handler_fn yunshui_order_list, yunshui_order_get, yunshui_order_create, yunshui_order_update,
    yunshui_order_delete, yunshui_order_status;         /* orders.c */
bt_handler_fn yunshui_upload_image, yunshui_upload_get; /* upload.c */

/* ---- schemas (defined next to their handlers) ---- */
/* Response tables (responses.c). */
extern const struct bt_schema yunshui_error, yunshui_message_out, yunshui_login_out,
    yunshui_user_out, yunshui_user_list_out, yunshui_material_out, yunshui_material_list_out,
    yunshui_order_out, yunshui_order_list_out, yunshui_upload_in, yunshui_upload_out;

extern const struct bt_schema yunshui_login_in, yunshui_refresh_in, yunshui_logout_in,
    yunshui_password_in; /* auth.c */
extern const struct bt_schema yunshui_user_list_q, yunshui_user_in, yunshui_user_update_in;
extern const struct bt_schema yunshui_material_list_q, yunshui_material_in,
    yunshui_material_update_in; /* materials.c */
extern const struct bt_schema yunshui_order_list_q, yunshui_order_in, yunshui_order_update_in,
    yunshui_order_status_in; /* orders.c */

extern const struct bt_route yunshui_routes[];

/* ---- auth internals shared with app.c (auth.c) ---- */

/** Verify an access token and fill the principal (arena-owned): BT_OK, or BT_EAUTH with
 *  err->app_code "TOKEN_EXPIRED" / "INVALID_CREDENTIALS" and the envelope message set.
 *  Also refuses tokens of a revoked session (logout) and of a disabled user. */
int yunshui_token_check(struct bt_req *rq, const char *token, struct yunshui_principal **out,
                        struct bt_err *err);

/** The first read of the request's route when the request alone says what it is, to go with
 *  the bearer check in one round trip (PostgreSQL): true with *out filled (arena-owned
 *  arguments), and the handler then finds the rows in yunshui_me(rq)->ahead. A read only:
 *  it runs before the check's verdict. So far GET /materials/:id. (materials.c) */
bool yunshui_read_ahead(struct bt_req *rq, struct bt_db_read *out);

/** Create the development admin if there are no users; in production refuse a default
 *  secret or an ADMIN whose password is still the default. (auth.c) */
int yunshui_auth_init(struct bt_app_ctx *ctx, struct yunshui_state *st, struct bt_err *err);

/** bento check: the JWT secret, and on db the first-ADMIN and default-password rules of
 *  yunshui_auth_init, without changing anything. (auth.c) */
int yunshui_check(struct bt_app_ctx *ctx, struct bt_db *db, struct bt_err *err);

/* Account administration for the operator CLI (users.c). */
extern const struct bt_app_users yunshui_users_ops;

#endif
