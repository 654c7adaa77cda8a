/* zxmobile - the occurrences of calendar events (zxsync/pimcal.h): libical's recurrence
 * iterator run on the wall clock of the event's zone. */
#include "pim_int.h"

#include <zxsync/pimcal.h>

#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>

/* the event's zone: libical's built-in zone of its IANA name, UTC when none or unknown */
static icaltimezone *zone_of(const zx_pim_props *ev)
{
    const char *tzid = zx_pimconv_get(ev, ZX_PF_CALENDAR_TZID);
    icaltimezone *z = tzid && strcmp(tzid, "UTC") != 0 ? icaltimezone_get_builtin_timezone(tzid)
                                                       : NULL;
    return z ? z : icaltimezone_get_utc_timezone();
}

typedef struct {
    apr_time_t original;
    const zx_pim_props *props;
} exc_at;

static apr_array_header_t *exceptions_of(apr_pool_t *p, const zx_pim_props *ev)
{
    apr_array_header_t *a = apr_array_make(p, ev->exceptions ? ev->exceptions->nelts : 1,
                                           sizeof(exc_at));
    for (int i = 0; ev->exceptions && i < ev->exceptions->nelts; i++) {
        const zx_pim_props *e = APR_ARRAY_IDX(ev->exceptions, i, const zx_pim_props *);
        exc_at *x = apr_array_push(a);
        x->props = e;
        if (!zx_pimconv_get_time(e, ZX_PF_EXCEPTION_EXCEPTION_START, &x->original))
            a->nelts--;
    }
    return a;
}

/* an occurrence as it takes place; 1 when it is deleted */
static int occurrence(const apr_array_header_t *exc, apr_time_t original, apr_time_t duration,
                      zx_pimcal_occurrence *o)
{
    o->original = o->start = original;
    o->end = original + duration;
    o->exception = NULL;
    for (int i = 0; i < exc->nelts; i++) {
        const exc_at *x = &APR_ARRAY_IDX(exc, i, exc_at);
        if (x->original != original)
            continue;
        o->exception = x->props;
        const char *del = zx_pimconv_get(x->props, ZX_PF_EXCEPTION_DELETED);
        if (del && strcmp(del, "1") == 0)
            return 1;
        apr_time_t t;
        if (zx_pimconv_get_time(x->props, ZX_PF_EXCEPTION_START, &t))
            o->start = t;
        o->end = o->start + duration;
        if (zx_pimconv_get_time(x->props, ZX_PF_EXCEPTION_END, &t) && t >= o->start)
            o->end = t;
        break;
    }
    return 0;
}

/* walk the rule; 0 done, 1 stopped by each, 2 the walk ran out of steps, -1 no start */
static int walk(apr_pool_t *p, const zx_pim_props *ev, apr_time_t from, apr_time_t to,
                zx_pimcal_each each, void *baton)
{
    apr_time_t start, end;
    if (!zx_pimconv_get_time(ev, ZX_PF_CALENDAR_START, &start))
        return -1;
    if (!zx_pimconv_get_time(ev, ZX_PF_CALENDAR_END, &end) || end < start)
        end = start;
    apr_array_header_t *exc = exceptions_of(p, ev);
    zx_pimcal_occurrence o;
    const char *rule = zx_pimconv_rrule(p, ev);
    struct icalrecurrencetype r;
    if (rule)
        r = icalrecurrencetype_from_string(rule);
    if (!rule || r.freq == ICAL_NO_RECURRENCE) {
        if (start < from || (to && start >= to))
            return 0;
        if (occurrence(exc, start, end - start, &o))
            return 0;
        return each(&o, baton) ? 1 : 0;
    }
    icaltimezone *z = zone_of(ev);
    struct icaltimetype dt = icaltime_from_timet_with_zone((time_t)apr_time_sec(start), 0, z);
    /* libical 3.0's iterator compares UNTIL with the occurrences' wall clock as written (a
     * Berlin 00:00 occurrence is "after" an UNTIL of 22:00Z the day before, which is that very
     * instant): UNTIL as the zone's wall clock too */
    if (!icaltime_is_null_time(r.until) && !r.until.is_date)
        r.until = icaltime_from_timet_with_zone(icaltime_as_timet(r.until), 0, z);
    icalrecur_iterator *it = icalrecur_iterator_new(r, dt);
    if (!it)
        return -1;
    int rc = 0, steps = 0;
    for (struct icaltimetype t = icalrecur_iterator_next(it); !icaltime_is_null_time(t);
         t = icalrecur_iterator_next(it)) {
        if (++steps > ZX_PIMCAL_MAX_STEPS) {
            rc = 2;
            break;
        }
        t.zone = z;
        apr_time_t original = apr_time_from_sec((apr_time_t)icaltime_as_timet_with_zone(t, z));
        if (to && original >= to)
            break;
        if (original < from)
            continue;
        if (occurrence(exc, original, end - start, &o))
            continue;
        if (each(&o, baton)) {
            rc = 1;
            break;
        }
    }
    icalrecur_iterator_free(it);
    return rc;
}

int zx_pimcal_occurrences(apr_pool_t *p, const zx_pim_props *ev, apr_time_t from, apr_time_t to,
                          zx_pimcal_each each, void *baton)
{
    return walk(p, ev, from, to, each, baton) < 0 ? -1 : 0;
}

static int latest_end(const zx_pimcal_occurrence *o, void *baton)
{
    apr_time_t *last = baton;
    if (o->end > *last)
        *last = o->end;
    return 0;
}

void zx_pimcal_prepare(apr_pool_t *p, zx_pim_props *ev)
{
    const zx_pim_rec_fields *rf = zx_pim_rec_of(ZX_PIM_CALENDAR);
    int bounded = !zx_pimconv_get(ev, rf->type) || zx_pimconv_get(ev, rf->occurrences) ||
                  zx_pimconv_get(ev, rf->until);
    apr_time_t last = 0;
    int rc = bounded ? walk(p, ev, 0, 0, latest_end, &last) : 2;
    if (rc == 2)
        zx_pim_set(ev, ZX_PF_CALENDAR_LAST_END, NULL);     /* no end (or none we can reach) */
    else if (last)
        zx_pim_set(ev, ZX_PF_CALENDAR_LAST_END, zx_pimconv_time(p, last));
    else {
        /* no occurrence at all (every one deleted, or no start): its start keeps it placed */
        apr_time_t start;
        zx_pim_set(ev, ZX_PF_CALENDAR_LAST_END,
                   zx_pimconv_get_time(ev, ZX_PF_CALENDAR_START, &start) ? zx_pimconv_time(p, start) : NULL);
    }
}
