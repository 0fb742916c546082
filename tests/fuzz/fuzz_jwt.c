/* SPDX-License-Identifier: MIT
 * fuzz_jwt.c - bearer tokens through bt_jwt_verify (src/auth/jwt.c). The first byte picks
 * the mode:
 *   'T' (or anything but 'S')  the rest is the token, verified as it stands (a forger's view:
 *        it almost never gets past the signature);
 *   'S'  the rest is two lines, header JSON and payload bytes, which the target encodes and
 *        signs with the verifier's own key: header and payload checks behind the signature
 *        are reached (a holder of the key, or a bug that lets a signature through).
 * Invariants: BT_OK with an object of claims, or BT_EAUTH with TOKEN_EXPIRED or
 * TOKEN_INVALID; the same answer with a NULL err and no claims wanted.
 * Corpus: corpus/jwt.
 */
#include "fuzz.h"

#include <bento/arena.h>
#include <bento/auth.h>
#include <bento/err.h>

#define SECRET "fuzz-secret-0123456789"
#define NOW 1700000000

static void verify(struct bt_arena *a, const char *token)
{
    json_t *claims = (json_t *)1;
    struct bt_err err;
    int rc;

    bt_err_clear(&err);
    rc = bt_jwt_verify(a, token, SECRET, NOW, &claims, &err);
    if (rc == BT_OK) {
        FUZZ_CHECK(json_is_object(claims));
    } else {
        FUZZ_CHECK(rc == BT_EAUTH && err.code == BT_EAUTH);
        FUZZ_CHECK(!strcmp(err.app_code, "TOKEN_EXPIRED") ||
                   !strcmp(err.app_code, "TOKEN_INVALID"));
    }
    /* the same with a NULL err and no claims wanted: the same answer */
    FUZZ_CHECK(bt_jwt_verify(a, token, SECRET, NOW, NULL, NULL) == rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    struct bt_arena *a = bt_arena_new();
    char mode = size ? (char)data[0] : 'T';

    if (size) {
        in.p++;
        in.n--;
    }
    if (mode == 'S') {
        size_t hl, pl;
        char *h = fuzz_line(&in, &hl);
        char *p = fuzz_rest(&in, &pl);
        char *signing = bt_arena_printf(a, "%s.%s", bt_base64url_encode(a, h, hl),
                                        bt_base64url_encode(a, p, pl));
        unsigned char mac[32];

        bt_hmac_sha256(SECRET, strlen(SECRET), signing, strlen(signing), mac);
        verify(a, bt_arena_printf(a, "%s.%s", signing, bt_base64url_encode(a, mac, sizeof mac)));
        free(h);
        free(p);
    } else {
        size_t n;
        char *token = fuzz_rest_str(&in, &n);
        verify(a, token);
        free(token);
    }
    bt_arena_free(a);
    return 0;
}
