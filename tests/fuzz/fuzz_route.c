/* SPDX-License-Identifier: MIT
 * fuzz_route.c - request paths through the router (src/http/router.c) of every linked app,
 * as the server hands them over: the raw path is percent-decoded (bt_url_decode, form off;
 * a path that does not decode to UTF-8 without NULs is a 404) and matched, relative to the
 * app's mount, with each method. The first input byte picks the method tried first; the
 * rest is the raw path. The raw bytes are matched undecoded as well (the router must take
 * any string). Invariants: OK gives a route of the table, its index, at most BT_MAX_PARAMS
 * parameters, each named (and UTF-8 when the path is); NO_METHOD gives the allowed methods; NO_PATH
 * nothing. Corpus: corpus/route.
 */
#include "fuzz.h"
#include "fuzz_apps.h"

#include <bento/arena.h>
#include <bento/err.h>
#include <bento/http.h>

static struct bt_router *routers[16];
static size_t nrouters;

static void init(void)
{
    for (size_t i = 0; bt_apps[i] && nrouters < 16; i++) {
        struct bt_err err;
        bt_err_clear(&err);
        routers[nrouters] = bt_router_new(bt_apps[i]->routes, &err);
        FUZZ_CHECK(routers[nrouters] != NULL);
        nrouters++;
    }
}

static void match(struct bt_arena *a, size_t app, enum bt_method m, const char *path, bool utf8)
{
    const struct bt_router *r = routers[app];
    const struct bt_route *route = NULL;
    struct bt_kv params[BT_MAX_PARAMS];
    size_t nparams = 0;
    int index = -1;
    const char *allow = NULL;
    enum bt_match res = bt_router_match(r, a, m, path, &route, &index, params, &nparams, &allow);

    if (res == BT_MATCH_OK) {
        FUZZ_CHECK(route != NULL && index >= 0 && (size_t)index < bt_router_count(r));
        FUZZ_CHECK(bt_router_at(r, (size_t)index) == route &&
                   (route->method == m || (m == BT_HEAD && route->method == BT_GET)));
        FUZZ_CHECK(nparams <= BT_MAX_PARAMS);
        for (size_t i = 0; i < nparams; i++) {
            FUZZ_CHECK(params[i].name && params[i].name[0] && params[i].value);
            FUZZ_CHECK(!utf8 || bt_utf8_len(params[i].value, strlen(params[i].value)) >= 0);
        }
    } else if (res == BT_MATCH_NO_METHOD) {
        FUZZ_CHECK(allow != NULL && allow[0] != '\0');
    } else {
        FUZZ_CHECK(res == BT_MATCH_NO_PATH);
    }
}

static void all_methods(struct bt_arena *a, size_t app, unsigned first, const char *path, bool utf8)
{
    for (unsigned k = 0; k < BT_METHOD_OTHER; k++) /* BT_GET .. BT_METHOD_OTHER */
        match(a, app, (enum bt_method)(BT_GET + (first + k) % BT_METHOD_OTHER), path, utf8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    unsigned first = size ? data[0] : 0;
    size_t n;
    char *raw;
    struct bt_arena *a = bt_arena_new();
    char *path;

    if (!nrouters)
        init();
    if (size) {
        in.p++;
        in.n--;
    }
    raw = fuzz_rest_str(&in, &n);
    path = bt_url_decode(a, raw, n, false);
    if (path) {
        FUZZ_CHECK(bt_utf8_len(path, strlen(path)) >= 0);
    }
    for (size_t i = 0; i < nrouters; i++) {
        const char *mount = bt_apps[i]->mount ? bt_apps[i]->mount : "";
        size_t mlen = strlen(mount);

        if (path && (!mlen || (!strncmp(path, mount, mlen) && (!path[mlen] || path[mlen] == '/'))))
            all_methods(a, i, first, path[mlen] ? path + mlen : "/", true);
        if (strlen(raw) == n)
            all_methods(a, i, first, raw, false);
    }
    bt_arena_free(a);
    free(raw);
    return 0;
}
