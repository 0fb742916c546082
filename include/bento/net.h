/* SPDX-License-Identifier: MIT
 * net.h - IP addresses, CIDR ranges and the trusted-proxy rules: which peer may tell us the
 * client's address (X-Forwarded-For) and scheme (X-Forwarded-Proto).
 * Owns: parsing and matching, pure functions of their inputs, no globals; plus one look at
 * a connected socket (bt_sock_peer_closed).
 * Must not: believe a forwarded header from a peer that is not in the trusted list.
 *
 * Every address is kept as 16 bytes; IPv4 is stored v4-mapped (::ffff:a.b.c.d). One
 * comparison then covers both families, and a v4-mapped peer on a dual-stack listener matches
 * an IPv4 entry. An IPv4 CIDR a.b.c.d/n becomes ::ffff:a.b.c.d/(96 + n), so 0.0.0.0/0 is
 * "every IPv4 address" and ::/0 is "every address".
 */
#ifndef BENTO_NET_H
#define BENTO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_arena;

#define BT_IP_TEXT 46 /* INET6_ADDRSTRLEN: room for any address in text, NUL included */

struct bt_ipaddr {
    uint8_t b[16]; /* network order; IPv4 v4-mapped */
};

struct bt_cidr {
    struct bt_ipaddr net; /* host bits cleared */
    unsigned bits;        /* prefix length over the 16 bytes, 0..128 */
};

/** Parse an address: dotted-quad IPv4 or IPv6 text (v4-mapped forms included), exactly n
 *  bytes of s, no brackets, port or zone. Returns 0, or -1 when it is not an address. */
int bt_ip_parse(const char *s, size_t n, struct bt_ipaddr *out);

/** Text of a: IPv4 (also when it arrived v4-mapped) as dotted quad, else RFC 5952 IPv6.
 *  Writes into buf (BT_IP_TEXT bytes) and returns it. */
char *bt_ip_format(const struct bt_ipaddr *a, char *buf);

/** True when a is IPv4 (stored v4-mapped). */
bool bt_ip_is_v4(const struct bt_ipaddr *a);

/** Parse "ADDR" (a single host: /32 or /128) or "ADDR/BITS" (0..32 for IPv4, 0..128 for
 *  IPv6). Host bits after the prefix are cleared (10.1.2.3/8 is 10.0.0.0/8). Surrounding
 *  blanks are not allowed. Returns 0, or -1 on anything else. */
int bt_cidr_parse(const char *s, size_t n, struct bt_cidr *out);

/** Is a inside c? */
bool bt_cidr_contains(const struct bt_cidr *c, const struct bt_ipaddr *a);

/** Is a inside any of the n ranges? */
bool bt_cidr_list_match(const struct bt_cidr *list, size_t n, const struct bt_ipaddr *a);

/** Parse a comma-separated list of addresses and CIDRs (blanks around items ignored, empty
 *  items skipped) into *out, allocated in arena a (*out is NULL when the list is empty).
 *  Returns 0, or -1 with *bad pointing at an arena copy of the first item that does not
 *  parse. */
int bt_cidr_list_parse(struct bt_arena *a, const char *list, struct bt_cidr **out, size_t *n,
                       const char **bad);

/** The client's address for a request whose TCP peer is `peer` (text) and whose
 *  X-Forwarded-For headers, joined by commas in arrival order, are xff (NULL if none).
 *  When the peer is not in trusted: the peer, and *via_proxy = false. When it is: the
 *  right-most X-Forwarded-For address that is not itself trusted (every hop trusted: the
 *  left-most), normalised as bt_ip_format writes it, and *via_proxy = true. An item may
 *  carry a port ("1.2.3.4:5678", "[2001:db8::1]:443") or brackets. If the item that decides
 *  is malformed, or the header is absent or empty, the answer is the peer (never a failure).
 *  The result is peer itself or an arena string. */
const char *bt_proxy_client(struct bt_arena *a, const struct bt_cidr *trusted, size_t ntrusted,
                            const char *peer, const char *xff, bool *via_proxy);

/** The scheme a trusted proxy reports in X-Forwarded-Proto (joined like xff): the right-most
 *  item, set by the proxy nearest to us, when it is "http" or "https" (any case); else NULL. */
const char *bt_proxy_proto(const char *xfp);

/** Has the other end of connected socket fd closed its side (FIN) or reset it? Does not
 *  block or read. Bytes still waiting to be read do not count: a client that pipelines its
 *  next request is not gone. */
bool bt_sock_peer_closed(int fd);

#endif
