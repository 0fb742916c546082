/* SPDX-License-Identifier: MIT
 * docs.h - the /docs core routes (an interactive API reference per service) and the table of
 * embedded viewer files that cmake/BentoEmbedAssetsRun.cmake generates at build time.
 * Private to the core: apps never see it.
 */
#ifndef BENTO_HTTP_DOCS_H
#define BENTO_HTTP_DOCS_H

#include <stddef.h>

#include <bento/route.h>

/* One embedded file of the viewer, served as /docs/<name>. The name carries the viewer's
 * version ("swagger-ui-bundle-5.35.0.js"). The table ends with a zeroed entry. */
struct bt_docs_asset {
    const char *name;
    const unsigned char *data;
    size_t len;
};

extern const struct bt_docs_asset bt_docs_assets[];
extern const char bt_docs_viewer_version[]; /* swagger-ui-dist's version, "5.35.0" */

/** GET /docs: our HTML page, which loads the viewer and the service's own /openapi.json by
 *  relative URLs (so it works behind a proxy prefix and under the app's mount). */
int bt_docs_page(struct bt_req *rq, struct bt_res *rs, struct bt_err *err);
/** GET /docs/:file: an embedded viewer file, or our start-up script; 404 otherwise. */
int bt_docs_file(struct bt_req *rq, struct bt_res *rs, struct bt_err *err);

#endif
