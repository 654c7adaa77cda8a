/* zxmobile - the services of the mobile module (spec section 14): their state, shared by every
 * node through the database (table services) and the global attributes that decide whether
 * they can run. */
#include <zxsync/attrs.h>
#include <zxsync/services.h>

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const service_names[] = {"module", "activesync", "autodiscover", "abq",
                                            "anti-dos"};
#define NSERVICES (sizeof service_names / sizeof service_names[0])

const char *zx_service_name(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < NSERVICES; i++)
        if (strcasecmp(service_names[i], name) == 0)
            return service_names[i];
    /* Carbonio names */
    if (strcasecmp(name, "activesync-services") == 0)
        return "activesync";
    if (strcasecmp(name, "abq-services") == 0)
        return "abq";
    return NULL;
}

typedef struct {
    int flag;                   /* what the administrator asked for */
    long long restarts;
} service_row;

/* The services rows and the global attributes that decide them, in one query. */
static int services_read(apr_pool_t *p, zx_db *db, service_row *rows, const char **antidos,
                         const char **abq_startup, const char **abq_mode, const char **err)
{
    PGresult *res = zx_db_exec(
        db,
        "SELECT s.name, s.running, s.restart_count, g.antidos, g.startup, g.mode "
        "  FROM (SELECT (SELECT value FROM config_values WHERE level = 'global' AND target = '' "
        "                   AND name = 'mobileantidosserviceenabled') AS antidos, "
        "               (SELECT value FROM config_values WHERE level = 'global' AND target = '' "
        "                   AND name = 'abq_enabled_at_startup') AS startup, "
        "               (SELECT value FROM config_values WHERE level = 'global' AND target = '' "
        "                   AND name = 'abqmode') AS mode) g "
        "  LEFT JOIN services s ON true",
        0, NULL, err);
    if (!res)
        return -1;
    for (size_t i = 0; i < NSERVICES; i++) {
        rows[i].flag = 1;
        rows[i].restarts = 0;
    }
    *antidos = *abq_startup = *abq_mode = NULL;
    for (int r = 0; r < PQntuples(res); r++) {
        if (r == 0) {
            *antidos = PQgetisnull(res, 0, 3) ? NULL : apr_pstrdup(p, PQgetvalue(res, 0, 3));
            *abq_startup = PQgetisnull(res, 0, 4) ? NULL : apr_pstrdup(p, PQgetvalue(res, 0, 4));
            *abq_mode = PQgetisnull(res, 0, 5) ? NULL : apr_pstrdup(p, PQgetvalue(res, 0, 5));
        }
        if (PQgetisnull(res, r, 0))
            continue;
        for (size_t i = 0; i < NSERVICES; i++) {
            if (strcmp(service_names[i], PQgetvalue(res, r, 0)) == 0) {
                rows[i].flag = strcmp(PQgetvalue(res, r, 1), "t") == 0;
                rows[i].restarts = atoll(PQgetvalue(res, r, 2));
            }
        }
    }
    PQclear(res);
    return 0;
}

static const char *global_or_default(const char *value, const char *name)
{
    if (value)
        return value;
    const zx_attr_def *a = zx_attr_find(name);
    return a && a->def ? a->def : "";
}

int zx_services_list(apr_pool_t *p, zx_db *db, apr_array_header_t **states, const char **err)
{
    service_row rows[NSERVICES];
    const char *antidos, *startup, *mode;
    if (services_read(p, db, rows, &antidos, &startup, &mode, err) < 0)
        return -1;
    int antidos_on = strcasecmp(global_or_default(antidos, "mobileAntiDosServiceEnabled"), "TRUE") == 0;
    int startup_on = strcasecmp(global_or_default(startup, "abq_enabled_at_startup"), "TRUE") == 0;
    int abq_disabled = strcasecmp(global_or_default(mode, "abqMode"), "Disabled") == 0;
    int module_on = rows[0].flag;
    *states = apr_array_make(p, NSERVICES, sizeof(zx_service_state));
    for (size_t i = 0; i < NSERVICES; i++) {
        zx_service_state *s = apr_array_push(*states);
        const char *n = service_names[i];
        const char *why = NULL;
        if (i > 0 && !module_on)
            why = "module not running";
        else if (strcmp(n, "anti-dos") == 0 && !antidos_on)
            why = "anti-dos disabled";
        else if (strcmp(n, "abq") == 0 && !startup_on)
            why = "abq disabled (abq_enabled_at_startup is FALSE)";
        else if (strcmp(n, "abq") == 0 && abq_disabled)
            why = "abq disabled (abqMode is Disabled)";
        s->name = n;
        s->could_not_start_because = why;
        s->running = rows[i].flag && !why;
        s->could_start = !s->running && !why;
        s->could_stop = s->running;
    }
    return 0;
}

int zx_service_running(apr_pool_t *p, zx_db *db, const char *name, int *running,
                       const char **err)
{
    const char *canon = zx_service_name(name);
    if (!canon) {
        *err = apr_psprintf(p, "unknown service \"%s\"", name ? name : "");
        return -1;
    }
    apr_array_header_t *states;
    if (zx_services_list(p, db, &states, err) < 0)
        return -1;
    for (int i = 0; i < states->nelts; i++) {
        const zx_service_state *s = &APR_ARRAY_IDX(states, i, zx_service_state);
        if (strcmp(s->name, canon) == 0)
            *running = s->running;
    }
    return 0;
}

int zx_service_restart_count(apr_pool_t *p, zx_db *db, const char *name, long long *count,
                             const char **err)
{
    const char *canon = zx_service_name(name);
    if (!canon) {
        *err = apr_psprintf(p, "unknown service \"%s\"", name ? name : "");
        return -1;
    }
    const char *params[] = {canon};
    PGresult *res = zx_db_exec(db, "SELECT restart_count FROM services WHERE name = $1", 1,
                               params, err);
    if (!res)
        return -1;
    *count = PQntuples(res) ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return 0;
}

static const char *service_names_text(void)
{
    return "module, activesync (activesync-services), autodiscover, abq (abq-services), anti-dos";
}

int zx_service_control(apr_pool_t *p, zx_db *db, const char *name, const char *action,
                       const char **message, const char **err)
{
    const char *canon = zx_service_name(name);
    if (!canon) {
        *err = apr_psprintf(p, "unknown service \"%s\" (services: %s)", name ? name : "",
                            service_names_text());
        return -1;
    }
    int start = strcasecmp(action, "start") == 0, stop = strcasecmp(action, "stop") == 0,
        restart = strcasecmp(action, "restart") == 0;
    if (!start && !stop && !restart) {
        *err = apr_psprintf(p, "unknown service action \"%s\" (start, stop, restart)", action);
        return -1;
    }
    apr_array_header_t *states;
    if (zx_services_list(p, db, &states, err) < 0)
        return -1;
    const zx_service_state *st = NULL;
    for (int i = 0; i < states->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(states, i, zx_service_state).name, canon) == 0)
            st = &APR_ARRAY_IDX(states, i, zx_service_state);
    if (start && st->running) {
        *err = apr_psprintf(p, "service %s is already running", canon);
        return -1;
    }
    if (stop && !st->running) {
        *err = apr_psprintf(p, "service %s is not running", canon);
        return -1;
    }
    if ((start || restart) && st->could_not_start_because) {
        *err = apr_psprintf(p, "cannot %s service %s: %s", start ? "start" : "restart", canon,
                            st->could_not_start_because);
        return -1;
    }
    const char *params[] = {canon};
    const char *sql =
        start ? "INSERT INTO services (name, running, started_at) VALUES ($1, true, now()) "
                "ON CONFLICT (name) DO UPDATE SET running = true, started_at = now(), "
                "modified_at = now()"
      : stop ? "INSERT INTO services (name, running, stopped_at) VALUES ($1, false, now()) "
               "ON CONFLICT (name) DO UPDATE SET running = false, stopped_at = now(), "
               "modified_at = now()"
             : "INSERT INTO services (name, running, restart_count, started_at, restarted_at) "
               "VALUES ($1, true, 1, now(), now()) "
               "ON CONFLICT (name) DO UPDATE SET running = true, started_at = now(), "
               "restarted_at = now(), restart_count = services.restart_count + 1, "
               "modified_at = now()";
    if (zx_db_run(db, sql, 1, params, err) < 0)
        return -1;
    *message = start ? "service started" : stop ? "service stopped" : "service restarted";
    return 0;
}
