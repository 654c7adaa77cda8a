/* zxmobile - local delivery (libzxsync/mailflow/): a message into the mailbox of an account of
 * this server.  The one delivery path of `zxsuite mailbox deliver`, the LMTP listener and the
 * mail the server's own users send each other.
 *
 * A delivery is one transaction: the message is stored (and a meeting message applied to the
 * calendar, zx_meeting_deliver) or nothing is.  Serialization failures, deadlocks and the
 * unique violation two concurrent first deliveries meet while creating a mailbox are retried
 * (five attempts); whatever still fails is a temporary failure the caller reports as such (an
 * MTA retries: EX_TEMPFAIL, LMTP 451), so that nothing is lost while the database is away. */
#ifndef ZXSYNC_DELIVERY_H
#define ZXSYNC_DELIVERY_H

#include <apr_pools.h>
#include <zxsync/db.h>
#include <zxsync/store.h>

typedef enum {
    ZX_DELIVERY_OK = 0,
    ZX_DELIVERY_NOUSER,         /* no such account, or a closed one: permanent (550, EX_NOUSER) */
    ZX_DELIVERY_BADMSG,         /* not a message: empty, no header fields (554, EX_DATAERR) */
    ZX_DELIVERY_TEMPFAIL        /* database unavailable, a failure that persisted: try later
                                 * (451, EX_TEMPFAIL) */
} zx_delivery_status;

/* An out-of-office reply to send (zx_oof_reply). */
typedef struct {
    const char *to;             /* the sender of the delivered message; NULL: no reply */
    const char *data;           /* the reply, to send with the null reverse-path (<>) */
    apr_size_t len;
    const char *audience;       /* "internal", "external_known", "external_unknown" */
    const char *refused;        /* why a message of an account whose Oof is on gets no reply
                                 * (an automatic or list message, already replied to, ...) */
} zx_oof;

typedef struct {
    const char *account;        /* the account's name (user@domain) */
    const char *account_id;
    const char *folder_id;      /* where the message went */
    const char *folder_name;
    const char *item_id;
    const char *warning;        /* the folder asked for is unknown or holds no mail: the
                                 * message went to the Inbox (as Dovecot's LDA does); NULL */
    zx_oof oof;                 /* the Oof reply this delivery asks for (zx_delivery_deliver_from) */
} zx_delivery;

/* The open account an envelope address names: the account's own address or one of its
 * aliases (zimbraMailAlias), without case; angle brackets around it are ignored.  1 found
 * (*name its user@domain, *id), 0 unknown or closed (*err says which), -1 database error. */
int zx_delivery_resolve(apr_pool_t *p, zx_db *db, const char *address, const char **name,
                        const char **id, const char **err);

/* Why data cannot be stored as a message at all (empty, the first line no header field), or
 * NULL. */
const char *zx_delivery_message_problem(const char *data, apr_size_t len);

/* The folder arg names in st's mailbox: a server id, a "Parent/Child" path or a name unique in
 * the mailbox, without case.  1 a mail folder, 2 a folder that holds no mail (*out set both
 * times), 0 none, -1 error (*err). */
int zx_delivery_find_folder(zx_store *st, const char *arg, zx_folder **out, const char **err);

/* 1 when a failed delivery's *err (as zx_db_exec words it) is worth another attempt: a
 * serialization failure, a deadlock, two first deliveries creating one mailbox. */
int zx_delivery_retryable(const char *err);

/* Deliver data to the account address names (zx_delivery_resolve), into folder (a server id,
 * a "Parent/Child" path or a name unique in the mailbox, without case; NULL: the Inbox).
 * Outside a transaction each attempt is one of its own, and serialization failures are
 * retried; inside the caller's (zx_submit: the sender's Sent copy and the local copies commit
 * together) the delivery joins it, is tried once, and a failure is TEMPFAIL for the caller to
 * roll back.  *out is filled on ZX_DELIVERY_OK; *err says why on any other result. */
zx_delivery_status zx_delivery_deliver(apr_pool_t *p, zx_db *db, const char *address,
                                       const char *folder, const char *data, apr_size_t len,
                                       zx_delivery *out, const char **err);

/* The envelope sender an MTA wrote into the message it hands to a command (Return-Path, the
 * first header field of Postfix's pipe(8) with flag R and of local(8)): "" for <>, NULL when
 * the message has none. */
const char *zx_delivery_return_path(apr_pool_t *p, const char *data, apr_size_t len);

/* zx_delivery_deliver with the envelope sender (MAIL FROM; NULL or "" the null sender): once
 * the message is committed, out->oof is the out-of-office reply it asks for, if any
 * (zx_oof_reply; its failure is logged and does not fail the delivery).  The caller sends the
 * reply with the null reverse-path. */
zx_delivery_status zx_delivery_deliver_from(apr_pool_t *p, zx_db *db, const char *sender,
                                            const char *address, const char *folder,
                                            const char *data, apr_size_t len, zx_delivery *out,
                                            const char **err);

/* The out-of-office reply (libzxsync/mailflow/oof.c) a message delivered to d's account from
 * sender asks for: when the account's Oof is on (global, or now between its start and end), the
 * text of the sender's audience is enabled, the sender is a person (not the null sender, the
 * account or its aliases, a daemon or list address) and the message neither automatic nor a
 * list's nor a blind copy (zx_mime_auto_reply_refusal), and this sender got no reply yet under
 * this setting (recorded in oof_replies).  1 a reply in *out, 0 none (out->refused may say
 * why), -1 database error. */
int zx_oof_reply(apr_pool_t *p, zx_db *db, const zx_delivery *d, const char *sender,
                 const char *data, apr_size_t len, zx_oof *out, const char **err);

#endif
