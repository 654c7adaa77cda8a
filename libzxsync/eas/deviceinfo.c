/* zxmobile - settings:DeviceInformation on the device record (deviceinfo.h). */
#include "deviceinfo.h"

#include <string.h>

static const struct {
    unsigned tag;
    const char *column;
} device_fields[] = {
    {ZX_Settings_Model, "info_model"},
    {ZX_Settings_IMEI, "info_imei"},
    {ZX_Settings_FriendlyName, "info_friendly_name"},
    {ZX_Settings_OS, "info_os"},
    {ZX_Settings_OSLanguage, "info_os_language"},
    {ZX_Settings_PhoneNumber, "info_phone_number"},
    {ZX_Settings_UserAgent, "info_user_agent"},
    {ZX_Settings_EnableOutboundSMS, "info_enable_outbound_sms"},
    {ZX_Settings_MobileOperator, "info_mobile_operator"},
};
#define N_DEVICE_FIELDS (sizeof device_fields / sizeof device_fields[0])

int zx_device_info_set(const zx_server *srv, zx_request *req, const zx_wb_node *set,
                       const char **err)
{
    apr_pool_t *p = req->pool;
    const char *vals[N_DEVICE_FIELDS];
    memset(vals, 0, sizeof vals);
    for (const zx_wb_node *n = set->first; n; n = n->next) {
        if (n->kind != ZX_WB_ELEMENT)
            continue;
        size_t i;
        for (i = 0; i < N_DEVICE_FIELDS; i++)
            if (n->tag == device_fields[i].tag)
                break;
        if (i == N_DEVICE_FIELDS)
            return ZX_DEVINFO_PROTOCOL_ERROR;
        const char *v = zx_wb_text(p, n);
        vals[i] = v ? v : "";
        /* [MS-ASCMD] 2.2.3.60: EnableOutboundSMS is 0 or 1 */
        if (n->tag == ZX_Settings_EnableOutboundSMS && strcmp(vals[i], "0") != 0 &&
            strcmp(vals[i], "1") != 0)
            return ZX_DEVINFO_INVALID_ARGUMENTS;
    }
    if (!req->device_row) {
        *err = "the device is not registered";
        return ZX_DEVINFO_SERVER_UNAVAILABLE;
    }
    zx_db *db = zx_request_db(srv, req, err);
    if (!db)
        return ZX_DEVINFO_SERVER_UNAVAILABLE;
    /* The device's information as a whole: what this Set omits is cleared. */
    const char *params[N_DEVICE_FIELDS + 1];
    params[0] = req->device_row;
    for (size_t i = 0; i < N_DEVICE_FIELDS; i++)
        params[i + 1] = vals[i];
    if (zx_db_run(db,
            "UPDATE devices SET info_model = $2, info_imei = $3, info_friendly_name = $4, "
            "info_os = $5, info_os_language = $6, info_phone_number = $7, info_user_agent = $8, "
            "info_enable_outbound_sms = $9::boolean, info_mobile_operator = $10, "
            "info_updated_at = now() WHERE id = $1",
            (int)N_DEVICE_FIELDS + 1, params, err) < 0)
        return ZX_DEVINFO_SERVER_UNAVAILABLE;
    return ZX_DEVINFO_SUCCESS;
}
