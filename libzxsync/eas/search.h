/* zxmobile - Search ([MS-ASCMD] 2.2.1.16) and Find (2.2.1.2): the handlers of each store, the
 * query syntax of FreeText, and the LongId of a search result.
 *
 * cmd_search.c is a dispatcher by Store Name: "Mailbox" -> zx_search_mailbox
 * (cmd_search_mailbox.c), "GAL" -> zx_search_gal (cmd_search_gal.c), anything else (a
 * DocumentLibrary) -> Store Status 2.  A store handler appends one search:Store element
 * (its Status, Results, Range, Total) to response and returns the Search Status: 1 (success)
 * or 3 (server error). */
#ifndef ZX_EAS_SEARCH_H
#define ZX_EAS_SEARCH_H

#include <zxsync/server.h>
#include <zxsync/store.h>

/* [MS-ASCMD] 2.2.3.177.13 Status (Search): of the Search element and of a Store element */
enum {
    ZX_SEARCH_ST_OK = 1,
    ZX_SEARCH_ST_INVALID = 2,       /* the request failed to validate */
    ZX_SEARCH_ST_SERVER_ERROR = 3,
    ZX_SEARCH_ST_TOO_COMPLEX = 8
};

int zx_search_mailbox(const zx_server *srv, zx_request *req, const zx_wb_node *store,
                      zx_wb_node *response);
int zx_search_gal(const zx_server *srv, zx_request *req, const zx_wb_node *store,
                  zx_wb_node *response);

/* The text of a FreeText element (Search, Find) as a condition (search_query.c):
 *   words              every word, anywhere (each a prefix)
 *   "a phrase"         the words one after the other
 *   field:word  field:"a phrase"   in one field: to, cc, from, subject, body (bcc: to);
 *                      another name before a colon is a word of the text
 *   a OR b, a AND b    OR binds looser than AND; juxtaposition is AND ("a b" = "a AND b")
 *   ( ... )            grouping
 * A quote without its end runs to the end, an unbalanced parenthesis is ignored.  NULL when
 * the text has no term. */
zx_search_node *zx_search_parse_freetext(apr_pool_t *p, const char *text);

/* The item a search result's LongId names (Search Result LongId; ItemOperations Fetch,
 * SmartReply, SmartForward and MeetingResponse accept it in place of CollectionId + ServerId):
 * a live item of the store's account.  The LongId of a result is its item id, so the
 * folder is the item's (*out)->folder_id.  ZX_STORE_OK, ZX_STORE_NOT_FOUND (malformed, another
 * account's, deleted) or ZX_STORE_ERROR. */
int zx_search_longid_item(zx_store *st, const char *long_id, zx_item **out, const char **err);

/* The LongId of an item in search results. */
const char *zx_search_longid_of(apr_pool_t *p, const zx_item *item);

#endif
