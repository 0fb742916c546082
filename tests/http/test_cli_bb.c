/* SPDX-License-Identifier: MIT
 * test_cli_bb.c - the operator command line through the real binary (docs/OPERATIONS.md
 * "Command line" and "Settings"): --version, --help listing every service setting (and
 * README.md's table naming the same ones), refusal of unknown --set keys and BENTO_<S>_*
 * variables and of bad secret files (exit 2, the name in the message, never the value),
 * BENTO_DB_FILE, `bento backup` (SQLite online copy; PostgreSQL points to pg_dump without the
 * password), `bento check` (passes on a migrated database; fails on a pending migration,
 * an unreachable database, a bad setting) and `bento sql` (statements from stdin, with the
 * search tokenizer on SQLite).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt_test.h"

static bool is_pg(void)
{
    return !strcmp(bt_test_engine(), "pg");
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_version(void **state)
{
    const char *const flag[] = {"--version", NULL};
    const char *const word[] = {"version", NULL};
    const char *const after[] = {"serve", "-V", NULL};
    char *out, *err;
    (void)state;

    assert_int_equal(bt_test_cli(flag, NULL, NULL, &out, &err), 0);
    assert_string_equal(out, "bento " BENTO_VERSION "\n");
    assert_string_equal(err, "");
    free(out);
    free(err);
    assert_int_equal(bt_test_cli(word, NULL, NULL, &out, NULL), 0);
    assert_string_equal(out, "bento " BENTO_VERSION "\n");
    free(out);
    assert_int_equal(bt_test_cli(after, NULL, NULL, &out, NULL), 0);
    assert_string_equal(out, "bento " BENTO_VERSION "\n");
    free(out);
}

/* bento openapi: a document for a linked service, exit 2 naming an unknown one */
static void test_openapi_command(void **state)
{
    const char *const good[] = {"openapi", "vendorchat", NULL};
    const char *const bad[] = {"openapi", "nosuch", NULL};
    const char *const none[] = {"openapi", NULL};
    char *out, *err;
    json_t *doc;
    (void)state;

    assert_int_equal(bt_test_cli(good, NULL, NULL, &out, NULL), 0);
    doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    bt_assert_subset(doc, "{\"openapi\":\"3.1.0\"}");
    json_decref(doc);
    free(out);
    assert_int_equal(bt_test_cli(bad, NULL, NULL, NULL, &err), 2);
    assert_string_equal(err, "bento: unknown service nosuch\n");
    free(err);
    assert_int_equal(bt_test_cli(none, NULL, NULL, NULL, &err), 2);
    assert_string_equal(err, "bento: openapi needs a service name\n");
    free(err);
}

/* every setting in --help is in README's settings table and the other way round */
static void test_help_lists_settings(void **state)
{
    const char *const args[] = {"--help", NULL};
    const char *const names[] = {"S.listen",
                                 "S.rate_limit",
                                 "S.max_body",
                                 "S.cors_origins",
                                 "S.public_url",
                                 "S.login_limit",
                                 "S.login_lockout",
                                 "S.login_ip_limit",
                                 "vendorchat.llm_url",
                                 "vendorchat.llm_key *",
                                 "vendorchat.llm_model",
                                 "vendorchat.llm_timeout_ms",
                                 "yunshui.jwt_secret *",
                                 "yunshui.admin_password *",
                                 NULL};
    char *out, *readme, path[512], *table, *p;
    FILE *f;
    long n;
    size_t help_count = 0, readme_count = 0;
    (void)state;

    assert_int_equal(bt_test_cli(args, NULL, NULL, &out, NULL), 0);
    for (size_t i = 0; names[i]; i++)
        if (!strstr(out, names[i]))
            fail_msg("--help does not list %s:\n%s", names[i], out);
    /* count the settings --help lists: lines "    S.key" */
    for (p = out; (p = strstr(p, "\n    ")) != NULL; p++)
        if (p[5] != ' ')
            help_count++;

    snprintf(path, sizeof(path), "%s/README.md", bt_test_source_dir());
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    readme = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(readme, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    table = strstr(readme, "Service settings");
    assert_non_null(table);
    for (size_t i = 0; names[i]; i++) {
        char row[96], key[64];
        snprintf(key, sizeof(key), "%s", names[i]);
        if (strchr(key, ' '))
            *strchr(key, ' ') = '\0';
        snprintf(row, sizeof(row), "| `%s`", key);
        if (!strstr(table, row))
            fail_msg("README.md's settings table has no row %s", row);
    }
    /* and nothing more: its rows are exactly the settings --help lists */
    for (p = table; (p = strstr(p, "\n| `")) != NULL && p < strstr(table, "\n## "); p++)
        readme_count++;
    assert_int_equal(readme_count, help_count);
    assert_int_equal(help_count, 14);
    free(readme);
    free(out);
}

/* serve refuses to start naming each unknown setting; exit 2 */
static void test_unknown_settings_refused(void **state)
{
    const char *const args[] = {"--set", "vendorchat.llm_ke=sk-123456", "--set", "nosuch.key=1",
                                NULL};
    const char *const env[] = {"BENTO_VENDORCHAT_LLM_MODLE=gpt", "BENTO_YUNSHUI_TYPO=1", NULL};
    char *log = NULL;
    (void)state;

    assert_int_equal(bt_test_proc_run_fail("vendorchat", args, NULL, &log), 2);
    assert_non_null(strstr(log, "unknown setting --set vendorchat.llm_ke: did you mean "
                                "vendorchat.llm_key?"));
    assert_non_null(strstr(log, "unknown service in --set nosuch.key"));
    assert_null(strstr(log, "sk-123456"));
    free(log);
    /* every linked service's variables are checked, also a service that is not enabled */
    assert_int_equal(bt_test_proc_run_fail("vendorchat", NULL, env, &log), 2);
    assert_non_null(strstr(log, "unknown environment variable BENTO_VENDORCHAT_LLM_MODLE: did "
                                "you mean BENTO_VENDORCHAT_LLM_MODEL?"));
    assert_non_null(strstr(log, "unknown environment variable BENTO_YUNSHUI_TYPO"));
    assert_null(strstr(log, "gpt"));
    free(log);
}

/* a secret file that cannot be read, is empty, or comes with the value too: refused */
static void test_secret_file_refused(void **state)
{
    char dir[] = "/tmp/bt-cli-sec-XXXXXX", empty[128], good[128];
    char e1[200], e2[200], e3[200];
    const char *env_missing[] = {e1, NULL};
    const char *env_empty[] = {e2, NULL};
    const char *env_both[] = {e3, "BENTO_VENDORCHAT_LLM_KEY=sk-inline-value", NULL};
    char *log = NULL;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(empty, sizeof(empty), "%s/empty", dir);
    snprintf(good, sizeof(good), "%s/key", dir);
    write_text(empty, "");
    write_text(good, "sk-file-value\n");
    snprintf(e1, sizeof(e1), "BENTO_VENDORCHAT_LLM_KEY_FILE=%s/missing", dir);
    snprintf(e2, sizeof(e2), "BENTO_VENDORCHAT_LLM_KEY_FILE=%s", empty);
    snprintf(e3, sizeof(e3), "BENTO_VENDORCHAT_LLM_KEY_FILE=%s", good);

    assert_int_equal(bt_test_proc_run_fail("vendorchat", NULL, env_missing, &log), 2);
    assert_non_null(strstr(log, "BENTO_VENDORCHAT_LLM_KEY_FILE: cannot read"));
    free(log);
    assert_int_equal(bt_test_proc_run_fail("vendorchat", NULL, env_empty, &log), 2);
    assert_non_null(strstr(log, "BENTO_VENDORCHAT_LLM_KEY_FILE"));
    assert_non_null(strstr(log, "is empty"));
    free(log);
    assert_int_equal(bt_test_proc_run_fail("vendorchat", NULL, env_both, &log), 2);
    assert_non_null(
        strstr(log, "BENTO_VENDORCHAT_LLM_KEY and BENTO_VENDORCHAT_LLM_KEY_FILE are both set"));
    assert_null(strstr(log, "sk-file-value"));
    assert_null(strstr(log, "sk-inline-value"));
    free(log);
    unlink(empty);
    unlink(good);
    rmdir(dir);
}

/* bento check on a freshly migrated database: every line ok, exit 0; the URL comes from
 * BENTO_DB_FILE (how a container passes a URL holding a password) */
static void test_check_passes(void **state)
{
    char *url = bt_test_db_url_new(), *out, *err, file[128], env0[200];
    char dir[] = "/tmp/bt-cli-chk-XXXXXX";
    const char *const migrate[] = {"migrate", "--db", url, NULL};
    const char *const check[] = {"check", NULL};
    const char *env[] = {env0, NULL};
    (void)state;

    assert_int_equal(bt_test_cli(migrate, NULL, NULL, NULL, NULL), 0);
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/db-url", dir);
    write_text(file, url);
    snprintf(env0, sizeof(env0), "BENTO_DB_FILE=%s", file);
    if (bt_test_cli(check, env, NULL, &out, &err) != 0)
        fail_msg("check failed:\n%s%s", out, err);
    assert_non_null(strstr(out, "ok    configuration\n"));
    assert_non_null(strstr(out, "reachable"));
    assert_non_null(strstr(out, "ok    migrations vendorchat: current (3 applied)\n"));
    assert_non_null(strstr(out, "ok    migrations yunshui: current (5 applied)\n"));
    assert_non_null(strstr(out, "ok    settings yunshui\n"));
    assert_null(strstr(out, "FAIL"));
    free(out);
    free(err);
    unlink(file);
    rmdir(dir);
    bt_test_db_url_release(url);
}

static void test_check_fails(void **state)
{
    char *url = bt_test_db_url_new(), *out;
    const char *const migrate[] = {"migrate", "--db", url, NULL};
    const char *const check[] = {"check", "--db", url, NULL};
    const char *const bad_set[] = {
        "check", "--db", url, "--set", "yunshui.rate_limit=lots", "--set", "yunshui.jwt_secert=x",
        NULL};
    const char *const unreachable_pg[] = {"check", "--db", "postgres://bento:pw@127.0.0.1:1/none",
                                          NULL};
    const char *const unreachable_sqlite[] = {"check", "--db", "sqlite:/nonexistent/dir/x.db",
                                              NULL};
    const char *const prod[] = {"BENTO_ENV=production", NULL};
    const char *const prod_key[] = {
        "BENTO_ENV=production", "BENTO_YUNSHUI_JWT_SECRET=0123456789abcdef0123456789abcdef", NULL};
    struct bt_dbpool *pool;
    struct bt_db *db;
    struct bt_err err;
    (void)state;

    /* nothing applied yet: every migration is pending, and nothing is applied by check */
    if (!is_pg()) {
        assert_int_equal(bt_test_cli(check, NULL, NULL, &out, NULL), 1);
        assert_non_null(strstr(out, "FAIL  database"));
        assert_non_null(strstr(out, "no such file"));
        free(out);
    } else {
        assert_int_equal(bt_test_cli(check, NULL, NULL, &out, NULL), 1);
        assert_non_null(strstr(out, "FAIL  migrations yunshui: 5 of 5 pending"));
        free(out);
        assert_int_equal(bt_test_cli(check, NULL, NULL, &out, NULL), 1); /* still pending */
        assert_non_null(strstr(out, "FAIL  migrations yunshui: 5 of 5 pending"));
        free(out);
    }
    assert_int_equal(bt_test_cli(migrate, NULL, NULL, NULL, NULL), 0);
    /* bad settings: each reported, the other checks still run */
    assert_int_equal(bt_test_cli(bad_set, NULL, NULL, &out, NULL), 1);
    assert_non_null(strstr(out, "FAIL  configuration: unknown setting --set yunshui.jwt_secert"));
    assert_non_null(strstr(out, "FAIL  settings yunshui: yunshui.rate_limit must be"));
    assert_non_null(strstr(out, "ok    migrations yunshui"));
    free(out);
    /* production rules: the development JWT key and the default admin are refused */
    assert_int_equal(bt_test_cli(check, prod, NULL, &out, NULL), 1);
    assert_non_null(strstr(out, "FAIL  settings yunshui (production): yunshui.jwt_secret"));
    free(out);
    /* a good key, but an empty database would get no first ADMIN in production */
    assert_int_equal(bt_test_cli(check, prod_key, NULL, &out, NULL), 1);
    assert_non_null(
        strstr(out, "FAIL  settings yunshui (production): yunshui.admin_password must be set"));
    assert_null(strstr(out, "0123456789abcdef"));
    free(out);

    /* one migration taken back out of the ledger: that one is listed */
    bt_err_clear(&err);
    assert_int_equal(bt_dbpool_open(url, 1, &pool, &err), BT_OK);
    db = bt_dbpool_get(pool, 5000, &err);
    assert_non_null(db);
    assert_int_equal(
        bt_db_exec(db, NULL, "DELETE FROM bento_migrations WHERE app = 'yunshui' AND version = 3",
                   BT_NOARGS, &err),
        BT_OK);
    bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);
    assert_int_equal(bt_test_cli(check, NULL, NULL, &out, NULL), 1);
    assert_non_null(strstr(out, "FAIL  migrations yunshui: 1 of 5 pending (bento migrate applies "
                                "them): 0003 orders"));
    assert_non_null(strstr(out, "ok    migrations vendorchat"));
    free(out);

    /* unreachable databases; the password never shows */
    assert_int_equal(
        bt_test_cli(is_pg() ? unreachable_pg : unreachable_sqlite, NULL, NULL, &out, NULL), 1);
    assert_non_null(strstr(out, "FAIL  database"));
    assert_null(strstr(out, ":pw@"));
    free(out);
    bt_test_db_url_release(url);
}

static int64_t count_users(const char *url)
{
    struct bt_dbpool *pool;
    struct bt_db *db;
    struct bt_err err;
    int64_t n = -1;

    bt_err_clear(&err);
    if (bt_dbpool_open(url, 1, &pool, &err) != BT_OK)
        fail_msg("open %s: %s", url, err.msg);
    db = bt_dbpool_get(pool, 5000, &err);
    assert_non_null(db);
    assert_int_equal(bt_db_query_i64(db, &n, "SELECT COUNT(*) FROM yunshui_users", BT_NOARGS, &err),
                     BT_OK);
    bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);
    return n;
}

/* SQLite: a consistent copy while the server runs, never over an existing file;
 * PostgreSQL: the pg_dump command, without the password */
static void test_backup(void **state)
{
    char dir[] = "/tmp/bt-cli-bak-XXXXXX", copy[128], copy_url[160], *out, *err;
    char *url = bt_test_db_url_new();
    const char *const args[] = {"--db", url, NULL};
    const char *const backup[] = {"backup", "--db", url, copy, NULL};
    const char *const pg_backup[] = {"backup", "--db",
                                     "postgres://bento:hunter2@db.internal:5432/bento", copy, NULL};
    struct bt_test_proc *p;
    struct stat st;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(copy, sizeof(copy), "%s/copy.db", dir);
    if (is_pg()) {
        assert_int_equal(bt_test_cli(backup, NULL, NULL, &out, &err), 1);
        assert_non_null(strstr(err, "pg_dump"));
        free(out);
        free(err);
        assert_int_equal(bt_test_cli(pg_backup, NULL, NULL, &out, &err), 1);
        assert_non_null(strstr(err, "the database is PostgreSQL: back it up with pg_dump"));
        assert_non_null(strstr(err, "'postgres://bento@db.internal:5432/bento'"));
        assert_null(strstr(err, "hunter2"));
        assert_int_equal(stat(copy, &st), -1); /* nothing written */
        free(out);
        free(err);
        rmdir(dir);
        bt_test_db_url_release(url);
        return;
    }
    /* the server runs on the database (WAL) while the copy is taken */
    p = bt_test_proc_start("yunshui", args, NULL); /* seeds the development admin */
    if (bt_test_cli(backup, NULL, NULL, &out, &err) != 0)
        fail_msg("backup failed: %s%s", out, err);
    assert_non_null(strstr(out, "written to"));
    free(out);
    free(err);
    assert_int_equal(stat(copy, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(copy_url, sizeof(copy_url), "%s-wal", copy);
    assert_int_equal(stat(copy_url, &st), -1); /* one self-contained file */
    snprintf(copy_url, sizeof(copy_url), "sqlite:%s", copy);
    assert_int_equal(count_users(copy_url), 1);
    /* a second backup to the same file is refused and leaves it alone */
    assert_int_equal(bt_test_cli(backup, NULL, NULL, &out, &err), 1);
    assert_non_null(strstr(err, "never overwrites"));
    assert_int_equal(count_users(copy_url), 1);
    free(out);
    free(err);
    assert_int_equal(bt_test_proc_stop(p), 0);
    unlink(copy);
    rmdir(dir);
    bt_test_db_url_release(url);
}

/* bento sql: the statements of stdin run on the database - on SQLite with bento's search
 * tokenizer, so a searched table (yunshui's materials) can be written outside the API and
 * is indexed; a failing statement is exit 1 with the database's message, arguments exit 2 */
static void test_sql(void **state)
{
    char *url = bt_test_db_url_new(), *out, *err;
    const char *const migrate[] = {"migrate", "--db", url, NULL};
    const char *const sql[] = {"sql", "--db", url, NULL};
    const char *const extra[] = {"sql", "--db", url, "seed.sql", NULL};
    static const struct bt_search materials = {"yunshui_materials", "id", "search_text"};
    struct bt_search_term term;
    struct bt_arena *a = bt_arena_new();
    struct bt_dbpool *pool;
    struct bt_db *db;
    struct bt_err e;
    int64_t n = -1;
    (void)state;

    assert_int_equal(bt_test_cli(migrate, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(bt_test_cli(sql, NULL,
                                 "BEGIN;\n"
                                 "INSERT INTO yunshui_materials (id, name, search_text, created_at,"
                                 " updated_at) VALUES ('m1', '不鏽鋼板', '不鏽鋼板\x1f\x1f',"
                                 " '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z');\n"
                                 "UPDATE yunshui_materials_rev SET rev = 7 WHERE id = 1;\n"
                                 "COMMIT;\n",
                                 &out, &err),
                     0);
    assert_string_equal(out, "");
    assert_string_equal(err, "");
    free(out);
    free(err);
    assert_int_equal(bt_dbpool_open(url, 1, &pool, &e), BT_OK);
    db = bt_dbpool_get(pool, 5000, &e);
    assert_non_null(db);
    assert_true(bt_search_term(a, "鋼", &term));
    assert_int_equal(bt_search_count(db, &materials, &term, &n, &e), BT_OK);
    assert_int_equal(n, 1);
    bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);

    assert_int_equal(bt_test_cli(sql, NULL, "INSERT INTO nosuch VALUES (1);", &out, &err), 1);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "bento: sql: "));
    assert_non_null(strstr(err, "nosuch"));
    free(out);
    free(err);
    assert_int_equal(bt_test_cli(extra, NULL, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "sql reads its statements from stdin"));
    free(out);
    free(err);
    bt_arena_free(a);
    bt_test_db_url_release(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_openapi_command),
        cmocka_unit_test(test_help_lists_settings),
        cmocka_unit_test(test_unknown_settings_refused),
        cmocka_unit_test(test_secret_file_refused),
        cmocka_unit_test(test_check_passes),
        cmocka_unit_test(test_check_fails),
        cmocka_unit_test(test_backup),
        cmocka_unit_test(test_sql),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
