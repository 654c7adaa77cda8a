/* zxmobile - change notifications: the receiving side (zxsync/notify.h).
 *
 * One hub per process and database.  Waiters are kept per account in a hash of lists under
 * one mutex; the listener thread holds its own libpq connection (LISTEN), and wakes waiters by
 * writing to their eventfd.  Everything a waiter shares with the thread is malloc'd, never
 * from a request pool, so a request that ends frees exactly its own waiter.
 */
#include <zxsync/log.h>
#include <zxsync/notify.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define SETTINGS_TTL apr_time_from_sec(3)     /* the settings cache */
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 10000

struct zx_waiter {
    zx_notify_hub *hub;
    zx_waiter *next, *prev;     /* the account's list */
    zx_waiter *anext, *aprev;   /* every waiter, oldest first */
    int shed;                   /* woken with ZX_WAKE_SHED already */
    char *account;
    char *device;
    long long wait_id;
    int fd;
    unsigned reasons;
};

struct zx_notify_hub {
    apr_pool_t *pool;
    char *conninfo;
    apr_thread_mutex_t *mu;
    apr_hash_t *accounts;       /* account id -> first zx_waiter */
    zx_waiter *oldest, *newest; /* every waiter, in registration order */
    unsigned max;               /* most waiters at once, 0 = no limit */
    int stopping;
    int stop_fd;                /* eventfd: wakes the listener to stop */
    apr_thread_t *thread;
    zx_notify_stats stats;
    zx_push_settings settings;
    apr_time_t settings_at;     /* 0: never read */
    zx_notify_observer observer;    /* changed == NULL: none */
};

/* ---- waking ------------------------------------------------------------------------------ */

static void signal_fd(int fd)
{
    uint64_t one = 1;
    ssize_t n;
    do
        n = write(fd, &one, sizeof one);
    while (n < 0 && errno == EINTR);
    /* EAGAIN: the counter is already non-zero, the waiter will wake anyway */
}

/* called with the mutex held */
static void wake(zx_notify_hub *hub, zx_waiter *w, unsigned why)
{
    if (why & ZX_WAKE_SUPERSEDED && !(w->reasons & ZX_WAKE_SUPERSEDED))
        hub->stats.superseded++;
    w->reasons |= why;
    hub->stats.woken++;
    signal_fd(w->fd);
}

static void wake_all(zx_notify_hub *hub, unsigned why)
{
    apr_thread_mutex_lock(hub->mu);
    for (apr_hash_index_t *hi = apr_hash_first(NULL, hub->accounts); hi; hi = apr_hash_next(hi)) {
        void *v;
        apr_hash_this(hi, NULL, NULL, &v);
        for (zx_waiter *w = v; w; w = w->next)
            wake(hub, w, why);
    }
    apr_thread_mutex_unlock(hub->mu);
}

/* Older waiters of device end; returns 1 when a newer one exists (called with the mutex). */
static int supersede(zx_notify_hub *hub, zx_waiter *first, const char *device,
                     long long wait_id, const zx_waiter *self)
{
    int newer = 0;
    for (zx_waiter *w = first; w; w = w->next) {
        if (w == self || strcmp(w->device, device) != 0)
            continue;
        if (w->wait_id < wait_id)
            wake(hub, w, ZX_WAKE_SUPERSEDED);
        else if (w->wait_id > wait_id)
            newer = 1;
    }
    return newer;
}

void zx_notify_hub_dispatch(zx_notify_hub *hub, const char *payload)
{
    char account[32], device[32];
    const char *c1 = strchr(payload, ':');
    size_t alen = c1 ? (size_t)(c1 - payload) : strlen(payload);
    if (alen == 0 || alen >= sizeof account)
        return;
    memcpy(account, payload, alen);
    account[alen] = '\0';
    long long wait_id = 0;
    device[0] = '\0';
    if (c1) {
        const char *c2 = strchr(c1 + 1, ':');
        size_t dlen = c2 ? (size_t)(c2 - c1 - 1) : 0;
        if (!c2 || dlen == 0 || dlen >= sizeof device)
            return;
        memcpy(device, c1 + 1, dlen);
        device[dlen] = '\0';
        wait_id = strtoll(c2 + 1, NULL, 10);
    }
    if (hub->observer.changed)
        hub->observer.changed(hub->observer.baton, account);
    apr_thread_mutex_lock(hub->mu);
    hub->stats.notifications++;
    zx_waiter *first = apr_hash_get(hub->accounts, account, APR_HASH_KEY_STRING);
    if (device[0])
        supersede(hub, first, device, wait_id, NULL);
    else
        for (zx_waiter *w = first; w; w = w->next)
            wake(hub, w, ZX_WAKE_CHANGE);
    apr_thread_mutex_unlock(hub->mu);
}

void zx_notify_hub_dispatch_cache(zx_notify_hub *hub, const char *payload)
{
    if (hub->observer.changed)
        hub->observer.changed(hub->observer.baton, payload && *payload ? payload : NULL);
}

void zx_notify_hub_observe(zx_notify_hub *hub, const zx_notify_observer *o)
{
    hub->observer = *o;
}

static void tell_connected(zx_notify_hub *hub, int up)
{
    if (hub->observer.connected)
        hub->observer.connected(hub->observer.baton, up);
}

/* ---- waiters ----------------------------------------------------------------------------- */

zx_waiter *zx_waiter_add(zx_notify_hub *hub, const char *account_id, const char *device,
                         long long wait_id, const char **err)
{
    zx_waiter *w = calloc(1, sizeof *w);
    if (!w) {
        *err = "out of memory";
        return NULL;
    }
    w->hub = hub;
    w->account = strdup(account_id);
    w->device = strdup(device);
    w->wait_id = wait_id;
    w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->fd < 0 || !w->account || !w->device) {
        *err = w->fd < 0 ? "cannot create an eventfd (file descriptor limit?)" : "out of memory";
        if (w->fd >= 0)
            close(w->fd);
        free(w->account);
        free(w->device);
        free(w);
        return NULL;
    }
    apr_thread_mutex_lock(hub->mu);
    if (hub->stopping) {
        apr_thread_mutex_unlock(hub->mu);
        close(w->fd);
        free(w->account);
        free(w->device);
        free(w);
        *err = "the process is stopping";
        return NULL;
    }
    zx_waiter *first = apr_hash_get(hub->accounts, w->account, APR_HASH_KEY_STRING);
    if (supersede(hub, first, w->device, wait_id, NULL))
        wake(hub, w, ZX_WAKE_SUPERSEDED);
    /* the new waiter goes first: the hash key becomes its copy of the account id */
    if (first) {
        apr_hash_set(hub->accounts, first->account, APR_HASH_KEY_STRING, NULL);
        first->prev = w;
    }
    w->next = first;
    apr_hash_set(hub->accounts, w->account, APR_HASH_KEY_STRING, w);
    /* over the limit: the oldest waiter not yet told answers now */
    if (hub->max && hub->stats.waiting >= hub->max) {
        zx_waiter *o = hub->oldest;
        while (o && o->shed)
            o = o->anext;
        if (o) {
            o->shed = 1;
            hub->stats.shed++;
            wake(hub, o, ZX_WAKE_SHED);
        }
    }
    w->aprev = hub->newest;
    if (hub->newest)
        hub->newest->anext = w;
    else
        hub->oldest = w;
    hub->newest = w;
    hub->stats.waiting++;
    apr_thread_mutex_unlock(hub->mu);
    return w;
}

int zx_waiter_fd(const zx_waiter *w)
{
    return w->fd;
}

unsigned zx_waiter_take(zx_waiter *w)
{
    uint64_t v;
    while (read(w->fd, &v, sizeof v) < 0 && errno == EINTR)
        ;
    apr_thread_mutex_lock(w->hub->mu);
    unsigned r = w->reasons;
    w->reasons = 0;
    apr_thread_mutex_unlock(w->hub->mu);
    return r;
}

void zx_waiter_remove(zx_waiter *w)
{
    if (!w)
        return;
    zx_notify_hub *hub = w->hub;
    apr_thread_mutex_lock(hub->mu);
    if (w->prev) {
        w->prev->next = w->next;
        if (w->next)
            w->next->prev = w->prev;
    }
    else {
        apr_hash_set(hub->accounts, w->account, APR_HASH_KEY_STRING, NULL);
        if (w->next) {
            w->next->prev = NULL;
            apr_hash_set(hub->accounts, w->next->account, APR_HASH_KEY_STRING, w->next);
        }
    }
    if (w->aprev)
        w->aprev->anext = w->anext;
    else
        hub->oldest = w->anext;
    if (w->anext)
        w->anext->aprev = w->aprev;
    else
        hub->newest = w->aprev;
    hub->stats.waiting--;
    apr_thread_mutex_unlock(hub->mu);
    close(w->fd);
    free(w->account);
    free(w->device);
    free(w);
}

/* ---- the listener thread ----------------------------------------------------------------- */

/* Sleep ms unless asked to stop; returns 1 when stopping. */
static int nap(zx_notify_hub *hub, int ms)
{
    struct pollfd pfd = {hub->stop_fd, POLLIN, 0};
    int rc = poll(&pfd, 1, ms);
    return rc > 0;
}

static PGconn *listen_connect(zx_notify_hub *hub)
{
    PGconn *conn = PQconnectdb(hub->conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        zx_log(NULL, ZX_LOG_WARNING, ZXLOGNO(01000) "notification listener cannot connect: %s",
               PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    PGresult *res = PQexec(conn, "LISTEN " ZX_NOTIFY_CHANNEL "; LISTEN " ZX_CACHE_CHANNEL);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        zx_log(NULL, ZX_LOG_WARNING, ZXLOGNO(01001) "notification listener cannot LISTEN: %s",
               PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static void *APR_THREAD_FUNC listener(apr_thread_t *thread, void *data)
{
    zx_notify_hub *hub = data;
    int backoff = BACKOFF_MIN_MS;
    int lost = 0;
    for (;;) {
        PGconn *conn = listen_connect(hub);
        if (!conn) {
            if (nap(hub, backoff))
                break;
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        backoff = BACKOFF_MIN_MS;
        apr_thread_mutex_lock(hub->mu);
        hub->stats.connected = 1;
        if (lost)
            hub->stats.reconnects++;
        apr_thread_mutex_unlock(hub->mu);
        if (lost)
            zx_log(NULL, ZX_LOG_NOTICE, ZXLOGNO(01002) "notification listener reconnected: "
                   "every waiting device re-checks");
        /* whatever was notified while nobody listened is re-checked */
        tell_connected(hub, 1);
        wake_all(hub, ZX_WAKE_RECHECK);
        int stop = 0;
        for (;;) {
            struct pollfd pfd[2] = {{PQsocket(conn), POLLIN, 0}, {hub->stop_fd, POLLIN, 0}};
            int rc = poll(pfd, 2, -1);
            if (rc < 0 && errno != EINTR)
                break;
            if (pfd[1].revents) {
                stop = 1;
                break;
            }
            if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (!PQconsumeInput(conn))
                break;
            PGnotify *n;
            while ((n = PQnotifies(conn)) != NULL) {
                if (strcmp(n->relname, ZX_CACHE_CHANNEL) == 0)
                    zx_notify_hub_dispatch_cache(hub, n->extra);
                else
                    zx_notify_hub_dispatch(hub, n->extra);
                PQfreemem(n);
            }
            if (PQstatus(conn) != CONNECTION_OK)
                break;
        }
        PQfinish(conn);
        tell_connected(hub, 0);
        apr_thread_mutex_lock(hub->mu);
        hub->stats.connected = 0;
        apr_thread_mutex_unlock(hub->mu);
        if (stop)
            break;
        lost = 1;
        zx_log(NULL, ZX_LOG_WARNING, ZXLOGNO(01003) "notification listener lost its database "
               "connection; reconnecting");
        if (nap(hub, BACKOFF_MIN_MS))
            break;
    }
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

static apr_status_t hub_cleanup(void *data)
{
    zx_notify_hub *hub = data;
    zx_notify_hub_stop(hub);
    if (hub->thread) {
        apr_status_t rv;
        apr_thread_join(&rv, hub->thread);
        hub->thread = NULL;
    }
    if (hub->stop_fd >= 0) {
        close(hub->stop_fd);
        hub->stop_fd = -1;
    }
    return APR_SUCCESS;
}

zx_notify_hub *zx_notify_hub_create(apr_pool_t *p, const char *conninfo)
{
    zx_notify_hub *hub = apr_pcalloc(p, sizeof *hub);
    hub->pool = p;
    hub->conninfo = apr_pstrdup(p, conninfo ? conninfo : "");
    hub->accounts = apr_hash_make(p);
    hub->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (hub->stop_fd < 0 ||
        apr_thread_mutex_create(&hub->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return NULL;
    /* a pre-cleanup: the listener thread runs in a subpool of p, and apr_pool_destroy
     * destroys subpools before it runs the ordinary cleanups (a crash at child exit) */
    apr_pool_pre_cleanup_register(p, hub, hub_cleanup);
    return hub;
}

int zx_notify_hub_start(zx_notify_hub *hub, const char **err)
{
    apr_threadattr_t *attr;
    if (apr_threadattr_create(&attr, hub->pool) != APR_SUCCESS ||
        apr_threadattr_stacksize_set(attr, 256 * 1024) != APR_SUCCESS ||
        apr_thread_create(&hub->thread, attr, listener, hub, hub->pool) != APR_SUCCESS) {
        *err = "cannot start the notification listener thread";
        hub->thread = NULL;
        return -1;
    }
    return 0;
}

void zx_notify_hub_stop(zx_notify_hub *hub)
{
    apr_thread_mutex_lock(hub->mu);
    int was = hub->stopping;
    hub->stopping = 1;
    apr_thread_mutex_unlock(hub->mu);
    if (was)
        return;
    wake_all(hub, ZX_WAKE_SHUTDOWN);
    if (hub->stop_fd >= 0)
        signal_fd(hub->stop_fd);
}

void zx_notify_hub_set_max(zx_notify_hub *hub, unsigned max)
{
    apr_thread_mutex_lock(hub->mu);
    hub->max = max;
    apr_thread_mutex_unlock(hub->mu);
}

void zx_notify_hub_stats(zx_notify_hub *hub, zx_notify_stats *st)
{
    apr_thread_mutex_lock(hub->mu);
    *st = hub->stats;
    apr_thread_mutex_unlock(hub->mu);
}

void zx_notify_hub_count_hangup(zx_notify_hub *hub)
{
    apr_thread_mutex_lock(hub->mu);
    hub->stats.hangups++;
    apr_thread_mutex_unlock(hub->mu);
}

int zx_notify_hub_settings_get(zx_notify_hub *hub, zx_push_settings *s)
{
    apr_time_t now = apr_time_now();
    apr_thread_mutex_lock(hub->mu);
    int fresh = hub->settings_at && now - hub->settings_at < SETTINGS_TTL;
    if (fresh)
        *s = hub->settings;
    apr_thread_mutex_unlock(hub->mu);
    return fresh;
}

void zx_notify_hub_settings_put(zx_notify_hub *hub, const zx_push_settings *s)
{
    apr_thread_mutex_lock(hub->mu);
    hub->settings = *s;
    hub->settings_at = apr_time_now();
    apr_thread_mutex_unlock(hub->mu);
}
