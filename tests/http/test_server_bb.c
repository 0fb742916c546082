/* SPDX-License-Identifier: MIT
 * test_server_bb.c - the core, black-box: the real binary on ephemeral ports. Listener,
 * caps (413/431 in the app's envelope), 404/405 with Allow, request ids, /health, /metrics,
 * /openapi.json, bad query strings, keep-alive, graceful shutdown, the CLI.
 * Uses vendorchat as the app (its envelope is {"detail": ...}).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bt_test.h"

static int setup(void **state)
{
    static const char *const env[] = {"BENTO_MAX_BODY=4096", "BENTO_CONN_TIMEOUT=2", NULL};
    *state = bt_test_proc_start("vendorchat", NULL, env);
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(bt_test_proc_stop(*state), 0); /* SIGTERM -> clean exit */
    return 0;
}

static void test_health_metrics_openapi(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};

    bt_test_http(p, "vendorchat", "GET", "/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"status\":\"ok\",\"service\":\"vendorchat\",\"database\":\"ok\"}");
    assert_non_null(bt_test_resp_header(&r, "x-request-id"));

    bt_test_http(p, "vendorchat", "GET", "/api/v1/vendors", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_test_http(p, "vendorchat", "GET", "/metrics", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(bt_test_resp_header(&r, "content-type"), "text/plain"));
    assert_non_null(strstr(r.body,
                           "bento_http_requests_total{service=\"vendorchat\",method=\"GET\","
                           "route=\"/api/v1/vendors\",status=\"200\"} 1"));
    assert_non_null(strstr(r.body, "bento_http_request_duration_seconds_bucket"));
    assert_non_null(strstr(r.body, "bento_http_requests_in_flight{service=\"vendorchat\"}"));
    assert_non_null(strstr(r.body, "bento_db_connections{service=\"vendorchat\",state=\"max\"}"));

    bt_test_http(p, "vendorchat", "GET", "/openapi.json", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"openapi\":\"3.1.0\"}");
    assert_non_null(bt_json_at(r.json, "/paths/~1api~1v1~1vendors~1{vendor_id}/get"));
    assert_non_null(bt_json_at(r.json, "/paths/~1chat~1v1~1message/post/requestBody"));
    /* aliases are listed as deprecated operations */
    bt_assert_subset(r.json, "{\"paths\":{\"/api/v1/message\":{\"post\":{\"deprecated\":true}}}}");
    bt_test_resp_release(&r);
}

static void test_404_405_envelopes(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};

    bt_test_http(p, "vendorchat", "GET", "/no/such/path", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    bt_assert_subset(r.json, "{\"detail\":\"Not Found\"}");
    bt_test_http(p, "vendorchat", "DELETE", "/api/v1/vendors", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 405);
    bt_assert_subset(r.json, "{\"detail\":\"Method Not Allowed\"}");
    assert_string_equal(bt_test_resp_header(&r, "allow"), "GET, POST");
    bt_test_resp_release(&r);
}

static void test_request_id_echo(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};
    static const char *const good[] = {"X-Request-Id: abc-123.x_y", NULL};
    static const char *const bad[] = {"X-Request-Id: <script>", NULL};

    bt_test_http(p, "vendorchat", "GET", "/health", good, NULL, 0, &r);
    assert_string_equal(bt_test_resp_header(&r, "x-request-id"), "abc-123.x_y");
    bt_test_http(p, "vendorchat", "GET", "/health", bad, NULL, 0, &r);
    assert_string_not_equal(bt_test_resp_header(&r, "x-request-id"), "<script>");
    assert_int_equal(strlen(bt_test_resp_header(&r, "x-request-id")), 16);
    bt_test_resp_release(&r);
}

static void test_body_cap_413(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};
    size_t n = 8192;
    char *body = malloc(n);
    char *reply;
    const char *head = "POST /api/v1/vendors HTTP/1.1\r\nHost: t\r\nContent-Type: "
                       "application/json\r\nContent-Length: 1000000\r\nExpect: "
                       "100-continue\r\n\r\n";

    memset(body, 'a', n);
    /* declared length over the cap from a client waiting for 100 Continue: refused before
     * any body is sent */
    reply = bt_test_raw(p, "vendorchat", head, strlen(head), NULL);
    assert_non_null(strstr(reply, "HTTP/1.1 413"));
    assert_non_null(strstr(reply, "{\"detail\":"));
    free(reply);
    /* a body that really is too big, sent in full without Expect: drained, then 413 */
    body[0] = '"';
    bt_test_http(p, "vendorchat", "POST", "/api/v1/vendors", NULL, body, n, &r);
    assert_int_equal(r.status, 413);
    bt_assert_subset(r.json, "{\"detail\":\"Request Entity Too Large\"}");
    /* a chunked body that grows past the cap */
    {
        char req[12000];
        int len = snprintf(req, sizeof(req),
                           "POST /api/v1/vendors HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
                           "chunked\r\n\r\n1000\r\n%.*s\r\n1000\r\n%.*s\r\n0\r\n\r\n",
                           4096, body, 4096, body);
        reply = bt_test_raw(p, "vendorchat", req, (size_t)len, NULL);
        assert_non_null(strstr(reply, "HTTP/1.1 413"));
        free(reply);
    }
    /* the server is still fine */
    bt_test_http(p, "vendorchat", "GET", "/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    free(body);
    bt_test_resp_release(&r);
}

static void test_header_cap_431(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};
    size_t n = 20000;
    char *h = malloc(n + 16);
    const char *hs[2] = {h, NULL};

    strcpy(h, "X-Big: ");
    memset(h + 7, 'b', n);
    h[7 + n] = '\0';
    /* refused by the HTTP layer before any route: no operation documents it, but the body is
     * still the app's error envelope */
    bt_test_http_unchecked(p, "vendorchat", "GET", "/health", hs, NULL, 0, &r);
    assert_int_equal(r.status, 431);
    bt_assert_subset(r.json, "{\"detail\":\"Request Header Fields Too Large\"}");
    {
        json_t *body = json_incref(r.json),
               *err_ref = json_pack("{s:s}", "$ref", "#/components/schemas/Error");
        char why[512];

        bt_test_http(p, "vendorchat", "GET", "/openapi.json", NULL, NULL, 0, &r);
        assert_int_equal(r.status, 200);
        if (bt_test_schema_validate(r.json, err_ref, body, why, sizeof why))
            fail_msg("431 body: %s", why);
        json_decref(err_ref);
        json_decref(body);
    }
    free(h);
    bt_test_resp_release(&r);
}

static void test_bad_query_strings(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};
    char *q = malloc(8000);
    size_t off;

    bt_test_http(p, "vendorchat", "GET", "/api/v1/vendors?is_active=%ff%fe", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(json_string_value(json_object_get(r.json, "detail")));
    /* thousands of pairs */
    off = (size_t)sprintf(q, "/api/v1/vendors?");
    for (int i = 0; i < 1500; i++)
        off += (size_t)sprintf(q + off, "a=%d&", i % 10);
    bt_test_http(p, "vendorchat", "GET", q, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 400);
    bt_test_http(p, "vendorchat", "GET", "/api/v1/vendors?is_active=maybe", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 400);
    free(q);
    bt_test_resp_release(&r);
}

static void test_malformed_http(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};
    char *reply = bt_test_raw(p, "vendorchat", "GARBAGE\r\n\r\n", 11, NULL);
    free(reply);
    reply = bt_test_raw(p, "vendorchat", "A B\r\n\r\n", 7, NULL);
    assert_non_null(strstr(reply, "HTTP/1.1 400"));
    free(reply);
    /* bytes that never form a request line: the idle timeout (2 s here) closes the
     * connection, nothing is answered and nothing hangs */
    reply = bt_test_raw(p, "vendorchat", "\x00\x01\x02\r\n\r\n", 7, NULL);
    assert_string_equal(reply, "");
    free(reply);
    bt_test_http(p, "vendorchat", "GET", "/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
}

static void test_keep_alive_many(void **state)
{
    struct bt_test_proc *p = *state;
    char req[4096];
    size_t off = 0, len;
    char *reply;
    int count = 0;

    for (int i = 0; i < 20; i++)
        off += (size_t)snprintf(req + off, sizeof(req) - off,
                                "GET /api/v1/vendors/1 HTTP/1.1\r\nHost: t\r\n%s\r\n",
                                i == 19 ? "Connection: close\r\n" : "");
    reply = bt_test_raw(p, "vendorchat", req, off, &len);
    for (char *s = reply; (s = strstr(s, "HTTP/1.1 200")) != NULL; s++)
        count++;
    assert_int_equal(count, 20);
    free(reply);
}

static void test_cli(void **state)
{
    char cmd[4200];
    const char *bin = getenv("BENTO_BIN");
    (void)state;
    snprintf(cmd, sizeof(cmd), "%s version | grep -q '^bento '", bin);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s --help | grep -q -- '--port-file'", bin);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s serve --services nosuch 2>/dev/null", bin);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof(cmd), "%s serve --listen vendorchat=bad:x 2>/dev/null", bin);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof(cmd), "%s openapi vendorchat | grep -q '\"openapi\": \"3.1.0\"'", bin);
    assert_int_equal(system(cmd), 0);
}

static void test_migrate_command(void **state)
{
    char cmd[4400];
    const char *bin = getenv("BENTO_BIN");
    char *url = bt_test_db_url_new();
    (void)state;
    snprintf(cmd, sizeof(cmd), "%s migrate --db '%s' | grep -q 'vendorchat: [1-9]'", bin, url);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s migrate --db '%s' | grep -q 'vendorchat: 0'", bin, url);
    assert_int_equal(system(cmd), 0);
    bt_test_db_url_release(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_health_metrics_openapi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_404_405_envelopes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_id_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_cap_413, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_cap_431, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_query_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_many, setup, teardown),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_migrate_command),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
