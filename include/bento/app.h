/* SPDX-License-Identifier: MIT
 * app.h - what an application gives the core. An app is plain data: routes, migrations and
 * a few hooks. The core owns the order of start-up (migrate -> init -> listen) and shut-down,
 * and the request pipeline. Apps never call each other; they only call bt_* functions.
 */
#ifndef BENTO_APP_H
#define BENTO_APP_H

#include <stdint.h>

#include <bento/http.h>
#include <bento/migrate.h>
#include <bento/route.h>

struct bt_config;
struct bt_cors;
struct bt_dbpool;
struct bt_metrics;

/** Render err into the app's error envelope. Must set rs (status, body). Called for every
 *  failure, including the core's own (404, 405, 413, 431, 415, 400 validation, 500). */
typedef void bt_render_error_fn(struct bt_req *rq, struct bt_res *rs, const struct bt_err *err);

/** Optional: authenticate the request for a non-public route; set rq->principal. Return
 *  BT_OK, or BT_EAUTH with err filled. */
typedef int bt_authenticate_fn(struct bt_req *rq, struct bt_err *err);

/** Optional: may the principal use a route whose access has role bits? BT_OK or
 *  BT_EFORBIDDEN. */
typedef int bt_authorize_fn(struct bt_req *rq, unsigned access, struct bt_err *err);

/* App flags.
 *   BT_APP_OWN_HEALTH   the app's routes define /health (the core adds none)
 *   BT_APP_OWN_METRICS  the app's routes define /metrics (the core adds none)
 *   BT_APP_STRICT_JSON  JSON-body routes require Content-Type application/json (or a
 *                       +json type); anything else fails with BT_EMEDIATYPE
 */
#define BT_APP_OWN_HEALTH 0x01u
#define BT_APP_OWN_METRICS 0x02u
#define BT_APP_STRICT_JSON 0x04u

/* Per-client rate limit of an app: `limit` requests per `window_s` seconds per client
 * address, enforced by the core before authentication. Every limited response carries
 * X-RateLimit-Limit/-Remaining/-Reset; a refused one is BT_ELIMIT (429) with Retry-After.
 * Routes flagged BT_R_NO_LIMIT (the core's /health and /metrics) are not counted. Limits are
 * per process: N instances behind a balancer allow up to N times the limit. */
struct bt_app_limit {
    unsigned limit;
    unsigned window_s;
};

struct bt_app {
    const char *name;      /* "vendorchat": tables, metrics, config keys */
    const char *title;     /* OpenAPI title */
    const char *version;   /* OpenAPI version of the API */
    const char *mount;     /* URL prefix on its listener: "" or "/v1" */
    uint16_t default_port; /* from shared/spec/README.md */
    const struct bt_route *routes;
    const struct bt_migration *migrations;
    bt_render_error_fn *render_error;
    bt_authenticate_fn *authenticate;
    bt_authorize_fn *authorize;
    int (*init)(struct bt_app_ctx *ctx, struct bt_err *err); /* may be NULL */
    void (*fini)(struct bt_app_ctx *ctx);                    /* may be NULL */
    unsigned flags;
    struct bt_app_limit rate;           /* {0} = no rate limit; BENTO_<APP>_RATE_LIMIT overrides */
    size_t max_body;                    /* request body cap; 0 = BENTO_MAX_BODY */
    const struct bt_field *path_params; /* types of ":name" segments for OpenAPI (ends with
                                         * BT_FIELD_END); a name not listed is a string */
    const char *security; /* OpenAPI scheme of non-public routes: "bearer" (JWT) or NULL */
    const struct bt_schema *error_schema; /* the app's error envelope (OpenAPI, test validator) */
};

/* The running context of one app, shared by all its requests (thread-safe parts only). */
struct bt_app_ctx {
    const struct bt_app *app;
    const struct bt_config *config;
    struct bt_dbpool *pool;
    struct bt_router *router;
    struct bt_metrics *metrics;
    struct bt_ratelimit *limiter; /* NULL when the app has no rate limit */
    size_t max_body;              /* effective body cap */
    struct bt_cors *cors;         /* S.cors_origins, NULL = no CORS headers */
    const char *public_url;       /* S.public_url without trailing slashes, NULL if unset */
    void *state;                  /* app-private, set by init, freed by fini */
};

/** App setting: --set <app>.<key>=v, else environment BENTO_<APP>_<KEY> (upper-cased), else
 *  dflt. Borrowed, process lifetime. */
const char *bt_app_setting(const struct bt_app_ctx *ctx, const char *key, const char *dflt);

/** True when BENTO_ENV=production. */
int bt_app_production(const struct bt_app_ctx *ctx);

#endif
