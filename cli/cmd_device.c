/* zxsuite mobile: device records and sync states (spec 4.2, 4.3, 12.1), over
 * zxsync/devadmin.h.
 *
 *   zxsuite mobile getDeviceList <account>
 *   zxsuite mobile getAllDevices [verbose true] [all_servers true] [domains d1,d2]
 *   zxsuite mobile getDeviceInfo <account> <device_id> [verbose true]
 *   zxsuite mobile doRemoveDevice <account> <device_id>
 *   zxsuite mobile doResetDevice <account> [device_id <id>|all]
 *   zxsuite mobile doResetAccount <account>
 *   zxsuite mobile doSuspendDeviceSync <account> <device_id> | [device_id <id>|all]
 *   zxsuite mobile doResumeDeviceSync <account> [device_id <id>|all]
 *   zxsuite mobile getLoops <account> <device_id>
 *   zxsuite mobile clearLoop <account> <device_id>
 *   zxsuite mobile doPurgeMobileState [retention-period <days>] [account <account>] [dry_run true]
 */
#include "cli.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <strings.h>
#include <zxsync/audit.h>
#include <zxsync/config.h>
#include <zxsync/devadmin.h>

static int parse_bool(cli *c, const char *name, const char *v, int *out, const char **err)
{
    *out = 0;
    if (!v)
        return 0;
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0)
        *out = 1;
    else if (strcasecmp(v, "false") != 0 && strcasecmp(v, "no") != 0 && strcmp(v, "0") != 0) {
        *err = apr_psprintf(c->pool, "%s must be true or false, not \"%s\"", name, v);
        return -1;
    }
    return 0;
}

/* The optional device_id of the commands on one device or all of them: "device_id <id>"
 * ("all" or nothing: every device), or, when positional is allowed, a bare second argument
 * (doSuspendDeviceSync's mandatory device_id of spec 12.1). */
static int device_arg(cli *c, int argc, const char **argv, int positional, const char **device,
                      const char **err)
{
    static const char *const allowed[] = {"device_id", NULL};
    *device = NULL;
    if (positional && argc == 2)
        *device = argv[1];
    else if (cli_check_options(c, argc, argv, 1, allowed, err) < 0)
        return -1;
    else
        *device = cli_option(argc, argv, 1, "device_id");
    if (*device && (!**device || strcasecmp(*device, "all") == 0))
        *device = NULL;
    return 0;
}

/* ---- output ---------------------------------------------------------------------------- */

static ov *ov_int_or_null(apr_pool_t *p, int v)
{
    return v < 0 ? ov_raw(p, "null") : ov_int(p, v);
}

/* The short form (getDeviceList, getAllDevices). */
static ov *device_short(apr_pool_t *p, const zx_devinfo *d, int with_account)
{
    ov *o = ov_new(p, OV_OBJ);
    if (with_account)
        ov_set(o, "accountName", ov_str(p, d->account));
    ov_set(o, "deviceId", ov_str(p, d->device_id));
    ov_set(o, "deviceType", ov_str(p, d->device_type));
    ov_set(o, "userAgent", ov_str(p, d->user_agent));
    ov_set(o, "protocolVersion", ov_str(p, d->protocol));
    ov_set(o, "firstSeen", ov_str(p, d->first_seen));
    ov_set(o, "lastSeen", ov_str(p, d->last_seen));
    ov_set(o, "status", ov_str(p, zx_devstat_name(d->status)));
    ov_set(o, "statusCode", ov_int(p, d->status));
    return o;
}

/* Everything the record holds (getDeviceInfo, getAllDevices verbose). */
static ov *device_full(apr_pool_t *p, const zx_devinfo *d, int verbose)
{
    ov *o = device_short(p, d, 1);
    ov_set(o, "lastCommand", ov_str(p, d->last_command));
    ov_set(o, "lastHeartbeat", ov_int_or_null(p, d->last_heartbeat));
    ov_set(o, "syncSuspended", ov_bool(p, d->sync_suspended));
    ov_set(o, "mdm", ov_bool(p, d->mdm));
    ov_set(o, "policyKey", ov_str(p, d->policy_key));
    ov_set(o, "provisionedAt", ov_str(p, d->provisioned_at));
    ov_set(o, "provisioningPending", ov_bool(p, d->provisioning_pending));

    ov *w = ov_new(p, OV_OBJ);
    static const char *const wipe_names[] = {"none", "requested", "done"};
    ov_set(w, "status", ov_str(p, d->wipe_status >= 0 && d->wipe_status <= 2
                                      ? wipe_names[d->wipe_status] : "unknown"));
    ov_set(w, "accountOnly", ov_bool(p, d->wipe_account_only));
    ov_set(w, "requestedAt", ov_str(p, d->wipe_requested_at));
    ov_set(w, "requestedBy", ov_str(p, d->wipe_requested_by));
    ov_set(w, "doneAt", ov_str(p, d->wipe_done_at));
    ov_set(o, "wipe", w);

    ov *i = ov_new(p, OV_OBJ);
    ov_set(i, "model", ov_str(p, d->model));
    ov_set(i, "imei", ov_str(p, d->imei));
    ov_set(i, "friendlyName", ov_str(p, d->friendly_name));
    ov_set(i, "os", ov_str(p, d->os));
    ov_set(i, "osLanguage", ov_str(p, d->os_language));
    ov_set(i, "phoneNumber", ov_str(p, d->phone_number));
    ov_set(i, "userAgent", ov_str(p, d->info_user_agent));
    ov_set(i, "enableOutboundSMS",
           d->enable_outbound_sms < 0 ? ov_raw(p, "null") : ov_bool(p, d->enable_outbound_sms));
    ov_set(i, "mobileOperator", ov_str(p, d->mobile_operator));
    ov_set(i, "updatedAt", ov_str(p, d->info_updated_at));
    ov_set(o, "deviceInformation", i);
    ov_set(o, "hasRecoveryPassword", ov_bool(p, d->has_recovery_password));
    if (verbose && d->has_recovery_password)
        ov_set(o, "recoveryPassword", ov_str(p, d->recovery_password));

    ov *s = ov_new(p, OV_OBJ);
    ov_set(s, "folderSyncKey", ov_str(p, d->hierarchy_key));
    ov_set(s, "collections", ov_int(p, d->collections));
    if (verbose && d->states) {
        ov *list = ov_new(p, OV_ARR);
        for (int k = 0; k < d->states->nelts; k++) {
            const zx_devstate *st = &APR_ARRAY_IDX(d->states, k, zx_devstate);
            ov *e = ov_new(p, OV_OBJ);
            ov_set(e, "collectionId", ov_str(p, st->folder_id));
            ov_set(e, "folder", ov_str(p, st->folder_name));
            ov_set(e, "folderType", ov_int(p, st->folder_type));
            ov_set(e, "syncKey", ov_str(p, st->sync_key));
            ov_set(e, "filterType", ov_int(p, st->filter_type));
            ov_set(e, "updatedAt", ov_str(p, st->updated_at));
            ov_push(list, e);
        }
        ov_set(s, "states", list);
    }
    ov_set(o, "syncState", s);
    return o;
}

static ov *id_list(apr_pool_t *p, const apr_array_header_t *ids)
{
    ov *a = ov_new(p, OV_ARR);
    for (int i = 0; ids && i < ids->nelts; i++)
        ov_push(a, ov_str(p, APR_ARRAY_IDX(ids, i, const char *)));
    return a;
}

static ov *action_result(apr_pool_t *p, const char *message, const char *account,
                         const apr_array_header_t *ids)
{
    ov *o = ov_new(p, OV_OBJ);
    ov_set(o, "result", ov_str(p, message));
    ov_set(o, "account", ov_str(p, account));
    ov_set(o, "devices", id_list(p, ids));
    return o;
}

/* ---- commands -------------------------------------------------------------------------- */

static int cmd_get_device_list(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    apr_array_header_t *devs;
    if (cli_need_db(c, err) < 0 || zx_devadmin_list(c->pool, c->db, argv[0], NULL, &devs, err))
        return -1;
    ov *list = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < devs->nelts; i++)
        ov_push(list, device_short(c->pool, APR_ARRAY_IDX(devs, i, zx_devinfo *), 0));
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "account", ov_str(c->pool, argv[0]));
    ov_set(*out, "devices", list);
    return 0;
}

static int cmd_get_all_devices(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const allowed[] = {"verbose", "all_servers", "domains", NULL};
    int verbose, all_servers;
    if (cli_check_options(c, argc, argv, 0, allowed, err) < 0 ||
        parse_bool(c, "verbose", cli_option(argc, argv, 0, "verbose"), &verbose, err) < 0 ||
        parse_bool(c, "all_servers", cli_option(argc, argv, 0, "all_servers"), &all_servers,
                   err) < 0)
        return -1;
    /* all_servers: every node shares the database, so every device is listed anyway */
    apr_array_header_t *devs;
    if (cli_need_db(c, err) < 0 ||
        zx_devadmin_list(c->pool, c->db, NULL, cli_option(argc, argv, 0, "domains"), &devs, err))
        return -1;
    ov *list = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < devs->nelts; i++) {
        const zx_devinfo *d = APR_ARRAY_IDX(devs, i, zx_devinfo *);
        ov_push(list, verbose ? device_full(c->pool, d, 0) : device_short(c->pool, d, 1));
    }
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "count", ov_int(c->pool, devs->nelts));
    ov_set(*out, "devices", list);
    return 0;
}

static int cmd_get_device_info(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const allowed[] = {"verbose", NULL};
    int verbose;
    zx_devinfo *d;
    if (cli_check_options(c, argc, argv, 2, allowed, err) < 0 ||
        parse_bool(c, "verbose", cli_option(argc, argv, 2, "verbose"), &verbose, err) < 0 ||
        cli_need_db(c, err) < 0 ||
        zx_devadmin_get(c->pool, c->db, argv[0], argv[1], verbose, &d, err))
        return -1;
    *out = device_full(c->pool, d, verbose);
    return 0;
}

static int cmd_remove_device(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (cli_need_db(c, err) < 0 ||
        zx_devadmin_remove(c->pool, c->db, zx_audit_actor(c->pool), argv[0], argv[1], err))
        return -1;
    apr_array_header_t *ids = apr_array_make(c->pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(ids, const char *) = argv[1];
    *out = action_result(c->pool, apr_psprintf(c->pool, "device %s of %s removed", argv[1],
                                               argv[0]), argv[0], ids);
    return 0;
}

static int reset(cli *c, const char *action, const char *account, const char *device,
                 ov **out, const char **err)
{
    apr_array_header_t *ids;
    if (cli_need_db(c, err) < 0 ||
        zx_devadmin_reset(c->pool, c->db, zx_audit_actor(c->pool), action, account, device, &ids,
                          err))
        return -1;
    *out = action_result(c->pool,
                         apr_psprintf(c->pool, "sync state reset for %d device(s) of %s: they "
                                      "start over with a full synchronisation", ids->nelts,
                                      account), account, ids);
    return 0;
}

static int cmd_reset_device(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    const char *device;
    if (device_arg(c, argc, argv, 0, &device, err) < 0)
        return -1;
    return reset(c, "doResetDevice", argv[0], device, out, err);
}

static int cmd_reset_account(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    return reset(c, "doResetAccount", argv[0], NULL, out, err);
}

static int suspend(cli *c, int argc, const char **argv, int positional, int on, ov **out,
                   const char **err)
{
    const char *device;
    apr_array_header_t *ids;
    int changed;
    if (device_arg(c, argc, argv, positional, &device, err) < 0 || cli_need_db(c, err) < 0 ||
        zx_devadmin_suspend(c->pool, c->db, zx_audit_actor(c->pool), argv[0], device, on, &ids,
                            &changed, err))
        return -1;
    *out = action_result(c->pool,
                         apr_psprintf(c->pool, "sync %s for %d device(s) of %s (%d changed)",
                                      on ? "suspended" : "resumed", ids->nelts, argv[0], changed),
                         argv[0], ids);
    return 0;
}

static int cmd_suspend(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    return suspend(c, argc, argv, 1, 1, out, err);
}

static int cmd_resume(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    return suspend(c, argc, argv, 0, 0, out, err);
}

/* ---- loop detection (eas/sync_loop.c) ---------------------------------------------------- */

static int cmd_get_loops(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    (void)argc;
    apr_array_header_t *loops;
    if (cli_need_db(c, err) < 0 ||
        zx_devadmin_loops(c->pool, c->db, argv[0], argv[1], &loops, err))
        return -1;
    ov *list = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < loops->nelts; i++) {
        const zx_devloop *l = APR_ARRAY_IDX(loops, i, zx_devloop *);
        ov *e = ov_new(c->pool, OV_OBJ);
        ov_set(e, "collectionId", ov_str(c->pool, l->folder_id));
        ov_set(e, "folder", ov_str(c->pool, l->folder));
        ov_set(e, "retries", ov_int(c->pool, l->retries));
        ov_set(e, "skippedItem", ov_str(c->pool, l->item_id));
        ov_set(e, "subject", ov_str(c->pool, l->subject));
        ov_set(e, "attempts", ov_int_or_null(c->pool, l->attempts));
        ov_set(e, "windowSize", ov_int_or_null(c->pool, l->window));
        ov_set(e, "skippedAt", ov_str(c->pool, l->skipped_at));
        ov_push(list, e);
    }
    ov *o = ov_new(c->pool, OV_OBJ);
    ov_set(o, "accountName", ov_str(c->pool, argv[0]));
    ov_set(o, "deviceId", ov_str(c->pool, argv[1]));
    ov_set(o, "loops", list);
    *out = o;
    return 0;
}

static int cmd_clear_loop(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    (void)argc;
    int folders;
    if (cli_need_db(c, err) < 0 ||
        zx_devadmin_clear_loops(c->pool, c->db, zx_audit_actor(c->pool), argv[0], argv[1],
                                &folders, err))
        return -1;
    apr_array_header_t *ids = apr_array_make(c->pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(ids, const char *) = argv[1];
    *out = action_result(c->pool,
                         apr_psprintf(c->pool, "loop detection cleared for device %s of %s: "
                                      "%d folder(s) synchronised again at its next Sync",
                                      argv[1], argv[0], folders), argv[0], ids);
    return 0;
}

/* Carbonio's default retention ([C-AS]: "default 90"), unless ZxMobile_PurgeRetentionDays is set */
#define PURGE_DEFAULT_DAYS 90

static int cmd_purge(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const allowed[] = {"retention-period", "account", "dry_run", NULL};
    int dry_run;
    if (cli_check_options(c, argc, argv, 0, allowed, err) < 0 ||
        parse_bool(c, "dry_run", cli_option(argc, argv, 0, "dry_run"), &dry_run, err) < 0)
        return -1;
    int days = PURGE_DEFAULT_DAYS;
    const char *v = cli_option(argc, argv, 0, "retention-period");
    if (v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (!*v || *end || n < 1 || n > 36500) {
            *err = apr_psprintf(c->pool, "retention-period must be a number of days from 1 to "
                                "36500, not \"%s\"", v);
            return -1;
        }
        days = (int)n;
    }
    if (cli_need_db(c, err) < 0)
        return -1;
    const char *conf = NULL;
    if (!v) {   /* the server's own retention, when set, is the default */
        if (zx_config_get(c->pool, c->db, ZX_LEVEL_GLOBAL, NULL, "ZxMobile_PurgeRetentionDays",
                          &conf, err) < 0)
            return -1;
        if (conf && atoi(conf) > 0)
            days = atoi(conf);
    }
    apr_array_header_t *gone;
    if (zx_devadmin_purge(c->pool, c->db, zx_audit_actor(c->pool), days,
                          cli_option(argc, argv, 0, "account"),
                          dry_run, &gone, err))
        return -1;
    ov *list = ov_new(c->pool, OV_ARR);
    for (int i = 0; i < gone->nelts; i++) {
        const zx_devadmin_purged *d = &APR_ARRAY_IDX(gone, i, zx_devadmin_purged);
        ov *o = ov_new(c->pool, OV_OBJ);
        ov_set(o, "account", ov_str(c->pool, d->account));
        ov_set(o, "device_id", ov_str(c->pool, d->device_id));
        ov_set(o, "device_type", ov_str(c->pool, d->device_type));
        ov_set(o, "last_seen", ov_str(c->pool, d->last_seen));
        ov_push(list, o);
    }
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "result", ov_str(c->pool, apr_psprintf(
        c->pool, "%s %d device(s) not seen for %d days", dry_run ? "would remove" : "removed",
        gone->nelts, days)));
    ov_set(*out, "retentionDays", ov_int(c->pool, days));
    ov_set(*out, "dryRun", ov_bool(c->pool, dry_run));
    ov_set(*out, "devices", list);
    return 0;
}

const command cli_device_commands[] = {
    {"mobile", "getDeviceList", 1, 1, "<account>", "the devices of an account",
     cmd_get_device_list},
    {"mobile", "getAllDevices", 0, 6, "[verbose true] [all_servers true] [domains d1,d2]",
     "every device (verbose: everything each record holds); domains: only those domains",
     cmd_get_all_devices},
    {"mobile", "getDeviceInfo", 2, 4, "<account> <device_id> [verbose true]",
     "everything the device record holds (verbose: with the recovery password and the sync "
     "state of each folder)", cmd_get_device_info},
    {"mobile", "doRemoveDevice", 2, 2, "<account> <device_id>",
     "remove the device record with its sync states and history", cmd_remove_device},
    {"mobile", "doResetDevice", 1, 3, "<account> [device_id <id>|all]",
     "reset the sync states of a device (default: all devices of the account): full resync",
     cmd_reset_device},
    {"mobile", "doResetAccount", 1, 1, "<account>",
     "reset the sync states of every device of the account", cmd_reset_account},
    {"mobile", "doSuspendDeviceSync", 1, 3,
     "<account> <device_id> | <account> [device_id <id>|all]",
     "refuse every request of the device (status 129 / HTTP 403) until resumed", cmd_suspend},
    {"mobile", "doResumeDeviceSync", 1, 3, "<account> [device_id <id>|all]",
     "resume suspended devices (default: all devices of the account), keeping their sync state",
     cmd_resume},
    {"mobile", "doPurgeMobileState", 0, 6,
     "[retention-period <days>] [account <account>] [dry_run true]",
     "remove the devices not seen for that many days (default 90) with their sync states; "
     "dry_run: only list them", cmd_purge},
    {"mobile", "getLoops", 2, 2, "<account> <device_id>",
     "the Sync loops of a device: folders retried now and items skipped for it",
     cmd_get_loops},
    {"mobile", "clearLoop", 2, 2, "<account> <device_id>",
     "forget the items skipped for a device and resync those folders", cmd_clear_loop},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
