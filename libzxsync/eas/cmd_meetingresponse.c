/* zxmobile - MeetingResponse ([MS-ASCMD] 2.2.1.11): an attendee accepts, tentatively accepts
 * or declines a meeting request.
 *
 * <MeetingResponse><Request><UserResponse/> (1 accept, 2 tentative, 3 decline) then either
 * <CollectionId/><RequestId/> - the meeting request e-mail in its folder, or the calendar item
 * itself in a calendar folder - or search:LongId (the item's id: ids are unique per account),
 * optionally <InstanceId/> (one occurrence, by its start; 14.1+) and at 16.x <SendResponse/>
 * (the server mails the iTIP REPLY to the organizer and keeps a copy in Sent Items; before
 * 16.x the device sends it itself with SendMail)</Request>...</MeetingResponse> is answered with one <Result><RequestId/>
 * <Status/><CalendarId/></Result> per Request.  Status ([MS-ASCMD] 2.2.3.177.9): 1 success,
 * 2 invalid meeting request (no such item, not a meeting request or its event, an occurrence
 * that does not exist, InstanceId before 14.1 or with a request e-mail, the account is the
 * organizer), 3 mailbox error, 4 server error; for InstanceId ([MS-ASCMD] 2.2.3.92.1) 104 when
 * it is not a dateTime and 146 when the event does not recur.  The Result carries RequestId,
 * Status, CalendarId and the InstanceId of the request (14.1+).
 *
 * The effect is Exchange's (zxsync/meeting.h zx_meeting_respond): the event's ResponseType,
 * BusyStatus and AppointmentReplyTime, a decline removes the event; the request e-mail goes
 * to Deleted Items.  Every change is the server's, so the device is told of them all by its
 * next Sync (the event's new state, the request's removal from the Inbox).  Each Request is
 * one transaction. */
#include "handlers.h"

#include <zxsync/log.h>
#include <zxsync/meeting.h>
#include <zxsync/pimconv.h>
#include <zxsync/submit.h>
#include <zxsync/store.h>

#include <apr_strings.h>
#include <string.h>
#include <strings.h>

#define ST_OK 1
#define ST_INVALID 2
#define ST_MAILBOX 3
#define ST_SERVER 4
/* [MS-ASCMD] 2.2.3.92.1 InstanceId: not a dateTime with separators, and an InstanceId of an
 * event that does not recur */
#define ST_BAD_INSTANCE 104
#define ST_NOT_RECURRING 146

typedef struct {
    const char *instance_id;    /* as sent, NULL: none */
    const char *request_id;     /* as sent (RequestId or LongId) */
    int is_long;
    int status;
    const char *calendar_id;
} result;

/* One Request; returns the status, -1 on a database error (*err). */
static int respond_one(const zx_server *srv, zx_request *req, zx_store *st, const zx_wb_node *r,
                       result *res, const char **err)
{
    apr_pool_t *p = req->pool;
    const char *ur = zx_wb_child_text(p, r, ZX_MeetingResponse_UserResponse);
    const char *coll = zx_wb_child_text(p, r, ZX_MeetingResponse_CollectionId);
    const char *rid = zx_wb_child_text(p, r, ZX_MeetingResponse_RequestId);
    const char *lid = zx_wb_child_text(p, r, ZX_Search_LongId);
    const char *instance = zx_wb_child_text(p, r, ZX_MeetingResponse_InstanceId);
    const zx_wb_node *send_node = zx_wb_child(r, ZX_MeetingResponse_SendResponse);
    int send = send_node != NULL;
    /* SendResponse's airsyncbase:Body ([MS-ASCMD] 2.2.3.163): the text of the reply */
    const zx_wb_node *body = send_node ? zx_wb_child(send_node, ZX_AirSyncBase_Body) : NULL;
    const char *note = body ? zx_wb_child_text(p, body, ZX_AirSyncBase_Data) : NULL;
    const char *note_type = body ? zx_wb_child_text(p, body, ZX_AirSyncBase_Type) : NULL;
    res->request_id = rid ? rid : lid;
    res->instance_id = instance;
    res->is_long = !rid && lid;
    int response = ur && strlen(ur) == 1 && ur[0] >= '1' && ur[0] <= '3' ? ur[0] - '0' : 0;
    const char *item_id = lid ? lid : rid;
    if (!response || !item_id || (!lid && !coll)) {
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02300) "MeetingResponse: a Request without "
               "UserResponse 1-3, or without RequestId/CollectionId or LongId");
        return ST_INVALID;
    }
    if (instance && req->proto < ZX_V141) {
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02301) "MeetingResponse: InstanceId before "
               "14.1");
        return ST_INVALID;
    }
    apr_time_t t;
    if (instance && (strlen(instance) != 24 || instance[4] != '-' || instance[10] != 'T' ||
                     instance[23] != 'Z' || zx_pimconv_parse_time(instance, &t) < 0)) {
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02315) "MeetingResponse: InstanceId \"%s\" "
               "is not a dateTime", instance);
        return ST_BAD_INSTANCE;
    }
    zx_item *item = NULL;
    int rc = zx_store_item_get(st, item_id, &item, err);
    if (rc < 0)
        return -1;
    if (rc != ZX_STORE_OK || (coll && strcmp(item->folder_id, coll) != 0)) {
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02302) "MeetingResponse: no item %s%s%s",
               item_id, coll ? " in folder " : "", coll ? coll : "");
        return ST_INVALID;
    }
    const char *event_id = NULL, *mail_id = NULL;
    zx_meeting_info *mi = NULL;
    if (item->item_class && strcmp(item->item_class, "Calendar") == 0) {
        event_id = item->id;
    }
    else {
        rc = zx_meeting_get(st, item->id, &mi, err);
        if (rc < 0)
            return -1;
        if (rc != ZX_STORE_OK || strcmp(mi->method, "REQUEST") != 0 || !mi->uid) {
            zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02303) "MeetingResponse: item %s is not "
                   "a meeting request", item->id);
            return ST_INVALID;
        }
        if (instance) {
            zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02314) "MeetingResponse: InstanceId with "
                   "the meeting request e-mail %s", item->id);
            return ST_INVALID;
        }
        mail_id = item->id;
        if (zx_meeting_find_event(st, mi->uid, &event_id, err) < 0)
            return -1;
        if (!event_id) {
            zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02304) "MeetingResponse: the meeting of "
                   "item %s (UID %s) is not in the calendar", item->id, mi->uid);
            return ST_INVALID;
        }
        if (mi->recurrence_id && !instance)
            instance = mi->recurrence_id;     /* the invitation of one occurrence */
    }
    /* the event as it stands (for the REPLY), and whether the account organises it */
    zx_meeting_info *ev_info = mi;
    zx_pim_props *ev = NULL;
    {
        zx_item *evi = NULL;
        rc = zx_store_item_get(st, event_id, &evi, err);
        if (rc < 0)
            return -1;
        apr_array_header_t *one = apr_array_make(p, 1, sizeof(zx_item *));
        if (rc == ZX_STORE_OK) {
            APR_ARRAY_PUSH(one, zx_item *) = evi;
            zx_content_want want = {0, 0, 0};
            if (zx_store_item_contents(st, one, &want, err) < 0)
                return -1;
            if (evi->content && evi->content->pim)
                ev = (zx_pim_props *)evi->content->pim;
        }
    }
    if (!ev) {
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02305) "MeetingResponse: event %s not found",
               event_id);
        return ST_INVALID;
    }
    /* the invitation of one occurrence that was filed as a single event (its series unknown) */
    if (mail_id && instance && !zx_pim_get(ev, ZX_PF_CALENDAR_REC_TYPE))
        instance = NULL;
    if (instance && !mail_id && !zx_pim_get(ev, ZX_PF_CALENDAR_REC_TYPE)) {
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02316) "MeetingResponse: InstanceId of event "
               "%s, which does not recur", event_id);
        return ST_NOT_RECURRING;
    }
    const char *org = zx_pim_get(ev, ZX_PF_CALENDAR_ORGANIZER_EMAIL);
    if (org && req->account.name && strcasecmp(org, req->account.name) == 0) {
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02306) "MeetingResponse: %s organises "
               "event %s", req->account.name, event_id);
        return ST_INVALID;
    }
    rc = zx_meeting_respond(st, event_id, instance, response,
                            ev_info ? ev_info->intended_busy : -1, err);
    if (rc < 0)
        return -1;
    if (rc != ZX_STORE_OK) {
        zx_log(req->log_ctx, ZX_LOG_INFO, ZXLOGNO(02307) "MeetingResponse: event %s%s%s has "
               "no such occurrence", event_id, instance ? " at " : "", instance ? instance : "");
        return ST_INVALID;
    }
    /* the request leaves the Inbox as Exchange does: to Deleted Items (the one responded to,
     * or, for a response on the calendar item, the requests of that meeting) */
    zx_folder *trash = NULL;
    if (zx_store_folder_by_type(st, ZX_FOLDER_DELETED, &trash, err) == ZX_STORE_ERROR)
        return -1;
    apr_array_header_t *requests = apr_array_make(p, 1, sizeof(zx_item *));
    if (mail_id) {
        APR_ARRAY_PUSH(requests, zx_item *) = item;
    }
    else if (!instance) {
        const char *uid = zx_pim_get(ev, ZX_PF_CALENDAR_UID);
        if (uid && zx_meeting_requests_of(st, uid, &requests, err) < 0)
            return -1;
    }
    for (int i = 0; trash && i < requests->nelts; i++) {
        const zx_item *rq = APR_ARRAY_IDX(requests, i, const zx_item *);
        const char *new_id = NULL;
        if (strcmp(trash->id, rq->folder_id) != 0 &&
            zx_store_item_move(st, rq->id, trash->id, NULL, 0, &new_id, err) < 0)
            return -1;
    }
    if (send && req->proto >= ZX_V160) {
        apr_size_t len = 0;
        const char *msg = zx_meeting_reply_message(
            p, ev, instance, ev_info ? ev_info->sequence : -1, req->account.name, response,
            note, note_type && strcmp(note_type, "2") == 0, &len);
        if (msg) {
            /* its copy in Sent Items, as Exchange keeps one (gone again if it is not sent:
             * the transaction is rolled back) */
            zx_folder *sent = NULL;
            zx_item *copy = NULL;
            if (zx_store_folder_by_type(st, ZX_FOLDER_SENT, &sent, err) == ZX_STORE_ERROR ||
                (sent && zx_store_deliver(st, sent->id, msg, len, 1, &copy, err) < 0))
                return -1;
            apr_array_header_t *rcpts = apr_array_make(p, 1, sizeof(const char *));
            APR_ARRAY_PUSH(rcpts, const char *) = org;
            /* the organizer may be an account of this server (zxsync/submit.h) */
            zx_submit_result sr;
            if (zx_submit(p, req->db, srv->settings.transport, req->account.name, rcpts, msg, len,
                          &sr) != ZX_SEND_OK) {
                zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(02309) "MeetingResponse: the reply to "
                       "%s was not sent%s: %s", org, sr.status == ZX_SEND_TEMPFAIL ?
                       " (a temporary failure)" : "", sr.err);
                return ST_SERVER;
            }
        }
    }
    if (response != ZX_MEETING_DECLINE || instance)
        res->calendar_id = event_id;
    return ST_OK;
}

void zx_cmd_meetingresponse(const zx_server *srv, zx_request *req, zx_response *resp)
{
    apr_pool_t *p = req->pool;
    const char *err = NULL;
    if (!req->doc) {
        zx_respond_status(req, resp, ZX_EAS_INVALID_XML, ZX_LOG_INFO,
                          ZXLOGNO(02310) "MeetingResponse without a body");
        return;
    }
    for (const zx_wb_node *r = req->doc->first; r; r = r->next) {
        if (r->kind == ZX_WB_ELEMENT && r->tag != ZX_MeetingResponse_Request) {
            zx_respond_status(req, resp, ZX_EAS_INVALID_XML, ZX_LOG_INFO,
                              ZXLOGNO(02311) "MeetingResponse: an element other than Request");
            return;
        }
    }
    zx_db *db = zx_request_db(srv, req, &err);
    if (!db) {
        zx_respond_status(req, resp, ZX_EAS_SERVER_ERROR_RETRY, ZX_LOG_ERR,
                          apr_psprintf(p, ZXLOGNO(02312) "MeetingResponse: %s", err));
        zx_retry_after_db(resp);
        return;
    }
    zx_store *st = zx_store_open(p, db, req->account.id);
    zx_wb_node *root = zx_wb_new(p, ZX_MeetingResponse_MeetingResponse);
    for (const zx_wb_node *r = req->doc->first; r; r = r->next) {
        if (r->kind != ZX_WB_ELEMENT)
            continue;
        result res = {NULL, NULL, 0, ST_OK, NULL};
        int own = 0;
        int status;
        if (zx_db_tx_begin(db, &own, &err) < 0) {
            status = -1;
        }
        else {
            status = respond_one(srv, req, st, r, &res, &err);
            if (zx_db_tx_end(db, own, status == ST_OK ? 0 : -1, &err) < 0 && status == ST_OK)
                status = -1;
        }
        if (status < 0) {
            zx_log(req->log_ctx, ZX_LOG_ERR, ZXLOGNO(02313) "MeetingResponse of %s: %s",
                   res.request_id ? res.request_id : "(none)", err ? err : "");
            status = ST_MAILBOX;
            res.calendar_id = NULL;
        }
        if (status != ST_OK)
            res.calendar_id = NULL;
        /* [MS-ASCMD] 2.2.3.155.2: RequestId (when the request had one), Status, CalendarId */
        zx_wb_node *out = zx_wb_add(p, root, ZX_MeetingResponse_Result);
        if (res.request_id && !res.is_long)
            zx_wb_add_text(p, out, ZX_MeetingResponse_RequestId, res.request_id);
        zx_wb_add_textf(p, out, ZX_MeetingResponse_Status, "%d", status);
        if (res.calendar_id)
            zx_wb_add_text(p, out, ZX_MeetingResponse_CalendarId, res.calendar_id);
        if (res.instance_id && req->proto >= ZX_V141)
            zx_wb_add_text(p, out, ZX_MeetingResponse_InstanceId, res.instance_id);
    }
    zx_respond_wbxml(req, resp, root);
}
