/* SPDX-License-Identifier: MIT
 * apps.h - the list of linked apps, NULL-terminated, in BENTO_APPS order. Defined in the
 * build tree's generated/apps.c, written by cmake/BentoApps.cmake from CMakeLists.txt. */
#ifndef BENTO_APPS_LIST_H
#define BENTO_APPS_LIST_H

#include <bento/app.h>

extern const struct bt_app *const bt_apps[];

#endif
