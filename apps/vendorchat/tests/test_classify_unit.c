/* SPDX-License-Identifier: MIT
 * test_classify_unit.c - unit tests of vendorchat's built-in classifier and retrieval index
 * (classify.c): normalization, n-grams, scoring, the relevance gate, scope ranking, and the
 * speed of a 10,000-row index. No database: snapshots are built from rows in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"
#include "classify.h"

/* ---- normalization ---- */

static void check_norm(const char *in, const char *want)
{
    struct bt_arena *a = bt_arena_new();
    size_t n;
    char *out = vendorchat_normalize(a, in, &n);

    if (strcmp(out, want) != 0)
        fail_msg("normalize(%s) = %s, want %s", in, out, want);
    assert_int_equal(n, (size_t)bt_utf8_len(want, strlen(want)));
    bt_arena_free(a);
}

static void test_normalize(void **state)
{
    (void)state;
    check_norm("ＬＩＮＥ帳號是多少？", "line帳號是多少");
    check_norm("押金 是多少 ！", "押金是多少");
    check_norm("「客服」、專線。", "客服專線");
    check_norm("１２３ＡＢＣ", "123abc");
    check_norm("a-b_c.d@e", "abcde");
    check_norm("臺北市", "台北市");
    check_norm("甚麼時候繳", "什麼時候繳");
    check_norm("甚至", "甚至");
    check_norm("押金😀？？", "押金");
    check_norm("押\xff\xfe金", "押金");           /* invalid bytes dropped */
    check_norm("\xc0\xaf押金", "押金");           /* overlong */
    check_norm("\xed\xa0\x80押金", "押金");       /* surrogate */
    check_norm("押金\t\r\n\xe3\x80\x80", "押金"); /* white space incl. U+3000 */
    check_norm("", "");
    check_norm("？！。，", "");
}

static void test_normalize_cp_cap(void **state)
{
    uint32_t cp[3];
    size_t n;

    (void)state;
    n = vendorchat_normalize_cp("押金是多少", strlen("押金是多少"), cp, 3);
    assert_int_equal(n, 5); /* the full length, though only 3 were written */
    assert_int_equal(cp[0], 0x62BC);
    assert_int_equal(cp[2], 0x662F);
    assert_int_equal(vendorchat_normalize_cp(NULL, 0, NULL, 0), 0);
}

static void test_function_chars(void **state)
{
    static const char *const stop = "的了嗎是什麼多少我你們幾";
    static const char *const content = "押金點久號月天繳租電話";
    uint32_t cp[32];
    size_t n;

    (void)state;
    n = vendorchat_normalize_cp(stop, strlen(stop), cp, 32);
    for (size_t i = 0; i < n; i++)
        assert_true(vendorchat_is_function_char(cp[i]));
    n = vendorchat_normalize_cp(content, strlen(content), cp, 32);
    for (size_t i = 0; i < n; i++)
        assert_false(vendorchat_is_function_char(cp[i]));
}

/* ---- n-grams ---- */

static size_t grams_of(const char *s, uint64_t *out, size_t cap)
{
    uint32_t cp[64];
    size_t n = vendorchat_normalize_cp(s, strlen(s), cp, 64);

    return vendorchat_ngrams(cp, n, out, cap);
}

static void test_ngrams(void **state)
{
    uint64_t g[32];
    size_t n;

    (void)state;
    /* 5 code points: 4 bigrams and 3 trigrams */
    n = grams_of("押金是多少", g, 32);
    assert_int_equal(n, 7);
    assert_int_equal(vendorchat_gram_len(g[0]), 2);
    assert_int_equal(vendorchat_gram_len(g[4]), 3);
    assert_false(vendorchat_gram_is_stop(g[0])); /* 押金 */
    assert_false(vendorchat_gram_is_stop(g[1])); /* 金是 */
    assert_true(vendorchat_gram_is_stop(g[2]));  /* 是多 */
    assert_true(vendorchat_gram_is_stop(g[3]));  /* 多少 */
    assert_true(vendorchat_gram_is_stop(g[6]));  /* 是多少 */
    /* equal text, equal keys */
    {
        uint64_t h[32];
        assert_int_equal(grams_of("押金", h, 32), 1);
        assert_true(h[0] == g[0]);
    }
    /* one code point: one unigram; none: nothing */
    n = grams_of("押", g, 32);
    assert_int_equal(n, 1);
    assert_int_equal(vendorchat_gram_len(g[0]), 1);
    assert_int_equal(grams_of("", g, 32), 0);
    /* no gram straddles ASCII and CJK: 有line嗎 -> li in ne lin ine */
    assert_int_equal(grams_of("有LINE嗎", g, 32), 5);
    /* the count is returned even past cap */
    assert_int_equal(grams_of("押金是多少", g, 2), 7);
}

/* ---- a small snapshot ---- */

static const char *const kw_bill[] = {"繳費", "租金", "房租", "繳費日"};
static const char *const kw_repair[] = {"報修", "壞了", "維修"};
static const char *const kw_service[] = {"客服", "電話", "專線"};
static const char *const kw_contract[] = {"押金", "租期"};
static const char *const kw_pets[] = {"寵物", "養貓"};

static const struct vendorchat_intent_src intents[] = {
    {1, "帳務查詢", "data_query", "租金與繳費", kw_bill, 4, 0.5, 5, true},
    {2, "設備報修", "action", "設備故障", kw_repair, 3, 0.5, 5, true},
    {3, "服務說明", "knowledge", "客服聯絡", kw_service, 3, 0.5, 1, true},
    {4, "合約規定", "knowledge", "押金租期", kw_contract, 2, 0.5, 1, true},
    {5, "寵物規定", "knowledge", "寵物", kw_pets, 2, 0.5, 1, false}, /* disabled */
};

static const char *const k_due[] = {"繳費日", "幾號繳", "房租"};
static const char *const k_deposit[] = {"押金", "保證金"};
static const char *const k_hotline[] = {"客服", "電話", "專線"};
static const char *const k_repair[] = {"報修", "壞了"};
static const char *const k_card[] = {"信用卡", "刷卡"};
static const int64_t m_bill[] = {1};
static const int64_t m_contract[] = {4};
static const int64_t m_service[] = {3};
static const int64_t m_repair[] = {2, 3};
static const bool prim[] = {true, false};

static const struct vendorchat_kn_src rows[] = {
    {101, "每月繳費日期", "繳費日為每月 {{payment_day}}。", "global", 0, 0, k_due, 3, m_bill, prim,
     1},
    {102, "押金是多少", "押金為 {{deposit_months}}。", "global", 0, 0, k_deposit, 2, m_contract,
     prim, 1},
    {103, "客服專線是多少", "客服專線 {{service_hotline}}。", "global", 0, 0, k_hotline, 3,
     m_service, prim, 1},
    /* vendor 1's version of the hotline question: no mapping of its own */
    {104, "客服專線是多少", "甲山林客服 {{service_hotline}}。", "customized", 1, 10, k_hotline, 3,
     NULL, NULL, 0},
    {105, "如何報修", "報修請洽 {{service_hotline}}。", "global", 0, 0, k_repair, 2, m_repair, prim,
     2},
    {106, "信用卡繳費說明", "可刷卡。", "vendor", 2, 5, k_card, 2, m_bill, prim, 1},
    /* two rows with the same text: priority decides */
    {107, "押金退還", "押金退還 A", "global", 0, 1, NULL, 0, NULL, NULL, 0},
    {108, "押金退還", "押金退還 B", "global", 0, 7, NULL, 0, NULL, NULL, 0},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

struct fx {
    struct vendorchat_snap *s;
    struct bt_arena *a;
};

static int snap_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    f->s = vendorchat_snap_build(intents, sizeof(intents) / sizeof(intents[0]), rows, NROWS, 7);
    f->a = bt_arena_new();
    *state = f;
    return 0;
}

static int snap_teardown(void **state)
{
    struct fx *f = *state;

    vendorchat_snap_release(f->s);
    bt_arena_free(f->a);
    free(f);
    return 0;
}

/* Classify and retrieve text for vendor; returns the hit count. */
static size_t ask(struct fx *f, const char *text, int64_t vendor, size_t top_k,
                  struct vendorchat_class *c, struct vendorchat_hit *hits)
{
    struct vendorchat_query q;

    vendorchat_query_run(f->s, f->a, text, vendor, &q);
    vendorchat_classify(&q, c);
    return vendorchat_retrieve(&q, c, top_k, hits);
}

static void test_snapshot_contents(void **state)
{
    struct fx *f = *state;
    const struct vendorchat_kn *kn;
    const struct vendorchat_intent *is;
    size_t n;

    assert_int_equal(vendorchat_snap_gen(f->s), 7);
    is = vendorchat_snap_intents(f->s, &n);
    assert_int_equal(n, 5);
    assert_string_equal(is[1].name, "設備報修");
    kn = vendorchat_snap_knowledge(f->s, &n);
    assert_int_equal(n, NROWS);
    assert_int_equal(kn[3].scope_weight, 1000);
    assert_int_equal(kn[5].scope_weight, 500);
    assert_int_equal(kn[0].scope_weight, 100);
    assert_int_equal(kn[4].nmaps, 2);
    assert_true(kn[4].maps[0].primary);
    assert_false(kn[4].maps[1].primary);
    /* the customized row is filed under the global row's intent */
    assert_int_equal(kn[3].nmaps, 1);
    assert_string_equal(is[kn[3].maps[0].intent].name, "服務說明");
}

static void test_classify_basic(void **state)
{
    struct fx *f = *state;
    struct vendorchat_class c;
    struct vendorchat_hit h[5];

    ask(f, "房租幾號要繳？", 1, 3, &c, h);
    assert_non_null(c.primary);
    assert_string_equal(c.primary->name, "帳務查詢");
    assert_true(c.confidence >= 0.5 && c.confidence <= 1.0);

    ask(f, "冷氣壞了要報修", 1, 3, &c, h);
    assert_string_equal(c.primary->name, "設備報修");

    /* nothing about renting: unclear, nothing retrieved */
    assert_int_equal(ask(f, "今天天氣如何", 1, 3, &c, h), 0);
    assert_null(c.primary);
    assert_true(c.confidence < 0.3);
    assert_int_equal(ask(f, "", 1, 3, &c, h), 0);
    assert_null(c.primary);

    /* a disabled intent is never chosen */
    ask(f, "可以養貓嗎", 1, 3, &c, h);
    assert_null(c.primary);
}

static void test_classify_secondary(void **state)
{
    struct fx *f = *state;
    struct vendorchat_class c;
    struct vendorchat_hit h[5];

    ask(f, "房租繳費日是哪天？還有冷氣壞了要報修", 1, 3, &c, h);
    assert_non_null(c.primary);
    assert_int_equal(c.nsecondary, 1);
    /* the rent question comes first and matches more of the message */
    assert_string_equal(c.primary->name, "帳務查詢");
    assert_string_equal(c.secondary[0]->name, "設備報修");
}

static void test_scores_bounded_and_ordered(void **state)
{
    struct fx *f = *state;
    struct vendorchat_query q;

    vendorchat_query_run(f->s, f->a, "押金是多少", 1, &q);
    for (size_t i = 0; i < q.nhits; i++) {
        assert_true(q.hits[i].sim > 0.0 && q.hits[i].sim <= 1.0);
        assert_true(q.hits[i].k < NROWS);
    }
    /* exact question beats a row sharing only 押金 */
    assert_true(vendorchat_query_ksim(&q, 1, NULL) > vendorchat_query_ksim(&q, 6, NULL));
    assert_true(vendorchat_query_ksim(&q, 1, NULL) > 0.9);
    /* function words create no relevance: the hotline rows share only 是多少 */
    assert_true(vendorchat_query_ksim(&q, 2, NULL) == 0.0);
    assert_true(vendorchat_query_ksim(&q, 3, NULL) == 0.0);
    /* rows of another vendor are not even scored */
    assert_true(vendorchat_query_ksim(&q, 5, NULL) == 0.0);
    assert_true(q.nhits >= 2 && q.nhits <= 3);
    for (size_t i = 0; i < 5; i++) {
        double sc = vendorchat_intent_score(&q, i);
        assert_true(sc >= 0.0 && sc <= 1.0);
    }
    assert_true(vendorchat_intent_score(&q, 3) > vendorchat_intent_score(&q, 0));
    assert_true(vendorchat_intent_score(&q, 99) == 0.0);
}

static void test_retrieve_scope_and_visibility(void **state)
{
    struct fx *f = *state;
    struct vendorchat_class c;
    struct vendorchat_hit h[8];
    size_t n;

    /* vendor 1: its customized row first, then the global one */
    n = ask(f, "客服專線是多少？", 1, 5, &c, h);
    assert_int_equal(n, 2);
    assert_int_equal(h[0].k->id, 104);
    assert_int_equal(h[1].k->id, 103);
    assert_true(h[0].boosted > 0 && h[0].boosted <= 1.5);
    /* vendor 2 never sees vendor 1's row */
    n = ask(f, "客服專線是多少？", 2, 5, &c, h);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].k->id, 103);
    /* vendor 2's own row; invisible to vendor 1 */
    n = ask(f, "可以刷卡嗎", 2, 5, &c, h);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].k->id, 106);
    assert_int_equal(ask(f, "可以刷卡嗎", 1, 5, &c, h), 0);
    /* the relevance gate: customized weight never rescues an unrelated row */
    n = ask(f, "押金是多少", 1, 5, &c, h);
    assert_true(n >= 1);
    assert_int_equal(h[0].k->id, 102);
    for (size_t i = 0; i < n; i++)
        assert_true(h[i].k->id != 104);
}

static void test_retrieve_priority_and_top_k(void **state)
{
    struct fx *f = *state;
    struct vendorchat_class c;
    struct vendorchat_hit h[8];

    /* equal text: the higher priority first (押金是多少 may follow, less similar) */
    assert_true(ask(f, "押金退還", 1, 5, &c, h) >= 2);
    assert_int_equal(h[0].k->id, 108);
    assert_int_equal(h[1].k->id, 107);
    assert_true(h[0].sim == h[1].sim);
    assert_int_equal(ask(f, "押金退還", 1, 1, &c, h), 1);
    assert_int_equal(h[0].k->id, 108);
    assert_int_equal(ask(f, "押金退還", 1, 0, &c, h), 0);
}

/* ---- scale: 10,000 rows ---- */

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 8) & 0xFFFFFFu;
}

/* n random ideographs from a pool of 800 (U+4E00..), UTF-8 into out */
static void rand_text(uint32_t *seed, size_t n, char *out)
{
    char *o = out;

    for (size_t i = 0; i < n; i++) {
        uint32_t c = 0x4E00 + lcg(seed) % 800;
        *o++ = (char)(0xE0 | (c >> 12));
        *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (char)(0x80 | (c & 0x3F));
    }
    *o = '\0';
}

static void test_ten_thousand_rows_fast(void **state)
{
    enum { N = 10000, NKW = 5, NQ = 200 };
    struct vendorchat_kn_src *ks = calloc(N, sizeof(*ks));
    char(*q)[64] = calloc(N, 64);
    char(*ans)[400] = calloc(N, 400);
    char(*kw)[NKW][16] = calloc(N, sizeof(*kw));
    const char *(*kwp)[NKW] = calloc(N, sizeof(*kwp));
    struct vendorchat_snap *s;
    struct bt_arena *a = bt_arena_new();
    uint32_t seed = 42;
    uint64_t t0, build_ns, query_ns = 0;
    size_t found = 0;

    (void)state;
    for (size_t i = 0; i < N; i++) {
        rand_text(&seed, 6 + lcg(&seed) % 6, q[i]);
        rand_text(&seed, 60 + lcg(&seed) % 60, ans[i]);
        for (size_t k = 0; k < NKW; k++) {
            rand_text(&seed, 2 + lcg(&seed) % 2, kw[i][k]);
            kwp[i][k] = kw[i][k];
        }
        ks[i].id = (int64_t)i + 1;
        ks[i].question_summary = q[i];
        ks[i].answer = ans[i];
        ks[i].scope = i % 10 == 0 ? "vendor" : "global";
        ks[i].vendor_id = i % 10 == 0 ? 1 + (int64_t)(i % 3) : 0;
        ks[i].keywords = kwp[i];
        ks[i].nkeywords = NKW;
        ks[i].intent_ids = m_bill;
        ks[i].intent_primary = prim;
        ks[i].nintents = i % 2;
    }
    t0 = bt_mono_ns();
    s = vendorchat_snap_build(intents, 4, ks, N, 1);
    build_ns = bt_mono_ns() - t0;

    for (size_t i = 0; i < NQ; i++) {
        size_t row = (i * 7919) % N;
        struct vendorchat_query qq;
        struct vendorchat_class c;
        struct vendorchat_hit h[3];
        char text[128];
        size_t n;

        /* the row's question inside some chatter */
        snprintf(text, sizeof(text), "請問一下%s呢？謝謝", q[row]);
        t0 = bt_mono_ns();
        vendorchat_query_run(s, a, text, 1, &qq);
        vendorchat_classify(&qq, &c);
        n = vendorchat_retrieve(&qq, &c, 3, h);
        query_ns += bt_mono_ns() - t0;
        for (size_t k = 0; k < n; k++)
            found += h[k].k->id == (int64_t)row + 1;
        bt_arena_reset(a);
    }
    print_message("10000 rows: build %.1f ms, %.3f ms per message, recall %zu/%d\n",
                  (double)build_ns / 1e6, (double)query_ns / 1e6 / NQ, found, NQ);
    /* well under 20 ms per message (typically far below 1 ms) */
    assert_true(query_ns / NQ < 20000000u);
    /* rows visible to vendor 1 are found from their question */
    assert_true(found >= NQ * 8 / 10);

    vendorchat_snap_release(s);
    bt_arena_free(a);
    free(ks);
    free(q);
    free(ans);
    free(kw);
    free(kwp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_normalize_cp_cap),
        cmocka_unit_test(test_function_chars),
        cmocka_unit_test(test_ngrams),
        cmocka_unit_test_setup_teardown(test_snapshot_contents, snap_setup, snap_teardown),
        cmocka_unit_test_setup_teardown(test_classify_basic, snap_setup, snap_teardown),
        cmocka_unit_test_setup_teardown(test_classify_secondary, snap_setup, snap_teardown),
        cmocka_unit_test_setup_teardown(test_scores_bounded_and_ordered, snap_setup, snap_teardown),
        cmocka_unit_test_setup_teardown(test_retrieve_scope_and_visibility, snap_setup,
                                        snap_teardown),
        cmocka_unit_test_setup_teardown(test_retrieve_priority_and_top_k, snap_setup,
                                        snap_teardown),
        cmocka_unit_test(test_ten_thousand_rows_fast),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
