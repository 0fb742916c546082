/* SPDX-License-Identifier: MIT
 * ratelimit.h - in-process rate limiting keyed by a string (client IP, user id, API key,
 * "ip|email"). One limiter = one rule ("100 requests per 60 s"); an app keeps one per rule.
 * Owns: the per-key state, bounded by max_keys (a flood of distinct keys evicts, never grows).
 * Must not: sleep, touch the database, or be shared across processes (each process limits
 * on its own; that is the documented deployment: one bento process per host).
 *
 * Algorithm: GCRA (the "generic cell rate algorithm", a token bucket written as one
 * timestamp per key); see src/ops/ratelimit.c and docs/CORE-MODULES.md for why.
 */
#ifndef BENTO_RATELIMIT_H
#define BENTO_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_res;
struct bt_ratelimit;

/* What one take decided, in the units of the response headers. */
struct bt_ratelimit_result {
    bool allowed;           /* this request may proceed */
    unsigned limit;         /* the rule's limit (X-RateLimit-Limit) */
    unsigned remaining;     /* requests still allowed right now (X-RateLimit-Remaining) */
    unsigned reset_s;       /* seconds until the full limit is available again, rounded up
                               (X-RateLimit-Reset, delta seconds); 0 = nothing used */
    unsigned retry_after_s; /* denied: seconds until one request is allowed, >= 1
                               (Retry-After); 0 when allowed */
};

/** A limiter allowing limit requests per window_s seconds per key, keeping state for at
 *  most max_keys keys. Returns NULL if limit, window_s or max_keys is 0 or on OOM.
 *  Free with bt_ratelimit_free. Thread-safe: takes on different keys rarely contend
 *  (64 independently locked shards). */
struct bt_ratelimit *bt_ratelimit_new(unsigned limit, unsigned window_s, size_t max_keys);
void bt_ratelimit_free(struct bt_ratelimit *rl);

/** Count one request for key at now_ms (milliseconds on any clock that does not go back
 *  in normal operation: bt_mono_ns() / 1000000 is the usual choice; tests inject it).
 *  Returns BT_OK when allowed, BT_ELIMIT when denied, BT_EINVAL if rl or key is NULL.
 *  A denied request does not consume anything. out may be NULL. Keys are compared as
 *  whole strings (any length; keys over 200 bytes are stored as a prefix plus a keyed
 *  hash of the whole, which only a 64-bit collision could merge). */
int bt_ratelimit_take(struct bt_ratelimit *rl, const char *key, int64_t now_ms,
                      struct bt_ratelimit_result *out);

/** The state key would see at now_ms, without counting a request (out->allowed tells
 *  whether a take would succeed). Returns BT_OK or BT_EINVAL. */
int bt_ratelimit_peek(struct bt_ratelimit *rl, const char *key, int64_t now_ms,
                      struct bt_ratelimit_result *out);

/** Forget key (e.g. clear a login limiter after a successful login). */
void bt_ratelimit_forget(struct bt_ratelimit *rl, const char *key);

/** Keys currently held (tests, metrics). Never more than max_keys. */
size_t bt_ratelimit_count(struct bt_ratelimit *rl);

/** Set X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset (delta seconds, like
 *  the IETF RateLimit draft and unlike GitHub's epoch) and, when denied, Retry-After. */
void bt_ratelimit_headers(struct bt_res *rs, const struct bt_ratelimit_result *r);

#endif
