#!/usr/bin/python3
"""Calendar sync benchmark against the real httpd + PostgreSQL (a private instance).

(a) initial sync of N events (default 5,000; a third of them weekly series in
    America/New_York with two exceptions each, the others single events with attendees),
    WindowSize 100, protocol 14.1: wall time and server CPU per item (user+system time of the
    httpd and PostgreSQL processes, from /proc: the client's own CPU is not counted);
(b) a 10-year calendar (default 10 events a day, 36,500 events) synced by a device with
    FilterType 4 (two weeks back): the events sent, and the rows PostgreSQL read from items,
    calendar and calendar_exceptions for the whole initial sync (pg_stat_user_tables:
    sequential and index tuples), against the size of the calendar.

  bench/bench_calendar.py [--events 5000] [--years 10] [--per-day 10] [--window 100]
                          [--keep DIR]

The events are loaded with SQL (the rows the store writes for a Sync Add, the window key of a
series - the end of its last occurrence - computed by PostgreSQL in the series' zone), so that
setting up takes seconds.  Prints figures; not part of the test suite.
"""
import argparse
import os
import shutil
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
from easclient import EASClient  # noqa: E402

ACCOUNT, PASSWORD = bench_sync.ACCOUNT, bench_sync.PASSWORD
ATT = "\x1f".join(["bob@example.com", "Bob Example", "3", "1"])


def psql(inst, q, *args):
    return mailtools.sql(inst, q, *args)


def calendar_folder(inst):
    acct = mailtools.account_id(inst, ACCOUNT)
    return acct, psql(inst, "SELECT id FROM folders WHERE account_id = %s AND type = 8 AND "
                      "system", acct)[0][0]


def load_events(inst, n, first, step_minutes, recurring_every):
    """n events from first (a timestamptz literal), one every step_minutes; every
    recurring_every-th one (0: none) a weekly series of 20 in New York with two exceptions."""
    acct, folder = calendar_folder(inst)
    base = int(psql(inst, "UPDATE folders SET modseq = modseq + %s WHERE id = %s "
                    "RETURNING modseq - %s", n, folder, n)[0][0])
    rec = "mod(g, %d) = 0" % recurring_every if recurring_every else "false"
    # the items first (window key: the end of the last occurrence), then their calendar rows
    psql(inst,
         "INSERT INTO items (account_id, folder_id, modseq, created_modseq, item_class, size, "
         "read, subject, received) SELECT %s::bigint, %s::bigint, %s::bigint + g, "
         "%s::bigint + g, 'Calendar', 2000, true, "
         "'Event ' || g, CASE WHEN " + rec + " THEN "
         "  ((s AT TIME ZONE 'America/New_York') + interval '19 weeks') AT TIME ZONE "
         "  'America/New_York' + interval '1 hour' ELSE s + interval '1 hour' END "
         "FROM generate_series(1, %s::int) g, LATERAL (SELECT timestamptz " + "'" + first + "'"
         " + g * interval '" + str(step_minutes) + " minutes' AS s) t",
         acct, folder, base, base, n)
    recq = "mod(q.g, %d) = 0" % recurring_every if recurring_every else "false"
    psql(inst,
         "INSERT INTO calendar (item_id, account_id, tzid, all_day, busy_status, "
         "organizer_name, organizer_email, dtstamp, start_time, end_time, location, reminder, "
         "sensitivity, subject, uid, meeting_status, attendees, categories, rec_type, "
         "rec_occurrences, rec_interval, rec_day_of_week, last_end, body, body_type) "
         "SELECT i.id, i.account_id, 'America/New_York', false, 2, 'Ann Organizer', "
         "'ann@example.com', now(), q.s, q.s + interval '1 hour', 'Room ' || mod(i.id, 40), 15, "
         "0, i.subject, 'uid-' || i.id, 1, ARRAY[%s, 'carol@example.com' || chr(31) || 'Carol' "
         "|| chr(31) || '0' || chr(31) || '2'], ARRAY['Work'], r.t, r.o, r.t, r.d, i.received, "
         "'Agenda of the meeting, with a few lines of text about what to prepare.', 1 "
         "FROM items i, LATERAL (SELECT i.modseq - %s::bigint AS g, timestamptz '" + first + "' + "
         "  (i.modseq - %s::bigint) * interval '" + str(step_minutes) + " minutes' AS s) q, "
         "LATERAL (SELECT CASE WHEN " + recq + " THEN 1 END AS t, CASE WHEN " + recq +
         "  THEN 20 END AS o, CASE WHEN " + recq + " THEN (1 << extract(dow FROM q.s AT TIME "
         "  ZONE 'America/New_York')::int) END AS d) r "
         "WHERE i.folder_id = %s AND i.modseq > %s::bigint AND i.modseq <= %s::bigint + %s::bigint",
         ATT, base, base, folder, base, base, n)
    psql(inst,
         "INSERT INTO calendar_exceptions (item_id, account_id, exception_start, deleted) "
         "SELECT c.item_id, c.account_id, c.start_time + interval '1 week', true FROM calendar c "
         "WHERE c.rec_type IS NOT NULL AND c.account_id = %s ON CONFLICT DO NOTHING", acct)
    psql(inst,
         "INSERT INTO calendar_exceptions (item_id, account_id, exception_start, subject, "
         "start_time, end_time) SELECT c.item_id, c.account_id, "
         "c.start_time + interval '3 weeks', 'Moved', c.start_time + interval '3 weeks 1 day', "
         "c.end_time + interval '3 weeks 1 day' FROM calendar c WHERE c.rec_type IS NOT NULL "
         "AND c.account_id = %s ON CONFLICT DO NOTHING", acct)
    psql(inst, "ANALYZE items, calendar, calendar_exceptions")
    return folder


def rows_read(inst):
    psql(inst, "SELECT pg_stat_clear_snapshot()")
    r = psql(inst, "SELECT coalesce(sum(seq_tup_read), 0) + coalesce(sum(idx_tup_fetch), 0) "
             "FROM pg_stat_user_tables WHERE relname IN ('items', 'calendar', "
             "'calendar_exceptions')")
    return int(r[0][0])


def initial_sync(inst, folder, window, filter_type=None):
    c = EASClient(inst.url, ACCOUNT, PASSWORD, "benchdev%d" % (int(time.time() * 1000) % 10**8),
                  "Bench", protocol="14.1")
    c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>')
    body = ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
            '<CollectionId>%s</CollectionId>%s</Collection></Collections></Sync>')
    opts = "<WindowSize>%d</WindowSize><Options>" % window
    if filter_type is not None:
        opts += "<FilterType>%d</FilterType>" % filter_type
    opts += ('<BodyPreference xmlns="AirSyncBase:"><Type>1</Type><TruncationSize>32768'
             '</TruncationSize></BodyPreference></Options>')
    key = c.post("Sync", body % ("0", folder, opts)).wbxml.findtext(
        "Collections/Collection/SyncKey")
    items, rounds, nbytes = 0, 0, 0
    pids = bench_sync.server_pids(inst)
    pg = bench_sync.postgres_pids(pids)
    time.sleep(1.2)
    read0 = rows_read(inst)
    cpu0, pg0, t0 = bench_sync.cpu_seconds(pids), bench_sync.cpu_seconds(pg), time.time()
    exceptions = 0
    while True:
        r = c.post("Sync", body % (key, folder, opts))
        if not r.body:
            break
        nbytes += len(r.body)
        coll = r.wbxml.find("Collections/Collection")
        key = coll.findtext("SyncKey")
        adds = coll.findall("Commands/Add")
        items += len(adds)
        exceptions += sum(1 for a in adds if a.find("ApplicationData/Exceptions") is not None)
        rounds += 1
        if coll.find("MoreAvailable") is None:
            break
    wall = time.time() - t0
    cpu = bench_sync.cpu_seconds(bench_sync.server_pids(inst)) - cpu0
    pgcpu = bench_sync.cpu_seconds(pg) - pg0
    time.sleep(1.2)     # PostgreSQL flushes its table statistics at most every second
    read = rows_read(inst) - read0
    return items, rounds, wall, cpu, pgcpu, nbytes, read, exceptions


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--per-day", type=int, default=10)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--keep", help="state directory to use and keep")
    a = ap.parse_args()
    d = a.keep or tempfile.mkdtemp(prefix="zxbench-calendar-")
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
        print("machine: %d cores" % os.cpu_count())
        t0 = time.time()
        folder = load_events(inst, a.events, "2026-01-05 14:00+00", 60 * 7, 3)
        series = psql(inst, "SELECT count(*) FROM calendar WHERE rec_type IS NOT NULL")[0][0]
        print("loaded %d events (%s weekly series with 2 exceptions each): %.1f s" % (
            a.events, series, time.time() - t0))
        items, rounds, wall, cpu, pgcpu, nbytes, read, exc = initial_sync(inst, folder,
                                                                          a.window)
        print("(a) initial sync of Calendar, WindowSize %d, 14.1: %d items (%d with "
              "exceptions) in %d round trips, %.1f MB of WBXML, %.2f s wall, server CPU %.2f s "
              "= %.3f ms per item (PostgreSQL %.3f)" % (
                  a.window, items, exc, rounds, nbytes / 1e6, wall, cpu,
                  1000 * cpu / max(items, 1), 1000 * pgcpu / max(items, 1)))
        # (b) a fresh calendar of a.years years ending about now
        psql(inst, "DELETE FROM items WHERE item_class = 'Calendar'")
        n = a.years * 365 * a.per_day
        first = time.strftime("%Y-%m-%d 00:00+00", time.gmtime(time.time() -
                                                               a.years * 365 * 86400))
        t0 = time.time()
        folder = load_events(inst, n, first, 24 * 60 // a.per_day, 0)
        print("loaded a %d-year calendar: %d events: %.1f s" % (a.years, n, time.time() - t0))
        items, rounds, wall, cpu, pgcpu, nbytes, read, _ = initial_sync(inst, folder, a.window,
                                                                        filter_type=4)
        print("(b) FilterType 4 (two weeks) over it: %d events sent in %d round trips, "
              "%.2f s wall, server CPU %.3f s; rows read by PostgreSQL (items, calendar, "
              "exceptions): %d for the whole initial sync (%.1f per event sent; the calendar "
              "has %d)" % (items, rounds, wall, cpu, read, read / max(items, 1), n))
    finally:
        if not a.keep:
            inst.down()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
