"""ABQ - Allow/Block/Quarantine (spec 11): the modes with device and device/account entries
and rules (order, domain), the dummy mailbox (FolderSync = Inbox only, Sync = the notice),
custom messages in two locales, the sync state reset on a status change, the administrators'
notification mail, the import, the service switches and the CLI's errors.

abqMode is set on the tests' own accounts (or COS); what is global (rules, the notification
settings, the service state, the global messages) is restored by fixture finalizers."""

import json
import os
import shutil
import tempfile
import threading
import time
import uuid

import pytest

import syncutil
import zxinstance
from mailtools import FAKE_SENDMAIL, install_sendmail, uninstall_sendmail
from syncutil import Device, deliver, message

PASSWORD = syncutil.PASSWORD
NOTICE_Q = "Your device is waiting for approval"
NOTICE_B = "Your device is blocked"
HTML = '<Options><BodyPreference xmlns="AirSyncBase:"><Type>2</Type></BodyPreference></Options>'


def zx(instance, *args, check=True, data=None):
    return syncutil.zx(instance, *args, check=check, data=data)


def zxj(instance, *args):
    p = zx(instance, "--json", *args)
    out = json.loads(p.stdout)
    assert out["ok"] is True, out
    return out["response"]


def zx_fail(instance, *args):
    """A zxsuite command that must fail: returns its error message (stderr)."""
    p = zx(instance, "--json", *args, check=False)
    assert p.returncode != 0, (args, p.stdout)
    out = json.loads(p.stdout)
    assert out["ok"] is False
    return out["error"]


def sql(instance, query):
    return [line.split("|") for line in instance.psql(query).splitlines() if line != ""]


def new_domain(instance):
    dom = "abq%s.test" % uuid.uuid4().hex[:10]
    zx(instance, "prov", "createDomain", dom)
    return dom


def new_account(instance, domain=None, local="user", **attrs):
    """A fresh account with mobile sync on; attrs as zmprov attributes (abqMode=..., ...)."""
    domain = domain or new_domain(instance)
    name = "%s@%s" % (local, domain)
    args = ["prov", "createAccount", name, PASSWORD, "zimbraFeatureMobileSyncEnabled", "TRUE"]
    for k, v in attrs.items():
        args += [k, v]
    zx(instance, *args)
    return name


def dev_id(prefix="abq"):
    return prefix + uuid.uuid4().hex[:12]


def device(instance, account, device_id=None, protocol="14.1"):
    return Device(instance, account, protocol=protocol, device_id=device_id or dev_id())


def folder_adds(doc):
    return [(a.findtext("DisplayName"), a.findtext("Type"), a.findtext("ServerId"))
            for a in doc.findall("Changes/Add")]


def inbox_id(instance, account):
    local, dom = account.split("@")
    return sql(instance, "SELECT f.id FROM folders f JOIN accounts a ON a.id = f.account_id "
                         "JOIN domains d ON d.id = a.domain_id WHERE a.local_part = '%s' AND "
                         "d.name = '%s' AND f.type = 2 AND f.system" % (local, dom))[0][0]


def sync_inbox(d, options=syncutil.PLAIN):
    """From key 0: the (op, ServerId, Subject) of everything the Inbox gives."""
    inbox = d.folders["Inbox"]
    col = d.sync(inbox, key="0", options=options)
    assert col.findtext("Status") == "1", col
    out = []
    for _ in range(20):
        col = d.sync(inbox, options=options)
        if col is None:
            break
        assert col.findtext("Status") == "1", col
        out += [(c.name, c.findtext("ServerId"), c.findtext("ApplicationData/Subject"))
                for c in col.findall("Commands/*")]
        if col.find("MoreAvailable") is None:
            break
    return out


def assert_dummy(instance, d, subject, account):
    """FolderSync from 0 shows only the Inbox (the real Inbox's id); its Sync brings exactly
    the notice."""
    d.folders = {}
    doc = d.foldersync("0")
    assert doc.findtext("Status") == "1", doc
    assert folder_adds(doc) == [("Inbox", "2", inbox_id(instance, account))]
    assert doc.findtext("Changes/Count") == "1"
    got = sync_inbox(d)
    assert [(op, s) for op, _, s in got] == [("Add", subject)], got
    return got[0][1]


def assert_real(d, n_mails=None):
    d.folders = {}
    doc = d.foldersync("0")
    assert doc.findtext("Status") == "1", doc
    names = [n for n, _, _ in folder_adds(doc)]
    assert "Inbox" in names and "Sent Items" in names and "Calendar" in names, names
    if n_mails is not None:
        got = sync_inbox(d)
        assert all(op == "Add" for op, _, _ in got)
        assert len(got) == n_mails, got
        assert not any(sid.startswith("abq-") for _, sid, _ in got)
        return got


def entries(instance, status=None):
    args = ["mobile", "ABQ", "list"] + (["status", status] if status else [])
    return zxj(instance, *args)["devices"]


def entry(instance, device_id, account=None):
    for e in entries(instance):
        if e["device_id"].lower() == device_id.lower() and e.get("account") == account:
            return e
    return None


def served(instance, device_id):
    rows = sql(instance, "SELECT COALESCE(abq_status, '-') FROM devices WHERE device_id = '%s' "
                         "ORDER BY id" % device_id)
    return [r[0] for r in rows]


# ---- fixtures for global state ---------------------------------------------------------------

def global_value(instance, attr):
    r = zxj(instance, "config", "get", "global", attr)
    return r


@pytest.fixture
def restore_global(instance):
    """Remember global attributes and put them back afterwards (set or unset)."""
    saved = {}

    def remember(*attrs):
        for a in attrs:
            rows = sql(instance, "SELECT value FROM config_values WHERE level = 'global' AND "
                                 "name = lower('%s')" % a)
            saved.setdefault(a, rows[0][0] if rows else None)
    yield remember
    for a, v in saved.items():
        if v is None:
            zx(instance, "config", "unset", "global", a, check=False)
        else:
            zx(instance, "config", "set", "global", a, v)


@pytest.fixture
def rules(instance):
    """Rules made by a test, deleted afterwards (rules are global)."""
    made = []

    def add(regex, status, order, domain=None):
        args = ["mobile", "ABQ", "setRule", regex, status, str(order)]
        if domain:
            args += ["domain", domain]
        zxj(instance, *args)
        made.append((regex, domain))
    yield add
    for regex, domain in made:
        args = ["mobile", "ABQ", "deleteRule", regex] + (["domain", domain] if domain else [])
        zx(instance, *args, check=False)


@pytest.fixture
def services(instance):
    """doStart/doStopService of abq, restored to running afterwards."""
    yield
    st = zxj(instance, "mobile", "getServices")["services"]["abq"]
    if not st["running"] and st["could_start"]:
        zx(instance, "mobile", "doStartService", "abq")


# ---- modes -----------------------------------------------------------------------------------

def test_permissive_allows_unknown_devices(instance):
    acct = new_account(instance)
    deliver(instance, acct, message("hello"))
    d = device(instance, acct)
    assert_real(d, n_mails=1)
    assert entry(instance, d.device_id, acct) is None
    assert served(instance, d.device_id) == ["-"]


@pytest.mark.parametrize("protocol", ["12.1", "14.1", "16.1"])
def test_interactive_quarantines_and_allow_moves_to_the_real_mailbox(instance, protocol):
    acct = new_account(instance, abqMode="Interactive")
    deliver(instance, acct, message("first real mail"))
    deliver(instance, acct, message("second real mail"))
    d = device(instance, acct, protocol=protocol)
    sid = assert_dummy(instance, d, NOTICE_Q, acct)
    assert sid == "abq-quarantined"
    # the mode's decision is a device/account entry, listed as Quarantined
    e = entry(instance, d.device_id, acct)
    assert e and e["status"] == "Quarantined" and e["source"] == "interactive", e
    assert any(x["device_id"] == d.device_id for x in entries(instance, "Quarantined"))
    assert not any(x["device_id"] == d.device_id for x in entries(instance, "Allowed"))
    assert served(instance, d.device_id) == ["Q"]
    # nothing else is served: ItemOperations refused (129 / 403), SendMail 120 / 403
    r = d.c.post("ItemOperations", '<ItemOperations xmlns="ItemOperations:"><EmptyFolderContents>'
                 '<CollectionId xmlns="AirSync:">%s</CollectionId></EmptyFolderContents>'
                 '</ItemOperations>' % d.folders["Inbox"])
    if protocol == "12.1":
        assert r.status == 403
    else:
        assert r.status == 200 and r.wbxml.findtext("Status") == "129"
    # the real mail is untouched
    assert len(sql(instance, "SELECT 1 FROM items i JOIN folders f ON f.id = i.folder_id "
                             "WHERE f.id = %s AND NOT i.deleted" % d.folders["Inbox"])) == 2

    # the administrator allows it: the next Sync is told to re-sync the folders, the old
    # hierarchy key is gone, and the real mailbox comes from key 0 without the notice
    zxj(instance, "mobile", "ABQ", "allow", d.device_id, "account", acct)
    r = d.c.post("Sync", '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
                 '<CollectionId>%s</CollectionId></Collection></Collections></Sync>'
                 % (d.keys[d.folders["Inbox"]], d.folders["Inbox"]))
    assert r.status == 200 and r.wbxml.findtext("Status") == "12", r.wbxml
    assert d.foldersync().findtext("Status") == "9"
    got = assert_real(d, n_mails=2)
    assert sorted(s for _, _, s in got) == ["first real mail", "second real mail"]
    assert served(instance, d.device_id) == ["A"]
    # and the next request is an ordinary one: nothing reset again
    col = d.sync(d.folders["Inbox"])
    assert col is None or col.findtext("Status") == "1"


def test_interactive_mode_from_the_cos(instance):
    cos = "abqcos%s" % uuid.uuid4().hex[:8]
    zx(instance, "prov", "createCos", cos, "abqMode", "Interactive")
    acct = new_account(instance, zimbraCOSId=cos)
    d = device(instance, acct)
    assert_dummy(instance, d, NOTICE_Q, acct)
    # the account's own value wins over the COS
    acct2 = new_account(instance, zimbraCOSId=cos, abqMode="Permissive")
    assert_real(device(instance, acct2))


def test_strict_blocks_and_device_wide_allow(instance):
    acct = new_account(instance, abqMode="Strict")
    deliver(instance, acct, message("real"))
    d = device(instance, acct)
    sid = assert_dummy(instance, d, NOTICE_B, acct)
    assert sid == "abq-blocked"
    e = entry(instance, d.device_id, acct)
    assert e["status"] == "Blocked" and e["source"] == "strict"
    r = d.c.post("SendMail", '<SendMail xmlns="ComposeMail:"><ClientId>c1</ClientId><SaveInSentItems/>'
                 '<Mime>From: %s\r\nTo: x@example.com\r\nSubject: s\r\n\r\nbody</Mime></SendMail>'
                 % acct)
    assert r.status == 200 and r.wbxml.findtext("Status") == "120"
    # a device-wide allow replaces what the mode decided for the account
    out = zxj(instance, "mobile", "ABQ", "allow", d.device_id)
    assert out["changed"] is True
    assert entry(instance, d.device_id, acct) is None
    assert entry(instance, d.device_id)["status"] == "Allowed"
    assert_real(d, n_mails=1)


def test_device_entry_and_device_account_entry(instance):
    dom = new_domain(instance)
    a = new_account(instance, dom, "alice")
    b = new_account(instance, dom, "bob")
    shared = dev_id("shared")
    zxj(instance, "mobile", "ABQ", "block", shared)           # every account
    da, db = device(instance, a, shared), device(instance, b, shared)
    assert_dummy(instance, da, NOTICE_B, a)
    assert_dummy(instance, db, NOTICE_B, b)
    # the device/account entry wins for that account only (written device_id/account here)
    zxj(instance, "mobile", "ABQ", "allow", "%s/%s" % (shared, a))
    assert_real(da)
    assert_dummy(instance, db, NOTICE_B, b)
    # Quarantined for bob through set; delete of the pair entry gives the device entry back
    zxj(instance, "mobile", "ABQ", "set", shared, "quarantined", "account", b)
    assert_dummy(instance, db, NOTICE_Q, b)
    zxj(instance, "mobile", "ABQ", "delete", shared, "account", b)
    assert_dummy(instance, db, NOTICE_B, b)
    # delete without account: every entry of the device; Permissive then allows
    zxj(instance, "mobile", "ABQ", "delete", shared)
    assert entry(instance, shared) is None and entry(instance, shared, a) is None
    assert_real(db)


@pytest.mark.parametrize("mode", ["Permissive", "Interactive", "Strict", "Disabled"])
def test_each_mode_with_each_kind_of_entry_and_rule(instance, rules, mode):
    """Entries (device, device/account) and rules (domain, global) beat the mode; the mode
    decides for the rest; Disabled ignores all of them."""
    tag = "m" + uuid.uuid4().hex[:8]
    dom = new_domain(instance)
    acct = new_account(instance, dom, abqMode=mode)
    ids = {k: tag + k for k in ("dallow", "pallow", "dblock", "pquar", "rok", "rq", "unknown")}
    zxj(instance, "mobile", "ABQ", "allow", ids["dallow"])
    zxj(instance, "mobile", "ABQ", "allow", ids["pallow"], "account", acct)
    zxj(instance, "mobile", "ABQ", "block", ids["dblock"])
    zxj(instance, "mobile", "ABQ", "set", ids["pquar"], "Quarantined", "account", acct)
    rules(tag + "rok.*", "Allowed", 1, dom)
    rules(tag + "r.*", "Quarantined", 2)
    held = {"Permissive": None, "Interactive": NOTICE_Q, "Strict": NOTICE_B, "Disabled": None}
    want = {"dallow": None, "pallow": None, "dblock": NOTICE_B, "pquar": NOTICE_Q,
            "rok": None, "rq": NOTICE_Q, "unknown": held[mode]}
    if mode == "Disabled":
        want = dict.fromkeys(want)
    for k, notice in want.items():
        d = device(instance, acct, ids[k])
        if notice:
            assert_dummy(instance, d, notice, acct)
        else:
            assert_real(d)
        d.close()
    # only the mode's own decisions became entries
    made = entry(instance, ids["unknown"], acct)
    if mode in ("Interactive", "Strict"):
        assert made["source"] == mode.lower()
    else:
        assert made is None
    assert entry(instance, ids["rq"], acct) is None


def test_device_ids_compare_case_insensitively(instance):
    acct = new_account(instance)
    d = device(instance, acct, dev_id("MixedCase"))
    zxj(instance, "mobile", "ABQ", "block", d.device_id.lower())
    assert_dummy(instance, d, NOTICE_B, acct)
    zxj(instance, "mobile", "ABQ", "delete", d.device_id.upper())
    assert_real(d)


# ---- rules -----------------------------------------------------------------------------------

def test_rules_order_and_domain(instance, rules):
    tag = "r" + uuid.uuid4().hex[:8]
    dom, other = new_domain(instance), new_domain(instance)
    a = new_account(instance, dom)
    b = new_account(instance, other)
    rules(tag + "ok.*", "Allowed", 10, dom)
    rules(tag + ".*", "Blocked", 20)
    rules(tag + "q.*", "Quarantined", 30)
    listed = zxj(instance, "mobile", "ABQ", "listRules")["rules"]
    mine = [r for r in listed if r["regex"].startswith(tag)]
    assert [(r["regex"], r["status"], r["order"], r.get("domain")) for r in mine] == [
        (tag + "ok.*", "Allowed", 10, dom), (tag + ".*", "Blocked", 20, None),
        (tag + "q.*", "Quarantined", 30, None)]
    only = zxj(instance, "mobile", "ABQ", "listRules", "domain", dom)["rules"]
    assert [r["regex"] for r in only] == [tag + "ok.*"]
    # order 10 (in dom) before 20
    assert_real(device(instance, a, tag + "ok1"))
    # the domain rule does not apply to another domain: the global rule 20 blocks
    assert_dummy(instance, device(instance, b, tag + "ok2"), NOTICE_B, b)
    # rule 20 comes before rule 30
    assert_dummy(instance, device(instance, a, tag + "q1"), NOTICE_B, a)
    # a rule does not become an entry
    assert entry(instance, tag + "q1", a) is None
    # an explicit entry beats a rule
    zxj(instance, "mobile", "ABQ", "allow", tag + "q1", "account", a)
    assert_real(device(instance, a, tag + "q1"))
    # changing a rule's order (setRule again) and deleting one take effect at once
    rules(tag + "q.*", "Quarantined", 5)
    assert_dummy(instance, device(instance, b, tag + "q2"), NOTICE_Q, b)
    zxj(instance, "mobile", "ABQ", "deleteRule", tag + ".*")
    assert_real(device(instance, b, tag + "x1"))
    assert "no rule" in zx_fail(instance, "mobile", "ABQ", "deleteRule", tag + ".*")
    assert "no rule" in zx_fail(instance, "mobile", "ABQ", "deleteRule", tag + "ok.*")


def test_rule_case_insensitive_flag(instance, rules):
    tag = "ci" + uuid.uuid4().hex[:8]
    acct = new_account(instance)
    rules("(?i)" + tag.upper() + ".*", "Blocked", 1)
    assert_dummy(instance, device(instance, acct, tag + "x"), NOTICE_B, acct)


# ---- status changes --------------------------------------------------------------------------

def test_status_change_resets_state_without_duplicates(instance):
    acct = new_account(instance, abqMode="Interactive")
    d = device(instance, acct)
    assert_dummy(instance, d, NOTICE_Q, acct)
    inbox = d.folders["Inbox"]
    # quarantined -> blocked: a new notice replaces the old one, from key 0
    zxj(instance, "mobile", "ABQ", "set", d.device_id, "Blocked", "account", acct)
    r = d.post_sync('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
                    '<CollectionId>%s</CollectionId></Collection></Collections></Sync>'
                    % (d.keys[inbox], inbox))
    assert r.wbxml.findtext("Status") == "12"
    assert d.foldersync().findtext("Status") == "9"
    # the states keep no key the device knows
    assert sql(instance, "SELECT count(*) FROM sync_states s JOIN devices v ON v.id = s.device_id "
                         "WHERE v.device_id = '%s' AND (s.sync_key <= 2 OR s.prev_key IS NOT NULL)"
               % d.device_id) == [["0"]]
    assert assert_dummy(instance, d, NOTICE_B, acct) == "abq-blocked"
    # the old key of the dummy Inbox is not valid any more
    col = d.sync(inbox, key="2")
    assert col.findtext("Status") == "3"
    # allowed: mail delivered meanwhile comes exactly once; a later mail comes as a change
    deliver(instance, acct, message("while blocked"))
    zxj(instance, "mobile", "ABQ", "allow", d.device_id, "account", acct)
    got = assert_real(d, n_mails=1)
    assert got[0][2] == "while blocked"
    deliver(instance, acct, message("after allow"))
    col = d.sync(inbox)
    assert [(c.name, c.findtext("ApplicationData/Subject")) for c in col.findall("Commands/*")] \
        == [("Add", "after allow")]
    # back to quarantined: the real items leave with the state, the notice comes alone
    zxj(instance, "mobile", "ABQ", "set", d.device_id, "Quarantined", "account", acct)
    assert assert_dummy(instance, d, NOTICE_Q, acct) == "abq-quarantined"


def test_dummy_sync_details(instance):
    """The notice behaves as a message: Read changes and deletes are acknowledged, the retry
    of a lost response gets it again, GetItemEstimate counts it, HTML is offered."""
    acct = new_account(instance, abqMode="Interactive")
    d = device(instance, acct)
    d.foldersync("0")
    inbox = d.folders["Inbox"]
    col = d.sync(inbox, key="0")
    key1 = col.findtext("SyncKey")
    r = d.c.post("GetItemEstimate", '<GetItemEstimate xmlns="GetItemEstimate:"><Collections>'
                 '<Collection><SyncKey xmlns="AirSync:">%s</SyncKey><CollectionId>%s</CollectionId>'
                 '</Collection></Collections></GetItemEstimate>' % (key1, inbox))
    assert r.wbxml.findtext("Response/Collection/Estimate") == "1", r.wbxml
    col = d.sync(inbox, options=HTML)
    add = col.find("Commands/Add")
    assert add.findtext("ApplicationData/Body/Type") == "2"
    assert "quarantine" in add.findtext("ApplicationData/Body/Data")
    assert add.findtext("ApplicationData/From").endswith(acct.split("@")[1])
    # a lost response: the previous key gives the same notice again
    col = d.sync(inbox, key=key1, options=HTML)
    assert [c.findtext("ServerId") for c in col.findall("Commands/Add")] == ["abq-quarantined"]
    # mark it read, then delete it: acknowledged, nothing comes back
    col = d.sync(inbox, commands='<Change><ServerId>abq-quarantined</ServerId><ApplicationData>'
                                 '<Read xmlns="Email:">1</Read></ApplicationData></Change>')
    assert col.findtext("Status") == "1" and col.find("Responses") is None
    col = d.sync(inbox, commands='<Delete><ServerId>abq-quarantined</ServerId></Delete>')
    assert col.findtext("Status") == "1"
    assert d.sync(inbox) is None
    # FolderSync with the current key: nothing new
    doc = d.foldersync()
    assert doc.findtext("Status") == "1" and doc.findtext("Changes/Count") == "0"


def test_ping_is_told_when_the_status_changes(instance):
    acct = new_account(instance, abqMode="Interactive")
    d = device(instance, acct)
    assert_dummy(instance, d, NOTICE_Q, acct)
    result = {}

    def ping():
        c = syncutil.EASClient(instance.url, acct, PASSWORD, d.device_id, "TestDevice")
        t0 = time.time()
        r = c.post("Ping", '<Ping xmlns="Ping:"><HeartbeatInterval>300</HeartbeatInterval>'
                   '<Folders><Folder><Id>%s</Id><Class>Email</Class></Folder></Folders></Ping>'
                   % d.folders["Inbox"])
        result["status"] = r.wbxml.findtext("Status") if r.body else None
        result["took"] = time.time() - t0
        c.close()
    t = threading.Thread(target=ping)
    t.start()
    time.sleep(1.5)
    assert t.is_alive(), result          # a quarantined device's Ping waits
    zxj(instance, "mobile", "ABQ", "allow", d.device_id, "account", acct)
    t.join(30)
    assert not t.is_alive()
    assert result["status"] == "7", result
    assert result["took"] < 20
    assert_real(d)


# ---- messages --------------------------------------------------------------------------------

def test_custom_messages_two_locales(instance, tmp_path):
    dom = new_domain(instance)
    fr = new_account(instance, dom, "marie", abqMode="Interactive", zimbraLocale="fr_FR")
    it = new_account(instance, dom, "luca", abqMode="Interactive", zimbraLocale="it")
    en = new_account(instance, dom, "john", abqMode="Interactive")
    # a locale needs the default first
    err = zx_fail(instance, "mobile", "setABQMessage", "domain", dom, "quarantined", "fr",
                  "subject", "En quarantaine")
    assert "default" in err
    zxj(instance, "mobile", "setABQMessage", "domain", dom, "quarantined", "default",
        "subject", "Quarantined at %s" % dom, "body_plain", "Wait for the admin.",
        "from", "helpdesk@" + dom)
    html = tmp_path / "fr.html"
    html.write_text("<p>Votre appareil est <b>en quarantaine</b>.</p>", encoding="utf-8")
    zxj(instance, "mobile", "setABQMessage", "domain", dom, "quarantined", "fr",
        "subject", "Appareil en quarantaine \u00e9t\u00e9", "body_plain",
        "Votre appareil attend l'approbation.", "body_html_file", str(html))
    zxj(instance, "mobile", "duplicateABQMessage", "domain", dom, "quarantined", "fr", "it-IT")
    zxj(instance, "mobile", "setABQMessage", "domain", dom, "quarantined", "it_it",
        "subject", "Dispositivo in quarantena")
    got = zxj(instance, "mobile", "getABQMessage", "domain", dom, "quarantined", "all")
    assert [m["locale"] for m in got["messages"]] == ["default", "fr", "it_IT"]
    itm = got["messages"][2]
    assert itm["subject"] == "Dispositivo in quarantena"
    assert itm["body_plain"] == "Votre appareil attend l'approbation."    # duplicated, then set
    # French (fr_FR -> fr), Italian (it -> no exact "it": the default), default
    dfr = device(instance, fr)
    assert_dummy(instance, dfr, "Appareil en quarantaine \u00e9t\u00e9", fr)
    col = dfr.sync(dfr.folders["Inbox"], key="0", options=HTML)
    col = dfr.sync(dfr.folders["Inbox"], options=HTML)
    assert "<b>en quarantaine</b>" in col.findtext("Commands/Add/ApplicationData/Body/Data")
    assert col.findtext("Commands/Add/ApplicationData/From") == "helpdesk@" + dom
    assert_dummy(instance, device(instance, it), "Quarantined at %s" % dom, it)
    assert_dummy(instance, device(instance, en), "Quarantined at %s" % dom, en)
    # the it_IT account gets the Italian one
    it2 = new_account(instance, dom, "gina", abqMode="Interactive", zimbraLocale="it_IT")
    assert_dummy(instance, device(instance, it2), "Dispositivo in quarantena", it2)
    # the blocked type of the domain has no message: the built-in one
    blk = new_account(instance, dom, "eve", abqMode="Strict", zimbraLocale="fr")
    assert_dummy(instance, device(instance, blk), NOTICE_B, blk)
    # the default cannot go while locales use it; locales then the default can
    assert "other locale" in zx_fail(instance, "mobile", "deleteABQMessage", "domain", dom,
                                     "quarantined", "default")
    for loc in ("fr", "it_IT", "default"):
        zxj(instance, "mobile", "deleteABQMessage", "domain", dom, "quarantined", loc)
    assert "no quarantined message" in zx_fail(instance, "mobile", "getABQMessage", "domain", dom,
                                               "quarantined", "fr")
    assert_dummy(instance, device(instance, fr), NOTICE_Q, fr)


@pytest.fixture
def global_messages(instance):
    saved = sql(instance, "SELECT count(*) FROM abq_messages WHERE domain_id IS NULL")
    assert saved == [["0"]], "the global messages are expected empty here"
    yield
    instance.psql("DELETE FROM abq_messages WHERE domain_id IS NULL")


def test_global_messages_and_init(instance, global_messages):
    out = zx(instance, "mobile", "initABQMessage", "all").stdout.decode()
    assert "2 default messages initialized" in out
    got = zxj(instance, "mobile", "getABQMessage", "global", "blocked", "default")["messages"]
    assert got[0]["subject"] == NOTICE_B
    zxj(instance, "mobile", "setABQMessage", "global", "blocked", "de", "subject", "Gesperrt")
    acct = new_account(instance, abqMode="Strict", zimbraLocale="de_AT")
    assert_dummy(instance, device(instance, acct), "Gesperrt", acct)
    assert "invalid locale" in zx_fail(instance, "mobile", "setABQMessage", "global", "blocked",
                                       "not a locale", "subject", "x")
    assert "invalid message type" in zx_fail(instance, "mobile", "getABQMessage", "global",
                                             "suspended", "all")
    assert "global or domain" in zx_fail(instance, "mobile", "getABQMessage", "cos", "blocked",
                                         "all")
    assert "unknown domain" in zx_fail(instance, "mobile", "getABQMessage", "domain",
                                       "nowhere.invalid", "blocked", "all")
    assert "takes all" in zx_fail(instance, "mobile", "initABQMessage", "some")


# ---- notifications ---------------------------------------------------------------------------

@pytest.fixture
def notify_setup(instance, restore_global):
    restore_global("abqNotificationsInterval", "ZxMobile_NotificationRecipients")
    fake, conf = install_sendmail(instance)
    # what earlier tests quarantined is not news for this test
    instance.psql("UPDATE devices SET abq_notified = true WHERE abq_status = 'Q'")
    instance.psql("UPDATE abq_state SET last_notification = NULL")
    zx(instance, "config", "set", "global", "ZxMobile_NotificationRecipients",
       "admin@abq-admins.test")
    zx(instance, "mobile", "ABQ", "setNotificationInterval", "3s")
    yield fake
    uninstall_sendmail(instance, fake, conf)


def wait_sent(fake, n, timeout=5.0):
    """The fake sendmail's mails once there are at least n (or the timeout passed): a due
    notification may be sent by the request's gate or, at the same moment, by the periodic
    thread of some httpd child (zxsync/maint.h), whose mail can land just after the request."""
    deadline = time.time() + timeout
    while True:
        sent = fake.sent()
        if len(sent) >= n or time.time() > deadline:
            return sent
        time.sleep(0.05)


def test_notification_lists_only_new_quarantines_once(instance, notify_setup):
    fake = notify_setup
    acct = new_account(instance, abqMode="Interactive")
    d1 = device(instance, acct)
    d1.foldersync("0")
    sent = wait_sent(fake, 1)
    assert len(sent) == 1, sent
    mail = sent[0]["stdin"]
    assert "To: admin@abq-admins.test" in mail
    assert "ABQ: 1 newly quarantined device\n" in mail.split("Subject:", 1)[1]
    assert d1.device_id in mail and acct in mail
    assert "admin@abq-admins.test" in sent[0]["argv"]
    # within the interval: nothing, however many devices come
    d2, d3 = device(instance, acct), device(instance, acct)
    d2.foldersync("0")
    d3.foldersync("0")
    assert len(fake.sent()) == 1
    # after it: one mail with only the new ones, even with requests racing for it
    time.sleep(3.2)
    errors = []

    def hit(dev):
        try:
            dev.foldersync()
        except Exception as e:      # pragma: no cover - reported below
            errors.append(e)
    threads = [threading.Thread(target=hit, args=(device(instance, acct, dv.device_id),))
               for dv in (d1, d2, d3, d1, d2, d3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    sent = wait_sent(fake, 2)
    assert len(sent) == 2, [s["stdin"] for s in sent]
    mail = sent[1]["stdin"]
    assert "2 newly quarantined devices" in mail
    assert d2.device_id in mail and d3.device_id in mail and d1.device_id not in mail
    assert sql(instance, "SELECT notifications_sent > 0 FROM abq_state") == [["t"]]
    # both are server notifications too (zxsuite core getNotification)
    rows = sql(instance, "SELECT subject, mail_status FROM notifications WHERE source = 'abq' "
                         "ORDER BY id DESC LIMIT 2")
    assert rows == [["ABQ: 2 newly quarantined devices", "sent"],
                    ["ABQ: 1 newly quarantined device", "sent"]]
    # nothing new: no mail even when due
    time.sleep(3.2)
    d1.foldersync()
    assert len(fake.sent()) == 2


def test_notification_two_nodes_send_one_mail(instance, notify_setup):
    """Two httpd on one database: the notification goes out once, whichever node sees it."""
    fake = notify_setup
    tmp = tempfile.mkdtemp(prefix="zxmobile-abq-node2-")
    node = zxinstance.Instance(tmp, zxinstance.free_port())
    node.pg_sock = instance.pg_sock
    os.makedirs(node.extra_dir, exist_ok=True)
    with open(os.path.join(node.extra_dir, "zz-fake-sendmail.conf"), "w") as f:
        f.write("ZxMobileSendmail %s --log %s --exit-file %s\n"
                % (FAKE_SENDMAIL, fake.log, fake.exit_file))
    try:
        node.httpd_up()
        acct = new_account(instance, abqMode="Interactive")
        device(instance, acct).foldersync("0")              # node 1: the first mail
        assert len(wait_sent(fake, 1)) == 1
        late = [Device(node, acct, device_id=dev_id()) for _ in range(2)]
        for d in late:                                      # node 2, within the interval
            d.foldersync("0")
        assert len(fake.sent()) == 1
        time.sleep(3.2)
        errors = []

        def hit(inst, device_id):
            try:
                d = Device(inst, acct, device_id=device_id)
                d.foldersync("0")
                d.close()
            except Exception as e:      # pragma: no cover - reported below
                errors.append(e)
        threads = [threading.Thread(target=hit, args=(inst, d.device_id))
                   for d in late for inst in (instance, node, instance, node)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        sent = wait_sent(fake, 2)
        assert len(sent) == 2, [m["stdin"] for m in sent]
        assert all(d.device_id in sent[1]["stdin"] for d in late)
    finally:
        node.httpd_down()
        shutil.rmtree(tmp, ignore_errors=True)


def test_notification_failure_keeps_the_devices_pending(instance, notify_setup, expect_log):
    fake = notify_setup
    # sent (and failing) from the request's gate or from a child's periodic thread
    expect_log(r"ZX01(407|700): ABQ: notification not sent: failed: .*fake-sendmail exited with "
               r"status 75")
    fake.fail(75)
    acct = new_account(instance, abqMode="Interactive")
    d = device(instance, acct)
    d.foldersync("0")
    assert fake.sent() == []
    assert sql(instance, "SELECT abq_notified FROM devices WHERE device_id = '%s'"
               % d.device_id) == [["f"]]
    deadline = time.time() + 5
    while True:
        rows = sql(instance, "SELECT mail_status FROM notifications WHERE source = 'abq' "
                             "ORDER BY id DESC LIMIT 1")
        if (rows and rows[0][0].startswith("failed: ")) or time.time() > deadline:
            break
        time.sleep(0.05)
    assert rows and rows[0][0].startswith("failed: "), rows
    # the next attempt comes one interval later, not on every request
    fake.succeed()
    d.foldersync()
    assert fake.sent() == []
    time.sleep(3.2)
    d.foldersync()
    sent = wait_sent(fake, 1)
    assert len(sent) == 1 and d.device_id in sent[0]["stdin"]
    assert sql(instance, "SELECT abq_notified FROM devices WHERE device_id = '%s'"
               % d.device_id) == [["t"]]


def test_notification_without_any_request(instance, notify_setup):
    """The periodic thread (zxsync/maint.h) sends a due notification when no request comes:
    devices quarantined within the interval are reported once it has passed."""
    fake = notify_setup
    acct = new_account(instance, abqMode="Interactive")
    device(instance, acct).foldersync("0")
    assert len(wait_sent(fake, 1)) == 1
    late = device(instance, acct)
    late.foldersync("0")                    # within the interval: not yet
    assert len(fake.sent()) == 1
    late.close()
    # no request from here on: the interval (3 s) and at most one period (10 s) later
    sent = wait_sent(fake, 2, timeout=20)
    assert len(sent) == 2, [m["stdin"] for m in sent]
    assert late.device_id in sent[1]["stdin"] and "1 newly quarantined device" in sent[1]["stdin"]


def test_notification_interval_zero_sends_nothing(instance, notify_setup):
    fake = notify_setup
    zx(instance, "mobile", "ABQ", "setNotificationInterval", "0")
    acct = new_account(instance, abqMode="Interactive")
    device(instance, acct).foldersync("0")
    assert fake.sent() == []


def test_set_notification_interval(instance, restore_global):
    restore_global("abqNotificationsInterval")
    for arg, ms in (("45m", 2700000), ("6h", 21600000), ("1d", 86400000), ("0", 0)):
        assert zxj(instance, "mobile", "ABQ", "setNotificationInterval", arg) == \
            {"abqNotificationsInterval": ms}
        assert zxj(instance, "config", "get", "global", "abqNotificationsInterval")["value"] == str(ms)
    assert "invalid interval" in zx_fail(instance, "mobile", "ABQ", "setNotificationInterval",
                                         "1w")


# ---- import ----------------------------------------------------------------------------------

def test_import_with_a_bad_line_adds_nothing(instance, tmp_path):
    acct = new_account(instance)
    a, b, c = dev_id("imp"), dev_id("imp"), dev_id("imp")
    bad = tmp_path / "bad.txt"
    bad.write_text("%s\n%s/%s\nnot-a-device!\n%s\n" % (a, b, acct, c))
    err = zx_fail(instance, "mobile", "ABQ", "import", str(bad), "Allowed")
    assert "line 3" in err and "nothing imported" in err
    assert all(entry(instance, x) is None for x in (a, c)) and entry(instance, b, acct) is None
    unknown = tmp_path / "unknown.txt"
    unknown.write_text("%s\n\n%s/nobody@%s\n" % (a, b, acct.split("@")[1]))
    err = zx_fail(instance, "mobile", "ABQ", "import", str(unknown), "Allowed")
    assert "line 3" in err and "unknown account" in err
    assert entry(instance, a) is None
    good = tmp_path / "good.txt"
    good.write_text("%s\n%s\n%s/%s,\n" % (a, c, b, acct))
    out = zx(instance, "mobile", "ABQ", "import", str(good), "Blocked").stdout.decode()
    assert out.strip() == "3 devices added"
    assert entry(instance, a)["status"] == "Blocked" and entry(instance, a)["source"] == "import"
    assert entry(instance, b, acct)["status"] == "Blocked"
    assert_dummy(instance, device(instance, acct, b), NOTICE_B, acct)
    # again, as Allowed: nothing new, three updated
    res = zxj(instance, "mobile", "ABQ", "import", str(good), "allowed")
    assert res == {"added": 0, "updated": 3, "status": "Allowed"}
    assert_real(device(instance, acct, b))
    assert "cannot read" in zx_fail(instance, "mobile", "ABQ", "import",
                                    str(tmp_path / "missing.txt"), "Allowed")


def test_first_start_imports_known_devices(instance):
    """On the first start with an empty list, the devices already known become Allowed."""
    acct = new_account(instance)
    old = device(instance, acct)
    old.foldersync("0")                             # known while ABQ ran Permissive
    zx(instance, "prov", "modifyAccount", acct, "abqMode", "Strict")
    instance.psql("CREATE TABLE abq_devices_saved AS SELECT * FROM abq_devices; "
                  "DELETE FROM abq_devices; "
                  "UPDATE abq_state SET imported_at = NULL, imported_count = NULL")
    try:
        new = device(instance, acct)
        assert_dummy(instance, new, NOTICE_B, acct)       # the request's own new device: no
        e = entry(instance, old.device_id, acct)
        assert e and e["status"] == "Allowed" and e["source"] == "startup", e
        assert entry(instance, new.device_id, acct)["source"] == "strict"
        assert_real(old)
        n = int(sql(instance, "SELECT imported_count FROM abq_state")[0][0])
        assert n >= 1
        # once only
        instance.psql("DELETE FROM abq_devices WHERE source = 'startup'")
        assert_dummy(instance, device(instance, acct, old.device_id), NOTICE_B, acct)
    finally:
        instance.psql("DELETE FROM abq_devices; "
                      "INSERT INTO abq_devices SELECT * FROM abq_devices_saved; "
                      "DROP TABLE abq_devices_saved; "
                      "UPDATE abq_state SET imported_at = COALESCE(imported_at, now())")


# ---- the service -----------------------------------------------------------------------------

def test_stopped_service_allows_everything(instance, services):
    acct = new_account(instance, abqMode="Strict")
    d = device(instance, acct)
    assert_dummy(instance, d, NOTICE_B, acct)
    assert zx(instance, "mobile", "doStopService", "abq").stdout.decode().strip() == "service stopped"
    st = zxj(instance, "mobile", "getServices")["services"]["abq"]
    assert st["running"] is False and st["could_start"] is True
    assert_real(d)
    zx(instance, "mobile", "doStartService", "abq")
    assert_dummy(instance, d, NOTICE_B, acct)


def test_abq_enabled_at_startup_false(instance, restore_global):
    restore_global("abq_enabled_at_startup")
    acct = new_account(instance, abqMode="Strict")
    zx(instance, "config", "set", "global", "abq_enabled_at_startup", "FALSE")
    st = zxj(instance, "mobile", "getServices")["services"]["abq"]
    assert st["running"] is False and st["could_start"] is False
    assert "abq_enabled_at_startup" in st["could_not_start_because"]
    assert_real(device(instance, acct))


def test_account_mode_disabled_exempts(instance):
    acct = new_account(instance, abqMode="Disabled")
    d = device(instance, acct)
    zxj(instance, "mobile", "ABQ", "block", d.device_id)
    assert_real(d)


# ---- CLI -------------------------------------------------------------------------------------

def test_cli_outputs_and_errors(instance):
    acct = new_account(instance)
    d = dev_id("cli")
    out = zx(instance, "mobile", "ABQ", "set", d, "Quarantined", "account", acct).stdout.decode()
    assert "Quarantined" in out
    human = zx(instance, "mobile", "abq", "list", "status", "quarantined").stdout.decode()
    assert "devices" in human and d in human
    assert entry(instance, d, acct)["source"] == "admin"
    # audited
    assert sql(instance, "SELECT action, account FROM admin_audit WHERE device_id = '%s'" % d) == \
        [["ABQ set", acct]]
    assert zxj(instance, "mobile", "ABQ", "allow", d, "account", acct)["changed"] is True
    assert zxj(instance, "mobile", "ABQ", "allow", d, "account", acct)["changed"] is False
    cases = [
        (["ABQ", "set", d, "Maybe"], "invalid status"),
        (["ABQ", "allow", "bad-id!"], "invalid device id"),
        (["ABQ", "allow", d, "account", "nobody@nowhere.invalid"], "unknown account"),
        (["ABQ", "allow", d, "account"], "needs a value"),
        (["ABQ", "allow", d, "acount", acct], "unknown parameter"),
        (["ABQ", "allow", "%s/%s" % (d, acct), "account", acct], "not both"),
        (["ABQ", "allow"], "syntax"),
        (["ABQ", "frobnicate"], "unknown ABQ command"),
        (["ABQ", "list", "status", "Maybe"], "invalid status"),
        (["ABQ", "setRule", "android(", "Blocked", "1"], "invalid regular expression"),
        (["ABQ", "setRule", "android.*", "Blocked", "first"], "invalid order"),
        (["ABQ", "setRule", "android.*", "Blocked"], "syntax"),
        (["ABQ", "setRule", "android.*", "Blocked", "1", "domain", "nowhere.invalid"],
         "unknown domain"),
        (["ABQ", "listRules", "domain", "nowhere.invalid"], "unknown domain"),
        (["ABQ", "delete", dev_id("none")], "not in the list"),
        (["ABQ", "import", "/nonexistent"], "syntax"),
        (["ABQ", "import", "/nonexistent", "Sometimes"], "invalid status"),
    ]
    for args, want in cases:
        err = zx_fail(instance, "mobile", *args)
        assert want in err, (args, err)
    # a refused command changed nothing
    assert entry(instance, d, acct)["status"] == "Allowed"
    assert sql(instance, "SELECT count(*) FROM abq_rules WHERE regex = 'android(' OR "
                         "regex = 'android.*'") == [["0"]]
    # account by uuid
    uid = sql(instance, "SELECT a.uuid FROM accounts a JOIN domains m ON m.id = a.domain_id "
                        "WHERE m.name = '%s'" % acct.split("@")[1])[0][0]
    zxj(instance, "mobile", "ABQ", "block", d, "account", uid)
    assert entry(instance, d, acct)["status"] == "Blocked"
