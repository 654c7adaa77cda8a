/* zxmobile - Find ([MS-ASCMD] 2.2.1.2).
 *
 * Request: SearchId, ExecuteSearch with a MailBoxSearchCriterion (Query: airsync:Class,
 * airsync:CollectionId, FreeText in the syntax of search.h - iOS sends
 * to:"x" OR cc:"x" OR from:"x" OR subject:"x" OR "x"; Options: Range "0-n" with n <= 999,
 * DeepTraversal) or a GALSearchCriterion.
 * Response: Status, Response { itemoperations:Store, Status, Result* (airsync:Class,
 * airsync:ServerId, airsync:CollectionId, Properties: Subject, DateReceived, DisplayTo,
 * DisplayCc, Importance, Read, Preview, HasAttachments, From), Range, Total }.
 * A GalSearchCriterion (Query: the text, as such or in a FreeText; Options: Range, Picture
 * with MaxSize/MaxPictures) searches the account's GAL as Search Store=GAL does
 * (zx_gal_search): results carry gal: Properties, the Response's Store is "GAL".
 * Status ([MS-ASCMD] 2.2.3.177.2): 2 the request failed to validate, 3 FolderSync required
 * (no such CollectionId), 4 the Range does not begin with 0.
 *
 * Versions: Find is a 16.1 command (the command table and OPTIONS say so), but iOS (16 and
 * later) sends it whatever version it negotiated, 14.0 and 14.1 included (field notes; Z-Push
 * #23, #141: a server that refuses it leaves iOS with no server search at all).  Exchange
 * 2010, the last Exchange whose highest version is 14.1, does not know the command; a server
 * that offers 16.1 is not asked at 14.x unless it limits the versions.  The pipeline lets a
 * Find at 14.0 and 14.1 through (gate/pipeline.c, not advertised) and it is answered as at
 * 16.1 (its code page is the same at every version); at 16.0 it stays Status 138.
 */
#include "handlers.h"
#include "search.h"
#include "class/class.h"
#include "reqstore.h"

#include <zxsync/log.h>

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

enum { FIND_OK = 1, FIND_INVALID = 2, FIND_FOLDERSYNC = 3, FIND_RANGE_ZERO = 4 };
#define FIND_MAX_RANGE 999

static void respond(zx_request *req, zx_response *resp, int status, zx_wb_node *response)
{
    zx_wb_node *root = zx_wb_new(req->pool, ZX_Find_Find);
    zx_wb_add_textf(req->pool, root, ZX_Find_Status, "%d", status);
    if (response)
        zx_wb_append(root, response);
    zx_respond_wbxml(req, resp, root);
}

static void invalid(zx_request *req, zx_response *resp, const char *why)
{
    zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02520) "Find: %s", why);
    respond(req, resp, FIND_INVALID, NULL);
}

/* "To" header text as display names: the names where there are, else the addresses */
static const char *display_list(apr_pool_t *p, const char *list)
{
    return list ? list : "";
}

static void render(apr_pool_t *p, const zx_item *it, zx_wb_node *props)
{
    if (it->subject)
        zx_wb_add_text(p, props, ZX_Email_Subject, it->subject);
    zx_wb_add_text(p, props, ZX_Email_DateReceived, zx_eas_date(p, it->received));
    zx_wb_add_text(p, props, ZX_Email_DisplayTo, display_list(p, it->to));
    if (it->cc && *it->cc)
        zx_wb_add_text(p, props, ZX_Find_DisplayCc, it->cc);
    zx_wb_add_textf(p, props, ZX_Email_Importance, "%d", it->importance);
    zx_wb_add_text(p, props, ZX_Email_Read, it->read ? "1" : "0");
    zx_wb_add_text(p, props, ZX_Find_Preview,
                   it->content && it->content->preview ? it->content->preview : "");
    zx_wb_add_text(p, props, ZX_Find_HasAttachments, it->has_attachments ? "1" : "0");
    if (it->from)
        zx_wb_add_text(p, props, ZX_Email_From, it->from);
}

/* Options/Range "m-n" with n <= FIND_MAX_RANGE: 0, else -1 */
static int find_range(const char *range, int *from, int *to)
{
    return zx_search_range_parse(range, from, to) < 0 || *to > FIND_MAX_RANGE ? -1 : 0;
}

/* GalSearchCriterion: the account's GAL */
static void find_gal(const zx_server *srv, zx_request *req, zx_response *resp,
                     const zx_wb_node *crit)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    const zx_wb_node *query = zx_wb_child(crit, ZX_Find_Query);
    const char *text = query ? zx_wb_child_text(p, query, ZX_Find_FreeText) : NULL;
    if (!text && query)
        text = zx_wb_text(p, query);
    if (!text || !*text || strlen(text) > 256)
        return invalid(req, resp, "GalSearchCriterion without a Query of 1-256 bytes");
    const zx_wb_node *opt = zx_wb_child(crit, ZX_Find_Options);
    const char *range = opt ? zx_wb_child_text(p, opt, ZX_Find_Range) : NULL;
    int from = 0, to = 99;
    if (range && find_range(range, &from, &to) < 0)
        return invalid(req, resp, "malformed Range, or beyond 0-999");
    const zx_wb_node *pic = opt ? zx_wb_child(opt, ZX_Find_Picture) : NULL;
    long max_size = -1, max_pictures = -1;
    if (pic && zx_search_picture_limits(p, pic, ZX_Find_MaxSize, ZX_Find_MaxPictures,
                                        &max_size, &max_pictures) < 0)
        return invalid(req, resp, "Picture MaxSize or MaxPictures not a number");
    zx_wb_node *response = zx_wb_new(p, ZX_Find_Response);
    zx_wb_add_text(p, response, ZX_ItemOperations_Store, "GAL");
    if (from != 0) {
        zx_wb_add_textf(p, response, ZX_Find_Status, "%d", FIND_RANGE_ZERO);
        return respond(req, resp, FIND_OK, response);
    }
    zx_db *db = zx_request_db(srv, req, &err);
    apr_array_header_t *found = apr_array_make(p, 1, sizeof(zx_gal_entry *));
    int total = 0, on = db ? zx_search_gal_enabled(srv, req, db) : -1;
    if (on < 0 || (on && zx_gal_search(p, db, req->account.domain_id, text, 0, to + 1,
                                       pic ? ZX_GAL_WANT_PHOTO : 0, &found, &total, &err) < 0)) {
        zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                          apr_psprintf(p, ZXLOGNO(02523) "Find in the GAL: %s",
                                       err ? err : "no database"));
        zx_retry_after_db(resp);
        return;
    }
    zx_wb_add_textf(p, response, ZX_Find_Status, "%d", FIND_OK);
    long pictures = 0;
    for (int i = 0; i < found->nelts; i++) {
        zx_wb_node *r = zx_wb_add(p, response, ZX_Find_Result);
        zx_search_gal_properties(p, APR_ARRAY_IDX(found, i, zx_gal_entry *), pic != NULL,
                                 max_size, max_pictures, &pictures,
                                 zx_wb_add(p, r, ZX_Find_Properties));
    }
    if (found->nelts)
        zx_wb_add_textf(p, response, ZX_Find_Range, "0-%d", found->nelts - 1);
    zx_wb_add_textf(p, response, ZX_Find_Total, "%d", total);
    respond(req, resp, FIND_OK, response);
}

void zx_cmd_find(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    const zx_wb_node *exec = zx_wb_child(req->doc, ZX_Find_ExecuteSearch);
    if (!zx_wb_child_text(p, req->doc, ZX_Find_SearchId) || !exec)
        return invalid(req, resp, "no SearchId or ExecuteSearch");
    const zx_wb_node *galc = zx_wb_child(exec, ZX_Find_GalSearchCriterion);
    if (galc)
        return find_gal(srv, req, resp, galc);
    const zx_wb_node *crit = zx_wb_child(exec, ZX_Find_MailBoxSearchCriterion);
    const zx_wb_node *query = crit ? zx_wb_child(crit, ZX_Find_Query) : NULL;
    const char *text = query ? zx_wb_child_text(p, query, ZX_Find_FreeText) : NULL;
    if (!query || !text)
        return invalid(req, resp, "no MailBoxSearchCriterion Query with FreeText");
    const char *cls = zx_wb_child_text(p, query, ZX_AirSync_Class);
    const char *coll = zx_wb_child_text(p, query, ZX_AirSync_CollectionId);
    const zx_wb_node *opt = zx_wb_child(crit, ZX_Find_Options);
    const char *range = opt ? zx_wb_child_text(p, opt, ZX_Find_Range) : NULL;
    int from = 0, to = 99;
    if (range && find_range(range, &from, &to) < 0)
        return invalid(req, resp, "malformed Range, or beyond 0-999");
    zx_wb_node *response = zx_wb_new(p, ZX_Find_Response);
    zx_wb_add_text(p, response, ZX_ItemOperations_Store, "Mailbox");
    if (from != 0) {
        zx_wb_add_textf(p, response, ZX_Find_Status, "%d", FIND_RANGE_ZERO);
        return respond(req, resp, FIND_OK, response);
    }
    zx_db *db = zx_request_db(srv, req, &err);
    if (!db) {
        zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                          apr_psprintf(p, ZXLOGNO(02521) "Find without a database: %s",
                                       err ? err : "?"));
        zx_retry_after_db(resp);
        return;
    }
    zx_store *st = zx_request_store(p, db, req);
    zx_search_query sq;
    memset(&sq, 0, sizeof sq);
    if (coll) {
        zx_folder *f = NULL;
        int rc = zx_store_folder_get(st, coll, &f, &err);
        if (rc < 0)
            goto fail;
        if (rc != ZX_STORE_OK)
            return respond(req, resp, FIND_FOLDERSYNC, NULL);
        sq.folders = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(sq.folders, const char *) = f->id;
    }
    sq.deep = opt && zx_wb_child(opt, ZX_Find_DeepTraversal) != NULL;
    sq.text = zx_search_parse_freetext(p, text);
    sq.offset = 0;
    sq.limit = to + 1;
    apr_array_header_t *items = NULL;
    long long total = 0;
    if (cls && strcmp(cls, "Email") != 0)
        items = apr_array_make(p, 1, sizeof(zx_item *));   /* only mail is indexed */
    else {
        int rc = zx_store_search_mail(st, &sq, &items, &total, &err);
        if (rc == ZX_STORE_INVALID)
            return invalid(req, resp, "too many words");
        if (rc != ZX_STORE_OK)
            goto fail;
    }
    if (items->nelts) {
        zx_content_want none = {0, 0, 0};   /* the preview comes with the sizes */
        if (zx_store_item_contents(st, items, &none, &err) < 0)
            goto fail;
    }
    zx_wb_add_textf(p, response, ZX_Find_Status, "%d", FIND_OK);
    for (int i = 0; i < items->nelts; i++) {
        const zx_item *it = APR_ARRAY_IDX(items, i, zx_item *);
        zx_wb_node *r = zx_wb_add(p, response, ZX_Find_Result);
        zx_wb_add_text(p, r, ZX_AirSync_Class, "Email");
        zx_wb_add_text(p, r, ZX_AirSync_ServerId, it->id);
        zx_wb_add_text(p, r, ZX_AirSync_CollectionId, it->folder_id);
        render(p, it, zx_wb_add(p, r, ZX_Find_Properties));
    }
    if (items->nelts)
        zx_wb_add_textf(p, response, ZX_Find_Range, "0-%d", items->nelts - 1);
    zx_wb_add_textf(p, response, ZX_Find_Total, "%" APR_INT64_T_FMT, (apr_int64_t)total);
    return respond(req, resp, FIND_OK, response);
fail:
    zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                      apr_psprintf(p, ZXLOGNO(02522) "Find: %s", err ? err : "?"));
    zx_retry_after_db(resp);
}
