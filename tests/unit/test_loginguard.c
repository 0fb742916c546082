/* SPDX-License-Identifier: MIT
 * test_loginguard.c - login throttling (src/auth/loginguard.c) with injected time (issue 7
 * "Login brute force"; invite's "10 attempts/minute/IP and a lock-out after 5 failures in
 * 5 minutes"): the lock-out of one account from one address and its exact length, a stranger
 * never locking the owner out, success giving the failures back, the per-address limit,
 * IPv6 counted per /64, concurrent attempts not getting past the lock-out, and switching
 * each rule off.
 */
#include "bt_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <bento/loginguard.h>

#define T0 1700000000000LL /* an arbitrary "now" in milliseconds */
#define ATTACKER "198.51.100.7"
#define OWNER "203.0.113.20"

/* 5 failures per 300 s, 300 s locked; 10 attempts per 60 s per address */
static struct bt_loginguard *guard(void)
{
    struct bt_loginguard *g = bt_loginguard_new(&bt_login_defaults, 1000);
    assert_non_null(g);
    return g;
}

/* One wrong password: check, then report the failure. Returns the check's answer. */
static int wrong(struct bt_loginguard *g, const char *account, const char *addr, int64_t now,
                 struct bt_login_verdict *v)
{
    int rc = bt_loginguard_check(g, account, addr, now, v);
    if (rc == BT_OK)
        bt_loginguard_failed(g, account, addr, now, v);
    return rc;
}

static void test_new_refuses_nothing_to_guard(void **state)
{
    struct bt_login_rules none = {0}, no_window = {.fail_limit = 5};
    struct bt_login_verdict v;
    (void)state;

    assert_null(bt_loginguard_new(&none, 1000));
    assert_null(bt_loginguard_new(&no_window, 1000));
    assert_null(bt_loginguard_new(&bt_login_defaults, 0));
    assert_null(bt_loginguard_new(NULL, 1000));
    bt_loginguard_free(NULL);
    /* no guard: everything is allowed, nothing is recorded */
    assert_int_equal(bt_loginguard_check(NULL, "admin", ATTACKER, T0, &v), BT_OK);
    assert_true(v.allowed);
    bt_loginguard_failed(NULL, "admin", ATTACKER, T0, &v);
    bt_loginguard_succeeded(NULL, "admin", ATTACKER);
}

/* the fifth failure locks the pair; the sixth attempt is refused whatever it brings */
static void test_fifth_failure_locks(void **state)
{
    struct bt_loginguard *g = guard();
    struct bt_login_verdict v;
    (void)state;

    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(bt_loginguard_check(g, "admin", ATTACKER, T0 + i, &v), BT_OK);
        assert_true(v.allowed);
        assert_int_equal(v.failures_left, 4 - i);
        bt_loginguard_failed(g, "admin", ATTACKER, T0 + i, &v);
        assert_int_equal(v.locked_now, i == 4);
    }
    assert_int_equal(v.retry_after_s, 300);
    /* refused before any password is looked at: the right one gets the same answer */
    assert_int_equal(bt_loginguard_check(g, "admin", ATTACKER, T0 + 5, &v), BT_ELIMIT);
    assert_false(v.allowed);
    assert_int_equal(v.why, BT_LOGIN_LOCKED);
    assert_int_equal(v.retry_after_s, 300);
    assert_false(v.locked_now);
    bt_loginguard_free(g);
}

/* locked for exactly lockout_s from the failure that locked it, Retry-After counting down */
static void test_lock_lasts_lockout_seconds(void **state)
{
    struct bt_loginguard *g = guard();
    struct bt_login_verdict v;
    const int64_t locked_at = T0 + 4;
    (void)state;

    for (int i = 0; i < 5; i++)
        assert_int_equal(wrong(g, "admin", ATTACKER, T0 + i, &v), BT_OK);
    assert_true(v.locked_now);
    assert_int_equal(bt_loginguard_check(g, "admin", ATTACKER, locked_at + 100000, &v), BT_ELIMIT);
    assert_int_equal(v.retry_after_s, 200);
    assert_int_equal(bt_loginguard_check(g, "admin", ATTACKER, locked_at + 299999, &v), BT_ELIMIT);
    assert_int_equal(v.retry_after_s, 1);
    assert_int_equal(bt_loginguard_check(g, "admin", ATTACKER, locked_at + 300000, &v), BT_OK);
    assert_true(v.allowed);
    bt_loginguard_free(g);
}

/* after a lock-out the pair has its whole budget again: five failures per five minutes at
 * most, however long the attack goes on */
static void test_budget_after_lockout(void **state)
{
    struct bt_loginguard *g = guard();
    struct bt_login_verdict v;
    int64_t now = T0;
    unsigned allowed = 0;
    (void)state;

    /* one attempt every second for an hour */
    for (int s = 0; s < 3600; s++, now += 1000)
        if (wrong(g, "admin", ATTACKER, now, &v) == BT_OK)
            allowed++;
    /* 5 at once, then 5 more as each 300 s lock-out ends: 12 lock-outs in an hour */
    assert_int_equal(allowed, 5 * 12);
    bt_loginguard_free(g);
}

/* failures slower than the refill (one per 60 s for 5 per 300 s) never lock */
static void test_slow_failures_never_lock(void **state)
{
    struct bt_loginguard *g = guard();
    struct bt_login_verdict v;
    (void)state;

    for (int i = 0; i < 50; i++) {
        assert_int_equal(wrong(g, "admin", ATTACKER, T0 + i * 60000LL, &v), BT_OK);
        assert_false(v.locked_now);
    }
    bt_loginguard_free(g);
}

/* the lock-out is the attacker's: the owner, elsewhere, logs in as usual */
static void test_stranger_cannot_lock_owner_out(void **state)
{
    struct bt_loginguard *g = guard();
    struct bt_login_verdict v;
    (void)state;

    for (int i = 0; i < 5; i++)
        wrong(g, "admin", ATTACKER, T0, &v);
    assert_int_equal(bt_loginguard_check(g, "admin", ATTACKER, T0, &v), BT_ELIMIT);
    assert_int_equal(bt_loginguard_check(g, "admin", OWNER, T0, &v), BT_OK);
    assert_int_equal(v.failures_left, 4);
    bt_loginguard_succeeded(g, "admin", OWNER);
    /* and the attacker's lock is untouched by the owner's success */
    assert_int_equal(bt_loginguard_check(g, "admin", ATTACKER, T0, &v), BT_ELIMIT);
    bt_loginguard_free(g);
}

/* another account from the locked address is a different pair */
static void test_other_account_from_locked_address(void **state)
{
    struct bt_loginguard *g = guard();
    struct bt_login_verdict v;
    (void)state;

    for (int i = 0; i < 5; i++)
        wrong(g, "admin", ATTACKER, T0, &v);
    assert_int_equal(bt_loginguard_check(g, "alice", ATTACKER, T0, &v), BT_OK);
    bt_loginguard_free(g);
}

/* a successful login gives every failure back */
static void test_success_clears_failures(void **state)
{
    struct bt_loginguard *g = guard();
    struct bt_login_verdict v;
    (void)state;

    for (int i = 0; i < 4; i++)
        wrong(g, "admin", OWNER, T0, &v);
    assert_int_equal(v.failures_left, 1);
    assert_int_equal(bt_loginguard_check(g, "admin", OWNER, T0, &v), BT_OK);
    assert_int_equal(v.failures_left, 0);
    bt_loginguard_succeeded(g, "admin", OWNER);
    /* five failures again before a lock-out */
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(wrong(g, "admin", OWNER, T0, &v), BT_OK);
        assert_int_equal(v.locked_now, i == 4);
    }
    bt_loginguard_free(g);
}

/* 10 attempts a minute per address, whatever accounts they name and however they end */
static void test_address_limit(void **state)
{
    struct bt_loginguard *g = guard();
    struct bt_login_verdict v;
    char account[16];
    (void)state;

    for (int i = 0; i < 10; i++) {
        snprintf(account, sizeof(account), "user%d", i);
        assert_int_equal(bt_loginguard_check(g, account, ATTACKER, T0, &v), BT_OK);
        if (i % 2) /* successes count as attempts too */
            bt_loginguard_succeeded(g, account, ATTACKER);
        else
            bt_loginguard_failed(g, account, ATTACKER, T0, &v);
    }
    assert_int_equal(bt_loginguard_check(g, "user99", ATTACKER, T0, &v), BT_ELIMIT);
    assert_int_equal(v.why, BT_LOGIN_ADDRESS);
    assert_int_equal(v.retry_after_s, 6); /* one attempt frees every 6 s */
    /* another address is not affected */
    assert_int_equal(bt_loginguard_check(g, "user0", OWNER, T0, &v), BT_OK);
    /* the limited one gets one attempt 6 s later, and the refusals reserved no failure */
    assert_int_equal(bt_loginguard_check(g, "user99", ATTACKER, T0 + 5999, &v), BT_ELIMIT);
    assert_int_equal(bt_loginguard_check(g, "user99", ATTACKER, T0 + 6000, &v), BT_OK);
    assert_int_equal(v.failures_left, 4);
    bt_loginguard_free(g);
}

/* a locked pair is refused without spending the address's attempts */
static void test_locked_attempts_cost_nothing(void **state)
{
    struct bt_loginguard *g = guard();
    struct bt_login_verdict v;
    (void)state;

    for (int i = 0; i < 5; i++)
        wrong(g, "admin", ATTACKER, T0, &v);
    for (int i = 0; i < 20; i++)
        assert_int_equal(bt_loginguard_check(g, "admin", ATTACKER, T0, &v), BT_ELIMIT);
    /* 5 of 10 attempts used */
    for (int i = 0; i < 5; i++)
        assert_int_equal(bt_loginguard_check(g, "alice", ATTACKER, T0, &v), BT_OK);
    assert_int_equal(bt_loginguard_check(g, "bob", ATTACKER, T0, &v), BT_ELIMIT);
    assert_int_equal(v.why, BT_LOGIN_ADDRESS);
    bt_loginguard_free(g);
}

/* IPv6 counts per /64; IPv4 written v4-mapped is the same client */
static void test_ipv6_per_64(void **state)
{
    struct bt_loginguard *g = guard();
    struct bt_login_verdict v;
    (void)state;

    for (int i = 0; i < 5; i++)
        wrong(g, "admin", "2001:db8:1:2::1", T0, &v);
    assert_true(v.locked_now);
    /* another address of the same /64 is the same client */
    assert_int_equal(bt_loginguard_check(g, "admin", "2001:db8:1:2:ffff:ffff:ffff:9", T0, &v),
                     BT_ELIMIT);
    assert_int_equal(v.why, BT_LOGIN_LOCKED);
    /* the next /64 is not */
    assert_int_equal(bt_loginguard_check(g, "admin", "2001:db8:1:3::1", T0, &v), BT_OK);

    for (int i = 0; i < 5; i++)
        wrong(g, "root", "::ffff:192.0.2.1", T0, &v);
    assert_int_equal(bt_loginguard_check(g, "root", "192.0.2.1", T0, &v), BT_ELIMIT);
    assert_int_equal(bt_loginguard_check(g, "root", "192.0.2.2", T0, &v), BT_OK);
    bt_loginguard_free(g);
}

/* pairs are kept apart whatever the account contains; long names work */
static void test_keys(void **state)
{
    struct bt_loginguard *g = guard();
    struct bt_login_verdict v;
    char longname[1000];
    (void)state;

    for (int i = 0; i < 5; i++)
        wrong(g, "x|y", "not an address", T0, &v);
    assert_int_equal(bt_loginguard_check(g, "x|y", "not an address", T0, &v), BT_ELIMIT);
    /* "not an address|x" + "y" would spell the same text without the length prefix */
    assert_int_equal(bt_loginguard_check(g, "y", "not an address|x", T0, &v), BT_OK);

    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    for (int i = 0; i < 5; i++)
        wrong(g, longname, OWNER, T0, &v);
    assert_int_equal(bt_loginguard_check(g, longname, OWNER, T0, &v), BT_ELIMIT);
    longname[998] = 'b'; /* differs in the last byte only */
    assert_int_equal(bt_loginguard_check(g, longname, OWNER, T0, &v), BT_OK);
    bt_loginguard_free(g);
}

/* attempts still being verified hold their failure: a sixth concurrent one is refused */
static void test_in_flight_attempts_reserved(void **state)
{
    struct bt_loginguard *g = guard();
    struct bt_login_verdict v;
    (void)state;

    for (int i = 0; i < 5; i++)
        assert_int_equal(bt_loginguard_check(g, "admin", ATTACKER, T0, &v), BT_OK);
    assert_int_equal(bt_loginguard_check(g, "admin", ATTACKER, T0, &v), BT_ELIMIT);
    assert_int_equal(v.why, BT_LOGIN_LOCKED);
    assert_true(v.locked_now);
    assert_int_equal(v.retry_after_s, 300);
    bt_loginguard_free(g);
}

struct race {
    struct bt_loginguard *g;
    atomic_int allowed;
};

static void *race_one(void *arg)
{
    struct race *r = arg;
    struct bt_login_verdict v;

    for (int i = 0; i < 4; i++)
        if (wrong(r->g, "admin", ATTACKER, T0, &v) == BT_OK)
            atomic_fetch_add(&r->allowed, 1);
    return NULL;
}

/* eight threads guessing at once get exactly five guesses */
static void test_threads_get_exactly_the_budget(void **state)
{
    struct bt_login_rules rules = bt_login_defaults;
    struct race r = {0};
    pthread_t th[8];
    (void)state;

    rules.ip_limit = 0; /* the pair's budget alone */
    r.g = bt_loginguard_new(&rules, 1000);
    assert_non_null(r.g);
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_one, &r), 0);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&r.allowed), 5);
    bt_loginguard_free(r.g);
}

/* each rule can be switched off on its own */
static void test_rules_off(void **state)
{
    struct bt_login_rules no_lock = bt_login_defaults, no_addr = bt_login_defaults;
    struct bt_loginguard *g;
    struct bt_login_verdict v;
    (void)state;

    no_lock.fail_limit = 0;
    g = bt_loginguard_new(&no_lock, 1000);
    assert_non_null(g);
    for (int i = 0; i < 10; i++)
        assert_int_equal(wrong(g, "admin", ATTACKER, T0, &v), BT_OK);
    assert_int_equal(bt_loginguard_check(g, "admin", ATTACKER, T0, &v), BT_ELIMIT);
    assert_int_equal(v.why, BT_LOGIN_ADDRESS);
    bt_loginguard_free(g);

    no_addr.ip_limit = 0;
    g = bt_loginguard_new(&no_addr, 1000);
    assert_non_null(g);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(bt_loginguard_check(g, "user", ATTACKER, T0, &v), BT_OK);
        bt_loginguard_succeeded(g, "user", ATTACKER);
    }
    bt_loginguard_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_refuses_nothing_to_guard),
        cmocka_unit_test(test_fifth_failure_locks),
        cmocka_unit_test(test_lock_lasts_lockout_seconds),
        cmocka_unit_test(test_budget_after_lockout),
        cmocka_unit_test(test_slow_failures_never_lock),
        cmocka_unit_test(test_stranger_cannot_lock_owner_out),
        cmocka_unit_test(test_other_account_from_locked_address),
        cmocka_unit_test(test_success_clears_failures),
        cmocka_unit_test(test_address_limit),
        cmocka_unit_test(test_locked_attempts_cost_nothing),
        cmocka_unit_test(test_ipv6_per_64),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_in_flight_attempts_reserved),
        cmocka_unit_test(test_threads_get_exactly_the_budget),
        cmocka_unit_test(test_rules_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
