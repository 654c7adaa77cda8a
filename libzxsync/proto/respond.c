/* zxmobile - the server context's defaults, the request's database connection and the respond
 * helpers every stage and command answers with (zxsync/proto.h); the status table
 * (eas_status.def). */
#include <zxsync/proto.h>

#include <apr_strings.h>

void zx_server_settings_default(zx_server_settings *s)
{
    s->versions = ZX_VSET_ALL;
    s->max_body = ZX_DEFAULT_MAX_BODY;
    s->max_wbxml_depth = ZX_WBXML_DEFAULT_MAX_DEPTH;
    s->transport = NULL;
    s->public_url = NULL;
    s->fetch_budget = ZX_DEFAULT_FETCH_BUDGET;
    s->max_fetches = ZX_DEFAULT_MAX_FETCHES;
    s->cert_ca_file = NULL;
}

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

/* ---- the status table ------------------------------------------------------------------ */

int zx_eas_status_http(zx_eas_status st)
{
    switch (st) {
#define ZX_EAS_STATUS(id, number, legacy_http) case ZX_EAS_##id: return legacy_http;
#include <zxsync/eas_status.def>
#undef ZX_EAS_STATUS
    }
    return 500;
}

/* ---- responses ------------------------------------------------------------------------ */

void zx_respond_http(const zx_request *req, zx_response *resp, int http_status,
                     zx_log_level level, const char *reason)
{
    resp->status = http_status;
    resp->content_type = NULL;
    resp->body = NULL;
    resp->body_len = 0;
    resp->reason = reason;
    resp->reason_level = level;
}

void zx_retry_after_db(zx_response *resp)
{
    if (resp->status == 503)
        apr_table_setn(resp->headers, "Retry-After", APR_STRINGIFY(ZX_RETRY_AFTER_DB));
}

void zx_respond_wbxml(const zx_request *req, zx_response *resp, const zx_wb_node *doc)
{
    unsigned char *out;
    apr_size_t len;
    if (zx_wbxml_encode(req->pool, doc, &out, &len) != ZX_WBXML_OK) {
        zx_respond_http(req, resp, 500, ZX_LOG_ERR,
                        ZXLOGNO(00001) "internal error: response tree cannot be encoded");
        return;
    }
    resp->status = 200;
    resp->content_type = "application/vnd.ms-sync.wbxml";
    resp->body = out;
    resp->body_len = len;
}

void zx_respond_error(const zx_request *req, zx_response *resp, zx_eas_status eas_status,
                      int legacy_http, zx_log_level level, const char *reason)
{
    const zx_command_info *ci = zx_command_info_get(req->cmd);
    if (req->proto >= ZX_V140 && ci && ci->root_tag != ZX_TAG_NONE_) {
        int status_tag = zx_wb_tag_lookup(ZX_WB_PAGE(ci->root_tag), "Status");
        if (status_tag >= 0) {
            zx_wb_node *root = zx_wb_new(req->pool, ci->root_tag);
            zx_wb_add_textf(req->pool, root, (unsigned)status_tag, "%d", (int)eas_status);
            zx_respond_wbxml(req, resp, root);
            resp->reason = reason;
            resp->reason_level = level;
            return;
        }
    }
    zx_respond_http(req, resp, legacy_http, level, reason);
}

/* A request run without a command table answers every command 137: it advertises none. */
static zx_command_handler *no_commands(zx_cmd cmd)
{
    (void)cmd;
    return NULL;
}

void zx_add_protocol_headers(const zx_server *srv, const zx_request *req, zx_response *resp)
{
    /* the versions of this client (EAS filters), else the server's */
    zx_vset versions = req->versions_set ? req->versions : srv->settings.versions;
    apr_table_setn(resp->headers, "MS-ASProtocolVersions", zx_vset_str(req->pool, versions));
    apr_table_setn(resp->headers, "MS-ASProtocolCommands", zx_command_list(req->pool, versions, req->commands ? req->commands : no_commands));
}

void zx_respond_status(const zx_request *req, zx_response *resp, zx_eas_status eas_status,
                       zx_log_level level, const char *reason)
{
    zx_respond_error(req, resp, eas_status, zx_eas_status_http(eas_status), level, reason);
}
