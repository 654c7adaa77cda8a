/* zxmobile - the configuration store ("zxsuite config", and the account/COS attributes of
 * "zxsuite prov").
 *
 * Every attribute is registered once, as data, in attrs.def: name, type, allowed levels,
 * default, range, description.  Values live in PostgreSQL at the levels global, server,
 * domain, cos and account; the effective value for a request resolves
 * account -> cos -> domain -> server -> global -> built-in default, over the levels the
 * attribute allows.
 */
#ifndef ZXSYNC_CONFIG_H
#define ZXSYNC_CONFIG_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <zxsync/db.h>

typedef enum {
    ZX_LEVEL_NONE = 0,          /* the built-in default */
    ZX_LEVEL_GLOBAL = 1 << 0,
    ZX_LEVEL_SERVER = 1 << 1,
    ZX_LEVEL_DOMAIN = 1 << 2,
    ZX_LEVEL_COS = 1 << 3,
    ZX_LEVEL_ACCOUNT = 1 << 4
} zx_level;

typedef enum {
    ZX_ATTR_BOOL,       /* TRUE/FALSE (input also true/false, 1/0, yes/no; stored TRUE/FALSE) */
    ZX_ATTR_INT,        /* integer within [min, max] */
    ZX_ATTR_STRING,     /* free text (max = maximum length when > 0) */
    ZX_ATTR_ENUM        /* one of enum_values ("A|B|C"), matched case-insensitively */
} zx_attr_type;

typedef struct {
    const char *name;
    zx_attr_type type;
    unsigned levels;            /* ZX_LEVEL_* mask */
    const char *def;            /* built-in default as text ("" = none) */
    long long min, max;
    const char *enum_values;
    int multi;                  /* multi-valued (zmprov +attr/-attr) */
    const char *unit;           /* "ms", "s", "minutes", "days", "KB" or NULL */
    const char *description;
} zx_attr_def;

const zx_attr_def *zx_attr_find(const char *name);          /* case-insensitive, NULL if unknown */
const zx_attr_def *zx_attr_all(apr_size_t *count);
const char *zx_level_name(zx_level level);                  /* "global", ... */
zx_level zx_level_parse(const char *name);                  /* NONE if unknown */
/* Check and normalise a value for attr (bool -> TRUE/FALSE, enum -> canonical case). */
int zx_attr_validate(apr_pool_t *p, const zx_attr_def *attr, const char *value,
                     const char **normalized, const char **err);

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
const char *zx_config_default(const char *name);     /* built-in default, "" if none */
int zx_config_is_true(const char *v);                /* TRUE, 1, yes (case-insensitive) */

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

/* ---- services (spec section 14): state shared by every node through the database ------- */
typedef struct {
    const char *name;           /* module, activesync, autodiscover, abq, anti-dos */
    int running;
    int could_start;
    int could_stop;
    const char *could_not_start_because;   /* NULL or the reason */
} zx_service_state;

int zx_services_list(apr_pool_t *p, zx_db *db, apr_array_header_t **states, const char **err);
/* action: "start", "stop", "restart"; refuses unknown services and impossible actions. */
int zx_service_control(apr_pool_t *p, zx_db *db, const char *name, const char *action,
                       const char **message, const char **err);
int zx_service_running(apr_pool_t *p, zx_db *db, const char *name, int *running,
                       const char **err);

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

typedef enum {
    ZX_CONFIG_REPLACE,      /* set (all values of a multi-valued attribute) */
    ZX_CONFIG_ADD,          /* add one value to a multi-valued attribute (zmprov +attr) */
    ZX_CONFIG_REMOVE,       /* remove one value of a multi-valued attribute (zmprov -attr) */
    ZX_CONFIG_UNSET         /* remove the attribute at that level */
} zx_config_op;

/* Write at one level with an already resolved key (zx_config_target_key), e.g. inside the
 * caller's own transaction (it opens none when one is in progress).  Validates the attribute,
 * the level and the value as zx_config_set() does. */
int zx_config_write(apr_pool_t *p, zx_db *db, zx_level level, const char *key,
                    const char *name, zx_config_op op, const char *value, const char **err);
/* zmprov +attr / -attr by target name.  Removing a value that is not there changes nothing. */
int zx_config_add(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                  const char *name, const char *value, const char **err);
int zx_config_remove(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                     const char *name, const char *value, const char **err);

/* 0 when attr may be set at level, else -1 and *err naming the allowed levels. */
int zx_attr_check_level(apr_pool_t *p, const zx_attr_def *attr, zx_level level,
                        const char **err);

/* The canonical name of a service ("activesync-services" -> "activesync"), NULL if unknown. */
const char *zx_service_name(const char *name);
/* How many times doRestartService ran for the service (0 if never): the anti-DoS filter resets
 * its jails when this changes. */
int zx_service_restart_count(apr_pool_t *p, zx_db *db, const char *name, long long *count,
                             const char **err);

#endif
