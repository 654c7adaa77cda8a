/* zxmobile - the command handlers: one function per ActiveSync command, one file each
 * (eas/cmd_<command>.c), listed in the table of eas/handlers.c. */
#ifndef ZX_EAS_HANDLERS_H
#define ZX_EAS_HANDLERS_H

#include <zxsync/server.h>

/* A handler answers the request completely (zx_respond_wbxml / zx_respond_error / ...).
 * When it runs, the request is authenticated (req->account), its query and headers are
 * valid, its body is decoded (req->doc, NULL for an empty body) with the command's root
 * element, and the device is registered (req->device_row). */
typedef void zx_command_handler(const zx_server *srv, zx_request *req, zx_response *resp);

/* NULL when the command is not implemented. */
zx_command_handler *zx_command_handler_get(zx_cmd cmd);

#endif
