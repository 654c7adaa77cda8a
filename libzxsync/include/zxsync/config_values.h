/* zxmobile - the stored configuration values: write one attribute of the registry
 * (zxsync/attrs.h) at a level and an already resolved key.  Reading, effective values and
 * writing by target name are in zxsync/config.h. */
#ifndef ZXSYNC_CONFIG_VALUES_H
#define ZXSYNC_CONFIG_VALUES_H

#include <apr_pools.h>
#include <zxsync/attrs.h>
#include <zxsync/db.h>

typedef enum {
    ZX_CONFIG_REPLACE,      /* set (all values of a multi-valued attribute) */
    ZX_CONFIG_ADD,          /* add one value to a multi-valued attribute (zmprov +attr) */
    ZX_CONFIG_REMOVE,       /* remove one value of a multi-valued attribute (zmprov -attr) */
    ZX_CONFIG_UNSET         /* remove the attribute at that level */
} zx_config_op;

/* Write at one level with an already resolved key (zx_config_target_key: "" for global, the
 * lower-case server name, the numeric id (as text) of the domain, COS or account), e.g. inside
 * the caller's own transaction (it opens none when one is in progress).  Validates the
 * attribute, the level and the value as zx_config_set() does.  Multi-valued attributes are
 * stored as one string, one value per line; ZX_CONFIG_REPLACE of a multi-valued attribute
 * replaces all its values with the given lines. */
int zx_config_write(apr_pool_t *p, zx_db *db, zx_level level, const char *key,
                    const char *name, zx_config_op op, const char *value, const char **err);

#endif
