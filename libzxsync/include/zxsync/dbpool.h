/* zxmobile - a pool of PostgreSQL connections shared by the threads of one process (one per
 * httpd child, created in child_init, never before fork).  A request takes a connection for
 * its lifetime; the pool's cleanup on the request pool gives it back. */
#ifndef ZXSYNC_DBPOOL_H
#define ZXSYNC_DBPOOL_H

#include <apr_pools.h>
#include <zxsync/db.h>

typedef struct zx_dbpool zx_dbpool;

/* max: most connections open at once; wait_ms: how long acquire waits for a free one. */
zx_dbpool *zx_dbpool_create(apr_pool_t *p, const char *conninfo, unsigned max, unsigned wait_ms);
/* Take a connection until req_pool is cleared.  NULL and *err when the database cannot be
 * reached or every connection stays busy for wait_ms.  An idle connection the server closed
 * (a restart) is never handed out: it is dropped, with every other idle one found closed.
 * The connections are zx_db_set_reconnect: a statement outside a transaction that meets a
 * session lost meanwhile runs again on a new one. */
zx_db *zx_dbpool_acquire(zx_dbpool *pool, apr_pool_t *req_pool, const char **err);
/* Give a connection taken for req_pool back before req_pool is cleared (a request that waits,
 * e.g. a Ping, holds none meanwhile).  db must not be used afterwards. */
void zx_dbpool_release(apr_pool_t *req_pool, zx_db *db);

typedef struct {
    unsigned open, idle, max;
    unsigned long acquired, connects, failures, timeouts;
    unsigned long dead;         /* idle connections dropped because the server closed them */
} zx_dbpool_stats;
void zx_dbpool_stats_get(zx_dbpool *pool, zx_dbpool_stats *st);

#endif
