/* zxsuite mobile: EAS filters (spec section 9.2): doAddEASFilter, getAllEASFilters,
 * doDeleteEASFilter, doMoveEASFilter.  The filters are global (one table for every node); a
 * node picks up a change within a few seconds. */
#include "cli.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zxsync/config.h>
#include <zxsync/easfilter.h>

/* A filter ID or position: a non-negative decimal number. */
static int parse_index(cli *c, const char *s, const char *what, int *out, const char **err)
{
    char *end = NULL;
    long v = s && *s ? strtol(s, &end, 10) : -1;
    if (!s || !*s || *end || v < 0 || v > 1000000) {
        *err = apr_psprintf(c->pool, "invalid %s \"%s\": expected a filter ID (0, 1, 2...)", what,
                            s ? s : "");
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int cmd_add(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const opts[] = {"blocking", NULL};
    int blocking = 0, id = -1;
    if (cli_check_options(c, argc, argv, 4, opts, err) < 0)
        return -1;
    const char *b = cli_option(argc, argv, 4, "blocking");
    if (b) {
        if (strcasecmp(b, "true") == 0)
            blocking = 1;
        else if (strcasecmp(b, "false") != 0) {
            *err = apr_psprintf(c->pool, "invalid value \"%s\" for blocking: expected true or "
                                "false", b);
            return -1;
        }
    }
    if (cli_need_db(c, err) < 0 ||
        zx_easfilter_add(c->pool, c->db, argv[0], argv[1], argv[2], argv[3], blocking, &id,
                         err) < 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "ID", ov_int(c->pool, id));
    return 0;
}

static int cmd_list(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    apr_array_header_t *list;
    if (cli_need_db(c, err) < 0 ||
        zx_easfilters_load(c->pool, c->db, zx_config_server_name(c->pool), &list, err) < 0)
        return -1;
    ov *filters = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < list->nelts; i++) {
        const zx_easfilter *f = APR_ARRAY_IDX(list, i, zx_easfilter *);
        const char *rule = zx_easfilter_rule_str(c->pool, f);
        const char *versions = zx_vset_str(c->pool, f->versions);
        ov *o = ov_new(c->pool, OV_OBJ);
        ov_set(o, "ID", ov_int(c->pool, f->id));
        ov_set(o, "mode", ov_str(c->pool, zx_ef_mode_name(f->mode)));
        ov_set(o, "rule", ov_str(c->pool, rule));
        ov_set(o, "easversions", ov_str(c->pool, versions));
        ov_set(o, "blocking", ov_bool(c->pool, f->blocking));
        if (c->json) {
            ov_set(o, "type", ov_str(c->pool, zx_ef_type_name(f->type)));
            ov_set(o, "parameter", ov_str(c->pool, f->parameter));
            ov_set(o, "builtin", ov_str(c->pool, f->builtin));
        }
        else {
            /* the layout of the documented output (spec 9.2): values in column 14 */
            printf("%s        %-14s%d\n        %-14s%s\n        %-14s%s\n        %-14s%s\n"
                   "        %-14s%s\n",
                   i ? "\n" : "filters\n", "ID", f->id, "mode", zx_ef_mode_name(f->mode),
                   "rule", rule, "easversions", versions, "blocking",
                   f->blocking ? "true" : "false");
        }
        ov_push(filters, o);
    }
    if (!c->json) {
        if (list->nelts == 0)
            printf("filters\n");
        *out = NULL;
        return 0;
    }
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "filters", filters);
    return 0;
}

static int cmd_delete(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    int id;
    if (parse_index(c, argv[0], "ID", &id, err) < 0 || cli_need_db(c, err) < 0 ||
        zx_easfilter_delete(c->pool, c->db, id, err) < 0)
        return -1;
    *out = ov_str(c->pool, apr_psprintf(c->pool, "EAS filter %d deleted", id));
    return 0;
}

static int cmd_move(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    int from, to;
    if (parse_index(c, argv[0], "ID", &from, err) < 0 ||
        parse_index(c, argv[1], "position", &to, err) < 0 || cli_need_db(c, err) < 0 ||
        zx_easfilter_move(c->pool, c->db, from, to, err) < 0)
        return -1;
    *out = ov_str(c->pool, apr_psprintf(c->pool, "EAS filter %d moved to position %d", from, to));
    return 0;
}

const command cli_easfilter_commands[] = {
    {"mobile", "doAddEASFilter", 4, 6,
     "<and|or|regex|contains|account|domain> <parameter> <add|subtract|fixed|limit> "
     "<easversions> [blocking true|false]",
     "add an EAS filter at the end of the list, e.g. contains android fixed 2.5,12.0,14.1 or "
     "and account=user@example.com,contains=android fixed 14.1 blocking true", cmd_add},
    {"mobile", "getAllEASFilters", 0, 0, "", "the EAS filters in the order they are evaluated",
     cmd_list},
    {"mobile", "doDeleteEASFilter", 1, 1, "<id>",
     "delete the EAS filter with that ID (the later ones move up)", cmd_delete},
    {"mobile", "doMoveEASFilter", 2, 2, "<from> <to>",
     "move the EAS filter with ID from to position to", cmd_move},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
