/* SPDX-License-Identifier: MIT
 * test_edge_bb.c - browsers and proxies against the real binary (issue 6 section 2): a
 * browser-shaped preflight (Origin + Access-Control-Request-Method + -Headers) for a listed
 * origin, an unlisted one and "*", OPTIONS on an unknown path, CORS headers on actual and
 * error responses (404, 429); X-Forwarded-For believed only from a trusted peer
 * (BENTO_TRUSTED_PROXIES=127.0.0.1 vs unset), seen in the access log's client field and in
 * the rate-limit bucket; start-up refused for a bad cors_origins, public_url or
 * BENTO_TRUSTED_PROXIES. Uses vendorchat (envelope {"detail": ...}). The "*" rule on cookie
 * routes is tested at the handler tier (tests/handler/test_edge_http.c): no route of the
 * current services authenticates with cookies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

#define ALLOWED "https://app.example.test"

static int setup(void **state)
{
    static const char *const args[] = {"--set", "vendorchat.cors_origins=" ALLOWED ", *", "--set",
                                       "vendorchat.rate_limit=3/60", NULL};
    *state = bt_test_proc_start("vendorchat", args, NULL);
    return 0;
}

static int setup_trusted(void **state)
{
    static const char *const args[] = {"--set", "vendorchat.rate_limit=1/60", NULL};
    static const char *const env[] = {"BENTO_TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1", NULL};
    *state = bt_test_proc_start("vendorchat", args, env);
    return 0;
}

static int setup_untrusted(void **state)
{
    static const char *const args[] = {"--set", "vendorchat.rate_limit=1/60", NULL};
    *state = bt_test_proc_start("vendorchat", args, NULL);
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(bt_test_proc_stop(*state), 0);
    return 0;
}

#define H(r, name) bt_test_resp_header((r), (name))

static void test_preflight_listed_origin(void **state)
{
    struct bt_test_resp r = {0};
    const char *const h[] = {"Origin: " ALLOWED, "Access-Control-Request-Method: POST",
                             "Access-Control-Request-Headers: content-type,x-request-id", NULL};

    bt_test_http(*state, "vendorchat", "OPTIONS", "/api/v1/vendors", h, NULL, 0, &r);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.len, 0);
    assert_string_equal(H(&r, "allow"), "GET, POST, OPTIONS");
    assert_string_equal(H(&r, "access-control-allow-origin"), ALLOWED);
    assert_string_equal(H(&r, "access-control-allow-credentials"), "true");
    assert_string_equal(H(&r, "access-control-allow-methods"), "GET, POST");
    assert_string_equal(H(&r, "access-control-allow-headers"), "Content-Type, X-Request-Id");
    assert_string_equal(H(&r, "access-control-max-age"), "600");
    assert_string_equal(H(&r, "vary"), "Origin");
    assert_null(H(&r, "x-ratelimit-limit")); /* preflights are not counted */
    /* the request the browser then sends */
    {
        const char *const post[] = {"Origin: " ALLOWED, NULL};
        static const char body[] = "{\"name\":\"edge vendor\",\"code\":\"EDGE_1\"}";
        bt_test_http(*state, "vendorchat", "POST", "/api/v1/vendors", post, body, strlen(body), &r);
        assert_int_equal(r.status, 201);
        assert_string_equal(H(&r, "access-control-allow-origin"), ALLOWED);
        assert_string_equal(H(&r, "access-control-allow-credentials"), "true");
        assert_non_null(strstr(H(&r, "access-control-expose-headers"), "X-Request-Id"));
        assert_string_equal(H(&r, "x-ratelimit-remaining"), "2");
    }
    bt_test_resp_release(&r);
}

static void test_preflight_unlisted_origin(void **state)
{
    struct bt_test_resp r = {0};
    /* the wildcard of this service has no cookie routes to protect, so an unlisted origin
     * gets "*", never credentials */
    const char *const h[] = {"Origin: https://elsewhere.example.org",
                             "Access-Control-Request-Method: GET", NULL};

    bt_test_http(*state, "vendorchat", "OPTIONS", "/api/v1/vendors/1", h, NULL, 0, &r);
    assert_int_equal(r.status, 204);
    assert_string_equal(H(&r, "access-control-allow-origin"), "*");
    assert_null(H(&r, "access-control-allow-credentials"));
    assert_string_equal(H(&r, "access-control-allow-methods"), "GET, PUT, DELETE");
    bt_test_resp_release(&r);
}

static void test_preflight_disallowed_origin(void **state)
{
    struct bt_test_resp r = {0};
    static const char *const args[] = {"--set", "vendorchat.cors_origins=" ALLOWED, NULL};
    struct bt_test_proc *p = bt_test_proc_start("vendorchat", args, NULL);
    const char *const h[] = {"Origin: https://evil.example.net",
                             "Access-Control-Request-Method: POST",
                             "Access-Control-Request-Headers: content-type", NULL};
    (void)state;

    bt_test_http(p, "vendorchat", "OPTIONS", "/api/v1/vendors", h, NULL, 0, &r);
    assert_int_equal(r.status, 204);
    assert_string_equal(H(&r, "allow"), "GET, POST, OPTIONS");
    assert_null(H(&r, "access-control-allow-origin"));
    assert_null(H(&r, "access-control-allow-methods"));
    assert_null(H(&r, "access-control-allow-headers"));
    assert_null(H(&r, "access-control-allow-credentials"));
    bt_test_http(p, "vendorchat", "GET", "/api/v1/vendors", h, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_null(H(&r, "access-control-allow-origin"));
    assert_int_equal(bt_test_proc_stop(p), 0);
    bt_test_resp_release(&r);
}

static void test_options_unknown_path(void **state)
{
    struct bt_test_resp r = {0};
    const char *const h[] = {"Origin: " ALLOWED, "Access-Control-Request-Method: GET", NULL};

    bt_test_http(*state, "vendorchat", "OPTIONS", "/no/such/path", h, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    bt_assert_subset(r.json, "{\"detail\":\"Not Found\"}");
    assert_string_equal(H(&r, "access-control-allow-origin"), ALLOWED);
    bt_test_resp_release(&r);
}

static void test_errors_readable_by_browser(void **state)
{
    struct bt_test_resp r = {0};
    const char *const h[] = {"Origin: " ALLOWED, NULL};

    bt_test_http(*state, "vendorchat", "GET", "/api/v1/vendors/999999", h, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(H(&r, "access-control-allow-origin"), ALLOWED);
    /* the limit is 3 a minute: the 429 carries the CORS headers and exposes Retry-After */
    for (int i = 0; i < 2; i++)
        bt_test_http(*state, "vendorchat", "GET", "/api/v1/vendors", h, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_test_http(*state, "vendorchat", "GET", "/api/v1/vendors", h, NULL, 0, &r);
    assert_int_equal(r.status, 429);
    assert_non_null(H(&r, "retry-after"));
    assert_string_equal(H(&r, "access-control-allow-origin"), ALLOWED);
    assert_string_equal(H(&r, "access-control-allow-credentials"), "true");
    assert_non_null(strstr(H(&r, "access-control-expose-headers"), "Retry-After"));
    /* and a preflight still passes while the client is limited */
    {
        const char *const pre[] = {"Origin: " ALLOWED, "Access-Control-Request-Method: GET", NULL};
        bt_test_http(*state, "vendorchat", "OPTIONS", "/api/v1/vendors", pre, NULL, 0, &r);
        assert_int_equal(r.status, 204);
    }
    bt_test_resp_release(&r);
}

static void get_as(struct bt_test_proc *p, const char *xff, struct bt_test_resp *r)
{
    char h[128];
    const char *const hs[] = {h, NULL};
    snprintf(h, sizeof(h), "X-Forwarded-For: %s", xff);
    bt_test_http(p, "vendorchat", "GET", "/api/v1/vendors", hs, NULL, 0, r);
}

static void test_forwarded_for_trusted(void **state)
{
    struct bt_test_resp r = {0};
    char *log;

    /* the peer (127.0.0.1) is trusted: each forwarded client has its own bucket */
    get_as(*state, "198.51.100.4, 203.0.113.7", &r);
    assert_int_equal(r.status, 200);
    get_as(*state, "203.0.113.8", &r);
    assert_int_equal(r.status, 200);
    get_as(*state, "203.0.113.7, 10.1.2.3", &r); /* 10.1.2.3 is a trusted hop */
    assert_int_equal(r.status, 429);
    /* a malformed header from the trusted peer: the peer's own bucket, answered normally */
    get_as(*state, "not-an-address", &r);
    assert_int_equal(r.status, 200);
    log = bt_test_proc_log(*state);
    assert_non_null(strstr(log, "\"status\":200,"));
    assert_non_null(strstr(log, "\"client\":\"203.0.113.7\""));
    assert_non_null(strstr(log, "\"client\":\"203.0.113.8\""));
    assert_non_null(strstr(log, "\"client\":\"127.0.0.1\""));
    assert_null(strstr(log, "198.51.100.4")); /* left of the client: not believed */
    assert_null(strstr(log, "\"client\":\"10.1.2.3\""));
    free(log);
    bt_test_resp_release(&r);
}

static void test_forwarded_for_untrusted(void **state)
{
    struct bt_test_resp r = {0};
    char *log;

    /* no trusted proxies: the header is ignored, both requests are the peer's */
    get_as(*state, "203.0.113.7", &r);
    assert_int_equal(r.status, 200);
    get_as(*state, "203.0.113.8", &r);
    assert_int_equal(r.status, 429);
    log = bt_test_proc_log(*state);
    assert_non_null(strstr(log, "\"client\":\"127.0.0.1\""));
    assert_null(strstr(log, "203.0.113."));
    free(log);
    bt_test_resp_release(&r);
}

static void refused(const char *const *args, const char *const *env, const char *words)
{
    char *log = NULL;
    int rc = bt_test_proc_run_fail("vendorchat", args, env, &log);

    assert_int_not_equal(rc, 0);
    if (!strstr(log, words))
        fail_msg("the refusal does not say \"%s\":\n%s", words, log);
    free(log);
}

static void test_bad_settings_refused(void **state)
{
    (void)state;
    refused(
        (const char *const[]){"--set", "vendorchat.cors_origins=https://app.example.test/", NULL},
        NULL, "vendorchat.cors_origins: \\\"https://app.example.test/\\\" is not an origin");
    refused((const char *const[]){"--set", "vendorchat.cors_origins=*,app.example.test", NULL},
            NULL, "scheme://host[:port]");
    refused(NULL, (const char *const[]){"BENTO_VENDORCHAT_PUBLIC_URL=localhost:8100", NULL},
            "vendorchat.public_url");
    refused(NULL, (const char *const[]){"BENTO_TRUSTED_PROXIES=10.0.0.0/8, proxy.local", NULL},
            "BENTO_TRUSTED_PROXIES: \"proxy.local\" is not an IP address or CIDR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_preflight_listed_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preflight_unlisted_origin, setup, teardown),
        cmocka_unit_test(test_preflight_disallowed_origin),
        cmocka_unit_test_setup_teardown(test_options_unknown_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_readable_by_browser, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forwarded_for_trusted, setup_trusted, teardown),
        cmocka_unit_test_setup_teardown(test_forwarded_for_untrusted, setup_untrusted, teardown),
        cmocka_unit_test(test_bad_settings_refused),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
