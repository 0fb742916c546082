/* SPDX-License-Identifier: MIT
 * test_conn_bb.c - the HTTP edge against hostile request shapes, through the real binary and
 * raw sockets (issue 7, section 1): request smuggling shapes, encoded slashes and trailing
 * slashes, header and target limits, a well-formed 413.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

static int setup(void **state)
{
    /* a long idle timeout: an answer that arrives proves the server did not wait for it */
    static const char *const env[] = {"BENTO_CONN_TIMEOUT=60", NULL};
    *state = bt_test_proc_start("vendorchat", NULL, env);
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(bt_test_proc_stop(*state), 0);
    return 0;
}

/* send raw bytes, return the whole reply (the server closes after these refusals) */
static char *raw(void **state, const char *req)
{
    return bt_test_raw(*state, "vendorchat", req, strlen(req), NULL);
}

static unsigned count(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* the reply is exactly one response with this status line, in vendorchat's envelope */
static void assert_one_answer(const char *reply, const char *status_line)
{
    if (strncmp(reply, status_line, strlen(status_line)))
        fail_msg("expected \"%s\", got \"%.200s\"", status_line, reply);
    assert_int_equal(count(reply, "HTTP/1."), 1);
    assert_non_null(strstr(reply, "\r\n\r\n{\"detail\":"));
}

static void test_conflicting_content_length(void **state)
{
    char *reply = raw(state, "POST /api/v1/vendors HTTP/1.1\r\nHost: t\r\nContent-Type: "
                             "application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n"
                             "{}");
    assert_one_answer(reply, "HTTP/1.1 400 ");
    free(reply);
}

static void test_same_content_length_twice_accepted(void **state)
{
    static const char body[] = "{\"name\":\"twice\",\"code\":\"TWICE_1\"}";
    char req[512];

    snprintf(req, sizeof(req),
             "POST /api/v1/vendors HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
             strlen(body), strlen(body), body);
    char *reply = raw(state, req);
    assert_true(!strncmp(reply, "HTTP/1.1 201 ", 13));
    free(reply);
}

static void test_unknown_transfer_coding(void **state)
{
    char *reply = raw(state, "POST /api/v1/vendors HTTP/1.1\r\nHost: t\r\nContent-Type: "
                             "application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}");
    assert_one_answer(reply, "HTTP/1.1 501 ");
    free(reply);
    reply = raw(state, "POST /api/v1/vendors HTTP/1.1\r\nHost: t\r\nContent-Type: "
                       "application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n"
                       "0\r\n\r\n");
    assert_one_answer(reply, "HTTP/1.1 501 ");
    free(reply);
}

static void test_length_and_chunked(void **state)
{
    char *reply = raw(state, "POST /api/v1/vendors HTTP/1.1\r\nHost: t\r\nContent-Type: "
                             "application/json\r\nContent-Length: 2\r\nTransfer-Encoding: "
                             "chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
    assert_one_answer(reply, "HTTP/1.1 400 ");
    free(reply);
}

static void test_host_required(void **state)
{
    char *reply = raw(state, "GET /health HTTP/1.1\r\n\r\n");
    assert_one_answer(reply, "HTTP/1.1 400 ");
    free(reply);
    reply = raw(state, "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    assert_one_answer(reply, "HTTP/1.1 400 ");
    free(reply);
    /* HTTP/1.0 has no Host requirement */
    reply = raw(state, "GET /health HTTP/1.0\r\n\r\n");
    assert_true(!strncmp(reply, "HTTP/1.1 200 ", 13));
    free(reply);
}

static long create_vendor(void **state, const char *code)
{
    struct bt_test_resp r = {0};
    char body[128];
    long id;

    snprintf(body, sizeof(body), "{\"name\":\"v %s\",\"code\":\"%s\"}", code, code);
    bt_test_http(*state, "vendorchat", "POST", "/api/v1/vendors", NULL, body, strlen(body), &r);
    assert_int_equal(r.status, 201);
    id = (long)json_integer_value(json_object_get(r.json, "id"));
    assert_true(id > 0);
    bt_test_resp_release(&r);
    return id;
}

static void test_encoded_slash_and_nul(void **state)
{
    struct bt_test_resp r = {0};
    long id = create_vendor(state, "SLASH_1");
    char path[128];

    /* an encoded "/" or NUL inside a segment names nothing */
    snprintf(path, sizeof(path), "/api/v1/vendors/%ld%%2F", id);
    bt_test_http(*state, "vendorchat", "DELETE", path, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    snprintf(path, sizeof(path), "/api/v1/vendors/%ld%%2f", id);
    bt_test_http(*state, "vendorchat", "GET", path, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    snprintf(path, sizeof(path), "/api/v1/vendors/%ld%%00.txt", id);
    bt_test_http(*state, "vendorchat", "GET", path, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    bt_test_http(*state, "vendorchat", "GET", "/api/v1/vendors%2F1", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    bt_assert_subset(r.json, "{\"detail\":\"Not Found\"}");
    /* a malformed escape */
    bt_test_http(*state, "vendorchat", "GET", "/api/v1/vendors/1%zz", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    /* the vendor was not disabled by the refused DELETE */
    snprintf(path, sizeof(path), "/api/v1/vendors/%ld", id);
    bt_test_http(*state, "vendorchat", "GET", path, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "is_active")));
    bt_test_resp_release(&r);
}

static void test_segments_decoded_after_matching(void **state)
{
    struct bt_test_resp r = {0};
    long id = create_vendor(state, "DECODE_1");
    char path[128], digits[32];
    size_t o = 0;

    /* every digit of the id percent-encoded: the parameter is decoded after matching */
    snprintf(digits, sizeof(digits), "%ld", id);
    o = (size_t)snprintf(path, sizeof(path), "/api/v1/vendors/");
    for (const char *d = digits; *d; d++)
        o += (size_t)snprintf(path + o, sizeof(path) - o, "%%%02X", (unsigned)*d);
    bt_test_http(*state, "vendorchat", "GET", path, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "id")), id);
    bt_test_resp_release(&r);
}

static void test_trailing_and_empty_segments(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_http(*state, "vendorchat", "GET", "/api/v1/vendors/", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    bt_test_http(*state, "vendorchat", "GET", "/api/v1//vendors", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    bt_test_http(*state, "vendorchat", "GET", "/api/v1/vendors", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
}

static void test_long_query_414(void **state)
{
    size_t n = 65000;
    char *req = malloc(n + 128);
    size_t o = (size_t)sprintf(req, "GET /api/v1/vendors?q=");

    memset(req + o, 'q', n);
    o += n;
    strcpy(req + o, " HTTP/1.1\r\nHost: t\r\n\r\n");
    char *reply = raw(state, req);
    assert_one_answer(reply, "HTTP/1.1 414 ");
    free(reply);
    free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conflicting_content_length),
        cmocka_unit_test(test_same_content_length_twice_accepted),
        cmocka_unit_test(test_unknown_transfer_coding),
        cmocka_unit_test(test_length_and_chunked),
        cmocka_unit_test(test_host_required),
        cmocka_unit_test(test_encoded_slash_and_nul),
        cmocka_unit_test(test_segments_decoded_after_matching),
        cmocka_unit_test(test_trailing_and_empty_segments),
        cmocka_unit_test(test_long_query_414),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
