/* SPDX-License-Identifier: MIT
 * image.h - recognise an uploaded image by its bytes and read its size.
 * Owns: the container grammar of JPEG, PNG, GIF and WebP, as far as needed to name the
 *       format, find the dimensions and refuse truncated or malformed files.
 * Must not: trust a file name or a declared Content-Type, decode pixels, or read outside
 *           [p, p+n).
 */
#ifndef BENTO_IMAGE_H
#define BENTO_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define BT_IMAGE_MAX_DIM 65535

enum bt_image_format {
    BT_IMG_NONE = 0,
    BT_IMG_JPEG,
    BT_IMG_PNG,
    BT_IMG_GIF,
    BT_IMG_WEBP,
};

struct bt_image_info {
    enum bt_image_format format;
    const char *mime; /* "image/jpeg", "image/png", "image/gif", "image/webp" (static) */
    const char *ext;  /* "jpg", "png", "gif", "webp" (static; yunshui's "format") */
    uint32_t width;   /* pixels, 1..65535 */
    uint32_t height;
    const char *reason; /* on BT_EINVAL: why, lower-case english (static); else NULL */
};

/** Identify the image in p[0..n) by its signature and container structure.
 *  Returns BT_OK with out filled, or BT_EINVAL (out->format BT_IMG_NONE, out->reason set)
 *  when the bytes are not one of the four formats, the header is incomplete, the file is
 *  truncated (PNG must end with IEND, JPEG with EOI, GIF with its trailer, WebP's RIFF size
 *  must equal n), or a dimension is 0 or over 65535. Checks:
 *    PNG   signature, IHDR first with a valid CRC and legal depth/colour type, every chunk
 *          inside the file, an IDAT, IEND last
 *    JPEG  SOI, marker segments walked (fill bytes allowed) to SOF0..SOF15 (not DHT, JPG,
 *          DAC) before SOS, EOI at the end
 *    GIF   GIF87a/GIF89a logical screen, blocks walked to the trailer at the end
 *    WebP  RIFF/WEBP, chunks walked; VP8 (key frame), VP8L or VP8X canvas size */
int bt_image_sniff(const void *p, size_t n, struct bt_image_info *out);

/** Name of a format ("jpeg", "png", ...); "none" for BT_IMG_NONE. */
const char *bt_image_format_name(enum bt_image_format f);

#endif
