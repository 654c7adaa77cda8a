/* zxmobile - the properties of contacts, tasks and notes (zxsync/pim.h): the field table
 * built from pim_fields.def and the values of one item. */
#include <zxsync/pim.h>

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

const zx_pim_field_def zx_pim_fields[ZX_PF_COUNT] = {
#define ZX_PIM_FIELD(cls, name, col, type, tag, item_tag, since, until, flags) \
    {ZX_PIM_##cls, #name, col, ZX_PT_##type, tag, item_tag, since, until, flags},
#include <zxsync/pim_fields.def>
#undef ZX_PIM_FIELD
};

const zx_pim_class_def zx_pim_classes[ZX_PIM_NCLASSES] = {
    {"Contacts", "contacts", ZX_PF_CONTACT_ANNIVERSARY, ZX_PF_TASK_SUBJECT, ZX_PF_CONTACT_BODY,
     ZX_PF_CONTACT_BODY_TYPE},
    {"Tasks", "tasks", ZX_PF_TASK_SUBJECT, ZX_PF_NOTE_SUBJECT, ZX_PF_TASK_BODY,
     ZX_PF_TASK_BODY_TYPE},
    {"Notes", "notes", ZX_PF_NOTE_SUBJECT, ZX_PF_CALENDAR_TZID, ZX_PF_NOTE_BODY,
     ZX_PF_NOTE_BODY_TYPE},
    {"Calendar", "calendar", ZX_PF_CALENDAR_TZID, ZX_PF_EXCEPTION_EXCEPTION_START,
     ZX_PF_CALENDAR_BODY, ZX_PF_CALENDAR_BODY_TYPE},
    {NULL, "calendar_exceptions", ZX_PF_EXCEPTION_EXCEPTION_START, ZX_PF_COUNT,
     ZX_PF_EXCEPTION_BODY, ZX_PF_EXCEPTION_BODY_TYPE},
};

int zx_pim_class_of(const char *item_class)
{
    if (!item_class)
        return -1;
    for (int c = 0; c < ZX_PIM_NCLASSES; c++)
        if (zx_pim_classes[c].item_class && strcmp(zx_pim_classes[c].item_class, item_class) == 0)
            return c;
    return -1;
}

zx_pim_props *zx_pim_props_new(apr_pool_t *p, zx_pim_class cls)
{
    zx_pim_props *pr = apr_pcalloc(p, sizeof *pr);
    pr->cls = cls;
    return pr;
}

void zx_pim_set(zx_pim_props *pr, zx_pim_field f, const char *text)
{
    pr->v[f].text = text;
    pr->v[f].list = NULL;
    pr->set[f] = 1;
}

void zx_pim_set_list(zx_pim_props *pr, zx_pim_field f, apr_array_header_t *list)
{
    pr->v[f].text = NULL;
    pr->v[f].list = list;
    pr->set[f] = 1;
}

const char *zx_pim_get(const zx_pim_props *pr, zx_pim_field f)
{
    return pr->v[f].text;
}

int zx_pim_field_by_column(zx_pim_class cls, const char *column)
{
    const zx_pim_class_def *c = &zx_pim_classes[cls];
    for (int f = c->first; f < (int)c->last; f++)
        if (strcmp(zx_pim_fields[f].column, column) == 0)
            return f;
    return -1;
}

/* ---- recurrences ------------------------------------------------------------------------ */

#define REC(C) {ZX_PF_##C##_REC_TYPE, ZX_PF_##C##_REC_INTERVAL, ZX_PF_##C##_REC_OCCURRENCES,    \
                ZX_PF_##C##_REC_UNTIL, ZX_PF_##C##_REC_DAY_OF_WEEK, ZX_PF_##C##_REC_WEEK_OF_MONTH, \
                ZX_PF_##C##_REC_DAY_OF_MONTH, ZX_PF_##C##_REC_MONTH_OF_YEAR,                   \
                ZX_PF_##C##_REC_FIRST_DAY_OF_WEEK, ZX_PF_##C##_REC_CALENDAR_TYPE,              \
                ZX_PF_##C##_REC_IS_LEAP_MONTH}

static const zx_pim_rec_fields task_rec = REC(TASK), calendar_rec = REC(CALENDAR);

const zx_pim_rec_fields *zx_pim_rec_of(zx_pim_class cls)
{
    return cls == ZX_PIM_TASK ? &task_rec : cls == ZX_PIM_CALENDAR ? &calendar_rec : NULL;
}

/* ---- calendar attendees ---------------------------------------------------------------- */

#define US '\x1f'

/* a part without the separator and control characters (a name cannot break the encoding) */
static const char *clean(apr_pool_t *p, const char *s)
{
    if (!s)
        return "";
    char *c = apr_pstrdup(p, s), *w = c;
    for (const char *r = c; *r; r++)
        if ((unsigned char)*r >= 0x20)
            *w++ = *r;
    *w = '\0';
    return c;
}

const char *zx_pim_attendee_encode(apr_pool_t *p, const zx_pim_attendee *a)
{
    char st[12] = "", ty[12] = "";
    if (a->status >= 0)
        apr_snprintf(st, sizeof st, "%d", a->status);
    if (a->type >= 0)
        apr_snprintf(ty, sizeof ty, "%d", a->type);
    return apr_psprintf(p, "%s%c%s%c%s%c%s", clean(p, a->email), US, clean(p, a->name), US, st,
                        US, ty);
}

void zx_pim_attendee_decode(apr_pool_t *p, const char *enc, zx_pim_attendee *a)
{
    const char *part[4] = {"", "", "", ""};
    char *s = apr_pstrdup(p, enc ? enc : "");
    for (int i = 0; i < 4 && s; i++) {
        char *sep = strchr(s, US);
        if (sep)
            *sep = '\0';
        part[i] = s;
        s = sep ? sep + 1 : NULL;
    }
    a->email = part[0];
    a->name = part[1];
    a->status = *part[2] ? atoi(part[2]) : -1;
    a->type = *part[3] ? atoi(part[3]) : -1;
}

zx_pim_props *zx_pim_exception_at(const zx_pim_props *pr, const char *start)
{
    for (int i = 0; pr->exceptions && start && i < pr->exceptions->nelts; i++) {
        zx_pim_props *e = APR_ARRAY_IDX(pr->exceptions, i, zx_pim_props *);
        const char *s = e->v[ZX_PF_EXCEPTION_EXCEPTION_START].text;
        if (s && strcmp(s, start) == 0)
            return e;
    }
    return NULL;
}
