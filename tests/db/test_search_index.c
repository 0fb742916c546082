/* SPDX-License-Identifier: MIT
 * test_search_index.c - the search index (include/bento/search.h) on the engine named by
 * BENTO_TEST_ENGINE: a few hundred generated texts (CJK, ASCII in mixed case, digits,
 * LIKE's and FTS5's special characters, accents, emoji, several fields) indexed through
 * {{SEARCH}} (rows there before it are indexed by the migration, later ones by the
 * triggers), and every term - 1, 2, 3 and more characters, long ones, terms made across two
 * fields, mixed case - answered by the index (count, rows, and the row-by-row test) exactly
 * as a brute-force substring check in C over the same data says, before and after updates,
 * key changes, upserts, deletes, a rolled-back transaction and (SQLite) REPLACE and VACUUM.
 * Also: integer keys and NULL texts, the row estimate, malformed {{SEARCH}} lines, and a
 * PostgreSQL database that is not UTF8 refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_test.h"

#include <bento/search.h>

#define MAXDOCS 700
#define NFIELDS 3

static const struct bt_search docs_idx = {"st_docs", "id", "search_text"};
static const struct bt_search nums_idx = {"st_nums", "id", "search_text"};

static const struct bt_migration migs_table[] = {
    {1, "docs",
     "CREATE TABLE st_docs (id TEXT PRIMARY KEY, search_text TEXT NOT NULL);\n"
     "CREATE TABLE st_nums (id {{ID}}, search_text TEXT);\n"},
    BT_MIGRATION_END,
};
static const struct bt_migration migs_all[] = {
    {1, "docs",
     "CREATE TABLE st_docs (id TEXT PRIMARY KEY, search_text TEXT NOT NULL);\n"
     "CREATE TABLE st_nums (id {{ID}}, search_text TEXT);\n"},
    {2, "search",
     "-- both tables searched\n"
     "{{SEARCH st_docs id search_text}}\n"
     "{{SEARCH st_nums id search_text}}\n"},
    BT_MIGRATION_END,
};

/* The pieces texts are made of: one character each (what a term is cut into). */
static const char *const pieces[] = {
    "鋼", "板", "不", "鏽", "鋁", "管", "a", "B", "c", "D", "x", "Y",  "1", "2",  "3",
    " ",  "%",  "_",  "\\", "\"", "'",  "*", "(", ":", "-", "é", "Ａ", "😀", "銅", "e",
};
#define NPIECES (sizeof(pieces) / sizeof(pieces[0]))

struct doc {
    char id[24];
    char *fields[NFIELDS]; /* as written (mixed case); NULL: an empty field */
    bool live;
};

struct fix {
    char *url;
    struct bt_dbpool *pool;
    struct bt_db *db;
    struct bt_arena *a;
    struct doc docs[MAXDOCS];
    size_t ndocs;
    uint64_t rng;
    unsigned next_id;
};

static bool is_pg(void)
{
    return !strcmp(bt_test_engine(), "pg");
}

static uint32_t rnd(struct fix *f, uint32_t n)
{
    /* xorshift64: the same texts every run */
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 7;
    f->rng ^= f->rng << 17;
    return (uint32_t)(f->rng % n);
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct bt_err err;

    assert_non_null(f);
    f->rng = 0x9e3779b97f4a7c15ULL;
    f->url = bt_test_db_url_new();
    f->a = bt_arena_new();
    if (bt_dbpool_open(f->url, 1, &f->pool, &err) != BT_OK) {
        fprintf(stderr, "pool: %s\n", err.msg);
        return -1;
    }
    f->db = bt_dbpool_get(f->pool, 5000, &err);
    if (!f->db) {
        fprintf(stderr, "pool: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    for (size_t i = 0; i < f->ndocs; i++)
        for (int k = 0; k < NFIELDS; k++)
            free(f->docs[i].fields[k]);
    bt_dbpool_put(f->pool, f->db);
    bt_dbpool_free(f->pool);
    bt_arena_free(f->a);
    bt_test_db_url_release(f->url);
    free(f);
    return 0;
}

static void migrate(struct fix *f, const struct bt_migration *migs)
{
    struct bt_err err;

    if (bt_migrate(f->db, "search_test", migs, NULL, &err) != BT_OK)
        fail_msg("migrate: %s", err.msg);
}

#define EXEC(f, sql, ...)                                                                          \
    do {                                                                                           \
        struct bt_err e_;                                                                          \
        if (bt_db_exec((f)->db, NULL, (sql), __VA_ARGS__, &e_) != BT_OK)                           \
            fail_msg("%s: %s", (sql), e_.msg);                                                     \
    } while (0)

/* ---- the data ---- */

static char *random_field(struct fix *f)
{
    char buf[256] = "";
    size_t n = rnd(f, 13);

    if (n == 0 && rnd(f, 2))
        return NULL;
    for (size_t i = 0; i < n; i++)
        strcat(buf, pieces[rnd(f, NPIECES)]);
    return strdup(buf);
}

static const char *doc_text(struct fix *f, const struct doc *d)
{
    return bt_search_text(f->a, (const char *const *)d->fields, NFIELDS);
}

static void doc_fill(struct fix *f, struct doc *d)
{
    for (int k = 0; k < NFIELDS; k++) {
        free(d->fields[k]);
        d->fields[k] = random_field(f);
    }
}

/* A new document, written with INSERT (the trigger indexes it, or the migration later). */
static void doc_insert(struct fix *f)
{
    struct doc *d = &f->docs[f->ndocs++];

    assert_true(f->ndocs <= MAXDOCS);
    snprintf(d->id, sizeof(d->id), "d%05u", f->next_id++);
    doc_fill(f, d);
    d->live = true;
    EXEC(f, "INSERT INTO st_docs (id, search_text) VALUES ($1, $2)",
         BT_ARGS(bt_text(d->id), bt_text(doc_text(f, d))));
}

/* Does d contain the folded term inside one field? (Valid UTF-8 on both sides, so a byte
 * match is a character match.) */
static bool doc_matches(struct fix *f, const struct doc *d, const char *folded)
{
    for (int k = 0; k < NFIELDS; k++) {
        struct bt_buf b;
        bt_buf_init(&b, f->a, 64);
        bt_search_fold(&b, d->fields[k]);
        if (strstr(b.p, folded))
            return true;
    }
    return false;
}

/* ---- checks ---- */

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The index and the row test agree with the brute force on term: count and ids. */
static void check_term(struct fix *f, const char *term)
{
    struct bt_search_term t;
    const char *expect[MAXDOCS];
    size_t nexpect = 0;
    struct bt_err err;

    if (!bt_search_term(f->a, term, &t))
        return;
    for (size_t i = 0; i < f->ndocs; i++)
        if (f->docs[i].live && doc_matches(f, &f->docs[i], t.folded))
            expect[nexpect++] = f->docs[i].id;
    qsort(expect, nexpect, sizeof(expect[0]), cmp_str);

    int64_t n = -1;
    if (bt_search_count(f->db, &docs_idx, &t, &n, &err) != BT_OK)
        fail_msg("count %s: %s", term, err.msg);
    if (n != (int64_t)nexpect)
        fail_msg("term [%s]: the index counts %lld, the data has %zu", term, (long long)n, nexpect);

    for (int how = BT_SEARCH_INDEX; how <= BT_SEARCH_ROW; how++) {
        struct bt_val args[BT_SEARCH_MAX_ARGS];
        struct bt_rows *rows;
        struct bt_buf sql;
        size_t nargs = 0;

        bt_buf_init(&sql, f->a, 256);
        bt_buf_adds(&sql, "SELECT d.id FROM st_docs d WHERE ");
        bt_search_where(&docs_idx, bt_db_engine(f->db), (enum bt_search_how)how, &t, "d", &sql,
                        args, &nargs);
        bt_buf_adds(&sql, " ORDER BY d.id");
        if (bt_db_query(f->db, f->a, &rows, sql.p, args, nargs, &err) != BT_OK)
            fail_msg("%s: %s", sql.p, err.msg);
        if (rows->nrows != nexpect)
            fail_msg("term [%s] (%s): %zu rows, the data has %zu", term,
                     how == BT_SEARCH_INDEX ? "index" : "row", rows->nrows, nexpect);
        for (size_t r = 0; r < nexpect; r++)
            assert_string_equal(bt_rows_text(rows, r, 0), expect[r]);
    }
}

/* A term of len characters from one field of a random live document; across: one made of
 * the end of one field and the start of the next instead. */
static const char *piece_of(struct fix *f, size_t len, bool across)
{
    for (int tries = 0; tries < 1000; tries++) {
        const struct doc *d = &f->docs[rnd(f, (uint32_t)f->ndocs)];
        const char *s;
        size_t pos[64], n = 0, from;
        struct bt_buf b;

        if (!d->live)
            continue;
        if (across) {
            /* the last one or two characters of a field and the first one or two of the
             * next, the separator left out */
            int k = (int)rnd(f, NFIELDS - 1);
            const char *x = d->fields[k], *y = d->fields[k + 1];
            size_t i, j = 0;
            if (!x || !*x || !y || !*y)
                continue;
            i = strlen(x);
            for (int c = 1 + (int)rnd(f, 2); c > 0 && i > 0; c--)
                while (i > 0 && ((unsigned char)x[--i] & 0xc0) == 0x80)
                    ;
            for (int c = 1 + (int)rnd(f, 2); c > 0 && y[j]; c--)
                j += bt_search_char_len((const unsigned char *)y + j, strlen(y + j));
            bt_buf_init(&b, f->a, 32);
            bt_buf_adds(&b, x + i);
            bt_buf_add(&b, y, j);
            return b.p;
        }
        s = d->fields[rnd(f, NFIELDS)];
        if (!s)
            continue;
        for (size_t i = 0; s[i] && n < 63;
             i += bt_search_char_len((const unsigned char *)s + i, strlen(s + i)))
            pos[n++] = i;
        pos[n] = strlen(s);
        if (n < len)
            continue;
        from = rnd(f, (uint32_t)(n - len + 1));
        return bt_arena_strndup(f->a, s + pos[from], pos[from + len] - pos[from]);
    }
    return "鋼";
}

/* Upper-case some ASCII letters of term: the same answer is expected. */
static const char *mixed_case(struct fix *f, const char *term)
{
    char *s = bt_arena_strdup(f->a, term);

    for (char *p = s; *p; p++)
        if (*p >= 'a' && *p <= 'z' && rnd(f, 2))
            *p = (char)(*p - 'a' + 'A');
    return s;
}

static void check_all(struct fix *f)
{
    /* every single character, and each in upper case */
    for (size_t i = 0; i < NPIECES; i++) {
        check_term(f, pieces[i]);
        check_term(f, mixed_case(f, pieces[i]));
    }
    for (int i = 0; i < 60; i++) {
        size_t len = 2 + (size_t)(i % 8); /* 2 .. 9 characters */
        const char *t = piece_of(f, len, false);
        check_term(f, t);
        check_term(f, mixed_case(f, t));
    }
    /* random pairs and triples of pieces: many match nothing */
    for (int i = 0; i < 40; i++) {
        char t[64];
        snprintf(t, sizeof(t), "%s%s%s", pieces[rnd(f, NPIECES)], pieces[rnd(f, NPIECES)],
                 i % 2 ? pieces[rnd(f, NPIECES)] : "");
        check_term(f, t);
    }
    /* terms made across two fields: found only where some field holds them whole */
    for (int i = 0; i < 30; i++)
        check_term(f, piece_of(f, 0, true));
    /* long terms: whole fields, and beyond anything stored */
    for (int i = 0; i < 10; i++) {
        const struct doc *d = &f->docs[rnd(f, (uint32_t)f->ndocs)];
        for (int k = 0; k < NFIELDS; k++)
            if (d->fields[k])
                check_term(f, d->fields[k]);
    }
    check_term(f, "鋼板不鏽鋁管aBcDxY123 %_\\\"'*(:-éＡ😀銅e鋼板不鏽鋁管aBcDxY123");
    check_term(f, "\x1f");
    check_term(f, "a\x1f"
                  "b");
    bt_arena_reset(f->a);
}

/* ---- tests ---- */

static void seed(struct fix *f, size_t before, size_t after)
{
    migrate(f, migs_table);
    for (size_t i = 0; i < before; i++)
        doc_insert(f);
    migrate(f, migs_all); /* indexes the rows already there */
    for (size_t i = 0; i < after; i++)
        doc_insert(f);
}

static void test_exact_after_inserts(void **state)
{
    struct fix *f = *state;

    seed(f, 150, 200);
    check_all(f);
}

static void test_exact_after_writes(void **state)
{
    struct fix *f = *state;
    struct bt_err err;

    seed(f, 100, 200);
    /* new texts, some of them unchanged (the trigger skips those) */
    for (int i = 0; i < 120; i++) {
        struct doc *d = &f->docs[rnd(f, (uint32_t)f->ndocs)];
        if (i % 4)
            doc_fill(f, d);
        EXEC(f, "UPDATE st_docs SET search_text = $1 WHERE id = $2",
             BT_ARGS(bt_text(doc_text(f, d)), bt_text(d->id)));
    }
    /* deletes, and inserts after them */
    for (int i = 0; i < 60; i++) {
        struct doc *d = &f->docs[rnd(f, (uint32_t)f->ndocs)];
        EXEC(f, "DELETE FROM st_docs WHERE id = $1", BT_ARGS(bt_text(d->id)));
        d->live = false;
    }
    for (int i = 0; i < 60; i++)
        doc_insert(f);
    /* a key changes (with and without its text) */
    for (int i = 0; i < 20; i++) {
        struct doc *d = &f->docs[rnd(f, (uint32_t)f->ndocs)];
        char old[24];
        if (!d->live)
            continue;
        snprintf(old, sizeof(old), "%s", d->id);
        snprintf(d->id, sizeof(d->id), "k%05u", f->next_id++);
        if (i % 2)
            doc_fill(f, d);
        EXEC(f, "UPDATE st_docs SET id = $1, search_text = $2 WHERE id = $3",
             BT_ARGS(bt_text(d->id), bt_text(doc_text(f, d)), bt_text(old)));
    }
    /* upserts: an existing key takes the new text, a new one is inserted */
    for (int i = 0; i < 20; i++) {
        struct doc *d = &f->docs[i % 2 ? rnd(f, (uint32_t)f->ndocs) : f->ndocs++];
        if (!d->id[0])
            snprintf(d->id, sizeof(d->id), "u%05u", f->next_id++);
        doc_fill(f, d);
        d->live = true;
        EXEC(f,
             "INSERT INTO st_docs (id, search_text) VALUES ($1, $2)"
             " ON CONFLICT (id) DO UPDATE SET search_text = excluded.search_text",
             BT_ARGS(bt_text(d->id), bt_text(doc_text(f, d))));
    }
    /* a transaction rolled back leaves the index as it was */
    assert_int_equal(bt_db_begin(f->db, &err), BT_OK);
    EXEC(f, "DELETE FROM st_docs WHERE id = $1", BT_ARGS(bt_text(f->docs[3].id)));
    EXEC(f, "UPDATE st_docs SET search_text = $1", BT_ARGS(bt_text("鋼")));
    EXEC(f, "INSERT INTO st_docs (id, search_text) VALUES ($1, $2)",
         BT_ARGS(bt_text("rolled-back"), bt_text("鋼板 zz")));
    bt_db_rollback(f->db);
    check_all(f);
}

/* SQLite alone: a REPLACE conflict deletes the old row with its triggers (recursive
 * triggers are on), and VACUUM renumbers no key of the map (its seq is the rowid). */
static void test_sqlite_replace_and_vacuum(void **state)
{
    struct fix *f = *state;
    struct bt_err err;

    if (is_pg())
        skip();
    seed(f, 50, 100);
    for (int i = 0; i < 30; i++) {
        struct doc *d = &f->docs[rnd(f, (uint32_t)f->ndocs)];
        doc_fill(f, d);
        d->live = true;
        EXEC(f, "INSERT OR REPLACE INTO st_docs (id, search_text) VALUES ($1, $2)",
             BT_ARGS(bt_text(d->id), bt_text(doc_text(f, d))));
    }
    for (int i = 0; i < 40; i++) {
        struct doc *d = &f->docs[rnd(f, (uint32_t)f->ndocs)];
        EXEC(f, "DELETE FROM st_docs WHERE id = $1", BT_ARGS(bt_text(d->id)));
        d->live = false;
    }
    assert_int_equal(bt_db_exec_script(f->db, "VACUUM", &err), BT_OK);
    for (int i = 0; i < 20; i++)
        doc_insert(f);
    check_all(f);
}

/* Integer keys ({{ID}}) and NULL texts. */
static void test_integer_keys_and_null(void **state)
{
    struct fix *f = *state;
    struct bt_search_term t;
    struct bt_err err;
    int64_t n = -1;

    migrate(f, migs_all);
    EXEC(f, "INSERT INTO st_nums (search_text) VALUES ($1), ($2), ($3), ($4)",
         BT_ARGS(bt_text("鋼板"
                         "\x1f"
                         "steel"),
                 bt_null(), bt_text("鋼管"), bt_text("")));
    assert_true(bt_search_term(f->a, "鋼", &t));
    assert_int_equal(bt_search_count(f->db, &nums_idx, &t, &n, &err), BT_OK);
    assert_int_equal(n, 2);
    EXEC(f, "UPDATE st_nums SET search_text = $1 WHERE id = $2", BT_ARGS(bt_text("鋼"), bt_i64(2)));
    EXEC(f, "UPDATE st_nums SET search_text = NULL WHERE id = $1", BT_ARGS(bt_i64(3)));
    assert_int_equal(bt_search_count(f->db, &nums_idx, &t, &n, &err), BT_OK);
    assert_int_equal(n, 2);
    EXEC(f, "DELETE FROM st_nums WHERE id = $1", BT_ARGS(bt_i64(1)));
    assert_int_equal(bt_search_count(f->db, &nums_idx, &t, &n, &err), BT_OK);
    assert_int_equal(n, 1);
    assert_true(bt_search_term(f->a, "steel", &t));
    assert_int_equal(bt_search_count(f->db, &nums_idx, &t, &n, &err), BT_OK);
    assert_int_equal(n, 0);
}

/* bt_search_rows never says fewer rows than there are on SQLite, and on PostgreSQL it is
 * the planner's figure (exact after ANALYZE). */
static void test_rows_estimate(void **state)
{
    struct fix *f = *state;
    struct bt_err err;
    int64_t n = -1;

    migrate(f, migs_all);
    assert_int_equal(bt_search_rows(f->db, &docs_idx, &n, &err), BT_OK);
    assert_int_equal(n, 0);
    for (int i = 0; i < 40; i++)
        doc_insert(f);
    EXEC(f, "DELETE FROM st_docs WHERE id = $1", BT_ARGS(bt_text(f->docs[39].id)));
    if (is_pg()) {
        assert_int_equal(bt_db_exec_script(f->db, "ANALYZE st_docs", &err), BT_OK);
        assert_int_equal(bt_search_rows(f->db, &docs_idx, &n, &err), BT_OK);
        assert_int_equal(n, 39);
    } else {
        assert_int_equal(bt_search_rows(f->db, &docs_idx, &n, &err), BT_OK);
        assert_true(n >= 39);
    }
}

/* A {{SEARCH}} line that is not three identifiers fails its migration, saying so. */
static void test_malformed_token(void **state)
{
    struct fix *f = *state;
    const char *bad[] = {
        "{{SEARCH st_docs id}}",
        "{{SEARCH st_docs id search_text extra}}",
        "{{SEARCH St_docs id search_text}}",
        "{{SEARCH st_docs id search_text;DROP}}",
        "{{SEARCH st_docs\nid search_text}}",
        "{{SEARCH st_docs id search_text",
    };
    struct bt_err err;

    migrate(f, migs_table);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct bt_migration m[] = {
            {1, "docs", migs_table[0].sql},
            {2, "bad", bad[i]},
            BT_MIGRATION_END,
        };
        assert_null(bt_migrate_expand(f->db, bad[i]));
        assert_int_equal(bt_migrate(f->db, "search_test", m, NULL, &err), BT_EDB);
        assert_non_null(strstr(err.msg, "{{SEARCH table key text}} line is malformed"));
    }
    /* other {{...}} are not ours and stay */
    char *s = bt_migrate_expand(f->db, "SELECT '{{x}}' {{SEARCHX}}");
    assert_string_equal(s, "SELECT '{{x}}' {{SEARCHX}}");
    free(s);
}

/* PostgreSQL cuts text into characters only in a UTF8 database: another is refused. */
static void test_pg_needs_utf8(void **state)
{
    struct fix *f = *state;
    const char *dsn = getenv("BENTO_TEST_PG_DSN");
    struct bt_dbpool *pool;
    struct bt_db *db;
    struct bt_err err;
    char name[64], sql[160], *url;
    const char *slash;

    if (!is_pg())
        skip();
    snprintf(name, sizeof(name), "bt_latin1_%d", (int)getpid());
    snprintf(sql, sizeof(sql),
             "CREATE DATABASE %s ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'"
             " TEMPLATE template0",
             name);
    assert_int_equal(bt_db_exec_script(f->db, sql, &err), BT_OK);
    slash = strrchr(dsn, '/');
    assert_non_null(slash);
    assert_true(asprintf(&url, "%.*s/%s", (int)(slash - dsn), dsn, name) > 0);
    assert_int_equal(bt_dbpool_open(url, 1, &pool, &err), BT_OK);
    db = bt_dbpool_get(pool, 5000, &err);
    assert_non_null(db);
    assert_int_equal(bt_migrate(db, "search_test", migs_all, NULL, &err), BT_EDB);
    assert_non_null(strstr(err.msg, "bento search needs a UTF8 database, this one is LATIN1"));
    bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);
    free(url);
    snprintf(sql, sizeof(sql), "DROP DATABASE %s", name);
    assert_int_equal(bt_db_exec_script(f->db, sql, &err), BT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exact_after_inserts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exact_after_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_replace_and_vacuum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integer_keys_and_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_estimate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_needs_utf8, setup, teardown),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
