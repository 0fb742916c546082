#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# gen_fuzz_corpus_ops.py - regenerates the seeds in tests/fuzz/corpus/{image,multipart}/
# (replayed by tests/unit/test_fuzz_ops_replay.c). The files are committed; run this only to
# change them. Images are built by hand (PNG via zlib), valid ones and broken ones; each
# multipart seed is the Content-Type value on the first line, then the body.
import struct, zlib, os
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'fuzz', 'corpus')
I = os.path.join(root, 'image'); M = os.path.join(root, 'multipart')

def w(d, name, data):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

# ---------------- PNG ----------------
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)

SIG = b'\x89PNG\r\n\x1a\n'
def png(wd, ht, color=2, depth=8, interlace=0, raw=None, extra=b'', plte=None):
    ihdr = struct.pack('>IIBBBBB', wd, ht, depth, color, 0, 0, interlace)
    if raw is None:
        bpp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
        raw = b''.join(b'\x00' + bytes((x * 7 + y * 13) & 0xff for x in range(wd * bpp)) for y in range(ht))
    out = SIG + chunk(b'IHDR', ihdr) + extra
    if plte is not None:
        out += chunk(b'PLTE', plte)
    return out + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')

p = png(3, 2); w(I, 'png_rgb_3x2.png', p)
w(I, 'png_rgba_16x16.png', png(16, 16, color=6))
w(I, 'png_palette_8x4.png', png(8, 4, color=3, plte=bytes(range(12))))
w(I, 'png_gray_interlaced.png', png(5, 5, color=0, interlace=1, raw=b'\x00' * 40))
w(I, 'png_text_chunks.png', png(2, 2, extra=chunk(b'tEXt', b'Comment\x00hi') + chunk(b'zTXt', b'a\x00\x00' + zlib.compress(b'x'))))
w(I, 'png_truncated.png', p[:-7])
w(I, 'png_no_iend.png', p[:-12])
w(I, 'png_trailing.png', p + b'\x00garbage')
bad = bytearray(p); bad[17] ^= 1; w(I, 'png_bad_crc.png', bytes(bad))
w(I, 'png_zero_width.png', png(0, 2, raw=b'\x00'))
w(I, 'png_65536.png', png(65536, 1, raw=b'\x00'))
w(I, 'png_len_overflow.png', SIG + chunk(b'IHDR', struct.pack('>IIBBBBB', 1, 1, 8, 2, 0, 0, 0)) + b'\xff\xff\xff\xffIDAT' + b'\x00' * 8 + chunk(b'IEND', b''))
w(I, 'png_sig_only.png', SIG)

# ---------------- JPEG ----------------
def seg(m, d):
    return bytes([0xff, m]) + struct.pack('>H', len(d) + 2) + d
def jpeg(wd, ht, sof=0xc0, dht_first=False, fill=False, app1=False, ncomp=3):
    out = b'\xff\xd8' + seg(0xe0, b'JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00')
    if app1:
        out += seg(0xe1, b'Exif\x00\x00' + b'MM\x00\x2a\x00\x00\x00\x08' + b'\xff\xc0\x00\x11' * 4)
    out += seg(0xdb, b'\x00' + bytes([1] * 64))
    dht = seg(0xc4, b'\x00' + b'\x01' + b'\x00' * 15 + b'\x00')
    if dht_first:
        out += dht
    if fill:
        out += b'\xff\xff\xff'
    out += seg(sof, struct.pack('>BHHB', 8, ht, wd, ncomp) + b''.join(bytes([c, 0x11, 0]) for c in range(1, ncomp + 1)))
    if not dht_first:
        out += dht
    out += seg(0xda, bytes([ncomp]) + b''.join(bytes([c, 0]) for c in range(1, ncomp + 1)) + b'\x00\x3f\x00')
    out += b'\x12\x34\xff\x00\x56\xff\xd0\x78\xff\xd1\x9a'
    return out + b'\xff\xd9'
j = jpeg(800, 600); w(I, 'jpeg_baseline_800x600.jpg', j)
w(I, 'jpeg_progressive_dht_first.jpg', jpeg(3, 2, sof=0xc2, dht_first=True))
w(I, 'jpeg_fill_bytes.jpg', jpeg(31, 17, fill=True))
w(I, 'jpeg_exif_app1.jpg', jpeg(64, 48, app1=True))
w(I, 'jpeg_gray_sof15.jpg', jpeg(9, 9, sof=0xcf, ncomp=1))
w(I, 'jpeg_truncated.jpg', j[:-20])
w(I, 'jpeg_no_eoi.jpg', j[:-2])
w(I, 'jpeg_zero_height.jpg', jpeg(800, 0))
w(I, 'jpeg_dht_only.jpg', jpeg(800, 600, sof=0xc4))
w(I, 'jpeg_sos_first.jpg', b'\xff\xd8' + seg(0xda, b'\x01\x01\x00\x00\x3f\x00') + b'\x00\xff\xd9')
w(I, 'jpeg_len_one.jpg', b'\xff\xd8\xff\xe0\x00\x01\xff\xd9')
w(I, 'jpeg_soi_eoi.jpg', b'\xff\xd8\xff\xd9')
w(I, 'jpeg_all_ff.jpg', b'\xff\xd8' + b'\xff' * 64 + b'\xff\xd9')

# ---------------- GIF ----------------
def gif(wd, ht, ver=b'GIF89a', frames=1, anim=False):
    out = ver + struct.pack('<HHBBB', wd, ht, 0x81, 0, 0) + bytes(12)
    if anim:
        out += b'\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00'
    for _ in range(frames):
        out += b'\x21\xf9\x04\x04\x0a\x00\x00\x00'
        out += b'\x2c' + struct.pack('<HHHHB', 0, 0, wd, ht, 0) + b'\x02\x02\x44\x01\x00'
    return out + b'\x3b'
g = gif(3, 2); w(I, 'gif89a_3x2.gif', g)
w(I, 'gif87a_640x480.gif', gif(640, 480, ver=b'GIF87a'))
w(I, 'gif_animated.gif', gif(10, 10, frames=3, anim=True))
w(I, 'gif_truncated.gif', g[:-3])
w(I, 'gif_no_trailer.gif', g[:-1])
w(I, 'gif_zero_width.gif', gif(0, 2))
w(I, 'gif_header_only.gif', g[:13])
w(I, 'gif_lct_overflow.gif', b'GIF89a' + struct.pack('<HHBBB', 1, 1, 0, 0, 0) + b'\x2c' + struct.pack('<HHHHB', 0, 0, 1, 1, 0x87) + b'\x3b')

# ---------------- WebP ----------------
def riff(chunks):
    body = b'WEBP' + chunks
    return b'RIFF' + struct.pack('<I', len(body)) + body
def wchunk(fcc, d):
    return fcc + struct.pack('<I', len(d)) + d + (b'\x00' if len(d) & 1 else b'')
def vp8l(wd, ht):
    return b'\x2f' + struct.pack('<I', (wd - 1) | (ht - 1) << 14 | 1 << 28) + b'\x07\x10\x11\x00'
def vp8(wd, ht, key=True):
    tag = (4 << 5) | (1 << 4) | (0 if key else 1)
    return struct.pack('<I', tag)[:3] + b'\x9d\x01\x2a' + struct.pack('<HH', wd, ht) + b'\x00' * 6
wl = riff(wchunk(b'VP8L', vp8l(3, 2))); w(I, 'webp_vp8l_3x2.webp', wl)
w(I, 'webp_vp8_800x600.webp', riff(wchunk(b'VP8 ', vp8(800, 600))))
vp8x = lambda wd, ht, fl=0x10: wchunk(b'VP8X', bytes([fl, 0, 0, 0]) + struct.pack('<I', wd - 1)[:3] + struct.pack('<I', ht - 1)[:3])
w(I, 'webp_vp8x_alpha.webp', riff(vp8x(3, 2) + wchunk(b'ALPH', b'\x00abc') + wchunk(b'VP8 ', vp8(3, 2))))
w(I, 'webp_vp8x_anim.webp', riff(vp8x(20, 10, 0x02) + wchunk(b'ANIM', bytes(6)) + wchunk(b'ANMF', bytes(16) + wchunk(b'VP8L', vp8l(20, 10)))))
w(I, 'webp_vp8x_no_image.webp', riff(vp8x(3, 2) + wchunk(b'EXIF', b'MM')))
w(I, 'webp_vp8x_70000.webp', riff(vp8x(70000, 2) + wchunk(b'VP8L', vp8l(3, 2))))
w(I, 'webp_truncated.webp', wl[:-4])
w(I, 'webp_riff_too_big.webp', b'RIFF\xff\xff\xff\xffWEBPVP8L\x05\x00\x00\x00\x2f\x00\x00\x00\x00')
w(I, 'webp_chunk_too_big.webp', riff(b'VP8L\xf0\xff\xff\xff\x2f\x00\x00\x00\x00'))
w(I, 'webp_vp8_interframe.webp', riff(wchunk(b'VP8 ', vp8(8, 8, key=False))))
w(I, 'riff_wave.wav', b'RIFF' + struct.pack('<I', 4 + 8) + b'WAVEfmt \x00\x00\x00\x00')

# ---------------- not images ----------------
w(I, 'text_renamed.png', b'hello, this is a text file renamed to photo.png\n')
w(I, 'html_renamed.gif', b'<html><script>alert(1)</script></html>\n')
w(I, 'empty.bin', b'')
w(I, 'pdf_header.jpg', b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n')

# ---------------- multipart ----------------
# Each file: the Content-Type header value on the first line, then the body (bytes).
def mp(name, ct, body):
    w(M, name, ct.encode() + b'\n' + body)

B = '------------------------d74496d66958873e'
CT = 'multipart/form-data; boundary=' + B
def part(b, name, data, filename=None, ctype=None, extra=b''):
    h = b'--' + b.encode() + b'\r\nContent-Disposition: form-data; name="' + name + b'"'
    if filename is not None:
        h += b'; filename="' + filename + b'"'
    h += b'\r\n'
    if ctype:
        h += b'Content-Type: ' + ctype + b'\r\n'
    return h + extra + b'\r\n' + data + b'\r\n'
end = lambda b: b'--' + b.encode() + b'--\r\n'

mp('curl_upload.txt', CT, part(B, b'folder', b'materials') + part(B, b'image', p, b'steel.png', b'image/png') + end(B))
CH = '----WebKitFormBoundary7MA4YWxkTrZu0gW'
mp('chrome_upload.txt', 'multipart/form-data; boundary=' + CH,
   b'preamble\r\n' + part(CH, b'image', j, b'photo \xe5\x9c\x96.jpg', b'image/jpeg') + part(CH, b'folder', b'') + end(CH) + b'epilogue')
mp('quoted_boundary.txt', 'multipart/form-data; boundary="simple boundary:=?"',
   part('simple boundary:=?', b'a', b'x') + end('simple boundary:=?'))
mp('binary_nuls_crlf.txt', 'multipart/form-data; boundary=XyZ',
   part('XyZ', b'f', b'\x00\r\n--XyZ\x00\r\n--XyZQ\r\n\r\n--Xy\r\n\xff\x00', b'x.bin', b'application/octet-stream') + end('XyZ'))
mp('missing_close.txt', 'multipart/form-data; boundary=b', part('b', b'a', b'value'))
mp('close_without_crlf.txt', 'multipart/form-data; boundary=b', part('b', b'a', b'v')[:-2] + b'\r\n--b--')
mp('no_boundary.txt', 'multipart/form-data', part('b', b'a', b'v') + end('b'))
mp('wrong_type.txt', 'application/x-www-form-urlencoded', b'a=1&b=2')
mp('garbage.txt', 'multipart/form-data; boundary=b', bytes(range(256)) * 4)
mp('many_parts_65.txt', 'multipart/form-data; boundary=b', b''.join(part('b', b'f%d' % i, b'%d' % i) for i in range(65)) + end('b'))
mp('many_parts_64.txt', 'multipart/form-data; boundary=b', b''.join(part('b', b'f%d' % i, b'%d' % i) for i in range(64)) + end('b'))
mp('header_9k.txt', 'multipart/form-data; boundary=b', part('b', b'a', b'v', extra=b'X-Pad: ' + b'p' * 9000 + b'\r\n') + end('b'))
mp('folded_headers.txt', 'multipart/form-data; boundary=b',
   b'--b\r\nContent-Disposition: form-data;\r\n name="a";\r\n\tfilename="f.txt"\r\n\r\nv\r\n--b--')
mp('filename_star.txt', 'multipart/form-data; boundary=b',
   b'--b\r\nContent-Disposition: form-data; name=i; filename="fb.png"; filename*=UTF-8\'\'%E5%9C%96.png\r\n\r\nv\r\n'
   b'--b\r\nContent-Disposition: form-data; name=j; filename*=iso-8859-1\'en\'caf%E9\r\n\r\nv\r\n'
   b'--b\r\nContent-Disposition: form-data; name=k; filename*=UTF-8\'\'%\r\n\r\nv\r\n--b--')
mp('filename_escapes.txt', 'multipart/form-data; boundary=b',
   b'--b\r\nContent-Disposition: form-data; name="a\\"b"; filename="C:\\dir\\x\\".png"\r\n\r\nv\r\n--b--')
mp('lf_only.txt', 'multipart/form-data; boundary=b', b'--b\nContent-Disposition: form-data; name=a\n\nv\n--b--\n')
mp('empty_form.txt', 'multipart/form-data; boundary=b', b'--b--\r\n')
mp('empty_body.txt', 'multipart/form-data; boundary=b', b'')
mp('boundary_70.txt', 'multipart/form-data; boundary=' + 'x' * 70, part('x' * 70, b'a', b'v') + end('x' * 70))
mp('boundary_71.txt', 'multipart/form-data; boundary=' + 'x' * 71, part('x' * 71, b'a', b'v') + end('x' * 71))
mp('bad_utf8_name.txt', 'multipart/form-data; boundary=b', part('b', b'\xc3\x28', b'v') + end('b'))
mp('no_disposition.txt', 'multipart/form-data; boundary=b', b'--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--')
mp('unterminated_quote.txt', 'multipart/form-data; boundary="b', part('b', b'a', b'v') + end('b'))
mp('nested_mixed.txt', 'multipart/form-data; boundary=outer',
   part('outer', b'files', b'--inner\r\nContent-Type: text/plain\r\n\r\nx\r\n--inner--', ctype=b'multipart/mixed; boundary=inner') + end('outer'))
mp('padding_after_delim.txt', 'multipart/form-data; boundary=b', b'--b \t \r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--b  \r\n'
   b'Content-Disposition: form-data; name=c\r\n\r\n\r\n--b--')
mp('dup_names.txt', 'multipart/form-data; boundary=b', part('b', b'a', b'1') + part('b', b'a', b'2') + end('b'))
mp('delim_prefix_runs.txt', 'multipart/form-data; boundary=ab', b'--ab\r\nContent-Disposition: form-data; name=a\r\n\r\n' + b'\r\n--a' * 300 + b'\r\n--ab--')
