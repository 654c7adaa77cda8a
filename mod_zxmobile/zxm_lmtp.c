/* mod_zxmobile - the LMTP listener (RFC 2033): a protocol handler, as httpd's mod_echo, that
 * takes the connections of a virtual host with `ZxMobileLMTP On` (its own Listen, e.g.
 * `Listen 127.0.0.1:2424 lmtp`) and runs libzxsync's LMTP engine (zxsync/lmtp.h) on them.
 *
 * It shares the module's database pool, configuration, log, graceful restarts and worker
 * threads: a connection holds one worker thread while it lasts, a pooled database connection
 * only while a command works (zx_lmtp_idle gives it back before every wait for input).
 * Lines are read through the connection's input filters (AP_MODE_GETLINE); the answers are
 * written out when no more input is waiting (RFC 2920: a pipelined group gets its answers
 * at once).  Waits are bounded by the virtual host's Timeout; a timeout or a stopping child
 * between transactions answers 421.  A delivery wakes the device's waiting Ping through the
 * store's NOTIFY at commit, as `zxsuite mailbox deliver` does. */
#include "zxm_config.h"
#include "zxm_lmtp.h"

#include <ap_mpm.h>
#include <mpm_common.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <http_connection.h>
#include <http_core.h>
#include <http_log.h>
#include <scoreboard.h>
#include <util_filter.h>
#include <zxsync/dbpool.h>
#include <zxsync/lmtp.h>
#include <zxsync/log.h>

APLOG_USE_MODULE(zxmobile);

/* The child's sessions, for its shutdown: a session waiting for its MTA between transactions
 * is told 421 at once (its socket's reading side is shut, the blocked read returns) instead
 * of holding the stopping child until the MTA or Timeout ends it. */
typedef struct lmtp_conn {
    conn_rec *c;
    zx_dbpool *dbpool;
    apr_socket_t *csd;
    struct lmtp_conn *prev, *next;
    int waiting;                /* blocked reading, between transactions */
    int stopping;               /* the child stops: end the session at the next chance */
} lmtp_conn;

static apr_thread_mutex_t *sessions_mu;
static lmtp_conn *sessions;
static int child_stopping;

static void session_add(lmtp_conn *lc)
{
    if (!sessions_mu)
        return;
    apr_thread_mutex_lock(sessions_mu);
    lc->next = sessions;
    if (sessions)
        sessions->prev = lc;
    sessions = lc;
    lc->stopping = child_stopping;
    apr_thread_mutex_unlock(sessions_mu);
}

static void session_remove(lmtp_conn *lc)
{
    if (!sessions_mu)
        return;
    apr_thread_mutex_lock(sessions_mu);
    if (lc->prev)
        lc->prev->next = lc->next;
    else if (sessions == lc)
        sessions = lc->next;
    if (lc->next)
        lc->next->prev = lc->prev;
    lc->prev = lc->next = NULL;
    apr_thread_mutex_unlock(sessions_mu);
}

/* Mark the session waiting (1) or working (0); 0 when it is to stop instead of waiting. */
static int session_wait(lmtp_conn *lc, int waiting)
{
    int go = 1;
    if (sessions_mu)
        apr_thread_mutex_lock(sessions_mu);
    if (waiting && lc->stopping)
        go = 0;
    else
        lc->waiting = waiting;
    if (sessions_mu)
        apr_thread_mutex_unlock(sessions_mu);
    return go;
}

static int session_stopping(lmtp_conn *lc)
{
    if (sessions_mu)
        apr_thread_mutex_lock(sessions_mu);
    int stop = lc->stopping;
    if (sessions_mu)
        apr_thread_mutex_unlock(sessions_mu);
    return stop;
}

static void zxm_lmtp_child_stopping(apr_pool_t *pchild, int graceful)
{
    if (!sessions_mu)
        return;
    apr_thread_mutex_lock(sessions_mu);
    child_stopping = 1;
    for (lmtp_conn *lc = sessions; lc; lc = lc->next) {
        lc->stopping = 1;
        if (lc->waiting && lc->csd)
            apr_socket_shutdown(lc->csd, APR_SHUTDOWN_READ);
    }
    apr_thread_mutex_unlock(sessions_mu);
}

/* The memory of the sessions (the deliveries' MIME parsing, statements, answers) comes from
 * one allocator per child that keeps up to LMTP_MEM_FREE of freed memory for the next
 * message, not from the connection's thread allocator: with the small MaxMemFree of the
 * configuration we ship, that one gives the memory of every message back to the system
 * (munmap, a TLB shootdown across the child's threads each: measured, a quarter of the
 * listener's CPU).  As mod_zxmobile.c does for the requests. */
#define LMTP_MEM_FREE (8u * 1024 * 1024)
static apr_allocator_t *lmtp_allocator;

static apr_status_t lmtp_allocator_free(void *unused)
{
    if (lmtp_allocator)
        apr_allocator_destroy(lmtp_allocator);
    lmtp_allocator = NULL;
    return APR_SUCCESS;
}

static void zxm_lmtp_child_init(apr_pool_t *pchild, server_rec *s)
{
    int any = 0;
    for (server_rec *vs = s; vs; vs = vs->next)
        if (zxm_get_srv_conf(vs)->lmtp == 1)
            any = 1;
    apr_thread_mutex_t *mu = NULL;
    if (!any)
        return;
    if (apr_thread_mutex_create(&sessions_mu, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS)
        sessions_mu = NULL;         /* then a stopping child waits for its sessions' end */
    if (apr_allocator_create(&lmtp_allocator) != APR_SUCCESS ||
        apr_thread_mutex_create(&mu, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS) {
        if (lmtp_allocator)
            apr_allocator_destroy(lmtp_allocator);
        lmtp_allocator = NULL;
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, ZXLOGNO(03076) "LMTP: cannot create the "
                     "sessions' shared allocator: sessions use their thread's");
        return;
    }
    apr_allocator_mutex_set(lmtp_allocator, mu);
    apr_allocator_max_free_set(lmtp_allocator, LMTP_MEM_FREE);
    apr_pool_cleanup_register(pchild, NULL, lmtp_allocator_free, apr_pool_cleanup_null);
}

static zx_db *lmtp_acquire(void *baton, apr_pool_t *p, const char **err)
{
    lmtp_conn *lc = baton;
    if (!lc->dbpool) {
        *err = "no database (ZxMobileDatabase) for this virtual host";
        return NULL;
    }
    return zx_dbpool_acquire(lc->dbpool, p, err);
}

static void lmtp_release(void *baton, apr_pool_t *p, zx_db *db)
{
    zx_dbpool_release(p, db);
}

static void lmtp_log(void *baton, zx_log_level level, const char *msg)
{
    lmtp_conn *lc = baton;
    /* the engine's lines carry their ZXLOGNO tag */
    ap_log_cerror_(APLOG_MARK, (int)level, 0, lc->c, "%s", msg);
}

/* Write the answers queued by the engine and flush them. */
static apr_status_t lmtp_flush(conn_rec *c, apr_bucket_brigade *ob, zx_lmtp *s)
{
    apr_size_t len;
    const char *out = zx_lmtp_output(s, &len);
    if (!out)
        return APR_SUCCESS;
    apr_status_t rv = ap_fwrite(c->output_filters, ob, out, len);
    zx_lmtp_output_done(s);
    if (rv == APR_SUCCESS)
        rv = ap_fflush(c->output_filters, ob);     /* a FLUSH bucket, the brigade passed */
    apr_brigade_cleanup(ob);
    return rv;
}

static int mpm_stopping(void)
{
    int state = 0;
    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS &&
           state == AP_MPMQ_STOPPING;
}

/* Feed what the brigade holds (a line, or a part of a long one) to the engine; lp is cleared
 * for each.  The bytes are copied out (apr_brigade_pflatten) rather than read bucket by
 * bucket: APR's ring macros do not build with clang's -Werror. */
static apr_status_t lmtp_feed(zx_lmtp *s, apr_bucket_brigade *bb, apr_pool_t *lp)
{
    char *data;
    apr_size_t len;
    apr_pool_clear(lp);
    apr_status_t rv = apr_brigade_pflatten(bb, &data, &len, lp);
    if (rv == APR_SUCCESS && len)
        zx_lmtp_feed(s, data, len);
    return rv;
}

static void stop_session(conn_rec *c, zx_lmtp *s)
{
    zx_lmtp_abort(s, "4.3.2", "Service shutting down");
    ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, c, ZXLOGNO(03071) "LMTP: %s: closed by the "
                  "child's shutdown", c->client_ip);
}

/* Bytes in the brigade (0 also when it holds only metadata such as EOS). */
static apr_off_t brigade_bytes(apr_bucket_brigade *bb)
{
    apr_off_t n = 0;
    return apr_brigade_length(bb, 1, &n) == APR_SUCCESS ? n : 0;
}

static int zxm_lmtp_process_connection(conn_rec *c)
{
    zxm_srv_conf *conf = zxm_get_srv_conf(c->base_server);
    if (conf->lmtp != 1 || c->master)
        return DECLINED;

    /* mod_reqtimeout bounds the reading of HTTP requests: not ours (Timeout bounds waits) */
    ap_remove_input_filter_byhandle(c->input_filters, "reqtimeout");
    apr_socket_t *csd = ap_get_conn_socket(c);
    if (csd)
        apr_socket_timeout_set(csd, c->base_server->timeout);
    ap_update_child_status_from_conn(c->sbh, SERVER_BUSY_READ, c);

    apr_pool_t *sp;
    if (!lmtp_allocator || apr_pool_create_ex(&sp, c->pool, NULL, lmtp_allocator) != APR_SUCCESS)
        apr_pool_create(&sp, c->pool);
    apr_pool_tag(sp, "zxmobile-lmtp");
    lmtp_conn lc = {c, conf->server.dbpool, csd, NULL, NULL, 0, 0};
    session_add(&lc);
    zx_lmtp_settings set = {
        c->base_server->server_hostname ? c->base_server->server_hostname : "localhost",
        conf->lmtp_max_size > 0 ? (apr_size_t)conf->lmtp_max_size : ZXM_DEFAULT_LMTP_MAX_SIZE,
        0, conf->server.settings.transport};
    zx_lmtp_ops ops = {lmtp_acquire, lmtp_release, NULL, NULL, lmtp_log, &lc};
    zx_lmtp *s = zx_lmtp_create(sp, &set, &ops);
    apr_pool_t *lp;                 /* the line being fed */
    apr_pool_create(&lp, sp);
    apr_bucket_brigade *bb = apr_brigade_create(sp, c->bucket_alloc);
    apr_bucket_brigade *ob = apr_brigade_create(sp, c->bucket_alloc);
    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, ZXLOGNO(03070) "LMTP: connection from %s",
                  c->client_ip);
    zx_lmtp_greet(s);

    apr_status_t rv = APR_SUCCESS;
    while (!zx_lmtp_closed(s)) {
        /* what the client sent already (pipelined) is read before anything is written */
        rv = ap_get_brigade(c->input_filters, bb, AP_MODE_GETLINE, APR_NONBLOCK_READ, 0);
        if (APR_STATUS_IS_EAGAIN(rv) || (rv == APR_SUCCESS && brigade_bytes(bb) == 0)) {
            apr_brigade_cleanup(bb);
            if ((rv = lmtp_flush(c, ob, s)) != APR_SUCCESS)
                break;
            zx_lmtp_idle(s);        /* no database connection held while waiting */
            int between = !zx_lmtp_in_transaction(s);
            if (between && (mpm_stopping() || !session_wait(&lc, 1))) {
                stop_session(c, s);
                break;
            }
            ap_update_child_status_from_conn(c->sbh, SERVER_BUSY_KEEPALIVE, c);
            rv = ap_get_brigade(c->input_filters, bb, AP_MODE_GETLINE, APR_BLOCK_READ, 0);
            ap_update_child_status_from_conn(c->sbh, SERVER_BUSY_READ, c);
            if (between)
                session_wait(&lc, 0);
            if (rv == APR_SUCCESS && brigade_bytes(bb) == 0)
                rv = APR_EOF;
            if (between && rv != APR_SUCCESS && session_stopping(&lc)) {
                stop_session(c, s);     /* the read was ended by the child's shutdown */
                break;
            }
        }
        if (rv != APR_SUCCESS) {
            if (APR_STATUS_IS_TIMEUP(rv)) {
                zx_lmtp_abort(s, "4.4.2", "Error: timeout exceeded");
                ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, c, ZXLOGNO(03072) "LMTP: %s: no input "
                              "for %" APR_TIME_T_FMT " s (Timeout): closed%s", c->client_ip,
                              apr_time_sec(c->base_server->timeout),
                              zx_lmtp_in_transaction(s) ? " inside a transaction" : "");
            }
            else if (!APR_STATUS_IS_EOF(rv)) {
                ap_log_cerror(APLOG_MARK, APLOG_INFO, rv, c, ZXLOGNO(03073) "LMTP: %s: read "
                              "failed", c->client_ip);
            }
            break;
        }
        rv = lmtp_feed(s, bb, lp);
        apr_brigade_cleanup(bb);
        if (rv != APR_SUCCESS) {
            ap_log_cerror(APLOG_MARK, APLOG_INFO, rv, c, ZXLOGNO(03077) "LMTP: %s: read "
                          "failed", c->client_ip);
            break;
        }
    }
    lmtp_flush(c, ob, s);
    const zx_lmtp_stats *st = zx_lmtp_stats_get(s);
    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, ZXLOGNO(03074) "LMTP: %s: connection ends: %lu "
                  "messages, %lu recipients delivered, %lu deferred, %lu rejected",
                  c->client_ip, st->transactions, st->delivered, st->deferred, st->rejected);
    session_remove(&lc);
    apr_pool_destroy(sp);          /* gives back a database connection still lent */
    if (c->cs)
        c->cs->state = CONN_STATE_LINGER;
    return OK;
}

void zxm_lmtp_register_hooks(apr_pool_t *p)
{
    ap_hook_child_init(zxm_lmtp_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_stopping(zxm_lmtp_child_stopping, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_process_connection(zxm_lmtp_process_connection, NULL, NULL, APR_HOOK_MIDDLE);
}
