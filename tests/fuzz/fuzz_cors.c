/* SPDX-License-Identifier: MIT
 * fuzz_cors.c - the CORS allow-list (S.cors_origins) and the headers it gives
 * (src/http/cors.c). Input lines:
 *   1  the list, through bt_cors_new
 *   2  the request's Origin
 *   3  Access-Control-Request-Headers (the rest)
 * then bt_cors_headers and bt_cors_preflight for a cookie route and for another, and
 * bt_cors_header_ok over each requested header. Invariants: a refused list names why and
 * gives no object; never a wildcard with credentials, never a wildcard on a cookie route;
 * an echoed origin is exactly the request's; no header value holds CR or LF.
 * Corpus: corpus/cors.
 */
#include "fuzz.h"

#include <strings.h>

#include <bento/arena.h>
#include <bento/cors.h>
#include <bento/http.h>

static const char *header(const struct bt_res *rs, const char *name)
{
    for (size_t i = 0; i < rs->nheaders; i++)
        if (!strcasecmp(rs->headers[i].name, name))
            return rs->headers[i].value;
    return NULL;
}

static void check(const struct bt_res *rs, const char *origin, bool cookies)
{
    const char *allow = header(rs, "Access-Control-Allow-Origin");
    const char *cred = header(rs, "Access-Control-Allow-Credentials");

    for (size_t i = 0; i < rs->nheaders; i++)
        FUZZ_CHECK(!strpbrk(rs->headers[i].name, "\r\n") && !strpbrk(rs->headers[i].value, "\r\n"));
    if (!allow) {
        FUZZ_CHECK(!cred);
        return;
    }
    if (!strcmp(allow, "*")) {
        FUZZ_CHECK(!cred && !cookies);
    } else {
        FUZZ_CHECK(origin && !strcmp(allow, origin));
        FUZZ_CHECK(cred && !strcmp(cred, "true"));
    }
}

static void one(struct bt_arena *a, const struct bt_cors *c, const char *origin, bool cookies,
                const char *methods, const char *req_headers)
{
    struct bt_res rs;

    memset(&rs, 0, sizeof rs);
    rs.arena = a;
    rs.file_fd = -1;
    bt_cors_headers(c, origin, cookies, &rs);
    check(&rs, origin, cookies);
    memset(&rs, 0, sizeof rs);
    rs.arena = a;
    rs.file_fd = -1;
    bt_cors_preflight(c, origin, cookies, methods, req_headers, &rs);
    check(&rs, origin, cookies);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    size_t l2;
    char *list = fuzz_line(&in, NULL);
    char *origin = fuzz_line(&in, &l2);
    size_t lr;
    char *req = fuzz_rest_str(&in, &lr);
    struct bt_arena *a = bt_arena_new();
    struct bt_cors *c = (struct bt_cors *)1;
    char why[256];

    why[0] = '\0';
    if (bt_cors_new(list, &c, why, sizeof why) == 0) {
        one(a, c, l2 ? origin : NULL, false, "GET, POST", lr ? req : NULL);
        one(a, c, origin, true, "GET", req);
        bt_cors_free(c);
    } else {
        FUZZ_CHECK(why[0] != '\0');
    }
    for (const char *s = req, *comma; *s; s = comma + 1) {
        const char *canon;
        comma = strchr(s, ',');
        canon = bt_cors_header_ok(s, comma ? (size_t)(comma - s) : strlen(s));
        FUZZ_CHECK(!canon || !strpbrk(canon, "\r\n, "));
        if (!comma)
            break;
    }
    bt_arena_free(a);
    free(list);
    free(origin);
    free(req);
    return 0;
}
