/* zxmobile - directory operations (domains, COS, accounts).  The attributes of the registry
 * live in the configuration store (written through config_values.c); the account columns
 * (display name, status, COS, password) in the accounts table.  Below config.c: nothing here
 * calls it. */
#include <zxsync/attrs.h>
#include <zxsync/config_values.h>
#include <zxsync/directory.h>
#include <zxsync/gal.h>
#include <zxsync/password.h>
#include <zxsync/text.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int zx_domain_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 253 || name[0] == '.' || name[n - 1] == '.' || !strchr(name, '.'))
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '.') {
            if (label == 0 || name[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!isalnum(c) && !(c == '-' && label > 0))
            return 0;
        if (++label > 63)
            return 0;
    }
    return 1;
}

static int local_char(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~-.", c));
}

const char *zx_account_name_normalize(apr_pool_t *p, const char *name, const char **local,
                                      const char **domain)
{
    const char *at = name ? strrchr(name, '@') : NULL;
    if (!at || at == name || at - name > 64)
        return NULL;
    char *l = apr_pstrmemdup(p, name, (apr_size_t)(at - name));
    const char *d = zx_str_lower(p, at + 1);
    if (l[0] == '.' || l[strlen(l) - 1] == '.' || strstr(l, ".."))
        return NULL;
    for (char *c = l; *c; c++) {
        if (!local_char((unsigned char)*c))
            return NULL;
        *c = (char)tolower((unsigned char)*c);
    }
    if (!zx_domain_name_valid(d))
        return NULL;
    if (local)
        *local = l;
    if (domain)
        *domain = d;
    return apr_pstrcat(p, l, "@", d, NULL);
}

int zx_dir_find_account(apr_pool_t *p, zx_db *db, const char *name_or_uuid, zx_account_ref *out,
                        const char **err)
{
    memset(out, 0, sizeof *out);
    const char *local = NULL, *domain = NULL, *uuid = NULL;
    if (!zx_account_name_normalize(p, name_or_uuid, &local, &domain)) {
        size_t n = name_or_uuid ? strlen(name_or_uuid) : 0;
        if (n != 36 || strspn(name_or_uuid, "0123456789abcdefABCDEF-") != n) {
            *err = apr_psprintf(p, "no such account: %s", name_or_uuid ? name_or_uuid : "");
            return 0;
        }
        uuid = zx_str_lower(p, name_or_uuid);
    }
    const char *params[] = {local, domain, uuid};
    PGresult *res = zx_db_exec(
        db,
        "SELECT a.id, a.local_part || '@' || d.name, a.cos_id, a.domain_id "
        "  FROM accounts a JOIN domains d ON d.id = a.domain_id "
        " WHERE ($3::text IS NULL AND a.local_part = $1 AND d.name = $2) "
        "    OR ($3::text IS NOT NULL AND a.uuid::text = $3)",
        3, params, err);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        out->id = apr_pstrdup(p, PQgetvalue(res, 0, 0));
        out->name = apr_pstrdup(p, PQgetvalue(res, 0, 1));
        out->cos_id = PQgetisnull(res, 0, 2) ? NULL : apr_pstrdup(p, PQgetvalue(res, 0, 2));
        out->domain_id = apr_pstrdup(p, PQgetvalue(res, 0, 3));
    }
    else
        *err = apr_psprintf(p, "no such account: %s", name_or_uuid);
    PQclear(res);
    return found;
}

int zx_dir_account_id(apr_pool_t *p, zx_db *db, const char *name_or_uuid, const char **id,
                      const char **err)
{
    zx_account_ref a;
    int rc = zx_dir_find_account(p, db, name_or_uuid ? name_or_uuid : "", &a, err);
    if (rc == 1)
        *id = a.id;
    return rc;
}

/* The first column of the first row (NULL when no row), and res cleared. */
static const char *single_value(apr_pool_t *p, PGresult *res)
{
    const char *v = PQntuples(res) > 0 ? apr_pstrdup(p, PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    return v;
}

int zx_dir_domain_id(apr_pool_t *p, zx_db *db, const char *name, const char **id,
                     const char **err)
{
    const char *params[] = {name ? name : ""};
    PGresult *res = zx_db_exec(db, "SELECT id FROM domains WHERE name = lower($1)", 1, params,
                               err);
    if (!res)
        return -1;
    if (!(*id = single_value(p, res))) {
        *err = apr_psprintf(p, "no such domain: %s", params[0]);
        return 0;
    }
    return 1;
}

int zx_dir_cos_id(apr_pool_t *p, zx_db *db, const char *name_or_id, const char **id,
                  const char **err)
{
    const char *params[] = {name_or_id ? name_or_id : ""};
    PGresult *res = zx_db_exec(db, "SELECT id FROM cos WHERE name = lower($1) OR id::text = $1 "
                                   "ORDER BY name = lower($1) DESC LIMIT 1", 1, params, err);
    if (!res)
        return -1;
    if (!(*id = single_value(p, res))) {
        *err = apr_psprintf(p, "no such COS: %s", params[0]);
        return 0;
    }
    return 1;
}

int zx_dir_create_domain(apr_pool_t *p, zx_db *db, const char *name, const char **err)
{
    const char *lname = zx_str_lower(p, name);
    if (!zx_domain_name_valid(lname)) {
        *err = apr_psprintf(p, "invalid domain name \"%s\"", name ? name : "");
        return -1;
    }
    const char *params[] = {lname};
    if (zx_db_run(db, "INSERT INTO domains (name) VALUES ($1)", 1, params, err) < 0) {
        if (strcmp(zx_db_sqlstate(db), "23505") == 0)
            *err = apr_psprintf(p, "domain %s already exists", lname);
        return -1;
    }
    return 0;
}

int zx_cos_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return 0;
    }
    return 1;
}

/* ---- attribute lists (zmprov "attr value" pairs) ------------------------------------------- */

/* Account columns that zmprov shows as attributes. */
typedef enum { COL_NONE, COL_DISPLAYNAME, COL_STATUS, COL_COS } column_kind;

typedef struct {
    const zx_attr_def *def;     /* registry attribute, NULL for a column */
    const zx_gal_attr_def *gal; /* GAL attribute of an account (zxsync/gal.h) */
    column_kind column;
    zx_config_op op;
    const char *value;          /* normalised; NULL = unset the column */
} attr_mod;

static column_kind column_lookup(const char *name)
{
    if (strcasecmp(name, "displayName") == 0)
        return COL_DISPLAYNAME;
    if (strcasecmp(name, "zimbraAccountStatus") == 0)
        return COL_STATUS;
    if (strcasecmp(name, "zimbraCOSId") == 0)
        return COL_COS;
    return COL_NONE;
}

static int text_ok(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return 0;
    return 1;
}

/* A GAL attribute of an account: checked, merged with the same attribute given before. */
static int parse_gal(apr_pool_t *p, attr_mod *m, apr_array_header_t *out, const char **err)
{
    if (m->op != ZX_CONFIG_REPLACE && !m->gal->multi) {
        *err = apr_psprintf(p, "attribute %s is single-valued: +/- apply only to "
                               "multi-valued attributes", m->gal->name);
        return -1;
    }
    if (m->op == ZX_CONFIG_REPLACE && *m->value == '\0') {
        m->op = ZX_CONFIG_UNSET;
        m->value = NULL;
    }
    else if (zx_gal_attr_validate(p, m->gal, m->value, &m->value, err) < 0) {
        return -1;
    }
    for (int k = 0; k < out->nelts; k++) {
        attr_mod *o = &APR_ARRAY_IDX(out, k, attr_mod);
        if (o->gal != m->gal)
            continue;
        if (m->gal->multi && o->op == ZX_CONFIG_REPLACE && m->op == ZX_CONFIG_REPLACE) {
            o->value = apr_pstrcat(p, o->value, "\n", m->value, NULL);
            return 0;
        }
        if (!m->gal->multi) {
            *err = apr_psprintf(p, "attribute %s given more than once", m->gal->name);
            return -1;
        }
    }
    APR_ARRAY_PUSH(out, attr_mod) = *m;
    return 0;
}

/* Check every pair before anything is written.  level: where registry attributes go. */
static int parse_attrs(apr_pool_t *p, zx_level level, const apr_array_header_t *attrs,
                       apr_array_header_t **out, const char **err)
{
    int n = attrs ? attrs->nelts : 0;
    *out = apr_array_make(p, n / 2 + 1, sizeof(attr_mod));
    if (n % 2) {
        *err = "attributes must come in name value pairs";
        return -1;
    }
    for (int i = 0; i < n; i += 2) {
        const char *name = APR_ARRAY_IDX(attrs, i, const char *);
        const char *value = APR_ARRAY_IDX(attrs, i + 1, const char *);
        zx_config_op op = ZX_CONFIG_REPLACE;
        if (name[0] == '+' || name[0] == '-') {
            op = name[0] == '+' ? ZX_CONFIG_ADD : ZX_CONFIG_REMOVE;
            name++;
        }
        attr_mod m = {NULL, NULL, COL_NONE, op, value};
        if (level == ZX_LEVEL_ACCOUNT)
            m.column = column_lookup(name);
        if (m.column != COL_NONE) {
            if (op != ZX_CONFIG_REPLACE) {
                *err = apr_psprintf(p, "%s is single-valued: +/- apply only to multi-valued "
                                       "attributes", name);
                return -1;
            }
            if (m.column == COL_STATUS) {
                const char *v = zx_str_lower(p, value);
                if (strcmp(v, "active") && strcmp(v, "locked") && strcmp(v, "closed")) {
                    *err = apr_psprintf(p, "invalid zimbraAccountStatus \"%s\" (active, locked, "
                                           "closed)", value);
                    return -1;
                }
                m.value = v;
            }
            else if (m.column == COL_DISPLAYNAME) {
                if (!text_ok(value) || strlen(value) > 256) {
                    *err = "invalid displayName: at most 256 bytes, no control characters";
                    return -1;
                }
                m.value = *value ? value : NULL;
            }
            else {
                m.value = *value ? value : NULL;
            }
            for (int k = 0; k < (*out)->nelts; k++)
                if (APR_ARRAY_IDX(*out, k, attr_mod).column == m.column) {
                    *err = apr_psprintf(p, "attribute %s given more than once", name);
                    return -1;
                }
            APR_ARRAY_PUSH(*out, attr_mod) = m;
            continue;
        }
        if (strcasecmp(name, "userPassword") == 0) {
            *err = "userPassword is not an attribute here: use setPassword, or the password "
                   "argument of createAccount";
            return -1;
        }
        if (level == ZX_LEVEL_ACCOUNT && (m.gal = zx_gal_attr_find(name)) != NULL) {
            if (parse_gal(p, &m, *out, err) < 0)
                return -1;
            continue;
        }
        m.def = zx_attr_find(name);
        if (!m.def) {
            *err = apr_psprintf(p, "unknown attribute \"%s\"", name);
            return -1;
        }
        if (zx_attr_check_level(p, m.def, level, err) < 0)
            return -1;
        if (op != ZX_CONFIG_REPLACE && !m.def->multi) {
            *err = apr_psprintf(p, "attribute %s is single-valued: +/- apply only to "
                                   "multi-valued attributes", m.def->name);
            return -1;
        }
        if (op == ZX_CONFIG_REPLACE && *value == '\0') {
            m.op = ZX_CONFIG_UNSET;           /* zmprov: an empty value removes it */
            m.value = NULL;
        }
        else if (zx_attr_validate(p, m.def, value, &m.value, err) < 0) {
            return -1;
        }
        /* the same attribute again: more values of a multi-valued one, else an error */
        int merged = 0;
        for (int k = 0; k < (*out)->nelts; k++) {
            attr_mod *o = &APR_ARRAY_IDX(*out, k, attr_mod);
            if (o->def != m.def)
                continue;
            if (m.def->multi && o->op == ZX_CONFIG_REPLACE && m.op == ZX_CONFIG_REPLACE) {
                o->value = apr_pstrcat(p, o->value, "\n", m.value, NULL);
                merged = 1;
            }
            else if (!m.def->multi) {
                *err = apr_psprintf(p, "attribute %s given more than once", m.def->name);
                return -1;
            }
        }
        if (!merged)
            APR_ARRAY_PUSH(*out, attr_mod) = m;
    }
    return 0;
}

/* Write the registry attributes of mods at level/key (inside the caller's transaction). */
static int apply_config(apr_pool_t *p, zx_db *db, zx_level level, const char *key,
                        const apr_array_header_t *mods, const char **err)
{
    for (int i = 0; i < mods->nelts; i++) {
        const attr_mod *m = &APR_ARRAY_IDX(mods, i, attr_mod);
        if (m->def && zx_config_write(p, db, level, key, m->def->name, m->op, m->value, err) < 0)
            return -1;
        if (m->gal && zx_gal_attr_write(p, db, key, m->gal, m->op, m->value, err) < 0)
            return -1;
    }
    return 0;
}

static const attr_mod *find_column(const apr_array_header_t *mods, column_kind c)
{
    for (int i = 0; i < mods->nelts; i++)
        if (APR_ARRAY_IDX(mods, i, attr_mod).column == c)
            return &APR_ARRAY_IDX(mods, i, attr_mod);
    return NULL;
}

/* Registry values stored at one level for the owners in res column 0 ... -> attrs tables. */
static void add_values(apr_pool_t *p, apr_table_t *t, const char *stored_name, const char *value)
{
    const zx_attr_def *a = zx_attr_find(stored_name);
    const char *name = a ? a->name : apr_pstrdup(p, stored_name);
    if (a && a->multi) {
        char *s = apr_pstrdup(p, value), *last;
        for (char *v = apr_strtok(s, "\n", &last); v; v = apr_strtok(NULL, "\n", &last))
            apr_table_add(t, name, v);
    }
    else {
        apr_table_add(t, name, value);
    }
}

/* Sorted by attribute name: values of level for target keys; fills hash key -> table. */
static int load_values(apr_pool_t *p, zx_db *db, zx_level level, const char *key,
                       apr_hash_t *tables, const char **err)
{
    const char *params[] = {zx_level_name(level), key};
    PGresult *res = zx_db_exec(db, "SELECT target, name, value FROM config_values "
                                   " WHERE level = $1 AND ($2::text IS NULL OR target = $2) "
                                   " ORDER BY name", 2, params, err);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        apr_table_t *t = apr_hash_get(tables, PQgetvalue(res, i, 0), APR_HASH_KEY_STRING);
        if (t)
            add_values(p, t, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
    }
    PQclear(res);
    return 0;
}

/* ---- domains -------------------------------------------------------------------------------- */

#define OWNER_COLUMNS \
    "x.id, x.name, to_char(x.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "

static zx_domain *row_owner(apr_pool_t *p, PGresult *res, int i)
{
    zx_domain *d = apr_pcalloc(p, sizeof *d);
    d->id = apr_pstrdup(p, PQgetvalue(res, i, 0));
    d->name = apr_pstrdup(p, PQgetvalue(res, i, 1));
    d->created_at = apr_pstrdup(p, PQgetvalue(res, i, 2));
    d->accounts = atoi(PQgetvalue(res, i, 3));
    d->attrs = apr_table_make(p, 4);
    return d;
}

/* Domains or COS: one (name given) or all (name NULL). */
static int owners_get(apr_pool_t *p, zx_db *db, zx_level level, const char *name,
                      apr_array_header_t **out, const char **err)
{
    const char *sql = level == ZX_LEVEL_DOMAIN
        ? "SELECT " OWNER_COLUMNS "(SELECT count(*) FROM accounts a WHERE a.domain_id = x.id) "
          "  FROM domains x WHERE $1::text IS NULL OR x.name = lower($1) ORDER BY x.name"
        : "SELECT " OWNER_COLUMNS "(SELECT count(*) FROM accounts a WHERE a.cos_id = x.id) "
          "  FROM cos x WHERE $1::text IS NULL OR x.name = lower($1) OR x.id::text = $1 "
          " ORDER BY x.name = lower($1) DESC, x.name";
    const char *params[] = {name};
    PGresult *res = zx_db_exec(db, sql, 1, params, err);
    if (!res)
        return -1;
    int n = name ? (PQntuples(res) > 0) : PQntuples(res);
    *out = apr_array_make(p, n + 1, sizeof(zx_domain *));
    apr_hash_t *tables = apr_hash_make(p);
    for (int i = 0; i < n; i++) {
        zx_domain *d = row_owner(p, res, i);
        APR_ARRAY_PUSH(*out, zx_domain *) = d;
        apr_hash_set(tables, d->id, APR_HASH_KEY_STRING, d->attrs);
    }
    PQclear(res);
    if (n == 0)
        return 0;
    return load_values(p, db, level, name ? APR_ARRAY_IDX(*out, 0, zx_domain *)->id : NULL,
                       tables, err);
}

static int owner_get(apr_pool_t *p, zx_db *db, zx_level level, const char *name,
                     zx_domain **out, const char **err)
{
    apr_array_header_t *list;
    if (owners_get(p, db, level, name ? name : "", &list, err) < 0)
        return -1;
    if (list->nelts == 0)
        return 0;
    *out = APR_ARRAY_IDX(list, 0, zx_domain *);
    return 1;
}

int zx_dir_get_domain(apr_pool_t *p, zx_db *db, const char *name, zx_domain **out,
                      const char **err)
{
    return owner_get(p, db, ZX_LEVEL_DOMAIN, name, out, err);
}

int zx_dir_list_domains(apr_pool_t *p, zx_db *db, apr_array_header_t **out, const char **err)
{
    return owners_get(p, db, ZX_LEVEL_DOMAIN, NULL, out, err);
}

/* Modify the registry attributes of a domain or COS. */
static int owner_modify(apr_pool_t *p, zx_db *db, zx_level level, const char *name,
                        const apr_array_header_t *attrs, const char **err)
{
    apr_array_header_t *mods;
    if (parse_attrs(p, level, attrs, &mods, err) < 0)
        return -1;
    if (mods->nelts == 0) {
        *err = "nothing to modify: give attr value pairs";
        return -1;
    }
    const char *key;
    int rc = level == ZX_LEVEL_DOMAIN ? zx_dir_domain_id(p, db, name, &key, err)
                                      : zx_dir_cos_id(p, db, name, &key, err);
    if (rc != 1)
        return -1;
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    return zx_db_tx_end(db, own, apply_config(p, db, level, key, mods, err), err);
}

int zx_dir_modify_domain(apr_pool_t *p, zx_db *db, const char *name,
                         const apr_array_header_t *attrs, const char **err)
{
    return owner_modify(p, db, ZX_LEVEL_DOMAIN, name, attrs, err);
}

int zx_dir_delete_domain(apr_pool_t *p, zx_db *db, const char *name, const char **err)
{
    zx_domain *d;
    int rc = zx_dir_get_domain(p, db, name, &d, err);
    if (rc <= 0) {
        if (rc == 0)
            *err = apr_psprintf(p, "no such domain: %s", name);
        return -1;
    }
    if (d->accounts > 0) {
        *err = apr_psprintf(p, "domain %s has %d account%s: delete them first", d->name,
                            d->accounts, d->accounts == 1 ? "" : "s");
        return -1;
    }
    const char *params[] = {d->id};
    if (zx_db_run(db, "DELETE FROM domains WHERE id = $1", 1, params, err) < 0) {
        if (strcmp(zx_db_sqlstate(db), "23503") == 0)
            *err = apr_psprintf(p, "domain %s still has accounts", d->name);
        return -1;
    }
    return 0;
}

/* ---- classes of service ---------------------------------------------------------------------- */

int zx_dir_create_cos(apr_pool_t *p, zx_db *db, const char *name,
                      const apr_array_header_t *attrs, zx_cos **out, const char **err)
{
    const char *lname = zx_str_lower(p, name);
    if (!zx_cos_name_valid(lname) || strspn(lname, "0123456789") == strlen(lname)) {
        *err = apr_psprintf(p, "invalid COS name \"%s\" (letters, digits, '.', '_', '-'; at "
                               "most 64; not only digits)", name ? name : "");
        return -1;
    }
    apr_array_header_t *mods;
    if (parse_attrs(p, ZX_LEVEL_COS, attrs, &mods, err) < 0)
        return -1;
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    const char *params[] = {lname};
    PGresult *res = zx_db_exec(db, "INSERT INTO cos (name) VALUES ($1) RETURNING id", 1, params,
                               err);
    if (!res) {
        if (strcmp(zx_db_sqlstate(db), "23505") == 0)
            *err = apr_psprintf(p, "COS %s already exists", lname);
        return zx_db_tx_end(db, own, -1, err);
    }
    const char *id = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    PQclear(res);
    if (zx_db_tx_end(db, own, apply_config(p, db, ZX_LEVEL_COS, id, mods, err), err) < 0)
        return -1;
    if (out && zx_dir_get_cos(p, db, id, out, err) != 1)
        return -1;
    return 0;
}

int zx_dir_get_cos(apr_pool_t *p, zx_db *db, const char *name, zx_cos **out, const char **err)
{
    return owner_get(p, db, ZX_LEVEL_COS, name, out, err);
}

int zx_dir_list_cos(apr_pool_t *p, zx_db *db, apr_array_header_t **out, const char **err)
{
    return owners_get(p, db, ZX_LEVEL_COS, NULL, out, err);
}

int zx_dir_modify_cos(apr_pool_t *p, zx_db *db, const char *name,
                      const apr_array_header_t *attrs, const char **err)
{
    return owner_modify(p, db, ZX_LEVEL_COS, name, attrs, err);
}

int zx_dir_delete_cos(apr_pool_t *p, zx_db *db, const char *name, const char **err)
{
    zx_cos *c;
    int rc = zx_dir_get_cos(p, db, name, &c, err);
    if (rc <= 0) {
        if (rc == 0)
            *err = apr_psprintf(p, "no such COS: %s", name);
        return -1;
    }
    if (strcmp(c->name, "default") == 0) {
        *err = "the default COS cannot be deleted";
        return -1;
    }
    if (c->accounts > 0) {
        *err = apr_psprintf(p, "COS %s has %d account%s: move them first (zimbraCOSId)",
                            c->name, c->accounts, c->accounts == 1 ? "" : "s");
        return -1;
    }
    const char *params[] = {c->id};
    return zx_db_run(db, "DELETE FROM cos WHERE id = $1", 1, params, err);
}

/* ---- accounts ------------------------------------------------------------------------------- */

int zx_dir_create_account(apr_pool_t *p, zx_db *db, const char *name, const char *password,
                          const apr_array_header_t *attrs, zx_account **out, const char **err)
{
    const char *local, *domain;
    const char *norm = zx_account_name_normalize(p, name, &local, &domain);
    if (!norm) {
        *err = apr_psprintf(p, "invalid account name \"%s\" (expected user@domain)", name);
        return -1;
    }
    apr_array_header_t *mods;
    if (parse_attrs(p, ZX_LEVEL_ACCOUNT, attrs, &mods, err) < 0)
        return -1;
    const attr_mod *m;
    const char *display = (m = find_column(mods, COL_DISPLAYNAME)) ? m->value : NULL;
    const char *status = (m = find_column(mods, COL_STATUS)) ? m->value : "active";
    const char *cos = (m = find_column(mods, COL_COS)) ? m->value : "default";
    const char *hash = NULL;
    if (password && *password && zx_password_hash(p, password, NULL, &hash, err) < 0)
        return -1;

    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    const char *cos_id = NULL;
    if (cos && zx_dir_cos_id(p, db, cos, &cos_id, err) != 1)
        return zx_db_tx_end(db, own, -1, err);
    const char *params[] = {local, domain, display, status, cos_id, hash};
    PGresult *res = zx_db_exec(
        db,
        "INSERT INTO accounts (local_part, domain_id, display_name, status, cos_id, "
        "                      password_hash, password_changed_at) "
        "SELECT $1, d.id, $3, $4, $5::bigint, $6, CASE WHEN $6::text IS NULL THEN NULL ELSE now() END "
        "  FROM domains d WHERE d.name = $2 "
        "RETURNING id",
        6, params, err);
    if (!res) {
        if (strcmp(zx_db_sqlstate(db), "23505") == 0)
            *err = apr_psprintf(p, "account %s already exists", norm);
        return zx_db_tx_end(db, own, -1, err);
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        *err = apr_psprintf(p, "no such domain: %s", domain);
        return zx_db_tx_end(db, own, -1, err);
    }
    const char *id = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    PQclear(res);
    if (zx_db_tx_end(db, own, apply_config(p, db, ZX_LEVEL_ACCOUNT, id, mods, err), err) < 0)
        return -1;
    if (out && zx_dir_get_account(p, db, norm, out, err) != 1)
        return -1;
    return 0;
}

#define ACCOUNT_SELECT \
    "SELECT a.id, a.uuid, a.local_part || '@' || d.name, a.display_name, a.status, c.name, " \
    "       to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), " \
    "       a.cos_id, a.domain_id " \
    "  FROM accounts a JOIN domains d ON d.id = a.domain_id LEFT JOIN cos c ON c.id = a.cos_id "

static zx_account *row_account(apr_pool_t *p, PGresult *res, int i)
{
    zx_account *a = apr_pcalloc(p, sizeof *a);
    a->id = apr_pstrdup(p, PQgetvalue(res, i, 0));
    a->uuid = apr_pstrdup(p, PQgetvalue(res, i, 1));
    a->name = apr_pstrdup(p, PQgetvalue(res, i, 2));
    a->display_name = PQgetisnull(res, i, 3) ? NULL : apr_pstrdup(p, PQgetvalue(res, i, 3));
    a->status = apr_pstrdup(p, PQgetvalue(res, i, 4));
    a->cos = PQgetisnull(res, i, 5) ? NULL : apr_pstrdup(p, PQgetvalue(res, i, 5));
    a->created_at = apr_pstrdup(p, PQgetvalue(res, i, 6));
    a->cos_id = PQgetisnull(res, i, 7) ? NULL : apr_pstrdup(p, PQgetvalue(res, i, 7));
    a->domain_id = apr_pstrdup(p, PQgetvalue(res, i, 8));
    a->attrs = apr_table_make(p, 4);
    return a;
}

int zx_dir_get_account(apr_pool_t *p, zx_db *db, const char *name, zx_account **out,
                       const char **err)
{
    const char *local, *domain;
    if (!zx_account_name_normalize(p, name, &local, &domain))
        return 0;
    const char *params[] = {local, domain};
    PGresult *res = zx_db_exec(db, ACCOUNT_SELECT " WHERE a.local_part = $1 AND d.name = $2",
                               2, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    zx_account *a = row_account(p, res, 0);
    PQclear(res);
    apr_hash_t *tables = apr_hash_make(p);
    apr_hash_set(tables, a->id, APR_HASH_KEY_STRING, a->attrs);
    if (load_values(p, db, ZX_LEVEL_ACCOUNT, a->id, tables, err) < 0 ||
        zx_gal_attr_load(p, db, a->id, tables, err) < 0)
        return -1;
    *out = a;
    return 1;
}

int zx_dir_list_accounts(apr_pool_t *p, zx_db *db, const char *domain,
                         apr_array_header_t **out, const char **err)
{
    if (domain) {
        zx_domain *d;
        int rc = zx_dir_get_domain(p, db, domain, &d, err);
        if (rc <= 0) {
            if (rc == 0)
                *err = apr_psprintf(p, "no such domain: %s", domain);
            return -1;
        }
    }
    const char *params[] = {domain};
    PGresult *res = zx_db_exec(db, ACCOUNT_SELECT " WHERE $1::text IS NULL OR d.name = lower($1) "
                                                  "ORDER BY d.name, a.local_part",
                               1, params, err);
    if (!res)
        return -1;
    *out = apr_array_make(p, PQntuples(res) + 1, sizeof(zx_account *));
    apr_hash_t *tables = apr_hash_make(p);
    for (int i = 0; i < PQntuples(res); i++) {
        zx_account *a = row_account(p, res, i);
        APR_ARRAY_PUSH(*out, zx_account *) = a;
        apr_hash_set(tables, a->id, APR_HASH_KEY_STRING, a->attrs);
    }
    PQclear(res);
    if ((*out)->nelts == 0)
        return 0;
    if (load_values(p, db, ZX_LEVEL_ACCOUNT, NULL, tables, err) < 0)
        return -1;
    return zx_gal_attr_load(p, db, NULL, tables, err);
}

int zx_dir_modify_account(apr_pool_t *p, zx_db *db, const char *name,
                          const apr_array_header_t *attrs, const char **err)
{
    apr_array_header_t *mods;
    if (parse_attrs(p, ZX_LEVEL_ACCOUNT, attrs, &mods, err) < 0)
        return -1;
    if (mods->nelts == 0) {
        *err = "nothing to modify: give attr value pairs";
        return -1;
    }
    const char *id;
    int rc = zx_dir_account_id(p, db, name, &id, err);
    if (rc != 1)
        return -1;
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    const attr_mod *disp = find_column(mods, COL_DISPLAYNAME);
    const attr_mod *status = find_column(mods, COL_STATUS);
    const attr_mod *cos = find_column(mods, COL_COS);
    const char *cos_id = NULL;
    if (cos && cos->value && zx_dir_cos_id(p, db, cos->value, &cos_id, err) != 1)
        return zx_db_tx_end(db, own, -1, err);
    const char *params[] = {id, disp ? "t" : "f", disp ? disp->value : NULL,
                            status ? status->value : NULL, cos ? "t" : "f", cos_id};
    rc = zx_db_run(db,
                   "UPDATE accounts SET "
                   "  display_name = CASE WHEN $2::boolean THEN $3 ELSE display_name END, "
                   "  status = COALESCE($4, status), "
                   "  cos_id = CASE WHEN $5::boolean THEN $6::bigint ELSE cos_id END, "
                   "  modified_at = now() "
                   " WHERE id = $1::bigint",
                   6, params, err);
    if (rc == 0)
        rc = apply_config(p, db, ZX_LEVEL_ACCOUNT, id, mods, err);
    return zx_db_tx_end(db, own, rc, err);
}

int zx_dir_delete_account(apr_pool_t *p, zx_db *db, const char *name, const char **err)
{
    const char *id;
    if (zx_dir_account_id(p, db, name, &id, err) != 1)
        return -1;
    const char *params[] = {id};
    return zx_db_run(db, "DELETE FROM accounts WHERE id = $1::bigint", 1, params, err);
}
