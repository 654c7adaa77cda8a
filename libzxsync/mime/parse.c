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
 *
 * The rest of libzxsync/mime/ (shared through mime_int.h): part.c (GMime set-up, the leaves
 * and their content), charset.c (text to UTF-8), ical_scan.c (meeting requests), winmail.c
 * and tnef.c (winmail.dat), range.c (attachment reads), html_text.c (HTML to text) and
 * compose.c (messages to send, zxsync/mime_compose.h).
 */
#include "mime_int.h"

#include <zxsync/text.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- text parts ------------------------------------------------------------------------------- */

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
        zx_mime_check_base64(c, GMIME_PART(o));
    GByteArray *ba = zx_mime_leaf_bytes(o);
    const char *cs = zx_mime_param(o, "charset");
    if (!cs && html)
        cs = html_meta_charset(c->p, (const char *)ba->data, ba->len);
    char *t = zx_mime_to_utf8(c->p, (const char *)ba->data, ba->len, cs);
    g_byte_array_free(ba, TRUE);
    if (!html) {
        const char *fmt = zx_mime_param(o, "format");
        if (fmt && strcasecmp(fmt, "flowed") == 0) {
            const char *delsp = zx_mime_param(o, "delsp");
            t = unflow(c->p, t, delsp && strcasecmp(delsp, "yes") == 0);
        }
    }
    return t;
}

/* ---- the tree walk ------------------------------------------------------------------------------ */

static void add_attachment(pctx *c, GMimeObject *o)
{
    if (c->no_attach)
        return;
    if (zx_mime_is_tnef_part(c->p, o) && zx_mime_add_tnef(c, o) > 0)
        return;
    zx_mime_attachment *a = apr_array_push(c->m->attachments);
    memset(a, 0, sizeof *a);
    a->part = zx_mime_leaf_number(c, o);
    a->content_type = zx_mime_type_of(c->p, o);
    const char *name = NULL;
    if (GMIME_IS_PART(o)) {
        name = g_mime_part_get_filename(GMIME_PART(o));
        zx_mime_check_base64(c, GMIME_PART(o));
    }
    else {
        GMimeContentDisposition *d = g_mime_object_get_content_disposition(o);
        name = d ? g_mime_content_disposition_get_parameter(d, "filename") : NULL;
        if (!name)
            name = zx_mime_param(o, "name");
    }
    if (!name && GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *em = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        const char *subj = em ? zx_text_one_line(c->p, g_mime_message_get_subject(em)) : NULL;
        name = apr_pstrcat(c->p, subj ? subj : "message", ".eml", NULL);
    }
    a->name = zx_text_one_line(c->p, name);
    const char *cid = g_mime_object_get_content_id(o);
    a->content_id = cid && *cid ? zx_text_one_line(c->p, cid) : NULL;
    a->content_location = zx_text_one_line(c->p, g_mime_object_get_header(o, "Content-Location"));
    const char *disp = zx_mime_disposition(o);
    a->is_inline = disp && strcasecmp(disp, "inline") == 0;
    a->size = zx_mime_leaf_size(o);
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
    if (zx_mime_is_type(o, "text", "calendar"))
        zx_mime_scan_calendar(c, o);
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
    const char *disp = zx_mime_disposition(o);
    if (disp && strcasecmp(disp, "attachment") == 0)
        return 0;
    if (zx_mime_is_type(o, "text", "html"))
        return ACCEPT_HTML;
    if (zx_mime_is_type(o, "text", "plain"))
        return ACCEPT_PLAIN;
    return 0;
}

static void walk_alternative(pctx *c, GMimeMultipart *mp, int depth)
{
    int n = g_mime_multipart_get_count(mp);
    GMimeObject *plain = NULL, *rich = NULL;
    for (int i = 0; i < n; i++) {
        GMimeObject *k = g_mime_multipart_get_part(mp, i);
        if (zx_mime_is_type(k, "text", "calendar")) {
            zx_mime_scan_calendar(c, k);
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
    const char *start = zx_mime_param(GMIME_OBJECT(mp), "start");
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
                c->m->text_plain = zx_mime_to_utf8(c->p, text, strlen(text), zx_mime_param(o, "charset"));
                c->body_done = 1;
            }
            return;
        }
        if (GMIME_IS_MULTIPART_SIGNED(o) || zx_mime_is_type(o, "multipart", "signed")) {
            if (n > 0)
                walk(c, g_mime_multipart_get_part(mp, 0), depth + 1);
            for (int i = 1; i < n; i++)
                attach_all(c, g_mime_multipart_get_part(mp, i), depth + 1);
            return;
        }
        if (zx_mime_is_type(o, "multipart", "alternative") && !c->body_done) {
            walk_alternative(c, mp, depth);
            return;
        }
        if (zx_mime_is_type(o, "multipart", "related") && !c->body_done) {
            walk_related(c, mp, depth);
            return;
        }
        for (int i = 0; i < n; i++)
            walk(c, g_mime_multipart_get_part(mp, i), depth + 1);
        return;
    }
    /* a leaf */
    const char *disp = zx_mime_disposition(o);
    int attachment = disp && strcasecmp(disp, "attachment") == 0;
    if (!attachment && GMIME_IS_PART(o) && !(disp && strcasecmp(disp, "inline") == 0) &&
        g_mime_part_get_filename(GMIME_PART(o)))
        attachment = 1;     /* a named part without disposition is a file, as Outlook sees it */
    int html = zx_mime_is_type(o, "text", "html");
    /* text/plain, and any other text (text/x-log, text/enriched...) that comes first */
    int plain = (zx_mime_is_type(o, "text", "*") && !html && !zx_mime_is_type(o, "text", "calendar")) ||
                (!GMIME_IS_MULTIPART(o) && zx_mime_is_type(o, "multipart", "*"));
    if (zx_mime_is_type(o, "multipart", "*"))
        c->malformed = 1;   /* a multipart the parser could not split */
    if (!attachment && c->body_done && zx_mime_is_type(o, "text", "plain") &&
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
    if (zx_mime_is_type(o, "text", "calendar")) {
        zx_mime_scan_calendar(c, o);
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
    const char *r = zx_text_one_line(p, s);
    g_free(s);
    return r;
}

static const char *header(apr_pool_t *p, GMimeObject *o, const char *name)
{
    return zx_text_one_line(p, g_mime_object_get_header(o, name));
}

static const char *strip_angles(apr_pool_t *p, const char *v)
{
    if (!v)
        return NULL;
    char *id = g_mime_utils_decode_message_id(v);
    const char *r = id && *id ? zx_text_one_line(p, id) : zx_text_one_line(p, v);
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
    m->subject = zx_text_one_line(p, g_mime_message_get_subject(msg));
    m->from = addresses(p, g_mime_message_get_from(msg));
    m->sender = addresses(p, g_mime_message_get_sender(msg));
    m->to = addresses(p, g_mime_message_get_to(msg));
    m->cc = addresses(p, g_mime_message_get_cc(msg));
    m->bcc = addresses(p, g_mime_message_get_bcc(msg));
    m->reply_to = addresses(p, g_mime_message_get_reply_to(msg));
    const char *mid = g_mime_message_get_message_id(msg);
    m->message_id = mid && *mid ? zx_text_one_line(p, mid) : NULL;
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

/* Attachments referenced from the HTML body by cid: (or by Content-Location) are inline. */
static void mark_inline(pctx *c)
{
    zx_mime_message *m = c->m;
    if (!m->text_html || !m->attachments->nelts)
        return;
    for (const char *s = m->text_html; (s = zx_mime_find_ci(s, "cid:")) != NULL;) {
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
    if (zx_mime_is_type(top, "multipart", "signed")) {
        const char *proto = zx_mime_param(top, "protocol");
        if (proto && (strcasecmp(proto, "application/pkcs7-signature") == 0 ||
                      strcasecmp(proto, "application/x-pkcs7-signature") == 0))
            return "IPM.Note.SMIME.MultipartSigned";
    }
    if (zx_mime_is_type(top, "application", "pkcs7-mime") || zx_mime_is_type(top, "application", "x-pkcs7-mime"))
        return "IPM.Note.SMIME";
    const char *mc = zx_mime_meeting_class(c->cal_method, c->cal_partstat);
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
    c.opts = zx_mime_options(&c);

    int blank = 1;
    for (apr_size_t i = 0; i < len && blank; i++)
        if (data[i] != '\r' && data[i] != '\n' && data[i] != ' ' && data[i] != '\t')
            blank = 0;
    GMimeMessage *msg = blank ? NULL : zx_mime_gparse(&c, data, len);
    if (!msg) {
        /* nothing GMime recognises as a message: whatever text there is is the body */
        c.malformed = 1;
        if (!blank)
            m->text_plain = zx_mime_to_utf8(p, data, len, NULL);
    }
    else {
        read_headers(&c, msg);
        GMimeObject *top = g_mime_message_get_mime_part(msg);
        if (top) {
            zx_mime_index_leaves(&c, top, 0);
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
