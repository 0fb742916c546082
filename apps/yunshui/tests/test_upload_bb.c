/* SPDX-License-Identifier: MIT
 * test_upload_bb.c - yunshui's image upload against the real binary: a multipart upload over
 * HTTP, the returned URL (configured public base) downloaded byte for byte, the 5 MB
 * per-file rule and the 10 MB request cap (413 in the document's envelope, the server still
 * serving afterwards). Without yunshui.public_url the URL names the listener's real address
 * and port (issue 6: never localhost with the wrong port), https only when a trusted proxy
 * says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bt_test.h"
#include "ys_upload_images.h"

#define PUBLIC_URL "https://cdn.example.test/"

static int setup(void **state)
{
    static const char *const args[] = {"--set", "yunshui.public_url=" PUBLIC_URL, NULL};

    *state = bt_test_proc_start("yunshui", args, NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    assert_int_equal(bt_test_proc_stop(*state), 0);
    return 0;
}

static char *login(struct bt_test_proc *p)
{
    static const char body[] = "{\"username\":\"admin\",\"password\":\"password123\"}";
    struct bt_test_resp r = {0};
    char *hdr;

    bt_test_http(p, "yunshui", "POST", "/v1/auth/login", NULL, body, strlen(body), &r);
    if (r.status != 200)
        fail_msg("login: %d %s", r.status, r.body);
    assert_true(asprintf(&hdr, "Authorization: Bearer %s", bt_json_str(r.json, "/data/token")) > 0);
    bt_test_resp_release(&r);
    return hdr;
}

static void post_form(struct bt_test_proc *p, const char *auth, const struct ys_bytes *body,
                      struct bt_test_resp *r)
{
    const char *headers[] = {auth, YS_MULTIPART_CT, NULL};
    bt_test_http(p, "yunshui", "POST", "/v1/upload/image", headers, body->p, body->n, r);
}

static void test_round_trip(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0}, body = {0};
    char *auth = login(p), disk[512];
    const char *url, *id;
    struct stat st;

    ys_build_jpeg(&img, 800, 600);
    ys_form(&body, &img, "steel_plate.jpg", "image/jpeg", "materials");
    post_form(p, auth, &body, &r);
    if (r.status != 200)
        fail_msg("upload: %d %s", r.status, r.body);
    bt_assert_subset(r.json, "{\"success\":true,\"data\":{\"width\":800,\"height\":600,"
                             "\"format\":\"jpg\"}}");
    assert_int_equal(bt_json_int(r.json, "/data/bytes", -1), (long long)img.n);
    id = bt_json_str(r.json, "/data/publicId");
    assert_non_null(id);
    assert_int_equal(strncmp(id, "materials/", 10), 0);
    id += 10;
    assert_int_equal(strspn(id, "0123456789abcdef"), 32);
    assert_int_equal(strlen(id), 32);
    url = bt_json_str(r.json, "/data/url");
    assert_non_null(url);
    {
        char want[256];
        snprintf(want, sizeof(want), PUBLIC_URL "v1/uploads/materials/%s.jpg", id);
        assert_string_equal(url, want);
    }
    snprintf(disk, sizeof(disk), "%s/uploads/materials/%s.jpg", bt_test_proc_data_dir(p), id);
    assert_int_equal(stat(disk, &st), 0);
    assert_int_equal((long long)st.st_size, (long long)img.n);

    /* the URL's path on our listener serves the same bytes, without a token */
    {
        char *path = strdup(url + strlen(PUBLIC_URL) - 1);
        bt_test_http(p, "yunshui", "GET", path, NULL, NULL, 0, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.len, img.n);
        assert_memory_equal(r.body, img.p, img.n);
        assert_header(&r, "content-type", "image/jpeg");
        assert_header(&r, "cache-control", "public, max-age=31536000, immutable");
        assert_header(&r, "x-content-type-options", "nosniff");
        free(path);
    }
    /* traversal over the wire */
    bt_test_http(p, "yunshui", "GET", "/v1/uploads/materials/..%2F..%2Fbento.log", NULL, NULL, 0,
                 &r);
    assert_int_equal(r.status, 404);
    bt_assert_subset(r.json, "{\"success\":false,\"error\":{\"code\":\"RESOURCE_NOT_FOUND\"}}");

    free(auth);
    ys_bytes_free(&body);
    ys_bytes_free(&img);
    bt_test_resp_release(&r);
}

static void test_size_limits(void **state)
{
    struct bt_test_proc *p = *state;
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0}, body = {0};
    char *auth = login(p);

    /* 6 MB image inside an 8 MB request: under the request cap, over the file rule */
    ys_build_png(&img, 3, 2, (6u << 20) - ys_png_size(3, 2) - 12);
    ys_form(&body, &img, "big.png", "image/png", NULL);
    post_form(p, auth, &body, &r);
    assert_int_equal(r.status, 413);
    bt_assert_subset(r.json, "{\"success\":false,\"error\":{\"code\":\"PAYLOAD_TOO_LARGE\","
                             "\"message\":\"圖片大小超過 5MB 上限\"}}");

    /* a request over 10 MB, refused by the core before the handler, in the same envelope.
     * Sent chunked or with its Content-Length, the server reads it all (draining past the
     * cap) and answers at the end, so the client always sees the 413; a client that waits
     * for "100 Continue" is refused at once, before it sends the body. */
    ys_build_png(&img, 3, 2, (10u << 20) + 1);
    ys_form(&body, &img, "huge.png", "image/png", NULL);
    assert_true(body.n > (10u << 20));
    {
        const char *headers[] = {auth, YS_MULTIPART_CT, "Transfer-Encoding: chunked", NULL};
        bt_test_http(p, "yunshui", "POST", "/v1/upload/image", headers, body.p, body.n, &r);
    }
    assert_int_equal(r.status, 413);
    bt_assert_subset(r.json, "{\"success\":false,\"error\":{\"code\":\"PAYLOAD_TOO_LARGE\"}}");
    {
        const char *headers[] = {auth, YS_MULTIPART_CT, NULL};
        bt_test_http(p, "yunshui", "POST", "/v1/upload/image", headers, body.p, body.n, &r);
    }
    assert_int_equal(r.status, 413);
    bt_assert_subset(r.json, "{\"success\":false,\"error\":{\"code\":\"PAYLOAD_TOO_LARGE\"}}");
    {
        char head[4096], *reply;
        int len = snprintf(head, sizeof(head),
                           "POST /v1/upload/image HTTP/1.1\r\nHost: t\r\n%s\r\n" YS_MULTIPART_CT
                           "\r\nContent-Length: %zu\r\nExpect: 100-continue\r\n\r\n",
                           auth, body.n);
        reply = bt_test_raw(p, "yunshui", head, (size_t)len, NULL);
        assert_non_null(strstr(reply, "HTTP/1.1 413"));
        assert_non_null(strstr(reply, "\"code\":\"PAYLOAD_TOO_LARGE\""));
        free(reply);
    }

    /* still serving */
    ys_build_gif(&img, 5, 7);
    ys_form(&body, &img, "ok.gif", "image/gif", NULL);
    post_form(p, auth, &body, &r);
    assert_int_equal(r.status, 200);
    bt_assert_subset(r.json, "{\"data\":{\"width\":5,\"height\":7,\"format\":\"gif\"}}");

    free(auth);
    ys_bytes_free(&body);
    ys_bytes_free(&img);
    bt_test_resp_release(&r);
}

/* upload a small image, return data.url (malloc'd) */
static char *upload_url(struct bt_test_proc *p, const char *auth, const char *extra)
{
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0}, body = {0};
    const char *headers[] = {auth, YS_MULTIPART_CT, extra, NULL};
    char *url;

    ys_build_png(&img, 4, 3, 0);
    ys_form(&body, &img, "p.png", "image/png", "edge");
    bt_test_http(p, "yunshui", "POST", "/v1/upload/image", headers, body.p, body.n, &r);
    if (r.status != 200)
        fail_msg("upload: %d %s", r.status, r.body);
    url = strdup(bt_json_str(r.json, "/data/url"));
    ys_bytes_free(&body);
    ys_bytes_free(&img);
    bt_test_resp_release(&r);
    return url;
}

static void test_url_without_public_url(void **state)
{
    /* bound to every address on a port the kernel picks: the URL must still name an address
     * and port the client can reach, the ones it connected to */
    static const char *const args[] = {"--listen", "yunshui=0.0.0.0:0", NULL};
    struct bt_test_proc *p = bt_test_proc_start("yunshui", args, NULL);
    struct bt_test_resp r = {0};
    char *auth = login(p), *url, prefix[128];
    (void)state;

    snprintf(prefix, sizeof(prefix), "http://127.0.0.1:%d/v1/uploads/edge/",
             bt_test_proc_port(p, "yunshui"));
    url = upload_url(p, auth, NULL);
    if (strncmp(url, prefix, strlen(prefix)))
        fail_msg("url %s does not start with %s", url, prefix);
    /* the URL really is reachable: its path on this listener serves the image */
    bt_test_http(p, "yunshui", "GET", strchr(url + 7, '/'), NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_header(&r, "content-type", "image/png");
    free(url);
    /* neither Host nor a forwarded scheme from an untrusted peer changes it */
    url = upload_url(p, auth, "X-Forwarded-Proto: https");
    assert_int_equal(strncmp(url, prefix, strlen(prefix)), 0);
    free(url);
    url = upload_url(p, auth, "Host: evil.example.net");
    assert_int_equal(strncmp(url, prefix, strlen(prefix)), 0);
    free(url);
    free(auth);
    bt_test_resp_release(&r);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

static void test_url_behind_trusted_proxy(void **state)
{
    static const char *const env[] = {"BENTO_TRUSTED_PROXIES=127.0.0.1", NULL};
    struct bt_test_proc *p = bt_test_proc_start("yunshui", NULL, env);
    char *auth = login(p), *url, prefix[128];
    (void)state;

    /* the proxy was spoken to over TLS: https, still the listener's address */
    snprintf(prefix, sizeof(prefix), "https://127.0.0.1:%d/v1/uploads/edge/",
             bt_test_proc_port(p, "yunshui"));
    url = upload_url(p, auth, "X-Forwarded-Proto: https");
    if (strncmp(url, prefix, strlen(prefix)))
        fail_msg("url %s does not start with %s", url, prefix);
    free(url);
    free(auth);
    assert_int_equal(bt_test_proc_stop(p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_limits, setup, teardown),
        cmocka_unit_test(test_url_without_public_url),
        cmocka_unit_test(test_url_behind_trusted_proxy),
    };

    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
