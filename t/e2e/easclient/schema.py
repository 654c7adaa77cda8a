"""Structural check of the WBXML responses of the server, written from [MS-ASCMD].

Every command response the server can send is described below as data: for each container
element (namespace, name) its children in the order of the specification, with their minimum
and maximum occurrences, grouped in sequences (``Seq``), choices (``Choice``) and unordered
groups (``All``).  The element sections of [MS-ASCMD] 2.2.3 (parent/child tables, "Number
allowed", the "strict ordering" notes) and the response schemas of [MS-ASCMD] section 6 were
read for each element; the descriptions are our own, not a copy of the XSD files.

``check(root)`` returns a list of violations, each "element path: what was expected".  The
e2e client (client.py) runs it on every WBXML body it receives and records the violations in
``VIOLATIONS``; t/e2e/conftest.py fails the test at teardown when the list is not empty.

What is checked
---------------
* the root element is a command response this module knows (Sync, FolderSync, FolderCreate,
  FolderUpdate, FolderDelete, GetItemEstimate, Ping, MoveItems, ItemOperations, Provision,
  Settings, Search, Find, ResolveRecipients, ValidateCert, MeetingResponse, SendMail,
  SmartReply, SmartForward);
* in every described container: only the allowed children, in the specified order, each with
  its minimum and maximum number of occurrences; a leaf element carries no child elements and
  a container no text;
* every element is a tag of the request's protocol version (the client passes the version
  of its request; a request with no valid version is checked without);
* the Status elements the specification makes required (2.2.3.177.x).  Where the
  specification's text makes a Status required that the XSD of section 6 leaves optional
  (Search, Store (Search), Settings and its Oof/DevicePassword/DeviceInformation/
  UserInformation/RightsManagementInformation children), the text wins;
* a root holding only its Status with a common status code (101 and up, [MS-ASCMD] 2.2.2) is
  accepted for every command, also MeetingResponse, whose Status otherwise lives in Result,
  and in every version (a command the version lacks is answered so, with Status 138);
* command-specific rules the grammar cannot say: a Sync response has a top-level Status or a
  Collections element, Limit and Collections exclude each other (2.2.3.180); Commands and
  Responses of a Sync collection are never empty (2.2.3.32, 2.2.3.154); GetItemEstimate and
  MoveItems carry a top-level Status or at least one Response.

What is not checked (loose on purpose)
--------------------------------------
* the item properties: the children of Sync ApplicationData, ItemOperations/Search/Find
  Properties and Provision EASProvisionDoc are only checked to be elements of the namespaces
  that class may use (the XSDs use unbounded choices there, no order).  Inside them
  AirSyncBase:Body (sequence), AirSyncBase:Attachments/Attachment and gal:Picture are
  described; the other nested properties (Calendar Recurrence, Attendees, Exceptions, Email
  Flag, MeetingRequest, ...) are not looked into;
* the order of the children of a Sync Collection: section 6 makes it an unbounded choice;
  here each child may appear once, in any order, and Status is required;
* the order of the operations inside ItemOperations/Response (they follow the request);
* element text: values, data types, lengths, enumerations;
* protocol versions beyond the tag tables: ``check(root, protocol)`` flags an element whose
  tag does not exist in the request's version ([MS-ASWBXML] "Protocol versions" column, as
  codepages.py transcribes it), but not an element the tag table has for that version while
  the element's own section excludes it (e.g. a Sync ApplicationData element of a class's
  newer version that reuses an old token);
* the empty bodies (an empty Sync response, a successful SendMail) and non-WBXML bodies.
"""

from . import codepages as _cp

__all__ = ["check", "check_body", "VIOLATIONS", "record", "COMMANDS"]

#: Violations recorded by the e2e client since the last reset (conftest.py reads it).
VIOLATIONS = []


def _ns(name):
    page = _cp.page_for_namespace(name)
    if page is None:
        raise ValueError("schema: unknown namespace %r" % (name,))
    return page.namespace


class El:
    """An element particle: namespace, name, occurrences and its content model (None = a
    leaf: text, opaque data or empty).  ``text_ok``: a container that may carry text instead
    (Provision Data in 2.5)."""

    def __init__(self, ns, name, content=None, min=1, max=1, text_ok=False):
        self.ns = _ns(ns)
        self.name = name
        if _cp.lookup_tag(self.ns, name) is None:
            raise ValueError("schema: %s%s is not a tag of [MS-ASWBXML]" % (self.ns, name))
        self.content = content
        self.min = min
        self.max = max
        self.text_ok = text_ok

    def label(self):
        return "%s%s" % (self.ns, self.name)

    def describe(self):
        return self.label() + _occ(self.min, self.max)


class Seq:
    def __init__(self, *parts, min=1, max=1):
        self.parts = parts
        self.min = min
        self.max = max

    def describe(self):
        return "(" + ", ".join(p.describe() for p in self.parts) + ")" + _occ(self.min, self.max)


class Choice:
    def __init__(self, *parts, min=1, max=1):
        self.parts = parts
        self.min = min
        self.max = max

    def describe(self):
        return "(" + " | ".join(p.describe() for p in self.parts) + ")" + _occ(self.min, self.max)


class All:
    """Unordered children: each element at most its max times, the required ones present."""

    def __init__(self, *elements):
        self.elements = elements

    def describe(self):
        return "all{" + ", ".join(e.describe() for e in self.elements) + "}"


class Loose:
    """Any element of the given namespaces; ``known`` elements are checked further."""

    def __init__(self, namespaces, known=()):
        self.namespaces = frozenset(_ns(n) for n in namespaces)
        self.known = {(k.ns, k.name): k for k in known}

    def describe(self):
        return "any element of " + ", ".join(sorted(self.namespaces))


UNBOUNDED = None


def _occ(lo, hi):
    if (lo, hi) == (1, 1):
        return ""
    if (lo, hi) == (0, 1):
        return "?"
    if (lo, hi) == (0, None):
        return "*"
    if (lo, hi) == (1, None):
        return "+"
    return "{%d,%s}" % (lo, "" if hi is None else hi)


def many(el, min=0):
    el.min = min
    el.max = UNBOUNDED
    return el


# --------------------------------------------------------------------------
# shared pieces
# --------------------------------------------------------------------------

def _body():
    # [MS-ASAIRS] 2.2.2.9 Body: Type, EstimatedDataSize, Truncated, Data, Part, Preview
    return El("AirSyncBase", "Body", Seq(
        El("AirSyncBase", "Type"),
        El("AirSyncBase", "EstimatedDataSize", min=0),
        El("AirSyncBase", "Truncated", min=0),
        El("AirSyncBase", "Data", min=0),
        El("ItemOperations", "Part", min=0),
        El("AirSyncBase", "Preview", min=0),
    ))


def _attachments(responses=False):
    # [MS-ASAIRS] 2.2.2.8 Attachments, 2.2.2.7 Attachment (children in any order): in Sync
    # Commands, ItemOperations and Search FileReference, Method and EstimatedDataSize are
    # required; in Sync Responses (the attachments a request added) ClientId and FileReference.
    att = El("AirSyncBase", "Attachment", All(
        El("AirSyncBase", "DisplayName", min=0),
        El("AirSyncBase", "FileReference"),
        El("AirSyncBase", "ClientId", min=1 if responses else 0),
        El("AirSyncBase", "Method", min=0 if responses else 1),
        El("AirSyncBase", "EstimatedDataSize", min=0 if responses else 1),
        El("AirSyncBase", "ContentId", min=0),
        El("AirSyncBase", "ContentLocation", min=0),
        El("AirSyncBase", "IsInline", min=0),
        El("Email2", "UmAttDuration", min=0),
        El("Email2", "UmAttOrder", min=0),
    ), max=UNBOUNDED)
    return El("AirSyncBase", "Attachments", Seq(many(att)))


def _gal_picture():
    # [MS-ASCMD] 2.2.3.135.3 Picture (Search): Status (required, 2.2.3.177.13), Data
    return El("Gal", "Picture", Seq(El("Gal", "Status"), El("Gal", "Data", min=0)))


CLASS_NAMESPACES = ("AirSyncBase", "Calendar", "Contacts", "Contacts2", "DocumentLibrary",
                    "Email", "Email2", "Notes", "Tasks", "RightsManagement")


def _appdata(min=1, responses=False):
    return El("AirSync", "ApplicationData",
              Loose(CLASS_NAMESPACES, (_body(), _attachments(responses))), min=min)


# --------------------------------------------------------------------------
# the commands
# --------------------------------------------------------------------------

def _sync():
    # [MS-ASCMD] 2.2.3.180 Sync, 2.2.3.29.2 Collection, 2.2.3.32 Commands, 2.2.3.154 Responses,
    # 2.2.3.7.2 Add, 2.2.3.24 Change, 2.2.3.42.2 Delete, 2.2.3.67.2 Fetch, 2.2.3.172
    # SoftDelete; Status 2.2.3.177.17.
    A = "AirSync"
    commands = El(A, "Commands", Choice(
        El(A, "Add", Seq(El(A, "Class", min=0), El(A, "ServerId"), _appdata())),
        El(A, "Change", Seq(El(A, "Class", min=0), El(A, "ServerId"), _appdata())),
        El(A, "Delete", Seq(El(A, "Class", min=0), El(A, "ServerId"))),
        El(A, "SoftDelete", Seq(El(A, "ServerId"))),
        min=1, max=UNBOUNDED), min=0)
    responses = El(A, "Responses", Choice(
        El(A, "Add", Seq(El(A, "Class", min=0), El(A, "ClientId"), El(A, "ServerId", min=0),
                         El(A, "Status"), _appdata(min=0, responses=True))),
        # 2.2.3.24: a Change response also carries ApplicationData (the attachments a
        # draft's change added, 16.0+; see 2.2.3.154); after Status as in Add (section 6)
        El(A, "Change", Seq(El(A, "Class", min=0), El(A, "ServerId"),
                            El("AirSyncBase", "InstanceId", min=0), El(A, "Status"),
                            _appdata(min=0, responses=True))),
        El(A, "Delete", Seq(El(A, "ServerId"), El("AirSyncBase", "InstanceId", min=0),
                            El(A, "Status"))),
        El(A, "Fetch", Seq(El(A, "ServerId", min=0), El(A, "Status"), _appdata(min=0))),
        min=1, max=UNBOUNDED), min=0)
    collection = El(A, "Collection", All(
        El(A, "Class", min=0),
        El(A, "SyncKey", min=0),
        El(A, "CollectionId", min=0),
        El(A, "Status"),
        El(A, "MoreAvailable", min=0),
        commands,
        responses,
    ), min=0, max=UNBOUNDED)
    return El(A, "Sync", Seq(
        El(A, "Status", min=0),
        Choice(El(A, "Limit"), El(A, "Collections", Seq(collection)), min=0),
    ))


def _folder_sync():
    # [MS-ASCMD] 2.2.3.77 FolderSync, 2.2.3.20 Changes, 2.2.3.193 Update, 2.2.3.42.1 Delete,
    # 2.2.3.7.1 Add; Status 2.2.3.177.5 (required).
    F = "FolderHierarchy"

    def folder(name):
        return El(F, name, Seq(El(F, "ServerId"), El(F, "ParentId"), El(F, "DisplayName"),
                               El(F, "Type")), min=0, max=UNBOUNDED)

    return El(F, "FolderSync", Seq(
        El(F, "Status"),
        El(F, "SyncKey", min=0),
        El(F, "Changes", Seq(
            El(F, "Count", min=0),
            folder("Update"),
            El(F, "Delete", Seq(El(F, "ServerId")), min=0, max=UNBOUNDED),
            folder("Add"),
        ), min=0),
    ))


def _folder_op(name, server_id=False):
    # [MS-ASCMD] 2.2.3.73 FolderCreate, 2.2.3.74 FolderDelete, 2.2.3.78 FolderUpdate;
    # Status 2.2.3.177.3/.4/.6 (required).
    F = "FolderHierarchy"
    parts = [El(F, "Status"), El(F, "SyncKey", min=0)]
    if server_id:
        parts.append(El(F, "ServerId", min=0))
    return El(F, name, Seq(*parts))


def _get_item_estimate():
    # [MS-ASCMD] 2.2.3.85 GetItemEstimate, 2.2.3.153.3 Response, 2.2.3.29.3 Collection,
    # 2.2.3.64 Estimate; Status 2.2.3.177.7.
    G = "GetItemEstimate"
    return El(G, "GetItemEstimate", Seq(
        El(G, "Status", min=0),
        El(G, "Response", Seq(
            El(G, "Status"),
            El(G, "Collection", Seq(El(G, "CollectionId"), El(G, "Estimate", min=0)), min=0),
        ), min=0, max=UNBOUNDED),
    ))


def _ping():
    # [MS-ASCMD] 2.2.3.134 Ping, 2.2.3.76 Folders, 2.2.3.112 MaxFolders,
    # 2.2.3.88.1 HeartbeatInterval; Status 2.2.3.177.11 (required).
    P = "Ping"
    return El(P, "Ping", Seq(
        El(P, "Status"),
        El(P, "Folders", Seq(El(P, "Folder", max=UNBOUNDED)), min=0),
        El(P, "MaxFolders", min=0),
        El(P, "HeartbeatInterval", min=0),
    ))


def _move_items():
    # [MS-ASCMD] 2.2.3.117 MoveItems, 2.2.3.153.6 Response (SrcMsgId, Status, DstMsgId);
    # Status 2.2.3.177.10.
    M = "Move"
    return El(M, "MoveItems", Seq(
        El(M, "Status", min=0),
        El(M, "Response", Seq(El(M, "SrcMsgId"), El(M, "Status"), El(M, "DstMsgId", min=0)),
           min=0, max=UNBOUNDED),
    ))


def _item_operations():
    # [MS-ASCMD] 2.2.3.93 ItemOperations, 2.2.3.153.4 Response, 2.2.3.67.1 Fetch,
    # 2.2.3.59 EmptyFolderContents, 2.2.3.117.? Move, 2.2.3.139.2 Properties;
    # Status 2.2.3.177.8 (required).
    I = "ItemOperations"
    properties = El(I, "Properties", Loose(CLASS_NAMESPACES + ("ItemOperations",),
                                           (_body(), _attachments())), min=0)
    fetch = El(I, "Fetch", Seq(
        El(I, "Status"),
        El("AirSync", "CollectionId", min=0),
        El("AirSync", "ServerId", min=0),
        El("Search", "LongId", min=0),
        El("AirSync", "Class", min=0),
        El("DocumentLibrary", "LinkId", min=0),
        El("AirSyncBase", "FileReference", min=0),
        properties,
    ))
    return El(I, "ItemOperations", Seq(
        El(I, "Status"),
        El(I, "Response", Choice(
            El(I, "Move", All(El(I, "Status"), El(I, "ConversationId"))),
            El(I, "EmptyFolderContents", Seq(El(I, "Status"), El("AirSync", "CollectionId"))),
            fetch,
            min=0, max=UNBOUNDED), min=0),
    ))


def _provision():
    # [MS-ASPROV] 2.2.2.x / [MS-ASCMD] 2.2.1.14: Provision response: settings:DeviceInformation
    # (with its settings:Status), Status, Policies/Policy (PolicyType, Status, PolicyKey, Data),
    # RemoteWipe, AccountOnlyRemoteWipe.  Data is an EASProvisionDoc (12.0+) or text (2.5).
    P = "Provision"
    data = El(P, "Data", Seq(El(P, "EASProvisionDoc", Loose(("Provision",)))), min=0,
              text_ok=True)
    return El(P, "Provision", Seq(
        El("Settings", "DeviceInformation", Seq(El("Settings", "Status")), min=0),
        El(P, "Status"),
        El(P, "Policies", Seq(El(P, "Policy", Seq(
            El(P, "PolicyType"), El(P, "Status"), El(P, "PolicyKey", min=0), data))), min=0),
        El(P, "RemoteWipe", min=0),
        El(P, "AccountOnlyRemoteWipe", min=0),
    ))


def _settings():
    # [MS-ASCMD] 2.2.3.168.2 Settings, 2.2.3.122 Oof, 2.2.3.83 Get, 2.2.3.121 OofMessage,
    # 2.2.3.46 DevicePassword, 2.2.3.45 DeviceInformation, 2.2.3.192 UserInformation,
    # 2.2.3.57 EmailAddresses, 2.2.3.3 Accounts, 2.2.3.156 RightsManagementInformation;
    # Status 2.2.3.177.15 (required in the root and in each of those children).
    T = "Settings"
    oof_message = El(T, "OofMessage", All(
        El(T, "AppliesToInternal", min=0), El(T, "AppliesToExternalKnown", min=0),
        El(T, "AppliesToExternalUnknown", min=0), El(T, "Enabled", min=0),
        El(T, "ReplyMessage", min=0), El(T, "BodyType", min=0)), min=0, max=3)

    def addresses():
        return El(T, "EmailAddresses", Seq(El(T, "SMTPAddress", min=0, max=UNBOUNDED),
                                            El(T, "PrimarySmtpAddress", min=0)), min=0)

    account = El(T, "Account", All(
        El(T, "AccountId", min=0), El(T, "AccountName", min=0),
        El(T, "UserDisplayName", min=0), El(T, "SendDisabled", min=0), addresses()),
        max=UNBOUNDED)
    return El(T, "Settings", All(
        El(T, "Status"),
        El(T, "Oof", All(El(T, "Status"), El(T, "Get", Seq(
            El(T, "OofState", min=0), El(T, "StartTime", min=0), El(T, "EndTime", min=0),
            oof_message), min=0)), min=0),
        El(T, "DeviceInformation", All(El(T, "Status")), min=0),
        El(T, "DevicePassword", All(El(T, "Status")), min=0),
        El(T, "UserInformation", All(El(T, "Status"), El(T, "Get", All(
            addresses(), El(T, "Accounts", Seq(account), min=0)), min=0)), min=0),
        El(T, "RightsManagementInformation", All(
            El(T, "Status"),
            El(T, "Get", All(El("RightsManagement", "RightsManagementTemplates",
                                Loose(("RightsManagement",)))), min=0)), min=0),
    ))


def _search():
    # [MS-ASCMD] 2.2.3.159 Search, 2.2.3.153.7 Response, 2.2.3.178.3 Store, 2.2.3.155.3
    # Result, 2.2.3.139.3 Properties, 2.2.3.143.3 Range, 2.2.3.184.3 Total;
    # Status 2.2.3.177.13 (required in Search, Store and gal:Picture).
    R = "Search"
    props = El(R, "Properties", Loose(CLASS_NAMESPACES + ("Gal",),
                                      (_body(), _attachments(), _gal_picture())), min=0)
    result = El(R, "Result", Seq(
        El("AirSync", "Class", min=0), El(R, "LongId", min=0),
        El("AirSync", "CollectionId", min=0), props), min=0, max=UNBOUNDED)
    return El(R, "Search", Seq(
        El(R, "Status"),
        El(R, "Response", Seq(El(R, "Store", Seq(
            El(R, "Status"), result, El(R, "Range", min=0), El(R, "Total", min=0)))), min=0),
    ))


def _find():
    # [MS-ASCMD] 2.2.3.69 Find, 2.2.3.153.2 Response (itemoperations:Store, Status, Result,
    # Range, Total), 2.2.3.155.1 Result, 2.2.3.139.1 Properties; Status 2.2.3.177.2.
    D = "Find"
    props = El(D, "Properties", Loose(("Find", "Email", "Email2", "Gal"), (_gal_picture(),)))
    result = El(D, "Result", Seq(
        El("AirSync", "Class", min=0), El("AirSync", "ServerId", min=0),
        El("AirSync", "CollectionId", min=0), props), min=0, max=UNBOUNDED)
    return El(D, "Find", Seq(
        El(D, "Status"),
        El(D, "Response", Seq(
            El("ItemOperations", "Store", min=0), El(D, "Status"), result,
            El(D, "Range", min=0), El(D, "Total", min=0)), min=0),
    ))


def _resolve_recipients():
    # [MS-ASCMD] 2.2.3.151 ResolveRecipients, 2.2.3.153.5 Response, 2.2.3.152 Recipient,
    # 2.2.3.16 Availability, 2.2.3.23 Certificates, 2.2.3.135.2 Picture;
    # Status 2.2.3.177.12.
    R = "ResolveRecipients"
    recipient = El(R, "Recipient", Seq(
        El(R, "Type"), El(R, "DisplayName"), El(R, "EmailAddress"),
        El(R, "Availability", Seq(El(R, "Status"), El(R, "MergedFreeBusy", min=0)), min=0),
        El(R, "Certificates", Seq(
            El(R, "Status"), El(R, "CertificateCount", min=0), El(R, "RecipientCount", min=0),
            El(R, "Certificate", min=0, max=UNBOUNDED), El(R, "MiniCertificate", min=0)),
           min=0),
        El(R, "Picture", All(El(R, "Status"), El(R, "Data", min=0)), min=0, max=UNBOUNDED),
    ), min=0, max=UNBOUNDED)
    return El(R, "ResolveRecipients", Seq(
        El(R, "Status"),
        El(R, "Response", Seq(El(R, "To"), El(R, "Status"), El(R, "RecipientCount", min=0),
                              recipient), min=0, max=UNBOUNDED),
    ))


def _validate_cert():
    # [MS-ASCMD] 2.2.3.196 ValidateCert, 2.2.3.21 Certificate; Status 2.2.3.177.18.
    V = "ValidateCert"
    return El(V, "ValidateCert", Seq(
        El(V, "Status"),
        El(V, "Certificate", Seq(El(V, "Status")), min=0, max=UNBOUNDED),
    ))


def _meeting_response():
    # [MS-ASCMD] 2.2.3.107 MeetingResponse, 2.2.3.149 Result (RequestId, Status, CalendarId,
    # InstanceId); Status 2.2.3.177.9 is a child of Result only.
    M = "MeetingResponse"
    return El(M, "MeetingResponse", Seq(El(M, "Result", Seq(
        El(M, "RequestId", min=0), El(M, "Status"), El(M, "CalendarId", min=0),
        El(M, "InstanceId", min=0)), max=UNBOUNDED)))


def _compose(name):
    # [MS-ASCMD] 2.2.3.163 SendMail, 2.2.3.164 SmartForward, 2.2.3.165 SmartReply: a body is
    # sent only on failure and then carries Status (2.2.3.177.14/.16).
    return El("ComposeMail", name, Seq(El("ComposeMail", "Status")))


COMMANDS = {}
for _el in (_sync(), _folder_sync(), _folder_op("FolderCreate", server_id=True),
            _folder_op("FolderUpdate"), _folder_op("FolderDelete"), _get_item_estimate(),
            _ping(), _move_items(), _item_operations(), _provision(), _settings(), _search(),
            _find(), _resolve_recipients(), _validate_cert(), _meeting_response(),
            _compose("SendMail"), _compose("SmartReply"), _compose("SmartForward")):
    COMMANDS[(_el.ns, _el.name)] = _el
del _el


# --------------------------------------------------------------------------
# the checker
# --------------------------------------------------------------------------

def _short(ns):
    return ns[:-1] if ns.endswith(":") else ns


def _qn(node):
    return "%s:%s" % (_short(node.ns), node.name)


class _Matcher:
    """Matches a child list against a particle; positions are sets (so that optional and
    repeated particles need no backtracking), the furthest failure is kept for the message."""

    def __init__(self, kids):
        self.kids = kids
        self.far = -1
        self.expected = []

    def _fail(self, pos, what):
        if pos > self.far:
            self.far, self.expected = pos, [what]
        elif pos == self.far and what not in self.expected:
            self.expected.append(what)

    def _once(self, p, pos):
        if isinstance(p, El):
            if pos < len(self.kids):
                k = self.kids[pos]
                if k.ns == p.ns and k.name == p.name:
                    return {pos + 1}
            self._fail(pos, p.label())
            return set()
        if isinstance(p, Seq):
            cur = {pos}
            for part in p.parts:
                nxt = set()
                for q in cur:
                    nxt |= self.match(part, q)
                cur = nxt
                if not cur:
                    break
            return cur
        if isinstance(p, Choice):
            out = set()
            for part in p.parts:
                out |= self.match(part, pos)
            return out
        raise TypeError(p)

    def match(self, p, pos):
        lo, hi = p.min, p.max
        if hi is None:
            hi = len(self.kids) + 1
        out = {pos} if lo == 0 else set()
        cur = {pos}
        seen = {pos}
        for i in range(1, hi + 1):
            nxt = set()
            for q in cur:
                nxt |= self._once(p, q)
            if not nxt:
                break
            if i >= lo:
                out |= nxt
            if nxt <= seen and i >= lo:
                break
            seen |= nxt
            cur = nxt
        return out


def _elements(p, out):
    if isinstance(p, El):
        out.setdefault((p.ns, p.name), p)
    elif isinstance(p, (Seq, Choice)):
        for part in p.parts:
            _elements(part, out)
    elif isinstance(p, All):
        for e in p.elements:
            out.setdefault((e.ns, e.name), e)
    return out


def _check(node, decl, path, out):
    content = decl.content
    if content is None:
        if node.children:
            out.append("%s: a leaf element, has child elements %s"
                       % (path, ", ".join(_qn(k) for k in node.children)))
        return
    if node.text is not None or node.opaque is not None:
        if not decl.text_ok:
            out.append("%s: a container, has %s content" % (
                path, "text" if node.text is not None else "opaque"))
        return
    kids = node.children
    if isinstance(content, Loose):
        for i, k in enumerate(kids):
            kpath = "%s/%s" % (path, _qn(k))
            known = content.known.get((k.ns, k.name))
            if known is not None:
                _check(k, known, kpath, out)
            elif k.ns not in content.namespaces:
                out.append("%s: not allowed here (expected %s)" % (kpath, content.describe()))
        return
    if isinstance(content, All):
        allowed = {(e.ns, e.name): e for e in content.elements}
        counts = {}
        for k in kids:
            e = allowed.get((k.ns, k.name))
            if e is None:
                out.append("%s/%s: not allowed here (expected %s)"
                           % (path, _qn(k), content.describe()))
                continue
            counts[(k.ns, k.name)] = counts.get((k.ns, k.name), 0) + 1
        for key, e in allowed.items():
            n = counts.get(key, 0)
            if n < e.min:
                out.append("%s: required child %s missing (expected %s)"
                           % (path, e.label(), content.describe()))
            elif e.max is not None and n > e.max:
                out.append("%s: %s appears %d times, at most %d allowed"
                           % (path, e.label(), n, e.max))
    else:
        m = _Matcher(kids)
        ends = m.match(content, 0)
        if len(kids) not in ends:
            at = m.far if m.far >= 0 else len(kids)
            got = _qn(kids[at]) if at < len(kids) else "the end of %s" % _qn(node)
            out.append("%s: child #%d: found %s, expected %s (content model %s; children: %s)"
                       % (path, at + 1, got, " or ".join(m.expected) or "nothing more",
                          content.describe(), ", ".join(_qn(k) for k in kids) or "none"))
            return
        allowed = _elements(content, {})
    seen, total = {}, {}
    for k in kids:
        total[k.name] = total.get(k.name, 0) + 1
    for k in kids:
        e = allowed.get((k.ns, k.name))
        if e is None:
            continue
        seen[k.name] = seen.get(k.name, 0) + 1
        idx = "[%d]" % seen[k.name] if total[k.name] > 1 else ""
        _check(k, e, "%s/%s%s" % (path, _qn(k), idx), out)


def _rules(root, out):
    """The rules of the specification the content models cannot express."""
    name = root.name
    kids = {(k.ns, k.name) for k in root.children}
    if name == "Sync" and root.ns == "AirSync:":
        # 2.2.3.180: Status (0..1) and either Limit or Collections.
        if ("AirSync:", "Status") not in kids and ("AirSync:", "Collections") not in kids:
            out.append("AirSync:Sync: neither a Status nor Collections (2.2.3.177.17, "
                       "2.2.3.180)")
    elif name in ("GetItemEstimate", "MoveItems"):
        if not root.children:
            out.append("%s: neither a Status nor a Response (2.2.3.177.7/2.2.3.177.10)"
                       % _qn(root))


def _common_status_answer(root):
    """[MS-ASCMD] 2.2.2: the common status codes (101 and up) apply to every command; the
    server answers them with the command's root holding only its Status.  MeetingResponse is
    the one command whose described root has no Status of its own (2.2.3.177.9 puts it in
    Result), so this is accepted for it only with such a common code."""
    if len(root.children) != 1:
        return False
    st = root.children[0]
    if st.ns != root.ns or st.name != "Status" or st.text is None:
        return False
    return st.text.strip().isdigit() and int(st.text) >= 101


#: Elements the server is known to send outside their versions, not yet fixed; each entry is a
#: server bug waiting for its fix (then remove the entry).  None now.
PENDING_VERSION_FIXES = frozenset()


#: Tokens the server sends, on purpose, in a version the current tag tables do not give them:
#: * Provision token 0x10 at 12.0: DeviceEncryptionEnabled, the 12.0 name of the token that
#:   12.1 renamed RequireStorageCardEncryption (revision 1.0 of [MS-ASWBXML]; the server's
#:   libzxsync/mdm/policy.c and test_provision.py's 12.0 test); the decoder names it by its
#:   current name.
VERSION_ALLOWANCES = {("Provision:", "RequireStorageCardEncryption"): ("12.0",)}


def _versions(root, protocol, out):
    """Every element must be a tag of the request's protocol version ([MS-ASWBXML] 2.1.2.1.x,
    the "Protocol versions" column of each code page table)."""
    stack = [(root, _qn(root))]
    flagged = set()
    while stack:
        node, path = stack.pop()
        page = _cp.page_for_namespace(node.ns)
        token = page.tokens.get(node.name) if page else None
        cell = page.versions.get(token) if token is not None else None
        if cell is not None and cell != _cp.ALL and \
                (node.ns, node.name) not in PENDING_VERSION_FIXES and \
                protocol not in VERSION_ALLOWANCES.get((node.ns, node.name), ()) and \
                protocol not in [v.strip() for v in cell.split(",")] and \
                (node.ns, node.name) not in flagged:
            flagged.add((node.ns, node.name))
            out.append("%s: %s is not a tag of protocol %s (only %s)"
                       % (path, _qn(node), protocol, cell))
        for k in node.children:
            stack.append((k, "%s/%s" % (path, _qn(k))))


def check(root, protocol=None):
    """Violations (list of str) of one decoded response (a wbxml.Node); with ``protocol``
    (the request's version, "14.1") also every element's protocol version."""
    if root is None:
        return []
    decl = COMMANDS.get((root.ns, root.name))
    if decl is None:
        return ["%s: not a command response this checker knows" % _qn(root)]
    if _common_status_answer(root):
        # not checked against the version: a command the version lacks (Find at 16.0) is
        # answered with its own root and Status 138 (VersionNotSupported, [MS-ASCMD] 2.2.2),
        # the only answer the client can match to its request
        return []
    out = []
    _check(root, decl, _qn(root), out)
    _rules(root, out)
    if protocol is not None:
        # Find is a 16.1 command ([MS-ASWBXML] 2.1.2.1.26); iOS sends it at 14.x too and the
        # server answers it as at 16.1 (README, "Protocol versions"), so it is checked so.
        _versions(root, "16.1" if root.ns == "Find:" else protocol, out)
    return out


def check_body(body):
    """Violations of a WBXML body (bytes); a body that does not decode is one."""
    from .wbxml import decode
    try:
        root = decode(body)
    except Exception as e:  # noqa: BLE001 - any decoding failure is a violation
        return ["the body does not decode as WBXML: %s" % e]
    return check(root)


def record(context, violations):
    """Remember violations (with the request they answer) for the test's teardown."""
    for v in violations:
        VIOLATIONS.append("%s: %s" % (context, v))
