/* zxmobile - Autodiscover (spec 6; [MS-ASCMD] 2.2.1.1, 2.2.3 and 4.2; Autodiscover v2 JSON).
 *
 * The XML form answers, for the authenticated account's own address, the mobilesync response
 * schema with the EAS URL.  Its refusals, in the order they are checked:
 *   - the autodiscover (or module) service stopped: 503 with Retry-After;
 *   - credentials: as every EAS request (zx_authenticate_request: 401, 403, 503);
 *   - a method other than POST, an empty or malformed body, a DOCTYPE, a root element other
 *     than Autodiscover/Request, no EMailAddress: Response/Error with ErrorCode 600;
 *   - an AcceptableResponseSchema other than the mobilesync response schema: ErrorCode 601;
 *   - a request namespace other than the mobilesync request schema: ErrorCode 600;
 *   - an address that is not the authenticated account's (another account's or an unknown
 *     one alike, so nothing is learnt about other accounts): Action/Error with Status 2;
 *   - the directory failing after authentication: Action/Error with Status 2.
 * The error documents come with HTTP 200, as Exchange sends them ([MS-ASCMD] 4.2.2, 4.2.3).
 */
#include <zxsync/autodiscover.h>
#include <zxsync/config.h>
#include <zxsync/directory.h>
#include <zxsync/log.h>

#include <apr_escape.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <ctype.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#define AD_XML_PATH "/autodiscover/autodiscover.xml"
#define AD_JSON_PATH "/autodiscover/autodiscover.json"
#define AD_CULTURE "en:us"

void zx_autodiscover_init(void)
{
    xmlInitParser();
}

zx_ad_kind zx_autodiscover_path(const char *path, const char **rest)
{
    size_t nx = sizeof AD_XML_PATH - 1, nj = sizeof AD_JSON_PATH - 1;
    if (!path)
        return ZX_AD_NONE;
    if (strncasecmp(path, AD_XML_PATH, nx) == 0 && path[nx] == '\0')
        return ZX_AD_XML;
    if (strncasecmp(path, AD_JSON_PATH, nj) == 0 && (path[nj] == '\0' || path[nj] == '/')) {
        if (rest)
            *rest = path + nj;
        return ZX_AD_JSON;
    }
    return ZX_AD_NONE;
}

/* ---- URLs ------------------------------------------------------------------------------ */

typedef struct {
    const char *scheme;     /* "http" or "https" (lower case), NULL when not a URL */
    const char *host;       /* as written, [v6] with its brackets */
    unsigned port;          /* 0 = not given */
    const char *path;       /* "" or "/prefix" without a trailing slash */
} ad_url;

static unsigned default_port(const char *scheme)
{
    return strcmp(scheme, "https") == 0 ? 443 : 80;
}

/* Split "scheme://host[:port][/path]".  Returns 0, or -1 when it is not an http(s) URL. */
static int url_split(apr_pool_t *p, const char *url, ad_url *u)
{
    memset(u, 0, sizeof *u);
    if (!url)
        return -1;
    const char *hp;
    if (strncasecmp(url, "https://", 8) == 0) {
        u->scheme = "https";
        hp = url + 8;
    }
    else if (strncasecmp(url, "http://", 7) == 0) {
        u->scheme = "http";
        hp = url + 7;
    }
    else
        return -1;
    const char *slash = strchr(hp, '/');
    const char *end = slash ? slash : hp + strlen(hp);
    const char *close = hp[0] == '[' ? memchr(hp, ']', (size_t)(end - hp)) : NULL;
    const char *colon = NULL;
    for (const char *c = close ? close : hp; c < end; c++)
        if (*c == ':')
            colon = c;
    if (colon) {
        char *stop;
        unsigned long port = strtoul(colon + 1, &stop, 10);
        if (stop != end || colon + 1 == end || port == 0 || port > 65535)
            return -1;
        u->port = (unsigned)port;
    }
    const char *hend = colon ? colon : end;
    if (hend == hp)
        return -1;
    u->host = apr_pstrmemdup(p, hp, (apr_size_t)(hend - hp));
    apr_size_t plen = slash ? strlen(slash) : 0;
    while (plen > 0 && slash[plen - 1] == '/')
        plen--;
    u->path = plen ? apr_pstrmemdup(p, slash, plen) : "";
    return 0;
}

static const char *url_join(apr_pool_t *p, const char *scheme, const char *host, unsigned port,
                            const char *prefix, const char *path)
{
    if (port && port != default_port(scheme))
        return apr_psprintf(p, "%s://%s:%u%s%s", scheme, host, port, prefix, path);
    return apr_psprintf(p, "%s://%s%s%s", scheme, host, prefix, path);
}

const char *zx_autodiscover_service_url(apr_pool_t *p, zx_db *db, const char *domain_id,
                                        const char *fallback_base, const char *path,
                                        const char **err)
{
    zx_config_scope scope = {NULL, NULL, domain_id, NULL};
    const char *host = NULL, *proto = NULL;
    long long port = 0;
    if (zx_config_resolve(p, db, &scope, "zimbraPublicServiceHostname", &host, NULL, err) < 0)
        return NULL;
    ad_url fb;
    int have_fb = url_split(p, fallback_base, &fb) == 0;
    if (!host || !*host) {
        if (!have_fb) {
            *err = "no public URL: set zimbraPublicServiceHostname or ZxMobilePublicURL";
            return NULL;
        }
        return url_join(p, fb.scheme, fb.host, fb.port, fb.path, path);
    }
    if (zx_config_resolve(p, db, &scope, "zimbraPublicServiceProtocol", &proto, NULL, err) < 0 ||
        zx_config_resolve_int(p, db, &scope, "zimbraPublicServicePort", &port, err) < 0)
        return NULL;
    const char *scheme;
    if (proto && strcasecmp(proto, "https") == 0)
        scheme = "https";
    else if (proto && strcasecmp(proto, "http") == 0)
        scheme = "http";
    else
        scheme = have_fb ? fb.scheme : "https";   /* unset (or not http/https): the server's */
    unsigned uport = (unsigned)port;
    if (!uport && have_fb && strcmp(scheme, fb.scheme) == 0)
        uport = fb.port;                          /* the server's port, for the same scheme */
    return url_join(p, scheme, host, uport, "", path);
}

/* ---- XML answers ------------------------------------------------------------------------ */

typedef struct {
    xmlBufferPtr buf;
    xmlTextWriterPtr w;
    int bad;
} ad_writer;

static void w_open(ad_writer *x)
{
    x->bad = 0;
    x->buf = xmlBufferCreate();
    x->w = x->buf ? xmlNewTextWriterMemory(x->buf, 0) : NULL;
    if (!x->w) {
        x->bad = 1;
        return;
    }
    xmlTextWriterSetIndent(x->w, 1);
    xmlTextWriterSetIndentString(x->w, BAD_CAST "  ");
    if (xmlTextWriterStartDocument(x->w, "1.0", "utf-8", NULL) < 0 ||
        xmlTextWriterStartElement(x->w, BAD_CAST "Autodiscover") < 0 ||
        xmlTextWriterWriteAttribute(x->w, BAD_CAST "xmlns", BAD_CAST ZX_AD_ENVELOPE_SCHEMA) < 0 ||
        xmlTextWriterStartElement(x->w, BAD_CAST "Response") < 0 ||
        xmlTextWriterWriteAttribute(x->w, BAD_CAST "xmlns", BAD_CAST ZX_AD_RESPONSE_SCHEMA) < 0)
        x->bad = 1;
}

static void w_start(ad_writer *x, const char *name)
{
    if (!x->bad && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
        x->bad = 1;
}

static void w_end(ad_writer *x)
{
    if (!x->bad && xmlTextWriterEndElement(x->w) < 0)
        x->bad = 1;
}

static void w_attr(ad_writer *x, const char *name, const char *value)
{
    if (!x->bad && xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
        x->bad = 1;
}

/* <name>text</name>; an empty text gives <name/>. */
static void w_text(ad_writer *x, const char *name, const char *text)
{
    w_start(x, name);
    if (!x->bad && text && *text && xmlTextWriterWriteString(x->w, BAD_CAST text) < 0)
        x->bad = 1;
    w_end(x);
}

/* Close the document and answer it (HTTP 200, text/xml). */
static void w_finish(ad_writer *x, zx_request *req, zx_response *resp)
{
    if (!x->bad && xmlTextWriterEndDocument(x->w) < 0)
        x->bad = 1;
    if (x->w)
        xmlFreeTextWriter(x->w);   /* flushes into the buffer */
    if (!x->bad && x->buf) {
        apr_size_t len = (apr_size_t)xmlBufferLength(x->buf);
        resp->status = 200;
        resp->content_type = "text/xml; charset=utf-8";
        resp->body = (const unsigned char *)apr_pmemdup(req->pool, xmlBufferContent(x->buf), len);
        resp->body_len = len;
    }
    else {
        zx_respond_http(req, resp, 500, ZX_LOG_ERR,
                        ZXLOGNO(01300) "cannot write the Autodiscover response");
    }
    if (x->buf)
        xmlBufferFree(x->buf);
}

/* A 32-bit id of this server within its domain ([MS-ASCMD] 2.2.3.63 Error/@Id). */
static unsigned server_id(const zx_server *srv)
{
    const char *s = srv->server_name ? srv->server_name : "zxmobile";
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Response/Error with ErrorCode 600 (invalid request) or 601 (no provider for the requested
 * response schema), [MS-ASCMD] 2.2.3.63, 2.2.3.64. */
static void answer_error_code(const zx_server *srv, zx_request *req, zx_response *resp, int code,
                              const char *debug, const char *reason)
{
    apr_time_exp_t t;
    apr_time_exp_gmt(&t, apr_time_now());
    ad_writer x;
    w_open(&x);
    w_start(&x, "Error");
    w_attr(&x, "Time", apr_psprintf(req->pool, "%02d:%02d:%02d.%07d", t.tm_hour, t.tm_min,
                                    t.tm_sec, t.tm_usec * 10));
    w_attr(&x, "Id", apr_psprintf(req->pool, "%u", server_id(srv)));
    w_text(&x, "ErrorCode", apr_psprintf(req->pool, "%d", code));
    w_text(&x, "Message", code == 601 ? "Requested response schema not available"
                                      : "Invalid Request");
    w_text(&x, "DebugData", debug);
    w_end(&x);
    w_finish(&x, req, resp);
    if (resp->status == 200) {
        resp->reason = reason;
        resp->reason_level = ZX_LOG_INFO;
    }
}

/* Action/Error with Status 2, "protocol error" ([MS-ASCMD] 2.2.3.177.1, 4.2.2). */
static void answer_action_error(zx_request *req, zx_response *resp, const char *email,
                                const char *message, const char *debug, zx_log_level level,
                                const char *reason)
{
    ad_writer x;
    w_open(&x);
    w_text(&x, "Culture", AD_CULTURE);
    w_start(&x, "User");
    w_text(&x, "EMailAddress", email);
    w_end(&x);
    w_start(&x, "Action");
    w_start(&x, "Error");
    w_text(&x, "Status", "2");
    w_text(&x, "Message", message);
    w_text(&x, "DebugData", debug);
    w_end(&x);
    w_end(&x);
    w_finish(&x, req, resp);
    if (resp->status == 200) {
        resp->reason = reason;
        resp->reason_level = level;
    }
}

/* The settings: display name, address, the MobileSync server ([MS-ASCMD] 4.2.1). */
static void answer_settings(zx_request *req, zx_response *resp, const char *display_name,
                            const char *email, const char *url)
{
    ad_writer x;
    w_open(&x);
    w_text(&x, "Culture", AD_CULTURE);
    w_start(&x, "User");
    w_text(&x, "DisplayName", display_name);
    w_text(&x, "EMailAddress", email);
    w_end(&x);
    w_start(&x, "Action");
    w_start(&x, "Settings");
    w_start(&x, "Server");
    w_text(&x, "Type", "MobileSync");
    w_text(&x, "Url", url);
    w_text(&x, "Name", url);
    w_end(&x);
    w_end(&x);
    w_end(&x);
    w_finish(&x, req, resp);
}

/* ---- the XML request ------------------------------------------------------------------- */

static int name_is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static const char *ns_of(const xmlNode *n)
{
    return n->ns && n->ns->href ? (const char *)n->ns->href : "";
}

static const xmlNode *child(const xmlNode *parent, const char *name)
{
    for (const xmlNode *c = parent->children; c; c = c->next)
        if (name_is(c, name) && strcmp(ns_of(c), ns_of(parent)) == 0)
            return c;
    return NULL;
}

/* The trimmed text of an element, copied into p; NULL when the element is absent. */
static const char *text_of(apr_pool_t *p, const xmlNode *n)
{
    if (!n)
        return NULL;
    xmlChar *c = xmlNodeGetContent(n);
    if (!c)
        return "";
    const char *s = (const char *)c;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    while (len && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    const char *out = apr_pstrmemdup(p, s, len);
    xmlFree(c);
    return out;
}

typedef struct {
    const char *email;          /* EMailAddress, NULL when absent */
    const char *schema;         /* AcceptableResponseSchema, NULL when absent */
    const char *ns;             /* namespace of the root element */
} ad_xml_request;

/* Parse the body.  Returns NULL, or why it is not an Autodiscover request. */
static const char *parse_request(apr_pool_t *p, const unsigned char *body, apr_size_t len,
                                 ad_xml_request *out)
{
    memset(out, 0, sizeof *out);
    if (len > ZX_AD_MAX_BODY)
        return "body too large";
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return "out of memory";
    /* no network, no entity substitution, no DTD loading; errors stay out of stderr */
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, (const char *)body, (int)len, "autodiscover.xml",
                                      NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                      XML_PARSE_NOWARNING);
    const char *why = NULL;
    if (!doc) {
        xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
        char *msg = apr_pstrdup(p, e && e->message ? e->message : "parse error");
        for (size_t n = strlen(msg); n && isspace((unsigned char)msg[n - 1]); n--)
            msg[n - 1] = '\0';
        why = apr_psprintf(p, "malformed XML: %s", msg);
        xmlFreeParserCtxt(ctxt);
        return why;
    }
    xmlFreeParserCtxt(ctxt);
    const xmlNode *root = xmlDocGetRootElement(doc);
    const xmlNode *request = NULL;
    if (doc->intSubset || doc->extSubset)
        why = "a DOCTYPE is not allowed";
    else if (!name_is(root, "Autodiscover"))
        why = apr_psprintf(p, "root element is %s, not Autodiscover",
                           root ? (const char *)root->name : "missing");
    else if (!(request = child(root, "Request")))
        why = "no Request element";
    else {
        out->ns = apr_pstrdup(p, ns_of(root));
        out->email = text_of(p, child(request, "EMailAddress"));
        out->schema = text_of(p, child(request, "AcceptableResponseSchema"));
    }
    xmlFreeDoc(doc);
    return why;
}

static void autodiscover_xml(const zx_server *srv, zx_request *req,
                             const zx_autodiscover_ctx *ctx, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    if (zx_authenticate_request(srv, req, resp))
        return;
    if (req->method != ZX_METHOD_POST) {
        answer_error_code(srv, req, resp, 600, "the request must be a POST",
                          ZXLOGNO(01301) "Autodiscover request that is not a POST");
        return;
    }
    if (req->body_len == 0) {
        answer_error_code(srv, req, resp, 600, "empty request",
                          ZXLOGNO(01302) "Autodiscover request without a body");
        return;
    }
    ad_xml_request in;
    const char *why = parse_request(p, req->body, req->body_len, &in);
    if (why) {
        answer_error_code(srv, req, resp, 600, why,
                          apr_psprintf(p, ZXLOGNO(01303) "invalid Autodiscover request: %s", why));
        return;
    }
    if (in.schema && *in.schema && strcmp(in.schema, ZX_AD_RESPONSE_SCHEMA) != 0) {
        answer_error_code(srv, req, resp, 601, in.schema,
                          apr_psprintf(p, ZXLOGNO(01304) "Autodiscover response schema \"%s\" "
                                       "not available (only %s)", in.schema,
                                       ZX_AD_RESPONSE_SCHEMA));
        return;
    }
    if (strcmp(in.ns, ZX_AD_REQUEST_SCHEMA) != 0) {
        answer_error_code(srv, req, resp, 600, "wrong request namespace",
                          apr_psprintf(p, ZXLOGNO(01305) "Autodiscover request in namespace "
                                       "\"%s\", expected %s", in.ns, ZX_AD_REQUEST_SCHEMA));
        return;
    }
    if (!in.email || !*in.email) {
        answer_error_code(srv, req, resp, 600, "no EMailAddress",
                          ZXLOGNO(01306) "Autodiscover request without EMailAddress");
        return;
    }
    const char *email = zx_account_name_normalize(p, in.email, NULL, NULL);
    if (!email || strcmp(email, req->account.name) != 0) {
        answer_action_error(req, resp, in.email, "The e-mail address is not the authenticated "
                            "user's address", "UserMailbox", ZX_LOG_NOTICE,
                            apr_psprintf(p, ZXLOGNO(01307) "Autodiscover for \"%s\" refused: "
                                         "not the address of the authenticated account %s",
                                         in.email, req->account.name));
        return;
    }
    zx_db *db = zx_request_db(srv, req, &err);
    zx_account *acct = NULL;
    const char *url = NULL;
    int rc = db ? zx_dir_get_account(p, db, req->account.name, &acct, &err) : -1;
    if (rc == 1)
        url = zx_autodiscover_service_url(p, db, req->account.domain_id,
                                          srv->settings.public_url ? srv->settings.public_url
                                                                   : ctx->request_base,
                                          ctx->endpoint, &err);
    if (rc != 1 || !url) {
        if (rc == 0)
            err = "the account disappeared";
        answer_action_error(req, resp, in.email, "The directory service could not be reached",
                            "MailUser", ZX_LOG_ERR,
                            apr_psprintf(p, ZXLOGNO(01308) "Autodiscover for %s failed: %s",
                                         req->account.name, err ? err : "internal error"));
        return;
    }
    /* as the stock servlet: the display name, else the address's local part */
    const char *display = acct->display_name && *acct->display_name
                              ? acct->display_name
                              : apr_pstrndup(p, acct->name, strcspn(acct->name, "@"));
    answer_settings(req, resp, display, acct->name, url);
    if (resp->status == 200) {
        resp->reason = apr_psprintf(p, ZXLOGNO(01309) "Autodiscover for %s: %s", acct->name, url);
        resp->reason_level = ZX_LOG_DEBUG;
    }
}

/* ---- the v2 JSON form -------------------------------------------------------------------- */

/* A JSON string literal (quotes, backslashes and control characters escaped). */
static const char *json_str(apr_pool_t *p, const char *s)
{
    size_t n = strlen(s);
    char *out = apr_palloc(p, n * 6 + 3), *o = out;
    *o++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        }
        else if (c < 0x20) {
            apr_snprintf(o, 7, "\\u%04x", c);
            o += 6;
        }
        else
            *o++ = (char)c;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static void answer_json(zx_response *resp, int status, const char *json, zx_log_level level,
                        const char *reason)
{
    resp->status = status;
    resp->content_type = "application/json; charset=utf-8";
    resp->body = (const unsigned char *)json;
    resp->body_len = strlen(json);
    resp->reason = reason;
    resp->reason_level = level;
}

static void answer_json_error(zx_request *req, zx_response *resp, int status, const char *code,
                              const char *message, const char *reason)
{
    answer_json(resp, status,
                apr_psprintf(req->pool, "{\"ErrorCode\":%s,\"ErrorMessage\":%s}",
                             json_str(req->pool, code), json_str(req->pool, message)),
                ZX_LOG_INFO, reason);
}

/* Email and Protocol of the query (names case-insensitive, values percent-decoded). */
static int parse_json_query(apr_pool_t *p, const char *query, const char **email,
                            const char **protocol)
{
    if (!query)
        return 0;
    char *last = NULL;
    for (char *pair = apr_strtok(apr_pstrdup(p, query), "&", &last); pair;
         pair = apr_strtok(NULL, "&", &last)) {
        char *eq = strchr(pair, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *value = apr_punescape_url(p, eq + 1, NULL, NULL, 1);
        if (!value)
            return -1;
        if (strcasecmp(pair, "Email") == 0)
            *email = value;
        else if (strcasecmp(pair, "Protocol") == 0)
            *protocol = value;
    }
    return 0;
}

static void autodiscover_json(const zx_server *srv, zx_request *req,
                              const zx_autodiscover_ctx *ctx, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL, *email = NULL, *protocol = NULL;
    const char *rest = ctx->path_rest ? ctx->path_rest : "";
    if (req->method != ZX_METHOD_GET) {
        answer_json_error(req, resp, 405, "InvalidRequest", "Only GET is supported",
                          ZXLOGNO(01310) "Autodiscover v2 request that is not a GET");
        apr_table_setn(resp->headers, "Allow", "GET");
        return;
    }
    if (parse_json_query(p, ctx->query, &email, &protocol) < 0) {
        answer_json_error(req, resp, 400, "InvalidRequest", "The query string is malformed",
                          ZXLOGNO(01311) "Autodiscover v2 request with a malformed query");
        return;
    }
    /* /autodiscover/autodiscover.json/v1.0/<address>?Protocol=... */
    if (strncasecmp(rest, "/v1.0/", 6) == 0 && rest[6])
        email = rest + 6;
    else if (*rest && strcmp(rest, "/") != 0) {
        answer_json_error(req, resp, 404, "InvalidRequest", "Unknown Autodiscover path",
                          apr_psprintf(p, ZXLOGNO(01312) "Autodiscover v2 path "
                                       "autodiscover.json%s not known", rest));
        return;
    }
    int v1 = protocol && strcasecmp(protocol, "AutodiscoverV1") == 0;
    if (!protocol || (!v1 && strcasecmp(protocol, "ActiveSync") != 0)) {
        answer_json_error(req, resp, 400, "InvalidProtocol",
                          apr_psprintf(p, "The given protocol value '%s' is invalid. Supported "
                                       "values are 'ActiveSync,AutodiscoverV1'",
                                       protocol ? protocol : ""),
                          apr_psprintf(p, ZXLOGNO(01313) "Autodiscover v2 for protocol \"%s\": "
                                       "only ActiveSync and AutodiscoverV1 are served",
                                       protocol ? protocol : "(none)"));
        return;
    }
    const char *domain = NULL;
    const char *name = email ? zx_account_name_normalize(p, email, NULL, &domain) : NULL;
    if (!name) {
        answer_json_error(req, resp, 400, "InvalidUser",
                          "The Email parameter is missing or not an e-mail address",
                          apr_psprintf(p, ZXLOGNO(01314) "Autodiscover v2 with Email \"%s\": "
                                       "not an e-mail address", email ? email : "(none)"));
        return;
    }
    zx_db *db = zx_request_db(srv, req, &err);
    const char *domain_id = NULL;
    int rc = db ? zx_config_target_key(p, db, ZX_LEVEL_DOMAIN, domain, &domain_id, &err) : -1;
    if (rc == 0) {
        answer_json_error(req, resp, 404, "InvalidDomain",
                          apr_psprintf(p, "The domain '%s' is not served here", domain),
                          apr_psprintf(p, ZXLOGNO(01315) "Autodiscover v2 for %s: no such domain",
                                       name));
        return;
    }
    const char *url = NULL;
    if (rc == 1)
        url = zx_autodiscover_service_url(p, db, domain_id,
                                          srv->settings.public_url ? srv->settings.public_url
                                                                   : ctx->request_base,
                                          v1 ? "/Autodiscover/Autodiscover.xml" : ctx->endpoint,
                                          &err);
    if (!url) {
        answer_json_error(req, resp, 503, "InternalServerError", "Try again later",
                          apr_psprintf(p, ZXLOGNO(01316) "Autodiscover v2 for %s failed: %s",
                                       name, err ? err : "internal error"));
        resp->reason_level = ZX_LOG_ERR;
        zx_retry_after_db(resp);
        return;
    }
    answer_json(resp, 200,
                apr_psprintf(p, "{\"Protocol\":%s,\"Url\":%s}",
                             json_str(p, v1 ? "AutodiscoverV1" : "ActiveSync"), json_str(p, url)),
                ZX_LOG_DEBUG,
                apr_psprintf(p, ZXLOGNO(01317) "Autodiscover v2 for %s: %s", name, url));
}

/* ---- entry ------------------------------------------------------------------------------ */

void zx_autodiscover(const zx_server *srv, zx_request *req, zx_ad_kind kind,
                     const zx_autodiscover_ctx *ctx, zx_response *resp)
{
    const char *err = NULL;
    int running = zx_service_gate_check(srv, req, "autodiscover", &err);
    if (running == 0) {
        zx_respond_http(req, resp, 503, ZX_LOG_INFO,
                        ZXLOGNO(01318) "the autodiscover service is stopped (zxsuite mobile "
                        "doStartService autodiscover)");
        apr_table_setn(resp->headers, "Retry-After", "60");
    }
    else if (running < 0) {
        zx_respond_http(req, resp, 503, ZX_LOG_ERR,
                        apr_psprintf(req->pool, ZXLOGNO(01319) "cannot read the service "
                                     "state: %s", err ? err : "internal error"));
        zx_retry_after_db(resp);
    }
    else if (kind == ZX_AD_XML)
        autodiscover_xml(srv, req, ctx, resp);
    else
        autodiscover_json(srv, req, ctx, resp);
    if (resp->reason)
        zx_log(req->log_ctx, resp->reason_level, "%s (Autodiscover%s User=%s -> %d)",
               resp->reason, kind == ZX_AD_JSON ? " v2" : "",
               req->auth_user ? req->auth_user : "-", resp->status);
}
