/* SPDX-License-Identifier: MIT
 * app.h - what an application gives the core. An app is plain data: routes, migrations and
 * a few hooks. The core owns the order of start-up (migrate -> init -> listen) and shut-down,
 * and the request pipeline. Apps never call each other; they only call bt_* functions.
 */
#ifndef BENTO_APP_H
#define BENTO_APP_H

#include <stdbool.h>
#include <stdint.h>

#include <bento/http.h>
#include <bento/migrate.h>
#include <bento/route.h>

struct bt_arena;
struct bt_config;
struct bt_login_rules;
struct bt_loginguard;
struct bt_cors;
struct bt_db;
struct bt_dbpool;
struct bt_metrics;
struct bt_rows;

/** Render err into the app's error envelope. Must set rs (status, body). Called for every
 *  failure, including the core's own (404, 405, 413, 431, 415, 400 validation, 500). */
typedef void bt_render_error_fn(struct bt_req *rq, struct bt_res *rs, const struct bt_err *err);

/** Optional: authenticate the request for a non-public route; set rq->principal. Return
 *  BT_OK, or BT_EAUTH with err filled. */
typedef int bt_authenticate_fn(struct bt_req *rq, struct bt_err *err);

/** Optional: may the principal use a route whose access has role bits? BT_OK or
 *  BT_EFORBIDDEN. */
typedef int bt_authorize_fn(struct bt_req *rq, unsigned access, struct bt_err *err);

/* App flags.
 *   BT_APP_OWN_HEALTH   the app's routes define /health (the core adds none)
 *   BT_APP_OWN_METRICS  the app's routes define /metrics (the core adds none)
 *   BT_APP_STRICT_JSON  JSON-body routes require Content-Type application/json (or a
 *                       +json type); anything else fails with BT_EMEDIATYPE
 */
#define BT_APP_OWN_HEALTH 0x01u
#define BT_APP_OWN_METRICS 0x02u
#define BT_APP_STRICT_JSON 0x04u

/* Per-client rate limit of an app: `limit` requests per `window_s` seconds per client
 * address, enforced by the core before authentication. Every limited response carries
 * X-RateLimit-Limit/-Remaining/-Reset; a refused one is BT_ELIMIT (429) with Retry-After.
 * Routes flagged BT_R_NO_LIMIT (the core's /health and /metrics) are not counted. Limits are
 * per process: N instances behind a balancer allow up to N times the limit. */
struct bt_app_limit {
    unsigned limit;
    unsigned window_s;
};

/* A setting an app reads with bt_app_setting: --set <app>.<key>=VALUE or BENTO_<APP>_<KEY>.
 * Each app declares every key it reads in its settings table; the core adds the keys every
 * service has (bt_core_settings: listen, rate_limit, max_body, cors_origins, public_url).
 * Start-up refuses an undeclared --set key or BENTO_<APP>_* variable, and bt_app_setting
 * with an undeclared key is a bug (bt_bug), so the table cannot drift from the code.
 *   BT_SETTING_SECRET  never printed; also read from a file: <key>_file / BENTO_<APP>_<KEY>_FILE
 */
#define BT_SETTING_SECRET 0x01u

struct bt_setting {
    const char *key;  /* "jwt_secret": lower-case letters, digits and '_' */
    unsigned flags;   /* BT_SETTING_* */
    const char *dflt; /* the default as text for --help, NULL when unset by default */
    const char *desc; /* one line for --help and README, English */
};

#define BT_SETTING_END                                                                             \
    {                                                                                              \
        NULL, 0, NULL, NULL                                                                        \
    }

/* The settings every service has: listen, rate_limit, max_body, cors_origins, public_url
 * (src/core/settings.c; ends with BT_SETTING_END). */
extern const struct bt_setting bt_core_settings[];

/* The settings every service with password logins (struct bt_app.login) has: login_limit,
 * login_lockout, login_ip_limit (src/core/settings.c; ends with BT_SETTING_END). */
extern const struct bt_setting bt_login_settings[];

/* A new account for the operator CLI (`bento user add`). Strings borrowed. */
struct bt_user_new {
    const char *username;
    const char *role;     /* one of bt_app_users.roles; NULL = roles[0] */
    const char *email;    /* NULL when not given (see needs_email) */
    const char *password; /* read from a prompt or stdin, never from argv */
};

/* Account administration for `bento user list|add|passwd|disable|enable SERVICE ...`: an app
 * with accounts implements it with its own password and session code. The hooks run in the
 * CLI process on a context built without init (ctx->state is NULL; settings and
 * bt_app_production work) after the app's migrations were applied; db is one connection
 * outside any transaction. They return BT_OK or a status with an English err->msg for the
 * operator (BT_ENOTFOUND unknown user, BT_ECONFLICT duplicate, BT_EINVAL bad input). They
 * must never print or log a password or a hash. */
struct bt_app_users {
    const char *const *roles; /* accepted roles, NULL-terminated; roles[0] is the default */
    bool needs_email;         /* add requires an e-mail address */
    /** Every account, one row each, with the columns the CLI prints as a table (never a
     *  password hash). Rows arena-owned. */
    int (*list)(struct bt_app_ctx *ctx, struct bt_db *db, struct bt_arena *a, struct bt_rows **out,
                struct bt_err *err);
    /** Create an active account. The app validates every field, and in production refuses
     *  its documented default passwords. */
    int (*add)(struct bt_app_ctx *ctx, struct bt_db *db, struct bt_arena *a,
               const struct bt_user_new *u, struct bt_err *err);
    /** Set a new password and end every session of the account. */
    int (*passwd)(struct bt_app_ctx *ctx, struct bt_db *db, struct bt_arena *a,
                  const char *username, const char *password, struct bt_err *err);
    /** Disable (active false: also end every session and refresh token) or enable an
     *  account. *revoked (may be NULL) gets the number of sessions ended. */
    int (*set_active)(struct bt_app_ctx *ctx, struct bt_db *db, struct bt_arena *a,
                      const char *username, bool active, int64_t *revoked, struct bt_err *err);
};

/** Optional: check the app's settings and production rules without changing anything, for
 *  `bento check` (init applies the same rules at start-up). db is NULL when the database is
 *  unreachable or the app's migrations are not current; then only the settings are checked.
 *  BT_OK, or a status with an English err->msg naming the setting (never its value). */
typedef int bt_app_check_fn(struct bt_app_ctx *ctx, struct bt_db *db, struct bt_err *err);

struct bt_app {
    const char *name;      /* "vendorchat": tables, metrics, config keys */
    const char *title;     /* OpenAPI title */
    const char *version;   /* OpenAPI version of the API */
    const char *mount;     /* URL prefix on its listener: "" or "/v1" */
    uint16_t default_port; /* from shared/spec/README.md */
    const struct bt_route *routes;
    const struct bt_migration *migrations;
    bt_render_error_fn *render_error;
    bt_authenticate_fn *authenticate;
    bt_authorize_fn *authorize;
    int (*init)(struct bt_app_ctx *ctx, struct bt_err *err); /* may be NULL */
    void (*fini)(struct bt_app_ctx *ctx);                    /* may be NULL */
    unsigned flags;
    struct bt_app_limit rate;           /* {0} = no rate limit; BENTO_<APP>_RATE_LIMIT overrides */
    size_t max_body;                    /* request body cap; 0 = BENTO_MAX_BODY */
    const struct bt_field *path_params; /* types of ":name" segments for OpenAPI (ends with
                                         * BT_FIELD_END); a name not listed is a string */
    const char *security; /* OpenAPI scheme of non-public routes: "bearer" (JWT) or NULL */
    const struct bt_schema *error_schema; /* the app's error envelope (OpenAPI, test validator) */
    const struct bt_setting *settings;    /* the app's own settings (ends with BT_SETTING_END);
                                           * NULL = only the core's */
    const struct bt_app_users *users;     /* NULL = the service has no accounts */
    bt_app_check_fn *check;               /* may be NULL */
    /* Password logins: the default throttling rules (include/bento/loginguard.h, usually
     * &bt_login_defaults). Set, the service also has the settings S.login_limit,
     * S.login_lockout and S.login_ip_limit, and the core builds ctx->login from them.
     * NULL = the service has no password logins. */
    const struct bt_login_rules *login;
};

/* The running context of one app, shared by all its requests (thread-safe parts only). */
struct bt_app_ctx {
    const struct bt_app *app;
    const struct bt_config *config;
    struct bt_dbpool *pool;
    struct bt_router *router;
    struct bt_metrics *metrics;
    struct bt_ratelimit *limiter; /* NULL when the app has no rate limit */
    struct bt_loginguard *login;  /* login throttling (bt_login_check); NULL = none */
    size_t max_body;              /* effective body cap */
    struct bt_cors *cors;         /* S.cors_origins, NULL = no CORS headers */
    const char *public_url;       /* S.public_url without trailing slashes, NULL if unset */
    void *state;                  /* app-private, set by init, freed by fini */
};

/** App setting: --set <app>.<key>=v, else environment BENTO_<APP>_<KEY> (upper-cased), else
 *  dflt; a secret may come from its file (<key>_file, resolved at start-up). Borrowed, process
 *  lifetime. key must be declared (bt_core_settings or app->settings): otherwise bt_bug. */
const char *bt_app_setting(const struct bt_app_ctx *ctx, const char *key, const char *dflt);

/** True when BENTO_ENV=production. */
int bt_app_production(const struct bt_app_ctx *ctx);

#endif
