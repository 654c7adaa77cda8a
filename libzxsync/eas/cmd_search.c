/* zxmobile - Search ([MS-ASCMD] 2.2.1.16): a dispatcher by Store Name.  Mailbox ->
 * zx_search_mailbox (cmd_search_mailbox.c), GAL -> zx_search_gal (cmd_search_gal.c), any other
 * store (DocumentLibrary) -> Store Status 2 ([MS-ASCMD] 2.2.3.177.13: the request failed to
 * validate; document libraries are not offered).  A request without one Store and its Name is
 * not a Search request: common status 103 (InvalidXML). */
#include "handlers.h"
#include "search.h"

#include <zxsync/log.h>

#include <apr_strings.h>
#include <strings.h>

void zx_cmd_search(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const zx_wb_node *store = zx_wb_child(req->doc, ZX_Search_Store);
    const char *name = store ? zx_wb_child_text(p, store, ZX_Search_Name) : NULL;
    if (!store || zx_wb_next(store, ZX_Search_Store) || !name) {
        zx_respond_status(req, resp, ZX_EAS_INVALID_XML, ZX_LOG_INFO,
                          ZXLOGNO(02500) "Search request without one Store and its Name");
        return;
    }
    zx_wb_node *response = zx_wb_new(p, ZX_Search_Response);
    int status;
    if (strcasecmp(name, "Mailbox") == 0)
        status = zx_search_mailbox(srv, req, store, response);
    else if (strcasecmp(name, "GAL") == 0)
        status = zx_search_gal(srv, req, store, response);
    else {
        zx_wb_node *st = zx_wb_add(p, response, ZX_Search_Store);
        zx_wb_add_textf(p, st, ZX_Search_Status, "%d", ZX_SEARCH_ST_INVALID);
        status = ZX_SEARCH_ST_OK;
    }
    zx_wb_node *root = zx_wb_new(p, ZX_Search_Search);
    zx_wb_add_textf(p, root, ZX_Search_Status, "%d", status);
    zx_wb_append(root, response);
    zx_respond_wbxml(req, resp, root);
}
