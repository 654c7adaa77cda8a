/* zxmobile - calendar events as iCalendar VEVENTs (zxsync/pimconv.h): the inverse of
 * ical_event.c (the rules are at its top), so that what is written reads back to the same
 * values.  Times are the wall clock of the event's zone with its TZID, and one VTIMEZONE per
 * zone used (libical's built-in zone under its IANA name); UTC times with "Z"; an all-day
 * event's dates are its local dates.  A series' deleted occurrences are EXDATEs, each other
 * exception one more VEVENT with its RECURRENCE-ID and the series' values where it has none
 * of its own, so that other programs see the whole occurrence. */
#include "ical_int.h"

#include <stdlib.h>
#include <string.h>

#define FIELD(name) ZX_PF_CALENDAR_##name

/* libical's zone of an event's TZID, its VTIMEZONE added once; NULL: UTC (also for a zone
 * libical does not know, whose times are then written in UTC) */
static icaltimezone *use_zone(zx_ical_writer *w, const char *tzid)
{
    if (!tzid || strcmp(tzid, "UTC") == 0)
        return NULL;
    icaltimezone *z = icaltimezone_get_builtin_timezone(tzid);
    if (!z || z == icaltimezone_get_utc_timezone())
        return NULL;
    if (apr_hash_get(w->zones, tzid, APR_HASH_KEY_STRING))
        return z;
    icalcomponent *vtz = icaltimezone_get_component(z);
    if (!vtz)
        return NULL;
    vtz = icalcomponent_new_clone(vtz);
    /* under its IANA name, not libical's "/freeassociation.sourceforge.net/..." */
    icalproperty *id = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
    if (id)
        icalproperty_set_tzid(id, tzid);
    else
        icalcomponent_add_property(vtz, icalproperty_new_tzid(tzid));
    icalcomponent_add_component(w->cal, vtz);
    apr_hash_set(w->zones, apr_pstrdup(w->p, tzid), APR_HASH_KEY_STRING, "");
    return z;
}

/* an instant as the wall clock (or date) of zone z, UTC when z is NULL */
static struct icaltimetype wall(apr_time_t t, icaltimezone *z, int date)
{
    if (!z)
        return zx_ical_utc_time(t, date);
    struct icaltimetype x = icaltime_from_timet_with_zone((time_t)apr_time_sec(t), date, z);
    x.zone = NULL;
    return x;
}

static icalproperty *zoned(icalproperty *prop, icaltimezone *z, const char *tzid, int date)
{
    if (z && !date)
        icalproperty_add_parameter(prop, icalparameter_new_tzid(tzid));
    return prop;
}

static void add_people(icalcomponent *comp, apr_pool_t *p, const zx_pim_props *ev)
{
    const char *v = zx_pimconv_get(ev, FIELD(ORGANIZER_EMAIL));
    if (v) {
        icalproperty *o = icalproperty_new_organizer(apr_pstrcat(p, "mailto:", v, NULL));
        if ((v = zx_pimconv_get(ev, FIELD(ORGANIZER_NAME))))
            icalproperty_add_parameter(o, icalparameter_new_cn(v));
        icalcomponent_add_property(comp, o);
    }
    const apr_array_header_t *list = ev->v[FIELD(ATTENDEES)].list;
    for (int i = 0; list && i < list->nelts; i++) {
        zx_pim_attendee a;
        zx_pim_attendee_decode(p, APR_ARRAY_IDX(list, i, const char *), &a);
        if (!a.email || !*a.email)
            continue;
        icalproperty *at = icalproperty_new_attendee(apr_pstrcat(p, "mailto:", a.email, NULL));
        if (a.name && *a.name)
            icalproperty_add_parameter(at, icalparameter_new_cn(a.name));
        icalparameter_partstat ps = a.status == 5   ? ICAL_PARTSTAT_NEEDSACTION
                                    : a.status == 3 ? ICAL_PARTSTAT_ACCEPTED
                                    : a.status == 2 ? ICAL_PARTSTAT_TENTATIVE
                                    : a.status == 4 ? ICAL_PARTSTAT_DECLINED
                                                    : ICAL_PARTSTAT_NONE;
        if (ps != ICAL_PARTSTAT_NONE) {
            icalproperty_add_parameter(at, icalparameter_new_partstat(ps));
        }
        else if (a.status >= 0) {
            /* 0 (response unknown) has no PARTSTAT */
            icalparameter *x = icalparameter_new_x(apr_itoa(p, a.status));
            icalparameter_set_xname(x, "X-ZXMOBILE-STATUS");
            icalproperty_add_parameter(at, x);
        }
        if (a.type == 1 || a.type == 2)
            icalproperty_add_parameter(at, icalparameter_new_role(a.type == 1
                                                                      ? ICAL_ROLE_REQPARTICIPANT
                                                                      : ICAL_ROLE_OPTPARTICIPANT));
        else if (a.type == 3)
            icalproperty_add_parameter(at, icalparameter_new_cutype(ICAL_CUTYPE_RESOURCE));
        icalcomponent_add_property(comp, at);
    }
}

static int is_cancelled(int status)
{
    return status == 5 || status == 7 || status == 13 || status == 15;
}

/* the X-ZXMOBILE-* properties of ical_event.c's table, but those written on their own */
static void add_xprops(icalcomponent *comp, const zx_pim_props *ev)
{
    for (size_t i = 0; i < zx_ical_event_nxprops; i++) {
        zx_pim_field f = zx_ical_event_xprops[i].f;
        if (f == FIELD(SENSITIVITY) || f == FIELD(MEETING_STATUS) ||
            f == FIELD(REC_FIRST_DAY_OF_WEEK))
            continue;
        zx_ical_add_x(comp, zx_ical_event_xprops[i].name, zx_pimconv_get(ev, f));
    }
}

static void add_recurrence(zx_ical_writer *w, icalcomponent *comp, const zx_pim_props *ev,
                           icaltimezone *z, const char *tzid, int all_day)
{
    const char *rule = zx_pimconv_rrule(w->p, ev);
    if (!rule)
        return;
    struct icalrecurrencetype r = icalrecurrencetype_from_string(rule);
    apr_time_t until;
    if (all_day && zx_pimconv_get_time(ev, FIELD(REC_UNTIL), &until))
        r.until = wall(until, z, 1);    /* a DATE, as the DTSTART */
    icalcomponent_add_property(comp, icalproperty_new_rrule(r));
    const char *v = zx_pimconv_get(ev, FIELD(REC_TYPE));
    if (v && strcmp(v, "1") != 0)     /* a weekly rule has it as WKST */
        zx_ical_add_x(comp, "X-ZXMOBILE-FIRST-DAY-OF-WEEK", zx_pimconv_get(ev, FIELD(REC_FIRST_DAY_OF_WEEK)));
    for (int i = 0; ev->exceptions && i < ev->exceptions->nelts; i++) {
        const zx_pim_props *x = APR_ARRAY_IDX(ev->exceptions, i, const zx_pim_props *);
        apr_time_t t;
        const char *del = zx_pimconv_get(x, ZX_PF_EXCEPTION_DELETED);
        if (!del || strcmp(del, "1") != 0 || !zx_pimconv_get_time(x, ZX_PF_EXCEPTION_EXCEPTION_START, &t))
            continue;
        icalcomponent_add_property(comp, zoned(icalproperty_new_exdate(wall(t, z, all_day)), z,
                                               tzid, all_day));
    }
}

/* One VEVENT: the series (original 0) or an occurrence of it (series its series). */
static void add_vevent(zx_ical_writer *w, const zx_pim_props *ev, const char *uid,
                       const zx_pim_props *series, apr_time_t original)
{
    apr_pool_t *p = w->p;
    icalcomponent *comp = icalcomponent_new(ICAL_VEVENT_COMPONENT);
    const char *v = zx_pimconv_get(ev, FIELD(UID));
    if (v || uid)
        icalcomponent_add_property(comp, icalproperty_new_uid(v ? v : uid));
    const char *tzid = zx_pimconv_get(ev, FIELD(TZID));
    icaltimezone *z = use_zone(w, tzid);
    int all_day = (v = zx_pimconv_get(ev, FIELD(ALL_DAY))) && strcmp(v, "1") == 0;
    if (series) {
        const char *st = zx_pimconv_get(series, FIELD(ALL_DAY));
        int sday = st && strcmp(st, "1") == 0;
        icaltimezone *sz = use_zone(w, zx_pimconv_get(series, FIELD(TZID)));
        icalcomponent_add_property(comp, zoned(icalproperty_new_recurrenceid(
                                                   wall(original, sz, sday)),
                                               sz, zx_pimconv_get(series, FIELD(TZID)), sday));
    }
    apr_time_t t, start;
    icalcomponent_add_property(comp, icalproperty_new_dtstamp(zx_ical_utc_time(
        zx_pimconv_get_time(ev, FIELD(DTSTAMP), &t) ? t : apr_time_now(), 0)));
    zx_ical_add_common(w, comp, ev, FIELD(SUBJECT), FIELD(BODY), FIELD(BODY_TYPE),
                       FIELD(CATEGORIES));
    if ((v = zx_pimconv_get(ev, FIELD(LOCATION))))
        icalcomponent_add_property(comp, icalproperty_new_location(v));
    if (zx_pimconv_get_time(ev, FIELD(START), &start)) {
        icalcomponent_add_property(comp, zoned(icalproperty_new_dtstart(wall(start, z, all_day)),
                                               z, tzid, all_day));
        if (zx_pimconv_get_time(ev, FIELD(END), &t))
            icalcomponent_add_property(comp, zoned(icalproperty_new_dtend(wall(t, z, all_day)),
                                                   z, tzid, all_day));
    }
    if (all_day && z)
        zx_ical_add_x(comp, "X-ZXMOBILE-TZID", tzid);
    if ((v = zx_pimconv_get(ev, FIELD(ALL_DAY))))
        zx_ical_add_x(comp, "X-MICROSOFT-CDO-ALLDAYEVENT", all_day ? "TRUE" : "FALSE");
    if ((v = zx_pimconv_get(ev, FIELD(SENSITIVITY)))) {
        int s = atoi(v);
        icalcomponent_add_property(comp, icalproperty_new_class(s == 0   ? ICAL_CLASS_PUBLIC
                                                                : s == 3 ? ICAL_CLASS_CONFIDENTIAL
                                                                         : ICAL_CLASS_PRIVATE));
        if (s == 1)
            zx_ical_add_x(comp, "X-ZXMOBILE-SENSITIVITY", "1");
    }
    if ((v = zx_pimconv_get(ev, FIELD(BUSY_STATUS)))) {
        int b = atoi(v);
        icalcomponent_add_property(comp, icalproperty_new_transp(b == 0 ? ICAL_TRANSP_TRANSPARENT
                                                                        : ICAL_TRANSP_OPAQUE));
        if (b >= 0 && b <= 4)
            zx_ical_add_x(comp, "X-MICROSOFT-CDO-BUSYSTATUS", zx_ical_busy_names[b]);
    }
    add_people(comp, p, ev);
    if ((v = zx_pimconv_get(ev, FIELD(MEETING_STATUS)))) {
        int ms = atoi(v);
        const apr_array_header_t *att = ev->v[FIELD(ATTENDEES)].list;
        int meeting = zx_pimconv_get(ev, FIELD(ORGANIZER_EMAIL)) || (att && att->nelts);
        if (is_cancelled(ms))
            icalcomponent_add_property(comp, icalproperty_new_status(ICAL_STATUS_CANCELLED));
        if (zx_ical_meeting_status(meeting, is_cancelled(ms)) != ms)
            zx_ical_add_x(comp, "X-ZXMOBILE-MEETING-STATUS", v);
    }
    zx_ical_add_x(comp, "X-MICROSOFT-ONLINEMEETINGCONFLINK", zx_pimconv_get(ev, FIELD(ONLINE_CONF_LINK)));
    if ((v = zx_pimconv_get(ev, FIELD(DISALLOW_NEW_TIME_PROPOSAL))))
        zx_ical_add_x(comp, "X-MICROSOFT-DISALLOW-COUNTER", strcmp(v, "1") == 0 ? "TRUE"
                                                                                  : "FALSE");
    if (!series)
        add_recurrence(w, comp, ev, z, tzid, all_day);
    add_xprops(comp, ev);
    if ((v = zx_pimconv_get(ev, FIELD(REMINDER))) && atoi(v) >= 0) {
        icalcomponent *al = icalcomponent_new(ICAL_VALARM_COMPONENT);
        icalcomponent_add_property(al, icalproperty_new_action(ICAL_ACTION_DISPLAY));
        struct icaltriggertype tr;
        memset(&tr, 0, sizeof tr);
        tr.time = icaltime_null_time();
        tr.duration = icaldurationtype_from_int(-60 * atoi(v));
        icalcomponent_add_property(al, icalproperty_new_trigger(tr));
        const char *s = zx_pimconv_get(ev, FIELD(SUBJECT));
        icalcomponent_add_property(al, icalproperty_new_description(s ? s : "Reminder"));
        icalcomponent_add_component(comp, al);
    }
    APR_ARRAY_PUSH(w->items, icalcomponent *) = comp;
}

/* an exception as the whole occurrence: the series' values, then the exception's own */
static zx_pim_props *occurrence_of(apr_pool_t *p, const zx_pim_props *ev, const zx_pim_props *x,
                                   apr_time_t original)
{
    zx_pim_props *o = zx_pim_props_new(p, ZX_PIM_CALENDAR);
    const zx_pim_class_def *cd = &zx_pim_classes[ZX_PIM_CALENDAR];
    for (int f = cd->first; f < (int)cd->last; f++)
        if (!(zx_pim_fields[f].flags & (ZX_PFF_REC | ZX_PFF_CALC))) {
            o->v[f] = ev->v[f];
            o->set[f] = ev->set[f];
        }
    const zx_pim_class_def *xd = &zx_pim_classes[ZX_PIM_EXCEPTION];
    for (int f = xd->first; f < (int)xd->last; f++) {
        if (f == ZX_PF_EXCEPTION_EXCEPTION_START || f == ZX_PF_EXCEPTION_DELETED ||
            (!x->v[f].text && !x->v[f].list))
            continue;
        int cf = zx_pim_field_by_column(ZX_PIM_CALENDAR, zx_pim_fields[f].column);
        if (cf >= 0) {
            o->v[cf] = x->v[f];
            o->set[cf] = 1;
        }
    }
    apr_time_t s, e, t;
    if (!zx_pimconv_get_time(ev, FIELD(START), &s) || !zx_pimconv_get_time(ev, FIELD(END), &e) || e < s)
        e = s = 0;
    if (!zx_pimconv_get_time(x, ZX_PF_EXCEPTION_START, &t))
        zx_pim_set(o, FIELD(START), zx_pimconv_time(p, original));
    if (!zx_pimconv_get_time(x, ZX_PF_EXCEPTION_END, &t)) {
        apr_time_t os;
        zx_pimconv_get_time(o, FIELD(START), &os);
        zx_pim_set(o, FIELD(END), zx_pimconv_time(p, os + (e - s)));
    }
    return o;
}

void zx_ical_add_event(zx_ical_writer *w, const zx_pim_props *ev, const char *uid)
{
    add_vevent(w, ev, uid, NULL, 0);
    const char *r = zx_pimconv_get(ev, FIELD(REC_TYPE));
    for (int i = 0; r && ev->exceptions && i < ev->exceptions->nelts; i++) {
        const zx_pim_props *x = APR_ARRAY_IDX(ev->exceptions, i, const zx_pim_props *);
        const char *del = zx_pimconv_get(x, ZX_PF_EXCEPTION_DELETED);
        apr_time_t original;
        if ((del && strcmp(del, "1") == 0) ||
            !zx_pimconv_get_time(x, ZX_PF_EXCEPTION_EXCEPTION_START, &original))
            continue;
        add_vevent(w, occurrence_of(w->p, ev, x, original), uid, ev, original);
    }
}
