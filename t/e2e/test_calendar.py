"""Calendar ([MS-ASCAL]) over the real httpd at 12.1, 14.1 and 16.1, driven by the project's
independent client: events and recurring series from device A through the server to device B
(attendees, organizer, categories, body, exceptions deleted and modified, the 16.x
airsyncbase:Location), the TimeZone blob (a complete blob of the event's zone is sent, never an
all-zero one; an incoming blob is mapped to an IANA zone; an all-zero blob means UTC), a weekly
series in New York keeping 09:00 local across DST (the end of its last occurrence, the item's
window key, computed on the zone's wall clock), FilterType windows (a series is in the window
when its last occurrence ends after the cutoff; GetItemEstimate agrees), what a Change without
Exceptions does at 14.1 and 16.1, and the refusals (status 6) of malformed events."""

import base64
import struct

import pytest

import pimdata as P
from mailtools import sql
from syncutil import VERSIONS, new_account

CAL = "Calendar:"


@pytest.fixture
def account(instance):
    return new_account(instance)


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


@pytest.fixture
def devs(device_factory, account, version):
    return lambda **kw: device_factory(account, version, **kw)


def vnum(v):
    a, _, b = v.partition(".")
    return int(a) * 10 + int(b)


# ---- the TimeZone blob ([MS-ASDTYPE] 2.6.4), built and read here independently ------------

def systemtime(month=0, dow=0, week=0, hour=0):
    return struct.pack("<8H", 0, month, dow, week, hour, 0, 0, 0)


def blob(bias, std_name="", std=b"", std_bias=0, dst_name="", dst=b"", dst_bias=0):
    def name(s):
        b = s.encode("utf-16-le")[:62]
        return b + b"\0" * (64 - len(b))
    raw = (struct.pack("<i", bias) + name(std_name) + (std or systemtime()) +
           struct.pack("<i", std_bias) + name(dst_name) + (dst or systemtime()) +
           struct.pack("<i", dst_bias))
    assert len(raw) == 172
    return base64.b64encode(raw).decode()


def read_blob(b64):
    raw = base64.b64decode(b64)
    assert len(raw) == 172, len(raw)
    bias, = struct.unpack_from("<i", raw, 0)
    std = struct.unpack_from("<8H", raw, 68)
    std_bias, = struct.unpack_from("<i", raw, 84)
    dst = struct.unpack_from("<8H", raw, 152)
    dst_bias, = struct.unpack_from("<i", raw, 168)
    return {"bias": bias, "std": std[1:5], "std_bias": std_bias, "dst": dst[1:5],
            "dst_bias": dst_bias, "std_name": raw[4:68].decode("utf-16-le").rstrip("\0")}


#: Eastern time as Outlook and iOS send it: standard from the first Sunday of November 02:00,
#: daylight from the second Sunday of March 02:00
NEW_YORK = blob(300, "Eastern Standard Time", systemtime(11, 0, 1, 2), 0,
                "Eastern Daylight Time", systemtime(3, 0, 2, 2), -60)
#: the same rules without names (some Android clients)
NEW_YORK_NAMELESS = blob(300, "", systemtime(11, 0, 1, 2), 0, "", systemtime(3, 0, 2, 2), -60)
ZERO = base64.b64encode(b"\0" * 172).decode()


# ---- ApplicationData ------------------------------------------------------------------------

def el(name, value, ns=CAL):
    return '<%s xmlns="%s">%s</%s>' % (name, ns, value, name)


def attendees(*people):
    out = ""
    for email, name, status, type_ in people:
        out += "<Attendee><Email>%s</Email><Name>%s</Name>" % (email, name)
        if status is not None:
            out += "<AttendeeStatus>%d</AttendeeStatus><AttendeeType>%d</AttendeeType>" % (
                status, type_)
        out += "</Attendee>"
    return '<Attendees xmlns="Calendar:">%s</Attendees>' % out


def body(text):
    return '<Body xmlns="AirSyncBase:"><Type>1</Type><Data>%s</Data></Body>' % text


def location(name, version):
    if vnum(version) >= 160:
        return ('<Location xmlns="AirSyncBase:"><DisplayName>%s</DisplayName>'
                '<City>Boston</City></Location>' % name)
    return el("Location", name)


def event(version, subject="Planning", start="20261208T150000Z", end="20261208T160000Z",
          tz=NEW_YORK, extra="", people=True):
    x = el("Timezone", tz) if tz is not None else ""
    x += el("AllDayEvent", "0") + el("BusyStatus", "2")
    if vnum(version) < 160:
        x += el("OrganizerName", "Ann Organizer") + el("OrganizerEmail", "ann@example.com")
    x += el("DtStamp", "20261201T100000Z") + el("StartTime", start) + el("EndTime", end)
    x += location("Room 7 – Kö", version) + el("Reminder", "15") + el("Sensitivity", "0")
    x += el("Subject", subject)
    if vnum(version) < 160:
        x += el("UID", "zx-e2e-uid-" + subject.replace(" ", "-"))
    x += el("MeetingStatus", "1")
    if people:
        new = vnum(version) >= 120
        x += attendees(("bob@example.com", "Bob Ω", 3 if new else None, 1),
                       ("carol@example.com", "Carol", 0 if new else None, 2))
    x += '<Categories xmlns="Calendar:"><Category>Work</Category><Category>Ω</Category></Categories>'
    x += body("Agenda: plans.") if vnum(version) >= 120 else el("Body", "Agenda: plans.")
    return x + extra


def weekly(count=10, dow=2, until=None):
    r = el("Type", "1") + el("Interval", "1") + el("DayOfWeek", str(dow))
    r += el("Until", until) if until else el("Occurrences", str(count))
    return '<Recurrence xmlns="Calendar:">%s</Recurrence>' % r


def occurrence(start, version):
    """An Exception's name of its occurrence: ExceptionStartTime, at 16.x InstanceId."""
    if vnum(version) >= 160:
        return '<InstanceId xmlns="AirSyncBase:">%s</InstanceId>' % start
    return el("ExceptionStartTime", start)


def exceptions(*items):
    return '<Exceptions xmlns="Calendar:">%s</Exceptions>' % "".join(
        "<Exception>%s</Exception>" % i for i in items)


def add(dev, coll, appdata, cid="c1"):
    col = dev.sync(coll, commands="<Add><ClientId>%s</ClientId><ApplicationData>%s"
                   "</ApplicationData></Add>" % (cid, appdata))
    assert col is not None and col.findtext("Status") == "1", col
    r = col.find("Responses/Add")
    return r.findtext("Status"), r.findtext("ServerId")


def change(dev, coll, sid, appdata):
    col = dev.sync(coll, commands="<Change><ServerId>%s</ServerId><ApplicationData>%s"
                   "</ApplicationData></Change>" % (sid, appdata))
    assert col is not None and col.findtext("Status") == "1", col
    assert col.find("Responses") is None, col


def start(dev, coll, filter_type=None):
    opts = "<Options>"
    if filter_type is not None:
        opts += "<FilterType>%d</FilterType>" % filter_type
    opts += '<BodyPreference xmlns="AirSyncBase:"><Type>1</Type></BodyPreference></Options>'
    dev.keys.pop(coll, None)
    col = dev.sync(coll, key="0", options=opts)
    assert col.findtext("Status") == "1", col
    seen = {}
    for _ in range(20):
        col = dev.sync(coll, options=opts)
        if col is None:
            break
        for c in col.findall("Commands/*"):
            assert c.name == "Add", c
            seen[c.findtext("ServerId")] = c.find("ApplicationData")
        if col.find("MoreAvailable") is None:
            break
    return seen


def fields(appdata):
    """ApplicationData -> {name: text or [children]} (Calendar/AirSyncBase elements)."""
    out = {}
    for c in appdata.children:
        out[c.name] = c.text if c.text is not None and not c.children else c
    return out


def people(node):
    return [(a.findtext("Email"), a.findtext("Name"), a.findtext("AttendeeStatus"),
             a.findtext("AttendeeType")) for a in node.children]


def changes(col):
    if col is None:
        return []
    assert col.findtext("Status") == "1", col
    return [(c.name, c.findtext("ServerId"), c.find("ApplicationData"))
            for c in col.findall("Commands/*")]


def stored(instance, sid, *cols):
    return sql(instance, "SELECT " + ", ".join(cols) + " FROM calendar WHERE item_id = %s", sid)[0]


# ---- folders ----------------------------------------------------------------------------------

def test_calendar_folders(devs):
    a = devs()
    doc = a.foldersync("0")
    types = {x.findtext("DisplayName"): x.findtext("Type") for x in doc.findall("Changes/Add")}
    assert types["Calendar"] == "8"
    r = a.c.post("FolderCreate", '<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey>'
                 '<ParentId>0</ParentId><DisplayName>Team</DisplayName><Type>13</Type>'
                 '</FolderCreate>' % a.hier_key)
    assert r.wbxml.findtext("Status") == "1", r.wbxml
    team = r.wbxml.findtext("ServerId")
    assert start(a, team) == {}
    st, sid = add(a, team, event(a.protocol))
    assert st == "1"
    b = devs()
    assert list(start(b, team)) == [sid]


# ---- every property, A -> server -> B -----------------------------------------------------

def test_event_round_trips(instance, devs, version):
    a, b = devs(), devs()
    coll = a.folder("Calendar")
    start(a, coll)
    start(b, coll)
    st, sid = add(a, coll, event(version))
    assert st == "1"
    assert a.sync(coll) is None
    got = changes(b.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Add", sid)]
    f = fields(got[0][2])
    assert f["Subject"] == "Planning"
    assert f["StartTime"] == "20261208T150000Z" and f["EndTime"] == "20261208T160000Z"
    assert f["AllDayEvent"] == "0" and f["BusyStatus"] == "2" and f["Reminder"] == "15"
    assert f["Sensitivity"] == "0" and f["MeetingStatus"] == "1"
    assert f["DtStamp"] == "20261201T100000Z"
    if vnum(version) < 160:
        assert f["OrganizerName"] == "Ann Organizer" and f["OrganizerEmail"] == "ann@example.com"
        assert f["UID"] == "zx-e2e-uid-Planning"
        assert f["Location"] == "Room 7 – Kö"
    else:
        assert f["UID"], f            # made by the server for a 16.x device's event
        loc = f["Location"]
        assert loc.ns == "AirSyncBase:"
        assert (loc.findtext("DisplayName"), loc.findtext("City")) == ("Room 7 – Kö", "Boston")
    if vnum(version) >= 120:
        assert people(f["Attendees"]) == [("bob@example.com", "Bob Ω", "3", "1"),
                                          ("carol@example.com", "Carol", "0", "2")]
        assert f["Body"].findtext("Data") == "Agenda: plans."
    assert [c.text for c in f["Categories"].children] == ["Work", "Ω"]
    tz = read_blob(f["Timezone"])
    assert (tz["bias"], tz["std"], tz["dst"], tz["dst_bias"]) == (
        300, (11, 0, 1, 2), (3, 0, 2, 2), -60), tz
    assert stored(instance, sid, "tzid") == ["America/New_York"]
    # a Fetch gives the same
    col = b.sync(coll, commands="<Fetch><ServerId>%s</ServerId></Fetch>" % sid)
    assert fields(col.find("Responses/Fetch/ApplicationData"))["Subject"] == "Planning"
    # changed on B, seen on A whole
    change(b, coll, sid, event(version, subject="Planning 2"))
    got = changes(a.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Change", sid)]
    assert fields(got[0][2])["Subject"] == "Planning 2"
    # deleted on A, gone on B
    col = a.sync(coll, commands="<Delete><ServerId>%s</ServerId></Delete>" % sid)
    assert col.find("Responses") is None
    assert [(op, s) for op, s, _ in changes(b.sync(coll))] == [("Delete", sid)]


# ---- recurrence, exceptions and time zones ----------------------------------------------------

def test_weekly_series_keeps_local_time_across_dst(instance, devs, version):
    """09:00 New York on Mondays from 2026-03-02 (EST, 14:00Z), 10 occurrences: the last one,
    on 2026-05-04, is 09:00 EDT = 13:00Z and ends 14:00Z; a deleted and a moved occurrence
    round-trip to device B."""
    a, b = devs(), devs()
    coll = a.folder("Calendar")
    start(a, coll)
    start(b, coll)
    moved = (occurrence("20260316T130000Z", version) + el("Subject", "Moved") +
             el("StartTime", "20260317T130000Z") + el("EndTime", "20260317T140000Z"))
    deleted = el("Deleted", "1") + occurrence("20260323T130000Z", version)
    x = event(version, start="20260302T140000Z", end="20260302T150000Z", tz=NEW_YORK_NAMELESS,
              people=False, extra=weekly(10) + exceptions(deleted, moved))
    st, sid = add(a, coll, x)
    assert st == "1"
    assert stored(instance, sid, "tzid") == ["America/New_York"]
    rows = sql(instance, "SELECT to_char(received AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
               "FROM items WHERE id = %s", sid)
    assert rows == [["2026-05-04 14:00"]]
    got = changes(b.sync(coll))
    f = fields(got[0][2])
    rec = {c.name: c.text for c in f["Recurrence"].children}
    assert rec["Type"] == "1" and rec["Occurrences"] == "10" and rec["DayOfWeek"] == "2"
    if vnum(version) >= 141:
        assert rec["FirstDayOfWeek"] == "0"
    key = "InstanceId" if vnum(version) >= 160 else "ExceptionStartTime"
    ex = sorted(({c.name: c.text for c in e.children} for e in f["Exceptions"].children),
                key=lambda e: e[key])
    assert ex[0] == {key: "20260316T130000Z", "Subject": "Moved",
                     "StartTime": "20260317T130000Z", "EndTime": "20260317T140000Z"}
    assert ex[1] == {"Deleted": "1", key: "20260323T130000Z"}
    tz = read_blob(f["Timezone"])
    assert tz["bias"] == 300 and tz["dst"] == (3, 0, 2, 2) and tz["std"] == (11, 0, 1, 2)


def test_all_zero_blob_means_utc(instance, devs, version):
    a = devs()
    coll = a.folder("Calendar")
    start(a, coll)
    st, sid = add(a, coll, event(version, tz=ZERO, people=False,
                                 extra=weekly(3, dow=4)))
    assert st == "1"
    assert stored(instance, sid, "tzid") == ["UTC"]
    b = devs()
    f = fields(start(b, coll)[sid])
    tz = read_blob(f["Timezone"])
    assert tz["bias"] == 0 and tz["std"] == (0, 0, 0, 0) and tz["dst"] == (0, 0, 0, 0)
    # three Tuesdays (DayOfWeek 4) at 15:00Z from 2026-12-08: the last ends 2026-12-22 16:00Z
    rows = sql(instance, "SELECT to_char(received AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
               "FROM items WHERE id = %s", sid)
    assert rows == [["2026-12-22 16:00"]]


def test_change_without_exceptions(instance, devs, version):
    """A 14.1 device's Change of a series without Exceptions removes them ([MS-ASCAL]: the
    item is sent whole); a 16.x device changes occurrences by InstanceId, so its Change of the
    series keeps them."""
    a = devs()
    coll = a.folder("Calendar")
    start(a, coll)
    deleted = el("Deleted", "1") + occurrence("20261215T150000Z", version)
    st, sid = add(a, coll, event(version, people=False, extra=weekly(4, dow=4) +
                                 exceptions(deleted)))
    assert st == "1"
    count = "SELECT count(*) FROM calendar_exceptions WHERE item_id = %s"
    assert sql(instance, count, sid) == [["1"]]
    change(a, coll, sid, event(version, subject="Series 2", people=False,
                               extra=weekly(4, dow=4)))
    assert sql(instance, count, sid) == ([["1"]] if vnum(version) >= 160 else [["0"]])
    assert stored(instance, sid, "subject") == ["Series 2"]


# ---- FilterType windows -------------------------------------------------------------------

def test_filter_type_window(instance, devs):
    """FilterType 4 (two weeks back): an event that ended 10 days ago is in, one that ended a
    month ago is not; a series that ended a year ago is not, an endless one from 2020 is."""
    import datetime as dt
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    def t(d):
        return (now + dt.timedelta(days=d)).strftime("%Y%m%dT%H%M%SZ")
    a = devs()
    coll = a.folder("Calendar")
    start(a, coll)
    ids = {}
    for cid, x in (("recent", event(a.protocol, "Recent", t(-10), t(-9), people=False)),
                   ("old", event(a.protocol, "Old", t(-30), t(-30), people=False)),
                   ("ended", event(a.protocol, "Ended", "20250106T150000Z", "20250106T160000Z",
                                   people=False, extra=weekly(5))),
                   ("endless", '<Recurrence xmlns="Calendar:"><Type>0</Type></Recurrence>')):
        if cid == "endless":
            x = event(a.protocol, "Endless", "20200106T150000Z", "20200106T160000Z",
                      people=False, extra=x)
        st, sid = add(a, coll, x, cid)
        assert st == "1", cid
        ids[sid] = cid
    b = devs()
    got = start(b, coll, filter_type=4)
    assert sorted(ids[s] for s in got) == ["endless", "recent"]
    c = devs()
    assert sorted(ids[s] for s in start(c, coll, filter_type=0)) == sorted(ids.values())
    # the estimate counts what is in the window and not on the device yet: nothing
    assert P.estimate(b, coll, "Calendar", filter_type=4) == ("1", "0")


# ---- refusals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("what,x", [
    ("no start", el("Subject", "x") + el("Timezone", NEW_YORK)),
    ("end before start", el("Timezone", NEW_YORK) + el("StartTime", "20261208T150000Z") +
     el("EndTime", "20261208T140000Z")),
    ("blob of 3 bytes", el("Timezone", "AAAA") + el("StartTime", "20261208T150000Z")),
    ("recurrence type 4", el("StartTime", "20261208T150000Z") +
     '<Recurrence xmlns="Calendar:"><Type>4</Type></Recurrence>'),
    ("attendee without email", el("StartTime", "20261208T150000Z") +
     '<Attendees xmlns="Calendar:"><Attendee><Name>X</Name></Attendee></Attendees>'),
])
def test_malformed_event_is_refused(instance, devs, what, x):
    a = devs()
    coll = a.folder("Calendar")
    start(a, coll)
    st, sid = add(a, coll, x)
    assert st == "6", what
    assert sql(instance, "SELECT count(*) FROM calendar c JOIN items i ON i.id = c.item_id "
               "WHERE i.folder_id = %s", coll) == [["0"]]


def test_occurrences_by_instance_id(instance, device_factory, account):
    """16.1: a Change and a Delete of one occurrence name it by InstanceId beside the ServerId
    ([MS-ASAIRS] 2.2.2.25); they become the series' exceptions, which another device gets in
    a Change of the series; an InstanceId that is no occurrence is status 6 (with the
    InstanceId in the response); moving the series' start deletes the exceptions
    ([MS-ASCAL] 2.2.2.22)."""
    a = device_factory(account, "16.1")
    b = device_factory(account, "16.1")
    coll = a.folder("Calendar")
    start(a, coll)
    start(b, coll)
    st, sid = add(a, coll, event("16.1", start="20261208T150000Z", end="20261208T160000Z",
                                 people=False, extra=weekly(5, dow=4)))
    assert st == "1"
    assert [op for op, _, _ in changes(b.sync(coll))] == ["Add"]
    inst = '<InstanceId xmlns="AirSyncBase:">%s</InstanceId>'
    col = a.sync(coll, commands=(
        "<Change><ServerId>%s</ServerId>%s<ApplicationData>%s%s%s</ApplicationData></Change>"
        % (sid, inst % "20261215T150000Z", el("Subject", "One-off"),
           el("StartTime", "20261216T150000Z"), el("EndTime", "20261216T170000Z")) +
        "<Delete><ServerId>%s</ServerId>%s</Delete>" % (sid, inst % "20261222T150000Z")))
    assert col.findtext("Status") == "1" and col.find("Responses") is None, col
    rows = sql(instance, "SELECT to_char(exception_start AT TIME ZONE 'UTC', 'MMDD HH24MI'), "
               "coalesce(deleted::text, ''), coalesce(subject, '') FROM calendar_exceptions "
               "WHERE item_id = %s ORDER BY exception_start", sid)
    assert rows == [["1215 1500", "", "One-off"], ["1222 1500", "true", ""]]
    got = changes(b.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Change", sid)]
    ex = sorted(({c.name: c.text for c in e.children}
                 for e in fields(got[0][2])["Exceptions"].children),
                key=lambda e: e["InstanceId"])
    assert ex == [{"InstanceId": "20261215T150000Z", "Subject": "One-off",
                   "StartTime": "20261216T150000Z", "EndTime": "20261216T170000Z"},
                  {"InstanceId": "20261222T150000Z", "Deleted": "1"}]
    # the last occurrence (2027-01-05) still ends the series
    assert sql(instance, "SELECT to_char(received AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
               "FROM items WHERE id = %s", sid) == [["2027-01-05 16:00"]]
    # no such occurrence: refused, named in the response
    col = a.sync(coll, commands="<Delete><ServerId>%s</ServerId>%s</Delete>"
                 % (sid, inst % "20261223T150000Z"))
    r = col.find("Responses/Delete")
    assert (r.findtext("ServerId"), r.findtext("InstanceId"), r.findtext("Status")) == (
        sid, "20261223T150000Z", "6")
    # the series moved an hour later: its exceptions are gone
    change(a, coll, sid, event("16.1", start="20261208T160000Z", end="20261208T170000Z",
                               people=False, extra=weekly(5, dow=4)))
    assert sql(instance, "SELECT count(*) FROM calendar_exceptions WHERE item_id = %s",
               sid) == [["0"]]


def test_a_change_moves_an_event_across_the_window(instance, device_factory, account):
    """FilterType 4: an event another device moves out of the window leaves by SoftDelete,
    one moved into it arrives as an Add (the device never had it), then changes as usual."""
    import datetime as dt
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    def t(d):
        return (now + dt.timedelta(days=d)).strftime("%Y%m%dT%H%M%SZ")
    w = device_factory(account, "14.1")
    f = device_factory(account, "14.1")
    coll = w.folder("Calendar")
    start(w, coll)
    st, soon = add(w, coll, event("14.1", "Soon", t(3), t(3.1), people=False), "s")
    st2, old = add(w, coll, event("14.1", "Old", t(-30), t(-29.9), people=False), "o")
    assert (st, st2) == ("1", "1")
    opts = ('<Options><FilterType>4</FilterType><BodyPreference xmlns="AirSyncBase:"><Type>1'
            '</Type></BodyPreference></Options>')
    assert list(start(f, coll, filter_type=4)) == [soon]
    change(w, coll, soon, event("14.1", "Soon", t(-40), t(-39.9), people=False))
    change(w, coll, old, event("14.1", "Old", t(7), t(7.1), people=False))
    got = changes(f.sync(coll, options=opts))
    assert sorted((op, s) for op, s, _ in got) == sorted([("SoftDelete", soon), ("Add", old)])
    add_node = [a for op, s, a in got if op == "Add"][0]
    assert fields(add_node)["Subject"] == "Old"
    change(w, coll, old, event("14.1", "Old 2", t(7), t(7.1), people=False))
    got = changes(f.sync(coll, options=opts))
    assert [(op, s) for op, s, _ in got] == [("Change", old)]
    # a device without a window sees plain changes
    g = device_factory(account, "14.1")
    assert sorted(start(g, coll)) == sorted([soon, old])


#: every recurrence type of [MS-ASCAL] 2.2.2.44, from Tuesday 2026-12-08 10:00 New York, with
#: the original starts of its second and third occurrences (the second gets deleted, the third
#: moved a day later)
PATTERNS = {
    "daily": ([("Type", "0"), ("Interval", "2"), ("Occurrences", "5")],
              "20261210T150000Z", "20261212T150000Z"),
    "weekly": ([("Type", "1"), ("Interval", "1"), ("DayOfWeek", "20"),
                ("Until", "20270101T000000Z")], "20261210T150000Z", "20261215T150000Z"),
    "monthly": ([("Type", "2"), ("Interval", "1"), ("DayOfMonth", "8"), ("Occurrences", "6")],
                "20270108T150000Z", "20270208T150000Z"),
    "monthly-nth": ([("Type", "3"), ("Interval", "1"), ("WeekOfMonth", "2"), ("DayOfWeek", "4"),
                     ("Occurrences", "6")], "20270112T150000Z", "20270209T150000Z"),
    "yearly": ([("Type", "5"), ("Interval", "1"), ("DayOfMonth", "8"), ("MonthOfYear", "12"),
                ("Occurrences", "3")], "20271208T150000Z", "20281208T150000Z"),
    "yearly-nth": ([("Type", "6"), ("Interval", "1"), ("WeekOfMonth", "2"), ("DayOfWeek", "4"),
                    ("MonthOfYear", "12"), ("Occurrences", "3")],
                   "20271214T150000Z", "20281212T150000Z"),
}


def _later(compact, hours):
    import datetime as dt
    t = dt.datetime.strptime(compact, "%Y%m%dT%H%M%SZ") + dt.timedelta(hours=hours)
    return t.strftime("%Y%m%dT%H%M%SZ")


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_every_recurrence_pattern_round_trips(instance, devs, version, pattern):
    rule, second, third = PATTERNS[pattern]
    a, b = devs(), devs()
    coll = a.folder("Calendar")
    start(a, coll)
    start(b, coll)
    rec = '<Recurrence xmlns="Calendar:">%s</Recurrence>' % "".join(el(k, v) for k, v in rule)
    moved = (occurrence(third, version) + el("Subject", "Moved") +
             el("StartTime", _later(third, 24)) + el("EndTime", _later(third, 25)) +
             (el("Location", "Elsewhere") if vnum(version) < 160 else ""))
    deleted = el("Deleted", "1") + occurrence(second, version)
    st, sid = add(a, coll, event(version, "Series " + pattern, "20261208T150000Z",
                                 "20261208T160000Z", people=False,
                                 extra=rec + exceptions(deleted, moved)))
    assert st == "1"
    got = changes(b.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Add", sid)]
    f = fields(got[0][2])
    want = dict(rule)
    if vnum(version) >= 141 and want["Type"] == "1":
        want["FirstDayOfWeek"] = "0"
    assert {c.name: c.text for c in f["Recurrence"].children} == want
    key = "InstanceId" if vnum(version) >= 160 else "ExceptionStartTime"
    ex = sorted(({c.name: c.text for c in e.children} for e in f["Exceptions"].children),
                key=lambda e: e[key])
    want_moved = {key: third, "Subject": "Moved", "StartTime": _later(third, 24),
                  "EndTime": _later(third, 25)}
    if vnum(version) < 160:
        want_moved["Location"] = "Elsewhere"
    assert ex == [{"Deleted": "1", key: second}, want_moved]
    assert sql(instance, "SELECT count(*) FROM calendar_exceptions WHERE item_id = %s",
               sid) == [["2"]]


def test_fetch_and_move_between_calendars(instance, device_factory, account):
    """ItemOperations Fetch gives the whole event; MoveItems moves a series with its exceptions
    into a user calendar (the other device sees a Delete here and an Add there), and into the
    Contacts folder it is status 2 ([MS-ASCMD] 2.2.3.177.10: invalid destination)."""
    a = device_factory(account, "14.1")
    b = device_factory(account, "14.1")
    cal = a.folder("Calendar")
    r = a.c.post("FolderCreate", '<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey>'
                 '<ParentId>0</ParentId><DisplayName>Holidays</DisplayName><Type>13</Type>'
                 '</FolderCreate>' % a.hier_key)
    team = r.wbxml.findtext("ServerId")
    b.foldersync()
    for d in (a, b):
        start(d, cal)
        start(d, team)
    deleted = el("Deleted", "1") + el("ExceptionStartTime", "20261215T150000Z")
    st, sid = add(a, cal, event("14.1", "Trip", extra=weekly(3, dow=4) + exceptions(deleted)))
    assert st == "1"
    assert [(op, s) for op, s, _ in changes(b.sync(cal))] == [("Add", sid)]
    f = P.itemops_fetch(b, cal, sid)
    assert f.findtext("Status") == "1"
    props = fields(f.find("Properties"))
    assert props["Subject"] == "Trip" and props["Recurrence"] is not None
    assert len(props["Exceptions"].children) == 1
    status, new = P.move(a, sid, cal, team)
    assert status == 3 and new
    assert [(op, s) for op, s, _ in changes(b.sync(cal))] == [("Delete", sid)]
    got = changes(b.sync(team))
    assert [(op, s) for op, s, _ in got] == [("Add", new)]
    assert len(fields(got[0][2])["Exceptions"].children) == 1
    assert sql(instance, "SELECT count(*) FROM calendar_exceptions WHERE item_id = %s",
               new) == [["1"]]
    status, _ = P.move(a, new, team, a.folder("Contacts"))
    assert status == 2


def test_ghosted_properties_are_kept(instance, device_factory, account):
    """A device whose first Sync declared Supported (Subject, StartTime, EndTime, Timezone):
    its Change without Location, Categories and Exceptions keeps them ([MS-ASCMD]
    2.2.3.179); a device without Supported clears Location and Categories."""
    a = device_factory(account, "14.1")
    coll = a.folder("Calendar")
    sup = ('<Supported><Subject xmlns="Calendar:"/><StartTime xmlns="Calendar:"/>'
           '<EndTime xmlns="Calendar:"/><Timezone xmlns="Calendar:"/></Supported>')
    col = a.sync(coll, key="0", extra=sup)
    assert col.findtext("Status") == "1"
    a.sync(coll)
    deleted = el("Deleted", "1") + el("ExceptionStartTime", "20261215T150000Z")
    st, sid = add(a, coll, event("14.1", "Ghosts", extra=weekly(3, dow=4) + exceptions(deleted)))
    assert st == "1"
    change(a, coll, sid, el("Timezone", NEW_YORK) + el("StartTime", "20261208T150000Z") +
           el("EndTime", "20261208T170000Z") + el("Subject", "Ghosts 2") + weekly(3, dow=4))
    assert stored(instance, sid, "subject", "location", "array_to_string(categories, ',')",
                  "to_char(end_time AT TIME ZONE 'UTC', 'HH24:MI')") == [
        "Ghosts 2", "Room 7 – Kö", "Work,Ω", "17:00"]
    assert sql(instance, "SELECT count(*) FROM calendar_exceptions WHERE item_id = %s",
               sid) == [["1"]]
    b = device_factory(account, "14.1")
    start(b, coll)
    change(b, coll, sid, el("Timezone", NEW_YORK) + el("StartTime", "20261208T150000Z") +
           el("EndTime", "20261208T170000Z") + el("Subject", "Ghosts 3") + weekly(3, dow=4))
    assert stored(instance, sid, "subject", "coalesce(location, '-')",
                  "coalesce(array_to_string(categories, ','), '-')") == ["Ghosts 3", "-", "-"]
    assert sql(instance, "SELECT count(*) FROM calendar_exceptions WHERE item_id = %s",
               sid) == [["0"]]


def test_event_round_trips_at_2_5(instance, device_factory, account):
    """2.5 has the calendar too ([MS-ASCAL] 2.5 elements: calendar:Body, no attendee status):
    an event added by one 2.5 device reaches another whole, changes and deletes."""
    a, b = device_factory(account, "2.5"), device_factory(account, "2.5")
    coll = a.folder("Calendar")
    for d in (a, b):
        d.keys.pop(coll, None)
        assert d.sync(coll, key="0", options="").findtext("Status") == "1"
        assert changes(d.sync(coll, options="")) == []     # 2.5 has no empty response
    col = a.sync(coll, options="", commands="<Add><ClientId>c1</ClientId><ApplicationData>%s"
                 "</ApplicationData></Add>" % event("2.5"))
    assert col.findtext("Responses/Add/Status") == "1", col
    sid = col.findtext("Responses/Add/ServerId")
    col = b.sync(coll, options="")
    got = changes(col)
    assert [(op, s) for op, s, _ in got] == [("Add", sid)]
    f = fields(got[0][2])
    assert f["Subject"] == "Planning" and f["UID"] == "zx-e2e-uid-Planning"
    assert f["StartTime"] == "20261208T150000Z" and f["EndTime"] == "20261208T160000Z"
    assert f["Location"] == "Room 7 – Kö" and f["OrganizerEmail"] == "ann@example.com"
    assert f["Body"] == "Agenda: plans."
    assert [(e, n) for e, n, _, _ in people(f["Attendees"])] == [
        ("bob@example.com", "Bob Ω"), ("carol@example.com", "Carol")]
    tz = read_blob(f["Timezone"])
    assert (tz["bias"], tz["dst_bias"]) == (300, -60), tz
    col = b.sync(coll, options="", commands="<Change><ServerId>%s</ServerId><ApplicationData>"
                 "%s</ApplicationData></Change>" % (sid, event("2.5", subject="Planning 2")))
    assert col.findtext("Status") == "1" and col.find("Responses") is None, col
    got = changes(a.sync(coll, options=""))
    assert [(op, s) for op, s, _ in got] == [("Change", sid)]
    assert fields(got[0][2])["Subject"] == "Planning 2"
    col = a.sync(coll, commands="<Delete><ServerId>%s</ServerId></Delete>" % sid, options="")
    assert [(op, s) for op, s, _ in changes(b.sync(coll, options=""))] == [("Delete", sid)]
