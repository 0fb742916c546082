/* SPDX-License-Identifier: MIT
 * bt_test.h - the test harness shared by every tier.
 *   handler tier: an app running in-process on a fresh database, requests run through the
 *                 real pipeline without sockets (bt_test_app_*).
 *   black-box:    the real bento binary on 127.0.0.1:0, spoken to over libcurl
 *                 (bt_test_proc_*).
 *   upstream:     a small local HTTP server that plays an external service (LLM provider,
 *                 Telegram, ...) for the real client code (bt_test_upstream_*).
 * Engine selection: BENTO_TEST_ENGINE=sqlite (default) or pg. With pg the server named by
 * BENTO_TEST_PG_DSN is used, each fixture in its own fresh schema; without a DSN the test
 * exits 77 (skipped) unless BENTO_TEST_REQUIRE_PG=1, which makes it fail instead.
 */
#ifndef BT_TEST_H
#define BT_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include <bento/bento.h>

/* ---- responses (both tiers) ---- */
struct bt_test_resp {
    int status;
    char *body; /* NUL-terminated, owned by the response */
    size_t len;
    json_t *json;          /* parsed body if JSON, else NULL (owned) */
    struct bt_kv *headers; /* names lower-cased (owned) */
    size_t nheaders;
};

/** Release what a response holds; safe on a zeroed or already released response.
 *  Every request function releases r first, so a response can be reused in a loop. */
void bt_test_resp_release(struct bt_test_resp *r);
const char *bt_test_resp_header(const struct bt_test_resp *r, const char *name);

/* ---- engine ---- */

/** "sqlite" or "pg" from BENTO_TEST_ENGINE. Exits 77 (or fails when required) if pg is
 *  selected without BENTO_TEST_PG_DSN. Call first in main (BT_TEST_MAIN does). */
const char *bt_test_engine(void);

/** A fresh, empty database URL for this engine: a new SQLite file in a temporary directory,
 *  or a new schema on the PostgreSQL server. Dropped by bt_test_db_url_release. */
char *bt_test_db_url_new(void);
void bt_test_db_url_release(char *url);

/** A database-tier fixture: a fresh database (bt_test_db_url_new) and a pool of size
 *  connections on it. Returns 0, or -1 (the reason on stderr) for a cmocka setup to return. */
struct bt_test_dbfix {
    char *url;
    struct bt_dbpool *pool;
};
int bt_test_dbfix_open(struct bt_test_dbfix *f, unsigned size);
/** Close the pool and drop the database. */
void bt_test_dbfix_close(struct bt_test_dbfix *f);

/* ---- handler tier ---- */
struct bt_test_app;

/** Start app in-process on a fresh database (migrations applied, init run). settings is a
 *  NULL-terminated list of "key=value" app settings (as --set app.key=value), may be NULL. */
struct bt_test_app *bt_test_app_new(const struct bt_app *app, const char *const *settings);
void bt_test_app_free(struct bt_test_app *t);

/** Run one request. path may include "?query". body may be NULL. headers: NULL-terminated
 *  "Name: value" list, may be NULL (Content-Type: application/json is added when a body is
 *  given and no Content-Type is). */
void bt_test_request(struct bt_test_app *t, const char *method, const char *path,
                     const char *const *headers, const char *body, struct bt_test_resp *r);
/** Same with a raw body of n bytes (may contain NULs). */
void bt_test_request_raw(struct bt_test_app *t, const char *method, const char *path,
                         const char *const *headers, const void *body, size_t n,
                         struct bt_test_resp *r);
/** Path built with printf. */
void bt_test_requestf(struct bt_test_app *t, const char *method, const char *body,
                      struct bt_test_resp *r, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

struct bt_app_ctx *bt_test_ctx(struct bt_test_app *t);
/** A connection for direct setup or checks; returned by bt_test_db_put, which then waits until
 *  the app's read caches have heard of what was committed on it (bt_cache_sync). */
struct bt_db *bt_test_db_get(struct bt_test_app *t);
void bt_test_db_put(struct bt_test_app *t, struct bt_db *db);

/* ---- black-box tier ---- */
struct bt_test_proc;

/** Start the bento binary (path from BENTO_BIN, set by ctest) serving services (comma list)
 *  on 127.0.0.1 ephemeral ports with a fresh database and data directory. extra_args: more
 *  command-line arguments (NULL-terminated, may be NULL); env: "NAME=value" list added to
 *  the environment (may be NULL). Waits until every listener is up (reads the port file
 *  through a pipe: no sleeping). Fails the test if it cannot start. */
struct bt_test_proc *bt_test_proc_start(const char *services, const char *const *extra_args,
                                        const char *const *env);
/** SIGTERM, wait for exit; returns the exit status (0 = clean). */
int bt_test_proc_stop(struct bt_test_proc *p);
int bt_test_proc_port(const struct bt_test_proc *p, const char *app);
/** Send a signal without waiting (graceful-shutdown tests); bt_test_proc_stop still reaps. */
void bt_test_proc_kill(struct bt_test_proc *p, int sig);
/** Start p again after its process ended (a crash test sends bt_test_proc_kill(p, SIGKILL)
 *  first; restarting a process that is still running waits for it to end): reaps it, then
 *  runs the same command (services, arguments, environment) on the same database and data
 *  directory and waits until every listener is up. Ports change; the OpenAPI documents are
 *  fetched again. Returns how the previous process ended: its exit status, or 128 + the
 *  signal. */
int bt_test_proc_restart(struct bt_test_proc *p);
/** A second bento with p's services, arguments and environment on p's database, with its own
 *  data directory and ports (several instances sharing one PostgreSQL). p owns the database:
 *  stop the twin first. */
struct bt_test_proc *bt_test_proc_twin(struct bt_test_proc *p);
const char *bt_test_proc_data_dir(const struct bt_test_proc *p);
/** The process id of the running bento (names its cache listener in pg_stat_activity). */
int bt_test_proc_pid(const struct bt_test_proc *p);
/** The database URL p serves (shared with its twins), for direct checks. */
const char *bt_test_proc_db_url(const struct bt_test_proc *p);

/** Run the bento binary as bt_test_proc_start would (same arguments, a fresh database and data
 *  directory) when it is expected to REFUSE to start (production checks, bad settings): waits
 *  for it to exit and returns its exit status (128 + signal when killed). Fails the test if
 *  it starts listening instead. log (may be NULL) gets its stderr (malloc'd, caller frees). */
int bt_test_proc_run_fail(const char *services, const char *const *extra_args,
                          const char *const *env, char **log);

/** Run the bento binary (BENTO_BIN) as an operator would: args (NULL-terminated, without the
 *  program name) exactly as given, env ("NAME=value", may be NULL) added to the inherited
 *  environment, stdin_text (may be NULL: empty stdin) on its stdin. It runs in a new session,
 *  so it has no controlling terminal. Waits for the exit and returns the exit status (128 +
 *  signal when killed); out and err (each may be NULL) get its stdout and stderr (malloc'd,
 *  NUL-terminated, caller frees). */
int bt_test_cli(const char *const *args, const char *const *env, const char *stdin_text, char **out,
                char **err);

/** The source tree (README.md and docs/ live there). */
const char *bt_test_source_dir(void);

/** HTTP request to the process's listener for app (libcurl). */
void bt_test_http(struct bt_test_proc *p, const char *app, const char *method, const char *path,
                  const char *const *headers, const void *body, size_t n, struct bt_test_resp *r);

/** bt_test_http for a request that a crash may cut (kill -9 under load): 0 when an answer
 *  arrived (r filled and contract-checked), -1 when the connection was refused or broke
 *  before the whole answer came (r released; the test does not fail). */
int bt_test_http_try(struct bt_test_proc *p, const char *app, const char *method, const char *path,
                     const char *const *headers, const void *body, size_t n,
                     struct bt_test_resp *r);

/** The same without the contract check: ONLY for deliberately non-conformant probes (a
 *  request the HTTP layer refuses before any route, a hand-made protocol violation) whose
 *  answer no route can document. */
void bt_test_http_unchecked(struct bt_test_proc *p, const char *app, const char *method,
                            const char *path, const char *const *headers, const void *body,
                            size_t n, struct bt_test_resp *r);

/** A TCP connection to app's port (fails the test if it cannot connect); caller closes. */
int bt_test_connect(struct bt_test_proc *p, const char *app);
/** Read fd until the peer closes, or until timeout_ms pass with nothing to read; returns what
 *  came, NUL-terminated (malloc'd, caller frees). len may be NULL. */
char *bt_test_read_to_close(int fd, int timeout_ms, size_t *len);

/** Raw bytes over a TCP socket to app's port; reads the reply until close or timeout and
 *  returns it NUL-terminated (malloc'd, caller frees). For malformed-protocol tests. */
char *bt_test_raw(struct bt_test_proc *p, const char *app, const void *req, size_t n,
                  size_t *out_len);

/* ---- contract ----
 * Every response of bt_test_request* and bt_test_http is checked against the OpenAPI
 * document of its app (bt_openapi_build in the handler tier, GET /openapi.json once per
 * process and app in the black-box tier): the operation is found by method and path template
 * (below the document's last server URL, the mount), the status must be declared, the content
 * type must match, and a JSON body must validate against the declared schema. Requests that
 * match no route (unknown path, 405) are checked against the app's error schema. Apps without
 * an error_schema are not checked. A mismatch fails the test with route, status, JSON pointer
 * and what was expected. */

/** Check one response; 0 when it conforms, else -1 with the reason in why. */
int bt_test_contract_check(const json_t *doc, const char *method, const char *path, int status,
                           const char *content_type, const char *body, size_t len, char *why,
                           size_t cap);
/** Validate value against schema (a JSON Schema of the subset bt_openapi_build emits; $ref
 *  resolved in doc). 0 when valid, else -1 with the JSON pointer and the reason in why. */
int bt_test_schema_validate(const json_t *doc, const json_t *schema, const json_t *value, char *why,
                            size_t cap);

/* ---- upstream (fake external service) ---- */
struct bt_test_upstream;

/** What a fake service answers. Fill status, content type and body (malloc'd; the harness
 *  frees it). Called on the server's thread. */
struct bt_test_upstream_req {
    const char *method, *path, *query, *body; /* body NUL-terminated */
    size_t body_len;
    const char *authorization; /* Authorization header or NULL */
};
struct bt_test_upstream_resp {
    int status;
    const char *content_type;
    char *body; /* malloc'd */
};
typedef void bt_test_upstream_fn(const struct bt_test_upstream_req *rq,
                                 struct bt_test_upstream_resp *rs, void *ud);

/** Start on 127.0.0.1:0. base_url() is "http://127.0.0.1:PORT". */
struct bt_test_upstream *bt_test_upstream_start(bt_test_upstream_fn *fn, void *ud);
const char *bt_test_upstream_url(const struct bt_test_upstream *u);
/** Number of requests served so far. */
unsigned bt_test_upstream_hits(const struct bt_test_upstream *u);
void bt_test_upstream_stop(struct bt_test_upstream *u);

/* ---- files ---- */

/** The whole file, NUL-terminated (malloc'd, caller frees); fails the test when it cannot be
 *  read. len may be NULL. */
char *bt_test_slurp(const char *path, size_t *len);

/** What the process wrote to stderr so far (its log: DATA_DIR/bento.log), NUL-terminated
 *  (malloc'd, caller frees). */
char *bt_test_proc_log(struct bt_test_proc *p);

/* ---- fuzz corpora ---- */

/** Called with one corpus file: its name and its bytes (n bytes, followed by a NUL that is
 *  not counted). The buffer is freed after the call. */
typedef void bt_test_corpus_fn(const char *name, const char *p, size_t n, void *ud);

/** Call fn for every regular file of tests/fuzz/corpus/<sub> (BENTO_FUZZ_CORPUS/<sub> when
 *  that is set), in name order, skipping dot files. Returns how many files were replayed;
 *  fails the test when the directory cannot be read. */
size_t bt_test_corpus_each(const char *sub, bt_test_corpus_fn *fn, void *ud);

/* ---- assertions ---- */
#define bt_assert_subset(json, pattern)                                                            \
    do {                                                                                           \
        if (!bt_json_subset((json), (pattern)))                                                    \
            bt_test_fail_subset((json), (pattern), __FILE__, __LINE__);                            \
    } while (0)
void bt_test_fail_subset(const json_t *actual, const char *pattern, const char *file, int line)
    __attribute__((noreturn));

/** main() for a test binary: checks the engine (skip/fail rules above), runs the group. */
#define BT_TEST_MAIN(tests)                                                                        \
    int main(void)                                                                                 \
    {                                                                                              \
        bt_test_engine();                                                                          \
        return cmocka_run_group_tests(tests, NULL, NULL);                                          \
    }

#endif
