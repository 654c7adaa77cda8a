/* zxmobile - the mobile anti-DoS filter (spec section 5, the "anti-dos" service).
 *
 * Per (account, DeviceId) the filter keeps the times of the last mobileAntiDosServiceMaxRequests
 * accepted requests.  A request that arrives while that many requests were already accepted
 * within mobileAntiDosServiceTimeWindow ms is refused and jails the device/account for
 * mobileAntiDosServiceJailDuration ms: every request of it is refused until the jail ends.
 *
 * The state lives in one memory region shared by every process of the host (mod_zxmobile maps
 * it anonymously in the httpd parent before it forks, so the limit holds whichever child serves
 * a request).  The algorithm works on any memory the host hands it and takes the clock as an
 * argument, so the unit test runs it on plain memory with a fake clock.
 *
 * The region is a fixed-size open-addressing hash table of slots, one per device/account.  A
 * key probes at most ZX_DOS_PROBE consecutive slots.  A slot whose device sent nothing within
 * the time window and is not jailed holds no information and is reused; when every probed slot
 * is in use, the least recently active unjailed one is evicted (its counters restart); when all
 * of them are jailed the request passes uncounted.  Each slot keeps up to `ring` timestamps:
 * up to that many requests per window the window is exact; above it the slot keeps the time of
 * every k-th request (k = ceil((MaxRequests - 1) / (ring - 1))) and jails once at least
 * MaxRequests and at most MaxRequests + k - 1 requests fell within the window.
 */
#ifndef ZXSYNC_DOS_H
#define ZXSYNC_DOS_H

#include <apr_global_mutex.h>
#include <apr_pools.h>
#include <stdint.h>

#include <zxsync/eas.h>

/* What mod_zxmobile allocates: 4096 devices active within one window per httpd, exact up to
 * 512 requests per window (about 8.5 MB of shared memory). */
#define ZX_DOS_DEFAULT_SLOTS 4096u
#define ZX_DOS_DEFAULT_RING 512u
#define ZX_DOS_PROBE 16u

typedef struct {
    long long max_requests;    /* mobileAntiDosServiceMaxRequests; <= 0: no check */
    long long window_ms;       /* mobileAntiDosServiceTimeWindow */
    long long jail_ms;         /* mobileAntiDosServiceJailDuration */
} zx_dos_limits;

typedef enum {
    ZX_DOS_PASS = 0,           /* accepted and counted */
    ZX_DOS_UNTRACKED,          /* accepted, not counted (no free slot: every probed one jailed) */
    ZX_DOS_JAILED,             /* refused: the device/account is in jail */
    ZX_DOS_NEW_JAIL            /* refused: this request exceeded the rate and started a jail */
} zx_dos_verdict;

/* ---- the algorithm on a memory region (no locking: the caller serialises) ----------------- */

/* Bytes a region of nslots slots of ring timestamps needs (ring >= 2). */
apr_size_t zx_dos_region_size(unsigned nslots, unsigned ring);
/* Format a region: every slot free, no generation seen yet.  -1 when size is too small. */
int zx_dos_region_init(void *mem, apr_size_t size, unsigned nslots, unsigned ring);
/* One request of key (e.g. "account/DeviceId") at now_ms.  *remaining_ms (optional) gets the
 * jail time left for JAILED and NEW_JAIL. */
zx_dos_verdict zx_dos_hit(void *mem, const char *key, long long now_ms,
                          const zx_dos_limits *lim, long long *remaining_ms);
/* Free every jail and forget every counter. */
void zx_dos_region_reset(void *mem);
/* doRestartService anti-dos: the services table counts restarts; the region remembers the
 * count it has applied.  When gen is higher, reset the region and remember gen; returns 1 when
 * it did.  The first count a region sees is taken without a reset. */
int zx_dos_region_sync(void *mem, long long gen);
/* Slots in use and jailed at now_ms (statistics and tests). */
void zx_dos_region_stats(void *mem, long long now_ms, unsigned *used, unsigned *jailed);

/* ---- the pipeline stage's view (per process) ------------------------------------------------ */

typedef struct zx_dos zx_dos;
struct zx_server;

/* lock: the cross-process lock guarding the region (NULL when one process uses it). */
zx_dos *zx_dos_create(apr_pool_t *p, void *region, apr_global_mutex_t *lock);

typedef struct {
    zx_dos_verdict verdict;
    long long remaining_ms;    /* jail left (JAILED, NEW_JAIL) */
    zx_dos_limits limits;      /* the limits applied */
} zx_dos_outcome;

/* Check one authenticated request.  The four attributes, whether the anti-dos service runs and
 * its restart count are read from the database at most every ZX_DOS_RECHECK seconds per
 * process (a request that finds them fresh costs no database round trip).  Returns 0 with
 * *out filled (PASS while the service does not run), -1 and *err when the settings could never
 * be read (the request then passes). */
#define ZX_DOS_RECHECK 2
int zx_dos_check(const struct zx_server *srv, zx_request *req, zx_dos_outcome *out,
                 const char **err);

/* A request started a jail: record a server notification and email the administrators
 * (ZxMobile_NotificationRecipients), once per jailing.  Failures are logged. */
void zx_dos_report_jail(const struct zx_server *srv, zx_request *req, const zx_dos_outcome *o);

#endif
