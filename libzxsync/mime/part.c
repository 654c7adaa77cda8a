/* zxmobile - GMime under the MIME readers (mime/mime_int.h): one-time initialisation, the
 * parser options, the leaves of a message and the decoded content of one. */
#include "mime_int.h"

#include <zxsync/text.h>

#include <apr_strings.h>
#include <pthread.h>
#include <string.h>

/* ---- one-time initialisation ---------------------------------------------------------------- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void mime_init_once(void)
{
    g_mime_init();
}

void zx_mime_init(void)
{
    pthread_once(&g_once, mime_init_once);
}

/* ---- the parse context ------------------------------------------------------------------------ */

static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
    pctx *c = data;
    switch (code) {
    case GMIME_WARN_DUPLICATED_HEADER:
    case GMIME_WARN_DUPLICATED_PARAMETER:
    case GMIME_WARN_UNENCODED_8BIT_HEADER:
    case GMIME_WARN_INVALID_ADDRESS_LIST:
    case GMIME_WARN_INVALID_PARAMETER:
        break;              /* common and harmless: nothing was repaired */
    default:
        c->malformed = 1;
    }
}

GMimeParserOptions *zx_mime_options(pctx *c)
{
    static const char *fallback[] = {"UTF-8", "windows-1252", NULL};
    GMimeParserOptions *o = g_mime_parser_options_new();
    g_mime_parser_options_set_address_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_rfc2047_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_allow_addresses_without_domain(o, TRUE);
    g_mime_parser_options_set_fallback_charsets(o, fallback);
    g_mime_parser_options_set_warning_callback(o, on_warning, c);
    return o;
}

GMimeMessage *zx_mime_gparse(pctx *c, const char *data, apr_size_t len)
{
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, c->opts);
    g_object_unref(parser);
    g_object_unref(stream);
    return msg;
}

/* Leaves in depth-first order: every node that is not a multipart (deeper than the limit, a
 * multipart counts as a leaf).  Their index is the `part` of an attachment. */
void zx_mime_index_leaves(pctx *c, GMimeObject *o, int depth)
{
    if (GMIME_IS_MULTIPART(o) && depth < ZX_MIME_MAX_DEPTH) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++)
            zx_mime_index_leaves(c, g_mime_multipart_get_part(mp, i), depth + 1);
        return;
    }
    if (GMIME_IS_MULTIPART(o))
        c->malformed = 1;
    GMimeObject **key = apr_palloc(c->p, sizeof *key);
    int *idx = apr_palloc(c->p, sizeof *idx);
    *key = o;
    *idx = c->leaves->nelts;
    APR_ARRAY_PUSH(c->leaves, GMimeObject *) = o;
    apr_hash_set(c->leaf_index, key, sizeof *key, idx);
}

int zx_mime_leaf_number(pctx *c, GMimeObject *o)
{
    int *idx = apr_hash_get(c->leaf_index, &o, sizeof o);
    return idx ? *idx : -1;
}

/* ---- content ---------------------------------------------------------------------------------- */

/* Decoded content of a leaf (transfer encoding undone) into a GByteArray the caller frees. */
GByteArray *zx_mime_leaf_bytes(GMimeObject *o)
{
    GByteArray *ba = g_byte_array_new();
    GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(ba);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *em = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        if (em)
            g_mime_object_write_to_stream(GMIME_OBJECT(em), NULL, mem);
    }
    else if (GMIME_IS_PART(o)) {
        GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
        if (w)
            g_mime_data_wrapper_write_to_stream(w, mem);
    }
    else {
        /* a multipart beyond the depth limit: its serialised form */
        g_mime_object_write_content_to_stream(o, NULL, mem);
    }
    g_mime_stream_flush(mem);
    g_object_unref(mem);
    return ba;
}

apr_size_t zx_mime_leaf_size(GMimeObject *o)
{
    GMimeStream *null = g_mime_stream_null_new();
    if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *em = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        if (em)
            g_mime_object_write_to_stream(GMIME_OBJECT(em), NULL, null);
    }
    else if (GMIME_IS_PART(o)) {
        GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
        if (w)
            g_mime_data_wrapper_write_to_stream(w, null);
    }
    else {
        g_mime_object_write_content_to_stream(o, NULL, null);
    }
    apr_size_t n = GMIME_STREAM_NULL(null)->written;
    g_object_unref(null);
    return n;
}

/* base64 content with characters outside the alphabet, or cut short: repaired on decoding. */
void zx_mime_check_base64(pctx *c, GMimePart *part)
{
    if (g_mime_part_get_content_encoding(part) != GMIME_CONTENT_ENCODING_BASE64)
        return;
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    GMimeStream *raw = w ? g_mime_data_wrapper_get_stream(w) : NULL;
    if (!raw)
        return;
    char buf[4096];
    size_t sig = 0;
    int bad = 0, pad = 0;
    ssize_t n;
    g_mime_stream_reset(raw);
    while (!bad && (n = g_mime_stream_read(raw, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)buf[i];
            if (ch == '\r' || ch == '\n' || ch == ' ' || ch == '\t')
                continue;
            if (ch == '=') {
                pad++;
                sig++;
                continue;
            }
            if (pad || !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                         (ch >= '0' && ch <= '9') || ch == '+' || ch == '/')) {
                bad = 1;
                break;
            }
            sig++;
        }
    }
    g_mime_stream_reset(raw);
    if (bad || sig % 4 != 0)
        c->malformed = 1;
}

/* lower-case "type/subtype" */
const char *zx_mime_type_of(apr_pool_t *p, GMimeObject *o)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    if (!ct)
        return "application/octet-stream";
    char *t = g_mime_content_type_get_mime_type(ct);
    char *r = apr_pstrdup(p, t ? t : "application/octet-stream");
    g_free(t);
    for (char *s = r; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
    return zx_utf8_clean(p, r, strlen(r));
}

int zx_mime_is_type(GMimeObject *o, const char *type, const char *subtype)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    return ct && g_mime_content_type_is_type(ct, type, subtype);
}

const char *zx_mime_param(GMimeObject *o, const char *name)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    return ct ? g_mime_content_type_get_parameter(ct, name) : NULL;
}

const char *zx_mime_disposition(GMimeObject *o)
{
    GMimeContentDisposition *d = g_mime_object_get_content_disposition(o);
    return d ? g_mime_content_disposition_get_disposition(d) : NULL;
}
