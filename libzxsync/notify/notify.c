/* zxmobile - change notifications: the sending side (zxsync/notify.h). */
#include <zxsync/notify.h>

int zx_notify_account(zx_db *db, const char *account_id, const char **err)
{
    const char *params[1] = {account_id};
    PGresult *res = zx_db_exec(db, "SELECT pg_notify('" ZX_NOTIFY_CHANNEL "', $1::text)", 1,
                               params, err);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}
