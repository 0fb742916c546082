/* SPDX-License-Identifier: MIT
 * pipeline.c - the request pipeline in fixed phases (nginx's phase list, Redis's
 * processCommand checks), the app running context, and the core routes every app gets.
 * Owns: client address (trusted proxies) -> route (OPTIONS: preflight) -> limit ->
 *       authenticate -> authorize -> parse/validate -> handler -> CORS -> render -> account;
 *       the per-service edge settings (cors_origins, public_url) and bt_req_base_url.
 * Must not: know any app; write an error body itself (the app's renderer does).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bento/bento.h>

#include "http/docs.h"

/* ---- app context ---- */

/* The public context plus what only the core needs. */
struct app_ctx_priv {
    struct bt_app_ctx pub;
    struct bt_route *routes; /* the app's routes followed by the core routes */
    char *public_url;        /* owns pub.public_url */
};

static int core_health(struct bt_req *rq, struct bt_res *rs, struct bt_err *err);
static int core_metrics(struct bt_req *rq, struct bt_res *rs, struct bt_err *err);
static int core_openapi(struct bt_req *rq, struct bt_res *rs, struct bt_err *err);

static const char *const health_states[] = {"ok", "degraded", NULL};
static const char *const db_states[] = {"ok", "unavailable", NULL};
static const struct bt_field health_fields[] = {
    {"status", BT_T_ENUM, BT_F_REQUIRED, .one_of = health_states,
     .desc = "ok, or degraded when the database does not answer (HTTP 503)"},
    {"service", BT_T_STR, BT_F_REQUIRED, .desc = "the service name"},
    {"version", BT_T_STR, BT_F_REQUIRED, .desc = "the bento version"},
    {"database", BT_T_ENUM, BT_F_REQUIRED, .one_of = db_states},
    BT_FIELD_END,
};
static const struct bt_schema health_resp = {"Health", health_fields, 0, false};

static const struct bt_field openapi_fields[] = {
    {"openapi", BT_T_STR, BT_F_REQUIRED, .desc = "3.1.0"},
    {"info", BT_T_OBJECT, BT_F_REQUIRED, .desc = "title and version"},
    {"servers", BT_T_ARRAY, BT_F_REQUIRED, .item_type = BT_T_OBJECT},
    {"paths", BT_T_OBJECT, BT_F_REQUIRED, .desc = "every route"},
    {"components", BT_T_OBJECT, BT_F_REQUIRED, .desc = "schemas and security schemes"},
    BT_FIELD_END,
};
static const struct bt_schema openapi_resp = {"OpenAPIDocument", openapi_fields, 0, false};

static const struct bt_route core_routes[] = {
    /* probes are not rate limited: a monitor must never be told to go away */
    {BT_GET, "/health", core_health, BT_PUBLIC, NULL, NULL, BT_R_NO_LIMIT | BT_R_DEGRADED_503,
     "liveness and database check", 200, &health_resp, 0, NULL},
    {BT_GET, "/metrics", core_metrics, BT_PUBLIC, NULL, NULL, BT_R_NO_METRICS | BT_R_NO_LIMIT,
     "Prometheus metrics", 200, NULL, 0, "text/plain"},
    {BT_GET, "/openapi.json", core_openapi, BT_PUBLIC, NULL, NULL, 0, "this OpenAPI document", 200,
     &openapi_resp, 0, NULL},
    BT_DOCS_ROUTES, /* /docs and its files (docs.c) */
};

const char *bt_app_setting(const struct bt_app_ctx *ctx, const char *key, const char *dflt)
{
    /* the settings table is the list --help prints and start-up accepts: reading a key that is
     * not in it would make a setting nobody can discover and start-up would refuse */
    if (!bt_setting_find(ctx->app, key))
        bt_bug("%s reads setting %s, which its settings table does not declare", ctx->app->name,
               key);
    return bt_config_setting(ctx->config, ctx->app->name, key, dflt);
}

int bt_app_production(const struct bt_app_ctx *ctx)
{
    return ctx->config->production;
}

void bt_app_ctx_free(struct bt_app_ctx *ctx)
{
    struct app_ctx_priv *p = (struct app_ctx_priv *)ctx;

    if (!ctx)
        return;
    if (ctx->app->fini && ctx->state)
        ctx->app->fini(ctx);
    bt_router_free(ctx->router);
    bt_metrics_free(ctx->metrics);
    bt_ratelimit_free(ctx->limiter);
    bt_loginguard_free(ctx->login);
    bt_cors_free(ctx->cors);
    free(p->public_url);
    free(p->routes);
    free(p);
}

static bool app_has_route(const struct bt_app *app, const char *path)
{
    for (const struct bt_route *r = app->routes; r->path; r++)
        if (!strcmp(r->path, path))
            return true;
    return false;
}

/* "N" (per minute) or "N/SECONDS", N >= 0, SECONDS > 0: rate_limit and login_ip_limit. */
static bool parse_rate(const char *v, unsigned *limit, unsigned *window)
{
    char extra;

    *window = 60;
    if (*v < '0' || *v > '9')
        return false;
    if (sscanf(v, "%u/%u%c", limit, window, &extra) != 2 && sscanf(v, "%u%c", limit, &extra) != 1)
        return false;
    return *window > 0;
}

/* Body cap and rate limit: the app's defaults, overridden by BENTO_<APP>_MAX_BODY and
 * BENTO_<APP>_RATE_LIMIT ("N/SECONDS", "N" per minute, "0" off). */
static int app_limits(struct bt_app_ctx *ctx, struct bt_err *err)
{
    const struct bt_app *app = ctx->app;
    struct bt_app_limit rate = app->rate;
    const char *v;

    ctx->max_body = app->max_body ? app->max_body : ctx->config->max_body;
    if ((v = bt_app_setting(ctx, "max_body", NULL)) != NULL) {
        int64_t n;
        if (bt_parse_i64(v, &n) || n < 1024 || n > (1LL << 30))
            return bt_fail(err, BT_EINVAL, NULL, "%s.max_body must be 1024..1073741824", app->name);
        ctx->max_body = (size_t)n;
    }
    if ((v = bt_app_setting(ctx, "rate_limit", NULL)) != NULL &&
        !parse_rate(v, &rate.limit, &rate.window_s))
        return bt_fail(err, BT_EINVAL, NULL, "%s.rate_limit must be N or N/SECONDS (SECONDS > 0)",
                       app->name);
    if (rate.limit > 0)
        ctx->limiter = bt_ratelimit_new(rate.limit, rate.window_s ? rate.window_s : 60, 100000);
    bt_metrics_set_limits(
        ctx->metrics, &(const struct bt_metrics_limits){
                          .max_body = ctx->max_body,
                          .max_header = ctx->config->max_header,
                          .conn_limit = ctx->config->conn_limit,
                          .per_ip_limit = ctx->config->per_ip_limit,
                          .conn_timeout_s = ctx->config->conn_timeout_s,
                          .rate_limit = rate.limit,
                          .rate_window_s = rate.limit ? (rate.window_s ? rate.window_s : 60) : 0,
                      });
    return BT_OK;
}

/* Password-login throttling (include/bento/loginguard.h): the app's rules, overridden by
 * S.login_limit, S.login_lockout and S.login_ip_limit. */
static int app_login(struct bt_app_ctx *ctx, struct bt_err *err)
{
    const struct bt_app *app = ctx->app;
    struct bt_login_rules rules;
    const char *v;
    int64_t n;

    if (!app->login)
        return BT_OK;
    rules = *app->login;
    if ((v = bt_app_setting(ctx, "login_limit", NULL)) != NULL) {
        if (bt_parse_i64(v, &n) || n < 0 || n > 1000)
            return bt_fail(err, BT_EINVAL, NULL, "%s.login_limit must be 0..1000", app->name);
        rules.fail_limit = (unsigned)n;
    }
    if ((v = bt_app_setting(ctx, "login_lockout", NULL)) != NULL) {
        if (bt_parse_i64(v, &n) || n < 1 || n > 86400)
            return bt_fail(err, BT_EINVAL, NULL, "%s.login_lockout must be 1..86400 seconds",
                           app->name);
        rules.lockout_s = (unsigned)n;
    }
    if ((v = bt_app_setting(ctx, "login_ip_limit", NULL)) != NULL &&
        !parse_rate(v, &rules.ip_limit, &rules.ip_window_s))
        return bt_fail(err, BT_EINVAL, NULL,
                       "%s.login_ip_limit must be N or N/SECONDS (SECONDS > 0)", app->name);
    /* the same bound on memory as the service's rate limit, per rule */
    ctx->login = bt_loginguard_new(&rules, 100000);
    if (!ctx->login && (rules.fail_limit || rules.ip_limit))
        return bt_fail(err, BT_EINVAL, NULL, "%s: login throttling rules are not usable",
                       app->name);
    return BT_OK;
}

/* S.public_url: an absolute http(s) URL (scheme, host, optional port, optional path prefix),
 * no user info, query or fragment; trailing slashes are dropped. NULL when it is not. */
static char *public_url_parse(const char *v)
{
    const char *host, *p;
    size_t n = strlen(v);

    if (!strncasecmp(v, "http://", 7))
        host = v + 7;
    else if (!strncasecmp(v, "https://", 8))
        host = v + 8;
    else
        return NULL;
    for (p = v; *p; p++) /* printable ASCII only: no blanks, controls or raw UTF-8 */
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' || *p == '#' ||
            *p == '\\')
            return NULL;
    p = host;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        char a6[64];
        struct in6_addr in6;
        if (!close || (size_t)(close - p - 1) >= sizeof(a6))
            return NULL;
        memcpy(a6, p + 1, (size_t)(close - p - 1));
        a6[close - p - 1] = '\0';
        if (inet_pton(AF_INET6, a6, &in6) != 1)
            return NULL;
        p = close + 1;
    } else {
        while (*p && (isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_'))
            p++;
        if (p == host)
            return NULL;
    }
    if (*p == ':') {
        long port = 0;
        const char *d = ++p;
        while (*p >= '0' && *p <= '9' && p - d < 6)
            port = port * 10 + (*p++ - '0');
        if (p == d || port < 1 || port > 65535)
            return NULL;
    }
    if (*p && *p != '/')
        return NULL; /* user info ('@') or a stray character in the authority */
    while (n > (size_t)(p - v) && v[n - 1] == '/')
        n--;
    return strndup(v, n);
}

/* CORS list and public URL, checked now so a typo stops the start, not a browser later. */
static int app_edge(struct app_ctx_priv *p, struct bt_err *err)
{
    struct bt_app_ctx *ctx = &p->pub;
    const char *name = ctx->app->name;
    const char *v;
    char why[400];

    if (bt_cors_new(bt_app_setting(ctx, "cors_origins", NULL), &ctx->cors, why, sizeof(why)))
        return bt_fail(err, BT_EINVAL, NULL, "%s.cors_origins: %s", name, why);
    if ((v = bt_app_setting(ctx, "public_url", NULL)) != NULL && *v) {
        p->public_url = public_url_parse(v);
        if (!p->public_url)
            return bt_fail(err, BT_EINVAL, NULL,
                           "%s.public_url: \"%.200s\" is not an absolute http(s) URL "
                           "(e.g. https://api.example.com or https://example.com/prefix; "
                           "no query or fragment)",
                           name, v);
        ctx->public_url = p->public_url;
    }
    return BT_OK;
}

int bt_app_ctx_new(const struct bt_app *app, const struct bt_config *config, struct bt_dbpool *pool,
                   struct bt_app_ctx **out, struct bt_err *err)
{
    struct app_ctx_priv *p = calloc(1, sizeof(*p));
    struct bt_app_ctx *ctx = &p->pub;
    size_t n = 0, k = 0;
    int rc;

    if (!p)
        abort();
    *out = NULL;
    ctx->app = app;
    ctx->config = config;
    ctx->pool = pool;
    while (app->routes[n].path)
        n++;
    p->routes = calloc(n + sizeof(core_routes) / sizeof(core_routes[0]) + 1, sizeof(*p->routes));
    if (!p->routes)
        abort();
    memcpy(p->routes, app->routes, n * sizeof(*p->routes));
    k = n;
    for (size_t i = 0; i < sizeof(core_routes) / sizeof(core_routes[0]); i++) {
        const struct bt_route *cr = &core_routes[i];
        if (!strcmp(cr->path, "/health") && (app->flags & BT_APP_OWN_HEALTH))
            continue;
        if (!strcmp(cr->path, "/metrics") && (app->flags & BT_APP_OWN_METRICS))
            continue;
        if (app_has_route(app, cr->path))
            continue;
        p->routes[k++] = *cr;
    }
    for (size_t i = 0; i < k; i++) {
        unsigned acc = p->routes[i].access;
        if (!(acc & BT_PUBLIC) && !app->authenticate) {
            bt_fail(err, BT_EINTERNAL, NULL, "%s: route %s needs auth but the app has none",
                    app->name, p->routes[i].path);
            goto fail;
        }
        if ((acc & ~0xffffu) && !app->authorize) {
            bt_fail(err, BT_EINTERNAL, NULL, "%s: route %s has roles but the app has no authorize",
                    app->name, p->routes[i].path);
            goto fail;
        }
    }
    if (bt_openapi_check(app, p->routes, k, err) != BT_OK)
        goto fail;
    ctx->router = bt_router_new(p->routes, err);
    if (!ctx->router)
        goto fail;
    ctx->metrics = bt_metrics_new(app->name, bt_router_count(ctx->router));
    if (app_limits(ctx, err) != BT_OK || app_login(ctx, err) != BT_OK || app_edge(p, err) != BT_OK)
        goto fail;
    if (pool && app->migrations) {
        struct bt_db *db = bt_dbpool_get(pool, config->db_timeout_ms, err);
        int applied = 0;
        if (!db)
            goto fail;
        rc = bt_migrate(db, app->name, app->migrations, &applied, err);
        bt_dbpool_put(pool, db);
        if (rc != BT_OK)
            goto fail;
        if (applied > 0) {
            char nbuf[16];
            snprintf(nbuf, sizeof(nbuf), "%d", applied);
            bt_log_info("migrations applied", "service", app->name, "count", nbuf, NULL);
        }
    }
    if (app->init && app->init(ctx, err) != BT_OK)
        goto fail;
    *out = ctx;
    return BT_OK;
fail:
    if (err->code == BT_OK)
        err->code = BT_EINTERNAL;
    ctx->state = NULL; /* init failed or never ran: no fini */
    bt_app_ctx_free(ctx);
    return err->code;
}

/* ---- request ids ---- */

static _Thread_local uint64_t rid_state;

static uint64_t rid_next(void)
{
    /* xorshift64*: request ids need uniqueness, not secrecy */
    if (!rid_state) {
        if (getrandom(&rid_state, sizeof(rid_state), 0) != sizeof(rid_state) || !rid_state)
            rid_state = bt_mono_ns() | 1;
    }
    rid_state ^= rid_state >> 12;
    rid_state ^= rid_state << 25;
    rid_state ^= rid_state >> 27;
    return rid_state * 0x2545F4914F6CDD1DULL;
}

static bool rid_sane(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return n > 0;
}

void bt_req_init(struct bt_req *rq, struct bt_res *rs, struct bt_arena *a, struct bt_app_ctx *ctx)
{
    memset(rq, 0, sizeof(*rq));
    memset(rs, 0, sizeof(*rs));
    rq->arena = a;
    rq->ctx = ctx;
    rq->route_index = -1;
    rq->raw_query = "";
    rq->client_ip = "";
    rq->peer_ip = "";
    rq->scheme = "http";
    rq->sock_fd = -1;
    rq->watch_fd = -1;
    rq->start_ns = bt_mono_ns();
    rs->arena = a;
    rs->file_fd = -1;
}

/* ---- database per request ---- */

struct db_lease {
    struct bt_dbpool *pool;
    struct bt_db *db;
};

static void db_lease_return(void *p)
{
    struct db_lease *l = p;
    bt_dbpool_put(l->pool, l->db); /* NULL once db_release gave it back */
    l->db = NULL;
}

/* The answer is rendered: the connection goes back now, not when the client has read it, so
 * a slow reader holds none and the client's next request finds it in the pool. The arena's
 * deferred return (for callers that never reach here) then finds nothing to do. */
static void db_release(struct bt_req *rq)
{
    enum bt_db_stop stop = rq->db ? bt_db_stopped(rq->db) : BT_DB_STOP_NONE;

    if (stop != BT_DB_STOP_NONE) {
        bt_metrics_event(rq->ctx->metrics,
                         stop == BT_DB_STOP_GONE ? BT_MEV_STOP_GONE : BT_MEV_STOP_DEADLINE);
        bt_log(BT_LOG_WARN, "statement stopped", "service", rq->ctx->app->name, "request_id",
               rq->request_id, "reason",
               stop == BT_DB_STOP_GONE ? "the client closed the connection"
                                       : "deadline (BENTO_QUERY_TIMEOUT_MS)",
               NULL);
    }
    if (rq->db_lease)
        db_lease_return(rq->db_lease);
    rq->db = NULL;
}

struct bt_db *bt_req_db(struct bt_req *rq, struct bt_err *err)
{
    struct db_lease *l;

    if (rq->db)
        return rq->db;
    if (!rq->ctx->pool) {
        bt_fail(err, BT_EUNAVAILABLE, NULL, "no database configured");
        return NULL;
    }
    rq->db = bt_dbpool_get(rq->ctx->pool, rq->ctx->config->db_timeout_ms, err);
    if (!rq->db)
        return NULL;
    bt_db_guard(rq->db, rq->ctx->config->query_timeout_ms, rq->watch_fd);
    l = bt_arena_alloc(rq->arena, sizeof(*l));
    l->pool = rq->ctx->pool;
    l->db = rq->db;
    rq->db_lease = l;
    bt_arena_defer(rq->arena, db_lease_return, l);
    return rq->db;
}

/* ---- phases ---- */

typedef int phase_fn(struct bt_app_ctx *ctx, struct bt_req *rq, struct bt_res *rs,
                     struct bt_err *err);

/* A phase that has answered the request itself (a preflight): stop, no failure. */
#define PHASE_DONE (-1)

/* OPTIONS on a path that exists (and has no OPTIONS route of its own): 204 with the path's
 * methods, plus the CORS preflight headers when the origin is allowed. Answered here, before
 * the rate limit and authentication: a browser sends preflights without credentials. The
 * `*` rule follows the route the browser asks about (Access-Control-Request-Method); a method
 * the path does not have is treated as a cookie route, so it never gets the wildcard. */
static int preflight(struct bt_app_ctx *ctx, struct bt_req *rq, struct bt_res *rs,
                     const char *allow)
{
    const char *want = bt_req_header(rq, "access-control-request-method");
    const char *origin = bt_req_header(rq, "origin");

    bt_res_header(rs, "Allow", bt_arena_printf(rq->arena, "%s, OPTIONS", allow));
    if (ctx->cors && origin && want) {
        const struct bt_route *route = NULL;
        struct bt_kv params[BT_MAX_PARAMS];
        size_t nparams;
        int index;
        const char *allow2;
        enum bt_method m = bt_method_parse(want);
        bool cookies = true;

        if (m != BT_METHOD_OTHER && m != BT_OPTIONS &&
            bt_router_match(ctx->router, rq->arena, m, rq->rel_path, &route, &index, params,
                            &nparams, &allow2) == BT_MATCH_OK)
            cookies = (route->flags & BT_R_COOKIES) != 0;
        bt_cors_preflight(ctx->cors, origin, cookies, allow,
                          bt_req_header(rq, "access-control-request-headers"), rs);
    } else if (ctx->cors) {
        /* a plain OPTIONS request: the ordinary response headers */
        bt_cors_headers(ctx->cors, origin, false, rs);
    }
    bt_res_static(rs, 204, NULL, "", 0);
    return PHASE_DONE;
}

/* The path below the app's mount, NULL when it is not under it (or not UTF-8). */
static const char *mounted_path(const struct bt_app_ctx *ctx, const char *path)
{
    const char *mount = ctx->app->mount ? ctx->app->mount : "";
    size_t mlen = strlen(mount);

    if (bt_utf8_len(path, strlen(path)) < 0)
        return NULL;
    if (!mlen)
        return path;
    if (strncmp(path, mount, mlen) || (path[mlen] && path[mlen] != '/'))
        return NULL;
    return path[mlen] ? path + mlen : "/";
}

bool bt_pipeline_slow(struct bt_app_ctx *ctx, struct bt_req *rq)
{
    const char *rel = mounted_path(ctx, rq->path), *allow;
    const struct bt_route *route;
    struct bt_kv params[BT_MAX_PARAMS];
    size_t nparams;
    int index;

    return rel &&
           bt_router_match(ctx->router, rq->arena, rq->method, rel, &route, &index, params,
                           &nparams, &allow) == BT_MATCH_OK &&
           (route->flags & BT_R_SLOW);
}

static int phase_route(struct bt_app_ctx *ctx, struct bt_req *rq, struct bt_res *rs,
                       struct bt_err *err)
{
    const char *allow = NULL;
    enum bt_match m;

    rq->rel_path = mounted_path(ctx, rq->path);
    if (!rq->rel_path)
        return bt_fail(err, BT_ENOTFOUND, NULL, NULL);
    m = bt_router_match(ctx->router, rq->arena, rq->method, rq->rel_path, &rq->route,
                        &rq->route_index, rq->params, &rq->nparams, &allow);
    if (m == BT_MATCH_NO_PATH)
        return bt_fail(err, BT_ENOTFOUND, NULL, NULL);
    if (m == BT_MATCH_NO_METHOD) {
        if (rq->method == BT_OPTIONS)
            return preflight(ctx, rq, rs, allow);
        bt_res_header(rs, "Allow", allow);
        return bt_fail(err, BT_EMETHOD, NULL, NULL);
    }
    return BT_OK;
}

static int phase_limit(struct bt_app_ctx *ctx, struct bt_req *rq, struct bt_res *rs,
                       struct bt_err *err)
{
    struct bt_ratelimit_result r;

    if (!ctx->limiter || (rq->route->flags & BT_R_NO_LIMIT))
        return BT_OK;
    bt_ratelimit_take(ctx->limiter, rq->client_ip, (int64_t)(bt_mono_ns() / 1000000u), &r);
    bt_ratelimit_headers(rs, &r);
    if (!r.allowed)
        return bt_fail(err, BT_ELIMIT, NULL, NULL);
    return BT_OK;
}

static int phase_authenticate(struct bt_app_ctx *ctx, struct bt_req *rq, struct bt_res *rs,
                              struct bt_err *err)
{
    (void)rs;
    if (rq->route->access & BT_PUBLIC)
        return BT_OK;
    return ctx->app->authenticate(rq, err);
}

static int phase_authorize(struct bt_app_ctx *ctx, struct bt_req *rq, struct bt_res *rs,
                           struct bt_err *err)
{
    (void)rs;
    if (!(rq->route->access & ~0xffffu))
        return BT_OK;
    return ctx->app->authorize(rq, rq->route->access, err);
}

/* application/json, or any type with a +json suffix, parameters allowed */
static bool json_content_type(const struct bt_req *rq)
{
    const char *ct = bt_req_header(rq, "content-type");
    size_t n;

    if (!ct)
        return false;
    n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == 16 && !strncasecmp(ct, "application/json", 16))
        return true;
    return n > 5 && !strncasecmp(ct + n - 5, "+json", 5) && !strncasecmp(ct, "application/", 12);
}

static int phase_parse(struct bt_app_ctx *ctx, struct bt_req *rq, struct bt_res *rs,
                       struct bt_err *err)
{
    const struct bt_route *rt = rq->route;
    (void)rs;

    if (rt->query) {
        json_t *q = NULL;
        int rc = bt_schema_query(rt->query, rq->query, rq->nquery, &q, err);
        rq->qjson = bt_json_own(rq->arena, q);
        if (rc != BT_OK)
            return rc;
    }
    if (rt->flags & BT_R_RAW_BODY)
        return BT_OK;
    if (rt->body || (rt->flags & BT_R_JSON_BODY)) {
        const char *why = NULL;
        json_t *j;

        if ((ctx->app->flags & BT_APP_STRICT_JSON) && !json_content_type(rq))
            return bt_fail(err, BT_EMEDIATYPE, "body", "content type must be application/json");
        if (!rq->body || rq->body_len == 0) {
            bt_err_add_field(err, "body", "request body is required");
            err->code = BT_EMALFORMED;
            return BT_EMALFORMED;
        }
        j = bt_json_parse(rq->body, rq->body_len, &why);
        if (!j) {
            bt_err_add_field(err, "body", "%s", why ? why : "invalid json");
            err->code = BT_EMALFORMED;
            return BT_EMALFORMED;
        }
        rq->json = bt_json_own(rq->arena, j);
        if (rt->body)
            return bt_schema_check(rt->body, rq->json, err);
    }
    return BT_OK;
}

static int phase_handle(struct bt_app_ctx *ctx, struct bt_req *rq, struct bt_res *rs,
                        struct bt_err *err)
{
    int rc;
    (void)ctx;

    rc = rq->route->handler(rq, rs, err);
    if (rc != BT_OK) {
        if (err->code == BT_OK)
            err->code = (enum bt_status)rc;
        return err->code;
    }
    if (rs->status == 0)
        return bt_fail(err, BT_EINTERNAL, NULL, "handler set no response");
    return BT_OK;
}

static phase_fn *const phases[] = {
    phase_route, phase_limit, phase_authenticate, phase_authorize, phase_parse, phase_handle,
};

/* ---- render and account ---- */

void bt_pipeline_fail(struct bt_app_ctx *ctx, struct bt_req *rq, struct bt_res *rs,
                      const struct bt_err *err)
{
    size_t keep = rs->nheaders; /* Allow and friends set before the failure stay */
    if (rs->json) {
        json_decref(rs->json);
        rs->json = NULL;
    }
    rs->nheaders = keep;
    ctx->app->render_error(rq, rs, err);
    if (rs->status == 0)
        rs->status = bt_err_http(err);
}

static void render(struct bt_res *rs)
{
    if (rs->json) {
        rs->body = bt_json_dump(rs->arena, rs->json, &rs->len);
        json_decref(rs->json);
        rs->json = NULL;
    }
}

/* JSON string escaping for the access log's few free-text fields */
static void log_str(struct bt_buf *b, const char *s)
{
    bt_buf_addc(b, '"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            bt_buf_addc(b, '\\');
            bt_buf_addc(b, (char)c);
        } else if (c < 0x20) {
            bt_buf_addf(b, "\\u%04x", c);
        } else {
            bt_buf_addc(b, (char)c);
        }
    }
    bt_buf_addc(b, '"');
}

static void access_log(struct bt_app_ctx *ctx, struct bt_req *rq, struct bt_res *rs,
                       const struct bt_err *err, uint64_t dur_ns)
{
    struct bt_buf b;
    char ts[32];

    if (!ctx->config->access_log || bt_log_get_level() > BT_LOG_INFO)
        return;
    bt_buf_init(&b, rq->arena, 512);
    bt_buf_addf(&b, "{\"ts\":\"%s\",\"level\":\"info\",\"msg\":\"request\",\"request_id\":",
                bt_time_fmt(bt_now_unix_us(), BT_ISO_MS_Z, ts));
    log_str(&b, rq->request_id);
    bt_buf_addf(&b, ",\"service\":\"%s\",\"method\":", ctx->app->name);
    log_str(&b, rq->method_str ? rq->method_str : bt_method_name(rq->method));
    bt_buf_adds(&b, ",\"route\":");
    log_str(&b, rq->route ? rq->route->path : NULL);
    bt_buf_addf(&b, ",\"status\":%d,\"duration_ms\":%.3f,\"bytes\":%zu,\"client\":", rs->status,
                (double)dur_ns / 1e6, rs->file_fd >= 0 ? (size_t)rs->file_len : rs->len);
    log_str(&b, rq->client_ip);
    if (rs->status >= 500 && err && err->msg[0]) {
        /* internal detail goes to the log, never to the client */
        bt_buf_adds(&b, ",\"error\":");
        log_str(&b, err->msg);
    }
    bt_buf_adds(&b, "}\n");
    /* one write: lines from several threads never interleave */
    if (write(2, b.p, b.len) < 0) {
        /* nothing sensible to do when stderr is gone */
    }
}

/* All values of a header, in arrival order, joined by commas (RFC 9110 5.3); NULL if none. */
static const char *header_joined(const struct bt_req *rq, const char *name)
{
    const char *one = NULL;
    struct bt_buf b;
    size_t count = 0;

    for (size_t i = 0; i < rq->nheaders; i++)
        if (!strcmp(rq->headers[i].name, name) && count++ == 0)
            one = rq->headers[i].value;
    if (count <= 1)
        return one;
    bt_buf_init(&b, rq->arena, 128);
    for (size_t i = 0; i < rq->nheaders; i++) {
        if (strcmp(rq->headers[i].name, name))
            continue;
        if (b.len)
            bt_buf_addc(&b, ',');
        bt_buf_adds(&b, rq->headers[i].value);
    }
    return b.p;
}

/* BENTO_TRUSTED_PROXIES: only when the TCP peer is a trusted proxy are X-Forwarded-For and
 * X-Forwarded-Proto believed; rq->client_ip then is the real client (rate limit, access log)
 * and rq->scheme what the proxy was spoken to with. */
static void resolve_client(const struct bt_app_ctx *ctx, struct bt_req *rq)
{
    const struct bt_config *c = ctx->config;
    bool via_proxy = false;

    if (!rq->peer_ip || !*rq->peer_ip)
        rq->peer_ip = rq->client_ip;
    rq->client_ip = rq->peer_ip;
    if (!c->ntrusted_proxies)
        return;
    rq->client_ip = bt_proxy_client(rq->arena, c->trusted_proxies, c->ntrusted_proxies, rq->peer_ip,
                                    header_joined(rq, "x-forwarded-for"), &via_proxy);
    if (via_proxy) {
        const char *proto = bt_proxy_proto(header_joined(rq, "x-forwarded-proto"));
        if (proto)
            rq->scheme = proto;
    }
}

void bt_pipeline_cors(struct bt_app_ctx *ctx, const char *origin, struct bt_res *rs)
{
    bt_cors_headers(ctx->cors, origin, false, rs);
}

void bt_pipeline_run(struct bt_app_ctx *ctx, struct bt_req *rq, struct bt_res *rs)
{
    struct bt_err err;
    const char *rid = bt_req_header(rq, "x-request-id");
    int rc = BT_OK;

    bt_err_clear(&err);
    resolve_client(ctx, rq);
    if (rid && rid_sane(rid)) {
        rq->request_id = rid;
    } else {
        rq->request_id = bt_arena_printf(rq->arena, "%016llx", (unsigned long long)rid_next());
    }
    bt_metrics_inflight(ctx->metrics, 1);
    for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
        rc = phases[i](ctx, rq, rs, &err);
        if (rc != BT_OK)
            break;
    }
    if (rc == PHASE_DONE) {
        rc = BT_OK; /* answered by the phase (preflight), CORS headers included */
    } else if (ctx->cors) {
        /* on errors too: a browser app must be able to read its 401 or 429 */
        bt_cors_headers(ctx->cors, bt_req_header(rq, "origin"),
                        rq->route && (rq->route->flags & BT_R_COOKIES), rs);
    }
    if (rc != BT_OK) {
        if (err.code == BT_OK)
            err.code = (enum bt_status)rc;
        bt_pipeline_fail(ctx, rq, rs, &err);
    }
    render(rs);
    db_release(rq);
    bt_res_header(rs, "X-Request-Id", rq->request_id);
    {
        uint64_t dur = bt_mono_ns() - rq->start_ns;
        if (!rq->route || !(rq->route->flags & BT_R_NO_METRICS))
            bt_metrics_observe(ctx->metrics, rq->route_index, rs->status, dur);
        bt_metrics_inflight(ctx->metrics, -1);
        access_log(ctx, rq, rs, rc != BT_OK ? &err : NULL, dur);
    }
}

/* ---- returned URLs ---- */

/* "host:port" of the local end of the request's connection: the address the client reached,
 * whatever the listener was bound to (0.0.0.0, ::, port 0). */
static const char *local_addr(struct bt_req *rq)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct bt_ipaddr ip;
    char buf[BT_IP_TEXT];
    unsigned port;

    if (rq->local_addr)
        return rq->local_addr;
    if (rq->sock_fd < 0 || getsockname(rq->sock_fd, (struct sockaddr *)&ss, &sl) != 0)
        return "localhost"; /* no socket (a tool, not a request): nothing better to say */
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;
        memcpy(ip.b, &a6->sin6_addr, 16);
        port = ntohs(a6->sin6_port);
    } else if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)&ss;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(ip.b, mapped, 12);
        memcpy(ip.b + 12, &a4->sin_addr, 4);
        port = ntohs(a4->sin_port);
    } else {
        return "localhost";
    }
    bt_ip_format(&ip, buf);
    rq->local_addr = bt_ip_is_v4(&ip) ? bt_arena_printf(rq->arena, "%s:%u", buf, port)
                                      : bt_arena_printf(rq->arena, "[%s]:%u", buf, port);
    return rq->local_addr;
}

const char *bt_req_base_url(struct bt_req *rq)
{
    if (rq->ctx->public_url)
        return rq->ctx->public_url;
    return bt_arena_printf(rq->arena, "%s://%s", rq->scheme ? rq->scheme : "http", local_addr(rq));
}

/* ---- core routes ---- */

static int core_health(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_db *db = bt_req_db(rq, err);
    int64_t one = 0;
    const char *dbstate = "ok";
    int status = 200;

    if (!db || bt_db_query_i64(db, &one, "SELECT 1", BT_NOARGS, err) != BT_OK || one != 1) {
        dbstate = "unavailable";
        status = 503;
    }
    return bt_res_json(rs, status,
                       json_pack("{s:s,s:s,s:s,s:s}", "status", status == 200 ? "ok" : "degraded",
                                 "service", rq->ctx->app->name, "version", BENTO_VERSION,
                                 "database", dbstate));
}

static int core_metrics(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    size_t len;
    char *text;
    (void)err;

    text = bt_metrics_render(rq->ctx->metrics, rq->arena, rq->ctx->router, rq->ctx->pool, &len);
    return bt_res_static(rs, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static int core_openapi(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    json_t *doc = bt_openapi_build(rq->ctx);
    if (!doc)
        return bt_fail(err, BT_EINTERNAL, NULL, "openapi generation failed");
    return bt_res_json(rs, 200, doc);
}
