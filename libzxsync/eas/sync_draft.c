/* zxmobile - Sync of e-mail drafts at 16.x (eas/sync_draft.h).
 *
 * [MS-ASCMD] 2.2.3.7.2 / 2.2.3.24, [MS-ASEMAIL] 16.0 and 16.1: a client adds e-mail to the
 * Drafts folder and changes it there (email:To, email:Cc, email2:Bcc, email:Subject,
 * email:Importance, airsyncbase:Body of Type 1 or 2), adds files to it and removes them
 * ([MS-ASAIRS] 2.2.2.2 Attachments Add: ClientId, DisplayName, Content, Method, ContentType,
 * ContentId, ContentLocation, IsInline; 2.2.2.21 Delete: FileReference), and sends it with
 * email2:Send, a child of the Add or the Change ([MS-ASEMAIL] 2.2.2.69).
 *
 * A draft is kept as a message (zxsync/mime_draft.h) in the store (zx_store_draft_save): a
 * Change rebuilds it from the stored one with the elements sent replacing theirs (an element
 * not sent keeps its value), the files kept and the new ones after them.  The answer to an
 * Add names the new item and, per attachment added, the server's FileReference beside the
 * client's ClientId ([MS-ASAIRS] 2.2.2.7, 2.2.2.14, 2.2.2.24.1) with the draft's
 * email2:ConversationId ([MS-ASEMAIL] 2.2.2.21); a Change answers only when it added files
 * ([MS-ASCMD] 2.2.3.154).  Send hands the message to the sendmail command as SendMail does
 * (the account is the sender, Bcc kept out of what recipients see), stores the copy in Sent
 * Items and takes the draft out of Drafts (a server deletion: every device, the sender's
 * too, is told).  Other devices get a draft and its changes like any item (a Change carries
 * it whole: zx_class_email_draft).
 */
#include "sync_draft.h"

#include "class/email.h"

#include <zxsync/log.h>
#include <zxsync/mime.h>
#include <zxsync/mime_compose.h>
#include <zxsync/mime_draft.h>
#include <zxsync/submit.h>

#include <apr_strings.h>
#include <string.h>
#include <strings.h>

int zx_sync_draft_folder(zx_version v, const zx_folder *f)
{
    return v >= ZX_V160 && f && f->type == ZX_FOLDER_DRAFTS;
}

/* ---- the class ------------------------------------------------------------------------------- */

static int draft_render(apr_pool_t *p, zx_store *st, const zx_item *item,
                        const zx_class_opts *o, zx_wb_node *parent,
                        apr_array_header_t **blobs, const char **err)
{
    if (zx_email_render(p, st, item, o, parent, blobs, err) < 0)
        return -1;
    if (o->version >= ZX_V160)
        zx_wb_add_text(p, parent, ZX_Email2_IsDraft, "1");
    return 0;
}

static int draft_parse_change(apr_pool_t *p, const zx_wb_node *appdata,
                              const zx_class_opts *o, zx_item_changes *ch, const char **err)
{
    return zx_email_parse_changes(p, appdata, o->version, ch, err);
}

const zx_item_class zx_class_email_draft = {
    "Email",
    zx_email_render_opts_from_wbxml,
    zx_email_content_want,
    draft_render,
    zx_email_render_flags,
    draft_parse_change,
    NULL,                       /* adds are zx_sync_draft_op's */
    1,
    1,                          /* a Change carries the whole draft */
    ZX_V25,
    NULL,
    NULL,
};

/* ---- the client's elements ------------------------------------------------------------------ */

typedef struct {
    const char *client_id;
    zx_mime_draft_file f;
} new_file;

typedef struct {
    const char *to, *cc, *bcc, *subject;
    int importance;             /* -1 not sent */
    int body_set;
    const char *text;
    int html;
    apr_array_header_t *adds;   /* new_file */
    apr_array_header_t *deletes;    /* const char * FileReference */
    int send;
    int content;                /* an element of the draft's message was sent */
} draft_req;

/* The bytes of an element: inline string or opaque data. */
static const char *wb_bytes(apr_pool_t *p, const zx_wb_node *n, apr_size_t *len)
{
    apr_size_t total = 0;
    for (const zx_wb_node *c = n ? n->first : NULL; c; c = c->next)
        if (c->kind != ZX_WB_ELEMENT)
            total += c->len;
    char *s = apr_palloc(p, total + 1), *w = s;
    for (const zx_wb_node *c = n ? n->first : NULL; c; c = c->next)
        if (c->kind != ZX_WB_ELEMENT) {
            memcpy(w, c->data, c->len);
            w += c->len;
        }
    *w = '\0';
    *len = total;
    return s;
}

static int parse_bool(const char *s, int *out)
{
    if (!s || !*s) {
        *out = 1;
        return 0;
    }
    if (strcmp(s, "0") != 0 && strcmp(s, "1") != 0)
        return -1;
    *out = s[0] == '1';
    return 0;
}

/* [MS-ASAIRS] 2.2.2.2 Add: ClientId, Content, DisplayName, Method required */
static int parse_attachment_add(apr_pool_t *p, const zx_wb_node *a, draft_req *d,
                                const char **why)
{
    new_file *nf = apr_array_push(d->adds);
    memset(nf, 0, sizeof *nf);
    int have_content = 0, method = 0;
    for (const zx_wb_node *e = a->first; e; e = e->next) {
        if (e->kind != ZX_WB_ELEMENT)
            continue;
        long long v;
        switch (e->tag) {
        case ZX_AirSyncBase_ClientId:
            nf->client_id = zx_wb_text(p, e);
            break;
        case ZX_AirSyncBase_DisplayName:
            nf->f.name = zx_wb_text(p, e);
            break;
        case ZX_AirSyncBase_Content:
            nf->f.data = wb_bytes(p, e, &nf->f.len);
            have_content = 1;
            break;
        case ZX_AirSyncBase_Method:
            /* [MS-ASAIRS] 2.2.2.31.1: 1 normal attachment, 5 embedded message, 6 OLE */
            if (zx_eas_parse_uint(zx_wb_text(p, e), 6, &v) < 0 ||
                (v != 1 && v != 5 && v != 6)) {
                *why = "invalid attachment Method";
                return -1;
            }
            method = (int)v;
            break;
        case ZX_AirSyncBase_ContentType:
            nf->f.content_type = zx_wb_text(p, e);
            break;
        case ZX_AirSyncBase_ContentId:
            nf->f.content_id = zx_wb_text(p, e);
            break;
        case ZX_AirSyncBase_ContentLocation:
            nf->f.content_location = zx_wb_text(p, e);
            break;
        case ZX_AirSyncBase_IsInline:
            if (parse_bool(zx_wb_text(p, e), &nf->f.is_inline) < 0) {
                *why = "invalid attachment IsInline";
                return -1;
            }
            break;
        default:
            break;
        }
    }
    if (!nf->client_id || !*nf->client_id || !nf->f.name || !*nf->f.name || !have_content ||
        !method) {
        *why = "attachment Add without ClientId, DisplayName, Content or Method";
        return -1;
    }
    if (method == 5 && !nf->f.content_type)
        nf->f.content_type = "message/rfc822";
    return 0;
}

static int parse_draft(apr_pool_t *p, const zx_wb_node *op, const zx_wb_node *appdata,
                       draft_req *d, const char **why)
{
    memset(d, 0, sizeof *d);
    d->importance = -1;
    d->adds = apr_array_make(p, 2, sizeof(new_file));
    d->deletes = apr_array_make(p, 2, sizeof(const char *));
    /* Send is a child of the Add or Change; taken inside ApplicationData too */
    d->send = zx_wb_child(op, ZX_Email2_Send) != NULL ||
              (appdata && zx_wb_child(appdata, ZX_Email2_Send) != NULL);
    for (const zx_wb_node *e = appdata ? appdata->first : NULL; e; e = e->next) {
        if (e->kind != ZX_WB_ELEMENT)
            continue;
        long long v;
        d->content |= e->tag == ZX_Email_To || e->tag == ZX_Email_Cc || e->tag == ZX_Email2_Bcc ||
                      e->tag == ZX_Email_Subject || e->tag == ZX_Email_Importance ||
                      e->tag == ZX_AirSyncBase_Body || e->tag == ZX_AirSyncBase_Attachments;
        switch (e->tag) {
        case ZX_Email_To:
            d->to = zx_wb_text(p, e);
            d->to = d->to ? d->to : "";
            break;
        case ZX_Email_Cc:
            d->cc = zx_wb_text(p, e);
            d->cc = d->cc ? d->cc : "";
            break;
        case ZX_Email2_Bcc:
            d->bcc = zx_wb_text(p, e);
            d->bcc = d->bcc ? d->bcc : "";
            break;
        case ZX_Email_Subject:
            d->subject = zx_wb_text(p, e);
            d->subject = d->subject ? d->subject : "";
            break;
        case ZX_Email_Importance:
            if (zx_eas_parse_uint(zx_wb_text(p, e), 2, &v) < 0) {
                *why = "invalid Importance";
                return -1;
            }
            d->importance = (int)v;
            break;
        case ZX_AirSyncBase_Body: {
            const char *t = zx_wb_child_text(p, e, ZX_AirSyncBase_Type);
            if (zx_eas_parse_uint(t, 4, &v) < 0 || (v != 1 && v != 2)) {
                *why = "a draft's Body is of Type 1 or 2";
                return -1;
            }
            apr_size_t n;
            const zx_wb_node *data = zx_wb_child(e, ZX_AirSyncBase_Data);
            d->text = data ? wb_bytes(p, data, &n) : "";
            d->html = v == 2;
            d->body_set = 1;
            break;
        }
        case ZX_AirSyncBase_Attachments:
            for (const zx_wb_node *a = e->first; a; a = a->next) {
                if (a->kind != ZX_WB_ELEMENT)
                    continue;
                if (a->tag == ZX_AirSyncBase_Add) {
                    if (parse_attachment_add(p, a, d, why) < 0)
                        return -1;
                }
                else if (a->tag == ZX_AirSyncBase_Delete) {
                    const char *ref = zx_wb_child_text(p, a, ZX_AirSyncBase_FileReference);
                    if (!ref || !*ref) {
                        *why = "attachment Delete without FileReference";
                        return -1;
                    }
                    APR_ARRAY_PUSH(d->deletes, const char *) = ref;
                }
            }
            break;
        default:
            break;              /* Read, Flag, Categories: the flags (below) */
        }
    }
    return 0;
}

/* ---- the message ------------------------------------------------------------------------------ */

static int deleted(const draft_req *d, const char *ref)
{
    for (int i = 0; i < d->deletes->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(d->deletes, i, const char *), ref) == 0)
            return 1;
    return 0;
}

/* The draft's message: the stored one (old, of item id; NULL for an Add) with the client's
 * elements.  *kept = how many files of the old one it keeps (the new ones follow), whose part
 * numbers in the old one go to kept_parts (int). */
static const char *build(sync_ctx *c, const char *id, const char *old, apr_size_t old_len,
                         const draft_req *d, int *kept, apr_array_header_t *kept_parts,
                         apr_size_t *len)
{
    apr_pool_t *p = c->p;
    zx_mime_draft_spec s;
    memset(&s, 0, sizeof s);
    s.from = c->req->account.name;
    s.importance = 1;
    apr_array_header_t *files = apr_array_make(p, 4, sizeof(zx_mime_draft_file));
    *kept = 0;
    zx_mime_message *om = NULL;
    if (old) {
        if (zx_mime_parse(p, old, old_len, &om, &c->err) < 0)
            return NULL;
        s.to = om->to;
        s.cc = om->cc;
        s.bcc = om->bcc;
        s.subject = om->subject;
        s.importance = om->importance >= 0 && om->importance <= 2 ? om->importance : 1;
        s.message_id = om->message_id;
        s.html = om->text_html != NULL && om->native_body_type == 2;
        s.text = s.html ? om->text_html : om->text_plain;
        for (int i = 0; om->attachments && i < om->attachments->nelts; i++) {
            const zx_mime_attachment *a = &APR_ARRAY_IDX(om->attachments, i, zx_mime_attachment);
            if (deleted(d, apr_psprintf(p, "%s:%d", id, a->part)))
                continue;
            zx_mime_draft_file *f = apr_array_push(files);
            memset(f, 0, sizeof *f);
            f->name = a->name;
            f->content_type = a->content_type;
            f->content_id = a->content_id;
            f->content_location = a->content_location;
            f->is_inline = a->is_inline;
            if (zx_mime_attachment_data(p, old, old_len, a->part, &f->data, &f->len,
                                        &c->err) < 0)
                return NULL;
            APR_ARRAY_PUSH(kept_parts, int) = a->part;
            (*kept)++;
        }
    }
    if (d->to)
        s.to = d->to;
    if (d->cc)
        s.cc = d->cc;
    if (d->bcc)
        s.bcc = d->bcc;
    if (d->subject)
        s.subject = d->subject;
    if (d->importance >= 0)
        s.importance = d->importance;
    if (d->body_set) {
        s.text = d->text;
        s.html = d->html;
    }
    for (int i = 0; i < d->adds->nelts; i++)
        *(zx_mime_draft_file *)apr_array_push(files) = APR_ARRAY_IDX(d->adds, i, new_file).f;
    s.files = files;
    return zx_mime_draft_build(p, &s, len);
}

/* Send the message as SendMail does and keep the copy in Sent Items.  0 sent; a Sync status
 * when it cannot be (logged); -1 on a database error. */
static int send_draft(sync_ctx *c, const char *data, apr_size_t len)
{
    apr_pool_t *p = c->p;
    const char *account = c->req->account.name;
    zx_transport *t = c->srv->settings.transport;
    zx_mime_draft *m = zx_mime_draft_parse(p, data, len);
    if (!m) {
        zx_log(c->req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02901) "Sync: a draft of %s cannot be "
               "parsed to be sent", account);
        return SYNC_CONVERSION_ERROR;
    }
    zx_mime_draft_set_from(m, account);
    zx_mime_draft_complete(m, account);
    apr_array_header_t *rcpts = zx_mime_draft_recipients(m);
    if (rcpts->nelts == 0) {
        zx_log(c->req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02902) "Sync: a draft of %s sent without "
               "a recipient", account);
        return SYNC_CONVERSION_ERROR;
    }
    apr_size_t full_len;
    const char *full = zx_mime_draft_write(m, &full_len);
    const char *out = full;
    apr_size_t out_len = full_len;
    if (!zx_transport_reads_recipients(p, t) && zx_mime_draft_remove_bcc(m))
        out = zx_mime_draft_write(m, &out_len);
    /* accounts of this server get their copy here, the rest goes to the transport */
    zx_submit_result sr;
    if (zx_submit(p, c->req->db, t, account, rcpts, out, out_len, &sr) != ZX_SEND_OK) {
        zx_log(c->req->log_ctx, ZX_LOG_ERR, ZXLOGNO(02903) "Sync: a draft of %s not sent%s: %s",
               account, sr.status == ZX_SEND_TEMPFAIL ? " (a temporary failure)" : "",
               sr.err ? sr.err : "");
        return SYNC_SERVER_ERROR;
    }
    zx_folder *sent = NULL;
    zx_item *copy = NULL;
    if (zx_store_folder_by_type(c->st, ZX_FOLDER_SENT, &sent, &c->err) != ZX_STORE_OK ||
        !sent ||
        zx_store_deliver(c->st, sent->id, full, full_len, 1, &copy, &c->err) != ZX_STORE_OK) {
        zx_log(c->req->log_ctx, ZX_LOG_ERR, ZXLOGNO(02904) "Sync: a draft of %s was sent but "
               "not stored in Sent Items: %s", account, c->err ? c->err : "no Sent Items");
        return -1;
    }
    zx_log(c->req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02905) "Sync: a draft of %s sent to %d "
           "recipient(s), Sent Items item %s", account, rcpts->nelts, copy->id);
    return 0;
}

/* ApplicationData of an answer: the draft's ConversationId (an Add) and the FileReference of
 * each file added (the last ones of the stored message, in the order sent). */
static zx_wb_node *answer_data(sync_ctx *c, const zx_item *item, const char *data,
                               apr_size_t len, const draft_req *d, int kept, int add)
{
    apr_pool_t *p = c->p;
    zx_wb_node *ad = zx_wb_new(p, ZX_AirSync_ApplicationData);
    if (add && item->conversation_id)
        zx_wb_add_opaque(p, ad, ZX_Email2_ConversationId, item->conversation_id, 16);
    if (d->adds->nelts == 0)
        return ad;
    zx_mime_message *m = NULL;
    if (zx_mime_parse(p, data, len, &m, &c->err) < 0)
        return NULL;
    int n = m->attachments ? m->attachments->nelts : 0;
    zx_wb_node *atts = zx_wb_add(p, ad, ZX_AirSyncBase_Attachments);
    for (int i = 0; i < d->adds->nelts; i++) {
        const new_file *nf = &APR_ARRAY_IDX(d->adds, i, new_file);
        int k = kept + i;
        if (n != kept + d->adds->nelts) {
            /* the parse saw other parts (a file that is itself a message): by name */
            for (k = n - 1; k >= 0; k--) {
                const char *name = APR_ARRAY_IDX(m->attachments, k, zx_mime_attachment).name;
                if (name && strcmp(name, nf->f.name) == 0)
                    break;
            }
            if (k < 0)
                continue;
        }
        zx_wb_node *at = zx_wb_add(p, atts, ZX_AirSyncBase_Attachment);
        zx_wb_add_text(p, at, ZX_AirSyncBase_ClientId, nf->client_id);
        zx_wb_add_text(p, at, ZX_AirSyncBase_FileReference,
                       apr_psprintf(p, "%s:%d", item->id,
                                    APR_ARRAY_IDX(m->attachments, k, zx_mime_attachment).part));
    }
    return ad;
}

static zx_wb_node *answer(sync_ctx *c, zx_wb_node **responses, unsigned tag, const char *cid,
                          const char *sid, int status)
{
    if (!*responses)
        *responses = zx_wb_new(c->p, ZX_AirSync_Responses);
    zx_wb_node *n = zx_wb_add(c->p, *responses, tag);
    if (tag == ZX_AirSync_Add)
        zx_wb_add_text(c->p, n, ZX_AirSync_ClientId, cid ? cid : "");
    if (sid)
        zx_wb_add_text(c->p, n, ZX_AirSync_ServerId, sid);
    zx_wb_add_textf(c->p, n, ZX_AirSync_Status, "%d", status);
    return n;
}

int zx_sync_draft_op(sync_ctx *c, const zx_wb_node *op, const zx_folder *folder, int retry,
                     zx_wb_node **responses, int *applied)
{
    apr_pool_t *p = c->p;
    int add = op->tag == ZX_AirSync_Add;
    const char *cid = add ? zx_wb_child_text(p, op, ZX_AirSync_ClientId) : NULL;
    const char *sid = add ? NULL : zx_wb_child_text(p, op, ZX_AirSync_ServerId);
    const char *what = add ? "Add" : "Change";
    const char *who = add ? (cid ? cid : "") : (sid ? sid : "");
    draft_req d;
    const char *why = NULL;
    if (parse_draft(p, op, zx_wb_child(op, ZX_AirSync_ApplicationData), &d, &why) < 0) {
        zx_log(c->req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02906) "Sync %s of draft %s refused: %s",
               what, who, why);
        answer(c, responses, op->tag, cid, sid, SYNC_CONVERSION_ERROR);
        return 0;
    }
    /* a Change of the flags alone (Read, Flag, Categories) is one as in any mail folder */
    if (!add && !d.send && !d.content)
        return 1;
    zx_item_changes flags;
    memset(&flags, 0, sizeof flags);
    flags.read = -1;
    if (!add && zx_email_parse_changes(p, zx_wb_child(op, ZX_AirSync_ApplicationData), c->v,
                                       &flags, &why) < 0) {
        zx_log(c->req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02909) "Sync Change of draft %s refused: "
               "%s", who, why);
        answer(c, responses, op->tag, cid, sid, SYNC_CONVERSION_ERROR);
        return 0;
    }
    const char *old = NULL;
    apr_size_t old_len = 0;
    if (!add) {
        zx_item *item = NULL;
        int rc = sid ? zx_store_item_get(c->st, sid, &item, &c->err) : ZX_STORE_NOT_FOUND;
        if (rc < 0)
            return -1;
        if (rc == ZX_STORE_OK && strcmp(item->folder_id, folder->id) == 0 &&
            (rc = zx_store_item_mime(c->st, sid, &old, &old_len, &c->err)) < 0)
            return -1;
        if (rc != ZX_STORE_OK || !item || strcmp(item->folder_id, folder->id) != 0) {
            answer(c, responses, op->tag, cid, sid ? sid : "", SYNC_NOT_FOUND);
            return 0;
        }
    }
    int kept = 0;
    apr_size_t len = 0;
    apr_array_header_t *kept_parts = apr_array_make(p, 4, sizeof(int));
    const char *data = build(c, sid, old, old_len, &d, &kept, kept_parts, &len);
    if (!data)
        return -1;

    if (d.send && add && retry) {
        /* sent by the first run (its commands committed with the key the client repeats);
         * a Change with Send finds its draft gone (status 8) */
        zx_log(c->req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02908) "Sync Add with Send of draft %s "
               "repeated: not sent again", who);
        answer(c, responses, op->tag, cid, NULL, SYNC_OK);
        return 0;
    }
    if (d.send) {
        int rc = send_draft(c, data, len);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            answer(c, responses, op->tag, cid, sid, rc);
            return 0;
        }
        *applied = 1;
        /* out of Drafts: the server's deletion, so the sending device is told too */
        if (!add && zx_store_item_delete(c->st, sid, NULL, &c->err) < 0)
            return -1;
        if (add)
            answer(c, responses, op->tag, cid, NULL, SYNC_OK);
        return 0;
    }

    /* a file kept under another part number (one before it was removed) has another
     * FileReference: the change is then the server's, and the device gets the draft back with
     * the references as they now are */
    const char *by = c->device;
    if (kept > 0) {
        zx_mime_message *nm = NULL;
        if (zx_mime_parse(p, data, len, &nm, &c->err) < 0)
            return -1;
        for (int i = 0; i < kept; i++)
            if (!nm->attachments || i >= nm->attachments->nelts ||
                APR_ARRAY_IDX(nm->attachments, i, zx_mime_attachment).part !=
                APR_ARRAY_IDX(kept_parts, i, int))
                by = NULL;
    }
    zx_item *item = NULL;
    int rc = zx_store_draft_save(c->st, folder->id, sid, data, len, by, &item, &c->err);
    if (rc < 0)
        return -1;
    if (rc != ZX_STORE_OK) {
        zx_log(c->req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02907) "Sync %s of draft %s refused: the "
               "store keeps no drafts here", what, who);
        answer(c, responses, op->tag, cid, sid, rc == ZX_STORE_NOT_FOUND ? SYNC_NOT_FOUND
                                                                        : SYNC_CONVERSION_ERROR);
        return 0;
    }
    *applied = 1;
    if (!add && (flags.read >= 0 || flags.flag || flags.categories) &&
        (rc = zx_store_item_update(c->st, item->id, &flags, by, &c->err)) < 0)
        return -1;
    /* [MS-ASCMD] 2.2.3.154: an Add is answered, a Change only when it added files */
    if (!add && d.adds->nelts == 0)
        return 0;
    zx_wb_node *ad = answer_data(c, item, data, len, &d, kept, add);
    if (!ad)
        return -1;
    zx_wb_node *n = answer(c, responses, op->tag, cid, item->id, SYNC_OK);
    if (ad->first)
        zx_wb_append(n, ad);
    return 0;
}
