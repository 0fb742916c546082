/* SPDX-License-Identifier: MIT
 * fuzz_net.c - the trusted-proxy parsers of src/core/net.c. Input lines:
 *   1  BENTO_TRUSTED_PROXIES (bt_cidr_list_parse; also each item alone: bt_ip_parse and
 *      bt_cidr_parse)
 *   2  the TCP peer's address text
 *   3  X-Forwarded-For (joined), also tried against a fixed list (loopback, 10/8, fd00::/8)
 *   4  X-Forwarded-Proto (joined)
 * Invariants: an address that parses formats to text that parses back to the same address;
 * a CIDR has at most 128 bits and contains its own network; bt_proxy_client answers the
 * peer itself when the peer is not trusted, else a formatted address (never NULL), and
 * bt_proxy_proto answers NULL, "http" or "https". Corpus: corpus/net.
 */
#include "fuzz.h"

#include <bento/arena.h>
#include <bento/net.h>

static void addr_checks(const char *s, size_t n)
{
    struct bt_ipaddr ip, back;
    struct bt_cidr c;
    char text[BT_IP_TEXT];

    if (bt_ip_parse(s, n, &ip) == 0) {
        bt_ip_format(&ip, text);
        FUZZ_CHECK(strlen(text) < BT_IP_TEXT);
        FUZZ_CHECK(bt_ip_parse(text, strlen(text), &back) == 0);
        FUZZ_CHECK(!memcmp(ip.b, back.b, sizeof ip.b));
    }
    if (bt_cidr_parse(s, n, &c) == 0) {
        FUZZ_CHECK(c.bits <= 128);
        FUZZ_CHECK(bt_cidr_contains(&c, &c.net));
    }
}

static void proxy_checks(struct bt_arena *a, const struct bt_cidr *list, size_t n, const char *peer,
                         const char *xff)
{
    bool via = true;
    const char *client = bt_proxy_client(a, list, n, peer, xff, &via);
    struct bt_ipaddr pa;
    bool peer_trusted =
        bt_ip_parse(peer, strlen(peer), &pa) == 0 && bt_cidr_list_match(list, n, &pa);

    FUZZ_CHECK(client != NULL);
    if (!peer_trusted) {
        FUZZ_CHECK(!via && client == peer);
    } else if (client != peer) {
        struct bt_ipaddr ca;
        FUZZ_CHECK(via);
        FUZZ_CHECK(bt_ip_parse(client, strlen(client), &ca) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    size_t l1, l2, l3, l4;
    char *list_text = fuzz_line(&in, &l1);
    char *peer = fuzz_line(&in, &l2);
    char *xff = fuzz_line(&in, &l3);
    char *xfp = fuzz_rest_str(&in, &l4);
    struct bt_arena *a = bt_arena_new();
    struct bt_cidr *list = NULL, *fixed = NULL;
    size_t n = 0, nfixed = 0;
    const char *bad = NULL;
    const char *proto;

    addr_checks(list_text, l1);
    addr_checks(peer, l2);
    for (const char *s = list_text, *comma; *s; s = comma + 1) {
        comma = strchr(s, ',');
        addr_checks(s, comma ? (size_t)(comma - s) : strlen(s));
        if (!comma)
            break;
    }
    if (bt_cidr_list_parse(a, list_text, &list, &n, &bad) == 0) {
        FUZZ_CHECK(n == 0 || list != NULL);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(list[i].bits <= 128);
        proxy_checks(a, list, n, peer, l3 ? xff : NULL);
    } else {
        FUZZ_CHECK(bad != NULL);
    }
    FUZZ_CHECK(bt_cidr_list_parse(a, "127.0.0.0/8, ::1, 10.0.0.0/8, fd00::/8", &fixed, &nfixed,
                                  &bad) == 0);
    proxy_checks(a, fixed, nfixed, peer, xff);
    proxy_checks(a, fixed, nfixed, "10.1.2.3", xff);
    proxy_checks(a, fixed, nfixed, "::1", xff);
    proto = bt_proxy_proto(xfp);
    FUZZ_CHECK(!proto || !strcmp(proto, "http") || !strcmp(proto, "https"));
    bt_arena_free(a);
    free(list_text);
    free(peer);
    free(xff);
    free(xfp);
    return 0;
}
