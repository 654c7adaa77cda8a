/* zxmobile - the converters' shared helpers (libzxsync/pim/conv.c). */
#ifndef ZX_PIM_INT_H
#define ZX_PIM_INT_H

#include <zxsync/pimconv.h>

#include <apr_strings.h>

void zx_pimconv_warn(apr_pool_t *p, zx_pim_record *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* base64 text without blanks, checked; NULL when it is not base64 or decodes to nothing */
const char *zx_pimconv_base64_clean(apr_pool_t *p, const char *s);
/* the media type of base64 image data (JPEG, PNG, GIF, BMP), "application/octet-stream" else */
const char *zx_pimconv_image_type(apr_pool_t *p, const char *b64);

/* A date (midnight UTC) and its vCard form: "19850412", "1985-04-12", "--0412", "--04-12"
 * with an optional time part that is not used; 0 ok, -1 not a date. */
int zx_pimconv_parse_date(const char *s, apr_time_t *t);
/* "19850412" of the date whose midnight UTC is nearest to t; "--0412" in the year 1604 */
const char *zx_pimconv_date(apr_pool_t *p, apr_time_t t);

/* The RRULE (RFC 5545 recurrence rule text) of a task's or an event's recurrence fields
 * (zx_pim_rec_of); NULL when it has none or its Type is not one of [MS-ASTASK] 2.2.2.29 /
 * [MS-ASCAL] 2.2.2.44. */
const char *zx_pimconv_rrule(apr_pool_t *p, const zx_pim_props *pr);

/* a value set and non-empty */
const char *zx_pimconv_get(const zx_pim_props *pr, zx_pim_field f);
/* 1 and *t when the field holds a time, else 0 */
int zx_pimconv_get_time(const zx_pim_props *pr, zx_pim_field f, apr_time_t *t);
/* set a field when s is non-empty */
void zx_pimconv_set(zx_pim_props *pr, zx_pim_field f, const char *s);

#endif
