/* SPDX-License-Identifier: MIT
 * upload.c - yunshui's image upload (POST /v1/upload/image, multipart field `image`, optional
 * `folder`) and the serving of the stored files (GET /v1/uploads/:folder/:file).
 * Owns: the upload rules of the document and note (JPEG/PNG/GIF/WebP recognised by their
 *       bytes, 5 MB per file, folder names), the public URL and publicId it answers, and the
 *       names it accepts back on GET (only the ones it generates).
 * Must not: trust the part's filename or declared Content-Type, build a path from client
 *           text other than a validated folder name, or serve a file it did not name.
 */
#include <stdbool.h>
#include <string.h>

#include "yunshui.h"

#define UPLOAD_MAX_BYTES (5u << 20) /* the document: 單檔最大 5MB */
#define FOLDER_MAX 50
#define DEFAULT_FOLDER "materials"
#define ID_HEX 32 /* bt_files_save names files with 128 random bits in lower-case hex */

/* letters, digits, '-' and '_', 1..50: a single directory name that cannot be "." or ".." */
static bool folder_ok(const char *s, size_t n)
{
    if (n == 0 || n > FOLDER_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* The extensions we write (bt_image_info.ext); anything else was not stored by us. */
static const char *mime_for_ours(const char *ext)
{
    static const char *const exts[] = {"jpg", "png", "gif", "webp"};

    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
        if (!strcmp(ext, exts[i]))
            return bt_files_mime_for_ext(ext);
    return NULL;
}

/* "<32 lower-case hex>.<ext we write>" -> the Content-Type to serve, or NULL */
static const char *generated_name(const char *file)
{
    size_t n = strspn(file, "0123456789abcdef");

    if (n != ID_HEX || file[n] != '.')
        return NULL;
    return mime_for_ours(file + n + 1);
}

static int not_found(struct bt_req *rq, struct bt_err *err)
{
    return yunshui_fail(rq, err, BT_ENOTFOUND, "RESOURCE_NOT_FOUND", "圖片不存在", NULL);
}

static int invalid(struct bt_req *rq, struct bt_err *err, const char *message, json_t *details)
{
    return yunshui_fail(rq, err, BT_EINVAL, "VALIDATION_ERROR", message, details);
}

/* where the service is reached (yunshui.public_url, else this listener's real address),
 * then the app's mount ("/v1") */
static const char *url_base(struct bt_req *rq)
{
    const char *mount = rq->ctx->app->mount ? rq->ctx->app->mount : "";

    return bt_arena_printf(rq->arena, "%s%s", bt_req_base_url(rq), mount);
}

int yunshui_upload_image(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    struct bt_multipart_part *parts = NULL;
    const struct bt_multipart_part *image, *fpart;
    struct bt_image_info info;
    struct bt_err perr;
    const char *folder = DEFAULT_FOLDER, *subdir, *id, *slash, *url;
    char *relpath = NULL;
    json_t *details;
    size_t nparts = 0;
    int rc;

    bt_err_clear(&perr);
    rc = bt_multipart_parse(rq->arena, bt_req_header(rq, "content-type"), rq->body ? rq->body : "",
                            rq->body ? rq->body_len : 0, &parts, &nparts, &perr);
    if (rc == BT_EMEDIATYPE)
        return yunshui_fail(rq, err, BT_EMEDIATYPE, "VALIDATION_ERROR",
                            "請求格式錯誤：必須為 multipart/form-data",
                            json_pack("{s:s}", "body", perr.msg));
    if (rc != BT_OK) /* a form we cannot read is a malformed request (400), not a bad field */
        return yunshui_fail(rq, err, BT_EMALFORMED, "VALIDATION_ERROR", "請求格式錯誤",
                            json_pack("{s:s}", "body", perr.msg));

    details = json_object();
    image = bt_multipart_find(parts, nparts, "image");
    if (!image)
        json_object_set_new(details, "image", json_string("is required"));
    fpart = bt_multipart_find(parts, nparts, "folder");
    if (fpart) {
        if (folder_ok(fpart->data, fpart->len))
            folder = bt_arena_strndup(rq->arena, fpart->data, fpart->len);
        else
            json_object_set_new(details, "folder",
                                json_string("must be 1 to 50 letters, digits, '-' or '_'"));
    }
    if (json_object_size(details) > 0)
        return invalid(rq, err, "資料驗證錯誤", details);
    json_decref(details);

    /* the per-file rule; the 10 MB request cap is the core's */
    if (image->len > UPLOAD_MAX_BYTES)
        return yunshui_fail(rq, err, BT_ETOOLARGE, "PAYLOAD_TOO_LARGE", "圖片大小超過 5MB 上限",
                            json_pack("{s:s,s:I}", "image", "must be at most 5 MB", "maxBytes",
                                      (json_int_t)UPLOAD_MAX_BYTES));
    if (bt_image_sniff(image->data, image->len, &info) != BT_OK)
        return invalid(rq, err, "不支援的圖片格式",
                       json_pack("{s:s}", "image",
                                 info.reason ? info.reason : "not a JPEG, PNG, GIF or WebP image"));

    subdir = bt_arena_printf(rq->arena, "uploads/%s", folder);
    rc = bt_files_save(yunshui_state(rq)->data_dir, subdir, info.ext, image->data, image->len,
                       rq->arena, &relpath, err);
    if (rc != BT_OK)
        return rc == BT_EINVAL ? bt_fail(err, BT_EINTERNAL, NULL, "upload: %s", err->msg) : rc;

    /* relpath is "uploads/<folder>/<id>.<ext>": the id is the last component minus ext */
    slash = strrchr(relpath, '/');
    id = bt_arena_strndup(rq->arena, slash + 1, strlen(slash + 1) - strlen(info.ext) - 1);
    url = bt_arena_printf(rq->arena, "%s/uploads/%s/%s.%s", url_base(rq), folder, id, info.ext);
    return yunshui_ok(rs, 200,
                      json_pack("{s:s,s:s,s:I,s:I,s:s,s:I}", "url", url, "publicId",
                                bt_arena_printf(rq->arena, "%s/%s", folder, id), "width",
                                (json_int_t)info.width, "height", (json_int_t)info.height, "format",
                                info.ext, "bytes", (json_int_t)image->len),
                      NULL);
}

int yunshui_upload_get(struct bt_req *rq, struct bt_res *rs, struct bt_err *err)
{
    const char *folder = bt_req_param(rq, "folder");
    const char *file = bt_req_param(rq, "file");
    const char *mime;
    uint64_t size = 0;
    int fd = -1, rc;

    /* only names we generate: anything else (dot segments, hidden or absolute names,
     * other extensions) cannot be one of our files */
    if (!folder || !file || !folder_ok(folder, strlen(folder)))
        return not_found(rq, err);
    mime = generated_name(file);
    if (!mime)
        return not_found(rq, err);
    rc = bt_files_open(yunshui_state(rq)->data_dir,
                       bt_arena_printf(rq->arena, "uploads/%s/%s", folder, file), &fd, &size, err);
    if (rc == BT_ENOTFOUND || rc == BT_EINVAL)
        return not_found(rq, err);
    if (rc != BT_OK)
        return rc;
    /* a stored name never changes content, so caches may keep it forever */
    bt_res_header(rs, "Cache-Control", "public, max-age=31536000, immutable");
    bt_res_header(rs, "X-Content-Type-Options", "nosniff");
    return bt_res_file(rs, 200, mime, fd, size);
}
