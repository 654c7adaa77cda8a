/* zxmobile - FolderSync ([MS-ASCMD] 2.2.1.5): the folder hierarchy, all of it for SyncKey 0,
 * else the changes since the hierarchy sequence the key stands for.  The previous key stays
 * valid (a client that lost the response gets the same changes again); the folders a device
 * created, changed or deleted itself (FolderCreate/Update/Delete) are not sent back to it. */
#include "handlers.h"
#include "reqstore.h"
#include "syncstate.h"

#include <zxsync/log.h>
#include <zxsync/store.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <string.h>

/* [MS-ASCMD] 2.2.3.177.5 Status (FolderSync) */
enum { FS_OK = 1, FS_SERVER_ERROR = 6, FS_INVALID_KEY = 9, FS_MALFORMED = 10 };

static void respond_status(zx_request *req, zx_response *resp, int status, zx_log_level level,
                           const char *reason)
{
    zx_wb_node *root = zx_wb_new(req->pool, ZX_FolderHierarchy_FolderSync);
    zx_wb_add_textf(req->pool, root, ZX_FolderHierarchy_Status, "%d", status);
    zx_respond_wbxml(req, resp, root);
    resp->reason = reason;
    resp->reason_level = level;
}

static int same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static void add_folder(apr_pool_t *p, zx_wb_node *changes, unsigned tag, const zx_folder *f)
{
    zx_wb_node *n = zx_wb_add(p, changes, tag);
    zx_wb_add_text(p, n, ZX_FolderHierarchy_ServerId, f->id);
    if (tag == ZX_FolderHierarchy_Delete)
        return;
    zx_wb_add_text(p, n, ZX_FolderHierarchy_ParentId, f->parent_id);
    zx_wb_add_text(p, n, ZX_FolderHierarchy_DisplayName, f->name);
    zx_wb_add_textf(p, n, ZX_FolderHierarchy_Type, "%d", f->type);
}

/* Adds parents first: a folder comes after its parent when that is added too. */
static void add_in_order(apr_pool_t *p, zx_wb_node *changes, apr_array_header_t *adds)
{
    apr_hash_t *pending = apr_hash_make(p);
    for (int i = 0; i < adds->nelts; i++) {
        zx_folder *f = APR_ARRAY_IDX(adds, i, zx_folder *);
        apr_hash_set(pending, f->id, APR_HASH_KEY_STRING, f);
    }
    int left = adds->nelts;
    while (left > 0) {
        int progress = 0;
        for (int i = 0; i < adds->nelts; i++) {
            zx_folder *f = APR_ARRAY_IDX(adds, i, zx_folder *);
            if (!apr_hash_get(pending, f->id, APR_HASH_KEY_STRING))
                continue;
            if (apr_hash_get(pending, f->parent_id, APR_HASH_KEY_STRING))
                continue;
            add_folder(p, changes, ZX_FolderHierarchy_Add, f);
            apr_hash_set(pending, f->id, APR_HASH_KEY_STRING, NULL);
            left--;
            progress = 1;
        }
        if (!progress) {        /* a cycle cannot happen; never loop on one */
            for (int i = 0; i < adds->nelts; i++) {
                zx_folder *f = APR_ARRAY_IDX(adds, i, zx_folder *);
                if (apr_hash_get(pending, f->id, APR_HASH_KEY_STRING))
                    add_folder(p, changes, ZX_FolderHierarchy_Add, f);
            }
            break;
        }
    }
}

void zx_cmd_foldersync(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    const char *key_text = req->doc ? zx_wb_child_text(p, req->doc, ZX_FolderHierarchy_SyncKey)
                                    : NULL;
    long long key;
    if (!key_text || zx_sync_key_parse(key_text, &key) < 0) {
        if (!key_text) {
            respond_status(req, resp, FS_MALFORMED, ZX_LOG_INFO,
                           ZXLOGNO(00410) "FolderSync request without a SyncKey");
            return;
        }
        respond_status(req, resp, FS_INVALID_KEY, ZX_LOG_INFO, NULL);
        return;
    }
    zx_db *db = zx_request_db(srv, req, &err);
    if (!db || !req->device_row) {
        respond_status(req, resp, FS_SERVER_ERROR, ZX_LOG_ERR,
                       apr_psprintf(p, ZXLOGNO(00411) "FolderSync without a database: %s",
                                    err ? err : "no device record"));
        return;
    }
    zx_store *st = zx_request_store(p, db, req);
    const char *device = req->device_row;
    zx_folder_state fs;
    if (zx_store_folder_state_get(st, device, &fs, &err) < 0)
        goto server_error;
    long long since = 0;
    int retry = 0;
    if (key != 0) {
        if (fs.exists && key == fs.key)
            since = fs.hier_seq;
        else if (fs.exists && fs.prev_key && key == fs.prev_key) {
            since = fs.prev_hier_seq;
            retry = 1;
        }
        else {
            respond_status(req, resp, FS_INVALID_KEY, ZX_LOG_INFO, NULL);
            return;
        }
    }
    apr_array_header_t *folders;
    long long now;
    if (zx_store_folders(st, since, &folders, &now, &err) < 0)
        goto server_error;
    apr_array_header_t *adds = apr_array_make(p, folders->nelts + 1, sizeof(zx_folder *));
    apr_array_header_t *updates = apr_array_make(p, 4, sizeof(zx_folder *));
    apr_array_header_t *deletes = apr_array_make(p, 4, sizeof(zx_folder *));
    for (int i = 0; i < folders->nelts; i++) {
        zx_folder *f = APR_ARRAY_IDX(folders, i, zx_folder *);
        if (key == 0) {
            APR_ARRAY_PUSH(adds, zx_folder *) = f;
            continue;
        }
        int has = f->created_seq <= since || same(f->created_by, device);
        int own = same(f->changed_by, device);
        if (f->deleted) {
            if (has && !own)
                APR_ARRAY_PUSH(deletes, zx_folder *) = f;
        }
        else if (!has)
            APR_ARRAY_PUSH(adds, zx_folder *) = f;
        else if (!own)
            APR_ARRAY_PUSH(updates, zx_folder *) = f;
    }
    int count = adds->nelts + updates->nelts + deletes->nelts;
    long long out_key = key;
    if (key == 0 || retry || count > 0 || now != since) {
        zx_folder_state ns;
        memset(&ns, 0, sizeof ns);
        ns.key = (fs.key > fs.prev_key ? fs.key : fs.prev_key) + 1;
        ns.hier_seq = now;
        if (key != 0) {
            ns.prev_key = key;
            ns.prev_hier_seq = since;
        }
        int rc = zx_store_folder_state_put(st, device, &ns, fs.exists ? fs.key : 0, &err);
        if (rc < 0)
            goto server_error;
        if (rc != ZX_STORE_OK) {
            /* another FolderSync of this device changed the state meanwhile */
            respond_status(req, resp, FS_SERVER_ERROR, ZX_LOG_INFO, NULL);
            return;
        }
        out_key = ns.key;
    }
    zx_wb_node *root = zx_wb_new(p, ZX_FolderHierarchy_FolderSync);
    zx_wb_add_text(p, root, ZX_FolderHierarchy_Status, "1");
    zx_wb_add_text(p, root, ZX_FolderHierarchy_SyncKey, zx_sync_key_str(p, out_key));
    zx_wb_node *changes = zx_wb_add(p, root, ZX_FolderHierarchy_Changes);
    zx_wb_add_textf(p, changes, ZX_FolderHierarchy_Count, "%d", count);
    add_in_order(p, changes, adds);
    for (int i = 0; i < updates->nelts; i++)
        add_folder(p, changes, ZX_FolderHierarchy_Update, APR_ARRAY_IDX(updates, i, zx_folder *));
    for (int i = 0; i < deletes->nelts; i++)
        add_folder(p, changes, ZX_FolderHierarchy_Delete, APR_ARRAY_IDX(deletes, i, zx_folder *));
    zx_respond_wbxml(req, resp, root);
    /* no change and no new state: the same request gets the same answer until the account
     * changes (the answer cache, zxsync/answer.h) */
    req->answer_reusable = out_key == key && key != 0 && !retry && count == 0 && !req->abq_held;
    return;

server_error:
    respond_status(req, resp, FS_SERVER_ERROR, ZX_LOG_ERR,
                   apr_psprintf(p, ZXLOGNO(00412) "FolderSync: %s", err ? err : "internal error"));
}
