/* zxmobile - mobile device management policies (spec 3, [MS-ASPROV]).
 *
 * One table (libzxsync/mdm/policy.c, data only) maps every policy attribute of attrs.def to
 * the EASProvisionDoc element it becomes, with the protocol versions that know the element
 * and how the value is written.  The effective values of an account resolve account -> COS
 * (the "default" COS when it has none) in one database round trip, together with the global
 * switch ZxMobile_DeviceManagementEnabled.
 *
 * MDM is on for an account when ZxMobile_DeviceManagementEnabled (server/global, default
 * FALSE) AND zimbraFeatureMobilePolicyEnabled (account/COS, default TRUE) are TRUE.
 */
#ifndef ZXSYNC_POLICY_H
#define ZXSYNC_POLICY_H

#include <stdint.h>

#include <zxsync/config.h>
#include <zxsync/eas.h>
#include <zxsync/wbxml.h>

/* [MS-ASPROV] 2.2.2.43: the policy format of protocol 12.0 and later, and the one of 2.5. */
#define ZX_POLICY_TYPE "MS-EAS-Provisioning-WBXML"
#define ZX_POLICY_TYPE_WAP "MS-WAP-Provisioning-XML"

/* How an attribute's value becomes its element. */
typedef enum {
    ZX_POL_SWITCH,      /* not an element: decides how the policy is enforced */
    ZX_POL_MODIFIER,    /* not an element: changes how another one is sent */
    ZX_POL_UI_ONLY,     /* not an element, no effect on devices (kept for user interfaces) */
    ZX_POL_BOOL,        /* TRUE/FALSE -> 1/0 */
    ZX_POL_INT,         /* the value as it is */
    ZX_POL_OPTIONAL,    /* -1: element not sent (the tri-state "not set") */
    ZX_POL_NOLIMIT,     /* -1: empty element (unsignedIntOrEmpty: no limit) */
    ZX_POL_ZERO_EMPTY,  /* 0: empty element (not enforced) */
    ZX_POL_MINUTES,     /* minutes -> seconds; 0: empty element (no lock time) */
    ZX_POL_CAL_AGE,     /* MaxCalendarAgeFilter: -1, 1, 2, 3 are not sent */
    ZX_POL_LIST         /* multi-valued: a container with one child element per value */
} zx_policy_conv;

typedef struct {
    const char *attr;           /* attribute name (attrs.def spelling) */
    zx_policy_conv conv;
    unsigned tag;               /* EASProvisionDoc child element, 0 = none */
    unsigned child_tag;         /* ZX_POL_LIST: the element of each value */
    zx_version min_version;     /* first protocol version with the element */
    zx_version max_version;     /* last one (0 = still current) */
    const char *unless;         /* attribute whose TRUE value suppresses the element */
} zx_policy_item;

/* The table, in the order the elements are sent. */
const zx_policy_item *zx_policy_items(apr_size_t *count);
/* A policy attribute by its full name or its short name (without "zimbraMobilePolicy", e.g.
 * "AllowDesktopSync"; "FeatureMobilePolicyEnabled" for zimbraFeatureMobilePolicyEnabled),
 * case-insensitively.  NULL when it is not a policy attribute. */
const zx_policy_item *zx_policy_item_find(const char *name);

/* The effective policy of an account or a COS. */
typedef struct {
    apr_size_t count;           /* entries of the table */
    const char **values;        /* effective value by table index (multi-valued: one per line) */
    zx_level *from;             /* where each comes from (ZX_LEVEL_NONE = default) */
    int device_management;      /* ZxMobile_DeviceManagementEnabled */
    int mdm;                    /* device_management && zimbraFeatureMobilePolicyEnabled */
    int allow_nonprovisionable; /* zimbraMobilePolicyAllowNonProvisionableDevices */
    int allow_partial;          /* zimbraMobilePolicyAllowPartialProvisioning */
    long long refresh_minutes;  /* zimbraMobilePolicyRefreshInterval (0 = never) */
    int64_t hash;               /* of every value the devices receive: changes when they change */
} zx_policy;

/* What the device record says about its provisioning (sql/006, sql/008). */
typedef struct {
    int found;                  /* the record exists */
    int has_hash;
    int64_t hash;               /* policy the final key was issued for */
    int has_temp;
    uint32_t temp_key;          /* downloaded, not yet acknowledged */
    int64_t temp_hash;
    long long provisioned_age;  /* seconds since the final key was issued, -1 = never */
} zx_policy_device;

/* Resolve the policy for a scope (zx_config_account_scope / zx_config_level_scope) and, when
 * device_row is not NULL, read that device's provisioning state - one round trip.  Returns 0,
 * or -1 and *err. */
int zx_policy_resolve(apr_pool_t *p, zx_db *db, const zx_config_scope *scope,
                      const char *device_row, zx_policy *pol, zx_policy_device *dev,
                      const char **err);

/* The effective value of a policy attribute (its full attrs.def name), "" when it is not one. */
const char *zx_policy_value(const zx_policy *pol, const char *attr);

/* The EASProvisionDoc element of a policy for protocol version v (12.0 and later). */
zx_wb_node *zx_policy_document(apr_pool_t *p, const zx_policy *pol, zx_version v);

/* The same policy for protocol 2.5: the WAP provisioning document ([MS-ASPROV] 2.2.2.24.2,
 * wap-provisioningdoc with the SecurityPolicy and Registry characteristics) as the text of
 * provision:Data (mdm/wap.c). */
const char *zx_policy_wap_document(apr_pool_t *p, const zx_policy *pol);

/* A fresh policy key: a random 32-bit number other than 0 ([MS-ASPROV] 2.2.2.42). */
uint32_t zx_policy_new_key(void);

/* Wake the waiting requests of every account a policy change at (level, key) touches: the
 * account itself, or every account of the COS (and those without a COS for "default") that
 * has a device.  Returns the number of accounts notified, or -1 and *err. */
long zx_policy_notify(apr_pool_t *p, zx_db *db, zx_level level, const char *key,
                      const char **err);

/* setProvisioning: set one policy attribute (full or short name) at level account or cos of
 * target; value "" removes it there (the level above applies again); a multi-valued attribute
 * takes its values comma-separated.  The value is checked as zxsuite config checks it.  One
 * transaction with the admin_audit row (actor) and the NOTIFY of the accounts concerned, so
 * their devices re-provision at once.  *attr (optional) gets the attribute's full name.
 * Returns 0, 1 when the target is unknown (*err says so), -1 on another error (*err: unknown
 * key, bad value, level not allowed, database error). */
int zx_policy_set(apr_pool_t *p, zx_db *db, const char *actor, zx_level level,
                  const char *target, const char *name, const char *value, const char **attr,
                  const char **err);

#endif
