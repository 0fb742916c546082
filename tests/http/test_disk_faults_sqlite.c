/* SPDX-License-Identifier: MIT
 * test_disk_faults_sqlite.c - issue 7, section 3 "Database outage", SQLite, black-box: the
 * real binary on a data directory that fills up (a small tmpfs) and on a database file it may
 * not write. Writes get the service's 503 envelope (docs/OPERATIONS.md, "Database faults"),
 * reads go on, nothing is half-written, and writes work again once the operator has fixed
 * the disk, without a restart.
 * Needs root, as CI runs it: mounting a tmpfs needs CAP_SYS_ADMIN; without it the test exits
 * 77 (skipped). bento runs here without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, as a
 * service account would, so a file's permission bits bind it although the test is root.
 * SQLite only: registered once, as test_disk_faults_sqlite (docs/TESTING.md, "Tiers").
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bt_test.h"

/* yunshui's test images and multipart forms (a genuine PNG for the upload) */
#include "../../apps/yunshui/tests/ys_upload_images.h"

#define TMPFS_SIZE "size=16m"
#define MATERIALS 5

struct fx {
    char dir[64]; /* the data directory, and the database in it */
    bool mounted;
    struct bt_test_proc *p;
    char auth[1100]; /* "Authorization: Bearer <ADMIN token>" */
    char material[MATERIALS][48];
};

static const char ys_503[] = "{\"success\":false,\"error\":{\"code\":\"SERVICE_UNAVAILABLE\","
                             "\"message\":\"服務暫時無法使用，請稍後再試\",\"details\":{}}}";
static const char vc_503[] = "{\"detail\":\"處理請求失敗: 服務暫時無法使用\"}";
static const char login_body[] = "{\"username\":\"admin\",\"password\":\"password123\"}";

/* bento on fx->dir: its data directory and database file. The harness passes its own fresh
 * --data-dir and --db first; these come later and win (the last option of a kind counts). */
static void start(struct fx *f)
{
    static const char *const env[] = {"BENTO_YUNSHUI_RATE_LIMIT=0", NULL};
    char db[128];
    const char *args[5] = {"--data-dir", f->dir, "--db", db, NULL};

    snprintf(db, sizeof(db), "sqlite:%s/bento.db", f->dir);
    f->p = bt_test_proc_start("vendorchat,yunshui", args, env);
}

static void stop(struct fx *f)
{
    assert_int_equal(bt_test_proc_stop(f->p), 0);
    f->p = NULL;
}

/* A yunshui request as ADMIN (body may be NULL). */
static void ys(struct fx *f, const char *method, const char *path, const char *body,
               struct bt_test_resp *r)
{
    const char *headers[2] = {f->auth, NULL};

    bt_test_http(f->p, "yunshui", method, path, headers, body, body ? strlen(body) : 0, r);
}

static void vc(struct fx *f, const char *method, const char *path, const char *body,
               struct bt_test_resp *r)
{
    bt_test_http(f->p, "vendorchat", method, path, NULL, body, body ? strlen(body) : 0, r);
}

static void login(struct fx *f)
{
    struct bt_test_resp r = {0};

    bt_test_http(f->p, "yunshui", "POST", "/v1/auth/login", NULL, login_body, strlen(login_body),
                 &r);
    assert_int_equal(r.status, 200);
    snprintf(f->auth, sizeof(f->auth), "Authorization: Bearer %s",
             bt_json_str(r.json, "/data/token"));
    bt_test_resp_release(&r);
}

/* Materials, and one order using them. */
static void seed(struct fx *f)
{
    struct bt_test_resp r = {0};
    char body[256];

    for (int i = 0; i < MATERIALS; i++) {
        snprintf(body, sizeof(body),
                 "{\"name\":\"磁碟基材 %d\",\"price\":1500.0000,\"stock\":100,\"minStock\":0}", i);
        ys(f, "POST", "/v1/materials", body, &r);
        assert_int_equal(r.status, 201);
        snprintf(f->material[i], sizeof(f->material[i]), "%s", bt_json_str(r.json, "/data/id"));
    }
    bt_test_resp_release(&r);
}

/* An order over every material, for customer name. */
static char *order_body(struct fx *f, const char *name)
{
    struct ys_bytes b = {0};

    ys_puts(&b, "{\"customerName\":\"");
    ys_puts(&b, name);
    ys_puts(&b, "\",\"notes\":\"每一項都要在，或都不在\",\"items\":[");
    for (int i = 0; i < MATERIALS; i++) {
        char item[128];
        snprintf(item, sizeof(item), "%s{\"materialId\":\"%s\",\"quantity\":%d}", i ? "," : "",
                 f->material[i], i + 1);
        ys_puts(&b, item);
    }
    ys_puts(&b, "]}");
    ys_put1(&b, 0);
    return (char *)b.p;
}

static long long orders_total(struct fx *f, const char *search)
{
    struct bt_test_resp r = {0};
    char path[160];
    long long n;

    snprintf(path, sizeof(path), "/v1/orders?search=%s", search);
    ys(f, "GET", path, NULL, &r);
    assert_int_equal(r.status, 200);
    n = bt_json_int(r.json, "/data/pagination/total", -1);
    bt_test_resp_release(&r);
    return n;
}

/* The reads every fault must leave working; they see the materials and orders there are. */
static void reads_work(struct fx *f, int materials, int orders)
{
    struct bt_test_resp r = {0};
    char path[128];

    ys(f, "GET", "/v1/materials", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(bt_json_int(r.json, "/data/pagination/total", -1), materials);
    snprintf(path, sizeof(path), "/v1/materials/%s", f->material[0]);
    ys(f, "GET", path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(orders_total(f, "DISK"), orders);
    vc(f, "GET", "/api/v1/vendors/1", NULL, &r);
    assert_int_equal(r.status, 200);
    bt_test_http(f->p, "yunshui", "GET", "/v1/health", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    vc(f, "GET", "/health", NULL, &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
}

/* Every kind of write to the database gets the service's 503; with files, an upload too
 * (it writes into the data directory, not the database). */
static void writes_fail(struct fx *f, const char *why, bool files)
{
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0}, form = {0};
    char path[128], *order = order_body(f, "DISK 失敗客戶");

    ys(f, "POST", "/v1/orders", order, &r);
    if (r.status != 503)
        fail_msg("order on %s: %d %s", why, r.status, r.body);
    bt_assert_subset(r.json, ys_503);
    ys(f, "POST", "/v1/materials", "{\"name\":\"NOT_STORED 不該出現\",\"price\":1}", &r);
    assert_int_equal(r.status, 503);
    bt_assert_subset(r.json, ys_503);
    snprintf(path, sizeof(path), "/v1/materials/%s", f->material[0]);
    ys(f, "PUT", path, "{\"stock\":1}", &r);
    assert_int_equal(r.status, 503);
    bt_assert_subset(r.json, ys_503);
    bt_test_http(f->p, "yunshui", "POST", "/v1/auth/login", NULL, login_body, strlen(login_body),
                 &r);
    assert_int_equal(r.status, 503); /* a login writes its session */
    bt_assert_subset(r.json, ys_503);
    vc(f, "POST", "/api/v1/vendors", "{\"code\":\"DISK_FAIL\",\"name\":\"不該出現\"}", &r);
    assert_int_equal(r.status, 503);
    bt_assert_subset(r.json, vc_503);
    vc(f, "PUT", "/api/v1/vendors/1", "{\"short_name\":\"不該出現\"}", &r);
    assert_int_equal(r.status, 503);
    bt_assert_subset(r.json, vc_503);

    if (files) {
        const char *headers[] = {f->auth, YS_MULTIPART_CT, NULL};
        ys_build_png(&img, 3, 2, 0);
        ys_form(&form, &img, "a.png", "image/png", "materials");
        bt_test_http(f->p, "yunshui", "POST", "/v1/upload/image", headers, form.p, form.n, &r);
        assert_int_equal(r.status, 503);
        bt_assert_subset(r.json, ys_503);
    }
    ys_bytes_free(&img);
    ys_bytes_free(&form);
    free(order);
    bt_test_resp_release(&r);
}

/* The same writes succeed, and what they wrote is whole. */
static void writes_work(struct fx *f)
{
    struct bt_test_resp r = {0};
    struct ys_bytes img = {0}, form = {0};
    char path[128], *order = order_body(f, "DISK 成功客戶");

    ys(f, "POST", "/v1/orders", order, &r);
    assert_int_equal(r.status, 201);
    snprintf(path, sizeof(path), "/v1/orders/%s", bt_json_str(r.json, "/data/id"));
    ys(f, "GET", path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/items")), MATERIALS);
    ys(f, "POST", "/v1/materials", "{\"name\":\"恢復後的基材\",\"price\":1}", &r);
    assert_int_equal(r.status, 201);
    bt_test_http(f->p, "yunshui", "POST", "/v1/auth/login", NULL, login_body, strlen(login_body),
                 &r);
    assert_int_equal(r.status, 200);
    vc(f, "POST", "/api/v1/vendors", "{\"code\":\"DISK_OK\",\"name\":\"恢復後的業者\"}", &r);
    assert_int_equal(r.status, 201);
    ys_build_png(&img, 3, 2, 0);
    ys_form(&form, &img, "a.png", "image/png", "materials");
    {
        const char *headers[] = {f->auth, YS_MULTIPART_CT, NULL};
        bt_test_http(f->p, "yunshui", "POST", "/v1/upload/image", headers, form.p, form.n, &r);
    }
    assert_int_equal(r.status, 200);
    ys_bytes_free(&img);
    ys_bytes_free(&form);
    free(order);
    bt_test_resp_release(&r);
}

/* Nothing of the refused writes is there: no order, material or vendor, no stray file. */
static void nothing_half_written(struct fx *f)
{
    struct bt_test_resp r = {0};
    char path[128];

    assert_int_equal(orders_total(f, "DISK"), 1); /* the seeded order only */
    ys(f, "GET", "/v1/materials?search=NOT_STORED", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(bt_json_int(r.json, "/data/pagination/total", -1), 0);
    snprintf(path, sizeof(path), "/v1/materials/%s", f->material[0]);
    ys(f, "GET", path, NULL, &r);
    assert_int_equal(bt_json_int(r.json, "/data/stock", -1), 100);
    vc(f, "GET", "/api/v1/vendors/1", NULL, &r);
    assert_string_not_equal(bt_json_str(r.json, "/short_name"), "不該出現");
    vc(f, "GET", "/api/v1/vendors", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "DISK_FAIL"));
    bt_test_resp_release(&r);
}

/* Files below dir/uploads (an upload that failed must leave none, not even a temporary). */
static int upload_files(const char *dir)
{
    char cmd[256];
    FILE *p;
    int n = 0;

    snprintf(cmd, sizeof(cmd), "find '%s/uploads' -type f 2>/dev/null | wc -l", dir);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

/* ---- a full disk ---- */

static int setup_tmpfs(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/bt-disk-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    if (mount("tmpfs", f->dir, "tmpfs", MS_NOSUID | MS_NODEV, TMPFS_SIZE) != 0)
        fail_msg("mount tmpfs on %s: %s", f->dir, strerror(errno));
    f->mounted = true;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    if (f->p)
        stop(f);
    if (f->mounted && umount2(f->dir, MNT_DETACH) != 0)
        fprintf(stderr, "umount %s: %s\n", f->dir, strerror(errno));
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->dir);
    free(f);
    return 0;
}

/* Write path until the file system says ENOSPC, in ever smaller pieces, so not one block is
 * left. */
static void fill(const char *path)
{
    static char chunk[1 << 16];
    struct statvfs sv;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    assert_true(fd >= 0);
    for (size_t n = sizeof(chunk); n >= 1; n /= 16)
        while (write(fd, chunk, n) == (ssize_t)n)
            ;
    assert_int_equal(errno, ENOSPC);
    close(fd);
    assert_int_equal(statvfs(path, &sv), 0);
    assert_int_equal(sv.f_bavail, 0);
}

static void test_disk_full(void **state)
{
    struct fx *f = *state;
    struct bt_test_resp r = {0};
    char fillpath[128], *order;

    start(f);
    login(f);
    seed(f);
    order = order_body(f, "DISK 原有客戶");
    ys(f, "POST", "/v1/orders", order, &r);
    assert_int_equal(r.status, 201);
    free(order);
    bt_test_resp_release(&r);

    snprintf(fillpath, sizeof(fillpath), "%s/fill", f->dir);
    fill(fillpath);
    writes_fail(f, "a full disk", true);
    reads_work(f, MATERIALS, 1);

    /* the operator makes room; bento goes on without a restart */
    assert_int_equal(unlink(fillpath), 0);
    nothing_half_written(f);
    assert_int_equal(upload_files(f->dir), 0);
    writes_work(f);
    assert_int_equal(upload_files(f->dir), 1);
    reads_work(f, MATERIALS + 1, 2);
}

/* ---- a database file bento may not write ---- */

static int setup_dir(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/bt-rofile-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

/* chmod the database and, when they exist, its -wal and -shm files */
static void chmod_db(struct fx *f, mode_t mode)
{
    static const char *const sfx[] = {"", "-wal", "-shm"};
    char path[128];

    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/bento.db%s", f->dir, sfx[i]);
        if (chmod(path, mode) != 0 && (i == 0 || errno != ENOENT))
            fail_msg("chmod %s: %s", path, strerror(errno));
    }
}

static void test_read_only_file(void **state)
{
    struct fx *f = *state;
    struct bt_test_resp r = {0};
    char *order;

    start(f);
    login(f);
    seed(f);
    order = order_body(f, "DISK 原有客戶");
    ys(f, "POST", "/v1/orders", order, &r);
    assert_int_equal(r.status, 201);
    free(order);
    bt_test_resp_release(&r);
    stop(f);

    /* bento starts on a database it may only read: it serves the reads */
    chmod_db(f, 0444);
    start(f);
    reads_work(f, MATERIALS, 1);
    writes_fail(f, "a read-only database", false);
    reads_work(f, MATERIALS, 1);

    /* the operator gives the files back: writes work, without a restart */
    chmod_db(f, 0644);
    nothing_half_written(f);
    writes_work(f);
    reads_work(f, MATERIALS + 1, 2);
}

/* bento runs without the capabilities that let root ignore permission bits; they stay
 * dropped for every program this process starts from now on (the bounding set). */
static void drop_dac_override(void)
{
    if (geteuid() != 0)
        return;
    if (prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0 ||
        prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0) != 0) {
        perror("prctl(PR_CAPBSET_DROP)");
        exit(1);
    }
}

/* A tmpfs can be mounted here (root, CAP_SYS_ADMIN), or the test is skipped. */
static void need_mount(void)
{
    char dir[] = "/tmp/bt-disk-probe-XXXXXX";
    bool ok;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    ok = mount("tmpfs", dir, "tmpfs", 0, "size=1m") == 0;
    if (ok)
        umount2(dir, 0);
    else
        fprintf(stderr,
                "skipped: this test mounts a small tmpfs as bento's data directory, which needs "
                "root (CAP_SYS_ADMIN); mount: %s\n",
                strerror(errno));
    rmdir(dir);
    if (!ok)
        exit(77);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disk_full, setup_tmpfs, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_file, setup_dir, teardown),
    };

    bt_test_engine();
    need_mount();
    drop_dac_override();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
