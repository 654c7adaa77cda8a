/* zxmobile - server notifications: what the mobile module tells its administrators (spec 5:
 * "a warning is sent via email to admin and added to server notifications").  Each one is a
 * row of the notifications table (sql/011) that `zxsuite core getNotification` lists, and an
 * e-mail to the addresses of ZxMobile_NotificationRecipients (global; the first is also the
 * sender), handed to the ZxMobileSendmail command.  Sent from libzxsync/mta/ (the mail-out
 * layer), whoever raises it: the anti-DoS stage, the ABQ rules. */
#ifndef ZXSYNC_NOTIFICATION_H
#define ZXSYNC_NOTIFICATION_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <zxsync/db.h>
#include <zxsync/transport.h>

typedef struct {
    const char *id;            /* set when stored / read */
    const char *created;       /* ISO 8601 UTC, when read */
    const char *server;        /* the node it happened on */
    const char *module;        /* "ZxMobile" */
    const char *source;        /* what raised it, e.g. "anti-dos" */
    const char *level;         /* "info", "warning", "error" */
    const char *subject;       /* one line */
    const char *body;          /* text, lines separated by '\n' */
    const char *account;       /* concerned account, or NULL */
    const char *device_id;     /* concerned device, or NULL */
    const char *mail_status;   /* "sent", or why no mail went out (when read) */
} zx_notification;

/* The administrators: the addresses of ZxMobile_NotificationRecipients (global), parsed by
 * zx_recipients_parse (zxsync/recipients.h: the format).  *out: const char *, maybe empty;
 * -1 and *err when the attribute cannot be read. */
int zx_admin_recipients(apr_pool_t *p, zx_db *db, apr_array_header_t **out, const char **err);

/* Store n (n->id is set) and email the administrators through the transport t
 * (zxsync/transport.h; NULL or none: no mail).  Returns -1 and *err only when the row cannot be
 * stored; *mail_status (optional) is "sent" or why the mail did not go out, and is recorded
 * on the row too. */
int zx_admin_notify(apr_pool_t *p, zx_db *db, zx_transport *t, zx_notification *n,
                    const char **mail_status, const char **err);

/* Notifications, newest first (id NULL = all, else that one; limit <= 0 = no limit).
 * out: zx_notification *. */
int zx_notifications_list(apr_pool_t *p, zx_db *db, const char *id, int limit,
                          apr_array_header_t **out, const char **err);

#endif
