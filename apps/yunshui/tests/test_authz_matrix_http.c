/* SPDX-License-Identifier: MIT
 * test_authz_matrix_http.c - the access matrix of every yunshui route (document 002 §狀態碼說明
 * 401/403, §錯誤代碼, note "Roles"): each entry of yunshui_routes, with path parameters filled
 * by a random UUID and a plausible body, called with no token, malformed tokens, a token signed
 * with another secret, an expired token, a USER token and an ADMIN token.
 *   public routes          need no token (and ignore a bad one)
 *   none/malformed/forged  401 INVALID_CREDENTIALS
 *   expired                401 TOKEN_EXPIRED
 *   USER on ADMIN routes   403 INSUFFICIENT_PERMISSIONS
 *   USER on BT_AUTH routes and ADMIN everywhere: neither 401 nor 403 (nor a 5xx)
 * Walking the table itself means a route added later is covered without editing this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yunshui.h"
#include "yunshui_test.h"

#define SECRET "matrix-secret-for-yunshui-0123456789abcdef"
#define OTHER_SECRET "some-other-secret-for-yunshui-0123456789ab"

struct fixture {
    struct bt_test_app *t;
    char *admin, *user;     /* tokens */
    char *expired, *forged; /* admin claims: exp in the past / signed with another key */
    char *refresh;          /* a live refresh token */
};

/* ---- tokens ---- */

static json_t *claims_of(const char *token)
{
    struct bt_arena *a = bt_arena_new();
    const char *dot1 = strchr(token, '.'), *dot2 = strchr(dot1 + 1, '.');
    unsigned char *raw = NULL;
    size_t n = 0;
    json_t *j;

    assert_int_equal(bt_base64url_decode(a, dot1 + 1, (size_t)(dot2 - dot1 - 1), &raw, &n), 0);
    j = json_loadb((const char *)raw, n, 0, NULL);
    bt_arena_free(a);
    assert_non_null(j);
    return j;
}

/* The admin's own claims with iat/exp moved, signed with secret (malloc'd). */
static char *resign(const char *token, const char *secret, int64_t iat, int64_t exp)
{
    struct bt_arena *a = bt_arena_new();
    json_t *c = claims_of(token);
    char *tok = NULL, *out;

    json_object_set_new(c, "iat", json_integer(iat));
    json_object_set_new(c, "exp", json_integer(exp));
    assert_int_equal(bt_jwt_sign(a, c, secret, &tok), BT_OK);
    out = strdup(tok);
    json_decref(c);
    bt_arena_free(a);
    return out;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *const settings[] = {"jwt_secret=" SECRET, NULL};
    int64_t now = bt_now_unix();

    assert_non_null(f);
    f->t = ys_app_with(settings);
    f->admin = ys_admin(f->t);
    f->user = ys_make_user(f->t, f->admin, "matrix_user", "USER");
    f->expired = resign(f->admin, SECRET, now - 2 * 86400, now - 60);
    f->forged = resign(f->admin, OTHER_SECRET, now, now + 3600);
    free(ys_login_full(f->t, "admin", "password123", &f->refresh));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    free(f->admin);
    free(f->user);
    free(f->expired);
    free(f->forged);
    free(f->refresh);
    bt_test_app_free(f->t);
    free(f);
    return 0;
}

/* ---- requests ---- */

/* The route's path with every ":param" replaced by a fresh UUID, under /v1. */
static char *fill_path(const struct bt_route *rt)
{
    char buf[512], uuid[37];
    size_t n = 0;

    n += (size_t)snprintf(buf, sizeof(buf), "/v1");
    for (const char *p = rt->path; *p && n < sizeof(buf) - 40;) {
        if (*p == ':') {
            bt_uuid_v4(uuid);
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", uuid);
            p += strcspn(p, "/");
        } else {
            buf[n++] = *p++;
        }
    }
    buf[n] = '\0';
    return strdup(buf);
}

/* A body the route could plausibly receive (valid where that is easy), or NULL. */
static char *plausible_body(const struct fixture *f, const struct bt_route *rt)
{
    char *b = NULL;
    char uuid[37];

    if (rt->method == BT_GET || rt->method == BT_DELETE)
        return NULL;
    bt_uuid_v4(uuid);
    if (!strcmp(rt->path, "/auth/login"))
        b = strdup("{\"username\":\"admin\",\"password\":\"password123\"}");
    else if (!strcmp(rt->path, "/auth/refresh")) {
        /* a refresh spends its token: each call gets a fresh one */
        char *rt_tok = NULL;
        free(ys_login_full(f->t, "admin", "password123", &rt_tok));
        assert_true(asprintf(&b, "{\"refreshToken\":\"%s\"}", rt_tok) > 0);
        free(rt_tok);
    } else if (!strcmp(rt->path, "/auth/password"))
        b = strdup("{\"currentPassword\":\"not-the-password\",\"newPassword\":\"new-pass-123\"}");
    else if (!strncmp(rt->path, "/users", 6))
        b = strdup("{\"username\":\"matrix_new\",\"email\":\"matrix_new@example.com\","
                   "\"password\":\"matrix-pass-1\",\"role\":\"USER\"}");
    else if (!strncmp(rt->path, "/materials", 10))
        b = strdup(
            "{\"name\":\"矩陣測試板\",\"category\":\"不鏽鋼\",\"specification\":\"厚度 1mm\","
            "\"unit\":\"片\",\"price\":100.5,\"stock\":5,\"minStock\":1}");
    else if (strstr(rt->path, "/status"))
        b = strdup("{\"status\":\"CANCELLED\",\"notes\":\"矩陣測試\"}");
    else if (!strncmp(rt->path, "/orders", 7))
        assert_true(asprintf(&b,
                             "{\"customerName\":\"矩陣客戶\",\"items\":[{\"materialId\":\"%s\","
                             "\"quantity\":1,\"unitPrice\":10}]}",
                             uuid) > 0);
    else
        b = strdup("{}");
    return b;
}

static void call(struct fixture *f, const struct bt_route *rt, const char *const *headers,
                 struct bt_test_resp *r)
{
    char *path = fill_path(rt);
    char *body = plausible_body(f, rt);

    bt_test_request(f->t, bt_method_name(rt->method), path, headers, body, r);
    free(path);
    free(body);
}

static const char *const *bearer(const char *token)
{
    return ys_auth(token);
}

static void expect(const struct bt_route *rt, const char *who, const struct bt_test_resp *r,
                   int status, const char *code)
{
    if (r->status != status || strcmp(ys_code(r), code) != 0)
        fail_msg("%s %s as %s: want %d %s, got %d %s", bt_method_name(rt->method), rt->path, who,
                 status, code, r->status, r->body);
    assert_true(json_is_false(json_object_get(r->json, "success")));
    assert_non_null(bt_json_str(r->json, "/error/message"));
    assert_true(json_is_object(bt_json_at(r->json, "/error/details")));
}

static void expect_allowed(const struct bt_route *rt, const char *who, const struct bt_test_resp *r)
{
    if (r->status == 401 || r->status == 403 || r->status >= 500 || r->status == 0)
        fail_msg("%s %s as %s: want access, got %d %s", bt_method_name(rt->method), rt->path, who,
                 r->status, r->body);
}

/* ---- the matrix ---- */

static const char *const malformed[] = {
    "Authorization: Bearer not-a-jwt",
    "Authorization: Bearer ",
    "Authorization: Bearer a.b.c",
    "Authorization: Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.e30.",
    "Authorization: Basic YWRtaW46cGFzc3dvcmQxMjM=",
    "Authorization: bearer",
    "Authorization: Token abc",
};

static void test_matrix(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    size_t nroutes = 0, npublic = 0, nadmin = 0;

    for (const struct bt_route *rt = yunshui_routes; rt->path; rt++) {
        nroutes++;
        if (rt->access & BT_PUBLIC) {
            npublic++;
            /* no token needed, and a bad one is not even looked at */
            call(f, rt, NULL, &r);
            expect_allowed(rt, "anonymous", &r);
            call(f, rt, bearer("not-a-jwt"), &r);
            expect_allowed(rt, "anonymous with a bad token", &r);
            continue;
        }
        call(f, rt, NULL, &r);
        expect(rt, "no token", &r, 401, "INVALID_CREDENTIALS");
        for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
            const char *const h[] = {malformed[i], NULL};
            call(f, rt, h, &r);
            expect(rt, malformed[i], &r, 401, "INVALID_CREDENTIALS");
        }
        call(f, rt, bearer(f->forged), &r);
        expect(rt, "forged", &r, 401, "INVALID_CREDENTIALS");
        call(f, rt, bearer(f->expired), &r);
        expect(rt, "expired", &r, 401, "TOKEN_EXPIRED");

        call(f, rt, bearer(f->user), &r);
        if (rt->access & YUNSHUI_ADMIN) {
            nadmin++;
            expect(rt, "USER", &r, 403, "INSUFFICIENT_PERMISSIONS");
        } else {
            assert_true(rt->access & BT_AUTH);
            expect_allowed(rt, "USER", &r);
        }
        if (!strcmp(rt->path, "/auth/logout")) {
            /* logout ends the session it is called with: use a throwaway admin login */
            char *tok = ys_admin(f->t);
            call(f, rt, bearer(tok), &r);
            expect_allowed(rt, "ADMIN", &r);
            free(tok);
            free(f->user);
            f->user = ys_login(f->t, "matrix_user", "secret-matrix_user-1");
            continue;
        }
        call(f, rt, bearer(f->admin), &r);
        expect_allowed(rt, "ADMIN", &r);
    }
    /* the table has what the document and the note promise */
    assert_true(nroutes >= 20);
    assert_true(npublic >= 2);
    assert_true(nadmin >= 5);
    bt_test_resp_release(&r);
}

/* the public login and refresh routes really work without a token (and with a bad one) */
static void test_public_routes_work_anonymously(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char body[128];

    bt_test_request(f->t, "POST", "/v1/auth/login", NULL,
                    "{\"username\":\"admin\",\"password\":\"password123\"}", &r);
    assert_int_equal(r.status, 200);
    snprintf(body, sizeof(body), "{\"refreshToken\":\"%s\"}", f->refresh);
    bt_test_request(f->t, "POST", "/v1/auth/refresh", bearer("garbage"), body, &r);
    assert_int_equal(r.status, 200);
    bt_test_resp_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_matrix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_public_routes_work_anonymously, setup, teardown),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
