/* mod_zxmobile - Exchange ActiveSync for Apache httpd.
 *
 * The module is glue: it claims the endpoint URL, reads the request into a zx_request,
 * lets libzxsync run the pipeline, and writes the zx_response back.  Library log messages
 * are forwarded to the httpd error log.  The module's own log lines carry the project's
 * ZXLOGNO tags (ZX019nn; never httpd's APLOGNO range; t/unit/check_logtags.py).
 */
#include "zxm_config.h"
#include "zxm_lmtp.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <zxsync/acctlog.h>
#include <zxsync/answer.h>
#include <zxsync/auth.h>
#include <zxsync/autodiscover.h>
#include <zxsync/config.h>
#include <zxsync/dbpool.h>
#include <zxsync/dos.h>
#include <zxsync/easfilter.h>
#include <zxsync/eas.h>
#include <zxsync/log.h>
#include <zxsync/maint.h>
#include <zxsync/notify.h>
#include <zxsync/server.h>
#include <zxsync/transport.h>
#include <apr_portable.h>
#include <malloc.h>
#include <apr_shm.h>
#include <util_mutex.h>
#include <ap_mpm.h>
#include <mpm_common.h>

APLOG_USE_MODULE(zxmobile);

#define ZXM_HANDLER "zxmobile-activesync"
#define ZXM_AD_HANDLER "zxmobile-autodiscover"

/* ---- logging bridge ------------------------------------------------------------------- */

static server_rec *log_server;

static int zxm_log_level(void *baton, void *ctx, zx_log_level level)
{
    request_rec *r = ctx;
    if (r)
        return APLOG_R_MODULE_IS_LEVEL(r, APLOG_MODULE_INDEX, (int)level);
    return APLOG_MODULE_IS_LEVEL(log_server, APLOG_MODULE_INDEX, (int)level);
}

static void zxm_log_print(void *baton, void *ctx, zx_log_level level, const char *file,
                          int line, const char *msg)
{
    request_rec *r = ctx;
    if (r)
        ap_log_rerror_(file, line, APLOG_MODULE_INDEX, (int)level, 0, r, "%s", msg);
    else
        ap_log_error_(file, line, APLOG_MODULE_INDEX, (int)level, 0, log_server, "%s", msg);
}

/* ---- anti-DoS filter: one shared memory region and lock for all children ---------------- */

#define ZXM_DOS_MUTEX "zxmobile-dos"
/* The memory of a request's work (decoding, the store's rows, the answer) comes from one
 * allocator per child that keeps up to ZXM_WORK_MEM_FREE of freed memory for the next request,
 * not from the worker thread's allocator: the configuration we ship holds thousands of waiting
 * threads per child and so keeps MaxMemFree small (32 KB), and a Sync window of contacts with
 * photos or of long mails (a few MB) would then give its memory back to the system page by
 * page at the end of every request (Debian's APR maps allocator memory with mmap: a munmap and
 * a TLB shootdown across the child's threads each; measured, over half of the server's CPU in
 * an initial sync of contacts). */
#define ZXM_WORK_MEM_FREE (8u * 1024 * 1024)
static apr_allocator_t *zxm_work_allocator;

static apr_shm_t *zxm_dos_shm;
static apr_global_mutex_t *zxm_dos_mutex;
static apr_shm_t *zxm_answers_shm;   /* the accounts' generations of the answer caches */

static int zxm_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    return ap_mutex_register(pconf, ZXM_DOS_MUTEX, NULL, APR_LOCK_DEFAULT, 0) == APR_SUCCESS
               ? OK : 500;
}

/* In the parent, before the children fork (post_config): the anti-DoS state must be shared
 * by every child so that the limit holds whichever child serves a request.  Recreated on
 * each (graceful) restart: a restart frees the jails. */
static void zxm_dos_init(apr_pool_t *pconf, server_rec *s)
{
    int any = 0;
    for (server_rec *vs = s; vs; vs = vs->next)
        if (zxm_get_srv_conf(vs)->enabled == 1)
            any = 1;
    zxm_dos_shm = NULL;
    zxm_dos_mutex = NULL;
    if (!any)
        return;
    apr_size_t size = zx_dos_region_size(ZX_DOS_DEFAULT_SLOTS, ZX_DOS_DEFAULT_RING);
    apr_status_t rv = apr_shm_create(&zxm_dos_shm, size, NULL, pconf);
    if (rv == APR_SUCCESS)
        rv = zx_dos_region_init(apr_shm_baseaddr_get(zxm_dos_shm), size, ZX_DOS_DEFAULT_SLOTS,
                                ZX_DOS_DEFAULT_RING) == 0 ? APR_SUCCESS : APR_EINVAL;
    if (rv == APR_SUCCESS)
        rv = ap_global_mutex_create(&zxm_dos_mutex, NULL, ZXM_DOS_MUTEX, NULL, s, pconf, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     ZXLOGNO(01950) "cannot create the anti-DoS filter's shared memory (%"
                     APR_SIZE_T_FMT " bytes) or lock: the filter is off", size);
        zxm_dos_shm = NULL;
        zxm_dos_mutex = NULL;
    }
}

/* In the parent: the answer caches' account generations, shared by every child so that a
 * change a request makes outdates the answers the other children keep before its own answer
 * leaves (zxsync/answer.h).  Without it each child learns of the change from its listener. */
static void zxm_answers_init(apr_pool_t *pconf, server_rec *s)
{
    zxm_answers_shm = NULL;
    int any = 0;
    for (server_rec *vs = s; vs; vs = vs->next)
        if (zxm_get_srv_conf(vs)->enabled == 1)
            any = 1;
    if (!any)
        return;
    apr_size_t size = zx_answer_shared_size();
    apr_status_t rv = apr_shm_create(&zxm_answers_shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     ZXLOGNO(01953) "cannot create the answer cache's shared memory (%"
                     APR_SIZE_T_FMT " bytes): each child learns of changes from its "
                     "notifications only", size);
        zxm_answers_shm = NULL;
        return;
    }
    zx_answer_shared_init(apr_shm_baseaddr_get(zxm_answers_shm));
}

/* ---- hooks ---------------------------------------------------------------------------- */

/* The mail transport of every server that serves ActiveSync, parsed and checked (the sendmail
 * program is there and executable, the SMTP URL valid, the credentials and CA files readable).
 * check_config runs at every start and restart and for `apachectl configtest` (httpd -t),
 * before its "Syntax OK": a wrong transport stops both, with the reason. */
static int zxm_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                            server_rec *s)
{
    int warned = 0;
    for (server_rec *vs = s; vs; vs = vs->next) {
        zxm_srv_conf *c = zxm_get_srv_conf(vs);
        const char *err = zxm_transport_setup(pconf, c);
        if (c->enabled != 1)
            continue;
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, vs,
                         ZXLOGNO(03010) "%s%s", err,
                         vs->is_virtual && vs->defn_name
                             ? apr_psprintf(ptemp, " (in the virtual host of %s:%d)",
                                            vs->defn_name, vs->defn_line_number)
                             : "");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (!zx_transport_outside(&c->transport) && !warned++)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, vs,
                         ZXLOGNO(03011) "no ZxMobileMailTransport: mail between accounts of "
                         "this server is delivered, mail for anywhere else is refused (set "
                         "ZxMobileMailTransport smtp://your-smarthost:587 or sendmail:...)");
    }
    return OK;
}

static int zxm_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    log_server = s;
    zx_log_set(zxm_log_level, zxm_log_print, NULL);
    for (server_rec *vs = s; vs; vs = vs->next) {
        zxm_srv_conf *c = zxm_get_srv_conf(vs);
        zxm_finalize_srv_conf(c);
        if (c->enabled == 1 && !c->db_conninfo)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, vs,
                         ZXLOGNO(01900) "ZxMobileEnable On without ZxMobileDatabase: "
                         "the endpoint cannot reach its database");
        if (c->lmtp == 1 && !c->db_conninfo)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, vs,
                         ZXLOGNO(03075) "ZxMobileLMTP On without ZxMobileDatabase: every "
                         "recipient is deferred (451)");
    }
    zxm_dos_init(pconf, s);
    zxm_answers_init(pconf, s);
    return OK;
}

/* ---- waiting requests (Ping): one notification hub per database and child ------------- */

static apr_hash_t *zxm_hubs;     /* conninfo -> zx_notify_hub, in the child */
static apr_hash_t *zxm_answers;  /* conninfo -> zx_answer_cache, told by that hub */

static void answers_changed(void *baton, const char *account_id)
{
    zx_answer_cache_changed(baton, account_id);
}

static void answers_connected(void *baton, int up)
{
    zx_answer_cache_connected(baton, up);
}

static void zxm_hub_start(apr_pool_t *pchild, server_rec *s, const char *conninfo)
{
    const char *err = NULL;
    if (!zxm_hubs) {
        zxm_hubs = apr_hash_make(pchild);
        zxm_answers = apr_hash_make(pchild);
    }
    zx_notify_hub *hub = zx_notify_hub_create(pchild, conninfo);
    /* the answer cache lives on the hub's notifications: no hub, no cache */
    zx_answer_cache *answers = hub ? zx_answer_cache_create(pchild, 0) : NULL;
    if (answers && zxm_answers_shm &&
        zx_answer_cache_share(answers, apr_shm_baseaddr_get(zxm_answers_shm)) < 0)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     ZXLOGNO(01954) "the answer cache cannot share its generations: each "
                     "child learns of changes from its notifications only");
    if (answers) {
        zx_notify_observer o = {answers_changed, answers_connected, answers};
        zx_notify_hub_observe(hub, &o);
        apr_hash_set(zxm_answers, conninfo, APR_HASH_KEY_STRING, answers);
    }
    if (!hub || zx_notify_hub_start(hub, &err) < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     ZXLOGNO(01910) "cannot start the notification listener (%s): Ping "
                     "answers without waiting", hub ? err : "no eventfd");
        return;
    }
    apr_hash_set(zxm_hubs, conninfo, APR_HASH_KEY_STRING, hub);
    /* keep some worker threads of this child free for the requests of its connections:
     * waiting requests beyond ThreadsPerChild minus 1/32 (at least 4) end early */
    int threads = 0;
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) == APR_SUCCESS && threads > 8) {
        int reserve = threads / 32 > 4 ? threads / 32 : 4;
        zx_notify_hub_set_max(hub, (unsigned)(threads - reserve));
    }
}

static zx_notify_hub *zxm_hub_for(const char *conninfo)
{
    return zxm_hubs ? apr_hash_get(zxm_hubs, conninfo, APR_HASH_KEY_STRING) : NULL;
}

/* The child stops (graceful restart, or stop): every waiting Ping answers at once, so no
 * child lingers for a whole heartbeat. */
static void zxm_child_stopping(apr_pool_t *pchild, int graceful)
{
    if (!zxm_hubs)
        return;
    for (apr_hash_index_t *hi = apr_hash_first(NULL, zxm_hubs); hi; hi = apr_hash_next(hi)) {
        void *v;
        apr_hash_this(hi, NULL, NULL, &v);
        zx_notify_hub_stop(v);
    }
}

/* The client's socket, for hang-up detection while a request waits (HTTP/1 only: an HTTP/2
 * stream shares its connection). */
static int zxm_client_fd(request_rec *r)
{
    apr_socket_t *sock = r->connection->master ? NULL : ap_get_conn_socket(r->connection);
    apr_os_sock_t fd;
    if (!sock || apr_os_sock_get(&fd, sock) != APR_SUCCESS)
        return -1;
    return (int)fd;
}

static apr_status_t zxm_work_allocator_free(void *unused)
{
    (void)unused;
    if (zxm_work_allocator)
        apr_allocator_destroy(zxm_work_allocator);
    zxm_work_allocator = NULL;
    return APR_SUCCESS;
}

/* After fork: one connection pool per database and one verification cache per child,
 * shared by the virtual hosts. */
static void zxm_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_hash_t *pools = apr_hash_make(pchild), *hash_gates = apr_hash_make(pchild);
    zx_auth_cache *cache = zx_auth_cache_create(pchild, 8192);
    const char *server_name = zx_config_server_name(pchild);
    zx_service_gate *gate = zx_service_gate_create(pchild);
    zx_acctlog_cache *acctlog = zx_acctlog_cache_create(pchild);
    zx_easfilter_cache *easfilters = zx_easfilter_cache_create(pchild);
    zx_dos *dos = NULL;
    if (zxm_dos_mutex) {
        apr_status_t rv = apr_global_mutex_child_init(
            &zxm_dos_mutex, apr_global_mutex_lockfile(zxm_dos_mutex), pchild);
        dos = rv == APR_SUCCESS
                  ? zx_dos_create(pchild, apr_shm_baseaddr_get(zxm_dos_shm), zxm_dos_mutex)
                  : NULL;
        if (!dos)
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                         ZXLOGNO(01951) "cannot attach the anti-DoS filter's lock: the filter "
                         "is off in this child");
    }
    zx_autodiscover_init();
    const char *curl_err = NULL;
    if (zx_transport_global_init(&curl_err) < 0)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     ZXLOGNO(03012) "cannot initialise libcurl (%s): SMTP submission will fail",
                     curl_err);
    /* The rows of a Sync window come from libpq in malloc'd memory (a window of contacts with
     * photos: about 1 MB).  glibc gives the top of a thread's heap back to the system past
     * M_TRIM_THRESHOLD (128 KB), with an madvise and a TLB shootdown across the child's
     * threads - at every such request.  Kept up to ZXM_WORK_MEM_FREE instead. */
#ifdef M_TRIM_THRESHOLD
    mallopt(M_TRIM_THRESHOLD, (int)ZXM_WORK_MEM_FREE);
#endif
    apr_thread_mutex_t *work_mutex = NULL;
    if (apr_allocator_create(&zxm_work_allocator) != APR_SUCCESS ||
        apr_thread_mutex_create(&work_mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, ZXLOGNO(01913) "cannot create the "
                     "requests' shared allocator: requests use their thread's");
        if (zxm_work_allocator)
            apr_allocator_destroy(zxm_work_allocator);
        zxm_work_allocator = NULL;
    }
    else {
        apr_allocator_mutex_set(zxm_work_allocator, work_mutex);
        apr_allocator_max_free_set(zxm_work_allocator, ZXM_WORK_MEM_FREE);
        /* after the requests (their pools are gone when the child's pool goes) */
        apr_pool_cleanup_register(pchild, NULL, zxm_work_allocator_free, apr_pool_cleanup_null);
    }
    if (!cache)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     ZXLOGNO(01906) "cannot create the authentication cache: every request "
                     "will verify its password");
    for (server_rec *vs = s; vs; vs = vs->next) {
        zxm_srv_conf *c = zxm_get_srv_conf(vs);
        if ((c->enabled != 1 && c->lmtp != 1) || !c->db_conninfo)
            continue;       /* the LMTP listener uses the pool too */
        int max = c->db_max_conns > 0 ? c->db_max_conns : ZXM_DEFAULT_DB_MAX_CONNS;
        zx_dbpool *dp = apr_hash_get(pools, c->db_conninfo, APR_HASH_KEY_STRING);
        if (!dp) {
            dp = zx_dbpool_create(pchild, c->db_conninfo, (unsigned)max, 5000);
            apr_hash_set(pools, c->db_conninfo, APR_HASH_KEY_STRING, dp);
            zxm_hub_start(pchild, s, c->db_conninfo);
        }
        c->server.dbpool = dp;
        c->server.notify = zxm_hub_for(c->db_conninfo);
        c->server.answers = c->answer_cache != 0 && zxm_answers
                                ? apr_hash_get(zxm_answers, c->db_conninfo, APR_HASH_KEY_STRING)
                                : NULL;
        c->server.auth_cache = cache;
        /* one bound on password hashing per child, shared by the hosts that set the same */
        int slots = c->auth_hash_slots > 0 ? c->auth_hash_slots : ZXM_DEFAULT_AUTH_HASH_SLOTS;
        int wait = c->auth_hash_wait_ms > 0 ? c->auth_hash_wait_ms : ZXM_DEFAULT_AUTH_HASH_WAIT_MS;
        const char *gk = apr_psprintf(pchild, "%d/%d", slots, wait);
        zx_hash_gate *hg = apr_hash_get(hash_gates, gk, APR_HASH_KEY_STRING);
        if (!hg) {
            hg = zx_hash_gate_create(pchild, (unsigned)slots, (unsigned)wait);
            if (hg)
                apr_hash_set(hash_gates, gk, APR_HASH_KEY_STRING, hg);
        }
        c->server.hash_gate = hg;
        c->server.server_name = server_name;
        c->server.service_gate = gate;
        c->server.acctlog = acctlog;
        c->server.dos = dos;
        c->server.easfilters = easfilters;
    }
    /* the periodic jobs (zxsync/maint.h): one thread per database, with the first virtual
     * host's settings (its ZxMobileSendmail) */
    apr_hash_t *maint = apr_hash_make(pchild);
    for (server_rec *vs = s; vs; vs = vs->next) {
        zxm_srv_conf *c = zxm_get_srv_conf(vs);
        if (c->enabled != 1 || !c->db_conninfo || !c->server.dbpool ||
            apr_hash_get(maint, c->db_conninfo, APR_HASH_KEY_STRING))
            continue;
        const char *err = NULL;
        if (!zx_maint_start(pchild, &c->server, 0, &err))
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                         ZXLOGNO(01912) "%s: ABQ notifications are sent on requests only", err);
        apr_hash_set(maint, c->db_conninfo, APR_HASH_KEY_STRING, c);
    }
}

static int endpoint_matches(const zxm_srv_conf *c, const char *uri)
{
    const char *ep = c->endpoint ? c->endpoint : ZXM_DEFAULT_ENDPOINT;
    size_t n = strlen(ep);
    if (strncasecmp(uri, ep, n) != 0)
        return 0;
    return uri[n] == '\0' || (uri[n] == '/' && uri[n + 1] == '\0');
}

/* Claim the endpoint URL: no file-system mapping, our handler.  Also the Autodiscover URLs
 * (/autodiscover/autodiscover.xml and .json, any case; spec 16). */
static int zxm_translate_name(request_rec *r)
{
    const zxm_srv_conf *c = zxm_get_srv_conf(r->server);
    if (c->enabled == 1 && r->uri && zx_autodiscover_path(r->uri, NULL) != ZX_AD_NONE) {
        r->handler = ZXM_AD_HANDLER;
        r->filename = apr_pstrdup(r->pool, ZXM_AD_HANDLER ":");
        return OK;
    }
    if (c->enabled != 1 || !r->uri || !endpoint_matches(c, r->uri))
        return DECLINED;
    r->handler = ZXM_HANDLER;
    r->filename = apr_pstrdup(r->pool, ZXM_HANDLER ":");
    return OK;
}

static int zxm_map_to_storage(request_rec *r)
{
    if (r->handler && (strcmp(r->handler, ZXM_HANDLER) == 0 ||
                       strcmp(r->handler, ZXM_AD_HANDLER) == 0))
        return OK;   /* nothing on disk to walk */
    return DECLINED;
}

/* Read the whole body, bounded by max.  Returns OK or an HTTP status with *why. */
static int read_body(request_rec *r, apr_size_t max, const unsigned char **body, apr_size_t *len,
                     const char **why)
{
    *body = NULL;
    *len = 0;
    int rv = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rv != OK) {
        *why = "malformed Content-Length or Transfer-Encoding";
        return rv;
    }
    if (!ap_should_client_block(r))
        return OK;
    if (r->remaining > 0 && (apr_uint64_t)r->remaining > (apr_uint64_t)max) {
        *why = apr_psprintf(r->pool, "body of %" APR_OFF_T_FMT " bytes is over the limit of %"
                            APR_SIZE_T_FMT " bytes", r->remaining, max);
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    apr_size_t cap = r->remaining > 0 ? (apr_size_t)r->remaining : 8192;
    unsigned char *buf = apr_palloc(r->pool, cap);
    apr_size_t n = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= max + 1) {
                *why = apr_psprintf(r->pool, "chunked body over the limit of %" APR_SIZE_T_FMT
                                    " bytes", max);
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            apr_size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            unsigned char *nb = apr_palloc(r->pool, ncap);
            memcpy(nb, buf, n);
            buf = nb;
            cap = ncap;
        }
        long got = ap_get_client_block(r, (char *)buf + n, cap - n);
        if (got == 0)
            break;
        if (got < 0) {
            *why = apr_psprintf(r->pool, "read failed after %" APR_SIZE_T_FMT " bytes (client "
                                "gone, malformed chunks, or RequestReadTimeout)", n);
            return r->status >= 400 ? r->status : HTTP_BAD_REQUEST;
        }
        n += (apr_size_t)got;
        if (n > max) {
            *why = apr_psprintf(r->pool, "body over the limit of %" APR_SIZE_T_FMT " bytes", max);
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
    }
    *body = buf;
    *len = n;
    return OK;
}

/* The request's declared body: Content-Length, -1 when chunked (or not a number), 0 none. */
static long long declared_body(request_rec *r)
{
    const char *te = apr_table_get(r->headers_in, "Transfer-Encoding");
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t v;
    char *end;
    if (te)
        return -1;
    if (!cl)
        return 0;
    if (apr_strtoff(&v, cl, &end, 10) != APR_SUCCESS || *end || v < 0)
        return -1;
    return (long long)v;
}

/* A body left unread by an answer given before it was needed (a refusal before
 * authentication, over the command's limit, a device gate) is not read afterwards either
 * unless it is small: the connection closes instead of httpd discarding it
 * (ap_discard_request_body does nothing on a connection marked to close). */
#define ZXM_DISCARD_MAX 65536
static void close_if_unread(request_rec *r, long long declared)
{
    if (declared < 0 || declared > ZXM_DISCARD_MAX)
        r->connection->keepalive = AP_CONN_CLOSE;
}

/* zx_body_reader: the pipeline reads the body once the request may use it. */
static int zxm_read_body(void *baton, zx_request *req, apr_size_t max, const char **why)
{
    request_rec *r = baton;
    int rv = read_body(r, max, &req->body, &req->body_len, why);
    if (rv != OK)
        r->connection->keepalive = AP_CONN_CLOSE;   /* the rest is not read */
    return rv;
}

/* The memory of a request's work: a subpool of the request's pool on the child's shared
 * allocator (it goes with the request's pool, after the answer is written). */
static apr_pool_t *zxm_work_pool(request_rec *r)
{
    apr_pool_t *work;
    if (!zxm_work_allocator ||
        apr_pool_create_ex(&work, r->pool, NULL, zxm_work_allocator) != APR_SUCCESS)
        return r->pool;
    return work;
}

/* Write a library response: status, headers, body. */
static int write_response(request_rec *r, const zx_response *resp)
{
    r->status = resp->status;
    /* [MS-ASHTTP] 2.2.2.1.1: httpd has no reason phrase for Microsoft's 449 (it would send 500) */
    if (resp->status == 449)
        r->status_line = "449 Retry after sending a PROVISION command";
    apr_table_overlap(r->headers_out, resp->headers, APR_OVERLAP_TABLES_SET);
    apr_table_setn(r->headers_out, "Cache-Control", "private");
    if (resp->content_type && resp->body_len) {
        ap_set_content_type(r, resp->content_type);
        ap_set_content_length(r, (apr_off_t)resp->body_len);
        if (!r->header_only)
            ap_rwrite(resp->body, (int)resp->body_len, r);
    }
    else {
        ap_set_content_length(r, 0);
    }
    return OK;
}

static const char *const passed_headers[] = {
    "MS-ASProtocolVersion", "X-MS-PolicyKey", "User-Agent", "Content-Type",
    "Authorization", "MS-ASAcceptMultiPart", NULL
};

static int zxm_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, ZXM_HANDLER) != 0)
        return DECLINED;
    zxm_srv_conf *c = zxm_get_srv_conf(r->server);
    const zx_server *srv = &c->server;
    zx_request req;
    zx_response resp;
    const char *why = NULL;

    apr_pool_t *work = zxm_work_pool(r);
    zx_request_init(&req, work);
    zx_response_init(&resp, work);
    req.log_ctx = r;
    req.client_ip = r->useragent_ip;
    req.client_fd = zxm_client_fd(r);
    req.method = r->method_number == M_POST      ? ZX_METHOD_POST
                 : r->method_number == M_OPTIONS ? ZX_METHOD_OPTIONS
                                                 : ZX_METHOD_OTHER;

    long long declared = declared_body(r);
    if (req.method == ZX_METHOD_POST) {
        if (zx_request_parse_query(&req, r->args, &why) < 0) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZXLOGNO(01904) "bad query: %s", why);
            close_if_unread(r, declared);
            return HTTP_BAD_REQUEST;
        }
        for (int i = 0; passed_headers[i]; i++) {
            if (zx_request_set_header(&req, passed_headers[i],
                                      apr_table_get(r->headers_in, passed_headers[i]), &why) < 0) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZXLOGNO(01905) "bad header %s: %s",
                              passed_headers[i], why);
                close_if_unread(r, declared);
                return HTTP_BAD_REQUEST;
            }
        }
        /* read by the pipeline after authentication, within the command's limit */
        req.body_declared = declared;
        req.read_body = zxm_read_body;
        req.read_body_baton = r;
    }
    else {
        zx_request_set_header(&req, "Authorization", apr_table_get(r->headers_in, "Authorization"),
                              &why);
        /* OPTIONS: the EAS filters match the User-Agent; the anti-DoS filter counts per
         * DeviceId when the query names one (a bad query does not matter to OPTIONS) */
        zx_request_set_header(&req, "User-Agent", apr_table_get(r->headers_in, "User-Agent"),
                              &why);
        if (r->args)
            zx_request_parse_query(&req, r->args, &why);
        close_if_unread(r, declared);    /* OPTIONS has no body worth reading */
    }

    zx_handle(srv, &req, &resp);
    if (req.read_body)
        close_if_unread(r, declared);
    if (req.answered_from_cache)        /* for the access log: %{zxmobile-answer}n */
        apr_table_setn(r->notes, "zxmobile-answer", "cache");

    return write_response(r, &resp);
}

/* Autodiscover (libzxsync/autodiscover): the XML form (POST) and the v2 JSON form (GET). */
static int zxm_autodiscover_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, ZXM_AD_HANDLER) != 0)
        return DECLINED;
    zxm_srv_conf *c = zxm_get_srv_conf(r->server);
    zx_request req;
    zx_response resp;
    zx_autodiscover_ctx ctx = {ap_construct_url(r->pool, "", r),
                               c->endpoint ? c->endpoint : ZXM_DEFAULT_ENDPOINT, r->args, NULL};
    const char *why = NULL;
    zx_ad_kind kind = zx_autodiscover_path(r->uri, &ctx.path_rest);
    if (kind == ZX_AD_NONE)
        kind = ZX_AD_XML;   /* SetHandler zxmobile-autodiscover on another path: the XML form */

    apr_pool_t *work = zxm_work_pool(r);
    zx_request_init(&req, work);
    zx_response_init(&resp, work);
    req.log_ctx = r;
    req.client_ip = r->useragent_ip;
    req.method = r->method_number == M_POST ? ZX_METHOD_POST
                 : r->method_number == M_GET ? ZX_METHOD_GET
                                             : ZX_METHOD_OTHER;
    if (zx_request_set_header(&req, "Authorization", apr_table_get(r->headers_in, "Authorization"),
                              &why) < 0 ||
        zx_request_set_header(&req, "Content-Type", apr_table_get(r->headers_in, "Content-Type"),
                              &why) < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZXLOGNO(01930) "Autodiscover: bad header: %s",
                      why);
        ap_discard_request_body(r);
        return HTTP_BAD_REQUEST;
    }
    if (req.method == ZX_METHOD_POST) {
        int rv = read_body(r, ZX_AD_MAX_BODY, &req.body, &req.body_len, &why);
        if (rv != OK) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, ZXLOGNO(01901) "Autodiscover: request "
                          "body not read: %s", why);
            r->connection->keepalive = AP_CONN_CLOSE;
            return rv;
        }
    }
    else {
        ap_discard_request_body(r);
    }

    zx_autodiscover(&c->server, &req, kind, &ctx, &resp);

    return write_response(r, &resp);
}

static void zxm_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(zxm_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(zxm_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(zxm_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(zxm_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_stopping(zxm_child_stopping, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(zxm_translate_name, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_map_to_storage(zxm_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_handler(zxm_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(zxm_autodiscover_handler, NULL, NULL, APR_HOOK_MIDDLE);
    zxm_lmtp_register_hooks(p);
}

module AP_MODULE_DECLARE_DATA zxmobile_module = {
    STANDARD20_MODULE_STUFF,
    NULL,                  /* per-directory config */
    NULL,                  /* merge per-directory */
    zxm_create_srv_conf,   /* per-server config */
    zxm_merge_srv_conf,    /* merge per-server */
    zxm_cmds,
    zxm_register_hooks,
    AP_MODULE_FLAG_NONE
};
