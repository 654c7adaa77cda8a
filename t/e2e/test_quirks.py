"""Client quirks seen in the field (issue 18; ../shared/spec/field-notes.md), each with the
client that does it:

- Gmail for Android sends FolderSync with SyncKey 0 on pull-to-refresh;
- Outlook for iOS/Android connects from Microsoft's cloud: many accounts behind one address,
  DeviceType `Outlook`, user agent `Outlook-iOS-Android/1.0`;
- clients (Gmail among them) that send a Sync with every collection listed and nothing to do,
  then an empty Sync body reusing that request.

(iOS's Find at 14.0 is in test_search.py; Android's SendMail with recipients only in the
headers in test_sendmail.py; the loop detection in test_loops.py.)"""

import json
import time
import uuid

import pytest

from easclient import EASClient
from syncutil import PASSWORD, VERSIONS, deliver, message, new_account, ops, zx


@pytest.fixture
def account(instance):
    return new_account(instance)


@pytest.mark.parametrize("version", VERSIONS)
def test_gmail_foldersync_zero_keeps_the_mail(instance, account, device_factory, version):
    """Gmail: FolderSync 0 on pull-to-refresh.  The folders come back with the same ServerIds
    and every collection's SyncKey stays valid, as with Exchange: nothing vanishes, nothing is
    downloaded again, and new mail arrives as one Add."""
    ids = [deliver(instance, account, message("kept %d" % i)) for i in range(5)]
    d = device_factory(account, version)
    before = dict(d.folders)
    got = [n.findtext("ServerId") for op, n in d.sync_all("Inbox") if op == "Add"]
    assert sorted(got) == sorted(ids)
    inbox_key = d.keys[d.folder("Inbox")]

    fs = d.foldersync(key="0")                      # pull-to-refresh
    assert fs.findtext("Status") == "1"
    assert {a.findtext("DisplayName"): a.findtext("ServerId")
            for a in fs.findall("Changes/Add")} == before
    # the hierarchy's new key goes on as usual
    assert d.foldersync().findtext("Changes/Count") == "0"

    # the Inbox key the device holds still stands: no Status 3, no download again
    col = d.sync("Inbox", key=inbox_key)
    assert col is None or (col.findtext("Status") == "1" and ops(col) == [])
    new = deliver(instance, account, message("after the refresh"))
    col = d.sync("Inbox")
    assert ops(col) == [("Add", new)]


def test_outlook_cloud_many_accounts_one_address(instance, device_factory, error_log):
    """Outlook for iOS/Android: every user of a tenant reaches the server from a few Microsoft
    addresses, DeviceType Outlook, one user agent.  The anti-DoS filter counts per (account,
    DeviceId), not per address: twelve users behind 127.0.0.1 are served side by side, one
    that floods is jailed alone, and the log names its account and device."""
    accounts = [new_account(instance) for _ in range(12)]
    for attr, value in (("mobileAntiDosServiceMaxRequests", "6"),
                        ("mobileAntiDosServiceTimeWindow", "60000"),
                        ("mobileAntiDosServiceJailDuration", "60000"),
                        ("mobileAntiDosServiceEnabled", "TRUE")):
        zx(instance, "config", "set", "global", attr, value)
    time.sleep(2.5)                     # the children re-read the settings every 2 s
    clients = []
    try:
        for a in accounts:
            c = EASClient(instance.url, a, PASSWORD, "OutlookService" + uuid.uuid4().hex[:16],
                          "Outlook", protocol="16.1", user_agent="Outlook-iOS-Android/1.0")
            clients.append(c)
        # five requests each (OPTIONS counts too), interleaved: nobody is over six
        for _ in range(5):
            for c in clients:
                r = c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0'
                                         '</SyncKey></FolderSync>')
                assert r.status == 200, (c.user, r)
        # the first user floods: its seventh request is refused, nobody else's
        flood = clients[0]
        codes = [flood.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0'
                                          '</SyncKey></FolderSync>').status for _ in range(2)]
        assert codes == [200, 503], codes
        for c in clients[1:]:
            r = c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0'
                                     '</SyncKey></FolderSync>')
            assert r.status == 200, (c.user, r)
        assert error_log.contains(r"ZX01507: anti-DoS filter: %s device %s jailed"
                                  % (flood.user, flood.device_id))
        # one device record per account, as each client named itself
        for c in clients:
            out = json.loads(zx(instance, "--json", "mobile", "getDeviceList", c.user).stdout)
            devs = out["response"]
            devs = devs.get("devices", devs) if isinstance(devs, dict) else devs
            assert [(x["deviceId"], x["deviceType"], x["userAgent"]) for x in devs] == \
                [(c.device_id, "Outlook", "Outlook-iOS-Android/1.0")], out
    finally:
        for c in clients:
            c.close()
        zx(instance, "mobile", "doRestartService", "anti-dos")      # no jail left behind
        zx(instance, "config", "set", "global", "mobileAntiDosServiceEnabled", "FALSE")
        for attr in ("mobileAntiDosServiceMaxRequests", "mobileAntiDosServiceTimeWindow",
                     "mobileAntiDosServiceJailDuration", "mobileAntiDosServiceEnabled"):
            zx(instance, "config", "unset", "global", attr)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_collection_listed_with_nothing_to_do(instance, account, device_factory,
                                                    version):
    """A client that lists every folder in each Sync, with nothing to do, gets the empty
    response (12.1+: HTTP 200 without a body); the same request sent as an empty body (the
    partial Sync of [MS-ASCMD] 2.2.1.21.1) too; a change in one folder then answers for that
    folder only."""
    d = device_factory(account, version)
    names = ["Inbox", "Drafts", "Sent Items", "Deleted Items", "Calendar", "Contacts", "Tasks"]
    if version != "12.1":
        names.append("Notes")
    for n in names:
        d.sync_all(n)

    def all_collections():
        x = '<Sync xmlns="AirSync:"><Collections>'
        for n in names:
            coll = d.folder(n)
            x += ("<Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>"
                  "</Collection>" % (d.keys[coll], coll))
        return x + "</Collections></Sync>"
    for _ in range(2):
        r = d.post_sync(all_collections())
        assert r.status == 200 and r.body == b"", r
    r = d.post_sync(None)                           # the empty request: the same collections
    assert r.status == 200 and r.body == b"", r
    new = deliver(instance, account, message("one change"))
    r = d.post_sync(None)
    cols = {c.findtext("CollectionId"): c for c in r.wbxml.findall("Collections/Collection")}
    assert ops(cols.pop(d.folder("Inbox"))) == [("Add", new)]
    assert all(c.findtext("Status") == "1" and ops(c) == [] for c in cols.values()), cols
