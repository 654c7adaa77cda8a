"""Notes ([MS-ASNOTE], protocol 14.0 and later) over the real httpd at 14.1 and 16.1, driven by
the project's independent client: the default Notes folder and user notes folders (type 17),
every property of pim_fields.def from device A through the server to device B (LastModifiedDate
a Compact DateTime), changes, deletes, a 12.1 device that is never sent a note, the CLI's import
(and export then import of every property), and MoveItems."""

import re

import pytest

import pimdata as P
from syncutil import new_account

CLS = "Notes"
NOTE_VERSIONS = ("14.1", "16.1")
COMPACT = re.compile(r"^\d{8}T\d{6}Z$")     # [MS-ASDTYPE] 2.7.2 Compact DateTime


@pytest.fixture
def account(instance):
    return new_account(instance)


@pytest.fixture(params=NOTE_VERSIONS)
def version(request):
    return request.param


@pytest.fixture
def devs(device_factory, account, version):
    return lambda **kw: device_factory(account, version, **kw)


def check(expected, got, what=""):
    d = P.diff(expected, got)
    assert not d, "%s differs:\n  %s" % (what or "item", "\n  ".join(d))


def ops(col):
    return [(op, s) for op, s, _ in P.commands(col)]


# ---- folders ----------------------------------------------------------------------------

@pytest.mark.parametrize("v", ("12.1",) + NOTE_VERSIONS)
def test_default_notes_folder(device_factory, account, v):
    a = device_factory(account, v)
    b = device_factory(account, v)
    nid = a.folder("Notes")
    doc = a.foldersync("0")
    types = {x.findtext("DisplayName"): (x.findtext("Type"), x.findtext("ParentId"))
             for x in doc.findall("Changes/Add")}
    assert types["Notes"] == ("10", "0")
    assert P.folder_delete(a, nid).findtext("Status") == "3"
    assert P.folder_update(a, nid, "Notizen").findtext("Status") == "2"
    assert P.hierarchy_changes(b.foldersync()) == []


def test_user_notes_folder_create_rename_delete(devs):
    a = devs()
    b = devs()
    doc = P.folder_create(a, "Ideen 💡", 17)
    assert doc.findtext("Status") == "1", doc
    fid = doc.findtext("ServerId")
    sub = P.folder_create(a, "Rezepte", 17, parent=a.folder("Notes"))
    assert sub.findtext("Status") == "1", sub
    sid = sub.findtext("ServerId")
    assert P.hierarchy_changes(b.foldersync()) == [
        ("Add", fid, "0", "Ideen 💡", "17"), ("Add", sid, a.folder("Notes"), "Rezepte", "17")]
    assert P.start(a, fid) == {}
    assert P.folder_update(a, sid, "Rezepte & Tipps").findtext("Status") == "1"
    assert P.hierarchy_changes(b.foldersync()) == [("Update", sid, "0", "Rezepte & Tipps", "17")]
    assert P.folder_delete(a, fid).findtext("Status") == "1"
    assert [(x[0], x[1]) for x in P.hierarchy_changes(b.foldersync())] == [("Delete", fid)]


# ---- every property, A -> server -> B ----------------------------------------------------

def test_every_property_round_trips(devs, version):
    a = devs()
    b = devs()
    coll = a.folder("Notes")
    P.start(a, coll)
    P.start(b, coll)
    sid = P.add(a, coll, CLS, P.NOTE)
    exp = P.expect_for(CLS, P.NOTE, version)
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
    P.change(a, coll, sid, CLS, P.NOTE2)
    exp2 = P.expect_for(CLS, P.NOTE2, version)
    for d in (b, c):
        got = P.commands(d.sync(coll))
        assert [(op, s) for op, s, _ in got] == [("Change", sid)]
        check(exp2, P.parse(CLS, got[0][2]), "the Change")
    # a Change without categories, date and body: categories cleared, the body kept; the
    # date is either gone or the server's stamp of the change (a Compact DateTime)
    P.change(b, coll, sid, CLS, {"subject": "Nur Betreff", "message_class": "IPM.StickyNote"})
    for d in (a, c):
        got = P.commands(d.sync(coll))
        parsed = P.parse(CLS, got[0][2])
        stamp = parsed.pop("last_modified", None)
        assert stamp is None or COMPACT.match(stamp), stamp
        check({"subject": "Nur Betreff", "message_class": "IPM.StickyNote",
               "body": P.NOTE2["body"], "body_type": "1"}, parsed,
              "after a Change without categories, date and body")
    col = c.sync(coll, commands=P.delete_cmd(sid))
    assert col.find("Responses") is None and P.commands(col) == []
    for d in (a, b):
        assert ops(d.sync(coll)) == [("Delete", sid)]


def test_a_note_without_a_date_gets_one(devs):
    """An Add without LastModifiedDate: B is sent the note; a date, when the server gives it
    one, is a Compact DateTime ([MS-ASNOTE] 2.2.2.4)."""
    a = devs()
    b = devs()
    coll = a.folder("Notes")
    P.start(a, coll)
    P.start(b, coll)
    props = {"subject": "ohne Datum", "message_class": "IPM.StickyNote", "body": "x",
             "body_type": "1"}
    sid = P.add(a, coll, CLS, props)
    got = P.commands(b.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Add", sid)]
    parsed = P.parse(CLS, got[0][2])
    stamp = parsed.pop("last_modified", None)
    assert stamp is None or COMPACT.match(stamp), stamp
    check(props, parsed, "the note")


def test_a_12_1_device_is_never_sent_a_note(device_factory, account):
    """Notes are 14.0+ ([MS-ASNOTE] 1.7): a 12.1 device synchronizing the Notes folder gets
    no note, whatever it is answered."""
    new = device_factory(account, "14.1")
    old = device_factory(account, "12.1")
    coll = new.folder("Notes")
    P.start(new, coll)
    col0 = old.sync(coll, key="0")
    P.add(new, coll, CLS, P.NOTE)
    col = old.sync(coll) if col0 is not None and col0.findtext("Status") == "1" else col0
    for c in (col0, col):
        sent = c.find("Commands") if c is not None else None
        assert sent is None, "a 12.1 device was sent: " + sent.to_xml()


# ---- server side ----------------------------------------------------------------------------

def test_server_side_import_reaches_both(instance, account, devs, version, tmp_path):
    """A text file imported as a note (first line the subject, the rest the body) is sent
    to both devices, with the same ServerId."""
    a = devs()
    b = devs()
    coll = a.folder("Notes")
    P.start(a, coll)
    P.start(b, coll)
    resp = P.server_import(instance, account, CLS, "\nTelefonnummern\nPraxis: 030 123\n"
                           "Schule: 030 456\n", tmp_path, ext="txt")
    assert resp.get("imported") == 1, resp
    seen = []
    for d in (a, b):
        got = P.commands(d.sync(coll))
        assert [op for op, _, _ in got] == ["Add"]
        parsed = P.parse(CLS, got[0][2])
        assert parsed.get("subject") == "Telefonnummern", parsed
        assert "Praxis: 030 123" in parsed.get("body", "") and \
            "Schule: 030 456" in parsed.get("body", ""), parsed
        seen.append(got[0][1])
    assert seen[0] == seen[1]


# ---- MoveItems --------------------------------------------------------------------------

def test_move_between_notes_folders(devs, version):
    a = devs()
    b = devs()
    src = a.folder("Notes")
    dst = P.folder_create(a, "Archiv", 17).findtext("ServerId")
    b.foldersync()
    for d in (a, b):
        for f in (src, dst):
            P.start(d, f)
    sid = P.add(a, src, CLS, P.NOTE)
    P.commands(b.sync(src))
    assert P.move(a, sid, src, a.folder("Tasks")) == (2, None)
    status, new = P.move(a, sid, src, dst)
    assert status == 3 and new and new != sid
    assert a.sync(src) is None and a.sync(dst) is None
    assert ops(b.sync(src)) == [("Delete", sid)]
    got = P.commands(b.sync(dst))
    assert [(op, s) for op, s, _ in got] == [("Add", new)]
    # (the date apart, so that a date rendering fault does not hide the move's outcome)
    exp = P.expect_for(CLS, P.NOTE, version)
    parsed = P.parse(CLS, got[0][2])
    stamp = parsed.pop("last_modified", None)
    check({k: v for k, v in exp.items() if k != "last_modified"}, parsed, "the moved note")
    assert stamp == exp["last_modified"]


def test_export_then_import_gives_every_property_back(instance, account, device_factory,
                                                      tmp_path):
    """The CLI's export of a note a device added, imported into another folder: a device is
    sent the copy with every property of the original (README: "every field comes back"),
    the body's line ends apart (the formats have one newline)."""
    a = device_factory(account, "16.1")
    src = a.folder("Notes")
    dst = P.folder_create(a, "Import", 17).findtext("ServerId")
    b = device_factory(account, "16.1")
    P.start(a, src)
    P.start(b, dst)
    P.add(a, src, CLS, P.NOTE)
    text = P.server_export(instance, account, CLS, "Notes")
    resp = P.server_import(instance, account, CLS, text, tmp_path, folder=dst)
    assert resp.get("imported") == 1, resp
    got = P.commands(b.sync(dst))
    assert [op for op, _, _ in got] == ["Add"], got
    check(P.lf(P.expect_for(CLS, P.NOTE, "16.1")), P.lf(P.parse(CLS, got[0][2])),
          "the imported copy (export was:\n%s)" % text[:3000])
