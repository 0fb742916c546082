/* SPDX-License-Identifier: MIT
 * search.h - case-insensitive substring search answered from an index, on both engines
 * (docs/CORE-MODULES.md, "Search"; the per-engine objects in docs/DATABASE.md).
 *
 * A searched table has a text column written by C (bt_search_text): its fields with ASCII
 * letters folded to lower case, joined by BT_SEARCH_SEP. The index holds every distinct 1-,
 * 2- and 3-character gram of that column (never spanning a separator):
 *   SQLite      an FTS5 table <table>_fts with bento's tokenizer "bento_grams", and a map
 *               <table>_sk from a stable integer to the key, both kept by triggers;
 *   PostgreSQL  a GIN index over bt_grams(<text column>) (a SQL function, nothing stored).
 * A migration creates them with one line, `{{SEARCH <table> <key> <text>}}`
 * (bt_migrate_expand).
 *
 * A term of up to 3 characters is answered by the index alone (the rows whose grams
 * contain it are exactly the rows that contain it); a longer one by the rows holding its
 * trigrams (at most BT_SEARCH_MAX_GRAMS of them, spread over the term), checked with LIKE.
 *
 * Thread-safety: every function is pure or uses only the connection it is given.
 */
#ifndef BENTO_SEARCH_H
#define BENTO_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bento/db.h>

struct bt_arena;
struct bt_buf;
struct bt_err;

/* Joins the fields of a search column; removed from terms, so a term never spans two. */
#define BT_SEARCH_SEP '\x1f'

/* The most trigrams of a long term looked up in the index. */
#define BT_SEARCH_MAX_GRAMS 8

/* The most arguments bt_search_where appends. */
#define BT_SEARCH_MAX_ARGS 2

/* One searched table, declared by the app as static data. The names are SQL identifiers
 * ([a-z_][a-z0-9_]*) spliced into statements; never build them from input. */
struct bt_search {
    const char *table; /* the searched table */
    const char *key;   /* a NOT NULL, unique column of it (the primary key) */
    const char *text;  /* the search column, written with bt_search_text */
};

/* A term as the index sees it (bt_search_term). Arena-owned. */
struct bt_search_term {
    const char *folded; /* trimmed, ASCII-folded, separators removed: what is searched */
    size_t nchars;      /* its length in characters (a stray byte of bad UTF-8 counts one) */
    const char *like;   /* "%folded%" with %, _ and \ escaped, for LIKE ... ESCAPE '\' */
    const char *grams[BT_SEARCH_MAX_GRAMS]; /* the index keys: folded itself when
                                             * nchars <= 3, else distinct trigrams of it */
    size_t ngrams;
};

/* How bt_search_where tests the term. */
enum bt_search_how {
    /* from the index: the candidates come from the grams (plus LIKE for long terms). Use it
     * when the query is driven by the matches (a count, a page sorted after filtering). */
    BT_SEARCH_INDEX,
    /* row by row: text LIKE pattern on each row. Use it when the query walks another index
     * (a page read in sort order) and tests rows as it goes. */
    BT_SEARCH_ROW,
};

/* ---- text ---- */

/** Append s (NULL: nothing) with ASCII A-Z folded to a-z; every other byte as it is.
 *  (Non-ASCII letters are not folded on purpose: PostgreSQL's lower() would fold them and
 *  SQLite's would not, so both engines and C agree only on ASCII.) */
void bt_search_fold(struct bt_buf *b, const char *s);

/** The search column for fields[0..n) (NULL fields count as empty): each folded, joined by
 *  BT_SEARCH_SEP. Arena-owned. */
const char *bt_search_text(struct bt_arena *a, const char *const *fields, size_t n);

/** Parse a term as typed: surrounding ASCII white space dropped, folded, separators
 *  removed. False (and *t zeroed) when nothing is left: no filter. raw may be NULL. */
bool bt_search_term(struct bt_arena *a, const char *raw, struct bt_search_term *t);

/** Length in bytes of the character at s[0..n): a well-formed UTF-8 sequence (1-4 bytes),
 *  else 1 (a stray or truncated byte is a character of its own). n must be >= 1. The index
 *  and terms are cut with it, so both agree on bad input too. */
size_t bt_search_char_len(const unsigned char *s, size_t n);

/** Call fn for every 1-, 2- and 3-character gram of text[0..n) (repeats included), never
 *  spanning BT_SEARCH_SEP. Returns the first non-zero fn result, else 0. */
int bt_search_grams(const char *text, size_t n, int (*fn)(void *ud, const char *gram, size_t len),
                    void *ud);

/* ---- queries ---- */

/** Append a condition (no leading AND/WHERE; parenthesised) testing t on s for engine to
 *  sql, with its arguments appended to args at *nargs ($N numbered from *nargs + 1); args
 *  must have room for BT_SEARCH_MAX_ARGS more. qual (may be NULL) qualifies the table's
 *  columns ("m" gives m.id) when the query names the table by another name. */
void bt_search_where(const struct bt_search *s, enum bt_engine engine, enum bt_search_how how,
                     const struct bt_search_term *t, const char *qual, struct bt_buf *sql,
                     struct bt_val *args, size_t *nargs);

/** The number of rows of s matching t, from the index. BT_OK or BT_EDB. */
int bt_search_count(struct bt_db *db, const struct bt_search *s, const struct bt_search_term *t,
                    int64_t *out, struct bt_err *err);

/** About how many rows s's table has, cheaply: SQLite the highest key-map number (never
 *  fewer than the rows), PostgreSQL the planner's estimate (pg_class.reltuples; counted
 *  when the table was never analysed). For bt_search_plan_*. BT_OK or BT_EDB. */
int bt_search_rows(struct bt_db *db, const struct bt_search *s, int64_t *out, struct bt_err *err);

/* ---- plans ----
 * A list that filters by a term and maybe by other conditions, sorted and paged, can read
 * its page three ways; which one is cheapest follows from counts it has anyway. Costs are
 * per row touched, relative to one step of a walk, measured at 100,000 rows on each engine
 * (docs/CORE-MODULES.md, "Search"). */
enum bt_search_plan {
    /* walk the sort key's index and test each row (BT_SEARCH_ROW) until offset + limit
     * match: about (offset + limit) * rows / total rows */
    BT_SEARCH_WALK,
    /* the term's rows from the index (BT_SEARCH_INDEX), then sorted: about `matches` rows */
    BT_SEARCH_SCAN_INDEX,
    /* every row tested (BT_SEARCH_ROW), then sorted: `rows` rows, but each cheaply */
    BT_SEARCH_SCAN_ROWS,
};

/** The cheapest way to a page: rows (bt_search_rows), matches (rows matching the term
 *  alone, bt_search_count; -1 when there is no term, so no index), total (rows matching
 *  every filter), want (offset + limit). A scan means sorting on an expression no index
 *  matches, so that the planner cannot walk an index instead. */
enum bt_search_plan bt_search_plan_page(enum bt_engine engine, int64_t rows, int64_t matches,
                                        int64_t total, int64_t want);

/** How to count a term together with other filters: from the index when its matches are
 *  few enough, else row by row (driven by the other filters' index, or a full scan). */
enum bt_search_how bt_search_plan_count(enum bt_engine engine, int64_t rows, int64_t matches);

/* ---- schema ---- */

/** The statements creating s's index for engine (each ends in ";"), appended to sql; the
 *  existing rows are indexed. On PostgreSQL they first refuse a database whose encoding is
 *  not UTF8 (the index cuts text into characters). False when a name is not an identifier.
 *  Used by bt_migrate_expand for {{SEARCH table key text}}. */
bool bt_search_ddl(const struct bt_search *s, enum bt_engine engine, struct bt_buf *sql);

#endif
