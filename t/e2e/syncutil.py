"""Helpers of the mailbox end-to-end tests (FolderSync, Sync, GetItemEstimate): a fresh account,
messages delivered with `zxsuite mailbox deliver` / `import`, and a device that keeps its keys.

Every response goes through the test client's own WBXML decoder (easclient), written from the
specifications independently of the server's codec."""

import email.utils
import json
import os
import subprocess
import threading
import time
import uuid
from xml.sax.saxutils import escape

from easclient import EASClient

PASSWORD = "Sync-Pw-1"
VERSIONS = ("12.1", "14.1", "16.1")


def zx(instance, *args, data=None, check=True):
    env = dict(os.environ)
    env["ZXMOBILE_DB"] = instance.conninfo
    p = subprocess.run([instance.zxsuite] + list(args), input=data, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if check:
        assert p.returncode == 0, (args, p.returncode, p.stdout, p.stderr)
    return p


def new_account(instance):
    """A fresh account (own domain) with mobile sync enabled."""
    dom = "m%s.test" % uuid.uuid4().hex[:10]
    zx(instance, "prov", "createDomain", dom)
    name = "user@" + dom
    zx(instance, "prov", "createAccount", name, PASSWORD, "zimbraFeatureMobileSyncEnabled", "TRUE")
    return name


def message(subject, body="Hello there.\r\n", sender="Ann Sender <ann@example.com>",
            to="Demo User <user@example.net>, bob@example.org", html=None, attachment=None,
            date=None, msgid=None, headers=()):
    """An RFC 5322 message (bytes): text, text+HTML alternative, an attachment."""
    msgid = msgid or "<%s@example.com>" % uuid.uuid4().hex
    lines = ["From: %s" % sender, "To: %s" % to, "Subject: %s" % subject,
             "Message-ID: %s" % msgid,
             "Date: %s" % email.utils.formatdate(date or time.time())]
    lines += list(headers)
    lines.append("MIME-Version: 1.0")
    if html is None and attachment is None:
        lines += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "",
                  body]
        return "\r\n".join(lines).encode("utf-8")
    parts = []
    if html is not None:
        parts.append('Content-Type: multipart/alternative; boundary="alt"\r\n\r\n'
                     '--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n'
                     '--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n%s\r\n--alt--\r\n'
                     % (body, html))
    else:
        parts.append("Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n" % body)
    if attachment is not None:
        name, ctype, payload = attachment
        import base64
        parts.append('Content-Type: %s; name="%s"\r\nContent-Disposition: attachment; '
                     'filename="%s"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n'
                     % (ctype, name, name, base64.encodebytes(payload).decode()))
    if len(parts) == 1:
        lines.append(parts[0])
        return "\r\n".join(lines).encode("utf-8")
    lines.append('Content-Type: multipart/mixed; boundary="mix"')
    lines.append("")
    out = "\r\n".join(lines) + "\r\n"
    for p in parts:
        out += "--mix\r\n" + p
    out += "--mix--\r\n"
    return out.encode("utf-8")


def deliver(instance, account, data, folder=None):
    """Deliver one message with the real delivery command; returns its item id."""
    args = ["--json", "mailbox", "deliver", account] + ([folder] if folder else [])
    p = zx(instance, *args, data=data)
    return json.loads(p.stdout)["response"]["itemId"]


def import_mbox(instance, account, messages, tmp_path, folder=None):
    """Import (date, bytes) messages from an mbox: their received time is their date."""
    path = os.path.join(str(tmp_path), "import-%s.mbox" % uuid.uuid4().hex[:6])
    with open(path, "wb") as f:
        for when, data in messages:
            stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(when))
            f.write(b"From sender@example.com " + stamp.encode() + b"\n")
            f.write(data.replace(b"\r\n", b"\n").rstrip(b"\n") + b"\n\n")
    zx(instance, "mailbox", "import", account, path, *([folder] if folder else []))


PLAIN = '<Options><BodyPreference xmlns="AirSyncBase:"><Type>1</Type></BodyPreference></Options>'


class Device:
    """One ActiveSync device of an account, remembering its SyncKeys."""

    def __init__(self, instance, account, protocol="14.1", device_id=None, password=PASSWORD):
        self.protocol = protocol
        self.device_id = device_id or "dev" + uuid.uuid4().hex[:12]
        self.c = EASClient(instance.url, account, password, self.device_id, "TestDevice",
                           protocol=protocol)
        self.hier_key = "0"
        self.keys = {}
        self.folders = {}       # DisplayName -> ServerId (top level and below)

    def close(self):
        self.c.close()

    # ---- folder hierarchy ------------------------------------------------------------------
    def foldersync(self, key=None):
        key = self.hier_key if key is None else key
        r = self.c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey>'
                        '</FolderSync>' % escape(key))
        assert r.status == 200, r
        doc = r.wbxml
        assert doc.name == "FolderSync"
        if doc.findtext("Status") == "1":
            self.hier_key = doc.findtext("SyncKey")
            for a in doc.findall("Changes/Add") + doc.findall("Changes/Update"):
                self.folders[a.findtext("DisplayName")] = a.findtext("ServerId")
        return doc

    def folder(self, name):
        if not self.folders:
            self.foldersync()
        return self.folders[name]

    # ---- Sync ------------------------------------------------------------------------------
    def post_sync(self, xml):
        r = self.c.post("Sync", xml)
        assert r.status == 200, r
        return r

    def sync(self, coll, key=None, window=None, options=PLAIN, commands=None, get_changes=None,
             deletes_as_moves=None, extra="", top=""):
        """One Sync of one collection; returns its response Collection (None for the empty
        response).  The new key is remembered."""
        if not coll.isdigit():
            coll = self.folder(coll)
        key = self.keys.get(coll, "0") if key is None else key
        x = '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>' % escape(key)
        x += "<CollectionId>%s</CollectionId>" % coll
        if deletes_as_moves is not None:
            x += "<DeletesAsMoves>%d</DeletesAsMoves>" % deletes_as_moves
        if get_changes is not None:
            x += "<GetChanges>%d</GetChanges>" % get_changes
        if window is not None:
            x += "<WindowSize>%d</WindowSize>" % window
        x += extra
        if options:
            x += options
        if commands:
            x += "<Commands>%s</Commands>" % commands
        x += "</Collection></Collections>%s</Sync>" % top
        r = self.post_sync(x)
        if not r.body:
            return None
        col = r.wbxml.find("Collections/Collection")
        assert col is not None, r.wbxml
        if col.findtext("Status") == "1":
            self.keys[coll] = col.findtext("SyncKey")
        return col

    def sync_all(self, coll, window=None, options=PLAIN, limit=100):
        """Sync from key 0 until nothing more comes; returns the list of (op, node) seen."""
        if not coll.isdigit():
            coll = self.folder(coll)
        self.keys.pop(coll, None)
        self.sync(coll, key="0", options=options)
        seen = []
        for _ in range(limit):
            col = self.sync(coll, window=window, options=options)
            if col is None:
                break
            assert col.findtext("Status") == "1", col
            seen += [(c.name, c) for c in col.findall("Commands/*")]
            if col.find("MoreAvailable") is None:
                break
        return seen


def read_change(sid, read=1):
    """A Sync Change command setting an item's Read flag."""
    return ('<Change><ServerId>%s</ServerId><ApplicationData><Read xmlns="Email:">%d</Read>'
            '</ApplicationData></Change>' % (sid, read))


def ops(col):
    """[(op, ServerId)] of a response Collection's Commands."""
    if col is None:
        return []
    return [(c.name, c.findtext("ServerId")) for c in col.findall("Commands/*")]


def server_ids(col, op="Add"):
    return [sid for o, sid in ops(col) if o == op]


def estimate(dev, *colls, filter_type=None):
    """colls: (CollectionId, SyncKey); returns [(CollectionId, Status, Estimate)]."""
    x = '<GetItemEstimate xmlns="GetItemEstimate:"><Collections>'
    for cid, key in colls:
        x += "<Collection>"
        if dev.protocol == "12.1":
            x += "<Class>Email</Class>"
            x += '<SyncKey xmlns="AirSync:">%s</SyncKey>' % key
            x += "<CollectionId>%s</CollectionId>" % cid
            x += '<FilterType xmlns="AirSync:">%d</FilterType>' % (filter_type or 0)
        else:
            x += '<SyncKey xmlns="AirSync:">%s</SyncKey>' % key
            x += "<CollectionId>%s</CollectionId>" % cid
            if filter_type is not None:
                x += ('<Options xmlns="AirSync:"><Class>Email</Class><FilterType>%d</FilterType>'
                      '</Options>' % filter_type)
        x += "</Collection>"
    x += "</Collections></GetItemEstimate>"
    r = dev.c.post("GetItemEstimate", x)
    assert r.status == 200, r
    doc = r.wbxml
    assert doc.name == "GetItemEstimate"
    return [(resp.findtext("Collection/CollectionId"), resp.findtext("Status"),
             resp.findtext("Collection/Estimate")) for resp in doc.findall("Response")]


def held_ping(dev, folder_id, heartbeat=300):
    """A Ping of dev on one Email folder, sent from a thread; returns (thread, out), out
    receiving "r" (the response) and "took" (seconds) when it is answered."""
    out = {}

    def run():
        t0 = time.time()
        out["r"] = dev.c.post("Ping", '<Ping xmlns="Ping:"><HeartbeatInterval>%d'
                                      '</HeartbeatInterval><Folders><Folder><Id>%s</Id>'
                                      '<Class>Email</Class></Folder></Folders></Ping>'
                              % (heartbeat, folder_id))
        out["took"] = time.time() - t0
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out
