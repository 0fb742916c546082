/* SPDX-License-Identifier: MIT
 * client.c - outbound JSON over HTTP(S) with libcurl: one easy handle per call, so any
 * thread may call it; hard connect and total timeouts; a response size cap; no redirects.
 * Must not: put a URL, query string or header value in an error message or log line (API
 * keys and tokens travel there); follow redirects; use signals (CURLOPT_NOSIGNAL).
 */
#include <bento/client.h>

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include <bento/arena.h>
#include <bento/err.h>
#include <bento/json.h>

#ifndef BENTO_VERSION
#define BENTO_VERSION "dev"
#endif

#define CLIENT_DEFAULT_TIMEOUT_MS 30000L
#define CLIENT_MAX_CONNECT_MS 10000L
#define CLIENT_DEFAULT_MAX_BYTES (8u << 20)

static pthread_once_t client_once = PTHREAD_ONCE_INIT;
static bool client_inited;

static void client_init_once(void)
{
    client_inited = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void bt_client_global_init(void)
{
    pthread_once(&client_once, client_init_once);
}

void bt_client_global_cleanup(void)
{
    if (client_inited) {
        curl_global_cleanup();
        client_inited = false;
    }
}

struct sink {
    struct bt_buf buf;
    size_t max;
    bool too_large;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;

    if (n > s->max - s->buf.len) {
        s->too_large = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    bt_buf_add(&s->buf, p, n);
    return n;
}

/* Messages name the failure, never the URL: query strings and headers may hold secrets. */
static int fail_curl(struct bt_err *err, CURLcode cc, bool too_large)
{
    const char *what;

    if (too_large || cc == CURLE_FILESIZE_EXCEEDED)
        what = "upstream response too large";
    else if (cc == CURLE_OPERATION_TIMEDOUT)
        what = "upstream timed out";
    else if (cc == CURLE_COULDNT_CONNECT)
        what = "could not connect to upstream";
    else if (cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_RESOLVE_PROXY)
        what = "could not resolve upstream host";
    else if (cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_PEER_FAILED_VERIFICATION ||
             cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CERTPROBLEM)
        what = "upstream TLS failure";
    else if (cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL)
        what = "upstream URL is not usable";
    else
        return bt_fail(err, BT_EUPSTREAM, NULL, "upstream request failed: %s",
                       curl_easy_strerror(cc));
    return bt_fail(err, BT_EUPSTREAM, NULL, "%s", what);
}

static bool has_header(const char *const *headers, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; headers && headers[i]; i++) {
        if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
            return true;
    }
    return false;
}

int bt_client_json(struct bt_arena *a, const char *method, const char *url,
                   const char *const *headers, const json_t *body, long timeout_ms,
                   size_t max_bytes, struct bt_client_resp *out, struct bt_err *err)
{
    struct curl_slist *hl = NULL, *tmp;
    struct sink sink;
    CURL *c;
    CURLcode cc;
    char *payload = NULL;
    size_t plen = 0;
    long status = 0;
    int rc = BT_OK;

    memset(out, 0, sizeof *out);
    if (!method || !url || !*url)
        return bt_fail(err, BT_EUNAVAILABLE, NULL, "upstream is not configured");
    bt_client_global_init();
    if (timeout_ms <= 0)
        timeout_ms = CLIENT_DEFAULT_TIMEOUT_MS;
    if (max_bytes == 0)
        max_bytes = CLIENT_DEFAULT_MAX_BYTES;

    c = curl_easy_init();
    if (!c)
        return bt_fail(err, BT_EUPSTREAM, NULL, "upstream request failed: no handle");

    if (body) {
        payload = bt_json_dump(a, body, &plen);
        if (!has_header(headers, "Content-Type"))
            hl = curl_slist_append(hl, "Content-Type: application/json");
    }
    if (!has_header(headers, "Accept"))
        hl = curl_slist_append(hl, "Accept: application/json");
    /* curl would otherwise wait up to a second for "100 Continue" on larger bodies. */
    hl = curl_slist_append(hl, "Expect:");
    for (size_t i = 0; headers && headers[i]; i++) {
        tmp = curl_slist_append(hl, headers[i]);
        if (!tmp)
            break;
        hl = tmp;
    }

    bt_buf_init(&sink.buf, a, 1024);
    sink.max = max_bytes;
    sink.too_large = false;

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout_ms < CLIENT_MAX_CONNECT_MS ? timeout_ms : CLIENT_MAX_CONNECT_MS);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "bento/" BENTO_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);

    if (strcasecmp(method, "GET") == 0 && !payload) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcasecmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        if (payload) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)plen);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
        }
        if (strcasecmp(method, "POST") != 0 || !payload)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }

    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        rc = fail_curl(err, cc, sink.too_large);
    } else {
        out->status = status;
        out->body = sink.buf.p;
        out->len = sink.buf.len;
        if (out->len > 0)
            out->json = bt_json_own(a, bt_json_parse(out->body, out->len, NULL));
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    return rc;
}
