/* zxmobile - the registry of item classes (eas/class/class.h) and the EAS values they share. */
#include "class.h"
#include "email.h"
#include "pim.h"

#include <zxsync/text.h>

#include <apr_base64.h>
#include <apr_strings.h>
#include <ctype.h>
#include <string.h>

/* ---- the registry: one line per class ------------------------------------------------------- */

static const zx_item_class *const classes[] = {
    &zx_class_email,
    &zx_class_contacts,
    &zx_class_tasks,
    &zx_class_notes,
    &zx_class_calendar,
};

const zx_item_class *zx_class_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strcmp(classes[i]->name, name) == 0)
            return classes[i];
    return NULL;
}

const zx_item_class *zx_class_of(const char *name)
{
    const zx_item_class *k = zx_class_find(name);
    return k ? k : &zx_class_email;
}

/* ---- dates --------------------------------------------------------------------------------- */

const char *zx_eas_date(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t e;
    apr_time_exp_gmt(&e, t);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", e.tm_year + 1900, e.tm_mon + 1,
                        e.tm_mday, e.tm_hour, e.tm_min, e.tm_sec, e.tm_usec / 1000);
}

const char *zx_eas_compact_date(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t e;
    apr_time_exp_gmt(&e, t);
    return apr_psprintf(p, "%04d%02d%02dT%02d%02d%02dZ", e.tm_year + 1900, e.tm_mon + 1,
                        e.tm_mday, e.tm_hour, e.tm_min, e.tm_sec);
}

static int digits(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*s)[i]))
            return -1;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return 0;
}

int zx_eas_parse_date(const char *s, apr_time_t *t)
{
    int y, mo, d, h, mi, sec, ms = 0;
    if (!s)
        return -1;
    int compact = strlen(s) >= 15 && s[8] == 'T';
    if (digits(&s, 4, &y) < 0 || (!compact && *s++ != '-') || digits(&s, 2, &mo) < 0 ||
        (!compact && *s++ != '-') || digits(&s, 2, &d) < 0 || *s++ != 'T' ||
        digits(&s, 2, &h) < 0 || (!compact && *s++ != ':') || digits(&s, 2, &mi) < 0 ||
        (!compact && *s++ != ':') || digits(&s, 2, &sec) < 0)
        return -1;
    if (*s == '.') {
        s++;
        int n = 0, frac = 0;
        while (isdigit((unsigned char)*s)) {
            if (n < 3) {
                frac = frac * 10 + (*s - '0');
                n++;
            }
            s++;
        }
        if (n == 0)
            return -1;
        while (n++ < 3)
            frac *= 10;
        ms = frac;
    }
    if (*s == 'Z')
        s++;
    if (*s)
        return -1;
    return zx_utc_time(y, mo, d, h, mi, sec, ms, t);
}

/* ---- numbers -------------------------------------------------------------------------------- */

int zx_eas_parse_uint(const char *s, long long max, long long *out)
{
    if (!s || !*s)
        return -1;
    long long v = 0;
    for (const char *c = s; *c; c++) {
        if (!isdigit((unsigned char)*c))
            return -1;
        v = v * 10 + (*c - '0');
        if (v > max)
            return -1;
    }
    *out = v;
    return 0;
}

/* The 16 bytes of a ConversationId sent as opaque data, as hex text or as base64 text. */
const unsigned char *zx_eas_conversation_id(apr_pool_t *p, const zx_wb_node *n)
{
    apr_size_t len = 0;
    const zx_wb_node *only = NULL;
    for (const zx_wb_node *k = n->first; k; k = k->next)
        if (k->kind != ZX_WB_ELEMENT) {
            only = k;
            len += k->len;
        }
    if (!only || only->len != len)
        return NULL;
    if (len == 16)
        return (const unsigned char *)only->data;
    unsigned char *out = apr_palloc(p, 64);
    if (len == 32) {
        for (int i = 0; i < 16; i++) {
            int hi = zx_hexval((unsigned char)only->data[2 * i]),
                lo = zx_hexval((unsigned char)only->data[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return NULL;
            out[i] = (unsigned char)(hi << 4 | lo);
        }
        return out;
    }
    if (len == 24 && only->kind == ZX_WB_TEXT &&
        apr_base64_decode_len(only->data) <= 64 &&
        apr_base64_decode_binary(out, only->data) == 16)
        return out;
    return NULL;
}
