/* SPDX-License-Identifier: MIT
 * test_conn_bb.c - the HTTP edge against hostile request shapes, through the real binary and
 * raw sockets (issue 7, section 1): request smuggling shapes, encoded slashes and trailing
 * slashes, header and target limits, a well-formed 413, aborted and slow clients (the gate).
 * Timing is observed, never waited for: sockets are polled against a deadline well below the
 * 60 s idle timeout, so an answer within it proves the server did not sit on the connection.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/* a vendor that would be created (201) if the framing were believed */
#define VENDOR "{\"name\":\"smuggled\",\"code\":\"SMUGGLED_1\"}"

static void test_conflicting_content_length(void **state)
{
    char req[512];
    char *reply;

    snprintf(req, sizeof(req),
             "POST /api/v1/vendors HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\nContent-Length: 400\r\n\r\n%s",
             strlen(VENDOR), VENDOR);
    reply = raw(state, req);
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
    char req[512];
    char *reply;

    snprintf(req, sizeof(req),
             "POST /api/v1/vendors HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
             strlen(VENDOR), VENDOR);
    reply = raw(state, req);
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

static void test_huge_content_length_one_413(void **state)
{
    char *reply =
        raw(state, "POST /api/v1/vendors HTTP/1.1\r\nHost: t\r\nContent-Type: "
                   "application/json\r\nContent-Length: 100000000000000000000000\r\n\r\n");
    assert_one_answer(reply, "HTTP/1.1 413 ");
    free(reply);
}

static void test_many_header_lines_431(void **state)
{
    char *req = malloc(64 * 1024);
    size_t o = (size_t)sprintf(req, "GET /health HTTP/1.1\r\nHost: t\r\n");
    char *reply;

    for (int i = 0; i < 945; i++)
        o += (size_t)sprintf(req + o, "a:b\r\n");
    strcpy(req + o, "\r\n");
    reply = raw(state, req);
    assert_one_answer(reply, "HTTP/1.1 431 ");
    free(reply);
    /* 702 lines of 27 bytes */
    o = (size_t)sprintf(req, "GET /health HTTP/1.1\r\nHost: t\r\n");
    for (int i = 0; i < 702; i++)
        o += (size_t)sprintf(req + o, "x%05d: %017d\r\n", i, i);
    strcpy(req + o, "\r\n");
    reply = raw(state, req);
    assert_one_answer(reply, "HTTP/1.1 431 ");
    free(reply);
    /* 90 header lines are fine */
    o = (size_t)sprintf(req, "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
    for (int i = 0; i < 90; i++)
        o += (size_t)sprintf(req + o, "x-h%d: %d\r\n", i, i);
    strcpy(req + o, "\r\n");
    reply = raw(state, req);
    assert_true(!strncmp(reply, "HTTP/1.1 200 ", 13));
    free(reply);
    free(req);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* a connection to vendorchat from the loopback address `from` (127.0.0.X) */
static int open_conn_from(struct bt_test_proc *p, const char *from)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, from, &sa.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)bt_test_proc_port(p, "vendorchat"));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static int open_conn(struct bt_test_proc *p)
{
    return open_conn_from(p, "127.0.0.1");
}

static void send_all(int fd, const char *s)
{
    assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Read until the server closes, at most until deadline (monotonic ms). Returns what was read
 * (malloc'd); *closed tells whether the close came in time. */
static char *read_to_close(int fd, uint64_t deadline, bool *closed)
{
    char *buf = calloc(1, 1);
    size_t len = 0;

    *closed = false;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        uint64_t now = now_ms();
        char chunk[4096];
        ssize_t got;
        if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
            break;
        got = recv(fd, chunk, sizeof(chunk), 0);
        if (got <= 0) {
            *closed = true;
            break;
        }
        buf = realloc(buf, len + (size_t)got + 1);
        assert_non_null(buf);
        memcpy(buf + len, chunk, (size_t)got);
        len += (size_t)got;
        buf[len] = '\0';
    }
    return buf;
}

static void test_aborted_requests_freed_at_once(void **state)
{
    enum { N = 200 };
    static const char *const parts[] = {"GET /hea", "GET /health HTTP/1.1\r\nHost: t\r\nX-"};
    int fds[N];
    struct bt_test_resp r = {0};

    /* more than the 64 connections allowed per address: each must be freed as it aborts */
    for (int i = 0; i < N; i++) {
        fds[i] = open_conn(*state);
        send_all(fds[i], parts[i % 2]);
        shutdown(fds[i], SHUT_WR); /* FIN, not RST */
    }
    for (int i = 0; i < N; i++) {
        bool closed;
        char *got = read_to_close(fds[i], now_ms() + 5000, &closed);
        assert_true(closed);
        assert_string_equal(got, "");
        free(got);
        close(fds[i]);
    }
    bt_test_http(*state, "vendorchat", "GET", "/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
}

/* read one whole /health answer (its JSON body ends with '}') from a keep-alive connection */
static void read_health(int fd)
{
    char buf[4096];
    size_t len = 0;
    uint64_t deadline = now_ms() + 5000;

    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        uint64_t now = now_ms();
        const char *h;
        ssize_t got;
        assert_true(now < deadline);
        assert_true(poll(&pfd, 1, (int)(deadline - now)) > 0);
        got = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        assert_true(got > 0);
        len += (size_t)got;
        buf[len] = '\0';
        h = strstr(buf, "\r\n\r\n");
        if (h && strchr(h, '}'))
            break;
    }
    assert_true(!strncmp(buf, "HTTP/1.1 200 ", 13));
}

static void test_aborted_keep_alive_request_freed(void **state)
{
    static const char *const partial[] = {"", "GET /hea", "GET /health HTTP/1.1\r\nHost: t\r\n"};

    /* after a first answered request, the next one is aborted (or none comes) and the client
     * closes: the connection is freed at once, not after the 60 s idle timeout */
    for (size_t i = 0; i < sizeof(partial) / sizeof(*partial); i++) {
        int fd = open_conn(*state);
        bool closed;
        char *got;
        send_all(fd, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
        read_health(fd);
        if (*partial[i])
            send_all(fd, partial[i]);
        shutdown(fd, SHUT_WR);
        got = read_to_close(fd, now_ms() + 5000, &closed);
        assert_true(closed);
        assert_string_equal(got, "");
        free(got);
        close(fd);
    }
    /* a whole request sent before the close is still answered */
    {
        int fd = open_conn(*state);
        bool closed;
        char *got;
        send_all(fd, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
        read_health(fd);
        send_all(fd, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
        shutdown(fd, SHUT_WR);
        got = read_to_close(fd, now_ms() + 5000, &closed);
        assert_true(closed);
        assert_true(!strncmp(got, "HTTP/1.1 200 ", 13));
        free(got);
        close(fd);
    }
}

static void test_header_deadline_408(void **state)
{
    static const char *const env[] = {"BENTO_CONN_TIMEOUT=60", "BENTO_HEADER_TIMEOUT=1", NULL};
    struct bt_test_proc *p = bt_test_proc_start("vendorchat", NULL, env);
    int fd = open_conn(p);
    uint64_t start = now_ms();
    bool closed;
    char *got;

    (void)state;
    /* a header line now and then keeps the idle timer alive, but not the header deadline */
    send_all(fd, "GET /health HTTP/1.1\r\nHost: t\r\n");
    got = read_to_close(fd, start + 500, &closed);
    assert_false(closed);
    free(got);
    send_all(fd, "X-Slow: 1\r\n");
    got = read_to_close(fd, start + 10000, &closed);
    assert_true(closed);
    assert_one_answer(got, "HTTP/1.1 408 ");
    assert_true(now_ms() - start < 10000);
    free(got);
    close(fd);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

static void test_slow_clients_do_not_starve_others(void **state)
{
    enum { N = 120 };
    /* a small listener: 20 connections; trickling clients fill it many times over */
    static const char *const env[] = {"BENTO_CONN_TIMEOUT=60", "BENTO_HEADER_TIMEOUT=60",
                                      "BENTO_CONN_LIMIT=20", NULL};
    struct bt_test_proc *p = bt_test_proc_start("vendorchat", NULL, env);
    struct bt_test_resp r = {0};
    int fds[N];
    uint64_t start;

    (void)state;
    for (int i = 0; i < N; i++) {
        fds[i] = open_conn(p);
        send_all(fds[i], "GET /health HTTP/1.1\r\nHost: t\r\nX-Trickle: 1\r\n");
    }
    start = now_ms();
    bt_test_http(p, "vendorchat", "GET", "/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_true(now_ms() - start < 5000);
    /* a well-behaved raw client too */
    {
        int fd = open_conn(p);
        bool closed;
        char *got;
        send_all(fd, "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        got = read_to_close(fd, now_ms() + 5000, &closed);
        assert_true(closed);
        assert_true(!strncmp(got, "HTTP/1.1 200 ", 13));
        free(got);
        close(fd);
    }
    for (int i = 0; i < N; i++)
        close(fds[i]);
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

/* a later request on a keep-alive connection does not pass the gate: libmicrohttpd reads it,
 * and the same caps still answer (never a silent close) */
static void test_keep_alive_header_limits(void **state)
{
    static const struct {
        int lines;
        const char *fmt; /* one header line, given its number */
        bool envelope;   /* answered by bento (false: libmicrohttpd's own 431, its pool full) */
    } cases[] = {
        {101, "a%d:b\r\n", true},
        {945, "a:b\r\n", true}, /* the two shapes */
        {702, "x%05d: 00000000000000000\r\n", true},
        {1500, "a:%d\r\n", false},
    };
    char *req = malloc(64 * 1024);

    for (size_t k = 0; k < sizeof(cases) / sizeof(*cases); k++) {
        int fd = open_conn(*state);
        size_t o = (size_t)sprintf(req, "GET /health HTTP/1.1\r\nHost: t\r\n");
        bool closed;
        char *got;
        send_all(fd, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
        read_health(fd);
        for (int i = 0; i < cases[k].lines; i++)
            o += (size_t)sprintf(req + o, cases[k].fmt, i);
        strcpy(req + o, "\r\n");
        send_all(fd, req);
        got = read_to_close(fd, now_ms() + 5000, &closed);
        assert_true(closed);
        assert_true(!strncmp(got, "HTTP/1.1 431 ", 13));
        if (cases[k].envelope)
            assert_non_null(strstr(got, "application/json"));
        free(got);
        close(fd);
    }
    free(req);
}

static void test_full_gate_evicts_the_flooding_address(void **state)
{
    enum { LIMIT = 8, N = 30 };
    static const char *const env[] = {"BENTO_CONN_TIMEOUT=60", "BENTO_HEADER_TIMEOUT=60",
                                      "BENTO_CONN_LIMIT=8", NULL};
    struct bt_test_proc *p = bt_test_proc_start("vendorchat", NULL, env);
    int honest, fds[N];
    unsigned dropped = 0;
    uint64_t deadline;
    bool closed;
    char *got;

    (void)state;
    /* a slow but honest client elsewhere is the oldest connection in the gate ... */
    honest = open_conn_from(p, "127.0.0.2");
    send_all(honest, "GET /health HTTP/1.1\r\nHost: t\r\n");
    /* ... then one address opens many more slow connections than the gate holds */
    for (int i = 0; i < N; i++) {
        fds[i] = open_conn_from(p, "127.0.0.3");
        send_all(fds[i], "GET /health HTTP/1.1\r\nHost: t\r\nX-Trickle: 1\r\n");
    }
    /* the gate makes room for them: N + 1 - LIMIT connections are closed in all, and each
     * must be one of the flooding address's own */
    deadline = now_ms() + 10000;
    while (dropped < N + 1 - LIMIT) {
        struct pollfd pfd[N];
        for (int i = 0; i < N; i++)
            pfd[i] = (struct pollfd){.fd = fds[i], .events = fds[i] >= 0 ? POLLIN : 0};
        assert_true(now_ms() < deadline);
        assert_true(poll(pfd, N, (int)(deadline - now_ms())) > 0);
        for (int i = 0; i < N; i++) {
            char c;
            if (fds[i] < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            assert_true(recv(fds[i], &c, 1, MSG_DONTWAIT) <= 0); /* closed, no answer */
            close(fds[i]);
            fds[i] = -1;
            dropped++;
        }
    }
    /* the honest client, still connected, finishes its request and is answered */
    send_all(honest, "Connection: close\r\n\r\n");
    got = read_to_close(honest, now_ms() + 5000, &closed);
    assert_true(closed);
    assert_true(!strncmp(got, "HTTP/1.1 200 ", 13));
    free(got);
    close(honest);
    for (int i = 0; i < N; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

static void test_body_minimum_rate(void **state)
{
    /* one second of grace, then at least 1000 bytes per second on average */
    static const char *const env[] = {"BENTO_CONN_TIMEOUT=60", "BENTO_HEADER_TIMEOUT=1",
                                      "BENTO_BODY_MIN_RATE=1000", NULL};
    struct bt_test_proc *p = bt_test_proc_start("vendorchat", NULL, env);
    struct bt_test_resp r = {0};
    int fd = open_conn(p);
    uint64_t start = now_ms();
    bool closed;
    char *got;
    char *log;

    (void)state;
    send_all(fd, "POST /api/v1/vendors HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Content-Length: 100000\r\n\r\n{\"name\":");
    /* within the grace period the connection stays open */
    got = read_to_close(fd, start + 1500, &closed);
    assert_false(closed);
    free(got);
    /* 8 bytes in 1.5 s: the next chunk finds the body too slow and the connection closes */
    send_all(fd, "\"slow\",");
    got = read_to_close(fd, now_ms() + 5000, &closed);
    assert_true(closed);
    free(got);
    close(fd);
    /* the listener is fine, and the refusal was logged */
    bt_test_http(p, "vendorchat", "GET", "/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
    log = bt_test_proc_log(p);
    assert_non_null(strstr(log, "request body below BENTO_BODY_MIN_RATE"));
    free(log);
    assert_int_equal(bt_test_proc_stop(p), 0);
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
        cmocka_unit_test(test_huge_content_length_one_413),
        cmocka_unit_test(test_many_header_lines_431),
        cmocka_unit_test(test_aborted_requests_freed_at_once),
        cmocka_unit_test(test_aborted_keep_alive_request_freed),
        cmocka_unit_test(test_header_deadline_408),
        cmocka_unit_test(test_slow_clients_do_not_starve_others),
        cmocka_unit_test(test_keep_alive_header_limits),
        cmocka_unit_test(test_full_gate_evicts_the_flooding_address),
        cmocka_unit_test(test_body_minimum_rate),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
