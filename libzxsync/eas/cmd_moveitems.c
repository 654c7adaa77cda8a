/* zxmobile - MoveItems ([MS-ASCMD] 2.2.1.12).
 *
 * <MoveItems><Move><SrcMsgId/><SrcFldId/><DstFldId/></Move>...</MoveItems> is answered with one
 * <Response><SrcMsgId/><Status/><DstMsgId/></Response> per Move, in order.  Status values
 * ([MS-ASCMD] 2.2.3.177.10): 1 invalid source folder or item (not in that folder, moved away
 * already), 2 invalid destination folder, 3 success, 4 source and destination are the same,
 * 5 the item was already moved by an earlier Move of the same request (one item, one
 * destination), 7 the item or a folder was locked (retry).  A database failure answers the
 * whole request with the common status 110 (HTTP 500 before 14.0).
 *
 * The moved item gets a new id (DstMsgId).  The move is recorded as the moving device's: the
 * next Sync of both folders tells every other device a Delete and an Add ([MS-ASCMD] 2.2.1.12:
 * "the client receives Delete and Add operations the next time the client synchronizes the
 * affected folders"), while the moving device, which made the change and knows the new id, gets
 * neither - it holds the new item from the move on, so a later change or removal of it by
 * anyone else reaches it, and its own change of it is no conflict.  When the device had not
 * been sent the item's last change (its state of the source folder says what it holds), the new
 * item's flags come to it as a Change.  The same move sent again by the same device (its
 * answer was lost) is answered as the first time, status 3 with the same DstMsgId: without it
 * the device would never learn the new id.
 */
#include "handlers.h"
#include "syncstate.h"

#include <zxsync/log.h>
#include <zxsync/store.h>

#include <apr_strings.h>
#include <string.h>

#define ST_INVALID_SOURCE 1
#define ST_INVALID_DESTINATION 2
#define ST_SUCCESS 3
#define ST_SAME_FOLDER 4
#define ST_FAILURE 5
#define ST_LOCKED 7

/* serialization failure, deadlock, lock not available */
static int is_lock_conflict(zx_db *db)
{
    const char *s = zx_db_sqlstate(db);
    return strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 || strcmp(s, "55P03") == 0;
}

/* Has this device moved src_msg from src to dst already (the item's tombstone says so, and
 * the new item is still there)?  0 with *new_id set when it has, 0 with *new_id NULL when
 * not, -1 on a database error. */
static int already_moved(zx_store *st, const char *device, const char *src_msg,
                         const zx_folder *src, const zx_folder *dst, const char **new_id,
                         const char **err)
{
    zx_item *gone = NULL, *now = NULL;
    *new_id = NULL;
    int rc = zx_store_item_tombstone(st, src_msg, &gone, err);
    if (rc < 0)
        return -1;
    if (rc != ZX_STORE_OK || !gone->moved_to || strcmp(gone->folder_id, src->id) != 0 ||
        !gone->changed_by || strcmp(gone->changed_by, device) != 0)
        return 0;
    rc = zx_store_item_get(st, gone->moved_to, &now, err);
    if (rc < 0)
        return -1;
    if (rc == ZX_STORE_OK && strcmp(now->folder_id, dst->id) == 0)
        *new_id = now->id;
    return 0;
}

void zx_cmd_moveitems(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    if (!req->doc) {
        zx_respond_status(req, resp, ZX_EAS_INVALID_XML, ZX_LOG_INFO,
                          ZXLOGNO(00750) "MoveItems without a body");
        return;
    }
    /* the request's shape first: every Move has its three ids */
    for (const zx_wb_node *m = req->doc->first; m; m = m->next) {
        if (m->kind != ZX_WB_ELEMENT)
            continue;
        if (m->tag != ZX_Move_Move || !zx_wb_child_text(p, m, ZX_Move_SrcMsgId) ||
            !zx_wb_child_text(p, m, ZX_Move_SrcFldId) || !zx_wb_child_text(p, m, ZX_Move_DstFldId)) {
            zx_respond_status(req, resp, ZX_EAS_INVALID_XML, ZX_LOG_INFO,
                              ZXLOGNO(00751) "MoveItems: a Move without SrcMsgId, SrcFldId or "
                              "DstFldId, or an unknown element");
            return;
        }
    }
    zx_db *db = zx_request_db(srv, req, &err);
    if (!db) {
        zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                          apr_psprintf(p, ZXLOGNO(00752) "MoveItems: %s", err));
        zx_retry_after_db(resp);     /* on a 503 */
        return;
    }
    zx_store *st = zx_store_open(p, db, req->account.id);
    zx_wb_node *root = zx_wb_new(p, ZX_Move_MoveItems);
    apr_array_header_t *moved = apr_array_make(p, 4, sizeof(const char *));

    for (const zx_wb_node *m = req->doc->first; m; m = m->next) {
        if (m->kind != ZX_WB_ELEMENT)
            continue;
        const char *src_msg = zx_wb_child_text(p, m, ZX_Move_SrcMsgId);
        const char *src_fld = zx_wb_child_text(p, m, ZX_Move_SrcFldId);
        const char *dst_fld = zx_wb_child_text(p, m, ZX_Move_DstFldId);
        const char *new_id = NULL;
        int status = ST_SUCCESS;
        zx_folder *src = NULL, *dst = NULL;
        zx_item *item = NULL;
        int rc;

        for (int i = 0; i < moved->nelts && status == ST_SUCCESS; i++)
            if (strcmp(APR_ARRAY_IDX(moved, i, const char *), src_msg) == 0)
                status = ST_FAILURE;
        if (status == ST_SUCCESS) {
            if ((rc = zx_store_folder_get(st, src_fld, &src, &err)) < 0)
                goto failed;
            if (rc != ZX_STORE_OK)
                status = ST_INVALID_SOURCE;
        }
        if (status == ST_SUCCESS) {
            if ((rc = zx_store_folder_get(st, dst_fld, &dst, &err)) < 0)
                goto failed;
            if (rc != ZX_STORE_OK)
                status = ST_INVALID_DESTINATION;
        }
        if (status == ST_SUCCESS && strcmp(src->id, dst->id) == 0)
            status = ST_SAME_FOLDER;
        if (status == ST_SUCCESS) {
            if ((rc = zx_store_item_get(st, src_msg, &item, &err)) < 0)
                goto failed;
            if (rc == ZX_STORE_NOT_FOUND && already_moved(st, req->device_row, src_msg, src,
                                                          dst, &new_id, &err) < 0)
                goto failed;
            if (new_id) {
                /* the same move again (its answer was lost): answered as the first time */
                zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(00755) "MoveItems of item %s again: "
                       "it is %s in folder %s since the first time", src_msg, new_id, dst->id);
                APR_ARRAY_PUSH(moved, const char *) = src_msg;
            }
            else if (rc != ZX_STORE_OK || strcmp(item->folder_id, src->id) != 0)
                status = ST_INVALID_SOURCE;
        }
        if (status == ST_SUCCESS && !new_id) {
            /* what the device holds of the item: its flags go with the new item only when it
             * has them already */
            zx_sync_state state = {.folder_id = src->id};
            if (zx_store_sync_states_get(st, req->device_row, &state, 1, &err) < 0)
                goto failed;
            rc = zx_store_item_move(st, item->id, dst->id, req->device_row,
                                    zx_sync_seen_version(&state, item, req->device_row),
                                    &new_id, &err);
            if (rc < 0 && is_lock_conflict(db)) {
                zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(00753) "MoveItems of item %s: %s",
                       item->id, err);
                status = ST_LOCKED;
            }
            else if (rc < 0)
                goto failed;
            else if (rc == ZX_STORE_NOT_FOUND)
                status = ST_INVALID_SOURCE;        /* gone meanwhile */
            else if (rc != ZX_STORE_OK)
                status = ST_INVALID_DESTINATION;   /* e.g. a folder of another class */
            else
                APR_ARRAY_PUSH(moved, const char *) = src_msg;
        }
        /* [MS-ASCMD] 2.2.3.153.5: SrcMsgId, Status, DstMsgId (on success) */
        zx_wb_node *r = zx_wb_add(p, root, ZX_Move_Response);
        zx_wb_add_text(p, r, ZX_Move_SrcMsgId, src_msg);
        zx_wb_add_textf(p, r, ZX_Move_Status, "%d", status);
        if (status == ST_SUCCESS && new_id)
            zx_wb_add_text(p, r, ZX_Move_DstMsgId, new_id);
        continue;
    failed:
        zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR, ZX_LOG_ERR,
                          apr_psprintf(p, ZXLOGNO(00754) "MoveItems of item %s: %s", src_msg, err));
        return;
    }
    zx_respond_wbxml(req, resp, root);
}
