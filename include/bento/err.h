/* SPDX-License-Identifier: MIT
 * err.h - the error idiom: functions return int (BT_OK or a status), details go into a
 * caller-supplied struct bt_err. Each app renders struct bt_err in its own envelope.
 * Must not: carry secrets in messages; the message may be shown to clients.
 */
#ifndef BENTO_ERR_H
#define BENTO_ERR_H

#include <stdarg.h>
#include <stddef.h>

#include <jansson.h>

/* Status codes. 0 is success; every other value maps to one HTTP status (bt_status_http). */
enum bt_status {
    BT_OK = 0,
    BT_EINVAL,       /* input failed validation                 -> 400 (apps may say 422) */
    BT_EMALFORMED,   /* the request cannot be parsed (bad JSON) -> 400 */
    BT_EAUTH,        /* missing or bad credentials              -> 401 */
    BT_EFORBIDDEN,   /* authenticated, not allowed              -> 403 */
    BT_ENOTFOUND,    /* no such resource or route               -> 404 */
    BT_EMETHOD,      /* path exists, method does not            -> 405 */
    BT_ECONFLICT,    /* unique or state conflict                -> 409 */
    BT_ETOOLARGE,    /* request body over the cap               -> 413 */
    BT_EMEDIATYPE,   /* unsupported content type                -> 415 */
    BT_ELIMIT,       /* rate limited                            -> 429 */
    BT_EHEADERS,     /* request headers over the cap            -> 431 */
    BT_EDB,          /* a database statement failed            -> 500 */
    BT_EINTERNAL,    /* bug or unexpected failure               -> 500 */
    BT_EUPSTREAM,    /* an external service failed              -> 502 */
    BT_EUNAVAILABLE, /* database or disk cannot serve now, not  -> 503
                      * configured, shutting down: retry later */
    BT_STATUS_MAX
};

#define BT_ERR_MAX_FIELDS 16

/* One offending input field, as reported by schema validation. */
struct bt_field_err {
    char field[64]; /* "configs[2].param_key", "" when not about one field */
    char msg[192];  /* lower-case english, no full stop: "must be at most 10" */
};

struct bt_err {
    enum bt_status code;
    int http;          /* 0 = the default for code; otherwise the HTTP status to send */
    char app_code[48]; /* optional app-level code ("TOKEN_EXPIRED"), "" if none */
    char field[64];    /* offending field, "" if none */
    char msg[512];     /* message; apps may put their user-facing text here */
    int nfields;       /* field errors collected by validation (all of them, up to max) */
    struct bt_field_err fields[BT_ERR_MAX_FIELDS];
    json_t *details; /* app-rendered error details (arena-owned via bt_json_own), NULL if none */
};

/** Reset err to BT_OK with empty strings. */
void bt_err_clear(struct bt_err *err);

/** Fill err and return code, so callers can write: return bt_fail(err, BT_EINVAL, ...).
 *  field may be NULL. err may be NULL (the code is still returned). */
int bt_fail(struct bt_err *err, enum bt_status code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int bt_vfail(struct bt_err *err, enum bt_status code, const char *field, const char *fmt,
             va_list ap) __attribute__((format(printf, 4, 0)));

/** Append one field error (validation). Sets err->code to BT_EINVAL. Ignored past the max. */
void bt_err_add_field(struct bt_err *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** The HTTP status to send for err (err->http if set, else the code's default). */
int bt_err_http(const struct bt_err *err);

/** The default HTTP status of a code, and a stable upper-case name ("NOT_FOUND"). */
int bt_status_http(enum bt_status code);
const char *bt_status_name(enum bt_status code);

/** Reason phrase for an HTTP status ("Not Found"); "Unknown" when not known. */
const char *bt_http_reason(int http);

/** Abort with a message: a programmer error, never bad input. */
void bt_bug(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
