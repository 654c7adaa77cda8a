/* zxmobile - what the files of libzxsync/mime/ share (private): the parse context, the leaves
 * of a message and their content, text in UTF-8, the iCalendar scan and the winmail.dat
 * reader that zx_mime_parse (parse.c) and the attachment reads (range.c) are made of. */
#ifndef ZX_MIME_INT_H
#define ZX_MIME_INT_H

#include <zxsync/mime.h>

#include <apr_hash.h>
#include <gmime/gmime.h>

/* Recursion over the MIME tree is bounded: httpd threads have small stacks and GMime itself
 * accepts 1024 levels. */
#define ZX_MIME_MAX_DEPTH 64

enum { ACCEPT_PLAIN = 1, ACCEPT_HTML = 2 };

typedef struct {
    apr_pool_t *p;
    GMimeParserOptions *opts;
    int malformed;
    apr_hash_t *leaf_index;         /* GMimeObject * -> int * (index among leaves) */
    apr_array_header_t *leaves;     /* GMimeObject * */
    zx_mime_message *m;
    /* body selection */
    int body_done;
    int accept;
    int no_attach;
    /* calendar */
    const char *cal_method;
    const char *cal_partstat;
    /* the plain body of a winmail.dat, for a message that has no other */
    const char *tnef_body;
} pctx;

/* ---- charset.c: text in UTF-8 ------------------------------------------------------------ */

/* Bytes in charset cs (NULL = unknown) -> UTF-8 in the pool (never fails: U+FFFD). */
char *zx_mime_to_utf8(apr_pool_t *p, const char *in, size_t len, const char *cs);
/* A header value on one line: control characters become spaces, runs of spaces collapse, ends
 * trimmed.  NULL or "" -> NULL. */
/* Case-insensitive search of needle in hay (NULL: not found). */
const char *zx_mime_find_ci(const char *hay, const char *needle);

/* ---- part.c: parser options, leaves, content --------------------------------------------- */

/* Loose parser options whose warnings set c->malformed when the parser repaired something. */
GMimeParserOptions *zx_mime_options(pctx *c);
/* The message in data (GMime's own copy), NULL when GMime sees none; the caller unrefs it. */
GMimeMessage *zx_mime_gparse(pctx *c, const char *data, apr_size_t len);
/* Leaves in depth-first order into c->leaves / c->leaf_index: their index is the `part` of an
 * attachment. */
void zx_mime_index_leaves(pctx *c, GMimeObject *o, int depth);
int zx_mime_leaf_number(pctx *c, GMimeObject *o);
/* Decoded content of a leaf (transfer encoding undone) into a GByteArray the caller frees. */
GByteArray *zx_mime_leaf_bytes(GMimeObject *o);
apr_size_t zx_mime_leaf_size(GMimeObject *o);
/* base64 content with characters outside the alphabet, or cut short, sets c->malformed. */
void zx_mime_check_base64(pctx *c, GMimePart *part);
/* lower-case "type/subtype" */
const char *zx_mime_type_of(apr_pool_t *p, GMimeObject *o);
int zx_mime_is_type(GMimeObject *o, const char *type, const char *subtype);
const char *zx_mime_param(GMimeObject *o, const char *name);
const char *zx_mime_disposition(GMimeObject *o);

/* ---- ical_scan.c ------------------------------------------------------------------------- */

/* METHOD and the first attendee's PARTSTAT of the text/calendar part o into c (first only). */
void zx_mime_scan_calendar(pctx *c, GMimeObject *o);
/* The message class of a message with that iCalendar METHOD/PARTSTAT, NULL for none. */
const char *zx_mime_meeting_class(const char *method, const char *partstat);

/* ---- winmail.c: winmail.dat -------------------------------------------------------------- */

/* The attachments of a winmail.dat are attachments of the message: `part` is the leaf of the
 * winmail.dat plus (their index in it + 1) << 16 (leaves beyond 0xFFFF are not opened). */
#define TNEF_PART(leaf, k) ((leaf) + (((k) + 1) << 16))
#define TNEF_LEAF_MAX 0xFFFF
#define TNEF_FILES_MAX 0x7FFE

int zx_mime_is_tnef_part(apr_pool_t *p, GMimeObject *o);
/* The files of the winmail.dat o as attachments of c->m; 0 when it holds none (then the
 * winmail.dat itself stays an attachment). */
int zx_mime_add_tnef(pctx *c, GMimeObject *o);
/* Bytes of file k of the winmail.dat in leaf o, into *content; 0 or -1. */
int zx_mime_tnef_file(apr_pool_t *p, GMimeObject *o, int k, const char **content,
                      apr_size_t *content_len);

/* The message as bytes, LF line ends (what sendmail and the delivery command take; compose.c). */
const char *zx_mime_gm_write(apr_pool_t *p, GMimeMessage *m, apr_size_t *len);

#endif
