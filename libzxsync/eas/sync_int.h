/* zxmobile - what the files of the Sync command share (eas/cmd_sync.c, eas/sync_client.c;
 * not a public header). */
#ifndef ZX_EAS_SYNC_INT_H
#define ZX_EAS_SYNC_INT_H

#include "class/class.h"

#include <zxsync/eas.h>
#include <zxsync/server.h>
#include <zxsync/store.h>

/* [MS-ASCMD] 2.2.3.177.17 Status (Sync) */
enum {
    SYNC_OK = 1,
    SYNC_INVALID_KEY = 3,
    SYNC_PROTOCOL_ERROR = 4,
    SYNC_SERVER_ERROR = 5,
    SYNC_CONVERSION_ERROR = 6,
    SYNC_CONFLICT = 7,
    SYNC_NOT_FOUND = 8,
    SYNC_HIERARCHY_CHANGED = 12,
    SYNC_INCOMPLETE = 13,
    SYNC_BAD_WAIT = 14,
    SYNC_TOO_MANY_COLLECTIONS = 15
};

typedef struct {
    const char *id;             /* CollectionId */
    const char *key;            /* SyncKey as sent; NULL: cached collection (current key) */
    int get_changes;            /* -1 absent */
    int deletes_as_moves;       /* -1 absent */
    int window;                 /* -1 absent */
    int conversation_mode;      /* -1 absent */
    int conflict;               /* -1 absent */
    const zx_wb_node *options;  /* the collection's Options (its own class), NULL = absent */
    const zx_wb_node *commands;
    const zx_wb_node *supported;    /* airsync:Supported (a SyncKey 0 request), NULL = absent */
} coll_req;

typedef struct {
    const zx_server *srv;
    zx_request *req;
    apr_pool_t *p;
    zx_store *st;
    const char *device;
    zx_version v;
    apr_array_header_t *colls;  /* coll_req */
    int window;                 /* Sync-level WindowSize, -1 absent */
    int wait;                   /* minutes, -1 absent */
    int heartbeat;              /* seconds, -1 absent */
    int budget;                 /* changes left under the Sync-level WindowSize, -1 none */
    int client_commands;        /* some collection had client commands */
    int waited;                 /* the hanging Sync waited once already */
    int wrote;                  /* a state or the cached request was written */
    const char *err;
} sync_ctx;

/* The client's Add, Change, Delete and Fetch commands of a collection (cr->commands), in the
 * caller's transaction, each through the folder's item class cls: the answers that are due
 * go to *responses (created when needed), *applied is set when something changed, and
 * dropped gains the tombstones (zx_item *) of what someone else removed and the device is
 * told about with status 8.  base is the position the client's key stands for, retry whether the
 * key is the previous one.  0 done, -1 database error (c->err). */
int zx_sync_apply_commands(sync_ctx *c, const coll_req *cr, const zx_sync_state *s,
                           const zx_sync_key *base, int retry, const zx_item_class *cls,
                           const zx_class_opts *ro, zx_wb_node **responses, int *applied,
                           apr_array_header_t *dropped);

/* ---- loop detection (sync_loop.c) ---- */

/* Consecutive Syncs with the previous key before the window narrows. */
#define ZX_SYNC_LOOP_RETRIES 3

/* The window for the retries-th consecutive Sync with the previous key (0: none) of a device
 * that asked for window; *pinpoint = 1 when the last attempt had a window of one change that
 * did not pass: its change is the one to skip. */
int zx_sync_loop_window(int retries, int window, int *pinpoint);

/* With pinpoint, skip the first change's item for the device (zx_store_sync_skip, logged,
 * added to s->skipped); then drop from changes every change of an item of s->skipped.
 * 0, or -1 on a database error (c->err). */
int zx_sync_loop_filter(sync_ctx *c, zx_sync_state *s, int retries, int window_asked,
                        int pinpoint, apr_array_header_t *changes);

#endif
