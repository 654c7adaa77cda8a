/* zxmobile - the admin audit trail (zxsync/audit.h). */
#include <zxsync/audit.h>

#include <apr_strings.h>
#include <apr_user.h>

const char *zx_audit_actor(apr_pool_t *p)
{
    apr_uid_t uid;
    apr_gid_t gid;
    char *name = NULL;
    if (apr_uid_current(&uid, &gid, p) == APR_SUCCESS && apr_uid_name_get(&name, uid, p) == APR_SUCCESS &&
        name && *name)
        return name;
    return "server";
}

int zx_audit_record(zx_db *db, const char *actor, const char *action, const char *account,
                    const char *device_id, const char *details, const char **err)
{
    const char *params[5] = {actor ? actor : "server", action, account, device_id, details};
    PGresult *res = zx_db_exec(db,
        "INSERT INTO admin_audit (actor, action, account, device_id, details) "
        "VALUES ($1, $2, $3, $4, $5)", 5, params, err);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}
