/* SPDX-License-Identifier: MIT
 * metrics.c - per-app request metrics rendered in the Prometheus text format.
 * Owns: relaxed atomic counters (one cache line of contention per route at most).
 * Must not: take locks on the request path.
 *
 * Statuses are counted in a dense [route][status-100] table: 500 slots per route is 4 KiB and
 * makes observe() a single atomic add with no lookup.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <bento/arena.h>
#include <bento/db.h>
#include <bento/metrics.h>
#include <bento/route.h>

#define NSTATUS 500 /* 100..599 */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1.0,   2.5,  5.0};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct route_metrics {
    atomic_uint_fast64_t status[NSTATUS];
    atomic_uint_fast64_t bucket[NBUCKETS + 1]; /* last = +Inf */
    atomic_uint_fast64_t sum_ns;
    atomic_uint_fast64_t count;
};

struct bt_metrics {
    char *app;
    size_t nroutes;
    atomic_int inflight;
    struct route_metrics *r; /* nroutes + 1 (unmatched) */
};

struct bt_metrics *bt_metrics_new(const char *app, size_t nroutes)
{
    struct bt_metrics *m = calloc(1, sizeof(*m));

    if (!m)
        abort();
    m->app = strdup(app);
    m->nroutes = nroutes;
    m->r = calloc(nroutes + 1, sizeof(*m->r));
    if (!m->app || !m->r)
        abort();
    return m;
}

void bt_metrics_free(struct bt_metrics *m)
{
    if (!m)
        return;
    free(m->r);
    free(m->app);
    free(m);
}

void bt_metrics_inflight(struct bt_metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->inflight, delta, memory_order_relaxed);
}

void bt_metrics_observe(struct bt_metrics *m, int route_index, int status, uint64_t dur_ns)
{
    struct route_metrics *r;
    double secs = (double)dur_ns / 1e9;
    size_t b = 0;

    if (route_index < 0 || (size_t)route_index >= m->nroutes)
        route_index = (int)m->nroutes;
    r = &m->r[route_index];
    if (status >= 100 && status < 600)
        atomic_fetch_add_explicit(&r->status[status - 100], 1, memory_order_relaxed);
    while (b < NBUCKETS && secs > buckets[b])
        b++;
    atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_ns, dur_ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
}

static uint64_t ld(atomic_uint_fast64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

char *bt_metrics_render(struct bt_metrics *m, struct bt_arena *a, const struct bt_router *router,
                        struct bt_dbpool *pool, size_t *len)
{
    struct bt_buf b;

    bt_buf_init(&b, a, 4096);
    bt_buf_adds(&b, "# HELP bento_http_requests_total HTTP requests by route and status.\n"
                    "# TYPE bento_http_requests_total counter\n");
    for (size_t i = 0; i <= m->nroutes; i++) {
        const struct bt_route *rt = i < m->nroutes ? bt_router_at(router, i) : NULL;
        const char *method = rt ? bt_method_name(rt->method) : "ANY";
        const char *path = rt ? bt_router_label(router, i) : "unmatched";
        for (int s = 0; s < NSTATUS; s++) {
            uint64_t n = ld(&m->r[i].status[s]);
            if (n)
                bt_buf_addf(&b,
                            "bento_http_requests_total{service=\"%s\",method=\"%s\","
                            "route=\"%s\",status=\"%d\"} %llu\n",
                            m->app, method, path, s + 100, (unsigned long long)n);
        }
    }
    bt_buf_adds(&b, "# HELP bento_http_request_duration_seconds Request latency by route.\n"
                    "# TYPE bento_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= m->nroutes; i++) {
        const struct bt_route *rt = i < m->nroutes ? bt_router_at(router, i) : NULL;
        const char *method = rt ? bt_method_name(rt->method) : "ANY";
        const char *path = rt ? bt_router_label(router, i) : "unmatched";
        uint64_t cum = 0, count = ld(&m->r[i].count);
        if (!count)
            continue;
        for (size_t k = 0; k <= NBUCKETS; k++) {
            cum += ld(&m->r[i].bucket[k]);
            if (k < NBUCKETS)
                bt_buf_addf(&b,
                            "bento_http_request_duration_seconds_bucket{service=\"%s\","
                            "method=\"%s\",route=\"%s\",le=\"%g\"} %llu\n",
                            m->app, method, path, buckets[k], (unsigned long long)cum);
            else
                bt_buf_addf(&b,
                            "bento_http_request_duration_seconds_bucket{service=\"%s\","
                            "method=\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n",
                            m->app, method, path, (unsigned long long)cum);
        }
        bt_buf_addf(&b,
                    "bento_http_request_duration_seconds_sum{service=\"%s\",method=\"%s\","
                    "route=\"%s\"} %.6f\n",
                    m->app, method, path, (double)ld(&m->r[i].sum_ns) / 1e9);
        bt_buf_addf(&b,
                    "bento_http_request_duration_seconds_count{service=\"%s\",method=\"%s\","
                    "route=\"%s\"} %llu\n",
                    m->app, method, path, (unsigned long long)count);
    }
    bt_buf_addf(&b,
                "# HELP bento_http_requests_in_flight Requests being handled now.\n"
                "# TYPE bento_http_requests_in_flight gauge\n"
                "bento_http_requests_in_flight{service=\"%s\"} %d\n",
                m->app, atomic_load_explicit(&m->inflight, memory_order_relaxed));
    if (pool) {
        unsigned in_use, open, max;
        bt_dbpool_stats(pool, &in_use, &open, &max);
        bt_buf_addf(&b,
                    "# HELP bento_db_connections Database pool connections.\n"
                    "# TYPE bento_db_connections gauge\n"
                    "bento_db_connections{service=\"%s\",state=\"in_use\"} %u\n"
                    "bento_db_connections{service=\"%s\",state=\"open\"} %u\n"
                    "bento_db_connections{service=\"%s\",state=\"max\"} %u\n",
                    m->app, in_use, m->app, open, m->app, max);
    }
    *len = b.len;
    return b.p;
}
