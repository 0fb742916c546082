/* SPDX-License-Identifier: MIT
 * multipart.c - multipart/form-data parser over a complete in-memory body.
 * Owns: the boundary and parameter grammar (RFC 2046 5.1.1, RFC 7578, RFC 5987 for
 *       filename*), the limits (64 parts, 8 KiB of headers per part, 70-byte boundary).
 * Must not: copy part data (parts point into the body), read past len, or assume the body
 *           is text: it is binary and may hold NULs and CRLFs anywhere.
 *
 * Strictness: delimiters and header lines must end in CRLF as the RFC says (every browser
 * and curl send CRLF); a line that starts with the delimiter but continues with other
 * bytes is content, not a delimiter (RFC 2046 makes that the sender's problem, and reading
 * it as content is the only unambiguous choice). Preamble and epilogue are ignored.
 */
#include <stdbool.h>
#include <string.h>

#include <bento/multipart.h>
#include <bento/schema.h>

#define MAX_PARAMS 16

/* ---------------------------------------------------------------------------------------
 * Header grammar helpers
 * ------------------------------------------------------------------------------------- */

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 7230 tchar */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 2046 bchars (space allowed, but not as the last character) */
static bool is_bchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("'()+_,-./:=? ", c) != NULL;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool ieq_n(const char *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i]; i++)
        if (lower(s[i]) != lit[i])
            return false;
    return i == n && lit[i] == '\0';
}

static const char *skip_ows(const char *s, const char *end)
{
    while (s < end && is_ows(*s))
        s++;
    return s;
}

/* Parse ';' separated name=value parameters from s to end (RFC 7231 3.1.1.1). Names are
 * lower-cased; quoted values are unescaped (\" and \\ only: browsers send Windows paths
 * with bare backslashes, which must survive). Returns 0, or -1 if malformed. Parameters
 * past MAX_PARAMS are checked but dropped. */
static int parse_params(struct bt_arena *a, const char *s, const char *end, struct bt_kv *out,
                        size_t *n)
{
    *n = 0;
    for (;;) {
        const char *name, *v;
        size_t nlen;
        struct bt_buf val;

        s = skip_ows(s, end);
        if (s == end)
            return 0;
        if (*s != ';')
            return -1;
        s = skip_ows(s + 1, end);
        if (s == end)
            return 0; /* a trailing ';' is harmless */
        if (*s == ';')
            continue;
        name = s;
        while (s < end && is_tchar((unsigned char)*s))
            s++;
        nlen = (size_t)(s - name);
        if (!nlen)
            return -1;
        s = skip_ows(s, end);
        if (s == end || *s != '=')
            return -1;
        s = skip_ows(s + 1, end);
        bt_buf_init(&val, a, 32);
        if (s < end && *s == '"') {
            s++;
            for (;;) {
                if (s == end)
                    return -1; /* unterminated quoted string */
                if (*s == '"')
                    break;
                if (*s == '\\' && s + 1 < end && (s[1] == '"' || s[1] == '\\'))
                    s++;
                bt_buf_addc(&val, *s++);
            }
            s++;
        } else {
            v = s;
            while (s < end && *s != ';' && !is_ows(*s) && *s != '"' && (unsigned char)*s >= 0x20 &&
                   *s != 0x7f)
                s++;
            if (s == v)
                return -1;
            bt_buf_add(&val, v, (size_t)(s - v));
        }
        if (*n < MAX_PARAMS) {
            char *lname = bt_arena_strndup(a, name, nlen);
            for (char *p = lname; *p; p++)
                *p = lower(*p);
            out[*n].name = lname;
            out[*n].value = val.p;
            (*n)++;
        }
    }
}

static const char *param_get(const struct bt_kv *params, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(params[i].name, name) == 0)
            return params[i].value;
    return NULL;
}

/* The main value of a header ("form-data", "multipart/form-data"): up to ';', trimmed. */
static const char *main_value(const char *s, const char *end, size_t *vlen)
{
    const char *v = skip_ows(s, end), *e = v;
    while (e < end && *e != ';')
        e++;
    while (e > v && is_ows(e[-1]))
        e--;
    *vlen = (size_t)(e - v);
    return v;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* RFC 5987 ext-value: charset "'" [language] "'" value-chars (percent-encoded). UTF-8 and
 * ISO-8859-1 are the charsets the RFC requires; anything else is not understood and the
 * caller falls back to the plain filename (RFC 6266 4.3). Returns NULL if not usable. */
static const char *decode_ext_value(struct bt_arena *a, const char *s)
{
    const char *q1 = strchr(s, '\''), *q2, *p;
    bool latin1;
    struct bt_buf out;

    if (!q1 || !(q2 = strchr(q1 + 1, '\'')))
        return NULL;
    if (ieq_n(s, (size_t)(q1 - s), "utf-8"))
        latin1 = false;
    else if (ieq_n(s, (size_t)(q1 - s), "iso-8859-1"))
        latin1 = true;
    else
        return NULL;
    bt_buf_init(&out, a, 64);
    for (p = q2 + 1; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            int hi = hexval(p[1]), lo = hi >= 0 ? hexval(p[2]) : -1;
            if (hi < 0 || lo < 0)
                return NULL;
            c = (unsigned char)(hi * 16 + lo);
            p += 2;
        } else if (c <= 0x20 || c >= 0x7f) {
            return NULL; /* value-chars are plain ASCII */
        }
        if (latin1 && c >= 0x80) {
            bt_buf_addc(&out, (char)(0xc0 | (c >> 6)));
            bt_buf_addc(&out, (char)(0x80 | (c & 0x3f)));
        } else {
            if (c == 0)
                return NULL;
            bt_buf_addc(&out, (char)c);
        }
    }
    if (bt_utf8_len(out.p, out.len) < 0)
        return NULL;
    return out.p;
}

/* ---------------------------------------------------------------------------------------
 * Content-Type and delimiters
 * ------------------------------------------------------------------------------------- */

static int boundary_from(struct bt_arena *a, const char *ct, const char **boundary,
                         struct bt_err *err)
{
    const char *end, *mt, *b;
    size_t mlen, np, blen;
    struct bt_kv params[MAX_PARAMS];

    if (!ct)
        return bt_fail(err, BT_EMEDIATYPE, NULL, "content type must be multipart/form-data");
    end = ct + strlen(ct);
    mt = main_value(ct, end, &mlen);
    if (!ieq_n(mt, mlen, "multipart/form-data"))
        return bt_fail(err, BT_EMEDIATYPE, NULL, "content type must be multipart/form-data");
    if (parse_params(a, mt + mlen, end, params, &np) < 0)
        return bt_fail(err, BT_EINVAL, NULL, "malformed content type parameters");
    b = NULL;
    for (size_t i = 0; i < np; i++) {
        if (strcmp(params[i].name, "boundary") != 0)
            continue;
        if (b)
            return bt_fail(err, BT_EINVAL, NULL, "content type has two boundary parameters");
        b = params[i].value;
    }
    if (!b)
        return bt_fail(err, BT_EINVAL, NULL, "multipart boundary missing from the content type");
    blen = strlen(b);
    if (blen < 1 || blen > BT_MULTIPART_MAX_BOUNDARY || b[blen - 1] == ' ')
        return bt_fail(err, BT_EINVAL, NULL, "multipart boundary must be 1 to 70 characters");
    for (size_t i = 0; i < blen; i++)
        if (!is_bchar((unsigned char)b[i]))
            return bt_fail(err, BT_EINVAL, NULL,
                           "multipart boundary has a character outside RFC 2046's set");
    *boundary = b;
    return BT_OK;
}

/* Find the next delimiter line at or after from. delim is "\r\n--" + boundary; a match is
 * a delimiter only when followed by "--" (close) or transport padding + CRLF. On success
 * *at is where the delimiter's CRLF starts (the end of the previous part's data) and
 * *after is the first byte after the delimiter line. */
static bool next_delim(const char *body, size_t len, size_t from, const char *delim, size_t dlen,
                       size_t *at, size_t *after, bool *close)
{
    while (from < len) {
        const char *hit = memmem(body + from, len - from, delim, dlen);
        size_t i, j;

        if (!hit)
            return false;
        i = (size_t)(hit - body);
        j = i + dlen;
        if (j + 2 <= len && body[j] == '-' && body[j + 1] == '-') {
            *at = i;
            *after = j + 2;
            *close = true;
            return true;
        }
        while (j < len && is_ows(body[j]))
            j++;
        if (j + 2 <= len && body[j] == '\r' && body[j + 1] == '\n') {
            *at = i;
            *after = j + 2;
            *close = false;
            return true;
        }
        from = i + 1;
    }
    return false;
}

/* The opening delimiter may start the body (no CRLF before it) or follow a preamble. */
static bool first_delim(const char *body, size_t len, const char *delim, size_t dlen, size_t *after,
                        bool *close)
{
    size_t at;

    /* pretend the body is preceded by CRLF by matching the delimiter without it */
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        size_t j = dlen - 2;
        if (j + 2 <= len && body[j] == '-' && body[j + 1] == '-') {
            *after = j + 2;
            *close = true;
            return true;
        }
        while (j < len && is_ows(body[j]))
            j++;
        if (j + 2 <= len && body[j] == '\r' && body[j + 1] == '\n') {
            *after = j + 2;
            *close = false;
            return true;
        }
    }
    return next_delim(body, len, 0, delim, dlen, &at, after, close);
}

/* ---------------------------------------------------------------------------------------
 * One part's headers
 * ------------------------------------------------------------------------------------- */

/* Split the header block [p, p+n) (lines ending in CRLF, the blank line excluded) into
 * name/value pairs. Folded lines (obs-fold) are joined with a space. */
static int parse_headers(struct bt_arena *a, const char *p, size_t n, size_t idx,
                         struct bt_multipart_part *part, struct bt_err *err)
{
    struct bt_kv *hs;
    size_t nh = 0, cap = 0;
    const char *end = p + n;
    struct bt_buf cur = {0};
    const char *cur_name = NULL;

    /* one header per line at most: count CRLFs for the array size */
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n')
            cap++;
    hs = bt_arena_alloc(a, (cap + 1) * sizeof(*hs));

    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        const char *line = p, *colon;
        size_t llen;

        if (!eol)
            return bt_fail(err, BT_EINVAL, NULL, "part %zu: malformed header line", idx + 1);
        llen = (size_t)(eol - line);
        p = eol + 2;
        for (size_t i = 0; i < llen; i++) {
            unsigned char c = (unsigned char)line[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return bt_fail(err, BT_EINVAL, NULL, "part %zu: control character in a header line",
                               idx + 1);
        }
        if (llen && is_ows(line[0])) {
            const char *v = skip_ows(line, eol);
            if (!cur_name)
                return bt_fail(err, BT_EINVAL, NULL, "part %zu: malformed header line", idx + 1);
            bt_buf_addc(&cur, ' ');
            bt_buf_add(&cur, v, (size_t)(eol - v));
            continue;
        }
        if (cur_name) {
            while (cur.len && is_ows(cur.p[cur.len - 1]))
                cur.p[--cur.len] = '\0';
            hs[nh].name = cur_name;
            hs[nh++].value = cur.p;
        }
        colon = memchr(line, ':', llen);
        if (!colon || colon == line)
            return bt_fail(err, BT_EINVAL, NULL, "part %zu: malformed header line", idx + 1);
        for (const char *c = line; c < colon; c++)
            if (!is_tchar((unsigned char)*c))
                return bt_fail(err, BT_EINVAL, NULL, "part %zu: malformed header name", idx + 1);
        {
            char *lname = bt_arena_strndup(a, line, (size_t)(colon - line));
            for (char *c = lname; *c; c++)
                *c = lower(*c);
            cur_name = lname;
        }
        bt_buf_init(&cur, a, 64);
        {
            const char *v = skip_ows(colon + 1, eol);
            bt_buf_add(&cur, v, (size_t)(eol - v));
        }
    }
    if (cur_name) {
        while (cur.len && is_ows(cur.p[cur.len - 1]))
            cur.p[--cur.len] = '\0';
        hs[nh].name = cur_name;
        hs[nh++].value = cur.p;
    }
    part->headers = hs;
    part->nheaders = nh;
    return BT_OK;
}

static int read_disposition(struct bt_arena *a, size_t idx, struct bt_multipart_part *part,
                            struct bt_err *err)
{
    const char *cd = NULL, *end, *v, *name, *fname, *fext;
    size_t vlen, np;
    struct bt_kv params[MAX_PARAMS];

    for (size_t i = 0; i < part->nheaders; i++) {
        if (!cd && strcmp(part->headers[i].name, "content-disposition") == 0)
            cd = part->headers[i].value;
        else if (!part->content_type && strcmp(part->headers[i].name, "content-type") == 0)
            part->content_type = part->headers[i].value;
    }
    if (!cd)
        return bt_fail(err, BT_EINVAL, NULL, "part %zu: missing content-disposition header",
                       idx + 1);
    end = cd + strlen(cd);
    v = main_value(cd, end, &vlen);
    if (!ieq_n(v, vlen, "form-data"))
        return bt_fail(err, BT_EINVAL, NULL, "part %zu: content-disposition is not form-data",
                       idx + 1);
    if (parse_params(a, v + vlen, end, params, &np) < 0)
        return bt_fail(err, BT_EINVAL, NULL, "part %zu: malformed content-disposition parameters",
                       idx + 1);
    name = param_get(params, np, "name");
    if (!name)
        return bt_fail(err, BT_EINVAL, NULL, "part %zu: form-data has no name", idx + 1);
    if (bt_utf8_len(name, strlen(name)) < 0)
        return bt_fail(err, BT_EINVAL, NULL, "part %zu: name is not valid UTF-8", idx + 1);
    fname = param_get(params, np, "filename");
    fext = param_get(params, np, "filename*");
    if (fext && (fext = decode_ext_value(a, fext)) != NULL)
        fname = fext;
    if (fname && bt_utf8_len(fname, strlen(fname)) < 0)
        return bt_fail(err, BT_EINVAL, NULL, "part %zu: filename is not valid UTF-8", idx + 1);
    part->name = name;
    part->filename = fname;
    return BT_OK;
}

/* ---------------------------------------------------------------------------------------
 * Public
 * ------------------------------------------------------------------------------------- */

int bt_multipart_parse(struct bt_arena *a, const char *content_type, const char *body, size_t len,
                       struct bt_multipart_part **parts, size_t *nparts, struct bt_err *err)
{
    const char *boundary = NULL;
    char *delim;
    size_t dlen, pos, n = 0;
    bool close;
    struct bt_multipart_part *out;
    int rc;

    *parts = NULL;
    *nparts = 0;
    rc = boundary_from(a, content_type, &boundary, err);
    if (rc != BT_OK)
        return rc;
    if (!body)
        len = 0;
    delim = bt_arena_printf(a, "\r\n--%s", boundary);
    dlen = strlen(delim);

    if (!body || !first_delim(body, len, delim, dlen, &pos, &close))
        return bt_fail(err, BT_EINVAL, NULL, "multipart body has no opening delimiter");

    out = bt_arena_alloc(a, BT_MULTIPART_MAX_PARTS * sizeof(*out));
    while (!close) {
        struct bt_multipart_part *part;
        size_t hstart = pos, dstart, at, after;

        if (n == BT_MULTIPART_MAX_PARTS)
            return bt_fail(err, BT_EINVAL, NULL, "multipart body has more than %d parts",
                           BT_MULTIPART_MAX_PARTS);
        part = &out[n];
        memset(part, 0, sizeof(*part));
        if (len - hstart >= 2 && body[hstart] == '\r' && body[hstart + 1] == '\n') {
            dstart = hstart + 2; /* no headers at all */
        } else {
            size_t window = len - hstart;
            const char *eoh;
            if (window > BT_MULTIPART_MAX_HEADER + 4)
                window = BT_MULTIPART_MAX_HEADER + 4;
            eoh = memmem(body + hstart, window, "\r\n\r\n", 4);
            if (!eoh || (size_t)(eoh - (body + hstart)) + 2 > BT_MULTIPART_MAX_HEADER) {
                if (len - hstart > BT_MULTIPART_MAX_HEADER)
                    return bt_fail(err, BT_EINVAL, NULL, "part %zu: header block over %d bytes",
                                   n + 1, BT_MULTIPART_MAX_HEADER);
                return bt_fail(err, BT_EINVAL, NULL,
                               "part %zu: header block not ended by an empty line", n + 1);
            }
            rc = parse_headers(a, body + hstart, (size_t)(eoh - (body + hstart)) + 2, n, part, err);
            if (rc != BT_OK)
                return rc;
            dstart = (size_t)(eoh - body) + 4;
        }
        rc = read_disposition(a, n, part, err);
        if (rc != BT_OK)
            return rc;
        /* the data ends at the CRLF that starts the next delimiter; an empty part's data
         * is followed at once by that CRLF, so search from dstart itself */
        if (!next_delim(body, len, dstart, delim, dlen, &at, &after, &close))
            return bt_fail(err, BT_EINVAL, NULL, "multipart body has no closing delimiter");
        part->data = body + dstart;
        part->len = at - dstart;
        n++;
        pos = after;
    }
    *parts = out;
    *nparts = n;
    return BT_OK;
}

const struct bt_multipart_part *bt_multipart_find(const struct bt_multipart_part *parts, size_t n,
                                                  const char *name)
{
    if (!parts || !name)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (parts[i].name && strcmp(parts[i].name, name) == 0)
            return &parts[i];
    return NULL;
}
