/* zxmobile - the directory: domains, classes of service, accounts. */
#ifndef ZXSYNC_DIRECTORY_H
#define ZXSYNC_DIRECTORY_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <zxsync/db.h>

typedef struct {
    const char *id;
    const char *uuid;
    const char *name;          /* local@domain */
    const char *display_name;  /* may be NULL */
    const char *status;        /* active | locked | closed */
    const char *cos;           /* COS name, may be NULL */
    const char *created_at;
    apr_table_t *attrs;        /* other attributes (name -> value, multi-valued) */
} zx_account;

/* Normalise "User@Example.COM" -> "user@example.com"; NULL when not a valid address.
 * local and domain (optional) receive the parts. */
const char *zx_account_name_normalize(apr_pool_t *p, const char *name, const char **local,
                                      const char **domain);
int zx_domain_name_valid(const char *name);

int zx_dir_create_domain(apr_pool_t *p, zx_db *db, const char *name, const char **err);
/* attrs: name/value pairs (displayName, zimbraAccountStatus, zimbraCOSId,
 * zimbraFeatureMobileSyncEnabled).  password may be NULL (no password). */
int zx_dir_create_account(apr_pool_t *p, zx_db *db, const char *name, const char *password,
                          const apr_array_header_t *attrs, zx_account **out, const char **err);
/* Returns 1 found, 0 not found, -1 error. */
int zx_dir_get_account(apr_pool_t *p, zx_db *db, const char *name, zx_account **out,
                       const char **err);
int zx_dir_list_accounts(apr_pool_t *p, zx_db *db, const char *domain,
                         apr_array_header_t **out, const char **err);   /* out: zx_account * */

#endif
