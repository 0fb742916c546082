/* SPDX-License-Identifier: MIT
 * time.h - clocks and ISO-8601 formatting. All stored timestamps are UTC text.
 */
#ifndef BENTO_TIME_H
#define BENTO_TIME_H

#include <stdint.h>
#include <time.h>

struct bt_arena;

/** Monotonic clock in nanoseconds (durations). */
uint64_t bt_mono_ns(void);

/** Wall clock: seconds and microseconds since the epoch. */
int64_t bt_now_unix(void);
int64_t bt_now_unix_us(void);

/** "2026-01-29T14:00:00Z" (UTC, seconds) for now, arena-owned. */
char *bt_now_iso(struct bt_arena *a);

/** Format a unix time in microseconds. style selects the shape:
 *  BT_ISO_Z       "2026-01-29T14:00:00Z"
 *  BT_ISO_MS_Z    "2026-01-29T14:00:00.123Z"
 *  BT_ISO_US      "2026-01-29T14:00:00.123456"   (no zone, Python isoformat() style)
 *  BT_ISO_SEC     "2026-01-29T14:00:00"          (no zone)
 *  BT_ISO_DATE    "2026-01-29"
 *  out must hold 32 bytes. Returns out. */
enum bt_iso_style { BT_ISO_Z, BT_ISO_MS_Z, BT_ISO_US, BT_ISO_SEC, BT_ISO_DATE };
char *bt_time_fmt(int64_t unix_us, enum bt_iso_style style, char out[32]);

/** Parse "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[.frac][Z|+hh:mm]" into unix microseconds.
 *  Returns 0 on success, -1 on malformed input. */
int bt_time_parse(const char *s, int64_t *unix_us);

#endif
