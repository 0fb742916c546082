/* SPDX-License-Identifier: MIT
 * fuzz.h - shared by the libFuzzer targets tests/fuzz/fuzz_*.c (docs/TESTING.md, "Fuzzing").
 * Each target defines exactly one entry point, LLVMFuzzerTestOneInput. It is linked twice:
 * with clang's libFuzzer (scripts/fuzz.sh) and with replay_main.c, which feeds it every file
 * of the target's corpus and every prefix of the small ones (a ctest unit test, built by any
 * compiler). A broken invariant aborts, which both drivers report as a failure.
 */
#ifndef BENTO_FUZZ_H
#define BENTO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: abort with its text and place when it does not hold. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Reads an input as consecutive pieces. */
struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

/* The next line (up to '\n', which is consumed; the rest when there is none) as a fresh
 * NUL-terminated heap string of *len bytes (it may hold NULs of its own). Free it. */
static inline char *fuzz_line(struct fuzz_in *in, size_t *len)
{
    const uint8_t *nl = in->n ? memchr(in->p, '\n', in->n) : NULL;
    size_t k = nl ? (size_t)(nl - in->p) : in->n;
    char *s = malloc(k + 1);

    if (!s)
        abort();
    if (k)
        memcpy(s, in->p, k);
    s[k] = '\0';
    in->p += k + (nl ? 1 : 0);
    in->n -= k + (nl ? 1 : 0);
    if (len)
        *len = k;
    return s;
}

/* The rest as a fresh heap block of exactly its size (so ASan sees a one-byte over-read),
 * NOT NUL-terminated. Free it. */
static inline char *fuzz_rest(struct fuzz_in *in, size_t *len)
{
    char *s = malloc(in->n ? in->n : 1);

    if (!s)
        abort();
    if (in->n)
        memcpy(s, in->p, in->n);
    *len = in->n;
    in->p += in->n;
    in->n = 0;
    return s;
}

/* The rest as a fresh NUL-terminated heap string. Free it. */
static inline char *fuzz_rest_str(struct fuzz_in *in, size_t *len)
{
    char *s = malloc(in->n + 1);

    if (!s)
        abort();
    if (in->n)
        memcpy(s, in->p, in->n);
    s[in->n] = '\0';
    *len = in->n;
    in->p += in->n;
    in->n = 0;
    return s;
}

#endif
