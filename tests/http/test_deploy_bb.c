/* SPDX-License-Identifier: MIT
 * test_deploy_bb.c - the settings the deployment files in deploy/ give bento are settings the
 * real binary takes: every BENTO_* variable of the systemd unit and its environment file
 * (commented examples included), and of the container image and the compose file, is put in
 * the environment of `bento serve`, which must start (bento refuses unknown BENTO_<SERVICE>_*
 * variables and unreadable *_FILE secrets) and answer each service's health route.
 * What the harness decides is left to it: the command-line flags it passes (--db,
 * --data-dir, --listen, --port-file, --services, --threads) win over the same variables.
 * Secrets (*_FILE) point at files this test writes. BENTO_ENV is run as development: the
 * production checks are tested with the secrets themselves (docs/SECURITY.md), and here the
 * names are under test. The static checks of deploy/ are in tests/unit/test_deploy.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_test.h"

#define DEPLOY BENTO_SOURCE_DIR "/deploy/"
#define MAX_VARS 128

struct vars {
    char *kv[MAX_VARS + 1]; /* "NAME=value", NULL-terminated */
    size_t n;
    char dir[64]; /* secret files */
};

static bool name_ok(const char *name, size_t n)
{
    if (n <= 6 || strncmp(name, "BENTO_", 6))
        return false;
    for (size_t i = 6; i < n; i++)
        if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_'))
            return false;
    return true;
}

/* Add NAME=value as the process will see it (later sources win over earlier ones). */
static void add_var(struct vars *v, const char *name, size_t nlen, const char *value, size_t vlen,
                    const char *where)
{
    char path[128], *kv;
    size_t i;

    if (!name_ok(name, nlen))
        fail_msg("%s: %.*s is not a BENTO_ setting name", where, (int)nlen, name);
    if (nlen > 5 && !strncmp(name + nlen - 5, "_FILE", 5)) {
        /* a secret file: a value no check refuses (the database URL is --db's) */
        FILE *f;
        snprintf(path, sizeof(path), "%s/%.*s", v->dir, (int)nlen, name);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(!strncmp(name, "BENTO_DB_FILE", nlen) ? "sqlite::memory:\n"
                                                    : "deploy-test-secret-0123456789abcdef-XYZ\n",
              f);
        fclose(f);
        value = path;
        vlen = strlen(path);
    } else if (nlen == 9 && !strncmp(name, "BENTO_ENV", 9)) {
        value = "development";
        vlen = strlen(value);
    }
    assert_true(asprintf(&kv, "%.*s=%.*s", (int)nlen, name, (int)vlen, value) > 0);
    for (i = 0; i < v->n; i++) {
        if (!strncmp(v->kv[i], kv, nlen + 1)) {
            free(v->kv[i]);
            v->kv[i] = kv;
            return;
        }
    }
    assert_true(v->n < MAX_VARS);
    v->kv[v->n++] = kv;
    v->kv[v->n] = NULL;
}

static void vars_init(struct vars *v)
{
    memset(v, 0, sizeof(*v));
    strcpy(v->dir, "/tmp/bt-deploy-XXXXXX");
    assert_non_null(mkdtemp(v->dir));
}

static void vars_free(struct vars *v)
{
    char cmd[128];
    for (size_t i = 0; i < v->n; i++)
        free(v->kv[i]);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", v->dir);
    assert_int_equal(system(cmd), 0);
}

/* Lines "[#]PREFIX NAME=value" of text; with prefix "" every "[#]BENTO_...=" line. */
static size_t scan_lines(struct vars *v, const char *text, const char *prefix, const char *where)
{
    size_t found = 0, pl = strlen(prefix);

    for (const char *line = text; *line;) {
        size_t ll = strcspn(line, "\n");
        const char *p = line;
        if (*p == '#')
            p++;
        if ((size_t)(line + ll - p) > pl && !strncmp(p, prefix, pl) &&
            !strncmp(p + pl, "BENTO_", 6)) {
            const char *name = p + pl, *eq = memchr(name, '=', (size_t)(line + ll - name));
            if (eq) {
                add_var(v, name, (size_t)(eq - name), eq + 1, (size_t)(line + ll - eq - 1), where);
                found++;
            }
        }
        line += ll + (line[ll] != 0);
    }
    return found;
}

/* bento runs with v and answers both services' health routes. */
static void serve_with(struct vars *v)
{
    struct bt_test_proc *p =
        bt_test_proc_start("vendorchat,yunshui", NULL, (const char *const *)v->kv);
    struct bt_test_resp r = {0};

    bt_test_http(p, "vendorchat", "GET", "/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_test_http(p, "yunshui", "GET", "/v1/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

/* deploy/bento.service's Environment= lines and deploy/bento.env. */
static void test_systemd_settings(void **state)
{
    struct vars v;
    char *unit = bt_test_slurp(DEPLOY "bento.service", NULL),
         *env = bt_test_slurp(DEPLOY "bento.env", NULL);
    (void)state;

    vars_init(&v);
    assert_true(scan_lines(&v, unit, "Environment=", "deploy/bento.service") >= 4);
    assert_true(scan_lines(&v, env, "", "deploy/bento.env") >= 10);
    /* the unit's %S/bento: the harness's --data-dir wins anyway */
    serve_with(&v);
    vars_free(&v);
    free(unit);
    free(env);
}

/* deploy/Dockerfile's ENV, then the compose file's environment of the bento service. */
static void test_container_settings(void **state)
{
    struct vars v;
    char *df = bt_test_slurp(DEPLOY "Dockerfile", NULL), *out = NULL, cmd[512];
    json_t *doc, *env, *val;
    json_error_t jerr;
    const char *k;
    size_t n = 0, found = 0;
    FILE *pp;
    (void)state;

    vars_init(&v);
    /* ENV A=x \ B=y: every BENTO_ assignment after an ENV keyword, continuation lines too */
    for (const char *p = df; (p = strstr(p, "\nENV ")) != NULL; p++) {
        const char *q = p + 5;
        for (;;) {
            q += strspn(q, " \t\\\n");
            if (strncmp(q, "BENTO_", 6))
                break;
            const char *eq = strchr(q, '=');
            size_t vl;
            assert_non_null(eq);
            vl = strcspn(eq + 1, " \t\\\n");
            add_var(&v, q, (size_t)(eq - q), eq + 1, vl, "deploy/Dockerfile");
            found++;
            q = eq + 1 + vl;
        }
    }
    assert_true(found >= 3);

    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c 'import sys, json, yaml; json.dump(yaml.safe_load("
             "open(sys.argv[1]))[\"services\"][\"bento\"][\"environment\"], sys.stdout)' '%s'",
             DEPLOY "compose.yaml");
    pp = popen(cmd, "r");
    assert_non_null(pp);
    {
        size_t cap = 0;
        ssize_t got = getdelim(&out, &cap, '\0', pp);
        assert_true(got > 0);
    }
    assert_int_equal(pclose(pp), 0);
    doc = json_loads(out, 0, &jerr);
    assert_non_null(doc);
    env = doc;
    json_object_foreach(env, k, val)
    {
        const char *s = json_string_value(val);
        assert_non_null(s); /* quoted in YAML where it would not be a string */
        add_var(&v, k, strlen(k), s, strlen(s), "deploy/compose.yaml");
        n++;
    }
    assert_true(n >= 4);
    serve_with(&v);
    json_decref(doc);
    free(out);
    vars_free(&v);
    free(df);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_systemd_settings),
        cmocka_unit_test(test_container_settings),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
