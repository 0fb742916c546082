/* SPDX-License-Identifier: MIT
 * vendorchat.h - app-private declarations shared by the vendorchat sources.
 * Never included outside apps/vendorchat/.
 * File ownership:
 *   app.c        the app descriptor, error envelope, init/fini
 *   routes.c     the route table
 *   vendors.c    Vendors API: vendors, configs, stats, /test, /reload
 *   params.c     vendor parameters: loading, formatting, {{key}} injection
 *   chat.c       POST /chat/v1/message: the message pipeline
 *   classify.c   built-in intent classifier and knowledge retrieval index
 *   knowledge.c  knowledge, intents, unanswered questions: operator CRUD and import
 *   llm.c        optional OpenAI-compatible provider
 */
#ifndef VENDORCHAT_H
#define VENDORCHAT_H

#include <stdbool.h>
#include <stdint.h>

#include <bento/bento.h>

/* ---- handlers (routes.c lists them) ---- */
bt_handler_fn vendorchat_message;     /* chat.c */
bt_handler_fn vendorchat_vendor_test; /* vendors.c */
bt_handler_fn vendorchat_reload;      /* vendors.c */
bt_handler_fn vendorchat_vendor_list; /* vendors.c */
bt_handler_fn vendorchat_vendor_create;
bt_handler_fn vendorchat_vendor_get;
bt_handler_fn vendorchat_vendor_update;
bt_handler_fn vendorchat_vendor_delete;
bt_handler_fn vendorchat_configs_get;
bt_handler_fn vendorchat_configs_put;
bt_handler_fn vendorchat_vendor_stats;
bt_handler_fn vendorchat_knowledge_list; /* knowledge.c */
bt_handler_fn vendorchat_knowledge_create;
bt_handler_fn vendorchat_knowledge_get;
bt_handler_fn vendorchat_knowledge_update;
bt_handler_fn vendorchat_knowledge_delete;
bt_handler_fn vendorchat_knowledge_import;
bt_handler_fn vendorchat_intent_list;
bt_handler_fn vendorchat_intent_create;
bt_handler_fn vendorchat_intent_get;
bt_handler_fn vendorchat_intent_update;
bt_handler_fn vendorchat_intent_delete;
bt_handler_fn vendorchat_intent_import;
bt_handler_fn vendorchat_unanswered_list;

/* ---- schemas (defined next to their handlers) ---- */
extern const struct bt_schema vendorchat_message_in;    /* chat.c */
extern const struct bt_schema vendorchat_vendor_list_q; /* vendors.c */
extern const struct bt_schema vendorchat_vendor_create_in;
extern const struct bt_schema vendorchat_vendor_update_in;
extern const struct bt_schema vendorchat_configs_q;
extern const struct bt_schema vendorchat_configs_put_in;
extern const struct bt_schema vendorchat_knowledge_list_q; /* knowledge.c */
extern const struct bt_schema vendorchat_knowledge_in;
extern const struct bt_schema vendorchat_knowledge_update_in;
extern const struct bt_schema vendorchat_knowledge_import_in;
extern const struct bt_schema vendorchat_intent_in;
extern const struct bt_schema vendorchat_intent_update_in;
extern const struct bt_schema vendorchat_intent_import_in;
extern const struct bt_schema vendorchat_unanswered_q;

/* ---- response schemas (defined next to their handlers) ---- */
extern const struct bt_schema vendorchat_message_out;     /* chat.c */
extern const struct bt_schema vendorchat_vendor_test_out; /* vendors.c */
extern const struct bt_schema vendorchat_reload_out;
extern const struct bt_schema vendorchat_vendor_out;
extern const struct bt_schema vendorchat_vendor_list_out;
extern const struct bt_schema vendorchat_vendor_deleted_out;
extern const struct bt_schema vendorchat_configs_out;
extern const struct bt_schema vendorchat_configs_updated_out;
extern const struct bt_schema vendorchat_vendor_stats_out;
extern const struct bt_schema vendorchat_knowledge_out; /* knowledge.c */
extern const struct bt_schema vendorchat_knowledge_page_out;
extern const struct bt_schema vendorchat_knowledge_deleted_out;
extern const struct bt_schema vendorchat_knowledge_imported_out;
extern const struct bt_schema vendorchat_intent_out;
extern const struct bt_schema vendorchat_intent_page_out;
extern const struct bt_schema vendorchat_intent_deleted_out;
extern const struct bt_schema vendorchat_intent_imported_out;
extern const struct bt_schema vendorchat_unanswered_page_out;

extern const struct bt_route vendorchat_routes[];

/* ---- app state (app.c owns it; init allocates, fini frees) ---- */
struct vendorchat_index; /* classify.c: in-memory retrieval index */
struct vendorchat_state {
    struct vendorchat_index *index; /* rebuilt when the knowledge generation changes */
    /* read caches (include/bento/cache.h; docs/apps/vendorchat.md, "Caches"): serving on
     * PostgreSQL only, invalidated by the triggers of sql/0003_caches.sql */
    struct bt_cache *vendors; /* vendor rows as the API shows them (JSON text), by id */
    struct bt_cache *params;  /* a vendor's active parameters (params.c's packing), by id */
    struct bt_cache *meta;    /* vendorchat_meta values (knowledge_gen), by key */
    /* LLM provider, all NULL when not configured (llm.c) */
    const char *llm_url;   /* base URL, e.g. http://127.0.0.1:9/v1 */
    const char *llm_key;   /* bearer key; never logged */
    const char *llm_model; /* model name */
    long llm_timeout_ms;
};

static inline struct vendorchat_state *vendorchat_state(struct bt_req *rq)
{
    return (struct vendorchat_state *)rq->ctx->state;
}

/* ---- shared helpers ---- */

/** Path parameter name as an id >= 1. Returns BT_OK, or BT_EINVAL (err filled) when it is not
 *  a positive integer. (vendors.c) */
int vendorchat_path_id(struct bt_req *rq, const char *name, int64_t *id, struct bt_err *err);

/** A vendor row as the API shows it (arena-owned JSON object); BT_ENOTFOUND when unknown
 *  (err not filled: callers word their own 404). (vendors.c) */
int vendorchat_vendor_fetch(struct bt_req *rq, int64_t id, json_t **vendor, struct bt_err *err);

/** One active vendor parameter. (params.c) */
struct vendorchat_param {
    const char *category, *key, *value, *data_type, *unit, *display_name, *description;
};

/** The vendor's active configs, ordered by category then key (arena-owned). */
int vendorchat_params_load(struct bt_req *rq, int64_t vendor_id, struct vendorchat_param **out,
                           size_t *n, struct bt_err *err);
/** A parameter's value as shown to tenants (number + unit, boolean 是/否, json list ...). */
const char *vendorchat_param_format(struct bt_arena *a, const struct vendorchat_param *p);
/** Replace every {{key}} with its formatted value; unknown keys stay. *injected (may be NULL)
 *  is set when at least one placeholder was filled. Arena-owned result. */
char *vendorchat_inject(struct bt_arena *a, const char *tmpl, const struct vendorchat_param *ps,
                        size_t n, bool *injected);
/** Find a parameter by key, NULL if none. */
const struct vendorchat_param *vendorchat_param_find(const struct vendorchat_param *ps, size_t n,
                                                     const char *key);

/** Drop what this instance caches (the retrieval index, the read caches) so the next requests
 *  read the database again (/reload). */
void vendorchat_cache_clear(struct vendorchat_state *st);

/** Bump the knowledge generation in the database so every instance rebuilds its index
 *  (call inside the writing transaction). (knowledge.c) */
int vendorchat_knowledge_touch(struct bt_db *db, struct bt_err *err);

/** The knowledge generation (0 when the database has none yet), through the meta cache.
 *  BT_OK or a database status with err filled. (knowledge.c) */
int vendorchat_knowledge_gen(struct bt_req *rq, int64_t *gen, struct bt_err *err);

/* classify.c */
struct vendorchat_index *vendorchat_index_new(void);
void vendorchat_index_free(struct vendorchat_index *ix);

#endif
