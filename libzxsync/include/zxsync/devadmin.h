/* zxmobile - device administration (spec 4.2, 4.3, 12.1): list and show device records, and
 * the admin actions on them - remove, reset (sync states), suspend and resume.  The CLI
 * (zxsuite mobile getDeviceList, getAllDevices, getDeviceInfo, doRemoveDevice, doResetDevice,
 * doResetAccount, doSuspendDeviceSync, doResumeDeviceSync) and any admin UI call these.
 *
 * Every action is one transaction that also writes its admin_audit row (zxsync/audit.h) and
 * NOTIFYs the account (zxsync/notify.h), so that a waiting Ping of the device wakes, re-reads
 * the device record and answers by the new state at once.
 *
 * Return values: 0 done, ZX_DEVADMIN_NOT_FOUND when the account or the device does not exist
 * (*err says which), -1 on another error (*err).
 */
#ifndef ZXSYNC_DEVADMIN_H
#define ZXSYNC_DEVADMIN_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <zxsync/db.h>

#define ZX_DEVADMIN_NOT_FOUND (-2)

/* The status of a device, in the numbering of the Zimbra mobile admin API (spec 4.2). */
typedef enum {
    ZX_DEVSTAT_NEEDS_PROVISIONING = 0,   /* MDM applies and the device holds no policy key */
    ZX_DEVSTAT_OK = 1,
    ZX_DEVSTAT_SUSPENDED = 2,            /* doSuspendDeviceSync */
    ZX_DEVSTAT_WIPE_REQUESTED = 3,       /* doWipeDevice, not acknowledged yet */
    ZX_DEVSTAT_WIPE_DONE = 4             /* the device acknowledged the wipe */
} zx_devstat;

/* "needs provisioning", "ok", "suspended", "wipe requested", "wipe done" */
const char *zx_devstat_name(zx_devstat s);

/* One synchronisation state of a device (getDeviceInfo verbose). */
typedef struct {
    const char *folder_id;
    const char *folder_name;
    int folder_type;               /* [MS-ASCMD] FolderSync Type */
    const char *sync_key;
    int filter_type;
    const char *updated_at;
} zx_devstate;

/* A device record (sql/004, 005, 006).  Times are ISO 8601 UTC ("2026-11-29T01:53:49Z");
 * absent values are NULL (numbers: -1). */
typedef struct {
    const char *row_id;            /* devices.id */
    const char *account;           /* the account's name */
    const char *account_id;
    const char *device_id;
    const char *device_type;
    const char *user_agent;
    const char *protocol;
    const char *first_seen;
    const char *last_seen;
    const char *last_command;
    int last_heartbeat;            /* seconds, last Ping heartbeat */
    zx_devstat status;
    int sync_suspended;
    int wipe_status;               /* 0 none, 1 requested, 2 done */
    int wipe_account_only;
    const char *wipe_requested_at;
    const char *wipe_requested_by;
    const char *wipe_done_at;
    const char *policy_key;        /* the acknowledged policy key */
    int provisioning_pending;      /* a policy was sent and not acknowledged yet */
    const char *provisioned_at;
    int mdm;                       /* MDM applies to the account (spec 3.1) */
    /* Settings DeviceInformation ([MS-ASCMD] 2.2.3.47) */
    const char *model;
    const char *imei;
    const char *friendly_name;
    const char *os;
    const char *os_language;
    const char *phone_number;
    const char *info_user_agent;
    int enable_outbound_sms;       /* -1 not sent */
    const char *mobile_operator;
    const char *info_updated_at;
    int has_recovery_password;
    const char *recovery_password; /* only with zx_devadmin_get(..., verbose) */
    /* synchronisation state */
    const char *hierarchy_key;     /* FolderSync key, NULL: none (FolderSync from 0) */
    int collections;               /* folders with a Sync state */
    apr_array_header_t *states;    /* zx_devstate, only with zx_devadmin_get(..., verbose) */
} zx_devinfo;

/* The devices of an account (account != NULL), or of every account (account NULL), optionally
 * only those of the domains in the comma-separated list domains.  out: zx_devinfo *, ordered
 * by account and DeviceId. */
int zx_devadmin_list(apr_pool_t *p, zx_db *db, const char *account, const char *domains,
                     apr_array_header_t **out, const char **err);

/* One device.  verbose adds the recovery password and the per-folder states. */
int zx_devadmin_get(apr_pool_t *p, zx_db *db, const char *account, const char *device_id,
                    int verbose, zx_devinfo **out, const char **err);

/* Delete the device record with its sync states, hierarchy state, cached requests and sent
 * ClientIds; the device is registered afresh at its next request. */
int zx_devadmin_remove(apr_pool_t *p, zx_db *db, const char *actor, const char *account,
                       const char *device_id, const char **err);

/* Drop the sync states, the hierarchy state and the cached Sync request of one device
 * (device_id) or of every device of the account (device_id NULL): the device's next Sync gets
 * "invalid sync key" and its next FolderSync "invalid key", so it starts over from key 0 and
 * gets every item once.  action is the audit name ("doResetDevice", "doResetAccount").
 * *devices (optional): the DeviceIds reset (const char *). */
int zx_devadmin_reset(apr_pool_t *p, zx_db *db, const char *actor, const char *action,
                      const char *account, const char *device_id,
                      apr_array_header_t **devices, const char **err);

/* Suspend (suspend 1) or resume (0) the sync of one device or of every device of the account
 * (device_id NULL).  A suspended device's requests are refused (gate/suspend.c); its sync
 * state is kept, so it goes on from where it was once resumed.  *devices (optional): the
 * DeviceIds concerned; *changed (optional): how many changed state. */
int zx_devadmin_suspend(apr_pool_t *p, zx_db *db, const char *actor, const char *account,
                        const char *device_id, int suspend, apr_array_header_t **devices,
                        int *changed, const char **err);

/* ---- purge (doPurgeMobileState) -------------------------------------------------------- */

/* A device doPurgeMobileState removed (or, dry run, would remove). */
typedef struct {
    const char *account;
    const char *device_id;
    const char *device_type;
    const char *last_seen;      /* ISO 8601, UTC */
} zx_devadmin_purged;

/* Remove every device not seen for days days (at least 1) - of one account, or of all
 * (account NULL) - as zx_devadmin_remove does: the record with its sync states, hierarchy
 * state, cached requests and sent ClientIds, each audited as doPurgeMobileState.  dry_run: only
 * list them.  *out: zx_devadmin_purged, the longest unseen first.  0, ZX_DEVADMIN_NOT_FOUND
 * (unknown account), -1. */
int zx_devadmin_purge(apr_pool_t *p, zx_db *db, const char *actor, int days,
                      const char *account, int dry_run, apr_array_header_t **out,
                      const char **err);

/* ---- loop detection (eas/sync_loop.c) ---------------------------------------------------- */

/* A folder of a device in a Sync loop, or with items skipped for it. */
typedef struct {
    const char *folder_id;
    const char *folder;            /* its name */
    int retries;                   /* consecutive Syncs with the previous key now */
    const char *item_id;           /* a skipped item, NULL: none (a loop in progress) */
    const char *subject;           /* the item's subject (mail), NULL: none */
    int attempts;                  /* Syncs with the same key before it was skipped */
    int window;                    /* WindowSize the device asked for */
    const char *skipped_at;        /* ISO 8601 UTC */
} zx_devloop;

/* The loops of one device: a zx_devloop per skipped item, and one per folder whose Syncs are
 * retried now (retries > 0) without a skipped item; ordered by folder and item. */
int zx_devadmin_loops(apr_pool_t *p, zx_db *db, const char *account, const char *device_id,
                      apr_array_header_t **out, const char **err);

/* Forget the skipped items of a device and reset its state of the folders that had some or
 * were in a loop: the device's next Sync of such a folder gets "invalid sync key" and it
 * synchronises the folder again, skipped items included.  *folders: how many. */
int zx_devadmin_clear_loops(apr_pool_t *p, zx_db *db, const char *actor, const char *account,
                            const char *device_id, int *folders, const char **err);

#endif
