/* zxmobile - crypt(3) password hashes */
#include <zxsync/password.h>

#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>

int zx_password_hash(apr_pool_t *p, const char *password, const char *prefix,
                     const char **hash, const char **err)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn(prefix ? prefix : ZX_PASSWORD_DEFAULT_PREFIX, 0, NULL, 0,
                          setting, sizeof setting)) {
        *err = apr_psprintf(p, "cannot make a salt for %s: %s",
                            prefix ? prefix : ZX_PASSWORD_DEFAULT_PREFIX, strerror(errno));
        return -1;
    }
    /* struct crypt_data is ~32 KiB: keep it off the (small) httpd thread stacks */
    struct crypt_data *cd = apr_pcalloc(p, sizeof *cd);
    const char *h = crypt_rn(password, setting, cd, (int)sizeof *cd);
    if (!h || h[0] == '*') {
        *err = "password hashing failed";
        return -1;
    }
    *hash = apr_pstrdup(p, h);
    memset(cd, 0, sizeof *cd);
    return 0;
}

int zx_password_verify(apr_pool_t *p, const char *password, const char *hash)
{
    if (!password || !hash || !zx_password_is_hash(hash))
        return 0;
    struct crypt_data *cd = apr_pcalloc(p, sizeof *cd);
    const char *h = crypt_rn(password, hash, cd, (int)sizeof *cd);
    int ok = 0;
    if (h && h[0] != '*') {
        size_t n = strlen(hash);
        ok = strlen(h) == n && CRYPTO_memcmp(h, hash, n) == 0;
    }
    memset(cd, 0, sizeof *cd);
    return ok;
}

int zx_password_is_hash(const char *s)
{
    int st = s && s[0] == '$' ? crypt_checksalt(s) : CRYPT_SALT_INVALID;
    return st == CRYPT_SALT_OK || st == CRYPT_SALT_METHOD_LEGACY;
}

/* ---- the hash gate ------------------------------------------------------------------------ */

struct zx_hash_gate {
    apr_thread_mutex_t *mu;
    apr_thread_cond_t *cv;
    unsigned slots, wait_ms;
    zx_hash_gate_stats st;
    apr_time_t period_start;     /* current report interval; 0 = none yet */
    unsigned long period_refused;
};

zx_hash_gate *zx_hash_gate_create(apr_pool_t *p, unsigned slots, unsigned wait_ms)
{
    zx_hash_gate *g = apr_pcalloc(p, sizeof *g);
    g->slots = slots ? slots : 4;
    g->wait_ms = wait_ms ? wait_ms : 1000;
    g->st.slots = g->slots;
    if (apr_thread_mutex_create(&g->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS ||
        apr_thread_cond_create(&g->cv, p) != APR_SUCCESS)
        return NULL;
    return g;
}

int zx_hash_gate_enter(zx_hash_gate *g, long *report)
{
    apr_time_t now = apr_time_now(), deadline = now + apr_time_from_msec(g->wait_ms);
    if (report)
        *report = -1;
    apr_thread_mutex_lock(g->mu);
    g->st.waiting++;
    while (g->st.busy >= g->slots) {
        apr_time_t left = deadline - apr_time_now();
        if (left <= 0) {
            g->st.waiting--;
            g->st.refused++;
            now = apr_time_now();
            if (!g->period_start ||
                now - g->period_start >= apr_time_from_sec(ZX_HASH_GATE_REPORT_SECONDS)) {
                if (report)
                    *report = (long)g->period_refused;
                g->period_start = now;
                g->period_refused = 0;
            }
            g->period_refused++;
            apr_thread_mutex_unlock(g->mu);
            return -1;
        }
        apr_thread_cond_timedwait(g->cv, g->mu, left);
    }
    g->st.waiting--;
    g->st.busy++;
    g->st.entered++;
    apr_thread_mutex_unlock(g->mu);
    return 0;
}

void zx_hash_gate_leave(zx_hash_gate *g)
{
    apr_thread_mutex_lock(g->mu);
    g->st.busy--;
    apr_thread_cond_signal(g->cv);
    apr_thread_mutex_unlock(g->mu);
}

void zx_hash_gate_stats_get(zx_hash_gate *g, zx_hash_gate_stats *st)
{
    apr_thread_mutex_lock(g->mu);
    *st = g->st;
    apr_thread_mutex_unlock(g->mu);
}
