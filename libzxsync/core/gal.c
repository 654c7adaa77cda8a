/* zxmobile - the Global Address List (zxsync/gal.h): the GAL attributes of accounts
 * (account_gal, sql/023_gal.sql) and the look-ups of Search Store=GAL and ResolveRecipients
 * over gal_keys, which the database's triggers keep. */
#include <zxsync/gal.h>

#include <zxsync/directory.h>
#include <zxsync/text.h>

#include <apr_strings.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

static const zx_gal_attr_def gal_attrs[] = {
    {"givenName", ZX_GAL_TEXT, 0, 256},
    {"sn", ZX_GAL_TEXT, 0, 256},
    {"initials", ZX_GAL_TEXT, 0, 64},
    {"company", ZX_GAL_TEXT, 0, 256},
    {"title", ZX_GAL_TEXT, 0, 256},
    {"ou", ZX_GAL_TEXT, 0, 256},
    {"physicalDeliveryOfficeName", ZX_GAL_TEXT, 0, 256},
    {"telephoneNumber", ZX_GAL_TEXT, 0, 64},
    {"homePhone", ZX_GAL_TEXT, 0, 64},
    {"mobile", ZX_GAL_TEXT, 0, 64},
    {"zimbraMailAlias", ZX_GAL_ADDRESS, 1, 256},
    {"thumbnailPhoto", ZX_GAL_BASE64, 0, 102400},
    {"userCertificate", ZX_GAL_BASE64, 1, 16384},
    {"userSMIMECertificate", ZX_GAL_BASE64, 1, 16384},
    {"zimbraHideInGal", ZX_GAL_BOOL, 0, 5},
};
#define NGAL (sizeof gal_attrs / sizeof gal_attrs[0])

const zx_gal_attr_def *zx_gal_attr_find(const char *name)
{
    for (apr_size_t i = 0; name && i < NGAL; i++)
        if (strcasecmp(gal_attrs[i].name, name) == 0)
            return &gal_attrs[i];
    return NULL;
}

const zx_gal_attr_def *zx_gal_attr_all(apr_size_t *count)
{
    if (count)
        *count = NGAL;
    return gal_attrs;
}

/* base64 (whitespace allowed, removed): the canonical text and the decoded size, else -1 */
static int base64_check(apr_pool_t *p, const char *in, const char **out, apr_size_t *len)
{
    apr_size_t n = strlen(in), k = 0;
    char *s = apr_palloc(p, n + 1);
    for (apr_size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (isspace(c))
            continue;
        if (!isalnum(c) && c != '+' && c != '/' && c != '=')
            return -1;
        s[k++] = (char)c;
    }
    s[k] = '\0';
    if (k == 0 || k % 4)
        return -1;
    for (apr_size_t i = 0; i < k; i++)      /* '=' only as the last one or two */
        if (s[i] == '=' && i < k - 2)
            return -1;
    if (s[k - 2] == '=' && s[k - 1] != '=')
        return -1;
    *len = k / 4 * 3 - (s[k - 1] == '=') - (s[k - 2] == '=');
    *out = s;
    return 0;
}

int zx_gal_attr_validate(apr_pool_t *p, const zx_gal_attr_def *a, const char *value,
                         const char **norm, const char **err)
{
    apr_size_t len = 0;
    switch (a->kind) {
    case ZX_GAL_TEXT:
        for (const unsigned char *c = (const unsigned char *)value; *c; c++)
            if (*c < 0x20 || *c == 0x7f) {
                *err = apr_psprintf(p, "invalid %s: no control characters", a->name);
                return -1;
            }
        if (strlen(value) > a->max) {
            *err = apr_psprintf(p, "invalid %s: at most %lu bytes", a->name,
                                (unsigned long)a->max);
            return -1;
        }
        *norm = value;
        return 0;
    case ZX_GAL_ADDRESS:
        *norm = zx_account_name_normalize(p, value, NULL, NULL);
        if (!*norm) {
            *err = apr_psprintf(p, "invalid %s \"%s\" (expected user@domain)", a->name, value);
            return -1;
        }
        return 0;
    case ZX_GAL_BASE64:
        if (base64_check(p, value, norm, &len) < 0) {
            *err = apr_psprintf(p, "invalid %s: expected base64", a->name);
            return -1;
        }
        if (len > a->max) {
            *err = apr_psprintf(p, "invalid %s: at most %lu bytes (decoded)", a->name,
                                (unsigned long)a->max);
            return -1;
        }
        return 0;
    case ZX_GAL_BOOL:
        if (strcasecmp(value, "TRUE") == 0 || strcasecmp(value, "FALSE") == 0) {
            *norm = strcasecmp(value, "TRUE") == 0 ? "TRUE" : "FALSE";
            return 0;
        }
        *err = apr_psprintf(p, "invalid %s \"%s\" (TRUE, FALSE)", a->name, value);
        return -1;
    }
    *err = "unknown GAL attribute kind";
    return -1;
}

int zx_gal_attr_write(apr_pool_t *p, zx_db *db, const char *account_id,
                      const zx_gal_attr_def *a, zx_config_op op, const char *value,
                      const char **err)
{
    const char *params[] = {account_id, a->name, value};
    switch (op) {
    case ZX_CONFIG_UNSET:
        return zx_db_run(db, "DELETE FROM account_gal WHERE account_id = $1::bigint AND name = $2",
                         2, params, err);
    case ZX_CONFIG_REMOVE:
        return zx_db_run(db, "DELETE FROM account_gal WHERE account_id = $1::bigint "
                             "AND name = $2 AND value = $3", 3, params, err);
    case ZX_CONFIG_ADD:
        return zx_db_run(db, "INSERT INTO account_gal (account_id, name, value) "
                             "VALUES ($1::bigint, $2, $3) ON CONFLICT DO NOTHING", 3, params, err);
    case ZX_CONFIG_REPLACE:
        if (zx_db_run(db, "DELETE FROM account_gal WHERE account_id = $1::bigint AND name = $2",
                      2, params, err) < 0)
            return -1;
        return zx_db_run(db, "INSERT INTO account_gal (account_id, name, value) "
                             "SELECT DISTINCT $1::bigint, $2, v "
                             "  FROM regexp_split_to_table($3, E'\\n') v WHERE v <> ''",
                         3, params, err);
    }
    (void)p;
    return -1;
}

int zx_gal_attr_load(apr_pool_t *p, zx_db *db, const char *account_id, apr_hash_t *tables,
                     const char **err)
{
    const char *params[] = {account_id};
    PGresult *res = zx_db_exec(db, "SELECT account_id, name, value FROM account_gal "
                                   " WHERE $1::bigint IS NULL OR account_id = $1::bigint "
                                   " ORDER BY account_id, name, value",
                               1, params, err);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        apr_table_t *t = apr_hash_get(tables, PQgetvalue(res, i, 0), APR_HASH_KEY_STRING);
        const zx_gal_attr_def *a = zx_gal_attr_find(PQgetvalue(res, i, 1));
        if (t && a)
            apr_table_add(t, a->name, apr_pstrdup(p, PQgetvalue(res, i, 2)));
    }
    PQclear(res);
    return 0;
}

/* ---- look-ups --------------------------------------------------------------------------- */

/* The matches: account id, address, local part, display name, the total; then the
 * attributes of the page's accounts in a second statement. */
#define MATCH_SQL(where) \
    "WITH m AS (SELECT account_id, min(sort) AS sort FROM gal_keys " \
    "            WHERE domain_id = $1::bigint AND " where " GROUP BY account_id), " \
    "page AS (SELECT account_id, sort, count(*) OVER () AS total FROM m " \
    "          ORDER BY sort, account_id OFFSET $3::int LIMIT $4::int) " \
    "SELECT a.id, a.local_part || '@' || d.name, a.local_part, a.display_name, page.total " \
    "  FROM page JOIN accounts a ON a.id = page.account_id JOIN domains d ON d.id = a.domain_id " \
    " ORDER BY page.sort, page.account_id"

static const char *const search_sql =
    MATCH_SQL("key LIKE replace(replace(replace(zx_gal_fold($2), '\\', '\\\\'), '%', '\\%'), "
              "'_', '\\_') || '%'");
/* an address: the account's own or an alias, exactly (both stored lower-case) */
static const char *const exact_sql =
    MATCH_SQL("key = zx_gal_fold(lower($2)) AND position('@' in $2) > 0 AND EXISTS ("
              "  SELECT 1 FROM accounts x JOIN domains y ON y.id = x.domain_id "
              "   WHERE x.id = gal_keys.account_id AND x.local_part || '@' || y.name = lower($2) "
              "  UNION ALL SELECT 1 FROM account_gal g WHERE g.account_id = gal_keys.account_id "
              "   AND g.name = 'zimbraMailAlias' AND g.value = lower($2))");

static const char *dup_or_null(apr_pool_t *p, PGresult *res, int i, int c)
{
    return PQgetisnull(res, i, c) ? NULL : apr_pstrdup(p, PQgetvalue(res, i, c));
}

static int lookup(apr_pool_t *p, zx_db *db, const char *sql, const char *domain_id,
                  const char *q, int offset, int limit, unsigned want,
                  apr_array_header_t **out, int *total, const char **err)
{
    *out = apr_array_make(p, limit > 0 ? limit : 1, sizeof(zx_gal_entry *));
    *total = 0;
    const char *off = apr_itoa(p, offset < 0 ? 0 : offset);
    const char *lim = apr_itoa(p, limit < 0 ? 0 : limit);
    const char *params[] = {domain_id, q, off, lim};
    PGresult *res = zx_db_exec(db, sql, 4, params, err);
    if (!res)
        return -1;
    int n = PQntuples(res);
    apr_hash_t *byid = apr_hash_make(p);
    const char *ids = "{";
    for (int i = 0; i < n; i++) {
        zx_gal_entry *e = apr_pcalloc(p, sizeof *e);
        e->account_id = apr_pstrdup(p, PQgetvalue(res, i, 0));
        e->email = apr_pstrdup(p, PQgetvalue(res, i, 1));
        e->alias = apr_pstrdup(p, PQgetvalue(res, i, 2));
        e->display_name = dup_or_null(p, res, i, 3);
        if (want & ZX_GAL_WANT_CERTS)
            e->certs = apr_array_make(p, 1, sizeof(const char *));
        *total = (int)apr_atoi64(PQgetvalue(res, i, 4));
        APR_ARRAY_PUSH(*out, zx_gal_entry *) = e;
        apr_hash_set(byid, e->account_id, APR_HASH_KEY_STRING, e);
        ids = apr_pstrcat(p, ids, i ? "," : "", e->account_id, NULL);
    }
    PQclear(res);
    if (n == 0) {
        if (offset > 0) {   /* past the end: the total still counts */
            params[2] = "0";
            params[3] = "1";
            if (!(res = zx_db_exec(db, sql, 4, params, err)))
                return -1;
            if (PQntuples(res))
                *total = (int)apr_atoi64(PQgetvalue(res, 0, 4));
            PQclear(res);
        }
        return 0;
    }
    ids = apr_pstrcat(p, ids, "}", NULL);
    const char *aparams[] = {ids, (want & ZX_GAL_WANT_PHOTO) ? "t" : "f",
                             (want & ZX_GAL_WANT_CERTS) ? "t" : "f"};
    res = zx_db_exec(db,
                     "SELECT account_id, name, value FROM account_gal "
                     " WHERE account_id = ANY ($1::bigint[]) "
                     "   AND name IN ('givenName', 'sn', 'company', 'title', "
                     "       'physicalDeliveryOfficeName', 'telephoneNumber', 'homePhone', "
                     "       'mobile', 'thumbnailPhoto', 'userSMIMECertificate', "
                     "       'userCertificate') "
                     "   AND (name <> 'thumbnailPhoto' OR $2::boolean) "
                     "   AND (name NOT IN ('userCertificate', 'userSMIMECertificate') "
                     "        OR $3::boolean) "
                     " ORDER BY account_id, name DESC, value",
                     3, aparams, err);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        zx_gal_entry *e = apr_hash_get(byid, PQgetvalue(res, i, 0), APR_HASH_KEY_STRING);
        const char *name = PQgetvalue(res, i, 1);
        const char *v = apr_pstrdup(p, PQgetvalue(res, i, 2));
        if (!e)
            continue;
        if (strcmp(name, "givenName") == 0)
            e->first_name = v;
        else if (strcmp(name, "sn") == 0)
            e->last_name = v;
        else if (strcmp(name, "company") == 0)
            e->company = v;
        else if (strcmp(name, "title") == 0)
            e->title = v;
        else if (strcmp(name, "physicalDeliveryOfficeName") == 0)
            e->office = v;
        else if (strcmp(name, "telephoneNumber") == 0)
            e->phone = v;
        else if (strcmp(name, "homePhone") == 0)
            e->home_phone = v;
        else if (strcmp(name, "mobile") == 0)
            e->mobile_phone = v;
        else if (strcmp(name, "thumbnailPhoto") == 0) {
            e->photo = v;
            apr_size_t k = strlen(v);     /* stored canonical: no whitespace */
            e->photo_len = k / 4 * 3 - (k && v[k - 1] == '=') - (k > 1 && v[k - 2] == '=');
        }
        else if (e->certs)      /* userSMIMECertificate before userCertificate (DESC) */
            APR_ARRAY_PUSH(e->certs, const char *) = v;
    }
    PQclear(res);
    return 0;
}

static const char *trim(apr_pool_t *p, const char *s)
{
    while (s && isspace((unsigned char)*s))
        s++;
    if (!s)
        return "";
    apr_size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return apr_pstrmemdup(p, s, n);
}

int zx_gal_search(apr_pool_t *p, zx_db *db, const char *domain_id, const char *query,
                  int offset, int limit, unsigned want, apr_array_header_t **out, int *total,
                  const char **err)
{
    const char *q = trim(p, query);
    if (!*q) {
        *out = apr_array_make(p, 1, sizeof(zx_gal_entry *));
        *total = 0;
        return 0;
    }
    return lookup(p, db, search_sql, domain_id, q, offset, limit, want, out, total, err);
}

int zx_gal_resolve(apr_pool_t *p, zx_db *db, const char *domain_id, const char *to, int limit,
                   unsigned want, apr_array_header_t **out, int *total, const char **err)
{
    const char *q = trim(p, to);
    if (strchr(q, '@')) {
        if (lookup(p, db, exact_sql, domain_id, q, 0, limit, want, out, total, err) < 0)
            return -1;
        if (*total > 0)
            return 0;
    }
    return zx_gal_search(p, db, domain_id, q, 0, limit, want, out, total, err);
}
