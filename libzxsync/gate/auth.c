/* zxmobile - pipeline stages 1 and 3: authenticate (Basic credentials against the directory,
 * mobile-password rule of spec 2.1) and "account enabled" (zimbraFeatureMobileSyncEnabled,
 * account over COS, spec 1.1). */
#include <zxsync/config.h>
#include <zxsync/gate.h>

#include <apr_strings.h>

/* The password check gives the request's connection back while it hashes and takes one again
 * only when it must write (zx_auth_opts.db_release). */
typedef struct {
    const zx_server *srv;
    zx_request *req;
} db_baton;

static void release_request_db(void *baton, zx_db *db)
{
    db_baton *b = baton;
    if (b->srv->dbpool && db == b->req->db) {
        zx_dbpool_release(b->req->pool, db);
        b->req->db = NULL;
    }
}

static zx_db *acquire_request_db(void *baton, const char **err)
{
    db_baton *b = baton;
    return zx_request_db(b->srv, b->req, err);
}

zx_auth_result zx_authenticate_db(const zx_server *srv, zx_request *req, const char **err)
{
    zx_db *db = zx_request_db(srv, req, err);
    if (!db)
        return ZX_AUTH_ERROR;
    /* The enablement (and the MDM switch the provisioning gate needs) come with the account:
     * one round trip.  The server level of ZxMobile_DeviceManagementEnabled is the one the
     * provisioning gate uses (gate/provision.c). */
    static const char *const resolve[] = {"zimbraFeatureMobileSyncEnabled",
                                          "ZxMobile_DeviceManagementEnabled", NULL};
    const char *resolved[2] = {NULL, NULL};
    db_baton baton = {srv, req};
    zx_auth_opts opts = {srv->auth_cache, NULL, srv->server_name, 0, resolve,
                         srv->server_name ? srv->server_name : zx_config_server_name(req->pool),
                         resolved, req->client_ip, srv->hash_gate, release_request_db,
                         acquire_request_db, &baton};
    zx_auth_result r = zx_auth_check(req->pool, db, req->auth_user, req->auth_password, "eas",
                                     &opts, &req->account, err);
    if (r != ZX_AUTH_OK)
        return r;
    if (!zx_request_db(srv, req, err))     /* the pipeline goes on with a connection */
        return ZX_AUTH_ERROR;
    req->authenticated = 1;
    int enabled = zx_config_is_true(resolved[0]);
    req->mdm_off = !zx_config_is_true(resolved[1]);
    return enabled ? ZX_AUTH_OK : ZX_AUTH_NOT_ENABLED;
}

/* Authentication (spec 2) and account enablement (spec 1.1) as every endpoint answers them:
 * the EAS pipeline's stage and Autodiscover share it. */
int zx_authenticate_request(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    if (!req->auth_user) {
        zx_respond_http(req, resp, 401, ZX_LOG_DEBUG, NULL);
        apr_table_setn(resp->headers, "WWW-Authenticate", "Basic realm=\"ActiveSync\"");
        return 1;
    }
    zx_authenticator *auth = srv->authenticate ? srv->authenticate : zx_authenticate_db;
    zx_auth_result r = auth(srv, req, &err);
    switch (r) {
    case ZX_AUTH_OK:
        return 0;
    case ZX_AUTH_BAD_CREDENTIALS:
    case ZX_AUTH_THROTTLED:
    case ZX_AUTH_ADDRESS_THROTTLED:
        /* info, not notice: a flood of bad logins must not flood the log (the throttles log
         * one warning when they start, ZX00120, ZX00124) */
        zx_respond_http(req, resp, 401, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00019) "authentication of \"%s\" failed: %s",
                                     req->auth_user, zx_auth_result_str(r)));
        apr_table_setn(resp->headers, "WWW-Authenticate", "Basic realm=\"ActiveSync\"");
        return 1;
    case ZX_AUTH_LOCKED:
    case ZX_AUTH_CLOSED:
    case ZX_AUTH_NOT_ENABLED:
        /* [MS-ASHTTP] 2.2.2.1.1: 403, "the user is not enabled for ActiveSync" */
        zx_respond_http(req, resp, 403, ZX_LOG_NOTICE,
                        apr_psprintf(p, ZXLOGNO(00020) "account %s refused: %s", req->account.name,
                                     r == ZX_AUTH_NOT_ENABLED ? "zimbraFeatureMobileSyncEnabled is FALSE"
                                                              : zx_auth_result_str(r)));
        return 1;
    case ZX_AUTH_BUSY:
        /* too many logins need a password hash at once in this process: the client retries
         * soon ([MS-ASHTTP] 3.1.5.2.3); one warning per minute summarises them (ZX00123) */
        zx_respond_http(req, resp, 503, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00125) "authentication of \"%s\" deferred: %s",
                                     req->auth_user, zx_auth_result_str(r)));
        apr_table_setn(resp->headers, "Retry-After", APR_STRINGIFY(ZX_RETRY_AFTER_BUSY));
        return 1;
    default:
        /* the directory cannot be reached: the client retries later ([MS-ASHTTP] 3.1.5.2.3) */
        zx_respond_http(req, resp, 503, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00021) "cannot authenticate: %s",
                                     err ? err : "internal error"));
        zx_retry_after_db(resp);
        return 1;
    }
}
