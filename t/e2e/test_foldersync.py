"""FolderSync, FolderCreate, FolderUpdate and FolderDelete ([MS-ASCMD] 2.2.1.5, 2.2.1.3, 2.2.1.6,
2.2.1.4) over the real httpd, at 12.1, 14.1 and 16.1."""

import pytest

from syncutil import VERSIONS, Device, deliver, message, new_account

STANDARD = {"Inbox": "2", "Drafts": "3", "Deleted Items": "4", "Sent Items": "5", "Outbox": "6",
            "Junk E-Mail": "12", "Calendar": "8", "Contacts": "9", "Tasks": "7", "Notes": "10"}


@pytest.fixture
def account(instance):
    return new_account(instance)


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


@pytest.fixture
def dev(instance, account, version):
    d = Device(instance, account, protocol=version)
    yield d
    d.close()


def fh(name, **kids):
    inner = "".join("<%s>%s</%s>" % (k, v, k) for k, v in kids.items())
    return '<%s xmlns="FolderHierarchy:">%s</%s>' % (name, inner, name)


def create(dev, name, parent="0", type_=12, key=None):
    r = dev.c.post("FolderCreate", fh("FolderCreate", SyncKey=key or dev.hier_key, ParentId=parent,
                                      DisplayName=name, Type=type_))
    assert r.status == 200
    doc = r.wbxml
    assert doc.name == "FolderCreate"
    if doc.findtext("Status") == "1":
        dev.hier_key = doc.findtext("SyncKey")
    return doc


def update(dev, server_id, name, parent="0", key=None):
    r = dev.c.post("FolderUpdate", fh("FolderUpdate", SyncKey=key or dev.hier_key,
                                      ServerId=server_id, ParentId=parent, DisplayName=name))
    assert r.status == 200
    doc = r.wbxml
    if doc.findtext("Status") == "1":
        dev.hier_key = doc.findtext("SyncKey")
    return doc


def delete(dev, server_id, key=None):
    r = dev.c.post("FolderDelete", fh("FolderDelete", SyncKey=key or dev.hier_key,
                                      ServerId=server_id))
    assert r.status == 200
    doc = r.wbxml
    if doc.findtext("Status") == "1":
        dev.hier_key = doc.findtext("SyncKey")
    return doc


def changes(doc):
    return [(c.name, c.findtext("ServerId"), c.findtext("DisplayName")) for c in
            doc.findall("Changes/*") if c.name != "Count"]


def test_initial_foldersync_lists_the_standard_folders(dev):
    doc = dev.foldersync()
    assert doc.findtext("Status") == "1"
    assert doc.findtext("SyncKey") not in (None, "", "0")
    adds = doc.findall("Changes/Add")
    assert doc.findtext("Changes/Count") == str(len(adds)) == "10"
    got = {a.findtext("DisplayName"): a.findtext("Type") for a in adds}
    assert got == STANDARD
    for a in adds:
        assert a.findtext("ParentId") == "0"
        assert a.findtext("ServerId").isdigit()
    # nothing changed: no changes, the same key
    key = dev.hier_key
    doc = dev.foldersync()
    assert doc.findtext("Status") == "1"
    assert doc.findtext("Changes/Count") == "0" and changes(doc) == []
    assert doc.findtext("SyncKey") == key


def test_foldersync_key_zero_again_starts_over(dev):
    dev.foldersync()
    old = dev.hier_key
    doc = dev.foldersync("0")
    assert doc.findtext("Changes/Count") == "10"
    assert doc.findtext("SyncKey") != old
    # the old key is gone now
    assert dev.foldersync(old).findtext("Status") == "9"


def test_foldersync_invalid_key_is_status_9_then_recovers(dev):
    dev.foldersync()
    for bad in ("12345", "abc", "-1", "007", "1" * 40):
        doc = dev.foldersync(bad)
        assert doc.findtext("Status") == "9"
        assert doc.find("Changes") is None
    doc = dev.foldersync("0")
    assert doc.findtext("Status") == "1" and doc.findtext("Changes/Count") == "10"


def test_foldersync_without_synckey_is_malformed(dev, expect_log):
    r = dev.c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"/>')
    assert r.wbxml.findtext("Status") == "10"


def test_foldersync_lost_response_retry_gets_the_same_changes(instance, account, version):
    a = Device(instance, account, protocol=version)
    b = Device(instance, account, protocol=version)
    a.foldersync()
    b.foldersync()
    assert create(a, "Projects").findtext("Status") == "1"
    key_before = b.hier_key
    first = b.foldersync()
    assert [c[0] for c in changes(first)] == ["Add"]
    # the response was lost: the client sends the old key again
    again = b.foldersync(key_before)
    assert again.findtext("Status") == "1"
    assert changes(again) == changes(first)
    # and goes on with the key of that answer
    assert b.foldersync().findtext("Changes/Count") == "0"


def test_folder_create_update_delete_seen_by_the_other_device(instance, account, version):
    a = Device(instance, account, protocol=version)
    b = Device(instance, account, protocol=version)
    a.foldersync()
    b.foldersync()
    doc = create(a, "Projects")
    assert doc.findtext("Status") == "1"
    pid = doc.findtext("ServerId")
    assert pid.isdigit() and doc.findtext("SyncKey")
    sub = create(a, "2024", parent=pid)
    assert sub.findtext("Status") == "1"
    sid = sub.findtext("ServerId")
    # the creating device does not get its own folders back
    assert changes(a.foldersync()) == []
    # the other device gets them, the parent first
    doc = b.foldersync()
    adds = doc.findall("Changes/Add")
    assert [(x.findtext("ServerId"), x.findtext("ParentId"), x.findtext("Type")) for x in adds] == \
        [(pid, "0", "12"), (sid, pid, "12")]
    # rename, then move to the top
    assert update(a, sid, "Archive 2024", parent=pid).findtext("Status") == "1"
    doc = b.foldersync()
    ups = doc.findall("Changes/Update")
    assert len(ups) == 1 and ups[0].findtext("DisplayName") == "Archive 2024"
    assert ups[0].findtext("ParentId") == pid
    assert update(a, sid, "Archive 2024", parent="0").findtext("Status") == "1"
    doc = b.foldersync()
    assert doc.findall("Changes/Update")[0].findtext("ParentId") == "0"
    assert changes(a.foldersync()) == []
    # delete
    assert delete(a, pid).findtext("Status") == "1"
    doc = b.foldersync()
    assert [(c[0], c[1]) for c in changes(doc)] == [("Delete", pid)]
    assert changes(a.foldersync()) == []
    # a device that starts now sees the hierarchy as it is
    c = Device(instance, account, protocol=version)
    names = {x.findtext("DisplayName") for x in c.foldersync().findall("Changes/Add")}
    assert names == set(STANDARD) | {"Archive 2024"}


def test_folder_created_by_one_device_comes_to_the_other(instance, account, version):
    a = Device(instance, account, protocol=version)
    a.foldersync()
    # a folder created by another device, mail delivered into it
    b = Device(instance, account, protocol=version)
    b.foldersync()
    fid = create(b, "Lists").findtext("ServerId")
    deliver(instance, account, message("into Lists"), folder="Lists")
    doc = a.foldersync()
    assert [(c[0], c[1], c[2]) for c in changes(doc)] == [("Add", fid, "Lists")]


def test_folder_create_errors(dev):
    dev.foldersync()
    inbox = dev.folder("Inbox")
    assert create(dev, "Dup").findtext("Status") == "1"
    # the name exists under that parent (case-insensitively)
    doc = create(dev, "dup")
    assert doc.findtext("Status") == "2" and doc.find("SyncKey") is None
    # the same name elsewhere is fine
    assert create(dev, "Dup", parent=inbox).findtext("Status") == "1"
    # parent missing
    assert create(dev, "X", parent="999999999").findtext("Status") == "5"
    assert create(dev, "X", parent="nonsense").findtext("Status") == "5"
    # a standard folder type cannot be created
    assert create(dev, "Inbox2", type_=2).findtext("Status") == "10"
    assert create(dev, "Bad type", type_=99).findtext("Status") == "10"
    # wrong key
    assert create(dev, "Y", key="424242").findtext("Status") == "9"
    assert create(dev, "Y", key="0").findtext("Status") == "9"
    # malformed: no DisplayName
    r = dev.c.post("FolderCreate", fh("FolderCreate", SyncKey=dev.hier_key, ParentId="0", Type="12"))
    assert r.wbxml.findtext("Status") == "10"
    # the key still works after the errors
    assert create(dev, "Z").findtext("Status") == "1"


def test_folder_create_needs_a_foldersync_first(instance, account, version):
    d = Device(instance, account, protocol=version)
    assert create(d, "Nope", key="1").findtext("Status") == "9"


def test_folder_update_errors(dev):
    dev.foldersync()
    a = create(dev, "A").findtext("ServerId")
    b = create(dev, "B").findtext("ServerId")
    child = create(dev, "Child", parent=a).findtext("ServerId")
    # standard folders cannot be renamed
    assert update(dev, dev.folder("Inbox"), "Mail").findtext("Status") == "2"
    # name taken by a sibling
    assert update(dev, b, "A").findtext("Status") == "2"
    # no such folder
    assert update(dev, "987654321", "Q").findtext("Status") == "4"
    # no such parent
    assert update(dev, b, "B", parent="987654321").findtext("Status") == "5"
    # not into itself or its own subfolder
    assert update(dev, a, "A", parent=child).findtext("Status") == "10"
    assert update(dev, a, "A", parent=a).findtext("Status") == "10"
    # wrong key
    assert update(dev, b, "B2", key="55555").findtext("Status") == "9"
    # a good one
    assert update(dev, b, "B2", parent=a).findtext("Status") == "1"


def test_folder_delete_errors_and_subfolders(instance, account, version):
    dev = Device(instance, account, protocol=version)
    other = Device(instance, account, protocol=version)
    dev.foldersync()
    other.foldersync()
    for name in STANDARD:
        assert delete(dev, dev.folder(name)).findtext("Status") == "3", name
    assert delete(dev, "876543210").findtext("Status") == "4"
    top = create(dev, "Top").findtext("ServerId")
    mid = create(dev, "Mid", parent=top).findtext("ServerId")
    create(dev, "Low", parent=mid)
    other.foldersync()
    assert delete(dev, top, key="31337").findtext("Status") == "9"
    assert delete(dev, top).findtext("Status") == "1"
    # gone with its subfolders
    assert delete(dev, mid).findtext("Status") == "4"
    doc = other.foldersync()
    assert {c[0] for c in changes(doc)} == {"Delete"}
    assert top in {c[1] for c in changes(doc)}
    # a Sync of a deleted folder: the hierarchy changed
    col = other.sync(top, key="0")
    assert col.findtext("Status") == "12"


def test_two_devices_have_independent_hierarchy_keys(instance, account, version):
    a = Device(instance, account, protocol=version)
    b = Device(instance, account, protocol=version)
    a.foldersync()
    b.foldersync()
    for _ in range(3):
        create(a, "F%s" % a.hier_key)
    # b's key is untouched by a's commands
    doc = b.foldersync()
    assert doc.findtext("Status") == "1"
    assert len(doc.findall("Changes/Add")) == 3
    assert changes(a.foldersync()) == []
