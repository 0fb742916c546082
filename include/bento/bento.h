/* SPDX-License-Identifier: MIT
 * bento.h - umbrella header: includes the public headers, nothing else. */
#ifndef BENTO_BENTO_H
#define BENTO_BENTO_H

#include <bento/arena.h>
#include <bento/err.h>
#include <bento/log.h>
#include <bento/time.h>
#include <bento/json.h>
#include <bento/schema.h>
#include <bento/http.h>
#include <bento/route.h>
#include <bento/db.h>
#include <bento/migrate.h>
#include <bento/search.h>
#include <bento/cache.h>
#include <bento/app.h>
#include <bento/config.h>
#include <bento/metrics.h>
#include <bento/client.h>
#include <bento/server.h>
#include <bento/auth.h>
#include <bento/session.h>
#include <bento/ratelimit.h>
#include <bento/loginguard.h>
#include <bento/multipart.h>
#include <bento/image.h>
#include <bento/files.h>
#include <bento/net.h>
#include <bento/cors.h>

#endif
