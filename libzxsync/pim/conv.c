/* zxmobile - helpers shared by the vCard and iCalendar converters: record warnings, dates in
 * the ActiveSync and vCard forms, base64 pictures, the plain text note. */
#include "pim_int.h"

#include <apr_base64.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zxsync/text.h>

void zx_pimconv_warn(apr_pool_t *p, zx_pim_record *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *msg = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    if (!r->warnings)
        r->warnings = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(r->warnings, const char *) = msg;
}

const char *zx_pimconv_get(const zx_pim_props *pr, zx_pim_field f)
{
    const char *s = pr->v[f].text;
    return s && *s ? s : NULL;
}

int zx_pimconv_get_time(const zx_pim_props *pr, zx_pim_field f, apr_time_t *t)
{
    const char *s = zx_pimconv_get(pr, f);
    return s && zx_pimconv_parse_time(s, t) == 0;
}

void zx_pimconv_set(zx_pim_props *pr, zx_pim_field f, const char *s)
{
    if (s && *s)
        zx_pim_set(pr, f, s);
}

/* ---- times ---------------------------------------------------------------------------------- */

const char *zx_pimconv_time(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t x;
    apr_time_exp_gmt(&x, t);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", x.tm_year + 1900, x.tm_mon + 1,
                        x.tm_mday, x.tm_hour, x.tm_min, x.tm_sec, x.tm_usec / 1000);
}

/* n digits at *s (advanced); -1 when they are not there */
static int digits(const char **s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*s)++) {
        if (**s < '0' || **s > '9')
            return -1;
        v = v * 10 + (**s - '0');
    }
    return v;
}

static int skip(const char **s, char c)
{
    if (**s == c) {
        (*s)++;
        return 1;
    }
    return 0;
}

int zx_pimconv_parse_time(const char *s, apr_time_t *t)
{
    if (!s)
        return -1;
    int y = digits(&s, 4);
    skip(&s, '-');
    int mo = digits(&s, 2);
    skip(&s, '-');
    int d = digits(&s, 2);
    if (y < 0 || mo < 0 || d < 0 || !skip(&s, 'T'))
        return -1;
    int h = digits(&s, 2);
    skip(&s, ':');
    int mi = digits(&s, 2);
    skip(&s, ':');
    int sec = digits(&s, 2);
    int ms = 0;
    if (h < 0 || mi < 0 || sec < 0)
        return -1;
    if (skip(&s, '.')) {
        int n = 0;
        ms = 0;
        while (*s >= '0' && *s <= '9') {
            if (n < 3)
                ms = ms * 10 + (*s - '0');
            n++;
            s++;
        }
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            ms *= 10;
    }
    if (!skip(&s, 'Z') || *s)
        return -1;
    return zx_utc_time(y, mo, d, h, mi, sec, ms, t);
}

#define NO_YEAR 1604

int zx_pimconv_parse_date(const char *s, apr_time_t *t)
{
    int y, mo, d;
    if (s[0] == '-' && s[1] == '-') {
        s += 2;
        y = NO_YEAR;
    }
    else {
        y = digits(&s, 4);
        skip(&s, '-');
    }
    mo = digits(&s, 2);
    skip(&s, '-');
    d = digits(&s, 2);
    if (y < 0 || mo < 0 || d < 0 || (*s && *s != 'T'))
        return -1;
    return zx_utc_time(y, mo, d, 0, 0, 0, 0, t);
}

const char *zx_pimconv_date(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t x;
    apr_time_exp_gmt(&x, t + apr_time_from_sec(12 * 3600));
    if (x.tm_year + 1900 == NO_YEAR)
        return apr_psprintf(p, "--%02d%02d", x.tm_mon + 1, x.tm_mday);
    return apr_psprintf(p, "%04d%02d%02d", x.tm_year + 1900, x.tm_mon + 1, x.tm_mday);
}

/* ---- base64 ------------------------------------------------------------------------------- */

const char *zx_pimconv_base64_clean(apr_pool_t *p, const char *s)
{
    const char *c = zx_base64_strip(p, s);
    if (!c)
        return NULL;
    apr_size_t len = strlen(c);
    int pad = len > 0 && c[len - 1] == '=';
    if (len == 0 || (pad && len % 4))
        return NULL;
    /* decode and encode again: one canonical form (padded, no blanks) */
    unsigned char *raw = apr_palloc(p, (apr_size_t)apr_base64_decode_len(c) + 1);
    int rn = apr_base64_decode_binary(raw, c);
    if (rn <= 0)
        return NULL;
    char *out = apr_palloc(p, (apr_size_t)apr_base64_encode_len(rn));
    apr_base64_encode_binary(out, raw, rn);
    return out;
}

const char *zx_pimconv_image_type(apr_pool_t *p, const char *b64)
{
    unsigned char raw[16] = {0};
    char head[25];
    apr_cpystrn(head, b64, sizeof head);
    int n = apr_base64_decode_binary(raw, head);
    (void)p;
    if (n >= 3 && raw[0] == 0xFF && raw[1] == 0xD8 && raw[2] == 0xFF)
        return "image/jpeg";
    if (n >= 4 && memcmp(raw, "\x89PNG", 4) == 0)
        return "image/png";
    if (n >= 4 && memcmp(raw, "GIF8", 4) == 0)
        return "image/gif";
    if (n >= 2 && memcmp(raw, "BM", 2) == 0)
        return "image/bmp";
    return "application/octet-stream";
}

/* ---- plain text note ------------------------------------------------------------------------ */

zx_pim_record zx_note_from_text(apr_pool_t *p, const char *data, apr_size_t len)
{
    zx_pim_record r = {0};
    r.number = 1;
    r.line = 1;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {   /* a byte order mark */
        data += 3;
        len -= 3;
    }
    if (!zx_utf8_text(data, len)) {
        r.error = "not UTF-8 text";
        return r;
    }
    /* the first non-empty line */
    apr_size_t i = 0;
    long line = 1;
    for (;;) {
        apr_size_t e = i;
        while (e < len && data[e] != '\n')
            e++;
        apr_size_t ce = e;
        while (ce > i && (data[ce - 1] == '\r' || data[ce - 1] == ' ' || data[ce - 1] == '\t'))
            ce--;
        apr_size_t cs = i;
        while (cs < ce && (data[cs] == ' ' || data[cs] == '\t'))
            cs++;
        if (cs < ce || e >= len) {
            if (cs >= ce) {
                r.error = "empty file";
                return r;
            }
            zx_pim_props *pr = zx_pim_props_new(p, ZX_PIM_NOTE);
            zx_pim_set(pr, ZX_PF_NOTE_SUBJECT, apr_pstrmemdup(p, data + cs, ce - cs));
            /* the body: the rest, without the blank lines that start it and CRs */
            apr_size_t b = e < len ? e + 1 : len;
            char *body = apr_palloc(p, len - b + 1), *w = body;
            for (apr_size_t k = b; k < len; k++)
                if (data[k] != '\r')
                    *w++ = data[k];
            *w = '\0';
            char *bs = body;
            while (*bs == '\n')
                bs++;
            while (w > bs && (w[-1] == '\n' || w[-1] == ' ' || w[-1] == '\t'))
                *--w = '\0';
            if (*bs) {
                zx_pim_set(pr, ZX_PF_NOTE_BODY, bs);
                zx_pim_set(pr, ZX_PF_NOTE_BODY_TYPE, "1");
            }
            zx_pim_set(pr, ZX_PF_NOTE_MESSAGE_CLASS, "IPM.StickyNote");
            r.props = pr;
            r.line = line;
            return r;
        }
        i = e + 1;
        line++;
    }
}

int zx_pimconv_is_ical(const char *data, apr_size_t len)
{
    apr_size_t i = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    return len - i >= 15 && strncasecmp(data + i, "BEGIN:VCALENDAR", 15) == 0;
}
