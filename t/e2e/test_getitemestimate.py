"""GetItemEstimate ([MS-ASCMD] 2.2.1.9) at 12.1 (Class and FilterType in the Collection), 14.1 and
16.1 (airsync:Options): estimates from the SyncKey's position, and statuses 2, 3 and 4."""

import time

import pytest

from syncutil import VERSIONS, Device, deliver, estimate, import_mbox, message, new_account


@pytest.fixture
def account(instance):
    return new_account(instance)


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


@pytest.fixture
def dev(instance, account, version):
    d = Device(instance, account, protocol=version)
    d.foldersync()
    yield d
    d.close()


def test_estimate_follows_the_sync_position(instance, account, dev):
    ids = [deliver(instance, account, message("e%d" % i)) for i in range(5)]
    inbox = dev.folder("Inbox")
    dev.sync("Inbox", key="0")
    key = dev.keys[inbox]
    assert estimate(dev, (inbox, key)) == [(inbox, "1", "5")]
    # the command does not change the key
    assert estimate(dev, (inbox, key)) == [(inbox, "1", "5")]
    dev.sync("Inbox", window=2)
    assert estimate(dev, (inbox, dev.keys[inbox])) == [(inbox, "1", "3")]
    # the previous key still answers for its own position
    assert estimate(dev, (inbox, key)) == [(inbox, "1", "5")]
    dev.sync("Inbox", window=10)
    assert estimate(dev, (inbox, dev.keys[inbox])) == [(inbox, "1", "0")]
    # new mail, a change by another device: counted; the device's own change: not
    deliver(instance, account, message("new one"))
    other = Device(instance, account, protocol=dev.protocol)
    other.sync_all("Inbox")
    other.sync("Inbox", commands='<Change><ServerId>%s</ServerId><ApplicationData><Read '
               'xmlns="Email:">1</Read></ApplicationData></Change>' % ids[0])
    assert estimate(dev, (inbox, dev.keys[inbox])) == [(inbox, "1", "2")]
    dev.sync("Inbox")
    dev.sync("Inbox", commands='<Change><ServerId>%s</ServerId><ApplicationData><Read '
             'xmlns="Email:">0</Read></ApplicationData></Change>' % ids[1])
    assert estimate(dev, (inbox, dev.keys[inbox])) == [(inbox, "1", "0")]


def test_estimate_statuses(instance, account, dev):
    deliver(instance, account, message("x"))
    inbox = dev.folder("Inbox")
    drafts = dev.folder("Drafts")
    # no Sync yet: not primed (3)
    assert estimate(dev, (inbox, "0")) == [(inbox, "3", None)]
    assert estimate(dev, (inbox, "7")) == [(inbox, "3", None)]
    dev.sync("Inbox", key="0")
    # wrong key (4), unknown collection (2), several in one request
    got = estimate(dev, (inbox, "4242"), ("999999999", "1"), (inbox, dev.keys[inbox]),
                   (drafts, "0"))
    assert got == [(inbox, "4", None), ("999999999", "2", None), (inbox, "1", "1"),
                   (drafts, "3", None)]


def test_estimate_with_filter_type(instance, account, dev, tmp_path):
    now = time.time()
    import_mbox(instance, account, [(now - 20 * 86400, message("old")),
                                    (now - 3600, message("recent"))], tmp_path)
    inbox = dev.folder("Inbox")
    dev.sync("Inbox", key="0")
    key = dev.keys[inbox]
    assert estimate(dev, (inbox, key), filter_type=0) == [(inbox, "1", "2")]
    assert estimate(dev, (inbox, key), filter_type=3) == [(inbox, "1", "1")]
    assert estimate(dev, (inbox, key), filter_type=1) == [(inbox, "1", "1")]


def test_estimate_without_collections_is_refused(dev):
    r = dev.c.post("GetItemEstimate", '<GetItemEstimate xmlns="GetItemEstimate:"><Collections/>'
                   '</GetItemEstimate>')
    if dev.protocol >= "14.0":
        assert r.status == 200 and r.wbxml.findtext("Status") == "103"
    else:
        assert r.status == 400
