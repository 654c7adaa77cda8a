/* zxmobile - pipeline stage 5: the device registry (zxsync/device.h). */
#include <zxsync/device.h>

#include <apr_strings.h>
#include <stdlib.h>

/* Columns of the control state, in this order, from both branches of the statement. */
#define CTL_COLS "sync_suspended, wipe_status, wipe_account_only, policy_key"

/* The CTL_COLS of row 0 starting at column c. */
static void read_ctl(const PGresult *res, int c, zx_device_ctl *d)
{
    d->sync_suspended = PQgetvalue(res, 0, c)[0] == 't';
    d->wipe_status = (zx_wipe_status)atoi(PQgetvalue(res, 0, c + 1));
    d->wipe_account_only = PQgetvalue(res, 0, c + 2)[0] == 't';
    d->has_policy_key = !PQgetisnull(res, 0, c + 3);
    d->policy_key = d->has_policy_key ? (uint32_t)strtoul(PQgetvalue(res, 0, c + 3), NULL, 10) : 0;
}

int zx_device_register(const zx_server *srv, zx_request *req, const char **err)
{
    zx_db *db = zx_request_db(srv, req, err);
    if (!db)
        return -1;
    const char *params[6] = {req->account.id, req->device_id, req->device_type, req->user_agent,
                             req->proto_str, req->cmd_name};
    /* The existing record (cur); an update only when something is worth writing (upd); an
     * insert only when there is none (ins; ON CONFLICT covers two first requests racing).
     * last_command rides along with the once-a-minute last_seen update. */
    PGresult *res = zx_db_exec(db,
        "WITH cur AS (SELECT id, device_type, user_agent, protocol, last_seen, " CTL_COLS
        "             FROM devices WHERE account_id = $1::bigint AND device_id = $2), "
        "upd AS (UPDATE devices d SET device_type = $3, user_agent = $4, protocol = $5, "
        "        last_seen = now(), last_command = $6 FROM cur WHERE d.id = cur.id AND "
        "        (cur.last_seen < now() - interval '60 seconds' OR "
        "         cur.device_type IS DISTINCT FROM $3 OR cur.user_agent IS DISTINCT FROM $4 OR "
        "         cur.protocol IS DISTINCT FROM $5) RETURNING d.id), "
        "ins AS (INSERT INTO devices (account_id, device_id, device_type, user_agent, protocol, "
        "                             last_command) "
        "        SELECT $1::bigint, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM cur) "
        "        ON CONFLICT (account_id, device_id) DO UPDATE SET last_seen = now() "
        "        RETURNING id, " CTL_COLS ") "
        "SELECT id, " CTL_COLS ", false FROM cur UNION ALL SELECT id, " CTL_COLS ", true FROM ins",
        6, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) < 1) {
        PQclear(res);
        *err = "the device record was not created";
        return -1;
    }
    req->device_row = apr_pstrdup(req->pool, PQgetvalue(res, 0, 0));
    read_ctl(res, 1, &req->device);
    req->device.is_new = PQgetvalue(res, 0, 5)[0] == 't';
    PQclear(res);
    return 0;
}

int zx_device_reload(const zx_server *srv, zx_request *req, const char **err)
{
    zx_db *db = zx_request_db(srv, req, err);
    if (!db)
        return -1;
    const char *params[1] = {req->device_row};
    PGresult *res = zx_db_exec(db, "SELECT " CTL_COLS " FROM devices WHERE id = $1::bigint",
                               1, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) < 1) {      /* doRemoveDevice */
        PQclear(res);
        return 1;
    }
    read_ctl(res, 0, &req->device);
    PQclear(res);
    return 0;
}
