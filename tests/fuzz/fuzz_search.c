/* SPDX-License-Identifier: MIT
 * fuzz_search.c - the search facility (src/db/search.c, search_sqlite.c). Input: a text (the
 * fields of a search column, U+001F between them), a newline, then a search term as typed.
 *   bt_search_grams     every gram lies inside the text, has 1-3 characters (1-12 bytes)
 *                       and never holds U+001F;
 *   bt_search_term      the folded term is non-empty, trimmed, without U+001F or upper-case
 *                       ASCII; its LIKE pattern unescapes to it; its grams are pieces of it
 *                       (the term itself up to 3 characters, else distinct trigrams);
 *   bt_search_where     the FTS5 string and the PostgreSQL array literal parse back to
 *                       exactly the grams (quotes and backslashes escaped right);
 *   the real tokenizer  the folded text is stored in an in-memory SQLite table with the
 *                       index of {{SEARCH}}; for valid UTF-8, the index's count and the
 *                       row-by-row LIKE both equal a substring check in C, field by field.
 * Corpus: corpus/search.
 */
#include "fuzz.h"

#include <stdbool.h>

#include <bento/arena.h>
#include <bento/db.h>
#include <bento/err.h>
#include <bento/migrate.h>
#include <bento/search.h>

static const struct bt_search idx = {"fz", "id", "search_text"};

struct gram_check {
    const char *text;
    size_t n, calls;
};

static int check_gram(void *ud, const char *gram, size_t len)
{
    struct gram_check *c = ud;

    FUZZ_CHECK(gram >= c->text && gram + len <= c->text + c->n);
    FUZZ_CHECK(len >= 1 && len <= 12);
    FUZZ_CHECK(!memchr(gram, BT_SEARCH_SEP, len));
    c->calls++;
    FUZZ_CHECK(c->calls <= 3 * c->n);
    return 0;
}

static size_t nchars(const char *s, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i += bt_search_char_len((const unsigned char *)s + i, n - i))
        k++;
    return k;
}

static bool valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t len = bt_search_char_len((const unsigned char *)s + i, n - i);
        if (len == 1 && (unsigned char)s[i] >= 0x80)
            return false;
        i += len;
    }
    return true;
}

/* The items of `"a" AND "b"` (FTS5) or `{"a","b"}` (PostgreSQL), unescaped, must be the
 * term's grams in order. */
static void check_quoted(const char *s, const struct bt_search_term *t, bool pg)
{
    struct bt_arena *a = bt_arena_new();
    size_t i = 0;

    if (pg)
        FUZZ_CHECK(*s++ == '{');
    for (const char *p = s;;) {
        struct bt_buf b;
        FUZZ_CHECK(*p++ == '"');
        bt_buf_init(&b, a, 16);
        for (;;) {
            FUZZ_CHECK(*p != '\0');
            if (pg && *p == '\\') {
                FUZZ_CHECK(p[1] == '"' || p[1] == '\\');
                bt_buf_addc(&b, p[1]);
                p += 2;
            } else if (*p == '"' && !pg && p[1] == '"') {
                bt_buf_addc(&b, '"');
                p += 2;
            } else if (*p == '"') {
                p++;
                break;
            } else {
                bt_buf_addc(&b, *p++);
            }
        }
        FUZZ_CHECK(i < t->ngrams && strcmp(b.p, t->grams[i]) == 0);
        i++;
        if (pg ? *p == '}' : *p == '\0') {
            FUZZ_CHECK(!pg || p[1] == '\0');
            break;
        }
        if (pg) {
            FUZZ_CHECK(*p++ == ',');
        } else {
            FUZZ_CHECK(strncmp(p, " AND ", 5) == 0);
            p += 5;
        }
    }
    FUZZ_CHECK(i == t->ngrams);
    bt_arena_free(a);
}

static void check_term(struct bt_arena *a, const struct bt_search_term *t)
{
    size_t n = strlen(t->folded);
    struct bt_buf un;

    FUZZ_CHECK(n > 0 && !strchr(t->folded, BT_SEARCH_SEP));
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(!(t->folded[i] >= 'A' && t->folded[i] <= 'Z'));
    FUZZ_CHECK(!strchr(" \t\n\v\f\r", t->folded[0]) && !strchr(" \t\n\v\f\r", t->folded[n - 1]));
    FUZZ_CHECK(t->nchars == nchars(t->folded, n));
    /* the LIKE pattern: % + the term with %, _ and \ escaped + % */
    FUZZ_CHECK(t->like[0] == '%' && t->like[strlen(t->like) - 1] == '%');
    bt_buf_init(&un, a, n + 1);
    for (const char *p = t->like + 1; p < t->like + strlen(t->like) - 1; p++) {
        if (*p == '\\') {
            p++;
            FUZZ_CHECK(*p == '%' || *p == '_' || *p == '\\');
        } else {
            FUZZ_CHECK(*p != '%' && *p != '_');
        }
        bt_buf_addc(&un, *p);
    }
    FUZZ_CHECK(strcmp(un.p, t->folded) == 0);
    /* the grams */
    FUZZ_CHECK(t->ngrams >= 1 && t->ngrams <= BT_SEARCH_MAX_GRAMS);
    if (t->nchars <= 3) {
        FUZZ_CHECK(t->ngrams == 1 && strcmp(t->grams[0], t->folded) == 0);
    } else {
        for (size_t i = 0; i < t->ngrams; i++) {
            FUZZ_CHECK(strstr(t->folded, t->grams[i]) != NULL);
            FUZZ_CHECK(nchars(t->grams[i], strlen(t->grams[i])) == 3);
            for (size_t j = 0; j < i; j++)
                FUZZ_CHECK(strcmp(t->grams[i], t->grams[j]) != 0);
        }
    }
}

/* One in-memory SQLite database with the index, for the whole run. */
static struct bt_db *database(void)
{
    static struct bt_dbpool *pool;
    static struct bt_db *db;
    struct bt_err err;

    if (db)
        return db;
    if (bt_dbpool_open(":memory:", 1, &pool, &err) != BT_OK || !(db = bt_dbpool_get(pool, 0, &err)))
        abort();
    char *sql = bt_migrate_expand(db, "CREATE TABLE fz (id TEXT PRIMARY KEY, search_text TEXT);\n"
                                      "{{SEARCH fz id search_text}}");
    FUZZ_CHECK(sql != NULL);
    if (bt_db_exec_script(db, sql, &err) != BT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    free(sql);
    return db;
}

static int64_t count(struct bt_db *db, struct bt_arena *a, enum bt_search_how how,
                     const struct bt_search_term *t)
{
    struct bt_val args[BT_SEARCH_MAX_ARGS];
    struct bt_buf sql;
    struct bt_err err;
    size_t nargs = 0;
    int64_t n = -1;

    bt_buf_init(&sql, a, 256);
    bt_buf_adds(&sql, "SELECT count(*) FROM fz WHERE ");
    bt_search_where(&idx, BT_ENGINE_SQLITE, how, t, NULL, &sql, args, &nargs);
    if (bt_db_query_i64(db, &n, sql.p, args, nargs, &err) != BT_OK) {
        fprintf(stderr, "%s: %s\n", sql.p, err.msg);
        abort();
    }
    return n;
}

/* Is term inside one U+001F-separated part of text? */
static bool contains(const char *text, const char *term)
{
    size_t tl = strlen(term);

    for (const char *p = text;;) {
        const char *end = strchr(p, BT_SEARCH_SEP);
        size_t n = end ? (size_t)(end - p) : strlen(p);
        for (size_t i = 0; i + tl <= n; i++)
            if (memcmp(p + i, term, tl) == 0)
                return true;
        if (!end)
            return false;
        p = end + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    struct bt_arena *a = bt_arena_new();
    struct bt_search_term t;
    struct gram_check gc;
    size_t tn, textn;
    char *text = fuzz_line(&in, &textn), *term = fuzz_rest_str(&in, &tn);
    char *exact = malloc(textn ? textn : 1);

    /* grams over exactly the text's bytes, in a block of its size */
    if (!exact)
        abort();
    memcpy(exact, text, textn);
    gc = (struct gram_check){exact, textn, 0};
    FUZZ_CHECK(bt_search_grams(exact, textn, check_gram, &gc) == 0);
    free(exact);

    if (bt_search_term(a, term, &t)) {
        struct bt_db *db = database();
        struct bt_buf folded, w;
        struct bt_val args[BT_SEARCH_MAX_ARGS];
        struct bt_err err;
        size_t nargs = 0;

        check_term(a, &t);
        for (int pg = 0; pg < 2; pg++) {
            bt_buf_init(&w, a, 64);
            nargs = 0;
            bt_search_where(&idx, pg ? BT_ENGINE_PG : BT_ENGINE_SQLITE, BT_SEARCH_INDEX, &t, NULL,
                            &w, args, &nargs);
            FUZZ_CHECK(nargs == (t.nchars > 3 ? 2u : 1u));
            check_quoted(args[0].u.s, &t, pg);
        }

        /* the real index: the column holds folded text (bt_search_text's contract) */
        bt_buf_init(&folded, a, strlen(text) + 1);
        bt_search_fold(&folded, text);
        if (bt_db_exec(db, NULL, "DELETE FROM fz", BT_NOARGS, &err) != BT_OK ||
            bt_db_exec(db, NULL, "INSERT INTO fz (id, search_text) VALUES ('x', $1)",
                       BT_ARGS(bt_text(folded.p)), &err) != BT_OK) {
            fprintf(stderr, "%s\n", err.msg);
            abort();
        }
        int64_t by_index = count(db, a, BT_SEARCH_INDEX, &t);
        int64_t by_row = count(db, a, BT_SEARCH_ROW, &t);
        FUZZ_CHECK(by_index == 0 || by_index == 1);
        if (valid_utf8(folded.p, folded.len) && valid_utf8(t.folded, strlen(t.folded))) {
            int64_t want = contains(folded.p, t.folded) ? 1 : 0;
            FUZZ_CHECK(by_index == want);
            FUZZ_CHECK(by_row == want);
        }
    }
    free(text);
    free(term);
    bt_arena_free(a);
    return 0;
}
