/* zxmobile - the LMTP protocol engine (RFC 2033; libzxsync/mailflow/lmtp.c): an MTA (Postfix's
 * lmtp client) hands messages for the accounts of this server over one connection, with one
 * reply per recipient after the message.
 *
 * The engine knows no sockets: the host (mod_zxmobile's LMTP listener, a unit test) feeds it
 * the bytes it reads (zx_lmtp_feed: whole lines, or any pieces of them) and writes out what it
 * answers (zx_lmtp_output).  RFC 2920 (PIPELINING) is the host's part: it writes the answers
 * out when no more input is waiting, and calls zx_lmtp_idle before it waits for more.
 *
 * Extensions: PIPELINING, ENHANCEDSTATUSCODES (RFC 2034, codes of RFC 3463), 8BITMIME (the
 * message is stored as it came, byte for byte), SIZE (RFC 1870).  Recipients are checked at
 * RCPT (550 5.1.1 unknown or closed account, 451 4.3.0 when the database cannot be reached);
 * after the message each accepted recipient gets its own reply, in RCPT order: 250 2.0.0
 * stored, 451 4.3.0 try again later (nothing stored for it), 552 5.3.4 too large, 554 5.6.0
 * not a message.  Each recipient is one delivery (zx_delivery_deliver: one transaction);
 * two recipients that are one account (its address and an alias) get one copy.
 *
 * The database connection comes from the host (ops.acquire), is taken when a command needs it
 * and given back at the end of each transaction and whenever the session waits for input. */
#ifndef ZXSYNC_LMTP_H
#define ZXSYNC_LMTP_H

#include <apr_pools.h>
#include <zxsync/db.h>
#include <zxsync/delivery.h>
#include <zxsync/log.h>

#define ZX_LMTP_DEFAULT_MAX_SIZE ((apr_size_t)50 * 1024 * 1024)
#define ZX_LMTP_DEFAULT_MAX_RCPTS 1000
/* longest command line, CRLF included (RFC 5321 4.5.3.1.4: 512, plus the SIZE and BODY
 * parameters' room; message lines have no limit but the message's) */
#define ZX_LMTP_MAX_COMMAND 2048

typedef struct zx_lmtp zx_lmtp;

typedef struct {
    /* A database connection for the session, lent until release (both with the pool p, the
     * transaction's: a lease the host ties to p ends at the latest when p is cleared).  NULL
     * and *err when the database cannot be reached now. */
    zx_db *(*acquire)(void *baton, apr_pool_t *p, const char **err);
    void (*release)(void *baton, apr_pool_t *p, zx_db *db);
    /* The directory and the delivery; NULL: zx_delivery_resolve and zx_delivery_deliver into
     * the Inbox (a unit test of the protocol gives its own). */
    int (*resolve)(void *baton, apr_pool_t *p, zx_db *db, const char *address,
                   const char **name, const char **id, const char **err);
    zx_delivery_status (*deliver)(void *baton, apr_pool_t *p, zx_db *db, const char *address,
                                  const char *data, apr_size_t len, zx_delivery *out,
                                  const char **err);
    /* One log line (tagged ZXLOGNO) about a recipient or the session; NULL: zx_log. */
    void (*log)(void *baton, zx_log_level level, const char *msg);
    void *baton;
} zx_lmtp_ops;

typedef struct {
    const char *hostname;       /* in the greeting and the LHLO answer */
    apr_size_t max_size;        /* SIZE: largest message (0: ZX_LMTP_DEFAULT_MAX_SIZE) */
    unsigned max_rcpts;         /* recipients of one transaction (0: the default) */
    struct zx_transport *transport; /* where out-of-office replies to outside senders go
                                 * (zx_submit; NULL: none, such replies are not sent) */
} zx_lmtp_settings;

typedef struct {
    unsigned long transactions;  /* messages received (final dot) */
    unsigned long delivered;     /* recipients answered 250 */
    unsigned long deferred;      /* 4xx at RCPT or after the message */
    unsigned long rejected;      /* 5xx at RCPT or after the message */
} zx_lmtp_stats;

/* A session in pool p (its cleanup gives back a connection still lent and frees the message
 * buffer).  ops is copied. */
zx_lmtp *zx_lmtp_create(apr_pool_t *p, const zx_lmtp_settings *settings,
                        const zx_lmtp_ops *ops);
/* Queue the greeting (220). */
void zx_lmtp_greet(zx_lmtp *s);
/* Process input bytes: any split, several lines at once (pipelining).  Returns how many were
 * taken: all of them, unless the session ended (QUIT) within them. */
apr_size_t zx_lmtp_feed(zx_lmtp *s, const char *data, apr_size_t len);
/* The answers queued so far (*len bytes; NULL when none); zx_lmtp_output_done once written. */
const char *zx_lmtp_output(zx_lmtp *s, apr_size_t *len);
void zx_lmtp_output_done(zx_lmtp *s);
/* The host waits for input: the database connection goes back to its pool meanwhile. */
void zx_lmtp_idle(zx_lmtp *s);
/* The session ends without QUIT: queue a 421 with the enhanced code (NULL: 4.4.2) and why
(e.g. "timeout"); an open transaction is dropped, nothing more is lent. */
void zx_lmtp_abort(zx_lmtp *s, const char *code, const char *why);
/* 1 when the connection is to close (after QUIT or abort, once the output is written). */
int zx_lmtp_closed(const zx_lmtp *s);
/* 1 while a transaction is open (between MAIL and its end): a stopping host closes the
 * session (421) only between transactions. */
int zx_lmtp_in_transaction(const zx_lmtp *s);
const zx_lmtp_stats *zx_lmtp_stats_get(const zx_lmtp *s);

#endif
