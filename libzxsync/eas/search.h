/* zxmobile - Search ([MS-ASCMD] 2.2.1.16) and Find (2.2.1.2): the command (cmd_search.c) dispatches each
 * search:Store by its Name to one function per store.  Each fills store_resp (the response's
 * search:Store element: its Status first, then Result, Range, Total) and returns the
 * Search-level status: 1 (success) or 3 (server error, already logged). */
#ifndef ZX_EAS_SEARCH_H
#define ZX_EAS_SEARCH_H

#include <zxsync/gal.h>
#include <zxsync/server.h>
#include <zxsync/store.h>

/* [MS-ASCMD] 2.2.3.177.13 Status (Search): of the Search element and of Store */
enum {
    ZX_SEARCH_OK = 1,
    ZX_SEARCH_INVALID_REQUEST = 2,
    ZX_SEARCH_SERVER_ERROR = 3,
    ZX_SEARCH_TOO_COMPLEX = 8,
    ZX_SEARCH_END_OF_RANGE = 12
};

/* Store=Mailbox (search:Query with And/Or/FreeText/EqualTo/...). */
int zx_search_mailbox(const zx_server *srv, zx_request *req, const zx_wb_node *store_req,
                      zx_wb_node *store_resp);
/* Store=GAL (cmd_search_gal.c). */
int zx_search_gal(const zx_server *srv, zx_request *req, const zx_wb_node *store_req,
                  zx_wb_node *store_resp);

/* The gal: properties of one GAL entry in a Search or Find result's Properties; with pic, its
 * gal:Picture by max_size / max_pictures (-1: no limit), *pictures counting those sent. */
void zx_search_gal_properties(apr_pool_t *p, const zx_gal_entry *e, int pic, long max_size,
                              long max_pictures, long *pictures, zx_wb_node *props);

/* Whether the account may look in the GAL (zimbraPrefGalAutoCompleteEnabled, default TRUE):
 * 1, 0, or -1 (the database failed, logged). */
int zx_search_gal_enabled(const zx_server *srv, zx_request *req, zx_db *db);

/* "m-n" (Options/Range): 0 and *from, *to (from <= to), else -1. */
int zx_search_range_parse(const char *s, int *from, int *to);

/* The MaxSize and MaxPictures children (size_tag, count_tag: the tags of the command's
 * namespace) of a Picture option: -1 for one absent (no limit).  0, or -1 when one is not a
 * decimal number. */
int zx_search_picture_limits(apr_pool_t *p, const zx_wb_node *pic, unsigned size_tag,
                             unsigned count_tag, long *max_size, long *max_pictures);

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
