/* SPDX-License-Identifier: MIT
 * router.c - match (method, path) to a route of a mounted app.
 * Owns: route-pattern compilation at start-up and the 404/405 decision.
 * Must not: touch the database; allocate outside the request arena while matching.
 *
 * Patterns are split into segments once. A request path matches a pattern when it has the
 * same number of segments and every literal segment is equal; ":name" segments match any
 * non-empty segment. When several patterns match, the most specific wins: the one whose first
 * differing segment is literal ("/knowledge/import" beats "/knowledge/:id"). A path matched by
 * some pattern but not for this method is a 405 with the union of their methods in Allow.
 * Matching works on the RAW path (as the client sent it, before any percent-decoding): a
 * literal segment must be spelled exactly, "/x/" is not "/x", an empty segment ("//")
 * matches nothing, and a parameter is decoded only after its segment matched; an encoded
 * NUL or "/" inside a segment, a malformed escape or non-UTF-8 text makes the path unknown
 * (404). So "vendors%2F1" is one segment that names no route, and "3686%2F" is no vendor id.
 * Tables are small (tens of routes), so a linear scan over pre-split patterns is faster than
 * any tree at this size and keeps the code obvious.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bento/route.h>
#include <bento/schema.h>

#define ROUTE_MAX_SEGS 16

struct compiled {
    const struct bt_route *route;
    size_t nseg;
    char *segs[ROUTE_MAX_SEGS]; /* literal text, or ":name" */
    unsigned param_mask;        /* bit i set: segment i is a parameter */
    char *buf;                  /* owns the segment text */
    char *label;                /* "/materials/{id}": the OpenAPI path and metrics label */
};

struct bt_router {
    size_t n;
    struct compiled *c;
};

/* split "/a/b/c" into segments in place (buf is modified); returns count or -1 if too many */
static int split(char *buf, char **segs)
{
    int n = 0;
    char *p = buf;

    while (*p == '/')
        p++;
    while (*p) {
        char *slash = strchr(p, '/');
        if (n == ROUTE_MAX_SEGS)
            return -1;
        segs[n++] = p;
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    return n;
}

static bool method_has_body(enum bt_method m)
{
    return m == BT_POST || m == BT_PUT || m == BT_PATCH || m == BT_DELETE;
}

static bool valid_param_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

/* "/a/:id/b" -> "/a/{id}/b" (OpenAPI's template syntax); malloc'd */
static char *path_label(const char *path)
{
    size_t n = strlen(path);
    char *out = malloc(2 * n + 2), *o = out;

    if (!out)
        return NULL;
    for (const char *p = path; *p;) {
        if (*p == ':' && (p == path || p[-1] == '/')) {
            *o++ = '{';
            for (p++; *p && *p != '/'; p++)
                *o++ = *p;
            *o++ = '}';
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

void bt_router_free(struct bt_router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->c[i].buf);
        free(r->c[i].label);
    }
    free(r->c);
    free(r);
}

struct bt_router *bt_router_new(const struct bt_route *routes, struct bt_err *err)
{
    struct bt_router *r = calloc(1, sizeof(*r));
    size_t n = 0;

    if (!r)
        abort();
    while (routes[n].path)
        n++;
    r->c = calloc(n ? n : 1, sizeof(*r->c));
    if (!r->c)
        abort();
    for (size_t i = 0; i < n; i++) {
        const struct bt_route *rt = &routes[i];
        struct compiled *c = &r->c[i];
        char *buf;
        int nseg;

        c->route = rt;
        r->n = i + 1;
        if (rt->path[0] != '/') {
            bt_fail(err, BT_EINTERNAL, NULL, "route %s must start with /", rt->path);
            goto bad;
        }
        if (!rt->handler || rt->method < BT_GET || rt->method > BT_OPTIONS) {
            bt_fail(err, BT_EINTERNAL, NULL, "route %s: bad method or no handler", rt->path);
            goto bad;
        }
        if (!(rt->access & (BT_PUBLIC | BT_AUTH)) && !(rt->access & ~0xffffu)) {
            bt_fail(err, BT_EINTERNAL, NULL, "route %s %s has no access flag",
                    bt_method_name(rt->method), rt->path);
            goto bad;
        }
        if (rt->body && !method_has_body(rt->method)) {
            bt_fail(err, BT_EINTERNAL, NULL, "route %s %s: body schema on a method without body",
                    bt_method_name(rt->method), rt->path);
            goto bad;
        }
        buf = c->buf = strdup(rt->path);
        c->label = path_label(rt->path);
        if (!buf || !c->label)
            abort();
        nseg = split(buf, c->segs);
        if (nseg < 0) {
            bt_fail(err, BT_EINTERNAL, NULL, "route %s has too many segments", rt->path);
            goto bad;
        }
        c->nseg = (size_t)nseg;
        for (int s = 0; s < nseg; s++) {
            if (c->segs[s][0] == ':') {
                if (!valid_param_name(c->segs[s] + 1)) {
                    bt_fail(err, BT_EINTERNAL, NULL, "route %s: bad parameter name", rt->path);
                    goto bad;
                }
                c->param_mask |= 1u << s;
            }
        }
        /* duplicate method + same shape */
        for (size_t j = 0; j < i; j++) {
            const struct compiled *o = &r->c[j];
            bool same = o->route->method == rt->method && o->nseg == c->nseg &&
                        o->param_mask == c->param_mask;
            for (size_t s = 0; same && s < c->nseg; s++)
                if (!(c->param_mask & (1u << s)) && strcmp(o->segs[s], c->segs[s]))
                    same = false;
            if (same) {
                bt_fail(err, BT_EINTERNAL, NULL, "duplicate route %s %s",
                        bt_method_name(rt->method), rt->path);
                goto bad;
            }
        }
    }
    r->n = n;
    return r;
bad:
    bt_router_free(r);
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode one raw path segment in place. Refused (false): a malformed escape, an
 * encoded NUL or "/" (either would change what the segment names), or text that is not
 * UTF-8 once decoded. */
static bool segment_decode(char *s)
{
    char *o = s;

    for (const char *p = s; *p; p++) {
        if (*p != '%') {
            *o++ = *p;
            continue;
        }
        int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
        if (lo < 0)
            return false;
        char c = (char)(hi << 4 | lo);
        if (c == '\0' || c == '/')
            return false;
        *o++ = c;
        p += 2;
    }
    *o = '\0';
    return bt_utf8_len(s, (size_t)(o - s)) >= 0;
}

static bool matches(const struct compiled *c, char **segs, size_t nseg)
{
    if (c->nseg != nseg)
        return false;
    for (size_t s = 0; s < nseg; s++) {
        if (c->param_mask & (1u << s)) {
            if (!segs[s][0])
                return false;
        } else if (strcmp(c->segs[s], segs[s])) {
            return false;
        }
    }
    return true;
}

/* more specific = literal at the first segment where the two differ in kind */
static bool more_specific(const struct compiled *a, const struct compiled *b)
{
    unsigned diff = a->param_mask ^ b->param_mask;
    if (!diff)
        return false;
    unsigned first = diff & -diff;
    return (b->param_mask & first) != 0;
}

enum bt_match bt_router_match(const struct bt_router *r, struct bt_arena *a, enum bt_method m,
                              const char *path, const struct bt_route **route, int *index,
                              struct bt_kv *params, size_t *nparams, const char **allow)
{
    char *segs[ROUTE_MAX_SEGS];
    size_t len = strlen(path);
    char *buf;
    int nseg;
    const struct compiled *best = NULL;
    unsigned allowed = 0;

    *nparams = 0;
    *allow = NULL;
    /* the raw path: "/x/" is not "/x", and an empty segment matches nothing */
    if ((len > 1 && path[len - 1] == '/') || strstr(path, "//"))
        return BT_MATCH_NO_PATH;
    buf = bt_arena_strndup(a, path, len);
    nseg = split(buf, segs);
    if (nseg < 0)
        return BT_MATCH_NO_PATH;
    for (size_t i = 0; i < r->n; i++) {
        const struct compiled *c = &r->c[i];
        enum bt_method want = m == BT_HEAD ? BT_GET : m;
        if (!matches(c, segs, (size_t)nseg))
            continue;
        allowed |= 1u << c->route->method;
        if (c->route->method != want && c->route->method != m)
            continue;
        if (!best || more_specific(c, best))
            best = c;
    }
    if (!best) {
        if (!allowed)
            return BT_MATCH_NO_PATH;
        struct bt_buf b;
        bt_buf_init(&b, a, 64);
        for (int mm = BT_GET; mm <= BT_OPTIONS; mm++) {
            if (allowed & (1u << mm)) {
                if (b.len)
                    bt_buf_adds(&b, ", ");
                bt_buf_adds(&b, bt_method_name((enum bt_method)mm));
            }
        }
        *allow = b.p;
        return BT_MATCH_NO_METHOD;
    }
    for (size_t s = 0; s < best->nseg; s++) {
        if ((best->param_mask & (1u << s)) && *nparams < BT_MAX_PARAMS) {
            params[*nparams].name = best->segs[s] + 1;
            params[*nparams].value = segs[s];
            (*nparams)++;
        }
    }
    /* decode each parameter only now that the raw segments have matched */
    for (size_t i = 0; i < *nparams; i++)
        if (!segment_decode((char *)(uintptr_t)params[i].value))
            return BT_MATCH_NO_PATH;
    *route = best->route;
    *index = (int)(best - r->c);
    return BT_MATCH_OK;
}

size_t bt_router_count(const struct bt_router *r)
{
    return r->n;
}

const struct bt_route *bt_router_at(const struct bt_router *r, size_t i)
{
    return i < r->n ? r->c[i].route : NULL;
}

const char *bt_router_label(const struct bt_router *r, size_t i)
{
    return i < r->n ? r->c[i].label : NULL;
}
