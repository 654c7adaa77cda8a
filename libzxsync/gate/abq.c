/* zxmobile - device gate: ABQ (gate/abq.h).  The decision and what it reads and writes are
 * abq/'s (zxsync/abq.h); here the request is held back or refused and the answer written. */
#include "abq.h"

#include <zxsync/log.h>

#include <apr_strings.h>

void zx_abq_ctx_keep(zx_request *req, const PGresult *res, int c0)
{
    req->abq_ctx = NULL;
    if (PQntuples(res) < 1 || PQgetisnull(res, 0, c0 + ZX_ABQ_CTX_NCOLS))  /* no abq_state */
        return;
    zx_abq_ctx *g = apr_palloc(req->pool, sizeof *g);
    zx_abq_ctx_parse(req->pool, res, c0, g);
    req->abq_ctx = g;
}

static int load_ctx(zx_db *db, const zx_request *req, zx_abq_ctx *g, const char **err)
{
    return zx_abq_ctx_load(req->pool, db, req->device_id, req->account.id, req->account.cos_id,
                           req->device_row, req->account.domain_id, g, err);
}

/* The devices known before the service first ran become Allowed (spec 11.1), once: the node
 * that claims abq_state.imported_at does it, and only when the list is empty.  The device of
 * this request is left out when this very request registered it. */
static void import_known(zx_request *req, zx_db *db)
{
    const char *err = NULL, *count = NULL;
    int rc = zx_abq_import_known(req->pool, db, req->device.is_new ? req->device_row : NULL,
                                 &count, &err);
    if (rc > 0)
        zx_log(req->log_ctx, ZX_LOG_NOTICE, ZXLOGNO(01401) "ABQ: first start: %s known "
               "devices imported as Allowed", count);
    else if (rc < 0)
        zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(01400) "ABQ: cannot import the known devices: %s",
               err);
}

/* [MS-ASCMD] 2.2.3.177.17 Sync Status 12 / 2.2.3.177.11 Ping Status 7: the folder hierarchy
 * changed, FolderSync first.  The device's FolderSync key is gone, so it starts over from 0. */
static void respond_hierarchy_changed(zx_request *req, zx_response *resp)
{
    int ping = req->cmd == ZX_CMD_PING;
    zx_wb_node *root = zx_wb_new(req->pool, ping ? ZX_Ping_Ping : ZX_AirSync_Sync);
    zx_wb_add_text(req->pool, root, ping ? ZX_Ping_Status : ZX_AirSync_Status, ping ? "7" : "12");
    zx_respond_wbxml(req, resp, root);
    resp->reason = ZXLOGNO(01403) "ABQ status of the device changed: folder hierarchy sync "
                   "required";
    resp->reason_level = ZX_LOG_INFO;
}

int zx_gate_abq(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    req->abq_held = 0;
    if (!req->device_row || !req->account.id)
        return 0;
    zx_db *db = zx_request_db(srv, req, &err);
    zx_abq_ctx g;
    /* read along with the device record (zx_abq_ctx_keep), else now */
    const zx_abq_ctx *kept = req->abq_ctx;
    req->abq_ctx = NULL;
    if (kept && db)
        g = *kept;
    else if (!db || load_ctx(db, req, &g, &err) < 0) {
        zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                          apr_psprintf(p, ZXLOGNO(01402) "ABQ: cannot read the device's status: %s",
                                       err ? err : "internal error"));
        zx_retry_after_db(resp);
        return 1;
    }
    if (g.need_import && g.running) {
        import_known(req, db);
        /* the import may have listed this device: decide on what is there now */
        if (load_ctx(db, req, &g, &err) < 0)
            g.need_import = 0;
    }
    zx_abq_decision d = zx_abq_decide(p, g.running, g.mode, g.pair, g.device, req->device_id,
                                      g.rules);
    if (d.record && zx_abq_record(db, req->device_id, req->account.id, d.status, g.mode,
                                  &err) < 0)
        zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(01404) "ABQ: cannot record %s of %s: %s",
               req->device_id, req->account.name, err);
    char view = zx_abq_view_char(d.status);
    int changed = 0;
    if (view != g.served) {
        changed = zx_abq_reset_device(db, req->device_row, view, &err);
        if (changed < 0) {
            zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                              apr_psprintf(p, ZXLOGNO(01405) "ABQ: cannot reset the device: %s",
                                           err));
            zx_retry_after_db(resp);
            return 1;
        }
        if (changed)
            zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(01406) "ABQ: device %s of %s is now %s "
                   "(%s); its sync state was reset", req->device_id, req->account.name,
                   zx_abq_status_name(d.status), zx_abq_by_text(p, &d, g.mode));
    }
    /* the administrators' notification: on requests, whichever node sees it due first */
    int pending = g.pending || (changed && view == 'Q');
    if (g.interval > 0 && pending && (g.since_last < 0 || g.since_last >= g.interval) &&
        zx_transport_outside(srv->settings.transport)) {
        int n = zx_abq_notify_due(p, db, srv->settings.transport, &err);
        if (n < 0)
            zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(01407) "ABQ: notification not sent: %s", err);
        else if (n > 0)
            zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(01408) "ABQ: notified the administrators "
                   "of %d newly quarantined device(s)", n);
    }
    if (changed && (req->cmd == ZX_CMD_SYNC || req->cmd == ZX_CMD_PING)) {
        respond_hierarchy_changed(req, resp);
        return 1;
    }
    if (view == 'A')
        return 0;
    req->abq_held = d.status;
    switch (req->cmd) {
    case ZX_CMD_FOLDERSYNC:
    case ZX_CMD_SYNC:
    case ZX_CMD_GETITEMESTIMATE:
    case ZX_CMD_PING:
    case ZX_CMD_PROVISION:
    case ZX_CMD_SETTINGS:
        return 0;
    case ZX_CMD_SENDMAIL:
    case ZX_CMD_SMARTREPLY:
    case ZX_CMD_SMARTFORWARD:
        /* [MS-ASCMD] 2.2.3.177.14: 120 MailSubmissionFailed */
        zx_respond_status(req, resp, ZX_EAS_MAIL_SUBMISSION_FAILED, ZX_LOG_INFO,
                          apr_psprintf(p, ZXLOGNO(01409) "ABQ: device %s is %s: %s refused",
                                       req->device_id, zx_abq_status_name(d.status),
                                       req->cmd_name));
        return 1;
    default:
        /* [MS-ASCMD] 2.2.2: 129 DeviceIsBlockedForThisUser (HTTP 403 before 14.0) */
        zx_respond_status(req, resp, ZX_EAS_DEVICE_BLOCKED_FOR_USER, ZX_LOG_INFO,
                          apr_psprintf(p, ZXLOGNO(01409) "ABQ: device %s is %s: %s refused",
                                       req->device_id, zx_abq_status_name(d.status),
                                       req->cmd_name));
        return 1;
    }
}

/* ---- the periodic job ------------------------------------------------------------------ */

void zx_gate_abq_job(void *baton, apr_pool_t *p, zx_db *db)
{
    const zx_server *srv = baton;
    if (!zx_transport_outside(srv->settings.transport))
        return;                 /* no way to mail: the devices stay pending */
    const char *err = NULL;
    int n = zx_abq_notify_due(p, db, srv->settings.transport, &err);
    if (n < 0)
        zx_log(NULL, ZX_LOG_ERR, ZXLOGNO(01700) "ABQ: notification not sent: %s",
               err ? err : "internal error");
    else if (n > 0)
        zx_log(NULL, ZX_LOG_INFO, ZXLOGNO(01701) "ABQ: notified the administrators of %d newly "
               "quarantined device(s)", n);
}
