/* zxmobile - the request pipeline (ARCHITECTURE.md section 2).
 *
 * Each stage is a function of its own that either lets the request go on (ZX_NEXT) or has
 * answered it (ZX_DONE).  The stages run in the order of the table below; later layers
 * (authentication, DoS filter, device registry, ABQ, provisioning, account logger) insert
 * theirs into the same table.  After the last stage the command runs: zx_pipeline_run is
 * handed the lookup of the command table (eas/handlers.c, through zx_handle), so this file
 * names no command.
 */
#include <zxsync/acctlog.h>
#include <zxsync/answer.h>
#include <zxsync/device.h>
#include <zxsync/dos.h>
#include <zxsync/easfilter.h>
#include <zxsync/gate.h>
#include <zxsync/log.h>

#include "abq.h"
#include "suspend.h"
#include "provision.h"

#include <apr_strings.h>
#include <ctype.h>
#include <string.h>

typedef enum { ZX_NEXT = 0, ZX_DONE } zx_stage_result;
typedef zx_stage_result zx_stage(const zx_server *srv, zx_request *req, zx_response *resp);

/* ---- stages --------------------------------------------------------------------------- */

/* Only POST and OPTIONS exist ([MS-ASHTTP] 2.1): 501 for the others. */
static zx_stage_result stage_method(const zx_server *srv, zx_request *req, zx_response *resp)
{
    if (req->method == ZX_METHOD_POST || req->method == ZX_METHOD_OPTIONS)
        return ZX_NEXT;
    zx_respond_http(req, resp, 501, ZX_LOG_INFO,
                    ZXLOGNO(00002) "method not supported by the ActiveSync endpoint");
    apr_table_setn(resp->headers, "Allow", "OPTIONS,POST");
    return ZX_DONE;
}

/* The service stopped by an admin (zxsuite mobile doStopService activesync|module): 503 with
 * Retry-After, as for a server that cannot take requests ([MS-ASHTTP] 3.1.5.2.3). */
static zx_stage_result stage_service(const zx_server *srv, zx_request *req, zx_response *resp)
{
    const char *err = NULL;
    int running = zx_service_gate_check(srv, req, "activesync", &err);
    if (running == 1)
        return ZX_NEXT;
    if (running == 0) {
        zx_respond_http(req, resp, 503, ZX_LOG_INFO,
                        ZXLOGNO(00023) "the activesync service is stopped (zxsuite mobile "
                        "doStartService activesync)");
        apr_table_setn(resp->headers, "Retry-After", "60");
        return ZX_DONE;
    }
    zx_respond_http(req, resp, 503, ZX_LOG_ERR,
                    apr_psprintf(req->pool, ZXLOGNO(00024) "cannot read the service state: %s",
                                 err ? err : "internal error"));
    zx_retry_after_db(resp);
    return ZX_DONE;
}

/* Authentication (spec 2) and account enablement (spec 1.1): zx_authenticate_request
 * (gate/auth.c, shared with Autodiscover).  Every request, OPTIONS too, carries credentials
 * ([MS-ASHTTP] 2.2.1.1.2.2). */
static zx_stage_result stage_auth(const zx_server *srv, zx_request *req, zx_response *resp)
{
    if (zx_authenticate_request(srv, req, resp))
        return ZX_DONE;
    /* the account's data (device, states, mailbox) is read from here on */
    if (srv->answers)
        zx_answer_note_account(srv->answers, req);
    return ZX_NEXT;
}

/* ---- the body: read after authentication, within the command's limit --------------------- */

/* The largest body of this request's command (eas_commands.def), never over the server's
 * ZxMobileMaxRequestSize. */
static apr_size_t body_limit(const zx_server *srv, const zx_request *req)
{
    const zx_command_info *ci = zx_command_info_get(req->cmd);
    apr_size_t max = srv->settings.max_body;
    if (ci && ci->max_body && ci->max_body < max)
        max = ci->max_body;
    return max;
}

/* Read the body through the host's reader, at most max bytes; ZX_DONE with the answer (413, or
 * 400 for a read error or a RequestReadTimeout) when it cannot be had. */
static zx_stage_result read_body(zx_request *req, zx_response *resp, apr_size_t max)
{
    const char *why = NULL;
    int http = zx_request_read_body(req, max, &why);
    if (http == 0)
        return ZX_NEXT;
    zx_respond_http(req, resp, http, ZX_LOG_INFO,
                    apr_psprintf(req->pool, ZXLOGNO(00060) "request body not read: %s",
                                 why ? why : "read error"));
    return ZX_DONE;
}

/* The answer cache (gate/answer.c): a repeated no-change request whose account and device did
 * not change since gets the same answer again; the stages marked "computed only" in the table
 * below are skipped for it.  Its key holds the body: a small one (at most ZX_ANSWER_MAX_REQUEST
 * bytes by its Content-Length) of a command the cache serves is read here, before
 * authentication; any other body only once the request is authenticated (stage_read_body). */
static zx_stage_result stage_answer(const zx_server *srv, zx_request *req, zx_response *resp)
{
    if (!srv->answers)
        return ZX_NEXT;
    if (req->read_body && req->method == ZX_METHOD_POST &&
        (req->cmd == ZX_CMD_SYNC || req->cmd == ZX_CMD_FOLDERSYNC) &&
        req->body_declared >= 0 && req->body_declared <= ZX_ANSWER_MAX_REQUEST &&
        read_body(req, resp, ZX_ANSWER_MAX_REQUEST) == ZX_DONE)
        return ZX_DONE;
    if (zx_answer_candidate(req))
        zx_answer_lookup(srv->answers, srv, req);
    return ZX_NEXT;
}

/* The body of an authenticated request whose device may go on: refused from its Content-Length
 * when over the command's limit (413, nothing read), else read within that limit. */
static zx_stage_result stage_read_body(const zx_server *srv, zx_request *req, zx_response *resp)
{
    if (req->method != ZX_METHOD_POST || !req->read_body)
        return ZX_NEXT;
    apr_size_t max = body_limit(srv, req);
    if (req->body_declared > 0 && (apr_uint64_t)req->body_declared > (apr_uint64_t)max) {
        req->read_body = NULL;       /* never read: the connection is closed after the answer */
        zx_respond_http(req, resp, 413, ZX_LOG_INFO,
                        apr_psprintf(req->pool, ZXLOGNO(00061) "%s request body of %"
                                     APR_INT64_T_FMT " bytes is over the command's limit of %"
                                     APR_SIZE_T_FMT " bytes", req->cmd_name,
                                     (apr_int64_t)req->body_declared, max));
        return ZX_DONE;
    }
    return read_body(req, resp, max);
}

/* The anti-DoS filter (gate/dos.c, spec 5): a device/account over mobileAntiDosServiceMaxRequests
 * requests within mobileAntiDosServiceTimeWindow ms is jailed.  A jailed request gets 503 with
 * Retry-After = the jail's remaining seconds, rounded up ([MS-ASHTTP] 3.1.5.2.3: the client
 * retries after that).  The jailing itself is recorded and mailed to the administrators. */
static zx_stage_result stage_dos(const zx_server *srv, zx_request *req, zx_response *resp)
{
    zx_dos_outcome o;
    const char *err = NULL;
    if (!srv->dos)
        return ZX_NEXT;
    if (zx_dos_check(srv, req, &o, &err) < 0) {
        zx_log(req->log_ctx, ZX_LOG_WARNING,
               ZXLOGNO(01506) "anti-DoS filter skipped for this request: %s", err);
        return ZX_NEXT;
    }
    if (o.verdict != ZX_DOS_JAILED && o.verdict != ZX_DOS_NEW_JAIL)
        return ZX_NEXT;
    long long secs = (o.remaining_ms + 999) / 1000;
    if (o.verdict == ZX_DOS_NEW_JAIL) {
        zx_respond_http(req, resp, 503, ZX_LOG_NOTICE,
                        apr_psprintf(req->pool, ZXLOGNO(01507) "anti-DoS filter: %s device "
                                     "%s jailed for %" APR_INT64_T_FMT " s: over %"
                                     APR_INT64_T_FMT " requests within %" APR_INT64_T_FMT " ms",
                                     req->account.name,
                                     req->device_id ? req->device_id : "(none)",
                                     (apr_int64_t)secs, (apr_int64_t)o.limits.max_requests,
                                     (apr_int64_t)o.limits.window_ms));
        zx_dos_report_jail(srv, req, &o);
    }
    else {
        zx_respond_http(req, resp, 503, ZX_LOG_INFO,
                        apr_psprintf(req->pool, ZXLOGNO(01508) "anti-DoS filter: %s device %s "
                                     "is jailed for %" APR_INT64_T_FMT " more s",
                                     req->account.name,
                                     req->device_id ? req->device_id : "(none)",
                                     (apr_int64_t)secs));
    }
    apr_table_setn(resp->headers, "Retry-After",
                   apr_psprintf(req->pool, "%" APR_INT64_T_FMT, (apr_int64_t)(secs > 0 ? secs : 1)));
    return ZX_DONE;
}

/* EAS filters (gate/easfilter.c, spec 9): the versions this client is offered (OPTIONS) and
 * may use (stage_query), from the User-Agent and the account. */
static zx_stage_result stage_easfilter(const zx_server *srv, zx_request *req, zx_response *resp)
{
    const char *err = NULL;
    zx_vset v;
    if (zx_easfilter_versions(srv, req, &v, &err) < 0) {
        zx_respond_http(req, resp, 503, ZX_LOG_ERR,
                        apr_psprintf(req->pool, ZXLOGNO(01509) "cannot read the EAS filters: %s",
                                     err ? err : "internal error"));
        zx_retry_after_db(resp);
        return ZX_DONE;
    }
    req->versions = v;
    req->versions_set = 1;
    return ZX_NEXT;
}

/* OPTIONS ([MS-ASHTTP] 2.2.3, 3.2.5.2): versions and commands. */
static zx_stage_result stage_options(const zx_server *srv, zx_request *req, zx_response *resp)
{
    if (req->method != ZX_METHOD_OPTIONS)
        return ZX_NEXT;
    zx_respond_http(req, resp, 200, ZX_LOG_DEBUG, NULL);
    apr_table_setn(resp->headers, "Allow", "OPTIONS,POST");
    apr_table_setn(resp->headers, "Public", "OPTIONS,POST");
    apr_table_setn(resp->headers, "MS-Server-ActiveSync", ZX_SERVER_ACTIVESYNC_VERSION);
    zx_add_protocol_headers(srv, req, resp);
    return ZX_DONE;
}

/* The User parameter names the authenticated account: "user", "DOMAIN\\user" or
 * "user@domain", read as a login name is (zx_auth_login_name: a DOMAIN part must be the
 * account's domain or its first label; a bare user is in the account's domain). */
static int user_matches(apr_pool_t *p, const char *user, const char *account)
{
    const char *at = strchr(account, '@');
    const char *name = zx_auth_login_name(p, user, at ? at + 1 : NULL);
    return name && strcasecmp(name, account) == 0;
}

static int vchars(const char *s, size_t max);

/* A User parameter that names another account than the authenticated one: 403 (README's
 * table), for every request.  A malformed one is the query stage's 400. */
static int user_refused(zx_request *req, zx_response *resp)
{
    if (req->user && req->authenticated && vchars(req->user, 256) &&
        !user_matches(req->pool, req->user, req->account.name)) {
        zx_respond_http(req, resp, 403, ZX_LOG_NOTICE,
                        apr_psprintf(req->pool, ZXLOGNO(00022) "User=%s does not match the "
                                     "authenticated account %s", req->user, req->account.name));
        return 1;
    }
    return 0;
}

/* OPTIONS ends before the query stage: its User parameter is checked here. */
static zx_stage_result stage_user(const zx_server *srv, zx_request *req, zx_response *resp)
{
    (void)srv;
    if (req->method == ZX_METHOD_OPTIONS && user_refused(req, resp))
        return ZX_DONE;
    return ZX_NEXT;
}

/* DeviceId: 1*32(ALPHA / DIGIT) ([MS-ASHTTP] 2.2.1.1.1.2.3). */
static int device_id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]))
            return 0;
    return 1;
}

/* 1*VCHAR */
static int vchars(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7E)
            return 0;
    return 1;
}

/* Query parameters and protocol version ([MS-ASHTTP] 2.2.1.1.1, 2.2.1.1.2.6). */
static zx_stage_result stage_query(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    if (!req->cmd_name || !*req->cmd_name) {
        zx_respond_http(req, resp, 400, ZX_LOG_INFO, ZXLOGNO(00003) "query has no Cmd parameter");
        return ZX_DONE;
    }
    if (req->cmd == ZX_CMD_UNKNOWN) {
        zx_respond_http(req, resp, 501, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00004) "unknown command \"%s\"", req->cmd_name));
        return ZX_DONE;
    }
    /* User: required in the plain form; optional in the base64 form (tag 8). */
    if (!req->base64_query && !vchars(req->user, 256)) {
        zx_respond_http(req, resp, 400, ZX_LOG_INFO,
                        ZXLOGNO(00005) "query has no valid User parameter");
        return ZX_DONE;
    }
    if (user_refused(req, resp))
        return ZX_DONE;
    if (!req->proto_str || !*req->proto_str) {
        zx_respond_http(req, resp, 400, ZX_LOG_INFO,
                        ZXLOGNO(00006) "request has no protocol version (MS-ASProtocolVersion)");
        zx_add_protocol_headers(srv, req, resp);
        return ZX_DONE;
    }
    if (!req->proto || !(zx_vset_of(req->proto) &
                         (req->versions_set ? req->versions : srv->settings.versions))) {
        zx_respond_http(req, resp, 400, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00007) "protocol version \"%s\" not supported",
                                     req->proto_str));
        zx_add_protocol_headers(srv, req, resp);
        return ZX_DONE;
    }
    if (req->base64_query && req->proto < ZX_V121) {
        zx_respond_http(req, resp, 400, ZX_LOG_INFO,
                        ZXLOGNO(00008) "base64 query used with protocol 2.5 or 12.0");
        return ZX_DONE;
    }
    if (!device_id_valid(req->device_id)) {
        zx_respond_status(req, resp, ZX_EAS_DEVICE_ID_INVALID, ZX_LOG_INFO,
                          ZXLOGNO(00009) "DeviceId missing or not 1-32 letters and digits");
        return ZX_DONE;
    }
    if (!vchars(req->device_type, 64)) {
        zx_respond_status(req, resp, ZX_EAS_DEVICE_TYPE_INVALID, ZX_LOG_INFO,
                          ZXLOGNO(00010) "DeviceType missing or invalid");
        return ZX_DONE;
    }
    /* Find is a 16.1 command that iOS also sends at 14.0 and 14.1: served there too
     * (eas/cmd_find.c), though not advertised */
    if (!zx_command_in_version(req->cmd, req->proto) &&
        !(req->cmd == ZX_CMD_FIND && (req->proto == ZX_V140 || req->proto == ZX_V141))) {
        zx_respond_status(req, resp, ZX_EAS_VERSION_NOT_SUPPORTED, ZX_LOG_INFO,
                          apr_psprintf(p, ZXLOGNO(00011) "command %s does not exist in protocol %s",
                                       req->cmd_name, req->proto_str));
        return ZX_DONE;
    }
    return ZX_NEXT;
}

/* Does this command, at this version, carry a MIME body instead of WBXML?
 * SendMail/SmartReply/SmartForward before 14.0 send message/rfc822 ([MS-ASCMD] 2.2.1.17). */
static int body_is_mime(const zx_request *req)
{
    return req->proto < ZX_V140 && (req->cmd == ZX_CMD_SENDMAIL ||
                                     req->cmd == ZX_CMD_SMARTREPLY ||
                                     req->cmd == ZX_CMD_SMARTFORWARD);
}

static int content_type_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    if (!ct || strncasecmp(ct, want, n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Body: Content-Type and WBXML decoding ([MS-ASHTTP] 2.2.1.1.2.3, [MS-ASCMD] 2.2.2). */
static zx_stage_result stage_body(const zx_server *srv, zx_request *req, zx_response *resp)
{
    if (req->body_len == 0) {
        /* [MS-ASHTTP] 2.2.1.1.3: only GetAttachment, Sync and Ping may come without a body
         * (empty Sync and Ping reuse the cached request); MS-ASCMD status 101 otherwise. */
        if (req->cmd == ZX_CMD_SYNC || req->cmd == ZX_CMD_PING || req->cmd == ZX_CMD_GETATTACHMENT)
            return ZX_NEXT;
        zx_respond_status(req, resp, ZX_EAS_INVALID_CONTENT, ZX_LOG_INFO,
                          apr_psprintf(req->pool, ZXLOGNO(00018) "%s request without a body",
                                       req->cmd_name));
        return ZX_DONE;
    }
    const zx_command_info *ci = zx_command_info_get(req->cmd);
    apr_size_t max = body_limit(srv, req);
    if (req->body_len > max) {
        zx_respond_http(req, resp, 413, ZX_LOG_INFO,
                        apr_psprintf(req->pool, ZXLOGNO(00012) "%s request body of %"
                                     APR_SIZE_T_FMT " bytes is over the command's limit of %"
                                     APR_SIZE_T_FMT " bytes", req->cmd_name, req->body_len, max));
        return ZX_DONE;
    }
    if (body_is_mime(req)) {
        if (!content_type_is(req->content_type, "message/rfc822")) {
            zx_respond_status(req, resp, ZX_EAS_INVALID_CONTENT, ZX_LOG_INFO,
                              ZXLOGNO(00013) "MIME body expected with Content-Type message/rfc822");
            return ZX_DONE;
        }
        return ZX_NEXT;
    }
    int wbxml_ct = content_type_is(req->content_type, "application/vnd.ms-sync.wbxml") ||
                   (req->proto >= ZX_V121 &&
                    content_type_is(req->content_type, "application/vnd.ms-sync"));
    if (!wbxml_ct) {
        zx_respond_status(req, resp, ZX_EAS_INVALID_CONTENT, ZX_LOG_INFO,
                          apr_psprintf(req->pool,
                                       ZXLOGNO(00014) "body with Content-Type \"%s\", expected "
                                       "application/vnd.ms-sync.wbxml",
                                       req->content_type ? req->content_type : "(none)"));
        return ZX_DONE;
    }
    /* the node budget of the command: decoding stops at the first node over it; opaque data
     * must be text outside the byte-array elements */
    zx_wbxml_limits lim = {.max_size = max, .max_depth = srv->settings.max_wbxml_depth,
                           .max_nodes = ci->max_nodes, .opaque_is_text = 1};
    apr_size_t off = 0;
    zx_wbxml_status st = zx_wbxml_decode(req->pool, req->body, req->body_len, &lim, &req->doc, &off);
    if (st == ZX_WBXML_ENODES) {
        zx_respond_http(req, resp, 413, ZX_LOG_INFO,
                        apr_psprintf(req->pool, ZXLOGNO(00062) "%s request body has more than %"
                                     APR_SIZE_T_FMT " WBXML elements and strings (refused at "
                                     "byte %lu)", req->cmd_name, ci->max_nodes,
                                     (unsigned long)off));
        return ZX_DONE;
    }
    if (st != ZX_WBXML_OK) {
        zx_respond_status(req, resp, ZX_EAS_INVALID_WBXML, ZX_LOG_INFO,
                          apr_psprintf(req->pool,
                                       ZXLOGNO(00015) "malformed WBXML body: %s at byte %lu",
                                       zx_wbxml_strerror(st), (unsigned long)off));
        return ZX_DONE;
    }
    if (ci->root_tag != ZX_TAG_NONE_ && req->doc->tag != ci->root_tag) {
        zx_respond_status(req, resp, ZX_EAS_INVALID_XML, ZX_LOG_INFO,
                          apr_psprintf(req->pool,
                                       ZXLOGNO(00016) "%s request with root element %s:%s",
                                       ci->name, zx_wb_page_name(ZX_WB_PAGE(req->doc->tag)),
                                       zx_wb_tag_name(req->doc->tag)));
        return ZX_DONE;
    }
    return ZX_NEXT;
}

/* Commands: one handler per command, found by the lookup zx_pipeline_run is given (the table
 * of eas/handlers.c); the step after the stages. */
static void run_command(const zx_server *srv, zx_request *req, zx_response *resp,
                        zx_command_lookup *lookup)
{
    if (req->answered_from_cache) {
        zx_answer_replay(req, resp);
        return;
    }
    zx_command_handler *handler = lookup ? lookup(req->cmd) : NULL;
    if (handler) {
        handler(srv, req, resp);
        return;
    }
    zx_respond_status(req, resp, ZX_EAS_COMMAND_NOT_SUPPORTED, ZX_LOG_INFO,
                      apr_psprintf(req->pool, ZXLOGNO(00017) "command %s is not implemented",
                                   req->cmd_name));
}

/* Device registry (gate/device.c): the (account, DeviceId) record, req->device_row.  A host
 * without a database (the unit tests' stub authenticator) has no registry. */
static zx_stage_result stage_device(const zx_server *srv, zx_request *req, zx_response *resp)
{
    const char *err = NULL;
    if (!srv->dbpool && !req->db)
        return ZX_NEXT;
    if (zx_device_register(srv, req, &err) == 0)
        return ZX_NEXT;
    zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                      apr_psprintf(req->pool, ZXLOGNO(00400) "cannot register the device: %s",
                                   err ? err : "internal error"));
    zx_retry_after_db(resp);
    return ZX_DONE;
}

/* The device gates: what an administrator decided about this device (suspension, ABQ,
 * provisioning and remote wipe).  They run after the registry on every request, and again
 * when a waiting Ping or Sync is woken (zx_device_gates), so a change made while a device
 * waits answers it at once.  In this order: suspend, ABQ, provisioning. */
static zx_stage_result stage_suspend(const zx_server *srv, zx_request *req, zx_response *resp)
{
    return zx_gate_suspend(srv, req, resp) ? ZX_DONE : ZX_NEXT;     /* gate/suspend.c */
}

static zx_stage_result stage_abq(const zx_server *srv, zx_request *req, zx_response *resp)
{
    return zx_gate_abq(srv, req, resp) ? ZX_DONE : ZX_NEXT;         /* gate/abq.c */
}

static zx_stage_result stage_provision(const zx_server *srv, zx_request *req, zx_response *resp)
{
    return zx_gate_provision(srv, req, resp) ? ZX_DONE : ZX_NEXT;   /* gate/provision.c */
}

static zx_stage *const device_gates[] = {
    stage_suspend,
    stage_abq,
    stage_provision,
    NULL
};

int zx_device_gates(const zx_server *srv, zx_request *req, zx_response *resp)
{
    for (size_t i = 0; device_gates[i]; i++)
        if (device_gates[i](srv, req, resp) == ZX_DONE)
            return 1;
    return 0;
}

int zx_device_recheck(const zx_server *srv, zx_request *req, zx_response *resp,
                      const char **err)
{
    int gone = zx_device_reload(srv, req, err);
    if (gone < 0)
        return -1;
    /* a removed device has no states left: the command's check tells it to start over */
    return !gone && zx_device_gates(srv, req, resp) ? 1 : 0;
}

static zx_stage_result stage_device_gates(const zx_server *srv, zx_request *req,
                                          zx_response *resp)
{
    if (!req->device_row)
        return ZX_NEXT;
    return zx_device_gates(srv, req, resp) ? ZX_DONE : ZX_NEXT;
}

/* The account logger's window_size (gate/acctlog.c): the Sync command caps its windows at
 * req->window_cap.  The exchange itself is written after the stages, in zx_pipeline_run. */
static zx_stage_result stage_acctlog(const zx_server *srv, zx_request *req, zx_response *resp)
{
    req->window_cap = zx_acctlog_window_cap(srv, req);
    return ZX_NEXT;
}

/* The stages in order; "always" ones run for an answer from the cache too, the others only
 * when the answer is computed. */
enum { COMPUTED_ONLY = 0, ALWAYS = 1 };
static const struct {
    zx_stage *run;
    int always;
} pipeline[] = {
    {stage_method, ALWAYS},
    {stage_service, ALWAYS},
    {stage_answer, ALWAYS},
    {stage_auth, COMPUTED_ONLY},
    {stage_dos, ALWAYS},
    {stage_easfilter, ALWAYS},
    {stage_user, ALWAYS},
    {stage_options, ALWAYS},
    {stage_query, ALWAYS},
    {stage_device, COMPUTED_ONLY},
    {stage_device_gates, COMPUTED_ONLY},
    {stage_read_body, COMPUTED_ONLY},
    {stage_body, COMPUTED_ONLY},
    {stage_acctlog, ALWAYS},
};

/* Commands that never change an account's data (what a device's own state rows hold of a Ping
 * or an estimate is NOTIFYed by the triggers as before): the rest may have. */
static int may_write(zx_cmd cmd)
{
    switch (cmd) {
    case ZX_CMD_PING:
    case ZX_CMD_GETITEMESTIMATE:
    case ZX_CMD_SEARCH:
    case ZX_CMD_FIND:
    case ZX_CMD_RESOLVERECIPIENTS:
    case ZX_CMD_VALIDATECERT:
    case ZX_CMD_GETATTACHMENT:
        return 0;
    default:
        return 1;
    }
}

void zx_pipeline_run(const zx_server *srv, zx_request *req, zx_response *resp,
                     zx_command_lookup *lookup)
{
    apr_time_t start = apr_time_now();
    int done = 0;
    req->commands = lookup;     /* OPTIONS advertises the commands it has a handler for */
    for (size_t i = 0; i < sizeof pipeline / sizeof pipeline[0]; i++) {
        if (req->answered_from_cache && !pipeline[i].always)
            continue;
        if (pipeline[i].run(srv, req, resp) == ZX_DONE) {
            done = 1;
            break;
        }
    }
    if (!done)          /* every stage let it go on: the command (the answer cache's, too) */
        run_command(srv, req, resp, lookup);
    if (srv->answers && req->answer_fill && !req->answered_from_cache)
        zx_answer_store(srv->answers, req, resp);
    /* a request that may have changed its account's data outdates the answers every child
     * keeps for the account now, before its own answer leaves (answer.h) */
    if (srv->answers && !req->answered_from_cache && !req->answer_reusable &&
        req->authenticated && req->account.id && may_write(req->cmd))
        zx_answer_cache_changed(srv->answers, req->account.id);
    if (resp->reason)
        zx_log(req->log_ctx, resp->reason_level, "%s (Cmd=%s User=%s DeviceId=%s -> %d)",
               resp->reason, req->cmd_name ? req->cmd_name : "-", req->user ? req->user : "-",
               req->device_id ? req->device_id : "-", resp->status);
    zx_acctlog_record(srv, req, resp, start);    /* step 9: the account logger */
}
