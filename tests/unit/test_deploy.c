/* SPDX-License-Identifier: MIT
 * test_deploy.c - the deployment files in deploy/, checked as far as they can be without a
 * container runtime or systemd as PID 1 (docs/DEPLOY.md):
 *   - the container's runtime stage installs packages that provide every shared library the
 *     bento binary needs (ldd, each library's Debian package from dpkg -S, the closure of the
 *     listed packages' dependencies from the dpkg database);
 *   - the systemd unit passes `systemd-analyze verify` and carries the sandboxing;
 *   - the compose file parses as YAML (Debian's python3-yaml) and wires secrets as files;
 *   - the Dockerfile's stages have the expected shape.
 * That every variable these files set is a bento setting is checked by running the binary
 * with them: tests/http/test_deploy_bb.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bt_test.h"

#define DEPLOY BENTO_SOURCE_DIR "/deploy/"

/* Run a shell command; its stdout (malloc'd) and exit status. */
static char *run(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    size_t cap = 4096, len = 0, n;
    char *out = malloc(cap);
    int st;

    assert_non_null(p);
    assert_non_null(out);
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 1024) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
    }
    out[len] = '\0';
    st = pclose(p);
    if (status)
        *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    return out;
}

static bool have_command(const char *name)
{
    char cmd[256];
    int st;
    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
    free(run(cmd, &st));
    return st == 0;
}

/* ---- a small set of strings ---- */
struct set {
    char *v[1024];
    size_t n;
};

static bool set_has(const struct set *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x))
            return true;
    return false;
}

static bool set_add(struct set *s, const char *x, size_t len)
{
    char *c = strndup(x, len);
    assert_non_null(c);
    if (set_has(s, c)) {
        free(c);
        return false;
    }
    assert_true(s->n < sizeof(s->v) / sizeof(s->v[0]));
    s->v[s->n++] = c;
    return true;
}

static void set_free(struct set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    s->n = 0;
}

/* The text of the Dockerfile's last stage (from its last FROM line), continuation lines
 * joined. */
static char *runtime_stage(const char *dockerfile)
{
    const char *last = NULL;
    char *out, *w;

    for (const char *p = dockerfile; (p = strstr(p, "\nFROM ")) != NULL; p++)
        last = p + 1;
    assert_non_null(last);
    out = strdup(last);
    assert_non_null(out);
    w = out;
    for (const char *r = out; *r; r++) {
        if (r[0] == '\\' && r[1] == '\n') {
            r++;
            *w++ = ' ';
            continue;
        }
        *w++ = *r;
    }
    *w = '\0';
    return out;
}

/* The packages named by `apt-get install` in the runtime stage. */
static void runtime_packages(struct set *pkgs)
{
    char *df = bt_test_slurp(DEPLOY "Dockerfile", NULL);
    char *stage = runtime_stage(df);
    const char *p = strstr(stage, "apt-get install");

    assert_non_null(p);
    p += strlen("apt-get install");
    for (;;) {
        size_t n;
        while (*p == ' ' || *p == '\t')
            p++;
        n = strcspn(p, " \t\n;&|");
        if (n == 0)
            break;
        if (p[0] != '-')
            set_add(pkgs, p, n);
        p += n;
    }
    assert_true(pkgs->n > 0);
    free(stage);
    free(df);
}

/* Packages of installed files, by one dpkg -S call: each path as ldd gave it, its real path
 * and the other side of Debian's merged /usr are asked. owners gets "path\tpackage" for
 * every variant dpkg knows. */
static char *owners_of(const struct set *libs)
{
    size_t cap = 256, len;
    char *cmd = malloc(cap), *out;
    int st;

    assert_non_null(cmd);
    len = (size_t)snprintf(cmd, cap, "dpkg -S");
    for (size_t i = 0; i < libs->n; i++) {
        char real[PATH_MAX], other[PATH_MAX + 8];
        const char *path = libs->v[i];
        const char *vars[3] = {path, realpath(path, real) ? real : path, other};
        if (!strncmp(path, "/usr/", 5))
            snprintf(other, sizeof(other), "%s", path + 4);
        else
            snprintf(other, sizeof(other), "/usr%s", path);
        for (int k = 0; k < 3; k++) {
            size_t need = strlen(vars[k]) + 4;
            if (len + need + 32 > cap) {
                cap = (len + need + 32) * 2;
                cmd = realloc(cmd, cap);
                assert_non_null(cmd);
            }
            len += (size_t)snprintf(cmd + len, cap - len, " '%s'", vars[k]);
        }
    }
    snprintf(cmd + len, cap - len, " 2>/dev/null");
    out = run(cmd, &st); /* exit 1 when some variant is unknown: expected */
    free(cmd);
    return out;
}

/* The package owning path (or a variant of it) in dpkg -S output, or NULL. */
static char *owner(const char *dpkg_s, const char *path)
{
    char real[PATH_MAX], other[PATH_MAX + 8];
    const char *vars[3] = {path, realpath(path, real) ? real : path, other};

    if (!strncmp(path, "/usr/", 5))
        snprintf(other, sizeof(other), "%s", path + 4);
    else
        snprintf(other, sizeof(other), "/usr%s", path);
    for (const char *line = dpkg_s; *line;
         line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0)) {
        const char *sep = strstr(line, ": /"); /* "libcurl4:amd64: /lib/x86_64-linux-gnu/..." */
        size_t ll = strcspn(line, "\n");
        if (!sep || sep > line + ll)
            continue;
        for (int k = 0; k < 3; k++) {
            size_t pl = strlen(vars[k]);
            if ((size_t)(line + ll - (sep + 2)) == pl && !strncmp(sep + 2, vars[k], pl))
                return strndup(line, strcspn(line, ":,"));
        }
    }
    return NULL;
}

/* The dpkg database of this system: one "package\tstatus\tdepends, pre-depends" per line. */
static char *dpkg_db(void)
{
    int st;
    char *out = run("dpkg-query -W -f='${Package}\\t${db:Status-Abbrev}\\t${Depends}, "
                    "${Pre-Depends}\\n' 2>/dev/null",
                    &st);
    assert_int_equal(st, 0);
    return out;
}

/* The line of an installed package in db, or NULL. */
static const char *dpkg_installed(const char *db, const char *pkg)
{
    size_t pl = strlen(pkg);
    for (const char *line = db; *line;) {
        size_t ll = strcspn(line, "\n");
        if (ll > pl + 3 && !strncmp(line, pkg, pl) && line[pl] == '\t' &&
            !strncmp(line + pl + 1, "ii", 2))
            return line;
        line += ll + (line[ll] != 0);
    }
    return NULL;
}

/* Add pkg and every installed package it depends on (Depends, Pre-Depends), recursively;
 * all installed alternatives of "a | b" count. */
static void add_closure(struct set *closure, const char *db, const char *pkg)
{
    const char *line = dpkg_installed(db, pkg), *tok, *end;

    if (!line || !set_add(closure, pkg, strlen(pkg)))
        return;
    tok = strchr(strchr(line, '\t') + 1, '\t') + 1;
    end = tok + strcspn(tok, "\n");
    while (tok < end) {
        size_t n;
        char name[256];
        while (tok < end && (*tok == ' ' || *tok == ',' || *tok == '|'))
            tok++;
        n = strcspn(tok, " ,|(:\n");
        if (n == 0 || tok + n > end) {
            tok += strcspn(tok, ",|\n");
            if (*tok == '\n')
                break;
            continue;
        }
        snprintf(name, sizeof(name), "%.*s", (int)n, tok);
        tok += n;
        tok += strcspn(tok, ",|\n"); /* skip "(>= 1.2)" and ":any" */
        add_closure(closure, db, name);
    }
}

/* Every shared library of the bento binary is provided by a package the runtime stage
 * installs or one those depend on. */
static void test_runtime_packages_cover_libraries(void **state)
{
    const char *bin = getenv("BENTO_BIN");
    struct set pkgs = {0}, closure = {0}, libs = {0};
    char cmd[PATH_MAX + 32];
    char *out, *line, *save = NULL, *db, *owners;
    int st;
    (void)state;

    assert_non_null(bin);
    if (!have_command("dpkg") || !have_command("ldd"))
        skip(); /* not a Debian system: nothing to map libraries to */
    db = dpkg_db();
    runtime_packages(&pkgs);
    for (size_t i = 0; i < pkgs.n; i++) {
        /* a package this machine does not have (curl, say) must at least exist in its
         * Debian archive; it provides none of the binary's libraries here */
        if (!dpkg_installed(db, pkgs.v[i])) {
            char q[512];
            snprintf(q, sizeof(q), "apt-cache show --no-all-versions '%s' >/dev/null 2>&1",
                     pkgs.v[i]);
            free(run(q, &st));
            if (st != 0)
                fail_msg("deploy/Dockerfile installs %s, which is not a Debian package here "
                         "(misspelt, or not in Debian 12)",
                         pkgs.v[i]);
        }
        add_closure(&closure, db, pkgs.v[i]);
    }

    snprintf(cmd, sizeof(cmd), "ldd '%s'", bin);
    out = run(cmd, &st);
    assert_int_equal(st, 0);
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *arrow = strstr(line, "=> "), *path;
        path = arrow ? arrow + 3 : line + strspn(line, " \t");
        if (path[0] != '/')
            continue; /* linux-vdso.so.1 has no file */
        /* a BENTO_SANITIZE build links the sanitizer runtimes (and what they need): not the
         * binary the image ships, which scripts/test.sh's first pass checks */
        if (strstr(path, "/libasan.so") || strstr(path, "/libubsan.so") ||
            strstr(path, "/liblsan.so") || strstr(path, "/libtsan.so")) {
            fprintf(stderr, "skipped: %s is a sanitizer build (%s)\n", bin, path);
            free(out);
            free(db);
            set_free(&pkgs);
            set_free(&closure);
            set_free(&libs);
            skip();
        }
        set_add(&libs, path, strcspn(path, " ("));
    }
    assert_true(libs.n >= 8); /* microhttpd, jansson, sqlite, pq, crypto, curl, argon2, libc */
    owners = owners_of(&libs);
    for (size_t i = 0; i < libs.n; i++) {
        char *pkg = owner(owners, libs.v[i]);
        if (!pkg)
            fail_msg("no Debian package owns %s (ldd %s)", libs.v[i], bin);
        if (!set_has(&closure, pkg))
            fail_msg("%s needs %s from the package %s, which the runtime stage of "
                     "deploy/Dockerfile neither installs nor gets through a dependency",
                     bin, libs.v[i], pkg);
        free(pkg);
    }
    free(owners);
    free(out);
    free(db);
    set_free(&pkgs);
    set_free(&closure);
    set_free(&libs);
}

/* The unit file is valid for this systemd (with ExecStart pointed at the built binary: the
 * installed path does not exist on a build machine). */
static void test_systemd_unit_verifies(void **state)
{
    const char *bin = getenv("BENTO_BIN");
    char dir[] = "/tmp/bento-unit-XXXXXX", path[PATH_MAX], cmd[PATH_MAX * 2];
    char *unit = bt_test_slurp(DEPLOY "bento.service", NULL), *at, *out;
    FILE *f;
    int st;
    (void)state;

    if (!have_command("systemd-analyze")) {
        /* scripts/bootstrap.sh --test installs systemd; a machine without it cannot verify */
        fprintf(stderr, "skipped: systemd-analyze is not installed (Debian package systemd)\n");
        free(unit);
        skip();
    }
    at = strstr(unit, "ExecStart=/usr/local/bin/bento ");
    assert_non_null(at);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/bento.service", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%.*sExecStart=%s %s", (int)(at - unit), unit, bin,
            at + strlen("ExecStart=/usr/local/bin/bento "));
    fclose(f);
    snprintf(cmd, sizeof(cmd), "SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no '%s' 2>&1",
             path);
    out = run(cmd, &st);
    if (st != 0 || strstr(out, "bento.service"))
        fail_msg("systemd-analyze verify deploy/bento.service (exit %d):\n%s", st, out);
    free(out);
    /* systemd's own exposure score of the sandbox: at most 2.0 ("OK") */
    snprintf(cmd, sizeof(cmd),
             "SYSTEMD_LOG_COLOR=0 systemd-analyze security --offline=yes --threshold=20 "
             "--no-pager '%s' 2>&1",
             path);
    out = run(cmd, &st);
    if (st != 0)
        fail_msg("systemd-analyze security: exposure of deploy/bento.service above 2.0:\n%s", out);
    free(out);
    unlink(path);
    rmdir(dir);
    free(unit);
}

/* The unit carries the sandboxing docs/DEPLOY.md promises, and each credential it loads is
 * handed to bento through a <NAME>_FILE variable pointing into the credentials directory. */
static void test_systemd_unit_sandbox_and_credentials(void **state)
{
    static const char *const need[] = {
        "\nDynamicUser=yes\n",
        "\nStateDirectory=bento\n",
        "\nProtectSystem=strict\n",
        "\nProtectHome=yes\n",
        "\nPrivateTmp=yes\n",
        "\nPrivateDevices=yes\n",
        "\nNoNewPrivileges=yes\n",
        "\nCapabilityBoundingSet=\n",
        "\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n",
        "\nSystemCallFilter=@system-service\n",
        "\nMemoryDenyWriteExecute=yes\n",
        "\nEnvironment=BENTO_DATA_DIR=%S/bento\n",
        "\nEnvironmentFile=/etc/bento/bento.env\n",
        "\nExecStart=/usr/local/bin/bento serve\n",
    };
    char *unit = bt_test_slurp(DEPLOY "bento.service", NULL);
    size_t creds = 0;
    (void)state;

    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
        if (!strstr(unit, need[i]))
            fail_msg("deploy/bento.service lacks the line %s", need[i] + 1);
    /* LoadCredential=NAME:SOURCE (commented or not) <-> Environment=X_FILE=%d/NAME */
    for (const char *p = unit; (p = strstr(p, "LoadCredential=")) != NULL; p++) {
        char name[128], want[160];
        size_t n = strcspn(p + 15, ":\n");
        if (p[-1] != '\n' && !(p[-1] == '#' && p[-2] == '\n'))
            continue; /* prose in a comment */
        snprintf(name, sizeof(name), "%.*s", (int)n, p + 15);
        snprintf(want, sizeof(want), "_FILE=%%d/%s\n", name);
        if (!strstr(unit, want))
            fail_msg("credential %s is loaded but no *_FILE variable points at it", name);
        creds++;
    }
    assert_true(creds >= 2); /* yunshui's JWT secret and admin password at least */
    for (const char *p = unit; (p = strstr(p, "_FILE=%d/")) != NULL; p++) {
        char want[160];
        size_t n = strcspn(p + 9, "\n");
        snprintf(want, sizeof(want), "LoadCredential=%.*s:", (int)n, p + 9);
        if (!strstr(unit, want))
            fail_msg("%.*s points at a credential the unit does not load", (int)n, p + 9);
    }
    free(unit);
}

/* The compose file is YAML; PostgreSQL 15 beside bento; bento's secrets come as files from
 * compose secrets, and no secret value sits in the environment. */
static void test_compose_file(void **state)
{
    const char *py = "/usr/bin/python3";
    char cmd[1024];
    char *out;
    json_t *doc, *svc, *env, *secrets, *top_secrets;
    json_error_t jerr;
    const char *k;
    json_t *v;
    size_t nfiles = 0;
    int st;
    (void)state;

    /* Debian's python3 with python3-yaml (scripts/bootstrap.sh --test), not whichever python3
     * comes first on PATH */
    snprintf(cmd, sizeof(cmd),
             "%s -c 'import sys, json, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), "
             "sys.stdout)' '%s' 2>&1",
             py, DEPLOY "compose.yaml");
    out = run(cmd, &st);
    if (st != 0)
        fail_msg("deploy/compose.yaml does not parse as YAML:\n%s", out);
    doc = json_loads(out, 0, &jerr);
    assert_non_null(doc);
    free(out);

    svc = json_object_get(json_object_get(doc, "services"), "db");
    assert_non_null(svc);
    assert_true(!strncmp(json_string_value(json_object_get(svc, "image")), "postgres:15", 11));
    svc = json_object_get(json_object_get(doc, "services"), "bento");
    assert_non_null(svc);
    assert_string_equal(json_string_value(bt_json_at(svc, "/build/dockerfile")),
                        "deploy/Dockerfile");
    assert_string_equal(json_string_value(bt_json_at(svc, "/depends_on/db/condition")),
                        "service_healthy");
    env = json_object_get(svc, "environment");
    secrets = json_object_get(svc, "secrets");
    top_secrets = json_object_get(doc, "secrets");
    assert_true(json_is_object(env) && json_is_array(secrets) && json_is_object(top_secrets));
    json_object_foreach(env, k, v)
    {
        size_t kl = strlen(k);
        const char *val = json_string_value(v);
        if (kl > 5 && !strcmp(k + kl - 5, "_FILE")) {
            bool listed = false;
            assert_non_null(val);
            assert_true(!strncmp(val, "/run/secrets/", 13));
            for (size_t i = 0; i < json_array_size(secrets); i++)
                listed |= !strcmp(json_string_value(json_array_get(secrets, i)), val + 13);
            if (!listed || !json_object_get(top_secrets, val + 13))
                fail_msg("%s=%s: secret %s is not given to the bento service", k, val, val + 13);
            nfiles++;
        } else if (!strcmp(k, "BENTO_DB") || strstr(k, "SECRET") || strstr(k, "PASSWORD") ||
                   strstr(k, "_KEY")) {
            fail_msg("%s holds a secret in the environment; use %s_FILE and a compose secret", k,
                     k);
        }
    }
    assert_true(nfiles >= 3); /* database URL, JWT secret, admin password */
    assert_string_equal(json_string_value(json_object_get(env, "BENTO_DB_FILE")),
                        "/run/secrets/db_url");
    json_decref(doc);
}

/* Two stages on Debian 12; the build stage uses the repository's bootstrap; the runtime stage
 * runs as a non-root user with a data volume, a health check and a listener on every
 * interface. */
static void test_dockerfile_shape(void **state)
{
    char *df = bt_test_slurp(DEPLOY "Dockerfile", NULL);
    char *stage = runtime_stage(df);
    const char *user;
    size_t froms = 0;
    (void)state;

    for (const char *p = df; (p = strstr(p, "\nFROM debian:12")) != NULL; p++)
        froms++;
    assert_int_equal(froms, 2);
    assert_non_null(strstr(df, "FROM debian:12-slim AS build"));
    assert_non_null(strstr(df, "scripts/bootstrap.sh"));
    assert_non_null(strstr(df, "-DCMAKE_BUILD_TYPE=Release"));
    assert_non_null(strstr(stage, "COPY --from=build "));
    assert_null(strstr(stage, "-dev ")); /* no headers or compilers at run time */
    assert_null(strstr(stage, "build-essential"));
    user = strstr(stage, "\nUSER ");
    assert_non_null(user);
    assert_true(strncmp(user, "\nUSER root", 10) && strncmp(user, "\nUSER 0", 7));
    assert_non_null(strstr(stage, "\nVOLUME "));
    assert_non_null(strstr(stage, "\nHEALTHCHECK "));
    assert_non_null(strstr(stage, "BENTO_HOST=0.0.0.0"));
    assert_non_null(strstr(stage, "BENTO_DATA_DIR=/var/lib/bento"));
    assert_int_equal(access(DEPLOY "healthcheck.sh", X_OK), 0);
    free(stage);
    free(df);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runtime_packages_cover_libraries),
        cmocka_unit_test(test_systemd_unit_verifies),
        cmocka_unit_test(test_systemd_unit_sandbox_and_credentials),
        cmocka_unit_test(test_compose_file),
        cmocka_unit_test(test_dockerfile_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
