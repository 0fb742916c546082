/* SPDX-License-Identifier: MIT
 * materials.c - the materials API (document 002 "基材管理 API", note "Materials"): list with
 * search, filters, sort and pagination; get; create; partial update; delete.
 * Owns: yunshui_materials and yunshui_materials_rev SQL, the material JSON shape (the
 * document's field order plus the computed status), the search column (searched through
 * the core's index, include/bento/search.h), and a process-wide cache of list totals keyed
 * by the database's revision stamp.
 * Must not: splice input into SQL (sort columns come from a whitelist); change stock on
 * behalf of orders (orders.c does); delete a material that an open order uses.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "yunshui.h"

#define MAT_NOT_FOUND "基材不存在"
#define MAT_DUPLICATE "基材已存在"
#define MAT_IN_USE "基材正被未完成的訂單使用，無法刪除"

/* Stored status, computed from stock in SQL so that the status filter is a WHERE clause and
 * a page never has to be filtered in C. */
#define MAT_STATUS_SQL                                                                             \
    "CASE WHEN stock = 0 THEN 'out_of_stock' WHEN stock <= min_stock THEN 'low_stock'"             \
    " ELSE 'available' END"

/* The columns of a material, in the document's order; mat_json reads them by position. */
#define MAT_COLUMNS                                                                                \
    "id, name, category, specification, unit, price, stock, min_stock, image_url, description,"    \
    " created_at, updated_at, " MAT_STATUS_SQL

enum {
    MAT_C_ID,
    MAT_C_NAME,
    MAT_C_CATEGORY,
    MAT_C_SPEC,
    MAT_C_UNIT,
    MAT_C_PRICE,
    MAT_C_STOCK,
    MAT_C_MIN_STOCK,
    MAT_C_IMAGE,
    MAT_C_DESC,
    MAT_C_CREATED,
    MAT_C_UPDATED,
    MAT_C_STATUS,
    MAT_NCOLS
};

/* The search index over search_text (0005_search.sql): name, specification and
 * description, folded and joined by BT_SEARCH_SEP (bt_search_text). */
static const struct bt_search mat_search = {"yunshui_materials", "id", "search_text"};

/* Bounds that keep every value exact in a JSON double and every offset inside int64. */
#define MAT_MAX_COUNT 1000000000000.0 /* stock, minStock */

/* ---- schemas ---- */

static const char *const mat_statuses[] = {"available", "low_stock", "out_of_stock", NULL};
static const char *const mat_sort_names[] = {"name", "price", "stock", "created_at", NULL};
static const char *const mat_orders[] = {"asc", "desc", NULL};

static const struct bt_field mat_list_q_fields[] = {
    YUNSHUI_PAGE_FIELDS,
    {.name = "search",
     .type = BT_T_STR,
     .max_len = 200,
     .desc = "搜尋關鍵字（名稱、規格、描述；英文不分大小寫）"},
    {.name = "category", .type = BT_T_STR, .max_len = 50, .desc = "類別篩選"},
    {.name = "status",
     .type = BT_T_ENUM,
     .one_of = mat_statuses,
     .desc = "狀態篩選 (available, low_stock, out_of_stock)"},
    {.name = "sort",
     .type = BT_T_ENUM,
     .one_of = mat_sort_names,
     .desc = "排序方式 (name, price, stock, created_at)，預設 created_at"},
    {.name = "order",
     .type = BT_T_ENUM,
     .one_of = mat_orders,
     .desc = "排序順序 (asc, desc)；created_at 預設 desc，其他預設 asc"},
    BT_FIELD_END,
};

const struct bt_schema yunshui_material_list_q = {
    .name = "MaterialListQuery",
    .fields = mat_list_q_fields,
};

static const struct bt_field mat_fields[] = {
    {.name = "name",
     .type = BT_T_STR,
     .flags = BT_F_REQUIRED | BT_F_NONEMPTY,
     .min_len = 1,
     .max_len = 100,
     .desc = "名稱"},
    {.name = "category", .type = BT_T_STR, .flags = BT_F_NULLABLE, .max_len = 50, .desc = "類別"},
    {.name = "specification",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 200,
     .desc = "規格"},
    {.name = "unit", .type = BT_T_STR, .flags = BT_F_NULLABLE, .max_len = 20, .desc = "單位"},
    {.name = "price",
     .type = BT_T_NUM,
     .flags = BT_F_MIN | BT_F_MAX,
     .min = 0,
     .max = 10000000000.0,
     .desc = "單價，最多 4 位小數（預設 0）"},
    {.name = "stock",
     .type = BT_T_INT,
     .flags = BT_F_MIN | BT_F_MAX,
     .min = 0,
     .max = MAT_MAX_COUNT,
     .desc = "庫存（預設 0）"},
    {.name = "minStock",
     .type = BT_T_INT,
     .flags = BT_F_MIN | BT_F_MAX,
     .min = 0,
     .max = MAT_MAX_COUNT,
     .desc = "安全庫存（預設 0）"},
    {.name = "imageUrl",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 500,
     .desc = "圖片網址 (http/https)"},
    {.name = "description",
     .type = BT_T_STR,
     .flags = BT_F_NULLABLE,
     .max_len = 2000,
     .desc = "描述"},
    BT_FIELD_END,
};

const struct bt_schema yunshui_material_in = {
    .name = "MaterialCreate",
    .fields = mat_fields,
};

const struct bt_schema yunshui_material_update_in = {
    .name = "MaterialUpdate",
    .fields = mat_fields,
    .flags = BT_S_PARTIAL,
};

/* ---- list totals cache ----
 * A total needs every matching row, while the page itself is read off a sort index and
 * stops after offset + limit rows. The search index answers a term's total without a scan,
 * but a common term still touches every matching row on PostgreSQL (a bitmap heap scan:
 * 10-30 ms for 鋼 at 100,000 rows), and an unfiltered or category total is a count of the
 * table or the category (4 ms on SQLite, 10-30 ms on PostgreSQL). Totals for
 * (search, category) are therefore kept per revision of the materials:
 * yunshui_materials_rev holds a random stamp that every create, update and delete here
 * replaces in its own transaction, so an entry can never outlive the rows it counted, in
 * this process or any other sharing the database. The stamp is random rather than a
 * counter so that two databases (tests, a restored copy) never share one.
 * Totals with a status filter are not cached: orders.c moves stock without a new stamp. */

#define MAT_TOTALS 64
#define MAT_KEY_MAX 1024

struct mat_total {
    int64_t rev; /* 0: empty slot */
    int64_t total;
    char key[MAT_KEY_MAX];
};

static struct mat_total mat_totals[MAT_TOTALS];
static pthread_mutex_t mat_totals_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t mat_key_slot(const char *key)
{
    uint64_t h = 1469598103934665603ULL;

    for (const char *s = key; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (size_t)(h % MAT_TOTALS);
}

static bool mat_totals_find(int64_t rev, const char *key, int64_t *total)
{
    struct mat_total *e = &mat_totals[mat_key_slot(key)];
    bool hit;

    pthread_mutex_lock(&mat_totals_lock);
    hit = e->rev == rev && strcmp(e->key, key) == 0;
    if (hit)
        *total = e->total;
    pthread_mutex_unlock(&mat_totals_lock);
    return hit;
}

static void mat_totals_put(int64_t rev, const char *key, int64_t total)
{
    struct mat_total *e = &mat_totals[mat_key_slot(key)];

    pthread_mutex_lock(&mat_totals_lock);
    e->rev = rev;
    e->total = total;
    snprintf(e->key, sizeof(e->key), "%s", key);
    pthread_mutex_unlock(&mat_totals_lock);
}

/* A new stamp, inside the caller's write transaction. */
static int mat_bump_rev(struct bt_db *db, struct bt_err *err)
{
    uint64_t r;

    bt_random_bytes(&r, sizeof(r));
    r &= INT64_MAX;
    if (r == 0)
        r = 1;
    return bt_db_exec(db, NULL, "UPDATE yunshui_materials_rev SET rev = $1 WHERE id = 1",
                      BT_ARGS(bt_i64((int64_t)r)), err);
}

/* ---- helpers ---- */

static struct bt_db *mat_db(struct bt_req *rq, struct bt_err *err, int *rc)
{
    struct bt_db *db = bt_req_db(rq, err);

    *rc = BT_OK;
    if (!db)
        *rc = err->code != BT_OK ? (int)err->code : BT_EDB;
    return db;
}

static int mat_not_found(struct bt_req *rq, struct bt_err *err)
{
    bt_err_clear(err);
    return yunshui_fail(rq, err, BT_ENOTFOUND, "RESOURCE_NOT_FOUND", MAT_NOT_FOUND, NULL);
}

/* The path id as a lower-case UUID in out; false when it is not one (answered as 404: an id
 * that cannot exist is simply not found). */
static bool mat_path_id(const struct bt_req *rq, char out[37])
{
    const char *s = bt_req_param(rq, "id");

    if (!s || strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (c >= 'A' && c <= 'F') {
            c = (char)(c - 'A' + 'a');
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
        out[i] = c;
    }
    out[36] = '\0';
    return true;
}

/* search_text: name, specification and description, folded and joined (bt_search_text). */
static const char *mat_search_text(struct bt_arena *a, const char *name, const char *spec,
                                   const char *desc)
{
    const char *fields[] = {name, spec, desc};

    return bt_search_text(a, fields, 3);
}

/* http:// or https:// with a host, no white space or control characters. */
static bool mat_url_ok(const char *s)
{
    const char *p;

    if (strncasecmp(s, "http://", 7) == 0)
        p = s + 7;
    else if (strncasecmp(s, "https://", 8) == 0)
        p = s + 8;
    else
        return false;
    if (*p == '\0' || *p == '/' || *p == '?' || *p == '#' || *p == ':' || *p == '@')
        return false;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f || c == '\\' || c == '"' || c == '<' || c == '>')
            return false;
    }
    return true;
}

/* Checks the schema cannot express: price's 4 decimal places and imageUrl's scheme. Every
 * bad field is reported at once, like the schema's own errors. */
static int mat_check_body(struct bt_req *rq, int64_t *price, struct bt_err *err)
{
    const json_t *j_price = json_object_get(rq->json, "price");
    const char *url = bt_req_str(rq, "imageUrl");
    bool bad = false;

    *price = 0;
    if (j_price && yunshui_money_parse(j_price, price) != 0) {
        bt_err_add_field(err, "price", "must be at most 10000000000 with at most 4 decimals");
        bad = true;
    }
    if (url && !mat_url_ok(url)) {
        bt_err_add_field(err, "imageUrl", "must be an http or https URL");
        bad = true;
    }
    return bad ? BT_EINVAL : BT_OK;
}

static json_t *mat_cell_text(const struct bt_rows *rows, size_t r, size_t c)
{
    const struct bt_cell *cell = &rows->cells[r * rows->ncols + c];
    json_t *j = cell->s ? json_stringn(cell->s, cell->len) : NULL;

    return j ? j : json_null();
}

/* One row selected with MAT_COLUMNS as the document's material object (new reference). */
static json_t *mat_json(const struct bt_rows *rows, size_t r)
{
    json_t *j = json_object();

    json_object_set_new(j, "id", mat_cell_text(rows, r, MAT_C_ID));
    json_object_set_new(j, "name", mat_cell_text(rows, r, MAT_C_NAME));
    json_object_set_new(j, "category", mat_cell_text(rows, r, MAT_C_CATEGORY));
    json_object_set_new(j, "specification", mat_cell_text(rows, r, MAT_C_SPEC));
    json_object_set_new(j, "unit", mat_cell_text(rows, r, MAT_C_UNIT));
    json_object_set_new(j, "price", yunshui_money_json(bt_rows_i64(rows, r, MAT_C_PRICE, 0)));
    json_object_set_new(j, "stock", json_integer(bt_rows_i64(rows, r, MAT_C_STOCK, 0)));
    json_object_set_new(j, "minStock", json_integer(bt_rows_i64(rows, r, MAT_C_MIN_STOCK, 0)));
    json_object_set_new(j, "imageUrl", mat_cell_text(rows, r, MAT_C_IMAGE));
    json_object_set_new(j, "description", mat_cell_text(rows, r, MAT_C_DESC));
    json_object_set_new(j, "createdAt", mat_cell_text(rows, r, MAT_C_CREATED));
    json_object_set_new(j, "updatedAt", mat_cell_text(rows, r, MAT_C_UPDATED));
    json_object_set_new(j, "status", mat_cell_text(rows, r, MAT_C_STATUS));
    return j;
}

/* Answer with the single row of rows, or 404 when there is none. */
static int mat_reply(struct bt_req *rq, struct bt_res *rs, int status, const struct bt_rows *rows,
                     struct bt_err *err)
{
    if (rows->nrows == 0 || rows->ncols != MAT_NCOLS)
        return mat_not_found(rq, err);
    return yunshui_ok(rs, status, mat_json(rows, 0), NULL);
}

/* ---- list ---- */

/* Sort keys: the column, and the same order as an expression no index matches (see
 * yunshui_material_list). */
static const struct {
    const char *name;
    const char *column;
    const char *unindexed;
} mat_sorts[] = {
    {"name", "name", "name || ''"},
    {"price", "price", "price + 0"},
    {"stock", "stock", "stock + 0"},
    {"created_at", "created_at", "created_at || ''"},
};

/* A list request's filters. */
struct mat_filter {
    struct bt_search_term term;
    bool searching;
    const char *category, *status; /* NULL: not filtered */
};

/* " WHERE ..." for f into where (nothing without filters), its arguments into args at
 * *nargs; the term is tested the way how says. */
static void mat_where(struct bt_db *db, const struct mat_filter *f, enum bt_search_how how,
                      struct bt_buf *where, struct bt_val *args, size_t *nargs)
{
    const char *glue = " WHERE ";

    if (f->searching) {
        bt_buf_adds(where, glue);
        bt_search_where(&mat_search, bt_db_engine(db), how, &f->term, NULL, where, args, nargs);
        glue = " AND ";
    }
    if (f->category) {
        args[(*nargs)++] = bt_text(f->category);
        bt_buf_addf(where, "%scategory = $%zu", glue, *nargs);
        glue = " AND ";
    }
    if (f->status) {
        args[(*nargs)++] = bt_text(f->status);
        bt_buf_addf(where, "%s" MAT_STATUS_SQL " = $%zu", glue, *nargs);
    }
}

/* The revision stamp, 0 when unknown (nothing is cached then). */
static int mat_rev(struct bt_db *db, int64_t *rev, struct bt_err *err)
{
    int rc = bt_db_query_i64(db, rev, "SELECT rev FROM yunshui_materials_rev WHERE id = 1",
                             BT_NOARGS, err);

    if (rc == BT_ENOTFOUND) {
        bt_err_clear(err);
        *rev = 0;
        rc = BT_OK;
    }
    return rc;
}

/* The number of materials matching f (the term tested the way how says), cached per
 * revision when rev is not 0 and there is no status filter: orders.c moves stock without a
 * new stamp. pure: f has a term and nothing else, so the index alone counts it. */
static int mat_count(struct bt_req *rq, struct bt_db *db, int64_t rev, const struct mat_filter *f,
                     bool pure, enum bt_search_how how, int64_t *total, struct bt_err *err)
{
    const char *key = NULL;
    struct bt_val args[BT_SEARCH_MAX_ARGS + 2];
    size_t nargs = 0;
    struct bt_buf sql;
    int rc;

    if (rev != 0 && !f->status) {
        key = bt_arena_printf(rq->arena, "%s%c%s", f->searching ? f->term.folded : "",
                              BT_SEARCH_SEP, f->category ? f->category : "");
        if (strlen(key) >= MAT_KEY_MAX)
            key = NULL;
        else if (mat_totals_find(rev, key, total))
            return BT_OK;
    }
    if (pure) {
        rc = bt_search_count(db, &mat_search, &f->term, total, err);
    } else {
        bt_buf_init(&sql, rq->arena, 512);
        bt_buf_adds(&sql, "SELECT count(*) FROM yunshui_materials");
        mat_where(db, f, how, &sql, args, &nargs);
        rc = bt_db_query_i64(db, total, sql.p, args, nargs, err);
    }
    if (rc == BT_OK && key)
        mat_totals_put(rev, key, *total);
    return rc;
}

int yunshui_material_list(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    int64_t page = bt_req_qint(rq, "page", 1), limit = bt_req_qint(rq, "limit", 20);
    const char *sort = bt_req_qstr(rq, "sort");
    const char *order = bt_req_qstr(rq, "order");
    const char *column = "created_at", *unindexed = "created_at || ''", *order_by, *dir;
    struct mat_filter f = {.category = bt_req_qstr(rq, "category"),
                           .status = bt_req_qstr(rq, "status")};
    enum bt_search_plan plan = BT_SEARCH_WALK;
    enum bt_search_how how = BT_SEARCH_ROW;
    struct bt_val args[BT_SEARCH_MAX_ARGS + 4];
    size_t nargs = 0;
    struct bt_buf where, sql;
    struct bt_rows *rows = NULL;
    struct bt_db *db;
    int64_t rev = 0, total = 0, matches = -1, nrows = 0, offset = (page - 1) * limit;
    json_t *list, *data;
    int rc;

    f.searching = bt_search_term(rq->arena, bt_req_qstr(rq, "search"), &f.term);
    if (f.category && !*f.category)
        f.category = NULL;
    for (size_t i = 0; sort && i < sizeof(mat_sorts) / sizeof(mat_sorts[0]); i++) {
        if (strcmp(sort, mat_sorts[i].name) == 0) {
            column = mat_sorts[i].column;
            unindexed = mat_sorts[i].unindexed;
        }
    }
    /* newest first by default; names, prices and stock read naturally from the smallest */
    if (order)
        dir = strcmp(order, "desc") == 0 ? "DESC" : "ASC";
    else
        dir = strcmp(column, "created_at") == 0 ? "DESC" : "ASC";

    if (!(db = mat_db(rq, err, &rc)))
        return rc;
    if ((rc = mat_rev(db, &rev, err)) != BT_OK)
        return rc;

    /* The total. A term alone is counted by the index; with other filters as well, the
     * term is tested from the index when it matches few enough rows, else row by row
     * (driven by the category's index, or a scan). The term's own count is cached too. */
    if (f.searching) {
        struct mat_filter alone = {.term = f.term, .searching = true};
        if ((rc = mat_count(rq, db, rev, &alone, true, BT_SEARCH_INDEX, &matches, err)) != BT_OK ||
            (rc = bt_search_rows(db, &mat_search, &nrows, err)) != BT_OK)
            return rc;
        how = bt_search_plan_count(bt_db_engine(db), nrows, matches);
    }
    if (f.searching && !f.category && !f.status)
        total = matches;
    else if ((rc = mat_count(rq, db, rev, &f, false, how, &total, err)) != BT_OK)
        return rc;

    /* The page. With a search or a status filter an index cannot both find the rows and
     * give their order, so the page is found by one of three ways, the cheapest for the
     * counts at hand (bt_search_plan_page): walking the sort index and testing each row
     * until offset + limit of them match, which touches about (offset + limit) * rows /
     * total rows (a common term's page 3 walks a few hundred); taking the term's rows from
     * the search index and sorting them (a rare term: a handful); or scanning the table and
     * sorting what matches (a deep page of a common term). The planners cannot know which,
     * so a scan is forced by sorting on an expression no index matches.
     * Either way only ids are ordered and skipped (a deferred join): the rows of the page
     * are read whole afterwards, so a deep page sorts (key, id) pairs rather than whole
     * materials (60 ms instead of 160 ms for page 1,000 of a common term). */
    if (f.searching || f.status) {
        if (!f.searching)
            nrows = total; /* no index: only the ratio of walk to scan matters */
        plan = bt_search_plan_page(bt_db_engine(db), nrows, matches, total, offset + limit);
    }
    order_by = plan == BT_SEARCH_WALK ? column : unindexed;

    list = json_array();
    if (offset < total) {
        bt_buf_init(&where, rq->arena, 256);
        mat_where(db, &f, plan == BT_SEARCH_SCAN_INDEX ? BT_SEARCH_INDEX : BT_SEARCH_ROW, &where,
                  args, &nargs);
        bt_buf_init(&sql, rq->arena, 512);
        bt_buf_addf(&sql,
                    "SELECT " MAT_COLUMNS " FROM yunshui_materials WHERE id IN (SELECT id FROM"
                    " yunshui_materials%s ORDER BY %s %s, id %s LIMIT $%zu OFFSET $%zu)"
                    " ORDER BY %s %s, id %s",
                    where.p, order_by, dir, dir, nargs + 1, nargs + 2, column, dir, dir);
        args[nargs++] = bt_i64(limit);
        args[nargs++] = bt_i64(offset);
        rc = bt_db_query(db, rq->arena, &rows, sql.p, args, nargs, err);
        if (rc != BT_OK) {
            json_decref(list);
            return rc;
        }
        for (size_t r = 0; r < rows->nrows; r++)
            json_array_append_new(list, mat_json(rows, r));
    }
    data = json_object();
    json_object_set_new(data, "materials", list);
    json_object_set_new(data, "pagination", yunshui_pagination(page, limit, total));
    return yunshui_ok(rs, 200, data, NULL);
}

/* ---- get ---- */

static const char mat_get_sql[] = "SELECT " MAT_COLUMNS " FROM yunshui_materials WHERE id = $1";

bool yunshui_read_ahead(struct bt_req *rq, struct bt_db_read *out)
{
    struct bt_val *arg;
    char id[37];

    if (!rq->route || rq->route->handler != yunshui_material_get || !mat_path_id(rq, id))
        return false;
    arg = bt_arena_alloc(rq->arena, sizeof(*arg));
    *arg = bt_text(bt_arena_strdup(rq->arena, id));
    *out = (struct bt_db_read){.sql = mat_get_sql, .args = arg, .nargs = 1};
    return true;
}

int yunshui_material_get(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const struct yunshui_principal *me = yunshui_me(rq);
    struct bt_rows *rows;
    struct bt_db *db;
    char id[37];
    int rc;

    if (!mat_path_id(rq, id))
        return mat_not_found(rq, err);
    /* read with the bearer check (yunshui_read_ahead) */
    if (me && me->ahead)
        return mat_reply(rq, rs, 200, me->ahead, err);
    if (!(db = mat_db(rq, err, &rc)))
        return rc;
    rc = bt_db_query(db, rq->arena, &rows, mat_get_sql, BT_ARGS(bt_text(id)), err);
    if (rc != BT_OK)
        return rc;
    return mat_reply(rq, rs, 200, rows, err);
}

/* ---- create ---- */

static int mat_duplicate(struct bt_req *rq, struct bt_db *db, struct bt_err *err)
{
    bt_db_rollback(db);
    bt_err_clear(err);
    return yunshui_fail(rq, err, BT_ECONFLICT, "DUPLICATE_RESOURCE", MAT_DUPLICATE, NULL);
}

int yunshui_material_create(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const char *name = bt_req_str(rq, "name"), *spec = bt_req_str(rq, "specification");
    const char *desc = bt_req_str(rq, "description"), *now;
    struct bt_rows *rows;
    struct bt_db *db;
    int64_t price;
    int rc;

    if ((rc = mat_check_body(rq, &price, err)) != BT_OK)
        return rc;
    if (!(db = mat_db(rq, err, &rc)))
        return rc;
    now = yunshui_now(rq->arena);
    if ((rc = bt_db_begin(db, err)) != BT_OK)
        return rc;
    rc = bt_db_query(
        db, rq->arena, &rows,
        "INSERT INTO yunshui_materials (id, name, category, specification, unit, price, stock,"
        " min_stock, image_url, description, search_text, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)"
        " RETURNING " MAT_COLUMNS,
        BT_ARGS(bt_text(yunshui_uuid(rq->arena)), bt_text(name),
                bt_text(bt_req_str(rq, "category")), bt_text(spec), bt_text(bt_req_str(rq, "unit")),
                bt_i64(price), bt_i64(bt_req_int(rq, "stock", 0)),
                bt_i64(bt_req_int(rq, "minStock", 0)), bt_text(bt_req_str(rq, "imageUrl")),
                bt_text(desc), bt_text(mat_search_text(rq->arena, name, spec, desc)), bt_text(now)),
        err);
    if (rc == BT_ECONFLICT)
        return mat_duplicate(rq, db, err);
    if (rc == BT_OK)
        rc = mat_bump_rev(db, err);
    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc != BT_OK) {
        bt_db_rollback(db);
        return rc;
    }
    return mat_reply(rq, rs, 201, rows, err);
}

/* ---- update ---- */

/* Body fields PUT may change and their columns; only those present are written. */
static const struct {
    const char *field;
    const char *column;
    enum { MAT_U_TEXT, MAT_U_INT, MAT_U_PRICE } kind;
    bool searched; /* part of search_text or the category filter: the cached totals depend on
                    * it */
} mat_updatable[] = {
    {"name", "name", MAT_U_TEXT, true},
    {"category", "category", MAT_U_TEXT, true},
    {"specification", "specification", MAT_U_TEXT, true},
    {"unit", "unit", MAT_U_TEXT, false},
    {"price", "price", MAT_U_PRICE, false},
    {"stock", "stock", MAT_U_INT, false},
    {"minStock", "min_stock", MAT_U_INT, false},
    {"imageUrl", "image_url", MAT_U_TEXT, false},
    {"description", "description", MAT_U_TEXT, true},
};

#define MAT_NUPDATABLE (sizeof(mat_updatable) / sizeof(mat_updatable[0]))

int yunshui_material_update(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_val args[MAT_NUPDATABLE + 2];
    struct bt_rows *rows;
    struct bt_buf sql;
    struct bt_db *db;
    bool searched = false;
    size_t nargs = 0;
    int64_t price;
    char id[37];
    int rc;

    if (!mat_path_id(rq, id))
        return mat_not_found(rq, err);
    if ((rc = mat_check_body(rq, &price, err)) != BT_OK)
        return rc;
    if (!(db = mat_db(rq, err, &rc)))
        return rc;

    /* The statement's shape depends only on which fields are present (a fixed set of
     * column names from the table above); every value is bound. */
    bt_buf_init(&sql, rq->arena, 512);
    args[nargs++] = bt_text(yunshui_now(rq->arena));
    bt_buf_adds(&sql, "UPDATE yunshui_materials SET updated_at = $1");
    for (size_t i = 0; i < MAT_NUPDATABLE; i++) {
        if (!bt_req_has(rq, mat_updatable[i].field))
            continue;
        switch (mat_updatable[i].kind) {
        case MAT_U_TEXT: args[nargs++] = bt_text(bt_req_str(rq, mat_updatable[i].field)); break;
        case MAT_U_INT: args[nargs++] = bt_i64(bt_req_int(rq, mat_updatable[i].field, 0)); break;
        case MAT_U_PRICE: args[nargs++] = bt_i64(price); break;
        }
        bt_buf_addf(&sql, ", %s = $%zu", mat_updatable[i].column, nargs);
        searched = searched || mat_updatable[i].searched;
    }
    args[nargs++] = bt_text(id);
    bt_buf_addf(&sql, " WHERE id = $%zu RETURNING " MAT_COLUMNS, nargs);

    if ((rc = bt_db_begin(db, err)) != BT_OK)
        return rc;
    rc = bt_db_query(db, rq->arena, &rows, sql.p, args, nargs, err);
    if (rc == BT_ECONFLICT)
        return mat_duplicate(rq, db, err);
    if (rc == BT_OK && rows->nrows == 0) {
        bt_db_rollback(db);
        return mat_not_found(rq, err);
    }
    /* search_text from the row as it now is: the first UPDATE holds the row, so a
     * concurrent update cannot slip between the two statements */
    if (rc == BT_OK && searched) {
        rc = bt_db_query(
            db, rq->arena, &rows,
            "UPDATE yunshui_materials SET search_text = $1 WHERE id = $2 RETURNING " MAT_COLUMNS,
            BT_ARGS(bt_text(mat_search_text(rq->arena, bt_rows_text(rows, 0, MAT_C_NAME),
                                            bt_rows_text(rows, 0, MAT_C_SPEC),
                                            bt_rows_text(rows, 0, MAT_C_DESC))),
                    bt_text(id)),
            err);
        if (rc == BT_OK)
            rc = mat_bump_rev(db, err);
    }
    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc != BT_OK) {
        bt_db_rollback(db);
        return rc;
    }
    return mat_reply(rq, rs, 200, rows, err);
}

/* ---- delete ---- */

/* Up to 20 orders that are neither CANCELLED nor COMPLETED and use material id. */
static int mat_open_orders(struct bt_req *rq, struct bt_db *db, const char *id,
                           struct bt_rows **open, struct bt_err *err)
{
    return bt_db_query(db, rq->arena, open,
                       "SELECT DISTINCT o.id FROM yunshui_order_items i"
                       " JOIN yunshui_orders o ON o.id = i.order_id"
                       " WHERE i.material_id = $1 AND o.status NOT IN ('CANCELLED', 'COMPLETED')"
                       " ORDER BY o.id LIMIT 20",
                       BT_ARGS(bt_text(id)), err);
}

static int mat_in_use(struct bt_req *rq, const struct bt_rows *open, struct bt_err *err)
{
    json_t *ids = json_array();

    for (size_t r = 0; r < open->nrows; r++)
        json_array_append_new(ids, mat_cell_text(open, r, 0));
    /* a bento code, like orders.c's state conflicts: the document's only 409 code says
     * "duplicate", which this is not */
    return yunshui_fail(rq, err, BT_ECONFLICT, "RESOURCE_IN_USE", MAT_IN_USE,
                        json_pack("{s:o}", "orderIds", ids));
}

/* The check for open orders answers the common case with their ids; the foreign key
 * (ON DELETE NO ACTION, 0004_order_items_restrict.sql) closes the race the check cannot see:
 * an order written after the check (on PostgreSQL, one not yet committed) makes the DELETE
 * fail instead of losing its material. Items of closed orders keep their material_name and
 * lose the link, as the document allows; that is done here, not by the foreign key. */
int yunshui_material_delete(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_rows *open;
    struct bt_db *db;
    int64_t changed = 0;
    char id[37];
    int rc;

    if (!mat_path_id(rq, id))
        return mat_not_found(rq, err);
    if (!(db = mat_db(rq, err, &rc)))
        return rc;
    if ((rc = bt_db_begin(db, err)) != BT_OK)
        return rc;
    rc = mat_open_orders(rq, db, id, &open, err);
    if (rc == BT_OK && open->nrows > 0) {
        bt_db_rollback(db);
        return mat_in_use(rq, open, err);
    }
    if (rc == BT_OK)
        rc = bt_db_exec(db, NULL,
                        "UPDATE yunshui_order_items SET material_id = NULL WHERE material_id = $1"
                        " AND order_id IN (SELECT id FROM yunshui_orders"
                        " WHERE status IN ('CANCELLED', 'COMPLETED'))",
                        BT_ARGS(bt_text(id)), err);
    if (rc == BT_OK)
        rc = bt_db_exec(db, &changed, "DELETE FROM yunshui_materials WHERE id = $1",
                        BT_ARGS(bt_text(id)), err);
    if (rc == BT_ECONFLICT) {
        /* an open order took the material after the check; the DELETE waited for it to
         * commit, so a fresh look finds it */
        bt_db_rollback(db);
        bt_err_clear(err);
        if ((rc = mat_open_orders(rq, db, id, &open, err)) != BT_OK)
            return rc;
        return mat_in_use(rq, open, err);
    }
    if (rc == BT_OK && changed == 0) {
        bt_db_rollback(db);
        return mat_not_found(rq, err);
    }
    if (rc == BT_OK)
        rc = mat_bump_rev(db, err);
    if (rc == BT_OK)
        rc = bt_db_commit(db, err);
    if (rc != BT_OK) {
        bt_db_rollback(db);
        return rc;
    }
    return yunshui_ok(rs, 200, NULL, "基材已成功刪除");
}
