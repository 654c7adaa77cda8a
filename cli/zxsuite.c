/* zxsuite - the zxmobile admin CLI.
 *
 *   zxsuite [--db CONNINFO] [--json] [--sql-dir DIR] <module> <command> [args...]
 *
 * Mandatory arguments are positional, optional ones are "name value" pairs (the Zextras CLI
 * convention).  Module and command names are case-insensitive.  Each command is one row of
 * the table at the bottom and a thin call into libzxsync.
 */
#include <zxsync/db.h>
#include <zxsync/directory.h>
#include <zxsync/log.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

/* ---- output: one value tree, printed as JSON or as the indented key/value layout ---------- */

typedef enum { OV_OBJ, OV_ARR, OV_STR, OV_RAW } ov_kind;
typedef struct ov ov;
struct ov {
    ov_kind kind;
    const char *s;                 /* OV_STR / OV_RAW (numbers, true/false, null) */
    apr_array_header_t *keys;      /* OV_OBJ: const char * */
    apr_array_header_t *vals;      /* OV_OBJ, OV_ARR: ov * */
};

static ov *ov_new(apr_pool_t *p, ov_kind k)
{
    ov *v = apr_pcalloc(p, sizeof *v);
    v->kind = k;
    if (k == OV_OBJ)
        v->keys = apr_array_make(p, 8, sizeof(const char *));
    if (k == OV_OBJ || k == OV_ARR)
        v->vals = apr_array_make(p, 8, sizeof(ov *));
    return v;
}

static ov *ov_str(apr_pool_t *p, const char *s)
{
    ov *v = ov_new(p, s ? OV_STR : OV_RAW);
    v->s = s ? s : "null";
    return v;
}

static ov *ov_raw(apr_pool_t *p, const char *s)
{
    ov *v = ov_new(p, OV_RAW);
    v->s = s;
    return v;
}

static void ov_set(ov *o, const char *key, ov *val)
{
    APR_ARRAY_PUSH(o->keys, const char *) = key;
    APR_ARRAY_PUSH(o->vals, ov *) = val;
}

static void ov_push(ov *a, ov *val)
{
    APR_ARRAY_PUSH(a->vals, ov *) = val;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*c < 0x20)
                fprintf(f, "\\u%04x", *c);
            else
                fputc(*c, f);
        }
    }
    fputc('"', f);
}

static void print_json(FILE *f, const ov *v)
{
    switch (v->kind) {
    case OV_STR:
        json_str(f, v->s);
        break;
    case OV_RAW:
        fputs(v->s, f);
        break;
    case OV_ARR:
        fputc('[', f);
        for (int i = 0; i < v->vals->nelts; i++) {
            if (i)
                fputc(',', f);
            print_json(f, APR_ARRAY_IDX(v->vals, i, ov *));
        }
        fputc(']', f);
        break;
    case OV_OBJ:
        fputc('{', f);
        for (int i = 0; i < v->keys->nelts; i++) {
            if (i)
                fputc(',', f);
            json_str(f, APR_ARRAY_IDX(v->keys, i, const char *));
            fputc(':', f);
            print_json(f, APR_ARRAY_IDX(v->vals, i, ov *));
        }
        fputc('}', f);
        break;
    }
}

static void print_human(FILE *f, const ov *v, int indent)
{
    if (v->kind == OV_ARR) {
        for (int i = 0; i < v->vals->nelts; i++) {
            const ov *e = APR_ARRAY_IDX(v->vals, i, ov *);
            if (e->kind == OV_OBJ || e->kind == OV_ARR) {
                print_human(f, e, indent);
                if (i + 1 < v->vals->nelts)
                    fputc('\n', f);
            }
            else {
                fprintf(f, "%*s%s\n", indent, "", e->s);
            }
        }
        return;
    }
    if (v->kind != OV_OBJ) {
        fprintf(f, "%*s%s\n", indent, "", v->s);
        return;
    }
    int width = 0;
    for (int i = 0; i < v->keys->nelts; i++) {
        int n = (int)strlen(APR_ARRAY_IDX(v->keys, i, const char *));
        if (n > width)
            width = n;
    }
    for (int i = 0; i < v->keys->nelts; i++) {
        const char *k = APR_ARRAY_IDX(v->keys, i, const char *);
        const ov *e = APR_ARRAY_IDX(v->vals, i, ov *);
        if (e->kind == OV_OBJ || e->kind == OV_ARR) {
            fprintf(f, "%*s%s\n", indent, "", k);
            print_human(f, e, indent + 8);
        }
        else {
            fprintf(f, "%*s%-*s    %s\n", indent, "", width, k, e->s);
        }
    }
}

/* ---- command context ------------------------------------------------------------------ */

typedef struct {
    apr_pool_t *pool;
    const char *conninfo;
    const char *sql_dir;
    int json;
    zx_db *db;
} cli;

typedef int cmd_fn(cli *c, int argc, const char **argv, ov **out, const char **err);

static int need_db(cli *c, const char **err)
{
    if (c->db)
        return 0;
    c->db = zx_db_connect(c->pool, c->conninfo, err);
    return c->db ? 0 : -1;
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
    const apr_array_header_t *arr = apr_table_elts(a->attrs);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    for (int i = 0; i < arr->nelts; i++)
        ov_set(o, e[i].key, ov_str(p, e[i].val));
    return o;
}

/* ---- db -------------------------------------------------------------------------------- */

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
    if (need_db(c, err) < 0 || zx_db_migrate(c->pool, c->db, c->sql_dir, &r, err) < 0)
        return -1;
    *out = migrate_ov(c->pool, &r);
    ov_set(*out, "schema", ov_raw(c->pool, apr_itoa(c->pool, r.applied ? r.known : r.current)));
    return 0;
}

static int cmd_db_status(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_migrate_result r;
    if (need_db(c, err) < 0 || zx_db_migrate_status(c->pool, c->db, c->sql_dir, &r, err) < 0)
        return -1;
    *out = migrate_ov(c->pool, &r);
    ov_set(*out, "upToDate", ov_raw(c->pool, r.current == r.known ? "true" : "false"));
    return 0;
}

/* ---- prov ------------------------------------------------------------------------------ */

static int cmd_create_domain(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (need_db(c, err) < 0 || zx_dir_create_domain(c->pool, c->db, argv[0], err) < 0)
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
    if (need_db(c, err) < 0 ||
        zx_dir_create_account(c->pool, c->db, argv[0], argv[1], attrs, &a, err) < 0)
        return -1;
    *out = account_ov(c->pool, a);
    return 0;
}

static int cmd_get_account(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_account *a;
    if (need_db(c, err) < 0)
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
    if (need_db(c, err) < 0 ||
        zx_dir_list_accounts(c->pool, c->db, argc > 0 ? argv[0] : NULL, &list, err) < 0)
        return -1;
    ov *arr = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < list->nelts; i++)
        ov_push(arr, account_ov(c->pool, APR_ARRAY_IDX(list, i, zx_account *)));
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "accounts", arr);
    return 0;
}

/* ---- the command table --------------------------------------------------------------------- */

typedef struct {
    const char *module;
    const char *name;
    int min_args, max_args;   /* max -1 = any */
    const char *syntax;
    const char *help;
    cmd_fn *fn;
} command;

static const command commands[] = {
    {"db", "migrate", 0, 0, "", "apply the missing schema migrations", cmd_db_migrate},
    {"db", "status", 0, 0, "", "show the schema version", cmd_db_status},
    {"prov", "createDomain", 1, 1, "<name>", "create a domain", cmd_create_domain},
    {"prov", "createAccount", 2, -1, "<name@domain> <password> [attr value]...",
     "create an account (attributes: displayName, zimbraAccountStatus, zimbraCOSId, "
     "zimbraFeatureMobileSyncEnabled)", cmd_create_account},
    {"prov", "getAccount", 1, 1, "<name@domain>", "show an account", cmd_get_account},
    {"prov", "getAllAccounts", 0, 1, "[domain]", "list accounts", cmd_get_all_accounts},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: zxsuite [--db CONNINFO] [--json] [--sql-dir DIR] <module> <command> [args...]\n\n"
               "The database is --db, else $ZXMOBILE_DB, else libpq's defaults (PGHOST, PGDATABASE...).\n\n"
               "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  zxsuite %s %s %s\n      %s\n", commands[i].module, commands[i].name,
                commands[i].syntax, commands[i].help);
}

static int fail(cli *c, const char *msg)
{
    if (c->json) {
        printf("{\"ok\":false,\"error\":");
        json_str(stdout, msg);
        printf("}\n");
    }
    fprintf(stderr, "zxsuite: error: %s\n", msg);
    return 1;
}

int main(int argc, const char *const *argv)
{
    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    cli c = {0};
    apr_pool_create(&c.pool, NULL);
    c.conninfo = getenv("ZXMOBILE_DB");
    c.sql_dir = getenv("ZXMOBILE_SQLDIR") ? getenv("ZXMOBILE_SQLDIR") : ZX_SQLDIR;
    zx_log_use_stderr(ZX_LOG_WARNING);

    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0)
            c.json = 1;
        else if (strcmp(a, "--db") == 0 && i + 1 < argc)
            c.conninfo = argv[++i];
        else if (strcmp(a, "--sql-dir") == 0 && i + 1 < argc)
            c.sql_dir = argv[++i];
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            zx_log_use_stderr(ZX_LOG_DEBUG);
        else if (strcmp(a, "--version") == 0) {
            printf("zxsuite (zxmobile) %s\n", PACKAGE_VERSION);
            return 0;
        }
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        else {
            usage(stderr);
            return fail(&c, apr_psprintf(c.pool, "unknown option %s", a));
        }
    }
    if (argc - i < 2) {
        usage(stderr);
        return fail(&c, "missing module and command");
    }
    const char *module = argv[i], *name = argv[i + 1];
    const command *cmd = NULL;
    int module_known = 0;
    for (size_t k = 0; k < NCOMMANDS; k++) {
        if (strcasecmp(commands[k].module, module) != 0)
            continue;
        module_known = 1;
        if (strcasecmp(commands[k].name, name) == 0)
            cmd = &commands[k];
    }
    if (!cmd)
        return fail(&c, module_known ? apr_psprintf(c.pool, "unknown command: %s %s", module, name)
                                     : apr_psprintf(c.pool, "unknown module: %s", module));
    int nargs = argc - i - 2;
    const char **args = (const char **)argv + i + 2;
    if (nargs < cmd->min_args || (cmd->max_args >= 0 && nargs > cmd->max_args)) {
        fprintf(stderr, "syntax: zxsuite %s %s %s\n", cmd->module, cmd->name, cmd->syntax);
        return fail(&c, apr_psprintf(c.pool, "command %s %s requires %s parameters", cmd->module,
                                     cmd->name, nargs < cmd->min_args ? "more" : "fewer"));
    }
    ov *out = NULL;
    const char *err = "failed";
    if (cmd->fn(&c, nargs, args, &out, &err) < 0)
        return fail(&c, err);
    if (c.json) {
        printf("{\"ok\":true,\"response\":");
        print_json(stdout, out ? out : ov_new(c.pool, OV_OBJ));
        printf("}\n");
    }
    else if (out) {
        print_human(stdout, out, 0);
    }
    apr_pool_destroy(c.pool);
    return 0;
}
