/* zxmobile - a 16.x draft as a message (libzxsync/mime/draft.c, GMime): the fields a client
 * sends in a Sync Add or Change of e-mail in Drafts ([MS-ASEMAIL] To, Cc, email2:Bcc,
 * Subject, Importance, airsyncbase:Body; [MS-ASAIRS] Attachments) made into the RFC 5322
 * message the store keeps and, with email2:Send, the one sent.  Pure conversion: no database,
 * no EAS state. */
#ifndef ZXSYNC_MIME_DRAFT_H
#define ZXSYNC_MIME_DRAFT_H

#include <zxsync/mime.h>

/* One file of the message. */
typedef struct {
    const char *name;               /* file name (DisplayName) */
    const char *content_type;       /* "image/png"; NULL: application/octet-stream */
    const char *content_id;         /* without <>, NULL = none */
    const char *content_location;   /* NULL = none */
    int is_inline;
    const char *data;               /* decoded bytes */
    apr_size_t len;
} zx_mime_draft_file;

typedef struct {
    const char *from;               /* the account's address */
    const char *to, *cc, *bcc;      /* address lists as RFC 5322 header values, NULL = none */
    const char *subject;            /* UTF-8, NULL = none */
    int importance;                 /* 0 low, 1 normal, 2 high */
    const char *text;               /* the body, UTF-8 (NULL = empty) */
    int html;                       /* the body is HTML */
    const apr_array_header_t *files;    /* zx_mime_draft_file, NULL = none */
    const char *message_id;         /* kept (without <>); NULL = a new one */
} zx_mime_draft_spec;

/* The message, LF line ends: From, To, Cc, Bcc, Subject, Date (now), Message-ID, Importance
 * (when not normal), one text part, or multipart/mixed of it and the files in order (a
 * message/rfc822 file as an attached message). */
const char *zx_mime_draft_build(apr_pool_t *p, const zx_mime_draft_spec *s, apr_size_t *len);

#endif
