"""Push ([MS-ASCMD] 2.2.1.13 Ping, 3.1.5.8; Sync Wait/HeartbeatInterval): a waiting Ping is
answered by a delivery, by a change made by another device and by a folder creation (status 7);
every Ping status; the empty Ping; a newer Ping ends the older; a client hang-up frees the
waiter; the hanging Sync at 12.1, 14.1 and 16.1; a graceful restart and a database restart with
Pings waiting (own instance); two httpd instances sharing one database."""

import os
import re
import socket
import tempfile
import shutil
import threading
import time

import pytest

import zxinstance
from easclient import EASClient
from syncutil import PASSWORD, VERSIONS, Device, deliver, message, new_account, zx

PING_LOG_HANGUP = r"ZX01026"
PING_LOG_SUPERSEDED = r"ZX01027"


# ---- helpers ------------------------------------------------------------------------------------

def ping_xml(heartbeat=None, folders=None, cls="Email"):
    x = '<Ping xmlns="Ping:">'
    if heartbeat is not None:
        x += "<HeartbeatInterval>%s</HeartbeatInterval>" % heartbeat
    if folders is not None:
        x += "<Folders>"
        for f in folders:
            x += "<Folder><Id>%s</Id><Class>%s</Class></Folder>" % (f, cls)
        x += "</Folders>"
    return x + "</Ping>"


def ping(client, heartbeat=None, folders=None, empty=False):
    """One Ping; returns (status, decoded document, seconds it took)."""
    t0 = time.time()
    r = client.post("Ping", None if empty else ping_xml(heartbeat, folders))
    took = time.time() - t0
    assert r.status == 200, r
    doc = r.wbxml
    assert doc.name == "Ping"
    return int(doc.findtext("Status")), doc, took


def changed_folders(doc):
    return [f.text for f in doc.findall("Folders/Folder")]


class Bg:
    """Run a call in a thread; .result() joins it."""

    def __init__(self, fn, *args, **kw):
        self.out = None
        self.exc = None

        def run():
            try:
                self.out = fn(*args, **kw)
            except Exception as e:  # noqa: BLE001 - re-raised in result()
                self.exc = e
        self.t = threading.Thread(target=run, daemon=True)
        self.t.start()

    def alive(self):
        return self.t.is_alive()

    def result(self, timeout=30):
        self.t.join(timeout)
        assert not self.t.is_alive(), "the request did not finish within %ss" % timeout
        if self.exc:
            raise self.exc
        return self.out


def ping_client(instance, account, device_id, protocol, url=None, timeout=120):
    return EASClient(url or instance.url, account, PASSWORD, device_id, "TestDevice",
                     protocol=protocol, timeout=timeout)


def ready(dev, coll="Inbox"):
    """The device holds every item of coll (its state is current): nothing to report."""
    dev.sync(coll, key="0")
    while True:
        col = dev.sync(coll)
        if col is None or col.find("MoreAvailable") is None:
            break
    return dev.folder(coll)


def waiting(bg, seconds=0.7):
    """Give a background request time to reach its wait; it must still be waiting."""
    time.sleep(seconds)
    assert bg.alive(), "the request answered instead of waiting: %r" % (bg.out,)


def set_config(instance, attr, value):
    if value is None:
        zx(instance, "config", "unset", "global", attr, check=False)
    else:
        zx(instance, "config", "set", "global", attr, str(value))


SETTINGS_TTL = 3.5      # the per-child cache of the push settings (notify/hub.c)


@pytest.fixture(scope="module")
def short_heartbeats(instance):
    """Heartbeats down to 1 s, so expiries are quick to test; restored afterwards."""
    set_config(instance, "ZxMobile_MinPingHeartbeat", 1)
    time.sleep(SETTINGS_TTL)
    yield
    set_config(instance, "ZxMobile_MinPingHeartbeat", None)
    time.sleep(SETTINGS_TTL)        # no child keeps the lowered bound for the next tests


@pytest.fixture
def account(instance):
    return new_account(instance)


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


@pytest.fixture
def devs(device_factory, account, version):
    return lambda **kw: device_factory(account, version, **kw)


@pytest.fixture
def pinger(instance, account, version):
    made = []

    def make(dev, url=None, timeout=120):
        c = ping_client(instance, account, dev.device_id, version, url=url, timeout=timeout)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


# ---- answered by a change -------------------------------------------------------------------

def test_ping_answered_by_delivery(instance, account, devs, pinger, short_heartbeats):
    d = devs()
    inbox = ready(d)
    p = pinger(d)
    bg = Bg(ping, p, 300, [inbox, d.folder("Sent Items")])
    waiting(bg)
    t0 = time.time()
    deliver(instance, account, message("push me"))
    status, doc, _ = bg.result()
    assert status == 2
    assert changed_folders(doc) == [inbox]
    assert time.time() - t0 < 3, "the delivery took too long to answer the Ping"
    # the device syncs what it was told about: the next Ping waits again
    col = d.sync("Inbox")
    assert [c.name for c in col.findall("Commands/*")] == ["Add"]
    status, _, took = ping(p, 2, [inbox])
    assert status == 1 and took >= 1.5


@pytest.mark.parametrize("version", ["14.1"])     # a server setting: one version is enough
def test_notifications_batched_when_not_instant(instance, account, devs, pinger, version,
                                                short_heartbeats):
    """ZxMobile_UseInstantNotficiations FALSE: a change answers after
    ZxMobile_NotificationsLatency seconds, not at once."""
    d = devs()
    inbox = ready(d)
    try:
        set_config(instance, "ZxMobile_UseInstantNotficiations", "FALSE")
        set_config(instance, "ZxMobile_NotificationsLatency", 3)
        time.sleep(SETTINGS_TTL)
        bg = Bg(ping, pinger(d), 300, [inbox])
        waiting(bg)
        t0 = time.time()
        deliver(instance, account, message("later"))
        deliver(instance, account, message("later too"))
        status, doc, _ = bg.result()
        took = time.time() - t0
        assert status == 2 and changed_folders(doc) == [inbox]
        assert 2.5 <= took < 8, took
    finally:
        set_config(instance, "ZxMobile_UseInstantNotficiations", None)
        set_config(instance, "ZxMobile_NotificationsLatency", None)
        time.sleep(SETTINGS_TTL)


def test_ping_answered_at_once_when_changes_wait(instance, account, devs, pinger,
                                                 short_heartbeats):
    d = devs()
    inbox = ready(d)
    deliver(instance, account, message("already there"))
    status, doc, took = ping(pinger(d), 300, [inbox])
    assert status == 2 and changed_folders(doc) == [inbox] and took < 3


def test_ping_answered_by_another_device(instance, account, devs, pinger, short_heartbeats):
    item = deliver(instance, account, message("read me elsewhere"))
    a, b = devs(), devs()
    inbox = ready(a)
    ready(b)
    bg = Bg(ping, pinger(a), 300, [inbox])
    waiting(bg)
    col = b.sync("Inbox", commands='<Change><ServerId>%s</ServerId><ApplicationData>'
                 '<Read xmlns="Email:">1</Read></ApplicationData></Change>' % item)
    assert col is not None
    status, doc, _ = bg.result()
    assert status == 2 and changed_folders(doc) == [inbox]


def test_own_change_does_not_answer_the_ping(instance, account, devs, pinger, short_heartbeats):
    """The device's own Sync change is nothing new to it: its Ping runs to the end."""
    item = deliver(instance, account, message("mine"))
    a = devs()
    inbox = ready(a)
    bg = Bg(ping, pinger(a), 3, [inbox])
    waiting(bg)
    a.sync("Inbox", commands='<Change><ServerId>%s</ServerId><ApplicationData>'
           '<Read xmlns="Email:">1</Read></ApplicationData></Change>' % item)
    status, _, took = bg.result()
    assert status == 1 and took >= 2.5


def test_folder_creation_answers_status_7(instance, account, devs, pinger, short_heartbeats):
    a, b = devs(), devs()
    inbox = ready(a)
    bg = Bg(ping, pinger(a), 300, [inbox])
    waiting(bg)
    r = b.c.post("FolderCreate", '<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey>'
                 '<ParentId>0</ParentId><DisplayName>Pushed</DisplayName><Type>12</Type>'
                 '</FolderCreate>' % b.hier_key)
    assert r.wbxml.findtext("Status") == "1"
    status, doc, _ = bg.result()
    assert status == 7 and not changed_folders(doc)
    # after a FolderSync the same Ping waits again
    a.foldersync()
    assert "Pushed" in a.folders
    status, _, _ = ping(pinger(a), 2, [inbox])
    assert status == 1


def test_unknown_folder_answers_status_7(instance, devs, pinger, short_heartbeats):
    d = devs()
    status, _, took = ping(pinger(d), 60, ["999999999"])
    assert status == 7 and took < 3


def test_device_without_foldersync_gets_status_7(instance, account, version, short_heartbeats):
    c = ping_client(instance, account, "nofolders" + version.replace(".", ""), version)
    try:
        status, _, _ = ping(c, 60, ["1"])
        assert status == 7
    finally:
        c.close()


def test_suspension_answers_a_waiting_ping(instance, account, devs, pinger, version,
                                           short_heartbeats):
    """An admin decision about the device reaches its waiting Ping at once (device gates)."""
    d = devs()
    inbox = ready(d)
    p = pinger(d)
    bg = Bg(p.post, "Ping", ping_xml(300, [inbox]))
    waiting(bg)
    t0 = time.time()
    zx(instance, "mobile", "doSuspendDeviceSync", account, d.device_id)
    try:
        r = bg.result(timeout=10)
        assert time.time() - t0 < 3
        if version == "12.1":
            assert r.status == 403
        else:
            assert r.status == 200 and r.wbxml.name == "Ping"
            assert r.wbxml.findtext("Status") == "129"     # blocked for this user
    finally:
        zx(instance, "mobile", "doResumeDeviceSync", account, "device_id", d.device_id)


# ---- statuses 3, 4, 5, 6 and the cache ------------------------------------------------------------

def test_missing_parameters(instance, devs, pinger, short_heartbeats):
    d = devs()
    inbox = ready(d)
    p = pinger(d)
    assert ping(p, empty=True)[0] == 3                  # nothing cached yet
    assert ping(p, heartbeat=2)[0] == 3                 # no folder list, none cached
    assert ping(p, folders=[])[0] == 3                  # an empty Folders element
    # the heartbeat of the second request was kept: the folder list alone now suffices
    status, _, took = ping(p, folders=[inbox])
    assert status == 1 and 1.5 <= took < 6


def test_missing_heartbeat_with_folders(instance, devs, pinger, short_heartbeats):
    d = devs()
    inbox = ready(d)
    assert ping(pinger(d), folders=[inbox])[0] == 3


def test_syntax_errors(instance, devs, pinger, short_heartbeats):
    d = devs()
    p = pinger(d)
    r = p.post("Ping", '<Ping xmlns="Ping:"><HeartbeatInterval>soon</HeartbeatInterval></Ping>')
    assert int(r.wbxml.findtext("Status")) == 4
    r = p.post("Ping", '<Ping xmlns="Ping:"><HeartbeatInterval>60</HeartbeatInterval><Folders>'
                       '<Folder><Class>Email</Class></Folder></Folders></Ping>')
    assert int(r.wbxml.findtext("Status")) == 4


def test_heartbeat_bounds(instance, devs, pinger, short_heartbeats):
    d = devs()
    inbox = ready(d)
    p = pinger(d)
    status, doc, _ = ping(p, 3541, [inbox])
    assert status == 5 and doc.findtext("HeartbeatInterval") == "3540"
    status, doc, _ = ping(p, 0, [inbox])
    assert status == 5 and doc.findtext("HeartbeatInterval") == "1"
    try:
        set_config(instance, "ZxMobile_MaxPingHeartbeat", 600)
        set_config(instance, "ZxMobile_MinPingHeartbeat", 30)
        time.sleep(SETTINGS_TTL)
        status, doc, _ = ping(p, 601, [inbox])
        assert status == 5 and doc.findtext("HeartbeatInterval") == "600"
        status, doc, _ = ping(p, 29, [inbox])
        assert status == 5 and doc.findtext("HeartbeatInterval") == "30"
        # the limits of Ping bound the hanging Sync too (status 14 with Limit)
        d.sync("Inbox")
        r = d.c.post("Sync", '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s'
                     '</SyncKey><CollectionId>%s</CollectionId></Collection></Collections>'
                     '<HeartbeatInterval>700</HeartbeatInterval></Sync>'
                     % (d.keys[inbox], inbox)) if d.protocol != "12.1" else None
        if r is not None:
            assert r.wbxml.findtext("Status") == "14" and r.wbxml.findtext("Limit") == "600"
    finally:
        set_config(instance, "ZxMobile_MaxPingHeartbeat", None)
        set_config(instance, "ZxMobile_MinPingHeartbeat", 1)
        time.sleep(SETTINGS_TTL)


def test_too_many_folders(instance, devs, pinger, short_heartbeats):
    d = devs()
    status, doc, _ = ping(pinger(d), 60, [str(100000 + i) for i in range(301)])
    assert status == 6 and doc.findtext("MaxFolders") == "300"


def test_empty_ping_reuses_heartbeat_and_folders(instance, account, devs, pinger,
                                                 short_heartbeats):
    d = devs()
    inbox = ready(d)
    p = pinger(d)
    status, _, took = ping(p, 2, [inbox])
    assert status == 1 and 1.5 <= took < 6
    status, _, took = ping(p, empty=True)          # same heartbeat, same folders
    assert status == 1 and 1.5 <= took < 6
    status, _, took = ping(p, heartbeat=3)         # new heartbeat, cached folders
    assert status == 1 and 2.5 <= took < 7
    row = instance.psql("SELECT p.heartbeat, p.folders, d.last_heartbeat FROM device_ping p "
                        "JOIN devices d ON d.id = p.device WHERE d.device_id = '%s'" % d.device_id)
    assert row.strip() == "3|%s|3" % inbox
    bg = Bg(ping, p, empty=True)
    waiting(bg)
    deliver(instance, account, message("for the empty ping"))
    status, doc, _ = bg.result()
    assert status == 2 and changed_folders(doc) == [inbox]


# ---- one wait per device, hang-ups ------------------------------------------------------------

def test_newer_ping_ends_the_older(instance, account, devs, pinger, error_log, short_heartbeats):
    d = devs()
    inbox = ready(d)
    first = Bg(ping, pinger(d), 300, [inbox])
    waiting(first)
    second = Bg(ping, pinger(d), 300, [inbox])
    status, _, took = first.result(timeout=10)
    assert status == 1 and took < 10
    assert second.alive()
    assert error_log.contains(PING_LOG_SUPERSEDED)
    deliver(instance, account, message("to the newest ping"))
    status, doc, _ = second.result()
    assert status == 2 and changed_folders(doc) == [inbox]


def raw_ping(instance, account, device_id, version, body_xml):
    """Send a Ping over a raw socket; returns the socket (the response is not read)."""
    from easclient import encode, from_xml
    c = EASClient(instance.url, account, PASSWORD, device_id, "TestDevice", protocol=version)
    query, headers = c.build_query("Ping")
    headers.update(c._common_headers())
    body = encode(from_xml(body_xml))
    headers["Content-Type"] = "application/vnd.ms-sync.wbxml"
    headers["Content-Length"] = str(len(body))
    headers["Host"] = "127.0.0.1"
    req = "POST %s?%s HTTP/1.1\r\n" % (c.path, query)
    req += "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
    s = socket.create_connection(("127.0.0.1", instance.port))
    s.sendall(req.encode() + bytes(body))
    return s


def test_client_hangup_frees_the_waiter(instance, account, devs, error_log, short_heartbeats):
    d = devs()
    inbox = ready(d)
    s = raw_ping(instance, account, d.device_id, d.protocol, ping_xml(300, [inbox]))
    time.sleep(0.7)
    assert not error_log.contains(PING_LOG_HANGUP)
    s.close()
    end = time.time() + 5
    while time.time() < end and not error_log.contains(PING_LOG_HANGUP):
        time.sleep(0.1)
    assert error_log.contains(PING_LOG_HANGUP), "the hang-up was not noticed"


# ---- the hanging Sync ---------------------------------------------------------------------------

def hanging_sync_xml(dev, coll, version, seconds):
    wait = ("<Wait>%d</Wait>" % max(1, seconds // 60) if version == "12.1"
            else "<HeartbeatInterval>%d</HeartbeatInterval>" % seconds)
    return ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
            '<CollectionId>%s</CollectionId></Collection></Collections>%s</Sync>'
            % (dev.keys[coll], coll, wait))


def test_hanging_sync_answered_by_delivery(instance, account, devs, version, short_heartbeats):
    d = devs()
    inbox = ready(d)
    bg = Bg(d.c.post, "Sync", hanging_sync_xml(d, inbox, version, 120))
    waiting(bg)
    t0 = time.time()
    item = deliver(instance, account, message("sync push"))
    r = bg.result()
    assert time.time() - t0 < 3
    assert r.status == 200 and r.body
    col = r.wbxml.find("Collections/Collection")
    assert col.findtext("Status") == "1"
    assert [(c.name, c.findtext("ServerId")) for c in col.findall("Commands/*")] == [("Add", item)]
    assert col.findtext("SyncKey") != d.keys[inbox]


@pytest.mark.parametrize("version", ["14.1", "16.1"])   # 12.1 has only Wait, in minutes
def test_hanging_sync_expires_empty(instance, account, devs, version, short_heartbeats):
    d = devs()
    inbox = ready(d)
    t0 = time.time()
    r = d.c.post("Sync", hanging_sync_xml(d, inbox, version, 2))
    took = time.time() - t0
    assert r.status == 200 and not r.body and 1.5 <= took < 6


def test_ping_ends_a_hanging_sync(instance, account, devs, pinger, version, short_heartbeats):
    d = devs()
    inbox = ready(d)
    bg = Bg(d.c.post, "Sync", hanging_sync_xml(d, inbox, version, 120))
    waiting(bg)
    ping_bg = Bg(ping, pinger(d), 300, [inbox])
    r = bg.result(timeout=10)
    assert r.status == 200 and not r.body        # ended without changes: the empty response
    deliver(instance, account, message("to the ping"))
    assert ping_bg.result()[0] == 2


# ---- two nodes on one database -----------------------------------------------------------------

@pytest.fixture(scope="module")
def second_node(instance):
    """Another httpd (own parent process, own children and listeners) on the same database."""
    with zxinstance.another_httpd(instance) as node:
        yield node


def test_two_nodes_share_notifications(instance, second_node, account, devs, pinger, version,
                                       short_heartbeats):
    a, b = devs(), devs()
    inbox = ready(a)
    item = deliver(instance, account, message("two nodes"))
    ready(a)
    ready(b)
    # a Ping held on node 2, answered by a change made through node 1
    bg = Bg(ping, pinger(a, url=second_node.url), 300, [inbox])
    waiting(bg)
    b.sync("Inbox", commands='<Change><ServerId>%s</ServerId><ApplicationData>'
           '<Read xmlns="Email:">1</Read></ApplicationData></Change>' % item)
    status, doc, _ = bg.result()
    assert status == 2 and changed_folders(doc) == [inbox]
    # a newer Ping on node 1 ends the older one held on node 2
    a.sync("Inbox")
    old = Bg(ping, pinger(a, url=second_node.url), 300, [inbox])
    waiting(old)
    new = Bg(ping, pinger(a), 300, [inbox])
    status, _, took = old.result(timeout=10)
    assert status == 1 and took < 10
    deliver(instance, account, message("to node 1"))
    assert new.result()[0] == 2


# ---- graceful restart and database restart (own instance) ---------------------------------------

@pytest.fixture(scope="module")
def own(instance):
    tmp = tempfile.mkdtemp(prefix="zxmobile-push-")
    inst = zxinstance.Instance(tmp, zxinstance.free_port(), durable=False)
    try:
        inst.up()
        zx(inst, "config", "set", "global", "ZxMobile_MinPingHeartbeat", "1")
        yield inst
    finally:
        inst.down()
        shutil.rmtree(tmp, ignore_errors=True)


def own_errors(inst, offset):
    with open(inst.error_log, "rb") as f:
        f.seek(offset)
        lines = f.read().decode("utf-8", "replace").splitlines()
    return [l for l in lines if re.search(r"\[(?:[a-z_]+:)?(?:error|crit|alert|emerg)\]|exit signal", l)]


def test_graceful_restart_answers_waiting_pings(own):
    account = new_account(own)
    devices = [Device(own, account, protocol="14.1") for _ in range(4)]
    offset = os.path.getsize(own.error_log)
    try:
        pings = []
        for d in devices:
            d.foldersync()
            inbox = ready(d)
            pings.append(Bg(ping, ping_client(own, account, d.device_id, "14.1"), 600, [inbox]))
        time.sleep(1)
        assert all(b.alive() for b in pings)
        t0 = time.time()
        own.httpd_ctl("graceful")
        for b in pings:
            status, _, _ = b.result(timeout=15)
            assert status == 1
        assert time.time() - t0 < 10
        # the new generation serves Pings
        time.sleep(1)
        d = devices[0]
        bg = Bg(ping, ping_client(own, account, d.device_id, "14.1"), 600, [d.folder("Inbox")])
        waiting(bg, 1.0)
        deliver(own, account, message("after graceful"))
        assert bg.result()[0] == 2
        assert own_errors(own, offset) == []
    finally:
        for d in devices:
            d.close()


def test_database_restart_then_delivery_still_wakes(own):
    account = new_account(own)
    devices = [Device(own, account, protocol="14.1") for _ in range(3)]
    offset = os.path.getsize(own.error_log)
    try:
        pings = []
        for d in devices:
            d.foldersync()
            inbox = ready(d)
            pings.append(Bg(ping, ping_client(own, account, d.device_id, "14.1"), 600, [inbox]))
        time.sleep(1)
        own.pg_down()
        time.sleep(1)
        own.pg_up()
        time.sleep(4)          # the listeners reconnect (backoff) and re-check
        assert all(b.alive() for b in pings), [b.out for b in pings if not b.alive()]
        deliver(own, account, message("after the database restart"))
        for b in pings:
            status, doc, _ = b.result(timeout=20)
            assert status == 2
        with open(own.error_log, "rb") as f:
            f.seek(offset)
            log = f.read().decode("utf-8", "replace")
        assert "ZX01003" in log and "ZX01002" in log      # lost, then reconnected
    finally:
        for d in devices:
            d.close()


class PreforkInstance(zxinstance.Instance):
    """An instance on the prefork MPM: the notification listener is the only extra thread of
    a child that is otherwise single-threaded (as under mod_php)."""

    PREFORK = ["StartServers 2", "ServerLimit 4", "MinSpareServers 2", "MaxSpareServers 4",
               "MaxRequestWorkers 4"]
    THREADED = ("StartServers", "ServerLimit", "ThreadLimit", "ThreadsPerChild",
                "MaxRequestWorkers", "MinSpareThreads", "MaxSpareThreads", "ThreadStackSize")

    def write_httpd_conf(self, extra=""):
        super().write_httpd_conf(extra)
        with open(self.conf_path) as f:
            lines = f.read().splitlines()
        out = [re.sub(r"^LoadModule mpm_event_module .*$",
                      "LoadModule mpm_prefork_module %s/mod_mpm_prefork.so"
                      % zxinstance.APACHE_MODULES, l)
               for l in lines if l.split(" ", 1)[0] not in self.THREADED]
        with open(self.conf_path, "w") as f:
            f.write("\n".join(out + self.PREFORK) + "\n")


def test_prefork_ping_and_clean_child_exit(instance):
    """Under prefork a Ping is answered by a delivery, and stopping httpd ends every child
    cleanly: the listener thread is joined before the child's pools go (it used to crash in
    apr_allocator_destroy at exit)."""
    tmp = tempfile.mkdtemp(prefix="zxmobile-prefork-")
    inst = PreforkInstance(tmp, zxinstance.free_port(), durable=False)
    try:
        inst.up()
        zx(inst, "config", "set", "global", "ZxMobile_MinPingHeartbeat", "1")
        account = new_account(inst)
        d = Device(inst, account, protocol="14.1")
        try:
            d.foldersync()
            inbox = ready(d)
            bg = Bg(ping, ping_client(inst, account, d.device_id, "14.1"), 600, [inbox])
            waiting(bg, 1.0)
            deliver(inst, account, message("prefork"))
            assert bg.result()[0] == 2
        finally:
            d.close()
        inst.httpd_ctl("restart")          # every child exits; the new ones serve
        time.sleep(1)
        d = Device(inst, account, protocol="14.1")
        try:
            assert d.foldersync() is not None
        finally:
            d.close()
    finally:
        inst.down()
        errors = own_errors(inst, 0)
        shutil.rmtree(tmp, ignore_errors=True)
    assert errors == []


def test_full_child_ends_its_oldest_ping(instance):
    """A child holds at most ThreadsPerChild - 1/32 (at least 4) waiting requests: one more
    ends the oldest with status 1 and Connection: close, so its device comes back on a new
    connection instead of queueing behind Pings (README, "Sizing httpd")."""
    tmp = tempfile.mkdtemp(prefix="zxmobile-push-small-")
    inst = zxinstance.Instance(tmp, zxinstance.free_port(), durable=False)
    os.makedirs(inst.extra_dir, exist_ok=True)
    with open(os.path.join(inst.extra_dir, "small.conf"), "w") as f:
        f.write("StartServers 1\nServerLimit 1\nThreadLimit 16\nThreadsPerChild 16\n"
                "MaxRequestWorkers 16\nMinSpareThreads 1\nMaxSpareThreads 16\n")
    inst.pg_sock = instance.pg_sock          # the session's database
    clients, pings = [], []
    try:
        inst.httpd_up()
        account = new_account(instance)
        ids = []
        for i in range(13):
            d = Device(inst, account, protocol="14.1")
            d.foldersync()
            inbox = ready(d)            # the same Inbox for every device of the account
            ids.append(d.device_id)
            d.close()                   # only the Pings' connections stay open
        for i, device_id in enumerate(ids):
            c = ping_client(inst, account, device_id, "14.1")
            clients.append(c)
            pings.append(Bg(c.post, "Ping", ping_xml(300, [inbox])))
            time.sleep(0.4)             # in this order: the first is the oldest
            if i < 12:
                assert pings[0].alive(), "a Ping answered before the child was full"
        r = pings[0].result(timeout=10)
        assert r.status == 200 and r.wbxml.findtext("Status") == "1"
        assert "close" in (r.headers.get("Connection") or "").lower()
        time.sleep(0.5)
        assert all(b.alive() for b in pings[1:])
        deliver(instance, account, message("to the twelve"))
        for b in pings[1:]:
            assert b.result().wbxml.findtext("Status") == "2"
    finally:
        for c in clients:
            c.close()
        inst.httpd_down()
        shutil.rmtree(tmp, ignore_errors=True)
