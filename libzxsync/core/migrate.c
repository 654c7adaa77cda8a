/* zxmobile - schema migrations: sql/NNN_name.sql applied in order, one transaction each,
 * recorded in zx_schema_migrations. */
#include <zxsync/db.h>
#include <zxsync/log.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Any stable 64-bit number: serialises concurrent migrate runs. */
#define MIGRATE_LOCK_KEY "7427390107158091017"

static int cmp_migration(const void *a, const void *b)
{
    const zx_migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

int zx_migrations_scan(apr_pool_t *p, const char *dir, apr_array_header_t **list,
                       const char **err)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_status_t rv = apr_dir_open(&d, dir, p);
    if (rv != APR_SUCCESS) {
        char buf[256];
        *err = apr_psprintf(p, "cannot open migrations directory %s: %s", dir,
                            apr_strerror(rv, buf, sizeof buf));
        return -1;
    }
    apr_array_header_t *a = apr_array_make(p, 16, sizeof(zx_migration));
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS) {
        const char *n = fi.name;
        size_t len = strlen(n);
        if (len < 9 || strcmp(n + len - 4, ".sql") != 0)
            continue;
        if (!isdigit((unsigned char)n[0]) || !isdigit((unsigned char)n[1]) ||
            !isdigit((unsigned char)n[2]) || n[3] != '_')
            continue;
        zx_migration *m = apr_array_push(a);
        m->version = atoi(n);
        m->name = apr_pstrdup(p, n);
        m->path = apr_pstrcat(p, dir, "/", n, NULL);
    }
    apr_dir_close(d);
    qsort(a->elts, (size_t)a->nelts, sizeof(zx_migration), cmp_migration);
    zx_migration *m = (zx_migration *)a->elts;
    for (int i = 1; i < a->nelts; i++) {
        if (m[i].version == m[i - 1].version) {
            *err = apr_psprintf(p, "two migrations share number %03d: %s and %s",
                                m[i].version, m[i - 1].name, m[i].name);
            return -1;
        }
    }
    if (a->nelts == 0) {
        *err = apr_psprintf(p, "no migrations (NNN_name.sql) in %s", dir);
        return -1;
    }
    *list = a;
    return 0;
}

static int table_exists(zx_db *db, int *exists, const char **err)
{
    PGresult *res = zx_db_exec(db, "SELECT to_regclass('zx_schema_migrations') IS NOT NULL",
                               0, NULL, err);
    if (!res)
        return -1;
    *exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

/* applied[] = set of applied versions (as a sorted int array) */
static int read_applied(apr_pool_t *p, zx_db *db, apr_array_header_t **applied,
                        const char **err)
{
    *applied = apr_array_make(p, 16, sizeof(int));
    int exists;
    if (table_exists(db, &exists, err) < 0)
        return -1;
    if (!exists)
        return 0;
    PGresult *res = zx_db_exec(db, "SELECT version FROM zx_schema_migrations ORDER BY version",
                               0, NULL, err);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        *(int *)apr_array_push(*applied) = atoi(PQgetvalue(res, i, 0));
    PQclear(res);
    return 0;
}

static int is_applied(const apr_array_header_t *applied, int v)
{
    for (int i = 0; i < applied->nelts; i++)
        if (((const int *)applied->elts)[i] == v)
            return 1;
    return 0;
}

static int state(apr_pool_t *p, zx_db *db, const char *dir, zx_migrate_result *res,
                 apr_array_header_t **list, apr_array_header_t **applied, const char **err)
{
    memset(res, 0, sizeof *res);
    res->applied_names = apr_array_make(p, 4, sizeof(const char *));
    if (zx_migrations_scan(p, dir, list, err) < 0)
        return -1;
    res->known = ((zx_migration *)(*list)->elts)[(*list)->nelts - 1].version;
    if (read_applied(p, db, applied, err) < 0)
        return -1;
    res->current = (*applied)->nelts ? ((int *)(*applied)->elts)[(*applied)->nelts - 1] : -1;
    return 0;
}

int zx_db_migrate_status(apr_pool_t *p, zx_db *db, const char *dir, zx_migrate_result *res,
                         const char **err)
{
    apr_array_header_t *list, *applied;
    return state(p, db, dir, res, &list, &applied, err);
}

static int read_file(apr_pool_t *p, const char *path, char **out, const char **err)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char buf[256];
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, p);
    if (rv == APR_SUCCESS)
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot read %s: %s", path, apr_strerror(rv, buf, sizeof buf));
        return -1;
    }
    char *s = apr_palloc(p, (apr_size_t)fi.size + 1);
    apr_size_t n = (apr_size_t)fi.size;
    rv = apr_file_read_full(f, s, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *err = apr_psprintf(p, "cannot read %s: %s", path, apr_strerror(rv, buf, sizeof buf));
        return -1;
    }
    s[n] = '\0';
    *out = s;
    return 0;
}

int zx_db_migrate(apr_pool_t *p, zx_db *db, const char *dir, zx_migrate_result *res,
                  const char **err)
{
    apr_array_header_t *list, *applied;
    const char *e2;
    if (zx_db_run(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL, err) < 0)
        return -1;
    int rc = -1;
    if (zx_db_run(db,
                  "CREATE TABLE IF NOT EXISTS zx_schema_migrations ("
                  " version integer PRIMARY KEY,"
                  " name text NOT NULL,"
                  " applied_at timestamptz NOT NULL DEFAULT now())",
                  0, NULL, err) < 0)
        goto out;
    if (state(p, db, dir, res, &list, &applied, err) < 0)
        goto out;
    if (res->current > res->known) {
        *err = apr_psprintf(p, "the database schema is at migration %03d, newer than the "
                               "newest this program knows (%03d): upgrade zxmobile first",
                            res->current, res->known);
        goto out;
    }
    for (int i = 0; i < list->nelts; i++) {
        const zx_migration *m = &((zx_migration *)list->elts)[i];
        if (is_applied(applied, m->version))
            continue;
        char *sql;
        if (read_file(p, m->path, &sql, err) < 0)
            goto out;
        const char *params[2] = {apr_itoa(p, m->version), m->name};
        if (zx_db_run(db, "BEGIN", 0, NULL, err) < 0)
            goto out;
        PGresult *r = PQexec(zx_db_conn(db), sql);   /* trusted file, several statements */
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
            *err = apr_psprintf(p, "migration %s failed: %s", m->name,
                                PQresultErrorMessage(r));
            PQclear(r);
            zx_db_run(db, "ROLLBACK", 0, NULL, &e2);
            goto out;
        }
        PQclear(r);
        if (zx_db_run(db, "INSERT INTO zx_schema_migrations (version, name) VALUES ($1, $2)",
                      2, params, err) < 0 ||
            zx_db_run(db, "COMMIT", 0, NULL, err) < 0) {
            zx_db_run(db, "ROLLBACK", 0, NULL, &e2);
            goto out;
        }
        *(const char **)apr_array_push(res->applied_names) = m->name;
        res->applied++;
        zx_log(NULL, ZX_LOG_INFO, ZXLOGNO(00101) "applied migration %s", m->name);
    }
    rc = 0;
out:
    zx_db_run(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0, NULL, &e2);
    return rc;
}
