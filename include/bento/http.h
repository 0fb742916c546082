/* SPDX-License-Identifier: MIT
 * http.h - the request and response handlers see. Socket-agnostic: the same structs are
 * filled by the libmicrohttpd glue and by the in-process test harness.
 * Ownership: everything reachable from struct bt_req is arena-owned or borrowed for the
 * request's lifetime; never keep a pointer past the handler's return.
 */
#ifndef BENTO_HTTP_H
#define BENTO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <bento/arena.h>
#include <bento/err.h>

enum bt_method {
    BT_GET = 1,
    BT_POST,
    BT_PUT,
    BT_PATCH,
    BT_DELETE,
    BT_HEAD,
    BT_OPTIONS,
    BT_METHOD_OTHER,
};

/* A name/value pair (headers, query, path parameters). Values are NUL-terminated. */
struct bt_kv {
    const char *name;
    const char *value;
};

#define BT_MAX_PARAMS 8

struct bt_route;
struct bt_app;
struct bt_app_ctx;
struct bt_db;

struct bt_req {
    struct bt_arena *arena;       /* request scope */
    struct bt_app_ctx *ctx;       /* the app's running context (db pool, config, state) */
    const struct bt_route *route; /* matched route, NULL before routing */
    int route_index;              /* index in the app's table (metrics), -1 if none */

    enum bt_method method;
    const char *method_str; /* as received */
    const char *path;       /* decoded path, mount prefix included */
    const char *rel_path;   /* path with the mount prefix removed */
    const char *raw_query;  /* after '?', undecoded, "" if none */
    const char *request_id; /* X-Request-Id if sane, else generated */
    const char *client_ip;  /* the client's address, text: the TCP peer, or the address a
                             * trusted proxy gave in X-Forwarded-For (BENTO_TRUSTED_PROXIES) */
    const char *peer_ip;    /* the TCP peer's address, text (IPv4 also on a v6 listener) */
    const char *scheme;     /* "http", or "https" when a trusted proxy said so
                             * (X-Forwarded-Proto) */
    int sock_fd;            /* the connection's socket (for its local address), -1 if none */
    int watch_fd;           /* the socket whose closing stops the request's statements: set
                             * for slow-lane requests (docs/ARCHITECTURE.md), else -1 */
    const char *local_addr; /* "host:port" ("[v6]:port") the client connected to; set by the
                             * test harness, else found from sock_fd on first use */

    struct bt_kv *headers; /* names lower-cased */
    size_t nheaders;
    struct bt_kv *query; /* decoded, in order, repeated keys kept */
    size_t nquery;
    struct bt_kv params[BT_MAX_PARAMS]; /* path parameters (":id" -> "id") */
    size_t nparams;

    const char *body; /* raw body, NUL-terminated, may contain NULs; NULL if none */
    size_t body_len;
    json_t *json;  /* parsed and validated JSON body (arena-owned), NULL if none */
    json_t *qjson; /* typed query object from the route's query schema (arena-owned) */

    struct bt_db *db; /* lazily checked out by bt_req_db, returned once the answer is
                       * rendered (before it is sent) */
    void *db_lease;   /* the core's record of that check-out (pipeline.c) */

    void *principal; /* set by the app's authenticate hook, app-defined */
    uint64_t start_ns;
};

/* ---- request accessors (borrowed, request lifetime) ---- */

/** Header value by case-insensitive name, NULL if absent. */
const char *bt_req_header(const struct bt_req *rq, const char *name);
/** First query value for name, NULL if absent. */
const char *bt_req_query(const struct bt_req *rq, const char *name);
/** Path parameter (":id" -> "id"), NULL if absent. */
const char *bt_req_param(const struct bt_req *rq, const char *name);
/** Path parameter as int64. Returns 0, or -1 if not a positive-or-zero decimal in range. */
int bt_req_param_i64(const struct bt_req *rq, const char *name, int64_t *out);

/** Body field accessors (rq->json must be an object). Absent or null -> the default. */
const char *bt_req_str(const struct bt_req *rq, const char *name);
int64_t bt_req_int(const struct bt_req *rq, const char *name, int64_t dflt);
double bt_req_num(const struct bt_req *rq, const char *name, double dflt);
bool bt_req_bool(const struct bt_req *rq, const char *name, bool dflt);
/** True if the body has name, even with null. */
bool bt_req_has(const struct bt_req *rq, const char *name);

/** Typed query accessors from rq->qjson (after query schema). Absent -> default. */
const char *bt_req_qstr(const struct bt_req *rq, const char *name);
int64_t bt_req_qint(const struct bt_req *rq, const char *name, int64_t dflt);
bool bt_req_qbool(const struct bt_req *rq, const char *name, bool dflt);
bool bt_req_qhas(const struct bt_req *rq, const char *name);

/** Where this service is reached, for URLs put in responses: "scheme://host:port" without
 *  the mount. The service setting `public_url` when set (validated at start-up; it may carry
 *  a path prefix); else the scheme (https only when a trusted proxy said so) and the local
 *  address and port of this connection (the listener's real address, also when it listens
 *  on 0.0.0.0 or port 0; IPv6 in brackets). Never the Host header. Arena-owned. */
const char *bt_req_base_url(struct bt_req *rq);

/** The request's database connection, checked out on first use and returned to the pool
 *  when the pipeline has rendered the answer, before the client reads it (a slow reader
 *  holds no connection). Returns NULL and fills err if none can be had: BT_EUNAVAILABLE
 *  when the database cannot be reached or no connection is free within BENTO_DB_TIMEOUT_MS. */
struct bt_db *bt_req_db(struct bt_req *rq, struct bt_err *err);

/* ---- response ---- */

struct bt_res {
    int status;               /* 0 until set */
    const char *content_type; /* static or arena-owned */
    const char *body;         /* arena-owned or static */
    size_t len;
    json_t *json;          /* when set, rendered compactly to body in the render phase (owned) */
    struct bt_kv *headers; /* extra headers, arena-owned */
    size_t nheaders, capheaders;
    int file_fd; /* >= 0: send this file (taken), file_len bytes */
    uint64_t file_len;
    struct bt_arena *arena;
};

/** Answer with JSON. Takes ownership of j (like json_object_set_new). Returns BT_OK. */
int bt_res_json(struct bt_res *rs, int status, json_t *j);
/** Answer with bytes (copied into the arena). Returns BT_OK. */
int bt_res_bytes(struct bt_res *rs, int status, const char *content_type, const void *p, size_t n);
/** Answer with a static or arena-owned buffer, not copied. */
int bt_res_static(struct bt_res *rs, int status, const char *content_type, const char *p, size_t n);
/** Answer with an open file (fd is taken and closed by the core). */
int bt_res_file(struct bt_res *rs, int status, const char *content_type, int fd, uint64_t len);
/** Add a response header (both strings copied). */
void bt_res_header(struct bt_res *rs, const char *name, const char *value);

/** Method from/to text. */
enum bt_method bt_method_parse(const char *s);
const char *bt_method_name(enum bt_method m);

/** Percent-decode src[0..n) into an arena string ('+' -> ' ' when form is true).
 *  Returns NULL if the result is not valid UTF-8 or has an embedded NUL. */
char *bt_url_decode(struct bt_arena *a, const char *src, size_t n, bool form);

/** Parse a query string into arena pairs. Returns 0, or -1 if a key or value is not valid
 *  UTF-8 after decoding, or there are more than max_pairs pairs. */
int bt_query_parse(struct bt_arena *a, const char *qs, size_t max_pairs, struct bt_kv **out,
                   size_t *n);

#endif
