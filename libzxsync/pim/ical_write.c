/* zxmobile - tasks and notes as iCalendar (zxsync/pimconv.h): one VCALENDAR holding a VTODO
 * or VJOURNAL per item, made with libical; each field written so that ical.c reads it back
 * (the rules are at the top of ical.c). */
#include "ical_int.h"

#include <stdlib.h>
#include <string.h>
#include <zxsync/mime.h>

static apr_status_t free_cal(void *data)
{
    zx_ical_writer *w = data;
    if (w->cal)
        icalcomponent_free(w->cal);
    w->cal = NULL;
    for (int i = 0; i < w->items->nelts; i++)
        icalcomponent_free(APR_ARRAY_IDX(w->items, i, icalcomponent *));
    w->items->nelts = 0;
    return APR_SUCCESS;
}

zx_ical_writer *zx_ical_writer_new(apr_pool_t *p)
{
    icalerror_set_errors_are_fatal(0);
    zx_ical_writer *w = apr_pcalloc(p, sizeof *w);
    w->p = p;
    w->cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
    w->items = apr_array_make(p, 16, sizeof(icalcomponent *));
    w->zones = apr_hash_make(p);
    icalcomponent_add_property(w->cal, icalproperty_new_version("2.0"));
    icalcomponent_add_property(w->cal, icalproperty_new_prodid("-//zxmobile//zxsuite//EN"));
    apr_pool_cleanup_register(p, w, free_cal, apr_pool_cleanup_null);
    return w;
}

#define utc_time zx_ical_utc_time
#define add_x zx_ical_add_x
#define add_common zx_ical_add_common

static const char *getf(const zx_pim_props *pr, zx_pim_field f)
{
    return zx_pimconv_get(pr, f);
}

struct icaltimetype zx_ical_utc_time(apr_time_t t, int is_date)
{
    return icaltime_from_timet_with_zone((time_t)apr_time_sec(t), is_date,
                                         is_date ? NULL : icaltimezone_get_utc_timezone());
}

void zx_ical_add_x(icalcomponent *comp, const char *name, const char *value)
{
    if (!value || !*value)
        return;
    icalproperty *x = icalproperty_new_x(value);
    icalproperty_set_x_name(x, name);
    icalcomponent_add_property(comp, x);
}

/* The TZID of a zone at a fixed offset from UTC (seconds), its VTIMEZONE added once. */
static const char *fixed_zone(zx_ical_writer *w, long off)
{
    long a = off < 0 ? -off : off;
    const char *id = apr_psprintf(w->p, "UTC%c%02ld%02ld", off < 0 ? '-' : '+', a / 3600,
                                  a % 3600 / 60);
    if (apr_hash_get(w->zones, id, APR_HASH_KEY_STRING))
        return id;
    apr_hash_set(w->zones, id, APR_HASH_KEY_STRING, "");
    icalcomponent *tz = icalcomponent_new(ICAL_VTIMEZONE_COMPONENT);
    icalcomponent_add_property(tz, icalproperty_new_tzid(id));
    icalcomponent *std = icalcomponent_new(ICAL_XSTANDARD_COMPONENT);
    struct icaltimetype start = icaltime_null_time();
    start.year = 1970;
    start.month = 1;
    start.day = 1;
    icalcomponent_add_property(std, icalproperty_new_dtstart(start));
    icalcomponent_add_property(std, icalproperty_new_tzoffsetfrom((int)off));
    icalcomponent_add_property(std, icalproperty_new_tzoffsetto((int)off));
    icalcomponent_add_component(tz, std);
    icalcomponent_add_component(w->cal, tz);
    return id;
}

/* a task date (DTSTART / DUE) from its local and UTC forms: a date, the wall clock in a zone
 * of their difference, or the UTC instant */
static void add_date(zx_ical_writer *w, icalcomponent *comp, const zx_pim_props *pr,
                     zx_pim_field lf, zx_pim_field uf, int due)
{
    apr_time_t l, u;
    int hl = zx_pimconv_get_time(pr, lf, &l), hu = zx_pimconv_get_time(pr, uf, &u);
    struct icaltimetype t;
    const char *tzid = NULL;
    /* a date only when both forms are its midnight (an all-day task of another zone keeps its
     * offset as the wall clock below) */
    if (hl && l % apr_time_from_sec(86400) == 0 && (!hu || u == l)) {
        t = utc_time(l, 1);
    }
    else if (hl && hu && l != u && (l - u) % apr_time_from_sec(60) == 0 &&
             apr_time_sec(l > u ? l - u : u - l) <= 14 * 3600) {
        t = icaltime_from_timet_with_zone((time_t)apr_time_sec(l), 0, NULL);
        tzid = fixed_zone(w, (long)apr_time_sec(l - u));
    }
    else if (hu) {
        t = utc_time(u, 0);
    }
    else if (hl) {
        t = utc_time(l, 0);
    }
    else {
        return;
    }
    icalproperty *prop = due ? icalproperty_new_due(t) : icalproperty_new_dtstart(t);
    if (tzid)
        icalproperty_add_parameter(prop, icalparameter_new_tzid(tzid));
    icalcomponent_add_property(comp, prop);
}

void zx_ical_add_common(zx_ical_writer *w, icalcomponent *comp, const zx_pim_props *pr,
                        zx_pim_field subject, zx_pim_field body, zx_pim_field body_type,
                        zx_pim_field cats)
{
    const char *s = getf(pr, subject);
    if (s)
        icalcomponent_add_property(comp, icalproperty_new_summary(s));
    const char *b = getf(pr, body), *bt = getf(pr, body_type);
    if (b) {
        if (bt && strcmp(bt, "3") == 0) {
            add_x(comp, "X-ZXMOBILE-BODY-RTF", b);
        }
        else if (bt && strcmp(bt, "2") == 0) {
            const char *txt = zx_mime_html_to_text(w->p, b);
            if (txt && *txt)
                icalcomponent_add_property(comp, icalproperty_new_description(txt));
            icalproperty *x = icalproperty_new_x(b);
            icalproperty_set_x_name(x, "X-ALT-DESC");
            icalproperty_set_parameter_from_string(x, "FMTTYPE", "text/html");
            icalcomponent_add_property(comp, x);
        }
        else {
            icalcomponent_add_property(comp, icalproperty_new_description(b));
        }
    }
    const apr_array_header_t *list = pr->v[cats].list;
    for (int i = 0; list && i < list->nelts; i++) {
        const char *cat = APR_ARRAY_IDX(list, i, const char *);
        icalcomponent_add_property(comp, icalproperty_new_categories(cat));
    }
}

static const char *const wdays[] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

static const char *byday(apr_pool_t *p, int mask, int pos)
{
    const char *s = NULL;
    for (int i = 0; i < 7; i++)
        if (mask & (1 << i)) {
            const char *d = pos ? apr_psprintf(p, "%d%s", pos, wdays[i]) : wdays[i];
            s = s ? apr_pstrcat(p, s, ",", d, NULL) : d;
        }
    return s;
}

const char *zx_pimconv_rrule(apr_pool_t *p, const zx_pim_props *pr)
{
    const zx_pim_rec_fields *rf = zx_pim_rec_of(pr->cls);
    const char *ts = rf ? getf(pr, rf->type) : NULL;
    if (!ts)
        return NULL;
    int type = atoi(ts);
    static const char *const freq[] = {"DAILY", "WEEKLY", "MONTHLY", "MONTHLY", "", "YEARLY",
                                       "YEARLY"};
    if (type < 0 || type > 6 || type == 4)
        return NULL;
    const char *rule = apr_pstrcat(p, "FREQ=", freq[type], NULL);
    const char *v;
    if ((v = getf(pr, rf->interval)) && atoi(v) > 1)
        rule = apr_psprintf(p, "%s;INTERVAL=%d", rule, atoi(v));
    int dow = (v = getf(pr, rf->day_of_week)) ? atoi(v) : 0;
    int week = (v = getf(pr, rf->week_of_month)) ? atoi(v) : 0;
    int mday = (v = getf(pr, rf->day_of_month)) ? atoi(v) : 0;
    int month = (v = getf(pr, rf->month_of_year)) ? atoi(v) : 0;
    if (type == 5 || type == 6)
        if (month >= 1 && month <= 12)
            rule = apr_psprintf(p, "%s;BYMONTH=%d", rule, month);
    if (type == 3 || type == 6) {
        int pos = week == 5 ? -1 : week;
        if (dow == 127)
            rule = apr_psprintf(p, "%s;BYMONTHDAY=-1", rule);
        else if (dow & 127)
            rule = apr_psprintf(p, "%s;BYDAY=%s", rule,
                                byday(p, dow & 127, (dow & (dow - 1)) ? 0 : pos));
        if (dow != 127 && (dow & (dow - 1)) && pos)
            rule = apr_psprintf(p, "%s;BYSETPOS=%d", rule, pos);
    }
    else if ((type == 0 || type == 1) && (dow & 127)) {
        rule = apr_psprintf(p, "%s;BYDAY=%s", rule, byday(p, dow & 127, 0));
    }
    else if ((type == 2 || type == 5) && mday) {
        rule = apr_psprintf(p, "%s;BYMONTHDAY=%d", rule, mday);
    }
    if ((v = getf(pr, rf->first_day_of_week)) && atoi(v) >= 0 && atoi(v) <= 6)
        rule = apr_psprintf(p, "%s;WKST=%s", rule, wdays[atoi(v)]);
    apr_time_t t;
    if ((v = getf(pr, rf->occurrences)) && atoi(v) > 0)
        rule = apr_psprintf(p, "%s;COUNT=%d", rule, atoi(v));
    else if (zx_pimconv_get_time(pr, rf->until, &t))
        rule = apr_psprintf(p, "%s;UNTIL=%s", rule,
                            icaltime_as_ical_string(utc_time(t, 0)));
    return rule;
}

static void add_rrule(zx_ical_writer *w, icalcomponent *comp, const zx_pim_props *pr)
{
    const char *rule = zx_pimconv_rrule(w->p, pr);
    if (!rule)
        return;
    struct icalrecurrencetype r = icalrecurrencetype_from_string(rule);
    icalcomponent_add_property(comp, icalproperty_new_rrule(r));
}

static void add_task(zx_ical_writer *w, icalcomponent *comp, const zx_pim_props *pr)
{
    apr_pool_t *p = w->p;
    add_common(w, comp, pr, ZX_PF_TASK_SUBJECT, ZX_PF_TASK_BODY, ZX_PF_TASK_BODY_TYPE,
               ZX_PF_TASK_CATEGORIES);
    const char *v;
    if ((v = getf(pr, ZX_PF_TASK_IMPORTANCE)))
        icalcomponent_add_property(comp, icalproperty_new_priority(atoi(v) == 2   ? 1
                                                                   : atoi(v) == 0 ? 9
                                                                                  : 5));
    if ((v = getf(pr, ZX_PF_TASK_SENSITIVITY))) {
        int s = atoi(v);
        icalcomponent_add_property(comp, icalproperty_new_class(s == 0   ? ICAL_CLASS_PUBLIC
                                                                : s == 3 ? ICAL_CLASS_CONFIDENTIAL
                                                                         : ICAL_CLASS_PRIVATE));
        if (s == 1)
            add_x(comp, "X-ZXMOBILE-SENSITIVITY", "1");
    }
    add_date(w, comp, pr, ZX_PF_TASK_START_DATE, ZX_PF_TASK_UTC_START_DATE, 0);
    add_date(w, comp, pr, ZX_PF_TASK_DUE_DATE, ZX_PF_TASK_UTC_DUE_DATE, 1);
    apr_time_t t;
    int complete = (v = getf(pr, ZX_PF_TASK_COMPLETE)) && strcmp(v, "1") == 0;
    icalcomponent_add_property(comp, icalproperty_new_status(complete ? ICAL_STATUS_COMPLETED
                                                                      : ICAL_STATUS_NEEDSACTION));
    if (complete && zx_pimconv_get_time(pr, ZX_PF_TASK_DATE_COMPLETED, &t))
        icalcomponent_add_property(comp, icalproperty_new_completed(utc_time(t, 0)));
    add_rrule(w, comp, pr);
    /* the recurrence's start, when it is not the task's */
    apr_time_t rs, st;
    int hs = zx_pimconv_get_time(pr, ZX_PF_TASK_START_DATE, &st) ||
             zx_pimconv_get_time(pr, ZX_PF_TASK_DUE_DATE, &st);
    if (getf(pr, ZX_PF_TASK_REC_TYPE) && zx_pimconv_get_time(pr, ZX_PF_TASK_REC_START, &rs) &&
        (!hs || rs != st))
        add_x(comp, "X-ZXMOBILE-RECURRENCE-START", zx_pimconv_time(p, rs));
    add_x(comp, "X-ZXMOBILE-REGENERATE", getf(pr, ZX_PF_TASK_REC_REGENERATE));
    add_x(comp, "X-ZXMOBILE-DEAD-OCCUR", getf(pr, ZX_PF_TASK_REC_DEAD_OCCUR));
    add_x(comp, "X-ZXMOBILE-CALENDAR-TYPE", getf(pr, ZX_PF_TASK_REC_CALENDAR_TYPE));
    add_x(comp, "X-ZXMOBILE-IS-LEAP-MONTH", getf(pr, ZX_PF_TASK_REC_IS_LEAP_MONTH));
    /* a weekly rule carries it as WKST (Monday when absent); another one here, since libical
     * writes no WKST=MO */
    if ((v = getf(pr, ZX_PF_TASK_REC_TYPE)) && strcmp(v, "1") != 0)
        add_x(comp, "X-ZXMOBILE-FIRST-DAY-OF-WEEK",
              getf(pr, ZX_PF_TASK_REC_FIRST_DAY_OF_WEEK));
    add_x(comp, "X-ZXMOBILE-ORDINAL-DATE", getf(pr, ZX_PF_TASK_ORDINAL_DATE));
    add_x(comp, "X-ZXMOBILE-SUB-ORDINAL-DATE", getf(pr, ZX_PF_TASK_SUB_ORDINAL_DATE));
    if ((v = getf(pr, ZX_PF_TASK_REMINDER_SET)) && strcmp(v, "1") == 0 &&
        zx_pimconv_get_time(pr, ZX_PF_TASK_REMINDER_TIME, &t)) {
        icalcomponent *al = icalcomponent_new(ICAL_VALARM_COMPONENT);
        icalcomponent_add_property(al, icalproperty_new_action(ICAL_ACTION_DISPLAY));
        struct icaltriggertype tr;
        memset(&tr, 0, sizeof tr);
        tr.time = utc_time(t, 0);
        tr.duration = icaldurationtype_null_duration();
        icalcomponent_add_property(al, icalproperty_new_trigger(tr));
        const char *s = getf(pr, ZX_PF_TASK_SUBJECT);
        icalcomponent_add_property(al, icalproperty_new_description(s ? s : "Reminder"));
        icalcomponent_add_component(comp, al);
    }
}

static void add_note(zx_ical_writer *w, icalcomponent *comp, const zx_pim_props *pr)
{
    add_common(w, comp, pr, ZX_PF_NOTE_SUBJECT, ZX_PF_NOTE_BODY, ZX_PF_NOTE_BODY_TYPE,
               ZX_PF_NOTE_CATEGORIES);
    apr_time_t t;
    if (zx_pimconv_get_time(pr, ZX_PF_NOTE_LAST_MODIFIED, &t))
        icalcomponent_add_property(comp, icalproperty_new_lastmodified(utc_time(t, 0)));
    const char *mc = getf(pr, ZX_PF_NOTE_MESSAGE_CLASS);
    if (mc && strcmp(mc, "IPM.StickyNote") != 0)
        add_x(comp, "X-ZXMOBILE-MESSAGE-CLASS", mc);
}

void zx_ical_writer_add(zx_ical_writer *w, const zx_pim_props *item, const char *uid)
{
    if (item->cls == ZX_PIM_CALENDAR) {
        zx_ical_add_event(w, item, uid);
        return;
    }
    int task = item->cls == ZX_PIM_TASK;
    icalcomponent *comp = icalcomponent_new(task ? ICAL_VTODO_COMPONENT : ICAL_VJOURNAL_COMPONENT);
    if (uid)
        icalcomponent_add_property(comp, icalproperty_new_uid(uid));
    icalcomponent_add_property(comp, icalproperty_new_dtstamp(utc_time(apr_time_now(), 0)));
    if (task)
        add_task(w, comp, item);
    else
        add_note(w, comp, item);
    APR_ARRAY_PUSH(w->items, icalcomponent *) = comp;
}

const char *zx_ical_writer_finish(zx_ical_writer *w)
{
    for (int i = 0; i < w->items->nelts; i++)
        icalcomponent_add_component(w->cal, APR_ARRAY_IDX(w->items, i, icalcomponent *));
    w->items->nelts = 0;
    char *s = icalcomponent_as_ical_string_r(w->cal);
    const char *out = apr_pstrdup(w->p, s ? s : "");
    free(s);
    return out;
}
