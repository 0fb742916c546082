/* SPDX-License-Identifier: MIT
 * fuzz_pipeline.c - whole requests through the pipeline (src/http/pipeline.c) of every
 * linked app, up to the handler: the path decoding and query parsing the server does, then
 * bt_pipeline_run: trusted-proxy resolution (X-Forwarded-For/-Proto), routing with the app's
 * real route table and mount, preflights and CORS, authentication and authorization, query
 * typing and body validation against the app's real schemas, and the app's real error
 * renderer. Only what needs a database is replaced: each route's handler answers 200 {} and
 * the authenticate hook accepts exactly "Authorization: Bearer fuzz". The input is
 *     METHOD SP URL LF
 *     Name: value LF       (headers, up to an empty line)
 *     LF
 *     body
 * Invariants: a status from 100 to 599 and never 500 (bad input gets the documented error);
 * an error status has a body; a JSON body parses; no header holds CR or LF.
 * Corpus: corpus/pipeline.
 */
#include "fuzz.h"
#include "fuzz_apps.h"

#include <bento/app.h>
#include <bento/arena.h>
#include <bento/config.h>
#include <bento/json.h>
#include <bento/log.h>
#include <bento/net.h>
#include <bento/server.h>

#include <unistd.h>

#define MAX_APPS 16

static struct bt_config config;
static struct bt_app apps[MAX_APPS];
static struct bt_app_ctx *ctxs[MAX_APPS];
static size_t napps;
static struct bt_arena *keep; /* what init allocates: lives for the process */
static bool debug;            /* FUZZ_DEBUG=1: each request and its answer on stderr */

static int handler(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    (void)rq;
    (void)err;
    return bt_res_json(rs, 200, json_object());
}

static int authenticate(struct bt_req *rq, struct bt_err *err)
{
    const char *h = bt_req_header(rq, "authorization");
    if (!h || strcmp(h, "Bearer fuzz"))
        return bt_fail(err, BT_EAUTH, NULL, "authentication required");
    static char principal[] = "fuzz";
    rq->principal = principal;
    return BT_OK;
}

static int authorize(struct bt_req *rq, unsigned access, struct bt_err *err)
{
    (void)rq;
    (void)err;
    return (access & BT_ROLE(0)) ? BT_OK : bt_fail(err, BT_EFORBIDDEN, NULL, "forbidden");
}

static void init(void)
{
    const char *why = NULL;
    struct bt_cidr *trusted = NULL;
    size_t ntrusted = 0;

    keep = bt_arena_new();
    debug = getenv("FUZZ_DEBUG") != NULL;
    bt_log_setup(BT_LOG_OFF, 2);
    FUZZ_CHECK(bt_config_defaults(&config, &why) == 0);
    config.access_log = false;
    FUZZ_CHECK(bt_cidr_list_parse(keep, "127.0.0.0/8, ::1", &trusted, &ntrusted, &why) == 0);
    config.trusted_proxies = trusted;
    config.ntrusted_proxies = ntrusted;
    for (size_t i = 0; bt_apps[i] && napps < MAX_APPS; i++) {
        const struct bt_app *real = bt_apps[i];
        struct bt_route *routes;
        size_t n = 0;
        struct bt_err err;
        char *kv;

        while (real->routes[n].path)
            n++;
        routes = calloc(n + 1, sizeof(*routes));
        FUZZ_CHECK(routes != NULL);
        for (size_t r = 0; r < n; r++) {
            routes[r] = real->routes[r];
            routes[r].handler = handler;
        }
        apps[napps] = *real;
        apps[napps].routes = routes;
        apps[napps].migrations = NULL;
        apps[napps].init = NULL;
        apps[napps].fini = NULL;
        apps[napps].check = NULL;
        apps[napps].rate.limit = 0; /* every input would soon be a 429 */
        if (real->authenticate)
            apps[napps].authenticate = authenticate;
        if (real->authorize)
            apps[napps].authorize = authorize;
        kv = bt_arena_printf(keep, "%s.cors_origins=https://app.example, http://localhost:5173, *",
                             real->name);
        FUZZ_CHECK(bt_config_add_setting(&config, kv) == 0);
        bt_err_clear(&err);
        if (bt_app_ctx_new(&apps[napps], &config, NULL, &ctxs[napps], &err) != BT_OK) {
            fprintf(stderr, "fuzz_pipeline: %s: %s\n", real->name, err.msg);
            abort();
        }
        napps++;
    }
}

static void check_response(const struct bt_res *rs)
{
    FUZZ_CHECK(rs->status >= 100 && rs->status <= 599);
    FUZZ_CHECK(rs->status != 500);
    for (size_t i = 0; i < rs->nheaders; i++)
        FUZZ_CHECK(!strpbrk(rs->headers[i].name, "\r\n") && !strpbrk(rs->headers[i].value, "\r\n"));
    if (rs->status >= 400)
        FUZZ_CHECK(rs->body && rs->len > 0);
    if (rs->body && rs->content_type && strstr(rs->content_type, "json")) {
        const char *why = NULL;
        json_t *j = bt_json_parse(rs->body, rs->len, &why);
        FUZZ_CHECK(j != NULL);
        json_decref(j);
    }
}

/* One request to one app, as src/http/server.c builds it. */
static void run(struct bt_app_ctx *ctx, const char *method, const char *url, struct bt_kv *headers,
                size_t nheaders, const char *body, size_t body_len, bool has_body)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_req rq;
    struct bt_res rs;
    const char *q = strchr(url, '?');
    const char *raw = q ? bt_arena_strndup(a, url, (size_t)(q - url)) : url;
    char *path = bt_url_decode(a, raw, strlen(raw), false);

    bt_req_init(&rq, &rs, a, ctx);
    rq.method = bt_method_parse(method);
    rq.method_str = method;
    rq.peer_ip = "127.0.0.1";
    rq.client_ip = rq.peer_ip;
    rq.local_addr = "127.0.0.1:8080";
    rq.headers = headers;
    rq.nheaders = nheaders;
    if (has_body) {
        rq.body = body;
        rq.body_len = body_len;
    }
    /* MHD decodes what it can; a path that is not UTF-8 is the routing phase's 404 */
    rq.path = path ? path : raw;
    if (q) {
        rq.raw_query = q + 1;
        if (bt_query_parse(a, q + 1, 256, &rq.query, &rq.nquery)) {
            /* the server's 400 in the app's envelope, before routing */
            struct bt_err err;
            bt_err_clear(&err);
            bt_err_add_field(&err, "query", "query string is malformed or too long");
            rq.request_id = "-";
            bt_pipeline_fail(ctx, &rq, &rs, &err);
            bt_pipeline_cors(ctx, bt_req_header(&rq, "origin"), &rs);
            if (rs.json) {
                rs.body = bt_json_dump(a, rs.json, &rs.len);
                json_decref(rs.json);
                rs.json = NULL;
            }
            check_response(&rs);
            bt_arena_free(a);
            return;
        }
    }
    bt_pipeline_run(ctx, &rq, &rs);
    if (debug)
        fprintf(stderr, "%s %s %s -> %d %.*s\n", ctx->app->name, method, url, rs.status,
                (int)(rs.len > 200 ? 200 : rs.len), rs.body ? rs.body : "");
    check_response(&rs);
    if (rs.file_fd >= 0)
        close(rs.file_fd);
    bt_arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    char *line = fuzz_line(&in, NULL);
    char *sp = strchr(line, ' ');
    const char *method = line, *url = "/";
    struct bt_kv headers[32];
    char *lines[32];
    size_t nheaders = 0, nlines = 0, body_len;
    char *body;

    if (!napps)
        init();
    if (sp) {
        *sp = '\0';
        url = sp + 1;
    }
    while (in.n && nlines < 32) {
        char *h = fuzz_line(&in, NULL);
        char *colon = strchr(h, ':');
        lines[nlines++] = h;
        if (!*h)
            break;
        if (!colon || colon == h || nheaders == 32)
            continue;
        *colon++ = '\0';
        while (*colon == ' ')
            colon++;
        for (char *c = h; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        headers[nheaders].name = h;
        headers[nheaders].value = colon;
        nheaders++;
    }
    body = fuzz_rest_str(&in, &body_len);
    for (size_t i = 0; i < napps; i++)
        run(ctxs[i], method, url, headers, nheaders, body, body_len, body_len > 0);
    free(body);
    for (size_t i = 0; i < nlines; i++)
        free(lines[i]);
    free(line);
    return 0;
}
