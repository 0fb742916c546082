/* SPDX-License-Identifier: MIT
 * search_sqlite.c - the FTS5 tokenizer "bento_grams" behind the search index on SQLite
 * (include/bento/search.h), registered on every connection the SQLite back end opens.
 *   document (and auxiliary) mode: every 1-, 2- and 3-character gram of the text, never
 *     spanning U+001F (bt_search_grams; FTS5 keeps one entry per token and row, so the
 *     repeats a text has cost nothing in the index);
 *   query mode: the whole string as one token, so the query "鋼板" looks up the gram 鋼板.
 * Must not: fold or normalise anything (C folded the text before it was stored, and the
 * term the same way); depend on anything but the bytes it is given (a contentless table
 * deletes a row by tokenizing its old text again: the same text must give the same tokens).
 */
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include <bento/search.h>

#include "db/db_private.h"

/* The tokenizer has no state: any non-NULL pointer will do as its instance. */
static char grams_instance;

static int grams_create(void *ctx, const char **argv, int argc, Fts5Tokenizer **out)
{
    (void)ctx;
    (void)argv;
    if (argc != 0)
        return SQLITE_ERROR; /* tokenize='bento_grams' takes no arguments */
    *out = (Fts5Tokenizer *)&grams_instance;
    return SQLITE_OK;
}

static void grams_delete(Fts5Tokenizer *tok)
{
    (void)tok;
}

struct emit {
    void *ctx;
    int (*token)(void *ctx, int flags, const char *p, int n, int start, int end);
    const char *base;
};

static int emit_gram(void *ud, const char *gram, size_t len)
{
    struct emit *e = ud;
    int start = (int)(gram - e->base);

    return e->token(e->ctx, 0, gram, (int)len, start, start + (int)len);
}

static int grams_tokenize(Fts5Tokenizer *tok, void *ctx, int flags, const char *text, int n,
                          int (*token)(void *ctx, int flags, const char *p, int n, int start,
                                       int end))
{
    struct emit e = {ctx, token, text};

    (void)tok;
    if (n <= 0 || !text)
        return SQLITE_OK;
    if (flags & FTS5_TOKENIZE_QUERY)
        return token(ctx, 0, text, n, 0, n);
    return bt_search_grams(text, (size_t)n, emit_gram, &e);
}

int bt_db_sqlite_register_search(sqlite3 *h)
{
    static fts5_tokenizer grams = {grams_create, grams_delete, grams_tokenize};
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    int rc;

    /* the documented way to reach FTS5's API: SELECT fts5(?1) with a pointer to fill */
    rc = sqlite3_prepare_v2(h, "SELECT fts5(?1)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", NULL);
        rc = sqlite3_step(st) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(h);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return rc;
    if (!api || api->iVersion < 2)
        return SQLITE_ERROR; /* SQLite without FTS5 */
    return api->xCreateTokenizer(api, "bento_grams", NULL, &grams, NULL);
}
