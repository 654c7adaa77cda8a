/* zxmobile - the dummy mailbox of a device ABQ holds back (spec 11.3): a store provider
 * (zxsync/store.h) with one folder, the Inbox, holding one message, the notice of the device's
 * status.  FolderSync, Sync, GetItemEstimate and Ping run unchanged on it (zx_request_store,
 * eas/reqstore.c), so keys, windows, body preferences and retries behave as for a real
 * mailbox.  Its states are the real ones (zx_store_pg_state); it is a mailbox and items
 * provider only, as any provider is (zxsync/store.h).
 *
 * The Inbox keeps the real Inbox's id: the device's sync states live in the real tables
 * (their folder must exist), and a Ping on it is a Ping on a real folder.  The states are
 * reset whenever the device's ABQ status changes (abq.c), so the dummy and the real mailbox
 * never share a key.  Nothing the device does here changes anything: a Change or a Delete of
 * the notice is acknowledged and forgotten. */
#include <zxsync/abq.h>
#include <zxsync/config.h>
#include <zxsync/mime.h>

#include "abq_int.h"

#include <apr_base64.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <string.h>
#include <strings.h>

typedef struct {
    int status;                 /* ZX_ABQ_QUARANTINED / ZX_ABQ_BLOCKED */
    const char *account_name;
    const char *device_id;
    zx_config_scope scope;
    int loaded;
    zx_folder inbox;
    zx_item notice;
    zx_item_content content;
} dummy;

#define D(st) ((dummy *)(st)->ctx)

static const char *notice_id(const dummy *d)
{
    return d->status == ZX_ABQ_BLOCKED ? "abq-blocked" : "abq-quarantined";
}

/* RFC 2047 encoded word for a header with non-ASCII text. */
static const char *header_text(apr_pool_t *p, const char *s)
{
    int ascii = 1;
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c >= 0x80 || *c == '\r' || *c == '\n')
            ascii = 0;
    if (ascii)
        return s;
    int n = (int)strlen(s);
    char *b = apr_palloc(p, (apr_size_t)apr_base64_encode_len(n));
    apr_base64_encode(b, s, n);
    return apr_pstrcat(p, "=?UTF-8?B?", b, "?=", NULL);
}

/* The folder and the notice: the real Inbox's id, the message for the account. */
static int load(zx_store *st, const char **err)
{
    dummy *d = D(st);
    if (d->loaded)
        return 0;
    apr_pool_t *p = st->pool;
    zx_folder *real = NULL;
    zx_store pg = *st;          /* the real mailbox of the account */
    pg.provider = &zx_store_pg;
    pg.ctx = NULL;
    int rc = zx_store_folder_by_type(&pg, ZX_FOLDER_INBOX, &real, err);
    if (rc == ZX_STORE_NOT_FOUND) {
        if (zx_store_ensure_mailbox(&pg, err) < 0)
            return -1;
        rc = zx_store_folder_by_type(&pg, ZX_FOLDER_INBOX, &real, err);
    }
    if (rc < 0)
        return -1;
    if (rc != ZX_STORE_OK || !real) {
        *err = "the account has no Inbox";
        return -1;
    }
    /* the message: candidates of the domain and global, the account's locale */
    zx_abq_msg_type type = d->status == ZX_ABQ_BLOCKED ? ZX_ABQ_MSG_BLOCKED
                                                       : ZX_ABQ_MSG_QUARANTINED;
    const char *params[2] = {type == ZX_ABQ_MSG_BLOCKED ? "blocked" : "quarantined",
                             d->scope.domain_id};
    PGresult *res = zx_db_exec(st->db,
        "SELECT domain_id, locale, from_addr, reply_to, subject, body_plain, body_html "
        "  FROM abq_messages WHERE type = $1 AND (domain_id IS NULL OR domain_id = $2::bigint)",
        2, params, err);
    if (!res)
        return -1;
    apr_array_header_t *cands = apr_array_make(p, PQntuples(res) + 1, sizeof(zx_abq_message));
    for (int i = 0; i < PQntuples(res); i++) {
        zx_abq_message *m = apr_array_push(cands);
#define V(c) (PQgetisnull(res, i, c) ? NULL : apr_pstrdup(p, PQgetvalue(res, i, c)))
        m->domain = V(0);
        m->locale = V(1);
        m->from = V(2);
        m->reply_to = V(3);
        m->subject = V(4);
        m->body_plain = V(5);
        m->body_html = V(6);
#undef V
    }
    PQclear(res);
    const char *locale = NULL;
    if (zx_config_resolve(p, st->db, &d->scope, "zimbraLocale", &locale, NULL, err) < 0)
        return -1;
    const zx_abq_message *m = zx_abq_message_pick(p, cands, d->scope.domain_id, locale, type);
    const char *from = m->from;
    if (!from || !*from) {
        apr_array_header_t *admins;
        if (zx_abq_admin_recipients(p, st->db, &admins, err) < 0)
            return -1;
        const char *at = strchr(d->account_name, '@');
        from = admins->nelts ? APR_ARRAY_IDX(admins, 0, const char *)
                             : apr_pstrcat(p, "postmaster", at ? at : "@localhost", NULL);
    }

    zx_folder *f = &d->inbox;
    *f = *real;
    f->name = "Inbox";
    f->parent_id = "0";
    f->created_seq = f->changed_seq = 1;
    f->modseq = 1;
    f->deleted = 0;
    f->created_by = f->changed_by = NULL;

    apr_time_t now = apr_time_now();
    zx_item_content *c = &d->content;
    memset(c, 0, sizeof *c);
    c->text_plain = m->body_plain ? m->body_plain : "";
    c->plain_size = strlen(c->text_plain);
    c->text_html = m->body_html && *m->body_html ? m->body_html : NULL;
    c->html_size = c->text_html ? strlen(c->text_html) : 0;
    c->preview = zx_mime_preview(p, c->text_plain);
    char date[APR_RFC822_DATE_LEN];
    apr_rfc822_date(date, now);
    const char *subject = m->subject ? m->subject : "";
    const char *head = apr_psprintf(p,
        "From: %s\r\nTo: %s\r\n%s%s%sSubject: %s\r\nDate: %s\r\n"
        "Message-ID: <%s.%s@zxmobile>\r\nMIME-Version: 1.0\r\n",
        from, d->account_name, m->reply_to ? "Reply-To: " : "",
        m->reply_to ? m->reply_to : "", m->reply_to ? "\r\n" : "", header_text(p, subject),
        date, notice_id(d), d->device_id);
    const char *mime;
    if (c->text_html)
        mime = apr_pstrcat(p, head,
            "Content-Type: multipart/alternative; boundary=\"zx-abq\"\r\n\r\n"
            "--zx-abq\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n", c->text_plain,
            "\r\n--zx-abq\r\nContent-Type: text/html; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n", c->text_html, "\r\n--zx-abq--\r\n", NULL);
    else
        mime = apr_pstrcat(p, head, "Content-Type: text/plain; charset=utf-8\r\n"
                           "Content-Transfer-Encoding: 8bit\r\n\r\n", c->text_plain, NULL);
    c->mime = mime;
    c->mime_len = c->mime_size = strlen(mime);

    zx_item *it = &d->notice;
    memset(it, 0, sizeof *it);
    it->id = notice_id(d);
    it->folder_id = f->id;
    it->modseq = it->created_modseq = 1;
    it->item_class = "Email";
    it->received = now;
    it->size = c->mime_size;
    it->subject = subject;
    it->from = from;
    it->to = d->account_name;
    it->reply_to = m->reply_to;
    it->message_id = apr_psprintf(p, "%s.%s@zxmobile", notice_id(d), d->device_id);
    it->importance = 1;
    it->message_class = "IPM.Note";
    it->native_body_type = c->text_html ? 2 : 1;
    it->content = c;
    d->loaded = 1;
    return 0;
}

static int is_inbox(zx_store *st, const char *id)
{
    return id && strcmp(id, D(st)->inbox.id) == 0;
}

static int is_notice(zx_store *st, const char *id)
{
    return id && strcmp(id, D(st)->notice.id) == 0;
}

static apr_array_header_t *none(zx_store *st)
{
    return apr_array_make(st->pool, 1, sizeof(void *));
}

/* ---- the provider -------------------------------------------------------------------------- */

static int d_ensure(zx_store *st, const char **err)
{
    return load(st, err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
}

static int d_folders(zx_store *st, long long since, apr_array_header_t **out, long long *now,
                     const char **err)
{
    *out = NULL;
    if (load(st, err) < 0)
        return ZX_STORE_ERROR;
    *out = none(st);
    if (since < 1)
        APR_ARRAY_PUSH(*out, zx_folder *) = &D(st)->inbox;
    *now = 1;
    return ZX_STORE_OK;
}

static int d_folder_get(zx_store *st, const char *id, zx_folder **out, const char **err)
{
    *out = NULL;
    if (load(st, err) < 0)
        return ZX_STORE_ERROR;
    if (!is_inbox(st, id))
        return ZX_STORE_NOT_FOUND;
    *out = &D(st)->inbox;
    return ZX_STORE_OK;
}

static int d_folder_by_type(zx_store *st, int type, zx_folder **out, const char **err)
{
    *out = NULL;
    if (load(st, err) < 0)
        return ZX_STORE_ERROR;
    if (type != ZX_FOLDER_INBOX)
        return ZX_STORE_NOT_FOUND;
    *out = &D(st)->inbox;
    return ZX_STORE_OK;
}

static int d_folder_create(zx_store *st, const char *parent_id, const char *name, int type,
                           const char *device, zx_folder **out, const char **err)
{
    *out = NULL;
    return ZX_STORE_INVALID;
}

static int d_folder_update(zx_store *st, const char *id, const char *parent_id,
                           const char *name, const char *device, const char **err)
{
    return ZX_STORE_SYSTEM;
}

static int d_folder_delete(zx_store *st, const char *id, const char *device, const char **err)
{
    return ZX_STORE_SYSTEM;
}

static int d_changes(zx_store *st, const char *folder_id, long long since,
                     apr_time_t received_after, int limit, apr_array_header_t **out, int *more,
                     const char **err)
{
    *out = none(st);
    *more = 0;
    return ZX_STORE_OK;
}

static int d_item_get(zx_store *st, const char *id, zx_item **out, const char **err)
{
    *out = NULL;
    if (load(st, err) < 0)
        return ZX_STORE_ERROR;
    if (!is_notice(st, id))
        return ZX_STORE_NOT_FOUND;
    *out = apr_pmemdup(st->pool, &D(st)->notice, sizeof(zx_item));
    return ZX_STORE_OK;
}

static int d_item_tombstone(zx_store *st, const char *id, zx_item **out, const char **err)
{
    *out = NULL;
    return ZX_STORE_NOT_FOUND;      /* the notice is never deleted */
}

static int d_item_mime(zx_store *st, const char *id, const char **data, apr_size_t *len,
                       const char **err)
{
    *data = NULL;
    *len = 0;
    if (load(st, err) < 0)
        return ZX_STORE_ERROR;
    if (!is_notice(st, id))
        return ZX_STORE_NOT_FOUND;
    *data = D(st)->content.mime;
    *len = D(st)->content.mime_len;
    return ZX_STORE_OK;
}

/* the device marks, flags or deletes the notice: acknowledged, nothing changes */
static int d_item_update(zx_store *st, const char *id, const zx_item_changes *ch,
                         const char *device, const char **err)
{
    if (load(st, err) < 0)
        return ZX_STORE_ERROR;
    return is_notice(st, id) ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

static int d_item_move(zx_store *st, const char *id, const char *dst_folder_id,
                       const char *device, long long seen_modseq, const char **new_id,
                       const char **err)
{
    *new_id = NULL;
    return ZX_STORE_NOT_FOUND;
}

static int d_item_delete(zx_store *st, const char *id, const char *device, const char **err)
{
    return d_item_update(st, id, NULL, device, err);
}

static int d_folder_empty(zx_store *st, const char *folder_id, int include_subfolders,
                          const char *device, const char **err)
{
    return ZX_STORE_OK;
}

static int d_deliver(zx_store *st, const char *folder_id, const char *data, apr_size_t len,
                     int read, zx_item **out, const char **err)
{
    *out = NULL;
    return ZX_STORE_INVALID;
}

static int d_deliver_at(zx_store *st, const char *folder_id, const char *data, apr_size_t len,
                        int read, apr_time_t received, zx_item **out, const char **err)
{
    *out = NULL;
    return ZX_STORE_INVALID;
}

static int d_folder_find(zx_store *st, const char *id_or_path, zx_folder **out,
                         const char **err)
{
    *out = NULL;
    if (load(st, err) < 0)
        return ZX_STORE_ERROR;
    if (!is_inbox(st, id_or_path) && strcasecmp(id_or_path ? id_or_path : "", "Inbox") != 0)
        return ZX_STORE_NOT_FOUND;
    *out = &D(st)->inbox;
    return ZX_STORE_OK;
}

/* the initial enumeration lists the notice once, first thing */
static int d_enumerate(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                       apr_time_t received_after, int limit, apr_array_header_t **out,
                       apr_array_header_t **gone, const char **err)
{
    *out = NULL;
    *gone = NULL;
    if (load(st, err) < 0)
        return ZX_STORE_ERROR;
    *out = none(st);
    if (is_inbox(st, folder_id) && !pos->cursor_id && pos->modseq >= 1 && limit > 0)
        APR_ARRAY_PUSH(*out, zx_item *) = apr_pmemdup(st->pool, &D(st)->notice, sizeof(zx_item));
    return ZX_STORE_OK;
}

static int d_item_contents(zx_store *st, apr_array_header_t *items, const zx_content_want *want,
                           const char **err)
{
    if (load(st, err) < 0)
        return ZX_STORE_ERROR;
    for (int i = 0; i < items->nelts; i++) {
        zx_item *it = APR_ARRAY_IDX(items, i, zx_item *);
        if (is_notice(st, it->id))
            it->content = &D(st)->content;
    }
    return ZX_STORE_OK;
}

static int d_item_trash(zx_store *st, const char *id, const char *dst_folder_id,
                        const char *device, const char **err)
{
    return d_item_update(st, id, NULL, device, err);
}

static int d_estimate(zx_store *st, const char *folder_id, const zx_sync_pos *pos,
                      apr_time_t received_after, int skip_complete, const char *device,
                      long long *count, const char **err)
{
    (void)skip_complete;
    if (load(st, err) < 0)
        return ZX_STORE_ERROR;
    *count = is_inbox(st, folder_id) && pos->enumerating && !pos->cursor_id ? 1 : 0;
    return ZX_STORE_OK;
}

static int d_aged(zx_store *st, const char *folder_id, const zx_sync_pos *pos, apr_time_t before,
                  int limit, apr_array_header_t **out, const char **err)
{
    *out = none(st);
    return ZX_STORE_OK;
}

static int d_purge_tombstones(zx_store *st, const char *folder_id, const char **err)
{
    return ZX_STORE_OK;
}

/* no conversations: the dummy runs Sync, FolderSync, GetItemEstimate and Ping only */
static int d_conversation_items(zx_store *st, const unsigned char *conversation_id,
                                const char *except_folder, apr_array_header_t **out,
                                const char **err)
{
    *out = none(st);
    return ZX_STORE_OK;
}

static int d_conversation_known(zx_store *st, const unsigned char *conversation_id, int *yes,
                                const char **err)
{
    *yes = 0;
    return ZX_STORE_OK;
}

/* the states are the real ones (zx_store_pg_state); only the dummy Inbox is a folder */
static int d_collections(zx_store *st, zx_sync_state *states, int n, const char **err)
{
    if (load(st, err) < 0)
        return ZX_STORE_ERROR;
    for (int i = 0; i < n; i++)
        states[i].folder = is_inbox(st, states[i].folder_id) ? &D(st)->inbox : NULL;
    return ZX_STORE_OK;
}

static const zx_store_mailbox dummy_mailbox = {
    d_ensure,
    d_folders,
    d_folder_get,
    d_folder_by_type,
    d_folder_find,
    d_folder_create,
    d_folder_update,
    d_folder_delete,
    d_folder_empty,
    d_deliver,
    d_deliver_at,
    NULL,
    d_collections,
};

static const zx_store_items dummy_items = {
    d_changes,
    d_enumerate,
    d_estimate,
    d_aged,
    d_purge_tombstones,
    d_item_get,
    d_item_tombstone,
    d_item_mime,
    d_item_contents,
    d_conversation_items,
    d_conversation_known,
    d_item_update,
    d_item_move,
    d_item_trash,
    d_item_delete,
    NULL,                       /* pim_create: the quarantine holds no contacts */
    NULL,                       /* calendar_window: nor events */
    NULL,                       /* contacts_match: nor contacts */
    NULL,                       /* draft_save: nor drafts */
};

static const zx_store_provider dummy_provider = {
    "abq-dummy",
    &dummy_mailbox,
    &dummy_items,
    NULL,
};

zx_store *zx_abq_dummy_open(apr_pool_t *p, zx_db *db, const zx_request *req)
{
    zx_store *st = zx_store_open(p, db, req->account.id);
    dummy *d = apr_pcalloc(p, sizeof *d);
    d->status = req->abq_held;
    d->account_name = req->account.name ? req->account.name : "";
    d->device_id = req->device_id ? req->device_id : "";
    d->scope.account_id = req->account.id;
    d->scope.cos_id = req->account.cos_id;
    d->scope.domain_id = req->account.domain_id;
    d->scope.server = NULL;
    st->provider = &dummy_provider;
    st->ctx = d;
    return st;
}
