/* SPDX-License-Identifier: MIT
 * config.h - process configuration: command-line flags over BENTO_* environment variables
 * over defaults. Loaded once at start-up; read-only afterwards (safe to share across threads).
 */
#ifndef BENTO_CONFIG_H
#define BENTO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct bt_cidr;

#define BT_MAX_APPS 8
#define BT_MAX_SETTINGS 64

struct bt_listen {
    const char *app;  /* app name */
    const char *host; /* "127.0.0.1", "0.0.0.0", "::" */
    int port;         /* 0 = ephemeral (see port_file) */
};

struct bt_config {
    const char *data_dir;  /* BENTO_DATA_DIR, --data-dir (default ./data) */
    const char *db_url;    /* BENTO_DB, --db (default sqlite:<data_dir>/bento.db) */
    const char *db_file;   /* BENTO_DB_FILE: a file holding the URL (used when no --db) */
    const char *port_file; /* BENTO_PORT_FILE, --port-file: "<app> <host> <port>\n" per app */
    const char *services[BT_MAX_APPS]; /* BENTO_SERVICES, --services (default all linked) */
    size_t nservices;
    struct bt_listen listen[BT_MAX_APPS]; /* --listen app=host:port, BENTO_<APP>_LISTEN */
    size_t nlisten;
    const char *default_host; /* BENTO_HOST, --host (default 127.0.0.1) */

    unsigned threads;          /* BENTO_THREADS, --threads: handler threads per listener (0 =
                                * auto: CPUs on SQLite, 2 x CPUs on PostgreSQL) */
    unsigned conn_limit;       /* BENTO_CONN_LIMIT: connections per listener (1024) */
    unsigned per_ip_limit;     /* BENTO_PER_IP_LIMIT: connections per client IP (64) */
    unsigned conn_timeout_s;   /* BENTO_CONN_TIMEOUT: idle seconds before close (30) */
    unsigned header_timeout_s; /* BENTO_HEADER_TIMEOUT: seconds for a new connection's
                                * request line + headers (10) */
    unsigned body_min_rate;    /* BENTO_BODY_MIN_RATE: bytes/s a body must average once
                                * BENTO_HEADER_TIMEOUT seconds have passed (1024; 0 = off) */
    size_t max_body;           /* BENTO_MAX_BODY: request body cap in bytes (1 MiB) */
    size_t max_header;         /* BENTO_MAX_HEADER: request line + headers cap (16 KiB) */
    unsigned db_pool;          /* BENTO_DB_POOL: connections per process (16) */
    int db_timeout_ms;         /* BENTO_DB_TIMEOUT_MS: wait for a pooled connection (5000) */
    int query_timeout_ms;      /* BENTO_QUERY_TIMEOUT_MS: each statement of a request (5000;
                                * 0 = no deadline) */
    unsigned slow_threads;     /* BENTO_SLOW_THREADS: slow-lane threads per listener (0 = auto:
                                * one per CPU, at most half the pool) */
    unsigned slow_queue;       /* BENTO_SLOW_QUEUE: slow-lane requests waiting per listener
                                * before more are refused with 503 (256) */

    bool production;       /* BENTO_ENV=production */
    const char *log_level; /* BENTO_LOG_LEVEL: debug|info|warn|error|off (info) */
    bool access_log;       /* BENTO_ACCESS_LOG: 1/0 (1) */

    /* BENTO_TRUSTED_PROXIES: peers whose X-Forwarded-For / -Proto are believed (none) */
    const struct bt_cidr *trusted_proxies;
    size_t ntrusted_proxies;

    /* --set app.key=value pairs (app settings; see bt_app_setting) */
    const char *set_keys[BT_MAX_SETTINGS];
    const char *set_vals[BT_MAX_SETTINGS];
    size_t nset;

    /* secret settings read from their files by bt_config_check_settings ("app.key") */
    const char *file_keys[BT_MAX_SETTINGS];
    const char *file_vals[BT_MAX_SETTINGS];
    size_t nfile;

    struct bt_arena *strings; /* owns every string the config copied; see bt_config_release */
};

/** Fill c with defaults, then apply BENTO_* environment variables. Strings are borrowed from
 *  the environment or static, or copied into c->strings. Returns 0, or -1 with a message in
 *  why. Release with bt_config_release (also after a failure). */
int bt_config_defaults(struct bt_config *c, const char **why);

/** Free the strings c copied. c must not be used afterwards. */
void bt_config_release(struct bt_config *c);

/** Look up an app setting "app.key": --set first, then a secret read from its file, then
 *  BENTO_<APP>_<KEY>, else dflt. Unchecked: apps use bt_app_setting. */
const char *bt_config_setting(const struct bt_config *c, const char *app, const char *key,
                              const char *dflt);

/** Is app enabled (in services, or services empty)? */
bool bt_config_enabled(const struct bt_config *c, const char *app);

/** Listener for app: its --listen / BENTO_<APP>_LISTEN entry, else default_host and
 *  dflt_port. */
struct bt_listen bt_config_listen(const struct bt_config *c, const char *app, int dflt_port);

/** After flags are applied: derive what depends on other settings (db_url defaults to
 *  sqlite:<data_dir>/bento.db) and check ranges. Returns 0, or -1 with a message in why. */
int bt_config_finish(struct bt_config *c, const char **why);

/** Parse "host:port", "[v6]:port" or "port" into l (strings owned by c). 0 or -1. */
int bt_config_parse_listen(struct bt_config *c, const char *s, const char *dflt_host,
                           struct bt_listen *l);

/** Apply BENTO_<APP>_LISTEN unless a listener for app was set already (flags win).
 *  Returns 0, or -1 with a message in why when the variable is malformed. */
int bt_config_apply_listen_env(struct bt_config *c, const char *app, const char **why);

/** Set the listener of app (replacing an earlier one). 0, or -1 when the table is full. */
int bt_config_set_listen(struct bt_config *c, const char *app, const struct bt_listen *l);

/** Parse a comma list of service names into c->services. 0, or -1 if too many. */
int bt_config_set_services(struct bt_config *c, const char *list);

/* Longest secret file accepted (a key, a password or a database URL). */
#define BT_SECRET_FILE_MAX 65536

/** Read a secret from the file at path into *out (owned by c): one trailing newline (LF or
 *  CRLF) stripped. 0, or -1 with a message in why naming name (the flag or variable) and the
 *  path, never the contents, when the file cannot be read, is empty, larger than
 *  BT_SECRET_FILE_MAX or holds a NUL byte. */
int bt_config_read_secret(struct bt_config *c, const char *name, const char *path, const char **out,
                          const char **why);

/** Add a --set app.key=value pair. 0, or -1 if malformed or the table is full. */
int bt_config_add_setting(struct bt_config *c, const char *kv);

/* ---- the settings registry (src/core/settings.c) ---- */

struct bt_app;
struct bt_setting;

/** The declaration of key for app: the core's, else the app's table; NULL when undeclared. */
const struct bt_setting *bt_setting_find(const struct bt_app *app, const char *key);

/** "BENTO_<APP>_<KEY>" (upper-cased, other characters '_') into out (n bytes). */
void bt_setting_env_name(char *out, size_t n, const char *app, const char *key);

/* Configuration problems, one English line each (strings owned by the config). */
#define BT_CONFIG_MAX_PROBLEMS 32
struct bt_config_problems {
    const char *msg[BT_CONFIG_MAX_PROBLEMS];
    size_t n;
};

/** Check the service settings of c against the tables of apps (NULL-terminated: every linked
 *  app, enabled or not) and read secret files. Problems: a --set with an unknown service or
 *  key; a BENTO_<APP>_* variable that is no setting of APP (other BENTO_* variables are not
 *  service settings and are left alone); a secret given both as value and as file (in one
 *  layer: flags or environment); a secret file that cannot be read or is empty. The values
 *  read go to c->file_* (one trailing newline stripped); messages name the flag or variable,
 *  never a value. Call once, before anything reads a setting. Returns p->n (0 = fine). */
size_t bt_config_check_settings(struct bt_config *c, const struct bt_app *const *apps,
                                struct bt_config_problems *p);

#endif
