/* SPDX-License-Identifier: MIT
 * arena.h - bump allocator owned by one request (or one job run).
 * Owns: memory whose lifetime is one request; deferred clean-ups of foreign resources.
 * Must not: be shared between threads; be used for anything that outlives a reset.
 */
#ifndef BENTO_ARENA_H
#define BENTO_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include <jansson.h>

struct bt_arena;

/** Create an arena. Never returns NULL (aborts on OOM). Caller frees with bt_arena_free. */
struct bt_arena *bt_arena_new(void);

/** Run the defers, then release every block. NULL is allowed. */
void bt_arena_free(struct bt_arena *a);

/** Run the defers (reverse order of registration) and forget every allocation, keeping the
 *  first block for reuse. */
void bt_arena_reset(struct bt_arena *a);

/** Zeroed, 16-byte aligned memory owned by the arena. Never returns NULL. */
void *bt_arena_alloc(struct bt_arena *a, size_t n);

/** Arena-owned copies. s == NULL -> NULL. bt_arena_strndup copies at most n bytes and always
 *  NUL-terminates. */
char *bt_arena_strdup(struct bt_arena *a, const char *s);
char *bt_arena_strndup(struct bt_arena *a, const char *s, size_t n);
void *bt_arena_memdup(struct bt_arena *a, const void *p, size_t n);

char *bt_arena_printf(struct bt_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *bt_arena_vprintf(struct bt_arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/** Run fn(p) when the arena is reset or freed, in reverse order of registration. Use it to
 *  tie foreign resources (json_t, a pooled DB connection, FILE *) to the request. */
void bt_arena_defer(struct bt_arena *a, void (*fn)(void *), void *p);

/** The arena now owns the caller's reference to j (json_decref at reset). Returns j.
 *  j == NULL -> NULL. */
json_t *bt_json_own(struct bt_arena *a, json_t *j);

/** Bytes currently handed out (for tests and metrics). */
size_t bt_arena_used(const struct bt_arena *a);

/* ---- growable byte buffer backed by an arena ---- */

/** A string builder whose storage lives in an arena; old storage is simply abandoned when it
 *  grows (the arena frees everything at reset). p is always NUL-terminated. */
struct bt_buf {
    struct bt_arena *a;
    char *p;
    size_t len, cap;
};

void bt_buf_init(struct bt_buf *b, struct bt_arena *a, size_t cap);
void bt_buf_add(struct bt_buf *b, const void *p, size_t n);
void bt_buf_adds(struct bt_buf *b, const char *s);
void bt_buf_addc(struct bt_buf *b, char c);
void bt_buf_addf(struct bt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
