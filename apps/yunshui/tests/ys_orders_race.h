/* SPDX-License-Identifier: MIT
 * ys_orders_race.h - the orders concurrency cases (note yunshui.md "Orders": numbers unique
 * per year, stock taken atomically; "Materials": a material used by an open order cannot be
 * deleted, also while that order is being written), written once and run by two tiers: in-process
 * (test_orders_race_http.c, threads calling bt_test_request on one app) and against the
 * real binary (test_orders_race_bb.c, threads calling bt_test_http).
 * Threads never call cmocka assertions (a failed assertion long-jumps on the main thread's
 * stack): they record what they saw and the main thread checks after joining.
 */
#ifndef YS_ORDERS_RACE_H
#define YS_ORDERS_RACE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yunshui_test.h"

struct race {
    struct bt_test_app *t;  /* in-process, or */
    struct bt_test_proc *p; /* the real binary */
    char *admin;            /* ADMIN token */
    char *user;             /* USER token */
    int materials;          /* names made so far */
};

/* One request with a bearer token; safe to call from several threads at once. */
static void race_send(struct race *x, const char *token, const char *method, const char *path,
                      const char *body, struct bt_test_resp *r)
{
    char auth[2048];
    const char *headers[2] = {auth, NULL};

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    if (x->t)
        bt_test_request(x->t, method, path, headers, body, r);
    else
        bt_test_http(x->p, "yunshui", method, path, headers, body, body ? strlen(body) : 0, r);
}

static char *race_material(struct race *x, long stock)
{
    struct bt_test_resp r = {0};
    char body[256];
    char *id;

    snprintf(body, sizeof(body),
             "{\"name\":\"競爭基材 %d\",\"price\":1500.0000,\"stock\":%ld,\"minStock\":0}",
             ++x->materials, stock);
    race_send(x, x->admin, "POST", "/v1/materials", body, &r);
    if (r.status != 201)
        fail_msg("create material: %d %s", r.status, r.body);
    id = strdup(bt_json_str(r.json, "/data/id"));
    bt_test_resp_release(&r);
    return id;
}

static long race_stock(struct race *x, const char *material)
{
    struct bt_test_resp r = {0};
    char path[128];
    long v;

    snprintf(path, sizeof(path), "/v1/materials/%s", material);
    race_send(x, x->admin, "GET", path, NULL, &r);
    assert_int_equal(r.status, 200);
    v = (long)bt_json_int(r.json, "/data/stock", -1);
    bt_test_resp_release(&r);
    return v;
}

static char *race_order(struct race *x, const char *material, long qty)
{
    struct bt_test_resp r = {0};
    char body[256];
    char *id;

    snprintf(body, sizeof(body),
             "{\"customerName\":\"競爭客戶\",\"items\":[{\"materialId\":\"%s\",\"quantity\":%ld}]}",
             material, qty);
    race_send(x, x->admin, "POST", "/v1/orders", body, &r);
    if (r.status != 201)
        fail_msg("create order: %d %s", r.status, r.body);
    id = strdup(bt_json_str(r.json, "/data/id"));
    bt_test_resp_release(&r);
    return id;
}

static const char *race_order_status(struct race *x, const char *id, char out[32])
{
    struct bt_test_resp r = {0};
    char path[128];

    snprintf(path, sizeof(path), "/v1/orders/%s", id);
    race_send(x, x->admin, "GET", path, NULL, &r);
    assert_int_equal(r.status, 200);
    snprintf(out, 32, "%s", bt_json_str(r.json, "/data/status"));
    bt_test_resp_release(&r);
    return out;
}

/* ---- the threads ---- */

#define RACE_MAX_THREADS 16

struct race_job {
    struct race *x;
    pthread_barrier_t *go;
    const char *token;
    const char *method; /* NULL: POST for creations, PUT otherwise */
    char path[128];
    char body[256];
    int repeat;     /* creations: how many; status changes: 1 */
    int status;     /* last HTTP status */
    char code[48];  /* last error code */
    char id[48];    /* last /data/id answered, or "" */
    char **numbers; /* creations: orderNumber of each, malloc'd */
    int created;    /* creations that got 201 */
    int other;      /* creations that got anything else */
};

static void *race_run(void *arg)
{
    struct race_job *j = arg;
    struct bt_test_resp r = {0};

    pthread_barrier_wait(j->go);
    for (int i = 0; i < j->repeat; i++) {
        const char *id;

        race_send(j->x, j->token,
                  j->method    ? j->method
                  : j->numbers ? "POST"
                               : "PUT",
                  j->path, j->body, &r);
        j->status = r.status;
        snprintf(j->code, sizeof(j->code), "%s", ys_code(&r));
        id = bt_json_str(r.json, "/data/id");
        snprintf(j->id, sizeof(j->id), "%s", id ? id : "");
        if (j->numbers && r.status == 201) {
            const char *n = bt_json_str(r.json, "/data/orderNumber");
            j->numbers[j->created++] = strdup(n ? n : "");
        } else if (j->numbers) {
            j->other++;
        }
    }
    bt_test_resp_release(&r);
    return NULL;
}

/* Start n jobs together (a barrier releases them at once) and wait for all. */
static void race_go(struct race_job *jobs, int n)
{
    pthread_t th[RACE_MAX_THREADS];
    pthread_barrier_t go;

    assert_true(n <= RACE_MAX_THREADS);
    assert_int_equal(pthread_barrier_init(&go, NULL, (unsigned)n), 0);
    for (int i = 0; i < n; i++) {
        jobs[i].go = &go;
        assert_int_equal(pthread_create(&th[i], NULL, race_run, &jobs[i]), 0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
}

static void race_status_job(struct race_job *j, struct race *x, const char *order,
                            const char *status)
{
    memset(j, 0, sizeof(*j));
    j->x = x;
    j->token = x->admin;
    j->repeat = 1;
    snprintf(j->path, sizeof(j->path), "/v1/orders/%s/status", order);
    snprintf(j->body, sizeof(j->body), "{\"status\":\"%s\"}", status);
}

/* ---- the cases ---- */

/* Two orders race for the last units: exactly one enters PROCESSING, the other gets 409
 * INSUFFICIENT_STOCK, stock ends at 0 (the CHECK (stock >= 0) would refuse negative). Many
 * rounds, each on a fresh material, so the interleavings vary. */
static void race_last_units(struct race *x, int rounds)
{
    for (int round = 0; round < rounds; round++) {
        char *m = race_material(x, 5);
        char *a = race_order(x, m, 5), *b = race_order(x, m, 5);
        struct race_job jobs[2];
        char sa[32], sb[32];
        int ok = 0, short_ = 0;

        race_status_job(&jobs[0], x, a, "PROCESSING");
        race_status_job(&jobs[1], x, b, "PROCESSING");
        race_go(jobs, 2);
        for (int i = 0; i < 2; i++) {
            if (jobs[i].status == 200)
                ok++;
            else if (jobs[i].status == 409 && !strcmp(jobs[i].code, "INSUFFICIENT_STOCK"))
                short_++;
            else
                fail_msg("round %d job %d: %d %s", round, i, jobs[i].status, jobs[i].code);
        }
        assert_int_equal(ok, 1);
        assert_int_equal(short_, 1);
        assert_int_equal(race_stock(x, m), 0);
        race_order_status(x, a, sa);
        race_order_status(x, b, sb);
        assert_string_equal(jobs[0].status == 200 ? sa : sb, "PROCESSING");
        assert_string_equal(jobs[0].status == 200 ? sb : sa, "PENDING");
        free(m);
        free(a);
        free(b);
    }
}

/* Eight orders of one unit race for three units: three win, five get 409, stock 0. */
static void race_many_for_few(struct race *x)
{
    char *m = race_material(x, 3);
    char *orders[8];
    struct race_job jobs[8];
    int ok = 0, short_ = 0;

    for (int i = 0; i < 8; i++) {
        orders[i] = race_order(x, m, 1);
        race_status_job(&jobs[i], x, orders[i], "PROCESSING");
    }
    race_go(jobs, 8);
    for (int i = 0; i < 8; i++) {
        if (jobs[i].status == 200)
            ok++;
        else if (jobs[i].status == 409 && !strcmp(jobs[i].code, "INSUFFICIENT_STOCK"))
            short_++;
        else
            fail_msg("job %d: %d %s", i, jobs[i].status, jobs[i].code);
    }
    assert_int_equal(ok, 3);
    assert_int_equal(short_, 5);
    assert_int_equal(race_stock(x, m), 0);
    /* cancelling the winners puts every unit back */
    for (int i = 0; i < 8; i++) {
        if (jobs[i].status == 200) {
            struct race_job c;
            race_status_job(&c, x, orders[i], "CANCELLED");
            race_go(&c, 1);
            assert_int_equal(c.status, 200);
        }
        free(orders[i]);
    }
    assert_int_equal(race_stock(x, m), 3);
    free(m);
}

/* Eight requests move the same order to PROCESSING at once: one wins, the others see
 * PROCESSING and get 422; the stock is taken once, the history has one entry for it. */
static void race_same_order(struct race *x)
{
    char *m = race_material(x, 10);
    char *o = race_order(x, m, 2);
    struct race_job jobs[8];
    struct bt_test_resp r = {0};
    char path[128];
    int ok = 0, refused = 0;

    for (int i = 0; i < 8; i++)
        race_status_job(&jobs[i], x, o, "PROCESSING");
    race_go(jobs, 8);
    for (int i = 0; i < 8; i++) {
        if (jobs[i].status == 200)
            ok++;
        else if (jobs[i].status == 422 && !strcmp(jobs[i].code, "VALIDATION_ERROR"))
            refused++;
        else
            fail_msg("job %d: %d %s", i, jobs[i].status, jobs[i].code);
    }
    assert_int_equal(ok, 1);
    assert_int_equal(refused, 7);
    assert_int_equal(race_stock(x, m), 8);
    snprintf(path, sizeof(path), "/v1/orders/%s", o);
    race_send(x, x->admin, "GET", path, NULL, &r);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/statusHistory")), 2);
    bt_test_resp_release(&r);
    free(m);
    free(o);
}

/* A material deleted while an order naming it is created (edit: while an order is edited to
 * name it): the two never both succeed (docs/apps/yunshui.md, Materials "Delete"). Either the
 * order is written first and the delete gets 409 RESOURCE_IN_USE, or the delete is and the
 * order gets 422 基材不存在 (an edited order keeps its items); an item never loses its
 * materialId. Many rounds, each on a fresh material, so both orders of arrival occur. */
static void race_material_delete(struct race *x, int rounds, bool edit)
{
    char *other = edit ? race_material(x, 1000) : NULL;
    struct bt_test_resp r = {0};

    for (int round = 0; round < rounds; round++) {
        char *m = race_material(x, 10);
        char *o = edit ? race_order(x, other, 1) : NULL;
        struct race_job jobs[2];
        char path[128];
        const char *kept;

        memset(jobs, 0, sizeof(jobs));
        for (int i = 0; i < 2; i++) {
            jobs[i].x = x;
            jobs[i].token = x->admin;
            jobs[i].repeat = 1;
        }
        jobs[0].method = edit ? "PUT" : "POST";
        if (edit)
            snprintf(jobs[0].path, sizeof(jobs[0].path), "/v1/orders/%s", o);
        else
            snprintf(jobs[0].path, sizeof(jobs[0].path), "/v1/orders");
        snprintf(
            jobs[0].body, sizeof(jobs[0].body),
            "{\"customerName\":\"競爭客戶\",\"items\":[{\"materialId\":\"%s\",\"quantity\":1}]}",
            m);
        jobs[1].method = "DELETE";
        snprintf(jobs[1].path, sizeof(jobs[1].path), "/v1/materials/%s", m);
        race_go(jobs, 2);

        if (jobs[0].status == (edit ? 200 : 201)) {
            if (jobs[1].status != 409 || strcmp(jobs[1].code, "RESOURCE_IN_USE") != 0)
                fail_msg("round %d: order written, delete answered %d %s", round, jobs[1].status,
                         jobs[1].code);
            kept = m;
        } else if (jobs[0].status == 422 && !strcmp(jobs[0].code, "VALIDATION_ERROR")) {
            if (jobs[1].status != 200)
                fail_msg("round %d: order refused, delete answered %d %s", round, jobs[1].status,
                         jobs[1].code);
            kept = other; /* NULL for a creation: nothing was written */
        } else {
            fail_msg("round %d: order answered %d %s", round, jobs[0].status, jobs[0].code);
        }
        if (kept) {
            snprintf(path, sizeof(path), "/v1/orders/%s", edit ? o : jobs[0].id);
            race_send(x, x->admin, "GET", path, NULL, &r);
            assert_int_equal(r.status, 200);
            assert_int_equal(json_array_size(bt_json_at(r.json, "/data/items")), 1);
            if (!json_is_string(bt_json_at(r.json, "/data/items/0/materialId")))
                fail_msg("round %d: the item lost its material: %s", round, r.body);
            assert_string_equal(bt_json_str(r.json, "/data/items/0/materialId"), kept);
        }
        free(m);
        free(o);
    }
    bt_test_resp_release(&r);
    free(other);
}

static int race_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* threads × per concurrent creations (ADMIN and USER mixed): every one succeeds and the
 * numbers are exactly ORD-<year>-001 .. <threads × per>, no duplicates, no gaps. */
static void race_numbering(struct race *x, int threads, int per)
{
    struct race_job jobs[RACE_MAX_THREADS];
    char **all = calloc((size_t)(threads * per), sizeof(*all));
    char *m = race_material(x, 1000);
    struct bt_test_resp r = {0};
    char want[32], year[16];
    time_t now = time(NULL);
    struct tm tm;
    int n = 0;

    assert_non_null(all);
    gmtime_r(&now, &tm);
    snprintf(year, sizeof(year), "%04d", tm.tm_year + 1900);
    for (int i = 0; i < threads; i++) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        jobs[i].x = x;
        jobs[i].token = i % 2 ? x->user : x->admin;
        jobs[i].repeat = per;
        jobs[i].numbers = calloc((size_t)per, sizeof(char *));
        assert_non_null(jobs[i].numbers);
        snprintf(jobs[i].path, sizeof(jobs[i].path), "/v1/orders");
        snprintf(jobs[i].body, sizeof(jobs[i].body),
                 "{\"customerName\":\"客戶 %d\",\"items\":[{\"materialId\":\"%s\","
                 "\"quantity\":1}]}",
                 i, m);
    }
    race_go(jobs, threads);
    for (int i = 0; i < threads; i++) {
        if (jobs[i].other)
            fail_msg("thread %d: %d creations failed, last %d %s", i, jobs[i].other, jobs[i].status,
                     jobs[i].code);
        for (int k = 0; k < jobs[i].created; k++)
            all[n++] = jobs[i].numbers[k];
        free(jobs[i].numbers);
    }
    assert_int_equal(n, threads * per);
    qsort(all, (size_t)n, sizeof(*all), race_cmp);
    for (int i = 0; i < n; i++) {
        snprintf(want, sizeof(want), "ORD-%s-%03d", year, i + 1);
        if (strcmp(all[i], want) != 0)
            fail_msg("number %d is %s, want %s", i, all[i], want);
    }
    for (int i = 0; i < n; i++)
        free(all[i]);
    free(all);
    race_send(x, x->admin, "GET", "/v1/orders?limit=1", NULL, &r);
    assert_int_equal(bt_json_int(r.json, "/data/pagination/total", -1), threads * per);
    snprintf(want, sizeof(want), "ORD-%s-%03d", year, threads * per);
    assert_string_equal(bt_json_str(r.json, "/data/orders/0/orderNumber"), want);
    bt_test_resp_release(&r);
    free(m);
}

#endif
