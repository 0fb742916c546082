/* SPDX-License-Identifier: MIT
 * test_image.c - image sniffing by bytes (src/core/image.c), for yunshui's POST
 * /upload/image: "JPEG, PNG, GIF, WebP recognised by their bytes, real width and height,
 * anything else -> 422". Every image here is built byte by byte in the test (PNG with a
 * stored deflate block and real CRCs), then mutated: renamed text, every truncation, zero
 * and oversized dimensions, lying headers.
 */
#include "bt_test.h"

#include <stdlib.h>
#include <string.h>

#include <bento/image.h>

/* ---- a byte builder ---- */
struct bytes {
    unsigned char p[4096];
    size_t n;
};

static void put(struct bytes *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof(b->p));
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put1(struct bytes *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}

static void put_be16(struct bytes *b, uint32_t v)
{
    put1(b, v >> 8);
    put1(b, v);
}

static void put_be32(struct bytes *b, uint32_t v)
{
    put_be16(b, v >> 16);
    put_be16(b, v & 0xffff);
}

static void put_le16(struct bytes *b, uint32_t v)
{
    put1(b, v);
    put1(b, v >> 8);
}

static void put_le24(struct bytes *b, uint32_t v)
{
    put_le16(b, v & 0xffff);
    put1(b, v >> 16);
}

static void put_le32(struct bytes *b, uint32_t v)
{
    put_le16(b, v & 0xffff);
    put_le16(b, v >> 16);
}

/* ---- PNG ---- */

static uint32_t crc32_test(const unsigned char *p, size_t n)
{
    static uint32_t table[256];
    uint32_t c;

    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    c = 0xffffffffu;
    for (size_t i = 0; i < n; i++)
        c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static void png_chunk(struct bytes *b, const char *type, const unsigned char *data, size_t n)
{
    size_t start;
    put_be32(b, (uint32_t)n);
    start = b->n;
    put(b, type, 4);
    if (n)
        put(b, data, n);
    put_be32(b, crc32_test(b->p + start, 4 + n));
}

/* A real w x h 8-bit RGB PNG: zlib stream with one stored (uncompressed) deflate block. */
static void build_png(struct bytes *b, uint32_t w, uint32_t h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[13], raw[512], z[600];
    size_t rn = 0, zn = 0;
    uint32_t s1 = 1, s2 = 0;

    b->n = 0;
    put(b, sig, 8);
    ihdr[0] = (unsigned char)(w >> 24);
    ihdr[1] = (unsigned char)(w >> 16);
    ihdr[2] = (unsigned char)(w >> 8);
    ihdr[3] = (unsigned char)w;
    ihdr[4] = (unsigned char)(h >> 24);
    ihdr[5] = (unsigned char)(h >> 16);
    ihdr[6] = (unsigned char)(h >> 8);
    ihdr[7] = (unsigned char)h;
    ihdr[8] = 8;  /* depth */
    ihdr[9] = 2;  /* truecolour */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* no interlace */
    png_chunk(b, "IHDR", ihdr, 13);

    /* scanlines: filter byte 0 + RGB; tiny images only, huge ones get a token IDAT */
    if (w * 3 + 1 <= 64 && h <= 8) {
        for (uint32_t y = 0; y < h; y++) {
            raw[rn++] = 0;
            for (uint32_t x = 0; x < w * 3; x++)
                raw[rn++] = (unsigned char)(x * 40 + y * 90);
        }
    } else {
        raw[rn++] = 0;
    }
    z[zn++] = 0x78; /* CMF: deflate, 32K window */
    z[zn++] = 0x01; /* FLG: check bits, (0x7801 % 31 == 0) */
    z[zn++] = 0x01; /* BFINAL=1, BTYPE=00 stored */
    z[zn++] = (unsigned char)(rn & 0xff);
    z[zn++] = (unsigned char)(rn >> 8);
    z[zn++] = (unsigned char)(~rn & 0xff);
    z[zn++] = (unsigned char)((~rn >> 8) & 0xff);
    memcpy(z + zn, raw, rn);
    zn += rn;
    for (size_t i = 0; i < rn; i++) {
        s1 = (s1 + raw[i]) % 65521;
        s2 = (s2 + s1) % 65521;
    }
    z[zn++] = (unsigned char)(s2 >> 8);
    z[zn++] = (unsigned char)s2;
    z[zn++] = (unsigned char)(s1 >> 8);
    z[zn++] = (unsigned char)s1;
    png_chunk(b, "tEXt", (const unsigned char *)"Comment\0bento", 13);
    png_chunk(b, "IDAT", z, zn);
    png_chunk(b, "IEND", NULL, 0);
}

/* ---- JPEG ---- */

/* SOI, APP0 JFIF, DQT, [DHT], SOFn, DHT, SOS + entropy data with a stuffed FF, EOI. */
static void build_jpeg(struct bytes *b, unsigned sof, uint32_t w, uint32_t h, bool dht_first,
                       bool fill)
{
    unsigned char q[65] = {0};

    b->n = 0;
    put1(b, 0xff);
    put1(b, 0xd8);
    put1(b, 0xff);
    put1(b, 0xe0);
    put_be16(b, 16);
    put(b, "JFIF\0", 5);
    put1(b, 1);
    put1(b, 1);
    put1(b, 0);
    put_be16(b, 1);
    put_be16(b, 1);
    put1(b, 0);
    put1(b, 0);
    put1(b, 0xff);
    put1(b, 0xdb);
    put_be16(b, 2 + 65);
    for (int i = 1; i < 65; i++)
        q[i] = 1;
    put(b, q, 65);
    if (dht_first) {
        /* a DHT whose 16 count bytes would read as a plausible "size" if taken for a SOF */
        put1(b, 0xff);
        put1(b, 0xc4);
        put_be16(b, 2 + 17 + 1);
        put1(b, 0x00);
        for (int i = 0; i < 16; i++)
            put1(b, i == 0 ? 1 : 0);
        put1(b, 0x00);
    }
    if (fill) {
        put1(b, 0xff);
        put1(b, 0xff);
        put1(b, 0xff);
    }
    put1(b, 0xff);
    put1(b, sof);
    put_be16(b, 8 + 3 * 3);
    put1(b, 8);
    put_be16(b, h);
    put_be16(b, w);
    put1(b, 3);
    for (unsigned c = 1; c <= 3; c++) {
        put1(b, c);
        put1(b, 0x11);
        put1(b, 0);
    }
    put1(b, 0xff);
    put1(b, 0xc4);
    put_be16(b, 2 + 17 + 1);
    put1(b, 0x00);
    for (int i = 0; i < 16; i++)
        put1(b, i == 0 ? 1 : 0);
    put1(b, 0x00);
    put1(b, 0xff);
    put1(b, 0xda);
    put_be16(b, 6 + 2 * 3);
    put1(b, 3);
    for (unsigned c = 1; c <= 3; c++) {
        put1(b, c);
        put1(b, 0x00);
    }
    put1(b, 0);
    put1(b, 63);
    put1(b, 0);
    put(b, "\x12\x34\xff\x00\x56\xff\xd0\x78", 8); /* entropy data, stuffing, RST0 */
    put1(b, 0xff);
    put1(b, 0xd9);
}

/* ---- GIF ---- */

static void build_gif(struct bytes *b, const char *version, uint32_t w, uint32_t h)
{
    b->n = 0;
    put(b, version, 6);
    put_le16(b, w);
    put_le16(b, h);
    put1(b, 0x80); /* global colour table, 2 entries */
    put1(b, 0);
    put1(b, 0);
    put(b, "\x00\x00\x00\xff\xff\xff", 6);
    /* graphic control extension */
    put(b, "\x21\xf9\x04\x00\x00\x00\x00\x00", 8);
    /* image descriptor with a local colour table of 2 entries */
    put1(b, 0x2c);
    put_le16(b, 0);
    put_le16(b, 0);
    put_le16(b, w);
    put_le16(b, h);
    put1(b, 0x80);
    put(b, "\xff\x00\x00\x00\xff\x00", 6);
    put1(b, 2); /* LZW minimum code size */
    put1(b, 4);
    put(b, "\x84\x8f\x3b\x05", 4); /* data containing 0x3b, which is not the trailer */
    put1(b, 0);
    /* a comment extension */
    put(b, "\x21\xfe\x05hello\x00", 9);
    put1(b, 0x3b);
}

/* ---- WebP ---- */

static void riff_start(struct bytes *b)
{
    b->n = 0;
    put(b, "RIFF", 4);
    put_le32(b, 0); /* patched by riff_end */
    put(b, "WEBP", 4);
}

static void riff_end(struct bytes *b)
{
    uint32_t size = (uint32_t)(b->n - 8);
    b->p[4] = (unsigned char)size;
    b->p[5] = (unsigned char)(size >> 8);
    b->p[6] = (unsigned char)(size >> 16);
    b->p[7] = (unsigned char)(size >> 24);
}

static void webp_chunk(struct bytes *b, const char *fourcc, const unsigned char *d, size_t n)
{
    put(b, fourcc, 4);
    put_le32(b, (uint32_t)n);
    put(b, d, n);
    if (n & 1)
        put1(b, 0);
}

static void vp8l_payload(unsigned char d[9], uint32_t w, uint32_t h)
{
    uint32_t bits = (w - 1) | (h - 1) << 14 | 1u << 28; /* alpha hint, version 0 */
    d[0] = 0x2f;
    d[1] = (unsigned char)bits;
    d[2] = (unsigned char)(bits >> 8);
    d[3] = (unsigned char)(bits >> 16);
    d[4] = (unsigned char)(bits >> 24);
    d[5] = 0x07;
    d[6] = 0x10;
    d[7] = 0x11;
    d[8] = 0x00; /* odd payload: the chunk gets a padding byte */
}

static void build_webp_vp8l(struct bytes *b, uint32_t w, uint32_t h)
{
    unsigned char d[9];
    riff_start(b);
    vp8l_payload(d, w, h);
    webp_chunk(b, "VP8L", d, sizeof(d));
    riff_end(b);
}

static void build_webp_vp8(struct bytes *b, uint32_t w, uint32_t h, bool key)
{
    unsigned char d[14] = {0};
    uint32_t tag = (4u << 5) | (1u << 4) | (key ? 0u : 1u); /* partition 4, shown */
    d[0] = (unsigned char)tag;
    d[1] = (unsigned char)(tag >> 8);
    d[2] = (unsigned char)(tag >> 16);
    d[3] = 0x9d;
    d[4] = 0x01;
    d[5] = 0x2a;
    d[6] = (unsigned char)w;
    d[7] = (unsigned char)((w >> 8) | 0x40); /* a scale of 1 in the top bits, ignored */
    d[8] = (unsigned char)h;
    d[9] = (unsigned char)(h >> 8);
    riff_start(b);
    webp_chunk(b, "VP8 ", d, sizeof(d));
    riff_end(b);
}

static void build_webp_vp8x(struct bytes *b, uint32_t w, uint32_t h, bool with_image)
{
    struct bytes x = {0};
    unsigned char d[9];
    put1(&x, 0x10); /* alpha */
    put1(&x, 0);
    put1(&x, 0);
    put1(&x, 0);
    put_le24(&x, w - 1);
    put_le24(&x, h - 1);
    riff_start(b);
    webp_chunk(b, "VP8X", x.p, x.n);
    webp_chunk(b, "ICCP", (const unsigned char *)"icc", 3);
    if (with_image) {
        vp8l_payload(d, w > 16384 ? 16384 : w, h > 16384 ? 16384 : h);
        webp_chunk(b, "VP8L", d, sizeof(d));
    }
    riff_end(b);
}

/* ---- assertions ---- */

static void assert_image(const struct bytes *b, enum bt_image_format f, const char *ext,
                         const char *mime, uint32_t w, uint32_t h)
{
    struct bt_image_info info;
    int rc = bt_image_sniff(b->p, b->n, &info);
    if (rc != BT_OK)
        fail_msg("expected %s %ux%u, got: %s", ext, w, h, info.reason);
    assert_int_equal(info.format, f);
    assert_string_equal(info.ext, ext);
    assert_string_equal(info.mime, mime);
    assert_int_equal(info.width, w);
    assert_int_equal(info.height, h);
    assert_null(info.reason);
}

static void assert_refused(const void *p, size_t n, const char *why_part)
{
    struct bt_image_info info;
    assert_int_equal(bt_image_sniff(p, n, &info), BT_EINVAL);
    assert_int_equal(info.format, BT_IMG_NONE);
    assert_null(info.ext);
    assert_non_null(info.reason);
    if (why_part && !strstr(info.reason, why_part))
        fail_msg("reason \"%s\" does not mention \"%s\"", info.reason, why_part);
}

/* Every strict prefix of a valid image is refused (the truncated-upload check). */
static void assert_prefixes_refused(const struct bytes *b)
{
    for (size_t k = 0; k < b->n; k++)
        assert_refused(b->p, k, NULL);
}

/* ---- tests ---- */

static void test_png(void **state)
{
    struct bytes b;
    (void)state;

    build_png(&b, 3, 2);
    assert_image(&b, BT_IMG_PNG, "png", "image/png", 3, 2);
    assert_prefixes_refused(&b);

    build_png(&b, 65535, 1);
    assert_image(&b, BT_IMG_PNG, "png", "image/png", 65535, 1);
    build_png(&b, 1, 65535);
    assert_image(&b, BT_IMG_PNG, "png", "image/png", 1, 65535);
    build_png(&b, 65536, 1);
    assert_refused(b.p, b.n, "over 65535");
    build_png(&b, 0, 2);
    assert_refused(b.p, b.n, "zero dimension");
    build_png(&b, 3, 0);
    assert_refused(b.p, b.n, "zero dimension");

    /* IHDR CRC must match */
    build_png(&b, 3, 2);
    b.p[17] ^= 1; /* width changed behind the CRC's back */
    assert_refused(b.p, b.n, "checksum");
    /* bytes after IEND */
    build_png(&b, 3, 2);
    put1(&b, 0);
    assert_refused(b.p, b.n, "after IEND");
    /* a chunk whose length runs past the end */
    build_png(&b, 3, 2);
    b.p[33 + 3] = 0xff; /* tEXt length */
    assert_refused(b.p, b.n, NULL);
}

static void test_png_structure(void **state)
{
    struct bytes b;
    unsigned char ihdr[13] = {0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0};
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    (void)state;

    /* no IDAT */
    b.n = 0;
    put(&b, sig, 8);
    png_chunk(&b, "IHDR", ihdr, 13);
    png_chunk(&b, "tEXt", (const unsigned char *)"a\0b", 3);
    png_chunk(&b, "IEND", NULL, 0);
    assert_refused(b.p, b.n, "no image data");

    /* illegal depth for the colour type (a valid CRC over a bad header) */
    ihdr[8] = 4; /* truecolour must be 8 or 16 */
    b.n = 0;
    put(&b, sig, 8);
    png_chunk(&b, "IHDR", ihdr, 13);
    png_chunk(&b, "IDAT", (const unsigned char *)"x", 1);
    png_chunk(&b, "IEND", NULL, 0);
    assert_refused(b.p, b.n, "depth");

    /* palette, depth 1: legal */
    ihdr[8] = 1;
    ihdr[9] = 3;
    b.n = 0;
    put(&b, sig, 8);
    png_chunk(&b, "IHDR", ihdr, 13);
    png_chunk(&b, "PLTE", (const unsigned char *)"\0\0\0", 3);
    png_chunk(&b, "IDAT", (const unsigned char *)"x", 1);
    png_chunk(&b, "IEND", NULL, 0);
    assert_image(&b, BT_IMG_PNG, "png", "image/png", 3, 2);

    /* IHDR not first */
    b.n = 0;
    put(&b, sig, 8);
    png_chunk(&b, "tEXt", (const unsigned char *)"a\0b", 3);
    png_chunk(&b, "IHDR", ihdr, 13);
    png_chunk(&b, "IDAT", (const unsigned char *)"x", 1);
    png_chunk(&b, "IEND", NULL, 0);
    assert_refused(b.p, b.n, "IHDR");

    /* a chunk type that is not letters */
    b.n = 0;
    put(&b, sig, 8);
    png_chunk(&b, "IHDR", ihdr, 13);
    png_chunk(&b, "ID\x01T", (const unsigned char *)"x", 1);
    png_chunk(&b, "IEND", NULL, 0);
    assert_refused(b.p, b.n, "four letters");
}

static void test_jpeg(void **state)
{
    struct bytes b;
    (void)state;

    build_jpeg(&b, 0xc0, 800, 600, false, false); /* baseline */
    assert_image(&b, BT_IMG_JPEG, "jpg", "image/jpeg", 800, 600);
    assert_prefixes_refused(&b);

    build_jpeg(&b, 0xc2, 3, 2, true, true); /* progressive, DHT first, fill bytes */
    assert_image(&b, BT_IMG_JPEG, "jpg", "image/jpeg", 3, 2);
    assert_prefixes_refused(&b);

    build_jpeg(&b, 0xc1, 65535, 65535, false, false);
    assert_image(&b, BT_IMG_JPEG, "jpg", "image/jpeg", 65535, 65535);
    build_jpeg(&b, 0xcf, 7, 9, false, false); /* SOF15 */
    assert_image(&b, BT_IMG_JPEG, "jpg", "image/jpeg", 7, 9);

    /* 0 lines (DNL-defined height) and 0 width are refused */
    build_jpeg(&b, 0xc0, 800, 0, false, false);
    assert_refused(b.p, b.n, "zero dimension");
    build_jpeg(&b, 0xc0, 0, 600, false, false);
    assert_refused(b.p, b.n, "zero dimension");

    /* a file with DHT/JPG/DAC but no real frame header: those markers are not SOFs */
    for (unsigned m = 0xc4; m <= 0xcc; m += 4) {
        build_jpeg(&b, m, 800, 600, false, false);
        assert_refused(b.p, b.n, "no frame header");
    }

    /* bytes after EOI, missing EOI */
    build_jpeg(&b, 0xc0, 8, 8, false, false);
    put1(&b, 0);
    assert_refused(b.p, b.n, "EOI");
    /* a segment length pointing past the end */
    build_jpeg(&b, 0xc0, 8, 8, false, false);
    b.p[4] = 0xff;
    assert_refused(b.p, b.n, "truncated");
    /* a segment length under 2 */
    build_jpeg(&b, 0xc0, 8, 8, false, false);
    b.p[4] = 0;
    b.p[5] = 1;
    assert_refused(b.p, b.n, "length");
    /* a frame header whose length disagrees with its component count */
    build_jpeg(&b, 0xc0, 8, 8, false, false);
    {
        size_t sof = 2 + 18 + 69; /* SOI, APP0, DQT */
        assert_int_equal(b.p[sof + 1], 0xc0);
        b.p[sof + 9] = 2; /* Nf */
        assert_refused(b.p, b.n, "malformed");
    }
    /* the minimal SOI EOI */
    assert_refused("\xff\xd8\xff\xd9", 4, "frame header");
}

static void test_gif(void **state)
{
    struct bytes b;
    (void)state;

    build_gif(&b, "GIF89a", 3, 2);
    assert_image(&b, BT_IMG_GIF, "gif", "image/gif", 3, 2);
    assert_prefixes_refused(&b);
    build_gif(&b, "GIF87a", 640, 480);
    assert_image(&b, BT_IMG_GIF, "gif", "image/gif", 640, 480);
    build_gif(&b, "GIF89a", 65535, 65535);
    assert_image(&b, BT_IMG_GIF, "gif", "image/gif", 65535, 65535);

    build_gif(&b, "GIF88a", 3, 2);
    assert_refused(b.p, b.n, "not a JPEG");
    build_gif(&b, "GIF89a", 0, 2);
    assert_refused(b.p, b.n, "zero dimension");
    build_gif(&b, "GIF89a", 3, 0);
    assert_refused(b.p, b.n, "zero dimension");
    build_gif(&b, "GIF89a", 3, 2);
    put1(&b, 0x3b);
    assert_refused(b.p, b.n, "after its trailer");
    /* a header and a trailer but no image */
    assert_refused("GIF89a\x03\x00\x02\x00\x00\x00\x00\x3b", 14, "no image");
    /* an unknown block */
    assert_refused("GIF89a\x03\x00\x02\x00\x00\x00\x00\x99\x3b", 15, "unknown block");
}

static void test_webp(void **state)
{
    struct bytes b;
    (void)state;

    build_webp_vp8l(&b, 3, 2);
    assert_image(&b, BT_IMG_WEBP, "webp", "image/webp", 3, 2);
    assert_prefixes_refused(&b);
    build_webp_vp8l(&b, 16384, 16384);
    assert_image(&b, BT_IMG_WEBP, "webp", "image/webp", 16384, 16384);

    build_webp_vp8(&b, 800, 600, true);
    assert_image(&b, BT_IMG_WEBP, "webp", "image/webp", 800, 600);
    assert_prefixes_refused(&b);
    build_webp_vp8(&b, 0, 600, true);
    assert_refused(b.p, b.n, "zero dimension");
    build_webp_vp8(&b, 800, 600, false);
    assert_refused(b.p, b.n, "key frame");

    build_webp_vp8x(&b, 3, 2, true);
    assert_image(&b, BT_IMG_WEBP, "webp", "image/webp", 3, 2);
    assert_prefixes_refused(&b);
    build_webp_vp8x(&b, 65535, 65535, true);
    assert_image(&b, BT_IMG_WEBP, "webp", "image/webp", 65535, 65535);
    build_webp_vp8x(&b, 65536, 2, true);
    assert_refused(b.p, b.n, "over 65535");
    build_webp_vp8x(&b, 3, 2, false);
    assert_refused(b.p, b.n, "no image data");

    /* RIFF size must equal the length */
    build_webp_vp8l(&b, 3, 2);
    put1(&b, 0);
    assert_refused(b.p, b.n, "RIFF size");
    build_webp_vp8l(&b, 3, 2);
    b.p[4] += 2;
    assert_refused(b.p, b.n, "RIFF size");
    /* a chunk size past the end */
    build_webp_vp8l(&b, 3, 2);
    b.p[16] = 0x40;
    assert_refused(b.p, b.n, "past the end");
    /* an unknown first chunk; a bad VP8L signature */
    build_webp_vp8l(&b, 3, 2);
    memcpy(b.p + 12, "ALPH", 4);
    assert_refused(b.p, b.n, "does not start");
    build_webp_vp8l(&b, 3, 2);
    b.p[20] = 0x2e;
    assert_refused(b.p, b.n, "signature");
    /* a RIFF that is not WebP (a WAV file) */
    build_webp_vp8l(&b, 3, 2);
    memcpy(b.p + 8, "WAVE", 4);
    assert_refused(b.p, b.n, "not a JPEG");
}

/* yunshui: recognised by the bytes, never the name: text named .png, HTML named .gif. */
static void test_not_images(void **state)
{
    static const char text[] = "hello, this is a text file renamed to photo.png\n";
    static const char html[] = "<html><script>alert(1)</script></html>";
    struct bytes b;
    (void)state;

    assert_refused(text, sizeof(text) - 1, "not a JPEG, PNG, GIF or WebP image");
    assert_refused(html, sizeof(html) - 1, "not a JPEG");
    assert_refused("", 0, "too short");
    assert_refused(NULL, 100, "too short");
    assert_refused("\x89PNG", 4, NULL);
    assert_refused("\xff\xd8\xff", 3, NULL);
    /* a PNG signature in front of a JPEG, a JPEG header in front of text */
    build_jpeg(&b, 0xc0, 8, 8, false, false);
    memcpy(b.p, "\x89PNG\r\n\x1a\n", 8);
    assert_refused(b.p, b.n, NULL);
    memcpy(b.p, "\xff\xd8\xff\xe0", 4);
    memcpy(b.p + 4, text, sizeof(text) - 1);
    b.n = 4 + sizeof(text) - 1;
    assert_refused(b.p, b.n, NULL);

    assert_string_equal(bt_image_format_name(BT_IMG_JPEG), "jpeg");
    assert_string_equal(bt_image_format_name(BT_IMG_WEBP), "webp");
    assert_string_equal(bt_image_format_name(BT_IMG_NONE), "none");
}

/* Single-byte corruption anywhere never crashes and never yields an impossible size. */
static void test_mutations(void **state)
{
    struct bytes b, m;
    struct bt_image_info info;
    (void)state;

    for (int kind = 0; kind < 5; kind++) {
        switch (kind) {
        case 0: build_png(&b, 3, 2); break;
        case 1: build_jpeg(&b, 0xc2, 3, 2, true, true); break;
        case 2: build_gif(&b, "GIF89a", 3, 2); break;
        case 3: build_webp_vp8(&b, 3, 2, true); break;
        default: build_webp_vp8x(&b, 3, 2, true); break;
        }
        for (size_t i = 0; i < b.n; i++) {
            for (unsigned v = 0; v < 256; v += 51) {
                m = b;
                m.p[i] = (unsigned char)(m.p[i] ^ (v | 1));
                if (bt_image_sniff(m.p, m.n, &info) == BT_OK) {
                    assert_true(info.width >= 1 && info.width <= 65535);
                    assert_true(info.height >= 1 && info.height <= 65535);
                    assert_null(info.reason);
                } else {
                    assert_non_null(info.reason);
                }
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png),       cmocka_unit_test(test_png_structure),
        cmocka_unit_test(test_jpeg),      cmocka_unit_test(test_gif),
        cmocka_unit_test(test_webp),      cmocka_unit_test(test_not_images),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
