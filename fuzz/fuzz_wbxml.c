/* libFuzzer target: the WBXML decoder, and encode/decode/XML of whatever it accepts.
 * Built with clang -fsanitize=fuzzer by `make -C fuzz` (see fuzz/README); the same file is
 * linked with replay_main.c so `make check` replays fuzz/corpus/wbxml on every build. */
#include <zxsync/wbxml.h>

#include <apr_general.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialized;
    if (!initialized) {
        apr_initialize();
        initialized = 1;
    }
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    zx_wbxml_limits lim = {.max_size = 1u << 20, .max_depth = 32};
    zx_wb_node *root = NULL;
    if (zx_wbxml_decode(p, data, size, &lim, &root, NULL) == ZX_WBXML_OK) {
        unsigned char *out;
        apr_size_t olen;
        if (zx_wbxml_encode(p, root, &out, &olen) != ZX_WBXML_OK)
            abort();
        /* what we encode must decode to the same bytes again */
        zx_wb_node *again;
        unsigned char *out2;
        apr_size_t olen2;
        if (zx_wbxml_decode(p, out, olen, NULL, &again, NULL) != ZX_WBXML_OK ||
            zx_wbxml_encode(p, again, &out2, &olen2) != ZX_WBXML_OK || olen2 != olen ||
            memcmp(out, out2, olen) != 0)
            abort();
        (void)zx_wbxml_to_xml(p, root, 1);
    }
    apr_pool_destroy(p);
    return 0;
}
