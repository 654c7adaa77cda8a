"""Mail the server's users send (issue 19, "Out"): recipients that are accounts of this server
get their copy without any MTA (transport none, as a fresh instance has it), the rest goes to
the transport - here SMTP submission to a test server of the harness (t/harness/smtpserver.py:
STARTTLS or implicit TLS with a throwaway certificate, AUTH, scripted 4xx/5xx replies).
[MS-ASCMD] 2.2.2 statuses: 111 ServerErrorRetryLater for a temporary failure (nothing is kept,
the client sends again), 120 MailSubmissionFailed for a permanent one."""

import os
import shutil
import tempfile
import textwrap
import uuid

import pytest

from mailtools import INBOX, SENT, client_for, item_mime, items, new_account  # noqa: F401
from smtpserver import SMTPServer
from test_sendmail import assert_ok, compose, outgoing, parse, status_of


def install(instance, text, name="zz-transport.conf"):
    path = os.path.join(instance.extra_dir, name)
    with open(path, "w") as f:
        f.write(text)
    instance.reload()
    return path


def uninstall(instance, path):
    os.unlink(path)
    instance.reload()


def inbox(instance, account, subject):
    return items(instance, account, INBOX, subject=subject)


# ---- no MTA at all ----------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["12.1", "14.1", "16.1"])
def test_local_mail_needs_no_mta(instance, version):
    """The instance has ZxMobileMailTransport none: mail to its own accounts is delivered,
    To, Cc and Bcc each get one copy, and nobody sees the Bcc but the sender's Sent copy."""
    a, b, c, d = (new_account(instance) for _ in range(4))
    cl = client_for(instance, a, version)
    subject, mime = outgoing(a, to="Bee <%s>" % b, cc=c.upper(), bcc="Dee <%s>" % d,
                             body="Hello,\n.a line with a dot\nbye\n")
    assert_ok(compose(cl, "SendMail", mime, save=True))
    for who in (b, c, d):
        got = inbox(instance, who, subject)
        assert len(got) == 1, (who, got)
        msg = parse(item_mime(instance, got[0]["id"]))
        assert msg["Subject"] == subject
        assert msg["Bcc"] is None
        assert b in msg["To"] and a in msg["From"]
        assert not got[0]["read"]
    sent = items(instance, a, SENT, subject=subject)
    assert len(sent) == 1
    assert d in parse(item_mime(instance, sent[0]["id"]))["Bcc"]
    assert inbox(instance, a, subject) == []


def test_outside_recipient_without_transport_is_refused(instance, expect_log):
    """No transport and one outside recipient: 120, and the local recipient's copy is rolled
    back with the rest (the client's message is not half sent)."""
    expect_log(r"ZX00722: mail from .* not sent: x@example\.org: not an account of this server, "
               r"and no transport")
    a, b = new_account(instance), new_account(instance)
    cl = client_for(instance, a, "14.1")
    subject, mime = outgoing(a, to=b, cc="x@example.org")
    r = compose(cl, "SendMail", mime, save=True)
    assert status_of(r, "SendMail") == 120
    assert inbox(instance, b, subject) == []
    assert items(instance, a, SENT, subject=subject) == []


def test_smartforward_reaches_a_local_account(instance):
    """SmartForward goes the same way (the other commands share zx_submit)."""
    a, b = new_account(instance), new_account(instance)
    cl = client_for(instance, a, "14.1")
    subject, mime = outgoing(a, to=b)
    assert_ok(compose(cl, "SendMail", mime))
    (orig,) = inbox(instance, b, subject)
    clb = client_for(instance, b, "14.1")
    fsubj, fmime = outgoing(b, to=a, subject="FW: " + subject, body="look\n")
    assert_ok(compose(clb, "SmartForward", fmime, source={"ItemId": orig["id"]}))
    (fw,) = inbox(instance, a, "FW: " + subject)
    assert "look" in item_mime(instance, fw["id"]).decode()


def test_meeting_reply_reaches_a_local_organizer(instance, device_factory):
    """A MeetingResponse reply to an organizer of this server is in the organizer's Inbox,
    without any MTA."""
    from test_meetings import invitation, meeting_response, start
    org, att = new_account(instance), new_account(instance)
    from mailtools import PASSWORD
    dev = device_factory(att, "16.1", password=PASSWORD)
    inbox_id = dev.folder("Inbox")
    start(dev, inbox_id)
    uid = "local-%s@example.com" % uuid.uuid4().hex[:8]
    from syncutil import deliver as deliver_id
    mail_id = deliver_id(instance, att, invitation("google", att, uid=uid, organizer=org,
                                                   sender="Org <%s>" % org))
    res = meeting_response(dev, 1, coll=inbox_id, request_id=mail_id, send=True)
    assert res.findtext("Status") == "1"
    (reply,) = inbox(instance, org, "Accepted: Weekly sync")
    raw = item_mime(instance, reply["id"]).decode()
    assert "METHOD:REPLY" in raw and uid in raw and "PARTSTAT=ACCEPTED" in raw


def test_draft_sent_from_sync_reaches_a_local_account(instance):
    """16.1 Drafts: an Add with email2:Send to an account of this server, no MTA."""
    from mailtools import DRAFTS, folder_id
    from test_drafts import OPTS, device, responses
    a, b = new_account(instance), new_account(instance)
    folder_id(instance, a, DRAFTS)
    d = device(instance, a, "16.1")
    drafts = d.folder("Drafts")
    d.sync_all(drafts, options=OPTS)
    subject = "Draft " + uuid.uuid4().hex[:8]
    cmd = ('<Add><ClientId>c-1</ClientId><Send xmlns="Email2:"/><ApplicationData>'
           '<To xmlns="Email:">%s</To><Subject xmlns="Email:">%s</Subject>'
           '<Body xmlns="AirSyncBase:"><Type>1</Type><Data>Local draft.</Data></Body>'
           '</ApplicationData></Add>' % (b, subject))
    col = d.sync(drafts, options=OPTS, commands=cmd)
    (r,) = responses(col, "Add")
    assert r.findtext("Status") == "1", col
    (got,) = inbox(instance, b, subject)
    assert "Local draft." in item_mime(instance, got["id"]).decode()
    assert len(items(instance, a, SENT, subject=subject)) == 1


# ---- SMTP submission --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def smtp_dir():
    d = tempfile.mkdtemp(prefix="zx-smtp-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_smtp_server_down_is_temporary(instance, smtp_dir, expect_log):
    """Nobody listening: a temporary failure (111), not a lost message."""
    import zxinstance
    port = zxinstance.free_port()
    conf = install(instance, "ZxMobileMailTransport smtp://127.0.0.1:%d\n" % port)
    try:
        a = new_account(instance)
        cl = client_for(instance, a, "14.1")
        subject, mime = outgoing(a, to="hal@example.org")
        r = compose(cl, "SendMail", mime, save=True)
        assert status_of(r, "SendMail") == 111
    finally:
        uninstall(instance, conf)


def test_smtps_implicit_tls_and_starttls_policy(instance, smtp_dir):
    # implicit TLS (465 style), no AUTH
    dirs = [tempfile.mkdtemp(dir=smtp_dir) for _ in range(2)]
    for d in dirs:
        os.chmod(d, 0o755)          # the httpd user reads the CA file
    tls = SMTPServer(dirs[0], implicit_tls=True, starttls=False)
    plain = SMTPServer(dirs[1], starttls=False)
    try:
        conf = install(instance, "ZxMobileMailTransport smtps://127.0.0.1:%d\n"
                                 "ZxMobileSMTPCAFile %s\n" % (tls.start(), tls.cert))
        plain.start()
        a = new_account(instance)
        # a new connection after each reload: a kept-alive one may still reach a child of the
        # configuration before
        cl = lambda: client_for(instance, a, "14.1")  # noqa: E731
        subject, mime = outgoing(a, to="ivy@example.org")
        assert_ok(compose(cl(), "SendMail", mime))
        assert len(tls.messages) == 1 and tls.messages[0]["tls"]
        # a server without STARTTLS: refused while it is required (the default) ...
        conf = install(instance, "ZxMobileMailTransport smtp://127.0.0.1:%d\n" % plain.port)
        subject, mime = outgoing(a, to="ivy@example.org")
        assert status_of(compose(cl(), "SendMail", mime), "SendMail") == 111
        assert plain.messages == []
        # ... accepted in clear text once it is optional
        conf = install(instance, "ZxMobileMailTransport smtp://127.0.0.1:%d\n"
                                 "ZxMobileSMTPStartTLS optional\n" % plain.port)
        assert_ok(compose(cl(), "SendMail", mime))
        assert len(plain.messages) == 1 and not plain.messages[0]["tls"]
        # a certificate nobody vouches for (no CA file: the system store): temporary failure
        conf = install(instance, "ZxMobileMailTransport smtps://127.0.0.1:%d\n" % tls.port)
        subject, mime = outgoing(a, to="ivy@example.org")
        assert status_of(compose(cl(), "SendMail", mime), "SendMail") == 111
        assert len(tls.messages) == 1 and len(plain.messages) == 1
    finally:
        uninstall(instance, conf)
        tls.stop()
        plain.stop()


@pytest.fixture(scope="module")
def smtp(instance, smtp_dir):
    """A STARTTLS + AUTH server and the instance pointed at it."""
    srv = SMTPServer(smtp_dir, user="zxsubmit", password="s3cret:with colon")
    port = srv.start()
    cred = os.path.join(smtp_dir, "credentials")
    with open(cred, "w") as f:
        f.write("zxsubmit:s3cret:with colon\n")
    os.chmod(cred, 0o600)
    conf = install(instance, textwrap.dedent("""\
        ZxMobileMailTransport smtp://127.0.0.1:%d
        ZxMobileSMTPCredentials %s
        ZxMobileSMTPCAFile %s
        """ % (port, cred, srv.cert)))
    yield srv
    uninstall(instance, conf)
    srv.stop()


@pytest.fixture
def server(smtp):
    smtp.clear()
    return smtp


@pytest.mark.parametrize("version", ["12.1", "16.1"])
def test_smtp_submission_with_starttls_and_auth(instance, server, version):
    a, b = new_account(instance), new_account(instance)
    cl = client_for(instance, a, version)
    subject, mime = outgoing(a, to="Alice <alice@example.org>", cc=b,
                             bcc="hidden@example.net",
                             body="Hi,\n.starts with a dot\n..two dots\nend\n")
    assert_ok(compose(cl, "SendMail", mime, save=True))
    assert len(server.messages) == 1, server.transcripts
    m = server.messages[0]
    # the envelope: the account, the outside recipients only (b got its copy here)
    assert m["mail_from"] == a
    assert m["rcpts"] == ["alice@example.org", "hidden@example.net"]
    assert m["tls"] and m["auth"] == "zxsubmit"
    # byte for byte what the local recipient got, with SMTP's CRLF line ends
    (local,) = inbox(instance, b, subject)
    raw = item_mime(instance, local["id"])
    assert m["data"] == raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert b"\r\n.starts with a dot\r\n..two dots\r\n" in m["data"]
    assert b"hidden@example.net" not in m["data"]
    assert len(items(instance, a, SENT, subject=subject)) == 1


@pytest.mark.parametrize("version", ["12.1", "14.1"])
def test_smtp_4xx_is_temporary_and_the_retry_works(instance, server, version, expect_log):
    expect_log(r"ZX03000: mail from .* not sent, for now .*451 4\.7\.1 greylisted, come back")
    a, b = new_account(instance), new_account(instance)
    cl = client_for(instance, a, version)
    subject, mime = outgoing(a, to="fred@example.org", cc=b)
    server.script("RCPT", "451 4.7.1 greylisted, come back later")
    cid = "tmp" + uuid.uuid4().hex[:12]
    r = compose(cl, "SendMail", mime, client_id=cid, save=True)
    # [MS-ASCMD] 2.2.2: 111 ServerErrorRetryLater; HTTP 503 before 14.0
    assert status_of(r, "SendMail") == (503 if version == "12.1" else 111)
    assert server.messages == []
    assert inbox(instance, b, subject) == []            # rolled back with the rest
    assert items(instance, a, SENT, subject=subject) == []
    # the phone sends it again (same ClientId): it goes, once
    assert_ok(compose(cl, "SendMail", mime, client_id=cid, save=True))
    assert len(server.messages) == 1
    assert server.messages[0]["rcpts"] == ["fred@example.org"]
    assert len(inbox(instance, b, subject)) == 1
    assert len(items(instance, a, SENT, subject=subject)) == 1


def test_smtp_5xx_is_permanent(instance, server, expect_log):
    expect_log(r"ZX00722: mail from .* not sent: gina@example\.org: .*554 5\.7\.1 refused by "
               r"policy")
    a = new_account(instance)
    cl = client_for(instance, a, "14.1")
    subject, mime = outgoing(a, to="gina@example.org")
    server.script("END", "554 5.7.1 refused by policy")
    r = compose(cl, "SendMail", mime, save=True)
    assert status_of(r, "SendMail") == 120
    assert server.messages == []
    assert items(instance, a, SENT, subject=subject) == []


# ---- the start check --------------------------------------------------------------------------

def configtest(instance, tmp_path, directives):
    conf = tmp_path / "test.conf"
    base = open(instance.conf_path).read().replace('IncludeOptional', '# IncludeOptional')
    conf.write_text(base + "\n" + directives + "\n")
    return instance.httpd_configtest(str(conf))


def test_configtest_refuses_a_bad_transport(instance, tmp_path):
    world = tmp_path / "world-readable"
    world.write_text("u:p\n")
    os.chmod(world, 0o644)
    noexec = tmp_path / "not-a-program"
    noexec.write_text("#!/bin/sh\n")
    os.chmod(noexec, 0o644)
    bad_line = tmp_path / "no-colon"
    bad_line.write_text("just a password\n")
    os.chmod(bad_line, 0o600)
    cases = [
        ("ZxMobileMailTransport sendmail:/nonexistent/sendmail -t -i", "does not exist"),
        ("ZxMobileSendmail /nonexistent/sendmail -t -i", "does not exist"),
        ("ZxMobileMailTransport sendmail:%s -i" % noexec, "not an executable file"),
        ("ZxMobileMailTransport sendmail:sendmail -t", "absolute program path"),
        ("ZxMobileMailTransport smtp://", "no host name"),
        ("ZxMobileMailTransport smtp://mail.example.com:99999", "from 1 to 65535"),
        ("ZxMobileMailTransport smtp://user:pw@mail.example.com", "credentials go in the file"),
        ("ZxMobileMailTransport smtp://mail.example.com/path", "nothing may follow"),
        ("ZxMobileMailTransport ftp://mail.example.com", "is no transport"),
        ("ZxMobileSMTPStartTLS sometimes", "required or optional"),
        ("ZxMobileMailTransport smtp://mail.example.com\nZxMobileSMTPCredentials %s" % world,
         "readable by everyone"),
        ("ZxMobileMailTransport smtp://mail.example.com\nZxMobileSMTPCredentials %s" % bad_line,
         "one line user:password"),
        ("ZxMobileMailTransport smtp://mail.example.com\nZxMobileSMTPCredentials /nonexistent",
         "does not exist"),
        ("ZxMobileMailTransport smtps://mail.example.com\nZxMobileSMTPCAFile /nonexistent.pem",
         "is not a readable file"),
        ("ZxMobileMailTransport none\nZxMobileSMTPCAFile /etc/hostname", "apply to an smtp://"),
    ]
    for directives, message in cases:
        ok, out = configtest(instance, tmp_path, directives)
        assert not ok, directives
        assert message in out, (directives, out)


def test_configtest_accepts_good_transports(instance, tmp_path):
    cred = tmp_path / "cred"
    cred.write_text("u:p\n")
    os.chmod(cred, 0o640)
    for directives in ("ZxMobileMailTransport none",
                       "ZxMobileMailTransport /bin/cat",
                       "ZxMobileMailTransport sendmail: /bin/cat -i",
                       "ZxMobileMailTransport smtp://[::1]:2525\nZxMobileSMTPStartTLS optional",
                       "ZxMobileMailTransport smtp://mail.example.com\n"
                       "ZxMobileSMTPCredentials %s\n"
                       "ZxMobileSMTPCAFile /etc/ssl/certs/ca-certificates.crt" % cred):
        ok, out = configtest(instance, tmp_path, directives)
        assert ok, (directives, out)
    ok, out = configtest(instance, tmp_path, "ZxMobileMailTransport none")
    assert "mail between accounts of this server is delivered" in out, out
