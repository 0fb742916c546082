#!/usr/bin/env python3
"""make_seeds.py - writes the hand-made seed files of the fuzz targets added in issue 7
(tests/fuzz/corpus/{route,query,pipeline,jwt,net,cors,config}/, and json/app_*.json) and
issue 8 (tests/fuzz/corpus/search/).
Re-running it rewrites exactly these files; reproducers that fuzzing found are added beside
them by hand (named crash_*, see docs/TESTING.md "Fuzzing"), so they are never overwritten.
Usage: tests/fuzz/make_seeds.py  (from anywhere)
"""
import base64
import hashlib
import hmac
import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# route: first byte picks the first method tried, the rest is the raw path
for i, (m, p) in enumerate([
    (0, "/api/v1/vendors"), (1, "/api/v1/vendors/42"), (2, "/api/v1/vendors/42/configs"),
    (4, "/api/v1/intents/7/"), (0, "/v1/materials/12"), (3, "/v1/orders/9/status"),
    (0, "/v1/uploads/materials/a%2Fb.png"), (0, "/v1/uploads/%2e%2e/%2e%2e/etc"),
    (0, "/%00"), (0, "/%ff%fe"), (0, "//api//v1//vendors"), (0, "/v1"), (0, "/v1/"),
    (0, "/v1x/materials"), (0, "/chat/v1/vendors/%E4%B8%AD/test"), (0, "/" + "a/" * 40),
    (6, "/api/v1/knowledge/%"), (5, "/health"), (0, "/v1/metrics"), (0, ""),
]):
    put("route", "seed_%02d" % i, bytes([m]) + p.encode())

# query: the raw query string
for i, q in enumerate([
    "page=1&limit=20", "page=0&limit=-1", "page=abc", "limit=99999999999999999999",
    "status=pending&status=done", "search=%E4%B8%AD%E6%96%87", "search=%ff", "a=%00",
    "=&&==&", "q=a+b%20c", "page=1e3", "page=%31", "&".join("k%d=v" % k for k in range(300)),
    "category=&search=", "vendor_id=1&days=7", "active=yes&active=no",
]):
    put("query", "seed_%02d" % i, q)

# pipeline: METHOD SP URL LF headers LF LF body
reqs = [
    ("GET", "/api/v1/vendors", [], ""),
    ("POST", "/api/v1/vendors", ["Content-Type: application/json"], '{"name":"acme","code":"ac"}'),
    ("POST", "/api/v1/vendors", ["Content-Type: application/json"], '{"name":'),
    ("PUT", "/api/v1/vendors/1/configs", ["Content-Type: application/json"],
     '[{"param_key":"k","value":"v"}]'),
    ("POST", "/api/v1/message", ["Content-Type: text/plain"], "hello"),
    ("DELETE", "/api/v1/vendors/abc", [], ""),
    ("PATCH", "/api/v1/vendors/1", [], ""),
    ("OPTIONS", "/api/v1/vendors", ["Origin: https://app.example",
                                    "Access-Control-Request-Method: POST",
                                    "Access-Control-Request-Headers: content-type, x-evil"], ""),
    ("GET", "/api/v1/vendors?page=2&size=x", ["Origin: https://evil.example"], ""),
    ("GET", "/api/v1/vendors?%zz=%", [], ""),
    ("GET", "/v1/materials?page=1&limit=10", ["Authorization: Bearer fuzz"], ""),
    ("GET", "/v1/materials", [], ""),
    ("POST", "/v1/auth/login", ["Content-Type: application/json",
                                "X-Forwarded-For: 203.0.113.9, 10.0.0.1",
                                "X-Forwarded-Proto: https"], '{"username":"admin","password":"x"}'),
    ("POST", "/v1/orders", ["Authorization: Bearer fuzz", "Content-Type: application/json"],
     '{"items":[{"materialId":1,"quantity":2}],"note":null}'),
    ("PUT", "/v1/orders/5/status", ["Authorization: Bearer fuzz", "Content-Type: application/json"],
     '{"status":"shipped"}'),
    ("POST", "/v1/upload/image", ["Authorization: Bearer fuzz",
                                  "Content-Type: multipart/form-data; boundary=b"],
     '--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\nx\r\n--b--\r\n'),
    ("GET", "/v1/users/1", ["Authorization: Bearer fuzz", "X-Request-Id: abc-123"], ""),
    ("BREW", "/v1/health", [], ""),
    ("GET", "/v1/%ff", [], ""),
    ("GET", "/metrics", [], ""),
]
for i, (m, u, hs, b) in enumerate(reqs):
    put("pipeline", "seed_%02d" % i, "%s %s\n%s\n%s" % (m, u, "".join(h + "\n" for h in hs), b))

# jwt: 'T' + token, or 'S' + header JSON LF payload (signed by the target)
SECRET = b"fuzz-secret-0123456789"


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(h, p, key=SECRET):
    si = b64(h.encode()) + "." + b64(p.encode())
    return si + "." + b64(hmac.new(key, si.encode(), hashlib.sha256).digest())


std = '{"alg":"HS256","typ":"JWT"}'
for i, t in enumerate([
    token(std, '{"sub":"1","exp":1900000000}'), token(std, '{"sub":"1","exp":1600000000}'),
    token(std, '{"sub":"1"}', b"other"), token('{"alg":"none"}', '{"sub":"1"}'),
    "a.b.c", "a.b", "....", "eyJ.eyJ.", token(std, '{"x":1}') + "=", "",
]):
    put("jwt", "seed_t%02d" % i, "T" + t)
for i, (h, p) in enumerate([
    (std, '{"sub":"1","exp":1900000000,"iat":1600000000}'), (std, '{"exp":"soon"}'),
    (std, '{"nbf":1800000000}'), ('{"alg":"HS256","crit":["x"]}', "{}"),
    ('{"alg":"HS256","typ":"jwt"}', "{}"), ('{"alg":"HS512"}', "{}"), ("[]", "{}"),
    (std, "[1,2]"), (std, "not json"), (std, '{"exp":1e400}'), (std, '{"exp":-1}'),
]):
    put("jwt", "seed_s%02d" % i, "S" + h + "\n" + p)

# net: trusted list LF peer LF X-Forwarded-For LF X-Forwarded-Proto
for i, s in enumerate([
    "10.0.0.0/8, ::1\n10.1.1.1\n203.0.113.7, 10.0.0.2\nhttps",
    "127.0.0.1\n127.0.0.1\n[2001:db8::1]:443\nhttp, https",
    "0.0.0.0/0\n192.0.2.1\n198.51.100.1:8080\nHTTPS",
    "::ffff:10.0.0.0/104\n::ffff:10.2.3.4\n1.2.3.4\n",
    "fe80::/10\nfe80::1\nfe80::2, unknown, 2001:db8::5\nftp",
    "10.0.0.0/33\n1.1.1.1\n\n",
    "1.2.3.4/32,,, ,5.6.7.8\n5.6.7.8\n,,,\n , ",
    "2001:db8::/129\n2001:db8::\n[::1\n",
    "1.2.3\n01.2.3.4\n1.2.3.4.5\nhttp",
    "::/0\n::1\n::ffff:1.2.3.4, 1::2::3\nhttps,",
    "192.168.0.0/16\n192.168.1.1\n" + ", ".join("10.0.0.%d" % k for k in range(60)) + "\nhttp",
]):
    put("net", "seed_%02d" % i, s)

# cors: the list LF Origin LF Access-Control-Request-Headers
for i, s in enumerate([
    "https://app.example, http://localhost:5173\nhttps://app.example\ncontent-type",
    "*\nhttps://evil.example\nauthorization, x-csrf-token",
    "https://App.Example:443\nhttps://app.example\n",
    "http://localhost:80, *\nhttp://localhost\nX-Requested-With,Accept-Language",
    "https://a.example/path\nhttps://a.example\n",
    "ftp://a.example\nftp://a.example\n",
    "https://[::1]:8443\nhttps://[::1]:8443\ncontent-type",
    "https://a.example:99999\nnull\n",
    ", ,*, \nnull\n,,,",
    "https://xn--bcher-kva.example\nhttps://xn--bcher-kva.example\ncookie",
]):
    put("cors", "seed_%02d" % i, s)

# config: listen LF --set LF services LF secret file contents
for i, s in enumerate([
    "127.0.0.1:8100\nvendorchat.cors_origins=*\nvendorchat,yunshui\ns3cr3t-value-here\n",
    "[::1]:0\nyunshui.jwt_secret=a=b\nyunshui\nline\r\n",
    "8080\n.x=1\n,,, ,\n\n",
    ":80\nvendorchat.=1\na,b,c,d,e,f,g,h,i\nsecret\x00tail",
    "[::1]\nx\n\n\r\n",
    "host:99999\nnodot=1\nvendorchat\n" + "k" * 70000,
    "0.0.0.0:-1\na.b=\nx\n\n\n",
    "[]:1\na.b=c=d\n  vendorchat  \npostgres://u:p@h/db\n",
]):
    put("config", "seed_%02d" % i, s)

# json: bodies shaped like the linked apps' requests (the older json corpus is generic)
for i, b in enumerate([
    {"message": "你好，請問營業時間？", "vendor_id": 1},
    {"question_summary": "q", "answer": "a", "scope": "vendor", "vendor_id": 1,
     "intents": [{"intent_id": 1, "kind": "primary"}, {"intent_id": 2, "kind": "x"}]},
    {"name": "hours", "type": "knowledge", "description": None, "keywords": ["營業", 1]},
    [{"param_key": "k", "value": "v"}, {"param_key": "", "value": None}],
    {"username": "admin", "password": "password123"},
    {"items": [{"materialId": 1, "quantity": 2}], "note": "x" * 300},
    {"status": "shipped", "note": None},
    {"name": "M", "category": "c", "price": -1, "stock": 1.5, "status": "active"},
    {"currentPassword": "a", "newPassword": "b" * 200},
]):
    put("json", "app_%02d.json" % i, json.dumps(b, ensure_ascii=False))

# search (issue 8): the fields of a search column (U+001F between them), LF, a term as typed;
# str is written as UTF-8, bytes as they are (bad UTF-8)
for i, (text, term) in enumerate([
    ("不鏽鋼板 304\x1f厚度 2mm, 尺寸 1000x2000mm\x1f高品質不鏽鋼板", "鋼"),
    ("不鏽鋼板 304\x1f厚度 2mm", "304 厚度"), ("Steel Pipe\x1fDN50\x1fGalvanized", "  sTeEl pIPE "),
    ("輕量 100% 回收\x1fa_b\x1f含 STEEL 骨架\\back", "100%"), ("a_b", "_"), ("x\\y", "\\"),
    ("say \"hi\"\x1f{a,b}", "\"hi\""), ("{a,b}", "{,}"), ("AND OR NOT", "and or"),
    ("*:^()-+", "(-"), ("B123456 批號", "b1234"), ("aaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaa"),
    ("😀 emoji é Ａ", "😀 e"), ("\x1f\x1f\x1f", "\x1f"), ("", "x"), ("abc", ""),
    (b"\xe9\x8b\xbc\xe9\x8b", b"\xe9\x8b"), ("鋼" * 40, "鋼" * 12), ("ab\x1fcd", "bc"),
    ("line\tone\x1fline\ntwo", "e\to"),
]):
    enc = [x if isinstance(x, bytes) else x.encode("utf-8") for x in (text, term)]
    put("search", "seed_%02d" % i, enc[0] + b"\n" + enc[1])
