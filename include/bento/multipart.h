/* SPDX-License-Identifier: MIT
 * multipart.h - multipart/form-data (RFC 7578 over RFC 2046) parsed from a complete
 * in-memory body: what a route flagged BT_R_RAW_BODY finds in rq->body / rq->body_len.
 * Owns: nothing; part metadata is arena-owned, part data points into the body.
 * Must not: copy part data, trust a part's filename or declared type (a filename is text
 * for display only; never build a path from it; sniff content with bt_image_sniff).
 */
#ifndef BENTO_MULTIPART_H
#define BENTO_MULTIPART_H

#include <stddef.h>

#include <bento/arena.h>
#include <bento/err.h>
#include <bento/http.h>

#define BT_MULTIPART_MAX_PARTS 64
#define BT_MULTIPART_MAX_HEADER 8192 /* bytes of one part's header block */
#define BT_MULTIPART_MAX_BOUNDARY 70 /* RFC 2046 */

struct bt_multipart_part {
    const char *name;         /* Content-Disposition name, UTF-8, arena-owned */
    const char *filename;     /* filename* (RFC 5987, preferred) or filename, UTF-8; NULL
                                 when the part is not a file; may be "" */
    const char *content_type; /* the part's Content-Type as sent, NULL when absent
                                 (RFC 7578 then means text/plain) */
    const char *data;         /* the part's bytes, pointing INTO the body (binary-safe, not
                                 NUL-terminated) */
    size_t len;
    struct bt_kv *headers; /* every header of the part, names lower-cased, arena-owned */
    size_t nheaders;
};

/** Parse body (len bytes, may contain NULs) sent with the given Content-Type header value.
 *  The Content-Type must be multipart/form-data with a boundary parameter (quoted or not,
 *  1-70 characters from RFC 2046's set). Each part needs Content-Disposition: form-data
 *  with a name. Returns BT_OK with *parts (arena array, in body order) and *nparts (0 for
 *  an empty form), or:
 *    BT_EMEDIATYPE  content_type is missing or not multipart/form-data
 *    BT_EINVAL      malformed: missing or bad boundary, no opening or closing delimiter,
 *                   a part header block over 8 KiB or without its blank line, a bad header
 *                   line, a part without a form-data name, a name or filename that is not
 *                   UTF-8, more than 64 parts
 *  err->msg then says which, in english. On failure *parts is NULL and *nparts 0. The body
 *  must outlive the parts (it does: both live for the request). */
int bt_multipart_parse(struct bt_arena *a, const char *content_type, const char *body, size_t len,
                       struct bt_multipart_part **parts, size_t *nparts, struct bt_err *err);

/** The first part named name, NULL if none. */
const struct bt_multipart_part *bt_multipart_find(const struct bt_multipart_part *parts, size_t n,
                                                  const char *name);

#endif
