/* zxmobile - delivery of meeting messages (zxsync/meeting.h): the message is stored, its iTIP
 * object (the first text/calendar part, read by the iCalendar converter of pim/) is applied
 * to the account's calendar and kept in meeting_messages, all in one transaction. */
#include "meeting_int.h"

#include <zxsync/db.h>
#include <zxsync/mime.h>

#include <apr_strings.h>
#include <apr_lib.h>
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the calendar part -------------------------------------------------------------------- */

typedef struct {
    apr_pool_t *p;
    const char *ics;
    apr_size_t len;
} part_ctx;

static void find_calendar(GMimeObject *parent, GMimeObject *part, gpointer data)
{
    (void)parent;
    part_ctx *c = data;
    if (c->ics || !GMIME_IS_PART(part))
        return;
    GMimeContentType *ct = g_mime_object_get_content_type(part);
    if (!ct || !g_mime_content_type_is_type(ct, "text", "calendar"))
        return;
    GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(part));
    if (!w)
        return;
    GMimeStream *out = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(w, out);
    GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
    char *s = apr_palloc(c->p, ba->len + 1);
    if (ba->len)
        memcpy(s, ba->data, ba->len);
    s[ba->len] = '\0';
    c->ics = s;
    c->len = ba->len;
    g_object_unref(out);
}

/* the decoded first text/calendar part of a message, NULL when it has none */
static const char *calendar_part(apr_pool_t *p, const char *data, apr_size_t len,
                                 apr_size_t *ics_len)
{
    zx_mime_init();
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(s);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    part_ctx c = {p, NULL, 0};
    if (msg) {
        g_mime_message_foreach(msg, find_calendar, &c);
        g_object_unref(msg);
    }
    g_object_unref(parser);
    g_object_unref(s);
    *ics_len = c.len;
    return c.ics;
}

/* ---- the props of an invitation as text ---------------------------------------------------- */

#define US "\x1f"
#define RS "\x1e"

static const char *clean(apr_pool_t *p, const char *v)
{
    if (!strpbrk(v, US RS))
        return v;
    char *c = apr_pstrdup(p, v);
    for (char *s = c; *s; s++)
        if (*s == 0x1f || *s == 0x1e)
            *s = ' ';
    return c;
}

static const char *props_text(apr_pool_t *p, const zx_pim_props *ev)
{
    const zx_pim_class_def *cd = &zx_pim_classes[ZX_PIM_CALENDAR];
    apr_array_header_t *parts = apr_array_make(p, 32, sizeof(const char *));
    for (int f = (int)cd->first; f < (int)cd->last; f++) {
        const zx_pim_value *v = &ev->v[f];
        if (v->list) {
            for (int i = 0; i < v->list->nelts; i++)
                APR_ARRAY_PUSH(parts, const char *) =
                    apr_pstrcat(p, zx_pim_fields[f].column, US,
                                clean(p, APR_ARRAY_IDX(v->list, i, const char *)), NULL);
        }
        else if (v->text) {
            APR_ARRAY_PUSH(parts, const char *) =
                apr_pstrcat(p, zx_pim_fields[f].column, US, clean(p, v->text), NULL);
        }
    }
    return apr_array_pstrcat(p, parts, 0x1e);
}

static zx_pim_props *props_of_text(apr_pool_t *p, const char *text)
{
    zx_pim_props *ev = zx_pim_props_new(p, ZX_PIM_CALENDAR);
    char *copy = apr_pstrdup(p, text ? text : ""), *last = NULL;
    for (char *rec = apr_strtok(copy, RS, &last); rec; rec = apr_strtok(NULL, RS, &last)) {
        char *us = strchr(rec, 0x1f);
        if (!us)
            continue;
        *us = '\0';
        int f = zx_pim_field_by_column(ZX_PIM_CALENDAR, rec);
        if (f < 0)
            continue;
        if (zx_pim_fields[f].type == ZX_PT_LIST) {
            apr_array_header_t *l = ev->v[f].list;
            if (!l)
                l = apr_array_make(p, 4, sizeof(const char *));
            APR_ARRAY_PUSH(l, const char *) = us + 1;
            zx_pim_set_list(ev, (zx_pim_field)f, l);
        }
        else {
            zx_pim_set(ev, (zx_pim_field)f, us + 1);
        }
    }
    return ev;
}

/* ---- shared helpers ------------------------------------------------------------------------ */

int zx_meeting_same_time(const char *a, const char *b)
{
    apr_time_t x, y;
    if (!a || !b || zx_pimconv_parse_time(a, &x) < 0 || zx_pimconv_parse_time(b, &y) < 0)
        return 0;
    return x == y;
}

int zx_meeting_load_event(zx_store *st, const char *id, zx_pim_props **ev, const char **err)
{
    zx_item *item;
    *ev = NULL;
    int rc = zx_store_item_get(st, id, &item, err);
    if (rc != ZX_STORE_OK)
        return rc < 0 ? ZX_STORE_ERROR : ZX_STORE_NOT_FOUND;
    if (!item->item_class || strcmp(item->item_class, "Calendar") != 0)
        return ZX_STORE_NOT_FOUND;
    apr_array_header_t *one = apr_array_make(st->pool, 1, sizeof(zx_item *));
    APR_ARRAY_PUSH(one, zx_item *) = item;
    zx_content_want want = {0, 0, 0};
    if (zx_store_item_contents(st, one, &want, err) < 0)
        return ZX_STORE_ERROR;
    if (!item->content || !item->content->pim)
        return ZX_STORE_NOT_FOUND;
    *ev = apr_pmemdup(st->pool, item->content->pim, sizeof(zx_pim_props));
    return ZX_STORE_OK;
}

int zx_meeting_rewindow(zx_store *st, const char *id, const char **err)
{
    zx_pim_props *ev;
    int rc = zx_meeting_load_event(st, id, &ev, err);
    if (rc != ZX_STORE_OK)
        return rc < 0 ? -1 : 0;
    const char *before = ev->v[EV(LAST_END)].text;
    ev->v[EV(LAST_END)].text = NULL;
    zx_pimcal_prepare(st->pool, ev);
    const char *after = ev->v[EV(LAST_END)].text;
    if ((!before && !after) || (before && after && zx_meeting_same_time(before, after)))
        return 0;
    return zx_store_calendar_window(st, id, after, err) < 0 ? -1 : 0;
}

zx_item_changes zx_meeting_changes(const zx_pim_props *pr)
{
    zx_item_changes ch;
    memset(&ch, 0, sizeof ch);
    ch.read = ch.answered = ch.forwarded = ch.last_verb = -1;
    ch.pim = pr;
    return ch;
}

/* a stored exception as one to store again: every field it has is set */
static zx_pim_props *exception_copy(apr_pool_t *p, const zx_pim_props *x)
{
    zx_pim_props *c = apr_pmemdup(p, x, sizeof *x);
    const zx_pim_class_def *cd = &zx_pim_classes[ZX_PIM_EXCEPTION];
    for (int f = (int)cd->first; f < (int)cd->last; f++)
        c->set[f] = c->v[f].text || c->v[f].list;
    return c;
}

apr_array_header_t *zx_meeting_exceptions_but(apr_pool_t *p, const zx_pim_props *ev,
                                              const char *start, zx_pim_props **old)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(zx_pim_props *));
    if (old)
        *old = NULL;
    for (int i = 0; ev->exceptions && i < ev->exceptions->nelts; i++) {
        zx_pim_props *x =
            exception_copy(p, APR_ARRAY_IDX(ev->exceptions, i, const zx_pim_props *));
        if (start && zx_meeting_same_time(zx_pim_get(x, EX(EXCEPTION_START)), start)) {
            if (old)
                *old = x;
            continue;
        }
        APR_ARRAY_PUSH(out, zx_pim_props *) = x;
    }
    return out;
}

int zx_meeting_find_event(zx_store *st, const char *uid, const char **id, const char **err)
{
    *id = NULL;
    const char *params[2] = {st->account_id, uid};
    PGresult *r = zx_db_exec(st->db,
                             "SELECT c.item_id FROM calendar c JOIN items i ON i.id = c.item_id "
                             "WHERE c.account_id = $1::bigint AND c.uid = $2 AND NOT i.deleted "
                             "ORDER BY c.item_id LIMIT 1",
                             2, params, err);
    if (!r)
        return ZX_STORE_ERROR;
    if (PQntuples(r) == 1)
        *id = apr_pstrdup(st->pool, PQgetvalue(r, 0, 0));
    PQclear(r);
    return *id ? ZX_STORE_OK : ZX_STORE_NOT_FOUND;
}

int zx_meeting_requests_of(zx_store *st, const char *uid, apr_array_header_t **out,
                           const char **err)
{
    *out = apr_array_make(st->pool, 2, sizeof(zx_item *));
    const char *params[2] = {st->account_id, uid};
    PGresult *r = zx_db_exec(st->db,
                             "SELECT i.id, i.folder_id FROM meeting_messages m JOIN items i ON "
                             "i.message_id = m.message_id JOIN folders f ON f.id = i.folder_id "
                             "WHERE m.account_id = $1::bigint AND m.uid = $2 AND "
                             "m.method = 'REQUEST' AND i.account_id = $1::bigint AND "
                             "NOT i.deleted AND NOT (f.system AND f.type = 4) ORDER BY i.id",
                             2, params, err);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        zx_item *it = apr_pcalloc(st->pool, sizeof *it);
        it->id = apr_pstrdup(st->pool, PQgetvalue(r, i, 0));
        it->folder_id = apr_pstrdup(st->pool, PQgetvalue(r, i, 1));
        APR_ARRAY_PUSH(*out, zx_item *) = it;
    }
    PQclear(r);
    return 0;
}

int zx_meeting_get(zx_store *st, const char *item_id, zx_meeting_info **out, const char **err)
{
    *out = NULL;
    const char *params[2] = {item_id, st->account_id};
    PGresult *r = zx_db_exec(
        st->db,
        "SELECT m.method, m.uid, m.sequence, to_char(m.recurrence_id AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), m.message_type, m.rsvp, m.intended_busy, "
        "m.event_id, m.props FROM items i JOIN meeting_messages m ON m.message_id = i.message_id "
        "WHERE i.id = $1::bigint AND i.account_id = $2::bigint AND m.account_id = $2::bigint",
        2, params, err);
    if (!r)
        return ZX_STORE_ERROR;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return ZX_STORE_NOT_FOUND;
    }
    apr_pool_t *p = st->pool;
    zx_meeting_info *m = apr_pcalloc(p, sizeof *m);
    m->item_id = apr_pstrdup(p, item_id);
    m->method = apr_pstrdup(p, PQgetvalue(r, 0, 0));
    m->uid = PQgetisnull(r, 0, 1) ? NULL : apr_pstrdup(p, PQgetvalue(r, 0, 1));
    m->sequence = PQgetisnull(r, 0, 2) ? -1 : atoi(PQgetvalue(r, 0, 2));
    m->recurrence_id = PQgetisnull(r, 0, 3) ? NULL : apr_pstrdup(p, PQgetvalue(r, 0, 3));
    m->message_type = atoi(PQgetvalue(r, 0, 4));
    m->rsvp = PQgetvalue(r, 0, 5)[0] == 't';
    m->intended_busy = PQgetisnull(r, 0, 6) ? -1 : atoi(PQgetvalue(r, 0, 6));
    m->event_id = PQgetisnull(r, 0, 7) ? NULL : apr_pstrdup(p, PQgetvalue(r, 0, 7));
    m->ev = props_of_text(p, PQgetvalue(r, 0, 8));
    PQclear(r);
    *out = m;
    return ZX_STORE_OK;
}

/* ---- applying an iTIP object ---------------------------------------------------------------- */

typedef struct {
    zx_store *st;
    apr_pool_t *p;
    const char *account;
    const zx_pim_record *rec;
    const char *method;
    const char *uid;
    int sequence;               /* -1: none */
    const char *dtstamp;
    const char *event_id;       /* out: the event it was applied to */
    int message_type;
} itip;

/* 1 when this account has seen this invitation or a newer one of the UID already */
static int outdated(itip *t, const char **err)
{
    const char *params[5] = {t->st->account_id, t->uid,
                             t->sequence >= 0 ? apr_itoa(t->p, t->sequence) : NULL, t->dtstamp,
                             t->rec->recurrence_id};
    PGresult *r = zx_db_exec(
        t->st->db,
        "SELECT 1 FROM meeting_messages WHERE account_id = $1::bigint AND uid = $2 AND "
        "method = 'REQUEST' AND recurrence_id IS NOT DISTINCT FROM $5::timestamptz AND "
        "(coalesce(sequence, 0) > coalesce($3::integer, 0) OR "
        " (coalesce(sequence, 0) = coalesce($3::integer, 0) AND "
        "  coalesce(dtstamp, '-infinity') >= coalesce($4::timestamptz, '-infinity'))) LIMIT 1",
        5, params, err);
    if (!r)
        return -1;
    int yes = PQntuples(r) > 0;
    PQclear(r);
    return yes;
}

/* the invitation's fields as a whole-event change (what the attendee keeps is kept) */
static zx_pim_props *as_change(itip *t, const zx_pim_props *inv)
{
    zx_pim_props *ch = zx_pim_props_new(t->p, ZX_PIM_CALENDAR);
    const zx_pim_class_def *cd = &zx_pim_classes[ZX_PIM_CALENDAR];
    for (int f = (int)cd->first; f < (int)cd->last; f++) {
        if (f == EV(LAST_END) || f == EV(CLIENT_UID) || f == EV(APPOINTMENT_REPLY_TIME))
            continue;
        ch->v[f] = inv->v[f];
        ch->set[f] = 1;
    }
    ch->exceptions = inv->exceptions;
    ch->exceptions_set = 1;
    return ch;
}

static zx_pim_props *tentative(itip *t)
{
    zx_pim_props *ev = apr_pmemdup(t->p, t->rec->props, sizeof(zx_pim_props));
    zx_pim_set(ev, EV(BUSY_STATUS), "1");
    zx_pim_set(ev, EV(MEETING_STATUS), "3");
    zx_pim_set(ev, EV(RESPONSE_TYPE), "5");
    zx_pim_set(ev, EV(RESPONSE_REQUESTED), t->rec->rsvp ? "1" : "0");
    return ev;
}

/* an invitation of one occurrence as the exception of its series */
static zx_pim_props *occurrence_exception(itip *t, const zx_pim_props *inv)
{
    zx_pim_props *x = zx_pim_props_new(t->p, ZX_PIM_EXCEPTION);
    zx_pim_set(x, EX(EXCEPTION_START), t->rec->recurrence_id);
    static const struct {
        zx_pim_field ev, ex;
    } same[] = {
        {EV(ALL_DAY), EX(ALL_DAY)}, {EV(DTSTAMP), EX(DTSTAMP)}, {EV(END), EX(END)},
        {EV(LOCATION), EX(LOCATION)}, {EV(REMINDER), EX(REMINDER)},
        {EV(SENSITIVITY), EX(SENSITIVITY)}, {EV(SUBJECT), EX(SUBJECT)},
        {EV(START), EX(START)}, {EV(BODY), EX(BODY)}, {EV(BODY_TYPE), EX(BODY_TYPE)},
        {EV(ATTENDEES), EX(ATTENDEES)}, {EV(CATEGORIES), EX(CATEGORIES)},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        if (inv->v[same[i].ev].list)
            zx_pim_set_list(x, same[i].ex, inv->v[same[i].ev].list);
        else if (inv->v[same[i].ev].text)
            zx_pim_set(x, same[i].ex, inv->v[same[i].ev].text);
    }
    zx_pim_set(x, EX(BUSY_STATUS), "1");
    zx_pim_set(x, EX(MEETING_STATUS), "3");
    zx_pim_set(x, EX(RESPONSE_TYPE), "5");
    return x;
}

static int set_exceptions(itip *t, const char *id, apr_array_header_t *xs, const char **err)
{
    zx_pim_props *ch = zx_pim_props_new(t->p, ZX_PIM_CALENDAR);
    ch->exceptions = xs;
    ch->exceptions_set = 1;
    zx_item_changes c = zx_meeting_changes(ch);
    if (zx_store_item_update(t->st, id, &c, NULL, err) < 0)
        return -1;
    return zx_meeting_rewindow(t->st, id, err);
}

static int apply_request(itip *t, const char **err)
{
    int old = outdated(t, err);
    if (old < 0)
        return -1;
    const char *id = NULL;
    if (zx_meeting_find_event(t->st, t->uid, &id, err) < 0)
        return -1;
    if (old) {
        t->event_id = id;
        t->message_type = 4;    /* outdated */
        return 0;
    }
    zx_pim_props *inv = tentative(t);
    if (id && t->rec->recurrence_id) {
        zx_pim_props *series;
        int rc = zx_meeting_load_event(t->st, id, &series, err);
        if (rc < 0)
            return -1;
        if (rc == ZX_STORE_OK && zx_pim_get(series, EV(REC_TYPE))) {
            apr_array_header_t *xs =
                zx_meeting_exceptions_but(t->p, series, t->rec->recurrence_id, NULL);
            APR_ARRAY_PUSH(xs, zx_pim_props *) = occurrence_exception(t, inv);
            t->event_id = id;
            t->message_type = 2;
            return set_exceptions(t, id, xs, err);
        }
        /* the event of that UID is no series: the occurrence replaces it */
    }
    if (id) {
        zx_pim_props *ch = as_change(t, inv);
        zx_item_changes c = zx_meeting_changes(ch);
        int rc = zx_store_item_update(t->st, id, &c, NULL, err);
        if (rc < 0)
            return -1;
        t->event_id = id;
        t->message_type = 2;    /* full update */
        return zx_meeting_rewindow(t->st, id, err);
    }
    zx_folder *cal = NULL;
    if (zx_store_folder_by_type(t->st, ZX_FOLDER_CALENDAR, &cal, err) == ZX_STORE_ERROR)
        return -1;
    if (!cal)
        return 0;
    zx_pimcal_prepare(t->p, inv);
    zx_item *item = NULL;
    int rc = zx_store_pim_create(t->st, cal->id, inv, NULL, &item, err);
    if (rc < 0)
        return -1;
    if (rc == ZX_STORE_OK && item)
        t->event_id = item->id;
    t->message_type = 1;        /* initial meeting request */
    return 0;
}

static int apply_cancel(itip *t, const char **err)
{
    const char *id = NULL;
    if (zx_meeting_find_event(t->st, t->uid, &id, err) < 0)
        return -1;
    if (!id)
        return 0;
    t->event_id = id;
    zx_pim_props *ev;
    int rc = zx_meeting_load_event(t->st, id, &ev, err);
    if (rc != ZX_STORE_OK)
        return rc < 0 ? -1 : 0;
    if (t->rec->recurrence_id && zx_pim_get(ev, EV(REC_TYPE))) {
        apr_array_header_t *xs =
            zx_meeting_exceptions_but(t->p, ev, t->rec->recurrence_id, NULL);
        zx_pim_props *x = zx_pim_props_new(t->p, ZX_PIM_EXCEPTION);
        zx_pim_set(x, EX(EXCEPTION_START), t->rec->recurrence_id);
        zx_pim_set(x, EX(DELETED), "1");
        APR_ARRAY_PUSH(xs, zx_pim_props *) = x;
        return set_exceptions(t, id, xs, err);
    }
    const char *ms = zx_pim_get(ev, EV(MEETING_STATUS));
    if (ms && strcmp(ms, "7") == 0)
        return 0;               /* cancelled already: no change again */
    zx_pim_props *ch = zx_pim_props_new(t->p, ZX_PIM_CALENDAR);
    zx_pim_set(ch, EV(MEETING_STATUS), "7");
    zx_item_changes c = zx_meeting_changes(ch);
    return zx_store_item_update(t->st, id, &c, NULL, err) < 0 ? -1 : 0;
}

static int apply_reply(itip *t, const char **err)
{
    const char *id = NULL;
    if (zx_meeting_find_event(t->st, t->uid, &id, err) < 0)
        return -1;
    apr_array_header_t *replies = t->rec->props->v[EV(ATTENDEES)].list;
    if (!id || !replies)
        return 0;
    t->event_id = id;
    zx_pim_props *ev;
    int rc = zx_meeting_load_event(t->st, id, &ev, err);
    if (rc != ZX_STORE_OK)
        return rc < 0 ? -1 : 0;
    apr_array_header_t *list = ev->v[EV(ATTENDEES)].list
                                   ? apr_array_copy(t->p, ev->v[EV(ATTENDEES)].list)
                                   : apr_array_make(t->p, 4, sizeof(const char *));
    int changed = 0;
    for (int i = 0; i < replies->nelts; i++) {
        zx_pim_attendee r;
        zx_pim_attendee_decode(t->p, APR_ARRAY_IDX(replies, i, const char *), &r);
        /* what a reply says: accepted, tentative, declined (not "needs action") */
        if (!r.email || !*r.email || (r.status != 2 && r.status != 3 && r.status != 4))
            continue;
        int found = 0;
        for (int j = 0; j < list->nelts; j++) {
            zx_pim_attendee a;
            zx_pim_attendee_decode(t->p, APR_ARRAY_IDX(list, j, const char *), &a);
            if (!a.email || strcasecmp(a.email, r.email) != 0)
                continue;
            found = 1;
            if (a.status != r.status) {
                a.status = r.status;
                APR_ARRAY_IDX(list, j, const char *) = zx_pim_attendee_encode(t->p, &a);
                changed = 1;
            }
        }
        if (!found) {
            if (r.type < 0)
                r.type = 1;
            APR_ARRAY_PUSH(list, const char *) = zx_pim_attendee_encode(t->p, &r);
            changed = 1;
        }
    }
    if (!changed)
        return 0;
    zx_pim_props *ch = zx_pim_props_new(t->p, ZX_PIM_CALENDAR);
    zx_pim_set_list(ch, EV(ATTENDEES), list);
    zx_item_changes c = zx_meeting_changes(ch);
    return zx_store_item_update(t->st, id, &c, NULL, err) < 0 ? -1 : 0;
}

static int remember(itip *t, const char *item_id, const char **err)
{
    const zx_pim_record *rec = t->rec;
    const char *params[12] = {
        item_id,
        t->st->account_id,
        t->method,
        t->uid,
        t->sequence >= 0 ? apr_itoa(t->p, t->sequence) : NULL,
        t->dtstamp,
        rec->recurrence_id,
        apr_itoa(t->p, t->message_type),
        rec->rsvp ? "t" : "f",
        rec->intended_busy,
        t->event_id,
        props_text(t->p, rec->props),
    };
    return zx_db_run(t->st->db,
                     "INSERT INTO meeting_messages (message_id, account_id, method, uid, "
                     "sequence, dtstamp, recurrence_id, message_type, rsvp, intended_busy, "
                     "event_id, props) SELECT i.message_id, $2::bigint, $3, $4, $5::integer, "
                     "$6::timestamptz, $7::timestamptz, $8::integer, $9::boolean, $10::integer, "
                     "$11::bigint, $12 FROM items i WHERE i.id = $1::bigint AND "
                     "i.account_id = $2::bigint AND i.message_id IS NOT NULL "
                     "ON CONFLICT (message_id) DO NOTHING",
                     12, params, err);
}

static int apply(zx_store *st, const char *account, const zx_item *item, const char *ics,
                 apr_size_t ics_len, const char **err)
{
    apr_pool_t *p = st->pool;
    apr_array_header_t *records = NULL;
    const char *rerr = NULL;
    if (zx_ical_read(p, ZX_PIM_CALENDAR, ics, ics_len, &records, &rerr) < 0 || !records)
        return 0;       /* not iCalendar: the message alone */
    for (int i = 0; i < records->nelts; i++) {
        const zx_pim_record *rec = &APR_ARRAY_IDX(records, i, zx_pim_record);
        if (!rec->props || !rec->method)
            continue;
        itip t;
        memset(&t, 0, sizeof t);
        t.st = st;
        t.p = p;
        t.account = account;
        t.rec = rec;
        t.method = apr_pstrdup(p, rec->method);
        for (char *s = (char *)t.method; *s; s++)
            *s = (char)apr_toupper(*s);
        t.uid = zx_pim_get(rec->props, EV(UID));
        t.sequence = rec->sequence ? atoi(rec->sequence) : -1;
        t.dtstamp = zx_pim_get(rec->props, EV(DTSTAMP));
        int rc = 0;
        /* the account's own invitation coming back (it organises the meeting): its event is
         * the organizer's, not an invitation to apply */
        const char *org = zx_pim_get(rec->props, EV(ORGANIZER_EMAIL));
        int own = org && account && strcasecmp(org, account) == 0;
        if (t.uid && !own && strcmp(t.method, "REQUEST") == 0)
            rc = apply_request(&t, err);
        else if (t.uid && !own && strcmp(t.method, "CANCEL") == 0)
            rc = apply_cancel(&t, err);
        else if (t.uid && strcmp(t.method, "REPLY") == 0)
            rc = apply_reply(&t, err);
        if (rc < 0 || remember(&t, item->id, err) < 0)
            return -1;
        break;          /* one meeting per message */
    }
    return 0;
}

int zx_meeting_deliver(zx_store *st, const char *account, const char *folder_id,
                       const char *data, apr_size_t len, int read, apr_time_t received,
                       zx_item **out, const char **err)
{
    int own;
    if (zx_db_tx_begin(st->db, &own, err) < 0)
        return ZX_STORE_ERROR;
    zx_item *item = NULL;
    int rc = received ? zx_store_deliver_at(st, folder_id, data, len, read, received, &item, err)
                      : zx_store_deliver(st, folder_id, data, len, read, &item, err);
    if (rc == ZX_STORE_OK && item && item->message_class &&
        strncasecmp(item->message_class, "IPM.Schedule.Meeting.", 21) == 0) {
        apr_size_t ics_len = 0;
        const char *ics = calendar_part(st->pool, data, len, &ics_len);
        if (ics && apply(st, account, item, ics, ics_len, err) < 0)
            rc = ZX_STORE_ERROR;
    }
    if (out)
        *out = rc == ZX_STORE_OK ? item : NULL;
    if (zx_db_tx_end(st->db, own, rc < 0 ? -1 : 0, err) < 0)
        return ZX_STORE_ERROR;
    return rc;
}
