/* zxmobile - ActiveSync code pages as data, built from wbxml_tags.def ([MS-ASWBXML]). */
#include <zxsync/wbxml.h>

#include <string.h>

static const struct {
    const char *name;
    const char *ns;
} pages[ZX_PAGE_COUNT_] = {
#define ZXW_PAGE(num, name, ns) [num] = {#name, ns},
#define ZXW_TAG(page, tok, name)
#include <zxsync/wbxml_tags.def>
#undef ZXW_PAGE
#undef ZXW_TAG
};

/* [page][token] -> tag name; NULL where the page defines no tag. */
static const char *const tag_names[ZX_PAGE_COUNT_][64] = {
#define ZXW_PAGE(num, name, ns)
#define ZXW_TAG(page, tok, name) [ZX_PAGE_##page][tok] = #name,
#include <zxsync/wbxml_tags.def>
#undef ZXW_PAGE
#undef ZXW_TAG
};

const char *zx_wb_page_name(unsigned page)
{
    return page < ZX_PAGE_COUNT_ ? pages[page].name : NULL;
}

const char *zx_wb_page_ns(unsigned page)
{
    return page < ZX_PAGE_COUNT_ ? pages[page].ns : NULL;
}

const char *zx_wb_tag_name(unsigned tag)
{
    unsigned page = ZX_WB_PAGE(tag), tok = tag & 0xFF;
    if (page >= ZX_PAGE_COUNT_ || tok >= 64)
        return NULL;
    return tag_names[page][tok];
}

int zx_wb_tag_known(unsigned tag)
{
    return zx_wb_tag_name(tag) != NULL;
}

int zx_wb_page_by_ns(const char *ns)
{
    for (unsigned i = 0; i < ZX_PAGE_COUNT_; i++)
        if (pages[i].ns && strcmp(pages[i].ns, ns) == 0)
            return (int)i;
    return -1;
}

int zx_wb_tag_lookup(unsigned page, const char *name)
{
    if (page >= ZX_PAGE_COUNT_)
        return -1;
    for (unsigned t = 5; t < 64; t++)
        if (tag_names[page][t] && strcmp(tag_names[page][t], name) == 0)
            return (int)((page << 8) | t);
    return -1;
}
