/* zxmobile - ItemOperations ([MS-ASCMD] 2.2.1.10).
 *
 * Operations, answered in the order of the request inside <Response>:
 *   Fetch                mailbox items (airsync:CollectionId + airsync:ServerId, or
 *                        search:LongId) rendered as a Sync would (email renderer, Options:
 *                        BodyPreference, BodyPartPreference, MIMESupport), and attachments
 *                        (airsyncbase:FileReference "<item>:<part>") with Options/Range "m-n"
 *                        and Total; Store must be "Mailbox" (document libraries: status 9).
 *   EmptyFolderContents  empties a folder, its subfolders too with Options/DeleteSubFolders.
 *   Move (14.0+)         moves a conversation (ConversationId) to DstFldId; Options/MoveAlways
 *                        is required ([MS-ASCON] 2.2.2.8, status 155).
 * Binary content is inline (base64 text in Data) unless the client accepts multipart
 * (MS-ASAcceptMultiPart: T or the AcceptMultiPart flag of the base64 query): then the body
 * is a MultiPartResponse ([MS-ASCMD] 2.2.1.10.1.1) whose part 0 is the WBXML and whose later
 * parts hold the data, referred to by Part elements.
 * Status values: [MS-ASCMD] 2.2.3.177.8 (1 success, 2 protocol error, 3 server error,
 * 6 object not found, 8 invalid byte range, 9 unknown store, 11 data too large, 15 invalid
 * attachment, 16 access denied, 155 MoveAlways missing, 156 destination not a mail folder);
 * [MS-ASCON] 2.2.2.10 for Move (6 not found, 105 invalid destination).
 *
 * What one request may cost (README "Limits and hardening"): the Fetches return at most
 * ZxMobileFetchBudget bytes of content together, and at most ZxMobileFetchMaxOperations Fetch
 * elements are served.  A Fetch's size is known from the store before anything is loaded or
 * decoded (the message's body and MIME sizes, the attachment's size row): one over what the
 * request has left answers 11 ("the requested data size is too large") without loading it; a
 * ranged attachment Fetch is answered best effort ([MS-ASCMD] 2.2.3.143.2: the Range of the
 * response says what was sent, Total the size), cut to what is left, and decodes no further
 * than its range.  Between operations the client's socket is looked at: a client that hung up
 * gets no more work done for it.
 */
#include "handlers.h"
#include "attachref.h"
#include "class/class.h"
#include "wait.h"

#include <zxsync/log.h>
#include <zxsync/mime.h>
#include <zxsync/store.h>
#include <zxsync/text.h>

#include <apr_base64.h>
#include <apr_strings.h>

#include <stdint.h>
#include <string.h>

#define ST_SUCCESS 1
#define ST_PROTOCOL_ERROR 2
#define ST_SERVER_ERROR 3
#define ST_NOT_FOUND 6
#define ST_BAD_RANGE 8
#define ST_UNKNOWN_STORE 9
#define ST_TOO_LARGE 11
#define ST_BAD_ATTACHMENT 15
#define ST_ACCESS_DENIED 16
#define ST_INVALID_COMBINATION 105
#define ST_MOVEALWAYS_MISSING 155
#define ST_DESTINATION_NOT_MAIL 156

/* Largest byte range one Fetch returns (a larger Range is cut to it). */
#define MAX_RANGE (16u * 1024u * 1024u)

typedef struct {
    const zx_server *srv;
    zx_request *req;
    zx_db *db;
    zx_store *st;
    int multipart;
    apr_array_header_t *blobs;     /* zx_class_blob: parts 1..n of a multipart response */
    const char *err;
    int failed;                    /* a database error: the whole request fails */
    apr_size_t left;               /* bytes of ZxMobileFetchBudget not yet spent */
    unsigned fetches;              /* Fetch elements seen */
    unsigned refused;              /* Fetches answered 11 for the budget or the count */
    /* the message of the last attachment Fetch, kept for the next ones of the same item (one
     * message at a time, in a pool of its own) */
    apr_pool_t *mime_pool;
    const char *mime_item;
    zx_mime_handle *parsed;        /* that message, parsed once */
} iop_ctx;

/* Text of a child, or NULL; sets *dup when the element appears more than once. */
static const char *child_text_once(apr_pool_t *p, const zx_wb_node *n, unsigned tag, int *dup)
{
    const zx_wb_node *c = zx_wb_child(n, tag);
    if (c && zx_wb_next(c, tag))
        *dup = 1;
    return c ? zx_wb_text(p, c) : NULL;
}

/* Options/Range "m-n" (zero-indexed, inclusive). */
static int parse_range(const char *s, apr_uint64_t *from, apr_uint64_t *to)
{
    if (!s || !*s)
        return -1;
    apr_uint64_t a = 0, b = 0;
    const char *c = s;
    if (*c < '0' || *c > '9')
        return -1;
    for (; *c >= '0' && *c <= '9'; c++) {
        if (a > UINT32_MAX)
            return -1;
        a = a * 10 + (apr_uint64_t)(*c - '0');
    }
    if (*c++ != '-' || *c < '0' || *c > '9')
        return -1;
    for (; *c >= '0' && *c <= '9'; c++) {
        if (b > UINT32_MAX)
            return -1;
        b = b * 10 + (apr_uint64_t)(*c - '0');
    }
    if (*c || a > b)
        return -1;
    *from = a;
    *to = b;
    return 0;
}

/* Text content for an element made earlier (a Status that comes first but is known last). */
static void put_text(apr_pool_t *p, zx_wb_node *e, const char *s)
{
    zx_wb_node *t = apr_pcalloc(p, sizeof *t);
    t->kind = ZX_WB_TEXT;
    t->data = s;
    t->len = strlen(s);
    zx_wb_append(e, t);
}

/* Binary content: base64 text in Data, or a Part of the multipart response. */
static void put_data(iop_ctx *c, zx_wb_node *parent, const char *data, apr_size_t len)
{
    apr_pool_t *p = c->req->pool;
    if (c->multipart) {
        zx_class_blob *b = apr_array_push(c->blobs);
        b->data = data;
        b->len = len;
        zx_wb_add_textf(p, parent, ZX_ItemOperations_Part, "%d", c->blobs->nelts);
        return;
    }
    char *b64 = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)len));
    apr_base64_encode(b64, data, (int)len);
    zx_wb_add_text(p, parent, ZX_ItemOperations_Data, b64);
}

/* ---- validation: what makes the whole request a protocol error (status 2) ---------------- */

static int fetch_valid(apr_pool_t *p, const zx_wb_node *f, zx_version v)
{
    int dup = 0;
    const char *store = child_text_once(p, f, ZX_ItemOperations_Store, &dup);
    const char *fref = child_text_once(p, f, ZX_AirSyncBase_FileReference, &dup);
    const char *coll = child_text_once(p, f, ZX_AirSync_CollectionId, &dup);
    const char *sid = child_text_once(p, f, ZX_AirSync_ServerId, &dup);
    const char *lid = child_text_once(p, f, ZX_Search_LongId, &dup);
    const char *link = child_text_once(p, f, ZX_DocumentLibrary_LinkId, &dup);
    /* [MS-ASCMD] 2.2.3.8: only one FileReference per Fetch (status 2); one of each id */
    if (dup || !store)
        return 0;
    int kinds = (fref != NULL) + (sid != NULL || coll != NULL) + (lid != NULL) + (link != NULL);
    if (kinds != 1 || (sid && !coll) || (coll && !sid && !fref))
        return 0;
    const zx_wb_node *opt = zx_wb_child(f, ZX_ItemOperations_Options);
    if (opt) {
        const zx_wb_node *r = zx_wb_child(opt, ZX_ItemOperations_Range);
        apr_uint64_t a, b;
        if (r && parse_range(zx_wb_text(p, r), &a, &b) < 0)
            return 0;
        /* [MS-ASCMD] 2.2.3.125.3: an invalid option is status 2 (the item's class is not
         * known yet: the options as the default class reads them) */
        zx_class_opts ro;
        if (zx_class_of(NULL)->parse_options(p, opt, v, &ro) < 0)
            return 0;
    }
    return 1;
}

static int request_valid(const zx_request *req)
{
    apr_pool_t *p = req->pool;
    int ops = 0;
    for (const zx_wb_node *n = req->doc->first; n; n = n->next) {
        if (n->kind != ZX_WB_ELEMENT)
            continue;
        ops++;
        switch (n->tag) {
        case ZX_ItemOperations_Fetch:
            if (!fetch_valid(p, n, req->proto))
                return 0;
            break;
        case ZX_ItemOperations_EmptyFolderContents:
            if (!zx_wb_child_text(p, n, ZX_AirSync_CollectionId))
                return 0;
            break;
        case ZX_ItemOperations_Move:
            if (req->proto < ZX_V140 || !zx_wb_child(n, ZX_ItemOperations_ConversationId) ||
                !zx_wb_child_text(p, n, ZX_ItemOperations_DstFldId))
                return 0;
            break;
        default:
            return 0;
        }
    }
    return ops > 0;
}

/* ---- Fetch ------------------------------------------------------------------------------------ */

static int fetch_attachment(iop_ctx *c, const zx_wb_node *f, const char *ref, zx_wb_node *out)
{
    apr_pool_t *p = c->req->pool;
    zx_attachment_info a;
    int rc = zx_attachment_lookup(p, c->st, ref, &a, &c->err);
    if (rc < 0) {
        zx_log(c->req->log_ctx, ZX_LOG_ERR, ZXLOGNO(00770) "ItemOperations Fetch %s: %s", ref,
               c->err);
        return ST_SERVER_ERROR;
    }
    if (rc > 0)
        return ST_BAD_ATTACHMENT;
    const zx_wb_node *opt = zx_wb_child(f, ZX_ItemOperations_Options);
    const char *range = opt ? zx_wb_child_text(p, opt, ZX_ItemOperations_Range) : NULL;
    apr_uint64_t from = 0, to = 0;
    apr_size_t count = a.size;
    if (range) {
        parse_range(range, &from, &to);
        /* [MS-ASCMD] 2.2.3.177.8: 8 the byte range is invalid or too large */
        if (from >= a.size)
            return ST_BAD_RANGE;
        if (to >= a.size)
            to = a.size - 1;
        /* best effort (2.2.3.143.2): at most MAX_RANGE and what the request has left */
        apr_size_t cap = MAX_RANGE < c->left ? MAX_RANGE : c->left;
        if (cap == 0) {
            c->refused++;
            return ST_TOO_LARGE;
        }
        count = (apr_size_t)(to - from + 1);
        if (count > cap)
            count = cap;
    }
    else if (a.size > c->left || (a.size > MAX_RANGE && !c->multipart)) {
        /* 11: the requested data size is too large - decided before anything is decoded */
        c->refused++;
        return ST_TOO_LARGE;
    }
    /* the message (one at a time, kept for the next Fetch of the same item) and its decoding
     * live in pools of their own: only the bytes sent stay in the request's */
    if (!c->mime_item || strcmp(c->mime_item, a.item_id) != 0) {
        if (c->mime_pool)
            apr_pool_clear(c->mime_pool);
        else
            apr_pool_create(&c->mime_pool, p);
        c->mime_item = NULL;
        /* the bytes are needed only while GMime reads them (it keeps a copy) */
        apr_pool_t *load;
        apr_pool_create(&load, c->mime_pool);
        zx_store tmp = *c->st;
        tmp.pool = load;
        const char *mime = NULL;
        apr_size_t mime_len = 0;
        rc = zx_store_item_mime(&tmp, a.item_id, &mime, &mime_len, &c->err);
        if (rc < 0) {
            zx_log(c->req->log_ctx, ZX_LOG_ERR, ZXLOGNO(00779) "ItemOperations Fetch %s: %s",
                   ref, apr_pstrdup(p, c->err));
            apr_pool_destroy(load);
            return ST_SERVER_ERROR;
        }
        c->parsed = rc == ZX_STORE_OK && mime ? zx_mime_open(c->mime_pool, mime, mime_len) : NULL;
        apr_pool_destroy(load);
        if (!c->parsed)
            return ST_BAD_ATTACHMENT;
        c->mime_item = apr_pstrdup(c->mime_pool, a.item_id);
    }
    apr_pool_t *sub;
    apr_pool_create(&sub, p);
    const char *got = NULL, *why = NULL;
    apr_size_t len = 0;
    if (zx_mime_handle_range(c->parsed, sub, a.part, (apr_size_t)from, count, &got, &len,
                             &why) < 0) {
        apr_pool_destroy(sub);
        return ST_BAD_ATTACHMENT;
    }
    const char *data = len ? apr_pmemdup(p, got, len) : "";
    apr_pool_destroy(sub);
    c->left -= len < c->left ? len : c->left;
    zx_wb_node *props = zx_wb_add(p, out, ZX_ItemOperations_Properties);
    zx_wb_add_text(p, props, ZX_AirSyncBase_ContentType, a.content_type);
    if (range) {
        zx_wb_add_textf(p, props, ZX_ItemOperations_Range, "%" APR_UINT64_T_FMT "-%"
                        APR_UINT64_T_FMT, from, from + (len ? len : 1) - 1);
        zx_wb_add_textf(p, props, ZX_ItemOperations_Total, "%" APR_SIZE_T_FMT, a.size);
    }
    put_data(c, props, data, len);
    return ST_SUCCESS;
}

/* Bytes of one body form a Fetch loads: want as zx_content_want (-1 all, 0 none). */
static apr_size_t form_cost(long long want, apr_size_t size)
{
    if (want == 0)
        return 0;
    return want < 0 || (apr_uint64_t)want > size ? size : (apr_size_t)want;
}

static int fetch_item(iop_ctx *c, const zx_wb_node *f, const char *coll, const char *id,
                      zx_wb_node *out, zx_wb_node *fetch)
{
    apr_pool_t *p = c->req->pool;
    zx_item *item = NULL;
    int rc = zx_store_item_get(c->st, id, &item, &c->err);
    if (rc < 0) {
        zx_log(c->req->log_ctx, ZX_LOG_ERR, ZXLOGNO(00771) "ItemOperations Fetch of item %s: %s",
               id, c->err);
        return ST_SERVER_ERROR;
    }
    if (rc != ZX_STORE_OK || (coll && strcmp(coll, item->folder_id) != 0))
        return ST_NOT_FOUND;
    const zx_item_class *cls = zx_class_of(item->item_class);
    const zx_wb_node *opt = zx_wb_child(f, ZX_ItemOperations_Options);
    zx_class_opts ro;
    cls->parse_options(p, opt, c->req->proto, &ro);
    ro.multipart = c->multipart;
    /* what rendering would load, from the sizes alone (nothing of the bodies is read) */
    zx_content_want want, sizes = {0, 0, 0};
    cls->content_want(&ro, &want);
    apr_array_header_t *one = apr_array_make(p, 1, sizeof(zx_item *));
    APR_ARRAY_PUSH(one, zx_item *) = item;
    if (zx_store_item_contents(c->st, one, &sizes, &c->err) < 0) {
        zx_log(c->req->log_ctx, ZX_LOG_ERR, ZXLOGNO(00790) "ItemOperations Fetch of item %s: %s",
               id, c->err);
        return ST_SERVER_ERROR;
    }
    apr_size_t cost = 0;
    if (item->content)
        cost = form_cost(want.plain, item->content->plain_size) +
               form_cost(want.html, item->content->html_size) +
               form_cost(want.mime, item->content->mime_size);
    item->content = NULL;          /* the renderer loads what it needs */
    if (cost > c->left) {
        c->refused++;
        return ST_TOO_LARGE;
    }
    c->left -= cost;
    zx_wb_node *props = zx_wb_new(p, ZX_ItemOperations_Properties);
    if (cls->render(p, c->st, item, &ro, props, &c->blobs, &c->err) < 0) {
        zx_log(c->req->log_ctx, ZX_LOG_ERR, ZXLOGNO(00772) "ItemOperations Fetch of item %s: %s",
               id, c->err);
        return ST_SERVER_ERROR;
    }
    zx_wb_add_text(p, fetch, ZX_AirSync_Class, item->item_class ? item->item_class : "Email");
    zx_wb_append(out, props);
    return ST_SUCCESS;
}

static void op_fetch(iop_ctx *c, const zx_wb_node *f, zx_wb_node *resp)
{
    apr_pool_t *p = c->req->pool;
    zx_wb_node *fetch = zx_wb_add(p, resp, ZX_ItemOperations_Fetch);
    zx_wb_node *status = zx_wb_add(p, fetch, ZX_ItemOperations_Status);
    const char *store = zx_wb_child_text(p, f, ZX_ItemOperations_Store);
    const char *fref = zx_wb_child_text(p, f, ZX_AirSyncBase_FileReference);
    const char *coll = zx_wb_child_text(p, f, ZX_AirSync_CollectionId);
    const char *sid = zx_wb_child_text(p, f, ZX_AirSync_ServerId);
    const char *lid = zx_wb_child_text(p, f, ZX_Search_LongId);
    const char *link = zx_wb_child_text(p, f, ZX_DocumentLibrary_LinkId);
    /* the ids are echoed; the content follows in Class and Properties */
    if (fref)
        zx_wb_add_text(p, fetch, ZX_AirSyncBase_FileReference, fref);
    else if (sid) {
        zx_wb_add_text(p, fetch, ZX_AirSync_CollectionId, coll);
        zx_wb_add_text(p, fetch, ZX_AirSync_ServerId, sid);
    }
    else if (lid)
        zx_wb_add_text(p, fetch, ZX_Search_LongId, lid);
    else if (link)
        zx_wb_add_text(p, fetch, ZX_DocumentLibrary_LinkId, link);
    int st;
    /* [MS-ASCMD] 2.2.3.178.2 Store: "Mailbox"; document libraries are not offered */
    if (++c->fetches > c->srv->settings.max_fetches) {
        c->refused++;
        st = ST_TOO_LARGE;        /* over ZxMobileFetchMaxOperations: nothing is looked up */
    }
    else if (strcasecmp(store, "Mailbox") != 0 || link)
        st = ST_UNKNOWN_STORE;
    else if (fref)
        st = fetch_attachment(c, f, fref, fetch);
    else
        st = fetch_item(c, f, sid ? coll : NULL, sid ? sid : lid, fetch, fetch);
    put_text(p, status, apr_itoa(p, st));
}

/* ---- EmptyFolderContents ---------------------------------------------------------------------- */

static void op_empty(iop_ctx *c, const zx_wb_node *e, zx_wb_node *resp)
{
    apr_pool_t *p = c->req->pool;
    const char *coll = zx_wb_child_text(p, e, ZX_AirSync_CollectionId);
    const zx_wb_node *opt = zx_wb_child(e, ZX_ItemOperations_Options);
    int subfolders = opt && zx_wb_child(opt, ZX_ItemOperations_DeleteSubFolders) != NULL;
    zx_folder *f = NULL;
    int st = ST_SUCCESS;
    int rc = zx_store_folder_get(c->st, coll, &f, &c->err);
    if (rc < 0)
        st = ST_SERVER_ERROR;
    else if (rc != ZX_STORE_OK)
        /* the recipient information cache cannot be emptied ([MS-ASCMD] 2.2.1.10) */
        st = strcasecmp(coll, "RI") == 0 ? ST_ACCESS_DENIED : ST_NOT_FOUND;
    else if (f->type == ZX_FOLDER_RI_CACHE)
        st = ST_ACCESS_DENIED;
    else {
        /* the server's change: every device, the asking one too, gets the Deletes */
        rc = zx_store_folder_empty(c->st, f->id, subfolders, NULL, &c->err);
        if (rc < 0)
            st = ST_SERVER_ERROR;
        else if (rc != ZX_STORE_OK)
            st = ST_NOT_FOUND;
    }
    if (st == ST_SERVER_ERROR)
        zx_log(c->req->log_ctx, ZX_LOG_ERR, ZXLOGNO(00773) "ItemOperations EmptyFolderContents "
               "of folder %s: %s", coll, c->err);
    zx_wb_node *out = zx_wb_add(p, resp, ZX_ItemOperations_EmptyFolderContents);
    zx_wb_add_textf(p, out, ZX_ItemOperations_Status, "%d", st);
    zx_wb_add_text(p, out, ZX_AirSync_CollectionId, coll);
}

/* ---- Move (a conversation) -------------------------------------------------------------------- */

static void op_move(iop_ctx *c, const zx_wb_node *m, zx_wb_node *resp)
{
    apr_pool_t *p = c->req->pool;
    const zx_wb_node *cid_node = zx_wb_child(m, ZX_ItemOperations_ConversationId);
    const char *dst_id = zx_wb_child_text(p, m, ZX_ItemOperations_DstFldId);
    const zx_wb_node *opt = zx_wb_child(m, ZX_ItemOperations_Options);
    const unsigned char *cid = zx_eas_conversation_id(p, cid_node);
    zx_folder *dst = NULL;
    const zx_item_class *dst_class = NULL;
    int st = ST_SUCCESS, moved = 0;
    if (!opt || !zx_wb_child(opt, ZX_ItemOperations_MoveAlways))
        st = ST_MOVEALWAYS_MISSING;
    if (st == ST_SUCCESS) {
        int rc = zx_store_folder_get(c->st, dst_id, &dst, &c->err);
        if (rc < 0)
            st = ST_SERVER_ERROR;
        else if (rc != ZX_STORE_OK)
            st = ST_NOT_FOUND;
        else if (dst->type == ZX_FOLDER_RI_CACHE)
            st = ST_INVALID_COMBINATION;
        else if (!(dst_class = zx_class_find(dst->item_class)) || !dst_class->conversations)
            st = ST_DESTINATION_NOT_MAIL;
    }
    if (st == ST_SUCCESS && !cid)
        st = ST_NOT_FOUND;
    if (st == ST_SUCCESS) {
        /* The conversation's mail in every folder but Sent Items and the destination
         * ([MS-ASCON] 2.2.2.8). */
        apr_array_header_t *items = NULL;
        if (zx_store_conversation_items(c->st, cid, dst->id, &items, &c->err) < 0)
            st = ST_SERVER_ERROR;
        for (int i = 0; items && i < items->nelts && st == ST_SUCCESS; i++) {
            int rc = zx_store_item_move(c->st, APR_ARRAY_IDX(items, i, zx_item *)->id, dst->id,
                                        NULL, 0, NULL, &c->err);
            if (rc < 0)
                st = ST_SERVER_ERROR;
            else if (rc == ZX_STORE_OK)
                moved++;
        }
        if (st == ST_SUCCESS && moved == 0) {
            /* a conversation this mailbox does not know (or already all there) */
            int known = 0;
            if (zx_store_conversation_known(c->st, cid, &known, &c->err) < 0)
                st = ST_SERVER_ERROR;
            else if (!known)
                st = ST_NOT_FOUND;
        }
    }
    if (st == ST_SERVER_ERROR)
        zx_log(c->req->log_ctx, ZX_LOG_ERR, ZXLOGNO(00774) "ItemOperations Move to folder %s: %s",
               dst_id, c->err);
    zx_wb_node *out = zx_wb_add(p, resp, ZX_ItemOperations_Move);
    zx_wb_add_textf(p, out, ZX_ItemOperations_Status, "%d", st);
    /* the ConversationId as the client sent it */
    zx_wb_node *echo = zx_wb_add(p, out, ZX_ItemOperations_ConversationId);
    for (const zx_wb_node *k = cid_node->first; k; k = k->next)
        if (k->kind != ZX_WB_ELEMENT) {
            zx_wb_node *t = apr_pmemdup(p, k, sizeof *k);
            zx_wb_append(echo, t);
        }
}

/* ---- the command ------------------------------------------------------------------------------ */

static void put_u32le(unsigned char *b, apr_uint32_t v)
{
    b[0] = (unsigned char)(v & 0xFF);
    b[1] = (unsigned char)((v >> 8) & 0xFF);
    b[2] = (unsigned char)((v >> 16) & 0xFF);
    b[3] = (unsigned char)((v >> 24) & 0xFF);
}

/* [MS-ASCMD] 2.2.1.10.1.1: PartsCount, PartMetaData (Offset, Length) each, then the parts;
 * part 0 is the WBXML.  Integers are 32-bit little-endian. */
static void respond_multipart(iop_ctx *c, zx_response *resp, const zx_wb_node *root)
{
    zx_request *req = c->req;
    unsigned char *wb;
    apr_size_t wblen;
    if (zx_wbxml_encode(req->pool, root, &wb, &wblen) != ZX_WBXML_OK) {
        zx_respond_http(req, resp, 500, ZX_LOG_ERR,
                        ZXLOGNO(00775) "ItemOperations: the response cannot be encoded");
        return;
    }
    apr_size_t nparts = 1 + (apr_size_t)c->blobs->nelts;
    apr_size_t head = 4 + 8 * nparts, total = head + wblen;
    for (int i = 0; i < c->blobs->nelts; i++)
        total += APR_ARRAY_IDX(c->blobs, i, zx_class_blob).len;
    if (total > UINT32_MAX) {
        zx_respond_http(req, resp, 500, ZX_LOG_ERR,
                        ZXLOGNO(00776) "ItemOperations: multipart response over 4 GB");
        return;
    }
    unsigned char *body = apr_palloc(req->pool, total);
    put_u32le(body, (apr_uint32_t)nparts);
    apr_size_t off = head;
    put_u32le(body + 4, (apr_uint32_t)off);
    put_u32le(body + 8, (apr_uint32_t)wblen);
    memcpy(body + off, wb, wblen);
    off += wblen;
    for (int i = 0; i < c->blobs->nelts; i++) {
        const zx_class_blob *b = &APR_ARRAY_IDX(c->blobs, i, zx_class_blob);
        put_u32le(body + 4 + 8 * (apr_size_t)(i + 1), (apr_uint32_t)off);
        put_u32le(body + 8 + 8 * (apr_size_t)(i + 1), (apr_uint32_t)b->len);
        if (b->len)
            memcpy(body + off, b->data, b->len);
        off += b->len;
    }
    resp->status = 200;
    resp->content_type = "application/vnd.ms-sync.multipart";
    resp->body = body;
    resp->body_len = total;
}

void zx_cmd_itemoperations(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    iop_ctx c;
    memset(&c, 0, sizeof c);
    c.srv = srv;
    c.req = req;
    c.multipart = req->accept_multipart == 1;
    c.blobs = apr_array_make(p, 2, sizeof(zx_class_blob));
    c.left = srv->settings.fetch_budget;

    zx_wb_node *root = zx_wb_new(p, ZX_ItemOperations_ItemOperations);
    if (!req->doc || !request_valid(req)) {
        /* [MS-ASCMD] 2.2.3.177.8: 2, protocol violation (global) */
        zx_wb_add_textf(p, root, ZX_ItemOperations_Status, "%d", ST_PROTOCOL_ERROR);
        zx_respond_wbxml(req, resp, root);
        resp->reason = ZXLOGNO(00777) "ItemOperations request does not follow the protocol";
        resp->reason_level = ZX_LOG_INFO;
        return;
    }
    c.db = zx_request_db(srv, req, &c.err);
    if (!c.db) {
        zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                          apr_psprintf(p, ZXLOGNO(00778) "ItemOperations: %s", c.err));
        zx_retry_after_db(resp);
        return;
    }
    c.st = zx_store_open(p, c.db, req->account.id);
    zx_wb_add_textf(p, root, ZX_ItemOperations_Status, "%d", ST_SUCCESS);
    zx_wb_node *r = zx_wb_add(p, root, ZX_ItemOperations_Response);
    unsigned done = 0;
    for (const zx_wb_node *n = req->doc->first; n; n = n->next) {
        if (n->kind != ZX_WB_ELEMENT)
            continue;
        if (zx_client_gone(req)) {
            /* nobody reads the answer: no more work for it */
            zx_respond_http(req, resp, 400, ZX_LOG_INFO,
                            apr_psprintf(p, ZXLOGNO(00791) "ItemOperations: the client hung up "
                                         "after %u operations; the others were not done",
                                         done));
            return;
        }
        done++;
        if (n->tag == ZX_ItemOperations_Fetch)
            op_fetch(&c, n, r);
        else if (n->tag == ZX_ItemOperations_EmptyFolderContents)
            op_empty(&c, n, r);
        else
            op_move(&c, n, r);
    }
    if (c.multipart)
        respond_multipart(&c, resp, root);
    else
        zx_respond_wbxml(req, resp, root);
    if (c.refused && resp->status == 200) {
        resp->reason = apr_psprintf(p, ZXLOGNO(00792) "ItemOperations: %u of %u Fetches answered "
                                    "11 (over ZxMobileFetchBudget %" APR_SIZE_T_FMT " bytes or "
                                    "ZxMobileFetchMaxOperations %u)", c.refused, c.fetches,
                                    srv->settings.fetch_budget, srv->settings.max_fetches);
        resp->reason_level = ZX_LOG_INFO;
    }
}
