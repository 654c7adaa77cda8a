/* zxmobile - an item as Email class properties ([MS-ASEMAIL], [MS-ASAIRS]): the renderer that
 * Sync (Add, Change, Fetch) and ItemOperations (Fetch) share, the body preferences of a
 * request, and the ActiveSync date format. */
#ifndef ZX_EAS_EMAIL_H
#define ZX_EAS_EMAIL_H

#include <zxsync/eas.h>
#include <zxsync/store.h>
#include <zxsync/wbxml.h>

/* One airsyncbase:BodyPreference or BodyPartPreference. */
typedef struct {
    int type;                   /* 1 plain text, 2 HTML, 3 RTF, 4 MIME */
    long long truncation;       /* TruncationSize in bytes, -1 = none */
    int all_or_none;            /* AllOrNone */
    int preview;                /* Preview: characters of text preview, 0 = none */
} zx_body_pref;

#define ZX_EMAIL_MAX_PREFS 4

/* How to render: the protocol version and the body preferences of the request. */
typedef struct {
    zx_version version;
    zx_body_pref body[ZX_EMAIL_MAX_PREFS];  /* BodyPreference, in request order */
    int nbody;
    zx_body_pref part[ZX_EMAIL_MAX_PREFS];  /* BodyPartPreference (14.1+) */
    int npart;
    int mime_support;           /* airsync:MIMESupport: -1 absent, 0 never, 1 S/MIME, 2 always */
    long long mime_truncation;  /* airsync:MIMETruncation as bytes, -1 = none */
    int multipart;              /* ItemOperations multipart response: body data goes to blobs */
} zx_email_render_opts;

/* A body that goes into its own part of a multipart response ([MS-ASCMD] 2.2.2.10.1): the
 * airsyncbase:Body carries itemoperations:Part = its number, which is its index in the blobs
 * array plus one (part 0 is the WBXML). */
typedef struct {
    const char *data;
    apr_size_t len;
} zx_email_blob;

/* Defaults (no preferences, version v) then the body-related children of an Options element
 * (airsync:Options of Sync, itemoperations:Options, ...): airsyncbase:BodyPreference,
 * airsyncbase:BodyPartPreference, airsync:MIMESupport, airsync:MIMETruncation; other children
 * are left to the caller.  options may be NULL.  Returns 0, or -1 when a value is not one the
 * specifications allow (the valid ones are kept; Sync answers status 4). */
int zx_email_render_opts_from_wbxml(apr_pool_t *p, const zx_wb_node *options, zx_version v,
                                    zx_email_render_opts *o);

/* What zx_store_item_contents must load to render with these options. */
void zx_email_content_want(const zx_email_render_opts *o, zx_content_want *want);

/* Append the Email class properties of item to parent (airsync:ApplicationData,
 * itemoperations:Properties): envelope, flags, airsyncbase:Body chosen by the body
 * preferences, the attachments as airsyncbase:Attachment with FileReference
 * "<item id>:<part>", and the 14.0+ elements (Categories, ConversationId/Index,
 * LastVerbExecuted, Preview, BodyPart).  Loads the content through st when item->content is
 * NULL.  With o->multipart the body data is pushed to *blobs (created when NULL; keep one
 * array per response) instead of airsyncbase:Data; blobs may be NULL otherwise.
 * Returns 0, or -1 and *err. */
int zx_email_render(apr_pool_t *p, zx_store *st, const zx_item *item,
                    const zx_email_render_opts *o, zx_wb_node *parent,
                    apr_array_header_t **blobs, const char **err);

/* The properties a server Change of an e-mail carries: Read, Flag, Categories,
 * LastVerbExecuted (the envelope and body of a message never change). */
void zx_email_render_flags(apr_pool_t *p, const zx_item *item, zx_version v,
                           zx_wb_node *parent);

/* The client's changes in the ApplicationData of a Sync Change (Read, Flag, Categories).
 * Returns 0, or -1 and *err for a malformed value (Sync status 6). */
int zx_email_parse_changes(apr_pool_t *p, const zx_wb_node *appdata, zx_version v,
                           zx_item_changes *ch, const char **err);

/* [MS-ASDTYPE] 2.3 dateTime: "2009-11-12T00:45:06.000Z". */
const char *zx_eas_date(apr_pool_t *p, apr_time_t t);
/* Parse that form (also without the milliseconds or the Z, and the compact
 * "20091112T004506Z"); returns 0, or -1 when s is not a date. */
/* Decimal text of an element (digits only, at most max); -1 when it is not. */
int zx_eas_parse_uint(const char *s, long long max, long long *out);
int zx_eas_parse_date(const char *s, apr_time_t *t);

#endif
