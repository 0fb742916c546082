/* SPDX-License-Identifier: MIT
 * test_crash_bb.c - issue 7 §3 "Crash": bento serving vendorchat and yunshui is killed with
 * SIGKILL while client threads write to both (vendors, knowledge rows, yunshui orders that
 * take and return stock), then started again on the same database and data directory.
 * Afterwards every write that was acknowledged (a 2xx carrying its id or order number) is
 * there; a write whose answer was cut by the kill is either fully there or not at all; each
 * material's stock equals its history (its initial stock minus the quantities of the orders
 * that hold stock, PROCESSING and COMPLETED); order numbers run ORD-<year>-001, 002, ...
 * without a repeat or a gap (docs/apps/yunshui.md, "Numbers").
 * Deterministic: the kill comes once KILL_AFTER writes were acknowledged (a counter under a
 * mutex, a condition variable), never after a sleep. Which requests the kill cuts varies
 * from run to run; every check holds for any cut. ROUNDS rounds, each after the last one's
 * restart, so numbering and stock carry on across crashes. Both engines.
 * Writer threads never call cmocka assertions (a failure long-jumps on the main thread's
 * stack): they record what they saw, and the main thread checks after joining them.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

#define MATERIALS 4
#define INITIAL_STOCK 100000 /* never runs out: every PROCESSING request is acknowledged */
#define ORDER_WRITERS 4
#define WRITERS (2 + ORDER_WRITERS) /* vendors, knowledge, orders */
#define KILL_AFTER 300              /* acknowledged writes per round before the kill */
#define ROUNDS 3
#define MAX_RECORDS 4096 /* per writer and round: far more than KILL_AFTER */

enum kind { VENDORS, KNOWLEDGE, ORDERS };

/* A vendor (key = its code) or a knowledge row (key = its question). */
struct row_rec {
    long long id;
    char key[48];
};

struct order_rec {
    char id[48], number[32];
    int nitems;
    int mat[2]; /* material index of each item */
    long long qty[2];
    const char *acked;     /* the last status acknowledged */
    const char *attempted; /* the last status asked for: in effect if its answer was cut */
};

struct crash;

struct writer {
    struct crash *c;
    enum kind kind;
    int n, round;
    struct row_rec *rows; /* VENDORS, KNOWLEDGE */
    struct order_rec *orders;
    size_t count;
    char error[512]; /* an answer that should not have happened, or "" */
};

struct crash {
    struct bt_test_proc *p;
    char auth[2048]; /* "Authorization: Bearer <ADMIN token>" */
    char material[MATERIALS][48];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int acked, finished; /* this round: acknowledged writes, writers that stopped */
    struct writer w[ROUNDS][WRITERS];
};

static void writer_finished(struct crash *c)
{
    pthread_mutex_lock(&c->mu);
    c->finished++;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* One write. 1: acknowledged (2xx; counted), 0: answered otherwise (recorded as the writer's
 * error), -1: no answer (the kill cut it, or bento is gone). */
static int writer_send(struct writer *w, const char *app, const char *method, const char *path,
                       const char *body, struct bt_test_resp *r)
{
    struct crash *c = w->c;
    const char *headers[2] = {c->auth, NULL};

    if (bt_test_http_try(c->p, app, method, path, !strcmp(app, "yunshui") ? headers : NULL, body,
                         strlen(body), r) != 0)
        return -1;
    if (r->status < 200 || r->status > 299) {
        snprintf(w->error, sizeof(w->error), "%s %s: %d %s", method, path, r->status, r->body);
        return 0;
    }
    pthread_mutex_lock(&c->mu);
    if (++c->acked == KILL_AFTER)
        pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return 1;
}

/* vendorchat: POST /api/v1/vendors or /api/v1/knowledge until bento is gone. */
static void write_rows(struct writer *w, struct bt_test_resp *r)
{
    bool vendor = w->kind == VENDORS;

    while (w->count < MAX_RECORDS) {
        struct row_rec *rec = &w->rows[w->count];
        char body[256];
        int rc;

        snprintf(rec->key, sizeof(rec->key), "CRASH_%d_%zu", w->round, w->count);
        if (vendor)
            snprintf(body, sizeof(body), "{\"code\":\"%s\",\"name\":\"當機測試 %s\"}", rec->key,
                     rec->key);
        else
            snprintf(body, sizeof(body), "{\"question_summary\":\"%s\",\"answer\":\"答案 %s\"}",
                     rec->key, rec->key);
        rc = writer_send(w, "vendorchat", "POST", vendor ? "/api/v1/vendors" : "/api/v1/knowledge",
                         body, r);
        if (rc <= 0)
            return;
        rec->id = (long long)bt_json_int(r->json, "/id", 0);
        w->count++;
    }
    snprintf(w->error, sizeof(w->error), "no kill after %d writes", MAX_RECORDS);
}

/* yunshui: create an order of one or two materials, move it to PROCESSING (takes stock), then
 * leave it there, complete it, or cancel it (returns stock), by turns. */
static void write_orders(struct writer *w, struct bt_test_resp *r)
{
    static const char *const last[] = {NULL, "COMPLETED", "CANCELLED"};
    struct crash *c = w->c;

    while (w->count < MAX_RECORDS) {
        size_t k = w->count;
        struct order_rec *o = &w->orders[k];
        const char *next[2] = {"PROCESSING", last[k % 3]};
        char body[512], path[128];
        int rc;

        o->mat[0] = (int)((size_t)w->n + k) % MATERIALS;
        o->mat[1] = (int)((size_t)w->n + 2 * k + 1) % MATERIALS;
        o->nitems = o->mat[0] == o->mat[1] ? 1 : 2;
        o->qty[0] = 1 + (long long)(k % 3);
        o->qty[1] = 1 + (long long)((k + (size_t)w->n) % 2);
        if (o->nitems == 1)
            snprintf(body, sizeof(body),
                     "{\"customerName\":\"當機客戶 %d-%d-%zu\",\"items\":[{\"materialId\":\"%s\","
                     "\"quantity\":%lld}]}",
                     w->round, w->n, k, c->material[o->mat[0]], o->qty[0]);
        else
            snprintf(body, sizeof(body),
                     "{\"customerName\":\"當機客戶 %d-%d-%zu\",\"items\":[{\"materialId\":\"%s\","
                     "\"quantity\":%lld},{\"materialId\":\"%s\",\"quantity\":%lld}]}",
                     w->round, w->n, k, c->material[o->mat[0]], o->qty[0], c->material[o->mat[1]],
                     o->qty[1]);
        /* an order whose creation is cut is not recorded: if it was committed, the numbering
         * and stock checks still see it */
        if ((rc = writer_send(w, "yunshui", "POST", "/v1/orders", body, r)) <= 0)
            return;
        snprintf(o->id, sizeof(o->id), "%s", bt_json_str(r->json, "/data/id"));
        snprintf(o->number, sizeof(o->number), "%s", bt_json_str(r->json, "/data/orderNumber"));
        o->acked = o->attempted = "PENDING";
        w->count++;
        snprintf(path, sizeof(path), "/v1/orders/%s/status", o->id);
        for (int s = 0; s < 2 && next[s]; s++) {
            snprintf(body, sizeof(body), "{\"status\":\"%s\"}", next[s]);
            o->attempted = next[s];
            if ((rc = writer_send(w, "yunshui", "PUT", path, body, r)) <= 0)
                return;
            o->acked = next[s];
        }
    }
    snprintf(w->error, sizeof(w->error), "no kill after %d orders", MAX_RECORDS);
}

static void *writer_run(void *arg)
{
    struct writer *w = arg;
    struct bt_test_resp r = {0};

    if (w->kind == ORDERS)
        write_orders(w, &r);
    else
        write_rows(w, &r);
    bt_test_resp_release(&r);
    writer_finished(w->c);
    return NULL;
}

/* ---- set-up ---- */

static void yunshui(struct crash *c, const char *method, const char *path, const char *body,
                    struct bt_test_resp *r)
{
    const char *headers[2] = {c->auth, NULL};

    bt_test_http(c->p, "yunshui", method, path, headers, body, body ? strlen(body) : 0, r);
}

static void crash_start(struct crash *c)
{
    static const char *const env[] = {"BENTO_YUNSHUI_RATE_LIMIT=0", NULL};
    static const char *const login = "{\"username\":\"admin\",\"password\":\"password123\"}";
    struct bt_test_resp r = {0};

    c->p = bt_test_proc_start("vendorchat,yunshui", NULL, env);
    bt_test_http(c->p, "yunshui", "POST", "/v1/auth/login", NULL, login, strlen(login), &r);
    assert_int_equal(r.status, 200);
    snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s",
             bt_json_str(r.json, "/data/token"));
    for (int m = 0; m < MATERIALS; m++) {
        char body[160];
        snprintf(body, sizeof(body), "{\"name\":\"當機基材 %d\",\"price\":12.5,\"stock\":%d}", m,
                 INITIAL_STOCK);
        yunshui(c, "POST", "/v1/materials", body, &r);
        assert_int_equal(r.status, 201);
        snprintf(c->material[m], sizeof(c->material[m]), "%s", bt_json_str(r.json, "/data/id"));
    }
    bt_test_resp_release(&r);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

/* Write from every writer at once until KILL_AFTER writes were acknowledged, kill -9, wait
 * for the writers (each stops at its first request without an answer), start bento again. */
static void crash_round(struct crash *c, int round)
{
    pthread_t th[WRITERS];

    c->acked = c->finished = 0;
    for (int i = 0; i < WRITERS; i++) {
        struct writer *w = &c->w[round][i];
        w->c = c;
        w->round = round;
        w->kind = i == 0 ? VENDORS : i == 1 ? KNOWLEDGE : ORDERS;
        w->n = i;
        if (w->kind == ORDERS)
            w->orders = calloc(MAX_RECORDS, sizeof(*w->orders));
        else
            w->rows = calloc(MAX_RECORDS, sizeof(*w->rows));
        assert_true(w->orders || w->rows);
    }
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, writer_run, &c->w[round][i]), 0);
    pthread_mutex_lock(&c->mu);
    while (c->acked < KILL_AFTER && c->finished < WRITERS)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    bt_test_proc_kill(c->p, SIGKILL);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < WRITERS; i++)
        if (c->w[round][i].error[0])
            fail_msg("round %d writer %d: %s", round, i, c->w[round][i].error);
    assert_true(c->acked >= KILL_AFTER);
    fprintf(stderr, "round %d: killed after %d acknowledged writes\n", round, c->acked);
    assert_int_equal(bt_test_proc_restart(c->p), 128 + SIGKILL);
}

/* ---- checks after a restart ---- */

/* Every acknowledged vendor and knowledge row is there, as written. */
static void check_rows(struct crash *c, int rounds)
{
    struct bt_test_resp r = {0};
    char path[96];

    for (int round = 0; round < rounds; round++)
        for (int i = 0; i < WRITERS; i++) {
            const struct writer *w = &c->w[round][i];
            if (w->kind == ORDERS)
                continue;
            for (size_t k = 0; k < w->count; k++) {
                snprintf(path, sizeof(path), "/api/v1/%s/%lld",
                         w->kind == VENDORS ? "vendors" : "knowledge", w->rows[k].id);
                bt_test_http(c->p, "vendorchat", "GET", path, NULL, NULL, 0, &r);
                if (r.status != 200)
                    fail_msg("acknowledged %s is lost: %d", path, r.status);
                assert_string_equal(
                    bt_json_str(r.json, w->kind == VENDORS ? "/code" : "/question_summary"),
                    w->rows[k].key);
            }
        }
    bt_test_resp_release(&r);
}

/* Every order in the database (the list, page by page; items included). */
static json_t *all_orders(struct crash *c)
{
    json_t *all = json_array();
    struct bt_test_resp r = {0};
    char path[96];
    size_t total;

    for (int page = 1;; page++) {
        snprintf(path, sizeof(path), "/v1/orders?limit=100&page=%d", page);
        yunshui(c, "GET", path, NULL, &r);
        assert_int_equal(r.status, 200);
        json_array_extend(all, bt_json_at(r.json, "/data/orders"));
        total = (size_t)bt_json_int(r.json, "/data/pagination/total", -1);
        if (!json_is_true(bt_json_at(r.json, "/data/pagination/hasNext")))
            break;
    }
    assert_int_equal(json_array_size(all), total);
    bt_test_resp_release(&r);
    return all;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ORD-<year>-001 .. ORD-<year>-<n>: one year, no repeat, no gap. */
static void check_numbers(const json_t *orders)
{
    size_t n = json_array_size(orders);
    const char **numbers = calloc(n ? n : 1, sizeof(*numbers));
    char want[32];

    assert_non_null(numbers);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++)
        numbers[i] = bt_json_str(json_array_get(orders, i), "/orderNumber");
    /* fewer than 1000 orders here: every number has three digits, so text order is number
     * order */
    qsort(numbers, n, sizeof(*numbers), cmp_str);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(numbers[i]);
        assert_int_equal(strlen(numbers[i]), strlen("ORD-2024-001"));
        snprintf(want, sizeof(want), "%.9s%03zu", numbers[0], i + 1);
        if (strcmp(numbers[i], want) != 0)
            fail_msg("order number %zu is %s, want %s", i + 1, numbers[i], want);
    }
    free(numbers);
}

static const json_t *find_order(const json_t *orders, const char *id)
{
    for (size_t i = 0; i < json_array_size(orders); i++) {
        const json_t *o = json_array_get(orders, i);
        if (!strcmp(bt_json_str(o, "/id"), id))
            return o;
    }
    return NULL;
}

/* Every acknowledged order is there with its number and items, in the status last
 * acknowledged or the one whose answer the kill cut. */
static void check_orders(struct crash *c, int rounds, const json_t *orders)
{
    for (int round = 0; round < rounds; round++)
        for (int i = 0; i < WRITERS; i++) {
            const struct writer *w = &c->w[round][i];
            for (size_t k = 0; w->kind == ORDERS && k < w->count; k++) {
                const struct order_rec *o = &w->orders[k];
                const json_t *got = find_order(orders, o->id);
                const char *status;

                if (!got)
                    fail_msg("acknowledged order %s (%s) is lost", o->number, o->id);
                assert_string_equal(bt_json_str(got, "/orderNumber"), o->number);
                status = bt_json_str(got, "/status");
                if (strcmp(status, o->acked) != 0 && strcmp(status, o->attempted) != 0)
                    fail_msg("order %s is %s: acknowledged %s, then asked for %s", o->number,
                             status, o->acked, o->attempted);
                assert_int_equal(json_array_size(bt_json_at(got, "/items")), o->nitems);
                for (int it = 0; it < o->nitems; it++) {
                    const json_t *item = json_array_get(bt_json_at(got, "/items"), (size_t)it);
                    assert_string_equal(bt_json_str(item, "/materialId"), c->material[o->mat[it]]);
                    assert_int_equal(bt_json_int(item, "/quantity", -1), o->qty[it]);
                }
            }
        }
}

/* Each material's stock is its initial stock minus what its orders hold (PROCESSING and
 * COMPLETED), counted over every order in the database, acknowledged or not. */
static void check_stock(struct crash *c, const json_t *orders)
{
    long long held[MATERIALS] = {0};
    struct bt_test_resp r = {0};
    char path[96];

    for (size_t i = 0; i < json_array_size(orders); i++) {
        const json_t *o = json_array_get(orders, i);
        const json_t *items = json_object_get(o, "items");
        const char *status = bt_json_str(o, "/status");

        if (strcmp(status, "PROCESSING") != 0 && strcmp(status, "COMPLETED") != 0)
            continue;
        for (size_t j = 0; j < json_array_size(items); j++) {
            const json_t *item = json_array_get(items, j);
            for (int m = 0; m < MATERIALS; m++)
                if (!strcmp(bt_json_str(item, "/materialId"), c->material[m]))
                    held[m] += bt_json_int(item, "/quantity", 0);
        }
    }
    for (int m = 0; m < MATERIALS; m++) {
        snprintf(path, sizeof(path), "/v1/materials/%s", c->material[m]);
        yunshui(c, "GET", path, NULL, &r);
        assert_int_equal(r.status, 200);
        if (bt_json_int(r.json, "/data/stock", -1) != INITIAL_STOCK - held[m])
            fail_msg("material %d: stock %lld, its orders hold %lld of %d", m,
                     (long long)bt_json_int(r.json, "/data/stock", -1), held[m], INITIAL_STOCK);
    }
    bt_test_resp_release(&r);
}

/* issue 7 §3: kill -9 under concurrent writes to both services, twice, and start again */
static void test_kill_under_write_load(void **state)
{
    struct crash *c = calloc(1, sizeof(*c));
    (void)state;

    assert_non_null(c);
    crash_start(c);
    for (int round = 0; round < ROUNDS; round++) {
        json_t *orders;

        crash_round(c, round);
        check_rows(c, round + 1);
        orders = all_orders(c);
        check_numbers(orders);
        check_orders(c, round + 1, orders);
        check_stock(c, orders);
        json_decref(orders);
    }
    assert_int_equal(bt_test_proc_stop(c->p), 0);
    for (int round = 0; round < ROUNDS; round++)
        for (int i = 0; i < WRITERS; i++) {
            free(c->w[round][i].rows);
            free(c->w[round][i].orders);
        }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_under_write_load),
    };

    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
