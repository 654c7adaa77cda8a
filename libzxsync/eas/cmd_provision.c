/* zxmobile - Provision ([MS-ASCMD] 2.2.1.14, [MS-ASPROV] 3.2.5.1).
 *
 * Two phases: the initial request (Policies/Policy/PolicyType) gets the policy
 * (EASProvisionDoc from 12.0; at 2.5, PolicyType MS-WAP-Provisioning-XML, the same policy as the
 * WAP provisioning document in Data, mdm/wap.c) with a temporary key; the acknowledgement (PolicyKey = that key, Status =
 * how the device applied it) gets the final key, which the device then sends with every
 * request (gate/provision.c).  From 14.1 the initial request may carry settings:DeviceInformation,
 * stored as the Settings command stores it (deviceinfo.c).  A pending remote wipe answers any
 * initial request with RemoteWipe (AccountOnlyRemoteWipe, 16.1, for an account-only wipe); the
 * device's acknowledgement marks the wipe done.
 *
 * Provision Status ([MS-ASPROV] 2.2.2.54.2, 3.1.5.2): 1 success, 2 protocol error, 3 server
 * error; 139 partial application refused, 141 no application refused, 145 externally managed
 * refused (14.0+; older versions get HTTP 403).  Policy Status (2.2.2.54.1): 1 success, 2 no
 * policy (MDM off for the account), 3 unknown PolicyType, 5 wrong policy key acknowledged.
 */
#include "handlers.h"
#include "deviceinfo.h"

#include <zxsync/audit.h>
#include <zxsync/log.h>
#include <zxsync/policy.h>

#include <apr_strings.h>

#include <stdlib.h>
#include <string.h>

#define ST_SUCCESS 1
#define ST_PROTOCOL_ERROR 2
#define ST_SERVER_ERROR 3

#define POL_SUCCESS 1
#define POL_NO_POLICY 2
#define POL_UNKNOWN_TYPE 3
#define POL_WRONG_KEY 5

/* Client Status in an acknowledgement ([MS-ASPROV] 2.2.2.54.1) */
#define ACK_APPLIED 1
#define ACK_PARTIAL 2
#define ACK_NOT_APPLIED 3
#define ACK_THIRD_PARTY 4

typedef struct {
    const zx_server *srv;
    zx_request *req;
    zx_response *resp;
    zx_wb_node *devinfo;        /* settings:DeviceInformation of the response, or NULL */
    const char *err;
} prov_ctx;

/* "1".."4294967295" -> key; 0 when malformed */
static uint32_t parse_key(const char *s)
{
    if (!s || !*s || strlen(s) > 10)
        return 0;
    for (const char *c = s; *c; c++)
        if (*c < '0' || *c > '9')
            return 0;
    unsigned long long v = strtoull(s, NULL, 10);
    return v > 0xFFFFFFFFULL ? 0 : (uint32_t)v;
}

/* 1-digit status "lo".."hi" -> value, 0 when malformed or absent */
static int parse_digit(const char *s, int lo, int hi)
{
    if (!s || strlen(s) != 1 || s[0] < '0' + lo || s[0] > '0' + hi)
        return 0;
    return s[0] - '0';
}

static zx_wb_node *response(prov_ctx *c, int status)
{
    apr_pool_t *p = c->req->pool;
    zx_wb_node *root = zx_wb_new(p, ZX_Provision_Provision);
    if (c->devinfo)
        zx_wb_append(root, c->devinfo);
    zx_wb_add_textf(p, root, ZX_Provision_Status, "%d", status);
    return root;
}

static void answer(prov_ctx *c, zx_wb_node *root, zx_log_level level, const char *reason)
{
    zx_respond_wbxml(c->req, c->resp, root);
    c->resp->reason = reason;
    c->resp->reason_level = level;
}

static void server_error(prov_ctx *c, const char *what)
{
    answer(c, response(c, ST_SERVER_ERROR), ZX_LOG_ERR,
         apr_psprintf(c->req->pool, ZXLOGNO(01104) "Provision: %s failed: %s", what,
                      c->err ? c->err : "internal error"));
}

/* The wipe directive of this device: RemoteWipe, or AccountOnlyRemoteWipe for an account-only
 * wipe (16.1; the gate refuses such a device below 16.1 before it gets here for any other
 * command). */
static unsigned wipe_tag(const zx_request *req)
{
    return req->device.wipe_account_only ? ZX_Provision_AccountOnlyRemoteWipe
                                         : ZX_Provision_RemoteWipe;
}

static void send_wipe(prov_ctx *c, int status)
{
    zx_request *req = c->req;
    if (req->device.wipe_account_only && req->proto < ZX_V161) {
        zx_respond_http(req, c->resp, 403, ZX_LOG_NOTICE,
                        apr_psprintf(req->pool, ZXLOGNO(01105) "account-only remote wipe "
                                     "pending: the device speaks %s, AccountOnlyRemoteWipe "
                                     "needs 16.1", req->proto_str));
        return;
    }
    zx_wb_node *root = response(c, status);
    zx_wb_add(req->pool, root, wipe_tag(req));
    answer(c, root, ZX_LOG_NOTICE,
         apr_psprintf(req->pool, ZXLOGNO(01106) "%s directive sent",
                      zx_wb_tag_name(wipe_tag(req))));
}

/* The device's answer to the wipe directive. */
static void wipe_ack(prov_ctx *c, const zx_wb_node *ack)
{
    zx_request *req = c->req;
    apr_pool_t *p = req->pool;
    int st = parse_digit(zx_wb_child_text(p, ack, ZX_Provision_Status), 1, 2);
    if (!st) {
        answer(c, response(c, ST_PROTOCOL_ERROR), ZX_LOG_INFO,
             ZXLOGNO(01107) "Provision: remote wipe acknowledgement without a valid Status");
        return;
    }
    if (req->device.wipe_status == ZX_WIPE_NONE) {
        /* cancelled meanwhile, or never asked: nothing to record */
        answer(c, response(c, ST_SUCCESS), ZX_LOG_NOTICE,
             ZXLOGNO(01108) "Provision: remote wipe acknowledged but no wipe is pending");
        return;
    }
    if (st == 2) {
        /* [MS-ASPROV] 3.2.5.1.2.2: failure - Status 2 and the directive again */
        send_wipe(c, ST_PROTOCOL_ERROR);
        c->resp->reason = ZXLOGNO(01109) "Provision: the device reports the remote wipe failed";
        return;
    }
    zx_db *db = zx_request_db(c->srv, req, &c->err);
    int own = 0, rc = -1;
    if (db && zx_db_tx_begin(db, &own, &c->err) == 0) {
        const char *params[1] = {req->device_row};
        long n = zx_db_affected(db,
            "UPDATE devices SET wipe_status = 2, wipe_done_at = COALESCE(wipe_done_at, now()) "
            "WHERE id = $1::bigint AND wipe_status IN (1, 2) AND wipe_done_at IS NULL",
            1, params, &c->err);
        rc = n < 0 ? -1 : 0;
        if (n > 0)
            rc = zx_audit_record(db, "server", "wipeAcknowledged", req->account.name,
                                 req->device_id,
                                 req->device.wipe_account_only ? "account-only remote wipe done"
                                                               : "remote wipe done",
                                 &c->err);
        rc = zx_db_tx_end(db, own, rc, &c->err);
    }
    if (rc < 0) {
        server_error(c, "recording the remote wipe");
        return;
    }
    req->device.wipe_status = ZX_WIPE_DONE;
    answer(c, response(c, ST_SUCCESS), ZX_LOG_NOTICE,
         apr_psprintf(p, ZXLOGNO(01110) "Provision: %s acknowledged, device %s is wiped",
                      zx_wb_tag_name(wipe_tag(req)), req->device_id));
}

/* settings:DeviceInformation (14.1+): its status element for the response, or -1 when the
 * element is not allowed (protocol error of the whole request). */
static int device_information(prov_ctx *c, const zx_wb_node *di)
{
    zx_request *req = c->req;
    apr_pool_t *p = req->pool;
    if (req->proto < ZX_V141)
        return -1;
    const zx_wb_node *set = zx_wb_child(di, ZX_Settings_Set);
    int st = ZX_DEVINFO_PROTOCOL_ERROR;
    if (set)
        st = zx_device_info_set(c->srv, req, set, &c->err);
    if (st == ZX_DEVINFO_SERVER_UNAVAILABLE)
        zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(01111) "Provision: DeviceInformation of %s "
               "not stored: %s", req->device_id, c->err ? c->err : "internal error");
    c->devinfo = zx_wb_new(p, ZX_Settings_DeviceInformation);
    zx_wb_add_textf(p, c->devinfo, ZX_Settings_Status, "%d", st);
    return st;
}

static zx_wb_node *policy_node(prov_ctx *c, zx_wb_node *root, const char *type, int st)
{
    apr_pool_t *p = c->req->pool;
    zx_wb_node *pol = zx_wb_add(p, zx_wb_add(p, root, ZX_Provision_Policies), ZX_Provision_Policy);
    zx_wb_add_text(p, pol, ZX_Provision_PolicyType, type);
    zx_wb_add_textf(p, pol, ZX_Provision_Status, "%d", st);
    return pol;
}

static void refuse(prov_ctx *c, zx_eas_status st, const char *why)
{
    zx_request *req = c->req;
    const char *reason = apr_psprintf(req->pool, ZXLOGNO(01112) "Provision refused (%d): %s",
                                      (int)st, why);
    if (req->proto < ZX_V140) {
        zx_respond_http(req, c->resp, 403, ZX_LOG_NOTICE, reason);
        return;
    }
    answer(c, response(c, (int)st), ZX_LOG_NOTICE, reason);
}

static void policy_request(prov_ctx *c, const zx_wb_node *policy)
{
    zx_request *req = c->req;
    apr_pool_t *p = req->pool;
    const char *type = zx_wb_child_text(p, policy, ZX_Provision_PolicyType);
    const char *key_text = zx_wb_child_text(p, policy, ZX_Provision_PolicyKey);
    const char *ack_text = zx_wb_child_text(p, policy, ZX_Provision_Status);
    if (!type) {
        answer(c, response(c, ST_PROTOCOL_ERROR), ZX_LOG_INFO,
             ZXLOGNO(01113) "Provision: Policy without PolicyType");
        return;
    }
    /* [MS-ASPROV] 2.2.2.43: MS-WAP-Provisioning-XML is the format of 2.5,
     * MS-EAS-Provisioning-WBXML the one of 12.0 and later; any other pairing is an unknown
     * PolicyType (Policy Status 3). */
    int wap = req->proto < ZX_V120;
    if (strcmp(type, wap ? ZX_POLICY_TYPE_WAP : ZX_POLICY_TYPE) != 0) {
        zx_wb_node *root = response(c, ST_SUCCESS);
        policy_node(c, root, type, POL_UNKNOWN_TYPE);
        answer(c, root, ZX_LOG_INFO,
             apr_psprintf(p, ZXLOGNO(01114) "Provision: PolicyType \"%s\" not offered at %s",
                          type, req->proto_str));
        return;
    }
    zx_db *db = zx_request_db(c->srv, req, &c->err);
    zx_config_scope scope = {req->account.id, req->account.cos_id, req->account.domain_id,
                             c->srv->server_name ? c->srv->server_name
                                                 : zx_config_server_name(p)};
    zx_policy pol;
    zx_policy_device dev;
    if (!db || zx_policy_resolve(p, db, &scope, req->device_row, &pol, &dev, &c->err) < 0) {
        server_error(c, "reading the policy");
        return;
    }
    if (!pol.mdm) {
        /* MDM off: no policy, no key to enforce */
        zx_wb_node *root = response(c, ST_SUCCESS);
        policy_node(c, root, type, POL_NO_POLICY);
        answer(c, root, ZX_LOG_DEBUG, NULL);
        return;
    }

    if (!key_text) {
        /* phase 1: the policy with a temporary key */
        uint32_t temp = zx_policy_new_key();
        const char *params[3] = {req->device_row, apr_psprintf(p, "%lu", (unsigned long)temp),
                                 apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)pol.hash)};
        if (zx_db_run(db, "UPDATE devices SET policy_key_temp = $2::bigint, "
                          "policy_hash_temp = $3::bigint WHERE id = $1::bigint",
                      3, params, &c->err) < 0) {
            server_error(c, "storing the temporary policy key");
            return;
        }
        zx_wb_node *root = response(c, ST_SUCCESS);
        zx_wb_node *pn = policy_node(c, root, type, POL_SUCCESS);
        zx_wb_add_text(p, pn, ZX_Provision_PolicyKey, params[1]);
        if (wap)
            /* 2.5: the WAP provisioning document as the text of Data (2.2.2.24.2) */
            zx_wb_add_text(p, pn, ZX_Provision_Data, zx_policy_wap_document(p, &pol));
        else
            zx_wb_append(zx_wb_add(p, pn, ZX_Provision_Data),
                         zx_policy_document(p, &pol, req->proto));
        answer(c, root, ZX_LOG_DEBUG, NULL);
        return;
    }

    /* phase 2: the acknowledgement */
    uint32_t key = parse_key(key_text);
    int ack = ack_text ? parse_digit(ack_text, 1, 4) : ACK_APPLIED;
    if (!ack) {
        answer(c, response(c, ST_PROTOCOL_ERROR), ZX_LOG_INFO,
             apr_psprintf(p, ZXLOGNO(01115) "Provision: acknowledgement with Status \"%s\"",
                          ack_text));
        return;
    }
    if (!key || !dev.has_temp || key != dev.temp_key) {
        zx_wb_node *root = response(c, ST_SUCCESS);
        policy_node(c, root, type, POL_WRONG_KEY);
        answer(c, root, ZX_LOG_INFO,
             apr_psprintf(p, ZXLOGNO(01116) "Provision: acknowledgement of policy key %s, "
                          "not the one sent", key_text));
        return;
    }
    zx_eas_status refused = 0;
    const char *why = NULL;
    if (ack == ACK_PARTIAL && !pol.allow_partial) {
        refused = ZX_EAS_DEVICE_NOT_FULLY_PROVISIONABLE;
        why = "partial application and zimbraMobilePolicyAllowPartialProvisioning is FALSE";
    }
    else if (ack == ACK_NOT_APPLIED && !pol.allow_nonprovisionable) {
        refused = ZX_EAS_LEGACY_DEVICE_ON_STRICT_POLICY;
        why = "policy not applied and zimbraMobilePolicyAllowNonProvisionableDevices is FALSE";
    }
    else if (ack == ACK_THIRD_PARTY && !pol.allow_nonprovisionable) {
        refused = ZX_EAS_EXTERNALLY_MANAGED_DEVICES_NOT_ALLOWED;
        why = "externally managed and zimbraMobilePolicyAllowNonProvisionableDevices is FALSE";
    }
    if (refused) {
        const char *params[1] = {req->device_row};
        if (zx_db_run(db, "UPDATE devices SET policy_key_temp = NULL, policy_hash_temp = NULL, "
                          "policy_ack_status = NULL WHERE id = $1::bigint",
                      1, params, &c->err) < 0) {
            server_error(c, "clearing the temporary policy key");
            return;
        }
        refuse(c, refused, why);
        return;
    }
    uint32_t final = zx_policy_new_key();
    const char *params[4] = {req->device_row, apr_psprintf(p, "%lu", (unsigned long)final),
                             apr_itoa(p, ack), key_text};
    long n = zx_db_affected(db,
        "UPDATE devices SET policy_key = $2::bigint, policy_hash = policy_hash_temp, "
        "policy_key_temp = NULL, policy_hash_temp = NULL, provisioned_at = now(), "
        "policy_ack_status = $3::smallint WHERE id = $1::bigint AND policy_key_temp = $4::bigint",
        4, params, &c->err);
    if (n < 0) {
        server_error(c, "storing the policy key");
        return;
    }
    zx_wb_node *root = response(c, ST_SUCCESS);
    if (n == 0) {
        /* another request of the device acknowledged (or restarted) meanwhile */
        policy_node(c, root, type, POL_WRONG_KEY);
        answer(c, root, ZX_LOG_INFO, ZXLOGNO(01117) "Provision: temporary key replaced meanwhile");
        return;
    }
    req->device.has_policy_key = 1;
    req->device.policy_key = final;
    zx_wb_node *pn = policy_node(c, root, type, POL_SUCCESS);
    zx_wb_add_text(p, pn, ZX_Provision_PolicyKey, params[1]);
    answer(c, root, ZX_LOG_INFO,
         apr_psprintf(p, ZXLOGNO(01118) "Provision: device %s provisioned (acknowledged with "
                      "Status %d)", req->device_id, ack));
}

void zx_cmd_provision(const zx_server *srv, zx_request *req, zx_response *resp)
{
    prov_ctx c = {srv, req, resp, NULL, NULL};
    const zx_wb_node *devinfo = NULL, *policies = NULL, *wipe = NULL;
    int bad = !req->doc;
    for (const zx_wb_node *n = req->doc ? req->doc->first : NULL; n && !bad; n = n->next) {
        if (n->kind != ZX_WB_ELEMENT)
            continue;
        if (n->tag == ZX_Settings_DeviceInformation && !devinfo)
            devinfo = n;
        else if (n->tag == ZX_Provision_Policies && !policies)
            policies = n;
        else if ((n->tag == ZX_Provision_RemoteWipe ||
                  (n->tag == ZX_Provision_AccountOnlyRemoteWipe && req->proto >= ZX_V161)) && !wipe)
            wipe = n;
        else
            bad = 1;
    }
    const zx_wb_node *policy = policies ? zx_wb_child(policies, ZX_Provision_Policy) : NULL;
    if (!bad && policies && (!policy || zx_wb_next(policy, ZX_Provision_Policy)))
        bad = 1;      /* exactly one Policy ([MS-ASPROV] 2.2.2.40) */
    if (!bad && devinfo && device_information(&c, devinfo) < 0)
        bad = 1;
    if (bad) {
        c.devinfo = NULL;
        answer(&c, response(&c, ST_PROTOCOL_ERROR), ZX_LOG_INFO,
             ZXLOGNO(01119) "Provision request with an unknown, repeated or misplaced element");
        return;
    }
    if (wipe) {
        wipe_ack(&c, wipe);
        return;
    }
    if (req->device.wipe_status != ZX_WIPE_NONE) {
        send_wipe(&c, ST_SUCCESS);
        return;
    }
    if (!policy) {
        /* an empty Provision (what a device sends after status 140): nothing pending */
        answer(&c, response(&c, ST_SUCCESS), ZX_LOG_DEBUG, NULL);
        return;
    }
    policy_request(&c, policy);
}
