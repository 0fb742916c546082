/* SPDX-License-Identifier: MIT
 * config.c - defaults, BENTO_* environment variables, and helpers the CLI uses to apply flags.
 * Precedence: command-line flag > environment > default. Strings live for the process.
 */
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bento/arena.h>
#include <bento/config.h>
#include <bento/net.h>
#include <bento/err.h>

static char *cstrdup(struct bt_config *c, const char *s)
{
    if (!c->strings)
        c->strings = bt_arena_new();
    return bt_arena_strdup(c->strings, s);
}

static char *cstrndup(struct bt_config *c, const char *s, size_t n)
{
    if (!c->strings)
        c->strings = bt_arena_new();
    return bt_arena_strndup(c->strings, s, n);
}

/* Overwrite memory that held a secret (not optimised away). */
static void bt_secure_zero(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

/* A text secret has no NUL byte (it would cut the value short). */
static bool has_no_nul(const char *buf, size_t len)
{
    return len == 0 || memchr(buf, '\0', len) == NULL;
}

void bt_config_release(struct bt_config *c)
{
    bt_arena_free(c->strings);
    c->strings = NULL;
}

static int env_uint(const char *name, unsigned *out, unsigned lo, unsigned hi, const char **why)
{
    const char *v = getenv(name);
    char *end;
    unsigned long n;

    if (!v || !*v)
        return 0;
    n = strtoul(v, &end, 10);
    if (*end || n < lo || n > hi) {
        static char msg[128];
        snprintf(msg, sizeof(msg), "%s must be a number from %u to %u", name, lo, hi);
        *why = msg;
        return -1;
    }
    *out = (unsigned)n;
    return 0;
}

static int env_size(const char *name, size_t *out, size_t lo, size_t hi, const char **why)
{
    unsigned v = (unsigned)*out;
    if (env_uint(name, &v, (unsigned)lo, (unsigned)hi, why))
        return -1;
    *out = v;
    return 0;
}

static int env_flag(const char *v, bool dflt)
{
    if (!v || !*v)
        return dflt;
    return !(strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 ||
             strcasecmp(v, "off") == 0);
}

int bt_config_parse_listen(struct bt_config *c, const char *s, const char *dflt_host,
                           struct bt_listen *l)
{
    const char *colon;
    char *end;
    long port;

    if (!s || !*s)
        return -1;
    if (s[0] == '[') { /* [v6]:port */
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -1;
        l->host = cstrndup(c, s + 1, (size_t)(close - s - 1));
        colon = close + 1;
    } else if ((colon = strrchr(s, ':')) != NULL) {
        l->host = cstrndup(c, s, (size_t)(colon - s));
    } else {
        l->host = dflt_host;
        colon = s - 1; /* the whole string is the port */
    }
    if (!*l->host)
        l->host = dflt_host;
    port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || port < 0 || port > 65535)
        return -1;
    l->port = (int)port;
    return 0;
}

int bt_config_set_listen(struct bt_config *c, const char *app, const struct bt_listen *l)
{
    for (size_t i = 0; i < c->nlisten; i++) {
        if (!strcmp(c->listen[i].app, app)) {
            const char *name = c->listen[i].app; /* ours; the caller's app may be freed */
            c->listen[i] = *l;
            c->listen[i].app = name;
            return 0;
        }
    }
    if (c->nlisten >= BT_MAX_APPS)
        return -1;
    c->listen[c->nlisten] = *l;
    c->listen[c->nlisten].app = cstrdup(c, app);
    c->nlisten++;
    return 0;
}

int bt_config_set_services(struct bt_config *c, const char *list)
{
    char *copy = cstrdup(c, list), *save = NULL;

    c->nservices = 0;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (c->nservices >= BT_MAX_APPS)
            return -1;
        c->services[c->nservices++] = tok; /* copy lives for the process */
    }
    return 0;
}

int bt_config_add_setting(struct bt_config *c, const char *kv)
{
    const char *eq = strchr(kv, '=');
    const char *dot = strchr(kv, '.');

    if (!eq || !dot || dot > eq || dot == kv || eq == dot + 1 || c->nset >= BT_MAX_SETTINGS)
        return -1;
    c->set_keys[c->nset] = cstrndup(c, kv, (size_t)(eq - kv));
    c->set_vals[c->nset] = cstrdup(c, eq + 1);
    c->nset++;
    return 0;
}

int bt_config_defaults(struct bt_config *c, const char **why)
{
    const char *v;

    memset(c, 0, sizeof(*c));
    c->data_dir = "./data";
    c->default_host = "127.0.0.1";
    c->threads = 0; /* auto: see bt_config_finish */
    c->conn_limit = 1024;
    c->per_ip_limit = 64;
    c->conn_timeout_s = 30;
    c->header_timeout_s = 10;
    c->body_min_rate = 1024;
    c->max_body = 1u << 20;
    c->max_header = 16u << 10;
    c->db_pool = 16;
    c->db_timeout_ms = 5000;
    c->query_timeout_ms = 5000;
    c->slow_queue = 256;
    c->log_level = "info";
    c->access_log = true;

    if ((v = getenv("BENTO_DATA_DIR")) && *v)
        c->data_dir = v;
    if ((v = getenv("BENTO_DB")) && *v)
        c->db_url = v;
    if ((v = getenv("BENTO_DB_FILE")) && *v) {
        if (c->db_url) {
            *why = "BENTO_DB and BENTO_DB_FILE are both set: use one";
            return -1;
        }
        c->db_file = v;
    }
    if ((v = getenv("BENTO_PORT_FILE")) && *v)
        c->port_file = v;
    if ((v = getenv("BENTO_HOST")) && *v)
        c->default_host = v;
    if ((v = getenv("BENTO_SERVICES")) && *v && bt_config_set_services(c, v)) {
        *why = "BENTO_SERVICES names too many services";
        return -1;
    }
    if (env_uint("BENTO_THREADS", &c->threads, 1, 256, why) ||
        env_uint("BENTO_CONN_LIMIT", &c->conn_limit, 1, 1000000, why) ||
        env_uint("BENTO_PER_IP_LIMIT", &c->per_ip_limit, 0, 1000000, why) ||
        env_uint("BENTO_CONN_TIMEOUT", &c->conn_timeout_s, 1, 3600, why) ||
        env_uint("BENTO_HEADER_TIMEOUT", &c->header_timeout_s, 1, 3600, why) ||
        env_uint("BENTO_BODY_MIN_RATE", &c->body_min_rate, 0, 1u << 30, why) ||
        env_size("BENTO_MAX_BODY", &c->max_body, 1024, 1u << 30, why) ||
        env_size("BENTO_MAX_HEADER", &c->max_header, 1024, 1u << 20, why) ||
        env_uint("BENTO_DB_POOL", &c->db_pool, 1, 1024, why) ||
        env_uint("BENTO_SLOW_THREADS", &c->slow_threads, 1, 256, why) ||
        env_uint("BENTO_SLOW_QUEUE", &c->slow_queue, 1, 1000000, why))
        return -1;
    {
        unsigned t = (unsigned)c->db_timeout_ms, q = (unsigned)c->query_timeout_ms;
        if (env_uint("BENTO_DB_TIMEOUT_MS", &t, 1, 600000, why) ||
            env_uint("BENTO_QUERY_TIMEOUT_MS", &q, 0, 3600000, why))
            return -1;
        c->db_timeout_ms = (int)t;
        c->query_timeout_ms = (int)q;
    }
    if ((v = getenv("BENTO_ENV")) && *v) {
        if (!strcmp(v, "production")) {
            c->production = true;
        } else if (strcmp(v, "development") && strcmp(v, "test")) {
            *why = "BENTO_ENV must be development, test or production";
            return -1;
        }
    }
    if ((v = getenv("BENTO_LOG_LEVEL")) && *v)
        c->log_level = v;
    c->access_log = env_flag(getenv("BENTO_ACCESS_LOG"), true);
    if ((v = getenv("BENTO_TRUSTED_PROXIES")) && *v) {
        struct bt_cidr *list;
        const char *bad;
        if (!c->strings)
            c->strings = bt_arena_new();
        if (bt_cidr_list_parse(c->strings, v, &list, &c->ntrusted_proxies, &bad)) {
            static char msg[300];
            snprintf(msg, sizeof(msg),
                     "BENTO_TRUSTED_PROXIES: \"%.200s\" is not an IP address or CIDR "
                     "(e.g. 10.0.0.0/8, 192.0.2.7, fd00::/8, ::1)",
                     bad);
            *why = msg;
            return -1;
        }
        c->trusted_proxies = list;
    }
    return 0;
}

int bt_config_read_secret(struct bt_config *c, const char *name, const char *path, const char **out,
                          const char **why)
{
    static _Thread_local char msg[600];
    /* one read of up to MAX + 1 bytes: more than MAX is "too large", never cut short */
    size_t cap = BT_SECRET_FILE_MAX + 2, len = 0, n;
    char *buf;
    FILE *f = fopen(path, "rb");
    int saved;

    *out = NULL;
    if (!f) {
        saved = errno;
        snprintf(msg, sizeof(msg), "%s: cannot read %s: %s", name, path, strerror(saved));
        *why = msg;
        return -1;
    }
    buf = malloc(cap);
    if (!buf)
        bt_bug("out of memory");
    errno = 0;
    while (len < cap - 1 && (n = fread(buf + len, 1, cap - 1 - len, f)) > 0)
        len += n;
    saved = ferror(f) ? errno : 0;
    fclose(f);
    if (saved || len == 0 || len > BT_SECRET_FILE_MAX || !has_no_nul(buf, len)) {
        bt_secure_zero(buf, len);
        free(buf);
        if (saved)
            snprintf(msg, sizeof(msg), "%s: cannot read %s: %s", name, path, strerror(saved));
        else if (len > BT_SECRET_FILE_MAX)
            snprintf(msg, sizeof(msg), "%s: %s is larger than %d bytes", name, path,
                     BT_SECRET_FILE_MAX);
        else if (len == 0)
            snprintf(msg, sizeof(msg), "%s: %s is empty", name, path);
        else
            snprintf(msg, sizeof(msg), "%s: %s holds a NUL byte", name, path);
        *why = msg;
        return -1;
    }
    /* one trailing newline (LF or CRLF), as `echo secret > file` and editors leave it */
    if (len > 0 && buf[len - 1] == '\n') {
        len--;
        if (len > 0 && buf[len - 1] == '\r')
            len--;
    }
    if (len == 0) {
        free(buf);
        snprintf(msg, sizeof(msg), "%s: %s is empty", name, path);
        *why = msg;
        return -1;
    }
    *out = cstrndup(c, buf, len);
    bt_secure_zero(buf, cap);
    free(buf);
    return 0;
}

/* the CPUs this process may run on (taskset, cgroup cpusets) */
static unsigned affinity_cpus(void)
{
    cpu_set_t set;

    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    return 1;
}

int bt_config_finish(struct bt_config *c, const char **why)
{
    if (!c->db_url && c->db_file &&
        bt_config_read_secret(c, "BENTO_DB_FILE", c->db_file, &c->db_url, why))
        return -1;
    if (!c->db_url) {
        if (!c->strings)
            c->strings = bt_arena_new();
        c->db_url = bt_arena_printf(c->strings, "sqlite:%s/bento.db", c->data_dir);
    }
    if (c->threads == 0) {
        /* One request thread per CPU we may run on keeps tail latency low when handlers are
         * CPU-bound (SQLite reads from the page cache); with more threads than cores the
         * scheduler's time slices show up as p99 (docs/PERFORMANCE.md). PostgreSQL handlers
         * wait on the network, so they get two per CPU: enough to overlap a round trip, few
         * enough that handlers which no longer wait (read caches, one round trip per read,
         * slow routes on their own lane) do not slice the CPU into a long tail - chat p99 at
         * 64 connections 13.2 ms with four, 5.9 ms with two, 2.7 ms with one on a core
         * shared with PostgreSQL (docs/PERFORMANCE.md, "Issue 8"). */
        unsigned cpus = affinity_cpus();
        c->threads = strncmp(c->db_url, "postgres", 8) ? cpus : 2 * cpus;
        if (c->threads > 64)
            c->threads = 64;
    }
    if (c->slow_threads == 0) {
        /* One slow-lane thread per CPU: a list query is CPU work, in SQLite inside this
         * process or in a PostgreSQL backend that may share the machine, and more of them at
         * once only slice the CPUs finer, slowing the fast lane's requests (measured:
         * docs/PERFORMANCE.md, "Lanes"). At most half the pool, so the fast lane always finds
         * a connection. */
        c->slow_threads = affinity_cpus();
        if (c->slow_threads > c->db_pool / 2)
            c->slow_threads = c->db_pool / 2;
        if (c->slow_threads < 1)
            c->slow_threads = 1;
        if (c->slow_threads > 64)
            c->slow_threads = 64;
    }
    if (c->max_body < 1024) {
        *why = "the body cap must be at least 1024 bytes";
        return -1;
    }
    return 0;
}

/* BENTO_<APP>_<KEY>: upper-cased, non-alphanumerics become '_'. */
void bt_setting_env_name(char *out, size_t n, const char *app, const char *key)
{
    size_t i = 0;
    const char *parts[] = {"BENTO_", app, "_", key};

    for (size_t p = 0; p < 4; p++)
        for (const char *s = parts[p]; *s && i + 1 < n; s++)
            out[i++] = isalnum((unsigned char)*s) ? (char)toupper((unsigned char)*s) : '_';
    out[i] = '\0';
}

const char *bt_config_setting(const struct bt_config *c, const char *app, const char *key,
                              const char *dflt)
{
    char name[256];
    size_t alen = strlen(app);
    const char *v;

    for (size_t i = c->nset; i-- > 0;) { /* last --set wins */
        const char *k = c->set_keys[i];
        if (!strncmp(k, app, alen) && k[alen] == '.' && !strcmp(k + alen + 1, key))
            return c->set_vals[i];
    }
    for (size_t i = 0; i < c->nfile; i++) {
        const char *k = c->file_keys[i];
        if (!strncmp(k, app, alen) && k[alen] == '.' && !strcmp(k + alen + 1, key))
            return c->file_vals[i];
    }
    bt_setting_env_name(name, sizeof(name), app, key);
    if ((v = getenv(name)) != NULL)
        return v;
    return dflt;
}

bool bt_config_enabled(const struct bt_config *c, const char *app)
{
    if (c->nservices == 0)
        return true;
    for (size_t i = 0; i < c->nservices; i++)
        if (!strcmp(c->services[i], app) || !strcmp(c->services[i], "all"))
            return true;
    return false;
}

struct bt_listen bt_config_listen(const struct bt_config *c, const char *app, int dflt_port)
{
    struct bt_listen l = {app, c->default_host, dflt_port};

    for (size_t i = 0; i < c->nlisten; i++)
        if (!strcmp(c->listen[i].app, app))
            return c->listen[i];
    return l;
}

int bt_config_apply_listen_env(struct bt_config *c, const char *app, const char **why)
{
    char name[128];
    const char *v;
    struct bt_listen l;

    for (size_t i = 0; i < c->nlisten; i++)
        if (!strcmp(c->listen[i].app, app))
            return 0; /* a --listen flag wins */
    bt_setting_env_name(name, sizeof(name), app, "listen");
    if ((v = bt_config_setting(c, app, "listen", NULL)) == NULL || !*v)
        return 0;
    if (bt_config_parse_listen(c, v, c->default_host, &l) || bt_config_set_listen(c, app, &l)) {
        static char msg[512];
        snprintf(msg, sizeof(msg),
                 "%s (or --set %.64s.listen) must be host:port, [v6]:port or port", name, app);
        *why = msg;
        return -1;
    }
    return 0;
}
