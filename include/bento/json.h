/* SPDX-License-Identifier: MIT
 * json.h - Jansson helpers: parsing with bento's rules, compact dumping into an arena,
 * JSON-pointer lookups and subset matching (tests).
 */
#ifndef BENTO_JSON_H
#define BENTO_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct bt_arena;

/** Parse a body. Rejects invalid UTF-8, NUL bytes, duplicate keys are last-wins, depth is
 *  limited to 64. Returns a new reference or NULL with a short reason in why (may be NULL). */
json_t *bt_json_parse(const char *p, size_t n, const char **why);

/** Compact dump (no spaces, UTF-8 kept, keys in insertion order) into the arena. */
char *bt_json_dump(struct bt_arena *a, const json_t *j, size_t *len);

/** JSON pointer ("/data/id") lookup, borrowed; NULL if absent. */
json_t *bt_json_at(const json_t *root, const char *pointer);
/** String/integer at a pointer, or NULL / dflt. */
const char *bt_json_str(const json_t *root, const char *pointer);
long long bt_json_int(const json_t *root, const char *pointer, long long dflt);

/** True when every member of pattern (parsed from JSON text) is present in actual with an
 *  equal value, recursively for objects; arrays must match element by element (same length
 *  not required: each pattern element must match the element at the same index). */
bool bt_json_subset(const json_t *actual, const char *pattern);
bool bt_json_subset_j(const json_t *actual, const json_t *pattern);

#endif
