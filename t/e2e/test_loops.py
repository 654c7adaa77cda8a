"""Loop detection of the Sync command (issue 18; libzxsync/eas/sync_loop.c): a device that
cannot store one item of a response sends the previous SyncKey again and again.  The server
narrows the window at each further retry until that item is alone, then skips it for that
device, logs it, and the sync goes on; `zxsuite mobile getLoops` lists it and `clearLoop`
clears it (the folder is synchronised again).

The failing device is simulated the way such clients behave in the field (Z-Push's loop
detection was written for Android and Windows Mobile clients that crash on one message): it
drops every response that carries the poisoned item and repeats its last request with the key
it still has."""

import json

import pytest

from syncutil import VERSIONS, deliver, estimate, message, new_account, server_ids, zx


@pytest.fixture
def account(instance):
    return new_account(instance)


def loops(instance, account, device):
    p = zx(instance, "--json", "mobile", "getLoops", account, device)
    return json.loads(p.stdout)["response"]["loops"]


def crashing_sync(d, coll, poison, window, limit=60):
    """Sync a folder to its end as a device that cannot store the item `poison`: a response
    with it is dropped (the key not kept).  Returns (the ids stored, the sizes of the dropped
    responses in order)."""
    stored, dropped = [], []
    for _ in range(limit):
        key = d.keys[coll]
        col = d.sync(coll, window=window)
        assert col is not None and col.findtext("Status") == "1", col
        ids = server_ids(col)
        if poison in ids:
            d.keys[coll] = key              # the device crashed: nothing stored
            dropped.append(len(ids))
            continue
        stored += ids
        if col.find("MoreAvailable") is None:
            return stored, dropped
    raise AssertionError("no end after %d Syncs: %r" % (limit, dropped))


@pytest.mark.parametrize("version", VERSIONS)
def test_a_poisoned_item_is_skipped_and_sync_goes_on(instance, account, device_factory,
                                                     version, error_log):
    ids = [deliver(instance, account, message("loop %d" % i)) for i in range(20)]
    poison = ids[-5]                        # the fifth newest: in the first window of 8
    d = device_factory(account, version)
    inbox = d.folder("Inbox")
    d.sync(inbox, key="0")
    stored, dropped = crashing_sync(d, inbox, poison, window=8)

    # every other message once, the poisoned one never
    assert sorted(stored) == sorted(i for i in ids if i != poison)
    assert len(stored) == len(set(stored))
    # two retries with the window asked for, then halved to one change, then the skip
    assert dropped[:3] == [8, 8, 8], dropped
    assert dropped[-5:] == [8, 8, 4, 2, 1], dropped
    assert error_log.contains(r"ZX00434: Sync loop: account %s, device %s, folder %s .* item %s "
                              r"is skipped" % (account, d.device_id, inbox, poison))

    got = loops(instance, account, d.device_id)
    assert len(got) == 1, got
    assert got[0]["collectionId"] == inbox and got[0]["folder"] == "Inbox"
    assert got[0]["skippedItem"] == poison and got[0]["subject"] == "loop 15"
    assert got[0]["attempts"] == 6 and got[0]["windowSize"] == 8
    assert got[0]["retries"] == 0

    # another device gets it; when it changes, it stays skipped for the first one
    e = device_factory(account, version)
    assert poison in [n.findtext("ServerId") for op, n in e.sync_all("Inbox") if op == "Add"]
    col = e.sync(inbox, commands="<Change><ServerId>%s</ServerId><ApplicationData>"
                                 '<Read xmlns="Email:">1</Read></ApplicationData></Change>'
                                 % poison)
    assert col.findtext("Status") == "1"
    # GetItemEstimate does not count the skipped item's change either
    assert estimate(d, (inbox, d.keys[inbox])) == [(inbox, "1", "0")]
    col = d.sync(inbox)
    assert col is None or poison not in server_ids(col)

    # clearLoop: the folder is synchronised again, the item included
    p = zx(instance, "--json", "mobile", "clearLoop", account, d.device_id)
    assert "1 folder(s)" in json.loads(p.stdout)["response"]["result"], p.stdout
    assert loops(instance, account, d.device_id) == []
    col = d.sync(inbox)
    assert col.findtext("Status") == "3"
    seen = [sid for op, node in d.sync_all("Inbox") for sid in [node.findtext("ServerId")]
            if op == "Add"]
    assert sorted(seen) == sorted(ids)


def test_one_lost_response_is_no_loop(instance, account, device_factory):
    """A device that lost a response once or twice gets the same window again, in full, and
    nothing is recorded once it goes on."""
    ids = [deliver(instance, account, message("lost %d" % i)) for i in range(6)]
    d = device_factory(account)
    inbox = d.folder("Inbox")
    d.sync(inbox, key="0")
    key = d.keys[inbox]
    first = d.sync(inbox, window=4)
    for _ in range(2):
        again = d.sync(inbox, key=key, window=4)
        assert server_ids(again) == server_ids(first)
    got = loops(instance, account, d.device_id)
    assert [g["retries"] for g in got] == [2] and got[0]["skippedItem"] is None
    rest = d.sync(inbox, window=4)
    assert sorted(server_ids(again) + server_ids(rest)) == sorted(ids)
    assert loops(instance, account, d.device_id) == []


def test_cli_errors(instance, account, device_factory):
    p = zx(instance, "mobile", "getLoops", account, "nosuchdevice", check=False)
    assert p.returncode != 0 and b"no device nosuchdevice" in p.stderr
    p = zx(instance, "mobile", "clearLoop", "nobody@nowhere.test", "x", check=False)
    assert p.returncode != 0 and b"no such account" in p.stderr
