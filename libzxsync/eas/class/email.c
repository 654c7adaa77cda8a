/* zxmobile - the Email class (eas/class/email.h).
 *
 * [MS-ASEMAIL] gives the elements and the versions that have them: Flag, airsyncbase:Body and
 * airsyncbase:Attachments from 12.0; Categories and the Email2 elements (ConversationId,
 * ConversationIndex, LastVerbExecuted) from 14.0; airsyncbase:Preview from 14.0 and
 * airsyncbase:BodyPart from 14.1 ([MS-ASAIRS]).  Bodies follow [MS-ASAIRS] BodyPreference:
 * the preference that matches the item's native body type first, then the others in request
 * order; AllOrNone refuses a type whose data would be cut, and when every type is refused the
 * body is sent without data (Truncated).  TruncationSize counts bytes; texts are cut on a
 * UTF-8 character boundary.  Below 12.0 the body is the 2.5 form (email:Body or MIMEData,
 * email25.c) and the attachments are email:Attachment.
 */
#include "email.h"
#include "email25.h"

#include <zxsync/buf.h>
#include <zxsync/meeting.h>
#include <zxsync/mime.h>
#include <zxsync/pimtz.h>
#include <zxsync/text.h>

#include <apr_strings.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- options ------------------------------------------------------------------------------- */

static int parse_pref(apr_pool_t *p, const zx_wb_node *n, zx_body_pref *pref)
{
    long long v;
    pref->truncation = -1;
    pref->all_or_none = 0;
    pref->preview = 0;
    if (zx_eas_parse_uint(zx_wb_child_text(p, n, ZX_AirSyncBase_Type), 4, &v) < 0 || v < 1)
        return -1;
    pref->type = (int)v;
    const zx_wb_node *c = zx_wb_child(n, ZX_AirSyncBase_TruncationSize);
    if (c) {
        if (zx_eas_parse_uint(zx_wb_text(p, c), 4294967295LL, &v) < 0)
            return -1;
        pref->truncation = v;
    }
    if ((c = zx_wb_child(n, ZX_AirSyncBase_AllOrNone))) {
        const char *t = zx_wb_text(p, c);
        if (t && strcmp(t, "1") != 0 && strcmp(t, "0") != 0)
            return -1;
        pref->all_or_none = !t || strcmp(t, "1") == 0;
    }
    if ((c = zx_wb_child(n, ZX_AirSyncBase_Preview))) {
        if (zx_eas_parse_uint(zx_wb_text(p, c), 255, &v) < 0)
            return -1;
        pref->preview = (int)v;
    }
    return 0;
}

/* [MS-ASCMD] 2.2.3.111 MIMETruncation: 0 all, 1 4096, 2 5120, 3 7168, 4 10240, 5 20480,
 * 6 51200, 7 102400 characters, 8 none */
static const long long mime_truncation_sizes[] = {0, 4096, 5120, 7168, 10240, 20480, 51200,
                                                  102400, -1};

/* [MS-ASCMD] 2.2.3.185 Truncation (2.5): 0 all, 1 512, 2 1024, 3 2048, 4 5120, 5 10240,
 * 6 20480, 7 51200, 8 102400 characters, 9 none */
static const long long truncation_sizes[] = {0, 512, 1024, 2048, 5120, 10240, 20480, 51200,
                                             102400, -1};

int zx_email_render_opts_from_wbxml(apr_pool_t *p, const zx_wb_node *options, zx_version v,
                                    zx_class_opts *o)
{
    memset(o, 0, sizeof *o);
    o->version = v;
    o->mime_support = -1;
    o->mime_truncation = -1;
    o->truncation = -1;
    int rc = 0;
    for (const zx_wb_node *c = options ? options->first : NULL; c; c = c->next) {
        if (c->kind != ZX_WB_ELEMENT)
            continue;
        long long n;
        zx_body_pref pref;
        switch (c->tag) {
        case ZX_AirSyncBase_BodyPreference:
        case ZX_AirSyncBase_BodyPartPreference:
            if (parse_pref(p, c, &pref) < 0) {
                rc = -1;
                break;
            }
            if (c->tag == ZX_AirSyncBase_BodyPreference && o->nbody < ZX_CLASS_MAX_PREFS)
                o->body[o->nbody++] = pref;
            else if (c->tag == ZX_AirSyncBase_BodyPartPreference && o->npart < ZX_CLASS_MAX_PREFS)
                o->part[o->npart++] = pref;
            else
                rc = -1;    /* at most one per type */
            break;
        case ZX_AirSync_MIMESupport:
            if (zx_eas_parse_uint(zx_wb_text(p, c), 2, &n) < 0)
                rc = -1;
            else
                o->mime_support = (int)n;
            break;
        case ZX_AirSync_MIMETruncation:
            if (zx_eas_parse_uint(zx_wb_text(p, c), 8, &n) < 0)
                rc = -1;
            else
                o->mime_truncation = mime_truncation_sizes[n];
            break;
        case ZX_AirSync_Truncation:
            /* cuts the 2.5 bodies only (email:Body, ...); 12.x clients still send it next to
             * BodyPreference: ignored there, whatever its value */
            if (v >= ZX_V120)
                break;
            if (zx_eas_parse_uint(zx_wb_text(p, c), 9, &n) < 0)
                rc = -1;
            else
                o->truncation = truncation_sizes[n];
            break;
        case ZX_AirSync_RTFTruncation:
            /* [MS-ASWBXML] r1.0: the RTF body's truncation of 2.5 clients; no RTF is kept */
            break;
        default:
            break;
        }
    }
    return rc;
}

/* a and b are byte counts to load, -1 = all, 0 = nothing */
static long long want_max(long long a, long long b)
{
    if (a < 0 || b < 0)
        return -1;
    return a > b ? a : b;
}

void zx_email_content_want(const zx_class_opts *o, zx_content_want *want)
{
    if (o->version < ZX_V120) {
        zx_email25_content_want(o, want);
        return;
    }
    want->plain = o->nbody == 0 ? -1 : 0;
    want->html = 0;
    want->mime = 0;
    for (int i = 0; i < o->nbody; i++) {
        const zx_body_pref *b = &o->body[i];
        long long t = b->truncation;
        /* the plain text is always at hand: the fallback of every other type */
        want->plain = want_max(want->plain, t);
        if (b->type == 2)
            want->html = want_max(want->html, t);
        else if (b->type == 4)
            want->mime = want_max(want->mime, t >= 0 ? t : o->mime_truncation);
    }
    for (int i = 0; i < o->npart && o->version >= ZX_V141; i++) {
        want->plain = want_max(want->plain, o->part[i].truncation);
        want->html = want_max(want->html, o->part[i].truncation);
    }
}

/* ---- bodies -------------------------------------------------------------------------------- */

typedef struct {
    int type;
    const char *data;           /* NULL: no data element */
    apr_size_t len;
    apr_size_t full;            /* EstimatedDataSize */
    int truncated;
    int binary;                 /* send as opaque */
} body_out;

static int is_smime(const zx_item *it)
{
    return it->message_class && strncasecmp(it->message_class, "IPM.Note.SMIME", 14) == 0;
}

static int type_available(const zx_class_opts *o, const zx_item *it, int type)
{
    switch (type) {
    case 1:
    case 2:
        return 1;
    case 4:
        return o->mime_support != 0 && (o->mime_support != 1 || is_smime(it));
    default:
        return 0;           /* RTF is not kept */
    }
}

static apr_size_t type_size(const zx_item_content *c, int type)
{
    switch (type) {
    case 2:
        return c->text_html ? c->html_size : c->plain_size;
    case 4:
        return c->mime_size;
    default:
        return c->plain_size;
    }
}

/* The data of one type, cut to trunc (-1: whole). */
static void body_data(apr_pool_t *p, const zx_item_content *c, int type, long long trunc,
                      int omit, body_out *b)
{
    memset(b, 0, sizeof *b);
    b->type = type;
    b->full = type_size(c, type);
    const char *d = NULL;
    apr_size_t len = 0;
    if (type == 4) {
        d = c->mime ? c->mime : "";
        len = c->mime ? c->mime_len : 0;
        if (trunc >= 0 && len > (apr_size_t)trunc)
            len = (apr_size_t)trunc;
        b->binary = !zx_utf8_text(d, len);
    }
    else {
        if (type == 2)
            d = c->text_html ? c->text_html
                : zx_mime_text_to_html(p, c->text_plain ? c->text_plain : "", ZX_HTML_DOCUMENT);
        else
            d = c->text_plain ? c->text_plain : "";
        len = strlen(d);
        if (trunc >= 0)
            len = zx_utf8_cut(d, len, (apr_size_t)trunc);
    }
    if (b->full < len)
        b->full = len;
    b->truncated = len < b->full || omit;
    if (!omit) {
        b->data = apr_pstrmemdup(p, d, len);
        b->len = len;
    }
}

static void choose_body(apr_pool_t *p, const zx_class_opts *o, const zx_item *it,
                        const zx_item_content *c, body_out *b, const zx_body_pref **chosen)
{
    static const zx_body_pref plain_whole = {1, -1, 0, 0};
    const zx_body_pref *order[ZX_CLASS_MAX_PREFS + 1];
    int n = 0;
    for (int i = 0; i < o->nbody; i++)
        if (o->body[i].type == it->native_body_type)
            order[n++] = &o->body[i];
    for (int i = 0; i < o->nbody; i++)
        if (o->body[i].type != it->native_body_type)
            order[n++] = &o->body[i];
    const zx_body_pref *refused = NULL;
    for (int i = 0; i < n; i++) {
        const zx_body_pref *pref = order[i];
        if (!type_available(o, it, pref->type))
            continue;
        long long trunc = pref->truncation;
        if (pref->type == 4 && trunc < 0)
            trunc = o->mime_truncation;
        if (pref->all_or_none && trunc >= 0 && type_size(c, pref->type) > (apr_size_t)trunc) {
            if (!refused)
                refused = pref;
            continue;
        }
        body_data(p, c, pref->type, trunc, 0, b);
        *chosen = pref;
        return;
    }
    if (refused) {
        body_data(p, c, refused->type, refused->truncation, 1, b);
        *chosen = refused;
        return;
    }
    /* nothing asked for that can be given (no preference, only RTF, MIME refused): the text */
    const zx_body_pref *pref = &plain_whole;
    long long trunc = n > 0 ? order[0]->truncation : -1;
    body_data(p, c, 1, trunc, 0, b);
    *chosen = n > 0 ? order[0] : pref;
}

static const char *preview_of(apr_pool_t *p, const zx_item_content *c, int chars)
{
    const char *s = c->preview ? c->preview : "";
    const char *e = s;
    for (int i = 0; *e && i < chars; i++) {
        e++;
        while (*e && ((unsigned char)*e & 0xC0) == 0x80)
            e++;
    }
    return apr_pstrmemdup(p, s, (apr_size_t)(e - s));
}

static void put_data(apr_pool_t *p, zx_wb_node *parent, const body_out *b,
                     const zx_class_opts *o, apr_array_header_t **blobs)
{
    if (!b->data)
        return;
    if (o->multipart && blobs) {
        if (!*blobs)
            *blobs = apr_array_make(p, 4, sizeof(zx_class_blob));
        zx_class_blob *bl = apr_array_push(*blobs);
        bl->data = b->data;
        bl->len = b->len;
        zx_wb_add_textf(p, parent, ZX_ItemOperations_Part, "%d", (*blobs)->nelts);
        return;
    }
    if (b->binary)
        zx_wb_add_opaque(p, parent, ZX_AirSyncBase_Data, b->data, b->len);
    else
        zx_wb_add_text(p, parent, ZX_AirSyncBase_Data, b->data);
}

static void render_body(apr_pool_t *p, const zx_class_opts *o, const zx_item *it,
                        const zx_item_content *c, zx_wb_node *parent, apr_array_header_t **blobs)
{
    body_out b;
    const zx_body_pref *pref = NULL;
    choose_body(p, o, it, c, &b, &pref);
    zx_wb_node *body = zx_wb_add(p, parent, ZX_AirSyncBase_Body);
    zx_wb_add_textf(p, body, ZX_AirSyncBase_Type, "%d", b.type);
    zx_wb_add_textf(p, body, ZX_AirSyncBase_EstimatedDataSize, "%" APR_SIZE_T_FMT, b.full);
    zx_wb_add_text(p, body, ZX_AirSyncBase_Truncated, b.truncated ? "1" : "0");
    put_data(p, body, &b, o, blobs);
    if (o->version >= ZX_V140 && pref && pref->preview > 0)
        zx_wb_add_text(p, body, ZX_AirSyncBase_Preview, preview_of(p, c, pref->preview));
}

/* airsyncbase:BodyPart (14.1): the message part as HTML ([MS-ASAIRS] 2.2.2.10). */
static void render_body_part(apr_pool_t *p, const zx_class_opts *o,
                             const zx_item_content *c, zx_wb_node *parent,
                             apr_array_header_t **blobs)
{
    const zx_body_pref *pref = &o->part[0];
    long long trunc = pref->truncation;
    int omit = pref->all_or_none && trunc >= 0 && type_size(c, 2) > (apr_size_t)trunc;
    body_out b;
    body_data(p, c, 2, trunc, omit, &b);
    zx_wb_node *part = zx_wb_add(p, parent, ZX_AirSyncBase_BodyPart);
    zx_wb_add_text(p, part, ZX_AirSyncBase_Status, "1");
    zx_wb_add_text(p, part, ZX_AirSyncBase_Type, "2");
    zx_wb_add_textf(p, part, ZX_AirSyncBase_EstimatedDataSize, "%" APR_SIZE_T_FMT, b.full);
    zx_wb_add_text(p, part, ZX_AirSyncBase_Truncated, b.truncated ? "1" : "0");
    put_data(p, part, &b, o, blobs);
    if (pref->preview > 0)
        zx_wb_add_text(p, part, ZX_AirSyncBase_Preview, preview_of(p, c, pref->preview));
}

/* ---- the envelope --------------------------------------------------------------------------- */

/* "Ann <a@x>, \"B, C\" <b@x>, c@x" -> "Ann; B, C; c@x" (email:DisplayTo) */
static const char *display_names(apr_pool_t *p, const char *list)
{
    zx_buf out;
    zx_buf_init(&out, p, strlen(list) + 1);
    const char *s = list;
    while (*s) {
        /* one address: up to a comma outside quotes and angle brackets */
        const char *start = s;
        int quote = 0, angle = 0;
        while (*s && (quote || angle || *s != ',')) {
            if (*s == '\\' && quote && s[1])
                s++;
            else if (*s == '"')
                quote = !quote;
            else if (*s == '<' && !quote)
                angle = 1;
            else if (*s == '>' && !quote)
                angle = 0;
            s++;
        }
        const char *end = s;
        if (*s == ',')
            s++;
        const char *lt = NULL;
        for (const char *q = start; q < end; q++)
            if (*q == '<')
                lt = q;
        const char *ns = start, *ne = lt ? lt : end;
        while (ns < ne && isspace((unsigned char)*ns))
            ns++;
        while (ne > ns && isspace((unsigned char)ne[-1]))
            ne--;
        if (ne - ns >= 2 && *ns == '"' && ne[-1] == '"') {
            ns++;
            ne--;
        }
        if (ns == ne && lt) {       /* no name: the address */
            ns = lt + 1;
            ne = ns;
            while (ne < end && *ne != '>')
                ne++;
        }
        if (ne > ns) {
            if (out.len)
                zx_buf_puts(&out, "; ");
            for (const char *q = ns; q < ne; q++)
                if (!(*q == '\\' && q + 1 < ne))
                    zx_buf_putc(&out, *q);
        }
    }
    return out.data;
}

static void add_text(apr_pool_t *p, zx_wb_node *parent, unsigned tag, const char *s)
{
    if (s)
        zx_wb_add_text(p, parent, tag, s);
}

static void render_flag(apr_pool_t *p, const zx_item *it, zx_wb_node *parent)
{
    zx_wb_node *f = zx_wb_add(p, parent, ZX_Email_Flag);
    const zx_flag *fl = &it->flag;
    if (fl->status == 0)
        return;     /* no flag: an empty Flag ([MS-ASEMAIL] 2.2.2.34) */
    add_text(p, f, ZX_Tasks_Subject, fl->subject);
    zx_wb_add_textf(p, f, ZX_Email_Status, "%d", fl->status);
    add_text(p, f, ZX_Email_FlagType, fl->flag_type);
    if (fl->date_completed)
        zx_wb_add_text(p, f, ZX_Tasks_DateCompleted, zx_eas_date(p, fl->date_completed));
    if (fl->complete_time)
        zx_wb_add_text(p, f, ZX_Email_CompleteTime, zx_eas_date(p, fl->complete_time));
    if (fl->start)
        zx_wb_add_text(p, f, ZX_Tasks_StartDate, zx_eas_date(p, fl->start));
    if (fl->due)
        zx_wb_add_text(p, f, ZX_Tasks_DueDate, zx_eas_date(p, fl->due));
    if (fl->utc_start)
        zx_wb_add_text(p, f, ZX_Tasks_UtcStartDate, zx_eas_date(p, fl->utc_start));
    if (fl->utc_due)
        zx_wb_add_text(p, f, ZX_Tasks_UtcDueDate, zx_eas_date(p, fl->utc_due));
    if (fl->reminder_set || fl->reminder_time)
        zx_wb_add_text(p, f, ZX_Tasks_ReminderSet, fl->reminder_set ? "1" : "0");
    if (fl->reminder_time)
        zx_wb_add_text(p, f, ZX_Tasks_ReminderTime, zx_eas_date(p, fl->reminder_time));
    if (fl->ordinal_date_set)
        zx_wb_add_text(p, f, ZX_Tasks_OrdinalDate, zx_eas_date(p, fl->ordinal_date));
    add_text(p, f, ZX_Tasks_SubOrdinalDate, fl->sub_ordinal_date);
}

static void render_categories(apr_pool_t *p, const zx_item *it, zx_wb_node *parent)
{
    zx_wb_node *cats = zx_wb_add(p, parent, ZX_Email_Categories);
    for (int i = 0; it->categories && i < it->categories->nelts; i++)
        zx_wb_add_text(p, cats, ZX_Email_Category, APR_ARRAY_IDX(it->categories, i, const char *));
}

static void render_last_verb(apr_pool_t *p, const zx_item *it, zx_wb_node *parent)
{
    if (it->last_verb <= 0)
        return;
    zx_wb_add_textf(p, parent, ZX_Email2_LastVerbExecuted, "%d", it->last_verb);
    if (it->last_verb_time)
        zx_wb_add_text(p, parent, ZX_Email2_LastVerbExecutionTime,
                       zx_eas_date(p, it->last_verb_time));
}

void zx_email_render_flags(apr_pool_t *p, const zx_item *it, zx_version v, zx_wb_node *parent)
{
    zx_wb_add_text(p, parent, ZX_Email_Read, it->read ? "1" : "0");
    if (v >= ZX_V120)
        render_flag(p, it, parent);
    if (v >= ZX_V140) {
        render_categories(p, it, parent);
        render_last_verb(p, it, parent);
    }
}

static void render_attachments(apr_pool_t *p, const zx_item *it, const zx_item_content *c,
                               zx_version v, zx_wb_node *parent)
{
    if (!c->attachments || c->attachments->nelts == 0)
        return;
    int base = v >= ZX_V120;
    zx_wb_node *atts = zx_wb_add(p, parent, base ? ZX_AirSyncBase_Attachments :
                                 ZX_Email_Attachments);
    for (int i = 0; i < c->attachments->nelts; i++) {
        const zx_mime_attachment *a = &APR_ARRAY_IDX(c->attachments, i, zx_mime_attachment);
        const char *ref = apr_psprintf(p, "%s:%d", it->id, a->part);
        const char *name = a->name && *a->name ? a->name : apr_psprintf(p, "attachment-%d",
                                                                         a->part);
        /* [MS-ASAIRS] 2.2.2.31 Method: 1 normal attachment, 5 embedded message */
        int method = a->content_type && strcasecmp(a->content_type, "message/rfc822") == 0 ? 5 : 1;
        zx_wb_node *at = zx_wb_add(p, atts, base ? ZX_AirSyncBase_Attachment : ZX_Email_Attachment);
        if (base) {
            zx_wb_add_text(p, at, ZX_AirSyncBase_DisplayName, name);
            zx_wb_add_text(p, at, ZX_AirSyncBase_FileReference, ref);
            zx_wb_add_textf(p, at, ZX_AirSyncBase_Method, "%d", method);
            zx_wb_add_textf(p, at, ZX_AirSyncBase_EstimatedDataSize, "%" APR_SIZE_T_FMT, a->size);
            if (a->content_id && *a->content_id)
                zx_wb_add_text(p, at, ZX_AirSyncBase_ContentId, a->content_id);
            if (a->content_location && *a->content_location)
                zx_wb_add_text(p, at, ZX_AirSyncBase_ContentLocation, a->content_location);
            if (a->is_inline)
                zx_wb_add_text(p, at, ZX_AirSyncBase_IsInline, "1");
        }
        else {
            /* 2.5, [MS-ASEMAIL] 6 (Email.xsd): the sequence AttName, AttSize, AttMethod,
             * DisplayName */
            zx_wb_add_text(p, at, ZX_Email_AttName, ref);
            zx_wb_add_textf(p, at, ZX_Email_AttSize, "%" APR_SIZE_T_FMT, a->size);
            zx_wb_add_textf(p, at, ZX_Email_AttMethod, "%d", method);
            zx_wb_add_text(p, at, ZX_Email_DisplayName, name);
        }
    }
}

/* [MS-ASEMAIL] 2.2.2.22 / [MS-ASCON] 2.2.2.4: the conversation index header, 5 bytes of the
 * delivery time as a FILETIME (its 40 most significant bits, big-endian). */
static const unsigned char *conversation_index(apr_pool_t *p, apr_time_t received)
{
    unsigned long long ft = (unsigned long long)received * 10ULL + 116444736000000000ULL;
    unsigned char *b = apr_palloc(p, 5);
    for (int i = 0; i < 5; i++)
        b[i] = (unsigned char)(ft >> (56 - 8 * i));
    return b;
}

/* ---- email:MeetingRequest ([MS-ASEMAIL] 2.2.2.48) of a meeting request or cancellation --------
 * From the invitation kept at delivery (zxsync/meeting.h): no reparsing of the message. */

#define MEV(name) ZX_PF_CALENDAR_##name

static void mr_text(apr_pool_t *p, zx_wb_node *mr, unsigned tag, const zx_pim_props *ev,
                    zx_pim_field f)
{
    const char *v = zx_pim_get(ev, f);
    if (v && *v)
        zx_wb_add_text(p, mr, tag, v);
}

static int render_meeting(apr_pool_t *p, zx_store *st, const zx_item *item, zx_version v,
                          zx_wb_node *parent, const char **err)
{
    zx_meeting_info *mi = NULL;
    int rc = zx_meeting_get(st, item->id, &mi, err);
    if (rc < 0)
        return -1;
    if (rc != ZX_STORE_OK || !mi->uid ||
        (strcmp(mi->method, "REQUEST") != 0 && strcmp(mi->method, "CANCEL") != 0))
        return 0;
    const zx_pim_props *ev = mi->ev;
    zx_wb_node *mr = zx_wb_add(p, parent, ZX_Email_MeetingRequest);
    const char *all_day = zx_pim_get(ev, MEV(ALL_DAY));
    zx_wb_add_text(p, mr, ZX_Email_AllDayEvent, all_day && *all_day == '1' ? "1" : "0");
    mr_text(p, mr, ZX_Email_StartTime, ev, MEV(START));
    const char *dtstamp = zx_pim_get(ev, MEV(DTSTAMP));
    zx_wb_add_text(p, mr, ZX_Email_DtStamp,
                   dtstamp ? dtstamp : zx_eas_date(p, item->received));
    mr_text(p, mr, ZX_Email_EndTime, ev, MEV(END));
    /* [MS-ASEMAIL] 2.2.2.39: 0 single, 1 recurring master, 3 exception (one occurrence) */
    int recurring = zx_pim_get(ev, MEV(REC_TYPE)) != NULL;
    zx_wb_add_text(p, mr, ZX_Email_InstanceType,
                   mi->recurrence_id ? "3" : recurring ? "1" : "0");
    const char *loc = zx_pim_get(ev, MEV(LOCATION));
    if (loc && *loc) {
        if (v >= ZX_V160) {
            zx_wb_node *l = zx_wb_add(p, mr, ZX_AirSyncBase_Location);
            zx_wb_add_text(p, l, ZX_AirSyncBase_DisplayName, loc);
        }
        else {
            zx_wb_add_text(p, mr, ZX_Email_Location, loc);
        }
    }
    const char *org = zx_pim_get(ev, MEV(ORGANIZER_EMAIL));
    const char *oname = zx_pim_get(ev, MEV(ORGANIZER_NAME));
    if (org && *org)
        zx_wb_add_text(p, mr, ZX_Email_Organizer,
                       oname && *oname ? apr_psprintf(p, "\"%s\" <%s>", oname, org) : org);
    if (mi->recurrence_id)
        zx_wb_add_text(p, mr, ZX_Email_RecurrenceId, mi->recurrence_id);
    const char *rem = zx_pim_get(ev, MEV(REMINDER));
    if (rem && *rem)   /* seconds here ([MS-ASEMAIL] 2.2.2.63), minutes in the event */
        zx_wb_add_text(p, mr, ZX_Email_Reminder, apr_ltoa(p, atol(rem) * 60));
    zx_wb_add_text(p, mr, ZX_Email_ResponseRequested, mi->rsvp ? "1" : "0");
    if (recurring && !mi->recurrence_id) {
        zx_wb_node *rs = zx_wb_add(p, mr, ZX_Email_Recurrences);
        zx_wb_node *r = zx_wb_add(p, rs, ZX_Email_Recurrence);
        mr_text(p, r, ZX_Email_Type, ev, MEV(REC_TYPE));
        mr_text(p, r, ZX_Email_Interval, ev, MEV(REC_INTERVAL));
        mr_text(p, r, ZX_Email_Until, ev, MEV(REC_UNTIL));
        mr_text(p, r, ZX_Email_Occurrences, ev, MEV(REC_OCCURRENCES));
        mr_text(p, r, ZX_Email_WeekOfMonth, ev, MEV(REC_WEEK_OF_MONTH));
        mr_text(p, r, ZX_Email_DayOfMonth, ev, MEV(REC_DAY_OF_MONTH));
        mr_text(p, r, ZX_Email_DayOfWeek, ev, MEV(REC_DAY_OF_WEEK));
        mr_text(p, r, ZX_Email_MonthOfYear, ev, MEV(REC_MONTH_OF_YEAR));
        if (v >= ZX_V140) {
            const char *ct = zx_pim_get(ev, MEV(REC_CALENDAR_TYPE));
            zx_wb_add_text(p, r, ZX_Email2_CalendarType, ct && *ct ? ct : "0");
            const char *lm = zx_pim_get(ev, MEV(REC_IS_LEAP_MONTH));
            zx_wb_add_text(p, r, ZX_Email2_IsLeapMonth, lm && *lm == '1' ? "1" : "0");
        }
        if (v >= ZX_V141)
            mr_text(p, r, ZX_Email2_FirstDayOfWeek, ev, MEV(REC_FIRST_DAY_OF_WEEK));
    }
    const char *sens = zx_pim_get(ev, MEV(SENSITIVITY));
    zx_wb_add_text(p, mr, ZX_Email_Sensitivity, sens && *sens ? sens : "0");
    /* the status the meeting takes once accepted */
    const char *busy = zx_pim_get(ev, MEV(BUSY_STATUS));
    zx_wb_add_text(p, mr, ZX_Email_BusyStatus,
                   mi->intended_busy >= 0 ? apr_itoa(p, mi->intended_busy)
                   : busy && *busy        ? busy
                                          : "2");
    const char *tzid = zx_pim_get(ev, MEV(TZID));
    int year = 0;
    apr_time_t start;
    if (zx_eas_parse_date(zx_pim_get(ev, MEV(START)), &start) == 0) {
        apr_time_exp_t x;
        apr_time_exp_gmt(&x, start);
        year = x.tm_year + 1900;
    }
    const char *blob = zx_tz_blob(p, tzid ? tzid : "UTC", year ? year : 2026);
    if (!blob)
        blob = zx_tz_blob(p, "UTC", year ? year : 2026);
    if (blob)
        zx_wb_add_text(p, mr, ZX_Email_TimeZone, blob);
    /* [MS-ASEMAIL] 2.2.2.37, 3.1.4.7: GlobalObjId up to 14.1; 16.x has no such tag and gets
     * the meeting's calendar:UID itself (the occurrence is named by RecurrenceId) */
    if (v >= ZX_V160)
        zx_wb_add_text(p, mr, ZX_Calendar_UID, mi->uid);
    else
        zx_wb_add_text(p, mr, ZX_Email_GlobalObjId,
                       zx_meeting_global_obj_id(p, mi->uid, mi->recurrence_id));
    if (v >= ZX_V140) {
        const char *dis = zx_pim_get(ev, MEV(DISALLOW_NEW_TIME_PROPOSAL));
        zx_wb_add_text(p, mr, ZX_Email_DisallowNewTimeProposal, dis && *dis == '1' ? "1" : "0");
    }
    if (v >= ZX_V141)
        zx_wb_add_textf(p, mr, ZX_Email2_MeetingMessageType, "%d", mi->message_type);
    return 0;
}

int zx_email_render(apr_pool_t *p, zx_store *st, const zx_item *item,
                    const zx_class_opts *o, zx_wb_node *parent,
                    apr_array_header_t **blobs, const char **err)
{
    const zx_item_content *c = item->content;
    if (!c) {
        zx_item *copy = apr_pmemdup(p, item, sizeof *item);
        apr_array_header_t *one = apr_array_make(p, 1, sizeof(zx_item *));
        APR_ARRAY_PUSH(one, zx_item *) = copy;
        zx_content_want want;
        zx_email_content_want(o, &want);
        if (zx_store_item_contents(st, one, &want, err) < 0)
            return -1;
        c = copy->content;
        if (!c) {
            static zx_item_content empty;
            c = &empty;
        }
    }
    zx_version v = o->version;
    add_text(p, parent, ZX_Email_To, item->to);
    add_text(p, parent, ZX_Email_Cc, item->cc);
    add_text(p, parent, ZX_Email_From, item->from);
    zx_wb_add_text(p, parent, ZX_Email_Subject, item->subject ? item->subject : "");
    add_text(p, parent, ZX_Email_ReplyTo, item->reply_to);
    zx_wb_add_text(p, parent, ZX_Email_DateReceived, zx_eas_date(p, item->received));
    if (item->to)
        zx_wb_add_text(p, parent, ZX_Email_DisplayTo, display_names(p, item->to));
    add_text(p, parent, ZX_Email_ThreadTopic, item->thread_topic);
    zx_wb_add_textf(p, parent, ZX_Email_Importance, "%d", item->importance);
    zx_wb_add_text(p, parent, ZX_Email_Read, item->read ? "1" : "0");
    render_attachments(p, item, c, v, parent);
    if (v >= ZX_V120) {
        render_body(p, o, item, c, parent, blobs);
    }
    else {
        zx_email25_render_body(p, o, item, c, parent);     /* 2.5: email:Body or MIMEData */
    }
    zx_wb_add_text(p, parent, ZX_Email_MessageClass,
                   item->message_class ? item->message_class : "IPM.Note");
    if (st && item->message_class &&
        strncasecmp(item->message_class, "IPM.Schedule.Meeting.", 21) == 0 &&
        render_meeting(p, st, item, v, parent, err) < 0)
        return -1;
    zx_wb_add_text(p, parent, ZX_Email_InternetCPID, "65001");    /* bodies are UTF-8 */
    if (v >= ZX_V120)
        render_flag(p, item, parent);
    if (v >= ZX_V120)       /* [MS-ASWBXML] 2.1.2.1.3: Email ContentClass is 12.0 and later */
        zx_wb_add_text(p, parent, ZX_Email_ContentClass,
                       item->content_class ? item->content_class : "urn:content-classes:message");
    if (v >= ZX_V120)
        zx_wb_add_textf(p, parent, ZX_AirSyncBase_NativeBodyType, "%d",
                        item->native_body_type >= 1 ? item->native_body_type : 1);
    if (v >= ZX_V140) {
        if (item->conversation_id)
            zx_wb_add_opaque(p, parent, ZX_Email2_ConversationId, item->conversation_id, 16);
        zx_wb_add_opaque(p, parent, ZX_Email2_ConversationIndex,
                         conversation_index(p, item->received), 5);
        render_categories(p, item, parent);
        render_last_verb(p, item, parent);
    }
    if (v >= ZX_V141 && o->npart > 0)
        render_body_part(p, o, c, parent, blobs);
    return 0;
}

/* ---- client changes ------------------------------------------------------------------------- */

static int flag_date(apr_pool_t *p, const zx_wb_node *n, apr_time_t *t, const char **err)
{
    const char *s = zx_wb_text(p, n);
    if (zx_eas_parse_date(s, t) < 0 || *t == 0) {
        *err = apr_psprintf(p, "invalid date \"%s\" in Flag", s ? s : "");
        return -1;
    }
    return 0;
}

static int parse_flag(apr_pool_t *p, const zx_wb_node *n, zx_flag *f, const char **err)
{
    memset(f, 0, sizeof *f);
    int any = 0, status = -1;
    for (const zx_wb_node *c = n->first; c; c = c->next) {
        if (c->kind != ZX_WB_ELEMENT)
            continue;
        any = 1;
        const char *s;
        switch (c->tag) {
        case ZX_Email_Status:
            s = zx_wb_text(p, c);
            if (!s || strlen(s) != 1 || s[0] < '0' || s[0] > '2') {
                *err = "invalid Flag Status";
                return -1;
            }
            status = s[0] - '0';
            break;
        case ZX_Email_FlagType:
            f->flag_type = zx_wb_text(p, c);
            break;
        case ZX_Tasks_Subject:
            f->subject = zx_wb_text(p, c);
            break;
        case ZX_Tasks_SubOrdinalDate:
            f->sub_ordinal_date = zx_wb_text(p, c);
            break;
        case ZX_Tasks_ReminderSet:
            s = zx_wb_text(p, c);
            if (!s || (strcmp(s, "0") != 0 && strcmp(s, "1") != 0)) {
                *err = "invalid Flag ReminderSet";
                return -1;
            }
            f->reminder_set = s[0] == '1';
            break;
        case ZX_Email_CompleteTime:
            if (flag_date(p, c, &f->complete_time, err) < 0)
                return -1;
            break;
        case ZX_Tasks_DateCompleted:
            if (flag_date(p, c, &f->date_completed, err) < 0)
                return -1;
            break;
        case ZX_Tasks_StartDate:
            if (flag_date(p, c, &f->start, err) < 0)
                return -1;
            break;
        case ZX_Tasks_DueDate:
            if (flag_date(p, c, &f->due, err) < 0)
                return -1;
            break;
        case ZX_Tasks_UtcStartDate:
            if (flag_date(p, c, &f->utc_start, err) < 0)
                return -1;
            break;
        case ZX_Tasks_UtcDueDate:
            if (flag_date(p, c, &f->utc_due, err) < 0)
                return -1;
            break;
        case ZX_Tasks_ReminderTime:
            if (flag_date(p, c, &f->reminder_time, err) < 0)
                return -1;
            break;
        case ZX_Tasks_OrdinalDate:
            if (flag_date(p, c, &f->ordinal_date, err) < 0)
                return -1;
            f->ordinal_date_set = 1;
            break;
        default:
            break;
        }
    }
    /* an empty Flag clears it; a Flag without Status is an active one */
    f->status = status >= 0 ? status : any ? 2 : 0;
    return 0;
}

int zx_email_parse_changes(apr_pool_t *p, const zx_wb_node *appdata, zx_version v,
                           zx_item_changes *ch, const char **err)
{
    memset(ch, 0, sizeof *ch);
    ch->read = ch->answered = ch->forwarded = ch->last_verb = -1;
    for (const zx_wb_node *c = appdata ? appdata->first : NULL; c; c = c->next) {
        if (c->kind != ZX_WB_ELEMENT)
            continue;
        if (c->tag == ZX_Email_Read) {
            const char *s = zx_wb_text(p, c);
            if (!s || (strcmp(s, "0") != 0 && strcmp(s, "1") != 0)) {
                *err = "invalid Read value";
                return -1;
            }
            ch->read = s[0] == '1';
        }
        else if (c->tag == ZX_Email_Flag && v >= ZX_V120) {
            zx_flag *f = apr_palloc(p, sizeof *f);
            if (parse_flag(p, c, f, err) < 0)
                return -1;
            ch->flag = f;
        }
        else if (c->tag == ZX_Email_Categories && v >= ZX_V140) {
            apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
            for (const zx_wb_node *k = zx_wb_child(c, ZX_Email_Category); k;
                 k = zx_wb_next(k, ZX_Email_Category)) {
                const char *s = zx_wb_text(p, k);
                if (!s || !*s || strlen(s) > 255) {
                    *err = "invalid Category";
                    return -1;
                }
                if (a->nelts >= 300) {
                    *err = "more than 300 categories";
                    return -1;
                }
                APR_ARRAY_PUSH(a, const char *) = s;
            }
            ch->categories = a;
        }
    }
    return 0;
}

/* ---- the class ------------------------------------------------------------------------------ */

static int email_parse_change(apr_pool_t *p, const zx_wb_node *appdata,
                              const zx_class_opts *o, zx_item_changes *ch, const char **err)
{
    return zx_email_parse_changes(p, appdata, o->version, ch, err);
}

const zx_item_class zx_class_email = {
    "Email",
    zx_email_render_opts_from_wbxml,
    zx_email_content_want,
    zx_email_render,
    zx_email_render_flags,
    email_parse_change,
    NULL,                       /* e-mail is not created by clients (drafts are not kept) */
    1,
    0,
    ZX_V25,
    NULL,
    NULL,                       /* no occurrences */
};
