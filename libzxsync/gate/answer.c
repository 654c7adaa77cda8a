/* zxmobile - the answer cache (zxsync/answer.h).
 *
 * A fixed table of slots, each holding at most one answer (one malloc'ed block), indexed by
 * the first bytes of the answer's key, under one mutex: a lookup or a store holds it for a
 * compare and a copy of a few hundred bytes.  Generations are atomics the listener thread
 * bumps without the mutex: one for everything, and one per account slot (accounts share a
 * slot by hash, which only ever makes an answer look outdated too early).
 */
#include <zxsync/answer.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SLOTS 8192
#define GEN_SLOTS 4096

typedef struct {
    unsigned char key[32];
    unsigned long long gen_all, gen_acct;
    unsigned acct_slot;
    apr_time_t expires;
    int status;
    long long auth_version;
    const char *account_id, *account_name, *domain_id, *cos_id, *device_row, *content_type;
    int nheaders;
    const char **headers;       /* name, value, name, value ... */
    apr_size_t body_len;
    const unsigned char *body;
} entry;                        /* one malloc'ed block with its strings and body */

struct zx_answer_cache {
    apr_thread_mutex_t *mu;
    unsigned nslots;
    entry **slots;
    unsigned char secret[32];
    atomic_int connected;
    atomic_ullong gen_all;
    atomic_ullong *gen_acct;            /* own_gen_acct, or the region every child shares */
    atomic_ullong own_gen_acct[GEN_SLOTS];
    zx_answer_stats stats;
};

/* The shared region: the accounts' generations, seen by every child of the server. */
typedef struct {
    unsigned long long magic;
    atomic_ullong gen_acct[GEN_SLOTS];
} shared_gens;

#define SHARED_MAGIC 0x7a78616e73776572ULL     /* "zxanswer" */

apr_size_t zx_answer_shared_size(void)
{
    return sizeof(shared_gens);
}

void zx_answer_shared_init(void *region)
{
    shared_gens *g = region;
    for (unsigned i = 0; i < GEN_SLOTS; i++)
        atomic_init(&g->gen_acct[i], 1);
    g->magic = SHARED_MAGIC;
}

int zx_answer_cache_share(zx_answer_cache *c, void *region)
{
    shared_gens *g = region;
    if (!g || g->magic != SHARED_MAGIC ||
        !atomic_is_lock_free(&g->gen_acct[0]))      /* atomics across processes need that */
        return -1;
    c->gen_acct = g->gen_acct;
    return 0;
}

/* A request's part: on a miss, what zx_answer_store needs; on a hit, the answer. */
struct zx_answer_fill {
    unsigned char key[32];
    unsigned long long gen_all, gen_acct;
    unsigned acct_slot;
    int have_acct;
    int hit;
    int status;
    const char *content_type;
    const unsigned char *body;
    apr_size_t body_len;
    int nheaders;
    const char **headers;
};

static apr_status_t cache_cleanup(void *data)
{
    zx_answer_cache *c = data;
    for (unsigned i = 0; i < c->nslots; i++) {
        free(c->slots[i]);
        c->slots[i] = NULL;
    }
    return APR_SUCCESS;
}

zx_answer_cache *zx_answer_cache_create(apr_pool_t *p, unsigned slots)
{
    zx_answer_cache *c = apr_pcalloc(p, sizeof *c);
    c->nslots = slots ? slots : DEFAULT_SLOTS;
    c->slots = apr_pcalloc(p, sizeof(entry *) * c->nslots);
    atomic_init(&c->connected, 0);
    atomic_init(&c->gen_all, 1);
    for (unsigned i = 0; i < GEN_SLOTS; i++)
        atomic_init(&c->own_gen_acct[i], 1);
    c->gen_acct = c->own_gen_acct;
    if (RAND_bytes(c->secret, sizeof c->secret) != 1 ||
        apr_thread_mutex_create(&c->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return NULL;
    apr_pool_cleanup_register(p, c, cache_cleanup, apr_pool_cleanup_null);
    return c;
}

static unsigned acct_slot(const char *account_id)
{
    uint32_t h = 2166136261u;           /* FNV-1a */
    for (const unsigned char *s = (const unsigned char *)account_id; *s; s++)
        h = (h ^ *s) * 16777619u;
    return h % GEN_SLOTS;
}

void zx_answer_cache_changed(zx_answer_cache *c, const char *account_id)
{
    if (account_id && *account_id)
        atomic_fetch_add(&c->gen_acct[acct_slot(account_id)], 1);
    else
        atomic_fetch_add(&c->gen_all, 1);
}

void zx_answer_cache_connected(zx_answer_cache *c, int up)
{
    /* either way, what was kept (or is being computed) may have missed a notification */
    atomic_fetch_add(&c->gen_all, 1);
    atomic_store(&c->connected, up ? 1 : 0);
    if (up) {
        apr_thread_mutex_lock(c->mu);
        cache_cleanup(c);
        apr_thread_mutex_unlock(c->mu);
    }
}

void zx_answer_cache_stats(zx_answer_cache *c, zx_answer_stats *st)
{
    apr_thread_mutex_lock(c->mu);
    *st = c->stats;
    apr_thread_mutex_unlock(c->mu);
}

/* ---- the key ------------------------------------------------------------------------------- */

static void put(EVP_MD_CTX *md, unsigned char tag, const void *data, size_t len, int present)
{
    unsigned char hdr[5] = {tag, 0xff, 0xff, 0xff, 0xff};      /* absent: length ~0 */
    if (present) {
        uint32_t n = (uint32_t)len;
        hdr[1] = (unsigned char)(n >> 24);
        hdr[2] = (unsigned char)(n >> 16);
        hdr[3] = (unsigned char)(n >> 8);
        hdr[4] = (unsigned char)n;
    }
    EVP_DigestUpdate(md, hdr, sizeof hdr);
    if (present && len)
        EVP_DigestUpdate(md, data, len);
}

static void put_str(EVP_MD_CTX *md, unsigned char tag, const char *s)
{
    put(md, tag, s, s ? strlen(s) : 0, s != NULL);
}

static void put_int(EVP_MD_CTX *md, unsigned char tag, long long v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((unsigned long long)v >> (56 - 8 * i));
    put(md, tag, b, sizeof b, 1);
}

/* Every input of zx_request that the pipeline or a handler reads (zxsync/eas.h: the query,
 * the headers and the body).  A field added there that changes an answer belongs here. */
void zx_answer_key(const zx_answer_cache *c, const void *srv_identity, const zx_request *req,
                   unsigned char key[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        /* no digest: a key nothing else has (never a hit, never a wrong answer) */
        if (RAND_bytes(key, 32) != 1)
            memset(key, 0xa5, 32);
        EVP_MD_CTX_free(md);
        return;
    }
    EVP_DigestUpdate(md, c->secret, sizeof c->secret);
    put_int(md, 1, (long long)(uintptr_t)srv_identity);
    put_int(md, 2, req->method);
    put_int(md, 3, req->base64_query);
    put_str(md, 4, req->cmd_name);
    put_int(md, 5, req->cmd);
    put_str(md, 6, req->user);
    put_str(md, 7, req->device_id);
    put_str(md, 8, req->device_type);
    put_str(md, 9, req->attachment_name);
    put_str(md, 10, req->collection_id);
    put_str(md, 11, req->item_id);
    put_str(md, 12, req->long_id);
    put_str(md, 13, req->occurrence);
    put_int(md, 14, req->save_in_sent);
    put_int(md, 15, req->accept_multipart);
    put_int(md, 16, req->locale);
    put_str(md, 17, req->proto_str);
    put_int(md, 18, req->proto);
    put_int(md, 19, req->has_policy_key);
    put_int(md, 20, req->policy_key);
    put_str(md, 21, req->user_agent);
    put_str(md, 22, req->content_type);
    put_str(md, 23, req->auth_user);
    put_str(md, 24, req->auth_password);
    put(md, 25, req->body, req->body_len, req->body != NULL);
    if (!EVP_DigestFinal_ex(md, key, &n) || n != 32)
        memset(key, 0x5a, 32);
    EVP_MD_CTX_free(md);
}

/* ---- lookup and store ----------------------------------------------------------------------- */

int zx_answer_candidate(const zx_request *req)
{
    /* the body is part of the key: only one already read (stage_answer reads a small one) */
    return req->method == ZX_METHOD_POST && !req->read_body &&
           req->body_len <= ZX_ANSWER_MAX_REQUEST &&
           (req->cmd == ZX_CMD_SYNC || req->cmd == ZX_CMD_FOLDERSYNC);
}

static unsigned slot_of(const zx_answer_cache *c, const unsigned char key[32])
{
    uint32_t h;
    memcpy(&h, key, sizeof h);
    return h % c->nslots;
}

static const char *dup_or_null(apr_pool_t *p, const char *s)
{
    return s ? apr_pstrdup(p, s) : NULL;
}

int zx_answer_lookup(zx_answer_cache *c, const void *srv_identity, zx_request *req)
{
    if (!atomic_load(&c->connected))
        return 0;
    apr_pool_t *p = req->pool;
    struct zx_answer_fill *f = apr_pcalloc(p, sizeof *f);
    /* the generation first: a change committed after this point makes the answer outdated */
    f->gen_all = atomic_load(&c->gen_all);
    zx_answer_key(c, srv_identity, req, f->key);
    apr_time_t now = apr_time_now();
    apr_thread_mutex_lock(c->mu);
    entry *e = c->slots[slot_of(c, f->key)];
    if (e && CRYPTO_memcmp(e->key, f->key, 32) == 0) {
        if (e->expires > now && e->gen_all == f->gen_all &&
            e->gen_acct == atomic_load(&c->gen_acct[e->acct_slot])) {
            f->hit = 1;
            req->account.id = apr_pstrdup(p, e->account_id);
            req->account.name = apr_pstrdup(p, e->account_name);
            req->account.domain_id = dup_or_null(p, e->domain_id);
            req->account.cos_id = dup_or_null(p, e->cos_id);
            req->account.auth_version = e->auth_version;
            req->authenticated = 1;
            req->device_row = apr_pstrdup(p, e->device_row);
            f->status = e->status;
            f->content_type = dup_or_null(p, e->content_type);
            f->body_len = e->body_len;
            f->body = e->body_len ? apr_pmemdup(p, e->body, e->body_len) : NULL;
            f->nheaders = e->nheaders;
            f->headers = apr_palloc(p, sizeof(const char *) * 2 * (apr_size_t)(e->nheaders + 1));
            for (int i = 0; i < 2 * e->nheaders; i++)
                f->headers[i] = apr_pstrdup(p, e->headers[i]);
        }
        else
            c->stats.invalid++;
    }
    if (f->hit)
        c->stats.hits++;
    else
        c->stats.misses++;
    apr_thread_mutex_unlock(c->mu);
    req->answer_fill = f;
    req->answered_from_cache = f->hit;
    return f->hit;
}

void zx_answer_replay(const zx_request *req, zx_response *resp)
{
    const struct zx_answer_fill *f = req->answer_fill;
    resp->status = f->status;
    resp->content_type = f->content_type;
    resp->body = f->body;
    resp->body_len = f->body_len;
    resp->reason = NULL;
    for (int i = 0; i < f->nheaders; i++)
        apr_table_set(resp->headers, f->headers[2 * i], f->headers[2 * i + 1]);
}

void zx_answer_note_account(zx_answer_cache *c, zx_request *req)
{
    struct zx_answer_fill *f = req->answer_fill;
    if (!f || f->hit || !req->account.id)
        return;
    f->acct_slot = acct_slot(req->account.id);
    f->gen_acct = atomic_load(&c->gen_acct[f->acct_slot]);
    f->have_acct = 1;
}

typedef struct {
    char *at;
} packer;

static const char *pack(packer *pk, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    memcpy(pk->at, s, n);
    const char *out = pk->at;
    pk->at += n;
    return out;
}

static size_t len0(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

int zx_answer_store(zx_answer_cache *c, zx_request *req, const zx_response *resp)
{
    struct zx_answer_fill *f = req->answer_fill;
    if (!f || f->hit || !f->have_acct || !req->answer_reusable || resp->status != 200 || resp->reason ||
        resp->body_len > ZX_ANSWER_MAX_BODY || !req->device_row || !req->account.name)
        return 0;
    /* changed while the request ran: what it read may be older than the change */
    if (f->gen_all != atomic_load(&c->gen_all) ||
        f->gen_acct != atomic_load(&c->gen_acct[f->acct_slot]))
        return 0;
    const apr_array_header_t *ha = apr_table_elts(resp->headers);
    const apr_table_entry_t *he = (const apr_table_entry_t *)ha->elts;
    size_t size = sizeof(entry) + sizeof(const char *) * 2 * (size_t)ha->nelts + resp->body_len +
                  len0(req->account.id) + len0(req->account.name) + len0(req->account.domain_id) +
                  len0(req->account.cos_id) + len0(req->device_row) + len0(resp->content_type);
    for (int i = 0; i < ha->nelts; i++)
        size += len0(he[i].key) + (he[i].val ? len0(he[i].val) : 1);
    entry *e = malloc(size);
    if (!e)
        return 0;
    memset(e, 0, sizeof *e);
    memcpy(e->key, f->key, 32);
    e->gen_all = f->gen_all;
    e->gen_acct = f->gen_acct;
    e->acct_slot = f->acct_slot;
    e->expires = apr_time_now() + apr_time_from_sec(ZX_ANSWER_TTL);
    e->status = resp->status;
    e->auth_version = req->account.auth_version;
    e->headers = (const char **)(e + 1);
    e->nheaders = ha->nelts;
    unsigned char *body = (unsigned char *)(e->headers + 2 * ha->nelts);
    if (resp->body_len)
        memcpy(body, resp->body, resp->body_len);
    e->body = body;
    e->body_len = resp->body_len;
    packer pk = {(char *)body + resp->body_len};
    e->account_id = pack(&pk, req->account.id);
    e->account_name = pack(&pk, req->account.name);
    e->domain_id = pack(&pk, req->account.domain_id);
    e->cos_id = pack(&pk, req->account.cos_id);
    e->device_row = pack(&pk, req->device_row);
    e->content_type = pack(&pk, resp->content_type);
    for (int i = 0; i < ha->nelts; i++) {
        e->headers[2 * i] = pack(&pk, he[i].key);
        e->headers[2 * i + 1] = pack(&pk, he[i].val ? he[i].val : "");
    }
    apr_thread_mutex_lock(c->mu);
    entry **slot = &c->slots[slot_of(c, f->key)];
    entry *old = *slot;
    *slot = e;
    c->stats.stores++;
    apr_thread_mutex_unlock(c->mu);
    free(old);
    return 1;
}
