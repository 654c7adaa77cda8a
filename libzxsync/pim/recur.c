/* zxmobile - the next occurrence of a recurring task (zxsync/pimconv.h zx_pim_task_next),
 * through libical's recurrence iterator over the task's RRULE (zx_pimconv_rrule).
 *
 * A task's dates are wall-clock times carried as UTC instants (StartDate, DueDate, the
 * recurrence's Start) beside their UTC forms (UtcStartDate, UtcDueDate): the rule runs on the
 * wall clock, and every date of the task moves by the distance from the current occurrence to
 * the next one. */
#include "pim_int.h"

#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STEPS 100000        /* occurrences walked to pass the current one */

static struct icaltimetype wall(apr_time_t t)
{
    return icaltime_from_timet_with_zone((time_t)apr_time_sec(t), 0, NULL);
}

static apr_time_t from_wall(struct icaltimetype t)
{
    return apr_time_from_sec((apr_time_t)icaltime_as_timet(t));
}

/* Regenerate: the interval after the completion, in the rule's unit */
static int regenerate(const zx_pim_props *task, int type, apr_time_t *next)
{
    apr_time_t done;
    if (!zx_pimconv_get_time(task, ZX_PF_TASK_DATE_COMPLETED, &done))
        return -1;
    const char *iv = zx_pimconv_get(task, ZX_PF_TASK_REC_INTERVAL);
    int n = iv && atoi(iv) > 0 ? atoi(iv) : 1;
    struct icaltimetype t = wall(done);
    switch (type) {
    case 0:
        icaltime_adjust(&t, n, 0, 0, 0);
        break;
    case 1:
        icaltime_adjust(&t, 7 * n, 0, 0, 0);
        break;
    case 2:
    case 3:
        t.month += n;
        t = icaltime_normalize(t);
        break;
    default:
        t.year += n;
        t = icaltime_normalize(t);
        break;
    }
    *next = from_wall(t);
    return 0;
}

int zx_pim_task_next(apr_pool_t *p, const zx_pim_props *task, zx_pim_props *next)
{
    const char *rule = zx_pimconv_rrule(p, task);
    if (!rule)
        return -1;
    int type = atoi(zx_pimconv_get(task, ZX_PF_TASK_REC_TYPE));
    /* the current occurrence: its start, else its due date, else the recurrence's start */
    apr_time_t cur;
    if (!zx_pimconv_get_time(task, ZX_PF_TASK_START_DATE, &cur) && !zx_pimconv_get_time(task, ZX_PF_TASK_DUE_DATE, &cur) &&
        !zx_pimconv_get_time(task, ZX_PF_TASK_REC_START, &cur))
        return -1;
    apr_time_t nx = 0;
    const char *regen = zx_pimconv_get(task, ZX_PF_TASK_REC_REGENERATE);
    if (regen && strcmp(regen, "1") == 0) {
        if (regenerate(task, type, &nx) < 0)
            return -1;
    }
    else {
        apr_time_t start;
        if (!zx_pimconv_get_time(task, ZX_PF_TASK_REC_START, &start))
            start = cur;
        struct icalrecurrencetype r = icalrecurrencetype_from_string(rule);
        if (r.freq == ICAL_NO_RECURRENCE)
            return -1;
        icalrecur_iterator *it = icalrecur_iterator_new(r, wall(start));
        if (!it)
            return -1;
        struct icaltimetype t;
        int steps = 0;
        for (t = icalrecur_iterator_next(it); !icaltime_is_null_time(t) && steps < MAX_STEPS;
             t = icalrecur_iterator_next(it), steps++)
            if (from_wall(t) > cur) {
                nx = from_wall(t);
                break;
            }
        icalrecur_iterator_free(it);
        if (!nx)
            return 1;
    }
    /* every date of the task moves as its current occurrence does */
    static const zx_pim_field moved[] = {ZX_PF_TASK_START_DATE, ZX_PF_TASK_UTC_START_DATE,
                                         ZX_PF_TASK_DUE_DATE, ZX_PF_TASK_UTC_DUE_DATE};
    apr_time_t delta = nx - cur;
    for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++) {
        apr_time_t t;
        if (zx_pimconv_get_time(task, moved[i], &t))
            zx_pim_set(next, moved[i], zx_pimconv_time(p, t + delta));
    }
    return 0;
}
