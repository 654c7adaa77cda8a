/* zxmobile - unit tests of the iCalendar VEVENT converter (libzxsync/pim/ical_event.c,
 * ical_event_write.c): every recurrence pattern with COUNT and UNTIL, EXDATE and RECURRENCE-ID
 * exceptions, all-day events, zones (IANA, prefixed, X-LIC-LOCATION, a Windows name matched by
 * its offsets or by name, unknown, floating), attendees and organizer, errors with their record; every
 * event written, read back and written again gives the same values and the same text.  Check,
 * TAP. */
#include <zxsync/pimcal.h>
#include <zxsync/pimconv.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <check.h>
#include <stdio.h>
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

#define G(pr, f) zx_pim_get((pr), ZX_PF_CALENDAR_##f)
#define X(pr, f) zx_pim_get((pr), ZX_PF_EXCEPTION_##f)

static const char *cal(const char *body)
{
    return apr_pstrcat(g_pool, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n", body,
                       "END:VCALENDAR\r\n", NULL);
}

/* one VEVENT with a UID and a DTSTAMP */
static const char *vevent(const char *props)
{
    return apr_pstrcat(g_pool, "BEGIN:VEVENT\r\nUID:u1@example.com\r\n"
                       "DTSTAMP:20260101T000000Z\r\n", props, "END:VEVENT\r\n", NULL);
}

static apr_array_header_t *readall(const char *text)
{
    apr_array_header_t *r = NULL;
    const char *err = NULL;
    ck_assert_msg(zx_ical_read(g_pool, ZX_PIM_CALENDAR, text, strlen(text), &r, &err) == 0,
                  "%s", err);
    return r;
}

static zx_pim_record *rec(apr_array_header_t *a, int i)
{
    ck_assert_int_gt(a->nelts, i);
    return &APR_ARRAY_IDX(a, i, zx_pim_record);
}

static int nwarn(const zx_pim_record *r)
{
    return r->warnings ? r->warnings->nelts : 0;
}

static const char *warn(const zx_pim_record *r, int i)
{
    ck_assert_int_gt(nwarn(r), i);
    return APR_ARRAY_IDX(r->warnings, i, const char *);
}

static zx_pim_props *one(const char *text)
{
    apr_array_header_t *a = readall(text);
    ck_assert_int_eq(a->nelts, 1);
    ck_assert_msg(rec(a, 0)->props != NULL, "%s", rec(a, 0)->error);
    return rec(a, 0)->props;
}

static const char *write_all(const zx_pim_props *const *evs, int n)
{
    zx_ical_writer *w = zx_ical_writer_new(g_pool);
    for (int i = 0; i < n; i++)
        zx_ical_writer_add(w, evs[i], "gen@example.com");
    return zx_ical_writer_finish(w);
}

static const char *write1(const zx_pim_props *ev)
{
    return write_all(&ev, 1);
}

static void assert_same_props(const zx_pim_props *a, const zx_pim_props *b)
{
    ck_assert_int_eq(a->cls, b->cls);
    const zx_pim_class_def *c = &zx_pim_classes[a->cls];
    for (int f = c->first; f < (int)c->last; f++) {
        const char *col = zx_pim_fields[f].column;
        if (a->v[f].list || b->v[f].list) {
            ck_assert_msg(a->v[f].list && b->v[f].list, "%s: a list on one side only", col);
            ck_assert_int_eq(a->v[f].list->nelts, b->v[f].list->nelts);
            for (int i = 0; i < a->v[f].list->nelts; i++)
                ck_assert_str_eq(APR_ARRAY_IDX(a->v[f].list, i, const char *),
                                 APR_ARRAY_IDX(b->v[f].list, i, const char *));
        }
        else {
            const char *x = a->v[f].text, *y = b->v[f].text;
            ck_assert_msg((!x && !y) || (x && y && strcmp(x, y) == 0), "%s: \"%s\" vs \"%s\"",
                          col, x ? x : "(none)", y ? y : "(none)");
        }
    }
    int na = a->exceptions ? a->exceptions->nelts : 0, nb = b->exceptions ? b->exceptions->nelts
                                                                            : 0;
    ck_assert_int_eq(na, nb);
    for (int i = 0; i < na; i++)
        assert_same_props(APR_ARRAY_IDX(a->exceptions, i, const zx_pim_props *),
                          APR_ARRAY_IDX(b->exceptions, i, const zx_pim_props *));
}

/* written, read back: the same values; written again: the same text */
static const char *round_trip(const zx_pim_props *ev)
{
    const char *t1 = write1(ev);
    zx_pim_props *back = one(t1);
    assert_same_props(ev, back);
    const char *t2 = write1(back);
    ck_assert_str_eq(t1, t2);
    return t1;
}

static int contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* a rule's parts, sorted and joined again (libical writes them in an order of its own) */
static const char *sorted_rule(const char *rule)
{
    apr_array_header_t *a = apr_array_make(g_pool, 8, sizeof(const char *));
    char *last, *copy = apr_pstrdup(g_pool, rule);
    for (char *t = apr_strtok(copy, ";", &last); t; t = apr_strtok(NULL, ";", &last))
        APR_ARRAY_PUSH(a, const char *) = t;
    qsort(a->elts, (size_t)a->nelts, sizeof(const char *), by_str);
    return apr_array_pstrcat(g_pool, a, ';');
}

/* the RRULE of the first VEVENT of text */
static const char *event_rrule(const char *text)
{
    const char *s = strstr(text, "BEGIN:VEVENT");
    ck_assert_ptr_nonnull(s);
    s = strstr(s, "\r\nRRULE:");
    ck_assert_ptr_nonnull(s);
    s += 8;
    return apr_pstrndup(g_pool, s, strcspn(s, "\r"));
}

/* ---- recurrences ------------------------------------------------------------------------- */

typedef struct {
    const char *rrule;
    const char *type, *interval, *dow, *wom, *dom, *moy, *occ, *until, *last_end;
} pattern;

START_TEST(test_recurrence_patterns)
{
    /* every series starts Monday 2026-03-02 09:00 in New York (14:00Z; 13:00Z after DST) */
    static const pattern pats[] = {
        {"FREQ=DAILY;INTERVAL=2;COUNT=5", "0", "2", NULL, NULL, NULL, NULL, "5", NULL,
         "2026-03-10T14:00:00.000Z"},
        /* UNTIL an hour before the 10th's 09:00 EDT (13:00Z), which the wall clock is not */
        {"FREQ=DAILY;UNTIL=20260310T120000Z", "0", "1", NULL, NULL, NULL, NULL, NULL,
         "2026-03-10T12:00:00.000Z", "2026-03-09T14:00:00.000Z"},
        {"FREQ=WEEKLY;COUNT=6;BYDAY=MO,WE,FR", "1", "1", "42", NULL, NULL, NULL, "6", NULL,
         "2026-03-13T14:00:00.000Z"},
        {"FREQ=WEEKLY;INTERVAL=2;UNTIL=20260331T000000Z;BYDAY=TU,TH", "1", "2", "20", NULL, NULL,
         NULL, NULL, "2026-03-31T00:00:00.000Z", "2026-03-19T14:00:00.000Z"},
        {"FREQ=MONTHLY;COUNT=4;BYMONTHDAY=15", "2", "1", NULL, NULL, "15", NULL, "4", NULL,
         "2026-06-15T14:00:00.000Z"},
        {"FREQ=MONTHLY;UNTIL=20260701T000000Z;BYMONTHDAY=2", "2", "1", NULL, NULL, "2", NULL,
         NULL, "2026-07-01T00:00:00.000Z", "2026-06-02T14:00:00.000Z"},
        {"FREQ=MONTHLY;COUNT=3;BYDAY=2TU", "3", "1", "4", "2", NULL, NULL, "3", NULL,
         "2026-05-12T14:00:00.000Z"},
        {"FREQ=MONTHLY;UNTIL=20260601T000000Z;BYDAY=-1FR", "3", "1", "32", "5", NULL, NULL, NULL,
         "2026-06-01T00:00:00.000Z", "2026-05-29T14:00:00.000Z"},
        /* the last day of the month: DayOfWeek 127 in the last week */
        {"FREQ=MONTHLY;COUNT=3;BYMONTHDAY=-1", "3", "1", "127", "5", NULL, NULL, "3", NULL,
         "2026-05-31T14:00:00.000Z"},
        {"FREQ=YEARLY;COUNT=3;BYMONTH=3;BYMONTHDAY=2", "5", "1", NULL, NULL, "2", "3", "3", NULL,
         "2028-03-02T15:00:00.000Z"},
        {"FREQ=YEARLY;UNTIL=20290101T000000Z", "5", "1", NULL, NULL, "2", "3", NULL,
         "2029-01-01T00:00:00.000Z", "2028-03-02T15:00:00.000Z"},
        {"FREQ=YEARLY;COUNT=2;BYDAY=4TH;BYMONTH=11", "6", "1", "16", "4", NULL, "11", "2", NULL,
         "2027-11-25T15:00:00.000Z"},
        {"FREQ=YEARLY;UNTIL=20280101T000000Z;BYDAY=-1MO;BYMONTH=5", "6", "1", "2", "5", NULL,
         "5", NULL, "2028-01-01T00:00:00.000Z", "2027-05-31T14:00:00.000Z"},
    };
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        const pattern *t = &pats[i];
        zx_pim_props *ev = one(cal(vevent(apr_pstrcat(
            g_pool, "SUMMARY:p\r\nDTSTART;TZID=America/New_York:20260302T090000\r\n"
            "DTEND;TZID=America/New_York:20260302T100000\r\nRRULE:", t->rrule, "\r\n", NULL))));
#define CHECK(f, want)                                                                         \
    do {                                                                                       \
        const char *got = G(ev, f);                                                            \
        ck_assert_msg((want) ? got && strcmp(got, (want)) == 0 : got == NULL,                  \
                      "%s: %s is \"%s\", not \"%s\"", t->rrule, #f, got ? got : "(none)",     \
                      (want) ? (want) : "(none)");                                             \
    } while (0)
        CHECK(REC_TYPE, t->type);
        CHECK(REC_INTERVAL, t->interval);
        CHECK(REC_DAY_OF_WEEK, t->dow);
        CHECK(REC_WEEK_OF_MONTH, t->wom);
        CHECK(REC_DAY_OF_MONTH, t->dom);
        CHECK(REC_MONTH_OF_YEAR, t->moy);
        CHECK(REC_OCCURRENCES, t->occ);
        CHECK(REC_UNTIL, t->until);
        CHECK(LAST_END, t->last_end);
        CHECK(TZID, "America/New_York");
        CHECK(START, "2026-03-02T14:00:00.000Z");
#undef CHECK
        const char *text = round_trip(ev);
        /* as it was, but a yearly rule gets its month and day from the start */
        const char *want = sorted_rule(t->rrule), *got = sorted_rule(event_rrule(text));
        if (strncmp(t->rrule, "FREQ=YEARLY", 11) == 0 && !strstr(t->rrule, "BYMONTH"))
            want = sorted_rule(apr_pstrcat(g_pool, t->rrule, ";BYMONTH=3;BYMONTHDAY=2", NULL));
        ck_assert_str_eq(got, want);
    }
}
END_TEST

START_TEST(test_series_with_exceptions)
{
    const char *text = cal(apr_pstrcat(g_pool,
        vevent("SUMMARY:Team sync\r\nLOCATION:Room 1\r\nDESCRIPTION:Weekly\r\n"
               "DTSTART;TZID=America/New_York:20260302T090000\r\n"
               "DTEND;TZID=America/New_York:20260302T100000\r\n"
               "RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO\r\n"
               "EXDATE;TZID=America/New_York:20260316T090000,20260406T090000\r\n"
               "CATEGORIES:Work\r\n"),
        "BEGIN:VEVENT\r\nUID:u1@example.com\r\nDTSTAMP:20260101T000000Z\r\n"
        "RECURRENCE-ID;TZID=America/New_York:20260323T090000\r\nSUMMARY:Moved\r\n"
        "LOCATION:Room 1\r\nDESCRIPTION:Weekly\r\nCATEGORIES:Work\r\n"
        "DTSTART;TZID=America/New_York:20260324T110000\r\n"
        "DTEND;TZID=America/New_York:20260324T113000\r\nEND:VEVENT\r\n"
        /* the last occurrence moved a day later: the series ends then */
        "BEGIN:VEVENT\r\nUID:u1@example.com\r\nDTSTAMP:20260101T000000Z\r\n"
        "RECURRENCE-ID:20260504T130000Z\r\nSUMMARY:Team sync\r\n"
        "DTSTART;TZID=America/New_York:20260505T090000\r\n"
        "DTEND;TZID=America/New_York:20260505T100000\r\nEND:VEVENT\r\n", NULL));
    apr_array_header_t *a = readall(text);
    ck_assert_int_eq(a->nelts, 1);
    zx_pim_props *ev = rec(a, 0)->props;
    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(rec(a, 0)->line, 4);
    ck_assert_int_eq(nwarn(rec(a, 0)), 0);
    ck_assert_ptr_nonnull(ev->exceptions);
    ck_assert_int_eq(ev->exceptions->nelts, 4);
    ck_assert(ev->exceptions_set);
    const zx_pim_props *x[4];
    for (int i = 0; i < 4; i++)
        x[i] = APR_ARRAY_IDX(ev->exceptions, i, const zx_pim_props *);
    ck_assert_int_eq(x[0]->cls, ZX_PIM_EXCEPTION);
    ck_assert_str_eq(X(x[0], EXCEPTION_START), "2026-03-16T13:00:00.000Z");
    ck_assert_str_eq(X(x[0], DELETED), "1");
    ck_assert_ptr_null(X(x[0], SUBJECT));
    ck_assert_str_eq(X(x[1], EXCEPTION_START), "2026-03-23T13:00:00.000Z");
    ck_assert_ptr_null(X(x[1], DELETED));
    ck_assert_str_eq(X(x[1], SUBJECT), "Moved");
    ck_assert_str_eq(X(x[1], START), "2026-03-24T15:00:00.000Z");
    ck_assert_str_eq(X(x[1], END), "2026-03-24T15:30:00.000Z");
    /* the same as the series': not the exception's own */
    ck_assert_ptr_null(X(x[1], LOCATION));
    ck_assert_ptr_null(X(x[1], BODY));
    ck_assert_ptr_null(x[1]->v[ZX_PF_EXCEPTION_CATEGORIES].list);
    ck_assert_str_eq(X(x[2], EXCEPTION_START), "2026-04-06T13:00:00.000Z");
    ck_assert_str_eq(X(x[2], DELETED), "1");
    /* a series without location, body, categories: those the override has not are empty */
    ck_assert_str_eq(X(x[3], EXCEPTION_START), "2026-05-04T13:00:00.000Z");
    ck_assert_ptr_null(X(x[3], SUBJECT));
    ck_assert_str_eq(X(x[3], LOCATION), "");
    ck_assert_str_eq(X(x[3], BODY), "");
    ck_assert_int_eq(x[3]->v[ZX_PF_EXCEPTION_CATEGORIES].list->nelts, 0);
    ck_assert_str_eq(G(ev, LAST_END), "2026-05-05T14:00:00.000Z");
    ck_assert_ptr_eq(zx_pim_exception_at(ev, "2026-03-23T13:00:00.000Z"), x[1]);

    const char *out = round_trip(ev);
    ck_assert(contains(out, "EXDATE;TZID=America/New_York:20260316T090000\r\n"));
    ck_assert(contains(out, "EXDATE;TZID=America/New_York:20260406T090000\r\n"));
    ck_assert(contains(out, "RECURRENCE-ID;TZID=America/New_York:20260323T090000\r\n"));
    ck_assert(contains(out, "RECURRENCE-ID;TZID=America/New_York:20260504T090000\r\n"));
    ck_assert(contains(out, "DTSTART;TZID=America/New_York:20260505T090000\r\n"));
    /* the moved occurrence carries the series' location for other programs */
    const char *moved = strstr(out, "RECURRENCE-ID;TZID=America/New_York:20260323T090000");
    ck_assert(contains(moved, "LOCATION:Room 1\r\n"));
    ck_assert(contains(moved, "SUMMARY:Moved\r\n"));
    /* one VTIMEZONE, under its IANA name */
    ck_assert(contains(out, "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"));
    ck_assert_ptr_null(strstr(strstr(out, "END:VTIMEZONE") + 1, "BEGIN:VTIMEZONE"));
    ck_assert_ptr_null(strstr(out, "freeassociation"));
}
END_TEST

static int count_each(const zx_pimcal_occurrence *o, void *baton)
{
    (void)o;
    ++*(int *)baton;
    return 0;
}

START_TEST(test_allday)
{
    /* in UTC */
    zx_pim_props *ev = one(cal(vevent("SUMMARY:Holiday\r\nDTSTART;VALUE=DATE:20260704\r\n"
                                      "DTEND;VALUE=DATE:20260706\r\n")));
    ck_assert_str_eq(G(ev, ALL_DAY), "1");
    ck_assert_str_eq(G(ev, TZID), "UTC");
    ck_assert_str_eq(G(ev, START), "2026-07-04T00:00:00.000Z");
    ck_assert_str_eq(G(ev, END), "2026-07-06T00:00:00.000Z");
    const char *out = round_trip(ev);
    ck_assert(contains(out, "DTSTART;VALUE=DATE:20260704\r\nDTEND;VALUE=DATE:20260706\r\n"));
    ck_assert(contains(out, "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE\r\n"));
    ck_assert_ptr_null(strstr(out, "VTIMEZONE"));
    /* no DTEND: one day */
    ev = one(cal(vevent("SUMMARY:Day\r\nDTSTART;VALUE=DATE:20261207\r\n")));
    ck_assert_str_eq(G(ev, END), "2026-12-08T00:00:00.000Z");
    /* a yearly all-day series in Berlin: local midnights; UNTIL and EXDATE as dates */
    ev = one(cal(vevent("SUMMARY:Birthday\r\nDTSTART;VALUE=DATE:20260704\r\n"
                        "DURATION:P1D\r\nX-ZXMOBILE-TZID:Europe/Berlin\r\n"
                        "RRULE:FREQ=YEARLY;UNTIL=20300704;BYMONTH=7;BYMONTHDAY=4\r\n"
                        "EXDATE;VALUE=DATE:20270704\r\n")));
    ck_assert_str_eq(G(ev, TZID), "Europe/Berlin");
    ck_assert_str_eq(G(ev, START), "2026-07-03T22:00:00.000Z");
    ck_assert_str_eq(G(ev, END), "2026-07-04T22:00:00.000Z");
    ck_assert_str_eq(G(ev, REC_UNTIL), "2030-07-03T22:00:00.000Z");
    ck_assert_str_eq(G(ev, LAST_END), "2030-07-04T22:00:00.000Z");
    ck_assert_int_eq(ev->exceptions->nelts, 1);
    ck_assert_str_eq(X(APR_ARRAY_IDX(ev->exceptions, 0, zx_pim_props *), EXCEPTION_START),
                     "2027-07-03T22:00:00.000Z");
    int n = 0;
    ck_assert_int_eq(zx_pimcal_occurrences(g_pool, ev, 0, 0, count_each, &n), 0);
    ck_assert_int_eq(n, 4);             /* 2026..2030 but 2027 */
    out = round_trip(ev);
    ck_assert(contains(out, "DTSTART;VALUE=DATE:20260704\r\n"));
    ck_assert(contains(out, "RRULE:FREQ=YEARLY;UNTIL=20300704;BYMONTHDAY=4;BYMONTH=7\r\n"));
    ck_assert(contains(out, "EXDATE;VALUE=DATE:20270704\r\n"));
    ck_assert(contains(out, "X-ZXMOBILE-TZID:Europe/Berlin\r\n"));
    ck_assert(contains(out, "TZID:Europe/Berlin\r\n"));
}
END_TEST

/* ---- zones ------------------------------------------------------------------------------- */

/* Outlook's VTIMEZONE of a Windows zone name */
#define WINDOWS_EASTERN                                                                        \
    "BEGIN:VTIMEZONE\r\nTZID:Eastern Standard Time\r\nBEGIN:STANDARD\r\n"                     \
    "DTSTART:16010101T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n"                  \
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11\r\nEND:STANDARD\r\n"                   \
    "BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\n" \
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"

START_TEST(test_zones)
{
    /* Berlin: CET in winter, CEST in summer */
    zx_pim_props *ev = one(cal(vevent("DTSTART;TZID=Europe/Berlin:20261207T100000\r\n"
                                      "DTEND;TZID=Europe/Berlin:20261207T110000\r\n")));
    ck_assert_str_eq(G(ev, TZID), "Europe/Berlin");
    ck_assert_str_eq(G(ev, START), "2026-12-07T09:00:00.000Z");
    ck_assert_str_eq(G(ev, ALL_DAY), "0");
    const char *out = round_trip(ev);
    ck_assert(contains(out, "DTSTART;TZID=Europe/Berlin:20261207T100000\r\n"));
    ev = one(cal(vevent("DTSTART;TZID=Europe/Berlin:20260707T100000\r\n")));
    ck_assert_str_eq(G(ev, START), "2026-07-07T08:00:00.000Z");
    ck_assert_str_eq(G(ev, END), "2026-07-07T08:00:00.000Z");       /* no DTEND: none long */
    /* a vendor prefix */
    ev = one(cal(vevent("DTSTART;TZID=/mozilla.org/20050126_1/Europe/Berlin:20261207T100000\r\n")));
    ck_assert_str_eq(G(ev, TZID), "Europe/Berlin");
    /* a VTIMEZONE of its own name with X-LIC-LOCATION */
    ev = one(cal(apr_pstrcat(g_pool, "BEGIN:VTIMEZONE\r\nTZID:My Zone\r\n"
                             "X-LIC-LOCATION:Asia/Tokyo\r\nBEGIN:STANDARD\r\n"
                             "DTSTART:19700101T000000\r\nTZOFFSETFROM:+0900\r\n"
                             "TZOFFSETTO:+0900\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
                             vevent("DTSTART;TZID=My Zone:20261207T100000\r\n"), NULL)));
    ck_assert_str_eq(G(ev, TZID), "Asia/Tokyo");
    ck_assert_str_eq(G(ev, START), "2026-12-07T01:00:00.000Z");
    /* a Windows name: its VTIMEZONE's rules are New York's; a weekly series keeps 09:00 */
    apr_array_header_t *a = readall(cal(apr_pstrcat(g_pool, WINDOWS_EASTERN,
        vevent("DTSTART;TZID=Eastern Standard Time:20260302T090000\r\n"
               "DTEND;TZID=Eastern Standard Time:20260302T100000\r\n"
               "RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO\r\n"), NULL)));
    ev = rec(a, 0)->props;
    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(nwarn(rec(a, 0)), 0);
    ck_assert_str_eq(G(ev, TZID), "America/New_York");
    ck_assert_str_eq(G(ev, START), "2026-03-02T14:00:00.000Z");
    ck_assert_str_eq(G(ev, LAST_END), "2026-05-04T14:00:00.000Z");
    round_trip(ev);
    /* a bare Windows name without its VTIMEZONE: mapped by name (ICU's table) */
    a = readall(cal(vevent("DTSTART;TZID=W. Europe Standard Time:20261207T100000\r\n")));
    ev = rec(a, 0)->props;
    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(nwarn(rec(a, 0)), 0);
    ck_assert_str_eq(G(ev, TZID), "Europe/Berlin");
    ck_assert_str_eq(G(ev, START), "2026-12-07T09:00:00.000Z");
    /* a zone that is nowhere: kept in UTC, with a warning */
    a = readall(cal(vevent("DTSTART;TZID=Nowhere/Zone:20261207T100000\r\n")));
    ev = rec(a, 0)->props;
    ck_assert_ptr_nonnull(ev);
    ck_assert_str_eq(G(ev, TZID), "UTC");
    ck_assert_str_eq(G(ev, START), "2026-12-07T10:00:00.000Z");
    ck_assert_str_eq(warn(rec(a, 0), 0), "DTSTART: time zone \"Nowhere/Zone\" is not defined in "
                                         "the file: times kept in UTC");
    /* floating: UTC, with a warning */
    a = readall(cal(vevent("DTSTART:20261207T100000\r\nDTEND:20261207T110000\r\n")));
    ev = rec(a, 0)->props;
    ck_assert_str_eq(G(ev, TZID), "UTC");
    ck_assert_str_eq(G(ev, END), "2026-12-07T11:00:00.000Z");
    ck_assert_int_eq(nwarn(rec(a, 0)), 1);
    ck_assert_str_eq(warn(rec(a, 0), 0), "DTSTART: a floating time (no zone): taken as UTC");
    /* floating in a calendar with X-WR-TIMEZONE: its wall clock; all-day dates too */
    a = readall(apr_pstrcat(g_pool, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                            "X-WR-TIMEZONE:Europe/Berlin\r\n",
                            vevent("DTSTART:20261207T100000\r\n"),
                            vevent("DTSTART;VALUE=DATE:20261207\r\n"), "END:VCALENDAR\r\n",
                            NULL));
    ck_assert_int_eq(nwarn(rec(a, 0)), 0);
    ck_assert_str_eq(G(rec(a, 0)->props, TZID), "Europe/Berlin");
    ck_assert_str_eq(G(rec(a, 0)->props, START), "2026-12-07T09:00:00.000Z");
    ck_assert_str_eq(G(rec(a, 1)->props, TZID), "Europe/Berlin");
    ck_assert_str_eq(G(rec(a, 1)->props, START), "2026-12-06T23:00:00.000Z");
    round_trip(rec(a, 1)->props);
    /* Outlook's all-day event as midnights */
    ev = one(cal(vevent("DTSTART;TZID=Europe/Berlin:20261207T000000\r\n"
                        "DTEND;TZID=Europe/Berlin:20261208T000000\r\n"
                        "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE\r\n")));
    ck_assert_str_eq(G(ev, ALL_DAY), "1");
    ck_assert_str_eq(G(ev, START), "2026-12-06T23:00:00.000Z");
    out = round_trip(ev);
    ck_assert(contains(out, "DTSTART;VALUE=DATE:20261207\r\n"));
    /* UTC times */
    ev = one(cal(vevent("DTSTART:20261207T100000Z\r\nDURATION:PT90M\r\n")));
    ck_assert_str_eq(G(ev, TZID), "UTC");
    ck_assert_str_eq(G(ev, END), "2026-12-07T11:30:00.000Z");
    out = round_trip(ev);
    ck_assert(contains(out, "DTSTART:20261207T100000Z\r\nDTEND:20261207T113000Z\r\n"));
    /* two VCALENDARs, each with a zone of its own (matched by offsets) */
    a = readall(apr_pstrcat(g_pool,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Custom\r\n"
        "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0530\r\n"
        "TZOFFSETTO:+0530\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
        vevent("DTSTART;TZID=Custom:20261207T100000\r\n"), "END:VCALENDAR\r\n"
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Custom 2\r\n"
        "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0900\r\n"
        "TZOFFSETTO:+0900\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
        vevent("DTSTART;TZID=Custom 2:20261207T100000\r\n"), "END:VCALENDAR\r\n", NULL));
    ck_assert_int_eq(a->nelts, 2);
    ck_assert_str_eq(G(rec(a, 0)->props, TZID), "Asia/Kolkata");
    ck_assert_str_eq(G(rec(a, 0)->props, START), "2026-12-07T04:30:00.000Z");
    ck_assert_str_eq(G(rec(a, 1)->props, TZID), "Asia/Tokyo");
    ck_assert_int_eq(rec(a, 1)->line, 27);
    /* two zones in one file: one VTIMEZONE each */
    zx_pim_props *two[3] = {
        one(cal(vevent("DTSTART;TZID=Europe/Berlin:20261207T100000\r\n"))),
        one(cal(vevent("DTSTART;TZID=America/New_York:20261207T100000\r\n"))),
        one(cal(vevent("DTSTART;TZID=Europe/Berlin:20261208T100000\r\n"))),
    };
    out = write_all((const zx_pim_props *const *)two, 3);
    int nz = 0;
    for (const char *s = out; (s = strstr(s, "BEGIN:VTIMEZONE")); s++)
        nz++;
    ck_assert_int_eq(nz, 2);
    a = readall(out);
    ck_assert_int_eq(a->nelts, 3);
    for (int i = 0; i < 3; i++)
        assert_same_props(two[i], rec(a, i)->props);
}
END_TEST

/* ---- people and the rest ----------------------------------------------------------------- */

START_TEST(test_people_and_properties)
{
    zx_pim_props *ev = one(cal(vevent(
        "SUMMARY:Review\r\nDTSTART:20261207T100000Z\r\nDTEND:20261207T110000Z\r\n"
        "ORGANIZER;CN=\"Org, Anna\":MAILTO:anna@example.com\r\n"
        "ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:bob@example.com\r\n"
        "ATTENDEE;PARTSTAT=TENTATIVE;ROLE=OPT-PARTICIPANT:mailto:tom@example.com\r\n"
        "ATTENDEE;PARTSTAT=DECLINED:mailto:dan@example.com\r\n"
        "ATTENDEE;CN=Beamer;CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT:mailto:beamer@example.com\r\n"
        "ATTENDEE;CN=Unknown:mailto:u@example.com\r\n"
        "STATUS:CANCELLED\r\nCLASS:CONFIDENTIAL\r\nTRANSP:TRANSPARENT\r\n"
        "URL:https://meet.example.com/abc\r\n"
        "X-ALT-DESC;FMTTYPE=text/html:<p>Hi</p>\r\nDESCRIPTION:Hi\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;VALUE=DATE-TIME:20261207T093000Z\r\n"
        "END:VALARM\r\n")));
    ck_assert_str_eq(G(ev, ORGANIZER_EMAIL), "anna@example.com");
    ck_assert_str_eq(G(ev, ORGANIZER_NAME), "Org, Anna");
    const apr_array_header_t *att = ev->v[ZX_PF_CALENDAR_ATTENDEES].list;
    ck_assert_int_eq(att->nelts, 5);
    static const struct {
        const char *email, *name;
        int status, type;
    } want[] = {{"bob@example.com", "Bob", 3, 1}, {"tom@example.com", "", 2, 2},
                {"dan@example.com", "", 4, -1}, {"beamer@example.com", "Beamer", -1, 3},
                {"u@example.com", "Unknown", -1, -1}};
    for (int i = 0; i < 5; i++) {
        zx_pim_attendee a;
        zx_pim_attendee_decode(g_pool, APR_ARRAY_IDX(att, i, const char *), &a);
        ck_assert_str_eq(a.email, want[i].email);
        ck_assert_str_eq(a.name, want[i].name);
        ck_assert_int_eq(a.status, want[i].status);
        ck_assert_int_eq(a.type, want[i].type);
    }
    ck_assert_str_eq(G(ev, MEETING_STATUS), "7");
    ck_assert_str_eq(G(ev, SENSITIVITY), "3");
    ck_assert_str_eq(G(ev, BUSY_STATUS), "0");
    ck_assert_str_eq(G(ev, ONLINE_CONF_LINK), "https://meet.example.com/abc");
    ck_assert_str_eq(G(ev, BODY), "<p>Hi</p>");
    ck_assert_str_eq(G(ev, BODY_TYPE), "2");
    ck_assert_str_eq(G(ev, REMINDER), "30");
    /* an alarm relative to the end; Apple's ACTION:NONE is none; one after the start dropped */
    zx_pim_props *e2 = one(cal(vevent("DTSTART:20261207T100000Z\r\nDTEND:20261207T110000Z\r\n"
                                      "BEGIN:VALARM\r\nACTION:NONE\r\n"
                                      "TRIGGER;VALUE=DATE-TIME:19760401T005545Z\r\nEND:VALARM\r\n"
                                      "BEGIN:VALARM\r\nACTION:DISPLAY\r\n"
                                      "TRIGGER;RELATED=END:-PT2H\r\nEND:VALARM\r\n")));
    ck_assert_str_eq(G(e2, REMINDER), "60");
    apr_array_header_t *late = readall(cal(vevent("DTSTART:20261207T100000Z\r\n"
                                                  "BEGIN:VALARM\r\nACTION:DISPLAY\r\n"
                                                  "TRIGGER:PT5M\r\nEND:VALARM\r\n")));
    ck_assert_ptr_null(G(rec(late, 0)->props, REMINDER));
    ck_assert_str_eq(warn(rec(late, 0), 0), "VALARM after the start: dropped");
    const char *out = round_trip(ev);
    ck_assert(contains(out, "STATUS:CANCELLED\r\n"));
    ck_assert(contains(out, "ORGANIZER;CN=\"Org, Anna\":mailto:anna@example.com\r\n"));
    ck_assert(contains(out, "TRIGGER:-PT30M\r\n"));
    ck_assert_ptr_null(strstr(out, "X-ZXMOBILE-MEETING-STATUS"));

    /* values only our X- properties carry come back */
    zx_pim_set(ev, ZX_PF_CALENDAR_MEETING_STATUS, "1");
    zx_pim_set(ev, ZX_PF_CALENDAR_SENSITIVITY, "1");
    zx_pim_set(ev, ZX_PF_CALENDAR_BUSY_STATUS, "4");
    zx_pim_set(ev, ZX_PF_CALENDAR_RESPONSE_REQUESTED, "1");
    zx_pim_set(ev, ZX_PF_CALENDAR_APPOINTMENT_REPLY_TIME, "2026-12-01T08:00:00.000Z");
    zx_pim_set(ev, ZX_PF_CALENDAR_LOC_CITY, "Berlin");
    zx_pim_set(ev, ZX_PF_CALENDAR_DISALLOW_NEW_TIME_PROPOSAL, "1");
    zx_pim_set(ev, ZX_PF_CALENDAR_ONLINE_EXTERNAL_LINK, "https://x.example/ext");
    zx_pim_set(ev, ZX_PF_CALENDAR_REMINDER, "0");
    zx_pim_attendee a0 = {"zero@example.com", "Zero", 0, 1};
    apr_array_header_t *l = apr_array_copy(g_pool, att);
    APR_ARRAY_PUSH(l, const char *) = zx_pim_attendee_encode(g_pool, &a0);
    zx_pim_set_list(ev, ZX_PF_CALENDAR_ATTENDEES, l);
    out = round_trip(ev);
    ck_assert(contains(out, "X-ZXMOBILE-MEETING-STATUS:1\r\n"));
    ck_assert(contains(out, "CLASS:PRIVATE\r\n"));
    ck_assert(contains(out, "X-MICROSOFT-CDO-BUSYSTATUS:WORKINGELSEWHERE\r\n"));
    ck_assert(contains(out, "X-MICROSOFT-DISALLOW-COUNTER:TRUE\r\n"));
    ck_assert(contains(out, "X-ZXMOBILE-STATUS=0"));
}
END_TEST

START_TEST(test_errors_and_orphans)
{
    const char *text = cal(apr_pstrcat(g_pool,
        vevent("SUMMARY:ok\r\nDTSTART:20261207T100000Z\r\n"),
        "BEGIN:VEVENT\r\nUID:bad\r\nSUMMARY:no start\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:hourly\r\nDTSTART:20261207T100000Z\r\nRRULE:FREQ=HOURLY\r\n"
        "END:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:orphan\r\nRECURRENCE-ID:20261207T100000Z\r\n"
        "DTSTART:20261208T100000Z\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:s2\r\nDTSTART:20261207T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\n"
        "RDATE:20261220T100000Z\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:s2\r\nRECURRENCE-ID:20261208T100000Z\r\nEND:VEVENT\r\n", NULL));
    apr_array_header_t *a = readall(text);
    ck_assert_int_eq(a->nelts, 5);
    ck_assert_ptr_nonnull(rec(a, 0)->props);
    ck_assert_int_eq(rec(a, 0)->line, 4);
    ck_assert_ptr_null(rec(a, 1)->props);
    ck_assert_int_eq(rec(a, 1)->number, 2);
    ck_assert_int_eq(rec(a, 1)->line, 10);
    ck_assert_str_eq(rec(a, 1)->error, "a VEVENT without DTSTART");
    ck_assert_ptr_null(rec(a, 2)->props);
    ck_assert_str_eq(rec(a, 2)->error, "RRULE FREQ=HOURLY: only DAILY, WEEKLY, MONTHLY and "
                                       "YEARLY rules are an event recurrence");
    /* a RECURRENCE-ID without its series: a single event */
    ck_assert_ptr_nonnull(rec(a, 3)->props);
    ck_assert_ptr_null(G(rec(a, 3)->props, REC_TYPE));
    ck_assert_str_eq(G(rec(a, 3)->props, START), "2026-12-08T10:00:00.000Z");
    ck_assert_str_eq(warn(rec(a, 3), 0), "a RECURRENCE-ID without its series in the file: "
                                         "imported as a single event");
    /* a series whose override cannot be read is not read; its RDATE was dropped */
    ck_assert_ptr_null(rec(a, 4)->props);
    ck_assert_int_eq(rec(a, 4)->line, 24);
    ck_assert_str_eq(rec(a, 4)->error, "the RECURRENCE-ID VEVENT on line 30: a VEVENT without "
                                       "DTSTART");
    ck_assert_str_eq(warn(rec(a, 4), 0), "RDATE (extra occurrences) is not kept: dropped");
    /* no VEVENT at all */
    const char *err = NULL;
    apr_array_header_t *r;
    const char *todo = cal("BEGIN:VTODO\r\nSUMMARY:x\r\nEND:VTODO\r\n");
    ck_assert_int_eq(zx_ical_read(g_pool, ZX_PIM_CALENDAR, todo, strlen(todo), &r, &err), -1);
    ck_assert_str_eq(err, "no VEVENT in the file");
}
END_TEST

/* an event made in code (as Sync stores one): written and read back the same */
START_TEST(test_written_event_round_trip)
{
    zx_pim_props *ev = zx_pim_props_new(g_pool, ZX_PIM_CALENDAR);
    zx_pim_set(ev, ZX_PF_CALENDAR_SUBJECT, "Standup; daily, \"short\"");
    zx_pim_set(ev, ZX_PF_CALENDAR_TZID, "Europe/Berlin");
    zx_pim_set(ev, ZX_PF_CALENDAR_ALL_DAY, "0");
    zx_pim_set(ev, ZX_PF_CALENDAR_START, "2026-10-20T07:30:00.000Z");
    zx_pim_set(ev, ZX_PF_CALENDAR_END, "2026-10-20T07:45:00.000Z");
    zx_pim_set(ev, ZX_PF_CALENDAR_DTSTAMP, "2026-10-01T00:00:00.000Z");
    zx_pim_set(ev, ZX_PF_CALENDAR_UID, "standup@example.com");
    zx_pim_set(ev, ZX_PF_CALENDAR_MEETING_STATUS, "0");
    zx_pim_set(ev, ZX_PF_CALENDAR_REC_TYPE, "0");
    zx_pim_set(ev, ZX_PF_CALENDAR_REC_INTERVAL, "1");
    zx_pim_set(ev, ZX_PF_CALENDAR_REC_DAY_OF_WEEK, "62");
    zx_pim_set(ev, ZX_PF_CALENDAR_REC_UNTIL, "2026-11-30T23:00:00.000Z");
    ev->exceptions = apr_array_make(g_pool, 2, sizeof(zx_pim_props *));
    ev->exceptions_set = 1;
    zx_pim_props *x = zx_pim_props_new(g_pool, ZX_PIM_EXCEPTION);
    zx_pim_set(x, ZX_PF_EXCEPTION_EXCEPTION_START, "2026-10-21T07:30:00.000Z");
    zx_pim_set(x, ZX_PF_EXCEPTION_DELETED, "1");
    APR_ARRAY_PUSH(ev->exceptions, zx_pim_props *) = x;
    /* across the change to winter time: 08:30 CET is 07:30Z */
    x = zx_pim_props_new(g_pool, ZX_PIM_EXCEPTION);
    zx_pim_set(x, ZX_PF_EXCEPTION_EXCEPTION_START, "2026-10-26T08:30:00.000Z");
    zx_pim_set(x, ZX_PF_EXCEPTION_START, "2026-10-26T09:00:00.000Z");
    zx_pim_set(x, ZX_PF_EXCEPTION_END, "2026-10-26T09:30:00.000Z");
    zx_pim_set(x, ZX_PF_EXCEPTION_SUBJECT, "Standup (long)");
    zx_pim_set(x, ZX_PF_EXCEPTION_BUSY_STATUS, "1");
    APR_ARRAY_PUSH(ev->exceptions, zx_pim_props *) = x;
    zx_pimcal_prepare(g_pool, ev);
    ck_assert_str_eq(G(ev, LAST_END), "2026-11-30T08:45:00.000Z");
    /* the reader adds WKST's default for a weekly rule only; a daily one has none */
    const char *out = round_trip(ev);
    ck_assert(contains(out, "RRULE:FREQ=DAILY;UNTIL=20261130T230000Z;BYDAY=MO,TU,WE,TH,FR\r\n"));
    ck_assert(contains(out, "EXDATE;TZID=Europe/Berlin:20261021T093000\r\n"));
    ck_assert(contains(out, "RECURRENCE-ID;TZID=Europe/Berlin:20261026T093000\r\n"));
    ck_assert(contains(out, "SUMMARY:Standup\\; daily\\, \"short\"\r\n"));
}
END_TEST

int main(void)
{
    apr_initialize();
    Suite *s = suite_create("icalevent");
    TCase *tc = tcase_create("icalevent");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_recurrence_patterns);
    tcase_add_test(tc, test_series_with_exceptions);
    tcase_add_test(tc, test_allday);
    tcase_add_test(tc, test_zones);
    tcase_add_test(tc, test_people_and_properties);
    tcase_add_test(tc, test_errors_and_orphans);
    tcase_add_test(tc, test_written_event_round_trip);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
