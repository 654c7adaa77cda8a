/* zxmobile - Search Store=GAL ([MS-ASCMD] 2.2.1.16, 2.2.3.x): the searching account's domain's
 * Global Address List (zxsync/gal.h: prefix match of names, addresses and aliases, case- and
 * accent-insensitive; hidden and closed accounts are never found); nothing is found when the
 * account's zimbraPrefGalAutoCompleteEnabled is FALSE.
 *
 * Options/Range "m-n" (default 0-99; more than 100 entries are cut to 100, as the GAL store
 * returns at most 100); a Range that is not "m-n" with m <= n is Store Status 2.  Picture
 * (14.1+) with MaxSize (bytes) and MaxPictures: gal:Picture Status 1 with Data, 173 no photo,
 * 174 larger than MaxSize, 175 photo left out because MaxPictures were sent already. */
#include "handlers.h"
#include "search.h"

#include <zxsync/config.h>
#include <zxsync/gal.h>
#include <zxsync/log.h>

#include <apr_strings.h>
#include <stdlib.h>

#define GAL_MAX_RESULTS 100
#define GAL_MAX_QUERY 256

/* [MS-ASCMD] 2.2.3.177.13: gal:Picture */
enum { PIC_OK = 1, PIC_NONE = 173, PIC_TOO_LARGE = 174, PIC_LIMIT = 175 };

int zx_search_gal_enabled(const zx_server *srv, zx_request *req, zx_db *db)
{
    zx_config_scope scope = {req->account.id, req->account.cos_id, req->account.domain_id,
                             srv->server_name};
    const char *err = NULL;
    int on = 1;
    if (zx_config_resolve_bool(req->pool, db, &scope, "zimbraPrefGalAutoCompleteEnabled", &on,
                               &err) < 0) {
        zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(02405) "zimbraPrefGalAutoCompleteEnabled of "
               "%s: %s", req->account.name, err ? err : "");
        return -1;
    }
    return on;
}

static void opt_text(apr_pool_t *p, zx_wb_node *props, unsigned tag, const char *v)
{
    if (v && *v)
        zx_wb_add_text(p, props, tag, v);
}

void zx_search_gal_properties(apr_pool_t *p, const zx_gal_entry *e, int pic, long max_size,
                              long max_pictures, long *pictures, zx_wb_node *props)
{
    zx_wb_add_text(p, props, ZX_GAL_DisplayName, e->display_name ? e->display_name : e->email);
    opt_text(p, props, ZX_GAL_Phone, e->phone);
    opt_text(p, props, ZX_GAL_Office, e->office);
    opt_text(p, props, ZX_GAL_Title, e->title);
    opt_text(p, props, ZX_GAL_Company, e->company);
    opt_text(p, props, ZX_GAL_Alias, e->alias);
    opt_text(p, props, ZX_GAL_FirstName, e->first_name);
    opt_text(p, props, ZX_GAL_LastName, e->last_name);
    opt_text(p, props, ZX_GAL_HomePhone, e->home_phone);
    opt_text(p, props, ZX_GAL_MobilePhone, e->mobile_phone);
    zx_wb_add_text(p, props, ZX_GAL_EmailAddress, e->email);
    if (!pic)
        return;
    zx_wb_node *pn = zx_wb_add(p, props, ZX_GAL_Picture);
    int st = !e->photo ? PIC_NONE
             : max_size >= 0 && (long)e->photo_len > max_size ? PIC_TOO_LARGE
             : max_pictures >= 0 && *pictures >= max_pictures ? PIC_LIMIT : PIC_OK;
    zx_wb_add_textf(p, pn, ZX_GAL_Status, "%d", st);
    if (st == PIC_OK) {
        zx_wb_add_text(p, pn, ZX_GAL_Data, e->photo);
        (*pictures)++;
    }
}

int zx_search_gal(const zx_server *srv, zx_request *req, const zx_wb_node *store_req,
                  zx_wb_node *store_resp)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    const char *query = zx_wb_child_text(p, store_req, ZX_Search_Query);
    const zx_wb_node *opts = zx_wb_child(store_req, ZX_Search_Options);
    const char *range = opts ? zx_wb_child_text(p, opts, ZX_Search_Range) : NULL;
    int from = 0, to = GAL_MAX_RESULTS - 1;
    if (!query || strlen(query) > GAL_MAX_QUERY ||
        (range && zx_search_range_parse(range, &from, &to) < 0)) {
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02403) "Search GAL: %s",
               !query ? "no Query" : range && strlen(query) <= GAL_MAX_QUERY
                   ? "invalid Range" : "Query too long");
        zx_wb_add_textf(p, store_resp, ZX_Search_Status, "%d", ZX_SEARCH_INVALID_REQUEST);
        return ZX_SEARCH_OK;
    }
    if (to - from + 1 > GAL_MAX_RESULTS)
        to = from + GAL_MAX_RESULTS - 1;
    const zx_wb_node *pic = opts && req->proto >= 141 ? zx_wb_child(opts, ZX_Search_Picture)
                                                       : NULL;
    long max_size = -1, max_pictures = -1;
    if (pic && zx_search_picture_limits(p, pic, ZX_Search_MaxSize, ZX_Search_MaxPictures,
                                        &max_size, &max_pictures) < 0) {
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02406) "Search GAL: Picture MaxSize or "
               "MaxPictures not a number");
        zx_wb_add_textf(p, store_resp, ZX_Search_Status, "%d", ZX_SEARCH_INVALID_REQUEST);
        return ZX_SEARCH_OK;
    }
    zx_db *db = zx_request_db(srv, req, &err);
    apr_array_header_t *found = apr_array_make(p, 1, sizeof(zx_gal_entry *));
    int total = 0, on = db ? zx_search_gal_enabled(srv, req, db) : -1;
    if (on < 0 || (on && zx_gal_search(p, db, req->account.domain_id, query, from,
                                       to - from + 1, pic ? ZX_GAL_WANT_PHOTO : 0, &found,
                                       &total, &err) < 0)) {
        if (on >= 0 || !db)     /* zx_search_gal_enabled logged its own failure */
            zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(02404) "Search GAL for %s failed: %s",
                   req->account.name, err ? err : "no database");
        zx_wb_add_textf(p, store_resp, ZX_Search_Status, "%d", ZX_SEARCH_SERVER_ERROR);
        return ZX_SEARCH_SERVER_ERROR;
    }
    zx_wb_add_textf(p, store_resp, ZX_Search_Status, "%d", ZX_SEARCH_OK);
    if (found->nelts == 0)
        zx_wb_add(p, store_resp, ZX_Search_Result);
    long pictures = 0;
    for (int i = 0; i < found->nelts; i++) {
        const zx_gal_entry *e = APR_ARRAY_IDX(found, i, zx_gal_entry *);
        zx_wb_node *r = zx_wb_add(p, store_resp, ZX_Search_Result);
        zx_search_gal_properties(p, e, pic != NULL, max_size, max_pictures, &pictures,
                                 zx_wb_add(p, r, ZX_Search_Properties));
    }
    if (found->nelts > 0)
        zx_wb_add_textf(p, store_resp, ZX_Search_Range, "%d-%d", from,
                        from + found->nelts - 1);
    zx_wb_add_textf(p, store_resp, ZX_Search_Total, "%d", total);
    return ZX_SEARCH_OK;
}
