/* zxmobile - the store a request works on (eas/reqstore.c). */
#ifndef ZX_EAS_REQSTORE_H
#define ZX_EAS_REQSTORE_H

#include <zxsync/eas.h>
#include <zxsync/store.h>

/* The mailbox of the request's account as its device may see it: the ABQ dummy mailbox when
 * ABQ holds the device back (req->abq_held), else the account's store (zx_store_open).  The
 * commands a held-back device may run on its mailbox - FolderSync, Sync, GetItemEstimate,
 * Ping - open their store with it; the one place to choose a provider per request. */
zx_store *zx_request_store(apr_pool_t *p, zx_db *db, const zx_request *req);

#endif
