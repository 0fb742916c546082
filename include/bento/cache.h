/* SPDX-License-Identifier: MIT
 * cache.h - read caches of small values (JSON text or bytes) by key, for hot rows that are
 * rarely written, kept correct across every bento instance on one database
 * (docs/CORE-MODULES.md, "Read caches"; the database objects in docs/DATABASE.md).
 *
 * Invalidation goes through the database, so every writer is covered, bento or not: a
 * migration line `{{CACHE <table> <cache> <key column>}}` puts a trigger on the table that,
 * on PostgreSQL, calls pg_notify inside the writing transaction (delivered at commit, never
 * on rollback) with the cache's name and the written row's key, old and new. Each process
 * has one listener (its own connection, LISTEN) that evicts those keys, and answers a
 * heartbeat every 20 ms: a cache serves only while the last heartbeat sent less than 80 ms
 * ago has been answered, so a write committed on any instance is never served stale for
 * longer than that, whatever happens to the listener's connection (lost: the caches are
 * emptied and bypassed until it listens again).
 *
 * SQLite: caches never serve (every get is a miss and put stores nothing). Reads there take
 * microseconds in-process, and another process may write the same file (`bento sql`, a
 * second instance) with nothing to tell this one.
 *
 * Use (cache-aside):
 *
 *     struct bt_cache_fill fill;
 *     if (bt_cache_get(c, key, rq->arena, &val, &len, &fill))
 *         return use(val);                    // a hit
 *     rc = read_from_the_database(&row);      // a miss: read ...
 *     if (rc == BT_OK)
 *         bt_cache_put(&fill, row, row_len);  // ... and offer it
 *
 * A fill remembers the cache's state when the miss happened; bt_cache_put stores the value
 * only if no invalidation of its key (nor a flush) came in between, so a row read just
 * before a write committed is never stored after that write's invalidation arrived.
 *
 * Thread-safety: every function may be called from any thread. A cache is split into 16
 * shards by key hash, each with its own mutex, so request threads rarely meet.
 */
#ifndef BENTO_CACHE_H
#define BENTO_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <bento/db.h>

struct bt_arena;
struct bt_buf;

struct bt_cache;

/* What a miss hands to bt_cache_put. Filled by bt_cache_get; treat as opaque. The key is
 * borrowed: it must stay valid until the put. */
struct bt_cache_fill {
    struct bt_cache *cache; /* NULL: the cache is not serving, put stores nothing */
    const char *key;
    uint64_t hash;
    uint64_t gen;   /* the key's shard generation at the miss */
    uint64_t epoch; /* the listener's connection epoch at the miss */
};

/* Counters of one cache, for /metrics and tests. */
struct bt_cache_stats {
    uint64_t hits;
    uint64_t misses;        /* including gets while not serving */
    uint64_t stores;        /* values put */
    uint64_t stale_fills;   /* puts refused: an invalidation came between miss and put */
    uint64_t invalidations; /* keys (or whole-cache flushes) invalidated by writes */
    uint64_t evictions;     /* values dropped to stay within the bounds */
    size_t entries, bytes;  /* now */
    bool serving;           /* now */
};

/** A cache named name ([a-z][a-z0-9_]*, at most 48 characters; start it with the app's name,
 *  as its tables do) on pool's database, holding at most max_entries values and max_bytes
 *  bytes of keys and values (each shard a sixteenth of both; the least recently used go
 *  first). pool NULL makes a cache of this process alone: always serving, invalidated only
 *  by bt_cache_evict (unit tests, values no other process writes). Free the caches of a pool
 *  before the pool. Two caches of one pool must not share a name (bt_bug). */
struct bt_cache *bt_cache_new(struct bt_dbpool *pool, const char *name, size_t max_entries,
                              size_t max_bytes);
void bt_cache_free(struct bt_cache *c);

/** On a hit: *val (a copy in a, NUL-terminated) and *len, true. On a miss: false, and fill
 *  is ready for bt_cache_put. */
bool bt_cache_get(struct bt_cache *c, const char *key, struct bt_arena *a, const char **val,
                  size_t *len, struct bt_cache_fill *fill);
/** Store the value read after the miss that filled fill, unless the key was invalidated
 *  since, the cache stopped serving, or the value exceeds a shard's byte budget. */
void bt_cache_put(const struct bt_cache_fill *fill, const void *val, size_t len);

/** bt_cache_get of a JSON value (stored as the compact text bt_json_dump writes); *out is
 *  arena-owned. A value that does not parse counts as a miss. */
bool bt_cache_get_json(struct bt_cache *c, const char *key, struct bt_arena *a, json_t **out,
                       struct bt_cache_fill *fill);
/** bt_cache_put of j as compact JSON text (built in a). */
void bt_cache_put_json(const struct bt_cache_fill *fill, struct bt_arena *a, const json_t *j);

/** Drop key (NULL: every key) from this process's copy and refuse fills begun before. Other
 *  instances are not told: a write to the database is what invalidates everywhere. For
 *  values only this process derives, an operator's "reload", and tests. */
void bt_cache_evict(struct bt_cache *c, const char *key);

/** After a write committed: returns once every invalidation of writes committed on pool's
 *  database before the call has reached this process's caches (one round trip of the
 *  listener), or at once when they are not serving. A handler calls it after its commit so
 *  that the client's next request to this instance sees the write. No-op on SQLite. */
void bt_cache_sync(struct bt_dbpool *pool);

/** Is c serving now (its listener connected and answering)? */
bool bt_cache_serving(struct bt_cache *c);
const char *bt_cache_name(const struct bt_cache *c);
void bt_cache_stats(struct bt_cache *c, struct bt_cache_stats *out);

/** Call fn for every cache of pool whose name starts with prefix (may be ""), under the
 *  pool's cache lock (fn must not create or free caches). */
void bt_cache_each(struct bt_dbpool *pool, const char *prefix,
                   void (*fn)(struct bt_cache *c, void *ud), void *ud);

/** Is pool's listener connected and answering? (false on SQLite and before the first cache) */
bool bt_cache_listening(struct bt_dbpool *pool);
/** Wait up to timeout_ms for bt_cache_listening to be true (tests, start-up checks); returns
 *  it. At once false on SQLite. */
bool bt_cache_wait_listening(struct bt_dbpool *pool, int timeout_ms);

/** The statements of the migration line {{CACHE table cache key}} for engine, appended to sql:
 *  on PostgreSQL a trigger function and two triggers on table that notify cache's listeners
 *  of every written row's key (old and new; TRUNCATE flushes the whole cache); nothing on
 *  SQLite. false when a name is not an identifier ([a-z_][a-z0-9_]*) or the generated names
 *  would exceed PostgreSQL's 63 characters. */
bool bt_cache_ddl(const char *table, const char *cache, const char *key, enum bt_engine engine,
                  struct bt_buf *sql);

#endif
