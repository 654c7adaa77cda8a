/* zxmobile - certificate validation (zxsync/cert.h): the trust store of the process, chain
 * verification with OpenSSL, and the revocation check with its downloads and its per-process
 * caches.
 *
 * Revocation, for each certificate of the verified chain below its anchor (revocation()):
 *   1. OCSP first, when the certificate has an http:// OCSP URL in its Authority Information
 *      Access (ocsp_status()): an answer good or revoked decides;
 *   2. then the CRLs of its http:// distribution points (crl_status()), when it has no OCSP URL
 *      or the responder gave no usable answer;
 *   3. when it has no distribution point, the OCSP failure stands (14 unreachable, 16 an
 *      unusable answer); neither URL: 16.
 * Both go through one HTTP fetch (http_fetch()) under the call's budget (ZX_CERT_MAX_FETCHES,
 * ZX_CERT_FETCH_BUDGET_S), with a TCP probe first and a per-URL memory of failures.  Good OCSP
 * answers are kept per process until their nextUpdate (at most ZX_CERT_OCSP_CACHE_S); a
 * revoked one is not kept (asked again next time). */
#include <zxsync/cert.h>

#include <apr_strings.h>

#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- base64 -------------------------------------------------------------------------------- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int zx_cert_b64_decode(apr_pool_t *p, const char *text, const unsigned char **out,
                       apr_size_t *len)
{
    apr_size_t n = text ? strlen(text) : 0;
    unsigned char *buf = apr_palloc(p, n / 4 * 3 + 3);
    apr_size_t o = 0;
    unsigned acc = 0;
    int bits = 0, pad = 0, quad = 0;
    for (apr_size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            quad++;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pad)           /* a character after the padding */
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        quad++;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* whole quads only; at most two '='; the bits left over must be zero */
    if (quad % 4 || pad > 2 || (pad && (quad - pad) % 4 + pad != 4) || acc || o == 0)
        return -1;
    *out = buf;
    *len = o;
    return 0;
}

/* ---- the trust stores of the process (one per extra CA file) -------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

#define MAX_STORES 8
static struct {
    char *ca_file;              /* NULL: the system store alone */
    X509_STORE *store;
    int used;
} stores[MAX_STORES];

static X509_STORE *store_get(const char *ca_file, const char **err)
{
    X509_STORE *st = NULL;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_STORES && !st; i++)
        if (stores[i].used && ((!ca_file && !stores[i].ca_file) ||
                               (ca_file && stores[i].ca_file &&
                                strcmp(ca_file, stores[i].ca_file) == 0)))
            st = stores[i].store;
    if (!st) {
        int slot = -1;
        for (int i = 0; i < MAX_STORES && slot < 0; i++)
            if (!stores[i].used)
                slot = i;
        st = X509_STORE_new();
        if (!st || slot < 0 || X509_STORE_set_default_paths(st) != 1) {
            *err = slot < 0 ? "too many trust stores" : "cannot open the system trust store";
            X509_STORE_free(st);
            st = NULL;
        }
        else if (ca_file && X509_STORE_load_file(st, ca_file) != 1) {
            *err = "cannot read the CA file of ZxMobileValidateCertCAFile";
            X509_STORE_free(st);
            st = NULL;
        }
        else {
            stores[slot].ca_file = ca_file ? strdup(ca_file) : NULL;
            stores[slot].store = st;
            stores[slot].used = 1;
        }
    }
    if (st)
        X509_STORE_up_ref(st);
    pthread_mutex_unlock(&lock);
    ERR_clear_error();
    return st;
}

/* ---- the CRLs of the process --------------------------------------------------------------- */

static struct {
    char *url;
    X509_CRL *crl;              /* NULL: the download failed (until expires) */
    time_t expires;
} crls[ZX_CERT_CRL_CACHE];

/* 1 and *crl (a reference) when url is cached, 0 when not, -1 when it failed a moment ago. */
static int crl_cached(const char *url, X509_CRL **crl)
{
    int r = 0;
    time_t now = time(NULL);
    pthread_mutex_lock(&lock);
    for (int i = 0; i < ZX_CERT_CRL_CACHE; i++) {
        if (!crls[i].url || strcmp(crls[i].url, url) != 0)
            continue;
        if (crls[i].expires <= now)
            break;
        if (crls[i].crl) {
            X509_CRL_up_ref(crls[i].crl);
            *crl = crls[i].crl;
            r = 1;
        }
        else
            r = -1;
        break;
    }
    pthread_mutex_unlock(&lock);
    return r;
}

static void crl_keep(const char *url, X509_CRL *crl, time_t expires)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&lock);
    int slot = -1;
    for (int i = 0; i < ZX_CERT_CRL_CACHE; i++)
        if (crls[i].url && strcmp(crls[i].url, url) == 0)
            slot = i;
    for (int i = 0; i < ZX_CERT_CRL_CACHE && slot < 0; i++)
        if (!crls[i].url || crls[i].expires <= now)
            slot = i;
    if (slot < 0) {             /* full: the one that expires first */
        slot = 0;
        for (int i = 1; i < ZX_CERT_CRL_CACHE; i++)
            if (crls[i].expires < crls[slot].expires)
                slot = i;
    }
    free(crls[slot].url);
    X509_CRL_free(crls[slot].crl);
    crls[slot].url = strdup(url);
    crls[slot].crl = NULL;
    crls[slot].expires = expires;
    if (crls[slot].url && crl && X509_CRL_up_ref(crl))
        crls[slot].crl = crl;
    else if (!crls[slot].url)
        crls[slot].expires = 0;
    pthread_mutex_unlock(&lock);
}

static void ocsp_cache_clear(void);

void zx_cert_crl_cache_clear(void)
{
    ocsp_cache_clear();
    pthread_mutex_lock(&lock);
    for (int i = 0; i < ZX_CERT_CRL_CACHE; i++) {
        free(crls[i].url);
        X509_CRL_free(crls[i].crl);
        crls[i].url = NULL;
        crls[i].crl = NULL;
        crls[i].expires = 0;
    }
    pthread_mutex_unlock(&lock);
}

/* ---- one call ------------------------------------------------------------------------------ */

typedef struct {
    apr_pool_t *p;
    int fetches_left;
    time_t deadline;            /* of all downloads */
    int download;               /* CheckCRL 1: download the CRLs not cached; 0: the cache only */
    X509_STORE *store;          /* the trust store (an OCSP responder's signature) */
} call_ctx;

/* A TCP connection to host:port within timeout_s, or -1 (a refused one at once). */
static int tcp_connect(const char *host, const char *port, int timeout_s)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0)
            continue;
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
            close(fd);
            fd = -1;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            int err = 0;
            socklen_t len = sizeof err;
            int r;
            while ((r = poll(&pfd, 1, timeout_s * 1000)) < 0 && errno == EINTR)
                ;
            if (r == 1 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
                break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* POST the DER of post (of type it, content type ctype) to url over the connected socket fd
 * (closed here); the answer read whole within timeout, at most max bytes.  A memory BIO or
 * NULL. */
static BIO *http_post_fd(int fd, const char *host, const char *target, const ASN1_ITEM *it,
                         const ASN1_VALUE *post, const char *ctype, const char *expect,
                         size_t max, int timeout)
{
    BIO *sock = BIO_new_socket(fd, BIO_CLOSE), *b = NULL;
    if (!sock) {
        close(fd);
        return NULL;
    }
    OSSL_HTTP_REQ_CTX *rctx = OSSL_HTTP_REQ_CTX_new(sock, sock, 0);
    if (rctx && OSSL_HTTP_REQ_CTX_set_request_line(rctx, 1, NULL, NULL, target) &&
        OSSL_HTTP_REQ_CTX_add1_header(rctx, "Host", host) &&
        OSSL_HTTP_REQ_CTX_set_expected(rctx, expect, 1, timeout, 0) &&
        OSSL_HTTP_REQ_CTX_set1_req(rctx, ctype, it, post)) {
        OSSL_HTTP_REQ_CTX_set_max_response_length(rctx, max);
        BIO *mem = OSSL_HTTP_REQ_CTX_exchange(rctx);    /* rctx's */
        char *data = NULL;
        long n = mem ? BIO_get_mem_data(mem, &data) : 0;
        if (n > 0 && data && (b = BIO_new(BIO_s_mem())) && BIO_write(b, data, (int)n) != n) {
            BIO_free(b);
            b = NULL;
        }
    }
    OSSL_HTTP_REQ_CTX_free(rctx);
    BIO_free_all(sock);
    return b;
}

/* GET url (post NULL) or POST the DER of post (of type it, content type ctype) to it, within
 * the call's budget; the answer read whole, at most max bytes (expect: its content type, or
 * NULL).  A memory BIO, or NULL when it cannot. */
static BIO *http_fetch(call_ctx *c, const char *url, const ASN1_ITEM *it,
                       const ASN1_VALUE *post, const char *ctype, const char *expect, size_t max)
{
    time_t now = time(NULL);
    if (c->fetches_left <= 0 || now >= c->deadline)
        return NULL;
    c->fetches_left--;
    int timeout = ZX_CERT_FETCH_TIMEOUT_S;
    if (c->deadline - now < timeout)
        timeout = (int)(c->deadline - now);
    /* a refused connection fails at once (OpenSSL's connect retries until its timeout): tried
     * first here, unless httpd's environment names a proxy for this host */
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    int ssl = 0;
    if (OSSL_HTTP_parse_url(url, &ssl, NULL, &host, &port, NULL, &path, &query, NULL) != 1 ||
        ssl) {
        OPENSSL_free(host);
        OPENSSL_free(port);
        OPENSSL_free(path);
        OPENSSL_free(query);
        ERR_clear_error();
        return NULL;
    }
    int reachable = 1, fd = -1;
    if (!OSSL_HTTP_adapt_proxy(NULL, NULL, host, 0)) {
        fd = tcp_connect(host, port, timeout);
        reachable = fd >= 0;
        if (fd >= 0 && !post) {
            close(fd);
            fd = -1;
        }
        timeout -= (int)(time(NULL) - now);     /* the probe's time is the download's */
        if (timeout < 1)
            timeout = 1;
    }
    BIO *b = NULL;
    /* expect_asn1: the answer is read whole into memory, at most max bytes */
    if (reachable && !post)
        b = OSSL_HTTP_get(url, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, expect, 1, max,
                          timeout);
    else if (reachable) {
        const char *target = query && *query ? apr_pstrcat(c->p, path, "?", query, NULL) : path;
        if (fd >= 0)            /* over the probe's connection: `openssl ocsp` (3.0) stays busy
                                 * with a connection closed without a request */
            b = http_post_fd(fd, host, target, it, post, ctype, expect, max, timeout);
        else {                  /* through the proxy */
            BIO *req = ASN1_item_i2d_mem_bio(it, post);
            if (req)
                b = OSSL_HTTP_transfer(NULL, host, port, target, 0, NULL, NULL, NULL, NULL, NULL,
                                       NULL, 0, NULL, ctype, req, expect, 1, max, timeout, 0);
            BIO_free(req);
        }
    }
    OPENSSL_free(host);
    OPENSSL_free(port);
    OPENSSL_free(path);
    OPENSSL_free(query);
    ERR_clear_error();
    return b;
}

/* Download url (a DER CRL, RFC 5280 4.2.1.13) within the call's budget.  NULL when it cannot. */
static X509_CRL *crl_download(call_ctx *c, const char *url)
{
    BIO *b = http_fetch(c, url, NULL, NULL, NULL, NULL, ZX_CERT_MAX_CRL);
    X509_CRL *crl = NULL;
    if (b) {
        char *data = NULL;
        long n = BIO_get_mem_data(b, &data);
        const unsigned char *d = (const unsigned char *)data;
        if (n > 0 && data)
            crl = d2i_X509_CRL(NULL, &d, n);
        BIO_free_all(b);
    }
    ERR_clear_error();
    return crl;
}

/* The http:// URLs of cert's CRL distribution points (at most max). */
static int crl_urls(apr_pool_t *p, X509 *cert, const char **urls, int max)
{
    int n = 0;
    STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
    for (int i = 0; dps && i < sk_DIST_POINT_num(dps) && n < max; i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        if (!dp->distpoint || dp->distpoint->type != 0)
            continue;
        GENERAL_NAMES *names = dp->distpoint->name.fullname;
        for (int k = 0; k < sk_GENERAL_NAME_num(names) && n < max; k++) {
            GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, k);
            if (gn->type != GEN_URI)
                continue;
            const unsigned char *s = ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
            int len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
            if (len > 7 && len < 2048 && strncasecmp((const char *)s, "http://", 7) == 0 &&
                !memchr(s, '\0', (size_t)len))
                urls[n++] = apr_pstrndup(p, (const char *)s, (apr_size_t)len);
        }
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    return n;
}

/* The revocation state of cert (issued by issuer) by the CRLs of urls[0..n): 0 not revoked,
 * 1 revoked, or ZX_CERT_REVOCATION_OFFLINE / ZX_CERT_REVOCATION_UNKNOWN; *why says which URL. */
static int crl_status(call_ctx *c, X509 *cert, X509 *issuer, const char **urls, int n,
                      const char **why, int *fetches)
{
    int state = ZX_CERT_REVOCATION_OFFLINE;
    for (int i = 0; i < n; i++) {
        X509_CRL *crl = NULL;
        int cached = crl_cached(urls[i], &crl);
        *why = urls[i];
        if (cached < 0) {       /* down a moment ago */
            *why = apr_psprintf(c->p, "%s: failed less than %d s ago", urls[i],
                                ZX_CERT_CRL_DOWN_S);
            continue;
        }
        if (!cached) {
            if (!c->download) {
                *why = apr_psprintf(c->p, "%s: not cached (no download without CheckCRL)",
                                    urls[i]);
                state = ZX_CERT_REVOCATION_UNKNOWN;
                continue;
            }
            if (c->fetches_left <= 0 || time(NULL) >= c->deadline) {
                *why = apr_psprintf(c->p, "%s: over the download budget of the request", urls[i]);
                continue;
            }
            (*fetches)++;
            crl = crl_download(c, urls[i]);
            if (!crl) {
                crl_keep(urls[i], NULL, time(NULL) + ZX_CERT_CRL_DOWN_S);
                *why = apr_psprintf(c->p, "%s: cannot be downloaded", urls[i]);
                continue;
            }
        }
        /* the CRL must be the issuer's, signed by it, and current */
        const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
        EVP_PKEY *key = X509_get0_pubkey(issuer);
        int good = X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) == 0 &&
                   key && X509_CRL_verify(crl, key) == 1 &&
                   X509_cmp_current_time(X509_CRL_get0_lastUpdate(crl)) < 0 &&
                   next && X509_cmp_current_time(next) > 0;
        if (!good) {
            *why = apr_psprintf(c->p, "%s: not a valid current CRL of the issuer", urls[i]);
            state = ZX_CERT_REVOCATION_UNKNOWN;
            X509_CRL_free(crl);
            ERR_clear_error();
            continue;
        }
        if (!cached) {
            /* kept until its nextUpdate, at most ZX_CERT_CRL_CACHE_S */
            long keep = ZX_CERT_CRL_CACHE_S;
            int days = 0, secs = 0;
            if (ASN1_TIME_diff(&days, &secs, NULL, next) == 1 && days < 1 &&
                secs < ZX_CERT_CRL_CACHE_S)
                keep = secs > 0 ? secs : 0;
            crl_keep(urls[i], crl, time(NULL) + keep);
        }
        X509_REVOKED *rev = NULL;
        int r = X509_CRL_get0_by_cert(crl, &rev, cert);
        X509_CRL_free(crl);
        ERR_clear_error();
        return r == 1 ? 1 : 0;          /* 2: removeFromCRL - no longer revoked */
    }
    return state;
}

/* ---- OCSP (RFC 6960) ------------------------------------------------------------------------ */

/* Good answers (key: responder URL, space, hex DER CertID) and responders down (key: the URL). */
static struct {
    char *key;
    int good;                   /* 1 a good answer, 0 the responder failed (until expires) */
    time_t expires;
} ocsps[ZX_CERT_OCSP_CACHE];

/* 1: a good answer is held for key; -1: the responder failed a moment ago; 0: nothing. */
static int ocsp_cached(const char *key)
{
    int r = 0;
    time_t now = time(NULL);
    pthread_mutex_lock(&lock);
    for (int i = 0; i < ZX_CERT_OCSP_CACHE; i++)
        if (ocsps[i].key && ocsps[i].expires > now && strcmp(ocsps[i].key, key) == 0) {
            r = ocsps[i].good ? 1 : -1;
            break;
        }
    pthread_mutex_unlock(&lock);
    return r;
}

static void ocsp_keep(const char *key, int good, time_t expires)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&lock);
    int slot = -1;
    for (int i = 0; i < ZX_CERT_OCSP_CACHE && slot < 0; i++)
        if (ocsps[i].key && strcmp(ocsps[i].key, key) == 0)
            slot = i;
    for (int i = 0; i < ZX_CERT_OCSP_CACHE && slot < 0; i++)
        if (!ocsps[i].key || ocsps[i].expires <= now)
            slot = i;
    if (slot < 0) {             /* full: the one that expires first */
        slot = 0;
        for (int i = 1; i < ZX_CERT_OCSP_CACHE; i++)
            if (ocsps[i].expires < ocsps[slot].expires)
                slot = i;
    }
    free(ocsps[slot].key);
    ocsps[slot].key = strdup(key);
    ocsps[slot].good = good;
    ocsps[slot].expires = ocsps[slot].key ? expires : 0;
    pthread_mutex_unlock(&lock);
}

static void ocsp_cache_clear(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < ZX_CERT_OCSP_CACHE; i++) {
        free(ocsps[i].key);
        ocsps[i].key = NULL;
        ocsps[i].expires = 0;
    }
    pthread_mutex_unlock(&lock);
}

/* The http:// OCSP URLs of cert's Authority Information Access (at most max). */
static int ocsp_urls(apr_pool_t *p, X509 *cert, const char **urls, int max)
{
    int n = 0;
    STACK_OF(OPENSSL_STRING) *all = X509_get1_ocsp(cert);
    for (int i = 0; all && i < sk_OPENSSL_STRING_num(all) && n < max; i++) {
        const char *u = sk_OPENSSL_STRING_value(all, i);
        size_t len = strlen(u);
        if (len > 7 && len < 2048 && strncasecmp(u, "http://", 7) == 0)
            urls[n++] = apr_pstrdup(p, u);
    }
    X509_email_free(all);
    return n;
}

/* Ask url about id (cert's, path: the verified chain): 0 good (*until: how long it may be
 * kept, 0 not at all), 1 revoked, ZX_CERT_REVOCATION_OFFLINE (not reached, no answer) or
 * ZX_CERT_REVOCATION_UNKNOWN (an answer that does not say: an error, unknown, not verified). */
static int ocsp_ask(call_ctx *c, const char *url, OCSP_CERTID *id, STACK_OF(X509) *path,
                    const char **why, time_t *until)
{
    int state = ZX_CERT_REVOCATION_UNKNOWN;
    *until = 0;
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *one = OCSP_CERTID_dup(id);
    BIO *answer = NULL;
    OCSP_RESPONSE *rsp = NULL;
    OCSP_BASICRESP *bs = NULL;
    if (!req || !one || !OCSP_request_add0_id(req, one)) {
        OCSP_CERTID_free(one);
        *why = "cannot make the request";
        goto done;
    }
    if (OCSP_request_add1_nonce(req, NULL, -1) != 1) {
        *why = "cannot make the request";
        goto done;
    }
    answer = http_fetch(c, url, ASN1_ITEM_rptr(OCSP_REQUEST), (const ASN1_VALUE *)req,
                        "application/ocsp-request", "application/ocsp-response",
                        ZX_CERT_MAX_OCSP);
    if (!answer) {
        state = ZX_CERT_REVOCATION_OFFLINE;
        *why = "no answer";
        goto done;
    }
    rsp = d2i_OCSP_RESPONSE_bio(answer, NULL);
    if (!rsp || OCSP_response_status(rsp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        *why = rsp ? apr_psprintf(c->p, "responder error %s",
                                  OCSP_response_status_str(OCSP_response_status(rsp)))
                   : "not an OCSP response";
        goto done;
    }
    /* signed by the issuer or a responder it delegated, under the same trust store */
    if (!(bs = OCSP_response_get1_basic(rsp)) || OCSP_basic_verify(bs, path, c->store, 0) != 1) {
        *why = "the signature of the answer does not verify";
        goto done;
    }
    if (OCSP_check_nonce(req, bs) != 1) {
        *why = "the answer does not carry the request's nonce";
        goto done;
    }
    int st = -1, reason = 0;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    if (OCSP_resp_find_status(bs, id, &st, &reason, &rev, &thisupd, &nextupd) != 1) {
        *why = "the answer is not about the certificate";
        goto done;
    }
    if (OCSP_check_validity(thisupd, nextupd, ZX_CERT_OCSP_SKEW_S, -1) != 1) {
        *why = "the answer is not current (thisUpdate / nextUpdate)";
        goto done;
    }
    if (st == V_OCSP_CERTSTATUS_GOOD) {
        state = 0;
        *why = "good";
        int days = 0, secs = 0;
        if (nextupd && ASN1_TIME_diff(&days, &secs, NULL, nextupd) == 1 && days >= 0 &&
            secs >= 0)
            *until = time(NULL) + (days > 0 || secs > ZX_CERT_OCSP_CACHE_S
                                   ? ZX_CERT_OCSP_CACHE_S : secs);
    }
    else if (st == V_OCSP_CERTSTATUS_REVOKED) {
        state = 1;
        *why = "revoked";
    }
    else
        *why = "the responder does not know the certificate";
done:
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(rsp);
    BIO_free_all(answer);
    OCSP_REQUEST_free(req);
    ERR_clear_error();
    return state;
}

/* The OCSP state of cert (issued by issuer): -1 when it names no http:// responder; else as
 * ocsp_ask (without CheckCRL: 0 from a good answer the process holds, else UNKNOWN). */
static int ocsp_status(call_ctx *c, X509 *cert, X509 *issuer, STACK_OF(X509) *path,
                       const char **why, int *fetches)
{
    const char *urls[2];
    int n = ocsp_urls(c->p, cert, urls, 2);
    if (n == 0)
        return -1;
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, cert, issuer);
    unsigned char *der = NULL;
    int len = id ? i2d_OCSP_CERTID(id, &der) : -1;
    if (len <= 0) {
        OCSP_CERTID_free(id);
        ERR_clear_error();
        *why = "OCSP: cannot make the certificate's id";
        return ZX_CERT_REVOCATION_UNKNOWN;
    }
    char *hex = apr_palloc(c->p, (apr_size_t)len * 2 + 1);
    for (int i = 0; i < len; i++)
        apr_snprintf(hex + 2 * i, 3, "%02x", der[i]);
    OPENSSL_free(der);
    int state = ZX_CERT_REVOCATION_UNKNOWN;
    for (int i = 0; i < n; i++) {
        const char *key = apr_pstrcat(c->p, urls[i], " ", hex, NULL);
        const char *w = NULL;
        if (ocsp_cached(key) == 1) {
            state = 0;
            *why = apr_psprintf(c->p, "OCSP %s: good (held)", urls[i]);
            break;
        }
        if (!c->download) {
            *why = apr_psprintf(c->p, "OCSP %s: no answer held (not asked without CheckCRL)",
                                urls[i]);
            continue;
        }
        if (ocsp_cached(urls[i]) < 0) {
            *why = apr_psprintf(c->p, "OCSP %s: failed less than %d s ago", urls[i],
                                ZX_CERT_CRL_DOWN_S);
            state = ZX_CERT_REVOCATION_OFFLINE;
            continue;
        }
        if (c->fetches_left <= 0 || time(NULL) >= c->deadline) {
            *why = apr_psprintf(c->p, "OCSP %s: over the download budget of the request",
                                urls[i]);
            state = ZX_CERT_REVOCATION_OFFLINE;
            continue;
        }
        (*fetches)++;
        time_t until = 0;
        int st = ocsp_ask(c, urls[i], id, path, &w, &until);
        *why = apr_psprintf(c->p, "OCSP %s: %s", urls[i], w);
        if (st == ZX_CERT_REVOCATION_OFFLINE)
            ocsp_keep(urls[i], 0, time(NULL) + ZX_CERT_CRL_DOWN_S);
        if (st == 0 && until > time(NULL))
            ocsp_keep(key, 1, until);
        if (st == 0 || st == 1) {
            state = st;
            break;
        }
        if (state != ZX_CERT_REVOCATION_OFFLINE)
            state = st;
    }
    OCSP_CERTID_free(id);
    ERR_clear_error();
    return state;
}

/* The revocation state of path[i] (issued by path[i + 1]): OCSP first, then the CRLs (the
 * order of the header comment); 0 not revoked, 1 revoked, or ZX_CERT_REVOCATION_OFFLINE /
 * ZX_CERT_REVOCATION_UNKNOWN, *why says which URL and why. */
static int revocation(call_ctx *c, STACK_OF(X509) *path, int i, const char **why, int *fetches)
{
    X509 *cert = sk_X509_value(path, i), *issuer = sk_X509_value(path, i + 1);
    const char *owhy = NULL;
    int ost = ocsp_status(c, cert, issuer, path, &owhy, fetches);
    if (ost == 0 || ost == 1) {
        *why = owhy;
        return ost;
    }
    const char *urls[2];
    int n = crl_urls(c->p, cert, urls, 2);
    if (n == 0) {
        *why = owhy ? owhy : "no http:// OCSP responder or CRL distribution point";
        return ost > 0 ? ost : ZX_CERT_REVOCATION_UNKNOWN;
    }
    int st = crl_status(c, cert, issuer, urls, n, why, fetches);
    if (st != 0 && st != 1 && owhy)
        *why = apr_psprintf(c->p, "%s; %s", owhy, *why);
    return st;
}

/* OpenSSL's verification error (at depth) -> the status of the spec. */
static zx_cert_status verify_status(int e, int depth)
{
    switch (e) {
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
        return ZX_CERT_BAD_SIGNATURE;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        return ZX_CERT_UNTRUSTED;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
        return depth == 0 ? ZX_CERT_EXPIRED : ZX_CERT_TIME_NESTING;
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    case X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED:
        return ZX_CERT_CHAIN_ROLE;
    case X509_V_ERR_INVALID_PURPOSE:
        return ZX_CERT_NOT_FOR_EMAIL;
    case X509_V_ERR_CERT_REVOKED:
        return depth == 0 ? ZX_CERT_REVOKED : ZX_CERT_CHAIN_REVOKED;
    case X509_V_ERR_OUT_OF_MEM:
        return ZX_CERT_SERVER_ERROR;
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
    case X509_V_ERR_INVALID_EXTENSION:
    case X509_V_ERR_INVALID_NON_CA:
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
    case X509_V_ERR_INVALID_POLICY_EXTENSION:
    case X509_V_ERR_NO_EXPLICIT_POLICY:
        return ZX_CERT_MISUSED;
    default:
        return ZX_CERT_BAD_INFO;
    }
}

static X509 *der_cert(const zx_cert_blob *b)
{
    if (!b->der || b->len == 0 || b->len > ZX_CERT_MAX_B64)
        return NULL;
    const unsigned char *d = b->der;
    X509 *x = d2i_X509(NULL, &d, (long)b->len);
    if (x && d != b->der + b->len) {    /* trailing bytes */
        X509_free(x);
        x = NULL;
    }
    return x;
}

static void validate_one(call_ctx *c, X509_STORE *store, STACK_OF(X509) *untrusted,
                         const zx_cert_blob *blob, int check_crl, zx_cert_result *r)
{
    X509 *leaf = der_cert(blob);
    r->fetches = 0;
    r->detail = NULL;
    if (!leaf) {
        r->status = ZX_CERT_BAD_CHAIN;
        r->detail = blob->der ? "not a DER X.509 certificate" : "not base64";
        return;
    }
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (!ctx || X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        r->status = ZX_CERT_SERVER_ERROR;
        r->detail = "cannot set up the verification";
        goto done;
    }
    if (X509_verify_cert(ctx) != 1) {
        int e = X509_STORE_CTX_get_error(ctx);
        int depth = X509_STORE_CTX_get_error_depth(ctx);
        r->status = verify_status(e, depth);
        r->detail = apr_psprintf(c->p, "%s (depth %d)", X509_verify_cert_error_string(e), depth);
        goto done;
    }
    /* S/MIME: the certificate must be usable to sign or to encrypt mail */
    if (X509_check_purpose(leaf, X509_PURPOSE_SMIME_SIGN, 0) != 1 &&
        X509_check_purpose(leaf, X509_PURPOSE_SMIME_ENCRYPT, 0) != 1) {
        r->status = ZX_CERT_NOT_FOR_EMAIL;
        r->detail = "not an S/MIME certificate (key usage)";
        goto done;
    }
    r->status = ZX_CERT_OK;
    {
        /* every certificate below the trust anchor, by OCSP or its issuer's CRL: asked and
         * downloaded when CheckCRL is 1; without it only what the process holds is read, and
         * an unverifiable status is ignored ([MS-ASCMD] 2.2.3.26) */
        STACK_OF(X509) *path = X509_STORE_CTX_get0_chain(ctx);
        int len = path ? sk_X509_num(path) : 0;
        int offline = 0, unknown = 0;
        const char *why_off = NULL, *why_unk = NULL;
        for (int i = 0; i + 1 < len; i++) {
            const char *why = NULL;
            int st = revocation(c, path, i, &why, &r->fetches);
            if (st == 1) {
                r->status = i == 0 ? ZX_CERT_REVOKED : ZX_CERT_CHAIN_REVOKED;
                r->detail = apr_psprintf(c->p, "revoked (depth %d, %s)", i, why);
                goto done;
            }
            if (st == ZX_CERT_REVOCATION_OFFLINE && !offline) {
                offline = 1;
                why_off = apr_psprintf(c->p, "depth %d: %s", i, why);
            }
            if (st == ZX_CERT_REVOCATION_UNKNOWN && !unknown) {
                unknown = 1;
                why_unk = apr_psprintf(c->p, "depth %d: %s", i, why);
            }
        }
        if (!check_crl)
            ;                   /* ignored */
        else if (offline) {
            r->status = ZX_CERT_REVOCATION_OFFLINE;
            r->detail = why_off;
        }
        else if (unknown) {
            r->status = ZX_CERT_REVOCATION_UNKNOWN;
            r->detail = why_unk;
        }
    }
done:
    X509_STORE_CTX_free(ctx);
    X509_free(leaf);
    ERR_clear_error();
}

int zx_cert_validate(apr_pool_t *p, const char *extra_ca_file, const zx_cert_blob *certs, int n,
                     const zx_cert_blob *chain, int nchain, int check_crl, zx_cert_result *out,
                     const char **err)
{
    X509_STORE *store = store_get(extra_ca_file, err);
    if (!store) {
        for (int i = 0; i < n; i++) {
            out[i].status = ZX_CERT_SERVER_ERROR;
            out[i].detail = *err;
            out[i].fetches = 0;
        }
        return -1;
    }
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int bad_chain = !untrusted;
    for (int i = 0; i < nchain && !bad_chain; i++) {
        X509 *x = der_cert(&chain[i]);
        if (!x || !sk_X509_push(untrusted, x)) {
            X509_free(x);
            bad_chain = 1;
        }
    }
    call_ctx c = {p, ZX_CERT_MAX_FETCHES, time(NULL) + ZX_CERT_FETCH_BUDGET_S, check_crl, store};
    for (int i = 0; i < n; i++) {
        if (bad_chain) {
            out[i].status = ZX_CERT_BAD_CHAIN;
            out[i].detail = "a CertificateChain element is not a base64 DER certificate";
            out[i].fetches = 0;
            continue;
        }
        validate_one(&c, store, untrusted, &certs[i], check_crl, &out[i]);
    }
    sk_X509_pop_free(untrusted, X509_free);
    X509_STORE_free(store);
    ERR_clear_error();
    return 0;
}
