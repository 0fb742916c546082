/* SPDX-License-Identifier: MIT
 * err.c - status codes, their HTTP mapping (the one table), and struct bt_err helpers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bento/err.h>

static const struct {
    int http;
    const char *name;
} bt_status_table[BT_STATUS_MAX] = {
    [BT_OK] = {200, "OK"},
    [BT_EINVAL] = {400, "VALIDATION_ERROR"},
    [BT_EMALFORMED] = {400, "BAD_REQUEST"},
    [BT_EAUTH] = {401, "UNAUTHORIZED"},
    [BT_EFORBIDDEN] = {403, "FORBIDDEN"},
    [BT_ENOTFOUND] = {404, "NOT_FOUND"},
    [BT_EMETHOD] = {405, "METHOD_NOT_ALLOWED"},
    [BT_ECONFLICT] = {409, "CONFLICT"},
    [BT_ETOOLARGE] = {413, "PAYLOAD_TOO_LARGE"},
    [BT_EMEDIATYPE] = {415, "UNSUPPORTED_MEDIA_TYPE"},
    [BT_ELIMIT] = {429, "RATE_LIMITED"},
    [BT_EHEADERS] = {431, "HEADERS_TOO_LARGE"},
    [BT_EDB] = {500, "DATABASE_ERROR"},
    [BT_EINTERNAL] = {500, "INTERNAL_ERROR"},
    [BT_EUPSTREAM] = {502, "UPSTREAM_ERROR"},
    [BT_EUNAVAILABLE] = {503, "SERVICE_UNAVAILABLE"},
};

void bt_err_clear(struct bt_err *err)
{
    err->code = BT_OK;
    err->http = 0;
    err->app_code[0] = '\0';
    err->field[0] = '\0';
    err->msg[0] = '\0';
    err->nfields = 0;
    err->details = NULL;
}

int bt_vfail(struct bt_err *err, enum bt_status code, const char *field, const char *fmt,
             va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    if (fmt)
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    else
        err->msg[0] = '\0';
    return code;
}

int bt_fail(struct bt_err *err, enum bt_status code, const char *field, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    bt_vfail(err, code, field, fmt, ap);
    va_end(ap);
    return code;
}

void bt_err_add_field(struct bt_err *err, const char *field, const char *fmt, ...)
{
    va_list ap;
    struct bt_field_err *f;

    err->code = BT_EINVAL;
    if (err->nfields >= BT_ERR_MAX_FIELDS)
        return;
    f = &err->fields[err->nfields++];
    snprintf(f->field, sizeof(f->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
    va_end(ap);
}

int bt_status_http(enum bt_status code)
{
    if ((int)code < 0 || code >= BT_STATUS_MAX || !bt_status_table[code].name)
        return 500;
    return bt_status_table[code].http;
}

const char *bt_status_name(enum bt_status code)
{
    if ((int)code < 0 || code >= BT_STATUS_MAX || !bt_status_table[code].name)
        return "INTERNAL_ERROR";
    return bt_status_table[code].name;
}

int bt_err_http(const struct bt_err *err)
{
    return err->http ? err->http : bt_status_http(err->code);
}

const char *bt_http_reason(int http)
{
    switch (http) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

void bt_bug(const char *fmt, ...)
{
    va_list ap;

    fputs("bento: bug: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
