/* zxmobile - remote wipe requests (zxsync/wipe.h): device administration, beside devadmin.c
 * (mdm/ holds the policies; it calls nothing here). */
#include <zxsync/wipe.h>

#include <zxsync/audit.h>
#include <zxsync/eas.h>
#include <zxsync/notify.h>

#include <apr_strings.h>

/* The device, or ZX_DEVADMIN_NOT_FOUND / -1. */
static int lookup(apr_pool_t *p, zx_db *db, const char *account, const char *device_id,
                  zx_devinfo **d, const char **err)
{
    return zx_devadmin_get(p, db, account, device_id, 0, d, err);
}

/* One UPDATE of the device row guarded by its current wipe status, with the audit row and the
 * NOTIFY, in one transaction.  Returns 0, ZX_WIPE_REFUSED when the guard failed (a concurrent
 * change), -1. */
static int apply(apr_pool_t *p, zx_db *db, const zx_devinfo *d, const char *sql, int nparams,
                 const char *const *params, const char *actor, const char *action,
                 const char *details, const char **err)
{
    int own = 0;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    long n = zx_db_affected(db, sql, nparams, params, err);
    int rc = n < 0 ? -1 : 0;
    if (n == 0) {
        *err = apr_psprintf(p, "the wipe state of device %s changed meanwhile; try again",
                            d->device_id);
        rc = ZX_WIPE_REFUSED;
    }
    if (rc == 0)
        rc = zx_audit_record(db, actor, action, d->account, d->device_id, details, err);
    if (rc == 0)
        rc = zx_notify_account(db, d->account_id, err);
    if (rc == ZX_WIPE_REFUSED) {
        const char *ignored;
        zx_db_tx_end(db, own, -1, &ignored);
        return rc;
    }
    return zx_db_tx_end(db, own, rc, err);
}

int zx_wipe_request(apr_pool_t *p, zx_db *db, const char *actor, const char *account,
                    const char *device_id, int account_only, const char **err)
{
    zx_devinfo *d;
    int rc = lookup(p, db, account, device_id, &d, err);
    if (rc != 0)
        return rc;
    if (d->wipe_status == ZX_WIPE_REQUESTED) {
        *err = apr_psprintf(p, "a %sremote wipe of device %s is already pending (requested %s "
                            "by %s); cancel it with doCancelWipeDevice first",
                            d->wipe_account_only ? "account-only " : "", d->device_id,
                            d->wipe_requested_at ? d->wipe_requested_at : "?",
                            d->wipe_requested_by ? d->wipe_requested_by : "?");
        return ZX_WIPE_REFUSED;
    }
    if (d->wipe_status == ZX_WIPE_DONE) {
        *err = apr_psprintf(p, "device %s was already wiped (acknowledged %s); remove it with "
                            "doRemoveDevice", d->device_id,
                            d->wipe_done_at ? d->wipe_done_at : "?");
        return ZX_WIPE_REFUSED;
    }
    if (account_only && (!d->protocol || zx_version_parse(d->protocol) < ZX_V161)) {
        *err = apr_psprintf(p, "device %s uses protocol %s: an account-only remote wipe needs "
                            "16.1 (AccountOnlyRemoteWipe); a full wipe works with every version",
                            d->device_id, d->protocol ? d->protocol : "(unknown)");
        return ZX_WIPE_REFUSED;
    }
    const char *params[3] = {d->row_id, account_only ? "t" : "f", actor};
    return apply(p, db, d,
                 "UPDATE devices SET wipe_status = 1, wipe_account_only = $2::boolean, "
                 "wipe_requested_at = now(), wipe_requested_by = $3, wipe_done_at = NULL "
                 "WHERE id = $1::bigint AND wipe_status = 0",
                 3, params, actor, "doWipeDevice",
                 account_only ? "account-only remote wipe requested" : "remote wipe requested",
                 err);
}

int zx_wipe_cancel(apr_pool_t *p, zx_db *db, const char *actor, const char *account,
                   const char *device_id, const char **err)
{
    zx_devinfo *d;
    int rc = lookup(p, db, account, device_id, &d, err);
    if (rc != 0)
        return rc;
    if (d->wipe_status == ZX_WIPE_DONE) {
        *err = apr_psprintf(p, "device %s already acknowledged the wipe (%s): it cannot be "
                            "cancelled", d->device_id, d->wipe_done_at ? d->wipe_done_at : "?");
        return ZX_WIPE_REFUSED;
    }
    if (d->wipe_status != ZX_WIPE_REQUESTED) {
        *err = apr_psprintf(p, "no remote wipe of device %s is pending", d->device_id);
        return ZX_WIPE_REFUSED;
    }
    const char *params[1] = {d->row_id};
    return apply(p, db, d,
                 "UPDATE devices SET wipe_status = 0, wipe_account_only = false, "
                 "wipe_requested_at = NULL, wipe_requested_by = NULL "
                 "WHERE id = $1::bigint AND wipe_status = 1",
                 1, params, actor, "doCancelWipeDevice",
                 apr_psprintf(p, "%sremote wipe requested %s by %s cancelled",
                              d->wipe_account_only ? "account-only " : "",
                              d->wipe_requested_at ? d->wipe_requested_at : "?",
                              d->wipe_requested_by ? d->wipe_requested_by : "?"),
                 err);
}
