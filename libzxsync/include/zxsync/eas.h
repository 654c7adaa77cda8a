/* zxmobile - the ActiveSync request and response values ([MS-ASHTTP]), the protocol versions,
 * the command table (eas_commands.def) and the common status table (eas_status.def): the
 * protocol's values, level 2 (libzxsync/proto/), used by every layer above.
 *
 * mod_zxmobile (or any other host) fills a zx_request from the HTTP request and hands it to
 * zx_handle(); everything else - parameter rules, versions, the pipeline, the commands - is
 * in the library.  Both query forms of MS-ASHTTP 2.2.1.1.1 (plain text and base64) decode
 * into the same value.
 */
#ifndef ZXSYNC_EAS_H
#define ZXSYNC_EAS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <stdint.h>

#include <zxsync/auth.h>
#include <zxsync/db.h>
#include <zxsync/log.h>
#include <zxsync/wbxml.h>

/* ---- protocol versions -------------------------------------------------------------
 * A version is major*10+minor, the value of the base64 query's protocol byte (25 = 2.5,
 * 141 = 14.1).  A set of versions is a bit mask over zx_versions[]. */
typedef unsigned zx_version;
typedef unsigned zx_vset;

#define ZX_V25  25u
#define ZX_V120 120u
#define ZX_V121 121u
#define ZX_V140 140u
#define ZX_V141 141u
#define ZX_V160 160u
#define ZX_V161 161u

extern const zx_version zx_versions[];     /* ascending, 0-terminated */
#define ZX_VSET_ALL 0x7Fu

zx_version zx_version_parse(const char *s);       /* "14.1" -> 141, 0 if unknown */
const char *zx_version_str(zx_version v);          /* 141 -> "14.1", NULL if unknown */
zx_vset zx_vset_of(zx_version v);                  /* the bit of one version */
/* "2.5,12.0,14.1" (commas and/or blanks) -> set; returns 0 and *bad if a token is unknown */
zx_vset zx_vset_parse(apr_pool_t *p, const char *list, const char **bad);
const char *zx_vset_str(apr_pool_t *p, zx_vset set);     /* "2.5,12.0,14.1" */

/* ---- commands ---------------------------------------------------------------------- */
typedef enum {
    ZX_CMD_UNKNOWN = -1,
#define ZX_COMMAND(id, name, code, root, minv, maxv, maxbody, maxnodes) ZX_CMD_##id,
#include <zxsync/eas_commands.def>
#undef ZX_COMMAND
    ZX_CMD_COUNT_
} zx_cmd;

typedef struct {
    const char *name;       /* Cmd= value, e.g. "FolderSync" */
    int code;               /* base64 query command code, -1 if none */
    unsigned root_tag;      /* top-level element of its WBXML response, ZX_TAG_NONE_ if none */
    zx_version min_version; /* first protocol version with the command */
    zx_version max_version; /* last protocol version with it (0 = still current) */
    apr_size_t max_body;    /* largest request body, bytes; 0 = the server's (max_body) */
    apr_size_t max_nodes;   /* WBXML node budget of its request body */
} zx_command_info;

const zx_command_info *zx_command_info_get(zx_cmd cmd);
zx_cmd zx_command_by_name(const char *name);   /* case-insensitive */
zx_cmd zx_command_by_code(int code);
int zx_command_in_version(zx_cmd cmd, zx_version v);

/* A command handler (the table is eas/handlers.c; zxsync/proto.h says what it may rely on): it
 * answers the request completely.  The lookup gives a command's handler, NULL when the command
 * is not implemented. */
struct zx_server;
struct zx_request;
struct zx_response;
typedef void zx_command_handler(const struct zx_server *srv, struct zx_request *req,
                                struct zx_response *resp);
typedef zx_command_handler *zx_command_lookup(zx_cmd cmd);

/* Comma-separated names of the commands valid in at least one version of set that have a
 * handler in handled (the OPTIONS header: a command is advertised only when it is answered);
 * handled NULL: every command of the table. */
const char *zx_command_list(apr_pool_t *p, zx_vset set, zx_command_lookup *handled);

/* ---- EAS common status codes (data in eas_status.def) -------------------------------- */
typedef enum {
#define ZX_EAS_STATUS(id, number, legacy_http) ZX_EAS_##id = number,
#include <zxsync/eas_status.def>
#undef ZX_EAS_STATUS
} zx_eas_status;

/* The HTTP status a request of protocol 12.1 or earlier is answered with instead of st
 * (eas_status.def); 500 for a status the table does not list. */
int zx_eas_status_http(zx_eas_status st);

/* ---- request and response ------------------------------------------------------------ */
typedef enum { ZX_METHOD_OTHER = 0, ZX_METHOD_POST, ZX_METHOD_OPTIONS, ZX_METHOD_GET } zx_method;

/* What administrators control on a device record (sql/006), read by the device registry stage
 * in the same statement that registers the device. */
typedef enum {
    ZX_WIPE_NONE = 0,        /* no wipe */
    ZX_WIPE_REQUESTED = 1,   /* doWipeDevice: sent with the device's next Provision */
    ZX_WIPE_DONE = 2         /* the device acknowledged the wipe: nothing is served to it */
} zx_wipe_status;

typedef struct {
    int is_new;                  /* the record was created by this request */
    int sync_suspended;          /* doSuspendDeviceSync */
    zx_wipe_status wipe_status;
    int wipe_account_only;       /* AccountOnlyRemoteWipe (16.1) instead of RemoteWipe */
    int has_policy_key;          /* the device acknowledged a policy (policy_key is valid) */
    uint32_t policy_key;         /* its final policy key */
    const char *sync_cache_md5;  /* md5 (hex) of the cached Sync request when registered, NULL
                                    if none: Sync skips rewriting the same request */
} zx_device_ctl;

struct zx_request;
/* Reads the request body, at most max bytes, into req->body/body_len.  Returns 0, or the HTTP
 * status to answer (413 over max, 400 a read error or timeout) and *why. */
typedef int zx_body_reader(void *baton, struct zx_request *req, apr_size_t max,
                           const char **why);

typedef struct zx_request {
    apr_pool_t *pool;
    void *log_ctx;               /* host context for zx_log (the request_rec) */
    zx_method method;

    /* query (either form); the query, header and body fields below are the request's inputs:
     * each is part of the answer cache's key (zx_answer_key in gate/answer.c) */
    int base64_query;            /* the query came in the base64 form */
    const char *cmd_name;
    zx_cmd cmd;
    const char *user;
    const char *device_id;
    const char *device_type;
    const char *attachment_name;
    const char *collection_id;
    const char *item_id;
    const char *long_id;
    const char *occurrence;
    int save_in_sent;            /* -1 when absent */
    int accept_multipart;        /* -1 when absent */
    unsigned locale;             /* base64 form only, 0 otherwise */

    /* headers */
    const char *proto_str;       /* MS-ASProtocolVersion as sent */
    zx_version proto;            /* parsed version (header or base64 byte), 0 if none */
    int has_policy_key;
    uint32_t policy_key;
    const char *user_agent;
    const char *content_type;
    const char *client_ip;
    const char *auth_user;       /* HTTP Basic, NULL when absent */
    const char *auth_password;

    /* body: a host that gives a reader (read_body) lets the pipeline read the body only once
     * the request is authenticated and its command's limit is known (zx_request_read_body);
     * a host without one sets body/body_len before zx_handle */
    const unsigned char *body;
    apr_size_t body_len;
    long long body_declared;     /* Content-Length; -1 = not known (chunked); 0 = none */
    zx_body_reader *read_body;   /* NULL once read (or when there is no reader) */
    void *read_body_baton;
    zx_wb_node *doc;             /* decoded body (set by the pipeline) */

    /* set by the pipeline */
    zx_db *db;                   /* this request's connection (zx_request_db) */
    int authenticated;
    zx_auth_account account;     /* who it is, once authenticated */
    const char *device_row;      /* the (account, DeviceId) device record's id, once registered */
    zx_device_ctl device;        /* that record's control state (valid once device_row is set) */
    zx_vset versions;            /* versions offered to and accepted from this client, decided
                                    by the EAS filters (gate/easfilter.c); valid when
                                    versions_set, else the server's */
    int versions_set;
    zx_command_lookup *commands; /* the command table the request runs with (set by
                                    zx_pipeline_run): OPTIONS lists its commands; NULL = none */
    int client_fd;               /* the client's socket, polled for a hang-up while a Ping
                                    waits; -1 = unknown (zx_request_init) */
    int window_cap;              /* the account logger's window_size: caps every Sync
                                    WindowSize (0 = none; gate/acctlog.c) */
    int abq_held;                /* ABQ holds the device back (zxsync/abq.h): 0 = no, else
                                    ZX_ABQ_QUARANTINED or ZX_ABQ_BLOCKED; it sees the dummy
                                    mailbox (zx_request_store) */
    int mdm_off;                 /* ZxMobile_DeviceManagementEnabled was FALSE when the account
                                    was read (gate/auth.c): the provisioning gate needs no
                                    policy; 0 = not known (zx_device_reload clears it) */
    const void *abq_ctx;         /* what the ABQ gate reads, read along with the device record
                                    (zx_abq_ctx_keep); NULL: the gate reads it */

    /* the answer cache (zxsync/answer.h) */
    struct zx_answer_fill *answer_fill;  /* a miss that may be kept: its key and generations */
    int answer_reusable;         /* set by a handler: this answer changed nothing and depends
                                    only on the request and the account's data (no wait, no
                                    write, no clock) - it may be given again */
    int answered_from_cache;     /* the answer came from the cache */
} zx_request;

typedef struct zx_response {
    int status;                  /* HTTP status */
    apr_table_t *headers;        /* extra response headers */
    const char *content_type;    /* NULL: no body */
    const unsigned char *body;
    apr_size_t body_len;
    const char *reason;          /* why a request failed, for the error log */
    zx_log_level reason_level;   /* level of that log line */
} zx_response;

void zx_request_init(zx_request *req, apr_pool_t *p);
void zx_response_init(zx_response *resp, apr_pool_t *p);

/* Read the body now through req->read_body (once; nothing to do without a reader), at most
 * max bytes.  Returns 0, or an HTTP status and *why (zx_body_reader). */
int zx_request_read_body(zx_request *req, apr_size_t max, const char **why);

/* Parse the query string (either form) into req.  On a malformed query returns -1 and sets
 * *why to the reason (the caller answers 400).  Parameters are validated by zx_handle. */
int zx_request_parse_query(zx_request *req, const char *args, const char **why);
/* Take one HTTP request header into req (MS-ASProtocolVersion, X-MS-PolicyKey, User-Agent,
 * Content-Type, Authorization, MS-ASAcceptMultiPart; others are ignored).  Call after
 * zx_request_parse_query: the base64 query's version byte wins over the header.  Returns -1
 * (and *why) for a malformed value. */
int zx_request_set_header(zx_request *req, const char *name, const char *value, const char **why);
/* Parse an "Authorization: Basic ..." header value into auth_user/auth_password.
 * Returns -1 (and *why) for a malformed header, 0 otherwise. */
int zx_request_parse_basic_auth(zx_request *req, const char *header, const char **why);
/* Base64 form of a query (the client side; used by tests and tools). */
const char *zx_request_encode_base64_query(apr_pool_t *p, const zx_request *req);

#endif
