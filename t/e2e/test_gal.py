"""The Global Address List at 12.1, 14.1 and 16.1 with the independent client: the accounts'
GAL attributes (zxsuite prov modifyAccount/getAccount), Search Store=GAL ([MS-ASCMD] 2.2.1.16:
prefix of a name, of an alias, case- and accent-insensitive, a non-Latin name, pictures with
MaxSize/MaxPictures, Range and Total, hidden accounts, another domain's accounts) and
ResolveRecipients ([MS-ASCMD] 2.2.1.15: an address, an alias, an ambiguous name, an unknown
address, a contact of the Contacts folder, certificates, pictures, Availability)."""

import base64
import os
import tempfile
import uuid

import pytest

from mailtools import PASSWORD, VERSIONS, client_for, sql, zx, zx_fails, zxj

SEARCH_NS = 'xmlns="Search:"'
RR_NS = 'xmlns="ResolveRecipients:"'

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"          # 1030 bytes
PHOTO_B64 = base64.b64encode(PHOTO).decode()
CERT1 = base64.b64encode(b"\x30\x82\x01\x0a" + os.urandom(266)).decode()
CERT2 = base64.b64encode(b"\x30\x82\x02\x0a" + os.urandom(522)).decode()


class Gal:
    pass


@pytest.fixture(scope="module")
def gal(instance):
    """A domain with a searching account and colleagues; another domain with a namesake."""
    g = Gal()
    g.dom = "gal%s.test" % uuid.uuid4().hex[:8]
    g.other = "galx%s.test" % uuid.uuid4().hex[:8]
    zx(instance, "prov", "createDomain", g.dom)
    zx(instance, "prov", "createDomain", g.other)
    g.me = "me@" + g.dom
    zx(instance, "prov", "createAccount", g.me, PASSWORD, "displayName", "Mail Tester",
       "zimbraFeatureMobileSyncEnabled", "TRUE")
    g.zoe = "zoe@" + g.dom
    zx(instance, "prov", "createAccount", g.zoe, "", "displayName", "Zoë Ångström",
       "givenName", "Zoë", "sn", "Ångström", "initials", "ZÅ", "company", "Acme Corp",
       "title", "Chief Tester", "ou", "QA", "physicalDeliveryOfficeName", "Building 7",
       "telephoneNumber", "+39 06 1234", "homePhone", "+39 06 5678", "mobile", "+39 333 1",
       "zimbraMailAlias", "Zed@" + g.dom, "thumbnailPhoto", PHOTO_B64,
       "userSMIMECertificate", CERT1, "userCertificate", CERT2)
    g.zoya = "zoya@" + g.dom
    zx(instance, "prov", "createAccount", g.zoya, "", "displayName", "Зоя Петрова",
       "givenName", "Зоя", "sn", "Петрова")
    g.hidden = "hidden@" + g.dom
    zx(instance, "prov", "createAccount", g.hidden, "", "displayName", "Hidden Person",
       "zimbraHideInGal", "TRUE")
    g.bulk = []
    for i in range(5):
        name = "bulk%d@%s" % (i, g.dom)
        args = ["displayName", "Bulkington %d" % i]
        if i in (0, 1, 2):
            args += ["thumbnailPhoto", PHOTO_B64]
        zx(instance, "prov", "createAccount", name, "", *args)
        g.bulk.append(name)
    g.namesake = "zoe@" + g.other
    zx(instance, "prov", "createAccount", g.namesake, "", "displayName", "Zoe Otherdomain")
    # Zoë's calendar for Availability: busy 09:00-10:00, out of office 10:15-10:45, tentative
    # 11:00-11:10, free 11:30-12:00 (UTC, 2030-01-01)
    with tempfile.NamedTemporaryFile("w", suffix=".ics", delete=False) as f:
        f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//gal//EN\r\n" + "".join(
            "BEGIN:VEVENT\r\nUID:gal-%d@test\r\nDTSTAMP:20291201T000000Z\r\n"
            "DTSTART:20300101T%sZ\r\nDTEND:20300101T%sZ\r\nSUMMARY:e%d\r\n"
            "X-MICROSOFT-CDO-BUSYSTATUS:%s\r\nEND:VEVENT\r\n" % (i, start, end, i, busy)
            for i, (start, end, busy) in enumerate([("090000", "100000", "BUSY"),
                                                    ("101500", "104500", "OOF"),
                                                    ("110000", "111000", "TENTATIVE"),
                                                    ("113000", "120000", "FREE")]))
            + "END:VCALENDAR\r\n")
    try:
        assert "imported 4 events" in zx(instance, "calendar", "import", g.zoe, f.name).stdout
    finally:
        os.unlink(f.name)
    return g


def search(c, query, options=""):
    r = c.post("Search", "<Search %s><Store><Name>GAL</Name><Query>%s</Query>%s</Store>"
                         "</Search>" % (SEARCH_NS, query, options))
    assert r.status == 200, r
    doc = r.wbxml
    assert doc.name == "Search" and doc.findtext("Status") == "1"
    store = doc.find("Response/Store")
    assert store is not None
    return store


def emails(store):
    return [r.findtext("Properties/EmailAddress") for r in store.findall("Result")
            if r.find("Properties") is not None]


@pytest.mark.parametrize("version", VERSIONS)
def test_search_name_prefix_and_properties(instance, gal, version):
    c = client_for(instance, gal.me, version)
    store = search(c, "zoe")
    assert store.findtext("Status") == "1"
    assert emails(store) == [gal.zoe]            # not the other domain's namesake
    assert store.findtext("Range") == "0-0" and store.findtext("Total") == "1"
    props = store.find("Result/Properties")
    got = {n.name: n.text for n in props.children}
    assert got == {"DisplayName": "Zoë Ångström", "Phone": "+39 06 1234",
                   "Office": "Building 7", "Title": "Chief Tester", "Company": "Acme Corp",
                   "Alias": "zoe", "FirstName": "Zoë", "LastName": "Ångström",
                   "HomePhone": "+39 06 5678", "MobilePhone": "+39 333 1",
                   "EmailAddress": gal.zoe}
    # [MS-ASCMD] order of the gal: elements
    assert [n.name for n in props.children] == [
        "DisplayName", "Phone", "Office", "Title", "Company", "Alias", "FirstName", "LastName",
        "HomePhone", "MobilePhone", "EmailAddress"]
    assert all(n.ns == props.children[0].ns for n in props.children)


@pytest.mark.parametrize("version", VERSIONS)
def test_search_alias_accent_case_and_script(instance, gal, version):
    c = client_for(instance, gal.me, version)
    assert emails(search(c, "zed")) == [gal.zoe]                 # alias
    assert emails(search(c, "ANGSTR")) == [gal.zoe]              # accent- and case-folded
    assert emails(search(c, "ångström")) == [gal.zoe]
    assert emails(search(c, "zoë å")) == [gal.zoe]               # the whole display name
    assert emails(search(c, "пет")) == [gal.zoya]                # Cyrillic surname
    assert emails(search(c, "ЗОЯ")) == [gal.zoya]
    assert emails(search(c, "zo")) == [gal.zoe, gal.zoya]        # zoya@ by its address
    assert emails(search(c, "mail tester")) == [gal.me]
    # LIKE wildcards in the query are plain characters
    assert emails(search(c, "%")) == [] and emails(search(c, "_oe")) == []
    empty = search(c, "nobody-like-this")
    assert empty.findtext("Status") == "1" and empty.findtext("Total") == "0"
    assert empty.find("Range") is None and len(empty.findall("Result")) == 1


@pytest.mark.parametrize("version", VERSIONS)
def test_search_hidden_and_other_domain(instance, gal, version):
    c = client_for(instance, gal.me, version)
    assert emails(search(c, "hidden")) == []
    assert emails(search(c, "otherdomain")) == []
    zx(instance, "prov", "modifyAccount", gal.hidden, "zimbraHideInGal", "FALSE")
    try:
        assert emails(search(c, "hidden")) == [gal.hidden]
    finally:
        zx(instance, "prov", "modifyAccount", gal.hidden, "zimbraHideInGal", "TRUE")
    assert emails(search(c, "hid")) == []
    # the other domain's namesake is in its own domain's GAL
    rows = sql(instance, "SELECT count(*) FROM gal_keys k JOIN accounts a ON a.id = k.account_id "
                         "JOIN domains d ON d.id = a.domain_id WHERE d.name = %s", gal.other)
    assert int(rows[0][0]) > 0


@pytest.mark.parametrize("version", VERSIONS)
def test_search_range_and_total(instance, gal, version):
    c = client_for(instance, gal.me, version)
    store = search(c, "bulk", "<Options><Range>0-1</Range></Options>")
    assert emails(store) == gal.bulk[:2]
    assert store.findtext("Range") == "0-1" and store.findtext("Total") == "5"
    store = search(c, "bulk", "<Options><Range>2-3</Range></Options>")
    assert emails(store) == gal.bulk[2:4] and store.findtext("Range") == "2-3"
    store = search(c, "bulk", "<Options><Range>4-9</Range></Options>")
    assert emails(store) == gal.bulk[4:] and store.findtext("Range") == "4-4"
    assert store.findtext("Total") == "5"
    store = search(c, "bulk", "<Options><Range>7-9</Range></Options>")
    assert emails(store) == [] and store.findtext("Total") == "5"
    store = search(c, "bulk")                                      # default 0-99
    assert emails(store) == gal.bulk and store.findtext("Range") == "0-4"
    bad = search(c, "bulk", "<Options><Range>5-2</Range></Options>")
    assert bad.findtext("Status") == "2" and bad.find("Result") is None


@pytest.mark.parametrize("version", VERSIONS)
def test_search_pictures(instance, gal, version):
    c = client_for(instance, gal.me, version)
    store = search(c, "bulk", "<Options><Picture><MaxPictures>2</MaxPictures></Picture>"
                              "</Options>")
    pics = [r.find("Properties/Picture") for r in store.findall("Result")]
    if version == "12.1":           # Picture is 14.1+
        assert pics == [None] * 5
        return
    assert [p.findtext("Status") for p in pics] == ["1", "1", "175", "173", "173"]
    assert [p.findtext("Data") for p in pics[:2]] == [PHOTO_B64, PHOTO_B64]
    assert pics[2].find("Data") is None
    store = search(c, "bulk", "<Options><Picture><MaxSize>1000</MaxSize></Picture></Options>")
    assert [r.findtext("Properties/Picture/Status") for r in store.findall("Result")] == \
        ["174", "174", "174", "173", "173"]
    store = search(c, "zoe", "<Options><Picture><MaxSize>%d</MaxSize></Picture></Options>"
                   % len(PHOTO))
    assert store.findtext("Result/Properties/Picture/Status") == "1"
    assert base64.b64decode(store.findtext("Result/Properties/Picture/Data")) == PHOTO
    bad = search(c, "zoe", "<Options><Picture><MaxSize>-1</MaxSize></Picture></Options>")
    assert bad.findtext("Status") == "2" and bad.find("Result") is None


@pytest.mark.parametrize("version", VERSIONS)
def test_search_other_stores(instance, gal, version):
    c = client_for(instance, gal.me, version)
    r = c.post("Search", "<Search %s><Store><Name>DocumentLibrary</Name><Query>x</Query>"
                         "</Store></Search>" % SEARCH_NS)
    assert r.status == 200 and r.wbxml.findtext("Status") == "1"
    assert r.wbxml.findtext("Response/Store/Status") == "2"


# ---- ResolveRecipients ------------------------------------------------------------------------

def resolve(c, tos, options=""):
    body = "".join("<To>%s</To>" % t for t in tos)
    r = c.post("ResolveRecipients", "<ResolveRecipients %s>%s%s</ResolveRecipients>"
               % (RR_NS, body, "<Options>%s</Options>" % options if options else ""))
    assert r.status == 200, r
    assert r.wbxml.name == "ResolveRecipients"
    return r.wbxml


def recipients(resp):
    return [(n.findtext("Type"), n.findtext("DisplayName"), n.findtext("EmailAddress"))
            for n in resp.findall("Recipient")]


@pytest.fixture(scope="module")
def contact(instance, gal):
    vcf = ("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Contact;Carla;;;\r\nFN:Carla Contact\r\n"
           "EMAIL;TYPE=INTERNET:carla@elsewhere.example\r\nEND:VCARD\r\n")
    with tempfile.NamedTemporaryFile("w", suffix=".vcf", delete=False) as f:
        f.write(vcf)
    try:
        zx(instance, "contacts", "import", gal.me, f.name)
    finally:
        os.unlink(f.name)
    return "carla@elsewhere.example"


@pytest.mark.parametrize("version", VERSIONS)
def test_resolve_known_alias_unknown_ambiguous(instance, gal, contact, version):
    c = client_for(instance, gal.me, version)
    doc = resolve(c, [gal.zoe.upper(), "zed@" + gal.dom, "nobody@" + gal.dom, "bulk",
                      contact, "carla", "hidden@" + gal.dom])
    assert doc.findtext("Status") == "1"
    rs = doc.findall("Response")
    assert [r.findtext("To") for r in rs][0] == gal.zoe.upper()
    assert [r.findtext("Status") for r in rs] == ["1", "1", "4", "2", "1", "1", "4"]
    assert recipients(rs[0]) == [("1", "Zoë Ångström", gal.zoe)]
    assert rs[0].findtext("RecipientCount") == "1"
    assert recipients(rs[1]) == [("1", "Zoë Ångström", gal.zoe)]
    assert recipients(rs[2]) == [] and rs[2].find("RecipientCount") is None
    assert rs[3].findtext("RecipientCount") == "5"
    assert [e for _, _, e in recipients(rs[3])] == gal.bulk
    assert recipients(rs[4]) == [("2", "Carla Contact", contact)]
    assert recipients(rs[5]) == [("2", "Carla Contact", contact)]
    doc = resolve(c, ["bulk"], "<MaxAmbiguousRecipients>2</MaxAmbiguousRecipients>")
    r = doc.find("Response")
    assert r.findtext("Status") == "3" and r.findtext("RecipientCount") == "2"
    assert [e for _, _, e in recipients(r)] == gal.bulk[:2]


@pytest.mark.parametrize("version", VERSIONS)
def test_resolve_certificates(instance, gal, version):
    c = client_for(instance, gal.me, version)
    doc = resolve(c, [gal.zoe, gal.bulk[0]], "<CertificateRetrieval>2</CertificateRetrieval>")
    zoe, bulk = doc.findall("Response")
    certs = zoe.find("Recipient/Certificates")
    assert certs.findtext("Status") == "1" and certs.findtext("CertificateCount") == "2"
    assert [n.text for n in certs.findall("Certificate")] == [CERT1, CERT2]
    assert bulk.findtext("Recipient/Certificates/Status") == "7"
    doc = resolve(c, [gal.zoe], "<CertificateRetrieval>3</CertificateRetrieval>")
    certs = doc.find("Response/Recipient/Certificates")
    assert certs.findtext("Status") == "1" and certs.findtext("CertificateCount") == "1"
    assert [n.text for n in certs.findall("MiniCertificate")] == [CERT1]
    assert certs.find("Certificate") is None
    doc = resolve(c, [gal.zoe], "<CertificateRetrieval>2</CertificateRetrieval>"
                                "<MaxCertificates>1</MaxCertificates>")
    certs = doc.find("Response/Recipient/Certificates")
    assert certs.findtext("Status") == "8" and certs.findtext("CertificateCount") == "2"
    assert certs.find("Certificate") is None
    doc = resolve(c, [gal.zoe], "<CertificateRetrieval>1</CertificateRetrieval>")
    assert doc.find("Response/Recipient/Certificates") is None
    assert resolve(c, [gal.zoe], "<CertificateRetrieval>4</CertificateRetrieval>") \
        .findtext("Status") == "5"


@pytest.mark.parametrize("version", VERSIONS)
def test_resolve_pictures_and_availability(instance, gal, contact, version):
    c = client_for(instance, gal.me, version)
    doc = resolve(c, [gal.zoe, "bulk"],
                  "<Availability><StartTime>2030-01-01T08:00:00.000Z</StartTime>"
                  "<EndTime>2030-01-01T12:00:00.000Z</EndTime></Availability>"
                  "<Picture><MaxPictures>1</MaxPictures></Picture>")
    assert doc.findtext("Status") == "1"
    zoe, bulk = doc.findall("Response")
    if version == "12.1":
        assert zoe.find("Recipient/Picture") is None
        assert zoe.find("Recipient/Availability") is None
        return
    # one digit per 30 minutes from 08:00: the highest status of each slot
    assert zoe.findtext("Recipient/Availability/Status") == "1"
    assert zoe.findtext("Recipient/Availability/MergedFreeBusy") == "00223310"
    assert bulk.find("Recipient/Availability") is None          # ambiguous: none
    assert zoe.findtext("Recipient/Picture/Status") == "1"
    assert zoe.findtext("Recipient/Picture/Data") == PHOTO_B64
    # MaxPictures counts per To
    assert [r.findtext("Picture/Status") for r in bulk.findall("Recipient")] == \
        ["1", "175", "175", "173", "173"]
    # a window not on the half hour: slots from StartTime; a free account; a contact: no data
    doc = resolve(c, [gal.zoe, gal.bulk[0], "carla@elsewhere.example"],
                  "<Availability><StartTime>2030-01-01T09:45:00.000Z</StartTime>"
                  "<EndTime>2030-01-01T10:50:00.000Z</EndTime></Availability>")
    got = [r.findtext("Recipient/Availability/MergedFreeBusy") for r in doc.findall("Response")]
    assert got[:2] == ["230", "000"]    # 09:45-10:15 busy, 10:15-10:45 OOF, then free
    assert got[2] == "444"
    bad = resolve(c, [gal.zoe], "<Availability><StartTime>2030-01-01T08:00:00.000Z</StartTime>"
                                "</Availability>")
    assert bad.findtext("Status") == "5" and bad.find("Response") is None
    long = resolve(c, [gal.zoe], "<Availability><StartTime>2030-01-01T00:00:00.000Z"
                                 "</StartTime><EndTime>2032-01-01T00:00:00.000Z</EndTime>"
                                 "</Availability>")
    assert long.findtext("Status") == "5"


def test_gal_autocomplete_disabled(instance, gal, contact):
    """zimbraPrefGalAutoCompleteEnabled FALSE: no GAL in Search nor in ResolveRecipients
    (the Contacts still are)."""
    c = client_for(instance, gal.me, "16.1")
    zx(instance, "prov", "modifyAccount", gal.me, "zimbraPrefGalAutoCompleteEnabled", "FALSE")
    try:
        store = search(c, "zoe")
        assert store.findtext("Status") == "1" and store.findtext("Total") == "0"
        doc = resolve(c, [gal.zoe, contact])
        assert [r.findtext("Status") for r in doc.findall("Response")] == ["4", "1"]
    finally:
        zx(instance, "prov", "modifyAccount", gal.me, "zimbraPrefGalAutoCompleteEnabled", "")
    assert emails(search(c, "zoe")) == [gal.zoe]


def test_resolve_protocol_errors(instance, gal):
    c = client_for(instance, gal.me, "14.1")
    assert resolve(c, []).findtext("Status") == "5"
    assert resolve(c, ["x" * 257]).findtext("Status") == "5"
    assert resolve(c, ["a@b.c"] * 101).findtext("Status") == "5"


# ---- zxsuite prov ---------------------------------------------------------------------------

GAL_SINGLE = ["givenName", "sn", "initials", "company", "title", "ou",
              "physicalDeliveryOfficeName", "telephoneNumber", "homePhone", "mobile",
              "thumbnailPhoto", "zimbraHideInGal"]
GAL_MULTI = ["zimbraMailAlias", "userCertificate", "userSMIMECertificate"]


def test_prov_gal_attributes(instance):
    dom = "galp%s.test" % uuid.uuid4().hex[:8]
    zx(instance, "prov", "createDomain", dom)
    acct = "p@" + dom
    zx(instance, "prov", "createAccount", acct, "")
    # unset: null in JSON, empty in the text form
    got = zxj(instance, "prov", "getAccount", acct)
    for a in GAL_SINGLE:
        assert got[a] is None, a
    for a in GAL_MULTI:
        assert got[a] == [], a
    text = zx(instance, "prov", "getAccount", acct).stdout
    assert "null" not in text
    lines = {ln.split()[0]: ln.split()[1:] for ln in text.splitlines() if ln.strip()}
    assert lines["givenName"] == [] and lines["thumbnailPhoto"] == []
    values = {"givenName": "Ana", "sn": "Núñez", "initials": "AN", "company": "Acme",
              "title": "Boss", "ou": "Sales", "physicalDeliveryOfficeName": "Room 1",
              "telephoneNumber": "+1 555", "homePhone": "+1 556", "mobile": "+1 557",
              "thumbnailPhoto": PHOTO_B64, "zimbraHideInGal": "TRUE"}
    args = []
    for k, v in values.items():
        args += [k, v]
    zx(instance, "prov", "modifyAccount", acct, *args, "zimbraMailAlias", "A1@" + dom,
       "zimbraMailAlias", "a2@" + dom, "userCertificate", CERT1)
    zx(instance, "prov", "modifyAccount", acct, "+userSMIMECertificate", CERT2,
       "+userCertificate", CERT2, "-zimbraMailAlias", "a2@" + dom)
    got = zxj(instance, "prov", "getAccount", acct)
    for k, v in values.items():
        assert got[k] == v, k
    assert got["zimbraMailAlias"] == ["a1@" + dom]
    assert sorted(got["userCertificate"]) == sorted([CERT1, CERT2])
    assert got["userSMIMECertificate"] == [CERT2]
    text = zx(instance, "prov", "getAccount", acct).stdout
    assert "Núñez" in text and ("a1@" + dom) in text and PHOTO_B64 in text
    # stored rows
    rows = sql(instance, "SELECT g.name, g.value FROM account_gal g JOIN accounts a "
                         "ON a.id = g.account_id JOIN domains d ON d.id = a.domain_id "
                         "WHERE d.name = %s ORDER BY 1, 2", dom)
    assert ["sn", "Núñez"] in rows and ["zimbraHideInGal", "TRUE"] in rows
    assert len(rows) == len(values) + 1 + 3
    # an empty value removes; a hidden account has no search keys
    assert sql(instance, "SELECT count(*) FROM gal_keys k JOIN accounts a ON a.id = k.account_id "
                         "JOIN domains d ON d.id = a.domain_id WHERE d.name = %s", dom) == [["0"]]
    zx(instance, "prov", "modifyAccount", acct, "sn", "", "zimbraHideInGal", "",
       "zimbraMailAlias", "")
    got = zxj(instance, "prov", "getAccount", acct)
    assert got["sn"] is None and got["zimbraHideInGal"] is None and got["zimbraMailAlias"] == []
    keys = sql(instance, "SELECT key FROM gal_keys k JOIN accounts a ON a.id = k.account_id "
                         "JOIN domains d ON d.id = a.domain_id WHERE d.name = %s ORDER BY 1", dom)
    assert [k[0] for k in keys] == ["ana", "p@" + dom]
    # invalid values are refused, nothing written
    assert "base64" in zx_fails(instance, "prov", "modifyAccount", acct, "thumbnailPhoto", "@@@")
    assert "TRUE" in zx_fails(instance, "prov", "modifyAccount", acct, "zimbraHideInGal", "maybe")
    assert "user@domain" in zx_fails(instance, "prov", "modifyAccount", acct,
                                     "zimbraMailAlias", "nope")
    assert "single-valued" in zx_fails(instance, "prov", "modifyAccount", acct, "+sn", "x")
    zx_fails(instance, "prov", "modifyAccount", acct, "givenName", "x\ty")
    assert "16384" in zx_fails(instance, "prov", "modifyAccount", acct, "givenName", "B",
                               "+userCertificate", base64.b64encode(b"x" * 16385).decode())
    assert zxj(instance, "prov", "getAccount", acct)["givenName"] == "Ana"
    # deleting the account takes its attributes and keys with it
    zx(instance, "prov", "deleteAccount", acct)
    assert sql(instance, "SELECT count(*) FROM gal_keys k JOIN domains d ON d.id = k.domain_id "
                         "WHERE d.name = %s", dom) == [["0"]]


@pytest.mark.parametrize("version", ["14.1", "16.1"])
def test_find_gal_criterion(instance, gal, version):
    """Find's GalSearchCriterion searches the GAL as Search Store=GAL does: the Response's
    Store is GAL, each Result carries gal: Properties; pictures by MaxPictures; Range from 0."""
    c = client_for(instance, gal.me, version)

    def find(query, options=""):
        r = c.post("Find", '<Find xmlns="Find:"><SearchId>1</SearchId><ExecuteSearch>'
                   '<GalSearchCriterion><Query>%s</Query><Options>%s</Options>'
                   '</GalSearchCriterion></ExecuteSearch></Find>' % (query, options))
        assert r.status == 200, r
        assert r.wbxml.findtext("Status") == "1", r.wbxml
        return r.wbxml.find("Response")
    resp = find("zoe")
    assert resp.findtext("Store") == "GAL" and resp.findtext("Status") == "1"
    props = resp.find("Result/Properties")
    got = {n.name: n.text for n in props.children}
    assert got["EmailAddress"] == gal.zoe and got["DisplayName"] == "Zoë Ångström"
    assert resp.findtext("Total") == "1" and resp.findtext("Range") == "0-0"
    resp = find("bulk", "<Range>0-3</Range><Picture><MaxPictures>2</MaxPictures></Picture>")
    assert resp.findtext("Total") == "5" and resp.findtext("Range") == "0-3"
    statuses = [r.findtext("Properties/Picture/Status") for r in resp.findall("Result")]
    assert statuses.count("1") == 2, statuses
    resp = find("bulk", "<Range>2-3</Range>")
    assert resp.findtext("Status") == "4"
    r = c.post("Find", '<Find xmlns="Find:"><SearchId>1</SearchId><ExecuteSearch>'
               '<GalSearchCriterion><Query>zoe</Query><Options><Picture><MaxPictures>x'
               '</MaxPictures></Picture></Options></GalSearchCriterion></ExecuteSearch></Find>')
    assert r.status == 200 and r.wbxml.findtext("Status") == "2", r.wbxml
