/* zxmobile - ActiveSync request values: query parsing ([MS-ASHTTP] 2.2.1.1.1), versions,
 * Basic credentials. */
#include <zxsync/eas.h>
#include <zxsync/text.h>

#include <apr_base64.h>
#include <apr_strings.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- versions ---------------------------------------------------------------------- */

const zx_version zx_versions[] = {ZX_V25, ZX_V120, ZX_V121, ZX_V140, ZX_V141,
                                  ZX_V160, ZX_V161, 0};
static const char *const version_names[] = {"2.5", "12.0", "12.1", "14.0", "14.1",
                                            "16.0", "16.1"};

static int version_index(zx_version v)
{
    for (int i = 0; zx_versions[i]; i++)
        if (zx_versions[i] == v)
            return i;
    return -1;
}

zx_version zx_version_parse(const char *s)
{
    if (!s)
        return 0;
    for (int i = 0; zx_versions[i]; i++)
        if (strcmp(s, version_names[i]) == 0)
            return zx_versions[i];
    return 0;
}

const char *zx_version_str(zx_version v)
{
    int i = version_index(v);
    return i < 0 ? NULL : version_names[i];
}

zx_vset zx_vset_of(zx_version v)
{
    int i = version_index(v);
    return i < 0 ? 0 : (1u << i);
}

zx_vset zx_vset_parse(apr_pool_t *p, const char *list, const char **bad)
{
    zx_vset set = 0;
    char *copy = apr_pstrdup(p, list), *state = NULL;
    for (char *tok = apr_strtok(copy, ", \t", &state); tok; tok = apr_strtok(NULL, ", \t", &state)) {
        zx_version v = zx_version_parse(tok);
        if (!v) {
            if (bad)
                *bad = tok;
            return 0;
        }
        set |= zx_vset_of(v);
    }
    if (!set && bad)
        *bad = list;
    return set;
}

const char *zx_vset_str(apr_pool_t *p, zx_vset set)
{
    char buf[64];
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; zx_versions[i]; i++) {
        if (!(set & (1u << i)))
            continue;
        n += (size_t)apr_snprintf(buf + n, sizeof buf - n, "%s%s", n ? "," : "", version_names[i]);
    }
    return apr_pstrdup(p, buf);
}

/* ---- request and response --------------------------------------------------------------- */

void zx_request_init(zx_request *req, apr_pool_t *p)
{
    memset(req, 0, sizeof *req);
    req->pool = p;
    req->cmd = ZX_CMD_UNKNOWN;
    req->save_in_sent = -1;
    req->accept_multipart = -1;
    req->client_fd = -1;
}

int zx_request_read_body(zx_request *req, apr_size_t max, const char **why)
{
    zx_body_reader *reader = req->read_body;
    if (!reader)
        return 0;
    req->read_body = NULL;
    return reader(req->read_body_baton, req, max, why);
}

void zx_response_init(zx_response *resp, apr_pool_t *p)
{
    memset(resp, 0, sizeof *resp);
    resp->status = 200;
    resp->headers = apr_table_make(p, 8);
    resp->reason_level = ZX_LOG_INFO;
}

/* ---- plain text query ([MS-ASHTTP] 2.2.1.1.1.2) ------------------------------------------- */

/* Percent-decode in place ('+' is a space in form encoding).  -1 on a bad escape or NUL. */
static int url_unescape(char *s)
{
    char *o = s;
    for (char *i = s; *i; i++) {
        if (*i == '%') {
            int h = zx_hexval((unsigned char)i[1]);
            int l = h < 0 ? -1 : zx_hexval((unsigned char)i[2]);
            if (h < 0 || l < 0)
                return -1;
            int c = h * 16 + l;
            if (c == 0)
                return -1;
            *o++ = (char)c;
            i += 2;
        }
        else if (*i == '+') {
            *o++ = ' ';
        }
        else {
            *o++ = *i;
        }
    }
    *o = '\0';
    return 0;
}

static int parse_bool01(const char *v)
{
    if (strcasecmp(v, "T") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
        return 1;
    if (strcasecmp(v, "F") == 0 || strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
        return 0;
    return -2;
}

/* Every header and query value is bytes from an untrusted peer: it enters the request value
 * only through here, as clean text (zx_text_from_peer: bytes that are not UTF-8 and control
 * characters become U+FFFD), so no later stage - SQL, logs, responses - sees anything else.
 * A NUL inside a value refuses the query (400) instead of cutting the value. */
#define PEER_TEXT(req, v) zx_text_from_peer((req)->pool, (v))

/* One place for the parameter names of both forms. */
typedef enum {
    P_CMD, P_USER, P_DEVICEID, P_DEVICETYPE, P_ATTACHMENTNAME, P_COLLECTIONID,
    P_ITEMID, P_LONGID, P_OCCURRENCE, P_SAVEINSENT, P_ACCEPTMULTIPART, P_COUNT_
} param_id;

static const char *const param_names[P_COUNT_] = {
    [P_CMD] = "Cmd", [P_USER] = "User", [P_DEVICEID] = "DeviceId",
    [P_DEVICETYPE] = "DeviceType", [P_ATTACHMENTNAME] = "AttachmentName",
    [P_COLLECTIONID] = "CollectionId", [P_ITEMID] = "ItemId", [P_LONGID] = "LongId",
    [P_OCCURRENCE] = "Occurrence", [P_SAVEINSENT] = "SaveInSent",
    [P_ACCEPTMULTIPART] = "AcceptMultiPart",
};

static const char **param_slot(zx_request *req, param_id id)
{
    switch (id) {
    case P_CMD: return &req->cmd_name;
    case P_USER: return &req->user;
    case P_DEVICEID: return &req->device_id;
    case P_DEVICETYPE: return &req->device_type;
    case P_ATTACHMENTNAME: return &req->attachment_name;
    case P_COLLECTIONID: return &req->collection_id;
    case P_ITEMID: return &req->item_id;
    case P_LONGID: return &req->long_id;
    case P_OCCURRENCE: return &req->occurrence;
    default: return NULL;
    }
}

static int set_param(zx_request *req, param_id id, const char *value, const char **why)
{
    if (id == P_SAVEINSENT || id == P_ACCEPTMULTIPART) {
        int b = parse_bool01(value);
        if (b < 0) {
            *why = apr_psprintf(req->pool, "invalid %s value \"%s\"", param_names[id],
                                PEER_TEXT(req, value));
            return -1;
        }
        int *slot = id == P_SAVEINSENT ? &req->save_in_sent : &req->accept_multipart;
        if (*slot != -1) {
            *why = apr_psprintf(req->pool, "query parameter %s given twice", param_names[id]);
            return -1;
        }
        *slot = b;
        return 0;
    }
    const char **slot = param_slot(req, id);
    if (*slot) {
        *why = apr_psprintf(req->pool, "query parameter %s given twice", param_names[id]);
        return -1;
    }
    *slot = PEER_TEXT(req, value);
    return 0;
}

static int parse_plain(zx_request *req, char *args, const char **why)
{
    char *state = NULL;
    for (char *pair = apr_strtok(args, "&", &state); pair; pair = apr_strtok(NULL, "&", &state)) {
        char *eq = strchr(pair, '=');
        /* no '=': the value is empty - the pair's own NUL, inside the pool copy */
        char *value = eq ? eq + 1 : pair + strlen(pair);
        if (eq)
            *eq = '\0';
        if (url_unescape(pair) < 0 || url_unescape(value) < 0) {
            *why = "malformed percent-encoding in the query";
            return -1;
        }
        int id;
        for (id = 0; id < P_COUNT_; id++)
            if (strcasecmp(pair, param_names[id]) == 0)
                break;
        if (id == P_COUNT_)
            continue;   /* unknown parameters are ignored, as Exchange does */
        if (set_param(req, (param_id)id, value, why) < 0)
            return -1;
    }
    if (req->cmd_name)
        req->cmd = zx_command_by_name(req->cmd_name);
    return 0;
}

/* ---- base64 query ([MS-ASHTTP] 2.2.1.1.1.1) ------------------------------------------------
 * Protocol version (1 byte), command code (1), locale (2, little endian), device ID length (1)
 * + ID, policy key length (1: 0 or 4) + key (little endian), device type length (1) + type,
 * then command parameters: tag (1), length (1), value. */

/* Parameter tags of the base64 form ([MS-ASHTTP] 2.2.1.1.1.1.3); -1: not defined (2, 5) or
 * not a plain parameter (7, Options). */
static const int b64_param_tag[] = {
    [0] = P_ATTACHMENTNAME, [1] = P_COLLECTIONID, [2] = -1, [3] = P_ITEMID,
    [4] = P_LONGID, [5] = -1, [6] = P_OCCURRENCE, [7] = -1 /* Options */,
    [8] = P_USER,
};
#define B64_TAG_OPTIONS 7

/* A string field of the base64 form: refused when it holds a NUL (never cut at it). */
static const char *b64_string(zx_request *req, const unsigned char *raw, unsigned len,
                              const char *what, const char **why)
{
    if (memchr(raw, 0, len)) {
        *why = apr_psprintf(req->pool, "base64 query %s contains a NUL byte", what);
        return NULL;
    }
    return apr_pstrmemdup(req->pool, (const char *)raw, len);
}
#define B64_OPT_SAVEINSENT 0x01
#define B64_OPT_ACCEPTMULTIPART 0x02

static int parse_base64(zx_request *req, const char *args, const char **why)
{
    apr_size_t alen = strlen(args);
    char *copy = apr_pstrmemdup(req->pool, args, alen);
    /* the value may arrive percent-encoded (e.g. %3D for '=') */
    if (url_unescape(copy) < 0) {
        *why = "malformed percent-encoding in the base64 query";
        return -1;
    }
    for (const char *c = copy; *c; c++) {
        if (!isalnum((unsigned char)*c) && *c != '+' && *c != '/' && *c != '=' && *c != ' ') {
            *why = "query is neither plain text nor base64";
            return -1;
        }
    }
    for (char *c = copy; *c; c++)
        if (*c == ' ')
            *c = '+';   /* a '+' that was form-decoded to a space */
    unsigned char *raw = apr_palloc(req->pool, (apr_size_t)apr_base64_decode_len(copy) + 1);
    apr_size_t n = (apr_size_t)apr_base64_decode_binary(raw, copy);
    apr_size_t i = 0;

#define NEED(k, what) do { if (n - i < (apr_size_t)(k)) { \
        *why = "base64 query truncated in " what; return -1; } } while (0)

    NEED(4, "the fixed header");
    req->base64_query = 1;
    req->proto = raw[i++];
    req->proto_str = zx_version_str(req->proto);
    if (!req->proto_str)                /* unknown: keep the number for the error message */
        req->proto_str = apr_psprintf(req->pool, "%u", req->proto);
    int code = raw[i++];
    req->cmd = zx_command_by_code(code);
    req->cmd_name = req->cmd == ZX_CMD_UNKNOWN ? apr_psprintf(req->pool, "#%d", code)
                                               : zx_command_info_get(req->cmd)->name;
    req->locale = (unsigned)raw[i] | ((unsigned)raw[i + 1] << 8);
    i += 2;

    NEED(1, "the device ID length");
    unsigned len = raw[i++];
    NEED(len, "the device ID");
    if (!(req->device_id = b64_string(req, raw + i, len, "device ID", why)))
        return -1;
    req->device_id = PEER_TEXT(req, req->device_id);
    i += len;

    NEED(1, "the policy key length");
    len = raw[i++];
    if (len != 0 && len != 4) {
        *why = apr_psprintf(req->pool, "base64 query policy key length %u (must be 0 or 4)", len);
        return -1;
    }
    NEED(len, "the policy key");
    if (len == 4) {
        req->has_policy_key = 1;
        req->policy_key = (uint32_t)raw[i] | ((uint32_t)raw[i + 1] << 8) |
                          ((uint32_t)raw[i + 2] << 16) | ((uint32_t)raw[i + 3] << 24);
        i += 4;
    }

    NEED(1, "the device type length");
    len = raw[i++];
    NEED(len, "the device type");
    if (!(req->device_type = b64_string(req, raw + i, len, "device type", why)))
        return -1;
    req->device_type = PEER_TEXT(req, req->device_type);
    i += len;

    while (i < n) {
        NEED(2, "a command parameter");
        unsigned tag = raw[i++];
        len = raw[i++];
        NEED(len, "a command parameter value");
        if (tag == B64_TAG_OPTIONS) {
            if (len != 1) {
                *why = "base64 query Options parameter must be one byte";
                return -1;
            }
            req->save_in_sent = (raw[i] & B64_OPT_SAVEINSENT) ? 1 : 0;
            req->accept_multipart = (raw[i] & B64_OPT_ACCEPTMULTIPART) ? 1 : 0;
        }
        else if (tag < sizeof b64_param_tag / sizeof b64_param_tag[0] && b64_param_tag[tag] >= 0) {
            const char *v = b64_string(req, raw + i, len, param_names[b64_param_tag[tag]], why);
            if (!v || set_param(req, (param_id)b64_param_tag[tag], v, why) < 0)
                return -1;
        }
        else {
            *why = apr_psprintf(req->pool, "base64 query has unknown parameter tag %u", tag);
            return -1;
        }
        i += len;
    }
#undef NEED
    return 0;
}

int zx_request_parse_query(zx_request *req, const char *args, const char **why)
{
    if (!args || !*args) {
        *why = "request has no query";
        return -1;
    }
    /* The plain form always carries "Cmd=" (name=value pairs); a base64 value carries at
     * most trailing '=' padding.  Decide on the presence of a '=' that is not padding. */
    const char *eq = strchr(args, '=');
    int plain = 0;
    if (eq) {
        const char *tail = eq;
        while (*tail == '=' || (tail[0] == '%' && tail[1] == '3' && (tail[2] == 'D' || tail[2] == 'd')))
            tail += (*tail == '=') ? 1 : 3;
        plain = (*tail != '\0');
    }
    else if (strchr(args, '&')) {
        plain = 1;
    }
    if (plain)
        return parse_plain(req, apr_pstrdup(req->pool, args), why);
    return parse_base64(req, args, why);
}

const char *zx_request_encode_base64_query(apr_pool_t *p, const zx_request *req)
{
    unsigned char raw[1024];
    apr_size_t n = 0;
#define PUT(b) do { if (n < sizeof raw) raw[n++] = (unsigned char)(b); } while (0)
#define PUTS(s) do { apr_size_t l_ = (s) ? strlen(s) : 0; if (l_ > 255) l_ = 255; PUT(l_); \
        for (apr_size_t k_ = 0; k_ < l_; k_++) PUT((s)[k_]); } while (0)
    const zx_command_info *ci = zx_command_info_get(req->cmd);
    PUT(req->proto);
    PUT(ci ? ci->code : 0xFF);
    PUT(req->locale & 0xFF);
    PUT(req->locale >> 8);
    PUTS(req->device_id);
    if (req->has_policy_key) {
        PUT(4);
        PUT(req->policy_key & 0xFF);
        PUT((req->policy_key >> 8) & 0xFF);
        PUT((req->policy_key >> 16) & 0xFF);
        PUT((req->policy_key >> 24) & 0xFF);
    }
    else {
        PUT(0);
    }
    PUTS(req->device_type);
    for (unsigned tag = 0; tag < sizeof b64_param_tag / sizeof b64_param_tag[0]; tag++) {
        if (b64_param_tag[tag] < 0)
            continue;
        const char *v = *param_slot((zx_request *)req, (param_id)b64_param_tag[tag]);
        if (!v)
            continue;
        PUT(tag);
        PUTS(v);
    }
    if (req->save_in_sent > 0 || req->accept_multipart > 0) {
        PUT(B64_TAG_OPTIONS);
        PUT(1);
        PUT((req->save_in_sent > 0 ? B64_OPT_SAVEINSENT : 0) |
            (req->accept_multipart > 0 ? B64_OPT_ACCEPTMULTIPART : 0));
    }
#undef PUT
#undef PUTS
    char *out = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)n));
    apr_base64_encode_binary(out, raw, (int)n);
    return out;
}

/* ---- Basic credentials ------------------------------------------------------------------- */

int zx_request_parse_basic_auth(zx_request *req, const char *header, const char **why)
{
    if (!header)
        return 0;
    while (*header == ' ')
        header++;
    if (strncasecmp(header, "Basic", 5) != 0 || (header[5] != ' ' && header[5] != '\t')) {
        *why = "Authorization is not Basic";
        return -1;
    }
    header += 5;
    while (*header == ' ' || *header == '\t')
        header++;
    for (const char *c = header; *c; c++) {
        if (!isalnum((unsigned char)*c) && *c != '+' && *c != '/' && *c != '=') {
            *why = "malformed Basic credentials";
            return -1;
        }
    }
    char *dec = apr_palloc(req->pool, (apr_size_t)apr_base64_decode_len(header) + 1);
    int len = apr_base64_decode(dec, header);
    dec[len] = '\0';
    if ((int)strlen(dec) != len) {
        *why = "Basic credentials contain a NUL";
        return -1;
    }
    char *colon = strchr(dec, ':');
    if (!colon) {
        *why = "Basic credentials without a colon";
        return -1;
    }
    *colon = '\0';
    req->auth_user = PEER_TEXT(req, dec);   /* the password stays bytes: only hashed */
    req->auth_password = colon + 1;
    return 0;
}

/* ---- headers ([MS-ASHTTP] 2.2.1.1.2) ------------------------------------------------------- */

int zx_request_set_header(zx_request *req, const char *name, const char *value, const char **why)
{
    if (!value)
        return 0;
    if (strcasecmp(name, "Authorization") != 0)
        value = PEER_TEXT(req, value);
    if (strcasecmp(name, "MS-ASProtocolVersion") == 0) {
        if (req->base64_query)
            return 0;   /* the query's version byte wins, even an unknown one */
        req->proto_str = value;
        req->proto = zx_version_parse(value);
    }
    else if (strcasecmp(name, "X-MS-PolicyKey") == 0) {
        /* a string form of a 32-bit unsigned integer ([MS-ASPROV] 2.2.2.42) */
        if (req->has_policy_key && req->base64_query)
            return 0;
        char *end = NULL;
        if (!*value || !isdigit((unsigned char)*value)) {
            *why = "malformed X-MS-PolicyKey";
            return -1;
        }
        errno = 0;
        unsigned long long k = strtoull(value, &end, 10);
        if (errno || *end || k > UINT32_MAX) {
            *why = "malformed X-MS-PolicyKey";
            return -1;
        }
        req->has_policy_key = 1;
        req->policy_key = (uint32_t)k;
    }
    else if (strcasecmp(name, "User-Agent") == 0) {
        req->user_agent = value;
    }
    else if (strcasecmp(name, "Content-Type") == 0) {
        req->content_type = value;
    }
    else if (strcasecmp(name, "Authorization") == 0) {
        /* Not Basic, or malformed: no credentials; authentication answers 401. */
        const char *ignored;
        if (zx_request_parse_basic_auth(req, value, &ignored) < 0) {
            req->auth_user = NULL;
            req->auth_password = NULL;
        }
    }
    else if (strcasecmp(name, "MS-ASAcceptMultiPart") == 0) {
        if (req->accept_multipart < 0)
            req->accept_multipart = (strcasecmp(value, "T") == 0);
    }
    return 0;
}
