#!/usr/bin/python3
"""Email sync benchmarks against the real httpd + PostgreSQL (a private instance).

(a) initial sync of an N-message mailbox (default 10,000) with WindowSize 100: wall time and
    server CPU per item (user+system time of the httpd and PostgreSQL processes, read from
    /proc before and after, so the load client's own CPU is not counted);
(b) no-change Sync and FolderSync requests per second at concurrency 1, 16 and 64 (wrk,
    keep-alive, loopback), each connection repeating a request whose answer is "no change".

  bench/bench_sync.py [--messages 10000] [--window 100] [--seconds 10] [--skip-load]
                      [--keep DIR] [--statements] [--explain] [--answer-cache on|off]

(b) also prints the server CPU per request; --statements instead prints the statements
PostgreSQL executes for one warm no-change Sync and FolderSync (the database round trips).

Prints figures; not part of the test suite.  Needs wrk for (b).
"""
import argparse
import base64
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "t", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "t", "e2e"))
import zxinstance  # noqa: E402
from easclient import EASClient, encode, from_xml  # noqa: E402

ACCOUNT, PASSWORD = "bench@bench.test", "Bench-Pw-1"
WORDS = ("meeting report budget quarterly review project update invoice travel schedule "
         "notes draft proposal customer release plan lunch agenda summary").split()


def make_mbox(path, n, seed=1):
    """n realistic messages: varied subjects, senders, sizes (most 2-8 KB, some with an
    attachment of 20-200 KB, a few HTML alternatives)."""
    rnd = random.Random(seed)
    with open(path, "w") as f:
        for i in range(n):
            day = 1 + i % 28
            subj = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 7)))
            body = "\n".join(" ".join(rnd.choice(WORDS) for _ in range(12))
                             for _ in range(rnd.randint(10, 80)))
            f.write("From sender%d@example.org Mon Nov %2d 10:00:00 2026\n" % (i % 97, day))
            f.write("From: Sender %d <sender%d@example.org>\n" % (i % 97, i % 97))
            f.write("To: Bench <%s>\n" % ACCOUNT)
            f.write("Subject: %s #%d\n" % (subj, i))
            f.write("Date: Mon, %02d Nov 2026 10:%02d:%02d +0000\n" % (day, i % 60, i % 59))
            f.write("Message-ID: <bench-%d@example.org>\n" % i)
            f.write("MIME-Version: 1.0\n")
            if i % 10 == 0:
                att = base64.encodebytes(os.urandom(rnd.randint(20000, 200000))).decode()
                f.write('Content-Type: multipart/mixed; boundary="b%d"\n\n' % i)
                f.write("--b%d\nContent-Type: text/plain; charset=utf-8\n\n%s\n" % (i, body))
                f.write("--b%d\nContent-Type: application/octet-stream; name=\"data%d.bin\"\n"
                        "Content-Transfer-Encoding: base64\nContent-Disposition: attachment; "
                        "filename=\"data%d.bin\"\n\n%s--b%d--\n\n" % (i, i, i, att, i))
            elif i % 7 == 0:
                f.write('Content-Type: multipart/alternative; boundary="a%d"\n\n' % i)
                f.write("--a%d\nContent-Type: text/plain; charset=utf-8\n\n%s\n" % (i, body))
                f.write("--a%d\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>%s"
                        "</p></body></html>\n--a%d--\n\n" % (i, body.replace("\n", "</p><p>"), i))
            else:
                f.write("Content-Type: text/plain; charset=utf-8\n\n%s\n\n" % body)


def server_pids(inst):
    """httpd (parent + children) and PostgreSQL processes of this instance."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % pid, "rb").read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if inst.conf_path in cmd or ("postgres" in cmd and inst.pg_data in cmd):
            pids.append(int(pid))
    # postgres backends do not carry the data dir in their command line: children of postmaster
    post = [p for p in pids if "postgres" in open("/proc/%d/cmdline" % p).read()]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                ppid = int(open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid in post and int(pid) not in pids:
                pids.append(int(pid))
    return pids


def postgres_pids(pids):
    """The PostgreSQL processes among pids (those that still exist)."""
    out = []
    for x in pids:
        try:
            if "postgres" in open("/proc/%d/cmdline" % x).read():
                out.append(x)
        except OSError:
            pass
    return out


def cpu_seconds(pids):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])   # utime stime cutime cstime
        except (OSError, IndexError):
            pass
    return total / tick


def initial_sync(inst, window, protocol="14.1"):
    c = EASClient(inst.url, ACCOUNT, PASSWORD, "benchdev%d" % (int(time.time() * 1000) % 10**8),
                  "Bench", protocol=protocol)
    r = c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>')
    inbox = [a.findtext("ServerId") for a in r.wbxml.findall("Changes/Add") if a.findtext("Type") == "2"][0]
    key = "0"
    body = ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
            '<CollectionId>%s</CollectionId>%s</Collection></Collections></Sync>')
    opts = ('<WindowSize>%d</WindowSize><Options><FilterType>0</FilterType>'
            '<BodyPreference xmlns="AirSyncBase:"><Type>1</Type><TruncationSize>5120</TruncationSize>'
            '</BodyPreference></Options>' % window)
    r = c.post("Sync", body % (key, inbox, ""))
    key = r.wbxml.findtext("Collections/Collection/SyncKey")
    items, rounds = 0, 0
    pids = server_pids(inst)
    cpu0, t0 = cpu_seconds(pids), time.time()
    while True:
        r = c.post("Sync", body % (key, inbox, opts))
        coll = r.wbxml.find("Collections/Collection")
        key = coll.findtext("SyncKey")
        items += len(coll.findall("Commands/Add"))
        rounds += 1
        if coll.find("MoreAvailable") is None:
            break
    wall, cpu = time.time() - t0, cpu_seconds(server_pids(inst)) - cpu0
    return items, rounds, wall, cpu, c, inbox, key


def lua_bytes(b):
    return "".join("\\%d" % x for x in b)


def prepare_devices(inst, n, protocol="14.1"):
    """n devices, each with a finished FolderSync and a finished Sync of the small folder
    "Quiet": returns [(query, foldersync_body, sync_body)] whose answers are "no change"."""
    out = []
    for i in range(n):
        dev = "quietdev%02d" % i
        c = EASClient(inst.url, ACCOUNT, PASSWORD, dev, "Bench", protocol=protocol)
        r = c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>')
        hkey = r.wbxml.findtext("SyncKey")
        quiet = [a.findtext("ServerId") for a in r.wbxml.findall("Changes/Add")
                 if a.findtext("DisplayName") == "Quiet"][0]
        body = ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
                '<CollectionId>%s</CollectionId></Collection></Collections></Sync>')
        key = c.post("Sync", body % ("0", quiet)).wbxml.findtext("Collections/Collection/SyncKey")
        while True:
            r = c.post("Sync", body % (key, quiet))
            if not r.body:
                break
            coll = r.wbxml.find("Collections/Collection")
            key = coll.findtext("SyncKey")
            if coll.find("MoreAvailable") is None and coll.find("Commands") is None:
                break
        assert not c.post("Sync", body % (key, quiet)).body, "no-change Sync did not come back empty"
        q = "/Microsoft-Server-ActiveSync?Cmd=%s&User=" + ACCOUNT + "&DeviceId=" + dev + "&DeviceType=Bench"
        out.append((q, encode(from_xml('<FolderSync xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey>'
                                       '</FolderSync>' % hkey)),
                    encode(from_xml(body % (key, quiet)))))
    return out


def wrk_run(inst, devices, which, conns, seconds, protocol="14.1"):
    cred = base64.b64encode(("%s:%s" % (ACCOUNT, PASSWORD)).encode()).decode()
    reqs = []
    for q, fs, sy in devices:
        cmd, body = ("FolderSync", fs) if which == "FolderSync" else ("Sync", sy)
        reqs.append('wrk.format("POST", "%s", {["Host"]="127.0.0.1", ["Authorization"]="Basic %s", '
                    '["MS-ASProtocolVersion"]="%s", ["Content-Type"]="application/vnd.ms-sync.wbxml"}, '
                    '"%s")' % (q % cmd, cred, protocol, lua_bytes(body)))
    script = os.path.join(inst.dir, "bench_%s.lua" % which)
    with open(script, "w") as f:
        # built when the script loads (each wrk thread loads it); init() runs too late here
        f.write("local reqs = {}\n")
        for r in reqs:
            f.write("table.insert(reqs, %s)\n" % r)
        f.write("local i = 0\n")
        f.write("request = function()\n  i = i % #reqs + 1\n  return reqs[i]\nend\n")
    threads = min(2, conns)
    pids = server_pids(inst)
    pg = postgres_pids(pids)
    cpu0, pg0 = cpu_seconds(pids), cpu_seconds(pg)
    p = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--latency",
                        "-s", script, "http://127.0.0.1:%d" % inst.port],
                       capture_output=True, text=True, check=True)
    if p.stderr.strip():
        sys.exit("wrk: %s" % p.stderr.strip())
    cpu = cpu_seconds(pids) - cpu0
    pgcpu = cpu_seconds(pg) - pg0
    out = p.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)  # not "..85.99%" of a stats line
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    nreq = int(re.search(r"(\d+) requests in", out).group(1))
    # server (httpd + PostgreSQL) CPU per request: less sensitive than req/s to what else
    # runs on the machine
    return (rps, p99, int(bad.group(1)) if bad else 0, 1000.0 * cpu / max(nreq, 1),
            1000.0 * pgcpu / max(nreq, 1))


def statements(inst, devices, which, protocol="14.1"):
    """The statements PostgreSQL executes for one warm no-change request (its log with
    log_min_duration_statement = 0): a request's database round trips."""
    import http.client
    q, fs, sy = devices[0]
    cmd, body = ("FolderSync", fs) if which == "FolderSync" else ("Sync", sy)
    headers = {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (ACCOUNT, PASSWORD)).encode()).decode(),
               "MS-ASProtocolVersion": protocol, "Content-Type": "application/vnd.ms-sync.wbxml",
               "User-Agent": "wrk"}
    inst._psql(zxinstance.DB_NAME, "ALTER SYSTEM SET log_min_duration_statement = 0")
    inst._psql(zxinstance.DB_NAME, "SELECT pg_reload_conf()")
    time.sleep(0.3)

    def logged(mark):
        time.sleep(0.2)
        with open(inst.pg_log, errors="replace") as f:
            f.seek(mark)
            lines = f.read().splitlines()
        out = []
        for l in lines:
            m = re.search(r"(?:execute [^:]*|statement): (.*)$", l)
            if m and "ALTER SYSTEM" not in l and "pg_reload_conf" not in l:
                out.append(re.sub(r"\s+", " ", m.group(1)))
        return out

    best = None
    try:
        conn = http.client.HTTPConnection("127.0.0.1", inst.port)
        for i in range(6):
            # the fewest of the warm requests: the others also refresh a 2-second cache
            mark = os.path.getsize(inst.pg_log)
            conn.request("POST", q % cmd, body=bytes(body), headers=headers)
            r = conn.getresponse()
            r.read()
            out = logged(mark)
            if i >= 2 and (best is None or len(out) < len(best)):
                best = out
    finally:
        inst._psql(zxinstance.DB_NAME, "ALTER SYSTEM RESET log_min_duration_statement")
        inst._psql(zxinstance.DB_NAME, "SELECT pg_reload_conf()")
    return r.status, best


def explain(inst, window):
    """The plans of the statements of Sync round trips (auto_explain with ANALYZE: actual rows
    per plan node): an initial window of `window` items, an incremental Sync after one delivery,
    and a no-change Sync computed without the answer cache.  Shows that a round trip touches a
    bounded number of rows per returned item: index range scans with LIMIT, no scan of the
    folder."""
    settings = {"session_preload_libraries": "'auto_explain'",
                "auto_explain.log_min_duration": "0", "auto_explain.log_analyze": "on",
                "auto_explain.log_timing": "off", "auto_explain.log_nested_statements": "on"}
    for k, v in settings.items():
        inst._psql(zxinstance.DB_NAME, "ALTER SYSTEM SET %s = %s" % (k, v))
        # the auto_explain.* names exist once a new session has loaded the library
        inst._psql(zxinstance.DB_NAME, "SELECT pg_reload_conf()")
    inst.reload()               # new httpd children, new connections: auto_explain loaded

    def plans(label, fn):
        time.sleep(0.3)
        mark = os.path.getsize(inst.pg_log)
        out = fn()
        time.sleep(0.5)
        with open(inst.pg_log, errors="replace") as f:
            f.seek(mark)
            text = f.read()
        print("%s: %s" % (label, out))
        for block in text.split("LOG:  duration:")[1:]:
            lines = block.splitlines()
            q = next((l for l in lines if "Query Text:" in l), "")
            q = re.sub(r"\s+", " ", q.split("Query Text:", 1)[-1]).strip()
            if not q or q.startswith(("ALTER", "SELECT pg_reload_conf", "LISTEN", "SET ")):
                continue
            nodes = [l.rstrip() for l in lines[1:] if "(actual rows=" in l or "(never executed)" in l]
            scans = [re.sub(r"\s+", " ", l).strip() for l in nodes
                     if re.search(r"Scan|Limit|Insert|Update|Delete|Sort|Aggregate", l)]
            print("  %s" % q[:150])
            for l in scans[:14]:
                print("      %s" % l[:150])
        print()

    c = EASClient(inst.url, ACCOUNT, PASSWORD, "explaindev", "Bench", protocol="14.1")
    r = c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>')
    inbox = [a.findtext("ServerId") for a in r.wbxml.findall("Changes/Add") if a.findtext("Type") == "2"][0]
    body = ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
            '<CollectionId>%s</CollectionId>%s</Collection></Collections></Sync>')
    opts = ('<WindowSize>%d</WindowSize><Options><FilterType>0</FilterType>'
            '<BodyPreference xmlns="AirSyncBase:"><Type>1</Type><TruncationSize>5120</TruncationSize>'
            '</BodyPreference></Options>' % window)
    key = c.post("Sync", body % ("0", inbox, "")).wbxml.findtext("Collections/Collection/SyncKey")
    state = {"key": key}

    def sync():
        r = c.post("Sync", body % (state["key"], inbox, opts))
        if not r.body:
            return "empty response"
        coll = r.wbxml.find("Collections/Collection")
        state["key"] = coll.findtext("SyncKey")
        return "%d items, MoreAvailable %s" % (len(coll.findall("Commands/Add")),
                                                coll.find("MoreAvailable") is not None)
    try:
        plans("initial window (WindowSize %d)" % window, sync)
        # to the end of the initial sync, then one new message
        while "MoreAvailable True" in sync():
            pass
        subprocess.run([inst.zxsuite, "mailbox", "deliver", ACCOUNT], check=True,
                       input="From: a@example.org\nTo: %s\nSubject: new\n\nnew\n" % ACCOUNT,
                       text=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, ZXMOBILE_DB=inst.conninfo))
        plans("incremental Sync after one delivery", sync)
        plans("no-change Sync (first time: computed)", sync)
    finally:
        for k in settings:
            inst._psql(zxinstance.DB_NAME, "ALTER SYSTEM RESET %s" % k)
        inst._psql(zxinstance.DB_NAME, "SELECT pg_reload_conf()")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--keep", help="state directory to use and keep")
    ap.add_argument("--statements", action="store_true",
                    help="print the statements of one no-change Sync and FolderSync, then stop")
    ap.add_argument("--explain", action="store_true",
                    help="print the plans (EXPLAIN ANALYZE) of the statements of Sync round trips")
    ap.add_argument("--answer-cache", choices=("on", "off"), default="on",
                    help="ZxMobileAnswerCache of the bench instance (default on, as deployed)")
    a = ap.parse_args()
    d = a.keep or tempfile.mkdtemp(prefix="zxbench-sync-")
    inst = zxinstance.Instance(d, zxinstance.free_port(), log_level="warn", durable=False)
    os.makedirs(inst.extra_dir, exist_ok=True)
    with open(os.path.join(inst.extra_dir, "bench-answer-cache.conf"), "w") as f:
        f.write("ZxMobileAnswerCache %s\n" % ("On" if a.answer_cache == "on" else "Off"))
    inst.up()
    try:
        zx = inst.zxsuite_run
        if zx("prov", "getAccount", ACCOUNT, check=False).returncode != 0:
            zx("prov", "createDomain", "bench.test", check=False)
            zx("prov", "createAccount", ACCOUNT, PASSWORD, "zimbraFeatureMobileSyncEnabled", "TRUE")
            mbox = os.path.join(d, "bench.mbox")
            make_mbox(mbox, a.messages)
            t0 = time.time()
            zx("mailbox", "import", ACCOUNT, mbox)
            print("import of %d messages (%.1f MB mbox): %.1f s" % (
                a.messages, os.path.getsize(mbox) / 1e6, time.time() - t0))
        print("machine: %d cores, %s" % (os.cpu_count(), open("/proc/cpuinfo").read().split(
            "model name")[1].split(":")[1].split("\n")[0].strip()))
        if a.explain:
            explain(inst, a.window)
            return
        items, rounds, wall, cpu, c, inbox, key = initial_sync(inst, a.window)
        print("(a) initial sync, WindowSize %d, 14.1, plain bodies truncated at 5 KB:" % a.window)
        print("    %d items in %d round trips, %.2f s wall, server CPU %.2f s = %.3f ms per item"
              % (items, rounds, wall, cpu, 1000 * cpu / max(items, 1)))
        if a.skip_load:
            return
        if not shutil.which("wrk"):
            sys.exit("wrk is not installed (apt-get install wrk)")
        # a small folder every load device syncs completely
        r = c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>')
        if "Quiet" not in [x.findtext("DisplayName") for x in r.wbxml.findall("Changes/Add")]:
            c.post("FolderCreate", '<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey>'
                   '<ParentId>0</ParentId><DisplayName>Quiet</DisplayName><Type>12</Type></FolderCreate>'
                   % r.wbxml.findtext("SyncKey"))
            for i in range(20):
                msg = "From: a@example.org\nTo: %s\nSubject: quiet %d\n\nhello\n" % (ACCOUNT, i)
                subprocess.run([inst.zxsuite, "mailbox", "deliver", ACCOUNT, "Quiet"], input=msg,
                               text=True, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, ZXMOBILE_DB=inst.conninfo))
        devices = prepare_devices(inst, 16)
        if a.statements:
            for which in ("Sync", "FolderSync"):
                status, stmts = statements(inst, devices, which)
                print("no-change %s (HTTP %d): %d statements" % (which, status, len(stmts)))
                for st in stmts:
                    print("    " + st[:110])
            return
        print("(b) no-change requests/s (wrk, keep-alive, loopback, 16 devices, %d s each; the load"
              " client shares the 2 cores; ZxMobileAnswerCache %s):" % (a.seconds, a.answer_cache))
        for which in ("Sync", "FolderSync"):
            for conns in (1, 16, 64):
                wrk_run(inst, devices, which, conns, 2)          # warm-up
                rps, p99, bad, cpu_ms, pg_ms = wrk_run(inst, devices, which, conns, a.seconds)
                if bad:
                    sys.exit("%d answers were not 2xx: the figures would be wrong" % bad)
                print("    %-10s c=%-3d %8.0f req/s   p99 %-8s non-2xx %d   server CPU %.3f ms/req"
                      " (PostgreSQL %.3f)" % (which, conns, rps, p99, bad, cpu_ms, pg_ms))
    finally:
        if not a.keep:
            inst.down()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
