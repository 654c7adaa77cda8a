/* zxmobile - the mobile anti-DoS filter (see zxsync/dos.h and spec section 5).
 *
 * Region layout: a header, then nslots slots of equal size.  A slot holds the 64-bit hash of
 * its key (0 = free), the time of its last accepted request, its jail end, and a ring of the
 * low 32 bits of millisecond timestamps: differences are taken modulo 2^32, which is exact for
 * any time window up to 24 days (the attribute allows one day), and a slot idle for longer than
 * the window is emptied before its ring is read.
 */
#include <zxsync/config.h>
#include <zxsync/dos.h>
#include <zxsync/log.h>
#include <zxsync/notification.h>
#include <zxsync/gate.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define DOS_MAGIC 0x5a58444fu   /* "ZXDO" */

typedef struct {
    uint32_t magic;
    uint32_t nslots;
    uint32_t ring;
    uint32_t slot_size;
    int64_t generation;        /* restart count applied, -1 = none seen yet */
} dos_header;

typedef struct {
    uint64_t hash;             /* 0 = free */
    int64_t last_ms;           /* last accepted request (or the jail's start) */
    int64_t jailed_until;      /* 0 = not jailed */
    uint32_t k;                /* a sample every k accepted requests */
    uint32_t since;            /* accepted requests since the newest sample */
    uint32_t head;             /* index of the newest sample */
    uint32_t count;            /* samples held */
    uint32_t ts[];             /* ring of ms timestamps, low 32 bits */
} dos_slot;

#define ALIGN8(n) (((n) + 7u) & ~(apr_size_t)7u)

static apr_size_t slot_size(unsigned ring)
{
    return ALIGN8(offsetof(dos_slot, ts) + (apr_size_t)ring * sizeof(uint32_t));
}

apr_size_t zx_dos_region_size(unsigned nslots, unsigned ring)
{
    return ALIGN8(sizeof(dos_header)) + (apr_size_t)nslots * slot_size(ring);
}

static dos_slot *slot_at(dos_header *h, uint32_t i)
{
    return (dos_slot *)((char *)h + ALIGN8(sizeof(dos_header)) + (apr_size_t)i * h->slot_size);
}

int zx_dos_region_init(void *mem, apr_size_t size, unsigned nslots, unsigned ring)
{
    if (!mem || nslots == 0 || ring < 2 || size < zx_dos_region_size(nslots, ring))
        return -1;
    memset(mem, 0, zx_dos_region_size(nslots, ring));
    dos_header *h = mem;
    h->magic = DOS_MAGIC;
    h->nslots = nslots;
    h->ring = ring;
    h->slot_size = (uint32_t)slot_size(ring);
    h->generation = -1;
    return 0;
}

void zx_dos_region_reset(void *mem)
{
    dos_header *h = mem;
    for (uint32_t i = 0; i < h->nslots; i++)
        memset(slot_at(h, i), 0, h->slot_size);
}

int zx_dos_region_sync(void *mem, long long gen)
{
    dos_header *h = mem;
    if (h->generation < 0) {
        h->generation = gen;
        return 0;
    }
    if (gen <= h->generation)
        return 0;
    zx_dos_region_reset(mem);
    h->generation = gen;
    return 1;
}

void zx_dos_region_stats(void *mem, long long now_ms, unsigned *used, unsigned *jailed)
{
    dos_header *h = mem;
    unsigned u = 0, j = 0;
    for (uint32_t i = 0; i < h->nslots; i++) {
        dos_slot *s = slot_at(h, i);
        if (s->hash)
            u++;
        if (s->hash && s->jailed_until > now_ms)
            j++;
    }
    if (used)
        *used = u;
    if (jailed)
        *jailed = j;
}

/* FNV-1a, 64 bits; 0 is reserved for a free slot. */
static uint64_t key_hash(const char *key)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *c = (const unsigned char *)key; *c; c++) {
        h ^= *c;
        h *= 0x100000001b3ull;
    }
    return h ? h : 1;
}

static void slot_clear_ring(dos_slot *s, uint32_t k)
{
    s->k = k;
    s->since = 0;
    s->head = 0;
    s->count = 0;
}

/* Holds no information: not jailed, and nothing accepted within the window. */
static int slot_idle(const dos_slot *s, long long now_ms, long long window_ms)
{
    return s->hash == 0 || (s->jailed_until <= now_ms && now_ms - s->last_ms > window_ms);
}

zx_dos_verdict zx_dos_hit(void *mem, const char *key, long long now_ms,
                          const zx_dos_limits *lim, long long *remaining_ms)
{
    dos_header *h = mem;
    if (remaining_ms)
        *remaining_ms = 0;
    if (!h || h->magic != DOS_MAGIC || !lim || lim->max_requests <= 0 || lim->window_ms <= 0)
        return ZX_DOS_PASS;
    long long n = lim->max_requests;
    uint32_t ring = h->ring;
    /* sampling step: with k = 1 the ring holds the last n requests (n <= ring) */
    uint32_t k = n <= (long long)ring ? 1u
                                      : (uint32_t)((n - 1 + (long long)ring - 2) / ((long long)ring - 1));
    uint64_t hash = key_hash(key);
    uint32_t start = (uint32_t)(hash % h->nslots);
    uint32_t probe = h->nslots < ZX_DOS_PROBE ? h->nslots : ZX_DOS_PROBE;

    dos_slot *s = NULL, *free_slot = NULL, *idle = NULL, *oldest = NULL;
    for (uint32_t i = 0; i < probe; i++) {
        dos_slot *c = slot_at(h, (start + i) % h->nslots);
        if (c->hash == hash) {
            s = c;
            break;
        }
        if (c->hash == 0) {
            if (!free_slot)
                free_slot = c;
        }
        else if (slot_idle(c, now_ms, lim->window_ms)) {
            if (!idle)
                idle = c;
        }
        else if (c->jailed_until <= now_ms && (!oldest || c->last_ms < oldest->last_ms)) {
            oldest = c;
        }
    }
    if (!s) {
        s = free_slot ? free_slot : idle ? idle : oldest;
        if (!s)
            return ZX_DOS_UNTRACKED;   /* every probed slot holds a jailed device */
        s->hash = hash;
        s->jailed_until = 0;
        s->last_ms = now_ms;
        slot_clear_ring(s, k);
    }

    if (s->jailed_until > now_ms) {
        if (remaining_ms)
            *remaining_ms = s->jailed_until - now_ms;
        return ZX_DOS_JAILED;
    }
    if (s->jailed_until) {             /* the jail is over: counting starts again */
        s->jailed_until = 0;
        slot_clear_ring(s, k);
    }
    if (s->k != k || now_ms - s->last_ms > lim->window_ms)
        slot_clear_ring(s, k);

    /* The sample j (0 = newest) is the (since + 1 + j*k)-th most recent accepted request.
     * Jail when the n-th most recent one (or, sampling, the nearest older sample) is within
     * the window: n requests were accepted within it already. */
    uint32_t c = s->since;
    uint32_t j = (uint32_t)((n - 1 - (long long)c + (long long)k - 1) / (long long)k);
    if (s->count > j) {
        uint32_t idx = (s->head + ring - j) % ring;
        uint32_t age = (uint32_t)((uint32_t)now_ms - s->ts[idx]);
        if ((long long)age <= lim->window_ms) {
            long long jail = lim->jail_ms > 0 ? lim->jail_ms : 0;
            s->jailed_until = now_ms + jail;
            s->last_ms = now_ms;
            slot_clear_ring(s, k);
            if (remaining_ms)
                *remaining_ms = jail;
            return ZX_DOS_NEW_JAIL;
        }
    }

    s->last_ms = now_ms;
    if (++s->since >= k) {
        s->head = s->count ? (s->head + 1) % ring : 0;
        s->ts[s->head] = (uint32_t)now_ms;
        if (s->count < ring)
            s->count++;
        s->since = 0;
    }
    return ZX_DOS_PASS;
}

/* ---- the per-process view used by the pipeline ---------------------------------------------- */

struct zx_dos {
    void *region;
    apr_global_mutex_t *lock;
    apr_thread_mutex_t *mu;        /* guards the cached settings below */
    apr_time_t checked;
    int loaded;
    int running;
    zx_dos_limits limits;
    long long restarts;
    long long applied;             /* restart count this process synced the region with */
};

zx_dos *zx_dos_create(apr_pool_t *p, void *region, apr_global_mutex_t *lock)
{
    if (!region || ((dos_header *)region)->magic != DOS_MAGIC)
        return NULL;
    zx_dos *d = apr_pcalloc(p, sizeof *d);
    d->region = region;
    d->lock = lock;
    d->applied = -1;
    if (apr_thread_mutex_create(&d->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return NULL;
    return d;
}

static long long int_or_default(const char *value, const char *attr)
{
    if (!value) {
        const zx_attr_def *a = zx_attr_find(attr);
        value = a && a->def ? a->def : "0";
    }
    return atoll(value);
}

/* The settings in two queries: whether the service runs (module, anti-dos, the enabling
 * attribute), then the three limits and the restart count. */
static int read_settings(apr_pool_t *p, zx_db *db, int *running, zx_dos_limits *lim,
                         long long *restarts, const char **err)
{
    if (zx_service_running(p, db, "anti-dos", running, err) < 0)
        return -1;
    const char *params[] = {"mobileantidosservicemaxrequests", "mobileantidosservicetimewindow",
                            "mobileantidosservicejailduration", "anti-dos"};
    PGresult *res = zx_db_exec(
        db,
        "SELECT (SELECT value FROM config_values WHERE level = 'global' AND target = '' "
        "           AND name = $1), "
        "       (SELECT value FROM config_values WHERE level = 'global' AND target = '' "
        "           AND name = $2), "
        "       (SELECT value FROM config_values WHERE level = 'global' AND target = '' "
        "           AND name = $3), "
        "       (SELECT restart_count FROM services WHERE name = $4)",
        4, params, err);
    if (!res)
        return -1;
    const char *v[4];
    for (int i = 0; i < 4; i++)
        v[i] = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
    lim->max_requests = int_or_default(v[0], "mobileAntiDosServiceMaxRequests");
    lim->window_ms = int_or_default(v[1], "mobileAntiDosServiceTimeWindow");
    lim->jail_ms = int_or_default(v[2], "mobileAntiDosServiceJailDuration");
    *restarts = v[3] ? atoll(v[3]) : 0;
    PQclear(res);
    return 0;
}

static const char *request_key(zx_request *req)
{
    const char *dev = req->device_id && *req->device_id ? req->device_id : "";
    return apr_pstrcat(req->pool, req->account.name, "/", dev, NULL);
}

int zx_dos_check(const zx_server *srv, zx_request *req, zx_dos_outcome *out, const char **err)
{
    zx_dos *d = srv->dos;
    memset(out, 0, sizeof *out);
    out->verdict = ZX_DOS_PASS;
    if (!d || !req->authenticated || !req->account.name)
        return 0;

    apr_time_t now = apr_time_now();
    apr_thread_mutex_lock(d->mu);
    int fresh = d->loaded && now - d->checked < apr_time_from_sec(ZX_DOS_RECHECK);
    int loaded = d->loaded;
    apr_thread_mutex_unlock(d->mu);
    if (!fresh) {
        int running = 0;
        zx_dos_limits lim;
        long long restarts = 0;
        const char *why = NULL;
        zx_db *db = zx_request_db(srv, req, &why);
        if (db && read_settings(req->pool, db, &running, &lim, &restarts, &why) == 0) {
            apr_thread_mutex_lock(d->mu);
            d->running = running;
            d->limits = lim;
            d->restarts = restarts;
            d->loaded = 1;
            d->checked = now;
            apr_thread_mutex_unlock(d->mu);
            loaded = 1;
        }
        else {
            /* keep what we had; try again in ZX_DOS_RECHECK seconds */
            apr_thread_mutex_lock(d->mu);
            d->checked = now;
            apr_thread_mutex_unlock(d->mu);
            if (!loaded) {
                *err = why ? why : "cannot read the anti-DoS settings";
                return -1;
            }
            zx_log(req->log_ctx, ZX_LOG_WARNING,
                   ZXLOGNO(01500) "anti-DoS filter: cannot refresh its settings, keeping the "
                   "previous ones: %s", why ? why : "internal error");
        }
    }

    apr_thread_mutex_lock(d->mu);
    int running = d->running;
    zx_dos_limits lim = d->limits;
    long long restarts = d->restarts;
    int synced = d->applied == restarts;
    apr_thread_mutex_unlock(d->mu);
    if (!running && synced)
        return 0;                      /* nothing to count, nothing to reset: no lock */

    const char *key = request_key(req);
    long long now_ms = (long long)apr_time_as_msec(now);
    int reset = 0;
    if (d->lock && apr_global_mutex_lock(d->lock) != APR_SUCCESS) {
        *err = "cannot take the anti-DoS lock";
        return -1;
    }
    reset = zx_dos_region_sync(d->region, restarts);
    if (running)
        out->verdict = zx_dos_hit(d->region, key, now_ms, &lim, &out->remaining_ms);
    if (d->lock)
        apr_global_mutex_unlock(d->lock);
    apr_thread_mutex_lock(d->mu);
    d->applied = restarts;
    apr_thread_mutex_unlock(d->mu);
    out->limits = lim;
    if (reset)
        zx_log(req->log_ctx, ZX_LOG_NOTICE,
               ZXLOGNO(01501) "anti-DoS filter: every jail freed and every counter reset "
               "(zxsuite mobile doRestartService anti-dos, restart %" APR_INT64_T_FMT ")",
               (apr_int64_t)restarts);
    if (out->verdict == ZX_DOS_UNTRACKED)
        zx_log(req->log_ctx, ZX_LOG_DEBUG,
               ZXLOGNO(01502) "anti-DoS filter: no free slot for %s, request not counted", key);
    return 0;
}

/* ---- reporting a jailing ----------------------------------------------------------------------- */

/* Printable ASCII only, at most max bytes: values from the request go into mail headers. */
static const char *clean(apr_pool_t *p, const char *s, apr_size_t max)
{
    if (!s || !*s)
        return "-";
    apr_size_t n = strlen(s);
    if (n > max)
        n = max;
    char *o = apr_pstrmemdup(p, s, n);
    for (apr_size_t i = 0; i < n; i++)
        if ((unsigned char)o[i] < 0x20 || (unsigned char)o[i] > 0x7e)
            o[i] = '?';
    return o;
}

void zx_dos_report_jail(const zx_server *srv, zx_request *req, const zx_dos_outcome *o)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    const char *account = clean(p, req->account.name, 320);
    const char *device = clean(p, req->device_id, 64);
    const char *type = clean(p, req->device_type, 64);
    const char *agent = clean(p, req->user_agent, 200);
    const char *server = clean(p, srv->server_name ? srv->server_name : zx_config_server_name(p), 253);
    long long secs = (o->remaining_ms + 999) / 1000;
    char until[APR_RFC822_DATE_LEN];
    apr_rfc822_date(until, apr_time_now() + apr_time_from_msec(o->remaining_ms));

    zx_notification n;
    memset(&n, 0, sizeof n);
    n.module = "ZxMobile";
    n.source = "anti-dos";
    n.level = "warning";
    n.server = server;
    n.account = account;
    n.device_id = device;
    n.subject = apr_psprintf(p, "Mobile anti-DoS: device %s of %s jailed on %s", device, account,
                             server);
    n.body = apr_psprintf(
        p,
        "The mobile anti-DoS filter of server %s jailed a device.\n\n"
        "Account:     %s\n"
        "Device id:   %s\n"
        "Device type: %s\n"
        "User agent:  %s\n"
        "Client:      %s\n\n"
        "It sent more than %" APR_INT64_T_FMT " requests within %" APR_INT64_T_FMT " ms "
        "(mobileAntiDosServiceMaxRequests, mobileAntiDosServiceTimeWindow).\n"
        "Its requests are refused for %" APR_INT64_T_FMT " s, until %s "
        "(mobileAntiDosServiceJailDuration).\n\n"
        "zxsuite mobile doRestartService anti-dos frees every jail at once.\n",
        server, account, device, type, agent, clean(p, req->client_ip, 64),
        (apr_int64_t)o->limits.max_requests, (apr_int64_t)o->limits.window_ms,
        (apr_int64_t)secs, until);

    zx_db *db = zx_request_db(srv, req, &err);
    if (!db) {
        zx_log(req->log_ctx, ZX_LOG_WARNING,
               ZXLOGNO(01503) "anti-DoS filter: cannot record the jailing of %s/%s: %s", account,
               device, err ? err : "no database");
        return;
    }
    const char *mail_status = NULL;
    if (zx_admin_notify(p, db, srv->settings.transport, &n, &mail_status, &err) < 0)
        zx_log(req->log_ctx, ZX_LOG_WARNING,
               ZXLOGNO(01504) "anti-DoS filter: cannot record the jailing of %s/%s: %s", account,
               device, err ? err : "internal error");
    else if (mail_status && strcmp(mail_status, "sent") != 0)
        zx_log(req->log_ctx, ZX_LOG_WARNING,
               ZXLOGNO(01505) "anti-DoS filter: the administrators were not emailed about the "
               "jailing of %s/%s: %s", account, device, mail_status);
}
