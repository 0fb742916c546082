/* SPDX-License-Identifier: MIT
 * auth.h - the crypto building blocks the services share: password hashing (Argon2id),
 * constant-time comparison, randomness, SHA-256/HMAC, base64, hex, JWT HS256, AES-256-GCM
 * and secret-to-key derivation. Policy (which claims, which TTLs, which routes) belongs to
 * the apps; this module only gets the primitives right once. See docs/SECURITY.md.
 * Must not: log or put into a struct bt_err any password, key, token or plaintext; use
 * deprecated OpenSSL APIs; compare secrets with memcmp/strcmp.
 *
 * Threads: every function may be called from any number of threads at once (OpenSSL 3 and
 * libargon2 are thread-safe for these uses; the one lazily fetched OpenSSL object is set up
 * under pthread_once), given that each thread uses its own arena. bt_password_set_params is
 * safe too (a mutex) but is meant for start-up and tests.
 *
 * Ownership: results marked "arena-owned" live until the arena is reset; json_t results are
 * owned by the arena (bt_json_own), so the caller must not json_decref them. Inputs are
 * borrowed and never retained.
 */
#ifndef BENTO_AUTH_H
#define BENTO_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct bt_arena;
struct bt_err;

/* ---- passwords: Argon2id in PHC string format ---- */

/* Argon2id cost parameters. The default is OWASP's first recommendation, m=19456 KiB (19 MiB),
 * t=2, p=1: measured at about 31 ms per hash on the build machine (2-vCPU Intel Xeon, libargon2
 * 20171227, best of 5), against about 214 ms for the alternative m=65536,t=3,p=1. bento runs
 * five services with several handler threads each on small machines: 214 ms of one core per
 * login lets a handful of logins per second saturate two cores, and 64 MiB per concurrent
 * hash multiplies with the thread count, while 19 MiB x 40 threads stays under 1 GiB. The
 * per-IP login limits of the services bound guessing rates; the KDF cost bounds offline
 * cracking of a leaked database, where 19 MiB/t=2 is still memory-hard enough for OWASP. */
struct bt_password_params {
    uint32_t m_cost_kib;  /* memory in KiB, 8 * parallelism .. BT_PASSWORD_MAX_M_KIB */
    uint32_t t_cost;      /* passes, 1 .. BT_PASSWORD_MAX_T */
    uint32_t parallelism; /* lanes, 1 .. BT_PASSWORD_MAX_P */
};

#define BT_PASSWORD_DEFAULT_M_KIB 19456u
#define BT_PASSWORD_DEFAULT_T 2u
#define BT_PASSWORD_DEFAULT_P 1u
/* Upper bounds for hashes we create or verify: a stored hash with absurd parameters (a
 * corrupted or planted row) must not make one verification allocate gigabytes. */
#define BT_PASSWORD_MAX_M_KIB (1u << 20) /* 1 GiB */
#define BT_PASSWORD_MAX_T 64u
#define BT_PASSWORD_MAX_P 16u
/* Salt and output length of hashes we create. */
#define BT_PASSWORD_SALT_LEN 16u
#define BT_PASSWORD_HASH_LEN 32u
/* Enough for any PHC string bt_password_hash produces (about 100 bytes) with room to spare. */
#define BT_PASSWORD_PHC_MAX 160u

/** The built-in defaults above. */
void bt_password_default_params(struct bt_password_params *p);

/** Replace the process-wide parameters used by bt_password_hash and bt_password_needs_rehash.
 *  Tests use a cheap setting (e.g. m=1024,t=1,p=1). Returns BT_OK, or BT_EINVAL (nothing
 *  changed) when a value is out of the documented range. */
int bt_password_set_params(const struct bt_password_params *p);
/** The current process-wide parameters. */
void bt_password_get_params(struct bt_password_params *p);

/** Hash pw with a fresh 16-byte random salt and the current parameters into out as
 *  "$argon2id$v=19$m=M,t=T,p=P$<salt>$<hash>" (standard base64 without padding, as libargon2
 *  and the PHC format write it). outlen should be BT_PASSWORD_PHC_MAX. Returns BT_OK, BT_EINVAL
 *  (pw NULL, out too small) or BT_EINTERNAL (libargon2 failed, e.g. out of memory); out is ""
 *  on failure. err may be NULL. */
int bt_password_hash(const char *pw, char *out, size_t outlen, struct bt_err *err);

/** Check pw against a PHC string. Accepts argon2id, argon2i and argon2d hashes with any
 *  parameters within the bounds above, versions 19 and 16 ("v=16" or no "v=" part), salts
 *  of 8..64 bytes and outputs of 4..64 bytes, so hashes made with other settings (older
 *  defaults, imported accounts) keep working. The final compare is constant-time. Returns
 *  BT_OK on a match and BT_EAUTH otherwise, including for NULL arguments and malformed or
 *  out-of-bounds hashes (a bad stored hash must look like a wrong password, never crash). */
int bt_password_verify(const char *pw, const char *phc);

/** True when phc should be replaced after the next successful login: not argon2id, not
 *  version 19, not parseable, or made with parameters or lengths other than the current
 *  ones. */
bool bt_password_needs_rehash(const char *phc);

/** Spend the time of one verification with the current parameters and return BT_EAUTH. Call
 *  it when the user does not exist, so a login's duration does not reveal which user names
 *  are taken. pw may be NULL. */
int bt_password_dummy_verify(const char *pw);

/* ---- constant-time comparison ---- */

/** True when the n bytes at a and b are equal. Time depends on n only, never on the contents
 *  (CRYPTO_memcmp). n == 0 is true. */
bool bt_ct_equal(const void *a, const void *b, size_t n);

/** True when the strings given (e.g. from a request) and expected (the secret) are equal.
 *  Time depends on the two lengths only, never on the contents: the caller already knows the
 *  length of what it sent, so the only thing an observer can learn is the length of the
 *  expected value, which must therefore not itself be secret (use fixed-length values:
 *  hex digests, tokens of a fixed byte count). NULL on either side is false. */
bool bt_ct_streq(const char *given, const char *expected);

/* ---- randomness (getrandom(2), the kernel CSPRNG) ---- */

/** Fill p with n cryptographically secure random bytes. Aborts the process (bt_bug) if the
 *  kernel cannot provide them: continuing with weak randomness is worse than stopping. */
void bt_random_bytes(void *p, size_t n);

/** nbytes random bytes as base64url without padding, arena-owned (32 bytes -> 43 chars).
 *  For opaque tokens (refresh tokens, session ids, CSRF nonces). */
char *bt_random_token(struct bt_arena *a, size_t nbytes);

/** A random (version 4, RFC 9562) UUID in lower case, "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx",
 *  NUL-terminated. */
void bt_uuid_v4(char out[37]);

/* ---- encodings (all results arena-owned and NUL-terminated) ---- */

/** Lower-case hex of n bytes. */
char *bt_hex_encode(struct bt_arena *a, const void *p, size_t n);
/** Decode hex (either case, even length). Returns 0 with *out (NUL-terminated after *outlen
 *  bytes) or -1 on invalid input. outlen may be NULL. */
int bt_hex_decode(struct bt_arena *a, const char *s, size_t n, unsigned char **out, size_t *outlen);

/** RFC 4648 section 4 base64 with '=' padding. */
char *bt_base64_encode(struct bt_arena *a, const void *p, size_t n);
/** RFC 4648 section 5 base64url without padding (as JWT and tokens use it). */
char *bt_base64url_encode(struct bt_arena *a, const void *p, size_t n);
/** Decode base64 / base64url. Padding is optional, but when present it must be complete and
 *  at the end; whitespace, characters of the other alphabet, a lone trailing character and
 *  non-zero unused bits are invalid (only the canonical encoding of a value decodes, so a value
 *  cannot be altered without changing its bytes). Returns 0 with *out (NUL-terminated after
 *  *outlen bytes) or -1. outlen may be NULL. */
int bt_base64_decode(struct bt_arena *a, const char *s, size_t n, unsigned char **out,
                     size_t *outlen);
int bt_base64url_decode(struct bt_arena *a, const char *s, size_t n, unsigned char **out,
                        size_t *outlen);

/* ---- hashing ---- */

#define BT_SHA256_LEN 32u

/** SHA-256 of n bytes into out. */
void bt_sha256(const void *data, size_t n, unsigned char out[32]);
/** SHA-256 as 64 lower-case hex characters, arena-owned. Use for storing tokens and codes
 *  that are themselves high-entropy (refresh tokens, redeem codes): a plain hash is enough
 *  there and lets the database look them up; passwords need bt_password_hash. */
char *bt_sha256_hex(struct bt_arena *a, const void *data, size_t n);

/** HMAC-SHA256 (RFC 2104) of data under key into out. keylen 0 is allowed (an empty key). */
void bt_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                    unsigned char out[32]);
/** The same as 64 lower-case hex characters, arena-owned. Compare against a received value
 *  with bt_ct_streq(received, computed). */
char *bt_hmac_sha256_hex(struct bt_arena *a, const void *key, size_t keylen, const void *data,
                         size_t n);

/* ---- JWT, HS256 only (RFC 7519 / RFC 7515) ---- */

/* Longest token bt_jwt_verify looks at; longer ones are TOKEN_INVALID without parsing. */
#define BT_JWT_MAX_LEN 8192u

/** Sign claims (borrowed, must be a JSON object) with HMAC-SHA256 under secret (its strlen
 *  bytes). The header is exactly {"alg":"HS256","typ":"JWT"}; the payload is the compact dump
 *  of claims in insertion order: nothing is added (iat, exp, jti are the caller's). *out is the
 *  arena-owned token. Returns BT_OK or BT_EINVAL (claims not an object, empty secret). */
int bt_jwt_sign(struct bt_arena *a, const json_t *claims, const char *secret, char **out);
/** The same with a binary key. */
int bt_jwt_sign_key(struct bt_arena *a, const json_t *claims, const void *key, size_t keylen,
                    char **out);

/** Verify token under secret at time now (unix seconds). BT_OK: *claims_out (may be NULL) is
 *  the payload object, arena-owned. Otherwise BT_EAUTH with err->app_code:
 *    "TOKEN_EXPIRED" - the signature is valid and exp <= now;
 *    "TOKEN_INVALID" - anything else: not three base64url parts, padding, bad base64, a
 *       header that is not an object, alg not exactly "HS256" ("none" and every other
 *       algorithm are refused whatever the key), typ present and not "JWT", a crit header,
 *       a signature that does not match (compared in constant time), a payload that is not an
 *       object, exp/nbf/iat present but not numbers, nbf > now, an empty secret, a token
 *       longer than BT_JWT_MAX_LEN.
 *  exp is optional here (tokens without it never expire), so issuers must always set it.
 *  There is no clock leeway: the issuer and the verifier are the same process or share a
 *  clock. The signature is checked before the payload is parsed. err may be NULL. */
int bt_jwt_verify(struct bt_arena *a, const char *token, const char *secret, int64_t now,
                  json_t **claims_out, struct bt_err *err);
int bt_jwt_verify_key(struct bt_arena *a, const char *token, const void *key, size_t keylen,
                      int64_t now, json_t **claims_out, struct bt_err *err);

/* ---- AES-256-GCM for secrets at rest ---- */

#define BT_AES_KEY_LEN 32u
#define BT_AES_NONCE_LEN 12u
#define BT_AES_TAG_LEN 16u

/** Encrypt n bytes under a 32-byte key with a fresh random 12-byte nonce. *out_b64 is the
 *  arena-owned standard base64 (padded) of nonce || ciphertext || tag. Random nonces are safe
 *  for up to about 2^32 encryptions per key (NIST SP 800-38D), far beyond what a service
 *  stores. Returns BT_OK or BT_EINTERNAL (OpenSSL failure; *out_b64 NULL). */
int bt_aes_gcm_encrypt(struct bt_arena *a, const unsigned char key[32], const void *plain, size_t n,
                       char **out_b64);

/** Decrypt what bt_aes_gcm_encrypt produced. BT_OK: *out is the arena-owned plaintext,
 *  NUL-terminated after *outlen bytes (outlen may be NULL), so text secrets can be used as
 *  strings. BT_EAUTH when b64 is malformed, too short, was made with another key, or was
 *  modified in any way (the tag fails); nothing of the plaintext is returned then. err may be
 *  NULL. */
int bt_aes_gcm_decrypt(struct bt_arena *a, const unsigned char key[32], const char *b64, char **out,
                       size_t *outlen, struct bt_err *err);

/** Derive a 32-byte key from a configured secret string:
 *    - exactly 64 hex digits           -> those 32 bytes, used directly;
 *    - base64 or base64url of exactly 32 bytes (43 characters, or 44 with one '=')
 *                                      -> those 32 bytes, used directly;
 *    - anything else (a passphrase)    -> SHA-256 of the string's bytes.
 *  Generate real keys with `openssl rand -hex 32` or `openssl rand -base64 32`. A passphrase
 *  is only as strong as its entropy: SHA-256 does not stretch it. Returns BT_OK, or BT_EINVAL
 *  for a NULL or empty secret. err may be NULL. */
int bt_key_from_secret(const char *secret, unsigned char key[32], struct bt_err *err);

/** Start-up check for a configured secret named name (e.g. "yunshui.jwt_secret"): in
 *  production (production == true) it must be set, differ from the development default
 *  dev_default (may be NULL) and be at least 32 bytes long; otherwise BT_EUNAVAILABLE with a
 *  message naming the setting (never the value). Outside production everything passes, so
 *  development runs with the documented defaults. Returns BT_OK or BT_EUNAVAILABLE. */
int bt_secret_check(const char *name, const char *value, const char *dev_default, bool production,
                    struct bt_err *err);

#endif
