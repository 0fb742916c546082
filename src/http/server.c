/* SPDX-License-Identifier: MIT
 * server.c - libmicrohttpd glue: one listener per enabled app, the gate (our own listen
 * socket and accept loop: header deadline, aborted and slow clients), request framing
 * checks, request assembly, body and header caps, sending responses, graceful shutdown, the
 * port file.
 * Owns: listen sockets, MHD daemons, per-request connection state, the shared database pool.
 * Must not: make routing or rendering decisions (pipeline.c does).
 *
 * MHD calls the access handler at least twice per request: once with the headers, then
 * once per body chunk, then a final time with no data. We answer on the final call: in
 * 0.9.75 queueing on the first call forces "Connection: close" (GUIDE.md A1), and a
 * response can only be queued on the headers call or the final call. A body over the cap is
 * therefore drained (not stored) up to DRAIN_MAX and answered 413 at the end; past that the
 * connection is dropped. The one early answer is a declared Content-Length over the cap from
 * a client that waits for "100 Continue" (or one past DRAIN_MAX): it has not sent the body,
 * so refusing on the headers call costs nothing and never resets the connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bento/bento.h>

#define MAX_QUERY_PAIRS 256
#define DRAIN_MAX (64u << 20)
#define HEAD_MAX_FIELDS 100              /* header lines in one request (431 past it) */
#define LINGER_NS (2ull * 1000000000ull) /* a refused client's time to read the answer */
#define GATE_EVENTS 256
#define WATCH_TAG (1ull << 63) /* epoll data of a watched keep-alive connection */
#define WATCH_MAX_FD 65536

#define HUP_GRACE_NS (50ull * 1000000ull)

/* a watched connection whose client closed its side; see watch_check */
struct hup {
    int fd;
    uint32_t gen;
    uint64_t idle_ns; /* when it was first seen with no request in progress (0 = not yet) */
};

/* the state of a connection libmicrohttpd owns, for the keep-alive watch */
enum { W_NONE, W_BUSY, W_HEAD, W_IDLE };
struct watch {
    _Atomic uint32_t gen; /* 0 = not watched */
    _Atomic uint8_t state;
};

/* one client address (an IPv6 /64) with connections in the gate */
struct gate_addr {
    uint8_t key[16];
    size_t n; /* its connections in the gate */
    struct gate_addr *next;
};

/* a connection in the gate: accepted, request line + headers not yet complete */
struct pending {
    int fd;
    bool closing; /* answered by the gate; reading until the client closes */
    struct gate_addr *who;
    uint64_t deadline_ns;
    struct sockaddr_storage ss;
    socklen_t sl;
    struct pending *prev, *next; /* accept order, oldest first */
};

/* The slow lane (see "the slow lane" below): requests of BT_R_SLOW routes wait here, their
 * connections suspended, for one of the lane's own threads. */
struct conn;
struct listener;
struct lane {
    struct listener *l;
    bool reads; /* GET and HEAD requests (SCHED_IDLE threads), else the other methods */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct conn *head, *tail; /* waiting, oldest first */
    size_t queued, cap;
    bool stopping;
    pthread_t *threads;
    size_t nthreads;
};

struct listener {
    struct bt_server *srv;
    struct bt_app_ctx *ctx;
    struct MHD_Daemon *d;
    struct bt_listen addr;
    int port;
    /* the gate (see "the gate" below) */
    int lfd, ep, wake;
    bool gate_running;
    pthread_t gate;
    struct pending *head, *tail, *grave;
    size_t npending, gate_max;
    struct gate_addr **addrs; /* by hash of the address; naddrs buckets, a power of two */
    size_t naddrs;
    char *peek;
    size_t peek_cap;
    struct bt_arena *ga;
    struct watch *w; /* by socket; fds past nw are not watched */
    size_t nw;
    _Atomic uint32_t wgen;
    struct hup *hups; /* watched connections whose client has closed (gate thread only) */
    size_t nhups, caphups;
    struct lane lane[2]; /* the slow lane: reads, writes */
};

struct bt_server {
    const struct bt_config *config;
    struct bt_dbpool *pool;
    struct listener l[BT_MAX_APPS];
    size_t n;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    long inflight; /* requests received and not yet completed */
};

/* per-request state, kept in MHD's con_cls slot */
struct conn {
    struct bt_arena *a;
    bool started;       /* on_request has seen this request */
    bool query_refused; /* more than MAX_QUERY_PAIRS pairs: answered 400 */
    char *body;
    size_t len, cap;
    enum bt_status fail; /* BT_ETOOLARGE / BT_EHEADERS detected while receiving */
    int fail_http;       /* its HTTP status when not the code's default (414) */
    size_t discarded;    /* body bytes dropped after a failure */
    uint64_t head_ns;    /* when the headers were complete (the body's minimum rate) */
    size_t body_seen;    /* body bytes received, kept or not */
    bool answered;
    const char *raw_path; /* the target's path as sent, not percent-decoded (routing) */
    size_t raw_len;       /* the whole target's length, query included (header budget) */
    /* a slow-lane request: assembled, then run by a lane thread while suspended */
    enum { LANE_NONE, LANE_WAITING, LANE_DONE } lane;
    bool gone; /* dropped before it ran: its client had left */
    struct bt_req *rq;
    struct bt_res *rs;
    struct MHD_Connection *c;
    struct conn *next; /* in the lane's queue */
};

/* A one-arena cache per thread: steady load allocates nothing per request. MHD's
 * thread-pool mode runs a connection's callbacks on one thread, completion included. The
 * cached arena is freed by a thread-exit destructor when MHD stops its threads. */
static pthread_key_t arena_key;
static pthread_once_t arena_key_once = PTHREAD_ONCE_INIT;

static void arena_key_destroy(void *p)
{
    bt_arena_free(p);
}

static void arena_key_init(void)
{
    if (pthread_key_create(&arena_key, arena_key_destroy))
        bt_bug("pthread_key_create failed");
}

static struct bt_arena *arena_take(void)
{
    struct bt_arena *a;

    pthread_once(&arena_key_once, arena_key_init);
    a = pthread_getspecific(arena_key);
    if (a) {
        pthread_setspecific(arena_key, NULL);
        return a;
    }
    return bt_arena_new();
}

static void arena_give(struct bt_arena *a)
{
    bt_arena_reset(a);
    if (!pthread_getspecific(arena_key))
        pthread_setspecific(arena_key, a);
    else
        bt_arena_free(a);
}

static void inflight_add(struct bt_server *s, long d)
{
    pthread_mutex_lock(&s->mu);
    s->inflight += d;
    if (s->inflight == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
}

/* ---- request assembly ---- */

struct kv_collect {
    struct bt_arena *a;
    struct bt_kv *kv;
    size_t n, cap;
    size_t bytes;
    bool lower, bad;
};

static enum MHD_Result collect_kv(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct kv_collect *c = cls;
    (void)kind;

    if (c->n == c->cap) {
        c->bad = true; /* too many pairs */
        return MHD_NO;
    }
    if (!value)
        value = "";
    c->bytes += strlen(key) + strlen(value) + 4;
    if (c->lower) {
        char *k = bt_arena_strdup(c->a, key);
        for (char *p = k; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        c->kv[c->n].name = k;
        c->kv[c->n].value = value; /* MHD keeps it until the request completes */
    } else {
        if (bt_utf8_len(key, strlen(key)) < 0 || bt_utf8_len(value, strlen(value)) < 0) {
            c->bad = true;
            return MHD_NO;
        }
        c->kv[c->n].name = key;
        c->kv[c->n].value = value;
    }
    c->n++;
    return MHD_YES;
}

/* The peer's address as text; a v4-mapped peer on an IPv6 listener is written as IPv4, so
 * one client has one rate-limit key and one spelling in the log. */
static const char *addr_ip(const struct sockaddr *sa, struct bt_arena *a)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    struct bt_ipaddr ip;
    char buf[BT_IP_TEXT];

    if (!sa)
        return "";
    if (sa->sa_family == AF_INET) {
        memcpy(ip.b, mapped, 12);
        memcpy(ip.b + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        memcpy(ip.b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    } else {
        return "";
    }
    return bt_arena_strdup(a, bt_ip_format(&ip, buf));
}

static const char *peer_ip(struct MHD_Connection *c, struct bt_arena *a)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return addr_ip(ci ? ci->client_addr : NULL, a);
}

static int conn_fd(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct bt_res *rs)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (rs->file_fd >= 0) {
        r = MHD_create_response_from_fd64(rs->file_len, rs->file_fd);
        rs->file_fd = -1; /* MHD closes it */
    } else {
        r = MHD_create_response_from_buffer(rs->len, (void *)(uintptr_t)rs->body,
                                            MHD_RESPMEM_MUST_COPY);
    }
    if (!r)
        return MHD_NO;
    if (rs->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
    for (size_t i = 0; i < rs->nheaders; i++)
        MHD_add_response_header(r, rs->headers[i].name, rs->headers[i].value);
    ret = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* err in the app's envelope with the service's CORS headers, rendered to bytes in rs: for the
 * answers the glue gives itself, without the pipeline */
static void render_envelope(struct listener *l, struct bt_req *rq, struct bt_res *rs,
                            const struct bt_err *err, const char *origin)
{
    bt_pipeline_fail(l->ctx, rq, rs, err);
    bt_pipeline_cors(l->ctx, origin, rs);
    if (rs->json) {
        rs->body = bt_json_dump(rq->arena, rs->json, &rs->len);
        json_decref(rs->json);
        rs->json = NULL;
    }
}

/* The app's envelope for a failure detected before the pipeline ran, rendered into rs. */
static void render_failure(struct listener *l, struct bt_arena *a, const char *method,
                           const char *path, const char *ip, const char *origin,
                           enum bt_status code, int http, struct bt_req *rq, struct bt_res *rs)
{
    struct bt_err err;

    bt_req_init(rq, rs, a, l->ctx);
    rq->method = bt_method_parse(method);
    rq->method_str = method;
    rq->path = path;
    rq->request_id = bt_arena_printf(a, "%016llx", (unsigned long long)bt_mono_ns());
    rq->client_ip = ip;
    rq->peer_ip = ip;
    bt_err_clear(&err);
    err.code = code;
    err.http = http;
    render_envelope(l, rq, rs, &err, origin);
    bt_metrics_observe(l->ctx->metrics, -1, rs->status, bt_mono_ns() - rq->start_ns);
    bt_res_header(rs, "Connection", "close");
}

/* Answer with the app's envelope for a failure detected before the pipeline ran. */
static enum MHD_Result answer_failure(struct listener *l, struct MHD_Connection *c, struct conn *cs,
                                      const char *method, enum bt_status code, int http)
{
    struct bt_req rq;
    struct bt_res rs;

    render_failure(l, cs->a, method, cs->raw_path, peer_ip(c, cs->a),
                   MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"), code, http, &rq, &rs);
    cs->answered = true;
    return send_response(c, &rs);
}

/* the request line's share of the header budget: the whole raw target, query included */
static size_t header_bytes(const struct conn *cs, const char *method)
{
    return cs->raw_len + strlen(method) + 16;
}

/* What the framing headers say, gathered on the headers call (RFC 9112 section 6). */
struct framing {
    unsigned clen_n, te_n, host_n;
    const char *clen; /* the first Content-Length */
    bool clen_differ; /* a second Content-Length with another value */
    bool te_chunked;  /* the one Transfer-Encoding is exactly "chunked" */
};

static enum MHD_Result scan_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    struct framing *f = cls;
    (void)kind;

    if (!value)
        value = "";
    if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
        if (f->clen_n++ == 0)
            f->clen = value;
        else if (strcmp(f->clen, value))
            f->clen_differ = true;
    } else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        f->te_chunked = f->te_n++ == 0 && !strcasecmp(value, "chunked");
    } else if (!strcasecmp(key, MHD_HTTP_HEADER_HOST)) {
        f->host_n++;
    }
    return MHD_YES;
}

/* Refuse the request shapes that let two parsers disagree on where a request ends (request
 * smuggling) or that HTTP/1.1 forbids: 400 for conflicting Content-Length headers, for both
 * Content-Length and Transfer-Encoding, and for a missing or repeated Host; 501 for a
 * transfer coding other than a lone "chunked". Returns 0 when the request may proceed. */
static int framing_refusal(struct MHD_Connection *c, const char *version)
{
    struct framing f;

    memset(&f, 0, sizeof(f));
    MHD_get_connection_values(c, MHD_HEADER_KIND, scan_framing, &f);
    if (f.te_n && !f.te_chunked)
        return 501;
    if (f.clen_differ || (f.te_n && f.clen_n))
        return 400;
    if (f.host_n > 1 || (f.host_n == 0 && version && !strcmp(version, MHD_HTTP_VERSION_1_1)))
        return 400;
    return 0;
}

static enum MHD_Result sum_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    size_t *n = cls;
    (void)kind;
    *n += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

/* Called by libmicrohttpd with the raw request target, before it parses the query string;
 * its return value becomes the request's con_cls. We create the request state here and
 * count the query's pairs. libmicrohttpd 0.9.75 then splits the query in place into records
 * in the connection's pool (connection.c, parse_initial_message_line): thousands of pairs
 * would overflow the pool and it would drop the connection without an answer. So a query
 * with more than MAX_QUERY_PAIRS pairs is emptied here (the target is its writable read
 * buffer) and the request is answered 400 in the app's envelope. test_server_bb's
 * test_bad_query_strings guards this against a future libmicrohttpd that behaves otherwise. */
static void watch_state(struct listener *l, struct MHD_Connection *c, uint8_t st)
{
    int fd = conn_fd(c);
    if (fd >= 0 && (size_t)fd < l->nw)
        atomic_store(&l->w[fd].state, st);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct listener *l = cls;
    struct bt_arena *a = arena_take();
    struct conn *cs = bt_arena_alloc(a, sizeof(*cs));
    const char *q = uri ? strchr(uri, '?') : NULL;

    watch_state(l, c, W_HEAD);

    cs->a = a;
    inflight_add(l->srv, 1);
    cs->raw_path = uri ? bt_arena_strndup(a, uri, q ? (size_t)(q - uri) : strlen(uri)) : "";
    cs->raw_len = uri ? strlen(uri) : 0;
    if (q) {
        size_t pairs = 1;
        for (const char *p = q + 1; *p; p++)
            pairs += *p == '&';
        if (pairs > MAX_QUERY_PAIRS) {
            cs->query_refused = true;
            ((char *)(uintptr_t)q)[1] = '\0';
        }
    }
    return cs;
}

/* ---- the slow lane ----
 *
 * libmicrohttpd runs a request's handler on the thread that serves its connection, and each
 * of those threads serves many connections: one long list query would hold up every other
 * request on its thread. So the requests of routes flagged BT_R_SLOW are assembled as usual,
 * then queued for the listener's lane threads (BENTO_SLOW_THREADS) while their connection is
 * suspended; libmicrohttpd's threads go on serving everything else. A lane thread runs the
 * whole pipeline and resumes the connection; libmicrohttpd then calls on_request once more
 * and the answer is sent from its own thread. Lane threads yield the CPU to fast requests:
 * reads (GET, HEAD) run under SCHED_IDLE, which any other thread preempts at once when it
 * wakes (nice alone did not: the scheduler let a list query finish its time slice first, a
 * few milliseconds for every fast request behind it); writes run at nice LANE_NICE, because a
 * thread that may hold the database's write lock must not be starved by the requests that
 * wait for that lock. Each kind has its own queue and BENTO_SLOW_THREADS threads.
 *   - A request whose client has closed its connection (FIN or reset) by the time a lane
 *     thread takes it is dropped unanswered, as nginx does (its 499): nobody is left to read
 *     the answer. Its statements are guarded the same way while it runs (bt_db_guard).
 *   - At most BENTO_SLOW_QUEUE requests wait; past that the service answers 503 at once,
 *     with Retry-After, instead of queueing work nobody may wait for.
 *   - On shutdown the lane finishes what it holds before libmicrohttpd stops (a suspended
 *     connection must be resumed first). */

#define LANE_NICE 5

static bool lane_push(struct listener *l, struct MHD_Connection *c, struct conn *cs)
{
    struct lane *ln = &l->lane[cs->rq->method == BT_GET || cs->rq->method == BT_HEAD ? 0 : 1];

    pthread_mutex_lock(&ln->mu);
    if (ln->queued >= ln->cap || ln->stopping) {
        pthread_mutex_unlock(&ln->mu);
        return false;
    }
    cs->c = c;
    cs->lane = LANE_WAITING;
    cs->rq->watch_fd = cs->rq->sock_fd;
    cs->next = NULL;
    /* suspended before a lane thread can see it: it resumes only a suspended connection */
    MHD_suspend_connection(c);
    if (ln->tail)
        ln->tail->next = cs;
    else
        ln->head = cs;
    ln->tail = cs;
    ln->queued++;
    pthread_cond_signal(&ln->cv);
    pthread_mutex_unlock(&ln->mu);
    bt_metrics_lane(l->ctx->metrics, 1, 0);
    return true;
}

/* the lane is full (or stopping): the service's 503 now */
static void lane_refuse(struct listener *l, struct bt_req *rq, struct bt_res *rs)
{
    struct bt_err err;

    bt_err_clear(&err);
    bt_fail(&err, BT_EUNAVAILABLE, NULL, "the service is busy: BENTO_SLOW_QUEUE requests wait");
    rq->request_id = bt_arena_printf(rq->arena, "%016llx", (unsigned long long)bt_mono_ns());
    render_envelope(l, rq, rs, &err, bt_req_header(rq, "origin"));
    bt_res_header(rs, "Retry-After", "1");
    bt_metrics_event(l->ctx->metrics, BT_MEV_LANE_FULL);
    bt_metrics_observe(l->ctx->metrics, -1, rs->status, bt_mono_ns() - rq->start_ns);
    bt_log(BT_LOG_WARN, "request refused", "service", l->ctx->app->name, "detail",
           "slow lane full (BENTO_SLOW_QUEUE)", "client", rq->peer_ip, NULL);
}

static void *lane_run(void *arg)
{
    struct lane *ln = arg;
    struct listener *l = ln->l;

    /* lowering one's own priority needs no privilege; if refused, normal priority */
    if (ln->reads) {
        struct sched_param sp = {0};
        pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
    } else {
        setpriority(PRIO_PROCESS, (id_t)gettid(), LANE_NICE);
    }
    for (;;) {
        struct conn *cs;
        pthread_mutex_lock(&ln->mu);
        while (!ln->head && !ln->stopping)
            pthread_cond_wait(&ln->cv, &ln->mu);
        cs = ln->head;
        if (!cs) {
            pthread_mutex_unlock(&ln->mu);
            break; /* stopping, and nothing left to run */
        }
        ln->head = cs->next;
        if (!ln->head)
            ln->tail = NULL;
        ln->queued--;
        pthread_mutex_unlock(&ln->mu);

        bt_metrics_lane(l->ctx->metrics, -1, 1);
        if (bt_sock_peer_closed(cs->rq->watch_fd)) {
            cs->gone = true;
            bt_metrics_event(l->ctx->metrics, BT_MEV_GONE_DROPPED);
            bt_log(BT_LOG_INFO, "request dropped", "service", l->ctx->app->name, "detail",
                   "the client closed the connection before it ran", "method", cs->rq->method_str,
                   "path", cs->rq->path, "client", cs->rq->peer_ip, NULL);
        } else {
            bt_pipeline_run(l->ctx, cs->rq, cs->rs);
        }
        bt_metrics_lane(l->ctx->metrics, 0, -1);
        cs->lane = LANE_DONE;
        MHD_resume_connection(cs->c);
    }
    return NULL;
}

static int lane_start(struct listener *l, struct bt_err *err)
{
    unsigned n = l->srv->config->slow_threads;

    for (size_t k = 0; k < 2; k++) {
        struct lane *ln = &l->lane[k];
        ln->l = l;
        ln->reads = k == 0;
        pthread_mutex_init(&ln->mu, NULL);
        pthread_cond_init(&ln->cv, NULL);
        ln->cap = l->srv->config->slow_queue;
        ln->threads = calloc(n, sizeof(*ln->threads));
        if (!ln->threads)
            abort();
        for (; ln->nthreads < n; ln->nthreads++)
            if (pthread_create(&ln->threads[ln->nthreads], NULL, lane_run, ln))
                return bt_fail(err, BT_EUNAVAILABLE, NULL,
                               "%s: cannot start the slow lane's threads", l->ctx->app->name);
    }
    return BT_OK;
}

/* Run what the lanes hold, then end their threads: every suspended connection is resumed. */
static void lane_stop(struct listener *l)
{
    for (size_t k = 0; k < 2; k++) {
        struct lane *ln = &l->lane[k];
        if (!ln->threads)
            continue;
        pthread_mutex_lock(&ln->mu);
        ln->stopping = true;
        pthread_cond_broadcast(&ln->cv);
        pthread_mutex_unlock(&ln->mu);
        for (size_t i = 0; i < ln->nthreads; i++)
            pthread_join(ln->threads[i], NULL);
        free(ln->threads);
        ln->threads = NULL;
        pthread_cond_destroy(&ln->cv);
        pthread_mutex_destroy(&ln->mu);
    }
}

/* A body must average cfg->body_min_rate bytes per second once the grace period (the header
 * timeout) has passed; checked as each chunk arrives (a silent client meets the idle
 * timeout instead). */
static bool body_too_slow(const struct bt_config *cfg, const struct conn *cs)
{
    uint64_t ms = (bt_mono_ns() - cs->head_ns) / 1000000u;

    if (!cfg->body_min_rate || ms <= (uint64_t)cfg->header_timeout_s * 1000u)
        return false;
    return (uint64_t)cs->body_seen * 1000u < (uint64_t)cfg->body_min_rate * ms;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct listener *l = cls;
    const struct bt_config *cfg = l->srv->config;
    struct conn *cs = *con_cls;
    struct bt_req *rq;
    struct bt_res *rs;
    struct kv_collect hc, qc;
    int nh;
    (void)url; /* percent-decoded by libmicrohttpd: we route on cs->raw_path */

    if (!cs)
        return MHD_NO; /* on_uri always runs first; no state means no memory for it */
    if (cs->lane == LANE_DONE) {
        /* resumed: a lane thread has run the request (or dropped it, its client gone) */
        cs->lane = LANE_NONE;
        cs->answered = true;
        return cs->gone ? MHD_NO : send_response(c, cs->rs);
    }
    if (!cs->started) {
        /* first call: headers only */
        const char *clen;
        size_t hbytes = header_bytes(cs, method);
        int refuse;

        cs->started = true;
        cs->head_ns = bt_mono_ns();
        watch_state(l, c, W_BUSY);
        if (hbytes > cfg->max_header) {
            /* the request line alone is over the budget: the target is too long */
            cs->fail = BT_EHEADERS;
            cs->fail_http = MHD_HTTP_URI_TOO_LONG;
        }
        /* the gate counted the first request's lines; a later keep-alive request is counted here */
        if (MHD_get_connection_values(c, MHD_HEADER_KIND, sum_header, &hbytes) > HEAD_MAX_FIELDS ||
            hbytes > cfg->max_header)
            cs->fail = cs->fail ? cs->fail : BT_EHEADERS;
        refuse = framing_refusal(c, version);
        if (refuse)
            return answer_failure(l, c, cs, method, refuse == 400 ? BT_EMALFORMED : BT_EINVAL,
                                  refuse);
        clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (clen) {
            char *end;
            unsigned long long n = strtoull(clen, &end, 10);
            if (*end == '\0' && n > l->ctx->max_body) {
                /* A client waiting for "100 Continue" has sent no body yet: refuse now. One
                 * that is already sending must be drained first, or closing on unread data
                 * resets the connection and the client never sees the 413; past DRAIN_MAX we
                 * refuse now anyway. */
                const char *expect =
                    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
                if ((expect && !strcasecmp(expect, "100-continue")) || n > DRAIN_MAX)
                    return answer_failure(l, c, cs, method, BT_ETOOLARGE, 0);
                cs->fail = BT_ETOOLARGE;
            }
        }
        return MHD_YES;
    }
    if (cs->answered) {
        *upload_data_size = 0; /* discard the rest of a refused body */
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        cs->body_seen += n;
        if (body_too_slow(cfg, cs)) {
            bt_log(BT_LOG_INFO, "request refused", "service", l->ctx->app->name, "detail",
                   "request body below BENTO_BODY_MIN_RATE", "client", peer_ip(c, cs->a), NULL);
            return MHD_NO; /* 0.9.75 cannot answer in the middle of a body: close */
        }
        if (!cs->fail && cs->len + n > l->ctx->max_body)
            cs->fail = BT_ETOOLARGE;
        if (cs->fail) {
            cs->discarded += n;
            return cs->discarded > DRAIN_MAX ? MHD_NO : MHD_YES;
        }
        if (cs->len + n + 1 > cs->cap) {
            size_t cap = cs->cap ? cs->cap : 1024;
            char *p;
            while (cap < cs->len + n + 1)
                cap *= 2;
            p = bt_arena_alloc(cs->a, cap);
            if (cs->len)
                memcpy(p, cs->body, cs->len);
            cs->body = p;
            cs->cap = cap;
        }
        memcpy(cs->body + cs->len, upload_data, n);
        cs->len += n;
        cs->body[cs->len] = '\0';
        return MHD_YES;
    }
    if (cs->fail)
        return answer_failure(l, c, cs, method, cs->fail, cs->fail_http);

    /* final call: the whole request is here */
    rq = cs->rq = bt_arena_alloc(cs->a, sizeof(*rq));
    rs = cs->rs = bt_arena_alloc(cs->a, sizeof(*rs));
    bt_req_init(rq, rs, cs->a, l->ctx);
    rq->method = bt_method_parse(method);
    rq->method_str = method;
    rq->path = cs->raw_path;
    rq->body = cs->body;
    rq->body_len = cs->len;
    rq->peer_ip = peer_ip(c, cs->a);
    rq->client_ip = rq->peer_ip;
    rq->sock_fd = conn_fd(c);

    nh = MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL);
    memset(&hc, 0, sizeof(hc));
    hc.a = cs->a;
    hc.cap = nh > 0 ? (size_t)nh : 1;
    hc.kv = bt_arena_alloc(cs->a, hc.cap * sizeof(*hc.kv));
    hc.lower = true;
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_kv, &hc);
    rq->headers = hc.kv;
    rq->nheaders = hc.n;

    memset(&qc, 0, sizeof(qc));
    qc.a = cs->a;
    qc.cap = MAX_QUERY_PAIRS;
    qc.kv = bt_arena_alloc(cs->a, qc.cap * sizeof(*qc.kv));
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_kv, &qc);
    rq->query = qc.kv;
    rq->nquery = qc.n;

    if (qc.bad || cs->query_refused) {
        /* an absurd or mis-encoded query string: the app's 400, before routing */
        struct bt_err err;
        bt_err_clear(&err);
        bt_err_add_field(&err, "query", "query string is malformed or too long");
        rq->request_id = "-";
        render_envelope(l, rq, rs, &err, bt_req_header(rq, "origin"));
    } else if (bt_pipeline_slow(l->ctx, rq)) {
        if (lane_push(l, c, cs))
            return MHD_YES; /* suspended: a lane thread runs it, then resumes the connection */
        lane_refuse(l, rq, rs);
    } else {
        bt_pipeline_run(l->ctx, rq, rs);
    }
    cs->answered = true;
    return send_response(c, rs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct listener *l = cls;
    struct conn *cs = *con_cls;
    (void)toe;

    watch_state(l, c, W_IDLE);
    if (!cs)
        return;
    *con_cls = NULL;
    arena_give(cs->a); /* cs lives in its own arena */
    inflight_add(l->srv, -1);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    bt_log(BT_LOG_WARN, "http server", "detail", msg, NULL);
}

/* ---- the gate: our own listen socket and accept loop ----
 *
 * libmicrohttpd 0.9.75 gives a connection no deadline for its request line and headers (only
 * an idle timeout, reset by every byte), does not notice a client that half-closes during the
 * headers, answers a hopeless Content-Length with its own 413 written twice, and drops a
 * request whose header records overflow its per-connection pool without a word. So each
 * listener owns its socket (MHD runs with MHD_USE_NO_LISTEN_SOCKET) and one gate thread
 * accepts, then watches the new connection with MSG_PEEK (edge-triggered epoll, so the peeked
 * bytes stay in the kernel for libmicrohttpd to read) until its request line and headers are
 * complete, and only then hands it over with MHD_add_connection. In the gate:
 *   - a client that closes (FIN, RST) before its headers are complete is closed at once;
 *   - the headers have BENTO_HEADER_TIMEOUT seconds in all (408, then closed);
 *   - request line + headers over BENTO_MAX_HEADER: 414 when the request line alone does not
 *     fit, else 431; more than HEAD_MAX_FIELDS header lines: 431; a Content-Length no 64-bit
 *     number can hold: 413. Each in the service's envelope, then the connection is read to
 *     its end (LINGER_NS at most) so the client sees the answer instead of a reset;
 *   - the gate holds at most BENTO_CONN_LIMIT connections: when full, the oldest one of the
 *     address with the most connections in the gate is dropped. A client that sends its headers at
 * once never waits in the gate, so slow or stalled clients only compete with each other, and
 * libmicrohttpd's connection slots are used only by requests whose headers arrived. Later requests
 * on a keep-alive connection are read by libmicrohttpd itself and do not pass the gate
 * (docs/ARCHITECTURE.md, "The gate"). */

/* The gate's fairness: when it is full, the connection that makes room is the oldest one of
 * the address holding the most connections in the gate, so a flood from one address (or one
 * IPv6 /64, which one host commonly has) pushes out its own connections, not a slow but honest
 * client elsewhere. */
static void addr_key(const struct sockaddr_storage *ss, uint8_t key[16])
{
    memset(key, 0, 16);
    if (ss->ss_family == AF_INET6)
        memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 8);
    else if (ss->ss_family == AF_INET)
        memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
}

static size_t addr_bucket(const struct listener *l, const uint8_t key[16])
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return (size_t)(h & (l->naddrs - 1));
}

static struct gate_addr *addr_hold(struct listener *l, const struct sockaddr_storage *ss)
{
    uint8_t key[16];
    struct gate_addr *a;
    size_t b;

    addr_key(ss, key);
    b = addr_bucket(l, key);
    for (a = l->addrs[b]; a; a = a->next)
        if (!memcmp(a->key, key, 16))
            break;
    if (!a) {
        a = calloc(1, sizeof(*a));
        if (!a)
            abort();
        memcpy(a->key, key, 16);
        a->next = l->addrs[b];
        l->addrs[b] = a;
    }
    a->n++;
    return a;
}

static void addr_release(struct listener *l, struct gate_addr *a)
{
    struct gate_addr **pp;

    if (--a->n)
        return;
    for (pp = &l->addrs[addr_bucket(l, a->key)]; *pp != a; pp = &(*pp)->next)
        ;
    *pp = a->next;
    free(a);
}

/* the connection that makes room in a full gate: the oldest of the addresses holding the most */
static struct pending *gate_victim(const struct listener *l)
{
    size_t most = 0;
    struct pending *p;

    for (size_t b = 0; b < l->naddrs; b++)
        for (const struct gate_addr *a = l->addrs[b]; a; a = a->next)
            if (a->n > most)
                most = a->n;
    for (p = l->head; p && p->who->n != most; p = p->next)
        ;
    return p ? p : l->head;
}

static void pending_unlink(struct listener *l, struct pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        l->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        l->tail = p->prev;
    p->prev = p->next = NULL;
    l->npending--;
}

/* close and forget; the record itself is freed after the current batch of events */
static void pending_drop(struct listener *l, struct pending *p)
{
    pending_unlink(l, p);
    addr_release(l, p->who);
    close(p->fd); /* also leaves the epoll set */
    p->fd = -1;
    p->next = l->grave;
    l->grave = p;
}

/* the end of the header block (just past the blank line), or 0 when not there yet */
static size_t head_end(const char *b, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (b[i] != '\n')
            continue;
        if (b[i + 1] == '\n')
            return i + 2;
        if (b[i + 1] == '\r' && i + 2 < n && b[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* a Content-Length value that is all digits but does not fit in 64 bits */
static bool clen_overflows(const char *b, size_t n)
{
    static const char name[] = "content-length:";
    const char *p = b, *end = b + n;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
        if (len > sizeof(name) - 1 && !strncasecmp(p, name, sizeof(name) - 1)) {
            const char *v = p + sizeof(name) - 1, *e = p + len;
            size_t digits = 0;
            bool zeros = true; /* leading zeros do not count */
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            for (; v < e && *v >= '0' && *v <= '9'; v++) {
                zeros = zeros && *v == '0';
                digits += !zeros;
            }
            if (digits > 20 || (digits == 20 && strncmp(v - 20, "18446744073709551615", 20) > 0))
                return true;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return false;
}

/* Answer from the gate in the service's envelope, then read until the client closes. */
static void gate_refuse(struct listener *l, struct pending *p, const char *head, size_t n,
                        enum bt_status code, int http)
{
    struct bt_req rq;
    struct bt_res rs;
    struct bt_buf b;
    char method[16] = "GET", status[8];
    const char *sp = memchr(head, ' ', n);
    const char *ip = addr_ip((const struct sockaddr *)&p->ss, l->ga);

    if (sp && (size_t)(sp - head) < sizeof(method)) {
        memcpy(method, head, (size_t)(sp - head));
        method[sp - head] = '\0';
    }
    render_failure(l, l->ga, method, "", ip, NULL, code, http, &rq, &rs);
    bt_buf_init(&b, l->ga, 512 + rs.len);
    bt_buf_addf(&b, "HTTP/1.1 %d %s\r\n", rs.status, bt_http_reason(rs.status));
    if (rs.content_type)
        bt_buf_addf(&b, "Content-Type: %s\r\n", rs.content_type);
    for (size_t i = 0; i < rs.nheaders; i++)
        bt_buf_addf(&b, "%s: %s\r\n", rs.headers[i].name, rs.headers[i].value);
    bt_buf_addf(&b, "Content-Length: %zu\r\n\r\n", rs.len);
    bt_buf_add(&b, rs.body, rs.len);
    /* a small answer into an empty send buffer: one non-blocking send is enough */
    (void)!send(p->fd, b.p, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(p->fd, SHUT_WR);
    snprintf(status, sizeof(status), "%d", rs.status);
    bt_log(BT_LOG_INFO, "request refused", "service", l->ctx->app->name, "status", status, "client",
           ip, NULL);
    bt_arena_reset(l->ga);
    p->closing = true;
    p->deadline_ns = bt_mono_ns() + LINGER_NS;
    /* move to the tail: the oldest-first eviction order stays by deadline */
    pending_unlink(l, p);
    l->npending++;
    p->prev = l->tail;
    if (l->tail)
        l->tail->next = p;
    else
        l->head = p;
    l->tail = p;
}

static void gate_handover(struct listener *l, struct pending *p)
{
    int fd = p->fd;

    epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
    pending_unlink(l, p);
    addr_release(l, p->who);
    p->fd = -1;
    p->next = l->grave;
    l->grave = p;
    /* libmicrohttpd closes the socket itself when it cannot take it (its limits) */
    if (MHD_add_connection(l->d, fd, (const struct sockaddr *)&p->ss, p->sl) != MHD_YES)
        bt_log(BT_LOG_WARN, "connection refused", "service", l->ctx->app->name, "detail",
               "connection limit", NULL);
}

/* The keep-alive watch. libmicrohttpd 0.9.75 does not notice a client that half-closes while
 * it waits for a keep-alive connection's next request or reads its headers: the connection
 * stays until the idle timeout. Each connection it owns is therefore also in the gate's epoll
 * set (EPOLLRDHUP only); when the client has closed, no request is in progress and no
 * complete request is waiting unread, the gate shuts the socket down so libmicrohttpd's next
 * read fails and it frees the connection at once (watch_check). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct listener *l = cls;
    int fd = conn_fd(c);
    (void)socket_context;

    if (fd < 0 || (size_t)fd >= l->nw)
        return;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct epoll_event ev;
        uint32_t gen = atomic_fetch_add(&l->wgen, 1) + 1;
        gen &= 0x7fffffffu;
        atomic_store(&l->w[fd].state, W_BUSY);
        atomic_store(&l->w[fd].gen, gen ? gen : 1);
        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLRDHUP | EPOLLET;
        ev.data.u64 = WATCH_TAG | (uint64_t)atomic_load(&l->w[fd].gen) << 32 | (uint32_t)fd;
        epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
    } else {
        /* called before libmicrohttpd closes the socket */
        atomic_store(&l->w[fd].gen, 0);
        atomic_store(&l->w[fd].state, W_NONE);
        epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
    }
}

static void watch_event(struct listener *l, uint64_t tag)
{
    int fd = (int)(uint32_t)tag;
    uint32_t gen = (uint32_t)(tag >> 32) & 0x7fffffffu;

    if ((size_t)fd >= l->nw || atomic_load(&l->w[fd].gen) != gen)
        return; /* closed since */
    if (l->nhups == l->caphups) {
        l->caphups = l->caphups ? 2 * l->caphups : 64;
        l->hups = realloc(l->hups, l->caphups * sizeof(*l->hups));
        if (!l->hups)
            abort();
    }
    l->hups[l->nhups++] = (struct hup){.fd = fd, .gen = gen, .idle_ns = 0};
}

/* Shut down the closed-by-client connections that have had no request in progress for
 * HUP_GRACE_NS (seen twice, so a request libmicrohttpd is just reading, line then headers,
 * is never cut) and have no whole request waiting unread. Returns the poll timeout (ms) the
 * next check needs, or -1. */
static int watch_check(struct listener *l)
{
    uint64_t now = bt_mono_ns();
    size_t k = 0;

    for (size_t i = 0; i < l->nhups; i++) {
        struct hup *h = &l->hups[i];
        uint8_t st;
        if (atomic_load(&l->w[h->fd].gen) != h->gen)
            continue; /* closed: forget it */
        st = atomic_load(&l->w[h->fd].state);
        if (st != W_IDLE && st != W_HEAD) {
            h->idle_ns = 0; /* a request is being served: libmicrohttpd finishes it */
        } else if (!h->idle_ns) {
            h->idle_ns = now;
        } else if (now - h->idle_ns >= HUP_GRACE_NS) {
            ssize_t r = recv(h->fd, l->peek, l->peek_cap, MSG_PEEK | MSG_DONTWAIT);
            if (!(r > 0 && head_end(l->peek, (size_t)r))) {
                if (atomic_load(&l->w[h->fd].gen) == h->gen)
                    shutdown(h->fd, SHUT_RDWR); /* its next read fails: freed at once */
                continue;
            }
            h->idle_ns = 0; /* a whole request waits: it will be read and answered */
        }
        l->hups[k++] = *h;
    }
    l->nhups = k;
    return k ? (int)(HUP_GRACE_NS / 1000000u) : -1;
}

static void gate_event(struct listener *l, struct pending *p, uint32_t events)
{
    bool hup = events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
    ssize_t r;
    size_t n, end, lines = 0;

    if (p->fd < 0)
        return; /* dropped earlier in this batch */
    if (p->closing) {
        char sink[4096];
        while ((r = recv(p->fd, sink, sizeof(sink), 0)) > 0)
            ;
        if (r == 0 || errno != EAGAIN)
            pending_drop(l, p);
        return;
    }
    r = recv(p->fd, l->peek, l->peek_cap, MSG_PEEK);
    if (r <= 0) {
        if (r == 0 || errno != EAGAIN || hup)
            pending_drop(l, p); /* closed (or reset) before the headers were complete */
        return;
    }
    n = (size_t)r;
    end = head_end(l->peek, n);
    for (size_t i = 0; i < (end ? end : n); i++)
        lines += l->peek[i] == '\n';
    if (lines > HEAD_MAX_FIELDS + 2) {
        gate_refuse(l, p, l->peek, n, BT_EHEADERS, 0);
        return;
    }
    if (!end) {
        if (hup)
            pending_drop(l, p); /* an aborted request: free its connection now */
        else if (n >= l->peek_cap)
            gate_refuse(l, p, l->peek, n, BT_EHEADERS,
                        memchr(l->peek, '\n', n) ? 0 : MHD_HTTP_URI_TOO_LONG);
        return;
    }
    if (clen_overflows(l->peek, end)) {
        gate_refuse(l, p, l->peek, n, BT_ETOOLARGE, 0);
        return;
    }
    gate_handover(l, p);
}

static void gate_accept(struct listener *l)
{
    for (;;) {
        struct pending *p = calloc(1, sizeof(*p));
        struct epoll_event ev;

        if (!p)
            abort();
        p->sl = sizeof(p->ss);
        p->fd = accept4(l->lfd, (struct sockaddr *)&p->ss, &p->sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (p->fd < 0) {
            free(p);
            return; /* EAGAIN, or out of descriptors: the next event retries */
        }
        if (l->npending >= l->gate_max)
            pending_drop(l, gate_victim(l)); /* full: see "the gate's fairness" */
        p->who = addr_hold(l, &p->ss);
        p->deadline_ns = bt_mono_ns() + (uint64_t)l->srv->config->header_timeout_s * 1000000000ull;
        p->prev = l->tail;
        if (l->tail)
            l->tail->next = p;
        else
            l->head = p;
        l->tail = p;
        l->npending++;
        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = p;
        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, p->fd, &ev) != 0)
            pending_drop(l, p);
    }
}

/* deadlines: a request whose headers are late gets 408; a refused client's linger ends */
static int gate_expire(struct listener *l)
{
    uint64_t now = bt_mono_ns(), next = UINT64_MAX;
    struct pending *p = l->head;

    while (p) {
        struct pending *nx = p->next;
        if (p->deadline_ns <= now) {
            if (p->closing)
                pending_drop(l, p);
            else
                gate_refuse(l, p, "", 0, BT_EINVAL, 408);
        } else if (p->deadline_ns < next) {
            next = p->deadline_ns;
        }
        p = nx;
    }
    for (p = l->tail; p && p->closing; p = p->prev) /* refused just now: their linger */
        if (p->deadline_ns < next)
            next = p->deadline_ns;
    if (next == UINT64_MAX)
        return -1;
    return (int)((next - now) / 1000000u) + 1;
}

static void *gate_run(void *arg)
{
    struct listener *l = arg;
    struct epoll_event ev[GATE_EVENTS];
    int timeout = -1;

    for (;;) {
        int n = epoll_wait(l->ep, ev, GATE_EVENTS, timeout);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u64 & WATCH_TAG)
                watch_event(l, ev[i].data.u64);
            else if (ev[i].data.ptr == &l->wake)
                return NULL;
            else if (ev[i].data.ptr == l)
                gate_accept(l);
            else
                gate_event(l, ev[i].data.ptr, ev[i].events);
        }
        timeout = gate_expire(l);
        {
            int wt = watch_check(l);
            if (wt >= 0 && (timeout < 0 || wt < timeout))
                timeout = wt;
        }
        while (l->grave) {
            struct pending *p = l->grave;
            l->grave = p->next;
            free(p);
        }
    }
}

static int gate_start(struct listener *l, const struct sockaddr *sa, socklen_t sl,
                      struct bt_err *err)
{
    struct epoll_event ev;
    int one = 1;

    l->lfd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->lfd < 0)
        goto fail;
    setsockopt(l->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (sa->sa_family == AF_INET6)
        setsockopt(l->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(l->lfd, sa, sl) != 0 || listen(l->lfd, 1024) != 0)
        goto fail;
    {
        struct sockaddr_storage got;
        socklen_t gl = sizeof(got);
        if (getsockname(l->lfd, (struct sockaddr *)&got, &gl) != 0)
            goto fail;
        l->port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                                  : ((struct sockaddr_in *)&got)->sin_port);
    }
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->ep < 0 || l->wake < 0)
        goto fail;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = l;
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &ev) != 0)
        goto fail;
    ev.data.ptr = &l->wake;
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake, &ev) != 0)
        goto fail;
    l->gate_max = l->srv->config->conn_limit;
    for (l->naddrs = 64; l->naddrs < l->gate_max; l->naddrs *= 2)
        ;
    l->addrs = calloc(l->naddrs, sizeof(*l->addrs));
    if (!l->addrs)
        abort();
    l->peek_cap = l->srv->config->max_header + 2;
    l->peek = malloc(l->peek_cap);
    l->ga = bt_arena_new();
    {
        struct rlimit rl;
        l->nw = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < WATCH_MAX_FD
                    ? (size_t)rl.rlim_cur
                    : WATCH_MAX_FD;
        l->w = calloc(l->nw, sizeof(*l->w));
    }
    if (!l->peek || !l->w)
        abort();
    if (pthread_create(&l->gate, NULL, gate_run, l) != 0)
        goto fail;
    l->gate_running = true;
    return BT_OK;
fail:
    return bt_fail(err, BT_EUNAVAILABLE, NULL, "%s: cannot listen on %s:%d (%s)", l->ctx->app->name,
                   l->addr.host, l->addr.port, strerror(errno));
}

/* stop accepting: the gate thread ends, the listen socket and waiting connections close */
static void gate_stop(struct listener *l)
{
    if (l->gate_running) {
        uint64_t one = 1;
        (void)!write(l->wake, &one, sizeof(one));
        pthread_join(l->gate, NULL);
        l->gate_running = false;
    }
    while (l->head)
        pending_drop(l, l->head);
    while (l->grave) {
        struct pending *p = l->grave;
        l->grave = p->next;
        free(p);
    }
    if (l->lfd >= 0)
        close(l->lfd);
    if (l->ep >= 0)
        close(l->ep);
    if (l->wake >= 0)
        close(l->wake);
    l->lfd = l->ep = l->wake = -1;
    free(l->peek);
    free(l->addrs);
    l->addrs = NULL;
    l->peek = NULL;
    free(l->hups);
    l->hups = NULL;
    l->nhups = l->caphups = 0;
    if (l->ga)
        bt_arena_free(l->ga);
    l->ga = NULL;
}

/* ---- start and stop ---- */

static int listener_start(struct bt_server *s, struct listener *l, struct bt_err *err)
{
    const struct bt_config *cfg = s->config;
    struct sockaddr_storage ss;
    socklen_t sl;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME;
    /* libmicrohttpd keeps the request line, headers and parsed query pairs in one pool per
     * connection and zeroes it between keep-alive requests, so its size is paid on every
     * request: 64 KiB measured as fast as 16 KiB, 512 KiB halved throughput
     * (docs/PERFORMANCE.md). It must hold max_header of text plus the header records;
     * queries with absurd pair counts are kept out of it by on_uri. */
    size_t mem = cfg->max_header * 2 + 32768 < 65536 ? 65536 : cfg->max_header * 2 + 32768;

    memset(&ss, 0, sizeof(ss));
    if (strchr(l->addr.host, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)l->addr.port);
        if (inet_pton(AF_INET6, l->addr.host, &a6->sin6_addr) != 1)
            return bt_fail(err, BT_EINVAL, NULL, "%s: bad listen address %s", l->ctx->app->name,
                           l->addr.host);
        sl = sizeof(*a6);
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)l->addr.port);
        if (inet_pton(AF_INET, l->addr.host, &a4->sin_addr) != 1)
            return bt_fail(err, BT_EINVAL, NULL, "%s: bad listen address %s", l->ctx->app->name,
                           l->addr.host);
        sl = sizeof(*a4);
    }
    l->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, l, MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        cfg->conn_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_limit,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem, MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, l, MHD_OPTION_URI_LOG_CALLBACK, on_uri, l,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL, MHD_OPTION_END);
    if (!l->d)
        return bt_fail(err, BT_EUNAVAILABLE, NULL, "%s: cannot start the HTTP server (%s)",
                       l->ctx->app->name, strerror(errno));
    if (lane_start(l, err) != BT_OK)
        return err->code;
    return gate_start(l, (struct sockaddr *)&ss, sl, err);
}

static int write_port_file(const struct bt_server *s, struct bt_err *err)
{
    const char *path = s->config->port_file;
    char buf[2048];
    size_t n = 0;
    struct stat st;
    bool direct;
    char tmp[4096];
    int fd;

    for (size_t i = 0; i < s->n; i++)
        n += (size_t)snprintf(
            buf + n, sizeof(buf) - n, "%s %s %d %s\n", s->l[i].ctx->app->name, s->l[i].addr.host,
            s->l[i].port,
            s->l[i].ctx->app->mount && *s->l[i].ctx->app->mount ? s->l[i].ctx->app->mount : "/");
    /* a pipe or FIFO (tests) is written directly; a regular file atomically via rename */
    direct = !strncmp(path, "/dev/fd/", 8) || (stat(path, &st) == 0 && S_ISFIFO(st.st_mode));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(direct ? path : tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, buf, n) != (ssize_t)n) {
        if (fd >= 0)
            close(fd);
        return bt_fail(err, BT_EINTERNAL, NULL, "cannot write port file %s", path);
    }
    close(fd);
    if (!direct && rename(tmp, path) != 0)
        return bt_fail(err, BT_EINTERNAL, NULL, "cannot write port file %s", path);
    return BT_OK;
}

int bt_server_start(const struct bt_config *config, const struct bt_app *const *apps,
                    struct bt_server **out, struct bt_err *err)
{
    struct bt_server *s = calloc(1, sizeof(*s));
    int rc;

    if (!s)
        abort();
    *out = NULL;
    s->config = config;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->idle, NULL);
    rc = bt_dbpool_open(config->db_url, config->db_pool, &s->pool, err);
    if (rc != BT_OK)
        goto fail;
    for (size_t i = 0; apps[i]; i++) {
        struct listener *l;
        if (!bt_config_enabled(config, apps[i]->name))
            continue;
        if (!apps[i]->error_schema) {
            /* a served app states its whole contract: every route's response and its error
             * envelope (bt_openapi_check then holds each route to it) */
            rc = bt_fail(err, BT_EINTERNAL, NULL, "%s: no error_schema declared", apps[i]->name);
            goto fail;
        }
        l = &s->l[s->n];
        l->srv = s;
        l->lfd = l->ep = l->wake = -1;
        l->addr = bt_config_listen(config, apps[i]->name, apps[i]->default_port);
        rc = bt_app_ctx_new(apps[i], config, s->pool, &l->ctx, err);
        if (rc != BT_OK)
            goto fail;
        s->n++;
        rc = listener_start(s, l, err);
        if (rc != BT_OK)
            goto fail;
        {
            char port[16];
            snprintf(port, sizeof(port), "%d", l->port);
            bt_log_info("listening", "service", apps[i]->name, "host", l->addr.host, "port", port,
                        NULL);
        }
    }
    if (s->n == 0) {
        rc = bt_fail(err, BT_EINVAL, NULL, "no service enabled");
        goto fail;
    }
    if (config->port_file && (rc = write_port_file(s, err)) != BT_OK)
        goto fail;
    *out = s;
    return BT_OK;
fail:
    bt_server_stop(s);
    return rc;
}

void bt_server_stop(struct bt_server *s)
{
    struct timespec deadline;

    if (!s)
        return;
    /* 1. stop accepting on every listener: the gates own the listen sockets, so libmicrohttpd
     * never has one to take out of its epoll sets (the old MHD_quiesce_daemon race) */
    for (size_t i = 0; i < s->n; i++)
        gate_stop(&s->l[i]);
    /* 2. let in-flight requests finish (bounded: a stuck client must not block shutdown) */
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&s->mu);
    while (s->inflight > 0)
        if (pthread_cond_timedwait(&s->idle, &s->mu, &deadline) != 0)
            break;
    pthread_mutex_unlock(&s->mu);
    /* 3. close connections and threads, then the apps, then the database; the slow lanes
     * first, which resume every connection they hold */
    for (size_t i = 0; i < s->n; i++)
        lane_stop(&s->l[i]);
    for (size_t i = 0; i < s->n; i++) {
        if (s->l[i].d)
            MHD_stop_daemon(s->l[i].d);
        s->l[i].nw = 0;
        free(s->l[i].w); /* the keep-alive watch: libmicrohttpd has closed every connection */
    }
    for (size_t i = 0; i < s->n; i++)
        bt_app_ctx_free(s->l[i].ctx);
    if (s->pool)
        bt_dbpool_free(s->pool);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
