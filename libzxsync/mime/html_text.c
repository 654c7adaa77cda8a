/* zxmobile - plain text from HTML (zxsync/mime.h: zx_mime_html_to_text), for a client that
 * asks for plain text of an HTML-only message, and HTML from plain text (zx_mime_text_to_html). */
#include <zxsync/mime.h>
#include <zxsync/text.h>
#include <zxsync/buf.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* ---- text to HTML ------------------------------------------------------------------------------ */

const char *zx_mime_text_to_html(apr_pool_t *p, const char *text, zx_html_shape shape)
{
    apr_size_t len = strlen(text);
    zx_buf b;
    zx_buf_init(&b, p, len + len / 8 + 64);
    if (shape == ZX_HTML_DOCUMENT) {
        zx_buf_puts(&b, "<html><body><pre>");
        zx_buf_xml_escape(&b, text, len);
        zx_buf_puts(&b, "</pre></body></html>");
        return b.data;
    }
    for (const char *c = text; *c; c++) {
        switch (*c) {
        case '&': zx_buf_puts(&b, "&amp;"); break;
        case '<': zx_buf_puts(&b, "&lt;"); break;
        case '>': zx_buf_puts(&b, "&gt;"); break;
        case '\n': zx_buf_puts(&b, "<br>"); break;
        case '\r': break;
        default: zx_buf_putc(&b, *c);
        }
    }
    return b.data;
}

/* ---- preview ------------------------------------------------------------------------------------ */

const char *zx_mime_preview(apr_pool_t *p, const char *text)
{
    zx_buf b;
    zx_buf_init(&b, p, 256);
    int chars = 0, space = 0;
    for (const unsigned char *s = (const unsigned char *)(text ? text : ""); *s && chars < 255;) {
        if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\f' || *s == '\v') {
            space = b.len > 0;
            s++;
            continue;
        }
        if (space) {
            zx_buf_putc(&b, ' ');
            chars++;
            space = 0;
            if (chars >= 255)
                break;
        }
        apr_size_t n = 1;
        while (s[n] && (s[n] & 0xC0) == 0x80)
            n++;
        zx_buf_append(&b, s, n);
        s += n;
        chars++;
    }
    return b.data;
}
