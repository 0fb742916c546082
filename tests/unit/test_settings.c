/* SPDX-License-Identifier: MIT
 * test_settings.c - the service settings registry (src/core/settings.c, config.c): declared
 * keys, refusal of unknown --set keys and BENTO_<SERVICE>_* variables (other BENTO_* names
 * untouched), secrets read from <key>_file / BENTO_<S>_<KEY>_FILE and BENTO_DB_FILE (one
 * trailing newline stripped, missing/empty file and value-plus-file refused, messages never
 * holding the value), bt_app_setting aborting on an undeclared key, and database URLs with
 * the password removed; the login throttling keys only for services with password logins.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bt_test.h"

static const struct bt_setting fake_settings[] = {
    {"token", BT_SETTING_SECRET, NULL, "a secret"},
    {"model", 0, "m1", "a plain setting"},
    BT_SETTING_END,
};

static const struct bt_route fake_routes[] = {BT_ROUTE_END};

static const struct bt_app fake_app = {
    .name = "fakesvc",
    .mount = "",
    .default_port = 9999,
    .routes = fake_routes,
    .settings = fake_settings,
};

static const struct bt_app other_app = {
    .name = "othersvc",
    .mount = "",
    .routes = fake_routes,
};

static const struct bt_app login_app = {
    .name = "loginsvc",
    .mount = "",
    .routes = fake_routes,
    .login = &bt_login_defaults,
};

static const struct bt_app *const apps[] = {&fake_app, &other_app, &login_app, NULL};

static char tmpdir[] = "/tmp/bt-settings-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[8][128];
    static int slot;
    char *p = path[slot++ % 8];
    FILE *f;

    snprintf(p, 128, "%s/%s", tmpdir, name);
    f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void clear_env(void)
{
    unsetenv("BENTO_FAKESVC_TOKEN");
    unsetenv("BENTO_FAKESVC_TOKEN_FILE");
    unsetenv("BENTO_FAKESVC_MODLE");
    unsetenv("BENTO_FAKESVC_MODEL");
    unsetenv("BENTO_OTHERSVC_X");
    unsetenv("BENTO_DB");
    unsetenv("BENTO_DB_FILE");
}

/* a config with the given --set pairs, checked against apps; returns the problem count */
static size_t check(struct bt_config *c, const char *const *sets, struct bt_config_problems *p)
{
    const char *why = NULL;

    assert_int_equal(bt_config_defaults(c, &why), 0);
    for (size_t i = 0; sets && sets[i]; i++)
        assert_int_equal(bt_config_add_setting(c, sets[i]), 0);
    return bt_config_check_settings(c, apps, p);
}

static bool has(const struct bt_config_problems *p, const char *needle)
{
    for (size_t i = 0; i < p->n; i++)
        if (strstr(p->msg[i], needle))
            return true;
    return false;
}

static void test_declared_keys(void **state)
{
    (void)state;
    assert_non_null(bt_setting_find(&fake_app, "model"));
    assert_true(bt_setting_find(&fake_app, "token")->flags & BT_SETTING_SECRET);
    /* the core's keys belong to every service */
    assert_non_null(bt_setting_find(&other_app, "listen"));
    assert_non_null(bt_setting_find(&other_app, "rate_limit"));
    assert_non_null(bt_setting_find(&other_app, "max_body"));
    assert_non_null(bt_setting_find(&other_app, "cors_origins"));
    assert_non_null(bt_setting_find(&other_app, "public_url"));
    assert_null(bt_setting_find(&other_app, "model"));
    assert_null(bt_setting_find(&fake_app, "token_file"));
}

/* the login throttling keys belong to services with password logins, and only to them */
static void test_login_keys_only_with_logins(void **state)
{
    const char *const sets[] = {"loginsvc.login_limit=3",        "loginsvc.login_lockout=60",
                                "loginsvc.login_ip_limit=20/60", "othersvc.login_limit=3",
                                "loginsvc.login_limt=3",         NULL};
    struct bt_config c;
    struct bt_config_problems p;
    (void)state;

    assert_non_null(bt_setting_find(&login_app, "login_limit"));
    assert_non_null(bt_setting_find(&login_app, "login_lockout"));
    assert_non_null(bt_setting_find(&login_app, "login_ip_limit"));
    assert_non_null(bt_setting_find(&login_app, "rate_limit"));
    assert_null(bt_setting_find(&other_app, "login_limit"));
    clear_env();
    assert_int_equal(check(&c, sets, &p), 2);
    assert_true(has(&p, "unknown setting --set othersvc.login_limit"));
    assert_true(has(&p, "did you mean loginsvc.login_limit?"));
    bt_config_release(&c);
}

static void test_known_settings_pass(void **state)
{
    const char *const sets[] = {"fakesvc.model=m2", "fakesvc.listen=0", "othersvc.rate_limit=0",
                                "fakesvc.token=abc", NULL};
    struct bt_config c;
    struct bt_config_problems p;
    (void)state;

    clear_env();
    setenv("BENTO_FAKESVC_MODEL", "m3", 1);
    setenv("BENTO_TEST_WHATEVER", "1", 1); /* not a service setting: left alone */
    setenv("BENTO_FAKESVCX", "1", 1);      /* no service's prefix */
    assert_int_equal(check(&c, sets, &p), 0);
    assert_string_equal(bt_config_setting(&c, "fakesvc", "model", NULL), "m2"); /* flag wins */
    assert_string_equal(bt_config_setting(&c, "fakesvc", "token", NULL), "abc");
    bt_config_release(&c);
    unsetenv("BENTO_TEST_WHATEVER");
    unsetenv("BENTO_FAKESVCX");
    clear_env();
}

static void test_unknown_flags(void **state)
{
    const char *const sets[] = {"fakesvc.modle=x", "nosuch.model=y", "othersvc.model=z", NULL};
    struct bt_config c;
    struct bt_config_problems p;
    (void)state;

    clear_env();
    assert_int_equal(check(&c, sets, &p), 3);
    assert_true(has(&p, "unknown setting --set fakesvc.modle: did you mean fakesvc.model?"));
    assert_true(has(&p, "unknown service in --set nosuch.model"));
    assert_true(has(&p, "unknown setting --set othersvc.model"));
    /* the value is never part of a message */
    for (size_t i = 0; i < p.n; i++)
        assert_null(strstr(p.msg[i], "=x"));
    bt_config_release(&c);
}

static void test_unknown_env(void **state)
{
    struct bt_config c;
    struct bt_config_problems p;
    (void)state;

    clear_env();
    setenv("BENTO_FAKESVC_MODLE", "secret-value", 1);
    setenv("BENTO_OTHERSVC_X", "1", 1); /* a disabled or unused service is checked too */
    assert_int_equal(check(&c, NULL, &p), 2);
    assert_true(has(&p, "BENTO_FAKESVC_MODLE: did you mean BENTO_FAKESVC_MODEL?"));
    assert_true(has(&p, "unknown environment variable BENTO_OTHERSVC_X"));
    for (size_t i = 0; i < p.n; i++)
        assert_null(strstr(p.msg[i], "secret-value"));
    bt_config_release(&c);
    /* a file form exists only for secrets */
    clear_env();
    setenv("BENTO_FAKESVC_MODEL_FILE", "/x", 1);
    assert_int_equal(check(&c, NULL, &p), 1);
    assert_true(has(&p, "BENTO_FAKESVC_MODEL_FILE"));
    unsetenv("BENTO_FAKESVC_MODEL_FILE");
    bt_config_release(&c);
}

static void test_secret_files(void **state)
{
    const char *crlf = write_file("crlf", "s3cret\r\n");
    const char *two = write_file("two", "line\n\n");
    char set[256];
    const char *sets[2] = {set, NULL};
    struct bt_config c;
    struct bt_config_problems p;
    (void)state;

    clear_env();
    /* environment: one trailing newline (LF or CRLF) stripped, no more */
    setenv("BENTO_FAKESVC_TOKEN_FILE", crlf, 1);
    assert_int_equal(check(&c, NULL, &p), 0);
    assert_string_equal(bt_config_setting(&c, "fakesvc", "token", NULL), "s3cret");
    bt_config_release(&c);
    setenv("BENTO_FAKESVC_TOKEN_FILE", two, 1);
    assert_int_equal(check(&c, NULL, &p), 0);
    assert_string_equal(bt_config_setting(&c, "fakesvc", "token", NULL), "line\n");
    bt_config_release(&c);
    /* a flag's file beats the environment's value (flags win) */
    setenv("BENTO_FAKESVC_TOKEN", "from-env", 1);
    unsetenv("BENTO_FAKESVC_TOKEN_FILE");
    snprintf(set, sizeof(set), "fakesvc.token_file=%s", crlf);
    assert_int_equal(check(&c, sets, &p), 0);
    assert_string_equal(bt_config_setting(&c, "fakesvc", "token", NULL), "s3cret");
    bt_config_release(&c);
    /* an empty variable does not conflict with a file */
    setenv("BENTO_FAKESVC_TOKEN", "", 1);
    setenv("BENTO_FAKESVC_TOKEN_FILE", crlf, 1);
    assert_int_equal(check(&c, NULL, &p), 0);
    assert_string_equal(bt_config_setting(&c, "fakesvc", "token", NULL), "s3cret");
    bt_config_release(&c);
    clear_env();
}

static void test_secret_file_errors(void **state)
{
    const char *empty = write_file("empty", "");
    const char *nl = write_file("newline", "\n");
    const char *good = write_file("good", "value-in-file\n");
    char set1[256], set2[256];
    const char *both_flags[] = {"fakesvc.token=abc", set1, NULL};
    const char *missing_flag[] = {set2, NULL};
    struct bt_config c;
    struct bt_config_problems p;
    (void)state;

    clear_env();
    setenv("BENTO_FAKESVC_TOKEN_FILE", "/nonexistent/token", 1);
    assert_int_equal(check(&c, NULL, &p), 1);
    assert_true(has(&p, "BENTO_FAKESVC_TOKEN_FILE: cannot read /nonexistent/token"));
    bt_config_release(&c);
    setenv("BENTO_FAKESVC_TOKEN_FILE", empty, 1);
    assert_int_equal(check(&c, NULL, &p), 1);
    assert_true(has(&p, "is empty"));
    bt_config_release(&c);
    setenv("BENTO_FAKESVC_TOKEN_FILE", nl, 1);
    assert_int_equal(check(&c, NULL, &p), 1);
    assert_true(has(&p, "is empty"));
    bt_config_release(&c);
    {
        /* over 64 KiB: refused, never silently cut; a NUL byte would cut the value */
        char *big = malloc(BT_SECRET_FILE_MAX + 2);
        char path[160];
        FILE *f;
        assert_non_null(big);
        memset(big, 'k', BT_SECRET_FILE_MAX + 1);
        big[BT_SECRET_FILE_MAX + 1] = '\0';
        setenv("BENTO_FAKESVC_TOKEN_FILE", write_file("big", big), 1);
        free(big);
        assert_int_equal(check(&c, NULL, &p), 1);
        assert_true(has(&p, "is larger than 65536 bytes"));
        bt_config_release(&c);
        snprintf(path, sizeof(path), "%s/nul", tmpdir);
        f = fopen(path, "wb");
        assert_non_null(f);
        fwrite("ab\0cd", 1, 5, f);
        fclose(f);
        setenv("BENTO_FAKESVC_TOKEN_FILE", path, 1);
        assert_int_equal(check(&c, NULL, &p), 1);
        assert_true(has(&p, "holds a NUL byte"));
        bt_config_release(&c);
        /* exactly the maximum is fine */
        big = malloc(BT_SECRET_FILE_MAX + 1);
        assert_non_null(big);
        memset(big, 'k', BT_SECRET_FILE_MAX);
        big[BT_SECRET_FILE_MAX] = '\0';
        setenv("BENTO_FAKESVC_TOKEN_FILE", write_file("max", big), 1);
        free(big);
        assert_int_equal(check(&c, NULL, &p), 0);
        assert_int_equal(strlen(bt_config_setting(&c, "fakesvc", "token", NULL)),
                         BT_SECRET_FILE_MAX);
        bt_config_release(&c);
    }
    setenv("BENTO_FAKESVC_TOKEN_FILE", good, 1);
    setenv("BENTO_FAKESVC_TOKEN", "abc", 1);
    assert_int_equal(check(&c, NULL, &p), 1);
    assert_true(has(&p, "BENTO_FAKESVC_TOKEN and BENTO_FAKESVC_TOKEN_FILE are both set"));
    assert_false(has(&p, "value-in-file"));
    bt_config_release(&c);
    clear_env();
    snprintf(set1, sizeof(set1), "fakesvc.token_file=%s", good);
    assert_int_equal(check(&c, both_flags, &p), 1);
    assert_true(has(&p, "--set fakesvc.token and --set fakesvc.token_file are both given"));
    bt_config_release(&c);
    snprintf(set2, sizeof(set2), "fakesvc.token_file=%s/missing", tmpdir);
    assert_int_equal(check(&c, missing_flag, &p), 1);
    assert_true(has(&p, "--set fakesvc.token_file: cannot read"));
    bt_config_release(&c);
}

static void test_db_file(void **state)
{
    const char *url = write_file("dburl", "sqlite:/tmp/from-file.db\n");
    struct bt_config c;
    const char *why = NULL;
    (void)state;

    clear_env();
    setenv("BENTO_DB_FILE", url, 1);
    assert_int_equal(bt_config_defaults(&c, &why), 0);
    assert_int_equal(bt_config_finish(&c, &why), 0);
    assert_string_equal(c.db_url, "sqlite:/tmp/from-file.db");
    bt_config_release(&c);
    /* --db wins: the file is not even read */
    setenv("BENTO_DB_FILE", "/nonexistent/db", 1);
    assert_int_equal(bt_config_defaults(&c, &why), 0);
    c.db_url = "sqlite:/tmp/flag.db";
    assert_int_equal(bt_config_finish(&c, &why), 0);
    assert_string_equal(c.db_url, "sqlite:/tmp/flag.db");
    bt_config_release(&c);
    assert_int_equal(bt_config_defaults(&c, &why), 0);
    assert_int_equal(bt_config_finish(&c, &why), -1);
    assert_non_null(strstr(why, "BENTO_DB_FILE: cannot read /nonexistent/db"));
    bt_config_release(&c);
    setenv("BENTO_DB", "sqlite:x", 1);
    assert_int_equal(bt_config_defaults(&c, &why), -1);
    assert_non_null(strstr(why, "BENTO_DB and BENTO_DB_FILE"));
    bt_config_release(&c);
    clear_env();
}

/* --set S.listen is the same setting as BENTO_<S>_LISTEN; --listen wins over both */
static void test_listen_setting(void **state)
{
    struct bt_config c;
    const char *why = NULL;
    struct bt_listen l;
    (void)state;

    clear_env();
    assert_int_equal(bt_config_defaults(&c, &why), 0);
    assert_int_equal(bt_config_add_setting(&c, "fakesvc.listen=127.0.0.2:7000"), 0);
    assert_int_equal(bt_config_apply_listen_env(&c, "fakesvc", &why), 0);
    l = bt_config_listen(&c, "fakesvc", 9999);
    assert_string_equal(l.host, "127.0.0.2");
    assert_int_equal(l.port, 7000);
    bt_config_release(&c);
}

/* bt_app_setting with a key the table does not declare is a programmer error: abort */
static void test_undeclared_key_aborts(void **state)
{
    struct bt_config c;
    struct bt_app_ctx ctx = {.app = &fake_app, .config = &c};
    const char *why = NULL;
    int status = 0;
    pid_t pid;
    (void)state;

    clear_env();
    assert_int_equal(bt_config_defaults(&c, &why), 0);
    assert_string_equal(bt_app_setting(&ctx, "model", "m1"), "m1");
    assert_null(bt_app_setting(&ctx, "public_url", NULL));
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(2);
        bt_app_setting(&ctx, "undeclared", NULL);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    bt_config_release(&c);
}

static void test_url_redact(void **state)
{
    struct bt_arena *a = bt_arena_new();
    (void)state;

    assert_string_equal(bt_db_url_redact(a, "postgres://bento:s3cret@db:5432/bento"),
                        "postgres://bento@db:5432/bento");
    assert_string_equal(bt_db_url_redact(a, "postgresql://u:p%40ss@h/d?sslmode=require"),
                        "postgresql://u@h/d?sslmode=require");
    assert_string_equal(bt_db_url_redact(a, "postgres://h/d?password=x&user=u&sslmode=off"),
                        "postgres://h/d?user=u&sslmode=off");
    assert_string_equal(bt_db_url_redact(a, "postgres://u@h/d"), "postgres://u@h/d");
    assert_string_equal(bt_db_url_redact(a, "sqlite:/var/lib/bento/bento.db"),
                        "sqlite:/var/lib/bento/bento.db");
    assert_int_equal(bt_db_url_engine("postgresql://h/d"), BT_ENGINE_PG);
    assert_int_equal(bt_db_url_engine("sqlite:x.db"), BT_ENGINE_SQLITE);
    assert_string_equal(bt_db_sqlite_file("sqlite:/x/y.db"), "/x/y.db");
    assert_null(bt_db_sqlite_file("sqlite::memory:"));
    bt_arena_free(a);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_declared_keys),
        cmocka_unit_test(test_known_settings_pass),
        cmocka_unit_test(test_unknown_flags),
        cmocka_unit_test(test_unknown_env),
        cmocka_unit_test(test_secret_files),
        cmocka_unit_test(test_secret_file_errors),
        cmocka_unit_test(test_db_file),
        cmocka_unit_test(test_listen_setting),
        cmocka_unit_test(test_undeclared_key_aborts),
        cmocka_unit_test(test_login_keys_only_with_logins),
        cmocka_unit_test(test_url_redact),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
