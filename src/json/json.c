/* SPDX-License-Identifier: MIT
 * json.c - Jansson helpers with bento's rules: parsing (NUL bytes refused, depth capped,
 * duplicate keys last-wins), a compact dumper into the arena whose reals print as the
 * shortest text that reads back to the same double, RFC 6901 pointer look-ups and the
 * subset matcher used by tests.
 * Must not: keep state between calls (all functions are thread-safe); print anything.
 */
#include <bento/json.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bento/arena.h>

#define BT_JSON_MAX_DEPTH 64

/* Jansson's own nesting cap is 2048; ours is checked first so a hostile body cannot make the
 * recursive parser (or later recursive walkers such as schema checks) go deep. */
static int depth_ok(const char *p, size_t n)
{
    int depth = 0;
    bool in_str = false;

    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > BT_JSON_MAX_DEPTH)
                return 0;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 1;
}

json_t *bt_json_parse(const char *p, size_t n, const char **why)
{
    json_error_t jerr;
    json_t *j;
    const char *dummy;

    if (!why)
        why = &dummy;
    *why = NULL;
    if (!p || n == 0) {
        *why = "empty body";
        return NULL;
    }
    if (memchr(p, '\0', n)) {
        *why = "body contains a NUL byte";
        return NULL;
    }
    if (!depth_ok(p, n)) {
        *why = "json nested too deeply";
        return NULL;
    }
    j = json_loadb(p, n, JSON_DECODE_ANY, &jerr);
    if (!j) {
        switch (json_error_code(&jerr)) {
        case json_error_invalid_utf8: *why = "invalid utf-8"; break;
        case json_error_numeric_overflow: *why = "number out of range"; break;
        case json_error_null_character:
        case json_error_null_byte_in_key: *why = "body contains a NUL character"; break;
        default: *why = "invalid json"; break;
        }
    }
    return j;
}

/* ---- dumping ---- */

static void dump_string(struct bt_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    bt_buf_addc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[6];

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        bt_buf_add(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            u[0] = '\\';
            u[1] = 'u';
            u[2] = '0';
            u[3] = '0';
            u[4] = hex[c >> 4];
            u[5] = hex[c & 0xf];
            bt_buf_add(b, u, sizeof u);
            continue;
        }
        bt_buf_adds(b, esc);
    }
    bt_buf_add(b, s + run, n - run);
    bt_buf_addc(b, '"');
}

/* Shortest of %.15g..%.17g that reads back to the same double: 0.95 stays "0.95" while
 * 0.1 + 0.2 keeps its 17 digits. A ".0" is added when the text would read as an integer,
 * so the value's type survives a round-trip (Jansson does the same). */
static void dump_real(struct bt_buf *b, double v)
{
    char tmp[40];

    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v)
            break;
    }
    bt_buf_adds(b, tmp);
    if (!strpbrk(tmp, ".eEn")) /* "n": inf/nan cannot occur in Jansson reals */
        bt_buf_adds(b, ".0");
}

static void dump_value(struct bt_buf *b, const json_t *j)
{
    const char *key;
    json_t *v;
    size_t i, n;
    bool first = true;

    switch (json_typeof(j)) {
    case JSON_OBJECT:
        bt_buf_addc(b, '{');
        /* json_object_foreach wants a non-const object; iteration does not modify it. */
        json_object_foreach((json_t *)(uintptr_t)j, key, v)
        {
            if (!first)
                bt_buf_addc(b, ',');
            first = false;
            dump_string(b, key, strlen(key));
            bt_buf_addc(b, ':');
            dump_value(b, v);
        }
        bt_buf_addc(b, '}');
        break;
    case JSON_ARRAY:
        bt_buf_addc(b, '[');
        n = json_array_size(j);
        for (i = 0; i < n; i++) {
            if (i)
                bt_buf_addc(b, ',');
            dump_value(b, json_array_get(j, i));
        }
        bt_buf_addc(b, ']');
        break;
    case JSON_STRING: dump_string(b, json_string_value(j), json_string_length(j)); break;
    case JSON_INTEGER: bt_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(j)); break;
    case JSON_REAL: dump_real(b, json_real_value(j)); break;
    case JSON_TRUE: bt_buf_adds(b, "true"); break;
    case JSON_FALSE: bt_buf_adds(b, "false"); break;
    case JSON_NULL:
    default: bt_buf_adds(b, "null"); break;
    }
}

char *bt_json_dump(struct bt_arena *a, const json_t *j, size_t *len)
{
    struct bt_buf b;

    bt_buf_init(&b, a, 256);
    if (j)
        dump_value(&b, j);
    else
        bt_buf_adds(&b, "null");
    if (len)
        *len = b.len;
    return b.p;
}

/* ---- JSON pointer ---- */

/* An RFC 6901 array index: "0" or digits without a leading zero. "-" (past the end) never
 * names an element, so it is refused like any other non-index. */
static int pointer_index(const char *tok, size_t n, size_t *out)
{
    size_t v = 0;

    if (n == 0 || (n > 1 && tok[0] == '0'))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (tok[i] < '0' || tok[i] > '9')
            return -1;
        if (v > (SIZE_MAX - 9) / 10)
            return -1;
        v = v * 10 + (size_t)(tok[i] - '0');
    }
    *out = v;
    return 0;
}

json_t *bt_json_at(const json_t *root, const char *pointer)
{
    json_t *cur = (json_t *)(uintptr_t)root; /* Jansson look-ups are not const-qualified */
    const char *p = pointer;

    if (!root || !pointer)
        return NULL;
    if (*p == '\0')
        return cur;
    if (*p != '/')
        return NULL;
    while (*p == '/' && cur) {
        const char *tok = ++p;
        size_t n = strcspn(tok, "/");
        char stack[128];
        char *key = n < sizeof stack ? stack : malloc(n + 1);
        size_t k = 0;
        int bad = 0;

        if (!key)
            return NULL;
        for (size_t i = 0; i < n; i++) {
            if (tok[i] == '~') {
                if (i + 1 < n && tok[i + 1] == '0')
                    key[k++] = '~';
                else if (i + 1 < n && tok[i + 1] == '1')
                    key[k++] = '/';
                else
                    bad = 1;
                i++;
            } else {
                key[k++] = tok[i];
            }
        }
        key[k] = '\0';
        if (bad) {
            cur = NULL;
        } else if (json_is_object(cur)) {
            cur = json_object_getn(cur, key, k);
        } else if (json_is_array(cur)) {
            size_t idx;
            cur = pointer_index(key, k, &idx) == 0 ? json_array_get(cur, idx) : NULL;
        } else {
            cur = NULL;
        }
        if (key != stack)
            free(key);
        p = tok + n;
    }
    return cur;
}

const char *bt_json_str(const json_t *root, const char *pointer)
{
    return json_string_value(bt_json_at(root, pointer));
}

long long bt_json_int(const json_t *root, const char *pointer, long long dflt)
{
    json_t *v = bt_json_at(root, pointer);

    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* ---- subset matching ---- */

bool bt_json_subset_j(const json_t *actual, const json_t *pattern)
{
    const char *key;
    json_t *pv;

    if (!actual || !pattern)
        return actual == pattern;
    switch (json_typeof(pattern)) {
    case JSON_OBJECT:
        if (!json_is_object(actual))
            return false;
        json_object_foreach((json_t *)(uintptr_t)pattern, key, pv)
        {
            if (!bt_json_subset_j(json_object_get(actual, key), pv))
                return false;
        }
        return true;
    case JSON_ARRAY:
        if (!json_is_array(actual) || json_array_size(actual) < json_array_size(pattern))
            return false;
        for (size_t i = 0; i < json_array_size(pattern); i++) {
            if (!bt_json_subset_j(json_array_get(actual, i), json_array_get(pattern, i)))
                return false;
        }
        return true;
    default:
        /* Jansson's json_equal never equates integer 1 with real 1.0, which is what we
         * want: a response that changed the number's type should fail the test. */
        return json_equal(actual, pattern) != 0;
    }
}

bool bt_json_subset(const json_t *actual, const char *pattern)
{
    json_error_t jerr;
    json_t *pj;
    bool ok;

    if (!pattern)
        return false;
    pj = json_loads(pattern, JSON_DECODE_ANY, &jerr);
    if (!pj)
        return false;
    ok = bt_json_subset_j(actual, pj);
    json_decref(pj);
    return ok;
}
