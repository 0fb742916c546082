/* SPDX-License-Identifier: MIT
 * main.c - command line, configuration and boot order. Kept short: the work is in the core.
 *   bento serve    run the enabled services until SIGTERM/SIGINT
 *   bento migrate  apply pending migrations of the enabled services and exit
 *   bento openapi SERVICE   print a service's OpenAPI document
 *   bento version
 *   bento check    configuration, database, migrations and production rules, one line each
 *   bento backup FILE       SQLite online backup (PostgreSQL: points to pg_dump)
 *   bento sql               run SQL statements from stdin (with bento's search tokenizer)
 *   bento user list|add|passwd|disable|enable SERVICE [USERNAME]   accounts (app hooks)
 * Every command that reads configuration refuses unknown service settings first.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <bento/bento.h>

#include "apps.h"

/* desc wrapped at 100 columns, the first line after a name column of width col. */
static void print_wrapped(FILE *f, const char *name, int col, const char *desc)
{
    int width = 100 - col - 1, pos = 0;
    const char *p = desc;

    fprintf(f, "%-*s", col, name);
    if ((int)strlen(name) >= col) {
        fprintf(f, "\n%*s", col, "");
    }
    while (*p) {
        const char *sp = strchr(p, ' ');
        int wl = sp ? (int)(sp - p) : (int)strlen(p);
        if (pos > 0 && pos + 1 + wl > width) {
            fprintf(f, "\n%*s", col, "");
            pos = 0;
        } else if (pos > 0) {
            fputc(' ', f);
            pos++;
        }
        fprintf(f, "%.*s", wl, p);
        pos += wl;
        p += wl;
        while (*p == ' ')
            p++;
    }
    fputc('\n', f);
}

static void usage_setting(FILE *f, const char *app, const struct bt_setting *s)
{
    char name[96], desc[512];

    snprintf(name, sizeof(name), "    %s.%s%s", app, s->key,
             (s->flags & BT_SETTING_SECRET) ? " *" : "");
    snprintf(desc, sizeof(desc), "%s%s%s%s", s->desc, s->dflt ? " (default " : "",
             s->dflt ? s->dflt : "", s->dflt ? ")" : "");
    print_wrapped(f, name, 32, desc);
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: bento <command> [options]\n"
        "\n"
        "commands:\n"
        "  serve             run the enabled services (default command)\n"
        "  migrate           apply pending database migrations and exit\n"
        "  check             check configuration, database, migrations and production rules\n"
        "                    (one line each; exit 0 only when all pass)\n"
        "  backup FILE       copy the SQLite database into the new FILE while it runs\n"
        "                    (PostgreSQL: use pg_dump)\n"
        "  sql               run the SQL statements read from stdin on the database (SQLite:\n"
        "                    the way to write searched tables outside the API)\n"
        "  user list SERVICE                 list accounts\n"
        "  user add SERVICE NAME [--role R] [--email ADDR] [--password-stdin]\n"
        "  user passwd SERVICE NAME [--password-stdin]   new password, ends its sessions\n"
        "  user disable SERVICE NAME         disable, ends its sessions and refresh tokens\n"
        "  user enable SERVICE NAME          enable again\n"
        "                    the password is asked on the terminal, or read as one line from\n"
        "                    stdin with --password-stdin (never from the command line)\n"
        "  openapi SERVICE   print the OpenAPI 3.1 document of SERVICE\n"
        "  version           print the version (also --version)\n"
        "\n"
        "options (each also read from the environment variable shown):\n"
        "  --services LIST   comma-separated services to run (BENTO_SERVICES; default all)\n"
        "  --db URL          database: sqlite:PATH or postgres://... (BENTO_DB;\n"
        "                    default sqlite:DATA_DIR/bento.db; BENTO_DB_FILE reads it from a\n"
        "                    file)\n"
        "  --data-dir DIR    data directory for the SQLite file and uploads\n"
        "                    (BENTO_DATA_DIR; default ./data)\n"
        "  --host ADDR       default listen address (BENTO_HOST; default 127.0.0.1)\n"
        "  --listen S=ADDR   listener of service S as host:port, [v6]:port or port; port 0\n"
        "                    picks a free port (BENTO_<S>_LISTEN; defaults in README)\n"
        "  --port-file FILE  write \"service host port mount\" lines once listening\n"
        "                    (BENTO_PORT_FILE)\n"
        "  --threads N       request threads per listener (BENTO_THREADS; default: one per\n"
        "                    CPU on SQLite, two per CPU on PostgreSQL)\n"
        "  --set S.KEY=VAL   a service setting, e.g. vendorchat.llm_url=http://...\n"
        "                    (BENTO_<S>_<KEY>; the settings are listed below)\n"
        "  -h, --help        this help\n"
        "  -V, --version     print the version\n"
        "\n"
        "limits (environment only): BENTO_MAX_BODY (bytes, 1048576), BENTO_MAX_HEADER\n"
        "  (bytes, 16384), BENTO_CONN_LIMIT (1024), BENTO_PER_IP_LIMIT (64),\n"
        "  BENTO_CONN_TIMEOUT (seconds, 30), BENTO_HEADER_TIMEOUT (seconds, 10),\n"
        "  BENTO_BODY_MIN_RATE (bytes/s, 1024), BENTO_DB_POOL (16), BENTO_DB_TIMEOUT_MS (5000),\n"
        "  BENTO_QUERY_TIMEOUT_MS (each statement of a request, 5000; 0 = none),\n"
        "  BENTO_SLOW_THREADS (slow-lane threads per listener; default 1 per CPU),\n"
        "  BENTO_SLOW_QUEUE (slow-lane requests waiting per listener, 256; then 503)\n"
        "other: BENTO_ENV=development|production (production refuses default secrets),\n"
        "  BENTO_LOG_LEVEL=debug|info|warn|error|off, BENTO_ACCESS_LOG=1|0,\n"
        "  BENTO_TRUSTED_PROXIES=ADDR|CIDR,... (peers whose X-Forwarded-For/-Proto count)\n"
        "service settings every service has: S.cors_origins (browser origins allowed),\n"
        "  S.public_url (base of returned URLs), S.rate_limit, S.max_body\n"
        "\n"
        "service settings: --set S.KEY=VALUE or BENTO_<S>_<KEY>=VALUE (a flag wins). A secret\n"
        "(*) is never printed and may instead be read from a file: --set S.KEY_file=PATH or\n"
        "BENTO_<S>_<KEY>_FILE=PATH (one trailing newline is stripped). An unknown setting\n"
        "makes every command refuse to start.\n"
        "  every service S:\n");
    for (const struct bt_setting *s = bt_core_settings; s->key; s++)
        usage_setting(f, "S", s);
    fprintf(f, "  every service S with password logins (");
    for (size_t i = 0, n = 0; bt_apps[i]; i++)
        if (bt_apps[i]->login)
            fprintf(f, "%s%s", n++ ? ", " : "", bt_apps[i]->name);
    fprintf(f, "):\n");
    for (const struct bt_setting *s = bt_login_settings; s->key; s++)
        usage_setting(f, "S", s);
    for (size_t i = 0; bt_apps[i]; i++) {
        const struct bt_app *app = bt_apps[i];
        fprintf(f, "  %s (port %u", app->name, app->default_port);
        if (app->rate.limit)
            fprintf(f, ", rate_limit %u/%u", app->rate.limit, app->rate.window_s);
        if (app->max_body)
            fprintf(f, ", max_body %zu", app->max_body);
        fprintf(f, "%s", app->users ? ", accounts: bento user" : "");
        if (app->login) /* on a line of its own, indented past the settings' column */
            fprintf(f, ",\n      login_limit %u, login_lockout %u, login_ip_limit %u/%u",
                    app->login->fail_limit, app->login->lockout_s, app->login->ip_limit,
                    app->login->ip_window_s ? app->login->ip_window_s : 60);
        fprintf(f, "):\n");
        for (const struct bt_setting *s = app->settings; s && s->key; s++)
            usage_setting(f, app->name, s);
    }
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
        if (name)
            fprintf(stderr, "bento: unknown service %s\n", name);
        else
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

/* ---- bento backup ---- */

/* bento sql: the statements read from stdin, run as one script on the database (no
 * parameters, no result rows printed). On SQLite it is the way to write to tables with a
 * search index outside the API: the sqlite3 shell lacks bento's tokenizer, so their
 * triggers cannot run there. */
static int cmd_sql(struct bt_config *cfg)
{
    struct bt_dbpool *pool;
    struct bt_db *db;
    struct bt_err err;
    size_t len = 0, cap = 1 << 16;
    char *sql = malloc(cap);
    int rc;

    if (!sql)
        return die("out of memory", "bento sql: reading stdin");
    for (size_t n; (n = fread(sql + len, 1, cap - len - 1, stdin)) > 0;) {
        len += n;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(sql, cap * 2);
            if (!bigger) {
                free(sql);
                return die("out of memory", "bento sql: reading stdin");
            }
            sql = bigger;
            cap *= 2;
        }
    }
    sql[len] = '\0';
    if (ferror(stdin) || memchr(sql, '\0', len)) {
        free(sql);
        fprintf(stderr, "bento: sql: cannot read the statements from stdin%s\n",
                ferror(stdin) ? "" : " (a NUL byte)");
        return 1;
    }
    bt_err_clear(&err);
    if (bt_dbpool_open(cfg->db_url, 1, &pool, &err) != BT_OK) {
        free(sql);
        return die("cannot open database", err.msg);
    }
    db = bt_dbpool_get(pool, cfg->db_timeout_ms, &err);
    rc = db ? bt_db_exec_script(db, sql, &err) : BT_EDB;
    if (db)
        bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);
    free(sql);
    if (rc != BT_OK) {
        fprintf(stderr, "bento: sql: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int cmd_backup(struct bt_config *cfg, const char *file)
{
    struct bt_err err;
    struct bt_arena *a;

    if (!file) {
        fprintf(stderr, "bento: backup needs a FILE to write\n");
        return 2;
    }
    bt_err_clear(&err);
    if (bt_db_backup(cfg->db_url, file, &err) != BT_OK) {
        fprintf(stderr, "bento: backup: %s\n", err.msg);
        return 1;
    }
    a = bt_arena_new();
    printf("backup of %s written to %s\n", bt_db_url_redact(a, cfg->db_url), file);
    bt_arena_free(a);
    return 0;
}

/* ---- bento user ---- */

struct user_opts {
    const char *role, *email;
    bool password_stdin;
};

/* One line from stdin: the newline (LF or CRLF) stripped. 0, or -1 with a message. */
static int password_from_stdin(char *buf, size_t n)
{
    size_t len;

    if (!fgets(buf, (int)n, stdin)) {
        fprintf(stderr, "bento: no password on stdin\n");
        return -1;
    }
    len = strlen(buf);
    if (len == n - 1 && buf[len - 1] != '\n' && !feof(stdin)) {
        fprintf(stderr, "bento: the password on stdin is too long\n");
        return -1;
    }
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = '\0';
    return 0;
}

/* Ask on the controlling terminal with echo off. 0, or -1 with a message. */
static int password_prompt(const char *prompt, char *buf, size_t n)
{
    struct termios old, quiet;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    FILE *tty;
    size_t len;
    int rc = 0;

    if (fd < 0) {
        fprintf(stderr, "bento: no terminal to ask for the password on: give it on stdin with "
                        "--password-stdin\n");
        return -1;
    }
    tty = fdopen(fd, "r+");
    if (!tty || tcgetattr(fd, &old) != 0) {
        fprintf(stderr, "bento: cannot use the terminal: %s\n", strerror(errno));
        if (tty)
            fclose(tty);
        else
            close(fd);
        return -1;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    /* echo off before the prompt (as getpass): input typed after the prompt must not be
     * flushed; the prompt and the newline go straight to the descriptor, the FILE only
     * reads */
    tcsetattr(fd, TCSAFLUSH, &quiet);
    if (write(fd, prompt, strlen(prompt)) < 0 || !fgets(buf, (int)n, tty))
        rc = -1;
    tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0)
        rc = -1;
    fclose(tty);
    if (rc) {
        fprintf(stderr, "bento: no password given\n");
        return -1;
    }
    len = strlen(buf);
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    return 0;
}

static int read_password(const struct user_opts *o, char *buf, size_t n)
{
    char again[1024];
    int rc;

    if (o->password_stdin)
        return password_from_stdin(buf, n);
    if (password_prompt("New password: ", buf, n))
        return -1;
    rc = password_prompt("Repeat it: ", again, sizeof(again));
    if (rc == 0 && strcmp(buf, again) != 0) {
        fprintf(stderr, "bento: the passwords differ\n");
        rc = -1;
    }
    explicit_bzero(again, sizeof(again));
    return rc;
}

static void print_table(const struct bt_rows *rows)
{
    size_t w[16] = {0}, nc = rows->ncols < 16 ? rows->ncols : 16;

    for (size_t c = 0; c < nc; c++)
        w[c] = strlen(rows->names[c]);
    for (size_t r = 0; r < rows->nrows; r++)
        for (size_t c = 0; c < nc; c++) {
            const char *t = rows->kinds[c] == BT_COL_BOOL ? "yes" : bt_rows_text(rows, r, c);
            size_t l = strlen(t ? t : "-");
            if (l > w[c])
                w[c] = l;
        }
    for (size_t c = 0; c < nc; c++) {
        for (const char *p = rows->names[c]; *p; p++)
            putchar(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        printf("%*s", c + 1 < nc ? (int)(w[c] - strlen(rows->names[c]) + 2) : 0, "");
    }
    putchar('\n');
    for (size_t r = 0; r < rows->nrows; r++) {
        for (size_t c = 0; c < nc; c++) {
            const char *t = rows->kinds[c] == BT_COL_BOOL
                                ? (bt_rows_bool(rows, r, c, false) ? "yes" : "no")
                                : bt_rows_text(rows, r, c);
            if (!t)
                t = "-";
            printf("%s%*s", t, c + 1 < nc ? (int)(w[c] - strlen(t) + 2) : 0, "");
        }
        putchar('\n');
    }
}

static int cmd_user(struct bt_config *cfg, int argc, char **argv, const struct user_opts *o)
{
    const char *sub = argc > 0 ? argv[0] : NULL, *service = argc > 1 ? argv[1] : NULL;
    const char *username = argc > 2 ? argv[2] : NULL;
    const struct bt_app *app;
    struct bt_app copy;
    struct bt_app_ctx *ctx = NULL;
    struct bt_dbpool *pool = NULL;
    struct bt_db *db = NULL;
    struct bt_arena *a = NULL;
    struct bt_err err;
    char pw[1024];
    bool list, add, passwd, disable, enable;
    int rc = 1;

    list = sub && !strcmp(sub, "list");
    add = sub && !strcmp(sub, "add");
    passwd = sub && !strcmp(sub, "passwd");
    disable = sub && !strcmp(sub, "disable");
    enable = sub && !strcmp(sub, "enable");
    if (!(list || add || passwd || disable || enable) || !service || (list && argc != 2) ||
        (!list && argc != 3)) {
        fprintf(stderr, "usage: bento user list SERVICE\n"
                        "       bento user add SERVICE NAME [--role ROLE] [--email ADDRESS] "
                        "[--password-stdin]\n"
                        "       bento user passwd|disable|enable SERVICE NAME\n");
        return 2;
    }
    app = find_app(service);
    if (!app || !app->users) {
        fprintf(stderr, "bento: %s %s (services with accounts:", service,
                app ? "has no accounts" : "is no service");
        for (size_t i = 0; bt_apps[i]; i++)
            if (bt_apps[i]->users)
                fprintf(stderr, " %s", bt_apps[i]->name);
        fprintf(stderr, ")\n");
        return 2;
    }
    if ((o->role || o->email) && !add) {
        fprintf(stderr, "bento: --role and --email are for bento user add\n");
        return 2;
    }
    if (o->password_stdin && !(add || passwd)) {
        fprintf(stderr, "bento: --password-stdin is for bento user add and passwd\n");
        return 2;
    }
    if (add && app->users->needs_email && !o->email) {
        fprintf(stderr, "bento: %s accounts need --email ADDRESS\n", app->name);
        return 2;
    }
    if ((add || passwd) && read_password(o, pw, sizeof(pw)))
        return 1;

    /* the app on the database without init (no seeding, no start-up refusals: this is how a
     * locked-out production admin gets back in); creating the context applies migrations */
    bt_err_clear(&err);
    copy = *app;
    copy.init = NULL;
    copy.fini = NULL;
    if (bt_dbpool_open(cfg->db_url, 1, &pool, &err) != BT_OK ||
        bt_app_ctx_new(&copy, cfg, pool, &ctx, &err) != BT_OK ||
        !(db = bt_dbpool_get(pool, cfg->db_timeout_ms, &err))) {
        fprintf(stderr, "bento: user %s: cannot open the database: %s\n", sub, err.msg);
        goto out;
    }
    a = bt_arena_new();
    if (list) {
        struct bt_rows *rows;
        if (app->users->list(ctx, db, a, &rows, &err) == BT_OK) {
            print_table(rows);
            rc = 0;
        }
    } else if (add) {
        struct bt_user_new u = {username, o->role, o->email, pw};
        if (app->users->add(ctx, db, a, &u, &err) == BT_OK) {
            printf("%s: user %s added (%s)\n", app->name, username,
                   o->role ? o->role : app->users->roles[0]);
            rc = 0;
        }
    } else if (passwd) {
        if (app->users->passwd(ctx, db, a, username, pw, &err) == BT_OK) {
            printf("%s: password of %s changed; its sessions ended\n", app->name, username);
            rc = 0;
        }
    } else {
        int64_t ended = 0;
        if (app->users->set_active(ctx, db, a, username, enable, &ended, &err) == BT_OK) {
            printf("%s: user %s %s", app->name, username, enable ? "enabled" : "disabled");
            if (!enable)
                printf("; %lld session(s) ended", (long long)ended);
            putchar('\n');
            rc = 0;
        }
    }
    if (rc != 0)
        fprintf(stderr, "bento: user %s %s: %s\n", sub, app->name, err.msg);
out:
    explicit_bzero(pw, sizeof(pw));
    if (db)
        bt_dbpool_put(pool, db);
    if (ctx) {
        ctx->state = NULL;
        bt_app_ctx_free(ctx);
    }
    bt_dbpool_free(pool);
    bt_arena_free(a);
    return rc;
}

/* ---- bento check ---- */

struct check {
    int failed;
};

static void check_line(struct check *ck, bool ok, const char *what, const char *detail)
{
    printf("%-4s  %s%s%s\n", ok ? "ok" : "FAIL", what, detail && *detail ? ": " : "",
           detail ? detail : "");
    if (!ok)
        ck->failed++;
}

/* Database, migrations and each enabled service's settings and production rules. */
static int cmd_check(struct bt_config *cfg, struct check *ck)
{
    struct bt_arena *a = bt_arena_new();
    const char *shown = bt_db_url_redact(a, cfg->db_url);
    const char *file =
        bt_db_url_engine(cfg->db_url) == BT_ENGINE_SQLITE ? bt_db_sqlite_file(cfg->db_url) : NULL;
    struct bt_dbpool *pool = NULL;
    struct bt_db *db = NULL;
    struct bt_err err;
    struct stat st;
    char what[160];

    bt_err_clear(&err);
    if (file && stat(file, &st) != 0) {
        /* opening would create it: check must not change anything */
        check_line(ck, false, bt_arena_printf(a, "database %s", shown),
                   "no such file (bento migrate or bento serve creates it)");
    } else if (bt_dbpool_open(cfg->db_url, 1, &pool, &err) != BT_OK ||
               !(db = bt_dbpool_get(pool, cfg->db_timeout_ms, &err))) {
        check_line(ck, false, bt_arena_printf(a, "database %s", shown), err.msg);
    } else {
        check_line(ck, true, bt_arena_printf(a, "database %s", shown), "reachable");
    }
    for (size_t i = 0; bt_apps[i]; i++) {
        const struct bt_app *app = bt_apps[i];
        struct bt_app copy = *app;
        struct bt_app_ctx *ctx = NULL;
        bool current = false;

        if (!bt_config_enabled(cfg, app->name))
            continue;
        if (db && app->migrations) {
            const struct bt_migration *pending[8];
            size_t n = 0, total = 0;
            snprintf(what, sizeof(what), "migrations %s", app->name);
            for (const struct bt_migration *m = app->migrations; m->version; m++)
                total++;
            bt_err_clear(&err);
            if (bt_migrate_pending(db, app->name, app->migrations, pending, 8, &n, &err) != BT_OK) {
                check_line(ck, false, what, err.msg);
            } else if (n == 0) {
                current = true;
                check_line(ck, true, what, bt_arena_printf(a, "current (%zu applied)", total));
            } else {
                struct bt_buf b;
                bt_buf_init(&b, a, 128);
                bt_buf_addf(&b, "%zu of %zu pending (bento migrate applies them):", n, total);
                for (size_t k = 0; k < n && k < 8; k++)
                    bt_buf_addf(&b, "%s %04lld %s", k ? "," : "", (long long)pending[k]->version,
                                pending[k]->name);
                if (n > 8)
                    bt_buf_adds(&b, ", ...");
                check_line(ck, false, what, b.p);
            }
        } else if (db) {
            current = true;
        }
        /* the settings as start-up reads them (limits and any rule the core checks when a
         * context is made), then the app's own rules; the database only when it is current */
        snprintf(what, sizeof(what), "settings %s%s", app->name,
                 cfg->production ? " (production)" : "");
        copy.init = NULL;
        copy.fini = NULL;
        copy.migrations = NULL;
        bt_err_clear(&err);
        if (bt_app_ctx_new(&copy, cfg, NULL, &ctx, &err) != BT_OK) {
            check_line(ck, false, what, err.msg);
            continue;
        }
        if (app->check && app->check(ctx, current ? db : NULL, &err) != BT_OK)
            check_line(ck, false, what, err.msg);
        else
            check_line(ck, true, what, current || !app->check ? NULL : "database rules skipped");
        ctx->state = NULL;
        bt_app_ctx_free(ctx);
    }
    if (db)
        bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);
    bt_arena_free(a);
    return ck->failed ? 1 : 0;
}

/* ---- command line ---- */

enum { OPT_ROLE = 1000, OPT_EMAIL, OPT_PASSWORD_STDIN };

/* A configuration problem: for check one FAIL line (and go on), otherwise a message. */
static void config_problem(const char *cmd, struct check *ck, const char *msg)
{
    if (!strcmp(cmd, "check"))
        check_line(ck, false, "configuration", msg);
    else
        fprintf(stderr, "bento: %s\n", msg);
}

static int run(int argc, char **argv, struct bt_config *cfg)
{
    static const struct option opts[] = {
        {"services", required_argument, NULL, 's'},
        {"db", required_argument, NULL, 'd'},
        {"data-dir", required_argument, NULL, 'D'},
        {"host", required_argument, NULL, 'H'},
        {"listen", required_argument, NULL, 'l'},
        {"port-file", required_argument, NULL, 'p'},
        {"threads", required_argument, NULL, 't'},
        {"set", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"role", required_argument, NULL, OPT_ROLE},
        {"email", required_argument, NULL, OPT_EMAIL},
        {"password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN},
        {NULL, 0, NULL, 0},
    };
    struct bt_config_problems probs;
    struct user_opts uo = {0};
    struct check ck = {0};
    const char *why = NULL;
    const char *cmd = "serve";
    int c, rc;

    if (argc > 1 && argv[1][0] != '-') {
        cmd = argv[1];
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    if (!strcmp(cmd, "version")) {
        printf("bento %s\n", BENTO_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    /* --help and --version answer even when the environment holds a bad value */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
            printf("bento %s\n", BENTO_VERSION);
            return 0;
        }
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    }
    if (bt_config_defaults(cfg, &why)) {
        config_problem(cmd, &ck, why);
        return strcmp(cmd, "check") ? 2 : 1;
    }
    bt_log_setup(bt_log_level_parse(cfg->log_level, BT_LOG_INFO), 2);
    while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
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
                /* the flag only: the value may be a secret */
                const char *eq = strchr(optarg, '=');
                fprintf(stderr, "bento: bad --set %.*s (want service.key=value)\n",
                        eq ? (int)(eq - optarg) : (int)strlen(optarg), optarg);
                return 2;
            }
            break;
        case OPT_ROLE: uo.role = optarg; break;
        case OPT_EMAIL: uo.email = optarg; break;
        case OPT_PASSWORD_STDIN: uo.password_stdin = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("bento %s\n", BENTO_VERSION); return 0;
        default: fprintf(stderr, "bento: see bento --help\n"); return 2;
        }
    }
    if ((uo.role || uo.email || uo.password_stdin) && strcmp(cmd, "user")) {
        fprintf(stderr, "bento: --role, --email and --password-stdin are for bento user\n");
        return 2;
    }
    for (size_t i = 0; i < cfg->nservices; i++) {
        if (strcmp(cfg->services[i], "all") && !find_app(cfg->services[i])) {
            char msg[160];
            snprintf(msg, sizeof(msg), "unknown service %s in --services/BENTO_SERVICES",
                     cfg->services[i]);
            config_problem(cmd, &ck, msg);
            if (strcmp(cmd, "check"))
                return 2;
        }
    }
    /* every linked service's settings, enabled or not: a typo must never pass silently */
    if (bt_config_check_settings(cfg, bt_apps, &probs) > 0) {
        for (size_t i = 0; i < probs.n; i++)
            config_problem(cmd, &ck, probs.msg[i]);
        if (strcmp(cmd, "check"))
            return 2;
    }
    for (size_t i = 0; bt_apps[i]; i++) {
        if (bt_config_apply_listen_env(cfg, bt_apps[i]->name, &why)) {
            config_problem(cmd, &ck, why);
            if (strcmp(cmd, "check"))
                return 2;
        }
    }
    if (bt_config_finish(cfg, &why)) {
        config_problem(cmd, &ck, why);
        return strcmp(cmd, "check") ? 2 : 1;
    }
    if (!strcmp(cmd, "check") && ck.failed == 0)
        check_line(&ck, true, "configuration", NULL);
    if (!strcmp(cmd, "openapi"))
        return cmd_openapi(cfg, optind < argc ? argv[optind] : NULL);
    if (!strcmp(cmd, "backup")) {
        if (argc - optind > 1) {
            fprintf(stderr, "bento: backup takes one FILE\n");
            return 2;
        }
        return cmd_backup(cfg, optind < argc ? argv[optind] : NULL);
    }
    if (!strcmp(cmd, "check")) {
        if (optind < argc) {
            fprintf(stderr, "bento: check takes no arguments\n");
            return 2;
        }
        return cmd_check(cfg, &ck);
    }
    if (!strcmp(cmd, "sql")) {
        if (optind < argc) {
            fprintf(stderr, "bento: sql reads its statements from stdin and takes no arguments\n");
            return 2;
        }
        return cmd_sql(cfg);
    }
    if (strcmp(cmd, "serve") && strcmp(cmd, "migrate") && strcmp(cmd, "user")) {
        fprintf(stderr, "bento: unknown command %s (see bento --help)\n", cmd);
        return 2;
    }
    if (bt_db_url_engine(cfg->db_url) == BT_ENGINE_SQLITE && mkdir_p(cfg->data_dir)) {
        fprintf(stderr, "bento: cannot create data directory %s\n", cfg->data_dir);
        return 1;
    }
    bt_client_global_init();
    if (!strcmp(cmd, "serve"))
        rc = cmd_serve(cfg);
    else if (!strcmp(cmd, "migrate"))
        rc = cmd_migrate(cfg);
    else
        rc = cmd_user(cfg, argc - optind, argv + optind, &uo);
    bt_client_global_cleanup();
    return rc;
}

/* glibc raises its mmap threshold each time a large block is freed, after which blocks of
 * that size come from the freeing thread's arena and stay resident: with one arena per
 * request thread, RSS then climbs in steps for a long time (docs/PERFORMANCE.md, "Soak").
 * A fixed threshold (glibc's initial 128 KiB; fixing it ends the adjustment) keeps large
 * blocks in mmap and RSS flat. An operator's MALLOC_MMAP_THRESHOLD_ wins. */
static void malloc_policy(void)
{
    if (!getenv("MALLOC_MMAP_THRESHOLD_"))
        mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

int main(int argc, char **argv)
{
    struct bt_config cfg = {0};
    int rc;

    malloc_policy();
    rc = run(argc, argv, &cfg);

    bt_config_release(&cfg);
    return rc;
}
