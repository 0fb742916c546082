/* SPDX-License-Identifier: MIT
 * test_docs.c - src/http/docs.c through the real pipeline with tiny apps (no sockets): the
 * page's title is the app's OpenAPI title, HTML-escaped; a mounted app gets its reference under
 * the mount; an app that declares its own GET /docs keeps it (the core never overrides an
 * app's route) while the viewer's files are still served.
 */
#include "bt_test.h"

#include <string.h>

static int h_own_docs(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    (void)rq;
    (void)err;
    return bt_res_bytes(rs, 200, "text/plain", "the app's own docs", 18);
}

static void render_error(struct bt_req *rq, struct bt_res *rs, const struct bt_err *err)
{
    (void)rq;
    bt_res_json(rs, bt_err_http(err), json_pack("{s:s}", "error", "x"));
}

static const struct bt_route no_routes[] = {
    BT_ROUTE_END,
};

static const struct bt_route own_docs_routes[] = {
    {BT_GET, "/docs", h_own_docs, BT_PUBLIC, NULL, NULL, 0, "our docs", 0, NULL, 0, "text/plain"},
    BT_ROUTE_END,
};

static void test_title_escaped_under_mount(void **state)
{
    static const struct bt_app app = {
        .name = "demo",
        .title = "Demo <b>&\"API\"</b>",
        .version = "1",
        .mount = "/v1",
        .routes = no_routes,
        .render_error = render_error,
    };
    struct bt_test_app *t = bt_test_app_new(&app, NULL);
    struct bt_test_resp r = {0};
    (void)state;

    bt_test_request(t, "GET", "/v1/docs", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(
        r.body, "<title>Demo &lt;b&gt;&amp;&quot;API&quot;&lt;/b&gt; - API reference</title>"));
    assert_null(strstr(r.body, "<b>"));
    bt_test_request(t, "GET", "/v1/docs/bento-docs.js", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    bt_test_request(t, "GET", "/docs", NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    bt_test_resp_release(&r);
    bt_test_app_free(t);
}

static void test_app_keeps_its_own_docs(void **state)
{
    static const struct bt_app app = {
        .name = "owndocs",
        .title = "Own",
        .version = "1",
        .mount = "",
        .routes = own_docs_routes,
        .render_error = render_error,
    };
    struct bt_test_app *t = bt_test_app_new(&app, NULL);
    struct bt_test_resp r = {0};
    (void)state;

    bt_test_request(t, "GET", "/docs", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "the app's own docs");
    bt_test_request(t, "GET", "/docs/bento-docs.js", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(bt_test_resp_header(&r, "content-type"), "text/javascript; charset=utf-8");
    bt_test_resp_release(&r);
    bt_test_app_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_title_escaped_under_mount),
        cmocka_unit_test(test_app_keeps_its_own_docs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
