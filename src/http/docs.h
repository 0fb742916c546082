/* SPDX-License-Identifier: MIT
 * docs.h - the /docs core routes (an interactive API reference per service) and the table of
 * embedded viewer files that cmake/BentoEmbedAssetsRun.cmake generates at build time.
 * Private to the core: apps never see it.
 */
#ifndef BENTO_HTTP_DOCS_H
#define BENTO_HTTP_DOCS_H

#include <stddef.h>

#include <bento/route.h>

/* swagger-ui-dist's version, from tools/npm/package.json (cmake/BentoEmbedAssets.cmake) */
#ifndef BENTO_DOCS_VIEWER_VERSION
#error "BENTO_DOCS_VIEWER_VERSION is set by cmake/BentoEmbedAssets.cmake"
#endif

/* One embedded file of the viewer, served as /docs/<name>. The name carries the viewer's
 * version ("swagger-ui-bundle-5.35.0.js"). The table ends with a zeroed entry. */
struct bt_docs_asset {
    const char *name;
    const unsigned char *data;
    size_t len;
};

extern const struct bt_docs_asset bt_docs_assets[];

/** GET /docs: our HTML page, which loads the viewer and the service's own /openapi.json by
 *  relative URLs (so it works behind a proxy prefix and under the app's mount). */
int bt_docs_page(struct bt_req *rq, struct bt_res *rs, struct bt_err *err);
/** GET /docs/<file>: an embedded viewer file, or our start-up script. */
int bt_docs_file(struct bt_req *rq, struct bt_res *rs, struct bt_err *err);

/* The routes, one per file so each can declare its own media type (MEDIA: for the route's
 * response declaration once routes carry one); the core appends them to every app's table,
 * under its mount. Public and never rate limited: a person reading. The viewer's file names
 * must match BENTO_DOCS_ASSETS in cmake/BentoEmbedAssets.cmake (test_docs_bb fetches each). */
#define BT_DOCS_ROUTE(PATH, HANDLER, MEDIA, SUMMARY)                                               \
    {                                                                                              \
        .method = BT_GET, .path = PATH, .handler = HANDLER, .access = BT_PUBLIC,                   \
        .flags = BT_R_NO_LIMIT, .summary = SUMMARY, .ok_status = 200, .resp_media = MEDIA          \
    }
#define BT_DOCS_V BENTO_DOCS_VIEWER_VERSION
#define BT_DOCS_ROUTES                                                                             \
    BT_DOCS_ROUTE("/docs", bt_docs_page, "text/html", "interactive API reference (HTML)"),         \
        BT_DOCS_ROUTE("/docs/bento-docs.js", bt_docs_file, "text/javascript",                      \
                      "API reference: start-up script"),                                           \
        BT_DOCS_ROUTE("/docs/swagger-ui-bundle-" BT_DOCS_V ".js", bt_docs_file, "text/javascript", \
                      "API reference: Swagger UI"),                                                \
        BT_DOCS_ROUTE("/docs/swagger-ui-" BT_DOCS_V ".css", bt_docs_file, "text/css",              \
                      "API reference: stylesheet"),                                                \
        BT_DOCS_ROUTE("/docs/favicon-32x32-" BT_DOCS_V ".png", bt_docs_file, "image/png",          \
                      "API reference: icon"),                                                      \
        BT_DOCS_ROUTE("/docs/favicon-16x16-" BT_DOCS_V ".png", bt_docs_file, "image/png",          \
                      "API reference: icon")

#endif
