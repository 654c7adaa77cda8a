/* zxsuite db: schema migrations. */
#include "cli.h"

#include <apr_strings.h>

static ov *migrate_ov(apr_pool_t *p, const zx_migrate_result *r)
{
    ov *o = ov_new(p, OV_OBJ);
    ov_set(o, "known", ov_raw(p, apr_itoa(p, r->known)));
    ov_set(o, "current", ov_raw(p, apr_itoa(p, r->current)));
    ov *a = ov_new(p, OV_ARR);
    for (int i = 0; i < r->applied_names->nelts; i++)
        ov_push(a, ov_str(p, APR_ARRAY_IDX(r->applied_names, i, const char *)));
    ov_set(o, "applied", a);
    return o;
}

static int cmd_db_migrate(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_migrate_result r;
    if (cli_need_db(c, err) < 0 || zx_db_migrate(c->pool, c->db, c->sql_dir, &r, err) < 0)
        return -1;
    *out = migrate_ov(c->pool, &r);
    ov_set(*out, "schema", ov_raw(c->pool, apr_itoa(c->pool, r.applied ? r.known : r.current)));
    return 0;
}

static int cmd_db_status(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_migrate_result r;
    if (cli_need_db(c, err) < 0 || zx_db_migrate_status(c->pool, c->db, c->sql_dir, &r, err) < 0)
        return -1;
    *out = migrate_ov(c->pool, &r);
    ov_set(*out, "upToDate", ov_raw(c->pool, r.current == r.known ? "true" : "false"));
    return 0;
}

const command cli_db_commands[] = {
    {"db", "migrate", 0, 0, "", "apply the missing schema migrations", cmd_db_migrate},
    {"db", "status", 0, 0, "", "show the schema version", cmd_db_status},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
