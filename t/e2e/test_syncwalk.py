"""The sync walk ([MS-ASCMD] 2.2.1.21) while other devices change the folder, at 12.1, 14.1 and
16.1: what a device is sent during its initial enumeration and right after it.  README "When
changes meet"; the reproductions of the lost Add and the move ghost are in test_syncfaults.py.

- An item deleted before the enumeration reached it was never sent: no Delete for it (a stray
  Delete of an unknown ServerId is noise to a phone); one deleted after it was sent gets its
  Delete.
- An item changed before the enumeration reached it is listed in its new state: no Change of
  it follows, and a change the device then makes to it is no conflict (status 7).
- The same after a windowed walk of changes: an item sent as an Add in a state newer than the
  position is not sent again as a Change."""

import pytest

from syncutil import VERSIONS, deliver, message, new_account, ops, read_change


@pytest.fixture
def account(instance):
    return new_account(instance)


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


def hard_delete(dev, sid):
    col = dev.sync("Inbox", deletes_as_moves=0,
                   commands="<Delete><ServerId>%s</ServerId></Delete>" % sid)
    assert col.findtext("Status") == "1" and col.find("Responses") is None, col


def walk(dev, window):
    """Sync the Inbox in windows until nothing more comes; [(op, ServerId)] and the
    Collections."""
    seen, cols = [], []
    for _ in range(50):
        col = dev.sync("Inbox", window=window)
        if col is None:
            break
        assert col.findtext("Status") == "1", col
        seen += ops(col)
        cols.append(col)
        if col.find("MoreAvailable") is None:
            break
    return seen, cols


def test_deleted_before_listed_is_never_mentioned(instance, account, version, device_factory):
    x = [deliver(instance, account, message("walk %d" % i)) for i in range(4)]   # x[3] newest
    other = device_factory(account, version)
    other.sync("Inbox", key="0")
    walk(other, 100)
    d = device_factory(account, version)
    d.sync("Inbox", key="0")
    first = d.sync("Inbox", window=1)
    assert ops(first) == [("Add", x[3])]
    hard_delete(other, x[0])          # not listed yet
    hard_delete(other, x[3])          # listed already
    seen, _ = walk(d, 1)
    assert seen == [("Add", x[2]), ("Add", x[1]), ("Delete", x[3])]
    assert walk(d, 1)[0] == []


def test_changed_before_listed_comes_once_and_is_no_conflict(instance, account, version,
                                                              device_factory):
    x = [deliver(instance, account, message("walk %d" % i)) for i in range(3)]
    other = device_factory(account, version)
    other.sync("Inbox", key="0")
    walk(other, 100)
    d = device_factory(account, version)
    d.sync("Inbox", key="0")
    assert ops(d.sync("Inbox", window=1)) == [("Add", x[2])]
    col = other.sync("Inbox", commands=read_change(x[0]))
    assert col.find("Responses") is None
    seen, cols = walk(d, 1)
    assert seen == [("Add", x[1]), ("Add", x[0])]
    listed = [a for c in cols for a in c.findall("Commands/Add")
              if a.findtext("ServerId") == x[0]]
    assert listed[0].find("ApplicationData").findtext("Read") == "1"
    # the device flags it unread: its own change of the state it was sent, no conflict
    col = d.sync("Inbox", commands=read_change(x[0], 0))
    assert col.find("Responses") is None, col
    assert ops(col) == []
    assert ops(other.sync("Inbox")) == [("Change", x[0])]


def test_added_ahead_of_the_position_is_not_changed_again(instance, account, version,
                                                          device_factory):
    deliver(instance, account, message("before"))
    a = device_factory(account, version)
    b = device_factory(account, version)
    for dev in (a, b):
        dev.sync("Inbox", key="0")
        walk(dev, 100)
    x1 = deliver(instance, account, message("X1"))
    x2 = deliver(instance, account, message("X2"))
    x3 = deliver(instance, account, message("X3"))
    walk(b, 100)
    col = b.sync("Inbox", commands=read_change(x1))
    assert col.find("Responses") is None
    seen, cols = walk(a, 1)
    # each new item once, as an Add in its current state; no Change of X1 afterwards
    assert sorted(seen) == sorted([("Add", x1), ("Add", x2), ("Add", x3)])
    read = {a_.findtext("ServerId"): a_.find("ApplicationData").findtext("Read")
            for c in cols for a_ in c.findall("Commands/Add")}
    assert read == {x1: "1", x2: "0", x3: "0"}
    # and a's own change of X1 right after is no conflict
    col = a.sync("Inbox", commands=read_change(x1, 0))
    assert col.find("Responses") is None, col
    assert ops(b.sync("Inbox")) == [("Change", x1)]


def test_conflict_during_the_enumeration(instance, account, version, device_factory):
    """While the device still walks its initial listing, a Change of an item another device
    changed after it was listed is a conflict like any other (the server wins), and one of an
    item listed in its current state is not."""
    x = [deliver(instance, account, message("walk %d" % i)) for i in range(4)]
    other = device_factory(account, version)
    other.sync("Inbox", key="0")
    walk(other, 100)
    d = device_factory(account, version)
    d.sync("Inbox", key="0")
    assert ops(d.sync("Inbox", window=2)) == [("Add", x[3]), ("Add", x[2])]
    assert other.sync("Inbox", commands=read_change(x[3])).find("Responses") is None
    col = d.sync("Inbox", window=1, commands=read_change(x[3], 0) + read_change(x[2]))
    answers = [(r.name, r.findtext("ServerId"), r.findtext("Status"))
               for r in col.findall("Responses/*")]
    assert answers == [("Change", x[3], "7")]
    assert ops(col) == [("Add", x[1])]
    seen, cols = walk(d, 10)
    assert seen == [("Add", x[0]), ("Change", x[3])]
    change = [c for c in cols[-1].findall("Commands/Change")][0]
    assert change.find("ApplicationData").findtext("Read") == "1"
