/* SPDX-License-Identifier: MIT
 * loginguard.c - login throttling over three GCRA limiters (src/ops/ratelimit.c):
 *   addrs  login attempts per client address: ip_limit per ip_window_s;
 *   fails  failures per (address, account) pair: a burst of fail_limit refilled over
 *          lockout_s; an attempt reserves one, a success gives them all back;
 *   locks  lock-outs per pair: a limiter of 1 per lockout_s is exactly "locked until": a take
 *          sets the pair's TAT to now + lockout_s and a peek refuses until then.
 * Owns: the three limiters and the key spelling: "<address>" for the address, and
 *       "<length>:<address>|<account>" for a pair (unambiguous whatever the two contain).
 * Must not: see a password, key anything by account alone (that would let anyone lock anyone
 *           out), or log an account name (users type passwords into that field).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bento/app.h>
#include <bento/err.h>
#include <bento/http.h>
#include <bento/log.h>
#include <bento/loginguard.h>
#include <bento/net.h>
#include <bento/ratelimit.h>
#include <bento/time.h>

const struct bt_login_rules bt_login_defaults = {
    .fail_limit = 5,
    .lockout_s = 300,
    .ip_limit = 10,
    .ip_window_s = 60,
};

struct bt_loginguard {
    struct bt_ratelimit *addrs; /* NULL when ip_limit is 0 */
    struct bt_ratelimit *fails; /* NULL when fail_limit is 0 (and then locks too) */
    struct bt_ratelimit *locks;
};

struct bt_loginguard *bt_loginguard_new(const struct bt_login_rules *rules, size_t max_keys)
{
    struct bt_loginguard *g;

    if (!rules || (!rules->fail_limit && !rules->ip_limit) || !max_keys)
        return NULL;
    if (rules->fail_limit && !rules->lockout_s)
        return NULL;
    g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    if (rules->ip_limit)
        g->addrs = bt_ratelimit_new(rules->ip_limit, rules->ip_window_s ? rules->ip_window_s : 60,
                                    max_keys);
    if (rules->fail_limit) {
        g->fails = bt_ratelimit_new(rules->fail_limit, rules->lockout_s, max_keys);
        g->locks = bt_ratelimit_new(1, rules->lockout_s, max_keys);
    }
    if ((rules->ip_limit && !g->addrs) || (rules->fail_limit && (!g->fails || !g->locks))) {
        bt_loginguard_free(g);
        return NULL;
    }
    return g;
}

void bt_loginguard_free(struct bt_loginguard *g)
{
    if (!g)
        return;
    bt_ratelimit_free(g->addrs);
    bt_ratelimit_free(g->fails);
    bt_ratelimit_free(g->locks);
    free(g);
}

/* ---- keys ---- */

/* The address as the guard counts it: IPv4 as itself, IPv6 by its /64 (a subscriber usually
 * gets a whole /64, so counting single IPv6 addresses would give one client 2^64 budgets),
 * anything unparsable as the text itself. */
static const char *addr_key(const char *addr, char buf[BT_IP_TEXT + 3])
{
    struct bt_ipaddr ip;

    if (!addr)
        return "";
    if (bt_ip_parse(addr, strlen(addr), &ip) != 0)
        return addr;
    if (bt_ip_is_v4(&ip))
        return bt_ip_format(&ip, buf);
    memset(ip.b + 8, 0, 8);
    bt_ip_format(&ip, buf);
    strcat(buf, "/64");
    return buf;
}

/* "<length of address>:<address>|<account>" in buf when it fits, else malloc'd. The length
 * keeps two pairs apart even if an unparsable address text contained '|'. */
struct pair {
    char buf[256];
    char *key;
    bool heap;
};

static void pair_make(struct pair *p, const char *addr, const char *account)
{
    char abuf[BT_IP_TEXT + 3];
    const char *a = addr_key(addr, abuf);
    size_t alen = strlen(a), need = 21 + alen + 1 + strlen(account ? account : "") + 1;

    p->heap = need > sizeof(p->buf);
    p->key = p->heap ? malloc(need) : p->buf;
    if (!p->key)
        bt_bug("out of memory in the login guard");
    snprintf(p->key, need, "%zu:%s|%s", alen, a, account ? account : "");
}

static void pair_release(struct pair *p)
{
    if (p->heap)
        free(p->key);
}

/* ---- decisions ---- */

static int refuse(struct bt_login_verdict *out, enum bt_login_refusal why, unsigned retry_s)
{
    out->allowed = false;
    out->why = why;
    out->retry_after_s = retry_s ? retry_s : 1;
    return BT_ELIMIT;
}

/* Lock the pair now; the verdict of an attempt it refuses. */
static void lock(struct bt_loginguard *g, const char *key, int64_t now_ms,
                 struct bt_login_verdict *out)
{
    struct bt_ratelimit_result r;

    /* a take on a limit of 1 per lockout_s: TAT = now + lockout_s (already locked: unchanged) */
    out->locked_now = bt_ratelimit_take(g->locks, key, now_ms, &r) == BT_OK;
    bt_ratelimit_peek(g->locks, key, now_ms, &r);
    out->retry_after_s = r.retry_after_s;
}

int bt_loginguard_check(struct bt_loginguard *g, const char *account, const char *addr,
                        int64_t now_ms, struct bt_login_verdict *out)
{
    struct bt_login_verdict scratch;
    struct bt_ratelimit_result r;
    struct pair p;
    int rc = BT_OK;

    if (!out)
        out = &scratch;
    memset(out, 0, sizeof(*out));
    out->allowed = true;
    if (!g)
        return BT_OK;
    pair_make(&p, addr, account);
    /* 1. a locked pair is refused before anything is counted or verified */
    if (g->locks) {
        bt_ratelimit_peek(g->locks, p.key, now_ms, &r);
        if (!r.allowed) {
            rc = refuse(out, BT_LOGIN_LOCKED, r.retry_after_s);
            goto done;
        }
    }
    /* 2. the address's attempts, whatever account they are for */
    if (g->addrs) {
        char abuf[BT_IP_TEXT + 3];
        if (bt_ratelimit_take(g->addrs, addr_key(addr, abuf), now_ms, &r) != BT_OK) {
            rc = refuse(out, BT_LOGIN_ADDRESS, r.retry_after_s);
            goto done;
        }
    }
    /* 3. reserve one failure; none left (concurrent attempts, or attempts that ended without
     *    a verdict) means the pair is spent: lock it */
    if (g->fails) {
        if (bt_ratelimit_take(g->fails, p.key, now_ms, &r) != BT_OK) {
            lock(g, p.key, now_ms, out);
            rc = refuse(out, BT_LOGIN_LOCKED, out->retry_after_s);
            goto done;
        }
        out->failures_left = r.remaining;
    }
done:
    pair_release(&p);
    return rc;
}

void bt_loginguard_failed(struct bt_loginguard *g, const char *account, const char *addr,
                          int64_t now_ms, struct bt_login_verdict *out)
{
    struct bt_login_verdict scratch;
    struct bt_ratelimit_result r;
    struct pair p;

    if (!out)
        out = &scratch;
    memset(out, 0, sizeof(*out));
    out->allowed = true;
    if (!g || !g->fails)
        return;
    pair_make(&p, addr, account);
    /* the failure was reserved by the check: only the lock is left to decide */
    bt_ratelimit_peek(g->fails, p.key, now_ms, &r);
    out->failures_left = r.remaining;
    if (r.remaining == 0) {
        lock(g, p.key, now_ms, out);
        out->allowed = false;
        out->why = BT_LOGIN_LOCKED;
    }
    pair_release(&p);
}

void bt_loginguard_succeeded(struct bt_loginguard *g, const char *account, const char *addr)
{
    struct pair p;

    if (!g || !g->fails)
        return;
    pair_make(&p, addr, account);
    bt_ratelimit_forget(g->fails, p.key);
    bt_ratelimit_forget(g->locks, p.key);
    pair_release(&p);
}

/* ---- per request ---- */

static int64_t now_ms(void)
{
    return (int64_t)(bt_mono_ns() / 1000000u);
}

int bt_login_check(struct bt_req *rq, struct bt_res *rs, const char *account,
                   struct bt_login_verdict *out, struct bt_err *err)
{
    struct bt_login_verdict scratch;
    char v[16];

    if (!out)
        out = &scratch;
    if (bt_loginguard_check(rq->ctx->login, account, rq->client_ip, now_ms(), out) == BT_OK)
        return BT_OK;
    snprintf(v, sizeof(v), "%u", out->retry_after_s);
    bt_res_header(rs, "Retry-After", v);
    return bt_fail(err, BT_ELIMIT, NULL, NULL);
}

void bt_login_failed(struct bt_req *rq, const char *account)
{
    struct bt_login_verdict v;
    char secs[16];

    bt_loginguard_failed(rq->ctx->login, account, rq->client_ip, now_ms(), &v);
    if (!v.locked_now)
        return;
    snprintf(secs, sizeof(secs), "%u", v.retry_after_s);
    bt_log_warn("login locked out after repeated failures", "service", rq->ctx->app->name, "client",
                rq->client_ip ? rq->client_ip : "", "seconds", secs, "request_id",
                rq->request_id ? rq->request_id : "", NULL);
}

void bt_login_succeeded(struct bt_req *rq, const char *account)
{
    bt_loginguard_succeeded(rq->ctx->login, account, rq->client_ip);
}
