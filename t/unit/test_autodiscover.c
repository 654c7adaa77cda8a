/* zxmobile - unit tests of Autodiscover (libzxsync/autodiscover): the URL paths, and the XML
 * form's answers driven directly with a stub authenticator (no httpd, no database): the error
 * documents 600/601, Action/Error for someone else's address, and what happens without a
 * directory.  Check printing TAP.
 */
#include <zxsync/autodiscover.h>
#include <zxsync/log.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "tap_run.h"

static apr_pool_t *g_pool;
static zx_server g_srv;
static char g_log_last[2048];
static zx_log_level g_log_level;

static int cap_level(void *baton, void *ctx, zx_log_level level)
{
    (void)baton;
    (void)ctx;
    (void)level;
    return 1;
}

static void cap_print(void *baton, void *ctx, zx_log_level level, const char *file, int line,
                      const char *msg)
{
    (void)baton;
    (void)ctx;
    (void)file;
    (void)line;
    g_log_level = level;
    snprintf(g_log_last, sizeof g_log_last, "%s", msg);
}

static zx_auth_result g_auth_result;

static zx_auth_result stub_auth(const zx_server *srv, zx_request *req, const char **err)
{
    (void)srv;
    if (g_auth_result == ZX_AUTH_OK) {
        req->account.id = "1";
        req->account.name = "alice@example.com";
        req->account.domain_id = "1";
        req->authenticated = 1;
    }
    if (g_auth_result == ZX_AUTH_ERROR)
        *err = "stub: directory unreachable";
    return g_auth_result;
}

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&g_pool, NULL), APR_SUCCESS);
    memset(&g_srv, 0, sizeof g_srv);
    zx_server_settings_default(&g_srv.settings);
    g_srv.authenticate = stub_auth;
    g_srv.server_name = "node1";
    g_auth_result = ZX_AUTH_OK;
    g_log_last[0] = '\0';
    zx_log_set(cap_level, cap_print, NULL);
}

static void teardown(void)
{
    zx_log_set(NULL, NULL, NULL);
    apr_pool_destroy(g_pool);
    g_pool = NULL;
}

#define REQ_NS ZX_AD_REQUEST_SCHEMA
#define RESP_NS ZX_AD_RESPONSE_SCHEMA

static const char *doc_for(const char *email, const char *schema, const char *ns)
{
    return apr_psprintf(g_pool,
                        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"%s\">"
                        "<Request><EMailAddress>%s</EMailAddress><AcceptableResponseSchema>%s"
                        "</AcceptableResponseSchema></Request></Autodiscover>", ns, email, schema);
}

/* Run one request; returns the body as a string ("" without one). */
static const char *run(zx_method method, const char *body, zx_ad_kind kind, const char *query,
                       zx_response *resp)
{
    zx_request req;
    zx_request_init(&req, g_pool);
    zx_response_init(resp, g_pool);
    req.method = method;
    req.auth_user = "alice@example.com";
    req.auth_password = "pw";
    if (body) {
        req.body = (const unsigned char *)body;
        req.body_len = strlen(body);
    }
    zx_autodiscover_ctx ctx = {"https://mail.example.com", "/Microsoft-Server-ActiveSync", query,
                               ""};
    zx_autodiscover(&g_srv, &req, kind, &ctx, resp);
    return resp->body ? apr_pstrmemdup(g_pool, (const char *)resp->body, resp->body_len) : "";
}

static void assert_error_code(const char *out, const zx_response *resp, const char *code)
{
    ck_assert_int_eq(resp->status, 200);
    ck_assert_str_eq(resp->content_type, "text/xml; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(out, "<Autodiscover xmlns=\"" ZX_AD_ENVELOPE_SCHEMA "\">"));
    ck_assert_ptr_nonnull(strstr(out, "<Response xmlns=\"" RESP_NS "\">"));
    ck_assert_ptr_nonnull(strstr(out, apr_psprintf(g_pool, "<ErrorCode>%s</ErrorCode>", code)));
    ck_assert_ptr_nonnull(strstr(out, "<Error Time=\""));
    ck_assert_ptr_null(strstr(out, "<Action>"));
}

START_TEST(test_paths)
{
    const char *rest = NULL;
    ck_assert_int_eq(zx_autodiscover_path("/autodiscover/autodiscover.xml", NULL), ZX_AD_XML);
    ck_assert_int_eq(zx_autodiscover_path("/AutoDiscover/AutoDiscover.XML", NULL), ZX_AD_XML);
    ck_assert_int_eq(zx_autodiscover_path("/autodiscover/autodiscover.xml/", NULL), ZX_AD_NONE);
    ck_assert_int_eq(zx_autodiscover_path("/autodiscover/autodiscover.xmlx", NULL), ZX_AD_NONE);
    ck_assert_int_eq(zx_autodiscover_path("/autodiscover/", NULL), ZX_AD_NONE);
    ck_assert_int_eq(zx_autodiscover_path(NULL, NULL), ZX_AD_NONE);
    ck_assert_int_eq(zx_autodiscover_path("/Autodiscover/Autodiscover.json", &rest), ZX_AD_JSON);
    ck_assert_str_eq(rest, "");
    ck_assert_int_eq(zx_autodiscover_path("/autodiscover/autodiscover.json/v1.0/a@b.c", &rest),
                     ZX_AD_JSON);
    ck_assert_str_eq(rest, "/v1.0/a@b.c");
    ck_assert_int_eq(zx_autodiscover_path("/autodiscover/autodiscover.jsonx", &rest), ZX_AD_NONE);
}
END_TEST

START_TEST(test_unauthenticated)
{
    zx_response resp;
    zx_request req;
    zx_request_init(&req, g_pool);
    zx_response_init(&resp, g_pool);
    req.method = ZX_METHOD_POST;
    zx_autodiscover_ctx ctx = {"https://x", "/Microsoft-Server-ActiveSync", NULL, ""};
    zx_autodiscover(&g_srv, &req, ZX_AD_XML, &ctx, &resp);
    ck_assert_int_eq(resp.status, 401);
    ck_assert_ptr_nonnull(apr_table_get(resp.headers, "WWW-Authenticate"));
    g_auth_result = ZX_AUTH_NOT_ENABLED;
    run(ZX_METHOD_POST, doc_for("alice@example.com", RESP_NS, REQ_NS), ZX_AD_XML, NULL, &resp);
    ck_assert_int_eq(resp.status, 403);
    g_auth_result = ZX_AUTH_ERROR;
    run(ZX_METHOD_POST, doc_for("alice@example.com", RESP_NS, REQ_NS), ZX_AD_XML, NULL, &resp);
    ck_assert_int_eq(resp.status, 503);
    ck_assert_str_eq(apr_table_get(resp.headers, "Retry-After"), "5");     /* ZX_RETRY_AFTER_DB */
}
END_TEST

START_TEST(test_error_600)
{
    zx_response resp;
    const char *out = run(ZX_METHOD_GET, NULL, ZX_AD_XML, NULL, &resp);
    assert_error_code(out, &resp, "600");
    ck_assert_ptr_nonnull(strstr(g_log_last, "ZX01301: "));
    ck_assert_int_eq(g_log_level, ZX_LOG_INFO);

    out = run(ZX_METHOD_POST, NULL, ZX_AD_XML, NULL, &resp);
    assert_error_code(out, &resp, "600");
    ck_assert_ptr_nonnull(strstr(out, "<DebugData>empty request</DebugData>"));

    out = run(ZX_METHOD_POST, "<Autodiscover", ZX_AD_XML, NULL, &resp);
    assert_error_code(out, &resp, "600");
    ck_assert_ptr_nonnull(strstr(g_log_last, "ZX01303: invalid Autodiscover request: malformed XML"));

    /* an external entity is never read */
    out = run(ZX_METHOD_POST,
              "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
              "<Autodiscover xmlns=\"" REQ_NS "\"><Request><EMailAddress>&x;</EMailAddress>"
              "</Request></Autodiscover>", ZX_AD_XML, NULL, &resp);
    assert_error_code(out, &resp, "600");
    ck_assert_ptr_nonnull(strstr(out, "DOCTYPE"));
    ck_assert_ptr_null(strstr(out, "root:"));

    out = run(ZX_METHOD_POST, "<Autodiscover xmlns=\"" REQ_NS "\"><Request/></Autodiscover>",
              ZX_AD_XML, NULL, &resp);
    assert_error_code(out, &resp, "600");
    ck_assert_ptr_nonnull(strstr(g_log_last, "ZX01306: "));

    out = run(ZX_METHOD_POST, doc_for("alice@example.com", RESP_NS, "urn:other"), ZX_AD_XML,
              NULL, &resp);
    assert_error_code(out, &resp, "600");
    ck_assert_ptr_nonnull(strstr(g_log_last, "ZX01305: "));
}
END_TEST

START_TEST(test_error_601)
{
    zx_response resp;
    const char *schema =
        "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
    const char *out = run(ZX_METHOD_POST, doc_for("alice@example.com", schema, REQ_NS),
                          ZX_AD_XML, NULL, &resp);
    assert_error_code(out, &resp, "601");
    ck_assert_ptr_nonnull(strstr(out, "<Message>Requested response schema not available</Message>"));
    ck_assert_ptr_nonnull(strstr(g_log_last, "ZX01304: "));
}
END_TEST

START_TEST(test_other_address)
{
    zx_response resp;
    const char *out = run(ZX_METHOD_POST, doc_for("bob&lt;x&gt;@example.com", RESP_NS, REQ_NS),
                          ZX_AD_XML, NULL, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_ptr_nonnull(strstr(out, "<Action>"));
    ck_assert_ptr_nonnull(strstr(out, "<Status>2</Status>"));
    /* the address comes back escaped */
    ck_assert_ptr_nonnull(strstr(out, "<EMailAddress>bob&lt;x&gt;@example.com</EMailAddress>"));
    ck_assert_ptr_null(strstr(out, "<Settings>"));
    ck_assert_ptr_nonnull(strstr(g_log_last, "ZX01307: "));
    ck_assert_int_eq(g_log_level, ZX_LOG_NOTICE);
}
END_TEST

/* The right address, but no directory to read the display name from: Action/Error with
 * Status 2, as [MS-ASCMD] 4.2.2 shows for a directory that cannot be reached. */
START_TEST(test_no_directory)
{
    zx_response resp;
    const char *out = run(ZX_METHOD_POST, doc_for(" Alice@Example.COM ", RESP_NS, REQ_NS),
                          ZX_AD_XML, NULL, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_ptr_nonnull(strstr(out, "<Status>2</Status>"));
    ck_assert_ptr_nonnull(strstr(out, "<Message>The directory service could not be reached</Message>"));
    ck_assert_ptr_nonnull(strstr(g_log_last, "ZX01308: Autodiscover for alice@example.com failed"));
    ck_assert_int_eq(g_log_level, ZX_LOG_ERR);
}
END_TEST

START_TEST(test_json_errors)
{
    zx_response resp;
    const char *out = run(ZX_METHOD_GET, NULL, ZX_AD_JSON, "Email=a@b.c&Protocol=Ews", &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_str_eq(resp.content_type, "application/json; charset=utf-8");
    ck_assert_str_eq(out, "{\"ErrorCode\":\"InvalidProtocol\",\"ErrorMessage\":\"The given protocol "
                          "value 'Ews' is invalid. Supported values are 'ActiveSync,AutodiscoverV1'\"}");
    /* quotes and control characters are escaped in JSON */
    out = run(ZX_METHOD_GET, NULL, ZX_AD_JSON, "Email=a@b.c&Protocol=%22x%0A", &resp);
    ck_assert_ptr_nonnull(strstr(out, "'\\\"x\\u000a'"));
    out = run(ZX_METHOD_GET, NULL, ZX_AD_JSON, "Protocol=ActiveSync", &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_ptr_nonnull(strstr(out, "InvalidUser"));
    out = run(ZX_METHOD_POST, NULL, ZX_AD_JSON, "Email=a@b.c&Protocol=ActiveSync", &resp);
    ck_assert_int_eq(resp.status, 405);
    ck_assert_str_eq(apr_table_get(resp.headers, "Allow"), "GET");
    /* without a directory: 503 */
    out = run(ZX_METHOD_GET, NULL, ZX_AD_JSON, "Email=a@b.c&Protocol=ActiveSync", &resp);
    ck_assert_int_eq(resp.status, 503);
    ck_assert_int_eq(g_log_level, ZX_LOG_ERR);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("autodiscover");
    TCase *tc = tcase_create("autodiscover");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_paths);
    tcase_add_test(tc, test_unauthenticated);
    tcase_add_test(tc, test_error_600);
    tcase_add_test(tc, test_error_601);
    tcase_add_test(tc, test_other_address);
    tcase_add_test(tc, test_no_directory);
    tcase_add_test(tc, test_json_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    apr_initialize();
    zx_autodiscover_init();
    return zx_run_tap(suite());
}
