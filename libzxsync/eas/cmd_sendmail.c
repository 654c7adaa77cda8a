/* zxmobile - SendMail, SmartReply and SmartForward ([MS-ASCMD] 2.2.1.17, 2.2.1.20, 2.2.1.19).
 *
 * Two request forms:
 *   - 12.1 and earlier: the body is the MIME message itself (Content-Type message/rfc822,
 *     checked by the pipeline); the query carries SaveInSent, ItemId, CollectionId, LongId
 *     ([MS-ASHTTP] 2.2.1.1.1.1.3).  Success is an empty 200; failures are HTTP statuses.
 *   - 14.0 and later: a ComposeMail WBXML document (ClientId, SaveInSentItems, ReplaceMime,
 *     Source{FolderId, ItemId, LongId, InstanceId}, Mime; AccountId and rm:TemplateID from
 *     14.1; Forwardees and airsyncbase:Body in a 16.x SmartForward).  Success is an empty 200,
 *     a failure <Command><Status>n</Status></Command> with the common status of [MS-ASCMD]
 *     2.2.2 (2.2.3.177.14, 2.2.3.177.16).
 *
 * Nothing half-done: the ClientId record, the Sent Items copy and the answered/forwarded mark
 * of the original are written in one database transaction that commits only after the
 * sendmail command has accepted the message, and rolls back when it has not.
 *
 * SmartReply/SmartForward build the outgoing message from the client's MIME plus the stored
 * original (unless ReplaceMime): a reply gets the original's text quoted under the client's
 * text, a forward gets it inline plus the original's attachments (zxsync/mime_compose.h).
 */
#include "handlers.h"

#include <zxsync/directory.h>
#include <zxsync/log.h>
#include <zxsync/mime.h>
#include <zxsync/mime_compose.h>
#include <zxsync/submit.h>
#include <zxsync/store.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include <string.h>

/* [MS-ASCMD] 2.2.2 common status codes used here */
#define EAS_INVALID_DATETIME 104
#define EAS_INVALID_COMBINATION_OF_IDS 105
#define EAS_INVALID_MIME 107
#define EAS_MESSAGE_PREVIOUSLY_SENT 118
#define EAS_MESSAGE_HAS_NO_RECIPIENT 119
#define EAS_MAIL_SUBMISSION_FAILED 120
#define EAS_MESSAGE_REPLY_FAILED 121
#define EAS_ITEM_NOT_FOUND 150
#define EAS_INVALID_ACCOUNT_ID 166
#define EAS_IRM_FEATURE_DISABLED 168

/* ClientId records are kept this long ([MS-ASCMD] 2.2.3.28.1: duplicates are detected by it). */
#define CLIENT_ID_KEEP "30 days"

/* ---- the request ------------------------------------------------------------------------ */

typedef enum { COMPOSE_SEND, COMPOSE_REPLY, COMPOSE_FORWARD } compose_kind;

typedef struct {
    compose_kind kind;
    const char *client_id;
    int save_in_sent;
    int replace_mime;
    const char *mime;
    apr_size_t mime_len;
    const char *src_folder, *src_item, *src_long, *src_instance;
    const zx_wb_node *forwardees;     /* 16.x SmartForward of a calendar item */
    const zx_wb_node *body;           /* airsyncbase:Body with it */
    int has_source;
} compose_req;

typedef struct {
    zx_eas_status status;   /* 0 = success */
    int http;               /* for 12.1 and earlier */
    zx_log_level level;
    const char *reason;
} compose_err;

static int fail(compose_err *e, zx_eas_status st, int http, zx_log_level lvl, const char *why)
{
    e->status = st;
    e->http = http;
    e->level = lvl;
    e->reason = why;
    return -1;
}

/* Bytes of an element: inline string or opaque data. */
static const char *wb_bytes(apr_pool_t *p, const zx_wb_node *n, apr_size_t *len)
{
    apr_size_t total = 0;
    int pieces = 0;
    const zx_wb_node *only = NULL;
    for (const zx_wb_node *c = n ? n->first : NULL; c; c = c->next)
        if (c->kind != ZX_WB_ELEMENT) {
            total += c->len;
            pieces++;
            only = c;
        }
    *len = total;
    if (pieces == 0)
        return NULL;
    if (pieces == 1)
        return only->data;
    char *s = apr_palloc(p, total + 1), *w = s;
    for (const zx_wb_node *c = n->first; c; c = c->next)
        if (c->kind != ZX_WB_ELEMENT) {
            memcpy(w, c->data, c->len);
            w += c->len;
        }
    *w = '\0';
    return s;
}

/* [MS-ASDTYPE] 2.3 dateTime with punctuation: 2010-03-20T22:40:00.000Z */
static int datetime_valid(const char *s)
{
    int y, mo, d, h, mi, se, ms;
    char z;
    if (!s || strlen(s) != 24)
        return 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo, &d, &h, &mi, &se, &ms, &z) != 8)
        return 0;
    return z == 'Z' && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && se <= 60;
}

static int parse_wbxml(const zx_request *req, compose_req *c, compose_err *e)
{
    apr_pool_t *p = req->pool;
    const zx_wb_node *root = req->doc;
    if (!root)
        return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO, ZXLOGNO(00700) "empty request body");
    for (const zx_wb_node *n = root->first; n; n = n->next) {
        if (n->kind != ZX_WB_ELEMENT)
            continue;
        switch (n->tag) {
        case ZX_ComposeMail_ClientId:
            c->client_id = zx_wb_text(p, n);
            break;
        case ZX_ComposeMail_SaveInSentItems:
            c->save_in_sent = 1;
            break;
        case ZX_ComposeMail_ReplaceMime:
            if (c->kind == COMPOSE_SEND)
                return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                            ZXLOGNO(00701) "ReplaceMime in a SendMail request");
            c->replace_mime = 1;
            break;
        case ZX_ComposeMail_Mime:
            c->mime = wb_bytes(p, n, &c->mime_len);
            break;
        case ZX_ComposeMail_Source:
            c->has_source = 1;
            if (c->kind == COMPOSE_SEND)
                return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                            ZXLOGNO(00732) "Source in a SendMail request");
            for (const zx_wb_node *s = n->first; s; s = s->next) {
                if (s->kind != ZX_WB_ELEMENT)
                    continue;
                const char *v = zx_wb_text(p, s);
                switch (s->tag) {
                case ZX_ComposeMail_FolderId: c->src_folder = v; break;
                case ZX_ComposeMail_ItemId: c->src_item = v; break;
                case ZX_ComposeMail_LongId: c->src_long = v; break;
                case ZX_ComposeMail_InstanceId: c->src_instance = v ? v : ""; break;
                default:
                    return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                                apr_psprintf(p, ZXLOGNO(00733) "unexpected element %s in Source",
                                             zx_wb_tag_name(s->tag)));
                }
            }
            break;
        case ZX_ComposeMail_AccountId:
            /* 14.1+: must be one of the AccountIds of Settings UserInformation; the primary
             * account has none ([MS-ASCMD] 2.2.3.3.1), so any value is unknown (166). */
            if (req->proto < ZX_V141)
                return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                            ZXLOGNO(00734) "AccountId before protocol 14.1");
            return fail(e, EAS_INVALID_ACCOUNT_ID, 400, ZX_LOG_INFO,
                        ZXLOGNO(00702) "AccountId names no account of this user");
        case ZX_RightsManagement_TemplateID:
            return fail(e, EAS_IRM_FEATURE_DISABLED, 400, ZX_LOG_INFO,
                        ZXLOGNO(00703) "rights management (TemplateID) is not available");
        case ZX_ComposeMail_Forwardees:
            if (c->kind != COMPOSE_FORWARD || req->proto < ZX_V160)
                return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                            ZXLOGNO(00735) "Forwardees outside a 16.x SmartForward");
            c->forwardees = n;
            break;
        case ZX_AirSyncBase_Body:
            if (c->kind != COMPOSE_FORWARD || req->proto < ZX_V160)
                return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                            ZXLOGNO(00736) "airsyncbase:Body outside a 16.x SmartForward");
            c->body = n;
            break;
        default:
            return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00737) "unexpected element %s:%s",
                                     zx_wb_page_name(ZX_WB_PAGE(n->tag)), zx_wb_tag_name(n->tag)));
        }
    }
    /* [MS-ASCMD] 2.2.3.28.1: ClientId required, up to 40 characters */
    if (!c->client_id || !*c->client_id || strlen(c->client_id) > 40)
        return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                    ZXLOGNO(00704) "ClientId missing or longer than 40 characters");
    if (c->forwardees || c->body) {
        /* [MS-ASCMD] 2.2.3.169: with Forwardees or Body, no Mime, SaveInSentItems, ReplaceMime */
        if (c->mime || c->save_in_sent || c->replace_mime)
            return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                        ZXLOGNO(00705) "Forwardees/Body together with Mime, SaveInSentItems or "
                        "ReplaceMime");
    }
    else if (!c->mime || c->mime_len == 0)
        return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO, ZXLOGNO(00706) "Mime missing or empty");
    if (c->kind != COMPOSE_SEND) {
        if (!c->has_source || (!c->src_item && !c->src_long))
            return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                        ZXLOGNO(00707) "Source without ItemId or LongId");
        /* [MS-ASCMD] 2.2.3.173: LongId excludes FolderId and ItemId */
        if (c->src_long && (c->src_item || c->src_folder))
            return fail(e, EAS_INVALID_COMBINATION_OF_IDS, 400, ZX_LOG_INFO,
                        ZXLOGNO(00708) "Source with LongId and FolderId/ItemId");
        if (c->src_folder && !c->src_item)
            return fail(e, EAS_INVALID_COMBINATION_OF_IDS, 400, ZX_LOG_INFO,
                        ZXLOGNO(00739) "Source with FolderId but no ItemId");
        /* [MS-ASCMD] 2.2.1.19/2.2.1.20: an invalid InstanceId is status 104 */
        if (c->src_instance && !datetime_valid(c->src_instance))
            return fail(e, EAS_INVALID_DATETIME, 400, ZX_LOG_INFO,
                        ZXLOGNO(00709) "InstanceId is not a valid dateTime");
    }
    return 0;
}

static int parse_mime_form(const zx_request *req, compose_req *c, compose_err *e)
{
    c->mime = (const char *)req->body;
    c->mime_len = req->body_len;
    c->save_in_sent = req->save_in_sent == 1;
    if (c->kind != COMPOSE_SEND) {
        c->src_item = req->item_id;
        c->src_folder = req->collection_id;
        c->src_long = req->long_id;
        if (!c->src_item && !c->src_long)
            return fail(e, ZX_EAS_INVALID_XML, 400, ZX_LOG_INFO,
                        ZXLOGNO(00710) "SmartReply/SmartForward without ItemId or LongId parameter");
    }
    if (!c->mime || !c->mime_len)
        return fail(e, ZX_EAS_INVALID_CONTENT, 400, ZX_LOG_INFO, ZXLOGNO(00738) "empty message");
    return 0;
}

/* A 16.x SmartForward without Mime: the message is made from Forwardees and Body. */
static void synthesize_forward(apr_pool_t *p, compose_req *c, const zx_mime_message *om)
{
    apr_array_header_t *to = apr_array_make(p, 4, sizeof(zx_mime_mailbox));
    if (c->forwardees) {
        for (const zx_wb_node *f = c->forwardees->first; f; f = f->next) {
            if (f->kind != ZX_WB_ELEMENT || f->tag != ZX_ComposeMail_Forwardee)
                continue;
            zx_mime_mailbox *mb = apr_array_push(to);
            mb->email = zx_wb_child_text(p, f, ZX_ComposeMail_Email);
            mb->name = zx_wb_child_text(p, f, ZX_ComposeMail_Name);
        }
    }
    const char *data = c->body ? zx_wb_child_text(p, c->body, ZX_AirSyncBase_Data) : NULL;
    const char *type = c->body ? zx_wb_child_text(p, c->body, ZX_AirSyncBase_Type) : NULL;
    c->mime = zx_mime_compose_forward(p, to, om->subject, data,
                                      type && strcmp(type, "2") == 0, &c->mime_len);
}

/* ---- the command ------------------------------------------------------------------------- */

static void respond_fail(const zx_request *req, zx_response *resp, const compose_err *e)
{
    zx_respond_error(req, resp, e->status, e->http, e->level, e->reason);
    zx_retry_after_db(resp);
}

/* Everything inside the transaction; 0 when the message went out. */
static int compose_in_tx(const zx_server *srv, zx_request *req, compose_req *c, zx_db *db,
                         compose_err *e)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    zx_store *st = zx_store_open(p, db, req->account.id);
    compose_kind kind = c->kind;

    /* 1. the ClientId of a message already sent from this device: 118 */
    if (c->client_id) {
        const char *params[3] = {req->account.id, req->device_id, c->client_id};
        long n = zx_db_affected(db,
            "INSERT INTO compose_client_ids (account_id, device_id, client_id) "
            "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", 3, params, &err);
        if (n < 0)
            return fail(e, ZX_EAS_SERVER_ERROR_RETRY, 503, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00713) "cannot record the ClientId: %s", err));
        if (n == 0)
            return fail(e, EAS_MESSAGE_PREVIOUSLY_SENT, 400, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00714) "message with ClientId %s was already sent",
                                     c->client_id));
        if (zx_db_run(db, "DELETE FROM compose_client_ids WHERE account_id = $1 AND device_id = $2 "
                          "AND created_at < now() - interval '" CLIENT_ID_KEEP "'", 2, params,
                      &err) < 0)
            return fail(e, ZX_EAS_SERVER_ERROR_RETRY, 503, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00713) "cannot record the ClientId: %s", err));
    }

    /* 2. the original of a reply/forward */
    zx_item *orig = NULL;
    const char *orig_mime = NULL;
    apr_size_t orig_len = 0;
    zx_mime_message *om = NULL;
    if (kind != COMPOSE_SEND) {
        const char *what = kind == COMPOSE_REPLY ? "SmartReply" : "SmartForward";
        const char *id = c->src_item ? c->src_item : c->src_long;
        int rc = zx_store_item_get(st, id, &orig, &err);
        if (rc < 0)
            return fail(e, ZX_EAS_SERVER_ERROR_RETRY, 500, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00715) "%s: cannot read item %s: %s", what, id, err));
        if (rc != ZX_STORE_OK || !orig || orig->deleted || (c->src_folder && strcmp(c->src_folder, orig->folder_id) != 0))
            return fail(e, EAS_ITEM_NOT_FOUND, 500, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00716) "%s: source item %s%s%s not found", what, id,
                                     c->src_folder ? " in folder " : "",
                                     c->src_folder ? c->src_folder : ""));
        if (zx_store_item_mime(st, orig->id, &orig_mime, &orig_len, &err) != ZX_STORE_OK ||
            !orig_mime ||
            zx_mime_parse(p, orig_mime, orig_len, &om, &err) < 0)
            return fail(e, EAS_MESSAGE_REPLY_FAILED, 500, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00717) "%s: cannot read the message of item %s: %s",
                                     what, orig->id, err ? err : "no message"));
        if (!c->mime)
            synthesize_forward(p, c, om);
    }

    /* 3. the outgoing message */
    zx_mime_draft *m = zx_mime_draft_parse(p, c->mime, c->mime_len);
    if (!m)
        return fail(e, EAS_INVALID_MIME, 400, ZX_LOG_INFO,
                    ZXLOGNO(00718) "the MIME message cannot be parsed");
    const char *was = zx_mime_draft_set_from(m, req->account.name);
    if (was)
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(00724) "From \"%s\" replaced by the account %s",
               was, req->account.name);
    zx_mime_draft_complete(m, req->account.name);
    if (kind == COMPOSE_REPLY)
        zx_mime_draft_reply_headers(m, om->message_id, om->references);
    /* a signed or encrypted message is sent as the client made it: adding the original
     * would break it */
    if (kind != COMPOSE_SEND && !c->replace_mime && !zx_mime_draft_is_protected(m))
        zx_mime_draft_merge_original(m, orig_mime, orig_len, om, kind == COMPOSE_FORWARD);

    apr_array_header_t *rcpts = zx_mime_draft_recipients(m);
    if (rcpts->nelts == 0)
        return fail(e, EAS_MESSAGE_HAS_NO_RECIPIENT, 400, ZX_LOG_INFO,
                    ZXLOGNO(00719) "the message has no recipient");
    apr_size_t full_len;
    const char *full = zx_mime_draft_write(m, &full_len);

    /* 4. the Sent Items copy (with Bcc) and the mark on the original, still uncommitted */
    if (c->save_in_sent) {
        zx_folder *sent = NULL;
        zx_item *copy = NULL;
        if (zx_store_ensure_mailbox(st, &err) != ZX_STORE_OK ||
            zx_store_folder_by_type(st, ZX_FOLDER_SENT, &sent, &err) != ZX_STORE_OK ||
            !sent ||
            zx_store_deliver(st, sent->id, full, full_len, 1, &copy, &err) != ZX_STORE_OK)
            return fail(e, ZX_EAS_SERVER_ERROR_RETRY, 500, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00720) "cannot store the copy in Sent Items: %s",
                                     err ? err : "no Sent Items folder"));
    }
    if (kind != COMPOSE_SEND) {
        zx_item_changes ch;
        memset(&ch, 0, sizeof ch);
        ch.read = -1;
        ch.answered = kind == COMPOSE_REPLY ? 1 : -1;
        ch.forwarded = kind == COMPOSE_FORWARD ? 1 : -1;
        /* [MS-ASEMAIL] LastVerbExecuted: 1 reply to sender, 2 reply to all, 3 forward.  A
         * reply to more than one recipient is a reply to all. */
        ch.last_verb = kind == COMPOSE_FORWARD ? 3 : rcpts->nelts > 1 ? 2 : 1;
        /* made by the server, so every device (the sender's too) gets the change */
        int rc = zx_store_item_update(st, orig->id, &ch, NULL, &err);
        if (rc < 0)
            return fail(e, ZX_EAS_SERVER_ERROR_RETRY, 500, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00721) "cannot mark item %s: %s", orig->id, err));
        if (rc != ZX_STORE_OK)      /* deleted meanwhile */
            return fail(e, EAS_ITEM_NOT_FOUND, 500, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00740) "source item %s not found", orig->id));
    }

    /* 5. hand it over: accounts of this server get their copy here, the rest goes to the
     * transport (zxsync/submit.h); Bcc stays in the Sent copy but not in what recipients see
     * (with sendmail -t the command removes it itself) */
    const char *out = full;
    apr_size_t out_len = full_len;
    if (!zx_transport_reads_recipients(p, srv->settings.transport) &&
        zx_mime_draft_remove_bcc(m))
        out = zx_mime_draft_write(m, &out_len);
    zx_submit_result sr;
    zx_send_status ss = zx_submit(p, db, srv->settings.transport, req->account.name, rcpts,
                                  out, out_len, &sr);
    /* [MS-ASCMD] 2.2.3.177.14 and .16 (Status of SendMail, SmartReply, SmartForward) take
     * their values from 2.2.2: a failure that may pass is 111 ServerErrorRetryLater (nothing
     * was kept, the client keeps the message and sends it again), one that will not is 120
     * MailSubmissionFailed */
    if (ss == ZX_SEND_TEMPFAIL)
        return fail(e, ZX_EAS_SERVER_ERROR_RETRY, 503, ZX_LOG_WARNING,
                    apr_psprintf(p, ZXLOGNO(03000) "mail from %s not sent, for now (the client "
                                 "is told to try again): %s", req->account.name, sr.err));
    if (ss != ZX_SEND_OK)
        return fail(e, EAS_MAIL_SUBMISSION_FAILED, 500, ZX_LOG_ERR,
                    apr_psprintf(p, ZXLOGNO(00722) "mail from %s not sent: %s", req->account.name,
                                 sr.err));
    zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(03001) "mail from %s: %d recipient(s) of this "
           "server, %d handed to %s", req->account.name, sr.local, sr.outside,
           zx_transport_describe(p, srv->settings.transport));
    return 0;
}

static void compose_handler(const zx_server *srv, zx_request *req, zx_response *resp,
                            compose_kind kind)
{
    apr_pool_t *p = req->pool;
    compose_req c;
    compose_err e = {0, 0, ZX_LOG_INFO, NULL};
    const char *err = NULL;
    memset(&c, 0, sizeof c);
    c.kind = kind;

    if ((req->proto >= ZX_V140 ? parse_wbxml(req, &c, &e) : parse_mime_form(req, &c, &e)) < 0) {
        respond_fail(req, resp, &e);
        return;
    }
    int own = 0;
    zx_db *db = zx_request_db(srv, req, &err);
    if (!db || zx_db_tx_begin(db, &own, &err) < 0) {
        fail(&e, ZX_EAS_SERVER_ERROR_RETRY, 503, ZX_LOG_ERR,
             apr_psprintf(p, ZXLOGNO(00712) "cannot send mail: %s", err));
        respond_fail(req, resp, &e);
        return;
    }
    int rc = compose_in_tx(srv, req, &c, db, &e);
    if (zx_db_tx_end(db, own, rc, &err) < 0 && rc == 0) {
        /* The message is gone already: telling the client to retry would send it twice. */
        zx_log(req->log_ctx, ZX_LOG_ERR,
               ZXLOGNO(00723) "mail from %s was sent but its ClientId, Sent Items copy or "
               "reply mark could not be stored: %s", req->account.name, err);
    }
    if (rc < 0) {
        respond_fail(req, resp, &e);
        return;
    }
    zx_respond_http(req, resp, 200, ZX_LOG_DEBUG, NULL);
}

void zx_cmd_sendmail(const zx_server *srv, zx_request *req, zx_response *resp)
{
    compose_handler(srv, req, resp, COMPOSE_SEND);
}

void zx_cmd_smartreply(const zx_server *srv, zx_request *req, zx_response *resp)
{
    compose_handler(srv, req, resp, COMPOSE_REPLY);
}

void zx_cmd_smartforward(const zx_server *srv, zx_request *req, zx_response *resp)
{
    compose_handler(srv, req, resp, COMPOSE_FORWARD);
}
