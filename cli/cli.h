/* zxsuite - shared definitions of the admin CLI: the output value tree and the command table
 * row.  Each module (db, prov, config, auth, mobile, ...) is one cmd_<module>.c file exporting a
 * NULL-terminated table of commands; zxsuite.c lists the tables. */
#ifndef ZXSUITE_CLI_H
#define ZXSUITE_CLI_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <stdio.h>
#include <zxsync/store.h>
#include <zxsync/db.h>

/* ---- output: one value tree, printed as JSON or as the indented key/value layout ---------- */
typedef enum { OV_OBJ, OV_ARR, OV_STR, OV_RAW } ov_kind;
typedef struct ov ov;
struct ov {
    ov_kind kind;
    const char *s;                 /* OV_STR / OV_RAW (numbers, true/false, null) */
    apr_array_header_t *keys;      /* OV_OBJ: const char * */
    apr_array_header_t *vals;      /* OV_OBJ, OV_ARR: ov * */
};

ov *ov_new(apr_pool_t *p, ov_kind k);
ov *ov_str(apr_pool_t *p, const char *s);          /* NULL -> null */
ov *ov_raw(apr_pool_t *p, const char *s);          /* number, true, false, null */
ov *ov_bool(apr_pool_t *p, int b);
ov *ov_int(apr_pool_t *p, long long v);
void ov_set(ov *o, const char *key, ov *val);
void ov_push(ov *a, ov *val);
void ov_print_json(FILE *f, const ov *v);
void ov_print_human(FILE *f, const ov *v, int indent);
void json_str(FILE *f, const char *s);

/* ---- commands -------------------------------------------------------------------------- */
typedef struct {
    apr_pool_t *pool;
    const char *conninfo;
    const char *sql_dir;
    int json;
    zx_db *db;
    int exit_code;            /* set by a command that fails with a specific status (sysexits) */
} cli;

typedef int cmd_fn(cli *c, int argc, const char **argv, ov **out, const char **err);

typedef struct {
    const char *module;
    const char *name;
    int min_args, max_args;   /* max -1 = any */
    const char *syntax;
    const char *help;
    cmd_fn *fn;
} command;

/* Connect on first use. */
int cli_need_db(cli *c, const char **err);
/* The store of an open account by name (connects first): *norm its normalised name, *id its
 * row id.  1 ok, 0 unknown or closed account (*err says which), -1 error. */
int cli_open_account(cli *c, const char *name, const char **norm, const char **id,
                     zx_store **st, const char **err);
/* Optional "name value" arguments after the positional ones: returns the value or NULL;
 * cli_check_options() refuses names not in the allowed list and a name without value. */
const char *cli_option(int argc, const char **argv, int first, const char *name);
int cli_check_options(cli *c, int argc, const char **argv, int first,
                      const char *const *allowed, const char **err);

extern const command cli_db_commands[];
extern const command cli_prov_commands[];
extern const command cli_auth_commands[];
extern const command cli_config_commands[];
extern const command cli_mobile_commands[];
extern const command cli_abq_commands[];
extern const command cli_easfilter_commands[];
extern const command cli_core_commands[];
extern const command cli_acctlog_commands[];
extern const command cli_device_commands[];
extern const command cli_mdm_commands[];
extern const command cli_mailbox_commands[];
extern const command cli_pim_commands[];

#endif
