/* zxmobile - small text helpers: UTF-8 validation and repair of text from an untrusted peer,
 * ASCII case folding. */
#include <zxsync/text.h>

#include <apr_strings.h>
#include <ctype.h>
#include <stdint.h>
#include <string.h>

static const char REPLACEMENT[] = "\xEF\xBF\xBD";   /* U+FFFD */

apr_size_t zx_utf8_seq(const unsigned char *s, apr_size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0;
        if (c == 0xED && s[1] >= 0xA0)
            return 0;
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0;
        if (c == 0xF4 && s[1] >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

int zx_utf8_text(const char *s, apr_size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (apr_size_t i = 0; i < n;) {
        apr_size_t k = zx_utf8_seq(u + i, n - i);
        if (!k || (k == 1 && u[i] == 0))
            return 0;
        i += k;
    }
    return 1;
}

int zx_utf8_valid(const char *s, apr_size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (apr_size_t i = 0; i < n;) {
        /* ASCII fast path (WBXML strings, mail bodies): 16 bytes at a time */
        while (i + 16 <= n) {
            uint64_t a, b;
            memcpy(&a, u + i, 8);
            memcpy(&b, u + i + 8, 8);
            if ((a | b) & 0x8080808080808080ULL)
                break;
            i += 16;
        }
        while (i < n && u[i] < 0x80)
            i++;
        if (i >= n)
            break;
        apr_size_t k = zx_utf8_seq(u + i, n - i);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

char *zx_utf8_clean(apr_pool_t *p, const char *s, apr_size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t bad = 0;
    for (apr_size_t i = 0; i < n;) {   /* count first: bodies can be large */
        apr_size_t k = zx_utf8_seq(u + i, n - i);
        if (!k) {
            bad++;
            k = 1;
        }
        i += k;
    }
    char *out = apr_palloc(p, n + bad * 2 + 1), *o = out;
    for (apr_size_t i = 0; i < n;) {
        apr_size_t k = zx_utf8_seq(u + i, n - i);
        if (!k) {
            memcpy(o, REPLACEMENT, 3);
            o += 3;
            i++;
            continue;
        }
        if (!(k == 1 && u[i] == 0)) {
            memcpy(o, u + i, k);
            o += k;
        }
        i += k;
    }
    *o = '\0';
    return out;
}

/* A control character: C0, DEL, or C1 (U+0080-U+009F, encoded C2 80 - C2 9F). */
static int is_control(const unsigned char *u, apr_size_t k)
{
    if (k == 1)
        return u[0] < 0x20 || u[0] == 0x7F;
    return k == 2 && u[0] == 0xC2 && u[1] < 0xA0;
}

const char *zx_text_from_peer(apr_pool_t *p, const char *s)
{
    if (!s)
        return NULL;
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t n = strlen(s), i = 0;
    for (; i < n;) {
        apr_size_t k = zx_utf8_seq(u + i, n - i);
        if (!k || is_control(u + i, k))
            break;
        i += k;
    }
    if (i == n)
        return s;   /* the common case: nothing to repair */
    char *out = apr_palloc(p, n * 3 + 1), *o = out;
    memcpy(o, s, i);
    o += i;
    while (i < n) {
        apr_size_t k = zx_utf8_seq(u + i, n - i);
        if (!k || is_control(u + i, k)) {
            memcpy(o, REPLACEMENT, 3);
            o += 3;
            i += k ? k : 1;
            continue;
        }
        memcpy(o, u + i, k);
        o += k;
        i += k;
    }
    *o = '\0';
    return out;
}

char *zx_str_lower(apr_pool_t *p, const char *s)
{
    char *l = apr_pstrdup(p, s ? s : "");
    for (char *c = l; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return l;
}

int zx_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

const char *zx_text_one_line(apr_pool_t *p, const char *s)
{
    if (!s)
        return NULL;
    char *v = zx_utf8_clean(p, s, strlen(s)), *o = v;
    int space = 1;
    for (const char *i = v; *i; i++) {
        unsigned char c = (unsigned char)*i;
        if (c < 0x20 || c == 0x7f || c == ' ') {
            if (!space)
                *o++ = ' ';
            space = 1;
            continue;
        }
        *o++ = (char)c;
        space = 0;
    }
    while (o > v && o[-1] == ' ')
        o--;
    *o = '\0';
    return *v ? v : NULL;
}

apr_size_t zx_utf8_cut(const char *s, apr_size_t len, apr_size_t max)
{
    if (len <= max)
        return len;
    apr_size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

const char *zx_base64_strip(apr_pool_t *p, const char *in)
{
    apr_size_t n = strlen(in), k = 0, pad = 0;
    char *out = apr_palloc(p, n + 1);
    for (apr_size_t i = 0; i < n; i++) {
        char ch = in[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
            continue;
        if (ch == '=')
            pad++;
        else if (pad || !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                          (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'))
            return NULL;
        out[k++] = ch;
    }
    out[k] = '\0';
    return pad > 2 ? NULL : out;
}

int zx_utc_time(int y, int mo, int d, int h, int mi, int sec, int ms, apr_time_t *t)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || sec < 0 || sec > 60 || ms < 0 || ms > 999)
        return -1;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return -1;
    /* days since 1970-01-01 (the civil-from-days algorithm, inverted) */
    long long yy = mo <= 2 ? y - 1 : y;
    long long era = (yy >= 0 ? yy : yy - 399) / 400;
    long long yoe = yy - era * 400;
    long long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long long days = era * 146097 + doe - 719468;
    *t = apr_time_from_sec(days * 86400 + h * 3600 + mi * 60 + (sec > 59 ? 59 : sec)) +
         apr_time_from_msec(ms);
    return 0;
}
