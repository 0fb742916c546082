/* SPDX-License-Identifier: MIT
 * schema.c - validation tables: checks JSON bodies and typed query strings against
 * const struct bt_field arrays, collecting every bad field into struct bt_err at once, plus
 * the small strict parsers (booleans, int64, UTF-8 length) the checks are built on.
 * Must not: stop at the first error; keep state between calls; allocate from an arena (the
 * caller's JSON is edited in place, query results are plain Jansson references).
 */
#include <bento/schema.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bento/err.h>
#include <bento/http.h>

/* Longest field path built while walking nested bodies; bt_err keeps 64 bytes of it. */
#define PATH_MAX_LEN 256

/* ---- small parsers ---- */

int bt_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on", NULL};
    static const char *const no[] = {"false", "0", "no", "off", NULL};

    if (!s)
        return -1;
    for (size_t i = 0; yes[i]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int bt_parse_i64(const char *s, int64_t *out)
{
    bool neg = false;
    uint64_t v = 0, lim;

    if (!s)
        return -1;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (!*s)
        return -1;
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *s; s++) {
        unsigned d;
        if (*s < '0' || *s > '9')
            return -1;
        d = (unsigned)(*s - '0');
        if (v > (lim - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

/* Decode one UTF-8 sequence at s[0..n); returns its length and the code point, or -1. */
static int utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0];
    int len;
    uint32_t min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        c &= 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        c &= 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        return -1;
    }
    if ((size_t)len > n)
        return -1;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    *cp = c;
    return len;
}

long bt_utf8_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    long count = 0;
    size_t i = 0;

    if (!s)
        return n == 0 ? 0 : -1;
    while (i < n) {
        uint32_t cp;
        int len = utf8_next(p + i, n - i, &cp);
        if (len < 0)
            return -1;
        i += (size_t)len;
        count++;
    }
    return count;
}

/* White space as Python's str.isspace sees it, so "　" (U+3000, common in CJK input) does not
 * make a name non-empty. */
static bool is_space_cp(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

static bool has_non_space(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        uint32_t cp;
        int len = utf8_next(p + i, n - i, &cp);
        if (len < 0)
            return true;
        if (!is_space_cp(cp))
            return true;
        i += (size_t)len;
    }
    return false;
}

/* ---- messages ---- */

/* Errors are counted here rather than read back from err->nfields, which stops growing at
 * BT_ERR_MAX_FIELDS and may hold the caller's earlier errors. */
struct vctx {
    struct bt_err *err;
    int n;
};

__attribute__((format(printf, 3, 4))) static void verr(struct vctx *vc, const char *path,
                                                       const char *fmt, ...)
{
    char msg[sizeof vc->err->fields[0].msg];
    char field[sizeof vc->err->fields[0].field];
    size_t n = strlen(path);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Cut a long path on a character boundary: the field is sent back to the client as a
     * JSON string, which must stay valid UTF-8. */
    if (n >= sizeof field) {
        n = sizeof field - 1;
        while (n > 0 && ((unsigned char)path[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(field, path, n);
    field[n] = '\0';
    vc->n++;
    if (vc->err)
        bt_err_add_field(vc->err, field, "%s", msg);
}

/* Bounds print as integers when they are whole ("must be at least 1"), else shortest. */
static void fmt_num(char *buf, size_t n, double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.15g", v);
}

static void add_enum_error(struct vctx *err, const char *path, const char *const *one_of)
{
    char list[160];
    size_t used = 0;

    list[0] = '\0';
    for (size_t i = 0; one_of && one_of[i]; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", one_of[i]);
        if (w < 0 || (size_t)w >= sizeof list - used) {
            list[used] = '\0'; /* drop the value that did not fit, never half of it */
            break;
        }
        used += (size_t)w;
    }
    verr(err, path, "must be one of: %s", list);
}

static bool in_enum(const char *s, const char *const *one_of)
{
    for (size_t i = 0; s && one_of && one_of[i]; i++) {
        if (strcmp(s, one_of[i]) == 0)
            return true;
    }
    return false;
}

/* out = a + b + c, cut at PATH_MAX_LEN - 1 bytes (bt_err keeps less than that anyway). */
static void cat_path(char *out, const char *a, const char *b, const char *c)
{
    const char *parts[3] = {a, b, c};
    size_t o = 0;

    for (int k = 0; k < 3; k++) {
        for (const char *p = parts[k]; p && *p && o < PATH_MAX_LEN - 1; p++)
            out[o++] = *p;
    }
    out[o] = '\0';
}

static void join_path(char *out, const char *prefix, const char *name)
{
    cat_path(out, prefix, prefix && *prefix ? "." : "", name);
}

static void index_path(char *out, const char *prefix, size_t i)
{
    char num[32];

    snprintf(num, sizeof num, "[%zu]", i);
    cat_path(out, prefix, num, NULL);
}

/* ---- shared value checks ---- */

/* Range check of a number already known to be of the right type. long double holds every
 * int64 exactly on the platforms we build for, so large integers compare correctly. */
static void check_range(const struct bt_field *f, long double v, const char *path, struct vctx *err)
{
    char num[48];

    if ((f->flags & BT_F_MIN) && v < (long double)f->min) {
        fmt_num(num, sizeof num, f->min);
        verr(err, path, "must be at least %s", num);
    } else if ((f->flags & BT_F_MAX) && v > (long double)f->max) {
        fmt_num(num, sizeof num, f->max);
        verr(err, path, "must be at most %s", num);
    }
}

/* A string's UTF-8, emptiness and length rules; true when it passes. */
static bool check_string(const struct bt_field *f, const char *s, size_t n, const char *path,
                         struct vctx *err)
{
    long cps = bt_utf8_len(s, n);

    if (cps < 0) {
        verr(err, path, "must be valid UTF-8");
        return false;
    }
    if ((f->flags & BT_F_NONEMPTY) && !has_non_space(s, n)) {
        verr(err, path, "must not be empty");
        return false;
    }
    if (f->min_len && (size_t)cps < f->min_len) {
        verr(err, path, "must be at least %zu characters", f->min_len);
        return false;
    }
    if (f->max_len && (size_t)cps > f->max_len) {
        verr(err, path, "must be at most %zu characters", f->max_len);
        return false;
    }
    return true;
}

/* ---- body validation ---- */

static void check_object(const struct bt_field *fields, json_t *obj, const char *prefix,
                         unsigned sflags, struct vctx *err);

/* A scalar of type t at path (also used for scalar array items, where f supplies one_of and
 * the numeric bounds). */
static void check_scalar(const struct bt_field *f, enum bt_ftype t, json_t *v, const char *path,
                         struct vctx *err)
{
    switch (t) {
    case BT_T_STR:
        if (!json_is_string(v))
            verr(err, path, "must be a string");
        else
            check_string(f, json_string_value(v), json_string_length(v), path, err);
        break;
    case BT_T_INT:
        if (!json_is_integer(v))
            verr(err, path, "must be an integer");
        else
            check_range(f, (long double)json_integer_value(v), path, err);
        break;
    case BT_T_NUM:
        if (!json_is_number(v))
            verr(err, path, "must be a number");
        else if (json_is_integer(v))
            check_range(f, (long double)json_integer_value(v), path, err);
        else
            check_range(f, (long double)json_real_value(v), path, err);
        break;
    case BT_T_BOOL:
        if (!json_is_boolean(v))
            verr(err, path, "must be a boolean");
        break;
    case BT_T_ENUM:
        if (!json_is_string(v) || !in_enum(json_string_value(v), f->one_of))
            add_enum_error(err, path, f->one_of);
        break;
    case BT_T_OBJECT:
        if (!json_is_object(v))
            verr(err, path, "must be an object");
        break;
    case BT_T_ARRAY:
        if (!json_is_array(v))
            verr(err, path, "must be an array");
        break;
    case BT_T_ANY:
    case BT_T_NONE:
    default: break;
    }
}

/* The element rules of an array field: its min_len/max_len count items, so they must not be
 * applied to each string element; one_of, the numeric bounds and BT_F_NONEMPTY still do. */
static struct bt_field item_view(const struct bt_field *f)
{
    struct bt_field item = *f;

    item.min_len = 0;
    item.max_len = 0;
    return item;
}

static void check_array(const struct bt_field *f, json_t *v, const char *path, unsigned sflags,
                        struct vctx *err)
{
    size_t n = json_array_size(v);
    enum bt_ftype it = f->items ? BT_T_OBJECT : f->item_type;
    struct bt_field item = item_view(f);
    char ipath[PATH_MAX_LEN];

    if (f->min_len && n < f->min_len) {
        verr(err, path, "must have at least %zu item%s", f->min_len, f->min_len == 1 ? "" : "s");
        return;
    }
    if (f->max_len && n > f->max_len) {
        verr(err, path, "must have at most %zu item%s", f->max_len, f->max_len == 1 ? "" : "s");
        return;
    }
    if (it == BT_T_NONE || it == BT_T_ANY)
        return;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        index_path(ipath, path, i);
        if (it == BT_T_OBJECT) {
            if (!json_is_object(e))
                verr(err, ipath, "must be an object");
            else if (f->items)
                check_object(f->items, e, ipath, sflags & ~BT_S_PARTIAL, err);
        } else {
            check_scalar(&item, it, e, ipath, err);
        }
    }
}

/* A BT_F_MAP object: every value is checked like an array element. */
static void check_map(const struct bt_field *f, json_t *v, const char *path, unsigned sflags,
                      struct vctx *err)
{
    enum bt_ftype it = f->items ? BT_T_OBJECT : f->item_type;
    struct bt_field item = item_view(f);
    char ipath[PATH_MAX_LEN];
    const char *key;
    json_t *e;

    if (it == BT_T_NONE || it == BT_T_ANY)
        return;
    json_object_foreach(v, key, e)
    {
        join_path(ipath, path, key);
        if (it == BT_T_OBJECT) {
            if (!json_is_object(e))
                verr(err, ipath, "must be an object");
            else if (f->items)
                check_object(f->items, e, ipath, sflags, err);
        } else {
            check_scalar(&item, it, e, ipath, err);
        }
    }
}

static const char *type_message(enum bt_ftype t)
{
    switch (t) {
    case BT_T_STR: return "must be a string";
    case BT_T_INT: return "must be an integer";
    case BT_T_NUM: return "must be a number";
    case BT_T_BOOL: return "must be a boolean";
    case BT_T_ARRAY: return "must be an array";
    case BT_T_OBJECT: return "must be an object";
    default: return "must not be null";
    }
}

static bool is_known(const struct bt_field *fields, const char *key)
{
    for (const struct bt_field *f = fields; f->type != BT_T_NONE; f++) {
        if (strcmp(f->name, key) == 0)
            return true;
    }
    return false;
}

static void check_object(const struct bt_field *fields, json_t *obj, const char *prefix,
                         unsigned sflags, struct vctx *err)
{
    char path[PATH_MAX_LEN];
    const char *key;
    json_t *v;
    void *tmp;

    for (const struct bt_field *f = fields; f->type != BT_T_NONE; f++) {
        join_path(path, prefix, f->name);
        v = json_object_get(obj, f->name);
        if (!v || json_is_null(v)) {
            if (v && (f->flags & BT_F_NULLABLE))
                continue;
            if ((f->flags & BT_F_REQUIRED) && !(v == NULL && (sflags & BT_S_PARTIAL)))
                verr(err, path, "field required");
            else if (v && f->type == BT_T_ENUM)
                add_enum_error(err, path, f->one_of);
            else if (v && f->type != BT_T_ANY)
                verr(err, path, "%s", type_message(f->type));
            continue;
        }
        switch (f->type) {
        case BT_T_ARRAY:
            if (!json_is_array(v))
                verr(err, path, "must be an array");
            else
                check_array(f, v, path, sflags & ~BT_S_PARTIAL, err);
            break;
        case BT_T_OBJECT:
            if (!json_is_object(v))
                verr(err, path, "must be an object");
            else if (f->flags & BT_F_MAP)
                check_map(f, v, path, sflags & ~BT_S_PARTIAL, err);
            else if (f->items)
                check_object(f->items, v, path, sflags & ~BT_S_PARTIAL, err);
            break;
        default: check_scalar(f, f->type, v, path, err); break;
        }
    }

    if (sflags & BT_S_ALLOW_EXTRA)
        return;
    json_object_foreach_safe(obj, tmp, key, v)
    {
        if (is_known(fields, key))
            continue;
        if (sflags & BT_S_REJECT_EXTRA) {
            join_path(path, prefix, key);
            verr(err, path, "unknown field");
        } else {
            json_object_del(obj, key);
        }
    }
}

int bt_schema_check(const struct bt_schema *s, json_t *body, struct bt_err *err)
{
    struct vctx vc = {err, 0};
    char path[PATH_MAX_LEN];

    if (!s || !s->fields)
        return BT_OK;
    if (s->array_body) {
        if (!json_is_array(body)) {
            verr(&vc, "", "body must be a JSON array");
            return BT_EINVAL;
        }
        for (size_t i = 0; i < json_array_size(body); i++) {
            json_t *e = json_array_get(body, i);
            index_path(path, "", i);
            if (!json_is_object(e))
                verr(&vc, path, "must be an object");
            else
                check_object(s->fields, e, path, s->flags, &vc);
        }
    } else {
        if (!json_is_object(body)) {
            verr(&vc, "", "body must be a JSON object");
            return BT_EINVAL;
        }
        check_object(s->fields, body, "", s->flags, &vc);
    }
    return vc.n > 0 ? BT_EINVAL : BT_OK;
}

/* ---- query strings ---- */

/* A decimal number as a whole string: no leading space, no hex, no inf/nan. */
static int parse_number(const char *s, double *out)
{
    char *end;
    double d;

    if (!*s || !(*s == '-' || *s == '+' || *s == '.' || (*s >= '0' && *s <= '9')))
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p == 'x' || *p == 'X' || *p == 'n' || *p == 'N' || *p == 'i' || *p == 'I')
            return -1;
    }
    errno = 0;
    d = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

/* Type one query value; returns a new reference or NULL after adding an error. */
static json_t *query_value(const struct bt_field *f, enum bt_ftype t, const char *s,
                           const char *path, struct vctx *err)
{
    int64_t i;
    double d;
    bool b;

    switch (t) {
    case BT_T_INT:
        if (bt_parse_i64(s, &i) != 0) {
            verr(err, path, "must be an integer");
            return NULL;
        }
        check_range(f, (long double)i, path, err);
        return json_integer(i);
    case BT_T_NUM:
        if (bt_parse_i64(s, &i) == 0) {
            check_range(f, (long double)i, path, err);
            return json_integer(i);
        }
        if (parse_number(s, &d) != 0) {
            verr(err, path, "must be a number");
            return NULL;
        }
        check_range(f, (long double)d, path, err);
        return json_real(d);
    case BT_T_BOOL:
        if (bt_parse_bool(s, &b) != 0) {
            verr(err, path, "must be a boolean");
            return NULL;
        }
        return json_boolean(b);
    case BT_T_ENUM:
        if (!in_enum(s, f->one_of)) {
            add_enum_error(err, path, f->one_of);
            return NULL;
        }
        return json_string(s);
    default:
        if (!check_string(f, s, strlen(s), path, err))
            return NULL;
        return json_stringn_nocheck(s, strlen(s));
    }
}

static bool query_name_is(const char *qname, const struct bt_field *f)
{
    size_t n = strlen(f->name);

    if (strcmp(qname, f->name) == 0)
        return true;
    /* "tag[]=a&tag[]=b" is how many form libraries spell repeats. */
    return f->type == BT_T_ARRAY && strncmp(qname, f->name, n) == 0 && strcmp(qname + n, "[]") == 0;
}

int bt_schema_query(const struct bt_schema *s, const struct bt_kv *q, size_t nq, json_t **out,
                    struct bt_err *err)
{
    struct vctx vc = {err, 0};
    char path[PATH_MAX_LEN];
    json_t *obj = json_object();

    *out = NULL;
    for (const struct bt_field *f = s ? s->fields : NULL; f && f->type != BT_T_NONE; f++) {
        size_t first = nq;

        for (size_t i = 0; i < nq; i++) {
            if (q[i].name && q[i].value && query_name_is(q[i].name, f)) {
                first = i;
                break;
            }
        }
        if (first == nq) {
            if (f->flags & BT_F_REQUIRED)
                verr(&vc, f->name, "field required");
            continue;
        }
        if (f->type == BT_T_ARRAY) {
            struct bt_field item = item_view(f);
            enum bt_ftype it = f->item_type == BT_T_NONE ? BT_T_STR : f->item_type;
            json_t *arr = json_array();
            size_t k = 0;

            if (it == BT_T_OBJECT || it == BT_T_ARRAY || it == BT_T_ANY)
                it = BT_T_STR;
            for (size_t i = first; i < nq; i++) {
                json_t *v;
                if (!q[i].name || !q[i].value || !query_name_is(q[i].name, f))
                    continue;
                index_path(path, f->name, k++);
                v = query_value(&item, it, q[i].value, path, &vc);
                if (v)
                    json_array_append_new(arr, v);
            }
            if (f->min_len && k < f->min_len)
                verr(&vc, f->name, "must have at least %zu item%s", f->min_len,
                     f->min_len == 1 ? "" : "s");
            else if (f->max_len && k > f->max_len)
                verr(&vc, f->name, "must have at most %zu item%s", f->max_len,
                     f->max_len == 1 ? "" : "s");
            json_object_set_new(obj, f->name, arr);
        } else {
            enum bt_ftype t = f->type == BT_T_OBJECT || f->type == BT_T_ANY ? BT_T_STR : f->type;
            json_t *v = query_value(f, t, q[first].value, f->name, &vc);
            if (v)
                json_object_set_new(obj, f->name, v);
        }
    }
    if (vc.n > 0) {
        json_decref(obj);
        return BT_EINVAL;
    }
    *out = obj;
    return BT_OK;
}
