/* zxmobile - FolderCreate, FolderUpdate and FolderDelete ([MS-ASCMD] 2.2.1.3, 2.2.1.6,
 * 2.2.1.4).  Each carries the device's current folder-hierarchy SyncKey and gets a new one:
 * the change is the device's own, so its next FolderSync does not send it back. */
#include "handlers.h"
#include "syncstate.h"

#include <zxsync/log.h>
#include <zxsync/store.h>

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

/* [MS-ASCMD] 2.2.3.177.3/.4/.6 Status (FolderCreate/FolderDelete/FolderUpdate) */
enum {
    FH_OK = 1,
    FH_EXISTS = 2,              /* Create/Update: name exists (Update: or a special folder) */
    FH_SPECIAL = 3,             /* Delete: a special folder */
    FH_NOT_FOUND = 4,           /* Update/Delete: no such folder */
    FH_PARENT_NOT_FOUND = 5,
    FH_SERVER_ERROR = 6,
    FH_INVALID_KEY = 9,
    FH_MALFORMED = 10
};

typedef enum { OP_CREATE, OP_UPDATE, OP_DELETE } folder_op;

static void respond(zx_request *req, zx_response *resp, unsigned root_tag, int status,
                    const char *key, const char *server_id, zx_log_level level,
                    const char *reason)
{
    apr_pool_t *p = req->pool;
    zx_wb_node *root = zx_wb_new(p, root_tag);
    zx_wb_add_textf(p, root, ZX_FolderHierarchy_Status, "%d", status);
    if (key)
        zx_wb_add_text(p, root, ZX_FolderHierarchy_SyncKey, key);
    if (server_id)
        zx_wb_add_text(p, root, ZX_FolderHierarchy_ServerId, server_id);
    zx_respond_wbxml(req, resp, root);
    resp->reason = reason;
    resp->reason_level = level;
}

static int store_status(folder_op op, int rc)
{
    switch (rc) {
    case ZX_STORE_OK: return FH_OK;
    case ZX_STORE_EXISTS: return FH_EXISTS;
    case ZX_STORE_SYSTEM: return op == OP_DELETE ? FH_SPECIAL : FH_EXISTS;
    case ZX_STORE_NOT_FOUND: return op == OP_CREATE ? FH_PARENT_NOT_FOUND : FH_NOT_FOUND;
    case ZX_STORE_PARENT_NOT_FOUND: return FH_PARENT_NOT_FOUND;
    case ZX_STORE_INVALID: return FH_MALFORMED;
    default: return FH_SERVER_ERROR;
    }
}

static void folder_command(const zx_server *srv, zx_request *req, zx_response *resp,
                           folder_op op)
{
    apr_pool_t *p = req->pool;
    static const unsigned roots[] = {ZX_FolderHierarchy_FolderCreate,
                                     ZX_FolderHierarchy_FolderUpdate,
                                     ZX_FolderHierarchy_FolderDelete};
    unsigned root = roots[op];
    const zx_wb_node *doc = req->doc;
    const char *key_text = zx_wb_child_text(p, doc, ZX_FolderHierarchy_SyncKey);
    const char *server_id = zx_wb_child_text(p, doc, ZX_FolderHierarchy_ServerId);
    const char *parent = zx_wb_child_text(p, doc, ZX_FolderHierarchy_ParentId);
    const char *name = zx_wb_child_text(p, doc, ZX_FolderHierarchy_DisplayName);
    const char *type_text = zx_wb_child_text(p, doc, ZX_FolderHierarchy_Type);
    int type = 0;
    int malformed = !key_text;
    switch (op) {
    case OP_CREATE:
        malformed |= !parent || !name || !type_text;
        if (type_text) {
            char *end = NULL;
            long t = strtol(type_text, &end, 10);
            malformed |= !*type_text || *end || t < 1 || t > 19;
            type = (int)t;
        }
        break;
    case OP_UPDATE:
        malformed |= !server_id || !parent || !name;
        break;
    case OP_DELETE:
        malformed |= !server_id;
        break;
    }
    if (malformed) {
        respond(req, resp, root, FH_MALFORMED, NULL, NULL, ZX_LOG_INFO,
                apr_psprintf(p, ZXLOGNO(00420) "%s request with missing or invalid elements",
                             req->cmd_name));
        return;
    }
    const char *err = NULL;
    zx_db *db = zx_request_db(srv, req, &err);
    if (!db || !req->device_row) {
        respond(req, resp, root, FH_SERVER_ERROR, NULL, NULL, ZX_LOG_ERR,
                apr_psprintf(p, ZXLOGNO(00421) "%s without a database: %s", req->cmd_name,
                             err ? err : "no device record"));
        return;
    }
    zx_store *st = zx_store_open(p, db, req->account.id);
    const char *device = req->device_row;
    /* the key: the device's current hierarchy key */
    zx_folder_state fs;
    long long key;
    if (zx_store_folder_state_get(st, device, &fs, &err) < 0)
        goto server_error;
    if (zx_sync_key_parse(key_text, &key) < 0 || key == 0 || !fs.exists || key != fs.key) {
        respond(req, resp, root, FH_INVALID_KEY, NULL, NULL, ZX_LOG_INFO, NULL);
        return;
    }
    /* [MS-ASCMD] 2.2.3.186.2: a client creates only user folders (1, 12-17); asking for a
     * standard folder is a malformed request (2.2.3.177.5, status 10) */
    if (op == OP_CREATE && !(type == 1 || (type >= 12 && type <= 17))) {
        respond(req, resp, root, FH_MALFORMED, NULL, NULL, ZX_LOG_INFO,
                apr_psprintf(p, ZXLOGNO(00422) "FolderCreate of a folder of type %d", type));
        return;
    }
    int own;
    if (zx_db_tx_begin(db, &own, &err) < 0)
        goto server_error;
    zx_folder *created = NULL;
    int rc;
    if (op == OP_CREATE)
        rc = zx_store_folder_create(st, parent, name, type, device, &created, &err);
    else if (op == OP_UPDATE)
        rc = zx_store_folder_update(st, server_id, parent, name, device, &err);
    else
        rc = zx_store_folder_delete(st, server_id, device, &err);
    int status = store_status(op, rc);
    const char *new_key = NULL;
    if (rc == ZX_STORE_OK) {
        /* the change and the new key commit together */
        zx_folder_state ns = fs;
        ns.prev_key = fs.key;
        ns.prev_hier_seq = fs.hier_seq;
        ns.key = (fs.key > fs.prev_key ? fs.key : fs.prev_key) + 1;
        int prc = zx_store_folder_state_put(st, device, &ns, fs.key, &err);
        if (prc != ZX_STORE_OK) {
            if (prc > 0)
                err = "another request of the device changed its hierarchy state";
            rc = -1;
        }
        new_key = zx_sync_key_str(p, ns.key);
    }
    if (zx_db_tx_end(db, own, rc < 0 ? -1 : 0, &err) < 0 || rc < 0)
        goto server_error;
    respond(req, resp, root, status, status == FH_OK ? new_key : NULL,
            status == FH_OK && created ? created->id : NULL, ZX_LOG_DEBUG, NULL);
    return;

server_error:
    respond(req, resp, root, FH_SERVER_ERROR, NULL, NULL, ZX_LOG_ERR,
            apr_psprintf(p, ZXLOGNO(00423) "%s: %s", req->cmd_name, err ? err : "internal error"));
}

void zx_cmd_foldercreate(const zx_server *srv, zx_request *req, zx_response *resp)
{
    folder_command(srv, req, resp, OP_CREATE);
}

void zx_cmd_folderupdate(const zx_server *srv, zx_request *req, zx_response *resp)
{
    folder_command(srv, req, resp, OP_UPDATE);
}

void zx_cmd_folderdelete(const zx_server *srv, zx_request *req, zx_response *resp)
{
    folder_command(srv, req, resp, OP_DELETE);
}
