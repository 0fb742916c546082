/* SPDX-License-Identifier: MIT
 * test_search.c - the pure half of the search facility (include/bento/search.h, src/db/
 * search.c): characters of good and bad UTF-8, grams that never span U+001F, folding and
 * the search column, a term's folding, trimming, LIKE pattern and index keys, the SQL and
 * arguments each engine gets (quotes and backslashes in FTS5 and array literals), the DDL's
 * refusal of names that are not identifiers, and the page and count plans.
 * The same functions against real databases: tests/db/test_search_index.c; fuzzed:
 * tests/fuzz/fuzz_search.c.
 */
#include "bt_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bento/search.h>

#define SEP "\x1f"

static const struct bt_search docs = {"docs", "id", "search_text"};

/* ---- characters ---- */

static size_t clen(const char *s)
{
    return bt_search_char_len((const unsigned char *)s, strlen(s));
}

static void test_char_len(void **state)
{
    (void)state;
    assert_int_equal(clen("a"), 1);
    assert_int_equal(clen("\x1f"), 1);
    assert_int_equal(clen("é"), 2);
    assert_int_equal(clen("鋼"), 3);
    assert_int_equal(clen("😀"), 4);
    assert_int_equal(clen("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
    /* every malformed lead is one character of one byte */
    assert_int_equal(clen("\x80"), 1);             /* a stray continuation byte */
    assert_int_equal(clen("\xc0\x80"), 1);         /* overlong NUL */
    assert_int_equal(clen("\xc1\xbf"), 1);         /* overlong */
    assert_int_equal(clen("\xe0\x80\x80"), 1);     /* overlong three-byte form */
    assert_int_equal(clen("\xed\xa0\x80"), 1);     /* a UTF-16 surrogate */
    assert_int_equal(clen("\xf0\x80\x80\x80"), 1); /* overlong four-byte form */
    assert_int_equal(clen("\xf4\x90\x80\x80"), 1); /* beyond U+10FFFF */
    assert_int_equal(clen("\xf5\x80\x80\x80"), 1);
    assert_int_equal(clen("\xff"), 1);
    assert_int_equal(clen("\xe9\x8b"), 1); /* truncated at the end */
    assert_int_equal(clen("\xe9\x8b"
                          "a"),
                     1); /* cut short by another character */
    /* n bounds the read: a good sequence longer than what is left is one byte */
    assert_int_equal(bt_search_char_len((const unsigned char *)"鋼", 2), 1);
}

/* ---- grams ---- */

struct grams {
    char list[64][16];
    size_t n;
};

static int collect(void *ud, const char *gram, size_t len)
{
    struct grams *g = ud;

    assert_true(len > 0 && len < sizeof(g->list[0]));
    assert_true(g->n < 64);
    memcpy(g->list[g->n], gram, len);
    g->list[g->n][len] = '\0';
    g->n++;
    return 0;
}

/* The grams of text, joined by '|' (static buffer). */
static const char *grams_of(const char *text, size_t n)
{
    static char out[1024];
    struct grams g = {0};
    size_t len = 0;

    assert_int_equal(bt_search_grams(text, n, collect, &g), 0);
    out[0] = '\0';
    for (size_t i = 0; i < g.n; i++)
        len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? "|" : "", g.list[i]);
    return out;
}

static void test_grams(void **state)
{
    (void)state;
    assert_string_equal(grams_of("", 0), "");
    assert_string_equal(grams_of("a", 1), "a");
    assert_string_equal(grams_of("abcd", 4), "a|ab|abc|b|bc|bcd|c|cd|d");
    /* characters, not bytes */
    assert_string_equal(grams_of("鋼板x", strlen("鋼板x")), "鋼|鋼板|鋼板x|板|板x|x");
    assert_string_equal(grams_of("😀é", strlen("😀é")), "😀|😀é|é");
    /* repeats are given as they come (FTS5 keeps one entry per token and row) */
    assert_string_equal(grams_of("aaa", 3), "a|aa|aaa|a|aa|a");
}

/* U+001F ends every gram: none spans it, none contains it. */
static void test_grams_never_span_separator(void **state)
{
    const char *t = "ab" SEP "cd" SEP SEP "e" SEP;
    (void)state;

    assert_string_equal(grams_of(t, strlen(t)), "a|ab|b|c|cd|d|e");
    assert_string_equal(grams_of(SEP SEP, 2), "");
    assert_string_equal(grams_of(SEP "鋼", strlen(SEP "鋼")), "鋼");
}

/* Bad UTF-8 is cut byte by byte where it is bad, and nothing is read past n. */
static void test_grams_bad_utf8(void **state)
{
    char *heap = malloc(2);
    (void)state;

    assert_string_equal(grams_of("\xe9\x8b"
                                 "a",
                                 3),
                        "\xe9|\xe9\x8b|\xe9\x8b"
                        "a|\x8b|\x8b"
                        "a|a");
    assert_string_equal(grams_of("\xff\xfe", 2), "\xff|\xff\xfe|\xfe");
    /* a lead byte at the very end of an exactly sized block */
    memcpy(heap, "a\xe9", 2);
    assert_string_equal(grams_of(heap, 2), "a|a\xe9|\xe9");
    free(heap);
    /* a NUL inside is a character like any other */
    {
        struct grams g = {0};
        assert_int_equal(bt_search_grams("a\0b", 3, collect, &g), 0);
        assert_int_equal(g.n, 6);
        assert_int_equal(g.list[4][0], '\0');
        assert_int_equal(g.list[4][1], 'b');
    }
}

static int stop_at_second(void *ud, const char *gram, size_t len)
{
    int *calls = ud;

    (void)gram;
    (void)len;
    return ++*calls == 2 ? 42 : 0;
}

static void test_grams_stop(void **state)
{
    int calls = 0;
    (void)state;

    assert_int_equal(bt_search_grams("abc", 3, stop_at_second, &calls), 42);
    assert_int_equal(calls, 2);
}

/* ---- folding ---- */

static void test_fold_and_text(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_buf b;
    const char *fields[] = {"Steel PIPE", NULL, "ÀÉ Ａ Ω 鋼 Z"};
    (void)state;

    bt_buf_init(&b, a, 4);
    bt_search_fold(&b, "AZaz@[`{09 Ü");
    bt_search_fold(&b, NULL);
    assert_string_equal(b.p, "azaz@[`{09 Ü"); /* only ASCII letters */
    assert_string_equal(bt_search_text(a, fields, 3), "steel pipe" SEP SEP "ÀÉ Ａ Ω 鋼 z");
    assert_string_equal(bt_search_text(a, fields, 1), "steel pipe");
    assert_string_equal(bt_search_text(a, fields, 0), "");
    bt_arena_free(a);
}

/* ---- terms ---- */

static void test_term_no_filter(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_search_term t;
    const char *blank[] = {"", " ", " \t\r\n\v\f ", SEP, " " SEP " ", SEP SEP};
    (void)state;

    assert_false(bt_search_term(a, NULL, &t));
    assert_null(t.folded);
    for (size_t i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
        assert_false(bt_search_term(a, blank[i], &t));
        assert_null(t.folded);
        assert_int_equal(t.ngrams, 0);
    }
    bt_arena_free(a);
}

static void test_term_short(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_search_term t;
    (void)state;

    assert_true(bt_search_term(a, "  鋼  ", &t));
    assert_string_equal(t.folded, "鋼");
    assert_int_equal(t.nchars, 1);
    assert_string_equal(t.like, "%鋼%");
    assert_int_equal(t.ngrams, 1);
    assert_string_equal(t.grams[0], "鋼");

    assert_true(bt_search_term(a, "\tA" SEP "b\n", &t)); /* the separator is dropped */
    assert_string_equal(t.folded, "ab");
    assert_int_equal(t.nchars, 2);

    /* inner white space stays; surrounding white space is not searched */
    assert_true(bt_search_term(a, " 3 4 ", &t));
    assert_string_equal(t.folded, "3 4");
    assert_int_equal(t.nchars, 3);
    assert_string_equal(t.grams[0], "3 4");
    bt_arena_free(a);
}

/* %, _ and \ are literal in the LIKE pattern; the index keys keep them as they are. */
static void test_term_like_specials(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_search_term t;
    (void)state;

    assert_true(bt_search_term(a, "100%", &t));
    assert_string_equal(t.like, "%100\\%%");
    assert_int_equal(t.nchars, 4);
    assert_true(bt_search_term(a, "_", &t));
    assert_string_equal(t.like, "%\\_%");
    assert_string_equal(t.grams[0], "_");
    assert_true(bt_search_term(a, "a\\b", &t));
    assert_string_equal(t.like, "%a\\\\b%");
    assert_string_equal(t.grams[0], "a\\b");
    bt_arena_free(a);
}

static void test_term_long_grams(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_search_term t;
    char big[256];
    (void)state;

    /* four characters: both trigrams */
    assert_true(bt_search_term(a, "B1234", &t));
    assert_int_equal(t.nchars, 5);
    assert_int_equal(t.ngrams, 3);
    assert_string_equal(t.grams[0], "b12");
    assert_string_equal(t.grams[1], "123");
    assert_string_equal(t.grams[2], "234");
    assert_true(bt_search_term(a, "不鏽鋼板", &t));
    assert_int_equal(t.ngrams, 2);
    assert_string_equal(t.grams[0], "不鏽鋼");
    assert_string_equal(t.grams[1], "鏽鋼板");

    /* repeated trigrams are looked up once */
    assert_true(bt_search_term(a, "aaaaaa", &t));
    assert_int_equal(t.ngrams, 1);
    assert_string_equal(t.grams[0], "aaa");

    /* 200 characters: at most 8 trigrams, the first and the last among them */
    for (int i = 0; i < 200; i++)
        big[i] = (char)('a' + i % 26);
    big[200] = '\0';
    assert_true(bt_search_term(a, big, &t));
    assert_int_equal(t.nchars, 200);
    assert_int_equal(t.ngrams, BT_SEARCH_MAX_GRAMS);
    assert_string_equal(t.grams[0], "abc");
    assert_string_equal(t.grams[BT_SEARCH_MAX_GRAMS - 1], "pqr"); /* starts at 197 */
    for (size_t i = 0; i < t.ngrams; i++) {
        assert_int_equal(strlen(t.grams[i]), 3);
        assert_non_null(strstr(big, t.grams[i]));
    }
    bt_arena_free(a);
}

/* A term of bad UTF-8 is cut the way the index cuts text (no crash, nothing read past its
 * end); query strings never carry one (the HTTP layer refuses them), this is defence. */
static void test_term_bad_utf8(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_search_term t;
    (void)state;

    assert_true(bt_search_term(a, "\xe9\x8b", &t));
    assert_int_equal(t.nchars, 2);
    assert_string_equal(t.grams[0], "\xe9\x8b");
    assert_true(bt_search_term(a, "\xff\xfe\xfd\xfc", &t));
    assert_int_equal(t.nchars, 4);
    assert_int_equal(t.ngrams, 2);
    assert_string_equal(t.grams[0], "\xff\xfe\xfd");
    assert_string_equal(t.grams[1], "\xfe\xfd\xfc");
    bt_arena_free(a);
}

/* ---- SQL ---- */

struct where {
    char *sql;
    struct bt_val args[BT_SEARCH_MAX_ARGS + 3];
    size_t nargs;
};

static void where(struct bt_arena *a, enum bt_engine e, enum bt_search_how how, const char *term,
                  const char *qual, size_t first, struct where *w)
{
    struct bt_search_term t;
    struct bt_buf b;

    assert_true(bt_search_term(a, term, &t));
    bt_buf_init(&b, a, 16);
    w->nargs = first;
    bt_search_where(&docs, e, how, &t, qual, &b, w->args, &w->nargs);
    w->sql = b.p;
}

static void test_where_sqlite(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct where w;
    (void)state;

    where(a, BT_ENGINE_SQLITE, BT_SEARCH_INDEX, "鋼", NULL, 0, &w);
    assert_string_equal(w.sql, "(docs.id IN (SELECT ref FROM docs_sk WHERE seq IN"
                               " (SELECT rowid FROM docs_fts WHERE docs_fts MATCH $1)))");
    assert_int_equal(w.nargs, 1);
    assert_string_equal(w.args[0].u.s, "\"鋼\"");

    /* a long term: its trigrams, then LIKE; numbering goes on from the caller's arguments */
    where(a, BT_ENGINE_SQLITE, BT_SEARCH_INDEX, "ABCD", "m", 2, &w);
    assert_string_equal(w.sql, "(m.id IN (SELECT ref FROM docs_sk WHERE seq IN"
                               " (SELECT rowid FROM docs_fts WHERE docs_fts MATCH $3))"
                               " AND m.search_text LIKE $4 ESCAPE '\\')");
    assert_int_equal(w.nargs, 4);
    assert_string_equal(w.args[2].u.s, "\"abc\" AND \"bcd\"");
    assert_string_equal(w.args[3].u.s, "%abcd%");

    /* FTS5's quote is doubled; nothing else of the term is special inside the string */
    where(a, BT_ENGINE_SQLITE, BT_SEARCH_INDEX, "a\"b", NULL, 0, &w);
    assert_string_equal(w.args[0].u.s, "\"a\"\"b\"");
    where(a, BT_ENGINE_SQLITE, BT_SEARCH_INDEX, "\"*:^()-+AND", NULL, 0, &w);
    assert_true(w.args[0].type == BT_V_TEXT);
    assert_non_null(strstr(w.args[0].u.s, "\"\"\"*:\""));

    where(a, BT_ENGINE_SQLITE, BT_SEARCH_ROW, "鋼", NULL, 0, &w);
    assert_string_equal(w.sql, "(docs.search_text LIKE $1 ESCAPE '\\')");
    assert_string_equal(w.args[0].u.s, "%鋼%");
    bt_arena_free(a);
}

static void test_where_pg(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct where w;
    (void)state;

    where(a, BT_ENGINE_PG, BT_SEARCH_INDEX, "鋼", NULL, 0, &w);
    assert_string_equal(w.sql, "(bt_grams(docs.search_text) @> CAST($1 AS text[]))");
    assert_string_equal(w.args[0].u.s, "{\"鋼\"}");

    where(a, BT_ENGINE_PG, BT_SEARCH_INDEX, "不鏽鋼板", NULL, 1, &w);
    assert_string_equal(w.sql, "(bt_grams(docs.search_text) @> CAST($2 AS text[])"
                               " AND docs.search_text LIKE $3 ESCAPE '\\')");
    assert_string_equal(w.args[1].u.s, "{\"不鏽鋼\",\"鏽鋼板\"}");
    assert_string_equal(w.args[2].u.s, "%不鏽鋼板%");

    /* an array literal's quote and backslash are escaped; braces and commas are quoted */
    where(a, BT_ENGINE_PG, BT_SEARCH_INDEX, "\"\\", NULL, 0, &w);
    assert_string_equal(w.args[0].u.s, "{\"\\\"\\\\\"}");
    where(a, BT_ENGINE_PG, BT_SEARCH_INDEX, "{,}", NULL, 0, &w);
    assert_string_equal(w.args[0].u.s, "{\"{,}\"}");

    where(a, BT_ENGINE_PG, BT_SEARCH_ROW, "x_y", "t", 0, &w);
    assert_string_equal(w.sql, "(t.search_text LIKE $1 ESCAPE '\\')");
    assert_string_equal(w.args[0].u.s, "%x\\_y%");
    bt_arena_free(a);
}

static void test_ddl(void **state)
{
    struct bt_arena *a = bt_arena_new();
    struct bt_buf b;
    const struct bt_search bad[] = {
        {"Docs", "id", "t"},
        {"docs", "id", "t x"},
        {"docs", "\"id\"", "t"},
        {"docs", "id", ""},
        {"docs;", "id", "t"},
        {"1docs", "id", "t"},
        {NULL, "id", "t"},
        {"docs", NULL, "t"},
        {"docs", "id", "t--"},
        {"a23456789012345678901234567890123456789012345678x", "id", "t"}, /* 49 bytes */
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bt_buf_init(&b, a, 16);
        assert_false(bt_search_ddl(&bad[i], BT_ENGINE_SQLITE, &b));
        assert_false(bt_search_ddl(&bad[i], BT_ENGINE_PG, &b));
        assert_int_equal(b.len, 0);
    }
    bt_buf_init(&b, a, 16);
    assert_true(bt_search_ddl(&docs, BT_ENGINE_SQLITE, &b));
    assert_non_null(strstr(b.p, "CREATE VIRTUAL TABLE docs_fts USING fts5(body, content='',"
                                " detail=none, tokenize='bento_grams');"));
    assert_non_null(strstr(b.p, "CREATE TABLE docs_sk"));
    assert_non_null(strstr(b.p, "CREATE TRIGGER docs_search_ins AFTER INSERT ON docs"));
    assert_non_null(strstr(b.p, "CREATE TRIGGER docs_search_upd AFTER UPDATE OF id, search_text"));
    assert_non_null(strstr(b.p, "CREATE TRIGGER docs_search_del AFTER DELETE ON docs"));
    bt_buf_init(&b, a, 16);
    assert_true(bt_search_ddl(&docs, BT_ENGINE_PG, &b));
    assert_non_null(strstr(b.p, "current_setting('server_encoding') <> 'UTF8'"));
    assert_non_null(strstr(b.p, "CREATE OR REPLACE FUNCTION bt_grams(t text)"));
    assert_non_null(strstr(b.p, "CREATE INDEX docs_search ON docs USING gin"
                                " (bt_grams(search_text))"));
    bt_arena_free(a);
}

/* ---- plans ---- */

static void test_plans(void **state)
{
    const enum bt_engine both[] = {BT_ENGINE_SQLITE, BT_ENGINE_PG};
    (void)state;

    for (size_t i = 0; i < 2; i++) {
        enum bt_engine e = both[i];
        /* a common term's early page: walk the sort index (60 * 100000 / 29166 rows) */
        assert_int_equal(bt_search_plan_page(e, 100000, 29166, 29166, 60), BT_SEARCH_WALK);
        /* a rare term: its few rows from the index */
        assert_int_equal(bt_search_plan_page(e, 100000, 1, 1, 20), BT_SEARCH_SCAN_INDEX);
        assert_int_equal(bt_search_plan_page(e, 100000, 100, 100, 20), BT_SEARCH_SCAN_INDEX);
        /* a common term's deep page: a walk would touch most rows */
        assert_int_not_equal(bt_search_plan_page(e, 100000, 29166, 29166, 29000), BT_SEARCH_WALK);
        /* nothing matches: nothing to walk */
        assert_int_equal(bt_search_plan_page(e, 100000, 0, 0, 20), BT_SEARCH_SCAN_INDEX);
        /* a common term whose other filter leaves few rows: a walk finds them late, the
         * index would hand over every row of the term; a full scan is cheaper */
        assert_int_equal(bt_search_plan_page(e, 100000, 60000, 10, 20), BT_SEARCH_SCAN_ROWS);
        /* no term, no index (a status filter): walk or scan, from the share that matches */
        assert_int_equal(bt_search_plan_page(e, 1000, -1, 900, 60), BT_SEARCH_WALK);
        assert_int_equal(bt_search_plan_page(e, 1000, -1, 10, 20), BT_SEARCH_SCAN_ROWS);
        /* counting with other filters: the index for rare terms, rows for common ones */
        assert_int_equal(bt_search_plan_count(e, 100000, 50), BT_SEARCH_INDEX);
        assert_int_equal(bt_search_plan_count(e, 100000, 90000), BT_SEARCH_ROW);
    }
    /* the engines differ in what a row from the index costs: on SQLite the key map and
     * the row cost more than reading the whole table in order, on PostgreSQL less */
    assert_int_equal(bt_search_plan_page(BT_ENGINE_SQLITE, 100000, 29166, 29166, 29000),
                     BT_SEARCH_SCAN_ROWS);
    assert_int_equal(bt_search_plan_page(BT_ENGINE_PG, 100000, 29166, 29166, 29000),
                     BT_SEARCH_SCAN_INDEX);
    assert_int_equal(bt_search_plan_count(BT_ENGINE_SQLITE, 100000, 20000), BT_SEARCH_ROW);
    assert_int_equal(bt_search_plan_count(BT_ENGINE_PG, 100000, 20000), BT_SEARCH_INDEX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_char_len),
        cmocka_unit_test(test_grams),
        cmocka_unit_test(test_grams_never_span_separator),
        cmocka_unit_test(test_grams_bad_utf8),
        cmocka_unit_test(test_grams_stop),
        cmocka_unit_test(test_fold_and_text),
        cmocka_unit_test(test_term_no_filter),
        cmocka_unit_test(test_term_short),
        cmocka_unit_test(test_term_like_specials),
        cmocka_unit_test(test_term_long_grams),
        cmocka_unit_test(test_term_bad_utf8),
        cmocka_unit_test(test_where_sqlite),
        cmocka_unit_test(test_where_pg),
        cmocka_unit_test(test_ddl),
        cmocka_unit_test(test_plans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
