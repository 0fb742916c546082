/* SPDX-License-Identifier: MIT
 * test_db_faults.c - the database layer when the storage fails (docs/DATABASE.md, "Errors"
 * and "Lost connections"): every fault that is the disk's or the server's, not the
 * statement's, is BT_EUNAVAILABLE (the services' 503); a transaction it interrupts leaves
 * nothing behind; the pool drops a connection that went bad and the next check-out works
 * once the fault is gone.
 * SQLite: a VFS that wraps the default one and fails on demand, as the disk would (the unix
 * VFS turns ENOSPC into SQLITE_FULL and EIO into SQLITE_IOERR_WRITE), opens the database
 * read-only as for a file bento may not write, or cannot open it.
 * PostgreSQL: a port nobody listens on, a server that accepts but never answers (a small
 * proxy in front of the test server goes silent), a read-only session (a standby).
 * Each case runs on its engine and is skipped on the other.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "bt_test.h"

struct fix {
    struct bt_test_dbfix db;
    struct bt_dbpool *pool; /* db.pool */
};

static bool is_pg(void)
{
    return !strcmp(bt_test_engine(), "pg");
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    if (bt_test_dbfix_open(&f->db, 2))
        return -1;
    f->pool = f->db.pool;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    bt_test_dbfix_close(&f->db);
    free(f);
    return 0;
}

static struct bt_db *get(struct bt_dbpool *pool)
{
    struct bt_err err;
    struct bt_db *db = bt_dbpool_get(pool, 5000, &err);

    if (!db)
        fail_msg("bt_dbpool_get: %s", err.msg);
    return db;
}

static void script(struct bt_db *db, const char *sql)
{
    struct bt_err err;

    if (bt_db_exec_script(db, sql, &err) != BT_OK)
        fail_msg("script: %s", err.msg);
}

static int64_t count(struct bt_db *db)
{
    struct bt_err err;
    int64_t n;

    if (bt_db_query_i64(db, &n, "SELECT COUNT(*) FROM t", BT_NOARGS, &err) != BT_OK)
        fail_msg("count: %s", err.msg);
    return n;
}

static int insert(struct bt_db *db, int64_t v, struct bt_err *err)
{
    return bt_db_exec(db, NULL, "INSERT INTO t (v) VALUES ($1)", BT_ARGS(bt_i64(v)), err);
}

/* The connection db is a new one: a TEMP table lives only in the connection that made it. */
static bool fresh(struct bt_db *db)
{
    struct bt_err err;
    int64_t n;

    return bt_db_query_i64(db, &n, "SELECT COUNT(*) FROM temp_marker", BT_NOARGS, &err) != BT_OK;
}

/* ---- SQLite: a disk that fails on demand ---- */

static atomic_int fault_write;     /* an SQLite result code every write returns, 0: none */
static atomic_int fault_open;      /* the same for opening a file */
static atomic_bool fault_readonly; /* database files open read-only */
static sqlite3_vfs *real_vfs;

struct ffile {
    sqlite3_file base;
    sqlite3_file *real; /* right after this struct, szOsFile of the real VFS */
};

#define REAL(f) (((struct ffile *)(f))->real)

static int f_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}
static int f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    int rc = atomic_load(&fault_write);
    return rc ? rc : REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags)
{
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int f_lock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xLock(REAL(f), level);
}
static int f_unlock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), level);
}
static int f_check(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_fcntl(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int f_devchar(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, pp);
}
static int f_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}
static void f_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int f_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods f_methods = {
    3,          f_close,       f_read,      f_write, f_truncate, f_sync,    f_size,
    f_lock,     f_unlock,      f_check,     f_fcntl, f_sector,   f_devchar, f_shm_map,
    f_shm_lock, f_shm_barrier, f_shm_unmap, f_fetch, f_unfetch,
};

static int f_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out)
{
    struct ffile *f = (struct ffile *)file;
    int rc = atomic_load(&fault_open);

    (void)vfs;
    file->pMethods = NULL; /* SQLite calls xClose only on a file that opened */
    if (rc)
        return rc;
    if (atomic_load(&fault_readonly) && (flags & SQLITE_OPEN_MAIN_DB))
        flags = (flags & ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_READONLY;
    f->real = (sqlite3_file *)(f + 1);
    rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out);
    if (rc == SQLITE_OK) {
        if (f->real->pMethods->iVersion < 3)
            fail_msg("the default VFS has no shared-memory methods");
        file->pMethods = &f_methods;
    }
    return rc;
}

static int f_delete(sqlite3_vfs *v, const char *name, int sync)
{
    (void)v;
    return real_vfs->xDelete(real_vfs, name, sync);
}
static int f_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int f_fullname(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}
static int f_random(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xRandomness(real_vfs, n, out);
}
static int f_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return real_vfs->xSleep(real_vfs, us);
}
static int f_time(sqlite3_vfs *v, double *out)
{
    (void)v;
    return real_vfs->xCurrentTime(real_vfs, out);
}
static int f_last_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xGetLastError(real_vfs, n, out);
}
static int f_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    (void)v;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static sqlite3_vfs faulty_vfs;

/* Make the faulty VFS the default, so bento's connections use it. */
static void faulty_install(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    assert_non_null(real_vfs);
    faulty_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(struct ffile) + real_vfs->szOsFile,
        .mxPathname = real_vfs->mxPathname,
        .zName = "bt-faulty",
        .xOpen = f_open,
        .xDelete = f_delete,
        .xAccess = f_access,
        .xFullPathname = f_fullname,
        .xDlOpen = real_vfs->xDlOpen,
        .xDlError = real_vfs->xDlError,
        .xDlSym = real_vfs->xDlSym,
        .xDlClose = real_vfs->xDlClose,
        .xRandomness = f_random,
        .xSleep = f_sleep,
        .xCurrentTime = f_time,
        .xGetLastError = f_last_error,
        .xCurrentTimeInt64 = f_time64,
    };
    assert_int_equal(sqlite3_vfs_register(&faulty_vfs, 1), SQLITE_OK);
}

static int sqlite_setup(void **state)
{
    atomic_store(&fault_write, 0);
    atomic_store(&fault_open, 0);
    atomic_store(&fault_readonly, false);
    if (setup(state) != 0)
        return -1;
    if (!is_pg()) {
        struct fix *f = *state;
        struct bt_db *db = get(f->pool);
        script(db, "CREATE TABLE t (v BIGINT NOT NULL)");
        bt_dbpool_put(f->pool, db);
    }
    return 0;
}

/* A full disk fails the write with 503 and the transaction leaves nothing; the connection
 * is fine and writes again once there is room, without being replaced. */
static void test_sqlite_disk_full(void **state)
{
    struct fix *f = *state;
    struct bt_err err;
    struct bt_db *db;

    if (is_pg())
        skip();
    db = get(f->pool);
    script(db, "CREATE TEMP TABLE temp_marker (x BIGINT)");
    assert_int_equal(bt_db_begin(db, &err), BT_OK);
    for (int i = 0; i < 50; i++)
        assert_int_equal(insert(db, i, &err), BT_OK);
    atomic_store(&fault_write, SQLITE_FULL);
    assert_int_equal(bt_db_commit(db, &err), BT_EUNAVAILABLE);
    assert_non_null(strstr(err.msg, "full"));
    assert_int_equal(insert(db, 100, &err), BT_EUNAVAILABLE); /* outside a transaction too */
    atomic_store(&fault_write, 0);
    assert_int_equal(count(db), 0); /* all or nothing */
    assert_int_equal(insert(db, 101, &err), BT_OK);
    bt_dbpool_put(f->pool, db);

    db = get(f->pool);
    assert_false(fresh(db)); /* the same connection */
    assert_int_equal(count(db), 1);
    bt_dbpool_put(f->pool, db);
}

/* An I/O error is 503 too; the connection is no longer trusted: the rest of the request gets
 * 503 on it, the pool drops it and the next check-out is a new connection that works. */
static void test_sqlite_io_error(void **state)
{
    struct fix *f = *state;
    struct bt_err err;
    struct bt_db *db;
    int64_t n;

    if (is_pg())
        skip();
    db = get(f->pool);
    script(db, "CREATE TEMP TABLE temp_marker (x BIGINT)");
    assert_int_equal(insert(db, 1, &err), BT_OK);
    atomic_store(&fault_write, SQLITE_IOERR_WRITE);
    assert_int_equal(insert(db, 2, &err), BT_EUNAVAILABLE);
    atomic_store(&fault_write, 0);
    assert_int_equal(bt_db_query_i64(db, &n, "SELECT COUNT(*) FROM t", BT_NOARGS, &err),
                     BT_EUNAVAILABLE);
    bt_dbpool_put(f->pool, db);

    db = get(f->pool);
    assert_true(fresh(db));
    assert_int_equal(count(db), 1);
    assert_int_equal(insert(db, 3, &err), BT_OK);
    bt_dbpool_put(f->pool, db);
}

/* A database file bento may not write (opened read-only, as SQLite does when the file's
 * permissions refuse writing): reads work, writes are 503; once the file is writable again
 * the pool replaces the read-only connection and writes work, without a restart. */
static void test_sqlite_read_only(void **state)
{
    struct fix *f = *state;
    struct bt_dbpool *ro;
    struct bt_err err;
    struct bt_db *db;

    if (is_pg())
        skip();
    db = get(f->pool);
    assert_int_equal(insert(db, 1, &err), BT_OK);
    bt_dbpool_put(f->pool, db);

    atomic_store(&fault_readonly, true);
    assert_int_equal(bt_dbpool_open(f->db.url, 1, &ro, &err), BT_OK); /* reads still work */
    db = get(ro);
    assert_int_equal(count(db), 1);
    assert_int_equal(insert(db, 2, &err), BT_EUNAVAILABLE);
    assert_non_null(strstr(err.msg, "readonly"));
    bt_dbpool_put(ro, db);
    db = get(ro);
    assert_int_equal(count(db), 1);
    bt_dbpool_put(ro, db);

    atomic_store(&fault_readonly, false);
    db = get(ro);
    assert_int_equal(insert(db, 3, &err), BT_OK);
    assert_int_equal(count(db), 2);
    bt_dbpool_put(ro, db);
    bt_dbpool_free(ro);
}

/* A database that cannot be opened: 503 when the pool opens, and when it reconnects; once
 * the file opens again, so does the pool. */
static void test_sqlite_cannot_open(void **state)
{
    struct fix *f = *state;
    struct bt_dbpool *pool = (struct bt_dbpool *)state; /* must be reset to NULL */
    struct bt_err err;
    struct bt_db *db;

    if (is_pg())
        skip();
    atomic_store(&fault_open, SQLITE_CANTOPEN);
    assert_int_equal(bt_dbpool_open(f->db.url, 1, &pool, &err), BT_EUNAVAILABLE);
    assert_null(pool);
    atomic_store(&fault_open, 0);

    /* the pool's one connection goes bad (dropped), and the file cannot be opened for now */
    db = get(f->pool);
    atomic_store(&fault_write, SQLITE_IOERR_WRITE);
    assert_int_equal(insert(db, 1, &err), BT_EUNAVAILABLE);
    atomic_store(&fault_write, 0);
    bt_dbpool_put(f->pool, db);
    atomic_store(&fault_open, SQLITE_CANTOPEN);
    assert_null(bt_dbpool_get(f->pool, 1000, &err));
    assert_int_equal(err.code, BT_EUNAVAILABLE);

    atomic_store(&fault_open, 0);
    db = get(f->pool);
    assert_int_equal(insert(db, 2, &err), BT_OK);
    assert_int_equal(count(db), 1);
    bt_dbpool_put(f->pool, db);
}

/* ---- PostgreSQL ---- */

/* A TCP port on 127.0.0.1 that refuses connections: bound, never listening; *fd keeps it. */
static int refusing_port(int *fd)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);

    *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(*fd >= 0);
    assert_int_equal(bind(*fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(*fd, (struct sockaddr *)&sa, &sl), 0);
    return ntohs(sa.sin_port);
}

/* The test server's URL with host and port replaced (query parameters win over the
 * authority in a libpq URI). */
static char *url_via(const char *url, int port)
{
    char *out;

    assert_true(
        asprintf(&out, "%s%shost=127.0.0.1&port=%d", url, strchr(url, '?') ? "&" : "?", port) > 0);
    return out;
}

static uint64_t now_ms(void)
{
    return bt_mono_ns() / 1000000u;
}

/* A server that is not there: 503 at once, when the pool opens and on a reconnect. */
static void test_pg_refused(void **state)
{
    struct fix *f = *state;
    struct bt_dbpool *pool = (struct bt_dbpool *)state; /* must be reset to NULL */
    struct bt_err err;
    uint64_t t0;
    int fd, port;
    char *url;

    if (!is_pg())
        skip();
    port = refusing_port(&fd);
    url = url_via(f->db.url, port);
    t0 = now_ms();
    assert_int_equal(bt_dbpool_open(url, 2, &pool, &err), BT_EUNAVAILABLE);
    assert_null(pool);
    assert_non_null(strstr(err.msg, "cannot connect"));
    assert_true(now_ms() - t0 < 2000);
    close(fd);
    free(url);
}

/* A proxy between the pool and the test server that can go silent: it then drops the
 * connections it carries and accepts new ones without ever answering, as a server host that
 * hangs would. One thread, poll(2) over everything. */
struct proxy {
    int lfd, port, wake[2], ack[2];
    struct sockaddr_in up; /* the test server */
    atomic_bool silent;
    pthread_t th;
    int fds[64]; /* pairs: fds[2i] the client, fds[2i+1] the server; or held (silent): -1 */
    int nfds;
};

static void proxy_drop_all(struct proxy *x)
{
    for (int i = 0; i < x->nfds; i++)
        if (x->fds[i] >= 0)
            close(x->fds[i]);
    x->nfds = 0;
}

static void *proxy_run(void *arg)
{
    struct proxy *x = arg;

    for (;;) {
        struct pollfd pf[66];
        int n = 0;
        char buf[16384];

        pf[n++] = (struct pollfd){.fd = x->wake[0], .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = x->lfd, .events = POLLIN};
        for (int i = 0; i < x->nfds; i++) /* held connections are never read */
            pf[n++] = (struct pollfd){.fd = x->fds[i], .events = x->fds[i ^ 1] >= 0 ? POLLIN : 0};
        if (poll(pf, (nfds_t)n, -1) < 0)
            continue;
        if (pf[0].revents) {
            char c = 0;
            if (read(x->wake[0], &c, 1) != 1 || c == 'q') {
                proxy_drop_all(x);
                return NULL;
            }
            proxy_drop_all(x); /* 's': silent from now on; the connections are closed */
            if (write(x->ack[1], "k", 1) != 1)
                return NULL;
            continue;
        }
        if ((pf[1].revents & POLLIN) && x->nfds + 2 <= 64) {
            int c = accept4(x->lfd, NULL, NULL, SOCK_CLOEXEC);
            int s = -1;
            if (c >= 0 && !atomic_load(&x->silent)) {
                s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (connect(s, (struct sockaddr *)&x->up, sizeof(x->up)) != 0) {
                    close(s);
                    close(c);
                    continue;
                }
            }
            if (c >= 0) {
                x->fds[x->nfds++] = c;
                x->fds[x->nfds++] = s;
            }
        }
        for (int i = 2; i < n; i++) {
            int k = i - 2;
            ssize_t got;
            if (x->fds[k] < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            got = read(x->fds[k], buf, sizeof(buf));
            if (got <= 0 || write(x->fds[k ^ 1], buf, (size_t)got) != got) {
                /* one side closed: close the pair (compacted by the next drop) */
                close(x->fds[k]);
                close(x->fds[k ^ 1]);
                x->fds[k] = x->fds[k ^ 1] = -2;
            }
        }
        /* compact closed pairs */
        for (int i = 0; i < x->nfds;) {
            if (x->fds[i] == -2) {
                x->fds[i] = x->fds[x->nfds - 2];
                x->fds[i + 1] = x->fds[x->nfds - 1];
                x->nfds -= 2;
            } else {
                i += 2;
            }
        }
    }
}

static struct proxy *proxy_start(const char *dsn)
{
    struct proxy *x = calloc(1, sizeof(*x));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    PQconninfoOption *opts = PQconninfoParse(dsn, NULL);

    assert_non_null(x);
    assert_non_null(opts);
    x->up.sin_family = AF_INET;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!strcmp(o->keyword, "host") && o->val)
            assert_int_equal(inet_pton(AF_INET, o->val, &x->up.sin_addr), 1);
        if (!strcmp(o->keyword, "port") && o->val)
            x->up.sin_port = htons((uint16_t)atoi(o->val));
    }
    PQconninfoFree(opts);
    if (!x->up.sin_port)
        x->up.sin_port = htons(5432);
    x->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(bind(x->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(x->lfd, 16), 0);
    assert_int_equal(getsockname(x->lfd, (struct sockaddr *)&sa, &sl), 0);
    x->port = ntohs(sa.sin_port);
    assert_int_equal(pipe(x->wake), 0);
    assert_int_equal(pipe(x->ack), 0);
    assert_int_equal(pthread_create(&x->th, NULL, proxy_run, x), 0);
    return x;
}

/* Returns once the proxy dropped what it carried (silent) or takes new connections to the
 * server again. */
static void proxy_silent(struct proxy *x, bool on)
{
    char c;

    atomic_store(&x->silent, on);
    if (on) {
        assert_int_equal(write(x->wake[1], "s", 1), 1);
        assert_int_equal(read(x->ack[0], &c, 1), 1);
    }
}

static void proxy_stop(struct proxy *x)
{
    assert_int_equal(write(x->wake[1], "q", 1), 1);
    pthread_join(x->th, NULL);
    close(x->lfd);
    close(x->wake[0]);
    close(x->wake[1]);
    close(x->ack[0]);
    close(x->ack[1]);
    free(x);
}

/* A server that accepts and never answers: the reconnect gives up after what is left of the
 * pool's wait (libpq's connect_timeout, at least 2 s) with 503, not after TCP's minutes;
 * once the server answers again, the next check-out works. */
static void test_pg_silent_server(void **state)
{
    struct fix *f = *state;
    struct proxy *x;
    struct bt_dbpool *pool;
    struct bt_err err;
    struct bt_db *db;
    uint64_t t0, took;
    char *url;

    if (!is_pg())
        skip();
    x = proxy_start(getenv("BENTO_TEST_PG_DSN"));
    url = url_via(f->db.url, x->port);
    assert_int_equal(bt_dbpool_open(url, 1, &pool, &err), BT_OK);
    db = get(pool);
    script(db, "CREATE TABLE t (v BIGINT NOT NULL)");
    bt_dbpool_put(pool, db);

    proxy_silent(x, true);
    t0 = now_ms();
    db = bt_dbpool_get(pool, 2000, &err);
    took = now_ms() - t0;
    assert_null(db);
    assert_int_equal(err.code, BT_EUNAVAILABLE);
    if (took > 3500)
        fail_msg("the reconnect took %llu ms (pool wait 2000 ms)", (unsigned long long)took);

    proxy_silent(x, false);
    db = get(pool);
    assert_int_equal(insert(db, 1, &err), BT_OK);
    assert_int_equal(count(db), 1);
    bt_dbpool_put(pool, db);
    bt_dbpool_free(pool);
    proxy_stop(x);
    free(url);
}

/* A server that refuses writes (a standby after a failover, SQLSTATE 25006): 503, and the
 * connection is replaced, so the next check-out can reach a server that takes writes. */
static void test_pg_read_only_session(void **state)
{
    struct fix *f = *state;
    struct bt_err err;
    struct bt_db *db;

    if (!is_pg())
        skip();
    db = get(f->pool);
    script(db, "CREATE TABLE t (v BIGINT NOT NULL); CREATE TEMP TABLE temp_marker (x BIGINT)");
    script(db, "SET default_transaction_read_only = on");
    assert_int_equal(insert(db, 1, &err), BT_EUNAVAILABLE);
    bt_dbpool_put(f->pool, db);

    db = get(f->pool);
    assert_true(fresh(db));
    assert_int_equal(insert(db, 2, &err), BT_OK);
    assert_int_equal(count(db), 1);
    bt_dbpool_put(f->pool, db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sqlite_disk_full, sqlite_setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_io_error, sqlite_setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_read_only, sqlite_setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlite_cannot_open, sqlite_setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_silent_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_read_only_session, setup, teardown),
    };

    bt_test_engine();
    faulty_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
