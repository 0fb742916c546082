/* SPDX-License-Identifier: MIT
 * ys_upload_images.h - what yunshui's upload tests send: real (tiny) PNG, JPEG, GIF and WebP
 * files built byte by byte, and multipart/form-data bodies around them.
 * Owns: nothing beyond the test; images follow the containers' specifications the same way
 * tests/unit/test_image.c builds them (stored-deflate PNG with real CRCs, baseline JPEG
 * markers, GIF blocks, RIFF/WebP chunks), so the server's sniffer sees genuine files.
 * Must not: depend on the server; only on cmocka (failing a test on OOM or a bad header).
 */
#ifndef YS_UPLOAD_IMAGES_H
#define YS_UPLOAD_IMAGES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"

/* ---- a growable byte buffer ---- */

struct ys_bytes {
    unsigned char *p;
    size_t n, cap;
};

static inline void ys_put(struct ys_bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

static inline void ys_puts(struct ys_bytes *b, const char *s)
{
    ys_put(b, s, strlen(s));
}

static inline void ys_put1(struct ys_bytes *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    ys_put(b, &c, 1);
}

static inline void ys_put_be16(struct ys_bytes *b, uint32_t v)
{
    ys_put1(b, (v >> 8) & 0xff);
    ys_put1(b, v & 0xff);
}

static inline void ys_put_be32(struct ys_bytes *b, uint32_t v)
{
    ys_put_be16(b, v >> 16);
    ys_put_be16(b, v & 0xffff);
}

static inline void ys_put_le16(struct ys_bytes *b, uint32_t v)
{
    ys_put1(b, v & 0xff);
    ys_put1(b, (v >> 8) & 0xff);
}

static inline void ys_put_le32(struct ys_bytes *b, uint32_t v)
{
    ys_put_le16(b, v & 0xffff);
    ys_put_le16(b, v >> 16);
}

static inline void ys_bytes_free(struct ys_bytes *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* ---- PNG ---- */

static inline uint32_t ys_crc32(const unsigned char *p, size_t n)
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

static inline void ys_png_chunk(struct ys_bytes *b, const char *type, const void *data, size_t n)
{
    size_t start;

    ys_put_be32(b, (uint32_t)n);
    start = b->n;
    ys_put(b, type, 4);
    ys_put(b, data, n);
    ys_put_be32(b, ys_crc32(b->p + start, 4 + n));
}

/* A w x h 8-bit RGB PNG (w * 3 + 1 <= 64, h <= 8): one stored deflate block of real
 * scanlines. pad > 0 adds an ancillary "zPAD" chunk of that many bytes before IDAT, to
 * reach an exact file size. */
static inline void ys_build_png(struct ys_bytes *b, uint32_t w, uint32_t h, size_t pad)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[13] = {0}, raw[600] = {0}, z[700];
    size_t rn = 0, zn = 0;
    uint32_t s1 = 1, s2 = 0;

    assert_true(w * 3 + 1 <= 64 && h <= 8);
    b->n = 0;
    ys_put(b, sig, 8);
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (unsigned char)(w >> (24 - 8 * i));
        ihdr[4 + i] = (unsigned char)(h >> (24 - 8 * i));
    }
    ihdr[8] = 8; /* depth */
    ihdr[9] = 2; /* truecolour */
    ys_png_chunk(b, "IHDR", ihdr, 13);
    for (uint32_t y = 0; y < h; y++) {
        raw[rn++] = 0; /* filter: none */
        for (uint32_t x = 0; x < w * 3; x++)
            raw[rn++] = (unsigned char)(x * 40 + y * 90);
    }
    z[zn++] = 0x78;
    z[zn++] = 0x01;
    z[zn++] = 0x01; /* final block, stored */
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
    if (pad) {
        unsigned char *d = malloc(pad);
        assert_non_null(d);
        for (size_t i = 0; i < pad; i++)
            d[i] = (unsigned char)(i * 131 + 7);
        ys_png_chunk(b, "zPAD", d, pad);
        free(d);
    }
    ys_png_chunk(b, "IDAT", z, zn);
    ys_png_chunk(b, "IEND", NULL, 0);
}

/* The size of ys_build_png(w, h, 0); a pad chunk adds 12 + pad. */
static inline size_t ys_png_size(uint32_t w, uint32_t h)
{
    struct ys_bytes b = {0};
    size_t n;

    ys_build_png(&b, w, h, 0);
    n = b.n;
    ys_bytes_free(&b);
    return n;
}

/* ---- JPEG: SOI, APP0 JFIF, DQT, SOF0, DHT, SOS + entropy data, EOI ---- */

static inline void ys_build_jpeg(struct ys_bytes *b, uint32_t w, uint32_t h)
{
    b->n = 0;
    ys_put(b, "\xff\xd8\xff\xe0", 4);
    ys_put_be16(b, 16);
    ys_put(b, "JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00", 14);
    ys_put(b, "\xff\xdb", 2);
    ys_put_be16(b, 2 + 65);
    ys_put1(b, 0);
    for (int i = 1; i < 65; i++)
        ys_put1(b, 1);
    ys_put(b, "\xff\xc0", 2);
    ys_put_be16(b, 8 + 3 * 3);
    ys_put1(b, 8);
    ys_put_be16(b, h);
    ys_put_be16(b, w);
    ys_put1(b, 3);
    for (unsigned c = 1; c <= 3; c++) {
        ys_put1(b, c);
        ys_put1(b, 0x11);
        ys_put1(b, 0);
    }
    ys_put(b, "\xff\xc4", 2);
    ys_put_be16(b, 2 + 17 + 1);
    ys_put1(b, 0x00);
    for (int i = 0; i < 16; i++)
        ys_put1(b, i == 0 ? 1 : 0);
    ys_put1(b, 0x00);
    ys_put(b, "\xff\xda", 2);
    ys_put_be16(b, 6 + 2 * 3);
    ys_put1(b, 3);
    for (unsigned c = 1; c <= 3; c++) {
        ys_put1(b, c);
        ys_put1(b, 0x00);
    }
    ys_put(b, "\x00\x3f\x00", 3);
    ys_put(b, "\x12\x34\xff\x00\x56\xff\xd0\x78", 8); /* entropy data, stuffing, RST0 */
    ys_put(b, "\xff\xd9", 2);
}

/* ---- GIF89a with a global colour table, one image, a comment and the trailer ---- */

static inline void ys_build_gif(struct ys_bytes *b, uint32_t w, uint32_t h)
{
    b->n = 0;
    ys_put(b, "GIF89a", 6);
    ys_put_le16(b, w);
    ys_put_le16(b, h);
    ys_put(b, "\x80\x00\x00", 3);
    ys_put(b, "\x00\x00\x00\xff\xff\xff", 6);
    ys_put(b, "\x21\xf9\x04\x00\x00\x00\x00\x00", 8);
    ys_put1(b, 0x2c);
    ys_put_le16(b, 0);
    ys_put_le16(b, 0);
    ys_put_le16(b, w);
    ys_put_le16(b, h);
    ys_put1(b, 0);
    ys_put(b, "\x02\x04\x84\x8f\x3b\x05\x00", 7); /* LZW data holding a 0x3b byte */
    ys_put(b, "\x21\xfe\x05hello\x00", 9);
    ys_put1(b, 0x3b);
}

/* ---- WebP ---- */

static inline void ys_riff_end(struct ys_bytes *b)
{
    uint32_t size = (uint32_t)(b->n - 8);
    for (int i = 0; i < 4; i++)
        b->p[4 + i] = (unsigned char)(size >> (8 * i));
}

static inline void ys_webp_chunk(struct ys_bytes *b, const char *fourcc, const void *d, size_t n)
{
    ys_put(b, fourcc, 4);
    ys_put_le32(b, (uint32_t)n);
    ys_put(b, d, n);
    if (n & 1)
        ys_put1(b, 0);
}

/* lossless (VP8L) w x h, 1..16384 */
static inline void ys_build_webp_vp8l(struct ys_bytes *b, uint32_t w, uint32_t h)
{
    uint32_t bits = (w - 1) | (h - 1) << 14 | 1u << 28;
    unsigned char d[9] = {0x2f,
                          (unsigned char)bits,
                          (unsigned char)(bits >> 8),
                          (unsigned char)(bits >> 16),
                          (unsigned char)(bits >> 24),
                          0x07,
                          0x10,
                          0x11,
                          0x00};
    b->n = 0;
    ys_put(b, "RIFF\0\0\0\0WEBP", 12);
    ys_webp_chunk(b, "VP8L", d, sizeof(d));
    ys_riff_end(b);
}

/* lossy (VP8) key frame w x h, 1..16383 */
static inline void ys_build_webp_vp8(struct ys_bytes *b, uint32_t w, uint32_t h)
{
    uint32_t tag = (4u << 5) | (1u << 4); /* key frame, shown, first partition of 4 bytes */
    unsigned char d[14] = {(unsigned char)tag,
                           (unsigned char)(tag >> 8),
                           (unsigned char)(tag >> 16),
                           0x9d,
                           0x01,
                           0x2a,
                           (unsigned char)w,
                           (unsigned char)(w >> 8),
                           (unsigned char)h,
                           (unsigned char)(h >> 8)};
    b->n = 0;
    ys_put(b, "RIFF\0\0\0\0WEBP", 12);
    ys_webp_chunk(b, "VP8 ", d, sizeof(d));
    ys_riff_end(b);
}

/* A response header equals want (absent fails the test instead of crashing it). */
static inline void assert_header(const struct bt_test_resp *r, const char *name, const char *want)
{
    const char *v = bt_test_resp_header(r, name);
    if (!v)
        fail_msg("response has no %s header", name);
    assert_string_equal(v, want);
}

/* ---- multipart/form-data ---- */

#define YS_BOUNDARY "----bentoYunshuiBoundary7MA4YWxk"
#define YS_MULTIPART_CT "Content-Type: multipart/form-data; boundary=" YS_BOUNDARY

/* One part: name, filename (NULL: a plain field), Content-Type (NULL: none), the bytes. */
static inline void ys_part(struct ys_bytes *body, const char *name, const char *filename,
                           const char *ctype, const void *p, size_t n)
{
    ys_puts(body, "--" YS_BOUNDARY "\r\nContent-Disposition: form-data; name=\"");
    ys_puts(body, name);
    ys_puts(body, "\"");
    if (filename) {
        ys_puts(body, "; filename=\"");
        ys_puts(body, filename);
        ys_puts(body, "\"");
    }
    ys_puts(body, "\r\n");
    if (ctype) {
        ys_puts(body, "Content-Type: ");
        ys_puts(body, ctype);
        ys_puts(body, "\r\n");
    }
    ys_puts(body, "\r\n");
    ys_put(body, p, n);
    ys_puts(body, "\r\n");
}

static inline void ys_form_end(struct ys_bytes *body)
{
    ys_puts(body, "--" YS_BOUNDARY "--\r\n");
}

/* The usual form: `image` (a file) and, when folder is not NULL, `folder`. */
static inline void ys_form(struct ys_bytes *body, const struct ys_bytes *img, const char *filename,
                           const char *ctype, const char *folder)
{
    body->n = 0;
    if (folder)
        ys_part(body, "folder", NULL, NULL, folder, strlen(folder));
    ys_part(body, "image", filename, ctype, img->p, img->n);
    ys_form_end(body);
}

#endif
