/* zxmobile - the store a request works on (eas/reqstore.h).
 *
 * Here rather than in store/ or abq/: the choice needs the request (proto), the store and the
 * ABQ dummy mailbox (abq/dummy.c, which stays in abq/: it is built from the ABQ rules - the
 * notice message, its locale, the administrators - and reads abq_int.h), and eas/ is the
 * lowest layer that sees all three.  A store chosen per account (another provider) would be
 * chosen here too. */
#include "reqstore.h"

#include <zxsync/abq.h>

zx_store *zx_request_store(apr_pool_t *p, zx_db *db, const zx_request *req)
{
    if (req->abq_held)
        return zx_abq_dummy_open(p, db, req);
    return zx_store_open(p, db, req->account.id);
}
