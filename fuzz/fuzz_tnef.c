/* libFuzzer target for the TNEF reader (libzxsync/mime/tnef.c): a winmail.dat is untrusted
 * input from any sender.  For every input: parse it; every value the reader hands out points
 * into the input and must lie inside it (abort otherwise), and every byte of it is read so
 * that ASan sees any access beyond.  Build and run: see README.md (make -C fuzz run-tnef). */
#include "../libzxsync/mime/tnef.h"

#include <apr_general.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *pool;

static unsigned touch(const void *p, apr_size_t n, const uint8_t *lo, size_t size)
{
    const uint8_t *b = p;
    if (!b)
        return 0;
    if (b < lo || b + n > lo + size)
        abort();                        /* a value outside the input */
    unsigned s = 0;
    for (apr_size_t i = 0; i < n; i++)
        s += b[i];
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!pool) {
        apr_initialize();
        apr_pool_create(&pool, NULL);
    }
    zx_tnef t;
    volatile unsigned sink = 0;
    if (zx_tnef_parse(pool, data, size, &t) == 0) {
        sink += touch(t.body.data, t.body.len, data, size);
        for (int i = 0; i < t.attachments->nelts; i++) {
            zx_tnef_attachment *a = &APR_ARRAY_IDX(t.attachments, i, zx_tnef_attachment);
            sink += touch(a->data, a->len, data, size);
            sink += touch(a->title.data, a->title.len, data, size);
            sink += touch(a->long_name.data, a->long_name.len, data, size);
            sink += touch(a->mime_type.data, a->mime_type.len, data, size);
            sink += touch(a->content_id.data, a->content_id.len, data, size);
        }
    }
    (void)sink;
    apr_pool_clear(pool);
    return 0;
}
