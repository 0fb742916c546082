/* SPDX-License-Identifier: MIT
 * net.c - IP addresses, CIDR ranges, and the trusted-proxy rules for X-Forwarded-For and
 * X-Forwarded-Proto (see include/bento/net.h for the contract).
 * Owns: text <-> 16-byte addresses (IPv4 v4-mapped), prefix matching, the right-to-left walk
 *       over X-Forwarded-For.
 * Must not: allocate outside the caller's arena, or fail a request: a forwarded header that
 *           cannot be read means "use the peer".
 */
#include <arpa/inet.h>
#include <poll.h>
#include <string.h>
#include <strings.h>

#include <bento/arena.h>
#include <bento/net.h>

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool bt_ip_is_v4(const struct bt_ipaddr *a)
{
    return !memcmp(a->b, v4_prefix, sizeof(v4_prefix));
}

int bt_ip_parse(const char *s, size_t n, struct bt_ipaddr *out)
{
    char buf[64];

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (memchr(buf, ':', n))
        return inet_pton(AF_INET6, buf, out->b) == 1 ? 0 : -1;
    memcpy(out->b, v4_prefix, sizeof(v4_prefix));
    return inet_pton(AF_INET, buf, out->b + 12) == 1 ? 0 : -1;
}

char *bt_ip_format(const struct bt_ipaddr *a, char *buf)
{
    if (bt_ip_is_v4(a)) {
        if (!inet_ntop(AF_INET, a->b + 12, buf, BT_IP_TEXT))
            buf[0] = '\0';
    } else if (!inet_ntop(AF_INET6, a->b, buf, BT_IP_TEXT)) {
        buf[0] = '\0';
    }
    return buf;
}

int bt_cidr_parse(const char *s, size_t n, struct bt_cidr *out)
{
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    unsigned bits = 0, max;

    if (bt_ip_parse(s, alen, &out->net))
        return -1;
    max = bt_ip_is_v4(&out->net) && !memchr(s, ':', alen) ? 32 : 128;
    if (slash) {
        size_t dlen = n - alen - 1;
        if (dlen == 0 || dlen > 3)
            return -1;
        for (size_t i = 0; i < dlen; i++) {
            char c = slash[1 + i];
            if (c < '0' || c > '9')
                return -1;
            bits = bits * 10 + (unsigned)(c - '0');
        }
        if ((dlen > 1 && slash[1] == '0') || bits > max)
            return -1;
    } else {
        bits = max;
    }
    out->bits = max == 32 ? 96 + bits : bits;
    for (unsigned i = 0; i < 16; i++) { /* clear the host bits */
        unsigned keep = out->bits > i * 8 ? out->bits - i * 8 : 0;
        if (keep < 8)
            out->net.b[i] &= (uint8_t)(0xff00u >> keep);
    }
    return 0;
}

bool bt_cidr_contains(const struct bt_cidr *c, const struct bt_ipaddr *a)
{
    unsigned whole = c->bits / 8, rest = c->bits % 8;

    if (memcmp(c->net.b, a->b, whole))
        return false;
    if (rest == 0)
        return true;
    return ((c->net.b[whole] ^ a->b[whole]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool bt_cidr_list_match(const struct bt_cidr *list, size_t n, const struct bt_ipaddr *a)
{
    for (size_t i = 0; i < n; i++)
        if (bt_cidr_contains(&list[i], a))
            return true;
    return false;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

/* trim blanks from [*s, *s + *n) */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && blank(**s))
        (*s)++, (*n)--;
    while (*n > 0 && blank((*s)[*n - 1]))
        (*n)--;
}

int bt_cidr_list_parse(struct bt_arena *a, const char *list, struct bt_cidr **out, size_t *n,
                       const char **bad)
{
    size_t cap = 1;

    *out = NULL;
    *n = 0;
    *bad = NULL;
    if (!list)
        return 0;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    for (const char *p = list;;) {
        const char *end = strchr(p, ',');
        const char *item = p;
        size_t len = end ? (size_t)(end - p) : strlen(p);

        trim(&item, &len);
        if (len > 0) {
            struct bt_cidr c;
            if (bt_cidr_parse(item, len, &c)) {
                *bad = bt_arena_strndup(a, item, len);
                *out = NULL;
                *n = 0;
                return -1;
            }
            if (!*out)
                *out = bt_arena_alloc(a, cap * sizeof(**out));
            (*out)[(*n)++] = c;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

/* a decimal port 1..65535, exactly n bytes */
static bool port_ok(const char *s, size_t n)
{
    unsigned long v = 0;

    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

/* One X-Forwarded-For item: "addr", "[v6]", "[v6]:port", "v4:port". */
static int xff_item(const char *s, size_t n, struct bt_ipaddr *out)
{
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return -1;
        if ((size_t)(close - s) + 1 != n && /* then a port must follow */
            (close[1] != ':' || !port_ok(close + 2, n - (size_t)(close - s) - 2)))
            return -1;
        return bt_ip_parse(s + 1, (size_t)(close - s) - 1, out);
    }
    {
        const char *colon = memchr(s, ':', n);
        /* exactly one colon: IPv4 with a port (IPv6 text has at least two) */
        if (colon && !memchr(colon + 1, ':', n - (size_t)(colon - s) - 1)) {
            if (!port_ok(colon + 1, n - (size_t)(colon - s) - 1))
                return -1;
            n = (size_t)(colon - s);
        }
    }
    return bt_ip_parse(s, n, out);
}

const char *bt_proxy_client(struct bt_arena *a, const struct bt_cidr *trusted, size_t ntrusted,
                            const char *peer, const char *xff, bool *via_proxy)
{
    struct bt_ipaddr addr, last;
    bool have = false;
    size_t end;
    char buf[BT_IP_TEXT];

    *via_proxy = false;
    if (!ntrusted || !peer || bt_ip_parse(peer, strlen(peer), &addr) ||
        !bt_cidr_list_match(trusted, ntrusted, &addr))
        return peer;
    *via_proxy = true;
    if (!xff)
        return peer;
    /* right to left: the first address that is not a trusted proxy is the client */
    end = strlen(xff);
    for (;;) {
        size_t start = end;
        const char *item;
        size_t len;

        while (start > 0 && xff[start - 1] != ',')
            start--;
        item = xff + start;
        len = end - start;
        trim(&item, &len);
        if (len == 0) {
            if (start == 0)
                break;
            end = start - 1; /* an empty item ("a,,b"): skip it */
            continue;
        }
        if (xff_item(item, len, &addr))
            return peer; /* the deciding item is unreadable: fall back to the peer */
        last = addr;
        have = true;
        if (!bt_cidr_list_match(trusted, ntrusted, &addr) || start == 0)
            break;
        end = start - 1;
    }
    if (!have)
        return peer;
    return bt_arena_strdup(a, bt_ip_format(&last, buf));
}

const char *bt_proxy_proto(const char *xfp)
{
    const char *item;
    size_t len;

    if (!xfp)
        return NULL;
    item = strrchr(xfp, ',');
    item = item ? item + 1 : xfp;
    len = strlen(item);
    trim(&item, &len);
    if (len == 5 && !strncasecmp(item, "https", 5))
        return "https";
    if (len == 4 && !strncasecmp(item, "http", 4))
        return "http";
    return NULL;
}

bool bt_sock_peer_closed(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};

    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}
