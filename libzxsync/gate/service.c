/* zxmobile - pipeline stage: is the ActiveSync service running (zxsuite mobile
 * doStopService activesync|module, spec 14)?  The state lives in the database so every node
 * sees it; each process re-reads it at most every ZX_SERVICE_RECHECK seconds. */
#include <zxsync/config.h>
#include <zxsync/server.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>

#define ZX_SERVICE_RECHECK 2

struct zx_service_gate {
    apr_thread_mutex_t *mu;
    apr_time_t checked;
    int running;
};

zx_service_gate *zx_service_gate_create(apr_pool_t *p)
{
    zx_service_gate *g = apr_pcalloc(p, sizeof *g);
    g->running = 1;
    if (apr_thread_mutex_create(&g->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return NULL;
    return g;
}

/* 1 running, 0 stopped, -1 unknown (database error: *err). */
int zx_service_gate_check(const zx_server *srv, zx_request *req, const char *service,
                          const char **err)
{
    zx_service_gate *g = srv->service_gate;
    if (!g)
        return 1;   /* no shared state configured (a host without a database) */
    apr_time_t now = apr_time_now();
    apr_thread_mutex_lock(g->mu);
    int fresh = now - g->checked < apr_time_from_sec(ZX_SERVICE_RECHECK);
    int running = g->running;
    apr_thread_mutex_unlock(g->mu);
    if (fresh)
        return running;
    zx_db *db = zx_request_db(srv, req, err);
    if (!db || zx_service_running(req->pool, db, service, &running, err) < 0)
        return -1;
    apr_thread_mutex_lock(g->mu);
    g->running = running;
    g->checked = now;
    apr_thread_mutex_unlock(g->mu);
    return running;
}
