/* zxmobile - the periodic work of a server process (zxsync/maint.h). */
#include <zxsync/abq.h>
#include <zxsync/log.h>
#include <zxsync/maint.h>

#include <apr_thread_proc.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct zx_maint {
    const zx_server *srv;
    unsigned period_ms;
    int stop_fd;                /* eventfd: wakes the thread to stop */
    apr_thread_t *thread;
};

/* ---- the jobs ---------------------------------------------------------------------------- */

static void abq_notification(const zx_server *srv, apr_pool_t *p, zx_db *db)
{
    if (!srv->settings.sendmail)
        return;                 /* no way to mail: the devices stay pending */
    const char *err = NULL;
    int n = zx_abq_notify_due(p, db, srv->settings.sendmail, &err);
    if (n < 0)
        zx_log(NULL, ZX_LOG_ERR, ZXLOGNO(01700) "ABQ: notification not sent: %s",
               err ? err : "internal error");
    else if (n > 0)
        zx_log(NULL, ZX_LOG_INFO, ZXLOGNO(01701) "ABQ: notified the administrators of %d newly "
               "quarantined device(s)", n);
}

static void (*const jobs[])(const zx_server *, apr_pool_t *, zx_db *) = {
    abq_notification,
};

void zx_maint_run_once(const zx_server *srv, apr_pool_t *parent)
{
    apr_pool_t *p;
    if (!srv->dbpool || apr_pool_create(&p, parent) != APR_SUCCESS)
        return;
    const char *err = NULL;
    zx_db *db = zx_dbpool_acquire(srv->dbpool, p, &err);
    if (!db)
        zx_log(NULL, ZX_LOG_WARNING, ZXLOGNO(01702) "periodic jobs skipped: %s",
               err ? err : "no database connection");
    else
        for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++)
            jobs[i](srv, p, db);
    apr_pool_destroy(p);        /* gives the connection back */
}

/* ---- the thread -------------------------------------------------------------------------- */

static void *APR_THREAD_FUNC maint_thread(apr_thread_t *thread, void *data)
{
    zx_maint *m = data;
    apr_pool_t *p;
    if (apr_pool_create(&p, NULL) == APR_SUCCESS) {
        for (;;) {
            struct pollfd pfd = {m->stop_fd, POLLIN, 0};
            int rc = poll(&pfd, 1, (int)m->period_ms);
            if (rc > 0 || (rc < 0 && errno != EINTR))
                break;
            if (rc == 0)
                zx_maint_run_once(m->srv, p);
        }
        apr_pool_destroy(p);
    }
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

static apr_status_t maint_cleanup(void *data)
{
    zx_maint *m = data;
    if (m->thread) {
        uint64_t one = 1;
        while (write(m->stop_fd, &one, sizeof one) < 0 && errno == EINTR)
            ;
        apr_status_t rv;
        apr_thread_join(&rv, m->thread);
        m->thread = NULL;
    }
    if (m->stop_fd >= 0) {
        close(m->stop_fd);
        m->stop_fd = -1;
    }
    return APR_SUCCESS;
}

zx_maint *zx_maint_start(apr_pool_t *p, const zx_server *srv, unsigned period_ms,
                         const char **err)
{
    zx_maint *m = apr_pcalloc(p, sizeof *m);
    m->srv = srv;
    m->period_ms = period_ms ? period_ms : ZX_MAINT_PERIOD * 1000u;
    m->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m->stop_fd < 0) {
        *err = "cannot create an eventfd";
        return NULL;
    }
    /* a pre-cleanup: the thread runs in a subpool of p, destroyed before ordinary cleanups */
    apr_pool_pre_cleanup_register(p, m, maint_cleanup);
    apr_threadattr_t *attr;
    if (apr_threadattr_create(&attr, p) != APR_SUCCESS ||
        apr_threadattr_stacksize_set(attr, 256 * 1024) != APR_SUCCESS ||
        apr_thread_create(&m->thread, attr, maint_thread, m, p) != APR_SUCCESS) {
        m->thread = NULL;
        *err = "cannot start the periodic jobs' thread";
        return NULL;
    }
    return m;
}
