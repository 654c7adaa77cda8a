/* zxmobile - the periodic jobs of a server process (zxsync/gate.h): a zx_maint runner
 * (core/maint.c) with the jobs of the stages they serve. */
#include <zxsync/gate.h>

#include "abq.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <zxsync/config.h>
#include <zxsync/devadmin.h>
#include <zxsync/log.h>

/* Once a day, on one node: the devices not seen for ZxMobile_PurgeRetentionDays days (0: off)
 * are removed as doPurgeMobileState does (zx_devadmin_purge).  The claim is an UPDATE of the
 * job's maint_runs row (sql/028): the first child to run it in a day wins, the others find it
 * done. */
static void purge_job(void *baton, apr_pool_t *p, zx_db *db)
{
    (void)baton;
    const char *v = NULL, *err = NULL;
    if (zx_config_get(p, db, ZX_LEVEL_GLOBAL, NULL, "ZxMobile_PurgeRetentionDays", &v, &err) < 0)
        return;                 /* the database is away: next period */
    int days = v ? atoi(v) : 0;
    if (days < 1)
        return;
    long claimed = zx_db_affected(db, "UPDATE maint_runs SET last_run = now() "
                                  "WHERE job = 'purge_mobile_state' AND (last_run IS NULL OR "
                                  "last_run <= now() - interval '1 day')", 0, NULL, &err);
    if (claimed <= 0)
        return;
    apr_array_header_t *gone;
    if (zx_devadmin_purge(p, db, "zxmobile (ZxMobile_PurgeRetentionDays)", days, NULL, 0, &gone,
                          &err) != 0)
        zx_log(NULL, ZX_LOG_ERR, ZXLOGNO(01710) "periodic purge of mobile state failed: %s",
               err ? err : "?");
    else
        zx_log(NULL, ZX_LOG_INFO, ZXLOGNO(01711) "periodic purge of mobile state: %d device(s) "
               "not seen for %d days removed", gone->nelts, days);
}

/* The jobs, in the order they run each period. */
static void add_jobs(zx_maint *m, const zx_server *srv)
{
    zx_maint_add(m, zx_gate_abq_job, (void *)srv);     /* gate/abq.c */
    zx_maint_add(m, purge_job, NULL);
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
