/* zxmobile - mobile account loggers (spec 10): every EAS exchange of an account written to a
 * file of its own, at a level of its own, and a cap on the Sync WindowSize of the account's
 * devices while the logger exists.
 *
 * The loggers are rows of account_loggers (sql/012), managed by `zxsuite mobile
 * doAddAccountLogger | getAccountLoggers | doRemoveLogger`.  Each httpd child keeps them in
 * memory (zx_acctlog_cache, re-read every ZX_ACCTLOG_RECHECK seconds) so a request costs no
 * database round trip; the pipeline's last step (ARCHITECTURE 2, step 9) writes the exchange.
 *
 * Levels, from the least to the most verbose:
 *   crit, err  one line per exchange the server failed: HTTP 5xx, or EAS status 110/111
 *              (ZX_EAS_SERVER_ERROR, ZX_EAS_SERVER_ERROR_RETRY)
 *   warn       one line per exchange that failed: the above, HTTP 4xx, or an EAS Status that
 *              is not a success (MS-ASCMD: 1, for Ping also 2, for MoveItems 3)
 *   info       one line per exchange
 *   debug      the line, then the request and the response decoded to XML
 *   trace      also the query parameters and the HTTP headers (never the password) and a
 *              MIME request body as text
 * Passwords never reach the file: the Authorization header is not written, and the text of
 * the Password elements (Settings, ItemOperations, Search) is replaced by "***".
 */
#ifndef ZXSYNC_ACCTLOG_H
#define ZXSYNC_ACCTLOG_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <zxsync/db.h>
#include <zxsync/wbxml.h>

typedef enum {
    ZX_ACCTLOG_CRIT = 0,
    ZX_ACCTLOG_ERR,
    ZX_ACCTLOG_WARN,
    ZX_ACCTLOG_INFO,
    ZX_ACCTLOG_DEBUG,
    ZX_ACCTLOG_TRACE
} zx_acctlog_level;

/* "debug", "INFO", "warning", "error" ... -> level (case-insensitive); -1 if unknown. */
int zx_acctlog_level_parse(const char *s);
/* The stored name: "trace", "debug", "info", "warn", "err", "crit". */
const char *zx_acctlog_level_name(zx_acctlog_level level);

/* Seconds an httpd child keeps its copy of the loggers before reading them again. */
#define ZX_ACCTLOG_RECHECK 2

/* The user httpd's children run as, who must be able to append to a logger's file: the
 * ZXMOBILE_HTTPD_USER environment variable, else "www-data" (Debian's APACHE_RUN_USER). */
#define ZX_ACCTLOG_DEFAULT_HTTPD_USER "www-data"
const char *zx_acctlog_httpd_user(void);

/* ---- the loggers (the CLI) ------------------------------------------------------------------ */

typedef struct {
    const char *id;
    const char *account_id;
    const char *account;        /* local@domain */
    zx_acctlog_level level;
    const char *file;
    int window_size;            /* 0: none */
    const char *created;        /* ISO 8601 UTC */
} zx_acctlog;

/* The directory every logger's file must be in: ZxMobile_AccountLoggerDirectory (global),
 * default ZX_ACCTLOG_DEFAULT_DIRECTORY (Debian's httpd log directory).  NULL and *err when the
 * configuration cannot be read. */
#define ZX_ACCTLOG_DEFAULT_DIRECTORY "/var/log/apache2"
const char *zx_acctlog_directory(apr_pool_t *p, zx_db *db, const char **err);
/* 0 when path is an absolute path without empty, "." or ".." parts inside dir (at any depth);
 * else -1 and *err. */
int zx_acctlog_path_allowed(apr_pool_t *p, const char *dir, const char *path, const char **err);

/* Make sure httpd_user can append to path: an absolute path to a regular file (not a symbolic
 * link, and no symbolic link on the way to it) inside dir (zx_acctlog_path_allowed).  A missing file is created (mode 0640) and, when running as root, given to
 * httpd_user; then, as root, a child process that switched to httpd_user opens it for
 * appending, so directories it cannot traverse are found too.  Not as root, the file must be
 * ours and we httpd_user, or its mode must let httpd_user write it.  A file created here is
 * removed again when the check fails.  Returns 0, or -1 and *err (a sentence naming the file
 * and the reason). */
int zx_acctlog_prepare_file(apr_pool_t *p, const char *dir, const char *path,
                            const char *httpd_user, const char **err);

/* Add a logger (level as zx_acctlog_level_parse takes it; window_size 0 = none): checks the
 * account, the level and the file (zx_acctlog_prepare_file), refuses a second logger of the
 * account to the same file, and records the action in admin_audit, all in one transaction. */
int zx_acctlog_add(apr_pool_t *p, zx_db *db, const char *account, const char *level,
                   const char *file, int window_size, const char *httpd_user, zx_acctlog **out,
                   const char **err);
/* Every logger, by id. */
int zx_acctlog_list(apr_pool_t *p, zx_db *db, apr_array_header_t **out, const char **err);
/* Remove one logger (its id) or every one ("all_loggers"); *removed says how many.  An unknown
 * id is an error. */
int zx_acctlog_remove(apr_pool_t *p, zx_db *db, const char *which, int *removed,
                      const char **err);

/* ---- one exchange, as written to the file --------------------------------------------------- */

typedef struct {
    apr_time_t start;                   /* when the request came */
    apr_interval_time_t duration;
    const char *account;
    const char *device_id, *device_type;
    const char *cmd;                    /* Cmd= value, "OPTIONS" for OPTIONS */
    const char *proto;                  /* MS-ASProtocolVersion as sent */
    const char *client_ip;
    const char *user_agent;
    int http_status;
    int eas_status;                     /* the response's Status, -1 none */
    int eas_ok;                         /* that Status is a success for the command */
    /* request: decoded WBXML (or NULL) and the body as it came */
    const zx_wb_node *request_doc;
    const unsigned char *request_body;
    apr_size_t request_len;
    const char *request_type;           /* Content-Type */
    const apr_table_t *request_info;    /* trace: query parameters and headers, in order */
    /* response */
    const zx_wb_node *response_doc;
    const unsigned char *response_body;
    apr_size_t response_len;
    const char *response_type;
    const apr_table_t *response_headers;
} zx_acctlog_exchange;

/* The class of an exchange: ZX_ACCTLOG_ERR (the server failed), ZX_ACCTLOG_WARN (refused or
 * failed) or ZX_ACCTLOG_INFO. */
zx_acctlog_level zx_acctlog_severity(const zx_acctlog_exchange *x);
/* The EAS Status of a response document (the root's, else the first one that is not a success,
 * else the first one, among the Status elements of the root's code page); -1 if none.  *ok says
 * whether it is a success for that command. */
int zx_acctlog_eas_status(apr_pool_t *p, const zx_wb_node *doc, int *ok);
/* The record of an exchange for a logger at level: one line, and at debug/trace the request and
 * the response, each line prefixed "> " (request) or "< " (response).  Ends with a newline;
 * NULL when the level does not record this exchange. */
char *zx_acctlog_format(apr_pool_t *p, const zx_acctlog_exchange *x, zx_acctlog_level level,
                        apr_size_t *len);
/* Append a record to path with a single write(2) on a descriptor opened with O_APPEND (and
 * O_CREAT, mode 0640, no symbolic link followed on the whole path), so records of concurrent
 * writers never interleave and a rotated or deleted file is followed at once.  Returns 0, or
 * an errno value: EPERM when path is not inside dir, ELOOP for a symbolic link. */
int zx_acctlog_append(const char *dir, const char *path, const char *data, apr_size_t len);

/* ---- the pipeline (gate/acctlog.c; the rest is gate/acctlog_file.c) ------------------------- */

struct zx_server;
struct zx_request;
struct zx_response;
typedef struct zx_acctlog_cache zx_acctlog_cache;

/* The per-process copy of the loggers (one per httpd child, created in child_init). */
zx_acctlog_cache *zx_acctlog_cache_create(apr_pool_t *p);
/* The smallest window_size of the loggers of the request's account, 0 if none. */
int zx_acctlog_window_cap(const struct zx_server *srv, struct zx_request *req);
/* Write the exchange to the files of the loggers of the request's account (the pipeline's last
 * step; start = when zx_handle began). */
void zx_acctlog_record(const struct zx_server *srv, struct zx_request *req,
                       const struct zx_response *resp, apr_time_t start);

#endif
