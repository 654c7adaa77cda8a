/* zxmobile - out-of-office replies (zxsync/delivery.h): what a delivered message gets when its
 * account's Oof ([MS-ASCMD] 2.2.3.119 Oof, stored by Settings: account_oof*) is on.
 *
 * RFC 3834 and what Exchange does: one reply per sender per Oof setting (oof_replies, sql/027),
 * never to the null sender, to the account itself, to a daemon or list address, to automatic or
 * list mail, or to a message that does not name the account in To/Cc; the text by audience:
 * Internal for a sender who is an account of this server, ExternalKnown for one in the
 * account's Contacts, ExternalUnknown for anyone else, each only when enabled with a text. */
#include <apr_strings.h>
#include <apr_tables.h>
#include <string.h>
#include <strings.h>
#include <zxsync/db.h>
#include <zxsync/delivery.h>
#include <zxsync/log.h>
#include <zxsync/mime_compose.h>
#include <zxsync/recipients.h>
#include <zxsync/text.h>

/* Addresses that are machines, not people (vacation(1)'s list, RFC 3834 2). */
static int daemon_address(const char *sender)
{
    const char *at = strchr(sender, '@');
    apr_size_t n = at ? (apr_size_t)(at - sender) : strlen(sender);
    static const char *const names[] = {"mailer-daemon", "mailer", "postmaster", "listserv",
                                        "majordomo", "noreply", "no-reply", "donotreply",
                                        "do-not-reply", NULL};
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == n && strncasecmp(sender, names[i], n) == 0)
            return 1;
    return (n > 6 && strncasecmp(sender, "owner-", 6) == 0) ||
           (n > 8 && strncasecmp(sender + n - 8, "-request", 8) == 0) ||
           (n > 6 && strncasecmp(sender + n - 6, "-owner", 6) == 0) ||
           (n > 8 && strncasecmp(sender + n - 8, "-bounces", 8) == 0);
}

/* the account's Oof, when it is on now: *period its setting's time, *name the display name;
 * the account's own address and aliases in addresses.  1 on, 0 off, -1 error */
static int oof_on(apr_pool_t *p, zx_db *db, const zx_delivery *d, const char **period,
                  const char **name, apr_array_header_t *addresses, const char **err)
{
    const char *params[] = {d->account_id};
    PGresult *res = zx_db_exec(
        db,
        "SELECT o.updated_at, a.display_name, "
        "       ARRAY(SELECT g.value FROM account_gal g WHERE g.account_id = a.id "
        "              AND g.name = 'zimbraMailAlias' ORDER BY 1)::text "
        "  FROM account_oof o JOIN accounts a ON a.id = o.account_id "
        " WHERE o.account_id = $1 AND (o.state = 1 OR "
        "       (o.state = 2 AND o.start_time <= now() AND now() < o.end_time))",
        1, params, err);
    if (!res)
        return -1;
    int on = PQntuples(res) == 1;
    if (on) {
        *period = apr_pstrdup(p, PQgetvalue(res, 0, 0));
        *name = PQgetisnull(res, 0, 1) ? NULL : apr_pstrdup(p, PQgetvalue(res, 0, 1));
        APR_ARRAY_PUSH(addresses, const char *) = d->account;
        /* {a@x,b@y}: aliases are addresses, no quoting needed */
        char *list = apr_pstrdup(p, PQgetvalue(res, 0, 2)), *last;
        list[strlen(list) - 1] = '\0';
        for (char *t = apr_strtok(list + 1, ",", &last); t; t = apr_strtok(NULL, ",", &last))
            APR_ARRAY_PUSH(addresses, const char *) = t;
    }
    PQclear(res);
    return on;
}

/* Internal, ExternalKnown or ExternalUnknown (account_oof_messages.audience) */
static const char *audience_of(apr_pool_t *p, zx_db *db, const zx_delivery *d,
                               const char *sender, const char **err)
{
    const char *name, *id;
    int local = zx_delivery_resolve(p, db, sender, &name, &id, err);
    if (local < 0)
        return NULL;
    if (local)
        return "internal";
    /* a contact's address is stored as the device wrote it: bare, or "Name" <a@x> */
    const char *params[] = {d->account_id, sender, apr_pstrcat(p, "%<", sender, ">", NULL)};
    PGresult *res = zx_db_exec(
        db,
        "SELECT 1 FROM contacts c JOIN items i ON i.id = c.item_id "
        " WHERE c.account_id = $1 AND NOT i.deleted "
        "   AND (lower(c.email1) = $2 OR lower(c.email2) = $2 OR lower(c.email3) = $2 "
        "        OR lower(c.email1) LIKE $3 OR lower(c.email2) LIKE $3 "
        "        OR lower(c.email3) LIKE $3) LIMIT 1",
        3, params, err);
    if (!res)
        return NULL;
    const char *a = PQntuples(res) ? "external_known" : "external_unknown";
    PQclear(res);
    return a;
}

int zx_oof_reply(apr_pool_t *p, zx_db *db, const zx_delivery *d, const char *sender,
                 const char *data, apr_size_t len, zx_oof *out, const char **err)
{
    memset(out, 0, sizeof *out);
    if (!sender || !*sender || !strchr(sender, '@'))
        return 0;
    sender = zx_str_lower(p, sender);
    if (!zx_recipient_valid(sender) || daemon_address(sender))
        return 0;
    const char *period = NULL, *name = NULL;
    apr_array_header_t *addresses = apr_array_make(p, 4, sizeof(const char *));
    int on = oof_on(p, db, d, &period, &name, addresses, err);
    if (on <= 0)
        return on;
    for (int i = 0; i < addresses->nelts; i++)
        if (strcmp(sender, APR_ARRAY_IDX(addresses, i, const char *)) == 0)
            return 0;                   /* mail to oneself */
    const char *audience = audience_of(p, db, d, sender, err);
    if (!audience)
        return -1;
    const char *params[] = {d->account_id, audience, sender, period};
    PGresult *res = zx_db_exec(
        db,
        "SELECT reply_message, body_type FROM account_oof_messages "
        " WHERE account_id = $1 AND audience = $2 AND enabled "
        "   AND coalesce(reply_message, '') <> ''",
        2, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    const char *text = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    int html = strcmp(PQgetvalue(res, 0, 1), "HTML") == 0;
    PQclear(res);
    const char *why = zx_mime_auto_reply_refusal(p, data, len, addresses);
    if (why) {
        out->refused = why;
        return 0;
    }
    /* once per sender and setting, also when two deliveries race */
    long n = zx_db_affected(
        db,
        "WITH old AS (DELETE FROM oof_replies WHERE account_id = $1 AND period <> $3) "
        "INSERT INTO oof_replies (account_id, sender, period) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        3, (const char *const[]){d->account_id, sender, period}, err);
    if (n < 0)
        return -1;
    if (n == 0) {
        out->refused = "already replied to during this Oof period";
        return 0;
    }
    zx_mime_mailbox from = {name, d->account};
    out->to = sender;
    out->audience = audience;
    out->data = zx_mime_compose_auto_reply(p, data, len, &from, sender, text, html, &out->len);
    return 1;
}
