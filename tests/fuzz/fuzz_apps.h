/* SPDX-License-Identifier: MIT
 * fuzz_apps.h - the real validation tables of every linked app (bt_apps[], src/apps.h), for
 * the targets that run untrusted input through them.
 */
#ifndef BENTO_FUZZ_APPS_H
#define BENTO_FUZZ_APPS_H

#include "apps.h"

#include <bento/route.h>

enum fuzz_schema_kind { FUZZ_BODY, FUZZ_QUERY };

/* The distinct body (or query) schemas of every route of every linked app, into out (at most
 * cap); returns how many. */
static inline size_t fuzz_app_schemas(enum fuzz_schema_kind kind, const struct bt_schema **out,
                                      size_t cap)
{
    size_t n = 0;

    for (size_t a = 0; bt_apps[a]; a++) {
        for (const struct bt_route *r = bt_apps[a]->routes; r->path; r++) {
            const struct bt_schema *s = kind == FUZZ_BODY ? r->body : r->query;
            size_t k = 0;
            if (!s || (s->flags & BT_S_MULTIPART) /* documented, not checked by the core */)
                continue;
            while (k < n && out[k] != s)
                k++;
            if (k == n && n < cap)
                out[n++] = s;
        }
    }
    return n;
}

#endif
