/* zxmobile - device gate: sync suspended by an administrator (zxsuite mobile
 * doSuspendDeviceSync), the first of the device gates of pipeline.c. */
#ifndef ZX_GATE_SUSPEND_H
#define ZX_GATE_SUSPEND_H

#include <zxsync/gate.h>

/* Refuse every request of a suspended device: protocol 14.0+ gets HTTP 200 with the command's
 * Status 129 (DeviceIsBlockedForThisUser), 12.1 and older (and commands without a response
 * element) HTTP 403, as Exchange answers a blocked device.  Returns 1 when it answered the
 * request, 0 when the request may go on. */
int zx_gate_suspend(const zx_server *srv, zx_request *req, zx_response *resp);

#endif
