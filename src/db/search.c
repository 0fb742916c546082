/* SPDX-License-Identifier: MIT
 * search.c - the substring search facility (include/bento/search.h): folding, terms and
 * their grams, the per-engine conditions and counts, and the per-engine DDL behind
 * {{SEARCH table key text}}. The SQLite tokenizer that fills the FTS5 table is in
 * search_sqlite.c; both cut text with bt_search_grams, so index and terms always agree.
 * Must not: splice anything but the declared identifiers into SQL (terms are bound); let a
 * gram span BT_SEARCH_SEP; fold anything but ASCII (the engines disagree beyond it).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <bento/arena.h>
#include <bento/db.h>
#include <bento/err.h>
#include <bento/search.h>

/* The longest table name: "<table>_search" must stay within PostgreSQL's 63 bytes. */
#define SEARCH_NAME_MAX 48

/* Key of the advisory lock held while bt_grams is (re)created: two apps migrating at once
 * would otherwise collide on the catalog row ("tuple concurrently updated"). */
#define SEARCH_PG_LOCK 0x62656e746f677261LL /* "bentogra" */

/* ---- text ---- */

static char fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

void bt_search_fold(struct bt_buf *b, const char *s)
{
    for (; s && *s; s++)
        bt_buf_addc(b, fold(*s));
}

const char *bt_search_text(struct bt_arena *a, const char *const *fields, size_t n)
{
    struct bt_buf b;

    bt_buf_init(&b, a, 128);
    for (size_t i = 0; i < n; i++) {
        if (i)
            bt_buf_addc(&b, BT_SEARCH_SEP);
        bt_search_fold(&b, fields[i]);
    }
    return b.p;
}

size_t bt_search_char_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 1; /* a continuation byte, C0/C1 (overlong) or F5..FF */
    if (n < len)
        return 1;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 1;
    /* overlong three- and four-byte forms, UTF-16 surrogates, beyond U+10FFFF */
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] > 0x8f))
        return 1;
    return len;
}

int bt_search_grams(const char *text, size_t n, int (*fn)(void *ud, const char *gram, size_t len),
                    void *ud)
{
    const unsigned char *s = (const unsigned char *)text;

    for (size_t i = 0; i < n; i += bt_search_char_len(s + i, n - i)) {
        size_t end = i;
        for (int k = 0; k < 3 && end < n && s[end] != BT_SEARCH_SEP; k++) {
            int rc;
            end += bt_search_char_len(s + end, n - end);
            if ((rc = fn(ud, text + i, end - i)) != 0)
                return rc;
        }
    }
    return 0;
}

static bool is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

bool bt_search_term(struct bt_arena *a, const char *raw, struct bt_search_term *t)
{
    const unsigned char *s;
    struct bt_buf b;
    size_t start, end, *pos, m;

    memset(t, 0, sizeof(*t));
    if (!raw)
        return false;
    bt_buf_init(&b, a, strlen(raw) + 1);
    for (const char *p = raw; *p; p++)
        if (*p != BT_SEARCH_SEP)
            bt_buf_addc(&b, fold(*p));
    for (start = 0; start < b.len && is_space(b.p[start]);)
        start++;
    for (end = b.len; end > start && is_space(b.p[end - 1]);)
        end--;
    if (start == end)
        return false;
    t->folded = bt_arena_strndup(a, b.p + start, end - start);
    t->like = bt_db_like_contains(a, t->folded);

    /* the start of every character, and the end */
    s = (const unsigned char *)t->folded;
    pos = bt_arena_alloc(a, (end - start + 1) * sizeof(*pos));
    for (size_t i = 0, n = end - start;; i += bt_search_char_len(s + i, n - i)) {
        pos[t->nchars] = i;
        if (i >= n)
            break;
        t->nchars++;
    }
    if (t->nchars <= 3) {
        t->grams[t->ngrams++] = t->folded;
        return true;
    }
    /* trigrams starting at characters 0 .. m-1, at most BT_SEARCH_MAX_GRAMS of them spread
     * evenly, the first and the last always among them; repeats are looked up once */
    m = t->nchars - 2;
    for (size_t j = 0; j < BT_SEARCH_MAX_GRAMS && j < m; j++) {
        size_t k = m <= BT_SEARCH_MAX_GRAMS
                       ? j
                       : (j * (m - 1) + (BT_SEARCH_MAX_GRAMS - 1) / 2) / (BT_SEARCH_MAX_GRAMS - 1);
        const char *g = bt_arena_strndup(a, t->folded + pos[k], pos[k + 3] - pos[k]);
        bool seen = false;
        for (size_t i = 0; i < t->ngrams && !seen; i++)
            seen = strcmp(t->grams[i], g) == 0;
        if (!seen)
            t->grams[t->ngrams++] = g;
    }
    return true;
}

/* ---- queries ---- */

/* The FTS5 query for the grams: each a quoted string ("" inside), joined by AND. bento's
 * tokenizer reads a quoted string in a query as one token, exactly as written. */
static const char *fts_match(struct bt_arena *a, const struct bt_search_term *t)
{
    struct bt_buf b;

    bt_buf_init(&b, a, strlen(t->folded) * 4 + 16);
    for (size_t i = 0; i < t->ngrams; i++) {
        if (i)
            bt_buf_adds(&b, " AND ");
        bt_buf_addc(&b, '"');
        for (const char *p = t->grams[i]; *p; p++) {
            if (*p == '"')
                bt_buf_addc(&b, '"');
            bt_buf_addc(&b, *p);
        }
        bt_buf_addc(&b, '"');
    }
    return b.p;
}

/* The grams as a PostgreSQL text[] literal: {"g1","g2"}, " and \ escaped by \. */
static const char *pg_array(struct bt_arena *a, const struct bt_search_term *t)
{
    struct bt_buf b;

    bt_buf_init(&b, a, strlen(t->folded) * 4 + 16);
    bt_buf_addc(&b, '{');
    for (size_t i = 0; i < t->ngrams; i++) {
        if (i)
            bt_buf_addc(&b, ',');
        bt_buf_addc(&b, '"');
        for (const char *p = t->grams[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                bt_buf_addc(&b, '\\');
            bt_buf_addc(&b, *p);
        }
        bt_buf_addc(&b, '"');
    }
    bt_buf_addc(&b, '}');
    return b.p;
}

void bt_search_where(const struct bt_search *s, enum bt_engine engine, enum bt_search_how how,
                     const struct bt_search_term *t, const char *qual, struct bt_buf *sql,
                     struct bt_val *args, size_t *nargs)
{
    const char *q = qual ? qual : s->table;

    if (how == BT_SEARCH_ROW) {
        args[(*nargs)++] = bt_text(t->like);
        bt_buf_addf(sql, "(%s.%s LIKE $%zu ESCAPE '\\')", q, s->text, *nargs);
        return;
    }
    if (engine == BT_ENGINE_PG) {
        args[(*nargs)++] = bt_text(pg_array(sql->a, t));
        bt_buf_addf(sql, "(bt_grams(%s.%s) @> CAST($%zu AS text[])", q, s->text, *nargs);
    } else {
        args[(*nargs)++] = bt_text(fts_match(sql->a, t));
        bt_buf_addf(sql,
                    "(%s.%s IN (SELECT ref FROM %s_sk WHERE seq IN"
                    " (SELECT rowid FROM %s_fts WHERE %s_fts MATCH $%zu))",
                    q, s->key, s->table, s->table, s->table, *nargs);
    }
    /* the grams of a long term only narrow it down */
    if (t->nchars > 3) {
        args[(*nargs)++] = bt_text(t->like);
        bt_buf_addf(sql, " AND %s.%s LIKE $%zu ESCAPE '\\'", q, s->text, *nargs);
    }
    bt_buf_addc(sql, ')');
}

int bt_search_count(struct bt_db *db, const struct bt_search *s, const struct bt_search_term *t,
                    int64_t *out, struct bt_err *err)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_val args[BT_SEARCH_MAX_ARGS];
    size_t nargs = 0;
    struct bt_buf sql;
    int rc;

    bt_buf_init(&sql, a, 256);
    if (bt_db_engine(db) == BT_ENGINE_SQLITE && t->nchars <= 3) {
        /* the index alone: one FTS5 doclist, no row is read */
        args[nargs++] = bt_text(fts_match(a, t));
        bt_buf_addf(&sql, "SELECT count(*) FROM %s_fts WHERE %s_fts MATCH $1", s->table, s->table);
    } else {
        bt_buf_addf(&sql, "SELECT count(*) FROM %s WHERE ", s->table);
        bt_search_where(s, bt_db_engine(db), BT_SEARCH_INDEX, t, NULL, &sql, args, &nargs);
    }
    rc = bt_db_query_i64(db, out, sql.p, args, nargs, err);
    bt_arena_free(a);
    return rc;
}

int bt_search_rows(struct bt_db *db, const struct bt_search *s, int64_t *out, struct bt_err *err)
{
    char sql[160];
    int rc;

    *out = 0;
    if (bt_db_engine(db) == BT_ENGINE_SQLITE) {
        snprintf(sql, sizeof(sql), "SELECT coalesce(max(seq), 0) FROM %s_sk", s->table);
        return bt_db_query_i64(db, out, sql, BT_NOARGS, err);
    }
    rc = bt_db_query_i64(db, out,
                         "SELECT CAST(reltuples AS BIGINT) FROM pg_class"
                         " WHERE oid = CAST(CAST($1 AS text) AS regclass)",
                         BT_ARGS(bt_text(s->table)), err);
    if (rc != BT_OK || *out >= 0)
        return rc;
    /* -1: never vacuumed or analysed (autovacuum does it soon after the first writes) */
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", s->table);
    return bt_db_query_i64(db, out, sql, BT_NOARGS, err);
}

/* ---- plans ---- */

/* Cost of touching one row, relative to one step of a walk (a sort-index entry, its row and
 * a LIKE), measured with 100,000 yunshui materials (docs/CORE-MODULES.md, "Search"). */
struct plan_costs {
    double candidate; /* a row from the gram index: key map, row, then the sort */
    double scanned;   /* a row of a full scan: read in order and tested */
};

static const struct plan_costs *costs_of(enum bt_engine engine)
{
    /* SQLite: walk 0.55 us, candidate 4 us (FTS5 rowid -> key map -> row), scan 0.22 us.
     * PostgreSQL: walk 0.8 us, candidate 2 us (bitmap heap), scan 0.7-0.8 us (in order). */
    static const struct plan_costs sqlite = {7.0, 0.4}, pg = {2.5, 0.9};

    return engine == BT_ENGINE_PG ? &pg : &sqlite;
}

enum bt_search_plan bt_search_plan_page(enum bt_engine engine, int64_t rows, int64_t matches,
                                        int64_t total, int64_t want)
{
    const struct plan_costs *c = costs_of(engine);
    double n = (double)(rows > total ? rows : total), walk, scan_rows, scan_index;

    if (total <= 0)
        return BT_SEARCH_SCAN_INDEX; /* nothing to find: the index says so at once */
    /* rows walked before offset + limit matches, if matches are spread evenly */
    walk = (double)want * n / (double)total;
    if (walk > n)
        walk = n;
    scan_rows = n * c->scanned;
    scan_index = matches >= 0 ? (double)matches * c->candidate : scan_rows + 1;
    if (walk <= scan_rows && walk <= scan_index)
        return BT_SEARCH_WALK;
    return scan_index <= scan_rows ? BT_SEARCH_SCAN_INDEX : BT_SEARCH_SCAN_ROWS;
}

enum bt_search_how bt_search_plan_count(enum bt_engine engine, int64_t rows, int64_t matches)
{
    const struct plan_costs *c = costs_of(engine);

    return (double)matches * c->candidate <= (double)rows * c->scanned ? BT_SEARCH_INDEX
                                                                       : BT_SEARCH_ROW;
}

/* ---- schema ---- */

static bool ident_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > max || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* Every distinct 1-, 2- and 3-character gram of each U+001F-separated part of t: the same
 * set bt_search_grams gives for valid UTF-8 (substr and length count characters in a UTF8
 * database). Never change this body: indexes built with it would disagree with their
 * queries; a new version gets a new name. The default COST on purpose, although a call
 * costs tens of microseconds: the planner charges a bitmap scan's recheck condition for
 * every row it returns (GIN's @> never rechecks), so COST 5000 priced a common term's count
 * over jit_above_cost and JIT compilation added 5-30 ms to it; the queries of search.c
 * never stop early without a full sort, so no plan calls it row by row to save work. */
static const char pg_grams_fn[] =
    "CREATE OR REPLACE FUNCTION bt_grams(t text) RETURNS text[]\n"
    "IMMUTABLE STRICT PARALLEL SAFE LANGUAGE sql AS $bt$\n"
    "  SELECT coalesce(array_agg(DISTINCT g), '{}') FROM (\n"
    "    SELECT unnest(ARRAY[substr(w, i, 1), substr(w, i, 2), substr(w, i, 3)]) AS g\n"
    "    FROM unnest(string_to_array(t, chr(31))) AS w, generate_series(1, length(w)) AS i) s\n"
    "$bt$;\n";

static void ddl_pg(const struct bt_search *s, struct bt_buf *b)
{
    bt_buf_adds(b, "DO $bt$ BEGIN\n"
                   "  IF current_setting('server_encoding') <> 'UTF8' THEN\n"
                   "    RAISE EXCEPTION 'bento search needs a UTF8 database, this one is %',\n"
                   "      current_setting('server_encoding')\n"
                   "      USING HINT = 'create the database with ENCODING ''UTF8'' "
                   "(docs/DATABASE.md)';\n"
                   "  END IF;\n"
                   "END $bt$;\n");
    bt_buf_addf(b, "SELECT pg_advisory_xact_lock(%lld);\n", (long long)SEARCH_PG_LOCK);
    bt_buf_adds(b, pg_grams_fn);
    /* fastupdate off: a write goes straight into the posting lists, so no query ever scans
     * a pending list of recent writes */
    bt_buf_addf(b,
                "CREATE INDEX %s_search ON %s USING gin (bt_grams(%s))"
                " WITH (fastupdate = off);\n",
                s->table, s->table, s->text);
}

static void ddl_sqlite(const struct bt_search *s, struct bt_buf *b)
{
    const char *t = s->table, *k = s->key, *x = s->text;

    /* seq: the FTS5 rowid, stable for the row's life (a table's own rowid is not: VACUUM
     * may renumber it unless it is an INTEGER PRIMARY KEY) */
    bt_buf_addf(b, "CREATE TABLE %s_sk (seq INTEGER PRIMARY KEY, ref NOT NULL UNIQUE);\n", t);
    bt_buf_addf(b,
                "CREATE VIRTUAL TABLE %s_fts USING fts5(body, content='', detail=none,"
                " tokenize='bento_grams');\n",
                t);
    bt_buf_addf(b, "INSERT INTO %s_sk (ref) SELECT %s FROM %s;\n", t, k, t);
    bt_buf_addf(b,
                "INSERT INTO %s_fts (rowid, body) SELECT s.seq, t.%s FROM %s_sk s"
                " JOIN %s t ON t.%s = s.ref;\n",
                t, x, t, t, k);
    bt_buf_addf(b, "INSERT INTO %s_fts (%s_fts) VALUES ('optimize');\n", t, t);
    /* a contentless FTS5 row is deleted by giving the text it was indexed with: old.text */
    bt_buf_addf(b,
                "CREATE TRIGGER %s_search_ins AFTER INSERT ON %s BEGIN\n"
                "  INSERT INTO %s_sk (ref) VALUES (new.%s);\n"
                "  INSERT INTO %s_fts (rowid, body) SELECT seq, new.%s FROM %s_sk"
                " WHERE ref = new.%s;\n"
                "END;\n",
                t, t, t, k, t, x, t, k);
    bt_buf_addf(b,
                "CREATE TRIGGER %s_search_upd AFTER UPDATE OF %s, %s ON %s\n"
                "WHEN old.%s IS NOT new.%s OR old.%s IS NOT new.%s BEGIN\n"
                "  INSERT INTO %s_fts (%s_fts, rowid, body) SELECT 'delete', seq, old.%s"
                " FROM %s_sk WHERE ref = old.%s;\n"
                "  UPDATE %s_sk SET ref = new.%s WHERE ref = old.%s;\n"
                "  INSERT INTO %s_fts (rowid, body) SELECT seq, new.%s FROM %s_sk"
                " WHERE ref = new.%s;\n"
                "END;\n",
                t, k, x, t, k, k, x, x, t, t, x, t, k, t, k, k, t, x, t, k);
    bt_buf_addf(b,
                "CREATE TRIGGER %s_search_del AFTER DELETE ON %s BEGIN\n"
                "  INSERT INTO %s_fts (%s_fts, rowid, body) SELECT 'delete', seq, old.%s"
                " FROM %s_sk WHERE ref = old.%s;\n"
                "  DELETE FROM %s_sk WHERE ref = old.%s;\n"
                "END;\n",
                t, t, t, t, x, t, k, t, k);
}

bool bt_search_ddl(const struct bt_search *s, enum bt_engine engine, struct bt_buf *sql)
{
    if (!ident_ok(s->table, SEARCH_NAME_MAX) || !ident_ok(s->key, 63) || !ident_ok(s->text, 63))
        return false;
    if (engine == BT_ENGINE_PG)
        ddl_pg(s, sql);
    else
        ddl_sqlite(s, sql);
    return true;
}
