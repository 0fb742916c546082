/* SPDX-License-Identifier: MIT
 * log.h - structured logging. Each line is one JSON object written with one write(2), so
 * lines from several threads never interleave.
 * Must not: log secrets, bodies, passwords or tokens.
 */
#ifndef BENTO_LOG_H
#define BENTO_LOG_H

#include <jansson.h>

enum bt_log_level { BT_LOG_DEBUG, BT_LOG_INFO, BT_LOG_WARN, BT_LOG_ERROR, BT_LOG_OFF };

/** Process-wide settings; call before threads start. fd defaults to 2 (stderr). */
void bt_log_setup(enum bt_log_level level, int fd);
enum bt_log_level bt_log_level_parse(const char *s, enum bt_log_level dflt);
enum bt_log_level bt_log_get_level(void);

/** Write {"ts":..,"level":..,"msg":..} plus the "key=value" pairs given in fmt-free form:
 *  bt_log(BT_LOG_INFO, "listening", "service", "vendorchat", "port", "8100", NULL).
 *  Values are strings; the list ends with NULL. */
void bt_log(enum bt_log_level level, const char *msg, ...);

/** Write obj (borrowed) as one line, adding "ts" and "level". */
void bt_log_json(enum bt_log_level level, json_t *obj);

#define bt_log_info(msg, ...) bt_log(BT_LOG_INFO, msg, __VA_ARGS__)
#define bt_log_warn(msg, ...) bt_log(BT_LOG_WARN, msg, __VA_ARGS__)
#define bt_log_error(msg, ...) bt_log(BT_LOG_ERROR, msg, __VA_ARGS__)

#endif
