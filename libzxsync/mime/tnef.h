/* zxmobile - reading TNEF ([MS-OXTNEF]): the application/ms-tnef part ("winmail.dat") Outlook
 * puts into messages it sends in its Rich Text format.  A phone cannot open winmail.dat; the
 * files inside it, and the plain body when the message has no other, are what it shows.
 *
 * Only reading, only what a mail client shows: the attachments (attAttachRendData starts
 * one; attAttachTitle, attAttachData and the attAttachment properties PR_ATTACH_LONG_FILENAME,
 * PR_ATTACH_MIME_TAG, PR_ATTACH_CONTENT_ID, PR_ATTACH_DATA_BIN fill it) and the plain body
 * (attBody, or PR_BODY among attMsgProps).  Embedded messages (PR_ATTACH_METHOD 5), the
 * compressed RTF body and recipients are left out.  Every length is checked against what is
 * left of the input: a damaged stream yields what was read before the damage. */
#ifndef ZX_MIME_TNEF_H
#define ZX_MIME_TNEF_H

#include <apr_pools.h>
#include <apr_tables.h>

/* A string as the stream holds it: 8-bit in the stream's code page, or UTF-16LE. */
typedef struct {
    const char *data;           /* NULL: absent */
    apr_size_t len;
    int utf16;
} zx_tnef_string;

typedef struct {
    zx_tnef_string title;       /* attAttachTitle (8.3 or long) */
    zx_tnef_string long_name;   /* PR_ATTACH_LONG_FILENAME */
    zx_tnef_string mime_type;   /* PR_ATTACH_MIME_TAG */
    zx_tnef_string content_id;  /* PR_ATTACH_CONTENT_ID */
    const unsigned char *data;  /* attAttachData or PR_ATTACH_DATA_BIN; NULL: none */
    apr_size_t len;
    int embedded;               /* PR_ATTACH_METHOD 5 (an embedded message) */
} zx_tnef_attachment;

typedef struct {
    int codepage;               /* attOemCodepage, 1252 when absent */
    zx_tnef_string body;        /* attBody or PR_BODY */
    apr_array_header_t *attachments;   /* zx_tnef_attachment */
    int damaged;                /* the stream ended early or held a bad length */
} zx_tnef;

/* 0 and *out (pointing into data) for a TNEF stream, -1 when data does not start with the
 * TNEF signature. */
int zx_tnef_parse(apr_pool_t *p, const unsigned char *data, apr_size_t len, zx_tnef *out);

#endif
