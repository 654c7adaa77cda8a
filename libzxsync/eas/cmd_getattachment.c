/* zxmobile - GetAttachment ([MS-ASCMD] 2.2.1.7; protocol 12.1 and earlier).
 *
 * Cmd=GetAttachment&AttachmentName=<FileReference>: the answer is the attachment's decoded
 * bytes as the HTTP body, with its Content-Type.  A FileReference is "<item id>:<part>" (the
 * leaf part number zx_mime_parse gives, sql/004_mailstore.sql).  An attachment that does not
 * exist (any more) is HTTP 500 ([MS-ASCMD] 2.2.1.7: "If the GetAttachment command is used to
 * retrieve an attachment that has been deleted on the server, a 500 status code is
 * returned"); a request without AttachmentName is 400.
 */
#include "handlers.h"
#include "attachref.h"

#include <zxsync/log.h>
#include <zxsync/mime.h>
#include <zxsync/store.h>

#include <apr_strings.h>
#include <string.h>

int zx_attachment_ref_parse(apr_pool_t *p, const char *ref, const char **item_id, int *part)
{
    const char *colon = ref ? strchr(ref, ':') : NULL;
    if (!colon || colon == ref || colon - ref > 19 || !colon[1] || strchr(colon + 1, ':'))
        return -1;
    for (const char *c = ref; c < colon; c++)
        if (*c < '0' || *c > '9')
            return -1;
    int n = 0;
    for (const char *c = colon + 1; *c; c++) {
        if (*c < '0' || *c > '9' || n > 100000)
            return -1;
        n = n * 10 + (*c - '0');
    }
    *item_id = apr_pstrndup(p, ref, (apr_size_t)(colon - ref));
    *part = n;
    return 0;
}

int zx_attachment_lookup(apr_pool_t *p, zx_store *st, const char *ref, zx_attachment_info *out,
                         const char **err)
{
    memset(out, 0, sizeof *out);
    const char *id;
    int part;
    if (zx_attachment_ref_parse(p, ref, &id, &part) < 0)
        return 1;
    zx_item *item = NULL;
    int rc = zx_store_item_get(st, id, &item, err);
    if (rc < 0)
        return -1;
    if (rc != ZX_STORE_OK || !item)
        return 1;
    /* only the parts listed as the item's attachments (not its bodies) */
    apr_array_header_t *one = apr_array_make(p, 1, sizeof(zx_item *));
    APR_ARRAY_PUSH(one, zx_item *) = item;
    zx_content_want want = {0, 0, 0};
    if (zx_store_item_contents(st, one, &want, err) < 0)
        return -1;
    const zx_mime_attachment *att = NULL;
    apr_array_header_t *atts = item->content ? item->content->attachments : NULL;
    for (int i = 0; atts && i < atts->nelts; i++)
        if (APR_ARRAY_IDX(atts, i, zx_mime_attachment).part == part)
            att = &APR_ARRAY_IDX(atts, i, zx_mime_attachment);
    if (!att)
        return 1;
    out->item_id = id;
    out->part = part;
    out->size = att->size;
    out->content_type = att->content_type && *att->content_type ? att->content_type
                                                                 : "application/octet-stream";
    out->name = att->name;
    return 0;
}

int zx_attachment_read(apr_pool_t *p, zx_store *st, const zx_attachment_info *a,
                       apr_size_t from, apr_size_t max, zx_attachment_data *out,
                       const char **err)
{
    memset(out, 0, sizeof *out);
    const char *mime = NULL;
    apr_size_t mime_len = 0;
    int rc = zx_store_item_mime(st, a->item_id, &mime, &mime_len, err);
    if (rc < 0)
        return -1;
    if (rc != ZX_STORE_OK || !mime)
        return 1;
    const char *why = NULL;
    if (zx_mime_attachment_range(p, mime, mime_len, a->part, from, max, &out->data, &out->len,
                                 &why) < 0)
        return 1;
    out->content_type = a->content_type;
    out->name = a->name;
    return 0;
}

int zx_attachment_fetch(apr_pool_t *p, zx_store *st, const char *ref, zx_attachment_data *out,
                        const char **err)
{
    zx_attachment_info a;
    int rc = zx_attachment_lookup(p, st, ref, &a, err);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    return zx_attachment_read(p, st, &a, 0, (apr_size_t)-1, out, err);
}

void zx_cmd_getattachment(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    if (!req->attachment_name || !*req->attachment_name) {
        zx_respond_http(req, resp, 400, ZX_LOG_INFO,
                        ZXLOGNO(00760) "GetAttachment without AttachmentName");
        return;
    }
    const char *id;
    int part;
    if (zx_attachment_ref_parse(p, req->attachment_name, &id, &part) < 0) {
        zx_respond_http(req, resp, 500, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00763) "GetAttachment: no attachment %s",
                                     req->attachment_name));
        return;
    }
    zx_db *db = zx_request_db(srv, req, &err);
    if (!db) {
        zx_respond_http(req, resp, 503, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00761) "GetAttachment: %s", err));
        zx_retry_after_db(resp);
        return;
    }
    zx_store *st = zx_store_open(p, db, req->account.id);
    zx_attachment_data att;
    int rc = zx_attachment_fetch(p, st, req->attachment_name, &att, &err);
    if (rc < 0) {
        zx_respond_http(req, resp, 500, ZX_LOG_ERR,
                        apr_psprintf(p, ZXLOGNO(00762) "GetAttachment %s: %s",
                                     req->attachment_name, err));
        return;
    }
    if (rc > 0) {
        zx_respond_http(req, resp, 500, ZX_LOG_INFO,
                        apr_psprintf(p, ZXLOGNO(00763) "GetAttachment: no attachment %s",
                                     req->attachment_name));
        return;
    }
    resp->status = 200;
    resp->content_type = att.content_type;
    resp->body = (const unsigned char *)att.data;
    resp->body_len = att.len;
}
