/* SPDX-License-Identifier: MIT
 * metrics.h - per-app request metrics (Prometheus text format): requests by route and status,
 * a latency histogram per route, in-flight requests, database pool use. Lock-free counters.
 */
#ifndef BENTO_METRICS_H
#define BENTO_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct bt_arena;
struct bt_router;
struct bt_dbpool;
struct bt_metrics;

/** nroutes = routes in the app's table; index nroutes counts unmatched requests. */
struct bt_metrics *bt_metrics_new(const char *app, size_t nroutes);
void bt_metrics_free(struct bt_metrics *m);

void bt_metrics_inflight(struct bt_metrics *m, int delta);
/** route_index -1 = unmatched. status is the HTTP status sent. */
void bt_metrics_observe(struct bt_metrics *m, int route_index, int status, uint64_t dur_ns);

/** Prometheus exposition text (arena-owned). router names the routes; pool may be NULL. */
char *bt_metrics_render(struct bt_metrics *m, struct bt_arena *a, const struct bt_router *router,
                        struct bt_dbpool *pool, size_t *len);

#endif
