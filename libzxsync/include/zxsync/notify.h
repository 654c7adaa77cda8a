/* zxmobile - change notifications (ARCHITECTURE.md sections 3 and 4).
 *
 * Every committed change that a waiting device must notice - a mailbox change, or an admin
 * decision about a device (suspend, wipe, policy, ABQ status) - NOTIFYs the PostgreSQL
 * channel ZX_NOTIFY_CHANNEL with the account's id as payload.  NOTIFY is transactional: it is
 * delivered when (and only if) the surrounding transaction commits.
 */
#ifndef ZXSYNC_NOTIFY_H
#define ZXSYNC_NOTIFY_H

#include <zxsync/db.h>

#define ZX_NOTIFY_CHANNEL "zx_mailbox"
/* Changes that wake no waiter but outdate what a process keeps (the answer cache,
 * zxsync/answer.h): sent by the triggers of sql/014_answer_cache.sql, payload an account id,
 * or "" for "anything" (the directory, the configuration). */
#define ZX_CACHE_CHANNEL "zx_cache"

/* NOTIFY the waiters of one account (account_id: accounts.id, decimal).  Returns 0, or -1 and
 * *err. */
int zx_notify_account(zx_db *db, const char *account_id, const char **err);

/* ---- the receiving side: the waiters of one process (libzxsync/notify/hub.c) ---------------
 *
 * A hub is one per process and database: a listener thread on its own connection LISTENs on
 * ZX_NOTIFY_CHANNEL and wakes exactly the waiters of the notified account.  After a lost
 * connection it reconnects (with backoff) and wakes every waiter to re-check, since a
 * notification sent meanwhile is lost.  A waiter is an eventfd the waiting request polls,
 * together with its client socket and its timeout; it holds no database connection and no lock.
 *
 * Payloads: "<account>" (a change: re-check), and "<account>:<device>:<wait id>" sent by a
 * new waiting request (Ping, hanging Sync) of that device: every older waiter of the device,
 * on any node, ends at once.  Wait ids come from one database sequence, so they are monotonic
 * across nodes and never depend on clocks. */
typedef struct zx_notify_hub zx_notify_hub;
typedef struct zx_waiter zx_waiter;

/* Why a waiter was woken (a mask: several can be pending). */
enum {
    ZX_WAKE_CHANGE = 1,       /* its account changed: re-check */
    ZX_WAKE_RECHECK = 2,      /* the listener (re)connected: re-check, spread over a moment */
    ZX_WAKE_SUPERSEDED = 4,   /* a newer waiting request of the same device */
    ZX_WAKE_SHUTDOWN = 8,     /* the process stops (graceful restart): answer now */
    ZX_WAKE_SHED = 16         /* the process holds its maximum of waiters: this, the oldest,
                                 answers now and its client reconnects (zx_notify_hub_set_max) */
};

/* A hub on conninfo, allocated from p (the child pool); the thread starts with
 * zx_notify_hub_start and is stopped by zx_notify_hub_stop or p's cleanup. */
zx_notify_hub *zx_notify_hub_create(apr_pool_t *p, const char *conninfo);
int zx_notify_hub_start(zx_notify_hub *hub, const char **err);
/* Wake every waiter with ZX_WAKE_SHUTDOWN and refuse new ones (then stop the thread). */
void zx_notify_hub_stop(zx_notify_hub *hub);

/* At most max waiters in this process (0 = no limit): registering one more wakes the oldest
 * with ZX_WAKE_SHED.  A host whose worker threads are a fixed number (httpd: ThreadsPerChild)
 * keeps some free this way for the requests its connections bring, instead of queueing them
 * behind requests that wait for an hour. */
void zx_notify_hub_set_max(zx_notify_hub *hub, unsigned max);

/* Register a waiter of (account_id, device) with its wait id; NULL when the hub stopped or no
 * eventfd can be made (*err).  An older waiter of the same device ends (SUPERSEDED); if a newer
 * one exists already, the new waiter starts superseded. */
zx_waiter *zx_waiter_add(zx_notify_hub *hub, const char *account_id, const char *device,
                         long long wait_id, const char **err);
/* The fd to poll for POLLIN. */
int zx_waiter_fd(const zx_waiter *w);
/* The pending ZX_WAKE_* reasons (cleared). */
unsigned zx_waiter_take(zx_waiter *w);
/* Unregister and free. */
void zx_waiter_remove(zx_waiter *w);

/* Wake the waiters of an account as a notification would (used by the listener and tests). */
void zx_notify_hub_dispatch(zx_notify_hub *hub, const char *payload);
/* A ZX_CACHE_CHANNEL notification: told to the observer only. */
void zx_notify_hub_dispatch_cache(zx_notify_hub *hub, const char *payload);

/* Whoever keeps data that a change outdates (the answer cache) is told of every notification
 * of either channel - changed(baton, account id), or changed(baton, NULL) for "anything" - and
 * of the listener's connection: connected(baton, 1) once it listens (notifications sent before
 * were lost), connected(baton, 0) when it lost the connection or stops.  Set before
 * zx_notify_hub_start. */
typedef struct {
    void (*changed)(void *baton, const char *account_id);
    void (*connected)(void *baton, int up);
    void *baton;
} zx_notify_observer;
void zx_notify_hub_observe(zx_notify_hub *hub, const zx_notify_observer *o);

typedef struct {
    unsigned waiting;           /* waiters registered now */
    int connected;              /* the listener holds its connection */
    unsigned long notifications, woken, superseded, hangups, reconnects, shed;
} zx_notify_stats;
void zx_notify_hub_stats(zx_notify_hub *hub, zx_notify_stats *st);
/* A waiting request noticed its client hang up (counted in the stats). */
void zx_notify_hub_count_hangup(zx_notify_hub *hub);

/* Settings of waiting requests (ZxMobile_* of spec 7), cached per hub for a few seconds so a
 * Ping does not resolve them in the database each time.  Returns 1 and *s when fresh. */
typedef struct {
    int instant;                /* ZxMobile_UseInstantNotficiations */
    int latency;                /* ZxMobile_NotificationsLatency, seconds */
    int max_heartbeat;          /* ZxMobile_MaxPingHeartbeat, seconds */
    int min_heartbeat;          /* ZxMobile_MinPingHeartbeat, seconds */
} zx_push_settings;
int zx_notify_hub_settings_get(zx_notify_hub *hub, zx_push_settings *s);
void zx_notify_hub_settings_put(zx_notify_hub *hub, const zx_push_settings *s);

#endif
