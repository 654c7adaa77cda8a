"""zxsuite calendar import/export against the real store: a weekly series in America/New_York
with a deleted and a moved occurrence, an all-day event, a single event and an event without
DTSTART go in; the stored rows (calendar, calendar_exceptions, items.received = the end of the
last occurrence) are checked; the export goes into a second account and both accounts' rows
and exports are compared; --json."""

import json

import pytest

from test_pim_cli import new_account, run

SERIES = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:weekly-1@example.com\r
DTSTAMP:20260201T120000Z\r
SUMMARY:Team sync\r
LOCATION:Room 1\r
DESCRIPTION:Weekly team meeting\r
DTSTART;TZID=America/New_York:20260302T090000\r
DTEND;TZID=America/New_York:20260302T100000\r
RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO\r
EXDATE;TZID=America/New_York:20260316T090000\r
ORGANIZER;CN=Alice Org:mailto:alice@example.com\r
ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:bob@example.com\r
ATTENDEE;CN=Carol;PARTSTAT=NEEDS-ACTION;ROLE=OPT-PARTICIPANT:mailto:carol@example.com\r
ATTENDEE;CN=Room 1;CUTYPE=ROOM:mailto:room1@example.com\r
CATEGORIES:Work\r
CLASS:PRIVATE\r
TRANSP:OPAQUE\r
BEGIN:VALARM\r
ACTION:DISPLAY\r
TRIGGER:-PT15M\r
DESCRIPTION:Reminder\r
END:VALARM\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:weekly-1@example.com\r
RECURRENCE-ID;TZID=America/New_York:20260323T090000\r
DTSTAMP:20260201T120000Z\r
SUMMARY:Team sync (moved)\r
LOCATION:Room 2\r
DTSTART;TZID=America/New_York:20260324T110000\r
DTEND;TZID=America/New_York:20260324T120000\r
ORGANIZER;CN=Alice Org:mailto:alice@example.com\r
ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:bob@example.com\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:allday-1@example.com\r
DTSTAMP:20260201T120000Z\r
SUMMARY:Holiday\r
DTSTART;VALUE=DATE:20260704\r
DTEND;VALUE=DATE:20260705\r
TRANSP:TRANSPARENT\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:bad-1@example.com\r
DTSTAMP:20260201T120000Z\r
SUMMARY:No start\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:single-1@example.com\r
DTSTAMP:20260201T120000Z\r
SUMMARY:Dentist\r
DTSTART;TZID=Europe/Berlin:20260410T150000\r
DTEND;TZID=Europe/Berlin:20260410T160000\r
X-MICROSOFT-CDO-BUSYSTATUS:OOF\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.fixture
def account(instance):
    return new_account(instance)


def where(account):
    local, dom = account.split("@")
    return ("JOIN accounts a ON a.id = t.account_id JOIN domains d ON d.id = a.domain_id "
            "WHERE a.local_part = '%s' AND d.name = '%s'" % (local, dom))


def query(instance, sql):
    out = instance.psql("SET TIME ZONE 'UTC'; " + sql)
    return [json.loads(line) for line in out.splitlines() if line.strip().startswith("{")]


def events(instance, account):
    """The calendar rows of the account's live items (but the ids), in item order, each with
    its exceptions (but the ids) and the item's received time."""
    evs = query(instance,
                "SELECT (to_jsonb(t) - 'account_id' || jsonb_build_object('received', "
                "i.received))::text FROM calendar t JOIN items i ON i.id = t.item_id %s "
                "AND NOT i.deleted ORDER BY t.item_id" % where(account))
    exc = query(instance,
                "SELECT (to_jsonb(t) - 'account_id')::text FROM calendar_exceptions t %s "
                "ORDER BY t.item_id, t.exception_start" % where(account))
    for e in evs:
        e["exceptions"] = [dict((k, v) for k, v in x.items() if k != "item_id")
                           for x in exc if x["item_id"] == e["item_id"]]
        del e["item_id"]
    return evs


def vevents(text):
    """Each VEVENT's unfolded content lines."""
    text = text.replace("\r\n ", "").replace("\n ", "")
    res, cur = [], None
    for line in text.replace("\r", "").split("\n"):
        if line == "BEGIN:VEVENT":
            cur = []
        elif line == "END:VEVENT":
            res.append(cur)
            cur = None
        elif cur is not None:
            cur.append(line)
    return res


def test_calendar_import_export(instance, account, tmp_path):
    src = tmp_path / "cal.ics"
    src.write_bytes(SERIES.encode())
    p = run(instance, "calendar", "import", account, str(src))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == ("imported 3 events into Calendar of %s, 1 record skipped"
                                % account)
    assert p.stderr.splitlines() == [
        "zxsuite: %s: record 3 (line 46): skipped: a VEVENT without DTSTART" % src]

    first = events(instance, account)
    assert len(first) == 3
    series, allday, single = first
    assert series["subject"] == "Team sync" and series["uid"] == "weekly-1@example.com"
    assert series["tzid"] == "America/New_York"
    assert series["start_time"] == "2026-03-02T14:00:00+00:00"      # 09:00 EST
    assert series["end_time"] == "2026-03-02T15:00:00+00:00"
    assert series["all_day"] is False
    assert series["rec_type"] == 1 and series["rec_occurrences"] == 10
    assert series["rec_interval"] == 1 and series["rec_day_of_week"] == 2
    assert series["rec_until"] is None
    # the tenth Monday, 2026-05-04, 10:00 EDT
    assert series["last_end"] == "2026-05-04T14:00:00+00:00"
    assert series["received"] == "2026-05-04T14:00:00+00:00"
    assert series["organizer_email"] == "alice@example.com"
    assert series["organizer_name"] == "Alice Org"
    # email, name, AttendeeStatus (none for the room), AttendeeType
    assert series["attendees"] == ["bob@example.com\x1fBob\x1f3\x1f1",
                                   "carol@example.com\x1fCarol\x1f5\x1f2",
                                   "room1@example.com\x1fRoom 1\x1f\x1f3"]
    assert series["meeting_status"] == 3 and series["busy_status"] == 2
    assert series["sensitivity"] == 2 and series["reminder"] == 15
    assert series["categories"] == ["Work"] and series["location"] == "Room 1"
    assert series["body"] == "Weekly team meeting" and series["body_type"] == 1
    assert series["dtstamp"] == "2026-02-01T12:00:00+00:00"
    deleted, moved = series["exceptions"]
    assert deleted["exception_start"] == "2026-03-16T13:00:00+00:00"   # 09:00 EDT
    assert deleted["deleted"] is True
    assert {k for k, v in deleted.items() if v is not None} == {"exception_start", "deleted"}
    assert moved["exception_start"] == "2026-03-23T13:00:00+00:00"
    assert moved["start_time"] == "2026-03-24T15:00:00+00:00"
    assert moved["end_time"] == "2026-03-24T16:00:00+00:00"
    assert moved["subject"] == "Team sync (moved)" and moved["location"] == "Room 2"
    assert moved["attendees"] == ["bob@example.com\x1fBob\x1f3\x1f1"]
    # what it has not while the series has: empty; what it shares with the series: the series'
    assert moved["body"] == "" and moved["categories"] == []
    assert moved["busy_status"] is None and moved["reminder"] is None
    assert moved["deleted"] is None

    assert allday["all_day"] is True and allday["tzid"] == "UTC"
    assert allday["start_time"] == "2026-07-04T00:00:00+00:00"
    assert allday["end_time"] == "2026-07-05T00:00:00+00:00"
    assert allday["received"] == "2026-07-05T00:00:00+00:00"
    assert allday["busy_status"] == 0 and allday["rec_type"] is None
    assert allday["meeting_status"] == 0 and allday["exceptions"] == []

    assert single["tzid"] == "Europe/Berlin"
    assert single["start_time"] == "2026-04-10T13:00:00+00:00"       # 15:00 CEST
    assert single["received"] == "2026-04-10T14:00:00+00:00"
    assert single["busy_status"] == 3

    out = tmp_path / "out.ics"
    p = run(instance, "calendar", "export", account, "Calendar", "--output", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("exported 3 events from Calendar of %s" % account)
    text = out.read_bytes().decode()
    assert text.count("BEGIN:VTIMEZONE") == 2
    assert "TZID:America/New_York\r\n" in text and "TZID:Europe/Berlin\r\n" in text
    ves = vevents(text)
    assert len(ves) == 4                    # the series, its moved occurrence, two more
    uid = dict((v[0], [e for e in ves if e[0] == v[0]]) for v in ves)
    s, o = uid["UID:weekly-1@example.com"]
    assert "DTSTART;TZID=America/New_York:20260302T090000" in s
    assert "RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO" in s
    assert "EXDATE;TZID=America/New_York:20260316T090000" in s
    assert "RECURRENCE-ID;TZID=America/New_York:20260323T090000" in o
    assert "DTSTART;TZID=America/New_York:20260324T110000" in o
    assert "SUMMARY:Team sync (moved)" in o
    assert "DTSTART;VALUE=DATE:20260704" in uid["UID:allday-1@example.com"][0]
    assert "X-MICROSOFT-CDO-BUSYSTATUS:OOF" in uid["UID:single-1@example.com"][0]

    # into another account: the same rows, and the same export
    other = new_account(instance)
    p = run(instance, "calendar", "import", other, str(out))
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert events(instance, other) == first
    p = run(instance, "calendar", "export", other)
    assert p.returncode == 0, p.stderr
    assert p.stdout.replace("\r\n", "\n") == text.replace("\r\n", "\n")


def test_calendar_json_and_own_meetings(instance, account, tmp_path):
    src = tmp_path / "own.ics"
    src.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:own-1\r\n"
                   "SUMMARY:Mine\r\nDTSTART:20261207T100000Z\r\nDTEND:20261207T110000Z\r\n"
                   "ORGANIZER:mailto:%s\r\nATTENDEE;PARTSTAT=TENTATIVE:mailto:x@example.com\r\n"
                   "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:float-1\r\nSUMMARY:Floating\r\n"
                   "DTSTART:20261208T100000\r\nRRULE:FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270101T000000Z\r\n"
                   "END:VEVENT\r\n"
                   "BEGIN:VEVENT\r\nUID:own-2\r\nSUMMARY:Daily\r\nDTSTART:20261207T120000Z\r\n"
                   "RRULE:FREQ=DAILY;COUNT=3\r\nORGANIZER:mailto:%s\r\nEND:VEVENT\r\n"
                   "BEGIN:VEVENT\r\nUID:own-2\r\nRECURRENCE-ID:20261208T120000Z\r\n"
                   "SUMMARY:Daily\r\nDTSTART:20261208T120000Z\r\nSTATUS:CANCELLED\r\n"
                   "ORGANIZER:mailto:%s\r\nEND:VEVENT\r\n"
                   "END:VCALENDAR\r\n" % (account, account.upper(), account))
    p = run(instance, "--json", "calendar", "import", account, str(src))
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    body = res["response"]
    assert body["imported"] == 3 and body["skipped"] == 0 and body["records"] == 3
    assert body["folder"] == "Calendar"
    assert "record 2 (line 11): warning: DTSTART: a floating time (no zone): taken as UTC" \
        in p.stderr
    own, floating, daily = events(instance, account)
    assert own["meeting_status"] == 1                 # the account organises it
    assert daily["meeting_status"] == 1               # (any case of its address)
    assert [(x["exception_start"], x["meeting_status"]) for x in daily["exceptions"]] == \
        [("2026-12-08T12:00:00+00:00", 5)]             # an occurrence it cancelled
    assert own["attendees"][0].startswith("x@example.com\x1f\x1f2")
    assert floating["tzid"] == "UTC" and floating["rec_type"] == 3
    assert floating["rec_week_of_month"] == 5 and floating["rec_day_of_week"] == 32
    assert floating["end_time"] == floating["start_time"]
    # the last Friday before 2027: 2026-12-25
    assert floating["last_end"] == "2026-12-25T10:00:00+00:00"

    p = run(instance, "--json", "calendar", "export", account)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    body = res["response"]
    assert body["exported"] == 3
    assert "RRULE:FREQ=MONTHLY;UNTIL=20270101T000000Z;BYDAY=-1FR" in body["data"]
    assert "X-ZXMOBILE-MEETING-STATUS:1" in body["data"]


def test_calendar_nothing_readable(instance, account, tmp_path):
    src = tmp_path / "bad.ics"
    src.write_text("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n"
                   "END:VCALENDAR\r\n")
    p = run(instance, "calendar", "import", account, str(src))
    assert p.returncode != 0
    assert "record 1 (line 2): skipped: a VEVENT without DTSTART" in p.stderr
    assert "no record could be read; nothing imported" in p.stderr
    assert events(instance, account) == []
    # a tasks folder is not a calendar folder
    p = run(instance, "calendar", "export", account, "Tasks")
    assert p.returncode != 0
    assert "Tasks is not an event folder (it holds Tasks)" in p.stderr
