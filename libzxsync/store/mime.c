/* zxmobile - reading RFC 5322 / MIME messages with GMime 3 (zxsync/mime.h).
 *
 * GMime parses; this file decides what ActiveSync shows: the header fields decoded to UTF-8,
 * the plain and HTML bodies (the right alternative of multipart/alternative, the root of
 * multipart/related, the content of multipart/signed), the attachments (decoded sizes, RFC
 * 2231 names, inline parts) and the message class (S/MIME, meeting requests).
 *
 * Rules:
 *  - Everything returned is copied into the caller's APR pool; every GMime object is unref'd
 *    before returning, whatever happened.
 *  - Bad input never fails: charsets GMime or iconv do not know fall back to UTF-8 (when the
 *    bytes are valid UTF-8) or Windows-1252; invalid bytes become U+FFFD; NUL bytes are
 *    dropped; structural damage the parser repaired sets `malformed`.
 *  - GMime is initialised once per process (pthread_once): this code runs in the threads of
 *    httpd children.  Everything else is per call (parser, options, streams).
 *  - Recursion over the MIME tree is bounded (ZX_MIME_MAX_DEPTH): httpd threads have small
 *    stacks and GMime itself accepts 1024 levels.
 */
#include <zxsync/mime.h>
#include <zxsync/text.h>

#include "tnef.h"

#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <errno.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ZX_MIME_MAX_DEPTH 64
#define REPLACEMENT "\xef\xbf\xbd"     /* U+FFFD */

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

/* ---- UTF-8 ------------------------------------------------------------------------------------ */

static int utf8_valid(const char *s, size_t n)   /* NULs allowed */
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = zx_utf8_seq(u + i, n - i);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

/* A header value on one line: control characters become spaces, runs of spaces collapse, ends
 * trimmed.  NULL or "" -> NULL. */
static const char *one_line(apr_pool_t *p, const char *s)
{
    if (!s)
        return NULL;
    char *v = zx_utf8_clean(p, s, strlen(s)), *o = v;
    int space = 1;
    for (const char *i = v; *i; i++) {
        unsigned char c = (unsigned char)*i;
        if (c < 0x20 || c == 0x7f || c == ' ') {
            if (!space)
                *o++ = ' ';
            space = 1;
            continue;
        }
        *o++ = (char)c;
        space = 0;
    }
    while (o > v && o[-1] == ' ')
        o--;
    *o = '\0';
    return *v ? v : NULL;
}

/* ---- charsets --------------------------------------------------------------------------------- */

/* Labels mapped the way web browsers map them (WHATWG Encoding): mail mislabels the same way
 * web pages do (ISO-8859-1 text with Windows-1252 quotes, Shift_JIS with CP932 extensions...). */
static const struct { const char *label, *iconv; } charset_aliases[] = {
    {"iso-8859-1", "WINDOWS-1252"}, {"iso8859-1", "WINDOWS-1252"}, {"iso_8859-1", "WINDOWS-1252"},
    {"latin1", "WINDOWS-1252"}, {"l1", "WINDOWS-1252"}, {"cp819", "WINDOWS-1252"},
    {"ibm819", "WINDOWS-1252"}, {"iso-ir-100", "WINDOWS-1252"}, {"windows-1252", "WINDOWS-1252"},
    {"cp1252", "WINDOWS-1252"}, {"x-cp1252", "WINDOWS-1252"},
    {"shift_jis", "CP932"}, {"shift-jis", "CP932"}, {"sjis", "CP932"}, {"x-sjis", "CP932"},
    {"ms_kanji", "CP932"}, {"csshiftjis", "CP932"}, {"windows-31j", "CP932"}, {"ms932", "CP932"},
    {"cp932", "CP932"},
    {"gb2312", "GB18030"}, {"gbk", "GB18030"}, {"x-gbk", "GB18030"}, {"cp936", "GB18030"},
    {"gb_2312-80", "GB18030"}, {"euc-cn", "GB18030"}, {"csgb2312", "GB18030"},
    {"gb18030", "GB18030"},
    {"euc-kr", "CP949"}, {"ks_c_5601-1987", "CP949"}, {"ks_c_5601-1989", "CP949"},
    {"ksc5601", "CP949"}, {"ksc_5601", "CP949"}, {"cp949", "CP949"}, {"windows-949", "CP949"},
    {"big5", "BIG5-HKSCS"}, {"big5-hkscs", "BIG5-HKSCS"}, {"x-x-big5", "BIG5-HKSCS"},
    {"cn-big5", "BIG5-HKSCS"},
    {"iso-8859-9", "WINDOWS-1254"}, {"latin5", "WINDOWS-1254"},
    {"iso-8859-11", "WINDOWS-874"}, {"tis-620", "WINDOWS-874"}, {"windows-874", "WINDOWS-874"},
    {"koi8-r", "KOI8-R"}, {"koi8r", "KOI8-R"}, {"koi8-u", "KOI8-U"},
    {"utf8", "UTF-8"}, {"utf-8", "UTF-8"}, {"unicode-1-1-utf-8", "UTF-8"},
};

/* Labels that say nothing: decide from the bytes. */
static int charset_unknown(const char *cs)
{
    static const char *const none[] = {"us-ascii", "ascii", "ansi_x3.4-1968", "us",
                                       "unknown-8bit", "x-unknown", "unknown", "8bit",
                                       "x-user-defined", "default", "none", NULL};
    if (!cs || !*cs)
        return 1;
    for (int i = 0; none[i]; i++)
        if (strcasecmp(cs, none[i]) == 0)
            return 1;
    return 0;
}

static iconv_t open_from(const char *cs)
{
    for (size_t i = 0; i < sizeof charset_aliases / sizeof charset_aliases[0]; i++)
        if (strcasecmp(cs, charset_aliases[i].label) == 0)
            return iconv_open("UTF-8", charset_aliases[i].iconv);
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1) {
        const char *name = g_mime_charset_iconv_name(cs);
        if (name && strcasecmp(name, cs) != 0)
            cd = iconv_open("UTF-8", name);
    }
    return cd;
}

/* Convert with cd; invalid or incomplete input becomes U+FFFD.  Result in the pool. */
static char *iconv_all(apr_pool_t *p, iconv_t cd, const char *in, size_t len)
{
    size_t cap = len * 2 + 64, used = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    char *inp = (char *)in;
    size_t inleft = len;
    int flushing = 0;
    for (;;) {
        char *outp = buf + used;
        size_t outleft = cap - used - 4;       /* room for one U+FFFD */
        size_t r = flushing ? iconv(cd, NULL, NULL, &outp, &outleft)
                            : iconv(cd, &inp, &inleft, &outp, &outleft);
        used = (size_t)(outp - buf);
        if (r == (size_t)-1 && errno == E2BIG) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            continue;
        }
        if (r == (size_t)-1 && !flushing) {
            /* EILSEQ: skip one byte; EINVAL: incomplete sequence at the end */
            memcpy(buf + used, REPLACEMENT, 3);
            used += 3;
            if (errno == EILSEQ && inleft > 0) {
                inp++;
                inleft--;
                continue;
            }
            inleft = 0;
        }
        if (!flushing && inleft == 0) {
            flushing = 1;
            continue;
        }
        if (flushing)
            break;
    }
    char *out = zx_utf8_clean(p, buf, used);
    free(buf);
    return out;
}

/* Bytes in charset cs (NULL = unknown) -> UTF-8 in the pool. */
static char *to_utf8(apr_pool_t *p, const char *in, size_t len, const char *cs)
{
    if (charset_unknown(cs) || strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0) {
        if (utf8_valid(in, len) || (cs && (strcasecmp(cs, "utf-8") == 0 ||
                                           strcasecmp(cs, "utf8") == 0)))
            return zx_utf8_clean(p, in, len);
        cs = "windows-1252";
    }
    iconv_t cd = open_from(cs);
    if (cd == (iconv_t)-1) {
        /* a charset nobody knows: trust the bytes when they are UTF-8 */
        if (utf8_valid(in, len))
            return zx_utf8_clean(p, in, len);
        cd = iconv_open("UTF-8", "WINDOWS-1252");
        if (cd == (iconv_t)-1)
            return zx_utf8_clean(p, in, len);
    }
    char *out = iconv_all(p, cd, in, len);
    iconv_close(cd);
    return out ? out : zx_utf8_clean(p, in, len);
}

/* ---- the parse context ------------------------------------------------------------------------ */

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

static GMimeParserOptions *make_options(pctx *c)
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

static GMimeMessage *parse_message(pctx *c, const char *data, apr_size_t len)
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
static void index_leaves(pctx *c, GMimeObject *o, int depth)
{
    if (GMIME_IS_MULTIPART(o) && depth < ZX_MIME_MAX_DEPTH) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++)
            index_leaves(c, g_mime_multipart_get_part(mp, i), depth + 1);
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

static int leaf_number(pctx *c, GMimeObject *o)
{
    int *idx = apr_hash_get(c->leaf_index, &o, sizeof o);
    return idx ? *idx : -1;
}

/* ---- content ---------------------------------------------------------------------------------- */

/* Decoded content of a leaf (transfer encoding undone) into a GByteArray the caller frees. */
static GByteArray *leaf_bytes(GMimeObject *o)
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

static apr_size_t leaf_size(GMimeObject *o)
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
static void check_base64(pctx *c, GMimePart *part)
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
static const char *mime_type_of(apr_pool_t *p, GMimeObject *o)
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

static int is_type(GMimeObject *o, const char *type, const char *subtype)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    return ct && g_mime_content_type_is_type(ct, type, subtype);
}

static const char *param_of(GMimeObject *o, const char *name)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    return ct ? g_mime_content_type_get_parameter(ct, name) : NULL;
}

static const char *disposition_of(GMimeObject *o)
{
    GMimeContentDisposition *d = g_mime_object_get_content_disposition(o);
    return d ? g_mime_content_disposition_get_disposition(d) : NULL;
}

/* charset=... of <meta> in the first bytes of an HTML document without a charset parameter */
static const char *html_meta_charset(apr_pool_t *p, const char *s, size_t n)
{
    size_t lim = n < 4096 ? n : 4096;
    for (size_t i = 0; i + 8 < lim; i++) {
        if (strncasecmp(s + i, "charset=", 8) != 0)
            continue;
        size_t j = i + 8;
        while (j < lim && (s[j] == '"' || s[j] == '\'' || s[j] == ' '))
            j++;
        size_t k = j;
        while (k < lim && (s[k] == '-' || s[k] == '_' || s[k] == '.' || s[k] == ':' ||
                           (s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'z') ||
                           (s[k] >= 'A' && s[k] <= 'Z')))
            k++;
        if (k > j && k - j < 40)
            return apr_pstrndup(p, s + j, k - j);
    }
    return NULL;
}

/* RFC 3676: join soft line breaks of format=flowed text (quote depth kept). */
static char *unflow(apr_pool_t *p, const char *s, int delsp)
{
    size_t n = strlen(s);
    char *out = apr_palloc(p, n + 1), *o = out;
    const char *line = s;
    int joining = 0, join_depth = 0;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len && line[len - 1] == '\r')
            len--;
        int depth = 0;
        size_t i = 0;
        while (i < len && line[i] == '>') {
            depth++;
            i++;
        }
        if (i < len && line[i] == ' ')       /* space-stuffing */
            i++;
        int is_sig = (len - i == 3 && strncmp(line + i, "-- ", 3) == 0);
        int soft = !is_sig && len > i && line[len - 1] == ' ';
        if (joining && depth != join_depth) {
            *o++ = '\n';
            joining = 0;
        }
        if (!joining && depth) {
            for (int d = 0; d < depth; d++)
                *o++ = '>';
            *o++ = ' ';
        }
        size_t body_len = len - i;
        if (soft && delsp)
            body_len--;
        memcpy(o, line + i, body_len);
        o += body_len;
        if (soft) {
            joining = 1;
            join_depth = depth;
        }
        else {
            joining = 0;
            if (end)
                *o++ = '\n';
        }
        if (!end)
            break;
        line = end + 1;
    }
    *o = '\0';
    return out;
}

/* The text of a text part, UTF-8. */
static const char *text_of(pctx *c, GMimeObject *o, int html)
{
    if (GMIME_IS_PART(o))
        check_base64(c, GMIME_PART(o));
    GByteArray *ba = leaf_bytes(o);
    const char *cs = param_of(o, "charset");
    if (!cs && html)
        cs = html_meta_charset(c->p, (const char *)ba->data, ba->len);
    char *t = to_utf8(c->p, (const char *)ba->data, ba->len, cs);
    g_byte_array_free(ba, TRUE);
    if (!html) {
        const char *fmt = param_of(o, "format");
        if (fmt && strcasecmp(fmt, "flowed") == 0) {
            const char *delsp = param_of(o, "delsp");
            t = unflow(c->p, t, delsp && strcasecmp(delsp, "yes") == 0);
        }
    }
    return t;
}

/* ---- calendar --------------------------------------------------------------------------------- */

/* METHOD and the first attendee's PARTSTAT of an iCalendar object (lines unfolded on the fly). */
static void scan_calendar(pctx *c, GMimeObject *o)
{
    if (c->cal_method)
        return;
    const char *m = param_of(o, "method");
    GByteArray *ba = leaf_bytes(o);
    char *ics = apr_palloc(c->p, ba->len + 1);
    if (ba->len)
        memcpy(ics, ba->data, ba->len);
    ics[ba->len] = '\0';
    g_byte_array_free(ba, TRUE);
    /* unfold: CRLF or LF followed by a space or tab */
    char *w = ics;
    for (char *r = ics; *r; r++) {
        if ((r[0] == '\r' && r[1] == '\n' && (r[2] == ' ' || r[2] == '\t'))) {
            r += 2;
            continue;
        }
        if (r[0] == '\n' && (r[1] == ' ' || r[1] == '\t')) {
            r += 1;
            continue;
        }
        *w++ = *r;
    }
    *w = '\0';
    const char *method = NULL, *partstat = NULL;
    int in_event = 0;
    for (char *line = ics; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[len - 1] = '\0';
        if (strncasecmp(line, "BEGIN:VEVENT", 12) == 0)
            in_event = 1;
        else if (strncasecmp(line, "END:VEVENT", 10) == 0)
            in_event = 0;
        else if (!method && strncasecmp(line, "METHOD:", 7) == 0)
            method = apr_pstrdup(c->p, line + 7);
        else if (in_event && !partstat && strncasecmp(line, "ATTENDEE", 8) == 0 &&
                 (line[8] == ';' || line[8] == ':')) {
            char *colon = strchr(line, ':');
            if (colon)
                *colon = '\0';
            for (char *s = line; (s = strchr(s, ';')) != NULL; s++) {
                if (strncasecmp(s + 1, "PARTSTAT=", 9) == 0) {
                    char *v = s + 10, *e = strchr(v, ';');
                    partstat = e ? apr_pstrndup(c->p, v, (apr_size_t)(e - v)) : apr_pstrdup(c->p, v);
                    break;
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    if (!method)
        method = m;
    if (method) {
        c->cal_method = apr_pstrdup(c->p, method);
        apr_collapse_spaces((char *)c->cal_method, c->cal_method);
        c->cal_partstat = partstat;
    }
}

static const char *meeting_class(const char *method, const char *partstat)
{
    if (!method)
        return NULL;
    if (strcasecmp(method, "REQUEST") == 0)
        return "IPM.Schedule.Meeting.Request";
    if (strcasecmp(method, "CANCEL") == 0)
        return "IPM.Schedule.Meeting.Canceled";
    if (strcasecmp(method, "REPLY") == 0 || strcasecmp(method, "COUNTER") == 0) {
        if (partstat && strcasecmp(partstat, "ACCEPTED") == 0 && strcasecmp(method, "REPLY") == 0)
            return "IPM.Schedule.Meeting.Resp.Pos";
        if (partstat && strcasecmp(partstat, "DECLINED") == 0)
            return "IPM.Schedule.Meeting.Resp.Neg";
        return "IPM.Schedule.Meeting.Resp.Tent";
    }
    return NULL;
}

/* ---- TNEF (winmail.dat) ------------------------------------------------------------------------- */

/* The attachments of a winmail.dat are attachments of the message: `part` is the leaf of the
 * winmail.dat plus (their index in it + 1) << 16 (leaves beyond 0xFFFF are not opened). */
#define TNEF_PART(leaf, k) ((leaf) + (((k) + 1) << 16))
#define TNEF_LEAF_MAX 0xFFFF
#define TNEF_FILES_MAX 0x7FFE

int zx_mime_is_tnef(const char *content_type, const char *filename)
{
    if (!content_type)
        return 0;
    if (strcasecmp(content_type, "application/ms-tnef") == 0 ||
        strcasecmp(content_type, "application/vnd.ms-tnef") == 0)
        return 1;
    return filename && strcasecmp(filename, "winmail.dat") == 0 &&
           strcasecmp(content_type, "application/octet-stream") == 0;
}

static int is_tnef(apr_pool_t *p, GMimeObject *o)
{
    return GMIME_IS_PART(o) && !GMIME_IS_MESSAGE_PART(o) &&
           zx_mime_is_tnef(mime_type_of(p, o), g_mime_part_get_filename(GMIME_PART(o)));
}

/* A TNEF string in UTF-8 (8-bit ones are in the stream's code page). */
static const char *tnef_text(apr_pool_t *p, const zx_tnef_string *s, int codepage)
{
    if (!s->data || s->len == 0)
        return NULL;
    if (s->utf16) {
        gunichar2 *u = apr_palloc(p, s->len + 2);
        memcpy(u, s->data, s->len);
        char *r = g_utf16_to_utf8(u, (glong)(s->len / 2), NULL, NULL, NULL);
        const char *out = r ? apr_pstrdup(p, r) : NULL;
        g_free(r);
        return out;
    }
    return to_utf8(p, s->data, s->len, apr_psprintf(p, "CP%d", codepage));
}

/* The type a file name says, for files inside a winmail.dat that do not name one. */
static const char *type_of_name(const char *name)
{
    static const struct { const char *ext, *type; } types[] = {
        {"pdf", "application/pdf"}, {"txt", "text/plain"}, {"htm", "text/html"},
        {"html", "text/html"}, {"csv", "text/csv"}, {"rtf", "application/rtf"},
        {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},
        {"gif", "image/gif"}, {"zip", "application/zip"}, {"ics", "text/calendar"},
        {"eml", "message/rfc822"}, {"msg", "application/vnd.ms-outlook"},
        {"doc", "application/msword"}, {"xls", "application/vnd.ms-excel"},
        {"ppt", "application/vnd.ms-powerpoint"},
        {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    };
    const char *dot = name ? strrchr(name, '.') : NULL;
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

apr_array_header_t *zx_mime_tnef_files(apr_pool_t *p, const char *data, apr_size_t len,
                                       const char **body, int *damaged)
{
    zx_tnef t;
    if (body)
        *body = NULL;
    if (damaged)
        *damaged = 0;
    if (zx_tnef_parse(p, (const unsigned char *)data, len, &t) < 0)
        return NULL;
    if (damaged)
        *damaged = t.damaged;
    if (body && t.body.data)
        *body = tnef_text(p, &t.body, t.codepage);
    apr_array_header_t *out = apr_array_make(p, t.attachments->nelts + 1, sizeof(zx_mime_file));
    /* an index must fit the part number (TNEF_PART, an int): 32,766 files are plenty */
    for (int k = 0; k < t.attachments->nelts && k < TNEF_FILES_MAX; k++) {
        zx_tnef_attachment *ta = &APR_ARRAY_IDX(t.attachments, k, zx_tnef_attachment);
        if (!ta->data || ta->embedded)
            continue;
        zx_mime_file *f = apr_array_push(out);
        f->index = k;
        const char *name = tnef_text(p, &ta->long_name, t.codepage);
        if (!name)
            name = tnef_text(p, &ta->title, t.codepage);
        f->name = one_line(p, name);
        const char *type = tnef_text(p, &ta->mime_type, t.codepage);
        f->content_type = type && strchr(type, '/') ? one_line(p, type) : type_of_name(f->name);
        f->content_id = one_line(p, tnef_text(p, &ta->content_id, t.codepage));
        f->data = (const char *)ta->data;
        f->len = ta->len;
    }
    return out->nelts ? out : NULL;
}

/* The files of a winmail.dat as the message's attachments; 0 when it holds none (then the
 * winmail.dat itself stays an attachment). */
static int add_tnef(pctx *c, GMimeObject *o)
{
    int leaf = leaf_number(c, o);
    if (leaf < 0 || leaf > TNEF_LEAF_MAX)
        return 0;
    GByteArray *ba = leaf_bytes(o);
    const char *body = NULL;
    int damaged = 0;
    apr_array_header_t *files = zx_mime_tnef_files(c->p, (const char *)ba->data, ba->len, &body,
                                                   &damaged);
    if (damaged)
        c->malformed = 1;
    if (!c->tnef_body && body)
        c->tnef_body = body;
    for (int i = 0; files && i < files->nelts; i++) {
        zx_mime_file *f = &APR_ARRAY_IDX(files, i, zx_mime_file);
        zx_mime_attachment *a = apr_array_push(c->m->attachments);
        memset(a, 0, sizeof *a);
        a->part = TNEF_PART(leaf, f->index);
        a->name = f->name;
        a->content_type = f->content_type;
        a->content_id = f->content_id;
        a->size = f->len;
    }
    g_byte_array_free(ba, TRUE);
    return files ? files->nelts : 0;
}

/* Bytes of file k of the winmail.dat in leaf o, into *content. */
static int tnef_file(apr_pool_t *p, GMimeObject *o, int k, const char **content,
                     apr_size_t *content_len)
{
    GByteArray *ba = leaf_bytes(o);
    zx_tnef t;
    int rc = -1;
    if (zx_tnef_parse(p, ba->data, ba->len, &t) == 0 && k < t.attachments->nelts) {
        zx_tnef_attachment *ta = &APR_ARRAY_IDX(t.attachments, k, zx_tnef_attachment);
        if (ta->data && !ta->embedded) {
            char *buf = apr_palloc(p, ta->len + 1);
            memcpy(buf, ta->data, ta->len);
            buf[ta->len] = '\0';
            *content = buf;
            *content_len = ta->len;
            rc = 0;
        }
    }
    g_byte_array_free(ba, TRUE);
    return rc;
}

/* ---- the tree walk ------------------------------------------------------------------------------ */

static void add_attachment(pctx *c, GMimeObject *o)
{
    if (c->no_attach)
        return;
    if (is_tnef(c->p, o) && add_tnef(c, o) > 0)
        return;
    zx_mime_attachment *a = apr_array_push(c->m->attachments);
    memset(a, 0, sizeof *a);
    a->part = leaf_number(c, o);
    a->content_type = mime_type_of(c->p, o);
    const char *name = NULL;
    if (GMIME_IS_PART(o)) {
        name = g_mime_part_get_filename(GMIME_PART(o));
        check_base64(c, GMIME_PART(o));
    }
    else {
        GMimeContentDisposition *d = g_mime_object_get_content_disposition(o);
        name = d ? g_mime_content_disposition_get_parameter(d, "filename") : NULL;
        if (!name)
            name = param_of(o, "name");
    }
    if (!name && GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *em = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        const char *subj = em ? one_line(c->p, g_mime_message_get_subject(em)) : NULL;
        name = apr_pstrcat(c->p, subj ? subj : "message", ".eml", NULL);
    }
    a->name = one_line(c->p, name);
    const char *cid = g_mime_object_get_content_id(o);
    a->content_id = cid && *cid ? one_line(c->p, cid) : NULL;
    a->content_location = one_line(c->p, g_mime_object_get_header(o, "Content-Location"));
    const char *disp = disposition_of(o);
    a->is_inline = disp && strcasecmp(disp, "inline") == 0;
    a->size = leaf_size(o);
}

static void walk(pctx *c, GMimeObject *o, int depth);

/* Everything under o as attachments (a container after the body, an unused alternative). */
static void attach_all(pctx *c, GMimeObject *o, int depth)
{
    if (GMIME_IS_MULTIPART(o) && depth < ZX_MIME_MAX_DEPTH) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++)
            attach_all(c, g_mime_multipart_get_part(mp, i), depth + 1);
        return;
    }
    if (is_type(o, "text", "calendar"))
        scan_calendar(c, o);
    add_attachment(c, o);
}

/* Does the subtree hold an HTML (2) / plain (1) body candidate? */
static int provides(GMimeObject *o, int depth)
{
    if (depth >= ZX_MIME_MAX_DEPTH)
        return 0;
    if (GMIME_IS_MULTIPART(o)) {
        int r = 0;
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++)
            r |= provides(g_mime_multipart_get_part(mp, i), depth + 1);
        return r;
    }
    const char *disp = disposition_of(o);
    if (disp && strcasecmp(disp, "attachment") == 0)
        return 0;
    if (is_type(o, "text", "html"))
        return ACCEPT_HTML;
    if (is_type(o, "text", "plain"))
        return ACCEPT_PLAIN;
    return 0;
}

static void walk_alternative(pctx *c, GMimeMultipart *mp, int depth)
{
    int n = g_mime_multipart_get_count(mp);
    GMimeObject *plain = NULL, *rich = NULL;
    for (int i = 0; i < n; i++) {
        GMimeObject *k = g_mime_multipart_get_part(mp, i);
        if (is_type(k, "text", "calendar")) {
            scan_calendar(c, k);
            continue;
        }
        int what = provides(k, depth + 1);
        if (what & ACCEPT_HTML)
            rich = k;           /* the last one is the richest */
        else if (what & ACCEPT_PLAIN)
            plain = k;
    }
    if (!plain && !rich) {
        /* no text at all (e.g. only application/ms-tnef): offer the last part */
        if (n > 0)
            walk(c, g_mime_multipart_get_part(mp, n - 1), depth + 1);
        return;
    }
    int saved_accept = c->accept, saved_no_attach = c->no_attach;
    if (plain) {
        c->accept = ACCEPT_PLAIN;
        c->body_done = 0;
        c->no_attach = saved_no_attach || (rich && GMIME_IS_MULTIPART(plain));
        walk(c, plain, depth + 1);
    }
    if (rich) {
        c->accept = ACCEPT_HTML | (plain ? 0 : ACCEPT_PLAIN);
        c->body_done = 0;
        c->no_attach = saved_no_attach;
        walk(c, rich, depth + 1);
    }
    c->accept = saved_accept;
    c->no_attach = saved_no_attach;
    c->body_done = 1;
}

static void walk_related(pctx *c, GMimeMultipart *mp, int depth)
{
    int n = g_mime_multipart_get_count(mp);
    if (n == 0)
        return;
    const char *start = param_of(GMIME_OBJECT(mp), "start");
    GMimeObject *root = NULL;
    if (start) {
        char *id = g_mime_utils_decode_message_id(start);
        for (int i = 0; id && i < n && !root; i++) {
            GMimeObject *k = g_mime_multipart_get_part(mp, i);
            const char *cid = g_mime_object_get_content_id(k);
            if (cid && strcmp(cid, id) == 0)
                root = k;
        }
        g_free(id);
    }
    if (!root)
        root = g_mime_multipart_get_part(mp, 0);
    walk(c, root, depth + 1);
    c->body_done = 1;
    for (int i = 0; i < n; i++) {
        GMimeObject *k = g_mime_multipart_get_part(mp, i);
        if (k != root)
            attach_all(c, k, depth + 1);
    }
}

/* An unnamed inline text/plain part after the body (a mailing list footer, a signature added
 * by a relay) belongs to the text, as mail programs show it: it is appended to the body -
 * to the HTML one as <pre>, before its </body> when it has one - instead of becoming an
 * attachment without a name. */
static void append_trailer(pctx *c, GMimeObject *o)
{
    const char *t = text_of(c, o, 0);
    if (c->m->text_plain)
        c->m->text_plain = apr_pstrcat(c->p, c->m->text_plain, "\r\n", t, NULL);
    if (c->m->text_html) {
        gchar *esc = g_markup_escape_text(t, -1);
        const char *h = c->m->text_html, *end = NULL;
        for (const char *q = h; (q = strchr(q, '<')) != NULL; q++)
            if (strncasecmp(q, "</body", 6) == 0)
                end = q;
        size_t head = end ? (size_t)(end - h) : strlen(h);
        c->m->text_html = apr_pstrcat(c->p, apr_pstrmemdup(c->p, h, head), "<pre>", esc,
                                      "</pre>", h + head, NULL);
        g_free(esc);
    }
}

static void walk(pctx *c, GMimeObject *o, int depth)
{
    if (depth >= ZX_MIME_MAX_DEPTH) {
        c->malformed = 1;
        add_attachment(c, o);
        return;
    }
    if (GMIME_IS_MESSAGE_PART(o)) {
        add_attachment(c, o);
        return;
    }
    if (GMIME_IS_MULTIPART_ENCRYPTED(o)) {
        attach_all(c, o, depth);
        return;
    }
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        int n = g_mime_multipart_get_count(mp);
        if (n == 0) {
            /* no parts (no boundary, or none found): the text is all there is */
            const char *text = g_mime_multipart_get_prologue(mp);
            c->malformed = 1;
            if (text && !c->body_done && (c->accept & ACCEPT_PLAIN) && !c->m->text_plain) {
                c->m->text_plain = to_utf8(c->p, text, strlen(text), param_of(o, "charset"));
                c->body_done = 1;
            }
            return;
        }
        if (GMIME_IS_MULTIPART_SIGNED(o) || is_type(o, "multipart", "signed")) {
            if (n > 0)
                walk(c, g_mime_multipart_get_part(mp, 0), depth + 1);
            for (int i = 1; i < n; i++)
                attach_all(c, g_mime_multipart_get_part(mp, i), depth + 1);
            return;
        }
        if (is_type(o, "multipart", "alternative") && !c->body_done) {
            walk_alternative(c, mp, depth);
            return;
        }
        if (is_type(o, "multipart", "related") && !c->body_done) {
            walk_related(c, mp, depth);
            return;
        }
        for (int i = 0; i < n; i++)
            walk(c, g_mime_multipart_get_part(mp, i), depth + 1);
        return;
    }
    /* a leaf */
    const char *disp = disposition_of(o);
    int attachment = disp && strcasecmp(disp, "attachment") == 0;
    if (!attachment && GMIME_IS_PART(o) && !(disp && strcasecmp(disp, "inline") == 0) &&
        g_mime_part_get_filename(GMIME_PART(o)))
        attachment = 1;     /* a named part without disposition is a file, as Outlook sees it */
    int html = is_type(o, "text", "html");
    /* text/plain, and any other text (text/x-log, text/enriched...) that comes first */
    int plain = (is_type(o, "text", "*") && !html && !is_type(o, "text", "calendar")) ||
                (!GMIME_IS_MULTIPART(o) && is_type(o, "multipart", "*"));
    if (is_type(o, "multipart", "*"))
        c->malformed = 1;   /* a multipart the parser could not split */
    if (!attachment && c->body_done && is_type(o, "text", "plain") &&
        (c->m->text_plain || c->m->text_html)) {
        append_trailer(c, o);
        return;
    }
    if (!attachment && !c->body_done && ((html && (c->accept & ACCEPT_HTML)) ||
                                          (plain && (c->accept & ACCEPT_PLAIN)))) {
        if (html ? !c->m->text_html : !c->m->text_plain) {
            if (html)
                c->m->text_html = text_of(c, o, 1);
            else
                c->m->text_plain = text_of(c, o, 0);
            c->body_done = 1;
            return;
        }
    }
    if (is_type(o, "text", "calendar")) {
        scan_calendar(c, o);
        if (!attachment)
            return;         /* the invitation itself, shown as the meeting request */
    }
    add_attachment(c, o);
}

/* ---- headers -------------------------------------------------------------------------------- */

static const char *addresses(apr_pool_t *p, InternetAddressList *l)
{
    if (!l || internet_address_list_length(l) == 0)
        return NULL;
    char *s = internet_address_list_to_string(l, NULL, FALSE);
    const char *r = one_line(p, s);
    g_free(s);
    return r;
}

static const char *header(apr_pool_t *p, GMimeObject *o, const char *name)
{
    return one_line(p, g_mime_object_get_header(o, name));
}

static const char *strip_angles(apr_pool_t *p, const char *v)
{
    if (!v)
        return NULL;
    char *id = g_mime_utils_decode_message_id(v);
    const char *r = id && *id ? one_line(p, id) : one_line(p, v);
    g_free(id);
    return r;
}

static int importance_of(GMimeObject *o)
{
    const char *v = g_mime_object_get_header(o, "Importance");
    if (v) {
        while (*v == ' ' || *v == '\t')
            v++;
        if (strncasecmp(v, "high", 4) == 0)
            return 2;
        if (strncasecmp(v, "low", 3) == 0)
            return 0;
        if (strncasecmp(v, "normal", 6) == 0)
            return 1;
    }
    v = g_mime_object_get_header(o, "X-Priority");
    if (v) {
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v >= '1' && *v <= '5')
            return *v <= '2' ? 2 : *v == '3' ? 1 : 0;
        if (strncasecmp(v, "high", 4) == 0 || strncasecmp(v, "urgent", 6) == 0)
            return 2;
        if (strncasecmp(v, "low", 3) == 0)
            return 0;
    }
    v = g_mime_object_get_header(o, "Priority");
    if (v) {
        while (*v == ' ' || *v == '\t')
            v++;
        if (strncasecmp(v, "urgent", 6) == 0)
            return 2;
        if (strncasecmp(v, "non-urgent", 10) == 0)
            return 0;
    }
    v = g_mime_object_get_header(o, "X-MSMail-Priority");
    if (v) {
        while (*v == ' ' || *v == '\t')
            v++;
        if (strncasecmp(v, "high", 4) == 0)
            return 2;
        if (strncasecmp(v, "low", 3) == 0)
            return 0;
    }
    return 1;
}

/* Subject without reply/forward prefixes (Re:, Fwd:, AW:, ...): the conversation topic. */
static const char *topic_of(apr_pool_t *p, const char *subject)
{
    static const char *const prefixes[] = {"re", "fw", "fwd", "aw", "wg", "sv", "vs", "antw",
                                           "rif", "r", "tr", "res", "enc", "odp", "rv", NULL};
    if (!subject)
        return NULL;
    const char *s = subject;
    for (int again = 1; again;) {
        again = 0;
        while (*s == ' ')
            s++;
        for (int i = 0; prefixes[i]; i++) {
            size_t n = strlen(prefixes[i]);
            if (strncasecmp(s, prefixes[i], n) != 0)
                continue;
            const char *q = s + n;
            if (*q == '[') {                    /* Re[2]: */
                q++;
                while (*q >= '0' && *q <= '9')
                    q++;
                if (*q == ']')
                    q++;
            }
            while (*q == ' ')
                q++;
            if (*q == ':') {
                s = q + 1;
                again = 1;
                break;
            }
        }
    }
    while (*s == ' ')
        s++;
    return apr_pstrdup(p, s);
}

static void read_headers(pctx *c, GMimeMessage *msg)
{
    zx_mime_message *m = c->m;
    apr_pool_t *p = c->p;
    GMimeObject *o = GMIME_OBJECT(msg);
    m->subject = one_line(p, g_mime_message_get_subject(msg));
    m->from = addresses(p, g_mime_message_get_from(msg));
    m->sender = addresses(p, g_mime_message_get_sender(msg));
    m->to = addresses(p, g_mime_message_get_to(msg));
    m->cc = addresses(p, g_mime_message_get_cc(msg));
    m->bcc = addresses(p, g_mime_message_get_bcc(msg));
    m->reply_to = addresses(p, g_mime_message_get_reply_to(msg));
    const char *mid = g_mime_message_get_message_id(msg);
    m->message_id = mid && *mid ? one_line(p, mid) : NULL;
    m->in_reply_to = strip_angles(p, g_mime_object_get_header(o, "In-Reply-To"));
    m->references = header(p, o, "References");
    const char *tt = header(p, o, "Thread-Topic");
    m->thread_topic = tt ? tt : topic_of(p, m->subject);
    GDateTime *dt = g_mime_message_get_date(msg);
    m->date = dt ? (apr_time_t)g_date_time_to_unix(dt) * APR_USEC_PER_SEC : 0;
    m->importance = importance_of(o);
    const char *cc = header(p, o, "Content-Class");
    if (cc && strncasecmp(cc, "urn:content-classes:", 20) == 0)
        m->content_class = cc;
}

static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

/* Attachments referenced from the HTML body by cid: (or by Content-Location) are inline. */
static void mark_inline(pctx *c)
{
    zx_mime_message *m = c->m;
    if (!m->text_html || !m->attachments->nelts)
        return;
    for (const char *s = m->text_html; (s = find_ci(s, "cid:")) != NULL;) {
        s += 4;
        size_t n = strcspn(s, "\"' <>()\t\r\n");
        char *id = apr_pstrndup(c->p, s, n);
        char *dec = apr_pstrdup(c->p, id), *w = dec;
        /* percent-decoding (cid URLs are URL-encoded) */
        for (const char *r = id; *r; r++) {
            if (r[0] == '%' && apr_isxdigit(r[1]) && apr_isxdigit(r[2])) {
                char hex[3] = {r[1], r[2], 0};
                *w++ = (char)strtol(hex, NULL, 16);
                r += 2;
            }
            else {
                *w++ = *r;
            }
        }
        *w = '\0';
        for (int i = 0; i < m->attachments->nelts; i++) {
            zx_mime_attachment *a = &APR_ARRAY_IDX(m->attachments, i, zx_mime_attachment);
            if (a->content_id && (strcasecmp(a->content_id, dec) == 0 ||
                                  strcasecmp(a->content_id, id) == 0))
                a->is_inline = 1;
        }
        s += n;
    }
    for (int i = 0; i < m->attachments->nelts; i++) {
        zx_mime_attachment *a = &APR_ARRAY_IDX(m->attachments, i, zx_mime_attachment);
        if (!a->is_inline && a->content_location && strlen(a->content_location) > 2) {
            const char *hit = strstr(m->text_html, a->content_location);
            if (hit && hit > m->text_html && (hit[-1] == '"' || hit[-1] == '\'' || hit[-1] == '='))
                a->is_inline = 1;
        }
    }
}

static const char *class_of(pctx *c, GMimeObject *top)
{
    if (is_type(top, "multipart", "signed")) {
        const char *proto = param_of(top, "protocol");
        if (proto && (strcasecmp(proto, "application/pkcs7-signature") == 0 ||
                      strcasecmp(proto, "application/x-pkcs7-signature") == 0))
            return "IPM.Note.SMIME.MultipartSigned";
    }
    if (is_type(top, "application", "pkcs7-mime") || is_type(top, "application", "x-pkcs7-mime"))
        return "IPM.Note.SMIME";
    const char *mc = meeting_class(c->cal_method, c->cal_partstat);
    return mc ? mc : "IPM.Note";
}

/* ---- the API -------------------------------------------------------------------------------- */

int zx_mime_parse(apr_pool_t *p, const char *data, apr_size_t len, zx_mime_message **out,
                  const char **err)
{
    zx_mime_init();
    zx_mime_message *m = apr_pcalloc(p, sizeof *m);
    m->attachments = apr_array_make(p, 4, sizeof(zx_mime_attachment));
    m->importance = 1;
    m->native_body_type = 1;
    m->message_class = "IPM.Note";
    m->content_class = "urn:content-classes:message";
    *out = m;
    if (!data)
        len = 0;
    if (len > G_MAXUINT) {
        *err = "message too large";
        return -1;
    }

    pctx c = {0};
    c.p = p;
    c.m = m;
    c.accept = ACCEPT_PLAIN | ACCEPT_HTML;
    c.leaf_index = apr_hash_make(p);
    c.leaves = apr_array_make(p, 8, sizeof(GMimeObject *));
    c.opts = make_options(&c);

    int blank = 1;
    for (apr_size_t i = 0; i < len && blank; i++)
        if (data[i] != '\r' && data[i] != '\n' && data[i] != ' ' && data[i] != '\t')
            blank = 0;
    GMimeMessage *msg = blank ? NULL : parse_message(&c, data, len);
    if (!msg) {
        /* nothing GMime recognises as a message: whatever text there is is the body */
        c.malformed = 1;
        if (!blank)
            m->text_plain = to_utf8(p, data, len, NULL);
    }
    else {
        read_headers(&c, msg);
        GMimeObject *top = g_mime_message_get_mime_part(msg);
        if (top) {
            index_leaves(&c, top, 0);
            walk(&c, top, 0);
            m->message_class = class_of(&c, top);
        }
        mark_inline(&c);
        g_object_unref(msg);
    }
    if (!m->text_plain && !m->text_html && c.tnef_body)
        m->text_plain = c.tnef_body;     /* the message's only text was in its winmail.dat */
    if (strncmp(m->message_class, "IPM.Schedule.", 13) == 0)
        m->content_class = "urn:content-classes:calendarmessage";
    m->native_body_type = m->text_html ? 2 : 1;
    m->malformed = c.malformed;
    g_mime_parser_options_free(c.opts);
    return 0;
}

/* Bytes [from, from + max) of a part's decoded content, read through GMime's decoding filter
 * (what g_mime_data_wrapper_write_to_stream does) and no further than needed: a range at the
 * start of a large attachment costs what it returns, not the whole attachment. */
static void part_range(apr_pool_t *p, GMimePart *part, apr_size_t from, apr_size_t max,
                       const char **content, apr_size_t *content_len)
{
    char *out = apr_palloc(p, 1);
    apr_size_t n = 0, cap = 0, pos = 0;
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    GMimeStream *raw = w ? g_mime_data_wrapper_get_stream(w) : NULL;
    if (raw && max > 0) {
        GMimeStream *fs = g_mime_stream_filter_new(raw);
        GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(w);
        if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
            enc == GMIME_CONTENT_ENCODING_UUENCODE) {
            GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);
            g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
            g_object_unref(f);
        }
        g_mime_stream_reset(raw);
        enum { CHUNK = 65536 };         /* not on the stack: httpd's thread stacks are small */
        char *chunk = apr_palloc(p, CHUNK);
        while (n < max) {
            ssize_t got = g_mime_stream_read(fs, chunk, CHUNK);
            if (got <= 0)
                break;
            apr_size_t g = (apr_size_t)got, skip = 0;
            if (pos < from)
                skip = from - pos < g ? from - pos : g;
            pos += g;
            apr_size_t take = g - skip < max - n ? g - skip : max - n;
            if (take == 0)
                continue;
            if (n + take > cap) {
                apr_size_t ncap = cap ? cap * 2 : 65536;
                while (ncap < n + take)
                    ncap *= 2;
                if (ncap > max)
                    ncap = max;
                char *nb = apr_palloc(p, ncap + 1);
                if (n)
                    memcpy(nb, out, n);
                out = nb;
                cap = ncap;
            }
            memcpy(out + n, chunk + skip, take);
            n += take;
        }
        g_object_unref(fs);
    }
    out[n] = '\0';
    *content = out;
    *content_len = n;
}

struct zx_mime_handle {
    pctx c;                     /* the leaves, indexed once */
    GMimeMessage *msg;
};

static apr_status_t handle_cleanup(void *data)
{
    zx_mime_handle *h = data;
    if (h->msg)
        g_object_unref(h->msg);
    h->msg = NULL;
    if (h->c.opts)
        g_mime_parser_options_free(h->c.opts);
    h->c.opts = NULL;
    return APR_SUCCESS;
}

zx_mime_handle *zx_mime_open(apr_pool_t *p, const char *data, apr_size_t len)
{
    zx_mime_init();
    if (!data || len == 0 || len > G_MAXUINT)
        return NULL;
    zx_mime_handle *h = apr_pcalloc(p, sizeof *h);
    h->c.p = p;
    h->c.leaf_index = apr_hash_make(p);
    h->c.leaves = apr_array_make(p, 8, sizeof(GMimeObject *));
    h->c.opts = make_options(&h->c);
    apr_pool_cleanup_register(p, h, handle_cleanup, apr_pool_cleanup_null);
    h->msg = parse_message(&h->c, data, len);
    GMimeObject *top = h->msg ? g_mime_message_get_mime_part(h->msg) : NULL;
    if (top)
        index_leaves(&h->c, top, 0);
    return h;
}

int zx_mime_handle_range(zx_mime_handle *h, apr_pool_t *p, int part, apr_size_t from,
                         apr_size_t max, const char **content, apr_size_t *content_len,
                         const char **err)
{
    *content = NULL;
    *content_len = 0;
    int rc = -1;
    int leaf = part > TNEF_LEAF_MAX ? (part & TNEF_LEAF_MAX) : part;
    const char *whole = NULL;
    apr_size_t whole_len = 0;
    GMimeObject *o = h && part >= 0 && leaf < h->c.leaves->nelts
                         ? APR_ARRAY_IDX(h->c.leaves, leaf, GMimeObject *) : NULL;
    if (o && part > TNEF_LEAF_MAX) {
        if (is_tnef(p, o))
            rc = tnef_file(p, o, (part >> 16) - 1, &whole, &whole_len);
    }
    else if (o && GMIME_IS_PART(o)) {
        part_range(p, GMIME_PART(o), from, max, content, content_len);
        rc = 0;
    }
    else if (o) {
        /* an attached message or a multipart beyond the depth limit: serialised whole */
        GByteArray *ba = leaf_bytes(o);
        char *buf = apr_palloc(p, ba->len + 1);
        if (ba->len)
            memcpy(buf, ba->data, ba->len);
        buf[ba->len] = '\0';
        whole = buf;
        whole_len = ba->len;
        g_byte_array_free(ba, TRUE);
        rc = 0;
    }
    if (rc == 0 && whole) {
        apr_size_t a = from < whole_len ? from : whole_len;
        apr_size_t n = whole_len - a < max ? whole_len - a : max;
        *content = a == 0 && n == whole_len ? whole : apr_pstrmemdup(p, whole + a, n);
        *content_len = n;
    }
    if (rc < 0)
        *err = apr_psprintf(p, "no attachment %d in this message", part);
    return rc;
}

int zx_mime_attachment_range(apr_pool_t *p, const char *data, apr_size_t len, int part,
                             apr_size_t from, apr_size_t max, const char **content,
                             apr_size_t *content_len, const char **err)
{
    zx_mime_handle *h = zx_mime_open(p, data, len);
    int rc = zx_mime_handle_range(h, p, part, from, max, content, content_len, err);
    if (h)
        handle_cleanup(h);      /* GMime's objects go now, not with the pool */
    return rc;
}

int zx_mime_attachment_data(apr_pool_t *p, const char *data, apr_size_t len, int part,
                            const char **content, apr_size_t *content_len, const char **err)
{
    return zx_mime_attachment_range(p, data, len, part, 0, (apr_size_t)-1, content, content_len,
                                    err);
}

/* ---- HTML to text ----------------------------------------------------------------------------- */

static const struct { const char *name; unsigned cp; } entities[] = {
    {"nbsp", 160}, {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''},
    {"iexcl", 161}, {"cent", 162}, {"pound", 163}, {"curren", 164}, {"yen", 165},
    {"brvbar", 166}, {"sect", 167}, {"uml", 168}, {"copy", 169}, {"ordf", 170}, {"laquo", 171},
    {"not", 172}, {"shy", 173}, {"reg", 174}, {"macr", 175}, {"deg", 176}, {"plusmn", 177},
    {"sup2", 178}, {"sup3", 179}, {"acute", 180}, {"micro", 181}, {"para", 182},
    {"middot", 183}, {"cedil", 184}, {"sup1", 185}, {"ordm", 186}, {"raquo", 187},
    {"frac14", 188}, {"frac12", 189}, {"frac34", 190}, {"iquest", 191}, {"Agrave", 192},
    {"Aacute", 193}, {"Acirc", 194}, {"Atilde", 195}, {"Auml", 196}, {"Aring", 197},
    {"AElig", 198}, {"Ccedil", 199}, {"Egrave", 200}, {"Eacute", 201}, {"Ecirc", 202},
    {"Euml", 203}, {"Igrave", 204}, {"Iacute", 205}, {"Icirc", 206}, {"Iuml", 207},
    {"ETH", 208}, {"Ntilde", 209}, {"Ograve", 210}, {"Oacute", 211}, {"Ocirc", 212},
    {"Otilde", 213}, {"Ouml", 214}, {"times", 215}, {"Oslash", 216}, {"Ugrave", 217},
    {"Uacute", 218}, {"Ucirc", 219}, {"Uuml", 220}, {"Yacute", 221}, {"THORN", 222},
    {"szlig", 223}, {"agrave", 224}, {"aacute", 225}, {"acirc", 226}, {"atilde", 227},
    {"auml", 228}, {"aring", 229}, {"aelig", 230}, {"ccedil", 231}, {"egrave", 232},
    {"eacute", 233}, {"ecirc", 234}, {"euml", 235}, {"igrave", 236}, {"iacute", 237},
    {"icirc", 238}, {"iuml", 239}, {"eth", 240}, {"ntilde", 241}, {"ograve", 242},
    {"oacute", 243}, {"ocirc", 244}, {"otilde", 245}, {"ouml", 246}, {"divide", 247},
    {"oslash", 248}, {"ugrave", 249}, {"uacute", 250}, {"ucirc", 251}, {"uuml", 252},
    {"yacute", 253}, {"thorn", 254}, {"yuml", 255}, {"OElig", 338}, {"oelig", 339},
    {"Scaron", 352}, {"scaron", 353}, {"Yuml", 376}, {"fnof", 402}, {"circ", 710},
    {"tilde", 732}, {"ensp", 8194}, {"emsp", 8195}, {"thinsp", 8201}, {"zwnj", 8204},
    {"zwj", 8205}, {"lrm", 8206}, {"rlm", 8207}, {"ndash", 8211}, {"mdash", 8212},
    {"lsquo", 8216}, {"rsquo", 8217}, {"sbquo", 8218}, {"ldquo", 8220}, {"rdquo", 8221},
    {"bdquo", 8222}, {"dagger", 8224}, {"Dagger", 8225}, {"bull", 8226}, {"hellip", 8230},
    {"permil", 8240}, {"prime", 8242}, {"Prime", 8243}, {"lsaquo", 8249}, {"rsaquo", 8250},
    {"euro", 8364}, {"trade", 8482}, {"larr", 8592}, {"uarr", 8593}, {"rarr", 8594},
    {"darr", 8595}, {"harr", 8596}, {"minus", 8722}, {"le", 8804}, {"ge", 8805},
    {"ne", 8800}, {"infin", 8734}, {"check", 10003}, {"hearts", 9829},
};

/* HTML5's remapping of numeric references in 0x80-0x9F (Windows-1252) */
static const unsigned short c1_map[32] = {
    8364, 0x81, 8218, 402, 8222, 8230, 8224, 8225, 710, 8240, 352, 8249, 338, 0x8D, 381, 0x8F,
    0x90, 8216, 8217, 8220, 8221, 8226, 8211, 8212, 732, 8482, 353, 8250, 339, 0x9D, 382, 376};

typedef struct {
    char *buf;
    size_t len, cap;
    int space;          /* last output was collapsible white space (or start of line) */
    int newlines;       /* trailing newlines in the output */
} tbuf;

static void tb_raw(tbuf *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (t->len + n + 1 > cap)
            cap *= 2;
        char *nb = realloc(t->buf, cap);
        if (!nb)
            return;
        t->buf = nb;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

/* text: white space collapses (unless pre) */
static void tb_text(tbuf *t, const char *s, size_t n, int pre)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (pre) {
            if (ch == '\r')
                continue;
            tb_raw(t, &ch, 1);
            t->newlines = ch == '\n' ? t->newlines + 1 : 0;
            t->space = ch == '\n';
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f') {
            if (!t->space) {
                tb_raw(t, " ", 1);
                t->space = 1;
            }
            continue;
        }
        tb_raw(t, &ch, 1);
        t->space = 0;
        t->newlines = 0;
    }
}

static void tb_trim_spaces(tbuf *t)
{
    while (t->len && t->buf[t->len - 1] == ' ')
        t->buf[--t->len] = '\0';
}

/* ensure at least n line breaks end the output (none at the very start) */
static void tb_break(tbuf *t, int n)
{
    if (t->len == 0)
        return;
    tb_trim_spaces(t);
    while (t->newlines < n) {
        tb_raw(t, "\n", 1);
        t->newlines++;
    }
    t->space = 1;
}

static void tb_codepoint(tbuf *t, unsigned cp, int pre)
{
    if (cp >= 0x80 && cp < 0xA0)
        cp = c1_map[cp - 0x80];
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp == 160) {            /* no-break space: a space that does not collapse */
        tb_raw(t, " ", 1);
        t->space = 0;
        t->newlines = 0;
        return;
    }
    if (cp < 0x80) {
        char ch = (char)cp;
        tb_text(t, &ch, 1, pre);
        return;
    }
    char u[4];
    size_t n;
    if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    }
    else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    }
    else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    tb_raw(t, u, n);
    t->space = 0;
    t->newlines = 0;
}

/* Decode the entity at s ('&'); returns bytes consumed (0 = not an entity). */
static size_t entity(tbuf *t, const char *s, int pre)
{
    if (s[1] == '#') {
        const char *q = s + 2;
        int hex = (*q == 'x' || *q == 'X');
        if (hex)
            q++;
        unsigned long v = 0;
        const char *d = q;
        while (hex ? apr_isxdigit(*q) : apr_isdigit(*q)) {
            if (v < 0x110000)
                v = v * (hex ? 16 : 10) +
                    (unsigned long)(apr_isdigit(*q) ? *q - '0' : (*q | 0x20) - 'a' + 10);
            q++;
        }
        if (q == d)
            return 0;
        if (*q == ';')
            q++;
        tb_codepoint(t, v > 0x10FFFF ? 0xFFFD : (unsigned)v, pre);
        return (size_t)(q - s);
    }
    size_t n = 0;
    while (n < 10 && apr_isalnum(s[1 + n]))
        n++;
    if (!n)
        return 0;
    for (size_t i = 0; i < sizeof entities / sizeof entities[0]; i++) {
        size_t en = strlen(entities[i].name);
        if (en <= n && strncmp(s + 1, entities[i].name, en) == 0 &&
            (s[1 + en] == ';' || en == n)) {
            tb_codepoint(t, entities[i].cp, pre);
            return 1 + en + (s[1 + en] == ';');
        }
    }
    return 0;
}

static int tag_is(const char *name, size_t n, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strlen(list[i]) == n && strncasecmp(name, list[i], n) == 0)
            return 1;
    return 0;
}

/* Value of attribute attr in the tag text [s, e); NULL when absent. */
static char *tag_attr(apr_pool_t *p, const char *s, const char *e, const char *attr)
{
    size_t an = strlen(attr);
    for (const char *q = s; q + an < e; q++) {
        if (strncasecmp(q, attr, an) != 0 || (q > s && !(q[-1] == ' ' || q[-1] == '\t' ||
                                                          q[-1] == '\n' || q[-1] == '\r')))
            continue;
        const char *v = q + an;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        if (v >= e || *v != '=')
            continue;
        v++;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        char quote = (*v == '"' || *v == '\'') ? *v++ : 0;
        const char *ve = v;
        while (ve < e && (quote ? *ve != quote : !(*ve == ' ' || *ve == '>' || *ve == '\t')))
            ve++;
        return apr_pstrndup(p, v, (apr_size_t)(ve - v));
    }
    return NULL;
}

const char *zx_mime_html_to_text(apr_pool_t *p, const char *html)
{
    static const char *const skip_tags[] = {"script", "style", "head", "title", "template",
                                            "object", "svg", "xml", NULL};
    static const char *const para_tags[] = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table",
                                            "blockquote", "ul", "ol", "dl", "pre", "hr", NULL};
    static const char *const line_tags[] = {"div", "tr", "li", "dt", "dd", "section",
                                            "article", "header", "footer", "address", "center",
                                            "form", "fieldset", "main", "nav", "aside", "figure",
                                            "figcaption", "caption", "tbody", "thead", "tfoot",
                                            "body", "html", "legend", "details", "summary", NULL};
    static const char *const cell_tags[] = {"td", "th", NULL};
    if (!html)
        return NULL;
    tbuf t = {0};
    t.space = 1;
    int pre = 0;
    const char *href = NULL;
    size_t link_start = 0;
    apr_pool_t *scratch;
    if (apr_pool_create(&scratch, p) != APR_SUCCESS)
        return NULL;
    const char *s = html;
    while (*s) {
        if (*s == '&') {
            size_t n = entity(&t, s, pre);
            if (n) {
                s += n;
                continue;
            }
            tb_text(&t, s, 1, pre);
            s++;
            continue;
        }
        if (*s != '<') {
            size_t n = strcspn(s, "<&");
            tb_text(&t, s, n, pre);
            s += n;
            continue;
        }
        /* markup */
        if (strncmp(s, "<!--", 4) == 0) {
            const char *e = strstr(s + 4, "-->");
            s = e ? e + 3 : s + strlen(s);
            continue;
        }
        if (s[1] == '!' || s[1] == '?') {
            const char *e = strchr(s, '>');
            s = e ? e + 1 : s + strlen(s);
            continue;
        }
        int closing = s[1] == '/';
        const char *name = s + 1 + closing;
        size_t nlen = 0;
        if (apr_isalpha(name[0]))       /* a tag name starts with a letter */
            while (apr_isalnum(name[nlen]) || name[nlen] == ':' || name[nlen] == '-')
                nlen++;
        if (nlen == 0) {                /* a lone '<' is text */
            tb_text(&t, s, 1, pre);
            s++;
            continue;
        }
        /* end of the tag, skipping quoted attribute values */
        const char *e = name + nlen;
        char quote = 0;
        while (*e && (quote || *e != '>')) {
            if (quote && *e == quote)
                quote = 0;
            else if (!quote && (*e == '"' || *e == '\'') && (e[-1] == '=' || e[-1] == ' '))
                quote = *e;
            e++;
        }
        const char *after = *e ? e + 1 : e;
        if (!closing && tag_is(name, nlen, skip_tags) && !(e > name && e[-1] == '/')) {
            /* skip to the matching end tag */
            const char *q = after;
            for (;;) {
                q = strstr(q, "</");
                if (!q) {
                    q = after + strlen(after);
                    break;
                }
                if (strncasecmp(q + 2, name, nlen) == 0 && !apr_isalnum(q[2 + nlen])) {
                    const char *ge = strchr(q, '>');
                    q = ge ? ge + 1 : q + strlen(q);
                    break;
                }
                q += 2;
            }
            s = q;
            continue;
        }
        if (nlen == 2 && strncasecmp(name, "br", 2) == 0) {
            tb_trim_spaces(&t);
            tb_raw(&t, "\n", 1);
            t.newlines++;
            t.space = 1;
        }
        else if (tag_is(name, nlen, para_tags)) {
            tb_break(&t, 2);
            if (nlen == 3 && strncasecmp(name, "pre", 3) == 0)
                pre = !closing;
            if (!closing && nlen == 2 && strncasecmp(name, "hr", 2) == 0) {
                tb_raw(&t, "----------", 10);
                t.newlines = 0;
                tb_break(&t, 2);
            }
        }
        else if (tag_is(name, nlen, line_tags)) {
            tb_break(&t, 1);
            if (!closing && nlen == 2 && strncasecmp(name, "li", 2) == 0) {
                tb_raw(&t, "* ", 2);
                t.newlines = 0;
                t.space = 1;
            }
        }
        else if (tag_is(name, nlen, cell_tags)) {
            if (!closing && t.len && !t.newlines) {
                tb_trim_spaces(&t);
                tb_raw(&t, "\t", 1);
                t.space = 1;
            }
        }
        else if (nlen == 1 && (*name == 'a' || *name == 'A')) {
            if (!closing) {
                href = tag_attr(scratch, name + 1, e, "href");
                link_start = t.len;
            }
            else if (href) {
                /* "text <url>" for web links whose text is not the URL already */
                if ((strncasecmp(href, "http://", 7) == 0 || strncasecmp(href, "https://", 8) == 0) &&
                    link_start <= t.len) {
                    size_t tl = t.len - link_start;
                    const char *txt = t.buf ? t.buf + link_start : "";
                    while (tl && *txt == ' ') {
                        txt++;
                        tl--;
                    }
                    while (tl && txt[tl - 1] == ' ')
                        tl--;
                    if (tl && !(strlen(href) == tl && strncmp(href, txt, tl) == 0)) {
                        tb_trim_spaces(&t);
                        tb_raw(&t, " <", 2);
                        tb_raw(&t, href, strlen(href));
                        tb_raw(&t, ">", 1);
                        t.space = 0;
                        t.newlines = 0;
                    }
                }
                href = NULL;
            }
        }
        s = after;
    }
    apr_pool_destroy(scratch);
    /* trailing spaces on each line, at most one empty line in a row, trimmed ends */
    char *out = apr_palloc(p, t.len + 1), *o = out;
    int nl = 0;
    for (size_t i = 0; i < t.len; i++) {
        char ch = t.buf[i];
        if (ch == '\n') {
            while (o > out && o[-1] == ' ')
                o--;
            if (o == out || nl >= 2)
                continue;
            nl++;
            *o++ = '\n';
            continue;
        }
        if (ch == ' ' && o == out)
            continue;
        if (ch != ' ')
            nl = 0;
        *o++ = ch;
    }
    while (o > out && (o[-1] == '\n' || o[-1] == ' '))
        o--;
    *o = '\0';
    free(t.buf);
    return zx_utf8_clean(p, out, (size_t)(o - out));
}
