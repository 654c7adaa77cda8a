"""zxsuite contacts|tasks|notes import/export against the real store: a vCard with every
contact field and a VTODO file go in, come out (vCard 4.0 / iCalendar) and go in again into a
second account, and the stored rows of both are compared column by column; unreadable records
are reported one by one and skipped, a file with none readable imports nothing; a folder of
another class is refused; --json."""

import json
import os
import re
import subprocess
import uuid

import pytest

import zxinstance

FIXTURES = os.path.join(zxinstance.SRC_DIR, "t", "fixtures", "pim")


def run(instance, *args):
    env = dict(os.environ)
    env["ZXMOBILE_DB"] = instance.conninfo
    env["ZXMOBILE_SQLDIR"] = os.path.join(zxinstance.SRC_DIR, "sql")
    return subprocess.run([instance.zxsuite] + list(args), env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


def new_account(instance):
    dom = "pim%s.example" % uuid.uuid4().hex[:8]
    instance.zxsuite_run("prov", "createDomain", dom)
    name = "user@" + dom
    instance.zxsuite_run("prov", "createAccount", name, "")
    return name


@pytest.fixture
def account(instance):
    return new_account(instance)


def rows(instance, account, table):
    """The class rows of the account's live items (every column but the ids), in item order."""
    local, dom = account.split("@")
    out = instance.psql(
        "SELECT (to_jsonb(t) - 'item_id' - 'account_id')::text FROM %s t "
        "JOIN items i ON i.id = t.item_id JOIN accounts a ON a.id = t.account_id "
        "JOIN domains d ON d.id = a.domain_id WHERE a.local_part = '%s' AND d.name = '%s' "
        "AND NOT i.deleted ORDER BY t.item_id" % (table, local, dom))
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def unfold(text):
    """Content lines of a vCard/iCalendar text: (name with params, value)."""
    text = re.sub(r"\r?\n[ \t]", "", text)
    out = []
    for line in text.splitlines():
        if line:
            head, _, value = line.partition(":")
            out.append((head, value))
    return out


def blocks(text, name):
    """The content lines of each BEGIN:name ... END:name."""
    res, cur = [], None
    for head, value in unfold(text):
        if head == "BEGIN" and value == name:
            cur = []
        elif head == "END" and value == name:
            res.append(cur)
            cur = None
        elif cur is not None:
            cur.append((head, value))
    return res


def test_contacts_round_trip_every_field(instance, account, tmp_path):
    src = os.path.join(FIXTURES, "all_fields_30.vcf")
    p = run(instance, "contacts", "import", account, src)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "imported 1 contact into Contacts of %s" % account
    assert p.stderr == ""
    first = rows(instance, account, "contacts")
    assert len(first) == 1
    row = first[0]
    # the file fills every column of the table
    assert [k for k, v in row.items() if v in (None, [], "")] == []
    assert row["last_name"] == "Müller" and row["title"] == "Dr." and row["suffix"] == "PhD"
    assert row["file_as"] == "Müller, Anna"
    assert row["department"] == "Research; Development"
    assert row["email1"] == "anna.mueller@example.com"       # TYPE=PREF first
    assert row["home_street"] == "Gartenweg 2\nHinterhaus"
    assert row["categories"] == ["Work", "VIP", "Research, Lab"]
    assert row["children"] == ["Clara", "David"]
    assert row["birthday"].startswith("1985-04-12T00:00:00")
    assert row["body"] == "First line\nsecond line with ; and , and \\ backslash"
    assert row["body_type"] == 1

    out = tmp_path / "out.vcf"
    p = run(instance, "contacts", "export", account, "--output", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("exported 1 contact from Contacts")
    text = out.read_bytes().decode("utf-8")
    assert "\r\n" in text and all(len(l.encode()) <= 75 for l in text.split("\r\n"))
    card = blocks(text, "VCARD")
    assert len(card) == 1
    props = dict((h, v) for h, v in card[0] if h not in ("TEL", "EMAIL", "IMPP"))
    assert props["VERSION"] == "4.0"
    assert props["N"] == "Müller;Anna;Maria;Dr.;PhD"
    assert props["FN"] == "Müller\\, Anna"
    assert props["BDAY"] == "19850412" and props["ANNIVERSARY"] == "20100619"
    assert props["ORG"] == "Example GmbH;Research\\; Development"
    assert props["PHOTO"].startswith("data:image/jpeg;base64,/9j/")
    assert ("TEL;TYPE=work,voice", "+49 30 2222") in card[0]
    # the same on stdout
    p = run(instance, "contacts", "export", account)
    assert p.returncode == 0
    assert p.stdout.replace("\n", "") == text.replace("\n", "").replace("\r", "")

    # and back in: every column the same
    other = new_account(instance)
    p = run(instance, "contacts", "import", other, str(out))
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert rows(instance, other, "contacts") == first


def test_tasks_round_trip(instance, account, tmp_path):
    src = os.path.join(FIXTURES, "tasks.ics")
    p = run(instance, "tasks", "import", account, src)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "imported 3 tasks into Tasks of %s" % account
    first = rows(instance, account, "tasks")
    assert len(first) == 3
    t1, t2, t3 = first
    assert t1["subject"] == "Quarterly report, draft" and t1["importance"] == 2
    assert t1["sensitivity"] == 3 and t1["categories"] == ["Work", "Reports"]
    assert t1["rec_type"] == 3 and t1["rec_interval"] == 3 and t1["rec_week_of_month"] == 2
    assert t1["rec_day_of_week"] == 4 and t1["rec_occurrences"] == 8
    assert t1["reminder_set"] is True and t1["reminder_time"].startswith("2026-12-07T08:00:00")
    # a TZID time: the wall clock as the local date, the instant as the UTC one
    assert t2["start_date"].startswith("2026-12-08T14:30:00")
    assert t2["utc_start_date"].startswith("2026-12-08T13:30:00")
    assert t2["complete"] is True and t2["date_completed"].startswith("2026-12-08T17:00:00")
    assert t2["rec_type"] == 1 and t2["rec_day_of_week"] == 2 + 8 + 32
    assert t2["reminder_time"].startswith("2026-12-08T13:00:00")     # 30 minutes before
    assert t3["rec_type"] == 5 and t3["rec_month_of_year"] == 4 and t3["rec_day_of_month"] == 12

    out = tmp_path / "out.ics"
    p = run(instance, "tasks", "export", account, "Tasks", "--output", str(out))
    assert p.returncode == 0, p.stderr
    exported = blocks(out.read_text(), "VTODO")
    original = blocks(open(src).read(), "VTODO")
    assert len(exported) == len(original) == 3

    def fields(todo):
        d = {}
        for h, v in todo:
            if h in ("UID", "DTSTAMP", "DESCRIPTION") or h.startswith(("BEGIN", "END", "ACTION")):
                continue
            if h == "RRULE":
                v = ";".join(sorted(v.split(";")))
            if h == "CATEGORIES":
                d.setdefault(h, []).extend(v.split(","))
                continue
            d.setdefault(h, v)
        return d

    for o, e in zip(original, exported):
        fo, fe = fields(o), fields(e)
        if "DTSTART;TZID=Europe/Berlin" in fo:         # the same wall clock at a fixed offset
            fo["DTSTART;TZID=UTC+0100"] = fo.pop("DTSTART;TZID=Europe/Berlin")
        if fo.get("TRIGGER") == "-PT30M":              # and a relative alarm as absolute
            del fo["TRIGGER"]
            fo["TRIGGER;VALUE=DATE-TIME"] = "20261208T130000Z"
        for k in ("RRULE",):
            fo[k] = fo[k].replace(";WKST=MO", "")
        fe.pop("DESCRIPTION", None)
        assert fe == fo

    other = new_account(instance)
    p = run(instance, "tasks", "import", other, str(out))
    assert p.returncode == 0, p.stderr
    assert rows(instance, other, "tasks") == first


def test_bad_records_are_reported_and_skipped(instance, account, tmp_path):
    f = tmp_path / "mixed.vcf"
    f.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nN:One;Ann\r\nEND:VCARD\r\n"
                 "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Two;Bob\r\nBDAY:yesterday\r\nEND:VCARD\r\n"
                 "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Three\r\nEMAIL:a@x\r\nEMAIL:b@x\r\n"
                 "EMAIL:c@x\r\nEMAIL:d@x\r\nEND:VCARD\r\n"
                 "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Four\r\n")
    p = run(instance, "--json", "contacts", "import", account, str(f))
    assert p.returncode == 0, p.stderr
    lines = p.stderr.splitlines()
    assert lines == [
        "zxsuite: %s: record 2 (line 5): skipped: line 8: BDAY: \"yesterday\" is not a date "
        "(YYYYMMDD, YYYY-MM-DD or --MMDD)" % f,
        "zxsuite: %s: record 3 (line 10): warning: EMAIL d@x dropped (a contact has 3)" % f,
        "zxsuite: %s: record 4 (line 18): skipped: no END:VCARD at the end of the file" % f,
    ]
    res = json.loads(p.stdout)["response"]
    assert res["imported"] == 2 and res["skipped"] == 2 and res["records"] == 4
    stored = rows(instance, account, "contacts")
    assert [r["last_name"] for r in stored] == ["One", None]
    assert stored[1]["file_as"] == "Three" and stored[1]["email3"] == "c@x"

    # nothing readable: nothing imported, and the command fails
    bad = tmp_path / "bad.vcf"
    bad.write_text("BEGIN:VCARD\r\nVERSION:5.0\r\nFN:X\r\nEND:VCARD\r\n")
    p = run(instance, "contacts", "import", account, str(bad))
    assert p.returncode != 0
    assert "record 1 (line 1): skipped: line 2: VERSION: version 5.0" in p.stderr
    assert "no record could be read; nothing imported" in p.stderr
    assert len(rows(instance, account, "contacts")) == 2
    p = run(instance, "contacts", "import", account, os.path.join(FIXTURES, "tasks.ics"))
    assert p.returncode != 0 and "no vCard in the file" in p.stderr


def test_folder_of_another_class_is_refused(instance, account):
    src = os.path.join(FIXTURES, "all_fields_30.vcf")
    p = run(instance, "contacts", "import", account, src, "Tasks")
    assert p.returncode != 0
    assert "Tasks is not a contact folder (it holds Tasks)" in p.stderr
    p = run(instance, "contacts", "import", account, src, "Nowhere")
    assert p.returncode != 0 and "no such folder" in p.stderr
    assert rows(instance, account, "contacts") == []


def test_notes_text_and_vjournal(instance, account, tmp_path):
    txt = tmp_path / "note.txt"
    txt.write_text("Shopping list\n\nmilk\nbread, butter; eggs\n")
    p = run(instance, "notes", "import", account, str(txt))
    assert p.returncode == 0, p.stderr
    first = rows(instance, account, "notes")
    assert len(first) == 1
    assert first[0]["subject"] == "Shopping list"
    assert first[0]["body"] == "milk\nbread, butter; eggs"
    out = tmp_path / "notes.ics"
    p = run(instance, "--json", "notes", "export", account, "--output", str(out))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["response"]["exported"] == 1
    p = run(instance, "--json", "notes", "export", account)
    res = json.loads(p.stdout)["response"]
    assert res["exported"] == 1 and res["folder"] == "Notes"
    assert ("SUMMARY", "Shopping list") in blocks(res["data"], "VJOURNAL")[0]
    j = blocks(out.read_text(), "VJOURNAL")
    assert len(j) == 1 and ("SUMMARY", "Shopping list") in j[0]
    other = new_account(instance)
    p = run(instance, "notes", "import", other, str(out))
    assert p.returncode == 0, p.stderr
    assert rows(instance, other, "notes") == first


def test_progress_bar_only_on_a_terminal(instance, account, tmp_path):
    import pty
    f = tmp_path / "many.vcf"
    f.write_text("".join("BEGIN:VCARD\r\nVERSION:3.0\r\nN:P%d;Q\r\nEND:VCARD\r\n" % i
                         for i in range(50)))
    env = dict(os.environ)
    env["ZXMOBILE_DB"] = instance.conninfo
    master, slave = pty.openpty()
    p = subprocess.Popen([instance.zxsuite, "contacts", "import", account, str(f)], env=env,
                         stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = p.stdout.read().decode()
    assert p.wait(timeout=60) == 0
    err = b"".join(chunks).decode()
    assert "\r[##############################] 100%  50/50 contacts" in err
    assert out == "imported 50 contacts into Contacts of %s\n" % account
    assert len(rows(instance, account, "contacts")) == 50


def test_a_store_failure_imports_nothing(instance, account, tmp_path):
    """The third of four contacts fails in the database (a trigger made for the test): the
    two before it are rolled back with it."""
    f = tmp_path / "four.vcf"
    f.write_text("".join("BEGIN:VCARD\r\nVERSION:3.0\r\nN:%s;Q\r\nEND:VCARD\r\n" % n
                         for n in ("A", "B", "Boom", "D")))
    fn = "zx_test_boom_%s" % uuid.uuid4().hex[:8]
    instance.psql("CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
                  "IF NEW.last_name = 'Boom' THEN RAISE EXCEPTION 'boom for the test'; END IF; "
                  "RETURN NEW; END$$; CREATE TRIGGER %s BEFORE INSERT ON contacts FOR EACH ROW "
                  "EXECUTE FUNCTION %s()" % (fn, fn, fn))
    try:
        p = run(instance, "contacts", "import", account, str(f))
    finally:
        instance.psql("DROP TRIGGER %s ON contacts; DROP FUNCTION %s()" % (fn, fn))
    assert p.returncode != 0
    assert "record 3 (line 9) could not be stored:" in p.stderr
    assert "boom for the test" in p.stderr and "nothing imported" in p.stderr
    assert rows(instance, account, "contacts") == []
    local, dom = account.split("@")
    assert instance.psql("SELECT count(*) FROM items i JOIN accounts a ON a.id = i.account_id "
                         "JOIN domains d ON d.id = a.domain_id WHERE a.local_part = '%s' AND "
                         "d.name = '%s'" % (local, dom)).strip() == "0"


def test_imported_items_reach_a_device(instance, tmp_path):
    """What the CLI imports is what a device then gets by Sync."""
    from mailtools import PASSWORD, zx
    from syncutil import Device
    dom = "pimdev%s.example" % uuid.uuid4().hex[:8]
    zx(instance, "prov", "createDomain", dom)
    acct = "user@" + dom
    zx(instance, "prov", "createAccount", acct, PASSWORD, "zimbraFeatureMobileSyncEnabled", "TRUE")
    assert run(instance, "contacts", "import", acct,
               os.path.join(FIXTURES, "all_fields_30.vcf")).returncode == 0
    assert run(instance, "tasks", "import", acct,
               os.path.join(FIXTURES, "tasks.ics")).returncode == 0
    d = Device(instance, acct, protocol="16.1", password=PASSWORD)
    try:
        d.foldersync()
        adds = [n for op, n in d.sync_all("Contacts") if op == "Add"]
        assert len(adds) == 1
        ad = adds[0].find("ApplicationData")
        props = {c.name: c.text for c in ad.children}
        assert props["FirstName"] == "Anna" and props["LastName"] == "Müller"
        assert props["FileAs"] == "Müller, Anna"
        assert props["Birthday"] == "1985-04-12T00:00:00.000Z"
        assert props["Business2PhoneNumber"] == "+49 30 2222"
        assert props["YomiFirstName"] == "アンナ" and props["GovernmentId"] == "GOV-123"
        assert props["Picture"].startswith("/9j/")
        assert [c.text for c in ad.find("Children").children] == ["Clara", "David"]
        todo = [n for op, n in d.sync_all("Tasks") if op == "Add"]
        subjects = sorted(t.find("ApplicationData").findtext("Subject") for t in todo)
        assert subjects == ["Birthday card", "Call the plumber", "Quarterly report, draft"]
        t1 = [t.find("ApplicationData") for t in todo
              if t.find("ApplicationData").findtext("Subject") == "Quarterly report, draft"][0]
        rec = t1.find("Recurrence")
        assert rec.findtext("Type") == "3" and rec.findtext("WeekOfMonth") == "2"
        assert rec.findtext("DayOfWeek") == "4" and rec.findtext("Occurrences") == "8"
    finally:
        d.close()


def test_export_pages_through_a_big_folder(instance, account, tmp_path):
    """More than one page (500) of items: each exactly once, in the order of the import."""
    n = 1203
    f = tmp_path / "big.vcf"
    f.write_text("".join("BEGIN:VCARD\r\nVERSION:3.0\r\nN:N%04d;Q\r\nEND:VCARD\r\n" % i
                         for i in range(n)))
    assert run(instance, "contacts", "import", account, str(f)).returncode == 0
    # a change to an early contact moves it behind the others in the change feed
    local, dom = account.split("@")
    instance.psql("UPDATE items SET modseq = (SELECT max(modseq) + 1 FROM items i2 "
                  "WHERE i2.folder_id = items.folder_id) WHERE id = (SELECT min(c.item_id) "
                  "FROM contacts c JOIN accounts a ON a.id = c.account_id JOIN domains d "
                  "ON d.id = a.domain_id WHERE a.local_part = '%s' AND d.name = '%s')"
                  % (local, dom))
    p = run(instance, "contacts", "export", account)
    assert p.returncode == 0, p.stderr
    names = [v for h, v in unfold(p.stdout) if h == "N"]
    assert names == ["N%04d;Q;;;" % i for i in range(n)]
