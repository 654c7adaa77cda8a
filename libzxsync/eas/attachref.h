/* zxmobile - attachments by FileReference ("<item id>:<part>", sql/004_mailstore.sql), shared
 * by GetAttachment (eas/cmd_getattachment.c, where it is defined) and ItemOperations Fetch. */
#ifndef ZX_EAS_ATTACHREF_H
#define ZX_EAS_ATTACHREF_H

#include <zxsync/store.h>

typedef struct {
    const char *data;           /* decoded bytes */
    apr_size_t len;
    const char *content_type;   /* "image/png" */
    const char *name;           /* file name, may be NULL */
} zx_attachment_data;

/* Split "<item id>:<part>"; -1 when malformed. */
int zx_attachment_ref_parse(apr_pool_t *p, const char *ref, const char **item_id, int *part);

/* An attachment as the store lists it, before anything is decoded. */
typedef struct {
    const char *item_id;
    int part;
    apr_size_t size;            /* decoded size, bytes (recorded at delivery) */
    const char *content_type;   /* never NULL */
    const char *name;           /* may be NULL */
} zx_attachment_info;

/* 0 found (*out filled), 1 no such attachment of this account (malformed reference, unknown
 * or deleted item, a part that is not one of the item's attachments), -1 error (*err).  Reads
 * the item and its attachment rows only. */
int zx_attachment_lookup(apr_pool_t *p, zx_store *st, const char *file_reference,
                         zx_attachment_info *out, const char **err);
/* At most max bytes of the attachment from byte `from` (zx_mime_attachment_range: decoded no
 * further than needed), allocated from p.  0, 1 (gone meanwhile), -1 error (*err). */
int zx_attachment_read(apr_pool_t *p, zx_store *st, const zx_attachment_info *a,
                       apr_size_t from, apr_size_t max, zx_attachment_data *out,
                       const char **err);
/* Lookup and the whole content. */
int zx_attachment_fetch(apr_pool_t *p, zx_store *st, const char *file_reference,
                        zx_attachment_data *out, const char **err);

#endif
