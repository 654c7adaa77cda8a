/* zxmobile - calendar events: their occurrences, through libical's recurrence iterator in the
 * event's time zone (libzxsync/pim/calendar.c).
 *
 * An event (zx_pim_props of class ZX_PIM_CALENDAR) has its StartTime and EndTime as UTC
 * instants, its IANA zone in TZID ("UTC" when none), and a recurrence in its REC_* fields: a
 * series repeats on the wall clock of its zone (a weekly 09:00 meeting in New York stays at
 * 09:00 local across daylight-saving changes, so its UTC instants move).  Exceptions name an
 * occurrence by its original start (EXCEPTION_START, a UTC instant): deleted, or with their
 * own start and end. */
#ifndef ZXSYNC_PIMCAL_H
#define ZXSYNC_PIMCAL_H

#include <apr_pools.h>
#include <apr_time.h>

#include <zxsync/pim.h>

/* One occurrence. */
typedef struct {
    apr_time_t original;        /* its start by the rule (what ExceptionStartTime names) */
    apr_time_t start, end;      /* as it takes place (an exception's own times) */
    const zx_pim_props *exception;  /* its exception, NULL when none */
} zx_pimcal_occurrence;

/* Called for each occurrence, in order of original start; return non-zero to stop. */
typedef int (*zx_pimcal_each)(const zx_pimcal_occurrence *o, void *baton);

/* The occurrences of ev whose original start lies in [from, to) (to 0 = no limit), deleted
 * ones skipped; at most ZX_PIMCAL_MAX_STEPS of the rule are walked.  A single event is one
 * occurrence.  0, or -1 when ev has no start. */
#define ZX_PIMCAL_MAX_STEPS 200000
int zx_pimcal_occurrences(apr_pool_t *p, const zx_pim_props *ev, apr_time_t from, apr_time_t to,
                          zx_pimcal_each each, void *baton);

/* Before an event is stored (by Sync, import, an invitation): sets LAST_END, the end of its
 * last occurrence (none for a series without end), which the store keeps as the item's window
 * key.  ev holds the whole event (a change merged with what was stored). */
void zx_pimcal_prepare(apr_pool_t *p, zx_pim_props *ev);

#endif
