/* zxmobile - pipeline stage 5: the device registry (zxsync/device.h). */
#include <zxsync/device.h>

#include <apr_strings.h>

int zx_device_register(const zx_server *srv, zx_request *req, const char **err)
{
    zx_db *db = zx_request_db(srv, req, err);
    if (!db)
        return -1;
    const char *params[5] = {req->account.id, req->device_id, req->device_type, req->user_agent,
                             req->proto_str};
    /* The existing record (cur); an update only when something is worth writing (upd); an
     * insert only when there is none (ins; ON CONFLICT covers two first requests racing). */
    PGresult *res = zx_db_exec(db,
        "WITH cur AS (SELECT id, device_type, user_agent, protocol, last_seen FROM devices "
        "             WHERE account_id = $1::bigint AND device_id = $2), "
        "upd AS (UPDATE devices d SET device_type = $3, user_agent = $4, protocol = $5, "
        "        last_seen = now() FROM cur WHERE d.id = cur.id AND "
        "        (cur.last_seen < now() - interval '60 seconds' OR "
        "         cur.device_type IS DISTINCT FROM $3 OR cur.user_agent IS DISTINCT FROM $4 OR "
        "         cur.protocol IS DISTINCT FROM $5) RETURNING d.id), "
        "ins AS (INSERT INTO devices (account_id, device_id, device_type, user_agent, protocol) "
        "        SELECT $1::bigint, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM cur) "
        "        ON CONFLICT (account_id, device_id) DO UPDATE SET last_seen = now() RETURNING id) "
        "SELECT id FROM cur UNION ALL SELECT id FROM ins", 5, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) < 1) {
        PQclear(res);
        *err = "the device record was not created";
        return -1;
    }
    req->device_row = apr_pstrdup(req->pool, PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}
