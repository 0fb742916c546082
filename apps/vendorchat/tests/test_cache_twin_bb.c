/* SPDX-License-Identifier: MIT
 * test_cache_twin_bb.c - two vendorchat instances on one database (bt_test_proc_twin), a write
 * through one and reads through the other (issue 8: "another instance's write visible within
 * 100 ms"; docs/apps/vendorchat.md "Caches"). The other instance has the rows in its read
 * caches first (PostgreSQL; on SQLite it reads the database every time and the same checks
 * hold). Every answer to a request sent 100 ms or more after the write's answer must show the
 * write: the vendor row, a parameter in a chat answer, a new knowledge row. PostgreSQL only:
 * the other instance's listener connection killed (pg_terminate_backend) just before the
 * write - still nothing stale 100 ms after it, and the caches serve again on a new connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_test.h"

#define VISIBLE_MS 100

static bool is_pg(void)
{
    return !strcmp(bt_test_engine(), "pg");
}

static uint64_t now_ms(void)
{
    return bt_mono_ns() / 1000000u;
}

static void send(struct bt_test_proc *p, const char *method, const char *path, const char *body,
                 struct bt_test_resp *r)
{
    bt_test_http(p, "vendorchat", method, path, NULL, body, body ? strlen(body) : 0, r);
}

/* one series' value in p's /metrics, -1 when absent */
static double metric(struct bt_test_proc *p, const char *series)
{
    struct bt_test_resp r = {0};
    size_t n = strlen(series);
    double v = -1;

    send(p, "GET", "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    for (const char *l = r.body; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (!strncmp(l, series, n) && l[n] == ' ') {
            v = atof(l + n + 1);
            break;
        }
    }
    bt_test_resp_release(&r);
    return v;
}

#define SERIES(name, cache) name "{service=\"vendorchat\",cache=\"" cache "\"}"

/* PostgreSQL: p's caches serve (its listener answers). No event reaches a test from inside
 * another process, so this polls /metrics, with a deadline. */
static void wait_serving(struct bt_test_proc *p)
{
    uint64_t t0 = now_ms();

    while (metric(p, SERIES("bento_cache_serving", "vendorchat_vendors")) != 1)
        assert_true(now_ms() - t0 < 10000);
}

static const char *vendor_name(struct bt_test_proc *p, struct bt_test_resp *r)
{
    send(p, "GET", "/api/v1/vendors/1", NULL, r);
    assert_int_equal(r->status, 200);
    return json_string_value(json_object_get(r->json, "name"));
}

static const char *chat_answer(struct bt_test_proc *p, const char *message, struct bt_test_resp *r)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"message\":\"%s\",\"vendor_id\":1}", message);
    send(p, "POST", "/chat/v1/message", body, r);
    assert_int_equal(r->status, 200);
    return json_string_value(json_object_get(r->json, "answer"));
}

/* Ask p until its answer contains want. A request sent VISIBLE_MS or more after written_ms
 * must have it; the loop ends when one has (at most 5 s). Returns how long it took. */
static uint64_t until_visible(struct bt_test_proc *p, const char *what, const char *want,
                              uint64_t written_ms)
{
    struct bt_test_resp r = {0};

    for (;;) {
        uint64_t sent = now_ms();
        const char *got = !strcmp(what, "vendor") ? vendor_name(p, &r) : chat_answer(p, what, &r);
        if (got && strstr(got, want)) {
            bt_test_resp_release(&r);
            return sent - written_ms;
        }
        if (sent - written_ms >= VISIBLE_MS)
            fail_msg("%s: a request sent %llu ms after the write answered \"%s\", not \"%s\"", what,
                     (unsigned long long)(sent - written_ms), got ? got : "(null)", want);
    }
}

/* warm the other instance's caches: the vendor row, its parameters, the generation */
static void warm(struct bt_test_proc *b)
{
    struct bt_test_resp r = {0};

    for (int i = 0; i < 3; i++) {
        assert_string_equal(vendor_name(b, &r), "甲山林包租代管股份有限公司");
        assert_non_null(strstr(chat_answer(b, "房租幾號要繳", &r), "1 號"));
    }
    bt_test_resp_release(&r);
}

static void test_write_visible_on_the_other_instance(void **state)
{
    struct bt_test_proc *a = bt_test_proc_start("vendorchat", NULL, NULL);
    struct bt_test_proc *b = bt_test_proc_twin(a);
    struct bt_test_resp r = {0};
    double hits;
    (void)state;

    if (is_pg())
        wait_serving(b);
    warm(b);
    hits = metric(b, SERIES("bento_cache_hits_total", "vendorchat_vendors"));
    if (is_pg())
        assert_true(hits >= 1); /* b answers from its cache */

    /* the vendor row */
    send(a, "PUT", "/api/v1/vendors/1", "{\"name\":\"甲山林二館\"}", &r);
    assert_int_equal(r.status, 200);
    until_visible(b, "vendor", "甲山林二館", now_ms());

    /* a parameter, in the next chat answer */
    send(a, "PUT", "/api/v1/vendors/1/configs",
         "{\"configs\":[{\"category\":\"payment\",\"param_key\":\"payment_day\","
         "\"param_value\":\"15\"}]}",
         &r);
    assert_int_equal(r.status, 200);
    until_visible(b, "房租幾號要繳", "15 號", now_ms());

    /* new knowledge (the generation, then b's index rebuilt) */
    send(a, "POST", "/api/v1/knowledge",
         "{\"question_summary\":\"垃圾怎麼丟\",\"answer\":\"垃圾請於每晚八點後丟到一樓回收區。\","
         "\"scope\":\"global\",\"keywords\":[\"垃圾\",\"倒垃圾\",\"丟垃圾\"]}",
         &r);
    assert_int_equal(r.status, 201);
    until_visible(b, "垃圾要丟哪裡", "一樓回收區", now_ms());

    /* and b still answers from its cache afterwards */
    vendor_name(b, &r);
    vendor_name(b, &r);
    if (is_pg())
        assert_true(metric(b, SERIES("bento_cache_hits_total", "vendorchat_vendors")) > hits);
    bt_test_resp_release(&r);
    bt_test_proc_stop(b);
    bt_test_proc_stop(a);
}

/* b's listener backend on the server, by the name the listener gives itself */
static int64_t listener_of(struct bt_db *db, struct bt_arena *a, struct bt_test_proc *b)
{
    struct bt_rows *rows;
    struct bt_err err;
    char name[64];

    snprintf(name, sizeof(name), "bento cache listener %d", bt_test_proc_pid(b));
    bt_err_clear(&err);
    assert_int_equal(bt_db_query(db, a, &rows,
                                 "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
                                 BT_ARGS(bt_text(name)), &err),
                     BT_OK);
    return rows->nrows == 1 ? bt_rows_i64(rows, 0, 0, 0) : 0;
}

static void test_listener_killed_nothing_stale(void **state)
{
    struct bt_test_proc *a, *b;
    struct bt_test_resp r = {0};
    struct bt_dbpool *pool;
    struct bt_arena *ar;
    struct bt_err err;
    struct bt_db *db;
    int64_t pid, again;
    uint64_t t0;
    double hits;
    (void)state;

    if (!is_pg())
        skip();
    a = bt_test_proc_start("vendorchat", NULL, NULL);
    b = bt_test_proc_twin(a);
    ar = bt_arena_new();
    bt_err_clear(&err);
    assert_int_equal(bt_dbpool_open(bt_test_proc_db_url(a), 1, &pool, &err), BT_OK);
    db = bt_dbpool_get(pool, 5000, &err);
    assert_non_null(db);
    wait_serving(b);
    warm(b);

    pid = listener_of(db, ar, b);
    assert_true(pid > 0);
    assert_int_equal(
        bt_db_exec(db, NULL, "SELECT pg_terminate_backend($1)", BT_ARGS(bt_i64(pid)), &err), BT_OK);
    /* gone from the server before the write, so no listener of b hears it (unless b has a
     * new one already; then it must hear it) */
    for (t0 = now_ms(); listener_of(db, ar, b) == pid;)
        assert_true(now_ms() - t0 < 5000);
    send(a, "PUT", "/api/v1/vendors/1", "{\"name\":\"甲山林三館\"}", &r);
    assert_int_equal(r.status, 200);
    t0 = now_ms();
    until_visible(b, "vendor", "甲山林三館", t0);
    /* and never the old name again */
    while (now_ms() - t0 < 300)
        assert_string_equal(vendor_name(b, &r), "甲山林三館");

    /* b listens again on a new connection and serves from its cache again */
    wait_serving(b);
    again = listener_of(db, ar, b);
    assert_true(again > 0 && again != pid);
    hits = metric(b, SERIES("bento_cache_hits_total", "vendorchat_vendors"));
    vendor_name(b, &r);
    vendor_name(b, &r);
    assert_true(metric(b, SERIES("bento_cache_hits_total", "vendorchat_vendors")) > hits);
    send(a, "PUT", "/api/v1/vendors/1", "{\"name\":\"甲山林四館\"}", &r);
    assert_int_equal(r.status, 200);
    until_visible(b, "vendor", "甲山林四館", now_ms());

    bt_test_resp_release(&r);
    bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);
    bt_arena_free(ar);
    bt_test_proc_stop(b);
    bt_test_proc_stop(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_visible_on_the_other_instance),
        cmocka_unit_test(test_listener_killed_nothing_stale),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
