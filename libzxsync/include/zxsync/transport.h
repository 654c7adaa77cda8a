/* zxmobile - the mail transport (libzxsync/mta/): where mail for outside the server goes.
 *
 * A transport is parsed from one spec (ZxMobileMailTransport):
 *
 *   none (or unset)             no mail leaves the server (local accounts still get theirs,
 *                               zxsync/submit.h)
 *   sendmail:<command line>     a sendmail-compatible command (zxsync/sendmail.h); a bare
 *   /usr/sbin/sendmail -i       absolute path means the same
 *   smtp://host[:port]          SMTP submission (RFC 6409, port 587 by default), STARTTLS
 *                               required unless starttls_optional
 *   smtps://host[:port]         SMTP over implicit TLS (port 465 by default)
 *
 * SMTP goes through libcurl: the certificate is always verified (the system trust store, or
 * ca_file), AUTH only with credentials from a file (one line user:password, not readable by
 * everyone).  curl_global_init is zx_transport_global_init, once per process. */
#ifndef ZXSYNC_TRANSPORT_H
#define ZXSYNC_TRANSPORT_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef enum {
    ZX_TRANSPORT_NONE = 0,
    ZX_TRANSPORT_SENDMAIL,
    ZX_TRANSPORT_SMTP,
    ZX_TRANSPORT_SMTPS
} zx_transport_kind;

#define ZX_TRANSPORT_DEFAULT_TIMEOUT 60     /* seconds, SMTP and sendmail alike */

typedef struct zx_transport {
    zx_transport_kind kind;
    const char *spec;           /* as configured */
    const char *command;        /* SENDMAIL: the command line */
    const char *host;           /* SMTP/SMTPS */
    unsigned port;
    const char *url;            /* SMTP/SMTPS: scheme://host:port as libcurl takes it */
    /* options (set after zx_transport_parse) */
    const char *credentials;    /* file with one line user:password, NULL = no AUTH */
    const char *ca_file;        /* PEM CA certificates, NULL = the system trust store */
    int starttls_optional;      /* SMTP: 1 = go on in clear text when STARTTLS is not offered */
    unsigned timeout;           /* seconds; 0 = ZX_TRANSPORT_DEFAULT_TIMEOUT */
    /* the credentials once read (zx_transport_load_credentials) */
    const char *user;
    const char *password;
} zx_transport;

typedef enum {
    ZX_SEND_OK = 0,
    ZX_SEND_TEMPFAIL,           /* try again later: SMTP 4xx, no connection, timeout, TLS
                                 * failure, sendmail exit 75 (EX_TEMPFAIL) or not runnable */
    ZX_SEND_PERMFAIL            /* refused: SMTP 5xx, another sendmail exit status, no
                                 * transport for outside mail */
} zx_send_status;

/* Parse spec (NULL or "" = none) into *out (options zeroed).  0, or -1 with *err saying what
 * is wrong with it. */
int zx_transport_parse(apr_pool_t *p, const char *spec, zx_transport *out, const char **err);

/* What stands in the way of sending with t, or NULL: the sendmail program missing or not
 * executable; the credentials file unreadable, readable by everyone or not user:password; the
 * CA file unreadable.  Reads the credentials into t (zx_transport_load_credentials): run as
 * root at start, the children need not read the file themselves. */
const char *zx_transport_check(apr_pool_t *p, zx_transport *t);

/* Read t->credentials into t->user/t->password.  0, or -1 with *err. */
int zx_transport_load_credentials(apr_pool_t *p, zx_transport *t, const char **err);

/* 1 when t can send mail outside the server (not none). */
int zx_transport_outside(const zx_transport *t);

/* 1 when t is a sendmail command line with -t: the command reads the recipients from the
 * message itself (and removes Bcc), so no local routing can be done (zxsync/submit.h). */
int zx_transport_reads_recipients(apr_pool_t *p, const zx_transport *t);

/* One line for logs: "smtp://mx.example.com:587 (STARTTLS required, AUTH)". */
const char *zx_transport_describe(apr_pool_t *p, const zx_transport *t);

/* curl_global_init: once per process, before threads (httpd child_init).  0 or -1. */
int zx_transport_global_init(const char **err);

/* Send data (an RFC 5322 message, LF or CRLF line ends) from sender to rcpts (const char *
 * addr-specs; ignored by a sendmail -t command).  On a failure *err has the reason, with the
 * SMTP server's reply or the command's stderr. */
zx_send_status zx_transport_send(apr_pool_t *p, zx_transport *t, const char *sender,
                                 const apr_array_header_t *rcpts, const char *data,
                                 apr_size_t len, const char **err);

#endif
