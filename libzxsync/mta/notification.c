/* zxmobile - server notifications (see zxsync/notification.h). */
#include <zxsync/config.h>
#include <zxsync/notification.h>
#include <zxsync/recipients.h>
#include <zxsync/transport.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <stdlib.h>
#include <string.h>

int zx_admin_recipients(apr_pool_t *p, zx_db *db, apr_array_header_t **out, const char **err)
{
    const char *value = NULL;
    *out = NULL;
    if (zx_config_get(p, db, ZX_LEVEL_GLOBAL, NULL, "ZxMobile_NotificationRecipients", &value,
                      err) < 0)
        return -1;
    *out = zx_recipients_parse(p, value, NULL);
    return 0;
}

/* One header line: no CR/LF can come through. */
static const char *hdr(apr_pool_t *p, const char *s)
{
    char *o = apr_pstrdup(p, s ? s : "");
    for (char *c = o; *c; c++)
        if (*c == '\r' || *c == '\n')
            *c = ' ';
    return o;
}

static const char *message(apr_pool_t *p, const zx_notification *n, const char *sender,
                           const apr_array_header_t *rcpts)
{
    char date[APR_RFC822_DATE_LEN];
    apr_rfc822_date(date, apr_time_now());
    const char *pretty = "";
    for (int i = 0; i < rcpts->nelts; i++)
        pretty = apr_pstrcat(p, pretty, i ? ", " : "", APR_ARRAY_IDX(rcpts, i, const char *), NULL);
    return apr_psprintf(p,
                        "From: %s\n"
                        "To: %s\n"
                        "Subject: [zxmobile] %s\n"
                        "Date: %s\n"
                        "Message-ID: <zxmobile-notification-%s.%" APR_TIME_T_FMT "@%s>\n"
                        "Auto-Submitted: auto-generated\n"
                        "X-Zxmobile-Notification: %s %s\n"
                        "MIME-Version: 1.0\n"
                        "Content-Type: text/plain; charset=utf-8\n"
                        "Content-Transfer-Encoding: 8bit\n"
                        "\n"
                        "%s",
                        sender, pretty, hdr(p, n->subject), date, hdr(p, n->id), apr_time_now(),
                        hdr(p, n->server && *n->server ? n->server : "localhost"),
                        hdr(p, n->id), hdr(p, n->source), n->body ? n->body : "");
}

int zx_admin_notify(apr_pool_t *p, zx_db *db, zx_transport *t, zx_notification *n,
                    const char **mail_status, const char **err)
{
    const char *params[] = {n->server ? n->server : "", n->module ? n->module : "ZxMobile",
                            n->source ? n->source : "", n->level ? n->level : "info",
                            n->subject ? n->subject : "", n->body ? n->body : "", n->account,
                            n->device_id};
    PGresult *res = zx_db_exec(db,
                               "INSERT INTO notifications (server, module, source, level, "
                               "subject, body, account, device_id) "
                               "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                               8, params, err);
    if (!res)
        return -1;
    n->id = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    PQclear(res);

    const char *status, *why = NULL;
    apr_array_header_t *rcpts = NULL;
    if (zx_admin_recipients(p, db, &rcpts, &why) < 0)
        status = apr_pstrcat(p, "cannot read ZxMobile_NotificationRecipients: ", why, NULL);
    else if (rcpts->nelts == 0)
        status = "no recipients (ZxMobile_NotificationRecipients is empty)";
    else if (!zx_transport_outside(t))
        status = "no transport for mail configured (ZxMobileMailTransport)";
    else {
        const char *sender = APR_ARRAY_IDX(rcpts, 0, const char *);
        const char *msg = message(p, n, sender, rcpts);
        if (zx_transport_send(p, t, sender, rcpts, msg, strlen(msg), &why) == ZX_SEND_OK)
            status = "sent";
        else
            status = apr_pstrcat(p, "failed: ", why ? why : "the transport failed", NULL);
    }
    n->mail_status = status;
    if (mail_status)
        *mail_status = status;
    const char *up[] = {status, n->id};
    if (zx_db_run(db, "UPDATE notifications SET mail_status = $1 WHERE id = $2", 2, up, &why) < 0
        && mail_status && strcmp(status, "sent") == 0)
        *mail_status = apr_pstrcat(p, "sent (not recorded: ", why, ")", NULL);
    return 0;
}

int zx_notifications_list(apr_pool_t *p, zx_db *db, const char *id, int limit,
                          apr_array_header_t **out, const char **err)
{
    const char *params[] = {id, limit > 0 ? apr_itoa(p, limit) : NULL};
    PGresult *res = zx_db_exec(
        db,
        "SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
        "       server, module, source, level, subject, body, account, device_id, mail_status "
        "  FROM notifications "
        " WHERE $1::text IS NULL OR id::text = $1 "
        " ORDER BY id DESC LIMIT $2::integer",
        2, params, err);
    if (!res)
        return -1;
    *out = apr_array_make(p, PQntuples(res) + 1, sizeof(zx_notification *));
    for (int r = 0; r < PQntuples(res); r++) {
        zx_notification *n = apr_pcalloc(p, sizeof *n);
        const char **f[] = {&n->id, &n->created, &n->server, &n->module, &n->source, &n->level,
                            &n->subject, &n->body, &n->account, &n->device_id, &n->mail_status};
        for (int c = 0; c < 11; c++)
            *f[c] = PQgetisnull(res, r, c) ? NULL : apr_pstrdup(p, PQgetvalue(res, r, c));
        APR_ARRAY_PUSH(*out, zx_notification *) = n;
    }
    PQclear(res);
    return 0;
}
