/* zxmobile - GetItemEstimate ([MS-ASCMD] 2.2.1.9): how many changes the next Syncs of each
 * collection would bring the device, from the position of the SyncKey it sends (which the
 * command does not change).  12.1 sends Class, SyncKey, CollectionId and FilterType in the
 * Collection; 14.0+ sends the filter in airsync:Options. */
#include "handlers.h"
#include "sync_draft.h"
#include "reqstore.h"
#include "syncstate.h"

#include <zxsync/log.h>
#include <zxsync/store.h>

#include <apr_strings.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* [MS-ASCMD] 2.2.3.177.7 Status (GetItemEstimate) */
enum {
    GIE_OK = 1,
    GIE_INVALID_COLLECTION = 2,
    GIE_NOT_PRIMED = 3,
    GIE_INVALID_KEY = 4
};

#define MAX_COLLECTIONS 300

static int parse_filter(const char *s, int *filter)
{
    if (!s || !*s || strlen(s) > 2 || !isdigit((unsigned char)s[0]) ||
        (s[1] && !isdigit((unsigned char)s[1])))
        return -1;
    int f = atoi(s);
    if (!zx_sync_filter_valid(f))
        return -1;
    *filter = f;
    return 0;
}

static void add_response(apr_pool_t *p, zx_wb_node *root, int status, const char *id,
                         long long estimate)
{
    zx_wb_node *r = zx_wb_add(p, root, ZX_GetItemEstimate_Response);
    zx_wb_add_textf(p, r, ZX_GetItemEstimate_Status, "%d", status);
    zx_wb_node *c = zx_wb_add(p, r, ZX_GetItemEstimate_Collection);
    zx_wb_add_text(p, c, ZX_GetItemEstimate_CollectionId, id ? id : "");
    if (status == GIE_OK)
        zx_wb_add_textf(p, c, ZX_GetItemEstimate_Estimate, "%" APR_INT64_T_FMT,
                        (apr_int64_t)estimate);
}

void zx_cmd_getitemestimate(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    const zx_wb_node *colls = zx_wb_child(req->doc, ZX_GetItemEstimate_Collections);
    int n = 0;
    for (const zx_wb_node *c = zx_wb_child(colls, ZX_GetItemEstimate_Collection); c;
         c = zx_wb_next(c, ZX_GetItemEstimate_Collection))
        n++;
    if (!colls || n == 0 || n > MAX_COLLECTIONS) {
        zx_respond_status(req, resp, ZX_EAS_INVALID_XML, ZX_LOG_INFO,
                          ZXLOGNO(00430) "GetItemEstimate request without collections");
        return;
    }
    zx_db *db = zx_request_db(srv, req, &err);
    if (!db || !req->device_row) {
        zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                          apr_psprintf(p, ZXLOGNO(00431) "GetItemEstimate without a database: %s",
                                       err ? err : "no device record"));
        zx_retry_after_db(resp);
        return;
    }
    zx_store *st = zx_request_store(p, db, req);
    zx_sync_state *states = apr_pcalloc(p, sizeof(zx_sync_state) * (apr_size_t)n);
    const char **keys = apr_pcalloc(p, sizeof(char *) * (apr_size_t)n);
    int *filters = apr_pcalloc(p, sizeof(int) * (apr_size_t)n);
    int *bad = apr_pcalloc(p, sizeof(int) * (apr_size_t)n);
    int i = 0;
    for (const zx_wb_node *c = zx_wb_child(colls, ZX_GetItemEstimate_Collection); c;
         c = zx_wb_next(c, ZX_GetItemEstimate_Collection), i++) {
        states[i].folder_id = zx_wb_child_text(p, c, ZX_GetItemEstimate_CollectionId);
        if (!states[i].folder_id)
            states[i].folder_id = "";
        keys[i] = zx_wb_child_text(p, c, ZX_AirSync_SyncKey);
        filters[i] = -1;
        const char *ft = zx_wb_child_text(p, c, ZX_AirSync_FilterType);     /* 12.1 */
        const zx_wb_node *opt;
        for (opt = zx_wb_child(c, ZX_AirSync_Options); opt && !ft;
             opt = zx_wb_next(opt, ZX_AirSync_Options)) {
            const char *cls = zx_wb_child_text(p, opt, ZX_AirSync_Class);
            if (!cls || strcmp(cls, "SMS") != 0)
                ft = zx_wb_child_text(p, opt, ZX_AirSync_FilterType);
        }
        if (ft && parse_filter(ft, &filters[i]) < 0)
            bad[i] = 1;
    }
    if (zx_store_sync_states_get(st, req->device_row, states, n, &err) < 0) {
        zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                          apr_psprintf(p, ZXLOGNO(00432) "GetItemEstimate: %s", err));
        zx_retry_after_db(resp);
        return;
    }
    zx_wb_node *root = zx_wb_new(p, ZX_GetItemEstimate_GetItemEstimate);
    apr_time_t now = apr_time_now();
    for (i = 0; i < n; i++) {
        zx_sync_state *s = &states[i];
        long long key;
        const zx_sync_key *base = NULL;
        if (!s->folder || bad[i]) {
            add_response(p, root, GIE_INVALID_COLLECTION, s->folder_id, 0);
            continue;
        }
        if (!s->exists || !keys[i] || strcmp(keys[i], "0") == 0) {
            add_response(p, root, GIE_NOT_PRIMED, s->folder_id, 0);
            continue;
        }
        if (zx_sync_key_parse(keys[i], &key) == 0 && key == s->cur.key)
            base = &s->cur;
        else if (zx_sync_key_parse(keys[i], &key) == 0 && s->prev.key && key == s->prev.key)
            base = &s->prev;
        if (!base) {
            add_response(p, root, GIE_INVALID_KEY, s->folder_id, 0);
            continue;
        }
        int filter = filters[i] >= 0 ? filters[i] : s->filter_type;
        if (zx_sync_draft_folder(req->proto, s->folder))
            filter = 0;         /* 16.x: no FilterType for Drafts, as the Sync (sync_draft.c) */
        long long count = 0;
        if (zx_store_estimate(st, s->folder->id, &base->pos,
                              zx_sync_filter_cutoff(filter, now),
                              zx_sync_incomplete_only(filter, s->folder), req->device_row,
                              &count, &err) < 0) {
            zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                              apr_psprintf(p, ZXLOGNO(00433) "GetItemEstimate: %s", err));
            zx_retry_after_db(resp);
            return;
        }
        add_response(p, root, GIE_OK, s->folder_id, count);
    }
    zx_respond_wbxml(req, resp, root);
}
