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
    zx_auth_opts opts = {srv->auth_cache, NULL, srv->server_name, 0};
    zx_auth_result r = zx_auth_check(req->pool, db, req->auth_user, req->auth_password, "eas",
                                     &opts, &req->account, err);
    if (r != ZX_AUTH_OK)
        return r;
    req->authenticated = 1;
    zx_config_scope scope = {req->account.id, req->account.cos_id, req->account.domain_id,
                             srv->server_name};
    int enabled = 0;
    if (zx_config_resolve_bool(req->pool, db, &scope, "zimbraFeatureMobileSyncEnabled",
                               &enabled, err) < 0)
        return ZX_AUTH_ERROR;
    return enabled ? ZX_AUTH_OK : ZX_AUTH_NOT_ENABLED;
}
