/* SPDX-License-Identifier: MIT
 * loginguard.h - throttling of password logins, for every service that has them: a lock-out of
 * one account FROM ONE CLIENT ADDRESS after repeated failures, and a limit on login attempts
 * per client address. Three GCRA limiters (ratelimit.h) underneath.
 * Owns: failure counts and lock-outs, in memory, bounded, per process.
 * Must not: see a password, touch the database, or lock an account for everyone: the lock-out
 * is keyed by account AND address, so a stranger's wrong passwords never lock the owner out
 * (docs/CORE-MODULES.md "Login throttling" has the trade-off).
 *
 * Use (a login handler; the request-level calls take the guard from rq->ctx->login, the
 * address from rq->client_ip and the time from the monotonic clock):
 *
 *     (look the account up: what can fail besides the password, before the check)
 *     rc = bt_login_check(rq, rs, account_key, &v, err);  // before looking at the password
 *     if (rc != BT_OK) return rc;                          // 429, Retry-After set
 *     if (wrong password or unknown account) { bt_login_failed(rq, account_key); return 401; }
 *     bt_login_succeeded(rq, account_key);
 *
 * account_key is what the app looks the account up by (yunshui: the ASCII-folded user name),
 * the same for an unknown account as for a known one, so throttling tells nothing about
 * which accounts exist.
 */
#ifndef BENTO_LOGINGUARD_H
#define BENTO_LOGINGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_err;
struct bt_req;
struct bt_res;
struct bt_loginguard;

/* The rules; an app gives its defaults in struct bt_app.login, the operator overrides them with
 * S.login_limit, S.login_lockout and S.login_ip_limit. */
struct bt_login_rules {
    unsigned fail_limit;  /* failed logins of one account from one address allowed in a burst;
                           * the last of them locks that pair. 0 = no lock-out */
    unsigned lockout_s;   /* the burst refills at fail_limit per lockout_s (GCRA), and a lock-out
                           * lasts lockout_s seconds */
    unsigned ip_limit;    /* login attempts per client address per ip_window_s; 0 = no limit */
    unsigned ip_window_s; /* 0 is read as 60 */
};

/* 5 failures per 300 s, then 300 s locked; 10 attempts per minute per address (invite's
 * documented numbers, shared/spec/invite.md; the other documents name none). */
extern const struct bt_login_rules bt_login_defaults;

enum bt_login_refusal {
    BT_LOGIN_ALLOWED = 0,
    BT_LOGIN_LOCKED,  /* this account from this address is locked out */
    BT_LOGIN_ADDRESS, /* this address made too many attempts (any accounts) */
};

struct bt_login_verdict {
    bool allowed;
    enum bt_login_refusal why; /* BT_LOGIN_ALLOWED when allowed */
    unsigned retry_after_s;    /* refused: seconds until an attempt will be considered (>= 1) */
    unsigned failures_left;    /* failures the pair has left besides this attempt's: 0 = this
                                * attempt, if wrong, locks the pair */
    bool locked_now;           /* this call started a lock-out */
};

/** A guard with these rules, keeping state for at most max_keys keys per rule (a flood of
 *  distinct keys evicts, never grows; docs/CORE-MODULES.md). NULL when both fail_limit and
 *  ip_limit are 0 (nothing to guard) or on OOM. Free with bt_loginguard_free. Thread-safe. */
struct bt_loginguard *bt_loginguard_new(const struct bt_login_rules *rules, size_t max_keys);
void bt_loginguard_free(struct bt_loginguard *g);

/** May account try a password from addr at now_ms? Call BEFORE verifying the password: a
 *  locked pair is refused whatever password it brings. Counts one attempt for the address
 *  and reserves one failure for the pair, which only bt_loginguard_succeeded gives back, so
 *  concurrent attempts cannot get past the lock-out; an attempt is a failure until it
 *  succeeds, so call this after whatever else can fail (the account lookup), right before the
 *  verification. A pair whose failures are all spent is locked here too. Returns BT_OK or BT_ELIMIT
 * (out says why and for how long); BT_OK with a NULL g. addr is a client address as text; IPv6
 * addresses count per /64 (one subscriber's prefix), anything unparsable as itself. out may be
 * NULL. */
int bt_loginguard_check(struct bt_loginguard *g, const char *account, const char *addr,
                        int64_t now_ms, struct bt_login_verdict *out);

/** The password (or the account) was wrong: if the pair has no failure left, it is locked for
 *  lockout_s from now (out->locked_now). out may be NULL. */
void bt_loginguard_failed(struct bt_loginguard *g, const char *account, const char *addr,
                          int64_t now_ms, struct bt_login_verdict *out);

/** The password was right: forget the pair's failures (and a lock a concurrent failure may
 *  have set meanwhile). The address's attempts still count. */
void bt_loginguard_succeeded(struct bt_loginguard *g, const char *account, const char *addr);

/* ---- the same for a request: rq->ctx->login, rq->client_ip, bt_mono_ns ---- */

/** bt_loginguard_check for this request. Refused: sets Retry-After on rs and returns
 *  BT_ELIMIT through err (the app's renderer answers 429); out (may be NULL) tells the app
 *  why, to word its message. BT_OK when the service has no login rules. */
int bt_login_check(struct bt_req *rq, struct bt_res *rs, const char *account,
                   struct bt_login_verdict *out, struct bt_err *err);

/** bt_loginguard_failed for this request; logs a warning when it starts a lock-out (the
 *  client address, never the account name: users type passwords into that field). */
void bt_login_failed(struct bt_req *rq, const char *account);

/** bt_loginguard_succeeded for this request. */
void bt_login_succeeded(struct bt_req *rq, const char *account);

#endif
