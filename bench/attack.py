#!/usr/bin/python3
"""Replays the attack campaign of issue 13 against an instance, on loopback, while a good
client syncs in a loop, and prints for each attack: the good client's success rate and latency
(p50 / p99 / max; goal 100 % and p99 <= 1 s), the peak RSS of each httpd child (sampled from
/proc every 50 ms), and the error-log lines per attack request (all levels, and error or worse).

  bench/attack.py [--dir DIR] [--seconds 10] [--only flood,slow,...] [--scale 1.0]
                  [--bomb-mb 16] [--fetch-mb 8] [--fetches 50]

Attacks, each bounded in count and time (the defaults; --scale multiplies the counts):
  baseline   no attack: the good client alone
  flood      200 connections logging in to unknown accounts, one login per connection, for
             --seconds
  slow       150 connections sending a Sync body at 1 byte/s for --seconds (unauthenticated:
             credentials of an unknown account)
  oversized  3 connections each sending a 30 MB body but its last byte, then holding it open
             for --seconds (unauthenticated)
  wbxml      one authenticated Sync whose body is --bomb-mb MB of empty elements (the issue
             used 32 MB)
  fetch      one authenticated ItemOperations with --fetches Fetch elements (MIME, Type 4) of a
             --fetch-mb MB message delivered first (the issue used 50 x 50 MB); the client hangs
             up after --seconds

Without --dir the script starts a private instance (t/harness/zxinstance.py, ZX_BUILDDIR as
the tests) in a temporary directory and removes it afterwards; with --dir it uses (or starts)
the instance of that state directory (`t/instance up --dir DIR`, `./zx up --dir DIR`) and
creates its two accounts there (good@attack.test, evil@attack.test).  Not part of the test
suite: it prints figures.  Loopback only.
"""
import argparse
import base64
import http.client
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "t", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "t", "e2e"))
import zxinstance  # noqa: E402
from easclient import EASClient  # noqa: E402
from easclient import codepages  # noqa: E402

DOMAIN = "attack.test"
GOOD, EVIL, PASSWORD = "good@" + DOMAIN, "evil@" + DOMAIN, "Attack-Pw-1"
ENDPOINT = "/Microsoft-Server-ActiveSync"
WBXML_CT = "application/vnd.ms-sync.wbxml"
BAD_LEVEL = re.compile(r"\[(?:[a-z_]+:)?(?:error|crit|alert|emerg)\]")


# ---- the instance's processes -----------------------------------------------------------------

def children(parent):
    """Pids of the processes whose parent is `parent` (the httpd children)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            out.append(int(pid))
    return out


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class RSSMonitor(threading.Thread):
    """Samples the RSS of every httpd child; peak() gives the largest per child since reset()."""

    def __init__(self, inst):
        super().__init__(daemon=True)
        self.inst = inst
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.peaks = {}

    def reset(self):
        with self.lock:
            self.peaks = {}

    def peak(self):
        with self.lock:
            return dict(self.peaks)

    def run(self):
        while not self.stop.wait(0.05):
            parent = self.inst.httpd_pid()
            if not parent:
                continue
            for pid in children(parent):
                kb = rss_kb(pid)
                if kb is None:
                    continue
                with self.lock:
                    self.peaks[pid] = max(kb, self.peaks.get(pid, 0))


# ---- the good client --------------------------------------------------------------------------

class GoodClient(threading.Thread):
    """A synced phone: one keep-alive connection, a no-change Sync of its Inbox and an OPTIONS
    (authenticated: its verification is cached after the first) in a loop, 0.1 s apart.  Records
    (start time, status, seconds) of every request; status 0 = no answer (timeout, reset)."""

    def __init__(self, inst):
        super().__init__(daemon=True)
        self.inst = inst
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.log = []
        self.c = EASClient(inst.url, GOOD, PASSWORD, "goodphone01", "Bench", protocol="14.1",
                           timeout=30)
        r = self.c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey>'
                                      '</FolderSync>')
        assert r.status == 200, r
        self.inbox = [a.findtext("ServerId") for a in r.wbxml.findall("Changes/Add")
                      if a.findtext("Type") == "2"][0]
        self.key = "0"
        for _ in range(20):
            if not self.sync():
                break

    def sync(self):
        """One Sync; returns True when it had changes (the key moved)."""
        r = self.c.post("Sync", '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s'
                                '</SyncKey><CollectionId>%s</CollectionId></Collection>'
                                '</Collections></Sync>' % (self.key, self.inbox))
        if r.status != 200:
            return r.status
        if not r.body:
            return False
        col = r.wbxml.find("Collections/Collection")
        if col is not None and col.findtext("Status") == "1":
            self.key = col.findtext("SyncKey")
        return True

    def run(self):
        n = 0
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                if n % 2 == 0:
                    r = self.c.post("Sync", '<Sync xmlns="AirSync:"><Collections><Collection>'
                                            '<SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>'
                                            '</Collection></Collections></Sync>'
                                    % (self.key, self.inbox))
                    status = r.status
                    if status == 200 and r.body:
                        col = r.wbxml.find("Collections/Collection")
                        if col is not None and col.findtext("Status") == "1":
                            self.key = col.findtext("SyncKey")
                else:
                    status = self.c.options()[0]
            except Exception:
                status = 0
                self.c.close()
            with self.lock:
                self.log.append((t0, status, time.monotonic() - t0))
            n += 1
            self.stop.wait(0.1)

    def since(self, t):
        with self.lock:
            return [x for x in self.log if x[0] >= t]


# ---- attacks: each returns (requests sent, {outcome: count}) ------------------------------------

def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def count(outcomes, key, lock):
    with lock:
        outcomes[key] = outcomes.get(key, 0) + 1


def attack_baseline(inst, a):
    time.sleep(a.seconds)
    return 0, {}


def attack_flood(inst, a):
    """Logins to unknown accounts, each on a new connection, from `conns` threads."""
    conns = max(1, int(200 * a.scale))
    stop, lock, outcomes, sent = threading.Event(), threading.Lock(), {}, [0]

    def one(i):
        auth = basic("nobody%d@%s" % (i, DOMAIN), "guess")
        while not stop.is_set():
            c = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=30)
            try:
                c.request("OPTIONS", ENDPOINT, headers={"Authorization": auth, "Connection": "close"})
                r = c.getresponse()
                r.read()
                count(outcomes, r.status, lock)
            except OSError as e:
                count(outcomes, type(e).__name__, lock)
            finally:
                c.close()
                with lock:
                    sent[0] += 1
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(conns)]
    for t in threads:
        t.start()
    time.sleep(a.seconds)
    stop.set()
    for t in threads:
        t.join(35)
    return sent[0], outcomes


def query(user, device="attacker01"):
    return "%s?Cmd=Sync&User=%s&DeviceId=%s&DeviceType=Bench" % (
        ENDPOINT, urllib.parse.quote(user), device)


def post_head(target, user, password, length, cmd_ct=WBXML_CT):
    return ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n"
            "MS-ASProtocolVersion: 14.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (target, basic(user, password), cmd_ct, length)).encode()


def answers(socks, wait=1.0):
    """{sock: what the server answered on it}: an HTTP status, "closed", or "no answer" when
    nothing came within `wait` seconds (all sockets waited for at once)."""
    out = {s: "no answer" for s in socks}
    ready = select.select(list(socks), [], [], wait)[0] if socks else []
    for s in ready:
        s.setblocking(False)
        try:
            data = s.recv(200)
        except OSError as e:
            out[s] = type(e).__name__
            continue
        m = re.match(rb"HTTP/1\.\d (\d{3})", data)
        out[s] = int(m.group(1)) if m else ("closed" if not data else "garbage")
    return out


def attack_slow(inst, a):
    """Sync bodies trickled at 1 byte/s from `conns` connections (unknown account)."""
    conns = max(1, int(150 * a.scale))
    socks = []
    for i in range(conns):
        s = socket.create_connection(("127.0.0.1", inst.port))
        s.sendall(post_head(query("nobody@" + DOMAIN), "nobody@" + DOMAIN, "guess", 100000))
        socks.append(s)
    end = time.monotonic() + a.seconds
    cut = {}
    while time.monotonic() < end:
        for s in socks:
            if s in cut:
                continue
            try:
                s.send(b"\x03")
            except OSError as e:
                cut[s] = type(e).__name__
        time.sleep(1)
    outcomes = {}
    got = answers([s for s in socks if s not in cut])
    for s in socks:
        k = cut.get(s) or got[s]
        outcomes[k] = outcomes.get(k, 0) + 1
        s.close()
    return conns, outcomes


def attack_oversized(inst, a):
    """30 MB bodies but their last byte, held open (unknown account)."""
    conns = max(1, int(3 * a.scale))
    size = 30 * 1024 * 1024
    chunk = b"\x00" * (1 << 20)
    socks, outcomes, lock = [], {}, threading.Lock()

    def one():
        s = socket.create_connection(("127.0.0.1", inst.port))
        socks.append(s)
        try:
            s.sendall(post_head(query("nobody@" + DOMAIN), "nobody@" + DOMAIN, "guess", size))
            left = size - 1
            while left > 0:
                n = s.send(chunk[:min(left, len(chunk))])
                left -= n
        except OSError as e:
            count(outcomes, "refused while sending (%s)" % type(e).__name__, lock)
            return
        count(outcomes, "sent all but 1 byte", lock)
    t0 = time.monotonic()
    threads = [threading.Thread(target=one, daemon=True) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.seconds)
    time.sleep(max(0.0, a.seconds - (time.monotonic() - t0)))    # hold them open
    for s, k in answers(socks).items():
        count(outcomes, "then: %s" % k, lock)
        s.close()
    return conns, outcomes


def attack_wbxml(inst, a):
    """One Sync whose body is a bomb of empty elements (tokens from the test client's tables)."""
    page, sync = codepages.lookup_tag("AirSync", "Sync")
    page2, colls = codepages.lookup_tag("AirSync", "Collections")
    assert page == page2 == 0
    n = int(a.bomb_mb * 1024 * 1024)
    body = bytes([0x03, 0x01, 0x6A, 0x00, 0x40 | sync]) + bytes([colls]) * n + b"\x01"
    c = EASClient(inst.url, EVIL, PASSWORD, "evilphone01", "Bench", protocol="14.1",
                  timeout=a.seconds + 60)
    outcomes = {}
    try:
        r = c.post("Sync", body)
        outcomes[r.status] = 1
    except Exception as e:
        outcomes[type(e).__name__] = 1
    c.close()
    return 1, outcomes


def attack_fetch(inst, a):
    """One ItemOperations with many Fetch elements of a big message; hang up after --seconds."""
    fid, sid = a.fetch_item
    IO = 'xmlns="ItemOperations:" xmlns:airsync="AirSync:" xmlns:airsyncbase="AirSyncBase:"'
    fetch = ("<Fetch><Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId>"
             "<airsync:ServerId>%s</airsync:ServerId><Options><airsync:MIMESupport>2"
             "</airsync:MIMESupport><airsyncbase:BodyPreference><airsyncbase:Type>4"
             "</airsyncbase:Type></airsyncbase:BodyPreference></Options></Fetch>" % (fid, sid))
    c = EASClient(inst.url, EVIL, PASSWORD, "evilphone01", "Bench", protocol="14.1",
                  timeout=a.seconds)
    outcomes = {}
    t0 = time.monotonic()
    try:
        r = c.post("ItemOperations", "<ItemOperations %s>%s</ItemOperations>"
                   % (IO, fetch * a.fetches))
        outcomes["%s, %d bytes, %.1f s" % (r.status, len(r.body or b""), time.monotonic() - t0)] = 1
    except Exception as e:
        outcomes["hung up after %.0f s (%s)" % (time.monotonic() - t0, type(e).__name__)] = 1
    c.close()
    return 1, outcomes


ATTACKS = [("baseline", attack_baseline), ("flood", attack_flood), ("slow", attack_slow),
           ("oversized", attack_oversized), ("wbxml", attack_wbxml), ("fetch", attack_fetch)]


# ---- setup and report -----------------------------------------------------------------------------

def setup_accounts(inst, a):
    zx = inst.zxsuite_run
    if zx("prov", "getAccount", GOOD, check=False).returncode != 0:
        zx("prov", "createDomain", DOMAIN, check=False)
        for acct in (GOOD, EVIL):
            zx("prov", "createAccount", acct, PASSWORD, "zimbraFeatureMobileSyncEnabled", "TRUE")
    deliver(inst, GOOD, 0.01)       # something for the good client's first Sync
    if "fetch" in a.only:
        # the big message: a text part and an attachment of random bytes
        a.fetch_item = deliver(inst, EVIL, a.fetch_mb)


def deliver(inst, acct, mb):
    """Deliver a message with an attachment of about mb MB; returns (folder id, item id)."""
    payload = base64.encodebytes(os.urandom(int(mb * 1024 * 1024 * 3 / 4))).decode()
    subject = "attack %s" % os.urandom(4).hex()
    msg = ("From: Ann <ann@example.org>\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
           "see attached\r\n--b\r\nContent-Type: application/octet-stream; name=blob.bin\r\n"
           "Content-Disposition: attachment; filename=blob.bin\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n%s--b--\r\n" % (acct, subject, payload))
    env = dict(os.environ, ZXMOBILE_DB=inst.conninfo)
    subprocess.run([inst.zxsuite, "mailbox", "deliver", acct], input=msg.encode(), env=env,
                   check=True, stdout=subprocess.DEVNULL, timeout=300)
    row = inst.psql("SELECT i.folder_id || ' ' || i.id FROM items i WHERE i.subject = '%s'"
                    % subject).split()
    return row[0], row[1]


def reset_throttles(inst):
    """Every attack starts from a clean slate: the login throttle of the client address (all
    attacks come from 127.0.0.1) that an earlier attack may have started is ended."""
    try:
        inst.psql("DELETE FROM auth_address_failures WHERE address IN ('127.0.0.1', '::1')")
    except Exception:
        pass                    # a build without the per-address throttle


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def log_lines(path, mark):
    with open(path, "rb") as f:
        f.seek(mark)
        return f.read().decode("utf-8", "replace").splitlines()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", help="state directory of the instance to use (default: a private one)")
    ap.add_argument("--seconds", type=float, default=10, help="length of each attack (default 10)")
    ap.add_argument("--settle", type=float, default=3, help="pause after each attack (default 3)")
    ap.add_argument("--only", default=",".join(n for n, _ in ATTACKS),
                    help="comma-separated attacks to run (default all)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the connection counts")
    ap.add_argument("--bomb-mb", type=float, default=16, help="WBXML bomb size (default 16)")
    ap.add_argument("--fetch-mb", type=float, default=8, help="fetched message size (default 8)")
    ap.add_argument("--fetches", type=int, default=50, help="Fetch elements (default 50)")
    a = ap.parse_args()
    a.only = [x.strip() for x in a.only.split(",") if x.strip()]
    unknown = set(a.only) - {n for n, _ in ATTACKS}
    if unknown:
        ap.error("unknown attack(s): %s" % ", ".join(sorted(unknown)))

    own = a.dir is None
    d = a.dir or tempfile.mkdtemp(prefix="zxattack-")
    inst = zxinstance.Instance(d, zxinstance.free_port() if own else 8080)
    if not own:
        # the port of the running instance of that directory, if its configuration says
        try:
            m = re.search(r"^Listen 127\.0\.0\.1:(\d+)$", open(inst.conf_path).read(), re.M)
            if m:
                inst = zxinstance.Instance(d, int(m.group(1)))
        except OSError:
            pass
    host = urllib.parse.urlsplit(inst.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("loopback only: %s" % inst.url)
    inst.up()
    monitor = good = None
    try:
        setup_accounts(inst, a)
        monitor = RSSMonitor(inst)
        monitor.start()
        good = GoodClient(inst)
        good.start()
        print("instance %s (state %s), httpd children %s, %d cores" % (
            inst.url, d, children(inst.httpd_pid()), os.cpu_count()))
        print("%-10s %9s %8s | %7s %6s %6s %6s | %-22s | %s" % (
            "attack", "requests", "seconds", "good ok", "p50", "p99", "max",
            "log lines/req all, err+", "peak RSS per child (MB)"))
        for name, fn in ATTACKS:
            if name not in a.only:
                continue
            reset_throttles(inst)
            time.sleep(0.5)
            monitor.reset()
            mark = log_size(inst.error_log)
            t0 = time.monotonic()
            sent, outcomes = fn(inst, a)
            took = time.monotonic() - t0
            time.sleep(a.settle)
            reqs = good.since(t0)
            lat = [x[2] for x in reqs]
            okn = sum(1 for x in reqs if x[1] == 200)
            lines = log_lines(inst.error_log, mark)
            bad = [l for l in lines if BAD_LEVEL.search(l)]
            per = max(sent, 1)
            peaks = monitor.peak()
            print("%-10s %9d %8.1f | %6.1f%% %5.0fms %5.0fms %5.0fms | %10.2f %10.2f | %s" % (
                name, sent, took, 100.0 * okn / max(len(reqs), 1), 1000 * pct(lat, 50),
                1000 * pct(lat, 99), 1000 * max(lat or [0]), len(lines) / per, len(bad) / per,
                " ".join("%d:%.0f" % (pid, kb / 1024.0) for pid, kb in sorted(peaks.items()))))
            fails = {}
            for x in reqs:
                if x[1] != 200:
                    fails[x[1]] = fails.get(x[1], 0) + 1
            print("%-10s attack outcomes %s; good client: %d requests%s" % (
                "", dict(sorted(outcomes.items(), key=lambda kv: str(kv[0]))), len(reqs),
                ", not 200: %s" % fails if fails else ""))
            if bad:
                tags = {}
                for l in bad:
                    m = re.search(r"(ZX\d{5}|AH\d{5})", l)
                    k = m.group(1) if m else l[-60:]
                    tags[k] = tags.get(k, 0) + 1
                print("%-10s error-level lines by tag: %s" % ("", tags))
            sys.stdout.flush()
    finally:
        if good:
            good.stop.set()
            good.join(35)
        if monitor:
            monitor.stop.set()
        if own:
            inst.down()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
