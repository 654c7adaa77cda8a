#!/usr/bin/python3
"""Mailbox search benchmark against the real httpd + PostgreSQL (a private instance).

An account with N messages (default 100,000) loaded with SQL (the rows delivery writes: a
message, its item), bodies of 40 words drawn from a 20,000-word vocabulary with a Zipf-like
skew (word 0 is in nearly every message), 500 senders, a rare word in 10 messages.  The mailbox
is then marked as stored before migration 024 so that the store's backfill builds the search
vectors (timed: the path an upgraded server takes), then

  Search Store=Mailbox, 14.1, Range 0-9 (BodyPreference plain text truncated at 512 bytes):
    rare word, common word, sender (from:"s42@example.org"), common word page 10 (Range 100-109)
  Find, 16.1, the iOS query form, Range 0-99, for the rare word

p50 / p99 latency seen by the client (HTTP round trip, keep-alive) over --rounds requests of
each, and the statements PostgreSQL runs for one Search request.

  bench/bench_search.py [--messages 100000] [--rounds 200] [--keep DIR]

Prints figures; not part of the test suite.
"""
import argparse
import http.client
import base64
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "t", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "t", "e2e"))
import mailtools  # noqa: E402
import zxinstance  # noqa: E402
from easclient import EASClient, encode, from_xml  # noqa: E402

ACCOUNT, PASSWORD = "bench@bench.test", "Bench-Pw-1"
NS = ('xmlns="Search:" xmlns:airsync="AirSync:" xmlns:email="Email:" '
      'xmlns:airsyncbase="AirSyncBase:"')
RARE = "zebrafish"


def load(inst, n):
    psql = lambda q, *args: mailtools.sql(inst, q, *args)  # noqa: E731
    acct = mailtools.account_id(inst, ACCOUNT)
    folder = psql("SELECT id FROM folders WHERE account_id = %s AND type = 2 AND system",
                  acct)[0][0]
    psql("DROP TABLE IF EXISTS bench_words")
    psql("CREATE TABLE bench_words AS SELECT i, substr(md5('w' || i), 1, 8) AS w "
         "FROM generate_series(0, 19999) i")
    psql("ALTER TABLE bench_words ADD PRIMARY KEY (i)")
    # messages: 40 words each, word k with probability ~ 1/k (index 20000^u - 1)
    psql("INSERT INTO messages (account_id, mime, text_plain, preview) "
         "SELECT %s, convert_to('Subject: bench ' || g, 'UTF8'), "
         "  (SELECT string_agg(bw.w, ' ') FROM (SELECT floor(power(20000, random()))::int - 1 "
         "    AS idx FROM generate_series(1, 40 + 0 * g) k) r JOIN bench_words bw ON bw.i = r.idx) "
         "  || CASE WHEN g %% (%s / 10) = 0 THEN ' " + RARE + "' ELSE '' END, "
         "  'bench:' || g FROM generate_series(1, %s) g", acct, n, n)
    base = int(psql("UPDATE folders SET modseq = modseq + %s WHERE id = %s RETURNING modseq - %s",
                    n, folder, n)[0][0])
    psql("INSERT INTO items (account_id, folder_id, modseq, created_modseq, message_id, "
         "item_class, size, read, subject, from_addr, to_addr, received) "
         "SELECT %s, %s, %s + g, %s + g, m.id, 'Email', 2000, true, "
         "  'Report ' || substr(m.text_plain, 1, 26), "
         "  'Sender ' || (g %% 500) || ' <s' || (g %% 500) || '@example.org>', %s, "
         "  now() - g * interval '1 minute' "
         "FROM messages m, LATERAL (SELECT substr(m.preview, 7)::int AS g) x "
         "WHERE m.account_id = %s AND m.preview LIKE 'bench:%%'", acct, folder, base, base,
         ACCOUNT, acct)
    psql("UPDATE messages SET preview = '' WHERE account_id = %s AND preview LIKE 'bench:%%'",
         acct)
    psql("DROP TABLE bench_words")
    # as if stored before migration 024: the backfill builds the vectors
    psql("DELETE FROM message_search WHERE account_id = %s", acct)
    psql("UPDATE mailboxes SET search_backfill = true WHERE account_id = %s", acct)
    psql("ANALYZE messages, items")
    return folder, psql("SELECT substr(md5('w0'), 1, 8)")[0][0]


def search_xml(query, rng="0-9"):
    return ("<Search %s><Store><Name>Mailbox</Name><Query><And><airsync:Class>Email"
            "</airsync:Class><FreeText>%s</FreeText></And></Query><Options><Range>%s</Range>"
            "<airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type>"
            "<airsyncbase:TruncationSize>512</airsyncbase:TruncationSize>"
            "</airsyncbase:BodyPreference></Options></Store></Search>" % (NS, query, rng))


def find_xml(word, folder):
    q = 'to:"%s" OR cc:"%s" OR from:"%s" OR subject:"%s" OR "%s"' % ((word,) * 5)
    return ('<Find xmlns="Find:" xmlns:airsync="AirSync:"><SearchId>B1</SearchId>'
            '<ExecuteSearch><MailBoxSearchCriterion><Query><airsync:Class>Email</airsync:Class>'
            '<airsync:CollectionId>%s</airsync:CollectionId><FreeText>%s</FreeText></Query>'
            '<Options><Range>0-99</Range><DeepTraversal/></Options></MailBoxSearchCriterion>'
            '</ExecuteSearch></Find>' % (folder, q))


class Raw:
    """Keep-alive POSTs of pre-encoded bodies (the client's own cost kept out of the figures)."""
    def __init__(self, inst, protocol):
        self.conn = http.client.HTTPConnection("127.0.0.1", inst.port)
        self.headers = {
            "Authorization": "Basic " + base64.b64encode(
                ("%s:%s" % (ACCOUNT, PASSWORD)).encode()).decode(),
            "MS-ASProtocolVersion": protocol, "Content-Type": "application/vnd.ms-sync.wbxml",
            "User-Agent": "bench"}
        self.protocol = protocol

    def post(self, cmd, body):
        q = ("/Microsoft-Server-ActiveSync?Cmd=%s&User=%s&DeviceId=benchsearch&DeviceType=Bench"
             % (cmd, ACCOUNT))
        self.conn.request("POST", q, body=body, headers=self.headers)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, data


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def timed(raw, cmd, body, rounds):
    lat = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        status, _ = raw.post(cmd, body)
        lat.append((time.perf_counter() - t0) * 1000)
        assert status == 200, status
    return pct(lat, 0.5), pct(lat, 0.99)


def statements(inst, raw, cmd, body):
    inst._psql(zxinstance.DB_NAME, "ALTER SYSTEM SET log_min_duration_statement = 0")
    inst._psql(zxinstance.DB_NAME, "SELECT pg_reload_conf()")
    time.sleep(0.3)
    try:
        raw.post(cmd, body)
        mark = os.path.getsize(inst.pg_log)
        raw.post(cmd, body)
        time.sleep(0.3)
        with open(inst.pg_log, errors="replace") as f:
            f.seek(mark)
            lines = f.read().splitlines()
    finally:
        inst._psql(zxinstance.DB_NAME, "ALTER SYSTEM RESET log_min_duration_statement")
        inst._psql(zxinstance.DB_NAME, "SELECT pg_reload_conf()")
    out = []
    for line in lines:
        m = re.search(r"(?:execute [^:]*|statement): (.*)$", line)
        if m and "ALTER SYSTEM" not in line and "pg_reload_conf" not in line:
            out.append(re.sub(r"\s+", " ", m.group(1))[:110])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--keep", help="state directory to use and keep")
    a = ap.parse_args()
    d = a.keep or tempfile.mkdtemp(prefix="zxbench-search-")
    inst = zxinstance.Instance(d, zxinstance.free_port(), log_level="warn", durable=False)
    inst.up()
    try:
        zx = inst.zxsuite_run
        zx("prov", "createDomain", "bench.test", check=False)
        zx("prov", "createAccount", ACCOUNT, PASSWORD, "zimbraFeatureMobileSyncEnabled", "TRUE",
           check=False)
        c = EASClient(inst.url, ACCOUNT, PASSWORD, "benchsearch", "Bench", protocol="14.1")
        c.post("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey>'
               '</FolderSync>')
        t0 = time.time()
        folder, common = load(inst, a.messages)
        print("loaded %d messages with SQL: %.1f s" % (a.messages, time.time() - t0))
        print("machine: %d cores" % os.cpu_count())
        raw = Raw(inst, "14.1")
        t0 = time.time()
        n = 0
        while mailtools.sql(inst, "SELECT search_backfill FROM mailboxes WHERE account_id = %s",
                            mailtools.account_id(inst, ACCOUNT))[0][0] == "t":
            raw.post("Search", encode(from_xml(search_xml(RARE))))
            n += 1
        took = time.time() - t0
        size = mailtools.sql(inst, "SELECT pg_size_pretty(pg_total_relation_size("
                             "'message_search')), count(*) FROM message_search")[0]
        print("backfill of the vectors by %d searches: %.1f s (%.0f messages/s); "
              "message_search with its indexes: %s, %s rows" % (
                  n, took, a.messages / max(took, 1e-9), size[0], size[1]))
        mailtools.sql(inst, "VACUUM ANALYZE message_search")
        cases = [
            ("baseline: Search of Class Tasks (no search statement)", "Search",
             search_xml(RARE).replace("<airsync:Class>Email", "<airsync:Class>Tasks")),
            ("rare word (%s, 10 hits)" % RARE, "Search", search_xml(RARE)),
            ("common word (%s, in most messages)" % common, "Search", search_xml(common)),
            ("sender (from:\"s42@example.org\", %d hits)" % (a.messages // 500), "Search",
             search_xml('from:"s42@example.org"')),
            ("common word, page 11 (Range 100-109)", "Search", search_xml(common, "100-109")),
        ]
        print("Search Store=Mailbox, 14.1, Range 0-9 unless said, %d rounds each:" % a.rounds)
        for label, cmd, xml in cases:
            body = encode(from_xml(xml))
            raw.post(cmd, body)          # warm
            p50, p99 = timed(raw, cmd, body, a.rounds)
            print("  %-52s p50 %6.1f ms  p99 %6.1f ms" % (label, p50, p99))
        raw16 = Raw(inst, "16.1")
        body = encode(from_xml(find_xml(RARE, folder)))
        raw16.post("Find", body)
        p50, p99 = timed(raw16, "Find", body, a.rounds)
        print("  %-52s p50 %6.1f ms  p99 %6.1f ms" % ("Find, 16.1, iOS query form, rare word",
                                                      p50, p99))
        body = encode(from_xml(find_xml(common, folder)))
        raw16.post("Find", body)
        p50, p99 = timed(raw16, "Find", body, a.rounds)
        print("  %-52s p50 %6.1f ms  p99 %6.1f ms" % ("Find, 16.1, iOS query form, common word",
                                                      p50, p99))
        stmts = statements(inst, raw, "Search", encode(from_xml(search_xml(RARE))))
        print("statements of one Search (rare word): %d" % len(stmts))
        for s in stmts:
            print("    " + s)
    finally:
        inst.down()


if __name__ == "__main__":
    main()
