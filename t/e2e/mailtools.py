"""Helpers for the end-to-end tests of the mail commands (SendMail, SmartReply, SmartForward,
Settings, ItemOperations, GetAttachment, MoveItems): fresh accounts, delivery into a mailbox,
the fake sendmail (t/tools/fake-sendmail) wired into httpd through a conf.d snippet, and
lookups of folders and items.  Test modules import the fixtures they use from here."""

import base64
import struct
import json
import os
import shutil
import subprocess
import tempfile
import uuid

import pytest

import zxinstance
from easclient import EASClient

SRC_DIR = zxinstance.SRC_DIR
FAKE_SENDMAIL = os.path.join(SRC_DIR, "t", "tools", "fake-sendmail")
PASSWORD = "Mail-Pw-1"
VERSIONS = ["12.1", "14.1", "16.1"]

# [MS-ASCMD] 2.2.3.186.3 folder types
INBOX, DRAFTS, DELETED, SENT, OUTBOX = 2, 3, 4, 5, 6


def zx(instance, *args, check=True):
    return instance.zxsuite_run(*args, check=check)


def zxj(instance, *args):
    """A zxsuite command with --json that must succeed: its response."""
    p = instance.zxsuite_run("--json", *args, check=False)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["ok"] is True
    return out["response"]


def zx_fails(instance, *args):
    """A zxsuite command that must fail in both output modes: its message (stderr)."""
    p = instance.zxsuite_run(*args, check=False)
    assert p.returncode != 0, p.stdout
    pj = instance.zxsuite_run("--json", *args, check=False)
    assert pj.returncode != 0
    out = json.loads(pj.stdout)
    assert out["ok"] is False and out["error"]
    return p.stderr


def new_account(instance, display_name="Mail Tester"):
    """A fresh account with mobile sync enabled, in a fresh domain; returns its name."""
    dom = "m%s.test" % uuid.uuid4().hex[:10]
    zx(instance, "prov", "createDomain", dom)
    name = "user@" + dom
    zx(instance, "prov", "createAccount", name, PASSWORD, "displayName", display_name,
       "zimbraFeatureMobileSyncEnabled", "TRUE")
    return name


def client_for(instance, account, protocol="14.1", device_id=None, **kw):
    return EASClient(instance.url, account, PASSWORD,
                     device_id or "dev" + uuid.uuid4().hex[:12], "TestPhone",
                     protocol=protocol, **kw)


def deliver(instance, account, message, folder=None, check=True):
    """`zxsuite mailbox deliver <account> [folder]` with the message on stdin."""
    if isinstance(message, str):
        message = message.encode("utf-8")
    env = dict(os.environ)
    env["ZXMOBILE_DB"] = instance.conninfo
    env["ZXMOBILE_SQLDIR"] = os.path.join(SRC_DIR, "sql")
    args = [instance.zxsuite, "mailbox", "deliver", account] + ([folder] if folder else [])
    p = subprocess.run(args, input=message, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError("mailbox deliver failed (%d): %s" % (p.returncode, p.stderr))
    return p


def sql(instance, query, *params):
    """Run a query as the application role; %s placeholders take literals quoted here (test
    values only).  Returns a list of rows, each a list of strings."""
    def lit(v):
        if v is None:
            return "NULL"
        return "'" + str(v).replace("'", "''") + "'"
    text = query % tuple(lit(v) for v in params) if params else query
    out = instance.psql(text)
    return [line.split("|") for line in out.splitlines() if line != ""]


def account_id(instance, account):
    local, dom = account.split("@")
    rows = sql(instance, "SELECT a.id FROM accounts a JOIN domains d ON d.id = a.domain_id "
                         "WHERE a.local_part = %s AND d.name = %s", local, dom)
    return rows[0][0]


def folder_id(instance, account, ftype):
    """Id of a standard folder (creates the mailbox first if needed)."""
    rows = sql(instance, "SELECT id FROM folders WHERE account_id = %s AND type = %s "
                         "AND system AND NOT deleted", account_id(instance, account), ftype)
    if not rows:
        deliver(instance, account, simple_message("nobody@example.com", account, "init"),
                check=True)
        sql(instance, "DELETE FROM items WHERE account_id = %s", account_id(instance, account))
        rows = sql(instance, "SELECT id FROM folders WHERE account_id = %s AND type = %s "
                             "AND system AND NOT deleted", account_id(instance, account), ftype)
    return rows[0][0]


def items(instance, account, ftype=None, folder=None, subject=None):
    """Live items: list of dicts (id, folder_id, subject, read, answered, forwarded, last_verb)."""
    q = ("SELECT i.id, i.folder_id, coalesce(i.subject, ''), i.read, i.answered, i.forwarded, "
         "i.last_verb FROM items i JOIN folders f ON f.id = i.folder_id "
         "WHERE i.account_id = %s AND NOT i.deleted")
    params = [account_id(instance, account)]
    if ftype is not None:
        q += " AND f.type = %s AND f.system"
        params.append(ftype)
    if folder is not None:
        q += " AND i.folder_id = %s"
        params.append(folder)
    if subject is not None:
        q += " AND i.subject = %s"
        params.append(subject)
    q += " ORDER BY i.id"
    out = []
    for r in sql(instance, q, *params):
        out.append({"id": r[0], "folder_id": r[1], "subject": r[2], "read": r[3] == "t",
                    "answered": r[4] == "t", "forwarded": r[5] == "t", "last_verb": int(r[6])})
    return out


def item_mime(instance, item):
    rows = sql(instance, "SELECT translate(encode(m.mime, 'base64'), E'\\n', '') FROM items i "
                         "JOIN messages m ON m.id = i.message_id WHERE i.id = %s", item)
    return base64.b64decode("".join(rows[0][0].split()))


def simple_message(sender, to, subject, body="Hello there.\n", extra_headers="",
                   message_id=None):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Thu, 01 Feb 2024 10:00:00 +0000\r\n"
            "Message-ID: %s\r\nMIME-Version: 1.0\r\n%s"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n%s"
            % (sender, to, subject, message_id or "<%s@example.com>" % uuid.uuid4().hex,
               extra_headers, body.replace("\n", "\r\n")))


def message_with_attachment(sender, to, subject, body, filename, payload,
                            ctype="application/octet-stream"):
    b = "b" + uuid.uuid4().hex
    data = base64.encodebytes(payload).decode("ascii").replace("\n", "\r\n")
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Thu, 01 Feb 2024 10:00:00 +0000\r\n"
            "Message-ID: <%s@example.com>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
            "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"
            "--%s\r\nContent-Type: %s; name=\"%s\"\r\n"
            "Content-Disposition: attachment; filename=\"%s\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s"
            "--%s--\r\n"
            % (sender, to, subject, uuid.uuid4().hex, b, b, body, b, ctype, filename, filename,
               data, b))


class FakeSendmail:
    """The fake's log and failure switch (see t/tools/fake-sendmail)."""

    def __init__(self, directory):
        self.dir = directory
        self.log = os.path.join(directory, "sent.jsonl")
        self.exit_file = os.path.join(directory, "exit")

    def sent(self):
        try:
            with open(self.log) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def clear(self):
        with open(self.log, "w"):
            pass

    def fail(self, status=75):
        with open(self.exit_file, "w") as f:
            f.write("%d\n" % status)
        os.chmod(self.exit_file, 0o644)

    def succeed(self):
        try:
            os.unlink(self.exit_file)
        except FileNotFoundError:
            pass


def install_sendmail(instance, extra_args="", fake=None):
    """Point ZxMobileSendmail at the fake (explicit recipients unless extra_args has -t) and
    reload httpd; returns (FakeSendmail, conf path).  fake: reuse that one's files."""
    if fake is None:
        d = tempfile.mkdtemp(prefix="zx-sendmail-")
        os.chmod(d, 0o777)
        fake = FakeSendmail(d)
    fake.clear()
    os.chmod(fake.log, 0o666)
    conf = os.path.join(instance.extra_dir, "zz-fake-sendmail.conf")
    with open(conf, "w") as f:
        f.write("ZxMobileSendmail %s --log %s --exit-file %s %s\n"
                % (FAKE_SENDMAIL, fake.log, fake.exit_file, extra_args))
    instance.reload()
    return fake, conf


def uninstall_sendmail(instance, fake, conf):
    os.unlink(conf)
    instance.reload()
    shutil.rmtree(fake.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def fake_sendmail(instance):
    fake, conf = install_sendmail(instance)
    yield fake
    uninstall_sendmail(instance, fake, conf)


@pytest.fixture
def sendmail(fake_sendmail):
    """The module's fake sendmail, emptied and succeeding."""
    fake_sendmail.clear()
    fake_sendmail.succeed()
    yield fake_sendmail
    fake_sendmail.succeed()


@pytest.fixture
def account(instance):
    return new_account(instance)


MDM_SWITCH = "ZxMobile_DeviceManagementEnabled"


@pytest.fixture
def mdm(instance):
    """MDM on (the global switch) for the test, restored afterwards to exactly what it was."""
    before = sql(instance, "SELECT value FROM config_values WHERE level = 'global' AND "
                           "name = lower(%s)", MDM_SWITCH)
    zx(instance, "config", "set", "global", MDM_SWITCH, "TRUE")
    yield
    if before:
        zx(instance, "config", "set", "global", MDM_SWITCH, before[0][0])
    else:
        zx(instance, "config", "unset", "global", MDM_SWITCH)


def tnef_stream(files, body=None):
    """A TNEF stream as Outlook sends one: files [(long name, bytes)] as attachments (title,
    data, PR_ATTACH_LONG_FILENAME in UTF-16), an optional PR_BODY.  Written from MS-OXTNEF
    2.1.3 here, independently of the server's reader."""
    def attr(level, att_id, data):
        return (struct.pack("<BII", level, att_id, len(data)) + data
                + struct.pack("<H", sum(data) & 0xFFFF))

    def pad(b):
        return b + b"\0" * (-len(b) % 4)

    def prop_var(tag, value):
        return struct.pack("<III", tag, 1, len(value)) + pad(value)

    out = struct.pack("<IH", 0x223E9F78, 0x5A5A)
    out += attr(1, 0x00089006, struct.pack("<I", 0x00010000))
    out += attr(1, 0x00069007, struct.pack("<II", 1252, 0))
    if body is not None:
        props = struct.pack("<I", 1) + prop_var(0x1000001E, body.encode("cp1252") + b"\0")
        out += attr(1, 0x00069003, props)
    for name, data in files:
        out += attr(2, 0x00069002, b"\0" * 14)
        out += attr(2, 0x00018010, name[:8].encode("ascii") + b"\0")
        out += attr(2, 0x0006800F, data)
        out += attr(2, 0x00069005, struct.pack("<I", 1) +
                    prop_var(0x3707001F, name.encode("utf-16-le") + b"\0\0"))
    return out


def winmail_message(account, subject, text, tnef):
    """A message as Outlook sends one in Rich Text: a text part and the TNEF as winmail.dat."""
    return ("From: Olga <olga@example.com>\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"w\"\r\n\r\n"
            "--w\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n"
            "--w\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\n"
            "Content-Disposition: attachment; filename=\"winmail.dat\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--w--\r\n"
            % (account, subject, text, base64.encodebytes(tnef).decode())).encode()
