"""Contacts, Tasks and Notes through the sync engine (issue 15): the paths every class shares -
Add with ClientId, the other device's Add, Change with and without Supported (ghosting), Delete,
the class row following a move - checked on the decoded answers and the stored rows."""

import pytest

from mailtools import PASSWORD, account, sql  # noqa: F401
from syncutil import ops

C = 'xmlns:c="Contacts" xmlns:c2="Contacts2"'


def add(cid, body):
    return '<Add><ClientId>%s</ClientId><ApplicationData>%s</ApplicationData></Add>' % (cid, body)


def contact_props(col_item):
    ad = col_item.find("ApplicationData")
    return {c.name: c.text for c in ad.children} if ad is not None else {}


@pytest.fixture
def devices(account, device_factory):
    """make(version="14.1"): a device of the test's account, its FolderSync done."""
    return lambda version="14.1": device_factory(account, version, password=PASSWORD)


def test_contact_add_reaches_the_other_device(instance, account, devices):
    a, b = devices(), devices()
    for d in (a, b):
        d.sync_all("Contacts")
    col = a.sync("Contacts", commands=add("c1", '<FirstName xmlns="Contacts:">Zoë</FirstName>'
                                               '<LastName xmlns="Contacts:">Ålund</LastName>'
                                               '<NickName xmlns="Contacts2:">Zo</NickName>'))
    r = col.findall("Responses/Add")
    assert len(r) == 1 and r[0].findtext("Status") == "1" and r[0].findtext("ClientId") == "c1"
    sid = r[0].findtext("ServerId")
    assert sid
    rows = sql(instance, "SELECT first_name, last_name, nickname FROM contacts WHERE item_id = %s",
               sid)
    assert rows == [["Zoë", "Ålund", "Zo"]]
    assert ops(a.sync("Contacts")) == []
    got = b.sync("Contacts")
    assert ops(got) == [("Add", sid)]
    props = contact_props(got.find("Commands/Add"))
    assert props["FirstName"] == "Zoë" and props["LastName"] == "Ålund"
    assert props["NickName"] == "Zo"


def change(sid, body):
    return '<Change><ServerId>%s</ServerId><ApplicationData>%s</ApplicationData></Change>' % (
        sid, body)


def contact_row(instance, sid, *cols):
    return sql(instance, "SELECT %s FROM contacts WHERE item_id = %%s" % ", ".join(cols), sid)


FULL = ('<FirstName xmlns="Contacts:">Ann</FirstName><LastName xmlns="Contacts:">Lee</LastName>'
        '<JobTitle xmlns="Contacts:">Pilot</JobTitle><Spouse xmlns="Contacts:">Bo</Spouse>'
        '<Body xmlns="AirSyncBase:"><Type>1</Type><Data>notes here</Data></Body>')


def new_contact(dev, cid="n1", body=FULL):
    col = dev.sync("Contacts", commands=add(cid, body))
    r = col.find("Responses/Add")
    assert r.findtext("Status") == "1", r
    return r.findtext("ServerId")


def test_change_without_supported_clears_what_it_omits(instance, account, devices):
    a = devices()
    a.sync_all("Contacts")
    sid = new_contact(a)
    col = a.sync("Contacts", commands=change(sid, '<FirstName xmlns="Contacts:">Anna</FirstName>'))
    assert col.find("Responses") is None
    # the body is kept (no Body with data came); everything else omitted is gone
    assert contact_row(instance, sid, "first_name", "last_name", "job_title", "spouse",
                       "body") == [["Anna", "", "", "", "notes here"]]


def test_supported_ghosts_what_it_does_not_name(instance, account, devices):
    a = devices()
    a.sync("Contacts", key="0", extra='<Supported><FirstName xmlns="Contacts:"/>'
           '<LastName xmlns="Contacts:"/><JobTitle xmlns="Contacts:"/></Supported>')
    a.sync("Contacts")
    sid = new_contact(a, "g1")
    # omits LastName (supported: cleared) and Spouse (not supported: kept)
    a.sync("Contacts", commands=change(sid, '<FirstName xmlns="Contacts:">Anne</FirstName>'
                                            '<JobTitle xmlns="Contacts:">Captain</JobTitle>'))
    assert contact_row(instance, sid, "first_name", "last_name", "job_title", "spouse") == [
        ["Anne", "", "Captain", "Bo"]]
    # the Supported list lives with the state: a later Sync without it still ghosts
    a.sync("Contacts", commands=change(sid, '<FirstName xmlns="Contacts:">Anne</FirstName>'))
    assert contact_row(instance, sid, "job_title", "spouse") == [["", "Bo"]]


def test_server_change_carries_the_whole_contact(instance, account, devices):
    a, b = devices("12.1"), devices("16.1")
    for d in (a, b):
        d.sync_all("Contacts")
    sid = new_contact(a, "w1")
    assert ops(b.sync("Contacts")) == [("Add", sid)]
    a.sync("Contacts", commands=change(sid, FULL.replace("Pilot", "Captain")))
    got = b.sync("Contacts")
    assert ops(got) == [("Change", sid)]
    props = contact_props(got.find("Commands/Change"))
    assert props["JobTitle"] == "Captain" and props["FirstName"] == "Ann"
    assert props["Spouse"] == "Bo"
    body = got.find("Commands/Change/ApplicationData/Body")
    assert body.findtext("Data") == "notes here" and body.findtext("Type") == "1"


def test_oversized_picture_is_status_6(instance, account, devices):
    a = devices()
    a.sync_all("Contacts")
    col = a.sync("Contacts", commands=add("p1", '<FirstName xmlns="Contacts:">P</FirstName>'
                                                '<Picture xmlns="Contacts:">%s</Picture>'
                                                % ("A" * (48 * 1024 + 4))))
    r = col.find("Responses/Add")
    assert r.findtext("Status") == "6" and r.findtext("ServerId") is None
    col = a.sync("Contacts", commands=add("p2", '<FirstName xmlns="Contacts:">P</FirstName>'
                                                '<Picture xmlns="Contacts:">%s</Picture>'
                                                % ("A" * (48 * 1024))))
    assert col.find("Responses/Add").findtext("Status") == "1"


def test_delete_and_move_between_contact_folders(instance, account, devices):
    a, b = devices(), devices()
    r = a.c.post("FolderCreate", '<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey>'
                 '<ParentId>0</ParentId><DisplayName>Friends</DisplayName><Type>14</Type>'
                 '</FolderCreate>' % a.hier_key)
    assert r.wbxml.findtext("Status") == "1"
    friends = r.wbxml.findtext("ServerId")
    for d in (a, b):
        d.foldersync()
        d.sync_all("Contacts")
        d.sync_all(friends)
    sid = new_contact(a, "m1")
    b.sync("Contacts")
    r = a.c.post("MoveItems", '<MoveItems xmlns="Move:"><Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s'
                 '</SrcFldId><DstFldId>%s</DstFldId></Move></MoveItems>'
                 % (sid, a.folder("Contacts"), friends))
    assert r.wbxml.findtext("Response/Status") == "3"
    new = r.wbxml.findtext("Response/DstMsgId")
    assert contact_row(instance, new, "first_name", "job_title") == [["Ann", "Pilot"]]
    assert ops(b.sync("Contacts")) == [("Delete", sid)]
    got = b.sync(friends)
    assert ops(got) == [("Add", new)]
    assert contact_props(got.find("Commands/Add"))["JobTitle"] == "Pilot"
    # into a tasks folder: refused, the contact stays
    r = a.c.post("MoveItems", '<MoveItems xmlns="Move:"><Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s'
                 '</SrcFldId><DstFldId>%s</DstFldId></Move></MoveItems>'
                 % (new, friends, a.folder("Tasks")))
    assert r.wbxml.findtext("Response/Status") == "2"
    a.sync(friends, commands='<Delete><ServerId>%s</ServerId></Delete>' % new, deletes_as_moves=1)
    assert ops(b.sync(friends)) == [("Delete", new)]
    assert sql(instance, "SELECT deleted FROM items WHERE id = %s", new) == [["t"]]


TASK = ('<Subject xmlns="Tasks:">Pay rent</Subject><Importance xmlns="Tasks:">2</Importance>'
        '<StartDate xmlns="Tasks:">2026-12-01T09:00:00.000Z</StartDate>'
        '<UtcStartDate xmlns="Tasks:">2026-12-01T08:00:00.000Z</UtcStartDate>'
        '<DueDate xmlns="Tasks:">2026-12-02T09:00:00.000Z</DueDate>'
        '<UtcDueDate xmlns="Tasks:">2026-12-02T08:00:00.000Z</UtcDueDate>'
        '<Complete xmlns="Tasks:">0</Complete>'
        '<Recurrence xmlns="Tasks:"><Type>2</Type><Start>2026-12-01T08:00:00.000Z</Start>'
        '<Interval>1</Interval><DayOfMonth>1</DayOfMonth><Regenerate>0</Regenerate>'
        '<DeadOccur>0</DeadOccur><FirstDayOfWeek>1</FirstDayOfWeek></Recurrence>')


@pytest.mark.parametrize("version", ["12.1", "14.1", "16.1"])
def test_task_with_recurrence(instance, account, devices, version):
    a, b = devices(version), devices("16.1")
    for d in (a, b):
        d.sync_all("Tasks")
    col = a.sync("Tasks", commands=add("t1", TASK))
    r = col.find("Responses/Add")
    assert r.findtext("Status") == "1", r
    sid = r.findtext("ServerId")
    got = b.sync("Tasks")
    assert ops(got) == [("Add", sid)]
    ad = got.find("Commands/Add/ApplicationData")
    assert ad.findtext("Subject") == "Pay rent" and ad.findtext("Importance") == "2"
    assert ad.findtext("UtcDueDate") == "2026-12-02T08:00:00.000Z"
    rec = ad.find("Recurrence")
    assert rec.findtext("Type") == "2" and rec.findtext("DayOfMonth") == "1"
    # FirstDayOfWeek is 14.1+: what a 12.1 device sends of it is ignored
    assert rec.findtext("FirstDayOfWeek") == (None if version == "12.1" else "1")
    # complete without DateCompleted: status 6
    col = a.sync("Tasks", commands=change(sid, TASK.replace(
        '<Complete xmlns="Tasks:">0</Complete>', '<Complete xmlns="Tasks:">1</Complete>')))
    assert col.find("Responses/Change").findtext("Status") == "6"


def test_note_at_14(instance, account, devices):
    a, b = devices("14.1"), devices("16.1")
    for d in (a, b):
        d.sync_all("Notes")
    col = a.sync("Notes", commands=add("x1", '<Subject xmlns="Notes:">Idea</Subject>'
                                             '<MessageClass xmlns="Notes:">IPM.StickyNote'
                                             '</MessageClass><Categories xmlns="Notes:"><Category>'
                                             'Work</Category><Category>Ünï</Category></Categories>'
                                             '<Body xmlns="AirSyncBase:"><Type>1</Type>'
                                             '<Data>text</Data></Body>'))
    sid = col.find("Responses/Add").findtext("ServerId")
    got = b.sync("Notes")
    ad = got.find("Commands/Add/ApplicationData")
    assert ad.findtext("Subject") == "Idea"
    assert [c.text for c in ad.find("Categories").children] == ["Work", "Ünï"]
    assert ad.findtext("LastModifiedDate")
    assert ops(got) == [("Add", sid)]


def test_fields_and_columns_agree(instance):
    """Every property of pim_fields.def has its column, of its type (migrations 018, 020)."""
    import os
    import re
    here = os.path.dirname(os.path.abspath(__file__))
    d = open(os.path.join(here, "..", "..", "libzxsync", "include", "zxsync",
                          "pim_fields.def")).read()
    want = {}
    types = {"TEXT": "text", "INT": "integer", "BOOL": "boolean",
             "TIME": "timestamp with time zone", "LIST": "ARRAY"}
    tables = {"CONTACT": "contacts", "TASK": "tasks", "NOTE": "notes", "CALENDAR": "calendar",
              "EXCEPTION": "calendar_exceptions"}
    for cls, col, typ in re.findall(r'^ZX_PIM_FIELD\((\w+), \w+, "(\w+)", (\w+),', d, re.M):
        want[(tables[cls], col)] = types[typ]
    rows = sql(instance, "SELECT table_name, column_name, data_type FROM "
               "information_schema.columns WHERE table_name IN ('contacts', 'tasks', 'notes', "
               "'calendar', 'calendar_exceptions') "
               "AND column_name NOT IN ('item_id', 'account_id')")
    assert {(t, c): ty for t, c, ty in rows} == want


def test_incomplete_tasks_filter(instance, account, devices):
    """FilterType 8 of a Tasks collection: completed tasks are not sent, and a task completed
    later leaves the device with a SoftDelete ([MS-ASCMD] 2.2.3.68.2, 2.2.3.172)."""
    w = devices()
    w.sync_all("Tasks")
    done = ('<Subject xmlns="Tasks:">Done</Subject><Complete xmlns="Tasks:">1</Complete>'
            '<DateCompleted xmlns="Tasks:">2026-12-01T10:00:00.000Z</DateCompleted>')
    todo = '<Subject xmlns="Tasks:">Todo</Subject><Complete xmlns="Tasks:">0</Complete>'
    col = w.sync("Tasks", commands=add("d", done) + add("t", todo))
    ids = {r.findtext("ClientId"): r.findtext("ServerId") for r in col.findall("Responses/Add")}
    f8 = '<Options><FilterType>8</FilterType></Options>'
    d = devices()
    seen = d.sync_all("Tasks", options=f8)
    assert [(n, c.findtext("ServerId")) for n, c in seen] == [("Add", ids["t"])]
    w.sync("Tasks", commands=change(ids["t"], todo.replace(
        '<Complete xmlns="Tasks:">0</Complete>',
        '<Complete xmlns="Tasks:">1</Complete><DateCompleted xmlns="Tasks:">'
        '2026-12-02T10:00:00.000Z</DateCompleted>')))
    assert ops(d.sync("Tasks", options=f8)) == [("SoftDelete", ids["t"])]
    # widening to all tasks starts over (the completed ones were never sent)
    col = d.sync("Tasks", options='<Options><FilterType>0</FilterType></Options>')
    assert col.findtext("Status") == "3"


def test_contacts_at_2_5(instance, account, devices):
    """2.5 has no airsyncbase: the body is contacts:Body, cut by airsync:Truncation (characters;
    BodySize only when cut), and a 2.5 device's Add carries contacts:Body."""
    a, b = devices("2.5"), devices("14.1")
    opts = '<Options><Truncation>1</Truncation><RTFTruncation>9</RTFTruncation></Options>'
    for d in (a, b):
        d.sync_all("Contacts", options=opts if d is a else None)
    col = a.sync("Contacts", options=opts, commands=add(
        "o1", '<FirstName xmlns="Contacts:">Old</FirstName><Body xmlns="Contacts:">short</Body>'))
    sid = col.find("Responses/Add").findtext("ServerId")
    got = b.sync("Contacts")
    assert got.find("Commands/Add/ApplicationData/Body").findtext("Data") == "short"
    long_body = "é" * 600
    b.sync("Contacts", commands=change(sid, '<FirstName xmlns="Contacts:">Old</FirstName>'
                                            '<Body xmlns="AirSyncBase:"><Type>1</Type><Data>%s'
                                            '</Data></Body>' % long_body))
    ad = a.sync("Contacts", options=opts).find("Commands/Change/ApplicationData")
    assert ad.findtext("Body") == "é" * 512       # Truncation 1 = 512 characters
    assert ad.findtext("BodySize") == "600" and ad.findtext("BodyTruncated") == "1"


def test_fetch_itemoperations_and_estimate(instance, account, devices):
    """Sync Fetch and ItemOperations Fetch give the whole contact; GetItemEstimate counts
    contacts like mail."""
    a, b = devices("14.1"), devices("14.1")
    for d in (a, b):
        d.sync_all("Contacts")
    sid = new_contact(a, "f1")
    cf = a.folder("Contacts")
    x = ('<GetItemEstimate xmlns="GetItemEstimate:"><Collections><Collection>'
         '<SyncKey xmlns="AirSync:">%s</SyncKey><CollectionId>%s</CollectionId></Collection>'
         '</Collections></GetItemEstimate>' % (b.keys[cf], cf))
    r = b.c.post("GetItemEstimate", x)
    assert r.wbxml.findtext("Response/Status") == "1"
    assert r.wbxml.findtext("Response/Collection/Estimate") == "1"
    col = a.sync("Contacts", commands='<Fetch><ServerId>%s</ServerId></Fetch>' % sid)
    f = col.find("Responses/Fetch")
    assert f.findtext("Status") == "1" and contact_props(f)["Spouse"] == "Bo"
    r = a.c.post("ItemOperations", '<ItemOperations xmlns="ItemOperations:" xmlns:as="AirSync:">'
                 '<Fetch><Store>Mailbox</Store><as:CollectionId>%s</as:CollectionId>'
                 '<as:ServerId>%s</as:ServerId></Fetch></ItemOperations>' % (cf, sid))
    assert r.wbxml.findtext("Response/Fetch/Status") == "1"
    props = {c.name: c.text for c in r.wbxml.find("Response/Fetch/Properties").children}
    assert props["FirstName"] == "Ann" and props["JobTitle"] == "Pilot"


def test_estimate_of_incomplete_tasks(instance, account, devices):
    """GetItemEstimate of a FilterType 8 Tasks collection counts what Sync will send: not the
    completed tasks the device was never sent."""
    w, d = devices(), devices()
    w.sync_all("Tasks")
    f8 = '<Options><FilterType>8</FilterType></Options>'
    d.sync_all("Tasks", options=f8)
    done = ('<Subject xmlns="Tasks:">Done</Subject><Complete xmlns="Tasks:">1</Complete>'
            '<DateCompleted xmlns="Tasks:">2026-12-01T10:00:00.000Z</DateCompleted>')
    todo = '<Subject xmlns="Tasks:">Todo</Subject><Complete xmlns="Tasks:">0</Complete>'
    w.sync("Tasks", commands=add("d", done) + add("t", todo) + add("t2", todo))
    tf = d.folder("Tasks")
    x = ('<GetItemEstimate xmlns="GetItemEstimate:"><Collections><Collection>'
         '<SyncKey xmlns="AirSync:">%s</SyncKey><CollectionId>%s</CollectionId>'
         '<Options xmlns="AirSync:"><Class>Tasks</Class><FilterType>8</FilterType></Options>'
         '</Collection></Collections></GetItemEstimate>' % (d.keys[tf], tf))
    r = d.c.post("GetItemEstimate", x)
    assert r.wbxml.findtext("Response/Collection/Estimate") == "2"
    assert [n for n, _ in ops(d.sync("Tasks", options=f8))] == ["Add", "Add"]


def test_completing_a_recurring_task(instance, account, devices):
    """A recurring task marked complete (as Exchange does): the occurrence becomes a completed
    one-off task that every device gets, and the series moves on to its next occurrence,
    incomplete, also on the device that completed it."""
    a, b = devices("16.1"), devices("14.1")
    for d in (a, b):
        d.sync_all("Tasks")
    weekly = ('<Subject xmlns="Tasks:">Bins out</Subject>'
              '<StartDate xmlns="Tasks:">2026-12-07T18:00:00.000Z</StartDate>'
              '<UtcStartDate xmlns="Tasks:">2026-12-07T17:00:00.000Z</UtcStartDate>'
              '<DueDate xmlns="Tasks:">2026-12-07T20:00:00.000Z</DueDate>'
              '<UtcDueDate xmlns="Tasks:">2026-12-07T19:00:00.000Z</UtcDueDate>'
              '<Recurrence xmlns="Tasks:"><Type>1</Type><Start>2026-12-07T18:00:00.000Z</Start>'
              '<Interval>1</Interval><DayOfWeek>2</DayOfWeek><FirstDayOfWeek>1</FirstDayOfWeek>'
              '</Recurrence>')
    col = a.sync("Tasks", commands=add("w", weekly + '<Complete xmlns="Tasks:">0</Complete>'))
    sid = col.find("Responses/Add").findtext("ServerId")
    assert ops(b.sync("Tasks")) == [("Add", sid)]
    col = a.sync("Tasks", commands=change(sid, weekly + '<Complete xmlns="Tasks:">1</Complete>'
                                          '<DateCompleted xmlns="Tasks:">2026-12-07T19:30:00.000Z'
                                          '</DateCompleted>'))
    assert col.find("Responses") is None
    got = {n: c for n, c in [(c.name + ":" + c.findtext("ServerId"), c)
                             for c in col.findall("Commands/*")]}
    series = got.pop("Change:" + sid).find("ApplicationData")
    assert series.findtext("StartDate") == "2026-12-14T18:00:00.000Z"
    assert series.findtext("UtcDueDate") == "2026-12-14T19:00:00.000Z"
    assert series.findtext("Complete") == "0" and series.findtext("DateCompleted") is None
    assert series.find("Recurrence") is not None
    [(key, done)] = got.items()
    assert key.startswith("Add:")
    ad = done.find("ApplicationData")
    assert ad.findtext("Complete") == "1" and ad.find("Recurrence") is None
    assert ad.findtext("StartDate") == "2026-12-07T18:00:00.000Z"
    assert ad.findtext("DateCompleted") == "2026-12-07T19:30:00.000Z"
    assert sorted(ops(b.sync("Tasks"))) == sorted([("Change", sid), ("Add", key[4:])])


def test_birthday_before_1970(instance, account, devices):
    """Dates before 1970 (most birthdays) are dates like any other, and the year-less
    birthday of phones (1604) too."""
    a, b = devices(), devices("12.1")
    for d in (a, b):
        d.sync_all("Contacts")
    col = a.sync("Contacts", commands=add("b", '<FirstName xmlns="Contacts:">Old</FirstName>'
                                               '<Birthday xmlns="Contacts:">1965-05-14T22:00:00.000Z'
                                               '</Birthday><Anniversary xmlns="Contacts:">'
                                               '1604-02-29T00:00:00.000Z</Anniversary>'))
    assert col.find("Responses/Add").findtext("Status") == "1"
    props = contact_props(b.sync("Contacts").find("Commands/Add"))
    assert props["Birthday"] == "1965-05-14T22:00:00.000Z"
    assert props["Anniversary"] == "1604-02-29T00:00:00.000Z"
