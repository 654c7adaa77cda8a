"""Contacts, tasks and notes for the end-to-end tests ([MS-ASCNTC], [MS-ASTASK], [MS-ASNOTE]):
every property of libzxsync/include/zxsync/pim_fields.def with a realistic value (non-ASCII
text, a ~30 KB picture, lists, a recurrence), the ApplicationData a device sends for it, and the
reading of a server's ApplicationData back into the same form.

A property set is a dict keyed by the def's column name ("first_name", "rec_type", "body"):
TEXT/INT/BOOL/TIME values are str (INT as digits, BOOL "0"/"1", TIME an [MS-ASDTYPE] dateTime
in the canonical form "YYYY-MM-DDTHH:MM:SS.mmmZ"; notes' LastModifiedDate a Compact DateTime
"YYYYMMDDTHHMMSSZ"), LIST values are lists of str, "body" is the
plain text of airsyncbase:Body (Type 1) and "body_type" its type ("1").

Only the list of properties (element, type, first version, flags) is read from the def, so that
a property added there is covered here without an edit; the elements' tokens come from the
client's own code pages (easclient/codepages.py), so a tag the def names wrongly is an
encoding error here, not a silent agreement."""

import base64
import os
import random
import re
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
DEF = os.path.join(os.path.dirname(os.path.dirname(HERE)), "libzxsync", "include", "zxsync",
                   "pim_fields.def")

CLASSES = {"CONTACT": "Contacts", "TASK": "Tasks", "NOTE": "Notes", "CALENDAR": "Calendar",
           "EXCEPTION": "Exception"}
#: first protocol version of each class's Sync ([MS-ASNOTE]: notes from 14.0)
CLASS_SINCE = {"Contacts": 25, "Tasks": 25, "Notes": 140}
#: default folder types ([MS-ASCMD] 2.2.3.186.3) and the user-created ones
DEFAULT_TYPE = {"Contacts": 9, "Tasks": 7, "Notes": 10}
USER_TYPE = {"Contacts": 14, "Tasks": 15, "Notes": 17}
DEFAULT_NAME = {"Contacts": "Contacts", "Tasks": "Tasks", "Notes": "Notes"}

_LINE = re.compile(r'^ZX_PIM_FIELD\((\w+),\s*(\w+),\s*"(\w+)",\s*(\w+),\s*(\w+),\s*(\w+),\s*'
                   r'(\d+),\s*(\d+),\s*([^)]+)\)', re.M)


class Field:
    __slots__ = ("cls", "name", "column", "type", "ns", "element", "item_element", "since",
                 "until", "flags")

    def __init__(self, cls, name, column, type_, tag, item_tag, since, until, flags):
        self.cls = CLASSES[cls]
        self.name = name
        self.column = column
        self.type = type_
        self.ns, self.element = _tag(tag)
        self.item_element = _tag(item_tag)[1]
        self.since = int(since)
        self.until = int(until)
        self.flags = {f.strip()[len("ZX_PFF_"):] for f in flags.split("|") if f.strip() != "0"}

    def valid_at(self, version):
        v = vnum(version)
        return self.since <= v and (self.until == 0 or v <= self.until)

    @property
    def rec(self):
        return "REC" in self.flags

    @property
    def body(self):
        return "BODY" in self.flags

    def __repr__(self):
        return "<Field %s.%s %s:%s>" % (self.cls, self.column, self.ns, self.element)


def _tag(tag):
    """"ZX_Contacts2_NickName" -> ("Contacts2:", "NickName"); "0" -> (None, None)."""
    if tag == "0":
        return None, None
    page, _, name = tag[len("ZX_"):].partition("_")
    return page + ":", name


def vnum(version):
    """"14.1" -> 141, "2.5" -> 25 (the def's numbers)."""
    if isinstance(version, int):
        return version
    major, _, minor = version.partition(".")
    return int(major) * 10 + int(minor)


def _load():
    with open(DEF, encoding="utf-8") as f:
        text = f.read()
    out = [Field(*m.groups()) for m in _LINE.finditer(text)]
    assert len(out) == text.count("\nZX_PIM_FIELD("), "pim_fields.def: a line this reader missed"
    return out


FIELDS = _load()


def fields(cls, version=None):
    """The class's fields (at a version: only the ones it defines), in the def's order."""
    return [f for f in FIELDS if f.cls == cls and (version is None or f.valid_at(version))]


def field(cls, column):
    for f in FIELDS:
        if f.cls == cls and f.column == column:
            return f
    raise KeyError((cls, column))


# ---- values ---------------------------------------------------------------------------------

def picture(kb=30, seed=1):
    """base64 of a JPEG-looking blob whose base64 text is about kb KB."""
    rnd = random.Random(seed)
    raw = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    raw += bytes(rnd.getrandbits(8) for _ in range(kb * 1024 * 3 // 4 - len(raw) - 2))
    raw += b"\xff\xd9"
    return base64.b64encode(raw).decode("ascii")


CONTACT = {
    "anniversary": "2011-06-18T00:00:00.000Z",
    "assistant_name": "Søren Kierkegaard",
    "assistant_phone": "+45 33 12 34 56",
    "birthday": "1984-02-29T00:00:00.000Z",
    "business2_phone": "+49 30 1234567-89",
    "business_city": "Zürich",
    "business_country": "Schweiz",
    "business_postal_code": "8001",
    "business_state": "ZH",
    "business_street": "Bahnhofstraße 1\nPostfach 42",
    "business_fax": "+41 44 000 00 01",
    "business_phone": "+41 44 000 00 00",
    "car_phone": "+41 79 555 00 11",
    "categories": ["Kunden", "VIP ★", "Family & Friends"],
    "children": ["Émile", "Zoë"],
    "company_name": "Ünïcødé AG <Research & Development>",
    "department": "Forschung & Entwicklung",
    "email1": "\"Zoë Łukasiewicz\" <zoe@example.com>",
    "email2": "zoe.l@example.org",
    "email3": "zl@example.net",
    "file_as": "Łukasiewicz, Zoë",
    "first_name": "Zoë",
    "home2_phone": "+41 44 111 22 34",
    "home_city": "Genève",
    "home_country": "Suisse",
    "home_postal_code": "1201",
    "home_state": "GE",
    "home_street": "Rue du Rhône 12",
    "home_fax": "+41 22 111 22 35",
    "home_phone": "+41 22 111 22 33",
    "job_title": "Leiterin Qualitätssicherung",
    "last_name": "Łukasiewicz",
    "middle_name": "Ingrid",
    "mobile_phone": "+41 79 123 45 67",
    "office_location": "Gebäude C, 3. OG",
    "other_city": "Kraków",
    "other_country": "Polska",
    "other_postal_code": "31-001",
    "other_state": "małopolskie",
    "other_street": "ul. Floriańska 3",
    "pager": "12345",
    "radio_phone": "+41 79 999 99 99",
    "spouse": "Ólafur",
    "suffix": "Jr.",
    "title": "Dr.",
    "web_page": "https://example.com/~zoë?a=1&b=2",
    "yomi_company": "ユニコード",
    "yomi_first": "ゾーイ",
    "yomi_last": "ウカシェヴィチ",
    "picture": picture(30),
    "customer_id": "CUST-0042",
    "government_id": "756.1234.5678.97",
    "im_address": "xmpp:zoe@example.com",
    "im_address2": "sip:zoe@example.com",
    "im_address3": "zoe.lukasiewicz",
    "manager_name": "Renée Müller",
    "company_main_phone": "+41 44 000 00 99",
    "account_name": "zoe.l",
    "nickname": "Zo",
    "mms": "+41 79 123 45 67",
    "body": "Met at the conference in Zürich.\r\nLikes ☕ and 🚲 — call after 18:00.",
    "body_type": "1",
}

#: the same contact with every value changed (a Change replacing all of them)
CONTACT2 = dict(CONTACT)
CONTACT2.update({k: v + " (neu)" for k, v in CONTACT.items()
                 if isinstance(v, str) and field("Contacts", k).type == "TEXT"
                 and k not in ("picture", "body", "body_type")})
CONTACT2.update({"anniversary": "2012-07-19T00:00:00.000Z",
                 "birthday": "1985-03-01T12:00:00.000Z",
                 "categories": ["Kunden"], "children": ["Émile", "Zoë", "Ödön"],
                 "picture": picture(20, seed=2),
                 "body": "Changed: now in Genève.\r\n"})

TASK = {
    "subject": "Prüfbericht abschließen — Q4 ✓",
    "importance": "2",
    "sensitivity": "1",
    "categories": ["Arbeit", "Dringend ⚠"],
    "start_date": "2026-12-10T00:00:00.000Z",
    "utc_start_date": "2026-12-09T23:00:00.000Z",
    "due_date": "2026-12-18T00:00:00.000Z",
    "utc_due_date": "2026-12-17T23:00:00.000Z",
    "complete": "1",
    "date_completed": "2026-12-07T10:11:12.345Z",
    "reminder_set": "1",
    "reminder_time": "2026-12-17T08:00:00.000Z",
    "ordinal_date": "2026-12-01T09:30:00.000Z",
    "sub_ordinal_date": "5555555555555555555.5",
    "rec_type": "6",
    "rec_start": "2026-12-10T00:00:00.000Z",
    "rec_until": "2030-12-31T00:00:00.000Z",
    "rec_occurrences": "10",
    "rec_interval": "1",
    "rec_day_of_month": "15",
    "rec_day_of_week": "4",
    "rec_week_of_month": "3",
    "rec_month_of_year": "11",
    "rec_regenerate": "0",
    "rec_dead_occur": "0",
    "rec_calendar_type": "1",
    "rec_is_leap_month": "0",
    "rec_first_day_of_week": "1",
    "body": "Checkliste:\r\n1. Daten prüfen\r\n2. Bericht an 王小明 senden 📧",
    "body_type": "1",
}

#: the task as iCalendar can carry it (RFC 5545 3.3.10: COUNT and UNTIL not both; a yearly
#: rule by position has no day of the month; 3.3.5: no fractions of a second)
TASK_ICAL = dict(TASK, date_completed="2026-12-07T10:11:12.000Z")
del TASK_ICAL["rec_occurrences"], TASK_ICAL["rec_day_of_month"]


def lf(props):
    """props with the body's CRLF as LF (vCard and iCalendar text has one newline, \\n)."""
    out = dict(props)
    if "body" in out:
        out["body"] = out["body"].replace("\r\n", "\n")
    return out

TASK2 = dict(TASK)
TASK2.update({
    "subject": "Prüfbericht — zweite Runde",
    "importance": "0", "sensitivity": "3", "categories": ["Privat"],
    "start_date": "2027-01-04T00:00:00.000Z", "utc_start_date": "2027-01-03T23:00:00.000Z",
    "due_date": "2027-01-08T00:00:00.000Z", "utc_due_date": "2027-01-07T23:00:00.000Z",
    "complete": "0", "reminder_set": "0",
    "reminder_time": "2027-01-07T08:00:00.000Z",
    "ordinal_date": "2027-01-02T10:00:00.000Z", "sub_ordinal_date": "1",
    "rec_type": "3", "rec_start": "2027-01-04T00:00:00.000Z",
    "rec_until": "2031-01-04T00:00:00.000Z",
    "rec_occurrences": "4", "rec_interval": "2", "rec_day_of_month": "4",
    "rec_day_of_week": "2", "rec_week_of_month": "1", "rec_month_of_year": "1",
    "rec_regenerate": "1", "rec_dead_occur": "1", "rec_calendar_type": "0",
    "rec_is_leap_month": "1", "rec_first_day_of_week": "0",
    "body": "Zweite Runde.",
})
del TASK2["date_completed"]

NOTE = {
    "subject": "Einkaufsliste 🛒",
    "message_class": "IPM.StickyNote",
    # [MS-ASNOTE] 2.2.2.4: a Compact DateTime ([MS-ASDTYPE] 2.7.2), not a dateTime
    "last_modified": "20261207T091530Z",
    "categories": ["Haushalt", "Wochenende"],
    "body": "Milch\r\nBrot\r\nKäse (Gruyère)\r\n<nicht vergessen> & Äpfel",
    "body_type": "1",
}

NOTE2 = {
    "subject": "Einkaufsliste (erledigt)",
    "message_class": "IPM.StickyNote",
    "last_modified": "20261208T180000Z",
    "categories": ["Haushalt"],
    "body": "alles gekauft ✓",
    "body_type": "1",
}

FULL = {"Contacts": CONTACT, "Tasks": TASK, "Notes": NOTE}
FULL2 = {"Contacts": CONTACT2, "Tasks": TASK2, "Notes": NOTE2}


def at_version(cls, props, version):
    """What a device at that version can carry of props (the fields it defines)."""
    keep = {f.column for f in fields(cls, version)}
    return {k: v for k, v in props.items() if k in keep}


# ---- ApplicationData out ------------------------------------------------------------------

def _x(text):
    return escape(text).replace("\r", "&#13;")


def appdata(cls, props, version):
    """The inner XML of ApplicationData for props at a version (fields the version does not
    define are left out), elements in the def's order, the recurrence where its first field
    is; the body as airsyncbase:Body with the Type props["body_type"] (default 1)."""
    out = []
    rec = []
    rec_at = None
    for f in fields(cls, version):
        if f.column not in props or f.element is None:
            continue
        v = props[f.column]
        if f.body:
            out.append('<Body xmlns="AirSyncBase:"><Type>%s</Type><Data>%s</Data></Body>'
                       % (props.get("body_type", "1"), _x(v)))
            continue
        if f.type == "LIST":
            x = '<%s xmlns="%s">%s</%s>' % (f.element, f.ns, "".join(
                "<%s>%s</%s>" % (f.item_element, _x(i), f.item_element) for i in v), f.element)
        else:
            x = '<%s xmlns="%s">%s</%s>' % (f.element, f.ns, _x(v), f.element)
        if f.rec:
            if rec_at is None:
                rec_at = len(out)
                out.append(None)
            rec.append(x)
        else:
            out.append(x)
    if rec_at is not None:
        out[rec_at] = '<Recurrence xmlns="Tasks:">%s</Recurrence>' % "".join(rec)
    return "".join(out)


def add_cmd(client_id, cls, props, version):
    return ("<Add><ClientId>%s</ClientId><ApplicationData>%s</ApplicationData></Add>"
            % (client_id, appdata(cls, props, version)))


def change_cmd(server_id, cls, props, version):
    return ("<Change><ServerId>%s</ServerId><ApplicationData>%s</ApplicationData></Change>"
            % (server_id, appdata(cls, props, version)))


def delete_cmd(server_id):
    return "<Delete><ServerId>%s</ServerId></Delete>" % server_id


def supported(cls, columns, version):
    """<Supported> listing the elements of those columns ([MS-ASCMD] 2.2.3.179: empty
    elements in the class's namespace)."""
    out = []
    for c in columns:
        f = field(cls, c)
        if f.valid_at(version) and f.element:
            out.append('<%s xmlns="%s"/>' % (f.element, f.ns))
    return "<Supported>%s</Supported>" % "".join(out)


# ---- ApplicationData in -------------------------------------------------------------------

def parse(cls, appdata_node):
    """A server's ApplicationData -> a property dict.  Elements that are no property of the
    class go under "?ns:name"; a Body's Type -> "body_type", its Data -> "body", other Body
    children under "?body:name" (EstimatedDataSize is checked against the data and dropped)."""
    by_elem = {(f.ns, f.element): f for f in fields(cls) if f.element}
    out = {}

    def one(node):
        f = by_elem.get((node.ns, node.name))
        if f is None:
            out["?%s%s" % (node.ns, node.name)] = node.text if node.text is not None else \
                [c.name for c in node.children]
            return
        if f.body:
            for c in node.children:
                if c.name == "Type":
                    out["body_type"] = c.text
                elif c.name == "Data":
                    out["body"] = c.text if c.text is not None else ""
                elif c.name == "EstimatedDataSize":
                    out["?body:EstimatedDataSize"] = c.text
                else:
                    out["?body:" + c.name] = c.text
            return
        if f.type == "LIST":
            out[f.column] = [c.text if c.text is not None else "" for c in node.children]
            bad = [c.name for c in node.children if c.name != f.item_element]
            if bad:
                out["?%s items" % f.column] = bad
            return
        out[f.column] = node.text if node.text is not None else ""

    for child in appdata_node.children:
        if child.ns == "Tasks:" and child.name == "Recurrence":
            for r in child.children:
                one(r)
            if not child.children:
                out["?Recurrence"] = "empty"
        else:
            one(child)
    est = out.pop("?body:EstimatedDataSize", None)
    if est is not None and "body" in out:
        # [MS-ASAIRS] 2.2.2.23: the size of the whole body in bytes
        if est != str(len(out["body"].encode("utf-8"))):
            out["?body:EstimatedDataSize"] = est
    if out.get("?body:Truncated") == "0":
        del out["?body:Truncated"]
    return out


def diff(expected, got):
    """A readable list of differences (empty when equal); long values are shortened."""
    def short(v):
        s = repr(v)
        return s if len(s) < 120 else s[:60] + "...(%d chars)..." % len(s) + s[-40:]
    out = []
    for k in sorted(set(expected) | set(got)):
        if expected.get(k) != got.get(k):
            out.append("%s: expected %s, got %s" % (k, short(expected.get(k, "<absent>")),
                                                     short(got.get(k, "<absent>"))))
    return out


# ---- driving a device (syncutil.Device) ---------------------------------------------------

def options(filter_type=None, conflict=None):
    x = "<Options>"
    if filter_type is not None:
        x += "<FilterType>%d</FilterType>" % filter_type
    x += '<BodyPreference xmlns="AirSyncBase:"><Type>1</Type></BodyPreference>'
    if conflict is not None:
        x += "<Conflict>%d</Conflict>" % conflict
    return x + "</Options>"


def start(dev, coll, supported_xml="", opts=None):
    """SyncKey 0 of a collection (with a Supported list when given), then every Add until
    nothing more comes; returns {ServerId: ApplicationData node} of the initial Adds."""
    opts = options() if opts is None else opts
    col = dev.sync(coll, key="0", options=opts, extra=supported_xml)
    assert col is not None and col.findtext("Status") == "1", col
    assert col.find("Commands") is None
    seen = {}
    for _ in range(50):
        col = dev.sync(coll, options=opts)
        if col is None:
            break
        assert col.findtext("Status") == "1", col
        for c in col.findall("Commands/*"):
            assert c.name == "Add", c
            seen[c.findtext("ServerId")] = c.find("ApplicationData")
        if col.find("MoreAvailable") is None:
            break
    return seen


def commands(col):
    """[(op, ServerId, ApplicationData or None)] of a response Collection (None: [])."""
    if col is None:
        return []
    assert col.findtext("Status") == "1", col
    return [(c.name, c.findtext("ServerId"), c.find("ApplicationData"))
            for c in col.findall("Commands/*")]


def add(dev, coll, cls, props, client_id="c1", opts=None):
    """One Add; asserts its Status 1 and that nothing else came; returns the ServerId."""
    col = dev.sync(coll, options=options() if opts is None else opts,
                   commands=add_cmd(client_id, cls, props, dev.protocol))
    assert col is not None and col.findtext("Status") == "1", col
    r = col.findall("Responses/Add")
    assert [(x.findtext("ClientId"), x.findtext("Status")) for x in r] == [(client_id, "1")], col
    sid = r[0].findtext("ServerId")
    assert sid, col
    assert commands(col) == [], col
    return sid


def change(dev, coll, sid, cls, props, opts=None):
    """One Change; asserts the response has no error for it and no commands; returns it."""
    col = dev.sync(coll, options=options() if opts is None else opts,
                   commands=change_cmd(sid, cls, props, dev.protocol))
    assert col is not None and col.findtext("Status") == "1", col
    assert col.find("Responses") is None, col
    assert commands(col) == [], col
    return col


def expect_for(cls, props, version):
    """What a device at version must be sent for a stored props (body with its type)."""
    out = at_version(cls, props, version)
    if "body" in out:
        out.setdefault("body_type", "1")
    return out


# ---- folders ------------------------------------------------------------------------------

def _fh(name, **kids):
    inner = "".join("<%s>%s</%s>" % (k, escape(str(v)), k) for k, v in kids.items())
    return '<%s xmlns="FolderHierarchy:">%s</%s>' % (name, inner, name)


def _folder_cmd(dev, cmd, **kids):
    r = dev.c.post(cmd, _fh(cmd, SyncKey=dev.hier_key, **kids))
    assert r.status == 200, r
    doc = r.wbxml
    assert doc.name == cmd, doc
    if doc.findtext("Status") == "1":
        dev.hier_key = doc.findtext("SyncKey")
    return doc


def folder_create(dev, name, type_, parent="0"):
    return _folder_cmd(dev, "FolderCreate", ParentId=parent, DisplayName=name, Type=type_)


def folder_update(dev, server_id, name, parent="0"):
    return _folder_cmd(dev, "FolderUpdate", ServerId=server_id, ParentId=parent,
                       DisplayName=name)


def folder_delete(dev, server_id):
    return _folder_cmd(dev, "FolderDelete", ServerId=server_id)


def hierarchy_changes(doc):
    """[(op, ServerId, ParentId, DisplayName, Type)] of a FolderSync response."""
    return [(c.name, c.findtext("ServerId"), c.findtext("ParentId"), c.findtext("DisplayName"),
             c.findtext("Type")) for c in doc.findall("Changes/*") if c.name != "Count"]


def move(dev, sid, src, dst):
    """One MoveItems; returns (Status, DstMsgId)."""
    r = dev.c.post("MoveItems", '<MoveItems xmlns="Move:"><Move><SrcMsgId>%s</SrcMsgId>'
                   '<SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move></MoveItems>'
                   % (sid, src, dst))
    assert r.status == 200, r
    res = r.wbxml.findall("Response")
    assert len(res) == 1, r.wbxml
    assert res[0].findtext("SrcMsgId") == sid
    return int(res[0].findtext("Status")), res[0].findtext("DstMsgId")


# ---- server side: the CLI's import ----------------------------------------------------------

def _ical_escape(s):
    return s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def vcard(props, uid="zx-e2e-1"):
    """A vCard 3.0 (RFC 2426) of a few contact properties."""
    e = _ical_escape
    lines = ["BEGIN:VCARD", "VERSION:3.0", "UID:" + uid,
             "N:%s;%s;;;" % (e(props.get("last_name", "")), e(props.get("first_name", ""))),
             "FN:%s" % e(" ".join(x for x in (props.get("first_name"), props.get("last_name"))
                                  if x))]
    if "company_name" in props:
        lines.append("ORG:" + e(props["company_name"]))
    if "email1" in props:
        lines.append("EMAIL;TYPE=INTERNET:" + props["email1"])
    if "mobile_phone" in props:
        lines.append("TEL;TYPE=CELL:" + props["mobile_phone"])
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def _ical_time(t):
    """"2026-12-18T00:00:00.000Z" -> "20261218T000000Z"."""
    return t[:19].replace("-", "").replace(":", "") + "Z"


def vtodo(props, uid="zx-e2e-task-1"):
    """An iCalendar (RFC 5545) VTODO of a few task properties."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//zxmobile e2e//EN", "BEGIN:VTODO",
             "UID:" + uid, "DTSTAMP:20261207T100000Z", "SUMMARY:" + _ical_escape(props["subject"])]
    if "utc_due_date" in props:
        lines.append("DUE:" + _ical_time(props["utc_due_date"]))
    if props.get("complete") == "1":
        lines.append("STATUS:COMPLETED")
    lines += ["END:VTODO", "END:VCALENDAR"]
    return "\r\n".join(lines) + "\r\n"


def server_import(instance, account, cls, text, tmp_path, folder=None, ext=None):
    """Import a file with the CLI (zxsuite contacts|tasks|notes import), as an administrator
    would; returns its --json response."""
    import json
    import uuid
    from syncutil import zx
    ext = ext or {"Contacts": "vcf", "Tasks": "ics", "Notes": "ics"}[cls]
    path = os.path.join(str(tmp_path), "import-%s.%s" % (uuid.uuid4().hex[:6], ext))
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    args = ["--json", cls.lower(), "import", account, path] + ([folder] if folder else [])
    p = zx(instance, *args)
    return json.loads(p.stdout)["response"]


def server_export(instance, account, cls, folder=None):
    """The CLI's export of a folder (vCard 4.0 / iCalendar), as text."""
    from syncutil import zx
    p = zx(instance, cls.lower(), "export", account, *([folder] if folder else []))
    return p.stdout.decode("utf-8")


# ---- ItemOperations Fetch, GetItemEstimate ----------------------------------------------------

def itemops_fetch(dev, coll, sid):
    """ItemOperations Fetch of one item (plain text body); returns its Fetch response node."""
    r = dev.c.post("ItemOperations", '<ItemOperations xmlns="ItemOperations:" '
                   'xmlns:airsync="AirSync:" xmlns:airsyncbase="AirSyncBase:"><Fetch>'
                   '<Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId>'
                   '<airsync:ServerId>%s</airsync:ServerId><Options><airsyncbase:BodyPreference>'
                   '<airsyncbase:Type>1</airsyncbase:Type></airsyncbase:BodyPreference>'
                   '</Options></Fetch></ItemOperations>' % (coll, sid))
    assert r.status == 200, r
    assert r.wbxml.name == "ItemOperations" and r.wbxml.findtext("Status") == "1", r.wbxml
    f = r.wbxml.findall("Response/Fetch")
    assert len(f) == 1, r.wbxml
    return f[0]


def estimate(dev, coll, cls, filter_type=None):
    """GetItemEstimate of one collection at the device's current key; returns (Status,
    Estimate).  12.1: Class and FilterType in the Collection; 14.0+: in airsync:Options."""
    key = dev.keys[coll]
    x = '<GetItemEstimate xmlns="GetItemEstimate:"><Collections><Collection>'
    if dev.protocol == "12.1":
        x += ('<Class>%s</Class><SyncKey xmlns="AirSync:">%s</SyncKey><CollectionId>%s'
              '</CollectionId><FilterType xmlns="AirSync:">%d</FilterType>'
              % (cls, key, coll, filter_type or 0))
    else:
        x += '<SyncKey xmlns="AirSync:">%s</SyncKey><CollectionId>%s</CollectionId>' % (key, coll)
        if filter_type is not None:
            x += ('<Options xmlns="AirSync:"><Class>%s</Class><FilterType>%d</FilterType>'
                  '</Options>' % (cls, filter_type))
    x += "</Collection></Collections></GetItemEstimate>"
    r = dev.c.post("GetItemEstimate", x)
    assert r.status == 200, r
    resp = r.wbxml.findall("Response")
    assert len(resp) == 1, r.wbxml
    return resp[0].findtext("Status"), resp[0].findtext("Collection/Estimate")


def ping_now(dev, coll, cls, heartbeat=480):
    """A Ping of one folder when changes are waiting for it: returns (Status, [folder ids],
    seconds).  (A Ping without changes waits its heartbeat; not used here.)"""
    import time
    t0 = time.time()
    r = dev.c.post("Ping", '<Ping xmlns="Ping:"><HeartbeatInterval>%d</HeartbeatInterval>'
                           '<Folders><Folder><Id>%s</Id><Class>%s</Class></Folder></Folders>'
                           '</Ping>' % (heartbeat, coll, cls))
    took = time.time() - t0
    assert r.status == 200, r
    return (r.wbxml.findtext("Status"), [f.text for f in r.wbxml.findall("Folders/Folder")],
            took)
