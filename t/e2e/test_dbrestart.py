"""A PostgreSQL restart costs the devices nothing (issue 12, item 4).

An instance of its own (three httpd children of eight threads, each with its own pool of
database connections) serves a few devices; PostgreSQL is restarted with `pg_ctl restart -m
fast` several times, and right after each restart every request of the devices - spread
over all children on new TCP connections - must be answered 200 with the right content:
the pooled connections the restart killed are noticed and replaced, a statement that met a
dead connection outside a transaction is run again on a new one.  While PostgreSQL is down,
a request gets 503 with the short Retry-After, and the error log says why."""

import os
import re
import shutil
import tempfile
import threading

import pytest

import zxinstance
from syncutil import Device, deliver, message, new_account

CHILDREN = 3
THREADS = 8
SUBJECTS = ["restart %d" % i for i in range(3)]
DEVICES = [("12.1", 3), ("14.1", 3), ("16.1", 2)]       # (protocol, how many)
RETRY_AFTER_DB = "5"        # libzxsync: ZX_RETRY_AFTER_DB
MPM = ("StartServers", "ServerLimit", "ThreadLimit", "ThreadsPerChild", "MaxRequestWorkers",
       "MinSpareThreads", "MaxSpareThreads")
FOLDERSYNC_0 = '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>'
BAD_LOG = re.compile(r"\[(?:[a-z_]+:)?(?:error|crit|alert|emerg)\]|exit signal")


class SmallInstance(zxinstance.Instance):
    """Three children of eight threads (every child reached by a few parallel requests), and
    an access log of "pid status request" lines."""

    def __init__(self, dir):
        super().__init__(dir, zxinstance.free_port())
        self.pid_log = os.path.join(self.httpd_dir, "pid.log")

    def write_httpd_conf(self, extra=""):
        super().write_httpd_conf(extra)
        with open(self.conf_path) as f:
            lines = [l for l in f.read().splitlines() if l.split(" ", 1)[0] not in MPM]
        lines += ["StartServers %d" % CHILDREN, "ServerLimit %d" % CHILDREN,
                  "ThreadLimit %d" % THREADS, "ThreadsPerChild %d" % THREADS,
                  "MaxRequestWorkers %d" % (CHILDREN * THREADS), "MinSpareThreads 1",
                  "MaxSpareThreads %d" % (CHILDREN * THREADS),
                  'LogFormat "%P %>s %r" zxpid', 'CustomLog "{}" zxpid'.format(self.pid_log)]
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def served(self):
        """[(pid, status)] of every request so far."""
        try:
            with open(self.pid_log) as f:
                return [(int(l.split()[0]), int(l.split()[1])) for l in f if l.strip()]
        except FileNotFoundError:
            return []

    def log_since(self, offset):
        with open(self.error_log, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace").splitlines()


@pytest.fixture(scope="module")
def own():
    tmp = tempfile.mkdtemp(prefix="zxmobile-dbrestart-")
    inst = SmallInstance(tmp)
    try:
        inst.up()
        yield inst
    finally:
        inst.down()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def devices(own):
    """(account, [(protocol, device id)]): the devices have synced their Inbox once."""
    account = new_account(own)
    for s in SUBJECTS:
        deliver(own, account, message(s))
    devs = []
    for protocol, n in DEVICES:
        for _ in range(n):
            d = Device(own, account, protocol=protocol)
            try:
                d.foldersync()
                d.sync("Inbox", key="0")
                assert sorted(subjects(d.sync("Inbox"))) == sorted(SUBJECTS)
                devs.append((protocol, d.device_id))
            finally:
                d.close()
    return account, devs


def subjects(col):
    return [a.findtext("ApplicationData/Subject") for a in col.findall("Commands/Add")]


def fresh(own, account, protocol, device_id):
    """The device on a new TCP connection (so that requests spread over the children)."""
    return Device(own, account, protocol=protocol, device_id=device_id)


def check(r, what):
    """None when r is a 200 WBXML answer with Status 1, else what went wrong."""
    if r.status != 200:
        return "%s: HTTP %d (Retry-After %s)" % (what, r.status, r.headers.get("Retry-After"))
    status = r.wbxml.findtext("Status") or r.wbxml.findtext("Collections/Collection/Status")
    if status != "1":
        return "%s: Status %s" % (what, status)
    return None


def full_sync(own, account, protocol, device_id):
    """FolderSync from 0, then Sync of the Inbox from 0: each request on a new connection.
    Returns the problems seen ([] when every answer was right)."""
    problems = []
    d = fresh(own, account, protocol, device_id)
    try:
        r = d.c.post("FolderSync", FOLDERSYNC_0)
        bad = check(r, "FolderSync")
        if bad:
            return [bad]
        inbox = [a.findtext("ServerId") for a in r.wbxml.findall("Changes/Add")
                 if a.findtext("DisplayName") == "Inbox"]
        if len(inbox) != 1:
            return ["FolderSync: no Inbox"]
    finally:
        d.close()
    key = "0"
    for step in ("Sync 0", "Sync"):
        d = fresh(own, account, protocol, device_id)
        try:
            r = d.c.post("Sync", '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s'
                                 '</SyncKey><CollectionId>%s</CollectionId></Collection>'
                                 '</Collections></Sync>' % (key, inbox[0]))
        finally:
            d.close()
        bad = check(r, step)
        if bad:
            problems.append(bad)
            break
        col = r.wbxml.find("Collections/Collection")
        key = col.findtext("SyncKey")
        if step == "Sync" and sorted(subjects(col)) != sorted(SUBJECTS):
            problems.append("Sync: subjects %r" % subjects(col))
    return problems


def round_of_requests(own, account, devs, per_device=2):
    """Every device runs per_device full syncs, the devices in parallel; returns the problems
    ("protocol device: what")."""
    problems = []
    mu = threading.Lock()

    def run(protocol, device_id):
        for _ in range(per_device):
            try:
                out = full_sync(own, account, protocol, device_id)
            except Exception as e:          # a reset connection, a bad answer: also a failure
                out = ["%s: %r" % (type(e).__name__, e)]
            with mu:
                problems.extend("%s %s: %s" % (protocol, device_id, p) for p in out)

    threads = [threading.Thread(target=run, args=d) for d in devs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return problems


def test_requests_after_fast_restarts_all_succeed(own, devices):
    account, devs = devices
    offset = os.path.getsize(own.error_log)
    # every child serves requests, so every child's pool holds connections
    seen = len(own.served())
    assert round_of_requests(own, account, devs, per_device=3) == []
    children = {pid for pid, _ in own.served()[seen:]}
    assert len(children) == CHILDREN, children
    restarts = 4
    for i in range(restarts):
        own.pg_restart()
        seen = len(own.served())
        problems = round_of_requests(own, account, devs)
        served = own.served()[seen:]
        assert problems == [], "after restart %d:\n%s" % (i + 1, "\n".join(problems))
        # the round reached the children whose pools the restart emptied
        assert {pid for pid, _ in served} == children, (served, children)
        assert all(status == 200 for _, status in served), served
    log = own.log_since(offset)
    assert [l for l in log if BAD_LOG.search(l)] == []
    # the dead connections were noticed (and said so, below error level)
    assert any("ZX00102" in l for l in log), "\n".join(log)


def test_database_down_answers_short_retry_after(own, devices):
    account, devs = devices
    offset = os.path.getsize(own.error_log)
    own.pg_down()
    try:
        for protocol, device_id in (devs[0], devs[-1]):
            d = fresh(own, account, protocol, device_id)
            try:
                r = d.c.post("FolderSync", FOLDERSYNC_0)
            finally:
                d.close()
            assert r.status == 503, (protocol, r)
            assert r.headers.get("Retry-After") == RETRY_AFTER_DB, r.headers
    finally:
        own.pg_up()
    log = own.log_since(offset)
    why = [l for l in log if re.search(r"\[zxmobile:error\].* ZX\d{5}: .*"
                                       r"cannot connect to the database", l)]
    assert why, "\n".join(log)
    # and back at once: the next request of each device is served
    assert round_of_requests(own, account, devs, per_device=1) == []
