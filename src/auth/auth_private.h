/* SPDX-License-Identifier: MIT
 * auth_private.h - helpers shared by the files of src/auth/ only (not part of the API).
 */
#ifndef BENTO_AUTH_PRIVATE_H
#define BENTO_AUTH_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

/* Decode base64 (url == false) or base64url (url == true) with the rules of bt_base64_decode
 * into out (cap bytes). Returns the decoded length, or -1 when s is invalid or does not fit. */
long bt_auth_b64_decode_buf(const char *s, size_t n, bool url, unsigned char *out, size_t cap);

#endif
