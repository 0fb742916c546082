/* SPDX-License-Identifier: MIT
 * crypto.c - constant-time comparison, randomness, hex/base64, SHA-256, HMAC-SHA256,
 * AES-256-GCM and secret-to-key derivation (OpenSSL 3 EVP APIs, kernel getrandom).
 * Owns: the process-wide fetched HMAC implementation (fetched once, never freed).
 * Must not: use deprecated OpenSSL calls; leave key material in stack buffers; put secrets or
 * plaintexts into error messages.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <bento/arena.h>
#include <bento/auth.h>
#include <bento/err.h>

#include "auth/auth_private.h"

/* ---- constant-time comparison ---- */

bool bt_ct_equal(const void *a, const void *b, size_t n)
{
    if (n == 0)
        return true;
    return CRYPTO_memcmp(a, b, n) == 0;
}

bool bt_ct_streq(const char *given, const char *expected)
{
    size_t gl, el;

    if (!given || !expected)
        return false;
    gl = strlen(given);
    el = strlen(expected);
    /* Returning early on a length mismatch reveals only the two lengths (see auth.h). */
    if (gl != el)
        return false;
    return bt_ct_equal(given, expected, el);
}

/* ---- randomness ---- */

void bt_random_bytes(void *p, size_t n)
{
    unsigned char *q = p;

    while (n > 0) {
        ssize_t r = getrandom(q, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            bt_bug("getrandom failed: %s", strerror(errno));
        }
        q += r;
        n -= (size_t)r;
    }
}

char *bt_random_token(struct bt_arena *a, size_t nbytes)
{
    unsigned char *raw = bt_arena_alloc(a, nbytes ? nbytes : 1);
    char *s;

    bt_random_bytes(raw, nbytes);
    s = bt_base64url_encode(a, raw, nbytes);
    OPENSSL_cleanse(raw, nbytes);
    return s;
}

void bt_uuid_v4(char out[37])
{
    unsigned char b[16];

    bt_random_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10xx */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* ---- hex ---- */

static const char hexdig[] = "0123456789abcdef";

static void hex_into(char *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdig[p[i] >> 4];
        out[2 * i + 1] = hexdig[p[i] & 15];
    }
    out[2 * n] = '\0';
}

char *bt_hex_encode(struct bt_arena *a, const void *p, size_t n)
{
    char *s = bt_arena_alloc(a, 2 * n + 1);

    hex_into(s, p, n);
    return s;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hex_decode_into(const char *s, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int bt_hex_decode(struct bt_arena *a, const char *s, size_t n, unsigned char **out, size_t *outlen)
{
    unsigned char *buf;

    if (!s || n % 2)
        return -1;
    buf = bt_arena_alloc(a, n / 2 + 1);
    if (hex_decode_into(s, n, buf) < 0)
        return -1;
    *out = buf;
    if (outlen)
        *outlen = n / 2;
    return 0;
}

/* ---- base64 (RFC 4648) ---- */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64_encode(struct bt_arena *a, const void *p, size_t n, bool url)
{
    const unsigned char *in = p;
    const char *alpha = url ? b64_url : b64_std;
    char *out = bt_arena_alloc(a, (n + 2) / 3 * 4 + 1);
    size_t o = 0, i = 0;

    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        out[o++] = alpha[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[v >> 12 & 63];
        if (!url) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        if (!url)
            out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

char *bt_base64_encode(struct bt_arena *a, const void *p, size_t n)
{
    return b64_encode(a, p, n, false);
}

char *bt_base64url_encode(struct bt_arena *a, const void *p, size_t n)
{
    return b64_encode(a, p, n, true);
}

static int b64_val(unsigned char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/* Decoded length of n significant characters (padding removed); -1 when n is impossible. */
static long b64_declen(size_t n)
{
    if (n % 4 == 1 || n / 4 > (size_t)LONG_MAX / 3 - 1)
        return -1;
    return (long)(n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0));
}

long bt_auth_b64_decode_buf(const char *s, size_t n, bool url, unsigned char *out, size_t cap)
{
    size_t pad = 0, o = 0, i = 0;
    long len;

    if (!s)
        return -1;
    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    /* Padding, when present, must complete the last 4-character group exactly. */
    if (pad && (n + pad) % 4 != 0)
        return -1;
    len = b64_declen(n);
    if (len < 0 || (size_t)len > cap)
        return -1;
    for (; i + 4 <= n; i += 4) {
        int v0 = b64_val((unsigned char)s[i], url), v1 = b64_val((unsigned char)s[i + 1], url);
        int v2 = b64_val((unsigned char)s[i + 2], url), v3 = b64_val((unsigned char)s[i + 3], url);
        if ((v0 | v1 | v2 | v3) < 0)
            return -1;
        unsigned v = (unsigned)v0 << 18 | (unsigned)v1 << 12 | (unsigned)v2 << 6 | (unsigned)v3;
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    if (n - i >= 2) {
        int v0 = b64_val((unsigned char)s[i], url), v1 = b64_val((unsigned char)s[i + 1], url);
        int v2 = n - i == 3 ? b64_val((unsigned char)s[i + 2], url) : 0;
        if ((v0 | v1 | v2) < 0)
            return -1;
        unsigned v = (unsigned)v0 << 18 | (unsigned)v1 << 12 | (unsigned)v2 << 6;
        out[o++] = (unsigned char)(v >> 16);
        if (n - i == 3)
            out[o++] = (unsigned char)(v >> 8);
        /* Bits below the last whole byte must be zero, or two strings would decode alike. */
        if ((n - i == 2 && (v & 0xffff)) || (n - i == 3 && (v & 0xff)))
            return -1;
    }
    return (long)o;
}

static int b64_decode(struct bt_arena *a, const char *s, size_t n, bool url, unsigned char **out,
                      size_t *outlen)
{
    unsigned char *buf;
    long len;

    if (!s)
        return -1;
    /* n / 4 * 3 + 3 bounds the output for any n; the exact check is in the decoder. */
    buf = bt_arena_alloc(a, n / 4 * 3 + 4);
    len = bt_auth_b64_decode_buf(s, n, url, buf, n / 4 * 3 + 3);
    if (len < 0)
        return -1;
    buf[len] = '\0';
    *out = buf;
    if (outlen)
        *outlen = (size_t)len;
    return 0;
}

int bt_base64_decode(struct bt_arena *a, const char *s, size_t n, unsigned char **out,
                     size_t *outlen)
{
    return b64_decode(a, s, n, false, out, outlen);
}

int bt_base64url_decode(struct bt_arena *a, const char *s, size_t n, unsigned char **out,
                        size_t *outlen)
{
    return b64_decode(a, s, n, true, out, outlen);
}

/* ---- SHA-256 and HMAC-SHA256 ---- */

void bt_sha256(const void *data, size_t n, unsigned char out[32])
{
    unsigned int outl = 0;

    if (!EVP_Digest(n ? data : "", n, out, &outl, EVP_sha256(), NULL) || outl != 32)
        bt_bug("sha-256 failed");
}

char *bt_sha256_hex(struct bt_arena *a, const void *data, size_t n)
{
    unsigned char md[32];

    bt_sha256(data, n, md);
    return bt_hex_encode(a, md, sizeof(md));
}

static EVP_MAC *hmac_impl;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void)
{
    hmac_impl = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!hmac_impl)
        bt_bug("openssl has no hmac implementation");
}

void bt_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                    unsigned char out[32])
{
    static const unsigned char zero_key[1];
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC_CTX *ctx;
    size_t outl = 0;

    pthread_once(&hmac_once, hmac_fetch);
    /* HMAC pads the key with zeros to the block size, so the one-byte key 0x00 gives exactly
     * the MAC of the empty key; OpenSSL refuses a zero-length key outright. */
    if (keylen == 0) {
        key = zero_key;
        keylen = 1;
    }
    ctx = EVP_MAC_CTX_new(hmac_impl);
    if (!ctx || !EVP_MAC_init(ctx, key, keylen, params) ||
        !EVP_MAC_update(ctx, n ? data : zero_key, n) || !EVP_MAC_final(ctx, out, &outl, 32) ||
        outl != 32)
        bt_bug("hmac-sha256 failed");
    EVP_MAC_CTX_free(ctx);
}

char *bt_hmac_sha256_hex(struct bt_arena *a, const void *key, size_t keylen, const void *data,
                         size_t n)
{
    unsigned char mac[32];

    bt_hmac_sha256(key, keylen, data, n, mac);
    return bt_hex_encode(a, mac, sizeof(mac));
}

/* ---- AES-256-GCM ---- */

/* EVP update calls take int lengths; larger inputs go through in chunks. */
#define GCM_CHUNK (1 << 30)

int bt_aes_gcm_encrypt(struct bt_arena *a, const unsigned char key[32], const void *plain, size_t n,
                       char **out_b64)
{
    const unsigned char *in = plain;
    size_t total = BT_AES_NONCE_LEN + n + BT_AES_TAG_LEN, off = BT_AES_NONCE_LEN;
    unsigned char *buf;
    EVP_CIPHER_CTX *ctx;
    OSSL_PARAM params[2];
    int outl, ok;

    *out_b64 = NULL;
    if (n > SIZE_MAX / 2)
        return BT_EINTERNAL;
    buf = bt_arena_alloc(a, total);
    bt_random_bytes(buf, BT_AES_NONCE_LEN);
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx && EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), key, buf, NULL);
    for (size_t done = 0; ok && done < n;) {
        int chunk = n - done > GCM_CHUNK ? GCM_CHUNK : (int)(n - done);
        ok = EVP_EncryptUpdate(ctx, buf + off, &outl, in + done, chunk);
        done += (size_t)chunk;
        off += (size_t)outl;
    }
    if (ok) {
        ok = EVP_EncryptFinal_ex(ctx, buf + off, &outl);
        off += (size_t)outl;
    }
    if (ok) {
        params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, buf + off,
                                                      BT_AES_TAG_LEN);
        params[1] = OSSL_PARAM_construct_end();
        ok = EVP_CIPHER_CTX_get_params(ctx, params) && off + BT_AES_TAG_LEN == total;
    }
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return BT_EINTERNAL;
    *out_b64 = bt_base64_encode(a, buf, total);
    return BT_OK;
}

int bt_aes_gcm_decrypt(struct bt_arena *a, const unsigned char key[32], const char *b64, char **out,
                       size_t *outlen, struct bt_err *err)
{
    unsigned char *raw, *plain, *tag;
    size_t rawlen, n, off = 0;
    EVP_CIPHER_CTX *ctx;
    OSSL_PARAM params[2];
    int outl, ok;

    *out = NULL;
    if (outlen)
        *outlen = 0;
    if (!b64 || bt_base64_decode(a, b64, strlen(b64), &raw, &rawlen) < 0 ||
        rawlen < BT_AES_NONCE_LEN + BT_AES_TAG_LEN)
        return bt_fail(err, BT_EAUTH, NULL, "encrypted value is malformed");
    n = rawlen - BT_AES_NONCE_LEN - BT_AES_TAG_LEN;
    tag = raw + BT_AES_NONCE_LEN + n;
    plain = bt_arena_alloc(a, n + 1);
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx && EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key, raw, NULL);
    for (size_t done = 0; ok && done < n;) {
        int chunk = n - done > GCM_CHUNK ? GCM_CHUNK : (int)(n - done);
        ok = EVP_DecryptUpdate(ctx, plain + off, &outl, raw + BT_AES_NONCE_LEN + done, chunk);
        done += (size_t)chunk;
        off += (size_t)outl;
    }
    if (ok) {
        params[0] =
            OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, BT_AES_TAG_LEN);
        params[1] = OSSL_PARAM_construct_end();
        ok = EVP_CIPHER_CTX_set_params(ctx, params);
    }
    /* Final checks the tag: until it succeeds the bytes in plain are unauthenticated. */
    if (ok)
        ok = EVP_DecryptFinal_ex(ctx, plain + off, &outl) > 0;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        OPENSSL_cleanse(plain, n + 1);
        return bt_fail(err, BT_EAUTH, NULL, "encrypted value failed authentication");
    }
    plain[n] = '\0';
    *out = (char *)plain;
    if (outlen)
        *outlen = n;
    return BT_OK;
}

/* ---- keys from configuration ---- */

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hexval((unsigned char)s[i]) < 0)
            return false;
    return true;
}

int bt_key_from_secret(const char *secret, unsigned char key[32], struct bt_err *err)
{
    unsigned char tmp[33];
    size_t n;

    if (!secret || !*secret)
        return bt_fail(err, BT_EINVAL, NULL, "secret is empty");
    n = strlen(secret);
    if (n == 64 && all_hex(secret, n)) {
        hex_decode_into(secret, n, key);
        return BT_OK;
    }
    if (n == 43 || (n == 44 && secret[43] == '=')) {
        if (bt_auth_b64_decode_buf(secret, n, false, tmp, sizeof(tmp)) == 32 ||
            bt_auth_b64_decode_buf(secret, n, true, tmp, sizeof(tmp)) == 32) {
            memcpy(key, tmp, 32);
            OPENSSL_cleanse(tmp, sizeof(tmp));
            return BT_OK;
        }
        OPENSSL_cleanse(tmp, sizeof(tmp));
    }
    bt_sha256(secret, n, key);
    return BT_OK;
}

int bt_secret_check(const char *name, const char *value, const char *dev_default, bool production,
                    struct bt_err *err)
{
    if (!production)
        return BT_OK;
    if (!value || strlen(value) < 32 || (dev_default && strcmp(value, dev_default) == 0))
        return bt_fail(err, BT_EUNAVAILABLE, name,
                       "%s must be set to a secret of at least 32 bytes (not the development "
                       "default) in production",
                       name ? name : "secret");
    return BT_OK;
}
