/* SPDX-License-Identifier: MIT
 * classify.c - vendorchat's built-in intent classifier and knowledge retrieval, no LLM needed.
 * Owns: text normalization, character n-grams, the in-memory index (struct vendorchat_index
 * and its refcounted snapshots), scoring, classification and ranking, and the buffered intent
 * usage counts (per app, kept next to the index).
 * Must not: write to the database, keep request memory past a request, or let scope weight
 * make an irrelevant row relevant.
 *
 * Why n-grams: Chinese has no spaces, so words cannot be split on white space and a real
 * segmenter needs a dictionary bento does not ship. Overlapping character bigrams and
 * trigrams match 「房租幾號要繳」 against 「繳費日」「房租」 without knowing where words end.
 * Curated keywords ("terms") are matched as whole substrings on top of that, because an
 * operator's keyword is stronger evidence than any accidental two-character overlap.
 * docs/apps/vendorchat.md explains the scoring and its limits.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

/* ---- tuning (see docs/apps/vendorchat.md, "Classifier" and "Retrieval") ---- */

#define W_BIGRAM 1.0
#define W_TRIGRAM 1.5
#define W_UNIGRAM 0.5
#define W_UNKNOWN 0.5 /* a query gram no document has: counts half in the denominator */
#define FW_QUESTION 1.0
#define FW_KEYWORD 1.0
#define FW_ANSWER 0.35
#define G_QUERY_SHARE 0.7 /* gram score = 0.7 x query coverage + 0.3 x question coverage */
#define INTENT_VIA_KNOWLEDGE 0.85
#define INTENT_VIA_SECONDARY 0.7
#define GLOBAL_FLOOR 0.3    /* no intent below this confidence, whatever its threshold */
#define SECONDARY_SHARE 0.6 /* a secondary intent scores at least 60% of the primary */
#define RELEVANCE_FLOOR 0.2 /* a row's own similarity must reach this */
#define UNCLEAR_FLOOR 0.45  /* ... and this when the intent is unclear */
#define RELEVANCE_SHARE 0.6 /* ... and its boosted score 60% of the best row's */
#define BOOST_PRIMARY 1.5
#define BOOST_SECONDARY 1.2
#define MAX_TERM_LEN 32 /* longest keyword/question matched as a whole substring */

/* Field flags of a posting. */
#define F_QUESTION 0x1u /* knowledge question_summary, intent name */
#define F_KEYWORD 0x2u  /* keywords */
#define F_ANSWER 0x4u   /* knowledge answer (placeholders removed), intent description */

/* ---- normalization ---- */

/* Decode one UTF-8 sequence; returns its length, 0 for an invalid byte (skipped by callers).
 * Overlongs, surrogates and values past U+10FFFF are invalid. */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
    uint32_t c;
    size_t len;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        len = 2;
        c = p[0] & 0x1Fu;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        len = 3;
        c = p[0] & 0x0Fu;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        len = 4;
        c = p[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3Fu);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/* Punctuation, symbols, white space and controls: dropped. Letters of every script, digits
 * and CJK ideographs stay. */
static bool is_dropped(uint32_t c)
{
    if (c < 0x80)
        return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
    return c < 0xC0 ||                     /* C1 controls, Latin-1 punctuation and signs */
           c == 0xD7 || c == 0xF7 ||       /* multiplication and division signs */
           (c >= 0x2000 && c <= 0x2BFF) || /* general punctuation, symbols, arrows, boxes */
           (c >= 0x3000 && c <= 0x303F) || /* CJK symbols and punctuation 、。「」 */
           (c >= 0xFE10 && c <= 0xFE6F) || /* vertical, compatibility and small forms */
           c == 0xFF00 || (c >= 0xFF5F && c <= 0xFF65) || /* half-width 「」、。 */
           (c >= 0xFFE0 && c <= 0xFFFF) ||                /* full-width signs, specials */
           (c >= 0x1F000 && c <= 0x1FAFF) ||              /* emoji and pictographs */
           (c >= 0xE000 && c <= 0xF8FF);                  /* private use */
}

static uint32_t fold(uint32_t c)
{
    if (c >= 0xFF01 && c <= 0xFF5E) /* full-width ASCII */
        c -= 0xFEE0;
    if (c >= 'A' && c <= 'Z')
        c += 'a' - 'A';
    switch (c) {
    case 0x81FA: return 0x53F0; /* 臺 -> 台 */
    case 0x88CF: return 0x88E1; /* 裏 -> 裡 */
    case 0x59B3: return 0x4F60; /* 妳 -> 你 */
    case 0x4E48: return 0x9EBC; /* 么 -> 麼 */
    default: return c;
    }
}

size_t vendorchat_normalize_cp(const char *s, size_t n, uint32_t *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k = 0;
    uint32_t prev = 0;

    while (s && i < n) {
        uint32_t c;
        size_t len = utf8_next(p + i, n - i, &c);

        if (len == 0) {
            i++;
            continue;
        }
        i += len;
        c = fold(c);
        if (is_dropped(c))
            continue;
        /* 甚麼 is the older spelling of 什麼: unify so question words stay stop grams */
        if (c == 0x9EBC && prev == 0x751A && out && k > 0 && k - 1 < cap)
            out[k - 1] = 0x4EC0;
        if (out && k < cap)
            out[k] = c;
        k++;
        prev = c;
    }
    return k;
}

static size_t utf8_put(char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

char *vendorchat_normalize(struct bt_arena *a, const char *s, size_t *ncp)
{
    size_t n = s ? strlen(s) : 0;
    size_t k = vendorchat_normalize_cp(s, n, NULL, 0);
    uint32_t *cp = bt_arena_alloc(a, (k + 1) * sizeof(*cp));
    char *out = bt_arena_alloc(a, k * 4 + 1), *o = out;

    vendorchat_normalize_cp(s, n, cp, k);
    for (size_t i = 0; i < k; i++)
        o += utf8_put(o, cp[i]);
    *o = '\0';
    if (ncp)
        *ncp = k;
    return out;
}

/* Particles, pronouns, copulas, question and filler words of everyday Taiwanese Mandarin.
 * Deliberately absent: 點 (幾點 asks for opening hours), 久 (多久 asks for a period), 號, 月,
 * 天, 人 and every noun. Decoded and sorted once for bsearch. */
static const char function_text[] = "的了嗎吗呢吧啊呀喔哦嘛啦耶欸嗨哈嗯唷囉"
                                    "是有在要會能可以請問想我你您他她們们這那哪裡此"
                                    "什麼怎樣如何幾多少誰為時候還和跟與或及就都也很到給把被讓"
                                    "一下個些該需得去來說知道辦好對只已今假兩幫沒";

#define FUNCTION_MAX 128

static uint32_t function_cps[FUNCTION_MAX];
static size_t function_n;
static pthread_once_t function_once = PTHREAD_ONCE_INIT;

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

    return a < b ? -1 : a > b;
}

static void function_init(void)
{
    const unsigned char *p = (const unsigned char *)function_text;
    size_t n = sizeof(function_text) - 1;

    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t len = utf8_next(p + i, n - i, &c);

        if (len == 0 || function_n == FUNCTION_MAX)
            bt_bug("function_text is not UTF-8 or longer than FUNCTION_MAX");
        function_cps[function_n++] = c;
        i += len;
    }
    qsort(function_cps, function_n, sizeof(uint32_t), cmp_u32);
}

bool vendorchat_is_function_char(uint32_t cp)
{
    pthread_once(&function_once, function_init);
    return bsearch(&cp, function_cps, function_n, sizeof(uint32_t), cmp_u32) != NULL;
}

/* ---- n-grams ---- */

/* After normalization only ASCII letters and digits are below 0x80. */
static bool is_ascii(uint32_t c)
{
    return c < 0x80;
}

static uint64_t gram_key(const uint32_t *c, unsigned len)
{
    uint64_t k = (uint64_t)c[0] << 42;

    if (len > 1)
        k |= (uint64_t)c[1] << 21;
    if (len > 2)
        k |= (uint64_t)c[2];
    return k;
}

unsigned vendorchat_gram_len(uint64_t key)
{
    if (key & 0x1FFFFFu)
        return 3;
    if ((key >> 21) & 0x1FFFFFu)
        return 2;
    return 1;
}

bool vendorchat_gram_is_stop(uint64_t key)
{
    unsigned len = vendorchat_gram_len(key);

    for (unsigned i = 0; i < len; i++) {
        uint32_t c = (uint32_t)((key >> (42 - 21 * i)) & 0x1FFFFFu);
        if (!vendorchat_is_function_char(c))
            return false;
    }
    return true;
}

/* Grams never straddle an ASCII word and CJK text: 「有line嗎」 should match "line", not
 * invent 「有l」. */
static bool same_script(const uint32_t *c, unsigned len)
{
    for (unsigned i = 1; i < len; i++) {
        if (is_ascii(c[i]) != is_ascii(c[0]))
            return false;
    }
    return true;
}

size_t vendorchat_ngrams(const uint32_t *cp, size_t n, uint64_t *out, size_t cap)
{
    size_t k = 0;

    if (n == 1) {
        if (out && cap > 0)
            out[0] = gram_key(cp, 1);
        return 1;
    }
    for (unsigned len = 2; len <= 3; len++) {
        for (size_t i = 0; i + len <= n; i++) {
            if (!same_script(cp + i, len))
                continue;
            if (out && k < cap)
                out[k] = gram_key(cp + i, len);
            k++;
        }
    }
    return k;
}

static double gram_base(uint64_t key)
{
    switch (vendorchat_gram_len(key)) {
    case 1: return W_UNIGRAM;
    case 2: return W_BIGRAM;
    default: return W_TRIGRAM;
    }
}

/* Whole-term keys: FNV-1a over the code points, never 0 (0 marks an empty table slot). */
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t term_step(uint64_t h, uint32_t c)
{
    for (int i = 0; i < 4; i++) {
        h ^= (c >> (8 * i)) & 0xFFu;
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t term_fix(uint64_t h)
{
    return h ? h : 1;
}

/* A term the classifier may match whole: 2..MAX_TERM_LEN code points, not only function
 * characters (「在哪裡」 alone says nothing about the topic). */
static bool term_ok(const uint32_t *c, size_t n)
{
    if (n < 2 || n > MAX_TERM_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!vendorchat_is_function_char(c[i]))
            return true;
    }
    return false;
}

/* Evidence from a whole-term hit, by length: longer curated phrases are more specific. */
static double term_len_factor(unsigned len)
{
    switch (len) {
    case 0:
    case 1: return 0.0;
    case 2: return 0.6;
    case 3: return 0.7;
    case 4: return 0.8;
    default: return 0.85;
    }
}

/* ---- hash table: 64-bit key -> entry (open addressing, linear probing) ---- */

struct vc_entry {
    uint64_t key;
    uint32_t off, n; /* postings range; n doubles as the document frequency */
    float idf;       /* normalized to 0..1 */
    uint8_t len;     /* code points (terms) */
};

struct vc_table {
    struct vc_entry *e;
    size_t cap, count; /* cap is a power of two */
};

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (!p)
        bt_bug("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        bt_bug("out of memory (%zu bytes)", n);
    return q;
}

static void table_init(struct vc_table *t, size_t expect)
{
    size_t cap = 64;

    while (cap < expect * 2)
        cap <<= 1;
    t->e = xcalloc(cap, sizeof(*t->e));
    t->cap = cap;
    t->count = 0;
}

static struct vc_entry *table_find(const struct vc_table *t, uint64_t key)
{
    size_t mask = t->cap - 1;

    if (!t->e || key == 0) /* 0 marks an empty slot, never a key */
        return NULL;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
        if (t->e[i].key == key)
            return &t->e[i];
        if (t->e[i].key == 0)
            return NULL;
    }
}

static void table_grow(struct vc_table *t);

static struct vc_entry *table_put(struct vc_table *t, uint64_t key)
{
    size_t mask;

    if ((t->count + 1) * 2 > t->cap)
        table_grow(t);
    mask = t->cap - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
        if (t->e[i].key == key)
            return &t->e[i];
        if (t->e[i].key == 0) {
            t->e[i].key = key;
            t->count++;
            return &t->e[i];
        }
    }
}

static void table_grow(struct vc_table *t)
{
    struct vc_table old = *t;

    table_init(t, old.cap);
    for (size_t i = 0; i < old.cap; i++) {
        if (old.e[i].key) {
            struct vc_entry *e = table_put(t, old.e[i].key);
            *e = old.e[i];
        }
    }
    free(old.e);
}

/* ---- snapshot ---- */

struct vc_gpost {
    uint32_t doc;
    uint8_t fields;
};

/* Documents are numbered knowledge rows first (0..nk-1), then intents (nk..nk+ni-1). */
struct vendorchat_snap {
    atomic_uint refs;
    int64_t gen;
    uint64_t epoch;
    struct bt_arena *a; /* strings and row arrays; read-only once published */
    struct vendorchat_intent *intents;
    size_t ni;
    struct vendorchat_kn *kn;
    size_t nk;
    double *qtot; /* per document: weight of its question (or intent name) grams */
    struct vc_table grams;
    struct vc_gpost *gposts;
    struct vc_table terms;
    uint32_t *tposts;
};

static void snap_free(struct vendorchat_snap *s)
{
    free(s->grams.e);
    free(s->gposts);
    free(s->terms.e);
    free(s->tposts);
    free(s->qtot);
    bt_arena_free(s->a);
    free(s);
}

void vendorchat_snap_release(struct vendorchat_snap *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        snap_free(s);
}

static void snap_release_cb(void *p)
{
    vendorchat_snap_release(p);
}

const struct vendorchat_intent *vendorchat_snap_intents(const struct vendorchat_snap *s, size_t *n)
{
    *n = s->ni;
    return s->intents;
}

const struct vendorchat_kn *vendorchat_snap_knowledge(const struct vendorchat_snap *s, size_t *n)
{
    *n = s->nk;
    return s->kn;
}

int64_t vendorchat_snap_gen(const struct vendorchat_snap *s)
{
    return s->gen;
}

static int scope_weight(const char *scope)
{
    if (scope && strcmp(scope, "customized") == 0)
        return 1000;
    if (scope && strcmp(scope, "vendor") == 0)
        return 500;
    return 100;
}

struct vc_gram {
    uint64_t key;
    uint8_t fields;
};

/* Scratch buffers reused while building. */
struct vc_scratch {
    uint32_t *cp;
    size_t cpcap;
    uint64_t *keys;
    size_t keycap;
    struct vc_gram *g; /* a document's grams with the fields they occur in */
    size_t ng, gcap;
    uint32_t *slot; /* dedupe hash: index into g, UINT32_MAX = empty */
    size_t slotcap;
    uint64_t *tk; /* term keys */
    uint8_t *tl;  /* term lengths */
    size_t nt, tcap;
};

static void scratch_free(struct vc_scratch *sc)
{
    free(sc->cp);
    free(sc->keys);
    free(sc->g);
    free(sc->slot);
    free(sc->tk);
    free(sc->tl);
}

/* Normalize text into sc->cp; returns the code point count. */
static size_t scratch_norm(struct vc_scratch *sc, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    size_t k = vendorchat_normalize_cp(s, n, NULL, 0);

    if (k > sc->cpcap) {
        sc->cpcap = k + 64;
        sc->cp = xrealloc(sc->cp, sc->cpcap * sizeof(*sc->cp));
    }
    return vendorchat_normalize_cp(s, n, sc->cp, k);
}

/* Answers are templates: 「{{payment_day}}」 is not text a tenant types, so placeholders are
 * cut out before indexing (the text around them is kept). */
static char *strip_placeholders(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    char *out = xcalloc(n + 1, 1), *o = out;

    for (size_t i = 0; i < n;) {
        if (s[i] == '{' && s[i + 1] == '{') {
            const char *e = strstr(s + i + 2, "}}");
            if (e) {
                i = (size_t)(e + 2 - s);
                continue;
            }
        }
        *o++ = s[i++];
    }
    *o = '\0';
    return out;
}

/* Grams of text into sc. Answers contribute bigrams only: their trigrams are nearly all
 * unique (a large share of the index) and add little at answer weight. */
static void add_grams(struct vc_scratch *sc, const char *text, uint8_t field)
{
    size_t n = scratch_norm(sc, text);
    size_t k = vendorchat_ngrams(sc->cp, n, NULL, 0);

    if (k > sc->keycap) {
        sc->keycap = k + 64;
        sc->keys = xrealloc(sc->keys, sc->keycap * sizeof(*sc->keys));
    }
    vendorchat_ngrams(sc->cp, n, sc->keys, k);
    if (sc->ng + k > sc->gcap) {
        sc->gcap = (sc->ng + k) * 2 + 64;
        sc->g = xrealloc(sc->g, sc->gcap * sizeof(*sc->g));
    }
    for (size_t i = 0; i < k; i++) {
        if (field == F_ANSWER && vendorchat_gram_len(sc->keys[i]) == 3)
            continue;
        sc->g[sc->ng].key = sc->keys[i];
        sc->g[sc->ng].fields = field;
        sc->ng++;
    }
}

static void add_term(struct vc_scratch *sc, const char *text)
{
    size_t n = scratch_norm(sc, text);
    uint64_t h = FNV_OFFSET;

    if (!term_ok(sc->cp, n))
        return;
    for (size_t i = 0; i < n; i++)
        h = term_step(h, sc->cp[i]);
    if (sc->nt == sc->tcap) {
        sc->tcap = sc->tcap * 2 + 16;
        sc->tk = xrealloc(sc->tk, sc->tcap * sizeof(*sc->tk));
        sc->tl = xrealloc(sc->tl, sc->tcap * sizeof(*sc->tl));
    }
    sc->tk[sc->nt] = term_fix(h);
    sc->tl[sc->nt] = (uint8_t)n;
    sc->nt++;
}

/* Merge a document's duplicate grams, OR-ing their fields (a small hash per document: linear
 * in the document's length, which matters when 10,000 rows are indexed); drop duplicate terms
 * (a keyword equal to the question, say). */
static void dedupe_grams(struct vc_scratch *sc)
{
    size_t cap = 64, w = 0;

    while (cap < sc->ng * 2)
        cap <<= 1;
    if (cap > sc->slotcap) {
        sc->slot = xrealloc(sc->slot, cap * sizeof(*sc->slot));
        sc->slotcap = cap;
    }
    memset(sc->slot, 0xff, cap * sizeof(*sc->slot));
    for (size_t i = 0; i < sc->ng; i++) {
        struct vc_gram g = sc->g[i];

        for (size_t h = mix(g.key) & (cap - 1);; h = (h + 1) & (cap - 1)) {
            if (sc->slot[h] == UINT32_MAX) {
                sc->slot[h] = (uint32_t)w;
                sc->g[w++] = g; /* w <= i: never overwrites a gram not yet read */
                break;
            }
            if (sc->g[sc->slot[h]].key == g.key) {
                sc->g[sc->slot[h]].fields |= g.fields;
                break;
            }
        }
    }
    sc->ng = w;
    w = 0;
    for (size_t i = 0; i < sc->nt; i++) {
        bool dup = false;
        for (size_t j = 0; j < w && !dup; j++)
            dup = sc->tk[j] == sc->tk[i];
        if (!dup) {
            sc->tk[w] = sc->tk[i];
            sc->tl[w] = sc->tl[i];
            w++;
        }
    }
    sc->nt = w;
}

/* Collect one document's grams and terms into sc. */
static void collect_doc(struct vc_scratch *sc, const struct vendorchat_intent_src *is,
                        const struct vendorchat_kn_src *ks, size_t nk, size_t doc)
{
    sc->ng = 0;
    sc->nt = 0;
    if (doc < nk) {
        const struct vendorchat_kn_src *k = &ks[doc];
        char *ans = strip_placeholders(k->answer);

        add_grams(sc, k->question_summary, F_QUESTION);
        add_term(sc, k->question_summary);
        for (size_t i = 0; i < k->nkeywords; i++) {
            add_grams(sc, k->keywords[i], F_KEYWORD);
            add_term(sc, k->keywords[i]);
        }
        add_grams(sc, ans, F_ANSWER);
        free(ans);
    } else {
        const struct vendorchat_intent_src *it = &is[doc - nk];

        add_grams(sc, it->name, F_QUESTION);
        add_term(sc, it->name);
        for (size_t i = 0; i < it->nkeywords; i++) {
            add_grams(sc, it->keywords[i], F_KEYWORD);
            add_term(sc, it->keywords[i]);
        }
        add_grams(sc, it->description, F_ANSWER);
    }
    dedupe_grams(sc);
}

/* Hash of a text's normalized form (0 for empty text). */
static uint64_t norm_hash(struct vc_scratch *sc, const char *text)
{
    size_t n = scratch_norm(sc, text);
    uint64_t h = FNV_OFFSET;

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        h = term_step(h, sc->cp[i]);
    return term_fix(h);
}

/* A vendor or customized row is usually the vendor's own version of a global question. When
 * its author filed it under no intent, it is filed under the global row's intents: otherwise
 * the intent boost the global row gets would push the vendor's own answer below the relevance
 * gate, and a customized row must outrank the global row for the same question. */
static void inherit_maps(struct vendorchat_snap *s, struct vc_scratch *sc)
{
    struct vc_table byq;

    table_init(&byq, s->nk);
    for (size_t i = 0; i < s->nk; i++) {
        uint64_t h;
        struct vc_entry *e;

        if (s->kn[i].scope_weight != 100 || s->kn[i].nmaps == 0)
            continue;
        if ((h = norm_hash(sc, s->kn[i].question_summary)) == 0)
            continue;
        e = table_put(&byq, h);
        if (e->n == 0) { /* the first (lowest id) global row with that question */
            e->off = (uint32_t)i;
            e->n = 1;
        }
    }
    for (size_t i = 0; i < s->nk; i++) {
        const struct vc_entry *e;

        if (s->kn[i].scope_weight == 100 || s->kn[i].nmaps > 0)
            continue;
        e = table_find(&byq, norm_hash(sc, s->kn[i].question_summary));
        if (e) {
            s->kn[i].maps = s->kn[e->off].maps;
            s->kn[i].nmaps = s->kn[e->off].nmaps;
        }
    }
    free(byq.e);
}

/* idf scaled to 0..1 by the largest possible value, so weights mean the same for a corpus of
 * fifteen rows and one of ten thousand. */
static float norm_idf(uint32_t df, size_t ndocs)
{
    double n = (double)ndocs;

    if (df == 0)
        return 1.0f;
    return (float)(log(1.0 + n / (double)df) / log(1.0 + n));
}

static const char *snap_str(struct vendorchat_snap *s, const char *v)
{
    return bt_arena_strdup(s->a, v ? v : "");
}

struct vendorchat_snap *vendorchat_snap_build(const struct vendorchat_intent_src *is, size_t ni,
                                              const struct vendorchat_kn_src *ks, size_t nk,
                                              int64_t gen)
{
    struct vendorchat_snap *s = xcalloc(1, sizeof(*s));
    size_t ndocs = nk + ni;
    struct vc_scratch sc;

    memset(&sc, 0, sizeof(sc));
    atomic_init(&s->refs, 1);
    s->gen = gen;
    s->a = bt_arena_new();
    s->ni = ni;
    s->nk = nk;
    s->intents = bt_arena_alloc(s->a, (ni + 1) * sizeof(*s->intents));
    s->kn = bt_arena_alloc(s->a, (nk + 1) * sizeof(*s->kn));
    for (size_t i = 0; i < ni; i++) {
        struct vendorchat_intent *it = &s->intents[i];
        it->id = is[i].id;
        it->name = snap_str(s, is[i].name);
        it->type = snap_str(s, is[i].type);
        it->description = is[i].description ? snap_str(s, is[i].description) : NULL;
        it->threshold = is[i].threshold;
        it->priority = is[i].priority;
        it->enabled = is[i].enabled;
    }
    for (size_t i = 0; i < nk; i++) {
        struct vendorchat_kn *k = &s->kn[i];
        struct vendorchat_kmap *maps;
        size_t nm = 0;

        k->id = ks[i].id;
        k->question_summary = snap_str(s, ks[i].question_summary);
        k->answer = snap_str(s, ks[i].answer);
        k->scope = snap_str(s, ks[i].scope);
        k->vendor_id = ks[i].vendor_id;
        k->priority = ks[i].priority;
        k->scope_weight = scope_weight(ks[i].scope);
        maps = bt_arena_alloc(s->a, (ks[i].nintents + 1) * sizeof(*maps));
        for (size_t m = 0; m < ks[i].nintents; m++) {
            for (size_t j = 0; j < ni; j++) {
                if (is[j].id == ks[i].intent_ids[m]) {
                    maps[nm].intent = (uint32_t)j;
                    maps[nm].primary = ks[i].intent_primary ? ks[i].intent_primary[m] : true;
                    nm++;
                    break;
                }
            }
        }
        k->maps = maps;
        k->nmaps = nm;
    }

    inherit_maps(s, &sc);

    /* pass 1: document frequencies */
    table_init(&s->grams, ndocs * 32);
    table_init(&s->terms, ndocs * 8);
    for (size_t d = 0; d < ndocs; d++) {
        collect_doc(&sc, is, ks, nk, d);
        for (size_t i = 0; i < sc.ng; i++)
            table_put(&s->grams, sc.g[i].key)->n++;
        for (size_t i = 0; i < sc.nt; i++) {
            struct vc_entry *e = table_put(&s->terms, sc.tk[i]);
            e->n++;
            e->len = sc.tl[i];
        }
    }
    /* postings ranges and idf */
    {
        uint32_t off = 0;
        for (size_t i = 0; i < s->grams.cap; i++) {
            struct vc_entry *e = &s->grams.e[i];
            if (!e->key)
                continue;
            e->off = off;
            off += e->n;
            e->idf = norm_idf(e->n, ndocs);
            e->n = 0; /* refilled in pass 2 */
        }
        s->gposts = xcalloc(off, sizeof(*s->gposts));
        off = 0;
        for (size_t i = 0; i < s->terms.cap; i++) {
            struct vc_entry *e = &s->terms.e[i];
            if (!e->key)
                continue;
            e->off = off;
            off += e->n;
            e->idf = norm_idf(e->n, ndocs);
            e->n = 0;
        }
        s->tposts = xcalloc(off, sizeof(*s->tposts));
    }
    /* pass 2: postings (documents in ascending order) and question weights */
    s->qtot = xcalloc(ndocs, sizeof(*s->qtot));
    for (size_t d = 0; d < ndocs; d++) {
        collect_doc(&sc, is, ks, nk, d);
        for (size_t i = 0; i < sc.ng; i++) {
            struct vc_entry *e = table_find(&s->grams, sc.g[i].key);
            struct vc_gpost *p = &s->gposts[e->off + e->n++];
            p->doc = (uint32_t)d;
            p->fields = sc.g[i].fields;
            if ((p->fields & F_QUESTION) && !vendorchat_gram_is_stop(sc.g[i].key))
                s->qtot[d] += gram_base(sc.g[i].key) * e->idf;
        }
        for (size_t i = 0; i < sc.nt; i++) {
            struct vc_entry *e = table_find(&s->terms, sc.tk[i]);
            s->tposts[e->off + e->n++] = (uint32_t)d;
        }
    }
    scratch_free(&sc);
    return s;
}

/* ---- scoring ---- */

static bool visible(const struct vendorchat_kn *k, int64_t vendor_id)
{
    if (k->scope_weight == 100)
        return true; /* global */
    return k->vendor_id == vendor_id;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

    return a < b ? -1 : a > b;
}

static int cmp_ptr(const void *x, const void *y)
{
    uintptr_t a = (uintptr_t) * (const void *const *)x, b = (uintptr_t) * (const void *const *)y;

    return a < b ? -1 : a > b;
}

/* Per-message accumulator of one touched document (open addressing on doc). */
struct vc_acc {
    uint32_t doc; /* UINT32_MAX = empty slot */
    bool strong;
    double qm, dm, klog;
};

struct vc_accs {
    struct vc_acc *slot;
    size_t cap;
};

static struct vc_acc *acc_get(struct vc_accs *t, uint32_t doc)
{
    for (size_t i = mix(doc) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (t->slot[i].doc == doc)
            return &t->slot[i];
        if (t->slot[i].doc == UINT32_MAX) {
            t->slot[i].doc = doc;
            return &t->slot[i];
        }
    }
}

/* A query gram that the index knows, with its weight. */
struct vc_qgram {
    const struct vc_entry *e;
    double w;
};

/* Similarity of a message to every document it shares a gram or a term with:
 *   G = 0.7 x (matched query gram weight / all query gram weight)
 *     + 0.3 x (matched question gram weight / all question gram weight)
 *   K = 1 - prod(1 - idf(term) x lenfactor(term)) over whole keyword/question hits
 *   sim = 1 - (1 - G)(1 - K)
 * Gram weights are base (bigram 1, trigram 1.5) x idf; grams of function characters only
 * weigh nothing; a query gram no document has weighs half (it is evidence the message is
 * about something else, but typos and filler should not sink a good match).
 * Work and memory are proportional to the postings the message touches, not to the number
 * of rows: a 10,000-row index costs a typical message a few hundred accumulator slots. */
void vendorchat_query_run(const struct vendorchat_snap *s, struct bt_arena *a, const char *text,
                          int64_t vendor_id, struct vendorchat_query *q)
{
    size_t n = text ? strlen(text) : 0;
    size_t ncp = vendorchat_normalize_cp(text, n, NULL, 0);
    uint32_t *cp = bt_arena_alloc(a, (ncp + 1) * sizeof(*cp));
    const struct vc_entry **hits;
    struct vc_qgram *qg;
    struct vc_accs acc;
    uint64_t *keys;
    size_t ng, nqg = 0, nhits = 0, cap = 64, postings = 0;
    double wtot = 0;

    memset(q, 0, sizeof(*q));
    q->s = s;
    q->vendor_id = vendor_id;
    q->isim = bt_arena_alloc(a, (s->ni + 1) * sizeof(double));
    vendorchat_normalize_cp(text, n, cp, ncp);
    q->ncp = ncp;

    /* grams: each distinct one once */
    ng = vendorchat_ngrams(cp, ncp, NULL, 0);
    keys = bt_arena_alloc(a, (ng + 1) * sizeof(*keys));
    qg = bt_arena_alloc(a, (ng + 1) * sizeof(*qg));
    vendorchat_ngrams(cp, ncp, keys, ng);
    qsort(keys, ng, sizeof(*keys), cmp_u64);
    for (size_t i = 0; i < ng; i++) {
        const struct vc_entry *e;
        double base;

        if ((i > 0 && keys[i] == keys[i - 1]) || vendorchat_gram_is_stop(keys[i]))
            continue;
        base = gram_base(keys[i]);
        e = table_find(&s->grams, keys[i]);
        if (!e) {
            wtot += base * W_UNKNOWN;
            continue;
        }
        qg[nqg].e = e;
        qg[nqg].w = base * e->idf;
        wtot += qg[nqg].w;
        postings += e->n;
        nqg++;
    }

    /* whole terms: every substring of 2..MAX_TERM_LEN code points, each distinct term once */
    hits = bt_arena_alloc(a, cap * sizeof(*hits));
    for (size_t i = 0; i < ncp; i++) {
        uint64_t h = FNV_OFFSET;
        for (size_t j = i; j < ncp && j - i < MAX_TERM_LEN; j++) {
            const struct vc_entry *e;
            h = term_step(h, cp[j]);
            if (j == i)
                continue;
            e = table_find(&s->terms, term_fix(h));
            if (!e || e->len != j - i + 1)
                continue;
            if (nhits == cap) {
                const struct vc_entry **more = bt_arena_alloc(a, 2 * cap * sizeof(*more));
                memcpy(more, hits, cap * sizeof(*hits));
                hits = more;
                cap *= 2;
            }
            hits[nhits++] = e;
            postings += e->n;
        }
    }
    qsort(hits, nhits, sizeof(*hits), cmp_ptr);

    /* accumulators for at most every posting touched (or every document) */
    if (postings > s->nk + s->ni)
        postings = s->nk + s->ni;
    acc.cap = 16;
    while (acc.cap < postings * 2)
        acc.cap <<= 1;
    acc.slot = bt_arena_alloc(a, acc.cap * sizeof(*acc.slot));
    for (size_t i = 0; i < acc.cap; i++)
        acc.slot[i].doc = UINT32_MAX;

    for (size_t i = 0; i < nqg; i++) {
        const struct vc_entry *e = qg[i].e;

        for (uint32_t j = 0; j < e->n; j++) {
            const struct vc_gpost *p = &s->gposts[e->off + j];
            struct vc_acc *ac;
            double fw;

            if (p->doc < s->nk && !visible(&s->kn[p->doc], vendor_id))
                continue;
            if (p->fields & F_QUESTION)
                fw = FW_QUESTION;
            else if (p->fields & F_KEYWORD)
                fw = FW_KEYWORD;
            else
                fw = FW_ANSWER;
            ac = acc_get(&acc, p->doc);
            ac->qm += qg[i].w * fw;
            if (p->fields & F_QUESTION)
                ac->dm += qg[i].w;
            if (p->fields & (F_QUESTION | F_KEYWORD))
                ac->strong = true;
        }
    }
    for (size_t i = 0; i < nhits; i++) {
        const struct vc_entry *e = hits[i];
        double p;

        if (i > 0 && hits[i - 1] == e)
            continue;
        p = e->idf * term_len_factor(e->len);
        for (uint32_t j = 0; j < e->n; j++) {
            uint32_t d = s->tposts[e->off + j];
            struct vc_acc *ac;

            if (d < s->nk && !visible(&s->kn[d], vendor_id))
                continue;
            ac = acc_get(&acc, d);
            ac->klog += log(1.0 - p);
            ac->strong = true;
        }
    }

    q->hits = bt_arena_alloc(a, (acc.cap + 1) * sizeof(*q->hits));
    for (size_t i = 0; i < acc.cap; i++) {
        const struct vc_acc *ac = &acc.slot[i];
        double g = 0, k, sim;

        if (ac->doc == UINT32_MAX)
            continue;
        if (wtot > 0)
            g = G_QUERY_SHARE * (ac->qm / wtot);
        if (s->qtot[ac->doc] > 0)
            g += (1.0 - G_QUERY_SHARE) * fmin(1.0, ac->dm / s->qtot[ac->doc]);
        k = 1.0 - exp(ac->klog);
        sim = 1.0 - (1.0 - fmin(g, 1.0)) * (1.0 - k);
        if (sim <= 0)
            continue;
        if (ac->doc < s->nk) {
            q->hits[q->nhits].k = ac->doc;
            q->hits[q->nhits].sim = sim;
            q->hits[q->nhits].strong = ac->strong;
            q->nhits++;
        } else {
            q->isim[ac->doc - s->nk] = sim;
        }
    }
}

double vendorchat_query_ksim(const struct vendorchat_query *q, size_t k, bool *strong)
{
    for (size_t i = 0; i < q->nhits; i++) {
        if (q->hits[i].k == k) {
            if (strong)
                *strong = q->hits[i].strong;
            return q->hits[i].sim;
        }
    }
    if (strong)
        *strong = false;
    return 0.0;
}

/* Intent score: its own words (name, keywords, description) combined with the best matching
 * knowledge row filed under it. Knowledge questions are how operators teach the classifier
 * new phrasings without editing keyword lists. via[] gets, per intent, the best row's
 * similarity (a secondary filing counts 0.7); one pass over the rows. */
static void intent_via(const struct vendorchat_query *q, double *via)
{
    const struct vendorchat_snap *s = q->s;

    for (size_t i = 0; i < q->nhits; i++) {
        const struct vendorchat_kn *k = &s->kn[q->hits[i].k];

        if (!q->hits[i].strong)
            continue;
        for (size_t m = 0; m < k->nmaps; m++) {
            double v = q->hits[i].sim * (k->maps[m].primary ? 1.0 : INTENT_VIA_SECONDARY);
            via[k->maps[m].intent] = fmax(via[k->maps[m].intent], v);
        }
    }
}

static double intent_combine(double direct, double via)
{
    return 1.0 - (1.0 - direct) * (1.0 - INTENT_VIA_KNOWLEDGE * via);
}

double vendorchat_intent_score(const struct vendorchat_query *q, size_t intent_index)
{
    double *via, r;

    if (intent_index >= q->s->ni)
        return 0;
    via = xcalloc(q->s->ni, sizeof(*via));
    intent_via(q, via);
    r = intent_combine(q->isim[intent_index], via[intent_index]);
    free(via);
    return r;
}

/* Higher score first; ties by priority, then lower id (stable across runs). */
static bool intent_better(const struct vendorchat_intent *a, double sa,
                          const struct vendorchat_intent *b, double sb)
{
    if (sa != sb)
        return sa > sb;
    if (a->priority != b->priority)
        return a->priority > b->priority;
    return a->id < b->id;
}

void vendorchat_classify(const struct vendorchat_query *q, struct vendorchat_class *out)
{
    const struct vendorchat_snap *s = q->s;
    double *score;
    const struct vendorchat_intent *best = NULL;
    double best_s = 0;

    memset(out, 0, sizeof(*out));
    if (s->ni == 0)
        return;
    score = xcalloc(s->ni, sizeof(*score));
    intent_via(q, score);
    for (size_t i = 0; i < s->ni; i++) {
        if (!s->intents[i].enabled) {
            score[i] = 0;
            continue;
        }
        score[i] = intent_combine(q->isim[i], score[i]);
        if (score[i] > 0 && (!best || intent_better(&s->intents[i], score[i], best, best_s))) {
            best = &s->intents[i];
            best_s = score[i];
        }
    }
    out->confidence = best_s;
    if (!best || best_s < fmax(best->threshold, GLOBAL_FLOOR)) {
        free(score);
        return;
    }
    out->primary = best;
    for (size_t n = 0; n < VENDORCHAT_MAX_SECONDARY; n++) {
        const struct vendorchat_intent *pick = NULL;
        double pick_s = 0;

        for (size_t i = 0; i < s->ni; i++) {
            const struct vendorchat_intent *it = &s->intents[i];
            bool taken = it == best;

            for (size_t j = 0; j < out->nsecondary; j++)
                taken = taken || out->secondary[j] == it;
            if (taken || !it->enabled || score[i] < fmax(it->threshold, GLOBAL_FLOOR) ||
                score[i] < SECONDARY_SHARE * best_s)
                continue;
            if (!pick || intent_better(it, score[i], pick, pick_s)) {
                pick = it;
                pick_s = score[i];
            }
        }
        if (!pick)
            break;
        out->secondary[out->nsecondary++] = pick;
    }
    free(score);
}

/* ---- retrieval ---- */

static int cmp_hit(const void *x, const void *y)
{
    const struct vendorchat_hit *a = x, *b = y;

    if (a->k->scope_weight != b->k->scope_weight)
        return a->k->scope_weight > b->k->scope_weight ? -1 : 1;
    if (a->boosted != b->boosted)
        return a->boosted > b->boosted ? -1 : 1;
    if (a->k->priority != b->k->priority)
        return a->k->priority > b->k->priority ? -1 : 1;
    return a->k->id < b->k->id ? -1 : a->k->id > b->k->id;
}

static double intent_boost(const struct vendorchat_snap *s, const struct vendorchat_kn *k,
                           const struct vendorchat_class *c)
{
    double boost = 1.0;

    for (size_t m = 0; m < k->nmaps; m++) {
        const struct vendorchat_intent *it = &s->intents[k->maps[m].intent];

        if (c->primary && it == c->primary)
            return BOOST_PRIMARY;
        for (size_t j = 0; j < c->nsecondary; j++) {
            if (c->secondary[j] == it)
                boost = BOOST_SECONDARY;
        }
    }
    return boost;
}

/* The relevance gate comes before scope weight, because scope weight (customized 1000 >
 * vendor 500 > global 100) dwarfs any similarity: were it applied to every row sharing a
 * character with the message, vendor 1's customized 「客服專線是多少」 would answer 「押金是多少」
 * (both end in 是多少). A row is relevant only when
 *   1. it matched in its own question or keywords, not merely somewhere in its answer text;
 *   2. its similarity reaches RELEVANCE_FLOOR (UNCLEAR_FLOOR without an intent, where no
 *      intent evidence backs the text match);
 *   3. its intent-boosted score is at least RELEVANCE_SHARE of the best row's: among rows
 *      that are about the same question scope decides, but a row about a neighbouring topic
 *      (the hotline when asked for service hours) does not win just for being customized.
 * Function-character grams (是 多 少 什 麼 ...) never count, so shared question words create no
 * relevance at all. */
size_t vendorchat_retrieve(const struct vendorchat_query *q, const struct vendorchat_class *c,
                           size_t top_k, struct vendorchat_hit *out)
{
    const struct vendorchat_snap *s = q->s;
    double floor = c->primary ? RELEVANCE_FLOOR : UNCLEAR_FLOOR, best = 0;
    struct vendorchat_hit *cand;
    size_t ncand = 0, nout = 0;

    if (q->nhits == 0 || top_k == 0)
        return 0;
    cand = xcalloc(q->nhits, sizeof(*cand));
    for (size_t i = 0; i < q->nhits; i++) {
        const struct vendorchat_kn *k = &s->kn[q->hits[i].k];

        if (!q->hits[i].strong || q->hits[i].sim < floor)
            continue;
        cand[ncand].k = k;
        cand[ncand].sim = q->hits[i].sim;
        cand[ncand].boosted = q->hits[i].sim * intent_boost(s, k, c);
        best = fmax(best, cand[ncand].boosted);
        ncand++;
    }
    qsort(cand, ncand, sizeof(*cand), cmp_hit);
    for (size_t i = 0; i < ncand && nout < top_k; i++) {
        if (cand[i].boosted < RELEVANCE_SHARE * best)
            continue;
        out[nout++] = cand[i];
    }
    free(cand);
    return nout;
}

/* ---- the index: snapshots cached per app, rebuilt on a new knowledge generation ---- */

/* Readers take a reference to the current snapshot under a mutex held for a pointer copy
 * and an increment, then score without any lock; a rebuild publishes a new snapshot by
 * swapping the pointer, and the old one is freed by its last reader. build_mu keeps
 * concurrent requests that see the same new generation from building it several times. */
struct vc_usage {
    int64_t intent_id, count;
    char last[32]; /* latest use, ISO text */
};

struct vendorchat_index {
    pthread_mutex_t mu;       /* guards snap, epoch, builds */
    pthread_mutex_t build_mu; /* one rebuild at a time */
    struct vendorchat_snap *snap;
    uint64_t epoch; /* bumped by vendorchat_cache_clear */
    uint64_t builds;
    /* intent usage not yet written (see vendorchat_usage_note) */
    pthread_mutex_t usage_mu;
    struct vc_usage *usage;
    size_t nusage, capusage;
    uint64_t usage_written_ns;
};

struct vendorchat_index *vendorchat_index_new(void)
{
    struct vendorchat_index *ix = xcalloc(1, sizeof(*ix));

    pthread_mutex_init(&ix->mu, NULL);
    pthread_mutex_init(&ix->build_mu, NULL);
    pthread_mutex_init(&ix->usage_mu, NULL);
    ix->usage_written_ns = bt_mono_ns();
    return ix;
}

void vendorchat_index_free(struct vendorchat_index *ix)
{
    if (!ix)
        return;
    vendorchat_snap_release(ix->snap);
    pthread_mutex_destroy(&ix->mu);
    pthread_mutex_destroy(&ix->build_mu);
    pthread_mutex_destroy(&ix->usage_mu);
    free(ix->usage);
    free(ix);
}

void vendorchat_cache_clear(struct vendorchat_state *st)
{
    struct vendorchat_index *ix = st ? st->index : NULL;

    if (!ix)
        return;
    pthread_mutex_lock(&ix->mu);
    ix->epoch++;
    pthread_mutex_unlock(&ix->mu);
    bt_cache_evict(st->vendors, NULL);
    bt_cache_evict(st->params, NULL);
    bt_cache_evict(st->meta, NULL);
}

uint64_t vendorchat_index_builds(struct vendorchat_index *ix)
{
    uint64_t n;

    pthread_mutex_lock(&ix->mu);
    n = ix->builds;
    pthread_mutex_unlock(&ix->mu);
    return n;
}

/* A reference to the cached snapshot if it is at least generation gen and not cleared. */
static struct vendorchat_snap *index_peek(struct vendorchat_index *ix, int64_t gen, uint64_t *epoch)
{
    struct vendorchat_snap *s;

    pthread_mutex_lock(&ix->mu);
    s = ix->snap;
    if (s && s->gen >= gen && s->epoch == ix->epoch)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    else
        s = NULL;
    *epoch = ix->epoch;
    pthread_mutex_unlock(&ix->mu);
    return s;
}

/* Keywords are stored as a JSON array in TEXT; anything else counts as no keywords. */
static const char *const *parse_keywords(struct bt_arena *a, const char *text, size_t *n)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    const char **out;
    size_t i, k = 0;
    json_t *el;

    *n = 0;
    if (!json_is_array(j)) {
        json_decref(j);
        return NULL;
    }
    out = bt_arena_alloc(a, (json_array_size(j) + 1) * sizeof(*out));
    json_array_foreach(j, i, el)
    {
        if (json_is_string(el))
            out[k++] = bt_arena_strdup(a, json_string_value(el));
    }
    json_decref(j);
    *n = k;
    return out;
}

static int index_load(struct bt_db *db, struct bt_arena *a, int64_t gen,
                      struct vendorchat_snap **out, struct bt_err *err)
{
    struct bt_rows *ir, *kr, *mr;
    struct vendorchat_intent_src *is;
    struct vendorchat_kn_src *ks;
    size_t m = 0;
    int rc;

    rc = bt_db_query(db, a, &ir,
                     "SELECT id, name, type, description, keywords, confidence_threshold,"
                     " is_enabled, priority FROM vendorchat_intents ORDER BY id",
                     BT_NOARGS, err);
    if (rc != BT_OK)
        return rc;
    rc = bt_db_query(db, a, &kr,
                     "SELECT id, question_summary, answer, keywords, vendor_id, scope, priority"
                     " FROM vendorchat_knowledge WHERE is_active = TRUE ORDER BY id",
                     BT_NOARGS, err);
    if (rc != BT_OK)
        return rc;
    rc = bt_db_query(db, a, &mr,
                     "SELECT m.knowledge_id, m.intent_id, m.kind"
                     " FROM vendorchat_knowledge_intents m"
                     " JOIN vendorchat_knowledge k ON k.id = m.knowledge_id"
                     " WHERE k.is_active = TRUE ORDER BY m.knowledge_id, m.kind, m.intent_id",
                     BT_NOARGS, err);
    if (rc != BT_OK)
        return rc;

    is = bt_arena_alloc(a, (ir->nrows + 1) * sizeof(*is));
    for (size_t r = 0; r < ir->nrows; r++) {
        is[r].id = bt_rows_i64(ir, r, 0, 0);
        is[r].name = bt_rows_text(ir, r, 1);
        is[r].type = bt_rows_text(ir, r, 2);
        is[r].description = bt_rows_text(ir, r, 3);
        is[r].keywords = parse_keywords(a, bt_rows_text(ir, r, 4), &is[r].nkeywords);
        is[r].threshold = bt_rows_f64(ir, r, 5, 0.5);
        is[r].enabled = bt_rows_bool(ir, r, 6, true);
        is[r].priority = bt_rows_i64(ir, r, 7, 0);
    }
    ks = bt_arena_alloc(a, (kr->nrows + 1) * sizeof(*ks));
    for (size_t r = 0; r < kr->nrows; r++) {
        int64_t id = bt_rows_i64(kr, r, 0, 0);
        size_t first;

        ks[r].id = id;
        ks[r].question_summary = bt_rows_text(kr, r, 1);
        ks[r].answer = bt_rows_text(kr, r, 2);
        ks[r].keywords = parse_keywords(a, bt_rows_text(kr, r, 3), &ks[r].nkeywords);
        ks[r].vendor_id = bt_rows_i64(kr, r, 4, 0);
        ks[r].scope = bt_rows_text(kr, r, 5);
        ks[r].priority = bt_rows_i64(kr, r, 6, 0);
        /* both lists are ordered by knowledge id: walk the mappings alongside */
        while (m < mr->nrows && bt_rows_i64(mr, m, 0, 0) < id)
            m++;
        first = m;
        while (m < mr->nrows && bt_rows_i64(mr, m, 0, 0) == id)
            m++;
        if (m > first) {
            int64_t *ids = bt_arena_alloc(a, (m - first) * sizeof(*ids));
            bool *prim = bt_arena_alloc(a, (m - first) * sizeof(*prim));
            const char *kind;

            for (size_t j = first; j < m; j++) {
                ids[j - first] = bt_rows_i64(mr, j, 1, 0);
                kind = bt_rows_text(mr, j, 2);
                prim[j - first] = !kind || strcmp(kind, "secondary") != 0;
            }
            ks[r].intent_ids = ids;
            ks[r].intent_primary = prim;
            ks[r].nintents = m - first;
        }
    }
    *out = vendorchat_snap_build(is, ir->nrows, ks, kr->nrows, gen);
    return BT_OK;
}

int vendorchat_index_get(struct vendorchat_index *ix, struct bt_req *rq,
                         struct vendorchat_snap **out, struct bt_err *err)
{
    struct bt_arena *a = rq->arena;
    struct vendorchat_snap *s, *old;
    struct bt_db *db;
    int64_t gen = 0;
    uint64_t epoch;
    int rc;

    *out = NULL;
    if ((rc = vendorchat_knowledge_gen(rq, &gen, err)) != BT_OK)
        return rc;
    if ((s = index_peek(ix, gen, &epoch)) != NULL)
        goto done;
    if (!(db = bt_req_db(rq, err)))
        return err->code != BT_OK ? (int)err->code : BT_EDB;

    pthread_mutex_lock(&ix->build_mu);
    if ((s = index_peek(ix, gen, &epoch)) != NULL) { /* built while we waited */
        pthread_mutex_unlock(&ix->build_mu);
        goto done;
    }
    /* The rows are read after gen, so they are at least that new; a write landing in
     * between only makes the next message rebuild once more. */
    rc = index_load(db, a, gen, &s, err);
    if (rc != BT_OK) {
        pthread_mutex_unlock(&ix->build_mu);
        return rc;
    }
    s->epoch = epoch; /* a clear during the build leaves this snapshot stale at once */
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed); /* the caller's */
    pthread_mutex_lock(&ix->mu);
    old = ix->snap;
    ix->snap = s;
    ix->builds++;
    pthread_mutex_unlock(&ix->mu);
    pthread_mutex_unlock(&ix->build_mu);
    vendorchat_snap_release(old);
done:
    bt_arena_defer(a, snap_release_cb, s);
    *out = s;
    return BT_OK;
}

/* ---- intent usage ---- */

/* Counting a use with an UPDATE per message would make every message a database write: on
 * SQLite all messages would queue for the one write lock (and its busy handler sleeps), on
 * PostgreSQL every message would contend on the same few intent rows. Uses are added up in
 * memory instead and written at most once a second, as increments (so several instances
 * sharing a database add up correctly), and before anything reads the counts. */
#define USAGE_WRITE_NS 1000000000ull

static void usage_add(struct vendorchat_index *ix, int64_t intent_id, int64_t count,
                      const char *last)
{
    struct vc_usage *u = NULL;

    for (size_t i = 0; i < ix->nusage && !u; i++) {
        if (ix->usage[i].intent_id == intent_id)
            u = &ix->usage[i];
    }
    if (!u) {
        if (ix->nusage == ix->capusage) {
            ix->capusage = ix->capusage * 2 + 16;
            ix->usage = xrealloc(ix->usage, ix->capusage * sizeof(*ix->usage));
        }
        u = &ix->usage[ix->nusage++];
        memset(u, 0, sizeof(*u));
        u->intent_id = intent_id;
    }
    u->count += count;
    if (strcmp(last, u->last) > 0)
        snprintf(u->last, sizeof(u->last), "%s", last);
}

void vendorchat_usage_note(struct vendorchat_index *ix, int64_t intent_id, const char *now)
{
    pthread_mutex_lock(&ix->usage_mu);
    usage_add(ix, intent_id, 1, now);
    pthread_mutex_unlock(&ix->usage_mu);
}

bool vendorchat_usage_due(struct vendorchat_index *ix)
{
    bool due;

    pthread_mutex_lock(&ix->usage_mu);
    due = ix->nusage > 0 && bt_mono_ns() - ix->usage_written_ns >= USAGE_WRITE_NS;
    pthread_mutex_unlock(&ix->usage_mu);
    return due;
}

int vendorchat_usage_flush(struct vendorchat_index *ix, struct bt_db *db, bool force,
                           struct bt_err *err)
{
    struct vc_usage *batch;
    size_t n, i;
    uint64_t now = bt_mono_ns();
    int rc = BT_OK;

    pthread_mutex_lock(&ix->usage_mu);
    if (ix->nusage == 0 || (!force && now - ix->usage_written_ns < USAGE_WRITE_NS)) {
        pthread_mutex_unlock(&ix->usage_mu);
        return BT_OK;
    }
    batch = ix->usage; /* taken: new uses go to a fresh list while this one is written */
    n = ix->nusage;
    ix->usage = NULL;
    ix->nusage = ix->capusage = 0;
    ix->usage_written_ns = now;
    pthread_mutex_unlock(&ix->usage_mu);

    for (i = 0; i < n && rc == BT_OK; i++) {
        /* an intent deleted meanwhile simply matches no row */
        rc = bt_db_exec(
            db, NULL,
            "UPDATE vendorchat_intents SET usage_count = usage_count + $1,"
            " last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < $2"
            " THEN $2 ELSE last_used_at END WHERE id = $3",
            BT_ARGS(bt_i64(batch[i].count), bt_text(batch[i].last), bt_i64(batch[i].intent_id)),
            err);
    }
    if (rc != BT_OK) { /* keep what was not written for the next attempt */
        pthread_mutex_lock(&ix->usage_mu);
        for (size_t j = i - 1; j < n; j++)
            usage_add(ix, batch[j].intent_id, batch[j].count, batch[j].last);
        pthread_mutex_unlock(&ix->usage_mu);
    }
    free(batch);
    return rc;
}
