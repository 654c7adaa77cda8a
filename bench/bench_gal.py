#!/usr/bin/python3
"""GAL search benchmark against the real httpd + PostgreSQL (a private instance).

N accounts (default 50,000) in one domain, loaded with SQL (accounts rows, then their
givenName/sn/company/telephone rows in account_gal; the triggers of sql/023_gal.sql build the
search keys), names drawn from lists with accented and Cyrillic ones.  Then Search Store=GAL
requests of the searching account (14.1, Range 0-99, the default) with queries a user types:
prefixes of 2 to 4 characters of first names, surnames and addresses (and, separately, single
letters: the widest matches; and queries that match nothing: the cost of the request around the
search - authentication, device record, WBXML).  For each: p50/p99/max latency of the whole HTTP request at
concurrency 1 and 8 (Python threads, one keep-alive connection each), and the statements
PostgreSQL runs for one request (log_min_duration_statement = 0).

  bench/bench_gal.py [--accounts 50000] [--requests 400] [--keep DIR]

Prints figures; not part of the test suite.
"""
import argparse
import base64
import http.client
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "t", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "t", "e2e"))
import mailtools  # noqa: E402
import zxinstance  # noqa: E402
from easclient import EASClient, encode, from_xml  # noqa: E402

DOMAIN = "galbench.test"
ACCOUNT = "searcher@" + DOMAIN
PASSWORD = "Bench-Pw-1"

FIRST = ["Anna", "Andrea", "Beatrice", "Bruno", "Carla", "Chiara", "Daniele", "Élodie", "Elena",
         "Fabio", "Federica", "Giulia", "Gianni", "Hélène", "Ivan", "Jürgen", "Karin", "Laura",
         "Luca", "Marco", "Maria", "Nicolò", "Olga", "Paolo", "Renée", "Sara", "Søren", "Tomás",
         "Ugo", "Valentina", "Zoë", "Анна", "Иван", "Мария", "Ольга", "Пётр"]
LAST = ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
        "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano",
        "Rizzo", "Lombardi", "Moretti", "Müller", "Schäfer", "Ångström", "Nuñez", "Ибрагимов",
        "Иванова", "Петров", "Смирнов", "Kowalski", "Dvořák", "O'Brien", "Lefèvre"]


def load(inst, n):
    psql = lambda q, *args: mailtools.sql(inst, q, *args)  # noqa: E731
    dom = psql("SELECT id FROM domains WHERE name = %s", DOMAIN)[0][0]
    first = "ARRAY[%s]" % ",".join("'%s'" % f.replace("'", "''") for f in FIRST)
    last = "ARRAY[%s]" % ",".join("'%s'" % f.replace("'", "''") for f in LAST)
    t0 = time.time()
    # the account i: first name FIRST[i % len], surname LAST[(i / len(FIRST)) % len]
    psql("INSERT INTO accounts (local_part, domain_id, display_name) "
         "SELECT 'u' || g, %s, f || ' ' || l "
         "  FROM generate_series(1, %s) g, "
         "       LATERAL (SELECT (" + first + ")[1 + g %% " + str(len(FIRST)) + "] AS f, "
         "                       (" + last + ")[1 + (g / " + str(len(FIRST)) + ") %% "
         + str(len(LAST)) + "] AS l) x", dom, n)
    psql("INSERT INTO account_gal (account_id, name, value) "
         "SELECT a.id, v.name, v.value FROM accounts a "
         " CROSS JOIN LATERAL (VALUES ('givenName', split_part(a.display_name, ' ', 1)), "
         "   ('sn', substr(a.display_name, length(split_part(a.display_name, ' ', 1)) + 2)), "
         "   ('company', 'Company ' || (a.id %% 97)), ('telephoneNumber', '+39 06 ' || a.id)) v(name, value) "
         " WHERE a.domain_id = %s AND a.local_part LIKE 'u%%'", dom)
    # the steady state autovacuum brings: statistics, and the visibility map that lets the
    # search read gal_keys by index only
    for t in ("accounts", "account_gal", "gal_keys"):
        psql("VACUUM ANALYZE " + t)
    keys = psql("SELECT count(*) FROM gal_keys WHERE domain_id = %s", dom)[0][0]
    print("loaded %d accounts in %.1f s (%s search keys)" % (n, time.time() - t0, keys))


def queries(kind, count, seed=7):
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        if kind == "nomatch":           # the request's own cost: a query matching nothing
            out.append("xq%d" % rnd.randint(1, 999))
            continue
        if kind == "letter":
            out.append(rnd.choice("abcdefgilmoprstuvzиапмо"))
            continue
        src = rnd.choice([rnd.choice(FIRST), rnd.choice(LAST), "u%d" % rnd.randint(1, 49999)])
        out.append(src[:rnd.randint(2, 4)].lower())
    return out


def body(q):
    return encode(from_xml('<Search xmlns="Search:"><Store><Name>GAL</Name><Query>%s</Query>'
                           '<Options><Range>0-99</Range></Options></Store></Search>' % q))


def headers():
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (ACCOUNT, PASSWORD))
                                                         .encode()).decode(),
            "MS-ASProtocolVersion": "14.1", "Content-Type": "application/vnd.ms-sync.wbxml",
            "User-Agent": "bench"}


PATH = "/Microsoft-Server-ActiveSync?Cmd=Search&User=%s&DeviceId=galbench&DeviceType=Bench" \
    % ACCOUNT


def run(inst, qs, conc):
    bodies = [body(q) for q in qs]
    lat = []
    lock = threading.Lock()
    nxt = [0]
    bad = [0]

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", inst.port)
        h = headers()
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(bodies):
                break
            t0 = time.perf_counter()
            conn.request("POST", PATH, body=bodies[i], headers=h)
            r = conn.getresponse()
            data = r.read()
            dt = time.perf_counter() - t0
            with lock:
                lat.append(dt * 1000)
                if r.status != 200 or not data:
                    bad[0] += 1

    t0 = time.time()
    ts = [threading.Thread(target=worker) for _ in range(conc)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.time() - t0
    lat.sort()
    return (statistics.median(lat), lat[int(len(lat) * 0.99) - 1], lat[-1], len(lat) / wall,
            bad[0])


def statements(inst, q):
    inst._psql(zxinstance.DB_NAME, "ALTER SYSTEM SET log_min_duration_statement = 0")
    inst._psql(zxinstance.DB_NAME, "SELECT pg_reload_conf()")
    time.sleep(0.3)
    best = None
    try:
        conn = http.client.HTTPConnection("127.0.0.1", inst.port)
        for i in range(5):
            mark = os.path.getsize(inst.pg_log)
            conn.request("POST", PATH, body=body(q), headers=headers())
            conn.getresponse().read()
            time.sleep(0.2)
            with open(inst.pg_log, errors="replace") as f:
                f.seek(mark)
                lines = f.read().splitlines()
            out = [re.sub(r"\s+", " ", m.group(1)) for m in
                   (re.search(r"(?:execute [^:]*|statement): (.*)$", ln) for ln in lines)
                   if m and "ALTER SYSTEM" not in m.group(1) and "pg_reload_conf" not in m.group(1)]
            if i >= 2 and (best is None or len(out) < len(best)):
                best = out
    finally:
        inst._psql(zxinstance.DB_NAME, "ALTER SYSTEM RESET log_min_duration_statement")
        inst._psql(zxinstance.DB_NAME, "SELECT pg_reload_conf()")
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=50000)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--keep", help="state directory to use and keep")
    a = ap.parse_args()
    d = a.keep or tempfile.mkdtemp(prefix="zxbench-gal-")
    inst = zxinstance.Instance(d, zxinstance.free_port(), log_level="warn", durable=False)
    inst.up()
    try:
        zx = inst.zxsuite_run
        if zx("prov", "getAccount", ACCOUNT, check=False).returncode != 0:
            zx("prov", "createDomain", DOMAIN)
            zx("prov", "createAccount", ACCOUNT, PASSWORD, "displayName", "Bench Searcher",
               "zimbraFeatureMobileSyncEnabled", "TRUE")
            load(inst, a.accounts)
        print("machine: %d cores, %s" % (os.cpu_count(), open("/proc/cpuinfo").read().split(
            "model name")[1].split(":")[1].split("\n")[0].strip()))
        c = EASClient(inst.url, ACCOUNT, PASSWORD, "galbench", "Bench", protocol="14.1")
        r = c.post("Search", '<Search xmlns="Search:"><Store><Name>GAL</Name><Query>ros</Query>'
                             '</Store></Search>')
        assert r.wbxml.findtext("Response/Store/Status") == "1", r
        print("warm-up: 'ros' -> Total %s" % r.wbxml.findtext("Response/Store/Total"))
        print("load average before: %s" % open("/proc/loadavg").read().split()[:3])
        for kind in ("nomatch", "typed", "letter"):
            qs = queries(kind, a.requests)
            run(inst, qs[:50], 1)                     # warm the children and the cache
            for conc in (1, 8):
                p50, p99, mx, rps, bad = run(inst, qs, conc)
                print("%-7s queries, c=%d: p50 %.1f ms  p99 %.1f ms  max %.1f ms  %.0f req/s%s"
                      % (kind, conc, p50, p99, mx, rps, "  (%d failed)" % bad if bad else ""))
        for q in ("ros", "a"):
            st = statements(inst, q)
            print("statements for one Search (query %r): %d" % (q, len(st)))
            for s in st:
                print("    " + s[:160])
    finally:
        inst.down()


if __name__ == "__main__":
    main()
