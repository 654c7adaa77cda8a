/* zxmobile - composing a message to send (zxsync/mime_compose.h) with GMime: the client's
 * message of a SendMail, SmartReply or SmartForward made complete (From, Date, Message-ID,
 * In-Reply-To/References), the original's text quoted or inlined under the client's text, its
 * inline images and, for a forward, its attachments (the files of a winmail.dat too). */
#include "mime_int.h"

#include <zxsync/mime_compose.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>
#include <strings.h>

/* ---- GMime ---------------------------------------------------------------------------- */

static apr_status_t gobj_cleanup(void *o)
{
    g_object_unref(o);
    return APR_SUCCESS;
}

/* The object is released with the pool. */
static void *pool_own(apr_pool_t *p, void *gobj)
{
    if (gobj)
        apr_pool_cleanup_register(p, gobj, gobj_cleanup, apr_pool_cleanup_null);
    return gobj;
}

static GMimeMessage *gm_parse(apr_pool_t *p, const char *data, apr_size_t len)
{
    zx_mime_init();
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(s);
    g_object_unref(s);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    return pool_own(p, m);
}

const char *zx_mime_gm_write(apr_pool_t *p, GMimeMessage *m, apr_size_t *len)
{
    GMimeStream *s = g_mime_stream_mem_new();
    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
    g_mime_object_write_to_stream(GMIME_OBJECT(m), fo, s);
    g_mime_format_options_free(fo);
    GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
    char *out = apr_palloc(p, ba->len + 1);
    memcpy(out, ba->data, ba->len);
    out[ba->len] = '\0';
    *len = ba->len;
    g_object_unref(s);
    return out;
}

/* addr-specs of a list (groups flattened) */
static void collect_addrs(apr_pool_t *p, InternetAddressList *l, apr_array_header_t *out)
{
    int n = l ? internet_address_list_length(l) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(l, i);
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            collect_addrs(p, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out);
            continue;
        }
        if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
            continue;
        const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
        /* an address is never an option for the sendmail command line */
        if (!a || !*a || a[0] == '-' || !strchr(a, '@') || strpbrk(a, " \t\r\n"))
            continue;
        int dup = 0;
        for (int j = 0; j < out->nelts && !dup; j++)
            dup = strcasecmp(APR_ARRAY_IDX(out, j, const char *), a) == 0;
        if (!dup)
            APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(p, a);
    }
}

static apr_array_header_t *recipients_of(apr_pool_t *p, GMimeMessage *m)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    collect_addrs(p, g_mime_message_get_to(m), out);
    collect_addrs(p, g_mime_message_get_cc(m), out);
    collect_addrs(p, g_mime_message_get_bcc(m), out);
    return out;
}

static int is_attachment(GMimeObject *o)
{
    const char *disp = g_mime_object_get_disposition(o);
    if (disp && strcasecmp(disp, "attachment") == 0)
        return 1;
    if (GMIME_IS_PART(o) && g_mime_part_get_filename(GMIME_PART(o)) &&
        !(disp && strcasecmp(disp, "inline") == 0))
        return 1;
    return 0;
}

/* First text/plain and text/html body parts (not attachments, not inside attached messages). */
static void find_bodies(GMimeObject *o, GMimeTextPart **plain, GMimeTextPart **html)
{
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
            find_bodies(g_mime_multipart_get_part(mp, i), plain, html);
        return;
    }
    if (!GMIME_IS_TEXT_PART(o) || is_attachment(o))
        return;
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    if (g_mime_content_type_is_type(ct, "text", "plain") && !*plain)
        *plain = GMIME_TEXT_PART(o);
    else if (g_mime_content_type_is_type(ct, "text", "html") && !*html)
        *html = GMIME_TEXT_PART(o);
}

/* The files of a winmail.dat as parts of their own (the forward carries what the device
 * showed as the original's attachments, zx_mime_tnef_files); 0 when it holds none. */
static int tnef_parts(apr_pool_t *p, GMimeObject *o, apr_array_header_t *out)
{
    if (!GMIME_IS_PART(o) || GMIME_IS_MESSAGE_PART(o))
        return 0;
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    char *type = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
    int tnef = zx_mime_is_tnef(type, g_mime_part_get_filename(GMIME_PART(o)));
    g_free(type);
    if (!tnef)
        return 0;
    GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
    if (!w)
        return 0;
    GByteArray *ba = g_byte_array_new();
    GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(ba);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    g_mime_data_wrapper_write_to_stream(w, mem);
    g_object_unref(mem);
    const char *data = apr_pmemdup(p, ba->data, ba->len);
    apr_array_header_t *files = zx_mime_tnef_files(p, data, ba->len, NULL, NULL);
    g_byte_array_free(ba, TRUE);
    for (int i = 0; files && i < files->nelts; i++) {
        zx_mime_file *f = &APR_ARRAY_IDX(files, i, zx_mime_file);
        GMimePart *part = g_mime_part_new_with_type("application", "octet-stream");
        GMimeContentType *fct = g_mime_content_type_parse(NULL, f->content_type);
        if (fct) {
            g_mime_object_set_content_type(GMIME_OBJECT(part), fct);
            g_object_unref(fct);
        }
        if (f->name)
            g_mime_part_set_filename(part, f->name);
        if (f->content_id)
            g_mime_object_set_content_id(GMIME_OBJECT(part), f->content_id);
        GMimeStream *s = g_mime_stream_mem_new_with_buffer(f->data, f->len);
        GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);
        g_mime_part_set_content(part, dw);
        g_object_unref(dw);
        g_object_unref(s);
        g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
        APR_ARRAY_PUSH(out, GMimeObject *) = pool_own(p, part);
    }
    return files ? files->nelts : 0;
}

/* Attachments of the original (what a forward carries along). */
static void find_attachments(apr_pool_t *p, GMimeObject *o, apr_array_header_t *out)
{
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
            find_attachments(p, g_mime_multipart_get_part(mp, i), out);
        return;
    }
    if (is_attachment(o) && !tnef_parts(p, o, out))
        APR_ARRAY_PUSH(out, GMimeObject *) = o;
}

static void set_text(GMimeTextPart *tp, const char *text)
{
    g_mime_text_part_set_text(tp, text);
    g_mime_part_set_content_encoding(GMIME_PART(tp),
        g_mime_part_get_best_content_encoding(GMIME_PART(tp), GMIME_ENCODING_CONSTRAINT_7BIT));
}

static const char *html_escape(apr_pool_t *p, const char *s)
{
    if (!s)
        return "";
    apr_size_t n = 0;
    for (const char *c = s; *c; c++)
        n += *c == '&' ? 5 : (*c == '<' || *c == '>') ? 4 : *c == '"' ? 6 : *c == '\n' ? 5 : 1;
    char *o = apr_palloc(p, n + 1), *w = o;
    for (const char *c = s; *c; c++) {
        switch (*c) {
        case '&': memcpy(w, "&amp;", 5); w += 5; break;
        case '<': memcpy(w, "&lt;", 4); w += 4; break;
        case '>': memcpy(w, "&gt;", 4); w += 4; break;
        case '"': memcpy(w, "&quot;", 6); w += 6; break;
        case '\n': memcpy(w, "<br>\n", 5); w += 5; break;
        case '\r': break;
        default: *w++ = *c;
        }
    }
    *w = '\0';
    return o;
}

/* The inside of <body>...</body> (or the whole text). */
static const char *html_body_inner(apr_pool_t *p, const char *html)
{
    const char *b = zx_mime_find_ci(html, "<body");
    if (b) {
        const char *gt = strchr(b, '>');
        if (gt)
            html = gt + 1;
    }
    const char *e = zx_mime_find_ci(html, "</body");
    return e ? apr_pstrndup(p, html, (apr_size_t)(e - html)) : html;
}

static const char *quote_lines(apr_pool_t *p, const char *text)
{
    apr_size_t lines = 1;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    char *o = apr_palloc(p, strlen(text) + lines * 2 + 1), *w = o;
    int bol = 1;
    for (const char *c = text; *c; c++) {
        if (bol && *c != '\r') {
            *w++ = '>';
            *w++ = (*c == '\n' || *c == '>') ? '\0' : ' ';
            if (w[-1] == '\0')
                w--;
        }
        bol = *c == '\n';
        if (*c != '\r')
            *w++ = *c;
    }
    *w = '\0';
    return o;
}

typedef struct {
    const char *plain;   /* the text block appended to a plain body */
    const char *html;    /* the same for an HTML body */
} orig_block;

/* "-----Original Message-----" block of the original ([MS-ASCMD] 2.2.1.19/20: "the full text
 * of the original message is retrieved and sent by the server"); quoted for a reply. */
static orig_block original_block(apr_pool_t *p, const zx_mime_message *om, int quote)
{
    orig_block b;
    char date[APR_RFC822_DATE_LEN] = "";
    if (om->date)
        apr_rfc822_date(date, om->date);
    const char *hdr = apr_pstrcat(p, "-----Original Message-----\n",
                                  "From: ", om->from ? om->from : "", "\n",
                                  "Sent: ", date, "\n",
                                  "To: ", om->to ? om->to : "", "\n",
                                  om->cc && *om->cc ? "Cc: " : "", om->cc && *om->cc ? om->cc : "",
                                  om->cc && *om->cc ? "\n" : "",
                                  "Subject: ", om->subject ? om->subject : "", "\n", NULL);
    const char *text = om->text_plain ? om->text_plain
                       : om->text_html ? zx_mime_html_to_text(p, om->text_html) : "";
    if (!text)
        text = "";
    b.plain = apr_pstrcat(p, "\n\n", hdr, "\n", quote ? quote_lines(p, text) : text, NULL);

    const char *hhdr = apr_pstrcat(p,
        "<hr>\n<div><b>From:</b> ", html_escape(p, om->from),
        "<br>\n<b>Sent:</b> ", html_escape(p, date),
        "<br>\n<b>To:</b> ", html_escape(p, om->to),
        om->cc && *om->cc ? "<br>\n<b>Cc:</b> " : "", om->cc && *om->cc ? html_escape(p, om->cc) : "",
        "<br>\n<b>Subject:</b> ", html_escape(p, om->subject), "</div>\n", NULL);
    const char *hbody = om->text_html ? html_body_inner(p, om->text_html)
                                      : apr_pstrcat(p, "<div>", html_escape(p, text), "</div>", NULL);
    b.html = apr_pstrcat(p, hhdr,
                         quote ? "<blockquote style=\"margin:0 0 0 .8ex;border-left:1px solid #ccc;"
                                 "padding-left:1ex\">\n" : "<div>\n",
                         hbody, quote ? "\n</blockquote>\n" : "\n</div>\n", NULL);
    return b;
}

static void append_html(apr_pool_t *p, GMimeTextPart *tp, const char *block)
{
    char *cur = g_mime_text_part_get_text(tp);
    const char *s = cur ? cur : "";
    const char *end = zx_mime_find_ci(s, "</body");
    const char *txt = end ? apr_pstrcat(p, apr_pstrndup(p, s, (apr_size_t)(end - s)), block, end, NULL)
                          : apr_pstrcat(p, s, block, NULL);
    g_free(cur);
    set_text(tp, txt);
}

static void append_plain(apr_pool_t *p, GMimeTextPart *tp, const char *block)
{
    char *cur = g_mime_text_part_get_text(tp);
    const char *txt = apr_pstrcat(p, cur ? cur : "", block, NULL);
    g_free(cur);
    set_text(tp, txt);
}

/* Make the message's top part a multipart/mixed and add o to it. */
static void add_to_mixed(GMimeMessage *m, GMimeObject *o, int first)
{
    GMimeObject *top = g_mime_message_get_mime_part(m);
    if (top && GMIME_IS_MULTIPART(top) &&
        g_mime_content_type_is_type(g_mime_object_get_content_type(top), "multipart", "mixed")) {
        if (first)
            g_mime_multipart_insert(GMIME_MULTIPART(top), 0, o);
        else
            g_mime_multipart_add(GMIME_MULTIPART(top), o);
        return;
    }
    GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");
    if (first)
        g_mime_multipart_add(mp, o);
    if (top)
        g_mime_multipart_add(mp, top);
    if (!first)
        g_mime_multipart_add(mp, o);
    g_mime_message_set_mime_part(m, GMIME_OBJECT(mp));
    g_object_unref(mp);
}

/* Parts of the original with a Content-ID its HTML refers to ("cid:..."): the inline images
 * the HTML copied into a reply or forward shows (RFC 2392). */
static void find_cid_parts(GMimeObject *o, const char *html, apr_array_header_t *out)
{
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
            find_cid_parts(g_mime_multipart_get_part(mp, i), html, out);
        return;
    }
    const char *id = GMIME_IS_PART(o) && !GMIME_IS_TEXT_PART(o) ? g_mime_object_get_content_id(o)
                                                                 : NULL;
    if (!id || !*id)
        return;
    size_t n = strlen(id);
    for (const char *h = zx_mime_find_ci(html, "cid:"); h; h = zx_mime_find_ci(h + 4, "cid:"))
        if (strncasecmp(h + 4, id, n) == 0 && !(apr_isalnum(h[4 + n]) ||
                                                 strchr("@.-_$%", h[4 + n]))) {
            APR_ARRAY_PUSH(out, GMimeObject *) = o;
            return;
        }
}

/* The multipart that holds part (NULL when part is the top or not found); *index its place. */
static GMimeMultipart *parent_of(GMimeObject *top, GMimeObject *part, int *index)
{
    if (!GMIME_IS_MULTIPART(top))
        return NULL;
    GMimeMultipart *mp = GMIME_MULTIPART(top);
    for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
        GMimeObject *c = g_mime_multipart_get_part(mp, i);
        if (c == part) {
            *index = i;
            return mp;
        }
        GMimeMultipart *in = parent_of(c, part, index);
        if (in)
            return in;
    }
    return NULL;
}

/* Give the HTML part the images it refers to: into its multipart/related, made when it has
 * none (RFC 2387, type text/html). */
static void relate_images(GMimeMessage *m, GMimeTextPart *html, apr_array_header_t *images)
{
    if (images->nelts == 0)
        return;
    GMimeObject *top = g_mime_message_get_mime_part(m);
    int index = 0;
    GMimeMultipart *parent = parent_of(top, GMIME_OBJECT(html), &index);
    GMimeMultipart *related;
    if (parent && g_mime_content_type_is_type(g_mime_object_get_content_type(GMIME_OBJECT(parent)),
                                              "multipart", "related")) {
        related = parent;
    }
    else {
        related = g_mime_multipart_new_with_subtype("related");
        g_mime_object_set_content_type_parameter(GMIME_OBJECT(related), "type", "text/html");
        g_object_ref(html);
        if (parent) {
            GMimeObject *old = g_mime_multipart_replace(parent, index, GMIME_OBJECT(related));
            if (old)
                g_object_unref(old);
        }
        else
            g_mime_message_set_mime_part(m, GMIME_OBJECT(related));
        g_mime_multipart_add(related, GMIME_OBJECT(html));
        g_object_unref(html);
        g_object_unref(related);        /* the message (or parent) holds it */
    }
    for (int i = 0; i < images->nelts; i++)
        g_mime_multipart_add(related, APR_ARRAY_IDX(images, i, GMimeObject *));
}

/* Put the original's text (and, for a forward, its attachments) into the client's message;
 * when the original's HTML goes into the message's HTML body, so do the inline images it
 * shows. */
static void merge_original(apr_pool_t *p, GMimeMessage *m, const char *orig, apr_size_t orig_len,
                           const zx_mime_message *om, int forward)
{
    orig_block b = original_block(p, om, !forward);
    GMimeTextPart *plain = NULL, *html = NULL;
    GMimeObject *top = g_mime_message_get_mime_part(m);
    if (top)
        find_bodies(top, &plain, &html);
    if (plain)
        append_plain(p, plain, b.plain);
    if (html)
        append_html(p, html, b.html);
    if (!plain && !html) {
        GMimeTextPart *tp = g_mime_text_part_new_with_subtype("plain");
        set_text(tp, b.plain + 2);
        if (!top)
            g_mime_message_set_mime_part(m, GMIME_OBJECT(tp));
        else
            add_to_mixed(m, GMIME_OBJECT(tp), 1);
        g_object_unref(tp);
    }
    int with_images = html && om->text_html && zx_mime_find_ci(om->text_html, "cid:");
    if (!forward && !with_images)
        return;
    GMimeMessage *om_g = gm_parse(p, orig, orig_len);
    GMimeObject *otop = om_g ? g_mime_message_get_mime_part(om_g) : NULL;
    if (!otop)
        return;
    if (with_images) {
        apr_array_header_t *images = apr_array_make(p, 4, sizeof(GMimeObject *));
        find_cid_parts(otop, om->text_html, images);
        relate_images(m, html, images);
    }
    if (forward) {
        apr_array_header_t *atts = apr_array_make(p, 4, sizeof(GMimeObject *));
        find_attachments(p, otop, atts);
        for (int i = 0; i < atts->nelts; i++)
            add_to_mixed(m, APR_ARRAY_IDX(atts, i, GMimeObject *), 0);
    }
}

static int from_is_account(InternetAddressList *from, const char *account)
{
    if (internet_address_list_length(from) != 1)
        return 0;
    InternetAddress *ia = internet_address_list_get_address(from, 0);
    if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
        return 0;
    const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    return a && strcasecmp(a, account) == 0;
}

/* S/MIME or PGP: multipart/signed, multipart/encrypted, application/(x-)pkcs7-mime */
static int is_protected(GMimeMessage *m)
{
    GMimeObject *top = g_mime_message_get_mime_part(m);
    if (!top)
        return 0;
    GMimeContentType *ct = g_mime_object_get_content_type(top);
    return g_mime_content_type_is_type(ct, "multipart", "signed") ||
           g_mime_content_type_is_type(ct, "multipart", "encrypted") ||
           g_mime_content_type_is_type(ct, "application", "pkcs7-mime") ||
           g_mime_content_type_is_type(ct, "application", "x-pkcs7-mime");
}

/* ---- the draft -------------------------------------------------------------------------- */

struct zx_mime_draft {
    apr_pool_t *p;
    GMimeMessage *m;            /* released with p */
};

zx_mime_draft *zx_mime_draft_parse(apr_pool_t *p, const char *data, apr_size_t len)
{
    GMimeMessage *m = gm_parse(p, data, len);
    if (!m)
        return NULL;
    zx_mime_draft *d = apr_pcalloc(p, sizeof *d);
    d->p = p;
    d->m = m;
    return d;
}

const char *zx_mime_compose_forward(apr_pool_t *p, const apr_array_header_t *to,
                                    const char *subject, const char *text, int html,
                                    apr_size_t *len)
{
    zx_mime_init();
    GMimeMessage *m = pool_own(p, g_mime_message_new(TRUE));
    for (int i = 0; to && i < to->nelts; i++) {
        const zx_mime_mailbox *mb = &APR_ARRAY_IDX(to, i, zx_mime_mailbox);
        if (mb->email && *mb->email)
            g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, mb->name, mb->email);
    }
    g_mime_message_set_subject(m, apr_pstrcat(p, "FW: ", subject ? subject : "", NULL),
                               "utf-8");
    GMimeTextPart *tp = g_mime_text_part_new_with_subtype(html ? "html" : "plain");
    set_text(tp, text ? text : "");
    g_mime_message_set_mime_part(m, GMIME_OBJECT(tp));
    g_object_unref(tp);
    return zx_mime_gm_write(p, m, len);
}

const char *zx_mime_draft_set_from(zx_mime_draft *d, const char *account)
{
    apr_pool_t *p = d->p;
    GMimeMessage *m = d->m;
    InternetAddressList *from = g_mime_message_get_from(m);
    if (!from || internet_address_list_length(from) == 0) {
        g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, NULL, account);
        return NULL;
    }
    if (from_is_account(from, account))
        return NULL;
    InternetAddress *first = internet_address_list_get_address(from, 0);
    const char *name = internet_address_get_name(first);
    char *was = internet_address_list_to_string(from, NULL, FALSE);
    const char *replaced = apr_pstrdup(p, was ? was : "");
    g_free(was);
    name = name ? apr_pstrdup(p, name) : NULL;
    internet_address_list_clear(from);
    InternetAddress *ia = internet_address_mailbox_new(name, account);
    internet_address_list_add(from, ia);
    g_object_unref(ia);
    return replaced;
}

void zx_mime_draft_complete(zx_mime_draft *d, const char *account)
{
    GMimeMessage *m = d->m;
    if (!g_mime_message_get_date(m)) {
        GDateTime *now = g_date_time_new_now_local();
        g_mime_message_set_date(m, now);
        g_date_time_unref(now);
    }
    if (!g_mime_message_get_message_id(m)) {
        const char *at = strchr(account, '@');
        char *mid = g_mime_utils_generate_message_id(at ? at + 1 : "localhost");
        g_mime_message_set_message_id(m, mid);
        g_free(mid);
    }
}

void zx_mime_draft_reply_headers(zx_mime_draft *d, const char *message_id,
                                 const char *references)
{
    apr_pool_t *p = d->p;
    GMimeMessage *m = d->m;
    if (!message_id || !*message_id)
        return;
    if (!g_mime_object_get_header(GMIME_OBJECT(m), "In-Reply-To"))
        g_mime_object_set_header(GMIME_OBJECT(m), "In-Reply-To",
                                 apr_psprintf(p, "<%s>", message_id), NULL);
    if (!g_mime_object_get_header(GMIME_OBJECT(m), "References"))
        g_mime_object_set_header(GMIME_OBJECT(m), "References",
                                 apr_psprintf(p, "%s%s<%s>", references ? references : "",
                                              references ? " " : "", message_id), NULL);
}

int zx_mime_draft_is_protected(const zx_mime_draft *d)
{
    return is_protected(d->m);
}

void zx_mime_draft_merge_original(zx_mime_draft *d, const char *orig, apr_size_t orig_len,
                                  const zx_mime_message *om, int forward)
{
    merge_original(d->p, d->m, orig, orig_len, om, forward);
}

apr_array_header_t *zx_mime_draft_recipients(const zx_mime_draft *d)
{
    return recipients_of(d->p, d->m);
}

const char *zx_mime_draft_write(const zx_mime_draft *d, apr_size_t *len)
{
    return zx_mime_gm_write(d->p, d->m, len);
}

int zx_mime_draft_remove_bcc(zx_mime_draft *d)
{
    return g_mime_object_remove_header(GMIME_OBJECT(d->m), "Bcc") ? 1 : 0;
}

/* ---- automatic replies (RFC 3834) --------------------------------------------------------- */

static const char *header_of(GMimeMessage *m, const char *name)
{
    return g_mime_object_get_header(GMIME_OBJECT(m), name);
}

/* 1 when one of the comma- or blank-separated words of v is one of words (without case) */
static int has_word(apr_pool_t *p, const char *v, const char *const *words)
{
    char *last, *copy = apr_pstrdup(p, v);
    for (char *t = apr_strtok(copy, ", \t;", &last); t; t = apr_strtok(NULL, ", \t;", &last))
        for (int i = 0; words[i]; i++)
            if (strcasecmp(t, words[i]) == 0)
                return 1;
    return 0;
}

/* 1 when one of addresses (lower-case addr-specs) is among the list's */
static int list_names(apr_pool_t *p, InternetAddressList *l, const apr_array_header_t *addresses)
{
    if (!l)
        return 0;
    apr_array_header_t *got = apr_array_make(p, 4, sizeof(const char *));
    collect_addrs(p, l, got);
    for (int i = 0; i < got->nelts; i++)
        for (int k = 0; k < addresses->nelts; k++)
            if (strcasecmp(APR_ARRAY_IDX(got, i, const char *),
                           APR_ARRAY_IDX(addresses, k, const char *)) == 0)
                return 1;
    return 0;
}

static int header_names(apr_pool_t *p, GMimeMessage *m, const char *name,
                        const apr_array_header_t *addresses)
{
    const char *v = header_of(m, name);
    if (!v)
        return 0;
    InternetAddressList *l = internet_address_list_parse(NULL, v);
    int rc = list_names(p, l, addresses);
    if (l)
        g_object_unref(l);
    return rc;
}

const char *zx_mime_auto_reply_refusal(apr_pool_t *p, const char *data, apr_size_t len,
                                       const apr_array_header_t *addresses)
{
    GMimeMessage *m = gm_parse(p, data, len);
    if (!m)
        return "not a message";
    const char *v = header_of(m, "Auto-Submitted");
    if (v) {
        const char *s = v;
        while (*s == ' ' || *s == '\t')
            s++;
        if (strncasecmp(s, "no", 2) != 0 || apr_isalnum(s[2]) || s[2] == '-')
            return apr_psprintf(p, "Auto-Submitted: %s", s);
    }
    static const char *const bulk[] = {"bulk", "list", "junk", NULL};
    static const char *const suppress[] = {"OOF", "All", NULL};
    if ((v = header_of(m, "Precedence")) && has_word(p, v, bulk))
        return apr_psprintf(p, "Precedence: %s", v);
    static const char *const list_headers[] = {
        "List-Id", "List-Post", "List-Unsubscribe", "List-Help", "List-Subscribe",
        "List-Owner", "List-Archive", "Mailing-List", NULL};
    for (int i = 0; list_headers[i]; i++)
        if (header_of(m, list_headers[i]))
            return apr_psprintf(p, "a mailing list's message (%s)", list_headers[i]);
    /* what Exchange's senders ask of it ([MS-OXCMAIL] 2.2.3.2.14) */
    if ((v = header_of(m, "X-Auto-Response-Suppress")) && has_word(p, v, suppress))
        return apr_psprintf(p, "X-Auto-Response-Suppress: %s", v);
    /* RFC 3834 3.1.1: only to a message addressed to the recipient by name */
    if (!list_names(p, g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_TO), addresses) &&
        !list_names(p, g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_CC), addresses) &&
        !header_names(p, m, "Resent-To", addresses) && !header_names(p, m, "Resent-Cc", addresses))
        return "the account is not in To or Cc";
    return NULL;
}

const char *zx_mime_compose_auto_reply(apr_pool_t *p, const char *orig, apr_size_t orig_len,
                                       const zx_mime_mailbox *from, const char *to,
                                       const char *text, int html, apr_size_t *len)
{
    GMimeMessage *om = gm_parse(p, orig, orig_len);
    zx_mime_init();
    GMimeMessage *m = pool_own(p, g_mime_message_new(TRUE));
    g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, from->name, from->email);
    g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, NULL, to);
    const char *subject = om ? g_mime_message_get_subject(om) : NULL;
    /* as Exchange titles it */
    g_mime_message_set_subject(m, apr_pstrcat(p, "Automatic reply: ", subject ? subject : "",
                                              NULL), "utf-8");
    GDateTime *now = g_date_time_new_now_local();
    g_mime_message_set_date(m, now);
    g_date_time_unref(now);
    const char *at = strchr(from->email, '@');
    char *mid = g_mime_utils_generate_message_id(at ? at + 1 : "localhost");
    g_mime_message_set_message_id(m, mid);
    g_free(mid);
    const char *omid = om ? g_mime_message_get_message_id(om) : NULL;
    if (omid && *omid) {
        const char *refs = header_of(om, "References");
        g_mime_object_set_header(GMIME_OBJECT(m), "In-Reply-To",
                                 apr_psprintf(p, "<%s>", omid), NULL);
        g_mime_object_set_header(GMIME_OBJECT(m), "References",
                                 apr_psprintf(p, "%s%s<%s>", refs ? refs : "",
                                              refs ? " " : "", omid), NULL);
    }
    /* RFC 3834 5: what it is, and Exchange's senders are asked not to answer it */
    g_mime_object_set_header(GMIME_OBJECT(m), "Auto-Submitted", "auto-replied", NULL);
    g_mime_object_set_header(GMIME_OBJECT(m), "X-Auto-Response-Suppress", "All", NULL);
    GMimeTextPart *tp = g_mime_text_part_new_with_subtype(html ? "html" : "plain");
    set_text(tp, text ? text : "");
    g_mime_message_set_mime_part(m, GMIME_OBJECT(tp));
    g_object_unref(tp);
    return zx_mime_gm_write(p, m, len);
}
