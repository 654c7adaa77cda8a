/* zxmobile - remote wipe (spec 4.2, [MS-ASPROV] 3.2.5.1.2): zxsuite mobile doWipeDevice and
 * doCancelWipeDevice, and any admin UI.
 *
 * A requested wipe is sent with the device's next request, MDM on or off (gate/provision.c
 * sends every command into Provision, whose response carries RemoteWipe, or
 * AccountOnlyRemoteWipe for an account-only wipe of a 16.1 device); the device's
 * acknowledgement moves it to "done" (devices.wipe_status 2), after which the device gets the
 * directive again at every request and nothing else, until its record is removed
 * (doRemoveDevice).  Each action is one transaction with its admin_audit row and a NOTIFY of
 * the account, so a waiting Ping answers at once.
 *
 * Return values: 0 done, ZX_DEVADMIN_NOT_FOUND (zxsync/devadmin.h) for an unknown account or
 * device, ZX_WIPE_REFUSED when the state does not allow it (*err says why), -1 on another
 * error.
 */
#ifndef ZXSYNC_WIPE_H
#define ZXSYNC_WIPE_H

#include <zxsync/devadmin.h>

#define ZX_WIPE_REFUSED (-3)

/* Ask for a wipe.  Refused when a wipe is pending or done, and for account_only when the
 * device's last protocol version is below 16.1. */
int zx_wipe_request(apr_pool_t *p, zx_db *db, const char *actor, const char *account,
                    const char *device_id, int account_only, const char **err);

/* Cancel a wipe the device has not acknowledged yet.  Refused when none is pending or the
 * device already acknowledged it. */
int zx_wipe_cancel(apr_pool_t *p, zx_db *db, const char *actor, const char *account,
                   const char *device_id, const char **err);

#endif
