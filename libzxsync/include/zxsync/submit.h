/* zxmobile - mail the server's users send (libzxsync/mailflow/): SendMail, SmartReply,
 * SmartForward, a draft sent from Sync, a MeetingResponse reply.
 *
 * Each envelope recipient that is an account of this server (zx_delivery_resolve: its address
 * or an alias) gets its own copy delivered into its Inbox (zx_delivery_deliver); the others go
 * to the transport (zxsync/transport.h) in one submission.  The caller has already removed the
 * Bcc header from data (the Bcc recipients are in rcpts).
 *
 * Called inside the caller's transaction (the usual case: the Sent Items copy and the
 * ClientId are written in it), the local deliveries join that transaction: when the
 * submission to the transport fails afterwards and the caller rolls back, the local copies go
 * too, and the client's retry delivers them once.  The transport is tried only when every
 * local delivery succeeded.
 *
 * A sendmail transport with -t reads the recipients from the message itself: then nothing is
 * routed here, everything goes to the command (which must deliver to local accounts too, e.g.
 * through the LMTP listener or `zxsuite mailbox deliver`). */
#ifndef ZXSYNC_SUBMIT_H
#define ZXSYNC_SUBMIT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <zxsync/db.h>
#include <zxsync/transport.h>

typedef struct {
    const char *address;        /* as given */
    const char *account;        /* the local account it named (user@domain), NULL = outside */
    zx_send_status status;
    const char *why;            /* on a failure; NULL otherwise */
} zx_submit_rcpt;

typedef struct {
    zx_send_status status;      /* PERMFAIL if any recipient failed for good, else TEMPFAIL if
                                 * any may work later, else OK */
    apr_array_header_t *rcpts;  /* zx_submit_rcpt, one per distinct recipient, in order */
    int local;                  /* recipients delivered here */
    int outside;                /* recipients handed to the transport */
    const char *err;            /* which recipients failed and why ("a@x: ...; b@y: ..."),
                                 * NULL on OK */
} zx_submit_result;

/* Route and send data from sender (the authenticated account) to rcpts (const char *
 * addr-specs).  t NULL means none.  Returns res->status. */
zx_send_status zx_submit(apr_pool_t *p, zx_db *db, zx_transport *t, const char *sender,
                         const apr_array_header_t *rcpts, const char *data, apr_size_t len,
                         zx_submit_result *res);

#endif
