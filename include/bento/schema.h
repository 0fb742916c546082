/* SPDX-License-Identifier: MIT
 * schema.h - validation tables for JSON bodies and query strings.
 * A schema is a const array of struct bt_field ending with BT_FIELD_END. Validation collects
 * every bad field into struct bt_err at once. The same tables generate the OpenAPI document.
 */
#ifndef BENTO_SCHEMA_H
#define BENTO_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct bt_err;
struct bt_arena;

/* Field types. */
enum bt_ftype {
    BT_T_NONE = 0, /* end marker */
    BT_T_STR,      /* JSON string (valid UTF-8); min_len/max_len count code points */
    BT_T_INT,      /* JSON integer (a real with no fraction is refused); query: decimal */
    BT_T_NUM,      /* JSON number (integer or real); query: decimal number */
    BT_T_BOOL,     /* JSON true/false; query: true/false/1/0/yes/no (any case) */
    BT_T_ENUM,     /* JSON string, one of .one_of */
    BT_T_ARRAY,    /* JSON array; .item_type / .items describe elements; min/max_len = count */
    BT_T_OBJECT,   /* JSON object; .items describes its fields (NULL = any object) */
    BT_T_ANY,      /* anything */
    BT_T_FILE,     /* a file part of a multipart/form-data body (BT_S_MULTIPART): OpenAPI
                    * {type: string, format: binary}; documentation only (the handler reads
                    * the parts) */
};

/* Field flags (bit set). */
#define BT_F_REQUIRED 0x01u /* must be present (and not null unless BT_F_NULLABLE) */
#define BT_F_NULLABLE 0x02u /* null is accepted */
#define BT_F_MIN 0x04u      /* .min applies (numbers) */
#define BT_F_MAX 0x08u      /* .max applies (numbers) */
#define BT_F_NONEMPTY 0x10u /* strings: at least one non-space character */
#define BT_F_MAP                                                                                   \
    0x20u /* BT_T_OBJECT: a map with any keys whose values are typed like                          \
           * array elements (.item_type, or objects of .items): OpenAPI                            \
           * additionalProperties */

struct bt_field {
    const char *name;
    enum bt_ftype type;
    unsigned flags;
    size_t min_len, max_len;      /* strings (code points) and arrays (items); max 0 = none */
    double min, max;              /* with BT_F_MIN / BT_F_MAX */
    const char *const *one_of;    /* BT_T_ENUM: NULL-terminated */
    enum bt_ftype item_type;      /* BT_T_ARRAY: element type (BT_T_OBJECT uses .items) */
    const struct bt_field *items; /* BT_T_OBJECT fields, or BT_T_ARRAY object elements */
    const char *desc;             /* one line for OpenAPI */
    const char *format;           /* OpenAPI format of a string: "date-time", "uuid", "email",
                                   * "uri", ... (documentation; the test validator checks
                                   * date-time and uuid) */
};

#define BT_FIELD_END                                                                               \
    {                                                                                              \
        0                                                                                          \
    }

/* Schema flags. */
#define BT_S_ALLOW_EXTRA 0x01u  /* unknown fields are kept (default: dropped silently) */
#define BT_S_REJECT_EXTRA 0x02u /* unknown fields are a validation error */
#define BT_S_PARTIAL                                                                               \
    0x04u /* a partial update: top-level BT_F_REQUIRED is not enforced, so                         \
           * create and update share one field table */
#define BT_S_MULTIPART                                                                             \
    0x08u /* the body is multipart/form-data (a BT_R_RAW_BODY route): the fields are the           \
           * form's parts (BT_T_FILE for files); documented, not checked by the core */

/* Response schemas. The same tables describe what a handler sends (bt_route.resp,
 * bt_app.error_schema): BT_F_REQUIRED means "always present", BT_F_NULLABLE "may be null",
 * and every object is closed (additionalProperties: false) so an undeclared field is a
 * contract violation, except a schema flagged BT_S_ALLOW_EXTRA and free-form objects
 * (BT_T_OBJECT without .items). array_body: the body is a JSON array of such objects. */
struct bt_schema {
    const char *name; /* OpenAPI component name, e.g. "VendorCreate" */
    const struct bt_field *fields;
    unsigned flags;
    bool array_body; /* the body is a JSON array of such objects (bulk import) */
};

/** Validate a JSON value against schema; on failure every bad field is in err (code
 *  BT_EINVAL, nfields > 0). Unknown fields are removed from an object body unless
 *  BT_S_ALLOW_EXTRA. Returns BT_OK or BT_EINVAL. */
int bt_schema_check(const struct bt_schema *s, json_t *body, struct bt_err *err);

/** Convert query pairs into a JSON object according to the schema, typing each value
 *  (first occurrence wins; BT_T_ARRAY collects every occurrence). Unknown keys are ignored.
 *  out is a new reference. Returns BT_OK or BT_EINVAL with every bad field. */
struct bt_kv;
int bt_schema_query(const struct bt_schema *s, const struct bt_kv *q, size_t nq, json_t **out,
                    struct bt_err *err);

/** Parse a boolean word: true/false/1/0/yes/no/on/off (any case). Returns 0 or -1. */
int bt_parse_bool(const char *s, bool *out);

/** Parse a whole decimal int64 (optional sign, no spaces). Returns 0 or -1. */
int bt_parse_i64(const char *s, int64_t *out);

/** Count UTF-8 code points; -1 if s is not valid UTF-8 (overlongs, surrogates refused). */
long bt_utf8_len(const char *s, size_t n);

#endif
