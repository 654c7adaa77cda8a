/* zxmobile - the Email class ([MS-ASEMAIL], [MS-ASAIRS]): an item as Email class properties
 * (the renderer that Sync Add, Change, Fetch and ItemOperations Fetch share), the body
 * preferences of a request and the client's changes.  The commands reach it through the
 * class table (class.h); the functions are declared here for the table and the unit tests. */
#ifndef ZX_EAS_CLASS_EMAIL_H
#define ZX_EAS_CLASS_EMAIL_H

#include "class.h"

extern const zx_item_class zx_class_email;

/* Defaults (no preferences, version v) then the body-related children of an Options element:
 * airsyncbase:BodyPreference, airsyncbase:BodyPartPreference, airsync:MIMESupport,
 * airsync:MIMETruncation; other children are left to the caller (zx_item_class
 * parse_options). */
int zx_email_render_opts_from_wbxml(apr_pool_t *p, const zx_wb_node *options, zx_version v,
                                    zx_class_opts *o);

/* What zx_store_item_contents must load to render with these options. */
void zx_email_content_want(const zx_class_opts *o, zx_content_want *want);

/* The Email class properties of item (zx_item_class render): envelope, flags,
 * airsyncbase:Body chosen by the body preferences, the attachments as airsyncbase:Attachment
 * with FileReference "<item id>:<part>", and the 14.0+ elements (Categories,
 * ConversationId/Index, LastVerbExecuted, Preview, BodyPart). */
int zx_email_render(apr_pool_t *p, zx_store *st, const zx_item *item,
                    const zx_class_opts *o, zx_wb_node *parent,
                    apr_array_header_t **blobs, const char **err);

/* The properties a server Change of an e-mail carries: Read, Flag, Categories,
 * LastVerbExecuted (the envelope and body of a message never change). */
void zx_email_render_flags(apr_pool_t *p, const zx_item *item, zx_version v,
                           zx_wb_node *parent);

/* The client's changes in the ApplicationData of a Sync Change (Read, Flag, Categories). */
int zx_email_parse_changes(apr_pool_t *p, const zx_wb_node *appdata, zx_version v,
                           zx_item_changes *ch, const char **err);

#endif
