/* SPDX-License-Identifier: MIT
 * image.c - image format and size from the bytes (JPEG, PNG, GIF, WebP).
 * Owns: the minimal container parsing for the four formats; written from the format
 *       specifications (PNG: ISO/IEC 15948, JPEG: ITU T.81 annex B, GIF89a, WebP RIFF
 *       container), no third-party code.
 * Must not: read outside [p, p+n) (every read below is preceded by a bounds check on the
 *           remaining length, never on a pointer past the end), decode pixel data, or trust
 *           names and declared types.
 *
 * The checks are structural and linear in the number of chunks/segments/blocks, so a 5 MB
 * upload costs microseconds: enough to refuse a renamed text file, a truncated upload or
 * a header that lies about its size, without the cost and attack surface of decoding.
 */
#include <stdbool.h>
#include <string.h>

#include <bento/err.h>
#include <bento/image.h>

static uint32_t be16(const unsigned char *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le16(const unsigned char *p)
{
    return (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le24(const unsigned char *p)
{
    return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int bad(struct bt_image_info *out, const char *why)
{
    out->format = BT_IMG_NONE;
    out->mime = NULL;
    out->ext = NULL;
    out->width = out->height = 0;
    out->reason = why;
    return BT_EINVAL;
}

static int found(struct bt_image_info *out, enum bt_image_format f, uint32_t w, uint32_t h)
{
    static const char *const mimes[] = {NULL, "image/jpeg", "image/png", "image/gif", "image/webp"};
    static const char *const exts[] = {NULL, "jpg", "png", "gif", "webp"};

    if (w == 0 || h == 0)
        return bad(out, "image has a zero dimension");
    if (w > BT_IMAGE_MAX_DIM || h > BT_IMAGE_MAX_DIM)
        return bad(out, "image dimension over 65535 pixels");
    out->format = f;
    out->mime = mimes[f];
    out->ext = exts[f];
    out->width = w;
    out->height = h;
    out->reason = NULL;
    return BT_OK;
}

/* ---------------------------------------------------------------------------------------
 * PNG
 * ------------------------------------------------------------------------------------- */

/* CRC-32 of PNG (ISO 3309, reflected polynomial 0xEDB88320), bitwise: it only ever runs
 * over the 17 bytes of IHDR, so a table is not worth its cache lines. */
static uint32_t crc32_png(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

static bool png_depth_ok(unsigned color, unsigned depth)
{
    switch (color) {
    case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2:
    case 4:
    case 6: return depth == 8 || depth == 16;
    default: return false;
    }
}

static int sniff_png(const unsigned char *p, size_t n, struct bt_image_info *out)
{
    size_t pos = 8;
    bool idat = false;
    uint32_t w, h;

    /* signature, IHDR (8 + 13 + 4), IEND (12) */
    if (n < 8 + 25 + 12)
        return bad(out, "png is truncated");
    if (be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) != 0)
        return bad(out, "png does not start with an IHDR chunk");
    if (crc32_png(p + 12, 17) != be32(p + 29))
        return bad(out, "png IHDR checksum mismatch");
    w = be32(p + 16);
    h = be32(p + 20);
    if (!png_depth_ok(p[25], p[24]) || p[26] != 0 || p[27] != 0 || p[28] > 1)
        return bad(out, "png IHDR has an invalid depth, colour type or method");

    while (n - pos >= 12) {
        uint32_t len = be32(p + pos);
        const unsigned char *type = p + pos + 4;

        if (len > 0x7fffffffu)
            return bad(out, "png chunk length out of range");
        for (int i = 0; i < 4; i++)
            if (!((type[i] >= 'a' && type[i] <= 'z') || (type[i] >= 'A' && type[i] <= 'Z')))
                return bad(out, "png chunk type is not four letters");
        if (len > n - pos - 12)
            return bad(out, "png is truncated");
        if (memcmp(type, "IHDR", 4) == 0 && pos != 8)
            return bad(out, "png has a second IHDR");
        if (memcmp(type, "IDAT", 4) == 0)
            idat = true;
        if (memcmp(type, "IEND", 4) == 0) {
            if (len != 0 || be32(p + pos + 8) != 0xae426082u)
                return bad(out, "png IEND chunk is malformed");
            if (pos + 12 != n)
                return bad(out, "png has data after IEND");
            if (!idat)
                return bad(out, "png has no image data");
            return found(out, BT_IMG_PNG, w, h);
        }
        pos += 12 + (size_t)len;
    }
    return bad(out, "png is truncated (no IEND chunk)");
}

/* ---------------------------------------------------------------------------------------
 * JPEG
 * ------------------------------------------------------------------------------------- */

static bool jpeg_is_sof(unsigned m)
{
    /* C4 DHT, C8 JPG (reserved), CC DAC share the range but are not frame headers */
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

static int sniff_jpeg(const unsigned char *p, size_t n, struct bt_image_info *out)
{
    size_t pos = 2;

    if (n < 4 || p[n - 2] != 0xff || p[n - 1] != 0xd9)
        return bad(out, "jpeg is truncated (no EOI marker at the end)");
    for (;;) {
        unsigned m;
        size_t len;

        if (pos >= n || p[pos] != 0xff)
            return bad(out, "jpeg marker expected");
        while (pos < n && p[pos] == 0xff) /* fill bytes before a marker */
            pos++;
        if (pos >= n)
            return bad(out, "jpeg is truncated");
        m = p[pos++];
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7))
            continue; /* TEM, RSTn: no length */
        if (m == 0x00 || m == 0xd8)
            return bad(out, "jpeg has an invalid marker");
        if (m == 0xd9 || m == 0xda)
            return bad(out, "jpeg has no frame header before its scan");
        if (n - pos < 2)
            return bad(out, "jpeg is truncated");
        len = be16(p + pos);
        if (len < 2)
            return bad(out, "jpeg segment length out of range");
        if (len > n - pos)
            return bad(out, "jpeg is truncated");
        if (jpeg_is_sof(m)) {
            /* Lf P Y X Nf, then 3 bytes per component */
            unsigned nf;
            if (len < 8)
                return bad(out, "jpeg frame header is too short");
            nf = p[pos + 7];
            if (nf == 0 || len != 8 + 3 * (size_t)nf || p[pos + 2] == 0)
                return bad(out, "jpeg frame header is malformed");
            /* Y (lines) may legally be 0 with a DNL segment later; we refuse it */
            return found(out, BT_IMG_JPEG, be16(p + pos + 5), be16(p + pos + 3));
        }
        pos += len;
    }
}

/* ---------------------------------------------------------------------------------------
 * GIF
 * ------------------------------------------------------------------------------------- */

/* Skip data sub-blocks (size byte, size bytes, ..., 0). Returns false if truncated. */
static bool gif_skip_blocks(const unsigned char *p, size_t n, size_t *pos)
{
    for (;;) {
        unsigned sz;
        if (*pos >= n)
            return false;
        sz = p[(*pos)++];
        if (sz == 0)
            return true;
        if (sz > n - *pos)
            return false;
        *pos += sz;
    }
}

static int sniff_gif(const unsigned char *p, size_t n, struct bt_image_info *out)
{
    size_t pos = 13;
    unsigned images = 0;

    if (n < 13 + 1)
        return bad(out, "gif is truncated");
    if (p[10] & 0x80)
        pos += 3u * (2u << (p[10] & 7));
    for (;;) {
        unsigned b;
        if (pos >= n)
            return bad(out, "gif is truncated (no trailer)");
        b = p[pos++];
        if (b == 0x3b) {
            if (pos != n)
                return bad(out, "gif has data after its trailer");
            if (!images)
                return bad(out, "gif has no image");
            return found(out, BT_IMG_GIF, le16(p + 6), le16(p + 8));
        } else if (b == 0x2c) {
            unsigned flags;
            if (n - pos < 9 + 1)
                return bad(out, "gif is truncated");
            flags = p[pos + 8];
            pos += 9;
            if (flags & 0x80) {
                size_t lct = 3u * (2u << (flags & 7));
                if (lct > n - pos)
                    return bad(out, "gif is truncated");
                pos += lct;
            }
            if (pos >= n)
                return bad(out, "gif is truncated");
            if (p[pos] < 1 || p[pos] > 11)
                return bad(out, "gif lzw code size out of range");
            pos++;
            if (!gif_skip_blocks(p, n, &pos))
                return bad(out, "gif is truncated");
            images++;
        } else if (b == 0x21) {
            if (pos >= n)
                return bad(out, "gif is truncated");
            pos++; /* label */
            if (!gif_skip_blocks(p, n, &pos))
                return bad(out, "gif is truncated");
        } else {
            return bad(out, "gif has an unknown block");
        }
    }
}

/* ---------------------------------------------------------------------------------------
 * WebP
 * ------------------------------------------------------------------------------------- */

static int sniff_webp(const unsigned char *p, size_t n, struct bt_image_info *out)
{
    size_t pos = 12;
    uint32_t w = 0, h = 0;
    bool first = true, extended = false, has_image = false;

    if ((uint64_t)le32(p + 4) + 8 != n)
        return bad(out, "webp RIFF size does not match the file (truncated?)");
    if (n - pos < 8)
        return bad(out, "webp is truncated");
    while (pos < n) {
        const unsigned char *fourcc, *d;
        uint32_t csize;

        if (n - pos < 8)
            return bad(out, "webp is truncated");
        fourcc = p + pos;
        csize = le32(p + pos + 4);
        d = p + pos + 8;
        if ((size_t)csize + (csize & 1u) > n - pos - 8)
            return bad(out, "webp chunk runs past the end of the file");
        if (memcmp(fourcc, "VP8 ", 4) == 0 || memcmp(fourcc, "VP8L", 4) == 0 ||
            memcmp(fourcc, "ANMF", 4) == 0)
            has_image = true;
        if (first) {
            if (memcmp(fourcc, "VP8 ", 4) == 0) {
                uint32_t tag;
                if (csize < 10)
                    return bad(out, "webp VP8 frame header is truncated");
                tag = le24(d);
                if (tag & 1u)
                    return bad(out, "webp VP8 data does not start with a key frame");
                if (d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a)
                    return bad(out, "webp VP8 start code missing");
                w = le16(d + 6) & 0x3fff;
                h = le16(d + 8) & 0x3fff;
            } else if (memcmp(fourcc, "VP8L", 4) == 0) {
                uint32_t bits;
                if (csize < 5)
                    return bad(out, "webp VP8L header is truncated");
                if (d[0] != 0x2f)
                    return bad(out, "webp VP8L signature missing");
                bits = le32(d + 1);
                if (bits >> 29)
                    return bad(out, "webp VP8L version is not 0");
                w = (bits & 0x3fff) + 1;
                h = ((bits >> 14) & 0x3fff) + 1;
            } else if (memcmp(fourcc, "VP8X", 4) == 0) {
                if (csize < 10)
                    return bad(out, "webp VP8X header is truncated");
                w = le24(d + 4) + 1;
                h = le24(d + 7) + 1;
                extended = true;
            } else {
                return bad(out, "webp does not start with a VP8, VP8L or VP8X chunk");
            }
            first = false;
        }
        pos += 8 + (size_t)csize + (csize & 1u);
    }
    if (extended && !has_image)
        return bad(out, "webp has no image data");
    return found(out, BT_IMG_WEBP, w, h);
}

/* ---------------------------------------------------------------------------------------
 * Public
 * ------------------------------------------------------------------------------------- */

int bt_image_sniff(const void *data, size_t n, struct bt_image_info *out)
{
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const unsigned char *p = data;

    if (!p || n < 4)
        return bad(out, "not an image (too short)");
    if (n >= 8 && memcmp(p, png_sig, 8) == 0)
        return sniff_png(p, n, out);
    if (p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return sniff_jpeg(p, n, out);
    if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return sniff_gif(p, n, out);
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return sniff_webp(p, n, out);
    return bad(out, "not a JPEG, PNG, GIF or WebP image");
}

const char *bt_image_format_name(enum bt_image_format f)
{
    switch (f) {
    case BT_IMG_JPEG: return "jpeg";
    case BT_IMG_PNG: return "png";
    case BT_IMG_GIF: return "gif";
    case BT_IMG_WEBP: return "webp";
    case BT_IMG_NONE: break;
    }
    return "none";
}
