/* zxmobile - the periodic jobs of a server process (zxsync/gate.h): a zx_maint runner
 * (core/maint.c) with the jobs of the stages they serve. */
#include <zxsync/gate.h>

#include "abq.h"

/* The jobs, in the order they run each period. */
static void add_jobs(zx_maint *m, const zx_server *srv)
{
    zx_maint_add(m, zx_gate_abq_job, (void *)srv);     /* gate/abq.c */
}

zx_maint *zx_maint_start(apr_pool_t *p, const zx_server *srv, unsigned period_ms,
                         const char **err)
{
    zx_maint *m = zx_maint_create(p, srv->dbpool, period_ms);
    add_jobs(m, srv);
    return zx_maint_begin(m, err) < 0 ? NULL : m;
}

void zx_maint_run_once(const zx_server *srv, apr_pool_t *p)
{
    zx_maint *m = zx_maint_create(p, srv->dbpool, 0);
    add_jobs(m, srv);
    zx_maint_run(m, p);
}
