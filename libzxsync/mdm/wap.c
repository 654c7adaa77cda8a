/* zxmobile - the policy of protocol 2.5 as the WAP provisioning document (zxsync/policy.h).
 *
 * One policy, two renderings: zx_policy_document() writes the EASProvisionDoc of 12.0 and
 * later; this writes the same effective values (zx_policy, resolved once in policy.c) as the
 * MS-WAP-Provisioning-XML text that provision:Data carries at 2.5 ([MS-ASPROV] 2.2.2.24.2):
 *
 *   <wap-provisioningdoc>
 *     <characteristic type="SecurityPolicy"> parm 4131 </characteristic>
 *     <characteristic type="Registry">
 *       <characteristic type="HKLM\Comm\Security\Policy\LASSD\AE\{50C13377-...}">
 *         parm AEFrequencyType, AEFrequencyValue
 *       <characteristic type="HKLM\Comm\Security\Policy\LASSD">
 *         parm DeviceWipeThreshold (CodewordFrequency: no policy attribute, not sent)
 *       <characteristic type="HKLM\Comm\Security\Policy\LASSD\LAP\lap_pw">
 *         parm MinimumPasswordLength, PasswordComplexity
 *
 * The mapping (the only policy 2.5 knows is the device password):
 *   4131                  zimbraMobilePolicyDevicePasswordEnabled: 0 a password is required,
 *                         1 it is not (SecurityPolicy 4131, 0x1023, "password required");
 *   AEFrequencyType       zimbraMobilePolicyMaxInactivityTimeDeviceLock: 1 when it is set
 *                         (minutes > 0), 0 for no inactivity lock;
 *   AEFrequencyValue      the same, in minutes (only with AEFrequencyType 1);
 *   DeviceWipeThreshold   zimbraMobilePolicyMaxDevicePasswordFailedAttempts (0: not sent);
 *   MinimumPasswordLength zimbraMobilePolicyMinDevicePasswordLength (0: not sent);
 *   PasswordComplexity    zimbraMobilePolicyAlphanumericDevicePasswordRequired: 0 alphanumeric
 *                         required, 2 any password.
 * With no password required the Registry part is not sent: every parm in it tunes the password.
 * Every value is a number written here, so the document needs no escaping.
 */
#include <zxsync/policy.h>

#include <apr_strings.h>

#include <stdlib.h>
#include <string.h>

#define P(name) "zimbraMobilePolicy" #name

#define AE_KEY "HKLM\\Comm\\Security\\Policy\\LASSD\\AE\\{50C13377-C66D-400C-889E-C316FC4AB374}"
#define LASSD_KEY "HKLM\\Comm\\Security\\Policy\\LASSD"
#define LAP_PW_KEY "HKLM\\Comm\\Security\\Policy\\LASSD\\LAP\\lap_pw"

static int truth(const char *v)
{
    return v && (strcasecmp(v, "TRUE") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

static long long number(const zx_policy *pol, const char *attr)
{
    return strtoll(zx_policy_value(pol, attr), NULL, 10);
}

static char *parm(apr_pool_t *p, char *doc, const char *name, long long value)
{
    /* apr_psprintf knows no %lld */
    return apr_psprintf(p, "%s<parm name=\"%s\" value=\"%" APR_INT64_T_FMT "\"/>", doc, name,
                        (apr_int64_t)value);
}

const char *zx_policy_wap_document(apr_pool_t *p, const zx_policy *pol)
{
    int password = truth(zx_policy_value(pol, P(DevicePasswordEnabled)));
    char *doc = apr_pstrdup(p, "<wap-provisioningdoc><characteristic type=\"SecurityPolicy\">");
    doc = parm(p, doc, "4131", password ? 0 : 1);
    doc = apr_pstrcat(p, doc, "</characteristic>", NULL);
    if (!password)
        return apr_pstrcat(p, doc, "</wap-provisioningdoc>", NULL);

    long long lock = number(pol, P(MaxInactivityTimeDeviceLock));
    long long wipe = number(pol, P(MaxDevicePasswordFailedAttempts));
    long long len = number(pol, P(MinDevicePasswordLength));
    int alnum = truth(zx_policy_value(pol, P(AlphanumericDevicePasswordRequired)));

    doc = apr_pstrcat(p, doc, "<characteristic type=\"Registry\">"
                              "<characteristic type=\"" AE_KEY "\">", NULL);
    doc = parm(p, doc, "AEFrequencyType", lock > 0 ? 1 : 0);
    if (lock > 0)
        doc = parm(p, doc, "AEFrequencyValue", lock);
    doc = apr_pstrcat(p, doc, "</characteristic>", NULL);
    if (wipe > 0) {
        doc = apr_pstrcat(p, doc, "<characteristic type=\"" LASSD_KEY "\">", NULL);
        doc = parm(p, doc, "DeviceWipeThreshold", wipe);
        doc = apr_pstrcat(p, doc, "</characteristic>", NULL);
    }
    doc = apr_pstrcat(p, doc, "<characteristic type=\"" LAP_PW_KEY "\">", NULL);
    if (len > 0)
        doc = parm(p, doc, "MinimumPasswordLength", len);
    doc = parm(p, doc, "PasswordComplexity", alnum ? 0 : 2);
    return apr_pstrcat(p, doc, "</characteristic></characteristic></wap-provisioningdoc>", NULL);
}
