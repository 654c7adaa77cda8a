/* zxmobile - a runner of periodic jobs (zxsync/maint.h). */
#include <zxsync/log.h>
#include <zxsync/maint.h>

#include <apr_tables.h>
#include <apr_thread_proc.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct zx_maint {
    apr_pool_t *pool;
    zx_dbpool *dbpool;
    unsigned period_ms;
    apr_array_header_t *jobs;   /* job_entry */
    int stop_fd;                /* eventfd: wakes the thread to stop */
    apr_thread_t *thread;
};

typedef struct {
    zx_maint_job *run;
    void *baton;
} job_entry;

zx_maint *zx_maint_create(apr_pool_t *p, zx_dbpool *dbpool, unsigned period_ms)
{
    zx_maint *m = apr_pcalloc(p, sizeof *m);
    m->pool = p;
    m->dbpool = dbpool;
    m->period_ms = period_ms ? period_ms : ZX_MAINT_PERIOD * 1000u;
    m->jobs = apr_array_make(p, 2, sizeof(job_entry));
    m->stop_fd = -1;
    return m;
}

void zx_maint_add(zx_maint *m, zx_maint_job *job, void *baton)
{
    job_entry *e = apr_array_push(m->jobs);
    e->run = job;
    e->baton = baton;
}

void zx_maint_run(zx_maint *m, apr_pool_t *parent)
{
    apr_pool_t *p;
    if (!m->dbpool || m->jobs->nelts == 0 || apr_pool_create(&p, parent) != APR_SUCCESS)
        return;
    const char *err = NULL;
    zx_db *db = zx_dbpool_acquire(m->dbpool, p, &err);
    if (!db)
        zx_log(NULL, ZX_LOG_WARNING, ZXLOGNO(01702) "periodic jobs skipped: %s",
               err ? err : "no database connection");
    else
        for (int i = 0; i < m->jobs->nelts; i++) {
            const job_entry *e = &APR_ARRAY_IDX(m->jobs, i, job_entry);
            e->run(e->baton, p, db);
        }
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
                zx_maint_run(m, p);
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

int zx_maint_begin(zx_maint *m, const char **err)
{
    apr_pool_t *p = m->pool;
    m->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m->stop_fd < 0) {
        *err = "cannot create an eventfd";
        return -1;
    }
    /* a pre-cleanup: the thread runs in a subpool of p, destroyed before ordinary cleanups */
    apr_pool_pre_cleanup_register(p, m, maint_cleanup);
    apr_threadattr_t *attr;
    if (apr_threadattr_create(&attr, p) != APR_SUCCESS ||
        apr_threadattr_stacksize_set(attr, 256 * 1024) != APR_SUCCESS ||
        apr_thread_create(&m->thread, attr, maint_thread, m, p) != APR_SUCCESS) {
        m->thread = NULL;
        *err = "cannot start the periodic jobs' thread";
        return -1;
    }
    return 0;
}
