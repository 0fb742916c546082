/* SPDX-License-Identifier: MIT
 * test_auth.c - the crypto building blocks of include/bento/auth.h against published vectors
 * (RFC 7515 A.1, RFC 4231, RFC 4648, FIPS 180-2) and against attacks on each of them
 * (tampered, "none"-alg, expired and malformed tokens; tampered ciphertexts; bad hashes). */
#include <string.h>

#include <bento/auth.h>

#include "bt_test.h"

/* ---- helpers ---- */

static unsigned char *unhex(struct bt_arena *a, const char *s, size_t *n)
{
    unsigned char *out;

    assert_int_equal(bt_hex_decode(a, s, strlen(s), &out, n), 0);
    return out;
}

/* A token with an arbitrary header and payload, signed with HMAC-SHA256 under key. */
static char *craft(struct bt_arena *a, const char *header, const char *payload, const char *key)
{
    char *input = bt_arena_printf(a, "%s.%s", bt_base64url_encode(a, header, strlen(header)),
                                  bt_base64url_encode(a, payload, strlen(payload)));
    unsigned char mac[32];

    bt_hmac_sha256(key, strlen(key), input, strlen(input), mac);
    return bt_arena_printf(a, "%s.%s", input, bt_base64url_encode(a, mac, sizeof(mac)));
}

static void expect_jwt(struct bt_arena *a, const char *token, const char *key, int64_t now,
                       const char *app_code)
{
    struct bt_err err;
    json_t *claims = (json_t *)1;

    bt_err_clear(&err);
    assert_int_equal(bt_jwt_verify(a, token, key, now, &claims, &err), BT_EAUTH);
    assert_int_equal(err.code, BT_EAUTH);
    assert_string_equal(err.app_code, app_code);
    assert_null(claims);
    assert_null(strstr(err.msg, key));
}

static void cheap_params(void)
{
    struct bt_password_params p = {1024, 1, 1};
    assert_int_equal(bt_password_set_params(&p), BT_OK);
}

/* ---- JWT ---- */

/* RFC 7515 appendix A.1: the HS256 example token, its key and its signature. */
static const char rfc7515_key_b64u[] =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
static const char rfc7515_token[] = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
                                    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9le"
                                    "GFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
                                    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

static void test_jwt_rfc7515_a1(void **state)
{
    struct bt_arena *a = bt_arena_new();
    unsigned char *key, mac[32];
    size_t keylen;
    struct bt_err err;
    json_t *claims;
    const char *sig = strrchr(rfc7515_token, '.') + 1;
    (void)state;

    assert_int_equal(
        bt_base64url_decode(a, rfc7515_key_b64u, strlen(rfc7515_key_b64u), &key, &keylen), 0);
    assert_int_equal(keylen, 64);
    /* The signature over the signing input is exactly the RFC's. */
    bt_hmac_sha256(key, keylen, rfc7515_token, (size_t)(sig - 1 - rfc7515_token), mac);
    assert_string_equal(bt_base64url_encode(a, mac, 32), sig);

    /* The token verifies before its exp (1300819380) with the claims of the RFC... */
    bt_err_clear(&err);
    assert_int_equal(bt_jwt_verify_key(a, rfc7515_token, key, keylen, 1300819379, &claims, &err),
                     BT_OK);
    assert_true(bt_json_subset(
        claims, "{\"iss\":\"joe\",\"exp\":1300819380,\"http://example.com/is_root\":true}"));
    /* ...and is expired from exp on. */
    assert_int_equal(bt_jwt_verify_key(a, rfc7515_token, key, keylen, 1300819380, NULL, &err),
                     BT_EAUTH);
    assert_string_equal(err.app_code, "TOKEN_EXPIRED");
    /* One bit off in the key: invalid, not expired. */
    key[0] ^= 1;
    bt_err_clear(&err);
    assert_int_equal(bt_jwt_verify_key(a, rfc7515_token, key, keylen, 1300819379, NULL, &err),
                     BT_EAUTH);
    assert_string_equal(err.app_code, "TOKEN_INVALID");
    bt_arena_free(a);
}

static void test_jwt_sign_known_token(void **state)
{
    struct bt_arena *a = bt_arena_new();
    json_t *claims = json_pack("{s:s, s:s, s:I}", "sub", "1234567890", "name", "John Doe", "iat",
                               (json_int_t)1516239022);
    char *tok;
    (void)state;

    /* The widely published jwt.io example: header {"alg":"HS256","typ":"JWT"}, compact
     * payload in insertion order, nothing added. */
    assert_int_equal(bt_jwt_sign(a, claims, "your-256-bit-secret", &tok), BT_OK);
    assert_string_equal(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                             "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2"
                             "MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
    /* Sign only takes objects and a non-empty secret. */
    json_t *j_str = json_string("x");
    assert_int_equal(bt_jwt_sign(a, j_str, "k", &tok), BT_EINVAL);
    assert_null(tok);
    json_decref(j_str);
    assert_int_equal(bt_jwt_sign(a, claims, "", &tok), BT_EINVAL);
    assert_int_equal(bt_jwt_sign(a, claims, NULL, &tok), BT_EINVAL);
    json_decref(claims);
    bt_arena_free(a);
}

static void test_jwt_round_trip_and_time_claims(void **state)
{
    struct bt_arena *a = bt_arena_new();
    const char *key = "0123456789abcdef0123456789abcdef";
    const int64_t now = 1700000000;
    json_t *claims =
        json_pack("{s:s, s:s, s:s, s:I, s:I}", "sub", "u-1", "username", "管理員", "role", "ADMIN",
                  "iat", (json_int_t)now, "exp", (json_int_t)(now + 86400));
    json_t *got;
    struct bt_err err;
    char *tok;
    (void)state;

    assert_int_equal(bt_jwt_sign(a, claims, key, &tok), BT_OK);
    assert_int_equal(bt_jwt_verify(a, tok, key, now, &got, &err), BT_OK);
    assert_true(json_equal(got, claims));
    assert_int_equal(bt_jwt_verify(a, tok, key, now + 86399, NULL, &err), BT_OK);
    expect_jwt(a, tok, key, now + 86400, "TOKEN_EXPIRED");
    expect_jwt(a, tok, key, now + 86400 * 365, "TOKEN_EXPIRED");
    expect_jwt(a, tok, "0123456789abcdef0123456789abcdeF", now, "TOKEN_INVALID");
    json_decref(claims);

    /* nbf: valid from nbf on, invalid (not expired) before it. */
    tok = craft(a, "{\"alg\":\"HS256\"}", "{\"nbf\":1700000010,\"exp\":1700000100}", key);
    expect_jwt(a, tok, key, now, "TOKEN_INVALID");
    assert_int_equal(bt_jwt_verify(a, tok, key, now + 10, NULL, &err), BT_OK);
    /* Time claims must be numbers; fractions are allowed. */
    expect_jwt(a, craft(a, "{\"alg\":\"HS256\"}", "{\"exp\":\"1800000000\"}", key), key, now,
               "TOKEN_INVALID");
    expect_jwt(a, craft(a, "{\"alg\":\"HS256\"}", "{\"exp\":null}", key), key, now,
               "TOKEN_INVALID");
    expect_jwt(a, craft(a, "{\"alg\":\"HS256\"}", "{\"nbf\":\"0\"}", key), key, now,
               "TOKEN_INVALID");
    expect_jwt(a, craft(a, "{\"alg\":\"HS256\"}", "{\"iat\":true}", key), key, now,
               "TOKEN_INVALID");
    expect_jwt(a, craft(a, "{\"alg\":\"HS256\"}", "{\"exp\":1699999999.5}", key), key, now,
               "TOKEN_EXPIRED");
    assert_int_equal(bt_jwt_verify(a,
                                   craft(a, "{\"alg\":\"HS256\"}", "{\"exp\":1700000000.5}", key),
                                   key, now, NULL, &err),
                     BT_OK);
    /* An expired token with a wrong signature is invalid: expiry is only told for genuine
     * tokens. */
    expect_jwt(a, craft(a, "{\"alg\":\"HS256\"}", "{\"exp\":1}", "other key"), key, now,
               "TOKEN_INVALID");
    bt_arena_free(a);
}

static void test_jwt_rejects_other_algorithms(void **state)
{
    struct bt_arena *a = bt_arena_new();
    const char *key = "secret-secret-secret-secret-1234";
    const char *payload = "{\"sub\":\"1\",\"exp\":9999999999}";
    const int64_t now = 1700000000;
    static const char *const headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"None\"}",
        "{\"alg\":\"HS512\"}",
        "{\"alg\":\"hs256\"}",
        "{\"alg\":\"HS256 \"}",
        "{\"alg\":\"RS256\"}",
        "{\"alg\":null}",
        "{\"alg\":[\"HS256\"]}",
        "{\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWS\"}",
        "{\"alg\":\"HS256\",\"typ\":1}",
        "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
        "[\"HS256\"]",
        "\"HS256\"",
        "{\"alg\":\"HS256\"",
    };
    char *tok, *unsigned_tok;
    (void)state;

    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        /* Even correctly MACed under the right key, a header other than HS256 fails. */
        expect_jwt(a, craft(a, headers[i], payload, key), key, now, "TOKEN_INVALID");
        /* The classic "none" attack: an empty or missing signature. */
        tok = craft(a, headers[i], payload, key);
        unsigned_tok = bt_arena_strndup(a, tok, (size_t)(strrchr(tok, '.') - tok + 1));
        expect_jwt(a, unsigned_tok, key, now, "TOKEN_INVALID");
    }
    /* The accepted spellings: typ any case, other header members ignored. */
    tok = craft(a, "{\"typ\":\"jwt\",\"kid\":\"k1\",\"alg\":\"HS256\"}", payload, key);
    assert_int_equal(bt_jwt_verify(a, tok, key, now, NULL, NULL), BT_OK);
    bt_arena_free(a);
}

static void test_jwt_rejects_tampering_and_garbage(void **state)
{
    struct bt_arena *a = bt_arena_new();
    const char *key = "k3y-k3y-k3y-k3y-k3y-k3y-k3y-k3y!";
    const int64_t now = 1700000000;
    json_t *claims =
        json_pack("{s:s, s:s, s:I}", "sub", "7", "role", "USER", "exp", (json_int_t)(now + 60));
    char *tok, *t2, *big;
    char *dot1, *dot2;
    const char *evil = "{\"sub\":\"7\",\"role\":\"ADMIN\",\"exp\":1700000060}";
    struct bt_err err;
    (void)state;

    assert_int_equal(bt_jwt_sign(a, claims, key, &tok), BT_OK);
    dot1 = strchr(tok, '.');
    dot2 = strrchr(tok, '.');

    /* Flip each character of the token to another alphabet character: always invalid. */
    for (size_t i = 0; tok[i]; i++) {
        if (tok[i] == '.')
            continue;
        t2 = bt_arena_strdup(a, tok);
        t2[i] = t2[i] == 'A' ? 'B' : 'A';
        expect_jwt(a, t2, key, now, "TOKEN_INVALID");
    }
    /* Privilege escalation: a payload swapped in under the old signature. */
    t2 = bt_arena_printf(a, "%.*s.%s%s", (int)(dot1 - tok), tok,
                         bt_base64url_encode(a, evil, strlen(evil)), dot2);
    expect_jwt(a, t2, key, now, "TOKEN_INVALID");
    /* A valid signature over a payload that is not an object. */
    expect_jwt(a, craft(a, "{\"alg\":\"HS256\"}", "[1,2]", key), key, now, "TOKEN_INVALID");
    expect_jwt(a, craft(a, "{\"alg\":\"HS256\"}", "not json", key), key, now, "TOKEN_INVALID");
    /* Padding, whitespace, a fourth part, a truncated signature. */
    expect_jwt(a, bt_arena_printf(a, "%s=", tok), key, now, "TOKEN_INVALID");
    expect_jwt(a, bt_arena_printf(a, " %s", tok), key, now, "TOKEN_INVALID");
    expect_jwt(a, bt_arena_printf(a, "%s.", tok), key, now, "TOKEN_INVALID");
    expect_jwt(a, bt_arena_printf(a, "%s.%s", tok, dot2 + 1), key, now, "TOKEN_INVALID");
    expect_jwt(a, bt_arena_strndup(a, tok, strlen(tok) - 1), key, now, "TOKEN_INVALID");
    expect_jwt(a, bt_arena_strndup(a, tok, strlen(tok) - 4), key, now, "TOKEN_INVALID");
    /* Garbage of every shape. */
    static const char *const junk[] = {
        "",
        ".",
        "..",
        "...",
        "a",
        "a.b",
        "a.b.c",
        "a..c",
        ".b.c",
        "a.b.",
        "Bearer x.y.z",
        "eyJ.eyJ.sig",
        "\xff\xfe.\x01.\x02",
        "%%.%%.%%",
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        expect_jwt(a, junk[i], key, now, "TOKEN_INVALID");
    /* A header with a NUL inside the decoded JSON. */
    expect_jwt(a, craft(a, "{\"alg\":\"HS256\\u0000\"}", "{}", key), key, now, "TOKEN_INVALID");
    /* Overlong tokens are refused before any parsing. */
    big = bt_arena_alloc(a, BT_JWT_MAX_LEN + 10);
    memset(big, 'A', BT_JWT_MAX_LEN + 9);
    big[10] = '.';
    big[20] = '.';
    expect_jwt(a, big, key, now, "TOKEN_INVALID");
    /* NULL token, NULL or empty secret. */
    bt_err_clear(&err);
    assert_int_equal(bt_jwt_verify(a, NULL, key, now, NULL, &err), BT_EAUTH);
    assert_string_equal(err.app_code, "TOKEN_INVALID");
    assert_int_equal(bt_jwt_verify(a, tok, "", now, NULL, &err), BT_EAUTH);
    assert_int_equal(bt_jwt_verify(a, tok, NULL, now, NULL, NULL), BT_EAUTH);
    /* The untouched token still verifies. */
    assert_int_equal(bt_jwt_verify(a, tok, key, now, NULL, NULL), BT_OK);
    json_decref(claims);
    bt_arena_free(a);
}

/* ---- passwords ---- */

static void test_password_hash_and_verify(void **state)
{
    char h1[BT_PASSWORD_PHC_MAX], h2[BT_PASSWORD_PHC_MAX], small[20];
    struct bt_err err;
    (void)state;

    cheap_params();
    bt_err_clear(&err);
    assert_int_equal(bt_password_hash("password123", h1, sizeof(h1), &err), BT_OK);
    assert_int_equal(strncmp(h1, "$argon2id$v=19$m=1024,t=1,p=1$", 30), 0);
    /* 16-byte salt -> 22 characters, 32-byte hash -> 43, unpadded. */
    assert_int_equal(strlen(h1), 30 + 22 + 1 + 43);
    assert_null(strchr(h1 + 30, '='));
    assert_int_equal(bt_password_verify("password123", h1), BT_OK);
    assert_int_equal(bt_password_verify("password124", h1), BT_EAUTH);
    assert_int_equal(bt_password_verify("Password123", h1), BT_EAUTH);
    assert_int_equal(bt_password_verify("", h1), BT_EAUTH);
    assert_int_equal(bt_password_verify(NULL, h1), BT_EAUTH);
    /* A fresh salt every time. */
    assert_int_equal(bt_password_hash("password123", h2, sizeof(h2), NULL), BT_OK);
    assert_string_not_equal(h1, h2);
    assert_int_equal(bt_password_verify("password123", h2), BT_OK);
    /* Unicode and empty passwords are just bytes. */
    assert_int_equal(bt_password_hash("密碼 ü", h2, sizeof(h2), NULL), BT_OK);
    assert_int_equal(bt_password_verify("密碼 ü", h2), BT_OK);
    assert_int_equal(bt_password_verify("密碼 u", h2), BT_EAUTH);
    assert_int_equal(bt_password_hash("", h2, sizeof(h2), NULL), BT_OK);
    assert_int_equal(bt_password_verify("", h2), BT_OK);
    /* Bad calls. */
    assert_int_equal(bt_password_hash("x", small, sizeof(small), &err), BT_EINVAL);
    assert_string_equal(small, "");
    assert_int_equal(bt_password_hash(NULL, h2, sizeof(h2), NULL), BT_EINVAL);
}

static void test_password_foreign_hashes(void **state)
{
    /* Made by libargon2's own encoder with other variants, versions and parameters. */
    static const char *const good[] = {
        "$argon2id$v=19$m=4096,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$"
        "xLdg0jNKJ6QtaqCahBC4Dxy3cykSQdiQ3ODPAW/di5s",
        "$argon2i$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        "$argon2id$v=16$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "NLoK5E8ylukVICqqMefPdI2jEWGOZdbZx14oqsE9awo",
        /* the same, in the older spelling without a version field */
        "$argon2id$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "NLoK5E8ylukVICqqMefPdI2jEWGOZdbZx14oqsE9awo",
        "$argon2d$v=19$m=512,t=3,p=1$c2FsdHNhbHQ$BchKriEdzl/c5jzlKtLo5Q",
    };
    (void)state;

    cheap_params();
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(bt_password_verify("correct horse", good[i]), BT_OK);
        assert_int_equal(bt_password_verify("correct horsf", good[i]), BT_EAUTH);
        assert_true(bt_password_needs_rehash(good[i]));
    }
    /* OWASP default parameters, password123 (made by libargon2). */
    assert_int_equal(bt_password_verify("password123",
                                        "$argon2id$v=19$m=19456,t=2,p=1$AQAAAAAAAAAAAAAAAAAAAA$"
                                        "eWqR3ZLv1iV1G3oOI7EZ1SxQK+1H9kJ1IOLHKGqMpgM"),
                     BT_OK);
}

static void test_password_malformed_hashes(void **state)
{
    static const char *const bad[] = {
        "",
        "password123",
        "$argon2id$",
        "$argon2x$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        /* empty, padded, too short or truncated hash; missing salt */
        "$argon2i$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$",
        "$argon2i$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk=",
        "$argon2i$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$oIE",
        "$argon2i$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQF",
        "$argon2i$v=19$m=1024,t=1,p=1$$oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        "$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        /* numbers: leading zero, sign, overflow, zero, absurd sizes, unknown version */
        "$argon2i$v=19$m=01024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        "$argon2i$v=19$m=+1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        "$argon2i$v=19$m=99999999999,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        "$argon2i$v=19$m=1024,t=0,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        "$argon2i$v=19$m=4194304,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        "$argon2i$v=19$m=1024,t=1000,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        "$argon2i$v=19$m=1024,t=1,p=255$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        "$argon2i$v=18$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        "$argon2i$v=19$t=1,m=1024,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        "$argon2i$v=19$m=1024,t=1,p=1,keyid=x$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk",
        "$argon2i$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk$",
        "$argon2i$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "oIEPqwsKhzfR5i0XIQQgT4QUOzRJpiCQZntQ1KsKQFk ",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(bt_password_verify("correct horse", bad[i]), BT_EAUTH);
        assert_true(bt_password_needs_rehash(bad[i]));
    }
    assert_int_equal(bt_password_verify("correct horse", NULL), BT_EAUTH);
    assert_true(bt_password_needs_rehash(NULL));
}

static void test_password_params(void **state)
{
    struct bt_password_params p, q;
    char h[BT_PASSWORD_PHC_MAX];
    (void)state;

    bt_password_default_params(&p);
    assert_int_equal(p.m_cost_kib, 19456);
    assert_int_equal(p.t_cost, 2);
    assert_int_equal(p.parallelism, 1);
    /* Out-of-range settings are refused and change nothing. */
    cheap_params();
    static const struct bt_password_params bad[] = {
        {0, 1, 1},     {1024, 0, 1},  {1024, 1, 0}, {15, 1, 2}, {(1u << 20) + 1, 1, 1},
        {1024, 65, 1}, {1024, 1, 17},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(bt_password_set_params(&bad[i]), BT_EINVAL);
    assert_int_equal(bt_password_set_params(NULL), BT_EINVAL);
    bt_password_get_params(&q);
    assert_int_equal(q.m_cost_kib, 1024);
    assert_int_equal(q.t_cost, 1);

    /* needs_rehash follows the current parameters. */
    assert_int_equal(bt_password_hash("pw", h, sizeof(h), NULL), BT_OK);
    assert_false(bt_password_needs_rehash(h));
    q.t_cost = 2;
    assert_int_equal(bt_password_set_params(&q), BT_OK);
    assert_true(bt_password_needs_rehash(h));
    assert_int_equal(bt_password_verify("pw", h), BT_OK); /* still verifies */
    assert_int_equal(bt_password_hash("pw", h, sizeof(h), NULL), BT_OK);
    assert_int_equal(strncmp(h, "$argon2id$v=19$m=1024,t=2,p=1$", 30), 0);
    assert_false(bt_password_needs_rehash(h));
    assert_int_equal(bt_password_dummy_verify("pw"), BT_EAUTH);
    assert_int_equal(bt_password_dummy_verify(NULL), BT_EAUTH);
    cheap_params();
}

/* ---- comparisons, randomness ---- */

static void test_ct_compare(void **state)
{
    (void)state;
    assert_true(bt_ct_equal("abcdef", "abcdef", 6));
    assert_false(bt_ct_equal("abcdef", "abcdeg", 6));
    assert_false(bt_ct_equal("xbcdef", "abcdef", 6));
    assert_true(bt_ct_equal("a", "b", 0));
    assert_true(bt_ct_equal("a\0b", "a\0b", 3));
    assert_false(bt_ct_equal("a\0b", "a\0c", 3));

    assert_true(bt_ct_streq("token", "token"));
    assert_true(bt_ct_streq("", ""));
    assert_false(bt_ct_streq("token", "tokeN"));
    assert_false(bt_ct_streq("toke", "token"));
    assert_false(bt_ct_streq("tokenn", "token"));
    assert_false(bt_ct_streq("", "token"));
    assert_false(bt_ct_streq(NULL, "token"));
    assert_false(bt_ct_streq("token", NULL));
    assert_false(bt_ct_streq(NULL, NULL));
}

static bool is_hex_lower(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_uuid_and_tokens(void **state)
{
    struct bt_arena *a = bt_arena_new();
    char u1[37], u2[37];
    unsigned char buf[64], zero[64] = {0};
    char *t1, *t2;
    (void)state;

    for (int round = 0; round < 200; round++) {
        bt_uuid_v4(u1);
        assert_int_equal(strlen(u1), 36);
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                assert_int_equal(u1[i], '-');
            else
                assert_true(is_hex_lower(u1[i]));
        }
        assert_int_equal(u1[14], '4');
        assert_non_null(strchr("89ab", u1[19]));
    }
    bt_uuid_v4(u2);
    assert_string_not_equal(u1, u2);

    t1 = bt_random_token(a, 32);
    t2 = bt_random_token(a, 32);
    assert_int_equal(strlen(t1), 43);
    assert_int_equal(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     43);
    assert_string_not_equal(t1, t2);
    assert_string_equal(bt_random_token(a, 0), "");
    assert_int_equal(strlen(bt_random_token(a, 1000)), 1334);

    bt_random_bytes(buf, sizeof(buf));
    assert_memory_not_equal(buf, zero, sizeof(buf));
    bt_random_bytes(buf, 0);
    bt_arena_free(a);
}

/* ---- encodings ---- */

static void test_base64_rfc4648(void **state)
{
    struct bt_arena *a = bt_arena_new();
    /* RFC 4648 section 10 */
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const b64[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *const b64u[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    unsigned char *out;
    size_t n;
    unsigned char all[256];
    (void)state;

    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(bt_base64_encode(a, plain[i], strlen(plain[i])), b64[i]);
        assert_string_equal(bt_base64url_encode(a, plain[i], strlen(plain[i])), b64u[i]);
        assert_int_equal(bt_base64_decode(a, b64[i], strlen(b64[i]), &out, &n), 0);
        assert_int_equal(n, strlen(plain[i]));
        assert_string_equal((char *)out, plain[i]);
        /* Padding is optional on decode, for both alphabets. */
        assert_int_equal(bt_base64_decode(a, b64u[i], strlen(b64u[i]), &out, &n), 0);
        assert_string_equal((char *)out, plain[i]);
        assert_int_equal(bt_base64url_decode(a, b64u[i], strlen(b64u[i]), &out, &n), 0);
        assert_string_equal((char *)out, plain[i]);
        assert_int_equal(bt_base64url_decode(a, b64[i], strlen(b64[i]), &out, NULL), 0);
        assert_string_equal((char *)out, plain[i]);
    }
    /* The two alphabets differ in 62 and 63. */
    assert_string_equal(bt_base64_encode(a, "\xfb\xff\xbf", 3), "+/+/");
    assert_string_equal(bt_base64url_encode(a, "\xfb\xff\xbf", 3), "-_-_");
    assert_int_equal(bt_base64_decode(a, "-_-_", 4, &out, &n), -1);
    assert_int_equal(bt_base64url_decode(a, "+/+/", 4, &out, &n), -1);
    /* Every byte value round-trips, at every length. */
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)(255 - i);
    for (size_t len = 0; len <= 256; len += 17) {
        char *e = bt_base64_encode(a, all, len), *u = bt_base64url_encode(a, all, len);
        assert_int_equal(bt_base64_decode(a, e, strlen(e), &out, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(out, all, len);
        assert_int_equal(bt_base64url_decode(a, u, strlen(u), &out, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(out, all, len);
    }
    /* Invalid: lone char, incomplete or misplaced padding, non-zero spare bits, whitespace,
     * foreign characters, NUL. */
    static const char *const bad[] = {"Z",      "Zm9vY", "Zg=",   "Zg===", "Z===",    "=",
                                      "==",     "Zm=8",  "Zh==",  "Zm9=",  "Zh",      "Zm9",
                                      "Zm9v\n", " Zm9v", "Zm 9v", "Zm9v*", "Zg==Zg=="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(bt_base64_decode(a, bad[i], strlen(bad[i]), &out, &n), -1);
        assert_int_equal(bt_base64url_decode(a, bad[i], strlen(bad[i]), &out, &n), -1);
    }
    assert_int_equal(bt_base64_decode(a, "Zm\0v", 4, &out, &n), -1);
    assert_int_equal(bt_base64_decode(a, NULL, 0, &out, &n), -1);
    bt_arena_free(a);
}

static void test_hex(void **state)
{
    struct bt_arena *a = bt_arena_new();
    unsigned char *out;
    size_t n;
    (void)state;

    assert_string_equal(bt_hex_encode(a, "\x00\x01\xab\xff", 4), "0001abff");
    assert_string_equal(bt_hex_encode(a, "", 0), "");
    assert_int_equal(bt_hex_decode(a, "0001ABff", 8, &out, &n), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "\x00\x01\xab\xff", 4);
    assert_int_equal(bt_hex_decode(a, "abc", 3, &out, &n), -1);
    assert_int_equal(bt_hex_decode(a, "zz", 2, &out, &n), -1);
    assert_int_equal(bt_hex_decode(a, "0x", 2, &out, &n), -1);
    bt_arena_free(a);
}

/* ---- hashing ---- */

static void test_sha256_vectors(void **state)
{
    struct bt_arena *a = bt_arena_new();
    (void)state;

    /* FIPS 180-2 appendix B.1 and B.2, and the empty string. */
    assert_string_equal(bt_sha256_hex(a, "abc", 3),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(
        bt_sha256_hex(a, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_string_equal(bt_sha256_hex(a, NULL, 0),
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    bt_arena_free(a);
}

static void test_hmac_rfc4231(void **state)
{
    struct bt_arena *a = bt_arena_new();
    unsigned char key[131], data[152], mac[32];
    size_t n;
    (void)state;

    /* Test case 1 */
    memset(key, 0x0b, 20);
    assert_string_equal(bt_hmac_sha256_hex(a, key, 20, "Hi There", 8),
                        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* Test case 2: a key shorter than the output */
    assert_string_equal(bt_hmac_sha256_hex(a, "Jefe", 4, "what do ya want for nothing?", 28),
                        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* Test case 3 */
    memset(key, 0xaa, 20);
    memset(data, 0xdd, 50);
    assert_string_equal(bt_hmac_sha256_hex(a, key, 20, data, 50),
                        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    /* Test case 4 */
    unsigned char *k4 = unhex(a, "0102030405060708090a0b0c0d0e0f10111213141516171819", &n);
    memset(data, 0xcd, 50);
    assert_string_equal(bt_hmac_sha256_hex(a, k4, n, data, 50),
                        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    /* Test case 5: truncated to 128 bits */
    memset(key, 0x0c, 20);
    bt_hmac_sha256(key, 20, "Test With Truncation", 20, mac);
    assert_string_equal(bt_hex_encode(a, mac, 16), "a3b6167473100ee06e0c796c2955552b");
    /* Test cases 6 and 7: a key larger than the block */
    memset(key, 0xaa, 131);
    assert_string_equal(bt_hmac_sha256_hex(a, key, 131,
                                           "Test Using Larger Than Block-Size Key - Hash Key First",
                                           54),
                        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    const char *t7 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the HMAC "
                     "algorithm.";
    assert_string_equal(bt_hmac_sha256_hex(a, key, 131, t7, strlen(t7)),
                        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    /* The empty key and empty message (a widely published value). */
    assert_string_equal(bt_hmac_sha256_hex(a, "", 0, "", 0),
                        "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    bt_arena_free(a);
}

/* ---- AES-256-GCM and keys ---- */

static void test_aes_gcm(void **state)
{
    struct bt_arena *a = bt_arena_new();
    unsigned char key[32], other[32];
    const char *secret = "eyJhY2Nlc3NUb2tlbiI6InNrLXRlYW0tMTIzIn0 母號 token";
    char *c1, *c2, *p, *t;
    size_t n;
    unsigned char *raw, *big;
    size_t rawlen;
    struct bt_err err;
    (void)state;

    bt_random_bytes(key, sizeof(key));
    memcpy(other, key, sizeof(key));
    other[31] ^= 0x80;

    assert_int_equal(bt_aes_gcm_encrypt(a, key, secret, strlen(secret), &c1), BT_OK);
    assert_int_equal(bt_aes_gcm_encrypt(a, key, secret, strlen(secret), &c2), BT_OK);
    assert_string_not_equal(c1, c2); /* fresh nonce each time */
    assert_int_equal(bt_base64_decode(a, c1, strlen(c1), &raw, &rawlen), 0);
    assert_int_equal(rawlen, 12 + strlen(secret) + 16);
    assert_null(strstr((char *)raw, "token"));

    assert_int_equal(bt_aes_gcm_decrypt(a, key, c1, &p, &n, NULL), BT_OK);
    assert_int_equal(n, strlen(secret));
    assert_string_equal(p, secret);
    assert_int_equal(bt_aes_gcm_decrypt(a, key, c2, &p, NULL, NULL), BT_OK);
    assert_string_equal(p, secret);

    /* Wrong key. */
    bt_err_clear(&err);
    assert_int_equal(bt_aes_gcm_decrypt(a, other, c1, &p, &n, &err), BT_EAUTH);
    assert_null(p);
    assert_int_equal(n, 0);
    assert_int_equal(err.code, BT_EAUTH);
    /* Any flipped bit anywhere (nonce, ciphertext, tag) is detected. */
    for (size_t i = 0; i < rawlen; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            raw[i] ^= (unsigned char)(1 << bit);
            t = bt_base64_encode(a, raw, rawlen);
            assert_int_equal(bt_aes_gcm_decrypt(a, key, t, &p, NULL, NULL), BT_EAUTH);
            raw[i] ^= (unsigned char)(1 << bit);
        }
    }
    /* Truncated, extended, malformed. */
    assert_int_equal(
        bt_aes_gcm_decrypt(a, key, bt_base64_encode(a, raw, rawlen - 1), &p, NULL, NULL), BT_EAUTH);
    assert_int_equal(bt_aes_gcm_decrypt(a, key, bt_base64_encode(a, raw, 27), &p, NULL, NULL),
                     BT_EAUTH);
    assert_int_equal(bt_aes_gcm_decrypt(a, key, bt_arena_printf(a, "%sAAAA", c1), &p, NULL, NULL),
                     BT_EAUTH);
    assert_int_equal(bt_aes_gcm_decrypt(a, key, "", &p, NULL, NULL), BT_EAUTH);
    assert_int_equal(bt_aes_gcm_decrypt(a, key, "not base64!", &p, NULL, NULL), BT_EAUTH);
    assert_int_equal(bt_aes_gcm_decrypt(a, key, NULL, &p, NULL, NULL), BT_EAUTH);

    /* Empty plaintext: nonce and tag only, still authenticated. */
    assert_int_equal(bt_aes_gcm_encrypt(a, key, "", 0, &c1), BT_OK);
    assert_int_equal(strlen(c1), 40);
    assert_int_equal(bt_aes_gcm_decrypt(a, key, c1, &p, &n, NULL), BT_OK);
    assert_int_equal(n, 0);
    assert_string_equal(p, "");
    assert_int_equal(bt_aes_gcm_decrypt(a, other, c1, &p, &n, NULL), BT_EAUTH);

    /* Binary data with NULs, larger than a block. */
    big = bt_arena_alloc(a, 100000);
    bt_random_bytes(big, 100000);
    big[5] = 0;
    assert_int_equal(bt_aes_gcm_encrypt(a, key, big, 100000, &c1), BT_OK);
    assert_int_equal(bt_aes_gcm_decrypt(a, key, c1, &p, &n, NULL), BT_OK);
    assert_int_equal(n, 100000);
    assert_memory_equal(p, big, 100000);
    bt_arena_free(a);
}

static void test_aes_gcm_known_answer(void **state)
{
    struct bt_arena *a = bt_arena_new();
    /* NIST GCM test case 14 (McGrew & Viega): zero key, zero nonce, one zero block. */
    const char *b64 = "AAAAAAAAAAAAAAAAzqdAPU1ga24HTsXTuvOdGNDRyKeZmWvwJluYtdSKuRk=";
    unsigned char key[32] = {0};
    char *p;
    size_t n;
    (void)state;

    assert_int_equal(bt_aes_gcm_decrypt(a, key, b64, &p, &n, NULL), BT_OK);
    assert_int_equal(n, 16);
    assert_memory_equal(p, key, 16);
    bt_arena_free(a);
}

static void test_key_from_secret(void **state)
{
    struct bt_arena *a = bt_arena_new();
    unsigned char key[32], want[32];
    struct bt_err err;
    (void)state;

    for (int i = 0; i < 32; i++)
        want[i] = (unsigned char)(i * 7 + 1);
    /* 64 hex digits, either case: used directly. */
    assert_int_equal(bt_key_from_secret(bt_hex_encode(a, want, 32), key, NULL), BT_OK);
    assert_memory_equal(key, want, 32);
    /* base64 with and without padding, and base64url: used directly. */
    assert_int_equal(bt_key_from_secret(bt_base64_encode(a, want, 32), key, NULL), BT_OK);
    assert_memory_equal(key, want, 32);
    want[0] = 0xfb; /* makes the encodings differ in '+/' vs '-_' */
    want[1] = 0xff;
    assert_int_equal(bt_key_from_secret(bt_base64url_encode(a, want, 32), key, NULL), BT_OK);
    assert_memory_equal(key, want, 32);
    assert_int_equal(
        bt_key_from_secret(bt_arena_strndup(a, bt_base64_encode(a, want, 32), 43), key, NULL),
        BT_OK);
    assert_memory_equal(key, want, 32);
    /* Anything else is a passphrase: SHA-256 of it. */
    assert_int_equal(bt_key_from_secret("abc", key, NULL), BT_OK);
    assert_string_equal(bt_hex_encode(a, key, 32),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* 63 hex digits, or 64 with a non-hex one, are passphrases too. */
    const char *h63 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1";
    assert_int_equal(bt_key_from_secret(h63, key, NULL), BT_OK);
    assert_string_equal(bt_hex_encode(a, key, 32), bt_sha256_hex(a, h63, strlen(h63)));
    bt_err_clear(&err);
    assert_int_equal(bt_key_from_secret("", key, &err), BT_EINVAL);
    assert_int_equal(bt_key_from_secret(NULL, key, NULL), BT_EINVAL);
    bt_arena_free(a);
}

static void test_secret_check(void **state)
{
    struct bt_err err;
    const char *strong = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
    (void)state;

    /* Development: anything goes, defaults included. */
    assert_int_equal(bt_secret_check("yunshui.jwt_secret", "dev", "dev", false, NULL), BT_OK);
    assert_int_equal(bt_secret_check("yunshui.jwt_secret", NULL, "dev", false, NULL), BT_OK);
    /* Production: set, not the default, at least 32 bytes. */
    assert_int_equal(bt_secret_check("yunshui.jwt_secret", strong, "dev", true, NULL), BT_OK);
    bt_err_clear(&err);
    assert_int_equal(bt_secret_check("yunshui.jwt_secret", "dev", "dev", true, &err),
                     BT_EUNAVAILABLE);
    assert_non_null(strstr(err.msg, "yunshui.jwt_secret"));
    assert_int_equal(bt_secret_check("x", strong, strong, true, NULL), BT_EUNAVAILABLE);
    assert_int_equal(bt_secret_check("x", "short-secret", NULL, true, NULL), BT_EUNAVAILABLE);
    assert_int_equal(bt_secret_check("x", NULL, NULL, true, NULL), BT_EUNAVAILABLE);
    assert_int_equal(bt_secret_check("x", "", NULL, true, NULL), BT_EUNAVAILABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwt_rfc7515_a1),
        cmocka_unit_test(test_jwt_sign_known_token),
        cmocka_unit_test(test_jwt_round_trip_and_time_claims),
        cmocka_unit_test(test_jwt_rejects_other_algorithms),
        cmocka_unit_test(test_jwt_rejects_tampering_and_garbage),
        cmocka_unit_test(test_password_hash_and_verify),
        cmocka_unit_test(test_password_foreign_hashes),
        cmocka_unit_test(test_password_malformed_hashes),
        cmocka_unit_test(test_password_params),
        cmocka_unit_test(test_ct_compare),
        cmocka_unit_test(test_uuid_and_tokens),
        cmocka_unit_test(test_base64_rfc4648),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_aes_gcm),
        cmocka_unit_test(test_aes_gcm_known_answer),
        cmocka_unit_test(test_key_from_secret),
        cmocka_unit_test(test_secret_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
