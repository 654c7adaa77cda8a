/* zxmobile - unit tests of the mobile policy table and document (libzxsync/mdm/policy.c) and of
 * the wipe part of the provisioning gate (libzxsync/gate/provision.c), which needs no database.
 * Check, TAP. */
#include "../../libzxsync/gate/provision.h"

#include <zxsync/config.h>
#include <zxsync/policy.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <string.h>

#include "tap_run.h"

static apr_pool_t *g_pool;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&g_pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(g_pool);
    g_pool = NULL;
}

#include "policy_fixture.h"

/* Text of the child element named name of the document, NULL when absent ("" when empty). */
static const char *el(const zx_wb_node *doc, const char *name)
{
    int tag = zx_wb_tag_lookup(ZX_WB_PAGE(ZX_Provision_EASProvisionDoc), name);
    ck_assert_int_ge(tag, 0);
    const zx_wb_node *n = zx_wb_child(doc, (unsigned)tag);
    if (!n)
        return NULL;
    const char *t = zx_wb_text(g_pool, n);
    return t ? t : "";
}

START_TEST(test_table_covers_every_policy_attribute)
{
    /* every zimbraMobilePolicy* attribute of attrs.def is in the table, and every table entry
     * is a registered attribute that accounts and COS (or global, for the switch) take */
    apr_size_t n, na;
    const zx_policy_item *items = zx_policy_items(&n);
    const zx_attr_def *attrs = zx_attr_all(&na);
    for (apr_size_t i = 0; i < na; i++)
        if (strncmp(attrs[i].name, "zimbraMobilePolicy", 18) == 0 ||
            strcmp(attrs[i].name, "zimbraFeatureMobilePolicyEnabled") == 0)
            ck_assert_msg(zx_policy_item_find(attrs[i].name) != NULL, "%s not in the table",
                          attrs[i].name);
    for (apr_size_t i = 0; i < n; i++) {
        const zx_attr_def *a = zx_attr_find(items[i].attr);
        ck_assert_msg(a != NULL, "%s not registered", items[i].attr);
        ck_assert_str_eq(a->name, items[i].attr);
        ck_assert(items[i].conv == ZX_POL_SWITCH || items[i].conv == ZX_POL_MODIFIER ||
                  items[i].conv == ZX_POL_UI_ONLY || items[i].tag != 0);
        ck_assert(items[i].conv != ZX_POL_LIST || (a->multi && items[i].child_tag));
    }
}
END_TEST

START_TEST(test_item_find)
{
    ck_assert_str_eq(zx_policy_item_find("AllowDesktopSync")->attr,
                     "zimbraMobilePolicyAllowDesktopSync");
    ck_assert_str_eq(zx_policy_item_find("allowdesktopsync")->attr,
                     "zimbraMobilePolicyAllowDesktopSync");
    ck_assert_str_eq(zx_policy_item_find("ZIMBRAMOBILEPOLICYALLOWCAMERA")->attr,
                     "zimbraMobilePolicyAllowCamera");
    ck_assert_str_eq(zx_policy_item_find("FeatureMobilePolicyEnabled")->attr,
                     "zimbraFeatureMobilePolicyEnabled");
    ck_assert_str_eq(zx_policy_item_find("ZxMobile_DeviceManagementEnabled")->attr,
                     "ZxMobile_DeviceManagementEnabled");
    ck_assert_ptr_null(zx_policy_item_find("abqMode"));
    ck_assert_ptr_null(zx_policy_item_find("zimbraFeatureMobileSyncEnabled"));
    ck_assert_ptr_null(zx_policy_item_find("AllowNothing"));
    ck_assert_ptr_null(zx_policy_item_find(""));
    ck_assert_ptr_null(zx_policy_item_find(NULL));
}
END_TEST

START_TEST(test_document_conversions)
{
    zx_policy pol = defaults();
    set(&pol, "MaxInactivityTimeDeviceLock", "15");
    set(&pol, "AllowCamera", "-1");
    set(&pol, "MaxCalendarAgeFilter", "2");
    set(&pol, "MaxEmailBodyTruncationSize", "100");
    set(&pol, "UnapprovedInROMApplication", "a.exe\nb.exe");
    zx_wb_node *doc = zx_policy_document(g_pool, &pol, ZX_V161);
    ck_assert_uint_eq(doc->tag, ZX_Provision_EASProvisionDoc);
    ck_assert_str_eq(el(doc, "DevicePasswordEnabled"), "1");
    ck_assert_str_eq(el(doc, "AllowSimpleDevicePassword"), "0");
    ck_assert_str_eq(el(doc, "MaxInactivityTimeDeviceLock"), "900");
    ck_assert_ptr_null(el(doc, "AllowCamera"));
    ck_assert_ptr_null(el(doc, "MaxCalendarAgeFilter"));
    ck_assert_str_eq(el(doc, "MaxEmailBodyTruncationSize"), "100");
    ck_assert_str_eq(el(doc, "MaxEmailHTMLBodyTruncationSize"), "");
    ck_assert_str_eq(el(doc, "DevicePasswordExpiration"), "");
    ck_assert_str_eq(el(doc, "AllowBluetooth"), "2");
    ck_assert_str_eq(el(doc, "RequireStorageCardEncryption"), "0");
    const zx_wb_node *list = zx_wb_child(doc, ZX_Provision_UnapprovedInROMApplicationList);
    ck_assert_ptr_nonnull(list);
    const zx_wb_node *a = zx_wb_child(list, ZX_Provision_ApplicationName);
    ck_assert_str_eq(zx_wb_text(g_pool, a), "a.exe");
    ck_assert_str_eq(zx_wb_text(g_pool, zx_wb_next(a, ZX_Provision_ApplicationName)), "b.exe");
    ck_assert_ptr_nonnull(zx_wb_child(doc, ZX_Provision_ApprovedApplicationList));
    /* it encodes */
    unsigned char *out;
    apr_size_t len;
    ck_assert_int_eq(zx_wbxml_encode(g_pool, doc, &out, &len), ZX_WBXML_OK);
    ck_assert_uint_gt(len, 100);

    set(&pol, "MaxInactivityTimeDeviceLock", "0");
    set(&pol, "MaxCalendarAgeFilter", "0");
    doc = zx_policy_document(g_pool, &pol, ZX_V161);
    ck_assert_str_eq(el(doc, "MaxInactivityTimeDeviceLock"), "");
    ck_assert_str_eq(el(doc, "MaxCalendarAgeFilter"), "0");
}
END_TEST

START_TEST(test_document_versions)
{
    zx_policy pol = defaults();
    /* 12.0: token 0x10 is DeviceEncryptionEnabled (default TRUE); no 12.1 element */
    zx_wb_node *doc = zx_policy_document(g_pool, &pol, ZX_V120);
    ck_assert_str_eq(el(doc, "RequireStorageCardEncryption"), "1");
    ck_assert_str_eq(el(doc, "MinDevicePasswordLength"), "4");
    ck_assert_ptr_null(el(doc, "AllowBluetooth"));
    ck_assert_ptr_null(zx_wb_child(doc, ZX_Provision_ApprovedApplicationList));
    unsigned n = 0;
    for (const zx_wb_node *c = doc->first; c; c = c->next)
        n += c->tag == ZX_Provision_RequireStorageCardEncryption;
    ck_assert_uint_eq(n, 1);
    set(&pol, "SuppressDeviceEncryption", "TRUE");
    doc = zx_policy_document(g_pool, &pol, ZX_V120);
    ck_assert_ptr_null(el(doc, "RequireStorageCardEncryption"));
    /* 12.1: the element comes from RequireStorageCardEncryption, once */
    set(&pol, "RequireStorageCardEncryption", "TRUE");
    doc = zx_policy_document(g_pool, &pol, ZX_V121);
    ck_assert_str_eq(el(doc, "RequireStorageCardEncryption"), "1");
    n = 0;
    for (const zx_wb_node *c = doc->first; c; c = c->next)
        n += c->tag == ZX_Provision_RequireStorageCardEncryption;
    ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(test_new_key)
{
    for (int i = 0; i < 100; i++)
        ck_assert_uint_ne(zx_policy_new_key(), 0);
    ck_assert_uint_ne(zx_policy_new_key(), zx_policy_new_key());
}
END_TEST

/* The wipe branch of the gate runs before any database access. */
static int gate(zx_version v, zx_cmd cmd, zx_wipe_status wipe, int account_only,
                zx_response *resp)
{
    zx_request req;
    zx_request_init(&req, g_pool);
    req.proto = v;
    req.proto_str = zx_version_str(v);
    req.cmd = cmd;
    req.cmd_name = zx_command_info_get(cmd)->name;
    req.device_row = "1";
    req.device.wipe_status = wipe;
    req.device.wipe_account_only = account_only;
    zx_response_init(resp, g_pool);
    return zx_gate_provision(NULL, &req, resp);
}

static const char *status_of(const zx_response *resp, unsigned root)
{
    zx_wbxml_limits lim = {.max_size = 1 << 20, .max_depth = 32};
    zx_wb_node *doc = NULL;
    apr_size_t off = 0;
    ck_assert_ptr_nonnull(resp->body);
    ck_assert_int_eq(zx_wbxml_decode(g_pool, resp->body, resp->body_len, &lim, &doc, &off),
                     ZX_WBXML_OK);
    ck_assert_uint_eq(doc->tag, root);
    return zx_wb_child_text(g_pool, doc, (unsigned)zx_wb_tag_lookup(ZX_WB_PAGE(root), "Status"));
}

START_TEST(test_gate_wipe)
{
    zx_response resp;
    ck_assert_int_eq(gate(ZX_V141, ZX_CMD_FOLDERSYNC, ZX_WIPE_REQUESTED, 0, &resp), 1);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(status_of(&resp, ZX_FolderHierarchy_FolderSync), "140");
    ck_assert_int_eq(gate(ZX_V161, ZX_CMD_SYNC, ZX_WIPE_DONE, 1, &resp), 1);
    ck_assert_str_eq(status_of(&resp, ZX_AirSync_Sync), "140");
    ck_assert_int_eq(gate(ZX_V121, ZX_CMD_SYNC, ZX_WIPE_REQUESTED, 0, &resp), 1);
    ck_assert_int_eq(resp.status, 449);
    ck_assert_ptr_null(resp.body);
    /* account-only below 16.1: refused outright */
    ck_assert_int_eq(gate(ZX_V141, ZX_CMD_SYNC, ZX_WIPE_REQUESTED, 1, &resp), 1);
    ck_assert_int_eq(resp.status, 403);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX01101"));
    /* Provision itself goes on to the command */
    ck_assert_int_eq(gate(ZX_V141, ZX_CMD_PROVISION, ZX_WIPE_REQUESTED, 0, &resp), 0);
    ck_assert_ptr_null(resp.body);
}
END_TEST

int main(void)
{
    apr_initialize();
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("policy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_table_covers_every_policy_attribute);
    tcase_add_test(tc, test_item_find);
    tcase_add_test(tc, test_document_conversions);
    tcase_add_test(tc, test_document_versions);
    tcase_add_test(tc, test_new_key);
    tcase_add_test(tc, test_gate_wipe);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
