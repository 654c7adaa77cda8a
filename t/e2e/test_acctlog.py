"""Mobile account loggers (spec 10): `zxsuite mobile doAddAccountLogger | getAccountLoggers |
doRemoveLogger`, the file each logger writes (one line per exchange at info, the decoded
request and response at debug, headers at trace, failures only at warn), the window_size cap
on Sync, rotation, concurrent writers, and the errors of the CLI.

Every test uses its own accounts and removes the loggers it added.  An httpd child re-reads
the loggers every ZX_ACCTLOG_RECHECK (2) seconds, hence the waits after a change."""

import json
import os
import pwd
import re
import shutil
import stat
import tempfile
import threading
import time
import uuid

import pytest

from easclient import EASClient
from syncutil import PASSWORD, Device, deliver, message, new_account, server_ids, zx

RECHECK = 2.6        # ZX_ACCTLOG_RECHECK + a margin
HTTPD_USER = "www-data"

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (INFO|WARN|ERROR) (.*)$")


def fields(line):
    m = LINE.match(line)
    assert m, "not a record line: %r" % line
    out = {"time": m.group(1), "class": m.group(2)}
    for kv in m.group(3).split(" "):
        k, _, v = kv.partition("=")
        out[k] = v
    return out


def records(path):
    """[(summary fields, [request lines], [response lines])] of a log file."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            if line.startswith("> "):
                out[-1][1].append(line[2:])
            elif line.startswith("< "):
                out[-1][2].append(line[2:])
            else:
                out.append((fields(line), [], []))
    return out


@pytest.fixture
def logdir(instance):
    """A directory the httpd user can reach (and write: rotation recreates the file), inside
    the instance's account logger directory (ZxMobile_AccountLoggerDirectory, set by the
    harness to its httpd log directory)."""
    d = tempfile.mkdtemp(prefix="zx-acctlog-", dir=instance.httpd_dir)
    os.chmod(d, 0o755)
    pw = pwd.getpwnam(HTTPD_USER)
    os.chown(d, pw.pw_uid, pw.pw_gid)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def loggers(instance):
    """Add loggers through the CLI; every one added is removed afterwards."""
    added = []

    def add(account, level, path, *extra):
        p = zx(instance, "--json", "mobile", "doAddAccountLogger", account, level, path, *extra)
        resp = json.loads(p.stdout)["response"]
        added.append(str(resp["id"]))
        return resp

    yield add
    for i in added:
        zx(instance, "mobile", "doRemoveLogger", i, check=False)
    if added:
        time.sleep(RECHECK)


def list_loggers(instance):
    return json.loads(zx(instance, "--json", "mobile", "getAccountLoggers").stdout)["response"][
        "loggers"]


# ---- info ---------------------------------------------------------------------------------------

def test_info_one_line_per_exchange(instance, loggers, logdir):
    acct = new_account(instance)
    other = new_account(instance)
    path = os.path.join(logdir, "info.log")
    resp = loggers(acct, "info", path)
    assert resp["level"] == "INFO" and resp["account"] == acct and resp["file"] == path
    assert resp["window_size"] is None
    assert resp["description"] == "Logging account %s using level info, log file %s" % (acct, path)
    assert resp["remove command"] == "zxsuite mobile doRemoveLogger %s" % resp["id"]
    # created for the httpd user, not readable by everyone
    st = os.stat(path)
    assert st.st_uid == pwd.getpwnam(HTTPD_USER).pw_uid
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_size == 0
    time.sleep(RECHECK)

    sent = []
    for proto in ("14.1", "16.1"):
        d = Device(instance, acct, protocol=proto)
        d.foldersync()
        d.sync("Inbox", key="0")
        d.sync("Inbox")
        sent.append((d.device_id, proto, d.c.requests_sent))
        d.close()
    o = Device(instance, other)
    o.foldersync()
    o.close()

    recs = records(path)
    assert all(not rq and not rs for _, rq, rs in recs)        # no bodies at info
    assert len(recs) == sum(n for _, _, n in sent) == 6
    cmds = [(r["device"], r["proto"], r["cmd"]) for r, _, _ in recs]
    for dev, proto, _ in sent:
        assert cmds.count((dev, proto, "FolderSync")) == 1
        assert cmds.count((dev, proto, "Sync")) == 2
    for r, _, _ in recs:
        assert r["class"] == "INFO" and r["account"] == acct and r["type"] == "TestDevice"
        assert r["http"] == "200" and r["ip"] == "127.0.0.1"
        assert re.fullmatch(r"\d+\.\d{3}", r["duration_ms"])
        assert int(r["request_bytes"]) > 0
        if r["cmd"] == "FolderSync":
            assert r["eas_status"] == "1" and int(r["response_bytes"]) > 0
    # the first Sync (key 0) answers Status 1; the second one has nothing: the empty response
    syncs = [r for r, _, _ in recs if r["cmd"] == "Sync"]
    assert [r["eas_status"] for r in syncs] == ["1", "-"] * 2
    assert [r["response_bytes"] for r in syncs][1::2] == ["0", "0"]
    text = open(path).read()
    assert other not in text and PASSWORD not in text


def test_options_and_refusals_are_logged(instance, loggers, logdir):
    acct = new_account(instance)
    path = os.path.join(logdir, "refusals.log")
    loggers(acct, "info", path)
    time.sleep(RECHECK)
    c = EASClient(instance.url, acct, PASSWORD, "devrefuse1", "TestDevice", protocol="14.1")
    assert c.options()[0] == 200
    bad = EASClient(instance.url, acct, "wrong-password", "devrefuse1", "TestDevice")
    assert bad.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey>'
                    '</FolderSync>').status == 401
    c.close()
    bad.close()
    recs = [r for r, _, _ in records(path)]
    assert [(r["cmd"], r["http"], r["class"]) for r in recs] == [
        ("OPTIONS", "200", "INFO"), ("FolderSync", "401", "WARN")]
    assert "wrong-password" not in open(path).read()


# ---- debug and trace ------------------------------------------------------------------------------

def test_debug_has_request_and_response_xml(instance, loggers, logdir):
    acct = new_account(instance)
    ids = [deliver(instance, acct, message("debug %d" % i)) for i in range(2)]
    dbg = os.path.join(logdir, "debug.log")
    trc = os.path.join(logdir, "trace.log")
    loggers(acct, "debug", dbg)
    loggers(acct, "TRACE", trc)
    time.sleep(RECHECK)

    d = Device(instance, acct, protocol="16.1")
    d.foldersync()
    inbox = d.folder("Inbox")
    d.sync("Inbox", key="0")
    key1 = d.keys[inbox]
    col = d.sync("Inbox")
    key2 = d.keys[inbox]
    assert sorted(server_ids(col)) == sorted(ids)
    d.close()

    recs = records(dbg)
    assert [r["cmd"] for r, _, _ in recs] == ["FolderSync", "Sync", "Sync"]
    fs, s0, s1 = recs
    assert fs[1][0] == '<FolderSync xmlns="FolderHierarchy">'
    assert "<SyncKey>0</SyncKey>" in "".join(fs[1])
    fs_resp = "\n".join(fs[2])
    assert "<Status>1</Status>" in fs_resp and "<DisplayName>Inbox</DisplayName>" in fs_resp
    assert "<ServerId>%s</ServerId>" % inbox in fs_resp
    # the second Sync: the key the device sent, the new key and the items it got
    req = "\n".join(s1[1])
    resp = "\n".join(s1[2])
    assert "<SyncKey>%s</SyncKey>" % key1 in req and "<CollectionId>%s</CollectionId>" % inbox in req
    assert "<SyncKey>%s</SyncKey>" % key2 in resp
    for sid in ids:
        assert "<ServerId>%s</ServerId>" % sid in resp
    assert "debug 0" in resp and "debug 1" in resp
    assert not any(line.startswith("Method: ") for line in s1[1])   # headers only at trace

    trecs = records(trc)
    assert [r["cmd"] for r, _, _ in trecs] == ["FolderSync", "Sync", "Sync"]
    treq, tresp = trecs[2][1], trecs[2][2]
    assert "Method: POST" in treq and "Cmd: Sync" in treq and "MS-ASProtocolVersion: 16.1" in treq
    assert "Credentials: Basic, login %s (password not logged)" % acct in treq
    assert "User-Agent: %s" % d.c.user_agent in treq
    assert tresp[0] == "HTTP 200" and tresp[1] == "Content-Type: application/vnd.ms-sync.wbxml"
    assert "<SyncKey>%s</SyncKey>" % key2 in "\n".join(tresp)
    for path in (dbg, trc):
        text = open(path).read()
        assert PASSWORD not in text and "Authorization" not in text


def test_warn_level_only_failures(instance, loggers, logdir):
    acct = new_account(instance)
    path = os.path.join(logdir, "warn.log")
    loggers(acct, "warn", path)
    time.sleep(RECHECK)
    d = Device(instance, acct, protocol="14.1")
    d.foldersync()
    d.sync("Inbox", key="0")
    col = d.sync("Inbox", key="123456")            # unknown key: Status 3
    assert col.findtext("Status") == "3"
    d.close()
    recs = [r for r, _, _ in records(path)]
    assert [(r["cmd"], r["class"], r["eas_status"]) for r in recs] == [("Sync", "WARN", "3")]


# ---- window_size -----------------------------------------------------------------------------------

def test_window_size_caps_sync_until_removed(instance, loggers, logdir):
    acct = new_account(instance)
    ids = [deliver(instance, acct, message("w %d" % i)) for i in range(5)]
    path = os.path.join(logdir, "window.log")
    lg = loggers(acct, "info", path, "window_size", "2")
    assert lg["window_size"] == 2
    assert lg["description"].endswith(", window size 2")
    time.sleep(RECHECK)

    for proto in ("14.1", "16.1"):
        d = Device(instance, acct, protocol=proto)
        d.foldersync()
        d.sync("Inbox", key="0")
        got = []
        for expect in (2, 2, 1):
            col = d.sync("Inbox", window=100)
            assert col.findtext("Status") == "1"
            got += server_ids(col)
            assert len(server_ids(col)) == expect
            assert (col.find("MoreAvailable") is not None) == (expect == 2)
        assert got == list(reversed(ids))
        d.close()

    # removed: the cap and the logging end
    zx(instance, "mobile", "doRemoveLogger", str(lg["id"]))
    assert not [x for x in list_loggers(instance) if x["account"] == acct]
    time.sleep(RECHECK)
    size = os.path.getsize(path)
    d = Device(instance, acct, protocol="14.1")
    d.foldersync()
    d.sync("Inbox", key="0")
    col = d.sync("Inbox", window=100)
    assert len(server_ids(col)) == 5 and col.find("MoreAvailable") is None
    d.close()
    assert os.path.getsize(path) == size


def test_sync_level_window_and_two_loggers_smallest_cap(instance, loggers, logdir):
    acct = new_account(instance)
    for i in range(4):
        deliver(instance, acct, message("m %d" % i))
    loggers(acct, "info", os.path.join(logdir, "a.log"), "window_size", "3")
    loggers(acct, "info", os.path.join(logdir, "b.log"), "window_size", "1")
    time.sleep(RECHECK)
    d = Device(instance, acct, protocol="14.1")
    d.foldersync()
    d.sync("Inbox", key="0")
    # no WindowSize at all in the request: the cap still applies
    col = d.sync("Inbox")
    assert len(server_ids(col)) == 1 and col.find("MoreAvailable") is not None
    # a Sync-level WindowSize above the cap
    col = d.sync("Inbox", top="<WindowSize>50</WindowSize>")
    assert len(server_ids(col)) == 1
    d.close()
    for name in ("a.log", "b.log"):
        assert len(records(os.path.join(logdir, name))) == 4


# ---- the file ---------------------------------------------------------------------------------------

def test_rotation_and_failures(instance, loggers, logdir, error_log):
    acct = new_account(instance)
    path = os.path.join(logdir, "rot.log")
    lg = loggers(acct, "info", path)
    time.sleep(RECHECK)
    d = Device(instance, acct, protocol="14.1")
    d.foldersync()
    os.rename(path, path + ".1")              # logrotate without copytruncate
    d.foldersync()
    assert len(records(path + ".1")) == 1
    assert len(records(path)) == 1
    assert os.stat(path).st_uid == pwd.getpwnam(HTTPD_USER).pw_uid
    os.unlink(path)                           # deleted
    d.foldersync()
    assert len(records(path)) == 1

    # a file the httpd user cannot write: reported once (warning), then once when it works
    os.chmod(path, 0o400)
    for _ in range(3):
        d.foldersync()
    os.chmod(path, 0o640)
    d.foldersync()
    d.close()
    warn = [x for x in error_log.new_lines() if "ZX01601" in x]
    assert len(warn) == 1, warn
    assert "account logger %s of %s cannot write to %s: Permission denied" % (lg["id"], acct, path) in warn[0]
    assert error_log.contains(r"ZX01602: account logger %s of .* writes to .* again" % lg["id"])
    assert len(records(path)) == 2


def test_concurrent_writers_do_not_interleave(instance, loggers, logdir):
    acct = new_account(instance)
    path = os.path.join(logdir, "conc.log")
    loggers(acct, "debug", path)
    time.sleep(RECHECK)
    errors = []

    def run(n):
        try:
            c = EASClient(instance.url, acct, PASSWORD, "devconc%d" % n, "TestDevice")
            for _ in range(10):
                r = c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0'
                           '</SyncKey></FolderSync>')
                assert r.status == 200
            c.close()
        except Exception as e:            # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    recs = records(path)
    assert len(recs) == 60
    for r, rq, rs in recs:
        assert r["cmd"] == "FolderSync" and r["device"].startswith("devconc")
        # each record whole: its request, then its response, complete
        assert rq[0] == '<FolderSync xmlns="FolderHierarchy">' and rq[-1] == "</FolderSync>"
        assert rs[0] == '<FolderSync xmlns="FolderHierarchy">' and rs[-1] == "</FolderSync>"


# ---- the CLI -------------------------------------------------------------------------------------------

def test_list_and_remove_all(instance, loggers, logdir):
    a, b = new_account(instance), new_account(instance)
    la = loggers(a, "debug", os.path.join(logdir, "a.log"))
    lb = loggers(b, "crit", os.path.join(logdir, "b.log"), "window_size", "1")
    mine = {x["id"]: x for x in list_loggers(instance) if x["account"] in (a, b)}
    assert mine[la["id"]]["level"] == "DEBUG" and mine[lb["id"]]["level"] == "CRIT"
    assert mine[lb["id"]]["window_size"] == 1
    human = zx(instance, "mobile", "getAccountLoggers").stdout.decode()
    assert re.search(r"^loggers$", human, re.M)
    assert re.search(r"^ +id +%s$" % la["id"], human, re.M)
    assert re.search(r"^ +description +Logging account %s using level debug, log file %s$"
                     % (re.escape(a), re.escape(os.path.join(logdir, "a.log"))), human, re.M)
    assert re.search(r"^ +remove command +zxsuite mobile doRemoveLogger %s$" % lb["id"], human,
                     re.M)
    # case-insensitive command names, as the documentation writes them
    p = zx(instance, "--json", "mobile", "doremovelogger", "all_loggers")
    assert json.loads(p.stdout)["response"]["removed"] >= 2
    assert list_loggers(instance) == []
    p = zx(instance, "mobile", "doRemoveLogger", "all_loggers")
    assert b"0 account loggers removed" in p.stdout
    # the audit trail has both actions
    rows = instance.psql("SELECT action, account FROM admin_audit WHERE account IN ('%s', '%s') "
                         "ORDER BY id" % (a, b)).split()
    assert rows == ["doAddAccountLogger|" + a, "doAddAccountLogger|" + b,
                    "doRemoveLogger|" + a, "doRemoveLogger|" + b]


def test_errors(instance, loggers, logdir):
    acct = new_account(instance)
    good = os.path.join(logdir, "good.log")

    def refused(*args):
        p = zx(instance, "--json", "mobile", *args, check=False)
        assert p.returncode != 0, p.stdout
        out = json.loads(p.stdout)
        assert out["ok"] is False
        assert out["error"] in p.stderr.decode()
        return out["error"]

    assert refused("doAddAccountLogger", "nobody@nowhere.test", "info", good) == \
        "no such account: nobody@nowhere.test"
    assert "invalid log level \"verbose\"" in refused("doAddAccountLogger", acct, "verbose", good)
    assert "invalid window_size \"0\"" in refused("doAddAccountLogger", acct, "info", good,
                                                  "window_size", "0")
    assert "invalid window_size \"x\"" in refused("doAddAccountLogger", acct, "info", good,
                                                  "window_size", "x")
    assert "unknown parameter \"size\"" in refused("doAddAccountLogger", acct, "info", good,
                                                   "size", "1")
    assert "requires more parameters" in refused("doAddAccountLogger", acct, "info")
    assert not os.path.exists(good)

    # files httpd could not write
    private = tempfile.mkdtemp(prefix="zx-acctlog-private-", dir=logdir)      # 0700 root
    try:
        target = os.path.join(private, "x.log")
        err = refused("doAddAccountLogger", acct, "info", target)
        assert err.startswith("log file %s is not writable by the httpd user www-data" % target)
        assert not os.path.exists(target)
    finally:
        shutil.rmtree(private)
    err = refused("doAddAccountLogger", acct, "info", os.path.join(logdir, "no", "dir.log"))
    assert err == "cannot open log file %s: No such file or directory" % os.path.join(
        logdir, "no", "dir.log")
    assert refused("doAddAccountLogger", acct, "info", logdir) == \
        "log file %s is not a regular file" % logdir
    os.symlink(os.path.join(logdir, "good.log"), os.path.join(logdir, "link.log"))
    assert "is a symbolic link" in refused("doAddAccountLogger", acct, "info",
                                           os.path.join(logdir, "link.log"))
    # an existing file root owns and httpd cannot write is refused, and left as it was
    rootfile = os.path.join(logdir, "root.log")
    with open(rootfile, "w") as f:
        f.write("keep\n")
    os.chmod(rootfile, 0o600)
    assert "not writable by the httpd user" in refused("doAddAccountLogger", acct, "info",
                                                       rootfile)
    assert os.stat(rootfile).st_uid == 0 and open(rootfile).read() == "keep\n"
    assert not [x for x in list_loggers(instance) if x["account"] == acct]

    # one logger per account and file
    lg = loggers(acct, "info", good)
    assert "account %s already has a logger writing to %s (id %s)" % (acct, good, lg["id"]) == \
        refused("doAddAccountLogger", acct, "debug", good)
    assert refused("doRemoveLogger", "999999999") == "no account logger with id 999999999"
    assert "invalid logger id \"abc\"" in refused("doRemoveLogger", "abc")
    assert [x["id"] for x in list_loggers(instance) if x["account"] == acct] == [lg["id"]]


# ---- hardening (issue 13, item 9) ---------------------------------------------------------------

def test_logger_files_only_in_the_logger_directory(instance, loggers, logdir):
    """As root, doAddAccountLogger used to create /etc/cron.d/x for www-data."""
    acct = new_account(instance)

    def refused(path):
        p = zx(instance, "--json", "mobile", "doAddAccountLogger", acct, "info", path, check=False)
        assert p.returncode != 0, p.stdout
        return json.loads(p.stdout)["error"]

    target = "/etc/cron.d/zx-acctlog-%s" % uuid.uuid4().hex[:8]
    assert refused(target) == (
        "log file %s is not in the account logger directory %s (ZxMobile_AccountLoggerDirectory; "
        "no . or .. parts)" % (target, instance.httpd_dir))
    assert not os.path.exists(target)
    assert "is not in the account logger directory" in refused(
        os.path.join(logdir, "..", "..", "..", "escape.log"))
    # a symbolic link on the way out of the directory is not followed
    outside = tempfile.mkdtemp(prefix="zx-acctlog-outside-")
    try:
        os.chmod(outside, 0o777)
        os.symlink(outside, os.path.join(logdir, "out"))
        assert "symbolic link" in refused(os.path.join(logdir, "out", "x.log"))
        assert os.listdir(outside) == []
        # a logger whose directory becomes a link afterwards writes nothing through it
        os.mkdir(os.path.join(logdir, "sub"))
        pw = pwd.getpwnam(HTTPD_USER)
        os.chown(os.path.join(logdir, "sub"), pw.pw_uid, pw.pw_gid)
        path = os.path.join(logdir, "sub", "s.log")
        lg = loggers(acct, "info", path)
        time.sleep(RECHECK)
        d = Device(instance, acct, protocol="14.1")
        d.foldersync()
        assert len(records(path)) == 1
        os.rename(os.path.join(logdir, "sub"), os.path.join(logdir, "sub.old"))
        os.symlink(outside, os.path.join(logdir, "sub"))
        d.foldersync()
        d.close()
        assert os.listdir(outside) == []
        assert instance_log_has(instance, "ZX01601: account logger %s of %s cannot write to %s: "
                                "a symbolic link is on its path" % (lg["id"], acct, path))
    finally:
        shutil.rmtree(outside, ignore_errors=True)
    # the setting itself: another directory refuses what the default allowed
    other = tempfile.mkdtemp(prefix="zx-acctlog-dir-")
    try:
        zx(instance, "config", "set", "global", "ZxMobile_AccountLoggerDirectory", other)
        assert "is not in the account logger directory %s" % other in refused(
            os.path.join(logdir, "y.log"))
    finally:
        zx(instance, "config", "set", "global", "ZxMobile_AccountLoggerDirectory",
           instance.httpd_dir)
        shutil.rmtree(other, ignore_errors=True)


def instance_log_has(instance, text):
    with open(instance.error_log, errors="replace") as f:
        return text in f.read()


def test_values_cannot_forge_records(instance, loggers, logdir):
    """Every value from the client stays inside its record: a query value with a newline (and
    the User-Agent) cannot start a line of its own."""
    acct = new_account(instance)
    path = os.path.join(logdir, "forge.log")
    loggers(acct, "trace", path)
    time.sleep(RECHECK)
    d = Device(instance, acct, protocol="14.1")
    d.c.user_agent = b"UA\xc2\x85NEL\tTAB"
    d.foldersync()
    forged = "%0A2026-01-01T00:00:00.000Z%20INFO%20account=forged"
    q = ("Cmd=FolderSync&User=%s&DeviceId=%s&DeviceType=TestDevice&CollectionId=%s"
         % (acct, d.device_id, forged))
    d.c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>',
             raw_query=q, extra_headers={"MS-ASProtocolVersion": "14.1"})
    d.close()
    with open(path, "rb") as f:
        data = f.read()
    lines = data.decode("utf-8").split("\n")
    assert lines[-1] == ""
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARN|ERROR) account=")
    heads = [l for l in lines[:-1] if not l.startswith(("> ", "< "))]
    assert len(heads) == 2 and all(stamp.match(l) for l in heads), heads
    assert not any(l.startswith("2026-01-01T00:00:00.000Z") for l in lines)
    assert b"\xc2\x85" not in data and b"\t" not in data.split(b"\n")[0]
