/* zxmobile - unit tests of the contact, task and note converters (libzxsync/pim/): vCard 3.0
 * and 4.0 (and 2.1) in with every contact field, escaping, folding, parameters, the writer's
 * round trip of every field, a clear error per bad record; VTODO and VJOURNAL through libical;
 * plain text notes.  Check, TAP; run under valgrind by `./zx test`. */
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

static const char *slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/t/fixtures/pim/%s", ZX_SRCDIR, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return apr_pstrmemdup(g_pool, buf, n);
}

static apr_array_header_t *vcards(const char *text)
{
    apr_array_header_t *r = NULL;
    const char *err = NULL;
    ck_assert_msg(zx_vcard_read(g_pool, text, strlen(text), &r, &err) == 0, "%s", err);
    return r;
}

static zx_pim_record *rec(apr_array_header_t *a, int i)
{
    ck_assert_int_gt(a->nelts, i);
    return &APR_ARRAY_IDX(a, i, zx_pim_record);
}

static const zx_pim_props *one(const char *text)
{
    apr_array_header_t *a = vcards(text);
    ck_assert_int_eq(a->nelts, 1);
    ck_assert_msg(rec(a, 0)->props != NULL, "%s", rec(a, 0)->error);
    return rec(a, 0)->props;
}

#define GET(pr, f) zx_pim_get((pr), ZX_PF_CONTACT_##f)

static void assert_same(const zx_pim_props *a, const zx_pim_props *b)
{
    const zx_pim_class_def *c = &zx_pim_classes[a->cls];
    for (int f = c->first; f < (int)c->last; f++) {
        ck_assert_msg(a->set[f] == b->set[f], "%s set %d vs %d", zx_pim_fields[f].column,
                      a->set[f], b->set[f]);
        if (a->v[f].list) {
            ck_assert_ptr_nonnull(b->v[f].list);
            ck_assert_int_eq(a->v[f].list->nelts, b->v[f].list->nelts);
            for (int i = 0; i < a->v[f].list->nelts; i++)
                ck_assert_str_eq(APR_ARRAY_IDX(a->v[f].list, i, const char *),
                                 APR_ARRAY_IDX(b->v[f].list, i, const char *));
        }
        else if (a->v[f].text) {
            ck_assert_msg(b->v[f].text && strcmp(a->v[f].text, b->v[f].text) == 0,
                          "%s: \"%s\" vs \"%s\"", zx_pim_fields[f].column, a->v[f].text,
                          b->v[f].text ? b->v[f].text : "(none)");
        }
    }
}

/* ---- vCard in ---------------------------------------------------------------------------- */

START_TEST(test_vcard30_every_field)
{
    const zx_pim_props *pr = one(slurp("all_fields_30.vcf"));
    const zx_pim_class_def *c = &zx_pim_classes[ZX_PIM_CONTACT];
    for (int f = c->first; f < (int)c->last; f++)
        ck_assert_msg(pr->set[f], "field %s not filled", zx_pim_fields[f].column);
    ck_assert_str_eq(GET(pr, LAST_NAME), "Müller");
    ck_assert_str_eq(GET(pr, FIRST_NAME), "Anna");
    ck_assert_str_eq(GET(pr, MIDDLE_NAME), "Maria");
    ck_assert_str_eq(GET(pr, TITLE), "Dr.");
    ck_assert_str_eq(GET(pr, SUFFIX), "PhD");
    ck_assert_str_eq(GET(pr, FILE_AS), "Müller, Anna");
    ck_assert_str_eq(GET(pr, COMPANY_NAME), "Example GmbH");
    ck_assert_str_eq(GET(pr, DEPARTMENT), "Research; Development");
    ck_assert_str_eq(GET(pr, BUSINESS_PHONE), "+49 30 1111");
    ck_assert_str_eq(GET(pr, BUSINESS2_PHONE), "+49 30 2222");
    ck_assert_str_eq(GET(pr, HOME_PHONE), "+49 30 3333");
    ck_assert_str_eq(GET(pr, HOME2_PHONE), "+49 30 4444");
    ck_assert_str_eq(GET(pr, BUSINESS_FAX), "+49 30 8888");
    ck_assert_str_eq(GET(pr, HOME_FAX), "+49 30 9999");
    ck_assert_str_eq(GET(pr, ASSISTANT_PHONE), "+49 30 1010");
    ck_assert_str_eq(GET(pr, COMPANY_MAIN_PHONE), "+49 30 1000");
    ck_assert_str_eq(GET(pr, RADIO_PHONE), "+49 30 1212");
    ck_assert_str_eq(GET(pr, MMS), "+49 170 1313");
    ck_assert_str_eq(GET(pr, EMAIL1), "anna.mueller@example.com");   /* TYPE=PREF */
    ck_assert_str_eq(GET(pr, EMAIL2), "anna@example.org");
    ck_assert_str_eq(GET(pr, IM_ADDRESS3), "anna.skype");
    ck_assert_str_eq(GET(pr, HOME_STREET), "Gartenweg 2\nHinterhaus");
    ck_assert_str_eq(GET(pr, OTHER_CITY), "Hamburg");
    ck_assert_str_eq(GET(pr, BIRTHDAY), "1985-04-12T00:00:00.000Z");
    ck_assert_str_eq(GET(pr, ANNIVERSARY), "2010-06-19T00:00:00.000Z");
    ck_assert_str_eq(GET(pr, BODY), "First line\nsecond line with ; and , and \\ backslash");
    ck_assert_str_eq(GET(pr, BODY_TYPE), "1");
    ck_assert_str_eq(GET(pr, OFFICE_LOCATION), "Building 7, Room 42");
    const apr_array_header_t *cats = pr->v[ZX_PF_CONTACT_CATEGORIES].list;
    ck_assert_int_eq(cats->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(cats, 2, const char *), "Research, Lab");
    ck_assert_int_eq(pr->v[ZX_PF_CONTACT_CHILDREN].list->nelts, 2);
    ck_assert(strncmp(GET(pr, PICTURE), "/9j/4AAQ", 8) == 0);
    ck_assert(strchr(GET(pr, PICTURE), ' ') == NULL);
}
END_TEST

START_TEST(test_vcard40_forms)
{
    /* 4.0: RELATED, ANNIVERSARY, IMPP, data: photo, tel: URIs, PREF, quoted and RFC 6868
     * parameters, a group, LF line ends and tab folding, a year-less birthday */
    const zx_pim_props *pr = one(
        "BEGIN:VCARD\nVERSION:4.0\nFN:Jo Doe\nN:Doe;Jo;;;\n"
        "item1.EMAIL;PREF=2:second@x\nEMAIL;PREF=1:first@x\n"
        "TEL;VALUE=uri;TYPE=\"voice,cell\":tel:+1-555-0100\n"
        "TEL;TYPE=work;TYPE=voice;LABEL=\"a^'b^nc\":+1 555 0101\n"
        "BDAY:--0229\nANNIVERSARY:20000101\nRELATED;TYPE=spouse;VALUE=text:Sam\n"
        "RELATED;TYPE=child;VALUE=text:Kid\nIMPP:xmpp:jo@x\n"
        "NOTE:long note that is fol\n\tded with a tab\n"
        "PHOTO:data:image/png;base64,iVBORw0KGgo=\nEND:VCARD\n");
    ck_assert_str_eq(GET(pr, EMAIL1), "first@x");
    ck_assert_str_eq(GET(pr, EMAIL2), "second@x");
    ck_assert_str_eq(GET(pr, MOBILE_PHONE), "+1-555-0100");
    ck_assert_str_eq(GET(pr, BUSINESS_PHONE), "+1 555 0101");
    ck_assert_str_eq(GET(pr, BIRTHDAY), "1604-02-29T00:00:00.000Z");
    ck_assert_str_eq(GET(pr, SPOUSE), "Sam");
    ck_assert_str_eq(APR_ARRAY_IDX(pr->v[ZX_PF_CONTACT_CHILDREN].list, 0, const char *), "Kid");
    ck_assert_str_eq(GET(pr, BODY), "long note that is folded with a tab");
    ck_assert_str_eq(GET(pr, PICTURE), "iVBORw0KGgo=");
    /* FN equal to the name the writer would make: no FileAs */
    ck_assert_ptr_null(GET(pr, FILE_AS));
    /* the writer gives the year-less date back as --MMDD */
    const char *out = zx_vcard_write(g_pool, pr, NULL);
    ck_assert_ptr_nonnull(strstr(out, "\r\nBDAY:--0229\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "PHOTO:data:image/png;base64,iVBORw0KGgo=\r\n"));
}
END_TEST

START_TEST(test_vcard_big_photo)
{
    /* more than 48 KB of base64: the contact is kept, its picture dropped with a warning */
    apr_size_t n = 49 * 1024;
    char *b64 = apr_palloc(g_pool, n + 1);
    memset(b64, 'A', n);
    b64[n] = '\0';
    apr_array_header_t *a = vcards(apr_pstrcat(g_pool, "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Big;\r\n"
                                               "PHOTO;ENCODING=b:", b64, "\r\nEND:VCARD\r\n",
                                               NULL));
    zx_pim_record *r = rec(a, 0);
    ck_assert_ptr_nonnull(r->props);
    ck_assert_ptr_null(zx_pim_get(r->props, ZX_PF_CONTACT_PICTURE));
    ck_assert_str_eq(APR_ARRAY_IDX(r->warnings, 0, const char *),
                     "line 4: PHOTO dropped: 50176 bytes of base64, ActiveSync takes at most "
                     "49152");
}
END_TEST

START_TEST(test_vcard21)
{
    /* 2.1: bare types, quoted-printable with a soft break, a CHARSET, base64 photo lines */
    const zx_pim_props *pr = one(
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=ISO-8859-1:M\xfcller;J\xfcrgen\r\n"
        "TEL;WORK;VOICE:111\r\nTEL;HOME;FAX:222\r\nTEL;CELL:333\r\n"
        "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Zeile 1=0D=0AZ=C3=A4ile =\r\n2\r\n"
        "PHOTO;ENCODING=BASE64;TYPE=GIF:\r\n R0lGODlh\r\n AQABAAAAACw=\r\n\r\n"
        "END:VCARD\r\n");
    ck_assert_str_eq(GET(pr, LAST_NAME), "Müller");
    ck_assert_str_eq(GET(pr, FIRST_NAME), "Jürgen");
    ck_assert_str_eq(GET(pr, BUSINESS_PHONE), "111");
    ck_assert_str_eq(GET(pr, HOME_FAX), "222");
    ck_assert_str_eq(GET(pr, MOBILE_PHONE), "333");
    ck_assert_str_eq(GET(pr, BODY), "Zeile 1\r\nZäile 2");
    ck_assert_str_eq(GET(pr, PICTURE), "R0lGODlhAQABAAAAACw=");
}
END_TEST

START_TEST(test_vcard_bad_records)
{
    apr_array_header_t *a = vcards(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Good One\r\nEND:VCARD\r\n"             /* 1: lines 1-4 */
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\nBDAY:1985-13-40\r\nEND:VCARD\r\n"   /* 2: 5 */
        "BEGIN:VCARD\r\nVERSION:3.0\r\nthis is no property\r\nEND:VCARD\r\n"       /* 3: 10 */
        "stray text\r\n"                                                           /* 4: 14 */
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Unclosed\r\n"                            /* 5: 15 */
        "BEGIN:VCARD\r\nVERSION:3.0\r\nPHOTO;ENCODING=b:!!notbase64\r\nEND:VCARD\r\n" /* 6: 18 */
        "BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:\xff\xfe\r\nEND:VCARD\r\n"             /* 7: 22 */
        "BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:group\r\nFN:Team\r\nEND:VCARD\r\n"     /* 8: 26 */
        "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:x\r\nEND:VCARD\r\n"                     /* 9: 31 */
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Last\r\n");                              /* 10: 35 */
    ck_assert_int_eq(a->nelts, 10);
    ck_assert_ptr_nonnull(rec(a, 0)->props);
    static const struct {
        long line;
        const char *error;
    } want[] = {
        {1, NULL},
        {5, "line 8: BDAY: \"1985-13-40\" is not a date (YYYYMMDD, YYYY-MM-DD or --MMDD)"},
        {10, "line 12: not a property line (a name, its parameters, ':' and the value)"},
        {14, "text outside BEGIN:VCARD ... END:VCARD"},
        {15, "no END:VCARD before the next BEGIN:VCARD (line 18)"},
        {18, "line 20: PHOTO: the picture is not valid base64"},
        {22, "line 24: NOTE: not UTF-8 text (give CHARSET= for another encoding)"},
        {26, "line 28: KIND: a group (KIND:group), not a contact"},
        {31, "no contact field in this vCard"},
        {35, "no END:VCARD at the end of the file"},
    };
    for (int i = 0; i < 10; i++) {
        zx_pim_record *r = rec(a, i);
        ck_assert_int_eq(r->number, i + 1);
        ck_assert_int_eq(r->line, want[i].line);
        if (want[i].error) {
            ck_assert_ptr_null(r->props);
            ck_assert_str_eq(r->error, want[i].error);
        }
    }
    apr_array_header_t *none;
    const char *err = NULL;
    ck_assert_int_eq(zx_vcard_read(g_pool, "hello\n", 6, &none, &err), -1);
    ck_assert_str_eq(err, "no vCard in the file (no BEGIN:VCARD line)");
}
END_TEST

START_TEST(test_vcard_write_round_trip)
{
    const zx_pim_props *pr = one(slurp("all_fields_30.vcf"));
    const char *out = zx_vcard_write(g_pool, pr, "uid-1");
    ck_assert(strncmp(out, "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:uid-1\r\n", 37) == 0);
    /* folded at 75 octets, never inside a UTF-8 sequence */
    for (const char *l = out; *l;) {
        const char *e = strstr(l, "\r\n");
        ck_assert_ptr_nonnull(e);
        ck_assert_int_le(e - l, 75);
        if (e[2] == ' ')
            ck_assert((((unsigned char)e[3]) & 0xC0) != 0x80);
        l = e + 2;
    }
    ck_assert_ptr_nonnull(strstr(out, "\r\nFN:Müller\\, Anna\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\nNOTE:First line\\nsecond line with \\; and \\, and "
                                      "\\\\ backslash\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\nCATEGORIES:Work,VIP,Research\\, Lab\r\n"));
    assert_same(pr, one(out));
    /* an HTML body: NOTE as text and X-ALT-DESC, read back as HTML */
    zx_pim_props *h = zx_pim_props_new(g_pool, ZX_PIM_CONTACT);
    zx_pim_set(h, ZX_PF_CONTACT_FIRST_NAME, "H");
    zx_pim_set(h, ZX_PF_CONTACT_BODY, "<p>Hello, <b>world</b></p>");
    zx_pim_set(h, ZX_PF_CONTACT_BODY_TYPE, "2");
    out = zx_vcard_write(g_pool, h, NULL);
    ck_assert_ptr_nonnull(strstr(out, "X-ALT-DESC;FMTTYPE=text/html:<p>Hello\\, <b>world</b></p>"));
    assert_same(h, one(out));
    /* a FileAs equal to the name made of the other fields comes back too */
    zx_pim_props *fa = zx_pim_props_new(g_pool, ZX_PIM_CONTACT);
    zx_pim_set(fa, ZX_PF_CONTACT_FIRST_NAME, "Ann");
    zx_pim_set(fa, ZX_PF_CONTACT_LAST_NAME, "Lee");
    zx_pim_set(fa, ZX_PF_CONTACT_FILE_AS, "Ann Lee");
    out = zx_vcard_write(g_pool, fa, NULL);
    ck_assert_ptr_nonnull(strstr(out, "\r\nX-ZXMOBILE-FILE-AS:Ann Lee\r\n"));
    assert_same(fa, one(out));
    zx_pim_set(fa, ZX_PF_CONTACT_FILE_AS, NULL);
    fa->set[ZX_PF_CONTACT_FILE_AS] = 0;
    out = zx_vcard_write(g_pool, fa, NULL);
    ck_assert_ptr_nonnull(strstr(out, "\r\nFN:Ann Lee\r\n"));
    ck_assert_ptr_null(strstr(out, "X-ZXMOBILE-FILE-AS"));
    assert_same(fa, one(out));
    /* a birthday a device stored as local midnight east of UTC keeps its day */
    zx_pim_props *b = zx_pim_props_new(g_pool, ZX_PIM_CONTACT);
    zx_pim_set(b, ZX_PF_CONTACT_LAST_NAME, "B");
    zx_pim_set(b, ZX_PF_CONTACT_BIRTHDAY, "1985-04-11T22:00:00.000Z");
    zx_pim_set(b, ZX_PF_CONTACT_ANNIVERSARY, "2010-06-19T05:00:00.000Z");
    out = zx_vcard_write(g_pool, b, NULL);
    ck_assert_ptr_nonnull(strstr(out, "\r\nBDAY:19850412\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\nANNIVERSARY:20100619\r\n"));
}
END_TEST

/* ---- iCalendar ----------------------------------------------------------------------------- */

static apr_array_header_t *ical(zx_pim_class cls, const char *text)
{
    apr_array_header_t *r = NULL;
    const char *err = NULL;
    ck_assert_msg(zx_ical_read(g_pool, cls, text, strlen(text), &r, &err) == 0, "%s", err);
    return r;
}

#define TGET(pr, f) zx_pim_get((pr), ZX_PF_TASK_##f)

START_TEST(test_vtodo)
{
    apr_array_header_t *a = ical(ZX_PIM_TASK, slurp("tasks.ics"));
    ck_assert_int_eq(a->nelts, 3);
    const zx_pim_props *t1 = rec(a, 0)->props, *t2 = rec(a, 1)->props, *t3 = rec(a, 2)->props;
    ck_assert(t1 && t2 && t3);
    ck_assert_int_eq(rec(a, 1)->line, 39);
    ck_assert_str_eq(TGET(t1, SUBJECT), "Quarterly report, draft");
    ck_assert_str_eq(TGET(t1, BODY), "Collect the numbers\nthen write; review");
    ck_assert_str_eq(TGET(t1, IMPORTANCE), "2");
    ck_assert_str_eq(TGET(t1, SENSITIVITY), "3");
    ck_assert_str_eq(TGET(t1, START_DATE), "2026-12-07T00:00:00.000Z");
    ck_assert_str_eq(TGET(t1, UTC_DUE_DATE), "2026-12-11T00:00:00.000Z");
    ck_assert_str_eq(TGET(t1, REC_TYPE), "3");
    ck_assert_str_eq(TGET(t1, REC_WEEK_OF_MONTH), "2");
    ck_assert_str_eq(TGET(t1, REC_DAY_OF_WEEK), "4");
    ck_assert_str_eq(TGET(t1, REC_INTERVAL), "3");
    ck_assert_str_eq(TGET(t1, REC_OCCURRENCES), "8");
    ck_assert_str_eq(TGET(t1, REC_REGENERATE), "0");
    ck_assert_str_eq(TGET(t1, REMINDER_TIME), "2026-12-07T08:00:00.000Z");
    ck_assert_str_eq(TGET(t2, START_DATE), "2026-12-08T14:30:00.000Z");
    ck_assert_str_eq(TGET(t2, UTC_START_DATE), "2026-12-08T13:30:00.000Z");
    ck_assert_str_eq(TGET(t2, COMPLETE), "1");
    ck_assert_str_eq(TGET(t2, DATE_COMPLETED), "2026-12-08T17:00:00.000Z");
    ck_assert_str_eq(TGET(t2, REC_DAY_OF_WEEK), "42");
    ck_assert_str_eq(TGET(t2, REC_FIRST_DAY_OF_WEEK), "1");
    ck_assert_str_eq(TGET(t2, REC_UNTIL), "2027-03-31T00:00:00.000Z");
    ck_assert_str_eq(TGET(t2, REMINDER_TIME), "2026-12-08T13:00:00.000Z");
    ck_assert_str_eq(TGET(t3, REC_TYPE), "5");
    ck_assert_str_eq(TGET(t3, REC_MONTH_OF_YEAR), "4");
    ck_assert_str_eq(TGET(t3, REC_DAY_OF_MONTH), "12");
    ck_assert_str_eq(TGET(t3, IMPORTANCE), "1");
    /* written and read again: the same fields */
    zx_ical_writer *w = zx_ical_writer_new(g_pool);
    for (int i = 0; i < 3; i++)
        zx_ical_writer_add(w, rec(a, i)->props, NULL);
    const char *out = zx_ical_writer_finish(w);
    ck_assert_ptr_nonnull(strstr(out, "DTSTART;TZID=UTC+0100:20261208T143000"));
    ck_assert_ptr_nonnull(strstr(out, "DTSTART;VALUE=DATE:20261207"));
    apr_array_header_t *b = ical(ZX_PIM_TASK, out);
    ck_assert_int_eq(b->nelts, 3);
    for (int i = 0; i < 3; i++)
        assert_same(rec(a, i)->props, rec(b, i)->props);
}
END_TEST

START_TEST(test_vtodo_recurrences_and_errors)
{
    static const struct {
        const char *rule;
        const char *type, *dow, *week, *mday;
        const char *error;
    } cases[] = {
        {"FREQ=DAILY;INTERVAL=2", "0", NULL, NULL, NULL, NULL},
        {"FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "0", "62", NULL, NULL, NULL},
        {"FREQ=MONTHLY;BYMONTHDAY=15", "2", NULL, NULL, "15", NULL},
        {"FREQ=MONTHLY;BYDAY=-1FR", "3", "32", "5", NULL, NULL},
        {"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "3", "62", "5", NULL, NULL},
        {"FREQ=MONTHLY;BYMONTHDAY=-1", "3", "127", "5", NULL, NULL},
        {"FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", "6", "16", "4", NULL, NULL},
        {"FREQ=HOURLY", NULL, NULL, NULL, NULL,
         "RRULE FREQ=HOURLY: only DAILY, WEEKLY, MONTHLY and YEARLY rules are a task recurrence"},
        {"FREQ=MONTHLY;BYDAY=1MO,2TU", NULL, NULL, NULL, NULL,
         "RRULE FREQ=MONTHLY;BYDAY=1MO,2TU: days at different positions cannot be a task "
         "recurrence"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *text = apr_psprintf(g_pool, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                                        "BEGIN:VTODO\r\nSUMMARY:r\r\nDTSTART:20261207T100000Z\r\n"
                                        "RRULE:%s\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
                                        cases[i].rule);
        zx_pim_record *r = rec(ical(ZX_PIM_TASK, text), 0);
        if (cases[i].error) {
            ck_assert_ptr_null(r->props);
            ck_assert_str_eq(r->error, cases[i].error);
            continue;
        }
        ck_assert_msg(r->props != NULL, "%s: %s", cases[i].rule, r->error);
        ck_assert_str_eq(TGET(r->props, REC_TYPE), cases[i].type);
#define OPT(f, v)                                                                       \
    if (v)                                                                              \
        ck_assert_str_eq(TGET(r->props, f), v);                                         \
    else                                                                                \
        ck_assert_ptr_null(TGET(r->props, f));
        OPT(REC_DAY_OF_WEEK, cases[i].dow);
        OPT(REC_WEEK_OF_MONTH, cases[i].week);
        OPT(REC_DAY_OF_MONTH, cases[i].mday);
#undef OPT
        /* and the rule written back means the same */
        zx_ical_writer *w = zx_ical_writer_new(g_pool);
        zx_ical_writer_add(w, r->props, NULL);
        assert_same(r->props, rec(ical(ZX_PIM_TASK, zx_ical_writer_finish(w)), 0)->props);
    }
    /* an X- value the store could not take */
    zx_pim_record *x = rec(ical(ZX_PIM_TASK, "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nSUMMARY:x\r\n"
                                             "X-ZXMOBILE-CALENDAR-TYPE:99999999999\r\n"
                                             "END:VTODO\r\nEND:VCALENDAR\r\n"), 0);
    ck_assert_str_eq(x->error, "X-ZXMOBILE-CALENDAR-TYPE: \"99999999999\" is not a number");
    x = rec(ical(ZX_PIM_TASK, "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nSUMMARY:x\r\n"
                              "X-ZXMOBILE-REGENERATE:yes\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"), 0);
    ck_assert_str_eq(x->error, "X-ZXMOBILE-REGENERATE: \"yes\" is not 0 or 1");
    /* Complete needs a DateCompleted, a recurrence a start */
    x = rec(ical(ZX_PIM_TASK, "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nSUMMARY:x\r\n"
                              "DTSTAMP:20261201T080000Z\r\nSTATUS:COMPLETED\r\n"
                              "END:VTODO\r\nEND:VCALENDAR\r\n"), 0);
    ck_assert_ptr_nonnull(x->props);
    ck_assert_str_eq(TGET(x->props, DATE_COMPLETED), "2026-12-01T08:00:00.000Z");
    ck_assert_str_eq(APR_ARRAY_IDX(x->warnings, 0, const char *),
                     "STATUS:COMPLETED without COMPLETED: completed at 2026-12-01T08:00:00.000Z");
    x = rec(ical(ZX_PIM_TASK, "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nSUMMARY:x\r\n"
                              "RRULE:FREQ=DAILY\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"), 0);
    ck_assert_str_eq(x->error, "an RRULE without DTSTART or DUE: a task recurrence needs a start");
    /* libical's own complaint is the record's error */
    zx_pim_record *r = rec(ical(ZX_PIM_TASK, "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nSUMMARY:x\r\n"
                                             "DUE:notadate\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"), 0);
    ck_assert_ptr_null(r->props);
    ck_assert_ptr_nonnull(r->error);
    apr_array_header_t *none;
    const char *err;
    ck_assert_int_eq(zx_ical_read(g_pool, ZX_PIM_TASK, "BEGIN:VCARD\r\n", 13, &none, &err), -1);
    ck_assert_str_eq(err, "not an iCalendar file (no BEGIN:VCALENDAR)");
}
END_TEST

START_TEST(test_notes)
{
    apr_array_header_t *a = ical(ZX_PIM_NOTE,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VJOURNAL\r\nSUMMARY:Idea\r\n"
        "DESCRIPTION:line one\\nline\\, two\r\nCATEGORIES:A,B\r\n"
        "LAST-MODIFIED:20261201T101500Z\r\nEND:VJOURNAL\r\n"
        "BEGIN:VJOURNAL\r\nDTSTART:20261201T101500Z\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n");
    ck_assert_int_eq(a->nelts, 2);
    const zx_pim_props *n = rec(a, 0)->props;
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(zx_pim_get(n, ZX_PF_NOTE_SUBJECT), "Idea");
    ck_assert_str_eq(zx_pim_get(n, ZX_PF_NOTE_BODY), "line one\nline, two");
    ck_assert_str_eq(zx_pim_get(n, ZX_PF_NOTE_LAST_MODIFIED), "2026-12-01T10:15:00.000Z");
    ck_assert_str_eq(zx_pim_get(n, ZX_PF_NOTE_MESSAGE_CLASS), "IPM.StickyNote");
    ck_assert_int_eq(n->v[ZX_PF_NOTE_CATEGORIES].list->nelts, 2);
    ck_assert_str_eq(rec(a, 1)->error, "a VJOURNAL without SUMMARY or DESCRIPTION");
    ck_assert_int_eq(rec(a, 1)->line, 9);
    zx_ical_writer *w = zx_ical_writer_new(g_pool);
    zx_ical_writer_add(w, n, "u");
    assert_same(n, rec(ical(ZX_PIM_NOTE, zx_ical_writer_finish(w)), 0)->props);

    /* an HTML body: DESCRIPTION as text, X-ALT-DESC with the HTML, read back as HTML */
    zx_pim_props *h = zx_pim_props_new(g_pool, ZX_PIM_NOTE);
    zx_pim_set(h, ZX_PF_NOTE_SUBJECT, "H");
    zx_pim_set(h, ZX_PF_NOTE_BODY, "<p>a, b; c\\d</p>\n<p>e</p>");
    zx_pim_set(h, ZX_PF_NOTE_BODY_TYPE, "2");
    zx_pim_set(h, ZX_PF_NOTE_MESSAGE_CLASS, "IPM.StickyNote.Yellow");
    w = zx_ical_writer_new(g_pool);
    zx_ical_writer_add(w, h, NULL);
    const char *hout = zx_ical_writer_finish(w);
    ck_assert_ptr_nonnull(strstr(hout, "X-ALT-DESC;FMTTYPE=text/html:"));
    ck_assert_ptr_nonnull(strstr(hout, "X-ZXMOBILE-MESSAGE-CLASS:IPM.StickyNote.Yellow"));
    assert_same(h, rec(ical(ZX_PIM_NOTE, hout), 0)->props);

    const char *txt = "\r\n  Title line \r\n\r\nbody 1\r\nbody 2\r\n";
    zx_pim_record t = zx_note_from_text(g_pool, txt, strlen(txt));
    ck_assert_ptr_nonnull(t.props);
    ck_assert_str_eq(zx_pim_get(t.props, ZX_PF_NOTE_SUBJECT), "Title line");
    ck_assert_str_eq(zx_pim_get(t.props, ZX_PF_NOTE_BODY), "body 1\nbody 2");
    ck_assert_int_eq(t.line, 2);
    t = zx_note_from_text(g_pool, "\xff", 1);
    ck_assert_str_eq(t.error, "not UTF-8 text");
    t = zx_note_from_text(g_pool, " \n\n", 3);
    ck_assert_str_eq(t.error, "empty file");
}
END_TEST

START_TEST(test_times)
{
    apr_time_t t;
    ck_assert_int_eq(zx_pimconv_parse_time("2026-12-07T10:00:00.000Z", &t), 0);
    ck_assert_str_eq(zx_pimconv_time(g_pool, t), "2026-12-07T10:00:00.000Z");
    ck_assert_int_eq(zx_pimconv_parse_time("20261207T100000Z", &t), 0);
    ck_assert_str_eq(zx_pimconv_time(g_pool, t), "2026-12-07T10:00:00.000Z");
    ck_assert_int_eq(zx_pimconv_parse_time("2026-02-30T10:00:00Z", &t), -1);
    ck_assert_int_eq(zx_pimconv_parse_time("2026-12-07T10:00:00", &t), -1);
}
END_TEST

/* a task of rec fields "type,start,interval,dow,wom,occurrences" starting at start */
static zx_pim_props *rtask(const char *type, const char *start, const char *interval,
                           const char *dow, const char *wom, const char *occ)
{
    zx_pim_props *t = zx_pim_props_new(g_pool, ZX_PIM_TASK);
    zx_pim_set(t, ZX_PF_TASK_START_DATE, start);
    zx_pim_set(t, ZX_PF_TASK_UTC_START_DATE, start);
    zx_pim_set(t, ZX_PF_TASK_REC_TYPE, type);
    zx_pim_set(t, ZX_PF_TASK_REC_START, start);
    zx_pim_set(t, ZX_PF_TASK_REC_INTERVAL, interval);
    if (dow)
        zx_pim_set(t, ZX_PF_TASK_REC_DAY_OF_WEEK, dow);
    if (wom)
        zx_pim_set(t, ZX_PF_TASK_REC_WEEK_OF_MONTH, wom);
    if (occ)
        zx_pim_set(t, ZX_PF_TASK_REC_OCCURRENCES, occ);
    return t;
}

START_TEST(test_task_next_occurrence)
{
    /* weekly on Monday (2) and Thursday (16): Monday 7 Dec -> Thursday 10 Dec */
    zx_pim_props *t = rtask("1", "2026-12-07T18:00:00.000Z", "1", "18", NULL, NULL);
    zx_pim_set(t, ZX_PF_TASK_UTC_DUE_DATE, "2026-12-07T19:00:00.000Z");
    zx_pim_props *n = zx_pim_props_new(g_pool, ZX_PIM_TASK);
    ck_assert_int_eq(zx_pim_task_next(g_pool, t, n), 0);
    ck_assert_str_eq(zx_pim_get(n, ZX_PF_TASK_START_DATE), "2026-12-10T18:00:00.000Z");
    ck_assert_str_eq(zx_pim_get(n, ZX_PF_TASK_UTC_DUE_DATE), "2026-12-10T19:00:00.000Z");
    ck_assert_ptr_null(zx_pim_get(n, ZX_PF_TASK_DUE_DATE));
    /* monthly, the 2nd Tuesday (type 3, DayOfWeek 4, WeekOfMonth 2), every 2 months */
    t = rtask("3", "2026-12-08T09:00:00.000Z", "2", "4", "2", NULL);
    n = zx_pim_props_new(g_pool, ZX_PIM_TASK);
    ck_assert_int_eq(zx_pim_task_next(g_pool, t, n), 0);
    ck_assert_str_eq(zx_pim_get(n, ZX_PF_TASK_START_DATE), "2027-02-09T09:00:00.000Z");
    /* the last of 3 daily occurrences: none after it */
    t = rtask("0", "2026-12-01T09:00:00.000Z", "1", NULL, NULL, "3");
    zx_pim_set(t, ZX_PF_TASK_START_DATE, "2026-12-03T09:00:00.000Z");
    n = zx_pim_props_new(g_pool, ZX_PIM_TASK);
    ck_assert_int_eq(zx_pim_task_next(g_pool, t, n), 1);
    /* Regenerate: 10 days after the completion */
    t = rtask("0", "2026-12-01T09:00:00.000Z", "10", NULL, NULL, NULL);
    zx_pim_set(t, ZX_PF_TASK_REC_REGENERATE, "1");
    zx_pim_set(t, ZX_PF_TASK_DATE_COMPLETED, "2026-12-05T09:00:00.000Z");
    n = zx_pim_props_new(g_pool, ZX_PIM_TASK);
    ck_assert_int_eq(zx_pim_task_next(g_pool, t, n), 0);
    ck_assert_str_eq(zx_pim_get(n, ZX_PF_TASK_START_DATE), "2026-12-15T09:00:00.000Z");
    /* no recurrence */
    t = zx_pim_props_new(g_pool, ZX_PIM_TASK);
    ck_assert_int_eq(zx_pim_task_next(g_pool, t, n), -1);
}
END_TEST

int main(void)
{
    apr_initialize();
    Suite *s = suite_create("pimconv");
    TCase *tc = tcase_create("pimconv");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_vcard30_every_field);
    tcase_add_test(tc, test_vcard40_forms);
    tcase_add_test(tc, test_vcard21);
    tcase_add_test(tc, test_vcard_big_photo);
    tcase_add_test(tc, test_vcard_bad_records);
    tcase_add_test(tc, test_vcard_write_round_trip);
    tcase_add_test(tc, test_vtodo);
    tcase_add_test(tc, test_vtodo_recurrences_and_errors);
    tcase_add_test(tc, test_notes);
    tcase_add_test(tc, test_times);
    tcase_add_test(tc, test_task_next_occurrence);
    suite_add_tcase(s, tc);
    return zx_run_tap(s);
}
