/* SPDX-License-Identifier: MIT
 * log.c - structured JSON-lines logging. One line = one write(2) so threads never interleave.
 * Must not: log secrets or bodies (callers choose the fields; access-log fields are fixed).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bento/log.h>
#include <bento/time.h>

static enum bt_log_level log_level = BT_LOG_INFO;
static int log_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void bt_log_setup(enum bt_log_level level, int fd)
{
    log_level = level;
    log_fd = fd;
}

enum bt_log_level bt_log_get_level(void)
{
    return log_level;
}

enum bt_log_level bt_log_level_parse(const char *s, enum bt_log_level dflt)
{
    if (!s || !*s)
        return dflt;
    for (int i = 0; i <= BT_LOG_OFF; i++)
        if (!strcasecmp(s, level_names[i]))
            return (enum bt_log_level)i;
    if (!strcasecmp(s, "warning"))
        return BT_LOG_WARN;
    return dflt;
}

static void log_write(enum bt_log_level level, json_t *obj)
{
    char ts[32];
    char *line;
    size_t n, off = 0;

    json_object_set_new(obj, "ts", json_string(bt_time_fmt(bt_now_unix_us(), BT_ISO_MS_Z, ts)));
    json_object_set_new(obj, "level", json_string(level_names[level]));
    line = json_dumps(obj, JSON_COMPACT);
    if (!line)
        return;
    n = strlen(line);
    line[n] = '\n'; /* overwrite the NUL: we write n + 1 bytes */
    while (off < n + 1) {
        ssize_t w = write(log_fd, line + off, n + 1 - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(line);
}

void bt_log_json(enum bt_log_level level, json_t *obj)
{
    json_t *line;

    if (level < log_level || log_level == BT_LOG_OFF)
        return;
    /* ts and level first for readability, then the caller's members */
    line = json_pack("{s:n,s:n}", "ts", "level");
    json_object_update(line, obj);
    log_write(level, line);
    json_decref(line);
}

void bt_log(enum bt_log_level level, const char *msg, ...)
{
    va_list ap;
    json_t *obj;
    const char *k;

    if (level < log_level || log_level == BT_LOG_OFF)
        return;
    obj = json_object();
    json_object_set_new(obj, "ts", json_null());
    json_object_set_new(obj, "level", json_null());
    json_object_set_new(obj, "msg", json_string(msg ? msg : ""));
    va_start(ap, msg);
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        json_object_set_new(obj, k, v ? json_string(v) : json_null());
    }
    va_end(ap);
    log_write(level, obj);
    json_decref(obj);
}
