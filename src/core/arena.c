/* SPDX-License-Identifier: MIT
 * arena.c - bump allocator with deferred clean-ups (h2o's pool + nginx's cleanups).
 * Owns: blocks of memory and the defer list of one request.
 * Must not: be used from two threads at once; return NULL (OOM aborts, as in Redis/h2o).
 *
 * Layout: a singly linked list of blocks, newest first. Allocation bumps inside the newest
 * block; a request larger than a quarter of the block size gets a block of its own so big
 * allocations don't waste the tail of the current block. reset() keeps only the first block
 * (the smallest, allocated with the arena) so a steady request load allocates nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bento/arena.h>
#include <bento/err.h>

#define ARENA_BLOCK 8192u
#define ARENA_ALIGN 16u

struct arena_block {
    struct arena_block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

struct arena_defer {
    struct arena_defer *next;
    void (*fn)(void *);
    void *p;
};

struct bt_arena {
    struct arena_block *head;  /* newest block */
    struct arena_block *first; /* kept across resets */
    struct arena_defer *defers;
    size_t total;
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        bt_bug("out of memory allocating %zu bytes", n);
    return p;
}

static struct arena_block *block_new(size_t size)
{
    struct arena_block *b = xmalloc(sizeof(*b) + size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

struct bt_arena *bt_arena_new(void)
{
    struct bt_arena *a = xmalloc(sizeof(*a));
    a->first = a->head = block_new(ARENA_BLOCK);
    a->defers = NULL;
    a->total = 0;
    return a;
}

static void run_defers(struct bt_arena *a)
{
    /* a deferred function may itself allocate or defer; loop until the list is empty */
    while (a->defers) {
        struct arena_defer *d = a->defers;
        a->defers = d->next;
        d->fn(d->p);
    }
}

void bt_arena_reset(struct bt_arena *a)
{
    struct arena_block *b, *next;

    run_defers(a);
    /* dedicated big blocks may sit behind the first block too: walk the whole list */
    for (b = a->head; b; b = next) {
        next = b->next;
        if (b != a->first)
            free(b);
    }
    a->head = a->first;
    a->first->next = NULL;
    a->first->used = 0;
    a->total = 0;
}

void bt_arena_free(struct bt_arena *a)
{
    if (!a)
        return;
    bt_arena_reset(a);
    free(a->first);
    free(a);
}

void *bt_arena_alloc(struct bt_arena *a, size_t n)
{
    struct arena_block *b = a->head;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    void *p;

    if (need < n)
        bt_bug("arena allocation overflow");
    if (need == 0)
        need = ARENA_ALIGN;
    if (b->size - b->used < need) {
        if (need > ARENA_BLOCK / 4) {
            /* a dedicated block, linked behind the head so the head keeps its free tail */
            struct arena_block *big = block_new(need);
            big->used = need;
            big->next = b->next;
            b->next = big;
            a->total += need;
            memset(big->data, 0, need);
            return big->data;
        }
        b = block_new(ARENA_BLOCK);
        b->next = a->head;
        a->head = b;
    }
    p = b->data + b->used;
    b->used += need;
    a->total += need;
    memset(p, 0, need);
    return p;
}

char *bt_arena_strndup(struct bt_arena *a, const char *s, size_t n)
{
    char *p;

    if (!s)
        return NULL;
    n = strnlen(s, n);
    p = bt_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    return p;
}

char *bt_arena_strdup(struct bt_arena *a, const char *s)
{
    return s ? bt_arena_strndup(a, s, strlen(s)) : NULL;
}

void *bt_arena_memdup(struct bt_arena *a, const void *p, size_t n)
{
    void *q = bt_arena_alloc(a, n + 1); /* +1: a NUL after byte buffers is always handy */
    if (n)
        memcpy(q, p, n);
    return q;
}

char *bt_arena_vprintf(struct bt_arena *a, const char *fmt, va_list ap)
{
    va_list cp;
    int n;
    char *p;

    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        bt_bug("bad format string");
    p = bt_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *bt_arena_printf(struct bt_arena *a, const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    p = bt_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void bt_arena_defer(struct bt_arena *a, void (*fn)(void *), void *p)
{
    struct arena_defer *d = bt_arena_alloc(a, sizeof(*d));
    d->fn = fn;
    d->p = p;
    d->next = a->defers;
    a->defers = d;
}

static void json_decref_void(void *p)
{
    json_decref(p);
}

json_t *bt_json_own(struct bt_arena *a, json_t *j)
{
    if (j)
        bt_arena_defer(a, json_decref_void, j);
    return j;
}

size_t bt_arena_used(const struct bt_arena *a)
{
    return a->total;
}

/* ---- bt_buf ---- */

void bt_buf_init(struct bt_buf *b, struct bt_arena *a, size_t cap)
{
    b->a = a;
    b->cap = cap < 16 ? 16 : cap;
    b->p = bt_arena_alloc(a, b->cap);
    b->len = 0;
}

static void buf_grow(struct bt_buf *b, size_t extra)
{
    size_t cap = b->cap;
    char *p;

    if (b->len + extra + 1 <= b->cap)
        return;
    while (cap < b->len + extra + 1)
        cap *= 2;
    p = bt_arena_alloc(b->a, cap);
    memcpy(p, b->p, b->len);
    b->p = p;
    b->cap = cap;
}

void bt_buf_add(struct bt_buf *b, const void *p, size_t n)
{
    buf_grow(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void bt_buf_adds(struct bt_buf *b, const char *s)
{
    bt_buf_add(b, s, strlen(s));
}

void bt_buf_addc(struct bt_buf *b, char c)
{
    bt_buf_add(b, &c, 1);
}

void bt_buf_addf(struct bt_buf *b, const char *fmt, ...)
{
    va_list ap, cp;
    int n;

    va_start(ap, fmt);
    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n > 0) {
        buf_grow(b, (size_t)n);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
    }
    va_end(ap);
}
