"""Device records and sync states (spec 4.2, 4.3, 12.1): the `zxsuite mobile` device commands
(getDeviceList, getAllDevices, getDeviceInfo, doRemoveDevice, doResetDevice, doResetAccount,
doSuspendDeviceSync, doResumeDeviceSync) with their human and --json output and their errors,
and what they do to a device over the real httpd at 12.1, 14.1 and 16.1: a suspended device is
refused with DeviceIsBlockedForThisUser (status 129, HTTP 403 below 14.0) and goes on with its
old SyncKey once resumed; a reset device starts over from key 0 and gets every item once; a
removed device is registered afresh.  Every action leaves an admin_audit row."""

import json
import threading
import time
import uuid

import pytest

from mailtools import account_id, mdm, sql  # noqa: F401
from syncutil import VERSIONS, Device, deliver, message, new_account, zx

DEVICE_BLOCKED = "129"      # [MS-ASCMD] 2.2.2 DeviceIsBlockedForThisUser


@pytest.fixture
def account(instance):
    return new_account(instance)


@pytest.fixture
def devices(device_factory, account):
    return lambda version="14.1", foldersync=True, **kw: device_factory(account, version,
                                                                         foldersync, **kw)


def zxj(instance, *args):
    """A zxsuite command with --json that must succeed: its response."""
    p = zx(instance, "--json", *args)
    out = json.loads(p.stdout)
    assert out["ok"] is True, out
    return out["response"]


def zx_fails(instance, *args):
    """A zxsuite command that must fail: (stderr text, parsed --json error)."""
    p = zx(instance, *args, check=False)
    assert p.returncode != 0, (args, p.stdout)
    assert p.stderr.strip(), args
    pj = zx(instance, "--json", *args, check=False)
    assert pj.returncode != 0
    out = json.loads(pj.stdout)
    assert out["ok"] is False and out["error"]
    return p.stderr.decode(), out["error"]


def device_row(instance, account, device_id, cols="id"):
    return sql(instance, "SELECT " + cols + " FROM devices WHERE account_id = %s "
                         "AND device_id = %s", account_id(instance, account), device_id)


def audit(instance, account):
    return sql(instance, "SELECT action, coalesce(device_id, ''), actor, details FROM admin_audit "
                         "WHERE account = %s ORDER BY id", account)


def fill_inbox(instance, account, n, tag="m"):
    return [deliver(instance, account, message("%s %d" % (tag, i))) for i in range(n)]


def adds(col):
    return [c.findtext("ServerId") for c in col.findall("Commands/Add")] if col is not None else []


def sync_everything(d, coll="Inbox"):
    """From key 0 to the end: the ServerIds of every Add, in order."""
    seen = d.sync_all(coll, window=3)
    assert all(op == "Add" for op, _ in seen), seen
    return [n.findtext("ServerId") for _, n in seen]


# ---- listing and showing ------------------------------------------------------------------------

DEVINFO = ("<Settings xmlns=\"Settings:\"><DeviceInformation><Set><Model>Pixel 9</Model>"
           "<IMEI>356938035643809</IMEI><FriendlyName>Work phone</FriendlyName>"
           "<OS>Android 15</OS><OSLanguage>en-US</OSLanguage><PhoneNumber>+15551234567"
           "</PhoneNumber><UserAgent>TestPhone/1.0</UserAgent>"
           "<EnableOutboundSMS>0</EnableOutboundSMS><MobileOperator>Contoso Mobile"
           "</MobileOperator></Set></DeviceInformation>"
           "<DevicePassword><Set><Password>recover-me-42</Password></Set></DevicePassword>"
           "</Settings>")


def test_list_and_info(instance, account, devices):
    deliver(instance, account, message("hello"))
    d = devices("14.1")
    r = d.c.post("Settings", DEVINFO)
    assert r.status == 200 and r.wbxml.findtext("Status") == "1"
    d.sync("Inbox", key="0")
    assert adds(d.sync("Inbox"))
    other = devices("12.1")

    # getDeviceList: both devices, short form
    resp = zxj(instance, "mobile", "getDeviceList", account)
    assert resp["account"] == account
    got = {x["deviceId"]: x for x in resp["devices"]}
    assert set(got) == {d.device_id, other.device_id}
    assert got[d.device_id]["deviceType"] == "TestDevice"
    assert got[d.device_id]["protocolVersion"] == "14.1"
    assert got[other.device_id]["protocolVersion"] == "12.1"
    assert got[d.device_id]["status"] == "ok" and got[d.device_id]["statusCode"] == 1
    assert got[d.device_id]["firstSeen"].endswith("Z")
    # the account name is case-insensitive
    assert len(zxj(instance, "mobile", "getdevicelist", account.upper())["devices"]) == 2

    # getDeviceInfo: everything the record holds
    info = zxj(instance, "mobile", "getDeviceInfo", account, d.device_id)
    assert info["accountName"] == account and info["deviceId"] == d.device_id
    assert info["userAgent"] == d.c.user_agent
    assert info["lastCommand"] in ("FolderSync", "Settings", "Sync")
    assert info["syncSuspended"] is False and info["wipe"]["status"] == "none"
    assert info["policyKey"] is None
    di = info["deviceInformation"]
    assert (di["model"], di["imei"], di["friendlyName"], di["os"], di["osLanguage"],
            di["phoneNumber"], di["userAgent"], di["mobileOperator"]) == (
        "Pixel 9", "356938035643809", "Work phone", "Android 15", "en-US", "+15551234567",
        "TestPhone/1.0", "Contoso Mobile")
    assert di["enableOutboundSMS"] is False
    assert info["hasRecoveryPassword"] is True and "recoveryPassword" not in info
    assert info["syncState"]["folderSyncKey"] == d.hier_key
    assert info["syncState"]["collections"] == 1
    assert "states" not in info["syncState"]

    # the DeviceId is found ignoring case when that is unambiguous
    assert zxj(instance, "mobile", "getDeviceInfo", account,
               d.device_id.upper())["deviceId"] == d.device_id

    # verbose: the recovery password and the state of each collection
    info = zxj(instance, "mobile", "getDeviceInfo", account, d.device_id, "verbose", "true")
    assert info["recoveryPassword"] == "recover-me-42"
    states = info["syncState"]["states"]
    assert [(s["collectionId"], s["folder"], s["folderType"], s["syncKey"]) for s in states] == [
        (d.folder("Inbox"), "Inbox", 2, d.keys[d.folder("Inbox")])]

    # getAllDevices: with the account; verbose gives the full records; domains filters
    resp = zxj(instance, "mobile", "getAllDevices")
    mine = [x for x in resp["devices"] if x["accountName"] == account]
    assert sorted(x["deviceId"] for x in mine) == sorted([d.device_id, other.device_id])
    assert resp["count"] == len(resp["devices"])
    assert "deviceInformation" not in mine[0]
    dom = account.split("@")[1]
    resp = zxj(instance, "mobile", "getAllDevices", "verbose", "true", "domains", dom.upper())
    assert sorted(x["deviceId"] for x in resp["devices"]) == sorted([d.device_id, other.device_id])
    full = {x["deviceId"]: x for x in resp["devices"]}[d.device_id]
    assert full["deviceInformation"]["model"] == "Pixel 9"
    assert zxj(instance, "mobile", "getAllDevices", "domains", "nosuch.test")["devices"] == []
    assert zxj(instance, "mobile", "getAllDevices", "all_servers", "true")["count"] >= 2

    # human output: the key/value layout
    out = zx(instance, "mobile", "getDeviceInfo", account, d.device_id).stdout.decode()
    assert d.device_id in out and "Pixel 9" in out and "deviceInformation" in out
    out = zx(instance, "mobile", "getDeviceList", account).stdout.decode()
    assert d.device_id in out and other.device_id in out


def test_account_without_devices(instance, account):
    assert zxj(instance, "mobile", "getDeviceList", account)["devices"] == []
    resp = zxj(instance, "mobile", "doResetAccount", account)
    assert resp["devices"] == []
    resp = zxj(instance, "mobile", "doResumeDeviceSync", account)
    assert resp["devices"] == []


# ---- errors -------------------------------------------------------------------------------------

def test_unknown_account(instance):
    nobody = "nobody-%s@nowhere.test" % uuid.uuid4().hex[:8]
    for args in (["getDeviceList", nobody], ["getDeviceInfo", nobody, "dev1"],
                 ["doRemoveDevice", nobody, "dev1"], ["doResetDevice", nobody],
                 ["doResetAccount", nobody], ["doSuspendDeviceSync", nobody, "dev1"],
                 ["doResumeDeviceSync", nobody]):
        err, jerr = zx_fails(instance, "mobile", *args)
        assert "no such account: " + nobody in err, (args, err)
        assert nobody in jerr
    assert audit(instance, nobody) == []


def test_unknown_device(instance, account, devices):
    d = devices()
    for args in (["getDeviceInfo", account, "nosuchdevice"],
                 ["doRemoveDevice", account, "nosuchdevice"],
                 ["doResetDevice", account, "device_id", "nosuchdevice"],
                 ["doSuspendDeviceSync", account, "nosuchdevice"],
                 ["doSuspendDeviceSync", account, "device_id", "nosuchdevice"],
                 ["doResumeDeviceSync", account, "device_id", "nosuchdevice"]):
        err, jerr = zx_fails(instance, "mobile", *args)
        assert "no device nosuchdevice for account " + account in err, (args, err)
        assert "nosuchdevice" in jerr
    # nothing was changed or recorded, the real device is untouched
    assert audit(instance, account) == []
    assert device_row(instance, account, d.device_id, "sync_suspended") == [["f"]]
    assert sql(instance, "SELECT count(*) FROM folder_states WHERE device_id = %s",
               device_row(instance, account, d.device_id)[0][0]) == [["1"]]


@pytest.mark.parametrize("args,message", [
    (["getDeviceList"], "requires more parameters"),
    (["getDeviceList", "a@b.test", "extra"], "requires fewer parameters"),
    (["getDeviceInfo", "a@b.test"], "requires more parameters"),
    (["doRemoveDevice", "a@b.test"], "requires more parameters"),
    (["doResetAccount"], "requires more parameters"),
    (["doResetDevice", "a@b.test", "dev1"], "unknown parameter \"dev1\""),
    (["doResetDevice", "a@b.test", "device", "dev1"], "unknown parameter \"device\""),
    (["doResetDevice", "a@b.test", "device_id"], "parameter \"device_id\" needs a value"),
    (["doSuspendDeviceSync"], "requires more parameters"),
    (["doResumeDeviceSync", "a@b.test", "dev1"], "unknown parameter \"dev1\""),
    (["getDeviceInfo", "a@b.test", "dev1", "verbose", "maybe"], "verbose must be true or false"),
    (["getDeviceInfo", "a@b.test", "dev1", "verbose"], "parameter \"verbose\" needs a value"),
    (["getAllDevices", "verbose"], "parameter \"verbose\" needs a value"),
    (["getAllDevices", "colour", "blue"], "unknown parameter \"colour\""),
])
def test_bad_syntax(instance, args, message):
    err, jerr = zx_fails(instance, "mobile", *args)
    assert message in err and message in jerr, err


# ---- suspend and resume -------------------------------------------------------------------------

def blocked(r, version, cmd):
    """The answer to a request of a suspended device."""
    if version == "12.1":
        return r.status == 403
    return r.status == 200 and r.wbxml.name == cmd and r.wbxml.findtext("Status") == DEVICE_BLOCKED


@pytest.mark.parametrize("version", VERSIONS)
def test_suspend_and_resume(instance, account, devices, version, error_log):
    fill_inbox(instance, account, 3)
    d = devices(version)
    bystander = devices(version)
    inbox = d.folder("Inbox")
    d.sync("Inbox", key="0")
    first = adds(d.sync("Inbox"))
    assert len(first) == 3
    key, hier_key = d.keys[inbox], d.hier_key

    resp = zxj(instance, "mobile", "doSuspendDeviceSync", account, d.device_id)
    assert resp["devices"] == [d.device_id]
    assert device_row(instance, account, d.device_id, "sync_suspended") == [["t"]]
    info = zxj(instance, "mobile", "getDeviceInfo", account, d.device_id)
    assert info["status"] == "suspended" and info["statusCode"] == 2 and info["syncSuspended"]

    # every request is refused, with the state untouched
    new_id = deliver(instance, account, message("while suspended"))
    sync_xml = ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
                '<CollectionId>%s</CollectionId></Collection></Collections></Sync>' % (key, inbox))
    r = d.c.post("Sync", sync_xml)
    assert blocked(r, version, "Sync"), r
    r = d.c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey>'
                               '</FolderSync>' % hier_key)
    assert blocked(r, version, "FolderSync"), r
    r = d.c.post("Settings", '<Settings xmlns="Settings:"><UserInformation><Get/>'
                             '</UserInformation></Settings>')
    assert blocked(r, version, "Settings"), r
    assert error_log.contains(r"ZX01200: device sync suspended")
    # the other device of the account goes on
    assert bystander.sync("Inbox", key="0").findtext("Status") == "1"
    assert len(adds(bystander.sync("Inbox"))) == 4
    # suspending again changes nothing
    resp = zxj(instance, "mobile", "doSuspendDeviceSync", account, "device_id", d.device_id)
    assert "0 changed" in resp["result"]

    resp = zxj(instance, "mobile", "doResumeDeviceSync", account, "device_id", d.device_id)
    assert resp["devices"] == [d.device_id] and "1 changed" in resp["result"]
    assert zxj(instance, "mobile", "getDeviceInfo", account, d.device_id)["status"] == "ok"
    # the old key still works, and only what is new comes: no resync
    r = d.c.post("Sync", sync_xml)
    assert r.status == 200, r
    col = r.wbxml.find("Collections/Collection")
    assert col.findtext("Status") == "1"
    assert adds(col) == [str(new_id)]
    doc = d.foldersync(hier_key)
    assert doc.findtext("Status") == "1"

    actions = [(a, dev) for a, dev, _, _ in audit(instance, account)]
    assert actions == [("doSuspendDeviceSync", d.device_id), ("doSuspendDeviceSync", d.device_id),
                       ("doResumeDeviceSync", d.device_id)]


def test_suspend_all_devices(instance, account, devices):
    a, b = devices("14.1"), devices("16.1")
    resp = zxj(instance, "mobile", "doSuspendDeviceSync", account.upper())
    assert sorted(resp["devices"]) == sorted([a.device_id, b.device_id])
    # audited under the account's name as stored
    assert [r[0] for r in audit(instance, account)] == ["doSuspendDeviceSync"]
    for d in (a, b):
        r = d.c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey>'
                                   '</FolderSync>')
        assert r.wbxml.findtext("Status") == DEVICE_BLOCKED
    # resume one, then the others with "all"
    zxj(instance, "mobile", "doResumeDeviceSync", account, "device_id", a.device_id)
    assert a.foldersync("0").findtext("Status") == "1"
    r = b.c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey>'
                               '</FolderSync>')
    assert r.wbxml.findtext("Status") == DEVICE_BLOCKED
    resp = zxj(instance, "mobile", "doResumeDeviceSync", account, "device_id", "all")
    assert "1 changed" in resp["result"]
    assert b.foldersync("0").findtext("Status") == "1"


def ping_xml(folder, heartbeat=120):
    return ('<Ping xmlns="Ping:"><HeartbeatInterval>%d</HeartbeatInterval><Folders><Folder>'
            '<Id>%s</Id><Class>Email</Class></Folder></Folders></Ping>' % (heartbeat, folder))


def waiting_ping(d, folder):
    """Start a Ping of device d in a thread; returns (thread, result dict)."""
    out = {}

    def run():
        t0 = time.monotonic()
        out["r"] = d.c.post("Ping", ping_xml(folder))
        out["secs"] = time.monotonic() - t0

    t = threading.Thread(target=run)
    t.start()
    return t, out


@pytest.mark.parametrize("action", ["suspend", "reset", "remove"])
def test_waiting_ping_wakes(instance, account, devices, action):
    """An admin action answers the device's waiting Ping at once: 129 for a suspension, 7
    (FolderSync needed) for a reset or a removal of the device record."""
    d = devices("14.1")
    inbox = d.folder("Inbox")
    d.sync("Inbox", key="0")
    d.sync("Inbox")
    t, out = waiting_ping(d, inbox)
    time.sleep(1.5)                 # the Ping is waiting
    assert t.is_alive()
    assert zxj(instance, "mobile", "getDeviceInfo", account, d.device_id)["lastHeartbeat"] == 120
    if action == "suspend":
        zxj(instance, "mobile", "doSuspendDeviceSync", account, d.device_id)
    elif action == "reset":
        zxj(instance, "mobile", "doResetDevice", account, "device_id", d.device_id)
    else:
        zxj(instance, "mobile", "doRemoveDevice", account, d.device_id)
    t.join(30)
    assert not t.is_alive()
    r = out["r"]
    assert r.status == 200 and r.wbxml.name == "Ping", r
    assert r.wbxml.findtext("Status") == (DEVICE_BLOCKED if action == "suspend" else "7")
    assert out["secs"] < 20
    if action == "suspend":
        # a new Ping is refused at once; resumed, it waits again as before
        r = d.c.post("Ping", ping_xml(inbox))
        assert r.wbxml.findtext("Status") == DEVICE_BLOCKED
        zxj(instance, "mobile", "doResumeDeviceSync", account)
        t, out = waiting_ping(d, inbox)
        time.sleep(1)
        new_id = deliver(instance, account, message("wake up"))
        t.join(30)
        assert out["r"].wbxml.findtext("Status") == "2"
        assert adds(d.sync("Inbox")) == [str(new_id)]
    else:
        # the cached Ping is gone with the states; the next Ping asks for a FolderSync
        r = d.c.post("Ping", ping_xml(inbox))
        assert r.wbxml.findtext("Status") == "7"


# ---- reset --------------------------------------------------------------------------------------

def state_counts(instance, row_id):
    return sql(instance, "SELECT (SELECT count(*) FROM sync_states WHERE device_id = %s), "
                         "(SELECT count(*) FROM folder_states WHERE device_id = %s), "
                         "(SELECT sync_cache IS NULL FROM devices WHERE id = %s)",
               row_id, row_id, row_id)[0]


@pytest.mark.parametrize("version", VERSIONS)
def test_reset_device_without_duplicates(instance, account, devices, version):
    ids = fill_inbox(instance, account, 7)
    d = devices(version)
    keep = devices(version)
    inbox = d.folder("Inbox")
    before = sync_everything(d)
    assert sorted(before) == sorted(str(i) for i in ids)
    sync_everything(keep)
    old_key, old_hier = d.keys[inbox], d.hier_key
    row = device_row(instance, account, d.device_id)[0][0]
    assert state_counts(instance, row) == ["1", "1", "f"]

    resp = zxj(instance, "mobile", "doResetDevice", account, "device_id", d.device_id)
    assert resp["devices"] == [d.device_id]
    # states, hierarchy state and the cached request are gone; the record and its settings stay
    assert state_counts(instance, row) == ["0", "0", "t"]
    assert device_row(instance, account, d.device_id) == [[row]]
    # the other device is untouched
    keep_row = device_row(instance, account, keep.device_id)[0][0]
    assert state_counts(instance, keep_row) == ["1", "1", "f"]

    # the cached request is gone: an empty Sync is status 13; the old keys are refused: Sync
    # status 3, FolderSync status 9
    r = d.c.post("Sync", None)
    assert r.status == 200 and r.wbxml.findtext("Status") == "13"
    col = d.sync("Inbox", key=old_key)
    assert col.findtext("Status") == "3"
    assert d.foldersync(old_hier).findtext("Status") == "9"
    # starting over: FolderSync 0 then Sync 0 give every folder and every item exactly once
    d.hier_key, d.keys, d.folders = "0", {}, {}
    doc = d.foldersync("0")
    assert doc.findtext("Status") == "1"
    assert d.folder("Inbox") == inbox
    after = sync_everything(d)
    assert len(after) == len(set(after)) == 7
    assert sorted(after) == sorted(before)
    # and nothing more comes afterwards
    assert d.sync("Inbox") is None or adds(d.sync("Inbox")) == []
    # new mail arrives once
    new_id = deliver(instance, account, message("after reset"))
    assert adds(d.sync("Inbox")) == [str(new_id)]

    assert [(a, dev) for a, dev, _, _ in audit(instance, account)] == [
        ("doResetDevice", d.device_id)]


def test_reset_all_and_account(instance, account, devices):
    fill_inbox(instance, account, 2)
    a, b = devices("14.1"), devices("16.1")
    for d in (a, b):
        sync_everything(d)
    # doResetDevice without device_id: every device of the account
    resp = zxj(instance, "mobile", "doResetDevice", account)
    assert sorted(resp["devices"]) == sorted([a.device_id, b.device_id])
    for d in (a, b):
        row = device_row(instance, account, d.device_id)[0][0]
        assert state_counts(instance, row) == ["0", "0", "t"]
        assert zxj(instance, "mobile", "getDeviceInfo", account,
                   d.device_id)["syncState"] == {"folderSyncKey": None, "collections": 0}
    for d in (a, b):
        d.hier_key, d.keys, d.folders = "0", {}, {}
        d.foldersync()
        assert len(sync_everything(d)) == 2
    resp = zxj(instance, "mobile", "doResetAccount", account)
    assert sorted(resp["devices"]) == sorted([a.device_id, b.device_id])
    for d in (a, b):
        row = device_row(instance, account, d.device_id)[0][0]
        assert state_counts(instance, row) == ["0", "0", "t"]
    rows = audit(instance, account)
    assert [r[0] for r in rows] == ["doResetDevice", "doResetAccount"]
    assert rows[0][1] == "" and rows[1][1] == ""
    assert a.device_id in rows[1][3] and b.device_id in rows[1][3]


# ---- remove -------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["12.1", "16.1"])
def test_remove_device(instance, account, devices, version):
    fill_inbox(instance, account, 2)
    d = devices(version)
    keep = devices(version)
    sync_everything(d)
    old_key = d.keys[d.folder("Inbox")]
    row = device_row(instance, account, d.device_id)[0][0]

    resp = zxj(instance, "mobile", "doRemoveDevice", account, d.device_id)
    assert resp["devices"] == [d.device_id]
    assert device_row(instance, account, d.device_id) == []
    assert sql(instance, "SELECT (SELECT count(*) FROM sync_states WHERE device_id = %s), "
                         "(SELECT count(*) FROM folder_states WHERE device_id = %s)",
               row, row) == [["0", "0"]]
    ids = [x["deviceId"] for x in zxj(instance, "mobile", "getDeviceList", account)["devices"]]
    assert ids == [keep.device_id]
    err, _ = zx_fails(instance, "mobile", "getDeviceInfo", account, d.device_id)
    assert "no device" in err
    # removing it again: unknown device
    zx_fails(instance, "mobile", "doRemoveDevice", account, d.device_id)

    # its next request registers it afresh, with no state
    col = d.sync("Inbox", key=old_key)
    assert col.findtext("Status") == "3"
    new_row = device_row(instance, account, d.device_id)
    assert new_row and new_row[0][0] != row
    info = zxj(instance, "mobile", "getDeviceInfo", account, d.device_id)
    assert info["syncState"] == {"folderSyncKey": None, "collections": 0}
    assert len(sync_everything(d)) == 2

    rows = audit(instance, account)
    assert [(r[0], r[1]) for r in rows] == [("doRemoveDevice", d.device_id)]
    assert rows[0][2]          # the actor


def test_purge_mobile_state(instance, account, device_factory):
    """doPurgeMobileState (spec 4.2, Carbonio's retention-period): devices not seen for that many
    days go with their states, the others stay; dry_run only lists; account narrows it."""
    other = new_account(instance)
    old, fresh = device_factory(account, "14.1"), device_factory(account, "14.1")
    other_old = device_factory(other, "14.1")
    for d in (old, fresh, other_old):
        sync_everything(d)
    row = device_row(instance, account, old.device_id)[0][0]
    for acct, d, days in ((account, old, 100), (account, fresh, 10), (other, other_old, 200)):
        sql(instance, "UPDATE devices SET last_seen = now() - make_interval(days => %s) "
                      "WHERE id = %s", days, device_row(instance, acct, d.device_id)[0][0])

    # the dry run lists the two older than 90 days (the default), longest unseen first
    resp = zxj(instance, "mobile", "doPurgeMobileState", "dry_run", "true")
    mine = [(x["account"], x["device_id"]) for x in resp["devices"]
            if x["account"] in (account, other)]
    assert mine == [(other, other_old.device_id), (account, old.device_id)], resp
    assert resp["dryRun"] is True and resp["retentionDays"] == 90
    assert device_row(instance, account, old.device_id) != []

    # for one account only, with its own period
    resp = zxj(instance, "mobile", "doPurgeMobileState", "retention-period", "50",
               "account", account)
    assert [(x["account"], x["device_id"]) for x in resp["devices"]] == [
        (account, old.device_id)], resp
    assert device_row(instance, account, old.device_id) == []
    assert sql(instance, "SELECT (SELECT count(*) FROM sync_states WHERE device_id = %s), "
                         "(SELECT count(*) FROM folder_states WHERE device_id = %s)",
               row, row) == [["0", "0"]]
    assert device_row(instance, account, fresh.device_id) != []
    assert device_row(instance, other, other_old.device_id) != []
    rows = audit(instance, account)
    assert [(r[0], r[1]) for r in rows] == [("doPurgeMobileState", old.device_id)]
    # the purged device starts over at its next request
    assert old.sync("Inbox").findtext("Status") == "3"

    # bad values
    for args in (("retention-period", "0"), ("retention-period", "x"), ("dry_run", "maybe"),
                 ("days", "3")):
        zx_fails(instance, "mobile", "doPurgeMobileState", *args)
    zx_fails(instance, "mobile", "doPurgeMobileState", "account", "nobody@nowhere.test")


def test_periodic_purge(instance, account, device_factory):
    """ZxMobile_PurgeRetentionDays: the server removes the devices not seen for that many days
    on its own, once a day on one node (maint_runs), and doPurgeMobileState takes it as its
    default retention-period."""
    old, fresh = device_factory(account, "14.1"), device_factory(account, "14.1")
    for d in (old, fresh):
        sync_everything(d)
    sql(instance, "UPDATE devices SET last_seen = now() - interval '40 days' WHERE id = %s",
        device_row(instance, account, old.device_id)[0][0])
    sql(instance, "UPDATE maint_runs SET last_run = now() - interval '2 days' "
                  "WHERE job = 'purge_mobile_state'")
    zx(instance, "config", "set", "global", "ZxMobile_PurgeRetentionDays", "30")
    try:
        resp = zxj(instance, "mobile", "doPurgeMobileState", "dry_run", "true")
        assert resp["retentionDays"] == 30
        # the children's periodic jobs run every 10 s
        end = time.time() + 40
        while time.time() < end and device_row(instance, account, old.device_id):
            time.sleep(0.5)
        assert device_row(instance, account, old.device_id) == []
        assert device_row(instance, account, fresh.device_id) != []
        ran = sql(instance, "SELECT last_run > now() - interval '1 minute' FROM maint_runs "
                            "WHERE job = 'purge_mobile_state'")
        assert ran == [["t"]]
        rows = audit(instance, account)
        assert [(r[0], r[1]) for r in rows] == [("doPurgeMobileState", old.device_id)]
        assert "ZxMobile_PurgeRetentionDays" in rows[0][2]
        # done for today: a device that ages now waits for tomorrow's run
        sql(instance, "UPDATE devices SET last_seen = now() - interval '40 days' WHERE id = %s",
            device_row(instance, account, fresh.device_id)[0][0])
        time.sleep(12)
        assert device_row(instance, account, fresh.device_id) != []
    finally:
        zx(instance, "config", "unset", "global", "ZxMobile_PurgeRetentionDays")


# ---- status -------------------------------------------------------------------------------------

def test_status_values(instance, account, devices, mdm):
    """status: needs provisioning (MDM on, no valid policy key), ok (MDM off for the account),
    suspended, wipe requested, wipe done - the numbering of spec 4.2."""
    d = devices("14.1", foldersync=False)
    d.c.post("Settings", DEVINFO)         # registers the device (not provisioned)

    def status():
        info = zxj(instance, "mobile", "getDeviceInfo", account, d.device_id)
        return info["status"], info["statusCode"], info["mdm"]

    assert status() == ("needs provisioning", 0, True)
    zx(instance, "prov", "ma", account, "zimbraFeatureMobilePolicyEnabled", "FALSE")
    assert status() == ("ok", 1, False)
    zxj(instance, "mobile", "doSuspendDeviceSync", account, d.device_id)
    assert status() == ("suspended", 2, False)
    row = device_row(instance, account, d.device_id)[0][0]
    sql(instance, "UPDATE devices SET wipe_status = 1, wipe_requested_at = now(), "
                  "wipe_requested_by = 'tester' WHERE id = %s", row)
    assert status() == ("wipe requested", 3, False)
    info = zxj(instance, "mobile", "getDeviceInfo", account, d.device_id)
    assert info["wipe"]["status"] == "requested" and info["wipe"]["requestedBy"] == "tester"
    sql(instance, "UPDATE devices SET wipe_status = 2, wipe_done_at = now() WHERE id = %s", row)
    assert status() == ("wipe done", 4, False)
    assert zxj(instance, "mobile", "getDeviceList", account)["devices"][0]["status"] == "wipe done"
