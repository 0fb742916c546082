/* SPDX-License-Identifier: MIT
 * client.h - outbound HTTP (libcurl) for external services: LLM providers, Telegram, SMTP
 * gateways, upstream APIs. Every base URL is configurable; nothing here knows a host name.
 * Thread-safe: each call uses its own easy handle.
 */
#ifndef BENTO_CLIENT_H
#define BENTO_CLIENT_H

#include <stddef.h>

#include <jansson.h>

struct bt_arena;
struct bt_err;

struct bt_client_resp {
    long status; /* HTTP status, 0 if none was received */
    char *body;  /* arena-owned, NUL-terminated */
    size_t len;
    json_t *json; /* parsed body when it is JSON (arena-owned), else NULL */
};

/** Send method url with an optional JSON body (borrowed) and extra headers ("Name: value",
 *  NULL-terminated list, may be NULL). Responses larger than max_bytes fail.
 *  Returns BT_OK when a response arrived (any status), BT_EUPSTREAM on network failure or
 *  timeout (err filled, no secret in the message). */
int bt_client_json(struct bt_arena *a, const char *method, const char *url,
                   const char *const *headers, const json_t *body, long timeout_ms,
                   size_t max_bytes, struct bt_client_resp *out, struct bt_err *err);

/** Call once at start-up (curl_global_init) and at exit. */
void bt_client_global_init(void);
void bt_client_global_cleanup(void);

#endif
