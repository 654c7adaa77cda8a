/* zxmobile - the server context and the request pipeline entry point.
 *
 * A zx_server holds what one configured endpoint needs at run time: its settings (from the
 * ZxMobile* directives, or from the CLI/test harness) and, in later layers, its database pool.
 * zx_handle() runs the pipeline of ARCHITECTURE.md section 2 on one request.
 */
#ifndef ZXSYNC_SERVER_H
#define ZXSYNC_SERVER_H

#include <zxsync/auth.h>
#include <zxsync/dbpool.h>
#include <zxsync/eas.h>

/* [MS-ASHTTP] 2.2.2.1.2.5: implementation-specific version string. */
#define ZX_SERVER_ACTIVESYNC_VERSION "15.1"

typedef struct {
    zx_vset versions;          /* protocol versions offered and accepted */
    apr_size_t max_body;       /* largest request body accepted, bytes */
    unsigned max_wbxml_depth;  /* WBXML nesting limit */
    const char *sendmail;      /* ZxMobileSendmail command line, NULL = none configured */
    const char *public_url;    /* ZxMobilePublicURL, NULL = unknown */
    apr_size_t fetch_budget;   /* ZxMobileFetchBudget: bytes of content (bodies, MIME,
                                  attachment data) one ItemOperations request returns at most */
    unsigned max_fetches;      /* ZxMobileFetchMaxOperations: Fetch elements one ItemOperations
                                  request may carry (the others answer status 11) */
} zx_server_settings;

#define ZX_DEFAULT_MAX_BODY (32u * 1024u * 1024u)
#define ZX_DEFAULT_FETCH_BUDGET (16u * 1024u * 1024u)
#define ZX_DEFAULT_MAX_FETCHES 32u

void zx_server_settings_default(zx_server_settings *s);

struct zx_server;
/* Decides who the request is (fills req->account, sets req->authenticated) and whether that
 * account may use ActiveSync.  The default, zx_authenticate_db, checks the directory. */
typedef zx_auth_result zx_authenticator(const struct zx_server *srv, zx_request *req,
                                        const char **err);
zx_auth_result zx_authenticate_db(const struct zx_server *srv, zx_request *req,
                                  const char **err);

/* Per-process view of the services' state (spec 14), re-read every few seconds. */
typedef struct zx_service_gate zx_service_gate;
zx_service_gate *zx_service_gate_create(apr_pool_t *p);

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

/* 1 when service (e.g. "activesync") runs, 0 when an admin stopped it, -1 on error. */
int zx_service_gate_check(const zx_server *srv, zx_request *req, const char *service,
                          const char **err);

/* The request's database connection, taken from srv->dbpool on first use. */
zx_db *zx_request_db(const zx_server *srv, zx_request *req, const char **err);

/* EAS common status codes used by the pipeline ([MS-ASCMD] 2.2.2). */
typedef enum {
    ZX_EAS_INVALID_CONTENT = 101,
    ZX_EAS_INVALID_WBXML = 102,
    ZX_EAS_INVALID_XML = 103,
    ZX_EAS_DEVICE_ID_INVALID = 108,
    ZX_EAS_DEVICE_TYPE_INVALID = 109,
    ZX_EAS_SERVER_ERROR = 110,
    ZX_EAS_SERVER_ERROR_RETRY = 111,
    ZX_EAS_COMMAND_NOT_SUPPORTED = 137,
    ZX_EAS_VERSION_NOT_SUPPORTED = 138,
    /* provisioning ([MS-ASCMD] 2.2.2, [MS-ASPROV] 3.1.5.2; 14.0+, HTTP 449 before) */
    ZX_EAS_DEVICE_NOT_FULLY_PROVISIONABLE = 139,
    ZX_EAS_REMOTE_WIPE_REQUESTED = 140,
    ZX_EAS_LEGACY_DEVICE_ON_STRICT_POLICY = 141,
    ZX_EAS_DEVICE_NOT_PROVISIONED = 142,
    ZX_EAS_POLICY_REFRESH = 143,
    ZX_EAS_INVALID_POLICY_KEY = 144,
    ZX_EAS_EXTERNALLY_MANAGED_DEVICES_NOT_ALLOWED = 145
} zx_eas_status;

/* Authentication (spec 2) and account enablement (spec 1.1) of a request, as every endpoint
 * answers them (the pipeline's stage, Autodiscover): 0 when the request may go on
 * (req->account is set), 1 when resp holds the refusal (401 with WWW-Authenticate, 403, or 503
 * with Retry-After) and its reason. */
int zx_authenticate_request(const struct zx_server *srv, zx_request *req, zx_response *resp);

/* Run the pipeline.  Always fills resp (status, headers, body, reason); never fails. */
void zx_handle(const zx_server *srv, zx_request *req, zx_response *resp);

/* Run the device gates (suspension, ABQ, provisioning/wipe) on a registered request, as the
 * pipeline does after the device registry.  Returns 1 when a gate answered the request (resp
 * is filled), 0 when the request may go on.  A waiting Ping/Sync calls it after
 * zx_device_reload() when woken. */
int zx_device_gates(const zx_server *srv, zx_request *req, zx_response *resp);

/* Answer a request with an error: for protocol 14.0+ and a command with a response element,
 * HTTP 200 and <Command><Status>eas_status</Status></Command>; otherwise legacy_http
 * (the HTTP status MS-ASCMD 2.2.2 maps the status to for 12.1 and earlier). */
void zx_respond_error(const zx_request *req, zx_response *resp, zx_eas_status eas_status,
                      int legacy_http, zx_log_level level, const char *reason);
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
/* Headers advertising versions and commands (OPTIONS, and a version refused). */
void zx_add_protocol_headers(const zx_server *srv, const zx_request *req, zx_response *resp);

#endif
