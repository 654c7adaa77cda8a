/* zxmobile - the periodic work of a server process, done whether requests come or not.
 *
 * One thread per process and database (httpd: per child, started in child_init) wakes every
 * ZX_MAINT_PERIOD seconds and runs its jobs, each with a connection taken from the server's
 * pool for the moment.  Today one job: the ABQ administrators' notification
 * (abqNotificationsInterval; zx_abq_notify_due claims it, so exactly one process of all nodes
 * sends it).  It is also tried from the ABQ gate of every computed request; the thread makes
 * it independent of traffic - a device answered from the answer cache (zxsync/answer.h) does
 * not pass the gate. */
#ifndef ZXSYNC_MAINT_H
#define ZXSYNC_MAINT_H

#include <zxsync/server.h>

#define ZX_MAINT_PERIOD 10          /* seconds */

typedef struct zx_maint zx_maint;

/* Start the thread for srv (its dbpool and settings are used, so srv must outlive p);
 * period_ms 0 = ZX_MAINT_PERIOD.  Stopped and joined by p's (pre-)cleanup.  NULL and *err when
 * it cannot start. */
zx_maint *zx_maint_start(apr_pool_t *p, const zx_server *srv, unsigned period_ms,
                         const char **err);
/* Run the jobs once now, on the calling thread (tests; and what the thread does each period). */
void zx_maint_run_once(const zx_server *srv, apr_pool_t *p);

#endif
