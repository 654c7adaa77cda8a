/* zxmobile - password hashes in crypt(3) format (libxcrypt): yescrypt for new hashes, and
 * every format libxcrypt verifies ($y$, $gy$, $7$, $2b$, $6$, $5$, ...) for imported ones. */
#ifndef ZXSYNC_PASSWORD_H
#define ZXSYNC_PASSWORD_H

#include <apr_pools.h>

#define ZX_PASSWORD_DEFAULT_PREFIX "$y$"

/* Hash password with a fresh random salt.  prefix NULL = yescrypt.  -1 and *err on failure. */
int zx_password_hash(apr_pool_t *p, const char *password, const char *prefix,
                     const char **hash, const char **err);
/* 1 when password matches hash, 0 otherwise (also for a malformed or empty hash). */
int zx_password_verify(apr_pool_t *p, const char *password, const char *hash);
/* 1 when s looks like a crypt(3) hash libxcrypt can check. */
int zx_password_is_hash(const char *s);

#endif
