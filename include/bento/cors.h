/* SPDX-License-Identifier: MIT
 * cors.h - cross-origin resource sharing for one service: the allow-list of origins
 * (`S.cors_origins`) and the response headers it gives. The pipeline applies it to every
 * response and answers preflights (OPTIONS) with it; apps do not call it.
 * Owns: parsing and validating the list, deciding the headers for one origin.
 * Must not: send credentials with a wildcard, or answer an origin that is not listed with
 *           anything but the wildcard (and the wildcard never on a cookie route).
 *
 * Rules (docs/OPERATIONS.md, "CORS"):
 *   - listed origin: Access-Control-Allow-Origin echoes it, Access-Control-Allow-Credentials:
 *     true, on every route;
 *   - "*" in the list: Access-Control-Allow-Origin: * (never credentials) for other origins,
 *     except on routes flagged BT_R_COOKIES, which get no CORS headers for them;
 *   - anything else: no CORS headers (the browser then refuses the response).
 * With at least one listed origin every response carries Vary: Origin, so a cache never
 * serves one origin's answer to another.
 */
#ifndef BENTO_CORS_H
#define BENTO_CORS_H

#include <stdbool.h>
#include <stddef.h>

struct bt_res;
struct bt_cors;

#define BT_CORS_MAX_AGE 600 /* seconds a browser may cache a preflight */

/** Parse a comma-separated list of origins ("scheme://host[:port]", lower-cased, default
 *  ports dropped) and "*". Blanks around items are ignored. An empty or NULL list gives
 *  *out = NULL: no CORS at all. Returns 0, or -1 with a message naming the bad item in
 *  why (why_len bytes). Free with bt_cors_free. */
int bt_cors_new(const char *list, struct bt_cors **out, char *why, size_t why_len);
void bt_cors_free(struct bt_cors *c);

/** Headers for an actual (non-preflight) response to a request with Origin `origin` (NULL
 *  when absent) on a route that authenticates with cookies or not. c may be NULL (no-op). */
void bt_cors_headers(const struct bt_cors *c, const char *origin, bool cookies, struct bt_res *rs);

/** Headers for a preflight: Origin `origin`, Access-Control-Request-Headers `req_headers`
 *  (may be NULL), `methods` the path's methods ("GET, POST"). Gives the origin headers as
 *  above plus Access-Control-Allow-Methods, Access-Control-Allow-Headers (the requested
 *  headers that are acceptable, see bt_cors_header_ok), Access-Control-Max-Age. c may be
 *  NULL (no-op). */
void bt_cors_preflight(const struct bt_cors *c, const char *origin, bool cookies,
                       const char *methods, const char *req_headers, struct bt_res *rs);

/** Is a request header (any case) one a cross-origin caller may send? Accept,
 *  Accept-Language, Content-Language, Content-Type, Authorization, X-Request-Id,
 *  X-CSRF-Token, X-Requested-With. Returns its canonical spelling, or NULL. */
const char *bt_cors_header_ok(const char *name, size_t n);

#endif
