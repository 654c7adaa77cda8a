"""E-mail at MS-ASProtocolVersion 2.5 over the real httpd, decoded by the independent test
client:

* Sync Options of 2.5 ([MS-ASCMD] 2.2.3.125.6): Truncation size codes (2.2.3.185), MIMESupport
  (2.2.3.110.3) and MIMETruncation (2.2.3.111);
* the 2.5 Email elements of [MS-ASEMAIL]: Body (2.2.2.10.2), BodySize (2.2.2.12), BodyTruncated
  (2.2.2.13), MIMEData (2.2.2.50), MIMESize (2.2.2.51), MIMETruncated (2.2.2.52), Attachments /
  Attachment with DisplayName, AttName, AttSize, AttMethod (2.2.2.2-2.2.2.6, 2.2.2.28), the
  attachment downloaded with GetAttachment ([MS-ASCMD] 2.2.1.7) and its AttName;
* Sync Fetch of a truncated message (the whole body and MIME, [MS-ASEMAIL] 2.2.2.50);
* GetItemEstimate at 2.5 (Class, SyncKey, CollectionId, FilterType in the Collection);
* and the 12.1 / 14.1 responses for the same mailbox keep their airsyncbase form.
"""

import email
import email.policy

import pytest

from syncutil import Device, deliver, message, new_account

# [MS-ASCMD] 2.2.3.185 Truncation: the characters each code keeps (9: everything)
TRUNCATION_CHARS = {0: 0, 1: 512, 2: 1024, 3: 2048, 4: 5120, 5: 10240, 6: 20480, 7: 51200,
                    8: 102400}
# [MS-ASCMD] 2.2.3.111 MIMETruncation: the characters each code keeps (8: everything)
MIME_TRUNCATION_CHARS = {0: 0, 1: 4096, 2: 5120, 3: 7168, 4: 10240, 5: 20480, 6: 51200,
                         7: 102400}

# an 18 KB text body: lines of ASCII with a few two-byte characters (characters != bytes)
LINE = "Line %04d of the long message, caf\u00e9 cr\u00e8me, %s\r\n"
BODY_18K = "".join(LINE % (i, "x" * 20) for i in range(275))
assert 18000 < len(BODY_18K.encode("utf-8")) < 19500

PAYLOAD = bytes(range(256)) * 12 + b"end of attachment"


@pytest.fixture(scope="module")
def mailbox(instance):
    """One account with the 18 KB message and a message with an attachment."""
    account = new_account(instance)
    deliver(instance, account, message("long one", body=BODY_18K))
    deliver(instance, account, message("with attachment", body="See the file.",
                                       attachment=("report.bin", "application/octet-stream",
                                                   PAYLOAD)))
    return account


def options_25(truncation=None, mime_support=None, mime_truncation=None, rtf=None):
    x = "<Options><FilterType>0</FilterType>"
    if truncation is not None:
        x += "<Truncation>%d</Truncation>" % truncation
    if rtf is not None:     # a token of [MS-ASWBXML] r1.0 only: decoded, ignored (no RTF kept)
        x += "<RTFTruncation>%d</RTFTruncation>" % rtf
    if mime_support is not None:
        x += "<MIMESupport>%d</MIMESupport>" % mime_support
    if mime_truncation is not None:
        x += "<MIMETruncation>%d</MIMETruncation>" % mime_truncation
    return x + "<Conflict>1</Conflict></Options>"


def sync_25(instance, account, options):
    """A new 2.5 device's first two Syncs of the Inbox: its Adds by subject, and the device."""
    d = Device(instance, account, protocol="2.5")
    d.foldersync()
    inbox = d.folder("Inbox")
    col = d.sync(inbox, key="0", options=options, extra="<Class>Email</Class>")
    assert col.findtext("Status") == "1", col
    col = d.sync(inbox, options=options, extra="<Class>Email</Class>", window=50)
    assert col.findtext("Status") == "1", col
    adds = {a.findtext("ApplicationData/Subject"): a for a in col.findall("Commands/Add")}
    return adds, d


def appdata(add):
    return add.find("ApplicationData")


def child_names(node):
    return [c.name for c in node.children]


def no_airsyncbase(ad):
    """The 2.5 form: nothing of AirSyncBase in the item."""
    assert ad.find("AirSyncBase:Body") is None
    assert ad.find("AirSyncBase:Attachments") is None
    assert ad.find("AirSyncBase:NativeBodyType") is None


@pytest.fixture(scope="module")
def whole(instance, mailbox):
    """The whole body as a 2.5 device gets it with Truncation 9 (no truncation)."""
    adds, d = sync_25(instance, mailbox, options_25(truncation=9, mime_support=0))
    d.close()
    ad = appdata(adds["long one"])
    return ad.findtext("Body")


def test_truncation_9_is_the_whole_body(instance, mailbox, whole):
    adds, d = sync_25(instance, mailbox, options_25(truncation=9, mime_support=0))
    d.close()
    ad = appdata(adds["long one"])
    # the delivered text, whole (line ends as the message had them, or as LF)
    assert whole.replace("\r\n", "\n").rstrip("\n") == BODY_18K.replace("\r\n", "\n").rstrip("\n")
    assert ad.findtext("BodyTruncated") == "0"
    assert ad.find("BodySize") is None            # only with BodyTruncated 1 (2.2.2.12)
    assert ad.find("MIMEData") is None
    no_airsyncbase(ad)


def test_no_truncation_element_no_truncation(instance, mailbox, whole):
    # [MS-ASCMD] 2.2.3.185: "If the Truncation element is omitted, no text is truncated."
    adds, d = sync_25(instance, mailbox, options_25())
    d.close()
    ad = appdata(adds["long one"])
    assert ad.findtext("Body") == whole
    assert ad.findtext("BodyTruncated") == "0"


@pytest.mark.parametrize("code", sorted(TRUNCATION_CHARS))
def test_truncation_code(instance, mailbox, whole, code):
    adds, d = sync_25(instance, mailbox, options_25(truncation=code, mime_support=0, rtf=4))
    d.close()
    ad = appdata(adds["long one"])
    keep = TRUNCATION_CHARS[code]
    body = ad.findtext("Body") or ""
    no_airsyncbase(ad)
    assert ad.find("MIMEData") is None
    if keep < len(whole):
        assert len(body) == keep, (code, len(body))          # characters, not bytes
        assert body == whole[:keep]
        assert ad.findtext("BodyTruncated") == "1"
        assert ad.findtext("BodySize") == str(len(whole))
    else:                                                    # 51200, 102400: all of 18 KB
        assert body == whole
        assert ad.findtext("BodyTruncated") == "0"
        assert ad.find("BodySize") is None
    # the short message obeys the same code
    short = appdata(adds["with attachment"])
    if code == 0:
        assert (short.findtext("Body") or "") == ""
        assert short.findtext("BodyTruncated") == "1"
    else:
        assert (short.findtext("Body") or "").startswith("See the file.")
        assert short.findtext("BodyTruncated") == "0"


def parse_mime(data):
    return email.message_from_bytes(data.encode("utf-8") if isinstance(data, str) else data,
                                    policy=email.policy.default)


def mime_text(ad):
    n = ad.find("MIMEData")
    assert n is not None, child_names(ad)
    return n.text if n.text is not None else n.opaque.decode("utf-8")


def test_mime_support_2_sends_mime(instance, mailbox, whole):
    adds, d = sync_25(instance, mailbox, options_25(truncation=9, mime_support=2,
                                                    mime_truncation=8))
    d.close()
    ad = appdata(adds["long one"])
    data = mime_text(ad)
    msg = parse_mime(data)
    assert msg["Subject"] == "long one"
    text = msg.get_body(("plain",)).get_content()
    assert text.replace("\r\n", "\n").rstrip("\n") == whole.replace("\r\n", "\n").rstrip("\n")
    assert ad.findtext("MIMETruncated") == "0"
    assert ad.findtext("MIMESize") == str(len(data))
    # MIME instead of the text body ([MS-ASEMAIL] 2.2.2.50)
    assert ad.find("Body") is None and ad.find("BodyTruncated") is None
    no_airsyncbase(ad)
    # the attachment's message: its MIME carries the attachment itself
    ad = appdata(adds["with attachment"])
    msg = parse_mime(mime_text(ad))
    att = [p for p in msg.iter_attachments()]
    assert [a.get_filename() for a in att] == ["report.bin"]
    assert att[0].get_content() == PAYLOAD


@pytest.mark.parametrize("code", [0, 1, 2, 3, 4])
def test_mime_truncation(instance, mailbox, code):
    adds, d = sync_25(instance, mailbox, options_25(truncation=9, mime_support=2,
                                                    mime_truncation=8))
    full = mime_text(appdata(adds["long one"]))
    d.close()
    adds, d = sync_25(instance, mailbox, options_25(truncation=9, mime_support=2,
                                                    mime_truncation=code))
    d.close()
    ad = appdata(adds["long one"])
    keep = MIME_TRUNCATION_CHARS[code]
    data = mime_text(ad)
    assert len(data) == keep, (code, len(data))
    assert data == full[:keep]
    assert ad.findtext("MIMETruncated") == "1"
    # MIMESize: the characters of the whole MIME when the server loaded it whole to cut it (it
    # loads 4 bytes a character asked for), else its size in bytes (email25.c)
    size = len(full.encode("utf-8"))
    assert ad.findtext("MIMESize") == str(len(full) if keep * 4 >= size else size)


def test_mime_support_1_is_smime_only(instance, mailbox, whole):
    adds, d = sync_25(instance, mailbox, options_25(truncation=1, mime_support=1,
                                                    mime_truncation=8))
    d.close()
    ad = appdata(adds["long one"])
    assert ad.find("MIMEData") is None              # not an S/MIME message
    assert ad.findtext("Body") == whole[:512]
    assert ad.findtext("BodyTruncated") == "1"


SIGNED = ("From: Ann Sender <ann@example.com>\r\nTo: user@example.net\r\n"
          "Subject: signed one\r\nMessage-ID: <signed-v25@example.com>\r\n"
          "Date: Thu, 01 Feb 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
          "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; "
          "micalg=sha-256; boundary=\"sig\"\r\n\r\n"
          "--sig\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSigned text.\r\n"
          "--sig\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
          "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\r\n"
          "--sig--\r\n").encode()


def test_mime_support_1_sends_mime_of_smime(instance):
    account = new_account(instance)
    deliver(instance, account, SIGNED)
    deliver(instance, account, message("plain one", body="Plain text."))
    adds, d = sync_25(instance, account, options_25(truncation=4, mime_support=1))
    d.close()
    ad = appdata(adds["signed one"])
    assert ad.findtext("MessageClass").startswith("IPM.Note.SMIME")
    data = mime_text(ad)
    assert data.replace("\r\n", "\n") == SIGNED.decode().replace("\r\n", "\n")
    assert ad.findtext("MIMETruncated") == "0"
    assert ad.findtext("MIMESize") == str(len(data))
    assert ad.find("Body") is None
    ad = appdata(adds["plain one"])
    assert ad.find("MIMEData") is None
    assert (ad.findtext("Body") or "").startswith("Plain text.")
    assert ad.findtext("BodyTruncated") == "0"


LATIN1 = ("From: ann@example.com\r\nTo: user@example.net\r\nSubject: latin one\r\n"
          "Message-ID: <latin1-v25@example.com>\r\nDate: Thu, 01 Feb 2024 10:00:00 +0000\r\n"
          "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
          "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + \
    ("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e. " * 400).encode("latin-1") + b"\r\n"


def test_mime_not_utf8_is_opaque(instance):
    """A MIME that is not UTF-8 (an 8-bit Latin-1 body) goes as opaque bytes, cut in bytes."""
    account = new_account(instance)
    deliver(instance, account, LATIN1)
    adds, d = sync_25(instance, account, options_25(mime_support=2))
    d.close()
    ad = appdata(adds["latin one"])
    n = ad.find("MIMEData")
    assert n is not None and n.opaque is not None
    assert n.opaque.replace(b"\r\n", b"\n") == LATIN1.replace(b"\r\n", b"\n")
    assert ad.findtext("MIMETruncated") == "0"
    assert ad.findtext("MIMESize") == str(len(n.opaque))
    adds, d = sync_25(instance, account, options_25(mime_support=2, mime_truncation=1))
    d.close()
    ad = appdata(adds["latin one"])
    cut = ad.find("MIMEData").opaque
    assert len(cut) == 4096 and cut == n.opaque[:4096]
    assert ad.findtext("MIMETruncated") == "1"
    assert ad.findtext("MIMESize") == str(len(n.opaque))
    # the text body is UTF-8 whatever the message's charset
    adds, d = sync_25(instance, account, options_25(truncation=1))
    d.close()
    assert appdata(adds["latin one"]).findtext("Body") == \
        ("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e. " * 400)[:512]


def test_attachments_the_25_way_and_getattachment(instance, mailbox):
    adds, d = sync_25(instance, mailbox, options_25(truncation=4, mime_support=0))
    ad = appdata(adds["with attachment"])
    no_airsyncbase(ad)
    atts = ad.findall("Attachments/Attachment")
    assert len(atts) == 1
    a = atts[0]
    assert a.ns == "Email:" and ad.find("Attachments").ns == "Email:"
    # [MS-ASEMAIL] 6, Email.xsd: Attachment is the sequence AttName, AttSize, AttMethod,
    # DisplayName (optional)
    assert child_names(a) == ["AttName", "AttSize", "AttMethod", "DisplayName"]
    assert a.findtext("DisplayName") == "report.bin"
    assert a.findtext("AttSize") == str(len(PAYLOAD))
    assert a.findtext("AttMethod") == "1"
    name = a.findtext("AttName")
    assert name
    r = d.c.post("GetAttachment", None, params={"AttachmentName": name})
    assert r.status == 200, r
    assert r.body == PAYLOAD
    assert r.headers["Content-Type"] == "application/octet-stream"
    # a name that is not one: 500 (an attachment that does not exist)
    r = d.c.post("GetAttachment", None, params={"AttachmentName": name + "9"})
    assert r.status == 500
    d.close()


def test_sync_fetch_gives_the_whole_body(instance, mailbox, whole):
    adds, d = sync_25(instance, mailbox, options_25(truncation=1, mime_support=0))
    sid = adds["long one"].findtext("ServerId")
    assert appdata(adds["long one"]).findtext("BodyTruncated") == "1"
    col = d.sync(d.folder("Inbox"), options=options_25(truncation=1, mime_support=0),
                 extra="<Class>Email</Class>",
                 commands="<Fetch><ServerId>%s</ServerId></Fetch>" % sid)
    f = col.find("Responses/Fetch")
    assert f is not None and f.findtext("Status") == "1"
    assert f.findtext("ServerId") == sid
    ad = f.find("ApplicationData")
    assert ad.findtext("Subject") == "long one"
    assert ad.findtext("Body") == whole
    assert ad.findtext("BodyTruncated") == "0"
    d.close()


def test_sync_fetch_gives_the_whole_mime(instance, mailbox):
    adds, d = sync_25(instance, mailbox, options_25(truncation=9, mime_support=2,
                                                    mime_truncation=1))
    sid = adds["long one"].findtext("ServerId")
    assert appdata(adds["long one"]).findtext("MIMETruncated") == "1"
    col = d.sync(d.folder("Inbox"), options=options_25(truncation=9, mime_support=2,
                                                      mime_truncation=1),
                 extra="<Class>Email</Class>",
                 commands="<Fetch><ServerId>%s</ServerId></Fetch>" % sid)
    ad = col.find("Responses/Fetch/ApplicationData")
    assert ad.findtext("MIMETruncated") == "0"
    data = mime_text(ad)
    assert ad.findtext("MIMESize") == str(len(data))
    assert parse_mime(data)["Subject"] == "long one"
    d.close()


def test_getitemestimate_25(instance, mailbox):
    d = Device(instance, mailbox, protocol="2.5")
    d.foldersync()
    inbox = d.folder("Inbox")
    d.sync(inbox, key="0", options=options_25(truncation=1), extra="<Class>Email</Class>")
    key = d.keys[inbox]

    def estimate(filter_type):
        x = ('<GetItemEstimate xmlns="GetItemEstimate:"><Collections><Collection>'
             '<Class>Email</Class><SyncKey xmlns="AirSync:">%s</SyncKey>'
             '<CollectionId>%s</CollectionId><FilterType xmlns="AirSync:">%d</FilterType>'
             '</Collection></Collections></GetItemEstimate>' % (key, inbox, filter_type))
        r = d.c.post("GetItemEstimate", x)
        assert r.status == 200, r
        resp = r.wbxml.findall("Response")
        assert len(resp) == 1
        assert resp[0].findtext("Status") == "1"
        assert resp[0].findtext("Collection/CollectionId") == inbox
        return resp[0].findtext("Collection/Estimate")

    assert estimate(0) == "2"
    assert estimate(1) == "2"           # both delivered today: within one day
    col = d.sync(inbox, options=options_25(truncation=1), extra="<Class>Email</Class>")
    assert len(col.findall("Commands/Add")) == 2
    key = d.keys[inbox]
    assert estimate(0) == "0"
    d.close()


@pytest.mark.parametrize("version", ["12.1", "14.1"])
def test_later_versions_unchanged(instance, mailbox, version):
    """The same mailbox at 12.1 and 14.1: airsyncbase:Body and airsyncbase:Attachments, none of
    the 2.5 elements, and the 2.5 options (Truncation, MIMESupport 2) change nothing."""
    plain = ('<Options><FilterType>0</FilterType><BodyPreference xmlns="AirSyncBase:"><Type>1'
             '</Type><TruncationSize>512</TruncationSize></BodyPreference></Options>')
    legacy = ('<Options><FilterType>0</FilterType><Truncation>0</Truncation>'
              '<MIMESupport>2</MIMESupport><MIMETruncation>1</MIMETruncation>'
              '<BodyPreference xmlns="AirSyncBase:"><Type>1</Type><TruncationSize>512'
              '</TruncationSize></BodyPreference></Options>')
    results = []
    for opts in (plain, legacy):
        d = Device(instance, mailbox, protocol=version)
        d.foldersync()
        seen = d.sync_all("Inbox", options=opts)
        d.close()
        adds = {n.findtext("ApplicationData/Subject"): n.find("ApplicationData")
                for op, n in seen if op == "Add"}
        ad = adds["long one"]
        body = ad.find("AirSyncBase:Body")
        assert body.findtext("Type") == "1"
        assert body.findtext("Truncated") == "1"
        assert len(body.findtext("Data").encode("utf-8")) <= 512
        assert int(body.findtext("EstimatedDataSize")) >= len(BODY_18K.encode("utf-8")) - 400
        for n in ("Body", "BodySize", "BodyTruncated", "MIMEData", "MIMESize", "MIMETruncated",
                  "Attachments"):
            assert ad.find("Email:" + n) is None, n
        assert ad.findtext("AirSyncBase:NativeBodyType") == "1"
        att = adds["with attachment"].find("AirSyncBase:Attachments")
        assert att is not None
        a = att.findall("Attachment")
        assert [x.findtext("DisplayName") for x in a] == ["report.bin"]
        assert a[0].findtext("FileReference")
        assert a[0].findtext("EstimatedDataSize") == str(len(PAYLOAD))
        results.append((body.findtext("Data"), body.findtext("EstimatedDataSize")))
    assert results[0] == results[1]
