/* SPDX-License-Identifier: MIT
 * apps.h - the list of linked apps, NULL-terminated (src/apps.c). */
#ifndef BENTO_APPS_LIST_H
#define BENTO_APPS_LIST_H

#include <bento/app.h>

extern const struct bt_app *const bt_apps[];

#endif
