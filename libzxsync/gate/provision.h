/* zxmobile - device gate: provisioning ([MS-ASPROV]) and remote wipe, the last of the device
 * gates of pipeline.c. */
#ifndef ZX_GATE_PROVISION_H
#define ZX_GATE_PROVISION_H

#include <zxsync/gate.h>

/* Every command but Provision: a pending (or acknowledged) remote wipe sends the device into
 * Provision (14.0+: status 140, older: HTTP 449); with MDM on for the account, a request
 * without the current policy key is sent there too (14.0+: 142 not provisioned, 144 wrong key,
 * 143 the policy changed or its refresh interval passed; older: HTTP 449).  A request without
 * any X-MS-PolicyKey is a device that cannot provision: it goes on when
 * zimbraMobilePolicyAllowNonProvisionableDevices is TRUE, else 141 (older: 449).  Protocol 2.5 cannot take the
 * MS-EAS-Provisioning-WBXML policy: with MDM on it goes on only as a non-provisionable device
 * (HTTP 403 otherwise).  Returns 1 when it answered the request, 0 when the request may go
 * on. */
int zx_gate_provision(const zx_server *srv, zx_request *req, zx_response *resp);

#endif
