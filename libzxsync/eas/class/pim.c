/* zxmobile - the Contacts, Tasks and Notes classes ([MS-ASCNTC], [MS-ASTASK], [MS-ASNOTE]):
 * one implementation driven by the field table (zxsync/pim_fields.def), three class tables.
 *
 * An item is rendered whole - for an Add, a Fetch and a server Change alike, since a client
 * replaces the item it holds with what a Change carries - with the fields its protocol version
 * defines; the body as airsyncbase:Body (12.0+, chosen by the body preferences) or the class's
 * own Body element (2.5).
 *
 * A client's Change replaces the fields it carries.  What it leaves out ([MS-ASCMD]
 * 2.2.3.179): a field its version does not define is kept (an older device never erases what
 * a newer one stored); a field that can be ghosted is kept when the device declared a
 * Supported list in its first Sync of the collection and did not name it there; the body is
 * kept unless a Body with data comes; anything else is cleared. */
#include "pim.h"
#include "email.h"

#include <zxsync/mime.h>
#include <zxsync/pimcal.h>
#include <zxsync/pimconv.h>
#include <zxsync/pimtz.h>
#include <zxsync/text.h>

#include <apr_strings.h>
#include <apr_uuid.h>
#include <stdlib.h>
#include <string.h>

#define PICTURE_MAX (48 * 1024)     /* [MS-ASCNTC] 2.2.2.58: base64 bytes, more is status 6 */
#define LIST_MAX 300                /* Category, Child: at most 300 per list */

/* the 2.5 body elements of a class (Notes begin at 14.0; calendar:Body has no size) */
static const struct {
    unsigned body, size, truncated;
} legacy_body[ZX_PIM_NCLASSES] = {
    {ZX_Contacts_Body, ZX_Contacts_BodySize, ZX_Contacts_BodyTruncated},
    {ZX_Tasks_Body, ZX_Tasks_BodySize, ZX_Tasks_BodyTruncated},
    {0, 0, 0},
    {ZX_Calendar_Body, 0, ZX_Calendar_BodyTruncated},
    {ZX_Calendar_Body, 0, ZX_Calendar_BodyTruncated},
};

/* the element holding a class's recurrence */
static unsigned recurrence_tag(zx_pim_class cls)
{
    return cls == ZX_PIM_TASK ? ZX_Tasks_Recurrence : cls == ZX_PIM_CALENDAR ?
           ZX_Calendar_Recurrence : 0;
}

/* zx_pimcal_each: whether an occurrence starts at the instant asked for */
typedef struct {
    apr_time_t at;
    int found;
} occ_hit;

static int occurrence_at(const zx_pimcal_occurrence *o, void *baton)
{
    occ_hit *h = baton;
    if (o->original == h->at)
        h->found = 1;
    return h->found;
}

/* the year of an event's start (for the time zone rules in force), this year when none */
static int start_year(const zx_pim_props *pr, zx_pim_field start)
{
    apr_time_t t;
    apr_time_exp_t x;
    if (!pr->v[start].text || zx_eas_parse_date(pr->v[start].text, &t) < 0)
        t = apr_time_now();
    apr_time_exp_gmt(&x, t);
    return x.tm_year + 1900;
}

static int defined_at(const zx_pim_field_def *d, zx_version v)
{
    return v >= d->since && (d->until == 0 || v <= d->until);
}

/* the field of the class whose element is tag, -1 when none */
static int field_of_tag(zx_pim_class cls, unsigned tag)
{
    const zx_pim_class_def *cd = &zx_pim_classes[cls];
    for (int f = cd->first; f < (int)cd->last; f++)
        if (zx_pim_fields[f].tag == tag)
            return f;
    return -1;
}

/* ---- rendering ------------------------------------------------------------------------------ */

/* airsyncbase:Body by the body preferences: the stored type when asked for, else plain text
 * (from HTML too) or HTML (from plain text); RTF only as RTF */
static void render_body(apr_pool_t *p, const zx_pim_props *pr, const zx_class_opts *o,
                        zx_wb_node *parent)
{
    const zx_pim_class_def *cd = &zx_pim_classes[pr->cls];
    const char *body = pr->v[cd->body].text;
    if (!body)
        return;
    int stored = pr->v[cd->body_type].text ? atoi(pr->v[cd->body_type].text) : 1;
    if (stored < 1 || stored > 3)
        stored = 1;
    if (o->version < ZX_V120) {
        unsigned tag = legacy_body[pr->cls].body;
        if (!tag || stored == ZX_PIM_BODY_RTF)
            return;
        /* Truncation counts characters; BodySize (characters) only when it cut */
        const char *text = stored == ZX_PIM_BODY_HTML ? zx_mime_html_to_text(p, body) : body;
        apr_size_t chars = 0, cut = strlen(text);
        for (apr_size_t i = 0; text[i]; i++)
            if (((unsigned char)text[i] & 0xC0) != 0x80) {
                if (o->truncation >= 0 && chars == (apr_size_t)o->truncation)
                    cut = i < cut ? i : cut;
                chars++;
            }
        int truncated = cut < strlen(text);
        zx_wb_add_text(p, parent, tag, apr_pstrmemdup(p, text, cut));
        if (truncated && legacy_body[pr->cls].size)
            zx_wb_add_textf(p, parent, legacy_body[pr->cls].size, "%" APR_SIZE_T_FMT, chars);
        zx_wb_add_text(p, parent, legacy_body[pr->cls].truncated, truncated ? "1" : "0");
        return;
    }
    int type = 0;
    long long trunc = -1;
    int all_or_none = 0;
    for (int i = 0; i < o->nbody && !type; i++) {
        int t = o->body[i].type;
        if (t == stored || (t == 1 && stored == 2) || (t == 2 && stored == 1)) {
            type = t;
            trunc = o->body[i].truncation;
            all_or_none = o->body[i].all_or_none;
        }
    }
    if (!type)
        type = stored == ZX_PIM_BODY_RTF ? 3 : 1;
    const char *data = body;
    if (type == 1 && stored == 2)
        data = zx_mime_html_to_text(p, body);
    else if (type == 2 && stored == 1)
        data = zx_mime_text_to_html(p, body, ZX_HTML_DOCUMENT);
    apr_size_t full = strlen(data), len = full;
    int truncated = 0;
    if (trunc >= 0 && full > (apr_size_t)trunc) {
        truncated = 1;
        len = all_or_none ? 0 : zx_utf8_cut(data, full, (apr_size_t)trunc);
    }
    zx_wb_node *b = zx_wb_add(p, parent, ZX_AirSyncBase_Body);
    zx_wb_add_textf(p, b, ZX_AirSyncBase_Type, "%d", type);
    zx_wb_add_textf(p, b, ZX_AirSyncBase_EstimatedDataSize, "%" APR_SIZE_T_FMT, full);
    if (truncated)
        zx_wb_add_text(p, b, ZX_AirSyncBase_Truncated, "1");
    if (!truncated || !all_or_none)
        zx_wb_add_text(p, b, ZX_AirSyncBase_Data, apr_pstrmemdup(p, data, len));
}

/* calendar:Attendees: Email and Name always, status and type from 12.0 */
static void render_attendees(apr_pool_t *p, const zx_pim_field_def *d, const zx_pim_value *v,
                             zx_version version, zx_wb_node *parent)
{
    if (!v->list || v->list->nelts == 0)
        return;
    zx_wb_node *l = zx_wb_add(p, parent, d->tag);
    for (int i = 0; i < v->list->nelts; i++) {
        zx_pim_attendee a;
        zx_pim_attendee_decode(p, APR_ARRAY_IDX(v->list, i, const char *), &a);
        zx_wb_node *at = zx_wb_add(p, l, ZX_Calendar_Attendee);
        zx_wb_add_text(p, at, ZX_Calendar_Email, a.email);
        zx_wb_add_text(p, at, ZX_Calendar_Name, *a.name ? a.name : a.email);
        if (version >= ZX_V120 && a.status >= 0)
            zx_wb_add_textf(p, at, ZX_Calendar_AttendeeStatus, "%d", a.status);
        if (version >= ZX_V120 && a.type >= 0)
            zx_wb_add_textf(p, at, ZX_Calendar_AttendeeType, "%d", a.type);
    }
}

static void render_field(apr_pool_t *p, const zx_pim_field_def *d, const zx_pim_value *v,
                         zx_wb_node *parent)
{
    if (d->type == ZX_PT_LIST) {
        if (!v->list || v->list->nelts == 0)
            return;
        zx_wb_node *l = zx_wb_add(p, parent, d->tag);
        for (int i = 0; i < v->list->nelts; i++)
            zx_wb_add_text(p, l, d->item_tag, APR_ARRAY_IDX(v->list, i, const char *));
        return;
    }
    if (!v->text)
        return;
    apr_time_t t;
    if ((d->flags & ZX_PFF_COMPACT) && zx_eas_parse_date(v->text, &t) == 0)
        zx_wb_add_text(p, parent, d->tag, zx_eas_compact_date(p, t));
    else
        zx_wb_add_text(p, parent, d->tag, v->text);
}

/* the LOCATION field of an event or an exception */
static int location_field(zx_pim_class cls)
{
    return cls == ZX_PIM_CALENDAR ? ZX_PF_CALENDAR_LOCATION : ZX_PF_EXCEPTION_LOCATION;
}

/* the 16.x airsyncbase:Location of an event or an exception: DisplayName is the location */
static void render_location16(apr_pool_t *p, const zx_pim_props *pr, zx_wb_node *parent)
{
    const zx_pim_class_def *cd = &zx_pim_classes[pr->cls];
    int loc = location_field(pr->cls);
    zx_wb_node *l = NULL;
    if (pr->v[loc].text) {
        l = zx_wb_add(p, parent, ZX_AirSyncBase_Location);
        zx_wb_add_text(p, l, ZX_AirSyncBase_DisplayName, pr->v[loc].text);
    }
    for (int f = cd->first; f < (int)cd->last; f++)
        if ((zx_pim_fields[f].flags & ZX_PFF_LOC) && pr->v[f].text) {
            if (!l)
                l = zx_wb_add(p, parent, ZX_AirSyncBase_Location);
            zx_wb_add_text(p, l, zx_pim_fields[f].tag, pr->v[f].text);
        }
}

static void render_props(apr_pool_t *p, const zx_pim_props *pr, const zx_class_opts *o,
                         zx_wb_node *parent)
{
    const zx_pim_class_def *cd = &zx_pim_classes[pr->cls];
    const zx_pim_rec_fields *rf = zx_pim_rec_of(pr->cls);
    zx_wb_node *rec = NULL;
    int calendar = pr->cls == ZX_PIM_CALENDAR || pr->cls == ZX_PIM_EXCEPTION;
    for (int f = cd->first; f < (int)cd->last; f++) {
        const zx_pim_field_def *d = &zx_pim_fields[f];
        if (!d->tag || (d->flags & (ZX_PFF_RI | ZX_PFF_CALC | ZX_PFF_LOC)))
            continue;
        if (d->flags & ZX_PFF_BODY) {
            render_body(p, pr, o, parent);
            continue;
        }
        if ((d->flags & ZX_PFF_INSTANCE) && o->version >= ZX_V160 && pr->v[f].text) {
            apr_time_t t;
            if (zx_eas_parse_date(pr->v[f].text, &t) == 0)
                zx_wb_add_text(p, parent, ZX_AirSyncBase_InstanceId, zx_eas_compact_date(p, t));
            continue;
        }
        if (!defined_at(d, o->version))
            continue;
        if (calendar && d->tag == ZX_Calendar_Location && o->version >= ZX_V160) {
            render_location16(p, pr, parent);
            continue;
        }
        if (d->flags & ZX_PFF_TZ) {
            /* the blob of the zone's rules in the year the event starts */
            const char *blob = zx_tz_blob(p, pr->v[f].text ? pr->v[f].text : "UTC",
                                          start_year(pr, ZX_PF_CALENDAR_START));
            if (!blob)
                blob = zx_tz_blob(p, "UTC", 2000);
            zx_wb_add_text(p, parent, d->tag, blob);
            continue;
        }
        if (d->flags & ZX_PFF_ATT) {
            render_attendees(p, d, &pr->v[f], o->version, parent);
            continue;
        }
        if (d->flags & ZX_PFF_REC) {
            /* the recurrence is there when it has a type */
            if (!pr->v[rf->type].text || !pr->v[f].text)
                continue;
            if (!rec)
                rec = zx_wb_add(p, parent, recurrence_tag(pr->cls));
            render_field(p, d, &pr->v[f], rec);
            continue;
        }
        render_field(p, d, &pr->v[f], parent);
    }
    /* [MS-ASTASK] 2.2.2.20, [MS-ASCAL] 2.2.2.22: FirstDayOfWeek is required in a server's
     * weekly recurrence (14.1+); one stored without it (a 12.x device's) weeks from Sunday */
    if (rec && o->version >= ZX_V141 && !pr->v[rf->first_day_of_week].text &&
        strcmp(pr->v[rf->type].text, "1") == 0)
        zx_wb_add_text(p, rec, recurrence_tag(pr->cls) == ZX_Tasks_Recurrence ?
                       ZX_Tasks_FirstDayOfWeek : ZX_Calendar_FirstDayOfWeek, "0");
    if (pr->cls == ZX_PIM_CALENDAR && pr->exceptions && pr->exceptions->nelts) {
        zx_wb_node *ex = zx_wb_add(p, parent, ZX_Calendar_Exceptions);
        for (int i = 0; i < pr->exceptions->nelts; i++)
            render_props(p, APR_ARRAY_IDX(pr->exceptions, i, const zx_pim_props *), o,
                         zx_wb_add(p, ex, ZX_Calendar_Exception));
    }
}

static int pim_render(apr_pool_t *p, zx_store *st, const zx_item *item, const zx_class_opts *o,
                      zx_wb_node *parent, apr_array_header_t **blobs, const char **err)
{
    (void)blobs;
    if (!item->content || !item->content->pim) {
        apr_array_header_t *one = apr_array_make(p, 1, sizeof(zx_item *));
        zx_item *copy = apr_pmemdup(p, item, sizeof *item);
        APR_ARRAY_PUSH(one, zx_item *) = copy;
        zx_content_want want = {0, 0, 0};
        if (zx_store_item_contents(st, one, &want, err) < 0)
            return -1;
        item = copy;
        if (!item->content || !item->content->pim)
            return 0;           /* gone meanwhile: nothing to show */
    }
    render_props(p, item->content->pim, o, parent);
    return 0;
}

static void pim_content_want(const zx_class_opts *o, zx_content_want *want)
{
    (void)o;
    want->plain = want->html = want->mime = 0;     /* the class row comes whole */
}

static int pim_parse_options(apr_pool_t *p, const zx_wb_node *options, zx_version v,
                             zx_class_opts *o)
{
    return zx_email_render_opts_from_wbxml(p, options, v, o);
}

/* ---- parsing a client's item ---------------------------------------------------------------- */

/* "{287,288}" -> is tag in it */
static int in_supported(const char *list, unsigned tag)
{
    for (const char *s = list; s && *s;) {
        while (*s == '{' || *s == ',' || *s == ' ')
            s++;
        if (!*s || *s == '}')
            break;
        char *end;
        unsigned long t = strtoul(s, &end, 10);
        if (end == s)
            break;
        if (t == tag)
            return 1;
        s = end;
    }
    return 0;
}

/* one element's value in its stored form; 0, or -1 and *why */
static int parse_value(apr_pool_t *p, const zx_pim_field_def *d, const zx_wb_node *e,
                       zx_pim_value *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (d->type == ZX_PT_LIST) {
        out->list = apr_array_make(p, 4, sizeof(const char *));
        for (const zx_wb_node *c = zx_wb_child(e, d->item_tag); c;
             c = zx_wb_next(c, d->item_tag)) {
            if (out->list->nelts >= LIST_MAX) {
                *why = apr_psprintf(p, "more than %d values in %s", LIST_MAX, d->name);
                return -1;
            }
            const char *t = zx_wb_text(p, c);
            APR_ARRAY_PUSH(out->list, const char *) = t ? t : "";
        }
        if (out->list->nelts == 0)
            out->list = NULL;
        return 0;
    }
    const char *t = zx_wb_text(p, e);
    if (!t || !*t)
        return 0;               /* empty: no value */
    long long n;
    apr_time_t tm;
    switch (d->type) {
    case ZX_PT_INT:
        if (zx_eas_parse_uint(t, 2147483647LL, &n) < 0) {
            *why = apr_psprintf(p, "%s is not a number", d->name);
            return -1;
        }
        out->text = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)n);
        return 0;
    case ZX_PT_BOOL:
        if (strcmp(t, "0") != 0 && strcmp(t, "1") != 0) {
            *why = apr_psprintf(p, "%s is not 0 or 1", d->name);
            return -1;
        }
        out->text = t;
        return 0;
    case ZX_PT_TIME:
        if (zx_eas_parse_date(t, &tm) < 0) {
            *why = apr_psprintf(p, "%s is not a date", d->name);
            return -1;
        }
        out->text = zx_eas_date(p, tm);
        return 0;
    default:
        if (d->tag == ZX_Contacts_Picture && strlen(t) > PICTURE_MAX) {
            *why = "Picture larger than 48 KB";
            return -1;
        }
        out->text = t;
        return 0;
    }
}

/* airsyncbase:Body of a request: a body only when it carries Data */
static int parse_body(apr_pool_t *p, const zx_pim_class_def *cd, const zx_wb_node *e,
                      zx_pim_props *pr, const char **why)
{
    const zx_wb_node *data = zx_wb_child(e, ZX_AirSyncBase_Data);
    if (!data)
        return 0;
    long long type = 1;
    const char *ts = zx_wb_child_text(p, e, ZX_AirSyncBase_Type);
    if (ts && (zx_eas_parse_uint(ts, 3, &type) < 0 || type < 1)) {
        *why = "Body Type is not 1, 2 or 3";
        return -1;
    }
    const char *t = zx_wb_text(p, data);
    zx_pim_set(pr, cd->body, t && *t ? t : NULL);
    zx_pim_set(pr, cd->body_type, t && *t ? apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)type) : NULL);
    return 0;
}

/* The tasks rules of [MS-ASTASK]: DateCompleted with Complete 1, WeekOfMonth only with the
 * "nth day" types, a recurrence has a type and a start. */
static int check_task(const zx_pim_props *pr, const char **why)
{
    const char *complete = pr->v[ZX_PF_TASK_COMPLETE].text;
    if (pr->set[ZX_PF_TASK_COMPLETE] && complete && strcmp(complete, "1") == 0 &&
        !pr->v[ZX_PF_TASK_DATE_COMPLETED].text) {
        *why = "Complete 1 without DateCompleted";
        return -1;
    }
    const char *type = pr->v[ZX_PF_TASK_REC_TYPE].text;
    if (!pr->set[ZX_PF_TASK_REC_TYPE] || !type)
        return 0;
    int t = atoi(type);
    if (t < 0 || t > 6 || t == 4) {
        *why = "Recurrence Type is not 0, 1, 2, 3, 5 or 6";
        return -1;
    }
    if (pr->v[ZX_PF_TASK_REC_WEEK_OF_MONTH].text && t != 3 && t != 6) {
        *why = "WeekOfMonth in a recurrence of type other than 3 or 6";
        return -1;
    }
    if (!pr->v[ZX_PF_TASK_REC_START].text) {
        *why = "Recurrence without Start";
        return -1;
    }
    return 0;
}

/* calendar:Attendees into the encoded list; an Attendee needs an Email */
static int parse_attendees(apr_pool_t *p, const zx_wb_node *e, zx_pim_value *out,
                           const char **why)
{
    memset(out, 0, sizeof *out);
    for (const zx_wb_node *a = zx_wb_child(e, ZX_Calendar_Attendee); a;
         a = zx_wb_next(a, ZX_Calendar_Attendee)) {
        if (out->list && out->list->nelts >= LIST_MAX) {
            *why = apr_psprintf(p, "more than %d attendees", LIST_MAX);
            return -1;
        }
        zx_pim_attendee at = {zx_wb_child_text(p, a, ZX_Calendar_Email),
                              zx_wb_child_text(p, a, ZX_Calendar_Name), -1, -1};
        if (!at.email || !*at.email) {
            *why = "Attendee without Email";
            return -1;
        }
        long long n;
        const char *t;
        if ((t = zx_wb_child_text(p, a, ZX_Calendar_AttendeeStatus)) && *t) {
            if (zx_eas_parse_uint(t, 5, &n) < 0) {
                *why = "AttendeeStatus is not 0-5";
                return -1;
            }
            at.status = (int)n;
        }
        if ((t = zx_wb_child_text(p, a, ZX_Calendar_AttendeeType)) && *t) {
            if (zx_eas_parse_uint(t, 3, &n) < 0 || n < 1) {
                *why = "AttendeeType is not 1-3";
                return -1;
            }
            at.type = (int)n;
        }
        if (!out->list)
            out->list = apr_array_make(p, 4, sizeof(const char *));
        APR_ARRAY_PUSH(out->list, const char *) = zx_pim_attendee_encode(p, &at);
    }
    return 0;
}

/* the 16.x airsyncbase:Location: DisplayName is the location, the rest its LOC fields */
static int parse_location16(apr_pool_t *p, zx_pim_class cls, const zx_wb_node *e,
                            zx_pim_props *pr, unsigned char *seen, const char **why)
{
    int loc = location_field(cls);
    const char *name = zx_wb_child_text(p, e, ZX_AirSyncBase_DisplayName);
    zx_pim_set(pr, (zx_pim_field)loc, name && *name ? name : NULL);
    seen[loc] = 1;
    for (const zx_wb_node *c = e->first; c; c = c->next) {
        if (c->kind != ZX_WB_ELEMENT || c->tag == ZX_AirSyncBase_DisplayName)
            continue;
        int f = field_of_tag(cls, c->tag);
        if (f < 0 || !(zx_pim_fields[f].flags & ZX_PFF_LOC))
            continue;
        zx_pim_value v;
        if (parse_value(p, &zx_pim_fields[f], c, &v, why) < 0)
            return -1;
        pr->v[f] = v;
        pr->set[f] = seen[f] = 1;
    }
    return 0;
}

static int parse_item(apr_pool_t *p, zx_pim_class cls, const zx_wb_node *appdata,
                      const zx_class_opts *o, int change, zx_pim_props *pr, const char **why);

/* calendar:Exceptions: each Exception names its occurrence by ExceptionStartTime */
static int parse_exceptions(apr_pool_t *p, const zx_wb_node *e, const zx_class_opts *o,
                            zx_pim_props *pr, const char **why)
{
    pr->exceptions = apr_array_make(p, 4, sizeof(zx_pim_props *));
    pr->exceptions_set = 1;
    for (const zx_wb_node *x = zx_wb_child(e, ZX_Calendar_Exception); x;
         x = zx_wb_next(x, ZX_Calendar_Exception)) {
        if (pr->exceptions->nelts >= LIST_MAX * 10) {
            *why = "too many exceptions";
            return -1;
        }
        zx_pim_props *ex = zx_pim_props_new(p, ZX_PIM_EXCEPTION);
        if (parse_item(p, ZX_PIM_EXCEPTION, x, o, 0, ex, why) < 0)
            return -1;
        if (!ex->v[ZX_PF_EXCEPTION_EXCEPTION_START].text) {
            *why = "Exception without ExceptionStartTime";
            return -1;
        }
        /* one exception per occurrence: a later one replaces an earlier one */
        int dup = 0;
        for (int i = 0; i < pr->exceptions->nelts && !dup; i++) {
            zx_pim_props **old = &APR_ARRAY_IDX(pr->exceptions, i, zx_pim_props *);
            if (strcmp((*old)->v[ZX_PF_EXCEPTION_EXCEPTION_START].text,
                       ex->v[ZX_PF_EXCEPTION_EXCEPTION_START].text) == 0) {
                *old = ex;
                dup = 1;
            }
        }
        if (!dup)
            APR_ARRAY_PUSH(pr->exceptions, zx_pim_props *) = ex;
    }
    return 0;
}

/* a new UID for an event a device did not name ([MS-ASCAL] 2.2.2.46: the server makes one at
 * 16.x): a UUID in hex */
static const char *new_uid(apr_pool_t *p)
{
    apr_uuid_t u;
    apr_uuid_get(&u);
    char *s = apr_palloc(p, 33);
    for (int i = 0; i < 16; i++)
        apr_snprintf(s + 2 * i, 3, "%02X", u.data[i]);
    return s;
}

/* An event: its Timezone blob becomes its IANA zone; an Add has a start, and gets a UID, a
 * DtStamp and a zone (UTC) when it brought none; an end before the start, a recurrence type
 * of none of [MS-ASCAL] 2.2.2.44, WeekOfMonth outside the "nth" types: refused. */
static int check_event(apr_pool_t *p, zx_pim_props *pr, int change, const zx_class_opts *o,
                       const char **why)
{
    (void)o;
    if (pr->set[ZX_PF_CALENDAR_TZID] && pr->v[ZX_PF_CALENDAR_TZID].text) {
        const char *zone = zx_tz_zone_of_blob(p, pr->v[ZX_PF_CALENDAR_TZID].text,
                                              start_year(pr, ZX_PF_CALENDAR_START));
        if (!zone) {
            *why = "Timezone is not a time zone";
            return -1;
        }
        zx_pim_set(pr, ZX_PF_CALENDAR_TZID, zone);
    }
    if (!change) {
        if (!pr->v[ZX_PF_CALENDAR_START].text) {
            *why = "an event without StartTime";
            return -1;
        }
        if (!pr->v[ZX_PF_CALENDAR_TZID].text)
            zx_pim_set(pr, ZX_PF_CALENDAR_TZID, "UTC");
        if (!pr->v[ZX_PF_CALENDAR_UID].text)
            zx_pim_set(pr, ZX_PF_CALENDAR_UID, new_uid(p));
        if (!pr->v[ZX_PF_CALENDAR_DTSTAMP].text)
            zx_pim_set(pr, ZX_PF_CALENDAR_DTSTAMP, zx_eas_date(p, apr_time_now()));
        if (!pr->v[ZX_PF_CALENDAR_END].text)
            zx_pim_set(pr, ZX_PF_CALENDAR_END, pr->v[ZX_PF_CALENDAR_START].text);
    }
    apr_time_t s, e;
    if (pr->v[ZX_PF_CALENDAR_START].text && pr->v[ZX_PF_CALENDAR_END].text &&
        zx_eas_parse_date(pr->v[ZX_PF_CALENDAR_START].text, &s) == 0 &&
        zx_eas_parse_date(pr->v[ZX_PF_CALENDAR_END].text, &e) == 0 && e < s) {
        *why = "EndTime before StartTime";
        return -1;
    }
    const char *type = pr->v[ZX_PF_CALENDAR_REC_TYPE].text;
    if (type) {
        int t = atoi(type);
        if (t < 0 || t > 6 || t == 4) {
            *why = "Recurrence Type is not 0, 1, 2, 3, 5 or 6";
            return -1;
        }
        if (pr->v[ZX_PF_CALENDAR_REC_WEEK_OF_MONTH].text && t != 3 && t != 6) {
            *why = "WeekOfMonth in a recurrence of type other than 3 or 6";
            return -1;
        }
    }
    return 0;
}

/* The fields of appdata (an Add: change = 0; a Change: the omitted fields by the rules at
 * the top).  Returns 0, or -1 and *why. */
static int parse_item(apr_pool_t *p, zx_pim_class cls, const zx_wb_node *appdata,
                      const zx_class_opts *o, int change, zx_pim_props *pr, const char **why)
{
    const zx_pim_class_def *cd = &zx_pim_classes[cls];
    unsigned char seen[ZX_PF_COUNT];
    memset(seen, 0, sizeof seen);
    int calendar = cls == ZX_PIM_CALENDAR || cls == ZX_PIM_EXCEPTION, exceptions_seen = 0;
    for (const zx_wb_node *e = appdata ? appdata->first : NULL; e; e = e->next) {
        if (e->kind != ZX_WB_ELEMENT)
            continue;
        if (e->tag == ZX_AirSyncBase_Body) {
            if (parse_body(p, cd, e, pr, why) < 0)
                return -1;
            continue;
        }
        if (legacy_body[cls].body && e->tag == legacy_body[cls].body) {
            const char *t = zx_wb_text(p, e);
            zx_pim_set(pr, cd->body, t && *t ? t : NULL);
            zx_pim_set(pr, cd->body_type, t && *t ? "1" : NULL);
            continue;
        }
        if (recurrence_tag(cls) && e->tag == recurrence_tag(cls)) {
            for (const zx_wb_node *r = e->first; r; r = r->next) {
                if (r->kind != ZX_WB_ELEMENT)
                    continue;
                int f = field_of_tag(cls, r->tag);
                if (f < 0 || !(zx_pim_fields[f].flags & ZX_PFF_REC) ||
                    !defined_at(&zx_pim_fields[f], o->version))
                    continue;
                zx_pim_value v;
                if (parse_value(p, &zx_pim_fields[f], r, &v, why) < 0)
                    return -1;
                pr->v[f] = v;
                pr->set[f] = seen[f] = 1;
            }
            continue;
        }
        if (calendar && e->tag == ZX_AirSyncBase_Location && o->version >= ZX_V160) {
            if (parse_location16(p, cls, e, pr, seen, why) < 0)
                return -1;
            continue;
        }
        if (cls == ZX_PIM_EXCEPTION && e->tag == ZX_AirSyncBase_InstanceId &&
            o->version >= ZX_V160) {
            zx_pim_value v;
            if (parse_value(p, &zx_pim_fields[ZX_PF_EXCEPTION_EXCEPTION_START], e, &v, why) < 0)
                return -1;
            pr->v[ZX_PF_EXCEPTION_EXCEPTION_START] = v;
            pr->set[ZX_PF_EXCEPTION_EXCEPTION_START] = 1;
            continue;
        }
        if (cls == ZX_PIM_CALENDAR && e->tag == ZX_Calendar_Exceptions) {
            if (parse_exceptions(p, e, o, pr, why) < 0)
                return -1;
            exceptions_seen = 1;
            continue;
        }
        int f = field_of_tag(cls, e->tag);
        if (f < 0 || (zx_pim_fields[f].flags & (ZX_PFF_REC | ZX_PFF_RI | ZX_PFF_BODY |
                                                ZX_PFF_LOC | ZX_PFF_CALC)) ||
            !defined_at(&zx_pim_fields[f], o->version) ||
            (calendar && e->tag == ZX_Calendar_Location && o->version >= ZX_V160))
            continue;           /* not the class's at this version (NativeBodyType, Rtf, a
                                   newer version's element): ignored */
        if (zx_pim_fields[f].flags & ZX_PFF_ATT) {
            if (parse_attendees(p, e, &pr->v[f], why) < 0)
                return -1;
            pr->set[f] = seen[f] = 1;
            continue;
        }
        zx_pim_value v;
        if (parse_value(p, &zx_pim_fields[f], e, &v, why) < 0)
            return -1;
        pr->v[f] = v;
        pr->set[f] = seen[f] = 1;
    }
    if (change) {
        for (int f = cd->first; f < (int)cd->last; f++) {
            const zx_pim_field_def *d = &zx_pim_fields[f];
            if (seen[f] || !d->tag || (d->flags & (ZX_PFF_KEEP | ZX_PFF_RI)) ||
                !defined_at(d, o->version))
                continue;
            if ((d->flags & ZX_PFF_GHOST) && o->supported && !in_supported(o->supported, d->tag))
                continue;
            /* (a recurrence is sent whole: its missing parts go, and all of it when none) */
            zx_pim_set(pr, (zx_pim_field)f, NULL);
        }
    }
    if (cls == ZX_PIM_CALENDAR) {
        /* what an event leaves out of its exceptions: kept by a 16.x device (which changes an
         * occurrence by its InstanceId) and when ghosted, else they are gone */
        if (change && !exceptions_seen && o->version < ZX_V160 &&
            !(o->supported && !in_supported(o->supported, ZX_Calendar_Exceptions))) {
            pr->exceptions = NULL;
            pr->exceptions_set = 1;
        }
        if (change && !exceptions_seen && o->version >= ZX_V160)
            pr->retime_drops_exceptions = 1;
        if (check_event(p, pr, change, o, why) < 0)
            return -1;
    }
    if (cls == ZX_PIM_NOTE && !pr->v[ZX_PF_NOTE_LAST_MODIFIED].text)
        zx_pim_set(pr, ZX_PF_NOTE_LAST_MODIFIED, zx_eas_date(p, apr_time_now()));
    if (cls == ZX_PIM_TASK && check_task(pr, why) < 0)
        return -1;
    return 0;
}

static int parse_change(zx_pim_class cls, apr_pool_t *p, const zx_wb_node *appdata,
                        const zx_class_opts *o, zx_item_changes *ch, const char **err)
{
    memset(ch, 0, sizeof *ch);
    ch->read = ch->answered = ch->forwarded = ch->last_verb = -1;
    zx_pim_props *pr = zx_pim_props_new(p, cls);
    if (parse_item(p, cls, appdata, o, 1, pr, err) < 0)
        return -1;
    ch->pim = pr;
    return 0;
}

static int add(zx_pim_class cls, apr_pool_t *p, zx_store *st, const zx_folder *folder,
               const zx_wb_node *appdata, const zx_class_opts *o, const char *device,
               const char **server_id, const char **err)
{
    zx_pim_props *pr = zx_pim_props_new(p, cls);
    const char *why = NULL;
    if (parse_item(p, cls, appdata, o, 0, pr, &why) < 0) {
        *err = why;
        return ZX_CLASS_ADD_REFUSED;
    }
    if (cls == ZX_PIM_CALENDAR)
        zx_pimcal_prepare(p, pr);       /* the end of its last occurrence */
    zx_item *item;
    int rc = zx_store_pim_create(st, folder->id, pr, device, &item, err);
    if (rc < 0)
        return -1;
    if (rc != ZX_STORE_OK) {
        *err = "the folder is gone or of another class";
        return ZX_CLASS_ADD_REFUSED;
    }
    *server_id = item->id;
    return ZX_CLASS_ADD_OK;
}

/* ---- a recurring task marked complete --------------------------------------------------------- */

/* The whole stored item id (its class row, an event's exceptions): 0 and *out (NULL when the
 * item is gone or has no row), or -1 and *err. */
static int load_whole(apr_pool_t *p, zx_store *st, const char *id, zx_item **item,
                      const zx_pim_props **out, const char **err)
{
    *out = NULL;
    int rc = zx_store_item_get(st, id, item, err);
    if (rc != ZX_STORE_OK)
        return rc < 0 ? -1 : 0;
    apr_array_header_t *one = apr_array_make(p, 1, sizeof(zx_item *));
    APR_ARRAY_PUSH(one, zx_item *) = *item;
    zx_content_want want = {0, 0, 0};
    if (zx_store_item_contents(st, one, &want, err) < 0)
        return -1;
    *out = (*item)->content ? (*item)->content->pim : NULL;
    return 0;
}

/* As Exchange does: the completed occurrence becomes a one-off completed task (the server's
 * creation: every device gets it), and the series moves on to its next occurrence, incomplete
 * (the server's change: the device that completed it gets the new dates too).  After the last
 * occurrence the series stays complete, DeadOccur 1. */
static int task_completed(apr_pool_t *p, zx_store *st, const char *id, const char **err)
{
    zx_item *item;
    const zx_pim_props *task;
    if (load_whole(p, st, id, &item, &task, err) < 0)
        return -1;
    const char *complete = task ? task->v[ZX_PF_TASK_COMPLETE].text : NULL;
    const char *dead = task ? task->v[ZX_PF_TASK_REC_DEAD_OCCUR].text : NULL;
    if (!complete || strcmp(complete, "1") != 0 || !task->v[ZX_PF_TASK_REC_TYPE].text ||
        (dead && strcmp(dead, "1") == 0))
        return 0;
    zx_pim_props *series = zx_pim_props_new(p, ZX_PIM_TASK);
    int rc = zx_pim_task_next(p, task, series);
    if (rc < 0)
        return 0;               /* a recurrence we cannot follow: the task stays as sent */
    if (rc == 1) {
        zx_pim_set(series, ZX_PF_TASK_REC_DEAD_OCCUR, "1");
    }
    else {
        zx_pim_props *done = zx_pim_props_new(p, ZX_PIM_TASK);
        const zx_pim_class_def *cd = &zx_pim_classes[ZX_PIM_TASK];
        for (int f = cd->first; f < (int)cd->last; f++)
            if (!(zx_pim_fields[f].flags & ZX_PFF_REC) &&
                (task->v[f].text || task->v[f].list)) {
                done->v[f] = task->v[f];
                done->set[f] = 1;
            }
        zx_item *copy;
        if ((rc = zx_store_pim_create(st, item->folder_id, done, NULL, &copy, err)) < 0)
            return -1;
        zx_pim_set(series, ZX_PF_TASK_COMPLETE, "0");
        zx_pim_set(series, ZX_PF_TASK_DATE_COMPLETED, NULL);
    }
    zx_item_changes ch;
    memset(&ch, 0, sizeof ch);
    ch.read = ch.answered = ch.forwarded = ch.last_verb = -1;
    ch.pim = series;
    return zx_store_item_update(st, id, &ch, NULL, err) < 0 ? -1 : 0;
}

/* ---- one occurrence changed or deleted by a 16.x device -------------------------------------- */

static int calendar_instance(apr_pool_t *p, zx_store *st, const zx_item *item,
                             const char *instance, const zx_wb_node *appdata,
                             const zx_class_opts *o, zx_item_changes *ch, const char **err)
{
    apr_time_t at;
    if (zx_eas_parse_date(instance, &at) < 0) {
        *err = "InstanceId is not a date";
        return -2;
    }
    zx_item *copy;
    const zx_pim_props *ev;
    if (load_whole(p, st, item->id, &copy, &ev, err) < 0)
        return -1;
    if (!ev || ev->cls != ZX_PIM_CALENDAR || !ev->v[ZX_PF_CALENDAR_REC_TYPE].text) {
        *err = "not a recurring series";
        return -2;
    }
    /* an occurrence of the series (by its rule: an exception's own start does not count) */
    occ_hit h = {at, 0};
    zx_pim_props *bare = apr_pmemdup(p, ev, sizeof *ev);
    bare->exceptions = NULL;
    if (zx_pimcal_occurrences(p, bare, at, at + 1, occurrence_at, &h) < 0 || !h.found) {
        *err = "no occurrence of the series starts at InstanceId";
        return -2;
    }
    zx_pim_props *ex = zx_pim_props_new(p, ZX_PIM_EXCEPTION);
    if (appdata && parse_item(p, ZX_PIM_EXCEPTION, appdata, o, 0, ex, err) < 0)
        return -2;
    zx_pim_set(ex, ZX_PF_EXCEPTION_EXCEPTION_START, zx_eas_date(p, at));
    if (!appdata)
        zx_pim_set(ex, ZX_PF_EXCEPTION_DELETED, "1");
    zx_pim_props *pr = zx_pim_props_new(p, ZX_PIM_CALENDAR);
    pr->exceptions = apr_array_make(p, 4, sizeof(zx_pim_props *));
    pr->exceptions_set = 1;
    const char *key = ex->v[ZX_PF_EXCEPTION_EXCEPTION_START].text;
    for (int i = 0; ev->exceptions && i < ev->exceptions->nelts; i++) {
        zx_pim_props *old = APR_ARRAY_IDX(ev->exceptions, i, zx_pim_props *);
        if (strcmp(old->v[ZX_PF_EXCEPTION_EXCEPTION_START].text, key) != 0)
            APR_ARRAY_PUSH(pr->exceptions, zx_pim_props *) = old;
    }
    APR_ARRAY_PUSH(pr->exceptions, zx_pim_props *) = ex;
    memset(ch, 0, sizeof *ch);
    ch->read = ch->answered = ch->forwarded = ch->last_verb = -1;
    ch->pim = pr;
    return 0;
}

/* ---- an event changed by a device ------------------------------------------------------------ */

/* Its occurrences may end elsewhere now: the end of the last one (the item's window key) is
 * computed again from the whole event as stored. */
static int event_changed(apr_pool_t *p, zx_store *st, const char *id, const char **err)
{
    zx_item *item;
    const zx_pim_props *stored;
    if (load_whole(p, st, id, &item, &stored, err) < 0)
        return -1;
    if (!stored)
        return 0;
    zx_pim_props *ev = apr_pmemdup(p, stored, sizeof(zx_pim_props));
    const char *before = ev->v[ZX_PF_CALENDAR_LAST_END].text;
    zx_pimcal_prepare(p, ev);
    const char *after = ev->v[ZX_PF_CALENDAR_LAST_END].text;
    if ((!before && !after) || (before && after && strcmp(before, after) == 0))
        return 0;
    return zx_store_calendar_window(st, id, after, err) < 0 ? -1 : 0;
}

/* ---- the class tables ------------------------------------------------------------------ */

#define PIM_CLASS(lower, CLS, name, since, after, instance)                                             \
    static int lower##_parse_change(apr_pool_t *p, const zx_wb_node *appdata,                 \
                                    const zx_class_opts *o, zx_item_changes *ch,              \
                                    const char **err)                                         \
    {                                                                                          \
        return parse_change(CLS, p, appdata, o, ch, err);                                      \
    }                                                                                          \
    static int lower##_add(apr_pool_t *p, zx_store *st, const zx_folder *folder,              \
                           const zx_wb_node *appdata, const zx_class_opts *o,                 \
                           const char *device, const char **server_id, const char **err)      \
    {                                                                                          \
        return add(CLS, p, st, folder, appdata, o, device, server_id, err);                    \
    }                                                                                          \
    const zx_item_class zx_class_##lower = {                                                   \
        name, pim_parse_options, pim_content_want, pim_render, NULL, lower##_parse_change,    \
        lower##_add, 0, 1, since, after, instance,                                             \
    };

PIM_CLASS(contacts, ZX_PIM_CONTACT, "Contacts", ZX_V25, NULL, NULL)
PIM_CLASS(tasks, ZX_PIM_TASK, "Tasks", ZX_V25, task_completed, NULL)
PIM_CLASS(notes, ZX_PIM_NOTE, "Notes", ZX_V140, NULL, NULL)     /* [MS-ASNOTE] 1.7 */
PIM_CLASS(calendar, ZX_PIM_CALENDAR, "Calendar", ZX_V25, event_changed, calendar_instance)
