#!/usr/bin/python3
"""Contacts sync benchmark against the real httpd + PostgreSQL (a private instance).

(a) initial sync of N contacts (default 10,000), each with a photo (4-12 KB of base64) and
    20-odd properties, WindowSize 100, protocol 14.1: wall time and server CPU per item
    (user+system time of the httpd and PostgreSQL processes, from /proc, so the client's own
    CPU is not counted);
(b) no-change Sync of the Contacts collection: requests per second at concurrency 1 and 16
    (wrk, keep-alive) and whether they are answered from the answer cache (the statements
    PostgreSQL runs for one such request).

  bench/bench_contacts.py [--contacts 10000] [--window 100] [--seconds 10] [--rounds 1]
                          [--sync-only] [--keep DIR]

The contacts are loaded with SQL (INSERT ... SELECT, the rows the store writes for a Sync Add)
so that setting up 10,000 takes seconds.  Prints figures; not part of the test suite.
"""
import argparse
import base64
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "t", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "t", "e2e"))
import bench_sync  # noqa: E402
import mailtools  # noqa: E402
import zxinstance  # noqa: E402
from easclient import EASClient, encode, from_xml  # noqa: E402

ACCOUNT, PASSWORD = bench_sync.ACCOUNT, bench_sync.PASSWORD


def load_contacts(inst, n, seed=1):
    rnd = random.Random(seed)
    photos = [base64.b64encode(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(3000, 9000))))
              .decode() for _ in range(16)]
    psql = lambda q, *args: mailtools.sql(inst, q, *args)  # noqa: E731
    acct = mailtools.account_id(inst, ACCOUNT)
    folder = psql("SELECT id FROM folders WHERE account_id = %s AND type = 9 AND system",
                  acct)[0][0]
    # the folder's modseqs n ahead, then n items at the modseqs in between, one per contact
    base = int(psql("UPDATE folders SET modseq = modseq + %s WHERE id = %s RETURNING modseq - %s",
                    n, folder, n)[0][0])
    psql("INSERT INTO items (account_id, folder_id, modseq, created_modseq, item_class, size, "
         "read, subject, received) SELECT %s, %s, %s + g, %s + g, 'Contacts', 9000, true, "
         "'Person ' || g, now() - g * interval '1 second' FROM generate_series(1, %s) g",
         acct, folder, base, base, n)
    psql("CREATE TABLE IF NOT EXISTS bench_photos (i int, pic text)")
    for i, ph in enumerate(photos):
        psql("INSERT INTO bench_photos VALUES (%s, %s)", i, ph)
    psql("INSERT INTO contacts (item_id, account_id, first_name, last_name, file_as, "
         "company_name, job_title, department, email1, email2, mobile_phone, business_phone, "
         "home_phone, business_street, business_city, business_postal_code, business_country, "
         "home_street, home_city, birthday, categories, web_page, nickname, im_address, "
         "body, body_type, picture) "
         "SELECT i.id, i.account_id, 'First' || i.id, 'Last' || i.id, 'Last' || i.id || ', First', "
         "'Company ' || mod(i.id, 300), 'Engineer', 'R&D', 'p' || i.id || '@example.org', "
         "'p' || i.id || '@home.example', '+39 333 ' || i.id, '+39 02 ' || i.id, "
         "'+39 06 ' || i.id, 'Via Roma ' || mod(i.id, 200), 'Milano', '20100', 'Italy', "
         "'Via Po ' || mod(i.id, 90), 'Torino', timestamptz '1980-01-01' + mod(i.id, 9000) * "
         "interval '1 day', ARRAY['Work', 'Friends'], 'https://example.org/' || i.id, "
         "'Nick' || i.id, 'p' || i.id || '@im.example', 'Met at the conference, call back.', 1, "
         "(SELECT pic FROM bench_photos p WHERE p.i = mod(i.id, 16)) "
         "FROM items i WHERE i.folder_id = %s AND i.item_class = 'Contacts' AND NOT EXISTS "
         "(SELECT 1 FROM contacts c WHERE c.item_id = i.id)", folder)
    psql("DROP TABLE bench_photos")
    psql("ANALYZE items, contacts")
    return folder


def initial_sync(inst, folder, window):
    c = EASClient(inst.url, ACCOUNT, PASSWORD, "benchdev%d" % (int(time.time() * 1000) % 10**8),
                  "Bench", protocol="14.1")
    c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>')
    body = ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
            '<CollectionId>%s</CollectionId>%s</Collection></Collections></Sync>')
    opts = ('<WindowSize>%d</WindowSize><Options><BodyPreference xmlns="AirSyncBase:"><Type>1'
            '</Type><TruncationSize>32768</TruncationSize></BodyPreference></Options>' % window)
    key = c.post("Sync", body % ("0", folder, "")).wbxml.findtext("Collections/Collection/SyncKey")
    items, rounds, nbytes = 0, 0, 0
    pids = bench_sync.server_pids(inst)
    pg = bench_sync.postgres_pids(pids)
    cpu0, pg0, t0 = bench_sync.cpu_seconds(pids), bench_sync.cpu_seconds(pg), time.time()
    while True:
        r = c.post("Sync", body % (key, folder, opts))
        nbytes += len(r.body)
        coll = r.wbxml.find("Collections/Collection")
        key = coll.findtext("SyncKey")
        adds = coll.findall("Commands/Add")
        items += len(adds)
        rounds += 1
        if coll.find("MoreAvailable") is None:
            break
    wall = time.time() - t0
    cpu = bench_sync.cpu_seconds(bench_sync.server_pids(inst)) - cpu0
    pgcpu = bench_sync.cpu_seconds(pg) - pg0
    assert adds and adds[-1].find("ApplicationData/Picture") is not None
    return items, rounds, wall, cpu, pgcpu, nbytes


def quiet_devices(inst, folder, n):
    """n devices that have synced the whole Contacts folder: (query, FolderSync, Sync) whose
    Sync answer is "no change"."""
    out = []
    body = ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
            '<CollectionId>%s</CollectionId>%s</Collection></Collections></Sync>')
    for i in range(n):
        dev = "contactsdev%02d" % i
        c = EASClient(inst.url, ACCOUNT, PASSWORD, dev, "Bench", protocol="14.1")
        hkey = c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey>'
                      '</FolderSync>').wbxml.findtext("SyncKey")
        key = c.post("Sync", body % ("0", folder, "")).wbxml.findtext(
            "Collections/Collection/SyncKey")
        while True:
            r = c.post("Sync", body % (key, folder, "<WindowSize>512</WindowSize>"))
            if not r.body:
                break
            coll = r.wbxml.find("Collections/Collection")
            key = coll.findtext("SyncKey")
            if coll.find("MoreAvailable") is None and coll.find("Commands") is None:
                break
        assert not c.post("Sync", body % (key, folder, "")).body, "no-change Sync was not empty"
        q = ("/Microsoft-Server-ActiveSync?Cmd=%s&User=" + ACCOUNT + "&DeviceId=" + dev +
             "&DeviceType=Bench")
        out.append((q, encode(from_xml('<FolderSync xmlns="FolderHierarchy:"><SyncKey>%s'
                                       '</SyncKey></FolderSync>' % hkey)),
                    encode(from_xml(body % (key, folder, "")))))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--contacts", type=int, default=10000)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=1, help="initial syncs to run (a)")
    ap.add_argument("--sync-only", action="store_true", help="stop after (a)")
    ap.add_argument("--keep", help="state directory to use and keep")
    a = ap.parse_args()
    d = a.keep or tempfile.mkdtemp(prefix="zxbench-contacts-")
    inst = zxinstance.Instance(d, zxinstance.free_port(), log_level="warn", durable=False)
    inst.up()
    try:
        zx = inst.zxsuite_run
        zx("prov", "createDomain", "bench.test", check=False)
        zx("prov", "createAccount", ACCOUNT, PASSWORD, "zimbraFeatureMobileSyncEnabled", "TRUE",
           check=False)
        c = EASClient(inst.url, ACCOUNT, PASSWORD, "benchsetup", "Bench", protocol="14.1")
        c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey>'
               '</FolderSync>')
        t0 = time.time()
        folder = load_contacts(inst, a.contacts)
        print("loaded %d contacts with photos: %.1f s; table size %s" % (
            a.contacts, time.time() - t0,
            mailtools.sql(inst, "SELECT pg_size_pretty(pg_total_relation_size('contacts'))")[0][0]))
        print("machine: %d cores" % os.cpu_count())
        for _ in range(a.rounds):
            items, rounds, wall, cpu, pgcpu, nbytes = initial_sync(inst, folder, a.window)
            print("(a) initial sync of Contacts, WindowSize %d, 14.1: %d items in %d round "
                  "trips, %.1f MB of WBXML, %.2f s wall, server CPU %.2f s = %.3f ms per item "
                  "(PostgreSQL %.3f)" % (a.window, items, rounds, nbytes / 1e6, wall, cpu,
                                         1000 * cpu / max(items, 1), 1000 * pgcpu / max(items, 1)))
        if a.sync_only:
            return
        if not shutil.which("wrk"):
            sys.exit("wrk is not installed (apt-get install wrk)")
        devices = quiet_devices(inst, folder, 16)
        status, stmts = bench_sync.statements(inst, devices, "Sync")
        print("(b) no-change Sync of Contacts (HTTP %d): %d database statements%s" % (
            status, len(stmts), " (answered from the answer cache)" if not stmts else ""))
        for s in stmts:
            print("        " + s[:110])
        for conns in (1, 16):
            bench_sync.wrk_run(inst, devices, "Sync", conns, 2)
            rps, p99, bad, cpu_ms, pg_ms = bench_sync.wrk_run(inst, devices, "Sync", conns,
                                                              a.seconds)
            if bad:
                sys.exit("%d answers were not 2xx: the figures would be wrong" % bad)
            print("    no-change Sync c=%-3d %8.0f req/s   p99 %-8s server CPU %.3f ms/req "
                  "(PostgreSQL %.3f)" % (conns, rps, p99, cpu_ms, pg_ms))
    finally:
        if not a.keep:
            inst.down()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
