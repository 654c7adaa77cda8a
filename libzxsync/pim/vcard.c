/* zxmobile - vCard 2.1, 3.0 and 4.0 (RFC 2426, RFC 6350) into contacts (zxsync/pimconv.h).
 *
 * Lines are unfolded (CRLF or LF followed by a space or tab), quoted-printable soft breaks of
 * vCard 2.1 joined; groups ("item1.TEL") are dropped; parameters are read with their quoted
 * and comma-separated values (RFC 6868 ^-escapes too) and vCard 2.1's bare ones (TEL;WORK) as
 * TYPE.  Values are decoded (quoted-printable, base64, a 2.1 CHARSET through apr_xlate) and
 * must be UTF-8.  Each BEGIN:VCARD..END:VCARD is one record; the first problem that makes it
 * unreadable is its error, what of it cannot be kept (a fourth e-mail address, a picture given
 * by URL) a warning.  The mapping of each property is the table in README (Contacts, tasks
 * and notes); the writer (vcard_write.c) writes each field so that this reader gives it back. */
#include "pim_int.h"
#include "vcard_int.h"

#include <apr_xlate.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zxsync/text.h>

/* ---- lines ---------------------------------------------------------------------------------- */

typedef struct {
    const char *data;
    apr_size_t len, pos;
    long lineno;
} reader;

/* the next physical line (without its CR LF); 0 at the end */
static int phys(reader *rd, const char **s, apr_size_t *n)
{
    if (rd->pos >= rd->len)
        return 0;
    const char *b = rd->data + rd->pos;
    const char *nl = memchr(b, '\n', rd->len - rd->pos);
    apr_size_t k = nl ? (apr_size_t)(nl - b) : rd->len - rd->pos;
    rd->pos += nl ? k + 1 : k;
    if (k && b[k - 1] == '\r')
        k--;
    rd->lineno++;
    *s = b;
    *n = k;
    return 1;
}

typedef struct {
    char *s;
    apr_size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, apr_size_t n)
{
    if (b->n + n + 1 > b->cap) {
        apr_size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns)
            abort();
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

/* A vCard 2.1 quoted-printable value that continues on the next line (soft break "="). */
static int qp_soft(const sbuf *b)
{
    if (!b->n || b->s[b->n - 1] != '=')
        return 0;
    const char *colon = memchr(b->s, ':', b->n);
    if (!colon)
        return 0;
    apr_size_t hn = (apr_size_t)(colon - b->s);
    for (apr_size_t i = 0; i + 16 <= hn; i++)
        if (strncasecmp(b->s + i, "QUOTED-PRINTABLE", 16) == 0)
            return 1;
    return 0;
}

/* The next logical line, unfolded; NULL at the end.  *line: where it starts. */
static char *next_logical(apr_pool_t *p, reader *rd, long *line)
{
    const char *s;
    apr_size_t n;
    if (!phys(rd, &s, &n))
        return NULL;
    *line = rd->lineno;
    sbuf b = {0};
    sb_add(&b, s, n);
    for (;;) {
        if (rd->pos < rd->len && qp_soft(&b)) {
            b.n--;
            phys(rd, &s, &n);
            sb_add(&b, s, n);
            continue;
        }
        if (rd->pos < rd->len && (rd->data[rd->pos] == ' ' || rd->data[rd->pos] == '\t')) {
            phys(rd, &s, &n);
            sb_add(&b, s + 1, n - 1);
            continue;
        }
        break;
    }
    char *out = apr_pstrmemdup(p, b.s, b.n);
    free(b.s);
    return out;
}

/* ---- properties ----------------------------------------------------------------------------- */

/* RFC 6868: ^n newline, ^^ caret, ^' double quote */
static char *param_unescape(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *o = apr_palloc(p, n + 1), *w = o;
    for (apr_size_t i = 0; i < n; i++) {
        if (s[i] == '^' && i + 1 < n && (s[i + 1] == 'n' || s[i + 1] == 'N')) {
            *w++ = '\n';
            i++;
        }
        else if (s[i] == '^' && i + 1 < n && s[i + 1] == '^') {
            *w++ = '^';
            i++;
        }
        else if (s[i] == '^' && i + 1 < n && s[i + 1] == '\'') {
            *w++ = '"';
            i++;
        }
        else {
            *w++ = s[i];
        }
    }
    *w = '\0';
    return o;
}

static void add_param(apr_pool_t *p, vprop *v, const char *name, const char *value)
{
    for (int i = 0; i < v->params->nelts; i++) {
        vparam *q = &APR_ARRAY_IDX(v->params, i, vparam);
        if (strcasecmp(q->name, name) == 0) {
            APR_ARRAY_PUSH(q->values, const char *) = value;
            return;
        }
    }
    vparam *q = apr_array_push(v->params);
    q->name = apr_pstrdup(p, name);
    for (char *c = (char *)q->name; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    q->values = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(q->values, const char *) = value;
}

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/* Parse one content line; -1 with *why when it is not one. */
int zx_vcard_parse_line(apr_pool_t *p, const char *l, long line, vprop *out, const char **why)
{
    const char *s = l;
    while (is_name_char(*s))
        s++;
    if (s == l || (*s != ';' && *s != ':')) {
        *why = "not a property line (a name, its parameters, ':' and the value)";
        return -1;
    }
    const char *name = apr_pstrmemdup(p, l, (apr_size_t)(s - l));
    const char *dot = strrchr(name, '.');
    if (dot)
        name = dot + 1;
    if (!*name) {
        *why = "empty property name";
        return -1;
    }
    char *up = apr_pstrdup(p, name);
    for (char *c = up; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    out->name = up;
    out->line = line;
    out->params = apr_array_make(p, 2, sizeof(vparam));
    while (*s == ';') {
        s++;
        const char *pn = s;
        while (*s && *s != '=' && *s != ';' && *s != ':')
            s++;
        const char *pname = apr_pstrmemdup(p, pn, (apr_size_t)(s - pn));
        while (*pname == ' ')
            pname++;
        if (*s != '=') {
            /* vCard 2.1: a bare value (TEL;WORK;FAX, PHOTO;BASE64) */
            if (!*pname)
                continue;
            if (strcasecmp(pname, "BASE64") == 0 || strcasecmp(pname, "QUOTED-PRINTABLE") == 0 ||
                strcasecmp(pname, "8BIT") == 0 || strcasecmp(pname, "7BIT") == 0)
                add_param(p, out, "ENCODING", pname);
            else
                add_param(p, out, "TYPE", pname);
            continue;
        }
        s++;
        for (;;) {
            const char *vs;
            apr_size_t vn;
            if (*s == '"') {
                vs = ++s;
                while (*s && *s != '"')
                    s++;
                if (!*s) {
                    *why = "a quoted parameter value without its closing quote";
                    return -1;
                }
                vn = (apr_size_t)(s - vs);
                s++;
            }
            else {
                vs = s;
                while (*s && *s != ',' && *s != ';' && *s != ':')
                    s++;
                vn = (apr_size_t)(s - vs);
            }
            add_param(p, out, pname, param_unescape(p, vs, vn));
            if (*s != ',')
                break;
            s++;
        }
    }
    if (*s != ':') {
        *why = "no ':' after the property name and parameters";
        return -1;
    }
    out->value = s + 1;
    return 0;
}

const vparam *zx_vcard_param(const vprop *v, const char *name)
{
    for (int i = 0; i < v->params->nelts; i++) {
        const vparam *q = &APR_ARRAY_IDX(v->params, i, vparam);
        if (strcasecmp(q->name, name) == 0)
            return q;
    }
    return NULL;
}

/* The first value of a parameter, NULL when absent. */
const char *zx_vcard_param1(const vprop *v, const char *name)
{
    const vparam *q = zx_vcard_param(v, name);
    return q && q->values->nelts ? APR_ARRAY_IDX(q->values, 0, const char *) : NULL;
}

/* Whether a TYPE value (case-insensitive; values may be comma lists) is there. */
int zx_vcard_has_type(const vprop *v, const char *type)
{
    const vparam *q = zx_vcard_param(v, "TYPE");
    if (!q)
        return 0;
    apr_size_t tn = strlen(type);
    for (int i = 0; i < q->values->nelts; i++) {
        const char *s = APR_ARRAY_IDX(q->values, i, const char *);
        while (*s) {
            while (*s == ' ' || *s == ',')
                s++;
            const char *e = s;
            while (*e && *e != ',')
                e++;
            const char *te = e;
            while (te > s && te[-1] == ' ')
                te--;
            if ((apr_size_t)(te - s) == tn && strncasecmp(s, type, tn) == 0)
                return 1;
            s = e;
        }
    }
    return 0;
}

/* ---- values --------------------------------------------------------------------------------- */

/* Unescape a text value: \n \N newline, \\ \, \; \: themselves; another \x stays. */
char *zx_vcard_unescape(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *o = apr_palloc(p, n + 1), *w = o;
    for (apr_size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[i + 1];
            if (c == 'n' || c == 'N') {
                *w++ = '\n';
                i++;
                continue;
            }
            if (c == '\\' || c == ',' || c == ';' || c == ':') {
                *w++ = c;
                i++;
                continue;
            }
        }
        *w++ = s[i];
    }
    *w = '\0';
    return o;
}

/* Split on sep where it is not escaped; the parts are unescaped. */
apr_array_header_t *zx_vcard_split(apr_pool_t *p, const char *s, char sep)
{
    apr_array_header_t *a = apr_array_make(p, 7, sizeof(const char *));
    const char *b = s;
    for (const char *c = s;; c++) {
        if (*c == '\\' && c[1]) {
            c++;
            continue;
        }
        if (*c == sep || !*c) {
            APR_ARRAY_PUSH(a, const char *) = zx_vcard_unescape(p, b, (apr_size_t)(c - b));
            if (!*c)
                break;
            b = c + 1;
        }
    }
    return a;
}

static char *qp_decode(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s);
    char *o = apr_palloc(p, n + 1), *w = o;
    for (apr_size_t i = 0; i < n; i++) {
        if (s[i] == '=' && i + 2 <= n && zx_hexval(s[i + 1]) >= 0 &&
            zx_hexval(s[i + 2]) >= 0) {
            *w++ = (char)(zx_hexval(s[i + 1]) * 16 + zx_hexval(s[i + 2]));
            i += 2;
        }
        else {
            *w++ = s[i];
        }
    }
    *w = '\0';
    return o;
}

/* The value as UTF-8 text, still escaped (QP and charset decoded); NULL with *why. */
const char *zx_vcard_value(apr_pool_t *p, const vprop *v, const char **why)
{
    const char *val = v->value;
    const char *enc = zx_vcard_param1(v, "ENCODING");
    if (enc && strcasecmp(enc, "QUOTED-PRINTABLE") == 0)
        val = qp_decode(p, val);
    const char *cs = zx_vcard_param1(v, "CHARSET");
    if (cs && strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "UTF8") != 0 &&
        strcasecmp(cs, "US-ASCII") != 0) {
        apr_xlate_t *x;
        if (apr_xlate_open(&x, "UTF-8", cs, p) != APR_SUCCESS) {
            *why = apr_psprintf(p, "%s: unknown CHARSET %s", v->name, cs);
            return NULL;
        }
        apr_size_t in = strlen(val), cap = in * 4 + 8, left = cap;
        char *out = apr_palloc(p, cap + 1);
        apr_size_t inleft = in;
        if (apr_xlate_conv_buffer(x, val, &inleft, out, &left) != APR_SUCCESS || inleft) {
            *why = apr_psprintf(p, "%s: not text in CHARSET %s", v->name, cs);
            return NULL;
        }
        out[cap - left] = '\0';
        val = out;
    }
    if (!zx_utf8_text(val, strlen(val))) {
        *why = apr_psprintf(p, "%s: not UTF-8 text (give CHARSET= for another encoding)",
                            v->name);
        return NULL;
    }
    return val;
}

/* ---- records -------------------------------------------------------------------------------- */

static int is_begin(const char *l)
{
    return strncasecmp(l, "BEGIN:VCARD", 11) == 0 && !l[11 + strspn(l + 11, " \t")];
}

static int is_end(const char *l)
{
    return strncasecmp(l, "END:VCARD", 9) == 0 && !l[9 + strspn(l + 9, " \t")];
}

static int blank(const char *l)
{
    return !l[strspn(l, " \t")];
}

int zx_vcard_read(apr_pool_t *p, const char *data, apr_size_t len, apr_array_header_t **records,
                  const char **err)
{
    reader rd = {data, len, 0, 0};
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        rd.pos = 3;
    *records = apr_array_make(p, 16, sizeof(zx_pim_record));
    zx_pim_record *cur = NULL;      /* the open record */
    apr_array_header_t *props = NULL;
    int depth = 0, cards = 0;
    int stray = 0;                  /* in a run of lines outside any card */
    const char *prev_name = NULL;
    char *l;
    long line;
    while ((l = next_logical(p, &rd, &line))) {
        if (!cur) {
            if (is_begin(l)) {
                cards++;
                stray = 0;
                cur = apr_array_push(*records);
                memset(cur, 0, sizeof *cur);
                cur->number = (*records)->nelts;
                cur->line = line;
                props = apr_array_make(p, 32, sizeof(vprop));
                depth = 0;
                prev_name = NULL;
            }
            else if (!blank(l) && !stray) {
                stray = 1;
                zx_pim_record *r = apr_array_push(*records);
                memset(r, 0, sizeof *r);
                r->number = (*records)->nelts;
                r->line = line;
                r->error = is_end(l) ? "END:VCARD without BEGIN:VCARD"
                                     : "text outside BEGIN:VCARD ... END:VCARD";
            }
            continue;
        }
        if (is_begin(l)) {
            /* vCard 2.1 AGENT: a card inside the card, skipped */
            if (prev_name && strcmp(prev_name, "AGENT") == 0) {
                depth++;
                continue;
            }
            if (depth == 0) {
                if (!cur->error)
                    cur->error = apr_psprintf(p, "no END:VCARD before the next BEGIN:VCARD "
                                              "(line %ld)", line);
                cards++;
                cur = apr_array_push(*records);
                memset(cur, 0, sizeof *cur);
                cur->number = (*records)->nelts;
                cur->line = line;
                props = apr_array_make(p, 32, sizeof(vprop));
                prev_name = NULL;
                continue;
            }
        }
        if (is_end(l)) {
            if (depth > 0) {
                depth--;
                continue;
            }
            if (!cur->error)
                zx_vcard_contact(p, props, cur);
            cur = NULL;
            continue;
        }
        if (depth > 0 || cur->error || blank(l))
            continue;
        vprop *v = apr_array_push(props);
        const char *why;
        if (zx_vcard_parse_line(p, l, line, v, &why) < 0) {
            cur->error = apr_psprintf(p, "line %ld: %s", line, why);
            continue;
        }
        prev_name = v->name;
    }
    if (cur && !cur->error)
        cur->error = "no END:VCARD at the end of the file";
    if (!cards) {
        *err = "no vCard in the file (no BEGIN:VCARD line)";
        return -1;
    }
    return 0;
}

const zx_pim_field zx_vcard_adr_work[5] = {
    ZX_PF_CONTACT_BUSINESS_STREET, ZX_PF_CONTACT_BUSINESS_CITY, ZX_PF_CONTACT_BUSINESS_STATE,
    ZX_PF_CONTACT_BUSINESS_POSTAL_CODE, ZX_PF_CONTACT_BUSINESS_COUNTRY};
const zx_pim_field zx_vcard_adr_home[5] = {
    ZX_PF_CONTACT_HOME_STREET, ZX_PF_CONTACT_HOME_CITY, ZX_PF_CONTACT_HOME_STATE,
    ZX_PF_CONTACT_HOME_POSTAL_CODE, ZX_PF_CONTACT_HOME_COUNTRY};
const zx_pim_field zx_vcard_adr_other[5] = {
    ZX_PF_CONTACT_OTHER_STREET, ZX_PF_CONTACT_OTHER_CITY, ZX_PF_CONTACT_OTHER_STATE,
    ZX_PF_CONTACT_OTHER_POSTAL_CODE, ZX_PF_CONTACT_OTHER_COUNTRY};
