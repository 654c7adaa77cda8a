"""Drafts at 16.0 and 16.1 ([MS-ASCMD] Sync Add/Change of e-mail in the Drafts folder,
[MS-ASEMAIL] email2:Send and email2:Bcc, [MS-ASAIRS] Attachments Add/Delete): a draft created on
one device, edited with an attachment added and removed, then sent - it reaches the (fake)
sendmail, is in Sent Items and no longer in Drafts - while a second device sees it appear, change
and vanish.  At 14.1 a client's Add of e-mail is still refused (status 6), at 16.x outside Drafts
too, and FilterType does not apply to Drafts at 16.x."""

import base64
import email
import email.policy
import uuid
from xml.sax.saxutils import escape

import pytest

from mailtools import (DRAFTS, INBOX, PASSWORD, SENT, account, deliver, fake_sendmail,  # noqa: F401
                       folder_id, item_mime, items, sendmail, simple_message, sql)
from syncutil import Device

VERSIONS16 = ["16.0", "16.1"]
OPTS = ('<Options><BodyPreference xmlns="AirSyncBase:"><Type>1</Type></BodyPreference>'
        '</Options>')
PAYLOAD = bytes(range(256)) * 8 + b"end"            # every byte value


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def text_of(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def files_of(msg):
    return [(p.get_filename(), p.get_content()) for p in msg.iter_attachments()]


def device(instance, account, version):
    return Device(instance, account, protocol=version, password=PASSWORD)


def responses(col, op):
    return col.findall("Responses/%s" % op)


def add_att(cid, name, data, ctype="application/octet-stream"):
    return ('<Add><ClientId>%s</ClientId><DisplayName>%s</DisplayName>'
            '<Content opaque="base64">%s</Content><Method>1</Method>'
            '<ContentType>%s</ContentType></Add>'
            % (cid, name, base64.b64encode(data).decode("ascii"), ctype))


@pytest.mark.parametrize("version", VERSIONS16)
def test_draft_lifecycle(instance, account, sendmail, version):
    drafts_id = folder_id(instance, account, DRAFTS)
    d1, d2 = device(instance, account, version), device(instance, account, version)
    drafts = d1.folder("Drafts")
    assert drafts == drafts_id
    d1.sync_all(drafts, options=OPTS)
    d2.sync_all(drafts, options=OPTS)
    subject = "Draft " + uuid.uuid4().hex[:8]

    # 1. created on the first device
    col = d1.sync(drafts, options=OPTS, commands=(
        '<Add><ClientId>c-1</ClientId><ApplicationData>'
        '<To xmlns="Email:">%s</To><Cc xmlns="Email:">bob@example.org</Cc>'
        '<Bcc xmlns="Email2:">carol@example.net</Bcc>'
        '<Subject xmlns="Email:">%s</Subject><Importance xmlns="Email:">2</Importance>'
        '<Body xmlns="AirSyncBase:"><Type>1</Type><Data>First words.</Data></Body>'
        '</ApplicationData></Add>' % (escape("Alice <alice@example.org>"), subject)))
    assert col.findtext("Status") == "1"
    (a,) = responses(col, "Add")
    assert a.findtext("ClientId") == "c-1" and a.findtext("Status") == "1"
    sid = a.findtext("ServerId")
    assert sid and a.find("ApplicationData/ConversationId") is not None
    assert [i["id"] for i in items(instance, account, DRAFTS)] == [sid]
    stored = parse(item_mime(instance, sid))
    assert stored["Subject"] == subject
    assert "alice@example.org" in stored["To"] and "bob@example.org" in stored["Cc"]
    assert "carol@example.net" in stored["Bcc"]
    assert stored["From"].addresses[0].addr_spec == account
    assert stored["Importance"].lower() == "high"
    assert "First words." in text_of(stored)
    # not echoed to its maker
    col = d1.sync(drafts, options=OPTS)
    assert col is None or not col.findall("Commands/*")

    # the second device sees it appear, whole
    col = d2.sync(drafts, options=OPTS)
    (add,) = col.findall("Commands/Add")
    assert add.findtext("ServerId") == sid
    assert add.findtext("ApplicationData/Subject") == subject
    assert add.findtext("ApplicationData/IsDraft") == "1"
    assert "First words." in add.findtext("ApplicationData/Body/Data")

    # 2. edited: a new subject and an attachment added
    subject2 = subject + " v2"
    col = d1.sync(drafts, options=OPTS, commands=(
        '<Change><ServerId>%s</ServerId><ApplicationData>'
        '<Subject xmlns="Email:">%s</Subject>'
        '<Attachments xmlns="AirSyncBase:">%s</Attachments>'
        '</ApplicationData></Change>' % (sid, subject2, add_att("f-1", "data.bin", PAYLOAD))))
    assert col.findtext("Status") == "1"
    (ch,) = responses(col, "Change")
    assert ch.findtext("ServerId") == sid and ch.findtext("Status") == "1"
    (att,) = ch.findall("ApplicationData/Attachments/Attachment")
    assert att.findtext("ClientId") == "f-1"
    ref = att.findtext("FileReference")
    assert ref.startswith(sid + ":")
    assert [i["id"] for i in items(instance, account, DRAFTS)] == [sid]     # same item
    stored = parse(item_mime(instance, sid))
    assert stored["Subject"] == subject2
    assert "alice@example.org" in stored["To"]          # not sent: kept
    assert "First words." in text_of(stored)
    assert files_of(stored) == [("data.bin", PAYLOAD)]
    # the FileReference is the attachment's
    part = sql(instance, "SELECT a.part FROM items i JOIN message_attachments a ON "
                         "a.message_id = i.message_id WHERE i.id = %s", sid)
    assert ref == "%s:%s" % (sid, part[0][0])

    # the second device gets the change with the new content
    col = d2.sync(drafts, options=OPTS)
    (chg,) = col.findall("Commands/Change")
    assert chg.findtext("ServerId") == sid
    assert chg.findtext("ApplicationData/Subject") == subject2
    (a2,) = chg.findall("ApplicationData/Attachments/Attachment")
    assert a2.findtext("DisplayName") == "data.bin" and a2.findtext("FileReference") == ref

    # 3. the attachment removed, the body rewritten
    col = d1.sync(drafts, options=OPTS, commands=(
        '<Change><ServerId>%s</ServerId><ApplicationData>'
        '<Body xmlns="AirSyncBase:"><Type>1</Type><Data>Final words.</Data></Body>'
        '<Attachments xmlns="AirSyncBase:"><Delete><FileReference>%s</FileReference></Delete>'
        '</Attachments></ApplicationData></Change>' % (sid, ref)))
    assert col is None or not responses(col, "Change")      # nothing to answer
    stored = parse(item_mime(instance, sid))
    assert files_of(stored) == []
    assert "Final words." in text_of(stored) and "First" not in text_of(stored)
    col = d2.sync(drafts, options=OPTS)
    (chg,) = col.findall("Commands/Change")
    assert chg.find("ApplicationData/Attachments") is None
    assert "Final words." in chg.findtext("ApplicationData/Body/Data")
    assert sendmail.sent() == []

    # 4. sent
    col = d1.sync(drafts, options=OPTS, commands=(
        '<Change><ServerId>%s</ServerId><Send xmlns="Email2:"/><ApplicationData>'
        '<Subject xmlns="Email:">%s</Subject></ApplicationData></Change>' % (sid, subject2)))
    assert col.findtext("Status") == "1"
    assert not responses(col, "Change")
    # the sender is told that it left Drafts
    assert [(c.name, c.findtext("ServerId")) for c in col.findall("Commands/*")] == \
        [("Delete", sid)]
    sent = sendmail.sent()
    assert len(sent) == 1
    argv = sent[0]["argv"]
    assert argv[argv.index("-f") + 1] == account
    assert {"alice@example.org", "bob@example.org", "carol@example.net"} <= set(argv)
    msg = parse(base64.b64decode(sent[0]["stdin_b64"]))
    assert msg["Subject"] == subject2 and msg["Bcc"] is None
    assert "Final words." in text_of(msg)
    assert items(instance, account, DRAFTS) == []
    copies = items(instance, account, SENT, subject=subject2)
    assert len(copies) == 1 and copies[0]["read"]
    assert "carol@example.net" in parse(item_mime(instance, copies[0]["id"]))["Bcc"]
    # the second device sees it vanish
    col = d2.sync(drafts, options=OPTS)
    assert [(c.name, c.findtext("ServerId")) for c in col.findall("Commands/*")] == \
        [("Delete", sid)]


@pytest.mark.parametrize("version", VERSIONS16)
def test_add_with_attachment_and_send(instance, account, sendmail, version):
    folder_id(instance, account, DRAFTS)
    d = device(instance, account, version)
    drafts = d.folder("Drafts")
    d.sync_all(drafts, options=OPTS)
    subject = "Draft " + uuid.uuid4().hex[:8]
    col = d.sync(drafts, options=OPTS, commands=(
        '<Add><ClientId>c-2</ClientId><ApplicationData>'
        '<To xmlns="Email:">dave@example.org</To><Subject xmlns="Email:">%s</Subject>'
        '<Body xmlns="AirSyncBase:"><Type>2</Type><Data>&lt;p&gt;Hi&lt;/p&gt;</Data></Body>'
        '<Attachments xmlns="AirSyncBase:">%s%s</Attachments>'
        '</ApplicationData></Add>'
        % (subject, add_att("f-a", "a.txt", b"alpha\n", "text/plain"),
           add_att("f-b", "b.bin", PAYLOAD))))
    (a,) = responses(col, "Add")
    assert a.findtext("Status") == "1"
    sid = a.findtext("ServerId")
    refs = {x.findtext("ClientId"): x.findtext("FileReference")
            for x in a.findall("ApplicationData/Attachments/Attachment")}
    assert set(refs) == {"f-a", "f-b"} and len(set(refs.values())) == 2
    stored = parse(item_mime(instance, sid))
    assert files_of(stored) == [("a.txt", "alpha\n"), ("b.bin", PAYLOAD)]
    assert stored.get_body(preferencelist=("html",)) is not None
    # the references are the files' (ItemOperations Fetch)
    r = d.c.post("ItemOperations", '<ItemOperations xmlns="ItemOperations:" '
                 'xmlns:airsyncbase="AirSyncBase:"><Fetch><Store>Mailbox</Store>'
                 '<airsyncbase:FileReference>%s</airsyncbase:FileReference></Fetch>'
                 '</ItemOperations>' % refs["f-b"])
    f = r.wbxml.find("Response/Fetch")
    assert f.findtext("Status") == "1"
    assert base64.b64decode(f.findtext("Properties/Data")) == PAYLOAD
    # remove the first, send in the same Change
    col = d.sync(drafts, options=OPTS, commands=(
        '<Change><ServerId>%s</ServerId><Send xmlns="Email2:"/><ApplicationData>'
        '<Attachments xmlns="AirSyncBase:"><Delete><FileReference>%s</FileReference></Delete>'
        '</Attachments></ApplicationData></Change>' % (sid, refs["f-a"])))
    assert col.findtext("Status") == "1"
    (out,) = sendmail.sent()
    msg = parse(base64.b64decode(out["stdin_b64"]))
    assert files_of(msg) == [("b.bin", PAYLOAD)]
    assert items(instance, account, DRAFTS) == []
    assert len(items(instance, account, SENT, subject=subject)) == 1


@pytest.mark.parametrize("version", VERSIONS16)
def test_add_and_send_at_once(instance, account, sendmail, version):
    folder_id(instance, account, DRAFTS)
    d = device(instance, account, version)
    drafts = d.folder("Drafts")
    d.sync_all(drafts, options=OPTS)
    subject = "Now " + uuid.uuid4().hex[:8]
    cmd = ('<Add><ClientId>c-3</ClientId><Send xmlns="Email2:"/><ApplicationData>'
           '<To xmlns="Email:">%s</To><Subject xmlns="Email:">%s</Subject>'
           '<Body xmlns="AirSyncBase:"><Type>1</Type><Data>Straight out.</Data></Body>'
           '</ApplicationData></Add>'
           % (escape('erin@example.org; "Finn; F." <finn@example.org>'), subject))
    key = d.keys[drafts]
    col = d.sync(drafts, options=OPTS, commands=cmd)
    (a,) = responses(col, "Add")
    assert a.findtext("ClientId") == "c-3" and a.findtext("Status") == "1"
    assert a.findtext("ServerId") is None               # no draft is kept
    (out,) = sendmail.sent()
    assert {"erin@example.org", "finn@example.org"} <= set(out["argv"])   # ";" separates too
    assert items(instance, account, DRAFTS) == []
    assert len(items(instance, account, SENT, subject=subject)) == 1
    # the answer lost, the client repeats the request: not sent twice
    col = d.sync(drafts, key=key, options=OPTS, commands=cmd)
    (a,) = responses(col, "Add")
    assert a.findtext("Status") == "1"
    assert len(sendmail.sent()) == 1
    assert len(items(instance, account, SENT, subject=subject)) == 1


@pytest.mark.parametrize("version", VERSIONS16)
def test_draft_refusals(instance, account, sendmail, version):
    folder_id(instance, account, DRAFTS)
    d = device(instance, account, version)
    drafts = d.folder("Drafts")
    d.sync_all(drafts, options=OPTS)
    # a Body that is not text or HTML, an attachment without its Content
    for bad in ('<Body xmlns="AirSyncBase:"><Type>4</Type><Data>x</Data></Body>',
                '<Attachments xmlns="AirSyncBase:"><Add><ClientId>f</ClientId>'
                '<DisplayName>x</DisplayName><Method>1</Method></Add></Attachments>',
                '<Importance xmlns="Email:">7</Importance>'):
        col = d.sync(drafts, options=OPTS, commands=(
            '<Add><ClientId>bad</ClientId><ApplicationData><Subject xmlns="Email:">x</Subject>'
            '%s</ApplicationData></Add>' % bad))
        (a,) = responses(col, "Add")
        assert a.findtext("Status") == "6" and a.findtext("ServerId") is None
    # a Change of an unknown draft: 8
    col = d.sync(drafts, options=OPTS, commands=(
        '<Change><ServerId>999999999</ServerId><ApplicationData><Subject xmlns="Email:">x'
        '</Subject></ApplicationData></Change>'))
    (ch,) = responses(col, "Change")
    assert ch.findtext("Status") == "8"
    assert items(instance, account, DRAFTS) == []
    # e-mail added elsewhere than Drafts is still refused
    inbox = d.folder("Inbox")
    d.sync_all(inbox, options=OPTS)
    col = d.sync(inbox, options=OPTS, commands=(
        '<Add><ClientId>i-1</ClientId><ApplicationData><Subject xmlns="Email:">x</Subject>'
        '</ApplicationData></Add>'))
    (a,) = responses(col, "Add")
    assert a.findtext("Status") == "6"
    assert sendmail.sent() == []


def test_draft_at_14_1_refused(instance, account):
    folder_id(instance, account, DRAFTS)
    d = device(instance, account, "14.1")
    drafts = d.folder("Drafts")
    d.sync_all(drafts, options=OPTS)
    col = d.sync(drafts, options=OPTS, commands=(
        '<Add><ClientId>old</ClientId><ApplicationData><Subject xmlns="Email:">x</Subject>'
        '</ApplicationData></Add>'))
    (a,) = responses(col, "Add")
    assert a.findtext("Status") == "6"
    assert items(instance, account, DRAFTS) == []


@pytest.mark.parametrize("version,seen", [("14.1", False), ("16.0", True), ("16.1", True)])
def test_filtertype_not_applied_to_drafts(instance, account, version, seen):
    drafts_id = folder_id(instance, account, DRAFTS)
    subject = "Old draft " + uuid.uuid4().hex[:8]
    deliver(instance, account, simple_message(account, "x@example.org", subject), "Drafts")
    (it,) = items(instance, account, DRAFTS, subject=subject)
    sql(instance, "UPDATE items SET received = now() - interval '90 days' WHERE id = %s",
        it["id"])
    d = device(instance, account, version)
    assert d.folder("Drafts") == drafts_id
    one_day = OPTS.replace("<Options>", "<Options><FilterType>1</FilterType>")
    # GetItemEstimate counts as the Sync will send
    d.sync(drafts_id, key="0", options=one_day)
    r = d.c.post("GetItemEstimate", '<GetItemEstimate xmlns="GetItemEstimate:"><Collections>'
                 '<Collection><SyncKey xmlns="AirSync:">%s</SyncKey><CollectionId>%s'
                 '</CollectionId><Options xmlns="AirSync:"><Class>Email</Class><FilterType>1'
                 '</FilterType></Options></Collection></Collections></GetItemEstimate>'
                 % (d.keys[drafts_id], drafts_id))
    assert r.wbxml.findtext("Response/Status") == "1", r.wbxml
    assert r.wbxml.findtext("Response/Collection/Estimate") == ("1" if seen else "0")
    got = [n.findtext("ServerId") for op, n in d.sync_all(drafts_id, options=one_day)
           if op == "Add"]
    assert (it["id"] in got) == seen


@pytest.mark.parametrize("version", VERSIONS16)
def test_removal_gives_new_references(instance, account, sendmail, version):
    """Removing a file renumbers the ones after it: the device that removed it gets the draft
    back with their FileReferences as they now are, and removes the next one by it."""
    folder_id(instance, account, DRAFTS)
    d = device(instance, account, version)
    drafts = d.folder("Drafts")
    d.sync_all(drafts, options=OPTS)
    col = d.sync(drafts, options=OPTS, commands=(
        '<Add><ClientId>c-4</ClientId><ApplicationData>'
        '<To xmlns="Email:">fay@example.org</To><Subject xmlns="Email:">Two files</Subject>'
        '<Attachments xmlns="AirSyncBase:">%s%s</Attachments></ApplicationData></Add>'
        % (add_att("f-a", "a.bin", b"A" * 100), add_att("f-b", "b.bin", PAYLOAD))))
    (a,) = responses(col, "Add")
    sid = a.findtext("ServerId")
    refs = {x.findtext("ClientId"): x.findtext("FileReference")
            for x in a.findall("ApplicationData/Attachments/Attachment")}
    col = d.sync(drafts, options=OPTS, commands=(
        '<Change><ServerId>%s</ServerId><ApplicationData><Attachments xmlns="AirSyncBase:">'
        '<Delete><FileReference>%s</FileReference></Delete></Attachments></ApplicationData>'
        '</Change>' % (sid, refs["f-a"])))
    (chg,) = col.findall("Commands/Change")
    assert chg.findtext("ServerId") == sid
    (att,) = chg.findall("ApplicationData/Attachments/Attachment")
    assert att.findtext("DisplayName") == "b.bin"
    new_ref = att.findtext("FileReference")
    assert new_ref != refs["f-b"]
    assert files_of(parse(item_mime(instance, sid))) == [("b.bin", PAYLOAD)]
    d.sync(drafts, options=OPTS, commands=(
        '<Change><ServerId>%s</ServerId><ApplicationData><Attachments xmlns="AirSyncBase:">'
        '<Delete><FileReference>%s</FileReference></Delete></Attachments></ApplicationData>'
        '</Change>' % (sid, new_ref)))
    assert files_of(parse(item_mime(instance, sid))) == []


@pytest.mark.parametrize("version", VERSIONS16)
def test_flags_of_a_draft(instance, account, sendmail, version):
    """A Change of Read or Flag alone changes the flags as in any mail folder; with a field of
    the draft both are applied."""
    folder_id(instance, account, DRAFTS)
    d = device(instance, account, version)
    drafts = d.folder("Drafts")
    d.sync_all(drafts, options=OPTS)
    col = d.sync(drafts, options=OPTS, commands=(
        '<Add><ClientId>c-5</ClientId><ApplicationData><Subject xmlns="Email:">Flags</Subject>'
        '<Body xmlns="AirSyncBase:"><Type>1</Type><Data>Keep me.</Data></Body>'
        '</ApplicationData></Add>'))
    sid = responses(col, "Add")[0].findtext("ServerId")
    before = item_mime(instance, sid)
    assert items(instance, account, DRAFTS)[0]["read"]
    d.sync(drafts, options=OPTS, commands=(
        '<Change><ServerId>%s</ServerId><ApplicationData><Read xmlns="Email:">0</Read>'
        '</ApplicationData></Change>' % sid))
    assert not items(instance, account, DRAFTS)[0]["read"]
    assert item_mime(instance, sid) == before               # not rebuilt
    d.sync(drafts, options=OPTS, commands=(
        '<Change><ServerId>%s</ServerId><ApplicationData><Read xmlns="Email:">1</Read>'
        '<Subject xmlns="Email:">Flags 2</Subject></ApplicationData></Change>' % sid))
    (it,) = items(instance, account, DRAFTS)
    assert it["read"] and it["subject"] == "Flags 2"
    assert "Keep me." in text_of(parse(item_mime(instance, sid)))
