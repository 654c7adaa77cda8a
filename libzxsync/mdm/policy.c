/* zxmobile - mobile device management policies (zxsync/policy.h).
 *
 * The table below is the whole mapping attribute -> EASProvisionDoc element ([MS-ASPROV]
 * 2.2.2.28; versions from [MS-ASPROV] element tables and [MS-ASWBXML] code page 14).  Notes:
 *   - token 0x10 is DeviceEncryptionEnabled in 12.0 and RequireStorageCardEncryption from 12.1:
 *     zimbraMobilePolicyDeviceEncryptionEnabled is sent to 12.0 clients only (and not at all
 *     with zimbraMobilePolicySuppressDeviceEncryption TRUE);
 *   - MaxInactivityTimeDeviceLock is kept in minutes and sent in seconds;
 *   - zimbraMobilePolicyRefreshInterval is no element: the gate asks for a new Provision when
 *     the device's key is older than that;
 *   - zimbraMobilePolicyApprovedApplicationList is for user interfaces and never sent.
 */
#include <zxsync/policy.h>

#include <zxsync/audit.h>
#include <zxsync/notify.h>
#include <zxsync/text.h>

#include <apr_strings.h>
#include <openssl/rand.h>


#include <stdlib.h>
#include <string.h>

#define P(name) "zimbraMobilePolicy" #name
#define T(name) ZX_Provision_##name

static const zx_policy_item items[] = {
    /* switches (spec 3.1) */
    {"ZxMobile_DeviceManagementEnabled", ZX_POL_SWITCH, 0, 0, 0, 0, NULL},
    {"zimbraFeatureMobilePolicyEnabled", ZX_POL_SWITCH, 0, 0, 0, 0, NULL},
    {P(AllowNonProvisionableDevices), ZX_POL_SWITCH, 0, 0, 0, 0, NULL},
    {P(AllowPartialProvisioning), ZX_POL_SWITCH, 0, 0, 0, 0, NULL},
    {P(RefreshInterval), ZX_POL_SWITCH, 0, 0, 0, 0, NULL},
    {P(SuppressDeviceEncryption), ZX_POL_MODIFIER, 0, 0, 0, 0, NULL},
    {P(ApprovedApplicationList), ZX_POL_UI_ONLY, 0, 0, 0, 0, NULL},
    /* device security (12.0) */
    {P(DevicePasswordEnabled), ZX_POL_BOOL, T(DevicePasswordEnabled), 0, ZX_V120, 0, NULL},
    {P(AlphanumericDevicePasswordRequired), ZX_POL_BOOL, T(AlphanumericDevicePasswordRequired), 0,
     ZX_V120, 0, NULL},
    {P(DeviceEncryptionEnabled), ZX_POL_BOOL, T(RequireStorageCardEncryption), 0, ZX_V120, ZX_V120,
     P(SuppressDeviceEncryption)},
    {P(PasswordRecoveryEnabled), ZX_POL_BOOL, T(PasswordRecoveryEnabled), 0, ZX_V120, 0, NULL},
    {P(AttachmentsEnabled), ZX_POL_BOOL, T(AttachmentsEnabled), 0, ZX_V120, 0, NULL},
    {P(MinDevicePasswordLength), ZX_POL_INT, T(MinDevicePasswordLength), 0, ZX_V120, 0, NULL},
    {P(MaxInactivityTimeDeviceLock), ZX_POL_MINUTES, T(MaxInactivityTimeDeviceLock), 0, ZX_V120, 0,
     NULL},
    {P(MaxDevicePasswordFailedAttempts), ZX_POL_ZERO_EMPTY, T(MaxDevicePasswordFailedAttempts), 0,
     ZX_V120, 0, NULL},
    {P(MaxAttachmentSize), ZX_POL_NOLIMIT, T(MaxAttachmentSize), 0, ZX_V120, 0, NULL},
    {P(AllowSimpleDevicePassword), ZX_POL_BOOL, T(AllowSimpleDevicePassword), 0, ZX_V120, 0, NULL},
    {P(DevicePasswordExpiration), ZX_POL_ZERO_EMPTY, T(DevicePasswordExpiration), 0, ZX_V120, 0,
     NULL},
    {P(DevicePasswordHistory), ZX_POL_INT, T(DevicePasswordHistory), 0, ZX_V120, 0, NULL},
    /* 12.1 and later */
    {P(RequireStorageCardEncryption), ZX_POL_BOOL, T(RequireStorageCardEncryption), 0, ZX_V121, 0,
     NULL},
    {P(AllowStorageCard), ZX_POL_OPTIONAL, T(AllowStorageCard), 0, ZX_V121, 0, NULL},
    {P(AllowCamera), ZX_POL_OPTIONAL, T(AllowCamera), 0, ZX_V121, 0, NULL},
    {P(RequireDeviceEncryption), ZX_POL_OPTIONAL, T(RequireDeviceEncryption), 0, ZX_V121, 0, NULL},
    {P(AllowUnsignedApplications), ZX_POL_OPTIONAL, T(AllowUnsignedApplications), 0, ZX_V121, 0,
     NULL},
    {P(AllowUnsignedInstallationPackages), ZX_POL_OPTIONAL, T(AllowUnsignedInstallationPackages),
     0, ZX_V121, 0, NULL},
    {P(MinDevicePasswordComplexCharacters), ZX_POL_INT, T(MinDevicePasswordComplexCharacters), 0,
     ZX_V121, 0, NULL},
    {P(AllowWiFi), ZX_POL_OPTIONAL, T(AllowWiFi), 0, ZX_V121, 0, NULL},
    {P(AllowTextMessaging), ZX_POL_OPTIONAL, T(AllowTextMessaging), 0, ZX_V121, 0, NULL},
    {P(AllowPOPIMAPEmail), ZX_POL_OPTIONAL, T(AllowPOPIMAPEmail), 0, ZX_V121, 0, NULL},
    {P(AllowBluetooth), ZX_POL_OPTIONAL, T(AllowBluetooth), 0, ZX_V121, 0, NULL},
    {P(AllowIrDA), ZX_POL_OPTIONAL, T(AllowIrDA), 0, ZX_V121, 0, NULL},
    {P(RequireManualSyncWhenRoaming), ZX_POL_OPTIONAL, T(RequireManualSyncWhenRoaming), 0, ZX_V121,
     0, NULL},
    {P(AllowDesktopSync), ZX_POL_OPTIONAL, T(AllowDesktopSync), 0, ZX_V121, 0, NULL},
    {P(MaxCalendarAgeFilter), ZX_POL_CAL_AGE, T(MaxCalendarAgeFilter), 0, ZX_V121, 0, NULL},
    {P(AllowHTMLEmail), ZX_POL_OPTIONAL, T(AllowHTMLEmail), 0, ZX_V121, 0, NULL},
    {P(MaxEmailAgeFilter), ZX_POL_OPTIONAL, T(MaxEmailAgeFilter), 0, ZX_V121, 0, NULL},
    {P(MaxEmailBodyTruncationSize), ZX_POL_NOLIMIT, T(MaxEmailBodyTruncationSize), 0, ZX_V121, 0,
     NULL},
    {P(MaxEmailHTMLBodyTruncationSize), ZX_POL_NOLIMIT, T(MaxEmailHTMLBodyTruncationSize), 0,
     ZX_V121, 0, NULL},
    {P(RequireSignedSMIMEMessages), ZX_POL_OPTIONAL, T(RequireSignedSMIMEMessages), 0, ZX_V121, 0,
     NULL},
    {P(RequireEncryptedSMIMEMessages), ZX_POL_OPTIONAL, T(RequireEncryptedSMIMEMessages), 0,
     ZX_V121, 0, NULL},
    {P(RequireSignedSMIMEAlgorithm), ZX_POL_OPTIONAL, T(RequireSignedSMIMEAlgorithm), 0, ZX_V121, 0,
     NULL},
    {P(RequireEncryptionSMIMEAlgorithm), ZX_POL_OPTIONAL, T(RequireEncryptionSMIMEAlgorithm), 0,
     ZX_V121, 0, NULL},
    {P(AllowSMIMEEncryptionAlgorithmNegotiation), ZX_POL_OPTIONAL,
     T(AllowSMIMEEncryptionAlgorithmNegotiation), 0, ZX_V121, 0, NULL},
    {P(AllowSMIMESoftCerts), ZX_POL_OPTIONAL, T(AllowSMIMESoftCerts), 0, ZX_V121, 0, NULL},
    {P(AllowBrowser), ZX_POL_OPTIONAL, T(AllowBrowser), 0, ZX_V121, 0, NULL},
    {P(AllowConsumerEmail), ZX_POL_OPTIONAL, T(AllowConsumerEmail), 0, ZX_V121, 0, NULL},
    {P(AllowRemoteDesktop), ZX_POL_OPTIONAL, T(AllowRemoteDesktop), 0, ZX_V121, 0, NULL},
    {P(AllowInternetSharing), ZX_POL_OPTIONAL, T(AllowInternetSharing), 0, ZX_V121, 0, NULL},
    {P(UnapprovedInROMApplication), ZX_POL_LIST, T(UnapprovedInROMApplicationList),
     T(ApplicationName), ZX_V121, 0, NULL},
    {P(ApprovedApplication), ZX_POL_LIST, T(ApprovedApplicationList), T(Hash), ZX_V121, 0, NULL},
};
#define NITEMS (sizeof items / sizeof items[0])

#undef P
#undef T

#define PREFIX "zimbraMobilePolicy"

const zx_policy_item *zx_policy_items(apr_size_t *count)
{
    *count = NITEMS;
    return items;
}

const zx_policy_item *zx_policy_item_find(const char *name)
{
    if (!name || !*name)
        return NULL;
    for (size_t i = 0; i < NITEMS; i++) {
        const char *a = items[i].attr;
        if (strcasecmp(a, name) == 0)
            return &items[i];
        if (strncmp(a, PREFIX, sizeof PREFIX - 1) == 0 && strcasecmp(a + sizeof PREFIX - 1, name) == 0)
            return &items[i];
        if (strncmp(a, "zimbra", 6) == 0 && strcasecmp(a + 6, name) == 0)
            return &items[i];
    }
    return NULL;
}

static int is_true(const char *v)
{
    return v && (strcasecmp(v, "TRUE") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

static size_t index_of(const char *attr)
{
    for (size_t i = 0; i < NITEMS; i++)
        if (strcmp(items[i].attr, attr) == 0)
            return i;
    return 0;   /* not reached: every name used here is in the table */
}

static zx_level level_of(const char *s)
{
    if (strcmp(s, "account") == 0)
        return ZX_LEVEL_ACCOUNT;
    if (strcmp(s, "cos") == 0)
        return ZX_LEVEL_COS;
    if (strcmp(s, "domain") == 0)
        return ZX_LEVEL_DOMAIN;
    if (strcmp(s, "server") == 0)
        return ZX_LEVEL_SERVER;
    return ZX_LEVEL_GLOBAL;
}

/* FNV-1a, 64 bits, over "name=value\n" of everything the devices receive. */
static int64_t policy_hash(const zx_policy *pol)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < NITEMS; i++) {
        if (items[i].conv == ZX_POL_SWITCH || items[i].conv == ZX_POL_UI_ONLY)
            continue;
        const char *parts[3] = {items[i].attr, "=", pol->values[i]};
        for (int k = 0; k < 3; k++)
            for (const unsigned char *s = (const unsigned char *)parts[k]; *s; s++) {
                h ^= *s;
                h *= 1099511628211ULL;
            }
        h ^= '\n';
        h *= 1099511628211ULL;
    }
    int64_t out;
    memcpy(&out, &h, sizeof out);
    return out;
}

static const char *names_array(apr_pool_t *p)
{
    char *s = apr_pstrdup(p, "{");
    for (size_t i = 0; i < NITEMS; i++) {
        s = apr_pstrcat(p, s, i ? "," : "", zx_str_lower(p, items[i].attr), NULL);
    }
    return apr_pstrcat(p, s, "}", NULL);
}

int zx_policy_resolve(apr_pool_t *p, zx_db *db, const zx_config_scope *scope,
                      const char *device_row, zx_policy *pol, zx_policy_device *dev,
                      const char **err)
{
    const char *names = names_array(p);
    const char *server = scope->server ? zx_str_lower(p, scope->server) : NULL;
    const char *params[5] = {names, scope->account_id, scope->cos_id, server, device_row};
    PGresult *res = zx_db_exec(db,
        "WITH v AS (SELECT DISTINCT ON (name) name, value, level FROM config_values "
        "  WHERE name = ANY($1::text[]) AND ("
        "        (level = 'account' AND target = $2)"
        "     OR (level = 'cos' AND target = COALESCE($3, CASE WHEN $2::text IS NOT NULL THEN "
        "            (SELECT id::text FROM cos WHERE name = 'default') END))"
        "     OR (level = 'server' AND target = $4)"
        "     OR (level = 'global' AND target = ''))"
        "  ORDER BY name, CASE level WHEN 'account' THEN 1 WHEN 'cos' THEN 2 "
        "                            WHEN 'server' THEN 4 ELSE 5 END) "
        "SELECT v.name, v.value, v.level, d.id, d.policy_hash, d.policy_key_temp, "
        "       d.policy_hash_temp, floor(extract(epoch FROM now() - d.provisioned_at))::bigint "
        "  FROM (SELECT 1) one LEFT JOIN v ON true LEFT JOIN devices d ON d.id = $5::bigint",
        5, params, err);
    if (!res)
        return -1;
    memset(pol, 0, sizeof *pol);
    pol->count = NITEMS;
    pol->values = apr_pcalloc(p, NITEMS * sizeof *pol->values);
    pol->from = apr_pcalloc(p, NITEMS * sizeof *pol->from);
    for (size_t i = 0; i < NITEMS; i++) {
        const zx_attr_def *a = zx_attr_find(items[i].attr);
        pol->values[i] = a && a->def ? a->def : "";
        pol->from[i] = ZX_LEVEL_NONE;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        if (PQgetisnull(res, r, 0))
            continue;
        const char *name = PQgetvalue(res, r, 0);
        for (size_t i = 0; i < NITEMS; i++)
            if (strcasecmp(items[i].attr, name) == 0) {
                pol->values[i] = apr_pstrdup(p, PQgetvalue(res, r, 1));
                pol->from[i] = level_of(PQgetvalue(res, r, 2));
                break;
            }
    }
    if (dev) {
        memset(dev, 0, sizeof *dev);
        dev->provisioned_age = -1;
        if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 3)) {
            dev->found = 1;
            if ((dev->has_hash = !PQgetisnull(res, 0, 4)))
                dev->hash = (int64_t)strtoll(PQgetvalue(res, 0, 4), NULL, 10);
            if ((dev->has_temp = !PQgetisnull(res, 0, 5) && !PQgetisnull(res, 0, 6))) {
                dev->temp_key = (uint32_t)strtoul(PQgetvalue(res, 0, 5), NULL, 10);
                dev->temp_hash = (int64_t)strtoll(PQgetvalue(res, 0, 6), NULL, 10);
            }
            if (!PQgetisnull(res, 0, 7))
                dev->provisioned_age = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
        }
    }
    PQclear(res);
    pol->device_management = is_true(pol->values[index_of("ZxMobile_DeviceManagementEnabled")]);
    pol->mdm = pol->device_management &&
               is_true(pol->values[index_of("zimbraFeatureMobilePolicyEnabled")]);
    pol->allow_nonprovisionable =
        is_true(pol->values[index_of("zimbraMobilePolicyAllowNonProvisionableDevices")]);
    pol->allow_partial = is_true(pol->values[index_of("zimbraMobilePolicyAllowPartialProvisioning")]);
    pol->refresh_minutes = strtoll(pol->values[index_of("zimbraMobilePolicyRefreshInterval")], NULL, 10);
    pol->hash = policy_hash(pol);
    return 0;
}

const char *zx_policy_value(const zx_policy *pol, const char *attr)
{
    for (size_t i = 0; i < NITEMS && i < pol->count; i++)
        if (strcmp(items[i].attr, attr) == 0)
            return pol->values[i] ? pol->values[i] : "";
    return "";
}

zx_wb_node *zx_policy_document(apr_pool_t *p, const zx_policy *pol, zx_version v)
{
    zx_wb_node *doc = zx_wb_new(p, ZX_Provision_EASProvisionDoc);
    for (size_t i = 0; i < NITEMS; i++) {
        const zx_policy_item *it = &items[i];
        if (!it->tag || v < it->min_version || (it->max_version && v > it->max_version))
            continue;
        if (it->unless && is_true(pol->values[index_of(it->unless)]))
            continue;
        const char *val = pol->values[i];
        long long n = strtoll(val, NULL, 10);
        switch (it->conv) {
        case ZX_POL_BOOL:
            zx_wb_add_text(p, doc, it->tag, is_true(val) ? "1" : "0");
            break;
        case ZX_POL_INT:
            zx_wb_add_textf(p, doc, it->tag, "%" APR_INT64_T_FMT, (apr_int64_t)n);
            break;
        case ZX_POL_OPTIONAL:
            if (n >= 0)
                zx_wb_add_textf(p, doc, it->tag, "%" APR_INT64_T_FMT, (apr_int64_t)n);
            break;
        case ZX_POL_NOLIMIT:
            if (n < 0)
                zx_wb_add(p, doc, it->tag);
            else
                zx_wb_add_textf(p, doc, it->tag, "%" APR_INT64_T_FMT, (apr_int64_t)n);
            break;
        case ZX_POL_ZERO_EMPTY:
            if (n == 0)
                zx_wb_add(p, doc, it->tag);
            else
                zx_wb_add_textf(p, doc, it->tag, "%" APR_INT64_T_FMT, (apr_int64_t)n);
            break;
        case ZX_POL_MINUTES:
            if (n == 0)
                zx_wb_add(p, doc, it->tag);
            else
                zx_wb_add_textf(p, doc, it->tag, "%" APR_INT64_T_FMT, (apr_int64_t)(n * 60));
            break;
        case ZX_POL_CAL_AGE:
            if (n == 0 || n >= 4)
                zx_wb_add_textf(p, doc, it->tag, "%" APR_INT64_T_FMT, (apr_int64_t)n);
            break;
        case ZX_POL_LIST: {
            zx_wb_node *list = zx_wb_add(p, doc, it->tag);
            char *copy = apr_pstrdup(p, val), *last = NULL;
            for (char *tok = apr_strtok(copy, "\n", &last); tok; tok = apr_strtok(NULL, "\n", &last))
                if (*tok)
                    zx_wb_add_text(p, list, it->child_tag, tok);
            break;
        }
        default:
            break;
        }
    }
    return doc;
}

uint32_t zx_policy_new_key(void)
{
    uint32_t k = 0;
    while (k == 0) {
        unsigned char b[4];
        if (RAND_bytes(b, sizeof b) != 1) {
            /* no entropy source: still a key, never 0 */
            k = (uint32_t)rand() | 1u;
            break;
        }
        k = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    }
    return k;
}

long zx_policy_notify(apr_pool_t *p, zx_db *db, zx_level level, const char *key,
                      const char **err)
{
    if (level == ZX_LEVEL_ACCOUNT)
        return zx_notify_account(db, key, err) < 0 ? -1 : 1;
    if (level != ZX_LEVEL_COS)
        return 0;
    /* every account of the COS that has a device: the payload zx_notify_account sends */
    const char *params[1] = {key};
    PGresult *res = zx_db_exec(db,
        "SELECT pg_notify('" ZX_NOTIFY_CHANNEL "', a.id::text) FROM accounts a "
        " WHERE (a.cos_id = $1::bigint OR (a.cos_id IS NULL AND "
        "        $1::bigint = (SELECT id FROM cos WHERE name = 'default'))) "
        "   AND EXISTS (SELECT 1 FROM devices d WHERE d.account_id = a.id)",
        1, params, err);
    if (!res)
        return -1;
    long n = PQntuples(res);
    PQclear(res);
    return n;
}

int zx_policy_set(apr_pool_t *p, zx_db *db, const char *actor, zx_level level,
                  const char *target, const char *name, const char *value, const char **attr,
                  const char **err)
{
    const zx_policy_item *it = zx_policy_item_find(name);
    if (!it) {
        *err = apr_psprintf(p, "unknown provisioning key \"%s\" (zxsuite mobile "
                               "getProvisioning lists them)", name ? name : "");
        return -1;
    }
    const zx_attr_def *a = zx_attr_find(it->attr);
    if (attr)
        *attr = a->name;
    if (level != ZX_LEVEL_ACCOUNT && level != ZX_LEVEL_COS) {
        *err = "provisioning is set on an account or a COS";
        return -1;
    }
    if (zx_attr_check_level(p, a, level, err) < 0)
        return -1;
    const char *key;
    int found = zx_config_target_key(p, db, level, target, &key, err);
    if (found != 1)
        return found == 0 ? 1 : -1;
    zx_config_op op = ZX_CONFIG_REPLACE;
    const char *v = value ? value : "";
    if (!*v)
        op = ZX_CONFIG_UNSET;
    else if (a->type == ZX_ATTR_INT && a->min <= 0 && a->max >= 1 && a->max <= 2 &&
             (strcasecmp(v, "true") == 0 || strcasecmp(v, "false") == 0))
        /* the Zextras form "setProvisioning ... AllowDesktopSync true" of an allow/deny value */
        v = strcasecmp(v, "true") == 0 ? "1" : "0";
    else if (a->multi) {
        /* comma-separated values -> one per line, blanks around each dropped */
        char *copy = apr_pstrdup(p, v), *last = NULL, *lines = NULL;
        for (char *tok = apr_strtok(copy, ",", &last); tok; tok = apr_strtok(NULL, ",", &last)) {
            while (*tok == ' ')
                tok++;
            size_t n = strlen(tok);
            while (n && tok[n - 1] == ' ')
                tok[--n] = '\0';
            if (!*tok)
                continue;
            lines = lines ? apr_pstrcat(p, lines, "\n", tok, NULL) : tok;
        }
        if (!lines)
            op = ZX_CONFIG_UNSET;
        v = lines ? lines : "";
    }
    /* the audit names accounts as they are stored: lower case */
    const char *who = zx_str_lower(p, target);
    int own = 0;
    if (zx_db_tx_begin(db, &own, err) < 0)
        return -1;
    int rc = zx_config_write(p, db, level, key, a->name, op, v, err);
    if (rc == 0)
        rc = zx_audit_record(db, actor, "setProvisioning",
                             level == ZX_LEVEL_ACCOUNT ? who : NULL, NULL,
                             apr_psprintf(p, "%s %s: %s = %s", zx_level_name(level), target,
                                          a->name, op == ZX_CONFIG_UNSET ? "(removed)" : value),
                             err);
    if (rc == 0 && zx_policy_notify(p, db, level, key, err) < 0)
        rc = -1;
    return zx_db_tx_end(db, own, rc, err) < 0 ? -1 : 0;
}
