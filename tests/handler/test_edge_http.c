/* SPDX-License-Identifier: MIT
 * test_edge_http.c - the core's browser and proxy edge, handler tier (issue 6 section 2), on a
 * small app of its own so that every rule has a route to show it: CORS on actual responses
 * and on errors (401, 404, 429), preflights (204, methods, headers, max-age; not rate limited,
 * not authenticated; unknown path = the app's 404), the "*" rule on a BT_R_COOKIES route (no
 * current service authenticates with cookies), start-up validation of S.cors_origins and
 * S.public_url, bt_req_base_url, and BENTO_TRUSTED_PROXIES (X-Forwarded-For / -Proto).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

#define ALLOWED "https://app.example.test"
#define OTHER "https://other.example.test"

static int h_list(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    (void)rq;
    (void)err;
    return bt_res_json(rs, 200, json_pack("{s:[]}", "items"));
}

static int h_create(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    (void)rq;
    (void)err;
    return bt_res_json(rs, 201, json_pack("{s:i}", "id", 1));
}

static int h_session(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    (void)rq;
    (void)err;
    return bt_res_json(rs, 200, json_pack("{s:b}", "authenticated", 0));
}

/* what the core tells a handler about where and who */
static int h_whoami(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    (void)err;
    return bt_res_json(rs, 200,
                       json_pack("{s:s,s:s,s:s,s:s}", "base_url", bt_req_base_url(rq), "client",
                                 rq->client_ip, "peer", rq->peer_ip, "scheme", rq->scheme));
}

static int edge_authenticate(struct bt_req *rq, struct bt_err *err)
{
    const char *a = bt_req_header(rq, "authorization");
    if (a && !strcmp(a, "Bearer ok"))
        return BT_OK;
    return bt_fail(err, BT_EAUTH, NULL, NULL);
}

static void edge_render_error(struct bt_req *rq, struct bt_res *rs, const struct bt_err *err)
{
    (void)rq;
    bt_res_json(rs, bt_err_http(err), json_pack("{s:i}", "error", bt_err_http(err)));
}

static const struct bt_route edge_routes[] = {
    {.method = BT_GET, .path = "/items", .handler = h_list, .access = BT_PUBLIC},
    {.method = BT_POST, .path = "/items", .handler = h_create, .access = BT_AUTH},
    {.method = BT_GET,
     .path = "/session",
     .handler = h_session,
     .access = BT_PUBLIC,
     .flags = BT_R_COOKIES},
    {.method = BT_GET, .path = "/whoami", .handler = h_whoami, .access = BT_PUBLIC},
    BT_ROUTE_END,
};

static const struct bt_app edge_app = {
    .name = "edgedemo",
    .title = "edge test app",
    .version = "1",
    .mount = "",
    .default_port = 8999,
    .routes = edge_routes,
    .render_error = edge_render_error,
    .authenticate = edge_authenticate,
};

static const char *const cors_settings[] = {"cors_origins=" ALLOWED ", *", "rate_limit=2/60", NULL};

static int setup(void **state)
{
    *state = bt_test_app_new(&edge_app, cors_settings);
    return 0;
}

static int setup_plain(void **state)
{
    *state = bt_test_app_new(&edge_app, NULL);
    return 0;
}

static int teardown(void **state)
{
    bt_test_app_free(*state);
    unsetenv("BENTO_TRUSTED_PROXIES");
    return 0;
}

#define H(r, name) bt_test_resp_header((r), (name))

static void test_preflight_allowed_origin(void **state)
{
    struct bt_test_resp r = {0};
    const char *const h[] = {"Origin: " ALLOWED, "Access-Control-Request-Method: POST",
                             "Access-Control-Request-Headers: content-type,authorization,x-evil",
                             NULL};

    bt_test_request(*state, "OPTIONS", "/items", h, NULL, &r);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.len, 0);
    assert_string_equal(H(&r, "allow"), "GET, POST, OPTIONS");
    assert_string_equal(H(&r, "access-control-allow-methods"), "GET, POST");
    assert_string_equal(H(&r, "access-control-allow-origin"), ALLOWED);
    assert_string_equal(H(&r, "access-control-allow-credentials"), "true");
    assert_string_equal(H(&r, "access-control-allow-headers"), "Content-Type, Authorization");
    assert_string_equal(H(&r, "access-control-max-age"), "600");
    assert_string_equal(H(&r, "vary"), "Origin");
    /* neither rate limited nor authenticated */
    assert_null(H(&r, "x-ratelimit-limit"));
    bt_test_resp_release(&r);
}

static void test_preflight_not_limited(void **state)
{
    struct bt_test_resp r = {0};
    const char *const pre[] = {"Origin: " ALLOWED, "Access-Control-Request-Method: GET", NULL};
    const char *const get[] = {"Origin: " ALLOWED, NULL};

    /* the limit is 2 per minute: five preflights leave it untouched */
    for (int i = 0; i < 5; i++) {
        bt_test_request(*state, "OPTIONS", "/items", pre, NULL, &r);
        assert_int_equal(r.status, 204);
    }
    bt_test_request(*state, "GET", "/items", get, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(H(&r, "x-ratelimit-remaining"), "1");
    assert_string_equal(H(&r, "access-control-allow-origin"), ALLOWED);
    assert_non_null(strstr(H(&r, "access-control-expose-headers"), "X-RateLimit-Remaining"));
    bt_test_request(*state, "GET", "/items", get, NULL, &r);
    assert_int_equal(r.status, 200);
    /* the 429 carries the CORS headers, so the browser app can read it and Retry-After */
    bt_test_request(*state, "GET", "/items", get, NULL, &r);
    assert_int_equal(r.status, 429);
    bt_assert_subset(r.json, "{\"error\":429}");
    assert_string_equal(H(&r, "access-control-allow-origin"), ALLOWED);
    assert_string_equal(H(&r, "access-control-allow-credentials"), "true");
    assert_non_null(strstr(H(&r, "access-control-expose-headers"), "Retry-After"));
    assert_non_null(H(&r, "retry-after"));
    bt_test_resp_release(&r);
}

static void test_errors_carry_cors(void **state)
{
    struct bt_test_resp r = {0};
    const char *const h[] = {"Origin: " ALLOWED, NULL};
    const char *const pre[] = {"Origin: " ALLOWED, "Access-Control-Request-Method: POST",
                               "Access-Control-Request-Headers: authorization", NULL};

    /* the preflight of an authenticated route is answered without credentials */
    bt_test_request(*state, "OPTIONS", "/items", pre, NULL, &r);
    assert_int_equal(r.status, 204);
    /* the request itself without a token: 401, readable by the browser app */
    bt_test_request(*state, "POST", "/items", h, "{}", &r);
    assert_int_equal(r.status, 401);
    bt_assert_subset(r.json, "{\"error\":401}");
    assert_string_equal(H(&r, "access-control-allow-origin"), ALLOWED);
    /* 404 and 405 too */
    bt_test_request(*state, "GET", "/nope", h, NULL, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(H(&r, "access-control-allow-origin"), ALLOWED);
    bt_test_request(*state, "DELETE", "/items", h, NULL, &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(H(&r, "allow"), "GET, POST");
    assert_string_equal(H(&r, "access-control-allow-origin"), ALLOWED);
    bt_test_resp_release(&r);
}

static void test_preflight_disallowed_origin(void **state)
{
    struct bt_test_resp r = {0};
    const char *const h[] = {"Origin: https://evil.example.net",
                             "Access-Control-Request-Method: GET", NULL};
    struct bt_test_app *t =
        bt_test_app_new(&edge_app, (const char *const[]){"cors_origins=" ALLOWED, NULL});

    bt_test_request(t, "OPTIONS", "/items", h, NULL, &r);
    assert_int_equal(r.status, 204);
    assert_string_equal(H(&r, "allow"), "GET, POST, OPTIONS");
    assert_null(H(&r, "access-control-allow-origin"));
    assert_null(H(&r, "access-control-allow-methods"));
    assert_null(H(&r, "access-control-allow-credentials"));
    assert_null(H(&r, "access-control-max-age"));
    bt_test_request(t, "GET", "/items", h, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_null(H(&r, "access-control-allow-origin"));
    assert_string_equal(H(&r, "vary"), "Origin");
    bt_test_app_free(t);
    bt_test_resp_release(&r);
}

static void test_wildcard_and_cookie_route(void **state)
{
    struct bt_test_resp r = {0};
    const char *const pre[] = {"Origin: " OTHER, "Access-Control-Request-Method: GET", NULL};
    const char *const get[] = {"Origin: " OTHER, NULL};
    const char *const mine[] = {"Origin: " ALLOWED, NULL};

    /* "*": any origin on a route without cookies, never with credentials */
    bt_test_request(*state, "OPTIONS", "/items", pre, NULL, &r);
    assert_int_equal(r.status, 204);
    assert_string_equal(H(&r, "access-control-allow-origin"), "*");
    assert_null(H(&r, "access-control-allow-credentials"));
    assert_string_equal(H(&r, "access-control-allow-methods"), "GET, POST");
    bt_test_request(*state, "GET", "/items", get, NULL, &r);
    assert_string_equal(H(&r, "access-control-allow-origin"), "*");
    assert_null(H(&r, "access-control-allow-credentials"));
    /* a cookie route: "*" gives nothing, preflight or not */
    bt_test_request(*state, "OPTIONS", "/session", pre, NULL, &r);
    assert_int_equal(r.status, 204);
    assert_string_equal(H(&r, "allow"), "GET, OPTIONS");
    assert_null(H(&r, "access-control-allow-origin"));
    assert_null(H(&r, "access-control-allow-methods"));
    bt_test_request(*state, "GET", "/session", get, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_null(H(&r, "access-control-allow-origin"));
    /* ... only a listed origin does */
    bt_test_request(*state, "GET", "/session", mine, NULL, &r);
    assert_string_equal(H(&r, "access-control-allow-origin"), ALLOWED);
    assert_string_equal(H(&r, "access-control-allow-credentials"), "true");
    bt_test_resp_release(&r);
}

static void test_options_unknown_path_and_plain(void **state)
{
    struct bt_test_resp r = {0};
    const char *const pre[] = {"Origin: " ALLOWED, "Access-Control-Request-Method: GET", NULL};

    /* a preflight for a path that does not exist: the app's 404 */
    bt_test_request(*state, "OPTIONS", "/no/such/path", pre, NULL, &r);
    assert_int_equal(r.status, 404);
    bt_assert_subset(r.json, "{\"error\":404}");
    /* OPTIONS without Origin: the methods, no CORS headers */
    bt_test_request(*state, "OPTIONS", "/whoami", NULL, NULL, &r);
    assert_int_equal(r.status, 204);
    assert_string_equal(H(&r, "allow"), "GET, OPTIONS");
    assert_null(H(&r, "access-control-allow-origin"));
    assert_null(H(&r, "access-control-allow-methods"));
    bt_test_resp_release(&r);
}

static void test_no_cors_setting(void **state)
{
    struct bt_test_resp r = {0};
    const char *const pre[] = {"Origin: " ALLOWED, "Access-Control-Request-Method: GET", NULL};

    bt_test_request(*state, "OPTIONS", "/items", pre, NULL, &r);
    assert_int_equal(r.status, 204);
    assert_string_equal(H(&r, "allow"), "GET, POST, OPTIONS");
    for (size_t i = 0; i < r.nheaders; i++)
        if (!strncmp(r.headers[i].name, "access-control-", 15) ||
            !strcmp(r.headers[i].name, "vary"))
            fail_msg("unexpected header %s", r.headers[i].name);
    bt_test_request(*state, "GET", "/items", pre, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_null(H(&r, "access-control-allow-origin"));
    bt_test_resp_release(&r);
}

/* bt_app_ctx_new with one setting; returns its status, err filled */
static int start_with(const char *kv, struct bt_err *err)
{
    struct bt_config cfg;
    struct bt_app_ctx *ctx = NULL;
    const char *why = NULL;
    int rc;

    assert_int_equal(bt_config_defaults(&cfg, &why), 0);
    assert_int_equal(bt_config_add_setting(&cfg, kv), 0);
    bt_err_clear(err);
    rc = bt_app_ctx_new(&edge_app, &cfg, NULL, &ctx, err);
    bt_app_ctx_free(ctx);
    bt_config_release(&cfg);
    return rc;
}

static void test_settings_validated(void **state)
{
    struct bt_err err;
    static const char *const bad_cors[] = {
        "edgedemo.cors_origins=https://app.example.test/",
        "edgedemo.cors_origins=app.example.test",
        "edgedemo.cors_origins=https://a.example.test,https://b.example.test/x",
    };
    static const char *const bad_url[] = {
        "edgedemo.public_url=api.example.test",
        "edgedemo.public_url=ftp://api.example.test",
        "edgedemo.public_url=https://",
        "edgedemo.public_url=https://api.example.test?x=1",
        "edgedemo.public_url=https://user@api.example.test",
        "edgedemo.public_url=https://api.example.test:99999",
        "edgedemo.public_url=https://api example.test",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad_cors) / sizeof(bad_cors[0]); i++) {
        assert_int_equal(start_with(bad_cors[i], &err), BT_EINVAL);
        assert_non_null(strstr(err.msg, "edgedemo.cors_origins"));
        assert_non_null(strstr(err.msg, "scheme://host[:port]"));
    }
    for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++) {
        assert_int_equal(start_with(bad_url[i], &err), BT_EINVAL);
        assert_non_null(strstr(err.msg, "edgedemo.public_url"));
    }
    assert_int_equal(start_with("edgedemo.public_url=https://api.example.test/prefix/", &err),
                     BT_OK);
    assert_int_equal(start_with("edgedemo.public_url=http://[2001:db8::1]:8080", &err), BT_OK);
    assert_int_equal(start_with("edgedemo.cors_origins=*", &err), BT_OK);
}

static void test_base_url(void **state)
{
    struct bt_test_resp r = {0};
    struct bt_test_app *t;
    (void)state;

    /* no public_url: the listener's address (the harness plays 127.0.0.1 on the app's port) */
    t = bt_test_app_new(&edge_app, NULL);
    bt_test_request(t, "GET", "/whoami", (const char *const[]){"Host: evil.example.net", NULL},
                    NULL, &r);
    bt_assert_subset(r.json, "{\"base_url\":\"http://127.0.0.1:8999\",\"scheme\":\"http\"}");
    /* X-Forwarded-Proto from a peer nobody trusts changes nothing */
    bt_test_request(
        t, "GET", "/whoami",
        (const char *const[]){"X-Forwarded-Proto: https", "X-Forwarded-For: 1.2.3.4", NULL}, NULL,
        &r);
    bt_assert_subset(r.json, "{\"base_url\":\"http://127.0.0.1:8999\",\"client\":\"127.0.0.1\"}");
    bt_test_app_free(t);

    /* public_url wins, trailing slashes dropped, a path prefix kept */
    t = bt_test_app_new(&edge_app,
                        (const char *const[]){"public_url=https://api.example.test/b//", NULL});
    bt_test_request(t, "GET", "/whoami", NULL, NULL, &r);
    bt_assert_subset(r.json, "{\"base_url\":\"https://api.example.test/b\"}");
    bt_test_app_free(t);
    bt_test_resp_release(&r);
}

static void test_trusted_proxy(void **state)
{
    struct bt_test_resp r = {0};
    struct bt_test_app *t;
    const char *const fwd[] = {"X-Forwarded-For: 198.51.100.1, 203.0.113.9",
                               "X-Forwarded-Proto: https", NULL};
    (void)state;

    setenv("BENTO_TRUSTED_PROXIES", "127.0.0.1, ::1", 1);
    t = bt_test_app_new(&edge_app, (const char *const[]){"rate_limit=1/60", NULL});
    bt_test_request(t, "GET", "/whoami", fwd, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"client\":\"203.0.113.9\",\"peer\":\"127.0.0.1\","
                             "\"scheme\":\"https\",\"base_url\":\"https://127.0.0.1:8999\"}");
    /* the rate limit is per real client: another client behind the same proxy passes ... */
    bt_test_request(t, "GET", "/whoami",
                    (const char *const[]){"X-Forwarded-For: 203.0.113.10", NULL}, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"client\":\"203.0.113.10\",\"scheme\":\"http\"}");
    /* ... and the first one, again, does not */
    bt_test_request(t, "GET", "/whoami", fwd, NULL, &r);
    assert_int_equal(r.status, 429);
    /* a malformed header from the trusted peer: the peer's own bucket, never a failure */
    bt_test_request(t, "GET", "/whoami", (const char *const[]){"X-Forwarded-For: ???", NULL}, NULL,
                    &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"client\":\"127.0.0.1\"}");
    bt_test_app_free(t);
    bt_test_resp_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_preflight_allowed_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preflight_not_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_carry_cors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preflight_disallowed_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wildcard_and_cookie_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_options_unknown_path_and_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_cors_setting, setup_plain, teardown),
        cmocka_unit_test(test_settings_validated),
        cmocka_unit_test_setup_teardown(test_base_url, NULL, teardown),
        cmocka_unit_test_setup_teardown(test_trusted_proxy, NULL, teardown),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
