/* zxmobile - Search ([MS-ASCMD] 2.2.1.16): the command (cmd_search.c) dispatches each
 * search:Store by its Name to one function per store.  Each fills store_resp (the response's
 * search:Store element: its Status first, then Result, Range, Total) and returns the
 * Search-level status: 1 (success) or 3 (server error, already logged). */
#ifndef ZX_EAS_SEARCH_H
#define ZX_EAS_SEARCH_H

#include <zxsync/server.h>

/* [MS-ASCMD] 2.2.3.177.13 Status (Search): of the Search element and of Store */
enum {
    ZX_SEARCH_OK = 1,
    ZX_SEARCH_INVALID_REQUEST = 2,
    ZX_SEARCH_SERVER_ERROR = 3,
    ZX_SEARCH_END_OF_RANGE = 12
};

/* Store=Mailbox (search:Query with And/Or/FreeText/EqualTo/...). */
int zx_search_mailbox(const zx_server *srv, zx_request *req, const zx_wb_node *store_req,
                      zx_wb_node *store_resp);
/* Store=GAL (cmd_search_gal.c). */
int zx_search_gal(const zx_server *srv, zx_request *req, const zx_wb_node *store_req,
                  zx_wb_node *store_resp);

/* Whether the account may look in the GAL (zimbraPrefGalAutoCompleteEnabled, default TRUE):
 * 1, 0, or -1 (the database failed, logged). */
int zx_search_gal_enabled(const zx_server *srv, zx_request *req, zx_db *db);

/* "m-n" (Options/Range): 0 and *from, *to (from <= to), else -1. */
int zx_search_range_parse(const char *s, int *from, int *to);

#endif
