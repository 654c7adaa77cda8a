"""ItemOperations ([MS-ASCMD] 2.2.1.10) at 12.1, 14.1 and 16.1 - Fetch of items and of
attachments by FileReference (Range, Total, inline Data or a MultiPart response),
EmptyFolderContents (DeleteSubFolders), Move of a conversation - and GetAttachment (2.2.1.7,
12.1 and earlier)."""

import base64
import struct
import uuid

import pytest

from easclient import decode
from mailtools import (DELETED, INBOX, SENT, VERSIONS, account, client_for, deliver,  # noqa: F401
                       folder_id, items, message_with_attachment, simple_message, sql,
                       tnef_stream, winmail_message)

IO = ('xmlns="ItemOperations:" xmlns:airsync="AirSync:" xmlns:airsyncbase="AirSyncBase:" '
      'xmlns:search="Search:"')
PAYLOAD = bytes(range(256)) * 40 + b"tail"          # 10244 bytes, every byte value


def itemops(c, inner, multipart=False):
    r = c.post("ItemOperations", "<ItemOperations %s>%s</ItemOperations>" % (IO, inner),
               params={"AcceptMultiPart": True} if multipart else None)
    assert r.status == 200, r
    if multipart and r.headers.get("Content-Type", "").startswith("application/vnd.ms-sync.multipart"):
        return r, parse_multipart(r.body)
    assert r.wbxml.name == "ItemOperations"
    return r, None


def parse_multipart(body):
    """[MS-ASCMD] 2.2.1.10.1.1: PartsCount, (Offset, Length) each, parts; little-endian."""
    (count,) = struct.unpack_from("<i", body, 0)
    parts = []
    for i in range(count):
        off, length = struct.unpack_from("<ii", body, 4 + 8 * i)
        parts.append(body[off:off + length])
    return parts


def with_attachment(instance, account, payload=PAYLOAD, name="data.bin",
                    ctype="application/octet-stream"):
    subject = "Att " + uuid.uuid4().hex[:8]
    deliver(instance, account, message_with_attachment("ann@example.com", account, subject,
                                                       "See attached.", name, payload, ctype))
    it = items(instance, account, INBOX, subject=subject)[0]
    part = sql(instance, "SELECT a.part FROM items i JOIN message_attachments a ON "
                         "a.message_id = i.message_id WHERE i.id = %s", it["id"])[0][0]
    return it, "%s:%s" % (it["id"], part)


def fetch_ref(ref, options="", store="Mailbox"):
    return ("<Fetch><Store>%s</Store><airsyncbase:FileReference>%s</airsyncbase:FileReference>"
            "%s</Fetch>" % (store, ref, "<Options>%s</Options>" % options if options else ""))


# ---- Fetch: attachments ------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_fetch_attachment_inline(instance, account, version):
    _, ref = with_attachment(instance, account, ctype="application/x-test")
    c = client_for(instance, account, version)
    r, _ = itemops(c, fetch_ref(ref))
    doc = r.wbxml
    assert doc.findtext("Status") == "1"
    f = doc.find("Response/Fetch")
    assert f.findtext("Status") == "1"
    assert f.findtext("FileReference") == ref
    assert f.findtext("Properties/ContentType") == "application/x-test"
    # inline: base64 text in Data ([MS-ASCMD] 2.2.1.10.1)
    assert base64.b64decode(f.findtext("Properties/Data")) == PAYLOAD
    assert f.find("Properties/Range") is None


@pytest.mark.parametrize("version", VERSIONS)
def test_fetch_attachment_ranges(instance, account, version):
    _, ref = with_attachment(instance, account)
    c = client_for(instance, account, version)
    r, _ = itemops(c, fetch_ref(ref, "<Range>0-9</Range>") + fetch_ref(ref, "<Range>10240-99999</Range>")
                   + fetch_ref(ref, "<Range>0-0</Range>") + fetch_ref(ref, "<Range>10244-10300</Range>"))
    f = r.wbxml.findall("Response/Fetch")
    assert [x.findtext("Status") for x in f] == ["1", "1", "1", "8"]
    assert f[0].findtext("Properties/Range") == "0-9"
    assert f[0].findtext("Properties/Total") == str(len(PAYLOAD))
    assert base64.b64decode(f[0].findtext("Properties/Data")) == PAYLOAD[:10]
    # the end is cut to the data's end
    assert f[1].findtext("Properties/Range") == "10240-10243"
    assert base64.b64decode(f[1].findtext("Properties/Data")) == b"tail"
    assert base64.b64decode(f[2].findtext("Properties/Data")) == PAYLOAD[:1]
    assert f[3].find("Properties") is None


@pytest.mark.parametrize("version", VERSIONS)
def test_fetch_attachment_multipart(instance, account, version):
    _, ref = with_attachment(instance, account)
    _, ref2 = with_attachment(instance, account, payload=b"second attachment")
    c = client_for(instance, account, version)
    r, parts = itemops(c, fetch_ref(ref) + fetch_ref(ref2, "<Range>7-16</Range>"), multipart=True)
    assert r.headers["Content-Type"] == "application/vnd.ms-sync.multipart"
    assert parts is not None and len(parts) == 3
    doc = decode(parts[0])                 # part 0 is the WBXML
    f = doc.findall("Response/Fetch")
    assert [x.findtext("Status") for x in f] == ["1", "1"]
    # Part replaces Data and points into the parts
    assert f[0].find("Properties/Data") is None
    assert parts[int(f[0].findtext("Properties/Part"))] == PAYLOAD
    assert parts[int(f[1].findtext("Properties/Part"))] == b"attachment"
    assert f[1].findtext("Properties/Total") == "17"


def test_multipart_with_base64_query(instance, account):
    """The AcceptMultiPart flag of the base64 query form ([MS-ASHTTP] 2.2.1.1.1.1.3)."""
    _, ref = with_attachment(instance, account, payload=b"via base64 query")
    c = client_for(instance, account, "14.1", use_base64_query=True)
    r, parts = itemops(c, fetch_ref(ref), multipart=True)
    assert parts[1] == b"via base64 query"


@pytest.mark.parametrize("version", VERSIONS)
def test_fetch_statuses(instance, account, version):
    it, ref = with_attachment(instance, account)
    other_id = it["id"] + ":0"             # part 0 is the text body, not an attachment
    c = client_for(instance, account, version)
    r, _ = itemops(c, fetch_ref("999999:1") + fetch_ref("not-a-reference") + fetch_ref(other_id)
                   + fetch_ref(ref, store="DocumentLibrary")
                   + "<Fetch><Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId>"
                     "<airsync:ServerId>999999</airsync:ServerId></Fetch>" % it["folder_id"])
    assert r.wbxml.findtext("Status") == "1"
    # 15 invalid attachment, 9 unknown store, 6 object not found
    assert [x.findtext("Status") for x in r.wbxml.findall("Response/Fetch")] == \
        ["15", "15", "15", "9", "6"]


@pytest.mark.parametrize("inner", [
    # [MS-ASCMD] 2.2.3.8: one FileReference per Fetch
    "<Fetch><Store>Mailbox</Store><airsyncbase:FileReference>1:1</airsyncbase:FileReference>"
    "<airsyncbase:FileReference>1:2</airsyncbase:FileReference></Fetch>",
    # an invalid option value
    "<Fetch><Store>Mailbox</Store><airsyncbase:FileReference>1:1</airsyncbase:FileReference>"
    "<Options><Range></Range></Options></Fetch>",
    "<Fetch><Store>Mailbox</Store><airsyncbase:FileReference>1:1</airsyncbase:FileReference>"
    "<Options><Range>9-3</Range></Options></Fetch>",
    "<Fetch><airsyncbase:FileReference>1:1</airsyncbase:FileReference></Fetch>",   # no Store
    "<EmptyFolderContents/>",
])
def test_protocol_errors(instance, account, inner):
    c = client_for(instance, account, "14.1")
    r, _ = itemops(c, inner)
    assert r.wbxml.findtext("Status") == "2"
    assert r.wbxml.find("Response") is None


def test_attachment_of_another_account(instance, account):
    from mailtools import new_account
    other = new_account(instance)
    _, ref = with_attachment(instance, other)
    r, _ = itemops(client_for(instance, account, "14.1"), fetch_ref(ref))
    assert r.wbxml.findtext("Response/Fetch/Status") == "15"


# ---- Fetch: items ------------------------------------------------------------------------------

def fetch_item(coll, sid, options=""):
    return ("<Fetch><Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId>"
            "<airsync:ServerId>%s</airsync:ServerId>%s</Fetch>"
            % (coll, sid, "<Options>%s</Options>" % options if options else ""))


BODY_PLAIN = "<airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type></airsyncbase:BodyPreference>"
BODY_MIME = ("<airsync:MIMESupport>2</airsync:MIMESupport><airsyncbase:BodyPreference>"
             "<airsyncbase:Type>4</airsyncbase:Type></airsyncbase:BodyPreference>")


@pytest.mark.parametrize("version", VERSIONS)
def test_fetch_item(instance, account, version):
    subject = "Fetch me " + uuid.uuid4().hex[:6]
    raw = simple_message("Fay <fay@example.com>", account, subject, "Line one.\nLine two.\n")
    deliver(instance, account, raw)
    it = items(instance, account, INBOX, subject=subject)[0]
    c = client_for(instance, account, version)
    r, _ = itemops(c, fetch_item(it["folder_id"], it["id"], BODY_PLAIN)
                   + fetch_item(it["folder_id"], it["id"], BODY_MIME)
                   + fetch_item(folder_id(instance, account, SENT), it["id"], BODY_PLAIN))
    f = r.wbxml.findall("Response/Fetch")
    assert [x.findtext("Status") for x in f] == ["1", "1", "6"]
    assert f[0].findtext("CollectionId") == it["folder_id"]
    assert f[0].findtext("ServerId") == it["id"]
    assert f[0].findtext("Class") == "Email"
    props = f[0].find("Properties")
    assert props.findtext("Email:Subject") == subject
    assert "fay@example.com" in props.findtext("Email:From")
    assert props.findtext("AirSyncBase:Body/Type") == "1"
    assert "Line two." in props.findtext("AirSyncBase:Body/Data")
    # the whole message as MIME (Type 4) with MIMESupport 2
    assert f[1].findtext("Properties/AirSyncBase:Body/Type") == "4"
    mime = f[1].findtext("Properties/AirSyncBase:Body/Data")
    assert "Subject: " + subject in mime and "Line one." in mime
    assert f[2].find("Properties") is None
    # by LongId (a Search result: the item id)
    r, _ = itemops(c, "<Fetch><Store>Mailbox</Store><search:LongId>%s</search:LongId>"
                      "<Options>%s</Options></Fetch>" % (it["id"], BODY_PLAIN))
    f = r.wbxml.find("Response/Fetch")
    assert f.findtext("Status") == "1" and f.findtext("LongId") == it["id"]
    assert f.findtext("Properties/Email:Subject") == subject


@pytest.mark.parametrize("version", ["14.1", "16.1"])
def test_fetch_item_multipart(instance, account, version):
    subject = "Multi " + uuid.uuid4().hex[:6]
    deliver(instance, account, simple_message("gus@example.com", account, subject, "Body text here.\n"))
    it = items(instance, account, INBOX, subject=subject)[0]
    _, ref = with_attachment(instance, account, payload=b"attached bytes")
    c = client_for(instance, account, version)
    r, parts = itemops(c, fetch_item(it["folder_id"], it["id"], BODY_PLAIN) + fetch_ref(ref),
                       multipart=True)
    doc = decode(parts[0])
    f = doc.findall("Response/Fetch")
    body = f[0].find("Properties/AirSyncBase:Body")
    # [MS-ASCMD] 2.2.3.130: Part replaces Data in the Body of a mailbox item
    assert body.find("Data") is None
    assert b"Body text here." in parts[int(body.findtext("Part"))]
    assert parts[int(f[1].findtext("Properties/Part"))] == b"attached bytes"
    assert len(parts) == 3


# ---- EmptyFolderContents -----------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_empty_folder_contents(instance, account, version):
    for i in range(3):
        deliver(instance, account, simple_message("x@example.com", account, "junk %d" % i))
    inbox = folder_id(instance, account, INBOX)
    sent_before = items(instance, account, SENT)
    c = client_for(instance, account, version)
    r, _ = itemops(c, "<EmptyFolderContents><airsync:CollectionId>%s</airsync:CollectionId>"
                      "</EmptyFolderContents>" % inbox)
    e = r.wbxml.find("Response/EmptyFolderContents")
    assert e.findtext("Status") == "1" and e.findtext("CollectionId") == inbox
    assert items(instance, account, INBOX) == []
    assert items(instance, account, SENT) == sent_before
    # the deletions are the server's: every device is told
    rows = sql(instance, "SELECT count(*) FROM items WHERE folder_id = %s AND deleted AND "
                         "changed_by IS NOT NULL", inbox)
    assert rows == [["0"]]


def test_empty_folder_statuses(instance, account):
    c = client_for(instance, account, "14.1")
    r, _ = itemops(c, "<EmptyFolderContents><airsync:CollectionId>999999</airsync:CollectionId>"
                      "</EmptyFolderContents><EmptyFolderContents><airsync:CollectionId>RI"
                      "</airsync:CollectionId></EmptyFolderContents>")
    # 6 not found; 16 the recipient information cache cannot be emptied
    assert [x.findtext("Status") for x in r.wbxml.findall("Response/EmptyFolderContents")] == \
        ["6", "16"]


def test_empty_folder_delete_subfolders(instance, account):
    c = client_for(instance, account, "14.1")
    inbox = folder_id(instance, account, INBOX)
    fs = c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>')
    assert fs.wbxml is not None and fs.wbxml.findtext("Status") == "1", fs
    key = fs.wbxml.findtext("SyncKey")
    name = "Sub " + uuid.uuid4().hex[:6]
    fc = c.post("FolderCreate", '<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey>'
                                '<ParentId>%s</ParentId><DisplayName>%s</DisplayName><Type>12</Type>'
                                '</FolderCreate>' % (key, inbox, name))
    assert fc.wbxml is not None and fc.wbxml.findtext("Status") == "1", fc
    sub = fc.wbxml.findtext("ServerId")
    deliver(instance, account, simple_message("x@example.com", account, "in sub"), folder=sub)
    # without DeleteSubFolders the subfolder stays
    r, _ = itemops(c, "<EmptyFolderContents><airsync:CollectionId>%s</airsync:CollectionId>"
                      "</EmptyFolderContents>" % inbox)
    assert r.wbxml.findtext("Response/EmptyFolderContents/Status") == "1"
    assert sql(instance, "SELECT deleted FROM folders WHERE id = %s", sub) == [["f"]]
    assert len(items(instance, account, folder=sub)) == 1
    r, _ = itemops(c, "<EmptyFolderContents><airsync:CollectionId>%s</airsync:CollectionId>"
                      "<Options><DeleteSubFolders/></Options></EmptyFolderContents>" % inbox)
    assert r.wbxml.findtext("Response/EmptyFolderContents/Status") == "1"
    assert sql(instance, "SELECT deleted FROM folders WHERE id = %s", sub) == [["t"]]


# ---- Move (a conversation) ---------------------------------------------------------------------

def conversation(instance, account):
    """Two messages of one thread in the Inbox and one in Sent Items."""
    root = "<root-%s@example.com>" % uuid.uuid4().hex
    subj = "Thread " + uuid.uuid4().hex[:6]
    deliver(instance, account, simple_message("a@example.com", account, subj, message_id=root))
    deliver(instance, account, simple_message("b@example.com", account, "Re: " + subj,
                                              extra_headers="In-Reply-To: %s\r\nReferences: %s\r\n"
                                              % (root, root)))
    deliver(instance, account, simple_message(account, "a@example.com", "Re: " + subj,
                                              extra_headers="References: %s\r\n" % root),
            folder=folder_id(instance, account, SENT))
    ids = sql(instance, "SELECT DISTINCT encode(conversation_id, 'hex') FROM items WHERE "
                        "account_id = (SELECT account_id FROM items WHERE subject = %s LIMIT 1) "
                        "AND subject IN (%s, %s) AND NOT deleted", subj, subj, "Re: " + subj)
    assert len(ids) == 1
    return bytes.fromhex(ids[0][0]), subj


def move_op(cid, dst, always=True):
    return ("<Move><ConversationId opaque=\"base64\">%s</ConversationId><DstFldId>%s</DstFldId>%s"
            "</Move>" % (base64.b64encode(cid).decode(), dst,
                         "<Options><MoveAlways/></Options>" if always else ""))


@pytest.mark.parametrize("version", ["14.1", "16.1"])
def test_move_conversation(instance, account, version):
    cid, subj = conversation(instance, account)
    deleted = folder_id(instance, account, DELETED)
    c = client_for(instance, account, version)
    r, _ = itemops(c, move_op(cid, deleted))
    m = r.wbxml.find("Response/Move")
    assert m.findtext("Status") == "1"
    assert m.find("ConversationId").opaque == cid
    moved = items(instance, account, DELETED)
    assert sorted(x["subject"] for x in moved) == sorted([subj, "Re: " + subj])
    assert items(instance, account, INBOX) == []
    # Sent Items keeps its copy ([MS-ASCON] 2.2.2.8)
    assert [x["subject"] for x in items(instance, account, SENT)] == ["Re: " + subj]


def test_move_statuses(instance, account):
    cid, _ = conversation(instance, account)
    deleted = folder_id(instance, account, DELETED)
    notes = folder_id(instance, account, 10)
    c = client_for(instance, account, "14.1")
    r, _ = itemops(c, move_op(cid, deleted, always=False) + move_op(cid, notes)
                   + move_op(cid, "999999") + move_op(b"\x01" * 16, deleted))
    # 155 MoveAlways missing, 156 not a mail folder, 6 not found (folder, conversation)
    assert [x.findtext("Status") for x in r.wbxml.findall("Response/Move")] == \
        ["155", "156", "6", "6"]
    assert len(items(instance, account, INBOX)) == 2


def test_move_needs_14(instance, account):
    cid, _ = conversation(instance, account)
    r, _ = itemops(client_for(instance, account, "12.1"),
                   move_op(cid, folder_id(instance, account, DELETED)))
    assert r.wbxml.findtext("Status") == "2"


# ---- GetAttachment (12.1) ----------------------------------------------------------------------

def test_getattachment(instance, account):
    it, ref = with_attachment(instance, account, ctype="image/png", name="pic.png")
    c = client_for(instance, account, "12.1")
    r = c.post("GetAttachment", None, params={"AttachmentName": ref})
    assert r.status == 200
    assert r.headers["Content-Type"] == "image/png"
    assert r.body == PAYLOAD
    # the same through the base64 query form
    c64 = client_for(instance, account, "12.1", use_base64_query=True)
    r = c64.post("GetAttachment", None, params={"AttachmentName": ref})
    assert r.status == 200 and r.body == PAYLOAD


def test_getattachment_errors(instance, account, expect_log):
    it, ref = with_attachment(instance, account)
    c = client_for(instance, account, "12.1")
    # not an attachment, unknown item, malformed reference: 500 ([MS-ASCMD] 2.2.1.7)
    for bad in (it["id"] + ":0", "999999:1", "junk"):
        assert c.post("GetAttachment", None, params={"AttachmentName": bad}).status == 500, bad
    assert c.post("GetAttachment", None).status == 400
    # an attachment of a deleted item is gone
    sql(instance, "UPDATE items SET deleted = true, message_id = NULL WHERE id = %s", it["id"])
    assert c.post("GetAttachment", None, params={"AttachmentName": ref}).status == 500
    # GetAttachment does not exist after 12.1
    r = client_for(instance, account, "14.1").post("GetAttachment", None,
                                                   params={"AttachmentName": ref})
    assert r.status == 400


# ---- winmail.dat (TNEF, [MS-OXTNEF]) -------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_winmail_dat_files_are_attachments(instance, account, version):
    """A phone cannot open winmail.dat: the files inside it are the message's attachments, with
    their long names, fetched by FileReference like any other."""
    doc_bytes = b"%PDF-1.4 quarterly figures " * 30
    sheet = bytes(range(256)) * 3
    tnef = tnef_stream([("Quarterly figures.pdf", doc_bytes), ("Budget 2027.xlsx", sheet)])
    subject = "Winmail " + uuid.uuid4().hex[:8]
    deliver(instance, account, winmail_message(account, subject, "Figures attached.", tnef))
    it = items(instance, account, INBOX, subject=subject)[0]
    rows = sql(instance, "SELECT a.name, a.content_type, a.size, a.part FROM items i JOIN "
                         "message_attachments a ON a.message_id = i.message_id WHERE i.id = %s "
                         "ORDER BY a.part", it["id"])
    assert [r[:3] for r in rows] == [
        ["Quarterly figures.pdf", "application/pdf", str(len(doc_bytes))],
        ["Budget 2027.xlsx",
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", str(len(sheet))]]
    c = client_for(instance, account, version)
    r, _ = itemops(c, "".join(fetch_ref("%s:%s" % (it["id"], row[3])) for row in rows))
    f = r.wbxml.findall("Response/Fetch")
    assert [x.findtext("Status") for x in f] == ["1", "1"]
    assert base64.b64decode(f[0].findtext("Properties/Data")) == doc_bytes
    assert f[0].findtext("Properties/ContentType") == "application/pdf"
    assert base64.b64decode(f[1].findtext("Properties/Data")) == sheet


def test_winmail_dat_body_when_the_message_has_no_other(instance, account):
    subject = "Winmail only " + uuid.uuid4().hex[:8]
    tnef = tnef_stream([("notes.txt", b"n")], body="R\xe9sum\xe9 of the meeting.")
    raw = ("From: Olga <olga@example.com>\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
           "Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
           % (account, subject, base64.encodebytes(tnef).decode()))
    deliver(instance, account, raw.encode())
    it = items(instance, account, INBOX, subject=subject)[0]
    text = sql(instance, "SELECT m.text_plain FROM items i JOIN messages m ON m.id = i.message_id "
                         "WHERE i.id = %s", it["id"])[0][0]
    assert text == "R\xe9sum\xe9 of the meeting."
