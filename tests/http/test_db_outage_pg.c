/* SPDX-License-Identifier: MIT
 * test_db_outage_pg.c - issue 7, section 3 "Database outage", black-box: PostgreSQL stopped
 * under bento (pg_ctl stop -m immediate and -m fast) and started again on the same port.
 * While it is down every request, read or write, of both services gets the service's own 503
 * envelope within the pool's timeout (never a 500, never a hang) and /health answers its
 * degraded 503; once it is back, bento serves again by itself, without a restart.
 * The test runs its OWN throwaway cluster (scripts/pg-start.sh, scripts/pg-ctl.sh), so
 * stopping it disturbs no other test. PostgreSQL only: registered once, as test_db_outage_pg
 * (docs/TESTING.md, "Tiers").
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "bt_test.h"

/* bento's wait for a pooled connection in these tests; a request may take this long, plus a
 * second for the machine being busy, and no more */
#define POOL_TIMEOUT_MS 2000
#define REQUEST_BOUND_MS (POOL_TIMEOUT_MS + 1000)

static char cluster[64];  /* the cluster's directory (scripts/pg-start.sh DIR) */
static bool cluster_down; /* stopped by a test that has not started it again yet */

/* ---- the cluster ---- */

/* Run scripts/<script> with the cluster's directory and args; its exit status. */
static int cluster_run(const char *script, const char *args, char *out, size_t cap)
{
    char cmd[512];
    FILE *f;
    size_t n = 0;

    snprintf(cmd, sizeof(cmd), "'%s/scripts/%s' '%s' %s", bt_test_source_dir(), script, cluster,
             args);
    f = popen(cmd, "r");
    if (!f)
        return -1;
    if (out) {
        n = fread(out, 1, cap - 1, f);
        out[n] = '\0';
        out[strcspn(out, "\n")] = '\0';
    }
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* pg-ctl.sh: "stop immediate", "stop fast", "start"; each returns once done */
static void cluster_ctl(const char *what)
{
    if (cluster_run("pg-ctl.sh", what, NULL, 0) != 0)
        fail_msg("scripts/pg-ctl.sh %s %s failed", cluster, what);
    cluster_down = strncmp(what, "stop", 4) == 0;
}

static void cluster_stop(void)
{
    if (cluster_run("pg-stop.sh", "", NULL, 0) != 0)
        fprintf(stderr, "scripts/pg-stop.sh %s failed\n", cluster);
}

/* Start the cluster and make the harness put each fixture's schema on it. Without
 * PostgreSQL's programs the test is skipped (77), or fails when BENTO_TEST_REQUIRE_PG=1. */
static void cluster_start(void)
{
    char dsn[256];
    const char *req = getenv("BENTO_TEST_REQUIRE_PG");

    snprintf(cluster, sizeof(cluster), "/tmp/bt-outage-XXXXXX");
    if (!mkdtemp(cluster) || rmdir(cluster) != 0) {
        perror("mkdtemp");
        exit(1);
    }
    if (cluster_run("pg-start.sh", "", dsn, sizeof(dsn)) != 0 ||
        strncmp(dsn, "postgresql://", 13)) {
        fprintf(stderr, "%s: cannot start a PostgreSQL cluster of its own (scripts/pg-start.sh)\n",
                req && !strcmp(req, "1") ? "failed" : "skipped");
        cluster_stop();
        exit(req && !strcmp(req, "1") ? 1 : 77);
    }
    /* pg-start.sh trades durability for speed (synchronous_commit off); an immediate stop is
     * a crash of the server, and the writes bento acknowledged before it must survive it */
    PGconn *c = PQconnectdb(dsn);
    PGresult *res = PQexec(c, "ALTER SYSTEM SET synchronous_commit = on");
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    res = PQexec(c, "SELECT pg_reload_conf()");
    ok = ok && PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    PQfinish(c);
    if (!ok) {
        fprintf(stderr, "cannot set synchronous_commit on the test cluster\n");
        cluster_stop();
        exit(1);
    }
    setenv("BENTO_TEST_PG_DSN", dsn, 1);
    setenv("BENTO_TEST_ENGINE", "pg", 1);
}

/* ---- the requests ---- */

/* One kind of request: what it must answer while the database is up, and its 503. */
struct probe {
    const char *app, *method, *path;
    const char *body; /* printf format with one %d (a number unique per request), or NULL */
    bool auth;        /* yunshui's ADMIN token */
    int ok;           /* the status while the database is up */
    const char *down; /* a JSON subset of the 503 body */
};

static const char vc_down[] = "{\"detail\":\"處理請求失敗: 服務暫時無法使用\"}";
static const char vc_chat_down[] = "{\"detail\":\"處理聊天請求失敗: 服務暫時無法使用\"}";
static const char ys_down[] =
    "{\"success\":false,\"error\":{\"code\":\"SERVICE_UNAVAILABLE\",\"message\":"
    "\"服務暫時無法使用，請稍後再試\",\"details\":{}}}";
static const char health_down[] = "{\"status\":\"degraded\",\"database\":\"unavailable\"}";

static const char login_body[] = "{\"username\":\"admin\",\"password\":\"password123\"}";

/* the order body needs a material id: filled in by fx_new */
static char order_fmt[256];

static const struct probe probes[] = {
    {"vendorchat", "GET", "/api/v1/vendors/1", NULL, false, 200, vc_down},
    {"vendorchat", "POST", "/api/v1/vendors", "{\"code\":\"OUTAGE_%d\",\"name\":\"停機測試業者\"}",
     false, 201, vc_down},
    {"vendorchat", "POST", "/chat/v1/message", "{\"vendor_id\":1,\"message\":\"繳費日是幾號 %d\"}",
     false, 200, vc_chat_down},
    {"vendorchat", "GET", "/health", NULL, false, 200, health_down},
    {"yunshui", "GET", "/v1/materials", NULL, true, 200, ys_down},
    {"yunshui", "POST", "/v1/orders", order_fmt, true, 201, ys_down},
    {"yunshui", "POST", "/v1/auth/login", login_body, false, 200, ys_down},
    {"yunshui", "GET", "/v1/health", NULL, false, 200, health_down},
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

struct fx {
    struct bt_test_proc *p;
    char token[1024];
    json_t *docs[2]; /* vendorchat's and yunshui's OpenAPI documents, for the load threads */
};

static uint64_t now_ms(void)
{
    return bt_mono_ns() / 1000000u;
}

static void probe_body(const struct probe *pr, int n, char *out, size_t cap)
{
    if (pr->body)
        snprintf(out, cap, pr->body, n); /* NOLINT: the formats above have one %d */
    else
        out[0] = '\0';
}

/* One probe through the harness (main thread): the contract is checked by bt_test_http. */
static int probe_send(struct fx *f, const struct probe *pr, int n, struct bt_test_resp *r,
                      uint64_t *ms)
{
    char body[512], auth[1100];
    const char *headers[2] = {NULL, NULL};
    uint64_t t0 = now_ms();

    probe_body(pr, n, body, sizeof(body));
    if (pr->auth) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", f->token);
        headers[0] = auth;
    }
    bt_test_http(f->p, pr->app, pr->method, pr->path, headers, pr->body ? body : NULL,
                 pr->body ? strlen(body) : 0, r);
    *ms = now_ms() - t0;
    return r->status;
}

static struct fx *fx_new(void)
{
    /* the load logs in again and again from one address: no login throttling either */
    static const char *const env[] = {"BENTO_DB_TIMEOUT_MS=2000", "BENTO_YUNSHUI_RATE_LIMIT=0",
                                      "BENTO_YUNSHUI_LOGIN_IP_LIMIT=0", NULL};
    static const char material[] =
        "{\"name\":\"停機基材\",\"price\":1500.0000,\"stock\":100000,\"minStock\":0}";
    struct fx *f = calloc(1, sizeof(*f));
    struct bt_test_resp r = {0};
    char auth[1100];
    const char *headers[2] = {auth, NULL};

    assert_non_null(f);
    f->p = bt_test_proc_start("vendorchat,yunshui", NULL, env);
    bt_test_http(f->p, "yunshui", "POST", "/v1/auth/login", NULL, login_body, strlen(login_body),
                 &r);
    assert_int_equal(r.status, 200);
    snprintf(f->token, sizeof(f->token), "%s", bt_json_str(r.json, "/data/token"));
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", f->token);
    bt_test_http(f->p, "yunshui", "POST", "/v1/materials", headers, material, strlen(material), &r);
    assert_int_equal(r.status, 201);
    snprintf(order_fmt, sizeof(order_fmt),
             "{\"customerName\":\"停機客戶 %%d\",\"items\":[{\"materialId\":\"%s\",\"quantity\":1},"
             "{\"materialId\":\"%s\",\"quantity\":2}]}",
             bt_json_str(r.json, "/data/id"), bt_json_str(r.json, "/data/id"));
    bt_test_http(f->p, "vendorchat", "GET", "/openapi.json", NULL, NULL, 0, &r);
    f->docs[0] = json_incref(r.json);
    bt_test_http(f->p, "yunshui", "GET", "/v1/openapi.json", NULL, NULL, 0, &r);
    f->docs[1] = json_incref(r.json);
    bt_test_resp_release(&r);
    return f;
}

static int setup(void **state)
{
    *state = fx_new();
    return 0;
}

/* Also after a failed test: the cluster is started again if the test left it stopped (the
 * harness drops the fixture's schema there), and bento is stopped. */
static int teardown(void **state)
{
    struct fx *f = *state;

    if (cluster_down)
        cluster_ctl("start");
    assert_int_equal(bt_test_proc_stop(f->p), 0); /* alive, and exits cleanly */
    json_decref(f->docs[0]);
    json_decref(f->docs[1]);
    free(f);
    return 0;
}

/* Every probe answers as the database being up says. */
static void expect_up(struct fx *f, int n)
{
    struct bt_test_resp r = {0};
    uint64_t ms;

    for (size_t i = 0; i < NPROBES; i++) {
        if (probe_send(f, &probes[i], n, &r, &ms) != probes[i].ok)
            fail_msg("%s %s %s: %d (database up, %d expected): %s", probes[i].app, probes[i].method,
                     probes[i].path, r.status, probes[i].ok, r.body);
    }
    bt_test_resp_release(&r);
}

/* Every probe gets the service's 503, within the bound. */
static void expect_down(struct fx *f, int n)
{
    struct bt_test_resp r = {0};
    uint64_t ms;

    for (size_t i = 0; i < NPROBES; i++) {
        if (probe_send(f, &probes[i], n, &r, &ms) != 503)
            fail_msg("%s %s %s: %d while the database is down: %s", probes[i].app, probes[i].method,
                     probes[i].path, r.status, r.body);
        bt_assert_subset(r.json, probes[i].down);
        if (ms > REQUEST_BOUND_MS)
            fail_msg("%s %s took %llu ms while the database is down (bound %d ms)",
                     probes[i].method, probes[i].path, (unsigned long long)ms, REQUEST_BOUND_MS);
    }
    bt_test_resp_release(&r);
}

/* Down, twice (a failed reconnect must not stick), then up again: the very first request
 * after the start succeeds, because the pool found its old connections dead and drops them. */
static void outage(struct fx *f, const char *mode)
{
    char stop[32];

    expect_up(f, 1);
    snprintf(stop, sizeof(stop), "stop %s", mode);
    cluster_ctl(stop);
    expect_down(f, 2);
    expect_down(f, 3);
    cluster_ctl("start");
    expect_up(f, 4);
    expect_up(f, 5);
}

static void test_stop_immediate(void **state)
{
    outage(*state, "immediate");
}

static void test_stop_fast(void **state)
{
    outage(*state, "fast");
}

/* ---- under load ----
 * A few client threads send the probes round and round while the database goes down and
 * comes back. Threads never call cmocka (a failed assertion long-jumps on the main thread's
 * stack) nor the harness's HTTP helpers (they assert): each has its own libcurl handle and
 * records what it saw; the main thread checks everything after joining. */

#define LOAD_THREADS 4
#define LOAD_EACH 3 /* requests per thread in each phase before the next step */
#define LOAD_PHASE_MS 60000

struct rec {
    uint64_t t0, t1; /* ms */
    int probe, status, curl;
    char *body, *type; /* malloc'd */
};

struct load;

struct load_thread {
    struct load *l;
    int id;
    struct rec *recs;
    size_t n, cap;
};

struct load {
    struct fx *f;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    uint64_t mark;           /* requests that start at or after it count for the phase */
    int since[LOAD_THREADS]; /* per thread: requests started at/after mark, finished */
    struct load_thread t[LOAD_THREADS];
};

struct sink {
    char *p;
    size_t n;
};

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t add = size * nmemb;
    char *np = realloc(s->p, s->n + add + 1);

    if (!np)
        return 0;
    memcpy(np + s->n, ptr, add);
    s->p = np;
    s->n += add;
    s->p[s->n] = '\0';
    return add;
}

static void *load_run(void *arg)
{
    struct load_thread *me = arg;
    struct load *l = me->l;
    CURL *c = curl_easy_init();
    char auth[1100];

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", l->f->token);
    for (int n = 0;; n++) {
        const struct probe *pr = &probes[(size_t)(n + me->id) % NPROBES];
        struct curl_slist *hl = NULL;
        struct sink s = {NULL, 0};
        char url[256], body[512];
        long status = 0;
        char *type = NULL;
        struct rec rec;
        bool counts;

        pthread_mutex_lock(&l->mu);
        if (l->stop) {
            pthread_mutex_unlock(&l->mu);
            break;
        }
        uint64_t mark = l->mark;
        pthread_mutex_unlock(&l->mu);

        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", bt_test_proc_port(l->f->p, pr->app),
                 pr->path);
        probe_body(pr, 1000000 * (me->id + 1) + n, body, sizeof(body));
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, pr->method);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L); /* a hang shows as a timeout */
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
        if (pr->auth)
            hl = curl_slist_append(hl, auth);
        if (pr->body) {
            hl = curl_slist_append(hl, "Content-Type: application/json");
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        rec.t0 = now_ms();
        rec.curl = (int)curl_easy_perform(c);
        rec.t1 = now_ms();
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
        rec.type = strdup(type ? type : "");
        curl_slist_free_all(hl);
        rec.probe = (int)((size_t)(n + me->id) % NPROBES);
        rec.status = (int)status;
        rec.body = s.p ? s.p : strdup("");

        if (me->n == me->cap) {
            me->cap = me->cap ? me->cap * 2 : 256;
            me->recs = realloc(me->recs, me->cap * sizeof(*me->recs));
            if (!me->recs)
                abort();
        }
        me->recs[me->n++] = rec;
        counts = rec.t0 >= mark;
        pthread_mutex_lock(&l->mu);
        if (counts && l->mark == mark)
            l->since[me->id]++;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
    }
    curl_easy_cleanup(c);
    return NULL;
}

/* A new phase starts now; *at gets its start. */
static void load_mark(struct load *l, uint64_t *at)
{
    pthread_mutex_lock(&l->mu);
    l->mark = *at = now_ms();
    memset(l->since, 0, sizeof(l->since));
    pthread_mutex_unlock(&l->mu);
}

/* Wait until every thread finished LOAD_EACH requests started in this phase; false when
 * that takes longer than LOAD_PHASE_MS (some request hangs). */
static bool load_wait(struct load *l)
{
    struct timespec until;
    bool all = false;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += LOAD_PHASE_MS / 1000;
    pthread_mutex_lock(&l->mu);
    while (!all) {
        all = true;
        for (int i = 0; i < LOAD_THREADS; i++)
            all = all && l->since[i] >= LOAD_EACH;
        if (!all && pthread_cond_timedwait(&l->cv, &l->mu, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&l->mu);
    return all;
}

static void test_under_load(void **state)
{
    struct load *l = calloc(1, sizeof(*l));
    pthread_t th[LOAD_THREADS];
    uint64_t down_begin, down, up_begin, up;
    bool phases[3];
    size_t total = 0, n503 = 0, nok = 0;

    assert_non_null(l);
    l->f = *state;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    for (int i = 0; i < LOAD_THREADS; i++) {
        l->t[i].l = l;
        l->t[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, load_run, &l->t[i]), 0);
    }
    phases[0] = load_wait(l);
    down_begin = now_ms();
    cluster_ctl("stop immediate");
    load_mark(l, &down);
    phases[1] = load_wait(l);
    up_begin = now_ms();
    cluster_ctl("start");
    load_mark(l, &up);
    phases[2] = load_wait(l);
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; i < LOAD_THREADS; i++)
        pthread_join(th[i], NULL);
    assert_true(phases[0]);
    assert_true(phases[1]);
    assert_true(phases[2]);

    for (int i = 0; i < LOAD_THREADS; i++) {
        for (size_t k = 0; k < l->t[i].n; k++) {
            const struct rec *rc = &l->t[i].recs[k];
            const struct probe *pr = &probes[rc->probe];
            const json_t *doc = l->f->docs[strcmp(pr->app, "vendorchat") ? 1 : 0];
            char why[1024];

            total++;
            if (rc->curl != CURLE_OK)
                fail_msg("%s %s: %s after %llu ms", pr->method, pr->path,
                         curl_easy_strerror((CURLcode)rc->curl),
                         (unsigned long long)(rc->t1 - rc->t0));
            if (rc->t1 - rc->t0 > REQUEST_BOUND_MS)
                fail_msg("%s %s took %llu ms (bound %d ms)", pr->method, pr->path,
                         (unsigned long long)(rc->t1 - rc->t0), REQUEST_BOUND_MS);
            if (bt_test_contract_check(doc, pr->method, pr->path, rc->status, rc->type, rc->body,
                                       strlen(rc->body), why, sizeof(why)))
                fail_msg("contract: %s", why);
            /* the database was surely down for the whole request, or surely up */
            if (rc->t0 >= down && rc->t1 <= up_begin && rc->status != 503)
                fail_msg("%s %s: %d while the database was down: %s", pr->method, pr->path,
                         rc->status, rc->body);
            if ((rc->t0 >= up || rc->t1 <= down_begin) && rc->status != pr->ok)
                fail_msg("%s %s: %d while the database was up: %s", pr->method, pr->path,
                         rc->status, rc->body);
            /* across a stop or a start: one or the other, never a 500 */
            if (rc->status != 503 && rc->status != pr->ok)
                fail_msg("%s %s: %d across the outage: %s", pr->method, pr->path, rc->status,
                         rc->body);
            n503 += rc->status == 503;
            nok += rc->status == pr->ok;
            free(rc->body);
            free(rc->type);
        }
        free(l->t[i].recs);
    }
    print_message("%zu requests: %zu answered, %zu got 503\n", total, nok, n503);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stop_immediate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_fast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_under_load, setup, teardown),
    };
    int failed;

    cluster_start();
    bt_test_engine();
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    cluster_stop();
    return failed;
}
