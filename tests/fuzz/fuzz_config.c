/* SPDX-License-Identifier: MIT
 * fuzz_config.c - the configuration parsers that take operator text (src/core/config.c),
 * which may come from an orchestrator's environment or a mounted secret. Input lines:
 *   1  a listen address (--listen S=..., BENTO_<S>_LISTEN): bt_config_parse_listen
 *   2  a service setting (--set S.KEY=VAL): bt_config_add_setting
 *   3  a service list (--services, BENTO_SERVICES): bt_config_set_services
 *   rest  the contents of a secret file (BENTO_<S>_<KEY>_FILE, BENTO_DB_FILE), read through
 *      bt_config_read_secret from a memory file
 * Invariants: a listen address gives a host and a port 0..65535; a setting splits at the
 * first '=' with a dot before it; at most BT_MAX_APPS services, none empty; a secret is the
 * file minus one trailing newline, with no NUL, and a refusal never quotes the contents.
 * Corpus: corpus/config.
 */
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include <bento/config.h>

static void secret(struct bt_config *c, const char *p, size_t n)
{
    int fd = memfd_create("bento-fuzz-secret", 0);
    char path[64];
    const char *out = NULL, *why = NULL;

    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(n == 0 || write(fd, p, n) == (ssize_t)n);
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (bt_config_read_secret(c, "BENTO_FUZZ_KEY_FILE", path, &out, &why) == 0) {
        size_t k = n;
        if (k && p[k - 1] == '\n' && --k && p[k - 1] == '\r')
            k--;
        FUZZ_CHECK(out != NULL && k > 0 && k <= BT_SECRET_FILE_MAX);
        FUZZ_CHECK(strlen(out) == k && !memcmp(out, p, k));
    } else {
        FUZZ_CHECK(out == NULL && why != NULL);
        if (n >= 12 && !memchr(p, '\0', n)) {
            char *text = strndup(p, n);
            FUZZ_CHECK(text && !strstr(why, text));
            free(text);
        }
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    char *listen = fuzz_line(&in, NULL);
    char *set = fuzz_line(&in, NULL);
    char *services = fuzz_line(&in, NULL);
    size_t n;
    char *file = fuzz_rest(&in, &n);
    struct bt_config c;
    struct bt_listen l = {"fuzz", NULL, -1};

    memset(&c, 0, sizeof c);
    if (bt_config_parse_listen(&c, listen, "127.0.0.1", &l) == 0) {
        FUZZ_CHECK(l.host != NULL);
        FUZZ_CHECK(l.port >= 0 && l.port <= 65535);
        FUZZ_CHECK(bt_config_set_listen(&c, "fuzz", &l) == 0);
        FUZZ_CHECK(bt_config_listen(&c, "fuzz", 1).port == l.port);
    }
    if (bt_config_add_setting(&c, set) == 0) {
        const char *eq = strchr(set, '=');
        FUZZ_CHECK(eq && c.nset == 1);
        FUZZ_CHECK(strlen(c.set_keys[0]) == (size_t)(eq - set) && strchr(c.set_keys[0], '.'));
        FUZZ_CHECK(!strcmp(c.set_vals[0], eq + 1));
    }
    if (bt_config_set_services(&c, services) == 0) {
        FUZZ_CHECK(c.nservices <= BT_MAX_APPS);
        for (size_t i = 0; i < c.nservices; i++)
            FUZZ_CHECK(c.services[i][0] != '\0');
    }
    secret(&c, file, n);
    bt_config_release(&c);
    free(listen);
    free(set);
    free(services);
    free(file);
    return 0;
}
