#!/usr/bin/python3
"""Answer times on the largest mailbox (issue 18: Gmail for Android gives up after ~30 s, so
a Sync or a SendMail must answer well within that whatever the mailbox's size).

An account with N messages in its Inbox (default 100,000; loaded with SQL as
bench_search.py does), then a new 16.1 device that behaves like Gmail for Android
(DeviceType Android, WindowSize 25, FilterType 3 = one week, then none):

  FolderSync 0; Sync Inbox SyncKey 0; the first window; the first window without a filter;
  a Sync that picks up one new message; SendMail of a 10 KB message with its recipients in
  the To/Cc/Bcc headers only (as Gmail sends); SmartReply to the newest message;
  GetItemEstimate of the Inbox.

Each timed --rounds times (a fresh device for the windows); prints p50 / max of the HTTP
round trip (keep-alive, loopback).  Not part of the test suite.

  ZX_BUILDDIR=_build/gcc bench/bench_bigmailbox.py [--messages 100000] [--rounds 5]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "t", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "t", "e2e"))
import bench_search  # noqa: E402
import mailtools  # noqa: E402
import zxinstance  # noqa: E402
from easclient import EASClient  # noqa: E402

ACCOUNT, PASSWORD = bench_search.ACCOUNT, bench_search.PASSWORD
OPTS = ('<Options><FilterType>%d</FilterType><BodyPreference xmlns="AirSyncBase:"><Type>2'
        '</Type><TruncationSize>51200</TruncationSize></BodyPreference></Options>')


def ms(t0):
    return (time.perf_counter() - t0) * 1000


def sync(c, folder, key, filter_type, window=25):
    x = ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
         '<CollectionId>%s</CollectionId><DeletesAsMoves>1</DeletesAsMoves>'
         '<GetChanges>1</GetChanges><WindowSize>%d</WindowSize>%s</Collection></Collections>'
         '</Sync>' % (key, folder, window, OPTS % filter_type))
    t0 = time.perf_counter()
    r = c.post("Sync", x)
    took = ms(t0)
    assert r.status == 200, r
    if not r.body:
        return took, key, 0
    col = r.wbxml.find("Collections/Collection")
    assert col.findtext("Status") == "1", col
    return took, col.findtext("SyncKey"), len(col.findall("Commands/*"))


def mime(i, size=10240):
    body = ("Line %d of a message sent from the phone.\r\n" % i) * (size // 40)
    return ("From: %s\r\nTo: Friend <friend@example.org>\r\nCc: other@example.org\r\n"
            "Bcc: hidden@example.org\r\nSubject: sent %d\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n%s" % (ACCOUNT, i, body))


def deliver(inst, text):
    env = dict(os.environ, ZXMOBILE_DB=inst.conninfo)
    p = subprocess.run([inst.zxsuite, "mailbox", "deliver", ACCOUNT], input=text.encode(),
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="zxbench-big-")
    inst = zxinstance.Instance(d, zxinstance.free_port(), log_level="warn", durable=False)
    inst.up()
    try:
        zx = inst.zxsuite_run
        zx("prov", "createDomain", "bench.test", check=False)
        zx("prov", "createAccount", ACCOUNT, PASSWORD, "zimbraFeatureMobileSyncEnabled", "TRUE",
           check=False)
        os.makedirs(inst.extra_dir, exist_ok=True)
        log = os.path.join(d, "sendmail.log")
        with open(os.path.join(inst.extra_dir, "zz-bench-sendmail.conf"), "w") as f:
            f.write("ZxMobileSendmail %s --log %s\n" % (mailtools.FAKE_SENDMAIL, log))
        open(log, "w").close()
        os.chmod(log, 0o666)
        inst.reload()
        first = EASClient(inst.url, ACCOUNT, PASSWORD, "bigprep", "Android", protocol="16.1")
        first.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey>'
                   '</FolderSync>')
        t0 = time.time()
        folder, _ = bench_search.load(inst, a.messages)
        print("loaded %d messages with SQL: %.1f s; machine: %d cores"
              % (a.messages, time.time() - t0, os.cpu_count()))
        mailtools.sql(inst, "VACUUM ANALYZE items")
        res = {}

        def note(name, v):
            res.setdefault(name, []).append(v)

        for r in range(a.rounds):
            c = EASClient(inst.url, ACCOUNT, PASSWORD, "android%d%d" % (r, time.time_ns() % 1000),
                          "Android", protocol="16.1", user_agent="Android-Mail/2025.11")
            t0 = time.perf_counter()
            fs = c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey>'
                        '</FolderSync>')
            note("FolderSync 0", ms(t0))
            assert fs.status == 200
            took, key, _ = sync(c, folder, "0", 3)
            note("Sync Inbox SyncKey 0", took)
            took, key, n = sync(c, folder, key, 3)
            note("first window, FilterType 3 (25 of the newest week)", took)
            assert n == 25, n
            took, key2, n = sync(c, folder, "0", 0)
            took, key2, n = sync(c, folder, key2, 0)
            note("first window, no filter (25 of %d)" % a.messages, took)
            deliver(inst, mime(1000 + r))
            # (the SyncKey 0 above started the collection again: key2 is its state now)
            took, key2, n = sync(c, folder, key2, 0, window=1)
            note("Sync of one window with the new message on top", took)
            assert n >= 1
            body = mime(r).encode()
            x = ('<SendMail xmlns="ComposeMail:"><ClientId>bench%d%d</ClientId><SaveInSentItems/>'
                 '<Mime>%s</Mime></SendMail>'
                 % (r, time.time_ns() % 100000, escape(body.decode())))
            t0 = time.perf_counter()
            s = c.post("SendMail", x)
            note("SendMail 10 KB (recipients in the headers), saved in Sent", ms(t0))
            assert s.status == 200 and not s.body, (s.status, s.body[:200])
            newest = mailtools.sql(inst, "SELECT max(id) FROM items WHERE folder_id = %s",
                                   folder)[0][0]
            x = ('<SmartReply xmlns="ComposeMail:"><ClientId>reply%d%d</ClientId><Source>'
                 '<FolderId>%s</FolderId><ItemId>%s</ItemId></Source><SaveInSentItems/>'
                 '<Mime>%s</Mime></SmartReply>' % (r, time.time_ns() % 100000, folder, newest,
                                                    escape(mime(r, 2048))))
            t0 = time.perf_counter()
            s = c.post("SmartReply", x)
            note("SmartReply to the newest message", ms(t0))
            assert s.status == 200 and not s.body, (s.status, s.body[:200])
            x = ('<GetItemEstimate xmlns="GetItemEstimate:"><Collections><Collection>'
                 '<SyncKey xmlns="AirSync:">%s</SyncKey><CollectionId>%s</CollectionId>'
                 '<Options xmlns="AirSync:"><Class>Email</Class><FilterType>0</FilterType>'
                 '</Options></Collection></Collections></GetItemEstimate>' % (key2, folder))
            t0 = time.perf_counter()
            s = c.post("GetItemEstimate", x)
            note("GetItemEstimate, no filter (%d to come)" % a.messages, ms(t0))
            assert s.status == 200
            c.close()
        print("16.1, DeviceType Android, %d rounds (p50 / max of the HTTP round trip):"
              % a.rounds)
        for name, v in res.items():
            v = sorted(v)
            print("  %-62s %8.1f / %8.1f ms" % (name, v[len(v) // 2], v[-1]))
    finally:
        inst.down()


if __name__ == "__main__":
    main()
