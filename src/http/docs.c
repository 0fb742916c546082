/* SPDX-License-Identifier: MIT
 * docs.c - /docs: Swagger UI (swagger-ui-dist, embedded at build time from tools/npm, see
 * docs/OPERATIONS.md) over the service's own /openapi.json, with try-it-out calls going to the
 * same origin. The HTML page and the start-up script are ours; the viewer's files are
 * served from the table the build generates, under versioned names with a year's caching.
 * Must not: fetch anything at run time; load anything from another origin (the page's
 * Content-Security-Policy allows only its own origin).
 */
#include <string.h>

#include <bento/bento.h>

#include "http/docs.h"

/* Only this origin: scripts and styles come from files (no inline code), the document and
 * try-it-out calls from the same listener. Swagger UI's stylesheet draws its icons as data:
 * SVG images, hence `img-src data:`; frames of other sites may not embed the page. */
#define DOCS_CSP                                                                                   \
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "               \
    "form-action 'self'; frame-ancestors 'self'"

/* Starts the viewer. Relative URLs: "/docs" loads "openapi.json" from "/", "/v1/docs" from
 * "/v1/", and a proxy's prefix is kept. The validator badge (a call to an outside service) is
 * off. */
static const char docs_js[] =
    "/* bento: start Swagger UI on this service's own OpenAPI document */\n"
    "window.addEventListener(\"load\", function () {\n"
    "  window.ui = SwaggerUIBundle({\n"
    "    url: new URL(\"openapi.json\", document.baseURI).href,\n"
    "    dom_id: \"#swagger-ui\",\n"
    "    deepLinking: true,\n"
    "    validatorUrl: null,\n"
    "    presets: [SwaggerUIBundle.presets.apis],\n"
    "    layout: \"BaseLayout\"\n"
    "  });\n"
    "});\n";

static void html_text(struct bt_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': bt_buf_adds(b, "&amp;"); break;
        case '<': bt_buf_adds(b, "&lt;"); break;
        case '>': bt_buf_adds(b, "&gt;"); break;
        case '"': bt_buf_adds(b, "&quot;"); break;
        default: bt_buf_addc(b, *s);
        }
    }
}

static void docs_headers(struct bt_res *rs, const char *cache)
{
    bt_res_header(rs, "Cache-Control", cache);
    bt_res_header(rs, "X-Content-Type-Options", "nosniff");
}

int bt_docs_page(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const struct bt_app *app = rq->ctx->app;
    const char *v = BENTO_DOCS_VIEWER_VERSION;
    struct bt_buf b;
    (void)err;

    bt_buf_init(&b, rq->arena, 1024);
    bt_buf_adds(&b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<title>");
    html_text(&b, app->title ? app->title : app->name);
    bt_buf_adds(&b, " - API reference</title>\n");
    bt_buf_addf(&b, "<link rel=\"stylesheet\" href=\"docs/swagger-ui-%s.css\">\n", v);
    bt_buf_addf(&b,
                "<link rel=\"icon\" type=\"image/png\" sizes=\"32x32\" "
                "href=\"docs/favicon-32x32-%s.png\">\n"
                "<link rel=\"icon\" type=\"image/png\" sizes=\"16x16\" "
                "href=\"docs/favicon-16x16-%s.png\">\n",
                v, v);
    bt_buf_adds(&b, "</head>\n<body>\n<div id=\"swagger-ui\"></div>\n");
    bt_buf_addf(&b, "<script src=\"docs/swagger-ui-bundle-%s.js\"></script>\n", v);
    bt_buf_adds(&b, "<script src=\"docs/bento-docs.js\"></script>\n</body>\n</html>\n");
    bt_res_static(rs, 200, "text/html; charset=utf-8", b.p, b.len);
    docs_headers(rs, "no-cache");
    bt_res_header(rs, "Content-Security-Policy", DOCS_CSP);
    return BT_OK;
}

static const char *media_type(const char *name)
{
    const char *dot = strrchr(name, '.');

    if (dot && !strcmp(dot, ".js"))
        return "text/javascript; charset=utf-8";
    if (dot && !strcmp(dot, ".css"))
        return "text/css; charset=utf-8";
    if (dot && !strcmp(dot, ".png"))
        return "image/png";
    return "application/octet-stream";
}

int bt_docs_file(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const char *slash = strrchr(rq->rel_path, '/'); /* routed: "/docs/<name>" */
    const char *name = slash ? slash + 1 : rq->rel_path;

    if (!strcmp(name, "bento-docs.js")) {
        /* ours, unversioned: small, revalidated on every load */
        bt_res_static(rs, 200, media_type(name), docs_js, sizeof(docs_js) - 1);
        docs_headers(rs, "no-cache");
        return BT_OK;
    }
    for (const struct bt_docs_asset *a = bt_docs_assets; a->name; a++) {
        if (!strcmp(a->name, name)) {
            bt_res_static(rs, 200, media_type(name), (const char *)a->data, a->len);
            docs_headers(rs, "public, max-age=31536000, immutable");
            return BT_OK;
        }
    }
    /* a route without its file: BT_DOCS_ROUTES and BENTO_DOCS_ASSETS disagree */
    return bt_fail(err, BT_EINTERNAL, NULL, "docs file %s is not embedded", name);
}
