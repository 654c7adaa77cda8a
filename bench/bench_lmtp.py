#!/usr/bin/python3
"""LMTP delivery benchmark (issue 19): messages/s of 10 KB messages into the mailboxes over
the LMTP listener inside httpd, against `zxsuite mailbox deliver` (one process per message,
as a Postfix pipe(8) transport runs it).

A private instance (t/harness/zxinstance.py; PostgreSQL without fsync unless --durable) with
--accounts accounts.  LMTP: --connections connections in parallel, each delivering its share
of --messages in transactions of one message to --rcpts recipients, pipelined as Postfix's
lmtp client does (MAIL, RCPT and DATA in one write; the message, its final dot and the next
MAIL, RCPT, DATA in the next).  `mailbox deliver`: --deliver-messages runs, --connections at a
time.  For each: wall time, messages/s (and recipients/s), and the server's CPU per message:
httpd (or the zxsuite processes) and PostgreSQL apart, user+system from /proc (the load
client's own CPU is not counted; it runs on the same cores).  Every delivery is checked
(each reply 250 2.0.0, the items counted in the database).

  bench/bench_lmtp.py [--messages 5000] [--connections 4] [--rcpts 1] [--size 10240]
                      [--deliver-messages 300] [--durable] [--keep]

Prints figures; not part of the test suite.  Needs a build (./zx build or ZX_BUILDDIR)."""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "t", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "t", "e2e"))
sys.path.insert(0, HERE)
import zxinstance  # noqa: E402
from lmtpclient import LMTP, stuff  # noqa: E402
from bench_sync import cpu_seconds  # noqa: E402

DOMAIN, PASSWORD = "lmtp.bench", "Lmtp-Pw-1"


def pids(inst):
    """(httpd pids, PostgreSQL pids) of the instance."""
    httpd, pg = [], []
    post = None
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % pid, "rb").read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if inst.conf_path in cmd:
            httpd.append(int(pid))
        elif "postgres" in cmd and inst.pg_data in cmd:
            post = int(pid)
            pg.append(post)
    if post:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    st = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(st[1]) == post:
                    pg.append(int(pid))
    return httpd, pg


def make_message(i, size):
    head = ("From: Bench Sender <sender@example.com>\r\nTo: someone@%s\r\n"
            "Subject: bench message %d\r\nMessage-ID: <bench-%d-%f@example.com>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            % (DOMAIN, i, i, time.time())).encode()
    line = b"The quick brown fox jumps over the lazy dog, 0123456789 - line of text.\r\n"
    body = (line * (size // len(line) + 1))[:max(0, size - len(head) - 2)]
    return head + body + b"\r\n"


def lmtp_worker(inst, idx, count, rcpts_per, accounts, size, out):
    ok = bad = 0
    errors = []
    with LMTP.of(inst, timeout=120) as l:
        l.greet_lhlo("bench.client")

        def group(i):
            rc = [accounts[(i * rcpts_per + k) % len(accounts)] for k in range(rcpts_per)]
            return (b"MAIL FROM:<sender@example.com> BODY=8BITMIME\r\n" +
                    b"".join(b"RCPT TO:<%s>\r\n" % r.encode() for r in rc) + b"DATA\r\n")

        n = 0
        l.send(group(idx * count))
        while n < count:
            for code, text in l.replies(rcpts_per + 2):
                if code not in (250, 354):
                    errors.append((code, text))
            msg = stuff(make_message(idx * count + n, size))
            n += 1
            l.send(msg + (group(idx * count + n) if n < count else b""))
            for code, text in l.replies(rcpts_per):
                if code == 250:
                    ok += 1
                else:
                    bad += 1
                    errors.append((code, text))
        l.cmd("QUIT")
    out[idx] = (ok, bad, errors[:5])


def bench_lmtp(inst, a, accounts):
    httpd, pg = pids(inst)
    per = a.messages // a.connections
    out = {}
    c0, p0, t0 = cpu_seconds(httpd), cpu_seconds(pg), time.time()
    threads = [threading.Thread(target=lmtp_worker,
                                args=(inst, i, per, a.rcpts, accounts, a.size, out))
               for i in range(a.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    httpd, pg2 = pids(inst)
    cpu, pgcpu = cpu_seconds(httpd) - c0, cpu_seconds(pg2) - p0
    ok = sum(v[0] for v in out.values())
    bad = sum(v[1] for v in out.values())
    errs = [e for v in out.values() for e in v[2]]
    return per * a.connections, ok, bad, errs, wall, cpu, pgcpu


def bench_deliver(inst, a, accounts):
    env = dict(os.environ, ZXMOBILE_DB=inst.conninfo)
    httpd, pg = pids(inst)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p0, t0 = cpu_seconds(pg), time.time()
    n = a.deliver_messages
    ok = bad = 0
    running = []
    for i in range(n):
        data = make_message(10**6 + i, a.size)
        p = subprocess.Popen([inst.zxsuite, "mailbox", "deliver", accounts[i % len(accounts)]],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env)
        p.stdin.write(data)
        p.stdin.close()
        running.append(p)
        while len(running) >= a.connections:
            rc = running.pop(0).wait()
            ok, bad = (ok + 1, bad) if rc == 0 else (ok, bad + 1)
    for p in running:
        rc = p.wait()
        ok, bad = (ok + 1, bad) if rc == 0 else (ok, bad + 1)
    wall = time.time() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    _, pg2 = pids(inst)
    cli = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return n, ok, bad, wall, cli, cpu_seconds(pg2) - p0


def count_items(inst):
    return int(inst.psql("SELECT count(*) FROM items i JOIN accounts a ON a.id = i.account_id "
                         "JOIN domains d ON d.id = a.domain_id WHERE d.name = '%s'" % DOMAIN))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--rcpts", type=int, default=1)
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--size", type=int, default=10240)
    ap.add_argument("--deliver-messages", type=int, default=300)
    ap.add_argument("--durable", action="store_true",
                    help="PostgreSQL with fsync and synchronous_commit (as ./zx up runs it)")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="zxmobile-bench-lmtp-")
    inst = zxinstance.Instance(d, zxinstance.free_port(), log_level="warn", durable=a.durable)
    try:
        inst.up()
        inst.zxsuite_run("prov", "createDomain", DOMAIN)
        accounts = ["u%d@%s" % (i, DOMAIN) for i in range(a.accounts)]
        for acc in accounts:
            inst.zxsuite_run("prov", "createAccount", acc, PASSWORD)
        # the mailboxes exist before the timing (a first delivery creates the folders)
        with LMTP.of(inst) as l:
            l.greet_lhlo()
            for acc in accounts:
                l.send(b"MAIL FROM:<warm@example.com>\r\nRCPT TO:<%s>\r\nDATA\r\n" % acc.encode()
                       + stuff(make_message(0, 1000)))
                assert [c for c, _ in l.replies(4)] == [250, 250, 354, 250]
        base = count_items(inst)
        print("machine: %d cores; PostgreSQL %s; %d accounts; messages of %d bytes"
              % (os.cpu_count(), "durable (fsync on)" if a.durable else "fsync off", a.accounts,
                 a.size))
        sent, ok, bad, errs, wall, cpu, pgcpu = bench_lmtp(inst, a, accounts)
        stored = count_items(inst) - base
        print("LMTP  %d connections, %d recipient(s) a message: %d messages (%d recipients) in "
              "%.2f s = %.0f msg/s (%.0f recipients/s); server CPU per message: httpd %.2f ms + "
              "PostgreSQL %.2f ms = %.2f ms; replies 250: %d, other: %d; items stored: %d"
              % (a.connections, a.rcpts, sent, sent * a.rcpts, wall, sent / wall,
                 sent * a.rcpts / wall, 1000 * cpu / sent, 1000 * pgcpu / sent,
                 1000 * (cpu + pgcpu) / sent, ok, bad, stored))
        if errs:
            print("      first errors: %r" % errs)
        if a.deliver_messages <= 0:         # --deliver-messages 0: LMTP only
            return 0 if bad == 0 and stored == sent * a.rcpts else 1
        base = count_items(inst)
        n, dok, dbad, dwall, cli, dpg = bench_deliver(inst, a, accounts)
        dstored = count_items(inst) - base
        print("deliver  `zxsuite mailbox deliver`, %d at a time: %d messages in %.2f s = %.0f "
              "msg/s; CPU per message: zxsuite %.2f ms + PostgreSQL %.2f ms = %.2f ms; exit 0: "
              "%d, other: %d; items stored: %d"
              % (a.connections, n, dwall, n / dwall, 1000 * cli / n, 1000 * dpg / n,
                 1000 * (cli + dpg) / n, dok, dbad, dstored))
        print("LMTP / deliver: %.1fx the messages/s, %.1fx less CPU per message"
              % ((sent / wall) / (n / dwall), ((cli + dpg) / n) / ((cpu + pgcpu) / sent)))
        return 0 if bad == 0 and dbad == 0 and stored == sent * a.rcpts else 1
    finally:
        inst.down()
        if a.keep:
            print("state kept in %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
