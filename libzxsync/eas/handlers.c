/* zxmobile - which function handles which command (NULL: not implemented yet, answered with
 * MS-ASCMD status 137 / HTTP 501 by the pipeline). */
#include "handlers.h"

static zx_command_handler *const handlers[ZX_CMD_COUNT_] = {
    [ZX_CMD_SYNC] = NULL,
};

zx_command_handler *zx_command_handler_get(zx_cmd cmd)
{
    if (cmd < 0 || cmd >= ZX_CMD_COUNT_)
        return NULL;
    return handlers[cmd];
}
