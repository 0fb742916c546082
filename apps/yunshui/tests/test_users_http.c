/* SPDX-License-Identifier: MIT
 * test_users_http.c - handler tier of yunshui's user administration under /v1/users (note
 * yunshui.md "Users and auth": list, create, update, disable; ADMIN only): the user JSON
 * without the hash, pagination and filters, validation (422), duplicates (409), unknown ids
 * (404), USER refused (403), disabling and password resets ending the user's sessions, and an
 * ADMIN unable to demote or disable itself. Each test gets a fresh database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yunshui_test.h"

/* ---- fixture and helpers ---- */

struct fixture {
    struct bt_test_app *t;
    char *admin;    /* the development admin's token */
    char *admin_id; /* and its id */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct bt_test_resp r = {0};

    assert_non_null(f);
    f->t = ys_app();
    f->admin = ys_admin(f->t);
    bt_test_request(f->t, "GET", "/v1/auth/me", ys_auth(f->admin), NULL, &r);
    assert_int_equal(r.status, 200);
    f->admin_id = strdup(bt_json_str(r.json, "/data/id"));
    bt_test_resp_release(&r);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    free(f->admin);
    free(f->admin_id);
    bt_test_app_free(f->t);
    free(f);
    return 0;
}

static void assert_err(const struct bt_test_resp *r, int status, const char *code)
{
    if (r->status != status)
        fail_msg("want %d %s, got %d %s", status, code, r->status, r->body);
    assert_true(json_is_false(json_object_get(r->json, "success")));
    assert_string_equal(ys_code(r), code);
    assert_non_null(bt_json_str(r->json, "/error/message"));
    assert_true(json_is_object(bt_json_at(r->json, "/error/details")));
}

static void assert_ok(const struct bt_test_resp *r, int status)
{
    if (r->status != status)
        fail_msg("want %d, got %d %s", status, r->status, r->body);
    assert_true(json_is_true(json_object_get(r->json, "success")));
}

/* exactly {id, username, email, role, isActive, createdAt, updatedAt} */
static void assert_user(const json_t *u)
{
    static const char *const keys[] = {"id",       "username",  "email",     "role",
                                       "isActive", "createdAt", "updatedAt", NULL};
    assert_true(json_is_object(u));
    assert_int_equal(json_object_size(u), 7);
    for (size_t i = 0; keys[i]; i++)
        assert_non_null(json_object_get(u, keys[i]));
    assert_true(json_is_boolean(json_object_get(u, "isActive")));
    assert_int_equal(strlen(json_string_value(json_object_get(u, "id"))), 36);
    assert_int_equal(strlen(json_string_value(json_object_get(u, "createdAt"))), 24);
}

static void req(struct fixture *f, const char *method, const char *path, const char *token,
                const char *body, struct bt_test_resp *r)
{
    bt_test_request(f->t, method, path, ys_auth(token), body, r);
}

/* Create a user as the admin; returns its id (malloc'd). */
static char *create(struct fixture *f, const char *username, const char *email, const char *role)
{
    struct bt_test_resp r = {0};
    char body[512];
    char *id;

    snprintf(body, sizeof(body),
             "{\"username\":\"%s\",\"email\":\"%s\",\"password\":\"pass-%s-123\",\"role\":\"%s\"}",
             username, email, username, role);
    req(f, "POST", "/v1/users", f->admin, body, &r);
    assert_ok(&r, 201);
    id = strdup(bt_json_str(r.json, "/data/id"));
    bt_test_resp_release(&r);
    return id;
}

static char *user_path(const char *id)
{
    char *p;
    assert_true(asprintf(&p, "/v1/users/%s", id) > 0);
    return p;
}

/* ---- create ---- */

static void test_create(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *tok;

    req(f, "POST", "/v1/users", f->admin,
        "{\"username\":\"Alice\",\"email\":\"Alice@Example.COM\",\"password\":\"alice-pass-1\"}",
        &r);
    assert_ok(&r, 201);
    assert_user(bt_json_at(r.json, "/data"));
    bt_assert_subset(r.json, "{\"data\":{\"username\":\"Alice\",\"email\":\"alice@example.com\","
                             "\"role\":\"USER\",\"isActive\":true}}");
    assert_string_equal(bt_json_str(r.json, "/data/createdAt"),
                        bt_json_str(r.json, "/data/updatedAt"));
    assert_null(strstr(r.body, "argon2"));
    assert_null(strstr(r.body, "alice-pass-1"));
    /* the new user can log in, by any case of its name */
    tok = ys_login(f->t, "alice", "alice-pass-1");
    req(f, "GET", "/v1/auth/me", tok, NULL, &r);
    assert_ok(&r, 200);
    bt_assert_subset(r.json, "{\"data\":{\"username\":\"Alice\",\"role\":\"USER\"}}");
    free(tok);

    req(f, "POST", "/v1/users", f->admin,
        "{\"username\":\"boss\",\"email\":\"boss@example.com\",\"password\":\"boss-pass-1\","
        "\"role\":\"ADMIN\"}",
        &r);
    assert_ok(&r, 201);
    bt_assert_subset(r.json, "{\"data\":{\"role\":\"ADMIN\"}}");
    tok = ys_login(f->t, "boss", "boss-pass-1");
    req(f, "GET", "/v1/users", tok, NULL, &r);
    assert_ok(&r, 200);
    free(tok);

    /* created disabled */
    req(f, "POST", "/v1/users", f->admin,
        "{\"username\":\"sleeper\",\"email\":\"sleeper@example.com\",\"password\":\"sleep-pass-1\","
        "\"isActive\":false}",
        &r);
    assert_ok(&r, 201);
    bt_assert_subset(r.json, "{\"data\":{\"isActive\":false}}");
    bt_test_request(f->t, "POST", "/v1/auth/login", NULL,
                    "{\"username\":\"sleeper\",\"password\":\"sleep-pass-1\"}", &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS");
    bt_test_resp_release(&r);
}

static void test_create_validation(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"email\":\"a@example.com\",\"password\":\"password-1\"}", "username"},
        {"{\"username\":\"\",\"email\":\"a@example.com\",\"password\":\"password-1\"}", "username"},
        {"{\"username\":\"two words\",\"email\":\"a@example.com\",\"password\":\"password-1\"}",
         "username"},
        {"{\"username\":\"x123456789x123456789x123456789x123456789x123456789x\","
         "\"email\":\"a@example.com\",\"password\":\"password-1\"}",
         "username"},
        {"{\"username\":\"ann\",\"password\":\"password-1\"}", "email"},
        {"{\"username\":\"ann\",\"email\":\"not-an-email\",\"password\":\"password-1\"}", "email"},
        {"{\"username\":\"ann\",\"email\":\"a@b\",\"password\":\"password-1\"}", "email"},
        {"{\"username\":\"ann\",\"email\":\"a b@example.com\",\"password\":\"password-1\"}",
         "email"},
        {"{\"username\":\"ann\",\"email\":\"a@@example.com\",\"password\":\"password-1\"}",
         "email"},
        {"{\"username\":\"ann\",\"email\":\"a@-example.com\",\"password\":\"password-1\"}",
         "email"},
        {"{\"username\":\"ann\",\"email\":\"a@example.com\"}", "password"},
        {"{\"username\":\"ann\",\"email\":\"a@example.com\",\"password\":\"1234567\"}", "password"},
        {"{\"username\":\"ann\",\"email\":\"a@example.com\",\"password\":\"password-1\","
         "\"role\":\"ROOT\"}",
         "role"},
        {"{\"username\":\"ann\",\"email\":\"a@example.com\",\"password\":\"password-1\","
         "\"isActive\":\"yes\"}",
         "isActive"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        req(f, "POST", "/v1/users", f->admin, cases[i].body, &r);
        assert_err(&r, 422, "VALIDATION_ERROR");
        if (!bt_json_at(r.json, "/error/details") ||
            !json_object_get(bt_json_at(r.json, "/error/details"), cases[i].field))
            fail_msg("case %zu: no detail for %s in %s", i, cases[i].field, r.body);
    }
    /* the 50-character name is fine, and 8 characters of password */
    req(f, "POST", "/v1/users", f->admin,
        "{\"username\":\"x123456789x123456789x123456789x123456789x123456789\","
        "\"email\":\"long@example.com\",\"password\":\"12345678\"}",
        &r);
    assert_ok(&r, 201);
    req(f, "POST", "/v1/users", f->admin, "{\"username\":", &r);
    assert_err(&r, 400, "VALIDATION_ERROR");
    bt_test_resp_release(&r);
}

static void test_create_duplicates(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id = create(f, "carol", "carol@example.com", "USER");

    req(f, "POST", "/v1/users", f->admin,
        "{\"username\":\"CAROL\",\"email\":\"other@example.com\",\"password\":\"password-1\"}", &r);
    assert_err(&r, 409, "DUPLICATE_RESOURCE");
    assert_non_null(bt_json_at(r.json, "/error/details/username"));
    req(f, "POST", "/v1/users", f->admin,
        "{\"username\":\"carol2\",\"email\":\"Carol@Example.com\",\"password\":\"password-1\"}",
        &r);
    assert_err(&r, 409, "DUPLICATE_RESOURCE");
    assert_non_null(bt_json_at(r.json, "/error/details/email"));
    req(f, "POST", "/v1/users", f->admin,
        "{\"username\":\"admin\",\"email\":\"admin@yunshui.com\",\"password\":\"password-1\"}", &r);
    assert_err(&r, 409, "DUPLICATE_RESOURCE");
    /* a disabled user still holds its name */
    {
        char *p = user_path(id);
        req(f, "DELETE", p, f->admin, NULL, &r);
        assert_ok(&r, 200);
        free(p);
    }
    req(f, "POST", "/v1/users", f->admin,
        "{\"username\":\"carol\",\"email\":\"carol3@example.com\",\"password\":\"password-1\"}",
        &r);
    assert_err(&r, 409, "DUPLICATE_RESOURCE");
    free(id);
    bt_test_resp_release(&r);
}

/* ---- list ---- */

static void test_list(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    json_t *users;
    char name[32], email[64];

    req(f, "GET", "/v1/users", f->admin, NULL, &r);
    assert_ok(&r, 200);
    users = bt_json_at(r.json, "/data/users");
    assert_int_equal(json_array_size(users), 1);
    assert_user(json_array_get(users, 0));
    bt_assert_subset(r.json, "{\"data\":{\"pagination\":{\"page\":1,\"limit\":20,\"total\":1,"
                             "\"totalPages\":1,\"hasNext\":false,\"hasPrev\":false}}}");

    for (int i = 0; i < 5; i++) {
        char *id;
        snprintf(name, sizeof(name), "worker%d", i);
        snprintf(email, sizeof(email), "w%d@factory.example.com", i);
        id = create(f, name, email, i == 4 ? "ADMIN" : "USER");
        free(id);
    }
    free(create(f, "50%_off", "promo@example.com", "USER"));

    req(f, "GET", "/v1/users?limit=2&page=2", f->admin, NULL, &r);
    assert_ok(&r, 200);
    bt_assert_subset(r.json, "{\"data\":{\"pagination\":{\"page\":2,\"limit\":2,\"total\":7,"
                             "\"totalPages\":4,\"hasNext\":true,\"hasPrev\":true}}}");
    users = bt_json_at(r.json, "/data/users");
    assert_int_equal(json_array_size(users), 2);
    /* ordered by user name: 50%_off, admin | worker0, worker1 | ... */
    assert_string_equal(bt_json_str(users, "/0/username"), "worker0");
    assert_string_equal(bt_json_str(users, "/1/username"), "worker1");

    req(f, "GET", "/v1/users?search=FACTORY", f->admin, NULL, &r);
    assert_ok(&r, 200);
    assert_int_equal(bt_json_int(r.json, "/data/pagination/total", -1), 5);
    req(f, "GET", "/v1/users?search=Worker3", f->admin, NULL, &r);
    assert_ok(&r, 200);
    assert_int_equal(bt_json_int(r.json, "/data/pagination/total", -1), 1);
    /* % and _ are literal */
    req(f, "GET", "/v1/users?search=%25_", f->admin, NULL, &r);
    assert_ok(&r, 200);
    assert_int_equal(bt_json_int(r.json, "/data/pagination/total", -1), 1);
    assert_string_equal(bt_json_str(r.json, "/data/users/0/username"), "50%_off");
    req(f, "GET", "/v1/users?search=%E7%94%A8", f->admin, NULL, &r); /* 用 */
    assert_ok(&r, 200);
    assert_int_equal(bt_json_int(r.json, "/data/pagination/total", -1), 0);
    bt_assert_subset(r.json, "{\"data\":{\"users\":[],\"pagination\":{\"total\":0,"
                             "\"totalPages\":0,\"hasNext\":false,\"hasPrev\":false}}}");

    req(f, "GET", "/v1/users?role=ADMIN", f->admin, NULL, &r);
    assert_ok(&r, 200);
    assert_int_equal(bt_json_int(r.json, "/data/pagination/total", -1), 2);
    req(f, "GET", "/v1/users?role=USER&search=worker", f->admin, NULL, &r);
    assert_ok(&r, 200);
    assert_int_equal(bt_json_int(r.json, "/data/pagination/total", -1), 4);

    req(f, "GET", "/v1/users?isActive=false", f->admin, NULL, &r);
    assert_ok(&r, 200);
    assert_int_equal(bt_json_int(r.json, "/data/pagination/total", -1), 0);
    req(f, "GET", "/v1/users?isActive=true&limit=100", f->admin, NULL, &r);
    assert_ok(&r, 200);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/users")), 7);
    assert_null(strstr(r.body, "argon2"));

    req(f, "GET", "/v1/users?page=99", f->admin, NULL, &r);
    assert_ok(&r, 200);
    assert_int_equal(json_array_size(bt_json_at(r.json, "/data/users")), 0);
    bt_test_resp_release(&r);
}

static void test_list_validation(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    static const char *const bad[][2] = {
        {"/v1/users?limit=101", "limit"},
        {"/v1/users?limit=0", "limit"},
        {"/v1/users?limit=x", "limit"},
        {"/v1/users?page=0", "page"},
        {"/v1/users?page=-1", "page"},
        {"/v1/users?role=admin", "role"},
        {"/v1/users?isActive=maybe", "isActive"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        req(f, "GET", bad[i][0], f->admin, NULL, &r);
        assert_err(&r, 422, "VALIDATION_ERROR");
        if (!json_object_get(bt_json_at(r.json, "/error/details"), bad[i][1]))
            fail_msg("%s: no detail for %s in %s", bad[i][0], bad[i][1], r.body);
    }
    bt_test_resp_release(&r);
}

/* ---- get ---- */

static void test_get(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id = create(f, "dave", "dave@example.com", "USER");
    char *p = user_path(id);

    req(f, "GET", p, f->admin, NULL, &r);
    assert_ok(&r, 200);
    assert_user(bt_json_at(r.json, "/data"));
    assert_string_equal(bt_json_str(r.json, "/data/id"), id);
    bt_assert_subset(r.json, "{\"data\":{\"username\":\"dave\",\"email\":\"dave@example.com\"}}");

    req(f, "GET", "/v1/users/00000000-0000-4000-8000-000000000000", f->admin, NULL, &r);
    assert_err(&r, 404, "RESOURCE_NOT_FOUND");
    req(f, "GET", "/v1/users/not-a-uuid", f->admin, NULL, &r);
    assert_err(&r, 404, "RESOURCE_NOT_FOUND");
    req(f, "GET", "/v1/users/%E2%80%AE'%20OR%201=1", f->admin, NULL, &r);
    assert_err(&r, 404, "RESOURCE_NOT_FOUND");
    free(p);
    free(id);
    bt_test_resp_release(&r);
}

/* ---- update ---- */

static void test_update(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id = create(f, "erin", "erin@example.com", "USER");
    char *p = user_path(id);
    char *created;

    req(f, "GET", p, f->admin, NULL, &r);
    created = strdup(bt_json_str(r.json, "/data/createdAt"));

    req(f, "PUT", p, f->admin, "{\"email\":\"Erin.New@Example.com\"}", &r);
    assert_ok(&r, 200);
    assert_user(bt_json_at(r.json, "/data"));
    bt_assert_subset(r.json, "{\"data\":{\"username\":\"erin\",\"email\":\"erin.new@example.com\","
                             "\"role\":\"USER\",\"isActive\":true}}");
    assert_string_equal(bt_json_str(r.json, "/data/createdAt"), created);

    req(f, "PUT", p, f->admin, "{\"role\":\"ADMIN\"}", &r);
    assert_ok(&r, 200);
    bt_assert_subset(r.json, "{\"data\":{\"role\":\"ADMIN\",\"email\":\"erin.new@example.com\"}}");

    /* an empty update changes nothing; the user name cannot be changed */
    req(f, "PUT", p, f->admin, "{}", &r);
    assert_ok(&r, 200);
    req(f, "PUT", p, f->admin, "{\"username\":\"renamed\"}", &r);
    assert_ok(&r, 200);
    assert_string_equal(bt_json_str(r.json, "/data/username"), "erin");

    /* the e-mail it already has is not a duplicate of itself */
    req(f, "PUT", p, f->admin, "{\"email\":\"erin.new@example.com\"}", &r);
    assert_ok(&r, 200);
    free(created);
    free(p);
    free(id);
    bt_test_resp_release(&r);
}

static void test_update_errors(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id = create(f, "frank", "frank@example.com", "USER");
    char *other = create(f, "gina", "gina@example.com", "USER");
    char *p = user_path(id);
    char *self = user_path(f->admin_id);

    req(f, "PUT", p, f->admin, "{\"email\":\"GINA@example.com\"}", &r);
    assert_err(&r, 409, "DUPLICATE_RESOURCE");
    assert_non_null(bt_json_at(r.json, "/error/details/email"));
    req(f, "PUT", p, f->admin, "{\"email\":\"nope\"}", &r);
    assert_err(&r, 422, "VALIDATION_ERROR");
    assert_non_null(bt_json_at(r.json, "/error/details/email"));
    req(f, "PUT", p, f->admin, "{\"email\":null}", &r);
    assert_err(&r, 422, "VALIDATION_ERROR");
    req(f, "PUT", p, f->admin, "{\"role\":\"GOD\",\"password\":\"short\",\"isActive\":1}", &r);
    assert_err(&r, 422, "VALIDATION_ERROR");
    assert_non_null(bt_json_at(r.json, "/error/details/role"));
    assert_non_null(bt_json_at(r.json, "/error/details/password"));
    assert_non_null(bt_json_at(r.json, "/error/details/isActive"));
    req(f, "PUT", "/v1/users/00000000-0000-4000-8000-000000000000", f->admin, "{\"role\":\"USER\"}",
        &r);
    assert_err(&r, 404, "RESOURCE_NOT_FOUND");
    req(f, "PUT", p, f->admin, "not json", &r);
    assert_err(&r, 400, "VALIDATION_ERROR");

    /* an ADMIN cannot demote or disable itself: 422 */
    req(f, "PUT", self, f->admin, "{\"role\":\"USER\"}", &r);
    assert_err(&r, 422, "VALIDATION_ERROR");
    assert_non_null(bt_json_at(r.json, "/error/details/role"));
    req(f, "PUT", self, f->admin, "{\"isActive\":false}", &r);
    assert_err(&r, 422, "VALIDATION_ERROR");
    assert_non_null(bt_json_at(r.json, "/error/details/isActive"));
    req(f, "PUT", self, f->admin, "{\"role\":\"ADMIN\",\"isActive\":true}", &r);
    assert_ok(&r, 200);
    req(f, "GET", "/v1/users", f->admin, NULL, &r); /* still an admin */
    assert_ok(&r, 200);
    free(p);
    free(self);
    free(id);
    free(other);
    bt_test_resp_release(&r);
}

/* a password reset or disabling logs the user out everywhere; re-enabling lets it back in */
static void test_update_password_and_active(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id = create(f, "hank", "hank@example.com", "USER");
    char *p = user_path(id);
    char *rt = NULL, *tok = ys_login_full(f->t, "hank", "pass-hank-123", &rt);
    char body[128];

    req(f, "PUT", p, f->admin, "{\"password\":\"reset-by-admin-1\"}", &r);
    assert_ok(&r, 200);
    req(f, "GET", "/v1/auth/me", tok, NULL, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS");
    snprintf(body, sizeof(body), "{\"refreshToken\":\"%s\"}", rt);
    bt_test_request(f->t, "POST", "/v1/auth/refresh", NULL, body, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS");
    bt_test_request(f->t, "POST", "/v1/auth/login", NULL,
                    "{\"username\":\"hank\",\"password\":\"pass-hank-123\"}", &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS");
    free(tok);
    free(rt);
    tok = ys_login_full(f->t, "hank", "reset-by-admin-1", &rt);

    req(f, "PUT", p, f->admin, "{\"isActive\":false}", &r);
    assert_ok(&r, 200);
    bt_assert_subset(r.json, "{\"data\":{\"isActive\":false}}");
    req(f, "GET", "/v1/auth/me", tok, NULL, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS");
    snprintf(body, sizeof(body), "{\"refreshToken\":\"%s\"}", rt);
    bt_test_request(f->t, "POST", "/v1/auth/refresh", NULL, body, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS");

    req(f, "PUT", p, f->admin, "{\"isActive\":true}", &r);
    assert_ok(&r, 200);
    bt_assert_subset(r.json, "{\"data\":{\"isActive\":true}}");
    req(f, "GET", "/v1/auth/me", tok, NULL, &r); /* the old session stays ended */
    assert_err(&r, 401, "INVALID_CREDENTIALS");
    free(tok);
    tok = ys_login(f->t, "hank", "reset-by-admin-1");
    req(f, "GET", "/v1/auth/me", tok, NULL, &r);
    assert_ok(&r, 200);
    free(tok);
    free(rt);
    free(p);
    free(id);
    bt_test_resp_release(&r);
}

/* ---- delete = disable ---- */

static void test_delete_disables(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *id = create(f, "ivan", "ivan@example.com", "ADMIN");
    char *p = user_path(id);
    char *tok = ys_login(f->t, "ivan", "pass-ivan-123");
    char *self = user_path(f->admin_id);

    req(f, "DELETE", p, f->admin, NULL, &r);
    assert_ok(&r, 200);
    assert_user(bt_json_at(r.json, "/data"));
    bt_assert_subset(r.json, "{\"data\":{\"username\":\"ivan\",\"isActive\":false}}");
    assert_non_null(bt_json_str(r.json, "/message"));
    req(f, "GET", "/v1/users", tok, NULL, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS");
    /* still listed and readable: disabled, not deleted */
    req(f, "GET", p, f->admin, NULL, &r);
    assert_ok(&r, 200);
    bt_assert_subset(r.json, "{\"data\":{\"isActive\":false}}");
    req(f, "DELETE", p, f->admin, NULL, &r); /* again: still disabled */
    assert_ok(&r, 200);

    req(f, "DELETE", self, f->admin, NULL, &r);
    assert_err(&r, 422, "VALIDATION_ERROR");
    req(f, "DELETE", "/v1/users/00000000-0000-4000-8000-000000000000", f->admin, NULL, &r);
    assert_err(&r, 404, "RESOURCE_NOT_FOUND");
    free(tok);
    free(self);
    free(p);
    free(id);
    bt_test_resp_release(&r);
}

/* ---- access ---- */

static void test_user_role_refused(void **state)
{
    struct fixture *f = *state;
    struct bt_test_resp r = {0};
    char *user = ys_make_user(f->t, f->admin, "judy", "USER");
    char *p = user_path(f->admin_id);

    req(f, "GET", "/v1/users", user, NULL, &r);
    assert_err(&r, 403, "INSUFFICIENT_PERMISSIONS");
    req(f, "POST", "/v1/users", user,
        "{\"username\":\"sneaky\",\"email\":\"s@example.com\",\"password\":\"password-1\"}", &r);
    assert_err(&r, 403, "INSUFFICIENT_PERMISSIONS");
    req(f, "GET", p, user, NULL, &r);
    assert_err(&r, 403, "INSUFFICIENT_PERMISSIONS");
    req(f, "PUT", p, user, "{\"isActive\":false}", &r);
    assert_err(&r, 403, "INSUFFICIENT_PERMISSIONS");
    req(f, "DELETE", p, user, NULL, &r);
    assert_err(&r, 403, "INSUFFICIENT_PERMISSIONS");
    bt_test_request(f->t, "GET", "/v1/users", NULL, NULL, &r);
    assert_err(&r, 401, "INVALID_CREDENTIALS");
    /* the admin is untouched */
    req(f, "GET", p, f->admin, NULL, &r);
    assert_ok(&r, 200);
    bt_assert_subset(r.json, "{\"data\":{\"isActive\":true}}");
    free(p);
    free(user);
    bt_test_resp_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_password_and_active, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_disables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_role_refused, setup, teardown),
    };
    bt_test_engine();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
