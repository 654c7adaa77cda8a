/* zxmobile - which function handles which command (NULL: not implemented yet, answered with
 * MS-ASCMD status 137 / HTTP 501 by the pipeline), and zx_handle: the pipeline (gate/) with
 * this table.  The table names the eas/cmd_*.c functions, so it lives in eas/; the pipeline
 * below it is handed the lookup instead of naming it. */
#include "handlers.h"

#include <zxsync/pimtz.h>

#include <apr_thread_proc.h>

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
    [ZX_CMD_GETATTACHMENT] = zx_cmd_getattachment,
    [ZX_CMD_ITEMOPERATIONS] = zx_cmd_itemoperations,
    [ZX_CMD_PING] = zx_cmd_ping,
    [ZX_CMD_PROVISION] = zx_cmd_provision,
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

/* ---- a new server process ---------------------------------------------------------------- */

static void *APR_THREAD_FUNC preload(apr_thread_t *t, void *data)
{
    (void)data;
    apr_time_exp_t now;
    apr_time_exp_gmt(&now, apr_time_now());
    zx_tz_preload(now.tm_year + 1900);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static apr_status_t join(void *t)
{
    apr_status_t rv;
    return apr_thread_join(&rv, t);
}

void zx_server_child_init(apr_pool_t *pchild)
{
    apr_thread_t *t;
    if (apr_thread_create(&t, NULL, preload, NULL, pchild) == APR_SUCCESS)
        apr_pool_pre_cleanup_register(pchild, t, join);     /* before its pool goes */
}
