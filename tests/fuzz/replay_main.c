/* SPDX-License-Identifier: MIT
 * replay_main.c - the regression half of a fuzz target: `fuzz_NAME_replay DIR...` feeds every
 * regular file of each corpus directory to the target's LLVMFuzzerTestOneInput, each copied
 * into a heap block of exactly its size (an over-read is caught under -fsanitize=address),
 * then every strict prefix of the files up to 2 KiB (truncated inputs). Files are taken in
 * name order. Exits 1 when a directory cannot be read or holds no file; a broken invariant
 * aborts inside the target. ctest runs one per target (tests/CMakeLists.txt).
 */
#include "fuzz.h"

#include <dirent.h>
#include <sys/stat.h>

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0;

    if (!f)
        return NULL;
    for (;;) {
        size_t got;
        if (len == cap) {
            char *nb;
            cap = cap ? 2 * cap : 4096;
            nb = realloc(buf, cap);
            if (!nb)
                abort();
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *n = len;
    return buf;
}

static void feed(const char *buf, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);

    if (!copy)
        abort();
    if (n)
        memcpy(copy, buf, n);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
}

static long replay_dir(const char *dir)
{
    struct dirent **names = NULL;
    long files = 0;
    int count = scandir(dir, &names, NULL, alphasort);

    if (count < 0) {
        fprintf(stderr, "replay: cannot read corpus %s\n", dir);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        char path[4096];
        struct stat st;
        char *buf;
        size_t n = 0;

        if (names[i]->d_name[0] != '.' &&
            (size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name) < sizeof path &&
            stat(path, &st) == 0 && S_ISREG(st.st_mode) && (buf = read_all(path, &n)) != NULL) {
            feed(buf, n);
            for (size_t k = 0; n <= 2048 && k < n; k++)
                feed(buf, k);
            free(buf);
            files++;
        }
        free(names[i]);
    }
    free(names);
    return files;
}

int main(int argc, char **argv)
{
    long total = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        long files = replay_dir(argv[i]);
        if (files <= 0) {
            fprintf(stderr, "replay: no corpus files in %s\n", argv[i]);
            return 1;
        }
        printf("replay: %ld files of %s\n", files, argv[i]);
        total += files;
    }
    printf("replay: %ld files, no failure\n", total);
    return 0;
}
