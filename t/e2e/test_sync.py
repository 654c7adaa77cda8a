"""Sync of e-mail ([MS-ASCMD] 2.2.1.21, [MS-ASEMAIL], [MS-ASAIRS]) over the real httpd at 12.1,
14.1 and 16.1: SyncKey 0 and windows, lost responses, wrong keys, changes and deletions between
two devices, DeletesAsMoves, FilterType, body preferences, GetChanges, the empty and partial
requests, and every status the command answers."""

import time

import pytest

from syncutil import (PLAIN, VERSIONS, Device, deliver, import_mbox, message, new_account, ops,
                      read_change, server_ids)


@pytest.fixture
def account(instance):
    return new_account(instance)


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


@pytest.fixture
def devs(device_factory, account, version):
    return lambda **kw: device_factory(account, version, **kw)


def add_of(col, sid):
    for c in col.findall("Commands/Add"):
        if c.findtext("ServerId") == sid:
            return c.find("ApplicationData")
    return None


# ---- SyncKey 0, windows, retries --------------------------------------------------------------

def test_synckey_zero_answers_without_items(instance, account, devs):
    deliver(instance, account, message("one"))
    d = devs()
    col = d.sync("Inbox", key="0")
    assert col.findtext("Status") == "1"
    assert col.findtext("SyncKey") not in (None, "", "0")
    assert col.findtext("CollectionId") == d.folder("Inbox")
    assert col.find("Commands") is None and col.find("MoreAvailable") is None


def test_initial_sync_in_windows_newest_first(instance, account, devs, version):
    ids = [deliver(instance, account, message("message %d" % i)) for i in range(7)]
    d = devs()
    d.sync("Inbox", key="0")
    windows = []
    keys = []
    while True:
        col = d.sync("Inbox", window=3)
        assert col is not None and col.findtext("Status") == "1"
        keys.append(col.findtext("SyncKey"))
        windows.append(server_ids(col))
        if col.find("MoreAvailable") is None:
            break
    assert [len(w) for w in windows] == [3, 3, 1]
    seen = [sid for w in windows for sid in w]
    assert seen == list(reversed(ids))          # newest first, each once
    assert len(set(keys)) == len(keys)
    # nothing changed since: the empty response of 12.1+
    assert d.sync("Inbox", window=3) is None


def test_window_size_default_and_limits(instance, account, devs):
    for i in range(3):
        deliver(instance, account, message("w%d" % i))
    d = devs()
    d.sync("Inbox", key="0")
    col = d.sync("Inbox")               # no WindowSize: 100
    assert len(server_ids(col)) == 3 and col.find("MoreAvailable") is None
    d.sync("Inbox", key="0")
    col = d.sync("Inbox", window=0)     # 0 means 512
    assert len(server_ids(col)) == 3


def test_delivery_during_initial_sync_shows_up_exactly_once(instance, account, devs):
    ids = [deliver(instance, account, message("early %d" % i)) for i in range(5)]
    d = devs()
    d.sync("Inbox", key="0")
    seen = server_ids(d.sync("Inbox", window=2))
    late = deliver(instance, account, message("arrived during the sync"))
    while True:
        col = d.sync("Inbox", window=2)
        seen += server_ids(col)
        assert not [o for o, _ in ops(col) if o != "Add"]
        if col.find("MoreAvailable") is None:
            break
    assert sorted(seen, key=int) == sorted(ids + [late], key=int)
    assert len(seen) == len(set(seen))
    assert d.sync("Inbox", window=2) is None


def test_lost_response_retry_gets_the_same_changes(instance, account, devs):
    ids = [deliver(instance, account, message("r%d" % i)) for i in range(3)]
    d = devs()
    d.sync("Inbox", key="0")
    k1 = d.keys[d.folder("Inbox")]
    first = d.sync("Inbox", window=2)
    lost_key = first.findtext("SyncKey")
    # the response never arrived: the client repeats its request with the old key
    again = d.sync("Inbox", key=k1, window=2)
    assert again.findtext("Status") == "1"
    assert server_ids(again) == server_ids(first)
    assert again.find("MoreAvailable") is not None
    rest = d.sync("Inbox", window=2)
    assert server_ids(rest) == [ids[0]]
    assert sorted(server_ids(again) + server_ids(rest)) == sorted(ids)
    # the key of the lost response is no key any more
    col = d.sync("Inbox", key=lost_key)
    assert col.findtext("Status") == "3"


def test_retry_of_a_request_with_changes_is_not_a_duplicate(instance, account, devs):
    a_id = deliver(instance, account, message("to read"))
    b_id = deliver(instance, account, message("to delete"))
    d = devs()
    e = devs()
    d.sync_all("Inbox")
    e.sync_all("Inbox")
    key = d.keys[d.folder("Inbox")]
    cmds = read_change(a_id) + "<Delete><ServerId>%s</ServerId></Delete>" % b_id
    first = d.sync("Inbox", commands=cmds)
    assert first.find("Responses") is None
    # lost: the same request again, with the same key and commands
    again = d.sync("Inbox", key=key, commands=cmds)
    assert again.findtext("Status") == "1"
    assert again.find("Responses") is None      # the delete is done, not an error
    assert ops(again) == []                     # nothing echoed
    # the other device sees one change and one delete
    col = e.sync("Inbox")
    assert sorted(ops(col)) == sorted([("Change", a_id), ("Delete", b_id)])


def test_wrong_key_is_status_3_and_the_client_starts_over(instance, account, devs):
    deliver(instance, account, message("x"))
    d = devs()
    inbox = d.folder("Inbox")
    col = d.sync("Inbox", key="12345")          # no state at all
    assert col.findtext("Status") == "3" and col.findtext("SyncKey") == "0"
    assert col.findtext("CollectionId") == inbox
    d.sync_all("Inbox")
    for bad in ("999999", "abc", "01", "-5"):
        col = d.sync("Inbox", key=bad)
        assert col.findtext("Status") == "3", bad
        assert col.find("Commands") is None
    seen = d.sync_all("Inbox")
    assert len(seen) == 1


def test_two_devices_have_independent_states(instance, account, devs):
    ids = [deliver(instance, account, message("i%d" % i)) for i in range(2)]
    a = devs()
    b = devs()
    a.sync_all("Inbox")
    ka = a.keys[a.folder("Inbox")]
    b.sync("Inbox", key="0")
    # b is at the start: it gets everything, whatever a did
    col = b.sync("Inbox")
    assert sorted(server_ids(col)) == sorted(ids)
    # a's key means nothing for b's state unless b has that key itself
    assert a.sync("Inbox") is None
    assert a.keys[a.folder("Inbox")] == ka


# ---- changes between devices -------------------------------------------------------------------

def test_read_flag_categories_seen_by_the_other_device_not_echoed(instance, account, devs,
                                                                   version):
    sid = deliver(instance, account, message("flag me"))
    a = devs()
    b = devs()
    a.sync_all("Inbox")
    b.sync_all("Inbox")
    cats = ""
    if version >= "14.0":
        cats = ('<Categories xmlns="Email:"><Category>Work</Category><Category>Blue &amp; Red'
                '</Category></Categories>')
    flag = ('<Flag xmlns="Email:"><Status>2</Status><FlagType>for Follow Up</FlagType>'
            '<StartDate xmlns="Tasks:">2030-01-01T00:00:00.000Z</StartDate>'
            '<UtcStartDate xmlns="Tasks:">2030-01-01T00:00:00.000Z</UtcStartDate>'
            '<DueDate xmlns="Tasks:">2030-01-08T00:00:00.000Z</DueDate>'
            '<UtcDueDate xmlns="Tasks:">2030-01-08T00:00:00.000Z</UtcDueDate></Flag>')
    change = ('<Change><ServerId>%s</ServerId><ApplicationData><Read xmlns="Email:">1</Read>%s%s'
              '</ApplicationData></Change>' % (sid, flag, cats))
    col = a.sync("Inbox", commands=change)
    assert col.findtext("Status") == "1"
    assert col.find("Responses") is None and ops(col) == []
    assert a.sync("Inbox") is None              # not echoed later either
    col = b.sync("Inbox")
    assert ops(col) == [("Change", sid)]
    data = col.find("Commands/Change/ApplicationData")
    assert data.findtext("Read") == "1"
    f = data.find("Flag")
    assert f.findtext("Status") == "2" and f.findtext("FlagType") == "for Follow Up"
    assert f.findtext("Tasks:DueDate") == "2030-01-08T00:00:00.000Z"
    assert f.findtext("Tasks:UtcStartDate") == "2030-01-01T00:00:00.000Z"
    if version >= "14.0":
        assert [c.text for c in data.findall("Categories/Category")] == ["Work", "Blue & Red"]
    else:
        assert data.find("Categories") is None
    # b clears the flag and marks it unread: a sees it, b does not get it back
    col = b.sync("Inbox", commands='<Change><ServerId>%s</ServerId><ApplicationData><Read '
                 'xmlns="Email:">0</Read><Flag xmlns="Email:"/></ApplicationData></Change>' % sid)
    assert ops(col) == []
    col = a.sync("Inbox")
    data = col.find("Commands/Change/ApplicationData")
    assert data.findtext("Read") == "0"
    assert data.find("Flag") is not None and data.find("Flag").children == []
    # and the items as a new device sees them
    c = devs()
    seen = c.sync_all("Inbox")
    add = seen[0][1].find("ApplicationData")
    assert add.findtext("Read") == "0" and add.find("Flag").children == []


def test_delete_seen_by_the_other_device_and_deletes_as_moves(instance, account, devs):
    x = deliver(instance, account, message("delete me, keep a copy"))
    y = deliver(instance, account, message("delete me for good"))
    a = devs()
    b = devs()
    for d in (a, b):
        d.sync_all("Inbox")
        d.sync_all("Deleted Items")
    # default DeletesAsMoves: to Deleted Items
    col = a.sync("Inbox", commands="<Delete><ServerId>%s</ServerId></Delete>" % x)
    assert col.find("Responses") is None and ops(col) == []
    col = b.sync("Inbox")
    assert ops(col) == [("Delete", x)]
    # the copy arrives in Deleted Items for both devices (a too: it did not create it there)
    for d in (a, b):
        col = d.sync("Deleted Items")
        adds = col.findall("Commands/Add")
        assert len(adds) == 1
        assert adds[0].findtext("ApplicationData/Subject") == "delete me, keep a copy"
        assert adds[0].findtext("ServerId") != x
    # DeletesAsMoves 0: gone
    col = a.sync("Inbox", deletes_as_moves=0,
                 commands="<Delete><ServerId>%s</ServerId></Delete>" % y)
    assert col.find("Responses") is None
    assert ops(b.sync("Inbox")) == [("Delete", y)]
    assert b.sync("Deleted Items") is None
    # an unknown item: status 8
    col = a.sync("Inbox", commands="<Delete><ServerId>424242424</ServerId></Delete>")
    assert col.findtext("Responses/Delete/Status") == "8"
    assert col.findtext("Responses/Delete/ServerId") == "424242424"


def test_delete_in_deleted_items_is_final(instance, account, devs):
    x = deliver(instance, account, message("twice"))
    a = devs()
    a.sync_all("Inbox")
    a.sync_all("Deleted Items")
    a.sync("Inbox", commands="<Delete><ServerId>%s</ServerId></Delete>" % x)
    copy = server_ids(a.sync("Deleted Items"))[0]
    col = a.sync("Deleted Items", commands="<Delete><ServerId>%s</ServerId></Delete>" % copy)
    assert col.find("Responses") is None
    b = devs()
    assert b.sync_all("Deleted Items") == []


def test_conflict_the_server_wins(instance, account, devs):
    sid = deliver(instance, account, message("both change it"))
    a = devs()
    b = devs()
    a.sync_all("Inbox")
    b.sync_all("Inbox")
    b.sync("Inbox", commands=read_change(sid))
    # a has not seen b's change and changes the item: the server's version wins
    col = a.sync("Inbox", commands='<Change><ServerId>%s</ServerId><ApplicationData><Flag '
                 'xmlns="Email:"><Status>2</Status><FlagType>for Follow Up</FlagType></Flag>'
                 '</ApplicationData></Change>' % sid)
    assert col.findtext("Responses/Change/ServerId") == sid
    assert col.findtext("Responses/Change/Status") == "7"
    assert ops(col) == [("Change", sid)]
    data = col.find("Commands/Change/ApplicationData")
    assert data.findtext("Read") == "1" and data.find("Flag").children == []
    # Conflict 0: the client's change wins; the merged item comes back to it
    b.sync("Inbox", commands=read_change(sid, 0))
    client_wins = ('<Options><Conflict>0</Conflict><BodyPreference xmlns="AirSyncBase:"><Type>1'
                   '</Type></BodyPreference></Options>')
    col = a.sync("Inbox", options=client_wins,
                 commands='<Change><ServerId>%s</ServerId><ApplicationData><Flag xmlns="Email:">'
                          '<Status>2</Status><FlagType>for Follow Up</FlagType></Flag>'
                          '</ApplicationData></Change>' % sid)
    assert col.find("Responses") is None
    data = col.find("Commands/Change/ApplicationData")
    assert data.findtext("Read") == "0" and data.findtext("Flag/Status") == "2"
    col = b.sync("Inbox")
    assert col.find("Commands/Change/ApplicationData").findtext("Flag/Status") == "2"


# ---- FilterType ---------------------------------------------------------------------------------

def filter_opts(n, body=1):
    return ('<Options><FilterType>%d</FilterType><BodyPreference xmlns="AirSyncBase:"><Type>%d'
            '</Type></BodyPreference></Options>' % (n, body))


def test_filter_type_time_windows(instance, account, devs, tmp_path):
    now = time.time()
    import_mbox(instance, account, [(now - 40 * 86400, message("40 days old")),
                                    (now - 10 * 86400, message("10 days old")),
                                    (now - 2 * 86400, message("2 days old"))], tmp_path)
    deliver(instance, account, message("brand new"))
    d = devs()

    def subjects(opts):
        seen = d.sync_all("Inbox", options=opts)
        return sorted(n.findtext("ApplicationData/Subject") for _, n in seen)

    assert subjects(filter_opts(0)) == ["10 days old", "2 days old", "40 days old", "brand new"]
    assert subjects(filter_opts(1)) == ["brand new"]
    assert subjects(filter_opts(2)) == ["2 days old", "brand new"]
    assert subjects(filter_opts(4)) == ["10 days old", "2 days old", "brand new"]
    assert subjects(filter_opts(5)) == ["10 days old", "2 days old", "brand new"]
    # a narrower window on the same state goes on; a wider one needs a new start (status 3)
    d.sync("Inbox", options=filter_opts(3))
    col = d.sync("Inbox", options=filter_opts(0))
    assert col.findtext("Status") == "3"
    col = d.sync("Inbox", key="0", options=filter_opts(9))
    assert col.findtext("Status") == "4"


def test_items_leaving_the_window_get_a_soft_delete(instance, account, devs, tmp_path):
    now = time.time()
    import_mbox(instance, account, [(now - (20 + i) * 86400, message("old %d" % i))
                                    for i in range(5)] +
                [(now - 2 * 86400, message("recent"))], tmp_path)
    d = devs()
    seen = d.sync_all("Inbox", options=filter_opts(0))
    by_subject = {n.findtext("ApplicationData/Subject"): n.findtext("ServerId") for _, n in seen}
    assert len(by_subject) == 6
    # a narrower window (one week): the older items leave the device, in windows
    soft = []
    while True:
        col = d.sync("Inbox", window=2, options=filter_opts(3))
        assert col.findtext("Status") == "1"
        assert {o for o, _ in ops(col)} <= {"SoftDelete"}
        soft += [sid for o, sid in ops(col)]
        if col.find("MoreAvailable") is None:
            break
    assert sorted(soft) == sorted(by_subject["old %d" % i] for i in range(5))
    assert len(soft) == len(set(soft))
    assert d.sync("Inbox", window=2, options=filter_opts(3)) is None


def test_filter_applies_to_changes_too(instance, account, devs, tmp_path):
    now = time.time()
    import_mbox(instance, account, [(now - 30 * 86400, message("old one"))], tmp_path)
    d = devs()
    e = devs()
    d.sync_all("Inbox", options=filter_opts(3))
    e.sync_all("Inbox", options=filter_opts(0))
    old = e.sync_all("Inbox", options=filter_opts(0))[0][1].findtext("ServerId")
    e.sync("Inbox", options=filter_opts(0), commands=read_change(old))
    # outside d's window: not sent
    assert d.sync("Inbox", options=filter_opts(3)) is None


# ---- bodies -------------------------------------------------------------------------------------

HTML = "<html><body><p>Hello <b>there</b>, this is the HTML body.</p></body></html>"
TEXT = "Hello there, this is the text body.\r\nSecond line."


def body_opts(*prefs, mime=None, part=None, extra=""):
    x = "<Options>"
    if mime is not None:
        x += "<MIMESupport>%d</MIMESupport>" % mime
    for p in prefs:
        x += '<BodyPreference xmlns="AirSyncBase:"><Type>%d</Type>' % p[0]
        if len(p) > 1 and p[1] is not None:
            x += "<TruncationSize>%d</TruncationSize>" % p[1]
        if len(p) > 2 and p[2]:
            x += "<AllOrNone>1</AllOrNone>"
        if len(p) > 3 and p[3]:
            x += "<Preview>%d</Preview>" % p[3]
        x += "</BodyPreference>"
    if part:
        x += ('<BodyPartPreference xmlns="AirSyncBase:"><Type>2</Type>'
              '<TruncationSize>%d</TruncationSize><Preview>%d</Preview></BodyPartPreference>'
              % part)
    return x + extra + "</Options>"


def one_item(d, opts):
    seen = d.sync_all("Inbox", options=opts)
    assert len(seen) == 1
    return seen[0][1].find("ApplicationData")


def test_body_preferences(instance, account, devs, version):
    sid = deliver(instance, account, message("bodies", body=TEXT, html=HTML,
                                             attachment=("report.pdf", "application/pdf",
                                                         b"%PDF-1.4 fake" * 100)))
    d = devs()
    # plain text
    data = one_item(d, body_opts((1,)))
    body = data.find("AirSyncBase:Body")
    assert body.findtext("Type") == "1"
    assert body.findtext("Data").replace("\r\n", "\n").strip() == TEXT.replace("\r\n", "\n")
    assert body.findtext("Truncated") == "0"
    assert data.findtext("AirSyncBase:NativeBodyType") == "2"
    # HTML
    body = one_item(d, body_opts((2,))).find("AirSyncBase:Body")
    assert body.findtext("Type") == "2" and "<b>there</b>" in body.findtext("Data")
    # the native type first when several are acceptable
    body = one_item(d, body_opts((1,), (2,))).find("AirSyncBase:Body")
    assert body.findtext("Type") == "2"
    # MIME with MIMESupport 2
    body = one_item(d, body_opts((4,), mime=2)).find("AirSyncBase:Body")
    assert body.findtext("Type") == "4"
    assert "Subject: bodies" in body.findtext("Data")
    # MIMESupport 0: no MIME, the text instead
    body = one_item(d, body_opts((4,), mime=0)).find("AirSyncBase:Body")
    assert body.findtext("Type") == "1"
    # truncation: bytes, with the full size
    body = one_item(d, body_opts((1, 5))).find("AirSyncBase:Body")
    assert body.findtext("Truncated") == "1" and body.findtext("Data") == "Hello"
    assert int(body.findtext("EstimatedDataSize")) >= len(TEXT.strip())
    # AllOrNone: HTML refused when cut, the whole text instead
    body = one_item(d, body_opts((2, 10, True), (1,))).find("AirSyncBase:Body")
    assert body.findtext("Type") == "1" and body.findtext("Truncated") == "0"
    # AllOrNone on the only type: no data at all
    body = one_item(d, body_opts((1, 10, True))).find("AirSyncBase:Body")
    assert body.findtext("Truncated") == "1" and body.find("Data") is None
    # attachments as FileReferences
    data = one_item(d, body_opts((1,)))
    atts = data.findall("AirSyncBase:Attachments/Attachment")
    assert len(atts) == 1
    assert atts[0].findtext("DisplayName") == "report.pdf"
    ref = atts[0].findtext("FileReference")
    assert ref.startswith(sid + ":") and ref.split(":")[1].isdigit()
    assert atts[0].findtext("Method") == "1"
    assert int(atts[0].findtext("EstimatedDataSize")) == len(b"%PDF-1.4 fake" * 100)
    # version-dependent elements
    data = one_item(d, body_opts((1, None, False, 20), part=(100, 20)))
    body = data.find("AirSyncBase:Body")
    if version >= "14.0":
        assert body.findtext("Preview") == TEXT[:20].replace("\r\n", " ")[:20]
        assert data.find("Email2:ConversationId").opaque and len(data.find("Email2:ConversationId").opaque) == 16
        assert len(data.find("Email2:ConversationIndex").opaque) == 5
        assert data.find("Categories") is not None
        part = data.find("AirSyncBase:BodyPart")
        assert part.findtext("Status") == "1" and part.findtext("Type") == "2"
        assert "<b>there</b>" in part.findtext("Data")
    else:
        assert body.find("Preview") is None
        assert data.find("Email2:ConversationId") is None and data.find("Categories") is None
        assert data.find("AirSyncBase:BodyPart") is None
    assert data.findtext("MessageClass") == "IPM.Note"
    assert data.findtext("Subject") == "bodies"
    assert data.findtext("From") == "Ann Sender <ann@example.com>"
    assert data.findtext("DisplayTo") == "Demo User; bob@example.org"
    assert data.findtext("Read") == "0" and data.findtext("Importance") == "1"
    assert data.findtext("DateReceived").endswith("Z")


@pytest.mark.parametrize("version", ["14.1", "16.1"])   # BodyPartPreference is 14.1+
def test_body_part_preference_other_than_html_is_refused(instance, account, devs, version):
    d = devs()
    opts = ('<Options><BodyPartPreference xmlns="AirSyncBase:"><Type>1</Type>'
            '</BodyPartPreference></Options>')
    col = d.sync("Inbox", key="0", options=opts)
    assert col.findtext("Status") == "4"


def test_fetch_in_sync(instance, account, devs):
    sid = deliver(instance, account, message("fetch me", body=TEXT))
    d = devs()
    d.sync_all("Inbox", options=body_opts((1, 5)))
    col = d.sync("Inbox", options=body_opts((1,)),
                 commands="<Fetch><ServerId>%s</ServerId></Fetch><Fetch><ServerId>77777777"
                          "</ServerId></Fetch>" % sid)
    fetches = col.findall("Responses/Fetch")
    assert [(f.findtext("ServerId"), f.findtext("Status")) for f in fetches] == \
        [(sid, "1"), ("77777777", "8")]
    body = fetches[0].find("ApplicationData/AirSyncBase:Body")
    assert body.findtext("Truncated") == "0" and body.findtext("Data").startswith("Hello there")


# ---- GetChanges, empty and partial requests ---------------------------------------------------------

def test_get_changes_0(instance, account, devs):
    first = deliver(instance, account, message("first"))
    d = devs()
    d.sync_all("Inbox")
    new = deliver(instance, account, message("second"))
    key = d.keys[d.folder("Inbox")]
    # no server changes asked for, none given (and nothing else to say)
    assert d.sync("Inbox", get_changes=0) is None
    # client changes without server changes: a new key, no Commands
    col = d.sync("Inbox", get_changes=0, commands=read_change(first))
    assert col.findtext("Status") == "1" and col.find("Commands") is None
    assert col.findtext("SyncKey") != key
    # then the server's change comes
    col = d.sync("Inbox")
    assert ops(col) == [("Add", new)]


def test_empty_sync_request_uses_the_cached_request(instance, account, devs):
    d = devs()
    d.sync("Inbox", key="0")
    d.sync("Deleted Items", key="0")
    # a full request with both collections (their current keys)
    x = ('<Sync xmlns="AirSync:"><Collections>'
         '<Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>%s</Collection>'
         '<Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>%s</Collection>'
         '</Collections></Sync>' % (d.keys[d.folder("Inbox")], d.folder("Inbox"), PLAIN,
                                    d.keys[d.folder("Deleted Items")], d.folder("Deleted Items"),
                                    PLAIN))
    r = d.post_sync(x)
    assert r.body == b""                       # nothing to say: the empty response
    r = d.post_sync(None)
    assert r.body == b""
    sid = deliver(instance, account, message("while idle"))
    r = d.post_sync(None)
    cols = r.wbxml.findall("Collections/Collection")
    inbox = [c for c in cols if c.findtext("CollectionId") == d.folder("Inbox")][0]
    assert ops(inbox) == [("Add", sid)]
    assert inbox.find("Commands/Add/ApplicationData/AirSyncBase:Body/Type").text == "1"
    # the cached request goes on with the new key
    assert d.post_sync(None).body == b""


def test_empty_sync_without_a_cached_request_is_13(instance, account, devs):
    d = devs()
    r = d.post_sync(None)
    assert r.wbxml.findtext("Status") == "13"


def test_partial_sync_request(instance, account, devs):
    d = devs()
    d.sync("Inbox", key="0")
    d.sync("Deleted Items", key="0")
    x = ('<Sync xmlns="AirSync:"><Collections>'
         '<Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>%s</Collection>'
         '<Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>%s</Collection>'
         '</Collections></Sync>' % (d.keys[d.folder("Inbox")], d.folder("Inbox"), PLAIN,
                                    d.keys[d.folder("Deleted Items")], d.folder("Deleted Items"),
                                    PLAIN))
    assert d.post_sync(x).body == b""
    sid = deliver(instance, account, message("partial"))
    # only Deleted Items in the request; Inbox comes from the cache
    x = ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s'
         '</CollectionId></Collection></Collections><Partial/></Sync>'
         % (d.keys[d.folder("Deleted Items")], d.folder("Deleted Items")))
    r = d.post_sync(x)
    cols = {c.findtext("CollectionId"): c for c in r.wbxml.findall("Collections/Collection")}
    assert ops(cols[d.folder("Inbox")]) == [("Add", sid)]
    # Partial alone with no cache at another device: 13
    e = devs()
    r = e.post_sync('<Sync xmlns="AirSync:"><Partial/></Sync>')
    assert r.wbxml.findtext("Status") == "13"


def test_wait_and_heartbeat_limits(instance, account, devs, version):
    d = devs()
    d.sync("Inbox", key="0")
    key = d.keys[d.folder("Inbox")]
    coll = ('<Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>'
            '</Collection></Collections>' % (key, d.folder("Inbox")))
    for wait, limit in (("0", "1"), ("60", "59")):
        r = d.post_sync('<Sync xmlns="AirSync:">%s<Wait>%s</Wait></Sync>' % (coll, wait))
        assert r.wbxml.findtext("Status") == "14" and r.wbxml.findtext("Limit") == limit
        assert r.wbxml.find("Collections") is None
    if version >= "14.0":
        for hb, limit in (("59", "60"), ("3541", "3540")):
            r = d.post_sync('<Sync xmlns="AirSync:">%s<HeartbeatInterval>%s</HeartbeatInterval>'
                            '</Sync>' % (coll, hb))
            assert r.wbxml.findtext("Status") == "14" and r.wbxml.findtext("Limit") == limit
        r = d.post_sync('<Sync xmlns="AirSync:">%s<Wait>5</Wait><HeartbeatInterval>300'
                        '</HeartbeatInterval></Sync>' % coll)
        assert r.wbxml.findtext("Status") == "4"


# ---- statuses -------------------------------------------------------------------------------------

def test_sync_statuses(instance, account, devs, expect_log):
    sid = deliver(instance, account, message("status"))
    d = devs()
    d.sync_all("Inbox")
    inbox = d.folder("Inbox")
    # protocol errors (4): commands with key 0, no CollectionId, no SyncKey, a bad WindowSize
    col = d.sync("Inbox", key="0", commands=read_change(sid))
    assert col.findtext("Status") == "4"
    d.sync_all("Inbox")
    for bad in ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>1</SyncKey>'
                '</Collection></Collections></Sync>',
                '<Sync xmlns="AirSync:"><Collections><Collection><CollectionId>%s</CollectionId>'
                '</Collection></Collections></Sync>' % inbox,
                '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>1</SyncKey>'
                '<CollectionId>%s</CollectionId><WindowSize>x</WindowSize></Collection>'
                '</Collections></Sync>' % inbox,
                '<Sync xmlns="AirSync:"><WindowSize>5</WindowSize></Sync>'):
        assert d.post_sync(bad).wbxml.findtext("Status") == "4"
    # hierarchy changed (12): no such folder
    col = d.sync("987654321", key="0")
    assert col.findtext("Status") == "12" and col.findtext("CollectionId") == "987654321"
    # object not found (8): Change of an item that is not there or not in this folder
    other = deliver(instance, account, message("elsewhere"), folder="Junk E-Mail")
    col = d.sync("Inbox", commands=read_change("55555555") + read_change(other))
    assert [(c.findtext("ServerId"), c.findtext("Status")) for c in
            col.findall("Responses/Change")] == [("55555555", "8"), (other, "8")]
    # conversion error (6): a bad value; an Add of mail is refused with its ClientId
    col = d.sync("Inbox", commands='<Change><ServerId>%s</ServerId><ApplicationData><Read '
                 'xmlns="Email:">7</Read></ApplicationData></Change>' % sid)
    assert col.findtext("Responses/Change/Status") == "6"
    col = d.sync("Inbox", commands='<Add><ClientId>c-1</ClientId><ApplicationData><Subject '
                 'xmlns="Email:">new</Subject></ApplicationData></Add>')
    assert col.findtext("Responses/Add/ClientId") == "c-1"
    assert col.findtext("Responses/Add/Status") == "6"
    # too many collections (15)
    many = "".join('<Collection><SyncKey>0</SyncKey><CollectionId>%d</CollectionId></Collection>'
                   % (900000 + i) for i in range(301))
    r = d.post_sync('<Sync xmlns="AirSync:"><Collections>%s</Collections></Sync>' % many)
    assert r.wbxml.findtext("Status") == "15"
    # after all that the state is fine
    col = d.sync("Inbox")
    assert col is None or col.findtext("Status") == "1"


def test_other_account_items_are_not_found(instance, account, devs):
    stranger = new_account(instance)
    theirs = deliver(instance, stranger, message("not yours"))
    d = devs()
    d.sync_all("Inbox")
    col = d.sync("Inbox", commands=read_change(theirs) +
                 "<Delete><ServerId>%s</ServerId></Delete>" % theirs)
    assert col.findtext("Responses/Change/Status") == "8"
    assert col.findtext("Responses/Delete/Status") == "8"
    s = Device(instance, stranger, protocol=d.protocol)
    assert [n.findtext("ApplicationData/Read") for _, n in s.sync_all("Inbox")] == ["0"]


# ---- rows read per round trip ---------------------------------------------------------------------

def probe(instance, account_id, account, device_id, xml, version="14.1"):
    """One Sync through the real pipeline on a connection of its own (t/tools/zxsyncprobe):
    (rows read or written in items/messages/message_attachments, response XML)."""
    import os
    import subprocess
    from easclient import encode, from_xml
    tool = os.path.join(instance.build_dir, "t", "tools", "zxsyncprobe")
    body = encode(from_xml(xml)) if xml else b""
    env = dict(os.environ, LD_LIBRARY_PATH=instance.libdir, ZXSYNCPROBE_DETAIL="1")
    p = subprocess.run([tool, instance.conninfo, account_id, account, device_id, version, "Sync"],
                       input=body, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode().split("\n", 2)
    assert lines[1] == "status 200", p.stdout
    probe.detail = p.stderr.decode()
    return int(lines[0].split()[1]), lines[2].strip()


def test_a_round_trip_reads_a_bounded_number_of_rows_per_item(instance, account, tmp_path):
    """Initial windows of a 1500-message folder, filtered and not, an incremental window and a
    no-change Sync: the rows of the mailbox tables a round trip touches stay within a small
    multiple of the items it returns (the store's queries walk an index from where the
    device is; see sql/004_mailstore.sql)."""
    import re
    from easclient import from_xml
    now = time.time()
    import_mbox(instance, account, [(now - i * 600, message("bulk %d" % i)) for i in range(1500)],
                tmp_path)
    # (fresh statistics, as autovacuum keeps them: plans for a folder of this size)
    instance.psql("ANALYZE items; ANALYZE messages; ANALYZE message_attachments; ANALYZE folders; "
                  "ANALYZE sync_states")
    local, dom = account.split("@")
    acct_id = instance.psql("SELECT a.id FROM accounts a JOIN domains d ON d.id = a.domain_id "
                            "WHERE a.local_part = '%s' AND d.name = '%s'" % (local, dom)).strip()
    d = Device(instance, account, protocol="14.1")
    inbox = d.folder("Inbox")

    def sync_xml(key, window, filter_type=0):
        return ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
                '<CollectionId>%s</CollectionId><WindowSize>%d</WindowSize><Options><FilterType>'
                '%d</FilterType><BodyPreference xmlns="AirSyncBase:"><Type>1</Type>'
                '<TruncationSize>200</TruncationSize></BodyPreference></Options></Collection>'
                '</Collections></Sync>' % (key, inbox, window, filter_type))

    def run(device, key, window, filter_type=0):
        rows, xml = probe(instance, acct_id, account, device, sync_xml(key, window, filter_type))
        if not xml:
            return rows, 0, key, False
        doc = from_xml(xml)
        col = doc.find("Collections/Collection")
        assert col.findtext("Status") == "1", xml
        n = len(col.findall("Commands/*"))
        return rows, n, col.findtext("SyncKey"), col.find("MoreAvailable") is not None

    keys = {}
    for filter_type, expect_items in ((0, 1500), (2, 3 * 144)):
        dev_id = "probe%d" % filter_type
        rows, n, key, _ = run(dev_id, "0", 100, filter_type)
        assert n == 0 and rows <= 2, rows
        total = 0
        for i in range(3):
            rows, n, key, more = run(dev_id, key, 100, filter_type)
            assert n == 100 and more
            assert rows <= 3 * n + 10, (filter_type, i, rows, probe.detail)
            total += n
        # from the middle of the folder too
        for i in range(40):
            rows, n, key, more = run(dev_id, key, 100, filter_type)
            assert rows <= 3 * n + 10, (filter_type, rows, n)
            total += n
            if not more:
                break
        assert abs(total - expect_items) <= 1, total
        # nothing changed: not one row of the mailbox is read
        rows, n, key, more = run(dev_id, key, 100, filter_type)
        assert n == 0 and rows == 0 and not more
        keys[filter_type] = key
    # an incremental window: changes made by another device
    other = Device(instance, account, protocol="14.1")
    seen = other.sync_all("Inbox", window=512)
    changed = [node.findtext("ServerId") for _, node in seen[:60]]
    other.sync("Inbox", commands="".join(read_change(sid) for sid in changed))
    rows, n, key, more = run("probe0", keys[0], 100, 0)
    assert n == 60 and not more
    assert rows <= 3 * n + 10, rows


# ---- the store's notifications and the device record --------------------------------------------

def test_every_change_notifies_the_account(instance, account):
    """Each committed change NOTIFYs channel zx_mailbox with the account id (the push work
    LISTENs to it)."""
    import subprocess
    local, dom = account.split("@")
    acct_id = instance.psql("SELECT a.id FROM accounts a JOIN domains d ON d.id = a.domain_id "
                            "WHERE a.local_part = '%s' AND d.name = '%s'" % (local, dom)).strip()
    d = Device(instance, account, protocol="14.1")
    d.sync_all("Inbox")

    def notified(action):
        import os
        env = dict(os.environ, PGAPPNAME="zxlisten")
        listener = subprocess.Popen(
            ["psql", "-X", "-h", instance.pg_sock, "-U", "zxmobile", "-d", "zxmobile",
             "-c", "LISTEN zx_mailbox", "-c", "SELECT pg_sleep(3)", "-c", "SELECT 1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        # once the listener sleeps, it listens
        for _ in range(200):
            if instance.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                             "'zxlisten' AND query LIKE 'SELECT pg_sleep%'").strip() == "1":
                break
            time.sleep(0.02)
        action()
        out = listener.communicate(timeout=30)[0].decode()
        return 'notification "zx_mailbox" with payload "%s"' % acct_id in out

    sid = None

    def do_deliver():
        nonlocal sid
        sid = deliver(instance, account, message("notify"))

    assert notified(do_deliver)
    d.sync("Inbox")
    assert notified(lambda: d.sync("Inbox", commands=read_change(sid)))
    assert notified(lambda: d.sync("Inbox", commands="<Delete><ServerId>%s</ServerId></Delete>"
                                                      % sid))


def test_the_device_record(instance, account, devs, version):
    d = devs()
    d.sync("Inbox", key="0")
    rows = instance.psql("SELECT device_type, protocol, user_agent, last_seen FROM devices d "
                         "WHERE d.device_id = '%s'" % d.device_id).strip().split("\n")
    assert len(rows) == 1
    dtype, proto, agent, seen = rows[0].split("|")
    assert (dtype, proto) == ("TestDevice", version) and agent.startswith("zxmobile-e2e")
    # within a minute the record is not written again
    d.foldersync()
    assert instance.psql("SELECT last_seen FROM devices WHERE device_id = '%s'"
                         % d.device_id).strip() == seen
