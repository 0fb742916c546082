/* SPDX-License-Identifier: MIT
 * jwt.c - JSON Web Tokens signed with HMAC-SHA256 (RFC 7519 over RFC 7515 compact form).
 * Owns: nothing beyond one call; tokens and claims live in the caller's arena.
 * Must not: accept any algorithm but HS256 (no "none", no RS/ES: the key is one shared
 * secret); parse a payload before its signature is checked; compare MACs with memcmp; say in
 * an error which check failed beyond expired/invalid (clients get no oracle).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <bento/arena.h>
#include <bento/auth.h>
#include <bento/err.h>
#include <bento/json.h>

/* base64url of {"alg":"HS256","typ":"JWT"}: the one header bento writes. */
static const char jwt_header_b64[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

int bt_jwt_sign_key(struct bt_arena *a, const json_t *claims, const void *key, size_t keylen,
                    char **out)
{
    unsigned char mac[32];
    const char *payload, *input;
    size_t plen;

    *out = NULL;
    if (!json_is_object(claims) || !key || keylen == 0)
        return BT_EINVAL;
    payload = bt_json_dump(a, claims, &plen);
    input = bt_arena_printf(a, "%s.%s", jwt_header_b64, bt_base64url_encode(a, payload, plen));
    bt_hmac_sha256(key, keylen, input, strlen(input), mac);
    *out = bt_arena_printf(a, "%s.%s", input, bt_base64url_encode(a, mac, sizeof(mac)));
    return BT_OK;
}

int bt_jwt_sign(struct bt_arena *a, const json_t *claims, const char *secret, char **out)
{
    return bt_jwt_sign_key(a, claims, secret, secret ? strlen(secret) : 0, out);
}

static int jwt_fail(struct bt_err *err, const char *app_code, const char *msg)
{
    bt_fail(err, BT_EAUTH, NULL, "%s", msg);
    if (err)
        snprintf(err->app_code, sizeof(err->app_code), "%s", app_code);
    return BT_EAUTH;
}

static int invalid(struct bt_err *err)
{
    return jwt_fail(err, "TOKEN_INVALID", "invalid token");
}

/* A segment is non-empty and made of the base64url alphabet only ('=' padding is not part of
 * the JWS compact serialisation). */
static bool segment_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* Decode a base64url segment and parse it as a JSON object owned by the arena. */
static json_t *segment_object(struct bt_arena *a, const char *s, size_t n)
{
    unsigned char *raw;
    size_t rawlen;
    json_t *j;

    if (bt_base64url_decode(a, s, n, &raw, &rawlen) < 0)
        return NULL;
    j = bt_json_own(a, bt_json_parse((const char *)raw, rawlen, NULL));
    return json_is_object(j) ? j : NULL;
}

/* A registered time claim: absent is fine (*present false), otherwise a JSON number. */
static bool time_claim(const json_t *claims, const char *name, bool *present, double *v)
{
    const json_t *j = json_object_get(claims, name);

    *present = j != NULL;
    if (!j)
        return true;
    if (!json_is_number(j))
        return false;
    *v = json_number_value(j);
    return true;
}

int bt_jwt_verify_key(struct bt_arena *a, const char *token, const void *key, size_t keylen,
                      int64_t now, json_t **claims_out, struct bt_err *err)
{
    const char *dot1, *dot2, *sig;
    size_t len, siglen;
    unsigned char want[32], *got;
    size_t gotlen;
    json_t *header, *claims;
    const json_t *alg, *typ;
    double exp = 0, nbf = 0, iat = 0;
    bool has_exp, has_nbf, has_iat;

    if (claims_out)
        *claims_out = NULL;
    if (!token || !key || keylen == 0)
        return invalid(err);
    len = strnlen(token, BT_JWT_MAX_LEN + 1);
    if (len > BT_JWT_MAX_LEN)
        return invalid(err);
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2)
        return invalid(err);
    sig = dot2 + 1;
    siglen = len - (size_t)(sig - token);
    if (!segment_ok(token, (size_t)(dot1 - token)) ||
        !segment_ok(dot1 + 1, (size_t)(dot2 - dot1 - 1)) || !segment_ok(sig, siglen))
        return invalid(err); /* a third '.' fails here too: it is not in the alphabet */

    /* The header bento writes, byte for byte, says HS256, JWT and nothing else: no need to
     * decode and parse it on every request. Any other header is read and checked. */
    if ((size_t)(dot1 - token) != sizeof(jwt_header_b64) - 1 ||
        memcmp(token, jwt_header_b64, sizeof(jwt_header_b64) - 1) != 0) {
        header = segment_object(a, token, (size_t)(dot1 - token));
        if (!header)
            return invalid(err);
        alg = json_object_get(header, "alg");
        if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256") != 0)
            return invalid(err);
        typ = json_object_get(header, "typ");
        if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0))
            return invalid(err);
        /* RFC 7515 4.1.11: extensions listed in crit must be understood; we understand none */
        if (json_object_get(header, "crit"))
            return invalid(err);
    }

    if (bt_base64url_decode(a, sig, siglen, &got, &gotlen) < 0 || gotlen != sizeof(want))
        return invalid(err);
    bt_hmac_sha256(key, keylen, token, (size_t)(dot2 - token), want);
    if (!bt_ct_equal(got, want, sizeof(want)))
        return invalid(err);

    claims = segment_object(a, dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!claims)
        return invalid(err);
    if (!time_claim(claims, "exp", &has_exp, &exp) || !time_claim(claims, "nbf", &has_nbf, &nbf) ||
        !time_claim(claims, "iat", &has_iat, &iat))
        return invalid(err);
    (void)iat;
    if (has_nbf && nbf > (double)now)
        return invalid(err);
    if (has_exp && exp <= (double)now)
        return jwt_fail(err, "TOKEN_EXPIRED", "token expired");
    if (claims_out)
        *claims_out = claims;
    return BT_OK;
}

int bt_jwt_verify(struct bt_arena *a, const char *token, const char *secret, int64_t now,
                  json_t **claims_out, struct bt_err *err)
{
    return bt_jwt_verify_key(a, token, secret, secret ? strlen(secret) : 0, now, claims_out, err);
}
