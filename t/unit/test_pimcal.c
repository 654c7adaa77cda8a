/* zxmobile - unit tests of calendar occurrences (libzxsync/pim/calendar.c, zxsync/pimcal.h):
 * a weekly series in New York stays at 09:00 local across both daylight-saving changes of a
 * year; exceptions move or delete occurrences; the end of the last occurrence (the window key)
 * for counted, until-bounded, endless and single events; every recurrence type.  Check, TAP;
 * run under valgrind by `./zx test`. */
#include <zxsync/pimcal.h>
#include <zxsync/pimconv.h>
#include <zxsync/pimtz.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tap_run.h"

static apr_pool_t *g_pool;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&g_pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(g_pool);
    g_pool = NULL;
}

static zx_pim_props *event(const char *tzid, const char *start, const char *end)
{
    zx_pim_props *ev = zx_pim_props_new(g_pool, ZX_PIM_CALENDAR);
    zx_pim_set(ev, ZX_PF_CALENDAR_TZID, tzid);
    zx_pim_set(ev, ZX_PF_CALENDAR_START, start);
    zx_pim_set(ev, ZX_PF_CALENDAR_END, end);
    return ev;
}

static void recur(zx_pim_props *ev, const char *type, const char *count, const char *until)
{
    zx_pim_set(ev, ZX_PF_CALENDAR_REC_TYPE, type);
    zx_pim_set(ev, ZX_PF_CALENDAR_REC_INTERVAL, "1");
    if (count)
        zx_pim_set(ev, ZX_PF_CALENDAR_REC_OCCURRENCES, count);
    if (until)
        zx_pim_set(ev, ZX_PF_CALENDAR_REC_UNTIL, until);
}

static void add_exception(zx_pim_props *ev, const char *original, const char *start,
                          const char *end, int deleted)
{
    zx_pim_props *x = zx_pim_props_new(g_pool, ZX_PIM_EXCEPTION);
    zx_pim_set(x, ZX_PF_EXCEPTION_EXCEPTION_START, original);
    if (deleted)
        zx_pim_set(x, ZX_PF_EXCEPTION_DELETED, "1");
    if (start)
        zx_pim_set(x, ZX_PF_EXCEPTION_START, start);
    if (end)
        zx_pim_set(x, ZX_PF_EXCEPTION_END, end);
    if (!ev->exceptions)
        ev->exceptions = apr_array_make(g_pool, 2, sizeof(zx_pim_props *));
    APR_ARRAY_PUSH(ev->exceptions, zx_pim_props *) = x;
}

typedef struct {
    int n;
    apr_time_t original[128], start[128], end[128];
    int excepted[128];
} seen;

static int collect(const zx_pimcal_occurrence *o, void *baton)
{
    seen *s = baton;
    if (s->n < 128) {
        s->original[s->n] = o->original;
        s->start[s->n] = o->start;
        s->end[s->n] = o->end;
        s->excepted[s->n] = o->exception != NULL;
    }
    s->n++;
    return 0;
}

static const char *iso(apr_time_t t)
{
    return zx_pimconv_time(g_pool, t);
}

START_TEST(test_weekly_new_york_keeps_local_time)
{
    /* Mondays 09:00 New York from 2026-01-05, 52 occurrences: daylight time from 2026-03-08
     * to 2026-11-01; every occurrence is 09:00 local */
    zx_pim_props *ev = event("America/New_York", "2026-01-05T14:00:00.000Z",
                             "2026-01-05T15:00:00.000Z");
    recur(ev, "1", "52", NULL);
    zx_pim_set(ev, ZX_PF_CALENDAR_REC_DAY_OF_WEEK, "2");
    seen s = {0};
    ck_assert_int_eq(zx_pimcal_occurrences(g_pool, ev, 0, 0, collect, &s), 0);
    ck_assert_int_eq(s.n, 52);
    for (int i = 0; i < s.n; i++) {
        apr_time_exp_t x;
        ck_assert_int_eq(zx_tz_utc_to_local("America/New_York", s.start[i], &x), 0);
        ck_assert_msg(x.tm_hour == 9 && x.tm_min == 0 && x.tm_wday == 1,
                      "occurrence %d at %s is %02d:%02d local, weekday %d", i,
                      iso(s.start[i]), x.tm_hour, x.tm_min, x.tm_wday);
        ck_assert(s.end[i] - s.start[i] == apr_time_from_sec(3600));
    }
    ck_assert_str_eq(iso(s.start[8]), "2026-03-02T14:00:00.000Z");    /* EST */
    ck_assert_str_eq(iso(s.start[9]), "2026-03-09T13:00:00.000Z");    /* EDT */
    ck_assert_str_eq(iso(s.start[42]), "2026-10-26T13:00:00.000Z");    /* EDT */
    ck_assert_str_eq(iso(s.start[43]), "2026-11-02T14:00:00.000Z");    /* EST again */
    zx_pimcal_prepare(g_pool, ev);
    ck_assert_str_eq(zx_pim_get(ev, ZX_PF_CALENDAR_LAST_END), "2026-12-28T15:00:00.000Z");
}
END_TEST

START_TEST(test_exceptions_move_and_delete)
{
    zx_pim_props *ev = event("Europe/Berlin", "2026-03-02T08:00:00.000Z",
                             "2026-03-02T09:00:00.000Z");
    recur(ev, "0", "5", NULL);     /* daily, 09:00 Berlin (CET) */
    add_exception(ev, "2026-03-03T08:00:00.000Z", NULL, NULL, 1);
    add_exception(ev, "2026-03-06T08:00:00.000Z", "2026-03-08T10:00:00.000Z",
                  "2026-03-08T12:00:00.000Z", 0);
    seen s = {0};
    ck_assert_int_eq(zx_pimcal_occurrences(g_pool, ev, 0, 0, collect, &s), 0);
    ck_assert_int_eq(s.n, 4);
    ck_assert_str_eq(iso(s.original[0]), "2026-03-02T08:00:00.000Z");
    ck_assert_str_eq(iso(s.original[1]), "2026-03-04T08:00:00.000Z");
    ck_assert_str_eq(iso(s.original[3]), "2026-03-06T08:00:00.000Z");
    ck_assert(s.excepted[3] && !s.excepted[0]);
    ck_assert_str_eq(iso(s.start[3]), "2026-03-08T10:00:00.000Z");
    ck_assert_str_eq(iso(s.end[3]), "2026-03-08T12:00:00.000Z");
    /* the moved occurrence ends the series */
    zx_pim_props *copy = apr_pmemdup(g_pool, ev, sizeof *ev);
    zx_pimcal_prepare(g_pool, copy);
    ck_assert_str_eq(zx_pim_get(copy, ZX_PF_CALENDAR_LAST_END), "2026-03-08T12:00:00.000Z");
    /* a range: only the occurrences that start in it */
    apr_time_t from, to;
    ck_assert_int_eq(zx_pimconv_parse_time("2026-03-04T00:00:00Z", &from), 0);
    ck_assert_int_eq(zx_pimconv_parse_time("2026-03-06T00:00:00Z", &to), 0);
    seen r = {0};
    ck_assert_int_eq(zx_pimcal_occurrences(g_pool, ev, from, to, collect, &r), 0);
    ck_assert_int_eq(r.n, 2);
}
END_TEST

START_TEST(test_last_end)
{
    /* a single event */
    zx_pim_props *ev = event("UTC", "2026-12-08T15:00:00.000Z", "2026-12-08T16:30:00.000Z");
    zx_pimcal_prepare(g_pool, ev);
    ck_assert_str_eq(zx_pim_get(ev, ZX_PF_CALENDAR_LAST_END), "2026-12-08T16:30:00.000Z");
    /* endless: none */
    ev = event("UTC", "2020-01-06T15:00:00.000Z", "2020-01-06T16:00:00.000Z");
    recur(ev, "0", NULL, NULL);
    zx_pimcal_prepare(g_pool, ev);
    ck_assert_ptr_null(zx_pim_get(ev, ZX_PF_CALENDAR_LAST_END));
    ck_assert(ev->set[ZX_PF_CALENDAR_LAST_END]);
    /* until: the last occurrence on or before it */
    ev = event("America/New_York", "2026-10-05T13:00:00.000Z", "2026-10-05T14:00:00.000Z");
    recur(ev, "1", NULL, "2026-11-16T14:00:00.000Z");
    zx_pim_set(ev, ZX_PF_CALENDAR_REC_DAY_OF_WEEK, "2");
    zx_pimcal_prepare(g_pool, ev);
    ck_assert_str_eq(zx_pim_get(ev, ZX_PF_CALENDAR_LAST_END), "2026-11-16T15:00:00.000Z");
    /* every occurrence deleted: placed at its start */
    ev = event("UTC", "2026-12-08T15:00:00.000Z", "2026-12-08T16:00:00.000Z");
    recur(ev, "0", "1", NULL);
    add_exception(ev, "2026-12-08T15:00:00.000Z", NULL, NULL, 1);
    zx_pimcal_prepare(g_pool, ev);
    ck_assert_str_eq(zx_pim_get(ev, ZX_PF_CALENDAR_LAST_END), "2026-12-08T15:00:00.000Z");
}
END_TEST

/* each recurrence type: the n-th occurrence (UTC zone, so the instants are the wall clock) */
START_TEST(test_every_type)
{
    static const struct {
        const char *type, *dow, *dom, *week, *month, *start, *last;
    } c[] = {
        /* daily, 4 */
        {"0", NULL, NULL, NULL, NULL, "2026-12-08T10:00:00.000Z", "2026-12-11T11:00:00.000Z"},
        /* weekly Tuesday and Thursday, 4: Dec 8, 10, 15, 17 */
        {"1", "20", NULL, NULL, NULL, "2026-12-08T10:00:00.000Z", "2026-12-17T11:00:00.000Z"},
        /* monthly on the 31st, 4: Dec 31, Jan 31, Mar 31, May 31 (months without one skipped) */
        {"2", NULL, "31", NULL, NULL, "2026-12-31T10:00:00.000Z", "2027-05-31T11:00:00.000Z"},
        /* monthly, last Friday, 4: Dec 25, Jan 29, Feb 26, Mar 26 */
        {"3", "32", NULL, "5", NULL, "2026-12-25T10:00:00.000Z", "2027-03-26T11:00:00.000Z"},
        /* yearly on 8 December, 4 */
        {"5", NULL, "8", NULL, "12", "2026-12-08T10:00:00.000Z", "2029-12-08T11:00:00.000Z"},
        /* yearly, second Sunday of May, 4: 2027-05-09, 2028-05-14, 2029-05-13, 2030-05-12 */
        {"6", "1", NULL, "2", "5", "2027-05-09T10:00:00.000Z", "2030-05-12T11:00:00.000Z"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        apr_time_t s;
        ck_assert_int_eq(zx_pimconv_parse_time(c[i].start, &s), 0);
        zx_pim_props *ev = event("UTC", c[i].start, iso(s + apr_time_from_sec(3600)));
        recur(ev, c[i].type, "4", NULL);
        if (c[i].dow)
            zx_pim_set(ev, ZX_PF_CALENDAR_REC_DAY_OF_WEEK, c[i].dow);
        if (c[i].dom)
            zx_pim_set(ev, ZX_PF_CALENDAR_REC_DAY_OF_MONTH, c[i].dom);
        if (c[i].week)
            zx_pim_set(ev, ZX_PF_CALENDAR_REC_WEEK_OF_MONTH, c[i].week);
        if (c[i].month)
            zx_pim_set(ev, ZX_PF_CALENDAR_REC_MONTH_OF_YEAR, c[i].month);
        zx_pimcal_prepare(g_pool, ev);
        ck_assert_msg(zx_pim_get(ev, ZX_PF_CALENDAR_LAST_END) &&
                      strcmp(zx_pim_get(ev, ZX_PF_CALENDAR_LAST_END), c[i].last) == 0,
                      "type %s: last end %s, expected %s", c[i].type,
                      zx_pim_get(ev, ZX_PF_CALENDAR_LAST_END), c[i].last);
    }
}
END_TEST

int main(void)
{
    apr_initialize();
    Suite *s = suite_create("pimcal");
    TCase *tc = tcase_create("pimcal");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_weekly_new_york_keeps_local_time);
    tcase_add_test(tc, test_exceptions_move_and_delete);
    tcase_add_test(tc, test_last_end);
    tcase_add_test(tc, test_every_type);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
