/* SPDX-License-Identifier: MIT
 * settings.c - the service settings registry: the keys every service has, finding a key's
 * declaration, and the start-up check of --set flags and BENTO_<SERVICE>_* variables against
 * the apps' tables (unknown names, secrets given twice, secret files).
 * Must not: print or log a setting's value (it may be a secret); touch BENTO_* variables
 * that are not service settings (BENTO_DB, BENTO_TEST_*, ...).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bento/app.h>
#include <bento/arena.h>
#include <bento/config.h>

extern char **environ;

const struct bt_setting bt_core_settings[] = {
    {"listen", 0, NULL,
     "listener as host:port, [v6]:port or port (port 0 picks a free one); default "
     "BENTO_HOST and the service's port"},
    {"rate_limit", 0, NULL,
     "per-client limit: N per minute, N/SECONDS, 0 off (default: the service's)"},
    {"max_body", 0, NULL,
     "request body cap in bytes, 1024..1073741824 (default: the service's, else "
     "BENTO_MAX_BODY)"},
    {"cors_origins", 0, NULL,
     "comma-separated origins browsers may call from; * for routes without cookies "
     "(default: none, no CORS headers)"},
    {"public_url", 0, NULL,
     "absolute http(s) URL clients reach the service at, for returned URLs (default: the "
     "listener's address)"},
    BT_SETTING_END,
};

/* Services with password logins (struct bt_app.login) also have these; the defaults are the
 * service's (bt_login_defaults unless it says otherwise). include/bento/loginguard.h. */
const struct bt_setting bt_login_settings[] = {
    {"login_limit", 0, NULL,
     "failed logins of one account from one client address before a lock-out, 0 no lock-out "
     "(default: the service's)"},
    {"login_lockout", 0, NULL,
     "seconds a lock-out lasts; the failures refill at login_limit per this many seconds "
     "(default: the service's)"},
    {"login_ip_limit", 0, NULL,
     "login attempts per client address: N per minute, N/SECONDS, 0 off (default: the "
     "service's)"},
    BT_SETTING_END,
};

static const struct bt_setting *find_in(const struct bt_setting *t, const char *key)
{
    for (; t && t->key; t++)
        if (!strcmp(t->key, key))
            return t;
    return NULL;
}

const struct bt_setting *bt_setting_find(const struct bt_app *app, const char *key)
{
    const struct bt_setting *s = find_in(bt_core_settings, key);

    if (!s && app->login)
        s = find_in(bt_login_settings, key);
    return s ? s : find_in(app->settings, key);
}

/* ---- problems ---- */

static void problem(struct bt_config *c, struct bt_config_problems *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct bt_config *c, struct bt_config_problems *p, const char *fmt, ...)
{
    va_list ap;

    if (p->n >= BT_CONFIG_MAX_PROBLEMS)
        return;
    if (!c->strings)
        c->strings = bt_arena_new();
    va_start(ap, fmt);
    p->msg[p->n++] = bt_arena_vprintf(c->strings, fmt, ap);
    va_end(ap);
}

/* Levenshtein distance, capped: typos are short edits. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64], prev, tmp;

    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            tmp = row[j];
            row[j] = best;
            prev = tmp;
        }
    }
    return row[lb];
}

/* The declared key of app closest to key (lower-case), or NULL when none is close. */
static const char *suggest(const struct bt_app *app, const char *key)
{
    const struct bt_setting *tables[3] = {bt_core_settings, app->settings,
                                          app->login ? bt_login_settings : NULL};
    const char *best = NULL;
    size_t bestd = 3; /* at most two edits away */

    for (int t = 0; t < 3; t++)
        for (const struct bt_setting *s = tables[t]; s && s->key; s++) {
            size_t d = distance(key, s->key);
            if (d < bestd) {
                bestd = d;
                best = s->key;
            }
        }
    return best;
}

static const struct bt_app *find_app(const struct bt_app *const *apps, const char *name, size_t n)
{
    for (size_t i = 0; apps[i]; i++)
        if (strlen(apps[i]->name) == n && !strncmp(apps[i]->name, name, n))
            return apps[i];
    return NULL;
}

/* Is key (lower-case) a setting of app, or the file form "<secret>_file" of one? */
static bool known_key(const struct bt_app *app, const char *key)
{
    const struct bt_setting *s = bt_setting_find(app, key);
    size_t n = strlen(key);

    if (s)
        return true;
    if (n > 5 && !strcmp(key + n - 5, "_file")) {
        char base[128];
        if (n - 5 >= sizeof(base))
            return false;
        memcpy(base, key, n - 5);
        base[n - 5] = '\0';
        s = bt_setting_find(app, base);
        return s && (s->flags & BT_SETTING_SECRET);
    }
    return false;
}

/* ---- --set flags ---- */

static void check_flags(struct bt_config *c, const struct bt_app *const *apps,
                        struct bt_config_problems *p)
{
    for (size_t i = 0; i < c->nset; i++) {
        const char *k = c->set_keys[i], *dot = strchr(k, '.');
        const struct bt_app *app = dot ? find_app(apps, k, (size_t)(dot - k)) : NULL;

        if (!app) {
            char names[256];
            size_t w = 0;
            names[0] = '\0';
            for (size_t a = 0; apps[a] && w < sizeof(names); a++)
                w += (size_t)snprintf(names + w, sizeof(names) - w, "%s%s", a ? ", " : "",
                                      apps[a]->name);
            problem(c, p, "unknown service in --set %s (services: %s)", k, names);
            continue;
        }
        if (!known_key(app, dot + 1)) {
            const char *s = suggest(app, dot + 1);
            if (s)
                problem(c, p, "unknown setting --set %s: did you mean %s.%s?", k, app->name, s);
            else
                problem(c, p,
                        "unknown setting --set %s (not a %s setting; bento --help lists them)", k,
                        app->name);
        }
    }
}

/* ---- BENTO_<APP>_* variables ---- */

/* name is "BENTO_<APP>_<REST>": the app whose prefix it has and the rest, lower-cased. */
static void check_env(struct bt_config *c, const struct bt_app *const *apps,
                      struct bt_config_problems *p)
{
    for (char **e = environ; e && *e; e++) {
        const char *var = *e, *eq = strchr(var, '=');
        size_t n = eq ? (size_t)(eq - var) : strlen(var);

        if (strncmp(var, "BENTO_", 6))
            continue;
        for (size_t a = 0; apps[a]; a++) {
            char prefix[96], key[128];
            size_t pl, kl;
            const char *s;

            bt_setting_env_name(prefix, sizeof(prefix), apps[a]->name, "");
            pl = strlen(prefix); /* "BENTO_YUNSHUI_" */
            if (n <= pl || strncmp(var, prefix, pl))
                continue;
            kl = n - pl;
            if (kl >= sizeof(key))
                kl = sizeof(key) - 1;
            for (size_t i = 0; i < kl; i++) {
                char ch = var[pl + i];
                key[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
            }
            key[kl] = '\0';
            /* an upper-case variable maps to a lower-case key; anything else is unknown */
            if (known_key(apps[a], key)) {
                char expect[256];
                bt_setting_env_name(expect, sizeof(expect), apps[a]->name, key);
                if (strlen(expect) == n && !strncmp(expect, var, n))
                    continue;
            }
            s = suggest(apps[a], key);
            if (s) {
                char hint[256];
                bt_setting_env_name(hint, sizeof(hint), apps[a]->name, s);
                problem(c, p, "unknown environment variable %.*s: did you mean %s?", (int)n, var,
                        hint);
            } else {
                problem(c, p,
                        "unknown environment variable %.*s (not a %s setting; bento --help "
                        "lists them)",
                        (int)n, var, apps[a]->name);
            }
        }
    }
}

/* ---- secrets from files ---- */

static const char *last_flag(const struct bt_config *c, const char *app, const char *key)
{
    size_t alen = strlen(app);

    for (size_t i = c->nset; i-- > 0;) {
        const char *k = c->set_keys[i];
        if (!strncmp(k, app, alen) && k[alen] == '.' && !strcmp(k + alen + 1, key))
            return c->set_vals[i];
    }
    return NULL;
}

static void keep_file_value(struct bt_config *c, struct bt_config_problems *p,
                            const struct bt_app *app, const char *key, const char *name,
                            const char *path)
{
    const char *why = NULL, *val = NULL;

    if (bt_config_read_secret(c, name, path, &val, &why)) {
        problem(c, p, "%s", why);
        return;
    }
    if (c->nfile >= BT_MAX_SETTINGS) {
        problem(c, p, "too many secret files");
        return;
    }
    if (!c->strings)
        c->strings = bt_arena_new();
    c->file_keys[c->nfile] = bt_arena_printf(c->strings, "%s.%s", app->name, key);
    c->file_vals[c->nfile] = val;
    c->nfile++;
}

/* Precedence, as for every setting: flags over the environment. Within one layer the value
 * and its file together are an error (which one was meant?). An empty variable counts as
 * unset, so a blank line in an environment file does not conflict with a credential. */
static void resolve_secret(struct bt_config *c, const struct bt_app *app, const char *key,
                           struct bt_config_problems *p)
{
    char fkey[160], name[256], fname[256];
    const char *fv, *ff, *ev, *ef;

    snprintf(fkey, sizeof(fkey), "%s_file", key);
    fv = last_flag(c, app->name, key);
    ff = last_flag(c, app->name, fkey);
    if (fv && ff) {
        problem(c, p, "--set %s.%s and --set %s.%s are both given: use one", app->name, key,
                app->name, fkey);
        return;
    }
    if (ff) {
        char flag[200];
        snprintf(flag, sizeof(flag), "--set %s.%s", app->name, fkey);
        if (!*ff)
            problem(c, p, "%s needs a file path", flag);
        else
            keep_file_value(c, p, app, key, flag, ff);
        return;
    }
    if (fv)
        return;
    bt_setting_env_name(name, sizeof(name), app->name, key);
    bt_setting_env_name(fname, sizeof(fname), app->name, fkey);
    ev = getenv(name);
    ef = getenv(fname);
    if (!ef || !*ef)
        return;
    if (ev && *ev) {
        problem(c, p, "%s and %s are both set: use one", name, fname);
        return;
    }
    keep_file_value(c, p, app, key, fname, ef);
}

size_t bt_config_check_settings(struct bt_config *c, const struct bt_app *const *apps,
                                struct bt_config_problems *p)
{
    p->n = 0;
    check_flags(c, apps, p);
    check_env(c, apps, p);
    c->nfile = 0;
    for (size_t a = 0; apps[a]; a++) {
        const struct bt_setting *tables[2] = {bt_core_settings, apps[a]->settings};
        for (int t = 0; t < 2; t++)
            for (const struct bt_setting *s = tables[t]; s && s->key; s++)
                if (s->flags & BT_SETTING_SECRET)
                    resolve_secret(c, apps[a], s->key, p);
    }
    return p->n;
}
