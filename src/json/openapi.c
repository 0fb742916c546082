/* SPDX-License-Identifier: MIT
 * openapi.c - the OpenAPI 3.1.0 document of a running app, generated from its route table
 * and validation tables (the same data the pipeline enforces, so the two cannot drift).
 * Output is deterministic: paths in route-table order, fields in schema order.
 * Must not: describe hidden routes (BT_R_ALIAS); depend on anything but the tables.
 */
#include <bento/server.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bento/app.h>
#include <bento/route.h>
#include <bento/schema.h>

static json_t *field_schema(const struct bt_field *f);

static json_t *fields_object_schema(const struct bt_field *fields, unsigned sflags)
{
    json_t *j_obj = json_object();
    json_t *j_props = json_object();
    json_t *j_req = json_array();

    json_object_set_new(j_obj, "type", json_string("object"));
    for (const struct bt_field *f = fields; f && f->type != BT_T_NONE; f++) {
        json_object_set_new(j_props, f->name, field_schema(f));
        if ((f->flags & BT_F_REQUIRED) && !(sflags & BT_S_PARTIAL))
            json_array_append_new(j_req, json_string(f->name));
    }
    json_object_set_new(j_obj, "properties", j_props);
    if (json_array_size(j_req) > 0)
        json_object_set_new(j_obj, "required", j_req);
    else
        json_decref(j_req);
    if (sflags & BT_S_REJECT_EXTRA)
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
    case BT_T_ENUM: return "string";
    case BT_T_INT: return "integer";
    case BT_T_NUM: return "number";
    case BT_T_BOOL: return "boolean";
    case BT_T_ARRAY: return "array";
    case BT_T_OBJECT: return "object";
    default: return NULL;
    }
}

/* The schema of a value of type t described by f (t differs from f->type for the elements of
 * an array of scalars, which share the field's enum and bounds). */
static json_t *typed_schema(const struct bt_field *f, enum bt_ftype t, bool nullable)
{
    json_t *j;
    const char *tn = type_name(t);

    if (t == BT_T_OBJECT && f->items)
        j = fields_object_schema(f->items, 0);
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
        break;
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
    default: break;
    }
    return j;
}

static json_t *field_schema(const struct bt_field *f)
{
    bool nullable = (f->flags & BT_F_NULLABLE) != 0;
    json_t *j;

    if (f->type == BT_T_ARRAY) {
        enum bt_ftype it = f->items ? BT_T_OBJECT : f->item_type;
        j = typed_schema(f, BT_T_ARRAY, nullable);
        if (it == BT_T_NONE || it == BT_T_ANY)
            json_object_set_new(j, "items", json_object());
        else
            json_object_set_new(j, "items", typed_schema(f, it, false));
        if (f->min_len)
            json_object_set_new(j, "minItems", json_integer((json_int_t)f->min_len));
        if (f->max_len)
            json_object_set_new(j, "maxItems", json_integer((json_int_t)f->max_len));
    } else {
        j = typed_schema(f, f->type, nullable);
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

/* "/vendors/:vendor_id" -> "/vendors/{vendor_id}" after the mount prefix. Path parameter
 * names are appended to params as they appear. */
static char *openapi_path(const char *mount, const char *path, json_t *params)
{
    size_t cap = strlen(mount) + 2 * strlen(path) + 4;
    char *out = malloc(cap);
    size_t o = 0;

    if (!out)
        return NULL;
    o += (size_t)snprintf(out, cap, "%s", mount);
    if (o > 0 && strcmp(path, "/") == 0) /* "/v1" + "/" reads better as "/v1" */
        path = "";
    for (const char *p = path; *p;) {
        if (*p == ':' && (p == path || p[-1] == '/')) {
            const char *s = ++p;
            while (*p && is_name_char(*p))
                p++;
            out[o++] = '{';
            memcpy(out + o, s, (size_t)(p - s));
            o += (size_t)(p - s);
            out[o++] = '}';
            json_array_append_new(params, json_stringn(s, (size_t)(p - s)));
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return out;
}

/* A path parameter's schema: its declaration in the app's path_params table, else a string. */
static json_t *path_param_schema(const struct bt_app *app, const char *name)
{
    for (const struct bt_field *f = app ? app->path_params : NULL; f && f->type != BT_T_NONE; f++)
        if (!strcmp(f->name, name))
            return field_schema(f);
    return json_pack("{s:s}", "type", "string");
}

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

/* The component name of s, registering it on first use. Distinct tables sharing a name get
 * a numeric suffix so neither is lost. */
static const char *component_for(json_t *j_schemas, json_t *seen, const struct bt_schema *s,
                                 const char *op_id, char *buf, size_t cap)
{
    char key[200];
    json_t *known;

    /* A plain and an array_body schema over the same table describe the same component. */
    snprintf(key, sizeof key, "%p/%x/%.100s", (const void *)s->fields, s->flags,
             s->name ? s->name : "");
    known = json_object_get(seen, key);
    if (known)
        return json_string_value(known);
    if (s->name && *s->name)
        snprintf(buf, cap, "%s", s->name);
    else
        snprintf(buf, cap, "%.100sBody", op_id);
    if (json_object_get(j_schemas, buf)) {
        size_t base = strlen(buf);
        for (int k = 2; json_object_get(j_schemas, buf); k++)
            snprintf(buf + base, cap - base, "%d", k);
    }
    json_object_set_new(j_schemas, buf, fields_object_schema(s->fields, s->flags));
    json_object_set_new(seen, key, json_string(buf));
    return buf;
}

static json_t *operation(const struct bt_app *app, const struct bt_route *rt, const char *mkey,
                         const char *opath, json_t *path_params, json_t *j_schemas, json_t *seen,
                         json_t *used)
{
    json_t *op = json_object();
    json_t *j_params = json_array();
    json_t *j_resp = json_object();
    char opid[256], cname[160], status[16];
    size_t i;
    json_t *pn;

    if (rt->summary)
        json_object_set_new(op, "summary", json_string(rt->summary));
    operation_id(opid, sizeof opid, mkey, opath, used);
    json_object_set_new(op, "operationId", json_string(opid));

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
    for (const struct bt_field *f = rt->query ? rt->query->fields : NULL; f && f->type != BT_T_NONE;
         f++) {
        json_t *p = json_object(), *j_fs;
        json_object_set_new(p, "name", json_string(f->name));
        json_object_set_new(p, "in", json_string("query"));
        json_object_set_new(p, "required", json_boolean(f->flags & BT_F_REQUIRED));
        if (f->desc)
            json_object_set_new(p, "description", json_string(f->desc));
        j_fs = field_schema(f);
        json_object_del(j_fs, "description"); /* already on the parameter */
        json_object_set_new(p, "schema", j_fs);
        json_array_append_new(j_params, p);
    }
    if (json_array_size(j_params) > 0)
        json_object_set_new(op, "parameters", j_params);
    else
        json_decref(j_params);

    if (rt->body) {
        const char *cn = component_for(j_schemas, seen, rt->body, opid, cname, sizeof cname);
        char ref[200];
        json_t *j_schema;

        snprintf(ref, sizeof ref, "#/components/schemas/%s", cn);
        j_schema = json_pack("{s:s}", "$ref", ref);
        if (rt->body->array_body)
            j_schema = json_pack("{s:s, s:o}", "type", "array", "items", j_schema);
        json_object_set_new(op, "requestBody",
                            json_pack("{s:b, s:{s:{s:o}}}", "required", 1, "content",
                                      "application/json", "schema", j_schema));
    }

    if (app && app->security && !(rt->access & BT_PUBLIC))
        json_object_set_new(op, "security", json_pack("[{s:[]}]", "bearerAuth"));
    snprintf(status, sizeof status, "%d", rt->ok_status ? rt->ok_status : 200);
    json_object_set_new(j_resp, status, json_pack("{s:s}", "description", "success"));
    json_object_set_new(j_resp, "default", json_pack("{s:s}", "description", "error"));
    json_object_set_new(op, "responses", j_resp);
    return op;
}

json_t *bt_openapi_build(const struct bt_app_ctx *ctx)
{
    const struct bt_app *app = ctx ? ctx->app : NULL;
    const char *mount = app && app->mount ? app->mount : "";
    json_t *doc = json_object();
    json_t *j_paths = json_object();
    json_t *j_schemas = json_object();
    json_t *seen = json_object(); /* schema pointer -> component name */
    json_t *used = json_object(); /* operationIds handed out */
    size_t n = ctx && ctx->router ? bt_router_count(ctx->router) : 0;

    json_object_set_new(doc, "openapi", json_string("3.1.0"));
    json_object_set_new(
        doc, "info",
        json_pack("{s:s, s:s}", "title",
                  app && app->title ? app->title : (app && app->name ? app->name : "bento"),
                  "version", app && app->version ? app->version : "0.0.0"));

    for (size_t i = 0; i < n; i++) {
        const struct bt_route *rt = bt_router_at(ctx->router, i);
        const char *mkey = rt ? method_key(rt->method) : NULL;
        json_t *path_params, *j_item;
        char *opath;

        if (!mkey || !rt->path || (rt->flags & BT_R_ALIAS))
            continue;
        path_params = json_array();
        opath = openapi_path(mount, rt->path, path_params);
        if (!opath) {
            json_decref(path_params);
            continue;
        }
        j_item = json_object_get(j_paths, opath);
        if (!j_item) {
            j_item = json_object();
            json_object_set_new(j_paths, opath, j_item);
        }
        json_object_set_new(j_item, mkey,
                            operation(app, rt, mkey, opath, path_params, j_schemas, seen, used));
        json_decref(path_params);
        free(opath);
    }
    json_object_set_new(doc, "paths", j_paths);
    json_object_set_new(doc, "components", json_pack("{s:o}", "schemas", j_schemas));
    if (app && app->security && !strcmp(app->security, "bearer"))
        json_object_set_new(json_object_get(doc, "components"), "securitySchemes",
                            json_pack("{s:{s:s,s:s,s:s}}", "bearerAuth", "type", "http", "scheme",
                                      "bearer", "bearerFormat", "JWT"));
    json_decref(seen);
    json_decref(used);
    return doc;
}
