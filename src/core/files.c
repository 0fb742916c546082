/* SPDX-License-Identifier: MIT
 * files.c - file storage under the data directory.
 * Owns: path validation, the directory walk (openat + O_NOFOLLOW per component), the
 *       atomic save (hidden temp file, fsync, rename without replace, directory fsync).
 * Must not: build a path from client input other than through the validators below,
 *           follow symbolic links below data_dir, or put the absolute data directory in an
 *           error message (messages can reach clients).
 *
 * Why a component walk rather than realpath() + prefix check: a check-then-open on a path
 * string races with a concurrent rename or symlink swap; holding a directory fd and opening
 * each component relative to it with O_NOFOLLOW cannot be redirected. openat2's
 * RESOLVE_BENEATH would do the same in one call, but only on Linux >= 5.6.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bento/auth.h>
#include <bento/files.h>

#define MAX_SUBDIR 512
#define MAX_EXT 10
#define MAX_DEPTH 32

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* subdir: [A-Za-z0-9_-] components, single '/' between them; "" allowed. */
static bool subdir_ok(const char *s)
{
    size_t len = strlen(s);

    if (len > MAX_SUBDIR)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '/') {
            if (i == 0 || i + 1 == len || s[i + 1] == '/')
                return false;
        } else if (!is_alnum(c) && c != '_' && c != '-') {
            return false;
        }
    }
    return true;
}

/* relpath: [A-Za-z0-9._-] components not starting with '.', single '/' between them. */
static bool relpath_ok(const char *s)
{
    size_t len = strlen(s);
    bool start = true;

    if (len == 0 || len > BT_FILES_MAX_PATH)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '/') {
            if (start)
                return false; /* leading '/' or "//" */
            start = true;
            continue;
        }
        if (start && c == '.')
            return false; /* ".", "..", hidden and temporary files */
        if (!is_alnum(c) && c != '_' && c != '-' && c != '.')
            return false;
        start = false;
    }
    return !start; /* no trailing '/' */
}

/* The storage refusing (full, read-only, an I/O error, no permission) is not a bug: the
 * client gets 503 and may retry once the operator has fixed the disk (docs/OPERATIONS.md,
 * "Database faults"). */
static enum bt_status storage_status(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
    case EROFS:
    case EIO:
    case EACCES:
    case EPERM: return BT_EUNAVAILABLE;
    default: return BT_EINTERNAL;
    }
}

static int io_fail(struct bt_err *err, const char *what, const char *rel)
{
    int e = errno;

    return bt_fail(err, storage_status(e), NULL, "cannot %s %s: %s", what, rel && *rel ? rel : ".",
                   strerror(e));
}

/* mkdir -p for the data directory itself (an operator path: symlinks are followed). */
static int mkdir_parents(const char *path)
{
    char buf[4096];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char keep = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0750) < 0 && errno != EEXIST)
                return -1;
            buf[i] = keep;
        }
    }
    return 0;
}

static int open_root(const char *data_dir, bool create, struct bt_err *err)
{
    int fd;

    if (!data_dir || !*data_dir) {
        bt_fail(err, BT_EUNAVAILABLE, NULL, "no data directory configured");
        return -1;
    }
    fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdir_parents(data_dir) < 0) {
            io_fail(err, "create the data directory", NULL);
            return -1;
        }
        fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0) {
        if (errno == ENOENT)
            bt_fail(err, BT_ENOTFOUND, NULL, "data directory does not exist");
        else
            io_fail(err, "open the data directory", NULL);
    }
    return fd;
}

/* Walk the first n bytes of rel (components separated by '/') from dirfd, which is taken
 * (closed). Returns the fd of the last directory, or -1 with err set. Missing directories
 * are created when create is true. */
static int walk_dirs(int dirfd, const char *rel, size_t n, bool create, struct bt_err *err)
{
    size_t i = 0;
    int depth = 0;

    while (i < n) {
        char comp[256];
        size_t j = i;
        int next;

        while (j < n && rel[j] != '/')
            j++;
        if (j - i >= sizeof(comp) || ++depth > MAX_DEPTH) {
            close(dirfd);
            bt_fail(err, BT_EINVAL, NULL, "path is too deep or a name is too long");
            return -1;
        }
        memcpy(comp, rel + i, j - i);
        comp[j - i] = '\0';
        next = openat(dirfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(dirfd, comp, 0750) < 0 && errno != EEXIST) {
                int e = errno;
                close(dirfd);
                bt_fail(err, storage_status(e), NULL, "cannot create directory %.*s: %s", (int)j,
                        rel, strerror(e));
                return -1;
            }
            next = openat(dirfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            int e = errno;
            close(dirfd);
            if (!create && (e == ENOENT || e == ENOTDIR || e == ELOOP))
                bt_fail(err, BT_ENOTFOUND, NULL, "no such file");
            else
                bt_fail(err, BT_EINTERNAL, NULL, "cannot open directory %.*s: %s", (int)j, rel,
                        strerror(e));
            return -1;
        }
        close(dirfd);
        dirfd = next;
        i = j + 1;
    }
    return dirfd;
}

/* The code a helper left in err (helpers always fill it before returning -1). */
static int failed(struct bt_err *err)
{
    return err && err->code != BT_OK ? (int)err->code : BT_EINTERNAL;
}

/* ---------------------------------------------------------------------------------------
 * Save
 * ------------------------------------------------------------------------------------- */

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Move tmp to name in dirfd unless name exists. renameat2(RENAME_NOREPLACE) where the file
 * system supports it, else link + unlink (which also refuses to replace). Returns 0, or -1
 * with errno (EEXIST when taken). */
static int publish(int dirfd, const char *tmp, const char *name)
{
    if (renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
    if (linkat(dirfd, tmp, dirfd, name, 0) < 0)
        return -1;
    unlinkat(dirfd, tmp, 0);
    return 0;
}

int bt_files_save(const char *data_dir, const char *subdir, const char *ext, const void *p,
                  size_t n, struct bt_arena *a, char **relpath_out, struct bt_err *err)
{
    char id[33], tmp[40], name[33 + 1 + MAX_EXT + 1];
    int root, dirfd, fd;
    size_t elen;
    struct bt_err local;

    if (!err)
        err = &local;
    *relpath_out = NULL;
    if (!subdir)
        subdir = "";
    if (!ext)
        ext = "";
    if (!subdir_ok(subdir))
        return bt_fail(err, BT_EINVAL, "subdir",
                       "directory must be names of letters, digits, '-' and '_' separated by "
                       "'/'");
    if (*ext == '.' && !*++ext) /* ".png" is taken for "png", "." for nothing */
        return bt_fail(err, BT_EINVAL, "ext", "extension must be 1 to 10 of [a-z0-9]");
    elen = strspn(ext, "abcdefghijklmnopqrstuvwxyz0123456789");
    if (elen > MAX_EXT || ext[elen] != '\0')
        return bt_fail(err, BT_EINVAL, "ext", "extension must be 1 to 10 of [a-z0-9]");
    if (!p && n)
        return bt_fail(err, BT_EINVAL, NULL, "no data to save");

    root = open_root(data_dir, true, err);
    if (root < 0)
        return failed(err);
    dirfd = walk_dirs(root, subdir, strlen(subdir), true, err);
    if (dirfd < 0)
        return failed(err);

    /* 128 random bits: a collision is not expected in the life of the universe, and
     * publish() refuses to replace even then */
    for (int attempt = 0;; attempt++) {
        unsigned char r[16];

        bt_random_bytes(r, sizeof(r));
        for (size_t i = 0; i < sizeof(r); i++)
            snprintf(id + 2 * i, 3, "%02x", r[i]);
        snprintf(tmp, sizeof(tmp), ".tmp-%s", id);
        snprintf(name, sizeof(name), "%s%s%s", id, elen ? "." : "", ext);

        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0) {
            int rc = io_fail(err, "create a file in", subdir);
            close(dirfd);
            return rc;
        }
        if (write_all(fd, p, n) < 0 || fsync(fd) < 0) {
            int rc = io_fail(err, "write a file in", subdir);
            close(fd);
            unlinkat(dirfd, tmp, 0);
            close(dirfd);
            return rc;
        }
        if (close(fd) < 0) {
            int rc = io_fail(err, "write a file in", subdir);
            unlinkat(dirfd, tmp, 0);
            close(dirfd);
            return rc;
        }
        if (publish(dirfd, tmp, name) == 0)
            break;
        {
            int e = errno;
            unlinkat(dirfd, tmp, 0);
            if (e != EEXIST || attempt >= 3) {
                errno = e;
                int rc = io_fail(err, "rename a file in", subdir);
                close(dirfd);
                return rc;
            }
        }
    }
    /* the new name is durable only once the directory entry is */
    if (fsync(dirfd) < 0) {
        int rc = io_fail(err, "sync directory", subdir);
        close(dirfd);
        return rc;
    }
    close(dirfd);
    *relpath_out = *subdir ? bt_arena_printf(a, "%s/%s", subdir, name) : bt_arena_strdup(a, name);
    return BT_OK;
}

/* ---------------------------------------------------------------------------------------
 * Open, remove
 * ------------------------------------------------------------------------------------- */

/* Validate relpath and open its directory. Returns the directory fd and *last (the final
 * component inside relpath), or -1 with err set. */
static int open_parent(const char *data_dir, const char *relpath, const char **last,
                       struct bt_err *err)
{
    const char *slash;
    int root;

    if (!relpath || !relpath_ok(relpath)) {
        bt_fail(err, BT_EINVAL, "path", "invalid file path");
        return -1;
    }
    root = open_root(data_dir, false, err);
    if (root < 0)
        return -1;
    slash = strrchr(relpath, '/');
    *last = slash ? slash + 1 : relpath;
    return walk_dirs(root, relpath, slash ? (size_t)(slash - relpath) : 0, false, err);
}

int bt_files_open(const char *data_dir, const char *relpath, int *fd, uint64_t *size,
                  struct bt_err *err)
{
    const char *last;
    struct stat st;
    int dirfd, f, flags;
    struct bt_err local;

    if (!err)
        err = &local;
    *fd = -1;
    *size = 0;
    dirfd = open_parent(data_dir, relpath, &last, err);
    if (dirfd < 0)
        return failed(err);
    /* O_NONBLOCK: opening a FIFO planted in the tree must not hang the worker */
    f = openat(dirfd, last, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (f < 0) {
        int e = errno;
        close(dirfd);
        if (e == ENOENT || e == ELOOP || e == ENOTDIR || e == ENXIO)
            return bt_fail(err, BT_ENOTFOUND, NULL, "no such file");
        errno = e;
        return io_fail(err, "open", relpath);
    }
    close(dirfd);
    if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return bt_fail(err, BT_ENOTFOUND, NULL, "no such file");
    }
    flags = fcntl(f, F_GETFL);
    if (flags >= 0)
        (void)fcntl(f, F_SETFL, flags & ~O_NONBLOCK);
    *fd = f;
    *size = (uint64_t)st.st_size;
    return BT_OK;
}

int bt_files_remove(const char *data_dir, const char *relpath, struct bt_err *err)
{
    const char *last;
    struct stat st;
    int dirfd;
    struct bt_err local;

    if (!err)
        err = &local;
    dirfd = open_parent(data_dir, relpath, &last, err);
    if (dirfd < 0)
        return failed(err);
    if (fstatat(dirfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
        close(dirfd);
        return bt_fail(err, BT_ENOTFOUND, NULL, "no such file");
    }
    if (unlinkat(dirfd, last, 0) < 0) {
        int rc = errno == ENOENT ? bt_fail(err, BT_ENOTFOUND, NULL, "no such file")
                                 : io_fail(err, "remove", relpath);
        close(dirfd);
        return rc;
    }
    (void)fsync(dirfd);
    close(dirfd);
    return BT_OK;
}

/* ---------------------------------------------------------------------------------------
 * MIME types
 * ------------------------------------------------------------------------------------- */

const char *bt_files_mime_for_ext(const char *ext)
{
    static const struct {
        const char *ext, *mime;
    } types[] = {
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"png", "image/png"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"pdf", "application/pdf"},
        {"txt", "text/plain; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},
        {"json", "application/json"},
        {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {"zip", "application/zip"},
    };

    if (ext && *ext == '.')
        ext++;
    if (ext)
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(ext, types[i].ext) == 0)
                return types[i].mime;
    return "application/octet-stream";
}
