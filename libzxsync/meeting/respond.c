/* zxmobile - an attendee's response (zxsync/meeting.h): the event as Exchange records it, the
 * iTIP REPLY mailed to the organizer, the GlobalObjId of a UID, and the account's busy time. */
#include "meeting_int.h"

#include <zxsync/db.h>

#include <apr_base64.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the response ---------------------------------------------------------------------------- */

static const char *response_type(int response)
{
    return response == ZX_MEETING_ACCEPT ? "3" : response == ZX_MEETING_TENTATIVE ? "2" : "4";
}

typedef struct {
    apr_time_t want;
    int found;
} occ_find;

static int is_occurrence(const zx_pimcal_occurrence *o, void *baton)
{
    occ_find *f = baton;
    if (o->original == f->want)
        f->found = 1;
    return 1;
}

int zx_meeting_respond(zx_store *st, const char *id, const char *instance, int response,
                       int intended_busy, const char **err)
{
    apr_pool_t *p = st->pool;
    zx_pim_props *ev;
    int rc = zx_meeting_load_event(st, id, &ev, err);
    if (rc != ZX_STORE_OK)
        return rc;
    const char *now = zx_pimconv_time(p, apr_time_now());
    const char *busy = response == ZX_MEETING_TENTATIVE
                           ? "1"
                           : intended_busy >= 0 && intended_busy != 1 ? apr_itoa(p, intended_busy)
                                                                      : "2";
    if (instance) {
        apr_time_t t;
        if (!zx_pim_get(ev, EV(REC_TYPE)) || zx_pimconv_parse_time(instance, &t) < 0)
            return ZX_STORE_NOT_FOUND;
        occ_find f = {t, 0};
        zx_pimcal_occurrences(p, ev, t, t + 1, is_occurrence, &f);
        if (!f.found)
            return ZX_STORE_NOT_FOUND;
        zx_pim_props *old = NULL;
        apr_array_header_t *xs = zx_meeting_exceptions_but(p, ev, instance, &old);
        zx_pim_props *x = old ? apr_pmemdup(p, old, sizeof *old)
                              : zx_pim_props_new(p, ZX_PIM_EXCEPTION);
        zx_pim_set(x, EX(EXCEPTION_START), zx_pimconv_time(p, t));
        if (response == ZX_MEETING_DECLINE) {
            zx_pim_set(x, EX(DELETED), "1");
        }
        else {
            zx_pim_set(x, EX(RESPONSE_TYPE), response_type(response));
            zx_pim_set(x, EX(APPOINTMENT_REPLY_TIME), now);
            zx_pim_set(x, EX(BUSY_STATUS), busy);
        }
        APR_ARRAY_PUSH(xs, zx_pim_props *) = x;
        zx_pim_props *ch = zx_pim_props_new(p, ZX_PIM_CALENDAR);
        ch->exceptions = xs;
        ch->exceptions_set = 1;
        zx_item_changes c = zx_meeting_changes(ch);
        rc = zx_store_item_update(st, id, &c, NULL, err);
        if (rc != ZX_STORE_OK)
            return rc;
        return zx_meeting_rewindow(st, id, err) < 0 ? ZX_STORE_ERROR : ZX_STORE_OK;
    }
    if (response == ZX_MEETING_DECLINE)
        return zx_store_item_delete(st, id, NULL, err);
    zx_pim_props *ch = zx_pim_props_new(p, ZX_PIM_CALENDAR);
    zx_pim_set(ch, EV(RESPONSE_TYPE), response_type(response));
    zx_pim_set(ch, EV(APPOINTMENT_REPLY_TIME), now);
    zx_pim_set(ch, EV(BUSY_STATUS), busy);
    zx_item_changes c = zx_meeting_changes(ch);
    return zx_store_item_update(st, id, &c, NULL, err);
}

/* ---- the REPLY ------------------------------------------------------------------------------- */

static const char *ical_time(apr_pool_t *p, const char *datetime)
{
    apr_time_t t;
    if (!datetime || zx_pimconv_parse_time(datetime, &t) < 0)
        return NULL;
    apr_time_exp_t x;
    apr_time_exp_gmt(&x, t);
    return apr_psprintf(p, "%04d%02d%02dT%02d%02d%02dZ", x.tm_year + 1900, x.tm_mon + 1,
                        x.tm_mday, x.tm_hour, x.tm_min, x.tm_sec);
}

static const char *ical_text(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s);
    char *out = apr_palloc(p, 2 * n + 1), *w = out;
    for (; *s; s++) {
        if (*s == '\\' || *s == ';' || *s == ',') {
            *w++ = '\\';
            *w++ = *s;
        }
        else if (*s == '\n') {
            *w++ = '\\';
            *w++ = 'n';
        }
        else if (*s != '\r') {
            *w++ = *s;
        }
    }
    *w = '\0';
    return out;
}

/* one content line, folded at 75 octets (RFC 5545 3.1), not inside a UTF-8 character */
static void line(apr_pool_t *p, apr_array_header_t *out, const char *s)
{
    apr_size_t n = strlen(s), at = 0, room = 75;
    while (n - at > room) {
        apr_size_t cut = at + room;
        while (cut > at && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
        APR_ARRAY_PUSH(out, const char *) =
            apr_pstrcat(p, at ? " " : "", apr_pstrndup(p, s + at, cut - at), "\r\n", NULL);
        at = cut;
        room = 74;
    }
    APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p, at ? " " : "", s + at, "\r\n", NULL);
}

static const char *quoted_cn(apr_pool_t *p, const char *name)
{
    char *c = apr_pstrdup(p, name);
    for (char *s = c; *s; s++)
        if (*s == '"' || *s == '\r' || *s == '\n')
            *s = '\'';
    return c;
}

/* a header value without line breaks */
static const char *one_line(apr_pool_t *p, const char *s)
{
    char *c = apr_pstrdup(p, s ? s : "");
    for (char *w = c; *w; w++)
        if (*w == '\r' || *w == '\n')
            *w = ' ';
    return c;
}

const char *zx_meeting_reply_message(apr_pool_t *p, const zx_pim_props *ev,
                                     const char *recurrence_id, int sequence,
                                     const char *attendee, int response, const char *note,
                                     int note_html, apr_size_t *len)
{
    const char *uid = zx_pim_get(ev, EV(UID));
    const char *org = zx_pim_get(ev, EV(ORGANIZER_EMAIL));
    if (!uid || !org || !*org || !attendee)
        return NULL;
    const char *partstat = response == ZX_MEETING_ACCEPT      ? "ACCEPTED"
                           : response == ZX_MEETING_TENTATIVE ? "TENTATIVE"
                                                              : "DECLINED";
    const char *verb = response == ZX_MEETING_ACCEPT      ? "Accepted"
                       : response == ZX_MEETING_TENTATIVE ? "Tentative"
                                                          : "Declined";
    const char *subject = zx_pim_get(ev, EV(SUBJECT));
    apr_array_header_t *l = apr_array_make(p, 24, sizeof(const char *));
    line(p, l, "BEGIN:VCALENDAR");
    line(p, l, "PRODID:-//zxmobile//meetings//EN");
    line(p, l, "VERSION:2.0");
    line(p, l, "METHOD:REPLY");
    line(p, l, "BEGIN:VEVENT");
    line(p, l, apr_pstrcat(p, "UID:", uid, NULL));
    line(p, l, apr_pstrcat(p, "DTSTAMP:", ical_time(p, zx_pimconv_time(p, apr_time_now())), NULL));
    if (sequence >= 0)
        line(p, l, apr_psprintf(p, "SEQUENCE:%d", sequence));
    if (recurrence_id && ical_time(p, recurrence_id))
        line(p, l, apr_pstrcat(p, "RECURRENCE-ID:", ical_time(p, recurrence_id), NULL));
    const char *start = ical_time(p, zx_pim_get(ev, EV(START)));
    const char *end = ical_time(p, zx_pim_get(ev, EV(END)));
    if (start && !recurrence_id)
        line(p, l, apr_pstrcat(p, "DTSTART:", start, NULL));
    if (end && !recurrence_id)
        line(p, l, apr_pstrcat(p, "DTEND:", end, NULL));
    line(p, l, apr_pstrcat(p, "SUMMARY:", ical_text(p, apr_pstrcat(p, verb, ": ", subject ? subject : "", NULL)), NULL));
    const char *oname = zx_pim_get(ev, EV(ORGANIZER_NAME));
    line(p, l, apr_pstrcat(p, "ORGANIZER", oname && *oname ? ";CN=\"" : "",
                           oname && *oname ? quoted_cn(p, oname) : "", oname && *oname ? "\"" : "",
                           ":mailto:", org, NULL));
    const char *aname = NULL;
    apr_array_header_t *atts = ev->v[EV(ATTENDEES)].list;
    for (int i = 0; atts && i < atts->nelts; i++) {
        zx_pim_attendee a;
        zx_pim_attendee_decode(p, APR_ARRAY_IDX(atts, i, const char *), &a);
        if (a.email && strcasecmp(a.email, attendee) == 0 && a.name && *a.name)
            aname = a.name;
    }
    line(p, l, apr_pstrcat(p, "ATTENDEE;PARTSTAT=", partstat, aname ? ";CN=\"" : "",
                           aname ? quoted_cn(p, aname) : "", aname ? "\"" : "",
                           ":mailto:", attendee, NULL));
    line(p, l, "END:VEVENT");
    line(p, l, "END:VCALENDAR");
    const char *ics = apr_array_pstrcat(p, l, 0);
    char date[APR_RFC822_DATE_LEN];
    apr_rfc822_date(date, apr_time_now());
    const char *msg = apr_pstrcat(
        p, "From: ", one_line(p, attendee), "\r\n", "To: ", one_line(p, org), "\r\n",
        "Subject: ", one_line(p, apr_pstrcat(p, verb, ": ", subject ? subject : "", NULL)),
        "\r\n", "Date: ", date, "\r\n",
        "Message-ID: <", apr_psprintf(p, "%" APR_TIME_T_FMT ".%lx", apr_time_now(),
                                      (unsigned long)rand()),
        ".reply@zxmobile>\r\n", "MIME-Version: 1.0\r\n", NULL);
    const char *calpart = apr_pstrcat(p, "Content-Type: text/calendar; charset=UTF-8; "
                                      "method=REPLY\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
                                      ics, NULL);
    if (note && *note) {
        /* a boundary that cannot occur in either part: base64-free, random */
        const char *b = apr_psprintf(p, "=_zxmobile_%" APR_TIME_T_FMT "_%lx", apr_time_now(),
                                     (unsigned long)rand());
        msg = apr_pstrcat(p, msg, "Content-Type: multipart/alternative; boundary=\"", b,
                          "\"\r\n\r\n--", b, "\r\nContent-Type: ",
                          note_html ? "text/html" : "text/plain",
                          "; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", note,
                          "\r\n--", b, "\r\n", calpart, "--", b, "--\r\n", NULL);
    }
    else {
        msg = apr_pstrcat(p, msg, calpart, NULL);
    }
    *len = strlen(msg);
    return msg;
}

/* ---- GlobalObjId -------------------------------------------------------------------------------- */

static const unsigned char class_id[16] = {0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00,
                                           0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

const char *zx_meeting_global_obj_id(apr_pool_t *p, const char *uid, const char *instance)
{
    apr_size_t ulen = strlen(uid);
    unsigned char *b;
    apr_size_t n;
    int outlook = ulen >= 80 && ulen % 2 == 0 && strncasecmp(uid, "040000008200E00074C5B7101A82E008", 32) == 0;
    for (apr_size_t i = 0; outlook && i < ulen; i++)
        if (hexval(uid[i]) < 0)
            outlook = 0;
    if (outlook) {
        n = ulen / 2;
        b = apr_palloc(p, n);
        for (apr_size_t i = 0; i < n; i++)
            b[i] = (unsigned char)(hexval(uid[2 * i]) << 4 | hexval(uid[2 * i + 1]));
    }
    else {
        /* CLASSID INSTDATE NOW RESERVED BYTECOUNT "vCal-Uid" VERSION UID NUL */
        apr_size_t data = 8 + 4 + ulen + 1;
        n = 16 + 4 + 8 + 8 + 4 + data;
        b = apr_pcalloc(p, n);
        memcpy(b, class_id, 16);
        b[36] = (unsigned char)(data & 0xFF);
        b[37] = (unsigned char)((data >> 8) & 0xFF);
        b[38] = (unsigned char)((data >> 16) & 0xFF);
        b[39] = (unsigned char)((data >> 24) & 0xFF);
        memcpy(b + 40, "vCal-Uid", 8);
        b[48] = 1;
        memcpy(b + 52, uid, ulen);
    }
    apr_time_t t;
    if (instance && zx_pimconv_parse_time(instance, &t) == 0) {
        apr_time_exp_t x;
        apr_time_exp_gmt(&x, t);
        int y = x.tm_year + 1900;
        b[16] = (unsigned char)(y >> 8);
        b[17] = (unsigned char)(y & 0xFF);
        b[18] = (unsigned char)(x.tm_mon + 1);
        b[19] = (unsigned char)x.tm_mday;
    }
    char *out = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)n));
    apr_base64_encode_binary(out, b, (int)n);
    return out;
}

/* ---- free/busy --------------------------------------------------------------------------------- */

typedef struct {
    apr_time_t from, to;
    const zx_pim_props *ev;
    apr_array_header_t *out;
} fb_ctx;

static int int_of(const char *s, int dflt)
{
    return s && *s ? atoi(s) : dflt;
}

static int collect(const zx_pimcal_occurrence *o, void *baton)
{
    fb_ctx *c = baton;
    if (o->start >= c->to)
        return 0;
    if (o->end <= c->from && !(o->end == o->start && o->start >= c->from))
        return 0;
    int busy = int_of(zx_pim_get(c->ev, EV(BUSY_STATUS)), 2);
    int ms = int_of(zx_pim_get(c->ev, EV(MEETING_STATUS)), 0);
    if (o->exception) {
        busy = int_of(zx_pim_get(o->exception, EX(BUSY_STATUS)), busy);
        ms = int_of(zx_pim_get(o->exception, EX(MEETING_STATUS)), ms);
    }
    if (busy == 0 || ms == 5 || ms == 7 || ms == 13 || ms == 15)
        return 0;
    zx_meeting_busy *b = apr_array_push(c->out);
    b->start = o->start;
    b->end = o->end;
    b->busy_status = busy;
    return 0;
}

static int by_start(const void *a, const void *b)
{
    const zx_meeting_busy *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

int zx_meeting_freebusy(zx_store *st, apr_time_t from, apr_time_t to,
                        apr_array_header_t **out, const char **err)
{
    apr_pool_t *p = st->pool;
    *out = apr_array_make(p, 8, sizeof(zx_meeting_busy));
    const char *params[3] = {st->account_id, zx_pimconv_time(p, from), zx_pimconv_time(p, to)};
    PGresult *r = zx_db_exec(st->db,
                             "SELECT c.item_id FROM calendar c JOIN items i ON i.id = c.item_id "
                             "WHERE c.account_id = $1::bigint AND NOT i.deleted AND "
                             "(c.last_end IS NULL OR c.last_end > $2::timestamptz) AND "
                             "c.start_time < $3::timestamptz ORDER BY c.item_id",
                             3, params, err);
    if (!r)
        return -1;
    int n = PQntuples(r);
    apr_array_header_t *ids = apr_array_make(p, n > 0 ? n : 1, sizeof(const char *));
    for (int i = 0; i < n; i++)
        APR_ARRAY_PUSH(ids, const char *) = apr_pstrdup(p, PQgetvalue(r, i, 0));
    PQclear(r);
    for (int i = 0; i < ids->nelts; i++) {
        zx_pim_props *ev;
        int rc = zx_meeting_load_event(st, APR_ARRAY_IDX(ids, i, const char *), &ev, err);
        if (rc < 0)
            return -1;
        if (rc != ZX_STORE_OK)
            continue;
        fb_ctx c = {from, to, ev, *out};
        /* an occurrence that began before from may still run into it: its original start
         * is looked for a week earlier */
        zx_pimcal_occurrences(p, ev, from - apr_time_from_sec(7 * 86400), to, collect, &c);
    }
    if ((*out)->nelts > 1)
        qsort((*out)->elts, (size_t)(*out)->nelts, sizeof(zx_meeting_busy), by_start);
    return 0;
}
