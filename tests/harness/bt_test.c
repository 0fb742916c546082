/* SPDX-License-Identifier: MIT
 * bt_test.c - the test harness: in-process apps, the real binary on ephemeral ports, a fake
 * upstream HTTP server, and JSON subset assertions. See bt_test.h for the contract.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bt_test.h"

/* ---- responses ---- */

void bt_test_resp_release(struct bt_test_resp *r)
{
    if (!r)
        return;
    free(r->body);
    json_decref(r->json);
    for (size_t i = 0; i < r->nheaders; i++) {
        free((char *)(uintptr_t)r->headers[i].name);
        free((char *)(uintptr_t)r->headers[i].value);
    }
    free(r->headers);
    memset(r, 0, sizeof(*r));
}

const char *bt_test_resp_header(const struct bt_test_resp *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strcasecmp(r->headers[i].name, name))
            return r->headers[i].value;
    return NULL;
}

static char *read_file_all(const char *path, size_t *n);
static void resp_add_header(struct bt_test_resp *r, const char *name, size_t nlen,
                            const char *value, size_t vlen)
{
    struct bt_kv *h = realloc(r->headers, (r->nheaders + 1) * sizeof(*h));
    char *n = strndup(name, nlen);
    assert_non_null(h);
    assert_non_null(n);
    for (char *p = n; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    r->headers = h;
    h[r->nheaders].name = n;
    h[r->nheaders].value = strndup(value, vlen);
    r->nheaders++;
}

static void resp_set_body(struct bt_test_resp *r, const char *p, size_t n)
{
    r->body = malloc(n + 1);
    assert_non_null(r->body);
    if (n)
        memcpy(r->body, p, n);
    r->body[n] = '\0';
    r->len = n;
    r->json = json_loadb(r->body, n, JSON_DECODE_ANY, NULL);
}

/* ---- engine ---- */

const char *bt_test_engine(void)
{
    const char *e = getenv("BENTO_TEST_ENGINE");

    if (!e || !*e || !strcmp(e, "sqlite"))
        return "sqlite";
    if (strcmp(e, "pg")) {
        fprintf(stderr, "BENTO_TEST_ENGINE must be sqlite or pg\n");
        exit(1);
    }
    if (!getenv("BENTO_TEST_PG_DSN") || !*getenv("BENTO_TEST_PG_DSN")) {
        const char *req = getenv("BENTO_TEST_REQUIRE_PG");
        if (req && !strcmp(req, "1")) {
            fprintf(stderr, "pg engine required but BENTO_TEST_PG_DSN is not set\n");
            exit(1);
        }
        fprintf(stderr, "skipped: BENTO_TEST_PG_DSN is not set\n");
        exit(77);
    }
    return "pg";
}

static atomic_uint schema_seq;

/* the schema name is carried in the URL we return; recover it for DROP */
static const char *url_schema(const char *url)
{
    const char *p = strstr(url, "search_path%3D");
    return p ? p + strlen("search_path%3D") : NULL;
}

static void pg_admin(const char *sql)
{
    PGconn *c = PQconnectdb(getenv("BENTO_TEST_PG_DSN"));
    PGresult *res;

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pg: %s", PQerrorMessage(c));
        PQfinish(c);
        fail_msg("cannot connect to BENTO_TEST_PG_DSN");
    }
    res = PQexec(c, "SET client_min_messages = warning");
    PQclear(res);
    res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "pg: %s: %s", sql, PQerrorMessage(c));
        PQclear(res);
        PQfinish(c);
        fail_msg("pg admin statement failed");
    }
    PQclear(res);
    PQfinish(c);
}

char *bt_test_db_url_new(void)
{
    char *url;

    if (!strcmp(bt_test_engine(), "pg")) {
        const char *dsn = getenv("BENTO_TEST_PG_DSN");
        char schema[64], sql[128];
        unsigned rnd = (unsigned)(bt_mono_ns() & 0xffffff);
        snprintf(schema, sizeof(schema), "bt_%d_%u_%u", (int)getpid(),
                 atomic_fetch_add(&schema_seq, 1), rnd);
        snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", schema);
        pg_admin(sql);
        assert_true(asprintf(&url, "%s%soptions=-csearch_path%%3D%s", dsn,
                             strchr(dsn, '?') ? "&" : "?", schema) > 0);
    } else {
        char dir[] = "/tmp/bt-test-XXXXXX";
        assert_non_null(mkdtemp(dir));
        assert_true(asprintf(&url, "sqlite:%s/test.db", dir) > 0);
    }
    return url;
}

int bt_test_dbfix_open(struct bt_test_dbfix *f, unsigned size)
{
    struct bt_err err;

    f->url = bt_test_db_url_new();
    if (bt_dbpool_open(f->url, size, &f->pool, &err) != BT_OK) {
        fprintf(stderr, "pool: %s\n", err.msg);
        return -1;
    }
    return 0;
}

void bt_test_dbfix_close(struct bt_test_dbfix *f)
{
    bt_dbpool_free(f->pool);
    bt_test_db_url_release(f->url);
}

void bt_test_db_url_release(char *url)
{
    if (!url)
        return;
    if (!strncmp(url, "sqlite:", 7)) {
        char *path = url + 7, *slash = strrchr(path, '/');
        char f[4200];
        const char *sfx[] = {"", "-wal", "-shm", "-journal"};
        for (size_t i = 0; i < 4; i++) {
            snprintf(f, sizeof(f), "%s%s", path, sfx[i]);
            unlink(f);
        }
        if (slash) {
            *slash = '\0';
            rmdir(path);
        }
    } else if (url_schema(url)) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", url_schema(url));
        pg_admin(sql);
    }
    free(url);
}

/* ---- handler tier ---- */

struct bt_test_app {
    struct bt_config cfg;
    char *url;
    struct bt_dbpool *pool;
    struct bt_app_ctx *ctx;
    json_t *doc; /* the app's OpenAPI document, built on the first request */
};

struct bt_test_app *bt_test_app_new(const struct bt_app *app, const char *const *settings)
{
    struct bt_test_app *t = calloc(1, sizeof(*t));
    const char *why = NULL;
    struct bt_err err;

    assert_non_null(t);
    bt_err_clear(&err);
    assert_int_equal(bt_config_defaults(&t->cfg, &why), 0);
    t->cfg.access_log = false;
    for (size_t i = 0; settings && settings[i]; i++) {
        char *kv;
        assert_true(asprintf(&kv, "%s.%s", app->name, settings[i]) > 0);
        assert_int_equal(bt_config_add_setting(&t->cfg, kv), 0);
        free(kv);
    }
    {
        /* the same check as bento's start-up: an undeclared setting fails the test */
        const struct bt_app *apps[2] = {app, NULL};
        struct bt_config_problems probs;
        if (bt_config_check_settings(&t->cfg, apps, &probs) > 0)
            fail_msg("settings of %s: %s", app->name, probs.msg[0]);
    }
    t->url = bt_test_db_url_new();
    t->cfg.db_url = t->url;
    if (bt_dbpool_open(t->url, 4, &t->pool, &err) != BT_OK)
        fail_msg("db open: %s", err.msg);
    if (bt_app_ctx_new(app, &t->cfg, t->pool, &t->ctx, &err) != BT_OK)
        fail_msg("app start: %s", err.msg);
    return t;
}

void bt_test_app_free(struct bt_test_app *t)
{
    if (!t)
        return;
    json_decref(t->doc);
    bt_app_ctx_free(t->ctx);
    bt_dbpool_free(t->pool);
    bt_test_db_url_release(t->url);
    bt_config_release(&t->cfg);
    free(t);
}

struct bt_app_ctx *bt_test_ctx(struct bt_test_app *t)
{
    return t->ctx;
}

struct bt_db *bt_test_db_get(struct bt_test_app *t)
{
    struct bt_err err;
    struct bt_db *db = bt_dbpool_get(t->pool, 5000, &err);
    if (!db)
        fail_msg("db get: %s", err.msg);
    return db;
}

void bt_test_db_put(struct bt_test_app *t, struct bt_db *db)
{
    bt_dbpool_put(t->pool, db);
    /* what the test wrote is what another instance would write: wait, as a handler does
     * after its commit, until this process's read caches have heard of it */
    bt_cache_sync(t->pool);
}

void bt_test_request_raw(struct bt_test_app *t, const char *method, const char *path,
                         const char *const *headers, const void *body, size_t n,
                         struct bt_test_resp *r)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_req rq;
    struct bt_res rs;
    const char *q = strchr(path, '?');
    size_t nh = 0;
    bool has_ct = false, prerouted = false;

    bt_test_resp_release(r);
    bt_req_init(&rq, &rs, a, t->ctx);
    rq.method = bt_method_parse(method);
    rq.method_str = method;
    /* no socket: the peer is loopback and the listener the app's default port */
    rq.peer_ip = "127.0.0.1";
    rq.client_ip = rq.peer_ip;
    rq.local_addr = bt_arena_printf(a, "127.0.0.1:%u", (unsigned)t->ctx->app->default_port);
    {
        /* the server hands the pipeline a percent-decoded path (MHD does it); so do we */
        const char *raw = q ? bt_arena_strndup(a, path, (size_t)(q - path)) : path;
        char *dec = bt_url_decode(a, raw, strlen(raw), false);
        rq.path = dec ? dec : raw;
    }
    if (q) {
        rq.raw_query = q + 1;
        if (bt_query_parse(a, q + 1, 256, &rq.query, &rq.nquery)) {
            /* the server answers a malformed query with the app's 400 before routing */
            struct bt_err err;
            bt_err_clear(&err);
            bt_err_add_field(&err, "query", "query string is malformed or too long");
            rq.request_id = "-";
            bt_pipeline_fail(t->ctx, &rq, &rs, &err);
            prerouted = true; /* the glue's refusal, before any route: no operation to check */
            goto out;
        }
    }
    for (size_t i = 0; headers && headers[i]; i++)
        nh++;
    rq.headers = bt_arena_alloc(a, (nh + 1) * sizeof(*rq.headers));
    for (size_t i = 0; i < nh; i++) {
        const char *colon = strchr(headers[i], ':');
        char *name;
        assert_non_null(colon);
        name = bt_arena_strndup(a, headers[i], (size_t)(colon - headers[i]));
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        colon++;
        while (*colon == ' ')
            colon++;
        rq.headers[rq.nheaders].name = name;
        rq.headers[rq.nheaders].value = bt_arena_strdup(a, colon);
        if (!strcmp(name, "content-type"))
            has_ct = true;
        rq.nheaders++;
    }
    if (body && !has_ct) {
        rq.headers[rq.nheaders].name = "content-type";
        rq.headers[rq.nheaders].value = "application/json";
        rq.nheaders++;
    }
    if (body) {
        rq.body = bt_arena_memdup(a, body, n);
        rq.body_len = n;
    }
    bt_pipeline_run(t->ctx, &rq, &rs);
out:
    if (rs.json) {
        rs.body = bt_json_dump(a, rs.json, &rs.len);
        json_decref(rs.json);
        rs.json = NULL;
    }
    r->status = rs.status;
    if (rs.file_fd >= 0) {
        char *buf = malloc(rs.file_len + 1);
        ssize_t got;
        assert_non_null(buf);
        got = pread(rs.file_fd, buf, rs.file_len, 0);
        assert_true(got == (ssize_t)rs.file_len);
        resp_set_body(r, buf, rs.file_len);
        free(buf);
        close(rs.file_fd);
    } else {
        resp_set_body(r, rs.body, rs.len);
    }
    if (rs.content_type)
        resp_add_header(r, "content-type", 12, rs.content_type, strlen(rs.content_type));
    for (size_t i = 0; i < rs.nheaders; i++)
        resp_add_header(r, rs.headers[i].name, strlen(rs.headers[i].name), rs.headers[i].value,
                        strlen(rs.headers[i].value));
    bt_arena_free(a);
    if (!prerouted) {
        char why[1024];
        if (!t->doc)
            t->doc = bt_openapi_build(t->ctx);
        if (bt_test_contract_check(t->doc, method, path, r->status,
                                   bt_test_resp_header(r, "content-type"), r->body, r->len, why,
                                   sizeof why))
            fail_msg("contract: %s", why);
    }
}

void bt_test_request(struct bt_test_app *t, const char *method, const char *path,
                     const char *const *headers, const char *body, struct bt_test_resp *r)
{
    bt_test_request_raw(t, method, path, headers, body, body ? strlen(body) : 0, r);
}

void bt_test_requestf(struct bt_test_app *t, const char *method, const char *body,
                      struct bt_test_resp *r, const char *fmt, ...)
{
    char *path;
    va_list ap;

    va_start(ap, fmt);
    assert_true(vasprintf(&path, fmt, ap) > 0);
    va_end(ap);
    bt_test_request(t, method, path, NULL, body, r);
    free(path);
}

/* ---- black-box tier ---- */

struct bt_test_proc {
    pid_t pid;
    char dir[64];
    char *url;
    bool owns_db; /* false for a twin: the database is its first process's */
    char *services;
    char **args, **env; /* NULL-terminated copies, for restarts and twins */
    size_t napps;
    char apps[BT_MAX_APPS][32];
    int ports[BT_MAX_APPS];
    char mounts[BT_MAX_APPS][64];
    json_t *docs[BT_MAX_APPS]; /* each app's /openapi.json, fetched at every start */
};

static void rm_rf(const char *dir)
{
    char *cmd;
    if (asprintf(&cmd, "rm -rf '%s'", dir) > 0) {
        if (system(cmd) != 0) {
            /* best effort */
        }
        free(cmd);
    }
}

static char **strv_copy(const char *const *v)
{
    size_t n = 0;
    char **out;

    while (v && v[n])
        n++;
    out = calloc(n + 1, sizeof(*out));
    assert_non_null(out);
    for (size_t i = 0; i < n; i++)
        assert_non_null(out[i] = strdup(v[i]));
    return out;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static void proc_fetch_doc(struct bt_test_proc *p, size_t i);
static const json_t *proc_doc(struct bt_test_proc *p, const char *app);

/* A process description on a fresh data directory and on url (NULL: a fresh database it
 * owns); proc_spawn runs it. */
static struct bt_test_proc *proc_new(const char *services, const char *const *extra_args,
                                     const char *const *env, const char *url)
{
    struct bt_test_proc *p = calloc(1, sizeof(*p));
    char *svc, *save = NULL, *tok;

    assert_non_null(p);
    if (!getenv("BENTO_BIN"))
        fail_msg("BENTO_BIN is not set (ctest sets it)");
    strcpy(p->dir, "/tmp/bt-proc-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    p->owns_db = url == NULL;
    p->url = url ? strdup(url) : bt_test_db_url_new();
    assert_non_null(p->url);
    assert_non_null(p->services = strdup(services));
    p->args = strv_copy(extra_args);
    p->env = strv_copy(env);
    svc = strdup(services);
    assert_non_null(svc);
    for (tok = strtok_r(svc, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        assert_true(p->napps < BT_MAX_APPS);
        snprintf(p->apps[p->napps], sizeof(p->apps[0]), "%s", tok);
        p->napps++;
    }
    free(svc);
    return p;
}

/* Run p's command and wait until every listener is up (the port file is a pipe: EOF means
 * bento died, and the test fails with its log). */
static void proc_spawn(struct bt_test_proc *p)
{
    const char *bin = getenv("BENTO_BIN");
    int fds[2];
    char portfile[32];
    const char *argv[64];
    size_t argc = 0, got = 0;
    char buf[2048];
    char *listens[BT_MAX_APPS];

    assert_int_equal(pipe(fds), 0);
    snprintf(portfile, sizeof(portfile), "/dev/fd/%d", fds[1]);

    argv[argc++] = bin;
    argv[argc++] = "serve";
    argv[argc++] = "--services";
    argv[argc++] = p->services;
    argv[argc++] = "--data-dir";
    argv[argc++] = p->dir;
    argv[argc++] = "--db";
    argv[argc++] = p->url;
    argv[argc++] = "--port-file";
    argv[argc++] = portfile;
    argv[argc++] = "--threads";
    argv[argc++] = "4";
    for (size_t i = 0; i < p->napps; i++) {
        assert_true(asprintf(&listens[i], "%s=127.0.0.1:0", p->apps[i]) > 0);
        argv[argc++] = "--listen";
        argv[argc++] = listens[i];
        p->ports[i] = 0;
    }
    for (size_t i = 0; p->args[i]; i++) {
        assert_true(argc < 63);
        argv[argc++] = p->args[i];
    }
    argv[argc] = NULL;

    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        char logpath[128];
        int logfd;
        close(fds[0]);
        /* a test that fails half-way never leaves bento running (holding ctest's output pipe):
         * it dies with the thread that started it, so start it from the test's main thread */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        snprintf(logpath, sizeof(logpath), "%s/bento.log", p->dir);
        logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (logfd >= 0) {
            dup2(logfd, 2);
            close(logfd);
        }
        for (size_t i = 0; p->env[i]; i++)
            putenv(p->env[i]);
        execv(bin, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(fds[1]);
    for (size_t i = 0; i < p->napps; i++)
        free(listens[i]);
    /* read "name host port" lines until every app reported (EOF = the child died) */
    for (;;) {
        size_t lines = 0;
        ssize_t n = read(fds[0], buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        for (char *s = buf; *s; s++)
            lines += *s == '\n';
        if (lines >= p->napps)
            break;
    }
    close(fds[0]);
    buf[got] = '\0';
    for (char *line = buf; line && *line;) {
        char name[64], host[64], mount[64] = "/";
        int port;
        char *nl = strchr(line, '\n');
        if (sscanf(line, "%63s %63s %d %63s", name, host, &port, mount) >= 3)
            for (size_t i = 0; i < p->napps; i++)
                if (!strcmp(p->apps[i], name)) {
                    p->ports[i] = port;
                    snprintf(p->mounts[i], sizeof p->mounts[i], "%s",
                             strcmp(mount, "/") ? mount : "");
                }
        line = nl ? nl + 1 : NULL;
    }
    for (size_t i = 0; i < p->napps; i++) {
        if (p->ports[i] <= 0) {
            char cmd[160];
            snprintf(cmd, sizeof(cmd), "cat %s/bento.log >&2", p->dir);
            if (system(cmd) != 0) {
                /* the log is only a diagnostic */
            }
            fail_msg("bento did not start %s", p->apps[i]);
        }
    }
    for (size_t i = 0; i < p->napps; i++)
        proc_fetch_doc(p, i);
}

/* Wait for p's process to end; its exit status, or 128 + the signal that ended it. */
static int proc_reap(struct bt_test_proc *p)
{
    int status = 0;

    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    for (size_t i = 0; i < p->napps; i++) {
        json_decref(p->docs[i]);
        p->docs[i] = NULL;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct bt_test_proc *bt_test_proc_start(const char *services, const char *const *extra_args,
                                        const char *const *env)
{
    struct bt_test_proc *p = proc_new(services, extra_args, env, NULL);

    proc_spawn(p);
    return p;
}

struct bt_test_proc *bt_test_proc_twin(struct bt_test_proc *p)
{
    struct bt_test_proc *q =
        proc_new(p->services, (const char *const *)p->args, (const char *const *)p->env, p->url);

    proc_spawn(q);
    return q;
}

int bt_test_proc_restart(struct bt_test_proc *p)
{
    int ended = proc_reap(p);

    proc_spawn(p);
    return ended;
}

int bt_test_proc_stop(struct bt_test_proc *p)
{
    int ended;

    if (!p)
        return 0;
    kill(p->pid, SIGTERM);
    ended = proc_reap(p);
    if (ended != 0) {
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "cat %s/bento.log >&2", p->dir);
        if (system(cmd) != 0) {
            /* diagnostic only */
        }
    }
    if (p->owns_db)
        bt_test_db_url_release(p->url);
    else
        free(p->url);
    rm_rf(p->dir);
    free(p->services);
    strv_free(p->args);
    strv_free(p->env);
    free(p);
    return ended;
}

void bt_test_proc_kill(struct bt_test_proc *p, int sig)
{
    kill(p->pid, sig);
}

int bt_test_proc_port(const struct bt_test_proc *p, const char *app)
{
    for (size_t i = 0; i < p->napps; i++)
        if (!strcmp(p->apps[i], app))
            return p->ports[i];
    fail_msg("no such app in process: %s", app);
    return -1;
}

const char *bt_test_proc_data_dir(const struct bt_test_proc *p)
{
    return p->dir;
}

int bt_test_proc_pid(const struct bt_test_proc *p)
{
    return (int)p->pid;
}

const char *bt_test_proc_db_url(const struct bt_test_proc *p)
{
    return p->url;
}

int bt_test_proc_run_fail(const char *services, const char *const *extra_args,
                          const char *const *env, char **log)
{
    const char *bin = getenv("BENTO_BIN");
    char dir[] = "/tmp/bt-fail-XXXXXX", portfile[32], logpath[64], buf[1024];
    const char *argv[64];
    size_t argc = 0, napps = 1, lines = 0;
    char *url, *listens[BT_MAX_APPS], *svc, *save = NULL, *tok;
    size_t nlisten = 0;
    int fds[2], status = 0;
    pid_t pid;
    ssize_t n;

    if (!bin)
        fail_msg("BENTO_BIN is not set (ctest sets it)");
    assert_non_null(mkdtemp(dir));
    url = bt_test_db_url_new();
    assert_int_equal(pipe(fds), 0);
    snprintf(portfile, sizeof(portfile), "/dev/fd/%d", fds[1]);
    snprintf(logpath, sizeof(logpath), "%s/bento.log", dir);
    argv[argc++] = bin;
    argv[argc++] = "serve";
    argv[argc++] = "--services";
    argv[argc++] = services;
    argv[argc++] = "--data-dir";
    argv[argc++] = dir;
    argv[argc++] = "--db";
    argv[argc++] = url;
    argv[argc++] = "--port-file";
    argv[argc++] = portfile;
    argv[argc++] = "--threads";
    argv[argc++] = "2";
    svc = strdup(services);
    for (tok = strtok_r(svc, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        assert_true(nlisten < BT_MAX_APPS);
        assert_true(asprintf(&listens[nlisten], "%s=127.0.0.1:0", tok) > 0);
        argv[argc++] = "--listen";
        argv[argc++] = listens[nlisten++];
    }
    napps = nlisten;
    for (size_t i = 0; extra_args && extra_args[i] && argc < 63; i++)
        argv[argc++] = extra_args[i];
    argv[argc] = NULL;

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        close(fds[0]);
        if (logfd >= 0) {
            dup2(logfd, 2);
            close(logfd);
        }
        for (size_t i = 0; env && env[i]; i++)
            putenv((char *)(uintptr_t)env[i]);
        execv(bin, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(fds[1]);
    for (size_t i = 0; i < nlisten; i++)
        free(listens[i]);
    free(svc);
    /* a refusing process exits before writing the port file: EOF; a line per app means it
     * started */
    while (lines < napps && ((n = read(fds[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)))
        for (ssize_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    close(fds[0]);
    if (lines >= napps)
        kill(pid, SIGTERM);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (lines >= napps || log) {
        size_t len = 0;
        char *text = read_file_all(logpath, &len);
        if (lines >= napps) {
            fprintf(stderr, "%s", text ? text : "");
            free(text);
            bt_test_db_url_release(url);
            rm_rf(dir);
            fail_msg("bento started %s although it should have refused", services);
        }
        *log = text ? text : strdup("");
    }
    bt_test_db_url_release(url);
    rm_rf(dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const char *bt_test_source_dir(void)
{
    return BENTO_SOURCE_DIR;
}

int bt_test_cli(const char *const *args, const char *const *env, const char *stdin_text, char **out,
                char **err)
{
    const char *bin = getenv("BENTO_BIN");
    char dir[] = "/tmp/bt-cli-XXXXXX", inpath[64], outpath[64], errpath[64];
    const char *argv[64];
    size_t argc = 0, n;
    int status = 0, fd;
    pid_t pid;

    if (!bin)
        fail_msg("BENTO_BIN is not set (ctest sets it)");
    assert_non_null(mkdtemp(dir));
    snprintf(inpath, sizeof(inpath), "%s/stdin", dir);
    snprintf(outpath, sizeof(outpath), "%s/stdout", dir);
    snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
    fd = open(inpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    if (stdin_text)
        assert_int_equal(write(fd, stdin_text, strlen(stdin_text)), (ssize_t)strlen(stdin_text));
    close(fd);
    argv[argc++] = bin;
    for (size_t i = 0; args && args[i]; i++) {
        assert_true(argc < 63);
        argv[argc++] = args[i];
    }
    argv[argc] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open(inpath, O_RDONLY);
        int o = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || o < 0 || e < 0)
            _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        setsid(); /* no controlling terminal: a password prompt cannot block the test */
        for (size_t i = 0; env && env[i]; i++)
            putenv((char *)(uintptr_t)env[i]);
        execv(bin, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (out) {
        *out = read_file_all(outpath, &n);
        if (!*out)
            *out = strdup("");
    }
    if (err) {
        *err = read_file_all(errpath, &n);
        if (!*err)
            *err = strdup("");
    }
    rm_rf(dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct curl_sink {
    struct bt_test_resp *r;
    char *buf;
    size_t len;
};

static size_t curl_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct curl_sink *s = ud;
    size_t n = size * nmemb;
    char *b = realloc(s->buf, s->len + n + 1);
    assert_non_null(b);
    memcpy(b + s->len, ptr, n);
    s->buf = b;
    s->len += n;
    return n;
}

static size_t curl_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct curl_sink *s = ud;
    size_t n = size * nmemb;
    char *colon = memchr(ptr, ':', n);

    if (colon) {
        const char *v = colon + 1;
        size_t vlen = n - (size_t)(v - ptr);
        while (vlen && (*v == ' '))
            v++, vlen--;
        while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
            vlen--;
        resp_add_header(s->r, ptr, (size_t)(colon - ptr), v, vlen);
    }
    return n;
}

/* One request over libcurl; iface (NULL = default) is the local address to send from.
 * CURLE_OK with r filled, or the transport's error with r released. */
static CURLcode http_do(struct bt_test_proc *p, const char *app, const char *method,
                        const char *path, const char *const *headers, const void *body, size_t n,
                        struct bt_test_resp *r, const char *iface)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    struct curl_sink sink = {r, NULL, 0};
    char *url;
    long status = 0;
    CURLcode cc;

    bt_test_resp_release(r);
    assert_non_null(c);
    assert_true(asprintf(&url, "http://127.0.0.1:%d%s", bt_test_proc_port(p, app), path) > 0);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, curl_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    if (body) {
        bool has_ct = false;
        for (size_t i = 0; headers && headers[i]; i++)
            if (!strncasecmp(headers[i], "content-type:", 13))
                has_ct = true;
        if (!has_ct)
            hl = curl_slist_append(hl, "Content-Type: application/json");
        hl = curl_slist_append(hl, "Expect:");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    if (iface)
        curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        r->status = (int)status;
        resp_set_body(r, sink.buf ? sink.buf : "", sink.len);
    } else {
        bt_test_resp_release(r); /* headers of a cut answer */
    }
    free(sink.buf);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    free(url);
    return cc;
}

/* http_do that fails the test when no answer arrives. */
static void http_must(struct bt_test_proc *p, const char *app, const char *method, const char *path,
                      const char *const *headers, const void *body, size_t n,
                      struct bt_test_resp *r, const char *iface)
{
    CURLcode cc = http_do(p, app, method, path, headers, body, n, r, iface);

    if (cc != CURLE_OK)
        fail_msg("http %s %s: %s", method, path, curl_easy_strerror(cc));
}

/* The contract check of an answer (docs/TESTING.md, "The contract validator"). */
static void http_check(struct bt_test_proc *p, const char *app, const char *method,
                       const char *path, const struct bt_test_resp *r)
{
    char why[1024];

    if (bt_test_contract_check(proc_doc(p, app), method, path, r->status,
                               bt_test_resp_header(r, "content-type"), r->body, r->len, why,
                               sizeof why))
        fail_msg("contract: %s", why);
}

/* App i's OpenAPI document, fetched once when the process starts (its mount comes from the
 * port file). The fetch comes from 127.0.0.2, so it never spends the tests' rate-limit budget
 * (limits are per client address). */
static void proc_fetch_doc(struct bt_test_proc *p, size_t i)
{
    struct bt_test_resp d;
    char *url;

    memset(&d, 0, sizeof d);
    assert_true(asprintf(&url, "%s/openapi.json", p->mounts[i]) > 0);
    http_must(p, p->apps[i], "GET", url, NULL, NULL, 0, &d, "127.0.0.2");
    if (d.status != 200 || !json_is_object(d.json) || !json_object_get(d.json, "openapi"))
        fail_msg("contract: GET %s of %s answered %d", url, p->apps[i], d.status);
    p->docs[i] = json_incref(d.json);
    free(url);
    bt_test_resp_release(&d);
}

static const json_t *proc_doc(struct bt_test_proc *p, const char *app)
{
    for (size_t i = 0; i < p->napps; i++)
        if (!strcmp(p->apps[i], app))
            return p->docs[i];
    fail_msg("no such app in process: %s", app);
    return NULL;
}

void bt_test_http(struct bt_test_proc *p, const char *app, const char *method, const char *path,
                  const char *const *headers, const void *body, size_t n, struct bt_test_resp *r)
{
    http_must(p, app, method, path, headers, body, n, r, NULL);
    http_check(p, app, method, path, r);
}

int bt_test_http_try(struct bt_test_proc *p, const char *app, const char *method, const char *path,
                     const char *const *headers, const void *body, size_t n, struct bt_test_resp *r)
{
    if (http_do(p, app, method, path, headers, body, n, r, NULL) != CURLE_OK)
        return -1;
    http_check(p, app, method, path, r);
    return 0;
}

void bt_test_http_unchecked(struct bt_test_proc *p, const char *app, const char *method,
                            const char *path, const char *const *headers, const void *body,
                            size_t n, struct bt_test_resp *r)
{
    http_must(p, app, method, path, headers, body, n, r, NULL);
}

int bt_test_connect(struct bt_test_proc *p, const char *app)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)bt_test_proc_port(p, app));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

char *bt_test_read_to_close(int fd, int timeout_ms, size_t *out_len)
{
    char *buf = NULL;
    size_t len = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    for (;;) {
        char chunk[4096];
        ssize_t got;
        if (poll(&pfd, 1, timeout_ms) <= 0)
            break;
        got = recv(fd, chunk, sizeof(chunk), 0);
        if (got <= 0)
            break;
        buf = realloc(buf, len + (size_t)got + 1);
        assert_non_null(buf);
        memcpy(buf + len, chunk, (size_t)got);
        len += (size_t)got;
    }
    if (!buf)
        buf = calloc(1, 1);
    buf[len] = '\0';
    if (out_len)
        *out_len = len;
    return buf;
}

char *bt_test_raw(struct bt_test_proc *p, const char *app, const void *req, size_t n,
                  size_t *out_len)
{
    int fd = bt_test_connect(p, app);
    char *buf;

    for (size_t off = 0; off < n;) {
        ssize_t w = send(fd, (const char *)req + off, n - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server may close early (413): read what it said */
        off += (size_t)w;
    }
    /* no half-close: a server may rightly treat EOF as an aborted request; callers end their
     * requests with "Connection: close" or rely on the server closing */
    buf = bt_test_read_to_close(fd, 10000, out_len);
    close(fd);
    return buf;
}

/* ---- upstream ---- */

struct bt_test_upstream {
    struct MHD_Daemon *d;
    bt_test_upstream_fn *fn;
    void *ud;
    char url[64];
    atomic_uint hits;
    pthread_mutex_t mu;
    pthread_cond_t stop;
    bool stopping;
};

struct up_conn {
    char *body;
    size_t len;
};

static enum MHD_Result up_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct bt_test_upstream *u = cls;
    struct up_conn *uc = *con_cls;
    struct bt_test_upstream_req rq;
    struct bt_test_upstream_resp rs = {200, "application/json", NULL};
    struct MHD_Response *resp;
    enum MHD_Result ret;
    (void)version;

    if (!uc) {
        uc = calloc(1, sizeof(*uc));
        *con_cls = uc;
        return MHD_YES;
    }
    if (*upload_data_size) {
        uc->body = realloc(uc->body, uc->len + *upload_data_size + 1);
        memcpy(uc->body + uc->len, upload_data, *upload_data_size);
        uc->len += *upload_data_size;
        uc->body[uc->len] = '\0';
        *upload_data_size = 0;
        return MHD_YES;
    }
    memset(&rq, 0, sizeof(rq));
    rq.method = method;
    rq.path = url;
    rq.body = uc->body ? uc->body : "";
    rq.body_len = uc->len;
    rq.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    atomic_fetch_add(&u->hits, 1);
    u->fn(&rq, &rs, u->ud);
    if (rs.status == 0) {
        /* the handler asked for no answer: hold the connection until the fake server stops
         * (timeout tests), then drop it */
        struct timespec deadline;
        free(rs.body);
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 30;
        pthread_mutex_lock(&u->mu);
        while (!u->stopping)
            if (pthread_cond_timedwait(&u->stop, &u->mu, &deadline) != 0)
                break;
        pthread_mutex_unlock(&u->mu);
        return MHD_NO;
    }
    resp = MHD_create_response_from_buffer(rs.body ? strlen(rs.body) : 0,
                                           rs.body ? rs.body : (char *)(uintptr_t) "",
                                           MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(resp, "Content-Type", rs.content_type ? rs.content_type : "text/plain");
    ret = MHD_queue_response(c, (unsigned)rs.status, resp);
    MHD_destroy_response(resp);
    free(rs.body);
    return ret;
}

static void up_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct up_conn *uc = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (uc) {
        free(uc->body);
        free(uc);
        *con_cls = NULL;
    }
}

struct bt_test_upstream *bt_test_upstream_start(bt_test_upstream_fn *fn, void *ud)
{
    struct bt_test_upstream *u = calloc(1, sizeof(*u));
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *di;

    assert_non_null(u);
    u->fn = fn;
    u->ud = ud;
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->stop, NULL);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    u->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                            NULL, NULL, up_request, u, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_NOTIFY_COMPLETED, up_completed, NULL,
                            MHD_OPTION_CONNECTION_TIMEOUT, 5u, MHD_OPTION_END);
    assert_non_null(u->d);
    di = MHD_get_daemon_info(u->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(di);
    snprintf(u->url, sizeof(u->url), "http://127.0.0.1:%u", di->port);
    return u;
}

const char *bt_test_upstream_url(const struct bt_test_upstream *u)
{
    return u->url;
}

unsigned bt_test_upstream_hits(const struct bt_test_upstream *u)
{
    return atomic_load(&((struct bt_test_upstream *)(uintptr_t)u)->hits);
}

void bt_test_upstream_stop(struct bt_test_upstream *u)
{
    if (!u)
        return;
    pthread_mutex_lock(&u->mu);
    u->stopping = true;
    pthread_cond_broadcast(&u->stop);
    pthread_mutex_unlock(&u->mu);
    MHD_stop_daemon(u->d);
    pthread_cond_destroy(&u->stop);
    pthread_mutex_destroy(&u->mu);
    free(u);
}

/* ---- files ---- */

static char *read_file_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)len + 1);
        if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) {
            buf[len] = '\0';
            *n = (size_t)len;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

char *bt_test_slurp(const char *path, size_t *len)
{
    size_t n = 0;
    char *buf = read_file_all(path, &n);

    if (!buf)
        fail_msg("cannot read %s", path);
    if (len)
        *len = n;
    return buf;
}

char *bt_test_proc_log(struct bt_test_proc *p)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/bento.log", bt_test_proc_data_dir(p));
    return bt_test_slurp(path, NULL);
}

/* ---- fuzz corpora ---- */

size_t bt_test_corpus_each(const char *sub, bt_test_corpus_fn *fn, void *ud)
{
    const char *env = getenv("BENTO_FUZZ_CORPUS");
    struct dirent **names = NULL;
    size_t files = 0;
    char *dir;
    int count;

    if (env && *env)
        assert_true(asprintf(&dir, "%s/%s", env, sub) > 0);
    else
        assert_true(asprintf(&dir, "%s/tests/fuzz/corpus/%s", BENTO_SOURCE_DIR, sub) > 0);
    count = scandir(dir, &names, NULL, alphasort);
    if (count < 0)
        fail_msg("cannot read corpus %s", dir);
    for (int i = 0; i < count; i++) {
        char *path = NULL, *buf;
        size_t n = 0;
        struct stat st;

        if (names[i]->d_name[0] != '.' && asprintf(&path, "%s/%s", dir, names[i]->d_name) > 0 &&
            stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            (buf = read_file_all(path, &n)) != NULL) {
            fn(names[i]->d_name, buf, n, ud);
            free(buf);
            files++;
        }
        free(path);
        free(names[i]);
    }
    free(names);
    free(dir);
    return files;
}

/* ---- assertions ---- */

void bt_test_fail_subset(const json_t *actual, const char *pattern, const char *file, int line)
{
    char *a = actual ? json_dumps(actual, JSON_INDENT(1)) : NULL;
    print_error("json subset mismatch\n  expected subset: %s\n  actual: %s\n", pattern,
                a ? a : "(not json)");
    free(a);
    _fail(file, line);
    abort();
}

/* ---- contract: responses checked against the OpenAPI document ---- */

/* What one check needs: the document (for $ref), where the error goes. */
struct vstate {
    const json_t *doc;
    char *why;
    size_t cap;
    const char *where; /* "409 for PUT /x" */
    bool failed;
};

static void vfail(struct vstate *v, const char *ptr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void vfail(struct vstate *v, const char *ptr, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (v->failed)
        return; /* the first mismatch is the one to read */
    v->failed = true;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(v->why, v->cap, "%s: at %s: %s", v->where, *ptr ? ptr : "(body)", msg);
}

static const json_t *resolve_ref(const json_t *doc, const json_t *schema)
{
    const char *ref = json_string_value(json_object_get(schema, "$ref"));
    const char *pfx = "#/components/schemas/";

    if (!ref)
        return schema;
    if (strncmp(ref, pfx, strlen(pfx)))
        return NULL;
    return json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"),
                           ref + strlen(pfx));
}

static const char *json_type_word(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    default: return "?";
    }
}

static bool type_is(const json_t *j, const char *t)
{
    if (!strcmp(t, "integer"))
        return json_is_integer(j);
    if (!strcmp(t, "number"))
        return json_is_number(j);
    return !strcmp(t, json_type_word(j));
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* RFC 3339 date-time: 2024-01-15T10:30:00[.fff](Z|+hh:mm) */
static bool is_date_time(const char *s)
{
    size_t n = strlen(s), i = 19;

    if (n < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return false;
    if (s[i] == '.') {
        size_t k = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == k)
            return false;
    }
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n)
        return true;
    return (s[i] == '+' || s[i] == '-') && i + 6 == n && digits(s + i + 1, 2) && s[i + 3] == ':' &&
           digits(s + i + 4, 2);
}

static bool is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if ((i == 8 || i == 13 || i == 18 || i == 23) ? c != '-' : !hex)
            return false;
    }
    return true;
}

static void validate(struct vstate *v, const json_t *schema, const json_t *j, const char *ptr);

static void child_ptr(char *out, size_t cap, const char *ptr, const char *key)
{
    size_t o = (size_t)snprintf(out, cap, "%s/", ptr);
    for (const char *k = key; *k && o + 3 < cap; k++) {
        if (*k == '~' || *k == '/') {
            out[o++] = '~';
            out[o++] = *k == '~' ? '0' : '1';
        } else {
            out[o++] = *k;
        }
    }
    out[o < cap ? o : cap - 1] = '\0';
}

static void validate_object(struct vstate *v, const json_t *schema, const json_t *j,
                            const char *ptr)
{
    const json_t *props = json_object_get(schema, "properties");
    const json_t *addl = json_object_get(schema, "additionalProperties");
    const json_t *req = json_object_get(schema, "required");
    char cp[512];
    const char *key;
    json_t *val;
    size_t i;
    json_t *r;

    json_array_foreach(req, i, r)
    {
        if (!json_object_get(j, json_string_value(r))) {
            child_ptr(cp, sizeof cp, ptr, json_string_value(r));
            vfail(v, cp, "required field missing");
            return;
        }
    }
    json_object_foreach((json_t *)(uintptr_t)j, key, val)
    {
        const json_t *ps = json_object_get(props, key);
        child_ptr(cp, sizeof cp, ptr, key);
        if (ps)
            validate(v, ps, val, cp);
        else if (json_is_false(addl))
            vfail(v, cp, "field not declared (additionalProperties is false)");
        else if (json_is_object(addl))
            validate(v, addl, val, cp);
        if (v->failed)
            return;
    }
}

static void validate(struct vstate *v, const json_t *schema, const json_t *j, const char *ptr)
{
    const json_t *s = resolve_ref(v->doc, schema);
    const json_t *t, *e;

    if (!s) {
        vfail(v, ptr, "unresolvable $ref %s", json_string_value(json_object_get(schema, "$ref")));
        return;
    }
    t = json_object_get(s, "type");
    if (json_is_string(t) && !type_is(j, json_string_value(t))) {
        vfail(v, ptr, "expected %s, got %s", json_string_value(t), json_type_word(j));
        return;
    }
    if (json_is_array(t)) {
        bool ok = false;
        size_t i;
        json_t *tn;
        json_array_foreach(t, i, tn) ok = ok || type_is(j, json_string_value(tn));
        if (!ok) {
            char *want = json_dumps(t, JSON_COMPACT);
            vfail(v, ptr, "expected one of %s, got %s", want ? want : "?", json_type_word(j));
            free(want);
            return;
        }
    }
    if ((e = json_object_get(s, "enum")) != NULL) {
        bool ok = false;
        size_t i;
        json_t *ev;
        json_array_foreach(e, i, ev) ok = ok || json_equal(ev, (json_t *)(uintptr_t)j);
        if (!ok) {
            char *want = json_dumps(e, JSON_COMPACT);
            char *got = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
            vfail(v, ptr, "%s is not one of %s", got ? got : "?", want ? want : "?");
            free(want);
            free(got);
            return;
        }
    }
    if (json_is_number(j)) {
        double x = json_number_value(j);
        const json_t *mn = json_object_get(s, "minimum"), *mx = json_object_get(s, "maximum");
        if (mn && x < json_number_value(mn))
            vfail(v, ptr, "%g is below the minimum %g", x, json_number_value(mn));
        else if (mx && x > json_number_value(mx))
            vfail(v, ptr, "%g is above the maximum %g", x, json_number_value(mx));
    } else if (json_is_string(j)) {
        const char *str = json_string_value(j);
        long n = bt_utf8_len(str, json_string_length(j));
        const json_t *mn = json_object_get(s, "minLength"), *mx = json_object_get(s, "maxLength");
        const char *fmt = json_string_value(json_object_get(s, "format"));
        if (mn && n < (long)json_integer_value(mn))
            vfail(v, ptr, "string shorter than minLength %lld", (long long)json_integer_value(mn));
        else if (mx && n > (long)json_integer_value(mx))
            vfail(v, ptr, "string longer than maxLength %lld", (long long)json_integer_value(mx));
        else if (fmt && !strcmp(fmt, "date-time") && !is_date_time(str))
            vfail(v, ptr, "\"%s\" is not a date-time", str);
        else if (fmt && !strcmp(fmt, "uuid") && !is_uuid(str))
            vfail(v, ptr, "\"%s\" is not a uuid", str);
    } else if (json_is_array(j)) {
        const json_t *items = json_object_get(s, "items");
        const json_t *mn = json_object_get(s, "minItems"), *mx = json_object_get(s, "maxItems");
        size_t n = json_array_size(j), i;
        json_t *el;
        char cp[512];
        if (mn && (json_int_t)n < json_integer_value(mn))
            vfail(v, ptr, "%zu items, fewer than minItems %lld", n,
                  (long long)json_integer_value(mn));
        else if (mx && (json_int_t)n > json_integer_value(mx))
            vfail(v, ptr, "%zu items, more than maxItems %lld", n,
                  (long long)json_integer_value(mx));
        json_array_foreach(j, i, el)
        {
            if (!items || v->failed)
                break;
            snprintf(cp, sizeof cp, "%s/%zu", ptr, i);
            validate(v, items, el, cp);
        }
    } else if (json_is_object(j)) {
        validate_object(v, s, j, ptr);
    }
}

int bt_test_schema_validate(const json_t *doc, const json_t *schema, const json_t *value, char *why,
                            size_t cap)
{
    struct vstate v = {doc, why, cap, "value", false};

    why[0] = '\0';
    validate(&v, schema, value, "");
    return v.failed ? -1 : 0;
}

/* The app's error schema as the document references it (the JSON content of any error
 * response); NULL when the app has not adopted the contract. */
static const json_t *doc_error_schema(const json_t *doc)
{
    const char *path, *method, *status;
    json_t *item, *op, *resp;

    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        json_object_foreach(item, method, op)
        {
            json_object_foreach(json_object_get(op, "responses"), status, resp)
            {
                json_t *sch = json_object_get(
                    json_object_get(json_object_get(resp, "content"), "application/json"),
                    "schema");
                if (atoi(status) >= 400 && atoi(status) != 503 && sch)
                    return sch;
            }
        }
    }
    return NULL;
}

/* Compare a request path (below the mount) with a template; *literals counts the literal
 * segments that matched (more literals = the better match, as the router prefers them). */
static bool template_match(const char *tpl, const char *path, int *literals)
{
    *literals = 0;
    for (;;) {
        size_t tn, pn;
        if (*tpl != '/' || *path != '/')
            return *tpl == *path;
        tpl++;
        path++;
        tn = strcspn(tpl, "/");
        pn = strcspn(path, "/");
        if (tn > 1 && tpl[0] == '{' && tpl[tn - 1] == '}') {
            if (pn == 0)
                return false;
        } else if (tn != pn || strncmp(tpl, path, tn)) {
            return false;
        } else {
            (*literals)++;
        }
        tpl += tn;
        path += pn;
        if (!*tpl || !*path)
            return !*tpl && !*path;
    }
}

static bool media_matches(const char *declared, const char *ct)
{
    size_t n = strcspn(ct, ";");

    while (n > 0 && ct[n - 1] == ' ')
        n--;
    if (!strcmp(declared, "application/json"))
        return (n == 16 && !strncasecmp(ct, "application/json", 16)) ||
               (n > 5 && !strncasecmp(ct + n - 5, "+json", 5));
    if (strlen(declared) > 2 && !strcmp(declared + strlen(declared) - 2, "/*"))
        return !strncasecmp(ct, declared, strlen(declared) - 1);
    return strlen(declared) == n && !strncasecmp(ct, declared, n);
}

int bt_test_contract_check(const json_t *doc, const char *method, const char *path, int status,
                           const char *content_type, const char *body, size_t len, char *why,
                           size_t cap)
{
    const json_t *err_schema = doc_error_schema(doc);
    const json_t *servers = json_object_get(doc, "servers");
    const char *mount = json_string_value(
        json_object_get(json_array_get(servers, json_array_size(servers) - 1), "url"));
    char where[600], mkey[16], *p;
    const json_t *op = NULL, *resp, *content, *media = NULL;
    const char *label = NULL, *tk;
    json_t *item;
    size_t mlen, qlen = strcspn(path, "?");
    int best = -1;
    struct vstate v = {doc, why, cap, where, false};
    json_t *j;
    const char *mk;

    why[0] = '\0';
    if (!err_schema)
        return 0; /* the app has not adopted the contract */
    snprintf(mkey, sizeof mkey, "%s", method);
    for (p = mkey; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    mk = !strcmp(mkey, "head") ? "get" : mkey;
    if (!mount || !strcmp(mount, "/"))
        mount = "";
    mlen = strlen(mount);
    snprintf(where, sizeof where, "%d for %s %.*s", status, method, (int)qlen, path);
    if (!strncmp(path, mount, mlen) && (path[mlen] == '/' || (qlen == mlen && mlen))) {
        char rel[512];
        snprintf(rel, sizeof rel, "%.*s", (int)(qlen - mlen), path + mlen);
        if (!rel[0])
            strcpy(rel, "/");
        json_object_foreach(json_object_get(doc, "paths"), tk, item)
        {
            int lit;
            const json_t *o = json_object_get(item, mk);
            if (o && template_match(tk, rel, &lit) && lit > best) {
                best = lit;
                op = o;
                label = tk;
            }
        }
    }
    if (!op && !strcmp(mkey, "options") && status < 400)
        return 0; /* a preflight or Allow answer of the core for a path: no operation */
    if (!op) {
        /* no route: 404 of an unknown path or 405; the app's error envelope all the same */
        if (!content_type || !media_matches("application/json", content_type)) {
            vfail(&v, "", "content type %s, expected application/json",
                  content_type ? content_type : "(none)");
            return -1;
        }
        j = json_loadb(body, len, JSON_DECODE_ANY, NULL);
        if (!j) {
            vfail(&v, "", "body is not JSON");
            return -1;
        }
        validate(&v, err_schema, j, "");
        json_decref(j);
        return v.failed ? -1 : 0;
    }
    snprintf(where, sizeof where, "%d for %s %s%s", status, method, mount, label);
    {
        char sk[16];
        snprintf(sk, sizeof sk, "%d", status);
        resp = json_object_get(json_object_get(op, "responses"), sk);
    }
    if (!resp) {
        snprintf(why, cap, "undeclared status %d for %s %s%s", status, method, mount, label);
        return -1;
    }
    content = json_object_get(resp, "content");
    if (!content) {
        if (len > 0 && strcmp(mkey, "head")) {
            vfail(&v, "", "a body of %zu bytes where none is declared", len);
            return -1;
        }
        return 0;
    }
    {
        const char *mt;
        json_t *m;
        json_object_foreach((json_t *)(uintptr_t)content, mt, m)
        {
            if (content_type && media_matches(mt, content_type)) {
                media = m;
                break;
            }
        }
        if (!media) {
            char *want = json_dumps(content, JSON_COMPACT);
            vfail(&v, "", "content type %s, expected one of %s",
                  content_type ? content_type : "(none)", want ? want : "?");
            free(want);
            return -1;
        }
        if (strcmp(mt, "application/json") || !strcmp(mkey, "head"))
            return 0; /* images, text: the media type is the contract */
    }
    j = json_loadb(body, len, JSON_DECODE_ANY, NULL);
    if (!j) {
        vfail(&v, "", "body is not JSON");
        return -1;
    }
    validate(&v, json_object_get(media, "schema"), j, "");
    json_decref(j);
    return v.failed ? -1 : 0;
}
