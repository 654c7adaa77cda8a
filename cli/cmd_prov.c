/* zxsuite prov: the directory, with zmprov's command names, aliases and argument order.
 *
 * Attributes are "attr value" pairs: displayName, zimbraAccountStatus, zimbraCOSId and
 * userPassword (a crypt(3) hash) on accounts, and every attribute of the registry that the
 * level allows (zxsuite config info).  "+attr value" adds a value to a multi-valued attribute,
 * "-attr value" removes one, "attr ''" removes the attribute.  Each command is one
 * transaction.
 */
#include "cli.h"

#include <apr_strings.h>
#include <string.h>
#include <strings.h>
#include <zxsync/auth.h>
#include <zxsync/config.h>
#include <zxsync/directory.h>
#include <zxsync/gal.h>
#include <zxsync/password.h>

/* ---- output ------------------------------------------------------------------------------ */

/* Registry attributes of an entry: multi-valued ones as lists. */
static void attrs_ov(apr_pool_t *p, ov *o, apr_table_t *attrs)
{
    const apr_array_header_t *arr = apr_table_elts(attrs);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    for (int i = 0; i < arr->nelts; i++) {
        const zx_attr_def *a = zx_attr_find(e[i].key);
        if (zx_gal_attr_find(e[i].key))
            continue;           /* account_ov lists them all */
        if (!a || !a->multi) {
            ov_set(o, e[i].key, ov_str(p, e[i].val));
            continue;
        }
        ov *list = NULL;
        for (int k = 0; k < o->keys->nelts; k++)
            if (strcmp(APR_ARRAY_IDX(o->keys, k, const char *), e[i].key) == 0)
                list = APR_ARRAY_IDX(o->vals, k, ov *);
        if (!list) {
            list = ov_new(p, OV_ARR);
            ov_set(o, e[i].key, list);
        }
        ov_push(list, ov_str(p, e[i].val));
    }
}

static ov *account_ov(apr_pool_t *p, const zx_account *a)
{
    ov *o = ov_new(p, OV_OBJ);
    ov_set(o, "name", ov_str(p, a->name));
    ov_set(o, "id", ov_str(p, a->uuid));
    ov_set(o, "displayName", ov_str(p, a->display_name));
    ov_set(o, "zimbraAccountStatus", ov_str(p, a->status));
    ov_set(o, "cos", ov_str(p, a->cos));
    ov_set(o, "createdAt", ov_str(p, a->created_at));
    attrs_ov(p, o, a->attrs);
    apr_size_t n;     /* every GAL attribute, unset ones too (null; empty in the text form) */
    const zx_gal_attr_def *g = zx_gal_attr_all(&n);
    for (apr_size_t i = 0; i < n; i++) {
        const apr_array_header_t *arr = apr_table_elts(a->attrs);
        const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
        ov *list = g[i].multi ? ov_new(p, OV_ARR) : NULL, *one = NULL;
        for (int k = 0; k < arr->nelts; k++)
            if (strcmp(e[k].key, g[i].name) == 0) {
                if (list)
                    ov_push(list, ov_str(p, e[k].val));
                else
                    one = ov_str(p, e[k].val);
            }
        ov_set(o, g[i].name, list ? list : one ? one : ov_str(p, NULL));
    }
    return o;
}

/* A COS or a domain. */
static ov *owner_ov(apr_pool_t *p, const zx_cos *c)
{
    ov *o = ov_new(p, OV_OBJ);
    ov_set(o, "name", ov_str(p, c->name));
    ov_set(o, "id", ov_raw(p, c->id));
    ov_set(o, "accounts", ov_int(p, c->accounts));
    ov_set(o, "createdAt", ov_str(p, c->created_at));
    attrs_ov(p, o, c->attrs);
    return o;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static apr_array_header_t *pairs(cli *c, int argc, const char **argv, int first)
{
    apr_array_header_t *a = apr_array_make(c->pool, argc, sizeof(const char *));
    for (int i = first; i < argc; i++)
        APR_ARRAY_PUSH(a, const char *) = argv[i];
    return a;
}

/* Take "userPassword <hash>" out of the pairs (it goes through zx_auth_set_password). */
static int take_password_hash(cli *c, apr_array_header_t *attrs, const char **hash,
                              const char **err)
{
    *hash = NULL;
    apr_array_header_t *rest = apr_array_make(c->pool, attrs->nelts, sizeof(const char *));
    for (int i = 0; i < attrs->nelts; i++) {
        const char *n = APR_ARRAY_IDX(attrs, i, const char *);
        if (i % 2 == 0 && i + 1 < attrs->nelts && strcasecmp(n, "userPassword") == 0) {
            const char *v = APR_ARRAY_IDX(attrs, i + 1, const char *);
            const char *h = strncasecmp(v, "{CRYPT}", 7) == 0 ? v + 7 : v;
            if (*hash) {
                *err = "attribute userPassword given more than once";
                return -1;
            }
            if (!zx_password_is_hash(h)) {
                *err = "userPassword must be a crypt(3) hash ({CRYPT}$6$..., $y$..., $2b$...); "
                       "use setPassword for a clear-text password";
                return -1;
            }
            *hash = v;
            i++;
            continue;
        }
        APR_ARRAY_PUSH(rest, const char *) = n;
    }
    *attrs = *rest;
    return 0;
}

static int tx(cli *c, const char *what, const char **err)
{
    return zx_db_run(c->db, what, 0, NULL, err);
}

static int tx_fail(cli *c)
{
    const char *e2;
    if (PQtransactionStatus(zx_db_conn(c->db)) != PQTRANS_IDLE)
        zx_db_run(c->db, "ROLLBACK", 0, NULL, &e2);
    return -1;
}

static int need_found(cli *c, int rc, const char *what, const char *name, const char **err)
{
    if (rc == 0)
        *err = apr_psprintf(c->pool, "no such %s: %s", what, name);
    return rc == 1 ? 0 : -1;
}

/* ---- domains -------------------------------------------------------------------------------- */

static int cmd_create_domain(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_domain *d;
    if (cli_need_db(c, err) < 0 || tx(c, "BEGIN", err) < 0)
        return -1;
    if (zx_dir_create_domain(c->pool, c->db, argv[0], err) < 0 ||
        (argc > 1 && zx_dir_modify_domain(c->pool, c->db, argv[0], pairs(c, argc, argv, 1),
                                          err) < 0) ||
        need_found(c, zx_dir_get_domain(c->pool, c->db, argv[0], &d, err), "domain", argv[0],
                   err) < 0 ||
        tx(c, "COMMIT", err) < 0)
        return tx_fail(c);
    *out = owner_ov(c->pool, d);
    ov_set(*out, "created", ov_bool(c->pool, 1));
    return 0;
}

static int cmd_get_domain(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_domain *d;
    if (cli_need_db(c, err) < 0 ||
        need_found(c, zx_dir_get_domain(c->pool, c->db, argv[0], &d, err), "domain", argv[0],
                   err) < 0)
        return -1;
    *out = owner_ov(c->pool, d);
    return 0;
}

static int cmd_get_all_domains(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    apr_array_header_t *list;
    if (cli_need_db(c, err) < 0 || zx_dir_list_domains(c->pool, c->db, &list, err) < 0)
        return -1;
    ov *arr = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < list->nelts; i++)
        ov_push(arr, owner_ov(c->pool, APR_ARRAY_IDX(list, i, zx_domain *)));
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "domains", arr);
    return 0;
}

static int cmd_modify_domain(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (cli_need_db(c, err) < 0 ||
        zx_dir_modify_domain(c->pool, c->db, argv[0], pairs(c, argc, argv, 1), err) < 0)
        return -1;
    return cmd_get_domain(c, 1, argv, out, err);
}

static int cmd_delete_domain(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (cli_need_db(c, err) < 0 || zx_dir_delete_domain(c->pool, c->db, argv[0], err) < 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "domain", ov_str(c->pool, argv[0]));
    ov_set(*out, "deleted", ov_bool(c->pool, 1));
    return 0;
}

/* ---- classes of service -------------------------------------------------------------------- */

static int cmd_create_cos(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_cos *cos;
    if (cli_need_db(c, err) < 0 ||
        zx_dir_create_cos(c->pool, c->db, argv[0], pairs(c, argc, argv, 1), &cos, err) < 0)
        return -1;
    *out = owner_ov(c->pool, cos);
    return 0;
}

static int cmd_get_cos(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_cos *cos;
    if (cli_need_db(c, err) < 0 ||
        need_found(c, zx_dir_get_cos(c->pool, c->db, argv[0], &cos, err), "COS", argv[0],
                   err) < 0)
        return -1;
    *out = owner_ov(c->pool, cos);
    return 0;
}

static int cmd_get_all_cos(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    apr_array_header_t *list;
    if (cli_need_db(c, err) < 0 || zx_dir_list_cos(c->pool, c->db, &list, err) < 0)
        return -1;
    ov *arr = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < list->nelts; i++)
        ov_push(arr, owner_ov(c->pool, APR_ARRAY_IDX(list, i, zx_cos *)));
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "cos", arr);
    return 0;
}

static int cmd_modify_cos(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (cli_need_db(c, err) < 0 ||
        zx_dir_modify_cos(c->pool, c->db, argv[0], pairs(c, argc, argv, 1), err) < 0)
        return -1;
    return cmd_get_cos(c, 1, argv, out, err);
}

static int cmd_delete_cos(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (cli_need_db(c, err) < 0 || zx_dir_delete_cos(c->pool, c->db, argv[0], err) < 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "cos", ov_str(c->pool, argv[0]));
    ov_set(*out, "deleted", ov_bool(c->pool, 1));
    return 0;
}

/* ---- accounts ------------------------------------------------------------------------------- */

static int cmd_get_account(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_account *a;
    if (cli_need_db(c, err) < 0 ||
        need_found(c, zx_dir_get_account(c->pool, c->db, argv[0], &a, err), "account",
                   argv[0], err) < 0)
        return -1;
    *out = account_ov(c->pool, a);
    return 0;
}

static int cmd_create_account(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    apr_array_header_t *attrs = pairs(c, argc, argv, 2);
    const char *hash;
    zx_account *a;
    if (take_password_hash(c, attrs, &hash, err) < 0)
        return -1;
    if (hash && *argv[1]) {
        *err = "give either a password or userPassword, not both (use \"\" as the password)";
        return -1;
    }
    if (cli_need_db(c, err) < 0 || tx(c, "BEGIN", err) < 0)
        return -1;
    if (zx_dir_create_account(c->pool, c->db, argv[0], argv[1], attrs, NULL, err) < 0 ||
        (hash && zx_auth_set_password(c->pool, c->db, argv[0], hash, 1, err) < 0) ||
        need_found(c, zx_dir_get_account(c->pool, c->db, argv[0], &a, err), "account",
                   argv[0], err) < 0 ||
        tx(c, "COMMIT", err) < 0)
        return tx_fail(c);
    *out = account_ov(c->pool, a);
    return 0;
}

static int cmd_modify_account(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    apr_array_header_t *attrs = pairs(c, argc, argv, 1);
    const char *hash;
    if (take_password_hash(c, attrs, &hash, err) < 0 || cli_need_db(c, err) < 0 ||
        tx(c, "BEGIN", err) < 0)
        return -1;
    if ((attrs->nelts > 0 || !hash) &&
        zx_dir_modify_account(c->pool, c->db, argv[0], attrs, err) < 0)
        return tx_fail(c);
    if (hash && zx_auth_set_password(c->pool, c->db, argv[0], hash, 1, err) < 0)
        return tx_fail(c);
    if (tx(c, "COMMIT", err) < 0)
        return tx_fail(c);
    return cmd_get_account(c, 1, argv, out, err);
}

static int cmd_set_password(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (cli_need_db(c, err) < 0 ||
        zx_auth_set_password(c->pool, c->db, argv[0], argv[1], 0, err) < 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "name", ov_str(c->pool, argv[0]));
    ov_set(*out, "passwordChanged", ov_bool(c->pool, 1));
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

static int cmd_delete_account(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (cli_need_db(c, err) < 0 || zx_dir_delete_account(c->pool, c->db, argv[0], err) < 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "name", ov_str(c->pool, argv[0]));
    ov_set(*out, "deleted", ov_bool(c->pool, 1));
    return 0;
}

#define ATTRS "[attr value]..."
#define MODS "<attr> <value> [attr value]... (+attr/-attr for multi-valued attributes)"

const command cli_prov_commands[] = {
    {"prov", "createDomain", 1, -1, "<name> " ATTRS,
     "create a domain (attributes: those of the domain level, see zxsuite config info)",
     cmd_create_domain},
    {"prov", "getDomain", 1, 1, "<name>", "show a domain", cmd_get_domain},
    {"prov", "getAllDomains", 0, 0, "", "list domains", cmd_get_all_domains},
    {"prov", "modifyDomain", 3, -1, "<name> " MODS, "change domain attributes", cmd_modify_domain},
    {"prov", "deleteDomain", 1, 1, "<name>", "delete a domain that has no accounts",
     cmd_delete_domain},
    {"prov", "createCos", 1, -1, "<name> " ATTRS, "create a class of service", cmd_create_cos},
    {"prov", "getCos", 1, 1, "<name|id>", "show a class of service", cmd_get_cos},
    {"prov", "getAllCos", 0, 0, "", "list classes of service", cmd_get_all_cos},
    {"prov", "modifyCos", 3, -1, "<name|id> " MODS, "change COS attributes", cmd_modify_cos},
    {"prov", "deleteCos", 1, 1, "<name|id>", "delete a class of service no account uses",
     cmd_delete_cos},
    {"prov", "createAccount", 2, -1, "<name@domain> <password> " ATTRS,
     "create an account (password \"\" = none; attributes: displayName, zimbraAccountStatus "
     "active|locked|closed, zimbraCOSId <cos name|id>, userPassword <crypt hash>, and those of "
     "the account level)", cmd_create_account},
    {"prov", "modifyAccount", 3, -1, "<name@domain> " MODS,
     "change account attributes (as createAccount; userPassword imports a {CRYPT} hash)",
     cmd_modify_account},
    {"prov", "setPassword", 2, 2, "<name@domain> <password>", "set an account's password",
     cmd_set_password},
    {"prov", "getAccount", 1, 1, "<name@domain>", "show an account", cmd_get_account},
    {"prov", "getAllAccounts", 0, 1, "[domain]", "list accounts", cmd_get_all_accounts},
    {"prov", "deleteAccount", 1, 1, "<name@domain>", "delete an account and everything it owns",
     cmd_delete_account},
    /* zmprov's short names */
    {"prov", "cd", 1, -1, "<name> " ATTRS, "= createDomain", cmd_create_domain},
    {"prov", "gd", 1, 1, "<name>", "= getDomain", cmd_get_domain},
    {"prov", "gad", 0, 0, "", "= getAllDomains", cmd_get_all_domains},
    {"prov", "md", 3, -1, "<name> " MODS, "= modifyDomain", cmd_modify_domain},
    {"prov", "dd", 1, 1, "<name>", "= deleteDomain", cmd_delete_domain},
    {"prov", "cc", 1, -1, "<name> " ATTRS, "= createCos", cmd_create_cos},
    {"prov", "gc", 1, 1, "<name|id>", "= getCos", cmd_get_cos},
    {"prov", "gac", 0, 0, "", "= getAllCos", cmd_get_all_cos},
    {"prov", "mc", 3, -1, "<name|id> " MODS, "= modifyCos", cmd_modify_cos},
    {"prov", "dc", 1, 1, "<name|id>", "= deleteCos", cmd_delete_cos},
    {"prov", "ca", 2, -1, "<name@domain> <password> " ATTRS, "= createAccount",
     cmd_create_account},
    {"prov", "ma", 3, -1, "<name@domain> " MODS, "= modifyAccount", cmd_modify_account},
    {"prov", "sp", 2, 2, "<name@domain> <password>", "= setPassword", cmd_set_password},
    {"prov", "ga", 1, 1, "<name@domain>", "= getAccount", cmd_get_account},
    {"prov", "gaa", 0, 1, "[domain]", "= getAllAccounts", cmd_get_all_accounts},
    {"prov", "da", 1, 1, "<name@domain>", "= deleteAccount", cmd_delete_account},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
