/* zxmobile - the server context and the respond helpers: the base every layer above the
 * protocol values builds on (libzxsync/proto/, level 2).
 *
 * A zx_server holds what one configured endpoint needs at run time: its settings (from the
 * ZxMobile* directives, or from the CLI/test harness), its database pool and the per-process
 * state of the pipeline's stages (opaque here; each stage's header says what it is).  The
 * respond helpers fill a zx_response the way every stage and command answers; zx_request_db
 * gives a request its database connection.
 */
#ifndef ZXSYNC_PROTO_H
#define ZXSYNC_PROTO_H

#include <zxsync/auth.h>
#include <zxsync/dbpool.h>
#include <zxsync/eas.h>

/* [MS-ASHTTP] 2.2.2.1.2.5: implementation-specific version string. */
#define ZX_SERVER_ACTIVESYNC_VERSION "15.1"

typedef struct {
    zx_vset versions;          /* protocol versions offered and accepted */
    apr_size_t max_body;       /* largest request body accepted, bytes */
    unsigned max_wbxml_depth;  /* WBXML nesting limit */
    struct zx_transport *transport; /* ZxMobileMailTransport (zxsync/transport.h): where mail
                                  for outside the server goes; NULL = none (local accounts
                                  still get theirs, zxsync/submit.h) */
    const char *public_url;    /* ZxMobilePublicURL, NULL = unknown */
    apr_size_t fetch_budget;   /* ZxMobileFetchBudget: bytes of content (bodies, MIME,
                                  attachment data) one ItemOperations request returns at most */
    unsigned max_fetches;      /* ZxMobileFetchMaxOperations: Fetch elements one ItemOperations
                                  request may carry (the others answer status 11) */
    const char *cert_ca_file;  /* ZxMobileValidateCertCAFile: PEM CAs ValidateCert trusts
                                  besides the system store (zxsync/cert.h), NULL = none */
} zx_server_settings;

#define ZX_DEFAULT_MAX_BODY (32u * 1024u * 1024u)
#define ZX_DEFAULT_FETCH_BUDGET (16u * 1024u * 1024u)
#define ZX_DEFAULT_MAX_FETCHES 32u

void zx_server_settings_default(zx_server_settings *s);

struct zx_server;
/* Decides who the request is (fills req->account, sets req->authenticated) and whether that
 * account may use ActiveSync.  The default, zx_authenticate_db (zxsync/gate.h), checks the
 * directory. */
typedef zx_auth_result zx_authenticator(const struct zx_server *srv, zx_request *req,
                                        const char **err);

/* Per-process view of the services' state (spec 14), re-read every few seconds
 * (zx_service_gate_create, zxsync/gate.h). */
typedef struct zx_service_gate zx_service_gate;

typedef struct zx_server {
    zx_server_settings settings;
    zx_dbpool *dbpool;           /* this process's connections (created after fork) */
    zx_auth_cache *auth_cache;   /* this process's verification cache, NULL = none */
    zx_hash_gate *hash_gate;     /* bounds this process's password hashing, NULL = unbounded */
    const char *server_name;     /* this node, for server-level settings */
    zx_authenticator *authenticate;   /* NULL = zx_authenticate_db */
    zx_service_gate *service_gate;    /* NULL = no service state to consult */
    struct zx_dos *dos;               /* the anti-DoS filter's shared state (zxsync/dos.h),
                                         NULL = no filter */
    struct zx_easfilter_cache *easfilters; /* this process's EAS filters (zxsync/easfilter.h),
                                              NULL = the server's versions for everyone */
    struct zx_notify_hub *notify;     /* this process's waiters (Ping), NULL = cannot wait */
    struct zx_acctlog_cache *acctlog; /* this process's account loggers (zxsync/acctlog.h),
                                         NULL = none consulted */
    struct zx_answer_cache *answers;  /* this process's no-change answers (zxsync/answer.h),
                                         NULL = every request is computed */
} zx_server;

/* The request's database connection, taken from srv->dbpool on first use. */
zx_db *zx_request_db(const zx_server *srv, zx_request *req, const char **err);

/* zx_command_handler (zxsync/eas.h; the table is eas/handlers.c): it answers the request
 * completely (zx_respond_wbxml / zx_respond_error / ...).  When it runs, the request is
 * authenticated (req->account), its query and headers are valid, its body is decoded (req->doc,
 * NULL for an empty body) with the command's root element, and the device is registered
 * (req->device_row).  zx_command_lookup: the handler of a command, NULL when the command is not
 * implemented. */

/* ---- responses ------------------------------------------------------------------------- */

/* Answer a request with an error: for protocol 14.0+ and a command with a response element,
 * HTTP 200 and <Command><Status>eas_status</Status></Command>; otherwise legacy_http
 * (the HTTP status MS-ASCMD 2.2.2 maps the status to for 12.1 and earlier). */
void zx_respond_error(const zx_request *req, zx_response *resp, zx_eas_status eas_status,
                      int legacy_http, zx_log_level level, const char *reason);
/* zx_respond_error with the legacy HTTP status of the status table (eas_status.def). */
void zx_respond_status(const zx_request *req, zx_response *resp, zx_eas_status eas_status,
                       zx_log_level level, const char *reason);
/* Answer with a WBXML document. */
void zx_respond_wbxml(const zx_request *req, zx_response *resp, const zx_wb_node *doc);
/* Answer with an HTTP status and no body. */
void zx_respond_http(const zx_request *req, zx_response *resp, int http_status,
                     zx_log_level level, const char *reason);
/* Seconds of the Retry-After of a 503 answered because the database cannot be used (the
 * directory in it included): short, since a restarting database is back within seconds and
 * the next request reconnects at once ([MS-ASHTTP] 3.1.5.2.3: the client waits that long). */
#define ZX_RETRY_AFTER_DB 5
/* Retry-After of a login deferred because this process computes as many password hashes as it
 * may (ZxMobileAuthHashSlots): a slot frees within a second or so. */
#define ZX_RETRY_AFTER_BUSY 5
/* Retry-After: ZX_RETRY_AFTER_DB on a 503 answer (a 14.0+ answer with Status 111 in a 200 has
 * none): every answer to a database failure calls it. */
void zx_retry_after_db(zx_response *resp);
/* Headers advertising versions and commands (OPTIONS, and a version refused): the commands
 * with a handler in req->commands (zx_command_list). */
void zx_add_protocol_headers(const zx_server *srv, const zx_request *req, zx_response *resp);

#endif
