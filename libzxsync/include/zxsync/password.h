/* zxmobile - password hashes in crypt(3) format (libxcrypt): yescrypt for new hashes, and
 * every format libxcrypt verifies ($y$, $gy$, $7$, $2b$, $6$, $5$, ...) for imported ones. */
#ifndef ZXSYNC_PASSWORD_H
#define ZXSYNC_PASSWORD_H

#include <apr_pools.h>
#include <apr_time.h>

#define ZX_PASSWORD_DEFAULT_PREFIX "$y$"

/* Hash password with a fresh random salt.  prefix NULL = yescrypt.  -1 and *err on failure. */
int zx_password_hash(apr_pool_t *p, const char *password, const char *prefix,
                     const char **hash, const char **err);
/* 1 when password matches hash, 0 otherwise (also for a malformed or empty hash). */
int zx_password_verify(apr_pool_t *p, const char *password, const char *hash);
/* 1 when s looks like a crypt(3) hash libxcrypt can check. */
int zx_password_is_hash(const char *s);

/* ---- bounding the hashing work of one process --------------------------------------------
 * A yescrypt verification costs tens of milliseconds of CPU: a flood of logins that need one
 * must not take every core (and, worse, every database connection) of an httpd child.  The
 * gate is a counting semaphore: at most `slots` verifications run at once in the process; a
 * caller waits up to wait_ms for a slot, then is refused (the login answers 503 with
 * Retry-After).  A login a cached verification vouches for never needs a slot. */
typedef struct zx_hash_gate zx_hash_gate;
/* slots 0: 4; wait_ms 0: 1000. */
zx_hash_gate *zx_hash_gate_create(apr_pool_t *p, unsigned slots, unsigned wait_ms);
/* 0 when the caller holds a slot (give it back with zx_hash_gate_leave); -1 when every slot
 * stayed busy for wait_ms.  *report (optional) is set to the number of refusals of the
 * previous report_interval when this refusal is the first of a new interval (the caller logs
 * one summarising line then), else to -1; intervals are ZX_HASH_GATE_REPORT_SECONDS long. */
#define ZX_HASH_GATE_REPORT_SECONDS 60
int zx_hash_gate_enter(zx_hash_gate *g, long *report);
void zx_hash_gate_leave(zx_hash_gate *g);
typedef struct {
    unsigned slots, busy, waiting;
    unsigned long entered, refused;
} zx_hash_gate_stats;
void zx_hash_gate_stats_get(zx_hash_gate *g, zx_hash_gate_stats *st);

#endif
