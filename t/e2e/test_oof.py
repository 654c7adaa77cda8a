"""Out-of-office replies (issue 19; libzxsync/mailflow/oof.c, RFC 3834): an account whose Oof a
device set with Settings ([MS-ASCMD] 2.2.3.119) answers mail delivered to it once per sender
and setting, with the text of the sender's audience (Internal: an account of this server;
ExternalKnown: in the account's Contacts; ExternalUnknown: anyone else, only when enabled),
never to automatic, list or bulk mail, the null sender, a daemon, or a blind copy.

Mail comes in through `zxsuite mailbox deliver` with a Return-Path, as Postfix's pipe(8) with
flag R hands it over; a reply to an account of the server is delivered straight into its
Inbox, one to the outside goes to the MTA's sendmail command (ZXMOBILE_SENDMAIL, the test's
fake here)."""

import email
import email.policy
import json
import os
import subprocess
import tempfile
import uuid

import pytest

from mailtools import (FAKE_SENDMAIL, PASSWORD, SRC_DIR, FakeSendmail, account_id,
                       client_for, item_mime, items, new_account, simple_message, sql, zx)

INBOX = 2


def oof_set(instance, account, state=1, internal="Away until Monday.", known=None,
            unknown=None, window=None):
    """Settings Oof Set from a 16.1 device of the account."""
    def msg(tag, text):
        body_type = "Text"
        if isinstance(text, tuple):
            text, body_type = text
        if text is None:
            return "<OofMessage><%s/><Enabled>0</Enabled></OofMessage>" % tag
        return ("<OofMessage><%s/><Enabled>1</Enabled><ReplyMessage>%s</ReplyMessage>"
                "<BodyType>%s</BodyType></OofMessage>" % (tag, text, body_type))
    times = ""
    if window:
        times = "<StartTime>%s</StartTime><EndTime>%s</EndTime>" % window
    x = ('<Settings xmlns="Settings:"><Oof><Set><OofState>%d</OofState>%s%s%s%s</Set></Oof>'
         '</Settings>' % (state, times, msg("AppliesToInternal", internal),
                          msg("AppliesToExternalKnown", known),
                          msg("AppliesToExternalUnknown", unknown)))
    with client_for(instance, account, "16.1") as c:
        r = c.post("Settings", x)
        assert r.status == 200 and r.wbxml.findtext("Oof/Status") == "1", r.wbxml


@pytest.fixture
def mta():
    d = tempfile.mkdtemp(prefix="zx-oof-mta-")
    fake = FakeSendmail(d)
    fake.clear()
    yield fake
    fake.clear()


def deliver_from(instance, mta, sender, rcpt, message):
    """mailbox deliver with the envelope sender in Return-Path (pipe(8) flag R)."""
    data = ("Return-Path: <%s>\r\n" % sender + message).encode("utf-8")
    env = dict(os.environ)
    env["ZXMOBILE_DB"] = instance.conninfo
    env["ZXMOBILE_SQLDIR"] = os.path.join(SRC_DIR, "sql")
    env["ZXMOBILE_SENDMAIL"] = "%s --log %s --exit-file %s" % (FAKE_SENDMAIL, mta.log,
                                                                mta.exit_file)
    p = subprocess.run([instance.zxsuite, "--json", "mailbox", "deliver", rcpt], input=data,
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["response"].get("outOfOfficeReply"), p.stderr.decode()


def replies_in(instance, account):
    out = []
    for it in items(instance, account, ftype=INBOX):
        m = email.message_from_bytes(item_mime(instance, it["id"]), policy=email.policy.default)
        if m["Auto-Submitted"]:
            out.append(m)
    return out


@pytest.fixture
def away(instance):
    """An account on holiday and a colleague on the same server."""
    a = new_account(instance, display_name="Anna Away")
    colleague = "bob@" + a.split("@")[1]
    zx(instance, "prov", "createAccount", colleague, PASSWORD, "displayName", "Bob",
       "zimbraFeatureMobileSyncEnabled", "TRUE")
    return a, colleague


def test_internal_sender_gets_one_reply(instance, away, mta):
    a, bob = away
    oof_set(instance, a, internal="Away until Monday.\nAsk Carol.", unknown=None)
    mid = "<%s@example.net>" % uuid.uuid4().hex
    to, _ = deliver_from(instance, mta, bob, a, simple_message(bob, a, "Lunch?",
                                                               message_id=mid))
    assert to == bob
    got = replies_in(instance, bob)
    assert len(got) == 1
    r = got[0]
    assert r["Subject"] == "Automatic reply: Lunch?"
    assert r["Auto-Submitted"] == "auto-replied"
    assert r["X-Auto-Response-Suppress"] == "All"
    assert r["In-Reply-To"] == mid and mid in r["References"]
    assert r["From"].addresses[0].addr_spec == a
    assert r["From"].addresses[0].display_name == "Anna Away"
    assert r["To"].addresses[0].addr_spec == bob
    assert r.get_content().replace("\r\n", "\n").strip() == "Away until Monday.\nAsk Carol."
    # the same sender again, in any case: no second reply during this setting
    to, _ = deliver_from(instance, mta, bob.upper(), a, simple_message(bob, a, "Lunch again?"))
    assert to is None
    assert len(replies_in(instance, bob)) == 1
    assert sql(instance, "SELECT sender FROM oof_replies WHERE account_id = %s",
               account_id(instance, a)) == [[bob]]
    # a new setting replies once more
    oof_set(instance, a, internal="Still away.")
    to, _ = deliver_from(instance, mta, bob, a, simple_message(bob, a, "Third"))
    assert to == bob
    assert [m.get_content().strip() for m in replies_in(instance, bob)] == [
        "Away until Monday.\nAsk Carol.", "Still away."]
    assert len(sql(instance, "SELECT 1 FROM oof_replies WHERE account_id = %s",
                   account_id(instance, a))) == 1
    assert mta.sent() == []


def test_external_audiences(instance, away, mta):
    a, _ = away
    known, stranger = "kim@partner.example", "sam@elsewhere.example"
    oof_set(instance, a, internal="in", known=("&lt;p&gt;On &lt;b&gt;holiday&lt;/b&gt;&lt;/p&gt;", "HTML"),
            unknown=None)
    # a contact of the account, stored as a device writes it
    with client_for(instance, a, "14.1") as c:
        fs = c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey>'
                    '</FolderSync>').wbxml
        cid = [f.findtext("ServerId") for f in fs.findall("Changes/Add")
               if f.findtext("Type") == "9"][0]
        r = c.post("Sync", '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0'
                   '</SyncKey><CollectionId>%s</CollectionId></Collection></Collections>'
                   '</Sync>' % cid)
        key = r.wbxml.findtext("Collections/Collection/SyncKey")
        r = c.post("Sync", '<Sync xmlns="AirSync:" xmlns:c="Contacts:"><Collections><Collection>'
                   '<SyncKey>%s</SyncKey><CollectionId>%s</CollectionId><Commands><Add>'
                   '<ClientId>1</ClientId><ApplicationData><c:FileAs>Kim</c:FileAs>'
                   '<c:Email1Address>"Kim" &lt;KIM@partner.example&gt;</c:Email1Address>'
                   '</ApplicationData></Add></Commands></Collection></Collections></Sync>'
                   % (key, cid))
        assert r.wbxml.findtext("Collections/Collection/Responses/Add/Status") == "1", r.wbxml
    to, _ = deliver_from(instance, mta, known, a, simple_message(known, a, "Offer"))
    assert to == known
    sent = mta.sent()
    assert len(sent) == 1
    assert sent[0]["argv"][-3:] == ["-f", "<>", known], sent[0]["argv"]
    m = email.message_from_string(sent[0]["stdin"], policy=email.policy.default)
    assert m["Subject"] == "Automatic reply: Offer"
    assert m.get_content_type() == "text/html"
    assert "<b>holiday</b>" in m.get_content()
    # ExternalUnknown is not enabled: nothing to a stranger
    to, _ = deliver_from(instance, mta, stranger, a, simple_message(stranger, a, "Hi"))
    assert to is None and len(mta.sent()) == 1
    # enabled: the stranger gets that text
    oof_set(instance, a, internal="in", known="k", unknown="Not here.")
    to, _ = deliver_from(instance, mta, stranger, a, simple_message(stranger, a, "Hi again"))
    assert to == stranger
    m = email.message_from_string(mta.sent()[-1]["stdin"], policy=email.policy.default)
    assert m.get_content().strip() == "Not here."
    # the MTA refuses: the delivery is still done, a warning says the reply was not sent
    mta.fail(75)
    oof_set(instance, a, internal="in", known="k", unknown="Not here.")
    to, err = deliver_from(instance, mta, stranger, a, simple_message(stranger, a, "Hi 3"))
    assert to is None and "out-of-office reply" in err and "not sent" in err, err
    mta.succeed()


@pytest.mark.parametrize("sender,headers,to_header,why", [
    ("list@lists.example", "List-Id: <dev.lists.example>\r\n", None, "a mailing list"),
    ("robot@example.org", "Auto-Submitted: auto-generated\r\n", None, "automatic"),
    ("news@example.org", "Precedence: bulk\r\n", None, "bulk"),
    ("ex@example.org", "X-Auto-Response-Suppress: OOF, DR\r\n", None, "suppressed"),
    ("MAILER-DAEMON@example.org", "", None, "a daemon"),
    ("dev-request@example.org", "", None, "a list's address"),
    ("", "", None, "the null sender"),
    ("blind@example.org", "", "someone@example.org", "a blind copy"),
])
def test_no_reply(instance, away, mta, sender, headers, to_header, why):
    a, _ = away
    oof_set(instance, a, internal="in", known="k", unknown="Not here.")
    msg = simple_message(sender or "x@example.org", to_header or a, "Note",
                         extra_headers=headers)
    to, _ = deliver_from(instance, mta, sender, a, msg)
    assert to is None, why
    assert mta.sent() == [], why
    assert len(items(instance, a, ftype=INBOX)) == 1


def test_auto_submitted_no_is_answered_and_alias_in_to(instance, away, mta):
    a, _ = away
    local, dom = a.split("@")
    zx(instance, "prov", "modifyAccount", a, "zimbraMailAlias", "holiday@" + dom)
    oof_set(instance, a, internal="in", unknown="Not here.")
    msg = simple_message("pat@example.org", "Holiday <HOLIDAY@%s>" % dom, "Q",
                         extra_headers="Auto-Submitted: no\r\n")
    to, _ = deliver_from(instance, mta, "pat@example.org", a, msg)
    assert to == "pat@example.org"


def test_time_based_and_off(instance, away, mta):
    a, bob = away
    # a window in the past: no reply
    oof_set(instance, a, state=2, window=("2020-01-01T00:00:00.000Z", "2020-01-02T00:00:00.000Z"))
    to, _ = deliver_from(instance, mta, bob, a, simple_message(bob, a, "Past"))
    assert to is None
    # now inside the window
    oof_set(instance, a, state=2, window=("2020-01-01T00:00:00.000Z", "2099-01-01T00:00:00.000Z"))
    to, _ = deliver_from(instance, mta, bob, a, simple_message(bob, a, "Now"))
    assert to == bob
    # off
    oof_set(instance, a, state=0)
    to, _ = deliver_from(instance, mta, "z@example.org", a, simple_message(bob, a, "Off"))
    assert to is None
    assert len(replies_in(instance, bob)) == 1


def test_replies_do_not_loop(instance, mta):
    """Two accounts both away: the reply goes to the other with the null sender and
    Auto-Submitted, so the other's Oof does not answer it."""
    a = new_account(instance, display_name="A")
    b = "b@" + a.split("@")[1]
    zx(instance, "prov", "createAccount", b, "Pw-123456")
    oof_set(instance, a, internal="A is away")
    sql(instance, "INSERT INTO account_oof (account_id, state) VALUES (%s, 1)",
        account_id(instance, b))
    sql(instance, "INSERT INTO account_oof_messages (account_id, audience, enabled, "
        "reply_message, body_type) VALUES (%s, 'internal', true, 'B is away', 'Text')",
        account_id(instance, b))
    to, _ = deliver_from(instance, mta, b, a, simple_message(b, a, "Ping"))
    assert to == b
    assert [m["Subject"] for m in replies_in(instance, b)] == ["Automatic reply: Ping"]
    assert replies_in(instance, a) == []


def test_sendmail_from_a_colleagues_phone(instance, away):
    """A colleague's SendMail to the account is delivered here (mailflow/submit.c) and the
    reply lands in the colleague's Inbox in the same transaction, once."""
    a, bob = away
    oof_set(instance, a, internal="Back on the 3rd.")
    with client_for(instance, bob, "16.1") as c:
        for n in range(2):
            mime = simple_message(bob, "Anna <%s>" % a, "Budget %d" % n)
            r = c.post("SendMail", '<SendMail xmlns="ComposeMail:"><ClientId>oof%d%s</ClientId>'
                       '<Mime>%s</Mime></SendMail>'
                       % (n, uuid.uuid4().hex[:6], mime.replace("&", "&amp;")
                          .replace("<", "&lt;").replace(">", "&gt;")))
            assert r.status == 200 and not r.body, (r.status, r.body)
    assert [it["subject"] for it in items(instance, a, ftype=INBOX)] == ["Budget 0", "Budget 1"]
    got = replies_in(instance, bob)
    assert [m["Subject"] for m in got] == ["Automatic reply: Budget 0"]
    assert got[0].get_content().strip() == "Back on the 3rd."


def test_over_lmtp(instance, away):
    """LMTP (mailflow/lmtp.c) passes MAIL FROM as the envelope sender: a colleague on this
    server gets the reply in the Inbox; an outside sender's reply goes to the transport, which
    the test instance does not have (ZxMobileMailTransport none): logged, not sent."""
    from lmtpclient import LMTP, transaction
    a, bob = away
    oof_set(instance, a, internal="LMTP away", unknown="Outside away")
    with LMTP.of(instance) as l:
        l.greet_lhlo()
        l.send(transaction(bob, [a], simple_message(bob, a, "Via LMTP")))
        assert [c for c, _ in l.replies(4)] == [250, 250, 354, 250]
        l.send(transaction("out@example.org", [a], simple_message("out@example.org", a, "Out")))
        assert [c for c, _ in l.replies(4)] == [250, 250, 354, 250]
        assert l.cmd("QUIT")[0] == 221
    got = replies_in(instance, bob)
    assert [m["Subject"] for m in got] == ["Automatic reply: Via LMTP"]
    assert got[0].get_content().strip() == "LMTP away"
    # the outside sender was recorded as replied to (the reply was attempted once)
    assert sorted(r[0] for r in sql(instance, "SELECT sender FROM oof_replies WHERE "
                                    "account_id = %s", account_id(instance, a))) == [
        bob, "out@example.org"]
