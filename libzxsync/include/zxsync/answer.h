/* zxmobile - the answer cache: no-change answers given again without the database.
 *
 * Most requests of a synced device ask "anything new?" and get "no": an empty Sync, a
 * FolderSync with no changes.  Such an answer depends only on the request and on what the
 * database holds for the request's account and device; as long as none of that changed, the
 * same request gets the same answer.  The cache keeps these answers per httpd child, keyed by
 * a keyed SHA-256 of every input of the request (zx_answer_key: credentials, query, headers,
 * body), and answers a repeated request from memory: no authentication query, no device
 * statement, no sync-state read.
 *
 * What "nothing changed" means is told by PostgreSQL: every change an answer depends on is
 * NOTIFYed (zx_mailbox: the store and the admin actions; zx_cache: the triggers of
 * sql/014_answer_cache.sql on the directory, configuration, device and sync-state tables), and
 * the child's listener (notify/hub.c) turns each notification into a new generation - of the
 * account named in the payload, or of everything.  An answer is given again only while the
 * generations it was computed under are unchanged, the listener is connected (a lost
 * connection may have lost notifications: nothing is answered from the cache until it is back,
 * and everything kept before is dropped), and for at most ZX_ANSWER_TTL seconds (what changes
 * with time alone: FilterType windows, the device's last-seen time).
 *
 * Which answers may be kept is the command handler's decision (zx_request.answer_reusable):
 * only answers that changed nothing.  The stages that must run for every request (method,
 * service state, anti-DoS, EAS filters, query checks, account logger) still run on a cached
 * answer; authentication, the device registry and gates, the body and the command do not.
 */
#ifndef ZXSYNC_ANSWER_H
#define ZXSYNC_ANSWER_H

#include <zxsync/eas.h>

#include <apr_pools.h>

#define ZX_ANSWER_TTL 30              /* seconds an answer is given again at most */
#define ZX_ANSWER_MAX_BODY 1024       /* larger answers are not kept */
#define ZX_ANSWER_MAX_REQUEST 65536   /* larger requests are not looked up (nor hashed): a
                                         no-change request is a few hundred bytes */

typedef struct zx_answer_cache zx_answer_cache;

/* A cache of at most slots answers (0: a default), allocated from p (the child pool). */
zx_answer_cache *zx_answer_cache_create(apr_pool_t *p, unsigned slots);

/* From the notification listener: account_id changed (NULL: everything may have changed).
 * Also from the pipeline, right after a request that may have changed its account's data
 * (zx_pipeline_run): with a shared region, the other children see the change before the
 * request's answer leaves, not only once their listener reads the notification. */
void zx_answer_cache_changed(zx_answer_cache *c, const char *account_id);

/* The accounts' generations shared by every child of a server (the module's shared memory,
 * made in the parent before the children fork): a change a request makes in one child
 * outdates the answers the other children keep at once - a device that syncs right after
 * another device of the account changed something is never answered "nothing new" from a
 * cache whose listener has not read the notification yet.  zx_answer_shared_init formats a
 * region of zx_answer_shared_size() bytes; zx_answer_cache_share makes a cache use it
 * (-1: not such a region, or the platform has no lock-free 64-bit atomics).  Changes made
 * outside the server (the CLI, another node) still arrive as notifications. */
apr_size_t zx_answer_shared_size(void);
void zx_answer_shared_init(void *region);
int zx_answer_cache_share(zx_answer_cache *c, void *region);
/* From the notification listener: it holds (up = 1) or lost (0) its connection.  Connecting
 * drops every kept answer: notifications sent meanwhile were lost. */
void zx_answer_cache_connected(zx_answer_cache *c, int up);

typedef struct {
    unsigned long hits, misses, stores, invalid;   /* invalid: found but outdated */
} zx_answer_stats;
void zx_answer_cache_stats(zx_answer_cache *c, zx_answer_stats *st);

/* ---- the pipeline's use (gate/pipeline.c) --------------------------------------------------- */

/* Can this request's answer be kept at all (a POST of a command whose handler may set
 * answer_reusable, with a body of at most ZX_ANSWER_MAX_REQUEST bytes)? */
int zx_answer_candidate(const zx_request *req);

/* Look the request up.  A hit (1) fills req->account, req->authenticated and req->device_row,
 * and keeps the answer for zx_answer_replay.  A miss (0) remembers in req what
 * zx_answer_store needs: the key and the generation of everything, read now, before any
 * database read of the request. */
int zx_answer_lookup(zx_answer_cache *c, const void *srv_identity, zx_request *req);
/* The kept answer of a hit, into resp. */
void zx_answer_replay(const zx_request *req, zx_response *resp);
/* Once the account is known (after authentication, before the device and its state are read):
 * remember the account's generation. */
void zx_answer_note_account(zx_answer_cache *c, zx_request *req);
/* After the command: keep resp when the handler declared it reusable (req->answer_reusable),
 * it is a 200 of at most ZX_ANSWER_MAX_BODY bytes, and nothing changed since the request
 * started.  Returns 1 when kept. */
int zx_answer_store(zx_answer_cache *c, zx_request *req, const zx_response *resp);

/* The key of a request: every input the pipeline reads, with srv_identity (the endpoint).
 * Exposed for the unit tests. */
void zx_answer_key(const zx_answer_cache *c, const void *srv_identity, const zx_request *req,
                   unsigned char key[32]);

#endif
