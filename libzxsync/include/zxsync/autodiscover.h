/* zxmobile - Autodiscover (spec 6; [MS-ASCMD] 2.2.1.1, Autodiscover v2).
 *
 * Two forms:
 *  - POST /autodiscover/autodiscover.xml (any case of the path): the mobilesync request schema
 *    answered with the mobilesync response schema.  Authenticated with the EAS rules (spec 2.1:
 *    a mobile password works), and only for the authenticated account's own address.
 *  - GET /autodiscover/autodiscover.json?Email=...&Protocol=ActiveSync (also
 *    /autodiscover/autodiscover.json/v1.0/<address>?Protocol=...), the form current Outlook
 *    apps use first.  Anonymous, as Exchange answers it: it tells only the URL of a service for
 *    a domain this server serves, never whether an account exists.
 *
 * The URL is the domain's public service URL (zimbraPublicServiceHostname, ...Protocol,
 * ...Port; domain over global), else ZxMobilePublicURL, else the URL the request came to.
 * The host (mod_zxmobile) fills a zx_request (method, Authorization, Content-Type, body) and
 * a zx_autodiscover_ctx; the answer comes back as a zx_response like the EAS pipeline's.
 */
#ifndef ZXSYNC_AUTODISCOVER_H
#define ZXSYNC_AUTODISCOVER_H

#include <zxsync/server.h>

#define ZX_AD_REQUEST_SCHEMA \
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"
#define ZX_AD_RESPONSE_SCHEMA \
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
#define ZX_AD_ENVELOPE_SCHEMA \
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"

/* Largest Autodiscover request body accepted (a real one is a few hundred bytes). */
#define ZX_AD_MAX_BODY 65536u

typedef enum {
    ZX_AD_NONE = 0,     /* not an Autodiscover URL */
    ZX_AD_XML,          /* /autodiscover/autodiscover.xml */
    ZX_AD_JSON          /* /autodiscover/autodiscover.json[/...] */
} zx_ad_kind;

/* Which Autodiscover URL path is (case-insensitive).  For ZX_AD_JSON, *rest (optional) gets
 * what follows "autodiscover.json" ("" or "/v1.0/user@example.com"). */
zx_ad_kind zx_autodiscover_path(const char *path, const char **rest);

typedef struct {
    const char *request_base;   /* scheme://host[:port] the request came to (last fallback) */
    const char *endpoint;       /* path of the EAS endpoint, e.g. /Microsoft-Server-ActiveSync */
    const char *query;          /* JSON form: the query string (undecoded), may be NULL */
    const char *path_rest;      /* JSON form: what zx_autodiscover_path left in *rest */
} zx_autodiscover_ctx;

/* Call once per process before the first request (initialises libxml2). */
void zx_autodiscover_init(void);

/* Answer an Autodiscover request of either kind.  Always fills resp; the refusals are logged
 * with their reason (ZX013nn) through req->log_ctx. */
void zx_autodiscover(const zx_server *srv, zx_request *req, zx_ad_kind kind,
                     const zx_autodiscover_ctx *ctx, zx_response *resp);

/* The EAS URL for a domain (by id; NULL = global settings only): zimbraPublicServiceHostname
 * with ...Protocol and ...Port, else fallback_base (ZxMobilePublicURL or the request's own
 * base URL) + endpoint.  A default port (80 for http, 443 for https) is left out.  NULL and
 * *err on a database error. */
const char *zx_autodiscover_service_url(apr_pool_t *p, zx_db *db, const char *domain_id,
                                        const char *fallback_base, const char *path,
                                        const char **err);

#endif
