/* zxmobile - device gate: provisioning and remote wipe (provision.h).
 *
 * The policy key of a device is valid while it is the final key the device acknowledged
 * (devices.policy_key), it was issued for the policy in force now (devices.policy_hash equals
 * the hash of the effective values, so any change of a policy attribute - through
 * setProvisioning, zxsuite prov or zxsuite config - invalidates every key it touches) and it
 * is younger than zimbraMobilePolicyRefreshInterval. */
#include "provision.h"

#include <zxsync/policy.h>

#include <apr_strings.h>

/* Send the device into Provision: 14.0+ the command's Status, older versions (2.5 and 12.x)
 * HTTP 449 ([MS-ASHTTP] 3.2.5.1: "Retry after sending a PROVISION command"; the 449 of every
 * provisioning status is in eas_status.def). */
static int to_provision(zx_request *req, zx_response *resp, zx_eas_status st, const char *why)
{
    zx_respond_status(req, resp, st, ZX_LOG_INFO,
                      apr_psprintf(req->pool, ZXLOGNO(01100) "device must provision (%d): %s",
                                   (int)st, why));
    return 1;
}

static zx_config_scope request_scope(const zx_server *srv, zx_request *req)
{
    zx_config_scope s = {req->account.id, req->account.cos_id, req->account.domain_id,
                         srv->server_name ? srv->server_name : zx_config_server_name(req->pool)};
    return s;
}

int zx_gate_provision(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    /* Provision is how a device answers all of this (eas/cmd_provision.c) */
    if (req->cmd == ZX_CMD_PROVISION)
        return 0;

    /* Remote wipe: with MDM on or off.  After the acknowledgement the device keeps getting the
     * directive (as Exchange re-wipes a wiped device that connects again): nothing is served
     * to it until an administrator removes its record. */
    if (req->device.wipe_status != ZX_WIPE_NONE) {
        if (req->device.wipe_account_only && req->proto < ZX_V161) {
            zx_respond_http(req, resp, 403, ZX_LOG_NOTICE,
                            apr_psprintf(p, ZXLOGNO(01101) "account-only remote wipe %s: the "
                                         "device speaks %s, AccountOnlyRemoteWipe needs 16.1",
                                         req->device.wipe_status == ZX_WIPE_DONE ? "done"
                                                                                 : "pending",
                                         req->proto_str));
            return 1;
        }
        return to_provision(req, resp, ZX_EAS_REMOTE_WIPE_REQUESTED,
                            req->device.wipe_status == ZX_WIPE_DONE
                                ? "remote wipe acknowledged, the device is wiped again"
                                : "remote wipe requested");
    }

    /* MDM off (read with the account, gate/auth.c): no policy applies */
    if (req->mdm_off)
        return 0;

    const char *err = NULL;
    zx_db *db = zx_request_db(srv, req, &err);
    zx_config_scope scope = request_scope(srv, req);
    zx_policy pol;
    zx_policy_device dev;
    if (!db || zx_policy_resolve(p, db, &scope, req->device_row, &pol, &dev, &err) < 0) {
        zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                          apr_psprintf(p, ZXLOGNO(01102) "cannot read the mobile policy: %s",
                                       err ? err : "internal error"));
        zx_retry_after_db(resp);
        return 1;
    }
    if (!pol.mdm)
        return 0;

    /* A device that never sends a policy key cannot provision.  At 2.5 too the key travels in
     * X-MS-PolicyKey and the policy comes as MS-WAP-Provisioning-XML (eas/cmd_provision.c); a
     * 2.5 device without the header does not know Provision at all, so under a strict policy it
     * is refused (403) rather than sent into a command it cannot send (449 for ever). */
    if (!req->has_policy_key) {
        if (pol.allow_nonprovisionable)
            return 0;
        if (req->proto < ZX_V120) {
            zx_respond_http(req, resp, 403, ZX_LOG_NOTICE,
                            ZXLOGNO(01103) "protocol 2.5 device without X-MS-PolicyKey and "
                            "zimbraMobilePolicyAllowNonProvisionableDevices is FALSE");
            return 1;
        }
        /* [MS-ASPROV] 3.1.5.2: 141, "the client did not submit a policy key value ... the server
         * is configured to not allow clients that do not submit a policy key value" */
        return to_provision(req, resp, ZX_EAS_LEGACY_DEVICE_ON_STRICT_POLICY,
                            "no X-MS-PolicyKey and non-provisionable devices are not allowed");
    }
    if (req->policy_key == 0 || !req->device.has_policy_key)
        return to_provision(req, resp, ZX_EAS_DEVICE_NOT_PROVISIONED, "no policy key yet");
    if (req->policy_key != req->device.policy_key)
        return to_provision(req, resp, ZX_EAS_INVALID_POLICY_KEY,
                            apr_psprintf(p, "policy key %lu is not the current one",
                                         (unsigned long)req->policy_key));
    if (!dev.has_hash || dev.hash != pol.hash)
        return to_provision(req, resp, ZX_EAS_POLICY_REFRESH, "the policy changed");
    if (pol.refresh_minutes > 0 && dev.provisioned_age >= 0 &&
        dev.provisioned_age >= pol.refresh_minutes * 60)
        return to_provision(req, resp, ZX_EAS_POLICY_REFRESH,
                            "zimbraMobilePolicyRefreshInterval passed");
    return 0;
}
