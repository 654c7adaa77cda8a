/* zxmobile - unit tests of the 2.5 rendering of the policy (libzxsync/mdm/wap.c): the WAP
 * provisioning document of [MS-ASPROV] 2.2.2.24.2, parsed back with libxml2 and each parm
 * compared with the policy it comes from.  Check, TAP. */
#include <zxsync/config.h>
#include <zxsync/policy.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "tap_run.h"

#define AE_KEY "HKLM\\Comm\\Security\\Policy\\LASSD\\AE\\{50C13377-C66D-400C-889E-C316FC4AB374}"
#define LASSD_KEY "HKLM\\Comm\\Security\\Policy\\LASSD"
#define LAP_PW_KEY "HKLM\\Comm\\Security\\Policy\\LASSD\\LAP\\lap_pw"

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

/* The document parsed strictly (no recovery, no network): its root is wap-provisioningdoc and
 * every element under it is a characteristic or a parm. */
static xmlDocPtr parse(const char *text)
{
    xmlDocPtr doc = xmlReadMemory(text, (int)strlen(text), "wap.xml", "UTF-8",
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    ck_assert_msg(doc != NULL, "not well-formed XML: %s", text);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    ck_assert_str_eq((const char *)root->name, "wap-provisioningdoc");
    return doc;
}

static xmlNodePtr characteristic(xmlNodePtr parent, const char *type)
{
    xmlNodePtr found = NULL;
    for (xmlNodePtr n = parent->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        ck_assert_msg(strcmp((const char *)n->name, "characteristic") == 0 ||
                      strcmp((const char *)n->name, "parm") == 0, "element %s", n->name);
        if (strcmp((const char *)n->name, "characteristic") != 0)
            continue;
        xmlChar *t = xmlGetProp(n, (const xmlChar *)"type");
        if (t && strcmp((const char *)t, type) == 0) {
            ck_assert_msg(found == NULL, "characteristic %s twice", type);
            found = n;
        }
        xmlFree(t);
    }
    return found;
}

/* The value of parm name directly under c, NULL when absent (copied to the pool). */
static const char *parm(xmlNodePtr c, const char *name)
{
    const char *value = NULL;
    for (xmlNodePtr n = c ? c->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "parm") != 0)
            continue;
        xmlChar *nm = xmlGetProp(n, (const xmlChar *)"name");
        if (nm && strcmp((const char *)nm, name) == 0) {
            xmlChar *v = xmlGetProp(n, (const xmlChar *)"value");
            ck_assert_ptr_nonnull(v);
            ck_assert_msg(value == NULL, "parm %s twice", name);
            value = apr_pstrdup(g_pool, (const char *)v);
            xmlFree(v);
        }
        xmlFree(nm);
    }
    return value;
}

/* got (a parm value, NULL when absent) is want; a plain function, so that each argument is
 * evaluated once, before Check's macro sees it. */
static void eq(const char *got, const char *want)
{
    ck_assert_msg(got != NULL && strcmp(got, want) == 0, "parm value \"%s\", expected \"%s\"",
                  got ? got : "(absent)", want);
}

START_TEST(test_values_follow_the_policy)
{
    zx_policy pol = defaults();
    set(&pol, "DevicePasswordEnabled", "TRUE");
    set(&pol, "MaxInactivityTimeDeviceLock", "15");
    set(&pol, "MaxDevicePasswordFailedAttempts", "8");
    set(&pol, "MinDevicePasswordLength", "6");
    set(&pol, "AlphanumericDevicePasswordRequired", "TRUE");
    xmlDocPtr doc = parse(zx_policy_wap_document(g_pool, &pol));
    xmlNodePtr root = xmlDocGetRootElement(doc);
    eq(parm(characteristic(root, "SecurityPolicy"), "4131"), "0");
    xmlNodePtr reg = characteristic(root, "Registry");
    ck_assert_ptr_nonnull(reg);
    xmlNodePtr ae = characteristic(reg, AE_KEY);
    eq(parm(ae, "AEFrequencyType"), "1");
    eq(parm(ae, "AEFrequencyValue"), "15");          /* minutes, as stored */
    eq(parm(characteristic(reg, LASSD_KEY), "DeviceWipeThreshold"), "8");
    ck_assert_ptr_null(parm(characteristic(reg, LASSD_KEY), "CodewordFrequency"));
    xmlNodePtr pw = characteristic(reg, LAP_PW_KEY);
    eq(parm(pw, "MinimumPasswordLength"), "6");
    eq(parm(pw, "PasswordComplexity"), "0");
    xmlFreeDoc(doc);

    /* the other values of each */
    set(&pol, "MaxInactivityTimeDeviceLock", "0");
    set(&pol, "MaxDevicePasswordFailedAttempts", "0");
    set(&pol, "MinDevicePasswordLength", "0");
    set(&pol, "AlphanumericDevicePasswordRequired", "FALSE");
    doc = parse(zx_policy_wap_document(g_pool, &pol));
    root = xmlDocGetRootElement(doc);
    reg = characteristic(root, "Registry");
    ae = characteristic(reg, AE_KEY);
    eq(parm(ae, "AEFrequencyType"), "0");
    ck_assert_ptr_null(parm(ae, "AEFrequencyValue"));
    ck_assert_ptr_null(characteristic(reg, LASSD_KEY));
    pw = characteristic(reg, LAP_PW_KEY);
    ck_assert_ptr_null(parm(pw, "MinimumPasswordLength"));
    eq(parm(pw, "PasswordComplexity"), "2");
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_no_password)
{
    zx_policy pol = defaults();
    set(&pol, "DevicePasswordEnabled", "FALSE");
    set(&pol, "MinDevicePasswordLength", "9");
    xmlDocPtr doc = parse(zx_policy_wap_document(g_pool, &pol));
    xmlNodePtr root = xmlDocGetRootElement(doc);
    eq(parm(characteristic(root, "SecurityPolicy"), "4131"), "1");
    ck_assert_ptr_null(characteristic(root, "Registry"));
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_defaults_and_value_accessor)
{
    zx_policy pol = defaults();
    /* the accessor reads the same table the EASProvisionDoc is written from */
    eq(zx_policy_value(&pol, "zimbraMobilePolicyMinDevicePasswordLength"),
                     zx_attr_find("zimbraMobilePolicyMinDevicePasswordLength")->def);
    eq(zx_policy_value(&pol, "noSuchAttribute"), "");
    const char *text = zx_policy_wap_document(g_pool, &pol);
    xmlDocPtr doc = parse(text);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    const char *def = zx_attr_find("zimbraMobilePolicyDevicePasswordEnabled")->def;
    int on = strcasecmp(def, "TRUE") == 0;
    eq(parm(characteristic(root, "SecurityPolicy"), "4131"), on ? "0" : "1");
    if (on) {
        xmlNodePtr pw = characteristic(characteristic(root, "Registry"), LAP_PW_KEY);
        eq(parm(pw, "MinimumPasswordLength"),
                         zx_attr_find("zimbraMobilePolicyMinDevicePasswordLength")->def);
    }
    xmlFreeDoc(doc);
}
END_TEST

int main(void)
{
    apr_initialize();
    xmlInitParser();
    Suite *s = suite_create("wap");
    TCase *tc = tcase_create("wap");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_values_follow_the_policy);
    tcase_add_test(tc, test_no_password);
    tcase_add_test(tc, test_defaults_and_value_accessor);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
