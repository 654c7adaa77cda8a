/* zxmobile - WBXML 1.3 codec for ActiveSync ([MS-ASWBXML]).
 *
 * The decoder is iterative (an explicit element stack bounded by max_depth), checks every
 * length against the end of the input before it reads, and never copies text: text and
 * opaque nodes point into the caller's buffer.  The encoder sizes its output in a first
 * pass and writes it in a second, so it allocates exactly once.
 */
#include <zxsync/wbxml.h>
#include <zxsync/buf.h>
#include <zxsync/text.h>

#include <apr_base64.h>
#include <apr_strings.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <string.h>

/* Global tokens (WBXML 1.3 section 7.1) */
enum {
    WB_SWITCH_PAGE = 0x00,
    WB_END = 0x01,
    WB_ENTITY = 0x02,
    WB_STR_I = 0x03,
    WB_LITERAL = 0x04,
    WB_EXT_I_0 = 0x40,
    WB_EXT_I_1 = 0x41,
    WB_EXT_I_2 = 0x42,
    WB_PI = 0x43,
    WB_LITERAL_C = 0x44,
    WB_EXT_T_0 = 0x80,
    WB_EXT_T_1 = 0x81,
    WB_EXT_T_2 = 0x82,
    WB_STR_T = 0x83,
    WB_LITERAL_A = 0x84,
    WB_EXT_0 = 0xC0,
    WB_EXT_1 = 0xC1,
    WB_EXT_2 = 0xC2,
    WB_OPAQUE = 0xC3,
    WB_LITERAL_AC = 0xC4
};

#define WB_TAG_CONTENT 0x40
#define WB_TAG_ATTRS   0x80
#define WB_CHARSET_UTF8 0x6A

static const char *const errstr[ZX_WBXML_ERR_COUNT_] = {
    [ZX_WBXML_OK] = "ok",
    [ZX_WBXML_EEMPTY] = "empty document: no root element",
    [ZX_WBXML_ETOOBIG] = "document larger than the configured limit",
    [ZX_WBXML_ETRUNC] = "truncated document",
    [ZX_WBXML_EVERSION] = "unsupported WBXML version",
    [ZX_WBXML_ECHARSET] = "unsupported charset (only UTF-8 is accepted)",
    [ZX_WBXML_EMBINT] = "malformed multi-byte integer",
    [ZX_WBXML_EPAGE] = "unknown code page",
    [ZX_WBXML_ETOKEN] = "unknown tag token on the current code page",
    [ZX_WBXML_EATTR] = "attributes are not allowed",
    [ZX_WBXML_EUNSUPPORTED] = "global token not used by ActiveSync (literal, extension, PI, entity)",
    [ZX_WBXML_ESTRTBL] = "string tables are not used by ActiveSync",
    [ZX_WBXML_EDEPTH] = "elements nested deeper than the limit",
    [ZX_WBXML_ESTRUCT] = "malformed document structure",
    [ZX_WBXML_EUTF8] = "text is not valid UTF-8 (or opaque text holds a NUL)",
    [ZX_WBXML_EENCODE] = "tree cannot be encoded",
    [ZX_WBXML_EXML] = "malformed or unknown XML",
    [ZX_WBXML_ENODES] = "more elements and strings than the limit",
};

const char *zx_wbxml_strerror(zx_wbxml_status st)
{
    if ((unsigned)st < ZX_WBXML_ERR_COUNT_ && errstr[st])
        return errstr[st];
    return "unknown WBXML error";
}

/* ---- UTF-8 validation ------------------------------------------------------------- */

/* The elements whose content is a byte array ([MS-ASDTYPE] 2.7.1, sent as opaque data): MIME,
 * conversation ids/indexes, body and fetched data.  Opaque data anywhere else stands for a
 * string - FolderCreate DisplayName, Settings values, ClientId, CollectionId, FileReference,
 * ... - and must be what an inline string is: UTF-8 without a NUL.  Refused in the decoder
 * (zx_wbxml_limits.opaque_is_text, set for request bodies), every command answers such a body
 * as invalid WBXML (Status 102 / HTTP 400) instead of cutting the string at a NUL or echoing
 * bytes that are not text. */
static int opaque_may_be_binary(unsigned tag)
{
    switch (tag) {
    case ZX_ComposeMail_Mime:
    case ZX_Email_MIMEData:
    case ZX_Email2_ConversationId:
    case ZX_Email2_ConversationIndex:
    case ZX_Search_ConversationId:
    case ZX_ItemOperations_ConversationId:
    case ZX_ItemOperations_Data:
    case ZX_AirSyncBase_Data:
    case ZX_AirSyncBase_Content:    /* a 16.x draft's attachment ([MS-ASAIRS] 2.2.2.15) */
        return 1;
    default:
        return 0;
    }
}

/* ---- decoder ---------------------------------------------------------------------- */

typedef struct {
    const unsigned char *start, *p, *end;
} reader;

static zx_wbxml_status read_mbint(reader *r, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 5; i++) {
        if (r->p >= r->end)
            return ZX_WBXML_ETRUNC;
        unsigned char b = *r->p++;
        if (v > (UINT32_MAX >> 7))
            return ZX_WBXML_EMBINT;
        v = (v << 7) | (b & 0x7F);
        if (!(b & 0x80)) {
            *out = v;
            return ZX_WBXML_OK;
        }
    }
    return ZX_WBXML_EMBINT;
}

static zx_wb_node *node_alloc(apr_pool_t *p, zx_wb_kind kind)
{
    zx_wb_node *n = apr_palloc(p, sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    return n;
}

void zx_wb_append(zx_wb_node *parent, zx_wb_node *child)
{
    child->next = NULL;
    if (parent->last)
        parent->last->next = child;
    else
        parent->first = child;
    parent->last = child;
}

zx_wbxml_status zx_wbxml_decode(apr_pool_t *p, const unsigned char *buf, apr_size_t len,
                                const zx_wbxml_limits *lim, zx_wb_node **root_out,
                                apr_size_t *err_offset)
{
    apr_size_t max_size = lim && lim->max_size ? lim->max_size : ZX_WBXML_DEFAULT_MAX_SIZE;
    unsigned max_depth = lim && lim->max_depth ? lim->max_depth : ZX_WBXML_DEFAULT_MAX_DEPTH;
    apr_size_t max_nodes = lim && lim->max_nodes ? lim->max_nodes : ZX_WBXML_DEFAULT_MAX_NODES;
    apr_size_t nodes = 0;
    int opaque_text = lim && lim->opaque_is_text;
    reader r = {buf, buf, buf + len};
    zx_wbxml_status st = ZX_WBXML_OK;
    zx_wb_node *root = NULL;
    zx_wb_node **stack = NULL;
    unsigned depth = 0;
    unsigned page = 0;
    uint32_t v, strtbl_len = 0;

    *root_out = NULL;
#define FAIL(code) do { st = (code); goto fail; } while (0)
#define TRY(expr) do { if ((st = (expr)) != ZX_WBXML_OK) goto fail; } while (0)

    if (!buf || len == 0)
        FAIL(ZX_WBXML_EEMPTY);
    if (len > max_size)
        FAIL(ZX_WBXML_ETOOBIG);

    /* header: version, publicid, charset, string table */
    if (*r.p < 0x01 || *r.p > 0x03)
        FAIL(ZX_WBXML_EVERSION);
    r.p++;
    /* [MS-ASWBXML] 2.1.3: ActiveSync does not use string tables, entities, processing
     * instructions or attributes.  A public id given as a string-table index (0) and a
     * non-empty string table are therefore refused. */
    TRY(read_mbint(&r, &v));
    if (v == 0)
        FAIL(ZX_WBXML_ESTRTBL);
    TRY(read_mbint(&r, &v));
    if (v != WB_CHARSET_UTF8)
        FAIL(ZX_WBXML_ECHARSET);
    TRY(read_mbint(&r, &strtbl_len));
    if (strtbl_len != 0)
        FAIL(ZX_WBXML_ESTRTBL);

    stack = apr_palloc(p, sizeof(*stack) * max_depth);

    while (r.p < r.end) {
        const unsigned char *tokpos = r.p;
        if (root && depth == 0)
            FAIL(ZX_WBXML_ESTRUCT);     /* nothing may follow the root element */
        unsigned char b = *r.p++;
        switch (b) {
        case WB_SWITCH_PAGE:
            if (r.p >= r.end)
                FAIL(ZX_WBXML_ETRUNC);
            page = *r.p++;
            if (!zx_wb_page_name(page)) {
                r.p = tokpos;
                FAIL(ZX_WBXML_EPAGE);
            }
            break;
        case WB_END:
            if (depth == 0) {
                r.p = tokpos;
                FAIL(ZX_WBXML_ESTRUCT);
            }
            depth--;
            if (depth == 0 && r.p < r.end) {
                /* only the root element may follow the header */
                FAIL(ZX_WBXML_ESTRUCT);
            }
            break;
        case WB_STR_I: {
            if (depth == 0) {
                r.p = tokpos;
                FAIL(ZX_WBXML_ESTRUCT);
            }
            const unsigned char *nul = memchr(r.p, 0, (apr_size_t)(r.end - r.p));
            if (!nul)
                FAIL(ZX_WBXML_ETRUNC);
            if (!zx_utf8_valid((const char *)r.p, (apr_size_t)(nul - r.p)))
                FAIL(ZX_WBXML_EUTF8);
            if (++nodes > max_nodes) {
                r.p = tokpos;
                FAIL(ZX_WBXML_ENODES);
            }
            zx_wb_node *t = node_alloc(p, ZX_WB_TEXT);
            t->data = (const char *)r.p;
            t->len = (apr_size_t)(nul - r.p);
            zx_wb_append(stack[depth - 1], t);
            r.p = nul + 1;
            break;
        }
        case WB_STR_T:      /* string table reference: no string tables in ActiveSync */
            r.p = tokpos;
            FAIL(ZX_WBXML_ESTRTBL);
        case WB_OPAQUE: {
            if (depth == 0) {
                r.p = tokpos;
                FAIL(ZX_WBXML_ESTRUCT);
            }
            TRY(read_mbint(&r, &v));
            if (v > (apr_size_t)(r.end - r.p))
                FAIL(ZX_WBXML_ETRUNC);
            if (++nodes > max_nodes) {
                r.p = tokpos;
                FAIL(ZX_WBXML_ENODES);
            }
            if (opaque_text && !opaque_may_be_binary(stack[depth - 1]->tag) &&
                !zx_utf8_text((const char *)r.p, v))
                FAIL(ZX_WBXML_EUTF8);
            zx_wb_node *t = node_alloc(p, ZX_WB_OPAQUE);
            t->data = (const char *)r.p;
            t->len = v;
            zx_wb_append(stack[depth - 1], t);
            r.p += v;
            break;
        }
        case WB_ENTITY:
        case WB_LITERAL:
        case WB_LITERAL_C:
        case WB_LITERAL_A:
        case WB_LITERAL_AC:
        case WB_EXT_I_0:
        case WB_EXT_I_1:
        case WB_EXT_I_2:
        case WB_EXT_T_0:
        case WB_EXT_T_1:
        case WB_EXT_T_2:
        case WB_EXT_0:
        case WB_EXT_1:
        case WB_EXT_2:
        case WB_PI:
            r.p = tokpos;
            FAIL(ZX_WBXML_EUNSUPPORTED);
        default: {
            if (b & WB_TAG_ATTRS) {
                r.p = tokpos;
                FAIL(ZX_WBXML_EATTR);
            }
            unsigned tag = (page << 8) | (b & 0x3F);
            if (!zx_wb_tag_known(tag)) {
                r.p = tokpos;
                FAIL(ZX_WBXML_ETOKEN);
            }
            if (depth == 0 && root) {
                r.p = tokpos;
                FAIL(ZX_WBXML_ESTRUCT);
            }
            if (++nodes > max_nodes) {
                r.p = tokpos;
                FAIL(ZX_WBXML_ENODES);
            }
            zx_wb_node *e = node_alloc(p, ZX_WB_ELEMENT);
            e->tag = (uint16_t)tag;
            if (depth == 0)
                root = e;
            else
                zx_wb_append(stack[depth - 1], e);
            if (b & WB_TAG_CONTENT) {
                e->flags |= ZX_WB_F_CONTENT;
                if (depth >= max_depth) {
                    r.p = tokpos;
                    FAIL(ZX_WBXML_EDEPTH);
                }
                stack[depth++] = e;
            }
            break;
        }
        }
    }
    if (depth != 0)
        FAIL(ZX_WBXML_ETRUNC);
    if (!root)
        FAIL(ZX_WBXML_EEMPTY);
    *root_out = root;
    return ZX_WBXML_OK;

fail:
    if (err_offset)
        *err_offset = (apr_size_t)(r.p - r.start);
    return st;
#undef FAIL
#undef TRY
}

/* ---- encoder ---------------------------------------------------------------------- */

typedef struct {
    unsigned char *out;   /* NULL while sizing */
    apr_size_t n;
    unsigned page;
} writer;

static void w_byte(writer *w, unsigned char b)
{
    if (w->out)
        w->out[w->n] = b;
    w->n++;
}

static void w_bytes(writer *w, const void *d, apr_size_t len)
{
    if (w->out)
        memcpy(w->out + w->n, d, len);
    w->n += len;
}

static void w_mbint(writer *w, uint32_t v)
{
    unsigned char tmp[5];
    int i = 4;
    tmp[i] = v & 0x7F;
    while (v >>= 7)
        tmp[--i] = 0x80 | (v & 0x7F);
    w_bytes(w, tmp + i, (apr_size_t)(5 - i));
}

static zx_wbxml_status enc_node(writer *w, const zx_wb_node *n, unsigned depth)
{
    if (depth > 4 * ZX_WBXML_DEFAULT_MAX_DEPTH)
        return ZX_WBXML_EENCODE;
    switch (n->kind) {
    case ZX_WB_TEXT:
        /* STR_I cannot carry a NUL (use opaque); checked once, in the sizing pass */
        if (!w->out && memchr(n->data, 0, n->len))
            return ZX_WBXML_EENCODE;
        w_byte(w, WB_STR_I);
        w_bytes(w, n->data, n->len);
        w_byte(w, 0);
        return ZX_WBXML_OK;
    case ZX_WB_OPAQUE:
        if (n->len > UINT32_MAX)
            return ZX_WBXML_EENCODE;
        w_byte(w, WB_OPAQUE);
        w_mbint(w, (uint32_t)n->len);
        w_bytes(w, n->data, n->len);
        return ZX_WBXML_OK;
    case ZX_WB_ELEMENT:
        break;
    default:
        return ZX_WBXML_EENCODE;
    }
    if (!w->out && !zx_wb_tag_known(n->tag))
        return ZX_WBXML_EENCODE;
    unsigned page = ZX_WB_PAGE(n->tag);
    if (page != w->page) {
        w_byte(w, WB_SWITCH_PAGE);
        w_byte(w, (unsigned char)page);
        w->page = page;
    }
    int content = n->first != NULL || (n->flags & ZX_WB_F_CONTENT);
    w_byte(w, (unsigned char)(ZX_WB_TOKEN(n->tag) | (content ? WB_TAG_CONTENT : 0)));
    if (!content)
        return ZX_WBXML_OK;
    for (const zx_wb_node *c = n->first; c; c = c->next) {
        zx_wbxml_status st = enc_node(w, c, depth + 1);
        if (st != ZX_WBXML_OK)
            return st;
    }
    w_byte(w, WB_END);
    return ZX_WBXML_OK;
}

static zx_wbxml_status enc_doc(writer *w, const zx_wb_node *root)
{
    static const unsigned char header[] = {0x03, 0x01, WB_CHARSET_UTF8, 0x00};
    w_bytes(w, header, sizeof header);
    w->page = 0;
    return enc_node(w, root, 0);
}

zx_wbxml_status zx_wbxml_encode(apr_pool_t *p, const zx_wb_node *root, unsigned char **out,
                                apr_size_t *outlen)
{
    if (!root || root->kind != ZX_WB_ELEMENT)
        return ZX_WBXML_EENCODE;
    writer w = {NULL, 0, 0};
    zx_wbxml_status st = enc_doc(&w, root);
    if (st != ZX_WBXML_OK)
        return st;
    apr_size_t size = w.n;
    w.out = apr_palloc(p, size ? size : 1);
    w.n = 0;
    enc_doc(&w, root);
    *out = w.out;
    *outlen = size;
    return ZX_WBXML_OK;
}

/* ---- building and navigation ------------------------------------------------------ */

zx_wb_node *zx_wb_new(apr_pool_t *p, unsigned tag)
{
    zx_wb_node *n = node_alloc(p, ZX_WB_ELEMENT);
    n->tag = (uint16_t)tag;
    return n;
}

zx_wb_node *zx_wb_add(apr_pool_t *p, zx_wb_node *parent, unsigned tag)
{
    zx_wb_node *n = zx_wb_new(p, tag);
    zx_wb_append(parent, n);
    return n;
}

static void add_text_node(apr_pool_t *p, zx_wb_node *e, const char *text, apr_size_t len)
{
    zx_wb_node *t = node_alloc(p, ZX_WB_TEXT);
    t->data = text;
    t->len = len;
    zx_wb_append(e, t);
}

zx_wb_node *zx_wb_add_text(apr_pool_t *p, zx_wb_node *parent, unsigned tag, const char *text)
{
    zx_wb_node *e = zx_wb_add(p, parent, tag);
    add_text_node(p, e, text, strlen(text));
    return e;
}

zx_wb_node *zx_wb_add_textf(apr_pool_t *p, zx_wb_node *parent, unsigned tag,
                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    return zx_wb_add_text(p, parent, tag, s);
}

zx_wb_node *zx_wb_add_opaque(apr_pool_t *p, zx_wb_node *parent, unsigned tag,
                             const void *data, apr_size_t len)
{
    zx_wb_node *e = zx_wb_add(p, parent, tag);
    zx_wb_node *t = node_alloc(p, ZX_WB_OPAQUE);
    t->data = data;
    t->len = len;
    zx_wb_append(e, t);
    return e;
}

zx_wb_node *zx_wb_child(const zx_wb_node *n, unsigned tag)
{
    if (!n)
        return NULL;
    for (zx_wb_node *c = n->first; c; c = c->next)
        if (c->kind == ZX_WB_ELEMENT && c->tag == tag)
            return c;
    return NULL;
}

zx_wb_node *zx_wb_next(const zx_wb_node *n, unsigned tag)
{
    for (zx_wb_node *c = n ? n->next : NULL; c; c = c->next)
        if (c->kind == ZX_WB_ELEMENT && c->tag == tag)
            return c;
    return NULL;
}

const char *zx_wb_text(apr_pool_t *p, const zx_wb_node *n)
{
    if (!n)
        return NULL;
    const zx_wb_node *only = NULL;
    apr_size_t total = 0;
    int pieces = 0;
    for (const zx_wb_node *c = n->first; c; c = c->next) {
        if (c->kind == ZX_WB_ELEMENT)
            continue;
        only = c;
        total += c->len;
        pieces++;
    }
    if (pieces == 0)
        return NULL;
    if (pieces == 1 && only->kind == ZX_WB_TEXT)
        return only->data;   /* NUL-terminated in place */
    char *s = apr_palloc(p, total + 1), *o = s;
    for (const zx_wb_node *c = n->first; c; c = c->next) {
        if (c->kind == ZX_WB_ELEMENT)
            continue;
        memcpy(o, c->data, c->len);
        o += c->len;
    }
    *o = '\0';
    return s;
}

const char *zx_wb_child_text(apr_pool_t *p, const zx_wb_node *n, unsigned tag)
{
    return zx_wb_text(p, zx_wb_child(n, tag));
}

/* ---- XML conversion --------------------------------------------------------------- */

static void xml_node(zx_buf *b, apr_pool_t *p, const zx_wb_node *n, unsigned parent_page,
                     int pretty, unsigned depth)
{
    const char *name = zx_wb_tag_name(n->tag);
    unsigned page = ZX_WB_PAGE(n->tag);
    int has_elements = 0, has_opaque = 0;
    for (const zx_wb_node *c = n->first; c; c = c->next) {
        if (c->kind == ZX_WB_ELEMENT)
            has_elements = 1;
        else if (c->kind == ZX_WB_OPAQUE)
            has_opaque = 1;
    }
    if (pretty)
        for (unsigned i = 0; i < depth; i++)
            zx_buf_puts(b, "  ");
    zx_buf_putc(b, '<');
    zx_buf_puts(b, name ? name : "Unknown");
    if (page != parent_page || depth == 0) {
        zx_buf_puts(b, " xmlns=\"");
        zx_buf_puts(b, zx_wb_page_ns(page));
        zx_buf_putc(b, '"');
    }
    if (has_opaque && !has_elements)
        zx_buf_puts(b, " opaque=\"base64\"");
    if (!n->first) {
        zx_buf_puts(b, "/>");
        if (pretty)
            zx_buf_putc(b, '\n');
        return;
    }
    zx_buf_putc(b, '>');
    if (has_elements && pretty)
        zx_buf_putc(b, '\n');
    for (const zx_wb_node *c = n->first; c; c = c->next) {
        if (c->kind == ZX_WB_ELEMENT) {
            xml_node(b, p, c, page, pretty, depth + 1);
        }
        else if (c->kind == ZX_WB_TEXT) {
            zx_buf_xml_escape(b, c->data, c->len);
        }
        else {
            if (has_elements) {
                zx_buf_printf(b, "<!-- opaque %lu bytes -->", (unsigned long)c->len);
                continue;
            }
            int enclen = apr_base64_encode_len((int)c->len);
            char *enc = apr_palloc(p, (apr_size_t)enclen);
            apr_base64_encode(enc, c->data, (int)c->len);
            zx_buf_puts(b, enc);
        }
    }
    if (has_elements && pretty)
        for (unsigned i = 0; i < depth; i++)
            zx_buf_puts(b, "  ");
    zx_buf_puts(b, "</");
    zx_buf_puts(b, name ? name : "Unknown");
    zx_buf_putc(b, '>');
    if (pretty)
        zx_buf_putc(b, '\n');
}

char *zx_wbxml_to_xml(apr_pool_t *p, const zx_wb_node *root, int pretty)
{
    zx_buf b;
    zx_buf_init(&b, p, 1024);
    if (root)
        xml_node(&b, p, root, ZX_PAGE_COUNT_, pretty, 0);
    return b.data;
}

static int xml_blank(const xmlChar *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 0;
    return 1;
}

/* Base64 text without XML white space, if it is strict base64 (alphabet, '=' padding only
 * at the end, length a multiple of 4); NULL otherwise. */
static const char *strict_base64(apr_pool_t *p, const char *in)
{
    const char *out = zx_base64_strip(p, in);
    return out && strlen(out) % 4 == 0 ? out : NULL;
}

static zx_wb_node *xml_elem(apr_pool_t *p, xmlNode *x, unsigned depth, const char **err)
{
    if (depth > ZX_WBXML_DEFAULT_MAX_DEPTH) {
        *err = "XML nested too deeply";
        return NULL;
    }
    const char *ns = x->ns && x->ns->href ? (const char *)x->ns->href : "";
    int page = zx_wb_page_by_ns(ns);
    if (page < 0) {
        *err = apr_psprintf(p, "unknown namespace \"%s\" on <%s>", ns, (const char *)x->name);
        return NULL;
    }
    int tag = zx_wb_tag_lookup((unsigned)page, (const char *)x->name);
    if (tag < 0) {
        *err = apr_psprintf(p, "unknown element <%s> in namespace \"%s\"",
                            (const char *)x->name, ns);
        return NULL;
    }
    zx_wb_node *e = zx_wb_new(p, (unsigned)tag);
    xmlChar *opaque = xmlGetNoNsProp(x, (const xmlChar *)"opaque");
    int is_opaque = opaque && strcmp((const char *)opaque, "base64") == 0;
    xmlFree(opaque);
    int has_elements = 0;
    for (xmlNode *c = x->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            has_elements = 1;
    for (xmlNode *c = x->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) {
            zx_wb_node *ce = xml_elem(p, c, depth + 1, err);
            if (!ce)
                return NULL;
            zx_wb_append(e, ce);
        }
        else if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (has_elements && xml_blank(c->content))
                continue;
            const char *txt = apr_pstrdup(p, (const char *)c->content);
            if (is_opaque) {
                const char *clean = strict_base64(p, txt);
                if (!clean) {
                    *err = apr_psprintf(p, "<%s opaque=\"base64\"> does not hold valid base64",
                                        (const char *)x->name);
                    return NULL;
                }
                zx_wb_node *t = node_alloc(p, ZX_WB_OPAQUE);
                char *dec = apr_palloc(p, (apr_size_t)apr_base64_decode_len(clean) + 1);
                t->len = (apr_size_t)apr_base64_decode(dec, clean);
                t->data = dec;
                zx_wb_append(e, t);
            }
            else {
                add_text_node(p, e, txt, strlen(txt));
            }
        }
    }
    if (is_opaque && !e->first) {
        zx_wb_node *t = node_alloc(p, ZX_WB_OPAQUE);
        t->data = "";
        zx_wb_append(e, t);
    }
    return e;
}

zx_wbxml_status zx_wbxml_from_xml(apr_pool_t *p, const char *xml, apr_size_t len,
                                  zx_wb_node **root, const char **errmsg)
{
    const char *err = NULL;
    *root = NULL;
    if (len > INT32_MAX) {
        if (errmsg)
            *errmsg = "XML document too large";
        return ZX_WBXML_EXML;
    }
    xmlDoc *doc = xmlReadMemory(xml, (int)len, "request.xml", "UTF-8",
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *xe = xmlGetLastError();
        if (errmsg)
            *errmsg = apr_psprintf(p, "malformed XML: %s",
                                   xe && xe->message ? xe->message : "parse error");
        return ZX_WBXML_EXML;
    }
    xmlNode *x = xmlDocGetRootElement(doc);
    zx_wb_node *r = x ? xml_elem(p, x, 0, &err) : NULL;
    if (!x)
        err = "no root element";
    xmlFreeDoc(doc);
    if (!r) {
        if (errmsg)
            *errmsg = err;
        return ZX_WBXML_EXML;
    }
    *root = r;
    return ZX_WBXML_OK;
}
