/* zxmobile - local delivery: a message into the mailbox of an account of this server
 * (zxsync/delivery.h). */
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <string.h>
#include <strings.h>
#include <zxsync/db.h>
#include <zxsync/delivery.h>
#include <zxsync/directory.h>
#include <zxsync/log.h>
#include <zxsync/meeting.h>
#include <zxsync/store.h>

#define ATTEMPTS 5

/* ---- the recipient ----------------------------------------------------------------------- */

/* the account's own address first, then an alias; sql/026 indexes the aliases */
static const char *const resolve_sql =
    "SELECT a.id, a.local_part || '@' || d.name, a.status, 0 AS alias "
    "  FROM accounts a JOIN domains d ON d.id = a.domain_id "
    " WHERE a.local_part = $1 AND d.name = $2 "
    "UNION ALL "
    "SELECT a.id, a.local_part || '@' || d.name, a.status, 1 "
    "  FROM account_gal g JOIN accounts a ON a.id = g.account_id "
    "  JOIN domains d ON d.id = a.domain_id "
    " WHERE g.name = 'zimbraMailAlias' AND g.value = $3 "
    " ORDER BY 4 LIMIT 1";

int zx_delivery_resolve(apr_pool_t *p, zx_db *db, const char *address, const char **name,
                        const char **id, const char **err)
{
    const char *a = address ? address : "";
    apr_size_t n = strlen(a);
    if (n >= 2 && a[0] == '<' && a[n - 1] == '>')
        a = apr_pstrmemdup(p, a + 1, n - 2);
    const char *local = NULL, *domain = NULL;
    const char *norm = zx_account_name_normalize(p, a, &local, &domain);
    if (!norm) {
        *err = apr_psprintf(p, "no such account: %s (not an address)", a);
        return 0;
    }
    const char *params[] = {local, domain, norm};
    PGresult *res = zx_db_exec(db, resolve_sql, 3, params, err);
    if (!res)
        return -1;
    int rc = 0;
    if (PQntuples(res) == 0) {
        *err = apr_psprintf(p, "no such account: %s", norm);
    } else if (strcmp(PQgetvalue(res, 0, 2), "closed") == 0) {
        *err = apr_psprintf(p, "account %s is closed", PQgetvalue(res, 0, 1));
    } else {
        *id = apr_pstrdup(p, PQgetvalue(res, 0, 0));
        *name = apr_pstrdup(p, PQgetvalue(res, 0, 1));
        rc = 1;
    }
    PQclear(res);
    return rc;
}

/* ---- the message ------------------------------------------------------------------------- */

const char *zx_delivery_message_problem(const char *data, apr_size_t len)
{
    apr_size_t i = 0;
    while (i < len && (data[i] == '\r' || data[i] == '\n' || data[i] == ' ' || data[i] == '\t'))
        i++;
    if (i == len)
        return "empty message";
    /* the first line must be a header field: printable name, optional blanks, colon */
    apr_size_t k = 0;
    while (k < len && data[k] > ' ' && data[k] < 127 && data[k] != ':')
        k++;
    apr_size_t name_len = k;
    while (k < len && (data[k] == ' ' || data[k] == '\t'))
        k++;
    if (name_len == 0 || k >= len || data[k] != ':')
        return "no header fields (not an RFC 5322 message)";
    return NULL;
}

const char *zx_delivery_return_path(apr_pool_t *p, const char *data, apr_size_t len)
{
    static const char name[] = "Return-Path:";
    apr_size_t n = sizeof name - 1;
    if (len < n || strncasecmp(data, name, n) != 0)
        return NULL;
    const char *v = data + n, *end = data + len;
    const char *nl = memchr(v, '\n', (apr_size_t)(end - v));
    if (!nl)
        return NULL;
    while (v < nl && (*v == ' ' || *v == '\t'))
        v++;
    const char *lt = NULL, *gt = NULL;
    for (const char *c = v; c < nl && !gt; c++) {
        if (*c == '<' && !lt)
            lt = c;
        else if (*c == '>' && lt)
            gt = c;
    }
    if (gt)
        return apr_pstrmemdup(p, lt + 1, (apr_size_t)(gt - lt - 1));
    const char *e = nl;
    while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
        e--;
    return apr_pstrmemdup(p, v, (apr_size_t)(e - v));
}

/* ---- the folder -------------------------------------------------------------------------- */

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

int zx_delivery_find_folder(zx_store *st, const char *arg, zx_folder **out, const char **err)
{
    *out = NULL;
    /* a server id, or a path of names from the top ("Inbox/Projects") */
    int rc = zx_store_folder_find(st, arg, out, err);
    if (rc < 0)
        return -1;
    if (rc != ZX_STORE_OK || !*out) {
        *out = NULL;
        if (all_digits(arg) || strchr(arg, '/'))
            return 0;
        /* a name that is unique anywhere in the tree */
        apr_array_header_t *list;
        long long now;
        if (zx_store_folders(st, 0, &list, &now, err) != ZX_STORE_OK)
            return -1;
        for (int i = 0; i < list->nelts; i++) {
            zx_folder *f = APR_ARRAY_IDX(list, i, zx_folder *);
            if (!f->deleted && strcasecmp(f->name, arg) == 0) {
                if (*out) {
                    *out = NULL;        /* ambiguous */
                    return 0;
                }
                *out = f;
            }
        }
        if (!*out)
            return 0;
    }
    return (*out)->item_class && strcmp((*out)->item_class, "Email") == 0 ? 1 : 2;
}

/* ---- one attempt ------------------------------------------------------------------------- */

/* SQLSTATEs worth running a delivery again for: serialization failure, deadlock, and the
 * unique violation two concurrent first deliveries can meet while creating the mailbox.  The
 * state is read from the error message ("40001: could not serialize ...", as zx_db_exec makes
 * it): the ROLLBACK that follows a failure clears zx_db_sqlstate(). */
int zx_delivery_retryable(const char *err)
{
    if (!err || strlen(err) < 7 || err[5] != ':' || err[6] != ' ')
        return 0;
    return strncmp(err, "40001", 5) == 0 || strncmp(err, "40P01", 5) == 0 ||
           strncmp(err, "23505", 5) == 0;
}

/* One delivery attempt in one transaction: 0 committed, -1 failed (*err; *vanished when the
 * folder was deleted meanwhile). */
static int attempt(apr_pool_t *p, zx_db *db, zx_store *st, const char *folder_arg,
                   const char *data, apr_size_t len, zx_delivery *out, int *vanished,
                   const char **err)
{
    int own, rc = 0;
    *vanished = 0;
    if (zx_store_ensure_mailbox(st, err) != ZX_STORE_OK)
        return -1;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    zx_folder *folder = NULL;
    out->warning = NULL;
    if (folder_arg) {
        zx_folder *f = NULL;
        int found = zx_delivery_find_folder(st, folder_arg, &f, err);
        if (found < 0)
            rc = -1;
        else if (found == 1)
            folder = f;
        else
            out->warning = apr_psprintf(p, "%s %s in %s; delivered to the Inbox",
                                        found ? "not a mail folder:" : "no such folder:",
                                        folder_arg, out->account);
    }
    if (rc == 0 && !folder &&
        zx_store_folder_by_type(st, ZX_FOLDER_INBOX, &folder, err) == ZX_STORE_ERROR)
        rc = -1;
    if (rc == 0 && !folder) {
        *err = apr_psprintf(p, "the mailbox of %s has no Inbox", out->account);
        rc = -1;
    }
    zx_item *item = NULL;
    if (rc == 0) {
        /* a meeting message is applied to the calendar in the same transaction */
        rc = zx_meeting_deliver(st, out->account, folder->id, data, len, 0, 0, &item, err);
        if (rc > 0 || (rc == ZX_STORE_OK && !item)) {
            *err = apr_psprintf(p, "folder %s disappeared during the delivery", folder->name);
            *vanished = 1;
            rc = -1;
        }
    }
    if (zx_db_tx_end(db, own, rc < 0 ? -1 : 0, err) < 0)
        return -1;
    out->folder_id = folder->id;
    out->folder_name = folder->name;
    out->item_id = item->id;
    return 0;
}

zx_delivery_status zx_delivery_deliver_from(apr_pool_t *p, zx_db *db, const char *sender,
                                            const char *address, const char *folder,
                                            const char *data, apr_size_t len, zx_delivery *out,
                                            const char **err)
{
    memset(out, 0, sizeof *out);
    const char *problem = zx_delivery_message_problem(data, len);
    if (problem) {
        *err = problem;
        return ZX_DELIVERY_BADMSG;
    }
    int rc = zx_delivery_resolve(p, db, address, &out->account, &out->account_id, err);
    if (rc == 0)
        return ZX_DELIVERY_NOUSER;
    if (rc < 0) {
        *err = apr_psprintf(p, "database unavailable: %s", *err);
        return ZX_DELIVERY_TEMPFAIL;
    }
    zx_store *st = zx_store_open(p, db, out->account_id);
    /* inside the caller's transaction a failed attempt has aborted it: no second one */
    int nested = PQtransactionStatus(zx_db_conn(db)) != PQTRANS_IDLE;
    for (int n = 1;; n++) {
        int vanished = 0;
        if (attempt(p, db, st, folder, data, len, out, &vanished, err) == 0)
            break;
        if (nested || n >= ATTEMPTS || !(zx_delivery_retryable(*err) || vanished) ||
            !zx_db_alive(db)) {
            *err = apr_psprintf(p, "delivery to %s failed: %s", out->account, *err);
            return ZX_DELIVERY_TEMPFAIL;
        }
        apr_sleep(apr_time_from_msec(20 * n));
    }
    if (sender && *sender) {
        const char *e = NULL;
        if (zx_oof_reply(p, db, out, sender, data, len, &out->oof, &e) < 0)
            zx_log(NULL, ZX_LOG_WARNING, ZXLOGNO(02950) "no out-of-office reply from %s to %s: %s",
                   out->account, sender, e ? e : "?");
    }
    return ZX_DELIVERY_OK;
}

zx_delivery_status zx_delivery_deliver(apr_pool_t *p, zx_db *db, const char *address,
                                       const char *folder, const char *data, apr_size_t len,
                                       zx_delivery *out, const char **err)
{
    return zx_delivery_deliver_from(p, db, NULL, address, folder, data, len, out, err);
}
