/* SPDX-License-Identifier: MIT
 * files.h - uploaded files under the data directory (yunshui's images, exports, imports).
 * Owns: the naming (random, collision-free), the atomic write (temp file, fsync, rename,
 *       directory fsync) and the refusal of any path that could leave the data directory.
 * Must not: use a client-supplied file name as a path, follow a symbolic link, or serve a
 *           file that is still being written.
 *
 * Relative paths look like "uploads/materials/3f9c2a...e1.png": components of
 * [A-Za-z0-9._-], none empty, none starting with '.', separated by single '/'.
 */
#ifndef BENTO_FILES_H
#define BENTO_FILES_H

#include <stddef.h>
#include <stdint.h>

#include <bento/arena.h>
#include <bento/err.h>

#define BT_FILES_MAX_PATH 1024

/** Store p[0..n) as data_dir/subdir/<32 hex digits of 128-bit randomness>[.ext].
 *  subdir: components of [A-Za-z0-9_-] separated by '/', e.g. "uploads/materials"; no
 *  leading, trailing or doubled '/', so no "..", "." or absolute path can be expressed;
 *  "" or NULL stores directly in data_dir. Missing directories (data_dir included) are
 *  created with mode 0750 and the file with 0640. ext: 1-10 of [a-z0-9] without the dot,
 *  or NULL/"" for none. The file is written to a hidden temporary name, fsync'd, renamed
 *  into place without replacing anything, and the directory fsync'd, so a crash leaves
 *  either no file or the whole file. *relpath_out (arena) is the path relative to
 *  data_dir. Returns BT_OK, BT_EINVAL (bad subdir or ext, err->field "subdir"/"ext"),
 *  BT_EUNAVAILABLE when the storage refuses (ENOSPC, EDQUOT, EROFS, EIO, EACCES, EPERM: a
 *  full or read-only disk, 503) or BT_EINTERNAL (another I/O failure); the message names
 *  the operation and the errno text. */
int bt_files_save(const char *data_dir, const char *subdir, const char *ext, const void *p,
                  size_t n, struct bt_arena *a, char **relpath_out, struct bt_err *err);

/** Open data_dir/relpath for reading. Every component is opened with O_NOFOLLOW relative
 *  to the previous one, so neither a symbolic link nor ".." can lead outside data_dir.
 *  Returns BT_OK with *fd (O_RDONLY|O_CLOEXEC, the caller closes it or hands it to
 *  bt_res_file) and *size; BT_EINVAL for a relpath that is not of the form above
 *  (absolute, "..", ".", empty component, hidden name, other characters, too long);
 *  BT_ENOTFOUND when it does not exist, is a symbolic link, or is not a regular file;
 *  BT_EUNAVAILABLE or BT_EINTERNAL on other I/O errors (as bt_files_save). *fd is -1 on
 *  failure. */
int bt_files_open(const char *data_dir, const char *relpath, int *fd, uint64_t *size,
                  struct bt_err *err);

/** Remove data_dir/relpath (same path rules). BT_OK, BT_EINVAL, BT_ENOTFOUND,
 *  BT_EUNAVAILABLE or BT_EINTERNAL (as bt_files_save). */
int bt_files_remove(const char *data_dir, const char *relpath, struct bt_err *err);

/** Content-Type to serve for an extension (with or without the dot, any case):
 *  jpg/jpeg, png, gif, webp, pdf, txt, csv, json, xlsx, zip; anything else (html and svg
 *  included: never served inline from uploads) is "application/octet-stream". */
const char *bt_files_mime_for_ext(const char *ext);

#endif
