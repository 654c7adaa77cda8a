"""Postfix end to end (issue 19, "In"): mail comes in by SMTP to a real Postfix from Debian
(t/harness/postfix.py: a private one on loopback, its own configuration and queue under the
test's directory), which hands it over LMTP to httpd's listener (virtual_transport =
lmtp:inet:ZX_LMTP) - the configuration README gives - and the phone's Sync shows it.
An unknown account bounces with the listener's 5.1.1; while the database is stopped Postfix
keeps the mail in its queue (451) and delivers it once when the database is back."""

import re
import shutil
import smtplib
import tempfile
import time
import uuid

import pytest

import postfix
import zxinstance
from syncutil import PASSWORD, Device, message, zx

pytestmark = pytest.mark.skipif(not postfix.available(),
                                reason="postfix not installed (./zx deps) or not root")


@pytest.fixture(scope="module")
def own():
    """An instance of its own (its database is stopped here)."""
    tmp = tempfile.mkdtemp(prefix="zxmobile-pf-")
    inst = zxinstance.Instance(tmp, zxinstance.free_port(), durable=False)
    try:
        inst.up()
        yield inst
    finally:
        inst.down()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def domain(own):
    dom = "pf%s.test" % uuid.uuid4().hex[:8]
    zx(own, "prov", "createDomain", dom)
    for user in ("ann", "bob"):
        zx(own, "prov", "createAccount", "%s@%s" % (user, dom), PASSWORD,
           "zimbraFeatureMobileSyncEnabled", "TRUE")
    return dom


@pytest.fixture(scope="module")
def mta(own, domain):
    tmp = tempfile.mkdtemp(prefix="zxmobile-postfix-")
    pf = postfix.PrivatePostfix(tmp, [domain], own.env()["ZX_LMTP"])
    try:
        pf.start()
        yield pf
    finally:
        pf.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def smtp_send(mta, sender, rcpts, data):
    with smtplib.SMTP("127.0.0.1", mta.smtp_port, timeout=30) as s:
        refused = s.sendmail(sender, rcpts, data)
    assert refused == {}, refused


def wait_log(mta, pattern, timeout=30):
    rx = re.compile(pattern)
    end = time.time() + timeout
    while time.time() < end:
        m = rx.search(mta.log())
        if m:
            return m
        time.sleep(0.2)
    raise AssertionError("not in Postfix's log within %ds: %s\n%s" % (timeout, pattern,
                                                                       mta.log()[-4000:]))


def subjects(own, account):
    local, dom = account.split("@")
    out = own.psql("SELECT coalesce(i.subject, '') FROM items i JOIN accounts a ON a.id = "
                   "i.account_id JOIN domains d ON d.id = a.domain_id WHERE a.local_part = '%s' "
                   "AND d.name = '%s' AND NOT i.deleted ORDER BY i.id" % (local, dom))
    return [l for l in out.splitlines() if l]


def test_smtp_to_postfix_lmtp_to_the_phone(own, domain, mta):
    ann = "ann@" + domain
    dev = Device(own, ann)
    try:
        inbox = dev.folder("Inbox")
        dev.sync(inbox, key="0")
        dev.sync(inbox)
        subj = "via Postfix %s" % uuid.uuid4().hex[:8]
        smtp_send(mta, "carol@outside.example", [ann],
                  message(subj, body="Gr\u00fc\u00dfe by SMTP and LMTP.\r\n",
                          sender="Carol <carol@outside.example>", to=ann))
        wait_log(mta, r"to=<%s>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=sent "
                      r"\(250 2\.0\.0 <%s> delivered\)" % (re.escape(ann), re.escape(ann)))
        col = dev.sync(inbox)
        adds = col.findall("Commands/Add")
        assert [a.findtext("ApplicationData/Subject") for a in adds] == [subj], col
        body = adds[0].findtext("ApplicationData/Body/Data")
        assert "Gr\u00fc\u00dfe by SMTP and LMTP." in body, body
    finally:
        dev.close()


def test_unknown_account_bounces_with_5_1_1(own, domain, mta):
    ghost = "ghost-%s@%s" % (uuid.uuid4().hex[:6], domain)
    smtp_send(mta, "carol@outside.example", [ghost], message("to nobody", to=ghost))
    wait_log(mta, r"to=<%s>, relay=127\.0\.0\.1.*dsn=5\.1\.1, status=bounced "
                  r"\(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 <%s> User unknown"
             % (re.escape(ghost), re.escape(ghost)))


def test_database_stopped_mail_waits_in_postfix_then_arrives_once(own, domain, mta):
    bob = "bob@" + domain
    subj = "while down %s" % uuid.uuid4().hex[:8]
    own.pg_down()
    try:
        smtp_send(mta, "carol@outside.example", [bob], message(subj, to=bob))
        wait_log(mta, r"to=<%s>, relay=127\.0\.0\.1.*status=deferred \(host 127\.0\.0\.1"
                          r"\[127\.0\.0\.1\] said: 451 4\.3\.0 " % re.escape(bob))
        assert bob in mta.queue()
    finally:
        own.pg_up()
    mta.flush()
    wait_log(mta, r"to=<%s>, relay=127\.0\.0\.1.*status=sent \(250 2\.0\.0" % re.escape(bob))
    assert subjects(own, bob).count(subj) == 1
    # and the queue is empty: nothing left to deliver twice
    end = time.time() + 10
    while bob in mta.queue() and time.time() < end:
        time.sleep(0.2)
    assert "Mail queue is empty" in mta.queue()
    time.sleep(2)
    assert subjects(own, bob).count(subj) == 1


def test_phone_sendmail_to_outside_through_postfix(own, domain, mta):
    """The other way (issue 19, "Out"): a phone's SendMail to an outside address goes through
    ZxMobileMailTransport smtp:// to the same Postfix, which keeps it in its queue (the test's
    Postfix sends nothing out: defer_transports = smtp).  A local recipient of the same
    message is delivered by the server itself, not through Postfix."""
    import os
    ann, bob = "ann@" + domain, "bob@" + domain
    conf = os.path.join(own.extra_dir, "zz-postfix-transport.conf")
    with open(conf, "w") as f:
        f.write("ZxMobileMailTransport smtp://127.0.0.1:%d\nZxMobileSMTPStartTLS optional\n"
                % mta.smtp_port)
    own.reload()
    dev = Device(own, ann, "16.1")
    try:
        subj = "to the world %s" % uuid.uuid4().hex[:8]
        mid = "<%s@%s>" % (uuid.uuid4().hex, domain)
        mime = ("From: Ann <%s>\r\nTo: Friend <friend@outside.example>, Bob <%s>\r\n"
                "Subject: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n\r\nOut through Postfix.\r\n"
                % (ann, bob, subj, mid))
        r = dev.c.post("SendMail", '<SendMail xmlns="ComposeMail:"><ClientId>pf%s</ClientId>'
                       '<Mime>%s</Mime></SendMail>'
                       % (uuid.uuid4().hex[:8], mime.replace("&", "&amp;")
                          .replace("<", "&lt;").replace(">", "&gt;")))
        assert r.status == 200 and not r.body, (r.status, r.body)
        # Postfix took it from the server (our Message-ID) and keeps it for the outsider
        wait_log(mta, r"message-id=%s" % re.escape(mid))
        end = time.time() + 30
        while time.time() < end and "friend@outside.example" not in mta.queue():
            time.sleep(0.3)
        assert "friend@outside.example" in mta.queue(), mta.queue()
        assert ann in mta.queue()           # the envelope sender
        # bob got his copy from the server itself, not through Postfix
        time.sleep(1)
        assert subjects(own, bob).count(subj) == 1
        # (Postfix would have handed a copy for bob straight back over LMTP: a second one)
        assert bob not in mta.queue()
    finally:
        dev.close()
        os.unlink(conf)
        own.reload()
