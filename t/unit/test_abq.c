/* zxmobile - unit tests of ABQ's pure parts (zxsync/abq.h): the decision procedure of spec
 * 11.2, rule regexes, locales and the choice of the notice message, the interval and import
 * line parsers.  Check, TAP. */
#include <zxsync/abq.h>

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

static apr_array_header_t *rules(int n, ...)
{
    apr_array_header_t *a = apr_array_make(g_pool, n + 1, sizeof(zx_abq_rule));
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        zx_abq_rule *r = apr_array_push(a);
        r->regex = va_arg(ap, const char *);
        r->status = (zx_abq_status)va_arg(ap, int);
        r->order = i;
        r->domain = NULL;
    }
    va_end(ap);
    return a;
}

START_TEST(test_names)
{
    ck_assert_int_eq(zx_abq_status_parse("allowed"), ZX_ABQ_ALLOWED);
    ck_assert_int_eq(zx_abq_status_parse("BLOCKED"), ZX_ABQ_BLOCKED);
    ck_assert_int_eq(zx_abq_status_parse("Quarantined"), ZX_ABQ_QUARANTINED);
    ck_assert_int_eq(zx_abq_status_parse("quarantine"), ZX_ABQ_NONE);
    ck_assert_int_eq(zx_abq_status_parse(NULL), ZX_ABQ_NONE);
    ck_assert_str_eq(zx_abq_status_name(ZX_ABQ_QUARANTINED), "Quarantined");
    ck_assert_ptr_null(zx_abq_status_name(ZX_ABQ_NONE));
    ck_assert_int_eq(zx_abq_mode_parse("strict"), ZX_ABQ_STRICT);
    ck_assert_int_eq(zx_abq_mode_parse("Interactive"), ZX_ABQ_INTERACTIVE);
    ck_assert_int_eq(zx_abq_mode_parse("DISABLED"), ZX_ABQ_DISABLED);
    ck_assert_int_eq(zx_abq_mode_parse(NULL), ZX_ABQ_PERMISSIVE);
    ck_assert_int_eq(zx_abq_mode_parse("bogus"), ZX_ABQ_PERMISSIVE);
    ck_assert_str_eq(zx_abq_mode_name(ZX_ABQ_STRICT), "Strict");
}
END_TEST

START_TEST(test_decide_order)
{
    apr_array_header_t *none = rules(0);
    zx_abq_decision d;
    /* service not running: everything allowed, whatever the lists say */
    d = zx_abq_decide(g_pool, 0, ZX_ABQ_STRICT, ZX_ABQ_BLOCKED, ZX_ABQ_BLOCKED, "dev1", none);
    ck_assert_int_eq(d.status, ZX_ABQ_ALLOWED);
    ck_assert_int_eq(d.by, ZX_ABQ_BY_SERVICE);
    /* Disabled: no checks */
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_DISABLED, ZX_ABQ_BLOCKED, ZX_ABQ_NONE, "dev1", none);
    ck_assert_int_eq(d.status, ZX_ABQ_ALLOWED);
    ck_assert_int_eq(d.by, ZX_ABQ_BY_DISABLED);
    /* the device/account entry beats the device entry */
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_STRICT, ZX_ABQ_ALLOWED, ZX_ABQ_BLOCKED, "dev1", none);
    ck_assert_int_eq(d.status, ZX_ABQ_ALLOWED);
    ck_assert_int_eq(d.by, ZX_ABQ_BY_PAIR);
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_PERMISSIVE, ZX_ABQ_QUARANTINED, ZX_ABQ_ALLOWED, "dev1",
                      none);
    ck_assert_int_eq(d.status, ZX_ABQ_QUARANTINED);
    /* the device entry beats a rule and the mode */
    apr_array_header_t *r = rules(1, "dev.*", ZX_ABQ_ALLOWED);
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_STRICT, ZX_ABQ_NONE, ZX_ABQ_BLOCKED, "dev1", r);
    ck_assert_int_eq(d.status, ZX_ABQ_BLOCKED);
    ck_assert_int_eq(d.by, ZX_ABQ_BY_DEVICE);
    ck_assert_int_eq(d.record, 0);
    /* a rule beats the mode, and is not recorded */
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_STRICT, ZX_ABQ_NONE, ZX_ABQ_NONE, "dev1", r);
    ck_assert_int_eq(d.status, ZX_ABQ_ALLOWED);
    ck_assert_int_eq(d.by, ZX_ABQ_BY_RULE);
    ck_assert_ptr_eq(d.rule, &APR_ARRAY_IDX(r, 0, zx_abq_rule));
    ck_assert_int_eq(d.record, 0);
    /* a rule blocks even in Permissive mode */
    r = rules(1, "android.*", ZX_ABQ_BLOCKED);
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_PERMISSIVE, ZX_ABQ_NONE, ZX_ABQ_NONE, "androidc1", r);
    ck_assert_int_eq(d.status, ZX_ABQ_BLOCKED);
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_PERMISSIVE, ZX_ABQ_NONE, ZX_ABQ_NONE, "Appl123", r);
    ck_assert_int_eq(d.status, ZX_ABQ_ALLOWED);
    ck_assert_int_eq(d.by, ZX_ABQ_BY_MODE);
}
END_TEST

START_TEST(test_decide_modes)
{
    zx_abq_decision d;
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_PERMISSIVE, ZX_ABQ_NONE, ZX_ABQ_NONE, "x1", NULL);
    ck_assert_int_eq(d.status, ZX_ABQ_ALLOWED);
    ck_assert_int_eq(d.record, 0);
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_INTERACTIVE, ZX_ABQ_NONE, ZX_ABQ_NONE, "x1", NULL);
    ck_assert_int_eq(d.status, ZX_ABQ_QUARANTINED);
    ck_assert_int_eq(d.by, ZX_ABQ_BY_MODE);
    ck_assert_int_eq(d.record, 1);
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_STRICT, ZX_ABQ_NONE, ZX_ABQ_NONE, "x1", NULL);
    ck_assert_int_eq(d.status, ZX_ABQ_BLOCKED);
    ck_assert_int_eq(d.record, 1);
    /* an allowed device is allowed in every mode */
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_STRICT, ZX_ABQ_NONE, ZX_ABQ_ALLOWED, "x1", NULL);
    ck_assert_int_eq(d.status, ZX_ABQ_ALLOWED);
}
END_TEST

START_TEST(test_rules_in_order)
{
    /* the first matching rule wins: order is the array order */
    apr_array_header_t *r = rules(3, "SAMSUNG[0-9]+", ZX_ABQ_ALLOWED, "SAMSUNG.*",
                                  ZX_ABQ_BLOCKED, ".*", ZX_ABQ_QUARANTINED);
    zx_abq_decision d;
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_PERMISSIVE, 0, 0, "SAMSUNG1239862958", r);
    ck_assert_int_eq(d.status, ZX_ABQ_ALLOWED);
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_PERMISSIVE, 0, 0, "SAMSUNGX", r);
    ck_assert_int_eq(d.status, ZX_ABQ_BLOCKED);
    d = zx_abq_decide(g_pool, 1, ZX_ABQ_PERMISSIVE, 0, 0, "other", r);
    ck_assert_int_eq(d.status, ZX_ABQ_QUARANTINED);
    ck_assert_str_eq(d.rule->regex, ".*");
}
END_TEST

START_TEST(test_regex)
{
    const char *err = NULL;
    /* the whole DeviceId must match (Java's matches()) */
    ck_assert_int_eq(zx_abq_regex_match(g_pool, "android", "androidc1"), 0);
    ck_assert_int_eq(zx_abq_regex_match(g_pool, "android.*", "androidc1"), 1);
    ck_assert_int_eq(zx_abq_regex_match(g_pool, "c1", "androidc1"), 0);
    ck_assert_int_eq(zx_abq_regex_match(g_pool, "a|androidc1", "androidc1"), 1);
    /* case-sensitive unless (?i) */
    ck_assert_int_eq(zx_abq_regex_match(g_pool, "ANDROID.*", "androidc1"), 0);
    ck_assert_int_eq(zx_abq_regex_match(g_pool, "(?i)ANDROID.*", "androidc1"), 1);
    ck_assert_int_eq(zx_abq_regex_check(g_pool, "Appl[0-9A-Z]{8,}", &err), 0);
    ck_assert_int_eq(zx_abq_regex_check(g_pool, "android(", &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "invalid regular expression"));
    ck_assert_int_eq(zx_abq_regex_check(g_pool, "(?i)", &err), -1);
    ck_assert_int_eq(zx_abq_regex_check(g_pool, "a\nb", &err), -1);
    ck_assert_int_eq(zx_abq_regex_match(g_pool, "[", "x"), -1);
}
END_TEST

START_TEST(test_locale)
{
    ck_assert_str_eq(zx_abq_locale_norm(g_pool, "en-us"), "en_US");
    ck_assert_str_eq(zx_abq_locale_norm(g_pool, "en_US"), "en_US");
    ck_assert_str_eq(zx_abq_locale_norm(g_pool, "FR"), "fr");
    ck_assert_str_eq(zx_abq_locale_norm(g_pool, "Default"), "default");
    ck_assert_str_eq(zx_abq_locale_norm(g_pool, "zh_Hant"), "zh_HANT");
    ck_assert_ptr_null(zx_abq_locale_norm(g_pool, "f"));
    ck_assert_ptr_null(zx_abq_locale_norm(g_pool, "fr_"));
    ck_assert_ptr_null(zx_abq_locale_norm(g_pool, "fr_F"));
    ck_assert_ptr_null(zx_abq_locale_norm(g_pool, "fr fr"));
    ck_assert_ptr_null(zx_abq_locale_norm(g_pool, ""));
    ck_assert_ptr_null(zx_abq_locale_norm(g_pool, NULL));
}
END_TEST

static void add(apr_array_header_t *a, const char *domain, const char *locale, const char *subj)
{
    zx_abq_message *m = apr_array_push(a);
    memset(m, 0, sizeof *m);
    m->domain = domain;
    m->locale = locale;
    m->subject = subj;
    m->body_plain = subj;
}

START_TEST(test_message_pick)
{
    apr_array_header_t *c = apr_array_make(g_pool, 8, sizeof(zx_abq_message));
    const zx_abq_message *m;
    /* nothing stored: the built-in message of the type */
    m = zx_abq_message_pick(g_pool, c, "7", "fr_FR", ZX_ABQ_MSG_BLOCKED);
    ck_assert_ptr_eq(m, zx_abq_message_builtin(ZX_ABQ_MSG_BLOCKED));
    m = zx_abq_message_pick(g_pool, c, NULL, NULL, ZX_ABQ_MSG_QUARANTINED);
    ck_assert_ptr_eq(m, zx_abq_message_builtin(ZX_ABQ_MSG_QUARANTINED));
    add(c, NULL, "default", "global default");
    add(c, NULL, "it", "global it");
    add(c, "7", "default", "dom default");
    add(c, "7", "fr", "dom fr");
    add(c, "7", "fr_CA", "dom fr_CA");
    add(c, "8", "de", "other dom de");
    /* domain + locale -> domain + language -> domain default */
    ck_assert_str_eq(zx_abq_message_pick(g_pool, c, "7", "fr_CA", 0)->subject, "dom fr_CA");
    ck_assert_str_eq(zx_abq_message_pick(g_pool, c, "7", "fr-ca", 0)->subject, "dom fr_CA");
    ck_assert_str_eq(zx_abq_message_pick(g_pool, c, "7", "fr_FR", 0)->subject, "dom fr");
    ck_assert_str_eq(zx_abq_message_pick(g_pool, c, "7", "it", 0)->subject, "dom default");
    ck_assert_str_eq(zx_abq_message_pick(g_pool, c, "7", NULL, 0)->subject, "dom default");
    /* no domain message: global + locale -> global default */
    ck_assert_str_eq(zx_abq_message_pick(g_pool, c, "9", "it_IT", 0)->subject, "global it");
    ck_assert_str_eq(zx_abq_message_pick(g_pool, c, "9", "de", 0)->subject, "global default");
    ck_assert_str_eq(zx_abq_message_pick(g_pool, c, "9", "bogus locale", 0)->subject,
                     "global default");
    /* another domain's message is never used */
    ck_assert_str_eq(zx_abq_message_pick(g_pool, c, "8", "fr", 0)->subject, "global default");
    ck_assert_str_eq(zx_abq_message_pick(g_pool, c, "8", "de", 0)->subject, "other dom de");
}
END_TEST

START_TEST(test_message_domain_without_default)
{
    apr_array_header_t *c = apr_array_make(g_pool, 8, sizeof(zx_abq_message));
    add(c, "7", "fr", "dom fr");
    add(c, NULL, "default", "global default");
    ck_assert_str_eq(zx_abq_message_pick(g_pool, c, "7", "en", 0)->subject, "global default");
    ck_assert_str_eq(zx_abq_message_pick(g_pool, c, "7", "fr", 0)->subject, "dom fr");
}
END_TEST

START_TEST(test_interval)
{
    ck_assert_int_eq(zx_abq_interval_parse("0"), 0);
    ck_assert_int_eq(zx_abq_interval_parse("45m"), 45LL * 60000);
    ck_assert_int_eq(zx_abq_interval_parse("6h"), 6LL * 3600000);
    ck_assert_int_eq(zx_abq_interval_parse("1d"), 86400000LL);
    ck_assert_int_eq(zx_abq_interval_parse("30s"), 30000);
    ck_assert_int_eq(zx_abq_interval_parse("1500"), 1500);
    ck_assert_int_eq(zx_abq_interval_parse("250ms"), 250);
    ck_assert_int_eq(zx_abq_interval_parse("1H"), 3600000);
    ck_assert_int_eq(zx_abq_interval_parse("-1"), -1);
    ck_assert_int_eq(zx_abq_interval_parse("1w"), -1);
    ck_assert_int_eq(zx_abq_interval_parse("m"), -1);
    ck_assert_int_eq(zx_abq_interval_parse(""), -1);
    ck_assert_int_eq(zx_abq_interval_parse("30d"), -1);        /* over the int range */
    ck_assert_int_eq(zx_abq_interval_parse("24d"), 24LL * 86400000);
}
END_TEST

START_TEST(test_import_line)
{
    const char *dev, *acct, *why;
    ck_assert_int_eq(zx_abq_import_line(g_pool, "androidc133785981", &dev, &acct, &why), 1);
    ck_assert_str_eq(dev, "androidc133785981");
    ck_assert_ptr_null(acct);
    ck_assert_int_eq(zx_abq_import_line(g_pool, "  SAMSUNG1239862958/user@example.com,\r",
                                        &dev, &acct, &why), 1);
    ck_assert_str_eq(dev, "SAMSUNG1239862958");
    ck_assert_str_eq(acct, "user@example.com");
    ck_assert_int_eq(zx_abq_import_line(g_pool, "", &dev, &acct, &why), 0);
    ck_assert_int_eq(zx_abq_import_line(g_pool, "   \t", &dev, &acct, &why), 0);
    ck_assert_int_eq(zx_abq_import_line(g_pool, "# a comment", &dev, &acct, &why), 0);
    ck_assert_int_eq(zx_abq_import_line(g_pool, "bad-device", &dev, &acct, &why), -1);
    ck_assert_ptr_nonnull(strstr(why, "not a DeviceId"));
    ck_assert_int_eq(zx_abq_import_line(g_pool, "dev1/", &dev, &acct, &why), -1);
    ck_assert_int_eq(zx_abq_import_line(g_pool, "dev1/a/b", &dev, &acct, &why), -1);
    ck_assert_int_eq(zx_abq_import_line(g_pool, "dev1 dev2", &dev, &acct, &why), -1);
    ck_assert_int_eq(zx_abq_import_line(g_pool, "abcdefghijabcdefghijabcdefghijabc", &dev, &acct,
                                        &why), -1);    /* 33 characters */
    ck_assert_int_eq(zx_abq_device_id_valid("abcdefghijabcdefghijabcdefghijab"), 1);
}
END_TEST

int main(void)
{
    apr_initialize();
    Suite *s = suite_create("abq");
    TCase *tc = tcase_create("pure");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_decide_order);
    tcase_add_test(tc, test_decide_modes);
    tcase_add_test(tc, test_rules_in_order);
    tcase_add_test(tc, test_regex);
    tcase_add_test(tc, test_locale);
    tcase_add_test(tc, test_message_pick);
    tcase_add_test(tc, test_message_domain_without_default);
    tcase_add_test(tc, test_interval);
    tcase_add_test(tc, test_import_line);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
