/* SPDX-License-Identifier: MIT
 * test_users_cli_bb.c - `bento user ... yunshui` against the real binary and a running
 * server on the same database (docs/OPERATIONS.md "Accounts"): add then log in over HTTP with
 * that password, passwd (the old password and every session end), disable (login, access
 * token and refresh token refused), enable, list (no hashes); the password only from stdin or
 * a terminal, never argv; production refuses the documented default password; the secrets of
 * a production start read from files (BENTO_YUNSHUI_JWT_SECRET_FILE,
 * --set yunshui.admin_password_file).
 */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bt_test.h"

#define KEY "0123456789abcdef0123456789abcdef" /* 32 bytes */

static void login(struct bt_test_proc *p, const char *user, const char *pass,
                  struct bt_test_resp *r)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", user, pass);
    bt_test_http(p, "yunshui", "POST", "/v1/auth/login", NULL, body, strlen(body), r);
}

/* bento user ... with --db url; stdin_text may be NULL; returns the exit status */
static int user_cmd(const char *url, const char *const *words, const char *stdin_text, char **out,
                    char **err)
{
    const char *args[16];
    size_t n = 0;

    args[n++] = "user";
    for (size_t i = 0; words[i]; i++)
        args[n++] = words[i];
    args[n++] = "--db";
    args[n++] = url;
    args[n] = NULL;
    return bt_test_cli(args, NULL, stdin_text, out, err);
}

static void test_add_login_passwd_disable(void **state)
{
    char *url = bt_test_db_url_new(), *out, *err;
    const char *const srv_args[] = {"--db", url, NULL};
    const char *const add[] = {"add",
                               "yunshui",
                               "alice",
                               "--role",
                               "ADMIN",
                               "--email",
                               "Alice@Example.com",
                               "--password-stdin",
                               NULL};
    const char *const passwd[] = {"passwd", "yunshui", "alice", "--password-stdin", NULL};
    const char *const disable[] = {"disable", "yunshui", "alice", NULL};
    const char *const enable[] = {"enable", "yunshui", "alice", NULL};
    const char *const list[] = {"list", "yunshui", NULL};
    struct bt_test_resp r = {0};
    struct bt_test_proc *p;
    char hdr[2048], body[512];
    const char *h[2] = {hdr, NULL};
    (void)state;

    /* on a database nobody migrated yet: the command applies the migrations itself */
    if (user_cmd(url, add, "Alice-Pass-123\n", &out, &err) != 0)
        fail_msg("user add: %s%s", out, err);
    assert_string_equal(out, "yunshui: user alice added (ADMIN)\n");
    free(out);
    free(err);
    p = bt_test_proc_start("yunshui", srv_args, NULL);
    login(p, "alice", "Alice-Pass-123", &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"success\":true,\"data\":{\"user\":{\"username\":\"alice\","
                             "\"email\":\"alice@example.com\",\"role\":\"ADMIN\"}}}");
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", bt_json_str(r.json, "/data/token"));
    snprintf(body, sizeof(body), "{\"refreshToken\":\"%s\"}",
             bt_json_str(r.json, "/data/refreshToken"));
    /* the CLI's user is an ADMIN to the API */
    bt_test_http(p, "yunshui", "GET", "/v1/users", h, NULL, 0, &r);
    assert_int_equal(r.status, 200);

    /* a user someone already has */
    assert_int_equal(user_cmd(url, add, "Alice-Pass-123\n", &out, &err), 1);
    assert_non_null(strstr(err, "exists"));
    free(out);
    free(err);

    /* passwd: the new password works, the old one and the old session do not */
    assert_int_equal(user_cmd(url, passwd, "Second-Pass-456\n", &out, &err), 0);
    free(out);
    free(err);
    login(p, "alice", "Alice-Pass-123", &r);
    assert_int_equal(r.status, 401);
    bt_test_http(p, "yunshui", "GET", "/v1/auth/me", h, NULL, 0, &r);
    assert_int_equal(r.status, 401);
    login(p, "alice", "Second-Pass-456", &r);
    assert_int_equal(r.status, 200);
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", bt_json_str(r.json, "/data/token"));
    snprintf(body, sizeof(body), "{\"refreshToken\":\"%s\"}",
             bt_json_str(r.json, "/data/refreshToken"));

    /* disable: login, the access token and the refresh token are all refused */
    assert_int_equal(user_cmd(url, disable, NULL, &out, &err), 0);
    assert_string_equal(out, "yunshui: user alice disabled; 1 session(s) ended\n");
    free(out);
    free(err);
    bt_test_http(p, "yunshui", "GET", "/v1/auth/me", h, NULL, 0, &r);
    assert_int_equal(r.status, 401);
    bt_test_http(p, "yunshui", "POST", "/v1/auth/refresh", NULL, body, strlen(body), &r);
    assert_int_equal(r.status, 401);
    bt_assert_subset(r.json, "{\"success\":false,\"error\":{\"code\":\"INVALID_CREDENTIALS\"}}");
    login(p, "alice", "Second-Pass-456", &r);
    assert_int_equal(r.status, 401);
    bt_assert_subset(r.json, "{\"error\":{\"message\":\"帳號已停用\"}}");

    /* list: a table, no hashes */
    assert_int_equal(user_cmd(url, list, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "USERNAME"));
    assert_non_null(strstr(out, "alice  "));
    assert_null(strstr(out, "$argon2"));
    assert_non_null(strstr(out, "ADMIN  no"));
    free(out);
    free(err);

    /* enable: in again */
    assert_int_equal(user_cmd(url, enable, NULL, &out, &err), 0);
    free(out);
    free(err);
    login(p, "alice", "Second-Pass-456", &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
    bt_test_db_url_release(url);
}

static void test_refusals(void **state)
{
    char *url = bt_test_db_url_new(), *out, *err;
    const char *const no_stdin_flag[] = {"add",     "yunshui",         "bob",
                                         "--email", "bob@example.com", NULL};
    const char *const no_email[] = {"add", "yunshui", "bob", "--password-stdin", NULL};
    const char *const bad_role[] = {
        "add", "yunshui", "bob", "--role", "ROOT", "--email", "bob@example.com", "--password-stdin",
        NULL};
    const char *const add[] = {
        "add", "yunshui", "bob", "--email", "bob@example.com", "--password-stdin", NULL};
    const char *const passwd_nobody[] = {"passwd", "yunshui", "nobody", "--password-stdin", NULL};
    const char *const no_accounts[] = {"list", "vendorchat", NULL};
    const char *const bad_sub[] = {"remove", "yunshui", "bob", NULL};
    const char *const prod_args[] = {
        "user", "add", "yunshui", "carol", "--email", "carol@example.com", "--password-stdin",
        "--db", url,   NULL};
    const char *const prod[] = {"BENTO_ENV=production", NULL};
    (void)state;

    /* no terminal and no --password-stdin: refused, nothing read from argv */
    assert_int_equal(user_cmd(url, no_stdin_flag, "Bob-Pass-123\n", &out, &err), 1);
    assert_non_null(strstr(err, "--password-stdin"));
    free(out);
    free(err);
    assert_int_equal(user_cmd(url, no_email, "Bob-Pass-123\n", &out, &err), 2);
    assert_non_null(strstr(err, "--email"));
    free(out);
    free(err);
    assert_int_equal(user_cmd(url, bad_role, "Bob-Pass-123\n", &out, &err), 1);
    assert_non_null(strstr(err, "ADMIN or USER"));
    free(out);
    free(err);
    assert_int_equal(user_cmd(url, add, "short\n", &out, &err), 1);
    assert_non_null(strstr(err, "8 to 128 characters"));
    free(out);
    free(err);
    assert_int_equal(user_cmd(url, add, "", &out, &err), 1);
    free(out);
    free(err);
    assert_int_equal(user_cmd(url, passwd_nobody, "Some-Pass-123\n", &out, &err), 1);
    assert_non_null(strstr(err, "no yunshui user nobody"));
    free(out);
    free(err);
    assert_int_equal(user_cmd(url, no_accounts, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "vendorchat has no accounts"));
    free(out);
    free(err);
    assert_int_equal(user_cmd(url, bad_sub, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "usage: bento user"));
    free(out);
    free(err);
    /* production: the documented default password is refused for any account */
    assert_int_equal(bt_test_cli(prod_args, prod, "password123\n", &out, &err), 1);
    assert_non_null(strstr(err, "default password is refused in production"));
    free(out);
    free(err);
    /* a user added with USER by default */
    assert_int_equal(user_cmd(url, add, "Bob-Pass-123\r\n", &out, &err), 0);
    assert_string_equal(out, "yunshui: user bob added (USER)\n");
    free(out);
    free(err);
    bt_test_db_url_release(url);
}

/* A locked-out production ADMIN is one command: the server refuses to start while the admin
 * keeps password123; `bento user passwd` works in production although the server would not
 * start, and then it starts. The secrets come from files. */
static void test_production_recovery_with_files(void **state)
{
    char *url = bt_test_db_url_new(), *out, *err, *log = NULL;
    char dir[] = "/tmp/bt-ys-cli-XXXXXX", keyf[128], envkey[200], setpw[200];
    const char *const dev_args[] = {"--db", url, NULL};
    const char *const prod_args[] = {"--db", url, NULL};
    const char *const passwd[] = {"user", "passwd", "yunshui", "admin", "--password-stdin",
                                  "--db", url,      NULL};
    const char *prod_env[] = {"BENTO_ENV=production", envkey, NULL};
    const char *const pw_file_args[] = {"--set", setpw, NULL};
    struct bt_test_proc *p;
    struct bt_test_resp r = {0};
    FILE *f;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(keyf, sizeof(keyf), "%s/jwt", dir);
    f = fopen(keyf, "wb");
    assert_non_null(f);
    fputs(KEY "\n", f);
    fclose(f);
    snprintf(envkey, sizeof(envkey), "BENTO_YUNSHUI_JWT_SECRET_FILE=%s", keyf);

    p = bt_test_proc_start("yunshui", dev_args, NULL); /* seeds admin/password123 */
    assert_int_equal(bt_test_proc_stop(p), 0);
    assert_int_equal(bt_test_proc_run_fail("yunshui", prod_args, prod_env, &log), 1);
    assert_non_null(strstr(log, "still has the default password"));
    assert_non_null(strstr(log, "bento user passwd yunshui admin"));
    free(log);
    if (bt_test_cli(passwd, prod_env, "Recovered-Pass-1\n", &out, &err) != 0)
        fail_msg("passwd in production: %s%s", out, err);
    free(out);
    free(err);
    p = bt_test_proc_start("yunshui", prod_args, prod_env);
    login(p, "admin", "Recovered-Pass-1", &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
    bt_test_db_url_release(url);

    /* an empty database in production: the first ADMIN's password from a file too */
    f = fopen(keyf, "wb");
    assert_non_null(f);
    fputs(KEY "\n", f);
    fclose(f);
    {
        char pwf[128];
        snprintf(pwf, sizeof(pwf), "%s/admin", dir);
        f = fopen(pwf, "wb");
        assert_non_null(f);
        fputs("File-Admin-Pass-9\n", f);
        fclose(f);
        snprintf(setpw, sizeof(setpw), "yunshui.admin_password_file=%s", pwf);
        p = bt_test_proc_start("yunshui", pw_file_args, prod_env);
        login(p, "admin", "File-Admin-Pass-9", &r);
        assert_int_equal(r.status, 200);
        bt_test_resp_release(&r);
        assert_int_equal(bt_test_proc_stop(p), 0);
        unlink(pwf);
    }
    unlink(keyf);
    rmdir(dir);
}

/* Read from the terminal's master side until want shows up (or EOF when want is NULL); what
 * was read is appended to *all. Fails the test after 30 s without progress. */
static void pty_read_until(int fd, const char *want, char *all, size_t cap)
{
    size_t len = strlen(all);

    while (!want || !strstr(all, want)) {
        struct pollfd pfd = {fd, POLLIN, 0};
        ssize_t n;
        int rc = poll(&pfd, 1, 30000);
        if (rc == 0)
            fail_msg("terminal: no \"%s\" within 30 s; got: %s", want ? want : "EOF", all);
        if (rc < 0 && errno == EINTR)
            continue;
        n = read(fd, all + len, cap - 1 - len);
        if (n <= 0) { /* EIO once the child closed the terminal */
            if (want)
                fail_msg("terminal closed before \"%s\"; got: %s", want, all);
            return;
        }
        len += (size_t)n;
        all[len] = '\0';
    }
}

/* bento user passwd on a terminal: asks twice with echo off; both answers must match */
static int passwd_on_terminal(const char *url, const char *first, const char *second, char *all,
                              size_t cap)
{
    const char *bin = getenv("BENTO_BIN");
    int fd, status = 0;
    pid_t pid;

    assert_non_null(bin);
    all[0] = '\0';
    pid = forkpty(&fd, NULL, NULL, NULL);
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(bin, bin, "user", "passwd", "yunshui", "admin", "--db", url, (char *)NULL);
        _exit(127);
    }
    pty_read_until(fd, "New password: ", all, cap);
    assert_int_equal(write(fd, first, strlen(first)), (ssize_t)strlen(first));
    pty_read_until(fd, "Repeat it: ", all, cap);
    assert_int_equal(write(fd, second, strlen(second)), (ssize_t)strlen(second));
    pty_read_until(fd, NULL, all, cap);
    close(fd);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_password_prompt(void **state)
{
    char *url = bt_test_db_url_new(), all[4096];
    const char *const srv_args[] = {"--db", url, NULL};
    struct bt_test_proc *p;
    struct bt_test_resp r = {0};
    (void)state;

    p = bt_test_proc_start("yunshui", srv_args, NULL); /* seeds admin/password123 */
    assert_int_equal(
        passwd_on_terminal(url, "Typed-Pass-321\n", "Typed-Pass-999\n", all, sizeof(all)), 1);
    assert_non_null(strstr(all, "the passwords differ"));
    login(p, "admin", "password123", &r); /* unchanged */
    assert_int_equal(r.status, 200);
    assert_int_equal(
        passwd_on_terminal(url, "Typed-Pass-321\n", "Typed-Pass-321\n", all, sizeof(all)), 0);
    assert_null(strstr(all, "Typed-Pass-321")); /* echo was off */
    assert_non_null(strstr(all, "password of admin changed"));
    login(p, "admin", "Typed-Pass-321", &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
    bt_test_db_url_release(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_login_passwd_disable),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_password_prompt),
        cmocka_unit_test(test_production_recovery_with_files),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
