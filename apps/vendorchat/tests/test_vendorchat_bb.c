/* SPDX-License-Identifier: MIT
 * test_vendorchat_bb.c - vendorchat against the real binary: the document's own test script
 * (spec 004 §測試腳本) and cURL examples over HTTP, and a graceful shutdown that lets an
 * in-flight chat request finish.
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

static void post(struct bt_test_proc *p, const char *path, const char *body, struct bt_test_resp *r)
{
    bt_test_http(p, "vendorchat", "POST", path, NULL, body, strlen(body), r);
}

/* spec 004 §測試腳本: the four steps of test-api.sh */
static void test_document_script(void **state)
{
    struct bt_test_proc *p = bt_test_proc_start("vendorchat", NULL, NULL);
    struct bt_test_resp r = {0};
    const char *answer;
    json_t *list;
    (void)state;

    post(p, "/chat/v1/message", "{\"message\":\"每月繳費日期是什麼時候？\",\"vendor_id\":1}", &r);
    assert_int_equal(r.status, 200);
    answer = json_string_value(json_object_get(r.json, "answer"));
    assert_non_null(answer);
    assert_non_null(strstr(answer, "1 號"));
    assert_non_null(strstr(answer, "200 元"));

    post(p, "/chat/v1/message", "{\"message\":\"每月繳費日期是什麼時候？\",\"vendor_id\":2}", &r);
    assert_int_equal(r.status, 200);
    answer = json_string_value(json_object_get(r.json, "answer"));
    assert_non_null(strstr(answer, "5 號"));
    assert_non_null(strstr(answer, "300 元"));

    bt_test_http(p, "vendorchat", "GET", "/api/v1/vendors", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    list = r.json;
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), 2);

    bt_test_http(p, "vendorchat", "GET", "/chat/v1/vendors/1/test", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"test_template\":{\"original\":\"繳費日為 {{payment_day}}，逾期費 "
                             "{{late_fee}}。\",\"resolved\":\"繳費日為 1 號，逾期費 200 元。\"}}");

    /* the cURL examples: vendor B's hotline, reload, create, unknown vendor */
    post(p, "/chat/v1/message",
         "{\"message\":\"客服專線是多少？\",\"vendor_id\":2,\"mode\":\"tenant\"}", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "answer")), "02-8765-4321"));
    post(p, "/chat/v1/reload", "", &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"success\":true,\"message\":\"多業者服務已重新載入\"}");
    post(p, "/api/v1/vendors",
         "{\"code\":\"VENDOR_C\",\"name\":\"永慶包租代管股份有限公司\",\"short_name\":\"永慶\","
         "\"contact_phone\":\"02-1234-5678\",\"subscription_plan\":\"standard\"}",
         &r);
    assert_int_equal(r.status, 201);
    bt_assert_subset(r.json, "{\"id\":3,\"code\":\"VENDOR_C\",\"subscription_status\":\"active\","
                             "\"is_active\":true}");
    post(p, "/chat/v1/message", "{\"message\":\"hi\",\"vendor_id\":999}", &r);
    assert_int_equal(r.status, 404);
    bt_assert_subset(r.json, "{\"detail\":\"業者不存在: 999\"}");
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

/* ---- graceful shutdown with a request in flight ---- */

struct hold {
    sem_t arrived, release;
    int calls; /* only the first provider call is held */
};

/* plays an LLM provider that answers only when the test says so */
static void slow_provider(const struct bt_test_upstream_req *rq, struct bt_test_upstream_resp *rs,
                          void *ud)
{
    struct hold *h = ud;
    (void)rq;
    if (__atomic_fetch_add(&h->calls, 1, __ATOMIC_SEQ_CST) == 0) {
        sem_post(&h->arrived);
        sem_wait(&h->release);
    }
    rs->status = 500;
    rs->body = strdup("{\"error\":\"busy\"}");
}

struct call {
    struct bt_test_proc *p;
    struct bt_test_resp r;
};

static void *chat_call(void *arg)
{
    struct call *c = arg;
    post(c->p, "/chat/v1/message", "{\"message\":\"押金是多少\",\"vendor_id\":1}", &c->r);
    return NULL;
}

/* issue 6 §1: the served document carries each route's response and its handler's errors;
 * aliases share their documented route's schemas and are marked deprecated; a body that is
 * not application/json is 415 over real HTTP too */
static void test_openapi_responses(void **state)
{
    static const char *const text_plain[] = {"Content-Type: text/plain", NULL};
    static const char *const body = "{\"message\":\"押金\",\"vendor_id\":1}";
    struct bt_test_proc *p = bt_test_proc_start("vendorchat", NULL, NULL);
    struct bt_test_resp r = {0};
    const json_t *doc;
    (void)state;

    bt_test_http(p, "vendorchat", "GET", "/openapi.json", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    doc = r.json;
    bt_assert_subset(
        doc, "{\"paths\":{\"/chat/v1/message\":{\"post\":{\"responses\":{"
             "\"200\":{\"content\":{\"application/json\":{\"schema\":"
             "{\"$ref\":\"#/components/schemas/ChatAnswer\"}}}},"
             "\"403\":{\"content\":{\"application/json\":{\"schema\":"
             "{\"$ref\":\"#/components/schemas/Error\"}}}},"
             "\"404\":{\"content\":{\"application/json\":{\"schema\":"
             "{\"$ref\":\"#/components/schemas/Error\"}}}},"
             "\"415\":{\"content\":{\"application/json\":{\"schema\":"
             "{\"$ref\":\"#/components/schemas/Error\"}}}}}}},"
             "\"/api/v1/message\":{\"post\":{\"deprecated\":true,\"responses\":{"
             "\"200\":{\"content\":{\"application/json\":{\"schema\":"
             "{\"$ref\":\"#/components/schemas/ChatAnswer\"}}}},"
             "\"403\":{},\"404\":{}}}},"
             "\"/api/v1/vendors\":{\"get\":{\"responses\":{\"200\":{\"content\":{"
             "\"application/json\":{\"schema\":{\"type\":\"array\",\"items\":"
             "{\"$ref\":\"#/components/schemas/Vendor\"}}}}}}},"
             "\"post\":{\"responses\":{\"201\":{\"content\":{\"application/json\":{\"schema\":"
             "{\"$ref\":\"#/components/schemas/Vendor\"}}}}}}}},"
             "\"components\":{\"schemas\":{\"Error\":{\"required\":[\"detail\"],"
             "\"additionalProperties\":false}}}}");
    /* a message never answers 403 or 404 for its own route shape: the handler declares them */
    assert_null(bt_json_at(doc, "/paths/~1chat~1v1~1reload/post/responses/404"));
    /* every vendor field is always present */
    assert_int_equal(json_array_size(bt_json_at(doc, "/components/schemas/Vendor/required")), 12);

    bt_test_http(p, "vendorchat", "POST", "/chat/v1/message", text_plain, body, strlen(body), &r);
    assert_int_equal(r.status, 415);
    bt_assert_subset(r.json, "{\"detail\":\"content type must be application/json\"}");
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

static void test_sigterm_finishes_in_flight_request(void **state)
{
    struct hold h;
    struct bt_test_upstream *u;
    struct bt_test_proc *p;
    struct call c = {0};
    pthread_t t;
    char set[160];
    const char *args[3];
    (void)state;

    h.calls = 0;
    sem_init(&h.arrived, 0, 0);
    sem_init(&h.release, 0, 0);
    u = bt_test_upstream_start(slow_provider, &h);
    snprintf(set, sizeof(set), "vendorchat.llm_url=%s", bt_test_upstream_url(u));
    args[0] = "--set";
    args[1] = set;
    args[2] = NULL;
    p = bt_test_proc_start("vendorchat", args, NULL);
    c.p = p;
    assert_int_equal(pthread_create(&t, NULL, chat_call, &c), 0);
    sem_wait(&h.arrived);          /* the request is inside bento, waiting on the provider */
    bt_test_proc_kill(p, SIGTERM); /* shut down now */
    sem_post(&h.release);          /* the provider fails; bento falls back and answers */
    pthread_join(t, NULL);
    assert_int_equal(c.r.status, 200);
    assert_non_null(strstr(json_string_value(json_object_get(c.r.json, "answer")), "2 月"));
    bt_test_resp_release(&c.r);
    assert_int_equal(bt_test_proc_stop(p), 0);
    bt_test_upstream_stop(u);
    sem_destroy(&h.arrived);
    sem_destroy(&h.release);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document_script),
        cmocka_unit_test(test_openapi_responses),
        cmocka_unit_test(test_sigterm_finishes_in_flight_request),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
