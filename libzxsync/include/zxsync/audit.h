/* zxmobile - the admin audit trail (sql/006 admin_audit): every administrative action, with
 * who did it, what, on which account/device and when. */
#ifndef ZXSYNC_AUDIT_H
#define ZXSYNC_AUDIT_H

#include <zxsync/db.h>

/* The actor of actions run from this process: the operating-system user ("root"), or
 * "server" when the user cannot be told.  Allocated from p. */
const char *zx_audit_actor(apr_pool_t *p);

/* Record one action.  account, device_id and details may be NULL.  Call it inside the
 * transaction of the action itself, so that an action is never done without its record.
 * Returns 0, or -1 and *err. */
int zx_audit_record(zx_db *db, const char *actor, const char *action, const char *account,
                    const char *device_id, const char *details, const char **err);

#endif
