/* zxmobile - Sync: the client's commands of a collection (Add, Change, Delete, Fetch;
 * [MS-ASCMD] 2.2.3.24.2), applied through the folder's item class (eas/class/class.h). */
#include "sync_draft.h"
#include "sync_int.h"
#include "syncstate.h"

#include <zxsync/log.h>

#include <string.h>

/* ---- client commands --------------------------------------------------------------------------- */

/* the response to a Change or Delete of one occurrence (16.x) names it too ([MS-ASAIRS]
 * 2.2.2.25) */
static zx_wb_node *response_instance(sync_ctx *c, zx_wb_node **responses, unsigned tag,
                                     const char *server_id, const char *instance, int status)
{
    if (!*responses)
        *responses = zx_wb_new(c->p, ZX_AirSync_Responses);
    zx_wb_node *n = zx_wb_add(c->p, *responses, tag);
    if (server_id)
        zx_wb_add_text(c->p, n, ZX_AirSync_ServerId, server_id);
    if (instance)
        zx_wb_add_text(c->p, n, ZX_AirSyncBase_InstanceId, instance);
    zx_wb_add_textf(c->p, n, ZX_AirSync_Status, "%d", status);
    return n;
}

static zx_wb_node *response_op(sync_ctx *c, zx_wb_node **responses, unsigned tag,
                               const char *server_id, int status)
{
    return response_instance(c, responses, tag, server_id, NULL, status);
}

/* A 16.x Change or Delete of one occurrence of a series (airsyncbase:InstanceId beside the
 * ServerId): the class makes it a change of the series' exceptions, applied as a Change is.
 * Returns 0 (*status SYNC_OK when applied), or -1. */
static int instance_op(sync_ctx *c, const zx_item_class *cls, const zx_class_opts *ro,
                       const zx_wb_node *op, const char *sid, const char *instance,
                       zx_wb_node **responses, int *applied)
{
    apr_pool_t *p = c->p;
    unsigned tag = op->tag;
    zx_item *item;
    int rc = sid ? zx_store_item_get(c->st, sid, &item, &c->err) : ZX_STORE_NOT_FOUND;
    if (rc < 0)
        return -1;
    if (rc != ZX_STORE_OK) {
        response_instance(c, responses, tag, sid ? sid : "", instance, SYNC_NOT_FOUND);
        return 0;
    }
    zx_item_changes ch;
    const char *why = NULL;
    rc = cls->instance_change ?
         cls->instance_change(p, c->st, item, instance,
                              tag == ZX_AirSync_Change ?
                              zx_wb_child(op, ZX_AirSync_ApplicationData) : NULL,
                              ro, &ch, &why) : -2;
    if (rc == -1)
        return -1;
    if (rc != 0) {
        zx_log(c->req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02101) "Sync %s of %s occurrence %s: %s",
               tag == ZX_AirSync_Change ? "Change" : "Delete", sid, instance,
               why ? why : "the class has no occurrences");
        response_instance(c, responses, tag, sid, instance, SYNC_CONVERSION_ERROR);
        return 0;
    }
    rc = zx_store_item_update(c->st, sid, &ch, c->device, &c->err);
    if (rc < 0)
        return -1;
    if (rc != ZX_STORE_OK) {
        response_instance(c, responses, tag, sid, instance, SYNC_NOT_FOUND);
        return 0;
    }
    *applied = 1;
    if (cls->after_change && cls->after_change(p, c->st, sid, &c->err) < 0)
        return -1;
    return 0;
}

int zx_sync_apply_commands(sync_ctx *c, const coll_req *cr, const zx_sync_state *s,
                           const zx_sync_key *base, int retry, const zx_item_class *cls,
                           const zx_class_opts *ro, zx_wb_node **responses, int *applied,
                           apr_array_header_t *dropped)
{
    apr_pool_t *p = c->p;
    zx_store *st = c->st;
    const zx_folder *folder = s->folder;
    int server_wins = cr->conflict != 0;
    zx_folder *trash = NULL;
    for (const zx_wb_node *op = cr->commands->first; op; op = op->next) {
        if (op->kind != ZX_WB_ELEMENT)
            continue;
        const char *sid = zx_wb_child_text(p, op, ZX_AirSync_ServerId);
        zx_item *item = NULL;
        int rc;
        /* 16.x drafts: added, changed and sent through sync_draft.c */
        if ((op->tag == ZX_AirSync_Add || op->tag == ZX_AirSync_Change) &&
            zx_sync_draft_folder(c->v, folder)) {
            if ((rc = zx_sync_draft_op(c, op, folder, retry, responses, applied)) < 0)
                return -1;
            if (rc == 0)
                continue;
        }
        switch (op->tag) {
        case ZX_AirSync_Add: {
            /* a class whose items clients do not create (e-mail: drafts are not kept)
             * refuses the item as one the server cannot take ([MS-ASCMD] status 6) */
            const char *cid = zx_wb_child_text(p, op, ZX_AirSync_ClientId);
            const char *new_id = NULL;
            int status = SYNC_CONVERSION_ERROR;
            if (cls->add && c->v < cls->since)
                zx_log(c->req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02003) "Sync Add %s to folder "
                       "%s refused: %s items begin at protocol %s", cid ? cid : "", folder->id,
                       cls->name, zx_version_str(cls->since));
            else if (cls->add) {
                const char *why = NULL;
                rc = cls->add(p, st, folder, zx_wb_child(op, ZX_AirSync_ApplicationData), ro,
                              c->device, &new_id, &why);
                if (rc < 0) {
                    c->err = why;
                    return -1;
                }
                if (rc == ZX_CLASS_ADD_OK) {
                    status = SYNC_OK;
                    *applied = 1;
                }
                else
                    zx_log(c->req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02001) "Sync Add %s to folder "
                           "%s refused: %s", cid ? cid : "", folder->id, why ? why : "");
            }
            else
                zx_log(c->req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02002) "Sync Add %s to folder %s "
                       "refused: clients do not create %s items", cid ? cid : "", folder->id,
                       cls->name);
            if (!*responses)
                *responses = zx_wb_new(p, ZX_AirSync_Responses);
            zx_wb_node *n = zx_wb_add(p, *responses, ZX_AirSync_Add);
            zx_wb_add_text(p, n, ZX_AirSync_ClientId, cid ? cid : "");
            if (status == SYNC_OK && new_id)
                zx_wb_add_text(p, n, ZX_AirSync_ServerId, new_id);
            zx_wb_add_textf(p, n, ZX_AirSync_Status, "%d", status);
            break;
        }
        case ZX_AirSync_Change: {
            const char *instance = zx_wb_child_text(p, op, ZX_AirSyncBase_InstanceId);
            if (instance && c->v >= ZX_V160) {
                if (instance_op(c, cls, ro, op, sid, instance, responses, applied) < 0)
                    return -1;
                break;
            }
            rc = sid ? zx_store_item_get(st, sid, &item, &c->err) : ZX_STORE_NOT_FOUND;
            if (rc < 0)
                return -1;
            if (rc != ZX_STORE_OK || strcmp(item->folder_id, folder->id) != 0) {
                response_op(c, responses, ZX_AirSync_Change, sid ? sid : "", SYNC_NOT_FOUND);
                break;
            }
            zx_item_changes ch;
            const char *why = NULL;
            if (cls->parse_change(p, zx_wb_child(op, ZX_AirSync_ApplicationData), ro, &ch,
                                  &why) < 0) {
                zx_log(c->req->log_ctx, ZX_LOG_INFO, ZXLOGNO(00402) "Sync Change of %s: %s",
                       sid, why);
                response_op(c, responses, ZX_AirSync_Change, sid, SYNC_CONVERSION_ERROR);
                break;
            }
            /* changed on the server since the client last saw it: the server's version wins
             * (Conflict 1, the default) and comes back as a Change */
            int conflict = item->modseq > base->pos.modseq &&
                           !(item->changed_by && strcmp(item->changed_by, c->device) == 0) &&
                           !zx_sync_pos_holds(&base->pos, item);
            /* an item the device moved here, unchanged since (or changed only by this
             * change's first run, on a retry), whose flags it may not have had (the server
             * could not tell, see zx_sync_seen_version): its change is applied like a client
             * win, and the merged item goes back to it */
            int moved_here = item->created_by && strcmp(item->created_by, c->device) == 0 &&
                             !item->changed_by && (item->modseq == item->created_modseq || retry);
            if (conflict && server_wins && !moved_here) {
                response_op(c, responses, ZX_AirSync_Change, sid, SYNC_CONFLICT);
                break;
            }
            /* client wins over a change it has not seen: the merged item goes back to it */
            rc = zx_store_item_update(st, sid, &ch, conflict ? NULL : c->device, &c->err);
            if (rc < 0)
                return -1;
            if (rc != ZX_STORE_OK)
                response_op(c, responses, ZX_AirSync_Change, sid, SYNC_NOT_FOUND);
            else {
                *applied = 1;
                if (cls->after_change && cls->after_change(p, st, sid, &c->err) < 0)
                    return -1;
            }
            break;
        }
        case ZX_AirSync_Delete: {
            const char *instance = zx_wb_child_text(p, op, ZX_AirSyncBase_InstanceId);
            if (instance && c->v >= ZX_V160) {
                if (instance_op(c, cls, ro, op, sid, instance, responses, applied) < 0)
                    return -1;
                break;
            }
            rc = sid ? zx_store_item_get(st, sid, &item, &c->err) : ZX_STORE_NOT_FOUND;
            if (rc < 0)
                return -1;
            if (rc != ZX_STORE_OK || strcmp(item->folder_id, folder->id) != 0) {
                /* Gone from the folder.  A retried request deletes what its first run
                 * deleted: that is done.  What someone else removed is status 8, as the first
                 * run answered; the device drops it, so that removal is no news to it. */
                zx_item *gone = NULL;
                if (rc == ZX_STORE_NOT_FOUND &&
                    (rc = zx_store_item_tombstone(st, sid, &gone, &c->err)) < 0)
                    return -1;
                if (gone && strcmp(gone->folder_id, folder->id) != 0)
                    gone = NULL;
                if (gone)
                    APR_ARRAY_PUSH(dropped, zx_item *) = gone;
                if (!retry || !gone || !gone->changed_by || strcmp(gone->changed_by, c->device))
                    response_op(c, responses, ZX_AirSync_Delete, sid ? sid : "", SYNC_NOT_FOUND);
                break;
            }
            int as_move = cr->deletes_as_moves != 0 && folder->type != ZX_FOLDER_DELETED;
            if (as_move && !trash) {
                rc = zx_store_folder_by_type(st, ZX_FOLDER_DELETED, &trash, &c->err);
                if (rc < 0)
                    return -1;
            }
            /* Deleted Items holds e-mail: contacts, tasks and notes are deleted */
            if (as_move && trash && zx_class_of(trash->item_class) != cls)
                as_move = 0;
            if (as_move && trash)
                rc = zx_store_item_trash(st, sid, trash->id, c->device, &c->err);
            else
                rc = zx_store_item_delete(st, sid, c->device, &c->err);
            if (rc < 0)
                return -1;
            if (rc != ZX_STORE_OK)
                response_op(c, responses, ZX_AirSync_Delete, sid, SYNC_NOT_FOUND);
            else
                *applied = 1;
            break;
        }
        case ZX_AirSync_Fetch: {
            rc = sid ? zx_store_item_get(st, sid, &item, &c->err) : ZX_STORE_NOT_FOUND;
            if (rc < 0)
                return -1;
            if (rc != ZX_STORE_OK || strcmp(item->folder_id, folder->id) != 0) {
                response_op(c, responses, ZX_AirSync_Fetch, sid ? sid : "", SYNC_NOT_FOUND);
                break;
            }
            zx_wb_node *n = response_op(c, responses, ZX_AirSync_Fetch, sid, SYNC_OK);
            zx_wb_node *ad = zx_wb_add(p, n, ZX_AirSync_ApplicationData);
            /* 2.5: a Fetch gets the whole body and MIME ([MS-ASEMAIL] 2.2.2.10.2, 2.2.2.50),
             * whatever the collection's Truncation and MIMETruncation */
            zx_class_opts whole = *ro;
            if (whole.version < ZX_V120)
                whole.truncation = whole.mime_truncation = -1;
            if (cls->render(p, st, item, &whole, ad, NULL, &c->err) < 0)
                return -1;
            break;
        }
        default:
            break;
        }
    }
    return 0;
}
