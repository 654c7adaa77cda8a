/* zxmobile - device administration (zxsync/devadmin.h). */
#include <zxsync/devadmin.h>
#include <zxsync/audit.h>
#include <zxsync/config.h>
#include <zxsync/directory.h>
#include <zxsync/notify.h>
#include <zxsync/policy.h>
#include <zxsync/store.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

const char *zx_devstat_name(zx_devstat s)
{
    switch (s) {
    case ZX_DEVSTAT_NEEDS_PROVISIONING: return "needs provisioning";
    case ZX_DEVSTAT_OK:                 return "ok";
    case ZX_DEVSTAT_SUSPENDED:          return "suspended";
    case ZX_DEVSTAT_WIPE_REQUESTED:     return "wipe requested";
    case ZX_DEVSTAT_WIPE_DONE:          return "wipe done";
    }
    return "unknown";
}

/* ---- the account ------------------------------------------------------------------------ */

typedef struct {
    zx_config_scope scope;    /* account_id, cos_id, domain_id, server */
    int mdm;                  /* MDM applies (spec 3.1), -1 not known yet */
    zx_policy pol;            /* its policy, once mdm is known */
    const char *name;         /* the account's name, normalised */
} dev_acct;

/* The account by name: 1 found, ZX_DEVADMIN_NOT_FOUND, or -1. */
static int find_account(apr_pool_t *p, zx_db *db, const char *name, dev_acct *a, const char **err)
{
    memset(a, 0, sizeof *a);
    a->mdm = -1;
    int rc = zx_config_account_scope(p, db, name, &a->scope, err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        *err = apr_psprintf(p, "no such account: %s", name ? name : "");
        return ZX_DEVADMIN_NOT_FOUND;
    }
    a->name = zx_account_name_normalize(p, name, NULL, NULL);
    if (!a->name)
        a->name = name;
    return 1;
}

/* The account's policy (zxsync/policy.h, as the provisioning gate resolves it): whether MDM
 * applies (ZxMobile_DeviceManagementEnabled AND zimbraFeatureMobilePolicyEnabled, spec 3.1)
 * and the hash of the policy in force. */
static int mdm_active(apr_pool_t *p, zx_db *db, dev_acct *a, const char **err)
{
    if (a->mdm >= 0)
        return a->mdm;
    if (zx_policy_resolve(p, db, &a->scope, NULL, &a->pol, NULL, err) < 0)
        return -1;
    a->mdm = a->pol.mdm;
    return a->mdm;
}

/* ---- reading records ------------------------------------------------------------------- */

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define DEVICE_SELECT \
    "SELECT d.id, a.local_part || '@' || dom.name, a.id, d.device_id, d.device_type, " \
    "       d.user_agent, d.protocol, " TS("d.first_seen") ", " TS("d.last_seen") ", " \
    "       d.last_command, d.last_heartbeat, d.sync_suspended, d.wipe_status, " \
    "       d.wipe_account_only, " TS("d.wipe_requested_at") ", d.wipe_requested_by, " \
    "       " TS("d.wipe_done_at") ", d.policy_key, d.policy_key_temp IS NOT NULL, " \
    "       " TS("d.provisioned_at") ", d.info_model, d.info_imei, d.info_friendly_name, " \
    "       d.info_os, d.info_os_language, d.info_phone_number, d.info_user_agent, " \
    "       d.info_enable_outbound_sms, d.info_mobile_operator, " TS("d.info_updated_at") ", " \
    "       d.recovery_password, " \
    "       (SELECT fs.sync_key FROM folder_states fs WHERE fs.device_id = d.id), " \
    "       (SELECT count(*) FROM sync_states ss WHERE ss.device_id = d.id), " \
    "       a.cos_id, a.domain_id, d.policy_hash, " \
    "       floor(extract(epoch FROM now() - d.provisioned_at))::bigint " \
    "  FROM devices d JOIN accounts a ON a.id = d.account_id " \
    "  JOIN domains dom ON dom.id = a.domain_id "

static const char *str_or_null(apr_pool_t *p, const PGresult *res, int r, int c)
{
    return PQgetisnull(res, r, c) ? NULL : apr_pstrdup(p, PQgetvalue(res, r, c));
}

static int int_or(const PGresult *res, int r, int c, int dflt)
{
    return PQgetisnull(res, r, c) ? dflt : atoi(PQgetvalue(res, r, c));
}

static int bool_at(const PGresult *res, int r, int c)
{
    return !PQgetisnull(res, r, c) && PQgetvalue(res, r, c)[0] == 't';
}

static zx_devinfo *row_device(apr_pool_t *p, const PGresult *res, int r, int verbose)
{
    zx_devinfo *d = apr_pcalloc(p, sizeof *d);
    d->row_id = str_or_null(p, res, r, 0);
    d->account = str_or_null(p, res, r, 1);
    d->account_id = str_or_null(p, res, r, 2);
    d->device_id = str_or_null(p, res, r, 3);
    d->device_type = str_or_null(p, res, r, 4);
    d->user_agent = str_or_null(p, res, r, 5);
    d->protocol = str_or_null(p, res, r, 6);
    d->first_seen = str_or_null(p, res, r, 7);
    d->last_seen = str_or_null(p, res, r, 8);
    d->last_command = str_or_null(p, res, r, 9);
    d->last_heartbeat = int_or(res, r, 10, -1);
    d->sync_suspended = bool_at(res, r, 11);
    d->wipe_status = int_or(res, r, 12, 0);
    d->wipe_account_only = bool_at(res, r, 13);
    d->wipe_requested_at = str_or_null(p, res, r, 14);
    d->wipe_requested_by = str_or_null(p, res, r, 15);
    d->wipe_done_at = str_or_null(p, res, r, 16);
    d->policy_key = str_or_null(p, res, r, 17);
    d->provisioning_pending = bool_at(res, r, 18);
    d->provisioned_at = str_or_null(p, res, r, 19);
    d->model = str_or_null(p, res, r, 20);
    d->imei = str_or_null(p, res, r, 21);
    d->friendly_name = str_or_null(p, res, r, 22);
    d->os = str_or_null(p, res, r, 23);
    d->os_language = str_or_null(p, res, r, 24);
    d->phone_number = str_or_null(p, res, r, 25);
    d->info_user_agent = str_or_null(p, res, r, 26);
    d->enable_outbound_sms = PQgetisnull(res, r, 27) ? -1 : bool_at(res, r, 27);
    d->mobile_operator = str_or_null(p, res, r, 28);
    d->info_updated_at = str_or_null(p, res, r, 29);
    d->has_recovery_password = !PQgetisnull(res, r, 30) && PQgetlength(res, r, 30) > 0;
    d->recovery_password = verbose && d->has_recovery_password ? str_or_null(p, res, r, 30)
                                                               : NULL;
    d->hierarchy_key = str_or_null(p, res, r, 31);
    d->collections = int_or(res, r, 32, 0);
    return d;
}

/* The policy key is valid as the provisioning gate (gate/provision.c) sees it: acknowledged,
 * issued for the policy in force now, younger than zimbraMobilePolicyRefreshInterval. */
static int key_valid(const zx_devinfo *d, const zx_policy *pol, const PGresult *res, int r)
{
    if (!d->policy_key || PQgetisnull(res, r, 35))
        return 0;
    if ((int64_t)strtoll(PQgetvalue(res, r, 35), NULL, 10) != pol->hash)
        return 0;
    long long age = PQgetisnull(res, r, 36) ? -1 : strtoll(PQgetvalue(res, r, 36), NULL, 10);
    return !(pol->refresh_minutes > 0 && age >= pol->refresh_minutes * 60);
}

/* The status, by precedence: a wipe, then the suspension, then provisioning. */
static void set_status(zx_devinfo *d, int key_ok)
{
    if (d->wipe_status == 2)
        d->status = ZX_DEVSTAT_WIPE_DONE;
    else if (d->wipe_status == 1)
        d->status = ZX_DEVSTAT_WIPE_REQUESTED;
    else if (d->sync_suspended)
        d->status = ZX_DEVSTAT_SUSPENDED;
    else if (d->mdm && !key_ok)
        d->status = ZX_DEVSTAT_NEEDS_PROVISIONING;
    else
        d->status = ZX_DEVSTAT_OK;
}

/* Fill mdm and status of the devices, resolving MDM once per account. */
static int finish_devices(apr_pool_t *p, zx_db *db, apr_array_header_t *devs, const PGresult *res,
                          dev_acct *known, const char **err)
{
    apr_hash_t *accts = apr_hash_make(p);
    for (int i = 0; i < devs->nelts; i++) {
        zx_devinfo *d = APR_ARRAY_IDX(devs, i, zx_devinfo *);
        dev_acct *a = known;
        if (!a) {
            a = apr_hash_get(accts, d->account_id, APR_HASH_KEY_STRING);
            if (!a) {
                a = apr_pcalloc(p, sizeof *a);
                a->mdm = -1;
                a->scope.account_id = d->account_id;
                a->scope.cos_id = str_or_null(p, res, i, 33);
                a->scope.domain_id = str_or_null(p, res, i, 34);
                a->scope.server = zx_config_server_name(p);
                apr_hash_set(accts, d->account_id, APR_HASH_KEY_STRING, a);
            }
        }
        int mdm = mdm_active(p, db, a, err);
        if (mdm < 0)
            return -1;
        d->mdm = mdm;
        set_status(d, mdm && key_valid(d, &a->pol, res, i));
    }
    return 0;
}

/* Split "a.com, b.com" into a PostgreSQL text array literal's elements, lower-cased. */
static const char *domain_array(apr_pool_t *p, const char *list)
{
    char *copy = apr_pstrdup(p, list), *last = NULL;
    const char *out = "{";
    int first = 1;
    for (char *tok = apr_strtok(copy, ", ", &last); tok; tok = apr_strtok(NULL, ", ", &last)) {
        for (char *c = tok; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        /* array literal: quote each element, escape quotes and backslashes */
        const char *q = "\"";
        for (const char *c = tok; *c; c++)
            q = apr_pstrcat(p, q, (*c == '"' || *c == '\\') ? "\\" : "",
                            apr_pstrndup(p, c, 1), NULL);
        out = apr_pstrcat(p, out, first ? "" : ",", q, "\"", NULL);
        first = 0;
    }
    return apr_pstrcat(p, out, "}", NULL);
}

int zx_devadmin_list(apr_pool_t *p, zx_db *db, const char *account, const char *domains,
                     apr_array_header_t **out, const char **err)
{
    dev_acct a, *known = NULL;
    const char *params[2] = {NULL, NULL};
    if (account) {
        int rc = find_account(p, db, account, &a, err);
        if (rc != 1)
            return rc;
        known = &a;
        params[0] = a.scope.account_id;
    }
    if (domains && *domains)
        params[1] = domain_array(p, domains);
    PGresult *res = zx_db_exec(db, DEVICE_SELECT
        "WHERE ($1::bigint IS NULL OR d.account_id = $1::bigint) "
        "  AND ($2::text[] IS NULL OR dom.name = ANY ($2::text[])) "
        "ORDER BY dom.name, a.local_part, d.device_id", 2, params, err);
    if (!res)
        return -1;
    apr_array_header_t *devs = apr_array_make(p, PQntuples(res) + 1, sizeof(zx_devinfo *));
    for (int i = 0; i < PQntuples(res); i++)
        APR_ARRAY_PUSH(devs, zx_devinfo *) = row_device(p, res, i, 0);
    int rc = finish_devices(p, db, devs, res, known, err);
    PQclear(res);
    if (rc < 0)
        return -1;
    *out = devs;
    return 0;
}

/* The device's synchronisation states (they are the store's: zxsync/store.h). */
static int load_states(apr_pool_t *p, zx_db *db, zx_devinfo *d, const char **err)
{
    zx_store *st = zx_store_open(p, db, d->account_id);
    apr_array_header_t *states;
    if (zx_store_device_states(st, d->row_id, &states, err) != ZX_STORE_OK)
        return -1;
    d->states = apr_array_make(p, states->nelts + 1, sizeof(zx_devstate));
    for (int i = 0; i < states->nelts; i++) {
        const zx_sync_state *ss = APR_ARRAY_IDX(states, i, zx_sync_state *);
        zx_devstate *s = apr_array_push(d->states);
        apr_time_exp_t e;
        apr_time_exp_gmt(&e, ss->updated);
        s->folder_id = ss->folder_id;
        s->folder_name = ss->folder->name;
        s->folder_type = ss->folder->type;
        s->sync_key = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)ss->cur.key);
        s->filter_type = ss->filter_type;
        /* as TS() writes it */
        s->updated_at = apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", e.tm_year + 1900,
                                     e.tm_mon + 1, e.tm_mday, e.tm_hour, e.tm_min, e.tm_sec);
    }
    return 0;
}

static const char *no_device(apr_pool_t *p, const char *account, const char *device_id)
{
    return apr_psprintf(p, "no device %s for account %s (zxsuite mobile getDeviceList %s "
                        "lists its devices)", device_id, account, account);
}

/* The DeviceId as stored: the one given, or, when the account has no such device, the one
 * device whose DeviceId equals it ignoring case (administrators retype them).  Returns 1,
 * ZX_DEVADMIN_NOT_FOUND, or -1.  device_id NULL (every device) stays NULL. */
static int resolve_device(apr_pool_t *p, zx_db *db, const dev_acct *a, const char *account,
                          const char **device_id, const char **err)
{
    if (!*device_id)
        return 1;
    const char *params[2] = {a->scope.account_id, *device_id};
    PGresult *res = zx_db_exec(db,
        "SELECT device_id, device_id = $2 FROM devices WHERE account_id = $1::bigint "
        "AND lower(device_id) = lower($2) ORDER BY device_id = $2 DESC LIMIT 2", 2, params, err);
    if (!res)
        return -1;
    int n = PQntuples(res), rc = 1;
    if (n >= 1 && (PQgetvalue(res, 0, 1)[0] == 't' || n == 1))
        *device_id = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    else if (n == 0) {
        *err = no_device(p, account, *device_id);
        rc = ZX_DEVADMIN_NOT_FOUND;
    }
    else {
        *err = apr_psprintf(p, "several devices of account %s are \"%s\" when case is ignored: "
                            "give the DeviceId exactly", account, *device_id);
        rc = ZX_DEVADMIN_NOT_FOUND;
    }
    PQclear(res);
    return rc;
}

int zx_devadmin_get(apr_pool_t *p, zx_db *db, const char *account, const char *device_id,
                    int verbose, zx_devinfo **out, const char **err)
{
    dev_acct a;
    int rc = find_account(p, db, account, &a, err);
    if (rc != 1)
        return rc;
    if ((rc = resolve_device(p, db, &a, account, &device_id, err)) != 1)
        return rc;
    const char *params[2] = {a.scope.account_id, device_id};
    PGresult *res = zx_db_exec(db, DEVICE_SELECT
        "WHERE d.account_id = $1::bigint AND d.device_id = $2", 2, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        *err = no_device(p, account, device_id);
        return ZX_DEVADMIN_NOT_FOUND;
    }
    zx_devinfo *d = row_device(p, res, 0, verbose);
    int mdm = mdm_active(p, db, &a, err);
    if (mdm >= 0) {
        d->mdm = mdm;
        set_status(d, mdm && key_valid(d, &a.pol, res, 0));
    }
    PQclear(res);
    if (mdm < 0)
        return -1;
    if (verbose && load_states(p, db, d, err) < 0)
        return -1;
    *out = d;
    return 0;
}

/* ---- actions ----------------------------------------------------------------------------- */

/* The DeviceIds of the first column of res. */
static apr_array_header_t *ids_of(apr_pool_t *p, const PGresult *res)
{
    apr_array_header_t *ids = apr_array_make(p, PQntuples(res) + 1, sizeof(const char *));
    for (int i = 0; i < PQntuples(res); i++)
        APR_ARRAY_PUSH(ids, const char *) = apr_pstrdup(p, PQgetvalue(res, i, 0));
    return ids;
}

/* The end of every action: its audit row and the wake-up of the account's waiting devices,
 * in the action's transaction. */
static int audit_and_notify(zx_db *db, const char *actor, const char *action, const char *account,
                            const char *account_id, const char *device_id, const char *details,
                            int notify, const char **err)
{
    if (zx_audit_record(db, actor, action, account, device_id, details, err) < 0)
        return -1;
    if (notify && zx_notify_account(db, account_id, err) < 0)
        return -1;
    return 0;
}

static const char *join_ids(apr_pool_t *p, const apr_array_header_t *ids)
{
    if (ids->nelts == 0)
        return "none";
    return apr_array_pstrcat(p, ids, ',');
}

int zx_devadmin_remove(apr_pool_t *p, zx_db *db, const char *actor, const char *account,
                       const char *device_id, const char **err)
{
    dev_acct a;
    int rc = find_account(p, db, account, &a, err);
    if (rc != 1)
        return rc;
    if ((rc = resolve_device(p, db, &a, account, &device_id, err)) != 1)
        return rc;
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    const char *params[2] = {a.scope.account_id, device_id};
    /* the cascade takes sync_states and folder_states; folders and items the device created
     * or changed keep their rows (created_by/changed_by become NULL) */
    PGresult *res = zx_db_exec(db,
        "WITH dev AS (DELETE FROM devices WHERE account_id = $1::bigint AND device_id = $2 "
        "             RETURNING id), "
        "ids AS (DELETE FROM compose_client_ids WHERE account_id = $1::bigint AND device_id = $2 "
        "        AND EXISTS (SELECT 1 FROM dev)) "
        "SELECT count(*) FROM dev", 2, params, err);
    rc = res ? 0 : -1;
    if (res && atoi(PQgetvalue(res, 0, 0)) != 1) {
        *err = no_device(p, account, device_id);
        rc = ZX_DEVADMIN_NOT_FOUND;
    }
    if (res)
        PQclear(res);
    if (rc == 0)
        rc = audit_and_notify(db, actor, "doRemoveDevice", a.name, a.scope.account_id,
                              device_id, "device record, sync states and history removed", 1,
                              err);
    int end = zx_db_tx_end(db, own, rc == 0 ? 0 : -1, err);
    return rc != 0 ? rc : end;
}

/* the devices not seen for $1 days, of account $2 (NULL: all); the dry run only reads them */
#define PURGE_WHERE \
    "d.last_seen < now() - make_interval(days => $1::int) AND " \
    "($2::bigint IS NULL OR d.account_id = $2::bigint)"
#define PURGE_COLS \
    "account_id, account, device_id, device_type, " \
    "to_char(last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

int zx_devadmin_purge(apr_pool_t *p, zx_db *db, const char *actor, int days,
                      const char *account, int dry_run, apr_array_header_t **out,
                      const char **err)
{
    *out = apr_array_make(p, 8, sizeof(zx_devadmin_purged));
    if (days < 1) {
        *err = "the retention period is at least one day";
        return -1;
    }
    dev_acct a;
    const char *account_id = NULL;
    if (account) {
        int rc = find_account(p, db, account, &a, err);
        if (rc != 1)
            return rc;
        account_id = a.scope.account_id;
    }
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    const char *params[2] = {apr_itoa(p, days), account_id};
    /* the cascade takes sync_states and folder_states, as doRemoveDevice */
    PGresult *res = zx_db_exec(db, dry_run
        ? "SELECT " PURGE_COLS " FROM (SELECT d.account_id, a.local_part || '@' || m.name "
          "  AS account, d.device_id, d.device_type, d.last_seen FROM devices d "
          "  JOIN accounts a ON a.id = d.account_id JOIN domains m ON m.id = a.domain_id "
          "  WHERE " PURGE_WHERE ") x ORDER BY last_seen, account, device_id"
        : "WITH dev AS (DELETE FROM devices d USING accounts a, domains m "
          "  WHERE a.id = d.account_id AND m.id = a.domain_id AND " PURGE_WHERE
          "  RETURNING d.account_id, a.local_part || '@' || m.name AS account, d.device_id, "
          "  d.device_type, d.last_seen), "
          "ids AS (DELETE FROM compose_client_ids c USING dev "
          "  WHERE c.account_id = dev.account_id AND c.device_id = dev.device_id) "
          "SELECT " PURGE_COLS " FROM dev ORDER BY last_seen, account, device_id",
        2, params, err);
    int rc = res ? 0 : -1;
    for (int i = 0; res && i < PQntuples(res); i++) {
        zx_devadmin_purged *d = apr_array_push(*out);
        d->account = apr_pstrdup(p, PQgetvalue(res, i, 1));
        d->device_id = apr_pstrdup(p, PQgetvalue(res, i, 2));
        d->device_type = apr_pstrdup(p, PQgetvalue(res, i, 3));
        d->last_seen = apr_pstrdup(p, PQgetvalue(res, i, 4));
        if (!dry_run && rc == 0)
            rc = audit_and_notify(db, actor, "doPurgeMobileState", d->account,
                                  PQgetvalue(res, i, 0), d->device_id,
                                  apr_psprintf(p, "not seen since %s (retention %d days): "
                                               "device record, sync states and history removed",
                                               d->last_seen, days), 1, err);
    }
    if (res)
        PQclear(res);
    int end = zx_db_tx_end(db, own, rc == 0 ? 0 : -1, err);
    return rc != 0 ? rc : end;
}

int zx_devadmin_reset(apr_pool_t *p, zx_db *db, const char *actor, const char *action,
                      const char *account, const char *device_id,
                      apr_array_header_t **devices, const char **err)
{
    dev_acct a;
    int rc = find_account(p, db, account, &a, err);
    if (rc != 1)
        return rc;
    if ((rc = resolve_device(p, db, &a, account, &device_id, err)) != 1)
        return rc;
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    const char *params[2] = {a.scope.account_id, device_id};
    /* the device rows are locked first, so that the deletions and the cached requests (Sync:
     * devices.sync_cache; Ping: device_ping's heartbeat and folders, sql/007 - its wait id
     * stays, the waiting requests go on being superseded in order) go together; the next Sync
     * of a dropped collection gets status 3 (invalid key), the next FolderSync status 9, and
     * the device starts over from SyncKey 0 */
    PGresult *res = zx_db_exec(db,
        "WITH dev AS (SELECT id, device_id FROM devices WHERE account_id = $1::bigint "
        "             AND ($2::text IS NULL OR device_id = $2) FOR UPDATE), "
        "s AS (DELETE FROM sync_states WHERE device_id IN (SELECT id FROM dev)), "
        "f AS (DELETE FROM folder_states WHERE device_id IN (SELECT id FROM dev)), "
        "c AS (UPDATE devices SET sync_cache = NULL WHERE id IN (SELECT id FROM dev) "
        "      AND sync_cache IS NOT NULL), "
        "pc AS (UPDATE device_ping SET heartbeat = NULL, folders = NULL "
        "       WHERE device IN (SELECT id FROM dev)) "
        "SELECT device_id FROM dev ORDER BY device_id", 2, params, err);
    apr_array_header_t *ids = NULL;
    rc = res ? 0 : -1;
    if (res) {
        ids = ids_of(p, res);
        PQclear(res);
        if (device_id && ids->nelts == 0) {
            *err = no_device(p, account, device_id);
            rc = ZX_DEVADMIN_NOT_FOUND;
        }
    }
    if (rc == 0)
        rc = audit_and_notify(db, actor, action, a.name, a.scope.account_id,
                              device_id ? device_id : NULL,
                              apr_psprintf(p, "sync states reset: %s", join_ids(p, ids)),
                              ids->nelts > 0, err);
    int end = zx_db_tx_end(db, own, rc == 0 ? 0 : -1, err);
    if (rc != 0 || end < 0)
        return rc != 0 ? rc : -1;
    if (devices)
        *devices = ids;
    return 0;
}

int zx_devadmin_suspend(apr_pool_t *p, zx_db *db, const char *actor, const char *account,
                        const char *device_id, int suspend, apr_array_header_t **devices,
                        int *changed, const char **err)
{
    dev_acct a;
    int rc = find_account(p, db, account, &a, err);
    if (rc != 1)
        return rc;
    if ((rc = resolve_device(p, db, &a, account, &device_id, err)) != 1)
        return rc;
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    const char *params[3] = {a.scope.account_id, device_id, suspend ? "true" : "false"};
    PGresult *res = zx_db_exec(db,
        "WITH dev AS (SELECT id, device_id, sync_suspended FROM devices "
        "             WHERE account_id = $1::bigint AND ($2::text IS NULL OR device_id = $2) "
        "             FOR UPDATE), "
        "u AS (UPDATE devices d SET sync_suspended = $3::boolean FROM dev "
        "      WHERE d.id = dev.id AND dev.sync_suspended <> $3::boolean) "
        "SELECT device_id, sync_suspended <> $3::boolean FROM dev ORDER BY device_id",
        3, params, err);
    apr_array_header_t *ids = NULL;
    int n_changed = 0;
    rc = res ? 0 : -1;
    if (res) {
        ids = ids_of(p, res);
        for (int i = 0; i < PQntuples(res); i++)
            n_changed += PQgetvalue(res, i, 1)[0] == 't';
        PQclear(res);
        if (device_id && ids->nelts == 0) {
            *err = no_device(p, account, device_id);
            rc = ZX_DEVADMIN_NOT_FOUND;
        }
    }
    if (rc == 0)
        rc = audit_and_notify(db, actor, suspend ? "doSuspendDeviceSync" : "doResumeDeviceSync",
                              a.name, a.scope.account_id, device_id,
                              apr_psprintf(p, "%s: %s (%d changed)",
                                           suspend ? "suspended" : "resumed", join_ids(p, ids),
                                           n_changed),
                              n_changed > 0, err);
    int end = zx_db_tx_end(db, own, rc == 0 ? 0 : -1, err);
    if (rc != 0 || end < 0)
        return rc != 0 ? rc : -1;
    if (devices)
        *devices = ids;
    if (changed)
        *changed = n_changed;
    return 0;
}

/* ---- loop detection ---------------------------------------------------------------------- */

/* The device row of an account's DeviceId: 1 and *row, ZX_DEVADMIN_NOT_FOUND, or -1. */
static int device_row(apr_pool_t *p, zx_db *db, const char *account, const char *device_id,
                      dev_acct *a, const char **row, const char **err)
{
    int rc = find_account(p, db, account, a, err);
    if (rc != 1)
        return rc;
    if (!device_id) {
        *err = "a device id is needed";
        return ZX_DEVADMIN_NOT_FOUND;
    }
    if ((rc = resolve_device(p, db, a, account, &device_id, err)) != 1)
        return rc;
    const char *params[2] = {a->scope.account_id, device_id};
    PGresult *res = zx_db_exec(db, "SELECT id FROM devices WHERE account_id = $1::bigint "
                               "AND device_id = $2", 2, params, err);
    if (!res)
        return -1;
    rc = PQntuples(res) == 1 ? 1 : ZX_DEVADMIN_NOT_FOUND;
    if (rc == 1)
        *row = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    else
        *err = no_device(p, account, device_id);
    PQclear(res);
    return rc;
}

int zx_devadmin_loops(apr_pool_t *p, zx_db *db, const char *account, const char *device_id,
                      apr_array_header_t **out, const char **err)
{
    dev_acct a;
    const char *row = NULL;
    int rc = device_row(p, db, account, device_id, &a, &row, err);
    if (rc != 1)
        return rc;
    const char *params[1] = {row};
    PGresult *res = zx_db_exec(db,
        "SELECT f.id, f.name, COALESCE(s.retries, 0), k.item_id, i.subject, k.attempts, "
        "       k.window_size, " TS("k.skipped_at") " "
        "FROM sync_skipped k JOIN folders f ON f.id = k.folder_id "
        "LEFT JOIN sync_states s ON s.device_id = k.device_id AND s.folder_id = k.folder_id "
        "LEFT JOIN items i ON i.id = k.item_id AND i.folder_id = k.folder_id "
        "WHERE k.device_id = $1::bigint "
        "UNION ALL "
        "SELECT f.id, f.name, s.retries, NULL, NULL, NULL, NULL, NULL "
        "FROM sync_states s JOIN folders f ON f.id = s.folder_id "
        "WHERE s.device_id = $1::bigint AND s.retries > 0 AND NOT EXISTS "
        "  (SELECT 1 FROM sync_skipped k WHERE k.device_id = s.device_id "
        "   AND k.folder_id = s.folder_id) "
        "ORDER BY 1, 4", 1, params, err);
    if (!res)
        return -1;
    *out = apr_array_make(p, PQntuples(res) + 1, sizeof(zx_devloop *));
    for (int r = 0; r < PQntuples(res); r++) {
        zx_devloop *l = apr_pcalloc(p, sizeof *l);
        l->folder_id = apr_pstrdup(p, PQgetvalue(res, r, 0));
        l->folder = apr_pstrdup(p, PQgetvalue(res, r, 1));
        l->retries = atoi(PQgetvalue(res, r, 2));
        l->item_id = PQgetisnull(res, r, 3) ? NULL : apr_pstrdup(p, PQgetvalue(res, r, 3));
        l->subject = PQgetisnull(res, r, 4) ? NULL : apr_pstrdup(p, PQgetvalue(res, r, 4));
        l->attempts = PQgetisnull(res, r, 5) ? -1 : atoi(PQgetvalue(res, r, 5));
        l->window = PQgetisnull(res, r, 6) ? -1 : atoi(PQgetvalue(res, r, 6));
        l->skipped_at = PQgetisnull(res, r, 7) ? NULL : apr_pstrdup(p, PQgetvalue(res, r, 7));
        APR_ARRAY_PUSH(*out, zx_devloop *) = l;
    }
    PQclear(res);
    return 0;
}

int zx_devadmin_clear_loops(apr_pool_t *p, zx_db *db, const char *actor, const char *account,
                            const char *device_id, int *folders, const char **err)
{
    dev_acct a;
    const char *row = NULL;
    int rc = device_row(p, db, account, device_id, &a, &row, err);
    if (rc != 1)
        return rc;
    int own;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    const char *params[1] = {row};
    /* the device row is locked first, as zx_devadmin_reset does; its cached Sync request goes
     * too (it may name the folders) */
    PGresult *res = zx_db_exec(db,
        "WITH dev AS (SELECT id FROM devices WHERE id = $1::bigint FOR UPDATE), "
        "k AS (DELETE FROM sync_skipped WHERE device_id IN (SELECT id FROM dev) "
        "      RETURNING folder_id), "
        "s AS (DELETE FROM sync_states WHERE device_id IN (SELECT id FROM dev) "
        "      AND (retries > 0 OR folder_id IN (SELECT folder_id FROM k)) RETURNING folder_id), "
        "c AS (UPDATE devices SET sync_cache = NULL WHERE id IN (SELECT id FROM dev) "
        "      AND sync_cache IS NOT NULL) "
        "SELECT count(*) FROM (SELECT folder_id FROM k UNION SELECT folder_id FROM s) x",
        1, params, err);
    rc = res ? 0 : -1;
    *folders = 0;
    if (res) {
        *folders = atoi(PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    if (rc == 0)
        rc = audit_and_notify(db, actor, "clearLoop", a.name, a.scope.account_id, device_id,
                              apr_psprintf(p, "loop detection cleared: %d folder(s) reset",
                                           *folders), *folders > 0, err);
    int end = zx_db_tx_end(db, own, rc == 0 ? 0 : -1, err);
    return rc != 0 ? rc : end;
}
