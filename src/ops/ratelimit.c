/* SPDX-License-Identifier: MIT
 * ratelimit.c - GCRA rate limiter keyed by string, sharded, memory-bounded.
 * Owns: per-key state (one theoretical arrival time), the shard locks and LRU lists.
 * Must not: allocate without bound (max_keys is a hard cap), hold a lock across anything
 *           but a few hash-table operations, or read the clock itself (now is passed in).
 *
 * Why GCRA rather than a fixed window or a sliding-window approximation:
 *  - a fixed window lets a client send 2 x limit requests around a window boundary (100 at
 *    0:59 and 100 at 1:00); GCRA never allows more than `limit` in any window_s interval;
 *  - a sliding-window approximation needs two counters and a timestamp per key and is still
 *    an estimate; GCRA keeps ONE int64 per key (the theoretical arrival time, TAT) and is
 *    exact, so Retry-After is the true time until the next request will pass;
 *  - it is a token bucket of capacity `limit` refilled at limit/window_s per second, which
 *    is what "100 requests/minute" means to a client: a burst of 100 is fine, then one
 *    request every 0.6 s.
 * With T = window/limit (the emission interval) and span = limit * T (about the window):
 *    tat = max(TAT, now); a request is allowed iff tat + T - span <= now; then TAT = tat + T.
 *    remaining = (span - (TAT - now)) / T, reset = TAT - now (time until the bucket is full),
 *    retry after (denied) = tat + T - span - now.
 * A key whose TAT <= now is indistinguishable from an absent key, so such entries can be
 * dropped at any time without changing any answer: that is the "expired" eviction. When a
 * shard is full of live keys the least recently used ones are examined and the one with
 * the smallest TAT (least state lost) is dropped: under a flood of distinct keys memory
 * stays at max_keys and the cost is that an evicted key starts over with a full bucket.
 *
 * Hash: SipHash-2-4 with a random per-limiter key, so clients choosing keys (IPs, e-mails)
 * cannot aim them at one chain or one shard.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <bento/err.h>
#include <bento/http.h>
#include <bento/ratelimit.h>

#define NSHARDS_MAX 64
#define KEY_RAW_MAX 200        /* longer keys are folded to prefix + '#' + 16 hex digits */
#define KEY_PREFIX 184         /* folded length 201: never equal to a raw (<= 200) key */
#define EVICT_SCAN 16          /* LRU-tail entries examined when a shard is full */
#define NOW_MS_MAX (1LL << 50) /* ~35,000 years: keeps now_ms * 1000 far from overflow */

struct entry {
    struct entry *next;                /* hash chain */
    struct entry *lru_prev, *lru_next; /* lru_prev towards the head (most recent) */
    uint64_t hash;
    int64_t tat_us;
    size_t klen;
    char key[];
};

struct shard {
    pthread_mutex_t mu;
    struct entry **buckets;
    size_t mask; /* nbuckets - 1 */
    size_t n, cap;
    struct entry *lru_head, *lru_tail;
    char pad[64]; /* keep neighbouring shards' locks off one cache line */
};

struct bt_ratelimit {
    unsigned limit;
    int64_t t_us;    /* emission interval */
    int64_t span_us; /* limit * t_us: how far TAT may run ahead of now */
    uint64_t k0, k1; /* SipHash key */
    size_t nshards;
    struct shard *shards;
};

/* ---------------------------------------------------------------------------------------
 * SipHash-2-4 (Aumasson & Bernstein), written from the paper's description.
 * ------------------------------------------------------------------------------------- */

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL64(v1, 13);                                                                       \
        v1 ^= v0;                                                                                  \
        v0 = ROTL64(v0, 32);                                                                       \
        v2 += v3;                                                                                  \
        v3 = ROTL64(v3, 16);                                                                       \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL64(v3, 21);                                                                       \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL64(v1, 17);                                                                       \
        v1 ^= v2;                                                                                  \
        v2 = ROTL64(v2, 32);                                                                       \
    } while (0)

static uint64_t siphash24(uint64_t k0, uint64_t k1, const unsigned char *in, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k1;
    uint64_t last = (uint64_t)len << 56;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t m = 0;
        for (int j = 0; j < 8; j++)
            m |= (uint64_t)in[i + (size_t)j] << (8 * j);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; i + j < len; j++)
        last |= (uint64_t)in[i + j] << (8 * j);
    v3 ^= last;
    SIPROUND;
    SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---------------------------------------------------------------------------------------
 * Construction
 * ------------------------------------------------------------------------------------- */

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

struct bt_ratelimit *bt_ratelimit_new(unsigned limit, unsigned window_s, size_t max_keys)
{
    struct bt_ratelimit *rl;
    uint64_t seed[2];
    size_t n = 1;

    if (!limit || !window_s || !max_keys)
        return NULL;
    rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    rl->limit = limit;
    /* Rounding T up keeps the burst at exactly `limit`; the window grows by < limit us. */
    rl->t_us = ((int64_t)window_s * 1000000 + limit - 1) / limit;
    rl->span_us = rl->t_us * (int64_t)limit;

    while (n * 2 <= NSHARDS_MAX && n * 2 <= max_keys)
        n *= 2;
    rl->nshards = n;
    rl->shards = calloc(n, sizeof(*rl->shards));
    if (!rl->shards) {
        free(rl);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct shard *s = &rl->shards[i];
        /* the caps add up to exactly max_keys */
        s->cap = max_keys / n + (i < max_keys % n ? 1 : 0);
        s->mask = pow2_at_least(s->cap) - 1;
        s->buckets = calloc(s->mask + 1, sizeof(*s->buckets));
        pthread_mutex_init(&s->mu, NULL);
        if (!s->buckets) {
            rl->nshards = i + 1;
            bt_ratelimit_free(rl);
            return NULL;
        }
    }

    /* A fixed fallback key only weakens flood resistance, never correctness. */
    if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
        seed[0] = (uint64_t)(uintptr_t)rl * 0x9e3779b97f4a7c15ULL;
        seed[1] = (uint64_t)(uintptr_t)&seed ^ 0xd1b54a32d192ed03ULL;
    }
    rl->k0 = seed[0];
    rl->k1 = seed[1];
    return rl;
}

void bt_ratelimit_free(struct bt_ratelimit *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < rl->nshards; i++) {
        struct shard *s = &rl->shards[i];
        struct entry *e = s->lru_head;
        while (e) {
            struct entry *next = e->lru_next;
            free(e);
            e = next;
        }
        free(s->buckets);
        pthread_mutex_destroy(&s->mu);
    }
    free(rl->shards);
    free(rl);
}

/* ---------------------------------------------------------------------------------------
 * Shard operations (caller holds s->mu)
 * ------------------------------------------------------------------------------------- */

/* The identity of key: the key itself, or for long keys a prefix plus a keyed hash. */
static size_t key_fold(const struct bt_ratelimit *rl, const char *key, char *buf, const char **out)
{
    size_t klen = strlen(key);
    uint64_t h;

    if (klen <= KEY_RAW_MAX) {
        *out = key;
        return klen;
    }
    h = siphash24(rl->k1, rl->k0, (const unsigned char *)key, klen);
    memcpy(buf, key, KEY_PREFIX);
    snprintf(buf + KEY_PREFIX, 18, "#%016llx", (unsigned long long)h);
    *out = buf;
    return KEY_PREFIX + 17;
}

static void lru_unlink(struct shard *s, struct entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        s->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        s->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct shard *s, struct entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = s->lru_head;
    if (s->lru_head)
        s->lru_head->lru_prev = e;
    s->lru_head = e;
    if (!s->lru_tail)
        s->lru_tail = e;
}

static struct entry *shard_find(struct shard *s, uint64_t h, const char *key, size_t klen)
{
    for (struct entry *e = s->buckets[h & s->mask]; e; e = e->next)
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    return NULL;
}

static void shard_remove(struct shard *s, struct entry *e)
{
    struct entry **pp = &s->buckets[e->hash & s->mask];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
    lru_unlink(s, e);
    s->n--;
    free(e);
}

/* Make room for one entry: an expired entry if one is near the LRU tail (no information
 * lost), else the live one with the smallest TAT among the oldest EVICT_SCAN. */
static void shard_evict_one(struct shard *s, int64_t now_us)
{
    struct entry *victim = NULL;
    int seen = 0;

    for (struct entry *e = s->lru_tail; e && seen < EVICT_SCAN; e = e->lru_prev, seen++) {
        if (e->tat_us <= now_us) {
            victim = e;
            break;
        }
        if (!victim || e->tat_us < victim->tat_us)
            victim = e;
    }
    if (victim)
        shard_remove(s, victim);
}

/* ---------------------------------------------------------------------------------------
 * Decisions
 * ------------------------------------------------------------------------------------- */

static unsigned ceil_s(int64_t us)
{
    if (us <= 0)
        return 0;
    int64_t s = (us + 999999) / 1000000;
    return s > (int64_t)UINT32_MAX ? UINT32_MAX : (unsigned)s;
}

/* Fill out for a key whose (clamped) TAT is tat, after or instead of a take. */
static void describe(const struct bt_ratelimit *rl, int64_t tat, int64_t now_us, bool allowed,
                     struct bt_ratelimit_result *out)
{
    int64_t room = rl->span_us - (tat - now_us);
    int64_t rem = room > 0 ? room / rl->t_us : 0;

    out->allowed = allowed;
    out->limit = rl->limit;
    out->remaining = rem > (int64_t)rl->limit ? rl->limit : (unsigned)rem;
    out->reset_s = ceil_s(tat - now_us);
    out->retry_after_s = 0;
    if (!allowed) {
        unsigned ra = ceil_s(tat + rl->t_us - rl->span_us - now_us);
        out->retry_after_s = ra ? ra : 1;
    }
}

static int64_t clamp_now_us(int64_t now_ms)
{
    if (now_ms > NOW_MS_MAX)
        now_ms = NOW_MS_MAX;
    if (now_ms < -NOW_MS_MAX)
        now_ms = -NOW_MS_MAX;
    return now_ms * 1000;
}

static int run(struct bt_ratelimit *rl, const char *key, int64_t now_ms, bool take,
               struct bt_ratelimit_result *out)
{
    char buf[KEY_PREFIX + 18];
    const char *k;
    size_t klen;
    uint64_t h;
    struct shard *s;
    struct entry *e;
    int64_t now_us = clamp_now_us(now_ms), tat;
    bool allowed;
    struct bt_ratelimit_result scratch;

    if (!rl || !key)
        return BT_EINVAL;
    if (!out)
        out = &scratch;
    klen = key_fold(rl, key, buf, &k);
    h = siphash24(rl->k0, rl->k1, (const unsigned char *)k, klen);
    /* the top bits pick the shard, the low bits the bucket: independent enough */
    s = &rl->shards[(h >> 58) & (rl->nshards - 1)];

    pthread_mutex_lock(&s->mu);
    e = shard_find(s, h, k, klen);
    tat = e && e->tat_us > now_us ? e->tat_us : now_us;
    allowed = tat + rl->t_us - rl->span_us <= now_us;
    if (take && allowed) {
        tat += rl->t_us;
        if (!e) {
            if (s->n >= s->cap)
                shard_evict_one(s, now_us);
            e = malloc(sizeof(*e) + klen);
            if (!e)
                bt_bug("out of memory in the rate limiter");
            e->hash = h;
            e->klen = klen;
            memcpy(e->key, k, klen);
            e->next = s->buckets[h & s->mask];
            s->buckets[h & s->mask] = e;
            s->n++;
        } else {
            lru_unlink(s, e);
        }
        e->tat_us = tat;
        lru_push_front(s, e);
    } else if (take && e) {
        lru_unlink(s, e);
        lru_push_front(s, e);
    }
    /* Amortised clean-up: one expired entry per call keeps idle memory shrinking. */
    if (s->lru_tail && s->lru_tail != e && s->lru_tail->tat_us <= now_us)
        shard_remove(s, s->lru_tail);
    pthread_mutex_unlock(&s->mu);

    describe(rl, tat, now_us, allowed, out);
    if (!take)
        return BT_OK;
    return allowed ? BT_OK : BT_ELIMIT;
}

int bt_ratelimit_take(struct bt_ratelimit *rl, const char *key, int64_t now_ms,
                      struct bt_ratelimit_result *out)
{
    return run(rl, key, now_ms, true, out);
}

int bt_ratelimit_peek(struct bt_ratelimit *rl, const char *key, int64_t now_ms,
                      struct bt_ratelimit_result *out)
{
    return run(rl, key, now_ms, false, out);
}

void bt_ratelimit_forget(struct bt_ratelimit *rl, const char *key)
{
    char buf[KEY_PREFIX + 18];
    const char *k;
    size_t klen;
    uint64_t h;
    struct shard *s;
    struct entry *e;

    if (!rl || !key)
        return;
    klen = key_fold(rl, key, buf, &k);
    h = siphash24(rl->k0, rl->k1, (const unsigned char *)k, klen);
    s = &rl->shards[(h >> 58) & (rl->nshards - 1)];
    pthread_mutex_lock(&s->mu);
    e = shard_find(s, h, k, klen);
    if (e)
        shard_remove(s, e);
    pthread_mutex_unlock(&s->mu);
}

size_t bt_ratelimit_count(struct bt_ratelimit *rl)
{
    size_t total = 0;

    if (!rl)
        return 0;
    for (size_t i = 0; i < rl->nshards; i++) {
        pthread_mutex_lock(&rl->shards[i].mu);
        total += rl->shards[i].n;
        pthread_mutex_unlock(&rl->shards[i].mu);
    }
    return total;
}

void bt_ratelimit_headers(struct bt_res *rs, const struct bt_ratelimit_result *r)
{
    char v[16];

    snprintf(v, sizeof(v), "%u", r->limit);
    bt_res_header(rs, "X-RateLimit-Limit", v);
    snprintf(v, sizeof(v), "%u", r->remaining);
    bt_res_header(rs, "X-RateLimit-Remaining", v);
    snprintf(v, sizeof(v), "%u", r->reset_s);
    bt_res_header(rs, "X-RateLimit-Reset", v);
    if (!r->allowed) {
        snprintf(v, sizeof(v), "%u", r->retry_after_s ? r->retry_after_s : 1);
        bt_res_header(rs, "Retry-After", v);
    }
}
