/* zxmobile - the device registry: one record per (account, DeviceId) (pipeline stage 5,
 * ARCHITECTURE.md section 2). */
#ifndef ZXSYNC_DEVICE_H
#define ZXSYNC_DEVICE_H

#include <zxsync/gate.h>

/* Create or update the device record of an authenticated request and set req->device_row.
 * Cheap on purpose: one statement; it writes only for a new device, a changed DeviceType,
 * User-Agent or protocol version, or to move last_seen forward once a minute.
 * Returns 0, or -1 and *err (database error). */
int zx_device_register(const zx_server *srv, zx_request *req, const char **err);

/* Re-read the control state (req->device) of the request's registered device, e.g. when a
 * waiting Ping is woken.  Returns 0, 1 when the record was removed meanwhile (doRemoveDevice:
 * the device starts over), or -1 and *err. */
int zx_device_reload(const zx_server *srv, zx_request *req, const char **err);

#endif
