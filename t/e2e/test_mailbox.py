"""zxsuite mailbox deliver / import against the real database: the MTA exit codes (0 only once
the message is committed, 65 empty, 67 unknown account, 75 temporary failure), delivery into a
named folder, mbox (mboxrd escaping, a bad message reported by number) and Maildir imports."""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import uuid

import pytest

import zxinstance

FIXTURES = os.path.join(zxinstance.SRC_DIR, "t", "fixtures", "mime")

EX_DATAERR, EX_NOUSER, EX_TEMPFAIL = 65, 67, 75


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def run(instance, *args, data=b"", db=None):
    env = dict(os.environ)
    env["ZXMOBILE_DB"] = db or instance.conninfo
    env["ZXMOBILE_SQLDIR"] = os.path.join(zxinstance.SRC_DIR, "sql")
    p = subprocess.run([instance.zxsuite] + list(args), input=data, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    p.out = p.stdout.decode("utf-8", "replace")
    p.err = p.stderr.decode("utf-8", "replace")
    return p


def deliver(instance, account, *folder, data, db=None, json_out=False):
    args = (["--json"] if json_out else []) + ["mailbox", "deliver", account] + list(folder)
    return run(instance, *args, data=data, db=db)


@pytest.fixture
def account(instance):
    """A fresh account (its own domain) for each test."""
    dom = "mb%s.example" % uuid.uuid4().hex[:8]
    instance.zxsuite_run("prov", "createDomain", dom)
    name = "user@" + dom
    instance.zxsuite_run("prov", "createAccount", name, "")
    return name


def items(instance, account):
    """(folder name, subject, read, received epoch) of the account's live items, in id order."""
    local, dom = account.split("@")
    out = instance.psql(
        "SELECT f.name, coalesce(i.subject, ''), i.read, extract(epoch FROM i.received)::bigint "
        "FROM items i JOIN folders f ON f.id = i.folder_id JOIN accounts a ON a.id = i.account_id "
        "JOIN domains d ON d.id = a.domain_id WHERE a.local_part = '%s' AND d.name = '%s' "
        "AND NOT i.deleted ORDER BY i.id" % (local, dom))
    rows = []
    for line in out.splitlines():
        folder, subject, read, received = line.split("|")
        rows.append((folder, subject, read == "t", int(received)))
    return rows


def stored_mime(instance, item_id):
    out = instance.psql("SELECT encode(m.mime, 'base64') FROM items i JOIN messages m "
                        "ON m.id = i.message_id WHERE i.id = %d" % int(item_id))
    return base64.b64decode("".join(out.split()))


# ---- deliver ------------------------------------------------------------------------------------

def test_deliver_commits_and_exits_0(instance, account):
    p = deliver(instance, account, data=fixture("nested.eml"), json_out=True)
    assert p.returncode == 0, p.err
    r = json.loads(p.out)["response"]
    assert r["account"] == account and r["folder"] == "Inbox"
    assert r["size"] == len(fixture("nested.eml"))
    # committed: another connection sees it as soon as the command returned
    assert [r[:3] for r in items(instance, account)] == [("Inbox", "Nested", False)]
    assert stored_mime(instance, r["itemId"]) == fixture("nested.eml")
    n = instance.psql("SELECT count(*) FROM message_attachments a JOIN items i "
                      "ON i.message_id = a.message_id WHERE i.id = %s" % r["itemId"])
    assert n.strip() == "2"
    # human output
    p = deliver(instance, account.upper(), data=fixture("latin1.eml"))
    assert p.returncode == 0, p.err
    assert "Inbox" in p.out and "itemId" in p.out
    assert [x[1] for x in items(instance, account)] == ["Nested", "Caf\u00e9 cr\u00e8me"]


def test_deliver_strips_mbox_from_line(instance, account):
    msg = fixture("koi8r.eml")
    p = deliver(instance, account, data=b"From ivan@example.ru  Thu Nov 16 12:00:00 2023\n" + msg,
                json_out=True)
    assert p.returncode == 0, p.err
    r = json.loads(p.out)["response"]
    assert stored_mime(instance, r["itemId"]) == msg
    assert items(instance, account)[0][1] == "\u041f\u0440\u0438\u0432\u0435\u0442"


@pytest.mark.parametrize("name,subject", [
    ("shiftjis.eml", "\u4f1a\u8b70\u306e\u304a\u77e5\u3089\u305b"),
    ("windows1252.eml", "Price: \u20ac5 \u2013 \u201cdeal\u201d"),
    ("broken.eml", "Broken message"),          # malformed messages are stored too
    ("smime_encrypted.eml", "Encrypted"),
])
def test_deliver_charsets_and_broken_mail(instance, account, name, subject):
    p = deliver(instance, account, data=fixture(name))
    assert p.returncode == 0, p.err
    assert items(instance, account)[0][1] == subject


def test_deliver_to_an_alias_and_in_any_case(instance, account):
    """An envelope address is the account's own or one of its aliases (zimbraMailAlias), in
    any case, with or without angle brackets (libzxsync/mailflow/deliver.c)."""
    local, dom = account.split("@")
    instance.zxsuite_run("prov", "modifyAccount", account, "zimbraMailAlias", "Sales@" + dom)
    for who in ("sales@" + dom, "<SALES@%s>" % dom.upper(), account.upper()):
        p = deliver(instance, who, data=fixture("latin1.eml"), json_out=True)
        assert p.returncode == 0, (who, p.err)
        assert json.loads(p.out)["response"]["account"] == account, p.out
    assert len(items(instance, account)) == 3
    # an alias of another domain's account is not this one's
    p = deliver(instance, "sales@other-" + dom, data=fixture("latin1.eml"))
    assert p.returncode == EX_NOUSER, p.err


def test_deliver_unknown_account_is_67(instance, account):
    dom = account.split("@")[1]
    for who in ("ghost@" + dom, "ghost@nodomain.example", "not an address"):
        p = deliver(instance, who, data=fixture("latin1.eml"))
        assert p.returncode == EX_NOUSER, (who, p.returncode, p.err)
        assert "no such account" in p.err
    # a closed account takes no mail either; a locked one does
    instance.zxsuite_run("prov", "modifyAccount", account, "zimbraAccountStatus", "closed")
    p = deliver(instance, account, data=fixture("latin1.eml"))
    assert p.returncode == EX_NOUSER and "is closed" in p.err
    instance.zxsuite_run("prov", "modifyAccount", account, "zimbraAccountStatus", "locked")
    assert deliver(instance, account, data=fixture("latin1.eml")).returncode == 0
    assert len(items(instance, account)) == 1


@pytest.mark.parametrize("data,message", [
    (b"", "empty message"),
    (b"\r\n\n  \n", "empty message"),
    (b"From someone@example.com Thu Nov 16 12:00:00 2023\n", "empty message"),
    (b"no header here\njust text\n", "no header fields"),
])
def test_deliver_empty_message_is_65(instance, account, data, message):
    p = deliver(instance, account, data=data)
    assert p.returncode == EX_DATAERR, (p.returncode, p.err)
    assert message in p.err
    assert items(instance, account) == []


def test_deliver_database_unreachable_is_75(instance, account):
    sockdir = tempfile.mkdtemp(prefix="zx-nopg-")
    try:
        p = deliver(instance, account, data=fixture("latin1.eml"),
                    db="host=%s dbname=zxmobile user=zxmobile connect_timeout=3" % sockdir)
        assert p.returncode == EX_TEMPFAIL, (p.returncode, p.err)
        assert "try again later" in p.err
        # a database without the schema is a temporary failure too (never a bounce)
        name = "zxtest_" + uuid.uuid4().hex[:10]
        instance.create_database(name)
        try:
            p = deliver(instance, account, data=fixture("latin1.eml"),
                        db=instance.conninfo_for(name))
            assert p.returncode == EX_TEMPFAIL, (p.returncode, p.err)
        finally:
            instance.drop_database(name)
    finally:
        shutil.rmtree(sockdir)
    assert items(instance, account) == []


def test_deliver_into_named_folder(instance, account):
    p = deliver(instance, account, "junk e-mail", data=fixture("latin1.eml"), json_out=True)
    assert p.returncode == 0, p.err
    r = json.loads(p.out)["response"]
    assert r["folder"] == "Junk E-Mail"
    # by server id
    p = deliver(instance, account, r["folderId"], data=fixture("koi8r.eml"), json_out=True)
    assert p.returncode == 0, p.err
    assert json.loads(p.out)["response"]["folder"] == "Junk E-Mail"
    p = deliver(instance, account, "Sent Items", data=fixture("shiftjis.eml"))
    assert p.returncode == 0, p.err
    assert [x[0] for x in items(instance, account)] == ["Junk E-Mail", "Junk E-Mail", "Sent Items"]
    # an unknown folder, or one that holds no mail: the Inbox, with a warning
    p = deliver(instance, account, "No Such Folder", data=fixture("windows1252.eml"))
    assert p.returncode == 0, p.err
    assert "no such folder: No Such Folder" in p.err
    p = deliver(instance, account, "Contacts", data=fixture("windows1252.eml"))
    assert p.returncode == 0, p.err
    assert "not a mail folder: Contacts" in p.err
    assert [x[0] for x in items(instance, account)][3:] == ["Inbox", "Inbox"]


# ---- import ------------------------------------------------------------------------------------

MBOX = b"""From alice@example.com Tue Nov 14 09:30:00 2023
From: alice@example.com
To: user@example.com
Subject: first
Status: RO

Hello
>From the escaped line
>>From doubly escaped

From nobody@example.com Wed Nov 15 10:00:00 2023

From carol@example.com Thu Nov 16 11:00:00 2023
From: carol@example.com
Subject: third

unread, and a From line that is not after an empty line:
From here on it is body text
"""


def test_import_mbox_reports_bad_message(instance, account, tmp_path):
    path = tmp_path / "box.mbox"
    path.write_bytes(MBOX)
    p = run(instance, "mailbox", "import", account, str(path))
    assert p.returncode != 0
    assert "zxsuite: message 2 (line 11): empty message" in p.err
    assert "1 of 3 messages could not be imported" in p.err
    assert p.out.strip() == "imported 2 of 3 messages into Inbox of %s (1 failed)" % account
    rows = items(instance, account)
    assert [(f, s, r) for f, s, r, _ in rows] == [("Inbox", "first", True), ("Inbox", "third", False)]
    assert rows[0][3] == 1699954200        # the "From " line's time: 2023-11-14 09:30:00 UTC
    # mboxrd unescaping: one '>' less; the message's own separator line is gone
    item = instance.psql("SELECT min(i.id) FROM items i JOIN accounts a ON a.id = i.account_id "
                         "WHERE i.subject = 'first' AND a.local_part = 'user' AND a.domain_id = "
                         "(SELECT id FROM domains WHERE name = '%s')" % account.split("@")[1])
    mime = stored_mime(instance, item.strip())
    assert mime.startswith(b"From: alice@example.com\n")
    assert mime.endswith(b"Hello\nFrom the escaped line\n>From doubly escaped\n")


def test_import_mbox_into_folder_json(instance, account, tmp_path):
    path = tmp_path / "ok.mbox"
    path.write_bytes(b"".join(b"From x@example.com Sat Nov 18 08:00:00 2023\n" + fixture(n) + b"\n"
                              for n in ("latin1.eml", "nested.eml", "invitation.eml")))
    p = run(instance, "--json", "mailbox", "import", account, str(path), "Sent Items")
    assert p.returncode == 0, p.err
    r = json.loads(p.out)["response"]
    assert (r["folder"], r["total"], r["imported"], r["failed"]) == ("Sent Items", 3, 3, 0)
    assert [s for _, s, _, _ in items(instance, account)] == \
        ["Caf\u00e9 cr\u00e8me", "Nested", "Invitation: Project review"]
    # a single message file (no "From " line) is one message
    single = tmp_path / "one.eml"
    single.write_bytes(fixture("koi8r.eml"))
    p = run(instance, "mailbox", "import", account, str(single))
    assert p.returncode == 0, p.err
    assert p.out.strip() == "imported 1 of 1 message into Inbox of %s" % account
    assert items(instance, account)[-1][:2] == ("Inbox", "\u041f\u0440\u0438\u0432\u0435\u0442")


def test_import_maildir(instance, account, tmp_path):
    md = tmp_path / "Maildir"
    for d in ("cur", "new", "tmp"):
        (md / d).mkdir(parents=True)
    (md / "cur" / "1700000000.M1P1.host:2,RS").write_bytes(b"Subject: seen\n\nbody\n")
    (md / "cur" / "1700000050.M1P2.host:2,").write_bytes(b"Subject: not seen\n\nbody\n")
    (md / "new" / "1700000100.M2P2.host").write_bytes(b"Subject: new\n\nbody\n")
    (md / "new" / "1700000200.M3P3.host").write_bytes(b"")
    (md / "tmp" / "1700000300.M4P4.host").write_bytes(b"Subject: in tmp\n\nbody\n")
    (md / "cur" / ".hidden").write_bytes(b"Subject: hidden\n\nbody\n")
    p = run(instance, "mailbox", "import", account, str(md))
    assert p.returncode != 0
    assert "zxsuite: message 4 (new/1700000200.M3P3.host): empty message" in p.err
    assert p.out.strip() == "imported 3 of 4 messages into Inbox of %s (1 failed)" % account
    assert items(instance, account) == [("Inbox", "seen", True, 1700000000),
                                        ("Inbox", "not seen", False, 1700000050),
                                        ("Inbox", "new", False, 1700000100)]
    # without the bad one, into a folder: exit 0
    os.unlink(md / "new" / "1700000200.M3P3.host")
    p = run(instance, "--json", "mailbox", "import", account, str(md), "Junk E-Mail")
    assert p.returncode == 0, p.err
    r = json.loads(p.out)["response"]
    assert (r["folder"], r["total"], r["imported"], r["failed"]) == ("Junk E-Mail", 3, 3, 0)


@pytest.mark.parametrize("args,message", [
    (("{acct}", "/nonexistent/box"), "no such file or directory: /nonexistent/box"),
    (("ghost@nodomain.example", "{mbox}"), "no such account: ghost@nodomain.example"),
    (("{acct}", "{dir}"), "is not a Maildir (no cur/ or new/ directory)"),
    (("{acct}", "{mbox}", "No Such Folder"), "no such folder: No Such Folder"),
    (("{acct}", "{mbox}", "Calendar"), "Calendar is not a mail folder"),
])
def test_import_errors(instance, account, tmp_path, args, message):
    mbox = tmp_path / "x.mbox"
    mbox.write_bytes(MBOX)
    empty_dir = tmp_path / "notmaildir"
    empty_dir.mkdir()
    args = [a.format(acct=account, mbox=mbox, dir=empty_dir) for a in args]
    p = run(instance, "mailbox", "import", *args)
    assert p.returncode == 1, p.err
    assert message in p.err, p.err
    assert items(instance, account) == []
