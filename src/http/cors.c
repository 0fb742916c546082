/* SPDX-License-Identifier: MIT
 * cors.c - a service's CORS allow-list and the headers it gives (contract in
 * include/bento/cors.h, operator view in docs/OPERATIONS.md).
 * Owns: validating `S.cors_origins` at start-up, the origin decision, preflight headers.
 * Must not: echo an origin that is not listed, or pair a wildcard with credentials.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bento/cors.h>
#include <bento/http.h>

struct bt_cors {
    bool any;       /* "*" is in the list */
    size_t n;       /* listed origins */
    char **origins; /* normalised: lower case, no default port */
};

/* Response headers a browser app may read besides the CORS-safelisted ones. */
#define EXPOSE                                                                                     \
    "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"

void bt_cors_free(struct bt_cors *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->origins[i]);
    free(c->origins);
    free(c);
}

/* "scheme://host[:port]" -> normalised malloc'd copy, or NULL with why filled */
static char *origin_parse(const char *s, size_t n, char *why, size_t why_len)
{
    const char *p = s, *end = s + n, *host, *hend;
    char *out, *o;
    size_t slen;
    long port = -1;

    if (n == 0 || !isalpha((unsigned char)*p))
        goto bad;
    while (p < end && (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.'))
        p++;
    slen = (size_t)(p - s);
    if (end - p < 3 || memcmp(p, "://", 3))
        goto bad;
    host = p + 3;
    if (host < end && *host == '[') { /* IPv6 literal */
        hend = memchr(host, ']', (size_t)(end - host));
        if (!hend || hend == host + 1)
            goto bad;
        for (const char *q = host + 1; q < hend; q++)
            if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
                goto bad;
        hend++;
    } else {
        hend = host;
        while (hend < end &&
               (isalnum((unsigned char)*hend) || *hend == '-' || *hend == '.' || *hend == '_'))
            hend++;
        if (hend == host)
            goto bad;
    }
    if (hend < end && *hend == ':') {
        const char *d = hend + 1;
        port = 0;
        if (d == end || end - d > 5)
            goto bad;
        for (; d < end; d++) {
            if (*d < '0' || *d > '9')
                goto bad;
            port = port * 10 + (*d - '0');
        }
        if (port < 1 || port > 65535)
            goto bad;
    } else if (hend != end) {
        goto bad; /* a path, "/", a query, user info or a stray character */
    }
    out = malloc(n + 1);
    if (!out)
        abort();
    o = out;
    for (const char *q = s; q < hend; q++)
        *o++ = (char)tolower((unsigned char)*q);
    *o = '\0';
    if (port > 0 && !((slen == 4 && !strncasecmp(s, "http", 4) && port == 80) ||
                      (slen == 5 && !strncasecmp(s, "https", 5) && port == 443)))
        snprintf(o, n + 1 - (size_t)(o - out), ":%ld", port);
    return out;
bad:
    snprintf(why, why_len,
             "\"%.*s\" is not an origin: write scheme://host[:port] with no path, "
             "e.g. https://app.example.com",
             (int)(n > 200 ? 200 : n), s);
    return NULL;
}

int bt_cors_new(const char *list, struct bt_cors **out, char *why, size_t why_len)
{
    struct bt_cors *c;
    size_t cap = 1;

    *out = NULL;
    if (!list)
        return 0;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    c = calloc(1, sizeof(*c));
    if (!c || !(c->origins = calloc(cap, sizeof(*c->origins))))
        abort();
    for (const char *p = list;;) {
        const char *end = strchr(p, ','), *item = p;
        size_t len = end ? (size_t)(end - p) : strlen(p);

        while (len > 0 && (*item == ' ' || *item == '\t'))
            item++, len--;
        while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t'))
            len--;
        if (len == 1 && *item == '*') {
            c->any = true;
        } else if (len > 0) {
            char *o = origin_parse(item, len, why, why_len);
            if (!o) {
                bt_cors_free(c);
                return -1;
            }
            c->origins[c->n++] = o;
        }
        if (!end)
            break;
        p = end + 1;
    }
    if (!c->any && c->n == 0) {
        bt_cors_free(c); /* only blanks and commas: the same as empty */
        return 0;
    }
    *out = c;
    return 0;
}

static bool listed(const struct bt_cors *c, const char *origin)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcasecmp(c->origins[i], origin))
            return true;
    return false;
}

/* The origin headers; returns false when this origin gets none. */
static bool origin_headers(const struct bt_cors *c, const char *origin, bool cookies,
                           struct bt_res *rs)
{
    if (c->n > 0)
        bt_res_header(rs, "Vary", "Origin");
    if (!origin)
        return false;
    if (listed(c, origin)) {
        bt_res_header(rs, "Access-Control-Allow-Origin", origin);
        bt_res_header(rs, "Access-Control-Allow-Credentials", "true");
        return true;
    }
    if (c->any && !cookies) {
        bt_res_header(rs, "Access-Control-Allow-Origin", "*");
        return true;
    }
    return false;
}

void bt_cors_headers(const struct bt_cors *c, const char *origin, bool cookies, struct bt_res *rs)
{
    if (c && origin_headers(c, origin, cookies, rs))
        bt_res_header(rs, "Access-Control-Expose-Headers", EXPOSE);
}

/* Request headers a cross-origin caller may send: the CORS-safelisted ones it may need to
 * name anyway (Content-Type with application/json is not safelisted), bearer tokens, our
 * request id, invite's CSRF token, and the X-Requested-With many front-end libraries add. */
static const char *const ok_headers[] = {
    "Accept",        "Accept-Language", "Content-Language", "Content-Type",
    "Authorization", "X-Request-Id",    "X-CSRF-Token",     "X-Requested-With",
};
#define N_OK_HEADERS (sizeof(ok_headers) / sizeof(ok_headers[0]))

static int header_index(const char *name, size_t n)
{
    for (size_t i = 0; i < N_OK_HEADERS; i++)
        if (strlen(ok_headers[i]) == n && !strncasecmp(ok_headers[i], name, n))
            return (int)i;
    return -1;
}

const char *bt_cors_header_ok(const char *name, size_t n)
{
    int i = header_index(name, n);
    return i < 0 ? NULL : ok_headers[i];
}

void bt_cors_preflight(const struct bt_cors *c, const char *origin, bool cookies,
                       const char *methods, const char *req_headers, struct bt_res *rs)
{
    char age[16];

    if (!c || !origin_headers(c, origin, cookies, rs))
        return;
    bt_res_header(rs, "Access-Control-Allow-Methods", methods);
    if (req_headers) {
        struct bt_buf b;
        unsigned seen = 0;
        bt_buf_init(&b, rs->arena, 128);
        for (const char *p = req_headers; *p;) {
            size_t len = strcspn(p, ",");
            const char *item = p;
            int i;
            while (len > 0 && (*item == ' ' || *item == '\t'))
                item++, len--;
            while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t'))
                len--;
            if (len > 0 && (i = header_index(item, len)) >= 0 && !(seen & (1u << i))) {
                seen |= 1u << i;
                if (b.len)
                    bt_buf_adds(&b, ", ");
                bt_buf_adds(&b, ok_headers[i]);
            }
            p += strcspn(p, ",");
            if (*p)
                p++;
        }
        if (b.len)
            bt_res_header(rs, "Access-Control-Allow-Headers", b.p);
    }
    snprintf(age, sizeof(age), "%d", BT_CORS_MAX_AGE);
    bt_res_header(rs, "Access-Control-Max-Age", age);
}
