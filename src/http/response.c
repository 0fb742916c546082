/* SPDX-License-Identifier: MIT
 * response.c - building responses: JSON, bytes, files, extra headers.
 * Must not: write to the socket (the glue does); free what the arena owns.
 */
#include <string.h>
#include <unistd.h>

#include <bento/http.h>

int bt_res_json(struct bt_res *rs, int status, json_t *j)
{
    if (rs->json)
        json_decref(rs->json);
    rs->json = j;
    rs->status = status;
    rs->content_type = "application/json";
    rs->body = NULL;
    rs->len = 0;
    return BT_OK;
}

int bt_res_static(struct bt_res *rs, int status, const char *content_type, const char *p, size_t n)
{
    if (rs->json) {
        json_decref(rs->json);
        rs->json = NULL;
    }
    rs->status = status;
    rs->content_type = content_type;
    rs->body = p;
    rs->len = n;
    return BT_OK;
}

int bt_res_bytes(struct bt_res *rs, int status, const char *content_type, const void *p, size_t n)
{
    return bt_res_static(rs, status, content_type, bt_arena_memdup(rs->arena, p, n), n);
}

int bt_res_file(struct bt_res *rs, int status, const char *content_type, int fd, uint64_t len)
{
    bt_res_static(rs, status, content_type, NULL, 0);
    if (rs->file_fd >= 0)
        close(rs->file_fd);
    rs->file_fd = fd;
    rs->file_len = len;
    return BT_OK;
}

void bt_res_header(struct bt_res *rs, const char *name, const char *value)
{
    if (rs->nheaders == rs->capheaders) {
        size_t cap = rs->capheaders ? rs->capheaders * 2 : 8;
        struct bt_kv *h = bt_arena_alloc(rs->arena, cap * sizeof(*h));
        if (rs->nheaders)
            memcpy(h, rs->headers, rs->nheaders * sizeof(*h));
        rs->headers = h;
        rs->capheaders = cap;
    }
    rs->headers[rs->nheaders].name = bt_arena_strdup(rs->arena, name);
    rs->headers[rs->nheaders].value = bt_arena_strdup(rs->arena, value);
    rs->nheaders++;
}
