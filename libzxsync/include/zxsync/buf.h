/* zxmobile - growable byte buffer allocated from an APR pool (the one string builder). */
#ifndef ZXSYNC_BUF_H
#define ZXSYNC_BUF_H

#include <apr_pools.h>
#include <stdarg.h>

typedef struct {
    apr_pool_t *pool;
    char *data;          /* always NUL-terminated */
    apr_size_t len;
    apr_size_t cap;
} zx_buf;

void zx_buf_init(zx_buf *b, apr_pool_t *p, apr_size_t initial);
void zx_buf_reserve(zx_buf *b, apr_size_t extra);
void zx_buf_append(zx_buf *b, const void *data, apr_size_t len);
void zx_buf_puts(zx_buf *b, const char *s);
void zx_buf_putc(zx_buf *b, char c);
void zx_buf_printf(zx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void zx_buf_vprintf(zx_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* XML-escape s (& < > " ') */
void zx_buf_xml_escape(zx_buf *b, const char *s, apr_size_t len);

#endif
