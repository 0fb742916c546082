/* SPDX-License-Identifier: MIT
 * test_net.c - addresses, CIDR ranges and the trusted-proxy rules (include/bento/net.h,
 * issue 6 section 2 "trusted proxies"): IPv4, IPv6, v4-mapped IPv6, /0, /32, /128, garbage;
 * BENTO_TRUSTED_PROXIES lists; X-Forwarded-For believed only from a trusted peer, right-most
 * untrusted address, malformed -> the peer; X-Forwarded-Proto.
 */
#include <string.h>

#include "bt_test.h"

static bool in(const char *cidr, const char *addr)
{
    struct bt_cidr c;
    struct bt_ipaddr a;

    assert_int_equal(bt_cidr_parse(cidr, strlen(cidr), &c), 0);
    assert_int_equal(bt_ip_parse(addr, strlen(addr), &a), 0);
    return bt_cidr_contains(&c, &a);
}

static int cidr_bad(const char *s)
{
    struct bt_cidr c;
    return bt_cidr_parse(s, strlen(s), &c);
}

static void test_ipv4_ranges(void **state)
{
    (void)state;
    assert_true(in("10.0.0.0/8", "10.255.1.2"));
    assert_false(in("10.0.0.0/8", "11.0.0.1"));
    assert_true(in("192.168.1.0/24", "192.168.1.77"));
    assert_false(in("192.168.1.0/24", "192.168.2.1"));
    assert_true(in("172.16.0.0/12", "172.31.255.255"));
    assert_false(in("172.16.0.0/12", "172.32.0.0"));
    /* a single address is /32 */
    assert_true(in("203.0.113.7", "203.0.113.7"));
    assert_false(in("203.0.113.7", "203.0.113.8"));
    assert_true(in("203.0.113.7/32", "203.0.113.7"));
    assert_false(in("203.0.113.7/32", "203.0.113.6"));
    /* /0 of IPv4 is every IPv4 address, and no IPv6 one */
    assert_true(in("0.0.0.0/0", "1.2.3.4"));
    assert_true(in("0.0.0.0/0", "255.255.255.255"));
    assert_false(in("0.0.0.0/0", "2001:db8::1"));
    /* host bits after the prefix are ignored */
    assert_true(in("10.1.2.3/8", "10.9.9.9"));
    /* a prefix that is not a multiple of 8 */
    assert_true(in("198.51.100.128/25", "198.51.100.200"));
    assert_false(in("198.51.100.128/25", "198.51.100.127"));
}

static void test_ipv6_ranges(void **state)
{
    (void)state;
    assert_true(in("::1", "::1"));
    assert_true(in("::1/128", "::1"));
    assert_false(in("::1/128", "::2"));
    assert_true(in("fd00::/8", "fd12:3456::1"));
    assert_false(in("fd00::/8", "fe80::1"));
    assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(in("2001:db8::/32", "2001:db9::1"));
    assert_true(in("2001:db8::/33", "2001:db8:7fff::1"));
    assert_false(in("2001:db8::/33", "2001:db8:8000::1"));
    /* ::/0 is every address, IPv4 included */
    assert_true(in("::/0", "2001:db8::1"));
    assert_true(in("::/0", "127.0.0.1"));
}

static void test_v4_mapped(void **state)
{
    struct bt_ipaddr a;
    char buf[BT_IP_TEXT];
    (void)state;
    /* a v4-mapped peer (dual-stack listener) matches an IPv4 entry, and the reverse */
    assert_true(in("127.0.0.1", "::ffff:127.0.0.1"));
    assert_true(in("10.0.0.0/8", "::ffff:10.1.2.3"));
    assert_true(in("::ffff:10.0.0.0/104", "10.200.0.1"));
    assert_false(in("::ffff:10.0.0.0/104", "11.0.0.1"));
    /* and it is written as IPv4 */
    assert_int_equal(bt_ip_parse("::ffff:192.0.2.1", 16, &a), 0);
    assert_true(bt_ip_is_v4(&a));
    assert_string_equal(bt_ip_format(&a, buf), "192.0.2.1");
    assert_int_equal(bt_ip_parse("2001:DB8:0:0::1", 15, &a), 0);
    assert_false(bt_ip_is_v4(&a));
    assert_string_equal(bt_ip_format(&a, buf), "2001:db8::1");
}

static void test_garbage(void **state)
{
    struct bt_ipaddr a;
    (void)state;
    assert_int_not_equal(cidr_bad(""), 0);
    assert_int_not_equal(cidr_bad("localhost"), 0);
    assert_int_not_equal(cidr_bad("1.2.3"), 0);
    assert_int_not_equal(cidr_bad("1.2.3.4.5"), 0);
    assert_int_not_equal(cidr_bad("256.1.1.1"), 0);
    assert_int_not_equal(cidr_bad("1.2.3.4/"), 0);
    assert_int_not_equal(cidr_bad("1.2.3.4/33"), 0);
    assert_int_not_equal(cidr_bad("1.2.3.4/-1"), 0);
    assert_int_not_equal(cidr_bad("1.2.3.4/08"), 0);
    assert_int_not_equal(cidr_bad("1.2.3.4/8x"), 0);
    assert_int_not_equal(cidr_bad("1.2.3.4/1000"), 0);
    assert_int_not_equal(cidr_bad("::/129"), 0);
    assert_int_not_equal(cidr_bad("::1::2"), 0);
    assert_int_not_equal(cidr_bad("[::1]"), 0);
    assert_int_not_equal(cidr_bad("fe80::1%eth0"), 0);
    assert_int_not_equal(cidr_bad(" 10.0.0.1"), 0);
    assert_int_not_equal(cidr_bad("10.0.0.1/8/8"), 0);
    assert_int_not_equal(bt_ip_parse("1.2.3.4", 0, &a), 0);
    {
        char big[100];
        memset(big, '1', sizeof(big));
        assert_int_not_equal(bt_ip_parse(big, sizeof(big), &a), 0);
    }
}

static void test_list_parse(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_cidr *l;
    struct bt_ipaddr ip;
    size_t n;
    const char *bad;
    (void)state;

    assert_int_equal(bt_cidr_list_parse(a, " 10.0.0.0/8 , ::1,,192.0.2.7 ,", &l, &n, &bad), 0);
    assert_int_equal(n, 3);
    assert_int_equal(bt_ip_parse("10.2.3.4", 8, &ip), 0);
    assert_true(bt_cidr_list_match(l, n, &ip));
    assert_int_equal(bt_ip_parse("192.0.2.8", 9, &ip), 0);
    assert_false(bt_cidr_list_match(l, n, &ip));
    assert_int_equal(bt_cidr_list_parse(a, "", &l, &n, &bad), 0);
    assert_int_equal(n, 0);
    assert_null(l);
    assert_int_equal(bt_cidr_list_parse(a, "10.0.0.0/8, proxy.internal, ::1", &l, &n, &bad), -1);
    assert_string_equal(bad, "proxy.internal");
    assert_int_equal(n, 0);
    bt_arena_free(a);
}

/* the client address seen from peer with these headers, trusted = the list */
static const char *client(struct bt_arena *a, const char *trusted, const char *peer,
                          const char *xff, bool *via)
{
    struct bt_cidr *l;
    size_t n;
    const char *bad;

    assert_int_equal(bt_cidr_list_parse(a, trusted, &l, &n, &bad), 0);
    return bt_proxy_client(a, l, n, peer, xff, via);
}

static void test_forwarded_for(void **state)
{
    struct bt_arena *a = bt_arena_new();
    bool via;
    (void)state;

    /* nothing trusted: the header is ignored */
    assert_string_equal(client(a, "", "127.0.0.1", "203.0.113.9", &via), "127.0.0.1");
    assert_false(via);
    /* an untrusted peer: ignored */
    assert_string_equal(client(a, "10.0.0.0/8", "192.0.2.1", "203.0.113.9", &via), "192.0.2.1");
    assert_false(via);
    /* a trusted peer: the address it gives */
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", "203.0.113.9", &via), "203.0.113.9");
    assert_true(via);
    /* the right-most address that is not a trusted proxy; what the client wrote to the left
     * of it is not believed */
    assert_string_equal(
        client(a, "127.0.0.1, 10.0.0.0/8", "127.0.0.1", "6.6.6.6, 203.0.113.9, 10.1.1.1", &via),
        "203.0.113.9");
    /* every hop trusted: the left-most */
    assert_string_equal(client(a, "10.0.0.0/8", "10.0.0.1", "10.0.0.9, 10.0.0.8", &via),
                        "10.0.0.9");
    /* IPv6, brackets, ports, a v4-mapped peer */
    assert_string_equal(client(a, "::1", "::1", "2001:DB8::7", &via), "2001:db8::7");
    assert_string_equal(client(a, "127.0.0.1", "::ffff:127.0.0.1", "[2001:db8::7]:4431", &via),
                        "2001:db8::7");
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", "203.0.113.9:55000", &via),
                        "203.0.113.9");
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", " ::ffff:203.0.113.9 ", &via),
                        "203.0.113.9");
    /* several headers, joined in order */
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", "198.51.100.1,203.0.113.9", &via),
                        "203.0.113.9");
    bt_arena_free(a);
}

static void test_forwarded_for_malformed(void **state)
{
    struct bt_arena *a = bt_arena_new();
    bool via;
    (void)state;

    /* absent or empty: the peer */
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", NULL, &via), "127.0.0.1");
    assert_true(via);
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", "", &via), "127.0.0.1");
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", " , ,", &via), "127.0.0.1");
    /* the deciding item is garbage: the peer, never a failure */
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", "unknown", &via), "127.0.0.1");
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", "203.0.113.9, bogus", &via),
                        "127.0.0.1");
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", "1.2.3.4:99999", &via), "127.0.0.1");
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", "[::1", &via), "127.0.0.1");
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", "[::1]x", &via), "127.0.0.1");
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", "1.2.3.4/24", &via), "127.0.0.1");
    /* garbage to the left of the client is never looked at */
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", "<script>, 203.0.113.9", &via),
                        "203.0.113.9");
    /* an empty item between two addresses is skipped */
    assert_string_equal(client(a, "127.0.0.1", "127.0.0.1", "203.0.113.9,,", &via), "203.0.113.9");
    /* a peer that is not an address (no socket) */
    assert_string_equal(client(a, "127.0.0.1", "", "203.0.113.9", &via), "");
    assert_false(via);
    bt_arena_free(a);
}

static void test_forwarded_proto(void **state)
{
    (void)state;
    assert_string_equal(bt_proxy_proto("https"), "https");
    assert_string_equal(bt_proxy_proto("HTTPS"), "https");
    assert_string_equal(bt_proxy_proto(" http "), "http");
    /* the right-most value: set by the proxy nearest to us */
    assert_string_equal(bt_proxy_proto("http, https"), "https");
    assert_string_equal(bt_proxy_proto("https,http"), "http");
    assert_null(bt_proxy_proto(NULL));
    assert_null(bt_proxy_proto(""));
    assert_null(bt_proxy_proto("ftp"));
    assert_null(bt_proxy_proto("https2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_ranges),
        cmocka_unit_test(test_ipv6_ranges),
        cmocka_unit_test(test_v4_mapped),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_list_parse),
        cmocka_unit_test(test_forwarded_for),
        cmocka_unit_test(test_forwarded_for_malformed),
        cmocka_unit_test(test_forwarded_proto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
