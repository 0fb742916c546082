/* SPDX-License-Identifier: MIT
 * main.c - command line, configuration and boot order. Kept short: the work is in the core.
 *   bento serve    run the enabled services until SIGTERM/SIGINT
 *   bento migrate  apply pending migrations of the enabled services and exit
 *   bento openapi SERVICE   print a service's OpenAPI document
 *   bento version
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bento/bento.h>

#include "apps.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bento <command> [options]\n"
            "\n"
            "commands:\n"
            "  serve             run the enabled services (default command)\n"
            "  migrate           apply pending database migrations and exit\n"
            "  openapi SERVICE   print the OpenAPI 3.1 document of SERVICE\n"
            "  version           print the version\n"
            "\n"
            "options (each also read from the environment variable shown):\n"
            "  --services LIST   comma-separated services to run (BENTO_SERVICES; default all)\n"
            "  --db URL          database: sqlite:PATH or postgres://... (BENTO_DB;\n"
            "                    default sqlite:DATA_DIR/bento.db)\n"
            "  --data-dir DIR    data directory for the SQLite file and uploads\n"
            "                    (BENTO_DATA_DIR; default ./data)\n"
            "  --host ADDR       default listen address (BENTO_HOST; default 127.0.0.1)\n"
            "  --listen S=ADDR   listener of service S as host:port, [v6]:port or port; port 0\n"
            "                    picks a free port (BENTO_<S>_LISTEN; defaults in README)\n"
            "  --port-file FILE  write \"service host port mount\" lines once listening\n"
            "                    (BENTO_PORT_FILE)\n"
            "  --threads N       request threads per listener (BENTO_THREADS; default: one per\n"
            "                    CPU on SQLite, four per CPU on PostgreSQL)\n"
            "  --set S.KEY=VAL   a service setting, e.g. vendorchat.llm_url=http://...\n"
            "                    (BENTO_<S>_<KEY>)\n"
            "  -h, --help        this help\n"
            "\n"
            "limits (environment only): BENTO_MAX_BODY (bytes, 1048576), BENTO_MAX_HEADER\n"
            "  (bytes, 16384), BENTO_CONN_LIMIT (1024), BENTO_PER_IP_LIMIT (64),\n"
            "  BENTO_CONN_TIMEOUT (seconds, 30), BENTO_DB_POOL (16), BENTO_DB_TIMEOUT_MS (5000)\n"
            "other: BENTO_ENV=development|production (production refuses default secrets),\n"
            "  BENTO_LOG_LEVEL=debug|info|warn|error|off, BENTO_ACCESS_LOG=1|0,\n"
            "  BENTO_TRUSTED_PROXIES=ADDR|CIDR,... (peers whose X-Forwarded-For/-Proto count)\n"
            "service settings every service has: S.cors_origins (browser origins allowed),\n"
            "  S.public_url (base of returned URLs), S.rate_limit, S.max_body\n"
            "\n"
            "services:");
    for (size_t i = 0; bt_apps[i]; i++)
        fprintf(f, " %s(%u)", bt_apps[i]->name, bt_apps[i]->default_port);
    fputc('\n', f);
}

static const struct bt_app *find_app(const char *name)
{
    for (size_t i = 0; bt_apps[i]; i++)
        if (!strcmp(bt_apps[i]->name, name))
            return bt_apps[i];
    return NULL;
}

static int mkdir_p(const char *dir)
{
    char buf[4096];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, dir, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0750) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(buf, 0750) && errno != EEXIST)
        return -1;
    return 0;
}

static int die(const char *msg, const char *detail)
{
    bt_log(BT_LOG_ERROR, msg, "detail", detail, NULL);
    return 1;
}

static int cmd_serve(struct bt_config *cfg)
{
    struct bt_server *srv;
    struct bt_err err;
    sigset_t set;
    int sig = 0;

    /* block the stop signals in every thread (MHD's inherit the mask) and wait for them here */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    bt_err_clear(&err);
    if (bt_server_start(cfg, bt_apps, &srv, &err) != BT_OK)
        return die("cannot start", err.msg);
    bt_log_info("bento started", "version", BENTO_VERSION, NULL);
    sigwait(&set, &sig);
    bt_log_info("stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    bt_server_stop(srv);
    bt_log_info("stopped", "version", BENTO_VERSION, NULL);
    return 0;
}

static int cmd_migrate(struct bt_config *cfg)
{
    struct bt_dbpool *pool;
    struct bt_db *db;
    struct bt_err err;
    int total = 0;

    bt_err_clear(&err);
    if (bt_dbpool_open(cfg->db_url, 1, &pool, &err) != BT_OK)
        return die("cannot open database", err.msg);
    db = bt_dbpool_get(pool, cfg->db_timeout_ms, &err);
    if (!db) {
        bt_dbpool_free(pool);
        return die("cannot open database", err.msg);
    }
    for (size_t i = 0; bt_apps[i]; i++) {
        int applied = 0;
        if (!bt_config_enabled(cfg, bt_apps[i]->name) || !bt_apps[i]->migrations)
            continue;
        if (bt_migrate(db, bt_apps[i]->name, bt_apps[i]->migrations, &applied, &err) != BT_OK) {
            bt_dbpool_put(pool, db);
            bt_dbpool_free(pool);
            return die("migration failed", err.msg);
        }
        printf("%s: %d migration(s) applied\n", bt_apps[i]->name, applied);
        total += applied;
    }
    bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);
    (void)total;
    return 0;
}

static int cmd_openapi(struct bt_config *cfg, const char *name)
{
    const struct bt_app *app = name ? find_app(name) : NULL;
    struct bt_app_ctx *ctx;
    struct bt_err err;
    json_t *doc;
    char *text;

    if (!app) {
        fprintf(stderr, "bento: openapi needs a service name\n");
        return 2;
    }
    bt_err_clear(&err);
    /* no database: build the router only (init is skipped by having no pool and no init) */
    {
        struct bt_app copy = *app;
        copy.init = NULL;
        copy.fini = NULL;
        copy.migrations = NULL;
        if (bt_app_ctx_new(&copy, cfg, NULL, &ctx, &err) != BT_OK)
            return die("cannot build routes", err.msg);
        doc = bt_openapi_build(ctx);
        text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(text ? text : "{}");
        free(text);
        json_decref(doc);
        ctx->app = app; /* fini of the copy must not run: state is NULL anyway */
        bt_app_ctx_free(ctx);
    }
    return 0;
}

static int run(int argc, char **argv, struct bt_config *cfg)
{
    static const struct option opts[] = {
        {"services", required_argument, NULL, 's'}, {"db", required_argument, NULL, 'd'},
        {"data-dir", required_argument, NULL, 'D'}, {"host", required_argument, NULL, 'H'},
        {"listen", required_argument, NULL, 'l'},   {"port-file", required_argument, NULL, 'p'},
        {"threads", required_argument, NULL, 't'},  {"set", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *why = NULL;
    const char *cmd = "serve";
    int c, rc;

    if (argc > 1 && argv[1][0] != '-') {
        cmd = argv[1];
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("bento %s\n", BENTO_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (bt_config_defaults(cfg, &why)) {
        fprintf(stderr, "bento: %s\n", why);
        return 2;
    }
    bt_log_setup(bt_log_level_parse(cfg->log_level, BT_LOG_INFO), 2);
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (bt_config_set_services(cfg, optarg)) {
                fprintf(stderr, "bento: too many services\n");
                return 2;
            }
            break;
        case 'd': cfg->db_url = optarg; break;
        case 'D': cfg->data_dir = optarg; break;
        case 'H': cfg->default_host = optarg; break;
        case 'p': cfg->port_file = optarg; break;
        case 't': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 256) {
                fprintf(stderr, "bento: --threads must be 1..256\n");
                return 2;
            }
            cfg->threads = (unsigned)n;
            break;
        }
        case 'l': {
            const char *eq = strchr(optarg, '=');
            struct bt_listen l;
            char *app = eq ? strndup(optarg, (size_t)(eq - optarg)) : NULL;
            if (!app || !find_app(app) ||
                bt_config_parse_listen(cfg, eq + 1, cfg->default_host, &l) ||
                bt_config_set_listen(cfg, app, &l)) {
                fprintf(stderr, "bento: bad --listen %s (want service=host:port)\n", optarg);
                free(app);
                return 2;
            }
            free(app);
            break;
        }
        case 'S':
            if (bt_config_add_setting(cfg, optarg)) {
                fprintf(stderr, "bento: bad --set %s (want service.key=value)\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    for (size_t i = 0; i < cfg->nservices; i++) {
        if (strcmp(cfg->services[i], "all") && !find_app(cfg->services[i])) {
            fprintf(stderr, "bento: unknown service %s\n", cfg->services[i]);
            return 2;
        }
    }
    for (size_t i = 0; bt_apps[i]; i++) {
        if (bt_config_apply_listen_env(cfg, bt_apps[i]->name, &why)) {
            fprintf(stderr, "bento: %s\n", why);
            return 2;
        }
    }
    if (bt_config_finish(cfg, &why)) {
        fprintf(stderr, "bento: %s\n", why);
        return 2;
    }
    if (!strcmp(cmd, "openapi"))
        return cmd_openapi(cfg, optind < argc ? argv[optind] : NULL);
    if (strncmp(cfg->db_url, "postgres", 8) && mkdir_p(cfg->data_dir)) {
        fprintf(stderr, "bento: cannot create data directory %s\n", cfg->data_dir);
        return 1;
    }
    bt_client_global_init();
    if (!strcmp(cmd, "serve"))
        rc = cmd_serve(cfg);
    else if (!strcmp(cmd, "migrate"))
        rc = cmd_migrate(cfg);
    else {
        fprintf(stderr, "bento: unknown command %s\n", cmd);
        usage(stderr);
        rc = 2;
    }
    bt_client_global_cleanup();
    return rc;
}

int main(int argc, char **argv)
{
    struct bt_config cfg = {0};
    int rc = run(argc, argv, &cfg);

    bt_config_release(&cfg);
    return rc;
}
