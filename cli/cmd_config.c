/* zxsuite config: the configuration store (spec section 13), over zxsync/config.h.
 *
 *   zxsuite config set    global <attr> <value> | <level> <target> <attr> <value>
 *   zxsuite config get    global <attr>         | <level> <target> <attr>
 *   zxsuite config unset  global <attr>         | <level> <target> <attr>     (empty: alias)
 *   zxsuite config dump   global | <level> <target>  [show-inherited true]
 *   zxsuite config info   [attribute] [<attr>]
 * and the older verb-second forms of the Zextras documentation:
 *   zxsuite config global {get|set|empty|unset} [attribute X] [value Y]
 *   zxsuite config {server|domain|cos|account} {get|set|empty|unset} <target> [attribute X] [value Y]
 * <level> is server, domain, cos or account; names are case-insensitive.
 */
#include "cli.h"

#include <apr_strings.h>
#include <string.h>
#include <strings.h>
#include <zxsync/config.h>

static const char *type_name(zx_attr_type t)
{
    switch (t) {
    case ZX_ATTR_BOOL: return "boolean";
    case ZX_ATTR_INT: return "integer";
    case ZX_ATTR_ENUM: return "enum";
    case ZX_ATTR_STRING: return "string";
    }
    return "?";
}

static const zx_level level_order[] = {ZX_LEVEL_ACCOUNT, ZX_LEVEL_COS, ZX_LEVEL_DOMAIN,
                                       ZX_LEVEL_SERVER, ZX_LEVEL_GLOBAL};
#define NLEVEL_ORDER (sizeof level_order / sizeof level_order[0])

static ov *levels_ov(apr_pool_t *p, unsigned mask)
{
    ov *a = ov_new(p, OV_ARR);
    for (size_t i = 0; i < NLEVEL_ORDER; i++)
        if (mask & level_order[i])
            ov_push(a, ov_str(p, zx_level_name(level_order[i])));
    return a;
}

/* A value as output: a multi-valued attribute as a list. */
static ov *value_ov(apr_pool_t *p, const zx_attr_def *a, const char *value)
{
    if (!value)
        return ov_raw(p, "null");
    if (!a || !a->multi)
        return ov_str(p, value);
    ov *arr = ov_new(p, OV_ARR);
    char *s = apr_pstrdup(p, value), *last;
    for (char *v = apr_strtok(s, "\n", &last); v; v = apr_strtok(NULL, "\n", &last))
        ov_push(arr, ov_str(p, v));
    return arr;
}

static int parse_level(cli *c, const char *name, zx_level *level, const char **err)
{
    *level = zx_level_parse(name);
    if (*level == ZX_LEVEL_NONE) {
        *err = apr_psprintf(c->pool, "unknown level \"%s\" (global, server, domain, cos, "
                                     "account)", name);
        return -1;
    }
    return 0;
}

static const zx_attr_def *need_attr(cli *c, const char *name, const char **err)
{
    const zx_attr_def *a = zx_attr_find(name);
    if (!a)
        *err = apr_psprintf(c->pool, "unknown attribute \"%s\" (zxsuite config info lists "
                                     "them)", name ? name : "");
    return a;
}

/* ---- the operations, shared by both syntaxes -------------------------------------------------- */

static ov *where_ov(cli *c, const zx_attr_def *a, zx_level level, const char *target)
{
    ov *o = ov_new(c->pool, OV_OBJ);
    if (a)
        ov_set(o, "attribute", ov_str(c->pool, a->name));
    ov_set(o, "level", ov_str(c->pool, zx_level_name(level)));
    if (level != ZX_LEVEL_GLOBAL)
        ov_set(o, "target", ov_str(c->pool, target));
    return o;
}

static int do_set(cli *c, zx_level level, const char *target, const char *attr,
                  const char *value, ov **out, const char **err)
{
    const zx_attr_def *a = need_attr(c, attr, err);
    const char *stored;
    if (!a || cli_need_db(c, err) < 0 ||
        zx_config_set(c->pool, c->db, level, target, a->name, value, err) < 0 ||
        zx_config_get(c->pool, c->db, level, target, a->name, &stored, err) < 0)
        return -1;
    *out = where_ov(c, a, level, target);
    ov_set(*out, "value", value_ov(c->pool, a, stored));
    return 0;
}

static int do_get(cli *c, zx_level level, const char *target, const char *attr, ov **out,
                  const char **err)
{
    const zx_attr_def *a = need_attr(c, attr, err);
    const char *own, *value;
    zx_level from;
    zx_config_scope scope;
    if (!a || cli_need_db(c, err) < 0 ||
        zx_config_get(c->pool, c->db, level, target, a->name, &own, err) < 0 ||
        zx_config_level_scope(c->pool, c->db, level, target, &scope, err) != 1 ||
        zx_config_resolve(c->pool, c->db, &scope, a->name, &value, &from, err) < 0)
        return -1;
    *out = where_ov(c, a, level, target);
    ov_set(*out, "value", value_ov(c->pool, a, value));
    ov_set(*out, "isInherited", ov_bool(c->pool, from != level));
    ov_set(*out, "source", ov_str(c->pool, zx_level_name(from)));
    return 0;
}

static int do_unset(cli *c, zx_level level, const char *target, const char *attr, ov **out,
                    const char **err)
{
    const zx_attr_def *a = need_attr(c, attr, err);
    const char *own;
    if (!a || cli_need_db(c, err) < 0 ||
        zx_config_get(c->pool, c->db, level, target, a->name, &own, err) < 0 ||
        zx_config_unset(c->pool, c->db, level, target, a->name, err) < 0)
        return -1;
    *out = where_ov(c, a, level, target);
    ov_set(*out, "removed", ov_bool(c->pool, own != NULL));
    return 0;
}

static int do_dump(cli *c, zx_level level, const char *target, int inherited, ov **out,
                   const char **err)
{
    apr_array_header_t *entries;
    if (cli_need_db(c, err) < 0 ||
        zx_config_dump(c->pool, c->db, level, target, inherited, &entries, err) < 0)
        return -1;
    *out = where_ov(c, NULL, level, target);
    ov *arr = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < entries->nelts; i++) {
        const zx_config_entry *e = &APR_ARRAY_IDX(entries, i, zx_config_entry);
        ov *o = ov_new(c->pool, OV_OBJ);
        ov_set(o, "attribute", ov_str(c->pool, e->name));
        ov_set(o, "value", value_ov(c->pool, zx_attr_find(e->name), e->value));
        if (inherited) {
            ov_set(o, "isInherited", ov_bool(c->pool, e->from != level));
            ov_set(o, "source", ov_str(c->pool, zx_level_name(e->from)));
        }
        ov_push(arr, o);
    }
    ov_set(*out, "attributes", arr);
    return 0;
}

/* "show-inherited true" (also show_inherited / inherited) */
static int inherited_option(cli *c, int argc, const char **argv, int first, int *inherited,
                            const char **err)
{
    *inherited = 0;
    if (argc == first)
        return 0;
    if (argc != first + 2 || (strcasecmp(argv[first], "show-inherited") &&
                              strcasecmp(argv[first], "show_inherited") &&
                              strcasecmp(argv[first], "inherited"))) {
        *err = apr_psprintf(c->pool, "unexpected \"%s\" (dump takes show-inherited true|false)",
                            argv[first]);
        return -1;
    }
    const char *v = argv[first + 1];
    if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"))
        *inherited = 1;
    else if (strcasecmp(v, "false") && strcmp(v, "0") && strcasecmp(v, "no")) {
        *err = apr_psprintf(c->pool, "show-inherited takes true or false, not \"%s\"", v);
        return -1;
    }
    return 0;
}

/* ---- current syntax: verb first ----------------------------------------------------------------- */

/* argv = <level> [target] rest...: *rest = index of the first argument after the target. */
static int level_target(cli *c, int argc, const char **argv, zx_level *level,
                        const char **target, int *rest, const char **err)
{
    if (parse_level(c, argv[0], level, err) < 0)
        return -1;
    if (*level == ZX_LEVEL_GLOBAL) {
        *target = "";
        *rest = 1;
        return 0;
    }
    if (argc < 2) {
        *err = apr_psprintf(c->pool, "missing the %s name", zx_level_name(*level));
        return -1;
    }
    *target = argv[1];
    *rest = 2;
    return 0;
}

static int cmd_set(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_level level;
    const char *target;
    int r;
    if (level_target(c, argc, argv, &level, &target, &r, err) < 0)
        return -1;
    if (argc - r != 2) {
        *err = "syntax: config set global <attribute> <value> | config set <level> <target> "
               "<attribute> <value>";
        return -1;
    }
    return do_set(c, level, target, argv[r], argv[r + 1], out, err);
}

static int one_attr(cli *c, int argc, const char **argv, const char *verb, zx_level *level,
                    const char **target, const char **attr, const char **err)
{
    int r;
    if (level_target(c, argc, argv, level, target, &r, err) < 0)
        return -1;
    if (argc - r != 1) {
        *err = apr_psprintf(c->pool, "syntax: config %s global <attribute> | config %s <level> "
                                     "<target> <attribute>", verb, verb);
        return -1;
    }
    *attr = argv[r];
    return 0;
}

static int cmd_get(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_level level;
    const char *target, *attr;
    if (one_attr(c, argc, argv, "get", &level, &target, &attr, err) < 0)
        return -1;
    return do_get(c, level, target, attr, out, err);
}

static int cmd_unset(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_level level;
    const char *target, *attr;
    if (one_attr(c, argc, argv, "unset", &level, &target, &attr, err) < 0)
        return -1;
    return do_unset(c, level, target, attr, out, err);
}

static int cmd_dump(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_level level;
    const char *target;
    int r, inherited;
    if (level_target(c, argc, argv, &level, &target, &r, err) < 0 ||
        inherited_option(c, argc, argv, r, &inherited, err) < 0)
        return -1;
    return do_dump(c, level, target, inherited, out, err);
}

static ov *info_ov(apr_pool_t *p, const zx_attr_def *a)
{
    ov *o = ov_new(p, OV_OBJ);
    ov_set(o, "attribute", ov_str(p, a->name));
    ov_set(o, "type", ov_str(p, type_name(a->type)));
    ov_set(o, "multi", ov_bool(p, a->multi));
    ov_set(o, "levels", levels_ov(p, a->levels));
    ov_set(o, "default", ov_str(p, a->def ? a->def : ""));
    if (a->type == ZX_ATTR_INT) {
        ov_set(o, "min", ov_int(p, a->min));
        ov_set(o, "max", ov_int(p, a->max));
    }
    if (a->type == ZX_ATTR_STRING && a->max > 0)
        ov_set(o, "maxLength", ov_int(p, a->max));
    if (a->type == ZX_ATTR_ENUM) {
        ov *vals = ov_new(p, OV_ARR);
        char *s = apr_pstrdup(p, a->enum_values ? a->enum_values : ""), *last;
        for (char *v = apr_strtok(s, "|", &last); v; v = apr_strtok(NULL, "|", &last))
            ov_push(vals, ov_str(p, v));
        ov_set(o, "values", vals);
    }
    if (a->type == ZX_ATTR_BOOL) {
        ov *vals = ov_new(p, OV_ARR);
        ov_push(vals, ov_str(p, "TRUE"));
        ov_push(vals, ov_str(p, "FALSE"));
        ov_set(o, "values", vals);
    }
    if (a->unit)
        ov_set(o, "unit", ov_str(p, a->unit));
    ov_set(o, "description", ov_str(p, a->description));
    return o;
}

/* info <attr> | info attribute <attr> | info [attribute]: the list */
static int cmd_info(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (argc > 0 && strcasecmp(argv[0], "attribute") == 0 && !zx_attr_find(argv[0])) {
        argv++;
        argc--;
    }
    if (argc > 1) {
        *err = "syntax: config info [attribute] [<attribute name>]";
        return -1;
    }
    if (argc == 1) {
        const zx_attr_def *a = need_attr(c, argv[0], err);
        if (!a)
            return -1;
        *out = info_ov(c->pool, a);
        return 0;
    }
    apr_size_t n;
    const zx_attr_def *all = zx_attr_all(&n);
    ov *list = ov_new(c->pool, OV_OBJ);
    for (apr_size_t i = 0; i < n; i++) {
        const zx_attr_def *a = &all[i];
        const char *lv = NULL;
        for (size_t k = 0; k < NLEVEL_ORDER; k++)
            if (a->levels & level_order[k])
                lv = lv ? apr_pstrcat(c->pool, lv, ",", zx_level_name(level_order[k]), NULL)
                        : zx_level_name(level_order[k]);
        ov_set(list, a->name, ov_str(c->pool, apr_psprintf(c->pool, "%s%s, %s, default %s",
                                                           type_name(a->type),
                                                           a->multi ? " (multi)" : "", lv,
                                                           a->def && *a->def ? a->def : "(none)")));
    }
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "attributes", list);
    return 0;
}

/* ---- the older verb-second syntax ------------------------------------------------------------- */

/* config <level> <verb> [<target>] [attribute X] [value Y] [show-inherited true] */
static int verb_second(cli *c, zx_level level, int argc, const char **argv, ov **out,
                       const char **err)
{
    const char *verb = argv[0];
    int i = 1;
    const char *target = "";
    if (level != ZX_LEVEL_GLOBAL) {
        if (argc < 2) {
            *err = apr_psprintf(c->pool, "missing the %s name", zx_level_name(level));
            return -1;
        }
        target = argv[i++];
    }
    const char *attr = NULL, *value = NULL;
    int inherited = 0, positional = 0;
    for (; i < argc; i++) {
        const char *k = argv[i];
        if (i + 1 < argc && strcasecmp(k, "attribute") == 0)
            attr = argv[++i];
        else if (i + 1 < argc && strcasecmp(k, "value") == 0)
            value = argv[++i];
        else if (i + 1 < argc && (!strcasecmp(k, "show-inherited") ||
                                  !strcasecmp(k, "show_inherited"))) {
            if (inherited_option(c, i + 2, argv, i, &inherited, err) < 0)
                return -1;
            i++;
        }
        else if (positional == 0 && !attr) {
            attr = k;
            positional++;
        }
        else if (!value) {
            value = k;
        }
        else {
            *err = apr_psprintf(c->pool, "unexpected \"%s\"", k);
            return -1;
        }
    }
    if (!strcasecmp(verb, "get") || !strcasecmp(verb, "dump")) {
        if (!attr || !strcasecmp(verb, "dump"))
            return do_dump(c, level, target, inherited, out, err);
        return do_get(c, level, target, attr, out, err);
    }
    if (!attr) {
        *err = apr_psprintf(c->pool, "missing attribute (config %s %s%s%s attribute <name>%s)",
                            zx_level_name(level), verb, level == ZX_LEVEL_GLOBAL ? "" : " ",
                            level == ZX_LEVEL_GLOBAL ? "" : target,
                            strcasecmp(verb, "set") ? "" : " value <value>");
        return -1;
    }
    if (!strcasecmp(verb, "set")) {
        if (!value) {
            *err = apr_psprintf(c->pool, "missing value for %s (value <value>)", attr);
            return -1;
        }
        return do_set(c, level, target, attr, value, out, err);
    }
    if (!strcasecmp(verb, "empty") || !strcasecmp(verb, "unset") || !strcasecmp(verb, "clear"))
        return do_unset(c, level, target, attr, out, err);
    *err = apr_psprintf(c->pool, "unknown action \"%s\" (get, set, empty)", verb);
    return -1;
}

static int cmd_global(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    return verb_second(c, ZX_LEVEL_GLOBAL, argc, argv, out, err);
}

static int cmd_server(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    return verb_second(c, ZX_LEVEL_SERVER, argc, argv, out, err);
}

static int cmd_domain(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    return verb_second(c, ZX_LEVEL_DOMAIN, argc, argv, out, err);
}

static int cmd_cos(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    return verb_second(c, ZX_LEVEL_COS, argc, argv, out, err);
}

static int cmd_account(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    return verb_second(c, ZX_LEVEL_ACCOUNT, argc, argv, out, err);
}

#define LEVEL_SYNTAX "global | {server|domain|cos|account} <name>"

const command cli_config_commands[] = {
    {"config", "set", 3, 4, "{" LEVEL_SYNTAX "} <attribute> <value>",
     "set an attribute at one level (the value is checked against the attribute's type, "
     "range and allowed levels)", cmd_set},
    {"config", "get", 2, 3, "{" LEVEL_SYNTAX "} <attribute>",
     "the effective value at that level and where it comes from (account -> cos -> domain -> "
     "server -> global -> default)", cmd_get},
    {"config", "unset", 2, 3, "{" LEVEL_SYNTAX "} <attribute>",
     "remove the value set at that level", cmd_unset},
    {"config", "empty", 2, 3, "{" LEVEL_SYNTAX "} <attribute>",
     "same as unset", cmd_unset},
    {"config", "dump", 1, 4, "{" LEVEL_SYNTAX "} [show-inherited true]",
     "the values set at that level; with show-inherited, the effective value of every "
     "attribute the level allows", cmd_dump},
    {"config", "info", 0, 2, "[attribute] [<attribute>]",
     "type, default, allowed levels, range or values, unit and description of an attribute; "
     "without one, the list", cmd_info},
    {"config", "global", 1, -1, "{get|set|empty} [attribute <name>] [value <value>]",
     "older form: global level", cmd_global},
    {"config", "server", 2, -1, "{get|set|empty} <server> [attribute <name>] [value <value>]",
     "older form: server level", cmd_server},
    {"config", "domain", 2, -1, "{get|set|empty} <domain> [attribute <name>] [value <value>]",
     "older form: domain level", cmd_domain},
    {"config", "cos", 2, -1, "{get|set|empty} <cos> [attribute <name>] [value <value>]",
     "older form: COS level", cmd_cos},
    {"config", "account", 2, -1, "{get|set|empty} <account> [attribute <name>] [value <value>]",
     "older form: account level", cmd_account},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
