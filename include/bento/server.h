/* SPDX-License-Identifier: MIT
 * server.h - running apps: the app context (migrations, router, init) and the listeners.
 * The pipeline entry point is shared by the libmicrohttpd glue and the test harness.
 */
#ifndef BENTO_SERVER_H
#define BENTO_SERVER_H

#include <bento/app.h>
#include <bento/config.h>

struct bt_dbpool;

/** Build an app's running context: compile routes (with the core routes /health, /metrics,
 *  /openapi.json unless the app owns them), run migrations on pool, call init.
 *  Returns BT_OK or a status with err filled. Free with bt_app_ctx_free. */
int bt_app_ctx_new(const struct bt_app *app, const struct bt_config *config, struct bt_dbpool *pool,
                   struct bt_app_ctx **out, struct bt_err *err);
void bt_app_ctx_free(struct bt_app_ctx *ctx);

/** Run phases route..render for a request already filled with method, path, query,
 *  headers and body (rq->arena set, rs zeroed with rs->arena set). Never fails: on error
 *  rs holds the app's error envelope. Accounting (metrics, access log) is included. */
void bt_pipeline_run(struct bt_app_ctx *ctx, struct bt_req *rq, struct bt_res *rs);

/** Is the request for a route flagged BT_R_SLOW (rq->method and rq->path set)? The glue
 *  runs such requests on the service's slow lane (docs/ARCHITECTURE.md, "Lanes"). */
bool bt_pipeline_slow(struct bt_app_ctx *ctx, struct bt_req *rq);

/** Prepare a zeroed request/response pair on arena a. */
void bt_req_init(struct bt_req *rq, struct bt_res *rs, struct bt_arena *a, struct bt_app_ctx *ctx);

/** Render err through the app's renderer (used by the glue for 413/431 before routing). */
void bt_pipeline_fail(struct bt_app_ctx *ctx, struct bt_req *rq, struct bt_res *rs,
                      const struct bt_err *err);

/** Add the service's CORS headers to a response the glue answers before routing (413, 431,
 *  a malformed query): no route is known, so a "*" in the list applies. */
void bt_pipeline_cors(struct bt_app_ctx *ctx, const char *origin, struct bt_res *rs);

/* ---- listeners ---- */
struct bt_server;

/** Open the database, migrate and init every enabled app, and start one listener per app.
 *  Writes the port file when configured. Returns BT_OK or a status with err filled. */
int bt_server_start(const struct bt_config *config, const struct bt_app *const *apps,
                    struct bt_server **out, struct bt_err *err);
/** Stop accepting, finish in-flight requests, fini apps, close the database. */
void bt_server_stop(struct bt_server *s);

/** OpenAPI 3.1 document for a running app (new reference). */
json_t *bt_openapi_build(const struct bt_app_ctx *ctx);

/** The error codes (BT_XERR bits) a route can fail with: what the pipeline's phases can
 *  produce for it (validation, malformed JSON, 415 for strict-JSON apps, 413 with a body,
 *  authentication, roles, rate limit, 404 with path parameters, 500/503 always) plus the
 *  route's own `errors`. The OpenAPI document lists one response per resulting HTTP status. */
unsigned bt_route_errors(const struct bt_app_ctx *ctx, const struct bt_route *rt);

/** Start-up check of an app that has adopted the contract (error_schema set): each of the n
 *  routes declares its success response (resp, resp_media, or ok_status 204 with no body).
 *  Returns BT_OK, or BT_EINTERNAL naming the first route that does not. */
int bt_openapi_check(const struct bt_app *app, const struct bt_route *routes, size_t n,
                     struct bt_err *err);

#endif
