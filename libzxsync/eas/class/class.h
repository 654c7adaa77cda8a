/* zxmobile - the item classes of ActiveSync (Email, Contacts, Tasks, Notes; Calendar to
 * come): one table of functions per class, one registry, looked up by a folder's or an
 * item's class name.  Sync, GetItemEstimate, ItemOperations, MoveItems (and later Search)
 * reach a class only through this table; adding a class is a file in eas/class/ and one line
 * in the registry (class.c), without touching the commands.  Email is email.c; Contacts,
 * Tasks and Notes are pim.c (one implementation over zxsync/pim_fields.def).
 *
 * What the commands need of a class:
 *   Sync        the Options of a collection (parse_options), what to load for the items
 *               of a window (content_want), an item as airsync:ApplicationData for an Add or
 *               a Fetch (render) and for a server Change (render_change), the client's Add
 *               (add) and Change (parse_change); Delete is the store's alone.
 *   ItemOperations  Fetch: parse_options, content_want and render into Properties;
 *               Move: whether the class's items form conversations (conversations).
 *   GetItemEstimate, MoveItems  nothing of a class so far: counting and moving items are the
 *               store's (a move across classes is the store's ZX_STORE_INVALID).
 *
 * The request options are the same structure for every class (the airsyncbase body
 * preferences are shared by all of them); a class reads the children of Options it knows. */
#ifndef ZX_EAS_CLASS_H
#define ZX_EAS_CLASS_H

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

#define ZX_CLASS_MAX_PREFS 4

/* How to render: the protocol version and the body preferences of the request. */
typedef struct {
    zx_version version;
    zx_body_pref body[ZX_CLASS_MAX_PREFS];  /* BodyPreference, in request order */
    int nbody;
    zx_body_pref part[ZX_CLASS_MAX_PREFS];  /* BodyPartPreference (14.1+) */
    int npart;
    int mime_support;           /* airsync:MIMESupport: -1 absent, 0 never, 1 S/MIME, 2 always */
    long long mime_truncation;  /* airsync:MIMETruncation as bytes, -1 = none */
    long long truncation;       /* 2.5 airsync:Truncation ([MS-ASCMD] 2.2.3.185) as characters of
                                 * the email:, contacts:, calendar: and tasks:Body, -1 = none */
    int multipart;              /* ItemOperations multipart response: body data goes to blobs */
    /* Sync: the airsync:Supported of the collection's first Sync, "{tag,tag}" (the sync
     * state's), NULL = none was sent: which ghosted properties a Change that omits them keeps */
    const char *supported;
} zx_class_opts;

/* A body that goes into its own part of a multipart response ([MS-ASCMD] 2.2.2.10.1): the
 * airsyncbase:Body carries itemoperations:Part = its number, which is its index in the blobs
 * array plus one (part 0 is the WBXML). */
typedef struct {
    const char *data;
    apr_size_t len;
} zx_class_blob;

/* What a client's Sync Add came to (the add operation). */
typedef enum {
    ZX_CLASS_ADD_OK = 0,        /* *server_id is the new item */
    ZX_CLASS_ADD_REFUSED = 1    /* an item the server cannot take (Sync status 6) */
} zx_class_add_result;

typedef struct zx_item_class {
    const char *name;           /* airsync:Class, folders' and items' item_class */
    /* Defaults (no preferences, version v) then the children of an Options element
     * (airsync:Options of Sync, itemoperations:Options, ...) the class reads; options may be
     * NULL.  Returns 0, or -1 when a value is not one the specifications allow (the valid
     * ones are kept; Sync answers status 4, ItemOperations 2). */
    int (*parse_options)(apr_pool_t *p, const zx_wb_node *options, zx_version v,
                         zx_class_opts *o);
    /* What zx_store_item_contents must load to render with these options. */
    void (*content_want)(const zx_class_opts *o, zx_content_want *want);
    /* Append the class's properties of item to parent (airsync:ApplicationData,
     * itemoperations:Properties); loads the content through st when item->content is NULL.
     * With o->multipart the body data goes to *blobs (zx_class_blob; created when NULL).
     * Returns 0, or -1 and *err. */
    int (*render)(apr_pool_t *p, zx_store *st, const zx_item *item, const zx_class_opts *o,
                  zx_wb_node *parent, apr_array_header_t **blobs, const char **err);
    /* The properties a server Change of an item carries (NULL when full_changes). */
    void (*render_change)(apr_pool_t *p, const zx_item *item, zx_version v,
                          zx_wb_node *parent);
    /* The client's changes in the ApplicationData of a Sync Change, with the request's options
     * (the version, the Supported list).  Returns 0, or -1 and *err for a malformed value
     * (Sync status 6). */
    int (*parse_change)(apr_pool_t *p, const zx_wb_node *appdata, const zx_class_opts *o,
                        zx_item_changes *ch, const char **err);
    /* A client's Sync Add of appdata into folder, by device: zx_class_add_result (*err says
     * why an item is refused), or -1 and *err.  NULL: clients do not create items of this
     * class (status 6). */
    int (*add)(apr_pool_t *p, zx_store *st, const zx_folder *folder,
               const zx_wb_node *appdata, const zx_class_opts *o, const char *device,
               const char **server_id, const char **err);
    /* the items form conversations (ItemOperations Move moves a conversation into a folder
     * of such a class only) */
    int conversations;
    /* a server Change carries the whole item (render, with its contents loaded), not
     * render_change's few properties */
    int full_changes;
    /* the first protocol version with the class: a device of an older one is sent none of
     * its items and cannot add one (Notes: 14.0) */
    zx_version since;
    /* After a client's Change of item id was stored (in the request's transaction): what the
     * server does with it (a recurring task marked complete moves on to its next occurrence).
     * 0, or -1 and *err; NULL = nothing. */
    int (*after_change)(apr_pool_t *p, zx_store *st, const char *id, const char **err);
    /* A 16.x Sync Change (appdata: the occurrence's values) or Delete (appdata NULL) of the
     * occurrence of series item whose original start is instance (an airsyncbase:InstanceId):
     * the change of the item that applies it.  0; -2 and *err when it cannot be applied (not
     * a series, not an occurrence, a malformed value: status 6); -1 and *err on failure.
     * NULL: the class has no occurrences. */
    int (*instance_change)(apr_pool_t *p, zx_store *st, const zx_item *item,
                           const char *instance, const zx_wb_node *appdata,
                           const zx_class_opts *o, zx_item_changes *ch, const char **err);
} zx_item_class;

/* The registered class of that name, NULL when there is none. */
const zx_item_class *zx_class_find(const char *name);
/* The class whose functions serve the items of a folder or an item of class name: the
 * registered one, else Email - until a class has its file, its folders are served as e-mail
 * folders have always been (they hold no items; a client's Add is refused with status 6). */
const zx_item_class *zx_class_of(const char *name);

/* ---- EAS values the classes and the commands share ---------------------------------------- */

/* [MS-ASDTYPE] 2.3 dateTime: "2009-11-12T00:45:06.000Z". */
const char *zx_eas_date(apr_pool_t *p, apr_time_t t);
/* Parse that form (also without the milliseconds or the Z, and the compact
 * "20091112T004506Z"); returns 0, or -1 when s is not a date. */
int zx_eas_parse_date(const char *s, apr_time_t *t);
/* [MS-ASDTYPE] 2.7.2 Compact DateTime: "20091112T004506Z". */
const char *zx_eas_compact_date(apr_pool_t *p, apr_time_t t);
/* Decimal text of an element (digits only, at most max); -1 when it is not. */
int zx_eas_parse_uint(const char *s, long long max, long long *out);
/* The 16 bytes of a ConversationId element sent as opaque data, as hex text or as base64 text;
 * NULL when it is none of these. */
const unsigned char *zx_eas_conversation_id(apr_pool_t *p, const zx_wb_node *n);

#endif
