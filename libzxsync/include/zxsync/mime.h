/* zxmobile - reading RFC 5322 / MIME messages (GMime 3): the fields ActiveSync shows, bodies
 * converted to UTF-8, attachments.  Malformed messages still yield what can be parsed.
 * Implemented in libzxsync/mime/ (pure conversions: no database, no EAS state); composing a
 * message to send is zxsync/mime_compose.h. */
#ifndef ZXSYNC_MIME_H
#define ZXSYNC_MIME_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

typedef struct {
    const char *name;           /* file name (decoded, UTF-8), may be NULL */
    const char *content_type;   /* "image/png" */
    const char *content_id;     /* without <>, may be NULL */
    const char *content_location;
    int is_inline;              /* Content-Disposition inline, or referenced by cid in HTML */
    apr_size_t size;            /* decoded size, bytes */
    int part;                   /* index in the message's leaf parts (stable for one message) */
} zx_mime_attachment;

typedef struct {
    /* headers, decoded to UTF-8 (RFC 2047), addresses as RFC 5322 strings */
    const char *subject;
    const char *from;
    const char *sender;
    const char *to;
    const char *cc;
    const char *bcc;
    const char *reply_to;
    const char *message_id;     /* without <> */
    const char *in_reply_to;
    const char *references;
    const char *thread_topic;
    apr_time_t date;            /* 0 when missing or unparsable */
    int importance;             /* 0 low, 1 normal, 2 high (Importance / X-Priority) */
    const char *message_class;  /* IPM.Note, IPM.Note.SMIME, IPM.Note.SMIME.MultipartSigned,
                                   IPM.Schedule.Meeting.Request ... */
    const char *content_class;  /* urn:content-classes:message */
    /* bodies, UTF-8; NULL when the message has no such part */
    const char *text_plain;
    const char *text_html;
    int native_body_type;       /* 1 plain, 2 HTML, 3 RTF (MS-ASAIRS NativeBodyType) */
    apr_array_header_t *attachments;   /* zx_mime_attachment */
    int malformed;              /* parsing needed repairs */
} zx_mime_message;

/* Initialise GMime for this process (once, thread-safe).  zx_mime_parse, zx_mime_open and the
 * composing functions (zxsync/mime_compose.h) call it; other code that uses GMime directly
 * calls it first. */
void zx_mime_init(void);

/* Parse len bytes.  Never fails on bad input (a message with no headers is still a message);
 * returns -1 and *err only on internal errors. */
int zx_mime_parse(apr_pool_t *p, const char *data, apr_size_t len, zx_mime_message **out,
                  const char **err);
/* Decoded content of attachment number `part` of the message. */
int zx_mime_attachment_data(apr_pool_t *p, const char *data, apr_size_t len, int part,
                            const char **content, apr_size_t *content_len, const char **err);
/* At most max bytes of it from byte `from` (fewer at its end; none past it), decoding no
 * further than the range for a part of the message itself (an attached message and a TNEF
 * file are decoded whole, then cut). */
int zx_mime_attachment_range(apr_pool_t *p, const char *data, apr_size_t len, int part,
                             apr_size_t from, apr_size_t max, const char **content,
                             apr_size_t *content_len, const char **err);
/* A message parsed once for several of those reads (GMime keeps its own copy of data; its
 * objects are released with p).  NULL for empty input. */
typedef struct zx_mime_handle zx_mime_handle;
zx_mime_handle *zx_mime_open(apr_pool_t *p, const char *data, apr_size_t len);
/* zx_mime_attachment_range on an opened message; the content is allocated from p (h may be
 * NULL: no such attachment). */
int zx_mime_handle_range(zx_mime_handle *h, apr_pool_t *p, int part, apr_size_t from,
                         apr_size_t max, const char **content, apr_size_t *content_len,
                         const char **err);
/* The files of a TNEF stream (a winmail.dat, [MS-OXTNEF]), named and typed as the message's
 * attachments are (zx_mime_parse lists them instead of the winmail.dat); NULL when data is not
 * TNEF or holds no file.  index: the file's place in the stream. */
typedef struct {
    const char *name;           /* UTF-8, may be NULL */
    const char *content_type;
    const char *content_id;     /* may be NULL */
    const char *data;
    apr_size_t len;
    int index;
} zx_mime_file;
apr_array_header_t *zx_mime_tnef_files(apr_pool_t *p, const char *data, apr_size_t len,
                                       const char **body, int *damaged);
/* Is a part of this type ("type/subtype", any case) and file name (may be NULL) a winmail.dat
 * to open: application/ms-tnef or vnd.ms-tnef, or application/octet-stream named
 * winmail.dat? */
int zx_mime_is_tnef(const char *content_type, const char *filename);

/* Plain text from HTML (for a client that asks for plain text of an HTML-only message). */
const char *zx_mime_html_to_text(apr_pool_t *p, const char *html);

/* HTML from plain text, for a client that asks only for HTML:
 *   ZX_HTML_DOCUMENT  a message body: <html><body><pre>escaped text</pre></body></html>
 *                     (line breaks and runs of blanks kept as written);
 *   ZX_HTML_LINES     a short text (an Oof reply): escaped, each line break a <br>, CRs dropped. */
typedef enum { ZX_HTML_DOCUMENT, ZX_HTML_LINES } zx_html_shape;
const char *zx_mime_text_to_html(apr_pool_t *p, const char *text, zx_html_shape shape);

/* Up to 255 characters of text (whole UTF-8 sequences), white space folded to single blanks and
 * trimmed at the start, for airsyncbase:Preview. */
const char *zx_mime_preview(apr_pool_t *p, const char *text);

#endif
