/* zxmobile - Ping ([MS-ASCMD] 2.2.1.13, 3.1.5.8): wait until a monitored folder has changes
 * for the device, the folder hierarchy changed, or the heartbeat interval ends.
 *
 * The heartbeat interval and the folder list are cached per device (sql/007 device_ping), so a
 * later Ping may omit either or both (the empty Ping).  "Changes" are relative to the last
 * SyncKey the device was given for the folder: what its next Sync would receive (a folder the
 * device never synchronised has nothing to report).  The wait itself is eas/wait.c.
 */
#include "class/class.h"
#include "handlers.h"
#include "reqstore.h"
#include "syncstate.h"
#include "wait.h"

#include <zxsync/log.h>
#include <zxsync/store.h>

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

/* [MS-ASCMD] 2.2.3.177.11 Status (Ping) */
enum {
    PING_EXPIRED = 1,
    PING_CHANGES = 2,
    PING_MISSING = 3,
    PING_SYNTAX = 4,
    PING_BAD_HEARTBEAT = 5,
    PING_TOO_MANY_FOLDERS = 6,
    PING_FOLDERSYNC = 7,
    PING_SERVER_ERROR = 8
};

#define MAX_FOLDERS 300       /* [MS-ASCMD] 2.2.3.102 MaxFolders: implementation-specific */
#define MAX_ID 64             /* a folder Id longer than this is a syntax error */

typedef struct {
    const zx_server *srv;
    apr_array_header_t *ids;      /* const char *: the monitored folders */
    int status;                   /* PING_CHANGES or PING_FOLDERSYNC once ready */
    apr_array_header_t *changed;  /* const char *: folders with changes */
} ping_ctx;

static void respond(zx_request *req, zx_response *resp, int status, const char *limit_tag_text,
                    unsigned limit_tag, const apr_array_header_t *folders, zx_log_level level,
                    const char *reason)
{
    apr_pool_t *p = req->pool;
    zx_wb_node *root = zx_wb_new(p, ZX_Ping_Ping);
    zx_wb_add_textf(p, root, ZX_Ping_Status, "%d", status);
    if (limit_tag_text)
        zx_wb_add_text(p, root, limit_tag, limit_tag_text);
    if (folders && folders->nelts) {
        zx_wb_node *fs = zx_wb_add(p, root, ZX_Ping_Folders);
        for (int i = 0; i < folders->nelts; i++)
            zx_wb_add_text(p, fs, ZX_Ping_Folder, APR_ARRAY_IDX(folders, i, const char *));
    }
    zx_respond_wbxml(req, resp, root);
    resp->reason = reason;
    resp->reason_level = level;
}

static int same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* 1: the hierarchy changed for the device since its last FolderSync (or it never ran one) */
static int hierarchy_changed(zx_store *st, const char *device, int *changed, const char **err)
{
    zx_folder_state fs;
    *changed = 0;
    if (zx_store_folder_state_get(st, device, &fs, err) < 0)
        return -1;
    if (!fs.exists) {
        *changed = 1;
        return 0;
    }
    apr_array_header_t *folders;
    long long now;
    if (zx_store_folders(st, fs.hier_seq, &folders, &now, err) < 0)
        return -1;
    /* as FolderSync sees it: the device's own changes are not news to it */
    for (int i = 0; i < folders->nelts; i++) {
        zx_folder *f = APR_ARRAY_IDX(folders, i, zx_folder *);
        int has = f->created_seq <= fs.hier_seq || same(f->created_by, device);
        int own = same(f->changed_by, device);
        if (f->deleted ? has && !own : !has || !own) {
            *changed = 1;
            break;
        }
    }
    return 0;
}

static int ping_check(void *baton, zx_request *req, const char **err)
{
    ping_ctx *c = baton;
    apr_pool_t *p;
    apr_pool_create(&p, req->pool);
    zx_store *st = zx_request_store(p, req->db, req);
    const char *device = req->device_row;
    int rc = 0, hier = 0;
    if (hierarchy_changed(st, device, &hier, err) < 0) {
        rc = -1;
        goto done;
    }
    if (hier) {
        c->status = PING_FOLDERSYNC;
        rc = 1;
        goto done;
    }
    int n = c->ids->nelts;
    zx_sync_state *states = apr_pcalloc(p, sizeof(zx_sync_state) * (apr_size_t)n);
    for (int i = 0; i < n; i++)
        states[i].folder_id = APR_ARRAY_IDX(c->ids, i, const char *);
    if (zx_store_sync_states_get(st, device, states, n, err) < 0) {
        rc = -1;
        goto done;
    }
    apr_array_clear(c->changed);
    apr_time_t now = apr_time_now();
    for (int i = 0; i < n; i++) {
        zx_sync_state *s = &states[i];
        if (!s->folder) {          /* gone, or never was: the device needs a FolderSync */
            c->status = PING_FOLDERSYNC;
            rc = 1;
            goto done;
        }
        if (!s->exists)
            continue;
        apr_time_t cutoff = zx_sync_filter_cutoff(s->filter_type, now);
        if (zx_sync_quiet(s->folder, &s->cur.pos, cutoff))
            continue;
        long long count = 0;
        if (zx_store_estimate(st, s->folder->id, &s->cur.pos, cutoff,
                              zx_sync_incomplete_only(s->filter_type, s->folder), device, &count,
                              err) < 0) {
            rc = -1;
            goto done;
        }
        if (count > 0)
            APR_ARRAY_PUSH(c->changed, const char *) = states[i].folder_id;
    }
    if (c->changed->nelts) {
        c->status = PING_CHANGES;
        rc = 1;
    }
done:
    if (rc < 0 && *err)
        *err = apr_pstrdup(req->pool, *err);
    apr_pool_destroy(p);
    return rc;
}

/* The request: HeartbeatInterval (-1 absent) and the folder ids (NULL absent). */
static int parse_request(apr_pool_t *p, const zx_wb_node *root, long long *hb,
                         apr_array_header_t **ids, const char **why)
{
    *hb = -1;
    *ids = NULL;
    for (const zx_wb_node *e = root->first; e; e = e->next) {
        if (e->kind != ZX_WB_ELEMENT)
            continue;
        if (e->tag == ZX_Ping_HeartbeatInterval) {
            if (zx_eas_parse_uint(zx_wb_text(p, e), 1000000000LL, hb) < 0) {
                *why = "invalid HeartbeatInterval";
                return -1;
            }
        }
        else if (e->tag == ZX_Ping_Folders) {
            *ids = apr_array_make(p, 8, sizeof(const char *));
            for (const zx_wb_node *f = zx_wb_child(e, ZX_Ping_Folder); f;
                 f = zx_wb_next(f, ZX_Ping_Folder)) {
                const char *id = zx_wb_child_text(p, f, ZX_Ping_Id);
                if (!id || !*id || strlen(id) > MAX_ID || strchr(id, '\n')) {
                    *why = "Folder without a valid Id";
                    return -1;
                }
                int dup = 0;
                for (int i = 0; i < (*ids)->nelts && !dup; i++)
                    dup = strcmp(APR_ARRAY_IDX(*ids, i, const char *), id) == 0;
                if (!dup)
                    APR_ARRAY_PUSH(*ids, const char *) = id;
            }
        }
        else {
            *why = apr_psprintf(p, "unexpected element %s", zx_wb_tag_name(e->tag));
            return -1;
        }
    }
    return 0;
}

void zx_cmd_ping(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL, *why = NULL;
    long long hb = -1;
    apr_array_header_t *ids = NULL;
    zx_db *db = zx_request_db(srv, req, &err);
    if (!db || !req->device_row) {
        respond(req, resp, PING_SERVER_ERROR, NULL, 0, NULL, ZX_LOG_ERR,
                apr_psprintf(p, ZXLOGNO(01020) "Ping without a database: %s",
                             err ? err : "no device record"));
        return;
    }
    if (req->doc && parse_request(p, req->doc, &hb, &ids, &why) < 0) {
        respond(req, resp, PING_SYNTAX, NULL, 0, NULL, ZX_LOG_INFO,
                apr_psprintf(p, ZXLOGNO(01021) "malformed Ping request: %s", why));
        return;
    }
    if (ids && ids->nelts == 0) {
        respond(req, resp, PING_MISSING, NULL, 0, NULL, ZX_LOG_INFO,
                ZXLOGNO(01022) "Ping request with an empty Folders list");
        return;
    }
    if (ids && ids->nelts > MAX_FOLDERS) {
        respond(req, resp, PING_TOO_MANY_FOLDERS, apr_itoa(p, MAX_FOLDERS), ZX_Ping_MaxFolders,
                NULL, ZX_LOG_INFO, NULL);
        return;
    }
    zx_push_settings ps;
    zx_push_settings_load(srv, req, &ps);
    if (hb >= 0 && (hb < ps.min_heartbeat || hb > ps.max_heartbeat)) {
        /* [MS-ASCMD] 2.2.3.88.1: the minimum or the maximum the server allows */
        respond(req, resp, PING_BAD_HEARTBEAT,
                apr_itoa(p, hb < ps.min_heartbeat ? ps.min_heartbeat : ps.max_heartbeat),
                ZX_Ping_HeartbeatInterval, NULL, ZX_LOG_INFO, NULL);
        return;
    }

    /* store what was sent, take a new wait id (older waits of the device end), and read the
     * cached parameters back: one statement */
    const char *folders_text = NULL;
    if (ids) {
        folders_text = "";
        for (int i = 0; i < ids->nelts; i++)
            folders_text = apr_pstrcat(p, folders_text, i ? "\n" : "",
                                       APR_ARRAY_IDX(ids, i, const char *), NULL);
    }
    const char *params[4] = {req->device_row, req->account.id,
                             hb >= 0 ? apr_ltoa(p, (long)hb) : NULL, folders_text};
    PGresult *res = zx_db_exec(db,
        "WITH w AS (INSERT INTO device_ping (device, heartbeat, folders, wait_id) "
        "           VALUES ($1::bigint, $3::integer, $4, nextval('wait_ids')) "
        "           ON CONFLICT (device) DO UPDATE SET "
        "             heartbeat = COALESCE(EXCLUDED.heartbeat, device_ping.heartbeat), "
        "             folders = COALESCE(EXCLUDED.folders, device_ping.folders), "
        "             wait_id = EXCLUDED.wait_id, updated = now() "
        "           RETURNING heartbeat, folders, wait_id), "
        "d AS (UPDATE devices SET last_heartbeat = w.heartbeat FROM w "
        "      WHERE devices.id = $1::bigint AND w.heartbeat IS NOT NULL "
        "        AND devices.last_heartbeat IS DISTINCT FROM w.heartbeat RETURNING 1) "
        "SELECT heartbeat, folders, wait_id, "
        "       pg_notify('" ZX_NOTIFY_CHANNEL "', $2 || ':' || $1 || ':' || wait_id) FROM w",
        4, params, &err);
    if (!res || PQntuples(res) != 1) {
        if (res)
            PQclear(res);
        respond(req, resp, PING_SERVER_ERROR, NULL, 0, NULL, ZX_LOG_ERR,
                apr_psprintf(p, ZXLOGNO(01023) "Ping: cannot keep the request: %s",
                             err ? err : "no row"));
        return;
    }
    int have_hb = !PQgetisnull(res, 0, 0), have_folders = !PQgetisnull(res, 0, 1);
    long long heartbeat = have_hb ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    long long wait_id = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    if (!ids && have_folders) {
        ids = apr_array_make(p, 8, sizeof(const char *));
        char *last, *text = apr_pstrdup(p, PQgetvalue(res, 0, 1));
        for (char *t = apr_strtok(text, "\n", &last); t; t = apr_strtok(NULL, "\n", &last))
            APR_ARRAY_PUSH(ids, const char *) = t;
    }
    PQclear(res);
    if (!have_hb || !ids || ids->nelts == 0) {
        /* [MS-ASCMD] 3.1.5.8: both must have been sent once */
        respond(req, resp, PING_MISSING, NULL, 0, NULL, ZX_LOG_INFO,
                apr_psprintf(p, ZXLOGNO(01024) "Ping without %s, and none cached",
                             !have_hb ? "HeartbeatInterval" : "Folders"));
        return;
    }
    if (heartbeat < ps.min_heartbeat || heartbeat > ps.max_heartbeat) {
        /* the cached interval is outside bounds changed since */
        respond(req, resp, PING_BAD_HEARTBEAT,
                apr_itoa(p, heartbeat < ps.min_heartbeat ? ps.min_heartbeat : ps.max_heartbeat),
                ZX_Ping_HeartbeatInterval, NULL, ZX_LOG_INFO, NULL);
        return;
    }

    ping_ctx ctx = {srv, ids, 0, apr_array_make(p, 4, sizeof(const char *))};
    zx_waited w = zx_eas_wait(srv, req, resp, "Ping", wait_id, (int)heartbeat, &ps,
                              zx_device_recheck, ping_check, &ctx, &err);
    switch (w) {
    case ZX_WAITED_READY:
        respond(req, resp, ctx.status, NULL, 0, ctx.status == PING_CHANGES ? ctx.changed : NULL,
                ZX_LOG_DEBUG, NULL);
        return;
    case ZX_WAITED_GATED:
        return;
    case ZX_WAITED_ERROR:
        respond(req, resp, PING_SERVER_ERROR, NULL, 0, NULL, ZX_LOG_ERR,
                apr_psprintf(p, ZXLOGNO(01025) "Ping: cannot check the folders: %s",
                             err ? err : "internal error"));
        return;
    case ZX_WAITED_HANGUP:
        respond(req, resp, PING_EXPIRED, NULL, 0, NULL, ZX_LOG_INFO,
                ZXLOGNO(01026) "Ping: the client hung up; its wait ended");
        return;
    case ZX_WAITED_SUPERSEDED:
        respond(req, resp, PING_EXPIRED, NULL, 0, NULL, ZX_LOG_INFO,
                ZXLOGNO(01027) "Ping superseded by a newer Ping or Sync of the device");
        return;
    case ZX_WAITED_SHED:
        respond(req, resp, PING_EXPIRED, NULL, 0, NULL, ZX_LOG_DEBUG,
                ZXLOGNO(01029) "Ping ended early: this process holds its maximum of waiting "
                "requests (the client reconnects)");
        return;
    case ZX_WAITED_SHUTDOWN:
        respond(req, resp, PING_EXPIRED, NULL, 0, NULL, ZX_LOG_INFO,
                ZXLOGNO(01028) "Ping ended early: the server process stops");
        return;
    case ZX_WAITED_TIMEOUT:
    default:
        respond(req, resp, PING_EXPIRED, NULL, 0, NULL, ZX_LOG_DEBUG, NULL);
        return;
    }
}
