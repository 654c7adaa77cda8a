/* zxmobile - calendar events (VEVENT) from iCalendar (RFC 5545, with the X- properties of
 * [MS-OXCICAL] that Outlook writes) through libical (zxsync/pimconv.h).  The writer is
 * ical_event_write.c; what one writes the other reads back to the same values.
 *
 * Times.  An event keeps its StartTime/EndTime as UTC instants and its zone as an IANA name
 * (TZID field, "UTC" when none).  A DTSTART with a TZID gives the zone: a name libical knows
 * (an IANA name, also behind a "/vendor/.../" prefix, or the VTIMEZONE's X-LIC-LOCATION), else
 * the first IANA zone whose UTC offsets through the event's year are those of the file's
 * VTIMEZONE; a Windows zone name, "Eastern Standard Time", is mapped by name first
 * (zxsync/pimtz.h, ICU's table), else the instants are kept in UTC and TZID
 * is "UTC" (a warning says so).  A UTC time ("Z") is in "UTC"; a floating time is taken as UTC
 * (a file's account has no zone of its own) with a warning, unless the calendar names its
 * zone in X-WR-TIMEZONE (Google): then they are that zone's wall clock.  A DATE start is an
 * all-day event (ALL_DAY 1; also a time with X-MICROSOFT-CDO-ALLDAYEVENT:TRUE): its start and
 * end are the local midnights of those dates in the event's zone, X-ZXMOBILE-TZID (what the
 * writer adds for a zone other than UTC), else X-WR-TIMEZONE, else UTC.
 *
 * Recurrence: RRULE as for tasks (ical.c) into the event's REC_* fields; an UNTIL date is the
 * local midnight of that date.  EXDATE: an exception DELETED 1 named by the excluded start as
 * a UTC instant.  A VEVENT with a RECURRENCE-ID and the UID of a series in the file is an
 * exception of that series: its own start and end, and of its other fields those whose value
 * differs from the series' (a field it has not while the series has one: an empty text).  A
 * RECURRENCE-ID without its series in the file is imported as a single event; RDATE is
 * dropped with a warning.
 *
 * Other properties: CLASS -> Sensitivity (Personal, which CLASS has not, is PRIVATE with
 * X-ZXMOBILE-SENSITIVITY:1); X-MICROSOFT-CDO-BUSYSTATUS, else TRANSP -> BusyStatus; the
 * first VALARM that alarms (not ACTION:NONE), its TRIGGER at or before the start (from the
 * start, or the end with RELATED=END) -> Reminder (minutes); ORGANIZER and ATTENDEE
 * (CN, PARTSTAT, ROLE, CUTYPE) -> the organizer and the encoded attendees; STATUS:CANCELLED
 * and the presence of an organizer or attendees -> MeetingStatus 0 / 3 / 5 / 7 (the importer
 * makes it 1 / 5 when the organizer is the account; X-ZXMOBILE-MEETING-STATUS, written when
 * the stored value differs from this, wins); X-MICROSOFT-ONLINEMEETINGCONFLINK, else URL ->
 * the online meeting link; X-MICROSOFT-DISALLOW-COUNTER; the fields iCalendar has no place
 * for are X-ZXMOBILE-* (table xprops). */
#include "ical_int.h"

#include <zxsync/pimtz.h>

#include <zxsync/pimcal.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    zx_ical_rctx c;
    icalcomponent *root;
    apr_hash_t *zones;          /* TZID of the file -> IANA name ("": none) */
    const char *wr_tzid;        /* the calendar's X-WR-TIMEZONE (IANA), NULL: none */
    const char *tzid;           /* the event's zone: IANA name or "UTC" */
    icaltimezone *zone;         /* libical's zone of it */
    int floating_warned;
} ectx;

#define FIELD(name) ZX_PF_CALENDAR_##name

/* ---- zones ------------------------------------------------------------------------------ */

/* tried first when a VTIMEZONE is matched by its offsets (several IANA zones share rules) */
static const char *const popular[] = {
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Halifax",
    "America/St_Johns", "America/Sao_Paulo", "America/Mexico_City", "America/Bogota",
    "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Berlin", "Europe/Paris",
    "Europe/Helsinki", "Europe/Athens", "Europe/Istanbul", "Europe/Moscow", "Asia/Jerusalem",
    "Africa/Cairo", "Africa/Johannesburg", "Africa/Lagos", "Asia/Dubai", "Asia/Karachi",
    "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Singapore",
    "Asia/Tokyo", "Asia/Seoul", "Australia/Perth", "Australia/Adelaide", "Australia/Darwin",
    "Australia/Brisbane", "Australia/Sydney", "Pacific/Auckland", NULL};

static int is_utc_name(const char *n)
{
    return strcasecmp(n, "UTC") == 0 || strcasecmp(n, "GMT") == 0 ||
           strcasecmp(n, "Etc/UTC") == 0 || strcasecmp(n, "Etc/GMT") == 0 ||
           strcasecmp(n, "Z") == 0 || strcasecmp(n, "Coordinated Universal Time") == 0;
}

/* an IANA name libical knows: name itself or a tail of it after a '/' */
static const char *builtin_name(const char *name)
{
    if (!name || !*name)
        return NULL;
    if (is_utc_name(name))
        return "UTC";
    for (const char *s = name; s; s = strchr(s, '/')) {
        while (*s == '/')
            s++;
        if (*s && icaltimezone_get_builtin_timezone(s))
            return s;
    }
    return NULL;
}

static int offset_at(icaltimezone *z, time_t t)
{
    struct icaltimetype tt = icaltime_from_timet_with_zone(t, 0, icaltimezone_get_utc_timezone());
    int dst = 0;
    return icaltimezone_get_utc_offset_of_utc_time(z, &tt, &dst);
}

/* whether two zones have the same UTC offset every 6 hours of the year */
static int same_offsets(icaltimezone *a, icaltimezone *b, int year)
{
    struct icaltimetype y = icaltime_null_time();
    y.year = year;
    y.month = 1;
    y.day = 1;
    time_t t0 = icaltime_as_timet_with_zone(y, icaltimezone_get_utc_timezone());
    for (int i = 0; i < 366 * 4; i++)
        if (offset_at(a, t0 + (time_t)i * 21600) != offset_at(b, t0 + (time_t)i * 21600))
            return 0;
    return 1;
}

static const char *match_offsets(icaltimezone *fz, int year)
{
    for (int i = 0; popular[i]; i++) {
        icaltimezone *b = icaltimezone_get_builtin_timezone(popular[i]);
        if (b && same_offsets(fz, b, year))
            return popular[i];
    }
    icalarray *all = icaltimezone_get_builtin_timezones();
    for (size_t i = 0; all && i < all->num_elements; i++) {
        icaltimezone *b = icalarray_element_at(all, i);
        const char *loc = builtin_name(icaltimezone_get_tzid(b));
        if (loc && strcmp(loc, "UTC") != 0 && same_offsets(fz, b, year))
            return loc;
    }
    /* no DST and no offset: UTC */
    if (same_offsets(fz, icaltimezone_get_utc_timezone(), year))
        return "UTC";
    return NULL;
}

/* The IANA name of a file's TZID (NULL: none found); cached per file. */
static const char *iana_of(ectx *e, const char *tzid, icaltimezone *fz, int year)
{
    const char *hit = apr_hash_get(e->zones, tzid, APR_HASH_KEY_STRING);
    if (hit)
        return *hit ? hit : NULL;
    const char *name = builtin_name(tzid);
    if (!name && fz) {
        icalcomponent *vtz = icaltimezone_get_component(fz);
        icalproperty *loc = vtz ? icalcomponent_get_first_property(vtz, ICAL_X_PROPERTY) : NULL;
        for (; loc && !name; loc = icalcomponent_get_next_property(vtz, ICAL_X_PROPERTY))
            if (strcasecmp(zx_ical_xname(loc), "X-LIC-LOCATION") == 0)
                name = builtin_name(icalproperty_get_x(loc));
    }
    /* a Windows zone name ("W. Europe Standard Time"), with or without its VTIMEZONE */
    if (!name)
        name = zx_tz_from_windows(tzid);
    if (!name && fz)
        name = match_offsets(fz, year);
    name = name ? apr_pstrdup(e->c.p, name) : "";
    apr_hash_set(e->zones, apr_pstrdup(e->c.p, tzid), APR_HASH_KEY_STRING, name);
    return *name ? name : NULL;
}

static icaltimezone *zone_named(const char *iana)
{
    icaltimezone *z = strcmp(iana, "UTC") == 0 ? NULL : icaltimezone_get_builtin_timezone(iana);
    return z ? z : icaltimezone_get_utc_timezone();
}

/* midnight of a date in zone z as an instant */
static apr_time_t local_midnight(struct icaltimetype d, icaltimezone *z)
{
    d.is_date = 0;
    d.hour = d.minute = d.second = 0;
    d.zone = NULL;
    return zx_ical_to_apr(icaltime_as_timet_with_zone(d, z));
}

/* A DATE-TIME or DATE property's instant.  Sets the event's zone when zone_out (DTSTART). */
static int read_dt(ectx *e, icalproperty *prop, struct icaltimetype t, apr_time_t *at,
                   int zone_out)
{
    const char *pname = icalproperty_get_property_name(prop);
    if (icaltime_is_null_time(t) || !icaltime_is_valid_time(t))
        return zx_ical_rfail(&e->c, apr_pstrcat(e->c.p, pname, ": not a date", NULL));
    if (t.is_date) {
        *at = local_midnight(t, e->zone);
        return 0;
    }
    if (icaltime_is_utc(t)) {
        *at = zx_ical_to_apr(icaltime_as_timet(t));
        if (zone_out) {
            e->tzid = "UTC";
            e->zone = icaltimezone_get_utc_timezone();
        }
        return 0;
    }
    const char *tzid = icalproperty_get_parameter_as_string(prop, "TZID");
    if (!tzid && e->wr_tzid) {
        /* floating in a calendar with an X-WR-TIMEZONE (Google's): that zone's wall clock */
        icaltimezone *z = zone_named(e->wr_tzid);
        t.zone = NULL;
        *at = zx_ical_to_apr(icaltime_as_timet_with_zone(t, z));
        if (zone_out) {
            e->tzid = e->wr_tzid;
            e->zone = z;
        }
        return 0;
    }
    if (!tzid) {
        if (!e->floating_warned++)
            zx_pimconv_warn(e->c.p, e->c.r, "%s: a floating time (no zone): taken as UTC",
                            pname);
        t.zone = NULL;
        *at = zx_ical_to_apr(icaltime_as_timet(t));
        if (zone_out) {
            e->tzid = "UTC";
            e->zone = icaltimezone_get_utc_timezone();
        }
        return 0;
    }
    /* the VTIMEZONE of the event's own VCALENDAR (a file may hold several) */
    icalcomponent *vcal = icalcomponent_get_parent(e->c.comp);
    icaltimezone *fz = icalcomponent_get_timezone(
        vcal && icalcomponent_isa(vcal) == ICAL_VCALENDAR_COMPONENT ? vcal : e->root, tzid);
    const char *iana = iana_of(e, tzid, fz, t.year);
    icaltimezone *z = iana ? zone_named(iana) : NULL;
    /* the file's own rules give the instant; libical's zone when the file has none */
    t.zone = NULL;
    if (fz)
        *at = zx_ical_to_apr(icaltime_as_timet_with_zone(t, fz));
    else if (z)
        *at = zx_ical_to_apr(icaltime_as_timet_with_zone(t, z));
    else
        *at = zx_ical_to_apr(icaltime_as_timet(t));
    if (!iana)
        zx_pimconv_warn(e->c.p, e->c.r, "%s: time zone \"%s\" %s: times kept in UTC", pname,
                        tzid, fz ? "matches no known zone" : "is not defined in the file");
    if (zone_out) {
        e->tzid = iana ? iana : "UTC";
        e->zone = z ? z : icaltimezone_get_utc_timezone();
    }
    return 0;
}

/* ---- the properties of one VEVENT -------------------------------------------------------- */

const zx_ical_xprop zx_ical_event_xprops[] = {
    {"X-ZXMOBILE-SENSITIVITY", FIELD(SENSITIVITY)},
    {"X-ZXMOBILE-MEETING-STATUS", FIELD(MEETING_STATUS)},
    {"X-ZXMOBILE-RESPONSE-REQUESTED", FIELD(RESPONSE_REQUESTED)},
    {"X-ZXMOBILE-RESPONSE-TYPE", FIELD(RESPONSE_TYPE)},
    {"X-ZXMOBILE-APPOINTMENT-REPLY-TIME", FIELD(APPOINTMENT_REPLY_TIME)},
    {"X-ZXMOBILE-CLIENT-UID", FIELD(CLIENT_UID)},
    {"X-ZXMOBILE-CALENDAR-TYPE", FIELD(REC_CALENDAR_TYPE)},
    {"X-ZXMOBILE-IS-LEAP-MONTH", FIELD(REC_IS_LEAP_MONTH)},
    {"X-ZXMOBILE-FIRST-DAY-OF-WEEK", FIELD(REC_FIRST_DAY_OF_WEEK)},
    {"X-ZXMOBILE-LOC-ANNOTATION", FIELD(LOC_ANNOTATION)},
    {"X-ZXMOBILE-LOC-STREET", FIELD(LOC_STREET)},
    {"X-ZXMOBILE-LOC-CITY", FIELD(LOC_CITY)},
    {"X-ZXMOBILE-LOC-STATE", FIELD(LOC_STATE)},
    {"X-ZXMOBILE-LOC-COUNTRY", FIELD(LOC_COUNTRY)},
    {"X-ZXMOBILE-LOC-POSTAL-CODE", FIELD(LOC_POSTAL_CODE)},
    {"X-ZXMOBILE-LOC-LATITUDE", FIELD(LOC_LATITUDE)},
    {"X-ZXMOBILE-LOC-LONGITUDE", FIELD(LOC_LONGITUDE)},
    {"X-ZXMOBILE-LOC-ACCURACY", FIELD(LOC_ACCURACY)},
    {"X-ZXMOBILE-LOC-ALTITUDE", FIELD(LOC_ALTITUDE)},
    {"X-ZXMOBILE-LOC-ALTITUDE-ACCURACY", FIELD(LOC_ALTITUDE_ACCURACY)},
    {"X-ZXMOBILE-LOC-URI", FIELD(LOC_URI)},
    {"X-MICROSOFT-ONLINEMEETINGEXTERNALLINK", FIELD(ONLINE_EXTERNAL_LINK)},
};
const size_t zx_ical_event_nxprops = sizeof zx_ical_event_xprops / sizeof zx_ical_event_xprops[0];
#define xprops zx_ical_event_xprops

const char *const zx_ical_busy_names[5] = {"FREE", "TENTATIVE", "BUSY", "OOF",
                                           "WORKINGELSEWHERE"};

static const char *mailto(apr_pool_t *p, const char *v)
{
    if (!v)
        return "";
    if (strncasecmp(v, "mailto:", 7) == 0)
        v += 7;
    return apr_pstrdup(p, v);
}

static int partstat_status(icalparameter_partstat ps)
{
    switch (ps) {
    case ICAL_PARTSTAT_NEEDSACTION: return 5;
    case ICAL_PARTSTAT_ACCEPTED: return 3;
    case ICAL_PARTSTAT_TENTATIVE: return 2;
    case ICAL_PARTSTAT_DECLINED: return 4;
    default: return 0;
    }
}

static void read_people(ectx *e)
{
    icalcomponent *comp = e->c.comp;
    apr_pool_t *p = e->c.p;
    icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_ORGANIZER_PROPERTY);
    if (prop) {
        zx_pimconv_set(e->c.pr, FIELD(ORGANIZER_EMAIL), mailto(p, icalproperty_get_organizer(prop)));
        const char *cn = icalproperty_get_parameter_as_string(prop, "CN");
        zx_pimconv_set(e->c.pr, FIELD(ORGANIZER_NAME), cn ? apr_pstrdup(p, cn) : NULL);
    }
    apr_array_header_t *list = NULL;
    for (prop = icalcomponent_get_first_property(comp, ICAL_ATTENDEE_PROPERTY); prop;
         prop = icalcomponent_get_next_property(comp, ICAL_ATTENDEE_PROPERTY)) {
        zx_pim_attendee a = {mailto(p, icalproperty_get_attendee(prop)), "", -1, -1};
        if (!*a.email) {
            zx_pimconv_warn(p, e->c.r, "an ATTENDEE without an address: dropped");
            continue;
        }
        const char *cn = icalproperty_get_parameter_as_string(prop, "CN");
        if (cn)
            a.name = apr_pstrdup(p, cn);
        icalparameter *par = icalproperty_get_first_parameter(prop, ICAL_PARTSTAT_PARAMETER);
        if (par)
            a.status = partstat_status(icalparameter_get_partstat(par));
        for (par = icalproperty_get_first_parameter(prop, ICAL_X_PARAMETER); par;
             par = icalproperty_get_next_parameter(prop, ICAL_X_PARAMETER)) {
            const char *xn = icalparameter_get_xname(par), *xv = icalparameter_get_xvalue(par);
            if (xn && xv && strcasecmp(xn, "X-ZXMOBILE-STATUS") == 0 && a.status < 0 &&
                strlen(xv) == 1 && *xv >= '0' && *xv <= '5')
                a.status = *xv - '0';
        }
        if ((par = icalproperty_get_first_parameter(prop, ICAL_ROLE_PARAMETER))) {
            icalparameter_role r = icalparameter_get_role(par);
            a.type = r == ICAL_ROLE_OPTPARTICIPANT || r == ICAL_ROLE_NONPARTICIPANT ? 2 : 1;
        }
        if ((par = icalproperty_get_first_parameter(prop, ICAL_CUTYPE_PARAMETER))) {
            icalparameter_cutype k = icalparameter_get_cutype(par);
            if (k == ICAL_CUTYPE_RESOURCE || k == ICAL_CUTYPE_ROOM)
                a.type = 3;
        }
        if (!list)
            list = apr_array_make(p, 4, sizeof(const char *));
        APR_ARRAY_PUSH(list, const char *) = zx_pim_attendee_encode(p, &a);
    }
    if (list)
        zx_pim_set_list(e->c.pr, FIELD(ATTENDEES), list);
}

/* what an iTIP message says beyond the event's fields (zx_pim_record) */
static void itip_of(ectx *e)
{
    zx_pim_record *r = e->c.r;
    apr_pool_t *p = e->c.p;
    icalcomponent *comp = e->c.comp;
    icalproperty *prop;
    if (e->root && (prop = icalcomponent_get_first_property(e->root, ICAL_METHOD_PROPERTY)) &&
        icalproperty_get_value_as_string(prop))
        r->method = apr_pstrdup(p, icalproperty_get_value_as_string(prop));
    if ((prop = icalcomponent_get_first_property(comp, ICAL_SEQUENCE_PROPERTY)))
        r->sequence = apr_itoa(p, icalproperty_get_sequence(prop));
    for (prop = icalcomponent_get_first_property(comp, ICAL_ATTENDEE_PROPERTY); prop;
         prop = icalcomponent_get_next_property(comp, ICAL_ATTENDEE_PROPERTY)) {
        icalparameter *par = icalproperty_get_first_parameter(prop, ICAL_RSVP_PARAMETER);
        if (par && icalparameter_get_rsvp(par) == ICAL_RSVP_TRUE)
            r->rsvp = 1;
    }
    for (prop = icalcomponent_get_first_property(comp, ICAL_X_PROPERTY); prop;
         prop = icalcomponent_get_next_property(comp, ICAL_X_PROPERTY)) {
        if (strcasecmp(zx_ical_xname(prop), "X-MICROSOFT-CDO-INTENDEDSTATUS") != 0)
            continue;
        const char *v = zx_ical_xtext(&e->c, prop);
        for (int i = 0; i < 5; i++)
            if (strcasecmp(v, zx_ical_busy_names[i]) == 0)
                r->intended_busy = apr_itoa(p, i);
    }
}

/* the MeetingStatus that an organizer / attendees and STATUS:CANCELLED say ([MS-ASCAL]
 * 2.2.2.29: 0 appointment, 3 meeting received, 5 cancelled, 7 cancelled received) */
int zx_ical_meeting_status(int meeting, int cancelled)
{
    return meeting ? (cancelled ? 7 : 3) : (cancelled ? 5 : 0);
}

/* the first VALARM that alarms (Apple's ACTION:NONE does not): minutes before the start */
static void read_alarm(ectx *e, apr_time_t start, apr_time_t end)
{
    icalcomponent *al;
    icalproperty *prop = NULL, *act;
    for (al = icalcomponent_get_first_component(e->c.comp, ICAL_VALARM_COMPONENT); al;
         al = icalcomponent_get_next_component(e->c.comp, ICAL_VALARM_COMPONENT)) {
        act = icalcomponent_get_first_property(al, ICAL_ACTION_PROPERTY);
        const char *av = act ? icalproperty_get_value_as_string(act) : NULL;
        if (av && strcasecmp(av, "NONE") == 0)
            continue;
        if ((prop = icalcomponent_get_first_property(al, ICAL_TRIGGER_PROPERTY)))
            break;
    }
    if (!prop)
        return;
    struct icaltriggertype tr = icalproperty_get_trigger(prop);
    apr_time_t at;
    if (!icaltime_is_null_time(tr.time)) {
        at = zx_ical_to_apr(icaltime_as_timet(tr.time));
    }
    else {
        const char *rel = icalproperty_get_parameter_as_string(prop, "RELATED");
        at = (rel && strcasecmp(rel, "END") == 0 ? end : start) +
             apr_time_from_sec((apr_time_t)icaldurationtype_as_int(tr.duration));
    }
    if (at > start) {
        zx_pimconv_warn(e->c.p, e->c.r, "VALARM after the start: dropped");
        return;
    }
    zx_pim_set(e->c.pr, FIELD(REMINDER), apr_ltoa(e->c.p, (long)(apr_time_sec(start - at) / 60)));
}

/* one VEVENT into e->c.pr; master: its RRULE too */
static int read_event(ectx *e, int master)
{
    zx_ical_rctx *c = &e->c;
    icalcomponent *comp = c->comp;
    zx_pim_props *pr = c->pr;
    apr_pool_t *p = c->p;
    if (zx_ical_first_error(c, comp) < 0)
        return -1;
    zx_ical_read_common(c, FIELD(SUBJECT), FIELD(BODY), FIELD(BODY_TYPE), FIELD(CATEGORIES));
    icalproperty *prop;
    if ((prop = icalcomponent_get_first_property(comp, ICAL_LOCATION_PROPERTY)))
        zx_pimconv_set(pr, FIELD(LOCATION), apr_pstrdup(p, icalproperty_get_location(prop)));
    if ((prop = icalcomponent_get_first_property(comp, ICAL_UID_PROPERTY)))
        zx_pimconv_set(pr, FIELD(UID), apr_pstrdup(p, icalproperty_get_uid(prop)));
    apr_time_t t;
    if ((prop = icalcomponent_get_first_property(comp, ICAL_DTSTAMP_PROPERTY))) {
        if (read_dt(e, prop, icalproperty_get_dtstamp(prop), &t, 0) < 0)
            return -1;
        zx_ical_set_time(c, FIELD(DTSTAMP), t);
    }
    /* the zone of an all-day event: X-ZXMOBILE-TZID, else the calendar's, else UTC */
    e->tzid = e->wr_tzid ? e->wr_tzid : "UTC";
    e->zone = zone_named(e->tzid);
    const char *busy = NULL, *conf = NULL, *url = NULL;
    int cdo_all_day = 0;
    for (prop = icalcomponent_get_first_property(comp, ICAL_X_PROPERTY); prop;
         prop = icalcomponent_get_next_property(comp, ICAL_X_PROPERTY)) {
        const char *xn = zx_ical_xname(prop);
        if (strcasecmp(xn, "X-ZXMOBILE-TZID") == 0) {
            const char *n = builtin_name(zx_ical_xtext(c, prop));
            if (n) {
                e->tzid = apr_pstrdup(p, n);
                e->zone = zone_named(e->tzid);
            }
        }
        else if (strcasecmp(xn, "X-MICROSOFT-CDO-BUSYSTATUS") == 0) {
            busy = zx_ical_xtext(c, prop);
        }
        else if (strcasecmp(xn, "X-MICROSOFT-CDO-ALLDAYEVENT") == 0) {
            cdo_all_day = strcasecmp(zx_ical_xtext(c, prop), "TRUE") == 0;
        }
        else if (strcasecmp(xn, "X-MICROSOFT-ONLINEMEETINGCONFLINK") == 0) {
            conf = zx_ical_xtext(c, prop);
        }
        else if (strcasecmp(xn, "X-MICROSOFT-DISALLOW-COUNTER") == 0) {
            const char *v = zx_ical_xtext(c, prop);
            zx_pim_set(pr, FIELD(DISALLOW_NEW_TIME_PROPOSAL),
                       strcasecmp(v, "TRUE") == 0 || strcmp(v, "1") == 0 ? "1" : "0");
        }
        else {
            for (size_t i = 0; i < zx_ical_event_nxprops; i++) {
                if (strcasecmp(xn, xprops[i].name) != 0)
                    continue;
                const char *v = zx_ical_xtext(c, prop);
                zx_pim_type ty = zx_pim_fields[xprops[i].f].type;
                if (ty == ZX_PT_TIME) {
                    if (zx_pimconv_parse_time(v, &t) < 0)
                        return zx_ical_rfail(c, apr_pstrcat(p, xprops[i].name,
                                                            ": not a UTC date-time", NULL));
                    zx_ical_set_time(c, xprops[i].f, t);
                }
                else if (!zx_ical_value_ok(ty, v)) {
                    return zx_ical_rfail(c, apr_psprintf(p, "%s: \"%s\" is not %s",
                                                         xprops[i].name, v,
                                                         ty == ZX_PT_BOOL ? "0 or 1"
                                                                          : "a number"));
                }
                else {
                    zx_pimconv_set(pr, xprops[i].f, v);
                }
            }
        }
    }
    /* start, end */
    prop = icalcomponent_get_first_property(comp, ICAL_DTSTART_PROPERTY);
    if (!prop)
        return zx_ical_rfail(c, "a VEVENT without DTSTART");
    struct icaltimetype st = icalproperty_get_dtstart(prop);
    apr_time_t start, end;
    if (read_dt(e, prop, st, &start, !st.is_date) < 0)
        return -1;
    /* Outlook may give an all-day event as local midnights with X-MICROSOFT-CDO-ALLDAYEVENT */
    zx_pim_set(pr, FIELD(ALL_DAY), st.is_date || cdo_all_day ? "1" : "0");
    if ((prop = icalcomponent_get_first_property(comp, ICAL_DTEND_PROPERTY))) {
        struct icaltimetype et = icalproperty_get_dtend(prop);
        if (read_dt(e, prop, et, &end, 0) < 0)
            return -1;
    }
    else if ((prop = icalcomponent_get_first_property(comp, ICAL_DURATION_PROPERTY))) {
        struct icaldurationtype d = icalproperty_get_duration(prop);
        if (st.is_date)
            end = local_midnight(icaltime_add(st, d), e->zone);
        else
            end = start + apr_time_from_sec((apr_time_t)icaldurationtype_as_int(d));
    }
    else {
        /* RFC 5545 3.6.1: a day for a date, none for a time */
        end = st.is_date ? local_midnight(icaltime_add(st, icaldurationtype_from_int(86400)),
                                          e->zone)
                         : start;
    }
    if (end < start) {
        zx_pimconv_warn(p, c->r, "DTEND before DTSTART: the event ends at its start");
        end = start;
    }
    zx_pim_set(pr, FIELD(TZID), e->tzid);
    zx_ical_set_time(c, FIELD(START), start);
    zx_ical_set_time(c, FIELD(END), end);
    /* sensitivity: a Personal one came with its X- property above */
    if ((prop = icalcomponent_get_first_property(comp, ICAL_CLASS_PROPERTY)) &&
        !zx_pimconv_get(pr, FIELD(SENSITIVITY))) {
        enum icalproperty_class k = icalproperty_get_class(prop);
        zx_pim_set(pr, FIELD(SENSITIVITY), k == ICAL_CLASS_PRIVATE ? "2"
                                           : k == ICAL_CLASS_CONFIDENTIAL ? "3" : "0");
    }
    if (busy) {
        for (int i = 0; i < 5; i++)
            if (strcasecmp(busy, zx_ical_busy_names[i]) == 0)
                zx_pim_set(pr, FIELD(BUSY_STATUS), apr_itoa(p, i));
    }
    if (!zx_pimconv_get(pr, FIELD(BUSY_STATUS)) &&
        (prop = icalcomponent_get_first_property(comp, ICAL_TRANSP_PROPERTY)))
        zx_pim_set(pr, FIELD(BUSY_STATUS),
                   icalproperty_get_transp(prop) == ICAL_TRANSP_TRANSPARENT ? "0" : "2");
    read_alarm(e, start, end);
    read_people(e);
    int cancelled = (prop = icalcomponent_get_first_property(comp, ICAL_STATUS_PROPERTY)) &&
                    icalproperty_get_status(prop) == ICAL_STATUS_CANCELLED;
    if (!zx_pimconv_get(pr, FIELD(MEETING_STATUS)))
        zx_pim_set(pr, FIELD(MEETING_STATUS),
                   apr_itoa(p, zx_ical_meeting_status(zx_pimconv_get(pr, FIELD(ORGANIZER_EMAIL)) ||
                                                          pr->v[FIELD(ATTENDEES)].list,
                                                      cancelled)));
    itip_of(e);
    if (!conf && (prop = icalcomponent_get_first_property(comp, ICAL_URL_PROPERTY)))
        url = apr_pstrdup(p, icalproperty_get_url(prop));
    zx_pimconv_set(pr, FIELD(ONLINE_CONF_LINK), conf ? conf : url);
    if (!master)
        return 0;
    if (icalcomponent_get_first_property(comp, ICAL_RDATE_PROPERTY))
        zx_pimconv_warn(p, c->r, "RDATE (extra occurrences) is not kept: dropped");
    int rules = 0;
    for (prop = icalcomponent_get_first_property(comp, ICAL_RRULE_PROPERTY); prop;
         prop = icalcomponent_get_next_property(comp, ICAL_RRULE_PROPERTY)) {
        if (rules++)
            return zx_ical_rfail(c, "more than one RRULE cannot be an event recurrence");
        /* the rule runs on the wall clock of the zone: its weekday and day are local */
        apr_time_t local = start + apr_time_from_sec(offset_at(e->zone, (time_t)apr_time_sec(start)));
        const zx_pim_rec_fields *rf = zx_pim_rec_of(ZX_PIM_CALENDAR);
        /* FirstDayOfWeek of a rule other than weekly came as an X- property: keep it */
        const char *fdw = zx_pimconv_get(pr, rf->first_day_of_week);
        if (zx_ical_read_rrule(c, prop, rf, "event", 1, local) < 0)
            return -1;
        if (fdw && !zx_pimconv_get(pr, rf->first_day_of_week))
            zx_pim_set(pr, rf->first_day_of_week, fdw);
        /* UNTIL: a date is its local midnight, a floating time the zone's wall clock */
        struct icalrecurrencetype r = icalproperty_get_rrule(prop);
        if (!icaltime_is_null_time(r.until) && !icaltime_is_utc(r.until)) {
            if (r.until.is_date)
                t = local_midnight(r.until, e->zone);
            else
                t = zx_ical_to_apr(icaltime_as_timet_with_zone(r.until, e->zone));
            zx_ical_set_time(c, rf->until, t);
        }
    }
    return 0;
}

/* ---- a series and its exceptions --------------------------------------------------------- */

static int same_value(const zx_pim_props *a, const zx_pim_props *b, zx_pim_field f)
{
    const apr_array_header_t *la = a->v[f].list, *lb = b->v[f].list;
    if (zx_pim_fields[f].type == ZX_PT_LIST) {
        int na = la ? la->nelts : 0, nb = lb ? lb->nelts : 0;
        if (na != nb)
            return 0;
        for (int i = 0; i < na; i++)
            if (strcmp(APR_ARRAY_IDX(la, i, const char *), APR_ARRAY_IDX(lb, i, const char *)))
                return 0;
        return 1;
    }
    const char *ta = zx_pimconv_get(a, f), *tb = zx_pimconv_get(b, f);
    return ta ? tb && strcmp(ta, tb) == 0 : !tb;
}

/* an exception from an override read as an event: its start and end, and the fields whose
 * value is not the series' */
static zx_pim_props *exception_of(apr_pool_t *p, const zx_pim_props *series,
                                  const zx_pim_props *ov, apr_time_t original)
{
    zx_pim_props *x = zx_pim_props_new(p, ZX_PIM_EXCEPTION);
    zx_pim_set(x, ZX_PF_EXCEPTION_EXCEPTION_START, zx_pimconv_time(p, original));
    const zx_pim_class_def *cd = &zx_pim_classes[ZX_PIM_EXCEPTION];
    for (int f = cd->first; f < (int)cd->last; f++) {
        if (f == ZX_PF_EXCEPTION_EXCEPTION_START || f == ZX_PF_EXCEPTION_DELETED ||
            f == ZX_PF_EXCEPTION_DTSTAMP)
            continue;
        int cf = zx_pim_field_by_column(ZX_PIM_CALENDAR, zx_pim_fields[f].column);
        if (cf < 0)
            continue;
        int always = f == ZX_PF_EXCEPTION_START || f == ZX_PF_EXCEPTION_END;
        if (!always && same_value(ov, series, (zx_pim_field)cf))
            continue;
        if (zx_pim_fields[f].type == ZX_PT_LIST)
            zx_pim_set_list(x, (zx_pim_field)f,
                            ov->v[cf].list ? ov->v[cf].list
                                           : apr_array_make(p, 1, sizeof(const char *)));
        else if (zx_pimconv_get(ov, (zx_pim_field)cf))
            zx_pim_set(x, (zx_pim_field)f, zx_pimconv_get(ov, (zx_pim_field)cf));
        else if (zx_pim_fields[f].type == ZX_PT_TEXT)
            zx_pim_set(x, (zx_pim_field)f, "");     /* the series has one, this one none */
    }
    return x;
}

static int by_start(const void *a, const void *b)
{
    const zx_pim_props *x = *(zx_pim_props *const *)a, *y = *(zx_pim_props *const *)b;
    return strcmp(zx_pim_get(x, ZX_PF_EXCEPTION_EXCEPTION_START),
                  zx_pim_get(y, ZX_PF_EXCEPTION_EXCEPTION_START));
}

/* add x unless an exception of that start is there (a deleted one wins) */
static void add_exception(zx_pim_props *ev, zx_pim_props *x)
{
    const char *s = zx_pim_get(x, ZX_PF_EXCEPTION_EXCEPTION_START);
    for (int i = 0; i < ev->exceptions->nelts; i++) {
        zx_pim_props **have = &APR_ARRAY_IDX(ev->exceptions, i, zx_pim_props *);
        if (strcmp(zx_pim_get(*have, ZX_PF_EXCEPTION_EXCEPTION_START), s) == 0) {
            if (zx_pimconv_get(x, ZX_PF_EXCEPTION_DELETED))
                *have = x;
            return;
        }
    }
    APR_ARRAY_PUSH(ev->exceptions, zx_pim_props *) = x;
}

static long line_of(const apr_array_header_t *lines, int i)
{
    return lines ? APR_ARRAY_IDX(lines, i, long) : 0;
}

/* the overrides of the series read in e (comps[i] with e's UID), then its EXDATEs */
static int read_exceptions(ectx *e, const apr_array_header_t *comps,
                           const apr_array_header_t *lines, const char *const *uids,
                           const int *is_override, int overrides)
{
    zx_pim_props *ev = e->c.pr;
    apr_pool_t *p = e->c.p;
    const char *uid = zx_pimconv_get(ev, FIELD(UID));
    int recurring = zx_pimconv_get(ev, FIELD(REC_TYPE)) != NULL;
    ev->exceptions = apr_array_make(p, 4, sizeof(zx_pim_props *));
    ev->exceptions_set = 1;
    icalcomponent *mcomp = e->c.comp;
    const char *series_tz = e->tzid;
    icaltimezone *series_zone = e->zone;
    for (int i = 0; overrides && uid && i < comps->nelts; i++) {
        if (!is_override[i] || !uids[i] || strcmp(uids[i], uid) != 0)
            continue;
        const char *where = apr_psprintf(p, "the RECURRENCE-ID VEVENT%s",
                                         lines ? apr_psprintf(p, " on line %ld",
                                                              line_of(lines, i))
                                               : "");
        if (!recurring) {
            zx_pimconv_warn(p, e->c.r, "%s: its series has no RRULE: dropped", where);
            continue;
        }
        icalcomponent *oc = APR_ARRAY_IDX(comps, i, icalcomponent *);
        icalproperty *rid = icalcomponent_get_first_property(oc, ICAL_RECURRENCEID_PROPERTY);
        zx_pim_record sub = {0};
        ectx oe = *e;
        oe.c.r = &sub;
        oe.c.comp = oc;
        oe.c.pr = zx_pim_props_new(p, ZX_PIM_CALENDAR);
        oe.tzid = series_tz;
        oe.zone = series_zone;
        apr_time_t original;
        if (read_dt(&oe, rid, icalproperty_get_recurrenceid(rid), &original, 0) < 0 ||
            read_event(&oe, 0) < 0)
            return zx_ical_rfail(&e->c, apr_psprintf(p, "%s: %s", where, sub.error));
        const char *range = icalproperty_get_parameter_as_string(rid, "RANGE");
        if (range && strcasecmp(range, "THISANDFUTURE") == 0)
            zx_pimconv_warn(p, e->c.r, "%s: RANGE=THISANDFUTURE: only that occurrence is "
                            "changed", where);
        for (int w = 0; sub.warnings && w < sub.warnings->nelts; w++)
            zx_pimconv_warn(p, e->c.r, "%s: %s", where,
                            APR_ARRAY_IDX(sub.warnings, w, const char *));
        add_exception(ev, exception_of(p, ev, oe.c.pr, original));
    }
    e->c.comp = mcomp;
    e->tzid = series_tz;
    e->zone = series_zone;
    for (icalproperty *prop = icalcomponent_get_first_property(mcomp, ICAL_EXDATE_PROPERTY);
         prop; prop = icalcomponent_get_next_property(mcomp, ICAL_EXDATE_PROPERTY)) {
        if (!recurring) {
            zx_pimconv_warn(p, e->c.r, "EXDATE of an event without RRULE: dropped");
            break;
        }
        apr_time_t t;
        if (read_dt(e, prop, icalproperty_get_exdate(prop), &t, 0) < 0)
            return -1;
        zx_pim_props *x = zx_pim_props_new(p, ZX_PIM_EXCEPTION);
        zx_pim_set(x, ZX_PF_EXCEPTION_EXCEPTION_START, zx_pimconv_time(p, t));
        zx_pim_set(x, ZX_PF_EXCEPTION_DELETED, "1");
        add_exception(ev, x);
    }
    if (ev->exceptions->nelts > 1)
        qsort(ev->exceptions->elts, (size_t)ev->exceptions->nelts, sizeof(zx_pim_props *),
              by_start);
    return 0;
}

void zx_ical_read_events(apr_pool_t *p, icalcomponent *root, const apr_array_header_t *comps,
                         const apr_array_header_t *lines, apr_array_header_t *records)
{
    int n = comps->nelts;
    const char **uids = apr_pcalloc(p, sizeof(const char *) * (size_t)(n + 1));
    int *is_override = apr_pcalloc(p, sizeof(int) * (size_t)(n + 1));
    apr_hash_t *masters = apr_hash_make(p);     /* UID -> "" for the series in the file */
    for (int i = 0; i < n; i++) {
        icalcomponent *comp = APR_ARRAY_IDX(comps, i, icalcomponent *);
        icalproperty *u = icalcomponent_get_first_property(comp, ICAL_UID_PROPERTY);
        uids[i] = u && icalproperty_get_uid(u) ? apr_pstrdup(p, icalproperty_get_uid(u)) : NULL;
        is_override[i] =
            icalcomponent_get_first_property(comp, ICAL_RECURRENCEID_PROPERTY) != NULL;
        if (!is_override[i] && uids[i])
            apr_hash_set(masters, uids[i], APR_HASH_KEY_STRING, "");
    }
    apr_hash_t *zones = apr_hash_make(p), *taken = apr_hash_make(p);
    const char *wr_tzid = NULL;
    if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT)
        for (icalproperty *x = icalcomponent_get_first_property(root, ICAL_X_PROPERTY); x;
             x = icalcomponent_get_next_property(root, ICAL_X_PROPERTY))
            if (strcasecmp(zx_ical_xname(x), "X-WR-TIMEZONE") == 0 && icalproperty_get_x(x))
                wr_tzid = builtin_name(icalproperty_get_x(x));
    if (wr_tzid)
        wr_tzid = apr_pstrdup(p, wr_tzid);
    int number = 0;
    for (int i = 0; i < n; i++) {
        int orphan = is_override[i] &&
                     !(uids[i] && apr_hash_get(masters, uids[i], APR_HASH_KEY_STRING));
        if (is_override[i] && !orphan)
            continue;   /* read with its series */
        zx_pim_record *r = apr_array_push(records);
        memset(r, 0, sizeof *r);
        r->number = ++number;
        r->line = line_of(lines, i);
        ectx e;
        memset(&e, 0, sizeof e);
        e.c.p = p;
        e.c.r = r;
        e.c.pr = zx_pim_props_new(p, ZX_PIM_CALENDAR);
        e.c.comp = APR_ARRAY_IDX(comps, i, icalcomponent *);
        e.root = root;
        e.zones = zones;
        e.wr_tzid = wr_tzid;
        if (orphan)
            zx_pimconv_warn(p, r, "a RECURRENCE-ID without its series in the file: imported "
                            "as a single event");
        if (read_event(&e, !orphan) < 0)
            continue;
        icalproperty *rid = orphan ? icalcomponent_get_first_property(
                                         e.c.comp, ICAL_RECURRENCEID_PROPERTY)
                                   : NULL;
        apr_time_t original;
        if (rid) {
            if (read_dt(&e, rid, icalproperty_get_recurrenceid(rid), &original, 0) < 0)
                continue;
            r->recurrence_id = zx_pimconv_time(p, original);
        }
        /* the first series of a UID takes its overrides; another one of the same UID none */
        if (!orphan) {
            int first = uids[i] && !apr_hash_get(taken, uids[i], APR_HASH_KEY_STRING);
            if (first)
                apr_hash_set(taken, uids[i], APR_HASH_KEY_STRING, "");
            if (read_exceptions(&e, comps, lines, uids, is_override, first) < 0)
                continue;
        }
        zx_pimcal_prepare(p, e.c.pr);
        r->props = e.c.pr;
    }
}
