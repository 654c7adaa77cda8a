/* mod_zxmobile - the ZxMobile* directives: parsing, defaults and the per-server merge. */
#include "zxm_config.h"

#include <apr_file_info.h>
#include <apr_strings.h>
#include <http_log.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern module AP_MODULE_DECLARE_DATA zxmobile_module;

zxm_srv_conf *zxm_get_srv_conf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &zxmobile_module);
}

void *zxm_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    zxm_srv_conf *c = apr_pcalloc(p, sizeof *c);
    c->enabled = -1;
    c->endpoint = NULL;
    c->db_conninfo = NULL;
    c->mail_transport = NULL;
    c->smtp_credentials = NULL;
    c->smtp_ca_file = NULL;
    c->smtp_starttls = -1;
    memset(&c->transport, 0, sizeof c->transport);
    c->public_url = NULL;
    c->versions = 0;
    c->max_body = -1;
    c->db_max_conns = -1;
    c->answer_cache = -1;
    c->auth_hash_slots = -1;
    c->auth_hash_wait_ms = -1;
    c->fetch_budget = -1;
    c->max_fetches = -1;
    c->cert_ca_file = NULL;
    c->lmtp = -1;
    c->lmtp_max_size = -1;
    zx_server_settings_default(&c->server.settings);
    return c;
}

void *zxm_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    const zxm_srv_conf *base = basev, *add = addv;
    zxm_srv_conf *c = apr_pcalloc(p, sizeof *c);
    c->enabled = add->enabled != -1 ? add->enabled : base->enabled;
    c->endpoint = add->endpoint ? add->endpoint : base->endpoint;
    c->db_conninfo = add->db_conninfo ? add->db_conninfo : base->db_conninfo;
    c->mail_transport = add->mail_transport ? add->mail_transport : base->mail_transport;
    c->smtp_credentials = add->smtp_credentials ? add->smtp_credentials
                                                : base->smtp_credentials;
    c->smtp_ca_file = add->smtp_ca_file ? add->smtp_ca_file : base->smtp_ca_file;
    c->smtp_starttls = add->smtp_starttls != -1 ? add->smtp_starttls : base->smtp_starttls;
    c->transport = add->transport;  /* derived: rebuilt by zxm_transport_setup */
    c->public_url = add->public_url ? add->public_url : base->public_url;
    c->versions = add->versions ? add->versions : base->versions;
    c->max_body = add->max_body != -1 ? add->max_body : base->max_body;
    c->db_max_conns = add->db_max_conns != -1 ? add->db_max_conns : base->db_max_conns;
    c->answer_cache = add->answer_cache != -1 ? add->answer_cache : base->answer_cache;
    c->auth_hash_slots = add->auth_hash_slots != -1 ? add->auth_hash_slots : base->auth_hash_slots;
    c->auth_hash_wait_ms = add->auth_hash_wait_ms != -1 ? add->auth_hash_wait_ms
                                                        : base->auth_hash_wait_ms;
    c->fetch_budget = add->fetch_budget != -1 ? add->fetch_budget : base->fetch_budget;
    c->max_fetches = add->max_fetches != -1 ? add->max_fetches : base->max_fetches;
    c->cert_ca_file = add->cert_ca_file ? add->cert_ca_file : base->cert_ca_file;
    c->lmtp = add->lmtp != -1 ? add->lmtp : base->lmtp;
    c->lmtp_max_size = add->lmtp_max_size != -1 ? add->lmtp_max_size : base->lmtp_max_size;
    c->server = add->server;  /* derived: rebuilt by zxm_finalize_srv_conf */
    return c;
}

void zxm_finalize_srv_conf(zxm_srv_conf *c)
{
    zx_server_settings_default(&c->server.settings);
    if (c->versions)
        c->server.settings.versions = c->versions;
    if (c->max_body > 0)
        c->server.settings.max_body = (apr_size_t)c->max_body;
    c->server.settings.transport = &c->transport;
    c->server.settings.public_url = c->public_url;
    if (c->fetch_budget > 0)
        c->server.settings.fetch_budget = (apr_size_t)c->fetch_budget;
    if (c->max_fetches > 0)
        c->server.settings.max_fetches = (unsigned)c->max_fetches;
    c->server.settings.cert_ca_file = c->cert_ca_file;
}

static const char *set_enable(cmd_parms *cmd, void *dc, int flag)
{
    zxm_get_srv_conf(cmd->server)->enabled = flag;
    return NULL;
}

static const char *set_endpoint(cmd_parms *cmd, void *dc, const char *arg)
{
    if (arg[0] != '/')
        return "ZxMobileEndpoint must be an absolute URL path, e.g. /Microsoft-Server-ActiveSync";
    zxm_get_srv_conf(cmd->server)->endpoint = arg;
    return NULL;
}

static const char *set_database(cmd_parms *cmd, void *dc, const char *arg)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(arg, &err);
    if (!opts) {
        const char *msg = apr_psprintf(cmd->pool, "ZxMobileDatabase: invalid libpq conninfo: %s",
                                       err ? err : "out of memory");
        PQfreemem(err);
        return msg;
    }
    PQconninfoFree(opts);
    zxm_get_srv_conf(cmd->server)->db_conninfo = arg;
    return NULL;
}

static const char *set_sendmail(cmd_parms *cmd, void *dc, const char *arg)
{
    while (*arg == ' ' || *arg == '\t')
        arg++;
    if (arg[0] != '/')
        return "ZxMobileSendmail must start with an absolute program path";
    /* the old spelling of ZxMobileMailTransport sendmail:<command line> */
    zxm_get_srv_conf(cmd->server)->mail_transport = apr_pstrcat(cmd->pool, "sendmail:", arg,
                                                                NULL);
    return NULL;
}

static const char *set_mail_transport(cmd_parms *cmd, void *dc, const char *arg)
{
    zx_transport t;
    const char *err = NULL;
    if (zx_transport_parse(cmd->pool, arg, &t, &err) < 0)
        return apr_pstrcat(cmd->pool, "ZxMobileMailTransport: ", err, NULL);
    zxm_get_srv_conf(cmd->server)->mail_transport = arg;
    return NULL;
}

static const char *set_smtp_credentials(cmd_parms *cmd, void *dc, const char *arg)
{
    zxm_get_srv_conf(cmd->server)->smtp_credentials = ap_server_root_relative(cmd->pool, arg);
    return NULL;
}

static const char *set_smtp_ca_file(cmd_parms *cmd, void *dc, const char *arg)
{
    zxm_get_srv_conf(cmd->server)->smtp_ca_file = ap_server_root_relative(cmd->pool, arg);
    return NULL;
}

static const char *set_smtp_starttls(cmd_parms *cmd, void *dc, const char *arg)
{
    zxm_srv_conf *c = zxm_get_srv_conf(cmd->server);
    if (strcasecmp(arg, "required") == 0)
        c->smtp_starttls = 1;
    else if (strcasecmp(arg, "optional") == 0)
        c->smtp_starttls = 0;
    else
        return "ZxMobileSMTPStartTLS must be required or optional";
    return NULL;
}

const char *zxm_transport_setup(apr_pool_t *p, zxm_srv_conf *c)
{
    const char *err = NULL;
    if (zx_transport_parse(p, c->mail_transport, &c->transport, &err) < 0)
        return apr_pstrcat(p, "ZxMobileMailTransport: ", err, NULL);
    c->transport.credentials = c->smtp_credentials;
    c->transport.ca_file = c->smtp_ca_file;
    c->transport.starttls_optional = c->smtp_starttls == 0;
    int smtp = c->transport.kind == ZX_TRANSPORT_SMTP || c->transport.kind == ZX_TRANSPORT_SMTPS;
    if (!smtp && (c->smtp_credentials || c->smtp_ca_file || c->smtp_starttls != -1))
        return apr_psprintf(p, "ZxMobileSMTPCredentials, ZxMobileSMTPCAFile and "
                            "ZxMobileSMTPStartTLS apply to an smtp:// or smtps:// transport, "
                            "not to %s", zx_transport_describe(p, &c->transport));
    err = zx_transport_check(p, &c->transport);
    if (err)
        return apr_pstrcat(p, "ZxMobileMailTransport ", c->transport.spec, ": ", err, NULL);
    return NULL;
}

static const char *set_public_url(cmd_parms *cmd, void *dc, const char *arg)
{
    if (strncasecmp(arg, "https://", 8) != 0 && strncasecmp(arg, "http://", 7) != 0)
        return "ZxMobilePublicURL must be an http:// or https:// URL";
    zxm_get_srv_conf(cmd->server)->public_url = arg;
    return NULL;
}

static const char *set_versions(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *bad = NULL;
    zx_vset set = zx_vset_parse(cmd->pool, arg, &bad);
    if (!set)
        return apr_psprintf(cmd->pool,
                            "ZxMobileProtocolVersions: unknown version \"%s\" (known: 2.5 12.0 "
                            "12.1 14.0 14.1 16.0 16.1)", bad ? bad : arg);
    zxm_get_srv_conf(cmd->server)->versions = set;
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_off_t v;
    char *end;
    if (apr_strtoff(&v, arg, &end, 10) != APR_SUCCESS || *end || v <= 0)
        return "ZxMobileMaxRequestSize must be a positive number of bytes";
    zxm_get_srv_conf(cmd->server)->max_body = v;
    return NULL;
}

static const char *set_fetch_budget(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_off_t v;
    char *end;
    if (apr_strtoff(&v, arg, &end, 10) != APR_SUCCESS || *end || v < 65536 ||
        v > (apr_off_t)1024 * 1024 * 1024)
        return "ZxMobileFetchBudget must be a number of bytes from 65536 to 1073741824";
    zxm_get_srv_conf(cmd->server)->fetch_budget = v;
    return NULL;
}

static const char *set_max_fetches(cmd_parms *cmd, void *dc, const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || v < 1 || v > 1000)
        return "ZxMobileFetchMaxOperations must be a number from 1 to 1000";
    zxm_get_srv_conf(cmd->server)->max_fetches = (int)v;
    return NULL;
}

static const char *set_cert_ca_file(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;
    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS ||
        fi.filetype != APR_REG)
        return apr_psprintf(cmd->pool, "ZxMobileValidateCertCAFile: %s is not a readable file",
                            arg);
    zxm_get_srv_conf(cmd->server)->cert_ca_file = path;
    return NULL;
}

static const char *set_answer_cache(cmd_parms *cmd, void *dc, int flag)
{
    zxm_get_srv_conf(cmd->server)->answer_cache = flag;
    return NULL;
}

static const char *set_db_max_conns(cmd_parms *cmd, void *dc, const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || v < 1 || v > 10000)
        return "ZxMobileDatabaseMaxConnections must be a number from 1 to 10000";
    zxm_get_srv_conf(cmd->server)->db_max_conns = (int)v;
    return NULL;
}

static const char *set_auth_hash_slots(cmd_parms *cmd, void *dc, const char *n, const char *ms)
{
    char *end;
    long v = strtol(n, &end, 10), w = ZXM_DEFAULT_AUTH_HASH_WAIT_MS;
    if (*end || v < 1 || v > 1024)
        return "ZxMobileAuthHashSlots: the number of slots must be from 1 to 1024";
    if (ms) {
        w = strtol(ms, &end, 10);
        if (*end || w < 1 || w > 60000)
            return "ZxMobileAuthHashSlots: the wait must be from 1 to 60000 ms";
    }
    zxm_srv_conf *c = zxm_get_srv_conf(cmd->server);
    c->auth_hash_slots = (int)v;
    c->auth_hash_wait_ms = (int)w;
    return NULL;
}

static const char *set_lmtp(cmd_parms *cmd, void *dc, int flag)
{
    zxm_get_srv_conf(cmd->server)->lmtp = flag;
    return NULL;
}

static const char *set_lmtp_max_size(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_off_t v;
    char *end;
    if (apr_strtoff(&v, arg, &end, 10) != APR_SUCCESS || *end || v < 1024 ||
        v > (apr_off_t)1024 * 1024 * 1024)
        return "ZxMobileLMTPMaxSize must be a number of bytes from 1024 to 1073741824";
    zxm_get_srv_conf(cmd->server)->lmtp_max_size = v;
    return NULL;
}

const command_rec zxm_cmds[] = {
    AP_INIT_FLAG("ZxMobileEnable", set_enable, NULL, RSRC_CONF,
                 "On to serve Exchange ActiveSync on this server (default Off)"),
    AP_INIT_TAKE1("ZxMobileEndpoint", set_endpoint, NULL, RSRC_CONF,
                  "URL path of the ActiveSync endpoint (default " ZXM_DEFAULT_ENDPOINT ")"),
    AP_INIT_TAKE1("ZxMobileDatabase", set_database, NULL, RSRC_CONF,
                  "libpq connection string of the zxmobile database"),
    AP_INIT_RAW_ARGS("ZxMobileSendmail", set_sendmail, NULL, RSRC_CONF,
                     "sendmail-compatible command line used to send mail (the old spelling of "
                     "ZxMobileMailTransport sendmail:<command line>)"),
    AP_INIT_RAW_ARGS("ZxMobileMailTransport", set_mail_transport, NULL, RSRC_CONF,
                     "where mail for outside the server goes: none (default), "
                     "sendmail:<command line>, smtp://host[:port] or smtps://host[:port]"),
    AP_INIT_TAKE1("ZxMobileSMTPCredentials", set_smtp_credentials, NULL, RSRC_CONF,
                  "file with one line user:password for SMTP AUTH (not readable by everyone)"),
    AP_INIT_TAKE1("ZxMobileSMTPCAFile", set_smtp_ca_file, NULL, RSRC_CONF,
                  "PEM CA certificates the SMTP server's certificate is verified with "
                  "(default: the system trust store)"),
    AP_INIT_TAKE1("ZxMobileSMTPStartTLS", set_smtp_starttls, NULL, RSRC_CONF,
                  "required (default) or optional: STARTTLS on an smtp:// transport"),
    AP_INIT_TAKE1("ZxMobilePublicURL", set_public_url, NULL, RSRC_CONF,
                  "public base URL of this server (Autodiscover answers with it)"),
    AP_INIT_RAW_ARGS("ZxMobileProtocolVersions", set_versions, NULL, RSRC_CONF,
                     "ActiveSync protocol versions offered (default 2.5 12.0 12.1 14.0 14.1 16.0 16.1)"),
    AP_INIT_TAKE1("ZxMobileDatabaseMaxConnections", set_db_max_conns, NULL, RSRC_CONF,
                  "most database connections one httpd child opens (default 16)"),
    AP_INIT_TAKE1("ZxMobileMaxRequestSize", set_max_body, NULL, RSRC_CONF,
                  "largest request body accepted, in bytes (default 33554432)"),
    AP_INIT_TAKE1("ZxMobileFetchBudget", set_fetch_budget, NULL, RSRC_CONF,
                  "bytes of content one ItemOperations request returns at most (default "
                  "16777216); a Fetch over what is left answers status 11, a Range is cut"),
    AP_INIT_TAKE1("ZxMobileFetchMaxOperations", set_max_fetches, NULL, RSRC_CONF,
                  "Fetch elements one ItemOperations request may carry (default 32)"),
    AP_INIT_TAKE1("ZxMobileValidateCertCAFile", set_cert_ca_file, NULL, RSRC_CONF,
                  "PEM file of CA certificates ValidateCert trusts besides the system trust "
                  "store (default: the system store alone)"),
    AP_INIT_FLAG("ZxMobileAnswerCache", set_answer_cache, NULL, RSRC_CONF,
                 "Off to compute every no-change Sync and FolderSync answer (default On: "
                 "answered again from memory until the account changes)"),
    AP_INIT_TAKE12("ZxMobileAuthHashSlots", set_auth_hash_slots, NULL, RSRC_CONF,
                   "password hashes one httpd child computes at once, and how long (ms) a login "
                   "waits for a slot before it gets 503 (default 4 1000)"),
    AP_INIT_FLAG("ZxMobileLMTP", set_lmtp, NULL, RSRC_CONF,
                 "On to speak LMTP (RFC 2033) instead of HTTP on this virtual host's "
                 "connections: an MTA delivers into the mailboxes (default Off)"),
    AP_INIT_TAKE1("ZxMobileLMTPMaxSize", set_lmtp_max_size, NULL, RSRC_CONF,
                  "largest message the LMTP listener accepts, in bytes (default 52428800)"),
    {NULL, {NULL}, NULL, 0, RAW_ARGS, NULL}
};
