/* zxmobile - what the iCalendar reader and writer of tasks and notes (ical.c, ical_write.c)
 * share with those of events (ical_event.c, ical_event_write.c). */
#ifndef ZX_ICAL_INT_H
#define ZX_ICAL_INT_H

#include "pim_int.h"

#include <apr_hash.h>
#include <libical/ical.h>

/* ---- reading ---------------------------------------------------------------------------- */

typedef struct {
    apr_pool_t *p;
    zx_pim_record *r;
    zx_pim_props *pr;
    icalcomponent *comp;
} zx_ical_rctx;

/* sets the record's error (the first one given); -1 */
int zx_ical_rfail(zx_ical_rctx *c, const char *msg);
apr_time_t zx_ical_to_apr(time_t t);
void zx_ical_set_time(zx_ical_rctx *c, zx_pim_field f, apr_time_t t);
/* an X- property's name ("" when none) and text */
const char *zx_ical_xname(icalproperty *prop);
const char *zx_ical_xtext(zx_ical_rctx *c, icalproperty *prop);
/* the first X-LIC-ERROR of comp or its subcomponents as the record's error: -1; else 0 */
int zx_ical_first_error(zx_ical_rctx *c, icalcomponent *comp);
/* SUMMARY, DESCRIPTION / X-ALT-DESC / X-ZXMOBILE-BODY-RTF, CATEGORIES */
void zx_ical_read_common(zx_ical_rctx *c, zx_pim_field subject, zx_pim_field body,
                         zx_pim_field body_type, zx_pim_field cats);
/* an RRULE into the recurrence fields rf of c->pr (noun: "task", "event" in the errors);
 * start_local is the wall clock of the start written as if it were UTC (the weekday, day and
 * month a rule without BYDAY / BYMONTHDAY / BYMONTH takes) */
int zx_ical_read_rrule(zx_ical_rctx *c, icalproperty *prop, const zx_pim_rec_fields *rf,
                       const char *noun, int have_start, apr_time_t start_local);
/* an INT (decimal, 32 bits) or BOOL ("0", "1") value as the store takes it; TEXT any */
int zx_ical_value_ok(zx_pim_type t, const char *v);
/* the components of that kind under comp, in order */
void zx_ical_collect(icalcomponent *comp, icalcomponent_kind kind, apr_array_header_t *out);
/* the lines "BEGIN:<name>" start on, in order */
apr_array_header_t *zx_ical_begin_lines(apr_pool_t *p, const char *data, apr_size_t len,
                                        const char *name);

/* VEVENTs of root (lines: the line of each VEVENT, in order, or NULL) as records of class
 * ZX_PIM_CALENDAR: a master with its RECURRENCE-ID overrides as exceptions (ical_event.c) */
void zx_ical_read_events(apr_pool_t *p, icalcomponent *root, const apr_array_header_t *comps,
                         const apr_array_header_t *lines, apr_array_header_t *records);

/* the event fields carried as X- properties of their own (ical_event.c) */
typedef struct {
    const char *name;
    zx_pim_field f;
} zx_ical_xprop;
extern const zx_ical_xprop zx_ical_event_xprops[];
extern const size_t zx_ical_event_nxprops;

/* the X-MICROSOFT-CDO-BUSYSTATUS names of BusyStatus 0-4 */
extern const char *const zx_ical_busy_names[5];
/* the MeetingStatus ([MS-ASCAL] 2.2.2.29) that an organizer or attendees (meeting) and
 * STATUS:CANCELLED say: 0 appointment, 3 meeting received, 5 cancelled, 7 cancelled received */
int zx_ical_meeting_status(int meeting, int cancelled);

/* ---- writing ---------------------------------------------------------------------------- */

struct zx_ical_writer {
    apr_pool_t *p;
    icalcomponent *cal;
    apr_array_header_t *items;  /* icalcomponent *: added after the time zones at the end */
    apr_hash_t *zones;          /* TZID -> "" for the zones already added */
};

struct icaltimetype zx_ical_utc_time(apr_time_t t, int is_date);
void zx_ical_add_x(icalcomponent *comp, const char *name, const char *value);
void zx_ical_add_common(zx_ical_writer *w, icalcomponent *comp, const zx_pim_props *pr,
                        zx_pim_field subject, zx_pim_field body, zx_pim_field body_type,
                        zx_pim_field cats);
/* a calendar event (and its exceptions: more VEVENTs) to w->items (ical_event_write.c) */
void zx_ical_add_event(zx_ical_writer *w, const zx_pim_props *ev, const char *uid);

#endif
