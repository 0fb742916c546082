/* SPDX-License-Identifier: MIT
 * test_lanes_bb.c - the slow lane and the statement guard through the real binary, on both
 * engines (docs/ARCHITECTURE.md, "Lanes"; docs/DATABASE.md, "Deadlines").
 * A slow request is made slow for real, not simulated: the test holds a lock on bento's own
 * database (SQLite: a write transaction, so bento's BEGIN IMMEDIATE waits; PostgreSQL: the
 * knowledge tables locked ACCESS EXCLUSIVE), and POST /api/v1/knowledge/import (a BT_R_SLOW
 * route) waits on it until the test lets go. Where the test must know that bento has reached
 * a state (a request running or queued on the lane, a statement stopped), it reads /metrics
 * until the state shows, within a deadline: no event tells it otherwise.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bt_test.h"

#define WAIT_MS 10000

static const char import_req[] = "POST /api/v1/knowledge/import HTTP/1.1\r\n"
                                 "Host: t\r\n"
                                 "Content-Type: application/json\r\n"
                                 "Connection: close\r\n"
                                 "Content-Length: %zu\r\n\r\n%s";

/* ---- the lock on bento's database ---- */

struct blocker {
    struct bt_dbpool *pool;
    struct bt_db *db;
};

static void block(struct bt_test_proc *p, struct blocker *b)
{
    struct bt_err err;

    assert_int_equal(bt_dbpool_open(bt_test_proc_db_url(p), 1, &b->pool, &err), BT_OK);
    b->db = bt_dbpool_get(b->pool, 5000, &err);
    assert_non_null(b->db);
    assert_int_equal(bt_db_begin(b->db, &err), BT_OK); /* SQLite: BEGIN IMMEDIATE */
    if (bt_db_engine(b->db) == BT_ENGINE_PG)
        assert_int_equal(bt_db_exec(b->db, NULL,
                                    "LOCK TABLE vendorchat_knowledge, vendorchat_meta IN ACCESS "
                                    "EXCLUSIVE MODE",
                                    BT_NOARGS, &err),
                         BT_OK);
}

static void unblock(struct blocker *b)
{
    bt_db_rollback(b->db);
    bt_dbpool_put(b->pool, b->db);
    bt_dbpool_free(b->pool);
}

/* ---- requests ---- */

/* an import of one knowledge row, sent on a connection of its own that stays open */
static int send_import(struct bt_test_proc *p, const char *question)
{
    char body[256], req[512];
    int fd = bt_test_connect(p, "vendorchat");
    int n;

    snprintf(body, sizeof(body), "[{\"question_summary\":\"%s\",\"answer\":\"a\"}]", question);
    n = snprintf(req, sizeof(req), import_req, strlen(body), body);
    assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    return fd;
}

/* the answer on fd, then closed: its status line */
static int answer_status(int fd)
{
    char *got = bt_test_read_to_close(fd, WAIT_MS, NULL);
    int status = 0;

    close(fd);
    sscanf(got, "HTTP/1.1 %d", &status);
    free(got);
    return status;
}

/* how many knowledge rows have this question */
static int rows_with(struct bt_test_proc *p, const char *question)
{
    struct bt_err err;
    struct bt_dbpool *pool;
    struct bt_db *db;
    int64_t n = -1;

    assert_int_equal(bt_dbpool_open(bt_test_proc_db_url(p), 1, &pool, &err), BT_OK);
    db = bt_dbpool_get(pool, 5000, &err);
    assert_non_null(db);
    assert_int_equal(bt_db_query_i64(db, &n,
                                     "SELECT COUNT(*) FROM vendorchat_knowledge WHERE "
                                     "question_summary = $1",
                                     BT_ARGS(bt_text(question)), &err),
                     BT_OK);
    bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);
    return (int)n;
}

/* ---- /metrics ---- */

/* the value of one sample line (name with its labels, exactly as bento writes it) */
static long metric(struct bt_test_proc *p, const char *sample)
{
    struct bt_test_resp r = {0};
    const char *at;
    long v = -1;

    bt_test_http(p, "vendorchat", "GET", "/metrics", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    at = strstr(r.body, sample);
    if (at && at[strlen(sample)] == ' ')
        v = strtol(at + strlen(sample) + 1, NULL, 10);
    bt_test_resp_release(&r);
    return v;
}

static void wait_metric(struct bt_test_proc *p, const char *sample, long want)
{
    uint64_t deadline = bt_mono_ns() + (uint64_t)WAIT_MS * 1000000u;
    long v;

    while ((v = metric(p, sample)) != want) {
        if (bt_mono_ns() > deadline)
            fail_msg("%s is %ld, expected %ld", sample, v, want);
    }
}

#define RUNNING "bento_slow_lane_requests{service=\"vendorchat\",state=\"running\"}"
#define QUEUED "bento_slow_lane_requests{service=\"vendorchat\",state=\"queued\"}"
#define STOP_DEADLINE                                                                              \
    "bento_db_statements_stopped_total{service=\"vendorchat\",reason=\"deadline\"}"
#define STOP_GONE "bento_db_statements_stopped_total{service=\"vendorchat\",reason=\"client_gone\"}"
#define DROP_GONE "bento_requests_dropped_total{service=\"vendorchat\",reason=\"client_gone\"}"
#define DROP_FULL "bento_requests_dropped_total{service=\"vendorchat\",reason=\"lane_full\"}"

static struct bt_test_proc *start(const char *const *env)
{
    return bt_test_proc_start("vendorchat", NULL, env);
}

/* Hold the lock, put one request on the only lane thread (stuck on the lock) and a second
 * in the lane's queue: their connections are returned open. */
static void fill_lane(struct bt_test_proc *p, struct blocker *b, const char *q1, const char *q2,
                      int *first, int *second)
{
    block(p, b);
    *first = send_import(p, q1);
    wait_metric(p, RUNNING, 1);
    *second = send_import(p, q2);
    wait_metric(p, QUEUED, 1);
}

/* ---- tests ---- */

/* One libmicrohttpd thread, and two slow requests stuck on the database: a fast route is
 * still answered, because the slow ones wait on lane threads, not on the request thread.
 * (Without the lane the first import would hold the only thread and this GET would hang.) */
static void test_fast_route_answered_while_slow_ones_wait(void **state)
{
    static const char *const env[] = {"BENTO_THREADS=1", "BENTO_SLOW_THREADS=2", NULL};
    struct bt_test_proc *p = start(env);
    struct blocker b;
    struct bt_test_resp r = {0};
    int a1, a2;
    (void)state;

    block(p, &b);
    a1 = send_import(p, "lane fast 1");
    a2 = send_import(p, "lane fast 2");
    wait_metric(p, RUNNING, 2);

    bt_test_http(p, "vendorchat", "GET", "/api/v1/vendors/1", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);

    unblock(&b);
    assert_int_equal(answer_status(a1), 200);
    assert_int_equal(answer_status(a2), 200);
    assert_int_equal(rows_with(p, "lane fast 1"), 1);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

/* BENTO_QUERY_TIMEOUT_MS: a statement waiting past it is stopped and the client gets the
 * service's 503 (contract-checked), nothing written; the service works on afterwards */
static void test_deadline_answers_503(void **state)
{
    static const char *const env[] = {"BENTO_QUERY_TIMEOUT_MS=300", NULL};
    static const char body[] = "[{\"question_summary\":\"lane deadline\",\"answer\":\"a\"}]";
    struct bt_test_proc *p = start(env);
    struct blocker b;
    struct bt_test_resp r = {0};
    (void)state;

    block(p, &b);
    bt_test_http(p, "vendorchat", "POST", "/api/v1/knowledge/import", NULL, body, strlen(body), &r);
    assert_int_equal(r.status, 503);
    bt_test_resp_release(&r);
    assert_int_equal(metric(p, STOP_DEADLINE), 1);
    unblock(&b);

    assert_int_equal(rows_with(p, "lane deadline"), 0);
    bt_test_http(p, "vendorchat", "POST", "/api/v1/knowledge/import", NULL, body, strlen(body), &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
    assert_int_equal(rows_with(p, "lane deadline"), 1);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

/* the client leaves while its request waits on the database: the statement is stopped at
 * once (not when the lock goes), and nothing of the request is written */
static void test_client_gone_stops_its_statement(void **state)
{
    struct bt_test_proc *p = start(NULL);
    struct blocker b;
    int fd;
    (void)state;

    block(p, &b);
    fd = send_import(p, "lane gone running");
    wait_metric(p, RUNNING, 1);
    close(fd);
    wait_metric(p, STOP_GONE, 1);
    wait_metric(p, RUNNING, 0); /* the lane thread is free again, the lock still held */
    unblock(&b);
    assert_int_equal(rows_with(p, "lane gone running"), 0);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

/* the client leaves while its request waits for a lane thread: it is dropped unrun */
static void test_client_gone_before_it_ran_dropped(void **state)
{
    static const char *const env[] = {"BENTO_SLOW_THREADS=1", NULL};
    struct bt_test_proc *p = start(env);
    struct blocker b;
    int first, second;
    (void)state;

    fill_lane(p, &b, "lane first", "lane dropped", &first, &second);
    close(second);
    unblock(&b);

    assert_int_equal(answer_status(first), 200);
    wait_metric(p, DROP_GONE, 1);
    assert_int_equal(rows_with(p, "lane first"), 1);
    assert_int_equal(rows_with(p, "lane dropped"), 0);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

/* past BENTO_SLOW_QUEUE waiting requests the service answers 503 at once, with
 * Retry-After; the queued ones are still served */
static void test_full_lane_answers_503(void **state)
{
    static const char *const env[] = {"BENTO_SLOW_THREADS=1", "BENTO_SLOW_QUEUE=1", NULL};
    static const char body[] = "[{\"question_summary\":\"lane refused\",\"answer\":\"a\"}]";
    struct bt_test_proc *p = start(env);
    struct blocker b;
    struct bt_test_resp r = {0};
    int first, second;
    (void)state;

    fill_lane(p, &b, "lane full 1", "lane full 2", &first, &second);

    bt_test_http(p, "vendorchat", "POST", "/api/v1/knowledge/import", NULL, body, strlen(body), &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(bt_test_resp_header(&r, "Retry-After"), "1");
    bt_test_resp_release(&r);
    assert_int_equal(metric(p, DROP_FULL), 1);

    unblock(&b);
    assert_int_equal(answer_status(first), 200);
    assert_int_equal(answer_status(second), 200);
    assert_int_equal(rows_with(p, "lane refused"), 0);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

/* SIGTERM while the lane runs one request and holds another: both are answered, then
 * bento exits cleanly (libmicrohttpd must not be stopped with a connection suspended) */
static void test_shutdown_finishes_the_lane(void **state)
{
    static const char *const env[] = {"BENTO_SLOW_THREADS=1", NULL};
    struct bt_test_proc *p = start(env);
    struct blocker b;
    int first, second;
    (void)state;

    fill_lane(p, &b, "lane stop 1", "lane stop 2", &first, &second);
    bt_test_proc_kill(p, SIGTERM);
    unblock(&b);

    assert_int_equal(answer_status(first), 200);
    assert_int_equal(answer_status(second), 200);
    assert_int_equal(rows_with(p, "lane stop 2"), 1);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_route_answered_while_slow_ones_wait),
        cmocka_unit_test(test_deadline_answers_503),
        cmocka_unit_test(test_client_gone_stops_its_statement),
        cmocka_unit_test(test_client_gone_before_it_ran_dropped),
        cmocka_unit_test(test_full_lane_answers_503),
        cmocka_unit_test(test_shutdown_finishes_the_lane),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
