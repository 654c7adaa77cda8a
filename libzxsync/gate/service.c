/* zxmobile - pipeline stage: is the ActiveSync service running (zxsuite mobile
 * doStopService activesync|module, spec 14)?  The state lives in the database so every node
 * sees it; each process re-reads it at most every ZX_SERVICE_RECHECK seconds. */
#include <zxsync/config.h>
#include <zxsync/gate.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>
#include <string.h>

#define ZX_SERVICE_RECHECK 2

/* One cached state per service name asked about (activesync, autodiscover, ...). */
#define ZX_SERVICE_GATE_SLOTS 8

struct zx_service_gate {
    apr_thread_mutex_t *mu;
    struct {
        const char *name;       /* NULL = free slot */
        apr_time_t checked;
        int running;
    } s[ZX_SERVICE_GATE_SLOTS];
};

/* The slot of service (under g->mu); NULL when every slot holds another name. */
static int gate_slot(zx_service_gate *g, const char *service)
{
    for (int i = 0; i < ZX_SERVICE_GATE_SLOTS; i++) {
        if (!g->s[i].name) {
            g->s[i].name = service;
            g->s[i].running = 1;
            return i;
        }
        if (g->s[i].name == service || strcmp(g->s[i].name, service) == 0)
            return i;
    }
    return -1;
}

zx_service_gate *zx_service_gate_create(apr_pool_t *p)
{
    zx_service_gate *g = apr_pcalloc(p, sizeof *g);
    if (apr_thread_mutex_create(&g->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return NULL;
    return g;
}

/* 1 running, 0 stopped, -1 unknown (database error: *err).  service is a string constant. */
int zx_service_gate_check(const zx_server *srv, zx_request *req, const char *service,
                          const char **err)
{
    zx_service_gate *g = srv->service_gate;
    if (!g)
        return 1;   /* no shared state configured (a host without a database) */
    apr_time_t now = apr_time_now();
    apr_thread_mutex_lock(g->mu);
    int slot = gate_slot(g, service);
    int fresh = slot >= 0 && now - g->s[slot].checked < apr_time_from_sec(ZX_SERVICE_RECHECK);
    int running = slot >= 0 ? g->s[slot].running : 1;
    apr_thread_mutex_unlock(g->mu);
    if (fresh)
        return running;
    zx_db *db = zx_request_db(srv, req, err);
    if (!db || zx_service_running(req->pool, db, service, &running, err) < 0)
        return -1;
    if (slot >= 0) {
        apr_thread_mutex_lock(g->mu);
        g->s[slot].running = running;
        g->s[slot].checked = now;
        apr_thread_mutex_unlock(g->mu);
    }
    return running;
}
