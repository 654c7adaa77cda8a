/* zxmobile - tasks (VTODO) and notes (VJOURNAL) to and from iCalendar (RFC 5545) through
 * libical (zxsync/pimconv.h).
 *
 * Task dates.  [MS-ASTASK] keeps each date twice: StartDate/DueDate in the user's local time
 * (written as if it were UTC) and UtcStartDate/UtcDueDate.  Reading: a DATE value is midnight
 * of that date for both; a UTC time is that instant for both; a time with a TZID is its wall
 * clock for the local one and the instant for the UTC one; a floating time is taken as UTC.
 * Writing: a local date at midnight is written as a DATE (Outlook's tasks are dates); one that
 * differs from its UTC form as the wall clock with a TZID "UTC+hhmm" whose VTIMEZONE has that
 * fixed offset, so that both forms come back; else the UTC instant.  A file's DATE and UTC
 * values come back as they were, a TZID time as the same wall clock and instant.
 *
 * Recurrence: RRULE <-> the [MS-ASTASK] Recurrence fields: FREQ DAILY (Type 0, BYDAY as
 * DayOfWeek), WEEKLY (1; BYDAY -> DayOfWeek, WKST -> FirstDayOfWeek), MONTHLY with BYMONTHDAY
 * (2) or one BYDAY position (3: WeekOfMonth, 5 = last; BYMONTHDAY=-1 is the last day: DayOfWeek
 * 127), YEARLY with BYMONTH and BYMONTHDAY (5) or a BYDAY position (6); INTERVAL, COUNT
 * (Occurrences), UNTIL.  Another rule cannot be a task's recurrence: the record is not read.
 * Regenerate, DeadOccur, CalendarType, IsLeapMonth, a Recurrence Start other than the task's
 * start, and OrdinalDate/SubOrdinalDate are X-ZXMOBILE-* properties; so is a Personal
 * sensitivity (CLASS has no such value: it is written as PRIVATE).  A reminder is the first
 * VALARM's TRIGGER (relative ones from DTSTART, or DUE with RELATED=END). */
#include "ical_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zxsync/mime.h>

/* ---- reading ---------------------------------------------------------------------------- */

typedef zx_ical_rctx rctx;
#define rfail zx_ical_rfail
#define to_apr zx_ical_to_apr
#define set_time zx_ical_set_time
#define xname zx_ical_xname
#define xtext zx_ical_xtext
#define first_error zx_ical_first_error
#define read_common zx_ical_read_common
#define value_ok zx_ical_value_ok
#define collect zx_ical_collect
#define begin_lines zx_ical_begin_lines

int zx_ical_rfail(rctx *c, const char *msg)
{
    if (!c->r->error)
        c->r->error = msg;
    return -1;
}

apr_time_t zx_ical_to_apr(time_t t)
{
    return apr_time_from_sec((apr_time_t)t);
}

/* local and UTC forms of a DATE-TIME property of the component (see the top) */
static int read_time(rctx *c, icalproperty *prop, struct icaltimetype t, apr_time_t *local,
                     apr_time_t *utc)
{
    if (icaltime_is_null_time(t) || !icaltime_is_valid_time(t))
        return rfail(c, apr_pstrcat(c->p, icalproperty_get_property_name(prop), ": not a date",
                                    NULL));
    *local = to_apr(icaltime_as_timet(t));
    if (t.is_date || icaltime_is_utc(t) || !t.zone) {
        if (!t.is_date && !icaltime_is_utc(t) &&
            icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER))
            zx_pimconv_warn(c->p, c->r, "%s: unknown TZID %s, taken as UTC",
                            icalproperty_get_property_name(prop),
                            icalproperty_get_parameter_as_string(prop, "TZID"));
        *utc = *local;
    }
    else {
        *utc = to_apr(icaltime_as_timet_with_zone(t, t.zone));
    }
    return 0;
}

void zx_ical_set_time(rctx *c, zx_pim_field f, apr_time_t t)
{
    zx_pim_set(c->pr, f, zx_pimconv_time(c->p, t));
}

const char *zx_ical_xname(icalproperty *prop)
{
    const char *n = icalproperty_get_x_name(prop);
    return n ? n : "";
}

/* an X- property's text (libical unescapes it) */
const char *zx_ical_xtext(rctx *c, icalproperty *prop)
{
    const char *v = icalproperty_get_x(prop);
    return v ? apr_pstrdup(c->p, v) : "";
}

int zx_ical_first_error(rctx *c, icalcomponent *comp)
{
    icalproperty *e = icalcomponent_get_first_property(comp, ICAL_XLICERROR_PROPERTY);
    if (e)
        return rfail(c, apr_pstrdup(c->p, icalproperty_get_xlicerror(e)));
    for (icalcomponent *s = icalcomponent_get_first_component(comp, ICAL_ANY_COMPONENT); s;
         s = icalcomponent_get_next_component(comp, ICAL_ANY_COMPONENT))
        if (first_error(c, s) < 0)
            return -1;
    return 0;
}

/* SUMMARY, DESCRIPTION / X-ALT-DESC, CATEGORIES: common to both */
void zx_ical_read_common(rctx *c, zx_pim_field subject, zx_pim_field body, zx_pim_field body_type,
                        zx_pim_field cats)
{
    icalproperty *prop;
    if ((prop = icalcomponent_get_first_property(c->comp, ICAL_SUMMARY_PROPERTY)))
        zx_pimconv_set(c->pr, subject, apr_pstrdup(c->p, icalproperty_get_summary(prop)));
    const char *desc = NULL, *html = NULL, *rtf = NULL;
    if ((prop = icalcomponent_get_first_property(c->comp, ICAL_DESCRIPTION_PROPERTY)))
        desc = apr_pstrdup(c->p, icalproperty_get_description(prop));
    apr_array_header_t *list = NULL;
    for (prop = icalcomponent_get_first_property(c->comp, ICAL_CATEGORIES_PROPERTY); prop;
         prop = icalcomponent_get_next_property(c->comp, ICAL_CATEGORIES_PROPERTY)) {
        const char *v = icalproperty_get_categories(prop);
        if (!v || !*v)
            continue;
        if (!list)
            list = apr_array_make(c->p, 4, sizeof(const char *));
        APR_ARRAY_PUSH(list, const char *) = apr_pstrdup(c->p, v);
    }
    if (list)
        zx_pim_set_list(c->pr, cats, list);
    for (prop = icalcomponent_get_first_property(c->comp, ICAL_X_PROPERTY); prop;
         prop = icalcomponent_get_next_property(c->comp, ICAL_X_PROPERTY)) {
        if (strcasecmp(xname(prop), "X-ALT-DESC") == 0) {
            const char *ft = icalproperty_get_parameter_as_string(prop, "FMTTYPE");
            if (ft && strcasecmp(ft, "text/html") == 0)
                html = xtext(c, prop);
        }
        else if (strcasecmp(xname(prop), "X-ZXMOBILE-BODY-RTF") == 0) {
            rtf = zx_pimconv_base64_clean(c->p, xtext(c, prop));
        }
    }
    if (rtf) {
        zx_pim_set(c->pr, body, rtf);
        zx_pim_set(c->pr, body_type, "3");
    }
    else if (html && *html) {
        zx_pim_set(c->pr, body, html);
        zx_pim_set(c->pr, body_type, "2");
    }
    else if (desc && *desc) {
        zx_pim_set(c->pr, body, desc);
        zx_pim_set(c->pr, body_type, "1");
    }
}

static int weekday_bit(int dow)   /* libical 1 = Sunday .. 7 = Saturday */
{
    return dow >= 1 && dow <= 7 ? 1 << (dow - 1) : 0;
}

/* what: "RRULE ...: ", why: the reason, where "%s" stands for the noun ("a task", "an
 * event") */
static int rrfail(rctx *c, const char *what, const char *noun, const char *why)
{
    const char *an = strcmp(noun, "event") == 0 ? "an event" : "a task";
    const char *at = strstr(why, "%s");
    const char *m = at ? apr_pstrcat(c->p, apr_pstrndup(c->p, why, (apr_size_t)(at - why)), an,
                                     at + 2, NULL)
                       : why;
    return rfail(c, apr_pstrcat(c->p, what, m, NULL));
}

int zx_ical_read_rrule(rctx *c, icalproperty *prop, const zx_pim_rec_fields *rf,
                       const char *noun, int have_start, apr_time_t start_local)
{
    struct icalrecurrencetype r = icalproperty_get_rrule(prop);
    const char *rs = icalproperty_get_value_as_string(prop);
    const char *what = apr_pstrcat(c->p, "RRULE ", rs ? rs : "", ": ", NULL);
    int type, dow = 0, pos = 0, npos = 0, mday = 0, month = 0;
    for (int i = 0; i < ICAL_BY_DAY_SIZE && r.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
        dow |= weekday_bit(icalrecurrencetype_day_day_of_week(r.by_day[i]));
        int ps = icalrecurrencetype_day_position(r.by_day[i]);
        if (ps) {
            if (npos && ps != pos)
                return rrfail(c, what, noun, "days at different positions cannot be %s recurrence");
            pos = ps;
            npos++;
        }
    }
    if (r.by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX) {
        if (pos || r.by_set_pos[1] != ICAL_RECURRENCE_ARRAY_MAX)
            return rrfail(c, what, noun, "this BYSETPOS cannot be %s recurrence");
        pos = r.by_set_pos[0];
    }
    if (r.by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX) {
        if (r.by_month_day[1] != ICAL_RECURRENCE_ARRAY_MAX)
            return rrfail(c, what, noun, "more than one BYMONTHDAY cannot be %s recurrence");
        mday = r.by_month_day[0];
    }
    if (r.by_month[0] != ICAL_RECURRENCE_ARRAY_MAX) {
        if (r.by_month[1] != ICAL_RECURRENCE_ARRAY_MAX)
            return rrfail(c, what, noun, "more than one BYMONTH cannot be %s recurrence");
        month = icalrecurrencetype_month_month(r.by_month[0]);
    }
    const short none = ICAL_RECURRENCE_ARRAY_MAX;
    if (r.by_second[0] != none || r.by_minute[0] != none || r.by_hour[0] != none ||
        r.by_year_day[0] != none || r.by_week_no[0] != none)
        return rrfail(c, what, noun, "BYSECOND, BYMINUTE, BYHOUR, BYYEARDAY and BYWEEKNO cannot be "
                                       "%s recurrence");
    if (pos < -1 || pos > 4)
        return rrfail(c, what, noun, "only the positions 1 to 4 and -1 (last) are %s recurrence");
    apr_time_exp_t sx;
    apr_time_exp_gmt(&sx, start_local);
    switch (r.freq) {
    case ICAL_DAILY_RECURRENCE:
        if (pos || mday || month)
            return rrfail(c, what, noun, "a daily rule with positions, BYMONTHDAY or BYMONTH");
        type = 0;
        break;
    case ICAL_WEEKLY_RECURRENCE:
        if (pos || mday || month)
            return rrfail(c, what, noun, "a weekly rule with positions, BYMONTHDAY or BYMONTH");
        type = 1;
        if (!dow && have_start)
            dow = 1 << sx.tm_wday;
        break;
    case ICAL_MONTHLY_RECURRENCE:
    case ICAL_YEARLY_RECURRENCE:
        if (month && r.freq == ICAL_MONTHLY_RECURRENCE)
            return rrfail(c, what, noun, "a monthly rule with BYMONTH");
        if (mday == -1 && !dow) {        /* the last day of the month */
            pos = -1;
            dow = 127;
            mday = 0;
        }
        if (dow && !pos)
            return rrfail(c, what, noun, "a monthly or yearly rule on every such weekday");
        if (dow && mday)
            return rrfail(c, what, noun, "BYDAY and BYMONTHDAY together");
        if (mday < 0)
            return rrfail(c, what, noun, "a day counted from the end of the month");
        type = r.freq == ICAL_MONTHLY_RECURRENCE ? (dow ? 3 : 2) : (dow ? 6 : 5);
        if (!dow && !mday && have_start)
            mday = sx.tm_mday;
        if (r.freq == ICAL_YEARLY_RECURRENCE && !month && have_start)
            month = sx.tm_mon + 1;
        break;
    default:
        return rrfail(c, what, noun, "only DAILY, WEEKLY, MONTHLY and YEARLY rules are %s recurrence");
    }
    zx_pim_props *pr = c->pr;
    zx_pim_set(pr, rf->type, apr_itoa(c->p, type));
    /* INTERVAL (1 when absent: libical does not write INTERVAL=1) */
    zx_pim_set(pr, rf->interval, apr_itoa(c->p, r.interval > 1 ? r.interval : 1));
    if (r.count > 0)
        zx_pim_set(pr, rf->occurrences, apr_itoa(c->p, r.count));
    if (!icaltime_is_null_time(r.until))
        set_time(c, rf->until, to_apr(icaltime_as_timet(r.until)));
    if (dow)
        zx_pim_set(pr, rf->day_of_week, apr_itoa(c->p, dow));
    if (pos)
        zx_pim_set(pr, rf->week_of_month, apr_itoa(c->p, pos < 0 ? 5 : pos));
    if (mday)
        zx_pim_set(pr, rf->day_of_month, apr_itoa(c->p, mday));
    if (month)
        zx_pim_set(pr, rf->month_of_year, apr_itoa(c->p, month));
    /* FirstDayOfWeek (0 = Sunday): WKST; a weekly rule without one weeks from Monday (RFC
     * 5545's default), another has none */
    const char *rtext = icalproperty_as_ical_string(prop);
    if (r.week_start >= ICAL_SUNDAY_WEEKDAY && r.week_start <= ICAL_SATURDAY_WEEKDAY &&
        (type == 1 || (rtext && strstr(rtext, "WKST="))))
        zx_pim_set(pr, rf->first_day_of_week, apr_itoa(c->p, r.week_start - 1));
    return 0;
}

static const struct {
    const char *name;
    zx_pim_field f;
    int time;
} task_x[] = {
    {"X-ZXMOBILE-REGENERATE", ZX_PF_TASK_REC_REGENERATE, 0},
    {"X-ZXMOBILE-DEAD-OCCUR", ZX_PF_TASK_REC_DEAD_OCCUR, 0},
    {"X-ZXMOBILE-CALENDAR-TYPE", ZX_PF_TASK_REC_CALENDAR_TYPE, 0},
    {"X-ZXMOBILE-IS-LEAP-MONTH", ZX_PF_TASK_REC_IS_LEAP_MONTH, 0},
    {"X-ZXMOBILE-FIRST-DAY-OF-WEEK", ZX_PF_TASK_REC_FIRST_DAY_OF_WEEK, 0},
    {"X-ZXMOBILE-RECURRENCE-START", ZX_PF_TASK_REC_START, 1},
    {"X-ZXMOBILE-ORDINAL-DATE", ZX_PF_TASK_ORDINAL_DATE, 1},
    {"X-ZXMOBILE-SUB-ORDINAL-DATE", ZX_PF_TASK_SUB_ORDINAL_DATE, 0},
    {"X-ZXMOBILE-SENSITIVITY", ZX_PF_TASK_SENSITIVITY, 0},
};

/* an INT (decimal, 32 bits) or BOOL ("0", "1") value as the store takes it; TEXT any */
int zx_ical_value_ok(zx_pim_type t, const char *v)
{
    if (t == ZX_PT_BOOL)
        return strcmp(v, "0") == 0 || strcmp(v, "1") == 0;
    if (t != ZX_PT_INT)
        return 1;
    const char *d = v + (*v == '-');
    if (!*d || strlen(d) > 10 || strspn(d, "0123456789") != strlen(d))
        return 0;
    long long n = atoll(v);
    return n >= -2147483647LL - 1 && n <= 2147483647LL;
}

static int read_task(rctx *c)
{
    icalcomponent *comp = c->comp;
    zx_pim_props *pr = c->pr;
    read_common(c, ZX_PF_TASK_SUBJECT, ZX_PF_TASK_BODY, ZX_PF_TASK_BODY_TYPE,
                ZX_PF_TASK_CATEGORIES);
    icalproperty *prop;
    if ((prop = icalcomponent_get_first_property(comp, ICAL_PRIORITY_PROPERTY))) {
        int prio = icalproperty_get_priority(prop);
        if (prio >= 1 && prio <= 9)
            zx_pim_set(pr, ZX_PF_TASK_IMPORTANCE, prio < 5 ? "2" : prio == 5 ? "1" : "0");
    }
    if ((prop = icalcomponent_get_first_property(comp, ICAL_CLASS_PROPERTY))) {
        enum icalproperty_class k = icalproperty_get_class(prop);
        zx_pim_set(pr, ZX_PF_TASK_SENSITIVITY, k == ICAL_CLASS_PRIVATE ? "2"
                                               : k == ICAL_CLASS_CONFIDENTIAL ? "3" : "0");
    }
    apr_time_t sl = 0, su = 0, dl = 0, du = 0;
    int have_start = 0, have_due = 0;
    if ((prop = icalcomponent_get_first_property(comp, ICAL_DTSTART_PROPERTY))) {
        if (read_time(c, prop, icalcomponent_get_dtstart(comp), &sl, &su) < 0)
            return -1;
        have_start = 1;
        set_time(c, ZX_PF_TASK_START_DATE, sl);
        set_time(c, ZX_PF_TASK_UTC_START_DATE, su);
    }
    if ((prop = icalcomponent_get_first_property(comp, ICAL_DUE_PROPERTY))) {
        if (read_time(c, prop, icalcomponent_get_due(comp), &dl, &du) < 0)
            return -1;
        have_due = 1;
        set_time(c, ZX_PF_TASK_DUE_DATE, dl);
        set_time(c, ZX_PF_TASK_UTC_DUE_DATE, du);
    }
    int complete = 0;
    if ((prop = icalcomponent_get_first_property(comp, ICAL_STATUS_PROPERTY)) &&
        icalproperty_get_status(prop) == ICAL_STATUS_COMPLETED)
        complete = 1;
    if ((prop = icalcomponent_get_first_property(comp, ICAL_COMPLETED_PROPERTY))) {
        apr_time_t l, u;
        if (read_time(c, prop, icalproperty_get_completed(prop), &l, &u) < 0)
            return -1;
        complete = 1;
        set_time(c, ZX_PF_TASK_DATE_COMPLETED, u);
    }
    else if (complete) {
        /* [MS-ASTASK] Complete 1 needs DateCompleted: the last change, else DTSTAMP */
        icalproperty *when = icalcomponent_get_first_property(comp, ICAL_LASTMODIFIED_PROPERTY);
        struct icaltimetype wt = when ? icalproperty_get_lastmodified(when) : icaltime_null_time();
        if (!when && (when = icalcomponent_get_first_property(comp, ICAL_DTSTAMP_PROPERTY)))
            wt = icalproperty_get_dtstamp(when);
        apr_time_t l, u;
        if (!when || read_time(c, when, wt, &l, &u) < 0)
            return rfail(c, "STATUS:COMPLETED without COMPLETED, LAST-MODIFIED or DTSTAMP: no "
                            "completion date");
        set_time(c, ZX_PF_TASK_DATE_COMPLETED, u);
        zx_pimconv_warn(c->p, c->r, "STATUS:COMPLETED without COMPLETED: completed at %s",
                        zx_pimconv_get(c->pr, ZX_PF_TASK_DATE_COMPLETED));
    }
    zx_pim_set(pr, ZX_PF_TASK_COMPLETE, complete ? "1" : "0");
    /* the reminder: the first VALARM with a trigger */
    zx_pim_set(pr, ZX_PF_TASK_REMINDER_SET, "0");
    icalcomponent *al = icalcomponent_get_first_component(comp, ICAL_VALARM_COMPONENT);
    if (al && (prop = icalcomponent_get_first_property(al, ICAL_TRIGGER_PROPERTY))) {
        struct icaltriggertype tr = icalproperty_get_trigger(prop);
        apr_time_t at = 0;
        int ok = 1;
        if (!icaltime_is_null_time(tr.time)) {
            at = to_apr(icaltime_as_timet(tr.time));
        }
        else {
            const char *rel = icalproperty_get_parameter_as_string(prop, "RELATED");
            int end = rel && strcasecmp(rel, "END") == 0;
            if (end ? !have_due : !have_start) {
                zx_pimconv_warn(c->p, c->r, "VALARM relative to %s, which the task has not: "
                                "dropped", end ? "DUE" : "DTSTART");
                ok = 0;
            }
            at = (end ? du : su) +
                 apr_time_from_sec((apr_time_t)icaldurationtype_as_int(tr.duration));
        }
        if (ok) {
            zx_pim_set(pr, ZX_PF_TASK_REMINDER_SET, "1");
            set_time(c, ZX_PF_TASK_REMINDER_TIME, at);
        }
    }
    int rules = 0;
    for (prop = icalcomponent_get_first_property(comp, ICAL_RRULE_PROPERTY); prop;
         prop = icalcomponent_get_next_property(comp, ICAL_RRULE_PROPERTY)) {
        if (rules++)
            return rfail(c, "more than one RRULE cannot be a task recurrence");
        if (!have_start && !have_due)
            return rfail(c, "an RRULE without DTSTART or DUE: a task recurrence needs a start");
        if (zx_ical_read_rrule(c, prop, zx_pim_rec_of(ZX_PIM_TASK), "task", 1,
                               have_start ? sl : dl) < 0)
            return -1;
        set_time(c, ZX_PF_TASK_REC_START, have_start ? sl : dl);
    }
    for (prop = icalcomponent_get_first_property(comp, ICAL_X_PROPERTY); prop;
         prop = icalcomponent_get_next_property(comp, ICAL_X_PROPERTY))
        for (size_t i = 0; i < sizeof task_x / sizeof task_x[0]; i++)
            if (strcasecmp(xname(prop), task_x[i].name) == 0) {
                const char *v = xtext(c, prop);
                apr_time_t t;
                if (task_x[i].time) {
                    if (zx_pimconv_parse_time(v, &t) < 0)
                        return rfail(c, apr_pstrcat(c->p, task_x[i].name,
                                                    ": not a UTC date-time", NULL));
                    set_time(c, task_x[i].f, t);
                }
                else if (!value_ok(zx_pim_fields[task_x[i].f].type, v)) {
                    return rfail(c, apr_psprintf(c->p, "%s: \"%s\" is not %s", task_x[i].name, v,
                                                 zx_pim_fields[task_x[i].f].type == ZX_PT_BOOL
                                                     ? "0 or 1" : "a number"));
                }
                else {
                    zx_pim_set(pr, task_x[i].f, v);
                }
            }
    return 0;
}

static int read_note(rctx *c)
{
    read_common(c, ZX_PF_NOTE_SUBJECT, ZX_PF_NOTE_BODY, ZX_PF_NOTE_BODY_TYPE,
                ZX_PF_NOTE_CATEGORIES);
    icalproperty *prop = icalcomponent_get_first_property(c->comp, ICAL_LASTMODIFIED_PROPERTY);
    if (prop) {
        apr_time_t l, u;
        if (read_time(c, prop, icalproperty_get_lastmodified(prop), &l, &u) < 0)
            return -1;
        set_time(c, ZX_PF_NOTE_LAST_MODIFIED, u);
    }
    const char *mc = "IPM.StickyNote";
    for (prop = icalcomponent_get_first_property(c->comp, ICAL_X_PROPERTY); prop;
         prop = icalcomponent_get_next_property(c->comp, ICAL_X_PROPERTY))
        if (strcasecmp(xname(prop), "X-ZXMOBILE-MESSAGE-CLASS") == 0)
            mc = xtext(c, prop);
    zx_pimconv_set(c->pr, ZX_PF_NOTE_MESSAGE_CLASS, mc);
    if (!zx_pimconv_get(c->pr, ZX_PF_NOTE_SUBJECT) && !zx_pimconv_get(c->pr, ZX_PF_NOTE_BODY))
        return rfail(c, "a VJOURNAL without SUMMARY or DESCRIPTION");
    return 0;
}

void zx_ical_collect(icalcomponent *comp, icalcomponent_kind kind, apr_array_header_t *out)
{
    if (icalcomponent_isa(comp) == kind) {
        APR_ARRAY_PUSH(out, icalcomponent *) = comp;
        return;
    }
    for (icalcomponent *s = icalcomponent_get_first_component(comp, ICAL_ANY_COMPONENT); s;
         s = icalcomponent_get_next_component(comp, ICAL_ANY_COMPONENT))
        collect(s, kind, out);
}

/* the lines "BEGIN:<name>" start on, in order */
apr_array_header_t *zx_ical_begin_lines(apr_pool_t *p, const char *data, apr_size_t len,
                                       const char *name)
{
    apr_array_header_t *a = apr_array_make(p, 16, sizeof(long));
    apr_size_t nl = strlen(name);
    long line = 1;
    for (apr_size_t i = 0; i < len;) {
        if (len - i >= 6 + nl && strncasecmp(data + i, "BEGIN:", 6) == 0 &&
            strncasecmp(data + i + 6, name, nl) == 0 &&
            (i + 6 + nl == len || data[i + 6 + nl] == '\r' || data[i + 6 + nl] == '\n'))
            APR_ARRAY_PUSH(a, long) = line;
        const char *e = memchr(data + i, '\n', len - i);
        if (!e)
            break;
        i = (apr_size_t)(e - data) + 1;
        line++;
    }
    return a;
}

int zx_ical_read(apr_pool_t *p, zx_pim_class cls, const char *data, apr_size_t len,
                 apr_array_header_t **records, const char **err)
{
    if (!zx_pimconv_is_ical(data, len)) {
        *err = "not an iCalendar file (no BEGIN:VCALENDAR)";
        return -1;
    }
    icalerror_set_errors_are_fatal(0);
    char *copy = apr_pstrmemdup(p, data, len);
    icalcomponent *root = icalparser_parse_string(copy);
    if (!root) {
        *err = "not an iCalendar file (libical read no component)";
        return -1;
    }
    icalcomponent_kind kind = cls == ZX_PIM_TASK       ? ICAL_VTODO_COMPONENT
                              : cls == ZX_PIM_CALENDAR ? ICAL_VEVENT_COMPONENT
                                                       : ICAL_VJOURNAL_COMPONENT;
    const char *kname = cls == ZX_PIM_TASK ? "VTODO" : cls == ZX_PIM_CALENDAR ? "VEVENT"
                                                                              : "VJOURNAL";
    apr_array_header_t *comps = apr_array_make(p, 16, sizeof(icalcomponent *));
    collect(root, kind, comps);
    apr_array_header_t *lines = begin_lines(p, data, len, kname);
    *records = apr_array_make(p, comps->nelts ? comps->nelts : 1, sizeof(zx_pim_record));
    if (cls == ZX_PIM_CALENDAR)
        zx_ical_read_events(p, root, comps, lines->nelts == comps->nelts ? lines : NULL,
                            *records);
    for (int i = 0; cls != ZX_PIM_CALENDAR && i < comps->nelts; i++) {
        zx_pim_record *r = apr_array_push(*records);
        memset(r, 0, sizeof *r);
        r->number = i + 1;
        r->line = lines->nelts == comps->nelts ? APR_ARRAY_IDX(lines, i, long) : 0;
        rctx c = {p, r, zx_pim_props_new(p, cls), APR_ARRAY_IDX(comps, i, icalcomponent *)};
        if (first_error(&c, c.comp) == 0 &&
            (cls == ZX_PIM_TASK ? read_task(&c) : read_note(&c)) == 0)
            r->props = c.pr;
    }
    icalcomponent_free(root);
    if (!comps->nelts) {
        *err = apr_psprintf(p, "no %s in the file", kname);
        return -1;
    }
    return 0;
}
