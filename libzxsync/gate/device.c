/* zxmobile - pipeline stage 5: the device registry (zxsync/device.h). */
#include <zxsync/device.h>

#include "abq.h"

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
    const char *params[8] = {req->account.id, req->device_id, req->device_type, req->user_agent,
                             req->proto_str, req->cmd_name, req->account.cos_id,
                             req->account.domain_id};
    /* The existing record (cur); an update only when something is worth writing (upd); an
     * insert only when there is none (ins; ON CONFLICT covers two first requests racing).
     * last_command rides along with the once-a-minute last_seen update.  The same statement
     * reads what the ABQ gate needs (ZX_ABQ_CTX_COLS, abq.h) and the md5 of the cached Sync
     * request (cmd_sync.c skips rewriting the same request): one round trip for all three. */
    PGresult *res = zx_db_exec(db,
        "WITH cur AS (SELECT id, device_type, user_agent, protocol, last_seen, abq_status, "
        "                    md5(sync_cache) AS cache_md5, "
        "                    " CTL_COLS
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
        "        RETURNING id, abq_status, " CTL_COLS ") "
        "SELECT x.id, x.sync_suspended, x.wipe_status, x.wipe_account_only, x.policy_key, "
        "       x.is_new, " ZX_ABQ_CTX_COLS("$2", "$1::text", "$1::bigint", "$7",
                                            "x.abq_status", "$8::bigint") ", s.id, "
        "       x.cache_md5 "
        "  FROM (SELECT id, " CTL_COLS ", false AS is_new, abq_status, cache_md5 FROM cur "
        "        UNION ALL SELECT id, " CTL_COLS ", true, abq_status, NULL FROM ins) x "
        "  LEFT JOIN abq_state s ON s.id = 1",
        8, params, err);
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
    zx_abq_ctx_keep(req, res, 6);      /* the ABQ gate's context (gate/abq.c) */
    int c = 6 + ZX_ABQ_CTX_NCOLS + 1;
    req->device.sync_cache_md5 = PQgetisnull(res, 0, c) ? NULL
                                                        : apr_pstrdup(req->pool, PQgetvalue(res, 0, c));
    PQclear(res);
    return 0;
}

int zx_device_reload(const zx_server *srv, zx_request *req, const char **err)
{
    zx_db *db = zx_request_db(srv, req, err);
    if (!db)
        return -1;
    req->mdm_off = 0;       /* the gates run again: read the MDM switch and ABQ afresh */
    req->abq_ctx = NULL;
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
