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
    struct bt_test_app *t;   /* in-process, or */
    struct bt_test_proc *p;  /* the real binary */
    struct bt_test_proc *p2; /* NULL, or a second binary on p's database: every other
                              * thread of a race sends to it (test_two_instances_bb.c) */
    char *admin;             /* ADMIN token */
    char *user;              /* USER token */
    int materials;           /* names made so far */
};

/* The process the i-th thread of a race talks to (NULL in process). */
static struct bt_test_proc *race_proc(const struct race *x, int i)
{
    return x->p2 && i % 2 ? x->p2 : x->p;
}

/* One request with a bearer token to process p (ignored in process); safe to call from
 * several threads at once. */
static void race_send_to(struct race *x, struct bt_test_proc *p, const char *token,
                         const char *method, const char *path, const char *body,
                         struct bt_test_resp *r)
{
    char auth[2048];
    const char *headers[2] = {auth, NULL};

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    if (x->t)
        bt_test_request(x->t, method, path, headers, body, r);
    else
        bt_test_http(p, "yunshui", method, path, headers, body, body ? strlen(body) : 0, r);
}

static void race_send(struct race *x, const char *token, const char *method, const char *path,
                      const char *body, struct bt_test_resp *r)
{
    race_send_to(x, x->p, token, method, path, body, r);
}

/* The black-box fixture: bento on a fresh database (and, with twin, a second process on the
 * same database), the admin's token, and a USER "racer" logged in through the last process. */
__attribute__((unused)) static struct race *race_bb_start(bool twin)
{
    struct race *x = calloc(1, sizeof(*x));
    const char *const env[] = {"BENTO_YUNSHUI_RATE_LIMIT=0", NULL};
    struct bt_test_resp r = {0};
    const char *login = "{\"username\":\"admin\",\"password\":\"password123\"}";
    const char *user =
        "{\"username\":\"racer\",\"email\":\"racer@example.com\",\"password\":\"secret-racer-1\","
        "\"role\":\"USER\"}";

    assert_non_null(x);
    x->p = bt_test_proc_start("yunshui", NULL, env);
    if (twin)
        x->p2 = bt_test_proc_twin(x->p);
    /* on this thread first: libcurl's global set-up is done before any worker thread */
    bt_test_http(x->p, "yunshui", "POST", "/v1/auth/login", NULL, login, strlen(login), &r);
    assert_int_equal(r.status, 200);
    x->admin = strdup(bt_json_str(r.json, "/data/token"));
    race_send(x, x->admin, "POST", "/v1/users", user, &r);
    assert_int_equal(r.status, 201);
    /* with a twin, the account and its session are seen through the database */
    login = "{\"username\":\"racer\",\"password\":\"secret-racer-1\"}";
    bt_test_http(x->p2 ? x->p2 : x->p, "yunshui", "POST", "/v1/auth/login", NULL, login,
                 strlen(login), &r);
    assert_int_equal(r.status, 200);
    x->user = strdup(bt_json_str(r.json, "/data/token"));
    bt_test_resp_release(&r);
    return x;
}

__attribute__((unused)) static void race_bb_stop(struct race *x)
{
    free(x->admin);
    free(x->user);
    if (x->p2)
        assert_int_equal(bt_test_proc_stop(x->p2), 0); /* before p, which owns the database */
    assert_int_equal(bt_test_proc_stop(x->p), 0);
    free(x);
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
    struct bt_test_proc *p; /* set by race_go (race_proc) */
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

        race_send_to(j->x, j->p, j->token,
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
        jobs[i].p = race_proc(jobs[i].x, i);
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
        /* roles swap every round: with a second instance each plays each part */
        struct race_job *ord = &jobs[round % 2], *del = &jobs[1 - round % 2];
        char path[128];
        const char *kept;

        memset(jobs, 0, sizeof(jobs));
        for (int i = 0; i < 2; i++) {
            jobs[i].x = x;
            jobs[i].token = x->admin;
            jobs[i].repeat = 1;
        }
        ord->method = edit ? "PUT" : "POST";
        if (edit)
            snprintf(ord->path, sizeof(ord->path), "/v1/orders/%s", o);
        else
            snprintf(ord->path, sizeof(ord->path), "/v1/orders");
        snprintf(
            ord->body, sizeof(ord->body),
            "{\"customerName\":\"競爭客戶\",\"items\":[{\"materialId\":\"%s\",\"quantity\":1}]}",
            m);
        del->method = "DELETE";
        snprintf(del->path, sizeof(del->path), "/v1/materials/%s", m);
        race_go(jobs, 2);

        if (ord->status == (edit ? 200 : 201)) {
            if (del->status != 409 || strcmp(del->code, "RESOURCE_IN_USE") != 0)
                fail_msg("round %d: order written, delete answered %d %s", round, del->status,
                         del->code);
            kept = m;
        } else if (ord->status == 422 && !strcmp(ord->code, "VALIDATION_ERROR")) {
            if (del->status != 200)
                fail_msg("round %d: order refused, delete answered %d %s", round, del->status,
                         del->code);
            kept = other; /* NULL for a creation: nothing was written */
        } else {
            fail_msg("round %d: order answered %d %s", round, ord->status, ord->code);
        }
        if (kept) {
            snprintf(path, sizeof(path), "/v1/orders/%s", edit ? o : ord->id);
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

/* ---- many orders of two materials for little stock ---- */

#define HAMMER_MATERIALS 3

struct hammer_order {
    char id[48], number[32];
    int nitems, mat[2]; /* material index of each item */
    long qty[2];
    int status;      /* of PUT status PROCESSING: 200 or 409 */
    json_t *details; /* the 409's details (owned) */
};

struct hammer_job {
    struct race *x;
    struct bt_test_proc *p;
    pthread_barrier_t *go;
    int n, per;
    char (*material)[48];
    struct hammer_order *orders;
    int done;        /* orders created and moved (or refused) */
    char error[512]; /* an answer that should not have happened */
};

static void *hammer_run(void *arg)
{
    struct hammer_job *j = arg;
    struct bt_test_resp r = {0};

    pthread_barrier_wait(j->go);
    for (int k = 0; k < j->per; k++) {
        struct hammer_order *o = &j->orders[k];
        char body[512], path[128];

        o->mat[0] = (j->n + k) % HAMMER_MATERIALS;
        o->mat[1] = (2 * j->n + 3 * k + 1) % HAMMER_MATERIALS;
        o->nitems = o->mat[0] == o->mat[1] ? 1 : 2;
        o->qty[0] = 1 + (j->n + k) % 3;
        o->qty[1] = 1 + k % 2;
        if (o->nitems == 1)
            snprintf(body, sizeof(body),
                     "{\"customerName\":\"搶料客戶 %d\",\"items\":[{\"materialId\":\"%s\","
                     "\"quantity\":%ld}]}",
                     j->n, j->material[o->mat[0]], o->qty[0]);
        else
            snprintf(body, sizeof(body),
                     "{\"customerName\":\"搶料客戶 %d\",\"items\":[{\"materialId\":\"%s\","
                     "\"quantity\":%ld},{\"materialId\":\"%s\",\"quantity\":%ld}]}",
                     j->n, j->material[o->mat[0]], o->qty[0], j->material[o->mat[1]], o->qty[1]);
        race_send_to(j->x, j->p, k % 2 ? j->x->user : j->x->admin, "POST", "/v1/orders", body, &r);
        if (r.status != 201) {
            snprintf(j->error, sizeof(j->error), "create: %d %s", r.status, r.body);
            break;
        }
        snprintf(o->id, sizeof(o->id), "%s", bt_json_str(r.json, "/data/id"));
        snprintf(o->number, sizeof(o->number), "%s", bt_json_str(r.json, "/data/orderNumber"));
        snprintf(path, sizeof(path), "/v1/orders/%s/status", o->id);
        race_send_to(j->x, j->p, j->x->admin, "PUT", path, "{\"status\":\"PROCESSING\"}", &r);
        o->status = r.status;
        if (r.status == 409 && !strcmp(ys_code(&r), "INSUFFICIENT_STOCK")) {
            o->details = json_incref(bt_json_at(r.json, "/error/details"));
        } else if (r.status != 200) {
            snprintf(j->error, sizeof(j->error), "processing: %d %s", r.status, r.body);
            break;
        }
        j->done++;
    }
    bt_test_resp_release(&r);
    return NULL;
}

/* threads × per orders of one or two of three materials (ADMIN and USER creators, lines of
 * 1-3 units) are created and moved to PROCESSING at once, asking for about three times the
 * stock there is. Afterwards: numbers ORD-<year>-001 .. without a gap; every 200 left its order
 * PROCESSING, every refusal is 409 INSUFFICIENT_STOCK naming a material really short
 * (requested > available, and the stock only falls here, so it ends at most at that
 * available) and left its order PENDING; each material's stock is its initial stock minus
 * exactly the quantities of the accepted orders, never below 0. */
static void race_stock_hammer(struct race *x, int threads, int per)
{
    static const long initial[HAMMER_MATERIALS] = {40, 30, 20};
    struct hammer_job jobs[RACE_MAX_THREADS];
    pthread_t th[RACE_MAX_THREADS];
    char material[HAMMER_MATERIALS][48];
    long taken[HAMMER_MATERIALS] = {0}, final[HAMMER_MATERIALS];
    char **numbers = calloc((size_t)(threads * per), sizeof(*numbers));
    struct bt_test_resp r = {0};
    pthread_barrier_t go;
    int accepted = 0, refused = 0, n = 0;
    char want[48], path[192];

    assert_non_null(numbers);
    assert_true(threads <= RACE_MAX_THREADS);
    for (int m = 0; m < HAMMER_MATERIALS; m++) {
        char *id = race_material(x, initial[m]);
        snprintf(material[m], sizeof(material[m]), "%s", id);
        free(id);
    }
    assert_int_equal(pthread_barrier_init(&go, NULL, (unsigned)threads), 0);
    for (int i = 0; i < threads; i++) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        jobs[i].x = x;
        jobs[i].p = race_proc(x, i);
        jobs[i].go = &go;
        jobs[i].n = i;
        jobs[i].per = per;
        jobs[i].material = material;
        jobs[i].orders = calloc((size_t)per, sizeof(*jobs[i].orders));
        assert_non_null(jobs[i].orders);
        assert_int_equal(pthread_create(&th[i], NULL, hammer_run, &jobs[i]), 0);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);

    for (int m = 0; m < HAMMER_MATERIALS; m++)
        final[m] = race_stock(x, material[m]);
    for (int i = 0; i < threads; i++) {
        if (jobs[i].error[0])
            fail_msg("thread %d: %s", i, jobs[i].error);
        for (int k = 0; k < jobs[i].done; k++) {
            struct hammer_order *o = &jobs[i].orders[k];
            char status[32];

            numbers[n++] = o->number;
            /* read back from the other instance when there are two */
            if (x->p2) {
                struct bt_test_resp g = {0};
                snprintf(path, sizeof(path), "/v1/orders/%s", o->id);
                race_send_to(x, race_proc(x, i + 1), x->admin, "GET", path, NULL, &g);
                assert_int_equal(g.status, 200);
                snprintf(status, sizeof(status), "%s", bt_json_str(g.json, "/data/status"));
                bt_test_resp_release(&g);
            } else {
                race_order_status(x, o->id, status);
            }
            if (o->status == 200) {
                accepted++;
                assert_string_equal(status, "PROCESSING");
                for (int it = 0; it < o->nitems; it++)
                    taken[o->mat[it]] += o->qty[it];
                continue;
            }
            refused++;
            assert_string_equal(status, "PENDING");
            assert_true(json_array_size(json_object_get(o->details, "materials")) > 0);
            for (size_t e = 0; e < json_array_size(json_object_get(o->details, "materials")); e++) {
                const json_t *s = json_array_get(json_object_get(o->details, "materials"), e);
                long requested = 0, available = (long)bt_json_int(s, "/available", -1);
                int m = -1;

                for (int it = 0; it < o->nitems; it++)
                    if (!strcmp(bt_json_str(s, "/materialId"), material[o->mat[it]])) {
                        m = o->mat[it];
                        requested += o->qty[it];
                    }
                if (m < 0)
                    fail_msg("order %s: refused for a material it does not use", o->number);
                assert_int_equal(bt_json_int(s, "/requested", -1), requested);
                assert_true(available >= 0 && available < requested);
                assert_true(final[m] <= available);
            }
            json_decref(o->details);
        }
    }
    assert_int_equal(n, threads * per);
    assert_true(accepted > 0);
    assert_true(refused > 0);
    for (int m = 0; m < HAMMER_MATERIALS; m++) {
        if (final[m] != initial[m] - taken[m])
            fail_msg("material %d: stock %ld, want %ld - %ld", m, final[m], initial[m], taken[m]);
        assert_true(final[m] >= 0);
        if (x->p2) { /* the other instance reads the same */
            snprintf(path, sizeof(path), "/v1/materials/%s", material[m]);
            race_send_to(x, x->p2, x->admin, "GET", path, NULL, &r);
            assert_int_equal(bt_json_int(r.json, "/data/stock", -1), final[m]);
        }
    }
    qsort(numbers, (size_t)n, sizeof(*numbers), race_cmp);
    for (int i = 0; i < n; i++) {
        snprintf(want, sizeof(want), "%.9s%03d", numbers[0], i + 1);
        if (strcmp(numbers[i], want) != 0)
            fail_msg("number %d is %s, want %s", i, numbers[i], want);
    }
    for (int i = 0; i < threads; i++)
        free(jobs[i].orders);
    free(numbers);
    bt_test_resp_release(&r);
}

#endif
