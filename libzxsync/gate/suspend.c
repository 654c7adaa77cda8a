/* zxmobile - device gate: sync suspended by an administrator (gate/suspend.h). */
#include "suspend.h"

int zx_gate_suspend(const zx_server *srv, zx_request *req, zx_response *resp)
{
    if (!req->device.sync_suspended)
        return 0;
    /* The sync state is kept: once resumed the device goes on with the keys it has. */
    zx_respond_status(req, resp, ZX_EAS_DEVICE_BLOCKED_FOR_USER, ZX_LOG_INFO,
                      ZXLOGNO(01200) "device sync suspended by an administrator (zxsuite mobile "
                      "doResumeDeviceSync resumes it)");
    return 1;
}
