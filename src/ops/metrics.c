/* SPDX-License-Identifier: MIT
 * metrics.c - per-app request metrics rendered in the Prometheus text format, with the app's
 * limits as gauges, build info and the standard process_* metrics (read from /proc/self when
 * /metrics is scraped, as Prometheus's own client libraries do).
 * Owns: relaxed atomic counters (one cache line of contention per route at most).
 * Must not: take locks on the request path; mix a limit into a usage gauge (each limit is its
 * own family, so sum() and ratios over a family stay meaningful).
 *
 * Statuses are counted in a dense [route][status-100] table: 500 slots per route is 4 KiB and
 * makes observe() a single atomic add with no lookup.
 */
#include <dirent.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <bento/arena.h>
#include <bento/cache.h>
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
    atomic_int lane_queued, lane_running;
    atomic_uint_fast64_t events[BT_MEV__COUNT];
    struct route_metrics *r; /* nroutes + 1 (unmatched) */
    struct bt_metrics_limits limits;
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

void bt_metrics_set_limits(struct bt_metrics *m, const struct bt_metrics_limits *limits)
{
    m->limits = *limits;
}

void bt_metrics_inflight(struct bt_metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->inflight, delta, memory_order_relaxed);
}

void bt_metrics_event(struct bt_metrics *m, enum bt_metrics_event ev)
{
    atomic_fetch_add_explicit(&m->events[ev], 1, memory_order_relaxed);
}

void bt_metrics_lane(struct bt_metrics *m, int queued_delta, int running_delta)
{
    atomic_fetch_add_explicit(&m->lane_queued, queued_delta, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->lane_running, running_delta, memory_order_relaxed);
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

/* ---- process metrics (Linux /proc, like the Prometheus client libraries) ---- */

static double start_time_s; /* process_start_time_seconds; 0 when /proc could not say */
static pthread_once_t start_once = PTHREAD_ONCE_INIT;

/* Field 22 of /proc/self/stat (start time in clock ticks after boot) plus btime of
 * /proc/stat (boot time in Unix seconds). comm (field 2) may hold spaces and parentheses:
 * fields are counted after its last ')'. */
static void read_start_time(void)
{
    char buf[1024];
    unsigned long long ticks = 0, btime = 0;
    long hz = sysconf(_SC_CLK_TCK);
    FILE *f = fopen("/proc/self/stat", "re");
    size_t n = 0;
    const char *p;

    if (f) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    p = strrchr(buf, ')');
    /* the space before field k is the (k - 2)th after the ')' closing comm (field 2) */
    for (int field = 3; p && field <= 22; field++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p + 1, "%llu", &ticks) != 1 || hz <= 0)
        return;
    f = fopen("/proc/stat", "re");
    if (!f)
        return;
    while (fgets(buf, sizeof(buf), f))
        if (sscanf(buf, "btime %llu", &btime) == 1)
            break;
    fclose(f);
    if (btime)
        start_time_s = (double)btime + (double)ticks / (double)hz;
}

struct proc_stats {
    double cpu_s;
    unsigned long long rss, vsize; /* bytes */
    long open_fds;                 /* -1 unknown */
    unsigned long long max_fds;    /* soft RLIMIT_NOFILE */
    bool max_fds_unlimited;
};

static void read_proc(struct proc_stats *ps)
{
    struct rusage ru;
    struct rlimit rl;
    unsigned long long pages_v = 0, pages_r = 0;
    long page = sysconf(_SC_PAGESIZE);
    FILE *f;
    DIR *d;

    memset(ps, 0, sizeof(*ps));
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        ps->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    f = fopen("/proc/self/statm", "re");
    if (f) {
        if (fscanf(f, "%llu %llu", &pages_v, &pages_r) != 2)
            pages_v = pages_r = 0;
        fclose(f);
    }
    if (page > 0) {
        ps->vsize = pages_v * (unsigned long long)page;
        ps->rss = pages_r * (unsigned long long)page;
    }
    ps->open_fds = -1;
    d = opendir("/proc/self/fd");
    if (d) {
        const struct dirent *e;
        long n = 0;
        int self = dirfd(d);
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.' && atoi(e->d_name) != self)
                n++;
        closedir(d);
        ps->open_fds = n;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        ps->max_fds_unlimited = rl.rlim_cur == RLIM_INFINITY;
        ps->max_fds = (unsigned long long)rl.rlim_cur;
    }
}

static void render_process(struct bt_buf *b)
{
    struct proc_stats ps;

    pthread_once(&start_once, read_start_time);
    read_proc(&ps);
    bt_buf_addf(
        b,
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
        "# TYPE process_cpu_seconds_total counter\n"
        "process_cpu_seconds_total %.6f\n"
        "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
        "# TYPE process_resident_memory_bytes gauge\n"
        "process_resident_memory_bytes %llu\n"
        "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
        "# TYPE process_virtual_memory_bytes gauge\n"
        "process_virtual_memory_bytes %llu\n",
        ps.cpu_s, ps.rss, ps.vsize);
    if (ps.open_fds >= 0)
        bt_buf_addf(b,
                    "# HELP process_open_fds Number of open file descriptors.\n"
                    "# TYPE process_open_fds gauge\n"
                    "process_open_fds %ld\n",
                    ps.open_fds);
    bt_buf_adds(b, "# HELP process_max_fds Maximum number of open file descriptors.\n"
                   "# TYPE process_max_fds gauge\n");
    if (ps.max_fds_unlimited)
        bt_buf_adds(b, "process_max_fds +Inf\n");
    else
        bt_buf_addf(b, "process_max_fds %llu\n", ps.max_fds);
    if (start_time_s > 0)
        bt_buf_addf(b,
                    "# HELP process_start_time_seconds Start time of the process since unix epoch "
                    "in seconds.\n"
                    "# TYPE process_start_time_seconds gauge\n"
                    "process_start_time_seconds %.2f\n",
                    start_time_s);
}

/* One gauge family with a single series labelled by service. */
static void gauge(struct bt_buf *b, const char *name, const char *help, const char *app,
                  unsigned long long v)
{
    bt_buf_addf(b, "# HELP %s %s\n# TYPE %s gauge\n%s{service=\"%s\"} %llu\n", name, help, name,
                name, app, v);
}

static uint64_t ld(atomic_uint_fast64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* ---- read caches (include/bento/cache.h): the service's own, named "<service>_..." ---- */

struct cache_rows {
    struct bt_arena *a;
    size_t n, cap;
    const char **names;
    struct bt_cache_stats *stats;
};

static void cache_row(struct bt_cache *c, void *ud)
{
    struct cache_rows *cr = ud;

    if (cr->n == cr->cap) {
        size_t cap = cr->cap ? cr->cap * 2 : 8;
        const char **names = bt_arena_alloc(cr->a, cap * sizeof(*names));
        struct bt_cache_stats *stats = bt_arena_alloc(cr->a, cap * sizeof(*stats));
        if (cr->n) {
            memcpy(names, cr->names, cr->n * sizeof(*names));
            memcpy(stats, cr->stats, cr->n * sizeof(*stats));
        }
        cr->names = names;
        cr->stats = stats;
        cr->cap = cap;
    }
    cr->names[cr->n] = bt_arena_strdup(cr->a, bt_cache_name(c));
    bt_cache_stats(c, &cr->stats[cr->n]);
    cr->n++;
}

static void render_caches(struct bt_buf *b, struct bt_arena *a, const char *app,
                          struct bt_dbpool *pool)
{
    static const struct {
        const char *name, *type, *help;
        size_t off;
    } fams[] = {
        {"bento_cache_hits_total", "counter", "Read-cache lookups answered from the cache.",
         offsetof(struct bt_cache_stats, hits)},
        {"bento_cache_misses_total", "counter",
         "Read-cache lookups that went to the database (also while not serving).",
         offsetof(struct bt_cache_stats, misses)},
        {"bento_cache_stores_total", "counter", "Values stored in a read cache.",
         offsetof(struct bt_cache_stats, stores)},
        {"bento_cache_stale_fills_total", "counter",
         "Values not stored: a write invalidated the key between the read and the store.",
         offsetof(struct bt_cache_stats, stale_fills)},
        {"bento_cache_invalidations_total", "counter",
         "Keys or whole caches invalidated by writes.",
         offsetof(struct bt_cache_stats, invalidations)},
        {"bento_cache_evictions_total", "counter",
         "Values dropped to keep a read cache within its bounds.",
         offsetof(struct bt_cache_stats, evictions)},
    };
    struct cache_rows cr = {.a = a};
    char prefix[80];

    snprintf(prefix, sizeof(prefix), "%s_", app);
    bt_cache_each(pool, prefix, cache_row, &cr);
    if (!cr.n)
        return;
    for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
        bt_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", fams[f].name, fams[f].help, fams[f].name,
                    fams[f].type);
        for (size_t i = 0; i < cr.n; i++) {
            const uint64_t *v = (const uint64_t *)((const char *)&cr.stats[i] + fams[f].off);
            bt_buf_addf(b, "%s{service=\"%s\",cache=\"%s\"} %llu\n", fams[f].name, app, cr.names[i],
                        (unsigned long long)*v);
        }
    }
    bt_buf_adds(b, "# HELP bento_cache_entries Values held by a read cache now.\n"
                   "# TYPE bento_cache_entries gauge\n");
    for (size_t i = 0; i < cr.n; i++)
        bt_buf_addf(b, "bento_cache_entries{service=\"%s\",cache=\"%s\"} %zu\n", app, cr.names[i],
                    cr.stats[i].entries);
    bt_buf_adds(b, "# HELP bento_cache_bytes Bytes of keys and values held by a read cache now.\n"
                   "# TYPE bento_cache_bytes gauge\n");
    for (size_t i = 0; i < cr.n; i++)
        bt_buf_addf(b, "bento_cache_bytes{service=\"%s\",cache=\"%s\"} %zu\n", app, cr.names[i],
                    cr.stats[i].bytes);
    bt_buf_adds(b, "# HELP bento_cache_serving 1 while a read cache may answer (on PostgreSQL: "
                   "its listener connected and answering), else 0.\n"
                   "# TYPE bento_cache_serving gauge\n");
    for (size_t i = 0; i < cr.n; i++)
        bt_buf_addf(b, "bento_cache_serving{service=\"%s\",cache=\"%s\"} %d\n", app, cr.names[i],
                    cr.stats[i].serving ? 1 : 0);
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
    bt_buf_addf(&b,
                "# HELP bento_slow_lane_requests Slow-lane requests waiting for a lane thread, "
                "and being run by one.\n"
                "# TYPE bento_slow_lane_requests gauge\n"
                "bento_slow_lane_requests{service=\"%s\",state=\"queued\"} %d\n"
                "bento_slow_lane_requests{service=\"%s\",state=\"running\"} %d\n",
                m->app, atomic_load_explicit(&m->lane_queued, memory_order_relaxed), m->app,
                atomic_load_explicit(&m->lane_running, memory_order_relaxed));
    bt_buf_addf(&b,
                "# HELP bento_requests_dropped_total Requests not answered: their client had "
                "closed the connection before they ran (slow lane), or the lane was full (503).\n"
                "# TYPE bento_requests_dropped_total counter\n"
                "bento_requests_dropped_total{service=\"%s\",reason=\"client_gone\"} %llu\n"
                "bento_requests_dropped_total{service=\"%s\",reason=\"lane_full\"} %llu\n",
                m->app, (unsigned long long)ld(&m->events[BT_MEV_GONE_DROPPED]), m->app,
                (unsigned long long)ld(&m->events[BT_MEV_LANE_FULL]));
    bt_buf_addf(&b,
                "# HELP bento_db_statements_stopped_total Statements stopped by their request's "
                "guard: the deadline (BENTO_QUERY_TIMEOUT_MS) or the client leaving.\n"
                "# TYPE bento_db_statements_stopped_total counter\n"
                "bento_db_statements_stopped_total{service=\"%s\",reason=\"deadline\"} %llu\n"
                "bento_db_statements_stopped_total{service=\"%s\",reason=\"client_gone\"} "
                "%llu\n",
                m->app, (unsigned long long)ld(&m->events[BT_MEV_STOP_DEADLINE]), m->app,
                (unsigned long long)ld(&m->events[BT_MEV_STOP_GONE]));
    if (pool) {
        unsigned in_use, open, max;
        bt_dbpool_stats(pool, &in_use, &open, &max);
        bt_buf_addf(&b,
                    "# HELP bento_db_connections Database pool connections by state.\n"
                    "# TYPE bento_db_connections gauge\n"
                    "bento_db_connections{service=\"%s\",state=\"in_use\"} %u\n"
                    "bento_db_connections{service=\"%s\",state=\"open\"} %u\n",
                    m->app, in_use, m->app, open);
        gauge(&b, "bento_db_pool_max_connections",
              "Configured maximum of database pool connections (BENTO_DB_POOL).", m->app, max);
        render_caches(&b, a, m->app, pool);
    }

    /* the limits in force, each its own family */
    gauge(&b, "bento_http_max_body_bytes", "Configured request body cap in bytes.", m->app,
          m->limits.max_body);
    gauge(&b, "bento_http_max_header_bytes",
          "Configured cap of request line plus headers in bytes.", m->app, m->limits.max_header);
    gauge(&b, "bento_http_max_connections", "Configured connection limit of the listener.", m->app,
          m->limits.conn_limit);
    gauge(&b, "bento_http_max_connections_per_client",
          "Configured connection limit per client address.", m->app, m->limits.per_ip_limit);
    gauge(&b, "bento_http_idle_timeout_seconds", "Configured idle connection timeout in seconds.",
          m->app, m->limits.conn_timeout_s);
    if (m->limits.rate_limit > 0) {
        gauge(&b, "bento_rate_limit_requests",
              "Configured requests allowed per client in each rate-limit window.", m->app,
              m->limits.rate_limit);
        gauge(&b, "bento_rate_limit_window_seconds", "Configured rate-limit window in seconds.",
              m->app, m->limits.rate_window_s);
    }

    bt_buf_addf(&b,
                "# HELP bento_build_info Build of the running binary; the value is always 1.\n"
                "# TYPE bento_build_info gauge\n"
                "bento_build_info{version=\"%s\",service=\"%s\"} 1\n",
                BENTO_VERSION, m->app);
    render_process(&b);
    *len = b.len;
    return b.p;
}
