/* zxmobile - a runner of periodic jobs, done whether requests come or not.
 *
 * One thread per runner (httpd: one per child and database, started in child_init) wakes
 * every period and runs the jobs registered with it, each with a connection taken from the
 * runner's pool for the moment.  The runner knows no job: the layer a job serves registers it
 * (zx_maint_start in zxsync/gate.h registers the ABQ administrators' notification of gate/abq.c).
 */
#ifndef ZXSYNC_MAINT_H
#define ZXSYNC_MAINT_H

#include <apr_pools.h>
#include <zxsync/dbpool.h>

#define ZX_MAINT_PERIOD 10          /* seconds */

typedef struct zx_maint zx_maint;

/* One job: does its work with db (p is cleared after the round). */
typedef void zx_maint_job(void *baton, apr_pool_t *p, zx_db *db);

/* A runner over dbpool (NULL: every round is skipped), period_ms 0 = ZX_MAINT_PERIOD.  Its
 * thread, once started, is stopped and joined by p's (pre-)cleanup. */
zx_maint *zx_maint_create(apr_pool_t *p, zx_dbpool *dbpool, unsigned period_ms);
/* Register a job (before zx_maint_begin); jobs run in the order registered. */
void zx_maint_add(zx_maint *m, zx_maint_job *job, void *baton);
/* Start the thread.  Returns 0, or -1 and *err. */
int zx_maint_begin(zx_maint *m, const char **err);
/* Run the jobs once now, on the calling thread (tests; and what the thread does each period). */
void zx_maint_run(zx_maint *m, apr_pool_t *p);

#endif
