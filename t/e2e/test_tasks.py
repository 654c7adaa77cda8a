"""Tasks ([MS-ASTASK]) over the real httpd at 12.1, 14.1 and 16.1, driven by the project's
independent client: the default Tasks folder and user tasks folders (type 15), every property of
pim_fields.def (recurrence included) from device A through the server to device B, what a
Change without a property does, properties a device's version does not define kept,
FilterType 8 (incomplete tasks: a completed task leaves the device by SoftDelete; the estimate
counts incomplete tasks only), every recurrence type and WeekOfMonth's rule, Ping, the CLI's
import (and export then import of every property), and MoveItems."""

import pytest

import pimdata as P
from syncutil import VERSIONS, new_account

CLS = "Tasks"
INCOMPLETE = 8      # [MS-ASCMD] 2.2.3.70.1 FilterType: 8 = incomplete tasks


@pytest.fixture
def account(instance):
    return new_account(instance)


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


@pytest.fixture
def devs(device_factory, account, version):
    return lambda **kw: device_factory(account, version, **kw)


def check(expected, got, what=""):
    d = P.diff(expected, got)
    assert not d, "%s differs:\n  %s" % (what or "item", "\n  ".join(d))


def task(subject, complete="0", **kw):
    t = {"subject": subject, "importance": "1", "complete": complete,
         "utc_due_date": "2027-02-01T12:00:00.000Z", "due_date": "2027-02-01T13:00:00.000Z",
         "body": "Aufgabe: " + subject}
    if complete == "1":
        t["date_completed"] = "2026-12-07T08:00:00.000Z"
    t.update(kw)
    return t


def ops(col):
    return [(op, s) for op, s, _ in P.commands(col)]


# ---- folders ----------------------------------------------------------------------------

def test_default_tasks_folder(devs):
    a = devs()
    b = devs()
    tid = a.folder("Tasks")
    doc = a.foldersync("0")
    types = {x.findtext("DisplayName"): (x.findtext("Type"), x.findtext("ParentId"))
             for x in doc.findall("Changes/Add")}
    assert types["Tasks"] == ("7", "0")
    assert P.folder_delete(a, tid).findtext("Status") == "3"
    assert P.folder_update(a, tid, "Aufgaben").findtext("Status") == "2"
    assert P.hierarchy_changes(b.foldersync()) == []
    assert P.start(a, tid) == {}


def test_user_tasks_folder_create_rename_delete(devs):
    a = devs()
    b = devs()
    doc = P.folder_create(a, "Projekt Ω", 15)
    assert doc.findtext("Status") == "1", doc
    fid = doc.findtext("ServerId")
    assert P.hierarchy_changes(b.foldersync()) == [("Add", fid, "0", "Projekt Ω", "15")]
    c = devs(foldersync=False)
    got = {x[3]: x[4] for x in P.hierarchy_changes(c.foldersync())}
    assert got["Projekt Ω"] == "15" and got["Tasks"] == "7"
    assert P.start(a, fid) == {}
    assert P.folder_update(a, fid, "Projekt Ω 2").findtext("Status") == "1"
    assert P.hierarchy_changes(b.foldersync()) == [("Update", fid, "0", "Projekt Ω 2", "15")]
    assert P.folder_delete(a, fid).findtext("Status") == "1"
    assert [(x[0], x[1]) for x in P.hierarchy_changes(b.foldersync())] == [("Delete", fid)]


# ---- every property, A -> server -> B ----------------------------------------------------

def test_every_property_round_trips(devs, version):
    a = devs()
    b = devs()
    coll = a.folder("Tasks")
    P.start(a, coll)
    P.start(b, coll)
    sid = P.add(a, coll, CLS, P.TASK)
    exp = P.expect_for(CLS, P.TASK, version)
    assert a.sync(coll) is None
    got = P.commands(b.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Add", sid)]
    check(exp, P.parse(CLS, got[0][2]), "B's Add")
    c = devs()
    first = P.start(c, coll)
    assert list(first) == [sid]
    check(exp, P.parse(CLS, first[sid]), "a new device's initial Add")
    col = b.sync(coll, commands="<Fetch><ServerId>%s</ServerId></Fetch>" % sid)
    assert col.findtext("Responses/Fetch/Status") == "1"
    check(exp, P.parse(CLS, col.find("Responses/Fetch/ApplicationData")), "the Fetch")
    # every property changed (another recurrence, not complete any more)
    P.change(a, coll, sid, CLS, P.TASK2)
    exp2 = P.expect_for(CLS, P.TASK2, version)
    for d in (b, c):
        got = P.commands(d.sync(coll))
        assert [(op, s) for op, s, _ in got] == [("Change", sid)]
        check(exp2, P.parse(CLS, got[0][2]), "the Change")
    col = c.sync(coll, commands=P.delete_cmd(sid))
    assert col.find("Responses") is None and P.commands(col) == []
    for d in (a, b):
        assert ops(d.sync(coll)) == [("Delete", sid)]


def test_change_without_a_property_clears_it_but_not_the_body(devs, version):
    a = devs()
    b = devs()
    coll = a.folder("Tasks")
    P.start(a, coll)
    P.start(b, coll)
    sid = P.add(a, coll, CLS, P.TASK)
    P.commands(b.sync(coll))
    # tasks have no ghosting ([MS-ASCMD] 2.2.3.179: Supported is for contacts and calendar):
    # what the Change leaves out is gone, the recurrence too; the body is kept
    P.change(a, coll, sid, CLS, {"subject": "Nur noch der Betreff", "importance": "0",
                                 "complete": "0"})
    got = P.commands(b.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Change", sid)]
    check({"subject": "Nur noch der Betreff", "importance": "0", "complete": "0",
           "body": P.TASK["body"], "body_type": "1"}, P.parse(CLS, got[0][2]),
          "after a Change with three properties")


def test_properties_of_a_newer_version_are_kept(device_factory, account):
    """A 12.1 device cannot carry CalendarType, IsLeapMonth (14.0+) and FirstDayOfWeek (14.1+):
    its Change keeps them; a 14.0-14.1 device's Change keeps what 16.1 alone has (none for
    tasks) and clears what it could have sent."""
    new = device_factory(account, "16.1")
    old = device_factory(account, "12.1")
    mid = device_factory(account, "14.1")
    coll = new.folder("Tasks")
    for d in (new, old, mid):
        P.start(d, coll)
    # incomplete: a Change completing a recurring task would move the series on
    task = dict(P.TASK, complete="0")
    task.pop("date_completed", None)
    sid = P.add(new, coll, CLS, task)
    got = P.commands(old.sync(coll))
    seen = P.parse(CLS, got[0][2])
    check(P.expect_for(CLS, task, "12.1"), seen, "the 12.1 device's Add")
    P.commands(mid.sync(coll))
    # the old device changes the subject and sends back all it knows
    seen["subject"] = "Geändert auf 12.1"
    P.change(old, coll, sid, CLS, seen)
    exp = dict(task, subject="Geändert auf 12.1")
    got = P.commands(new.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Change", sid)]
    check(P.expect_for(CLS, exp, "16.1"), P.parse(CLS, got[0][2]), "16.1 after 12.1's Change")
    # the 14.1 device sends a recurrence without FirstDayOfWeek and CalendarType: cleared
    mine = P.parse(CLS, P.commands(mid.sync(coll))[0][2])
    del mine["rec_first_day_of_week"], mine["rec_calendar_type"]
    P.change(mid, coll, sid, CLS, mine)
    exp2 = dict(exp)
    del exp2["rec_first_day_of_week"], exp2["rec_calendar_type"]
    got = P.commands(new.sync(coll))
    check(P.expect_for(CLS, exp2, "16.1"), P.parse(CLS, got[0][2]), "16.1 after 14.1's Change")
    got = P.commands(old.sync(coll))
    check(P.expect_for(CLS, exp2, "12.1"), P.parse(CLS, got[0][2]), "12.1 after 14.1's Change")


# ---- FilterType 8: incomplete tasks --------------------------------------------------------

def test_filter_incomplete_tasks(devs, version):
    a = devs()
    f = devs()
    coll = a.folder("Tasks")
    P.start(a, coll)
    t1, t2 = task("offen"), task("erledigt", complete="1")
    s1 = P.add(a, coll, CLS, t1, client_id="1")
    s2 = P.add(a, coll, CLS, t2, client_id="2")
    flt = P.options(filter_type=INCOMPLETE)
    first = P.start(f, coll, opts=flt)
    assert list(first) == [s1]
    check(P.expect_for(CLS, t1, version), P.parse(CLS, first[s1]), "the incomplete task")
    # t1 completed: it leaves the filtered device by SoftDelete ([MS-ASCMD] 2.2.3.169)
    P.change(a, coll, s1, CLS, task("offen", complete="1"))
    assert ops(f.sync(coll, options=flt)) == [("SoftDelete", s1)]
    # a task added completed is not sent
    P.add(a, coll, CLS, task("gleich erledigt", complete="1"), client_id="3")
    assert ops(f.sync(coll, options=flt)) == []
    # t2 reopened: it comes as an Add with all it has
    P.change(a, coll, s2, CLS, task("wieder offen"))
    got = P.commands(f.sync(coll, options=flt))
    assert [(op, s) for op, s, _ in got] == [("Add", s2)]
    check(P.expect_for(CLS, task("wieder offen"), version), P.parse(CLS, got[0][2]), "t2")
    # a new incomplete task is sent
    s4 = P.add(a, coll, CLS, task("neu"), client_id="4")
    assert ops(f.sync(coll, options=flt)) == [("Add", s4)]
    # without the filter a device gets all four
    b = devs()
    assert len(P.start(b, coll)) == 4


def test_estimate_counts_incomplete_tasks_only(devs, version):
    """GetItemEstimate with FilterType 8 ([MS-ASCMD] 2.2.1.9): the completed tasks added since
    the device's key are not counted."""
    a = devs()
    f = devs()
    coll = a.folder("Tasks")
    P.start(a, coll)
    flt = P.options(filter_type=INCOMPLETE)
    P.start(f, coll, opts=flt)
    col = a.sync(coll, commands="".join(P.add_cmd("e%d" % i, CLS, t, version) for i, t in
                                        enumerate((task("eins"), task("zwei", complete="1"),
                                                   task("drei"), task("vier", complete="1"),
                                                   task("fünf", complete="1")))))
    assert [x.findtext("Status") for x in col.findall("Responses/Add")] == ["1"] * 5
    assert P.estimate(f, coll, CLS, INCOMPLETE) == ("1", "2")
    got = P.commands(f.sync(coll, options=flt))
    assert sorted(P.parse(CLS, n)["subject"] for op, s, n in got if op == "Add") == \
        ["drei", "eins"]


def test_ping_reports_a_task_added_elsewhere(devs):
    a = devs()
    b = devs()
    coll = a.folder("Tasks")
    P.start(a, coll)
    P.start(b, coll)
    P.add(b, coll, CLS, task("ping"))
    status, folders, took = P.ping_now(a, coll, "Tasks")
    assert (status, folders) == ("2", [coll]) and took < 5


def test_completing_a_task_on_the_filtered_device(devs, version):
    """The filtered device completes a task itself: the Change is taken (the other device
    sees it), and the task then leaves the filtered device (no Change back; a SoftDelete, in
    the same response or the next, or nothing - it knows already)."""
    a = devs()
    f = devs()
    coll = a.folder("Tasks")
    P.start(a, coll)
    flt = P.options(filter_type=INCOMPLETE)
    P.start(f, coll, opts=flt)
    sid = P.add(f, coll, CLS, task("auf dem Gerät"), opts=flt)
    P.commands(a.sync(coll))
    done = task("auf dem Gerät", complete="1")
    col = f.sync(coll, options=flt, commands=P.change_cmd(sid, CLS, done, version))
    assert col.findtext("Status") == "1" and col.find("Responses") is None, col
    gone = ops(col) + ops(f.sync(coll, options=flt))
    assert gone in ([], [("SoftDelete", sid)]), gone
    got = P.commands(a.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Change", sid)]
    check(P.expect_for(CLS, done, version), P.parse(CLS, got[0][2]), "the completed task")


def test_week_of_month_outside_types_3_and_6_is_refused(devs, version):
    """[MS-ASTASK] 2.2.2.33: WeekOfMonth only with Type 3 or 6, else Sync status 6."""
    a = devs()
    b = devs()
    coll = a.folder("Tasks")
    P.start(a, coll)
    P.start(b, coll)
    bad = task("falsch", rec_type="1", rec_start=START, rec_interval="1", rec_day_of_week="2",
               rec_week_of_month="2")
    good = task("richtig", rec_type="3", rec_start=START, rec_interval="1",
                rec_day_of_week="2", rec_week_of_month="2")
    col = a.sync(coll, commands=P.add_cmd("bad", CLS, bad, version) +
                 P.add_cmd("good", CLS, good, version))
    adds = {x.findtext("ClientId"): x for x in col.findall("Responses/Add")}
    assert adds["bad"].findtext("Status") == "6"
    assert adds["good"].findtext("Status") == "1"
    got = P.commands(b.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Add", adds["good"].findtext("ServerId"))]
    check(P.expect_for(CLS, good, version), P.parse(CLS, got[0][2]), "the good one")


# ---- recurrence ------------------------------------------------------------------------------

START = "2027-01-04T00:00:00.000Z"
RECURRENCES = {
    # [MS-ASTASK] 2.2.2.18 Recurrence, 2.2.2.26 Type
    "daily": {"rec_type": "0", "rec_start": START, "rec_interval": "2", "rec_occurrences": "5"},
    "daily regenerating": {"rec_type": "0", "rec_start": START, "rec_interval": "3",
                           "rec_regenerate": "1", "rec_dead_occur": "0"},
    "weekly": {"rec_type": "1", "rec_start": START, "rec_interval": "1",
               "rec_day_of_week": "42", "rec_until": "2027-06-30T00:00:00.000Z",
               "rec_first_day_of_week": "1"},
    "monthly": {"rec_type": "2", "rec_start": START, "rec_interval": "1",
                "rec_day_of_month": "31", "rec_occurrences": "12"},
    "monthly nth": {"rec_type": "3", "rec_start": START, "rec_interval": "2",
                    "rec_week_of_month": "5", "rec_day_of_week": "32"},
    "yearly": {"rec_type": "5", "rec_start": START, "rec_interval": "1",
               "rec_day_of_month": "29", "rec_month_of_year": "2", "rec_dead_occur": "1"},
    "yearly nth": {"rec_type": "6", "rec_start": START, "rec_interval": "1",
                   "rec_week_of_month": "4", "rec_day_of_week": "4",
                   "rec_month_of_year": "11", "rec_until": "2040-11-30T00:00:00.000Z"},
    "yearly lunar": {"rec_type": "5", "rec_start": START, "rec_interval": "1",
                     "rec_day_of_month": "1", "rec_month_of_year": "1",
                     "rec_calendar_type": "15", "rec_is_leap_month": "1"},
}


def test_recurrence_types_round_trip(devs, version):
    a = devs()
    b = devs()
    coll = a.folder("Tasks")
    P.start(a, coll)
    P.start(b, coll)
    tasks = {name: task("Wiederholung " + name, **r) for name, r in RECURRENCES.items()}
    col = a.sync(coll, commands="".join(P.add_cmd("r%d" % i, CLS, t, version)
                                        for i, t in enumerate(tasks.values())))
    adds = col.findall("Responses/Add")
    assert [x.findtext("Status") for x in adds] == ["1"] * len(tasks), col
    sids = {name: adds[i].findtext("ServerId") for i, name in enumerate(tasks)}
    got = {s: node for op, s, node in P.commands(b.sync(coll)) if op == "Add"}
    assert sorted(got) == sorted(sids.values())
    for name, t in tasks.items():
        check(P.expect_for(CLS, t, version), P.parse(CLS, got[sids[name]]), name)
    # a recurrence removed by a Change that has none
    plain = task("Wiederholung daily")
    P.change(a, coll, sids["daily"], CLS, plain)
    got = P.commands(b.sync(coll))
    check(P.expect_for(CLS, plain, version), P.parse(CLS, got[0][2]), "without recurrence")


# ---- server side ----------------------------------------------------------------------------

def test_server_side_import_reaches_both(instance, account, devs, version, tmp_path):
    a = devs()
    b = devs()
    coll = a.folder("Tasks")
    P.start(a, coll)
    P.start(b, coll)
    props = {"subject": "Steuererklärung abgeben", "utc_due_date": "2027-05-31T22:00:00.000Z"}
    P.server_import(instance, account, CLS, P.vtodo(props), tmp_path)
    seen = []
    for d in (a, b):
        got = P.commands(d.sync(coll))
        assert [op for op, _, _ in got] == ["Add"]
        parsed = P.parse(CLS, got[0][2])
        for k, v in props.items():
            assert parsed.get(k) == v, (k, parsed)
        seen.append(got[0][1])
    assert seen[0] == seen[1]


# ---- MoveItems --------------------------------------------------------------------------

def test_move_between_tasks_folders(devs, version):
    a = devs()
    b = devs()
    src = a.folder("Tasks")
    dst = P.folder_create(a, "Später", 15).findtext("ServerId")
    b.foldersync()
    for d in (a, b):
        for f in (src, dst):
            P.start(d, f)
    sid = P.add(a, src, CLS, P.TASK)
    P.commands(b.sync(src))
    assert P.move(a, sid, src, a.folder("Contacts")) == (2, None)
    assert P.move(a, sid, src, a.folder("Inbox")) == (2, None)
    status, new = P.move(a, sid, src, dst)
    assert status == 3 and new and new != sid
    assert a.sync(src) is None and a.sync(dst) is None
    assert ops(b.sync(src)) == [("Delete", sid)]
    got = P.commands(b.sync(dst))
    assert [(op, s) for op, s, _ in got] == [("Add", new)]
    check(P.expect_for(CLS, P.TASK, version), P.parse(CLS, got[0][2]), "the moved task")


def test_export_then_import_gives_every_property_back(instance, account, device_factory,
                                                      tmp_path):
    """The CLI's export of a task a device added, imported into another folder: a device is
    sent the copy with every property of the original (README: "every field comes back"),
    the body's line ends apart (the formats have one newline)."""
    a = device_factory(account, "16.1")
    src = a.folder("Tasks")
    dst = P.folder_create(a, "Import", 15).findtext("ServerId")
    b = device_factory(account, "16.1")
    P.start(a, src)
    P.start(b, dst)
    P.add(a, src, CLS, P.TASK_ICAL)
    text = P.server_export(instance, account, CLS, "Tasks")
    resp = P.server_import(instance, account, CLS, text, tmp_path, folder=dst)
    assert resp.get("imported") == 1, resp
    got = P.commands(b.sync(dst))
    assert [op for op, _, _ in got] == ["Add"], got
    check(P.lf(P.expect_for(CLS, P.TASK_ICAL, "16.1")), P.lf(P.parse(CLS, got[0][2])),
          "the imported copy (export was:\n%s)" % text[:3000])
