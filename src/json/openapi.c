/* SPDX-License-Identifier: MIT
 * openapi.c - the OpenAPI 3.1.0 document of a running app, generated from its route table
 * and validation tables (the same data the pipeline enforces, so the two cannot drift).
 * Output is deterministic: paths in route-table order, fields in schema order.
 * Every route is listed, aliases (BT_R_ALIAS) as deprecated operations. Responses: the
 * route's declared success (resp / resp_media / 204) and one error response per HTTP status
 * its failures can take, derived from the pipeline's phases plus the route's own `errors`,
 * with the status the app's renderer really sends.
 * Must not: depend on anything but the tables and the app's renderer.
 */
#include <bento/bento.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bento/app.h>
#include <bento/route.h>
#include <bento/schema.h>

static json_t *field_schema(const struct bt_field *f, bool resp);

/* An object of fields. Request bodies (resp false) say additionalProperties: false only for
 * BT_S_REJECT_EXTRA (other extras are dropped or kept, never refused) and leave required out
 * for partial updates. Responses (resp true) are closed unless BT_S_ALLOW_EXTRA: what the
 * handler sends is exactly what the table declares. */
static json_t *fields_object_schema(const struct bt_field *fields, unsigned sflags, bool resp)
{
    json_t *j_obj = json_object();
    json_t *j_props = json_object();
    json_t *j_req = json_array();

    json_object_set_new(j_obj, "type", json_string("object"));
    for (const struct bt_field *f = fields; f && f->type != BT_T_NONE; f++) {
        json_object_set_new(j_props, f->name, field_schema(f, resp));
        if ((f->flags & BT_F_REQUIRED) && (resp || !(sflags & BT_S_PARTIAL)))
            json_array_append_new(j_req, json_string(f->name));
    }
    json_object_set_new(j_obj, "properties", j_props);
    if (json_array_size(j_req) > 0)
        json_object_set_new(j_obj, "required", j_req);
    else
        json_decref(j_req);
    if (resp ? !(sflags & BT_S_ALLOW_EXTRA) : (sflags & BT_S_REJECT_EXTRA) != 0)
        json_object_set_new(j_obj, "additionalProperties", json_false());
    return j_obj;
}

/* Bounds are whole numbers in almost every table; print them as integers then. */
static json_t *bound(double v)
{
    if (v == (double)(json_int_t)v)
        return json_integer((json_int_t)v);
    return json_real(v);
}

static const char *type_name(enum bt_ftype t)
{
    switch (t) {
    case BT_T_STR:
    case BT_T_ENUM:
    case BT_T_FILE: return "string";
    case BT_T_INT: return "integer";
    case BT_T_NUM: return "number";
    case BT_T_BOOL: return "boolean";
    case BT_T_ARRAY: return "array";
    case BT_T_OBJECT: return "object";
    default: return NULL;
    }
}

/* The schema of one element of an array or value of a map described by f. */
static json_t *element_schema(const struct bt_field *f, bool resp);

/* The schema of a value of type t described by f (t differs from f->type for the elements of
 * an array of scalars, which share the field's enum and bounds). */
static json_t *typed_schema(const struct bt_field *f, enum bt_ftype t, bool nullable, bool resp)
{
    json_t *j;
    const char *tn = type_name(t);

    if (t == BT_T_OBJECT && f->items && !(t == f->type && (f->flags & BT_F_MAP)))
        j = fields_object_schema(f->items, 0, resp);
    else
        j = json_object();
    if (tn) {
        if (nullable) {
            json_t *j_types = json_array();
            json_array_append_new(j_types, json_string(tn));
            json_array_append_new(j_types, json_string("null"));
            json_object_set_new(j, "type", j_types);
        } else {
            json_object_set_new(j, "type", json_string(tn));
        }
    }
    switch (t) {
    case BT_T_STR:
        if (t == f->type) {
            size_t min = f->min_len;
            if ((f->flags & BT_F_NONEMPTY) && min == 0)
                min = 1;
            if (min)
                json_object_set_new(j, "minLength", json_integer((json_int_t)min));
            if (f->max_len)
                json_object_set_new(j, "maxLength", json_integer((json_int_t)f->max_len));
        }
        if (f->format)
            json_object_set_new(j, "format", json_string(f->format));
        break;
    case BT_T_FILE: json_object_set_new(j, "format", json_string("binary")); break;
    case BT_T_INT:
    case BT_T_NUM:
        if (f->flags & BT_F_MIN)
            json_object_set_new(j, "minimum", bound(f->min));
        if (f->flags & BT_F_MAX)
            json_object_set_new(j, "maximum", bound(f->max));
        break;
    case BT_T_ENUM: {
        json_t *j_enum = json_array();
        for (size_t i = 0; f->one_of && f->one_of[i]; i++)
            json_array_append_new(j_enum, json_string(f->one_of[i]));
        if (nullable)
            json_array_append_new(j_enum, json_null());
        json_object_set_new(j, "enum", j_enum);
        break;
    }
    case BT_T_OBJECT:
        if (t == f->type && (f->flags & BT_F_MAP))
            json_object_set_new(j, "additionalProperties", element_schema(f, resp));
        break;
    default: break;
    }
    return j;
}

static json_t *element_schema(const struct bt_field *f, bool resp)
{
    enum bt_ftype it = f->items ? BT_T_OBJECT : f->item_type;

    if (it == BT_T_NONE || it == BT_T_ANY)
        return json_object();
    if (it == BT_T_OBJECT)
        return f->items ? fields_object_schema(f->items, 0, resp)
                        : json_pack("{s:s}", "type", "object");
    return typed_schema(f, it, false, resp);
}

static json_t *field_schema(const struct bt_field *f, bool resp)
{
    bool nullable = (f->flags & BT_F_NULLABLE) != 0;
    json_t *j;

    if (f->type == BT_T_ARRAY) {
        j = typed_schema(f, BT_T_ARRAY, nullable, resp);
        json_object_set_new(j, "items", element_schema(f, resp));
        if (f->min_len)
            json_object_set_new(j, "minItems", json_integer((json_int_t)f->min_len));
        if (f->max_len)
            json_object_set_new(j, "maxItems", json_integer((json_int_t)f->max_len));
    } else {
        j = typed_schema(f, f->type, nullable, resp);
    }
    if (f->desc)
        json_object_set_new(j, "description", json_string(f->desc));
    return j;
}

/* ---- paths ---- */

static const char *method_key(enum bt_method m)
{
    switch (m) {
    case BT_GET: return "get";
    case BT_POST: return "post";
    case BT_PUT: return "put";
    case BT_PATCH: return "patch";
    case BT_DELETE: return "delete";
    case BT_HEAD: return "head";
    case BT_OPTIONS: return "options";
    default: return NULL;
    }
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The names of the "{name}" segments of an OpenAPI path, in order. */
static json_t *label_params(const char *label)
{
    json_t *names = json_array();

    for (const char *p = label; (p = strchr(p, '{')) != NULL;) {
        const char *e = strchr(p, '}');
        if (!e)
            break;
        json_array_append_new(names, json_stringn(p + 1, (size_t)(e - p - 1)));
        p = e + 1;
    }
    return names;
}

/* A path parameter's schema: its declaration in the app's path_params table, else a string. */
static json_t *path_param_schema(const struct bt_app *app, const char *name)
{
    for (const struct bt_field *f = app ? app->path_params : NULL; f && f->type != BT_T_NONE; f++)
        if (!strcmp(f->name, name))
            return field_schema(f, false);
    return json_pack("{s:s}", "type", "string");
}

/* "get" + "/materials/{id}" -> "get_materials_id": stable (from the table) and unique. */
static void operation_id(char *buf, size_t cap, const char *method, const char *path, json_t *used)
{
    size_t o = (size_t)snprintf(buf, cap, "%s", method);
    bool sep = true; /* a separator is owed before the next word */

    for (const char *p = path; *p && o + 2 < cap; p++) {
        if (is_name_char(*p) && *p != '_') {
            if (sep)
                buf[o++] = '_';
            buf[o++] = *p;
            sep = false;
        } else {
            sep = true;
        }
    }
    buf[o] = '\0';
    /* Different paths can sanitize alike ("/a-b", "/a_b"): keep every id unique. */
    if (json_object_get(used, buf)) {
        size_t base = o;
        for (int k = 2; json_object_get(used, buf); k++)
            snprintf(buf + base, cap - base, "_%d", k);
    }
    json_object_set_new(used, buf, json_true());
}

/* What one document build shares between operations. */
struct gen {
    const struct bt_app_ctx *ctx;
    const struct bt_app *app;
    json_t *schemas;         /* components.schemas */
    json_t *seen;            /* table identity -> component name */
    json_t *used;            /* operationIds handed out */
    int http[BT_STATUS_MAX]; /* the HTTP status the app's renderer sends for each code */
    const char *error_ref;   /* "#/components/schemas/<error>" or NULL */
    bool bearer_used;
};

/* The component name of s in one direction, registering it on first use. Distinct tables
 * sharing a name get a numeric suffix so neither is lost. */
static const char *component_for(struct gen *g, const struct bt_schema *s, bool resp,
                                 const char *fallback, char *buf, size_t cap)
{
    char key[240];
    json_t *known;

    /* A plain and an array_body schema over the same table describe the same component. */
    snprintf(key, sizeof key, "%s/%p/%x/%.100s", resp ? "resp" : "req", (const void *)s->fields,
             s->flags, s->name ? s->name : "");
    known = json_object_get(g->seen, key);
    if (known)
        return json_string_value(known);
    if (s->name && *s->name)
        snprintf(buf, cap, "%s", s->name);
    else
        snprintf(buf, cap, "%.100s", fallback);
    if (json_object_get(g->schemas, buf)) {
        size_t base = strlen(buf);
        for (int k = 2; json_object_get(g->schemas, buf); k++)
            snprintf(buf + base, cap - base, "%d", k);
    }
    json_object_set_new(g->schemas, buf, fields_object_schema(s->fields, s->flags, resp));
    json_object_set_new(g->seen, key, json_string(buf));
    return buf;
}

/* {"$ref": ...} to s's component, wrapped in an array for array bodies. */
static json_t *schema_ref(struct gen *g, const struct bt_schema *s, bool resp, const char *fallback)
{
    char cname[160], ref[200];
    json_t *j;

    snprintf(ref, sizeof ref, "#/components/schemas/%s",
             component_for(g, s, resp, fallback, cname, sizeof cname));
    j = json_pack("{s:s}", "$ref", ref);
    if (s->array_body)
        j = json_pack("{s:s, s:o}", "type", "array", "items", j);
    return j;
}

/* The HTTP status the app sends for each code: its renderer run on a synthetic error, so the
 * document cannot disagree with what clients receive. */
static void map_statuses(struct gen *g)
{
    for (int c = BT_OK + 1; c < BT_STATUS_MAX; c++) {
        struct bt_arena *a;
        struct bt_req rq;
        struct bt_res rs;
        struct bt_err err;

        g->http[c] = bt_status_http((enum bt_status)c);
        if (!g->app || !g->app->render_error)
            continue;
        a = bt_arena_new();
        bt_req_init(&rq, &rs, a, (struct bt_app_ctx *)(uintptr_t)g->ctx);
        rq.request_id = "openapi";
        bt_err_clear(&err);
        if (c == BT_EINVAL || c == BT_EMALFORMED)
            bt_err_add_field(&err, "field", "example");
        err.code = (enum bt_status)c;
        g->app->render_error(&rq, &rs, &err);
        if (rs.status >= 400 && rs.status <= 599)
            g->http[c] = rs.status;
        json_decref(rs.json);
        bt_arena_free(a);
    }
}

static bool method_has_body(enum bt_method m)
{
    return m == BT_POST || m == BT_PUT || m == BT_PATCH;
}

unsigned bt_route_errors(const struct bt_app_ctx *ctx, const struct bt_route *rt)
{
    const struct bt_app *app = ctx ? ctx->app : NULL;
    unsigned e = rt->errors | BT_XERR(BT_EINTERNAL) | BT_XERR(BT_EDB) | BT_XERR(BT_EUNAVAILABLE);
    bool json_body =
        rt->body && !(rt->body->flags & BT_S_MULTIPART) && !(rt->flags & BT_R_RAW_BODY);

    if (rt->query)
        e |= BT_XERR(BT_EINVAL);
    if (json_body || ((rt->flags & BT_R_JSON_BODY) && !(rt->flags & BT_R_RAW_BODY))) {
        e |= BT_XERR(BT_EMALFORMED);
        if (rt->body)
            e |= BT_XERR(BT_EINVAL);
        if (app && (app->flags & BT_APP_STRICT_JSON))
            e |= BT_XERR(BT_EMEDIATYPE);
    }
    if (rt->body || (rt->flags & (BT_R_JSON_BODY | BT_R_RAW_BODY)) || method_has_body(rt->method))
        e |= BT_XERR(BT_ETOOLARGE);
    if (!(rt->access & BT_PUBLIC))
        e |= BT_XERR(BT_EAUTH);
    if (rt->access & ~0xffffu)
        e |= BT_XERR(BT_EFORBIDDEN);
    if (app && !(rt->flags & BT_R_NO_LIMIT) &&
        ((ctx && ctx->limiter) || (!(ctx && ctx->config) && app->rate.limit > 0)))
        e |= BT_XERR(BT_ELIMIT);
    if (strchr(rt->path, ':'))
        e |= BT_XERR(BT_ENOTFOUND);
    return e;
}

/* One error response per HTTP status the route can fail with; its description names the
 * codes behind it ("NOT_FOUND" or "DATABASE_ERROR, INTERNAL_ERROR"). */
static void error_responses(struct gen *g, const struct bt_route *rt, json_t *j_resp)
{
    unsigned e = bt_route_errors(g->ctx, rt);
    bool done[BT_STATUS_MAX] = {false};

    for (int c = BT_OK + 1; c < BT_STATUS_MAX; c++) {
        char status[16], desc[256];
        size_t o = 0;
        json_t *r;

        if (!(e & BT_XERR(c)) || done[c])
            continue;
        desc[0] = '\0';
        for (int d = c; d < BT_STATUS_MAX; d++) {
            if (!(e & BT_XERR(d)) || g->http[d] != g->http[c])
                continue;
            done[d] = true;
            if (o < sizeof desc - 1)
                o += (size_t)snprintf(desc + o, sizeof desc - o, "%s%s", o ? ", " : "",
                                      bt_status_name((enum bt_status)d));
        }
        snprintf(status, sizeof status, "%d", g->http[c]);
        if (json_object_get(j_resp, status))
            continue; /* the success status (a degraded /health answers 503 with its body) */
        r = json_pack("{s:s}", "description", desc);
        if (g->error_ref)
            json_object_set_new(
                r, "content",
                json_pack("{s:{s:{s:s}}}", "application/json", "schema", "$ref", g->error_ref));
        json_object_set_new(j_resp, status, r);
    }
}

static json_t *success_content(struct gen *g, const struct bt_route *rt, const char *opid)
{
    char fallback[200];

    if (rt->resp_media) {
        json_t *j_schema = json_pack("{s:s}", "type", "string");
        if (strncmp(rt->resp_media, "text/", 5)) /* images and other bytes */
            json_object_set_new(j_schema, "format", json_string("binary"));
        return json_pack("{s:{s:o}}", rt->resp_media, "schema", j_schema);
    }
    if (!rt->resp)
        return NULL;
    snprintf(fallback, sizeof fallback, "%.150sResponse", opid);
    return json_pack("{s:{s:o}}", "application/json", "schema",
                     schema_ref(g, rt->resp, true, fallback));
}

static json_t *operation(struct gen *g, const struct bt_route *rt, const char *mkey,
                         const char *label)
{
    const struct bt_app *app = g->app;
    json_t *op = json_object();
    json_t *j_params = json_array();
    json_t *j_resp = json_object();
    json_t *path_params = label_params(label);
    json_t *content, *ok;
    char opid[256], status[16];
    size_t i;
    json_t *pn;

    if (rt->summary)
        json_object_set_new(op, "summary", json_string(rt->summary));
    operation_id(opid, sizeof opid, mkey, label, g->used);
    json_object_set_new(op, "operationId", json_string(opid));
    if (rt->flags & BT_R_ALIAS)
        json_object_set_new(op, "deprecated", json_true());

    json_array_foreach(path_params, i, pn)
    {
        const char *name = json_string_value(pn);
        json_t *j_ps = path_param_schema(app, name);
        json_t *desc = json_object_get(j_ps, "description");
        json_t *j_p = json_pack("{s:s, s:s, s:b}", "name", name, "in", "path", "required", 1);
        if (desc)
            json_object_set(j_p, "description", desc);
        json_object_del(j_ps, "description"); /* on the parameter, not its schema */
        json_object_set_new(j_p, "schema", j_ps);
        json_array_append_new(j_params, j_p);
    }
    json_decref(path_params);
    for (const struct bt_field *f = rt->query ? rt->query->fields : NULL; f && f->type != BT_T_NONE;
         f++) {
        json_t *p = json_object(), *j_fs;
        json_object_set_new(p, "name", json_string(f->name));
        json_object_set_new(p, "in", json_string("query"));
        json_object_set_new(p, "required", json_boolean(f->flags & BT_F_REQUIRED));
        if (f->desc)
            json_object_set_new(p, "description", json_string(f->desc));
        j_fs = field_schema(f, false);
        json_object_del(j_fs, "description"); /* already on the parameter */
        json_object_set_new(p, "schema", j_fs);
        json_array_append_new(j_params, p);
    }
    if (json_array_size(j_params) > 0)
        json_object_set_new(op, "parameters", j_params);
    else
        json_decref(j_params);

    if (rt->body) {
        char fallback[200];
        const char *media =
            (rt->body->flags & BT_S_MULTIPART) ? "multipart/form-data" : "application/json";
        snprintf(fallback, sizeof fallback, "%.150sBody", opid);
        json_object_set_new(op, "requestBody",
                            json_pack("{s:b, s:{s:{s:o}}}", "required", 1, "content", media,
                                      "schema", schema_ref(g, rt->body, false, fallback)));
    }

    if (app && app->security && !strcmp(app->security, "bearer") && !(rt->access & BT_PUBLIC)) {
        json_object_set_new(op, "security", json_pack("[{s:[]}]", "bearerAuth"));
        g->bearer_used = true;
    } else {
        json_object_set_new(op, "security", json_array()); /* explicitly: no credentials */
    }
    snprintf(status, sizeof status, "%d", rt->ok_status ? rt->ok_status : 200);
    ok = json_pack("{s:s}", "description", rt->ok_status == 204 ? "no content" : "success");
    content = success_content(g, rt, opid);
    if (content) {
        json_object_set_new(ok, "content", content);
        if (rt->flags & BT_R_DEGRADED_503)
            json_object_set_new(
                j_resp, "503",
                json_pack("{s:s,s:O}", "description", "degraded", "content", content));
    }
    json_object_set_new(j_resp, status, ok);
    error_responses(g, rt, j_resp);
    json_object_set_new(op, "responses", j_resp);
    return op;
}

/* servers: the public base URL when the service has one, then the mount as a relative URL
 * (resolved against the document's own location, so "try it out" works behind any proxy). */
static json_t *servers(const struct bt_app_ctx *ctx, const char *mount)
{
    json_t *list = json_array();
    const char *pub = ctx && ctx->config ? bt_app_setting(ctx, "public_url", NULL) : NULL;

    if (pub && *pub) {
        size_t n = strlen(pub);
        char *url;
        while (n > 0 && pub[n - 1] == '/')
            n--;
        url = malloc(n + strlen(mount) + 1);
        if (url) {
            memcpy(url, pub, n);
            strcpy(url + n, mount);
            json_array_append_new(list, json_pack("{s:s}", "url", url));
            free(url);
        }
    }
    json_array_append_new(list, json_pack("{s:s}", "url", *mount ? mount : "/"));
    return list;
}

json_t *bt_openapi_build(const struct bt_app_ctx *ctx)
{
    const struct bt_app *app = ctx ? ctx->app : NULL;
    const char *mount = app && app->mount ? app->mount : "";
    json_t *doc = json_object();
    json_t *j_paths = json_object();
    json_t *j_components;
    size_t n = ctx && ctx->router ? bt_router_count(ctx->router) : 0;
    struct gen g;
    char err_ref[200];

    memset(&g, 0, sizeof g);
    g.ctx = ctx;
    g.app = app;
    g.schemas = json_object();
    g.seen = json_object();
    g.used = json_object();
    map_statuses(&g);
    if (app && app->error_schema) {
        char cname[160];
        snprintf(err_ref, sizeof err_ref, "#/components/schemas/%s",
                 component_for(&g, app->error_schema, true, "Error", cname, sizeof cname));
        g.error_ref = err_ref;
    }

    json_object_set_new(doc, "openapi", json_string("3.1.0"));
    json_object_set_new(
        doc, "info",
        json_pack("{s:s, s:s}", "title",
                  app && app->title ? app->title : (app && app->name ? app->name : "bento"),
                  "version", app && app->version ? app->version : "0.0.0"));
    json_object_set_new(doc, "servers", servers(ctx, mount));

    for (size_t i = 0; i < n; i++) {
        const struct bt_route *rt = bt_router_at(ctx->router, i);
        const char *mkey = rt ? method_key(rt->method) : NULL;
        const char *label = bt_router_label(ctx->router, i);
        json_t *j_item;

        if (!mkey || !rt->path || !label)
            continue;
        j_item = json_object_get(j_paths, label);
        if (!j_item) {
            j_item = json_object();
            json_object_set_new(j_paths, label, j_item);
        }
        json_object_set_new(j_item, mkey, operation(&g, rt, mkey, label));
    }
    json_object_set_new(doc, "paths", j_paths);
    j_components = json_pack("{s:o}", "schemas", g.schemas);
    if (g.bearer_used)
        json_object_set_new(j_components, "securitySchemes",
                            json_pack("{s:{s:s,s:s,s:s}}", "bearerAuth", "type", "http", "scheme",
                                      "bearer", "bearerFormat", "JWT"));
    json_object_set_new(doc, "components", j_components);
    json_decref(g.seen);
    json_decref(g.used);
    return doc;
}

int bt_openapi_check(const struct bt_app *app, const struct bt_route *routes, size_t n,
                     struct bt_err *err)
{
    if (!app->error_schema)
        return BT_OK;
    for (size_t i = 0; i < n; i++) {
        const struct bt_route *rt = &routes[i];
        if (!rt->resp && !rt->resp_media && rt->ok_status != 204)
            return bt_fail(err, BT_EINTERNAL, NULL,
                           "%s: route %s %s declares no response (resp, resp_media or 204)",
                           app->name, bt_method_name(rt->method), rt->path);
        if (rt->resp && rt->resp_media)
            return bt_fail(err, BT_EINTERNAL, NULL,
                           "%s: route %s %s declares both a JSON and a %s response", app->name,
                           bt_method_name(rt->method), rt->path, rt->resp_media);
    }
    return BT_OK;
}
