/* SPDX-License-Identifier: MIT
 * time.c - clocks and ISO-8601 text. Stored timestamps are UTC, written by C (no DB defaults).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bento/arena.h>
#include <bento/time.h>

uint64_t bt_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t bt_now_unix_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t bt_now_unix(void)
{
    return bt_now_unix_us() / 1000000;
}

char *bt_time_fmt(int64_t unix_us, enum bt_iso_style style, char out[32])
{
    time_t secs = (time_t)(unix_us / 1000000);
    int64_t frac = unix_us % 1000000;
    struct tm tm;

    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    gmtime_r(&secs, &tm);
    switch (style) {
    case BT_ISO_DATE: strftime(out, 32, "%Y-%m-%d", &tm); break;
    case BT_ISO_SEC: strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm); break;
    case BT_ISO_US: {
        char base[24];
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out, 32, "%s.%06d", base, (int)frac);
        break;
    }
    case BT_ISO_MS_Z: {
        char base[24];
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out, 32, "%s.%03dZ", base, (int)(frac / 1000));
        break;
    }
    case BT_ISO_Z:
    default: strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm); break;
    }
    return out;
}

char *bt_now_iso(struct bt_arena *a)
{
    char buf[32];
    return bt_arena_strdup(a, bt_time_fmt(bt_now_unix_us(), BT_ISO_Z, buf));
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

int bt_time_parse(const char *s, int64_t *unix_us)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    int64_t us = 0, off = 0;
    struct tm tm;

    if (!s || strlen(s) < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
        s[7] != '-' || digits(s + 8, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    s += 10;
    if (*s == 'T' || *s == ' ') {
        s++;
        if (digits(s, 2, &h) || s[2] != ':' || digits(s + 3, 2, &mi))
            return -1;
        s += 5;
        if (*s == ':') {
            if (digits(s + 1, 2, &se))
                return -1;
            s += 3;
        }
        if (h > 23 || mi > 59 || se > 60)
            return -1;
        if (*s == '.') {
            int64_t scale = 100000;
            s++;
            if (*s < '0' || *s > '9')
                return -1;
            while (*s >= '0' && *s <= '9') {
                us += (*s - '0') * scale;
                scale /= 10;
                s++;
            }
        }
        if (*s == 'Z') {
            s++;
        } else if (*s == '+' || *s == '-') {
            int oh, om, sign = *s == '-' ? -1 : 1;
            if (digits(s + 1, 2, &oh) || s[3] != ':' || digits(s + 4, 2, &om))
                return -1;
            off = sign * (oh * 3600 + om * 60);
            s += 6;
        }
    }
    if (*s)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    *unix_us = ((int64_t)timegm(&tm) - off) * 1000000 + us;
    return 0;
}
