/* zxmobile - the configuration store ("zxsuite config", and the account/COS attributes of
 * "zxsuite prov"): target names, scopes, effective values, reading and writing by target.
 *
 * Every attribute is registered once, as data, in attrs.def: name, type, allowed levels,
 * default, range, description (zxsync/attrs.h).  Values live in PostgreSQL at the levels
 * global, server, domain, cos and account (zxsync/config_values.h writes them); the effective
 * value for a request resolves account -> cos -> domain -> server -> global -> built-in
 * default, over the levels the attribute allows.
 *
 * This header includes attrs.h, config_values.h and services.h, so that a file that includes
 * it sees the whole configuration store; code below the directory (core/directory.c) includes
 * attrs.h and config_values.h only.
 */
#ifndef ZXSYNC_CONFIG_H
#define ZXSYNC_CONFIG_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <zxsync/attrs.h>
#include <zxsync/config_values.h>
#include <zxsync/db.h>
#include <zxsync/services.h>

/* Where a lookup happens: ids (as text) of the account, its COS and its domain, and the
 * server name.  NULL members skip that level. */
typedef struct {
    const char *account_id;
    const char *cos_id;
    const char *domain_id;
    const char *server;
} zx_config_scope;

/* This node's server name (ZXMOBILE_SERVER_NAME, else the host name). */
const char *zx_config_server_name(apr_pool_t *p);

/* Scope of the account (by name, case-insensitive).  1 found, 0 unknown account, -1 error. */
int zx_config_account_scope(apr_pool_t *p, zx_db *db, const char *account_name,
                            zx_config_scope *scope, const char **err);

/* Effective value in one database round trip.  *value is never NULL for a registered
 * attribute (the default, possibly "").  *from (optional) is where it came from. */
int zx_config_resolve(apr_pool_t *p, zx_db *db, const zx_config_scope *scope, const char *name,
                      const char **value, zx_level *from, const char **err);
int zx_config_resolve_bool(apr_pool_t *p, zx_db *db, const zx_config_scope *scope,
                           const char *name, int *out, const char **err);
int zx_config_resolve_int(apr_pool_t *p, zx_db *db, const zx_config_scope *scope,
                          const char *name, long long *out, const char **err);

/* zx_config_resolve's statement as a scalar subquery ("(SELECT value FROM config_values ...)")
 * for a statement that resolves an attribute along with other data, such as the account
 * itself: account, cos and domain are SQL expressions of the ids (as text) in that statement,
 * name_param and server_param its parameters that take zx_config_resolve_params' values.  The
 * levels the attribute does not allow are left out of the text, so that a prepared statement
 * can keep one plan.  No row: the attribute's default (zx_config_default).  NULL (*err) for an
 * unknown attribute. */
const char *zx_config_resolve_subquery(apr_pool_t *p, const char *name, const char *account,
                                       const char *cos, const char *domain,
                                       const char *name_param, const char *server_param,
                                       const char **err);
/* The parameters of that subquery: the lower-case name, and the lower-case server when the
 * attribute allows the server level (else NULL). */
int zx_config_resolve_params(apr_pool_t *p, const char *name, const char *server,
                             const char *params[2], const char **err);

/* Set/unset/get a value at one level.  target names the server, domain, COS or account
 * (ignored for global).  Refuses unknown attributes, levels the attribute does not allow,
 * unknown targets and invalid values, with a clear *err. */
int zx_config_set(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                  const char *name, const char *value, const char **err);
int zx_config_unset(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                    const char *name, const char **err);
/* *value NULL when not set at that level. */
int zx_config_get(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                  const char *name, const char **value, const char **err);

typedef struct {
    const char *name;
    const char *value;
    zx_level from;              /* level the value was set at (NONE = default) */
} zx_config_entry;

/* Values set at one level; with inherited, the effective value of every attribute that level
 * allows.  Entries sorted by name. */
int zx_config_dump(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                   int inherited, apr_array_header_t **entries, const char **err);

/* ---- additions (beyond the first contract) ---------------------------------------------------
 * Multi-valued attributes are stored and returned as one string, one value per line ('\n');
 * zx_config_set() of a multi-valued attribute replaces all its values with the given lines. */

/* The stored key of a target: "" for global, the lower-case server name, the numeric id (as
 * text) of the domain, COS or account.  target is the domain name, the COS name or id, the
 * account name (user@domain, case-insensitive) or the server name.  Returns 1 found, 0 unknown
 * target (*err says which), -1 error. */
int zx_config_target_key(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                         const char **key, const char **err);

/* The scope that decides the effective value seen at one level: an account sees its own
 * values, its COS (the "default" COS when it has none), its domain, this server
 * (zx_config_server_name) and global; a COS, a domain or a server sees itself and global;
 * global sees global.  1 found, 0 unknown target, -1 error. */
int zx_config_level_scope(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                          zx_config_scope *scope, const char **err);

/* zmprov +attr / -attr by target name.  Removing a value that is not there changes nothing. */
int zx_config_add(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                  const char *name, const char *value, const char **err);
int zx_config_remove(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                     const char *name, const char *value, const char **err);

#endif
