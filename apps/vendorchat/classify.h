/* SPDX-License-Identifier: MIT
 * classify.h - contracts of vendorchat's message pipeline internals: the built-in intent
 * classifier and knowledge retrieval index (classify.c) and the optional LLM provider
 * (llm.c). Included by chat.c, knowledge.c, classify.c, llm.c and their tests only.
 * Thread-safety: a snapshot is immutable once published and may be read by any number of
 * requests at once; the index that hands snapshots out is safe to call from every thread.
 */
#ifndef VENDORCHAT_CLASSIFY_H
#define VENDORCHAT_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vendorchat.h"

/* ---- text ---- */

/** Normalize text for matching: full-width ASCII forms -> ASCII, ASCII lower-cased, a few
 *  character variants unified (臺 -> 台, 裏 -> 裡, 妳 -> 你, 甚麼 -> 什麼), punctuation, symbols
 *  and white space dropped, invalid UTF-8 bytes dropped. Writes at most cap code points to out
 *  (may be NULL to count) and returns the number of code points the full result has. */
size_t vendorchat_normalize_cp(const char *s, size_t n, uint32_t *out, size_t cap);

/** The same as an arena-owned UTF-8 string (*ncp, may be NULL, gets the code point count). */
char *vendorchat_normalize(struct bt_arena *a, const char *s, size_t *ncp);

/** True for "function" characters (particles, pronouns, question words: 的 嗎 是 什 麼 我 ...).
 *  An n-gram made only of them carries no topic and is ignored by the scorer. */
bool vendorchat_is_function_char(uint32_t cp);

/** Character n-grams of normalized code points: every bigram and trigram that does not cross
 *  an ASCII/CJK boundary (a single code point yields one unigram). Keys pack up to three 21-bit
 *  code points, so equal keys mean equal grams. Writes at most cap keys; returns the count
 *  available. */
size_t vendorchat_ngrams(const uint32_t *cp, size_t n, uint64_t *out, size_t cap);

/** Number of code points in a gram key (1..3) and whether every one is a function char. */
unsigned vendorchat_gram_len(uint64_t key);
bool vendorchat_gram_is_stop(uint64_t key);

/* ---- snapshot of intents and knowledge ---- */

/* One intent as the classifier sees it (borrowed from the snapshot). */
struct vendorchat_intent {
    int64_t id;
    const char *name, *type, *description;
    double threshold; /* confidence_threshold */
    int64_t priority;
    bool enabled;
};

/* One knowledge row's intent mapping: index into the snapshot's intents. */
struct vendorchat_kmap {
    uint32_t intent;
    bool primary; /* kind = primary (else secondary) */
};

/* One active knowledge row (borrowed from the snapshot). */
struct vendorchat_kn {
    int64_t id;
    const char *question_summary, *answer, *scope;
    int64_t vendor_id; /* 0 = global */
    int64_t priority;
    int scope_weight; /* customized 1000, vendor 500, global 100 */
    const struct vendorchat_kmap *maps;
    size_t nmaps;
};

/* Builder input (all borrowed; copied by vendorchat_snap_build). */
struct vendorchat_intent_src {
    int64_t id;
    const char *name, *type, *description;
    const char *const *keywords;
    size_t nkeywords;
    double threshold;
    int64_t priority;
    bool enabled;
};

struct vendorchat_kn_src {
    int64_t id;
    const char *question_summary, *answer, *scope;
    int64_t vendor_id; /* 0 = global */
    int64_t priority;
    const char *const *keywords;
    size_t nkeywords;
    const int64_t *intent_ids; /* mapped intents; unknown ids are skipped */
    const bool *intent_primary;
    size_t nintents;
};

struct vendorchat_snap;

/** Build an immutable snapshot (refcount 1) from rows. gen is the knowledge generation the
 *  rows belong to. Never returns NULL (aborts on OOM). Release with vendorchat_snap_release. */
struct vendorchat_snap *vendorchat_snap_build(const struct vendorchat_intent_src *is, size_t ni,
                                              const struct vendorchat_kn_src *ks, size_t nk,
                                              int64_t gen);
/** Drop one reference; the last one frees the snapshot. NULL is allowed. */
void vendorchat_snap_release(struct vendorchat_snap *s);

const struct vendorchat_intent *vendorchat_snap_intents(const struct vendorchat_snap *s, size_t *n);
const struct vendorchat_kn *vendorchat_snap_knowledge(const struct vendorchat_snap *s, size_t *n);
int64_t vendorchat_snap_gen(const struct vendorchat_snap *s);

/** A snapshot current with the database: the knowledge generation from
 *  vendorchat_knowledge_gen (the meta cache on PostgreSQL, one cheap query otherwise), and a
 *  rebuild from the tables (on rq's connection) when it differs from the cached snapshot's or
 *  after vendorchat_cache_clear. The reference is released when rq's arena is reset (borrowed
 *  for the request). Returns BT_OK or a database status with err filled. */
int vendorchat_index_get(struct vendorchat_index *ix, struct bt_req *rq,
                         struct vendorchat_snap **out, struct bt_err *err);

/** Count one use of an intent (now: ISO text of the time). In memory; see
 *  vendorchat_usage_flush. Thread-safe. */
void vendorchat_usage_note(struct vendorchat_index *ix, int64_t intent_id, const char *now);

/** Is a write of the counted uses due (vendorchat_usage_flush without force would write)?
 *  The message pipeline checks out a connection for it only then. Thread-safe. */
bool vendorchat_usage_due(struct vendorchat_index *ix);

/** Add the counted uses to vendorchat_intents (usage_count, last_used_at) when force is set
 *  or the last write is more than a second old. Uses that could not be written are kept for
 *  the next call. Returns BT_OK or a database status with err filled. Thread-safe. */
int vendorchat_usage_flush(struct vendorchat_index *ix, struct bt_db *db, bool force,
                           struct bt_err *err);

/** How many snapshots this index has built (tests: proves caching and invalidation). */
uint64_t vendorchat_index_builds(struct vendorchat_index *ix);

/* ---- scoring ---- */

/* A knowledge row the message matched (visible to the vendor, similarity > 0). */
struct vendorchat_qhit {
    uint32_t k;  /* index into the snapshot's knowledge */
    double sim;  /* 0..1 */
    bool strong; /* matched in its question or keywords, not only in its answer */
};

/* A message scored against the knowledge rows visible to one vendor and every intent. */
struct vendorchat_query {
    const struct vendorchat_snap *s;
    int64_t vendor_id;
    struct vendorchat_qhit *hits; /* matched rows, in no particular order */
    size_t nhits;
    double *isim; /* per intent: direct similarity to its name, keywords, description */
    size_t ncp;   /* code points of the normalized message */
};

/** Score text for vendor_id. Memory from a, proportional to the postings the text touches. */
void vendorchat_query_run(const struct vendorchat_snap *s, struct bt_arena *a, const char *text,
                          int64_t vendor_id, struct vendorchat_query *q);

/** Similarity of knowledge row k (snapshot index) to the query, 0 when not matched; *strong
 *  (may be NULL) as in struct vendorchat_qhit. Linear in the hits (tests, diagnostics). */
double vendorchat_query_ksim(const struct vendorchat_query *q, size_t k, bool *strong);

#define VENDORCHAT_MAX_SECONDARY 2

/* Classification: a primary intent (NULL = unclear), up to two secondary ones. */
struct vendorchat_class {
    const struct vendorchat_intent *primary;
    const struct vendorchat_intent *secondary[VENDORCHAT_MAX_SECONDARY];
    size_t nsecondary;
    double confidence; /* 0..1; for unclear the best score seen */
};

/** The per-intent score (0..1) behind the classification, for tests and the LLM. */
double vendorchat_intent_score(const struct vendorchat_query *q, size_t intent_index);

/** Classify with the built-in scorer. */
void vendorchat_classify(const struct vendorchat_query *q, struct vendorchat_class *out);

/* One retrieved knowledge row. */
struct vendorchat_hit {
    const struct vendorchat_kn *k;
    double sim;     /* raw text similarity */
    double boosted; /* sim x intent boost */
};

/** Rank the knowledge visible to q's vendor: relevance gate first, then scope weight,
 *  boosted similarity, priority. Writes at most top_k hits; returns the count. */
size_t vendorchat_retrieve(const struct vendorchat_query *q, const struct vendorchat_class *c,
                           size_t top_k, struct vendorchat_hit *out);

/* ---- LLM provider (llm.c) ---- */

/** True when an llm_url is configured. */
bool vendorchat_llm_enabled(const struct vendorchat_state *st);

/** Ask the provider for the intent of message among the snapshot's enabled intents. BT_OK
 *  with out filled (primary NULL = the provider said unclear), anything else means "use the
 *  built-in classifier". *tokens grows by the call's usage.total_tokens. Never logs the key. */
int vendorchat_llm_classify(struct bt_req *rq, const struct vendorchat_snap *s, const char *message,
                            struct vendorchat_class *out, long *tokens);

/** Ask the provider to polish answer. BT_OK with *polished (arena-owned) only when the
 *  rewrite keeps every value in values[0..n) verbatim; otherwise a non-OK status and the
 *  caller keeps its answer. *tokens grows by usage.total_tokens whatever the outcome. */
int vendorchat_llm_polish(struct bt_req *rq, const char *message, const char *answer,
                          const char *const *values, size_t nvalues, char **polished, long *tokens);

/** True when every values[i] (non-empty) occurs verbatim in text. */
bool vendorchat_llm_keeps_values(const char *text, const char *const *values, size_t n);

#endif
