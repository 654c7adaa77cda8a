/* zxmobile - unit tests of the WBXML codec (libzxsync/wbxml), Check printing TAP.
 *
 * Covers: the code page data (every tag of every page, encoded, decoded and converted to XML
 * and back with exact bytes), the published [MS-ASWBXML] example, opaque data and
 * multi-byte integers, string table references, every decoder/encoder/XML error code,
 * the navigation and building helpers, and a deterministic mutation loop.
 */
#include <zxsync/wbxml.h>
#include <zxsync/text.h>

#include <apr_base64.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap_run.h"

#ifndef ZX_SRCDIR
#define ZX_SRCDIR "."
#endif

#define FIXTURE_HEX ZX_SRCDIR "/t/fixtures/wbxml/aswbxml-sync-add-contact.hex"
#define FIXTURE_XML ZX_SRCDIR "/t/fixtures/wbxml/aswbxml-sync-add-contact.xml"

static apr_pool_t *g_pool;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&g_pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(g_pool);
    g_pool = NULL;
}

/* ---- helpers ---------------------------------------------------------------------------- */

#define BYTES(...) (const unsigned char[]){__VA_ARGS__}, sizeof((const unsigned char[]){__VA_ARGS__})
#define HDR 0x03, 0x01, 0x6A, 0x00

/* growable byte string in a pool */
typedef struct {
    apr_pool_t *p;
    unsigned char *d;
    size_t n, cap;
} bytes;

static void b_init(bytes *b, apr_pool_t *p)
{
    b->p = p;
    b->cap = 256;
    b->n = 0;
    b->d = apr_palloc(p, b->cap);
}

static void b_put(bytes *b, const void *src, size_t len)
{
    if (b->n + len > b->cap) {
        size_t cap = b->cap;
        while (b->n + len > cap)
            cap *= 2;
        unsigned char *d = apr_palloc(b->p, cap);
        memcpy(d, b->d, b->n);
        b->d = d;
        b->cap = cap;
    }
    memcpy(b->d + b->n, src, len);
    b->n += len;
}

static void b_byte(bytes *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    b_put(b, &c, 1);
}

static void b_str(bytes *b, const char *s)
{
    b_put(b, s, strlen(s) + 1);   /* with the NUL */
}

static const char *hex(apr_pool_t *p, const unsigned char *d, size_t n)
{
    size_t shown = n > 400 ? 400 : n;
    char *s = apr_palloc(p, shown * 3 + 16), *o = s;
    for (size_t i = 0; i < shown; i++)
        o += sprintf(o, "%02X ", d[i]);
    if (shown < n)
        strcpy(o, "...");
    else
        *o = '\0';
    return s;
}

static void assert_bytes_(int line, const unsigned char *got, size_t gotlen,
                          const unsigned char *exp, size_t explen)
{
    ck_assert_msg(gotlen == explen && memcmp(got, exp, explen) == 0,
                  "line %d: bytes differ:\n got  (%zu) %s\n want (%zu) %s", line,
                  gotlen, hex(g_pool, got, gotlen), explen, hex(g_pool, exp, explen));
}

/* ASSERT_BYTES(got, gotlen, exp, explen) or ASSERT_BYTES(got, gotlen, BYTES(...)) */
#define ASSERT_BYTES(...) assert_bytes_(__LINE__, __VA_ARGS__)

static int has_content(const zx_wb_node *n)
{
    return n->first != NULL || (n->flags & ZX_WB_F_CONTENT);
}

/* NULL when equal, else where they differ.  strict: flags must match exactly; otherwise only
 * whether the element would be encoded with content. */
static const char *tree_diff(apr_pool_t *p, const zx_wb_node *a, const zx_wb_node *b,
                             int strict, const char *path)
{
    if (!a || !b)
        return a == b ? NULL : apr_psprintf(p, "%s: node missing on one side", path);
    if (a->kind != b->kind)
        return apr_psprintf(p, "%s: kind %u vs %u", path, a->kind, b->kind);
    if (a->kind != ZX_WB_ELEMENT) {
        if (a->len != b->len || (a->len && memcmp(a->data, b->data, a->len) != 0))
            return apr_psprintf(p, "%s: content \"%.*s\" vs \"%.*s\"", path, (int)a->len,
                                a->data, (int)b->len, b->data);
        return NULL;
    }
    const char *name = zx_wb_tag_name(a->tag);
    const char *here = apr_psprintf(p, "%s/%s", path, name ? name : "?");
    if (a->tag != b->tag)
        return apr_psprintf(p, "%s: tag 0x%04X vs 0x%04X", here, a->tag, b->tag);
    if (strict ? a->flags != b->flags : has_content(a) != has_content(b))
        return apr_psprintf(p, "%s: flags %u vs %u", here, a->flags, b->flags);
    const zx_wb_node *ca = a->first, *cb = b->first;
    for (int i = 0; ca || cb; i++, ca = ca ? ca->next : NULL, cb = cb ? cb->next : NULL) {
        const char *d = tree_diff(p, ca, cb, strict, apr_psprintf(p, "%s[%d]", here, i));
        if (d)
            return d;
    }
    return NULL;
}

#define ASSERT_TREE_EQ(a, b, strict) do { \
        const char *d_ = tree_diff(g_pool, (a), (b), (strict), ""); \
        ck_assert_msg(d_ == NULL, "trees differ: %s", d_); \
    } while (0)

static zx_wbxml_status dec(const unsigned char *buf, size_t len, zx_wb_node **root,
                           apr_size_t *off)
{
    return zx_wbxml_decode(g_pool, buf, len, NULL, root, off);
}

static zx_wb_node *dec_ok(const unsigned char *buf, size_t len)
{
    zx_wb_node *root = NULL;
    apr_size_t off = 0;
    zx_wbxml_status st = dec(buf, len, &root, &off);
    ck_assert_msg(st == ZX_WBXML_OK, "decode failed: %s at %zu in %s", zx_wbxml_strerror(st),
                  (size_t)off, hex(g_pool, buf, len));
    ck_assert_ptr_nonnull(root);
    return root;
}

static void enc_ok(const zx_wb_node *root, unsigned char **out, size_t *outlen)
{
    apr_size_t n = 0;
    zx_wbxml_status st = zx_wbxml_encode(g_pool, root, out, &n);
    ck_assert_msg(st == ZX_WBXML_OK, "encode failed: %s", zx_wbxml_strerror(st));
    *outlen = n;
}

static unsigned char *slurp(apr_pool_t *p, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t cap = 4096, n = 0, r;
    unsigned char *d = apr_palloc(p, cap + 1);
    while ((r = fread(d + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            unsigned char *nd = apr_palloc(p, cap * 2 + 1);
            memcpy(nd, d, n);
            d = nd;
            cap *= 2;
        }
    }
    fclose(f);
    d[n] = 0;
    *len = n;
    return d;
}

/* hex text with '#' comment lines -> bytes */
static unsigned char *load_hex(apr_pool_t *p, const char *path, size_t *len)
{
    size_t tlen;
    unsigned char *t = slurp(p, path, &tlen);
    unsigned char *out = apr_palloc(p, tlen / 2 + 1);
    size_t n = 0;
    int hi = -1, comment = 0, bol = 1;
    for (size_t i = 0; i < tlen; i++) {
        int c = t[i];
        if (bol && c == '#')
            comment = 1;
        bol = (c == '\n');
        if (comment) {
            if (c == '\n')
                comment = 0;
            continue;
        }
        int v = zx_hexval(c);
        if (v < 0) {
            ck_assert_msg(c == ' ' || c == '\t' || c == '\n' || c == '\r',
                          "bad character 0x%02X in %s", c, path);
            ck_assert_msg(hi < 0, "odd hex digit count in %s", path);
            continue;
        }
        if (hi < 0)
            hi = v;
        else {
            out[n++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    ck_assert_msg(hi < 0, "odd hex digit count in %s", path);
    *len = n;
    return out;
}

static unsigned char *example_bytes(size_t *len)
{
    return load_hex(g_pool, FIXTURE_HEX, len);
}

/* ---- code page data --------------------------------------------------------------------- */

START_TEST(test_tag_table)
{
    unsigned total = 0;
    for (unsigned page = 0; page < 256; page++) {
        unsigned on_page = 0;
        for (unsigned tok = 0; tok < 256; tok++) {
            unsigned tag = page << 8 | tok;
            const char *name = zx_wb_tag_name(tag);
            ck_assert_int_eq(zx_wb_tag_known(tag), name != NULL);
            if (!name)
                continue;
            ck_assert_msg(page <= 25, "tag 0x%04X on page %u", tag, page);
            ck_assert_msg(tok >= 5 && tok <= 63, "tag token 0x%02X out of range", tok);
            ck_assert_int_eq(zx_wb_tag_lookup(page, name), (int)tag);
            on_page++;
        }
        if (page <= 25) {
            /* AirNotify (page 3) is no longer used: the page exists without tags */
            if (page == ZX_PAGE_AirNotify)
                ck_assert_uint_eq(on_page, 0);
            else
                ck_assert_msg(on_page > 0, "page %u has no tags", page);
            ck_assert_ptr_nonnull(zx_wb_page_name(page));
            ck_assert_ptr_nonnull(zx_wb_page_ns(page));
            ck_assert_int_eq(zx_wb_page_by_ns(zx_wb_page_ns(page)), (int)page);
        }
        else {
            ck_assert_ptr_null(zx_wb_page_name(page));
            ck_assert_ptr_null(zx_wb_page_ns(page));
        }
        total += on_page;
    }
    ck_assert_uint_eq(total, 625);
    ck_assert_int_eq(ZX_PAGE_COUNT_, 26);
    ck_assert_ptr_null(zx_wb_tag_name(0x10000 | ZX_AirSync_Sync));
    ck_assert_int_eq(zx_wb_page_by_ns("NoSuchPage"), -1);
    ck_assert_int_eq(zx_wb_page_by_ns(""), -1);
    ck_assert_int_eq(zx_wb_tag_lookup(0, "NoSuchTag"), -1);
    ck_assert_int_eq(zx_wb_tag_lookup(26, "Sync"), -1);
    ck_assert_int_eq(zx_wb_tag_lookup(ZX_PAGE_AirSyncBase, "Sync"), -1);

    /* a few values straight from MS-ASWBXML */
    ck_assert_uint_eq(ZX_AirSync_Sync, 0x0005);
    ck_assert_uint_eq(ZX_AirSync_HeartbeatInterval, 0x0029);
    ck_assert_uint_eq(ZX_Contacts_FileAs, 0x011E);
    ck_assert_uint_eq(ZX_FolderHierarchy_FolderSync, 0x0716);
    ck_assert_uint_eq(ZX_AirSyncBase_Body, 0x110A);
    ck_assert_uint_eq(ZX_ComposeMail_SendMail, 0x1505);
    ck_assert_uint_eq(ZX_Find_Find, 0x1905);
    ck_assert_str_eq(zx_wb_page_ns(ZX_PAGE_GAL), "Gal");
    ck_assert_str_eq(zx_wb_page_name(ZX_PAGE_AirSyncBase), "AirSyncBase");
    ck_assert_str_eq(zx_wb_tag_name(ZX_Ping_HeartbeatInterval), "HeartbeatInterval");
    ck_assert_uint_eq(ZX_WB_PAGE(ZX_AirSyncBase_Body), 17);
    ck_assert_uint_eq(ZX_WB_TOKEN(ZX_AirSyncBase_Body), 0x0A);
}
END_TEST

/* Every tag of one page (loop index = page), as an element with text, an empty element and
 * the root of its own document: exact bytes, decode, XML and back. */
START_TEST(test_every_tag_roundtrip)
{
    unsigned page = (unsigned)_i;
    unsigned seen = 0;
    ck_assert_ptr_nonnull(zx_wb_page_name(page));
    for (unsigned tok = 5; tok < 64; tok++) {
        unsigned tag = page << 8 | tok;
        const char *name = zx_wb_tag_name(tag);
        if (!name)
            continue;
        seen++;
        const char *text = apr_psprintf(g_pool, "%s:%s \xC3\xA9 <&>", zx_wb_page_name(page), name);

        zx_wb_node *root = zx_wb_new(g_pool, ZX_AirSync_Sync);
        zx_wb_add_text(g_pool, root, tag, text);
        zx_wb_add(g_pool, root, tag);
        zx_wb_add_text(g_pool, root, ZX_AirSync_Status, "1");

        bytes want;
        b_init(&want, g_pool);
        b_put(&want, BYTES(HDR, 0x45));
        if (page != 0)
            b_put(&want, BYTES(0x00, (unsigned char)page));
        b_byte(&want, tok | 0x40);
        b_byte(&want, 0x03);
        b_str(&want, text);
        b_byte(&want, 0x01);
        b_byte(&want, tok);
        if (page != 0)
            b_put(&want, BYTES(0x00, 0x00));
        b_put(&want, BYTES(0x4E, 0x03, '1', 0x00, 0x01, 0x01));

        unsigned char *out;
        size_t outlen;
        enc_ok(root, &out, &outlen);
        ASSERT_BYTES(out, outlen, want.d, want.n);

        zx_wb_node *back = dec_ok(out, outlen);
        ASSERT_TREE_EQ(root, back, 0);
        zx_wb_node *el = zx_wb_child(back, tag);
        ck_assert_ptr_nonnull(el);
        ck_assert_uint_eq(el->flags, ZX_WB_F_CONTENT);
        ck_assert_str_eq(zx_wb_text(g_pool, el), text);
        zx_wb_node *empty = zx_wb_next(el, tag);
        ck_assert_ptr_nonnull(empty);
        ck_assert_uint_eq(empty->flags, 0);
        ck_assert_ptr_null(empty->first);
        ck_assert_ptr_null(zx_wb_text(g_pool, empty));

        /* XML and back gives the same tree and the same bytes */
        char *xml = zx_wbxml_to_xml(g_pool, back, 0);
        ck_assert_ptr_nonnull(strstr(xml, apr_psprintf(g_pool, "<%s", name)));
        zx_wb_node *fromxml = NULL;
        const char *err = NULL;
        ck_assert_msg(zx_wbxml_from_xml(g_pool, xml, strlen(xml), &fromxml, &err) == ZX_WBXML_OK,
                      "from_xml failed: %s on %s", err, xml);
        ASSERT_TREE_EQ(root, fromxml, 0);
        unsigned char *out2;
        size_t outlen2;
        enc_ok(fromxml, &out2, &outlen2);
        ASSERT_BYTES(out2, outlen2, want.d, want.n);

        /* the tag as the (empty) root of a document */
        zx_wb_node *solo = zx_wb_new(g_pool, tag);
        b_init(&want, g_pool);
        b_put(&want, BYTES(HDR));
        if (page != 0)
            b_put(&want, BYTES(0x00, (unsigned char)page));
        b_byte(&want, tok);
        enc_ok(solo, &out, &outlen);
        ASSERT_BYTES(out, outlen, want.d, want.n);
        back = dec_ok(out, outlen);
        ck_assert_uint_eq(back->tag, tag);
        ck_assert_ptr_null(back->first);
        ck_assert_uint_eq(back->flags, 0);
    }
    ck_assert_msg(seen > 0 || page == ZX_PAGE_AirNotify, "page %u has no tags", page);
}
END_TEST

/* One document holding all 625 tags, nested by page: encode, decode, compare. */
static zx_wb_node *all_tags_doc(apr_pool_t *p, unsigned *count)
{
    zx_wb_node *root = zx_wb_new(p, ZX_AirSync_Sync);
    unsigned n = 0;
    for (unsigned page = 0; page < ZX_PAGE_COUNT_; page++) {
        zx_wb_node *holder = zx_wb_add(p, root, ZX_AirSync_ApplicationData);
        for (unsigned tok = 5; tok < 64; tok++) {
            unsigned tag = page << 8 | tok;
            if (!zx_wb_tag_known(tag))
                continue;
            if (tok & 1)
                zx_wb_add_textf(p, holder, tag, "%u.%u", page, tok);
            else
                zx_wb_add(p, holder, tag);
            n++;
        }
    }
    if (count)
        *count = n;
    return root;
}

START_TEST(test_all_tags_one_document)
{
    unsigned count;
    zx_wb_node *root = all_tags_doc(g_pool, &count);
    ck_assert_uint_eq(count, 625);
    unsigned char *out;
    size_t outlen;
    enc_ok(root, &out, &outlen);
    zx_wb_node *back = dec_ok(out, outlen);
    ASSERT_TREE_EQ(root, back, 0);
    unsigned char *out2;
    size_t outlen2;
    enc_ok(back, &out2, &outlen2);
    ASSERT_BYTES(out2, outlen2, out, outlen);

    /* exact bytes: a page switch exactly where the page changes, never redundantly */
    bytes want;
    b_init(&want, g_pool);
    b_put(&want, BYTES(HDR, 0x45));
    unsigned cur = 0;
    for (unsigned page = 0; page < ZX_PAGE_COUNT_; page++) {
        if (cur != 0)
            b_put(&want, BYTES(0x00, 0x00));
        cur = 0;
        int any = 0;
        for (unsigned tok = 5; tok < 64; tok++)
            any |= zx_wb_tag_known(page << 8 | tok);
        if (!any) {
            b_byte(&want, 0x1D);   /* AirNotify: an empty holder */
            continue;
        }
        b_byte(&want, 0x5D);
        for (unsigned tok = 5; tok < 64; tok++) {
            if (!zx_wb_tag_known(page << 8 | tok))
                continue;
            if (cur != page) {
                b_byte(&want, 0x00);
                b_byte(&want, page);
                cur = page;
            }
            if (tok & 1) {
                b_byte(&want, tok | 0x40);
                b_byte(&want, 0x03);
                b_str(&want, apr_psprintf(g_pool, "%u.%u", page, tok));
                b_byte(&want, 0x01);
            }
            else
                b_byte(&want, tok);
        }
        b_byte(&want, 0x01);
    }
    b_byte(&want, 0x01);
    ASSERT_BYTES(out, outlen, want.d, want.n);
}
END_TEST

/* The tokens of [MS-ASWBXML] revision 1.0 that later revisions dropped (wbxml_tags.def): a
 * 2.5/12.x Sync Options block as phones send it, then every one of them in a document of its
 * own, decoded from hand-written bytes and encoded back to the same bytes. */
START_TEST(test_r10_tokens)
{
    /* <Sync><Collections><Collection><Options><Truncation>1</Truncation>
     * <RTFTruncation>4</RTFTruncation><Conflict>1</Conflict></Options>... */
    static const unsigned char opts[] = {HDR, 0x45, 0x5C, 0x4F, 0x57,
                                         0x59, 0x03, '1', 0x00, 0x01,
                                         0x5A, 0x03, '4', 0x00, 0x01,
                                         0x5B, 0x03, '1', 0x00, 0x01,
                                         0x01, 0x01, 0x01, 0x01};
    zx_wb_node *root = dec_ok(opts, sizeof opts);
    const zx_wb_node *o = zx_wb_child(zx_wb_child(zx_wb_child(root, ZX_AirSync_Collections),
                                                  ZX_AirSync_Collection), ZX_AirSync_Options);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(zx_wb_child_text(g_pool, o, ZX_AirSync_Truncation), "1");
    ck_assert_str_eq(zx_wb_child_text(g_pool, o, ZX_AirSync_RTFTruncation), "4");
    ck_assert_str_eq(zx_wb_child_text(g_pool, o, ZX_AirSync_Conflict), "1");
    unsigned char *out;
    size_t outlen;
    enc_ok(root, &out, &outlen);
    ASSERT_BYTES(out, outlen, opts, sizeof opts);

    static const struct {
        unsigned page, tok, tag;
        const char *name;
    } r10[] = {
        {0, 0x11, ZX_AirSync_Version, "Version"},
        {0, 0x1A, ZX_AirSync_RTFTruncation, "RTFTruncation"},
        {0, 0x1F, ZX_AirSync_NotifyGUID, "NotifyGUID"},
        {1, 0x3B, ZX_Contacts_Rtf, "Rtf"},
        {2, 0x0B, ZX_Email_AttRemoved, "AttRemoved"},
        {4, 0x10, ZX_Calendar_Rtf, "Rtf"},
        {6, 0x06, ZX_GetItemEstimate_Version, "Version"},
        {6, 0x0B, ZX_GetItemEstimate_DateTime, "DateTime"},
        {7, 0x0B, ZX_FolderHierarchy_Response, "Response"},
        {7, 0x0D, ZX_FolderHierarchy_ContentClass, "ContentClass"},
        {7, 0x18, ZX_FolderHierarchy_Version, "Version"},
        {8, 0x0D, ZX_MeetingResponse_Version, "Version"},
        {9, 0x21, ZX_Tasks_Rtf, "Rtf"},
        {13, 0x06, ZX_Ping_AutdState, "AutdState"},
        {14, 0x12, ZX_Provision_DocumentBrowseEnabled, "DocumentBrowseEnabled"},
        {15, 0x1C, ZX_Search_Schema, "Schema"},
        {15, 0x1D, ZX_Search_Supported, "Supported"},
    };
    for (size_t i = 0; i < sizeof r10 / sizeof r10[0]; i++) {
        ck_assert_uint_eq(r10[i].tag, r10[i].page << 8 | r10[i].tok);
        ck_assert_str_eq(zx_wb_tag_name(r10[i].tag), r10[i].name);
        /* <Sync><X>v</X></Sync>, X on its page */
        bytes doc;
        b_init(&doc, g_pool);
        b_put(&doc, BYTES(HDR, 0x45));
        if (r10[i].page)
            b_put(&doc, BYTES(0x00, (unsigned char)r10[i].page));
        b_byte(&doc, (unsigned char)(r10[i].tok | 0x40));
        b_put(&doc, BYTES(0x03, 'v', 0x00, 0x01, 0x01));
        zx_wb_node *r = dec_ok(doc.d, doc.n);
        ck_assert_uint_eq(r->tag, ZX_AirSync_Sync);
        ck_assert_ptr_nonnull(r->first);
        ck_assert_uint_eq(r->first->tag, r10[i].tag);
        ck_assert_str_eq(zx_wb_text(g_pool, r->first), "v");
        enc_ok(r, &out, &outlen);
        ASSERT_BYTES(out, outlen, doc.d, doc.n);
        char *xml = zx_wbxml_to_xml(g_pool, r, 0);
        ck_assert_msg(strstr(xml, apr_psprintf(g_pool, ">v</%s>", r10[i].name)) != NULL, "%s", xml);
    }
}
END_TEST

/* ---- the published example -------------------------------------------------------------- */

START_TEST(test_aswbxml_example)
{
    size_t len;
    unsigned char *buf = example_bytes(&len);
    ck_assert_uint_eq(len, 106);
    static const unsigned char start[] = {HDR, 0x45, 0x5C, 0x4F, 0x50, 0x03, 'C'};
    ASSERT_BYTES(buf, sizeof start, start, sizeof start);

    zx_wb_node *root = dec_ok(buf, len);
    ck_assert_uint_eq(root->tag, ZX_AirSync_Sync);
    zx_wb_node *coll = zx_wb_child(zx_wb_child(root, ZX_AirSync_Collections),
                                   ZX_AirSync_Collection);
    ck_assert_ptr_nonnull(coll);
    ck_assert_str_eq(zx_wb_child_text(g_pool, coll, ZX_AirSync_Class), "Contacts");
    ck_assert_str_eq(zx_wb_child_text(g_pool, coll, ZX_AirSync_SyncKey), "2");
    ck_assert_str_eq(zx_wb_child_text(g_pool, coll, ZX_AirSync_CollectionId), "2");
    ck_assert_str_eq(zx_wb_child_text(g_pool, coll, ZX_AirSync_Status), "1");
    zx_wb_node *add = zx_wb_child(zx_wb_child(coll, ZX_AirSync_Commands), ZX_AirSync_Add);
    ck_assert_str_eq(zx_wb_child_text(g_pool, add, ZX_AirSync_ServerId), "2:1");
    zx_wb_node *app = zx_wb_child(add, ZX_AirSync_ApplicationData);
    zx_wb_node *body = zx_wb_child(app, ZX_AirSyncBase_Body);
    ck_assert_str_eq(zx_wb_child_text(g_pool, body, ZX_AirSyncBase_Type), "1");
    ck_assert_str_eq(zx_wb_child_text(g_pool, body, ZX_AirSyncBase_EstimatedDataSize), "0");
    ck_assert_str_eq(zx_wb_child_text(g_pool, body, ZX_AirSyncBase_Truncated), "1");
    ck_assert_str_eq(zx_wb_child_text(g_pool, app, ZX_Contacts_FileAs), "Funk, Don");
    ck_assert_str_eq(zx_wb_child_text(g_pool, app, ZX_Contacts_FirstName), "Don");
    ck_assert_str_eq(zx_wb_child_text(g_pool, app, ZX_Contacts_LastName), "Funk");
    ck_assert_str_eq(zx_wb_child_text(g_pool, app, ZX_AirSyncBase_NativeBodyType), "1");

    /* the published XML is the same element tree */
    size_t xlen;
    unsigned char *xml = slurp(g_pool, FIXTURE_XML, &xlen);
    zx_wb_node *fixture = NULL;
    const char *err = NULL;
    ck_assert_msg(zx_wbxml_from_xml(g_pool, (const char *)xml, xlen, &fixture, &err) ==
                  ZX_WBXML_OK, "fixture XML: %s", err);
    ASSERT_TREE_EQ(fixture, root, 0);

    /* our XML (compact and pretty) parses back to the same tree */
    for (int pretty = 0; pretty <= 1; pretty++) {
        char *ours = zx_wbxml_to_xml(g_pool, root, pretty);
        ck_assert_ptr_nonnull(strstr(ours, "<Sync xmlns=\"AirSync\">"));
        ck_assert_ptr_nonnull(strstr(ours, "<Body xmlns=\"AirSyncBase\">"));
        ck_assert_ptr_nonnull(strstr(ours, "<FileAs xmlns=\"Contacts\">Funk, Don</FileAs>"));
        zx_wb_node *again = NULL;
        ck_assert_msg(zx_wbxml_from_xml(g_pool, ours, strlen(ours), &again, &err) == ZX_WBXML_OK,
                      "own XML: %s", err);
        ASSERT_TREE_EQ(again, root, 0);
    }

    /* re-encoding gives exactly the published bytes, from either tree */
    unsigned char *out;
    size_t outlen;
    enc_ok(root, &out, &outlen);
    ASSERT_BYTES(out, outlen, buf, len);
    enc_ok(fixture, &out, &outlen);
    ASSERT_BYTES(out, outlen, buf, len);
}
END_TEST

START_TEST(test_to_xml_exact)
{
    zx_wb_node *root = zx_wb_new(g_pool, ZX_AirSync_Sync);
    zx_wb_add_text(g_pool, root, ZX_AirSync_Status, "1&<>\"'");
    zx_wb_add(g_pool, root, ZX_AirSync_GetChanges);
    zx_wb_node *app = zx_wb_add(g_pool, root, ZX_AirSync_ApplicationData);
    zx_wb_node *body = zx_wb_add(g_pool, app, ZX_AirSyncBase_Body);
    zx_wb_add_opaque(g_pool, body, ZX_AirSyncBase_Data, "\x00\x01\x02", 3);
    zx_wb_add_text(g_pool, app, ZX_Contacts_FileAs, "x");
    char *xml = zx_wbxml_to_xml(g_pool, root, 0);
    ck_assert_str_eq(xml,
                     "<Sync xmlns=\"AirSync\"><Status>1&amp;&lt;&gt;&quot;&apos;</Status>"
                     "<GetChanges/><ApplicationData><Body xmlns=\"AirSyncBase\">"
                     "<Data opaque=\"base64\">AAEC</Data></Body>"
                     "<FileAs xmlns=\"Contacts\">x</FileAs></ApplicationData></Sync>");
    char *pretty = zx_wbxml_to_xml(g_pool, root, 1);
    ck_assert_ptr_nonnull(strstr(pretty, "\n  <Status>1&amp;"));
    ck_assert_ptr_nonnull(strstr(pretty, "\n      <Data opaque=\"base64\">AAEC</Data>\n"));
    ck_assert_str_eq(zx_wbxml_to_xml(g_pool, NULL, 0), "");
}
END_TEST

START_TEST(test_xml_roundtrip_opaque)
{
    unsigned char bin[1000];
    for (unsigned i = 0; i < sizeof bin; i++)
        bin[i] = (unsigned char)(i * 7 + (i >> 8));
    bin[0] = 0;
    bin[999] = 0;
    zx_wb_node *root = zx_wb_new(g_pool, ZX_ItemOperations_ItemOperations);
    zx_wb_node *resp = zx_wb_add(g_pool, root, ZX_ItemOperations_Response);
    zx_wb_node *fetch = zx_wb_add(g_pool, resp, ZX_ItemOperations_Fetch);
    zx_wb_add_opaque(g_pool, fetch, ZX_ItemOperations_Data, bin, sizeof bin);
    zx_wb_add_opaque(g_pool, fetch, ZX_ItemOperations_Data, "", 0);
    zx_wb_add_text(g_pool, fetch, ZX_ItemOperations_Status, "  spaced  ");
    zx_wb_add_text(g_pool, fetch, ZX_ItemOperations_Status, "");

    for (int pretty = 0; pretty <= 1; pretty++) {
        char *xml = zx_wbxml_to_xml(g_pool, root, pretty);
        char *b64 = apr_palloc(g_pool, (apr_size_t)apr_base64_encode_len(sizeof bin));
        apr_base64_encode_binary(b64, bin, sizeof bin);
        ck_assert_ptr_nonnull(strstr(xml, apr_pstrcat(g_pool, "<Data opaque=\"base64\">", b64,
                                                      "</Data>", NULL)));
        zx_wb_node *back = NULL;
        const char *err = NULL;
        ck_assert_msg(zx_wbxml_from_xml(g_pool, xml, strlen(xml), &back, &err) == ZX_WBXML_OK,
                      "from_xml: %s", err);
        /* the empty text element comes back without a text node: compare by content */
        zx_wb_node *f = zx_wb_child(zx_wb_child(back, ZX_ItemOperations_Response),
                                    ZX_ItemOperations_Fetch);
        zx_wb_node *d1 = zx_wb_child(f, ZX_ItemOperations_Data);
        ck_assert_ptr_nonnull(d1);
        ck_assert_int_eq(d1->first->kind, ZX_WB_OPAQUE);
        ck_assert_uint_eq(d1->first->len, sizeof bin);
        ck_assert_mem_eq(d1->first->data, bin, sizeof bin);
        zx_wb_node *d2 = zx_wb_next(d1, ZX_ItemOperations_Data);
        ck_assert_ptr_nonnull(d2);
        ck_assert_ptr_nonnull(d2->first);
        ck_assert_int_eq(d2->first->kind, ZX_WB_OPAQUE);
        ck_assert_uint_eq(d2->first->len, 0);
        zx_wb_node *s1 = zx_wb_child(f, ZX_ItemOperations_Status);
        ck_assert_str_eq(zx_wb_text(g_pool, s1), "  spaced  ");

        /* encode both: the bytes agree except for the empty STR_I (03 00) */
        unsigned char *o1, *o2;
        size_t l1, l2;
        enc_ok(back, &o2, &l2);
        zx_wb_node *back2 = dec_ok(o2, l2);
        ASSERT_TREE_EQ(back2, back, 0);
        enc_ok(root, &o1, &l1);
        ck_assert_uint_eq(l1, l2 + 3);   /* "<Status></Status>" : 0x49 03 00 01 vs 0x09 */
    }
}
END_TEST

/* opaque="base64" content: base64 wrapped over lines (as XML tools and people write it) must
 * decode completely, and text that is not base64 must be refused rather than silently turned
 * into fewer (or no) bytes. */
START_TEST(test_xml_opaque_base64_strict)
{
    zx_wb_node *root = NULL;
    const char *err = NULL;
    const char *wrapped = "<Sync xmlns=\"AirSync\"><Status opaque=\"base64\">AAEC\n  AwQF\n"
                          "</Status></Sync>";
    ck_assert_int_eq(zx_wbxml_from_xml(g_pool, wrapped, strlen(wrapped), &root, &err),
                     ZX_WBXML_OK);
    zx_wb_node *op = zx_wb_child(root, ZX_AirSync_Status)->first;
    ck_assert_int_eq(op->kind, ZX_WB_OPAQUE);
    ck_assert_msg(op->len == 6 && memcmp(op->data, "\0\1\2\3\4\5", 6) == 0,
                  "wrapped base64 AAEC AwQF decoded to %zu bytes, want 6", (size_t)op->len);

    static const char *const bad[] = {"@@@@", "AAEC!", "AA=C", "not base64 at all"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *x = apr_psprintf(g_pool, "<Sync xmlns=\"AirSync\"><Status opaque=\"base64\">"
                                     "%s</Status></Sync>", bad[i]);
        root = NULL;
        zx_wbxml_status st = zx_wbxml_from_xml(g_pool, x, strlen(x), &root, &err);
        ck_assert_msg(st == ZX_WBXML_EXML, "opaque text \"%s\" accepted (%s)", bad[i],
                      zx_wbxml_strerror(st));
    }
}
END_TEST

START_TEST(test_from_xml_details)
{
    const char *err = NULL;
    zx_wb_node *root = NULL;
    const char *xml =
        "<?xml version=\"1.0\"?>\n"
        "<a:Sync xmlns:a=\"AirSync\" xmlns:c=\"Contacts\">\n"
        "  <a:Status><![CDATA[1<2]]></a:Status>\n"
        "  <a:SyncKey>a&amp;b</a:SyncKey>\n"
        "  <c:FileAs>  keep  </c:FileAs>\n"
        "  <!-- a comment -->\n"
        "  <a:GetChanges></a:GetChanges>\n"
        "</a:Sync>\n";
    ck_assert_int_eq(zx_wbxml_from_xml(g_pool, xml, strlen(xml), &root, &err), ZX_WBXML_OK);
    ck_assert_uint_eq(root->tag, ZX_AirSync_Sync);
    ck_assert_str_eq(zx_wb_child_text(g_pool, root, ZX_AirSync_Status), "1<2");
    ck_assert_str_eq(zx_wb_child_text(g_pool, root, ZX_AirSync_SyncKey), "a&b");
    ck_assert_str_eq(zx_wb_child_text(g_pool, root, ZX_Contacts_FileAs), "  keep  ");
    zx_wb_node *gc = zx_wb_child(root, ZX_AirSync_GetChanges);
    ck_assert_ptr_nonnull(gc);
    ck_assert_ptr_null(gc->first);
    unsigned char *out;
    size_t outlen;
    enc_ok(root, &out, &outlen);
    static const unsigned char want[] = {
        HDR, 0x45, 0x4E, 0x03, '1', '<', '2', 0x00, 0x01, 0x4B, 0x03, 'a', '&', 'b', 0x00, 0x01,
        0x00, 0x01, 0x5E, 0x03, ' ', ' ', 'k', 'e', 'e', 'p', ' ', ' ', 0x00, 0x01,
        0x00, 0x00, 0x13, 0x01};
    ASSERT_BYTES(out, outlen, want, sizeof want);
}
END_TEST

/* A request body (opaque_is_text): opaque data stands for a string unless the element is a
 * byte array ([MS-ASDTYPE] 2.7.1) - a NUL or bytes that are not UTF-8 are refused, never cut. */
START_TEST(test_opaque_text_in_request_bodies)
{
    zx_wbxml_limits lim = {.opaque_is_text = 1};
    zx_wb_node *root = NULL;
    /* FolderCreate (page 7) DisplayName "a\0b" as opaque */
    static const unsigned char nul[] = {HDR, 0x00, 0x07, 0x53, 0x47, 0xC3, 0x03, 'a', 0x00, 'b',
                                        0x01, 0x01};
    ck_assert_int_eq(zx_wbxml_decode(g_pool, nul, sizeof nul, &lim, &root, NULL), ZX_WBXML_EUTF8);
    static const unsigned char latin1[] = {HDR, 0x00, 0x07, 0x53, 0x47, 0xC3, 0x03, 'C', 'a', 0xE9,
                                           0x01, 0x01};
    ck_assert_int_eq(zx_wbxml_decode(g_pool, latin1, sizeof latin1, &lim, &root, NULL),
                     ZX_WBXML_EUTF8);
    /* valid UTF-8 opaque is text like an inline string */
    static const unsigned char good[] = {HDR, 0x00, 0x07, 0x53, 0x47, 0xC3, 0x04, 'C', 'a', 0xC3,
                                         0xA9, 0x01, 0x01};
    ck_assert_int_eq(zx_wbxml_decode(g_pool, good, sizeof good, &lim, &root, NULL), ZX_WBXML_OK);
    ck_assert_str_eq(zx_wb_child_text(g_pool, root, ZX_FolderHierarchy_DisplayName), "Ca\xc3\xa9");
    /* ComposeMail (page 21) Mime: bytes, NULs and all */
    static const unsigned char mime[] = {HDR, 0x00, 0x15, 0x45, 0x50, 0xC3, 0x03, 0x00, 0xFF, 'x',
                                         0x01, 0x01};
    ck_assert_int_eq(zx_wbxml_decode(g_pool, mime, sizeof mime, &lim, &root, NULL), ZX_WBXML_OK);
    /* without the flag (the codec itself) any element may carry bytes */
    lim.opaque_is_text = 0;
    ck_assert_int_eq(zx_wbxml_decode(g_pool, nul, sizeof nul, &lim, &root, NULL), ZX_WBXML_OK);
}
END_TEST

/* ---- opaque, multi-byte integers, text pieces, content flag, string table ------------------ */

START_TEST(test_opaque_sizes)
{
    static const struct {
        uint32_t len;
        unsigned char mb[5];
        int mblen;
    } cases[] = {
        {0, {0x00}, 1},
        {1, {0x01}, 1},
        {127, {0x7F}, 1},
        {128, {0x81, 0x00}, 2},
        {300, {0x82, 0x2C}, 2},
        {16383, {0xFF, 0x7F}, 2},
        {16384, {0x81, 0x80, 0x00}, 3},
        {2097151, {0xFF, 0xFF, 0x7F}, 3},
        {2097152, {0x81, 0x80, 0x80, 0x00}, 4},
    };
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint32_t n = cases[c].len;
        unsigned char *data = apr_palloc(g_pool, n + 1);
        for (uint32_t i = 0; i < n; i++)
            data[i] = (unsigned char)((i * 31u) ^ (i >> 9));   /* includes NULs */
        zx_wb_node *root = zx_wb_new(g_pool, ZX_AirSync_Sync);
        zx_wb_add_opaque(g_pool, root, ZX_AirSync_Status, data, n);
        unsigned char *out;
        size_t outlen;
        enc_ok(root, &out, &outlen);
        bytes want;
        b_init(&want, g_pool);
        b_put(&want, BYTES(HDR, 0x45, 0x4E, 0xC3));
        b_put(&want, cases[c].mb, (size_t)cases[c].mblen);
        b_put(&want, data, n);
        b_put(&want, BYTES(0x01, 0x01));
        ASSERT_BYTES(out, outlen, want.d, want.n);
        zx_wb_node *back = dec_ok(out, outlen);
        ASSERT_TREE_EQ(root, back, 0);
        zx_wb_node *op = zx_wb_child(back, ZX_AirSync_Status)->first;
        ck_assert_int_eq(op->kind, ZX_WB_OPAQUE);
        ck_assert_uint_eq(op->len, n);
        if (n)
            ck_assert_int_eq(memcmp(op->data, data, n), 0);
        /* zero copy: the data points into the buffer */
        ck_assert_ptr_eq(op->data, (const char *)out + 7 + cases[c].mblen);
    }
}
END_TEST

START_TEST(test_mbint_forms)
{
    zx_wb_node *root;
    /* non-minimal (leading 0x80) integers are accepted, 5 bytes at most */
    root = dec_ok(BYTES(0x03, 0x80, 0x80, 0x80, 0x80, 0x01, 0x80, 0x6A, 0x80, 0x00, 0x45,
                        0x4E, 0xC3, 0x80, 0x80, 0x02, 'a', 'b', 0x01, 0x01));
    zx_wb_node *op = zx_wb_child(root, ZX_AirSync_Status)->first;
    ck_assert_uint_eq(op->len, 2);
    ck_assert_int_eq(memcmp(op->data, "ab", 2), 0);
    /* the largest 32-bit public id */
    root = dec_ok(BYTES(0x03, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x6A, 0x00, 0x05));
    ck_assert_uint_eq(root->tag, ZX_AirSync_Sync);
    /* an opaque length of 2^32-1 is well-formed but runs past the end */
    apr_size_t off = 0;
    ck_assert_int_eq(dec(BYTES(HDR, 0x45, 0x4E, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 'a', 0x01,
                               0x01), &root, &off), ZX_WBXML_ETRUNC);
}
END_TEST

START_TEST(test_multiple_text_pieces)
{
    static const unsigned char doc[] = {
        HDR, 0x45, 0x4E, 0x03, 'a', 'b', 0x00, 0x03, 0x00, 0xC3, 0x02, 'c', 0x00, 0x03, 'd', 0x00,
        0x0B, 0x03, 'e', 0x00, 0x01, 0x01};
    zx_wb_node *root = dec_ok(doc, sizeof doc);
    zx_wb_node *st = zx_wb_child(root, ZX_AirSync_Status);
    ck_assert_ptr_nonnull(st);
    unsigned kinds[8], n = 0;
    for (zx_wb_node *c = st->first; c && n < 8; c = c->next)
        kinds[n++] = c->kind;
    ck_assert_uint_eq(n, 6);
    ck_assert_uint_eq(kinds[0], ZX_WB_TEXT);
    ck_assert_uint_eq(kinds[1], ZX_WB_TEXT);
    ck_assert_uint_eq(kinds[2], ZX_WB_OPAQUE);
    ck_assert_uint_eq(kinds[3], ZX_WB_TEXT);
    ck_assert_uint_eq(kinds[4], ZX_WB_ELEMENT);
    ck_assert_uint_eq(kinds[5], ZX_WB_TEXT);
    /* concatenated text skips the element child, keeps the opaque bytes (with the NUL) */
    const char *t = zx_wb_text(g_pool, st);
    ck_assert_int_eq(memcmp(t, "abc\0de", 7), 0);
    ck_assert_ptr_eq(zx_wb_child(st, ZX_AirSync_SyncKey), st->first->next->next->next->next);
    unsigned char *out;
    size_t outlen;
    enc_ok(root, &out, &outlen);
    ASSERT_BYTES(out, outlen, doc, sizeof doc);
}
END_TEST

START_TEST(test_content_flag)
{
    /* <Status> with content bit and nothing inside keeps its form */
    static const unsigned char doc[] = {HDR, 0x45, 0x4E, 0x01, 0x0E, 0x4B, 0x03, 0x00, 0x01, 0x01};
    zx_wb_node *root = dec_ok(doc, sizeof doc);
    zx_wb_node *st = zx_wb_child(root, ZX_AirSync_Status);
    ck_assert_uint_eq(st->flags, ZX_WB_F_CONTENT);
    ck_assert_ptr_null(st->first);
    ck_assert_ptr_null(zx_wb_text(g_pool, st));
    zx_wb_node *st2 = zx_wb_next(st, ZX_AirSync_Status);
    ck_assert_uint_eq(st2->flags, 0);
    zx_wb_node *sk = zx_wb_child(root, ZX_AirSync_SyncKey);
    ck_assert_str_eq(zx_wb_text(g_pool, sk), "");
    ck_assert_uint_eq(sk->first->len, 0);
    unsigned char *out;
    size_t outlen;
    enc_ok(root, &out, &outlen);
    ASSERT_BYTES(out, outlen, doc, sizeof doc);

    /* built trees: the flag asks for the content form */
    zx_wb_node *b = zx_wb_new(g_pool, ZX_AirSync_Sync);
    zx_wb_add(g_pool, b, ZX_AirSync_Status)->flags |= ZX_WB_F_CONTENT;
    zx_wb_add(g_pool, b, ZX_AirSync_Status);
    b->flags |= ZX_WB_F_CONTENT;
    enc_ok(b, &out, &outlen);
    ASSERT_BYTES(out, outlen, BYTES(HDR, 0x45, 0x4E, 0x01, 0x0E, 0x01));
    zx_wb_node *e = zx_wb_new(g_pool, ZX_Ping_Ping);
    e->flags |= ZX_WB_F_CONTENT;
    enc_ok(e, &out, &outlen);
    ASSERT_BYTES(out, outlen, BYTES(HDR, 0x00, 0x0D, 0x45, 0x01));
}
END_TEST

/* [MS-ASWBXML] 2.1.3: ActiveSync uses no string table.  The codec refuses a non-empty
 * table, STR_T references and a public id given as a string-table index, all with ESTRTBL. */
START_TEST(test_string_table_refused)
{
    zx_wb_node *root = (zx_wb_node *)1;
    apr_size_t off = 0;
    /* a valid WBXML 1.3 document with a string table and STR_T references */
    ck_assert_int_eq(dec(BYTES(0x03, 0x01, 0x6A, 0x07, 'a', 'b', 'c', 0x00, 'd', 'e', 0x00,
                               0x45, 0x4E, 0x83, 0x00, 0x01, 0x4B, 0x83, 0x04, 0x01, 0x01),
                         &root, &off), ZX_WBXML_ESTRTBL);
    ck_assert_ptr_null(root);
    ck_assert_uint_eq(off, 4);
    /* STR_T with an empty table: valid index or not, it is refused where it stands */
    ck_assert_int_eq(dec(BYTES(HDR, 0x45, 0x4E, 0x83, 0x00, 0x01, 0x01), &root, &off),
                     ZX_WBXML_ESTRTBL);
    ck_assert_uint_eq(off, 6);
    ck_assert_int_eq(dec(BYTES(HDR, 0x45, 0x83, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x01), &root,
                         &off), ZX_WBXML_ESTRTBL);
    ck_assert_uint_eq(off, 5);
    /* STR_T before the root */
    ck_assert_int_eq(dec(BYTES(HDR, 0x83, 0x00, 0x05), &root, &off), ZX_WBXML_ESTRTBL);
    ck_assert_uint_eq(off, 4);
    /* the table length is checked before its bytes: a table longer than the input */
    ck_assert_int_eq(dec(BYTES(0x03, 0x01, 0x6A, 0x10, 'a', 0x00, 0x45, 0x01), &root, &off),
                     ZX_WBXML_ESTRTBL);
    /* an empty table written as a non-minimal integer is still empty */
    root = dec_ok(BYTES(0x03, 0x01, 0x6A, 0x80, 0x00, 0x45, 0x4E, 0x03, 'x', 0x00, 0x01, 0x01));
    ck_assert_str_eq(zx_wb_child_text(g_pool, root, ZX_AirSync_Status), "x");
}
END_TEST

START_TEST(test_publicid)
{
    zx_wb_node *root = (zx_wb_node *)1;
    apr_size_t off = 0;
    /* public id 0: the id is a string-table index, and there is no string table in EAS */
    ck_assert_int_eq(dec(BYTES(0x03, 0x00, 0x02, 0x6A, 0x0B, 'X', 'Y', '-', '/', '/', 'A', 'S',
                               0x00, 'o', 'k', 0x00, 0x45, 0x4E, 0x03, 'a', 0x00, 0x01, 0x01),
                         &root, &off), ZX_WBXML_ESTRTBL);
    ck_assert_ptr_null(root);
    ck_assert_uint_eq(off, 2);
    ck_assert_int_eq(dec(BYTES(0x03, 0x00, 0x00, 0x6A, 0x00, 0x05), &root, &off),
                     ZX_WBXML_ESTRTBL);
    ck_assert_int_eq(dec(BYTES(0x03, 0x80, 0x00, 0x00, 0x6A, 0x00, 0x05), &root, &off),
                     ZX_WBXML_ESTRTBL);
    /* other public ids are accepted and re-encoded as 1 (unknown) */
    root = dec_ok(BYTES(0x03, 0x7F, 0x6A, 0x00, 0x45, 0x4E, 0x03, 'o', 'k', 0x00, 0x01, 0x01));
    ck_assert_str_eq(zx_wb_child_text(g_pool, root, ZX_AirSync_Status), "ok");
    unsigned char *out;
    size_t outlen;
    enc_ok(root, &out, &outlen);
    ASSERT_BYTES(out, outlen, BYTES(HDR, 0x45, 0x4E, 0x03, 'o', 'k', 0x00, 0x01, 0x01));
    root = dec_ok(BYTES(0x03, 0x81, 0x00, 0x6A, 0x00, 0x05));
    ck_assert_uint_eq(root->tag, ZX_AirSync_Sync);
    /* other version bytes that are accepted */
    root = dec_ok(BYTES(0x01, 0x01, 0x6A, 0x00, 0x05));
    root = dec_ok(BYTES(0x02, 0x01, 0x6A, 0x00, 0x05));
    ck_assert_uint_eq(root->tag, ZX_AirSync_Sync);
}
END_TEST

/* ---- every error code ------------------------------------------------------------------ */

#define NOOFF ((long)-1)

typedef struct {
    const char *name;
    const unsigned char *buf;
    size_t len;
    zx_wbxml_status want;
    long off;          /* expected err_offset, NOOFF = only <= len */
    size_t max_size;
    unsigned max_depth;
} dcase;

#define STRDOC(...) BYTES(HDR, 0x45, 0x4E, 0x03, __VA_ARGS__, 0x00, 0x01, 0x01)

static const dcase dcases[] = {
    {"empty input", (const unsigned char *)"", 0, ZX_WBXML_EEMPTY, 0, 0, 0},
    {"header only", BYTES(HDR), ZX_WBXML_EEMPTY, 4, 0, 0},
    {"header and switch page only", BYTES(HDR, 0x00, 0x01), ZX_WBXML_EEMPTY, 6, 0, 0},
    {"over the size limit", BYTES(HDR, 0x45, 0x4E, 0x03, 'a', 0x00, 0x01, 0x01),
     ZX_WBXML_ETOOBIG, 0, 10, 0},
    {"one byte", BYTES(0x03), ZX_WBXML_ETRUNC, 1, 0, 0},
    {"element not closed", BYTES(HDR, 0x45, 0x4E), ZX_WBXML_ETRUNC, 6, 0, 0},
    {"STR_I without NUL", BYTES(HDR, 0x45, 0x03, 'a', 'b'), ZX_WBXML_ETRUNC, 6, 0, 0},
    {"SWITCH_PAGE without page", BYTES(HDR, 0x00), ZX_WBXML_ETRUNC, 5, 0, 0},
    {"opaque past the end", BYTES(HDR, 0x45, 0xC3, 0x05, 'a', 'b', 0x01), ZX_WBXML_ETRUNC, 7,
     0, 0},
    {"opaque length cut", BYTES(HDR, 0x45, 0xC3, 0x81), ZX_WBXML_ETRUNC, NOOFF, 0, 0},
    {"version 0x00", BYTES(0x00, 0x01, 0x6A, 0x00, 0x05), ZX_WBXML_EVERSION, 0, 0, 0},
    {"version 0x04", BYTES(0x04, 0x01, 0x6A, 0x00, 0x05), ZX_WBXML_EVERSION, 0, 0, 0},
    {"version 0xFF", BYTES(0xFF, 0x01, 0x6A, 0x00, 0x05), ZX_WBXML_EVERSION, 0, 0, 0},
    {"charset latin-1", BYTES(0x03, 0x01, 0x04, 0x00, 0x05), ZX_WBXML_ECHARSET, 3, 0, 0},
    {"charset 0", BYTES(0x03, 0x01, 0x00, 0x00, 0x05), ZX_WBXML_ECHARSET, 3, 0, 0},
    {"6-byte public id", BYTES(0x03, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01, 0x6A, 0x00, 0x05),
     ZX_WBXML_EMBINT, 6, 0, 0},
    {"public id 2^32", BYTES(0x03, 0x90, 0x80, 0x80, 0x80, 0x00, 0x6A, 0x00, 0x05),
     ZX_WBXML_EMBINT, 6, 0, 0},
    {"opaque length over 32 bits", BYTES(HDR, 0x45, 0xC3, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x01),
     ZX_WBXML_EMBINT, NOOFF, 0, 0},
    {"opaque length 6 bytes", BYTES(HDR, 0x45, 0xC3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01),
     ZX_WBXML_EMBINT, 11, 0, 0},
    {"string table length 6 bytes", BYTES(0x03, 0x01, 0x6A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00),
     ZX_WBXML_EMBINT, NOOFF, 0, 0},
    {"page 26", BYTES(HDR, 0x00, 0x1A, 0x05), ZX_WBXML_EPAGE, 4, 0, 0},
    {"page 255 inside root", BYTES(HDR, 0x45, 0x00, 0xFF, 0x05, 0x01), ZX_WBXML_EPAGE, 5, 0, 0},
    {"token 0x2A on AirSync", BYTES(HDR, 0x6A, 0x01), ZX_WBXML_ETOKEN, 4, 0, 0},
    {"token 0x3F on AirSync", BYTES(HDR, 0x45, 0x3F, 0x01), ZX_WBXML_ETOKEN, 5, 0, 0},
    {"token 0x3F on Find", BYTES(HDR, 0x45, 0x00, 0x19, 0x7F, 0x01, 0x01), ZX_WBXML_ETOKEN, 7,
     0, 0},
    {"attributes on root", BYTES(HDR, 0x85, 0x01), ZX_WBXML_EATTR, 4, 0, 0},
    {"attributes and content", BYTES(HDR, 0x45, 0xCE, 0x01, 0x01), ZX_WBXML_EATTR, 5, 0, 0},
    {"attributes, unknown token", BYTES(HDR, 0xBF, 0x01), ZX_WBXML_EATTR, 4, 0, 0},
    {"ENTITY", BYTES(HDR, 0x45, 0x02, 0x41, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"LITERAL", BYTES(HDR, 0x45, 0x04, 0x00, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"LITERAL_C", BYTES(HDR, 0x45, 0x44, 0x00, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"LITERAL_A", BYTES(HDR, 0x45, 0x84, 0x00, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"LITERAL_AC", BYTES(HDR, 0x45, 0xC4, 0x00, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"EXT_I_0", BYTES(HDR, 0x45, 0x40, 'a', 0x00, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"EXT_I_1", BYTES(HDR, 0x45, 0x41, 'a', 0x00, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"EXT_I_2", BYTES(HDR, 0x45, 0x42, 'a', 0x00, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"PI", BYTES(HDR, 0x45, 0x43, 0x05, 0x01, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"EXT_T_0", BYTES(HDR, 0x45, 0x80, 0x00, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"EXT_T_1", BYTES(HDR, 0x45, 0x81, 0x00, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"EXT_T_2", BYTES(HDR, 0x45, 0x82, 0x00, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"EXT_0", BYTES(HDR, 0x45, 0xC0, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"EXT_1", BYTES(HDR, 0x45, 0xC1, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"EXT_2", BYTES(HDR, 0x45, 0xC2, 0x01), ZX_WBXML_EUNSUPPORTED, 5, 0, 0},
    {"ENTITY before root", BYTES(HDR, 0x02, 0x41, 0x05), ZX_WBXML_EUNSUPPORTED, 4, 0, 0},
    {"non-empty string table", BYTES(0x03, 0x01, 0x6A, 0x02, 'a', 0x00, 0x05),
     ZX_WBXML_ESTRTBL, 4, 0, 0},
    {"public id as string table index", BYTES(0x03, 0x00, 0x00, 0x6A, 0x01, 0x00, 0x05),
     ZX_WBXML_ESTRTBL, 2, 0, 0},
    {"STR_T reference", BYTES(HDR, 0x45, 0x4E, 0x83, 0x00, 0x01, 0x01), ZX_WBXML_ESTRTBL, 6,
     0, 0},
    {"depth 3 of 2", BYTES(HDR, 0x45, 0x5C, 0x4F, 0x01, 0x01, 0x01), ZX_WBXML_EDEPTH, 6, 0, 2},
    {"END at top level", BYTES(HDR, 0x01), ZX_WBXML_ESTRUCT, 4, 0, 0},
    {"END after root", BYTES(HDR, 0x45, 0x01, 0x01), ZX_WBXML_ESTRUCT, NOOFF, 0, 0},
    {"text before root", BYTES(HDR, 0x03, 'a', 0x00, 0x45, 0x01), ZX_WBXML_ESTRUCT, 4, 0, 0},
    {"opaque before root", BYTES(HDR, 0xC3, 0x01, 'a', 0x45, 0x01), ZX_WBXML_ESTRUCT, 4, 0, 0},
    {"second root (content)", BYTES(HDR, 0x45, 0x01, 0x45, 0x01), ZX_WBXML_ESTRUCT, NOOFF, 0, 0},
    {"second root (empty)", BYTES(HDR, 0x05, 0x05), ZX_WBXML_ESTRUCT, 5, 0, 0},
    {"second root after empty root", BYTES(HDR, 0x05, 0x45, 0x01), ZX_WBXML_ESTRUCT, 5, 0, 0},
    {"trailing byte", BYTES(HDR, 0x45, 0x01, 0x05), ZX_WBXML_ESTRUCT, NOOFF, 0, 0},
    {"trailing text after empty root", BYTES(HDR, 0x05, 0x03, 'a', 0x00), ZX_WBXML_ESTRUCT, 5,
     0, 0},
    {"overlong 2-byte NUL", STRDOC(0xC0, 0x80), ZX_WBXML_EUTF8, 7, 0, 0},
    {"overlong 2-byte C1", STRDOC(0xC1, 0xBF), ZX_WBXML_EUTF8, 7, 0, 0},
    {"overlong 3-byte", STRDOC(0xE0, 0x80, 0xAF), ZX_WBXML_EUTF8, 7, 0, 0},
    {"overlong 4-byte", STRDOC(0xF0, 0x8F, 0xBF, 0xBF), ZX_WBXML_EUTF8, 7, 0, 0},
    {"surrogate D800", STRDOC('a', 0xED, 0xA0, 0x80), ZX_WBXML_EUTF8, 7, 0, 0},
    {"surrogate DFFF", STRDOC(0xED, 0xBF, 0xBF, 'a'), ZX_WBXML_EUTF8, 7, 0, 0},
    {"above U+10FFFF", STRDOC(0xF4, 0x90, 0x80, 0x80), ZX_WBXML_EUTF8, 7, 0, 0},
    {"F5 lead byte", STRDOC(0xF5, 0x80, 0x80, 0x80), ZX_WBXML_EUTF8, 7, 0, 0},
    {"FF byte", STRDOC(0xFF), ZX_WBXML_EUTF8, 7, 0, 0},
    {"lone continuation", STRDOC('a', 0x80, 'b'), ZX_WBXML_EUTF8, 7, 0, 0},
    {"truncated 2-byte", STRDOC('a', 0xC3), ZX_WBXML_EUTF8, 7, 0, 0},
    {"truncated 3-byte", STRDOC(0xE2, 0x82), ZX_WBXML_EUTF8, 7, 0, 0},
    {"truncated 4-byte", STRDOC(0xF0, 0x9F, 0x98), ZX_WBXML_EUTF8, 7, 0, 0},
    {"truncated sequence then ASCII", STRDOC(0xE2, 0x82, 'a', 'b'), ZX_WBXML_EUTF8, 7, 0, 0},
    {"bad byte after 8 ASCII bytes", STRDOC('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 0xC0),
     ZX_WBXML_EUTF8, 7, 0, 0},
    {"bad byte after 16 ASCII bytes", STRDOC('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'a', 'b',
                                             'c', 'd', 'e', 'f', 'g', 'h', 0xED, 0xA0, 0x80),
     ZX_WBXML_EUTF8, 7, 0, 0},
    {"valid UTF-8 is accepted", STRDOC('a', 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80,
                                       0xEF, 0xBF, 0xBF, 0xF4, 0x8F, 0xBF, 0xBF, 0xED, 0x9F,
                                       0xBF, 0xEE, 0x80, 0x80, 'z'), ZX_WBXML_OK, 0, 0, 0},
    {"size at the limit is accepted", BYTES(HDR, 0x45, 0x4E, 0x03, 0x00, 0x01, 0x01),
     ZX_WBXML_OK, 0, 10, 0},
    {"depth at the limit is accepted", BYTES(HDR, 0x45, 0x5C, 0x01, 0x01), ZX_WBXML_OK, 0, 0, 2},
};

START_TEST(test_decode_error_case)
{
    const dcase *c = &dcases[_i];
    zx_wbxml_limits lim = {.max_size = c->max_size, .max_depth = c->max_depth};
    zx_wb_node *root = (zx_wb_node *)1;
    apr_size_t off = 12345;
    zx_wbxml_status st = zx_wbxml_decode(g_pool, c->buf, c->len, &lim, &root, &off);
    ck_assert_msg(st == c->want, "%s: got %s (%d) at %zu, want %s (%d)", c->name,
                  zx_wbxml_strerror(st), (int)st, (size_t)off, zx_wbxml_strerror(c->want),
                  (int)c->want);
    if (st == ZX_WBXML_OK) {
        ck_assert_ptr_nonnull(root);
        return;
    }
    ck_assert_msg(root == NULL, "%s: root set on failure", c->name);
    ck_assert_msg(off <= c->len, "%s: err_offset %zu past the end (%zu)", c->name, (size_t)off,
                  c->len);
    if (c->off != NOOFF)
        ck_assert_msg((long)off == c->off, "%s: err_offset %zu, want %ld", c->name, (size_t)off,
                      c->off);
}
END_TEST

/* The node budget: counted while decoding (elements, texts, opaque data), the first node over
 * it fails the decode at its token, before it is allocated. */
START_TEST(test_node_budget)
{
    zx_wb_node *root;
    apr_size_t off;
    /* the root and three empty elements are four nodes */
    zx_wbxml_limits lim = {.max_nodes = 4};
    ck_assert_int_eq(zx_wbxml_decode(g_pool, BYTES(HDR, 0x45, 0x0E, 0x0E, 0x0E, 0x01), &lim,
                                     &root, &off), ZX_WBXML_OK);
    lim.max_nodes = 3;
    ck_assert_int_eq(zx_wbxml_decode(g_pool, BYTES(HDR, 0x45, 0x0E, 0x0E, 0x0E, 0x01), &lim,
                                     &root, &off), ZX_WBXML_ENODES);
    ck_assert_uint_eq(off, 7);
    ck_assert_ptr_null(root);
    /* a text node counts, and so does opaque data */
    lim.max_nodes = 2;
    ck_assert_int_eq(zx_wbxml_decode(g_pool, BYTES(HDR, 0x45, 0x4E, 0x03, 'a', 0x00, 0x01, 0x01),
                                     &lim, &root, &off), ZX_WBXML_ENODES);
    ck_assert_uint_eq(off, 6);
    ck_assert_int_eq(zx_wbxml_decode(g_pool, BYTES(HDR, 0x45, 0x4E, 0xC3, 0x01, 'a', 0x01, 0x01),
                                     &lim, &root, &off), ZX_WBXML_ENODES);
    ck_assert_uint_eq(off, 6);
    lim.max_nodes = 3;
    ck_assert_int_eq(zx_wbxml_decode(g_pool, BYTES(HDR, 0x45, 0x4E, 0x03, 'a', 0x00, 0x01, 0x01),
                                     &lim, &root, &off), ZX_WBXML_OK);

    /* a bomb: 1 MB of one-byte empty elements stops at the first node over the budget */
    apr_size_t n = 1024u * 1024u;
    unsigned char *bomb = malloc(n);
    ck_assert_ptr_nonnull(bomb);
    memcpy(bomb, (const unsigned char[]){0x03, 0x01, 0x6A, 0x00, 0x45}, 5);
    memset(bomb + 5, 0x0E, n - 6);
    bomb[n - 1] = 0x01;
    lim.max_nodes = 1000;
    ck_assert_int_eq(zx_wbxml_decode(g_pool, bomb, n, &lim, &root, &off), ZX_WBXML_ENODES);
    ck_assert_uint_eq(off, 4 + 1000);
    lim.max_nodes = n;
    ck_assert_int_eq(zx_wbxml_decode(g_pool, bomb, n, &lim, &root, &off), ZX_WBXML_OK);
    free(bomb);
    ck_assert_str_eq(zx_wbxml_strerror(ZX_WBXML_ENODES), "more elements and strings than the limit");
}
END_TEST

START_TEST(test_error_codes_all_covered)
{
    unsigned seen[ZX_WBXML_ERR_COUNT_] = {0};
    for (size_t i = 0; i < sizeof dcases / sizeof dcases[0]; i++)
        seen[dcases[i].want]++;
    for (int st = ZX_WBXML_EEMPTY; st < ZX_WBXML_ERR_COUNT_; st++) {
        if (st == ZX_WBXML_EENCODE || st == ZX_WBXML_EXML || st == ZX_WBXML_ENODES)
            continue;   /* encoder and XML: test_encode_errors, test_xml_errors; node
                           budget: test_node_budget */
        ck_assert_msg(seen[st] > 0, "no decode case for %s", zx_wbxml_strerror(st));
    }
    /* messages exist and differ */
    for (int a = 0; a < ZX_WBXML_ERR_COUNT_; a++) {
        ck_assert_str_ne(zx_wbxml_strerror(a), "unknown WBXML error");
        for (int b = a + 1; b < ZX_WBXML_ERR_COUNT_; b++)
            ck_assert_str_ne(zx_wbxml_strerror(a), zx_wbxml_strerror(b));
    }
    ck_assert_str_eq(zx_wbxml_strerror(ZX_WBXML_ERR_COUNT_), "unknown WBXML error");
    ck_assert_str_eq(zx_wbxml_strerror((zx_wbxml_status)-1), "unknown WBXML error");
}
END_TEST

START_TEST(test_empty_inputs)
{
    zx_wb_node *root = (zx_wb_node *)1;
    apr_size_t off = 99;
    ck_assert_int_eq(zx_wbxml_decode(g_pool, NULL, 0, NULL, &root, &off), ZX_WBXML_EEMPTY);
    ck_assert_ptr_null(root);
    ck_assert_int_eq(zx_wbxml_decode(g_pool, NULL, 5, NULL, &root, &off), ZX_WBXML_EEMPTY);
    ck_assert_int_eq(zx_wbxml_decode(g_pool, (const unsigned char *)"\x03", 0, NULL, &root, NULL),
                     ZX_WBXML_EEMPTY);
}
END_TEST

/* Nothing may follow the root element.  After a root with content the END token catches it;
 * after an empty root (no content bit) a trailing SWITCH_PAGE must be refused as well. */
START_TEST(test_trailing_bytes_after_empty_root)
{
    static const unsigned char after_content[] = {HDR, 0x45, 0x01, 0x00, 0x01};
    static const unsigned char after_empty[] = {HDR, 0x05, 0x00, 0x01};
    static const unsigned char after_empty_twice[] = {HDR, 0x05, 0x00, 0x01, 0x00, 0x00};
    zx_wb_node *root = NULL;
    apr_size_t off = 0;
    zx_wbxml_status st = dec(after_content, sizeof after_content, &root, &off);
    ck_assert_msg(st == ZX_WBXML_ESTRUCT, "<Sync></Sync> SWITCH_PAGE 1: got %s",
                  zx_wbxml_strerror(st));
    st = dec(after_empty, sizeof after_empty, &root, &off);
    ck_assert_msg(st == ZX_WBXML_ESTRUCT, "<Sync/> SWITCH_PAGE 1: got \"%s\", want \"%s\"",
                  zx_wbxml_strerror(st), zx_wbxml_strerror(ZX_WBXML_ESTRUCT));
    ck_assert_uint_eq(off, 5);
    st = dec(after_empty_twice, sizeof after_empty_twice, &root, &off);
    ck_assert_msg(st == ZX_WBXML_ESTRUCT, "<Sync/> SWITCH_PAGE 1 SWITCH_PAGE 0: got \"%s\"",
                  zx_wbxml_strerror(st));
}
END_TEST

START_TEST(test_size_limit)
{
    size_t len;
    unsigned char *buf = example_bytes(&len);
    zx_wb_node *root;
    apr_size_t off = 77;
    zx_wbxml_limits lim = {.max_size = len};
    ck_assert_int_eq(zx_wbxml_decode(g_pool, buf, len, &lim, &root, &off), ZX_WBXML_OK);
    lim.max_size = len - 1;
    ck_assert_int_eq(zx_wbxml_decode(g_pool, buf, len, &lim, &root, &off), ZX_WBXML_ETOOBIG);
    ck_assert_uint_eq(off, 0);
    ck_assert_ptr_null(root);
    /* the default limit applies when max_size is 0 */
    lim.max_size = 0;
    ck_assert_int_eq(zx_wbxml_decode(g_pool, buf, len, &lim, &root, &off), ZX_WBXML_OK);
    ck_assert_int_eq(zx_wbxml_decode(g_pool, buf, ZX_WBXML_DEFAULT_MAX_SIZE + 1, &lim, &root,
                                     &off), ZX_WBXML_ETOOBIG);
}
END_TEST

static bytes nested_doc(unsigned levels, int empty_leaf)
{
    bytes b;
    b_init(&b, g_pool);
    b_put(&b, BYTES(HDR));
    for (unsigned i = 0; i < levels; i++)
        b_byte(&b, 0x45);
    if (empty_leaf)
        b_byte(&b, 0x0E);
    for (unsigned i = 0; i < levels; i++)
        b_byte(&b, 0x01);
    return b;
}

START_TEST(test_depth_limit)
{
    zx_wb_node *root;
    apr_size_t off = 0;
    /* default limit: 64 nested elements with content decode, 65 do not */
    bytes ok = nested_doc(ZX_WBXML_DEFAULT_MAX_DEPTH, 0);
    root = dec_ok(ok.d, ok.n);
    unsigned depth = 0;
    for (zx_wb_node *n = root; n; n = n->first)
        depth++;
    ck_assert_uint_eq(depth, ZX_WBXML_DEFAULT_MAX_DEPTH);
    unsigned char *out;
    size_t outlen;
    enc_ok(root, &out, &outlen);
    ASSERT_BYTES(out, outlen, ok.d, ok.n);

    bytes deep = nested_doc(ZX_WBXML_DEFAULT_MAX_DEPTH + 1, 0);
    ck_assert_int_eq(dec(deep.d, deep.n, &root, &off), ZX_WBXML_EDEPTH);
    ck_assert_uint_eq(off, 4 + ZX_WBXML_DEFAULT_MAX_DEPTH);

    /* explicit limit */
    zx_wbxml_limits lim = {.max_depth = 10};
    bytes ten = nested_doc(10, 0), eleven = nested_doc(11, 0);
    ck_assert_int_eq(zx_wbxml_decode(g_pool, ten.d, ten.n, &lim, &root, &off), ZX_WBXML_OK);
    ck_assert_int_eq(zx_wbxml_decode(g_pool, eleven.d, eleven.n, &lim, &root, &off),
                     ZX_WBXML_EDEPTH);
    ck_assert_uint_eq(off, 14);
    lim.max_depth = 1;
    ck_assert_int_eq(zx_wbxml_decode(g_pool, BYTES(HDR, 0x45, 0x01), &lim, &root, &off),
                     ZX_WBXML_OK);
    ck_assert_int_eq(zx_wbxml_decode(g_pool, BYTES(HDR, 0x45, 0x45, 0x01, 0x01), &lim, &root,
                                     &off), ZX_WBXML_EDEPTH);

    /* the XML parser has a limit of its own */
    char *xml = apr_pstrdup(g_pool, "");
    for (int i = 0; i < 70; i++)
        xml = apr_pstrcat(g_pool, xml, i == 0 ? "<Sync xmlns=\"AirSync\">" : "<Sync>", NULL);
    for (int i = 0; i < 70; i++)
        xml = apr_pstrcat(g_pool, xml, "</Sync>", NULL);
    const char *err = NULL;
    ck_assert_int_eq(zx_wbxml_from_xml(g_pool, xml, strlen(xml), &root, &err), ZX_WBXML_EXML);
    ck_assert_ptr_nonnull(err);
}
END_TEST

/* Cut a valid document at every byte: every strict prefix must fail, with the right code. */
static void check_all_prefixes(const unsigned char *doc, size_t len, size_t header_len)
{
    zx_wb_node *root = NULL;
    ck_assert_int_eq(dec(doc, len, &root, NULL), ZX_WBXML_OK);
    for (size_t n = 0; n < len; n++) {
        apr_size_t off = 0;
        /* a copy of exactly n bytes, so that valgrind sees any read past the end */
        unsigned char *copy = malloc(n ? n : 1);
        memcpy(copy, doc, n);
        zx_wbxml_status st = dec(copy, n, &root, &off);
        free(copy);
        zx_wbxml_status want = (n == 0 || n == header_len) ? ZX_WBXML_EEMPTY : ZX_WBXML_ETRUNC;
        ck_assert_msg(st == want, "prefix of %zu/%zu bytes: got %s, want %s", n, len,
                      zx_wbxml_strerror(st), zx_wbxml_strerror(want));
        ck_assert_msg(off <= n, "prefix %zu: err_offset %zu", n, (size_t)off);
    }
}

START_TEST(test_truncation_everywhere)
{
    size_t len;
    unsigned char *ex = example_bytes(&len);
    check_all_prefixes(ex, len, 4);

    bytes b;
    b_init(&b, g_pool);
    b_put(&b, BYTES(0x03, 0x81, 0x01, 0x80, 0x6A, 0x00, 0x45, 0x4E, 0x03, 'a', 0xC3, 0xA9, 0x00,
                    0x01, 0x4B, 0xC3, 0x81, 0x00));
    for (int i = 0; i < 128; i++)
        b_byte(&b, (unsigned)i);
    b_put(&b, BYTES(0x01, 0x00, 0x11, 0x4A, 0x0B, 0x01, 0x01));
    check_all_prefixes(b.d, b.n, 6);

    zx_wb_node *all = all_tags_doc(g_pool, NULL);
    unsigned char *out;
    size_t outlen;
    enc_ok(all, &out, &outlen);
    check_all_prefixes(out, outlen, 4);
}
END_TEST

START_TEST(test_encode_errors)
{
    unsigned char *out = NULL;
    apr_size_t outlen = 0;
    /* unknown tags: token 0x2A on AirSync, page 26, token beyond 63, global token range */
    static const unsigned bad_tags[] = {0x002A, 0x1A05, 0x0045, 0x0003, 0x00FF, 0x193F};
    for (unsigned i = 0; i < sizeof bad_tags / sizeof bad_tags[0]; i++) {
        zx_wb_node *root = zx_wb_new(g_pool, ZX_AirSync_Sync);
        zx_wb_add_text(g_pool, root, bad_tags[i], "x");
        ck_assert_msg(zx_wbxml_encode(g_pool, root, &out, &outlen) == ZX_WBXML_EENCODE,
                      "tag 0x%04X encoded", bad_tags[i]);
        ck_assert_int_eq(zx_wbxml_encode(g_pool, zx_wb_new(g_pool, bad_tags[i]), &out, &outlen),
                         ZX_WBXML_EENCODE);
    }
    /* text containing a NUL */
    zx_wb_node *root = zx_wb_new(g_pool, ZX_AirSync_Sync);
    zx_wb_node *st = zx_wb_add_text(g_pool, root, ZX_AirSync_Status, "ab");
    st->first->data = "a\0b";
    st->first->len = 3;
    ck_assert_int_eq(zx_wbxml_encode(g_pool, root, &out, &outlen), ZX_WBXML_EENCODE);
    /* the same bytes as opaque are fine */
    zx_wb_node *ok = zx_wb_new(g_pool, ZX_AirSync_Sync);
    zx_wb_add_opaque(g_pool, ok, ZX_AirSync_Status, "a\0b", 3);
    ck_assert_int_eq(zx_wbxml_encode(g_pool, ok, &out, &outlen), ZX_WBXML_OK);
    ASSERT_BYTES(out, outlen, BYTES(HDR, 0x45, 0x4E, 0xC3, 0x03, 'a', 0x00, 'b', 0x01, 0x01));
    /* no root, a text root, a node of unknown kind */
    ck_assert_int_eq(zx_wbxml_encode(g_pool, NULL, &out, &outlen), ZX_WBXML_EENCODE);
    zx_wb_node *t = zx_wb_add_text(g_pool, zx_wb_new(g_pool, ZX_AirSync_Sync), ZX_AirSync_Status,
                                   "x")->first;
    ck_assert_int_eq(zx_wbxml_encode(g_pool, t, &out, &outlen), ZX_WBXML_EENCODE);
    zx_wb_node *weird = zx_wb_new(g_pool, ZX_AirSync_Sync);
    zx_wb_node *k = zx_wb_add_text(g_pool, weird, ZX_AirSync_Status, "x");
    k->first->kind = 7;
    ck_assert_int_eq(zx_wbxml_encode(g_pool, weird, &out, &outlen), ZX_WBXML_EENCODE);
    /* an unknown tag deep inside */
    zx_wb_node *deep = zx_wb_new(g_pool, ZX_AirSync_Sync);
    zx_wb_node *n = deep;
    for (int i = 0; i < 20; i++)
        n = zx_wb_add(g_pool, n, ZX_AirSync_Collection);
    zx_wb_add(g_pool, n, 0x002A);   /* AirSync token 0x2A is unassigned */
    ck_assert_int_eq(zx_wbxml_encode(g_pool, deep, &out, &outlen), ZX_WBXML_EENCODE);
}
END_TEST

START_TEST(test_xml_errors)
{
    static const char *const bad[] = {
        "",
        "not xml at all",
        "<Sync xmlns=\"AirSync\">",
        "<Sync xmlns=\"AirSync\"></Status>",
        "<Sync xmlns=\"AirSync\"><Status>1</Status>",
        "<Sync/>",
        "<Sync xmlns=\"NoSuchNamespace\"/>",
        "<Sync xmlns=\"airsync\"/>",
        "<NoSuchElement xmlns=\"AirSync\"/>",
        "<Sync xmlns=\"AirSync\"><Body/></Sync>",
        "<Sync xmlns=\"AirSync\"><x:Body xmlns:x=\"Nope\"/></Sync>",
        "<Sync xmlns=\"AirSync\"><Status>1</Status></Sync><Sync xmlns=\"AirSync\"/>",
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        zx_wb_node *root = (zx_wb_node *)1;
        const char *err = NULL;
        ck_assert_msg(zx_wbxml_from_xml(g_pool, bad[i], strlen(bad[i]), &root, &err) ==
                      ZX_WBXML_EXML, "accepted: %s", bad[i]);
        ck_assert_ptr_null(root);
        ck_assert_msg(err != NULL && *err, "no message for %s", bad[i]);
    }
    zx_wb_node *root;
    const char *err = NULL;
    const char *x = "<NoSuchElement xmlns=\"AirSync\"/>";
    zx_wbxml_from_xml(g_pool, x, strlen(x), &root, &err);
    ck_assert_ptr_nonnull(strstr(err, "NoSuchElement"));
    x = "<Sync xmlns=\"NoSuchNamespace\"/>";
    zx_wbxml_from_xml(g_pool, x, strlen(x), &root, &err);
    ck_assert_ptr_nonnull(strstr(err, "NoSuchNamespace"));
    /* errmsg may be NULL */
    ck_assert_int_eq(zx_wbxml_from_xml(g_pool, "<", 1, &root, NULL), ZX_WBXML_EXML);
    /* len limits the input: the tail is not read */
    x = "<Sync xmlns=\"AirSync\"/>garbage";
    ck_assert_int_eq(zx_wbxml_from_xml(g_pool, x, 23, &root, &err), ZX_WBXML_OK);
    ck_assert_uint_eq(root->tag, ZX_AirSync_Sync);
}
END_TEST

/* ---- building and navigation ------------------------------------------------------------- */

START_TEST(test_builders_and_navigation)
{
    zx_wb_node *root = zx_wb_new(g_pool, ZX_FolderHierarchy_FolderSync);
    ck_assert_uint_eq(root->kind, ZX_WB_ELEMENT);
    ck_assert_uint_eq(root->tag, ZX_FolderHierarchy_FolderSync);
    ck_assert_ptr_null(root->first);
    ck_assert_ptr_null(root->last);
    ck_assert_ptr_null(root->next);
    ck_assert_uint_eq(root->flags, 0);

    zx_wb_node *status = zx_wb_add_textf(g_pool, root, ZX_FolderHierarchy_Status, "%d-%s", 1,
                                         "ok");
    zx_wb_node *key = zx_wb_add_text(g_pool, root, ZX_FolderHierarchy_SyncKey, "k1");
    zx_wb_node *changes = zx_wb_add(g_pool, root, ZX_FolderHierarchy_Changes);
    zx_wb_add_textf(g_pool, changes, ZX_FolderHierarchy_Count, "%u", 3u);
    zx_wb_node *adds[3];
    for (int i = 0; i < 3; i++) {
        adds[i] = zx_wb_add(g_pool, changes, ZX_FolderHierarchy_Add);
        zx_wb_add_textf(g_pool, adds[i], ZX_FolderHierarchy_ServerId, "%d", i + 1);
        zx_wb_add_text(g_pool, adds[i], ZX_FolderHierarchy_DisplayName, i == 1 ? "Inbox" : "x");
    }
    zx_wb_node *bin = zx_wb_add_opaque(g_pool, root, ZX_FolderHierarchy_Type, "\x07\x00", 2);
    zx_wb_node *late = zx_wb_new(g_pool, ZX_FolderHierarchy_SyncKey);
    zx_wb_append(root, late);
    zx_wb_add_text(g_pool, late, ZX_FolderHierarchy_Folder, "inner");

    ck_assert_ptr_eq(root->first, status);
    ck_assert_ptr_eq(root->last, late);
    ck_assert_ptr_eq(status->next, key);
    ck_assert_ptr_null(late->next);
    ck_assert_str_eq(zx_wb_text(g_pool, status), "1-ok");
    ck_assert_str_eq(zx_wb_child_text(g_pool, root, ZX_FolderHierarchy_Status), "1-ok");
    ck_assert_str_eq(zx_wb_child_text(g_pool, root, ZX_FolderHierarchy_SyncKey), "k1");
    ck_assert_ptr_eq(zx_wb_child(root, ZX_FolderHierarchy_SyncKey), key);
    ck_assert_ptr_eq(zx_wb_next(key, ZX_FolderHierarchy_SyncKey), late);
    ck_assert_ptr_null(zx_wb_next(late, ZX_FolderHierarchy_SyncKey));
    ck_assert_ptr_null(zx_wb_child(root, ZX_FolderHierarchy_Folders));
    ck_assert_ptr_null(zx_wb_child_text(g_pool, root, ZX_FolderHierarchy_Folders));
    ck_assert_ptr_null(zx_wb_text(g_pool, changes));   /* only element children */
    ck_assert_ptr_null(zx_wb_text(g_pool, late));
    ck_assert_str_eq(zx_wb_child_text(g_pool, changes, ZX_FolderHierarchy_Count), "3");

    /* iterate the Add elements; the Count element in between is skipped by tag */
    int i = 0;
    for (zx_wb_node *a = zx_wb_child(changes, ZX_FolderHierarchy_Add); a;
         a = zx_wb_next(a, ZX_FolderHierarchy_Add), i++) {
        ck_assert_ptr_eq(a, adds[i]);
        ck_assert_str_eq(zx_wb_child_text(g_pool, a, ZX_FolderHierarchy_ServerId),
                         apr_psprintf(g_pool, "%d", i + 1));
    }
    ck_assert_int_eq(i, 3);
    ck_assert_str_eq(zx_wb_child_text(g_pool, adds[1], ZX_FolderHierarchy_DisplayName), "Inbox");

    /* opaque content through zx_wb_text: copied, NUL-terminated */
    const char *bt = zx_wb_text(g_pool, bin);
    ck_assert_int_eq(bt[0], 7);
    ck_assert_int_eq(bt[1], 0);
    ck_assert_int_eq(bt[2], 0);

    /* NULL-safe */
    ck_assert_ptr_null(zx_wb_child(NULL, ZX_FolderHierarchy_Status));
    ck_assert_ptr_null(zx_wb_next(NULL, ZX_FolderHierarchy_Status));
    ck_assert_ptr_null(zx_wb_text(g_pool, NULL));
    ck_assert_ptr_null(zx_wb_child_text(g_pool, NULL, ZX_FolderHierarchy_Status));

    /* text nodes are not elements, even with a matching tag value */
    zx_wb_node *txt = status->first;
    ck_assert_uint_eq(txt->kind, ZX_WB_TEXT);
    ck_assert_ptr_null(zx_wb_child(status, txt->tag));

    /* the built tree encodes to the expected bytes */
    unsigned char *out;
    size_t outlen;
    enc_ok(root, &out, &outlen);
    ASSERT_BYTES(out, outlen, BYTES(HDR, 0x00, 0x07, 0x56,
                                   0x4C, 0x03, '1', '-', 'o', 'k', 0x00, 0x01,
                                   0x52, 0x03, 'k', '1', 0x00, 0x01,
                                   0x4E, 0x57, 0x03, '3', 0x00, 0x01,
                                   0x4F, 0x48, 0x03, '1', 0x00, 0x01, 0x47, 0x03, 'x', 0x00, 0x01, 0x01,
                                   0x4F, 0x48, 0x03, '2', 0x00, 0x01, 0x47, 0x03, 'I', 'n', 'b', 'o',
                                   'x', 0x00, 0x01, 0x01,
                                   0x4F, 0x48, 0x03, '3', 0x00, 0x01, 0x47, 0x03, 'x', 0x00, 0x01, 0x01,
                                   0x01,
                                   0x4A, 0xC3, 0x02, 0x07, 0x00, 0x01,
                                   0x52, 0x46, 0x03, 'i', 'n', 'n', 'e', 'r', 0x00, 0x01, 0x01,
                                   0x01));
    zx_wb_node *back = dec_ok(out, outlen);
    ASSERT_TREE_EQ(root, back, 0);
}
END_TEST

/* ---- mutation loop ----------------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return (uint32_t)(x >> 32);
}

static size_t mutate(unsigned char *buf, size_t n, size_t cap)
{
    static const unsigned char interesting[] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x11, 0x3F, 0x40, 0x43, 0x44, 0x45, 0x4E, 0x7F,
        0x80, 0x81, 0x83, 0x84, 0x8F, 0xC0, 0xC3, 0xC4, 0xED, 0xF4, 0xFF};
    unsigned rounds = 1 + rnd() % 3;
    for (unsigned r = 0; r < rounds; r++) {
        unsigned op = rnd() % 7;
        if (n == 0)
            op = 3;
        switch (op) {
        case 0:   /* bit flip */
        case 1: {
            size_t at = rnd() % n;
            buf[at] ^= (unsigned char)(1u << (rnd() % 8));
            break;
        }
        case 2: { /* interesting byte */
            size_t at = rnd() % n;
            buf[at] = interesting[rnd() % sizeof interesting];
            break;
        }
        case 3: { /* insert */
            size_t k = 1 + rnd() % 8;
            if (n + k > cap)
                break;
            size_t at = n ? rnd() % (n + 1) : 0;
            memmove(buf + at + k, buf + at, n - at);
            for (size_t j = 0; j < k; j++)
                buf[at + j] = (rnd() & 1) ? interesting[rnd() % sizeof interesting]
                                          : (unsigned char)rnd();
            n += k;
            break;
        }
        case 4:   /* truncate */
            n = rnd() % n;
            break;
        case 5: { /* delete a range */
            size_t at = rnd() % n, k = 1 + rnd() % 8;
            if (k > n - at)
                k = n - at;
            memmove(buf + at, buf + at + k, n - at - k);
            n -= k;
            break;
        }
        case 6: { /* duplicate a range */
            size_t from = rnd() % n, k = 1 + rnd() % 16;
            if (k > n - from)
                k = n - from;
            if (n + k > cap)
                break;
            size_t at = rnd() % (n + 1);
            unsigned char tmp[16];
            memcpy(tmp, buf + from, k);
            memmove(buf + at + k, buf + at, n - at);
            memcpy(buf + at, tmp, k);
            n += k;
            break;
        }
        }
    }
    return n;
}

static void fuzz_seed(const unsigned char *seed, size_t len, unsigned iterations,
                      unsigned *ok_count, unsigned *fail_count)
{
    apr_pool_t *sub;
    ck_assert_int_eq(apr_pool_create(&sub, g_pool), APR_SUCCESS);
    zx_wbxml_limits lim = {.max_size = 1u << 20, .max_depth = 32};
    for (unsigned it = 0; it < iterations; it++) {
        apr_pool_clear(sub);
        size_t cap = len + 64;
        /* heap copy of exactly the mutated length so valgrind catches over-reads */
        unsigned char *work = malloc(cap);
        memcpy(work, seed, len);
        size_t n = mutate(work, len, cap);
        unsigned char *buf = malloc(n ? n : 1);
        memcpy(buf, work, n);
        free(work);
        zx_wb_node *root = NULL;
        apr_size_t off = (apr_size_t)-1;
        zx_wbxml_status st = zx_wbxml_decode(sub, buf, n, &lim, &root, &off);
        if (st != ZX_WBXML_OK) {
            ck_assert_msg(st < ZX_WBXML_ERR_COUNT_, "iteration %u: status %d", it, (int)st);
            ck_assert_msg(off <= n, "iteration %u: err_offset %zu > %zu", it, (size_t)off, n);
            ck_assert_ptr_null(root);
            (*fail_count)++;
            free(buf);
            continue;
        }
        (*ok_count)++;
        unsigned char *e1, *e2;
        apr_size_t l1, l2;
        zx_wbxml_status es = zx_wbxml_encode(sub, root, &e1, &l1);
        ck_assert_msg(es == ZX_WBXML_OK, "iteration %u: decoded tree does not encode: %s", it,
                      zx_wbxml_strerror(es));
        zx_wb_node *again = NULL;
        st = zx_wbxml_decode(sub, e1, l1, &lim, &again, &off);
        ck_assert_msg(st == ZX_WBXML_OK, "iteration %u: re-encoded document does not decode: "
                      "%s at %zu\ninput %s\nre-encoded %s", it, zx_wbxml_strerror(st),
                      (size_t)off, hex(g_pool, buf, n), hex(g_pool, e1, l1));
        const char *d = tree_diff(sub, root, again, 1, "");
        ck_assert_msg(d == NULL, "iteration %u: tree changed: %s", it, d);
        ck_assert_int_eq(zx_wbxml_encode(sub, again, &e2, &l2), ZX_WBXML_OK);
        ck_assert_msg(l1 == l2 && memcmp(e1, e2, l1) == 0, "iteration %u: encoding unstable",
                      it);
        char *xml = zx_wbxml_to_xml(sub, root, (int)(it & 1));
        ck_assert_ptr_nonnull(xml);
        if (it % 16 == 0) {
            zx_wb_node *fx = NULL;
            (void)zx_wbxml_from_xml(sub, xml, strlen(xml), &fx, NULL);
        }
        free(buf);
    }
    apr_pool_destroy(sub);
}

START_TEST(test_mutations)
{
    rng_state = 0x9E3779B97F4A7C15ULL;
    unsigned ok_count = 0, fail_count = 0;

    size_t len;
    unsigned char *ex = example_bytes(&len);
    fuzz_seed(ex, len, 8000, &ok_count, &fail_count);

    /* generated documents: opaque, text pieces, several pages, empty elements */
    static const unsigned char pieces[] = {
        HDR, 0x45, 0x4E, 0x03, 'a', 0x00, 0x03, 0xC3, 0xA9, 0x00, 0x01, 0x4B, 0xC3, 0x04, 0x00,
        0xFF, 0x00, 0x80, 0x01, 0x0E, 0x00, 0x11, 0x4A, 0x46, 0x03, '1', 0x00, 0x01, 0x01, 0x01};
    fuzz_seed(pieces, sizeof pieces, 4000, &ok_count, &fail_count);

    zx_wb_node *root = zx_wb_new(g_pool, ZX_Ping_Ping);
    zx_wb_add_text(g_pool, root, ZX_Ping_HeartbeatInterval, "480");
    zx_wb_node *folders = zx_wb_add(g_pool, root, ZX_Ping_Folders);
    for (int i = 0; i < 3; i++) {
        zx_wb_node *f = zx_wb_add(g_pool, folders, ZX_Ping_Folder);
        zx_wb_add_textf(g_pool, f, ZX_Ping_Id, "%d", i);
        zx_wb_add_text(g_pool, f, ZX_Ping_Class, "Email");
        zx_wb_add_opaque(g_pool, f, ZX_AirSyncBase_Data, "\x00\x80\xFF", 3);
        zx_wb_add(g_pool, f, ZX_Email_Read);
    }
    unsigned char *out;
    size_t outlen;
    enc_ok(root, &out, &outlen);
    fuzz_seed(out, outlen, 4000, &ok_count, &fail_count);

    bytes nest = nested_doc(30, 1);
    fuzz_seed(nest.d, nest.n, 2000, &ok_count, &fail_count);

    zx_wb_node *mix = zx_wb_new(g_pool, ZX_Provision_Provision);
    for (unsigned page = 0; page < ZX_PAGE_COUNT_; page++)
        for (unsigned tok = 5; tok < 64; tok += 11)
            if (zx_wb_tag_known(page << 8 | tok))
                zx_wb_add_textf(g_pool, mix, page << 8 | tok, "%u", tok);
    enc_ok(mix, &out, &outlen);
    fuzz_seed(out, outlen, 2000, &ok_count, &fail_count);

    ck_assert_uint_eq(ok_count + fail_count, 20000);
    /* the loop must exercise both paths */
    ck_assert_uint_gt(ok_count, 500);
    ck_assert_uint_gt(fail_count, 500);
}
END_TEST

/* ---- runner ------------------------------------------------------------------------------ */

static Suite *wbxml_suite(void)
{
    Suite *s = suite_create("wbxml");
    TCase *tc;

    tc = tcase_create("codepages");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_tag_table);
    tcase_add_loop_test(tc, test_every_tag_roundtrip, 0, ZX_PAGE_COUNT_);
    tcase_add_test(tc, test_all_tags_one_document);
    tcase_add_test(tc, test_r10_tokens);
    suite_add_tcase(s, tc);

    tc = tcase_create("example");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_aswbxml_example);
    tcase_add_test(tc, test_to_xml_exact);
    tcase_add_test(tc, test_xml_roundtrip_opaque);
    tcase_add_test(tc, test_opaque_text_in_request_bodies);
    tcase_add_test(tc, test_from_xml_details);
    tcase_add_test(tc, test_xml_opaque_base64_strict);
    suite_add_tcase(s, tc);

    tc = tcase_create("content");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_opaque_sizes);
    tcase_add_test(tc, test_mbint_forms);
    tcase_add_test(tc, test_multiple_text_pieces);
    tcase_add_test(tc, test_content_flag);
    tcase_add_test(tc, test_string_table_refused);
    tcase_add_test(tc, test_publicid);
    tcase_add_test(tc, test_builders_and_navigation);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_decode_error_case, 0, (int)(sizeof dcases / sizeof dcases[0]));
    tcase_add_test(tc, test_error_codes_all_covered);
    tcase_add_test(tc, test_empty_inputs);
    tcase_add_test(tc, test_trailing_bytes_after_empty_root);
    tcase_add_test(tc, test_size_limit);
    tcase_add_test(tc, test_depth_limit);
    tcase_add_test(tc, test_truncation_everywhere);
    tcase_add_test(tc, test_encode_errors);
    tcase_add_test(tc, test_xml_errors);
    tcase_add_test(tc, test_node_budget);
    suite_add_tcase(s, tc);

    tc = tcase_create("mutations");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_mutations);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    apr_initialize();
    return zx_run_tap(wbxml_suite());
}
