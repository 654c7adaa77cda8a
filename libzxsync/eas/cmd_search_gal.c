/* zxmobile - Search Store=GAL: not in this branch (the GAL directory's branch replaces this
 * file): the store answers Status 2, the request failed to validate. */
#include "search.h"

int zx_search_gal(const zx_server *srv, zx_request *req, const zx_wb_node *store,
                  zx_wb_node *response)
{
    (void)srv;
    (void)store;
    zx_wb_node *st = zx_wb_add(req->pool, response, ZX_Search_Store);
    zx_wb_add_textf(req->pool, st, ZX_Search_Status, "%d", ZX_SEARCH_ST_INVALID);
    return ZX_SEARCH_ST_OK;
}
