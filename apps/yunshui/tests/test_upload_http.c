/* SPDX-License-Identifier: MIT
 * test_upload_http.c - handler tier of yunshui's 圖片上傳 API (document 002 "POST
 * /upload/image", note "Image upload"): JPEG, PNG, GIF and WebP recognised by their bytes
 * with their real size, the document's {url, publicId, width, height, format, bytes}, the
 * stored file served back byte for byte, 5 MB per file (413), everything else 422, a body
 * that is not multipart 400, ADMIN only, and GET refusing every name we did not generate.
 * Each test gets a fresh database and its own data directory.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "yunshui_test.h"
#include "ys_upload_images.h"

#define PUBLIC_URL "http://img.example.test:8080"
/* a file of our name form outside uploads/, for the traversal attempts */
#define SECRET "abcdefabcdefabcdefabcdefabcdef00.png"

struct fixture {
    struct bt_test_app *t;
    char dir[64];
    char *admin;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    /* a trailing slash on the setting must not double in the URLs */
    const char *const settings[] = {"public_url=" PUBLIC_URL "/", NULL};

    assert_non_null(f);
    strcpy(f->dir, "/tmp/ys-upload-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    setenv("BENTO_DATA_DIR", f->dir, 1);
    f->t = ys_app_with(settings);
    f->admin = ys_admin(f->t);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    free(f->admin);
    bt_test_app_free(f->t);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    unsetenv("BENTO_DATA_DIR");
    free(f);
    return 0;
}

/* POST /v1/upload/image with a multipart body (extra headers after the token). */
static void upload(struct fixture *f, const char *token, const char *ctype_header,
                   const struct ys_bytes *body, struct bt_test_resp *r)
{
    char auth[2048];
    const char *headers[3] = {NULL, NULL, NULL};
    size_t n = 0;

    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        headers[n++] = auth;
    }
    if (ctype_header)
        headers[n++] = ctype_header;
    bt_test_request_raw(f->t, "POST", "/v1/upload/image", headers, body->p, body->n, r);
}

static void upload_form(struct fixture *f, const struct ys_bytes *img, const char *filename,
                        const char *ctype, const char *folder, struct bt_test_resp *r)
{
    struct ys_bytes body = {0};

    ys_form(&body, img, filename, ctype, folder);
    upload(f, f->admin, YS_MULTIPART_CT, &body, r);
    ys_bytes_free(&body);
}

static void assert_error(const struct bt_test_resp *r, int status, const char *code,
                         const char *message)
{
    if (r->status != status)
        fail_msg("expected %d, got %d: %s", status, r->status, r->body);
    assert_non_null(r->json);
    assert_true(json_is_false(json_object_get(r->json, "success")));
    assert_string_equal(ys_code(r), code);
    if (message)
        assert_string_equal(bt_json_str(r->json, "/error/message"), message);
    assert_true(json_is_object(bt_json_at(r->json, "/error/details")));
}

/* Files (not directories) under dir, recursively. */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[512];
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0)
            continue;
        n += S_ISDIR(st.st_mode) ? count_files(path) : 1;
    }
    closedir(d);
    return n;
}

static int count_uploads(const struct fixture *f)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/uploads", f->dir);
    return count_files(path);
}

static void write_file(const struct fixture *f, const char *rel, const char *text)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static bool is_hex32(const char *s)
{
    return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

/* Check a 200 answer against the image sent, then download it and compare the bytes.
 * Returns the URL's path (malloc'd) for further requests. */
static char *assert_stored(struct fixture *f, const struct bt_test_resp *r,
                           const struct ys_bytes *img, const char *folder, const char *format,
                           const char *mime, long long w, long long h)
{
    struct bt_test_resp g = {0};
    const char *url, *pid, *id;
    char want[512], *path, disk[512];
    struct stat st;

    if (r->status != 200)
        fail_msg("upload %s: %d %s", format, r->status, r->body);
    assert_true(json_is_true(json_object_get(r->json, "success")));
    assert_int_equal(bt_json_int(r->json, "/data/width", -1), w);
    assert_int_equal(bt_json_int(r->json, "/data/height", -1), h);
    assert_int_equal(bt_json_int(r->json, "/data/bytes", -1), (long long)img->n);
    assert_string_equal(bt_json_str(r->json, "/data/format"), format);
    assert_int_equal(json_object_size(bt_json_at(r->json, "/data")), 6);

    pid = bt_json_str(r->json, "/data/publicId");
    assert_non_null(pid);
    assert_int_equal(strncmp(pid, folder, strlen(folder)), 0);
    assert_int_equal(pid[strlen(folder)], '/');
    id = pid + strlen(folder) + 1;
    assert_true(is_hex32(id));

    url = bt_json_str(r->json, "/data/url");
    assert_non_null(url);
    snprintf(want, sizeof(want), PUBLIC_URL "/v1/uploads/%s/%s.%s", folder, id, format);
    assert_string_equal(url, want);

    /* on disk under <data_dir>/uploads/<folder>/ with the same bytes */
    snprintf(disk, sizeof(disk), "%s/uploads/%s/%s.%s", f->dir, folder, id, format);
    assert_int_equal(stat(disk, &st), 0);
    assert_int_equal((long long)st.st_size, (long long)img->n);

    /* served back, public, byte for byte */
    path = strdup(url + strlen(PUBLIC_URL));
    bt_test_request(f->t, "GET", path, NULL, NULL, &g);
    if (g.status != 200)
        fail_msg("GET %s: %d %s", path, g.status, g.body);
    assert_int_equal(g.len, img->n);
    assert_memory_equal(g.body, img->p, img->n);
    assert_header(&g, "content-type", mime);
    assert_header(&g, "cache-control", "public, max-age=31536000, immutable");
    assert_header(&g, "x-content-type-options", "nosniff");
    bt_test_resp_release(&g);
    return path;
}

/* ---- accepted formats ---- */

static void test_upload_each_format(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0};

    ys_build_png(&img, 3, 2, 0);
    upload_form(f, &img, "photo.png", "image/png", NULL, &r);
    free(assert_stored(f, &r, &img, "materials", "png", "image/png", 3, 2));

    ys_build_png(&img, 21, 8, 0);
    upload_form(f, &img, "big.png", "image/png", NULL, &r);
    free(assert_stored(f, &r, &img, "materials", "png", "image/png", 21, 8));

    ys_build_jpeg(&img, 800, 600);
    upload_form(f, &img, "steel_plate.jpg", "image/jpeg", NULL, &r);
    free(assert_stored(f, &r, &img, "materials", "jpg", "image/jpeg", 800, 600));

    ys_build_jpeg(&img, 1, 65535);
    upload_form(f, &img, "tall.jpeg", "image/jpeg", NULL, &r);
    free(assert_stored(f, &r, &img, "materials", "jpg", "image/jpeg", 1, 65535));

    ys_build_gif(&img, 5, 7);
    upload_form(f, &img, "anim.gif", "image/gif", NULL, &r);
    free(assert_stored(f, &r, &img, "materials", "gif", "image/gif", 5, 7));

    ys_build_webp_vp8l(&img, 3, 2);
    upload_form(f, &img, "lossless.webp", "image/webp", NULL, &r);
    free(assert_stored(f, &r, &img, "materials", "webp", "image/webp", 3, 2));

    ys_build_webp_vp8(&img, 800, 600);
    upload_form(f, &img, "lossy.webp", "image/webp", NULL, &r);
    free(assert_stored(f, &r, &img, "materials", "webp", "image/webp", 800, 600));

    assert_int_equal(count_uploads(f), 7);
    ys_bytes_free(&img);
    bt_test_resp_release(&r);
}

/* The name and the declared type are ignored: the bytes decide. */
static void test_upload_bytes_decide(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0}, body = {0};

    ys_build_png(&img, 4, 4, 0);
    upload_form(f, &img, "picture.jpg", "image/jpeg", NULL, &r);
    free(assert_stored(f, &r, &img, "materials", "png", "image/png", 4, 4));

    ys_build_gif(&img, 9, 3);
    upload_form(f, &img, "../../etc/passwd", "text/html", NULL, &r);
    free(assert_stored(f, &r, &img, "materials", "gif", "image/gif", 9, 3));

    /* no filename, no Content-Type: still a file by its bytes */
    ys_build_jpeg(&img, 640, 480);
    upload_form(f, &img, NULL, NULL, NULL, &r);
    free(assert_stored(f, &r, &img, "materials", "jpg", "image/jpeg", 640, 480));

    /* other fields are ignored; a second `image` part does not replace the first */
    ys_build_webp_vp8l(&img, 2, 2);
    ys_part(&body, "note", NULL, NULL, "hello", 5);
    ys_part(&body, "image", "a.webp", "image/webp", img.p, img.n);
    ys_part(&body, "image", "b.txt", "text/plain", "not an image", 12);
    ys_form_end(&body);
    upload(f, f->admin, YS_MULTIPART_CT, &body, &r);
    free(assert_stored(f, &r, &img, "materials", "webp", "image/webp", 2, 2));

    ys_bytes_free(&body);
    ys_bytes_free(&img);
    bt_test_resp_release(&r);
}

/* Every file of the core's image corpus: accepted exactly when the sniffer accepts it, with
 * its dimensions; refused ones are 422 and leave nothing behind. */
struct corpus_run {
    struct fixture *f;
    int accepted, refused;
};

static void corpus_one(const char *name, const char *p, size_t n, void *ud)
{
    struct corpus_run *run = ud;
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0};
    struct bt_image_info info;
    int before = count_uploads(run->f);

    ys_put(&img, p, n);
    upload_form(run->f, &img, name, "image/png", NULL, &r);
    if (bt_image_sniff(p, n, &info) == BT_OK) {
        free(assert_stored(run->f, &r, &img, "materials", info.ext, info.mime, info.width,
                           info.height));
        assert_int_equal(count_uploads(run->f), before + 1);
        run->accepted++;
    } else {
        assert_error(&r, 422, "VALIDATION_ERROR", "不支援的圖片格式");
        assert_non_null(bt_json_str(r.json, "/error/details/image"));
        assert_int_equal(count_uploads(run->f), before);
        run->refused++;
    }
    ys_bytes_free(&img);
    bt_test_resp_release(&r);
}

static void test_upload_corpus(void **state)
{
    struct corpus_run run = {*state, 0, 0};

    assert_true(bt_test_corpus_each("image", corpus_one, &run) > 0);
    assert_true(run.accepted >= 4); /* one of each format at least */
    assert_true(run.refused >= 10);
}

/* ---- refused content ---- */

static void test_upload_not_an_image(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0};

    /* a text file renamed image.png */
    ys_puts(&img, "this is a plain text file pretending to be a picture\n");
    upload_form(f, &img, "image.png", "image/png", NULL, &r);
    assert_error(&r, 422, "VALIDATION_ERROR", "不支援的圖片格式");
    assert_non_null(bt_json_str(r.json, "/error/details/image"));

    /* truncated images: every format cut short */
    ys_build_png(&img, 3, 2, 0);
    img.n -= 1;
    upload_form(f, &img, "cut.png", "image/png", NULL, &r);
    assert_error(&r, 422, "VALIDATION_ERROR", "不支援的圖片格式");
    ys_build_png(&img, 3, 2, 0);
    img.n /= 2;
    upload_form(f, &img, "half.png", "image/png", NULL, &r);
    assert_error(&r, 422, "VALIDATION_ERROR", "不支援的圖片格式");
    ys_build_jpeg(&img, 800, 600);
    img.n -= 2; /* no EOI */
    upload_form(f, &img, "cut.jpg", "image/jpeg", NULL, &r);
    assert_error(&r, 422, "VALIDATION_ERROR", "不支援的圖片格式");
    ys_build_gif(&img, 5, 7);
    img.n -= 1; /* no trailer */
    upload_form(f, &img, "cut.gif", "image/gif", NULL, &r);
    assert_error(&r, 422, "VALIDATION_ERROR", "不支援的圖片格式");
    ys_build_webp_vp8l(&img, 3, 2);
    img.n -= 1; /* RIFF size no longer matches */
    upload_form(f, &img, "cut.webp", "image/webp", NULL, &r);
    assert_error(&r, 422, "VALIDATION_ERROR", "不支援的圖片格式");

    /* other formats: BMP, PDF, SVG, an empty file */
    img.n = 0;
    ys_put(&img, "BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00", 16);
    upload_form(f, &img, "x.bmp", "image/bmp", NULL, &r);
    assert_error(&r, 422, "VALIDATION_ERROR", "不支援的圖片格式");
    img.n = 0;
    ys_puts(&img, "%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n");
    upload_form(f, &img, "x.jpg", "image/jpeg", NULL, &r);
    assert_error(&r, 422, "VALIDATION_ERROR", "不支援的圖片格式");
    img.n = 0;
    ys_puts(&img, "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>");
    upload_form(f, &img, "x.svg", "image/svg+xml", NULL, &r);
    assert_error(&r, 422, "VALIDATION_ERROR", "不支援的圖片格式");
    img.n = 0;
    upload_form(f, &img, "empty.png", "image/png", NULL, &r);
    assert_error(&r, 422, "VALIDATION_ERROR", "不支援的圖片格式");

    assert_int_equal(count_uploads(f), 0);
    ys_bytes_free(&img);
    bt_test_resp_release(&r);
}

/* 5 MB (5 x 2^20 bytes) per file: exactly that is fine, one byte more is 413. */
static void test_upload_size_limit(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0};
    const size_t cap = 5u << 20;

    ys_build_png(&img, 3, 2, cap - ys_png_size(3, 2) - 12);
    assert_int_equal(img.n, cap);
    upload_form(f, &img, "exact.png", "image/png", NULL, &r);
    free(assert_stored(f, &r, &img, "materials", "png", "image/png", 3, 2));

    /* a genuine PNG one byte over the limit: refused for its size, not its content */
    ys_build_png(&img, 3, 2, cap - ys_png_size(3, 2) - 12 + 1);
    assert_int_equal(img.n, cap + 1);
    upload_form(f, &img, "over.png", "image/png", NULL, &r);
    assert_error(&r, 413, "PAYLOAD_TOO_LARGE", "圖片大小超過 5MB 上限");
    assert_non_null(bt_json_str(r.json, "/error/details/image"));

    /* 6 MB of anything: still 413, the size is checked first */
    img.n = 0;
    for (size_t i = 0; i < (6u << 20) / 64; i++)
        ys_puts(&img, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    upload_form(f, &img, "huge.jpg", "image/jpeg", NULL, &r);
    assert_error(&r, 413, "PAYLOAD_TOO_LARGE", "圖片大小超過 5MB 上限");

    assert_int_equal(count_uploads(f), 1);
    ys_bytes_free(&img);
    bt_test_resp_release(&r);
}

/* ---- the form ---- */

static void test_upload_fields(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0}, body = {0};
    char fifty[51], path[256];
    char *got;

    ys_build_png(&img, 2, 3, 0);

    /* folder */
    upload_form(f, &img, "a.png", "image/png", "avatars_2024-v2", &r);
    free(assert_stored(f, &r, &img, "avatars_2024-v2", "png", "image/png", 2, 3));
    memset(fifty, 'F', 50);
    fifty[50] = '\0';
    upload_form(f, &img, "a.png", "image/png", fifty, &r);
    got = assert_stored(f, &r, &img, fifty, "png", "image/png", 2, 3);
    free(got);
    snprintf(path, sizeof(path), "%s/uploads/%s", f->dir, fifty);
    assert_int_equal(count_files(path), 1);

    {
        char fifty_one[52];
        const char *const bad[] = {
            "",           "../etc", "..",   ".",   "a/b",       "a b",     "/abs",
            "中文資料夾", "a.b",    "a\\b", "%2e", "tab\there", fifty_one,
        };
        memset(fifty_one, 'F', 51);
        fifty_one[51] = '\0';
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            upload_form(f, &img, "a.png", "image/png", bad[i], &r);
            assert_error(&r, 422, "VALIDATION_ERROR", NULL);
            assert_non_null(bt_json_str(r.json, "/error/details/folder"));
            assert_null(bt_json_at(r.json, "/error/details/image"));
        }
    }

    /* no image part */
    ys_part(&body, "folder", NULL, NULL, "materials", 9);
    ys_part(&body, "file", "a.png", "image/png", img.p, img.n); /* the wrong field name */
    ys_form_end(&body);
    upload(f, f->admin, YS_MULTIPART_CT, &body, &r);
    assert_error(&r, 422, "VALIDATION_ERROR", NULL);
    assert_non_null(bt_json_str(r.json, "/error/details/image"));

    /* an empty form */
    body.n = 0;
    ys_form_end(&body);
    upload(f, f->admin, YS_MULTIPART_CT, &body, &r);
    assert_error(&r, 422, "VALIDATION_ERROR", NULL);
    assert_non_null(bt_json_str(r.json, "/error/details/image"));

    /* both wrong: both named */
    body.n = 0;
    ys_part(&body, "folder", NULL, NULL, "../x", 4);
    ys_form_end(&body);
    upload(f, f->admin, YS_MULTIPART_CT, &body, &r);
    assert_error(&r, 422, "VALIDATION_ERROR", NULL);
    assert_non_null(bt_json_str(r.json, "/error/details/image"));
    assert_non_null(bt_json_str(r.json, "/error/details/folder"));

    assert_int_equal(count_uploads(f), 2);
    ys_bytes_free(&body);
    ys_bytes_free(&img);
    bt_test_resp_release(&r);
}

/* A body that is not a multipart form is a bad request (400), whatever else it holds. */
static void test_upload_not_multipart(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0}, body = {0};

    ys_build_png(&img, 3, 2, 0);
    /* the image sent raw */
    upload(f, f->admin, "Content-Type: image/png", &img, &r);
    assert_error(&r, 400, "VALIDATION_ERROR", NULL);
    /* JSON */
    ys_puts(&body, "{\"image\":\"data:image/png;base64,AAAA\"}");
    upload(f, f->admin, "Content-Type: application/json", &body, &r);
    assert_error(&r, 400, "VALIDATION_ERROR", NULL);
    /* url-encoded form */
    upload(f, f->admin, "Content-Type: application/x-www-form-urlencoded", &body, &r);
    assert_error(&r, 400, "VALIDATION_ERROR", NULL);
    /* no Content-Type at all */
    bt_test_request_raw(f->t, "POST", "/v1/upload/image", ys_auth(f->admin), NULL, 0, &r);
    assert_error(&r, 400, "VALIDATION_ERROR", NULL);

    /* multipart that cannot be read: no boundary, another boundary, no closing delimiter,
     * no body */
    ys_form(&body, &img, "a.png", "image/png", NULL);
    upload(f, f->admin, "Content-Type: multipart/form-data", &body, &r);
    assert_error(&r, 400, "VALIDATION_ERROR", NULL);
    upload(f, f->admin, "Content-Type: multipart/form-data; boundary=somethingElse", &body, &r);
    assert_error(&r, 400, "VALIDATION_ERROR", NULL);
    body.n -= strlen("--" YS_BOUNDARY "--\r\n");
    upload(f, f->admin, YS_MULTIPART_CT, &body, &r);
    assert_error(&r, 400, "VALIDATION_ERROR", NULL);
    body.n = 0;
    upload(f, f->admin, YS_MULTIPART_CT, &body, &r);
    assert_error(&r, 400, "VALIDATION_ERROR", NULL);

    assert_int_equal(count_uploads(f), 0);
    ys_bytes_free(&body);
    ys_bytes_free(&img);
    bt_test_resp_release(&r);
}

/* ---- access ---- */

static void test_upload_access(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0}, body = {0};
    char *user = ys_make_user(f->t, f->admin, "uploader", "USER");
    char *path;

    ys_build_png(&img, 3, 2, 0);
    ys_form(&body, &img, "a.png", "image/png", NULL);

    upload(f, NULL, YS_MULTIPART_CT, &body, &r);
    assert_error(&r, 401, "INVALID_CREDENTIALS", NULL);
    upload(f, "not-a-token", YS_MULTIPART_CT, &body, &r);
    assert_int_equal(r.status, 401);
    upload(f, user, YS_MULTIPART_CT, &body, &r);
    assert_error(&r, 403, "INSUFFICIENT_PERMISSIONS", NULL);
    assert_int_equal(count_uploads(f), 0);

    /* a second ADMIN may upload; the stored image is public (an <img> has no token) */
    {
        char *admin2 = ys_make_user(f->t, f->admin, "boss2", "ADMIN");
        upload(f, admin2, YS_MULTIPART_CT, &body, &r);
        path = assert_stored(f, &r, &img, "materials", "png", "image/png", 3, 2);
        free(admin2);
    }
    bt_test_request(f->t, "GET", path, ys_auth(user), NULL, &r);
    assert_int_equal(r.status, 200);

    free(path);
    free(user);
    ys_bytes_free(&body);
    ys_bytes_free(&img);
    bt_test_resp_release(&r);
}

/* ---- serving: only names we generated ---- */

static void test_get_refuses_other_names(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0};
    char *path, *id, buf[512], upper[40];
    const char *file;

    ys_build_png(&img, 3, 2, 0);
    upload_form(f, &img, "a.png", "image/png", NULL, &r);
    path = assert_stored(f, &r, &img, "materials", "png", "image/png", 3, 2);
    file = strrchr(path, '/') + 1;
    id = strndup(file, 32);

    /* files we did not write, placed where traversal would find them: one with a name of
     * our form at the top of the data directory, one of another type beside our images */
    write_file(f, SECRET, "secret");
    write_file(f, "uploads/materials/notes.txt", "internal");
    /* symbolic links with names of our form, pointing out of uploads/ */
    snprintf(buf, sizeof(buf), "%s/" SECRET, f->dir);
    {
        char link[512];
        snprintf(link, sizeof(link), "%s/uploads/materials/0123456789abcdef0123456789abcdef.png",
                 f->dir);
        assert_int_equal(symlink(buf, link), 0);
        snprintf(link, sizeof(link), "%s/uploads/evil", f->dir);
        assert_int_equal(symlink(f->dir, link), 0);
    }
    /* a directory with a name of our form */
    snprintf(buf, sizeof(buf), "%s/uploads/materials/fedcba9876543210fedcba9876543210.gif", f->dir);
    assert_int_equal(mkdir(buf, 0750), 0);

    for (size_t i = 0; i < 32; i++)
        upper[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 'a' + 'A' : id[i]);
    upper[32] = '\0';

    {
        const char *cases[] = {
            "/v1/uploads/materials/%2e%2e",
            "/v1/uploads/%2e%2e/" SECRET,
            "/v1/uploads/%2e%2e/%2e%2e/" SECRET,
            "/v1/uploads/materials/%2e%2e%2f%2e%2e%2f" SECRET,
            "/v1/uploads/materials/..%2F..%2F" SECRET,
            "/v1/uploads/%2e%2e%2f%2e%2e/" SECRET,
            "/v1/uploads/materials/%2F" SECRET,
            "/v1/uploads/materials/%2fetc%2fpasswd",
            "/v1/uploads/materials//etc/passwd",
            "/v1/uploads/%2Fetc/passwd",
            "/v1/uploads/materials/..",
            "/v1/uploads/../" SECRET,
            "/v1/uploads/../../" SECRET,
            "/v1/uploads/materials/notes.txt",
            "/v1/uploads/materials/.tmp-0123456789abcdef0123456789abcdef",
            "/v1/uploads/materials/0123456789abcdef0123456789abcdef.png", /* symlink */
            "/v1/uploads/materials/fedcba9876543210fedcba9876543210.gif", /* directory */
            "/v1/uploads/evil/" SECRET,                                   /* a symlinked folder */
            "/v1/uploads/materials/ffffffffffffffffffffffffffffffff.png", /* never stored */
            "/v1/uploads/other/x.png",
            "/v1/uploads/materials/" SECRET,
            "/v1/uploads/materials/%00.png",
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            bt_test_request(f->t, "GET", cases[i], NULL, NULL, &r);
            if (r.status != 404)
                fail_msg("GET %s: %d %s", cases[i], r.status, r.body);
            assert_error(&r, 404, "RESOURCE_NOT_FOUND", NULL);
        }
    }

    /* variations of the real name: only the exact one is served */
    {
        char variants[6][160];
        snprintf(variants[0], sizeof(variants[0]), "/v1/uploads/materials/%s.PNG", id);
        snprintf(variants[1], sizeof(variants[1]), "/v1/uploads/materials/%s.png", upper);
        snprintf(variants[2], sizeof(variants[2]), "/v1/uploads/materials/%s.jpg", id);
        snprintf(variants[3], sizeof(variants[3]), "/v1/uploads/materials/%s", id);
        snprintf(variants[4], sizeof(variants[4]), "/v1/uploads/Materials/%s.png", id);
        snprintf(variants[5], sizeof(variants[5]), "/v1/uploads/materials/%s.png.", id);
        for (size_t i = 0; i < 6; i++) {
            bt_test_request(f->t, "GET", variants[i], NULL, NULL, &r);
            if (r.status != 404)
                fail_msg("GET %s: %d %s", variants[i], r.status, r.body);
            assert_error(&r, 404, "RESOURCE_NOT_FOUND", NULL);
        }
    }
    bt_test_request(f->t, "GET", path, NULL, NULL, &r);
    assert_int_equal(r.status, 200);

    free(id);
    free(path);
    ys_bytes_free(&img);
    bt_test_resp_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upload_each_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_bytes_decide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_corpus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_not_an_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_not_multipart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_refuses_other_names, setup, teardown),
    };

    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
