/* zxmobile - settings:DeviceInformation ([MS-ASCMD] 2.2.3.56), sent by the Settings command and,
 * from protocol 14.1, inside the initial Provision request ([MS-ASPROV] 2.2.2.53): both store
 * it on the device record with the same function. */
#ifndef ZX_EAS_DEVICEINFO_H
#define ZX_EAS_DEVICEINFO_H

#include <zxsync/proto.h>

/* Settings status values ([MS-ASCMD] 2.2.3.177.15), also those of settings:Status inside a
 * Provision response. */
#define ZX_DEVINFO_SUCCESS 1
#define ZX_DEVINFO_PROTOCOL_ERROR 2
#define ZX_DEVINFO_SERVER_UNAVAILABLE 4
#define ZX_DEVINFO_INVALID_ARGUMENTS 5

/* Store the children of a settings:Set element (Model, IMEI, FriendlyName, OS, OSLanguage,
 * PhoneNumber, UserAgent, EnableOutboundSMS, MobileOperator) on the request's device record,
 * as a whole (what the Set omits is cleared).  Returns one of the ZX_DEVINFO_* values; for
 * ZX_DEVINFO_SERVER_UNAVAILABLE *err says why (the caller logs it). */
int zx_device_info_set(const zx_server *srv, zx_request *req, const zx_wb_node *set,
                       const char **err);

#endif
