/* zxmobile - the library's entry point for a host (mod_zxmobile, tools): the server context
 * (zxsync/proto.h), the pipeline (zxsync/gate.h) and zx_handle, which runs the pipeline with
 * the command table of eas/ (eas/handlers.c). */
#ifndef ZXSYNC_SERVER_H
#define ZXSYNC_SERVER_H

#include <zxsync/gate.h>
#include <zxsync/proto.h>

/* Run the pipeline of ARCHITECTURE.md section 2 on one request, then its command.  Always
 * fills resp (status, headers, body, reason); never fails. */
void zx_handle(const zx_server *srv, zx_request *req, zx_response *resp);

#endif
