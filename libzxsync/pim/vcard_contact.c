/* zxmobile - one vCard's properties into a contact (vcard_int.h): which property, parameter
 * and X- extension fills which field of pim_fields.def.  The writer (vcard_write.c) uses the
 * first name of each list below, so what it writes comes back the same. */
#include "vcard_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* [MS-ASCNTC] 2.2.2.58 Picture: at most 48 KB of base64 (Sync refuses more) */
#define PICTURE_MAX (48 * 1024)

typedef struct {
    const char *value;
    int pref, order;
} ranked;

typedef struct {
    apr_pool_t *p;
    zx_pim_record *r;
    zx_pim_props *pr;
    const char *fn;
    const char *file_as;            /* an X- FileAs: wins over FN */
    const char *html, *rtf, *note;
    apr_array_header_t *emails, *ims, *children;
    int order;
} cctx;

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcasecmp(name, *list) == 0)
            return 1;
    return 0;
}

/* X- names read for fields vCard has no property for (the first one is what the writer uses) */
static const struct {
    zx_pim_field f;
    const char *names[6];
} xnames[] = {
    {ZX_PF_CONTACT_ASSISTANT_NAME,
     {"X-ASSISTANT", "X-MS-ASSISTANT", "X-EVOLUTION-ASSISTANT", "X-KADDRESSBOOK-X-ASSISTANTSNAME",
      NULL}},
    {ZX_PF_CONTACT_MANAGER_NAME,
     {"X-MANAGER", "X-MS-MANAGER", "X-EVOLUTION-MANAGER", "X-KADDRESSBOOK-X-MANAGERSNAME", NULL}},
    {ZX_PF_CONTACT_SPOUSE,
     {"X-SPOUSE", "X-MS-SPOUSE", "X-EVOLUTION-SPOUSE", "X-KADDRESSBOOK-X-SPOUSESNAME", NULL}},
    {ZX_PF_CONTACT_YOMI_FIRST, {"X-PHONETIC-FIRST-NAME", NULL}},
    {ZX_PF_CONTACT_YOMI_LAST, {"X-PHONETIC-LAST-NAME", NULL}},
    {ZX_PF_CONTACT_YOMI_COMPANY, {"X-PHONETIC-ORG", NULL}},
    {ZX_PF_CONTACT_OFFICE_LOCATION,
     {"X-ZXMOBILE-OFFICE-LOCATION", "X-MS-OFFICE-LOCATION", "X-KADDRESSBOOK-X-OFFICE", NULL}},
    {ZX_PF_CONTACT_ACCOUNT_NAME, {"X-ZXMOBILE-ACCOUNT-NAME", NULL}},
    {ZX_PF_CONTACT_CUSTOMER_ID, {"X-ZXMOBILE-CUSTOMER-ID", NULL}},
    {ZX_PF_CONTACT_GOVERNMENT_ID, {"X-ZXMOBILE-GOVERNMENT-ID", NULL}},
};

static const char *const fileas_names[] = {"X-ZXMOBILE-FILE-AS", "X-EVOLUTION-FILE-AS", NULL};
static const char *const anniversary_names[] = {"ANNIVERSARY", "X-ANNIVERSARY", "X-MS-ANNIVERSARY",
                                                "X-EVOLUTION-ANNIVERSARY",
                                                "X-KADDRESSBOOK-X-ANNIVERSARY", NULL};
static const char *const child_names[] = {"X-CHILD", "X-MS-CHILD", NULL};
static const char *const im_names[] = {"IMPP", "X-MS-IMADDRESS", "X-JABBER", "X-AIM", "X-ICQ",
                                       "X-MSN", "X-YAHOO", "X-SKYPE", "X-GOOGLE-TALK",
                                       "X-GADUGADU", "X-SIP", NULL};

static int fail(cctx *c, const vprop *v, const char *why)
{
    if (!c->r->error)
        c->r->error = apr_psprintf(c->p, "line %ld: %s: %s", v->line, v->name, why);
    return -1;
}

static void put_ranked(cctx *c, apr_array_header_t **a, const vprop *v, const char *val)
{
    if (!*a)
        *a = apr_array_make(c->p, 4, sizeof(ranked));
    ranked *k = apr_array_push(*a);
    k->value = val;
    k->order = c->order;
    const char *pref = zx_vcard_param1(v, "PREF");
    k->pref = pref ? atoi(pref) : zx_vcard_has_type(v, "pref") ? 1 : 101;
    if (k->pref <= 0)
        k->pref = 101;
}

static int rank_cmp(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return x->pref != y->pref ? x->pref - y->pref : x->order - y->order;
}

static void fill_ranked(cctx *c, apr_array_header_t *a, const zx_pim_field *fields, int n,
                        const char *what)
{
    if (!a)
        return;
    qsort(a->elts, (size_t)a->nelts, sizeof(ranked), rank_cmp);
    for (int i = 0; i < a->nelts; i++) {
        const char *v = APR_ARRAY_IDX(a, i, ranked).value;
        if (i < n)
            zx_pimconv_set(c->pr, fields[i], v);
        else
            zx_pimconv_warn(c->p, c->r, "%s %s dropped (a contact has %d)", what, v, n);
    }
}

/* the first free field of a list; -1 when all are taken */
static int first_free(cctx *c, const zx_pim_field *f, int n)
{
    for (int i = 0; i < n; i++)
        if (!c->pr->set[f[i]])
            return (int)f[i];
    return -1;
}

static void put_tel(cctx *c, const vprop *v, const char *num)
{
    if (strncasecmp(num, "tel:", 4) == 0)
        num += 4;
    if (!*num)
        return;
    static const zx_pim_field work[] = {ZX_PF_CONTACT_BUSINESS_PHONE,
                                        ZX_PF_CONTACT_BUSINESS2_PHONE};
    static const zx_pim_field home[] = {ZX_PF_CONTACT_HOME_PHONE, ZX_PF_CONTACT_HOME2_PHONE};
    static const zx_pim_field other[] = {ZX_PF_CONTACT_HOME_PHONE, ZX_PF_CONTACT_BUSINESS_PHONE,
                                         ZX_PF_CONTACT_MOBILE_PHONE, ZX_PF_CONTACT_HOME2_PHONE,
                                         ZX_PF_CONTACT_BUSINESS2_PHONE};
    static const zx_pim_field wfax[] = {ZX_PF_CONTACT_BUSINESS_FAX, ZX_PF_CONTACT_HOME_FAX};
    static const zx_pim_field hfax[] = {ZX_PF_CONTACT_HOME_FAX, ZX_PF_CONTACT_BUSINESS_FAX};
    zx_pim_field one[1];
#define ONE(f) one, n = 1, one[0] = (f)
    const zx_pim_field *list;
    int n;
    if (zx_vcard_has_type(v, "x-assistant") || zx_vcard_has_type(v, "x-evolution-assistant") ||
        zx_vcard_has_type(v, "assistant"))
        list = ONE(ZX_PF_CONTACT_ASSISTANT_PHONE);
    else if (zx_vcard_has_type(v, "x-company") || zx_vcard_has_type(v, "x-evolution-company") ||
             zx_vcard_has_type(v, "company"))
        list = ONE(ZX_PF_CONTACT_COMPANY_MAIN_PHONE);
    else if (zx_vcard_has_type(v, "x-radio") || zx_vcard_has_type(v, "x-evolution-radio") ||
             zx_vcard_has_type(v, "radio"))
        list = ONE(ZX_PF_CONTACT_RADIO_PHONE);
    else if (zx_vcard_has_type(v, "x-mms") || zx_vcard_has_type(v, "mms"))
        list = ONE(ZX_PF_CONTACT_MMS);
    else if (zx_vcard_has_type(v, "fax"))
        list = zx_vcard_has_type(v, "home") ? hfax : wfax, n = 2;
    else if (zx_vcard_has_type(v, "cell") || zx_vcard_has_type(v, "mobile") ||
             zx_vcard_has_type(v, "iphone"))
        list = ONE(ZX_PF_CONTACT_MOBILE_PHONE);
    else if (zx_vcard_has_type(v, "car"))
        list = ONE(ZX_PF_CONTACT_CAR_PHONE);
    else if (zx_vcard_has_type(v, "pager"))
        list = ONE(ZX_PF_CONTACT_PAGER);
    else if (zx_vcard_has_type(v, "work"))
        list = work, n = 2;
    else if (zx_vcard_has_type(v, "home"))
        list = home, n = 2;
    else
        list = other, n = 5;
#undef ONE
    int f = first_free(c, list, n);
    if (f < 0)
        zx_pimconv_warn(c->p, c->r, "line %ld: TEL %s dropped (no free field of its kind)",
                        v->line, num);
    else
        zx_pim_set(c->pr, (zx_pim_field)f, num);
}

static void put_adr(cctx *c, const vprop *v, const char *val)
{
    apr_array_header_t *a = zx_vcard_split(c->p, val, ';');
    const char *part[7] = {0};
    for (int i = 0; i < 7 && i < a->nelts; i++)
        part[i] = APR_ARRAY_IDX(a, i, const char *);
    const zx_pim_field *work = zx_vcard_adr_work, *home = zx_vcard_adr_home,
                       *other = zx_vcard_adr_other;
    const zx_pim_field *kinds[3];
    int nk = 0;
    if (zx_vcard_has_type(v, "work"))
        kinds[nk++] = work;
    else if (zx_vcard_has_type(v, "home"))
        kinds[nk++] = home;
    kinds[nk++] = other;
    if (nk == 1) {
        kinds[nk++] = home;
        kinds[nk++] = work;
    }
    const zx_pim_field *f = NULL;
    for (int i = 0; i < nk && !f; i++) {
        int used = 0;
        for (int k = 0; k < 5; k++)
            used |= c->pr->set[kinds[i][k]];
        if (!used)
            f = kinds[i];
    }
    if (!f) {
        zx_pimconv_warn(c->p, c->r, "line %ld: ADR dropped (no free address of its kind)",
                        v->line);
        return;
    }
    /* post office box and extended address go before the street, one per line */
    const char *street = part[2];
    for (int i = 1; i >= 0; i--)
        if (part[i] && *part[i])
            street = street && *street ? apr_pstrcat(c->p, part[i], "\n", street, NULL) : part[i];
    const char *vals[5] = {street, part[3], part[4], part[5], part[6]};
    for (int k = 0; k < 5; k++)
        zx_pimconv_set(c->pr, f[k], vals[k]);
}

static int put_date(cctx *c, const vprop *v, const char *val, zx_pim_field f)
{
    const char *vt = zx_vcard_param1(v, "VALUE");
    if (vt && strcasecmp(vt, "text") == 0) {
        zx_pimconv_warn(c->p, c->r, "line %ld: %s \"%s\" dropped (not a date)", v->line, v->name,
                        val);
        return 0;
    }
    apr_time_t t;
    if (zx_pimconv_parse_date(val, &t) < 0)
        return fail(c, v, apr_psprintf(c->p, "\"%s\" is not a date (YYYYMMDD, YYYY-MM-DD or "
                                       "--MMDD)", val));
    zx_pim_set(c->pr, f, zx_pimconv_time(c->p, t));
    return 0;
}

static int put_photo(cctx *c, const vprop *v, const char *val)
{
    const char *enc = zx_vcard_param1(v, "ENCODING");
    const char *b64 = NULL;
    if (enc && (strcasecmp(enc, "b") == 0 || strcasecmp(enc, "BASE64") == 0)) {
        b64 = val;
    }
    else if (strncasecmp(val, "data:", 5) == 0) {
        const char *comma = strchr(val, ',');
        if (!comma || comma - val < 12 || strncasecmp(comma - 7, ";base64", 7) != 0)
            return fail(c, v, "a data: URI that is not base64");
        b64 = comma + 1;
    }
    else {
        zx_pimconv_warn(c->p, c->r, "line %ld: PHOTO given by URL dropped (not fetched)",
                        v->line);
        return 0;
    }
    const char *clean = zx_pimconv_base64_clean(c->p, b64);
    if (!clean)
        return fail(c, v, "the picture is not valid base64");
    if (strlen(clean) > PICTURE_MAX) {
        zx_pimconv_warn(c->p, c->r, "line %ld: PHOTO dropped: %" APR_SIZE_T_FMT " bytes of "
                        "base64, ActiveSync takes at most %d", v->line, strlen(clean), PICTURE_MAX);
        return 0;
    }
    zx_pim_set(c->pr, ZX_PF_CONTACT_PICTURE, clean);
    return 0;
}

static void push_child(cctx *c, const char *name)
{
    if (!*name)
        return;
    if (!c->children)
        c->children = apr_array_make(c->p, 4, sizeof(const char *));
    APR_ARRAY_PUSH(c->children, const char *) = name;
}

/* one property; -1 when it makes the card unreadable (c->r->error) */
static int put(cctx *c, const vprop *v)
{
    const char *n = v->name;
    const char *why = NULL;
    if (strcmp(n, "BEGIN") == 0 || strcmp(n, "END") == 0)
        return 0;
    if (strcmp(n, "VERSION") == 0) {
        const char *ver = v->value;
        if (strcmp(ver, "2.1") && strcmp(ver, "3.0") && strcmp(ver, "4.0"))
            return fail(c, v, apr_psprintf(c->p, "version %s is not one of 2.1, 3.0, 4.0", ver));
        return 0;
    }
    if (strcmp(n, "PHOTO") == 0) {
        const char *val = v->value;
        const char *enc = zx_vcard_param1(v, "ENCODING");
        if (enc && strcasecmp(enc, "QUOTED-PRINTABLE") == 0 &&
            !(val = zx_vcard_value(c->p, v, &why)))
            return fail(c, v, why);
        return put_photo(c, v, val);
    }
    const char *val = zx_vcard_value(c->p, v, &why);
    if (!val) {
        if (!c->r->error)
            c->r->error = apr_psprintf(c->p, "line %ld: %s", v->line, why);
        return -1;
    }
    c->order++;
    const char *text = NULL;    /* the value unescaped, for single-text properties */
#define TEXT() (text ? text : (text = zx_vcard_unescape(c->p, val, strlen(val))))
    if (strcmp(n, "KIND") == 0) {
        if (strcasecmp(val, "group") == 0)
            return fail(c, v, "a group (KIND:group), not a contact");
        return 0;
    }
    if (strcmp(n, "N") == 0) {
        apr_array_header_t *a = zx_vcard_split(c->p, val, ';');
        static const zx_pim_field nf[] = {ZX_PF_CONTACT_LAST_NAME, ZX_PF_CONTACT_FIRST_NAME,
                                          ZX_PF_CONTACT_MIDDLE_NAME, ZX_PF_CONTACT_TITLE,
                                          ZX_PF_CONTACT_SUFFIX};
        for (int i = 0; i < 5 && i < a->nelts; i++)
            zx_pimconv_set(c->pr, nf[i], APR_ARRAY_IDX(a, i, const char *));
        return 0;
    }
    if (strcmp(n, "FN") == 0) {
        c->fn = TEXT();
        return 0;
    }
    if (in_list(n, fileas_names)) {
        c->file_as = TEXT();
        return 0;
    }
    if (strcmp(n, "ORG") == 0) {
        apr_array_header_t *a = zx_vcard_split(c->p, val, ';');
        zx_pimconv_set(c->pr, ZX_PF_CONTACT_COMPANY_NAME, APR_ARRAY_IDX(a, 0, const char *));
        const char *dep = NULL;
        for (int i = 1; i < a->nelts; i++) {
            const char *u = APR_ARRAY_IDX(a, i, const char *);
            if (*u)
                dep = dep ? apr_pstrcat(c->p, dep, ", ", u, NULL) : u;
        }
        zx_pimconv_set(c->pr, ZX_PF_CONTACT_DEPARTMENT, dep);
        return 0;
    }
    if (strcmp(n, "TITLE") == 0) {
        zx_pimconv_set(c->pr, ZX_PF_CONTACT_JOB_TITLE, TEXT());
        return 0;
    }
    if (strcmp(n, "NICKNAME") == 0) {
        zx_pimconv_set(c->pr, ZX_PF_CONTACT_NICKNAME, TEXT());
        return 0;
    }
    if (strcmp(n, "BDAY") == 0)
        return put_date(c, v, val, ZX_PF_CONTACT_BIRTHDAY);
    if (in_list(n, anniversary_names))
        return put_date(c, v, val, ZX_PF_CONTACT_ANNIVERSARY);
    if (strcmp(n, "TEL") == 0 || strcmp(n, "X-MS-TEL") == 0) {
        put_tel(c, v, TEXT());
        return 0;
    }
    if (strcmp(n, "EMAIL") == 0) {
        if (*TEXT())
            put_ranked(c, &c->emails, v, text);
        return 0;
    }
    if (in_list(n, im_names)) {
        if (*TEXT())
            put_ranked(c, &c->ims, v, text);
        return 0;
    }
    if (strcmp(n, "ADR") == 0) {
        put_adr(c, v, val);
        return 0;
    }
    if (strcmp(n, "URL") == 0) {
        if (c->pr->set[ZX_PF_CONTACT_WEB_PAGE])
            zx_pimconv_warn(c->p, c->r, "line %ld: URL %s dropped (a contact has one)", v->line,
                            TEXT());
        else
            zx_pimconv_set(c->pr, ZX_PF_CONTACT_WEB_PAGE, TEXT());
        return 0;
    }
    if (strcmp(n, "CATEGORIES") == 0) {
        apr_array_header_t *a = zx_vcard_split(c->p, val, ',');
        apr_array_header_t *have = c->pr->v[ZX_PF_CONTACT_CATEGORIES].list;
        if (!have)
            have = apr_array_make(c->p, a->nelts, sizeof(const char *));
        for (int i = 0; i < a->nelts; i++) {
            const char *cat = APR_ARRAY_IDX(a, i, const char *);
            if (*cat)
                APR_ARRAY_PUSH(have, const char *) = cat;
        }
        if (have->nelts)
            zx_pim_set_list(c->pr, ZX_PF_CONTACT_CATEGORIES, have);
        return 0;
    }
    if (strcmp(n, "NOTE") == 0) {
        c->note = c->note ? apr_pstrcat(c->p, c->note, "\n", TEXT(), NULL) : TEXT();
        return 0;
    }
    if (strcmp(n, "X-ALT-DESC") == 0) {
        const char *ft = zx_vcard_param1(v, "FMTTYPE");
        if (ft && strcasecmp(ft, "text/html") == 0)
            c->html = TEXT();
        return 0;
    }
    if (strcmp(n, "X-ZXMOBILE-BODY-RTF") == 0) {
        c->rtf = zx_pimconv_base64_clean(c->p, val);
        if (!c->rtf)
            return fail(c, v, "not base64");
        return 0;
    }
    if (strcmp(n, "RELATED") == 0) {
        if (zx_vcard_has_type(v, "spouse"))
            zx_pimconv_set(c->pr, ZX_PF_CONTACT_SPOUSE, TEXT());
        else if (zx_vcard_has_type(v, "child"))
            push_child(c, TEXT());
        else if (zx_vcard_has_type(v, "x-assistant") || zx_vcard_has_type(v, "assistant"))
            zx_pimconv_set(c->pr, ZX_PF_CONTACT_ASSISTANT_NAME, TEXT());
        else if (zx_vcard_has_type(v, "x-manager") || zx_vcard_has_type(v, "manager"))
            zx_pimconv_set(c->pr, ZX_PF_CONTACT_MANAGER_NAME, TEXT());
        return 0;
    }
    if (in_list(n, child_names)) {
        push_child(c, TEXT());
        return 0;
    }
    for (size_t i = 0; i < sizeof xnames / sizeof xnames[0]; i++)
        if (in_list(n, xnames[i].names)) {
            zx_pimconv_set(c->pr, xnames[i].f, TEXT());
            return 0;
        }
#undef TEXT
    return 0;   /* UID, REV, PRODID, SOURCE, ... and unknown X- properties: not kept */
}

void zx_vcard_contact(apr_pool_t *p, const apr_array_header_t *props, zx_pim_record *r)
{
    cctx c = {0};
    c.p = p;
    c.r = r;
    c.pr = zx_pim_props_new(p, ZX_PIM_CONTACT);
    for (int i = 0; i < props->nelts; i++)
        if (put(&c, &APR_ARRAY_IDX(props, i, vprop)) < 0)
            return;
    static const zx_pim_field ef[] = {ZX_PF_CONTACT_EMAIL1, ZX_PF_CONTACT_EMAIL2,
                                      ZX_PF_CONTACT_EMAIL3};
    static const zx_pim_field imf[] = {ZX_PF_CONTACT_IM_ADDRESS, ZX_PF_CONTACT_IM_ADDRESS2,
                                       ZX_PF_CONTACT_IM_ADDRESS3};
    fill_ranked(&c, c.emails, ef, 3, "EMAIL");
    fill_ranked(&c, c.ims, imf, 3, "IMPP");
    if (c.children)
        zx_pim_set_list(c.pr, ZX_PF_CONTACT_CHILDREN, c.children);
    /* the body: HTML or RTF when given, else the NOTE */
    if (c.rtf) {
        zx_pim_set(c.pr, ZX_PF_CONTACT_BODY, c.rtf);
        zx_pim_set(c.pr, ZX_PF_CONTACT_BODY_TYPE, "3");
    }
    else if (c.html && *c.html) {
        zx_pim_set(c.pr, ZX_PF_CONTACT_BODY, c.html);
        zx_pim_set(c.pr, ZX_PF_CONTACT_BODY_TYPE, "2");
    }
    else if (c.note && *c.note) {
        zx_pim_set(c.pr, ZX_PF_CONTACT_BODY, c.note);
        zx_pim_set(c.pr, ZX_PF_CONTACT_BODY_TYPE, "1");
    }
    /* FileAs: an X- property, else FN unless it is only the name the writer makes up */
    if (c.file_as)
        zx_pimconv_set(c.pr, ZX_PF_CONTACT_FILE_AS, c.file_as);
    else if (c.fn && *c.fn && strcmp(c.fn, zx_vcard_display_name(p, c.pr)) != 0)
        zx_pim_set(c.pr, ZX_PF_CONTACT_FILE_AS, c.fn);
    int any = 0;
    for (int f = zx_pim_classes[ZX_PIM_CONTACT].first; f < (int)zx_pim_classes[ZX_PIM_CONTACT].last;
         f++)
        any |= c.pr->set[f];
    if (!any) {
        r->error = "no contact field in this vCard";
        return;
    }
    r->props = c.pr;
}
