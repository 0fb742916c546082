/* SPDX-License-Identifier: MIT
 * test_docs_bb.c - /docs, the interactive API reference every service gets (docs/OPERATIONS.md,
 * "API reference"), against the real binary: the page, every file it references fetched by
 * its relative URL (vendorchat at /docs, yunshui under its mount at /v1/docs), media types,
 * caching, the Content-Security-Policy, unknown files in the service's envelope, no rate limit.
 * That the page renders and try-it-out works in a browser is a manual check, described there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

#define CSP                                                                                        \
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "               \
    "form-action 'self'; frame-ancestors 'self'"
#define YEAR "public, max-age=31536000, immutable"

static int setup(void **state)
{
    *state = bt_test_proc_start("vendorchat,yunshui", NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(bt_test_proc_stop(*state), 0);
    return 0;
}

static const char *expected_type(const char *ref)
{
    const char *dot = strrchr(ref, '.');

    assert_non_null(dot);
    if (!strcmp(dot, ".js"))
        return "text/javascript; charset=utf-8";
    if (!strcmp(dot, ".css"))
        return "text/css; charset=utf-8";
    assert_string_equal(dot, ".png");
    return "image/png";
}

/* Fetch the page at base + "docs", then every src="..." and href="..." it names, resolved
 * against base as a browser would; returns how many files were fetched. */
static int check_page(struct bt_test_proc *p, const char *app, const char *base)
{
    struct bt_test_resp page = {0}, r = {0};
    char path[512];
    int files = 0;
    bool saw_bundle = false, saw_starter = false;

    snprintf(path, sizeof path, "%sdocs", base);
    bt_test_http(p, app, "GET", path, NULL, NULL, 0, &page);
    assert_int_equal(page.status, 200);
    assert_string_equal(bt_test_resp_header(&page, "content-type"), "text/html; charset=utf-8");
    assert_string_equal(bt_test_resp_header(&page, "content-security-policy"), CSP);
    assert_string_equal(bt_test_resp_header(&page, "cache-control"), "no-cache");
    assert_string_equal(bt_test_resp_header(&page, "x-content-type-options"), "nosniff");
    assert_non_null(strstr(page.body, "<div id=\"swagger-ui\"></div>"));

    for (const char *s = page.body; (s = strstr(s, "=\"")) != NULL;) {
        const char *name = s - 4, *end;
        char ref[256];

        s += 2;
        if (name < page.body || (memcmp(name, " src", 4) && memcmp(name, "href", 4)))
            continue;
        end = strchr(s, '"');
        assert_non_null(end);
        assert_in_range((size_t)(end - s), 1, sizeof ref - 1);
        memcpy(ref, s, (size_t)(end - s));
        ref[end - s] = '\0';
        /* relative, so the page works under a mount and behind a proxy's prefix */
        assert_true(ref[0] != '/' && !strstr(ref, "://"));
        snprintf(path, sizeof path, "%s%s", base, ref);
        bt_test_http(p, app, "GET", path, NULL, NULL, 0, &r);
        if (r.status != 200)
            fail_msg("GET %s: %d", path, r.status);
        assert_string_equal(bt_test_resp_header(&r, "content-type"), expected_type(ref));
        assert_string_equal(bt_test_resp_header(&r, "x-content-type-options"), "nosniff");
        if (!strcmp(ref, "docs/bento-docs.js")) {
            saw_starter = true;
            assert_string_equal(bt_test_resp_header(&r, "cache-control"), "no-cache");
            /* the service's own document, by a relative URL */
            assert_non_null(strstr(r.body, "new URL(\"openapi.json\", document.baseURI)"));
        } else {
            /* third-party files carry the viewer's version in their name */
            assert_string_equal(bt_test_resp_header(&r, "cache-control"), YEAR);
        }
        if (strstr(ref, "swagger-ui-bundle-")) {
            saw_bundle = true;
            assert_true(r.len > 500000);
            assert_non_null(strstr(r.body, "SwaggerUIBundle"));
        }
        files++;
    }
    assert_true(saw_bundle);
    assert_true(saw_starter);

    snprintf(path, sizeof path, "%sopenapi.json", base);
    bt_test_http(p, app, "GET", path, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"openapi\":\"3.1.0\"}");
    bt_test_resp_release(&r);
    bt_test_resp_release(&page);
    return files;
}

static void test_vendorchat_page_and_files(void **state)
{
    /* stylesheet, two favicons, the bundle, the starter */
    assert_int_equal(check_page(*state, "vendorchat", "/"), 5);
}

static void test_yunshui_page_under_mount(void **state)
{
    struct bt_test_resp r = {0};

    assert_int_equal(check_page(*state, "yunshui", "/v1/"), 5);
    /* like every yunshui path, the reference lives under /v1 */
    bt_test_http(*state, "yunshui", "GET", "/docs", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    bt_assert_subset(r.json, "{\"success\":false,\"error\":{\"code\":\"RESOURCE_NOT_FOUND\"}}");
    bt_test_resp_release(&r);
}

static void test_unknown_file_is_404_in_envelope(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_http(*state, "vendorchat", "GET", "/docs/no-such-file.js", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    bt_assert_subset(r.json, "{\"detail\":\"Not Found\"}");
    /* another viewer version's name: not served (its year-long cache would lie) */
    bt_test_http(*state, "vendorchat", "GET", "/docs/swagger-ui-bundle-0.0.1.js", NULL, NULL, 0,
                 &r);
    assert_int_equal(r.status, 404);
    bt_assert_subset(r.json, "{\"detail\":\"Not Found\"}");
    bt_test_http(*state, "yunshui", "GET", "/v1/docs/no-such-file.css", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    bt_assert_subset(r.json, "{\"success\":false,\"error\":{\"code\":\"RESOURCE_NOT_FOUND\"}}");
    bt_test_resp_release(&r);
}

static void test_only_get(void **state)
{
    struct bt_test_resp r = {0};

    bt_test_http(*state, "vendorchat", "POST", "/docs", NULL, "{}", 2, &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(bt_test_resp_header(&r, "allow"), "GET");
    bt_assert_subset(r.json, "{\"detail\":\"Method Not Allowed\"}");
    bt_test_resp_release(&r);
}

static void test_not_rate_limited(void **state)
{
    static const char *const args[] = {"--set", "yunshui.rate_limit=1/3600", NULL};
    struct bt_test_proc *p = bt_test_proc_start("yunshui", args, NULL);
    struct bt_test_resp r = {0};
    (void)state;

    /* the limit is on: the second API call within the hour is refused */
    bt_test_http(p, "yunshui", "GET", "/v1/materials", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 401);
    bt_test_http(p, "yunshui", "GET", "/v1/materials", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 429);
    /* a person reading the reference is never told to go away */
    for (int i = 0; i < 3; i++) {
        bt_test_http(p, "yunshui", "GET", "/v1/docs", NULL, NULL, 0, &r);
        assert_int_equal(r.status, 200);
        assert_null(bt_test_resp_header(&r, "x-ratelimit-limit"));
        bt_test_http(p, "yunshui", "GET", "/v1/docs/bento-docs.js", NULL, NULL, 0, &r);
        assert_int_equal(r.status, 200);
    }
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vendorchat_page_and_files),
        cmocka_unit_test(test_yunshui_page_under_mount),
        cmocka_unit_test(test_unknown_file_is_404_in_envelope),
        cmocka_unit_test(test_only_get),
        cmocka_unit_test(test_not_rate_limited),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, setup, teardown);
}
