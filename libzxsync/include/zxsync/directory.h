/* zxmobile - the directory: domains, classes of service, accounts.
 *
 * Names are case-insensitive (stored lower-case).  Attributes come as name/value pairs in
 * zmprov's style: the columns displayName, zimbraAccountStatus (active|locked|closed) and
 * zimbraCOSId (a COS name or id) of an account, and every attribute of the registry
 * (zxsync/attrs.h) that the level allows.  In modify functions a
 * name prefixed "+" adds a value to a multi-valued attribute and "-" removes one, an empty
 * value removes the attribute, and a multi-valued attribute given several times gets all the
 * values.  Every value is checked before anything is written, and the whole change is one
 * transaction.  Passwords are not attributes here: see zxsync/auth.h.
 *
 * The directory sits below the configuration store (zxsync/config.h, which finds accounts,
 * domains and COS here) and above the registry and config_values.h, which write its
 * attributes.
 */
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
    const char *cos;           /* COS name, may be NULL (then the "default" COS applies) */
    const char *created_at;
    apr_table_t *attrs;        /* registry attributes set on the account (canonical name ->
                                * value; a multi-valued one has one entry per value) */
    const char *cos_id;        /* may be NULL */
    const char *domain_id;
} zx_account;

typedef struct {
    const char *id;
    const char *name;
    const char *created_at;
    int accounts;              /* accounts in it */
    apr_table_t *attrs;        /* registry attributes set at this level, as zx_account's */
} zx_cos, zx_domain;

/* Normalise "User@Example.COM" -> "user@example.com"; NULL when not a valid address.
 * local and domain (optional) receive the parts. */
const char *zx_account_name_normalize(apr_pool_t *p, const char *name, const char **local,
                                      const char **domain);
int zx_domain_name_valid(const char *name);

/* Who an administrator means: an account by name (user@domain, any case) or by uuid (as the
 * Zextras CLI accepts).  The one look-up of the admin paths (config levels, device and ABQ
 * administration). */
typedef struct {
    const char *id;
    const char *name;          /* local@domain, as stored */
    const char *cos_id;        /* may be NULL */
    const char *domain_id;
} zx_account_ref;
/* 1 found (*out), 0 no such account (*err says so), -1 error (*err). */
int zx_dir_find_account(apr_pool_t *p, zx_db *db, const char *name_or_uuid, zx_account_ref *out,
                        const char **err);
/* The id (as text; the key of its configuration values) of an account by name or uuid, of a
 * domain by name, of a COS by name or id, all case-insensitive.  1 found (*id), 0 no such
 * account/domain/COS (*err says so), -1 error (*err). */
int zx_dir_account_id(apr_pool_t *p, zx_db *db, const char *name_or_uuid, const char **id,
                      const char **err);
int zx_dir_domain_id(apr_pool_t *p, zx_db *db, const char *name, const char **id,
                     const char **err);
int zx_dir_cos_id(apr_pool_t *p, zx_db *db, const char *name_or_id, const char **id,
                  const char **err);
int zx_cos_name_valid(const char *name);

/* Domains.  get: 1 found, 0 not found, -1 error.  delete refuses a domain with accounts. */
int zx_dir_create_domain(apr_pool_t *p, zx_db *db, const char *name, const char **err);
int zx_dir_get_domain(apr_pool_t *p, zx_db *db, const char *name, zx_domain **out,
                      const char **err);
int zx_dir_list_domains(apr_pool_t *p, zx_db *db, apr_array_header_t **out,
                        const char **err);   /* out: zx_domain * */
int zx_dir_modify_domain(apr_pool_t *p, zx_db *db, const char *name,
                         const apr_array_header_t *attrs, const char **err);
int zx_dir_delete_domain(apr_pool_t *p, zx_db *db, const char *name, const char **err);

/* Classes of service (by name or numeric id).  delete refuses "default" and a COS in use. */
int zx_dir_create_cos(apr_pool_t *p, zx_db *db, const char *name,
                      const apr_array_header_t *attrs, zx_cos **out, const char **err);
int zx_dir_get_cos(apr_pool_t *p, zx_db *db, const char *name, zx_cos **out,
                   const char **err);
int zx_dir_list_cos(apr_pool_t *p, zx_db *db, apr_array_header_t **out,
                    const char **err);   /* out: zx_cos * */
int zx_dir_modify_cos(apr_pool_t *p, zx_db *db, const char *name,
                      const apr_array_header_t *attrs, const char **err);
int zx_dir_delete_cos(apr_pool_t *p, zx_db *db, const char *name, const char **err);

/* Accounts.  password may be NULL (no password).  get: 1 found, 0 not found, -1 error. */
int zx_dir_create_account(apr_pool_t *p, zx_db *db, const char *name, const char *password,
                          const apr_array_header_t *attrs, zx_account **out, const char **err);
int zx_dir_get_account(apr_pool_t *p, zx_db *db, const char *name, zx_account **out,
                       const char **err);
int zx_dir_list_accounts(apr_pool_t *p, zx_db *db, const char *domain,
                         apr_array_header_t **out, const char **err);   /* out: zx_account * */
int zx_dir_modify_account(apr_pool_t *p, zx_db *db, const char *name,
                          const apr_array_header_t *attrs, const char **err);
int zx_dir_delete_account(apr_pool_t *p, zx_db *db, const char *name, const char **err);

#endif
