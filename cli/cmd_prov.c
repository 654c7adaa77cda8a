/* zxsuite prov: the directory, with zmprov's command names and argument order. */
#include "cli.h"

#include <apr_strings.h>
#include <zxsync/directory.h>

static ov *account_ov(apr_pool_t *p, const zx_account *a)
{
    ov *o = ov_new(p, OV_OBJ);
    ov_set(o, "name", ov_str(p, a->name));
    ov_set(o, "id", ov_str(p, a->uuid));
    ov_set(o, "displayName", ov_str(p, a->display_name));
    ov_set(o, "zimbraAccountStatus", ov_str(p, a->status));
    ov_set(o, "cos", ov_str(p, a->cos));
    ov_set(o, "createdAt", ov_str(p, a->created_at));
    const apr_array_header_t *arr = apr_table_elts(a->attrs);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    for (int i = 0; i < arr->nelts; i++)
        ov_set(o, e[i].key, ov_str(p, e[i].val));
    return o;
}

static int cmd_create_domain(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (cli_need_db(c, err) < 0 || zx_dir_create_domain(c->pool, c->db, argv[0], err) < 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "domain", ov_str(c->pool, argv[0]));
    ov_set(*out, "created", ov_raw(c->pool, "true"));
    return 0;
}

static int cmd_create_account(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    apr_array_header_t *attrs = apr_array_make(c->pool, argc, sizeof(const char *));
    for (int i = 2; i < argc; i++)
        APR_ARRAY_PUSH(attrs, const char *) = argv[i];
    zx_account *a;
    if (cli_need_db(c, err) < 0 ||
        zx_dir_create_account(c->pool, c->db, argv[0], argv[1], attrs, &a, err) < 0)
        return -1;
    *out = account_ov(c->pool, a);
    return 0;
}

static int cmd_get_account(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_account *a;
    if (cli_need_db(c, err) < 0)
        return -1;
    int rc = zx_dir_get_account(c->pool, c->db, argv[0], &a, err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        *err = apr_psprintf(c->pool, "no such account: %s", argv[0]);
        return -1;
    }
    *out = account_ov(c->pool, a);
    return 0;
}

static int cmd_get_all_accounts(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    apr_array_header_t *list;
    if (cli_need_db(c, err) < 0 ||
        zx_dir_list_accounts(c->pool, c->db, argc > 0 ? argv[0] : NULL, &list, err) < 0)
        return -1;
    ov *arr = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < list->nelts; i++)
        ov_push(arr, account_ov(c->pool, APR_ARRAY_IDX(list, i, zx_account *)));
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "accounts", arr);
    return 0;
}

const command cli_prov_commands[] = {
    {"prov", "createDomain", 1, 1, "<name>", "create a domain", cmd_create_domain},
    {"prov", "createAccount", 2, -1, "<name@domain> <password> [attr value]...",
     "create an account (attributes: displayName, zimbraAccountStatus, zimbraCOSId, "
     "zimbraFeatureMobileSyncEnabled)", cmd_create_account},
    {"prov", "getAccount", 1, 1, "<name@domain>", "show an account", cmd_get_account},
    {"prov", "getAllAccounts", 0, 1, "[domain]", "list accounts", cmd_get_all_accounts},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
