/* zxmobile - Sync of e-mail drafts at 16.x (eas/sync_draft.c; not a public header). */
#ifndef ZX_EAS_SYNC_DRAFT_H
#define ZX_EAS_SYNC_DRAFT_H

#include "sync_int.h"

/* The folder's items are drafts the client may add, change and send: a Drafts folder
 * (type 3) at 16.0 or 16.1. */
int zx_sync_draft_folder(zx_version v, const zx_folder *f);

/* The Email class as a draft folder serves it: a server Change carries the whole item (a
 * draft's content changes), and an item says email2:IsDraft. */
extern const zx_item_class zx_class_email_draft;

/* A client's Add or Change (op) of a draft in folder, with its attachments and email2:Send,
 * in the caller's transaction: the answer goes to *responses, *applied is set when something
 * changed.  retry: the request is the one whose commands were applied already (the client
 * lost the answer): an Add with Send is not sent again.  0 done, 1 a Change of the flags
 * alone (Read, Flag, Categories: the caller applies it as in any mail folder), -1 on a
 * database error (c->err). */
int zx_sync_draft_op(sync_ctx *c, const zx_wb_node *op, const zx_folder *folder, int retry,
                     zx_wb_node **responses, int *applied);

#endif
