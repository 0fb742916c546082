/* SPDX-License-Identifier: MIT
 * test_server_bb.c - the core, black-box: the real binary on ephemeral ports. Listener,
 * caps (413/431 in the app's envelope), 404/405 with Allow, request ids, /health, /metrics,
 * /openapi.json, bad query strings, keep-alive, graceful shutdown, the CLI; /metrics read as
 * Prometheus text exposition format by a small parser (prom_parse).
 * Uses vendorchat as the app (its envelope is {"detail": ...}).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "bt_test.h"

static int setup(void **state)
{
    static const char *const env[] = {"BENTO_MAX_BODY=4096", "BENTO_CONN_TIMEOUT=2", NULL};
    *state = bt_test_proc_start("vendorchat", NULL, env);
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(bt_test_proc_stop(*state), 0); /* SIGTERM -> clean exit */
    return 0;
}

static void test_health_metrics_openapi(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};

    bt_test_http(p, "vendorchat", "GET", "/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"status\":\"ok\",\"service\":\"vendorchat\",\"database\":\"ok\"}");
    assert_non_null(bt_test_resp_header(&r, "x-request-id"));

    bt_test_http(p, "vendorchat", "GET", "/api/v1/vendors", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_test_http(p, "vendorchat", "GET", "/metrics", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(bt_test_resp_header(&r, "content-type"), "text/plain"));
    assert_non_null(strstr(r.body,
                           "bento_http_requests_total{service=\"vendorchat\",method=\"GET\","
                           "route=\"/api/v1/vendors\",status=\"200\"} 1"));
    assert_non_null(strstr(r.body, "bento_http_request_duration_seconds_bucket"));
    assert_non_null(strstr(r.body, "bento_http_requests_in_flight{service=\"vendorchat\"}"));
    assert_non_null(strstr(r.body, "bento_db_connections{service=\"vendorchat\",state=\"open\"}"));

    bt_test_http(p, "vendorchat", "GET", "/openapi.json", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"openapi\":\"3.1.0\"}");
    assert_non_null(bt_json_at(r.json, "/paths/~1api~1v1~1vendors~1{vendor_id}/get"));
    assert_non_null(bt_json_at(r.json, "/paths/~1chat~1v1~1message/post/requestBody"));
    /* aliases are listed as deprecated operations */
    bt_assert_subset(r.json, "{\"paths\":{\"/api/v1/message\":{\"post\":{\"deprecated\":true}}}}");
    bt_test_resp_release(&r);
}

/* ---- Prometheus text exposition format (version 0.0.4), read strictly ----
 * Every sample belongs to a family declared by one "# TYPE" line before it (a histogram's
 * _bucket/_sum/_count samples belong to the histogram); HELP and TYPE appear at most once per
 * family, a family's lines are contiguous, sample names and label names are valid, label
 * values are quoted with valid escapes, the value is a float (or +Inf/-Inf/NaN), and no
 * series (name plus its sorted label pairs) appears twice. Any violation fails the test. */

#define PROM_MAX 512

struct prom {
    size_t nseries;
    char *key[PROM_MAX]; /* name{sorted labels} */
    double value[PROM_MAX];
    size_t nfam;
    char *fam[PROM_MAX];
    char type[PROM_MAX][16];
    bool help[PROM_MAX], typed[PROM_MAX], closed[PROM_MAX];
};

static bool prom_name_ok(const char *s, size_t n, bool label)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = isalpha((unsigned char)c) || c == '_' || (!label && c == ':') ||
                  (i > 0 && isdigit((unsigned char)c));
        if (!ok)
            return false;
    }
    return true;
}

static size_t prom_family(struct prom *pm, const char *name, size_t n)
{
    for (size_t i = 0; i < pm->nfam; i++)
        if (strlen(pm->fam[i]) == n && !strncmp(pm->fam[i], name, n))
            return i;
    assert_true(pm->nfam < PROM_MAX);
    pm->fam[pm->nfam] = strndup(name, n);
    return pm->nfam++;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "# HELP name ..." / "# TYPE name type" */
static void prom_meta(struct prom *pm, const char *line, size_t *open_fam)
{
    bool is_help = !strncmp(line, "# HELP ", 7), is_type = !strncmp(line, "# TYPE ", 7);
    const char *name = line + 7, *end;
    size_t f;

    if (!is_help && !is_type)
        return; /* other comments are allowed */
    end = strchr(name, ' ');
    if (!end)
        fail_msg("metadata line without text: %s", line);
    if (!prom_name_ok(name, (size_t)(end - name), false))
        fail_msg("bad metric name in: %s", line);
    f = prom_family(pm, name, (size_t)(end - name));
    if (pm->closed[f])
        fail_msg("family %s appears in two places", pm->fam[f]);
    if (*open_fam != (size_t)-1 && *open_fam != f)
        pm->closed[*open_fam] = true;
    *open_fam = f;
    if (is_help) {
        if (pm->help[f])
            fail_msg("HELP twice for %s", pm->fam[f]);
        pm->help[f] = true;
        return;
    }
    if (pm->typed[f])
        fail_msg("TYPE twice for %s", pm->fam[f]);
    end++;
    if (strcmp(end, "counter") && strcmp(end, "gauge") && strcmp(end, "histogram") &&
        strcmp(end, "summary") && strcmp(end, "untyped"))
        fail_msg("unknown TYPE in: %s", line);
    snprintf(pm->type[f], sizeof(pm->type[f]), "%s", end);
    pm->typed[f] = true;
}

/* name{a="x",b="y"} value [timestamp] */
static void prom_sample(struct prom *pm, const char *line, size_t *open_fam)
{
    const char *p = line, *name = line;
    char *labels[32], *key, *endv;
    size_t nlabels = 0, nlen, f = (size_t)-1, klen;
    double v;

    while (*p && *p != '{' && *p != ' ')
        p++;
    nlen = (size_t)(p - name);
    if (!prom_name_ok(name, nlen, false))
        fail_msg("bad sample name: %s", line);
    if (*p == '{') {
        p++;
        while (*p != '}') {
            const char *ln = p, *vs;
            char buf[512];
            size_t bl = 0;
            while (*p && *p != '=')
                p++;
            if (*p != '=' || !prom_name_ok(ln, (size_t)(p - ln), true) || p[1] != '"')
                fail_msg("bad label in: %s", line);
            vs = p + 2;
            for (p = vs; *p && *p != '"'; p++) {
                if (*p == '\\') {
                    p++;
                    if (*p != '\\' && *p != '"' && *p != 'n')
                        fail_msg("bad escape in: %s", line);
                }
            }
            if (*p != '"')
                fail_msg("unterminated label value in: %s", line);
            p++;
            bl = (size_t)snprintf(buf, sizeof(buf), "%.*s", (int)(p - ln), ln);
            assert_true(bl < sizeof(buf) && nlabels < 32);
            for (size_t i = 0; i < nlabels; i++)
                if (!strncmp(labels[i], buf, (size_t)(strchr(buf, '=') - buf) + 1))
                    fail_msg("label twice in: %s", line);
            labels[nlabels++] = strdup(buf);
            if (*p == ',')
                p++;
            else if (*p != '}')
                fail_msg("bad label list in: %s", line);
        }
        p++;
    }
    if (*p != ' ')
        fail_msg("no value in: %s", line);
    p++;
    if (!strncmp(p, "+Inf", 4) || !strncmp(p, "-Inf", 4) || !strncmp(p, "NaN", 3)) {
        v = p[0] == 'N' ? NAN : (p[0] == '-' ? -INFINITY : INFINITY);
        endv = (char *)p + (p[0] == 'N' ? 3 : 4);
    } else {
        v = strtod(p, &endv);
        if (endv == p)
            fail_msg("bad value in: %s", line);
    }
    if (*endv == ' ') {
        long long ts = strtoll(endv + 1, &endv, 10);
        (void)ts;
    }
    if (*endv)
        fail_msg("trailing text in: %s", line);

    /* the family: the name itself, or a histogram/summary's base name */
    for (size_t i = 0; i < pm->nfam; i++) {
        size_t fl = strlen(pm->fam[i]);
        if (fl == nlen && !strncmp(pm->fam[i], name, nlen)) {
            f = i;
            break;
        }
        if (fl < nlen && !strncmp(pm->fam[i], name, fl) &&
            (!strcmp(pm->type[i], "histogram") || !strcmp(pm->type[i], "summary"))) {
            const char *suf = name + fl;
            size_t sl = nlen - fl;
            if ((sl == 7 && !strncmp(suf, "_bucket", 7)) || (sl == 4 && !strncmp(suf, "_sum", 4)) ||
                (sl == 6 && !strncmp(suf, "_count", 6))) {
                f = i;
                break;
            }
        }
    }
    if (f == (size_t)-1 || !pm->typed[f])
        fail_msg("sample without a TYPE line before it: %s", line);
    if (f != *open_fam)
        fail_msg("sample of %s outside its family's block: %s", pm->fam[f], line);

    qsort(labels, nlabels, sizeof(labels[0]), cmp_str);
    klen = nlen + 3;
    for (size_t i = 0; i < nlabels; i++)
        klen += strlen(labels[i]) + 1;
    key = malloc(klen);
    assert_non_null(key);
    snprintf(key, klen, "%.*s{", (int)nlen, name);
    for (size_t i = 0; i < nlabels; i++) {
        if (i)
            strcat(key, ",");
        strcat(key, labels[i]);
        free(labels[i]);
    }
    strcat(key, "}");
    for (size_t i = 0; i < pm->nseries; i++)
        if (!strcmp(pm->key[i], key))
            fail_msg("series twice: %s", key);
    assert_true(pm->nseries < PROM_MAX);
    pm->key[pm->nseries] = key;
    pm->value[pm->nseries++] = v;
}

static struct prom *prom_parse(const char *text)
{
    struct prom *pm = calloc(1, sizeof(*pm));
    char *copy = strdup(text), *save = NULL;
    size_t open_fam = (size_t)-1;

    assert_non_null(pm);
    assert_true(text[0] && text[strlen(text) - 1] == '\n'); /* every line ends with \n */
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            prom_meta(pm, line, &open_fam);
        else
            prom_sample(pm, line, &open_fam);
    }
    free(copy);
    return pm;
}

static void prom_free(struct prom *pm)
{
    for (size_t i = 0; i < pm->nseries; i++)
        free(pm->key[i]);
    for (size_t i = 0; i < pm->nfam; i++)
        free(pm->fam[i]);
    free(pm);
}

/* The value of the series key (name{labels in sorted order}); fails when absent. */
static double prom_value(const struct prom *pm, const char *key)
{
    for (size_t i = 0; i < pm->nseries; i++)
        if (!strcmp(pm->key[i], key))
            return pm->value[i];
    fail_msg("no series %s", key);
    return 0;
}

static bool prom_has_family(const struct prom *pm, const char *name)
{
    for (size_t i = 0; i < pm->nfam; i++)
        if (!strcmp(pm->fam[i], name))
            return true;
    return false;
}

static const char *prom_type(const struct prom *pm, const char *name)
{
    for (size_t i = 0; i < pm->nfam; i++)
        if (!strcmp(pm->fam[i], name))
            return pm->type[i];
    fail_msg("no family %s", name);
    return NULL;
}

/* The exposition parses; process_* metrics are there with plausible values; build info;
 * the route label is the OpenAPI path; limits are their own gauges, never a state of a usage
 * gauge. */
static void test_metrics_exposition(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};
    struct prom *pm;
    double now = (double)time(NULL), rss, vms, fds, maxfds, start;

    bt_test_http(p, "vendorchat", "GET", "/api/v1/vendors/1", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_test_http(p, "vendorchat", "GET", "/metrics", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    pm = prom_parse(r.body);

    /* process_* (the names and types of the Prometheus client libraries) */
    assert_string_equal(prom_type(pm, "process_cpu_seconds_total"), "counter");
    assert_true(prom_value(pm, "process_cpu_seconds_total{}") >= 0);
    assert_true(prom_value(pm, "process_cpu_seconds_total{}") < 3600);
    rss = prom_value(pm, "process_resident_memory_bytes{}");
    vms = prom_value(pm, "process_virtual_memory_bytes{}");
    assert_true(rss > 1024 * 1024); /* a running bento is more than 1 MiB */
    assert_true(vms > rss);         /* virtual covers resident */
    fds = prom_value(pm, "process_open_fds{}");
    maxfds = prom_value(pm, "process_max_fds{}");
    assert_true(fds >= 4); /* stdin/out/err, a listening socket, the client's connection... */
    assert_true(maxfds >= fds);
    start = prom_value(pm, "process_start_time_seconds{}");
    assert_true(start > now - 600 && start <= now + 1); /* the process started for this test */
    for (const char *const *g =
             (const char *const[]){"process_resident_memory_bytes", "process_virtual_memory_bytes",
                                   "process_open_fds", "process_max_fds",
                                   "process_start_time_seconds", NULL};
         *g; g++)
        assert_string_equal(prom_type(pm, *g), "gauge");

    /* build info */
    assert_true(prom_value(pm, "bento_build_info{service=\"vendorchat\",version=\"" BENTO_VERSION
                               "\"}") == 1);

    /* the route label is the OpenAPI path, relative to the mount */
    assert_true(prom_value(pm, "bento_http_requests_total{method=\"GET\",route=\"/api/v1/vendors/"
                               "{vendor_id}\",service=\"vendorchat\",status=\"200\"}") == 1);
    assert_true(prom_value(pm, "bento_http_request_duration_seconds_count{method=\"GET\",route=\""
                               "/api/v1/vendors/{vendor_id}\",service=\"vendorchat\"}") == 1);

    /* usage and limits apart: the pool gauge has only usage states; the limits are gauges of
     * their own, with the values this process was configured with (setup: 4096 B, 2 s) */
    assert_null(strstr(r.body, "state=\"max\""));
    assert_true(prom_value(pm, "bento_db_connections{service=\"vendorchat\",state=\"open\"}") >= 1);
    assert_true(prom_value(pm, "bento_db_connections{service=\"vendorchat\",state=\"in_use\"}") >=
                0);
    assert_true(prom_value(pm, "bento_db_pool_max_connections{service=\"vendorchat\"}") >= 1);
    assert_true(prom_value(pm, "bento_http_max_body_bytes{service=\"vendorchat\"}") == 4096);
    assert_true(prom_value(pm, "bento_http_max_header_bytes{service=\"vendorchat\"}") == 16384);
    assert_true(prom_value(pm, "bento_http_max_connections{service=\"vendorchat\"}") == 1024);
    assert_true(prom_value(pm, "bento_http_max_connections_per_client{service=\"vendorchat\"}") ==
                64);
    assert_true(prom_value(pm, "bento_http_idle_timeout_seconds{service=\"vendorchat\"}") == 2);
    /* vendorchat's read caches, one series per cache (docs/CORE-MODULES.md "Read caches");
     * the first GET of a vendor is a miss on either engine, SQLite never serves */
    for (const char *const *f =
             (const char *const[]){"bento_cache_hits_total", "bento_cache_misses_total",
                                   "bento_cache_stores_total", "bento_cache_stale_fills_total",
                                   "bento_cache_invalidations_total", "bento_cache_evictions_total",
                                   NULL};
         *f; f++)
        assert_string_equal(prom_type(pm, *f), "counter");
    for (const char *const *g = (const char *const[]){"bento_cache_entries", "bento_cache_bytes",
                                                      "bento_cache_serving", NULL};
         *g; g++)
        assert_string_equal(prom_type(pm, *g), "gauge");
    assert_true(prom_value(pm, "bento_cache_misses_total{cache=\"vendorchat_vendors\","
                               "service=\"vendorchat\"}") >= 1);
    if (!strcmp(bt_test_engine(), "sqlite"))
        assert_true(prom_value(pm, "bento_cache_serving{cache=\"vendorchat_params\","
                                   "service=\"vendorchat\"}") == 0);
    /* vendorchat's document sets no request rate: no rate-limit gauges */
    assert_false(prom_has_family(pm, "bento_rate_limit_requests"));
    assert_false(prom_has_family(pm, "bento_rate_limit_window_seconds"));
    prom_free(pm);
    bt_test_resp_release(&r);
}

/* A configured rate limit is exposed as its own two gauges. */
static void test_metrics_rate_limit_gauges(void **state)
{
    static const char *const env[] = {"BENTO_VENDORCHAT_RATE_LIMIT=7/30", NULL};
    struct bt_test_proc *p = bt_test_proc_start("vendorchat", NULL, env);
    struct bt_test_resp r = {0};
    struct prom *pm;
    (void)state;

    bt_test_http(p, "vendorchat", "GET", "/metrics", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    pm = prom_parse(r.body);
    assert_true(prom_value(pm, "bento_rate_limit_requests{service=\"vendorchat\"}") == 7);
    assert_true(prom_value(pm, "bento_rate_limit_window_seconds{service=\"vendorchat\"}") == 30);
    prom_free(pm);
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

static void test_404_405_envelopes(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};

    bt_test_http(p, "vendorchat", "GET", "/no/such/path", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    bt_assert_subset(r.json, "{\"detail\":\"Not Found\"}");
    bt_test_http(p, "vendorchat", "DELETE", "/api/v1/vendors", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 405);
    bt_assert_subset(r.json, "{\"detail\":\"Method Not Allowed\"}");
    assert_string_equal(bt_test_resp_header(&r, "allow"), "GET, POST");
    bt_test_resp_release(&r);
}

static void test_request_id_echo(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};
    static const char *const good[] = {"X-Request-Id: abc-123.x_y", NULL};
    static const char *const bad[] = {"X-Request-Id: <script>", NULL};

    bt_test_http(p, "vendorchat", "GET", "/health", good, NULL, 0, &r);
    assert_string_equal(bt_test_resp_header(&r, "x-request-id"), "abc-123.x_y");
    bt_test_http(p, "vendorchat", "GET", "/health", bad, NULL, 0, &r);
    assert_string_not_equal(bt_test_resp_header(&r, "x-request-id"), "<script>");
    assert_int_equal(strlen(bt_test_resp_header(&r, "x-request-id")), 16);
    bt_test_resp_release(&r);
}

static void test_body_cap_413(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};
    size_t n = 8192;
    char *body = malloc(n);
    char *reply;
    const char *head = "POST /api/v1/vendors HTTP/1.1\r\nHost: t\r\nContent-Type: "
                       "application/json\r\nContent-Length: 1000000\r\nExpect: "
                       "100-continue\r\n\r\n";

    memset(body, 'a', n);
    /* declared length over the cap from a client waiting for 100 Continue: refused before
     * any body is sent */
    reply = bt_test_raw(p, "vendorchat", head, strlen(head), NULL);
    assert_non_null(strstr(reply, "HTTP/1.1 413"));
    assert_non_null(strstr(reply, "{\"detail\":"));
    free(reply);
    /* a body that really is too big, sent in full without Expect: drained, then 413 */
    body[0] = '"';
    bt_test_http(p, "vendorchat", "POST", "/api/v1/vendors", NULL, body, n, &r);
    assert_int_equal(r.status, 413);
    bt_assert_subset(r.json, "{\"detail\":\"Request Entity Too Large\"}");
    /* a chunked body that grows past the cap */
    {
        char req[12000];
        int len = snprintf(req, sizeof(req),
                           "POST /api/v1/vendors HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
                           "chunked\r\n\r\n1000\r\n%.*s\r\n1000\r\n%.*s\r\n0\r\n\r\n",
                           4096, body, 4096, body);
        reply = bt_test_raw(p, "vendorchat", req, (size_t)len, NULL);
        assert_non_null(strstr(reply, "HTTP/1.1 413"));
        free(reply);
    }
    /* the server is still fine */
    bt_test_http(p, "vendorchat", "GET", "/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    free(body);
    bt_test_resp_release(&r);
}

static void test_header_cap_431(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};
    size_t n = 20000;
    char *h = malloc(n + 16);
    const char *hs[2] = {h, NULL};

    strcpy(h, "X-Big: ");
    memset(h + 7, 'b', n);
    h[7 + n] = '\0';
    /* refused by the HTTP layer before any route: no operation documents it, but the body is
     * still the app's error envelope */
    bt_test_http_unchecked(p, "vendorchat", "GET", "/health", hs, NULL, 0, &r);
    assert_int_equal(r.status, 431);
    bt_assert_subset(r.json, "{\"detail\":\"Request Header Fields Too Large\"}");
    {
        json_t *body = json_incref(r.json),
               *err_ref = json_pack("{s:s}", "$ref", "#/components/schemas/Error");
        char why[512];

        bt_test_http(p, "vendorchat", "GET", "/openapi.json", NULL, NULL, 0, &r);
        assert_int_equal(r.status, 200);
        if (bt_test_schema_validate(r.json, err_ref, body, why, sizeof why))
            fail_msg("431 body: %s", why);
        json_decref(err_ref);
        json_decref(body);
    }
    free(h);
    bt_test_resp_release(&r);
}

static void test_bad_query_strings(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};
    char *q = malloc(8000);
    size_t off;

    bt_test_http(p, "vendorchat", "GET", "/api/v1/vendors?is_active=%ff%fe", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(json_string_value(json_object_get(r.json, "detail")));
    /* thousands of pairs */
    off = (size_t)sprintf(q, "/api/v1/vendors?");
    for (int i = 0; i < 1500; i++)
        off += (size_t)sprintf(q + off, "a=%d&", i % 10);
    bt_test_http(p, "vendorchat", "GET", q, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 400);
    bt_test_http(p, "vendorchat", "GET", "/api/v1/vendors?is_active=maybe", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 400);
    free(q);
    bt_test_resp_release(&r);
}

static void test_malformed_http(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};
    char *reply = bt_test_raw(p, "vendorchat", "GARBAGE\r\n\r\n", 11, NULL);
    free(reply);
    reply = bt_test_raw(p, "vendorchat", "A B\r\n\r\n", 7, NULL);
    assert_non_null(strstr(reply, "HTTP/1.1 400"));
    free(reply);
    /* bytes that never form a request line: the idle timeout (2 s here) closes the
     * connection, nothing is answered and nothing hangs */
    reply = bt_test_raw(p, "vendorchat", "\x00\x01\x02\r\n\r\n", 7, NULL);
    assert_string_equal(reply, "");
    free(reply);
    bt_test_http(p, "vendorchat", "GET", "/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
}

static void test_keep_alive_many(void **state)
{
    struct bt_test_proc *p = *state;
    char req[4096];
    size_t off = 0, len;
    char *reply;
    int count = 0;

    for (int i = 0; i < 20; i++)
        off += (size_t)snprintf(req + off, sizeof(req) - off,
                                "GET /api/v1/vendors/1 HTTP/1.1\r\nHost: t\r\n%s\r\n",
                                i == 19 ? "Connection: close\r\n" : "");
    reply = bt_test_raw(p, "vendorchat", req, off, &len);
    for (char *s = reply; (s = strstr(s, "HTTP/1.1 200")) != NULL; s++)
        count++;
    assert_int_equal(count, 20);
    free(reply);
}

static void test_cli(void **state)
{
    char cmd[4200];
    const char *bin = getenv("BENTO_BIN");
    (void)state;
    snprintf(cmd, sizeof(cmd), "%s version | grep -q '^bento '", bin);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s --help | grep -q -- '--port-file'", bin);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s serve --services nosuch 2>/dev/null", bin);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof(cmd), "%s serve --listen vendorchat=bad:x 2>/dev/null", bin);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof(cmd), "%s openapi vendorchat | grep -q '\"openapi\": \"3.1.0\"'", bin);
    assert_int_equal(system(cmd), 0);
}

static void test_migrate_command(void **state)
{
    char cmd[4400];
    const char *bin = getenv("BENTO_BIN");
    char *url = bt_test_db_url_new();
    (void)state;
    snprintf(cmd, sizeof(cmd), "%s migrate --db '%s' | grep -q 'vendorchat: [1-9]'", bin, url);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s migrate --db '%s' | grep -q 'vendorchat: 0'", bin, url);
    assert_int_equal(system(cmd), 0);
    bt_test_db_url_release(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_health_metrics_openapi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_exposition, setup, teardown),
        cmocka_unit_test(test_metrics_rate_limit_gauges),
        cmocka_unit_test_setup_teardown(test_404_405_envelopes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_id_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_cap_413, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_cap_431, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_query_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_many, setup, teardown),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_migrate_command),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
