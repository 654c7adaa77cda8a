"""The Sync options of 2.5-era clients ([MS-ASCMD] 2.2.3.125.6 Options, 2.2.3.185 Truncation)
over the real httpd: a 2.5 and a 12.1 Sync of the Inbox whose Options carry Truncation and
RTFTruncation (a token of [MS-ASWBXML] revision 1.0 only) decode and work; at 2.5 Truncation
cuts email:Body to the spec's character count with BodySize and BodyTruncated; a 12.1 phone's
Sync of 100 contacts with those options decodes (it used to be answered HTTP 400)."""

import uuid
from xml.sax.saxutils import escape

import pytest

from syncutil import deliver, message, new_account

# [MS-ASCMD] 2.2.3.185: the characters each Truncation value keeps (9: everything)
TRUNCATION_CHARS = {0: 0, 1: 512, 2: 1024, 3: 2048, 4: 5120, 5: 10240, 6: 20480, 7: 51200,
                    8: 102400}


@pytest.fixture
def account(instance):
    return new_account(instance)


def options_25(truncation):
    """The Options of a 2.5 client's e-mail collection."""
    return ("<Options><FilterType>0</FilterType><Truncation>%d</Truncation>"
            "<RTFTruncation>4</RTFTruncation><MIMESupport>0</MIMESupport>"
            "<MIMETruncation>8</MIMETruncation><Conflict>1</Conflict></Options>" % truncation)


def sync_xml(coll, key, options, cls="Email", commands="", supported="", window=100):
    return ('<Sync xmlns="AirSync:" xmlns:contacts="Contacts:" xmlns:contacts2="Contacts2:"'
            ' xmlns:airsyncbase="AirSyncBase:"><Collections><Collection>'
            '<Class>%s</Class><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>%s'
            '<DeletesAsMoves/><GetChanges/><WindowSize>%d</WindowSize>%s%s'
            '</Collection></Collections></Sync>'
            % (cls, escape(key), coll, supported, window, options,
               "<Commands>%s</Commands>" % commands if commands else ""))


def sync(d, coll, key, options, **kw):
    """One Sync; the decoded response's Collection (status 1 checked)."""
    r = d.c.post("Sync", sync_xml(coll, key, options, **kw))
    assert r.status == 200, r
    col = r.wbxml.find("Collections/Collection")
    assert col is not None, r.wbxml
    assert col.findtext("Status") == "1", col
    return col


def adds_by_subject(col):
    return {a.findtext("ApplicationData/Subject"): a.find("ApplicationData")
            for a in col.findall("Commands/Add")}


def initial(d, coll, options):
    key = sync(d, coll, "0", options).findtext("SyncKey")
    col = sync(d, coll, key, options)
    return adds_by_subject(col)


LONG = "\u00e9" * 300 + "a" * 300 + " and some more text to go beyond 600 characters " * 20


def test_25_truncation_cuts_the_body(instance, account, device_factory):
    deliver(instance, account, message("long one", body=LONG))
    deliver(instance, account, message("short one", body="Short body."))
    # the whole bodies first (9: no truncation), as the reference
    d = device_factory(account, "2.5")
    whole = initial(d, d.folder("Inbox"), options_25(9))
    assert set(whole) == {"long one", "short one"}
    full = whole["long one"].findtext("Body")
    assert full.startswith(LONG[:600]) and len(full) >= len(LONG)
    assert whole["long one"].findtext("BodyTruncated") == "0"
    assert whole["long one"].find("BodySize") is None
    short = whole["short one"].findtext("Body")
    assert short.startswith("Short body.")

    for trunc in (1, 2, 0):
        d = device_factory(account, "2.5")
        got = initial(d, d.folder("Inbox"), options_25(trunc))
        keep = TRUNCATION_CHARS[trunc]
        ad = got["long one"]
        assert (ad.findtext("Body") or "") == full[:keep], trunc       # characters, not bytes
        assert ad.findtext("BodyTruncated") == "1"
        assert ad.findtext("BodySize") == str(len(full))
        ad = got["short one"]
        if trunc == 0:
            assert (ad.findtext("Body") or "") == ""
            assert ad.findtext("BodyTruncated") == "1"
            assert ad.findtext("BodySize") == str(len(short))
        else:
            assert ad.findtext("Body") == short
            assert ad.findtext("BodyTruncated") == "0"
            assert ad.find("BodySize") is None
        # the 2.5 form: no airsyncbase:Body
        assert ad.find("AirSyncBase:Body") is None


def test_121_legacy_options_accepted_and_ignored(instance, account, device_factory):
    deliver(instance, account, message("long one", body=LONG))
    d = device_factory(account, "12.1")
    opts = ('<Options><FilterType>0</FilterType><Truncation>1</Truncation>'
            '<RTFTruncation>1</RTFTruncation><MIMESupport>0</MIMESupport>'
            '<MIMETruncation>8</MIMETruncation><Conflict>1</Conflict>'
            '<airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type>'
            '</airsyncbase:BodyPreference></Options>')
    got = initial(d, d.folder("Inbox"), opts)
    ad = got["long one"]
    body = ad.find("AirSyncBase:Body")
    assert body.findtext("Type") == "1"
    data = body.findtext("Data")
    assert data.startswith(LONG[:600]) and len(data) >= len(LONG)     # Truncation: 2.5 only
    assert body.findtext("Truncated") in (None, "0")
    assert ad.find("Email:Body") is None and ad.find("Email:BodyTruncated") is None
    # the options are kept with the state: the next Sync without them is fine too
    key = sync(d, d.folder("Inbox"), "0", opts).findtext("SyncKey")
    r = d.c.post("Sync", sync_xml(d.folder("Inbox"), key, ""))
    assert r.status == 200


# ---- a 12.1 phone's 100 new contacts in one Sync ----------------------------------------------

SUPPORTED = ("<Supported>" + "".join(
    "<contacts:%s/>" % n for n in (
        "FileAs", "FirstName", "LastName", "MiddleName", "Suffix", "Title", "CompanyName",
        "JobTitle", "Department", "Email1Address", "Email2Address", "Email3Address",
        "MobilePhoneNumber", "HomePhoneNumber", "BusinessPhoneNumber", "HomeAddressStreet",
        "HomeAddressCity", "HomeAddressPostalCode", "HomeAddressCountry", "Birthday",
        "Picture", "Categories")) + "<contacts2:NickName/><contacts2:IMAddress/>"
    "</Supported>")

CONTACT_OPTIONS = ("<Options><FilterType>0</FilterType><Truncation>4</Truncation>"
                   "<RTFTruncation>4</RTFTruncation><Conflict>1</Conflict></Options>")


def contact_add(i):
    """One Add as a phone sends it: the notes in airsyncbase:Body, Contacts and Contacts2
    properties, and on some the 2.5-era contacts:Rtf."""
    first, last = "First%03d" % i, "Last%03d" % i
    x = ("<Add><ClientId>%d</ClientId><ApplicationData>"
         "<airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type>"
         "<airsyncbase:Data>Notes of contact %d</airsyncbase:Data></airsyncbase:Body>"
         "<contacts:FileAs>%s, %s</contacts:FileAs>"
         "<contacts:FirstName>%s</contacts:FirstName><contacts:LastName>%s</contacts:LastName>"
         "<contacts:MobilePhoneNumber>+1 555 01%03d</contacts:MobilePhoneNumber>"
         "<contacts:Email1Address>\"%s %s\" &lt;c%d@example.com&gt;</contacts:Email1Address>"
         "<contacts:CompanyName>Example Inc.</contacts:CompanyName>"
         "<contacts:Birthday>1980-01-%02dT00:00:00.000Z</contacts:Birthday>"
         "<contacts:Categories><contacts:Category>Friends</contacts:Category>"
         "</contacts:Categories>"
         "<contacts2:NickName>n%d</contacts2:NickName>"
         % (1000 + i, i, last, first, first, last, i, first, last, i, 1 + i % 28, i))
    if i % 10 == 0:
        x += "<contacts:Rtf>e1xydGYxfQ==</contacts:Rtf>"
    x += "</ApplicationData></Add>"
    return x


def test_121_phone_adds_100_contacts(instance, account, device_factory):
    d = device_factory(account, "12.1")
    coll = d.folder("Contacts")
    key = sync(d, coll, "0", CONTACT_OPTIONS, cls="Contacts", supported=SUPPORTED,
               window=100).findtext("SyncKey")
    body = sync_xml(coll, key, CONTACT_OPTIONS, cls="Contacts", supported=SUPPORTED,
                    commands="".join(contact_add(i) for i in range(100)))
    r = d.c.post("Sync", body)
    assert r.status == 200, r                   # decoded: not 400
    col = r.wbxml.find("Collections/Collection")
    assert col is not None and col.findtext("CollectionId") == coll
    adds = col.findall("Responses/Add")
    assert len(adds) == 100
    assert [a.findtext("ClientId") for a in adds] == [str(1000 + i) for i in range(100)]
    assert all(a.findtext("Status") for a in adds)
