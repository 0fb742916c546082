/* SPDX-License-Identifier: MIT
 * apps.c - the only place that knows which apps are linked in (like git's commands[]).
 * Order is the order of start-up and of `bento --help`.
 */
#include <stddef.h>

#include "apps.h"

extern const struct bt_app bt_app_vendorchat, bt_app_yunshui;

const struct bt_app *const bt_apps[] = {
    &bt_app_vendorchat,
    &bt_app_yunshui,
    NULL,
};
