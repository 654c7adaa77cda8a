"""MoveItems ([MS-ASCMD] 2.2.1.12) at 12.1, 14.1 and 16.1: new ids in the destination, every
status of 2.2.3.177.10, and a move recorded as the moving device's (both folders change for
every other device; the mover, which knows the new id, is not told its own move)."""

import uuid

import pytest

from mailtools import (DELETED, INBOX, SENT, VERSIONS, account, client_for, deliver,  # noqa: F401
                       folder_id, items, simple_message, sql)

MV = 'xmlns="Move:"'


def move_request(*moves):
    return "<MoveItems %s>%s</MoveItems>" % (MV, "".join(
        "<Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move>" % m
        for m in moves))


def responses(r):
    assert r.status == 200, r
    assert r.wbxml.name == "MoveItems"
    return [(x.findtext("SrcMsgId"), int(x.findtext("Status")), x.findtext("DstMsgId"))
            for x in r.wbxml.findall("Response")]


def new_mail(instance, account):
    subject = "Move me " + uuid.uuid4().hex[:8]
    deliver(instance, account, simple_message("pat@example.com", account, subject))
    return items(instance, account, INBOX, subject=subject)[0], subject


@pytest.mark.parametrize("version", VERSIONS)
def test_move_two_items(instance, account, version):
    a, sa = new_mail(instance, account)
    b, sb = new_mail(instance, account)
    inbox, deleted = a["folder_id"], folder_id(instance, account, DELETED)
    c = client_for(instance, account, version)
    res = responses(c.post("MoveItems", move_request((a["id"], inbox, deleted),
                                                     (b["id"], inbox, deleted))))
    assert [(r[0], r[1]) for r in res] == [(a["id"], 3), (b["id"], 3)]
    for (src, _, dst), subj in zip(res, (sa, sb)):
        assert dst and dst != src
        moved = items(instance, account, DELETED, subject=subj)
        assert [m["id"] for m in moved] == [dst]
        assert items(instance, account, INBOX, subject=subj) == []
    # the source is a tombstone changed by the moving device, the new item created by it: the
    # device holds the new item and is not told its own move; it never synced the Inbox, so
    # the item's flags are news to it (the new item's last change is the server's)
    dev = sql(instance, "SELECT id FROM devices WHERE device_id = %s", c.device_id)
    assert len(dev) == 1
    rows = sql(instance, "SELECT deleted, changed_by FROM items WHERE id = %s", a["id"])
    assert rows == [["t", dev[0][0]]]
    rows = sql(instance, "SELECT created_by, changed_by FROM items WHERE id = %s", res[0][2])
    assert rows == [[dev[0][0], ""]]


@pytest.mark.parametrize("version", VERSIONS)
def test_move_statuses(instance, account, version):
    a, _ = new_mail(instance, account)
    inbox, deleted, sent = (a["folder_id"], folder_id(instance, account, DELETED),
                            folder_id(instance, account, SENT))
    c = client_for(instance, account, version)
    res = responses(c.post("MoveItems", move_request(
        (a["id"], "999999999", deleted),     # 1: unknown source folder
        ("999999999", inbox, deleted),       # 1: unknown item
        (a["id"], sent, deleted),            # 1: the item is not in that folder
        (a["id"], inbox, "999999999"),       # 2: unknown destination
        (a["id"], inbox, inbox),             # 4: same folder
        (a["id"], inbox, deleted),           # 3
        (a["id"], inbox, sent),              # 5: this item was moved by this request already
    )))
    assert [r[1] for r in res] == [1, 1, 1, 2, 4, 3, 5]
    assert [r[2] is not None for r in res] == [False] * 5 + [True, False]
    assert [r[0] for r in res] == [a["id"], "999999999"] + [a["id"]] * 5
    # the old id is gone: moving it again is status 1
    res = responses(c.post("MoveItems", move_request((a["id"], inbox, sent))))
    assert res[0][1] == 1


def test_items_of_another_account_are_not_found(instance, account):
    from mailtools import new_account
    other = new_account(instance)
    a, subject = new_mail(instance, other)
    c = client_for(instance, account, "14.1")
    res = responses(c.post("MoveItems", move_request(
        (a["id"], a["folder_id"], folder_id(instance, account, DELETED)))))
    assert res[0][1] == 1
    assert len(items(instance, other, INBOX, subject=subject)) == 1


@pytest.mark.parametrize("version,expect", [("12.1", 400), ("14.1", 103), ("16.1", 103)])
def test_malformed_request(instance, account, version, expect):
    c = client_for(instance, account, version)
    r = c.post("MoveItems", "<MoveItems %s><Move><SrcMsgId>1</SrcMsgId><SrcFldId>2</SrcFldId>"
                            "</Move></MoveItems>" % MV)
    if version == "12.1":
        assert r.status == expect
    else:
        assert r.status == 200 and r.wbxml.findtext("Status") == str(expect)


@pytest.mark.parametrize("version", VERSIONS)
def test_move_is_seen_by_sync(instance, account, version):
    """[MS-ASCMD] 2.2.1.12: another device receives a Delete and an Add the next time it
    synchronizes the two folders; the device that moved the item gets neither (it has the new
    id from the response), but it is told when someone else changes or removes the new item."""
    from mailtools import PASSWORD
    from syncutil import Device, ops
    a, subject = new_mail(instance, account)
    inbox, deleted = a["folder_id"], folder_id(instance, account, DELETED)
    d = Device(instance, account, protocol=version, password=PASSWORD)
    o = Device(instance, account, protocol=version, password=PASSWORD)
    try:
        for dev in (d, o):
            dev.foldersync()
            assert ("Add", a["id"]) in [(n, c.findtext("ServerId"))
                                        for n, c in dev.sync_all(inbox)]
            dev.sync_all(deleted)
        res = responses(d.c.post("MoveItems", move_request((a["id"], inbox, deleted))))
        new_id = res[0][2]
        assert ops(d.sync(inbox)) == []
        assert ops(d.sync(deleted)) == []
        assert ops(o.sync(inbox)) == [("Delete", a["id"])]
        assert ops(o.sync(deleted)) == [("Add", new_id)]
        # the other device marks it read: the mover gets the Change (it holds the new item)
        col = o.sync(deleted, commands='<Change><ServerId>%s</ServerId><ApplicationData>'
                     '<Read xmlns="Email:">1</Read></ApplicationData></Change>' % new_id)
        assert col.find("Responses") is None
        assert ops(d.sync(deleted)) == [("Change", new_id)]
    finally:
        d.close()
        o.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_move_of_an_item_changed_meanwhile(instance, account, version):
    """The mover moves an item another device marked read after the mover's last Sync: the new
    item is the mover's (no Add, no Delete back), but its current flags reach the mover as a
    Change - a device's view never keeps the flags of a version it moved away from."""
    from mailtools import PASSWORD
    from syncutil import Device, ops
    a, subject = new_mail(instance, account)
    inbox, deleted = a["folder_id"], folder_id(instance, account, DELETED)
    d = Device(instance, account, protocol=version, password=PASSWORD)
    o = Device(instance, account, protocol=version, password=PASSWORD)
    try:
        for dev in (d, o):
            dev.foldersync()
            dev.sync_all(inbox)
            dev.sync_all(deleted)
        col = o.sync(inbox, commands='<Change><ServerId>%s</ServerId><ApplicationData>'
                     '<Read xmlns="Email:">1</Read></ApplicationData></Change>' % a["id"])
        assert col.find("Responses") is None
        res = responses(d.c.post("MoveItems", move_request((a["id"], inbox, deleted))))
        new_id = res[0][2]
        assert ops(d.sync(inbox)) == []
        col = d.sync(deleted)
        assert ops(col) == [("Change", new_id)]
        assert col.find("Commands/Change/ApplicationData").findtext("Read") == "1"
        assert ops(o.sync(deleted)) == [("Add", new_id)]
        assert ops(o.sync(inbox)) == [("Delete", a["id"])]
    finally:
        d.close()
        o.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_repeated_move_is_answered_as_the_first(instance, account, version):
    """A device whose MoveItems answer was lost sends the same move again: it gets status 3 and
    the same DstMsgId (it is not told its own move otherwise, so the new id must reach it);
    another device, or another destination, still gets status 1."""
    from mailtools import PASSWORD
    from syncutil import Device, ops
    a, subject = new_mail(instance, account)
    inbox, deleted, sent = (a["folder_id"], folder_id(instance, account, DELETED),
                            folder_id(instance, account, SENT))
    d = Device(instance, account, protocol=version, password=PASSWORD)
    o = Device(instance, account, protocol=version, password=PASSWORD)
    try:
        for dev in (d, o):
            dev.foldersync()
            dev.sync_all(inbox)
            dev.sync_all(deleted)
        first = responses(d.c.post("MoveItems", move_request((a["id"], inbox, deleted))))
        again = responses(d.c.post("MoveItems", move_request((a["id"], inbox, deleted))))
        assert first == again == [(a["id"], 3, first[0][2])]
        assert responses(d.c.post("MoveItems", move_request((a["id"], inbox, sent)))) == \
            [(a["id"], 1, None)]
        assert responses(o.c.post("MoveItems", move_request((a["id"], inbox, deleted)))) == \
            [(a["id"], 1, None)]
        # moved once: one item in Deleted Items, no echo to the mover
        assert [m["id"] for m in items(instance, account, DELETED, subject=subject)] == \
            [first[0][2]]
        assert ops(d.sync(inbox)) == [] and ops(d.sync(deleted)) == []
        assert ops(o.sync(deleted)) == [("Add", first[0][2])]
    finally:
        d.close()
        o.close()
