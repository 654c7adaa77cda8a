/* zxmobile - pipeline stages 1 and 3: authenticate (Basic credentials against the directory,
 * mobile-password rule of spec 2.1) and "account enabled" (zimbraFeatureMobileSyncEnabled,
 * account over COS, spec 1.1). */
#include <zxsync/config.h>
#include <zxsync/server.h>

#include <apr_strings.h>

zx_db *zx_request_db(const zx_server *srv, zx_request *req, const char **err)
{
    if (req->db)
        return req->db;
    if (!srv->dbpool) {
        *err = "no database configured (ZxMobileDatabase)";
        return NULL;
    }
    req->db = zx_dbpool_acquire(srv->dbpool, req->pool, err);
    return req->db;
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
    zx_auth_opts opts = {srv->auth_cache, NULL, srv->server_name, 0, resolve,
                         srv->server_name ? srv->server_name : zx_config_server_name(req->pool),
                         resolved};
    zx_auth_result r = zx_auth_check(req->pool, db, req->auth_user, req->auth_password, "eas",
                                     &opts, &req->account, err);
    if (r != ZX_AUTH_OK)
        return r;
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
        zx_respond_http(req, resp, 401, ZX_LOG_NOTICE,
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
    default:
        /* the directory cannot be reached: the client retries later ([MS-ASHTTP] 3.1.5.2.3) */
        zx_respond_http(req, resp, 503, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00021) "cannot authenticate: %s",
                                     err ? err : "internal error"));
        zx_retry_after_db(resp);
        return 1;
    }
}
