/* zxmobile - the configuration store: the attribute registry (attrs.def), value validation,
 * values per level in PostgreSQL (table config_values, sql/002_config.sql) and the services
 * of the mobile module (table services).
 *
 * Storage: one row per (level, target, attribute); target "" for global, the lower-case server
 * name, or the numeric id of the domain/COS/account; attribute names lower-case; the values of a
 * multi-valued attribute in one row, one per line.
 */
#include <zxsync/config.h>
#include <zxsync/directory.h>

#include <apr_strings.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- the registry ----------------------------------------------------------------------------- */

static const zx_attr_def registry[] = {
#define ZX_ATTR(n, t, l, d, mi, ma, e, mu, u, desc) \
    {#n, ZX_ATTR_##t, (unsigned)(l), d, mi, ma, e, mu, u, desc},
#include <zxsync/attrs.def>
#undef ZX_ATTR
};
#define NATTRS (sizeof registry / sizeof registry[0])

const zx_attr_def *zx_attr_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < NATTRS; i++)
        if (strcasecmp(registry[i].name, name) == 0)
            return &registry[i];
    return NULL;
}

const zx_attr_def *zx_attr_all(apr_size_t *count)
{
    if (count)
        *count = NATTRS;
    return registry;
}

/* Levels in resolution order, most specific first. */
static const struct {
    zx_level level;
    const char *name;
} levels[] = {
    {ZX_LEVEL_ACCOUNT, "account"},
    {ZX_LEVEL_COS, "cos"},
    {ZX_LEVEL_DOMAIN, "domain"},
    {ZX_LEVEL_SERVER, "server"},
    {ZX_LEVEL_GLOBAL, "global"},
};
#define NLEVELS (sizeof levels / sizeof levels[0])

const char *zx_level_name(zx_level level)
{
    for (size_t i = 0; i < NLEVELS; i++)
        if (levels[i].level == level)
            return levels[i].name;
    return "default";
}

zx_level zx_level_parse(const char *name)
{
    for (size_t i = 0; name && i < NLEVELS; i++)
        if (strcasecmp(levels[i].name, name) == 0)
            return levels[i].level;
    return ZX_LEVEL_NONE;
}

static zx_level level_from_db(const char *s)
{
    return zx_level_parse(s);
}

/* "account, cos, global" (resolution order) */
static const char *levels_text(apr_pool_t *p, unsigned mask)
{
    const char *out = NULL;
    for (size_t i = 0; i < NLEVELS; i++)
        if (mask & levels[i].level)
            out = out ? apr_pstrcat(p, out, ", ", levels[i].name, NULL) : levels[i].name;
    return out ? out : "none";
}

static const char *lower(apr_pool_t *p, const char *s)
{
    char *l = apr_pstrdup(p, s ? s : "");
    for (char *c = l; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return l;
}

/* ---- validation ------------------------------------------------------------------------------- */

static int parse_ll(const char *s, long long *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static const char *enum_list(apr_pool_t *p, const char *values)
{
    char *s = apr_pstrdup(p, values ? values : "");
    const char *out = NULL;
    char *last;
    for (char *t = apr_strtok(s, "|", &last); t; t = apr_strtok(NULL, "|", &last))
        out = out ? apr_pstrcat(p, out, ", ", t, NULL) : t;
    return out ? out : "";
}

/* One value (not multi-line). */
static int validate_one(apr_pool_t *p, const zx_attr_def *a, const char *v, const char **norm,
                        const char **err)
{
    switch (a->type) {
    case ZX_ATTR_BOOL:
        if (!strcasecmp(v, "TRUE") || !strcasecmp(v, "yes") || !strcmp(v, "1")) {
            *norm = "TRUE";
            return 0;
        }
        if (!strcasecmp(v, "FALSE") || !strcasecmp(v, "no") || !strcmp(v, "0")) {
            *norm = "FALSE";
            return 0;
        }
        *err = apr_psprintf(p, "invalid value \"%s\" for %s: expected TRUE or FALSE", v, a->name);
        return -1;
    case ZX_ATTR_INT: {
        long long n;
        if (parse_ll(v, &n) < 0 || n < a->min || n > a->max) {
            *err = apr_psprintf(p, "invalid value \"%s\" for %s: expected an integer from %"
                                   APR_INT64_T_FMT " to %" APR_INT64_T_FMT "%s%s", v, a->name,
                                (apr_int64_t)a->min, (apr_int64_t)a->max,
                                a->unit ? " " : "", a->unit ? a->unit : "");
            return -1;
        }
        *norm = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)n);
        return 0;
    }
    case ZX_ATTR_ENUM: {
        char *s = apr_pstrdup(p, a->enum_values ? a->enum_values : "");
        char *last;
        for (char *t = apr_strtok(s, "|", &last); t; t = apr_strtok(NULL, "|", &last)) {
            if (strcasecmp(t, v) == 0) {
                *norm = t;
                return 0;
            }
        }
        *err = apr_psprintf(p, "invalid value \"%s\" for %s: expected one of %s", v, a->name,
                            enum_list(p, a->enum_values));
        return -1;
    }
    case ZX_ATTR_STRING:
        for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
            if (*c < 0x20 || *c == 0x7f) {
                *err = apr_psprintf(p, "invalid value for %s: control characters are not "
                                       "allowed", a->name);
                return -1;
            }
        }
        if (a->max > 0 && (long long)strlen(v) > a->max) {
            *err = apr_psprintf(p, "invalid value for %s: longer than %" APR_INT64_T_FMT
                                   " bytes", a->name, (apr_int64_t)a->max);
            return -1;
        }
        *norm = v;
        return 0;
    }
    *err = apr_psprintf(p, "attribute %s has an unknown type", a->name);
    return -1;
}

int zx_attr_validate(apr_pool_t *p, const zx_attr_def *attr, const char *value,
                     const char **normalized, const char **err)
{
    if (!attr) {
        *err = "unknown attribute";
        return -1;
    }
    if (!value) {
        *err = apr_psprintf(p, "missing value for %s", attr->name);
        return -1;
    }
    if (!attr->multi) {
        if (*value == '\0' && attr->type != ZX_ATTR_STRING) {
            *err = apr_psprintf(p, "invalid empty value for %s", attr->name);
            return -1;
        }
        return validate_one(p, attr, value, normalized, err);
    }
    /* Multi-valued: one value per line; empty lines and duplicates dropped. */
    char *s = apr_pstrdup(p, value);
    const char *out = NULL;
    char *last;
    apr_array_header_t *seen = apr_array_make(p, 4, sizeof(const char *));
    for (char *t = apr_strtok(s, "\n", &last); t; t = apr_strtok(NULL, "\n", &last)) {
        size_t n = strlen(t);
        if (n && t[n - 1] == '\r')
            t[n - 1] = '\0';
        if (!*t)
            continue;
        const char *norm;
        if (validate_one(p, attr, t, &norm, err) < 0)
            return -1;
        int dup = 0;
        for (int i = 0; i < seen->nelts; i++)
            if (strcmp(APR_ARRAY_IDX(seen, i, const char *), norm) == 0)
                dup = 1;
        if (dup)
            continue;
        APR_ARRAY_PUSH(seen, const char *) = norm;
        out = out ? apr_pstrcat(p, out, "\n", norm, NULL) : norm;
    }
    *normalized = out ? out : "";
    return 0;
}

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
        return lower(p, env);
    char host[256];
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        if (server_name_valid(host))
            return lower(p, host);
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
    PGresult *res;
    const char *params[] = {target ? target : ""};
    switch (level) {
    case ZX_LEVEL_GLOBAL:
        *key = "";
        return 1;
    case ZX_LEVEL_SERVER:
        if (!server_name_valid(target)) {
            *err = apr_psprintf(p, "invalid server name \"%s\"", target ? target : "");
            return 0;
        }
        *key = lower(p, target);
        return 1;
    case ZX_LEVEL_DOMAIN:
        res = zx_db_exec(db, "SELECT id FROM domains WHERE name = lower($1)", 1, params, err);
        if (!res)
            return -1;
        if (!(*key = single_value(p, res))) {
            *err = apr_psprintf(p, "no such domain: %s", params[0]);
            return 0;
        }
        return 1;
    case ZX_LEVEL_COS:
        res = zx_db_exec(db, "SELECT id FROM cos WHERE name = lower($1) OR id::text = $1 "
                             "ORDER BY name = lower($1) DESC LIMIT 1", 1, params, err);
        if (!res)
            return -1;
        if (!(*key = single_value(p, res))) {
            *err = apr_psprintf(p, "no such COS: %s", params[0]);
            return 0;
        }
        return 1;
    case ZX_LEVEL_ACCOUNT: {
        int rc = find_account(p, db, params[0], key, NULL, NULL, err);
        if (rc == 0)
            *err = apr_psprintf(p, "no such account: %s", params[0]);
        return rc;
    }
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

static const zx_attr_def *need_attr(apr_pool_t *p, const char *name, const char **err)
{
    const zx_attr_def *a = zx_attr_find(name);
    if (!a)
        *err = apr_psprintf(p, "unknown attribute \"%s\" (zxsuite config info lists them)",
                            name ? name : "");
    return a;
}

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
    const zx_attr_def *a = need_attr(p, name, err);
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
    const zx_attr_def *a = need_attr(p, name, err);
    if (!a)
        return -1;
    params[0] = lower(p, a->name);
    params[1] = (a->levels & ZX_LEVEL_SERVER) && server ? lower(p, server) : NULL;
    return 0;
}

const char *zx_config_default(const char *name)
{
    const zx_attr_def *a = zx_attr_find(name);
    return a && a->def ? a->def : "";
}

int zx_config_is_true(const char *v)
{
    return v && (strcasecmp(v, "TRUE") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

/* The hot path: one statement, the most specific level wins.  A scope with an account but no
 * COS falls back to the "default" COS, as accounts without a COS are in it. */
int zx_config_resolve(apr_pool_t *p, zx_db *db, const zx_config_scope *scope, const char *name,
                      const char **value, zx_level *from, const char **err)
{
    const zx_attr_def *a = need_attr(p, name, err);
    if (!a)
        return -1;
    unsigned m = a->levels;
    int cos_default = (m & ZX_LEVEL_COS) && scope->account_id && !scope->cos_id;
    const char *params[] = {
        lower(p, a->name),
        (m & ZX_LEVEL_ACCOUNT) ? scope->account_id : NULL,
        (m & ZX_LEVEL_COS) ? scope->cos_id : NULL,
        (m & ZX_LEVEL_DOMAIN) ? scope->domain_id : NULL,
        (m & ZX_LEVEL_SERVER) && scope->server ? lower(p, scope->server) : NULL,
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
            *from = level_from_db(PQgetvalue(res, 0, 0));
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
    if (parse_ll(v, out) < 0) {
        *err = apr_psprintf(p, "attribute %s has the non-integer value \"%s\"", name, v);
        return -1;
    }
    return 0;
}

/* ---- writing ----------------------------------------------------------------------------------- */

static int level_known(zx_level level)
{
    for (size_t i = 0; i < NLEVELS; i++)
        if (levels[i].level == level)
            return 1;
    return 0;
}

int zx_attr_check_level(apr_pool_t *p, const zx_attr_def *a, zx_level level, const char **err)
{
    if (!level_known(level)) {
        *err = "unknown configuration level (global, server, domain, cos, account)";
        return -1;
    }
    if (!(a->levels & level)) {
        *err = apr_psprintf(p, "attribute %s is not available at %s level (allowed levels: %s)",
                            a->name, zx_level_name(level), levels_text(p, a->levels));
        return -1;
    }
    return 0;
}


int zx_config_write(apr_pool_t *p, zx_db *db, zx_level level, const char *key,
                    const char *name, zx_config_op op, const char *value, const char **err)
{
    const zx_attr_def *a = need_attr(p, name, err);
    if (!a || zx_attr_check_level(p, a, level, err) < 0)
        return -1;
    if ((op == ZX_CONFIG_ADD || op == ZX_CONFIG_REMOVE) && !a->multi) {
        *err = apr_psprintf(p, "attribute %s is single-valued: +%s/-%s apply only to "
                               "multi-valued attributes", a->name, a->name, a->name);
        return -1;
    }
    const char *norm = NULL;
    if (op != ZX_CONFIG_UNSET) {
        if (zx_attr_validate(p, a, value, &norm, err) < 0)
            return -1;
        if ((op == ZX_CONFIG_ADD || op == ZX_CONFIG_REMOVE) && (!*norm || strchr(norm, '\n'))) {
            *err = apr_psprintf(p, "+%s/-%s take exactly one value", a->name, a->name);
            return -1;
        }
        if (op == ZX_CONFIG_REPLACE && a->multi && !*norm)
            op = ZX_CONFIG_UNSET;         /* no values left */
    }
    const char *params[] = {zx_level_name(level), key, lower(p, a->name), norm};
    int rc, own;
    switch (op) {
    case ZX_CONFIG_REPLACE:
        rc = zx_db_run(db,
                       "INSERT INTO config_values (level, target, name, value) "
                       "VALUES ($1, $2, $3, $4) ON CONFLICT (level, target, name) "
                       "DO UPDATE SET value = EXCLUDED.value, modified_at = now()",
                       4, params, err);
        break;
    case ZX_CONFIG_ADD:
        rc = zx_db_run(db,
                       "INSERT INTO config_values AS c (level, target, name, value) "
                       "VALUES ($1, $2, $3, $4) ON CONFLICT (level, target, name) "
                       "DO UPDATE SET value = CASE WHEN $4 = ANY (string_to_array(c.value, E'\\n')) "
                       "  THEN c.value ELSE c.value || E'\\n' || $4 END, modified_at = now()",
                       4, params, err);
        break;
    case ZX_CONFIG_REMOVE:
        if (zx_db_tx_begin(db, &own, err) < 0)
            return -1;
        rc = zx_db_run(db, "DELETE FROM config_values WHERE level = $1 AND target = $2 "
                           "AND name = $3 AND value = $4", 4, params, err);
        if (rc == 0)
            rc = zx_db_run(db, "UPDATE config_values SET modified_at = now(), value = "
                               "  array_to_string(array_remove(string_to_array(value, E'\\n'), $4), E'\\n') "
                               " WHERE level = $1 AND target = $2 AND name = $3 "
                               "   AND $4 = ANY (string_to_array(value, E'\\n'))",
                           4, params, err);
        rc = zx_db_tx_end(db, own, rc, err);
        break;
    case ZX_CONFIG_UNSET:
    default:
        rc = zx_db_run(db, "DELETE FROM config_values WHERE level = $1 AND target = $2 "
                           "AND name = $3", 3, params, err);
        break;
    }
    if (rc < 0 && strcmp(zx_db_sqlstate(db), "23503") == 0)
        *err = apr_psprintf(p, "no such %s (id %s)", zx_level_name(level), key);
    return rc;
}

static int write_by_target(apr_pool_t *p, zx_db *db, zx_level level, const char *target,
                           const char *name, zx_config_op op, const char *value,
                           const char **err)
{
    /* Check attribute, level and value before looking the target up: cheaper, and the
     * clearer error when both are wrong. */
    const zx_attr_def *a = need_attr(p, name, err);
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
    const zx_attr_def *a = need_attr(p, name, err);
    if (!a || zx_attr_check_level(p, a, level, err) < 0)
        return -1;
    const char *key;
    if (zx_config_target_key(p, db, level, target, &key, err) != 1)
        return -1;
    const char *params[] = {zx_level_name(level), key, lower(p, a->name)};
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
    if (!level_known(level)) {
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
            int best = (int)NLEVELS;
            for (int i = 0; i < PQntuples(res); i++) {
                if (strcasecmp(PQgetvalue(res, i, 1), a->name) != 0)
                    continue;
                zx_level l = level_from_db(PQgetvalue(res, i, 0));
                if (!(a->levels & l))
                    continue;
                for (int r = 0; r < best; r++) {
                    if (levels[r].level == l) {
                        best = r;
                        e->value = apr_pstrdup(p, PQgetvalue(res, i, 2));
                        e->from = l;
                    }
                }
            }
        }
        PQclear(res);
    }
    qsort(out->elts, (size_t)out->nelts, sizeof(zx_config_entry), cmp_entry);
    *entries = out;
    return 0;
}

/* ---- services (spec section 14) ------------------------------------------------------------------ */

static const char *const service_names[] = {"module", "activesync", "autodiscover", "abq",
                                            "anti-dos"};
#define NSERVICES (sizeof service_names / sizeof service_names[0])

const char *zx_service_name(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < NSERVICES; i++)
        if (strcasecmp(service_names[i], name) == 0)
            return service_names[i];
    /* Carbonio names */
    if (strcasecmp(name, "activesync-services") == 0)
        return "activesync";
    if (strcasecmp(name, "abq-services") == 0)
        return "abq";
    return NULL;
}

typedef struct {
    int flag;                   /* what the administrator asked for */
    long long restarts;
} service_row;

/* The services rows and the global attributes that decide them, in one query. */
static int services_read(apr_pool_t *p, zx_db *db, service_row *rows, const char **antidos,
                         const char **abq_startup, const char **abq_mode, const char **err)
{
    PGresult *res = zx_db_exec(
        db,
        "SELECT s.name, s.running, s.restart_count, g.antidos, g.startup, g.mode "
        "  FROM (SELECT (SELECT value FROM config_values WHERE level = 'global' AND target = '' "
        "                   AND name = 'mobileantidosserviceenabled') AS antidos, "
        "               (SELECT value FROM config_values WHERE level = 'global' AND target = '' "
        "                   AND name = 'abq_enabled_at_startup') AS startup, "
        "               (SELECT value FROM config_values WHERE level = 'global' AND target = '' "
        "                   AND name = 'abqmode') AS mode) g "
        "  LEFT JOIN services s ON true",
        0, NULL, err);
    if (!res)
        return -1;
    for (size_t i = 0; i < NSERVICES; i++) {
        rows[i].flag = 1;
        rows[i].restarts = 0;
    }
    *antidos = *abq_startup = *abq_mode = NULL;
    for (int r = 0; r < PQntuples(res); r++) {
        if (r == 0) {
            *antidos = PQgetisnull(res, 0, 3) ? NULL : apr_pstrdup(p, PQgetvalue(res, 0, 3));
            *abq_startup = PQgetisnull(res, 0, 4) ? NULL : apr_pstrdup(p, PQgetvalue(res, 0, 4));
            *abq_mode = PQgetisnull(res, 0, 5) ? NULL : apr_pstrdup(p, PQgetvalue(res, 0, 5));
        }
        if (PQgetisnull(res, r, 0))
            continue;
        for (size_t i = 0; i < NSERVICES; i++) {
            if (strcmp(service_names[i], PQgetvalue(res, r, 0)) == 0) {
                rows[i].flag = strcmp(PQgetvalue(res, r, 1), "t") == 0;
                rows[i].restarts = atoll(PQgetvalue(res, r, 2));
            }
        }
    }
    PQclear(res);
    return 0;
}

static const char *global_or_default(const char *value, const char *name)
{
    if (value)
        return value;
    const zx_attr_def *a = zx_attr_find(name);
    return a && a->def ? a->def : "";
}

int zx_services_list(apr_pool_t *p, zx_db *db, apr_array_header_t **states, const char **err)
{
    service_row rows[NSERVICES];
    const char *antidos, *startup, *mode;
    if (services_read(p, db, rows, &antidos, &startup, &mode, err) < 0)
        return -1;
    int antidos_on = strcasecmp(global_or_default(antidos, "mobileAntiDosServiceEnabled"), "TRUE") == 0;
    int startup_on = strcasecmp(global_or_default(startup, "abq_enabled_at_startup"), "TRUE") == 0;
    int abq_disabled = strcasecmp(global_or_default(mode, "abqMode"), "Disabled") == 0;
    int module_on = rows[0].flag;
    *states = apr_array_make(p, NSERVICES, sizeof(zx_service_state));
    for (size_t i = 0; i < NSERVICES; i++) {
        zx_service_state *s = apr_array_push(*states);
        const char *n = service_names[i];
        const char *why = NULL;
        if (i > 0 && !module_on)
            why = "module not running";
        else if (strcmp(n, "anti-dos") == 0 && !antidos_on)
            why = "anti-dos disabled";
        else if (strcmp(n, "abq") == 0 && !startup_on)
            why = "abq disabled (abq_enabled_at_startup is FALSE)";
        else if (strcmp(n, "abq") == 0 && abq_disabled)
            why = "abq disabled (abqMode is Disabled)";
        s->name = n;
        s->could_not_start_because = why;
        s->running = rows[i].flag && !why;
        s->could_start = !s->running && !why;
        s->could_stop = s->running;
    }
    return 0;
}

int zx_service_running(apr_pool_t *p, zx_db *db, const char *name, int *running,
                       const char **err)
{
    const char *canon = zx_service_name(name);
    if (!canon) {
        *err = apr_psprintf(p, "unknown service \"%s\"", name ? name : "");
        return -1;
    }
    apr_array_header_t *states;
    if (zx_services_list(p, db, &states, err) < 0)
        return -1;
    for (int i = 0; i < states->nelts; i++) {
        const zx_service_state *s = &APR_ARRAY_IDX(states, i, zx_service_state);
        if (strcmp(s->name, canon) == 0)
            *running = s->running;
    }
    return 0;
}

int zx_service_restart_count(apr_pool_t *p, zx_db *db, const char *name, long long *count,
                             const char **err)
{
    const char *canon = zx_service_name(name);
    if (!canon) {
        *err = apr_psprintf(p, "unknown service \"%s\"", name ? name : "");
        return -1;
    }
    const char *params[] = {canon};
    PGresult *res = zx_db_exec(db, "SELECT restart_count FROM services WHERE name = $1", 1,
                               params, err);
    if (!res)
        return -1;
    *count = PQntuples(res) ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return 0;
}

static const char *service_names_text(void)
{
    return "module, activesync (activesync-services), autodiscover, abq (abq-services), anti-dos";
}

int zx_service_control(apr_pool_t *p, zx_db *db, const char *name, const char *action,
                       const char **message, const char **err)
{
    const char *canon = zx_service_name(name);
    if (!canon) {
        *err = apr_psprintf(p, "unknown service \"%s\" (services: %s)", name ? name : "",
                            service_names_text());
        return -1;
    }
    int start = strcasecmp(action, "start") == 0, stop = strcasecmp(action, "stop") == 0,
        restart = strcasecmp(action, "restart") == 0;
    if (!start && !stop && !restart) {
        *err = apr_psprintf(p, "unknown service action \"%s\" (start, stop, restart)", action);
        return -1;
    }
    apr_array_header_t *states;
    if (zx_services_list(p, db, &states, err) < 0)
        return -1;
    const zx_service_state *st = NULL;
    for (int i = 0; i < states->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(states, i, zx_service_state).name, canon) == 0)
            st = &APR_ARRAY_IDX(states, i, zx_service_state);
    if (start && st->running) {
        *err = apr_psprintf(p, "service %s is already running", canon);
        return -1;
    }
    if (stop && !st->running) {
        *err = apr_psprintf(p, "service %s is not running", canon);
        return -1;
    }
    if ((start || restart) && st->could_not_start_because) {
        *err = apr_psprintf(p, "cannot %s service %s: %s", start ? "start" : "restart", canon,
                            st->could_not_start_because);
        return -1;
    }
    const char *params[] = {canon};
    const char *sql =
        start ? "INSERT INTO services (name, running, started_at) VALUES ($1, true, now()) "
                "ON CONFLICT (name) DO UPDATE SET running = true, started_at = now(), "
                "modified_at = now()"
      : stop ? "INSERT INTO services (name, running, stopped_at) VALUES ($1, false, now()) "
               "ON CONFLICT (name) DO UPDATE SET running = false, stopped_at = now(), "
               "modified_at = now()"
             : "INSERT INTO services (name, running, restart_count, started_at, restarted_at) "
               "VALUES ($1, true, 1, now(), now()) "
               "ON CONFLICT (name) DO UPDATE SET running = true, started_at = now(), "
               "restarted_at = now(), restart_count = services.restart_count + 1, "
               "modified_at = now()";
    if (zx_db_run(db, sql, 1, params, err) < 0)
        return -1;
    *message = start ? "service started" : stop ? "service stopped" : "service restarted";
    return 0;
}
