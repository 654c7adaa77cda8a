/* zxsuite mobile: mobile device management and remote wipe (spec 3.2, 4.2, 12.1).
 *
 *   getProvisioning {account|cos} <target> [key <name>]
 *   setProvisioning {account|cos} <target> <key> <value>
 *   doWipeDevice <account> <device_id> [confirm true] [account_only true]
 *   doCancelWipeDevice <account> <device_id>
 *
 * Keys are the policy attributes (zimbraMobilePolicy*, zimbraFeatureMobilePolicyEnabled), by
 * full name or short name (without the zimbraMobilePolicy prefix).  Each command is a thin
 * call into libzxsync (zxsync/policy.h, zxsync/wipe.h). */
#include "cli.h"

#include <apr_strings.h>
#include <zxsync/audit.h>
#include <zxsync/config.h>
#include <zxsync/policy.h>
#include <zxsync/wipe.h>

#include <string.h>

static int parse_level(cli *c, const char *s, zx_level *level, const char **err)
{
    if (strcasecmp(s, "account") == 0)
        *level = ZX_LEVEL_ACCOUNT;
    else if (strcasecmp(s, "cos") == 0)
        *level = ZX_LEVEL_COS;
    else {
        *err = apr_psprintf(c->pool, "unknown level \"%s\": provisioning is per account or "
                                     "cos", s);
        return -1;
    }
    return 0;
}

/* true/false option -> 1/0, -1 (and *err) when malformed, 0 when absent */
static int bool_option(cli *c, int argc, const char **argv, int first, const char *name,
                       const char **err)
{
    const char *v = cli_option(argc, argv, first, name);
    if (!v)
        return 0;
    if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0)
        return 1;
    if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0)
        return 0;
    *err = apr_psprintf(c->pool, "%s takes true or false, not \"%s\"", name, v);
    return -1;
}

static ov *value_ov(apr_pool_t *p, const zx_attr_def *a, const char *v)
{
    if (!a || !a->multi)
        return ov_str(p, v);
    ov *arr = ov_new(p, OV_ARR);
    char *copy = apr_pstrdup(p, v), *last = NULL;
    for (char *tok = apr_strtok(copy, "\n", &last); tok; tok = apr_strtok(NULL, "\n", &last))
        ov_push(arr, ov_str(p, tok));
    return arr;
}

static int cmd_get_provisioning(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const allowed[] = {"key", NULL};
    zx_level level;
    if (parse_level(c, argv[0], &level, err) < 0 ||
        cli_check_options(c, argc, argv, 2, allowed, err) < 0)
        return -1;
    const char *key = cli_option(argc, argv, 2, "key");
    const zx_policy_item *only = NULL;
    if (key && !(only = zx_policy_item_find(key))) {
        *err = apr_psprintf(c->pool, "unknown provisioning key \"%s\" (without key, "
                                     "getProvisioning lists them)", key);
        return -1;
    }
    zx_config_scope scope;
    zx_policy pol;
    if (cli_need_db(c, err) < 0)
        return -1;
    int rc = zx_config_level_scope(c->pool, c->db, level, argv[1], &scope, err);
    if (rc != 1)
        return -1;
    if (zx_policy_resolve(c->pool, c->db, &scope, NULL, &pol, NULL, err) < 0)
        return -1;
    apr_size_t n;
    const zx_policy_item *items = zx_policy_items(&n);
    ov *attrs = ov_new(c->pool, OV_OBJ);
    for (apr_size_t i = 0; i < n; i++) {
        if (only && only != &items[i])
            continue;
        const zx_attr_def *a = zx_attr_find(items[i].attr);
        ov *o = ov_new(c->pool, OV_OBJ);
        ov_set(o, "value", value_ov(c->pool, a, pol.values[i]));
        ov_set(o, "isInherited", ov_bool(c->pool, pol.from[i] != level));
        ov_set(o, "source", ov_str(c->pool, zx_level_name(pol.from[i])));
        ov_set(attrs, a->name, o);
    }
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "level", ov_str(c->pool, zx_level_name(level)));
    ov_set(*out, "target", ov_str(c->pool, argv[1]));
    if (!only) {
        ov_set(*out, "mdmEnabled", ov_bool(c->pool, pol.mdm));
        ov_set(*out, "policyHash",
               ov_str(c->pool, apr_psprintf(c->pool, "%016" APR_UINT64_T_HEX_FMT,
                                            (apr_uint64_t)pol.hash)));
    }
    ov_set(*out, "attributes", attrs);
    return 0;
}

static int cmd_set_provisioning(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    zx_level level;
    const char *attr = NULL;
    if (parse_level(c, argv[0], &level, err) < 0 || cli_need_db(c, err) < 0)
        return -1;
    int rc = zx_policy_set(c->pool, c->db, zx_audit_actor(c->pool), level, argv[1], argv[2],
                           argv[3], &attr, err);
    if (rc != 0)
        return -1;
    const char *stored = NULL;
    if (zx_config_get(c->pool, c->db, level, argv[1], attr, &stored, err) < 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "level", ov_str(c->pool, zx_level_name(level)));
    ov_set(*out, "target", ov_str(c->pool, argv[1]));
    ov_set(*out, "attribute", ov_str(c->pool, attr));
    ov_set(*out, "value", stored ? value_ov(c->pool, zx_attr_find(attr), stored)
                                 : ov_raw(c->pool, "null"));
    return 0;
}

static int cmd_wipe(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    static const char *const allowed[] = {"confirm", "account_only", NULL};
    if (cli_check_options(c, argc, argv, 2, allowed, err) < 0)
        return -1;
    int confirm = bool_option(c, argc, argv, 2, "confirm", err);
    int account_only = confirm < 0 ? 0 : bool_option(c, argc, argv, 2, "account_only", err);
    if (confirm < 0 || account_only < 0 || cli_need_db(c, err) < 0)
        return -1;
    const char *what = account_only
        ? "an account-only remote wipe (AccountOnlyRemoteWipe, protocol 16.1): the device "
          "deletes the data of this account and its credentials"
        : "a remote wipe (RemoteWipe): the device deletes all its data and returns to its "
          "factory settings";
    if (!confirm) {
        /* only explain: check that account and device exist */
        zx_devinfo *d;
        int rc = zx_devadmin_get(c->pool, c->db, argv[0], argv[1], 0, &d, err);
        if (rc != 0)
            return -1;
        *out = ov_new(c->pool, OV_OBJ);
        ov_set(*out, "account", ov_str(c->pool, d->account));
        ov_set(*out, "device_id", ov_str(c->pool, d->device_id));
        ov_set(*out, "wiped", ov_bool(c->pool, 0));
        ov_set(*out, "message",
               ov_str(c->pool, apr_psprintf(c->pool, "device %s of %s would get %s at its next "
                                            "request; nothing was done: add \"confirm true\" "
                                            "to request it (doCancelWipeDevice cancels it "
                                            "until the device acknowledges)",
                                            d->device_id, d->account, what)));
        return 0;
    }
    int rc = zx_wipe_request(c->pool, c->db, zx_audit_actor(c->pool), argv[0], argv[1],
                             account_only, err);
    if (rc != 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "account", ov_str(c->pool, argv[0]));
    ov_set(*out, "device_id", ov_str(c->pool, argv[1]));
    ov_set(*out, "wiped", ov_bool(c->pool, 1));
    ov_set(*out, "account_only", ov_bool(c->pool, account_only));
    ov_set(*out, "message",
           ov_str(c->pool, apr_psprintf(c->pool, "%s requested: sent with the device's next "
                                        "request", account_only ? "account-only remote wipe"
                                                                : "remote wipe")));
    return 0;
}

static int cmd_cancel_wipe(cli *c, int argc, const char **argv, ov **out, const char **err)
{
    if (cli_need_db(c, err) < 0 ||
        zx_wipe_cancel(c->pool, c->db, zx_audit_actor(c->pool), argv[0], argv[1], err) != 0)
        return -1;
    *out = ov_new(c->pool, OV_OBJ);
    ov_set(*out, "account", ov_str(c->pool, argv[0]));
    ov_set(*out, "device_id", ov_str(c->pool, argv[1]));
    ov_set(*out, "message", ov_str(c->pool, "pending remote wipe cancelled"));
    return 0;
}

const command cli_mdm_commands[] = {
    {"mobile", "getProvisioning", 2, 4, "{account|cos} <target> [key <name>]",
     "the mobile policy of an account or a COS: every zimbraMobilePolicy* attribute with its "
     "effective value and where it comes from", cmd_get_provisioning},
    {"mobile", "setProvisioning", 4, 4, "{account|cos} <target> <key> <value>",
     "set a policy attribute (full name, or short name without zimbraMobilePolicy); \"\" "
     "removes it; comma-separated values for the application lists", cmd_set_provisioning},
    {"mobile", "doWipeDevice", 2, 6, "<account> <device_id> [confirm true] [account_only true]",
     "remote wipe of a device at its next request (account_only: AccountOnlyRemoteWipe, 16.1); "
     "without confirm true only explains", cmd_wipe},
    {"mobile", "doCancelWipeDevice", 2, 2, "<account> <device_id>",
     "cancel a remote wipe the device has not acknowledged yet", cmd_cancel_wipe},
    {NULL, NULL, 0, 0, NULL, NULL, NULL}
};
