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
#include <zxsync/pimconv.h>
#include <zxsync/text.h>

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#define PICTURE_MAX (48 * 1024)     /* [MS-ASCNTC] 2.2.2.58: base64 bytes, more is status 6 */
#define LIST_MAX 300                /* Category, Child: at most 300 per list */

/* the 2.5 body elements of a class (Notes begin at 14.0) */
static const struct {
    unsigned body, size, truncated;
} legacy_body[ZX_PIM_NCLASSES] = {
    {ZX_Contacts_Body, ZX_Contacts_BodySize, ZX_Contacts_BodyTruncated},
    {ZX_Tasks_Body, ZX_Tasks_BodySize, ZX_Tasks_BodyTruncated},
    {0, 0, 0},
};

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
        if (truncated)
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

static void render_props(apr_pool_t *p, const zx_pim_props *pr, const zx_class_opts *o,
                         zx_wb_node *parent)
{
    const zx_pim_class_def *cd = &zx_pim_classes[pr->cls];
    zx_wb_node *rec = NULL;
    for (int f = cd->first; f < (int)cd->last; f++) {
        const zx_pim_field_def *d = &zx_pim_fields[f];
        if (!d->tag || (d->flags & ZX_PFF_RI))
            continue;
        if (d->flags & ZX_PFF_BODY) {
            render_body(p, pr, o, parent);
            continue;
        }
        if (!defined_at(d, o->version))
            continue;
        if (d->flags & ZX_PFF_REC) {
            /* the recurrence is there when it has a type */
            if (!pr->v[ZX_PF_TASK_REC_TYPE].text || !pr->v[f].text)
                continue;
            if (!rec)
                rec = zx_wb_add(p, parent, ZX_Tasks_Recurrence);
            render_field(p, d, &pr->v[f], rec);
            continue;
        }
        render_field(p, d, &pr->v[f], parent);
    }
    /* [MS-ASTASK] 2.2.2.20: FirstDayOfWeek is required in a server's weekly recurrence (14.1+);
     * one stored without it (a 12.x device's) weeks from Sunday */
    if (rec && o->version >= ZX_V141 && !pr->v[ZX_PF_TASK_REC_FIRST_DAY_OF_WEEK].text &&
        strcmp(pr->v[ZX_PF_TASK_REC_TYPE].text, "1") == 0)
        zx_wb_add_text(p, rec, ZX_Tasks_FirstDayOfWeek, "0");
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

/* The fields of appdata (an Add: change = 0; a Change: the omitted fields by the rules at
 * the top).  Returns 0, or -1 and *why. */
static int parse_item(apr_pool_t *p, zx_pim_class cls, const zx_wb_node *appdata,
                      const zx_class_opts *o, int change, zx_pim_props *pr, const char **why)
{
    const zx_pim_class_def *cd = &zx_pim_classes[cls];
    unsigned char seen[ZX_PF_COUNT];
    memset(seen, 0, sizeof seen);
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
        if (cls == ZX_PIM_TASK && e->tag == ZX_Tasks_Recurrence) {
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
        int f = field_of_tag(cls, e->tag);
        if (f < 0 || (zx_pim_fields[f].flags & (ZX_PFF_REC | ZX_PFF_RI | ZX_PFF_BODY)) ||
            !defined_at(&zx_pim_fields[f], o->version))
            continue;           /* not the class's at this version (NativeBodyType, Rtf, a
                                   newer version's element): ignored */
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

/* As Exchange does: the completed occurrence becomes a one-off completed task (the server's
 * creation: every device gets it), and the series moves on to its next occurrence, incomplete
 * (the server's change: the device that completed it gets the new dates too).  After the last
 * occurrence the series stays complete, DeadOccur 1. */
static int task_completed(apr_pool_t *p, zx_store *st, const char *id, const char **err)
{
    zx_item *item;
    int rc = zx_store_item_get(st, id, &item, err);
    if (rc != ZX_STORE_OK)
        return rc < 0 ? -1 : 0;
    apr_array_header_t *one = apr_array_make(p, 1, sizeof(zx_item *));
    APR_ARRAY_PUSH(one, zx_item *) = item;
    zx_content_want want = {0, 0, 0};
    if (zx_store_item_contents(st, one, &want, err) < 0)
        return -1;
    const zx_pim_props *task = item->content ? item->content->pim : NULL;
    const char *complete = task ? task->v[ZX_PF_TASK_COMPLETE].text : NULL;
    const char *dead = task ? task->v[ZX_PF_TASK_REC_DEAD_OCCUR].text : NULL;
    if (!complete || strcmp(complete, "1") != 0 || !task->v[ZX_PF_TASK_REC_TYPE].text ||
        (dead && strcmp(dead, "1") == 0))
        return 0;
    zx_pim_props *series = zx_pim_props_new(p, ZX_PIM_TASK);
    rc = zx_pim_task_next(p, task, series);
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

/* ---- the three class tables ------------------------------------------------------------------ */

#define PIM_CLASS(lower, CLS, name, since, after)                                               \
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
        lower##_add, 0, 1, since, after,                                                       \
    };

PIM_CLASS(contacts, ZX_PIM_CONTACT, "Contacts", ZX_V25, NULL)
PIM_CLASS(tasks, ZX_PIM_TASK, "Tasks", ZX_V25, task_completed)
PIM_CLASS(notes, ZX_PIM_NOTE, "Notes", ZX_V140, NULL)     /* [MS-ASNOTE] 1.7 */
