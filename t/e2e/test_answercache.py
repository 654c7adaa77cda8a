"""The answer cache (zxsync/answer.h, ZxMobileAnswerCache): a repeated no-change Sync or
FolderSync is answered from the httpd child's memory, and any change the answer depends on -
a delivery, another device's change, an admin action on the device or the account, a
configuration change, a reset of the states, a lost listener connection - makes the next
request computed again.  The access log's last field says "cache" for a cached answer (the
harness logs %{zxmobile-answer}n), which is how these tests tell them apart; every request
that follows a change must give the right answer whatever the cache holds.

Every test keeps one keep-alive connection per device; with several httpd children a repeated
request may land in a child that has not answered it yet (then it is computed: the tests
repeat until a cached answer is seen, or fail)."""

import os
import time

import pytest

import zxinstance
from mailtools import sql
from syncutil import VERSIONS, Device, deliver, message, new_account, zx

SUSPENDED = "129"       # [MS-ASCMD] 2.2.2 DeviceIsBlockedForThisUser


class AccessLog:
    """Lines the access log gained since the mark: (request line, status, cached)."""

    def __init__(self, instance):
        self.path = instance.access_log
        self.mark()

    def mark(self):
        """From the end of the log once the requests already answered are in it: httpd writes
        a request's line just after sending its answer, so the client can be faster than the
        line of its last request (seen in CI: a line of the previous step counted).  The log
        has settled when its size stays the same for 0.25 s."""
        size, since, deadline = os.path.getsize(self.path), time.time(), time.time() + 2.0
        while time.time() - since < 0.25 and time.time() < deadline:
            time.sleep(0.05)
            now = os.path.getsize(self.path)
            if now != size:
                size, since = now, time.time()
        self.offset = size

    def lines(self, device_id, at_least=1, timeout=5.0):
        deadline = time.time() + timeout
        while True:
            with open(self.path, errors="replace") as f:
                f.seek(self.offset)
                out = []
                for l in f.read().splitlines():
                    if "DeviceId=" + device_id not in l:
                        continue
                    req = l.split('"')[1]
                    rest = l.split('"')[2].split()
                    out.append((req, int(rest[0]), rest[-1] == "cache"))
            if len(out) >= at_least or time.time() > deadline:
                return out
            time.sleep(0.05)


@pytest.fixture
def log(instance):
    return AccessLog(instance)


@pytest.fixture
def account(instance):
    return new_account(instance)


@pytest.fixture
def devices(device_factory, account):
    return lambda version="14.1": device_factory(account, version)


def quiet(d, coll="Inbox"):
    """Sync coll until the answer is empty (the device holds everything)."""
    for _ in range(20):
        if d.sync(coll) is None:
            return
    raise AssertionError("the Sync never came back empty")


def until_cached(d, log, request, what="Sync", tries=12):
    """Repeat request() (a no-change request: its answer must stay the same) until the access log
    shows it answered from the cache; returns that answer."""
    for i in range(tries):
        log.mark()
        out = request()
        lines = log.lines(d.device_id)
        assert lines and lines[-1][0].startswith("POST") and ("Cmd=" + what) in lines[-1][0]
        if lines[-1][2]:
            return out
    raise AssertionError("%s was never answered from the answer cache" % what)


def last_cached(d, log):
    lines = log.lines(d.device_id)
    assert lines, "no access log line"
    return lines[-1][2]


@pytest.mark.parametrize("version", VERSIONS)
def test_no_change_sync_is_cached_and_a_delivery_ends_it(instance, account, devices, log, version):
    d = devices(version)
    deliver(instance, account, message("first"))
    quiet(d)
    key = d.keys[d.folder("Inbox")]
    assert until_cached(d, log, lambda: d.sync("Inbox")) is None
    assert d.keys[d.folder("Inbox")] == key
    # a delivery: the very next Sync carries it, once, computed
    deliver(instance, account, message("second"))
    log.mark()
    col = d.sync("Inbox")
    assert col is not None and not last_cached(d, log)
    adds = col.findall("Commands/Add")
    assert [a.findtext("ApplicationData/Subject") for a in adds] == ["second"]
    assert until_cached(d, log, lambda: d.sync("Inbox")) is None
    # the old key is a retry of the lost response: computed, the same item again
    log.mark()
    col = d.sync("Inbox", key=key)
    assert col is not None and not last_cached(d, log)
    assert [a.findtext("ApplicationData/Subject") for a in col.findall("Commands/Add")] == ["second"]


def test_other_devices_change_ends_the_cached_answer(instance, account, devices, log):
    a, b = devices(), devices()
    deliver(instance, account, message("shared"))
    quiet(a)
    quiet(b)
    until_cached(a, log, lambda: a.sync("Inbox"))
    # b marks the message read: a's next Sync gets the Change
    b.sync("Inbox", key="0")
    col = b.sync("Inbox")
    sid = col.findall("Commands/Add")[0].findtext("ServerId")
    quiet(b)
    b.sync("Inbox", commands='<Change><ServerId>%s</ServerId><ApplicationData>'
                             '<Read xmlns="Email:">1</Read></ApplicationData></Change>' % sid)
    log.mark()
    col = a.sync("Inbox")
    assert col is not None and not last_cached(a, log)
    ch = col.findall("Commands/Change")
    assert [c.findtext("ServerId") for c in ch] == [sid]
    assert ch[0].findtext("ApplicationData/Read") == "1"


def test_another_devices_change_is_seen_at_once_every_time(instance, account, devices, log):
    """The race of the listener: b's change reaches a's child as a notification a moment after
    b's answer; a Sync of a that comes in that moment must not get the cached "nothing new".
    The request that changed the account outdates every child's answers through the shared
    generations before its answer leaves (zxsync/answer.h), so this holds every time."""
    a, b = devices(), devices()
    deliver(instance, account, message("flip"))
    quiet(a)
    b.sync("Inbox", key="0")
    sid = b.sync("Inbox").findall("Commands/Add")[0].findtext("ServerId")
    quiet(b)
    for i in range(15):
        read = str((i + 1) % 2)
        until_cached(a, log, lambda: a.sync("Inbox"))
        b.sync("Inbox", commands='<Change><ServerId>%s</ServerId><ApplicationData>'
                                 '<Read xmlns="Email:">%s</Read></ApplicationData></Change>'
                                 % (sid, read))
        col = a.sync("Inbox")
        assert col is not None, "round %d: the cached answer hid b's change" % i
        ch = col.findall("Commands/Change")
        assert [(c.findtext("ServerId"), c.findtext("ApplicationData/Read")) for c in ch] == [
            (sid, read)], i


def test_no_change_foldersync_is_cached_and_a_new_folder_ends_it(instance, account, devices, log):
    a, b = devices(), devices()
    key = a.hier_key
    doc = until_cached(a, log, lambda: a.foldersync(), what="FolderSync")
    assert doc.findtext("Status") == "1" and doc.findtext("SyncKey") == key
    assert doc.findtext("Changes/Count") == "0"
    r = b.c.post("FolderCreate", '<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey>'
                 '<ParentId>0</ParentId><DisplayName>Projects</DisplayName><Type>12</Type>'
                 '</FolderCreate>' % b.hier_key)
    assert r.wbxml.findtext("Status") == "1"
    log.mark()
    doc = a.foldersync()
    assert not last_cached(a, log)
    assert [x.findtext("DisplayName") for x in doc.findall("Changes/Add")] == ["Projects"]
    assert doc.findtext("SyncKey") != key


def test_suspension_and_resumption_are_seen_at_once(instance, account, devices, log):
    d = devices()
    quiet(d)
    until_cached(d, log, lambda: d.sync("Inbox"))
    zx(instance, "mobile", "doSuspendDeviceSync", account, d.device_id)
    r = d.c.post("Sync", '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
                 '<CollectionId>%s</CollectionId></Collection></Collections></Sync>'
                 % (d.keys[d.folder("Inbox")], d.folder("Inbox")))
    assert r.wbxml.findtext("Status") == SUSPENDED
    zx(instance, "mobile", "doResumeDeviceSync", account)
    log.mark()
    assert d.sync("Inbox") is None
    assert not last_cached(d, log)


def test_reset_device_gives_invalid_key(instance, account, devices, log):
    d = devices()
    quiet(d)
    until_cached(d, log, lambda: d.sync("Inbox"))
    zx(instance, "mobile", "doResetDevice", account, "device_id", d.device_id)
    col = d.sync("Inbox")
    assert col is not None and col.findtext("Status") == "3"


def test_password_change_and_disabled_account_refuse_at_once(instance, account, devices, log):
    d = devices()
    quiet(d)
    until_cached(d, log, lambda: d.sync("Inbox"))
    body = ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
            '<CollectionId>%s</CollectionId></Collection></Collections></Sync>'
            % (d.keys[d.folder("Inbox")], d.folder("Inbox")))
    zx(instance, "prov", "modifyAccount", account, "zimbraFeatureMobileSyncEnabled", "FALSE")
    assert d.c.post("Sync", body).status == 403
    zx(instance, "prov", "modifyAccount", account, "zimbraFeatureMobileSyncEnabled", "TRUE")
    until_cached(d, log, lambda: d.sync("Inbox"))
    zx(instance, "prov", "setPassword", account, "Other-Pw-9")
    assert d.c.post("Sync", body).status == 401


def test_wrong_password_is_never_answered_from_the_cache(instance, account, devices, log):
    d = devices()
    quiet(d)
    until_cached(d, log, lambda: d.sync("Inbox"))
    d.c.password = "Wrong-Pw-0"
    for _ in range(3):
        log.mark()
        r = d.c.post("Sync", '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s'
                     '</SyncKey><CollectionId>%s</CollectionId></Collection></Collections></Sync>'
                     % (d.keys[d.folder("Inbox")], d.folder("Inbox")))
        assert r.status == 401
        assert not last_cached(d, log)


def test_policy_change_asks_for_provisioning_at_once(instance, account, devices, log):
    d = devices()
    quiet(d)
    until_cached(d, log, lambda: d.sync("Inbox"))
    switch = "ZxMobile_DeviceManagementEnabled"
    before = sql(instance, "SELECT value FROM config_values WHERE level = 'global' AND "
                           "name = lower(%s)", switch)
    zx(instance, "config", "set", "global", switch, "TRUE")
    try:
        # the test client sends no policy key: allowed while non-provisionable devices are
        until_cached(d, log, lambda: d.sync("Inbox"))
        zx(instance, "prov", "modifyAccount", account,
           "zimbraMobilePolicyAllowNonProvisionableDevices", "FALSE")
        r = d.c.post("Sync", '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s'
                     '</SyncKey><CollectionId>%s</CollectionId></Collection></Collections></Sync>'
                     % (d.keys[d.folder("Inbox")], d.folder("Inbox")))
        # [MS-ASPROV] 3.1.5.2: 141, a client without a policy key on a strict policy
        assert r.wbxml is not None and r.wbxml.findtext("Status") == "141"
    finally:
        if before:
            zx(instance, "config", "set", "global", switch, before[0][0])
        else:
            zx(instance, "config", "unset", "global", switch)


def test_lost_listener_connection_drops_the_cache(instance, account, devices, log):
    d = devices()
    quiet(d)
    until_cached(d, log, lambda: d.sync("Inbox"))
    # every child's listener loses its connection: notifications may have been lost meanwhile
    sql(instance, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  "WHERE query ILIKE 'LISTEN%%' AND pid <> pg_backend_pid()")
    time.sleep(0.2)
    log.mark()
    assert d.sync("Inbox") is None
    assert not last_cached(d, log)
    # reconnected (within a second): cached again
    time.sleep(1.0)
    until_cached(d, log, lambda: d.sync("Inbox"))


def test_answers_are_per_device_and_per_request(instance, account, devices, log):
    a, b = devices(), devices()
    deliver(instance, account, message("one"))
    quiet(a)
    until_cached(a, log, lambda: a.sync("Inbox"))
    # b has not synced Inbox: its first Sync with a's key is refused, not a's answer
    col = b.sync("Inbox", key=a.keys[a.folder("Inbox")])
    assert col is not None and col.findtext("Status") == "3"
    # the same device with other options: computed
    log.mark()
    a.sync("Inbox", window=5)
    assert not last_cached(a, log)


# ---- ZxMobileAnswerCache Off, and a second node on the same database ---------------------------

@pytest.fixture(scope="module")
def uncached_node(instance):
    """Another httpd on the same database, with ZxMobileAnswerCache Off."""
    with zxinstance.another_httpd(instance, "ZxMobileAnswerCache Off\n") as node:
        yield node


def test_answer_cache_off_computes_every_answer(instance, uncached_node, account):
    d = Device(uncached_node, account)
    try:
        d.foldersync()
        quiet(d)
        log = AccessLog(uncached_node)
        for _ in range(6):
            assert d.sync("Inbox") is None
        lines = log.lines(d.device_id, at_least=6)
        assert len(lines) == 6 and not any(cached for _, _, cached in lines)
    finally:
        d.close()


def test_a_change_through_another_node_ends_the_cached_answer(instance, uncached_node, account,
                                                              devices, log):
    a = devices()
    deliver(instance, account, message("seen on two nodes"))
    quiet(a)
    until_cached(a, log, lambda: a.sync("Inbox"))
    b = Device(uncached_node, account)
    try:
        b.foldersync()
        b.sync("Inbox")
        sid = b.sync("Inbox").findall("Commands/Add")[0].findtext("ServerId")
        quiet(b)
        b.sync("Inbox", commands='<Change><ServerId>%s</ServerId><ApplicationData>'
                                 '<Flag xmlns="Email:"><Status xmlns="Email:">2</Status>'
                                 '<FlagType xmlns="Email:">Follow up</FlagType></Flag>'
                                 '</ApplicationData></Change>' % sid)
    finally:
        b.close()
    log.mark()
    col = a.sync("Inbox")
    assert col is not None and not last_cached(a, log)
    assert [c.findtext("ServerId") for c in col.findall("Commands/Change")] == [sid]
