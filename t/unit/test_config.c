/* zxmobile - unit tests of the attribute registry and value validation (zxsync/attrs.h,
 * attrs.def), the service names (zxsync/services.h) and the text helper they share
 * (zxsync/text.h), Check printing TAP.  No database: resolution and storage are tested end to
 * end in t/e2e/test_config.py. */
#include <zxsync/attrs.h>
#include <zxsync/config.h>
#include <zxsync/services.h>
#include <zxsync/text.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static const char *ok(const char *name, const char *value)
{
    const char *norm = NULL, *err = NULL;
    const zx_attr_def *a = zx_attr_find(name);
    ck_assert_msg(a != NULL, "%s registered", name);
    ck_assert_msg(zx_attr_validate(g_pool, a, value, &norm, &err) == 0, "%s=%s: %s", name,
                  value, err ? err : "");
    return norm;
}

static const char *bad(const char *name, const char *value)
{
    const char *norm = NULL, *err = NULL;
    const zx_attr_def *a = zx_attr_find(name);
    ck_assert_msg(a != NULL, "%s registered", name);
    ck_assert_msg(zx_attr_validate(g_pool, a, value, &norm, &err) < 0, "%s=%s accepted", name,
                  value);
    ck_assert_ptr_nonnull(err);
    return err;
}

/* Every registered attribute: unique name, some level, a default its own rules accept. */
START_TEST(test_registry_consistent)
{
    apr_size_t n;
    const zx_attr_def *all = zx_attr_all(&n);
    ck_assert_uint_gt(n, 60);
    for (apr_size_t i = 0; i < n; i++) {
        const zx_attr_def *a = &all[i];
        ck_assert_msg(a->levels != 0, "%s has no level", a->name);
        ck_assert_msg(a->description && *a->description, "%s has no description", a->name);
        ck_assert_ptr_eq(zx_attr_find(a->name), a);
        for (apr_size_t k = i + 1; k < n; k++)
            ck_assert_msg(strcasecmp(a->name, all[k].name) != 0, "%s registered twice", a->name);
        if (a->type == ZX_ATTR_INT)
            ck_assert_msg(a->min <= a->max, "%s: min > max", a->name);
        if (a->type == ZX_ATTR_ENUM)
            ck_assert_msg(a->enum_values && *a->enum_values, "%s: no values", a->name);
        if (a->def && *a->def) {
            const char *norm, *err = NULL;
            ck_assert_msg(zx_attr_validate(g_pool, a, a->def, &norm, &err) == 0,
                          "default of %s invalid: %s", a->name, err);
            ck_assert_str_eq(norm, a->def);
        }
        else {
            ck_assert_msg(a->type == ZX_ATTR_STRING, "%s has no default", a->name);
        }
    }
}
END_TEST

START_TEST(test_find_is_case_insensitive)
{
    ck_assert_ptr_nonnull(zx_attr_find("ABQMODE"));
    ck_assert_str_eq(zx_attr_find("abqmode")->name, "abqMode");
    ck_assert_ptr_null(zx_attr_find("noSuchAttribute"));
    ck_assert_ptr_null(zx_attr_find(NULL));
    /* the real, misspelled name */
    ck_assert_ptr_nonnull(zx_attr_find("ZxMobile_UseInstantNotficiations"));
}
END_TEST

START_TEST(test_spec_values)
{
    const zx_attr_def *a = zx_attr_find("zimbraFeatureMobileSyncEnabled");
    ck_assert_int_eq(a->type, ZX_ATTR_BOOL);
    ck_assert_str_eq(a->def, "FALSE");
    ck_assert_uint_eq(a->levels, ZX_LEVEL_ACCOUNT | ZX_LEVEL_COS);
    a = zx_attr_find("zimbraMobilePolicyAllowBluetooth");
    ck_assert_str_eq(a->def, "2");
    ck_assert_int_eq(a->min, -1);
    ck_assert_int_eq(a->max, 2);
    a = zx_attr_find("mobileAntiDosServiceJailDuration");
    ck_assert_str_eq(a->def, "600000");
    ck_assert_str_eq(a->unit, "ms");
    ck_assert_uint_eq(a->levels, ZX_LEVEL_GLOBAL);
    a = zx_attr_find("ZxMobile_MaxPingHeartbeat");
    ck_assert_int_eq(a->max, 3540);
    ck_assert_uint_eq(a->levels, ZX_LEVEL_SERVER | ZX_LEVEL_GLOBAL);
    a = zx_attr_find("abqMode");
    ck_assert_str_eq(a->def, "Permissive");
    ck_assert_uint_eq(a->levels, ZX_LEVEL_ACCOUNT | ZX_LEVEL_COS | ZX_LEVEL_GLOBAL);
    ck_assert(zx_attr_find("zimbraMobilePolicyApprovedApplication")->multi);
}
END_TEST

START_TEST(test_normalisation)
{
    ck_assert_str_eq(ok("zimbraFeatureMobileSyncEnabled", "true"), "TRUE");
    ck_assert_str_eq(ok("zimbraFeatureMobileSyncEnabled", "No"), "FALSE");
    ck_assert_str_eq(ok("zimbraFeatureMobileSyncEnabled", "1"), "TRUE");
    ck_assert_str_eq(ok("abqMode", "strict"), "Strict");
    ck_assert_str_eq(ok("ZxMobile_MaxOutlookVersion", "16.1"), "16.1");
    ck_assert_str_eq(ok("zimbraMobilePolicyAllowBluetooth", "-1"), "-1");
    ck_assert_str_eq(ok("zimbraMobilePolicyAllowBluetooth", "+2"), "2");
    ck_assert_str_eq(ok("mobileAntiDosServiceJailDuration", "2147483647"), "2147483647");
    ck_assert_str_eq(ok("zimbraDefaultDomainName", ""), "");
    ck_assert_str_eq(ok("zimbraMobilePolicyApprovedApplication", "a\nb\n\na"), "a\nb");
}
END_TEST

START_TEST(test_refusals_say_what_is_allowed)
{
    const char *e = bad("mobileAntiDosServiceMaxRequests", "100001");
    ck_assert_ptr_nonnull(strstr(e, "mobileAntiDosServiceMaxRequests"));
    ck_assert_ptr_nonnull(strstr(e, "\"100001\""));
    ck_assert_ptr_nonnull(strstr(e, "from 0 to 100000"));
    e = bad("abqMode", "sometimes");
    ck_assert_ptr_nonnull(strstr(e, "Permissive, Interactive, Strict, Disabled"));
    e = bad("zimbraFeatureMobileSyncEnabled", "maybe");
    ck_assert_ptr_nonnull(strstr(e, "TRUE or FALSE"));
    bad("ZxMobile_MaxPingHeartbeat", "3541");
    bad("ZxMobile_MaxPingHeartbeat", "59");
    bad("zimbraMobilePolicyAllowBluetooth", "3");
    bad("zimbraMobilePolicyAllowCamera", "-2");
    bad("mobileAntiDosServiceJailDuration", "2147483648");
    bad("mobileAntiDosServiceJailDuration", "12x");
    bad("mobileAntiDosServiceJailDuration", " 12");
    bad("mobileAntiDosServiceJailDuration", "");
    bad("mobileAntiDosServiceJailDuration", "99999999999999999999999");
    bad("ZxMobile_MaxOutlookVersion", "13.0");
    bad("zimbraDefaultDomainName", "bad\nname");
    e = bad("zimbraLocale", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    ck_assert_ptr_nonnull(strstr(e, "longer than 64"));
}
END_TEST

START_TEST(test_levels)
{
    ck_assert_int_eq(zx_level_parse("Account"), ZX_LEVEL_ACCOUNT);
    ck_assert_int_eq(zx_level_parse("COS"), ZX_LEVEL_COS);
    ck_assert_int_eq(zx_level_parse("global"), ZX_LEVEL_GLOBAL);
    ck_assert_int_eq(zx_level_parse("planet"), ZX_LEVEL_NONE);
    ck_assert_str_eq(zx_level_name(ZX_LEVEL_SERVER), "server");
    ck_assert_str_eq(zx_level_name(ZX_LEVEL_NONE), "default");
    /* resolution order, most specific first */
    ck_assert_int_eq(zx_level_rank(ZX_LEVEL_ACCOUNT), 0);
    ck_assert_int_eq(zx_level_rank(ZX_LEVEL_COS), 1);
    ck_assert_int_eq(zx_level_rank(ZX_LEVEL_DOMAIN), 2);
    ck_assert_int_eq(zx_level_rank(ZX_LEVEL_SERVER), 3);
    ck_assert_int_eq(zx_level_rank(ZX_LEVEL_GLOBAL), 4);
    ck_assert_int_eq(zx_level_rank(ZX_LEVEL_NONE), -1);
    ck_assert_int_eq(zx_level_rank(ZX_LEVEL_ACCOUNT | ZX_LEVEL_COS), -1);
}
END_TEST

START_TEST(test_attr_need_and_parse_int)
{
    const char *err = NULL;
    ck_assert_ptr_eq(zx_attr_need(g_pool, "ZIMBRAFEATUREMOBILESYNCENABLED", &err),
                     zx_attr_find("zimbraFeatureMobileSyncEnabled"));
    ck_assert_ptr_null(zx_attr_need(g_pool, "noSuchAttr", &err));
    ck_assert_str_eq(err, "unknown attribute \"noSuchAttr\" (zxsuite config info lists them)");
    long long v = 0;
    ck_assert_int_eq(zx_attr_parse_int("-42", &v), 0);
    ck_assert_int_eq(v, -42);
    ck_assert_int_eq(zx_attr_parse_int(" 1", &v), -1);
    ck_assert_int_eq(zx_attr_parse_int("1 ", &v), -1);
    ck_assert_int_eq(zx_attr_parse_int("", &v), -1);
    ck_assert_int_eq(zx_attr_parse_int(NULL, &v), -1);
    ck_assert_int_eq(zx_attr_parse_int("99999999999999999999", &v), -1);
}
END_TEST

START_TEST(test_str_lower)
{
    ck_assert_str_eq(zx_str_lower(g_pool, "User@Example.COM"), "user@example.com");
    ck_assert_str_eq(zx_str_lower(g_pool, NULL), "");
    ck_assert_str_eq(zx_str_lower(g_pool, "\xC3\x89t\xC3\xA9"), "\xC3\x89t\xC3\xA9");   /* ASCII only */
    const char *s = "ABC";
    ck_assert_ptr_ne(zx_str_lower(g_pool, s), s);
    ck_assert_str_eq(s, "ABC");
}
END_TEST

START_TEST(test_hexval)
{
    ck_assert_int_eq(zx_hexval('0'), 0);
    ck_assert_int_eq(zx_hexval('9'), 9);
    ck_assert_int_eq(zx_hexval('a'), 10);
    ck_assert_int_eq(zx_hexval('F'), 15);
    ck_assert_int_eq(zx_hexval('g'), -1);
    ck_assert_int_eq(zx_hexval('G'), -1);
    ck_assert_int_eq(zx_hexval('\0'), -1);
    ck_assert_int_eq(zx_hexval(0xC3), -1);
}
END_TEST

START_TEST(test_services_names)
{
    ck_assert_str_eq(zx_service_name("activesync-services"), "activesync");
    ck_assert_str_eq(zx_service_name("ABQ-services"), "abq");
    ck_assert_str_eq(zx_service_name("Anti-DoS"), "anti-dos");
    ck_assert_ptr_null(zx_service_name("ldap-address-book"));
}
END_TEST

START_TEST(test_server_name)
{
    setenv("ZXMOBILE_SERVER_NAME", "Node1.Example", 1);
    ck_assert_str_eq(zx_config_server_name(g_pool), "node1.example");
    unsetenv("ZXMOBILE_SERVER_NAME");
    ck_assert(strlen(zx_config_server_name(g_pool)) > 0);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("registry");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_registry_consistent);
    tcase_add_test(tc, test_find_is_case_insensitive);
    tcase_add_test(tc, test_spec_values);
    tcase_add_test(tc, test_normalisation);
    tcase_add_test(tc, test_refusals_say_what_is_allowed);
    tcase_add_test(tc, test_levels);
    tcase_add_test(tc, test_attr_need_and_parse_int);
    tcase_add_test(tc, test_str_lower);
    tcase_add_test(tc, test_hexval);
    tcase_add_test(tc, test_services_names);
    tcase_add_test(tc, test_server_name);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    apr_initialize();
    return zx_run_tap(config_suite());
}
