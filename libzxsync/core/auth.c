/* zxmobile - authentication (see zxsync/auth.h). */
#include <zxsync/auth.h>
#include <zxsync/config.h>
#include <zxsync/directory.h>
#include <zxsync/log.h>
#include <zxsync/password.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

const char *const zx_auth_services[] = {"eas", "webui", "webadminui", "mobileapp", "zmwebui",
                                        "dav", "smtp", "imap", "pop3", NULL};

static const char b62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* n characters from [A-Za-z0-9], uniformly (rejection sampling on random bytes). */
static int random_b62(char *out, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char buf[64];
        if (RAND_bytes(buf, sizeof buf) != 1)
            return -1;
        for (size_t k = 0; k < sizeof buf && i < n; k++)
            if (buf[k] < 248)                       /* 248 = 4 * 62 */
                out[i++] = b62[buf[k] % 62];
    }
    out[n] = '\0';
    return 0;
}

/* ---- passwords ------------------------------------------------------------------------- */

int zx_auth_set_password(apr_pool_t *p, zx_db *db, const char *account, const char *password,
                         int is_hash, const char **err)
{
    const char *local, *domain, *hash = NULL;
    if (!zx_account_name_normalize(p, account, &local, &domain)) {
        *err = apr_psprintf(p, "no such account: %s", account);
        return -1;
    }
    if (!password || !*password) {
        *err = "empty password";
        return -1;
    }
    if (is_hash) {
        if (strncasecmp(password, "{CRYPT}", 7) == 0)
            password += 7;
        if (!zx_password_is_hash(password)) {
            *err = "not a crypt(3) hash this system can verify ($y$, $gy$, $7$, $2b$, $6$, $5$, $1$ ...)";
            return -1;
        }
        hash = password;
    }
    else if (zx_password_hash(p, password, NULL, &hash, err) < 0) {
        return -1;
    }
    const char *params[] = {hash, local, domain};
    long n = zx_db_affected(db,
                            "UPDATE accounts a SET password_hash = $1, modified_at = now() "
                            "  FROM domains d WHERE d.id = a.domain_id AND a.local_part = $2 "
                            "   AND d.name = $3",
                            3, params, err);
    if (n < 0)
        return -1;
    if (n == 0) {
        *err = apr_psprintf(p, "no such account: %s", account);
        return -1;
    }
    return 0;
}

/* ---- services -------------------------------------------------------------------------- */

const char *zx_auth_services_parse(apr_pool_t *p, const char *list, const char **err)
{
    char *copy = apr_pstrdup(p, list ? list : ""), *state = NULL;
    const char *out = NULL;
    unsigned seen = 0;
    for (char *tok = apr_strtok(copy, ", ", &state); tok; tok = apr_strtok(NULL, ", ", &state)) {
        int k;
        for (k = 0; zx_auth_services[k]; k++)
            if (strcasecmp(tok, zx_auth_services[k]) == 0)
                break;
        if (!zx_auth_services[k]) {
            *err = apr_psprintf(p, "unknown service \"%s\" (known: EAS, WebUI, WebAdminUI, "
                                   "MobileApp, ZmWebUI, Dav, Smtp, Imap, Pop3)", tok);
            return NULL;
        }
        if (seen & (1u << k))
            continue;
        seen |= 1u << k;
        out = out ? apr_pstrcat(p, out, ",", zx_auth_services[k], NULL) : zx_auth_services[k];
    }
    if (!out) {
        *err = "no service given";
        return NULL;
    }
    return apr_pstrcat(p, "{", out, "}", NULL);
}

/* ---- credentials ----------------------------------------------------------------------- */

#define CRED_COLUMNS \
    "c.id, a.local_part || '@' || d.name, c.label, array_to_string(c.services, ','), c.hash, " \
    "to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), " \
    "(extract(epoch FROM c.created_at) * 1000)::bigint, c.enabled, c.generated "
#define CRED_FROM \
    " FROM credentials c JOIN accounts a ON a.id = c.account_id JOIN domains d ON d.id = a.domain_id "

static const char *hash_algorithm(const char *h)
{
    static const struct { const char *prefix, *name; } algs[] = {
        {"$y$", "yescrypt"}, {"$gy$", "gost-yescrypt"}, {"$7$", "scrypt"},
        {"$2b$", "bcrypt"}, {"$2y$", "bcrypt"}, {"$2a$", "bcrypt"}, {"$6$", "sha512crypt"},
        {"$5$", "sha256crypt"}, {"$1$", "md5crypt"},
    };
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (strncmp(h, algs[i].prefix, strlen(algs[i].prefix)) == 0)
            return algs[i].name;
    return "crypt";
}

static zx_credential *row_cred(apr_pool_t *p, PGresult *res, int i)
{
    zx_credential *c = apr_pcalloc(p, sizeof *c);
    c->id = apr_pstrdup(p, PQgetvalue(res, i, 0));
    c->account = apr_pstrdup(p, PQgetvalue(res, i, 1));
    c->label = apr_pstrdup(p, PQgetvalue(res, i, 2));
    c->services = apr_pstrdup(p, PQgetvalue(res, i, 3));
    c->algorithm = hash_algorithm(PQgetvalue(res, i, 4));
    c->created = apr_pstrdup(p, PQgetvalue(res, i, 5));
    c->created_ms = atoll(PQgetvalue(res, i, 6));
    c->enabled = strcmp(PQgetvalue(res, i, 7), "t") == 0;
    c->generated = strcmp(PQgetvalue(res, i, 8), "t") == 0;
    return c;
}

/* id of the account, or NULL with *err "no such account" */
static const char *account_id(apr_pool_t *p, zx_db *db, const char *account, const char **err)
{
    const char *local, *domain;
    if (!zx_account_name_normalize(p, account ? account : "", &local, &domain)) {
        *err = apr_psprintf(p, "no such account: %s", account ? account : "");
        return NULL;
    }
    const char *params[] = {local, domain};
    PGresult *res = zx_db_exec(db, "SELECT a.id FROM accounts a JOIN domains d ON d.id = a.domain_id "
                                   "WHERE a.local_part = $1 AND d.name = $2", 2, params, err);
    if (!res)
        return NULL;
    const char *id = PQntuples(res) ? apr_pstrdup(p, PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    if (!id)
        *err = apr_psprintf(p, "no such account: %s", account);
    return id;
}

static int fetch_cred(apr_pool_t *p, zx_db *db, const char *id, zx_credential **out,
                      const char **err)
{
    const char *params[] = {id};
    PGresult *res = zx_db_exec(db, "SELECT " CRED_COLUMNS CRED_FROM "WHERE c.id = $1", 1, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 1)
        *out = row_cred(p, res, 0);
    PQclear(res);
    return 0;
}

int zx_cred_add(apr_pool_t *p, zx_db *db, const char *account, const char *password,
                const char *label, const char *services, zx_credential **out,
                const char **clear, const char **err)
{
    const char *svc = zx_auth_services_parse(p, services ? services : "eas", err);
    if (!svc)
        return -1;
    const char *aid = account_id(p, db, account, err);
    if (!aid)
        return -1;
    int generated = !password || !*password;
    if (generated) {
        char *pw = apr_palloc(p, 21);
        if (random_b62(pw, 20) < 0) {
            *err = "no randomness available";
            return -1;
        }
        password = pw;
    }
    const char *hash;
    if (zx_password_hash(p, password, NULL, &hash, err) < 0)
        return -1;
    for (int attempt = 0; attempt < 5; attempt++) {
        char id[6];
        if (random_b62(id, 5) < 0) {
            *err = "no randomness available";
            return -1;
        }
        const char *params[] = {id, aid, label ? label : "", svc, hash, generated ? "t" : "f"};
        if (zx_db_run(db, "INSERT INTO credentials (id, account_id, label, services, hash, generated) "
                          "VALUES ($1, $2, $3, $4::text[], $5, $6)", 6, params, err) == 0) {
            *clear = password;
            return fetch_cred(p, db, id, out, err);
        }
        if (strcmp(zx_db_sqlstate(db), "23505") != 0)   /* not an id collision */
            return -1;
    }
    return -1;
}

int zx_cred_list(apr_pool_t *p, zx_db *db, const char *account, apr_array_header_t **out,
                 const char **err)
{
    const char *aid = account_id(p, db, account, err);
    if (!aid)
        return -1;
    const char *params[] = {aid};
    PGresult *res = zx_db_exec(db, "SELECT " CRED_COLUMNS CRED_FROM
                                   "WHERE c.account_id = $1 ORDER BY c.created_at, c.id",
                               1, params, err);
    if (!res)
        return -1;
    *out = apr_array_make(p, PQntuples(res) + 1, sizeof(zx_credential *));
    for (int i = 0; i < PQntuples(res); i++)
        APR_ARRAY_PUSH(*out, zx_credential *) = row_cred(p, res, i);
    PQclear(res);
    return 0;
}

int zx_cred_update(apr_pool_t *p, zx_db *db, const char *account, const char *id,
                   const char *label, int enabled, const char *services, zx_credential **out,
                   const char **err)
{
    const char *svc = NULL;
    if (services && !(svc = zx_auth_services_parse(p, services, err)))
        return -1;
    const char *aid = account_id(p, db, account, err);
    if (!aid)
        return -1;
    const char *params[] = {id, aid, label, enabled < 0 ? NULL : (enabled ? "t" : "f"), svc};
    long n = zx_db_affected(db,
                            "UPDATE credentials SET label = COALESCE($3, label), "
                            "       enabled = COALESCE($4::boolean, enabled), "
                            "       services = COALESCE($5::text[], services) "
                            " WHERE id = $1 AND account_id = $2",
                            5, params, err);
    if (n < 0)
        return -1;
    if (n == 0) {
        *err = apr_psprintf(p, "account %s has no credential %s", account, id);
        return -1;
    }
    return out ? fetch_cred(p, db, id, out, err) : 0;
}

int zx_cred_delete(apr_pool_t *p, zx_db *db, const char *account, const char *id,
                   const char **err)
{
    const char *aid = account_id(p, db, account, err);
    if (!aid)
        return -1;
    const char *params[] = {id, aid};
    long n = zx_db_affected(db, "DELETE FROM credentials WHERE id = $1 AND account_id = $2",
                            2, params, err);
    if (n < 0)
        return -1;
    if (n == 0) {
        *err = apr_psprintf(p, "account %s has no credential %s", account, id);
        return -1;
    }
    return 0;
}

/* ---- the verification cache ------------------------------------------------------------ */

typedef struct {
    unsigned char mac[32];
    long long account_id;
    long long version;
    apr_time_t expires;
} cache_slot;

struct zx_auth_cache {
    apr_thread_mutex_t *mu;
    unsigned nslots;
    cache_slot *slots;
    unsigned char key[32];
    zx_auth_cache_stats stats;
};

zx_auth_cache *zx_auth_cache_create(apr_pool_t *p, unsigned slots)
{
    zx_auth_cache *c = apr_pcalloc(p, sizeof *c);
    c->nslots = slots ? slots : 4096;
    c->slots = apr_pcalloc(p, sizeof(cache_slot) * c->nslots);
    if (RAND_bytes(c->key, sizeof c->key) != 1 ||
        apr_thread_mutex_create(&c->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return NULL;
    return c;
}

void zx_auth_cache_stats_get(zx_auth_cache *c, zx_auth_cache_stats *st)
{
    apr_thread_mutex_lock(c->mu);
    *st = c->stats;
    apr_thread_mutex_unlock(c->mu);
}

static void cache_mac(const zx_auth_cache *c, const char *service, const char *login,
                      const char *password, unsigned char mac[32])
{
    size_t ls = strlen(service), ll = strlen(login), lp = strlen(password);
    size_t n = ls + ll + lp + 2;
    unsigned char stackbuf[512], *msg = n <= sizeof stackbuf ? stackbuf : malloc(n);
    unsigned int maclen = 32;
    if (!msg) {
        memset(mac, 0, 32);
        return;
    }
    memcpy(msg, service, ls);
    msg[ls] = 0;
    memcpy(msg + ls + 1, login, ll);
    msg[ls + 1 + ll] = 0;
    memcpy(msg + ls + ll + 2, password, lp);
    HMAC(EVP_sha256(), c->key, sizeof c->key, msg, n, mac, &maclen);
    OPENSSL_cleanse(msg, n);
    if (msg != stackbuf)
        free(msg);
}

static int cache_lookup(zx_auth_cache *c, const unsigned char mac[32], long long account_id,
                        long long version)
{
    uint32_t h;
    memcpy(&h, mac, sizeof h);
    int hit = 0;
    apr_time_t now = apr_time_now();
    apr_thread_mutex_lock(c->mu);
    cache_slot *s = &c->slots[h % c->nslots];
    if (s->expires > now && s->account_id == account_id && s->version == version &&
        CRYPTO_memcmp(s->mac, mac, 32) == 0)
        hit = 1;
    if (hit)
        c->stats.hits++;
    else
        c->stats.misses++;
    apr_thread_mutex_unlock(c->mu);
    return hit;
}

static void cache_store(zx_auth_cache *c, const unsigned char mac[32], long long account_id,
                        long long version, long long ttl_seconds)
{
    uint32_t h;
    memcpy(&h, mac, sizeof h);
    apr_thread_mutex_lock(c->mu);
    cache_slot *s = &c->slots[h % c->nslots];
    memcpy(s->mac, mac, 32);
    s->account_id = account_id;
    s->version = version;
    s->expires = apr_time_now() + apr_time_from_sec(ttl_seconds);
    c->stats.stores++;
    apr_thread_mutex_unlock(c->mu);
}

/* ---- checking ---------------------------------------------------------------------------- */

static const char *const result_names[] = {
    [ZX_AUTH_OK] = "ok", [ZX_AUTH_BAD_CREDENTIALS] = "bad credentials",
    [ZX_AUTH_THROTTLED] = "throttled after repeated failures", [ZX_AUTH_LOCKED] = "account locked",
    [ZX_AUTH_CLOSED] = "account closed", [ZX_AUTH_NOT_ENABLED] = "service not enabled",
    [ZX_AUTH_ERROR] = "error",
    [ZX_AUTH_ADDRESS_THROTTLED] = "client address throttled after repeated failures for unknown accounts",
    [ZX_AUTH_BUSY] = "every password-hash slot busy",
};

const char *zx_auth_result_str(zx_auth_result r)
{
    return (unsigned)r < sizeof result_names / sizeof result_names[0] ? result_names[r] : "?";
}

const char *zx_auth_login_name(apr_pool_t *p, const char *login, const char *default_domain)
{
    if (!login || !*login)
        return NULL;
    /* DOMAIN\user: DOMAIN must name the account's mail domain, in full ("example.org\joe",
     * which also says which domain a bare user is in) or as its first label, NetBIOS style
     * ("EXAMPLE\joe" for joe@example.org or joe@example.com), case-insensitively.  Any other
     * DOMAIN is refused, not ignored (README, "Authentication"). */
    const char *nt = NULL;
    apr_size_t ntlen = 0;
    const char *bs = strchr(login, '\\');
    if (bs) {
        nt = login;
        ntlen = (apr_size_t)(bs - login);
        login = bs + 1;
        if (ntlen == 0)
            return NULL;
    }
    if (!strchr(login, '@')) {
        if (nt && memchr(nt, '.', ntlen))
            default_domain = apr_pstrmemdup(p, nt, ntlen);
        if (!default_domain || !*default_domain)
            return NULL;
        login = apr_pstrcat(p, login, "@", default_domain, NULL);
    }
    const char *domain = NULL;
    const char *name = zx_account_name_normalize(p, login, NULL, &domain);
    if (name && nt) {
        const char *dot = strchr(domain, '.');
        apr_size_t first = dot ? (apr_size_t)(dot - domain) : strlen(domain);
        int full = strlen(domain) == ntlen && strncasecmp(domain, nt, ntlen) == 0;
        int label = first == ntlen && strncasecmp(domain, nt, ntlen) == 0;
        if (!full && !label)
            return NULL;
    }
    return name;
}

/* A fixed yescrypt hash of a random string: verifying against it when the account does not
 * exist makes unknown and known accounts cost the same time. */
static const char *dummy_hash(apr_pool_t *p)
{
    static const char *volatile h;
    if (!h) {
        char pw[21];
        const char *out, *e;
        random_b62(pw, 20);
        if (zx_password_hash(p, pw, NULL, &out, &e) == 0)
            h = strdup(out);   /* once per process, kept for its life */
    }
    return h;
}

static int service_known(const char *service)
{
    for (int k = 0; zx_auth_services[k]; k++)
        if (strcmp(service, zx_auth_services[k]) == 0)
            return 1;
    return 0;
}

/* Count a failure in the throttle table of kind (per (account, service), or per client
 * address); returns 1 when this failure starts a lockout. */
typedef enum { FAIL_ACCOUNT, FAIL_ADDRESS } fail_kind;

static int record_failure(apr_pool_t *p, zx_db *db, const zx_config_scope *scope,
                          fail_kind kind, const char *key, const char *service)
{
    long long maxf = kind == FAIL_ACCOUNT ? 10 : 30, window = 300, lockout = 300;
    const char *err;
    if (zx_config_resolve_int(p, db, scope, kind == FAIL_ACCOUNT ? "ZxMobile_AuthMaxFailures"
                                                                 : "ZxMobile_AuthAddressMaxFailures",
                              &maxf, &err) < 0 ||
        zx_config_resolve_int(p, db, scope, "ZxMobile_AuthFailureWindow", &window, &err) < 0 ||
        zx_config_resolve_int(p, db, scope, "ZxMobile_AuthLockoutSeconds", &lockout, &err) < 0) {
        zx_log(NULL, ZX_LOG_ERR, ZXLOGNO(00121) "cannot read the auth throttle settings: %s", err);
        return 0;
    }
    if (maxf <= 0)
        return 0;
    /* the table, its key columns, the key's values ($1, $5) and its row condition */
    const char *table = kind == FAIL_ACCOUNT ? "auth_failures" : "auth_address_failures";
    const char *cols = kind == FAIL_ACCOUNT ? "account_id, service" : "address";
    const char *vals = kind == FAIL_ACCOUNT ? "$1::bigint, $5" : "$1";
    const char *where = kind == FAIL_ACCOUNT ? "account_id = $1::bigint AND service = $5"
                                             : "address = $1 AND $5::text IS NULL";
    const char *params[] = {key, apr_ltoa(p, (long)maxf), apr_ltoa(p, (long)window),
                            apr_ltoa(p, (long)lockout), service};
    PGresult *res = zx_db_exec(
        db,
        apr_psprintf(p,
        "WITH prev AS (SELECT locked_until FROM %s WHERE %s) "
        "INSERT INTO %s AS f (%s, window_start, failures, locked_until) "
        "VALUES (%s, now(), 1, CASE WHEN $2::int <= 1 THEN now() + make_interval(secs => $4::int) END) "
        "ON CONFLICT (%s) DO UPDATE SET "
        "  window_start = CASE WHEN f.window_start < now() - make_interval(secs => $3::int) "
        "                      THEN now() ELSE f.window_start END, "
        "  failures = CASE WHEN f.window_start < now() - make_interval(secs => $3::int) "
        "                  THEN 1 ELSE f.failures + 1 END, "
        "  locked_until = CASE WHEN (CASE WHEN f.window_start < now() - make_interval(secs => $3::int) "
        "                                 THEN 1 ELSE f.failures + 1 END) >= $2::int "
        "                      THEN now() + make_interval(secs => $4::int) ELSE f.locked_until END "
        "RETURNING failures, locked_until > now() AND "
        "          NOT COALESCE((SELECT locked_until > now() FROM prev), false)",
        table, where, table, cols, vals, cols),
        5, params, &err);
    if (!res) {
        zx_log(NULL, ZX_LOG_ERR, ZXLOGNO(00122) "cannot record an authentication failure: %s", err);
        return 0;
    }
    int started = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    PQclear(res);
    return started;
}

/* The query of zx_auth_check: always one row, the account's columns NULL when it does not
 * exist; extra columns (each starting with ", ") after the fixed ones.
 *  0 id, 1 status, 2 auth_version, 3 password_hash, 4 cos_id, 5 domain_id,
 *  6 the hashes of the enabled credentials listing the service (newline-separated, oldest
 *    first; NULL = none), 7 (account, service) locked, 8 (account, service) has failures,
 *  9 client address locked, 10... extra */
#define ACCOUNT_SQL(extra)                                                                    \
    "SELECT a.id, a.status, a.auth_version, a.password_hash, a.cos_id, a.domain_id, "        \
    "       (SELECT string_agg(c.hash, E'\\n' ORDER BY c.created_at, c.id) FROM credentials c " \
    "         WHERE c.account_id = a.id AND c.enabled AND $3 = ANY (c.services)), "           \
    "       COALESCE(f.locked_until > now(), false), f.account_id IS NOT NULL, "             \
    "       COALESCE((SELECT x.locked_until > now() FROM auth_address_failures x "          \
    "                  WHERE x.address = $4), false)" extra                                     \
    "  FROM (SELECT 1) one "                                                                  \
    "  LEFT JOIN (accounts a JOIN domains d ON d.id = a.domain_id "                           \
    "             AND a.local_part = $1 AND d.name = $2) ON true "                            \
    "  LEFT JOIN auth_failures f ON f.account_id = a.id AND f.service = $3"
#define ACCOUNT_SQL_FIXED 10

/* Verify password against every hash of the newline-separated list (a copy is cut). */
static int verify_any(apr_pool_t *p, const char *password, const char *hashes)
{
    char *list = apr_pstrdup(p, hashes), *state = NULL;
    int ok = 0;
    for (char *h = apr_strtok(list, "\n", &state); h; h = apr_strtok(NULL, "\n", &state))
        ok |= zx_password_verify(p, password, h);   /* no early exit: the cost is the same */
    return ok;
}

zx_auth_result zx_auth_check(apr_pool_t *p, zx_db *db, const char *login, const char *password,
                             const char *service, zx_auth_opts *opts, zx_auth_account *acct,
                             const char **err)
{
    zx_auth_opts none = {0};
    if (!opts)
        opts = &none;
    opts->skipped_hash = 0;
    memset(acct, 0, sizeof *acct);
    *err = NULL;
    if (!service_known(service)) {
        *err = apr_psprintf(p, "unknown service %s", service);
        return ZX_AUTH_ERROR;
    }
    if (!login || !password || !*password)
        return ZX_AUTH_BAD_CREDENTIALS;

    zx_config_scope server_scope = {NULL, NULL, NULL, opts->server};
    const char *default_domain = opts->default_domain;
    if (!default_domain && !strchr(login, '@') &&
        zx_config_resolve(p, db, &server_scope, "zimbraDefaultDomainName", &default_domain,
                          NULL, err) < 0)
        return ZX_AUTH_ERROR;
    const char *name = zx_auth_login_name(p, login, default_domain);
    const char *local = "", *domain = "";
    if (name)
        zx_account_name_normalize(p, name, &local, &domain);

    /* Phase 1, one query: the account, the hashes that may open this service, the throttles of
     * (account, service) and of the client address, and the configuration values the caller
     * asked for (opts->resolve). */
    int nresolve = 0;
    while (opts->resolve && opts->resolve[nresolve] && nresolve < ZX_AUTH_RESOLVE_MAX)
        nresolve++;
    const char *params[4 + 2 * ZX_AUTH_RESOLVE_MAX] = {local, domain, service,
                                                       opts->client_address};
    const char *extra = "";
    for (int i = 0; i < nresolve; i++) {
        const char *col = zx_config_resolve_subquery(
            p, opts->resolve[i], "a.id::text", "a.cos_id::text", "a.domain_id::text",
            apr_psprintf(p, "$%d", 5 + 2 * i), apr_psprintf(p, "$%d::text", 6 + 2 * i), err);
        if (!col || zx_config_resolve_params(p, opts->resolve[i], opts->resolve_server,
                                             params + 4 + 2 * i, err) < 0)
            return ZX_AUTH_ERROR;
        extra = apr_pstrcat(p, extra, ", ", col, NULL);
    }
    PGresult *res = zx_db_exec(db, apr_psprintf(p, ACCOUNT_SQL("%s"), extra), 4 + 2 * nresolve,
                               params, err);
    if (!res)
        return ZX_AUTH_ERROR;
    int known = name && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0);
    int address_locked = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 9), "t") == 0;
    const char *status = "", *pw_hash = NULL, *cred_hashes = NULL;
    int throttled = 0, has_failures = 0;
    if (known) {
        acct->id = apr_pstrdup(p, PQgetvalue(res, 0, 0));
        acct->name = name;
        status = apr_pstrdup(p, PQgetvalue(res, 0, 1));
        acct->auth_version = atoll(PQgetvalue(res, 0, 2));
        pw_hash = PQgetisnull(res, 0, 3) ? NULL : apr_pstrdup(p, PQgetvalue(res, 0, 3));
        acct->cos_id = PQgetisnull(res, 0, 4) ? NULL : apr_pstrdup(p, PQgetvalue(res, 0, 4));
        acct->domain_id = apr_pstrdup(p, PQgetvalue(res, 0, 5));
        cred_hashes = PQgetisnull(res, 0, 6) ? NULL : apr_pstrdup(p, PQgetvalue(res, 0, 6));
        throttled = strcmp(PQgetvalue(res, 0, 7), "t") == 0;
        has_failures = strcmp(PQgetvalue(res, 0, 8), "t") == 0;
        for (int i = 0; i < nresolve; i++)
            opts->resolved[i] = PQgetisnull(res, 0, ACCOUNT_SQL_FIXED + i)
                                    ? zx_config_default(opts->resolve[i])
                                    : apr_pstrdup(p, PQgetvalue(res, 0, ACCOUNT_SQL_FIXED + i));
    }
    PQclear(res);
    long long account_id_n = known ? atoll(acct->id) : 0;
    zx_config_scope scope = {acct->id, acct->cos_id, acct->domain_id, opts->server};

    unsigned char mac[32];
    int verified = 0;
    if (known && opts->cache) {
        cache_mac(opts->cache, service, name, password, mac);
        verified = cache_lookup(opts->cache, mac, account_id_n, acct->auth_version);
        opts->skipped_hash = verified;
    }
    if (!verified) {
        /* An address that failed too often for unknown accounts is refused without a hash
         * for the unknown accounts it names.  An account that exists is still checked (its
         * own throttle protects it): many users share one client address when a cloud service
         * connects for them (Outlook for iOS/Android, field notes), and one user's mistyped
         * name must not lock the others out.  So while the address is throttled, the answer
         * time tells it which names exist (README, Logins). */
        if (address_locked && !known)
            return ZX_AUTH_ADDRESS_THROTTLED;
        /* Phase 2, without a database connection: the hashing. */
        if (opts->db_release) {
            opts->db_release(opts->db_baton, db);
            db = NULL;
        }
        if (opts->hash_gate) {
            long report = -1;
            if (zx_hash_gate_enter(opts->hash_gate, &report) < 0) {
                if (report >= 0)
                    zx_log(NULL, ZX_LOG_WARNING,
                           ZXLOGNO(00123) "logins refused with 503: every password-hash slot of "
                           "this process stayed busy (ZxMobileAuthHashSlots); %ld more in the "
                           "previous %d s", report, ZX_HASH_GATE_REPORT_SECONDS);
                return ZX_AUTH_BUSY;
            }
        }
        /* Which hashes may open this service: for EAS, the EAS credentials when there are
         * any, else the account password; for other services, the account password and the
         * credentials listing the service.  An unknown account or a throttled (account,
         * service) costs the same: one check against the dummy hash. */
        if (!known || throttled) {
            zx_password_verify(p, password, dummy_hash(p));
        }
        else {
            int use_account_pw = strcmp(service, "eas") != 0 || !cred_hashes, hashed = 0;
            if (use_account_pw && pw_hash) {
                verified = zx_password_verify(p, password, pw_hash);
                hashed = 1;
            }
            if (!verified && cred_hashes) {
                verified = verify_any(p, password, cred_hashes);
                hashed = 1;
            }
            if (!hashed)        /* nothing can open it: the refusal costs a hash all the same */
                zx_password_verify(p, password, dummy_hash(p));
        }
        if (opts->hash_gate)
            zx_hash_gate_leave(opts->hash_gate);
        if (throttled)
            return ZX_AUTH_THROTTLED;
        /* Phase 3: a connection again, only to write. */
        if (!db && !(db = opts->db_acquire(opts->db_baton, err)))
            return ZX_AUTH_ERROR;
        if (!known) {
            if (opts->client_address &&
                record_failure(p, db, &server_scope, FAIL_ADDRESS, opts->client_address, NULL))
                zx_log(NULL, ZX_LOG_WARNING,
                       ZXLOGNO(00124) "client %s: too many failed logins for unknown accounts, "
                       "its logins are refused unchecked (ZxMobile_AuthAddressMaxFailures, "
                       "ZxMobile_AuthLockoutSeconds)", opts->client_address);
            return ZX_AUTH_BAD_CREDENTIALS;
        }
        if (!verified) {
            if (record_failure(p, db, &scope, FAIL_ACCOUNT, acct->id, service))
                zx_log(NULL, ZX_LOG_WARNING,
                       ZXLOGNO(00120) "account %s: too many failed %s logins, password checks "
                       "suspended (ZxMobile_AuthLockoutSeconds)", name, service);
            return ZX_AUTH_BAD_CREDENTIALS;
        }
        if (has_failures) {
            const char *fp[] = {acct->id, service};
            zx_db_run(db, "DELETE FROM auth_failures WHERE account_id = $1 AND service = $2",
                      2, fp, err);
        }
        if (opts->cache) {
            long long ttl = 60;
            if (zx_config_resolve_int(p, db, &scope, "ZxMobile_AuthCacheSeconds", &ttl, err) < 0)
                return ZX_AUTH_ERROR;
            if (ttl > 0)
                cache_store(opts->cache, mac, account_id_n, acct->auth_version, ttl);
        }
    }
    if (strcmp(status, "locked") == 0)
        return ZX_AUTH_LOCKED;
    if (strcmp(status, "closed") == 0)
        return ZX_AUTH_CLOSED;
    return ZX_AUTH_OK;
}
