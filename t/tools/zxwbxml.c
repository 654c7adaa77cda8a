/* zxwbxml - convert between ActiveSync WBXML and XML with libzxsync's codec.
 *   zxwbxml decode [FILE]   WBXML (binary, or hex with --hex) -> XML on stdout
 *   zxwbxml encode [FILE]   XML -> WBXML on stdout (hex with --hex)
 * Exit status 2 and the codec's error on malformed input. */
#include <zxsync/wbxml.h>

#include <apr_general.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *slurp(apr_pool_t *p, FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    unsigned char *b = malloc(cap);
    size_t r;
    while ((r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            b = realloc(b, cap *= 2);
    }
    unsigned char *out = apr_palloc(p, n + 1);
    memcpy(out, b, n);
    out[n] = 0;
    free(b);
    *len = n;
    return out;
}

/* hex text (with '#' comment lines) -> bytes */
static size_t unhex(unsigned char *s, size_t len)
{
    size_t o = 0;
    int hi = -1, comment = 0;
    for (size_t i = 0; i < len; i++) {
        int c = s[i];
        if (comment) {
            if (c == '\n')
                comment = 0;
            continue;
        }
        if (c == '#') {
            comment = 1;
            continue;
        }
        if (!isxdigit(c))
            continue;
        int v = isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
        if (hi < 0)
            hi = v;
        else {
            s[o++] = (unsigned char)(hi * 16 + v);
            hi = -1;
        }
    }
    return o;
}

int main(int argc, const char *const *argv)
{
    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    int hex = 0, argi = 1;
    if (argi < argc && strcmp(argv[argi], "--hex") == 0) {
        hex = 1;
        argi++;
    }
    if (argi < argc && strcmp(argv[argi], "tables") == 0) {
        /* one line per tag: page number, page name, namespace, token, tag name */
        for (unsigned page = 0; zx_wb_page_name(page); page++)
            for (unsigned tok = 5; tok < 64; tok++)
                if (zx_wb_tag_name((page << 8) | tok))
                    printf("%u %s %s 0x%02X %s\n", page, zx_wb_page_name(page),
                           zx_wb_page_ns(page), tok, zx_wb_tag_name((page << 8) | tok));
        return 0;
    }
    if (argi >= argc || (strcmp(argv[argi], "decode") && strcmp(argv[argi], "encode"))) {
        fprintf(stderr, "usage: zxwbxml [--hex] decode|encode [FILE] | zxwbxml tables\n");
        return 1;
    }
    int decode = strcmp(argv[argi], "decode") == 0;
    FILE *f = argi + 1 < argc ? fopen(argv[argi + 1], "rb") : stdin;
    if (!f) {
        perror(argv[argi + 1]);
        return 1;
    }
    size_t len;
    unsigned char *in = slurp(p, f, &len);
    if (decode) {
        if (hex)
            len = unhex(in, len);
        zx_wb_node *root;
        apr_size_t off = 0;
        zx_wbxml_status st = zx_wbxml_decode(p, in, len, NULL, &root, &off);
        if (st != ZX_WBXML_OK) {
            fprintf(stderr, "zxwbxml: %s at byte %lu\n", zx_wbxml_strerror(st), (unsigned long)off);
            return 2;
        }
        fputs(zx_wbxml_to_xml(p, root, 1), stdout);
    }
    else {
        zx_wb_node *root;
        const char *err = NULL;
        if (zx_wbxml_from_xml(p, (const char *)in, len, &root, &err) != ZX_WBXML_OK) {
            fprintf(stderr, "zxwbxml: %s\n", err ? err : "bad XML");
            return 2;
        }
        unsigned char *out;
        apr_size_t olen;
        if (zx_wbxml_encode(p, root, &out, &olen) != ZX_WBXML_OK) {
            fprintf(stderr, "zxwbxml: tree cannot be encoded\n");
            return 2;
        }
        if (hex) {
            for (apr_size_t i = 0; i < olen; i++)
                printf("%02X%c", out[i], (i % 16 == 15 || i + 1 == olen) ? '\n' : ' ');
        }
        else {
            fwrite(out, 1, olen, stdout);
        }
    }
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
