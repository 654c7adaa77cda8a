/* zxmobile - the 2.5 form of an e-mail's body (email25.h).
 *
 * [MS-ASEMAIL] for protocol 2.5: the text in email:Body (2.2.2.10.2), cut to the
 * airsync:Truncation of the request ([MS-ASCMD] 2.2.3.185, characters), with BodySize (the
 * whole body's characters, only when BodyTruncated is 1: 2.2.2.12) and BodyTruncated
 * (2.2.2.13).  When the client enabled MIME (airsync:MIMESupport, [MS-ASCMD] 2.2.3.110.3: 1
 * for S/MIME messages, 2 for every message) the message goes as MIMEData (2.2.2.50) instead,
 * cut to airsync:MIMETruncation ([MS-ASCMD] 2.2.3.111, characters), with MIMETruncated
 * (2.2.2.52) and MIMESize (2.2.2.51: the size of MIMEData when whole, else the MIME's original
 * size).  Elements in token order of [MS-ASWBXML] code page 2 (Body, BodySize, BodyTruncated;
 * MIMEData, MIMETruncated, MIMESize).
 *
 * Characters: the MIME is loaded only up to 4 bytes per character asked for (the most one
 * UTF-8 character takes), so the cut is exact; the original MIMESize of a message that was
 * not loaded whole is its size in bytes (the characters are not counted without loading it;
 * bytes >= characters, and [MS-ASCMD] 2.2.3.111 calls the MIME sizes approximate).  A MIME that
 * is not UTF-8 (an 8-bit body in another charset) is counted and cut in bytes and sent as
 * opaque data.
 */
#include "email25.h"

#include <zxsync/text.h>

#include <apr_strings.h>
#include <string.h>
#include <strings.h>

/* The bytes of the first max characters of the UTF-8 text s (all of it when max < 0) and, in
 * *chars, the number of characters of the whole text. */
static apr_size_t utf8_prefix_chars(const char *s, apr_size_t len, long long max,
                                    apr_size_t *chars)
{
    apr_size_t n = 0, cut = len;
    for (apr_size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80)
            continue;
        if (max >= 0 && n == (apr_size_t)max && cut == len)
            cut = i;
        n++;
    }
    *chars = n;
    return cut;
}

static int sends_mime(const zx_class_opts *o, const zx_item *it)
{
    if (o->mime_support == 2)
        return 1;
    return o->mime_support == 1 && it->message_class &&
           strncasecmp(it->message_class, "IPM.Note.SMIME", 14) == 0;
}

void zx_email25_content_want(const zx_class_opts *o, zx_content_want *want)
{
    want->plain = -1;           /* BodySize counts the whole text */
    want->html = 0;
    want->mime = 0;
    if (o->mime_support >= 1)
        want->mime = o->mime_truncation < 0 ? -1 : o->mime_truncation * 4;
}

static void render_mime(apr_pool_t *p, const zx_class_opts *o, const zx_item_content *c,
                        zx_wb_node *parent)
{
    const char *d = c->mime ? c->mime : "";
    apr_size_t len = c->mime ? c->mime_len : 0;
    int whole = len >= c->mime_size;
    apr_size_t size, cut;
    int text = zx_utf8_text(d, len) && memchr(d, '\0', len) == NULL;
    if (text) {
        apr_size_t chars;
        cut = utf8_prefix_chars(d, len, o->mime_truncation, &chars);
        size = whole ? chars : c->mime_size;
    }
    else {
        cut = o->mime_truncation >= 0 && len > (apr_size_t)o->mime_truncation
            ? (apr_size_t)o->mime_truncation : len;
        size = whole ? len : c->mime_size;
    }
    int truncated = cut < len || !whole;
    if (text)
        zx_wb_add_text(p, parent, ZX_Email_MIMEData, apr_pstrmemdup(p, d, cut));
    else
        zx_wb_add_opaque(p, parent, ZX_Email_MIMEData, apr_pmemdup(p, d, cut ? cut : 1), cut);
    zx_wb_add_text(p, parent, ZX_Email_MIMETruncated, truncated ? "1" : "0");
    zx_wb_add_textf(p, parent, ZX_Email_MIMESize, "%" APR_SIZE_T_FMT, size);
}

void zx_email25_render_body(apr_pool_t *p, const zx_class_opts *o, const zx_item *it,
                            const zx_item_content *c, zx_wb_node *parent)
{
    if (sends_mime(o, it)) {
        render_mime(p, o, c, parent);
        return;
    }
    const char *text = c->text_plain ? c->text_plain : "";
    apr_size_t len = strlen(text), chars;
    apr_size_t cut = utf8_prefix_chars(text, len, o->truncation, &chars);
    zx_wb_add_text(p, parent, ZX_Email_Body, cut < len ? apr_pstrndup(p, text, cut) : text);
    if (cut < len)
        zx_wb_add_textf(p, parent, ZX_Email_BodySize, "%" APR_SIZE_T_FMT, chars);
    zx_wb_add_text(p, parent, ZX_Email_BodyTruncated, cut < len ? "1" : "0");
}
