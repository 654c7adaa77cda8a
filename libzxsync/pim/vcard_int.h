/* zxmobile - the vCard reader's parts (vcard.c: lines, properties, values; vcard_contact.c:
 * a card's properties into a contact). */
#ifndef ZX_VCARD_INT_H
#define ZX_VCARD_INT_H

#include "pim_int.h"

typedef struct {
    const char *name;               /* upper case */
    apr_array_header_t *values;     /* const char *, unquoted */
} vparam;

typedef struct {
    const char *name;               /* upper case, without its group */
    apr_array_header_t *params;     /* vparam */
    const char *value;              /* as on the line (escaped, encoded) */
    long line;
} vprop;

int zx_vcard_parse_line(apr_pool_t *p, const char *l, long line, vprop *out, const char **why);
const vparam *zx_vcard_param(const vprop *v, const char *name);
const char *zx_vcard_param1(const vprop *v, const char *name);
int zx_vcard_has_type(const vprop *v, const char *type);
char *zx_vcard_unescape(apr_pool_t *p, const char *s, apr_size_t n);
apr_array_header_t *zx_vcard_split(apr_pool_t *p, const char *s, char sep);
const char *zx_vcard_value(apr_pool_t *p, const vprop *v, const char **why);

/* The contact of one card's properties (vprop), into r (props or error, warnings). */
void zx_vcard_contact(apr_pool_t *p, const apr_array_header_t *props, zx_pim_record *r);

/* The name the writer puts in FN when a contact has no FileAs. */
const char *zx_vcard_display_name(apr_pool_t *p, const zx_pim_props *pr);

/* The contact fields of the three postal addresses, in ADR order (street, city, region,
 * postal code, country): read (vcard_contact.c) and written (vcard_write.c) alike. */
extern const zx_pim_field zx_vcard_adr_work[5], zx_vcard_adr_home[5], zx_vcard_adr_other[5];

#endif
