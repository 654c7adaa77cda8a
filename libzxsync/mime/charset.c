/* zxmobile - text of a message in UTF-8 (mime/mime_int.h): charset labels mapped the way
 * browsers map them, iconv with U+FFFD for what cannot be converted, header values on one
 * line. */
#include "mime_int.h"

#include <zxsync/text.h>

#include <apr_strings.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REPLACEMENT "\xef\xbf\xbd"     /* U+FFFD */

/* Case-insensitive search (the one copy: parse.c and compose.c use it) */
const char *zx_mime_find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

/* ---- charsets --------------------------------------------------------------------------------- */

/* Labels mapped the way web browsers map them (WHATWG Encoding): mail mislabels the same way
 * web pages do (ISO-8859-1 text with Windows-1252 quotes, Shift_JIS with CP932 extensions...). */
static const struct { const char *label, *iconv; } charset_aliases[] = {
    {"iso-8859-1", "WINDOWS-1252"}, {"iso8859-1", "WINDOWS-1252"}, {"iso_8859-1", "WINDOWS-1252"},
    {"latin1", "WINDOWS-1252"}, {"l1", "WINDOWS-1252"}, {"cp819", "WINDOWS-1252"},
    {"ibm819", "WINDOWS-1252"}, {"iso-ir-100", "WINDOWS-1252"}, {"windows-1252", "WINDOWS-1252"},
    {"cp1252", "WINDOWS-1252"}, {"x-cp1252", "WINDOWS-1252"},
    {"shift_jis", "CP932"}, {"shift-jis", "CP932"}, {"sjis", "CP932"}, {"x-sjis", "CP932"},
    {"ms_kanji", "CP932"}, {"csshiftjis", "CP932"}, {"windows-31j", "CP932"}, {"ms932", "CP932"},
    {"cp932", "CP932"},
    {"gb2312", "GB18030"}, {"gbk", "GB18030"}, {"x-gbk", "GB18030"}, {"cp936", "GB18030"},
    {"gb_2312-80", "GB18030"}, {"euc-cn", "GB18030"}, {"csgb2312", "GB18030"},
    {"gb18030", "GB18030"},
    {"euc-kr", "CP949"}, {"ks_c_5601-1987", "CP949"}, {"ks_c_5601-1989", "CP949"},
    {"ksc5601", "CP949"}, {"ksc_5601", "CP949"}, {"cp949", "CP949"}, {"windows-949", "CP949"},
    {"big5", "BIG5-HKSCS"}, {"big5-hkscs", "BIG5-HKSCS"}, {"x-x-big5", "BIG5-HKSCS"},
    {"cn-big5", "BIG5-HKSCS"},
    {"iso-8859-9", "WINDOWS-1254"}, {"latin5", "WINDOWS-1254"},
    {"iso-8859-11", "WINDOWS-874"}, {"tis-620", "WINDOWS-874"}, {"windows-874", "WINDOWS-874"},
    {"koi8-r", "KOI8-R"}, {"koi8r", "KOI8-R"}, {"koi8-u", "KOI8-U"},
    {"utf8", "UTF-8"}, {"utf-8", "UTF-8"}, {"unicode-1-1-utf-8", "UTF-8"},
};

/* Labels that say nothing: decide from the bytes. */
static int charset_unknown(const char *cs)
{
    static const char *const none[] = {"us-ascii", "ascii", "ansi_x3.4-1968", "us",
                                       "unknown-8bit", "x-unknown", "unknown", "8bit",
                                       "x-user-defined", "default", "none", NULL};
    if (!cs || !*cs)
        return 1;
    for (int i = 0; none[i]; i++)
        if (strcasecmp(cs, none[i]) == 0)
            return 1;
    return 0;
}

static iconv_t open_from(const char *cs)
{
    for (size_t i = 0; i < sizeof charset_aliases / sizeof charset_aliases[0]; i++)
        if (strcasecmp(cs, charset_aliases[i].label) == 0)
            return iconv_open("UTF-8", charset_aliases[i].iconv);
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1) {
        const char *name = g_mime_charset_iconv_name(cs);
        if (name && strcasecmp(name, cs) != 0)
            cd = iconv_open("UTF-8", name);
    }
    return cd;
}

/* Convert with cd; invalid or incomplete input becomes U+FFFD.  Result in the pool. */
static char *iconv_all(apr_pool_t *p, iconv_t cd, const char *in, size_t len)
{
    size_t cap = len * 2 + 64, used = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    char *inp = (char *)in;
    size_t inleft = len;
    int flushing = 0;
    for (;;) {
        char *outp = buf + used;
        size_t outleft = cap - used - 4;       /* room for one U+FFFD */
        size_t r = flushing ? iconv(cd, NULL, NULL, &outp, &outleft)
                            : iconv(cd, &inp, &inleft, &outp, &outleft);
        used = (size_t)(outp - buf);
        if (r == (size_t)-1 && errno == E2BIG) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            continue;
        }
        if (r == (size_t)-1 && !flushing) {
            /* EILSEQ: skip one byte; EINVAL: incomplete sequence at the end */
            memcpy(buf + used, REPLACEMENT, 3);
            used += 3;
            if (errno == EILSEQ && inleft > 0) {
                inp++;
                inleft--;
                continue;
            }
            inleft = 0;
        }
        if (!flushing && inleft == 0) {
            flushing = 1;
            continue;
        }
        if (flushing)
            break;
    }
    char *out = zx_utf8_clean(p, buf, used);
    free(buf);
    return out;
}

/* Bytes in charset cs (NULL = unknown) -> UTF-8 in the pool. */
char *zx_mime_to_utf8(apr_pool_t *p, const char *in, size_t len, const char *cs)
{
    if (charset_unknown(cs) || strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0) {
        if (zx_utf8_valid(in, len) || (cs && (strcasecmp(cs, "utf-8") == 0 ||
                                           strcasecmp(cs, "utf8") == 0)))
            return zx_utf8_clean(p, in, len);
        cs = "windows-1252";
    }
    iconv_t cd = open_from(cs);
    if (cd == (iconv_t)-1) {
        /* a charset nobody knows: trust the bytes when they are UTF-8 */
        if (zx_utf8_valid(in, len))
            return zx_utf8_clean(p, in, len);
        cd = iconv_open("UTF-8", "WINDOWS-1252");
        if (cd == (iconv_t)-1)
            return zx_utf8_clean(p, in, len);
    }
    char *out = iconv_all(p, cd, in, len);
    iconv_close(cd);
    return out ? out : zx_utf8_clean(p, in, len);
}
