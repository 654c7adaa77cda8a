/* zxmobile - meetings (libzxsync/meeting/): iTIP (RFC 5546) messages applied to the account's
 * calendar at delivery, the meeting data of a message for email:MeetingRequest ([MS-ASEMAIL]
 * 2.2.2.48), an attendee's response (MeetingResponse, [MS-ASCMD] 2.2.1.11) and the REPLY it
 * sends, and the account's busy time.
 *
 * Delivery: zx_meeting_deliver stores the message (zx_store_deliver) and, when it carries a
 * text/calendar part with a METHOD, applies it in the same transaction:
 *   REQUEST  a tentative event in the default Calendar folder (BusyStatus 1, MeetingStatus 3,
 *            ResponseType 5, ResponseRequested from RSVP), or for a UID the calendar holds an
 *            update of it when the invitation is newer (a higher SEQUENCE, or the same one with
 *            a later DTSTAMP; the same invitation again changes nothing); an invitation of one
 *            occurrence (RECURRENCE-ID) becomes or replaces that occurrence's exception;
 *   CANCEL   the event's MeetingStatus 7 (cancelled, received); of one occurrence: that
 *            occurrence deleted (an exception with Deleted 1);
 *   REPLY    the attendee's AttendeeStatus on the event of that UID (ACCEPTED 3, TENTATIVE 2,
 *            DECLINED 4).
 * A REQUEST or CANCEL whose organizer is the account itself is not applied (its event is the
 * organizer's own).
 * The message keeps a row of meeting_messages (sql/021_meetings.sql) with the invitation
 * (keyed by its stored message, so that it follows the item through moves). */
#ifndef ZXSYNC_MEETING_H
#define ZXSYNC_MEETING_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include <zxsync/pim.h>
#include <zxsync/store.h>

/* Deliver data into folder_id (zx_store_deliver_at: received 0 = now) and apply its iTIP
 * object to the calendar of st's account, whose address is account (to tell the attendee
 * from the organizer).  What the store returns; a message whose calendar part cannot be
 * read (or applied: an unknown UID of a CANCEL or REPLY) is still delivered. */
int zx_meeting_deliver(zx_store *st, const char *account, const char *folder_id,
                       const char *data, apr_size_t len, int read, apr_time_t received,
                       zx_item **out, const char **err);

/* The meeting data of a message. */
typedef struct {
    const char *item_id;
    const char *method;         /* "REQUEST", "CANCEL", "REPLY", ... */
    const char *uid;            /* NULL: none */
    int sequence;               /* -1: none */
    const char *recurrence_id;  /* dateTime of the occurrence, NULL: the whole event */
    int message_type;           /* email2:MeetingMessageType ([MS-ASEMAIL] 2.2.2.47) */
    int rsvp;
    int intended_busy;          /* BusyStatus once accepted (-1: none said) */
    const char *event_id;       /* the calendar item it was applied to, NULL: none */
    zx_pim_props *ev;           /* the invitation's event (class ZX_PIM_CALENDAR) */
} zx_meeting_info;

/* The meeting data of message item_id: ZX_STORE_OK, ZX_STORE_NOT_FOUND when it has none,
 * ZX_STORE_ERROR (*err). */
int zx_meeting_get(zx_store *st, const char *item_id, zx_meeting_info **out, const char **err);

/* The live meeting request e-mails (method REQUEST) of that UID in the account's folders other
 * than Deleted Items: zx_item * with id and folder_id.  0, or -1 and *err. */
int zx_meeting_requests_of(zx_store *st, const char *uid, apr_array_header_t **out,
                           const char **err);

/* The live calendar item of the account with that UID (the oldest): ZX_STORE_OK with *id,
 * ZX_STORE_NOT_FOUND, ZX_STORE_ERROR. */
int zx_meeting_find_event(zx_store *st, const char *uid, const char **id, const char **err);

/* [MS-ASCMD] 2.2.3.194 UserResponse */
#define ZX_MEETING_ACCEPT 1
#define ZX_MEETING_TENTATIVE 2
#define ZX_MEETING_DECLINE 3

/* The attendee's response to event id (or to its occurrence whose original start is
 * instance, a dateTime; NULL: the whole event), as Exchange records it: ResponseType 3 / 2 / 4,
 * AppointmentReplyTime now, BusyStatus busy (intended_busy when >= 0) for an acceptance,
 * tentative for a tentative one; a decline deletes the event (of one occurrence: deletes that
 * occurrence).  ZX_STORE_OK, ZX_STORE_NOT_FOUND (no such event or occurrence), ZX_STORE_ERROR. */
int zx_meeting_respond(zx_store *st, const char *id, const char *instance, int response,
                       int intended_busy, const char **err);

/* The iTIP REPLY (RFC 5546 3.2.3) of attendee to the invitation ev (its occurrence
 * recurrence_id when not NULL) as an RFC 5322 message from attendee to the organizer
 * (text/calendar; method=REPLY); with a note (the attendee's text, note_html: it is HTML) the
 * message is multipart/alternative, the note first.  NULL when ev has no organizer or UID. */
const char *zx_meeting_reply_message(apr_pool_t *p, const zx_pim_props *ev,
                                     const char *recurrence_id, int sequence,
                                     const char *attendee, int response, const char *note,
                                     int note_html, apr_size_t *len);

/* One busy interval. */
typedef struct {
    apr_time_t start, end;
    int busy_status;            /* [MS-ASCAL] BusyStatus 1 tentative, 2 busy, 3 OOF, 4 elsewhere */
} zx_meeting_busy;

/* The busy intervals of the account over [from, to): every occurrence of its live events in
 * calendar folders that overlaps it, free ones (BusyStatus 0) and cancelled ones
 * (MeetingStatus 5, 7) skipped, in order of start.  0, or -1 and *err. */
int zx_meeting_freebusy(zx_store *st, apr_time_t from, apr_time_t to,
                        apr_array_header_t **out, const char **err);

/* The GlobalObjId ([MS-ASEMAIL] 2.2.2.37) of a UID, base64: a UID that is an Outlook
 * EncodedGlobalId (hex, "040000008200E00074C5B7101A82E008...") as its bytes, any other in the
 * vCal-Uid form; instance (a dateTime, NULL none) fills its instance date. */
const char *zx_meeting_global_obj_id(apr_pool_t *p, const char *uid, const char *instance);

#endif
