"""Meetings over the real httpd at 12.1, 14.1 and 16.1, driven by the project's independent
client: an external invitation (Outlook-like: Windows zone name, base64 text/calendar, an
EncodedGlobalId UID; Google-like: IANA zone, a plain UID) delivered with `zxsuite mailbox
deliver` becomes an IPM.Schedule.Meeting.Request with email:MeetingRequest ([MS-ASEMAIL]
2.2.2.48: GlobalObjId decoded here to the UID up to 14.1, calendar:UID at 16.x, a complete TimeZone blob of New York, the weekly
recurrence) and a tentative event in the Calendar; MeetingResponse ([MS-ASCMD] 2.2.1.11)
accepts it (status 1, CalendarId the event; ResponseType 3 / BusyStatus 2 on another device;
the request leaves the Inbox), at 16.1 with SendResponse the server hands the iTIP REPLY to the
transport; a decline removes the event; an update (SEQUENCE+1) changes the same event, the
same invitation twice makes one event and no second Change, a CANCEL marks it cancelled
(MeetingStatus 7); a REPLY delivered to the organizer sets that attendee's status; an unknown
RequestId is status 2."""

import base64
import email
import email.policy
import struct
import uuid

import pytest

from mailtools import fake_sendmail, sendmail, sql  # noqa: F401
from syncutil import VERSIONS, deliver, new_account
from test_calendar import changes, fields, vnum

OUTLOOK_UID = ("040000008200E00074C5B7101A82E008" "00000000" "E040C9C12685C401"
               "0000000000000000" "10000000" "0BF0ED4B6E4EE94E9E39E3867B378EF3")

VTZ_OUTLOOK = """BEGIN:VTIMEZONE
TZID:Eastern Standard Time
BEGIN:STANDARD
DTSTART:16011104T020000
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010311T020000
RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
END:DAYLIGHT
END:VTIMEZONE"""

VTZ_GOOGLE = """BEGIN:VTIMEZONE
TZID:America/New_York
X-LIC-LOCATION:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE"""


def ics(flavor, account, method="REQUEST", uid=None, seq=0, start="20261208T090000",
        end="20261208T100000", stamp="20261201T120000Z", rrule="FREQ=WEEKLY;COUNT=10;BYDAY=TU",
        partstat="NEEDS-ACTION", attendee=None, status=None, recurrence_id=None,
        organizer="ann@example.com"):
    tzid = "Eastern Standard Time" if flavor == "outlook" else "America/New_York"
    vtz = VTZ_OUTLOOK if flavor == "outlook" else VTZ_GOOGLE
    lines = ["BEGIN:VCALENDAR",
             "PRODID:" + ("Microsoft Exchange Server 2010" if flavor == "outlook"
                          else "-//Google Inc//Google Calendar 70.9054//EN"),
             "VERSION:2.0", "METHOD:" + method, vtz, "BEGIN:VEVENT",
             "ORGANIZER;CN=Ann Organizer:mailto:" + organizer,
             "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=%s;RSVP=TRUE;CN=Demo User:mailto:%s"
             % (partstat, attendee or account)]
    if method != "REPLY":       # a reply names the attendee who answers, alone
        lines.append("ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Bob:"
                     "mailto:bob@example.org")
    if recurrence_id:
        lines.append("RECURRENCE-ID;TZID=\"%s\":%s" % (tzid, recurrence_id))
    elif rrule:
        lines.append("RRULE:" + rrule)
    lines += ["UID:" + (uid or OUTLOOK_UID), "SUMMARY:Weekly sync",
              "DESCRIPTION:Agenda: the plan.",
              "DTSTART;TZID=\"%s\":%s" % (tzid, start), "DTEND;TZID=\"%s\":%s" % (tzid, end),
              "LOCATION:Room 7", "SEQUENCE:%d" % seq, "DTSTAMP:" + stamp,
              "CLASS:PUBLIC", "TRANSP:OPAQUE"]
    if status:
        lines.append("STATUS:" + status)
    if flavor == "outlook":
        lines += ["X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE", "X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY"]
    if method == "REQUEST":
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:REMINDER",
                  "TRIGGER;RELATED=START:-PT15M", "END:VALARM"]
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join("\r\n".join(x.split("\n")) for x in lines) + "\r\n"


def invitation(flavor, account, subject="Weekly sync", sender="Ann Organizer <ann@example.com>",
               to=None, **kw):
    method = kw.get("method", "REQUEST")
    cal = ics(flavor, account, **kw)
    if flavor == "outlook":
        part = ('Content-Type: text/calendar; charset="utf-8"; method=%s\r\n'
                'Content-Transfer-Encoding: base64\r\n\r\n%s\r\n'
                % (method, base64.encodebytes(cal.encode()).decode()))
    else:
        part = ('Content-Type: text/calendar; charset="UTF-8"; method=%s\r\n'
                'Content-Transfer-Encoding: 7bit\r\n\r\n%s' % (method, cal))
    msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@example.com>\r\n"
           "Date: Mon, 07 Dec 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
           "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAgenda: the plan.\r\n"
           "--b1\r\n%s\r\n--b1--\r\n" % (sender, to or account, subject, uuid.uuid4().hex, part))
    return msg.encode()


OPTS = '<Options><BodyPreference xmlns="AirSyncBase:"><Type>1</Type></BodyPreference></Options>'


def start(dev, coll):
    dev.keys.pop(coll, None)
    col = dev.sync(coll, key="0", options=OPTS)
    assert col.findtext("Status") == "1", col
    return changes(dev.sync(coll, options=OPTS))


_window = [100]


def sync(dev, coll):
    """One Sync of coll: each request differs from the one before (its WindowSize), so that a
    Sync right after a delivery is never answered from the answer cache before the delivery's
    notification reached it."""
    _window[0] = 100 if _window[0] >= 500 else _window[0] + 1
    return dev.sync(coll, options=OPTS, window=_window[0])


def meeting_response(dev, response, coll=None, request_id=None, long_id=None, instance=None,
                     send=False, note=None):
    x = '<MeetingResponse xmlns="MeetingResponse:"><Request><UserResponse>%d</UserResponse>' % (
        response)
    if coll:
        x += "<CollectionId>%s</CollectionId>" % coll
    if request_id:
        x += "<RequestId>%s</RequestId>" % request_id
    if long_id:
        x += '<LongId xmlns="Search:">%s</LongId>' % long_id
    if instance:
        x += "<InstanceId>%s</InstanceId>" % instance
    if note is not None:
        x += ('<SendResponse><Body xmlns="AirSyncBase:"><Type>1</Type><Data>%s</Data></Body>'
              '</SendResponse>' % note)
    elif send:
        x += "<SendResponse/>"
    x += "</Request></MeetingResponse>"
    r = dev.c.post("MeetingResponse", x)
    assert r.status == 200, r
    res = r.wbxml.find("Result")
    assert res is not None, r.wbxml
    return res


def read_blob(b64):
    raw = base64.b64decode(b64)
    assert len(raw) == 172, len(raw)
    bias, = struct.unpack_from("<i", raw, 0)
    std = struct.unpack_from("<8H", raw, 68)
    dst = struct.unpack_from("<8H", raw, 152)
    dst_bias, = struct.unpack_from("<i", raw, 168)
    return bias, std[1:5], dst[1:5], dst_bias


def uid_of_global_obj_id(b64):
    """[MS-ASEMAIL] 3.1.4.7 / 4.3: back to the UID, decoded here independently."""
    raw = base64.b64decode(b64)
    assert raw[:16] == bytes.fromhex("040000008200E00074C5B7101A82E008"), raw[:16]
    count, = struct.unpack_from("<I", raw, 36)
    data = raw[40:40 + count]
    assert len(data) == count
    if data[:8] == b"vCal-Uid":
        assert data[8:12] == b"\x01\x00\x00\x00" and data[-1:] == b"\x00"
        return data[12:-1].decode()
    return (raw[:16] + b"\0\0\0\0" + raw[20:]).hex().upper()


def meeting_uid(mr, version):
    """The meeting's UID: decoded from GlobalObjId up to 14.1; at 16.x the server sends
    calendar:UID instead, GlobalObjId being no tag of 16.0/16.1 ([MS-ASEMAIL] 2.2.2.37,
    2.2.2.48, 3.1.4.7)."""
    if vnum(version) >= 160:
        assert "GlobalObjId" not in mr, mr
        return mr["UID"]
    assert "UID" not in mr, mr
    return uid_of_global_obj_id(mr["GlobalObjId"])


@pytest.fixture
def account(instance):
    return new_account(instance)


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


@pytest.fixture
def devs(device_factory, account, version):
    return lambda **kw: device_factory(account, version, **kw)


# ---- an invitation from outside, accepted --------------------------------------------------

@pytest.mark.parametrize("flavor", ["outlook", "google"])
def test_invitation_accepted(instance, account, devs, version, flavor, sendmail):  # noqa: F811
    uid = OUTLOOK_UID if flavor == "outlook" else "7kq2c9%s@google.com" % uuid.uuid4().hex[:8]
    a = devs()
    inbox, cal = a.folder("Inbox"), a.folder("Calendar")
    start(a, inbox)
    start(a, cal)
    mail_id = deliver(instance, account, invitation(flavor, account, uid=uid))
    got = changes(sync(a, inbox))
    assert [(op, sid) for op, sid, _ in got] == [("Add", mail_id)]
    f = fields(got[0][2])
    assert f["MessageClass"] == "IPM.Schedule.Meeting.Request"
    mr = fields(f["MeetingRequest"])
    # 09:00 New York in December is 14:00Z
    assert mr["StartTime"] == "2026-12-08T14:00:00.000Z", mr
    assert mr["EndTime"] == "2026-12-08T15:00:00.000Z"
    assert mr["DtStamp"] == "2026-12-01T12:00:00.000Z"
    assert mr["AllDayEvent"] == "0" and mr["InstanceType"] == "1"
    assert "ann@example.com" in mr["Organizer"]
    assert mr["ResponseRequested"] == "1" and mr["Reminder"] == "900"
    assert mr["Sensitivity"] == "0" and mr["BusyStatus"] == "2"
    if vnum(version) >= 160:
        assert mr["Location"].ns == "AirSyncBase:"
        assert mr["Location"].findtext("DisplayName") == "Room 7"
    else:
        assert mr["Location"] == "Room 7"
    rec = {c.name: c.text for c in mr["Recurrences"].find("Recurrence").children}
    assert (rec["Type"], rec["Interval"], rec["Occurrences"], rec["DayOfWeek"]) == (
        "1", "1", "10", "4"), rec
    bias, std, dst, dst_bias = read_blob(mr["TimeZone"])
    assert (bias, std, dst, dst_bias) == (300, (11, 0, 1, 2), (3, 0, 2, 2), -60)
    assert meeting_uid(mr, version) == uid
    if vnum(version) >= 141:
        assert mr["MeetingMessageType"] == "1"
    # the tentative event
    got = changes(sync(a, cal))
    assert [op for op, _, _ in got] == ["Add"], got
    ev_id = got[0][1]
    ev = fields(got[0][2])
    assert ev["Subject"] == "Weekly sync" and ev["BusyStatus"] == "1"
    assert ev["MeetingStatus"] == "3" and ev["StartTime"] == "20261208T140000Z"
    if vnum(version) >= 140:
        assert ev["ResponseType"] == "5" and ev["ResponseRequested"] == "1"
    assert sql(instance, "SELECT uid FROM calendar WHERE item_id = %s", ev_id) == [[uid]]
    # accepted (at 16.1 the server mails the organizer)
    res = meeting_response(a, 1, coll=inbox, request_id=mail_id, send=True)
    assert res.findtext("Status") == "1", res
    assert res.findtext("RequestId") == mail_id
    assert res.findtext("CalendarId") == ev_id
    b = devs()
    seen = {sid: fields(ad) for op, sid, ad in start(b, b.folder("Calendar"))}
    assert list(seen) == [ev_id]
    assert seen[ev_id]["BusyStatus"] == "2"
    if vnum(version) >= 140:
        assert seen[ev_id]["ResponseType"] == "3"
    assert sql(instance, "SELECT response_type, busy_status, appointment_reply_time IS NOT NULL "
               "FROM calendar WHERE item_id = %s", ev_id) == [["3", "2", "t"]]
    # the request left the Inbox (to Deleted Items), the device is told
    assert [(op, sid) for op, sid, _ in changes(sync(a, inbox))] == [
        ("Delete", mail_id)]
    assert [op for op, _, _ in changes(sync(a, cal))] == ["Change"]
    # in Deleted Items the moved request still shows its meeting
    moved = start(a, a.folder("Deleted Items"))
    assert len(moved) == 1, moved
    mr = fields(fields(moved[0][2])["MeetingRequest"])
    assert meeting_uid(mr, version) == uid
    sent = sendmail.sent()
    if vnum(version) >= 160:
        assert len(sent) == 1, sent
        argv = sent[0]["argv"]
        assert argv[argv.index("-f") + 1] == account and "ann@example.com" in argv
        msg = email.message_from_bytes(sent[0]["stdin"] if isinstance(sent[0]["stdin"], bytes)
                                       else sent[0]["stdin"].encode(), policy=email.policy.default)
        assert msg.get_content_type() == "text/calendar"
        assert msg.get_param("method") == "REPLY"
        body = msg.get_content()
        unfolded = body.replace("\r\n ", "").replace("\n ", "")
        assert "METHOD:REPLY" in unfolded and "UID:" + uid in unfolded
        assert "PARTSTAT=ACCEPTED" in unfolded and "mailto:" + account in unfolded
        assert "ORGANIZER" in unfolded and "mailto:ann@example.com" in unfolded
        # its copy in Sent Items (read)
        assert sql(instance, "SELECT i.subject, i.read, i.message_class FROM items i JOIN folders "
                   "f ON f.id = i.folder_id WHERE f.account_id = i.account_id AND f.type = 5 AND "
                   "f.system AND NOT i.deleted AND i.account_id = (SELECT account_id FROM items "
                   "WHERE id = %s)", ev_id) == [["Accepted: Weekly sync", "t",
                                                "IPM.Schedule.Meeting.Resp.Pos"]]
    else:
        assert sent == []


def test_decline_removes_event(instance, account, devs, version):
    a = devs()
    inbox, cal = a.folder("Inbox"), a.folder("Calendar")
    start(a, inbox)
    start(a, cal)
    uid = "decl-%s@google.com" % uuid.uuid4().hex[:8]
    mail_id = deliver(instance, account, invitation("google", account, uid=uid))
    ev_id = [sid for op, sid, _ in changes(sync(a, cal))][0]
    res = meeting_response(a, 3, coll=inbox, request_id=mail_id)
    assert res.findtext("Status") == "1"
    assert res.find("CalendarId") is None
    assert [(op, sid) for op, sid, _ in changes(sync(a, cal))] == [
        ("Delete", ev_id)]
    assert sql(instance, "SELECT count(*) FROM items WHERE id = %s AND NOT deleted", ev_id) == [
        ["0"]]


def test_tentative_on_the_calendar_item(instance, account, devs, version):
    """A response on the calendar item itself (CollectionId = the Calendar): tentative, and the
    request of that meeting leaves the Inbox as well."""
    a = devs()
    inbox, cal = a.folder("Inbox"), a.folder("Calendar")
    start(a, inbox)
    start(a, cal)
    uid = "tent-%s@google.com" % uuid.uuid4().hex[:8]
    mail_id = deliver(instance, account, invitation("google", account, uid=uid))
    assert [op for op, _, _ in changes(sync(a, inbox))] == ["Add"]
    ev_id = [sid for op, sid, _ in changes(sync(a, cal))][0]
    res = meeting_response(a, 2, coll=cal, request_id=ev_id)
    assert res.findtext("Status") == "1" and res.findtext("CalendarId") == ev_id
    assert sql(instance, "SELECT response_type, busy_status FROM calendar WHERE item_id = %s",
               ev_id) == [["2", "1"]]
    assert [(op, sid) for op, sid, _ in changes(sync(a, inbox))] == [("Delete", mail_id)]


def test_update_twice_and_cancel(instance, account, devs, version):
    a = devs()
    cal = a.folder("Calendar")
    start(a, cal)
    uid = "upd-%s@google.com" % uuid.uuid4().hex[:8]
    deliver(instance, account, invitation("google", account, uid=uid))
    got = changes(sync(a, cal))
    assert [op for op, _, _ in got] == ["Add"]
    ev_id = got[0][1]
    # the same invitation again: one event, no Change
    deliver(instance, account, invitation("google", account, uid=uid))
    assert changes(sync(a, cal)) == []
    assert sql(instance, "SELECT count(*) FROM calendar c JOIN items i ON i.id = c.item_id "
               "WHERE c.uid = %s AND NOT i.deleted", uid) == [["1"]]
    # an update: SEQUENCE 1, an hour later
    deliver(instance, account, invitation("google", account, uid=uid, seq=1,
                                          start="20261208T100000", end="20261208T110000",
                                          stamp="20261202T120000Z"))
    got = changes(sync(a, cal))
    assert [(op, sid) for op, sid, _ in got] == [("Change", ev_id)]
    assert fields(got[0][2])["StartTime"] == "20261208T150000Z"
    # an older one arriving late changes nothing
    deliver(instance, account, invitation("google", account, uid=uid, seq=0))
    assert changes(sync(a, cal)) == []
    # cancelled
    deliver(instance, account, invitation("google", account, uid=uid, seq=2, method="CANCEL",
                                          status="CANCELLED", stamp="20261203T120000Z",
                                          subject="Cancelled: Weekly sync"))
    got = changes(sync(a, cal))
    assert [(op, sid) for op, sid, _ in got] == [("Change", ev_id)]
    assert fields(got[0][2])["MeetingStatus"] == "7"


def test_reply_updates_organizer_event(instance, account, devs, version):
    """The account organises a meeting (its device created it with two attendees); Bob's REPLY
    arrives by mail: his AttendeeStatus becomes 3 (accepted) and the device gets the Change."""
    a = devs()
    cal = a.folder("Calendar")
    start(a, cal)
    x = ('<Timezone xmlns="Calendar:">%s</Timezone><AllDayEvent xmlns="Calendar:">0'
         '</AllDayEvent><BusyStatus xmlns="Calendar:">2</BusyStatus>' % ZERO_TZ)
    uid = None
    if vnum(version) < 160:
        uid = "org-%s@example.net" % uuid.uuid4().hex[:8]
        x += ('<OrganizerName xmlns="Calendar:">Me</OrganizerName><OrganizerEmail xmlns='
              '"Calendar:">%s</OrganizerEmail>' % account)
    x += ('<DtStamp xmlns="Calendar:">20261201T100000Z</DtStamp><StartTime xmlns="Calendar:">'
          '20261210T150000Z</StartTime><EndTime xmlns="Calendar:">20261210T160000Z</EndTime>'
          '<Subject xmlns="Calendar:">Review</Subject>')
    if uid:
        x += '<UID xmlns="Calendar:">%s</UID>' % uid
    x += ('<MeetingStatus xmlns="Calendar:">1</MeetingStatus><Attendees xmlns="Calendar:">'
          '<Attendee><Email>bob@example.org</Email><Name>Bob</Name>%s</Attendee><Attendee>'
          '<Email>carol@example.org</Email><Name>Carol</Name>%s</Attendee></Attendees>'
          % (("<AttendeeStatus>0</AttendeeStatus><AttendeeType>1</AttendeeType>",) * 2
             if vnum(version) >= 120 else ("", "")))
    col = a.sync(cal, commands="<Add><ClientId>o1</ClientId><ApplicationData>%s"
                 "</ApplicationData></Add>" % x, options=OPTS)
    add = col.find("Responses/Add")
    assert add.findtext("Status") == "1", col
    ev_id = add.findtext("ServerId")
    if uid is None:     # made by the server for a 16.x device's event
        uid = sql(instance, "SELECT uid FROM calendar WHERE item_id = %s", ev_id)[0][0]
    reply = invitation("google", account, uid=uid, method="REPLY", partstat="ACCEPTED",
                       attendee="bob@example.org", sender="Bob <bob@example.org>",
                       subject="Accepted: Review", organizer=account, rrule=None,
                       start="20261210T100000", end="20261210T110000")
    mail_id = deliver(instance, account, reply)
    rows = sql(instance, "SELECT attendees FROM calendar WHERE item_id = %s", ev_id)
    assert "bob@example.org\x1fBob\x1f3\x1f" in rows[0][0], rows
    assert "carol@example.org\x1fCarol\x1f0\x1f" in rows[0][0] or vnum(version) < 120, rows
    got = changes(sync(a, cal))
    assert [(op, sid) for op, sid, _ in got] == [("Change", ev_id)]
    if vnum(version) >= 120:
        atts = fields(got[0][2])["Attendees"]
        st = {x.findtext("Email"): x.findtext("AttendeeStatus") for x in atts.children}
        assert st == {"bob@example.org": "3", "carol@example.org": "0"}, st
    # the REPLY is a response message: no MeetingRequest in it
    assert sql(instance, "SELECT message_class FROM items WHERE id = %s", mail_id) == [
        ["IPM.Schedule.Meeting.Resp.Pos"]]


def test_own_invitation_is_not_applied(instance, account, devs, version):
    """The account's own invitation coming back to it (it is the organizer, e.g. on Cc) leaves
    its calendar alone: no tentative event; the message still shows its meeting."""
    a = devs()
    inbox, cal = a.folder("Inbox"), a.folder("Calendar")
    start(a, inbox)
    start(a, cal)
    uid = "own-%s@example.net" % uuid.uuid4().hex[:8]
    mail_id = deliver(instance, account, invitation("google", account, uid=uid,
                                                    organizer=account, sender=account))
    assert changes(sync(a, cal)) == []
    got = changes(sync(a, inbox))
    assert [(op, sid) for op, sid, _ in got] == [("Add", mail_id)]
    # ItemOperations Fetch renders it as Sync does
    r = a.c.post("ItemOperations", '<ItemOperations xmlns="ItemOperations:"><Fetch><Store>'
                 'Mailbox</Store><CollectionId xmlns="AirSync:">%s</CollectionId><ServerId '
                 'xmlns="AirSync:">%s</ServerId></Fetch></ItemOperations>' % (inbox, mail_id))
    props = r.wbxml.find("Response/Fetch/Properties")
    assert props is not None, r.wbxml
    mr = fields(fields(props)["MeetingRequest"])
    assert meeting_uid(mr, version) == uid
    res = meeting_response(a, 1, coll=inbox, request_id=mail_id)
    assert res.findtext("Status") == "2"


def test_send_response_with_a_note(instance, account, device_factory, sendmail):  # noqa: F811
    """16.1: SendResponse with an airsyncbase:Body - the REPLY mailed to the organizer carries
    the attendee's text beside the text/calendar part."""
    a = device_factory(account, "16.1")
    inbox = a.folder("Inbox")
    start(a, inbox)
    uid = "note-%s@google.com" % uuid.uuid4().hex[:8]
    mail_id = deliver(instance, account, invitation("google", account, uid=uid))
    res = meeting_response(a, 2, coll=inbox, request_id=mail_id, note="Maybe, running late.")
    assert res.findtext("Status") == "1"
    sent = sendmail.sent()
    assert len(sent) == 1
    raw = sent[0]["stdin"]
    msg = email.message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(),
                                   policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["To"] == "ann@example.com" and msg["Subject"] == "Tentative: Weekly sync"
    parts = list(msg.iter_parts())
    assert [x.get_content_type() for x in parts] == ["text/plain", "text/calendar"]
    assert parts[0].get_content().strip() == "Maybe, running late."
    cal = parts[1].get_content().replace("\r\n ", "")
    assert parts[1].get_param("method") == "REPLY"
    assert "PARTSTAT=TENTATIVE" in cal and "UID:" + uid in cal and "SEQUENCE:0" in cal


def test_reply_not_sent_changes_nothing(instance, account, device_factory, sendmail,  # noqa: F811
                                        expect_log):
    """16.1: when the transport refuses the REPLY the response is status 4 and nothing of it is
    kept (the event still not responded, the request in the Inbox, no Sent Items copy)."""
    expect_log(r"ZX02309: MeetingResponse: the reply to ann@example.com was not sent")
    a = device_factory(account, "16.1")
    inbox = a.folder("Inbox")
    uid = "fail-%s@google.com" % uuid.uuid4().hex[:8]
    mail_id = deliver(instance, account, invitation("google", account, uid=uid))
    sendmail.fail(75)
    res = meeting_response(a, 1, coll=inbox, request_id=mail_id, send=True)
    assert res.findtext("Status") == "4" and res.find("CalendarId") is None
    assert sql(instance, "SELECT response_type, busy_status FROM calendar WHERE uid = %s",
               uid) == [["5", "1"]]
    assert sql(instance, "SELECT f.type FROM items i JOIN folders f ON f.id = i.folder_id "
               "WHERE i.id = %s AND NOT i.deleted", mail_id) == [["2"]]
    assert sql(instance, "SELECT count(*) FROM items WHERE subject = 'Accepted: Weekly sync' "
               "AND account_id = (SELECT account_id FROM items WHERE id = %s)", mail_id) == [
        ["0"]]
    sendmail.succeed()
    res = meeting_response(a, 1, coll=inbox, request_id=mail_id, send=True)
    assert res.findtext("Status") == "1"
    assert len(sendmail.sent()) == 1


def test_unknown_request_id(instance, account, devs, version):
    a = devs()
    res = meeting_response(a, 1, coll=a.folder("Inbox"), request_id="999999999")
    assert res.findtext("Status") == "2"
    assert res.findtext("RequestId") == "999999999"


@pytest.mark.parametrize("proto", ["12.1", "14.1"])
def test_sendmail_passes_a_reply_through(instance, account, device_factory, proto,
                                         sendmail):  # noqa: F811
    """Before 16.x the device sends the REPLY itself with SendMail: the text/calendar part
    (method=REPLY, its iCalendar body) reaches the transport as the device made it."""
    dev = device_factory(account, proto)
    cal = ics("google", account, method="REPLY", uid="dev-reply@example.com",
              partstat="ACCEPTED")
    mime = ("From: %s\r\nTo: ann@example.com\r\nSubject: Accepted: Weekly sync\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/calendar; charset=utf-8; method=REPLY\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n%s" % (account, cal)).encode()
    if proto == "12.1":
        r = dev.c.post("SendMail", mime, content_type="message/rfc822")
    else:
        r = dev.c.post("SendMail", '<SendMail xmlns="ComposeMail:"><ClientId>%s</ClientId>'
                       '<Mime opaque="base64">%s</Mime></SendMail>'
                       % (uuid.uuid4().hex[:20], base64.b64encode(mime).decode()))
    assert r.status == 200 and r.body == b"", (r, r.body[:300])
    sent = sendmail.sent()
    assert len(sent) == 1
    raw = sent[0]["stdin"]
    msg = email.message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(),
                                   policy=email.policy.default)
    assert msg.get_content_type() == "text/calendar" and msg.get_param("method") == "REPLY"
    assert msg.get_content().replace("\r\n", "\n") == cal.replace("\r\n", "\n")


# ---- one occurrence of a series ----------------------------------------------------------------

def test_occurrence_request_cancel_and_response(instance, account, devs, version):
    """An invitation of the second occurrence (RECURRENCE-ID, moved an hour later) becomes that
    occurrence's exception; a CANCEL of the third deletes it; MeetingResponse with InstanceId
    (14.1+) records the response on that occurrence only; before 14.1 InstanceId is status 2."""
    a = devs()
    inbox, cal = a.folder("Inbox"), a.folder("Calendar")
    start(a, inbox)
    start(a, cal)
    uid = "occ-%s@google.com" % uuid.uuid4().hex[:8]
    deliver(instance, account, invitation("google", account, uid=uid))
    ev_id = [sid for op, sid, _ in changes(sync(a, cal))][0]
    deliver(instance, account, invitation("google", account, uid=uid, seq=1,
                                          recurrence_id="20261215T090000",
                                          start="20261215T100000", end="20261215T110000",
                                          stamp="20261202T120000Z"))
    deliver(instance, account, invitation("google", account, uid=uid, seq=1, method="CANCEL",
                                          recurrence_id="20261222T090000",
                                          stamp="20261202T130000Z", status="CANCELLED"))
    got = changes(sync(a, cal))
    assert [(op, sid) for op, sid, _ in got] == [("Change", ev_id)]
    # an exception names its occurrence by ExceptionStartTime, at 16.x by InstanceId
    key = "InstanceId" if version == "16.1" else "ExceptionStartTime"
    ex = sorted(({c.name: c.text for c in e.children}
                 for e in fields(got[-1][2])["Exceptions"].children),
                key=lambda e: e[key])
    assert ex[0][key] == "20261215T140000Z", ex
    assert ex[0]["StartTime"] == "20261215T150000Z" and ex[0]["EndTime"] == "20261215T160000Z"
    assert ex[1][key] == "20261222T140000Z" and ex[1]["Deleted"] == "1", ex
    # the invitation of the occurrence shows it as an exception of the series
    mails = [fields(ad) for op, sid, ad in changes(sync(a, inbox))]
    assert len(mails) == 3, mails
    occ = [f for f in mails if f["MessageClass"] == "IPM.Schedule.Meeting.Request"
           and fields(f["MeetingRequest"]).get("RecurrenceId")]
    assert len(occ) == 1
    mr = fields(occ[0]["MeetingRequest"])
    assert mr["InstanceType"] == "3" and mr["RecurrenceId"] == "2026-12-15T14:00:00.000Z", mr
    assert mr["StartTime"] == "2026-12-15T15:00:00.000Z" and "Recurrences" not in mr
    # up to 14.1 the instance date of the occurrence is in its GlobalObjId (bytes 17-20); at
    # 16.x the UID is the series' and RecurrenceId (above) names the occurrence
    if vnum(version) < 160:
        raw = base64.b64decode(mr["GlobalObjId"])
        assert raw[16:20] == bytes([0x07, 0xEA, 12, 15]), raw[16:20]
    assert meeting_uid(mr, version).startswith("occ-")
    res = meeting_response(a, 1, coll=cal, request_id=ev_id,
                           instance="2026-12-29T14:00:00.000Z")
    if vnum(version) < 141:
        assert res.findtext("Status") == "2"
        return
    assert res.findtext("Status") == "1" and res.findtext("CalendarId") == ev_id
    assert res.findtext("InstanceId") == "2026-12-29T14:00:00.000Z"
    rows = sql(instance, "SELECT to_char(exception_start AT TIME ZONE 'UTC', 'MM-DD HH24:MI'), "
               "response_type, busy_status FROM calendar_exceptions WHERE item_id = %s "
               "ORDER BY exception_start", ev_id)
    assert ["12-29 14:00", "3", "2"] in rows, rows
    assert sql(instance, "SELECT response_type FROM calendar WHERE item_id = %s", ev_id) == [
        ["5"]]
    # an instance that is no occurrence
    res = meeting_response(a, 1, coll=cal, request_id=ev_id,
                           instance="2026-12-30T14:00:00.000Z")
    assert res.findtext("Status") == "2"
    # [MS-ASCMD] 2.2.3.92.1: not a dateTime with separators 104, an event that does not recur 146
    res = meeting_response(a, 1, coll=cal, request_id=ev_id, instance="20261229T140000Z")
    assert res.findtext("Status") == "104"
    single = "one-%s@google.com" % uuid.uuid4().hex[:8]
    deliver(instance, account, invitation("google", account, uid=single, rrule=None))
    one_id = [sid for op, sid, _ in changes(sync(a, cal)) if op == "Add"][0]
    res = meeting_response(a, 1, coll=cal, request_id=one_id,
                           instance="2026-12-08T14:00:00.000Z")
    assert res.findtext("Status") == "146"


# ---- free/busy ------------------------------------------------------------------------------------

ZERO_TZ = base64.b64encode(b"\0" * 172).decode()


def freebusy(instance, account, frm, to):
    import os
    import subprocess
    from mailtools import account_id
    tool = os.path.join(instance.build_dir, "t", "tools", "zxfreebusy")
    env = dict(os.environ, LD_LIBRARY_PATH=instance.libdir)
    p = subprocess.run([tool, instance.conninfo, account_id(instance, account), frm, to],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    return [tuple(line.split()) for line in p.stdout.decode().splitlines()]


def test_freebusy(instance, account, device_factory):
    """Busy time over [from, to): the occurrences of a tentative series (1), then accepted
    (2); a free event and a cancelled meeting are not busy."""
    a = device_factory(account, "14.1")
    inbox, cal = a.folder("Inbox"), a.folder("Calendar")
    start(a, cal)
    uid = "fb-%s@google.com" % uuid.uuid4().hex[:8]
    mail_id = deliver(instance, account, invitation("google", account, uid=uid))
    other = "fbx-%s@google.com" % uuid.uuid4().hex[:8]
    deliver(instance, account, invitation("google", account, uid=other, rrule=None,
                                          start="20261209T120000", end="20261209T130000"))
    deliver(instance, account, invitation("google", account, uid=other, rrule=None, seq=1,
                                          method="CANCEL", status="CANCELLED",
                                          start="20261209T120000", end="20261209T130000",
                                          stamp="20261202T120000Z"))
    free = ('<Timezone xmlns="Calendar:">%s</Timezone><AllDayEvent xmlns="Calendar:">0'
            '</AllDayEvent><BusyStatus xmlns="Calendar:">0</BusyStatus><DtStamp xmlns='
            '"Calendar:">20261201T100000Z</DtStamp><StartTime xmlns="Calendar:">20261210T120000Z'
            '</StartTime><EndTime xmlns="Calendar:">20261210T130000Z</EndTime><Subject xmlns='
            '"Calendar:">Free</Subject><MeetingStatus xmlns="Calendar:">0</MeetingStatus>'
            % ZERO_TZ)
    col = a.sync(cal, commands="<Add><ClientId>f1</ClientId><ApplicationData>%s"
                 "</ApplicationData></Add>" % free, options=OPTS)
    assert col.find("Responses/Add").findtext("Status") == "1", col
    want = [("2026-12-08T14:00:00.000Z", "2026-12-08T15:00:00.000Z"),
            ("2026-12-15T14:00:00.000Z", "2026-12-15T15:00:00.000Z"),
            ("2026-12-22T14:00:00.000Z", "2026-12-22T15:00:00.000Z")]
    got = freebusy(instance, account, "2026-12-08T00:00:00.000Z", "2026-12-23T00:00:00.000Z")
    assert got == [w + ("1",) for w in want], got
    # an occurrence running into the window from before it counts; one after it does not
    got = freebusy(instance, account, "2026-12-15T14:30:00.000Z", "2026-12-22T14:00:00.000Z")
    assert got == [want[1] + ("1",)], got
    res = meeting_response(a, 1, coll=inbox, request_id=mail_id)
    assert res.findtext("Status") == "1"
    got = freebusy(instance, account, "2026-12-08T00:00:00.000Z", "2026-12-23T00:00:00.000Z")
    assert got == [w + ("2",) for w in want], got
