/* SPDX-License-Identifier: MIT
 * cache.c - the read caches (include/bento/cache.h): sharded tables of values with a
 * generation per shard, bounded by entries and bytes; and the pool's cache bus, which knows
 * every cache of the pool, runs the PostgreSQL listener's thread (heartbeat, lease,
 * reconnection) and hands each invalidation to its cache.
 * Owns: when a cache may serve, and which fills may be stored.
 * Must not: know libpq (cache_pg.c talks to the server); serve a value while the listener
 * cannot vouch for it; hold a shard lock while doing anything slower than a copy.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <bento/arena.h>
#include <bento/cache.h>
#include <bento/err.h>
#include <bento/json.h>
#include <bento/log.h>
#include <bento/time.h>

#include "db/db_private.h"

#define SHARDS 16
#define NAME_MAX_LEN 48

#define MS 1000000ull
/* The listener asks the server for a heartbeat this often; a cache serves only until
 * LEASE_NS after the last answered heartbeat was sent. Every notification of a write that
 * committed before a heartbeat was sent arrives before that heartbeat's answer (the server
 * delivers pending notifications before it reports ready), so a served value is never older
 * than the writes of the last LEASE_NS: the 100 ms promise, with room for the listener's own
 * wake-up. */
#define HEARTBEAT_NS (20 * MS)
#define LEASE_NS (80 * MS)
/* no answer to a heartbeat for this long: the connection is dead even if the socket does not
 * say so (the lease ran out long before; this only decides when to reconnect) */
#define DEAD_NS (2000 * MS)
/* waits between failed connection attempts: doubling from the first to the last */
#define RETRY_FIRST_MS 50
#define RETRY_LAST_MS 2000
/* bt_cache_sync gives up after this long (the listener is then being replaced anyway) */
#define SYNC_MAX_NS (DEAD_NS + 500 * MS)

/* ---- one cache ---- */

struct entry {
    struct entry *hnext;       /* hash chain */
    struct entry *prev, *next; /* recency list, most recent first */
    uint64_t hash;
    size_t klen, vlen;
    char data[]; /* key, NUL, value, NUL */
};

struct shard {
    pthread_mutex_t mu;
    uint64_t gen; /* bumped by every invalidation of a key of this shard and every flush */
    struct entry **buckets;
    size_t nbuckets; /* a power of two */
    struct entry *head, *tail;
    size_t n, bytes, max_n, max_bytes;
    uint64_t hits, misses, stores, stale, invalidations, evictions;
} __attribute__((aligned(64)));

struct bt_cache {
    char name[NAME_MAX_LEN + 1];
    struct bt_cachebus *bus; /* NULL: this process alone, always serving */
    struct bt_cache *next;   /* the bus's list */
    struct shard shards[SHARDS];
};

/* ---- the bus: one per pool ---- */

struct bt_cachebus {
    enum bt_engine engine;
    char *url;
    pthread_mutex_t mu; /* caches, sync tickets, stop */
    pthread_cond_t cv;  /* CLOCK_MONOTONIC; a heartbeat answered, the connection lost */
    struct bt_cache *caches;
    atomic_uint_fast64_t lease_ns; /* serving while bt_mono_ns() < lease_ns; 0 = not */
    atomic_uint_fast64_t epoch;    /* bumped when the listener connects and when it is lost */
    uint64_t sync_asked;           /* tickets handed to bt_cache_sync callers */
    uint64_t sync_done;            /* every ticket up to this one is covered */
    bool stop;
    int wake_fd; /* eventfd: stop, or a sync waiting for a heartbeat */
    pthread_t thread;
    bool running;
};

static uint64_t key_hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *key; key++) {
        h ^= (unsigned char)*key;
        h *= 1099511628211ULL;
    }
    /* FNV-1a alone leaves the top bits of short keys ("1", "k42") nearly constant; the shard
     * comes from the top four and the bucket from the low ones: finish with MurmurHash3's
     * 64-bit mixer */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static struct shard *shard_of(struct bt_cache *c, uint64_t hash)
{
    return &c->shards[hash >> 60];
}

static bool name_ok(const char *s, size_t max)
{
    size_t n = 0;

    if (!s || !((*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (; *s; s++, n++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    }
    return n <= max;
}

static bool bus_serving(struct bt_cachebus *bus)
{
    if (!bus)
        return true;
    return bt_mono_ns() < atomic_load_explicit(&bus->lease_ns, memory_order_acquire);
}

bool bt_cache_serving(struct bt_cache *c)
{
    return bus_serving(c->bus);
}

const char *bt_cache_name(const struct bt_cache *c)
{
    return c->name;
}

/* ---- shard operations (caller holds s->mu) ---- */

static void list_unlink(struct shard *s, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        s->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->tail = e->prev;
    e->prev = e->next = NULL;
}

static void list_push(struct shard *s, struct entry *e)
{
    e->prev = NULL;
    e->next = s->head;
    if (s->head)
        s->head->prev = e;
    s->head = e;
    if (!s->tail)
        s->tail = e;
}

static size_t entry_bytes(const struct entry *e)
{
    return sizeof(*e) + e->klen + e->vlen + 2;
}

static struct entry **find_slot(struct shard *s, uint64_t hash, const char *key)
{
    struct entry **pe = &s->buckets[hash & (s->nbuckets - 1)];

    for (; *pe; pe = &(*pe)->hnext) {
        if ((*pe)->hash == hash && !strcmp((*pe)->data, key))
            return pe;
    }
    return pe;
}

static void entry_remove(struct shard *s, struct entry **slot)
{
    struct entry *e = *slot;

    *slot = e->hnext;
    list_unlink(s, e);
    s->n--;
    s->bytes -= entry_bytes(e);
    free(e);
}

static void shard_clear(struct shard *s)
{
    struct entry *e = s->head;

    while (e) {
        struct entry *next = e->next;
        free(e);
        e = next;
    }
    memset(s->buckets, 0, s->nbuckets * sizeof(*s->buckets));
    s->head = s->tail = NULL;
    s->n = s->bytes = 0;
}

/* make room for one more entry of size bytes: the least recently used go first */
static void shard_trim(struct shard *s, size_t bytes)
{
    while (s->tail && (s->n + 1 > s->max_n || s->bytes + bytes > s->max_bytes)) {
        struct entry *victim = s->tail;
        entry_remove(s, find_slot(s, victim->hash, victim->data));
        s->evictions++;
    }
}

static void shard_evict_key(struct shard *s, uint64_t hash, const char *key)
{
    struct entry **slot;

    pthread_mutex_lock(&s->mu);
    slot = find_slot(s, hash, key);
    if (*slot)
        entry_remove(s, slot);
    s->gen++;
    s->invalidations++;
    pthread_mutex_unlock(&s->mu);
}

static void cache_flush(struct bt_cache *c, bool count)
{
    for (size_t i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        pthread_mutex_lock(&s->mu);
        shard_clear(s);
        s->gen++;
        if (count && i == 0)
            s->invalidations++;
        pthread_mutex_unlock(&s->mu);
    }
}

/* ---- get and put ---- */

bool bt_cache_get(struct bt_cache *c, const char *key, struct bt_arena *a, const char **val,
                  size_t *len, struct bt_cache_fill *fill)
{
    uint64_t hash = key_hash(key);
    struct shard *s = shard_of(c, hash);
    struct entry **slot;
    bool serving;

    *val = NULL;
    *len = 0;
    *fill = (struct bt_cache_fill){.key = key, .hash = hash};
    /* the epoch before the lease: a connection lost after this point bumps the epoch, and
     * the put is refused */
    if (c->bus)
        fill->epoch = atomic_load_explicit(&c->bus->epoch, memory_order_acquire);
    pthread_mutex_lock(&s->mu);
    /* the lease is checked at the lookup itself, which no eviction can overtake */
    serving = bus_serving(c->bus);
    if (serving && *(slot = find_slot(s, hash, key))) {
        struct entry *e = *slot;
        char *copy = bt_arena_alloc(a, e->vlen + 1);
        memcpy(copy, e->data + e->klen + 1, e->vlen + 1);
        *val = copy;
        *len = e->vlen;
        if (s->head != e) {
            list_unlink(s, e);
            list_push(s, e);
        }
        s->hits++;
        pthread_mutex_unlock(&s->mu);
        return true;
    }
    s->misses++;
    if (serving) {
        fill->cache = c;
        fill->gen = s->gen;
    }
    pthread_mutex_unlock(&s->mu);
    return false;
}

void bt_cache_put(const struct bt_cache_fill *fill, const void *val, size_t len)
{
    struct bt_cache *c = fill->cache;
    size_t klen, need;
    struct shard *s;
    struct entry *e, **slot;

    if (!c)
        return;
    s = shard_of(c, fill->hash);
    klen = strlen(fill->key);
    need = sizeof(*e) + klen + len + 2;
    if (need > s->max_bytes)
        return;
    e = malloc(need);
    if (!e)
        return; /* a cache may always decline */
    e->hash = fill->hash;
    e->klen = klen;
    e->vlen = len;
    memcpy(e->data, fill->key, klen + 1);
    memcpy(e->data + klen + 1, val, len);
    e->data[klen + 1 + len] = '\0';

    pthread_mutex_lock(&s->mu);
    /* Stored only if nothing was invalidated in this shard since the miss (the row read may
     * predate a write whose invalidation already arrived), the listener's connection is the
     * one of the miss (one lost meanwhile may have missed invalidations) and the cache still
     * serves. The shard lock orders this against evictions: a later one removes the entry. */
    if (s->gen != fill->gen || !bus_serving(c->bus) ||
        (c->bus && atomic_load_explicit(&c->bus->epoch, memory_order_acquire) != fill->epoch)) {
        s->stale++;
        pthread_mutex_unlock(&s->mu);
        free(e);
        return;
    }
    slot = find_slot(s, fill->hash, fill->key);
    if (*slot)
        entry_remove(s, slot);
    shard_trim(s, need);
    slot = find_slot(s, fill->hash, fill->key);
    e->hnext = NULL;
    *slot = e;
    list_push(s, e);
    s->n++;
    s->bytes += need;
    s->stores++;
    pthread_mutex_unlock(&s->mu);
}

bool bt_cache_get_json(struct bt_cache *c, const char *key, struct bt_arena *a, json_t **out,
                       struct bt_cache_fill *fill)
{
    const char *text;
    size_t len;
    json_t *j;

    *out = NULL;
    if (!bt_cache_get(c, key, a, &text, &len, fill))
        return false;
    j = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    if (!j) {
        /* cannot happen for what put_json stored; behave as a miss that may not fill */
        *fill = (struct bt_cache_fill){.key = key};
        return false;
    }
    *out = bt_json_own(a, j);
    return true;
}

void bt_cache_put_json(const struct bt_cache_fill *fill, struct bt_arena *a, const json_t *j)
{
    size_t len;
    char *text;

    if (!fill->cache)
        return;
    text = bt_json_dump(a, j, &len);
    bt_cache_put(fill, text, len);
}

void bt_cache_evict(struct bt_cache *c, const char *key)
{
    if (key) {
        uint64_t hash = key_hash(key);
        shard_evict_key(shard_of(c, hash), hash, key);
    } else {
        cache_flush(c, true);
    }
}

void bt_cache_stats(struct bt_cache *c, struct bt_cache_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        pthread_mutex_lock(&s->mu);
        out->hits += s->hits;
        out->misses += s->misses;
        out->stores += s->stores;
        out->stale_fills += s->stale;
        out->invalidations += s->invalidations;
        out->evictions += s->evictions;
        out->entries += s->n;
        out->bytes += s->bytes;
        pthread_mutex_unlock(&s->mu);
    }
    out->serving = bt_cache_serving(c);
}

/* ---- the bus ---- */

static void bus_lock(struct bt_cachebus *bus)
{
    pthread_mutex_lock(&bus->mu);
}

static void bus_unlock(struct bt_cachebus *bus)
{
    pthread_mutex_unlock(&bus->mu);
}

static void bus_wake(struct bt_cachebus *bus)
{
    uint64_t one = 1;

    if (write(bus->wake_fd, &one, sizeof(one)) < 0) {
        /* the counter is saturated only if nobody reads it: the thread is awake anyway */
    }
}

/* Everything cached may be stale (a connection lost, or a new one that heard nothing of
 * the time before): stop serving, refuse fills begun before, empty every cache. */
static void bus_flush(struct bt_cachebus *bus)
{
    atomic_store_explicit(&bus->lease_ns, 0, memory_order_release);
    atomic_fetch_add_explicit(&bus->epoch, 1, memory_order_acq_rel);
    bus_lock(bus);
    for (struct bt_cache *c = bus->caches; c; c = c->next)
        cache_flush(c, false);
    pthread_cond_broadcast(&bus->cv); /* sync waiters: nothing older can be served now */
    bus_unlock(bus);
}

/* One notification: "<cache> <key>" evicts the key, "<cache>" the whole cache. Caches this
 * process does not have are none of its business. */
static void bus_dispatch(void *ud, const char *payload)
{
    struct bt_cachebus *bus = ud;
    const char *sp = strchr(payload, ' ');
    size_t n = sp ? (size_t)(sp - payload) : strlen(payload);

    bus_lock(bus);
    for (struct bt_cache *c = bus->caches; c; c = c->next) {
        if (strlen(c->name) == n && !memcmp(c->name, payload, n)) {
            bt_cache_evict(c, sp ? sp + 1 : NULL);
            break;
        }
    }
    bus_unlock(bus);
}

static bool bus_stopping(struct bt_cachebus *bus)
{
    bool stop;

    bus_lock(bus);
    stop = bus->stop;
    bus_unlock(bus);
    return stop;
}

/* Sleep up to ms, or until woken (stop). */
static void bus_nap(struct bt_cachebus *bus, int ms)
{
    struct pollfd pfd = {.fd = bus->wake_fd, .events = POLLIN};
    uint64_t v;

    if (poll(&pfd, 1, ms) > 0 && read(bus->wake_fd, &v, sizeof(v)) < 0) {
        /* drained by someone else: nothing to do */
    }
}

/* The listener: connect and LISTEN, then a heartbeat every HEARTBEAT_NS (or at once when a
 * bt_cache_sync waits), evicting what each notification names. The lease is extended only
 * by an answered heartbeat, after every notification read before it was handled. */
static void *bus_main(void *arg)
{
    struct bt_cachebus *bus = arg;
    struct bt_cache_pg *l = NULL;
    uint64_t ping_sent = 0, ping_ticket = 0, next_ping = 0;
    bool ping_out = false, warned = false;
    int retry_ms = 0;

    while (!bus_stopping(bus)) {
        struct pollfd pfd[2];
        uint64_t now, ticket, v;
        struct bt_err err;
        int timeout_ms;
        bool pong = false;

        if (!l) {
            if (retry_ms)
                bus_nap(bus, retry_ms);
            if (bus_stopping(bus))
                break;
            bt_err_clear(&err);
            if (bt_cache_pg_open(bus->url, &l, &err) != BT_OK) {
                if (!warned)
                    bt_log_warn("cache listener cannot connect: caches bypassed", "detail", err.msg,
                                NULL);
                warned = true;
                retry_ms = retry_ms ? retry_ms * 2 : RETRY_FIRST_MS;
                if (retry_ms > RETRY_LAST_MS)
                    retry_ms = RETRY_LAST_MS;
                continue;
            }
            /* listening from here on: what was cached before may have missed a write */
            bus_flush(bus);
            if (warned)
                bt_log_info("cache listener connected again", "caches", "serving", NULL);
            warned = false;
            retry_ms = 0;
            ping_out = false;
            next_ping = 0;
        }

        now = bt_mono_ns();
        bus_lock(bus);
        ticket = bus->sync_asked;
        bus_unlock(bus);
        if (!ping_out && (now >= next_ping || ticket > ping_ticket)) {
            if (!bt_cache_pg_ping(l))
                goto lost;
            ping_out = true;
            ping_sent = now;
            ping_ticket = ticket;
        }

        if (ping_out)
            timeout_ms = (int)((ping_sent + DEAD_NS > now ? ping_sent + DEAD_NS - now : 0) / MS);
        else
            timeout_ms = (int)((next_ping > now ? next_ping - now : 0) / MS);
        pfd[0] = (struct pollfd){.fd = bt_cache_pg_fd(l), .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = bus->wake_fd, .events = POLLIN};
        if (poll(pfd, 2, timeout_ms + 1) < 0 && errno != EINTR)
            goto lost;
        if ((pfd[1].revents & POLLIN) && read(bus->wake_fd, &v, sizeof(v)) < 0) {
            /* drained already */
        }
        if (pfd[0].revents) {
            if (!bt_cache_pg_read(l, bus_dispatch, bus, &pong))
                goto lost;
            if (pong && ping_out) {
                /* every notification sent before the answer has been handled above */
                ping_out = false;
                atomic_store_explicit(&bus->lease_ns, ping_sent + LEASE_NS, memory_order_release);
                next_ping = ping_sent + HEARTBEAT_NS;
                bus_lock(bus);
                if (ping_ticket > bus->sync_done)
                    bus->sync_done = ping_ticket;
                pthread_cond_broadcast(&bus->cv);
                bus_unlock(bus);
            }
        }
        if (ping_out && bt_mono_ns() - ping_sent > DEAD_NS)
            goto lost;
        continue;
    lost:
        bus_flush(bus);
        bt_log_warn("cache listener lost its connection: caches bypassed until it listens again",
                    "detail", l ? bt_cache_pg_error(l) : "", NULL);
        bt_cache_pg_close(l);
        l = NULL;
        warned = true;
        ping_out = false;
    }
    bt_cache_pg_close(l);
    return NULL;
}

struct bt_cachebus *bt_cachebus_new(enum bt_engine engine, const char *url)
{
    struct bt_cachebus *bus = calloc(1, sizeof(*bus));
    pthread_condattr_t ca;

    if (!bus)
        bt_bug("cache bus: out of memory");
    bus->engine = engine;
    bus->wake_fd = -1;
    pthread_mutex_init(&bus->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&bus->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&bus->lease_ns, 0);
    atomic_init(&bus->epoch, 1);
    if (engine != BT_ENGINE_PG)
        return bus; /* SQLite: never serving, no listener */
    bus->url = strdup(url);
    bus->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!bus->url || bus->wake_fd < 0)
        bt_bug("cache bus: cannot set up the listener");
    if (pthread_create(&bus->thread, NULL, bus_main, bus) != 0)
        bt_bug("cache bus: cannot start the listener thread");
    bus->running = true;
    return bus;
}

void bt_cachebus_free(struct bt_cachebus *bus)
{
    if (!bus)
        return;
    if (bus->running) {
        bus_lock(bus);
        bus->stop = true;
        pthread_cond_broadcast(&bus->cv);
        bus_unlock(bus);
        bus_wake(bus);
        pthread_join(bus->thread, NULL);
    }
    if (bus->caches)
        bt_bug("cache bus: cache %s outlives its pool", bus->caches->name);
    if (bus->wake_fd >= 0)
        close(bus->wake_fd);
    pthread_cond_destroy(&bus->cv);
    pthread_mutex_destroy(&bus->mu);
    free(bus->url);
    free(bus);
}

/* ---- caches on a bus ---- */

struct bt_cache *bt_cache_new(struct bt_dbpool *pool, const char *name, size_t max_entries,
                              size_t max_bytes)
{
    struct bt_cache *c;

    if (!name_ok(name, NAME_MAX_LEN))
        bt_bug("bt_cache_new: bad cache name '%s'", name ? name : "(null)");
    c = calloc(1, sizeof(*c));
    if (!c)
        bt_bug("bt_cache_new: out of memory");
    snprintf(c->name, sizeof(c->name), "%s", name);
    for (size_t i = 0; i < SHARDS; i++) {
        struct shard *s = &c->shards[i];
        pthread_mutex_init(&s->mu, NULL);
        s->max_n = max_entries / SHARDS ? max_entries / SHARDS : 1;
        s->max_bytes = max_bytes / SHARDS ? max_bytes / SHARDS : 1;
        s->nbuckets = 4;
        while (s->nbuckets < s->max_n && s->nbuckets < 4096)
            s->nbuckets *= 2;
        s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
        if (!s->buckets)
            bt_bug("bt_cache_new: out of memory");
    }
    if (!pool)
        return c;
    c->bus = bt_dbpool_cachebus(pool);
    bus_lock(c->bus);
    for (struct bt_cache *o = c->bus->caches; o; o = o->next) {
        if (!strcmp(o->name, name))
            bt_bug("bt_cache_new: two caches named %s", name);
    }
    c->next = c->bus->caches;
    c->bus->caches = c;
    bus_unlock(c->bus);
    return c;
}

void bt_cache_free(struct bt_cache *c)
{
    if (!c)
        return;
    if (c->bus) {
        bus_lock(c->bus);
        for (struct bt_cache **pc = &c->bus->caches; *pc; pc = &(*pc)->next) {
            if (*pc == c) {
                *pc = c->next;
                break;
            }
        }
        bus_unlock(c->bus);
    }
    for (size_t i = 0; i < SHARDS; i++) {
        shard_clear(&c->shards[i]);
        free(c->shards[i].buckets);
        pthread_mutex_destroy(&c->shards[i].mu);
    }
    free(c);
}

void bt_cache_each(struct bt_dbpool *pool, const char *prefix,
                   void (*fn)(struct bt_cache *c, void *ud), void *ud)
{
    struct bt_cachebus *bus = bt_dbpool_cachebus_find(pool);
    size_t n = strlen(prefix);

    if (!bus)
        return;
    bus_lock(bus);
    for (struct bt_cache *c = bus->caches; c; c = c->next) {
        if (!strncmp(c->name, prefix, n))
            fn(c, ud);
    }
    bus_unlock(bus);
}

bool bt_cache_listening(struct bt_dbpool *pool)
{
    struct bt_cachebus *bus = bt_dbpool_cachebus_find(pool);

    return bus && bus->engine == BT_ENGINE_PG && bus_serving(bus);
}

static struct timespec deadline_in(uint64_t ns)
{
    uint64_t at = bt_mono_ns() + ns;

    return (struct timespec){.tv_sec = (time_t)(at / 1000000000ull),
                             .tv_nsec = (long)(at % 1000000000ull)};
}

bool bt_cache_wait_listening(struct bt_dbpool *pool, int timeout_ms)
{
    struct bt_cachebus *bus = bt_dbpool_cachebus_find(pool);
    struct timespec ts;
    bool up;

    if (!bus || bus->engine != BT_ENGINE_PG)
        return false;
    ts = deadline_in((uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * MS);
    bus_lock(bus);
    /* every answered heartbeat broadcasts */
    while (!(up = bus_serving(bus)) && !bus->stop) {
        if (pthread_cond_timedwait(&bus->cv, &bus->mu, &ts) == ETIMEDOUT) {
            up = bus_serving(bus);
            break;
        }
    }
    bus_unlock(bus);
    return up;
}

void bt_cache_sync(struct bt_dbpool *pool)
{
    struct bt_cachebus *bus = bt_dbpool_cachebus_find(pool);
    uint64_t ticket, epoch;
    struct timespec ts;

    if (!bus || bus->engine != BT_ENGINE_PG || !bus_serving(bus))
        return; /* nothing is served: nothing can be stale */
    ts = deadline_in(SYNC_MAX_NS);
    epoch = atomic_load_explicit(&bus->epoch, memory_order_acquire);
    bus_lock(bus);
    ticket = ++bus->sync_asked;
    bus_wake(bus);
    /* until a heartbeat sent after this point is answered, or the connection is replaced
     * (the caches were emptied then), or the bus stops */
    while (bus->sync_done < ticket && !bus->stop &&
           atomic_load_explicit(&bus->epoch, memory_order_acquire) == epoch) {
        if (pthread_cond_timedwait(&bus->cv, &bus->mu, &ts) == ETIMEDOUT)
            break;
    }
    bus_unlock(bus);
}

/* ---- DDL ---- */

bool bt_cache_ddl(const char *table, const char *cache, const char *key, enum bt_engine engine,
                  struct bt_buf *sql)
{
    if (!name_ok(table, 63) || !name_ok(cache, NAME_MAX_LEN) || !name_ok(key, 63))
        return false;
    /* <cache>_on_<table>, and that + "_truncate", name the function and triggers */
    if (strlen(cache) + strlen("_on_") + strlen(table) + strlen("_truncate") > 63)
        return false;
    if (engine == BT_ENGINE_PG)
        bt_cache_pg_ddl(table, cache, key, sql);
    return true;
}
