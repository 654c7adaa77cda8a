/* zxmobile - unit tests of the suspension gate (libzxsync/gate/suspend.c): what a device whose
 * sync an administrator suspended gets, by protocol version and command.  Check, TAP. */
#include "../../libzxsync/gate/suspend.h"

#include <apr_general.h>
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

/* Run the gate on a registered request; returns what it returned. */
static int gate(zx_version v, zx_cmd cmd, int suspended, zx_response *resp)
{
    zx_request req;
    zx_request_init(&req, g_pool);
    req.proto = v;
    req.cmd = cmd;
    req.cmd_name = zx_command_info_get(cmd)->name;
    req.device_row = "1";
    req.device.sync_suspended = suspended;
    zx_response_init(resp, g_pool);
    return zx_gate_suspend(NULL, &req, resp);
}

/* The Status child of the response's root element, or NULL. */
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

START_TEST(test_not_suspended)
{
    zx_response resp;
    ck_assert_int_eq(gate(ZX_V141, ZX_CMD_SYNC, 0, &resp), 0);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_ptr_null(resp.body);
    ck_assert_ptr_null(resp.reason);
}
END_TEST

START_TEST(test_status_129_from_14)
{
    static const struct { zx_version v; zx_cmd cmd; unsigned root; } cases[] = {
        {ZX_V140, ZX_CMD_SYNC, ZX_AirSync_Sync},
        {ZX_V141, ZX_CMD_FOLDERSYNC, ZX_FolderHierarchy_FolderSync},
        {ZX_V161, ZX_CMD_PING, ZX_Ping_Ping},
        {ZX_V161, ZX_CMD_PROVISION, ZX_Provision_Provision},
        {ZX_V141, ZX_CMD_SETTINGS, ZX_Settings_Settings},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zx_response resp;
        ck_assert_int_eq(gate(cases[i].v, cases[i].cmd, 1, &resp), 1);
        ck_assert_int_eq(resp.status, 200);
        ck_assert_str_eq(resp.content_type, "application/vnd.ms-sync.wbxml");
        ck_assert_str_eq(status_of(&resp, cases[i].root), "129");
        ck_assert_ptr_nonnull(strstr(resp.reason, "ZX01200"));
        ck_assert_int_eq(resp.reason_level, ZX_LOG_INFO);
    }
}
END_TEST

START_TEST(test_http_403)
{
    /* 12.1 and older: the HTTP status; so is a command without a response element */
    zx_response resp;
    ck_assert_int_eq(gate(ZX_V121, ZX_CMD_SYNC, 1, &resp), 1);
    ck_assert_int_eq(resp.status, 403);
    ck_assert_ptr_null(resp.body);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX01200"));
    ck_assert_int_eq(gate(ZX_V25, ZX_CMD_FOLDERSYNC, 1, &resp), 1);
    ck_assert_int_eq(resp.status, 403);
    ck_assert_int_eq(gate(ZX_V141, ZX_CMD_GETATTACHMENT, 1, &resp), 1);
    ck_assert_int_eq(resp.status, 403);
    ck_assert_ptr_null(resp.body);
}
END_TEST

int main(void)
{
    apr_initialize();
    Suite *s = suite_create("suspend");
    TCase *tc = tcase_create("gate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_not_suspended);
    tcase_add_test(tc, test_status_129_from_14);
    tcase_add_test(tc, test_http_403);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
