/* SPDX-License-Identifier: MIT
 * request.c - request accessors, percent-decoding and query-string parsing.
 * Must not: allocate outside the request arena; trust any byte of the input.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bento/db.h>
#include <bento/http.h>
#include <bento/schema.h>

const char *bt_req_header(const struct bt_req *rq, const char *name)
{
    for (size_t i = 0; i < rq->nheaders; i++)
        if (!strcasecmp(rq->headers[i].name, name))
            return rq->headers[i].value;
    return NULL;
}

const char *bt_req_query(const struct bt_req *rq, const char *name)
{
    for (size_t i = 0; i < rq->nquery; i++)
        if (!strcmp(rq->query[i].name, name))
            return rq->query[i].value;
    return NULL;
}

const char *bt_req_param(const struct bt_req *rq, const char *name)
{
    for (size_t i = 0; i < rq->nparams; i++)
        if (!strcmp(rq->params[i].name, name))
            return rq->params[i].value;
    return NULL;
}

int bt_req_param_i64(const struct bt_req *rq, const char *name, int64_t *out)
{
    const char *v = bt_req_param(rq, name);
    int64_t n;

    if (!v || !*v || *v == '+' || *v == '-' || bt_parse_i64(v, &n) || n < 0)
        return -1;
    *out = n;
    return 0;
}

static json_t *body_get(const struct bt_req *rq, const char *name)
{
    json_t *v;

    if (!rq->json || !json_is_object(rq->json))
        return NULL;
    v = json_object_get(rq->json, name);
    return json_is_null(v) ? NULL : v;
}

const char *bt_req_str(const struct bt_req *rq, const char *name)
{
    return json_string_value(body_get(rq, name));
}

int64_t bt_req_int(const struct bt_req *rq, const char *name, int64_t dflt)
{
    json_t *v = body_get(rq, name);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

double bt_req_num(const struct bt_req *rq, const char *name, double dflt)
{
    json_t *v = body_get(rq, name);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

bool bt_req_bool(const struct bt_req *rq, const char *name, bool dflt)
{
    json_t *v = body_get(rq, name);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

bool bt_req_has(const struct bt_req *rq, const char *name)
{
    return rq->json && json_is_object(rq->json) && json_object_get(rq->json, name) != NULL;
}

static json_t *query_get(const struct bt_req *rq, const char *name)
{
    json_t *v = rq->qjson ? json_object_get(rq->qjson, name) : NULL;
    return json_is_null(v) ? NULL : v;
}

const char *bt_req_qstr(const struct bt_req *rq, const char *name)
{
    return json_string_value(query_get(rq, name));
}

int64_t bt_req_qint(const struct bt_req *rq, const char *name, int64_t dflt)
{
    json_t *v = query_get(rq, name);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

bool bt_req_qbool(const struct bt_req *rq, const char *name, bool dflt)
{
    json_t *v = query_get(rq, name);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

bool bt_req_qhas(const struct bt_req *rq, const char *name)
{
    return query_get(rq, name) != NULL;
}

static const char *const method_names[] = {
    [BT_GET] = "GET",       [BT_POST] = "POST", [BT_PUT] = "PUT",         [BT_PATCH] = "PATCH",
    [BT_DELETE] = "DELETE", [BT_HEAD] = "HEAD", [BT_OPTIONS] = "OPTIONS",
};

enum bt_method bt_method_parse(const char *s)
{
    for (int m = BT_GET; m <= BT_OPTIONS; m++)
        if (!strcmp(s, method_names[m]))
            return (enum bt_method)m;
    return BT_METHOD_OTHER;
}

const char *bt_method_name(enum bt_method m)
{
    if (m >= BT_GET && m <= BT_OPTIONS)
        return method_names[m];
    return "OTHER";
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

char *bt_url_decode(struct bt_arena *a, const char *src, size_t n, bool form)
{
    char *out = bt_arena_alloc(a, n + 1);
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '%') {
            int hi = i + 1 < n ? hexval(src[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(src[i + 2]) : -1;
            if (hi >= 0 && lo >= 0) {
                out[o++] = (char)(hi * 16 + lo);
                i += 2;
                continue;
            }
            out[o++] = c; /* a stray '%' stays literal, as browsers and Python do */
        } else if (c == '+' && form) {
            out[o++] = ' ';
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    if (memchr(out, '\0', o) || bt_utf8_len(out, o) < 0)
        return NULL;
    return out;
}

int bt_query_parse(struct bt_arena *a, const char *qs, size_t max_pairs, struct bt_kv **out,
                   size_t *n)
{
    size_t count = 0, cap = 0;
    struct bt_kv *kv = NULL;
    const char *p = qs;

    *out = NULL;
    *n = 0;
    if (!qs || !*qs)
        return 0;
    for (const char *s = qs; *s; s++)
        cap += *s == '&';
    cap += 1;
    if (cap > max_pairs)
        return -1;
    kv = bt_arena_alloc(a, cap * sizeof(*kv));
    while (*p) {
        const char *end = strchr(p, '&');
        const char *eq;
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len > 0) {
            eq = memchr(p, '=', len);
            size_t klen = eq ? (size_t)(eq - p) : len;
            kv[count].name = bt_url_decode(a, p, klen, true);
            kv[count].value = eq ? bt_url_decode(a, eq + 1, len - klen - 1, true) : "";
            if (!kv[count].name || !kv[count].value)
                return -1;
            count++;
        }
        if (!end)
            break;
        p = end + 1;
    }
    *out = kv;
    *n = count;
    return 0;
}
