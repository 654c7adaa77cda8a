/* zxmobile - the stored configuration values (table config_values, sql/002_config.sql):
 * writing one attribute at a level and an already resolved key.  Below the directory, which
 * writes the attributes of a domain, COS or account in its own transaction; config.c resolves
 * target names to keys and reads the values.
 *
 * Storage: one row per (level, target, attribute); target "" for global, the lower-case server
 * name, or the numeric id of the domain/COS/account; attribute names lower-case; the values of a
 * multi-valued attribute in one row, one per line.
 */
#include <zxsync/config_values.h>
#include <zxsync/text.h>

#include <apr_strings.h>
#include <string.h>

int zx_config_write(apr_pool_t *p, zx_db *db, zx_level level, const char *key,
                    const char *name, zx_config_op op, const char *value, const char **err)
{
    const zx_attr_def *a = zx_attr_need(p, name, err);
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
    const char *params[] = {zx_level_name(level), key, zx_str_lower(p, a->name), norm};
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
