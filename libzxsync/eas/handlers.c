/* zxmobile - which function handles which command (NULL: not implemented yet, answered with
 * MS-ASCMD status 137 / HTTP 501 by the pipeline), and zx_handle: the pipeline (gate/) with
 * this table.  The table names the eas/cmd_*.c functions, so it lives in eas/; the pipeline
 * below it is handed the lookup instead of naming it. */
#include "handlers.h"

static zx_command_handler *const handlers[ZX_CMD_COUNT_] = {
    [ZX_CMD_SYNC] = zx_cmd_sync,
    [ZX_CMD_FOLDERSYNC] = zx_cmd_foldersync,
    [ZX_CMD_FOLDERCREATE] = zx_cmd_foldercreate,
    [ZX_CMD_FOLDERUPDATE] = zx_cmd_folderupdate,
    [ZX_CMD_FOLDERDELETE] = zx_cmd_folderdelete,
    [ZX_CMD_GETITEMESTIMATE] = zx_cmd_getitemestimate,
    [ZX_CMD_SETTINGS] = zx_cmd_settings,
    [ZX_CMD_SENDMAIL] = zx_cmd_sendmail,
    [ZX_CMD_SMARTREPLY] = zx_cmd_smartreply,
    [ZX_CMD_SMARTFORWARD] = zx_cmd_smartforward,
    [ZX_CMD_MOVEITEMS] = zx_cmd_moveitems,
    [ZX_CMD_MEETINGRESPONSE] = zx_cmd_meetingresponse,
    [ZX_CMD_GETATTACHMENT] = zx_cmd_getattachment,
    [ZX_CMD_ITEMOPERATIONS] = zx_cmd_itemoperations,
    [ZX_CMD_PING] = zx_cmd_ping,
    [ZX_CMD_PROVISION] = zx_cmd_provision,
    [ZX_CMD_SEARCH] = zx_cmd_search,
    [ZX_CMD_RESOLVERECIPIENTS] = zx_cmd_resolverecipients,
    [ZX_CMD_FIND] = zx_cmd_find,
    [ZX_CMD_VALIDATECERT] = zx_cmd_validatecert,
};

zx_command_handler *zx_command_handler_get(zx_cmd cmd)
{
    if (cmd < 0 || cmd >= ZX_CMD_COUNT_)
        return NULL;
    return handlers[cmd];
}

void zx_handle(const zx_server *srv, zx_request *req, zx_response *resp)
{
    zx_pipeline_run(srv, req, resp, zx_command_handler_get);
}

