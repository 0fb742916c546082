/* SPDX-License-Identifier: MIT
 * metrics.h - per-app request metrics (Prometheus text format): requests by route and status,
 * a latency histogram per route, in-flight requests, database pool use, the configured limits
 * as their own gauges, build info and the standard process_* metrics (from /proc/self).
 * Lock-free counters. The list of metrics is in docs/OPERATIONS.md.
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

/** The limits in force for the app, each rendered as its own gauge. Set once at start-up,
 *  before requests are served. A zero rate_limit means none (its gauges are left out). */
struct bt_metrics_limits {
    size_t max_body;         /* request body cap, bytes */
    size_t max_header;       /* request line + headers cap, bytes */
    unsigned conn_limit;     /* connections per listener */
    unsigned per_ip_limit;   /* connections per client address */
    unsigned conn_timeout_s; /* idle connection timeout */
    unsigned rate_limit;     /* requests per client per window; 0 = no rate limit */
    unsigned rate_window_s;
};
void bt_metrics_set_limits(struct bt_metrics *m, const struct bt_metrics_limits *limits);

void bt_metrics_inflight(struct bt_metrics *m, int delta);
/** route_index -1 = unmatched. status is the HTTP status sent. */
void bt_metrics_observe(struct bt_metrics *m, int route_index, int status, uint64_t dur_ns);

/* Counted events of the request lanes and the statement guard (docs/OPERATIONS.md). */
enum bt_metrics_event {
    BT_MEV_GONE_DROPPED,  /* a slow-lane request dropped: its client left before it ran */
    BT_MEV_LANE_FULL,     /* a slow-lane request refused (503): the lane's queue was full */
    BT_MEV_STOP_DEADLINE, /* a statement stopped at its deadline (503) */
    BT_MEV_STOP_GONE,     /* a statement stopped because its client left */
    BT_MEV__COUNT
};
void bt_metrics_event(struct bt_metrics *m, enum bt_metrics_event ev);
/** The slow lane's gauges: requests waiting for a lane thread, and being run by one. */
void bt_metrics_lane(struct bt_metrics *m, int queued_delta, int running_delta);

/** Prometheus exposition text (arena-owned). router names the routes; pool may be NULL. */
char *bt_metrics_render(struct bt_metrics *m, struct bt_arena *a, const struct bt_router *router,
                        struct bt_dbpool *pool, size_t *len);

#endif
