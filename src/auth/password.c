/* SPDX-License-Identifier: MIT
 * password.c - Argon2id password hashes in PHC string format (libargon2).
 * Owns: the process-wide hashing parameters (behind a mutex).
 * Must not: log or return anything derived from a password; compare hashes with memcmp; let a
 * malformed stored hash crash or allocate without bound (it verifies as a wrong password).
 *
 * Verification parses the PHC string here instead of calling argon2_verify, so the parameter
 * bounds, the accepted variants and the constant-time compare are ours to state and test.
 */
#include <pthread.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>

#include <bento/auth.h>
#include <bento/err.h>

#include "auth/auth_private.h"

#define PHC_MIN_SALT 8u
#define PHC_MAX_SALT 64u
#define PHC_MIN_HASH 4u
#define PHC_MAX_HASH 64u

static pthread_mutex_t params_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bt_password_params params = {
    BT_PASSWORD_DEFAULT_M_KIB,
    BT_PASSWORD_DEFAULT_T,
    BT_PASSWORD_DEFAULT_P,
};

static bool params_ok(uint32_t m, uint32_t t, uint32_t p)
{
    return p >= 1 && p <= BT_PASSWORD_MAX_P && t >= 1 && t <= BT_PASSWORD_MAX_T && m >= 8 * p &&
           m <= BT_PASSWORD_MAX_M_KIB;
}

void bt_password_default_params(struct bt_password_params *p)
{
    p->m_cost_kib = BT_PASSWORD_DEFAULT_M_KIB;
    p->t_cost = BT_PASSWORD_DEFAULT_T;
    p->parallelism = BT_PASSWORD_DEFAULT_P;
}

int bt_password_set_params(const struct bt_password_params *p)
{
    if (!p || !params_ok(p->m_cost_kib, p->t_cost, p->parallelism))
        return BT_EINVAL;
    pthread_mutex_lock(&params_lock);
    params = *p;
    pthread_mutex_unlock(&params_lock);
    return BT_OK;
}

void bt_password_get_params(struct bt_password_params *p)
{
    pthread_mutex_lock(&params_lock);
    *p = params;
    pthread_mutex_unlock(&params_lock);
}

int bt_password_hash(const char *pw, char *out, size_t outlen, struct bt_err *err)
{
    struct bt_password_params p;
    unsigned char salt[BT_PASSWORD_SALT_LEN];
    size_t pwlen, need;
    int rc;

    if (out && outlen)
        out[0] = '\0';
    if (!pw || !out)
        return bt_fail(err, BT_EINVAL, NULL, "password or output missing");
    pwlen = strlen(pw);
    if (pwlen > ARGON2_MAX_PWD_LENGTH)
        return bt_fail(err, BT_EINVAL, NULL, "password too long");
    bt_password_get_params(&p);
    need = argon2_encodedlen(p.t_cost, p.m_cost_kib, p.parallelism, BT_PASSWORD_SALT_LEN,
                             BT_PASSWORD_HASH_LEN, Argon2_id);
    if (outlen < need)
        return bt_fail(err, BT_EINVAL, NULL, "hash buffer too small (%zu < %zu)", outlen, need);
    bt_random_bytes(salt, sizeof(salt));
    rc = argon2_hash(p.t_cost, p.m_cost_kib, p.parallelism, pw, pwlen, salt, sizeof(salt), NULL,
                     BT_PASSWORD_HASH_LEN, out, outlen, Argon2_id, ARGON2_VERSION_13);
    if (rc != ARGON2_OK) {
        out[0] = '\0';
        return bt_fail(err, BT_EINTERNAL, NULL, "argon2 failed: %s", argon2_error_message(rc));
    }
    return BT_OK;
}

/* A PHC string taken apart. */
struct phc {
    argon2_type type;
    uint32_t version, m, t, p;
    unsigned char salt[PHC_MAX_SALT];
    size_t saltlen;
    unsigned char hash[PHC_MAX_HASH];
    size_t hashlen;
};

/* Consume "<prefix><decimal>" at *s; decimals are canonical (no sign, no leading zero). */
static bool take_u32(const char **s, const char *prefix, uint32_t *out)
{
    size_t pl = strlen(prefix);
    const char *q;
    uint64_t v = 0;

    if (strncmp(*s, prefix, pl) != 0)
        return false;
    q = *s + pl;
    if (*q < '0' || *q > '9' || (q[0] == '0' && q[1] >= '0' && q[1] <= '9'))
        return false;
    for (; *q >= '0' && *q <= '9'; q++) {
        v = v * 10 + (uint64_t)(*q - '0');
        if (v > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)v;
    *s = q;
    return true;
}

/* Decode one unpadded standard-base64 field ending at '$' or the end of the string. */
static bool take_b64(const char **s, unsigned char *out, size_t cap, size_t min, size_t *len)
{
    const char *end = strchr(*s, '$');
    size_t n = end ? (size_t)(end - *s) : strlen(*s);
    long got;

    if (memchr(*s, '=', n))
        return false;
    got = bt_auth_b64_decode_buf(*s, n, false, out, cap);
    if (got < 0 || (size_t)got < min)
        return false;
    *len = (size_t)got;
    *s += n;
    return true;
}

static bool phc_parse(const char *s, struct phc *h)
{
    if (!s)
        return false;
    if (strncmp(s, "$argon2id$", 10) == 0) {
        h->type = Argon2_id;
        s += 10;
    } else if (strncmp(s, "$argon2i$", 9) == 0) {
        h->type = Argon2_i;
        s += 9;
    } else if (strncmp(s, "$argon2d$", 9) == 0) {
        h->type = Argon2_d;
        s += 9;
    } else {
        return false;
    }
    /* Hashes from before version 19 carry no "v=" field. */
    h->version = ARGON2_VERSION_10;
    if (strncmp(s, "v=", 2) == 0) {
        if (!take_u32(&s, "v=", &h->version) || *s++ != '$')
            return false;
        if (h->version != ARGON2_VERSION_10 && h->version != ARGON2_VERSION_13)
            return false;
    }
    if (!take_u32(&s, "m=", &h->m) || *s++ != ',' || !take_u32(&s, "t=", &h->t) || *s++ != ',' ||
        !take_u32(&s, "p=", &h->p) || *s++ != '$')
        return false;
    if (!params_ok(h->m, h->t, h->p))
        return false;
    if (!take_b64(&s, h->salt, sizeof(h->salt), PHC_MIN_SALT, &h->saltlen) || *s++ != '$')
        return false;
    if (!take_b64(&s, h->hash, sizeof(h->hash), PHC_MIN_HASH, &h->hashlen) || *s != '\0')
        return false;
    return true;
}

int bt_password_verify(const char *pw, const char *phc)
{
    struct phc h;
    unsigned char got[PHC_MAX_HASH];
    size_t pwlen;
    int rc;
    bool same;

    if (!pw || !phc || !phc_parse(phc, &h))
        return BT_EAUTH;
    pwlen = strlen(pw);
    if (pwlen > ARGON2_MAX_PWD_LENGTH)
        return BT_EAUTH;
    rc = argon2_hash(h.t, h.m, h.p, pw, pwlen, h.salt, h.saltlen, got, h.hashlen, NULL, 0, h.type,
                     h.version);
    same = rc == ARGON2_OK && bt_ct_equal(got, h.hash, h.hashlen);
    OPENSSL_cleanse(got, sizeof(got));
    return same ? BT_OK : BT_EAUTH;
}

bool bt_password_needs_rehash(const char *phc)
{
    struct bt_password_params p;
    struct phc h;

    if (!phc_parse(phc, &h))
        return true;
    bt_password_get_params(&p);
    return h.type != Argon2_id || h.version != ARGON2_VERSION_13 || h.m != p.m_cost_kib ||
           h.t != p.t_cost || h.p != p.parallelism || h.saltlen != BT_PASSWORD_SALT_LEN ||
           h.hashlen != BT_PASSWORD_HASH_LEN;
}

int bt_password_dummy_verify(const char *pw)
{
    static const char fixed_salt[BT_PASSWORD_SALT_LEN] = "bento-no-user!!";
    struct bt_password_params p;
    unsigned char got[BT_PASSWORD_HASH_LEN];

    bt_password_get_params(&p);
    (void)argon2_hash(p.t_cost, p.m_cost_kib, p.parallelism, pw ? pw : "", pw ? strlen(pw) : 0,
                      fixed_salt, sizeof(fixed_salt), got, sizeof(got), NULL, 0, Argon2_id,
                      ARGON2_VERSION_13);
    OPENSSL_cleanse(got, sizeof(got));
    return BT_EAUTH;
}
