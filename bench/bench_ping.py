#!/usr/bin/python3
"""Push benchmark: N devices holding a Ping at once against the real httpd + PostgreSQL (a
private instance), then deliveries to a sample of their accounts.

Each simulated device (asyncio, one keep-alive connection on loopback) runs what a phone runs:
FolderSync, Sync of the Inbox up to date, then Ping (HeartbeatInterval 3540, the Inbox); when a
Ping answers with changes it Syncs and Pings again (an empty Ping: the server's cached
parameters).  Devices belong to N/10 accounts (10 per account at the largest level), created in
SQL with a cheap $5$ password hash so that login hashing does not dominate the setup.

For each level (default 1,000, 5,000 and 10,000 held Pings) it reports:
  - the server's memory (PSS of the httpd processes, which counts shared pages once) and its
    threads, in total and per held Ping (the difference to the idle server, divided by N);
  - the CPU the httpd and PostgreSQL processes use while the Pings are held (idle load);
  - the delivery-to-answer latency p50/p99: `zxsuite mailbox deliver` to a sample of accounts
    (one every --gap seconds), measured from the start of the delivery command (its own run
    time, process start included, is printed too) to the Ping answer read by the device.

  bench/bench_ping.py [--levels 1000,5000,10000] [--sample 50] [--gap 0.1] [--keep]

Prints figures; not part of the test suite.  Needs a build (./zx build or ZX_BUILDDIR).
"""
import argparse
import asyncio
import base64
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
import crypt  # noqa: E402 - deprecated in 3.11, present in Debian 12's python3

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "t", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "t", "e2e"))
sys.path.insert(0, HERE)
import zxinstance  # noqa: E402
from easclient import decode, encode, from_xml  # noqa: E402
from bench_sync import cpu_seconds, server_pids  # noqa: E402

DOMAIN, PASSWORD = "push.bench", "Push-Pw-1"
PROTOCOL = "14.1"


def sql_accounts(inst, n):
    """n accounts u0..u(n-1)@push.bench, mobile sync enabled, password hashed with $5$."""
    subprocess.run([inst.zxsuite, "prov", "createDomain", DOMAIN], check=False,
                   capture_output=True, env=dict(os.environ, ZXMOBILE_DB=inst.conninfo))
    h = crypt.crypt(PASSWORD, "$5$rounds=1000$pushbench")
    inst.psql("INSERT INTO accounts (local_part, domain_id, password_hash) "
              "SELECT 'u' || g, d.id, '%s' FROM generate_series(0, %d) g, domains d "
              "WHERE d.name = '%s' ON CONFLICT DO NOTHING" % (h, n - 1, DOMAIN))
    inst.psql("INSERT INTO config_values (level, target, name, value) "
              "SELECT 'account', a.id::text, 'zimbrafeaturemobilesyncenabled', 'TRUE' "
              "FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE d.name = '%s' "
              "ON CONFLICT DO NOTHING" % DOMAIN)


class Http:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, port):
        self.port = port
        self.r = self.w = None

    async def open(self):
        for attempt in range(20):
            try:
                self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)
                return
            except OSError:
                await asyncio.sleep(0.2 * (attempt + 1))
        raise RuntimeError("cannot connect")

    async def post(self, query, auth, body):
        hdr = ("POST /Microsoft-Server-ActiveSync?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Authorization: Basic %s\r\nMS-ASProtocolVersion: %s\r\n"
               "User-Agent: bench-ping\r\n" % (query, auth, PROTOCOL))
        if body is not None:
            hdr += "Content-Type: application/vnd.ms-sync.wbxml\r\nContent-Length: %d\r\n" % len(body)
        else:
            hdr += "Content-Length: 0\r\n"
        self.w.write(hdr.encode() + b"\r\n" + (body or b""))
        await self.w.drain()
        head = await self.r.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for ln in lines[1:]:
            if ln.lower().startswith("content-length:"):
                length = int(ln.split(":", 1)[1])
        data = await self.r.readexactly(length) if length else b""
        return status, data

    def close(self):
        if self.w:
            self.w.close()


class Device:
    def __init__(self, bench, i):
        self.b = bench
        self.i = i
        self.account = "u%d@%s" % (i % bench.accounts, DOMAIN)
        self.auth = base64.b64encode(("%s:%s" % (self.account, PASSWORD)).encode()).decode()
        self.query = "Cmd=%%s&User=%s&DeviceId=pb%07d&DeviceType=Bench" % (self.account, i)
        self.http = Http(bench.port)
        self.inbox = None
        self.key = None
        self.held = False
        self.ready = False

    async def req(self, cmd, xml):
        body = encode(from_xml(xml)) if xml else None
        for attempt in range(5):
            try:
                if cmd == "Ping":
                    status, data = await self.http.post(self.query % cmd, self.auth, body)
                else:
                    status, data = await asyncio.wait_for(
                        self.http.post(self.query % cmd, self.auth, body), 30)
                break
            except asyncio.TimeoutError:
                # queued in a child whose workers all hold Pings: a phone gives up and
                # reconnects (to a child that accepts), so does the bench
                self.b.stalled += 1
                self.http.close()
                await self.http.open()
            except (asyncio.IncompleteReadError, ConnectionError) as e:
                # httpd closed the idle keep-alive connection before reading the request (the
                # event MPM does so in a child with more connections than it can serve): like
                # a phone, open a new one and send again
                if isinstance(e, asyncio.IncompleteReadError) and e.partial:
                    raise
                self.b.reconnects += 1
                self.http.close()
                await self.http.open()
        else:
            raise RuntimeError("%s: the connection keeps closing" % cmd)
        if status == 503 and self.b.retry_503:
            # the server is busy (e.g. every database connection of the child in use): a phone
            # retries later; so does the bench, a few seconds later
            self.b.busy += 1
            await asyncio.sleep(2 + (self.i % 30) / 10.0)
            return await self.req(cmd, xml)
        if status != 200:
            raise RuntimeError("%s answered HTTP %d" % (cmd, status))
        return decode(data) if data else None

    async def sync(self):
        body = ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
                '<CollectionId>%s</CollectionId></Collection></Collections></Sync>')
        while True:
            doc = await self.req("Sync", body % (self.key, self.inbox))
            if doc is None:
                return
            col = doc.find("Collections/Collection")
            self.key = col.findtext("SyncKey")
            if col.find("MoreAvailable") is None and col.find("Commands") is None:
                return

    async def setup(self):
        await self.http.open()
        doc = await self.req("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0'
                                           '</SyncKey></FolderSync>')
        self.inbox = [a.findtext("ServerId") for a in doc.findall("Changes/Add")
                      if a.findtext("Type") == "2"][0]
        self.key = "0"
        doc = await self.req("Sync", '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>0'
                                     '</SyncKey><CollectionId>%s</CollectionId></Collection>'
                                     '</Collections></Sync>' % self.inbox)
        self.key = doc.find("Collections/Collection").findtext("SyncKey")
        await self.sync()

    async def run(self, setup_sem, go):
        try:
            async with setup_sem:
                await self.setup()
            self.ready = True
            await go.wait()           # every device of the level is set up: Ping
            async with self.b.rate:   # at --rate Pings per second
                await asyncio.sleep(1)
            first = True
            while not self.b.stopping:
                xml = None
                if first:
                    xml = ('<Ping xmlns="Ping:"><HeartbeatInterval>3540</HeartbeatInterval><Folders>'
                           '<Folder><Id>%s</Id><Class>Email</Class></Folder></Folders></Ping>'
                           % self.inbox)
                first = False
                self.held = True
                doc = await self.req("Ping", xml)
                self.held = False
                now = time.time()
                status = int(doc.findtext("Status"))
                self.b.answers.append((now, self.account, status))
                if status == 2:
                    await self.sync()
                elif status != 1:
                    self.b.errors.append("Ping status %d" % status)
                    return
        except (OSError, RuntimeError, asyncio.IncompleteReadError) as e:
            if not self.b.stopping:
                self.b.errors.append("device %d: %s" % (self.i, e))
        finally:
            self.held = False
            self.http.close()


def httpd_pids(inst):
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = open("/proc/%s/cmdline" % pid, "rb").read()
            except OSError:
                continue
            if inst.conf_path.encode() in cmd:
                out.append(int(pid))
    return out


def mem_threads(pids):
    pss = rss = threads = 0
    for pid in pids:
        try:
            for ln in open("/proc/%d/smaps_rollup" % pid):
                if ln.startswith("Pss:"):
                    pss += int(ln.split()[1])
                elif ln.startswith("Rss:"):
                    rss += int(ln.split()[1])
            for ln in open("/proc/%d/status" % pid):
                if ln.startswith("Threads:"):
                    threads += int(ln.split()[1])
        except OSError:
            pass
    return pss * 1024, rss * 1024, threads


STACK_SIZE = 262144      # ThreadStackSize of t/harness/zxinstance.py


def mem_breakdown(pids):
    """PSS of the httpd processes by kind of mapping: thread stacks (the anonymous read-write
    mappings of exactly ThreadStackSize), malloc heap and arenas, APR pools (other anonymous
    memory), files."""
    out = {"stacks": 0, "anon": 0, "files": 0}
    for pid in pids:
        try:
            kind, size = None, 0
            for ln in open("/proc/%d/smaps" % pid):
                f = ln.split()
                if "-" in f[0] and len(f) >= 5 and not f[0].endswith(":"):
                    lo, hi = (int(x, 16) for x in f[0].split("-"))
                    size = hi - lo
                    name = f[5] if len(f) > 5 else ""
                    if name.startswith("/"):
                        kind = "files"
                    elif size == STACK_SIZE and not name and f[1].startswith("rw"):
                        kind = "stacks"
                    else:
                        kind = "anon"
                elif f[0] == "Pss:":
                    out[kind] += int(f[1]) * 1024
        except OSError:
            pass
    return out


class Bench:
    def __init__(self, inst, accounts):
        self.inst = inst
        self.port = inst.port
        self.accounts = accounts
        self.devices = []
        self.answers = []
        self.errors = []
        self.reconnects = 0
        self.stalled = 0
        self.busy = 0
        self.retry_503 = True
        self.stopping = False


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def server_held(b):
    """Pings the server took (each writes its device_ping row before it waits) and still
    holds (the client has no answer for them)."""
    taken = int(b.inst.psql("SELECT count(*) FROM device_ping p JOIN devices d ON "
                            "d.id = p.device WHERE d.device_id LIKE 'pb%%'").strip() or 0)
    return min(taken, sum(1 for d in b.devices if d.held))


async def wait_held(b, n, timeout, plateau=30):
    """Until the server holds n Pings; returns how many it holds (fewer when the count did not
    move for plateau seconds, or at the timeout)."""
    end = time.time() + timeout
    last, since = -1, time.time()
    cnt = 0
    while time.time() < end and not b.errors:
        cnt = server_held(b)
        if cnt >= n:
            await asyncio.sleep(2)     # the last ones finish their first check
            return cnt
        if cnt != last:
            last, since = cnt, time.time()
        elif time.time() - since > plateau:
            break
        await asyncio.sleep(1)
    return cnt


def deliver(inst, account, subject):
    msg = ("From: a@example.org\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@bench>\r\n\r\nhi\r\n"
           % (account, subject, subject))
    subprocess.run([inst.zxsuite, "mailbox", "deliver", account], input=msg.encode(),
                   check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, ZXMOBILE_DB=inst.conninfo))


async def level(b, n, a, setup_sem):
    # set up the devices up to n, then let them Ping
    go = asyncio.Event()
    new = []
    t0 = time.time()
    for i in range(len(b.devices), n):
        d = Device(b, i)
        b.devices.append(d)
        new.append(d)
        asyncio.ensure_future(d.run(setup_sem, go))
    while not all(d.ready for d in new) and not b.errors and time.time() - t0 < a.timeout:
        await asyncio.sleep(0.5)
    setup = time.time() - t0
    t0 = time.time()
    go.set()
    held = await wait_held(b, n, timeout=a.timeout)
    if held < n:
        print("  level %d: the server holds %d Pings (of %d sent); setup %.0f s; errors: %s"
              % (n, held, n, setup, b.errors[:5]))
        return False
    ramp = time.time() - t0
    hp = httpd_pids(b.inst)
    pss, rss, threads = mem_threads(hp)
    allp = server_pids(b.inst)
    pgp = [p for p in allp if p not in hp]
    c_h0, c_p0, t_0 = cpu_seconds(hp), cpu_seconds(pgp), time.time()
    await asyncio.sleep(a.idle)
    c_h1, c_p1, t_1 = cpu_seconds(hp), cpu_seconds(pgp), time.time()
    idle_h = 100.0 * (c_h1 - c_h0) / (t_1 - t_0)
    idle_p = 100.0 * (c_p1 - c_p0) / (t_1 - t_0)
    # deliveries to a sample of the accounts that have devices
    nacc = min(b.accounts, n)
    step = max(1, nacc // a.sample)
    sample = ["u%d@%s" % (k, DOMAIN) for k in range(0, nacc, step)][:a.sample]
    mark = len(b.answers)
    sent = {}
    durations = []
    loop = asyncio.get_event_loop()
    for k, acct in enumerate(sample):
        ts = time.time()
        await loop.run_in_executor(None, deliver, b.inst, acct, "bench-%d-%d" % (n, k))
        durations.append(time.time() - ts)
        sent[acct] = ts
        await asyncio.sleep(a.gap)
    want = sum(1 for d in b.devices[:n] if d.account in sent)
    end = time.time() + 30
    while time.time() < end:
        got = [x for x in b.answers[mark:] if x[1] in sent and x[2] == 2]
        if len(got) >= want:
            break
        await asyncio.sleep(0.2)
    got = [x for x in b.answers[mark:] if x[1] in sent and x[2] == 2]
    lat = [t - sent[acct] for t, acct, _ in got]
    stray = [x for x in b.answers[mark:] if x[1] not in sent]
    print("  %6d held Pings (device setup %.0f s, Pings taken in %.0f s, %d accounts)"
          % (n, setup, ramp, nacc))
    print("         httpd: %d processes, %d threads (%.2f per held Ping), PSS %.0f MB, RSS %.0f MB"
          % (len(hp), threads, threads / float(n), pss / 1e6, rss / 1e6))
    if b.base:
        print("         per held Ping over the idle server: PSS %.1f KB, threads %.2f"
              % ((pss - b.base[0]) / 1024.0 / n, (threads - b.base[2]) / float(n)))
    mb = mem_breakdown(hp)
    print("         PSS by kind: thread stacks %.0f MB, heap/arenas/pools %.0f MB, files %.0f MB"
          % (mb["stacks"] / 1e6, mb["anon"] / 1e6, mb["files"] / 1e6))
    print("         CPU while held (%.0f s): httpd %.1f%%, PostgreSQL %.1f%% of one core"
          % (a.idle, idle_h, idle_p))
    if lat:
        print("         delivery -> answer: %d/%d Pings answered, p50 %.0f ms, p99 %.0f ms, max %.0f ms"
              " (delivery command itself: p50 %.0f ms)"
              % (len(lat), want, 1000 * pct(lat, 50), 1000 * pct(lat, 99), 1000 * max(lat),
                 1000 * statistics.median(durations)))
    else:
        print("         delivery -> answer: no answers (%d expected)" % want)
    if stray:
        print("         %d answers from accounts that got no delivery" % len(stray))
    print("         so far: %d keep-alive connections closed by httpd and reopened, %d requests"
          " given up after 30 s in a full child, %d answered 503 and retried"
          % (b.reconnects, b.stalled, b.busy))
    # the answered devices synced and ping again (empty Ping): wait until all are held again
    await wait_held(b, n, timeout=60)
    return True


async def amain(inst, a):
    levels = [int(x) for x in a.levels.split(",")]
    accounts = max(1, max(levels) // 10)
    sql_accounts(inst, accounts)
    b = Bench(inst, accounts)
    await asyncio.sleep(1)
    pss, rss, threads = mem_threads(httpd_pids(inst))
    b.base = (pss, rss, threads)
    mb = mem_breakdown(httpd_pids(inst))
    print("idle server: %d httpd processes, %d threads, PSS %.0f MB (stacks %.0f MB, heap/arenas"
          " %.0f MB, files %.0f MB)" % (len(httpd_pids(inst)), threads, pss / 1e6,
                                        mb["stacks"] / 1e6, mb["anon"] / 1e6, mb["files"] / 1e6))
    setup_sem = asyncio.Semaphore(a.concurrency)
    b.rate = asyncio.Semaphore(a.rate)
    for n in levels:
        if not await level(b, n, a, setup_sem):
            break
    b.stopping = True
    for d in b.devices:
        d.http.close()
    if b.errors:
        print("errors (%d), first: %s" % (len(b.errors), b.errors[:3]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--levels", default="1000,5000,10000")
    ap.add_argument("--sample", type=int, default=50, help="accounts delivered to per level")
    ap.add_argument("--gap", type=float, default=0.1, help="seconds between deliveries")
    ap.add_argument("--idle", type=float, default=10, help="seconds of idle CPU measurement")
    ap.add_argument("--concurrency", type=int, default=32, help="devices in setup at once")
    ap.add_argument("--timeout", type=float, default=600, help="seconds to reach a level")
    ap.add_argument("--rate", type=int, default=300, help="new Pings sent per second")
    ap.add_argument("--httpd-extra", default="", help="more httpd directives, ';'-separated")
    ap.add_argument("--keep", action="store_true", help="keep the instance (state dir printed)")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(int(x) for x in a.levels.split(",")) + 1024
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(want, soft)), hard))
    d = tempfile.mkdtemp(prefix="zxmobile-bench-ping-")
    inst = zxinstance.Instance(d, zxinstance.free_port(), log_level="warn", durable=False)
    try:
        # a push node starts every child up front (README, "Sizing httpd"); the harness
        # itself starts 2, since the tests run several instances side by side
        os.makedirs(inst.extra_dir, exist_ok=True)
        with open(os.path.join(inst.extra_dir, "bench_ping.conf"), "w") as f:
            f.write("StartServers 12\nMaxSpareThreads 12288\n" + a.httpd_extra.replace(";", "\n")
                    + "\n")
        inst.up()
        print("bench_ping: %s, MPM event (t/harness/zxinstance.py settings), %d CPUs"
              % (inst.url, os.cpu_count()))
        asyncio.run(amain(inst, a))
    finally:
        if a.keep:
            print("instance kept in %s" % d)
        else:
            inst.down()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
