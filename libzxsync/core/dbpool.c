/* zxmobile - per-process PostgreSQL connection pool (see zxsync/dbpool.h). */
#include <zxsync/dbpool.h>
#include <zxsync/log.h>

#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>

typedef struct pooled {
    struct pooled *next;
    apr_pool_t *pool;       /* owns the connection: destroying it closes it */
    zx_db *db;
} pooled;

struct zx_dbpool {
    apr_pool_t *pool;
    const char *conninfo;
    unsigned max, wait_ms;
    apr_thread_mutex_t *mu;
    apr_thread_cond_t *cv;
    pooled *idle;
    unsigned open, nidle;
    zx_dbpool_stats stats;
};

typedef struct {
    zx_dbpool *pool;
    pooled *conn;
} lease;

/* The request pool's note of its lease of db (zx_dbpool_release finds it there). */
static const char *lease_key(apr_pool_t *req_pool, zx_db *db)
{
    return apr_psprintf(req_pool, "zx_dbpool_lease:%pp", (void *)db);
}

zx_dbpool *zx_dbpool_create(apr_pool_t *p, const char *conninfo, unsigned max, unsigned wait_ms)
{
    zx_dbpool *dp = apr_pcalloc(p, sizeof *dp);
    dp->pool = p;
    dp->conninfo = apr_pstrdup(p, conninfo ? conninfo : "");
    dp->max = max ? max : 16;
    dp->wait_ms = wait_ms ? wait_ms : 5000;
    if (apr_thread_mutex_create(&dp->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS ||
        apr_thread_cond_create(&dp->cv, p) != APR_SUCCESS)
        return NULL;
    return dp;
}

static void discard(zx_dbpool *dp, pooled *c)
{
    /* called with the mutex held */
    apr_pool_destroy(c->pool);
    dp->open--;
}

static apr_status_t release(void *data)
{
    lease *l = data;
    zx_dbpool *dp = l->pool;
    pooled *c = l->conn;
    PGconn *conn = zx_db_conn(c->db);
    zx_db_set_pool(c->db, c->pool);
    /* A connection left inside a transaction or broken is not reused. */
    int healthy = PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
    apr_thread_mutex_lock(dp->mu);
    if (healthy) {
        c->next = dp->idle;
        dp->idle = c;
        dp->nidle++;
    }
    else {
        discard(dp, c);
    }
    apr_thread_cond_signal(dp->cv);
    apr_thread_mutex_unlock(dp->mu);
    return APR_SUCCESS;
}

/* Drop the idle connections the server closed (under dp->mu); returns how many. */
static unsigned drop_dead(zx_dbpool *dp)
{
    unsigned n = 0;
    for (pooled **pp = &dp->idle; *pp;) {
        pooled *c = *pp;
        if (zx_db_alive(c->db)) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        dp->nidle--;
        discard(dp, c);
        n++;
    }
    return n;
}

zx_db *zx_dbpool_acquire(zx_dbpool *dp, apr_pool_t *req_pool, const char **err)
{
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(dp->wait_ms);
    pooled *c = NULL;
    unsigned dropped = 0;
    apr_thread_mutex_lock(dp->mu);
    for (;;) {
        if (dp->idle) {
            c = dp->idle;
            dp->idle = c->next;
            dp->nidle--;
            /* A connection the server closed (restart, terminated session) is not handed
             * out: the poll of its socket costs no round trip.  When one is dead, the others
             * were most likely closed by the same restart: look at all of them now. */
            if (zx_db_alive(c->db))
                break;
            discard(dp, c);
            c = NULL;
            unsigned n = 1 + drop_dead(dp);
            dropped += n;
            dp->stats.dead += n;
            apr_thread_cond_broadcast(dp->cv);    /* free slots for the waiters */
            continue;
        }
        if (dp->open < dp->max) {
            dp->open++;       /* reserve the slot, connect outside the lock */
            break;
        }
        apr_time_t left = deadline - apr_time_now();
        if (left <= 0) {
            dp->stats.timeouts++;
            apr_thread_mutex_unlock(dp->mu);
            *err = apr_psprintf(req_pool, "all %u database connections stayed busy for %u ms",
                                dp->max, dp->wait_ms);
            return NULL;
        }
        apr_thread_cond_timedwait(dp->cv, dp->mu, left);
    }
    apr_thread_mutex_unlock(dp->mu);
    if (dropped)
        zx_log(NULL, ZX_LOG_WARNING, ZXLOGNO(00102) "%u pooled database connection%s closed "
               "by the server (a restart?): dropped, new ones are opened", dropped,
               dropped == 1 ? " was" : "s were");

    if (!c) {
        apr_pool_t *cp;
        apr_pool_create(&cp, dp->pool);
        zx_db *db = zx_db_connect(cp, dp->conninfo, err);
        if (db)
            zx_db_set_reconnect(db, 1);     /* pooled sessions hold no session state */
        apr_thread_mutex_lock(dp->mu);
        if (!db) {
            dp->open--;
            dp->stats.failures++;
            apr_thread_cond_signal(dp->cv);
            apr_thread_mutex_unlock(dp->mu);
            *err = apr_pstrdup(req_pool, *err);   /* before its pool goes */
            apr_pool_destroy(cp);
            return NULL;
        }
        dp->stats.connects++;
        apr_thread_mutex_unlock(dp->mu);
        c = apr_pcalloc(cp, sizeof *c);
        c->pool = cp;
        c->db = db;
    }
    apr_thread_mutex_lock(dp->mu);
    dp->stats.acquired++;
    apr_thread_mutex_unlock(dp->mu);
    zx_db_set_pool(c->db, req_pool);   /* messages of this request live in its pool */
    lease *l = apr_palloc(req_pool, sizeof *l);
    l->pool = dp;
    l->conn = c;
    apr_pool_cleanup_register(req_pool, l, release, apr_pool_cleanup_null);
    apr_pool_userdata_setn(l, lease_key(req_pool, c->db), NULL, req_pool);
    return c->db;
}

void zx_dbpool_release(apr_pool_t *req_pool, zx_db *db)
{
    const char *key = lease_key(req_pool, db);
    void *l = NULL;
    apr_pool_userdata_get(&l, key, req_pool);
    if (!l)
        return;
    apr_pool_userdata_setn(NULL, key, NULL, req_pool);
    apr_pool_cleanup_run(req_pool, l, release);
}

void zx_dbpool_stats_get(zx_dbpool *dp, zx_dbpool_stats *st)
{
    apr_thread_mutex_lock(dp->mu);
    *st = dp->stats;
    st->open = dp->open;
    st->idle = dp->nidle;
    st->max = dp->max;
    apr_thread_mutex_unlock(dp->mu);
}
