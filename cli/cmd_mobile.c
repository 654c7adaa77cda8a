/* zxsuite mobile: the mobile module's commands (spec section 12).  So far the services of
 * spec section 14: getServices, doStartService, doStopService, doRestartService.  Service
 * state is in the database, so every node sees the same. */
#include "cli.h"

#include <apr_strings.h>
#include <zxsync/config.h>

static int cmd_get_services(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    apr_array_header_t *states;
    if (cli_need_db(c, err) < 0 || zx_services_list(c->pool, c->db, &states, err) < 0)
        return -1;
    ov *services = ov_new(c->pool, OV_OBJ);
    for (int i = 0; i < states->nelts; i++) {
        const zx_service_state *s = &APR_ARRAY_IDX(states, i, zx_service_state);
        ov *o = ov_new(c->pool, OV_OBJ);
        if (s->could_not_start_because)
            ov_set(o, "could_not_start_because", ov_str(c->pool, s->could_not_start_because));
        ov_set(o, "could_start", ov_bool(c->pool, s->could_start));
        ov_set(o, "could_stop", ov_bool(c->pool, s->could_stop));
        ov_set(o, "running", ov_bool(c->pool, s->running));
        ov_set(services, s->name, o);
    }
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "services", services);
    return 0;
}

static int control(cli *c, const char *name, const char *action, ov **out, const char **err)
{
    const char *message;
    if (cli_need_db(c, err) < 0 ||
        zx_service_control(c->pool, c->db, name, action, &message, err) < 0)
        return -1;
    *out = ov_str(c->pool, message);
    return 0;
}

static int cmd_start(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    return control(c, argv[0], "start", out, err);
}

static int cmd_stop(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    return control(c, argv[0], "stop", out, err);
}

static int cmd_restart(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    return control(c, argv[0], "restart", out, err);
}

#define SERVICES "module|activesync|autodiscover|abq|anti-dos"

const command cli_mobile_commands[] = {
    {"mobile", "getServices", 0, 0, "",
     "the services of the mobile module: running, could_start, could_stop, "
     "could_not_start_because", cmd_get_services},
    {"mobile", "doStartService", 1, 1, "<" SERVICES ">",
     "start a service (also activesync-services, abq-services)", cmd_start},
    {"mobile", "doStopService", 1, 1, "<" SERVICES ">", "stop a service", cmd_stop},
    {"mobile", "doRestartService", 1, 1, "<" SERVICES ">",
     "restart a service (anti-dos: resets the jails)", cmd_restart},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
