/* mod_zxmobile - per-server configuration (the ZxMobile* directives). */
#ifndef ZXM_CONFIG_H
#define ZXM_CONFIG_H

#include <httpd.h>
#include <http_config.h>
#include <zxsync/server.h>
#include <zxsync/transport.h>

#define ZXM_DEFAULT_ENDPOINT "/Microsoft-Server-ActiveSync"
#define ZXM_DEFAULT_DB_MAX_CONNS 16
#define ZXM_DEFAULT_AUTH_HASH_SLOTS 4
#define ZXM_DEFAULT_AUTH_HASH_WAIT_MS 1000
#define ZXM_DEFAULT_LMTP_MAX_SIZE ((apr_size_t)50 * 1024 * 1024)

/* Every field here must be handled in zxm_create_srv_conf and zxm_merge_srv_conf
 * (t/unit/check_conf_merge.py checks it); fields marked "derived" are built at post_config. */
typedef struct {
    int enabled;                 /* ZxMobileEnable; -1 = unset */
    const char *endpoint;        /* ZxMobileEndpoint */
    const char *db_conninfo;     /* ZxMobileDatabase */
    const char *mail_transport;  /* ZxMobileMailTransport, or ZxMobileSendmail (its old
                                    spelling: sendmail:<command line>); the last one wins */
    const char *smtp_credentials; /* ZxMobileSMTPCredentials */
    const char *smtp_ca_file;    /* ZxMobileSMTPCAFile */
    int smtp_starttls;           /* ZxMobileSMTPStartTLS: 1 required, 0 optional; -1 = unset */
    zx_transport transport;      /* derived */
    const char *public_url;      /* ZxMobilePublicURL */
    zx_vset versions;            /* ZxMobileProtocolVersions; 0 = unset */
    apr_off_t max_body;          /* ZxMobileMaxRequestSize; -1 = unset */
    int db_max_conns;            /* ZxMobileDatabaseMaxConnections; -1 = unset */
    int answer_cache;            /* ZxMobileAnswerCache; -1 = unset (on) */
    int auth_hash_slots;         /* ZxMobileAuthHashSlots (first value); -1 = unset */
    int auth_hash_wait_ms;       /* ZxMobileAuthHashSlots (second value); -1 = unset */
    apr_off_t fetch_budget;      /* ZxMobileFetchBudget; -1 = unset */
    int max_fetches;             /* ZxMobileFetchMaxOperations; -1 = unset */
    const char *cert_ca_file;    /* ZxMobileValidateCertCAFile */
    int lmtp;                    /* ZxMobileLMTP; -1 = unset (Off) */
    apr_off_t lmtp_max_size;     /* ZxMobileLMTPMaxSize; -1 = unset */
    zx_server server;            /* derived */
} zxm_srv_conf;

extern const command_rec zxm_cmds[];
void *zxm_create_srv_conf(apr_pool_t *p, server_rec *s);
void *zxm_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);
/* Fill conf->server from the merged settings (post_config). */
void zxm_finalize_srv_conf(zxm_srv_conf *conf);
/* Parse and check the mail transport of conf (post_config, test_config): NULL when it can be
 * used, else what is wrong.  Fills conf->transport; zxm_finalize_srv_conf points the server's
 * settings at it. */
const char *zxm_transport_setup(apr_pool_t *p, zxm_srv_conf *conf);
zxm_srv_conf *zxm_get_srv_conf(const server_rec *s);

#endif
