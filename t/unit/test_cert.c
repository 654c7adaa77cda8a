/* zxmobile - unit tests of the certificate validation of ValidateCert (libzxsync/cert/,
 * zxsync/cert.h): the strict base64 reader, and zx_cert_validate on certificates made here with
 * OpenSSL (a root written to a CA file, leaves signed by it, a self-signed stranger), with
 * revocation checks that need no network (no distribution point; a refused connection), a
 * CRL served on loopback, and a real `openssl ocsp` responder started here on loopback (an
 * index.txt with a good and a revoked certificate).  Check printing TAP. */
#include <zxsync/cert.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <time.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap_run.h"

static apr_pool_t *g_pool;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&g_pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(g_pool);
    g_pool = NULL;
}

/* ---- base64 ------------------------------------------------------------------------------ */

static const char *b64(const char *in, apr_size_t *len)
{
    const unsigned char *out = NULL;
    if (zx_cert_b64_decode(g_pool, in, &out, len) < 0)
        return NULL;
    return apr_pstrndup(g_pool, (const char *)out, *len);
}

START_TEST(test_base64_is_strict)
{
    apr_size_t n = 0;
    ck_assert_str_eq(b64("eA==", &n), "x");
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(b64("eHk=", &n), "xy");
    ck_assert_str_eq(b64("eHl6", &n), "xyz");
    ck_assert_str_eq(b64(" eH\r\nl6\t", &n), "xyz");     /* white space is skipped */
    ck_assert_ptr_null(b64("eA", &n));                   /* not whole quads */
    ck_assert_ptr_null(b64("eA=x", &n));                 /* data after the padding */
    ck_assert_ptr_null(b64("eB==", &n));                 /* bits left over */
    ck_assert_ptr_null(b64("e===", &n));
    ck_assert_ptr_null(b64("====", &n));
    ck_assert_ptr_null(b64("", &n));
    ck_assert_ptr_null(b64(NULL, &n));
    ck_assert_ptr_null(b64("%%%%", &n));
    ck_assert_ptr_null(b64("eA-_", &n));                 /* not the URL alphabet */
}
END_TEST

/* ---- certificates made here ----------------------------------------------------------------- */

typedef struct {
    X509 *cert;
    EVP_PKEY *key;
} made;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ck_assert_ptr_nonnull(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
}

/* A certificate of cn, signed by issuer (NULL: self-signed); valid from `from` to `to` days
 * from now; a CA or an S/MIME leaf; crl: its CRL distribution point or NULL; ocsp: its OCSP
 * responder (Authority Information Access) or NULL. */
static made make_aia(const char *cn, const made *issuer, long from, long to, int ca,
                     const char *crl, const char *ocsp)
{
    static long serial = 1;
    made m;
    m.key = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(m.key);
    m.cert = X509_new();
    X509_set_version(m.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(m.cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(m.cert), from * 86400);
    X509_gmtime_adj(X509_getm_notAfter(m.cert), to * 86400);
    X509_NAME *name = X509_get_subject_name(m.cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(m.cert, issuer ? X509_get_subject_name(issuer->cert) : name);
    X509_set_pubkey(m.cert, m.key);
    X509 *iss = issuer ? issuer->cert : m.cert;
    if (ca) {
        add_ext(m.cert, iss, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(m.cert, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    else {
        add_ext(m.cert, iss, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(m.cert, iss, NID_key_usage, "critical,digitalSignature,keyEncipherment");
        add_ext(m.cert, iss, NID_ext_key_usage, "emailProtection");
    }
    if (crl)
        add_ext(m.cert, iss, NID_crl_distribution_points, apr_pstrcat(g_pool, "URI:", crl, NULL));
    if (ocsp)
        add_ext(m.cert, iss, NID_info_access, apr_pstrcat(g_pool, "OCSP;URI:", ocsp, NULL));
    ck_assert_int_gt(X509_sign(m.cert, issuer ? issuer->key : m.key, EVP_sha256()), 0);
    return m;
}

static made make(const char *cn, const made *issuer, long from, long to, int ca, const char *crl)
{
    return make_aia(cn, issuer, from, to, ca, crl, NULL);
}

static void unmake(made *m)
{
    X509_free(m->cert);
    EVP_PKEY_free(m->key);
}

static zx_cert_blob blob(const made *m)
{
    zx_cert_blob b = {NULL, 0};
    unsigned char *der = NULL;
    int n = i2d_X509(m->cert, &der);
    ck_assert_int_gt(n, 0);
    b.der = apr_pmemdup(g_pool, der, (apr_size_t)n);
    b.len = (apr_size_t)n;
    OPENSSL_free(der);
    return b;
}

/* The root written to a PEM file of its own (the ZxMobileValidateCertCAFile). */
static const char *ca_file(const made *root)
{
    char *path = apr_psprintf(g_pool, "%s/zxcert-%ld-%d.pem",
                              getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid(),
                              rand());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_X509(f, root->cert), 1);
    fclose(f);
    return path;
}

static zx_cert_status one(const char *cafile, const zx_cert_blob *cert, const zx_cert_blob *chain,
                          int nchain, int check_crl)
{
    zx_cert_result r;
    const char *err = NULL;
    ck_assert_int_eq(zx_cert_validate(g_pool, cafile, cert, 1, chain, nchain, check_crl, &r,
                                      &err), 0);
    return r.status;
}

START_TEST(test_validate)
{
    made root = make("zx unit root", NULL, -1, 3650, 1, NULL);
    made inter = make("zx unit inter", &root, -1, 3650, 1, NULL);
    made good = make("good@example.com", &inter, -1, 365, 0, NULL);
    made expired = make("old@example.com", &inter, -400, -30, 0, NULL);
    made future = make("soon@example.com", &inter, 30, 365, 0, NULL);
    made stranger = make("stranger@example.com", NULL, -1, 365, 0, NULL);
    made down = make("down@example.com", &inter, -1, 365, 0, "http://127.0.0.1:1/x.crl");
    const char *cafile = ca_file(&root);
    zx_cert_blob chain = blob(&inter), g = blob(&good);

    ck_assert_int_eq(one(cafile, &g, &chain, 1, 0), ZX_CERT_OK);
    /* without the CA file, or without the intermediate: no trusted chain */
    ck_assert_int_eq(one(NULL, &g, &chain, 1, 0), ZX_CERT_UNTRUSTED);
    ck_assert_int_eq(one(cafile, &g, NULL, 0, 0), ZX_CERT_UNTRUSTED);
    zx_cert_blob x = blob(&expired), f = blob(&future), s = blob(&stranger);
    ck_assert_int_eq(one(cafile, &x, &chain, 1, 0), ZX_CERT_EXPIRED);
    ck_assert_int_eq(one(cafile, &f, &chain, 1, 0), ZX_CERT_EXPIRED);
    ck_assert_int_eq(one(cafile, &s, &chain, 1, 0), ZX_CERT_UNTRUSTED);
    /* a CA is no S/MIME certificate */
    ck_assert_int_eq(one(cafile, &chain, NULL, 0, 0), ZX_CERT_NOT_FOR_EMAIL);

    /* revocation: no distribution point -> unknown; a refused download -> offline (and the
     * failed URL is not tried again for a while: same answer, no wait) */
    ck_assert_int_eq(one(cafile, &g, &chain, 1, 1), ZX_CERT_REVOCATION_UNKNOWN);
    zx_cert_blob d = blob(&down);
    ck_assert_int_eq(one(cafile, &d, &chain, 1, 1), ZX_CERT_REVOCATION_OFFLINE);
    ck_assert_int_eq(one(cafile, &d, &chain, 1, 1), ZX_CERT_REVOCATION_OFFLINE);
    ck_assert_int_eq(one(cafile, &d, &chain, 1, 0), ZX_CERT_OK);
    zx_cert_crl_cache_clear();

    /* malformed: not DER, trailing bytes, not base64; a chain element that is not DER */
    zx_cert_blob junk = {(const unsigned char *)"abc", 3}, none = {NULL, 0};
    unsigned char *longer = apr_palloc(g_pool, g.len + 1);
    memcpy(longer, g.der, g.len);
    longer[g.len] = 0;
    zx_cert_blob trailing = {longer, g.len + 1};
    ck_assert_int_eq(one(cafile, &junk, &chain, 1, 0), ZX_CERT_BAD_CHAIN);
    ck_assert_int_eq(one(cafile, &none, &chain, 1, 0), ZX_CERT_BAD_CHAIN);
    ck_assert_int_eq(one(cafile, &trailing, &chain, 1, 0), ZX_CERT_BAD_CHAIN);
    ck_assert_int_eq(one(cafile, &g, &junk, 1, 0), ZX_CERT_BAD_CHAIN);

    /* several at once: one result each, in order */
    zx_cert_blob many[3] = {g, s, x};
    zx_cert_result r[3];
    const char *err = NULL;
    ck_assert_int_eq(zx_cert_validate(g_pool, cafile, many, 3, &chain, 1, 0, r, &err), 0);
    ck_assert_int_eq(r[0].status, ZX_CERT_OK);
    ck_assert_int_eq(r[1].status, ZX_CERT_UNTRUSTED);
    ck_assert_int_eq(r[2].status, ZX_CERT_EXPIRED);
    ck_assert_ptr_nonnull(r[2].detail);

    /* a CA file that cannot be read: every certificate 17, and the reason */
    ck_assert_int_eq(zx_cert_validate(g_pool, "/nonexistent/ca.pem", many, 3, &chain, 1, 0, r,
                                      &err), -1);
    ck_assert_int_eq(r[0].status, ZX_CERT_SERVER_ERROR);
    ck_assert_int_eq(r[2].status, ZX_CERT_SERVER_ERROR);
    ck_assert_ptr_nonnull(strstr(err, "CA file"));

    unlink(cafile);
    made *all[] = {&root, &inter, &good, &expired, &future, &stranger, &down};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        unmake(all[i]);
}
END_TEST

/* A CRL of issuer listing `revoked` (NULL: none), current for a day; DER. */
static unsigned char *make_crl(const made *issuer, const made *revoked, int *len)
{
    X509_CRL *crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer->cert));
    ASN1_TIME *t = X509_gmtime_adj(NULL, -3600);
    X509_CRL_set1_lastUpdate(crl, t);
    X509_gmtime_adj(t, 86400);
    X509_CRL_set1_nextUpdate(crl, t);
    ASN1_TIME_free(t);
    if (revoked) {
        X509_REVOKED *r = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked->cert));
        ASN1_TIME *when = X509_gmtime_adj(NULL, -60);
        X509_REVOKED_set_revocationDate(r, when);
        ASN1_TIME_free(when);
        X509_CRL_add0_revoked(crl, r);
    }
    X509_CRL_sort(crl);
    ck_assert_int_gt(X509_CRL_sign(crl, issuer->key, EVP_sha256()), 0);
    unsigned char *der = NULL;
    *len = i2d_X509_CRL(crl, &der);
    X509_CRL_free(crl);
    return der;
}

/* A process answering every connection on 127.0.0.1:*port with body (HTTP/1.0). */
static pid_t serve(const unsigned char *body, int len, int *port)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(ls, 8), 0);
    ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);   /* a connection closed without a request (a probe) */
        for (;;) {
            int c = accept(ls, NULL, NULL);
            if (c < 0)
                _exit(0);
            char req[2048];
            ssize_t n = read(c, req, sizeof req);
            char head[128];
            int hl = snprintf(head, sizeof head, "HTTP/1.0 200 OK\r\nContent-Type: "
                              "application/pkix-crl\r\nContent-Length: %d\r\n\r\n", len);
            if (n > 0 && write(c, head, (size_t)hl) == hl && write(c, body, (size_t)len) == len)
                shutdown(c, SHUT_WR);
            close(c);
        }
    }
    close(ls);
    return pid;
}

START_TEST(test_revoked_by_a_downloaded_crl)
{
    made root = make("zx unit crl root", NULL, -1, 3650, 1, NULL);
    made placeholder = make("placeholder@example.com", &root, -1, 365, 0, NULL);
    int len = 0, port = 0;
    made revoked_first = make("revoked@example.com", &root, -1, 365, 0, NULL);
    unsigned char *der = make_crl(&root, &revoked_first, &len);
    pid_t pid = serve(der, len, &port);
    const char *url = apr_psprintf(g_pool, "http://127.0.0.1:%d/root.crl", port);
    made good = make("good@example.com", &root, -1, 365, 0, url);
    /* the revoked certificate again, with the distribution point (same serial) */
    made revoked = make("revoked@example.com", &root, -1, 365, 0, url);
    X509_set_serialNumber(revoked.cert, X509_get_serialNumber(revoked_first.cert));
    ck_assert_int_gt(X509_sign(revoked.cert, root.key, EVP_sha256()), 0);
    const char *cafile = ca_file(&root);
    zx_cert_blob g = blob(&good), r = blob(&revoked);
    zx_cert_crl_cache_clear();

    zx_cert_result res[2];
    const char *err = NULL;
    zx_cert_blob both[2] = {g, r};
    ck_assert_int_eq(zx_cert_validate(g_pool, cafile, both, 2, NULL, 0, 1, res, &err), 0);
    ck_assert_int_eq(res[0].status, ZX_CERT_OK);
    ck_assert_int_eq(res[1].status, ZX_CERT_REVOKED);
    ck_assert_int_eq(res[0].fetches + res[1].fetches, 1);     /* the second from the cache */
    /* without CheckCRL: the CRL the process holds is read (no download) */
    ck_assert_int_eq(zx_cert_validate(g_pool, cafile, both, 2, NULL, 0, 0, res, &err), 0);
    ck_assert_int_eq(res[0].status, ZX_CERT_OK);
    ck_assert_int_eq(res[1].status, ZX_CERT_REVOKED);
    ck_assert_int_eq(res[0].fetches + res[1].fetches, 0);
    /* the process keeps it: no download when the server is gone */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_assert_int_eq(zx_cert_validate(g_pool, cafile, both, 2, NULL, 0, 1, res, &err), 0);
    ck_assert_int_eq(res[0].status, ZX_CERT_OK);
    ck_assert_int_eq(res[1].status, ZX_CERT_REVOKED);
    ck_assert_int_eq(res[0].fetches + res[1].fetches, 0);
    /* forgotten: the server is down now; without CheckCRL that is ignored, and nothing is
     * downloaded */
    zx_cert_crl_cache_clear();
    ck_assert_int_eq(zx_cert_validate(g_pool, cafile, both, 2, NULL, 0, 0, res, &err), 0);
    ck_assert_int_eq(res[1].status, ZX_CERT_OK);
    ck_assert_int_eq(res[0].fetches + res[1].fetches, 0);
    ck_assert_int_eq(one(cafile, &r, NULL, 0, 1), ZX_CERT_REVOCATION_OFFLINE);
    zx_cert_crl_cache_clear();

    OPENSSL_free(der);
    unlink(cafile);
    made *all[] = {&root, &placeholder, &revoked_first, &good, &revoked};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        unmake(all[i]);
}
END_TEST

/* ---- OCSP: a real `openssl ocsp` responder ---------------------------------------------------- */

static const char *tmp_path(const char *name)
{
    return apr_psprintf(g_pool, "%s/zxocsp-%ld-%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
                        (long)getpid(), name);
}

static const char *write_pem(const char *name, X509 *cert, EVP_PKEY *key)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    if (cert)
        ck_assert_int_eq(PEM_write_X509(f, cert), 1);
    if (key)
        ck_assert_int_eq(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    return path;
}

/* One line of an `openssl ca` index.txt: V (valid) or R (revoked a minute ago). */
static void index_line(FILE *f, const made *m, int revoked)
{
    char expiry[20], when[20];     /* UTCTime: the year's last two digits (from expiry + 2) */
    time_t t = time(NULL) + 365 * 86400, r = time(NULL) - 60;
    strftime(expiry, sizeof expiry, "%Y%m%d%H%M%SZ", gmtime(&t));
    strftime(when, sizeof when, "%Y%m%d%H%M%SZ", gmtime(&r));
    char *dn = X509_NAME_oneline(X509_get_subject_name(m->cert), NULL, 0);
    fprintf(f, "%s\t%s\t%s\t%02lX\tunknown\t%s\n", revoked ? "R" : "V", expiry + 2,
            revoked ? when + 2 : "", ASN1_INTEGER_get(X509_get0_serialNumber(m->cert)), dn);
    OPENSSL_free(dn);
}

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &al), 0);
    close(s);
    return ntohs(a.sin_port);
}

/* `openssl ocsp` answering for the CA ca_pem from index, signing with signer (cert and key in
 * one PEM file), on 127.0.0.1:*port (0: a free one, set); returns once it accepts connections. */
static pid_t responder(const char *index, const char *ca_pem, const char *signer, int *port)
{
    if (!*port)
        *port = free_port();
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", *port);
    /* its output to a file: "ACCEPT" says it listens (a connection closed without a request
     * would keep `openssl ocsp` 3.0 busy: no probe) */
    const char *log = tmp_path(apr_psprintf(g_pool, "ocsp-%s.log", portstr));
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(null, 0);
        dup2(out, 1);
        dup2(out, 2);
        execlp("openssl", "openssl", "ocsp", "-index", index, "-CA", ca_pem, "-rsigner", signer,
               "-rkey", signer, "-port", portstr, "-nmin", "5", "-ignore_err", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {     /* up to 10 s */
        char buf[512] = "";
        FILE *f = fopen(log, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = 0;
        if (strstr(buf, "ACCEPT")) {
            unlink(log);
            return pid;
        }
        ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0);     /* still running */
        usleep(100000);
    }
    ck_abort_msg("openssl ocsp did not start on port %d", *port);
    return pid;
}

static void stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static zx_cert_status one_f(const char *cafile, const zx_cert_blob *cert, int check_crl,
                            int *fetches)
{
    zx_cert_result r;
    const char *err = NULL;
    ck_assert_int_eq(zx_cert_validate(g_pool, cafile, cert, 1, NULL, 0, check_crl, &r, &err),
                     0);
    *fetches = r.fetches;
    return r.status;
}

START_TEST(test_ocsp)
{
    made root = make("zx unit ocsp root", NULL, -1, 3650, 1, NULL);
    made stranger = make("zx unit ocsp stranger", NULL, -1, 3650, 1, NULL);
    made impostor = make("zx unit ocsp root", NULL, -1, 3650, 1, NULL);  /* the root's name */
    int port = 0, port_bad = 0, port_fake = 0, port_down = free_port(), crl_port = 0, len = 0;
    /* the real responder (signs as the root), one signing with a stranger's key (an unknown
     * responder), one with a key under the root's name (a signature that does not verify) */
    const char *rootpem = write_pem("root.pem", root.cert, NULL);
    const char *signer = write_pem("signer.pem", root.cert, root.key);
    const char *bad = write_pem("stranger.pem", stranger.cert, stranger.key);
    const char *fake = write_pem("impostor.pem", impostor.cert, impostor.key);
    const char *index = tmp_path("index.txt");
    /* ports first: the URLs are in the certificates the index lists */
    port = free_port();
    const char *url = apr_psprintf(g_pool, "http://127.0.0.1:%d/", port);
    made good = make_aia("good@example.com", &root, -1, 365, 0, NULL, url);
    made revoked = make_aia("revoked@example.com", &root, -1, 365, 0, NULL, url);
    made unknown = make_aia("unknown@example.com", &root, -1, 365, 0, NULL, url);
    FILE *f = fopen(index, "w");
    ck_assert_ptr_nonnull(f);
    index_line(f, &good, 0);
    index_line(f, &revoked, 1);
    fclose(f);
    pid_t pid = responder(index, rootpem, signer, &port);
    ck_assert_str_eq(url, apr_psprintf(g_pool, "http://127.0.0.1:%d/", port));
    pid_t pid_bad = responder(index, rootpem, bad, &port_bad);
    pid_t pid_fake = responder(index, rootpem, fake, &port_fake);
    /* the same good certificate (serial) behind the other responders */
    made via_bad = make_aia("good@example.com", &root, -1, 365, 0, NULL,
                            apr_psprintf(g_pool, "http://127.0.0.1:%d/", port_bad));
    made via_fake = make_aia("good@example.com", &root, -1, 365, 0, NULL,
                             apr_psprintf(g_pool, "http://127.0.0.1:%d/", port_fake));
    made via_down = make_aia("revoked@example.com", &root, -1, 365, 0, NULL,
                             apr_psprintf(g_pool, "http://127.0.0.1:%d/", port_down));
    X509_set_serialNumber(via_bad.cert, X509_get_serialNumber(good.cert));
    X509_set_serialNumber(via_fake.cert, X509_get_serialNumber(good.cert));
    X509_set_serialNumber(via_down.cert, X509_get_serialNumber(revoked.cert));
    ck_assert_int_gt(X509_sign(via_bad.cert, root.key, EVP_sha256()), 0);
    ck_assert_int_gt(X509_sign(via_fake.cert, root.key, EVP_sha256()), 0);
    ck_assert_int_gt(X509_sign(via_down.cert, root.key, EVP_sha256()), 0);
    /* responder down, with a CRL (that lists it revoked) to fall back on */
    unsigned char *crl = make_crl(&root, &revoked, &len);
    pid_t pid_crl = serve(crl, len, &crl_port);
    made down_crl = make_aia("revoked@example.com", &root, -1, 365, 0,
                             apr_psprintf(g_pool, "http://127.0.0.1:%d/root.crl", crl_port),
                             apr_psprintf(g_pool, "http://127.0.0.1:%d/", port_down));
    X509_set_serialNumber(down_crl.cert, X509_get_serialNumber(revoked.cert));
    ck_assert_int_gt(X509_sign(down_crl.cert, root.key, EVP_sha256()), 0);
    const char *cafile = ca_file(&root);
    zx_cert_blob g = blob(&good), r = blob(&revoked), u = blob(&unknown), vb = blob(&via_bad),
                 vf = blob(&via_fake), vd = blob(&via_down), dc = blob(&down_crl);
    int n = 0;
    zx_cert_crl_cache_clear();

    /* good: one request; then held (nextUpdate in 5 minutes): none */
    ck_assert_int_eq(one_f(cafile, &g, 1, &n), ZX_CERT_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(one_f(cafile, &g, 1, &n), ZX_CERT_OK);
    ck_assert_int_eq(n, 0);
    /* revoked: the CRL path's status; not held, so without CheckCRL nothing says so */
    ck_assert_int_eq(one_f(cafile, &r, 1, &n), ZX_CERT_REVOKED);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(one_f(cafile, &r, 1, &n), ZX_CERT_REVOKED);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(one_f(cafile, &r, 0, &n), ZX_CERT_OK);
    ck_assert_int_eq(n, 0);
    /* not in the index: the responder answers unknown; no CRL to fall back on */
    ck_assert_int_eq(one_f(cafile, &u, 1, &n), ZX_CERT_REVOCATION_UNKNOWN);
    /* an answer signed by a responder the issuer did not delegate, or whose signature does not
     * verify: not taken */
    ck_assert_int_eq(one_f(cafile, &vb, 1, &n), ZX_CERT_REVOCATION_UNKNOWN);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(one_f(cafile, &vf, 1, &n), ZX_CERT_REVOCATION_UNKNOWN);
    ck_assert_int_eq(n, 1);
    /* responder down: the CRL path's "cannot be contacted"; remembered (no new attempt) */
    ck_assert_int_eq(one_f(cafile, &vd, 1, &n), ZX_CERT_REVOCATION_OFFLINE);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(one_f(cafile, &vd, 1, &n), ZX_CERT_REVOCATION_OFFLINE);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(one_f(cafile, &vd, 0, &n), ZX_CERT_OK);
    /* responder down, a CRL distribution point: the CRL decides */
    ck_assert_int_eq(one_f(cafile, &dc, 1, &n), ZX_CERT_REVOKED);
    ck_assert_int_eq(n, 1);         /* the responder is remembered down: the CRL only */
    zx_cert_crl_cache_clear();
    ck_assert_int_eq(one_f(cafile, &dc, 1, &n), ZX_CERT_REVOKED);
    ck_assert_int_eq(n, 2);
    /* the good answer is held past the responder's end, forgotten with the cache */
    ck_assert_int_eq(one_f(cafile, &g, 1, &n), ZX_CERT_OK);
    ck_assert_int_eq(n, 1);
    stop(pid);
    ck_assert_int_eq(one_f(cafile, &g, 1, &n), ZX_CERT_OK);
    ck_assert_int_eq(n, 0);
    zx_cert_crl_cache_clear();
    ck_assert_int_eq(one_f(cafile, &g, 1, &n), ZX_CERT_REVOCATION_OFFLINE);
    ck_assert_int_eq(n, 1);
    zx_cert_crl_cache_clear();

    stop(pid_bad);
    stop(pid_fake);
    kill(pid_crl, SIGKILL);
    waitpid(pid_crl, NULL, 0);
    OPENSSL_free(crl);
    const char *files[] = {rootpem, signer, bad, fake, index, cafile};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(files[i]);
    made *all[] = {&root, &stranger, &impostor, &good, &revoked, &unknown, &via_bad, &via_fake,
                   &via_down, &down_crl};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        unmake(all[i]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cert");
    TCase *tc = tcase_create("cert");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_base64_is_strict);
    tcase_add_test(tc, test_validate);
    tcase_add_test(tc, test_revoked_by_a_downloaded_crl);
    tcase_add_test(tc, test_ocsp);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    apr_initialize();
    return zx_run_tap(suite());
}
