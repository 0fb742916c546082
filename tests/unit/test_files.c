/* SPDX-License-Identifier: MIT
 * test_files.c - file storage under the data directory (src/core/files.c), as yunshui's
 * upload uses it ("uploads/<folder>/<random id>.<format>", served back by path): save/open
 * round trip, atomic naming, modes, and every way out of the data directory refused
 * (.., absolute paths, symlinked files and directories, FIFOs, hidden temp files).
 */
#include "bt_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bento/files.h>

struct fx {
    char root[256]; /* a fresh temporary directory */
    char data[300]; /* root/data: the data directory (not created in advance) */
    struct bt_arena *a;
    struct bt_err err;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");

    snprintf(f->root, sizeof(f->root), "%s/bt_files_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->root))
        return -1;
    snprintf(f->data, sizeof(f->data), "%s/data", f->root);
    f->a = bt_arena_new();
    umask(022);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    bt_arena_free(f->a);
    free(f);
    return 0;
}

static char *save(struct fx *f, const char *subdir, const char *ext, const char *data, size_t n,
                  int expect)
{
    static char unset[] = "unset";
    char *rel = unset;
    int rc;

    bt_err_clear(&f->err);
    rc = bt_files_save(f->data, subdir, ext, data, n, f->a, &rel, &f->err);
    if (rc != expect)
        fail_msg("save(%s, %s): %d, expected %d (%s)", subdir ? subdir : "NULL", ext ? ext : "NULL",
                 rc, expect, f->err.msg);
    if (rc != BT_OK)
        assert_null(rel);
    return rel;
}

static int open_rc(struct fx *f, const char *rel)
{
    int fd = 123;
    uint64_t size = 99;
    int rc;

    bt_err_clear(&f->err);
    rc = bt_files_open(f->data, rel, &fd, &size, &f->err);
    if (rc == BT_OK)
        close(fd);
    else
        assert_int_equal(fd, -1);
    return rc;
}

static void assert_matches(const char *s, const char *pattern)
{
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    if (regexec(&re, s, 0, NULL, 0) != 0)
        fail_msg("\"%s\" does not match %s", s, pattern);
    regfree(&re);
}

static size_t count_entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

/* yunshui: uploads/<folder>/<random id>.<format>, read back byte for byte. */
static void test_save_open_round_trip(void **state)
{
    struct fx *f = *state;
    static const char data[] = "\x89PNG\r\n\x1a\n\0binary\0data";
    char *rel;
    char path[600], buf[64];
    struct stat st;
    int fd;
    uint64_t size;

    rel = save(f, "uploads/materials", "png", data, sizeof(data) - 1, BT_OK);
    assert_matches(rel, "^uploads/materials/[0-9a-f]{32}\\.png$");

    assert_int_equal(bt_files_open(f->data, rel, &fd, &size, &f->err), BT_OK);
    assert_true(fd >= 0);
    assert_int_equal(size, sizeof(data) - 1);
    assert_int_equal(read(fd, buf, sizeof(buf)), sizeof(data) - 1);
    assert_memory_equal(buf, data, sizeof(data) - 1);
    /* a blocking, close-on-exec descriptor */
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);

    /* modes: directories 0750 (the data directory was created too), files 0640 */
    snprintf(path, sizeof(path), "%s/%s", f->data, rel);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(stat(f->data, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0750);
    snprintf(path, sizeof(path), "%s/uploads/materials", f->data);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0750);

    /* no temporary file is left behind */
    assert_int_equal(count_entries(path, ".tmp-"), 0);
    assert_int_equal(count_entries(path, ""), 3); /* ".", "..", the file */
}

static void test_names_unique_and_shapes(void **state)
{
    struct fx *f = *state;
    char *names[200];
    char *rel;
    int fd;
    uint64_t size;

    for (int i = 0; i < 200; i++) {
        names[i] = save(f, "uploads/x", "jpg", "x", 1, BT_OK);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(names[i], names[k]);
    }
    /* folders as yunshui allows them: letters (any case), digits, '-', '_' */
    rel = save(f, "uploads/Steel_Plates-2024", "webp", "w", 1, BT_OK);
    assert_matches(rel, "^uploads/Steel_Plates-2024/[0-9a-f]{32}\\.webp$");
    /* no subdir, no extension, a leading dot on the extension, empty data */
    rel = save(f, NULL, NULL, "abc", 3, BT_OK);
    assert_matches(rel, "^[0-9a-f]{32}$");
    rel = save(f, "", ".gif", "", 0, BT_OK);
    assert_matches(rel, "^[0-9a-f]{32}\\.gif$");
    assert_int_equal(bt_files_open(f->data, rel, &fd, &size, &f->err), BT_OK);
    assert_int_equal(size, 0);
    close(fd);
}

static void test_save_refuses_bad_subdir_and_ext(void **state)
{
    struct fx *f = *state;
    static const char *const subdirs[] = {
        "..",  "../x", "a/../b", "/abs",     "a//b", "a/",           "./a", "a/.",   ".hidden",
        "a b", "a\\b", "a.b",    "\xc3\xa4", "a\nb", "a/b/../../..", "/",   "~root",
    };
    static const char *const exts[] = {"PNG", "p.ng", "toolongext1", "p/g", "..", "png ", "."};

    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        save(f, subdirs[i], "png", "x", 1, BT_EINVAL);
        assert_string_equal(f->err.field, "subdir");
    }
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        save(f, "uploads", exts[i], "x", 1, BT_EINVAL);
        assert_string_equal(f->err.field, "ext");
    }
    /* nothing was created outside (or inside) the data directory */
    assert_int_equal(count_entries(f->root, ""), 2);
}

/* Traversal attempts on open are refused before touching the file system. */
static void test_open_refuses_traversal(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = {
        "",
        "/etc/passwd",
        "../etc/passwd",
        "uploads/../../etc/passwd",
        "uploads/./x.png",
        "./x.png",
        "uploads//x.png",
        "uploads/",
        "..",
        ".",
        "uploads/.tmp-0123456789abcdef0123456789abcdef",
        "uploads/a\\..\\b",
        "uploads/x\n.png",
        "uploads/\xe5\x9c\x96.png",
        "uploads/x%2e%2e/y",
    };
    char longp[BT_FILES_MAX_PATH + 10];

    save(f, "uploads", "png", "x", 1, BT_OK);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (open_rc(f, bad[i]) != BT_EINVAL)
            fail_msg("\"%s\" was not refused", bad[i]);
        assert_int_equal(f->err.code, BT_EINVAL);
    }
    assert_int_equal(open_rc(f, NULL), BT_EINVAL);
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(open_rc(f, longp), BT_EINVAL);
}

static void test_open_missing_and_special(void **state)
{
    struct fx *f = *state;
    char path[600], target[600];
    char *rel = save(f, "uploads/materials", "png", "x", 1, BT_OK);

    assert_int_equal(open_rc(f, "uploads/materials/0123456789abcdef0123456789abcdef.png"),
                     BT_ENOTFOUND);
    assert_int_equal(open_rc(f, "uploads/nothere/x.png"), BT_ENOTFOUND);
    assert_int_equal(open_rc(f, "nothere.png"), BT_ENOTFOUND);
    /* a directory is not a file; a file is not a directory */
    assert_int_equal(open_rc(f, "uploads/materials"), BT_ENOTFOUND);
    snprintf(path, sizeof(path), "%s/x.png", rel);
    assert_int_equal(open_rc(f, path), BT_ENOTFOUND);

    /* a symlink to a file outside, to a file inside, and a symlinked directory */
    snprintf(path, sizeof(path), "%s/uploads/passwd.png", f->data);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    assert_int_equal(open_rc(f, "uploads/passwd.png"), BT_ENOTFOUND);
    snprintf(path, sizeof(path), "%s/uploads/inside.png", f->data);
    snprintf(target, sizeof(target), "%s/%s", f->data, rel);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(open_rc(f, "uploads/inside.png"), BT_ENOTFOUND);
    snprintf(path, sizeof(path), "%s/etc", f->data);
    assert_int_equal(symlink("/etc", path), 0);
    assert_int_equal(open_rc(f, "etc/passwd"), BT_ENOTFOUND);
    assert_int_equal(open_rc(f, "etc/hostname"), BT_ENOTFOUND);

    /* a FIFO must not hang the worker */
    snprintf(path, sizeof(path), "%s/uploads/fifo.png", f->data);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(open_rc(f, "uploads/fifo.png"), BT_ENOTFOUND);

    /* the saved file itself is still fine */
    assert_int_equal(open_rc(f, rel), BT_OK);

    /* no data directory at all */
    {
        int fd;
        uint64_t size;
        assert_int_equal(bt_files_open("/nonexistent/bento/data", "a.png", &fd, &size, NULL),
                         BT_ENOTFOUND);
        assert_int_equal(bt_files_open("", "a.png", &fd, &size, NULL), BT_EUNAVAILABLE);
    }
}

/* Saving through a symlinked directory is refused: nothing lands outside. */
static void test_save_refuses_symlinked_dir(void **state)
{
    struct fx *f = *state;
    char outside[300], link[600];

    snprintf(outside, sizeof(outside), "%s/outside", f->root);
    assert_int_equal(mkdir(outside, 0700), 0);
    save(f, "uploads", "png", "x", 1, BT_OK);
    snprintf(link, sizeof(link), "%s/uploads/evil", f->data);
    assert_int_equal(symlink(outside, link), 0);

    save(f, "uploads/evil", "png", "x", 1, BT_EINTERNAL);
    save(f, "uploads/evil/deeper", "png", "x", 1, BT_EINTERNAL);
    assert_int_equal(count_entries(outside, ""), 2);

    /* a plain file where a directory is expected */
    {
        char *rel = save(f, "uploads", NULL, "x", 1, BT_OK);
        save(f, rel, "png", "x", 1, BT_EINTERNAL);
    }
}

static void test_remove(void **state)
{
    struct fx *f = *state;
    char *rel = save(f, "uploads/m", "png", "x", 1, BT_OK);
    char path[600];
    struct stat st;

    assert_int_equal(bt_files_remove(f->data, rel, &f->err), BT_OK);
    assert_int_equal(open_rc(f, rel), BT_ENOTFOUND);
    assert_int_equal(bt_files_remove(f->data, rel, &f->err), BT_ENOTFOUND);
    assert_int_equal(bt_files_remove(f->data, "../x", &f->err), BT_EINVAL);
    assert_int_equal(bt_files_remove(f->data, "uploads/m", &f->err), BT_ENOTFOUND);

    /* removing a symlink is refused and its target survives */
    snprintf(path, sizeof(path), "%s/target.txt", f->root);
    {
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs("keep", fp);
        fclose(fp);
    }
    {
        char link[600];
        snprintf(link, sizeof(link), "%s/uploads/m/link.png", f->data);
        assert_int_equal(symlink(path, link), 0);
    }
    assert_int_equal(bt_files_remove(f->data, "uploads/m/link.png", &f->err), BT_ENOTFOUND);
    assert_int_equal(stat(path, &st), 0);
}

static void test_mime(void **state)
{
    (void)state;
    assert_string_equal(bt_files_mime_for_ext("jpg"), "image/jpeg");
    assert_string_equal(bt_files_mime_for_ext("JPEG"), "image/jpeg");
    assert_string_equal(bt_files_mime_for_ext(".png"), "image/png");
    assert_string_equal(bt_files_mime_for_ext("gif"), "image/gif");
    assert_string_equal(bt_files_mime_for_ext("webp"), "image/webp");
    assert_string_equal(bt_files_mime_for_ext("csv"), "text/csv; charset=utf-8");
    assert_string_equal(bt_files_mime_for_ext("xlsx"),
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_string_equal(bt_files_mime_for_ext("html"), "application/octet-stream");
    assert_string_equal(bt_files_mime_for_ext("svg"), "application/octet-stream");
    assert_string_equal(bt_files_mime_for_ext(""), "application/octet-stream");
    assert_string_equal(bt_files_mime_for_ext(NULL), "application/octet-stream");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_save_open_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_unique_and_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_refuses_bad_subdir_and_ext, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_traversal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_missing_and_special, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_refuses_symlinked_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
        cmocka_unit_test(test_mime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
