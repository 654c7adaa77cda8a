/* zxmobile - growable pool buffer */
#include <zxsync/buf.h>

#include <apr_strings.h>
#include <stdio.h>
#include <string.h>

void zx_buf_init(zx_buf *b, apr_pool_t *p, apr_size_t initial)
{
    b->pool = p;
    b->cap = initial < 64 ? 64 : initial;
    b->data = apr_palloc(p, b->cap);
    b->data[0] = '\0';
    b->len = 0;
}

void zx_buf_reserve(zx_buf *b, apr_size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    apr_size_t ncap = b->cap * 2;
    while (ncap < b->len + extra + 1)
        ncap *= 2;
    char *nd = apr_palloc(b->pool, ncap);
    memcpy(nd, b->data, b->len + 1);
    b->data = nd;
    b->cap = ncap;
}

void zx_buf_append(zx_buf *b, const void *data, apr_size_t len)
{
    zx_buf_reserve(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void zx_buf_puts(zx_buf *b, const char *s)
{
    zx_buf_append(b, s, strlen(s));
}

void zx_buf_putc(zx_buf *b, char c)
{
    zx_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void zx_buf_vprintf(zx_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
    va_end(cp);
    if (n < 0)
        return;
    if ((apr_size_t)n >= b->cap - b->len) {
        zx_buf_reserve(b, (apr_size_t)n);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (apr_size_t)n;
}

void zx_buf_printf(zx_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    zx_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void zx_buf_xml_escape(zx_buf *b, const char *s, apr_size_t len)
{
    /* copy runs of plain bytes; a table says which bytes need an entity */
    static const unsigned char special[256] = {['&'] = 1, ['<'] = 2, ['>'] = 3, ['"'] = 4,
                                               ['\''] = 5};
    static const char *const rep[] = {NULL, "&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    apr_size_t start = 0;
    for (apr_size_t i = 0; i < len; i++) {
        unsigned char k = special[(unsigned char)s[i]];
        if (!k)
            continue;
        zx_buf_append(b, s + start, i - start);
        zx_buf_puts(b, rep[k]);
        start = i + 1;
    }
    zx_buf_append(b, s + start, len - start);
}
