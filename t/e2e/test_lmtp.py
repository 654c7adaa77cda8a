"""The LMTP listener inside httpd (issue 19, "In"; mod_zxmobile/zxm_lmtp.c over
libzxsync/mailflow/lmtp.c): an MTA hands messages over LMTP (RFC 2033) to the instance's
`Listen 127.0.0.1:PORT lmtp` virtual host (ZX_LMTP).

Many recipients in one transaction with one unknown (550 at RCPT, one reply per accepted
recipient after the message, in RCPT order), an alias, a whole session in one write
(pipelining), 8-bit bodies stored byte for byte, dot-stuffing, the size limit, the database
stopped (451, then delivered once when it is back: nothing lost, nothing twice), and a
device's Sync and held Ping seeing the delivered message."""

import base64
import os
import re
import shutil
import tempfile
import time
import uuid

import pytest

import zxinstance
from lmtpclient import LMTP, stuff, transaction
from syncutil import Device, held_ping, message, new_account, server_ids


def items(inst, account, subject=None):
    """[(item id, subject)] of the account's live items (of one subject)."""
    local, dom = account.split("@")
    q = ("SELECT i.id, coalesce(i.subject, '') FROM items i JOIN accounts a ON a.id = "
         "i.account_id JOIN domains d ON d.id = a.domain_id WHERE a.local_part = '%s' AND "
         "d.name = '%s' AND NOT i.deleted" % (local, dom))
    if subject is not None:
        q += " AND i.subject = '%s'" % subject.replace("'", "''")
    out = inst.psql(q + " ORDER BY i.id")
    return [tuple(l.split("|", 1)) for l in out.splitlines() if l]


def stored_mime(inst, item_id):
    out = inst.psql("SELECT encode(m.mime, 'base64') FROM items i JOIN messages m "
                    "ON m.id = i.message_id WHERE i.id = %d" % int(item_id))
    return base64.b64decode("".join(out.split()))


def subject_of(tag):
    return "lmtp %s %s" % (tag, uuid.uuid4().hex[:8])


# ---- the session's instance ---------------------------------------------------------------------

def test_lhlo_advertises_the_extensions(instance):
    with LMTP.of(instance) as l:
        code, text = l.greet_lhlo()
        assert code == 250
        ext = text.split("\n")[1:]
        assert ext == ["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "SIZE 52428800"], text
        assert l.cmd("VRFY someone") == (252, "2.0.0 Cannot VRFY user, but will accept message "
                                              "and attempt delivery")
        assert l.cmd("HELP")[0] == 500
        assert l.cmd("RCPT TO:<a@b.test>")[0] == 503
        assert l.cmd("QUIT")[0] == 221


def test_many_recipients_one_unknown(instance):
    accts = [new_account(instance) for _ in range(3)]
    unknown = "nobody@" + accts[0].split("@")[1]
    rcpts = [accts[0], accts[1], unknown, accts[2]]
    subj = subject_of("many")
    with LMTP.of(instance) as l:
        l.greet_lhlo()
        assert l.cmd("MAIL FROM:<ann@example.com>")[0] == 250
        got = [l.cmd("RCPT TO:<%s>" % r) for r in rcpts]
        assert [c for c, _ in got] == [250, 250, 550, 250], got
        assert got[2][1].startswith("5.1.1 <%s>" % unknown), got
        assert l.cmd("DATA")[0] == 354
        l.send(stuff(message(subj)))
        # one reply per accepted recipient, in RCPT order
        after = l.replies(3)
        assert after == [(250, "2.0.0 <%s> delivered" % a) for a in accts], after
        assert l.cmd("QUIT")[0] == 221
    for a in accts:
        assert len(items(instance, a, subj)) == 1, a


def test_alias_recipient(instance):
    acct = new_account(instance)
    local, dom = acct.split("@")
    instance.zxsuite_run("prov", "modifyAccount", acct, "zimbraMailAlias", "Team@" + dom)
    subj = subject_of("alias")
    with LMTP.of(instance) as l:
        l.greet_lhlo()
        l.send(transaction("ann@example.com", ["team@" + dom], message(subj)))
        assert [c for c, _ in l.replies(4)] == [250, 250, 354, 250]
        # the address and the alias in one transaction: one copy, two replies
        subj2 = subject_of("alias-twice")
        l.send(transaction("ann@example.com", [acct, "TEAM@" + dom], message(subj2)))
        r = l.replies(6)
        assert [c for c, _ in r] == [250, 250, 250, 354, 250, 250], r
        assert "same mailbox" in r[5][1], r
    assert len(items(instance, acct, subj)) == 1
    assert len(items(instance, acct, subj2)) == 1


def test_pipelining_everything_in_one_write(instance):
    a, b = new_account(instance), new_account(instance)
    s1, s2 = subject_of("pipe1"), subject_of("pipe2")
    unknown = "ghost@" + a.split("@")[1]
    data = (b"LHLO mta.test\r\n" + transaction("x@example.com", [a, unknown, b], message(s1))
            + b"RSET\r\nNOOP\r\n" + transaction("", [b], message(s2)) + b"QUIT\r\n")
    with LMTP.of(instance) as l:
        l.send(data)
        got = l.replies(16)
    codes = [c for c, _ in got]
    assert codes == [220, 250,                     # greeting, LHLO
                     250, 250, 550, 250, 354,      # MAIL, 3 RCPT, DATA
                     250, 250,                     # a, b
                     250, 250,                     # RSET, NOOP
                     250, 250, 354, 250,           # MAIL <>, RCPT, DATA, b
                     221], got
    assert got[7][1] == "2.0.0 <%s> delivered" % a and got[8][1] == "2.0.0 <%s> delivered" % b
    assert len(items(instance, a, s1)) == 1 and len(items(instance, b, s1)) == 1
    assert len(items(instance, b, s2)) == 1
    # the null sender is the Return-Path
    (iid, _), = items(instance, b, s2)
    assert stored_mime(instance, iid).startswith(b"Return-Path: <>\r\n")


def test_8bit_body_and_dots_stored_intact(instance):
    acct = new_account(instance)
    subj = subject_of("8bit")
    body = ("Gr\u00fc\u00dfe aus K\u00f6ln \u2013 \u65e5\u672c\u8a9e\r\n"
            ".a line that starts with a dot\r\n"
            "..two dots\r\n"
            ".\u00e9\r\n"
            "a dot at the end.\r\n"
            " .\r\n").encode("utf-8") + b"\xff\xfe raw 8-bit bytes\r\n"
    msg = message(subj).split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" + body
    with LMTP.of(instance) as l:
        l.greet_lhlo()
        l.send(transaction("ann@example.com", [acct], msg))
        assert [c for c, _ in l.replies(4)] == [250, 250, 354, 250]
    (iid, _), = items(instance, acct, subj)
    assert stored_mime(instance, iid) == b"Return-Path: <ann@example.com>\r\n" + msg


def test_size_parameter_over_the_limit(instance):
    with LMTP.of(instance) as l:
        l.greet_lhlo()
        code, text = l.cmd("MAIL FROM:<a@example.com> SIZE=%d" % (50 * 1024 * 1024 + 1))
        assert (code, text[:5]) == (552, "5.3.4"), text
        assert l.cmd("MAIL FROM:<a@example.com> SIZE=1000")[0] == 250


def test_line_too_long_and_the_session_goes_on(instance):
    with LMTP.of(instance) as l:
        l.greet_lhlo()
        assert l.cmd("NOOP " + "x" * 5000) == (500, "5.5.2 Error: line too long")
        assert l.cmd("MAIL FROM:<a@example.com>")[0] == 250
        assert l.cmd("QUIT")[0] == 221


def test_sync_sees_it_and_a_held_ping_wakes(instance):
    acct = new_account(instance)
    dev = Device(instance, acct)
    try:
        inbox = dev.folder("Inbox")
        dev.sync(inbox, key="0")
        dev.sync(inbox)
        t, out = held_ping(dev, inbox, heartbeat=300)
        time.sleep(1.5)                   # the Ping waits
        assert t.is_alive()
        subj = subject_of("ping")
        t0 = time.time()
        with LMTP.of(instance) as l:
            l.greet_lhlo()
            l.send(transaction("ann@example.com", [acct], message(subj)))
            assert [c for c, _ in l.replies(4)] == [250, 250, 354, 250]
        t.join(20)
        assert not t.is_alive(), "the Ping was not woken by the LMTP delivery"
        assert time.time() - t0 < 10
        assert out["r"].wbxml.findtext("Status") == "2", out["r"].wbxml
        col = dev.sync(inbox)
        added = server_ids(col)
        assert len(added) == 1, col
        subjects = [a.findtext("ApplicationData/Subject") for a in col.findall("Commands/Add")]
        assert subjects == [subj], subjects
    finally:
        dev.close()


# ---- an instance of its own: a small size limit, the database stopped ----------------------

OWN_TIMEOUT = 10


class LimitedInstance(zxinstance.Instance):
    def write_httpd_conf(self, extra=""):
        super().write_httpd_conf(extra)
        with open(self.conf_path) as f:
            conf = f.read()
        conf = conf.replace("    ZxMobileLMTP On\n",
                            "    ZxMobileLMTP On\n    ZxMobileLMTPMaxSize 20000\n")
        conf = conf.replace("    Timeout 300\n", "    Timeout %d\n" % OWN_TIMEOUT)
        with open(self.conf_path, "w") as f:
            f.write(conf)


@pytest.fixture(scope="module")
def own():
    tmp = tempfile.mkdtemp(prefix="zxmobile-lmtp-")
    inst = LimitedInstance(tmp, zxinstance.free_port(), durable=False)
    try:
        inst.up()
        yield inst
    finally:
        inst.down()
        shutil.rmtree(tmp, ignore_errors=True)


def test_message_over_the_size_limit(own):
    a, b = new_account(own), new_account(own)
    big = message(subject_of("big"), body="x" * 70 + "\r\n") + (b"y" * 70 + b"\r\n") * 400
    small = subject_of("small")
    with LMTP.of(own) as l:
        code, text = l.greet_lhlo()
        assert text.split("\n")[-1] == "SIZE 20000"
        l.send(transaction("ann@example.com", [a, b], big))
        r = l.replies(6)
        assert [c for c, _ in r] == [250, 250, 250, 354, 552, 552], r
        assert r[4][1].startswith("5.3.4 <%s> " % a) and r[5][1].startswith("5.3.4 <%s> " % b)
        # the session goes on
        l.send(transaction("ann@example.com", [a], message(small)))
        assert [c for c, _ in l.replies(4)] == [250, 250, 354, 250]
    assert [s for _, s in items(own, a)] == [small]
    assert items(own, b) == []


def test_database_stopped_then_back(own):
    a, b = new_account(own), new_account(own)
    s1, s2 = subject_of("down-rcpt"), subject_of("down-data")
    with LMTP.of(own) as l2:
        l2.greet_lhlo()
        # a transaction open while the database goes: its recipients were accepted
        assert l2.cmd("MAIL FROM:<ann@example.com>")[0] == 250
        assert l2.cmd("RCPT TO:<%s>" % a)[0] == 250
        assert l2.cmd("RCPT TO:<%s>" % b)[0] == 250
        assert l2.cmd("DATA")[0] == 354
        own.pg_down()
        try:
            # the database is away at RCPT: 451 4.3.0, the MTA keeps the message
            with LMTP.of(own) as l:
                l.greet_lhlo()
                assert l.cmd("MAIL FROM:<ann@example.com>")[0] == 250
                code, text = l.cmd("RCPT TO:<%s>" % a)
                assert (code, text[:5]) == (451, "4.3.0"), text
                assert l.cmd("DATA")[0] == 503
                assert l.cmd("QUIT")[0] == 221
            # ... and when the message is complete: 451 for each recipient
            l2.send(stuff(message(s2)))
            r = l2.replies(2)
            assert [(c, t[:5]) for c, t in r] == [(451, "4.3.0"), (451, "4.3.0")], r
        finally:
            own.pg_up()
        assert items(own, a) == [] and items(own, b) == []
        # back: the MTA's retries are delivered, once each
        l2.send(transaction("ann@example.com", [a, b], message(s2)))
        assert [c for c, _ in l2.replies(6)] == [250, 250, 250, 354, 250, 250]
    with LMTP.of(own) as l:
        l.greet_lhlo()
        l.send(transaction("ann@example.com", [a], message(s1)))
        assert [c for c, _ in l.replies(4)] == [250, 250, 354, 250]
    assert [s for _, s in items(own, a)] == [s2, s1]
    assert [s for _, s in items(own, b)] == [s2]
    with open(own.error_log, errors="replace") as f:
        log = f.read()
    assert not re.search(r"exit signal|Segmentation fault|child pid \d+ exit", log), log
    # the deferrals were logged with their reason
    assert "ZX03050" in log and "ZX03054" in log, log


def test_idle_connection_gets_421_after_timeout(own):
    with LMTP.of(own) as l:
        l.greet_lhlo()
        assert l.cmd("MAIL FROM:<a@example.com>")[0] == 250
        t0 = time.time()
        code, text = l.reply()              # nothing sent: the virtual host's Timeout
        took = time.time() - t0
        assert (code, text[:5]) == (421, "4.4.2"), text
        assert OWN_TIMEOUT - 1 <= took < OWN_TIMEOUT + 5, took
        assert l.f.readline() == b""        # and closed


def test_graceful_restart_closes_waiting_sessions_not_transactions(own):
    """A graceful restart: a session waiting between transactions is told 421 4.3.2 at once
    (the stopping child does not wait for the MTA); one inside a transaction finishes it,
    delivered, then is told 421; new connections reach the new children."""
    a = new_account(own)
    subj = subject_of("graceful")
    with LMTP.of(own) as idle, LMTP.of(own) as busy:
        idle.greet_lhlo()
        busy.greet_lhlo()
        assert busy.cmd("MAIL FROM:<ann@example.com>")[0] == 250
        t0 = time.time()
        own.httpd_ctl("graceful")
        code, text = idle.reply()
        assert (code, text[:5]) == (421, "4.3.2") and time.time() - t0 < 5, (code, text)
        assert idle.f.readline() == b""
        assert busy.cmd("RCPT TO:<%s>" % a)[0] == 250
        assert busy.cmd("DATA")[0] == 354
        busy.send(stuff(message(subj)))
        assert busy.reply() == (250, "2.0.0 <%s> delivered" % a)
        code, text = busy.reply()
        assert (code, text[:5]) == (421, "4.3.2"), (code, text)
    assert [s for _, s in items(own, a)] == [subj]
    time.sleep(0.5)
    with LMTP.of(own) as l:
        assert l.greet_lhlo()[0] == 250
        l.send(transaction("ann@example.com", [a], message(subj + " after")))
        assert [c for c, _ in l.replies(4)] == [250, 250, 354, 250]
