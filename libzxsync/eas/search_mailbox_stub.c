/* zxmobile - Search Store=Mailbox: a stand-in until the mailbox search lands (branch
 * `search` brings the real zx_search_mailbox; this file then goes away).  Answers the Store
 * with Status 3 (server error): the store cannot be searched yet. */
#include "search.h"

#include <zxsync/log.h>

int zx_search_mailbox(const zx_server *srv, zx_request *req, const zx_wb_node *store_req,
                      zx_wb_node *store_resp)
{
    (void)srv;
    (void)store_req;
    zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02402) "Search Store=Mailbox: not supported yet");
    zx_wb_add_textf(req->pool, store_resp, ZX_Search_Status, "%d", ZX_SEARCH_SERVER_ERROR);
    return ZX_SEARCH_OK;
}
