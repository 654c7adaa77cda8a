"""SendMail, SmartReply, SmartForward ([MS-ASCMD] 2.2.1.17, 2.2.1.20, 2.2.1.19) at 12.1 (MIME
body, query parameters), 14.1 and 16.1 (ComposeMail WBXML), through a fake sendmail: envelope
sender and recipients, Bcc, the Sent Items copy, the answered/forwarded mark with
LastVerbExecuted, the status codes, and nothing half-done when sendmail fails."""

import base64
import email
import email.policy
import uuid

import pytest

from mailtools import (INBOX, SENT, VERSIONS, account, client_for, deliver,  # noqa: F401
                       tnef_stream, winmail_message,
                       fake_sendmail, folder_id, install_sendmail, item_mime, items,
                       message_with_attachment, new_account, sendmail, simple_message)

CM = 'xmlns="ComposeMail:"'


def outgoing(account, to="alice@example.org", subject=None, body="Hi Alice,\nsee you.\n",
             cc=None, bcc=None):
    subject = subject or "Test " + uuid.uuid4().hex[:8]
    hdr = "From: Mail Tester <%s>\r\nTo: %s\r\n" % (account, to)
    if cc:
        hdr += "Cc: %s\r\n" % cc
    if bcc:
        hdr += "Bcc: %s\r\n" % bcc
    hdr += "Subject: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" % subject
    return subject, (hdr + body.replace("\n", "\r\n")).encode("utf-8")


def b64(data):
    return base64.b64encode(data).decode("ascii")


def compose(c, cmd, mime, client_id=None, save=False, replace=False, source=None, extra=""):
    """Send a compose command in the form of the client's protocol version."""
    if c.protocol in ("12.1",):
        params = []
        if save:
            params.append(("SaveInSent", "T"))
        for k, v in (source or {}).items():
            params.append(({"FolderId": "CollectionId"}.get(k, k), v))
        return c.post(cmd, mime, params=params, content_type="message/rfc822")
    src = ""
    if source is not None:
        src = "<Source>%s</Source>" % "".join("<%s>%s</%s>" % (k, v, k) for k, v in source.items())
    xml = "<%s %s><ClientId>%s</ClientId>%s%s%s%s<Mime opaque=\"base64\">%s</Mime></%s>" % (
        cmd, CM, client_id or uuid.uuid4().hex[:20], src, "<SaveInSentItems/>" if save else "",
        "<ReplaceMime/>" if replace else "", extra, b64(mime), cmd)
    return c.post(cmd, xml)


def status_of(r, cmd):
    """The failure status: ComposeMail Status (14.0+) or the HTTP status (12.1)."""
    if r.wbxml is not None:
        assert r.wbxml.name == cmd
        return int(r.wbxml.findtext("Status"))
    return r.status


def assert_ok(r):
    assert r.status == 200, (r, r.body[:300])
    assert r.body == b"", r.body[:300]


def parse(raw):
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    return email.message_from_bytes(raw, policy=email.policy.default)


def text_of(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


# ---- SendMail ---------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_sendmail_sends_and_saves(instance, account, sendmail, version):
    c = client_for(instance, account, version)
    subject, mime = outgoing(account, to="Alice <alice@example.org>", cc="bob@example.org",
                             bcc="Hidden <carol@example.net>")
    assert_ok(compose(c, "SendMail", mime, save=True))
    sent = sendmail.sent()
    assert len(sent) == 1
    argv = sent[0]["argv"]
    # the authenticated account is the envelope sender; recipients are given explicitly
    assert argv[argv.index("-f") + 1] == account
    assert "-i" in argv
    assert {"alice@example.org", "bob@example.org", "carol@example.net"} <= set(argv)
    msg = parse(sent[0]["stdin"])
    assert msg["Subject"] == subject
    assert msg["Bcc"] is None                       # recipients never see the Bcc
    assert msg["Message-ID"] and msg["Date"]        # added by the server
    assert "see you." in text_of(msg)
    # the Sent Items copy keeps the Bcc and is read
    copies = items(instance, account, SENT, subject=subject)
    assert len(copies) == 1 and copies[0]["read"]
    raw = item_mime(instance, copies[0]["id"])
    copy = parse(raw)
    assert "carol@example.net" in (copy["Bcc"] or ""), raw[:800]
    assert items(instance, account, INBOX, subject=subject) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_sendmail_without_save_stores_nothing(instance, account, sendmail, version):
    c = client_for(instance, account, version)
    subject, mime = outgoing(account)
    assert_ok(compose(c, "SendMail", mime, save=False))
    assert len(sendmail.sent()) == 1
    assert items(instance, account, SENT, subject=subject) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_failing_sendmail_keeps_nothing(instance, account, sendmail, version, expect_log):
    expect_log(r"ZX03000: mail from .* not sent, for now .*fake-sendmail exited with status 75")
    c = client_for(instance, account, version)
    subject, mime = outgoing(account)
    sendmail.fail(75)       # EX_TEMPFAIL: a temporary failure
    r = compose(c, "SendMail", mime, client_id="retry-me", save=True)
    # [MS-ASCMD] 2.2.2: 111 ServerErrorRetryLater (the client keeps the mail and sends it
    # again); HTTP 503 before 14.0
    assert status_of(r, "SendMail") == (503 if version == "12.1" else 111)
    assert sendmail.sent() == []
    assert items(instance, account, SENT, subject=subject) == []
    # the ClientId was not used up: the retry goes through
    sendmail.succeed()
    assert_ok(compose(c, "SendMail", mime, client_id="retry-me", save=True))
    assert len(sendmail.sent()) == 1
    assert len(items(instance, account, SENT, subject=subject)) == 1


@pytest.mark.parametrize("version", ["14.1", "16.1"])
def test_client_id_sent_twice(instance, account, sendmail, version):
    c = client_for(instance, account, version)
    subject, mime = outgoing(account)
    assert_ok(compose(c, "SendMail", mime, client_id="mid-1", save=True))
    r = compose(c, "SendMail", mime, client_id="mid-1", save=True)
    assert status_of(r, "SendMail") == 118          # MessagePreviouslySent
    assert len(sendmail.sent()) == 1
    assert len(items(instance, account, SENT, subject=subject)) == 1
    # ClientIds are per device
    other = client_for(instance, account, version)
    assert_ok(compose(other, "SendMail", mime, client_id="mid-1"))
    assert len(sendmail.sent()) == 2


@pytest.mark.parametrize("version", VERSIONS)
def test_message_without_recipient(instance, account, sendmail, version):
    c = client_for(instance, account, version)
    mime = b"From: x@example.org\r\nSubject: nobody\r\n\r\nbody\r\n"
    r = compose(c, "SendMail", mime, save=True)
    assert status_of(r, "SendMail") == (400 if version == "12.1" else 119)
    assert sendmail.sent() == []


@pytest.mark.parametrize("xml,status", [
    ('<SendMail %s><Mime>To: a@example.org\r\n\r\nx</Mime></SendMail>' % CM, 103),   # no ClientId
    ('<SendMail %s><ClientId>1</ClientId></SendMail>' % CM, 103),                    # no Mime
    ('<SendMail %s><ClientId>%s</ClientId><Mime>To: a@example.org\r\n\r\nx</Mime></SendMail>'
     % (CM, "x" * 41), 103),                                                         # too long
    ('<SendMail %s><ClientId>2</ClientId><Source><ItemId>1</ItemId></Source>'
     '<Mime>To: a@example.org\r\n\r\nx</Mime></SendMail>' % CM, 103),
    ('<SendMail %s><ClientId>3</ClientId><AccountId>other</AccountId>'
     '<Mime>To: a@example.org\r\n\r\nx</Mime></SendMail>' % CM, 166),                # InvalidAccountId
])
def test_sendmail_request_errors(instance, account, sendmail, xml, status):
    c = client_for(instance, account, "16.1")
    r = c.post("SendMail", xml)
    assert r.status == 200
    assert status_of(r, "SendMail") == status
    assert sendmail.sent() == []


def test_sendmail_inline_string_mime(instance, account, sendmail):
    """Mime as an inline string instead of opaque data."""
    c = client_for(instance, account, "14.1")
    r = c.post("SendMail", "<SendMail %s><ClientId>s1</ClientId><Mime>To: dora@example.org\r\n"
                           "Subject: inline\r\n\r\nplain text</Mime></SendMail>" % CM)
    assert_ok(r)
    sent = sendmail.sent()
    assert "dora@example.org" in sent[0]["argv"]
    assert parse(sent[0]["stdin"])["Subject"] == "inline"


def test_sendmail_with_t_option(instance, account, fake_sendmail):
    """With -t in ZxMobileSendmail the recipients come from the message and the Bcc is left
    for sendmail to remove."""
    fake, conf = install_sendmail(instance, "-t", fake=fake_sendmail)
    try:
        c = client_for(instance, account, "14.1")
        subject, mime = outgoing(account, bcc="hidden@example.net")
        assert_ok(compose(c, "SendMail", mime))
        sent = fake.sent()
        assert len(sent) == 1
        argv = sent[0]["argv"]
        assert "-t" in argv and argv[argv.index("-f") + 1] == account
        assert "alice@example.org" not in argv
        assert "hidden@example.net" in parse(sent[0]["stdin"])["Bcc"]
    finally:
        install_sendmail(instance, fake=fake_sendmail)     # back to explicit recipients


# ---- SmartReply / SmartForward --------------------------------------------------------------

def original(instance, account, with_attachment=False):
    subject = "Original " + uuid.uuid4().hex[:8]
    if with_attachment:
        raw = message_with_attachment("Olga Orig <olga@example.com>", account, subject,
                                      "The original text.\nSecond line.", "report.pdf",
                                      b"%PDF-1.4 fake pdf " * 20, "application/pdf")
    else:
        raw = simple_message("Olga Orig <olga@example.com>", account, subject,
                             "The original text.\nSecond line.\n")
    deliver(instance, account, raw)
    it = items(instance, account, INBOX, subject=subject)
    assert len(it) == 1
    return it[0], subject


@pytest.mark.parametrize("version", VERSIONS)
def test_smartreply(instance, account, sendmail, version):
    orig, osubj = original(instance, account)
    c = client_for(instance, account, version)
    subject, mime = outgoing(account, to="olga@example.com", subject="RE: " + osubj,
                             body="Thanks Olga!\n")
    src = {"FolderId": orig["folder_id"], "ItemId": orig["id"]}
    if version == "12.1":
        src = {"ItemId": orig["id"], "CollectionId": orig["folder_id"]}
    assert_ok(compose(c, "SmartReply", mime, save=True, source=src))
    sent = sendmail.sent()
    assert len(sent) == 1 and sent[0]["argv"][-1] == "olga@example.com"
    msg = parse(sent[0]["stdin"])
    text = text_of(msg)
    # the client's text, then the original quoted
    assert text.index("Thanks Olga!") < text.index("> The original text.")
    assert "> Second line." in text
    assert "-----Original Message-----" in text and "olga@example.com" in text
    assert msg["In-Reply-To"] and msg["In-Reply-To"].startswith("<")
    # the original: answered, LastVerbExecuted 1 (reply to sender)
    o = items(instance, account, INBOX, subject=osubj)[0]
    assert o["answered"] and not o["forwarded"] and o["last_verb"] == 1
    assert len(items(instance, account, SENT, subject=subject)) == 1


def test_smartreply_to_all(instance, account, sendmail):
    orig, osubj = original(instance, account)
    c = client_for(instance, account, "14.1")
    subject, mime = outgoing(account, to="olga@example.com", cc="team@example.com",
                             subject="RE: " + osubj, body="Thanks all\n")
    assert_ok(compose(c, "SmartReply", mime, source={"ItemId": orig["id"]}))
    o = items(instance, account, INBOX, subject=osubj)[0]
    assert o["answered"] and o["last_verb"] == 2        # reply to all


@pytest.mark.parametrize("version", VERSIONS)
def test_smartforward(instance, account, sendmail, version):
    orig, osubj = original(instance, account, with_attachment=True)
    c = client_for(instance, account, version)
    subject, mime = outgoing(account, to="fred@example.org", subject="FW: " + osubj,
                             body="FYI, see below.\n")
    assert_ok(compose(c, "SmartForward", mime, source={"ItemId": orig["id"]}))
    msg = parse(sendmail.sent()[0]["stdin"])
    text = text_of(msg)
    assert text.index("FYI, see below.") < text.index("The original text.")
    assert "> The original text." not in text            # inline, not quoted
    names = [p.get_filename() for p in msg.iter_attachments()]
    assert "report.pdf" in names
    att = [p for p in msg.iter_attachments() if p.get_filename() == "report.pdf"][0]
    assert att.get_content() == b"%PDF-1.4 fake pdf " * 20
    o = items(instance, account, INBOX, subject=osubj)[0]
    assert o["forwarded"] and not o["answered"] and o["last_verb"] == 3
    assert items(instance, account, SENT, subject=subject) == []     # not asked to save


PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGA"
                         "hKmMIQAAAABJRU5ErkJggg==")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("cmd", ["SmartForward", "SmartReply"])
def test_inline_images_of_the_original_go_with_its_html(instance, account, sendmail, version, cmd):
    """The original's HTML shows an image by cid: (multipart/related); the HTML copied into the
    reply or forward shows it too: the image goes into the new message's multipart/related
    with its Content-ID (RFC 2387, RFC 2392)."""
    osubj = "Pictured " + uuid.uuid4().hex[:8]
    raw = ("From: Olga Orig <olga@example.com>\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/related; boundary=\"rel\"; type=\"text/html\"\r\n\r\n"
           "--rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           "<html><body><p>Our logo:</p><img src=\"cid:logo.png@olga\"></body></html>\r\n"
           "--rel\r\nContent-Type: image/png\r\nContent-ID: <logo.png@olga>\r\n"
           "Content-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n"
           "--rel\r\nContent-Type: image/png\r\nContent-ID: <unused@olga>\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--rel--\r\n"
           % (account, osubj, b64(PIXEL), b64(PIXEL)))
    deliver(instance, account, raw.encode())
    orig = items(instance, account, INBOX, subject=osubj)[0]
    c = client_for(instance, account, version)
    subject = "%s: %s" % ("FW" if cmd == "SmartForward" else "RE", osubj)
    mime = ("From: %s\r\nTo: fred@example.org\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
            "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLook at this.\r\n"
            "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            "<html><body><p>Look at this.</p></body></html>\r\n--alt--\r\n"
            % (account, subject)).encode()
    assert_ok(compose(c, cmd, mime, source={"ItemId": orig["id"]}))
    msg = parse(sendmail.sent()[0]["stdin"])
    html = msg.get_body(preferencelist=("html",))
    assert "Look at this." in html.get_content() and 'src="cid:logo.png@olga"' in html.get_content()
    related = [p for p in msg.walk() if p.get_content_type() == "multipart/related"]
    assert len(related) == 1
    inner = list(related[0].iter_parts())
    assert inner[0].get_content_type() == "text/html"
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert [p["Content-ID"] for p in images] == ["<logo.png@olga>"]     # only the one shown
    assert images[0] in inner and images[0].get_content() == PIXEL
    assert "Look at this." in text_of(msg)


@pytest.mark.parametrize("version", VERSIONS)
def test_smartforward_carries_the_files_of_a_winmail_dat(instance, account, sendmail, version):
    """The device showed the files inside the original's winmail.dat as its attachments; the
    forward carries those files, not the winmail.dat a recipient may not open."""
    pdf = b"%PDF-1.4 minutes " * 25
    osubj = "Rich " + uuid.uuid4().hex[:8]
    deliver(instance, account, winmail_message(account, osubj, "Minutes attached.",
                                               tnef_stream([("Minutes May.pdf", pdf)])))
    orig = items(instance, account, INBOX, subject=osubj)[0]
    c = client_for(instance, account, version)
    subject, mime = outgoing(account, to="fred@example.org", subject="FW: " + osubj,
                             body="Forwarding.\n")
    assert_ok(compose(c, "SmartForward", mime, source={"ItemId": orig["id"]}))
    msg = parse(sendmail.sent()[0]["stdin"])
    atts = list(msg.iter_attachments())
    assert [a.get_filename() for a in atts] == ["Minutes May.pdf"]
    assert atts[0].get_content_type() == "application/pdf"
    assert atts[0].get_content() == pdf
    assert "Minutes attached." in text_of(msg)


@pytest.mark.parametrize("cmd", ["SmartForward", "SmartReply"])
def test_replace_mime(instance, account, sendmail, cmd):
    orig, osubj = original(instance, account, with_attachment=True)
    c = client_for(instance, account, "14.1")
    subject, mime = outgoing(account, to="fred@example.org", subject="Edited " + osubj,
                             body="I edited everything myself.\n")
    assert_ok(compose(c, cmd, mime, replace=True, source={"ItemId": orig["id"]}))
    msg = parse(sendmail.sent()[0]["stdin"])
    # [MS-ASCMD] 2.2.3.148: nothing of the original's body or attachments
    assert "The original text." not in text_of(msg)
    assert list(msg.iter_attachments()) == []
    o = items(instance, account, INBOX, subject=osubj)[0]
    assert (o["forwarded"] if cmd == "SmartForward" else o["answered"])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("cmd", ["SmartReply", "SmartForward"])
def test_failing_sendmail_leaves_original_unmarked(instance, account, sendmail, version, cmd,
                                                   expect_log):
    expect_log(r"ZX00722: mail from .* not sent")
    orig, osubj = original(instance, account)
    c = client_for(instance, account, version)
    subject, mime = outgoing(account, to="olga@example.com", subject="RE: " + osubj)
    sendmail.fail(1)
    r = compose(c, cmd, mime, save=True, source={"ItemId": orig["id"]})
    assert status_of(r, cmd) == (500 if version == "12.1" else 120)
    o = items(instance, account, INBOX, subject=osubj)[0]
    assert not o["answered"] and not o["forwarded"] and o["last_verb"] == 0
    assert items(instance, account, SENT, subject=subject) == []
    assert sendmail.sent() == []


@pytest.mark.parametrize("version", VERSIONS)
def test_smartreply_unknown_item(instance, account, sendmail, version):
    c = client_for(instance, account, version)
    inbox = folder_id(instance, account, INBOX)
    subject, mime = outgoing(account)
    src = {"ItemId": "999999999"} if version != "12.1" else {"ItemId": "999999999",
                                                             "CollectionId": inbox}
    r = compose(c, "SmartReply", mime, source=src)
    # 150 ItemNotFound; HTTP 500 before 14.0
    assert status_of(r, "SmartReply") == (500 if version == "12.1" else 150)
    assert sendmail.sent() == []


def test_smart_source_in_other_folder_is_not_found(instance, account, sendmail):
    orig, _ = original(instance, account)
    c = client_for(instance, account, "14.1")
    subject, mime = outgoing(account)
    r = compose(c, "SmartForward", mime,
                source={"FolderId": folder_id(instance, account, SENT), "ItemId": orig["id"]})
    assert status_of(r, "SmartForward") == 150


def test_smart_item_of_another_account(instance, account, sendmail):
    orig, _ = original(instance, new_account(instance))
    c = client_for(instance, account, "14.1")
    subject, mime = outgoing(account)
    r = compose(c, "SmartReply", mime, source={"ItemId": orig["id"]})
    assert status_of(r, "SmartReply") == 150


@pytest.mark.parametrize("source,status", [
    ("<Source><FolderId>1</FolderId></Source>", 103),                 # no ItemId
    ("<Source><LongId>1</LongId><ItemId>1</ItemId></Source>", 105),   # InvalidCombinationOfIDs
    ("<Source><ItemId>%(id)s</ItemId><InstanceId>29/02/2030 10:00</InstanceId></Source>", 104),
    ("", 103),                                                        # no Source
])
def test_smart_request_errors(instance, account, sendmail, source, status):
    orig, _ = original(instance, account)
    c = client_for(instance, account, "14.1")
    xml = ("<SmartReply %s><ClientId>e1</ClientId>%s<Mime>To: a@example.org\r\n\r\nx</Mime>"
           "</SmartReply>" % (CM, source % {"id": orig["id"]}))
    r = c.post("SmartReply", xml)
    assert status_of(r, "SmartReply") == status
    assert sendmail.sent() == []


def test_12_1_smartreply_without_item_id(instance, account, sendmail):
    c = client_for(instance, account, "12.1")
    subject, mime = outgoing(account)
    r = c.post("SmartReply", mime, content_type="message/rfc822")
    assert r.status == 400


def test_smartforward_forwardees_16(instance, account, sendmail):
    """16.x: a SmartForward with Forwardees and airsyncbase:Body instead of Mime."""
    orig, osubj = original(instance, account, with_attachment=True)
    c = client_for(instance, account, "16.1")
    xml = ('<SmartForward %s xmlns:airsyncbase="AirSyncBase:"><ClientId>fw16</ClientId>'
           '<Source><ItemId>%s</ItemId></Source>'
           '<airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type>'
           '<airsyncbase:Data>Please join.</airsyncbase:Data></airsyncbase:Body>'
           '<Forwardees><Forwardee><Name>Gina</Name><Email>gina@example.org</Email></Forwardee>'
           '<Forwardee><Email>hal@example.org</Email></Forwardee></Forwardees>'
           '</SmartForward>' % (CM, orig["id"]))
    assert_ok(c.post("SmartForward", xml))
    sent = sendmail.sent()
    assert {"gina@example.org", "hal@example.org"} <= set(sent[0]["argv"])
    msg = parse(sent[0]["stdin"])
    assert msg["Subject"] == "FW: " + osubj
    assert "Please join." in text_of(msg) and "The original text." in text_of(msg)
    assert items(instance, account, INBOX, subject=osubj)[0]["last_verb"] == 3
    # Forwardees together with Mime is refused
    r = c.post("SmartForward", xml.replace("<ClientId>fw16</ClientId>",
                                           "<ClientId>fw17</ClientId><Mime>x</Mime>"))
    assert status_of(r, "SmartForward") == 103


def test_from_is_the_account(instance, account, sendmail):
    c = client_for(instance, account, "14.1")
    mime = (b"From: The Boss <boss@elsewhere.example>\r\nTo: x@example.org\r\nSubject: spoof\r\n"
            b"\r\nhi\r\n")
    assert_ok(compose(c, "SendMail", mime))
    sender = parse(sendmail.sent()[0]["stdin"])["From"].addresses[0]
    assert (sender.addr_spec, sender.display_name) == (account, "The Boss")
    # without From the account's address is added
    assert_ok(compose(c, "SendMail", b"To: x@example.org\r\nSubject: nofrom\r\n\r\nhi\r\n"))
    assert parse(sendmail.sent()[1]["stdin"])["From"].addresses[0].addr_spec == account


def test_signed_reply_is_sent_as_made(instance, account, sendmail):
    """Adding the original to a signed message would break its signature."""
    orig, osubj = original(instance, account)
    c = client_for(instance, account, "14.1")
    mime = ("From: %s\r\nTo: olga@example.com\r\nSubject: RE: %s\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; "
            "micalg=sha-256; boundary=\"sig\"\r\n\r\n--sig\r\nContent-Type: text/plain\r\n\r\n"
            "Signed thanks.\r\n--sig\r\nContent-Type: application/pkcs7-signature\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\r\n--sig--\r\n"
            % (account, osubj)).encode()
    assert_ok(compose(c, "SmartReply", mime, source={"ItemId": orig["id"]}))
    out = sendmail.sent()[0]["stdin"]
    assert "Signed thanks." in out and "The original text." not in out
    assert items(instance, account, INBOX, subject=osubj)[0]["answered"]


@pytest.mark.parametrize("version", ["14.1", "16.1"])
def test_reply_mark_and_sent_copy_seen_by_sync(instance, account, sendmail, version):
    """The original's LastVerbExecuted and the Sent Items copy reach the sending device."""
    from mailtools import PASSWORD
    from syncutil import Device, ops
    orig, osubj = original(instance, account)
    sent = folder_id(instance, account, SENT)
    d = Device(instance, account, protocol=version, password=PASSWORD)
    try:
        d.foldersync()
        d.sync_all(orig["folder_id"])
        d.sync_all(sent)
        subject, mime = outgoing(account, to="olga@example.com", subject="RE: " + osubj)
        r = d.c.post("SmartReply", "<SmartReply %s><ClientId>r1</ClientId><Source><ItemId>%s"
                                   "</ItemId></Source><SaveInSentItems/><Mime opaque=\"base64\">"
                                   "%s</Mime></SmartReply>" % (CM, orig["id"], b64(mime)))
        assert_ok(r)
        col = d.sync(orig["folder_id"])
        assert ops(col) == [("Change", orig["id"])]
        change = col.find("Commands/Change/ApplicationData")
        assert change.findtext("Email2:LastVerbExecuted") == "1"
        col = d.sync(sent)
        assert [o for o, _ in ops(col)] == ["Add"]
        assert col.find("Commands/Add/ApplicationData").findtext("Email:Subject") == subject
    finally:
        d.close()
