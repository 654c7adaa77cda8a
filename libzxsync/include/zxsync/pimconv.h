/* zxmobile - contacts, tasks, notes and calendar events to and from files (zxsuite
 * contacts|tasks|notes|calendar import/export): vCard 2.1/3.0/4.0 in, vCard 4.0 out
 * (libzxsync/pim/vcard*.c, a parser of our own: README says why); iCalendar VTODO, VJOURNAL
 * and VEVENT in and out through libical (libzxsync/pim/ical*.c; events: ical_event.c says how
 * zones, recurrences and exceptions map); a plain text file as one note.  No database, no EAS state: values
 * are zx_pim_props (zxsync/pim.h) in their ActiveSync form.
 *
 * Reading never stops at a bad record: every record of the file comes back, either with its
 * properties or with the reason it could not be read (a record that is not readable as a
 * whole is never half read).  Whole-file errors (not a vCard / iCalendar file at all) return
 * -1 with *err.
 *
 * Dates: a vCard BDAY or ANNIVERSARY date is stored as midnight UTC of that date (as
 * Exchange does); a date without a year (--MMDD) gets the year 1604 (as Apple and Android
 * store it).  A stored instant is written back as the date whose midnight UTC is nearest to it,
 * so that a birthday a device stored as local midnight of a zone between UTC-11 and UTC+11
 * keeps its day; the year 1604 is written as --MMDD.  Task dates: see ical.c. */
#ifndef ZXSYNC_PIMCONV_H
#define ZXSYNC_PIMCONV_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include <zxsync/pim.h>

/* One record of a file. */
typedef struct {
    int number;                 /* 1 for the first record of the file */
    long line;                  /* the line it starts on (1-based) */
    zx_pim_props *props;        /* NULL when it could not be read */
    const char *error;          /* why it could not be read (props NULL) */
    apr_array_header_t *warnings;   /* const char *: what of it was dropped; NULL = nothing */
    /* a calendar event as an iTIP message (RFC 5546) carries it: the object's METHOD ("REQUEST",
     * NULL: none), the event's SEQUENCE (decimal text, NULL: none), whether an ATTENDEE asks
     * for a reply (RSVP=TRUE), X-MICROSOFT-CDO-INTENDEDSTATUS as a BusyStatus 0-4 (decimal
     * text, NULL: none), and the RECURRENCE-ID of an occurrence sent without its series (read
     * as a single event: an [MS-ASDTYPE] dateTime, NULL: none) */
    const char *method;
    const char *sequence;
    int rsvp;
    const char *intended_busy;
    const char *recurrence_id;
} zx_pim_record;

/* vCard 2.1, 3.0 and 4.0 (RFC 2426, RFC 6350): every BEGIN:VCARD..END:VCARD of data as a
 * zx_pim_record (ZX_PIM_CONTACT).  -1 (*err) when data holds no vCard at all. */
int zx_vcard_read(apr_pool_t *p, const char *data, apr_size_t len, apr_array_header_t **records,
                  const char **err);

/* One contact as a vCard 4.0 (CRLF lines folded at 75 octets); uid NULL = no UID line. */
const char *zx_vcard_write(apr_pool_t *p, const zx_pim_props *contact, const char *uid);

/* iCalendar (RFC 5545): every VTODO (cls ZX_PIM_TASK) or VJOURNAL (ZX_PIM_NOTE) of data as a
 * zx_pim_record; for ZX_PIM_CALENDAR every event: a VEVENT without RECURRENCE-ID with, as its
 * exceptions, its EXDATEs and the VEVENTs of its UID with a RECURRENCE-ID (a record's line is
 * the line of its first VEVENT), each prepared by zx_pimcal_prepare (LAST_END set).  -1 (*err)
 * when data is not iCalendar or holds none of those components. */
int zx_ical_read(apr_pool_t *p, zx_pim_class cls, const char *data, apr_size_t len,
                 apr_array_header_t **records, const char **err);

/* An iCalendar object made of tasks, notes or events: new, one add per item (uid NULL = none;
 * an event's own UID field comes first), then finish gives the text (CRLF lines).  An event is
 * a VEVENT and one more per changed occurrence, and its zone's VTIMEZONE once per object. */
typedef struct zx_ical_writer zx_ical_writer;
zx_ical_writer *zx_ical_writer_new(apr_pool_t *p);
void zx_ical_writer_add(zx_ical_writer *w, const zx_pim_props *item, const char *uid);
const char *zx_ical_writer_finish(zx_ical_writer *w);

/* A plain text file as one note: its first non-empty line is the subject, the rest the body
 * (plain text).  The record's error says why when it is not UTF-8 text. */
zx_pim_record zx_note_from_text(apr_pool_t *p, const char *data, apr_size_t len);

/* Whether data looks like iCalendar (starts with BEGIN:VCALENDAR after blanks). */
int zx_pimconv_is_ical(const char *data, apr_size_t len);

/* A recurring task's next occurrence, when one of its occurrences is completed (as Exchange
 * does with a recurring task marked complete: that occurrence becomes a completed one-off
 * task, the series moves on): sets in next the StartDate, UtcStartDate, DueDate and
 * UtcDueDate of the occurrence after the task's current one (Regenerate 1: counted from its
 * DateCompleted), each moved by the same amount.  0, 1 when the recurrence has no further
 * occurrence, -1 when task has no usable recurrence.  libical's recurrence iterator. */
int zx_pim_task_next(apr_pool_t *p, const zx_pim_props *task, zx_pim_props *next);

/* [MS-ASDTYPE] dateTime <-> apr_time_t (UTC): "2026-12-07T10:00:00.000Z"; parse accepts the
 * forms without milliseconds and without dashes/colons ("20261207T100000Z").  0 / -1. */
const char *zx_pimconv_time(apr_pool_t *p, apr_time_t t);
int zx_pimconv_parse_time(const char *s, apr_time_t *t);

#endif
