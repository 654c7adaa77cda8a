"""Search Store=Mailbox ([MS-ASCMD] 2.2.1.16) at 12.1, 14.1 and 16.1 and Find (2.2.1.2):
full-text search of mail (sql/024_search.sql, libzxsync/store/fts.c) by word, sender, date
range and folder, paging with Range and Total, words in Cyrillic and Chinese, the LongId of a
result reused in ItemOperations Fetch and SmartReply, no result from another account,
malformed requests, Find with the iOS query form (also at 14.x), and the backfill of mail
stored before the index existed."""

import uuid

import pytest

from mailtools import (INBOX, SENT, VERSIONS, account, account_id, client_for,  # noqa: F401
                       deliver,
                       fake_sendmail, folder_id, items, new_account, sendmail,  # noqa: F401
                       simple_message, sql)

NS = ('xmlns="Search:" xmlns:airsync="AirSync:" xmlns:email="Email:" '
      'xmlns:airsyncbase="AirSyncBase:"')
FIND_NS = 'xmlns="Find:" xmlns:airsync="AirSync:"'


def tag():
    return "t" + uuid.uuid4().hex[:10]


def put(instance, account, subject, body="Nothing special.\n", sender="Ann <ann@example.com>",
        folder=None):
    deliver(instance, account, simple_message(sender, account, subject, body), folder=folder)
    return items(instance, account, subject=subject)[0]


def search(c, query, options="<Range>0-9</Range>", store="Mailbox"):
    xml = ("<Search %s><Store><Name>%s</Name><Query>%s</Query><Options>%s</Options></Store>"
           "</Search>" % (NS, store, query, options))
    r = c.post("Search", xml)
    assert r.status == 200, r
    assert r.wbxml.name == "Search"
    assert r.wbxml.findtext("Status") == "1"
    return r.wbxml.find("Response/Store")


def results(st):
    """(LongId, CollectionId, Subject) of the non-empty Results."""
    return [(r.findtext("LongId"), r.findtext("CollectionId"), r.findtext("Properties/Subject"))
            for r in st.findall("Result") if r.find("LongId") is not None]


def free(text, coll=None):
    c = "<airsync:CollectionId>%s</airsync:CollectionId>" % coll if coll else ""
    return ("<And><airsync:Class>Email</airsync:Class>%s<FreeText>%s</FreeText></And>"
            % (c, text))


@pytest.mark.parametrize("version", VERSIONS)
def test_search_by_word(instance, account, version):
    t = tag()
    hit = put(instance, account, "Quarterly report", "The %s numbers are attached.\n" % t)
    put(instance, account, "Lunch", "Nothing about it.\n")
    c = client_for(instance, account, version)
    inbox = folder_id(instance, account, INBOX)
    st = search(c, free(t, inbox), "<Range>0-9</Range><airsyncbase:BodyPreference>"
                "<airsyncbase:Type>1</airsyncbase:Type></airsyncbase:BodyPreference>")
    assert st.findtext("Status") == "1"
    assert results(st) == [(hit["id"], inbox, "Quarterly report")]
    assert st.findtext("Total") == "1" and st.findtext("Range") == "0-0"
    r = st.find("Result")
    assert r.findtext("Class") == "Email"
    # the Email class renders the properties with the body preference
    assert t in r.findtext("Properties/Body/Data")
    assert r.findtext("Properties/From") == "Ann <ann@example.com>"
    # a prefix of the word, any case, finds it too
    assert results(search(c, free(t[:6].upper())))[0][0] == hit["id"]
    # a word that is nowhere: one empty Result, Total 0
    st = search(c, free("zq" + tag()))
    assert results(st) == [] and st.findtext("Total") == "0"
    assert len(st.findall("Result")) == 1 and st.find("Range") is None


@pytest.mark.parametrize("version", VERSIONS)
def test_search_by_sender_and_subject_fields(instance, account, version):
    t = tag()
    a = put(instance, account, "From Olga " + t, sender="Olga Orig <olga.%s@example.com>" % t)
    b = put(instance, account, "Mentions olga." + t)
    c = client_for(instance, account, version)
    got = {x[0] for x in results(search(c, free("olga." + t)))}
    assert got == {a["id"], b["id"]}
    # field syntax: from: matches the sender only, subject: the subject only
    assert [x[0] for x in results(search(c, free("from:olga." + t)))] == [a["id"]]
    assert [x[0] for x in results(search(c, free('subject:"mentions olga"')))] == [b["id"]]
    # EqualTo on email:From
    st = search(c, "<EqualTo><email:From/><Value>olga.%s@example.com</Value></EqualTo>" % t)
    assert [x[0] for x in results(st)] == [a["id"]]


@pytest.mark.parametrize("version", VERSIONS)
def test_search_by_date_range(instance, account, version):
    t = tag()
    ids = []
    for day in ("2024-01-10", "2024-02-10", "2024-03-10"):
        it = put(instance, account, "Dated %s %s" % (t, day))
        sql(instance, "UPDATE items SET received = %s WHERE id = %s", day + " 12:00:00+00",
            it["id"])
        ids.append(it["id"])
    c = client_for(instance, account, version)
    q = ("<And><airsync:Class>Email</airsync:Class><FreeText>%s</FreeText>"
         "<GreaterThan><email:DateReceived/><Value>2024-02-01T00:00:00.000Z</Value></GreaterThan>"
         "<LessThan><email:DateReceived/><Value>2024-03-01T00:00:00.000Z</Value></LessThan>"
         "</And>" % t)
    st = search(c, q)
    assert [x[0] for x in results(st)] == [ids[1]] and st.findtext("Total") == "1"
    # only a lower bound: newest first
    q = ("<And><FreeText>%s</FreeText><GreaterThan><email:DateReceived/>"
         "<Value>2024-02-01T00:00:00.000Z</Value></GreaterThan></And>" % t)
    assert [x[0] for x in results(search(c, q))] == [ids[2], ids[1]]


@pytest.mark.parametrize("version", VERSIONS)
def test_search_by_folder(instance, account, version):
    t = tag()
    inbox, sent = folder_id(instance, account, INBOX), folder_id(instance, account, SENT)
    a = put(instance, account, "In inbox " + t)
    b = put(instance, account, "In sent " + t, folder=sent)
    c = client_for(instance, account, version)
    assert [x[:2] for x in results(search(c, free(t, inbox)))] == [(a["id"], inbox)]
    assert [x[:2] for x in results(search(c, free(t, sent)))] == [(b["id"], sent)]
    both = {x[0] for x in results(search(c, free(t)))}
    assert both == {a["id"], b["id"]}
    # a folder that is not the account's: nothing
    assert results(search(c, free(t, "999999999"))) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_search_paging_range_total(instance, account, version):
    t = tag()
    ids = []
    for i in range(7):
        it = put(instance, account, "Page %d %s" % (i, t))
        sql(instance, "UPDATE items SET received = now() - interval '%s minutes' WHERE id = %s"
            % (10 - i, "%s"), it["id"])
        ids.append(it["id"])
    newest_first = list(reversed(ids))
    c = client_for(instance, account, version)
    seen = []
    for rng, want in (("0-2", "0-2"), ("3-5", "3-5"), ("6-8", "6-6")):
        st = search(c, free(t), "<Range>%s</Range><RebuildResults/>" % rng)
        assert st.findtext("Total") == "7"
        assert st.findtext("Range") == want
        seen += [x[0] for x in results(st)]
    assert seen == newest_first
    st = search(c, free(t), "<Range>20-29</Range>")
    assert results(st) == [] and st.findtext("Total") == "7"


@pytest.mark.parametrize("version", VERSIONS)
def test_search_non_latin(instance, account, version):
    t = tag()
    ru = put(instance, account, "Отчёт " + t, "Привет, мир! Встреча в пятницу.\n")
    zh = put(instance, account, "会议 " + t, "我们明天在北京见面。\n")
    ja = put(instance, account, "予定 " + t, "東京都で会いましょう\n")
    c = client_for(instance, account, version)

    def found(text):
        return {x[0] for x in results(search(c, free(text)))} & {ru["id"], zh["id"], ja["id"]}

    assert found("привет") == {ru["id"]}
    assert found("ПРИВЕТ МИР") == {ru["id"]}
    assert found("отчет") == {ru["id"]}           # ё folds to е (NFKD, marks dropped)
    assert found("пятн") == {ru["id"]}            # prefix
    assert found("北京") == {zh["id"]}
    assert found("明天") == {zh["id"]}
    assert found("在北京见面") == {zh["id"]}       # a phrase of bigrams
    assert found("京") == {zh["id"], ja["id"]}     # one character: a prefix
    assert found("北海") == set()
    assert found("京都") == {ja["id"]}
    assert found("会议") == {zh["id"]}


def test_search_accents_and_case(instance, account):
    t = tag()
    it = put(instance, account, "Café crème " + t)
    c = client_for(instance, account, "16.1")
    for q in ("cafe", "CAFÉ", "creme " + t):
        assert it["id"] in [x[0] for x in results(search(c, free(q)))], q


@pytest.mark.parametrize("version", VERSIONS)
def test_longid_in_fetch_and_smartreply(instance, account, sendmail, version):
    t = tag()
    it = put(instance, account, "Reply to me " + t, "The original %s text.\n" % t,
             sender="Olga Orig <olga@example.com>")
    c = client_for(instance, account, version)
    (long_id, _, _), = results(search(c, free(t)))
    assert long_id == it["id"]
    io = ('<ItemOperations xmlns="ItemOperations:" xmlns:search="Search:" '
          'xmlns:airsyncbase="AirSyncBase:"><Fetch><Store>Mailbox</Store>'
          '<search:LongId>%s</search:LongId><Options><airsyncbase:BodyPreference>'
          '<airsyncbase:Type>1</airsyncbase:Type></airsyncbase:BodyPreference></Options>'
          '</Fetch></ItemOperations>' % long_id)
    r = c.post("ItemOperations", io)
    f = r.wbxml.find("Response/Fetch")
    assert f.findtext("Status") == "1" and f.findtext("LongId") == long_id
    assert t in f.findtext("Properties/Body/Data")
    mime = ("From: Mail Tester <%s>\r\nTo: olga@example.com\r\nSubject: RE: %s\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nThanks!\r\n" % (account, t))
    if version == "12.1":
        r = c.post("SmartReply", mime.encode(), params=[("LongId", long_id)],
                   content_type="message/rfc822")
    else:
        import base64
        r = c.post("SmartReply", '<SmartReply xmlns="ComposeMail:"><ClientId>%s</ClientId>'
                   '<Source><LongId>%s</LongId></Source><Mime opaque="base64">%s</Mime>'
                   '</SmartReply>' % (tag(), long_id, base64.b64encode(mime.encode()).decode()))
    assert r.status == 200 and r.body == b"", r
    sent = sendmail.sent()
    assert len(sent) == 1 and "> The original %s text." % t in sent[0]["stdin"]
    assert items(instance, account, INBOX, subject="Reply to me " + t)[0]["answered"]


def test_no_cross_account_results(instance, account):
    t = tag()
    other = new_account(instance)
    theirs = put(instance, other, "Secret " + t, "confidential %s\n" % t)
    mine = client_for(instance, account, "16.1")
    their_inbox = folder_id(instance, other, INBOX)
    for q in (free(t), free(t, their_inbox), free("secret"),
              "<EqualTo><email:Subject/><Value>Secret %s</Value></EqualTo>" % t):
        st = search(mine, q)
        assert results(st) == [] and st.findtext("Total") == "0", q
    # nor with DeepTraversal from their folder, nor through Find
    st = search(mine, free(t, their_inbox), "<DeepTraversal/><Range>0-9</Range>")
    assert results(st) == []
    r = find(mine, '"%s"' % t)
    assert r.find("Response/Result") is None
    # the owner finds it
    assert [x[0] for x in results(search(client_for(instance, other, "16.1"), free(t)))] == \
        [theirs["id"]]
    # the LongId of their item is no use to this account either
    io = ('<ItemOperations xmlns="ItemOperations:" xmlns:search="Search:"><Fetch>'
          '<Store>Mailbox</Store><search:LongId>%s</search:LongId></Fetch></ItemOperations>'
          % theirs["id"])
    assert mine.post("ItemOperations", io).wbxml.findtext("Response/Fetch/Status") == "6"


@pytest.mark.parametrize("query,options,status", [
    ("", "<Range>0-9</Range>", "2"),                                     # empty Query
    (free("x") + free("y"), "<Range>0-9</Range>", "2"),                  # two conditions
    (free("x"), "<Range>9-0</Range>", "2"),                              # bad range
    (free("x"), "<Range>a-b</Range>", "2"),
    ("<GreaterThan><email:DateReceived/><Value>yesterday</Value></GreaterThan>", "", "2"),
    ("<LessThan><Value>2024-01-01T00:00:00.000Z</Value></LessThan>", "", "2"),
    ("<EqualTo><email:Importance/><Value>1</Value></EqualTo>", "", "2"),
    ("<And><airsync:ServerId>1</airsync:ServerId></And>", "", "2"),     # unknown element
    (free(" ".join("w%d" % i for i in range(70))), "", "8"),            # too complex
])
def test_search_malformed(instance, account, query, options, status):
    c = client_for(instance, account, "14.1")
    st = search(c, query, options)
    assert st.findtext("Status") == status
    assert st.find("Result") is None


def test_search_other_stores_and_no_store(instance, account):
    c = client_for(instance, account, "14.1")
    assert search(c, "<FreeText>x</FreeText>", store="DocumentLibrary").findtext("Status") == "2"
    r = c.post("Search", "<Search %s><Store><Query/></Store></Search>" % NS)
    assert r.wbxml is not None and r.wbxml.findtext("Status") == "103"
    c12 = client_for(instance, account, "12.1")
    assert c12.post("Search", "<Search %s/>" % NS).status == 400


# ---- Find ----------------------------------------------------------------------------------

def find(c, text, coll=None, rng="0-99", gal=False):
    coll_xml = "<airsync:CollectionId>%s</airsync:CollectionId>" % coll if coll else ""
    crit = ("<GalSearchCriterion><Query>%s</Query></GalSearchCriterion>" % text if gal else
            "<MailBoxSearchCriterion><Query><airsync:Class>Email</airsync:Class>%s"
            "<FreeText>%s</FreeText></Query><Options><Range>%s</Range><DeepTraversal/>"
            "</Options></MailBoxSearchCriterion>" % (coll_xml, text, rng))
    r = c.post("Find", "<Find %s><SearchId>%s</SearchId><ExecuteSearch>%s</ExecuteSearch></Find>"
               % (FIND_NS, str(uuid.uuid4()).upper(), crit))
    assert r.status == 200, r
    assert r.wbxml.name == "Find"
    return r.wbxml


def ios_query(x):
    return 'to:"%s" OR cc:"%s" OR from:"%s" OR subject:"%s" OR "%s"' % ((x,) * 5)


@pytest.mark.parametrize("version", ["14.0", "14.1", "16.1"])
def test_find_ios_query(instance, account, version):
    t = tag()
    a = put(instance, account, "Budget " + t)
    b = put(instance, account, "Hello", sender="Zed %s <zed@example.com>" % t)
    d = put(instance, account, "Other", "body mentions %s here\n" % t)
    put(instance, account, "Unrelated", "nothing\n")
    inbox = folder_id(instance, account, INBOX)
    c = client_for(instance, account, version)
    doc = find(c, ios_query(t), coll=inbox)
    assert doc.findtext("Status") == "1"
    resp = doc.find("Response")
    assert resp.findtext("Store") == "Mailbox" and resp.findtext("Status") == "1"
    got = [(r.findtext("ServerId"), r.findtext("CollectionId")) for r in resp.findall("Result")]
    assert sorted(got) == sorted([(a["id"], inbox), (b["id"], inbox), (d["id"], inbox)])
    assert resp.findtext("Total") == "3" and resp.findtext("Range") == "0-2"
    r0 = [r for r in resp.findall("Result") if r.findtext("ServerId") == a["id"]][0]
    assert r0.findtext("Class") == "Email"
    assert r0.findtext("Properties/Subject") == "Budget " + t
    assert r0.findtext("Properties/Preview") == "Nothing special."
    assert r0.findtext("Properties/HasAttachments") == "0"
    # a field term alone: only the sender's
    doc = find(c, 'from:"%s"' % t)
    assert [r.findtext("ServerId") for r in doc.findall("Response/Result")] == [b["id"]]
    # AND and parentheses
    doc = find(c, '(subject:budget OR subject:hello) AND "%s"' % t)
    assert sorted(r.findtext("ServerId") for r in doc.findall("Response/Result")) == \
        sorted([a["id"], b["id"]])


def test_find_statuses(instance, account):
    c = client_for(instance, account, "16.1")
    # Range must begin with 0 (Response Status 4), at most 0-999 (2)
    assert find(c, "x", rng="5-10").findtext("Response/Status") == "4"
    assert find(c, "x", rng="0-1000").findtext("Status") == "2"
    # an unknown folder: FolderSync required
    assert find(c, "x", coll="999999999").findtext("Status") == "3"
    # a GAL criterion searches the GAL (test_gal.py::test_find_gal_criterion): nothing is "x"
    doc = find(c, "x", gal=True)
    assert doc.findtext("Status") == "1" and doc.findtext("Response/Store") == "GAL"
    assert doc.findtext("Response/Total") == "0"
    r = c.post("Find", "<Find %s><SearchId>1</SearchId></Find>" % FIND_NS)
    assert r.wbxml.findtext("Status") == "2"


# ---- the index ---------------------------------------------------------------------------------

def test_index_rows_and_backfill(instance, account):
    """Every delivered message gets its row; a mailbox from before migration 024 is indexed
    by its first search, and moves keep the row (it belongs to the message)."""
    t = tag()
    its = [put(instance, account, "Old %d %s" % (i, t)) for i in range(3)]
    n = sql(instance, "SELECT count(*) FROM message_search s JOIN items i ON "
            "i.message_id = s.message_id WHERE i.id IN (%s, %s, %s)", *[x["id"] for x in its])
    assert n == [["3"]]
    aid = account_id(instance, account)
    sql(instance, "DELETE FROM message_search WHERE account_id = %s", aid)
    sql(instance, "UPDATE mailboxes SET search_backfill = true WHERE account_id = %s", aid)
    c = client_for(instance, account, "14.1")
    assert len(results(search(c, free(t)))) == 3
    assert sql(instance, "SELECT search_backfill FROM mailboxes WHERE account_id = %s",
               aid) == [["f"]]


def test_deep_traversal_and_moves(instance, account):
    """DeepTraversal takes the CollectionId's subfolders; a moved message is found in its new
    folder under its new id (the index row belongs to the message) and no longer in the old."""
    t = tag()
    c = client_for(instance, account, "14.1")
    r = c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey>'
               '</FolderSync>')
    inbox = folder_id(instance, account, INBOX)
    r = c.post("FolderCreate", '<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey>'
               '<ParentId>%s</ParentId><DisplayName>Sub %s</DisplayName><Type>12</Type>'
               '</FolderCreate>' % (r.wbxml.findtext("SyncKey"), inbox, t))
    sub = r.wbxml.findtext("ServerId")
    assert r.wbxml.findtext("Status") == "1" and sub
    top = put(instance, account, "Top " + t)
    low = put(instance, account, "Low " + t, folder=sub)
    assert [x[0] for x in results(search(c, free(t, inbox)))] == [top["id"]]
    deep = results(search(c, free(t, inbox), "<DeepTraversal/><Range>0-9</Range>"))
    assert sorted(x[:2] for x in deep) == sorted([(top["id"], inbox), (low["id"], sub)])
    # move the top one into the subfolder
    r = c.post("MoveItems", '<MoveItems xmlns="Move:"><Move><SrcMsgId>%s</SrcMsgId>'
               '<SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move></MoveItems>'
               % (top["id"], inbox, sub))
    new_id = r.wbxml.findtext("Response/DstMsgId")
    assert r.wbxml.findtext("Response/Status") == "3" and new_id
    assert results(search(c, free(t, inbox))) == []
    got = sorted(x[:2] for x in results(search(c, free(t, sub))))
    assert got == sorted([(new_id, sub), (low["id"], sub)])


def test_search_conversation_id(instance, account):
    import base64
    t = tag()
    root = "<%s@example.com>" % t
    deliver(instance, account, simple_message("a@example.com", account, "Thread " + t,
                                              message_id=root))
    deliver(instance, account, simple_message(
        "b@example.com", account, "RE: Thread " + t,
        extra_headers="In-Reply-To: %s\r\nReferences: %s\r\n" % (root, root)))
    other = put(instance, account, "Elsewhere " + t)
    ids = [x["id"] for x in items(instance, account) if t in x["subject"]]
    conv = sql(instance, "SELECT DISTINCT encode(conversation_id, 'hex') FROM items WHERE id IN "
               "(%s, %s)", *[i for i in ids if i != other["id"]])
    assert len(conv) == 1
    b64 = base64.b64encode(bytes.fromhex(conv[0][0])).decode()
    c = client_for(instance, account, "14.1")
    st = search(c, '<ConversationId opaque="base64">%s</ConversationId>' % b64)
    got = {x[0] for x in results(st)}
    assert got == set(ids) - {other["id"]} and st.findtext("Total") == "2"
    # with a word: the conversation's messages that have it
    st = search(c, '<And><ConversationId opaque="base64">%s</ConversationId>'
                '<FreeText>RE</FreeText></And>' % b64)
    assert len(results(st)) == 1
