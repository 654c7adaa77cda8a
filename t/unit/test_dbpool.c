/* zxmobile - unit tests of a database restart as the connection pool and zx_db see it
 * (libzxsync/core/dbpool.c, db.c): dead idle connections are dropped before a request gets
 * one, a statement that meets a lost session runs again on a new one outside a transaction
 * and never inside one.
 *
 * The server is a fake PostgreSQL in a thread of this program, on a Unix socket: it speaks
 * the startup and extended-query messages of the protocol (v3) that libpq sends, answers every
 * statement with no rows, and on request "restarts": it sends each session the FATAL 57P01
 * (admin shutdown) a fast shutdown sends and closes it, as PostgreSQL does.  Check, TAP. */
#include <zxsync/db.h>
#include <zxsync/dbpool.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <arpa/inet.h>
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tap_run.h"

/* ---- the fake server ----------------------------------------------------------------------- */

#define MAX_CLIENTS 16

typedef struct {
    int fd;                 /* -1: free */
    int started;            /* startup packet seen */
    char tx;                /* 'I' idle, 'T' in a transaction */
    char buf[8192];
    size_t len;
    char stmt_query[8][128];   /* statement name "zxN" -> its text (N < 8); [0]: unnamed */
    char portal_query[128];
} client;

typedef struct {
    char dir[64];
    char conninfo[160];
    int lfd;
    int cmd[2];             /* test -> server: 'k' kill every session, 'q' quit */
    int done[2];            /* server -> test: one byte when a command is done */
    client c[MAX_CLIENTS];
    /* written by the server thread, read by the test after a command's done byte or after
     * a statement's answer (the reply is written after the count) */
    volatile int accepted, executed;
    apr_thread_t *thread;
} fake_pg;

static void put_msg(int fd, char type, const void *body, size_t n)
{
    char out[512];
    uint32_t len = htonl((uint32_t)(n + 4));
    out[0] = type;
    memcpy(out + 1, &len, 4);
    memcpy(out + 5, body, n);
    ssize_t w = send(fd, out, n + 5, MSG_NOSIGNAL);
    (void)w;
}

static void put_param(int fd, const char *name, const char *value)
{
    char body[128];
    size_t a = strlen(name) + 1, b = strlen(value) + 1;
    memcpy(body, name, a);
    memcpy(body + a, value, b);
    put_msg(fd, 'S', body, a + b);
}

static void ready(client *c)
{
    put_msg(c->fd, 'Z', &c->tx, 1);
}

static void drop(client *c)
{
    close(c->fd);
    c->fd = -1;
}

static int stmt_index(const char *name)
{
    if (!*name)
        return 0;
    int n = strncmp(name, "zx", 2) == 0 ? atoi(name + 2) : 0;
    return n > 0 && n < 8 ? n : 0;
}

/* Answer one message of c (type, body of n bytes); 0 when the session ends. */
static int answer(fake_pg *s, client *c, char type, const char *body)
{
    switch (type) {
    case 'P': {                     /* Parse: name, query */
        const char *name = body, *query = body + strlen(body) + 1;
        apr_cpystrn(c->stmt_query[stmt_index(name)], query, sizeof c->stmt_query[0]);
        put_msg(c->fd, '1', "", 0);
        return 1;
    }
    case 'B': {                     /* Bind: portal, statement, ... */
        const char *stmt = body + strlen(body) + 1;
        apr_cpystrn(c->portal_query, c->stmt_query[stmt_index(stmt)], sizeof c->portal_query);
        put_msg(c->fd, '2', "", 0);
        return 1;
    }
    case 'D':                       /* Describe: no rows come */
        put_msg(c->fd, 'n', "", 0);
        return 1;
    case 'E': {                     /* Execute */
        const char *q = c->portal_query, *tag = "SELECT 0";
        if (strncmp(q, "BEGIN", 5) == 0)
            tag = "BEGIN", c->tx = 'T';
        else if (strncmp(q, "COMMIT", 6) == 0)
            tag = "COMMIT", c->tx = 'I';
        else if (strncmp(q, "ROLLBACK", 8) == 0)
            tag = "ROLLBACK", c->tx = 'I';
        s->executed++;
        put_msg(c->fd, 'C', tag, strlen(tag) + 1);
        return 1;
    }
    case 'S':                       /* Sync */
        ready(c);
        return 1;
    case 'C':                       /* Close */
        put_msg(c->fd, '3', "", 0);
        return 1;
    case 'X':                       /* Terminate */
        return 0;
    default:                        /* Flush and the like: nothing to answer */
        return 1;
    }
}

/* Read what c sent and answer every complete message; 0 when the session ended. */
static int serve(fake_pg *s, client *c)
{
    ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
    if (r <= 0)
        return 0;
    c->len += (size_t)r;
    size_t off = 0;
    for (;;) {
        size_t head = c->started ? 5 : 4;
        if (c->len - off < head)
            break;
        uint32_t len;
        memcpy(&len, c->buf + off + head - 4, 4);
        len = ntohl(len);
        if (len < 4 || len > sizeof c->buf)
            return 0;
        if (c->len - off < head - 4 + len)
            break;
        const char *body = c->buf + off + head;
        if (!c->started) {
            uint32_t code;
            memcpy(&code, body, 4);
            code = ntohl(code);
            if (code == 80877103 || code == 80877104) {     /* SSL / GSS encryption: no */
                ssize_t w = send(c->fd, "N", 1, MSG_NOSIGNAL);
                (void)w;
            }
            else {
                static const char auth_ok[4] = {0, 0, 0, 0};
                static const char key[8] = {0, 0, 0, 1, 0, 0, 0, 2};
                c->started = 1;
                put_msg(c->fd, 'R', auth_ok, 4);
                put_param(c->fd, "server_version", "15.0");
                put_param(c->fd, "client_encoding", "UTF8");
                put_param(c->fd, "standard_conforming_strings", "on");
                put_param(c->fd, "integer_datetimes", "on");
                put_msg(c->fd, 'K', key, 8);
                ready(c);
            }
        }
        else if (!answer(s, c, c->buf[off], body)) {
            return 0;
        }
        off += head - 4 + len;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    return 1;
}

/* What a fast shutdown does to every session: FATAL 57P01, then the socket closes. */
static void kill_all(fake_pg *s)
{
    static const char fatal[] = "SFATAL\0VFATAL\0C57P01\0"
                                "Mterminating connection due to administrator command\0";
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (s->c[i].fd >= 0) {
            put_msg(s->c[i].fd, 'E', fatal, sizeof fatal);     /* with the final NUL */
            drop(&s->c[i]);
        }
}

static void *APR_THREAD_FUNC server_thread(apr_thread_t *t, void *data)
{
    fake_pg *s = data;
    for (;;) {
        struct pollfd pfd[MAX_CLIENTS + 2];
        int map[MAX_CLIENTS + 2], n = 0;
        pfd[n] = (struct pollfd){s->cmd[0], POLLIN, 0}, map[n++] = -1;
        pfd[n] = (struct pollfd){s->lfd, POLLIN, 0}, map[n++] = -2;
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (s->c[i].fd >= 0)
                pfd[n] = (struct pollfd){s->c[i].fd, POLLIN, 0}, map[n++] = i;
        if (poll(pfd, (nfds_t)n, -1) < 0)
            continue;
        if (pfd[0].revents) {
            char cmd = 'q';
            ssize_t r = read(s->cmd[0], &cmd, 1);
            if (r <= 0 || cmd == 'q')
                break;
            if (cmd == 'k')
                kill_all(s);
            ssize_t w = write(s->done[1], "d", 1);
            (void)w;
            continue;           /* the client fds above may be closed now */
        }
        if (pfd[1].revents) {
            int fd = accept(s->lfd, NULL, NULL);
            for (int i = 0; fd >= 0 && i < MAX_CLIENTS; i++)
                if (s->c[i].fd < 0) {
                    memset(&s->c[i], 0, sizeof s->c[i]);
                    s->c[i].fd = fd;
                    s->c[i].tx = 'I';
                    s->accepted++;
                    fd = -1;
                }
            if (fd >= 0)
                close(fd);
        }
        for (int k = 2; k < n; k++)
            if (pfd[k].revents && s->c[map[k]].fd >= 0 && !serve(s, &s->c[map[k]]))
                drop(&s->c[map[k]]);
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (s->c[i].fd >= 0)
            drop(&s->c[i]);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static fake_pg *fake_start(apr_pool_t *p)
{
    fake_pg *s = apr_pcalloc(p, sizeof *s);
    strcpy(s->dir, "/tmp/zxfakepg.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s->dir));
    snprintf(s->conninfo, sizeof s->conninfo,
             "host=%s port=5432 dbname=zx user=zx connect_timeout=5", s->dir);
    for (int i = 0; i < MAX_CLIENTS; i++)
        s->c[i].fd = -1;
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s/.s.PGSQL.5432", s->dir);
    s->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(s->lfd, 0);
    ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(s->lfd, 16), 0);
    ck_assert_int_eq(pipe(s->cmd), 0);
    ck_assert_int_eq(pipe(s->done), 0);
    ck_assert_int_eq(apr_thread_create(&s->thread, NULL, server_thread, s, p), APR_SUCCESS);
    return s;
}

/* A fast restart: every session gets its FATAL and is closed; the server accepts new ones. */
static void fake_restart(fake_pg *s)
{
    char d;
    ck_assert_int_eq(write(s->cmd[1], "k", 1), 1);
    ck_assert_int_eq(read(s->done[0], &d, 1), 1);
}

static void fake_stop(fake_pg *s)
{
    apr_status_t rv;
    ck_assert_int_eq(write(s->cmd[1], "q", 1), 1);
    apr_thread_join(&rv, s->thread);
    close(s->lfd);
    close(s->cmd[0]), close(s->cmd[1]), close(s->done[0]), close(s->done[1]);
    char path[128];
    snprintf(path, sizeof path, "%s/.s.PGSQL.5432", s->dir);
    unlink(path);
    rmdir(s->dir);
}

/* ---- tests --------------------------------------------------------------------------------- */

static apr_pool_t *g_pool;
static fake_pg *g_pg;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&g_pool, NULL), APR_SUCCESS);
    g_pg = fake_start(g_pool);
}

static void teardown(void)
{
    fake_stop(g_pg);
    apr_pool_destroy(g_pool);
    g_pool = NULL;
}

static const char *const one[] = {"1"};

/* a statement with a parameter (prepared on first use) and one without */
static int select_one(zx_db *db, const char **err)
{
    return zx_db_run(db, "SELECT $1::int", 1, one, err);
}

START_TEST(the_fake_server_answers)
{
    const char *err = NULL;
    zx_db *db = zx_db_connect(g_pool, g_pg->conninfo, &err);
    ck_assert_msg(db != NULL, "connect: %s", err ? err : "?");
    ck_assert_msg(select_one(db, &err) == 0, "%s", err);
    int own;
    ck_assert_int_eq(zx_db_tx_begin(db, &own, &err), 0);
    ck_assert_int_eq(own, 1);
    ck_assert_int_eq(PQtransactionStatus(zx_db_conn(db)), PQTRANS_INTRANS);
    ck_assert_int_eq(zx_db_tx_end(db, own, 0, &err), 0);
    ck_assert_int_eq(PQtransactionStatus(zx_db_conn(db)), PQTRANS_IDLE);
    ck_assert_int_eq(g_pg->executed, 3);
    ck_assert_int_eq(zx_db_alive(db), 1);
}
END_TEST

START_TEST(a_closed_session_is_seen_without_a_round_trip)
{
    const char *err = NULL;
    zx_db *db = zx_db_connect(g_pool, g_pg->conninfo, &err);
    ck_assert_ptr_nonnull(db);
    ck_assert_int_eq(zx_db_alive(db), 1);
    ck_assert_int_eq(zx_db_alive(db), 1);       /* nothing pending: still alive */
    fake_restart(g_pg);
    ck_assert_int_eq(zx_db_alive(db), 0);
    ck_assert_int_eq(PQstatus(zx_db_conn(db)), CONNECTION_BAD);
    ck_assert_int_eq(g_pg->executed, 0);
}
END_TEST

START_TEST(a_statement_outside_a_transaction_runs_again_on_a_new_session)
{
    const char *err = NULL;
    zx_db *db = zx_db_connect(g_pool, g_pg->conninfo, &err);
    ck_assert_ptr_nonnull(db);
    zx_db_set_reconnect(db, 1);
    ck_assert_int_eq(select_one(db, &err), 0);          /* prepared on the first session */
    fake_restart(g_pg);
    ck_assert_msg(select_one(db, &err) == 0, "after the restart: %s", err);
    ck_assert_int_eq(g_pg->accepted, 2);
    ck_assert_int_eq(g_pg->executed, 2);                /* prepared again on the new session */
    ck_assert_int_eq(zx_db_run(db, "BEGIN", 0, NULL, &err), 0);   /* without parameters */
    ck_assert_int_eq(zx_db_run(db, "ROLLBACK", 0, NULL, &err), 0);
    fake_restart(g_pg);
    int own;
    ck_assert_msg(zx_db_tx_begin(db, &own, &err) == 0, "BEGIN after the restart: %s", err);
    ck_assert_int_eq(own, 1);
    ck_assert_int_eq(zx_db_tx_end(db, own, select_one(db, &err), &err), 0);
    ck_assert_int_eq(g_pg->accepted, 3);
}
END_TEST

START_TEST(a_statement_inside_a_transaction_is_not_run_again)
{
    const char *err = NULL;
    zx_db *db = zx_db_connect(g_pool, g_pg->conninfo, &err);
    ck_assert_ptr_nonnull(db);
    zx_db_set_reconnect(db, 1);
    int own;
    ck_assert_int_eq(zx_db_tx_begin(db, &own, &err), 0);
    ck_assert_int_eq(select_one(db, &err), 0);
    fake_restart(g_pg);
    int rc = select_one(db, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(zx_db_tx_end(db, own, rc, &err), -1);
    /* nothing ran on a new session: no reconnect, the rest of the request fails */
    ck_assert_int_eq(g_pg->accepted, 1);
    ck_assert_int_eq(g_pg->executed, 2);
    ck_assert_int_eq(select_one(db, &err), -1);
    ck_assert_int_eq(g_pg->accepted, 1);
}
END_TEST

START_TEST(without_reconnect_a_lost_session_is_an_error)
{
    const char *err = NULL;
    zx_db *db = zx_db_connect(g_pool, g_pg->conninfo, &err);   /* as the CLI's */
    ck_assert_ptr_nonnull(db);
    fake_restart(g_pg);
    ck_assert_int_eq(select_one(db, &err), -1);
    ck_assert_int_eq(g_pg->accepted, 1);
}
END_TEST

START_TEST(the_pool_drops_every_dead_idle_connection)
{
    const char *err = NULL;
    zx_dbpool *dp = zx_dbpool_create(g_pool, g_pg->conninfo, 4, 1000);
    ck_assert_ptr_nonnull(dp);
    apr_pool_t *req[3];
    for (int i = 0; i < 3; i++) {           /* three at once: three connections */
        apr_pool_create(&req[i], g_pool);
        zx_db *db = zx_dbpool_acquire(dp, req[i], &err);
        ck_assert_msg(db != NULL, "acquire: %s", err ? err : "?");
        ck_assert_int_eq(select_one(db, &err), 0);
    }
    for (int i = 0; i < 3; i++)
        apr_pool_destroy(req[i]);           /* back to the pool, idle */
    zx_dbpool_stats st;
    zx_dbpool_stats_get(dp, &st);
    ck_assert_uint_eq(st.idle, 3);
    ck_assert_uint_eq(st.connects, 3);

    fake_restart(g_pg);
    apr_pool_t *r;
    apr_pool_create(&r, g_pool);
    zx_db *db = zx_dbpool_acquire(dp, r, &err);
    ck_assert_msg(db != NULL, "acquire after the restart: %s", err ? err : "?");
    zx_dbpool_stats_get(dp, &st);
    ck_assert_uint_eq(st.dead, 3);          /* all three seen at once */
    ck_assert_uint_eq(st.idle, 0);
    ck_assert_uint_eq(st.open, 1);
    ck_assert_uint_eq(st.connects, 4);
    int executed = g_pg->executed;
    ck_assert_msg(select_one(db, &err) == 0, "%s", err);
    ck_assert_int_eq(g_pg->executed, executed + 1);     /* once: no session was lost */
    ck_assert_int_eq(g_pg->accepted, 4);
    apr_pool_destroy(r);
    zx_dbpool_stats_get(dp, &st);
    ck_assert_uint_eq(st.idle, 1);
}
END_TEST

START_TEST(a_database_that_stays_down_is_an_error_at_once)
{
    const char *err = NULL;
    zx_db *db = zx_db_connect(g_pool, g_pg->conninfo, &err);
    ck_assert_ptr_nonnull(db);
    zx_db_set_reconnect(db, 1);
    char path[128];
    snprintf(path, sizeof path, "%s/.s.PGSQL.5432", g_pg->dir);
    ck_assert_int_eq(unlink(path), 0);      /* nobody can connect any more */
    fake_restart(g_pg);
    ck_assert_int_eq(select_one(db, &err), -1);
    ck_assert_msg(strstr(err, "cannot connect to the database") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "session was lost") != NULL, "%s", err);
    ck_assert_msg(strchr(err, '\n') == NULL, "not one line: %s", err);
}
END_TEST

int main(void)
{
    apr_initialize();
    Suite *s = suite_create("dbpool");
    TCase *tc = tcase_create("restart");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, the_fake_server_answers);
    tcase_add_test(tc, a_closed_session_is_seen_without_a_round_trip);
    tcase_add_test(tc, a_statement_outside_a_transaction_runs_again_on_a_new_session);
    tcase_add_test(tc, a_statement_inside_a_transaction_is_not_run_again);
    tcase_add_test(tc, without_reconnect_a_lost_session_is_an_error);
    tcase_add_test(tc, the_pool_drops_every_dead_idle_connection);
    tcase_add_test(tc, a_database_that_stays_down_is_an_error_at_once);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
