/* zxmobile - the services of the mobile module (spec section 14): state shared by every node
 * through the database. */
#ifndef ZXSYNC_SERVICES_H
#define ZXSYNC_SERVICES_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <zxsync/db.h>

typedef struct {
    const char *name;           /* module, activesync, autodiscover, abq, anti-dos */
    int running;
    int could_start;
    int could_stop;
    const char *could_not_start_because;   /* NULL or the reason */
} zx_service_state;

int zx_services_list(apr_pool_t *p, zx_db *db, apr_array_header_t **states, const char **err);
/* action: "start", "stop", "restart"; refuses unknown services and impossible actions. */
int zx_service_control(apr_pool_t *p, zx_db *db, const char *name, const char *action,
                       const char **message, const char **err);
int zx_service_running(apr_pool_t *p, zx_db *db, const char *name, int *running,
                       const char **err);

/* The canonical name of a service ("activesync-services" -> "activesync"), NULL if unknown. */
const char *zx_service_name(const char *name);
/* How many times doRestartService ran for the service (0 if never): the anti-DoS filter resets
 * its jails when this changes. */
int zx_service_restart_count(apr_pool_t *p, zx_db *db, const char *name, long long *count,
                             const char **err);

#endif
