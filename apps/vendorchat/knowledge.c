/* SPDX-License-Identifier: MIT
 * knowledge.c - the operator API the document links but does not include: knowledge rows
 * (CRUD and all-or-nothing bulk import), intents (CRUD and import by name) and the list of
 * questions nobody could answer.
 * Owns: the knowledge and intent JSON shapes, the knowledge generation counter
 * (vendorchat_knowledge_touch; read through the meta cache by vendorchat_knowledge_gen), the
 * scope/vendor rule of knowledge rows.
 * Must not: write without bumping the knowledge generation in the same transaction (other
 * bento instances would keep answering from a stale index), or splice a value into SQL.
 */
#include <stdio.h>
#include <string.h>

#include "classify.h"

#define KN_NOT_FOUND "知識不存在"
#define INTENT_NOT_FOUND "意圖不存在"
#define KN_MAX_KEYWORD 100 /* code points per keyword */

#define KN_COLUMNS                                                                                 \
    "id, question_summary, answer, category, audience, keywords, vendor_id, scope, priority,"      \
    " is_template, is_active, created_at, updated_at"
#define INTENT_COLUMNS                                                                             \
    "id, name, type, description, keywords, confidence_threshold, is_enabled, priority,"           \
    " usage_count, last_used_at, created_at, updated_at"

/* ---- schemas ---- */

static const char *const kn_scopes[] = {"global", "vendor", "customized", NULL};
static const char *const kn_kinds[] = {"primary", "secondary", NULL};
static const char *const intent_types[] = {"knowledge", "data_query", "action", "hybrid", NULL};

static const struct bt_field kn_list_q_fields[] = {
    {.name = "vendor_id",
     .type = BT_T_INT,
     .flags = BT_F_MIN,
     .min = 1,
     .desc = "rows of this vendor (vendor and customized scope)"},
    {.name = "scope",
     .type = BT_T_ENUM,
     .one_of = kn_scopes,
     .desc = "global, vendor or customized"},
    {.name = "intent_id",
     .type = BT_T_INT,
     .flags = BT_F_MIN,
     .min = 1,
     .desc = "rows mapped to this intent"},
    {.name = "q",
     .type = BT_T_STR,
     .max_len = 200,
     .desc = "substring of the question or the answer (case-insensitive)"},
    {.name = "limit",
     .type = BT_T_INT,
     .flags = BT_F_MIN | BT_F_MAX,
     .min = 1,
     .max = 200,
     .desc = "page size (default 50)"},
    {.name = "offset", .type = BT_T_INT, .flags = BT_F_MIN, .min = 0, .desc = "rows to skip"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_knowledge_list_q = {
    .name = "KnowledgeListQuery",
    .fields = kn_list_q_fields,
};

static const struct bt_field kn_intent_fields[] = {
    {.name = "intent_id",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED | BT_F_MIN,
     .min = 1,
     .desc = "intent id"},
    {.name = "kind",
     .type = BT_T_ENUM,
     .one_of = kn_kinds,
     .desc = "primary (default) or secondary"},
    BT_FIELD_END,
};

/* Create and import; update uses the same table with BT_S_PARTIAL (nothing required). */
static const struct bt_field kn_in_fields[] = {
    {.name = "question_summary",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 500,
     .desc = "the question this row answers"},
    {.name = "answer",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 10000,
     .desc = "answer template; {{param_key}} is filled from the vendor's configs"},
    {.name = "category",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 100,
     .desc = "category"},
    {.name = "audience",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 100,
     .desc = "audience"},
    {.name = "keywords",
     .type = BT_T_ARRAY,
     .flags = BT_F_NULLABLE | BT_F_NONEMPTY,
     .max_len = 100,
     .item_type = BT_T_STR,
     .desc = "keywords tenants use"},
    {.name = "vendor_id",
     .type = BT_T_INT,
     .flags = BT_F_NULLABLE | BT_F_MIN,
     .min = 1,
     .desc = "owner vendor; required for vendor and customized scope, null for global"},
    {.name = "scope",
     .type = BT_T_ENUM,
     .one_of = kn_scopes,
     .desc = "global (default without vendor_id), vendor (default with it) or customized"},
    {.name = "priority",
     .type = BT_T_INT,
     .flags = BT_F_MIN | BT_F_MAX,
     .min = -1000000,
     .max = 1000000,
     .desc = "higher wins among equally relevant rows (default 0)"},
    {.name = "is_template", .type = BT_T_BOOL, .desc = "answer holds placeholders (default true)"},
    {.name = "is_active", .type = BT_T_BOOL, .desc = "used for answers (default true)"},
    {.name = "intent_ids",
     .type = BT_T_ARRAY,
     .flags = BT_F_NULLABLE | BT_F_MIN,
     .min = 1,
     .max_len = 20,
     .item_type = BT_T_INT,
     .desc = "intents this row answers (primary)"},
    {.name = "intents",
     .type = BT_T_ARRAY,
     .flags = BT_F_NULLABLE,
     .max_len = 20,
     .items = kn_intent_fields,
     .desc = "intents with their kind; overrides intent_ids"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_knowledge_in = {
    .name = "KnowledgeCreate",
    .fields = kn_in_fields,
};

const struct bt_schema vendorchat_knowledge_update_in = {
    .name = "KnowledgeUpdate",
    .fields = kn_in_fields,
    .flags = BT_S_PARTIAL,
};

const struct bt_schema vendorchat_knowledge_import_in = {
    .name = "KnowledgeImport",
    .fields = kn_in_fields,
    .array_body = true,
};

/* Create and import; update uses the same table with BT_S_PARTIAL (nothing required). */
static const struct bt_field intent_in_fields[] = {
    {.name = "name",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 100,
     .desc = "unique intent name"},
    {.name = "type",
     .type = BT_T_ENUM,
     .one_of = intent_types,
     .desc = "knowledge (default), data_query, action or hybrid"},
    {.name = "description",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 1000,
     .desc = "what the intent covers"},
    {.name = "keywords",
     .type = BT_T_ARRAY,
     .flags = BT_F_NULLABLE | BT_F_NONEMPTY,
     .max_len = 200,
     .item_type = BT_T_STR,
     .desc = "words tenants use for it"},
    {.name = "confidence_threshold",
     .type = BT_T_NUM,
     .flags = BT_F_MIN | BT_F_MAX,
     .min = 0,
     .max = 1,
     .desc = "below this confidence the message is unclear (0.5)"},
    {.name = "is_enabled", .type = BT_T_BOOL, .desc = "used by the classifier (true)"},
    {.name = "priority",
     .type = BT_T_INT,
     .flags = BT_F_MIN | BT_F_MAX,
     .min = -1000000,
     .max = 1000000,
     .desc = "breaks ties between equal scores (0)"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_intent_in = {
    .name = "IntentCreate",
    .fields = intent_in_fields,
};

const struct bt_schema vendorchat_intent_update_in = {
    .name = "IntentUpdate",
    .fields = intent_in_fields,
    .flags = BT_S_PARTIAL,
};

const struct bt_schema vendorchat_intent_import_in = {
    .name = "IntentImport",
    .fields = intent_in_fields,
    .array_body = true,
};

static const struct bt_field unanswered_q_fields[] = {
    {.name = "vendor_id", .type = BT_T_INT, .flags = BT_F_MIN, .min = 1, .desc = "vendor"},
    {.name = "limit",
     .type = BT_T_INT,
     .flags = BT_F_MIN | BT_F_MAX,
     .min = 1,
     .max = 200,
     .desc = "page size (default 50)"},
    {.name = "offset", .type = BT_T_INT, .flags = BT_F_MIN, .min = 0, .desc = "rows to skip"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_unanswered_q = {
    .name = "UnansweredQuery",
    .fields = unanswered_q_fields,
};

/* ---- response schemas (docs/apps/vendorchat.md, "Operator API", "Responses") ---- */

static const struct bt_field kn_map_out_fields[] = {
    {.name = "intent_id", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "intent id"},
    {.name = "kind",
     .type = BT_T_ENUM,
     .flags = BT_F_REQUIRED,
     .one_of = kn_kinds,
     .desc = "primary or secondary"},
    BT_FIELD_END,
};

static const struct bt_field kn_out_fields[] = {
    {.name = "id", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "knowledge id"},
    {.name = "question_summary",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .desc = "the question this row answers"},
    {.name = "answer",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .desc = "answer template as stored ({{param_key}} not filled)"},
    {.name = "category",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "category"},
    {.name = "audience",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "audience"},
    {.name = "keywords",
     .type = BT_T_ARRAY,
     .flags = BT_F_REQUIRED,
     .item_type = BT_T_STR,
     .desc = "keywords ([] when none)"},
    {.name = "vendor_id",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "owner vendor; null for global rows"},
    {.name = "scope",
     .type = BT_T_ENUM,
     .flags = BT_F_REQUIRED,
     .one_of = kn_scopes,
     .desc = "scope"},
    {.name = "priority", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "priority"},
    {.name = "is_template",
     .type = BT_T_BOOL,
     .flags = BT_F_REQUIRED,
     .desc = "answer is a template"},
    {.name = "is_active", .type = BT_T_BOOL, .flags = BT_F_REQUIRED, .desc = "used for answers"},
    {.name = "intent_ids",
     .type = BT_T_ARRAY,
     .flags = BT_F_REQUIRED,
     .item_type = BT_T_INT,
     .desc = "ids of the mapped intents (primary first)"},
    {.name = "intents",
     .type = BT_T_ARRAY,
     .flags = BT_F_REQUIRED,
     .items = kn_map_out_fields,
     .desc = "the mapped intents with their kind, same order as intent_ids"},
    {.name = "created_at",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .desc = "ISO 8601, UTC, no zone: 2024-01-01T00:00:00"},
    {.name = "updated_at",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "ISO 8601, UTC, no zone"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_knowledge_out = {
    .name = "Knowledge",
    .fields = kn_out_fields,
};

static const struct bt_field kn_page_fields[] = {
    {.name = "items",
     .type = BT_T_ARRAY,
     .flags = BT_F_REQUIRED,
     .max_len = 200,
     .items = kn_out_fields,
     .desc = "knowledge rows, ordered by id"},
    {.name = "total",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED,
     .desc = "rows matching the filters (all pages)"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_knowledge_page_out = {
    .name = "KnowledgePage",
    .fields = kn_page_fields,
};

static const struct bt_field kn_deleted_fields[] = {
    {.name = "message", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "知識已刪除"},
    {.name = "knowledge_id", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "the deleted id"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_knowledge_deleted_out = {
    .name = "KnowledgeDeleted",
    .fields = kn_deleted_fields,
};

static const struct bt_field kn_imported_fields[] = {
    {.name = "imported", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "rows created"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_knowledge_imported_out = {
    .name = "KnowledgeImported",
    .fields = kn_imported_fields,
};

static const struct bt_field intent_out_fields[] = {
    {.name = "id", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "intent id"},
    {.name = "name", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "unique intent name"},
    {.name = "type",
     .type = BT_T_ENUM,
     .flags = BT_F_REQUIRED,
     .one_of = intent_types,
     .desc = "type"},
    {.name = "description",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "what the intent covers"},
    {.name = "keywords",
     .type = BT_T_ARRAY,
     .flags = BT_F_REQUIRED,
     .item_type = BT_T_STR,
     .desc = "keywords ([] when none)"},
    {.name = "confidence_threshold",
     .type = BT_T_NUM,
     .flags = BT_F_REQUIRED | BT_F_MIN | BT_F_MAX,
     .min = 0,
     .max = 1,
     .desc = "below this confidence the message is unclear"},
    {.name = "is_enabled",
     .type = BT_T_BOOL,
     .flags = BT_F_REQUIRED,
     .desc = "used by the classifier"},
    {.name = "priority", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "tie-breaker"},
    {.name = "usage_count",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED | BT_F_MIN,
     .min = 0,
     .desc = "messages classified as this intent"},
    {.name = "last_used_at",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "ISO 8601, UTC, no zone; null when never used"},
    {.name = "created_at",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .desc = "ISO 8601, UTC, no zone"},
    {.name = "updated_at",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "ISO 8601, UTC, no zone"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_intent_out = {
    .name = "Intent",
    .fields = intent_out_fields,
};

static const struct bt_field intent_page_fields[] = {
    {.name = "items",
     .type = BT_T_ARRAY,
     .flags = BT_F_REQUIRED,
     .items = intent_out_fields,
     .desc = "every intent, ordered by id"},
    {.name = "total", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "number of intents"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_intent_page_out = {
    .name = "IntentPage",
    .fields = intent_page_fields,
};

static const struct bt_field intent_deleted_fields[] = {
    {.name = "message", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "意圖已刪除"},
    {.name = "intent_id", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "the deleted id"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_intent_deleted_out = {
    .name = "IntentDeleted",
    .fields = intent_deleted_fields,
};

static const struct bt_field intent_imported_fields[] = {
    {.name = "imported", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "created + updated"},
    {.name = "created", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "new names"},
    {.name = "updated", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "existing names"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_intent_imported_out = {
    .name = "IntentsImported",
    .fields = intent_imported_fields,
};

static const struct bt_field unanswered_out_fields[] = {
    {.name = "id", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "id"},
    {.name = "vendor_id", .type = BT_T_INT, .flags = BT_F_REQUIRED, .desc = "the asking vendor"},
    {.name = "message", .type = BT_T_STR, .flags = BT_F_REQUIRED, .desc = "the tenant's message"},
    {.name = "intent_name",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "the classified intent, \"unclear\" when none"},
    {.name = "session_id",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "as sent"},
    {.name = "user_id",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NULLABLE,
     .desc = "as sent"},
    {.name = "created_at",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED,
     .desc = "ISO 8601, UTC, no zone"},
    BT_FIELD_END,
};

static const struct bt_field unanswered_page_fields[] = {
    {.name = "items",
     .type = BT_T_ARRAY,
     .flags = BT_F_REQUIRED,
     .max_len = 200,
     .items = unanswered_out_fields,
     .desc = "newest first"},
    {.name = "total",
     .type = BT_T_INT,
     .flags = BT_F_REQUIRED,
     .desc = "rows matching (all pages)"},
    BT_FIELD_END,
};

const struct bt_schema vendorchat_unanswered_page_out = {
    .name = "UnansweredPage",
    .fields = unanswered_page_fields,
};

/* ---- helpers ---- */

static struct bt_db *kn_db(struct bt_req *rq, struct bt_err *err, int *rc)
{
    struct bt_db *db = bt_req_db(rq, err);

    *rc = BT_OK;
    if (!db)
        *rc = err->code != BT_OK ? (int)err->code : BT_EDB;
    return db;
}

static void kn_now(char out[32])
{
    bt_time_fmt(bt_now_unix_us(), BT_ISO_SEC, out);
}

/* A failed write leaves no trace: roll back what the handler began. */
static int kn_abort(struct bt_db *db, int rc)
{
    if (bt_db_in_tx(db))
        bt_db_rollback(db);
    return rc;
}

int vendorchat_knowledge_touch(struct bt_db *db, struct bt_err *err)
{
    int64_t changed = 0;
    int rc = bt_db_exec(db, &changed,
                        "UPDATE vendorchat_meta SET value = value + 1 WHERE key = 'knowledge_gen'",
                        BT_NOARGS, err);

    if (rc == BT_OK && changed == 0)
        rc = bt_db_exec(db, NULL,
                        "INSERT INTO vendorchat_meta (key, value) VALUES ('knowledge_gen', 2)",
                        BT_NOARGS, err);
    return rc;
}

int vendorchat_knowledge_gen(struct bt_req *rq, int64_t *gen, struct bt_err *err)
{
    struct bt_cache_fill fill;
    struct bt_db *db;
    const char *text;
    char buf[24];
    size_t len;
    int rc;

    *gen = 0;
    if (bt_cache_get(vendorchat_state(rq)->meta, "knowledge_gen", rq->arena, &text, &len, &fill)) {
        if (bt_parse_i64(text, gen) == 0)
            return BT_OK;
        fill = (struct bt_cache_fill){.key = "knowledge_gen"}; /* not ours: do not store */
    }
    if (!(db = kn_db(rq, err, &rc)))
        return rc;
    rc = bt_db_query_i64(db, gen, "SELECT value FROM vendorchat_meta WHERE key = 'knowledge_gen'",
                         BT_NOARGS, err);
    if (rc == BT_ENOTFOUND) { /* a database from before the row: generation 0 until a write */
        bt_err_clear(err);
        *gen = 0;
        rc = BT_OK;
    }
    if (rc != BT_OK)
        return rc;
    snprintf(buf, sizeof(buf), "%lld", (long long)*gen);
    bt_cache_put(&fill, buf, strlen(buf));
    return BT_OK;
}

/* Every knowledge or intent write ends here: the generation bumped in the same transaction,
 * the commit, then a wait until this instance's caches have heard of it, so the client's
 * next message here is answered from the new index. */
static int kn_commit(struct bt_req *rq, struct bt_db *db, struct bt_err *err)
{
    int rc = vendorchat_knowledge_touch(db, err);

    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc == BT_OK)
        bt_cache_sync(rq->ctx->pool);
    return rc;
}

/* keywords TEXT (a JSON array) as JSON; anything unreadable reads as []. */
static json_t *kn_keywords_json(const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;

    if (!json_is_array(j)) {
        json_decref(j);
        return json_array();
    }
    return j;
}

/* keywords from the body as stored text; checks each keyword's length. NULL/absent -> "[]". */
static int kn_keywords_text(struct bt_arena *a, const json_t *kw, const char *prefix,
                            const char **out, struct bt_err *err)
{
    size_t i;
    json_t *el;

    *out = "[]";
    if (!json_is_array(kw))
        return BT_OK;
    json_array_foreach(kw, i, el)
    {
        const char *s = json_string_value(el);
        if (bt_utf8_len(s, strlen(s)) > KN_MAX_KEYWORD) {
            bt_err_add_field(err, bt_arena_printf(a, "%skeywords[%zu]", prefix, i),
                             "must be at most %d characters", KN_MAX_KEYWORD);
            return BT_EINVAL;
        }
    }
    *out = bt_json_dump(a, kw, NULL);
    return BT_OK;
}

/* Copy member name of a typed row object into o (null when absent). */
static void kn_put(json_t *o, const json_t *row, const char *name)
{
    json_t *v = json_object_get(row, name);

    json_object_set_new(o, name, v ? json_incref(v) : json_null());
}

/* ---- knowledge JSON ---- */

/* One knowledge object in the API's field order; maps holds its mappings (rows of
 * knowledge_id, intent_id, kind) or NULL. */
static json_t *kn_json(const struct bt_rows *rows, size_t r, const struct bt_rows *maps)
{
    json_t *row = bt_rows_obj(rows, r);
    json_t *o = json_object(), *ids = json_array(), *intents = json_array();
    int64_t id = bt_rows_i64(rows, r, 0, 0);

    kn_put(o, row, "id");
    kn_put(o, row, "question_summary");
    kn_put(o, row, "answer");
    kn_put(o, row, "category");
    kn_put(o, row, "audience");
    json_object_set_new(o, "keywords", kn_keywords_json(bt_rows_text(rows, r, 5)));
    kn_put(o, row, "vendor_id");
    kn_put(o, row, "scope");
    kn_put(o, row, "priority");
    kn_put(o, row, "is_template");
    kn_put(o, row, "is_active");
    for (size_t m = 0; maps && m < maps->nrows; m++) {
        if (bt_rows_i64(maps, m, 0, 0) != id)
            continue;
        json_array_append_new(ids, json_integer((json_int_t)bt_rows_i64(maps, m, 1, 0)));
        json_array_append_new(
            intents,
            json_pack("{s:I,s:s}", "intent_id", (json_int_t)bt_rows_i64(maps, m, 1, 0), "kind",
                      bt_rows_text(maps, m, 2) ? bt_rows_text(maps, m, 2) : "primary"));
    }
    json_object_set_new(o, "intent_ids", ids);
    json_object_set_new(o, "intents", intents);
    kn_put(o, row, "created_at");
    kn_put(o, row, "updated_at");
    json_decref(row);
    return o;
}

/* Mappings of the rows' ids, primary first. */
static int kn_maps_of(struct bt_db *db, struct bt_arena *a, const struct bt_rows *rows,
                      struct bt_rows **maps, struct bt_err *err)
{
    struct bt_val *args;
    struct bt_buf sql;

    *maps = NULL;
    if (rows->nrows == 0)
        return BT_OK;
    args = bt_arena_alloc(a, rows->nrows * sizeof(*args));
    bt_buf_init(&sql, a, 256);
    bt_buf_adds(&sql, "SELECT knowledge_id, intent_id, kind FROM vendorchat_knowledge_intents"
                      " WHERE knowledge_id IN (");
    for (size_t r = 0; r < rows->nrows; r++) {
        args[r] = bt_i64(bt_rows_i64(rows, r, 0, 0));
        bt_buf_addf(&sql, "%s$%zu", r ? ", " : "", r + 1);
    }
    bt_buf_adds(&sql, ") ORDER BY knowledge_id, kind, intent_id");
    return bt_db_query(db, a, maps, sql.p, args, rows->nrows, err);
}

/* The stored row as JSON (arena-owned); BT_ENOTFOUND with the API's 404 text. */
static int kn_fetch(struct bt_db *db, struct bt_arena *a, int64_t id, json_t **out,
                    struct bt_err *err)
{
    struct bt_rows *rows, *maps;
    int rc;

    *out = NULL;
    rc = bt_db_query(db, a, &rows, "SELECT " KN_COLUMNS " FROM vendorchat_knowledge WHERE id = $1",
                     BT_ARGS(bt_i64(id)), err);
    if (rc != BT_OK)
        return rc;
    if (rows->nrows == 0)
        return bt_fail(err, BT_ENOTFOUND, NULL, KN_NOT_FOUND);
    if ((rc = kn_maps_of(db, a, rows, &maps, err)) != BT_OK)
        return rc;
    *out = bt_json_own(a, kn_json(rows, 0, maps));
    return BT_OK;
}

/* ---- knowledge writes ---- */

struct kn_map {
    int64_t intent_id;
    const char *kind;
};

/* The body's intent mapping: "intents" [{intent_id, kind}] if present, else "intent_ids"
 * (all primary). Duplicates keep their first kind. *given says whether either was sent. Each
 * intent must exist (404 意圖不存在: ID). */
static int kn_maps_from(struct bt_db *db, struct bt_arena *a, const json_t *in, struct kn_map **out,
                        size_t *n, bool *given, struct bt_err *err)
{
    const json_t *list = json_object_get(in, "intents");
    bool objects = json_is_array(list);
    struct kn_map *maps;
    size_t i, k = 0;
    json_t *el;

    if (!objects)
        list = json_object_get(in, "intent_ids");
    *given = json_object_get(in, "intents") || json_object_get(in, "intent_ids");
    *out = NULL;
    *n = 0;
    if (!json_is_array(list))
        return BT_OK;
    maps = bt_arena_alloc(a, (json_array_size(list) + 1) * sizeof(*maps));
    json_array_foreach(list, i, el)
    {
        int64_t id = (int64_t)json_integer_value(objects ? json_object_get(el, "intent_id") : el);
        const char *kind = objects ? json_string_value(json_object_get(el, "kind")) : NULL;
        bool dup = false;
        int64_t one;
        int rc;

        for (size_t j = 0; j < k && !dup; j++)
            dup = maps[j].intent_id == id;
        if (dup)
            continue;
        rc = bt_db_query_i64(db, &one, "SELECT id FROM vendorchat_intents WHERE id = $1",
                             BT_ARGS(bt_i64(id)), err);
        if (rc == BT_ENOTFOUND) {
            bt_err_clear(err);
            return bt_fail(err, BT_ENOTFOUND, objects ? "intents" : "intent_ids",
                           INTENT_NOT_FOUND ": %lld", (long long)id);
        }
        if (rc != BT_OK)
            return rc;
        maps[k].intent_id = id;
        maps[k].kind = kind ? kind : "primary";
        k++;
    }
    *out = maps;
    *n = k;
    return BT_OK;
}

static int kn_maps_write(struct bt_db *db, int64_t id, const struct kn_map *maps, size_t n,
                         struct bt_err *err)
{
    int rc =
        bt_db_exec(db, NULL, "DELETE FROM vendorchat_knowledge_intents WHERE knowledge_id = $1",
                   BT_ARGS(bt_i64(id)), err);

    for (size_t i = 0; rc == BT_OK && i < n; i++)
        rc = bt_db_exec(db, NULL,
                        "INSERT INTO vendorchat_knowledge_intents (knowledge_id, intent_id, kind)"
                        " VALUES ($1, $2, $3)",
                        BT_ARGS(bt_i64(id), bt_i64(maps[i].intent_id), bt_text(maps[i].kind)), err);
    return rc;
}

/* The scope rule: global rows belong to no vendor; vendor and customized rows to an existing
 * one. vendor_id 0 = none. */
static int kn_check_scope(struct bt_db *db, const char *scope, int64_t vendor_id,
                          struct bt_err *err)
{
    int64_t one;
    int rc;

    if (strcmp(scope, "global") == 0) {
        if (vendor_id)
            return bt_fail(err, BT_EINVAL, "vendor_id", "全域知識不可指定業者 (vendor_id)");
        return BT_OK;
    }
    if (!vendor_id)
        return bt_fail(err, BT_EINVAL, "vendor_id", "vendor_id 為必填（scope 為 %s）", scope);
    rc = bt_db_query_i64(db, &one, "SELECT id FROM vendorchat_vendors WHERE id = $1",
                         BT_ARGS(bt_i64(vendor_id)), err);
    if (rc == BT_ENOTFOUND) {
        bt_err_clear(err);
        return bt_fail(err, BT_ENOTFOUND, "vendor_id", "業者不存在: %lld", (long long)vendor_id);
    }
    return rc;
}

/* Insert one knowledge object (validated by the schema) with its mappings. */
static int kn_insert(struct bt_db *db, struct bt_arena *a, const json_t *in, const char *now,
                     const char *prefix, int64_t *id, struct bt_err *err)
{
    int64_t vendor_id = (int64_t)json_integer_value(json_object_get(in, "vendor_id"));
    const char *scope = json_string_value(json_object_get(in, "scope"));
    const json_t *prio = json_object_get(in, "priority");
    const json_t *tmpl = json_object_get(in, "is_template");
    const json_t *active = json_object_get(in, "is_active");
    const char *keywords;
    struct kn_map *maps;
    size_t nmaps;
    bool given;
    int rc;

    if (!scope)
        scope = vendor_id ? "vendor" : "global";
    if ((rc = kn_keywords_text(a, json_object_get(in, "keywords"), prefix, &keywords, err)) !=
        BT_OK)
        return rc;
    if ((rc = kn_check_scope(db, scope, vendor_id, err)) != BT_OK)
        return rc;
    if ((rc = kn_maps_from(db, a, in, &maps, &nmaps, &given, err)) != BT_OK)
        return rc;
    rc = bt_db_query_i64(
        db, id,
        "INSERT INTO vendorchat_knowledge (question_summary, answer, category, audience,"
        " keywords, vendor_id, scope, priority, is_template, is_active, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        BT_ARGS(bt_text(json_string_value(json_object_get(in, "question_summary"))),
                bt_text(json_string_value(json_object_get(in, "answer"))),
                bt_text(json_string_value(json_object_get(in, "category"))),
                bt_text(json_string_value(json_object_get(in, "audience"))), bt_text(keywords),
                vendor_id ? bt_i64(vendor_id) : bt_null(), bt_text(scope),
                bt_i64(json_is_integer(prio) ? (int64_t)json_integer_value(prio) : 0),
                bt_bool(tmpl ? json_is_true(tmpl) : true),
                bt_bool(active ? json_is_true(active) : true), bt_text(now)),
        err);
    if (rc != BT_OK)
        return rc;
    return kn_maps_write(db, *id, maps, nmaps, err);
}

/* Name an import item's failure: "[3].vendor_id". */
static void kn_item_field(struct bt_err *err, size_t i)
{
    char f[sizeof(err->field) + 32];

    snprintf(f, sizeof(f), "[%zu]%s%s", i, err->field[0] ? "." : "", err->field);
    memcpy(err->field, f, sizeof(err->field) - 1);
    err->field[sizeof(err->field) - 1] = '\0';
}

/* ---- knowledge handlers ---- */

int vendorchat_knowledge_list(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_val args[6];
    size_t nargs = 0;
    struct bt_buf where, sql;
    struct bt_rows *rows, *maps;
    struct bt_db *db;
    json_t *items, *out;
    int64_t total = 0;
    int rc;

    if (!(db = kn_db(rq, err, &rc)))
        return rc;
    bt_buf_init(&where, rq->arena, 256);
    bt_buf_adds(&where, " WHERE 1 = 1");
    if (bt_req_qhas(rq, "vendor_id")) {
        args[nargs++] = bt_i64(bt_req_qint(rq, "vendor_id", 0));
        bt_buf_addf(&where, " AND vendor_id = $%zu", nargs);
    }
    if (bt_req_qhas(rq, "scope")) {
        args[nargs++] = bt_text(bt_req_qstr(rq, "scope"));
        bt_buf_addf(&where, " AND scope = $%zu", nargs);
    }
    if (bt_req_qhas(rq, "intent_id")) {
        args[nargs++] = bt_i64(bt_req_qint(rq, "intent_id", 0));
        bt_buf_addf(&where,
                    " AND id IN (SELECT knowledge_id FROM vendorchat_knowledge_intents"
                    " WHERE intent_id = $%zu)",
                    nargs);
    }
    if (bt_req_qhas(rq, "q")) {
        /* a substring, so LIKE's own wildcards in it are escaped */
        args[nargs++] = bt_text(bt_db_like_contains(rq->arena, bt_req_qstr(rq, "q")));
        bt_buf_addf(&where,
                    " AND (lower(question_summary) LIKE lower($%zu) ESCAPE '\\'"
                    " OR lower(answer) LIKE lower($%zu) ESCAPE '\\')",
                    nargs, nargs);
    }
    bt_buf_init(&sql, rq->arena, 256);
    bt_buf_addf(&sql, "SELECT COUNT(*) FROM vendorchat_knowledge%s", where.p);
    if ((rc = bt_db_query_i64(db, &total, sql.p, args, nargs, err)) != BT_OK)
        return rc;

    args[nargs++] = bt_i64(bt_req_qint(rq, "limit", 50));
    args[nargs++] = bt_i64(bt_req_qint(rq, "offset", 0));
    bt_buf_init(&sql, rq->arena, 256);
    bt_buf_addf(&sql,
                "SELECT " KN_COLUMNS " FROM vendorchat_knowledge%s ORDER BY id"
                " LIMIT $%zu OFFSET $%zu",
                where.p, nargs - 1, nargs);
    if ((rc = bt_db_query(db, rq->arena, &rows, sql.p, args, nargs, err)) != BT_OK)
        return rc;
    if ((rc = kn_maps_of(db, rq->arena, rows, &maps, err)) != BT_OK)
        return rc;
    items = json_array();
    for (size_t r = 0; r < rows->nrows; r++)
        json_array_append_new(items, kn_json(rows, r, maps));
    out = json_object();
    json_object_set_new(out, "items", items);
    json_object_set_new(out, "total", json_integer((json_int_t)total));
    return bt_res_json(rs, 200, out);
}

/* Write the body's fields to knowledge id inside the caller's transaction; BT_ENOTFOUND
 * (from reading the stored row) when it does not exist. */
static int kn_apply(struct bt_req *rq, struct bt_db *db, int64_t id, const char *now,
                    struct bt_err *err)
{
    static const char *const text_cols[] = {"question_summary", "answer", "category", "audience"};
    const json_t *in = rq->json;
    struct bt_val args[16];
    size_t nargs = 0;
    struct bt_buf sql;
    json_t *cur;
    const char *scope, *keywords;
    int64_t vendor_id;
    struct kn_map *maps;
    size_t nmaps;
    bool given;
    int rc;

    if ((rc = kn_fetch(db, rq->arena, id, &cur, err)) != BT_OK)
        return rc;

    /* the scope rule holds for the row as it will be, mixing new and stored values */
    scope = bt_req_has(rq, "scope") ? bt_req_str(rq, "scope")
                                    : json_string_value(json_object_get(cur, "scope"));
    vendor_id = bt_req_has(rq, "vendor_id")
                    ? bt_req_int(rq, "vendor_id", 0)
                    : (int64_t)json_integer_value(json_object_get(cur, "vendor_id"));
    if ((rc = kn_check_scope(db, scope ? scope : "global", vendor_id, err)) != BT_OK)
        return rc;
    if ((rc = kn_keywords_text(rq->arena, json_object_get(in, "keywords"), "", &keywords, err)) !=
        BT_OK)
        return rc;
    if ((rc = kn_maps_from(db, rq->arena, in, &maps, &nmaps, &given, err)) != BT_OK)
        return rc;

    bt_buf_init(&sql, rq->arena, 256);
    args[nargs++] = bt_text(now);
    bt_buf_adds(&sql, "UPDATE vendorchat_knowledge SET updated_at = $1");
    for (size_t i = 0; i < sizeof(text_cols) / sizeof(text_cols[0]); i++) {
        if (!bt_req_has(rq, text_cols[i]))
            continue;
        args[nargs++] = bt_text(bt_req_str(rq, text_cols[i]));
        bt_buf_addf(&sql, ", %s = $%zu", text_cols[i], nargs);
    }
    if (bt_req_has(rq, "keywords")) {
        args[nargs++] = bt_text(keywords);
        bt_buf_addf(&sql, ", keywords = $%zu", nargs);
    }
    if (bt_req_has(rq, "vendor_id") || bt_req_has(rq, "scope")) {
        args[nargs++] = vendor_id ? bt_i64(vendor_id) : bt_null();
        bt_buf_addf(&sql, ", vendor_id = $%zu", nargs);
        args[nargs++] = bt_text(scope);
        bt_buf_addf(&sql, ", scope = $%zu", nargs);
    }
    if (bt_req_has(rq, "priority")) {
        args[nargs++] = bt_i64(bt_req_int(rq, "priority", 0));
        bt_buf_addf(&sql, ", priority = $%zu", nargs);
    }
    if (bt_req_has(rq, "is_template")) {
        args[nargs++] = bt_bool(bt_req_bool(rq, "is_template", true));
        bt_buf_addf(&sql, ", is_template = $%zu", nargs);
    }
    if (bt_req_has(rq, "is_active")) {
        args[nargs++] = bt_bool(bt_req_bool(rq, "is_active", true));
        bt_buf_addf(&sql, ", is_active = $%zu", nargs);
    }
    args[nargs++] = bt_i64(id);
    bt_buf_addf(&sql, " WHERE id = $%zu", nargs);
    if ((rc = bt_db_exec(db, NULL, sql.p, args, nargs, err)) != BT_OK)
        return rc;
    return given ? kn_maps_write(db, id, maps, nmaps, err) : BT_OK;
}

/* Import creates every item. */
static int kn_import_one(struct bt_db *db, struct bt_arena *a, const json_t *item, const char *now,
                         const char *prefix, size_t *created, size_t *updated, struct bt_err *err)
{
    int64_t id;
    int rc = kn_insert(db, a, item, now, prefix, &id, err);

    (void)updated;
    if (rc == BT_OK)
        (*created)++;
    return rc;
}

/* ---- intents ---- */

static json_t *intent_json(const struct bt_rows *rows, size_t r)
{
    json_t *row = bt_rows_obj(rows, r);
    json_t *o = json_object();

    kn_put(o, row, "id");
    kn_put(o, row, "name");
    kn_put(o, row, "type");
    kn_put(o, row, "description");
    json_object_set_new(o, "keywords", kn_keywords_json(bt_rows_text(rows, r, 4)));
    /* a REAL column: SQLite hands back 1 for 1.0 stored as integer affinity */
    json_object_set_new(o, "confidence_threshold", json_real(bt_rows_f64(rows, r, 5, 0.5)));
    kn_put(o, row, "is_enabled");
    kn_put(o, row, "priority");
    kn_put(o, row, "usage_count");
    kn_put(o, row, "last_used_at");
    kn_put(o, row, "created_at");
    kn_put(o, row, "updated_at");
    json_decref(row);
    return o;
}

static int intent_fetch(struct bt_db *db, struct bt_arena *a, int64_t id, json_t **out,
                        struct bt_err *err)
{
    struct bt_rows *rows;
    int rc;

    *out = NULL;
    rc =
        bt_db_query(db, a, &rows, "SELECT " INTENT_COLUMNS " FROM vendorchat_intents WHERE id = $1",
                    BT_ARGS(bt_i64(id)), err);
    if (rc != BT_OK)
        return rc;
    if (rows->nrows == 0)
        return bt_fail(err, BT_ENOTFOUND, NULL, INTENT_NOT_FOUND);
    *out = bt_json_own(a, intent_json(rows, 0));
    return BT_OK;
}

/* Usage counts are buffered by the message pipeline: write them before showing them. */
static int intent_usage_sync(struct bt_req *rq, struct bt_db *db, struct bt_err *err)
{
    return vendorchat_usage_flush(vendorchat_state(rq)->index, db, true, err);
}

/* Id of the intent called name, or 0. */
static int intent_by_name(struct bt_db *db, const char *name, int64_t *id, struct bt_err *err)
{
    int rc = bt_db_query_i64(db, id, "SELECT id FROM vendorchat_intents WHERE name = $1",
                             BT_ARGS(bt_text(name)), err);

    if (rc == BT_ENOTFOUND) {
        bt_err_clear(err);
        *id = 0;
        return BT_OK;
    }
    return rc;
}

static int intent_insert(struct bt_db *db, struct bt_arena *a, const json_t *in, const char *now,
                         const char *prefix, int64_t *id, struct bt_err *err)
{
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *type = json_string_value(json_object_get(in, "type"));
    const json_t *thr = json_object_get(in, "confidence_threshold");
    const json_t *enabled = json_object_get(in, "is_enabled");
    const json_t *prio = json_object_get(in, "priority");
    const char *keywords;
    int64_t other;
    int rc;

    if ((rc = intent_by_name(db, name, &other, err)) != BT_OK)
        return rc;
    if (other)
        return bt_fail(err, BT_EINVAL, "name", "意圖已存在: %s", name);
    if ((rc = kn_keywords_text(a, json_object_get(in, "keywords"), prefix, &keywords, err)) !=
        BT_OK)
        return rc;
    rc = bt_db_query_i64(
        db, id,
        "INSERT INTO vendorchat_intents (name, type, description, keywords,"
        " confidence_threshold, is_enabled, priority, usage_count, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8) RETURNING id",
        BT_ARGS(bt_text(name), bt_text(type ? type : "knowledge"),
                bt_text(json_string_value(json_object_get(in, "description"))), bt_text(keywords),
                bt_f64(json_is_number(thr) ? json_number_value(thr) : 0.5),
                bt_bool(enabled ? json_is_true(enabled) : true),
                bt_i64(json_is_integer(prio) ? (int64_t)json_integer_value(prio) : 0),
                bt_text(now)),
        err);
    if (rc == BT_ECONFLICT) { /* a concurrent create of the same name won */
        bt_err_clear(err);
        return bt_fail(err, BT_EINVAL, "name", "意圖已存在: %s", name);
    }
    return rc;
}

/* Write the fields present in in to intent id. BT_ENOTFOUND when it does not exist. */
static int intent_apply(struct bt_db *db, struct bt_arena *a, int64_t id, const json_t *in,
                        const char *now, const char *prefix, struct bt_err *err)
{
    const char *name = json_string_value(json_object_get(in, "name"));
    struct bt_val args[10];
    size_t nargs = 0;
    struct bt_buf sql;
    const char *keywords;
    int64_t changed = 0, other;
    const json_t *v;
    int rc;

    if (name) {
        if ((rc = intent_by_name(db, name, &other, err)) != BT_OK)
            return rc;
        if (other && other != id)
            return bt_fail(err, BT_EINVAL, "name", "意圖已存在: %s", name);
    }
    if ((rc = kn_keywords_text(a, json_object_get(in, "keywords"), prefix, &keywords, err)) !=
        BT_OK)
        return rc;
    bt_buf_init(&sql, a, 256);
    args[nargs++] = bt_text(now);
    bt_buf_adds(&sql, "UPDATE vendorchat_intents SET updated_at = $1");
    if (name) {
        args[nargs++] = bt_text(name);
        bt_buf_addf(&sql, ", name = $%zu", nargs);
    }
    if ((v = json_object_get(in, "type")) != NULL) {
        args[nargs++] = bt_text(json_string_value(v));
        bt_buf_addf(&sql, ", type = $%zu", nargs);
    }
    if ((v = json_object_get(in, "description")) != NULL) {
        args[nargs++] = bt_text(json_string_value(v));
        bt_buf_addf(&sql, ", description = $%zu", nargs);
    }
    if (json_object_get(in, "keywords")) {
        args[nargs++] = bt_text(keywords);
        bt_buf_addf(&sql, ", keywords = $%zu", nargs);
    }
    if ((v = json_object_get(in, "confidence_threshold")) != NULL) {
        args[nargs++] = bt_f64(json_number_value(v));
        bt_buf_addf(&sql, ", confidence_threshold = $%zu", nargs);
    }
    if ((v = json_object_get(in, "is_enabled")) != NULL) {
        args[nargs++] = bt_bool(json_is_true(v));
        bt_buf_addf(&sql, ", is_enabled = $%zu", nargs);
    }
    if ((v = json_object_get(in, "priority")) != NULL) {
        args[nargs++] = bt_i64((int64_t)json_integer_value(v));
        bt_buf_addf(&sql, ", priority = $%zu", nargs);
    }
    args[nargs++] = bt_i64(id);
    bt_buf_addf(&sql, " WHERE id = $%zu", nargs);
    rc = bt_db_exec(db, &changed, sql.p, args, nargs, err);
    if (rc == BT_ECONFLICT) {
        bt_err_clear(err);
        return bt_fail(err, BT_EINVAL, "name", "意圖已存在: %s", name ? name : "");
    }
    if (rc != BT_OK)
        return rc;
    return changed ? BT_OK : bt_fail(err, BT_ENOTFOUND, NULL, INTENT_NOT_FOUND);
}

/* The update verb's view of intent_apply: the request body, no item prefix. */
static int intent_apply_req(struct bt_req *rq, struct bt_db *db, int64_t id, const char *now,
                            struct bt_err *err)
{
    return intent_apply(db, rq->arena, id, rq->json, now, "", err);
}

/* Import is by name: an intent that exists gets the fields the item gives, a new name is
 * created. Re-importing an edited keyword list is the common case. */
static int intent_import_one(struct bt_db *db, struct bt_arena *a, const json_t *item,
                             const char *now, const char *prefix, size_t *created, size_t *updated,
                             struct bt_err *err)
{
    int64_t id;
    int rc = intent_by_name(db, json_string_value(json_object_get(item, "name")), &id, err);

    if (rc == BT_OK && id) {
        rc = intent_apply(db, a, id, item, now, prefix, err);
        (*updated)++;
    } else if (rc == BT_OK) {
        rc = intent_insert(db, a, item, now, prefix, &id, err);
        (*created)++;
    }
    return rc;
}

int vendorchat_intent_list(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_rows *rows;
    struct bt_db *db;
    json_t *items, *out;
    int rc;

    if (!(db = kn_db(rq, err, &rc)))
        return rc;
    if ((rc = intent_usage_sync(rq, db, err)) != BT_OK)
        return rc;
    rc = bt_db_query(db, rq->arena, &rows,
                     "SELECT " INTENT_COLUMNS " FROM vendorchat_intents ORDER BY id", BT_NOARGS,
                     err);
    if (rc != BT_OK)
        return rc;
    items = json_array();
    for (size_t r = 0; r < rows->nrows; r++)
        json_array_append_new(items, intent_json(rows, r));
    out = json_object();
    json_object_set_new(out, "items", items);
    json_object_set_new(out, "total", json_integer((json_int_t)rows->nrows));
    return bt_res_json(rs, 200, out);
}

/* ---- create, get, update, delete and import, shared by knowledge and intents ---- */

/* What differs between the two resources; the verbs below are the same logic over it. Every
 * write bumps the knowledge generation in its own transaction. */
struct kn_kind {
    const char *param;     /* path parameter; also the id's key in the delete reply */
    const char *not_found; /* 404 text */
    const char *deleted;   /* delete reply message */
    const char *delete_maps_sql;
    const char *delete_sql;
    int (*insert)(struct bt_db *db, struct bt_arena *a, const json_t *in, const char *now,
                  const char *prefix, int64_t *id, struct bt_err *err);
    int (*fetch)(struct bt_db *db, struct bt_arena *a, int64_t id, json_t **out,
                 struct bt_err *err);
    /* the update body onto row id; BT_ENOTFOUND when it does not exist */
    int (*apply)(struct bt_req *rq, struct bt_db *db, int64_t id, const char *now,
                 struct bt_err *err);
    int (*import_one)(struct bt_db *db, struct bt_arena *a, const json_t *item, const char *now,
                      const char *prefix, size_t *created, size_t *updated, struct bt_err *err);
    /* before get and update read the row back; NULL for none */
    int (*before_read)(struct bt_req *rq, struct bt_db *db, struct bt_err *err);
};

static const struct kn_kind kn_kind_knowledge = {
    .param = "knowledge_id",
    .not_found = KN_NOT_FOUND,
    .deleted = "知識已刪除",
    .delete_maps_sql = "DELETE FROM vendorchat_knowledge_intents WHERE knowledge_id = $1",
    .delete_sql = "DELETE FROM vendorchat_knowledge WHERE id = $1",
    .insert = kn_insert,
    .fetch = kn_fetch,
    .apply = kn_apply,
    .import_one = kn_import_one,
    .before_read = NULL,
};

static const struct kn_kind kn_kind_intent = {
    .param = "intent_id",
    .not_found = INTENT_NOT_FOUND,
    .deleted = "意圖已刪除",
    .delete_maps_sql = "DELETE FROM vendorchat_knowledge_intents WHERE intent_id = $1",
    .delete_sql = "DELETE FROM vendorchat_intents WHERE id = $1",
    .insert = intent_insert,
    .fetch = intent_fetch,
    .apply = intent_apply_req,
    .import_one = intent_import_one,
    .before_read = intent_usage_sync,
};

static int kn_create(const struct kn_kind *k, struct bt_req *rq, struct bt_res *rs,
                     struct bt_err *err)
{
    struct bt_db *db;
    json_t *row;
    int64_t id;
    char now[32];
    int rc;

    if (!(db = kn_db(rq, err, &rc)))
        return rc;
    kn_now(now);
    if ((rc = bt_db_begin(db, err)) != BT_OK)
        return rc;
    if ((rc = k->insert(db, rq->arena, rq->json, now, "", &id, err)) != BT_OK ||
        (rc = kn_commit(rq, db, err)) != BT_OK)
        return kn_abort(db, rc);
    if ((rc = k->fetch(db, rq->arena, id, &row, err)) != BT_OK)
        return rc;
    return bt_res_json(rs, 201, json_incref(row));
}

static int kn_get(const struct kn_kind *k, struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_db *db;
    json_t *row;
    int64_t id;
    int rc;

    if ((rc = vendorchat_path_id(rq, k->param, &id, err)) != BT_OK)
        return rc;
    if (!(db = kn_db(rq, err, &rc)))
        return rc;
    if (k->before_read && (rc = k->before_read(rq, db, err)) != BT_OK)
        return rc;
    if ((rc = k->fetch(db, rq->arena, id, &row, err)) != BT_OK)
        return rc;
    return bt_res_json(rs, 200, json_incref(row));
}

static int kn_update(const struct kn_kind *k, struct bt_req *rq, struct bt_res *rs,
                     struct bt_err *err)
{
    struct bt_db *db;
    json_t *row;
    int64_t id;
    char now[32];
    int rc;

    if ((rc = vendorchat_path_id(rq, k->param, &id, err)) != BT_OK)
        return rc;
    if (!(db = kn_db(rq, err, &rc)))
        return rc;
    kn_now(now);
    if ((rc = bt_db_begin(db, err)) != BT_OK)
        return rc;
    if ((rc = k->apply(rq, db, id, now, err)) != BT_OK || (rc = kn_commit(rq, db, err)) != BT_OK)
        return kn_abort(db, rc);
    if (k->before_read && (rc = k->before_read(rq, db, err)) != BT_OK)
        return rc;
    if ((rc = k->fetch(db, rq->arena, id, &row, err)) != BT_OK)
        return rc;
    return bt_res_json(rs, 200, json_incref(row));
}

static int kn_delete(const struct kn_kind *k, struct bt_req *rq, struct bt_res *rs,
                     struct bt_err *err)
{
    struct bt_db *db;
    int64_t id, changed = 0;
    int rc;

    if ((rc = vendorchat_path_id(rq, k->param, &id, err)) != BT_OK)
        return rc;
    if (!(db = kn_db(rq, err, &rc)))
        return rc;
    if ((rc = bt_db_begin(db, err)) != BT_OK)
        return rc;
    /* mappings first: SQLite enforces the cascade only with foreign keys switched on */
    if ((rc = bt_db_exec(db, NULL, k->delete_maps_sql, BT_ARGS(bt_i64(id)), err)) != BT_OK ||
        (rc = bt_db_exec(db, &changed, k->delete_sql, BT_ARGS(bt_i64(id)), err)) != BT_OK)
        return kn_abort(db, rc);
    if (changed == 0)
        return kn_abort(db, bt_fail(err, BT_ENOTFOUND, NULL, "%s", k->not_found));
    if ((rc = kn_commit(rq, db, err)) != BT_OK)
        return kn_abort(db, rc);
    return bt_res_json(rs, 200,
                       json_pack("{s:s,s:I}", "message", k->deleted, k->param, (json_int_t)id));
}

/* All or nothing: the first failing item rolls the whole import back and is named in the
 * error ("[3].vendor_id"). The caller writes the reply from the counts. */
static int kn_import(const struct kn_kind *k, struct bt_req *rq, size_t *created, size_t *updated,
                     struct bt_err *err)
{
    struct bt_db *db;
    char now[32];
    json_t *item;
    size_t i;
    int rc;

    if (!(db = kn_db(rq, err, &rc)))
        return rc;
    kn_now(now);
    if ((rc = bt_db_begin(db, err)) != BT_OK)
        return rc;
    json_array_foreach(rq->json, i, item)
    {
        const char *prefix = bt_arena_printf(rq->arena, "[%zu].", i);

        if ((rc = k->import_one(db, rq->arena, item, now, prefix, created, updated, err)) !=
            BT_OK) {
            if (err->nfields == 0)
                kn_item_field(err, i);
            return kn_abort(db, rc);
        }
    }
    if ((rc = kn_commit(rq, db, err)) != BT_OK)
        return kn_abort(db, rc);
    return BT_OK;
}

int vendorchat_knowledge_create(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    return kn_create(&kn_kind_knowledge, rq, rs, err);
}

int vendorchat_knowledge_get(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    return kn_get(&kn_kind_knowledge, rq, rs, err);
}

int vendorchat_knowledge_update(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    return kn_update(&kn_kind_knowledge, rq, rs, err);
}

int vendorchat_knowledge_delete(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    return kn_delete(&kn_kind_knowledge, rq, rs, err);
}

int vendorchat_knowledge_import(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    size_t created = 0, updated = 0;
    int rc = kn_import(&kn_kind_knowledge, rq, &created, &updated, err);

    if (rc != BT_OK)
        return rc;
    return bt_res_json(rs, 200,
                       json_pack("{s:I}", "imported", (json_int_t)json_array_size(rq->json)));
}

int vendorchat_intent_create(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    return kn_create(&kn_kind_intent, rq, rs, err);
}

int vendorchat_intent_get(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    return kn_get(&kn_kind_intent, rq, rs, err);
}

int vendorchat_intent_update(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    return kn_update(&kn_kind_intent, rq, rs, err);
}

int vendorchat_intent_delete(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    return kn_delete(&kn_kind_intent, rq, rs, err);
}

int vendorchat_intent_import(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    size_t created = 0, updated = 0;
    int rc = kn_import(&kn_kind_intent, rq, &created, &updated, err);

    if (rc != BT_OK)
        return rc;
    return bt_res_json(rs, 200,
                       json_pack("{s:I,s:I,s:I}", "imported", (json_int_t)(created + updated),
                                 "created", (json_int_t)created, "updated", (json_int_t)updated));
}

/* ---- unanswered questions ---- */

int vendorchat_unanswered_list(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_val args[3];
    size_t nargs = 0;
    const char *where = "";
    struct bt_db *db;
    json_t *items, *out;
    int64_t total = 0;
    int rc;

    if (!(db = kn_db(rq, err, &rc)))
        return rc;
    if (bt_req_qhas(rq, "vendor_id")) {
        args[nargs++] = bt_i64(bt_req_qint(rq, "vendor_id", 0));
        where = " WHERE vendor_id = $1";
    }
    rc = bt_db_query_i64(
        db, &total,
        bt_arena_printf(rq->arena, "SELECT COUNT(*) FROM vendorchat_unanswered%s", where), args,
        nargs, err);
    if (rc != BT_OK)
        return rc;
    args[nargs++] = bt_i64(bt_req_qint(rq, "limit", 50));
    args[nargs++] = bt_i64(bt_req_qint(rq, "offset", 0));
    rc = bt_db_query_json(db, rq->arena, &items,
                          bt_arena_printf(rq->arena,
                                          "SELECT id, vendor_id, message, intent_name, session_id,"
                                          " user_id, created_at FROM vendorchat_unanswered%s"
                                          " ORDER BY id DESC LIMIT $%zu OFFSET $%zu",
                                          where, nargs - 1, nargs),
                          args, nargs, err);
    if (rc != BT_OK)
        return rc;
    out = json_object();
    json_object_set_new(out, "items", json_incref(items));
    json_object_set_new(out, "total", json_integer((json_int_t)total));
    return bt_res_json(rs, 200, out);
}
