/* zxmobile - X.509 certificate validation for ValidateCert ([MS-ASCMD] 2.2.1.22): libzxsync/cert/
 * (level 2), OpenSSL's libcrypto.
 *
 * Each certificate (DER) is verified against the trust store - the system's (OpenSSL's default
 * paths: /etc/ssl/certs on Debian, the ca-certificates package) plus an optional PEM file of
 * extra CAs (ZxMobileValidateCertCAFile) - with the request's intermediates as untrusted
 * helpers: signatures, validity dates, CA roles, S/MIME use.  The revocation of every
 * certificate of the verified chain below its anchor is checked, in this order:
 *   1. OCSP (RFC 6960), when the certificate names an http:// responder in its Authority
 *      Information Access: a request with a nonce, the answer verified against the same trust
 *      store (signed by the issuer or a responder it delegated, the nonce echoed, thisUpdate /
 *      nextUpdate current within ZX_CERT_OCSP_SKEW_S).  good or revoked decides;
 *   2. the CRL of its CRL distribution points (http:// only), when it has no OCSP responder or
 *      the responder gave no usable answer (unreachable, an error, unknown, a bad signature);
 *   3. otherwise the OCSP failure stands: 14 when the responder could not be reached, 16 when
 *      its answer was unusable; 16 when the certificate names neither.
 * With CheckCRL the responders are asked and the CRLs downloaded (a timeout and a size limit,
 * at most a few per call, OCSP and CRL together) and an unverifiable status is reported;
 * without it only what the process holds is read (a good OCSP answer until its nextUpdate, a
 * CRL kept a short while after a download) and an unverifiable status is ignored ([MS-ASCMD]
 * 2.2.3.26).  Only the URLs of a certificate whose chain already verified are fetched: a URL a
 * trusted CA signed, never one a client made up.
 */
#ifndef ZXSYNC_CERT_H
#define ZXSYNC_CERT_H

#include <apr_pools.h>

/* The per-certificate Status of ValidateCert, [MS-ASCMD] 2.2.3.177.18 (value 1 and 17 are
 * also the values of the top-level Status; 2 is the request's protocol error). */
typedef enum {
    ZX_CERT_OK = 1,                     /* success */
    ZX_CERT_PROTOCOL_ERROR = 2,         /* protocol error (the request) */
    ZX_CERT_BAD_SIGNATURE = 3,          /* the signature in the digital ID cannot be validated */
    ZX_CERT_UNTRUSTED = 4,              /* issued by an untrusted source */
    ZX_CERT_BAD_CHAIN = 5,              /* the chain was not created correctly (malformed) */
    ZX_CERT_NOT_FOR_EMAIL = 6,          /* not valid for signing email messages */
    ZX_CERT_EXPIRED = 7,                /* expired or not yet valid */
    ZX_CERT_TIME_NESTING = 8,           /* validity periods of the chain inconsistent */
    ZX_CERT_MISUSED = 9,                /* a digital ID in the chain used incorrectly */
    ZX_CERT_BAD_INFO = 10,              /* information missing or incorrect */
    ZX_CERT_CHAIN_ROLE = 11,            /* end-entity / CA used in the wrong role in the chain */
    ZX_CERT_ADDRESS_MISMATCH = 12,      /* does not match the e-mail address */
    ZX_CERT_REVOKED = 13,               /* the digital ID has been revoked */
    ZX_CERT_REVOCATION_OFFLINE = 14,    /* the revocation server cannot be contacted */
    ZX_CERT_CHAIN_REVOKED = 15,         /* a digital ID in the chain has been revoked */
    ZX_CERT_REVOCATION_UNKNOWN = 16,    /* revocation status cannot be determined */
    ZX_CERT_SERVER_ERROR = 17           /* unknown server error */
} zx_cert_status;

/* Bounds of one call (zx_cert_validate): what a client can make the server spend. */
#define ZX_CERT_MAX_CERTS 16            /* Certificate elements in Certificates */
#define ZX_CERT_MAX_CHAIN 16            /* Certificate elements in CertificateChain */
#define ZX_CERT_MAX_B64 (32u * 1024u)   /* base64 characters of one Certificate */
#define ZX_CERT_FETCH_TIMEOUT_S 3       /* one CRL download or OCSP request, seconds (connect and
                                           transfer) */
#define ZX_CERT_MAX_FETCHES 4           /* CRL downloads and OCSP requests of one call */
#define ZX_CERT_FETCH_BUDGET_S 8        /* all of them of one call, seconds */
#define ZX_CERT_MAX_CRL (4u * 1024u * 1024u)  /* bytes of one CRL */
#define ZX_CERT_CRL_CACHE 32            /* CRLs a process keeps */
#define ZX_CERT_CRL_CACHE_S 600         /* how long (at most until the CRL's nextUpdate) */
#define ZX_CERT_CRL_DOWN_S 30           /* a download that failed is not tried again before */
#define ZX_CERT_MAX_OCSP (64u * 1024u)  /* bytes of one OCSP response */
#define ZX_CERT_OCSP_CACHE 32           /* good OCSP answers (and responders down) a process keeps */
#define ZX_CERT_OCSP_CACHE_S 600        /* how long (at most until the answer's nextUpdate) */
#define ZX_CERT_OCSP_SKEW_S 300         /* clock skew allowed on thisUpdate / nextUpdate */

typedef struct {
    const unsigned char *der;   /* NULL: the element was not valid base64 */
    apr_size_t len;
} zx_cert_blob;

typedef struct {
    zx_cert_status status;
    const char *detail;         /* why, for the log (OpenSSL's reason, the CRL URL), or NULL */
    int fetches;                /* CRL downloads and OCSP requests this certificate cost */
} zx_cert_result;

/* Strict base64 (RFC 4648 alphabet, '=' padding; CR, LF, space and tab skipped) -> bytes.
 * Returns -1 for anything else or an empty result. */
int zx_cert_b64_decode(apr_pool_t *p, const char *text, const unsigned char **out,
                       apr_size_t *len);

/* Validate certs[0..n) with chain[0..nchain) as intermediates; out[i] is certs[i]'s result.
 * extra_ca_file: PEM CAs trusted besides the system store (NULL: none); check_crl: CheckCRL
 * (1: ask the OCSP responders, download the CRLs and report 14/16; 0: the process's OCSP
 * answers and CRLs only, 14/16 ignored).
 * A chain element that did not decode (der NULL) makes every certificate ZX_CERT_BAD_CHAIN.
 * Returns 0, or -1 and *err when the trust store cannot be built (every out[] is then
 * ZX_CERT_SERVER_ERROR).  Thread-safe; blocks at most ZX_CERT_FETCH_BUDGET_S (+ one timeout)
 * on downloads. */
int zx_cert_validate(apr_pool_t *p, const char *extra_ca_file, const zx_cert_blob *certs, int n,
                     const zx_cert_blob *chain, int nchain, int check_crl, zx_cert_result *out,
                     const char **err);

/* Forget the process's CRLs and OCSP answers, and which URLs failed (tests). */
void zx_cert_crl_cache_clear(void);

#endif
