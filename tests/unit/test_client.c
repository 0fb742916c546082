/* SPDX-License-Identifier: MIT
 * test_client.c - unit tests for src/client/client.c against a local fake upstream: JSON
 * round trip, error statuses, non-JSON bodies, the size cap, timeouts, refused connections,
 * no redirects, and messages that never leak the URL's secrets.
 */
#include "bt_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SECRET "sk-test-SECRET-123"

static void upstream(const struct bt_test_upstream_req *rq, struct bt_test_upstream_resp *rs,
                     void *ud)
{
    (void)ud;
    if (strcmp(rq->path, "/echo") == 0) {
        json_t *j_body = rq->body_len ? json_loadb(rq->body, rq->body_len, 0, NULL) : NULL;
        json_t *j = json_pack("{s:s, s:o, s:s?, s:I}", "method", rq->method, "body",
                              j_body ? j_body : json_null(), "auth", rq->authorization, "len",
                              (json_int_t)rq->body_len);
        rs->status = 200;
        rs->content_type = "application/json";
        rs->body = json_dumps(j, JSON_COMPACT);
        json_decref(j);
    } else if (strcmp(rq->path, "/fail") == 0) {
        rs->status = 500;
        rs->content_type = "application/json";
        rs->body = strdup("{\"error\":\"boom\"}");
    } else if (strcmp(rq->path, "/text") == 0) {
        rs->status = 200;
        rs->content_type = "text/plain";
        rs->body = strdup("hello, not json");
    } else if (strcmp(rq->path, "/big") == 0) {
        size_t n = 64 * 1024;
        rs->status = 200;
        rs->content_type = "application/json";
        rs->body = malloc(n + 3);
        rs->body[0] = '"';
        memset(rs->body + 1, 'a', n);
        rs->body[n + 1] = '"';
        rs->body[n + 2] = '\0';
    } else if (strcmp(rq->path, "/redirect") == 0) {
        rs->status = 302;
        rs->content_type = "text/plain";
        rs->body = strdup("moved");
    } else if (strcmp(rq->path, "/hang") == 0) {
        rs->status = 0; /* never answer */
    } else {
        rs->status = 404;
        rs->content_type = "application/json";
        rs->body = strdup("{}");
    }
}

static int setup(void **state)
{
    bt_client_global_init();
    *state = bt_test_upstream_start(upstream, NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    bt_test_upstream_stop(*state);
    return 0;
}

static char *url_of(struct bt_arena *a, void **state, const char *path)
{
    return bt_arena_printf(a, "%s%s", bt_test_upstream_url(*state), path);
}

static void assert_no_secret(const struct bt_err *err)
{
    assert_null(strstr(err->msg, SECRET));
    assert_null(strstr(err->msg, "127.0.0.1"));
    assert_null(strstr(err->msg, "http"));
}

static void test_post_json_roundtrip(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_client_resp out;
    struct bt_err err;
    const char *const headers[] = {"Authorization: Bearer " SECRET, NULL};
    json_t *body = json_pack("{s:s, s:f, s:[i,i]}", "name", "便當", "price", 0.95, "ids", 1, 2);

    bt_err_clear(&err);
    assert_int_equal(
        bt_client_json(a, "POST", url_of(a, state, "/echo"), headers, body, 2000, 0, &out, &err),
        BT_OK);
    assert_int_equal(out.status, 200);
    assert_non_null(out.body);
    assert_int_equal(out.len, strlen(out.body));
    assert_non_null(out.json);
    bt_assert_subset(out.json, "{\"method\":\"POST\",\"auth\":\"Bearer " SECRET "\","
                               "\"body\":{\"name\":\"便當\",\"price\":0.95,\"ids\":[1,2]}}");
    json_decref(body);
    bt_arena_free(a); /* the arena owns out.json */
}

static void test_methods(void **state)
{
    const char *methods[] = {"GET", "PUT", "PATCH", "DELETE", "POST"};
    struct bt_arena *a = bt_arena_new();
    struct bt_client_resp out;
    struct bt_err err;
    json_t *body = json_pack("{s:i}", "x", 1);

    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        bool with_body = i > 0;
        bt_err_clear(&err);
        assert_int_equal(bt_client_json(a, methods[i], url_of(a, state, "/echo"), NULL,
                                        with_body ? body : NULL, 2000, 0, &out, &err),
                         BT_OK);
        assert_int_equal(out.status, 200);
        assert_string_equal(bt_json_str(out.json, "/method"), methods[i]);
        if (with_body)
            bt_assert_subset(out.json, "{\"body\":{\"x\":1}}");
        else
            bt_assert_subset(out.json, "{\"body\":null,\"len\":0}");
    }
    /* a POST without a body is still a POST */
    assert_int_equal(
        bt_client_json(a, "POST", url_of(a, state, "/echo"), NULL, NULL, 2000, 0, &out, &err),
        BT_OK);
    assert_string_equal(bt_json_str(out.json, "/method"), "POST");
    json_decref(body);
    bt_arena_free(a);
}

static void test_error_status_is_a_response(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_client_resp out;
    struct bt_err err;

    bt_err_clear(&err);
    assert_int_equal(
        bt_client_json(a, "GET", url_of(a, state, "/fail"), NULL, NULL, 2000, 0, &out, &err),
        BT_OK);
    assert_int_equal(out.status, 500);
    bt_assert_subset(out.json, "{\"error\":\"boom\"}");
    bt_arena_free(a);
}

static void test_non_json_body(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_client_resp out;
    struct bt_err err;

    bt_err_clear(&err);
    assert_int_equal(
        bt_client_json(a, "GET", url_of(a, state, "/text"), NULL, NULL, 2000, 0, &out, &err),
        BT_OK);
    assert_int_equal(out.status, 200);
    assert_string_equal(out.body, "hello, not json");
    assert_int_equal(out.len, 15);
    assert_null(out.json);
    bt_arena_free(a);
}

static void test_size_cap(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_client_resp out;
    struct bt_err err;

    bt_err_clear(&err);
    assert_int_equal(
        bt_client_json(a, "GET", url_of(a, state, "/big"), NULL, NULL, 2000, 1024, &out, &err),
        BT_EUPSTREAM);
    assert_int_equal(err.code, BT_EUPSTREAM);
    assert_string_equal(err.msg, "upstream response too large");
    assert_null(out.body);
    assert_null(out.json);

    /* exactly at the cap is fine */
    bt_err_clear(&err);
    assert_int_equal(bt_client_json(a, "GET", url_of(a, state, "/big"), NULL, NULL, 2000,
                                    64 * 1024 + 2, &out, &err),
                     BT_OK);
    assert_int_equal(out.len, 64 * 1024 + 2);
    assert_true(json_is_string(out.json));
    bt_arena_free(a);
}

static void test_no_redirects(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_client_resp out;
    struct bt_err err;

    bt_err_clear(&err);
    assert_int_equal(
        bt_client_json(a, "GET", url_of(a, state, "/redirect"), NULL, NULL, 2000, 0, &out, &err),
        BT_OK);
    assert_int_equal(out.status, 302);
    bt_arena_free(a);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_timeout(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_client_resp out;
    struct bt_err err;
    const char *const headers[] = {"X-Api-Key: " SECRET, NULL};
    double t0 = now_s();

    bt_err_clear(&err);
    assert_int_equal(bt_client_json(a, "GET", url_of(a, state, "/hang?key=" SECRET), headers, NULL,
                                    300, 0, &out, &err),
                     BT_EUPSTREAM);
    assert_string_equal(err.msg, "upstream timed out");
    assert_no_secret(&err);
    assert_int_equal(out.status, 0);
    /* the 300 ms limit was honoured (generous bound for a loaded machine) */
    assert_true(now_s() - t0 < 5.0);
    bt_arena_free(a);
}

static void test_connection_refused(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_client_resp out;
    struct bt_err err;
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char *url;

    (void)state;
    /* a port that was free a moment ago and has no listener now */
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    url = bt_arena_printf(a, "http://127.0.0.1:%u/x?token=" SECRET, ntohs(sa.sin_port));

    bt_err_clear(&err);
    assert_int_equal(bt_client_json(a, "GET", url, NULL, NULL, 2000, 0, &out, &err), BT_EUPSTREAM);
    assert_string_equal(err.msg, "could not connect to upstream");
    assert_no_secret(&err);
    bt_arena_free(a);
}

static void test_bad_urls(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_client_resp out;
    struct bt_err err;

    (void)state;
    bt_err_clear(&err);
    assert_int_equal(bt_client_json(a, "GET", "", NULL, NULL, 300, 0, &out, &err), BT_EUNAVAILABLE);
    assert_int_equal(bt_client_json(a, "GET", NULL, NULL, NULL, 300, 0, &out, &err),
                     BT_EUNAVAILABLE);
    bt_err_clear(&err);
    assert_int_equal(
        bt_client_json(a, "GET", "ftp://127.0.0.1/" SECRET, NULL, NULL, 300, 0, &out, &err),
        BT_EUPSTREAM);
    assert_no_secret(&err);
    bt_err_clear(&err);
    assert_int_equal(bt_client_json(a, "GET", "http://[::1" SECRET, NULL, NULL, 300, 0, &out, &err),
                     BT_EUPSTREAM);
    assert_no_secret(&err);
    bt_arena_free(a);
}

struct worker {
    const char *base;
    int ok;
};

static void *work(void *p)
{
    struct worker *w = p;
    struct bt_arena *a = bt_arena_new();

    for (int i = 0; i < 10; i++) {
        struct bt_client_resp out;
        struct bt_err err;
        json_t *body = json_pack("{s:i}", "i", i);
        bt_err_clear(&err);
        if (bt_client_json(a, "POST", bt_arena_printf(a, "%s/echo", w->base), NULL, body, 5000, 0,
                           &out, &err) == BT_OK &&
            out.status == 200 && bt_json_int(out.json, "/body/i", -1) == i)
            w->ok++;
        json_decref(body);
        bt_arena_reset(a);
    }
    bt_arena_free(a);
    return NULL;
}

static void test_threads(void **state)
{
    pthread_t th[6];
    struct worker w[6];
    unsigned before = bt_test_upstream_hits(*state);

    for (int i = 0; i < 6; i++) {
        w[i].base = bt_test_upstream_url(*state);
        w[i].ok = 0;
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].ok, 10);
    }
    assert_int_equal(bt_test_upstream_hits(*state) - before, 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_post_json_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_status_is_a_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_json_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_redirects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_urls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bt_client_global_cleanup();
    return rc;
}
