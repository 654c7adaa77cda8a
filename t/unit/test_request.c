/* zxmobile - unit tests of the request value ([MS-ASHTTP]): both query forms, versions,
 * commands, headers, Basic credentials, and the pipeline entry zx_handle() driven directly
 * (no httpd).  Check printing TAP.
 */
#include <zxsync/eas.h>
#include <zxsync/server.h>
#include <zxsync/log.h>
#include <zxsync/wbxml.h>

#include <apr_base64.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap_run.h"
/* zx_command_handler_get: the command table of eas/handlers.c (OPTIONS is checked against it) */
#include "../../libzxsync/eas/handlers.h"

static apr_pool_t *g_pool;
static zx_server g_srv;

/* captured log lines */
static unsigned g_log_count;
static char g_log_last[1024];

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
    (void)level;
    (void)file;
    (void)line;
    g_log_count++;
    snprintf(g_log_last, sizeof g_log_last, "%s", msg);
}

/* Stub authenticator: the directory is not part of these tests. */
static zx_auth_result g_auth_result;
static const char *g_auth_account;   /* NULL: the account the User parameter names */
static unsigned g_auth_calls;

static zx_auth_result stub_auth(const zx_server *srv, zx_request *req, const char **err)
{
    (void)srv;
    g_auth_calls++;
    switch (g_auth_result) {
    case ZX_AUTH_OK:
    case ZX_AUTH_LOCKED:
    case ZX_AUTH_CLOSED:
    case ZX_AUTH_NOT_ENABLED:
        break;
    case ZX_AUTH_ERROR:
        *err = "stub: directory unreachable";
        return ZX_AUTH_ERROR;
    default:
        return g_auth_result;
    }
    const char *name = g_auth_account;
    if (!name) {
        const char *u = req->user ? req->user : "alice";
        const char *bs = strrchr(u, '\\');
        if (bs)
            u = bs + 1;
        name = strchr(u, '@') ? u : apr_pstrcat(req->pool, u, "@example.com", NULL);
    }
    req->account.id = "00000000-0000-0000-0000-000000000001";
    req->account.name = name;
    req->authenticated = 1;
    return g_auth_result;
}

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&g_pool, NULL), APR_SUCCESS);
    memset(&g_srv, 0, sizeof g_srv);
    zx_server_settings_default(&g_srv.settings);
    g_srv.authenticate = stub_auth;
    g_auth_result = ZX_AUTH_OK;
    g_auth_account = NULL;
    g_auth_calls = 0;
    g_log_count = 0;
    g_log_last[0] = '\0';
    zx_log_set(cap_level, cap_print, NULL);
}

static void teardown(void)
{
    zx_log_set(NULL, NULL, NULL);
    apr_pool_destroy(g_pool);
    g_pool = NULL;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static const char *b64(const unsigned char *raw, size_t n)
{
    char *out = apr_palloc(g_pool, (apr_size_t)apr_base64_encode_len((int)n));
    apr_base64_encode_binary(out, raw, (int)n);
    return out;
}

#define RAW(...) (const unsigned char[]){__VA_ARGS__}, sizeof((const unsigned char[]){__VA_ARGS__})

static int parse(zx_request *req, const char *query, const char **why)
{
    zx_request_init(req, g_pool);
    *why = NULL;
    return zx_request_parse_query(req, query, why);
}

static void parse_ok(zx_request *req, const char *query)
{
    const char *why = NULL;
    int rc = parse(req, query, &why);
    ck_assert_msg(rc == 0, "query \"%s\" refused: %s", query, why);
}

static void parse_bad(const char *query, const char *why_contains)
{
    zx_request req;
    const char *why = NULL;
    int rc = parse(&req, query, &why);
    ck_assert_msg(rc == -1, "query \"%s\" accepted", query);
    ck_assert_msg(why != NULL && *why, "query \"%s\": no reason", query);
    if (why_contains)
        ck_assert_msg(strstr(why, why_contains) != NULL, "query \"%s\": reason \"%s\" lacks \"%s\"",
                      query, why, why_contains);
}

static int parse_raw(zx_request *req, const unsigned char *raw, size_t n, const char **why)
{
    return parse(req, b64(raw, n), why);
}

static void with_credentials(zx_request *req)
{
    req->auth_user = "alice";
    req->auth_password = "secret";
}

/* ---- plain query -------------------------------------------------------------------------- */

START_TEST(test_plain_all_parameters)
{
    zx_request req;
    parse_ok(&req, "Cmd=SmartForward&User=alice&DeviceId=ABC123&DeviceType=iPhone"
                   "&AttachmentName=a%2Fb.txt&CollectionId=5&ItemId=5%3A1&LongId=RgAA"
                   "&Occurrence=2024-01-01T00%3A00%3A00Z&SaveInSent=T&AcceptMultiPart=F");
    ck_assert_int_eq(req.base64_query, 0);
    ck_assert_str_eq(req.cmd_name, "SmartForward");
    ck_assert_int_eq(req.cmd, ZX_CMD_SMARTFORWARD);
    ck_assert_str_eq(req.user, "alice");
    ck_assert_str_eq(req.device_id, "ABC123");
    ck_assert_str_eq(req.device_type, "iPhone");
    ck_assert_str_eq(req.attachment_name, "a/b.txt");
    ck_assert_str_eq(req.collection_id, "5");
    ck_assert_str_eq(req.item_id, "5:1");
    ck_assert_str_eq(req.long_id, "RgAA");
    ck_assert_str_eq(req.occurrence, "2024-01-01T00:00:00Z");
    ck_assert_int_eq(req.save_in_sent, 1);
    ck_assert_int_eq(req.accept_multipart, 0);
    ck_assert_uint_eq(req.locale, 0);
    ck_assert_ptr_null(req.proto_str);
    ck_assert_uint_eq(req.proto, 0);
    ck_assert_int_eq(req.has_policy_key, 0);

    /* defaults of an initialised request */
    zx_request_init(&req, g_pool);
    ck_assert_ptr_eq(req.pool, g_pool);
    ck_assert_int_eq(req.cmd, ZX_CMD_UNKNOWN);
    ck_assert_int_eq(req.save_in_sent, -1);
    ck_assert_int_eq(req.accept_multipart, -1);
    ck_assert_ptr_null(req.user);
    ck_assert_ptr_null(req.body);
    zx_response resp;
    zx_response_init(&resp, g_pool);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_ptr_nonnull(resp.headers);
    ck_assert_ptr_null(resp.body);
    ck_assert_ptr_null(resp.content_type);
    ck_assert_ptr_null(resp.reason);
}
END_TEST

START_TEST(test_plain_names_case_insensitive)
{
    zx_request req;
    parse_ok(&req, "cmd=foldersync&USER=bob&deviceid=D1&DEVICETYPE=Android&saveinsent=f"
                   "&acceptmultipart=t&collectionid=c&ITEMID=i&longid=l&attachmentname=a"
                   "&OCCURRENCE=o");
    ck_assert_str_eq(req.cmd_name, "foldersync");
    ck_assert_int_eq(req.cmd, ZX_CMD_FOLDERSYNC);
    ck_assert_str_eq(req.user, "bob");
    ck_assert_str_eq(req.device_id, "D1");
    ck_assert_str_eq(req.device_type, "Android");
    ck_assert_int_eq(req.save_in_sent, 0);
    ck_assert_int_eq(req.accept_multipart, 1);
    ck_assert_str_eq(req.collection_id, "c");
    ck_assert_str_eq(req.item_id, "i");
    ck_assert_str_eq(req.long_id, "l");
    ck_assert_str_eq(req.attachment_name, "a");
    ck_assert_str_eq(req.occurrence, "o");
}
END_TEST

START_TEST(test_plain_percent_encoding)
{
    zx_request req;
    parse_ok(&req, "Cmd=Sync&User=dom%5Calice&DeviceId=%41%62c&DeviceType=a+b%2bc%c3%A9");
    ck_assert_str_eq(req.user, "dom\\alice");
    ck_assert_str_eq(req.device_id, "Abc");
    ck_assert_str_eq(req.device_type, "a b+c\xC3\xA9");
    /* names may be escaped too */
    parse_ok(&req, "%43md=Ping&%55ser=x");
    ck_assert_str_eq(req.cmd_name, "Ping");
    ck_assert_str_eq(req.user, "x");
    /* an '=' inside a value */
    parse_ok(&req, "Cmd=Sync&User=a%3Db&ItemId=x=y");
    ck_assert_str_eq(req.user, "a=b");
    ck_assert_str_eq(req.item_id, "x=y");
    /* empty values and empty pairs */
    parse_ok(&req, "Cmd=Sync&&User=&DeviceId=&");
    ck_assert_str_eq(req.user, "");
    ck_assert_str_eq(req.device_id, "");
    /* unknown parameters are ignored */
    parse_ok(&req, "Cmd=Sync&Foo=bar&CollectionName=x&ParentId=y&User=u");
    ck_assert_str_eq(req.user, "u");
    ck_assert_int_eq(req.cmd, ZX_CMD_SYNC);
    /* an unknown command is not a parse error: zx_handle answers 501 */
    parse_ok(&req, "Cmd=Frobnicate&User=u");
    ck_assert_str_eq(req.cmd_name, "Frobnicate");
    ck_assert_int_eq(req.cmd, ZX_CMD_UNKNOWN);
}
END_TEST

START_TEST(test_plain_bad_escapes)
{
    static const char *const bad[] = {
        "Cmd=Sync&User=%", "Cmd=Sync&User=%4", "Cmd=Sync&User=%zz", "Cmd=Sync&User=%4g",
        "Cmd=Sync&User=%00", "Cmd=Sync&User=a%0", "Cmd=Sync&Us%zzer=a", "Cmd=Sync&%=a",
        "Cmd=%G1&User=a",
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        parse_bad(bad[i], "percent");
}
END_TEST

START_TEST(test_plain_duplicates_rejected)
{
    parse_bad("Cmd=Sync&Cmd=Ping", "Cmd");
    parse_bad("Cmd=Sync&cmd=Sync", "Cmd");
    parse_bad("Cmd=Sync&User=a&USER=b", "User");
    parse_bad("Cmd=Sync&DeviceId=a&DeviceId=a", "DeviceId");
    parse_bad("Cmd=Sync&DeviceType=a&devicetype=b", "DeviceType");
    parse_bad("Cmd=Sync&ItemId=a&ItemId=b", "ItemId");
    parse_bad("Cmd=Sync&CollectionId=a&CollectionId=b", "CollectionId");
    parse_bad("Cmd=Sync&LongId=a&LongId=b", "LongId");
    parse_bad("Cmd=Sync&Occurrence=a&Occurrence=b", "Occurrence");
    parse_bad("Cmd=Sync&AttachmentName=a&AttachmentName=b", "AttachmentName");
    parse_bad("Cmd=Sync&User=a&User=", "User");
}
END_TEST

/* Overwrite the stack below the caller's frame, where the parser's frames were. */
static __attribute__((noinline)) void clobber_stack(void)
{
    volatile char junk[32768];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 'X';
}

/* A parameter without '=' ("...&User") has an empty value, as with "User=".  The parser must
 * neither crash (it once wrote the unescaped value into a string literal) nor keep a pointer
 * into its own stack frame: the value must stay "" after the parser has returned. */
START_TEST(test_plain_parameter_without_value)
{
    zx_request req;
    const char *why = NULL;
    /* no assertion between the parse and the check: they would reuse the stack */
    int rc = parse(&req, "Cmd=Sync&User", &why);
    clobber_stack();
    char first = req.user ? req.user[0] : '?';
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(req.user);
    ck_assert_msg(first == '\0', "User without '=' reads 0x%02X once the parser has returned "
                  "(a pointer into a dead stack frame?)", (unsigned char)first);
    rc = parse(&req, "Cmd=Sync&&DeviceId&User=a", &why);
    clobber_stack();
    first = req.device_id ? req.device_id[0] : '?';
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(first, '\0');
    ck_assert_str_eq(req.user, "a");
    rc = parse(&req, "Cmd&User", &why);
    clobber_stack();
    first = req.cmd_name ? req.cmd_name[0] : '?';
    char ufirst = req.user ? req.user[0] : '?';
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(first, '\0');
    ck_assert_int_eq(ufirst, '\0');
    parse_bad("Cmd=Sync&User&User", "User");
    parse_bad("Cmd=Sync&SaveInSent", "SaveInSent");
}
END_TEST

/* SaveInSent and AcceptMultiPart given twice (even with contradicting values) must be
 * refused like every other parameter. */
START_TEST(test_plain_duplicate_flags_rejected)
{
    parse_bad("Cmd=SendMail&User=a&SaveInSent=T&SaveInSent=F", "SaveInSent");
    parse_bad("Cmd=SendMail&User=a&AcceptMultiPart=T&acceptmultipart=F", "AcceptMultiPart");
}
END_TEST

START_TEST(test_plain_flags)
{
    static const struct {
        const char *v;
        int want;
    } cases[] = {
        {"T", 1}, {"t", 1}, {"true", 1}, {"TRUE", 1}, {"1", 1},
        {"F", 0}, {"f", 0}, {"false", 0}, {"0", 0},
    };
    zx_request req;
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parse_ok(&req, apr_psprintf(g_pool, "Cmd=SendMail&SaveInSent=%s&AcceptMultiPart=%s",
                                    cases[i].v, cases[i].v));
        ck_assert_int_eq(req.save_in_sent, cases[i].want);
        ck_assert_int_eq(req.accept_multipart, cases[i].want);
    }
    parse_ok(&req, "Cmd=SendMail&User=a");
    ck_assert_int_eq(req.save_in_sent, -1);
    ck_assert_int_eq(req.accept_multipart, -1);
    parse_bad("Cmd=SendMail&SaveInSent=yes", "SaveInSent");
    parse_bad("Cmd=SendMail&SaveInSent=", "SaveInSent");
    parse_bad("Cmd=SendMail&SaveInSent=2", "SaveInSent");
    parse_bad("Cmd=SendMail&AcceptMultiPart=TT", "AcceptMultiPart");
}
END_TEST

START_TEST(test_no_query)
{
    zx_request req;
    const char *why = NULL;
    ck_assert_int_eq(parse(&req, "", &why), -1);
    ck_assert_ptr_nonnull(why);
    why = NULL;
    ck_assert_int_eq(parse(&req, NULL, &why), -1);
    ck_assert_ptr_nonnull(why);
}
END_TEST

/* ---- base64 query ----------------------------------------------------------------------- */

START_TEST(test_base64_published_example)
{
    zx_request req;
    parse_ok(&req, "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l");
    ck_assert_int_eq(req.base64_query, 1);
    ck_assert_uint_eq(req.proto, 140);
    ck_assert_str_eq(req.proto_str, "14.0");
    ck_assert_int_eq(req.cmd, ZX_CMD_SYNC);
    ck_assert_str_eq(req.cmd_name, "Sync");
    ck_assert_uint_eq(req.locale, 0x0409);
    ck_assert_str_eq(req.device_id, "v140Device");
    ck_assert_int_eq(req.has_policy_key, 0);
    ck_assert_str_eq(req.device_type, "SmartPhone");
    ck_assert_ptr_null(req.user);
    ck_assert_ptr_null(req.collection_id);
    ck_assert_int_eq(req.save_in_sent, -1);
    ck_assert_int_eq(req.accept_multipart, -1);

    /* and our encoder writes exactly the published string */
    zx_request enc;
    zx_request_init(&enc, g_pool);
    enc.proto = 140;
    enc.cmd = ZX_CMD_SYNC;
    enc.locale = 0x0409;
    enc.device_id = "v140Device";
    enc.device_type = "SmartPhone";
    ck_assert_str_eq(zx_request_encode_base64_query(g_pool, &enc),
                     "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l");
}
END_TEST

START_TEST(test_base64_policy_key_and_parameters)
{
    zx_request req;
    const char *why = NULL;
    ck_assert_msg(parse_raw(&req, RAW(0x8D, 0x09, 0x07, 0x04, 0x03, 'D', 'e', 'v',
                                      0x04, 0x04, 0x03, 0x02, 0x01,
                                      0x02, 'W', 'P',
                                      0x00, 0x05, 'a', '.', 't', 'x', 't',
                                      0x01, 0x01, '5',
                                      0x03, 0x03, '5', ':', '1',
                                      0x04, 0x02, 'L', 'I',
                                      0x06, 0x04, '2', '0', '2', '4',
                                      0x08, 0x09, 'd', 'o', 'm', '\\', 'a', 'l', 'i', 'c', 'e',
                                      0x07, 0x01, 0x01), &why) == 0, "refused: %s", why);
    ck_assert_uint_eq(req.proto, 141);
    ck_assert_str_eq(req.proto_str, "14.1");
    ck_assert_int_eq(req.cmd, ZX_CMD_FOLDERSYNC);
    ck_assert_uint_eq(req.locale, 0x0407);
    ck_assert_str_eq(req.device_id, "Dev");
    ck_assert_int_eq(req.has_policy_key, 1);
    ck_assert_uint_eq(req.policy_key, 0x01020304u);
    ck_assert_str_eq(req.device_type, "WP");
    ck_assert_str_eq(req.attachment_name, "a.txt");
    ck_assert_str_eq(req.collection_id, "5");
    ck_assert_str_eq(req.item_id, "5:1");
    ck_assert_str_eq(req.long_id, "LI");
    ck_assert_str_eq(req.occurrence, "2024");
    ck_assert_str_eq(req.user, "dom\\alice");
    ck_assert_int_eq(req.save_in_sent, 1);
    ck_assert_int_eq(req.accept_multipart, 0);

    /* the Options bits */
    static const struct {
        unsigned char opt;
        int sis, amp;
    } opts[] = {{0x00, 0, 0}, {0x01, 1, 0}, {0x02, 0, 1}, {0x03, 1, 1}, {0x80, 0, 0}};
    for (unsigned i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        ck_assert_int_eq(parse_raw(&req, RAW(0x8D, 0x01, 0x09, 0x04, 0x01, 'D', 0x00, 0x01, 'T',
                                             0x07, 0x01, opts[i].opt), &why), 0);
        ck_assert_int_eq(req.cmd, ZX_CMD_SENDMAIL);
        ck_assert_int_eq(req.save_in_sent, opts[i].sis);
        ck_assert_int_eq(req.accept_multipart, opts[i].amp);
    }
    /* the largest policy key, empty device id and type (the pipeline refuses those) */
    ck_assert_int_eq(parse_raw(&req, RAW(0x8D, 0x12, 0x00, 0x00, 0x00, 0x04, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0x00), &why), 0);
    ck_assert_uint_eq(req.policy_key, 0xFFFFFFFFu);
    ck_assert_int_eq(req.cmd, ZX_CMD_PING);
    ck_assert_str_eq(req.device_id, "");
    ck_assert_str_eq(req.device_type, "");
    /* an empty parameter value */
    ck_assert_int_eq(parse_raw(&req, RAW(0x8D, 0x12, 0x00, 0x00, 0x01, 'D', 0x00, 0x01, 'T',
                                         0x01, 0x00), &why), 0);
    ck_assert_str_eq(req.collection_id, "");
    /* an unknown command code is not a parse error: zx_handle answers 501 */
    ck_assert_int_eq(parse_raw(&req, RAW(0x8D, 0x05, 0x00, 0x00, 0x01, 'D', 0x00, 0x01, 'T'),
                               &why), 0);
    ck_assert_int_eq(req.cmd, ZX_CMD_UNKNOWN);
    ck_assert_str_eq(req.cmd_name, "#5");
    /* an unknown version byte */
    ck_assert_int_eq(parse_raw(&req, RAW(0x63, 0x00, 0x00, 0x00, 0x01, 'D', 0x00, 0x01, 'T'),
                               &why), 0);
    ck_assert_uint_eq(req.proto, 99);
    ck_assert_str_eq(req.proto_str, "99");   /* kept for the error message */
}
END_TEST

START_TEST(test_base64_truncations)
{
    /* no parameters: every strict prefix is refused */
    static const unsigned char raw[] = {
        0x8D, 0x00, 0x09, 0x04, 0x0A, 'v', '1', '4', '1', 'D', 'e', 'v', 'i', 'c', 'e',
        0x04, 0x78, 0x56, 0x34, 0x12, 0x0A, 'S', 'm', 'a', 'r', 't', 'P', 'h', 'o', 'n', 'e'};
    zx_request req;
    const char *why;
    ck_assert_int_eq(parse_raw(&req, raw, sizeof raw, &why), 0);
    ck_assert_uint_eq(req.policy_key, 0x12345678u);
    for (size_t n = 0; n < sizeof raw; n++) {
        why = NULL;
        const char *q = b64(raw, n);
        int rc = parse(&req, q, &why);
        ck_assert_msg(rc == -1, "prefix of %zu bytes (%s) accepted", n, q);
        ck_assert_msg(why != NULL && *why, "prefix of %zu bytes: no reason", n);
        if (n > 0)
            ck_assert_msg(strstr(why, "truncated") != NULL, "prefix %zu: reason \"%s\"", n, why);
    }

    /* with parameters: a prefix that ends between two parameters is a shorter valid query,
     * every other one is refused */
    static const unsigned char withp[] = {
        0x8D, 0x03, 0x09, 0x04, 0x01, 'D', 0x00, 0x01, 'T',
        0x01, 0x03, '1', '2', '3', 0x07, 0x01, 0x03, 0x08, 0x05, 'a', 'l', 'i', 'c', 'e',
        0x03, 0x00};
    static const size_t boundaries[] = {9, 14, 17, 24, 26};
    for (size_t n = 0; n < sizeof withp; n++) {
        int boundary = 0;
        for (unsigned k = 0; k < sizeof boundaries / sizeof boundaries[0]; k++)
            boundary |= boundaries[k] == n;
        why = NULL;
        int rc = parse_raw(&req, withp, n, &why);
        if (boundary) {
            ck_assert_msg(rc == 0, "prefix %zu refused: %s", n, why);
            ck_assert_int_eq(req.cmd, ZX_CMD_SMARTREPLY);
            if (n >= 14)
                ck_assert_str_eq(req.collection_id, "123");
            else
                ck_assert_ptr_null(req.collection_id);
            ck_assert_int_eq(req.save_in_sent, n >= 17 ? 1 : -1);
            if (n >= 24)
                ck_assert_str_eq(req.user, "alice");
            else
                ck_assert_ptr_null(req.user);
        }
        else {
            ck_assert_msg(rc == -1, "prefix %zu accepted", n);
            ck_assert_msg(why != NULL && *why, "prefix %zu: no reason", n);
        }
    }
    ck_assert_int_eq(parse_raw(&req, withp, sizeof withp, &why), 0);
    ck_assert_str_eq(req.item_id, "");
}
END_TEST

START_TEST(test_base64_bad)
{
    zx_request req;
    const char *why;
    /* policy key lengths other than 0 and 4 */
    static const unsigned char lens[] = {1, 2, 3, 5, 8, 255};
    for (unsigned i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        unsigned char raw[32] = {0x8D, 0x00, 0x09, 0x04, 0x01, 'D', lens[i], 1, 2, 3, 4, 5, 6, 7,
                                 8, 0x01, 'T'};
        why = NULL;
        ck_assert_int_eq(parse_raw(&req, raw, sizeof raw, &why), -1);
        ck_assert_msg(why && strstr(why, "policy key length"), "len %u: %s", lens[i], why);
    }
    /* unknown parameter tags: 2 and 5 are not defined, 9 and up do not exist */
    static const unsigned char tags[] = {2, 5, 9, 10, 0x7F, 0xFF};
    for (unsigned i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        why = NULL;
        ck_assert_int_eq(parse_raw(&req, RAW(0x8D, 0x00, 0x09, 0x04, 0x01, 'D', 0x00, 0x01, 'T',
                                             tags[i], 0x01, 'x'), &why), -1);
        ck_assert_msg(why && strstr(why, "unknown parameter tag"), "tag %u: %s", tags[i], why);
    }
    /* Options must be one byte */
    ck_assert_int_eq(parse_raw(&req, RAW(0x8D, 0x01, 0x09, 0x04, 0x01, 'D', 0x00, 0x01, 'T',
                                         0x07, 0x00), &why), -1);
    ck_assert_ptr_nonnull(strstr(why, "Options"));
    ck_assert_int_eq(parse_raw(&req, RAW(0x8D, 0x01, 0x09, 0x04, 0x01, 'D', 0x00, 0x01, 'T',
                                         0x07, 0x02, 0x01, 0x00), &why), -1);
    /* a parameter given twice */
    ck_assert_int_eq(parse_raw(&req, RAW(0x8D, 0x00, 0x09, 0x04, 0x01, 'D', 0x00, 0x01, 'T',
                                         0x01, 0x01, 'a', 0x01, 0x01, 'b'), &why), -1);
    ck_assert_ptr_nonnull(strstr(why, "twice"));
    ck_assert_int_eq(parse_raw(&req, RAW(0x8D, 0x00, 0x09, 0x04, 0x01, 'D', 0x00, 0x01, 'T',
                                         0x08, 0x01, 'a', 0x08, 0x01, 'a'), &why), -1);
    /* a parameter value running past the end */
    ck_assert_int_eq(parse_raw(&req, RAW(0x8D, 0x00, 0x09, 0x04, 0x01, 'D', 0x00, 0x01, 'T',
                                         0x01, 0x05, 'a'), &why), -1);
    ck_assert_ptr_nonnull(strstr(why, "truncated"));
    /* not base64 */
    parse_bad("jAAJ!Ap2", "neither");
    parse_bad("jAAJ.Ap2", NULL);
    parse_bad("jAAJ%zz", "percent");
    parse_bad("jAAJ%00", "percent");
}
END_TEST

START_TEST(test_base64_url_forms)
{
    /* find a locale whose encoding contains '+' and '/' */
    unsigned char raw[] = {0x8D, 0x00, 0x00, 0x00, 0x02, 'D', '1', 0x00, 0x01, 'T'};
    const char *q = NULL;
    for (unsigned loc = 0; loc < 0x10000; loc++) {
        raw[2] = (unsigned char)(loc & 0xFF);
        raw[3] = (unsigned char)(loc >> 8);
        q = b64(raw, sizeof raw);
        if (strchr(q, '+') && strchr(q, '/') && strchr(q, '='))
            break;
    }
    ck_assert_ptr_nonnull(strchr(q, '+'));
    ck_assert_ptr_nonnull(strchr(q, '='));
    unsigned locale = raw[2] | (unsigned)raw[3] << 8;
    zx_request req;
    parse_ok(&req, q);
    ck_assert_uint_eq(req.locale, locale);
    ck_assert_str_eq(req.device_id, "D1");

    /* '+' percent-encoded, '+' form-decoded to a space, '/' and '=' percent-encoded */
    char *pct = apr_pstrdup(g_pool, "");
    char *spc = apr_pstrdup(g_pool, q);
    for (const char *c = q; *c; c++) {
        if (*c == '+')
            pct = apr_pstrcat(g_pool, pct, "%2B", NULL);
        else if (*c == '/')
            pct = apr_pstrcat(g_pool, pct, "%2f", NULL);
        else if (*c == '=')
            pct = apr_pstrcat(g_pool, pct, "%3D", NULL);
        else
            pct = apr_pstrcat(g_pool, pct, apr_pstrndup(g_pool, c, 1), NULL);
    }
    for (char *c = spc; *c; c++)
        if (*c == '+')
            *c = ' ';
    parse_ok(&req, pct);
    ck_assert_int_eq(req.base64_query, 1);
    ck_assert_uint_eq(req.locale, locale);
    ck_assert_str_eq(req.device_id, "D1");
    ck_assert_str_eq(req.device_type, "T");
    parse_ok(&req, spc);
    ck_assert_int_eq(req.base64_query, 1);
    ck_assert_uint_eq(req.locale, locale);
}
END_TEST

START_TEST(test_base64_encode_roundtrip)
{
    zx_request a, b;
    zx_request_init(&a, g_pool);
    a.proto = 141;
    a.cmd = ZX_CMD_SMARTREPLY;
    a.locale = 0x0407;
    a.device_id = "ABC123";
    a.has_policy_key = 1;
    a.policy_key = 0xDEADBEEFu;
    a.device_type = "iPhone";
    a.attachment_name = "att";
    a.collection_id = "5";
    a.item_id = "7:1";
    a.long_id = "RgAAAAA";
    a.occurrence = "2024-01-01T00:00:00.000Z";
    a.user = "dom\\alice";
    a.save_in_sent = 1;
    a.accept_multipart = 1;
    const char *q = zx_request_encode_base64_query(g_pool, &a);
    parse_ok(&b, q);
    ck_assert_int_eq(b.base64_query, 1);
    ck_assert_uint_eq(b.proto, 141);
    ck_assert_int_eq(b.cmd, ZX_CMD_SMARTREPLY);
    ck_assert_str_eq(b.cmd_name, "SmartReply");
    ck_assert_uint_eq(b.locale, 0x0407);
    ck_assert_str_eq(b.device_id, "ABC123");
    ck_assert_int_eq(b.has_policy_key, 1);
    ck_assert_uint_eq(b.policy_key, 0xDEADBEEFu);
    ck_assert_str_eq(b.device_type, "iPhone");
    ck_assert_str_eq(b.attachment_name, "att");
    ck_assert_str_eq(b.collection_id, "5");
    ck_assert_str_eq(b.item_id, "7:1");
    ck_assert_str_eq(b.long_id, "RgAAAAA");
    ck_assert_str_eq(b.occurrence, "2024-01-01T00:00:00.000Z");
    ck_assert_str_eq(b.user, "dom\\alice");
    ck_assert_int_eq(b.save_in_sent, 1);
    ck_assert_int_eq(b.accept_multipart, 1);
    /* re-encoding the parsed request gives the same string */
    ck_assert_str_eq(zx_request_encode_base64_query(g_pool, &b), q);

    /* each command with a code, each Options combination */
    for (int c = 0; c < ZX_CMD_COUNT_; c++) {
        const zx_command_info *ci = zx_command_info_get((zx_cmd)c);
        if (ci->code < 0)
            continue;
        for (int opt = 0; opt < 4; opt++) {
            zx_request_init(&a, g_pool);
            a.proto = 161;
            a.cmd = (zx_cmd)c;
            a.device_id = "d";
            a.device_type = "t";
            a.save_in_sent = (opt & 1) ? 1 : -1;
            a.accept_multipart = (opt & 2) ? 1 : -1;
            q = zx_request_encode_base64_query(g_pool, &a);
            parse_ok(&b, q);
            ck_assert_int_eq(b.cmd, c);
            ck_assert_int_eq(b.save_in_sent, opt ? ((opt & 1) ? 1 : 0) : -1);
            ck_assert_int_eq(b.accept_multipart, opt ? ((opt & 2) ? 1 : 0) : -1);
            ck_assert_int_eq(b.has_policy_key, 0);
        }
    }
}
END_TEST

/* ---- versions and commands ------------------------------------------------------------------ */

START_TEST(test_versions)
{
    static const struct {
        const char *s;
        zx_version v;
    } known[] = {{"2.5", 25}, {"12.0", 120}, {"12.1", 121}, {"14.0", 140},
                 {"14.1", 141}, {"16.0", 160}, {"16.1", 161}};
    for (unsigned i = 0; i < sizeof known / sizeof known[0]; i++) {
        ck_assert_uint_eq(zx_version_parse(known[i].s), known[i].v);
        ck_assert_str_eq(zx_version_str(known[i].v), known[i].s);
        ck_assert_uint_eq(zx_versions[i], known[i].v);
        ck_assert_uint_eq(zx_vset_of(known[i].v), 1u << i);
    }
    ck_assert_uint_eq(zx_versions[7], 0);
    static const char *const unknown[] = {"", "14", "14.2", "2.0", "14.1 ", " 14.1", "141",
                                          "16.10", "1.0", "12", "v14.1"};
    for (unsigned i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        ck_assert_msg(zx_version_parse(unknown[i]) == 0, "\"%s\" parsed", unknown[i]);
    ck_assert_uint_eq(zx_version_parse(NULL), 0);
    ck_assert_ptr_null(zx_version_str(0));
    ck_assert_ptr_null(zx_version_str(142));
    ck_assert_ptr_null(zx_version_str(99));
    ck_assert_uint_eq(zx_vset_of(0), 0);
    ck_assert_uint_eq(zx_vset_of(142), 0);
}
END_TEST

START_TEST(test_vsets)
{
    const char *bad = NULL;
    ck_assert_uint_eq(zx_vset_parse(g_pool, "2.5,12.0,14.1", &bad),
                      zx_vset_of(25) | zx_vset_of(120) | zx_vset_of(141));
    ck_assert_uint_eq(zx_vset_parse(g_pool, " 16.1\t14.0 , ,12.1 ", &bad),
                      zx_vset_of(161) | zx_vset_of(140) | zx_vset_of(121));
    ck_assert_uint_eq(zx_vset_parse(g_pool, "2.5,12.0,12.1,14.0,14.1,16.0,16.1", &bad),
                      ZX_VSET_ALL);
    ck_assert_uint_eq(zx_vset_parse(g_pool, "14.1,14.1", &bad), zx_vset_of(141));
    ck_assert_uint_eq(zx_vset_parse(g_pool, "14.1", NULL), zx_vset_of(141));

    bad = NULL;
    ck_assert_uint_eq(zx_vset_parse(g_pool, "2.5,13.0,14.1", &bad), 0);
    ck_assert_str_eq(bad, "13.0");
    bad = NULL;
    ck_assert_uint_eq(zx_vset_parse(g_pool, "14.1;16.0", &bad), 0);
    ck_assert_str_eq(bad, "14.1;16.0");
    bad = NULL;
    ck_assert_uint_eq(zx_vset_parse(g_pool, "", &bad), 0);
    ck_assert_ptr_nonnull(bad);
    bad = NULL;
    ck_assert_uint_eq(zx_vset_parse(g_pool, " , ", &bad), 0);
    ck_assert_ptr_nonnull(bad);
    ck_assert_uint_eq(zx_vset_parse(g_pool, "bogus", NULL), 0);

    ck_assert_str_eq(zx_vset_str(g_pool, ZX_VSET_ALL), "2.5,12.0,12.1,14.0,14.1,16.0,16.1");
    ck_assert_str_eq(zx_vset_str(g_pool, 0), "");
    ck_assert_str_eq(zx_vset_str(g_pool, zx_vset_of(141)), "14.1");
    ck_assert_str_eq(zx_vset_str(g_pool, zx_vset_of(25) | zx_vset_of(161)), "2.5,16.1");
    ck_assert_str_eq(zx_vset_str(g_pool, 0xFFFFFFFFu), "2.5,12.0,12.1,14.0,14.1,16.0,16.1");
    /* str and parse are inverse */
    for (zx_vset s = 1; s <= ZX_VSET_ALL; s++)
        ck_assert_uint_eq(zx_vset_parse(g_pool, zx_vset_str(g_pool, s), NULL), s);
}
END_TEST

static zx_command_handler *only_ping_and_sync(zx_cmd cmd)
{
    return cmd == ZX_CMD_PING || cmd == ZX_CMD_SYNC ? zx_cmd_ping : NULL;
}

START_TEST(test_commands)
{
    ck_assert_int_eq(zx_command_by_name("Sync"), ZX_CMD_SYNC);
    ck_assert_int_eq(zx_command_by_name("sync"), ZX_CMD_SYNC);
    ck_assert_int_eq(zx_command_by_name("FOLDERSYNC"), ZX_CMD_FOLDERSYNC);
    ck_assert_int_eq(zx_command_by_name("getItemEstimate"), ZX_CMD_GETITEMESTIMATE);
    ck_assert_int_eq(zx_command_by_name("Frobnicate"), ZX_CMD_UNKNOWN);
    ck_assert_int_eq(zx_command_by_name(""), ZX_CMD_UNKNOWN);
    ck_assert_int_eq(zx_command_by_name("Sync "), ZX_CMD_UNKNOWN);
    ck_assert_int_eq(zx_command_by_name(NULL), ZX_CMD_UNKNOWN);

    /* [MS-ASHTTP] 2.2.1.1.1.1.2 command codes */
    static const struct {
        int code;
        zx_cmd cmd;
    } codes[] = {
        {0, ZX_CMD_SYNC}, {1, ZX_CMD_SENDMAIL}, {2, ZX_CMD_SMARTFORWARD}, {3, ZX_CMD_SMARTREPLY},
        {4, ZX_CMD_GETATTACHMENT}, {9, ZX_CMD_FOLDERSYNC}, {10, ZX_CMD_FOLDERCREATE},
        {11, ZX_CMD_FOLDERDELETE}, {12, ZX_CMD_FOLDERUPDATE}, {13, ZX_CMD_MOVEITEMS},
        {14, ZX_CMD_GETITEMESTIMATE}, {15, ZX_CMD_MEETINGRESPONSE}, {16, ZX_CMD_SEARCH},
        {17, ZX_CMD_SETTINGS}, {18, ZX_CMD_PING}, {19, ZX_CMD_ITEMOPERATIONS},
        {20, ZX_CMD_PROVISION}, {21, ZX_CMD_RESOLVERECIPIENTS}, {22, ZX_CMD_VALIDATECERT},
        {23, ZX_CMD_FIND},
    };
    for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++)
        ck_assert_int_eq(zx_command_by_code(codes[i].code), codes[i].cmd);
    static const int nocode[] = {-1, 5, 6, 7, 8, 24, 255, 1000};
    for (unsigned i = 0; i < sizeof nocode / sizeof nocode[0]; i++)
        ck_assert_int_eq(zx_command_by_code(nocode[i]), ZX_CMD_UNKNOWN);

    /* the table is consistent with itself */
    for (int c = 0; c < ZX_CMD_COUNT_; c++) {
        const zx_command_info *ci = zx_command_info_get((zx_cmd)c);
        ck_assert_ptr_nonnull(ci);
        ck_assert_int_eq(zx_command_by_name(ci->name), c);
        ck_assert_int_eq(zx_command_by_name(apr_pstrdup(g_pool, ci->name)), c);
        if (ci->code >= 0)
            ck_assert_int_eq(zx_command_by_code(ci->code), c);
        ck_assert_ptr_nonnull(zx_version_str(ci->min_version));
        if (ci->root_tag != ZX_TAG_NONE_)
            ck_assert_ptr_nonnull(zx_wb_tag_name(ci->root_tag));
    }
    ck_assert_ptr_null(zx_command_info_get(ZX_CMD_UNKNOWN));
    ck_assert_ptr_null(zx_command_info_get(ZX_CMD_COUNT_));
    const zx_command_info *fs = zx_command_info_get(ZX_CMD_FOLDERSYNC);
    ck_assert_str_eq(fs->name, "FolderSync");
    ck_assert_int_eq(fs->code, 9);
    ck_assert_uint_eq(fs->root_tag, ZX_FolderHierarchy_FolderSync);
    ck_assert_uint_eq(zx_command_info_get(ZX_CMD_GETATTACHMENT)->root_tag, ZX_TAG_NONE_);
    ck_assert_int_eq(zx_command_info_get(ZX_CMD_FIND)->code, 23);

    /* versions */
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_GETATTACHMENT, 25), 1);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_GETATTACHMENT, 121), 1);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_GETATTACHMENT, 140), 0);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_GETATTACHMENT, 161), 0);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_FIND, 160), 0);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_FIND, 141), 0);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_FIND, 161), 1);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_SETTINGS, 25), 0);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_SETTINGS, 120), 1);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_SETTINGS, 161), 1);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_ITEMOPERATIONS, 25), 0);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_ITEMOPERATIONS, 120), 1);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_SYNC, 25), 1);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_SYNC, 161), 1);
    ck_assert_int_eq(zx_command_in_version(ZX_CMD_UNKNOWN, 141), 0);

    /* the OPTIONS list: the table's commands (no handler table given) */
    ck_assert_str_eq(zx_command_list(g_pool, ZX_VSET_ALL, NULL),
                     "Sync,SendMail,SmartForward,SmartReply,GetAttachment,FolderSync,"
                     "FolderCreate,FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,"
                     "MeetingResponse,Search,Settings,Ping,ItemOperations,Provision,"
                     "ResolveRecipients,ValidateCert,Find");
    const char *l140 = zx_command_list(g_pool, zx_vset_of(140), NULL);
    ck_assert_ptr_null(strstr(l140, "GetAttachment"));
    ck_assert_ptr_null(strstr(l140, "Find"));
    ck_assert_ptr_nonnull(strstr(l140, "Settings"));
    const char *l25 = zx_command_list(g_pool, zx_vset_of(25), NULL);
    ck_assert_ptr_null(strstr(l25, "Settings"));
    ck_assert_ptr_null(strstr(l25, "ItemOperations"));
    ck_assert_ptr_nonnull(strstr(l25, "GetAttachment"));
    ck_assert_str_eq(zx_command_list(g_pool, 0, NULL), "");
    /* with a handler table: only the commands it answers */
    ck_assert_str_eq(zx_command_list(g_pool, ZX_VSET_ALL, only_ping_and_sync), "Sync,Ping");
    ck_assert_str_eq(zx_command_list(g_pool, zx_vset_of(25), only_ping_and_sync), "Sync,Ping");
}
END_TEST

/* The one status table (eas_status.def): each status its number and its 12.1-and-older HTTP
 * status; zx_respond_status answers 14.0+ with the Status element, older versions with that. */
START_TEST(test_status_table)
{
    ck_assert_int_eq(ZX_EAS_SERVER_ERROR, 110);
    ck_assert_int_eq(ZX_EAS_SERVER_ERROR_RETRY, 111);
    ck_assert_int_eq(ZX_EAS_DEVICE_BLOCKED_FOR_USER, 129);
    ck_assert_int_eq(zx_eas_status_http(ZX_EAS_INVALID_WBXML), 400);
    ck_assert_int_eq(zx_eas_status_http(ZX_EAS_SERVER_ERROR), 500);
    ck_assert_int_eq(zx_eas_status_http(ZX_EAS_SERVER_ERROR_RETRY), 503);
    ck_assert_int_eq(zx_eas_status_http(ZX_EAS_DEVICE_BLOCKED_FOR_USER), 403);
    ck_assert_int_eq(zx_eas_status_http(ZX_EAS_COMMAND_NOT_SUPPORTED), 501);
    ck_assert_int_eq(zx_eas_status_http(ZX_EAS_INVALID_POLICY_KEY), 449);
    ck_assert_int_eq(zx_eas_status_http((zx_eas_status)1), 500);

    zx_request req;
    zx_response resp;
    zx_request_init(&req, g_pool);
    req.cmd = ZX_CMD_FOLDERSYNC;
    req.proto = ZX_V121;
    zx_response_init(&resp, g_pool);
    zx_respond_status(&req, &resp, ZX_EAS_DEVICE_BLOCKED_FOR_USER, ZX_LOG_INFO, "blocked");
    ck_assert_int_eq(resp.status, 403);
    ck_assert_ptr_null(resp.body);
    ck_assert_str_eq(resp.reason, "blocked");
    req.proto = ZX_V141;
    zx_response_init(&resp, g_pool);
    zx_respond_status(&req, &resp, ZX_EAS_DEVICE_BLOCKED_FOR_USER, ZX_LOG_INFO, "blocked");
    ck_assert_int_eq(resp.status, 200);
    ck_assert_ptr_nonnull(resp.body);
    zx_wb_node *doc = NULL;
    ck_assert_int_eq(zx_wbxml_decode(g_pool, resp.body, resp.body_len, NULL, &doc, NULL),
                     ZX_WBXML_OK);
    ck_assert_uint_eq(doc->tag, ZX_FolderHierarchy_FolderSync);
    ck_assert_str_eq(zx_wb_child_text(g_pool, doc, ZX_FolderHierarchy_Status), "129");
}
END_TEST

/* ---- headers and credentials ---------------------------------------------------------------- */

START_TEST(test_set_header)
{
    zx_request req;
    const char *why = NULL;
    parse_ok(&req, "Cmd=Sync&User=u&DeviceId=D&DeviceType=T");
    ck_assert_int_eq(zx_request_set_header(&req, "MS-ASProtocolVersion", "14.1", &why), 0);
    ck_assert_uint_eq(req.proto, 141);
    ck_assert_str_eq(req.proto_str, "14.1");
    ck_assert_int_eq(zx_request_set_header(&req, "ms-asprotocolversion", "99.9", &why), 0);
    ck_assert_uint_eq(req.proto, 0);
    ck_assert_str_eq(req.proto_str, "99.9");

    /* X-MS-PolicyKey */
    static const struct {
        const char *v;
        uint32_t key;
    } good[] = {{"0", 0}, {"1", 1}, {"3942919513", 3942919513u}, {"4294967295", 4294967295u},
                {"0004294967295", 4294967295u}};
    for (unsigned i = 0; i < sizeof good / sizeof good[0]; i++) {
        parse_ok(&req, "Cmd=Sync&User=u");
        ck_assert_int_eq(zx_request_set_header(&req, "X-MS-PolicyKey", good[i].v, &why), 0);
        ck_assert_int_eq(req.has_policy_key, 1);
        ck_assert_uint_eq(req.policy_key, good[i].key);
    }
    static const char *const bad[] = {"", "4294967296", "18446744073709551616",
                                      "99999999999999999999999", "-1", "+1", " 1", "1 ", "12a",
                                      "abc", "0x10", "1.5"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parse_ok(&req, "Cmd=Sync&User=u");
        why = NULL;
        ck_assert_msg(zx_request_set_header(&req, "x-ms-policykey", bad[i], &why) == -1,
                      "policy key \"%s\" accepted", bad[i]);
        ck_assert_ptr_nonnull(why);
        ck_assert_int_eq(req.has_policy_key, 0);
    }

    /* other headers */
    parse_ok(&req, "Cmd=Sync&User=u");
    ck_assert_int_eq(zx_request_set_header(&req, "User-Agent", "Apple-iPhone/1", &why), 0);
    ck_assert_str_eq(req.user_agent, "Apple-iPhone/1");
    ck_assert_int_eq(zx_request_set_header(&req, "content-type", "application/vnd.ms-sync.wbxml",
                                           &why), 0);
    ck_assert_str_eq(req.content_type, "application/vnd.ms-sync.wbxml");
    ck_assert_int_eq(zx_request_set_header(&req, "X-Other", "x", &why), 0);
    ck_assert_int_eq(zx_request_set_header(&req, "MS-ASProtocolVersion", NULL, &why), 0);
    ck_assert_int_eq(zx_request_set_header(&req, "MS-ASAcceptMultiPart", "T", &why), 0);
    ck_assert_int_eq(req.accept_multipart, 1);
    parse_ok(&req, "Cmd=Sync&User=u");
    ck_assert_int_eq(zx_request_set_header(&req, "MS-ASAcceptMultiPart", "F", &why), 0);
    ck_assert_int_eq(req.accept_multipart, 0);
    /* the query's AcceptMultiPart wins */
    parse_ok(&req, "Cmd=Sync&User=u&AcceptMultiPart=F");
    ck_assert_int_eq(zx_request_set_header(&req, "MS-ASAcceptMultiPart", "T", &why), 0);
    ck_assert_int_eq(req.accept_multipart, 0);

    /* Authorization */
    parse_ok(&req, "Cmd=Sync&User=u");
    ck_assert_int_eq(zx_request_set_header(&req, "Authorization", "Basic YWxpY2U6c2VjcmV0", &why),
                     0);
    ck_assert_str_eq(req.auth_user, "alice");
    ck_assert_str_eq(req.auth_password, "secret");
    ck_assert_int_eq(zx_request_set_header(&req, "Authorization", "Bearer xyz", &why), 0);
    ck_assert_ptr_null(req.auth_user);
    ck_assert_ptr_null(req.auth_password);
}
END_TEST

START_TEST(test_base64_header_precedence)
{
    zx_request req;
    const char *why = NULL;
    /* the base64 version byte (14.0) wins over MS-ASProtocolVersion */
    parse_ok(&req, "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l");
    ck_assert_int_eq(zx_request_set_header(&req, "MS-ASProtocolVersion", "16.1", &why), 0);
    ck_assert_uint_eq(req.proto, 140);
    ck_assert_str_eq(req.proto_str, "14.0");
    /* no policy key in the query: the header supplies it */
    ck_assert_int_eq(zx_request_set_header(&req, "X-MS-PolicyKey", "77", &why), 0);
    ck_assert_int_eq(req.has_policy_key, 1);
    ck_assert_uint_eq(req.policy_key, 77);
    /* a policy key in the query wins over the header */
    ck_assert_int_eq(parse_raw(&req, RAW(0x8D, 0x00, 0x09, 0x04, 0x01, 'D', 0x04, 0x01, 0x00,
                                         0x00, 0x00, 0x01, 'T'), &why), 0);
    ck_assert_int_eq(zx_request_set_header(&req, "X-MS-PolicyKey", "77", &why), 0);
    ck_assert_uint_eq(req.policy_key, 1);
    /* a plain query takes the header */
    parse_ok(&req, "Cmd=Sync&User=u");
    ck_assert_int_eq(zx_request_set_header(&req, "MS-ASProtocolVersion", "12.1", &why), 0);
    ck_assert_uint_eq(req.proto, 121);
}
END_TEST

/* The base64 form always carries its version byte: a byte that names no version must stay
 * the request's version (and be refused as unsupported), not be replaced by the header. */
START_TEST(test_base64_unknown_version_byte_wins)
{
    zx_request req;
    const char *why = NULL;
    ck_assert_int_eq(parse_raw(&req, RAW(0x63, 0x00, 0x09, 0x04, 0x01, 'D', 0x00, 0x01, 'T'),
                               &why), 0);
    ck_assert_uint_eq(req.proto, 99);
    ck_assert_int_eq(zx_request_set_header(&req, "MS-ASProtocolVersion", "14.1", &why), 0);
    ck_assert_msg(req.proto == 99, "the header replaced the base64 version byte 99 by %u",
                  req.proto);
    req.method = ZX_METHOD_POST;
    with_credentials(&req);
    zx_response resp;
    zx_response_init(&resp, g_pool);
    zx_handle(&g_srv, &req, &resp);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_ptr_nonnull(apr_table_get(resp.headers, "MS-ASProtocolVersions"));
}
END_TEST

static const char *basic(const char *userpass)
{
    return apr_pstrcat(g_pool, "Basic ", b64((const unsigned char *)userpass, strlen(userpass)),
                       NULL);
}

START_TEST(test_basic_auth)
{
    zx_request req;
    const char *why = NULL;
    zx_request_init(&req, g_pool);
    ck_assert_int_eq(zx_request_parse_basic_auth(&req, "Basic YWxpY2U6c2VjcmV0", &why), 0);
    ck_assert_str_eq(req.auth_user, "alice");
    ck_assert_str_eq(req.auth_password, "secret");

    zx_request_init(&req, g_pool);
    ck_assert_int_eq(zx_request_parse_basic_auth(&req, basic("dom\\alice:pa:ss:"), &why), 0);
    ck_assert_str_eq(req.auth_user, "dom\\alice");
    ck_assert_str_eq(req.auth_password, "pa:ss:");

    zx_request_init(&req, g_pool);
    ck_assert_int_eq(zx_request_parse_basic_auth(&req, basic("j\xC3\xB6rg@example.com:"), &why), 0);
    ck_assert_str_eq(req.auth_user, "j\xC3\xB6rg@example.com");
    ck_assert_str_eq(req.auth_password, "");

    zx_request_init(&req, g_pool);
    ck_assert_int_eq(zx_request_parse_basic_auth(&req, "  basic\tYWxpY2U6c2VjcmV0", &why), 0);
    ck_assert_str_eq(req.auth_user, "alice");

    /* absent header: nothing set, not an error */
    zx_request_init(&req, g_pool);
    ck_assert_int_eq(zx_request_parse_basic_auth(&req, NULL, &why), 0);
    ck_assert_ptr_null(req.auth_user);

    static const struct {
        const char *h;
        const char *why;
    } bad[] = {
        {"Basic YWxpY2U=", "colon"},                 /* "alice" */
        {"Basic ", "colon"},
        {"Basic", "not Basic"},
        {"Bearer YWxpY2U6c2VjcmV0", "not Basic"},
        {"BasicYWxpY2U6c2VjcmV0", "not Basic"},
        {"Digest username=\"a\"", "not Basic"},
        {"", "not Basic"},
        {"Basic @@@@", "malformed"},
        {"Basic YWxp Y2U6c2VjcmV0", "malformed"},
        {"Basic YWxpY2U6c2VjcmV0!", "malformed"},
        {"Basic YWxpY2U6c2VjcmV0 ", "malformed"},
        {"Basic YWxpY2UAOng=", "NUL"},               /* "alice\0:x" */
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        zx_request_init(&req, g_pool);
        why = NULL;
        ck_assert_msg(zx_request_parse_basic_auth(&req, bad[i].h, &why) == -1,
                      "\"%s\" accepted", bad[i].h);
        ck_assert_msg(why && strstr(why, bad[i].why), "\"%s\": reason \"%s\", want \"%s\"",
                      bad[i].h, why, bad[i].why);
        ck_assert_ptr_null(req.auth_user);
    }
}
END_TEST

/* ---- the pipeline: zx_handle ---------------------------------------------------------------- */

static void req_plain(zx_request *req, const char *query, const char *version)
{
    parse_ok(req, query);
    req->method = ZX_METHOD_POST;
    with_credentials(req);
    if (version) {
        const char *why = NULL;
        ck_assert_int_eq(zx_request_set_header(req, "MS-ASProtocolVersion", version, &why), 0);
    }
}

static void set_body(zx_request *req, const char *ctype, const unsigned char *body, size_t len)
{
    req->content_type = ctype;
    req->body = body;
    req->body_len = len;
}

/* The pipeline's tests run with the command table of eas/ less one command (ValidateCert), the
 * probe of "the request reached the command stage": answered 137 / HTTP 501. */
static zx_command_handler *pipeline_lookup(zx_cmd cmd)
{
    return cmd == ZX_CMD_VALIDATECERT ? NULL : zx_command_handler_get(cmd);
}

static void handle(zx_request *req, zx_response *resp)
{
    zx_response_init(resp, g_pool);
    zx_pipeline_run(&g_srv, req, resp, pipeline_lookup);
}

/* The response is HTTP 200 with a WBXML <root><Status>status</Status></root>, exactly. */
static void assert_eas_status(const zx_response *resp, unsigned root_tag, int status)
{
    ck_assert_int_eq(resp->status, 200);
    ck_assert_ptr_nonnull(resp->content_type);
    ck_assert_str_eq(resp->content_type, "application/vnd.ms-sync.wbxml");
    ck_assert_ptr_nonnull(resp->body);
    zx_wb_node *doc = NULL;
    apr_size_t off = 0;
    ck_assert_int_eq(zx_wbxml_decode(g_pool, resp->body, resp->body_len, NULL, &doc, &off),
                     ZX_WBXML_OK);
    ck_assert_uint_eq(doc->tag, root_tag);
    int st = zx_wb_tag_lookup(ZX_WB_PAGE(root_tag), "Status");
    ck_assert_int_ge(st, 0);
    ck_assert_str_eq(zx_wb_child_text(g_pool, doc, (unsigned)st),
                     apr_psprintf(g_pool, "%d", status));
    /* exactly one child */
    ck_assert_ptr_eq(doc->first, doc->last);
    /* and the bytes: header, page switch unless AirSync, root, Status, END END */
    unsigned page = ZX_WB_PAGE(root_tag);
    unsigned char want[32];
    size_t n = 0;
    want[n++] = 0x03;
    want[n++] = 0x01;
    want[n++] = 0x6A;
    want[n++] = 0x00;
    if (page) {
        want[n++] = 0x00;
        want[n++] = (unsigned char)page;
    }
    want[n++] = (unsigned char)(ZX_WB_TOKEN(root_tag) | 0x40);
    want[n++] = (unsigned char)(ZX_WB_TOKEN((unsigned)st) | 0x40);
    want[n++] = 0x03;
    n += (size_t)sprintf((char *)want + n, "%d", status);
    want[n++] = 0x00;
    want[n++] = 0x01;
    want[n++] = 0x01;
    ck_assert_uint_eq(resp->body_len, n);
    ck_assert_mem_eq(resp->body, want, n);
}

static void assert_http(const zx_response *resp, int status)
{
    ck_assert_int_eq(resp->status, status);
    ck_assert_ptr_null(resp->body);
    ck_assert_uint_eq(resp->body_len, 0);
    ck_assert_ptr_null(resp->content_type);
    ck_assert_ptr_nonnull(resp->reason);
}

/* A request that reaches the command stage of a server without a database: a command without a
 * handler in pipeline_lookup (ValidateCert), answered with status 137 / HTTP 501. */
#define Q_FS "Cmd=ValidateCert&User=alice&DeviceId=ABC123&DeviceType=iPhone"

/* <ValidateCert><Certificates><Certificate>x</Certificate></Certificates></ValidateCert> */
static const unsigned char folder_sync_body[] = {
    0x03, 0x01, 0x6A, 0x00, 0x00, 0x0B, 0x45, 0x46, 0x47, 0x03, 'x', 0x00, 0x01, 0x01, 0x01};

/* ---- untrusted bytes (issue 13, item 5 and 6) --------------------------------------------- */

START_TEST(test_header_values_become_clean_text)
{
    zx_request req;
    const char *why = NULL;
    zx_request_init(&req, g_pool);
    /* Latin-1 e-acute: not UTF-8 -> U+FFFD, the rest kept */
    ck_assert_int_eq(zx_request_set_header(&req, "User-Agent", "Caf\xe9", &why), 0);
    ck_assert_str_eq(req.user_agent, "Caf\xef\xbf\xbd");
    /* control characters (C0, DEL, C1) -> U+FFFD: no forged log lines */
    zx_request_init(&req, g_pool);
    ck_assert_int_eq(zx_request_set_header(&req, "User-Agent", "a\nb\rc\x01" "d\x7f" "e\xc2\x85" "f", &why), 0);
    ck_assert_str_eq(req.user_agent, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd" "d\xef\xbf\xbd"
                                     "e\xef\xbf\xbd" "f");
    /* valid UTF-8 stays as it is (the same string) */
    const char *good = "Caf\xc3\xa9/1.0 \xe2\x82\xac \xf0\x9f\x98\x80";
    zx_request_init(&req, g_pool);
    ck_assert_int_eq(zx_request_set_header(&req, "User-Agent", good, &why), 0);
    ck_assert_ptr_eq(req.user_agent, good);
    /* overlong, surrogate, truncated sequences */
    zx_request_init(&req, g_pool);
    zx_request_set_header(&req, "User-Agent", "\xc0\xaf|\xed\xa0\x80|\xe2\x82", &why);
    ck_assert_str_eq(req.user_agent, "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                                     "\xef\xbf\xbd\xef\xbf\xbd");
    zx_request_init(&req, g_pool);
    zx_request_set_header(&req, "Content-Type", "application/vnd.ms-sync.wbxml\xff", &why);
    ck_assert_str_eq(req.content_type, "application/vnd.ms-sync.wbxml\xef\xbf\xbd");
    /* the login name of Basic credentials too; the password stays bytes */
    zx_request_init(&req, g_pool);
    ck_assert_int_eq(zx_request_parse_basic_auth(
                         &req, apr_pstrcat(g_pool, "Basic ", b64((const unsigned char *)"b\xe9o:p\xe9", 6),
                                           NULL), &why), 0);
    ck_assert_str_eq(req.auth_user, "b\xef\xbf\xbdo");
    ck_assert_str_eq(req.auth_password, "p\xe9");
}
END_TEST

START_TEST(test_query_values_become_clean_text)
{
    zx_request req;
    parse_ok(&req, "Cmd=Sync&User=al%E9ce&DeviceId=d1&DeviceType=T%0Ax&CollectionId=%FF");
    ck_assert_str_eq(req.user, "al\xef\xbf\xbd" "ce");
    ck_assert_str_eq(req.device_type, "T\xef\xbf\xbdx");
    ck_assert_str_eq(req.collection_id, "\xef\xbf\xbd");
    /* base64 form: device type and parameters */
    const char *why = NULL;
    ck_assert_int_eq(parse_raw(&req, RAW(141, 0, 0x09, 0x04, 2, 'd', '1', 0, 3, 'T', 0xE9, 'x',
                                         8, 2, 'a', 0x0A), &why), 0);
    ck_assert_str_eq(req.device_type, "T\xef\xbf\xbdx");
    ck_assert_str_eq(req.user, "a\xef\xbf\xbd");
}
END_TEST

START_TEST(test_base64_nul_is_refused_not_cut)
{
    zx_request req;
    const char *why = NULL;
    /* DeviceId "sec\0b64" used to become "sec" */
    ck_assert_int_eq(parse_raw(&req, RAW(141, 0, 0x09, 0x04, 7, 's', 'e', 'c', 0, 'b', '6', '4',
                                         0, 1, 'T'), &why), -1);
    ck_assert_ptr_nonnull(strstr(why, "device ID contains a NUL"));
    ck_assert_int_eq(parse_raw(&req, RAW(141, 0, 0x09, 0x04, 2, 'd', '1', 0, 3, 'T', 0, 'x'), &why),
                     -1);
    ck_assert_ptr_nonnull(strstr(why, "device type contains a NUL"));
    ck_assert_int_eq(parse_raw(&req, RAW(141, 0, 0x09, 0x04, 2, 'd', '1', 0, 1, 'T',
                                         1, 3, '5', 0, '6'), &why), -1);
    ck_assert_ptr_nonnull(strstr(why, "CollectionId contains a NUL"));
    /* and in the plain form %00 is refused as it was */
    parse_bad("Cmd=Sync&User=a&DeviceId=sec%00b64&DeviceType=T", "percent-encoding");
}
END_TEST

START_TEST(test_options_user_must_match)
{
    /* README's table: a User parameter naming another account answers 403, OPTIONS too */
    zx_request req;
    zx_response resp;
    const char *why = NULL;
    g_auth_account = "alice@example.com";
    zx_request_init(&req, g_pool);
    req.method = ZX_METHOD_OPTIONS;
    with_credentials(&req);
    ck_assert_int_eq(zx_request_parse_query(&req, "Cmd=Sync&User=bob&DeviceId=d1&DeviceType=T",
                                            &why), 0);
    handle(&req, &resp);
    assert_http(&resp, 403);
    zx_request_init(&req, g_pool);
    req.method = ZX_METHOD_OPTIONS;
    with_credentials(&req);
    ck_assert_int_eq(zx_request_parse_query(&req, "Cmd=Sync&User=alice&DeviceId=d1&DeviceType=T",
                                            &why), 0);
    handle(&req, &resp);
    ck_assert_int_eq(resp.status, 200);
}
END_TEST

/* OPTIONS through zx_handle (the command table of eas/handlers.c) lists exactly the commands
 * that have a handler there, for every version: every command listed has a handler, every
 * handler is listed (in the versions of its command).  It compares the two tables, so it stays
 * true as handlers are added. */
START_TEST(test_options_lists_exactly_the_handled_commands)
{
    int handled = 0;
    for (int k = 0; zx_versions[k]; k++) {
        zx_version v = zx_versions[k];
        zx_request req;
        zx_response resp;
        g_srv.settings.versions = zx_vset_of(v);
        zx_request_init(&req, g_pool);
        req.method = ZX_METHOD_OPTIONS;
        with_credentials(&req);
        zx_response_init(&resp, g_pool);
        zx_handle(&g_srv, &req, &resp);
        ck_assert_int_eq(resp.status, 200);
        const char *hdr = apr_table_get(resp.headers, "MS-ASProtocolCommands");
        ck_assert_ptr_nonnull(hdr);
        int listed[ZX_CMD_COUNT_] = {0};
        char *last = NULL, *copy = apr_pstrdup(g_pool, hdr);
        for (char *name = apr_strtok(copy, ",", &last); name; name = apr_strtok(NULL, ",", &last)) {
            zx_cmd c = zx_command_by_name(name);
            ck_assert_msg(c != ZX_CMD_UNKNOWN, "OPTIONS %s lists \"%s\", not a command", zx_version_str(v),
                          name);
            ck_assert_msg(zx_command_handler_get(c) != NULL,
                          "OPTIONS %s lists %s, which has no handler", zx_version_str(v), name);
            ck_assert_msg(zx_command_in_version(c, v), "OPTIONS %s lists %s, not of that version",
                          zx_version_str(v), name);
            ck_assert_msg(!listed[c], "OPTIONS %s lists %s twice", zx_version_str(v), name);
            listed[c] = 1;
        }
        for (int c = 0; c < ZX_CMD_COUNT_; c++) {
            if (!zx_command_handler_get((zx_cmd)c) || !zx_command_in_version((zx_cmd)c, v))
                continue;
            handled++;
            ck_assert_msg(listed[c], "%s has a handler but OPTIONS %s does not list it",
                          zx_command_info_get((zx_cmd)c)->name, zx_version_str(v));
        }
    }
    g_srv.settings.versions = ZX_VSET_ALL;
    ck_assert_int_gt(handled, 0);
    /* a command without a handler is answered 137, and not listed: the same table decides */
    ck_assert_ptr_null(zx_command_handler_get(ZX_CMD_UNKNOWN));
}
END_TEST

START_TEST(test_handle_options)
{
    zx_request req;
    zx_response resp;
    zx_request_init(&req, g_pool);
    req.method = ZX_METHOD_OPTIONS;
    with_credentials(&req);
    handle(&req, &resp);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_ptr_null(resp.body);
    ck_assert_ptr_null(resp.content_type);
    ck_assert_str_eq(apr_table_get(resp.headers, "MS-ASProtocolVersions"),
                     "2.5,12.0,12.1,14.0,14.1,16.0,16.1");
    /* the commands of the table it runs with: not ValidateCert (no handler there) */
    const char *all = apr_table_get(resp.headers, "MS-ASProtocolCommands");
    ck_assert_str_eq(all, zx_command_list(g_pool, ZX_VSET_ALL, pipeline_lookup));
    ck_assert_ptr_nonnull(strstr(all, "Sync,"));
    ck_assert_ptr_nonnull(strstr(all, "GetAttachment"));
    ck_assert_ptr_null(strstr(all, "ValidateCert"));
    ck_assert_str_eq(apr_table_get(resp.headers, "MS-Server-ActiveSync"), "15.1");
    ck_assert_str_eq(apr_table_get(resp.headers, "Allow"), "OPTIONS,POST");
    ck_assert_str_eq(apr_table_get(resp.headers, "Public"), "OPTIONS,POST");
    ck_assert_uint_eq(g_log_count, 0);   /* nothing to log */

    /* a server offering fewer versions advertises fewer versions and commands */
    g_srv.settings.versions = zx_vset_of(140) | zx_vset_of(141);
    zx_request_init(&req, g_pool);
    req.method = ZX_METHOD_OPTIONS;
    with_credentials(&req);
    handle(&req, &resp);
    ck_assert_str_eq(apr_table_get(resp.headers, "MS-ASProtocolVersions"), "14.0,14.1");
    const char *cmds = apr_table_get(resp.headers, "MS-ASProtocolCommands");
    ck_assert_ptr_null(strstr(cmds, "GetAttachment"));
    ck_assert_ptr_null(strstr(cmds, "Find"));
    ck_assert_ptr_nonnull(strstr(cmds, "ItemOperations"));

    /* other methods */
    zx_request_init(&req, g_pool);
    req.method = ZX_METHOD_OTHER;
    with_credentials(&req);
    handle(&req, &resp);
    assert_http(&resp, 501);
    ck_assert_str_eq(apr_table_get(resp.headers, "Allow"), "OPTIONS,POST");
}
END_TEST

START_TEST(test_handle_auth)
{
    zx_request req;
    zx_response resp;
    /* no credentials: 401 with a challenge, OPTIONS included; the authenticator is not run */
    for (int m = 0; m < 2; m++) {
        req_plain(&req, Q_FS, "14.1");
        req.method = m ? ZX_METHOD_OPTIONS : ZX_METHOD_POST;
        req.auth_user = NULL;
        req.auth_password = NULL;
        handle(&req, &resp);
        ck_assert_int_eq(resp.status, 401);
        ck_assert_ptr_null(resp.body);
        ck_assert_str_eq(apr_table_get(resp.headers, "WWW-Authenticate"),
                         "Basic realm=\"ActiveSync\"");
        ck_assert_ptr_null(apr_table_get(resp.headers, "MS-ASProtocolVersions"));
    }
    ck_assert_uint_eq(g_auth_calls, 0);

    /* wrong password, throttled: 401 */
    static const zx_auth_result r401[] = {ZX_AUTH_BAD_CREDENTIALS, ZX_AUTH_THROTTLED};
    for (unsigned i = 0; i < 2; i++) {
        g_auth_result = r401[i];
        req_plain(&req, Q_FS, "14.1");
        handle(&req, &resp);
        assert_http(&resp, 401);
        ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00019"));
        ck_assert_ptr_nonnull(apr_table_get(resp.headers, "WWW-Authenticate"));
    }
    /* locked, closed, not enabled for ActiveSync: 403 */
    static const zx_auth_result r403[] = {ZX_AUTH_LOCKED, ZX_AUTH_CLOSED, ZX_AUTH_NOT_ENABLED};
    for (unsigned i = 0; i < 3; i++) {
        g_auth_result = r403[i];
        req_plain(&req, Q_FS, "14.1");
        handle(&req, &resp);
        assert_http(&resp, 403);
        ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00020"));
        ck_assert_ptr_nonnull(strstr(resp.reason, "alice@example.com"));
        ck_assert_ptr_null(apr_table_get(resp.headers, "WWW-Authenticate"));
    }
    /* the directory cannot be asked: 503, retry later */
    g_auth_result = ZX_AUTH_ERROR;
    req_plain(&req, Q_FS, "14.1");
    handle(&req, &resp);
    assert_http(&resp, 503);
    ck_assert_ptr_nonnull(strstr(resp.reason, "directory unreachable"));
    ck_assert_str_eq(apr_table_get(resp.headers, "Retry-After"), "5");     /* ZX_RETRY_AFTER_DB */
    /* the default authenticator without a database: 503 too */
    g_srv.authenticate = NULL;
    req_plain(&req, Q_FS, "14.1");
    handle(&req, &resp);
    assert_http(&resp, 503);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00021"));
    g_srv.authenticate = stub_auth;
    g_auth_result = ZX_AUTH_OK;

    /* the User parameter must name the authenticated account */
    g_auth_account = "alice@example.com";
    static const char *const same[] = {"alice", "ALICE", "EXAMPLE%5Calice", "alice%40example.com",
                                       "Alice%40Example.com"};
    for (unsigned i = 0; i < sizeof same / sizeof same[0]; i++) {
        req_plain(&req, apr_pstrcat(g_pool, "Cmd=ValidateCert&DeviceId=D1&DeviceType=T&User=",
                                    same[i], NULL), "14.1");
        set_body(&req, "application/vnd.ms-sync.wbxml", folder_sync_body,
                 sizeof folder_sync_body);
        handle(&req, &resp);
        assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 137);
    }
    static const char *const other[] = {"bob", "alic", "alicex", "alice%40other.com",
                                        "EXAMPLE%5Cbob", "bob%40example.com"};
    for (unsigned i = 0; i < sizeof other / sizeof other[0]; i++) {
        req_plain(&req, apr_pstrcat(g_pool, "Cmd=ValidateCert&DeviceId=D1&DeviceType=T&User=",
                                    other[i], NULL), "14.1");
        set_body(&req, "application/vnd.ms-sync.wbxml", folder_sync_body,
                 sizeof folder_sync_body);
        handle(&req, &resp);
        assert_http(&resp, 403);
        ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00022"));
    }
}
END_TEST

START_TEST(test_handle_query_errors)
{
    zx_request req;
    zx_response resp;

    req_plain(&req, "User=alice&DeviceId=ABC123&DeviceType=iPhone", "14.1");
    handle(&req, &resp);
    assert_http(&resp, 400);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00003"));
    ck_assert_uint_eq(g_log_count, 1);
    ck_assert_ptr_nonnull(strstr(g_log_last, "ZX00003"));
    ck_assert_ptr_nonnull(strstr(g_log_last, "-> 400"));

    req_plain(&req, "Cmd=&User=alice&DeviceId=ABC123&DeviceType=iPhone", "14.1");
    handle(&req, &resp);
    assert_http(&resp, 400);

    /* unknown command: 501, also from the base64 form */
    req_plain(&req, "Cmd=Frobnicate&User=alice&DeviceId=ABC123&DeviceType=iPhone", "14.1");
    handle(&req, &resp);
    assert_http(&resp, 501);
    ck_assert_ptr_nonnull(strstr(resp.reason, "Frobnicate"));
    const char *why;
    ck_assert_int_eq(parse_raw(&req, RAW(0x8D, 0x05, 0x09, 0x04, 0x01, 'D', 0x00, 0x01, 'T'),
                               &why), 0);
    req.method = ZX_METHOD_POST;
    with_credentials(&req);
    handle(&req, &resp);
    assert_http(&resp, 501);

    /* User: missing, empty, with a blank, too long */
    static const char *const users[] = {"", "&User=", "&User=a+b", "&User=a%01"};
    for (unsigned i = 0; i < sizeof users / sizeof users[0]; i++) {
        req_plain(&req, apr_pstrcat(g_pool, "Cmd=ValidateCert&DeviceId=ABC123&DeviceType=iPhone",
                                    users[i], NULL), "14.1");
        handle(&req, &resp);
        assert_http(&resp, 400);
        ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00005"));
    }
    /* a login name of 256 characters (domain labels of at most 63) is fine, 257 are not */
    char longuser[258];
    memset(longuser, 'u', 257);
    memcpy(longuser, "alice@", 6);
    for (int i = 6 + 63; i < 256 - 4; i += 64)
        longuser[i] = '.';
    memcpy(longuser + 252, ".com", 4);
    longuser[256] = 'x';
    longuser[257] = 0;
    req_plain(&req, apr_pstrcat(g_pool, Q_FS, "x", NULL), "14.1");
    req.user = longuser;
    handle(&req, &resp);
    assert_http(&resp, 400);
    longuser[256] = 0;   /* 256 characters are fine */
    req_plain(&req, Q_FS, "14.1");
    req.user = longuser;
    set_body(&req, "application/vnd.ms-sync.wbxml", folder_sync_body, sizeof folder_sync_body);
    handle(&req, &resp);
    assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 137);

    /* protocol version: missing, unknown, not offered */
    req_plain(&req, Q_FS, NULL);
    handle(&req, &resp);
    assert_http(&resp, 400);
    ck_assert_str_eq(apr_table_get(resp.headers, "MS-ASProtocolVersions"),
                     "2.5,12.0,12.1,14.0,14.1,16.0,16.1");
    ck_assert_ptr_nonnull(apr_table_get(resp.headers, "MS-ASProtocolCommands"));
    req_plain(&req, Q_FS, "");
    handle(&req, &resp);
    assert_http(&resp, 400);
    ck_assert_ptr_nonnull(apr_table_get(resp.headers, "MS-ASProtocolVersions"));
    req_plain(&req, Q_FS, "13.0");
    handle(&req, &resp);
    assert_http(&resp, 400);
    ck_assert_ptr_nonnull(strstr(resp.reason, "13.0"));
    ck_assert_str_eq(apr_table_get(resp.headers, "MS-ASProtocolVersions"),
                     "2.5,12.0,12.1,14.0,14.1,16.0,16.1");
    g_srv.settings.versions = zx_vset_of(141);
    req_plain(&req, Q_FS, "16.1");
    handle(&req, &resp);
    assert_http(&resp, 400);
    ck_assert_str_eq(apr_table_get(resp.headers, "MS-ASProtocolVersions"), "14.1");
    ck_assert_str_eq(apr_table_get(resp.headers, "MS-ASProtocolCommands"),
                     zx_command_list(g_pool, zx_vset_of(141), pipeline_lookup));
    g_srv.settings.versions = ZX_VSET_ALL;

    /* base64 query at 2.5 or 12.0: 400; at 12.1: accepted */
    ck_assert_int_eq(parse_raw(&req, RAW(120, 0x09, 0x09, 0x04, 0x01, 'D', 0x00, 0x01, 'T'),
                               &why), 0);
    req.method = ZX_METHOD_POST;
    with_credentials(&req);
    handle(&req, &resp);
    assert_http(&resp, 400);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00008"));
    ck_assert_int_eq(parse_raw(&req, RAW(121, 22, 0x09, 0x04, 0x01, 'D', 0x00, 0x01, 'T'),
                               &why), 0);
    req.method = ZX_METHOD_POST;
    with_credentials(&req);
    set_body(&req, "application/vnd.ms-sync.wbxml", folder_sync_body, sizeof folder_sync_body);
    handle(&req, &resp);
    assert_http(&resp, 501);   /* reached the command stage; User is optional in base64 */
}
END_TEST

START_TEST(test_handle_device_errors)
{
    zx_request req;
    zx_response resp;
    static const char *const bad_ids[] = {
        "&DeviceId=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",    /* 33 characters */
        "&DeviceId=abc-123", "&DeviceId=abc_123", "&DeviceId=abc.123", "&DeviceId=a+b",
        "&DeviceId=", "", "&DeviceId=%C3%A9"};
    for (unsigned i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        const char *q = apr_pstrcat(g_pool, "Cmd=ValidateCert&User=alice&DeviceType=iPhone",
                                    bad_ids[i], NULL);
        req_plain(&req, q, "12.1");
        handle(&req, &resp);
        assert_http(&resp, 400);
        ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00009"));

        req_plain(&req, q, "14.1");
        set_body(&req, "application/vnd.ms-sync.wbxml", folder_sync_body,
                 sizeof folder_sync_body);
        handle(&req, &resp);
        assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 108);
        ck_assert_ptr_nonnull(resp.reason);
    }
    /* the exact bytes of that answer */
    req_plain(&req, "Cmd=ValidateCert&User=alice&DeviceType=iPhone&DeviceId=abc-123", "14.1");
    handle(&req, &resp);
    static const unsigned char want108[] = {0x03, 0x01, 0x6A, 0x00, 0x00, 0x0B, 0x45, 0x4A,
                                            0x03, '1', '0', '8', 0x00, 0x01, 0x01};
    ck_assert_uint_eq(resp.body_len, sizeof want108);
    ck_assert_mem_eq(resp.body, want108, sizeof want108);
    ck_assert_ptr_nonnull(strstr(g_log_last, "-> 200"));

    /* 32 letters and digits are fine */
    req_plain(&req, "Cmd=ValidateCert&User=alice&DeviceType=iPhone"
                    "&DeviceId=ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", "14.1");
    set_body(&req, "application/vnd.ms-sync.wbxml", folder_sync_body, sizeof folder_sync_body);
    handle(&req, &resp);
    assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 137);

    /* DeviceType: missing, blank inside, too long */
    char longtype[80];
    memset(longtype, 'T', 65);
    longtype[65] = 0;
    const char *types[] = {"", "&DeviceType=", "&DeviceType=a+b",
                           apr_pstrcat(g_pool, "&DeviceType=", longtype, NULL)};
    for (unsigned i = 0; i < sizeof types / sizeof types[0]; i++) {
        const char *q = apr_pstrcat(g_pool, "Cmd=Ping&User=alice&DeviceId=D1", types[i], NULL);
        req_plain(&req, q, "12.1");
        handle(&req, &resp);
        assert_http(&resp, 400);
        ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00010"));
        req_plain(&req, q, "14.1");
        handle(&req, &resp);
        assert_eas_status(&resp, ZX_Ping_Ping, 109);
    }
    longtype[64] = 0;
    req_plain(&req, apr_pstrcat(g_pool, "Cmd=Ping&User=alice&DeviceId=D1&DeviceType=", longtype,
                                NULL), "14.1");
    handle(&req, &resp);
    /* the empty Ping reaches the Ping handler, which has no database here: status 8 */
    assert_eas_status(&resp, ZX_Ping_Ping, 8);
    ck_assert_ptr_nonnull(resp.reason);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX010"));
}
END_TEST

START_TEST(test_handle_command_versions)
{
    zx_request req;
    zx_response resp;
    /* GetAttachment is gone in 14.0, and has no WBXML response: HTTP 400 */
    req_plain(&req, "Cmd=GetAttachment&User=a&DeviceId=D1&DeviceType=T&AttachmentName=x",
              "14.0");
    handle(&req, &resp);
    assert_http(&resp, 400);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00011"));
    req_plain(&req, "Cmd=GetAttachment&User=a&DeviceId=D1&DeviceType=T&AttachmentName=x",
              "12.1");
    handle(&req, &resp);
    /* exists in 12.1: reaches the command, for which "x" names no attachment (HTTP 500) */
    assert_http(&resp, 500);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00763"));
    /* Find only in 16.1 */
    req_plain(&req, "Cmd=Find&User=a&DeviceId=D1&DeviceType=T", "16.0");
    handle(&req, &resp);
    assert_eas_status(&resp, ZX_Find_Find, 138);
    /* Settings from 12.0 */
    req_plain(&req, "Cmd=Settings&User=a&DeviceId=D1&DeviceType=T", "2.5");
    handle(&req, &resp);
    assert_http(&resp, 400);
    req_plain(&req, "Cmd=Settings&User=a&DeviceId=D1&DeviceType=T", "12.0");
    handle(&req, &resp);
    assert_http(&resp, 400);   /* no body: MS-ASCMD 101, HTTP 400 below 14.0 */
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00018"));
}
END_TEST

START_TEST(test_handle_body)
{
    zx_request req;
    zx_response resp;
    static const unsigned char garbage[] = {0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52};
    static const unsigned char sync_body[] = {0x03, 0x01, 0x6A, 0x00, 0x45, 0x01};

    /* a valid ValidateCert: 14.1 answers with the command's status 137, 12.1 with HTTP 501 */
    req_plain(&req, Q_FS, "14.1");
    set_body(&req, "application/vnd.ms-sync.wbxml", folder_sync_body, sizeof folder_sync_body);
    handle(&req, &resp);
    assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 137);
    ck_assert_ptr_nonnull(req.doc);
    ck_assert_uint_eq(req.doc->tag, ZX_ValidateCert_ValidateCert);
    ck_assert_ptr_nonnull(zx_wb_child(req.doc, ZX_ValidateCert_Certificates));
    req_plain(&req, Q_FS, "12.1");
    set_body(&req, "application/vnd.ms-sync.wbxml", folder_sync_body, sizeof folder_sync_body);
    handle(&req, &resp);
    assert_http(&resp, 501);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00017"));

    /* Content-Type */
    static const char *const bad_ct[] = {NULL, "text/plain", "application/vnd.ms-sync.wbxmlx",
                                         "application/xml", "message/rfc822", ""};
    for (unsigned i = 0; i < sizeof bad_ct / sizeof bad_ct[0]; i++) {
        req_plain(&req, Q_FS, "14.1");
        set_body(&req, bad_ct[i], folder_sync_body, sizeof folder_sync_body);
        handle(&req, &resp);
        assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 101);
        req_plain(&req, Q_FS, "12.1");
        set_body(&req, bad_ct[i], folder_sync_body, sizeof folder_sync_body);
        handle(&req, &resp);
        assert_http(&resp, 400);
        ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00014"));
    }
    static const char *const good_ct[] = {"application/vnd.ms-sync.wbxml",
                                          "Application/Vnd.MS-Sync.WBXML",
                                          "application/vnd.ms-sync.wbxml; charset=utf-8",
                                          "application/vnd.ms-sync"};
    for (unsigned i = 0; i < sizeof good_ct / sizeof good_ct[0]; i++) {
        req_plain(&req, Q_FS, "14.1");
        set_body(&req, good_ct[i], folder_sync_body, sizeof folder_sync_body);
        handle(&req, &resp);
        assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 137);
    }
    /* plain application/vnd.ms-sync only from 12.1 on */
    req_plain(&req, Q_FS, "12.0");
    set_body(&req, "application/vnd.ms-sync", folder_sync_body, sizeof folder_sync_body);
    handle(&req, &resp);
    assert_http(&resp, 400);

    /* malformed WBXML: 102 / 400 */
    req_plain(&req, Q_FS, "14.1");
    set_body(&req, "application/vnd.ms-sync.wbxml", garbage, sizeof garbage);
    handle(&req, &resp);
    assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 102);
    ck_assert_ptr_nonnull(strstr(resp.reason, "truncated"));
    req_plain(&req, Q_FS, "12.1");
    set_body(&req, "application/vnd.ms-sync.wbxml", garbage, sizeof garbage);
    handle(&req, &resp);
    assert_http(&resp, 400);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00015"));
    /* nested deeper than the server's limit */
    g_srv.settings.max_wbxml_depth = 1;
    req_plain(&req, Q_FS, "14.1");
    set_body(&req, "application/vnd.ms-sync.wbxml", folder_sync_body, sizeof folder_sync_body);
    handle(&req, &resp);
    assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 102);
    g_srv.settings.max_wbxml_depth = ZX_WBXML_DEFAULT_MAX_DEPTH;

    /* wrong root element: 103 / 400 */
    req_plain(&req, Q_FS, "14.1");
    set_body(&req, "application/vnd.ms-sync.wbxml", sync_body, sizeof sync_body);
    handle(&req, &resp);
    assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 103);
    ck_assert_ptr_nonnull(strstr(resp.reason, "AirSync:Sync"));
    req_plain(&req, Q_FS, "12.1");
    set_body(&req, "application/vnd.ms-sync.wbxml", sync_body, sizeof sync_body);
    handle(&req, &resp);
    assert_http(&resp, 400);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00016"));
    /* the right root for Sync */
    req_plain(&req, "Cmd=Sync&User=a&DeviceId=D1&DeviceType=T", "16.1");
    set_body(&req, "application/vnd.ms-sync.wbxml", sync_body, sizeof sync_body);
    handle(&req, &resp);
    /* the Sync command runs: without a database it asks to retry later (111) */
    assert_eas_status(&resp, ZX_AirSync_Sync, 111);

    /* larger than the server accepts: 413 */
    g_srv.settings.max_body = sizeof folder_sync_body - 1;
    req_plain(&req, Q_FS, "14.1");
    set_body(&req, "application/vnd.ms-sync.wbxml", folder_sync_body, sizeof folder_sync_body);
    handle(&req, &resp);
    assert_http(&resp, 413);
    g_srv.settings.max_body = sizeof folder_sync_body;
    req_plain(&req, Q_FS, "14.1");
    set_body(&req, "application/vnd.ms-sync.wbxml", folder_sync_body, sizeof folder_sync_body);
    handle(&req, &resp);
    assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 137);
    g_srv.settings.max_body = ZX_DEFAULT_MAX_BODY;

    /* empty body: allowed for Sync and Ping, 101 for the others */
    req_plain(&req, "Cmd=Sync&User=a&DeviceId=D1&DeviceType=T", "14.1");
    handle(&req, &resp);
    assert_eas_status(&resp, ZX_AirSync_Sync, 111);     /* the command ran (no database) */
    req_plain(&req, Q_FS, "14.1");
    handle(&req, &resp);
    assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 101);
    req_plain(&req, Q_FS, "12.1");
    handle(&req, &resp);
    assert_http(&resp, 400);
}
END_TEST

/* The body is read through the host's reader only once the request is authenticated, within
 * the command's limit (eas_commands.def), and refused from its declared length without being
 * read; the WBXML node budget of the command holds while decoding. */
static unsigned g_reads;
static apr_size_t g_read_max;
static int g_read_result;

static int fake_reader(void *baton, zx_request *req, apr_size_t max, const char **why)
{
    g_reads++;
    g_read_max = max;
    if (g_read_result) {
        *why = "stub: the client stopped sending";
        return g_read_result;
    }
    req->body = baton;
    req->body_len = sizeof folder_sync_body;
    return 0;
}

static void req_reader(zx_request *req, long long declared)
{
    req_plain(req, Q_FS, "14.1");
    req->content_type = "application/vnd.ms-sync.wbxml";
    req->body_declared = declared;
    req->read_body = fake_reader;
    req->read_body_baton = (void *)folder_sync_body;
}

START_TEST(test_handle_body_reader)
{
    zx_request req;
    zx_response resp;
    const zx_command_info *ci = zx_command_info_get(ZX_CMD_VALIDATECERT);
    ck_assert_uint_eq(ci->max_body, 1024u * 1024u);
    ck_assert_uint_eq(ci->max_nodes, 4096);
    g_reads = 0;
    g_read_result = 0;

    /* refused credentials: 401, nothing read */
    g_auth_result = ZX_AUTH_BAD_CREDENTIALS;
    req_reader(&req, 30 * 1024 * 1024 - 1);
    handle(&req, &resp);
    assert_http(&resp, 401);
    ck_assert_uint_eq(g_reads, 0);
    ck_assert_ptr_nonnull(req.read_body);       /* the host closes the connection */
    g_auth_result = ZX_AUTH_OK;

    /* over the command's limit by Content-Length: 413, nothing read */
    req_reader(&req, 1024 * 1024 + 1);
    handle(&req, &resp);
    assert_http(&resp, 413);
    ck_assert_uint_eq(g_reads, 0);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00061: ValidateCert request body of 1048577 "
                                             "bytes is over the command's limit of 1048576 bytes"));
    /* ZxMobileMaxRequestSize caps the command's limit */
    g_srv.settings.max_body = 1000;
    req_reader(&req, 1001);
    handle(&req, &resp);
    assert_http(&resp, 413);
    ck_assert_uint_eq(g_reads, 0);
    g_srv.settings.max_body = ZX_DEFAULT_MAX_BODY;

    /* within it: read once, with the command's limit, then decoded and answered */
    req_reader(&req, sizeof folder_sync_body);
    handle(&req, &resp);
    assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 137);
    ck_assert_uint_eq(g_reads, 1);
    ck_assert_uint_eq(g_read_max, 1024u * 1024u);
    ck_assert_ptr_null(req.read_body);
    /* chunked (no declared length): read with the same limit */
    req_reader(&req, -1);
    handle(&req, &resp);
    assert_eas_status(&resp, ZX_ValidateCert_ValidateCert, 137);
    ck_assert_uint_eq(g_reads, 2);

    /* a read that fails (a timeout, a body over the limit while chunked): its status */
    g_read_result = 408;
    req_reader(&req, sizeof folder_sync_body);
    handle(&req, &resp);
    assert_http(&resp, 408);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00060: request body not read: stub: the client "
                                             "stopped sending"));
    g_read_result = 0;

    /* the node budget: 5000 empty Certificate elements in a ValidateCert (4096 nodes) */
    size_t n = 5 + 5000 + 1;
    unsigned char *bomb = apr_palloc(g_pool, n + 2);
    memcpy(bomb, (const unsigned char[]){0x03, 0x01, 0x6A, 0x00, 0x00, 0x0B, 0x45}, 7);
    memset(bomb + 7, 0x07, 5000);                 /* Certificate, no content */
    bomb[7 + 5000] = 0x01;
    req_plain(&req, Q_FS, "14.1");
    set_body(&req, "application/vnd.ms-sync.wbxml", bomb, 7 + 5000 + 1);
    handle(&req, &resp);
    assert_http(&resp, 413);
    ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00062: ValidateCert request body has more than "
                                             "4096 WBXML elements and strings"));
    ck_assert_ptr_null(req.doc);
}
END_TEST

START_TEST(test_handle_mime_body)
{
    zx_request req;
    zx_response resp;
    static const char mime[] = "From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhi\r\n";
    static const unsigned char sendmail_body[] = {
        0x03, 0x01, 0x6A, 0x00, 0x00, 0x15, 0x45, 0x51, 0x03, 'c', '1', 0x00, 0x01, 0x50, 0xC3,
        0x02, 'h', 'i', 0x01, 0x01};
    static const char *const cmds[] = {"SendMail", "SmartReply", "SmartForward"};
    static const unsigned roots[] = {ZX_ComposeMail_SendMail, ZX_ComposeMail_SmartReply,
                                     ZX_ComposeMail_SmartForward};
    for (unsigned i = 0; i < 3; i++) {
        const char *q = apr_pstrcat(g_pool, "Cmd=", cmds[i],
                                    "&User=a&DeviceId=D1&DeviceType=T&SaveInSent=T"
                                    "&ItemId=1&CollectionId=2", NULL);
        /* below 14.0 the body is MIME: the body stage lets it through to the command */
        req_plain(&req, q, "12.1");
        set_body(&req, "message/rfc822", (const unsigned char *)mime, sizeof mime - 1);
        handle(&req, &resp);
        /* it reaches the command, which has no database here: HTTP 503 */
        assert_http(&resp, 503);
        ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00712"));
        ck_assert_ptr_null(req.doc);
        req_plain(&req, q, "2.5");
        set_body(&req, "Message/RFC822; charset=utf-8", (const unsigned char *)mime,
                 sizeof mime - 1);
        handle(&req, &resp);
        assert_http(&resp, 503);
        /* anything else is refused */
        req_plain(&req, q, "12.1");
        set_body(&req, "application/vnd.ms-sync.wbxml", (const unsigned char *)mime,
                 sizeof mime - 1);
        handle(&req, &resp);
        assert_http(&resp, 400);
        ck_assert_ptr_nonnull(strstr(resp.reason, "ZX00013"));
        /* from 14.0 on the body is WBXML */
        req_plain(&req, q, "14.1");
        set_body(&req, "message/rfc822", (const unsigned char *)mime, sizeof mime - 1);
        handle(&req, &resp);
        assert_eas_status(&resp, roots[i], 101);
    }
    req_plain(&req, "Cmd=SendMail&User=a&DeviceId=D1&DeviceType=T", "14.1");
    set_body(&req, "application/vnd.ms-sync.wbxml", sendmail_body, sizeof sendmail_body);
    handle(&req, &resp);
    /* ServerErrorRetryLater: no database here (mail to local accounts needs none of an
     * MTA, so the command always goes on to its database) */
    assert_eas_status(&resp, ZX_ComposeMail_SendMail, 111);
    ck_assert_str_eq(zx_wb_child_text(g_pool, req.doc, ZX_ComposeMail_ClientId), "c1");
}
END_TEST

START_TEST(test_handle_base64_example)
{
    zx_request req;
    zx_response resp;
    parse_ok(&req, "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l");
    req.method = ZX_METHOD_POST;
    with_credentials(&req);
    const char *why;
    ck_assert_int_eq(zx_request_set_header(&req, "MS-ASProtocolVersion", "2.5", &why), 0);
    handle(&req, &resp);
    /* protocol 14.0 from the query, empty Sync: reaches the command (no database: 111) */
    assert_eas_status(&resp, ZX_AirSync_Sync, 111);
    ck_assert_ptr_nonnull(strstr(g_log_last, "DeviceId=v140Device"));
}
END_TEST

/* ---- runner ------------------------------------------------------------------------------ */

static Suite *request_suite(void)
{
    Suite *s = suite_create("request");
    TCase *tc;

    tc = tcase_create("plain");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_plain_all_parameters);
    tcase_add_test(tc, test_plain_names_case_insensitive);
    tcase_add_test(tc, test_plain_percent_encoding);
    tcase_add_test(tc, test_plain_bad_escapes);
    tcase_add_test(tc, test_plain_duplicates_rejected);
    tcase_add_test(tc, test_plain_duplicate_flags_rejected);
    tcase_add_test(tc, test_plain_flags);
    tcase_add_test(tc, test_no_query);
    suite_add_tcase(s, tc);

    /* reads through a possibly dangling pointer on purpose (and crashed the whole runner
     * under CK_FORK=no when the parser wrote into a literal): tagged so that a valgrind run
     * can leave it out with CK_EXCLUDE_TAGS=crash while such a bug is open */
    tc = tcase_create("plain_novalue");
    tcase_set_tags(tc, "crash");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_plain_parameter_without_value);
    suite_add_tcase(s, tc);

    tc = tcase_create("base64");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_base64_published_example);
    tcase_add_test(tc, test_base64_policy_key_and_parameters);
    tcase_add_test(tc, test_base64_truncations);
    tcase_add_test(tc, test_base64_bad);
    tcase_add_test(tc, test_base64_url_forms);
    tcase_add_test(tc, test_base64_encode_roundtrip);
    suite_add_tcase(s, tc);

    tc = tcase_create("versions");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_versions);
    tcase_add_test(tc, test_vsets);
    tcase_add_test(tc, test_commands);
    tcase_add_test(tc, test_status_table);
    suite_add_tcase(s, tc);

    tc = tcase_create("headers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_set_header);
    tcase_add_test(tc, test_base64_header_precedence);
    tcase_add_test(tc, test_base64_unknown_version_byte_wins);
    tcase_add_test(tc, test_basic_auth);
    suite_add_tcase(s, tc);

    tc = tcase_create("pipeline");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_handle_options);
    tcase_add_test(tc, test_options_lists_exactly_the_handled_commands);
    tcase_add_test(tc, test_header_values_become_clean_text);
    tcase_add_test(tc, test_query_values_become_clean_text);
    tcase_add_test(tc, test_base64_nul_is_refused_not_cut);
    tcase_add_test(tc, test_options_user_must_match);
    tcase_add_test(tc, test_handle_auth);
    tcase_add_test(tc, test_handle_query_errors);
    tcase_add_test(tc, test_handle_device_errors);
    tcase_add_test(tc, test_handle_command_versions);
    tcase_add_test(tc, test_handle_body);
    tcase_add_test(tc, test_handle_body_reader);
    tcase_add_test(tc, test_handle_mime_body);
    tcase_add_test(tc, test_handle_base64_example);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    apr_initialize();
    return zx_run_tap(request_suite());
}
