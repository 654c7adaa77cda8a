/* zxmobile - waiting requests (eas/wait.h). */
#include "wait.h"

#include <zxsync/config.h>
#include <zxsync/log.h>

#include <apr_strings.h>
#include <apr_time.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#define RETRY_MS 1500          /* a re-check that could not reach the database */
#define SPREAD_MS 2000         /* re-checks after a listener reconnect spread over this */

void zx_push_settings_load(const zx_server *srv, zx_request *req, zx_push_settings *s)
{
    zx_notify_hub *hub = srv->notify;
    if (hub && zx_notify_hub_settings_get(hub, s))
        return;
    s->instant = 1;
    s->latency = 10;
    s->max_heartbeat = 3540;
    s->min_heartbeat = 60;
    const char *err = NULL;
    zx_db *db = zx_request_db(srv, req, &err);
    if (db) {
        zx_config_scope scope = {NULL, NULL, NULL, srv->server_name};
        long long v;
        int b;
        if (zx_config_resolve_bool(req->pool, db, &scope, "ZxMobile_UseInstantNotficiations", &b,
                                   &err) == 0)
            s->instant = b;
        if (zx_config_resolve_int(req->pool, db, &scope, "ZxMobile_NotificationsLatency", &v,
                                  &err) == 0)
            s->latency = (int)v;
        if (zx_config_resolve_int(req->pool, db, &scope, "ZxMobile_MaxPingHeartbeat", &v,
                                  &err) == 0)
            s->max_heartbeat = (int)v;
        if (zx_config_resolve_int(req->pool, db, &scope, "ZxMobile_MinPingHeartbeat", &v,
                                  &err) == 0)
            s->min_heartbeat = (int)v;
    }
    if (s->min_heartbeat > s->max_heartbeat)
        s->min_heartbeat = s->max_heartbeat;
    if (hub && db)
        zx_notify_hub_settings_put(hub, s);
}

int zx_wait_claim(const zx_server *srv, zx_request *req, long long *wait_id, const char **err)
{
    zx_db *db = zx_request_db(srv, req, err);
    if (!db)
        return -1;
    const char *params[2] = {req->device_row, req->account.id};
    PGresult *res = zx_db_exec(db,
        "WITH w AS (INSERT INTO device_ping (device, wait_id) VALUES ($1::bigint, nextval('wait_ids')) "
        "           ON CONFLICT (device) DO UPDATE SET wait_id = EXCLUDED.wait_id "
        "           RETURNING wait_id) "
        "SELECT wait_id, pg_notify('zx_mailbox', $2 || ':' || $1 || ':' || wait_id) FROM w",
        2, params, err);
    if (!res)
        return -1;
    *wait_id = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    return 0;
}

static void release_db(zx_request *req)
{
    if (req->db) {
        zx_dbpool_release(req->pool, req->db);
        req->db = NULL;
    }
}

static long long ms_until(apr_time_t t, apr_time_t now)
{
    return t <= now ? 0 : (long long)((t - now + 999) / 1000);
}

int zx_client_gone(const zx_request *req)
{
    if (req->client_fd < 0)
        return 0;
    struct pollfd pfd = {req->client_fd, POLLRDHUP, 0};
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

zx_waited zx_eas_wait(const zx_server *srv, zx_request *req, zx_response *resp,
                      const char *cmd, long long wait_id, int seconds,
                      const zx_push_settings *ps, zx_wait_recheck *device_recheck,
                      zx_wait_check *check, void *baton, const char **err)
{
    zx_notify_hub *hub = srv->notify;
    zx_waiter *w = NULL;
    if (hub && srv->dbpool) {
        w = zx_waiter_add(hub, req->account.id, req->device_row, wait_id, err);
        if (!w) {
            zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(01010) "%s cannot wait: %s", cmd, *err);
            return ZX_WAITED_SHUTDOWN;
        }
    }
    /* registered first, checked second: a change committed in between wakes the waiter */
    int rc = check(baton, req, err);
    if (rc != 0 || !w) {
        zx_waiter_remove(w);
        return rc > 0 ? ZX_WAITED_READY : rc < 0 ? ZX_WAITED_ERROR : ZX_WAITED_TIMEOUT;
    }
    apr_time_t deadline = apr_time_now() + apr_time_from_sec(seconds);
    apr_time_t recheck = 0;    /* 0: none pending */
    zx_waited out;
    for (;;) {
        release_db(req);
        apr_time_t now = apr_time_now();
        if (now >= deadline) {
            out = ZX_WAITED_TIMEOUT;
            break;
        }
        if (recheck && now >= recheck) {
            recheck = 0;
            const char *cerr = NULL;
            int gated = device_recheck ? device_recheck(srv, req, resp, &cerr) : 0;
            if (gated < 0) {
                zx_log(req->log_ctx, ZX_LOG_DEBUG, ZXLOGNO(01011) "%s re-check postponed: %s",
                       cmd, cerr ? cerr : "no database");
                recheck = apr_time_now() + apr_time_from_msec(RETRY_MS);
                continue;
            }
            if (gated) {
                out = ZX_WAITED_GATED;
                break;
            }
            rc = check(baton, req, &cerr);
            if (rc > 0) {
                out = ZX_WAITED_READY;
                break;
            }
            if (rc < 0) {
                zx_log(req->log_ctx, ZX_LOG_DEBUG, ZXLOGNO(01012) "%s re-check failed: %s",
                       cmd, cerr ? cerr : "internal error");
                recheck = apr_time_now() + apr_time_from_msec(RETRY_MS);
            }
            continue;
        }
        apr_time_t until = recheck && recheck < deadline ? recheck : deadline;
        long long ms = ms_until(until, now);
        struct pollfd pfd[2] = {{zx_waiter_fd(w), POLLIN, 0}, {req->client_fd, POLLRDHUP, 0}};
        int n = poll(pfd, req->client_fd >= 0 ? 2 : 1, ms > 3600000 ? 3600000 : (int)ms);
        if (n < 0 && errno != EINTR) {
            out = ZX_WAITED_TIMEOUT;
            break;
        }
        if (n <= 0)
            continue;
        if (req->client_fd >= 0 && (pfd[1].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
            zx_notify_hub_count_hangup(hub);
            out = ZX_WAITED_HANGUP;
            break;
        }
        if (!(pfd[0].revents & POLLIN))
            continue;
        unsigned why = zx_waiter_take(w);
        if (why & ZX_WAKE_SHUTDOWN) {
            out = ZX_WAITED_SHUTDOWN;
            break;
        }
        if (why & ZX_WAKE_SUPERSEDED) {
            out = ZX_WAITED_SUPERSEDED;
            break;
        }
        if (why & ZX_WAKE_SHED) {
            /* the next request of this connection would queue behind waiting ones: the
             * client comes back on a new connection, which a process with room accepts */
            apr_table_setn(resp->headers, "Connection", "close");
            out = ZX_WAITED_SHED;
            break;
        }
        now = apr_time_now();
        apr_time_t at = now;
        if (why & ZX_WAKE_CHANGE) {
            /* instant notifications: re-check now; else at most every latency seconds */
            if (!ps->instant)
                at = now + apr_time_from_sec(ps->latency);
        }
        else if (why & ZX_WAKE_RECHECK)
            at = now + apr_time_from_msec((apr_int64_t)(wait_id % SPREAD_MS));
        else
            continue;
        if (!recheck || at < recheck)
            recheck = at;
    }
    zx_waiter_remove(w);
    return out;
}
