/* zxmobile - directory operations (domains, COS, accounts). */
#include <zxsync/directory.h>
#include <zxsync/password.h>

#include <apr_strings.h>
#include <ctype.h>
#include <string.h>

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
    char *d = apr_pstrdup(p, at + 1);
    if (l[0] == '.' || l[strlen(l) - 1] == '.' || strstr(l, ".."))
        return NULL;
    for (char *c = l; *c; c++) {
        if (!local_char((unsigned char)*c))
            return NULL;
        *c = (char)tolower((unsigned char)*c);
    }
    for (char *c = d; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (!zx_domain_name_valid(d))
        return NULL;
    if (local)
        *local = l;
    if (domain)
        *domain = d;
    return apr_pstrcat(p, l, "@", d, NULL);
}

int zx_dir_create_domain(apr_pool_t *p, zx_db *db, const char *name, const char **err)
{
    char *lname = apr_pstrdup(p, name ? name : "");
    for (char *c = lname; *c; c++)
        *c = (char)tolower((unsigned char)*c);
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

static int bool_attr(const char *v)
{
    return strcasecmp(v, "TRUE") == 0 || strcasecmp(v, "FALSE") == 0;
}

/* The account attributes known so far: where each is stored and how it is checked. */
typedef enum { A_DISPLAYNAME, A_STATUS, A_COS, A_MOBILESYNC, A_UNKNOWN } attr_kind;

static attr_kind attr_lookup(const char *name)
{
    if (strcasecmp(name, "displayName") == 0)
        return A_DISPLAYNAME;
    if (strcasecmp(name, "zimbraAccountStatus") == 0)
        return A_STATUS;
    if (strcasecmp(name, "zimbraCOSId") == 0)
        return A_COS;
    if (strcasecmp(name, "zimbraFeatureMobileSyncEnabled") == 0)
        return A_MOBILESYNC;
    return A_UNKNOWN;
}

int zx_dir_create_account(apr_pool_t *p, zx_db *db, const char *name, const char *password,
                          const apr_array_header_t *attrs, zx_account **out, const char **err)
{
    const char *local, *domain, *e2;
    const char *norm = zx_account_name_normalize(p, name, &local, &domain);
    if (!norm) {
        *err = apr_psprintf(p, "invalid account name \"%s\" (expected user@domain)", name);
        return -1;
    }
    const char *display = NULL, *status = "active", *cos = "default", *mobilesync = NULL;
    int nattrs = attrs ? attrs->nelts : 0;
    if (nattrs % 2) {
        *err = "attributes must come in name value pairs";
        return -1;
    }
    for (int i = 0; i < nattrs; i += 2) {
        const char *an = APR_ARRAY_IDX(attrs, i, const char *);
        const char *av = APR_ARRAY_IDX(attrs, i + 1, const char *);
        switch (attr_lookup(an)) {
        case A_DISPLAYNAME:
            display = av;
            break;
        case A_STATUS:
            if (strcmp(av, "active") && strcmp(av, "locked") && strcmp(av, "closed")) {
                *err = apr_psprintf(p, "invalid zimbraAccountStatus \"%s\" (active, locked, closed)", av);
                return -1;
            }
            status = av;
            break;
        case A_COS:
            cos = av;
            break;
        case A_MOBILESYNC:
            if (!bool_attr(av)) {
                *err = apr_psprintf(p, "zimbraFeatureMobileSyncEnabled must be TRUE or FALSE, not \"%s\"", av);
                return -1;
            }
            mobilesync = strcasecmp(av, "TRUE") == 0 ? "TRUE" : "FALSE";
            break;
        default:
            *err = apr_psprintf(p, "unknown attribute \"%s\"", an);
            return -1;
        }
    }
    const char *hash = NULL;
    if (password && *password && zx_password_hash(p, password, NULL, &hash, err) < 0)
        return -1;

    if (zx_db_run(db, "BEGIN", 0, NULL, err) < 0)
        return -1;
    const char *params[] = {local, domain, display, status, cos, hash};
    PGresult *res = zx_db_exec(
        db,
        "INSERT INTO accounts (local_part, domain_id, display_name, status, cos_id, "
        "                      password_hash, password_changed_at) "
        "SELECT $1, d.id, $3, $4, c.id, $6, CASE WHEN $6::text IS NULL THEN NULL ELSE now() END "
        "  FROM domains d LEFT JOIN cos c ON c.name = lower($5) "
        " WHERE d.name = $2 "
        "RETURNING id, (SELECT count(*) FROM cos WHERE name = lower($5))",
        6, params, err);
    if (!res) {
        if (strcmp(zx_db_sqlstate(db), "23505") == 0)
            *err = apr_psprintf(p, "account %s already exists", norm);
        zx_db_run(db, "ROLLBACK", 0, NULL, &e2);
        return -1;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        *err = apr_psprintf(p, "no such domain: %s", domain);
        zx_db_run(db, "ROLLBACK", 0, NULL, &e2);
        return -1;
    }
    const char *id = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    int cos_found = strcmp(PQgetvalue(res, 0, 1), "0") != 0;
    PQclear(res);
    if (!cos_found) {
        *err = apr_psprintf(p, "no such COS: %s", cos);
        zx_db_run(db, "ROLLBACK", 0, NULL, &e2);
        return -1;
    }
    if (mobilesync) {
        const char *ap[] = {id, "zimbraFeatureMobileSyncEnabled", mobilesync};
        if (zx_db_run(db, "INSERT INTO account_attrs (account_id, name, value) VALUES ($1, $2, $3)",
                      3, ap, err) < 0) {
            zx_db_run(db, "ROLLBACK", 0, NULL, &e2);
            return -1;
        }
    }
    if (zx_db_run(db, "COMMIT", 0, NULL, err) < 0)
        return -1;
    if (out && zx_dir_get_account(p, db, norm, out, err) != 1)
        return -1;
    return 0;
}

#define ACCOUNT_SELECT \
    "SELECT a.id, a.uuid, a.local_part || '@' || d.name, a.display_name, a.status, c.name, " \
    "       to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') " \
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
    const char *ap[] = {a->id};
    res = zx_db_exec(db, "SELECT name, value FROM account_attrs WHERE account_id = $1 "
                         "ORDER BY name, value", 1, ap, err);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        apr_table_add(a->attrs, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    PQclear(res);
    *out = a;
    return 1;
}

int zx_dir_list_accounts(apr_pool_t *p, zx_db *db, const char *domain,
                         apr_array_header_t **out, const char **err)
{
    const char *params[] = {domain};
    PGresult *res = zx_db_exec(db, ACCOUNT_SELECT " WHERE $1::text IS NULL OR d.name = lower($1) "
                                                  "ORDER BY d.name, a.local_part",
                               1, params, err);
    if (!res)
        return -1;
    *out = apr_array_make(p, PQntuples(res) + 1, sizeof(zx_account *));
    for (int i = 0; i < PQntuples(res); i++)
        APR_ARRAY_PUSH(*out, zx_account *) = row_account(p, res, i);
    PQclear(res);
    return 0;
}
