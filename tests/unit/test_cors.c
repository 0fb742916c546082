/* SPDX-License-Identifier: MIT
 * test_cors.c - the CORS allow-list (include/bento/cors.h, issue 6 section 2 "CORS"): origins
 * validated at start-up, listed origins echoed with credentials, "*" without credentials and
 * never on cookie routes, Vary: Origin, preflight headers (methods, acceptable request
 * headers, max-age).
 */
#include <string.h>

#include "bt_test.h"

struct fixture {
    struct bt_arena *a;
    struct bt_res rs;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    f.a = bt_arena_new();
    f.rs.arena = f.a;
    f.rs.file_fd = -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    bt_arena_free(f->a);
    return 0;
}

static const char *hdr(const struct bt_res *rs, const char *name)
{
    for (size_t i = 0; i < rs->nheaders; i++)
        if (!strcasecmp(rs->headers[i].name, name))
            return rs->headers[i].value;
    return NULL;
}

static struct bt_cors *cors(const char *list)
{
    struct bt_cors *c = NULL;
    char why[300];
    if (bt_cors_new(list, &c, why, sizeof(why)))
        fail_msg("cors list refused: %s", why);
    return c;
}

static void refused(const char *list, const char *item)
{
    struct bt_cors *c = NULL;
    char why[300] = "";
    assert_int_equal(bt_cors_new(list, &c, why, sizeof(why)), -1);
    assert_null(c);
    if (!strstr(why, item))
        fail_msg("message \"%s\" does not name \"%s\"", why, item);
}

static void test_validation(void **state)
{
    struct bt_cors *c = NULL;
    char why[300];
    (void)state;

    /* empty = no CORS at all */
    assert_int_equal(bt_cors_new(NULL, &c, why, sizeof(why)), 0);
    assert_null(c);
    assert_int_equal(bt_cors_new("", &c, why, sizeof(why)), 0);
    assert_null(c);
    assert_int_equal(bt_cors_new(" , ", &c, why, sizeof(why)), 0);
    assert_null(c);
    /* good lists */
    bt_cors_free(cors("https://app.example.com"));
    bt_cors_free(cors("https://app.example.com:8443, http://localhost:5173 ,*"));
    bt_cors_free(cors("http://[::1]:3000,http://127.0.0.1:8080"));
    /* not origins */
    refused("https://app.example.com/", "https://app.example.com/");
    refused("https://app.example.com/path", "/path");
    refused("app.example.com", "app.example.com");
    refused("https://", "https://");
    refused("https://user@app.example.com", "user@");
    refused("https://app.example.com:0", ":0");
    refused("https://app.example.com:65536", ":65536");
    refused("https://app.example.com:", "app.example.com:");
    refused("https://app.example.com?x=1", "?x=1");
    refused("https://a.example.com, null", "null");
    refused("https://ａｐｐ.example.com", "example.com");
    refused("https://[zz]:80", "[zz]");
    refused("**", "**");
}

static void test_listed_origin(void **state)
{
    struct fixture *f = *state;
    struct bt_cors *c = cors("https://app.example.com, http://localhost:5173");

    bt_cors_headers(c, "https://app.example.com", false, &f->rs);
    assert_string_equal(hdr(&f->rs, "access-control-allow-origin"), "https://app.example.com");
    assert_string_equal(hdr(&f->rs, "access-control-allow-credentials"), "true");
    assert_string_equal(hdr(&f->rs, "vary"), "Origin");
    assert_non_null(strstr(hdr(&f->rs, "access-control-expose-headers"), "X-Request-Id"));
    assert_non_null(strstr(hdr(&f->rs, "access-control-expose-headers"), "Retry-After"));
    assert_non_null(strstr(hdr(&f->rs, "access-control-expose-headers"), "X-RateLimit-Remaining"));
    /* listed origins are allowed on cookie routes too */
    f->rs.nheaders = 0;
    bt_cors_headers(c, "http://localhost:5173", true, &f->rs);
    assert_string_equal(hdr(&f->rs, "access-control-allow-origin"), "http://localhost:5173");
    assert_string_equal(hdr(&f->rs, "access-control-allow-credentials"), "true");
    bt_cors_free(c);
}

static void test_unlisted_origin(void **state)
{
    struct fixture *f = *state;
    struct bt_cors *c = cors("https://app.example.com");

    bt_cors_headers(c, "https://evil.example.net", false, &f->rs);
    assert_null(hdr(&f->rs, "access-control-allow-origin"));
    assert_null(hdr(&f->rs, "access-control-allow-credentials"));
    assert_null(hdr(&f->rs, "access-control-expose-headers"));
    assert_string_equal(hdr(&f->rs, "vary"), "Origin"); /* the answer depends on Origin */
    /* a prefix or suffix of a listed origin is not that origin */
    f->rs.nheaders = 0;
    bt_cors_headers(c, "https://app.example.com.evil.net", false, &f->rs);
    assert_null(hdr(&f->rs, "access-control-allow-origin"));
    bt_cors_headers(c, "https://app.example.co", false, &f->rs);
    assert_null(hdr(&f->rs, "access-control-allow-origin"));
    bt_cors_headers(c, "null", false, &f->rs);
    assert_null(hdr(&f->rs, "access-control-allow-origin"));
    /* no Origin: not a CORS request */
    f->rs.nheaders = 0;
    bt_cors_headers(c, NULL, false, &f->rs);
    assert_null(hdr(&f->rs, "access-control-allow-origin"));
    /* no list: nothing at all */
    f->rs.nheaders = 0;
    bt_cors_headers(NULL, "https://app.example.com", false, &f->rs);
    assert_int_equal(f->rs.nheaders, 0);
    bt_cors_free(c);
}

static void test_normalised(void **state)
{
    struct fixture *f = *state;
    /* case and default ports do not matter; a non-default port does */
    struct bt_cors *c = cors("HTTPS://App.Example.com:443, http://intra.example.com:80, "
                             "https://dev.example.com:8443");

    bt_cors_headers(c, "https://app.example.com", false, &f->rs);
    assert_string_equal(hdr(&f->rs, "access-control-allow-origin"), "https://app.example.com");
    f->rs.nheaders = 0;
    bt_cors_headers(c, "http://intra.example.com", false, &f->rs);
    assert_string_equal(hdr(&f->rs, "access-control-allow-origin"), "http://intra.example.com");
    f->rs.nheaders = 0;
    bt_cors_headers(c, "https://dev.example.com", false, &f->rs);
    assert_null(hdr(&f->rs, "access-control-allow-origin"));
    bt_cors_headers(c, "https://dev.example.com:8443", false, &f->rs);
    assert_string_equal(hdr(&f->rs, "access-control-allow-origin"), "https://dev.example.com:8443");
    bt_cors_free(c);
}

static void test_wildcard(void **state)
{
    struct fixture *f = *state;
    struct bt_cors *c = cors("*");

    bt_cors_headers(c, "https://anyone.example.org", false, &f->rs);
    assert_string_equal(hdr(&f->rs, "access-control-allow-origin"), "*");
    assert_null(hdr(&f->rs, "access-control-allow-credentials"));
    assert_null(hdr(&f->rs, "vary")); /* the same answer for every origin */
    /* never on a cookie route */
    f->rs.nheaders = 0;
    bt_cors_headers(c, "https://anyone.example.org", true, &f->rs);
    assert_null(hdr(&f->rs, "access-control-allow-origin"));
    assert_int_equal(f->rs.nheaders, 0);
    bt_cors_free(c);

    /* "*" with a listed origin: the listed one gets credentials everywhere, others "*" on
     * routes without cookies only */
    c = cors("*, https://app.example.com");
    f->rs.nheaders = 0;
    bt_cors_headers(c, "https://app.example.com", true, &f->rs);
    assert_string_equal(hdr(&f->rs, "access-control-allow-origin"), "https://app.example.com");
    assert_string_equal(hdr(&f->rs, "access-control-allow-credentials"), "true");
    f->rs.nheaders = 0;
    bt_cors_headers(c, "https://other.example.org", false, &f->rs);
    assert_string_equal(hdr(&f->rs, "access-control-allow-origin"), "*");
    assert_null(hdr(&f->rs, "access-control-allow-credentials"));
    f->rs.nheaders = 0;
    bt_cors_headers(c, "https://other.example.org", true, &f->rs);
    assert_null(hdr(&f->rs, "access-control-allow-origin"));
    bt_cors_free(c);
}

static void test_preflight_headers(void **state)
{
    struct fixture *f = *state;
    struct bt_cors *c = cors("https://app.example.com");

    bt_cors_preflight(c, "https://app.example.com", false, "GET, POST",
                      "content-type, authorization,x-request-id, X-CSRF-Token, x-secret, accept, "
                      "accept-language, content-type",
                      &f->rs);
    assert_string_equal(hdr(&f->rs, "access-control-allow-origin"), "https://app.example.com");
    assert_string_equal(hdr(&f->rs, "access-control-allow-credentials"), "true");
    assert_string_equal(hdr(&f->rs, "access-control-allow-methods"), "GET, POST");
    /* the acceptable ones, once each, in the order asked; x-secret left out */
    assert_string_equal(hdr(&f->rs, "access-control-allow-headers"),
                        "Content-Type, Authorization, X-Request-Id, X-CSRF-Token, Accept, "
                        "Accept-Language");
    assert_string_equal(hdr(&f->rs, "access-control-max-age"), "600");
    assert_null(hdr(&f->rs, "access-control-expose-headers")); /* not for preflights */
    /* nothing acceptable asked: no Allow-Headers */
    f->rs.nheaders = 0;
    bt_cors_preflight(c, "https://app.example.com", false, "GET", "x-secret", &f->rs);
    assert_null(hdr(&f->rs, "access-control-allow-headers"));
    assert_string_equal(hdr(&f->rs, "access-control-allow-methods"), "GET");
    /* a disallowed origin: no CORS headers at all */
    f->rs.nheaders = 0;
    bt_cors_preflight(c, "https://evil.example.net", false, "GET", "content-type", &f->rs);
    assert_null(hdr(&f->rs, "access-control-allow-origin"));
    assert_null(hdr(&f->rs, "access-control-allow-methods"));
    assert_null(hdr(&f->rs, "access-control-allow-headers"));
    assert_null(hdr(&f->rs, "access-control-max-age"));
    bt_cors_free(c);

    assert_string_equal(bt_cors_header_ok("x-csrf-token", 12), "X-CSRF-Token");
    assert_null(bt_cors_header_ok("cookie", 6));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation),
        cmocka_unit_test_setup_teardown(test_listed_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlisted_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_normalised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wildcard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preflight_headers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
