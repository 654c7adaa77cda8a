/* zxmobile - reading TNEF ([MS-OXTNEF] 2.1.3), see tnef.h.
 *
 * TNEF_Stream = signature (0x223E9F78) key (16 bits) attribute*; an attribute is
 * level (1 byte: 1 message, 2 attachment), id (32 bits: type << 16 | id), length (32 bits),
 * data, checksum (16 bits, the sum of the data bytes).  Integers are little-endian.
 * attMsgProps and attAttachment hold a counted list of MAPI properties (2.1.3.4). */
#include "tnef.h"

#include <stdint.h>
#include <string.h>

#define TNEF_SIGNATURE 0x223E9F78u

enum {
    LVL_MESSAGE = 1,
    LVL_ATTACHMENT = 2
};

/* attribute ids, type in the high word ([MS-OXTNEF] 2.1.3.3) */
enum {
    ATT_BODY = 0x0002800Cu,
    ATT_ATTACH_DATA = 0x0006800Fu,
    ATT_ATTACH_TITLE = 0x00018010u,
    ATT_ATTACH_REND_DATA = 0x00069002u,
    ATT_MSG_PROPS = 0x00069003u,
    ATT_ATTACHMENT = 0x00069005u,
    ATT_OEM_CODEPAGE = 0x00069007u
};

/* property types ([MS-OXCDATA] 2.11.1) and the ids read here */
enum {
    PT_SHORT = 0x0002, PT_LONG = 0x0003, PT_FLOAT = 0x0004, PT_DOUBLE = 0x0005,
    PT_CURRENCY = 0x0006, PT_APPTIME = 0x0007, PT_ERROR = 0x000A, PT_BOOLEAN = 0x000B,
    PT_OBJECT = 0x000D, PT_I8 = 0x0014, PT_STRING8 = 0x001E, PT_UNICODE = 0x001F,
    PT_SYSTIME = 0x0040, PT_CLSID = 0x0048, PT_BINARY = 0x0102, MV_FLAG = 0x1000
};
enum {
    PID_BODY = 0x1000,
    PID_ATTACH_DATA = 0x3701,
    PID_ATTACH_METHOD = 0x3705,
    PID_ATTACH_LONG_FILENAME = 0x3707,
    PID_ATTACH_MIME_TAG = 0x370E,
    PID_ATTACH_CONTENT_ID = 0x3712
};

typedef struct {
    const unsigned char *p;
    apr_size_t left;
} reader;

static int take(reader *r, apr_size_t n, const unsigned char **out)
{
    if (n > r->left)
        return -1;
    if (out)
        *out = r->p;
    r->p += n;
    r->left -= n;
    return 0;
}

static int u16(reader *r, uint32_t *v)
{
    const unsigned char *b;
    if (take(r, 2, &b) < 0)
        return -1;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8;
    return 0;
}

static int u32(reader *r, uint32_t *v)
{
    const unsigned char *b;
    if (take(r, 4, &b) < 0)
        return -1;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

static apr_size_t pad4(apr_size_t n)
{
    return (4 - n % 4) % 4;
}

/* Size of one value of a fixed-length type as TNEF lays it out (padded to 4), 0 if variable
 * or unknown. */
static apr_size_t fixed_size(uint32_t type)
{
    switch (type) {
    case PT_SHORT: case PT_LONG: case PT_FLOAT: case PT_ERROR: case PT_BOOLEAN:
        return 4;
    case PT_DOUBLE: case PT_CURRENCY: case PT_APPTIME: case PT_I8: case PT_SYSTIME:
        return 8;
    case PT_CLSID:
        return 16;
    default:
        return 0;
    }
}

static int is_variable(uint32_t type)
{
    return type == PT_STRING8 || type == PT_UNICODE || type == PT_BINARY || type == PT_OBJECT;
}

/* An 8-bit or UTF-16 string value without its terminating NUL(s). */
static zx_tnef_string string_of(const unsigned char *v, apr_size_t n, int utf16)
{
    zx_tnef_string s = {(const char *)v, n, utf16};
    if (utf16) {
        s.len &= ~(apr_size_t)1;
        while (s.len >= 2 && v[s.len - 2] == 0 && v[s.len - 1] == 0)
            s.len -= 2;
    }
    else
        while (s.len > 0 && v[s.len - 1] == 0)
            s.len--;
    return s;
}

typedef void prop_fn(void *baton, uint32_t id, uint32_t type, const unsigned char *v,
                     apr_size_t n);

/* A counted list of MAPI properties ([MS-OXTNEF] 2.1.3.4): each single value is told to fn
 * (variable-length values: their data; PT_OBJECT: after its interface id); multi-valued and
 * named properties are read past.  -1 when the list is damaged (what came before was told). */
static int read_props(const unsigned char *d, apr_size_t len, prop_fn *fn, void *baton)
{
    reader r = {d, len};
    uint32_t count;
    if (u32(&r, &count) < 0)
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t tag;
        if (u32(&r, &tag) < 0)
            return -1;
        uint32_t type = tag & 0xFFFF, id = tag >> 16;
        if (id >= 0x8000) {                     /* a named property: GUID, kind, id or name */
            uint32_t kind, v;
            if (take(&r, 16, NULL) < 0 || u32(&r, &kind) < 0 || u32(&r, &v) < 0)
                return -1;
            if (kind == 1 && take(&r, (apr_size_t)v + pad4(v), NULL) < 0)
                return -1;
            if (kind > 1)
                return -1;
        }
        int multi = (type & MV_FLAG) != 0;
        uint32_t base = type & ~(uint32_t)MV_FLAG;
        uint32_t nvalues = 1;
        if ((multi || is_variable(base)) && u32(&r, &nvalues) < 0)
            return -1;
        apr_size_t fs = fixed_size(base);
        if (!fs && !is_variable(base))
            return -1;                          /* an unknown type: its size is unknown */
        for (uint32_t k = 0; k < nvalues; k++) {
            const unsigned char *v;
            uint32_t n = (uint32_t)fs;
            if (!fs && u32(&r, &n) < 0)
                return -1;
            if (take(&r, n, &v) < 0 || (!fs && take(&r, pad4(n), NULL) < 0))
                return -1;
            if (multi || k > 0)
                continue;
            if (base == PT_OBJECT) {            /* the value starts with the interface id */
                if (n < 16)
                    continue;
                v += 16;
                n -= 16;
            }
            fn(baton, id, base, v, n);
        }
    }
    return 0;
}

static void message_prop(void *baton, uint32_t id, uint32_t type, const unsigned char *v,
                         apr_size_t n)
{
    zx_tnef *t = baton;
    if (id == PID_BODY && (type == PT_STRING8 || type == PT_UNICODE))
        t->body = string_of(v, n, type == PT_UNICODE);
}

static void attachment_prop(void *baton, uint32_t id, uint32_t type, const unsigned char *v,
                            apr_size_t n)
{
    zx_tnef_attachment *a = baton;
    int str = type == PT_STRING8 || type == PT_UNICODE;
    if (id == PID_ATTACH_LONG_FILENAME && str)
        a->long_name = string_of(v, n, type == PT_UNICODE);
    else if (id == PID_ATTACH_MIME_TAG && str)
        a->mime_type = string_of(v, n, type == PT_UNICODE);
    else if (id == PID_ATTACH_CONTENT_ID && str)
        a->content_id = string_of(v, n, type == PT_UNICODE);
    else if (id == PID_ATTACH_DATA && type == PT_BINARY && !a->data) {
        a->data = v;
        a->len = n;
    }
    else if (id == PID_ATTACH_METHOD && type == PT_LONG && n >= 4)
        a->embedded = v[0] == 5 && v[1] == 0 && v[2] == 0 && v[3] == 0;
}

int zx_tnef_parse(apr_pool_t *p, const unsigned char *data, apr_size_t len, zx_tnef *out)
{
    memset(out, 0, sizeof *out);
    out->codepage = 1252;
    out->attachments = apr_array_make(p, 4, sizeof(zx_tnef_attachment));
    reader r = {data, len};
    uint32_t sig, key;
    if (u32(&r, &sig) < 0 || sig != TNEF_SIGNATURE || u16(&r, &key) < 0)
        return -1;
    zx_tnef_attachment *cur = NULL;
    while (r.left > 0) {
        const unsigned char *lvl, *v;
        uint32_t id, n, sum;
        if (take(&r, 1, &lvl) < 0 || u32(&r, &id) < 0 || u32(&r, &n) < 0 ||
            take(&r, n, &v) < 0 || u16(&r, &sum) < 0) {
            out->damaged = 1;
            break;
        }
        if (*lvl == LVL_MESSAGE) {
            if (id == ATT_BODY && !out->body.data)
                out->body = string_of(v, n, 0);
            else if (id == ATT_MSG_PROPS && read_props(v, n, message_prop, out) < 0)
                out->damaged = 1;
            else if (id == ATT_OEM_CODEPAGE && n >= 4) {
                int cp = (int)((uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16);
                if (cp > 0 && cp < 65536)
                    out->codepage = cp;
            }
            continue;
        }
        if (*lvl != LVL_ATTACHMENT)
            continue;
        if (id == ATT_ATTACH_REND_DATA || !cur) {
            cur = apr_array_push(out->attachments);
            memset(cur, 0, sizeof *cur);
        }
        if (id == ATT_ATTACH_TITLE)
            cur->title = string_of(v, n, 0);
        else if (id == ATT_ATTACH_DATA) {
            cur->data = v;
            cur->len = n;
        }
        else if (id == ATT_ATTACHMENT && read_props(v, n, attachment_prop, cur) < 0)
            out->damaged = 1;
    }
    return 0;
}
