/* zxmobile - the command handlers: one function per ActiveSync command, one file each
 * (eas/cmd_<command>.c), listed in the table of eas/handlers.c. */
#ifndef ZX_EAS_HANDLERS_H
#define ZX_EAS_HANDLERS_H

#include <zxsync/server.h>

/* zx_command_handler (zxsync/proto.h): a handler answers the request completely. */

/* eas/cmd_sendmail.c, cmd_settings.c, cmd_moveitems.c, cmd_getattachment.c,
 * cmd_itemoperations.c */
zx_command_handler zx_cmd_sendmail, zx_cmd_smartreply, zx_cmd_smartforward;
zx_command_handler zx_cmd_settings, zx_cmd_moveitems, zx_cmd_getattachment,
    zx_cmd_itemoperations;

/* eas/cmd_sync.c, cmd_foldersync.c, cmd_folder.c, cmd_getitemestimate.c */
zx_command_handler zx_cmd_sync, zx_cmd_foldersync, zx_cmd_foldercreate, zx_cmd_folderupdate,
    zx_cmd_folderdelete, zx_cmd_getitemestimate;

/* eas/cmd_meetingresponse.c */
zx_command_handler zx_cmd_meetingresponse;

/* eas/cmd_ping.c */
zx_command_handler zx_cmd_ping;

/* eas/cmd_provision.c */
zx_command_handler zx_cmd_provision;

/* eas/cmd_search.c (a dispatcher by store: search.h), cmd_resolverecipients.c, cmd_find.c */
zx_command_handler zx_cmd_search, zx_cmd_resolverecipients, zx_cmd_find;
/* eas/cmd_validatecert.c */
zx_command_handler zx_cmd_validatecert;

/* NULL when the command is not implemented (a zx_command_lookup).  zx_handle (zxsync/server.h)
 * runs the pipeline with it. */
zx_command_handler *zx_command_handler_get(zx_cmd cmd);

#endif
