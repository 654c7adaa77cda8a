/* zxsuite - the zxmobile admin CLI.
 *
 *   zxsuite [--db CONNINFO] [--json] [--sql-dir DIR] <module> <command> [args...]
 *
 * Mandatory arguments are positional, optional ones are "name value" pairs (the Zextras CLI
 * convention).  Module and command names are case-insensitive.  The commands are rows of the
 * per-module tables listed in `tables` below; each is a thin call into libzxsync.
 */
#include "cli.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zxsync/directory.h>
#include <zxsync/log.h>

#include "config.h"

static const command *const tables[] = {
    cli_db_commands,
    cli_prov_commands,
    cli_auth_commands,
    cli_config_commands,
    cli_mobile_commands,
    cli_abq_commands,
    cli_easfilter_commands,
    cli_core_commands,
    cli_acctlog_commands,
    cli_device_commands,
    cli_mdm_commands,
    cli_mailbox_commands,
    cli_pim_commands,
};
#define NTABLES (sizeof tables / sizeof tables[0])

int cli_need_db(cli *c, const char **err)
{
    if (c->db)
        return 0;
    c->db = zx_db_connect(c->pool, c->conninfo, err);
    return c->db ? 0 : -1;
}

int cli_open_account(cli *c, const char *name, const char **norm, const char **id,
                     zx_store **st, const char **err)
{
    if (cli_need_db(c, err) < 0)
        return -1;
    const char *n = zx_account_name_normalize(c->pool, name, NULL, NULL);
    zx_account *a = NULL;
    int rc = n ? zx_dir_get_account(c->pool, c->db, n, &a, err) : 0;
    if (rc < 0)
        return -1;
    if (rc == 0) {
        *err = apr_psprintf(c->pool, "no such account: %s", name);
        return 0;
    }
    if (a->status && strcmp(a->status, "closed") == 0) {
        *err = apr_psprintf(c->pool, "account %s is closed", n);
        return 0;
    }
    *norm = n;
    *id = a->id;
    *st = zx_store_open(c->pool, c->db, a->id);
    return 1;
}

const char *cli_option(int argc, const char **argv, int first, const char *name)
{
    for (int i = first; i + 1 < argc; i += 2)
        if (strcasecmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

int cli_check_options(cli *c, int argc, const char **argv, int first,
                      const char *const *allowed, const char **err)
{
    for (int i = first; i < argc; i += 2) {
        int ok = 0;
        for (int k = 0; allowed[k]; k++)
            if (strcasecmp(argv[i], allowed[k]) == 0)
                ok = 1;
        if (!ok) {
            *err = apr_psprintf(c->pool, "unknown parameter \"%s\"", argv[i]);
            return -1;
        }
        if (i + 1 >= argc) {
            *err = apr_psprintf(c->pool, "parameter \"%s\" needs a value", argv[i]);
            return -1;
        }
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: zxsuite [--db CONNINFO] [--json] [--sql-dir DIR] <module> <command> [args...]\n\n"
               "The database is --db, else $ZXMOBILE_DB, else libpq's defaults (PGHOST, PGDATABASE...).\n\n"
               "commands:\n");
    for (size_t t = 0; t < NTABLES; t++)
        for (const command *k = tables[t]; k->name; k++)
            fprintf(f, "  zxsuite %s %s %s\n      %s\n", k->module, k->name, k->syntax, k->help);
}

static int fail(cli *c, const char *msg)
{
    if (c->json) {
        printf("{\"ok\":false,\"error\":");
        json_str(stdout, msg);
        printf("}\n");
    }
    fprintf(stderr, "zxsuite: error: %s\n", msg);
    return c->exit_code ? c->exit_code : 1;
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
    for (size_t t = 0; t < NTABLES; t++) {
        for (const command *k = tables[t]; k->name; k++) {
            if (strcasecmp(k->module, module) != 0)
                continue;
            module_known = 1;
            if (strcasecmp(k->name, name) == 0)
                cmd = k;
        }
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
        ov_print_json(stdout, out ? out : ov_new(c.pool, OV_OBJ));
        printf("}\n");
    }
    else if (out) {
        ov_print_human(stdout, out, 0);
    }
    apr_pool_destroy(c.pool);
    return 0;
}
