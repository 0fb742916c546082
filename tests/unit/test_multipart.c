/* SPDX-License-Identifier: MIT
 * test_multipart.c - multipart/form-data parsing (src/http/multipart.c): the bodies curl and
 * browsers send for yunshui's POST /upload/image (field "image", optional "folder"), quoted
 * boundaries, binary data with CRLFs, NULs and near-miss delimiters, and every malformed
 * shape the parser must refuse with BT_EINVAL (or BT_EMEDIATYPE for a wrong type).
 */
#include "bt_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bento/multipart.h>

struct fx {
    struct bt_arena *a;
    struct bt_err err;
    struct bt_multipart_part *parts;
    size_t n;
};

static int parse(struct fx *f, const char *ct, const char *body, size_t len)
{
    bt_err_clear(&f->err);
    return bt_multipart_parse(f->a, ct, body, len, &f->parts, &f->n, &f->err);
}

static int parse_s(struct fx *f, const char *ct, const char *body)
{
    return parse(f, ct, body, strlen(body));
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->a = bt_arena_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    bt_arena_free(f->a);
    free(f);
    return 0;
}

static void assert_part_data(const struct bt_multipart_part *p, const void *data, size_t len)
{
    assert_non_null(p);
    assert_int_equal(p->len, len);
    assert_memory_equal(p->data, data, len);
}

#define CURL_CT "multipart/form-data; boundary=------------------------d74496d66958873e"
#define CURL_B "--------------------------d74496d66958873e"

/* What `curl -F folder=materials -F image=@steel.png` sends. */
static void test_curl_body(void **state)
{
    struct fx *f = *state;
    const char *body = CURL_B "\r\n"
                              "Content-Disposition: form-data; name=\"folder\"\r\n"
                              "\r\n"
                              "materials\r\n" CURL_B "\r\n"
                              "Content-Disposition: form-data; name=\"image\"; "
                              "filename=\"steel.png\"\r\n"
                              "Content-Type: image/png\r\n"
                              "\r\n"
                              "PNGDATA\r\n" CURL_B "--\r\n";
    const struct bt_multipart_part *p;

    assert_int_equal(parse_s(f, CURL_CT, body), BT_OK);
    assert_int_equal(f->n, 2);
    assert_string_equal(f->parts[0].name, "folder");
    assert_null(f->parts[0].filename);
    assert_null(f->parts[0].content_type);
    assert_part_data(&f->parts[0], "materials", 9);

    p = bt_multipart_find(f->parts, f->n, "image");
    assert_ptr_equal(p, &f->parts[1]);
    assert_string_equal(p->filename, "steel.png");
    assert_string_equal(p->content_type, "image/png");
    assert_part_data(p, "PNGDATA", 7);
    /* data points into the body, not a copy */
    assert_true(p->data > body && p->data < body + strlen(body));
    assert_int_equal(p->nheaders, 2);
    assert_string_equal(p->headers[1].name, "content-type");
    assert_null(bt_multipart_find(f->parts, f->n, "missing"));
    assert_null(bt_multipart_find(NULL, 0, "image"));
}

/* A Chrome-like body: quoted boundary, preamble and epilogue, header names in any case,
 * transport padding after a delimiter, an empty part and duplicate names. */
static void test_quoted_boundary_and_shapes(void **state)
{
    struct fx *f = *state;
    const char *ct = "Multipart/Form-Data ; charset=utf-8; boundary=\"simple boundary:=?\"";
    const char *body = "this is a preamble, ignored\r\n"
                       "--simple boundary:=?  \t\r\n"
                       "content-disposition: FORM-DATA; name=tag\r\n"
                       "\r\n"
                       "one\r\n"
                       "--simple boundary:=?\r\n"
                       "CONTENT-DISPOSITION:form-data;name=\"tag\"\r\n"
                       "X-Folded: first\r\n"
                       "  second\r\n"
                       "\r\n"
                       "two\r\n"
                       "--simple boundary:=?\r\n"
                       "Content-Disposition: form-data; name=\"empty\"\r\n"
                       "\r\n"
                       "\r\n"
                       "--simple boundary:=?--\r\n"
                       "epilogue --simple boundary:=? ignored too";

    assert_int_equal(parse_s(f, ct, body), BT_OK);
    assert_int_equal(f->n, 3);
    assert_part_data(bt_multipart_find(f->parts, f->n, "tag"), "one", 3);
    assert_part_data(&f->parts[1], "two", 3);
    assert_string_equal(f->parts[1].headers[1].name, "x-folded");
    assert_string_equal(f->parts[1].headers[1].value, "first second");
    assert_part_data(&f->parts[2], "", 0);

    /* the empty form a browser sends for a form without fields */
    assert_int_equal(parse_s(f, "multipart/form-data; boundary=b", "--b--\r\n"), BT_OK);
    assert_int_equal(f->n, 0);
}

/* File data is binary: CRLFs, NULs, "--" lines and near-miss delimiters are content. */
static void test_binary_data(void **state)
{
    struct fx *f = *state;
    static const char data[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\r\n\r\n--XyZ\0--XyZ!\r\n"
                               "\r\n--XyZQ\r\n\r\n--Xy\r\n--\r\n\xff\xfe\0";
    const size_t dlen = sizeof(data) - 1;
    char body[512];
    size_t len = 0;

    len += (size_t)sprintf(body + len, "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; "
                                       "filename=\"x.bin\"\r\n"
                                       "Content-Type: application/octet-stream\r\n\r\n");
    memcpy(body + len, data, dlen);
    len += dlen;
    len += (size_t)sprintf(body + len, "\r\n--XyZ--");

    assert_int_equal(parse(f, "multipart/form-data; boundary=XyZ", body, len), BT_OK);
    assert_int_equal(f->n, 1);
    assert_part_data(&f->parts[0], data, dlen);

    /* data ending in CR or in CRLF keeps those bytes */
    len = (size_t)sprintf(body, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n"
                                "ab\r\n\r\n\r\n--XyZ--\r\n");
    assert_int_equal(parse(f, "multipart/form-data; boundary=XyZ", body, len), BT_OK);
    assert_part_data(&f->parts[0], "ab\r\n\r\n", 6);
}

static void assert_einval(struct fx *f, const char *ct, const char *body, const char *msg_part)
{
    assert_int_equal(parse_s(f, ct, body), BT_EINVAL);
    assert_int_equal(f->err.code, BT_EINVAL);
    assert_null(f->parts);
    assert_int_equal(f->n, 0);
    if (!strstr(f->err.msg, msg_part))
        fail_msg("message \"%s\" does not mention \"%s\"", f->err.msg, msg_part);
}

#define CT_B "multipart/form-data; boundary=b"
#define CD_A "Content-Disposition: form-data; name=a\r\n"

static void test_content_type_errors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(parse_s(f, NULL, "--b--"), BT_EMEDIATYPE);
    assert_int_equal(parse_s(f, "application/json", "{}"), BT_EMEDIATYPE);
    assert_int_equal(parse_s(f, "multipart/mixed; boundary=b", "--b--"), BT_EMEDIATYPE);
    assert_int_equal(parse_s(f, "multipart/form-datax; boundary=b", "--b--"), BT_EMEDIATYPE);
    assert_string_equal(f->err.msg, "content type must be multipart/form-data");

    assert_einval(f, "multipart/form-data", "--b--", "boundary missing");
    assert_einval(f, "multipart/form-data; charset=utf-8", "--b--", "boundary missing");
    assert_einval(f, "multipart/form-data; boundary=", "--b--", "malformed");
    assert_einval(f, "multipart/form-data; boundary=\"\"", "--b--", "1 to 70");
    assert_einval(f, "multipart/form-data; boundary=\"abc", "--abc--", "malformed");
    assert_einval(f, "multipart/form-data; boundary=a b", "--a b--", "malformed");
    assert_einval(f, "multipart/form-data; boundary=\"ends with space \"", "--x--", "1 to 70");
    assert_einval(f, "multipart/form-data; boundary=a; boundary=b", "--a--", "two boundary");
    assert_einval(f, "multipart/form-data; boundary=\"a\\\\b\"", "--a\\b--", "RFC 2046");
    assert_einval(f, "multipart/form-data; boundary=a\x01", "--a--", "malformed");
    {
        char ct[160];
        snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%071d", 7);
        assert_einval(f, ct, "--x--", "1 to 70");
        snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%070d", 7);
        assert_int_equal(parse_s(f, ct, "x"), BT_EINVAL); /* a valid 70: body is the problem */
        assert_non_null(strstr(f->err.msg, "opening"));
    }
}

static void test_body_errors(void **state)
{
    struct fx *f = *state;

    assert_einval(f, CT_B, "", "opening");
    assert_einval(f, CT_B, "garbage \x01\x02 with no delimiter", "opening");
    assert_einval(f, CT_B, "--bb\r\n" CD_A "\r\nx\r\n--bb--", "opening");
    assert_int_equal(parse(f, CT_B, NULL, 10), BT_EINVAL);
    /* missing closing delimiter, in several ways */
    assert_einval(f, CT_B, "--b\r\n" CD_A "\r\nvalue", "closing");
    assert_einval(f, CT_B, "--b\r\n" CD_A "\r\nvalue\r\n--b", "closing");
    assert_einval(f, CT_B, "--b\r\n" CD_A "\r\nvalue\r\n--b-", "closing");
    assert_einval(f, CT_B, "--b\r\n" CD_A "\r\nvalue\r\n--bc--", "closing");
    assert_einval(f, CT_B, "--b\r\n" CD_A "\r\nvalue\n--b--", "closing");
    /* header problems */
    assert_einval(f, CT_B, "--b\r\n" CD_A, "empty line");
    assert_einval(f, CT_B, "--b\r\n" CD_A "\r\n", "closing");
    assert_einval(f, CT_B, "--b\r\nContent-Disposition form-data\r\n\r\nx\r\n--b--", "header");
    assert_einval(f, CT_B, "--b\r\n: empty name\r\n\r\nx\r\n--b--", "header");
    assert_einval(f, CT_B, "--b\r\n folded first\r\n\r\nx\r\n--b--", "header");
    assert_einval(f, CT_B, "--b\r\nBad Name: x\r\n\r\nx\r\n--b--", "header name");
    assert_einval(f, CT_B, "--b\r\nX-A: a\nb\r\n\r\nx\r\n--b--", "control");
    assert_einval(f, CT_B, "--b\r\n\r\nno headers\r\n--b--", "content-disposition");
    assert_einval(f, CT_B, "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",
                  "content-disposition");
    assert_einval(f, CT_B, "--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--",
                  "not form-data");
    assert_einval(f, CT_B, "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "no name");
    assert_einval(f, CT_B,
                  "--b\r\nContent-Disposition: form-data; filename=\"a.png\"\r\n\r\nx\r\n--b--",
                  "no name");
    assert_einval(f, CT_B, "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--",
                  "malformed content-disposition");
    assert_einval(f, CT_B,
                  "--b\r\nContent-Disposition: form-data; name=\"\xc3\x28\"\r\n\r\nx\r\n--b--",
                  "name is not valid UTF-8");
    assert_einval(f, CT_B,
                  "--b\r\nContent-Disposition: form-data; name=a; filename=\"\xff.png\"\r\n\r\n"
                  "x\r\n--b--",
                  "filename is not valid UTF-8");
}

/* The header block of a part is capped at 8 KiB. */
static void test_header_block_limit(void **state)
{
    struct fx *f = *state;
    char *body = malloc(20000);
    char *ok;
    size_t len;

    len = (size_t)sprintf(body, "--b\r\n" CD_A "X-Pad: ");
    memset(body + len, 'p', 9000);
    len += 9000;
    len += (size_t)sprintf(body + len, "\r\n\r\nx\r\n--b--");
    assert_int_equal(parse(f, CT_B, body, len), BT_EINVAL);
    assert_non_null(strstr(f->err.msg, "header block over 8192 bytes"));

    /* exactly 8192 bytes of header lines is fine */
    ok = malloc(20000);
    len = (size_t)sprintf(ok, "--b\r\n");
    {
        size_t start = len;
        len += (size_t)sprintf(ok + len, CD_A "X-Pad: ");
        size_t pad = 8192 - (len - start) - 2;
        memset(ok + len, 'p', pad);
        len += pad;
    }
    len += (size_t)sprintf(ok + len, "\r\n\r\nx\r\n--b--");
    assert_int_equal(parse(f, CT_B, ok, len), BT_OK);
    assert_int_equal(f->n, 1);
    assert_int_equal(strlen(f->parts[0].headers[1].value), 8192 - strlen(CD_A) - 9);
    /* one byte more is refused */
    {
        char *more = malloc(len + 2);
        size_t cut = 5 + strlen(CD_A) + 7;
        memcpy(more, ok, cut);
        more[cut] = 'p';
        memcpy(more + cut + 1, ok + cut, len - cut);
        assert_int_equal(parse(f, CT_B, more, len + 1), BT_EINVAL);
        assert_non_null(strstr(f->err.msg, "over 8192"));
        free(more);
    }
    free(ok);
    free(body);
}

/* 64 parts are accepted, 65 are not. */
static void test_many_parts(void **state)
{
    struct fx *f = *state;
    char *body = malloc(64 * 1024);
    size_t len = 0;

    for (int i = 0; i < 65; i++) {
        len += (size_t)sprintf(
            body + len, "--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\n%d\r\n", i, i);
        if (i == 63) {
            size_t keep = len;
            len += (size_t)sprintf(body + len, "--b--\r\n");
            assert_int_equal(parse(f, CT_B, body, len), BT_OK);
            assert_int_equal(f->n, 64);
            assert_string_equal(f->parts[63].name, "f63");
            assert_part_data(&f->parts[63], "63", 2);
            len = keep;
        }
    }
    len += (size_t)sprintf(body + len, "--b--\r\n");
    assert_int_equal(parse(f, CT_B, body, len), BT_EINVAL);
    assert_string_equal(f->err.msg, "multipart body has more than 64 parts");
    free(body);
}

static const char *filename_of(struct fx *f, const char *cd)
{
    char body[512];
    snprintf(body, sizeof(body), "--b\r\nContent-Disposition: %s\r\n\r\nx\r\n--b--", cd);
    if (parse_s(f, CT_B, body) != BT_OK)
        fail_msg("%s: %s", cd, f->err.msg);
    return f->parts[0].filename;
}

static void test_filenames(void **state)
{
    struct fx *f = *state;

    assert_string_equal(filename_of(f, "form-data; name=i; filename=\"a\\\"b.png\""), "a\"b.png");
    assert_string_equal(filename_of(f, "form-data; name=i; filename=\"a\\\\b.png\""), "a\\b.png");
    /* a bare backslash (browsers do not escape it) survives */
    assert_string_equal(filename_of(f, "form-data; name=i; filename=\"C:\\dir\\x.png\""),
                        "C:\\dir\\x.png");
    assert_string_equal(filename_of(f, "form-data; name=i; filename=plain.gif"), "plain.gif");
    assert_string_equal(filename_of(f, "form-data; name=i; filename=\"\""), "");
    assert_string_equal(filename_of(f, "form-data; name=i; filename=\"a; b=c.png\""), "a; b=c.png");
    /* raw UTF-8, as browsers send it */
    assert_string_equal(filename_of(f, "form-data; name=i; filename=\"\xe5\x9c\x96.png\""),
                        "\xe5\x9c\x96.png");
    /* RFC 5987 filename* wins over filename */
    assert_string_equal(filename_of(f, "form-data; name=i; filename=\"fallback.png\"; "
                                       "filename*=UTF-8''%E5%9C%96%20%e7%89%87.png"),
                        "\xe5\x9c\x96 \xe7\x89\x87.png");
    assert_string_equal(filename_of(f, "form-data; name=i; filename*=iso-8859-1'en'caf%E9.jpg"),
                        "caf\xc3\xa9.jpg");
    /* a filename* that cannot be understood falls back to filename */
    assert_string_equal(
        filename_of(f, "form-data; name=i; filename=\"ok.png\"; filename*=koi8-r''%E9.png"),
        "ok.png");
    assert_string_equal(
        filename_of(f, "form-data; name=i; filename=\"ok.png\"; filename*=UTF-8''%ZZ.png"),
        "ok.png");
    assert_string_equal(
        filename_of(f, "form-data; name=i; filename=\"ok.png\"; filename*=UTF-8''%ff.png"),
        "ok.png");
    assert_string_equal(
        filename_of(f, "form-data; name=i; filename=\"ok.png\"; filename*=UTF-8''%00.png"),
        "ok.png");
    assert_null(filename_of(f, "form-data; name=i; filename*=UTF-8"));
    assert_null(filename_of(f, "form-data; name=i"));
    assert_string_equal(f->parts[0].name, "i");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_curl_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quoted_boundary_and_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_content_type_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_block_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filenames, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
