/* zxmobile - WBXML codec ([MS-ASWBXML], WBXML 1.3) and the ActiveSync code pages.
 *
 * As [MS-ASWBXML] 2.1.3 says, only tags, code pages, inline strings and opaque data are
 * used: string tables, entities, processing instructions and attributes are refused.
 * A decoded document is a tree of zx_wb_node allocated from an APR pool.  Text and opaque
 * content point into the decoded buffer (zero copy), so the buffer must outlive the tree.
 * Tags are 16-bit values (code page << 8 | token) with symbolic names generated from the
 * code page data in wbxml_tags.def: ZX_AirSync_Sync, ZX_FolderHierarchy_FolderSync, ...
 */
#ifndef ZXSYNC_WBXML_H
#define ZXSYNC_WBXML_H

#include <apr_pools.h>
#include <stdint.h>

/* Code page numbers: ZX_PAGE_AirSync = 0 ... ZX_PAGE_Find = 25. */
typedef enum {
#define ZXW_PAGE(num, name, ns) ZX_PAGE_##name = (num),
#define ZXW_TAG(page, tok, name)
#include <zxsync/wbxml_tags.def>
#undef ZXW_PAGE
#undef ZXW_TAG
    ZX_PAGE_COUNT_
} zx_wb_page;

/* Tags: ZX_<Page>_<Tag> = page << 8 | token. */
typedef enum {
#define ZXW_PAGE(num, name, ns)
#define ZXW_TAG(page, tok, name) ZX_##page##_##name = (ZX_PAGE_##page << 8) | (tok),
#include <zxsync/wbxml_tags.def>
#undef ZXW_PAGE
#undef ZXW_TAG
    ZX_TAG_NONE_ = 0xFFFF
} zx_wb_tag;

#define ZX_WB_PAGE(tag)  ((unsigned)(tag) >> 8)
#define ZX_WB_TOKEN(tag) ((unsigned)(tag) & 0x3F)

typedef enum {
    ZX_WB_ELEMENT = 0,
    ZX_WB_TEXT,         /* STR_I / STR_T: NUL-terminated UTF-8, len excludes the NUL */
    ZX_WB_OPAQUE        /* OPAQUE: len bytes, may contain NULs */
} zx_wb_kind;

/* Node flags */
#define ZX_WB_F_CONTENT 0x01  /* element was/should be encoded with the content bit even if empty */

typedef struct zx_wb_node zx_wb_node;
struct zx_wb_node {
    zx_wb_node *next;       /* next sibling */
    zx_wb_node *first;      /* first child (elements) */
    zx_wb_node *last;       /* last child (elements) */
    const char *data;       /* text or opaque bytes */
    apr_size_t len;
    uint16_t tag;           /* elements */
    uint8_t kind;           /* zx_wb_kind */
    uint8_t flags;
};

/* Decoder results.  Every failure has its own code. */
typedef enum {
    ZX_WBXML_OK = 0,
    ZX_WBXML_EEMPTY,      /* no input or no root element */
    ZX_WBXML_ETOOBIG,     /* input larger than the limit */
    ZX_WBXML_ETRUNC,      /* input ends inside a token, string or element */
    ZX_WBXML_EVERSION,    /* unsupported WBXML version byte */
    ZX_WBXML_ECHARSET,    /* charset other than UTF-8 (0x6A) */
    ZX_WBXML_EMBINT,      /* malformed mb_u_int32 (too long or over 32 bits) */
    ZX_WBXML_EPAGE,       /* SWITCH_PAGE to an unknown code page */
    ZX_WBXML_ETOKEN,      /* tag token unknown on the current code page */
    ZX_WBXML_EATTR,       /* attributes (EAS uses none) */
    ZX_WBXML_EUNSUPPORTED,/* LITERAL*, EXT*, PI, ENTITY: not used by ActiveSync */
    ZX_WBXML_ESTRTBL,     /* string table, STR_T or string-table public id (unused in EAS) */
    ZX_WBXML_EDEPTH,      /* nesting deeper than the limit */
    ZX_WBXML_ESTRUCT,     /* content outside the root, END without element, stray data */
    ZX_WBXML_EUTF8,       /* text is not valid UTF-8 */
    ZX_WBXML_EENCODE,     /* encoder: invalid tree (unknown tag, bad node) */
    ZX_WBXML_EXML,        /* XML conversion: malformed XML or unknown element */
    ZX_WBXML_ENODES,      /* more nodes (elements, texts, opaque data) than the limit */
    ZX_WBXML_ERR_COUNT_
} zx_wbxml_status;

typedef struct {
    apr_size_t max_size;   /* bytes; 0 = ZX_WBXML_DEFAULT_MAX_SIZE */
    unsigned max_depth;    /* 0 = ZX_WBXML_DEFAULT_MAX_DEPTH */
    apr_size_t max_nodes;  /* nodes of the tree (each a zx_wb_node, ~48 bytes, for as little
                              as one input byte); checked while decoding, before the node is
                              allocated; 0 = ZX_WBXML_DEFAULT_MAX_NODES */
    /* 1 (a request body): opaque data is text - UTF-8 without a NUL, else ZX_WBXML_EUTF8 -
     * except in the byte-array elements ([MS-ASDTYPE] 2.7.1: MIME, conversation ids, data) */
    int opaque_is_text;
} zx_wbxml_limits;

#define ZX_WBXML_DEFAULT_MAX_SIZE  (64u * 1024u * 1024u)
#define ZX_WBXML_DEFAULT_MAX_DEPTH 64u
#define ZX_WBXML_DEFAULT_MAX_NODES (1024u * 1024u)

const char *zx_wbxml_strerror(zx_wbxml_status st);

/* Decode buf into a tree.  On error *err_offset (if not NULL) is the byte offset where the
 * problem was found. */
zx_wbxml_status zx_wbxml_decode(apr_pool_t *p, const unsigned char *buf, apr_size_t len,
                                const zx_wbxml_limits *lim, zx_wb_node **root,
                                apr_size_t *err_offset);

/* Encode a tree (WBXML 1.3, public id 1, UTF-8, no string table). */
zx_wbxml_status zx_wbxml_encode(apr_pool_t *p, const zx_wb_node *root,
                                unsigned char **out, apr_size_t *outlen);

/* Readable XML (namespaces are the code pages' names as MS-ASWBXML 2.1.2.1 spells them, e.g. xmlns="AirSync").
 * Opaque content is written as base64 in an element carrying opaque="base64". */
char *zx_wbxml_to_xml(apr_pool_t *p, const zx_wb_node *root, int pretty);
/* Parse that XML back into a tree. *errmsg (pool string) says what is wrong. */
zx_wbxml_status zx_wbxml_from_xml(apr_pool_t *p, const char *xml, apr_size_t len,
                                  zx_wb_node **root, const char **errmsg);

/* Code page data */
int zx_wb_tag_known(unsigned tag);
const char *zx_wb_tag_name(unsigned tag);          /* NULL if unknown */
const char *zx_wb_page_name(unsigned page);        /* NULL if unknown */
const char *zx_wb_page_ns(unsigned page);          /* NULL if unknown */
int zx_wb_page_by_ns(const char *ns);              /* -1 if unknown */
int zx_wb_tag_lookup(unsigned page, const char *name); /* -1 if unknown */

/* Tree building (all allocation from p) */
zx_wb_node *zx_wb_new(apr_pool_t *p, unsigned tag);
zx_wb_node *zx_wb_add(apr_pool_t *p, zx_wb_node *parent, unsigned tag);
zx_wb_node *zx_wb_add_text(apr_pool_t *p, zx_wb_node *parent, unsigned tag, const char *text);
zx_wb_node *zx_wb_add_textf(apr_pool_t *p, zx_wb_node *parent, unsigned tag,
                            const char *fmt, ...) __attribute__((format(printf, 4, 5)));
zx_wb_node *zx_wb_add_opaque(apr_pool_t *p, zx_wb_node *parent, unsigned tag,
                             const void *data, apr_size_t len);
void zx_wb_append(zx_wb_node *parent, zx_wb_node *child);

/* Navigation */
zx_wb_node *zx_wb_child(const zx_wb_node *n, unsigned tag);      /* first child element */
zx_wb_node *zx_wb_next(const zx_wb_node *n, unsigned tag);       /* next sibling element */
/* Text content of an element (concatenated if split), NULL if it has none. */
const char *zx_wb_text(apr_pool_t *p, const zx_wb_node *n);
const char *zx_wb_child_text(apr_pool_t *p, const zx_wb_node *n, unsigned tag);

#endif
