/* SPDX-License-Identifier: MIT
 * route.h - declarative route tables. An app lists its routes as data; the core checks the
 * table at start-up, matches requests, enforces access, validates bodies and queries, and
 * generates the OpenAPI document from the same entries.
 */
#ifndef BENTO_ROUTE_H
#define BENTO_ROUTE_H

#include <bento/http.h>
#include <bento/schema.h>

typedef int bt_handler_fn(struct bt_req *rq, struct bt_res *rs, struct bt_err *err);

/* Access flags: who may call a route. Access is REQUIRED: a route with access 0 makes the
 * binary refuse to start (secure by default, like Redis's CMD_NO_AUTH opt-out).
 *   BT_PUBLIC     anyone; no authentication attempted
 *   BT_AUTH       any authenticated principal (the app's authenticate hook must succeed)
 *   BT_ROLE(n)    authenticated and the app's authorize hook grants role bit n (0..15)
 */
#define BT_PUBLIC 0x0001u
#define BT_AUTH 0x0002u
#define BT_ROLE(n) (0x10000u << (n))

/* Route flags.
 *   BT_R_JSON_BODY   the body must be JSON (415 otherwise); parsed into rq->json even with
 *                    no schema
 *   BT_R_RAW_BODY    the body is kept raw (uploads); no JSON parsing
 *   BT_R_ALIAS       an alias of a documented route: listed in OpenAPI with deprecated: true
 *   BT_R_NO_METRICS  not counted per route (the metrics endpoint itself)
 *   BT_R_NO_LIMIT    not subject to the app's rate limit (health and metrics probes)
 *   BT_R_COOKIES     the route authenticates with cookies: a "*" in S.cors_origins gives it
 *                    no CORS headers, only explicitly listed origins do (include/bento/cors.h)
 *   BT_R_DEGRADED_503 the handler answers 503 with its success body when degraded (health
 *                    checks): OpenAPI documents 503 with the success schema
 *   BT_R_SLOW        the route may take long (lists, searches, exports): it runs on the
 *                    service's slow lane, so it never holds a thread that fast routes need,
 *                    and it is dropped if its client leaves first (docs/ARCHITECTURE.md)
 */
#define BT_R_JSON_BODY 0x01u
#define BT_R_RAW_BODY 0x02u
#define BT_R_ALIAS 0x04u
#define BT_R_NO_METRICS 0x08u
#define BT_R_NO_LIMIT 0x10u
#define BT_R_COOKIES 0x20u
#define BT_R_DEGRADED_503 0x40u
#define BT_R_SLOW 0x80u

struct bt_route {
    enum bt_method method;
    const char *path; /* "/api/v1/vendors/:vendor_id" relative to the app's mount */
    bt_handler_fn *handler;
    unsigned access;
    const struct bt_schema *body;  /* NULL = no body expected */
    const struct bt_schema *query; /* NULL = query not typed (raw access still works) */
    unsigned flags;
    const char *summary;          /* OpenAPI summary */
    int ok_status;                /* documented success status for OpenAPI (0 = 200) */
    const struct bt_schema *resp; /* success body (JSON) schema; NULL = no JSON body */
    unsigned errors; /* error codes the handler itself can return: BT_XERR(BT_ECONFLICT) | ...
                      * (the core derives the errors of its own phases) */
    const char *resp_media; /* non-JSON success media type (an image type, "text/plain",
                             * "text/html", "text/csv"); NULL = application/json */
};

/* Bit of an error code (enum bt_status) in bt_route.errors. */
#define BT_XERR(code) (1u << (code))

#define BT_ROUTE_END                                                                               \
    {                                                                                              \
        0                                                                                          \
    }

/* ---- router ---- */

struct bt_router;

/** Compile a route table (NULL-terminated by BT_ROUTE_END). Checks: no duplicate method and
 *  path, every route has access set, parameter names well-formed, body schema only on
 *  methods that carry a body. Returns NULL and fills err on a bad table. */
struct bt_router *bt_router_new(const struct bt_route *routes, struct bt_err *err);
void bt_router_free(struct bt_router *r);

/* Match results. */
enum bt_match { BT_MATCH_OK, BT_MATCH_NO_PATH, BT_MATCH_NO_METHOD };

/** Match method and path (relative to the mount). On BT_MATCH_OK *route and params are set
 *  (param values point into an arena copy of path). On BT_MATCH_NO_METHOD allow holds the
 *  allowed methods as text ("GET, PUT") in the arena. */
enum bt_match bt_router_match(const struct bt_router *r, struct bt_arena *a, enum bt_method m,
                              const char *path, const struct bt_route **route, int *index,
                              struct bt_kv *params, size_t *nparams, const char **allow);

/** Number of routes (for metrics tables). */
size_t bt_router_count(const struct bt_router *r);
const struct bt_route *bt_router_at(const struct bt_router *r, size_t i);
/** Route i's path in OpenAPI template form, relative to the mount ("/materials/{id}"): the
 *  key of the route in the OpenAPI document and its `route` label in the metrics. */
const char *bt_router_label(const struct bt_router *r, size_t i);

#endif
