/* zxmobile - ValidateCert ([MS-ASCMD] 2.2.1.22).
 *
 * Request:  ValidateCert > CertificateChain? > Certificate*   (intermediates, base64 DER)
 *                        > Certificates > Certificate+        (the certificates to validate)
 *                        > CheckCRL? (0 | 1, default 0)
 * Response: ValidateCert > Status (1 the request was processed, 2 protocol error, 17 server
 *           error), then one Certificate > Status per requested certificate, in request order
 *           (values of [MS-ASCMD] 2.2.3.177.18, zxsync/cert.h).
 *
 * The verification is libzxsync/cert/ (zxsync/cert.h): the system trust store plus the
 * ZxMobileValidateCertCAFile, the request's chain as intermediates, the revocation of the
 * chain by OCSP first (the certificate's http:// responder), then by the CRLs of its
 * distribution points when it has no responder or the responder gave no usable answer (asked
 * and downloaded with CheckCRL 1, the process's own good answers and CRLs otherwise).  A
 * request over the bounds of cert.h (number of certificates, size of one) is refused whole
 * with Status 2; a Certificate that is not base64 DER gets Status 5.
 */
#include "handlers.h"

#include <zxsync/cert.h>
#include <zxsync/log.h>

#include <apr_strings.h>

#include <string.h>

/* The Certificate children of parent (NULL: none) into blobs; -1 when there are more than max
 * or one is longer than ZX_CERT_MAX_B64, with *why. */
static int collect(apr_pool_t *p, const zx_wb_node *parent, int max, zx_cert_blob **out, int *n,
                   const char **why)
{
    *n = 0;
    *out = NULL;
    if (!parent)
        return 0;
    int count = 0;
    for (const zx_wb_node *c = zx_wb_child(parent, ZX_ValidateCert_Certificate); c;
         c = zx_wb_next(c, ZX_ValidateCert_Certificate))
        if (++count > max) {
            *why = apr_psprintf(p, "more than %d Certificate elements in %s", max,
                                zx_wb_tag_name(parent->tag));
            return -1;
        }
    *out = apr_pcalloc(p, sizeof **out * (apr_size_t)(count ? count : 1));
    for (const zx_wb_node *c = zx_wb_child(parent, ZX_ValidateCert_Certificate); c;
         c = zx_wb_next(c, ZX_ValidateCert_Certificate)) {
        const char *text = zx_wb_text(p, c);
        if (text && strlen(text) > ZX_CERT_MAX_B64) {
            *why = apr_psprintf(p, "a Certificate of %lu characters (at most %u)",
                                (unsigned long)strlen(text), ZX_CERT_MAX_B64);
            return -1;
        }
        zx_cert_blob *b = &(*out)[(*n)++];
        if (zx_cert_b64_decode(p, text, &b->der, &b->len) < 0) {
            b->der = NULL;
            b->len = 0;
        }
    }
    return 0;
}

static void respond(zx_request *req, zx_response *resp, int status, const zx_cert_result *res,
                    int n, zx_log_level level, const char *reason)
{
    apr_pool_t *p = req->pool;
    zx_wb_node *root = zx_wb_new(p, ZX_ValidateCert_ValidateCert);
    zx_wb_add_textf(p, root, ZX_ValidateCert_Status, "%d", status);
    for (int i = 0; i < n; i++)
        zx_wb_add_textf(p, zx_wb_add(p, root, ZX_ValidateCert_Certificate),
                        ZX_ValidateCert_Status, "%d", (int)res[i].status);
    zx_respond_wbxml(req, resp, root);
    resp->reason = reason;
    resp->reason_level = level;
}

void zx_cmd_validatecert(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const char *why = NULL;
    const zx_wb_node *doc = req->doc;
    const zx_wb_node *certs_el = doc ? zx_wb_child(doc, ZX_ValidateCert_Certificates) : NULL;
    const zx_wb_node *chain_el = doc ? zx_wb_child(doc, ZX_ValidateCert_CertificateChain) : NULL;
    const char *crl = doc ? zx_wb_child_text(p, doc, ZX_ValidateCert_CheckCRL) : NULL;
    if (!certs_el || !zx_wb_child(certs_el, ZX_ValidateCert_Certificate)) {
        respond(req, resp, ZX_CERT_PROTOCOL_ERROR, NULL, 0, ZX_LOG_INFO,
                ZXLOGNO(02600) "ValidateCert without a certificate to validate");
        return;
    }
    if (crl && strcmp(crl, "0") != 0 && strcmp(crl, "1") != 0) {
        respond(req, resp, ZX_CERT_PROTOCOL_ERROR, NULL, 0, ZX_LOG_INFO,
                apr_psprintf(p, ZXLOGNO(02601) "ValidateCert: CheckCRL \"%s\" is not 0 or 1",
                             crl));
        return;
    }
    zx_cert_blob *certs, *chain;
    int n, nchain;
    if (collect(p, certs_el, ZX_CERT_MAX_CERTS, &certs, &n, &why) < 0 ||
        collect(p, chain_el, ZX_CERT_MAX_CHAIN, &chain, &nchain, &why) < 0) {
        respond(req, resp, ZX_CERT_PROTOCOL_ERROR, NULL, 0, ZX_LOG_NOTICE,
                apr_psprintf(p, ZXLOGNO(02602) "ValidateCert refused: %s", why));
        return;
    }
    int check_crl = crl && strcmp(crl, "1") == 0;
    zx_cert_result *res = apr_pcalloc(p, sizeof *res * (apr_size_t)n);
    const char *err = NULL;
    if (zx_cert_validate(p, srv->settings.cert_ca_file, certs, n, chain, nchain, check_crl, res,
                         &err) < 0) {
        respond(req, resp, ZX_CERT_SERVER_ERROR, NULL, 0, ZX_LOG_ERR,
                apr_psprintf(p, ZXLOGNO(02603) "ValidateCert: %s%s%s", err,
                             srv->settings.cert_ca_file ? " " : "",
                             srv->settings.cert_ca_file ? srv->settings.cert_ca_file : ""));
        return;
    }
    int fetches = 0;
    for (int i = 0; i < n; i++) {
        fetches += res[i].fetches;
        if (res[i].status != ZX_CERT_OK)
            zx_log(req->log_ctx, ZX_LOG_INFO,
                   ZXLOGNO(02604) "ValidateCert for %s: certificate %d status %d: %s",
                   req->account.name ? req->account.name : "-", i + 1, (int)res[i].status,
                   res[i].detail ? res[i].detail : "-");
    }
    if (fetches)
        zx_log(req->log_ctx, ZX_LOG_DEBUG, ZXLOGNO(02605)
               "ValidateCert for %s: %d CRL downloads and OCSP requests",
               req->account.name ? req->account.name : "-", fetches);
    respond(req, resp, ZX_CERT_OK, res, n, ZX_LOG_DEBUG, NULL);
}
