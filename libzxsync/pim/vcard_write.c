/* zxmobile - a contact as a vCard 4.0 (RFC 6350): CRLF lines folded at 75 octets (never inside
 * a UTF-8 sequence), text escaped; each field written so that vcard.c reads it back into the
 * same field (vcard_contact.c lists the names). */
#include "vcard_int.h"

#include <string.h>
#include <zxsync/mime.h>

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *out;    /* char */
} wctx;

static void out_bytes(wctx *w, const char *s, apr_size_t n)
{
    for (apr_size_t i = 0; i < n; i++)
        APR_ARRAY_PUSH(w->out, char) = s[i];
}

/* one content line, folded */
static void line(wctx *w, const char *s)
{
    apr_size_t n = strlen(s), i = 0, width = 75;
    while (n - i > width) {
        apr_size_t cut = i + width;
        while (cut > i && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
        out_bytes(w, s + i, cut - i);
        out_bytes(w, "\r\n ", 3);
        i = cut;
        width = 74;
    }
    out_bytes(w, s + i, n - i);
    out_bytes(w, "\r\n", 2);
}

/* text escaped: backslash, comma, semicolon, newline (CR LF and CR as one) */
static const char *esc(apr_pool_t *p, const char *s)
{
    if (!s)
        return "";
    apr_size_t n = strlen(s);
    char *o = apr_palloc(p, n * 2 + 1), *w = o;
    for (apr_size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' || c == ',' || c == ';') {
            *w++ = '\\';
            *w++ = c;
        }
        else if (c == '\r' || c == '\n') {
            *w++ = '\\';
            *w++ = 'n';
            if (c == '\r' && s[i + 1] == '\n')
                i++;
        }
        else {
            *w++ = c;
        }
    }
    *w = '\0';
    return o;
}

static void prop(wctx *w, const char *name, const char *value)
{
    if (value && *value)
        line(w, apr_pstrcat(w->p, name, ":", esc(w->p, value), NULL));
}

const char *zx_vcard_display_name(apr_pool_t *p, const zx_pim_props *pr)
{
    static const zx_pim_field parts[] = {ZX_PF_CONTACT_TITLE, ZX_PF_CONTACT_FIRST_NAME,
                                         ZX_PF_CONTACT_MIDDLE_NAME, ZX_PF_CONTACT_LAST_NAME,
                                         ZX_PF_CONTACT_SUFFIX};
    const char *name = NULL;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const char *s = zx_pimconv_get(pr, parts[i]);
        if (s)
            name = name ? apr_pstrcat(p, name, " ", s, NULL) : s;
    }
    if (!name)
        name = zx_pimconv_get(pr, ZX_PF_CONTACT_COMPANY_NAME);
    if (!name)
        name = zx_pimconv_get(pr, ZX_PF_CONTACT_EMAIL1);
    return name ? name : "";
}

static const char *getf(const zx_pim_props *pr, zx_pim_field f)
{
    return zx_pimconv_get(pr, f);
}

static void date_prop(wctx *w, const char *name, const zx_pim_props *pr, zx_pim_field f)
{
    apr_time_t t;
    const char *s = getf(pr, f);
    if (s && zx_pimconv_parse_time(s, &t) == 0)
        line(w, apr_pstrcat(w->p, name, ":", zx_pimconv_date(w->p, t), NULL));
}

static void adr(wctx *w, const char *type, const zx_pim_props *pr, const zx_pim_field *f)
{
    int any = 0;
    for (int k = 0; k < 5; k++)
        any |= getf(pr, f[k]) != NULL;
    if (!any)
        return;
    apr_pool_t *p = w->p;
    line(w, apr_pstrcat(p, "ADR", type, ":;;", esc(p, getf(pr, f[0])), ";", esc(p, getf(pr, f[1])),
                        ";", esc(p, getf(pr, f[2])), ";", esc(p, getf(pr, f[3])), ";",
                        esc(p, getf(pr, f[4])), NULL));
}

const char *zx_vcard_write(apr_pool_t *p, const zx_pim_props *pr, const char *uid)
{
    wctx w = {p, apr_array_make(p, 2048, 1)};
    line(&w, "BEGIN:VCARD");
    line(&w, "VERSION:4.0");
    if (uid)
        prop(&w, "UID", uid);
    const char *fa = getf(pr, ZX_PF_CONTACT_FILE_AS), *dn = zx_vcard_display_name(p, pr);
    line(&w, apr_pstrcat(p, "FN:", esc(p, fa ? fa : dn), NULL));
    /* a FileAs that is the name the reader would take as no FileAs: said once more */
    if (fa && strcmp(fa, dn) == 0)
        prop(&w, "X-ZXMOBILE-FILE-AS", fa);
    static const zx_pim_field nf[] = {ZX_PF_CONTACT_LAST_NAME, ZX_PF_CONTACT_FIRST_NAME,
                                      ZX_PF_CONTACT_MIDDLE_NAME, ZX_PF_CONTACT_TITLE,
                                      ZX_PF_CONTACT_SUFFIX};
    int any = 0;
    for (int i = 0; i < 5; i++)
        any |= getf(pr, nf[i]) != NULL;
    if (any)
        line(&w, apr_pstrcat(p, "N:", esc(p, getf(pr, nf[0])), ";", esc(p, getf(pr, nf[1])), ";",
                             esc(p, getf(pr, nf[2])), ";", esc(p, getf(pr, nf[3])), ";",
                             esc(p, getf(pr, nf[4])), NULL));
    prop(&w, "NICKNAME", getf(pr, ZX_PF_CONTACT_NICKNAME));
    const char *co = getf(pr, ZX_PF_CONTACT_COMPANY_NAME);
    const char *dep = getf(pr, ZX_PF_CONTACT_DEPARTMENT);
    if (co || dep)
        line(&w, apr_pstrcat(p, "ORG:", esc(p, co), dep ? ";" : "", dep ? esc(p, dep) : "", NULL));
    prop(&w, "TITLE", getf(pr, ZX_PF_CONTACT_JOB_TITLE));
    date_prop(&w, "BDAY", pr, ZX_PF_CONTACT_BIRTHDAY);
    date_prop(&w, "ANNIVERSARY", pr, ZX_PF_CONTACT_ANNIVERSARY);
    static const struct {
        zx_pim_field f;
        const char *name;
    } tels[] = {
        {ZX_PF_CONTACT_BUSINESS_PHONE, "TEL;TYPE=work,voice"},
        {ZX_PF_CONTACT_BUSINESS2_PHONE, "TEL;TYPE=work,voice"},
        {ZX_PF_CONTACT_HOME_PHONE, "TEL;TYPE=home,voice"},
        {ZX_PF_CONTACT_HOME2_PHONE, "TEL;TYPE=home,voice"},
        {ZX_PF_CONTACT_MOBILE_PHONE, "TEL;TYPE=cell"},
        {ZX_PF_CONTACT_CAR_PHONE, "TEL;TYPE=car"},
        {ZX_PF_CONTACT_PAGER, "TEL;TYPE=pager"},
        {ZX_PF_CONTACT_BUSINESS_FAX, "TEL;TYPE=work,fax"},
        {ZX_PF_CONTACT_HOME_FAX, "TEL;TYPE=home,fax"},
        {ZX_PF_CONTACT_ASSISTANT_PHONE, "TEL;TYPE=x-assistant"},
        {ZX_PF_CONTACT_COMPANY_MAIN_PHONE, "TEL;TYPE=x-company"},
        {ZX_PF_CONTACT_RADIO_PHONE, "TEL;TYPE=x-radio"},
        {ZX_PF_CONTACT_MMS, "TEL;TYPE=x-mms"},
    };
    for (size_t i = 0; i < sizeof tels / sizeof tels[0]; i++)
        prop(&w, tels[i].name, getf(pr, tels[i].f));
    prop(&w, "EMAIL", getf(pr, ZX_PF_CONTACT_EMAIL1));
    prop(&w, "EMAIL", getf(pr, ZX_PF_CONTACT_EMAIL2));
    prop(&w, "EMAIL", getf(pr, ZX_PF_CONTACT_EMAIL3));
    prop(&w, "IMPP", getf(pr, ZX_PF_CONTACT_IM_ADDRESS));
    prop(&w, "IMPP", getf(pr, ZX_PF_CONTACT_IM_ADDRESS2));
    prop(&w, "IMPP", getf(pr, ZX_PF_CONTACT_IM_ADDRESS3));
    adr(&w, ";TYPE=work", pr, zx_vcard_adr_work);
    adr(&w, ";TYPE=home", pr, zx_vcard_adr_home);
    adr(&w, "", pr, zx_vcard_adr_other);
    prop(&w, "URL", getf(pr, ZX_PF_CONTACT_WEB_PAGE));
    const apr_array_header_t *cats = pr->v[ZX_PF_CONTACT_CATEGORIES].list;
    if (cats && cats->nelts) {
        const char *s = NULL;
        for (int i = 0; i < cats->nelts; i++) {
            const char *e = esc(p, APR_ARRAY_IDX(cats, i, const char *));
            s = s ? apr_pstrcat(p, s, ",", e, NULL) : e;
        }
        line(&w, apr_pstrcat(p, "CATEGORIES:", s, NULL));
    }
    prop(&w, "RELATED;TYPE=spouse;VALUE=text", getf(pr, ZX_PF_CONTACT_SPOUSE));
    const apr_array_header_t *kids = pr->v[ZX_PF_CONTACT_CHILDREN].list;
    for (int i = 0; kids && i < kids->nelts; i++)
        prop(&w, "RELATED;TYPE=child;VALUE=text", APR_ARRAY_IDX(kids, i, const char *));
    prop(&w, "X-ASSISTANT", getf(pr, ZX_PF_CONTACT_ASSISTANT_NAME));
    prop(&w, "X-MANAGER", getf(pr, ZX_PF_CONTACT_MANAGER_NAME));
    prop(&w, "X-PHONETIC-FIRST-NAME", getf(pr, ZX_PF_CONTACT_YOMI_FIRST));
    prop(&w, "X-PHONETIC-LAST-NAME", getf(pr, ZX_PF_CONTACT_YOMI_LAST));
    prop(&w, "X-PHONETIC-ORG", getf(pr, ZX_PF_CONTACT_YOMI_COMPANY));
    prop(&w, "X-ZXMOBILE-OFFICE-LOCATION", getf(pr, ZX_PF_CONTACT_OFFICE_LOCATION));
    prop(&w, "X-ZXMOBILE-ACCOUNT-NAME", getf(pr, ZX_PF_CONTACT_ACCOUNT_NAME));
    prop(&w, "X-ZXMOBILE-CUSTOMER-ID", getf(pr, ZX_PF_CONTACT_CUSTOMER_ID));
    prop(&w, "X-ZXMOBILE-GOVERNMENT-ID", getf(pr, ZX_PF_CONTACT_GOVERNMENT_ID));
    /* the body: NOTE as plain text; an HTML one also as X-ALT-DESC, an RTF one as base64 */
    const char *body = getf(pr, ZX_PF_CONTACT_BODY), *bt = getf(pr, ZX_PF_CONTACT_BODY_TYPE);
    if (body) {
        if (bt && strcmp(bt, "3") == 0) {
            line(&w, apr_pstrcat(p, "X-ZXMOBILE-BODY-RTF:", body, NULL));
        }
        else if (bt && strcmp(bt, "2") == 0) {
            prop(&w, "NOTE", zx_mime_html_to_text(p, body));
            prop(&w, "X-ALT-DESC;FMTTYPE=text/html", body);
        }
        else {
            prop(&w, "NOTE", body);
        }
    }
    const char *pic = getf(pr, ZX_PF_CONTACT_PICTURE);
    if (pic)
        line(&w, apr_pstrcat(p, "PHOTO:data:", zx_pimconv_image_type(p, pic), ";base64,", pic,
                             NULL));
    line(&w, "END:VCARD");
    return apr_pstrmemdup(p, w.out->elts, (apr_size_t)w.out->nelts);
}
