/* zxmobile - the configuration store above the directory: target names to keys, scopes, the
 * effective value of an attribute (resolution), reading, writing by target name, dump.  The
 * registry is attrs.c, the write of one value at a key config_values.c, the services
 * services.c.
 *
 * Storage: one row per (level, target, attribute) in config_values (sql/002_config.sql);
 * target "" for global, the lower-case server name, or the numeric id of the
 * domain/COS/account; attribute names lower-case; the values of a multi-valued attribute in
 * one row, one per line.
 */
#include <zxsync/config.h>
#include <zxsync/directory.h>
#include <zxsync/text.h>

#include <apr_strings.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- server name, targets, scopes -------------------------------------------------------------- */

static int server_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '.' && c != '-' && c != '_')
            return 0;
    }
    return 1;
}

const char *zx_config_server_name(apr_pool_t *p)
{
    const char *env = getenv("ZXMOBILE_SERVER_NAME");
    if (env && server_name_valid(env))
        return zx_str_lower(p, env);
    char host[256];
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        if (server_name_valid(host))
            return zx_str_lower(p, host);
    }
    return "localhost";
}

static const char *single_value(apr_pool_t *p, PGresult *res)
{
    const char *v = PQntuples(res) > 0 ? apr_pstrdup(p, PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    return v;
}

/* Account by name (user@domain) or uuid: its id, COS id (NULL = none) and domain id. */
static int find_account(apr_pool_t *p, zx_db *db, const char *name, const char **id,
                        const char **cos_id, const char **domain_id, const char **err)
{
    zx_account_ref a;
    int rc = zx_dir_find_account(p, db, name, &a, err);
    if (rc == 1) {
        *id = a.id;
        if (cos_id)
            *cos_id = a.cos_id;
        if (domain_id)
            *domain_id = a.domain_id;
    }
    return rc;
}

int zx_config_target_key(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                         const char **key, const char **err)
{
    switch (level) {
    case ZX_LEVEL_GLOBAL:
        *key = "";
        return 1;
    case ZX_LEVEL_SERVER:
        if (!server_name_valid(target)) {
            *err = apr_psprintf(p, "invalid server name \"%s\"", target ? target : "");
            return 0;
        }
        *key = zx_str_lower(p, target);
        return 1;
    case ZX_LEVEL_DOMAIN:
        return zx_dir_domain_id(p, db, target, key, err);
    case ZX_LEVEL_COS:
        return zx_dir_cos_id(p, db, target, key, err);
    case ZX_LEVEL_ACCOUNT:
        return zx_dir_account_id(p, db, target, key, err);
    default:
        *err = "unknown configuration level";
        return 0;
    }
}

int zx_config_account_scope(apr_pool_t *p, zx_db *db, const char *account_name,
                            zx_config_scope *scope, const char **err)
{
    memset(scope, 0, sizeof *scope);
    int rc = find_account(p, db, account_name, &scope->account_id, &scope->cos_id,
                          &scope->domain_id, err);
    if (rc == 1)
        scope->server = zx_config_server_name(p);
    return rc;
}

int zx_config_level_scope(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                          zx_config_scope *scope, const char **err)
{
    memset(scope, 0, sizeof *scope);
    if (level == ZX_LEVEL_ACCOUNT) {
        int rc = zx_config_account_scope(p, db, target, scope, err);
        if (rc == 0)
            *err = apr_psprintf(p, "no such account: %s", target ? target : "");
        return rc;
    }
    const char *key;
    int rc = zx_config_target_key(p, db, level, target, &key, err);
    if (rc != 1)
        return rc;
    if (level == ZX_LEVEL_COS)
        scope->cos_id = key;
    else if (level == ZX_LEVEL_DOMAIN)
        scope->domain_id = key;
    else if (level == ZX_LEVEL_SERVER)
        scope->server = key;
    return 1;
}

/* ---- resolution -------------------------------------------------------------------------------- */

/* zx_config_resolve's statement: the columns, the name, the account, COS, cos_default
 * (boolean: use the "default" COS), domain and server targets and global (boolean). */
#define RESOLVE_FMT                                                                          \
    "SELECT %s FROM config_values "                                                          \
    " WHERE name = %s AND ("                                                                 \
    "       (level = 'account' AND target = %s)"                                             \
    "    OR (level = 'cos' AND target = COALESCE(%s, CASE WHEN %s THEN "                     \
    "            (SELECT id::text FROM cos WHERE name = 'default') END))"                    \
    "    OR (level = 'domain' AND target = %s)"                                              \
    "    OR (level = 'server' AND target = %s)"                                              \
    "    OR (level = 'global' AND target = '' AND %s))"                                      \
    " ORDER BY CASE level WHEN 'account' THEN 1 WHEN 'cos' THEN 2 WHEN 'domain' THEN 3 "     \
    "                     WHEN 'server' THEN 4 ELSE 5 END"                                   \
    " LIMIT 1"

const char *zx_config_resolve_subquery(apr_pool_t *p, const char *name, const char *account,
                                       const char *cos, const char *domain,
                                       const char *name_param, const char *server_param,
                                       const char **err)
{
    const zx_attr_def *a = zx_attr_need(p, name, err);
    if (!a)
        return NULL;
    unsigned m = a->levels;
    int has_cos = (m & ZX_LEVEL_COS) != 0;
    return apr_pstrcat(p, "(",
                       apr_psprintf(p, RESOLVE_FMT, "value", name_param,
                                    (m & ZX_LEVEL_ACCOUNT) ? account : "NULL::text",
                                    has_cos ? cos : "NULL::text",
                                    has_cos ? apr_pstrcat(p, "(", cos, ") IS NULL", NULL) : "false",
                                    (m & ZX_LEVEL_DOMAIN) ? domain : "NULL::text",
                                    server_param, (m & ZX_LEVEL_GLOBAL) ? "true" : "false"),
                       ")", NULL);
}

int zx_config_resolve_params(apr_pool_t *p, const char *name, const char *server,
                             const char *params[2], const char **err)
{
    const zx_attr_def *a = zx_attr_need(p, name, err);
    if (!a)
        return -1;
    params[0] = zx_str_lower(p, a->name);
    params[1] = (a->levels & ZX_LEVEL_SERVER) && server ? zx_str_lower(p, server) : NULL;
    return 0;
}

/* The hot path: one statement, the most specific level wins.  A scope with an account but no
 * COS falls back to the "default" COS, as accounts without a COS are in it. */
int zx_config_resolve(apr_pool_t *p, zx_db *db, const zx_config_scope *scope, const char *name,
                      const char **value, zx_level *from, const char **err)
{
    const zx_attr_def *a = zx_attr_need(p, name, err);
    if (!a)
        return -1;
    unsigned m = a->levels;
    int cos_default = (m & ZX_LEVEL_COS) && scope->account_id && !scope->cos_id;
    const char *params[] = {
        zx_str_lower(p, a->name),
        (m & ZX_LEVEL_ACCOUNT) ? scope->account_id : NULL,
        (m & ZX_LEVEL_COS) ? scope->cos_id : NULL,
        (m & ZX_LEVEL_DOMAIN) ? scope->domain_id : NULL,
        (m & ZX_LEVEL_SERVER) && scope->server ? zx_str_lower(p, scope->server) : NULL,
        (m & ZX_LEVEL_GLOBAL) ? "t" : "f",
        cos_default ? "t" : "f",
    };
    PGresult *res = zx_db_exec(
        db,
        apr_psprintf(p, RESOLVE_FMT, "level, value", "$1", "$2", "$3", "$7::boolean", "$4", "$5",
                     "$6::boolean"),
        7, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) > 0) {
        if (from)
            *from = zx_level_parse(PQgetvalue(res, 0, 0));
        *value = apr_pstrdup(p, PQgetvalue(res, 0, 1));
    }
    else {
        if (from)
            *from = ZX_LEVEL_NONE;
        *value = a->def ? a->def : "";
    }
    PQclear(res);
    return 0;
}

int zx_config_resolve_bool(apr_pool_t *p, zx_db *db, const zx_config_scope *scope,
                           const char *name, int *out, const char **err)
{
    const char *v;
    if (zx_config_resolve(p, db, scope, name, &v, NULL, err) < 0)
        return -1;
    *out = zx_config_is_true(v);
    return 0;
}

int zx_config_resolve_int(apr_pool_t *p, zx_db *db, const zx_config_scope *scope,
                          const char *name, long long *out, const char **err)
{
    const char *v;
    if (zx_config_resolve(p, db, scope, name, &v, NULL, err) < 0)
        return -1;
    if (zx_attr_parse_int(v, out) < 0) {
        *err = apr_psprintf(p, "attribute %s has the non-integer value \"%s\"", name, v);
        return -1;
    }
    return 0;
}

/* ---- reading and writing by target name --------------------------------------------------- */

static int write_by_target(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                           const char *name, zx_config_op op, const char *value,
                           const char **err)
{
    /* Check attribute, level and value before looking the target up: cheaper, and the
     * clearer error when both are wrong. */
    const zx_attr_def *a = zx_attr_need(p, name, err);
    if (!a || zx_attr_check_level(p, a, level, err) < 0)
        return -1;
    const char *norm;
    if (op != ZX_CONFIG_UNSET && zx_attr_validate(p, a, value, &norm, err) < 0)
        return -1;
    const char *key;
    int rc = zx_config_target_key(p, db, level, target, &key, err);
    if (rc != 1)
        return -1;
    return zx_config_write(p, db, level, key, name, op, value, err);
}

int zx_config_set(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                  const char *name, const char *value, const char **err)
{
    return write_by_target(p, db, level, target, name, ZX_CONFIG_REPLACE, value, err);
}

int zx_config_unset(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                    const char *name, const char **err)
{
    return write_by_target(p, db, level, target, name, ZX_CONFIG_UNSET, NULL, err);
}

int zx_config_add(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                  const char *name, const char *value, const char **err)
{
    return write_by_target(p, db, level, target, name, ZX_CONFIG_ADD, value, err);
}

int zx_config_remove(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                     const char *name, const char *value, const char **err)
{
    return write_by_target(p, db, level, target, name, ZX_CONFIG_REMOVE, value, err);
}

int zx_config_get(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                  const char *name, const char **value, const char **err)
{
    const zx_attr_def *a = zx_attr_need(p, name, err);
    if (!a || zx_attr_check_level(p, a, level, err) < 0)
        return -1;
    const char *key;
    if (zx_config_target_key(p, db, level, target, &key, err) != 1)
        return -1;
    const char *params[] = {zx_level_name(level), key, zx_str_lower(p, a->name)};
    PGresult *res = zx_db_exec(db, "SELECT value FROM config_values WHERE level = $1 "
                                   "AND target = $2 AND name = $3", 3, params, err);
    if (!res)
        return -1;
    *value = single_value(p, res);
    return 0;
}

/* ---- dump -------------------------------------------------------------------------------------- */

static int cmp_entry(const void *x, const void *y)
{
    const zx_config_entry *a = x, *b = y;
    return strcasecmp(a->name, b->name);
}

int zx_config_dump(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                   int inherited, apr_array_header_t **entries, const char **err)
{
    if (zx_level_rank(level) < 0) {
        *err = "unknown configuration level (global, server, domain, cos, account)";
        return -1;
    }
    zx_config_scope sc;
    if (zx_config_level_scope(p, db, level, target, &sc, err) != 1)
        return -1;
    const char *key = level == ZX_LEVEL_ACCOUNT ? sc.account_id : level == ZX_LEVEL_COS ? sc.cos_id
                    : level == ZX_LEVEL_DOMAIN ? sc.domain_id : level == ZX_LEVEL_SERVER ? sc.server
                    : "";
    apr_array_header_t *out = apr_array_make(p, 32, sizeof(zx_config_entry));
    PGresult *res;
    if (!inherited) {
        const char *params[] = {zx_level_name(level), key};
        res = zx_db_exec(db, "SELECT name, value FROM config_values WHERE level = $1 "
                             "AND target = $2", 2, params, err);
        if (!res)
            return -1;
        for (int i = 0; i < PQntuples(res); i++) {
            const zx_attr_def *a = zx_attr_find(PQgetvalue(res, i, 0));
            zx_config_entry *e = apr_array_push(out);
            e->name = a ? a->name : apr_pstrdup(p, PQgetvalue(res, i, 0));
            e->value = apr_pstrdup(p, PQgetvalue(res, i, 1));
            e->from = level;
        }
        PQclear(res);
    }
    else {
        /* Every value in scope in one query, then the most specific allowed level per
         * attribute. */
        int cos_default = sc.account_id && !sc.cos_id;
        const char *params[] = {sc.account_id, sc.cos_id, sc.domain_id, sc.server,
                                cos_default ? "t" : "f"};
        res = zx_db_exec(
            db,
            "SELECT level, name, value FROM config_values "
            " WHERE (level = 'account' AND target = $1)"
            "    OR (level = 'cos' AND target = COALESCE($2, CASE WHEN $5::boolean THEN "
            "            (SELECT id::text FROM cos WHERE name = 'default') END))"
            "    OR (level = 'domain' AND target = $3)"
            "    OR (level = 'server' AND target = $4)"
            "    OR (level = 'global' AND target = '')",
            5, params, err);
        if (!res)
            return -1;
        apr_size_t n;
        const zx_attr_def *all = zx_attr_all(&n);
        for (apr_size_t k = 0; k < n; k++) {
            const zx_attr_def *a = &all[k];
            if (!(a->levels & level))
                continue;
            zx_config_entry *e = apr_array_push(out);
            e->name = a->name;
            e->value = a->def ? a->def : "";
            e->from = ZX_LEVEL_NONE;
            int best = -1;      /* rank of the level the value comes from */
            for (int i = 0; i < PQntuples(res); i++) {
                if (strcasecmp(PQgetvalue(res, i, 1), a->name) != 0)
                    continue;
                zx_level l = zx_level_parse(PQgetvalue(res, i, 0));
                if (!(a->levels & l))
                    continue;
                int r = zx_level_rank(l);
                if (best < 0 || r < best) {
                    best = r;
                    e->value = apr_pstrdup(p, PQgetvalue(res, i, 2));
                    e->from = l;
                }
            }
        }
        PQclear(res);
    }
    qsort(out->elts, (size_t)out->nelts, sizeof(zx_config_entry), cmp_entry);
    *entries = out;
    return 0;
}
