/* zxmobile - waiting requests: the Ping and the hanging Sync (ARCHITECTURE.md section 4).
 *
 * A waiting request registers a waiter with the process's notification hub (zxsync/notify.h),
 * checks once, then gives its database connection back and blocks in one poll() on the
 * waiter's eventfd, the client socket (a hang-up ends the wait at once) and the timeout.  When
 * woken it takes a connection again, runs the device re-check it was handed (the pipeline's
 * zx_device_recheck: the device's control state read again and the device gates run, so a
 * suspension, wipe or policy change answers the request), then checks again.
 */
#ifndef ZX_EAS_WAIT_H
#define ZX_EAS_WAIT_H

#include <zxsync/notify.h>
#include <zxsync/proto.h>

/* The ZxMobile_* push settings (cached per process for a few seconds). */
void zx_push_settings_load(const zx_server *srv, zx_request *req, zx_push_settings *s);

/* A new wait id for the request's device (the device_ping row), announced to every node so
 * older waiters of the device end.  Returns 0 and *wait_id, or -1 and *err. */
int zx_wait_claim(const zx_server *srv, zx_request *req, long long *wait_id, const char **err);

/* Has the request something to answer now?  1 yes, 0 not yet, -1 error (*err).  Called with a
 * connection held (req->db). */
typedef int zx_wait_check(void *baton, zx_request *req, const char **err);

/* The device re-check when woken, before check: 1 it answered the request (resp is filled),
 * 0 the wait goes on, -1 and *err not possible now (tried again a little later).  The
 * pipeline's is zx_device_recheck (zxsync/gate.h). */
typedef int zx_wait_recheck(const zx_server *srv, zx_request *req, zx_response *resp,
                            const char **err);

typedef enum {
    ZX_WAITED_READY = 0,      /* check said yes */
    ZX_WAITED_TIMEOUT,        /* the interval ended */
    ZX_WAITED_SUPERSEDED,     /* a newer Ping/Sync of the device */
    ZX_WAITED_SHUTDOWN,       /* the process stops */
    ZX_WAITED_SHED,           /* the process holds its maximum of waiters: answer, close the
                                 connection (the client reconnects, maybe to another process) */
    ZX_WAITED_HANGUP,         /* the client went away */
    ZX_WAITED_GATED,          /* a device gate answered: resp is filled */
    ZX_WAITED_ERROR           /* the first check failed (*err) */
} zx_waited;

/* Has the client hung up (or reset its connection)?  Looks without waiting; 0 when the host
 * gave no socket.  A long computation checks it between steps and stops. */
int zx_client_gone(const zx_request *req);

/* Check, and wait up to seconds for check to say yes; when woken, device_recheck first (NULL:
 * none).  cmd names the command in log lines. */
zx_waited zx_eas_wait(const zx_server *srv, zx_request *req, zx_response *resp,
                      const char *cmd, long long wait_id, int seconds,
                      const zx_push_settings *ps, zx_wait_recheck *device_recheck,
                      zx_wait_check *check, void *baton, const char **err);

#endif
