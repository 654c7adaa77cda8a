"""Contacts ([MS-ASCNTC]) over the real httpd at 12.1, 14.1 and 16.1, driven by the project's
independent client: the default Contacts folder and user contacts folders (type 14), every
property of pim_fields.def from device A through the server to device B (decoded, compared
value for value), changes, deletes, Sync Fetch and ItemOperations Fetch, conflicts, the picture
limit, 300 categories, Ping, ghosting ([MS-ASCMD] 2.2.3.179 Supported), the CLI's import
(and export then import of every property), and MoveItems."""

import pytest

import pimdata as P
from syncutil import VERSIONS, new_account

CLS = "Contacts"


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


# ---- folders ----------------------------------------------------------------------------

def test_default_contacts_folder(devs):
    a = devs()
    b = devs()
    cid = a.folder("Contacts")
    doc = a.foldersync("0")
    types = {x.findtext("DisplayName"): (x.findtext("Type"), x.findtext("ParentId"))
             for x in doc.findall("Changes/Add")}
    assert types["Contacts"] == ("9", "0")
    # [MS-ASCMD] 2.2.3.177.4: 3 = a special system folder cannot be deleted
    assert P.folder_delete(a, cid).findtext("Status") == "3"
    # [MS-ASCMD] 2.2.3.177.5: 2 = the folder is a special folder (no rename)
    assert P.folder_update(a, cid, "Adressbuch").findtext("Status") == "2"
    assert P.folder_update(b, cid, "Contacts", parent=b.folder("Inbox")).findtext("Status") == "2"
    # still there, unchanged, for the other device
    assert P.hierarchy_changes(b.foldersync()) == []
    # and it can be synchronized
    assert P.start(a, cid) == {}


def test_user_contacts_folder_create_rename_delete(devs):
    a = devs()
    b = devs()
    doc = P.folder_create(a, "Kunden Ü", 14)
    assert doc.findtext("Status") == "1", doc
    fid = doc.findtext("ServerId")
    sub = P.folder_create(a, "Lieferanten", 14, parent=a.folder("Contacts"))
    assert sub.findtext("Status") == "1", sub
    sid = sub.findtext("ServerId")
    assert P.hierarchy_changes(b.foldersync()) == [
        ("Add", fid, "0", "Kunden Ü", "14"),
        ("Add", sid, a.folder("Contacts"), "Lieferanten", "14")]
    # a new device sees both with their types
    c = devs(foldersync=False)
    got = {x[3]: (x[4], x[2]) for x in P.hierarchy_changes(c.foldersync())}
    assert got["Kunden Ü"] == ("14", "0")
    assert got["Lieferanten"] == ("14", a.folder("Contacts"))
    # a contacts folder can be synchronized
    assert P.start(a, fid) == {}
    # rename and delete
    assert P.folder_update(a, fid, "Kunden").findtext("Status") == "1"
    assert P.hierarchy_changes(b.foldersync()) == [("Update", fid, "0", "Kunden", "14")]
    assert P.folder_delete(a, sid).findtext("Status") == "1"
    assert [(x[0], x[1]) for x in P.hierarchy_changes(b.foldersync())] == [("Delete", sid)]


# ---- every property, A -> server -> B ----------------------------------------------------

def test_every_property_round_trips(devs, version):
    a = devs()
    b = devs()
    coll = a.folder("Contacts")
    P.start(a, coll)
    P.start(b, coll)
    sid = P.add(a, coll, CLS, P.CONTACT)
    exp = P.expect_for(CLS, P.CONTACT, version)
    # not echoed to the device that added it
    assert a.sync(coll) is None
    got = P.commands(b.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Add", sid)]
    check(exp, P.parse(CLS, got[0][2]), "B's Add")
    # a device starting now gets the same
    c = devs()
    first = P.start(c, coll)
    assert list(first) == [sid]
    check(exp, P.parse(CLS, first[sid]), "a new device's initial Add")
    # every property changed by A reaches B and C as a Change
    P.change(a, coll, sid, CLS, P.CONTACT2)
    exp2 = P.expect_for(CLS, P.CONTACT2, version)
    for d in (b, c):
        got = P.commands(d.sync(coll))
        assert [(op, s) for op, s, _ in got] == [("Change", sid)]
        check(exp2, P.parse(CLS, got[0][2]), "the Change")
    assert a.sync(coll) is None
    # B deletes it: A and C get a Delete
    col = b.sync(coll, commands=P.delete_cmd(sid))
    assert col.find("Responses") is None and P.commands(col) == []
    for d in (a, c):
        assert [(op, s) for op, s, _ in P.commands(d.sync(coll))] == [("Delete", sid)]
    # a Fetch of it now: 8 = object not found
    col = a.sync(coll, commands="<Fetch><ServerId>%s</ServerId></Fetch>" % sid)
    assert col.findtext("Responses/Fetch/Status") == "8"


def test_two_adds_in_one_request_and_fetch(devs, version):
    a = devs()
    coll = a.folder("Contacts")
    P.start(a, coll)
    small = {"first_name": "Ann", "last_name": "Åberg", "email1": "ann@example.com"}
    col = a.sync(coll, commands=P.add_cmd("k1", CLS, P.CONTACT, version) +
                 P.add_cmd("k2", CLS, small, version))
    adds = col.findall("Responses/Add")
    assert [(x.findtext("ClientId"), x.findtext("Status")) for x in adds] == \
        [("k1", "1"), ("k2", "1")]
    s1, s2 = adds[0].findtext("ServerId"), adds[1].findtext("ServerId")
    assert s1 != s2
    col = a.sync(coll, commands="<Fetch><ServerId>%s</ServerId></Fetch><Fetch><ServerId>%s"
                                "</ServerId></Fetch>" % (s1, s2))
    fetches = col.findall("Responses/Fetch")
    assert [(f.findtext("ServerId"), f.findtext("Status")) for f in fetches] == \
        [(s1, "1"), (s2, "1")]
    check(P.expect_for(CLS, P.CONTACT, version), P.parse(CLS, fetches[0].find("ApplicationData")),
          "Fetch 1")
    check(small, P.parse(CLS, fetches[1].find("ApplicationData")), "Fetch 2")


def test_300_categories(devs, version):
    """[MS-ASCNTC]/[MS-ASCMD]: up to 300 Category elements in a request and a response."""
    a = devs()
    b = devs()
    coll = a.folder("Contacts")
    P.start(a, coll)
    P.start(b, coll)
    props = {"first_name": "Kat", "categories": ["Kategorie %03d ✓" % i for i in range(300)]}
    sid = P.add(a, coll, CLS, props)
    got = P.commands(b.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Add", sid)]
    check(props, P.parse(CLS, got[0][2]), "300 categories")


def test_itemoperations_fetch(devs, version):
    a = devs()
    coll = a.folder("Contacts")
    P.start(a, coll)
    sid = P.add(a, coll, CLS, P.CONTACT)
    f = P.itemops_fetch(a, coll, sid)
    assert (f.findtext("Status"), f.findtext("ServerId"), f.findtext("Class")) == \
        ("1", sid, "Contacts")
    check(P.expect_for(CLS, P.CONTACT, version), P.parse(CLS, f.find("Properties")),
          "ItemOperations Fetch")


def test_picture_over_48_kb_is_refused(devs, version):
    a = devs()
    b = devs()
    coll = a.folder("Contacts")
    P.start(a, coll)
    P.start(b, coll)
    big = dict(P.CONTACT, picture=P.picture(80))    # 60 KB decoded
    ok = {"first_name": "Small", "picture": P.picture(40)}
    col = a.sync(coll, commands=P.add_cmd("big", CLS, big, version) +
                 P.add_cmd("ok", CLS, ok, version))
    adds = {x.findtext("ClientId"): x for x in col.findall("Responses/Add")}
    # [MS-ASCMD] 2.2.3.177.17: 6 = error in client/server conversion (invalid item)
    assert adds["big"].findtext("Status") == "6"
    assert adds["big"].findtext("ServerId") in (None, "")
    assert adds["ok"].findtext("Status") == "1"
    got = P.commands(b.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Add", adds["ok"].findtext("ServerId"))]
    check(ok, P.parse(CLS, got[0][2]), "the 40 KB picture")


def test_conflict_server_wins_and_client_wins(devs, version):
    a = devs()
    b = devs()
    coll = a.folder("Contacts")
    P.start(a, coll)
    P.start(b, coll)
    base = {"first_name": "Ann", "last_name": "Original", "job_title": "Engineer"}
    sid = P.add(a, coll, CLS, base)
    P.commands(b.sync(coll))
    by_a = dict(base, last_name="Changed by A")
    P.change(a, coll, sid, CLS, by_a)
    # B has not seen A's change and changes the contact: the server wins (default Conflict 1);
    # [MS-ASCMD] 2.2.3.177.17: 7 = the server's changes take precedence
    col = b.sync(coll, commands=P.change_cmd(sid, CLS, dict(base, job_title="Manager"), version))
    assert col.findtext("Responses/Change/ServerId") == sid
    assert col.findtext("Responses/Change/Status") == "7"
    got = P.commands(col)
    assert [(op, s) for op, s, _ in got] == [("Change", sid)]
    check(by_a, P.parse(CLS, got[0][2]), "the server's version sent to B")
    assert a.sync(coll) is None
    # Conflict 0: the client's change wins
    P.change(a, coll, sid, CLS, dict(base, last_name="A again"))
    col = b.sync(coll, options=P.options(conflict=0),
                 commands=P.change_cmd(sid, CLS, dict(base, job_title="Director"), version))
    assert col.find("Responses") is None, col
    # whatever B is sent back of the item is its own version
    for op, s, data in P.commands(col):
        assert (op, s) == ("Change", sid)
        check(dict(base, job_title="Director"), P.parse(CLS, data), "echo to the winner")
    got = P.commands(a.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Change", sid)]
    check(dict(base, job_title="Director"), P.parse(CLS, got[0][2]), "B's winning change")


def test_ping_reports_a_contact_added_elsewhere(devs):
    a = devs()
    b = devs()
    coll = a.folder("Contacts")
    P.start(a, coll)
    P.start(b, coll)
    P.add(b, coll, CLS, {"first_name": "Pia", "last_name": "Ping"})
    status, folders, took = P.ping_now(a, coll, "Contacts")
    assert (status, folders) == ("2", [coll]) and took < 5


# ---- ghosting ([MS-ASCMD] 2.2.3.179 Supported) -------------------------------------------

def test_ghosted_properties_are_kept(devs, version):
    full = devs()          # declares nothing: a Change replaces the whole contact
    ghost = devs()         # declares a few elements: the others are ghosted for it
    coll = full.folder("Contacts")
    P.start(full, coll)
    declared = ["first_name", "last_name", "mobile_phone", "categories"]
    P.start(ghost, coll, supported_xml=P.supported(CLS, declared, version))
    sid = P.add(full, coll, CLS, P.CONTACT)
    got = P.commands(ghost.sync(coll))
    # the ghosting device is still sent every property
    check(P.expect_for(CLS, P.CONTACT, version), P.parse(CLS, got[0][2]), "ghost's Add")
    # it changes the first name and sends only what it supports minus the mobile phone and
    # the categories: those two are cleared, everything it did not declare is kept, the
    # body (not sent) is kept
    P.change(ghost, coll, sid, CLS, {"first_name": "Zoé", "last_name": P.CONTACT["last_name"]})
    exp = dict(P.expect_for(CLS, P.CONTACT, version), first_name="Zoé")
    del exp["mobile_phone"], exp["categories"]
    got = P.commands(full.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Change", sid)]
    check(exp, P.parse(CLS, got[0][2]), "after the ghosting device's Change")
    # the device without Supported sends a Change with two properties: the others are
    # cleared, except the body, which a Change without one keeps
    P.change(full, coll, sid, CLS, {"first_name": "Zoé", "last_name": "Ł."})
    exp = {"first_name": "Zoé", "last_name": "Ł.", "body": P.CONTACT["body"], "body_type": "1"}
    got = P.commands(ghost.sync(coll))
    assert [(op, s) for op, s, _ in got] == [("Change", sid)]
    check(exp, P.parse(CLS, got[0][2]), "after the full device's Change")


# ---- server side ----------------------------------------------------------------------------

def test_server_side_import_reaches_both(instance, account, devs, version, tmp_path):
    a = devs()
    b = devs()
    coll = a.folder("Contacts")
    P.start(a, coll)
    P.start(b, coll)
    props = {"first_name": "Jürgen", "last_name": "Groß", "email1": "jg@example.de",
             "mobile_phone": "+49 170 1234567", "company_name": "Groß & Söhne"}
    P.server_import(instance, account, CLS, P.vcard(props), tmp_path)
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

def test_move_between_contacts_folders(devs, version):
    a = devs()
    b = devs()
    src = a.folder("Contacts")
    dst = P.folder_create(a, "Archiv", 14).findtext("ServerId")
    b.foldersync()
    tasks = a.folder("Tasks")
    for d in (a, b):
        for f in (src, dst):
            P.start(d, f)
    sid = P.add(a, src, CLS, P.CONTACT)
    P.commands(b.sync(src))
    # into a tasks folder: refused ([MS-ASCMD] 2.2.3.177.10: 2 = invalid destination)
    assert P.move(a, sid, src, tasks) == (2, None)
    status, new = P.move(a, sid, src, dst)
    assert status == 3 and new and new != sid
    # the mover is told nothing; the other device a Delete and an Add with every property
    assert a.sync(src) is None and a.sync(dst) is None
    assert [(op, s) for op, s, _ in P.commands(b.sync(src))] == [("Delete", sid)]
    got = P.commands(b.sync(dst))
    assert [(op, s) for op, s, _ in got] == [("Add", new)]
    check(P.expect_for(CLS, P.CONTACT, version), P.parse(CLS, got[0][2]), "the moved contact")
    # the old id is gone for anyone else
    assert P.move(b, sid, src, dst) == (1, None)


def test_export_then_import_gives_every_property_back(instance, account, device_factory,
                                                      tmp_path):
    """The CLI's export of a contact a device added, imported into another folder: a device is
    sent the copy with every property of the original (README: "every field comes back"),
    the body's line ends apart (the formats have one newline)."""
    a = device_factory(account, "16.1")
    src = a.folder("Contacts")
    dst = P.folder_create(a, "Import", 14).findtext("ServerId")
    b = device_factory(account, "16.1")
    P.start(a, src)
    P.start(b, dst)
    P.add(a, src, CLS, P.CONTACT)
    text = P.server_export(instance, account, CLS, "Contacts")
    resp = P.server_import(instance, account, CLS, text, tmp_path, folder=dst)
    assert resp.get("imported") == 1, resp
    got = P.commands(b.sync(dst))
    assert [op for op, _, _ in got] == ["Add"], got
    check(P.lf(P.expect_for(CLS, P.CONTACT, "16.1")), P.lf(P.parse(CLS, got[0][2])),
          "the imported copy (export was:\n%s)" % text[:3000])
