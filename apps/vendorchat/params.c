/* SPDX-License-Identifier: MIT
 * params.c - vendor parameters: loading a vendor's active configs, formatting a value the way
 * tenants read it, and filling {{key}} placeholders in knowledge templates (note rule 5).
 * Owns: the formatting rules, the placeholder scanner, the parameters read cache (filled
 * here; the database's triggers invalidate it on every config write).
 * Must not: write to the database, or change a placeholder it has no parameter for.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vendorchat.h"

/* ---- loading ---- */

/* The fields of a parameter, in the order a cached value packs them. */
static const size_t params_fields[] = {
    offsetof(struct vendorchat_param, category),    offsetof(struct vendorchat_param, key),
    offsetof(struct vendorchat_param, value),       offsetof(struct vendorchat_param, data_type),
    offsetof(struct vendorchat_param, unit),        offsetof(struct vendorchat_param, display_name),
    offsetof(struct vendorchat_param, description),
};
#define PARAMS_NFIELDS (sizeof(params_fields) / sizeof(params_fields[0]))

static const char **params_field(struct vendorchat_param *p, size_t f)
{
    return (const char **)((char *)p + params_fields[f]);
}

/* A vendor's parameters as one cache value: the row count in decimal and a NUL, then per row
 * and field a 0 byte for NULL, or a 1 byte and the text with its NUL. */
static void params_pack(struct bt_buf *b, struct vendorchat_param *ps, size_t n)
{
    bt_buf_addf(b, "%zu", n);
    bt_buf_addc(b, '\0');
    for (size_t r = 0; r < n; r++) {
        for (size_t f = 0; f < PARAMS_NFIELDS; f++) {
            const char *v = *params_field(&ps[r], f);
            bt_buf_addc(b, v ? 1 : 0);
            if (v)
                bt_buf_add(b, v, strlen(v) + 1);
        }
    }
}

/* The rows of a packed value, pointing into p (which the arena owns); false when p is not
 * what params_pack wrote. */
static bool params_unpack(struct bt_arena *a, const char *p, size_t len,
                          struct vendorchat_param **out, size_t *n)
{
    const char *end = p + len, *nul = memchr(p, '\0', len);
    struct vendorchat_param *ps;
    char *stop;
    unsigned long long rows;

    if (!nul)
        return false;
    rows = strtoull(p, &stop, 10);
    if (stop != nul || rows > len)
        return false;
    p = nul + 1;
    ps = bt_arena_alloc(a, (rows ? rows : 1) * sizeof(*ps));
    for (size_t r = 0; r < rows; r++) {
        for (size_t f = 0; f < PARAMS_NFIELDS; f++) {
            if (p >= end || (*p != 0 && *p != 1))
                return false;
            if (*p++ == 0) {
                *params_field(&ps[r], f) = NULL;
                continue;
            }
            if (!(nul = memchr(p, '\0', (size_t)(end - p))))
                return false;
            *params_field(&ps[r], f) = p;
            p = nul + 1;
        }
    }
    if (p != end)
        return false;
    *out = ps;
    *n = rows;
    return true;
}

int vendorchat_params_load(struct bt_req *rq, int64_t vendor_id, struct vendorchat_param **out,
                           size_t *n, struct bt_err *err)
{
    struct bt_cache *cache = vendorchat_state(rq)->params;
    struct bt_cache_fill fill;
    struct bt_db *db;
    struct bt_rows *rows;
    struct vendorchat_param *ps;
    const char *packed;
    struct bt_buf b;
    size_t len;
    char key[24];
    int rc;

    *out = NULL;
    *n = 0;
    snprintf(key, sizeof(key), "%lld", (long long)vendor_id);
    if (bt_cache_get(cache, key, rq->arena, &packed, &len, &fill)) {
        if (params_unpack(rq->arena, packed, len, out, n))
            return BT_OK;
        fill = (struct bt_cache_fill){.key = key}; /* not ours: read, do not store */
    }
    if (!(db = bt_req_db(rq, err)))
        return err->code != BT_OK ? (int)err->code : BT_EDB;
    rc = bt_db_query(db, rq->arena, &rows,
                     "SELECT category, param_key, param_value, data_type, unit, display_name,"
                     " description FROM vendorchat_vendor_configs"
                     " WHERE vendor_id = $1 AND is_active = TRUE"
                     " ORDER BY category, param_key",
                     BT_ARGS(bt_i64(vendor_id)), err);
    if (rc != BT_OK)
        return rc;
    ps = bt_arena_alloc(rq->arena, (rows->nrows ? rows->nrows : 1) * sizeof(*ps));
    for (size_t r = 0; r < rows->nrows; r++) {
        for (size_t f = 0; f < PARAMS_NFIELDS; f++)
            *params_field(&ps[r], f) = bt_rows_text(rows, r, f);
        if (!ps[r].value)
            ps[r].value = "";
    }
    if (fill.cache) {
        bt_buf_init(&b, rq->arena, 64 + rows->nrows * 128);
        params_pack(&b, ps, rows->nrows);
        bt_cache_put(&fill, b.p, b.len);
    }
    *out = ps;
    *n = rows->nrows;
    return BT_OK;
}

/* ---- formatting ---- */

/* Compact JSON text of any value, arena-owned. Jansson is used directly (not bt_json_dump)
 * because scalars inside arrays need JSON_ENCODE_ANY. */
static const char *params_json_text(struct bt_arena *a, const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    char *copy;

    if (!s)
        return "";
    copy = bt_arena_strdup(a, s);
    free(s);
    return copy;
}

/* "200.0" and "200.00" read as "200": the original stored numbers through floats, and a
 * tenant should not see a meaningless fraction. Anything that is not a plain decimal with an
 * all-zero fraction is kept as written. */
static const char *params_number_text(struct bt_arena *a, const char *v)
{
    const char *p = v, *dot;

    if (*p == '-' || *p == '+')
        p++;
    if (*p < '0' || *p > '9')
        return v;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p != '.')
        return v;
    dot = p++;
    if (*p == '\0')
        return v;
    while (*p == '0')
        p++;
    if (*p != '\0')
        return v;
    return bt_arena_strndup(a, v, (size_t)(dot - v));
}

static bool params_truthy(const char *v)
{
    return strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0 ||
           strcmp(v, "是") == 0;
}

/* json parameters: an array reads as a list joined with 、, an object as compact JSON,
 * anything else (or text that is not JSON) verbatim. */
static const char *params_json_format(struct bt_arena *a, const char *v)
{
    json_error_t jerr;
    json_t *j = json_loadb(v, strlen(v), JSON_DECODE_ANY, &jerr);
    const char *out = v;

    if (!j)
        return v;
    if (json_is_array(j)) {
        struct bt_buf b;
        size_t i;
        json_t *el;

        bt_buf_init(&b, a, 64);
        json_array_foreach(j, i, el)
        {
            if (i > 0)
                bt_buf_adds(&b, "、");
            if (json_is_string(el))
                bt_buf_add(&b, json_string_value(el), json_string_length(el));
            else
                bt_buf_adds(&b, params_json_text(a, el));
        }
        out = b.p;
    } else if (json_is_object(j)) {
        out = params_json_text(a, j);
    }
    json_decref(j);
    return out;
}

const char *vendorchat_param_format(struct bt_arena *a, const struct vendorchat_param *p)
{
    const char *v = p->value ? p->value : "";
    const char *type = p->data_type ? p->data_type : "string";

    if (strcmp(type, "number") == 0) {
        const char *num = params_number_text(a, v);
        if (p->unit && p->unit[0])
            return bt_arena_printf(a, "%s %s", num, p->unit);
        return num;
    }
    if (strcmp(type, "boolean") == 0)
        return params_truthy(v) ? "是" : "否";
    if (strcmp(type, "json") == 0)
        return params_json_format(a, v);
    return v;
}

/* ---- injection ---- */

static bool params_word_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

const struct vendorchat_param *vendorchat_param_find(const struct vendorchat_param *ps, size_t n,
                                                     const char *key)
{
    /* Last match wins, as when the original built a dict from rows ordered by category. */
    for (size_t i = n; i-- > 0;) {
        if (ps[i].key && strcmp(ps[i].key, key) == 0)
            return &ps[i];
    }
    return NULL;
}

/* Same matches as re.sub(r"\{\{(\w+)\}\}", ...) with \w = [A-Za-z0-9_]: leftmost first,
 * non-overlapping, so "{{{a}}}" becomes "{" + a + "}". */
char *vendorchat_inject(struct bt_arena *a, const char *tmpl, const struct vendorchat_param *ps,
                        size_t n, bool *injected)
{
    struct bt_buf b;
    const char *p = tmpl ? tmpl : "";

    if (injected)
        *injected = false;
    bt_buf_init(&b, a, strlen(p) + 32);
    while (*p) {
        const char *w, *e;
        const struct vendorchat_param *hit;
        char *key;

        if (p[0] != '{' || p[1] != '{') {
            bt_buf_addc(&b, *p++);
            continue;
        }
        w = p + 2;
        e = w;
        while (params_word_char(*e))
            e++;
        if (e == w || e[0] != '}' || e[1] != '}') {
            bt_buf_addc(&b, *p++);
            continue;
        }
        key = bt_arena_strndup(a, w, (size_t)(e - w));
        hit = vendorchat_param_find(ps, n, key);
        if (hit) {
            bt_buf_adds(&b, vendorchat_param_format(a, hit));
            if (injected)
                *injected = true;
        } else {
            bt_buf_add(&b, p, (size_t)(e + 2 - p));
        }
        p = e + 2;
    }
    return b.p;
}
