/* SPDX-License-Identifier: MIT
 * test_llm_http.c - handler tier of the optional LLM provider (note rules 3 and 5): with
 * llm_url pointing at a fake OpenAI-compatible server, classification and polishing use it;
 * a polished answer is kept only when every injected vendor value survives; provider errors,
 * garbage and timeouts never fail a message; the key goes out as a bearer token and never
 * into the log.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_test.h"

extern const struct bt_app bt_app_vendorchat;

#define SECRET_KEY "sk-test-5f2b9c"

/* What the fake provider does. */
enum fake_mode {
    FAKE_KEEP,       /* polish keeps the original answer inside a friendlier text */
    FAKE_DROP,       /* polish drops the vendor's values */
    FAKE_ALTER,      /* polish changes a value (1 號 -> 10 號) */
    FAKE_ERROR,      /* 500 for everything */
    FAKE_GARBAGE,    /* 200 with a body that is not JSON */
    FAKE_NO_CONTENT, /* 200 JSON without choices */
    FAKE_SLOW,       /* block until released (the client must time out) */
    FAKE_CLASSIFY,   /* classification answers with `intent` */
};

struct fake {
    atomic_int mode;
    const char *intent; /* FAKE_CLASSIFY's primary intent */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool released;
    char auth[256];  /* last Authorization header */
    char path[256];  /* last path */
    char *last_body; /* last request body */
    unsigned classify_calls, polish_calls;
};

struct fixture {
    struct fake fake;
    struct bt_test_upstream *up;
    struct bt_test_app *app;
};

static char *reply(const char *content, int tokens)
{
    json_t *j = json_pack("{s:s,s:[{s:i,s:{s:s,s:s}}],s:{s:i,s:i,s:i}}", "object",
                          "chat.completion", "choices", "index", 0, "message", "role", "assistant",
                          "content", content, "usage", "prompt_tokens", tokens - 5,
                          "completion_tokens", 5, "total_tokens", tokens);
    char *s = json_dumps(j, JSON_COMPACT);

    json_decref(j);
    return s;
}

static void fake_fn(const struct bt_test_upstream_req *rq, struct bt_test_upstream_resp *rs,
                    void *ud)
{
    struct fake *f = ud;
    json_t *body = json_loads(rq->body ? rq->body : "", 0, NULL);
    const char *user = json_string_value(
        json_object_get(json_array_get(json_object_get(body, "messages"), 1), "content"));
    bool classify = rq->body && strstr(rq->body, "primary_intent");
    int mode = atomic_load(&f->mode);
    const char *orig;
    char *text = NULL;

    pthread_mutex_lock(&f->mu);
    snprintf(f->auth, sizeof(f->auth), "%s", rq->authorization ? rq->authorization : "");
    snprintf(f->path, sizeof(f->path), "%s", rq->path ? rq->path : "");
    free(f->last_body);
    f->last_body = strdup(rq->body ? rq->body : "");
    if (classify)
        f->classify_calls++;
    else
        f->polish_calls++;
    if (mode == FAKE_SLOW) {
        while (!f->released)
            pthread_cond_wait(&f->cv, &f->mu);
    }
    pthread_mutex_unlock(&f->mu);

    rs->status = 200;
    rs->content_type = "application/json";
    switch (mode) {
    case FAKE_ERROR:
        rs->status = 500;
        rs->body = strdup("{\"error\":{\"message\":\"boom\"}}");
        break;
    case FAKE_GARBAGE:
        rs->content_type = "text/plain";
        rs->body = strdup("hello, I am not JSON");
        break;
    case FAKE_NO_CONTENT:
        rs->body = strdup("{\"choices\":[],\"usage\":{\"total_tokens\":7}}");
        break;
    case FAKE_SLOW: rs->body = reply("{\"primary_intent\":\"unclear\"}", 1); break;
    default:
        if (classify) {
            char buf[256];
            if (mode == FAKE_CLASSIFY)
                snprintf(buf, sizeof(buf),
                         "```json\n{\"primary_intent\":\"%s\",\"secondary_intents\":[\"帳務查詢\","
                         "\"不存在的意圖\"],\"confidence\":0.88}\n```",
                         f->intent);
            else
                snprintf(buf, sizeof(buf), "no idea"); /* unusable: built-in classifier */
            rs->body = reply(buf, 30);
            break;
        }
        orig = user ? strstr(user, "原始答案：") : NULL;
        orig = orig ? orig + strlen("原始答案：") : "";
        if (mode == FAKE_KEEP) {
            if (asprintf(&text, "  您好！%s 祝您生活愉快。\n", orig) < 0)
                text = NULL;
        } else if (mode == FAKE_ALTER) {
            const char *p = strstr(orig, "1 號");
            if (p &&
                asprintf(&text, "您好！%.*s10 號%s", (int)(p - orig), orig, p + strlen("1 號")) < 0)
                text = NULL;
        } else {
            text = strdup("您好！請記得按時繳納租金，謝謝。");
        }
        rs->body = reply(text ? text : "", 50);
        free(text);
        break;
    }
    json_decref(body);
}

static int setup_with(void **state, const char *timeout_ms)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char url[256], tmo[64];
    const char *settings[5];

    assert_non_null(fx);
    atomic_init(&fx->fake.mode, FAKE_KEEP);
    pthread_mutex_init(&fx->fake.mu, NULL);
    pthread_cond_init(&fx->fake.cv, NULL);
    fx->up = bt_test_upstream_start(fake_fn, &fx->fake);
    snprintf(url, sizeof(url), "llm_url=%s/v1/", bt_test_upstream_url(fx->up));
    snprintf(tmo, sizeof(tmo), "llm_timeout_ms=%s", timeout_ms);
    settings[0] = url;
    settings[1] = "llm_key=" SECRET_KEY;
    settings[2] = "llm_model=test-model";
    settings[3] = tmo;
    settings[4] = NULL;
    fx->app = bt_test_app_new(&bt_app_vendorchat, settings);
    *state = fx;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, "5000");
}

static int setup_short_timeout(void **state)
{
    return setup_with(state, "300");
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    pthread_mutex_lock(&fx->fake.mu);
    fx->fake.released = true; /* a blocked handler must finish before the server stops */
    pthread_cond_broadcast(&fx->fake.cv);
    pthread_mutex_unlock(&fx->fake.mu);
    bt_test_app_free(fx->app);
    bt_test_upstream_stop(fx->up);
    free(fx->fake.last_body);
    pthread_mutex_destroy(&fx->fake.mu);
    pthread_cond_destroy(&fx->fake.cv);
    free(fx);
    return 0;
}

static void chat(struct fixture *fx, int64_t vendor, const char *msg, const char *extra,
                 struct bt_test_resp *r)
{
    char body[512];

    snprintf(body, sizeof(body), "{\"message\":\"%s\",\"vendor_id\":%lld%s%s}", msg,
             (long long)vendor, extra ? "," : "", extra ? extra : "");
    bt_test_request(fx->app, "POST", "/chat/v1/message", NULL, body, r);
    if (r->status != 200)
        fail_msg("%s -> %d: %s", msg, r->status, r->body);
}

static const char *answer_of(const struct bt_test_resp *r)
{
    const char *a = bt_json_str(r->json, "/answer");

    assert_non_null(a);
    return a;
}

#define TEMPLATE_V1                                                                                                                   \
    "您的租金繳費日為每月 1 號，請務必在期限前完成繳費。如果超過繳費日 5 天仍未繳納，將加收 " \
    "200 元的逾期手續費。"

/* ---- polish ---- */

static void test_polish_kept_when_values_preserved(void **state)
{
    struct fixture *fx = *state;
    struct bt_test_resp r = {0};

    chat(fx, 1, "每月繳費日期是什麼時候？", NULL, &r);
    /* trimmed, and every value of the template is still there */
    assert_string_equal(answer_of(&r), "您好！" TEMPLATE_V1 " 祝您生活愉快。");
    bt_assert_subset(r.json, "{\"intent_name\":\"帳務查詢\",\"llm_optimization\":{"
                             "\"optimization_applied\":true,\"tokens_used\":80,"
                             "\"vendor_params_injected\":true}}");
    /* the sources still show the raw template */
    assert_non_null(strstr(bt_json_str(r.json, "/sources/0/answer"), "{{payment_day}}"));

    /* the request the provider saw */
    pthread_mutex_lock(&fx->fake.mu);
    assert_string_equal(fx->fake.auth, "Bearer " SECRET_KEY);
    assert_string_equal(fx->fake.path, "/v1/chat/completions");
    assert_non_null(strstr(fx->fake.last_body, "\"model\":\"test-model\""));
    assert_non_null(strstr(fx->fake.last_body, "\"temperature\":"));
    assert_non_null(strstr(fx->fake.last_body, "\"role\":\"system\""));
    assert_non_null(strstr(fx->fake.last_body, "每月繳費日期是什麼時候？"));
    assert_int_equal(fx->fake.classify_calls, 1);
    assert_int_equal(fx->fake.polish_calls, 1);
    pthread_mutex_unlock(&fx->fake.mu);

    /* vendor 2's values are the ones that must survive for vendor 2 */
    chat(fx, 2, "每月繳費日期是什麼時候？", NULL, &r);
    assert_non_null(strstr(answer_of(&r), "5 號"));
    assert_non_null(strstr(answer_of(&r), "300 元"));
    assert_non_null(strstr(answer_of(&r), "祝您生活愉快"));
    bt_test_resp_release(&r);
}

static void test_polish_rejected_when_value_dropped(void **state)
{
    struct fixture *fx = *state;
    struct bt_test_resp r = {0};

    atomic_store(&fx->fake.mode, FAKE_DROP);
    chat(fx, 1, "每月繳費日期是什麼時候？", NULL, &r);
    assert_string_equal(answer_of(&r), TEMPLATE_V1);
    bt_assert_subset(r.json, "{\"llm_optimization\":{\"optimization_applied\":false,"
                             "\"tokens_used\":80,\"vendor_params_injected\":true}}");

    atomic_store(&fx->fake.mode, FAKE_ALTER);
    chat(fx, 1, "每月繳費日期是什麼時候？", NULL, &r);
    assert_string_equal(answer_of(&r), TEMPLATE_V1);
    bt_assert_subset(r.json, "{\"llm_optimization\":{\"optimization_applied\":false}}");
    bt_test_resp_release(&r);
}

/* disable_answer_synthesis: no rewrite is even asked for */
static void test_polish_disabled_by_request(void **state)
{
    struct fixture *fx = *state;
    struct bt_test_resp r = {0};

    chat(fx, 1, "每月繳費日期是什麼時候？", "\"disable_answer_synthesis\":true", &r);
    assert_string_equal(answer_of(&r), TEMPLATE_V1);
    bt_assert_subset(r.json, "{\"llm_optimization\":{\"optimization_applied\":false,"
                             "\"tokens_used\":30}}");
    pthread_mutex_lock(&fx->fake.mu);
    assert_int_equal(fx->fake.polish_calls, 0);
    pthread_mutex_unlock(&fx->fake.mu);
    bt_test_resp_release(&r);
}

/* fallback texts are exact: never sent for polishing */
static void test_fallbacks_not_polished(void **state)
{
    struct fixture *fx = *state;
    struct bt_test_resp r = {0};

    chat(fx, 1, "今天天氣如何", NULL, &r);
    assert_string_equal(answer_of(&r), "抱歉，我不太理解您的問題。請您換個方式描述，或撥打客服專線 "
                                       "02-2345-6789 尋求協助。");
    bt_assert_subset(r.json, "{\"llm_optimization\":{\"optimization_applied\":false}}");
    pthread_mutex_lock(&fx->fake.mu);
    assert_int_equal(fx->fake.polish_calls, 0);
    pthread_mutex_unlock(&fx->fake.mu);
    bt_test_resp_release(&r);
}

/* ---- classification ---- */

static void test_provider_classification_used(void **state)
{
    struct fixture *fx = *state;
    struct bt_test_resp r = {0};

    atomic_store(&fx->fake.mode, FAKE_CLASSIFY);
    fx->fake.intent = "服務說明";
    chat(fx, 1, "押金是多少", NULL, &r);
    /* the provider's choice, its confidence, only known secondary names */
    bt_assert_subset(r.json, "{\"intent_name\":\"服務說明\",\"intent_type\":\"knowledge\","
                             "\"confidence\":0.88,\"all_intents\":[\"服務說明\",\"帳務查詢\"],"
                             "\"secondary_intents\":[\"帳務查詢\"]}");
    assert_int_equal(json_array_size(json_object_get(r.json, "intent_ids")), 2);
    /* retrieval is still text-gated: the deposit row answers */
    assert_non_null(strstr(answer_of(&r), "2 月"));

    /* an intent the snapshot does not have: the built-in classifier decides */
    fx->fake.intent = "外星人";
    chat(fx, 1, "押金是多少", NULL, &r);
    bt_assert_subset(r.json, "{\"intent_name\":\"合約規定\"}");

    /* "unclear" from the provider is respected */
    fx->fake.intent = "unclear";
    chat(fx, 1, "我想預約看房", NULL, &r);
    bt_assert_subset(r.json, "{\"intent_name\":\"unclear\",\"intent_type\":null}");
    bt_test_resp_release(&r);
}

/* ---- failures never fail the message ---- */

static void check_silent_fallback(struct fixture *fx, int mode)
{
    struct bt_test_resp r = {0};

    atomic_store(&fx->fake.mode, mode);
    chat(fx, 2, "每月繳費日期是什麼時候？", NULL, &r);
    assert_non_null(strstr(answer_of(&r), "5 號"));
    assert_non_null(strstr(answer_of(&r), "300 元"));
    bt_assert_subset(r.json, "{\"intent_name\":\"帳務查詢\",\"llm_optimization\":{"
                             "\"optimization_applied\":false,\"vendor_params_injected\":true}}");
    chat(fx, 1, "我想預約看房", NULL, &r);
    bt_assert_subset(r.json, "{\"intent_name\":\"預約看房\"}");
    bt_test_resp_release(&r);
}

static void test_provider_500(void **state)
{
    struct fixture *fx = *state;

    check_silent_fallback(fx, FAKE_ERROR);
    assert_true(bt_test_upstream_hits(fx->up) >= 2);
}

static void test_provider_garbage(void **state)
{
    check_silent_fallback(*state, FAKE_GARBAGE);
    check_silent_fallback(*state, FAKE_NO_CONTENT);
}

static void test_provider_timeout(void **state)
{
    struct fixture *fx = *state;
    uint64_t t0 = bt_mono_ns();

    check_silent_fallback(fx, FAKE_SLOW);
    /* four calls at 300 ms each at most, far below the fake's patience */
    assert_true(bt_mono_ns() - t0 < 4500000000ull);
}

static void test_provider_unreachable(void **state)
{
    struct bt_test_resp r = {0};
    struct bt_test_app *app;
    const char *settings[] = {"llm_url=http://127.0.0.1:1/v1", "llm_key=" SECRET_KEY, NULL};

    (void)state;
    app = bt_test_app_new(&bt_app_vendorchat, settings);
    bt_test_request(app, "POST", "/chat/v1/message", NULL,
                    "{\"message\":\"每月繳費日期是什麼時候？\",\"vendor_id\":1}", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(answer_of(&r), TEMPLATE_V1);
    bt_assert_subset(r.json, "{\"llm_optimization\":{\"optimization_applied\":false,"
                             "\"tokens_used\":0}}");
    bt_test_resp_release(&r);
    bt_test_app_free(app);
}

/* the key is a secret: the warnings a failing provider causes must not carry it */
static void test_key_never_logged(void **state)
{
    struct fixture *fx = *state;
    struct bt_test_resp r = {0};
    char path[] = "/tmp/vendorchat-llm-log-XXXXXX";
    int fd = mkstemp(path);
    char buf[65536];
    ssize_t n;

    assert_true(fd >= 0);
    unlink(path);
    bt_log_setup(BT_LOG_DEBUG, fd);
    atomic_store(&fx->fake.mode, FAKE_ERROR);
    chat(fx, 1, "每月繳費日期是什麼時候？", NULL, &r);
    atomic_store(&fx->fake.mode, FAKE_DROP);
    chat(fx, 1, "每月繳費日期是什麼時候？", NULL, &r);
    bt_log_setup(BT_LOG_INFO, 2);
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "llm provider failed"));
    assert_null(strstr(buf, SECRET_KEY));
    assert_null(strstr(buf, "每月繳費日期")); /* nor the tenant's message */
    bt_test_resp_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_polish_kept_when_values_preserved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_polish_rejected_when_value_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_polish_disabled_by_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fallbacks_not_polished, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_classification_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_timeout, setup_short_timeout, teardown),
        cmocka_unit_test(test_provider_unreachable),
        cmocka_unit_test_setup_teardown(test_key_never_logged, setup, teardown),
    };

    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
