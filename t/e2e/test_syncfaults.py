"""The reproductions of issue 12 (sync correctness under concurrency and faults) as small
deterministic tests: 1 a windowed Sync that loses an Add, 2 the ghost a MoveItems leaves on the
device that moved, 3 a false conflict after the device's own move, 5 a client command applied
by an attempt whose new SyncKey was lost (replayed with the old key), and the echo of a
device's own MoveItems.  (4, PostgreSQL restarts, has its own tests.)

Each test builds the device's view only from the server's answers and compares it with what
the mailbox holds."""

import subprocess
import threading
import time

import pytest

import zxinstance
from syncutil import VERSIONS, Device, deliver, message, new_account, ops, read_change

MV = 'xmlns="Move:"'


@pytest.fixture
def account(instance):
    return new_account(instance)


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


def delete_cmd(sid):
    return "<Delete><ServerId>%s</ServerId></Delete>" % sid


def create_folder(dev, name):
    dev.foldersync()
    r = dev.c.post("FolderCreate", '<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey>'
                   '<ParentId>0</ParentId><DisplayName>%s</DisplayName><Type>12</Type>'
                   '</FolderCreate>' % (dev.hier_key, name))
    assert r.status == 200 and r.wbxml.findtext("Status") == "1", r.wbxml
    dev.hier_key = r.wbxml.findtext("SyncKey")
    dev.folders[name] = r.wbxml.findtext("ServerId")
    return dev.folders[name]


def move(dev, sid, src, dst):
    r = dev.c.post("MoveItems", "<MoveItems %s><Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s"
                   "</SrcFldId><DstFldId>%s</DstFldId></Move></MoveItems>" % (MV, sid, src, dst))
    assert r.status == 200, r
    res = r.wbxml.find("Response")
    assert res.findtext("Status") == "3", r.wbxml
    return res.findtext("DstMsgId")


class View:
    """{folder: {server id: read}} of one device, from the answers only; anomalies listed."""

    def __init__(self, dev):
        self.dev = dev
        self.items = {}
        self.log = []
        self.anomalies = []

    def apply(self, folder, col):
        held = self.items.setdefault(folder, {})
        if col is None:
            self.log.append((folder, "empty"))
            return
        for c in col.findall("Commands/*"):
            sid = c.findtext("ServerId")
            self.log.append((folder, c.name, sid))
            if c.name == "Add":
                if sid in held:
                    self.anomalies.append("Add of held %s in %s" % (sid, folder))
                held[sid] = c.findtext("ApplicationData/Read")
            elif c.name == "Change":
                if sid not in held:
                    self.anomalies.append("Change of %s in %s, never added" % (sid, folder))
                elif c.findtext("ApplicationData/Read") is not None:
                    held[sid] = c.findtext("ApplicationData/Read")
            else:
                if sid not in held:
                    self.anomalies.append("%s of %s in %s, not held" % (c.name, sid, folder))
                held.pop(sid, None)

    def sync(self, folder, window=None, commands=None, limit=50):
        """Sync one folder until no MoreAvailable; returns the Collections seen."""
        cols = []
        for _ in range(limit):
            col = self.dev.sync(folder, window=window, commands=commands)
            commands = None
            self.apply(folder, col)
            cols.append(col)
            if col is None or col.find("MoreAvailable") is None:
                return cols
        raise AssertionError("MoreAvailable after %d rounds" % limit)

    def initial(self, folder):
        self.dev.sync(folder, key="0")
        self.items[folder] = {}
        return self.sync(folder)


def live(instance, account, folder_name):
    """{item id: read} of a folder, from the database."""
    local, dom = account.split("@")
    out = instance.psql(
        "SELECT i.id, i.read FROM items i JOIN folders f ON f.id = i.folder_id "
        "JOIN accounts a ON a.id = i.account_id JOIN domains d ON d.id = a.domain_id "
        "WHERE a.local_part = '%s' AND d.name = '%s' AND f.name = '%s' AND NOT f.deleted "
        "AND NOT i.deleted" % (local, dom, folder_name))
    return {r.split("|")[0]: ("1" if r.split("|")[1] == "t" else "0")
            for r in out.splitlines() if r}


def subjects(instance, account, folder_name):
    local, dom = account.split("@")
    out = instance.psql(
        "SELECT coalesce(i.subject, '') FROM items i JOIN folders f ON f.id = i.folder_id "
        "JOIN accounts a ON a.id = i.account_id JOIN domains d ON d.id = a.domain_id "
        "WHERE a.local_part = '%s' AND d.name = '%s' AND f.name = '%s' AND NOT i.deleted"
        % (local, dom, folder_name))
    return sorted(out.splitlines())


# ---- 1: a windowed Sync loses an Add ---------------------------------------------------------

def test_windowed_sync_does_not_lose_an_add(instance, account, version):
    """A and B are up to date; X1 then X2 arrive; B marks X1 read; A syncs with WindowSize 1.
    A must get both Adds (X1 with Read=1), never a Change for an item it was not sent."""
    deliver(instance, account, message("before"))
    a = View(Device(instance, account, protocol=version))
    b = View(Device(instance, account, protocol=version))
    try:
        for v in (a, b):
            v.initial("Inbox")
        a.log = []
        x1 = deliver(instance, account, message("X1"))
        x2 = deliver(instance, account, message("X2"))
        b.sync("Inbox")
        b.sync("Inbox", commands=read_change(x1))
        a.sync("Inbox", window=1)
        assert a.anomalies == [], (a.anomalies, a.log)
        assert a.items["Inbox"] == live(instance, account, "Inbox"), \
            "A's view %s after windows %s" % (a.items["Inbox"], a.log)
        assert a.items["Inbox"][x1] == "1"
        assert sorted(s for f, *rest in a.log for s in rest[1:] if rest[0] == "Add") == \
            sorted([x1, x2])
    finally:
        a.dev.close()
        b.dev.close()


def test_windowed_sync_after_moves_in_and_changes(instance, account):
    """Also hit by the model: items moved into a folder (by another device, or into Deleted
    Items by the device's own Delete) and then changed by another device, while the device
    walks the folder in windows of 1: every item comes as an Add, once."""
    a = View(Device(instance, account, protocol="14.1"))
    b = View(Device(instance, account, protocol="14.1"))
    try:
        work = create_folder(b.dev, "Work")
        for v in (a, b):
            v.dev.foldersync()
            v.initial("Inbox")
            v.initial("Work")
            v.initial("Deleted Items")
        xs = [deliver(instance, account, message("W%d" % i)) for i in range(6)]
        a.sync("Inbox")
        b.sync("Inbox")
        # B moves three into Work and changes two of them
        moved = [move(b.dev, x, b.dev.folder("Inbox"), work) for x in xs[:3]]
        b.sync("Work", commands=read_change(moved[0]) + read_change(moved[2]))
        # A deletes three (to Deleted Items: new ids A does not know), B changes two copies
        a.sync("Inbox", commands="".join(delete_cmd(x) for x in xs[3:]))
        for x in xs[3:]:
            a.items["Inbox"].pop(x)             # deleted on the device
        b.sync("Inbox")
        b.sync("Deleted Items")
        copies = sorted(b.items["Deleted Items"])
        assert len(copies) == 3
        b.sync("Deleted Items", commands=read_change(copies[0]) + read_change(copies[1]))
        for folder in ("Work", "Inbox", "Deleted Items"):
            a.sync(folder, window=1)
            assert a.items[folder] == live(instance, account, folder), \
                "A's %s: %s; answers %s" % (folder, a.items[folder], a.log)
        assert a.anomalies == [], (a.anomalies, a.log)
    finally:
        a.dev.close()
        b.dev.close()


# ---- 2: the device that moved keeps a ghost ----------------------------------------------------

@pytest.mark.parametrize("then", ["move-back", "delete"])
def test_mover_keeps_no_ghost(instance, account, version, then):
    """A moves X Inbox->Work (Y); B moves Y back (Z) or deletes it; A must end with what the
    mailbox holds, each message once."""
    a = View(Device(instance, account, protocol=version))
    b = View(Device(instance, account, protocol=version))
    try:
        work = create_folder(a.dev, "Work")
        for v in (a, b):
            v.dev.foldersync()
            v.initial("Inbox")
            v.initial("Work")
        x = deliver(instance, account, message("move me around"))
        a.sync("Inbox")
        b.sync("Inbox")
        inbox = a.dev.folder("Inbox")
        y = move(a.dev, x, inbox, work)
        a.items["Inbox"].pop(x)
        a.items["Work"][y] = "0"
        b.sync("Inbox")
        b.sync("Work")
        assert y in b.items["Work"]
        if then == "move-back":
            move(b.dev, y, work, inbox)
        else:
            b.sync("Work", commands=delete_cmd(y))
        a.sync("Work")
        a.sync("Inbox")
        assert a.items["Work"] == live(instance, account, "Work"), \
            "A holds %s in Work (ghost); answers %s" % (a.items["Work"], a.log)
        assert a.items["Inbox"] == live(instance, account, "Inbox"), a.log
    finally:
        a.dev.close()
        b.dev.close()


def test_mover_gets_no_echo_of_its_own_move(instance, account, version):
    """The device that ran MoveItems knows both sides: no Delete of X in the source and no Add
    of Y in the destination comes back to it; the other device gets both."""
    a = View(Device(instance, account, protocol=version))
    b = View(Device(instance, account, protocol=version))
    try:
        work = create_folder(a.dev, "Work")
        for v in (a, b):
            v.dev.foldersync()
            v.initial("Inbox")
            v.initial("Work")
        x = deliver(instance, account, message("echo?"))
        a.sync("Inbox")
        b.sync("Inbox")
        inbox = a.dev.folder("Inbox")
        y = move(a.dev, x, inbox, work)
        assert ops(a.dev.sync("Inbox")) == [], "echo of the move's Delete to the mover"
        assert ops(a.dev.sync("Work")) == [], "echo of the move's Add to the mover"
        assert ops(b.dev.sync("Inbox")) == [("Delete", x)]
        assert ops(b.dev.sync("Work")) == [("Add", y)]
        # a DeletesAsMoves Delete is not an echo: the device does not know the new id
        a.initial("Deleted Items")
        col = a.dev.sync("Work", commands=delete_cmd(y))
        assert ops(col) == [] and col.find("Responses") is None
        col = a.dev.sync("Deleted Items")
        assert [o for o, _ in ops(col)] == ["Add"]
    finally:
        a.dev.close()
        b.dev.close()


# ---- 3: a false conflict after the device's own move -----------------------------------------

def test_no_false_conflict_after_own_move(instance, account, version):
    """A moves X Inbox->Work (Y), then changes Y before it synced Work again: nobody else
    changed Y, so the change is applied (no Status 7, Y not sent back unread)."""
    a = View(Device(instance, account, protocol=version))
    try:
        work = create_folder(a.dev, "Work")
        a.initial("Inbox")
        a.initial("Work")
        x = deliver(instance, account, message("conflict?"))
        a.sync("Inbox")
        y = move(a.dev, x, a.dev.folder("Inbox"), work)
        col = a.dev.sync("Work", commands=read_change(y))
        assert col.findtext("Status") == "1"
        statuses = [(r.findtext("ServerId"), r.findtext("Status"))
                    for r in col.findall("Responses/Change")]
        assert all(s in (None, "1") for _, s in statuses), \
            "Change of its own moved item answered %s; commands %s" % (statuses, ops(col))
        assert ops(col) == [], "answered with %s" % ops(col)
        assert live(instance, account, "Work") == {y: "1"}
    finally:
        a.dev.close()


# ---- 5: a client command and the new SyncKey ------------------------------------------------

@pytest.mark.parametrize("dam", [None, 0])
def test_replayed_delete_is_answered_as_the_first_attempt(instance, account, version, dam):
    x = deliver(instance, account, message("delete once"))
    z = deliver(instance, account, message("read once"))
    d = Device(instance, account, protocol=version)
    try:
        d.sync_all("Inbox")
        d.sync_all("Deleted Items")
        key = d.keys[d.folder("Inbox")]
        cmds = delete_cmd(x) + read_change(z)
        first = d.sync("Inbox", commands=cmds, deletes_as_moves=dam)
        again = d.sync("Inbox", key=key, commands=cmds, deletes_as_moves=dam)
        assert again.findtext("Status") == "1"
        answers = [(r.name, r.findtext("ServerId"), r.findtext("Status"))
                   for r in again.findall("Responses/*")]
        assert all(s in (None, "1") for _, _, s in answers), answers
        assert ops(again) == ops(first)
        assert live(instance, account, "Inbox") == {z: "1"}
        copies = subjects(instance, account, "Deleted Items")
        assert copies == ([] if dam == 0 else ["delete once"])
    finally:
        d.close()


def _kill_attempt_after_commands(instance, device, folder_id, xml):
    """Send xml (a Sync) while the device's sync_states row is locked, so that the request
    blocks when it writes its new key after applying the client's commands; then terminate
    that PostgreSQL backend: the attempt dies between the commands and the new key.  Returns
    the HTTP response of the killed attempt."""
    sock = instance.pg_sock
    holder = subprocess.Popen(["psql", "-X", "-q", "-h", sock, "-U", "postgres", "-d",
                               zxinstance.DB_NAME], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    holder.stdin.write(
        "BEGIN; SELECT 1 FROM sync_states s JOIN devices d ON d.id = s.device_id WHERE "
        "d.device_id = '%s' AND s.folder_id = %s FOR UPDATE OF s;\n\\echo locked\n"
        % (device.device_id, int(folder_id)))
    holder.stdin.flush()
    deadline = time.time() + 10
    while "locked" not in holder.stdout.readline():
        assert time.time() < deadline
    out = {}

    def run():
        try:
            out["r"] = device.c.post("Sync", xml)
        except Exception as e:          # the connection may be cut
            out["e"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    waiting = None
    deadline = time.time() + 10
    while time.time() < deadline and not waiting:
        waiting = instance._psql(zxinstance.DB_NAME,
                                 "SELECT pid FROM pg_stat_activity WHERE wait_event_type = "
                                 "'Lock' AND query ILIKE '%%sync_states%%' AND pid <> "
                                 "pg_backend_pid()").split()
        time.sleep(0.05)
    try:
        if not waiting:
            t.join(10)
        assert waiting, "the Sync never waited for its state: %s; activity %s" % (
            out, instance._psql(zxinstance.DB_NAME, "SELECT pid, state, wait_event_type, "
                                "left(query, 60) FROM pg_stat_activity WHERE datname = '%s'"
                                % zxinstance.DB_NAME))
        for pid in waiting:
            instance._psql(zxinstance.DB_NAME, "SELECT pg_terminate_backend(%d)" % int(pid))
    finally:
        holder.stdin.write("ROLLBACK;\n\\q\n")
        holder.stdin.flush()
        holder.communicate(timeout=10)
    t.join(30)
    return out.get("r")


def test_killed_attempt_is_answered_as_the_first_attempt(instance, account, version,
                                                         expect_log):
    """Issue 12 item 5: an attempt died after the client's Delete but before its new SyncKey;
    the device repeats the request with the same key.  Either nothing or everything of the
    attempt must have been kept: the retry answers as a first attempt would have (no Status 8
    for the Delete) and the item is deleted once (one copy in Deleted Items)."""
    # the server logs the failure of the attempt whose database connection was terminated
    expect_log(r"Sync: cannot .*terminating connection due to administrator command")
    x = deliver(instance, account, message("killed delete"))
    d = Device(instance, account, protocol=version)
    try:
        d.sync_all("Inbox")
        d.sync_all("Deleted Items")
        inbox = d.folder("Inbox")
        key = d.keys[inbox]
        xml = ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
               '<CollectionId>%s</CollectionId><Commands>%s</Commands></Collection>'
               '</Collections></Sync>' % (key, inbox, delete_cmd(x)))
        _kill_attempt_after_commands(instance, d, inbox, xml)
        # the device retries the same request with the same key (after a 5xx or status 5)
        col = None
        for _ in range(20):
            try:
                r = d.c.post("Sync", xml)
            except Exception:
                d.c.close()
                time.sleep(0.2)
                continue
            if r.status >= 500 or (r.body and r.wbxml.findtext(
                    "Collections/Collection/Status") == "5"):
                time.sleep(0.2)
                continue
            col = r.wbxml.find("Collections/Collection")
            break
        assert col is not None and col.findtext("Status") == "1", col
        answers = [(r.name, r.findtext("ServerId"), r.findtext("Status"))
                   for r in col.findall("Responses/*")]
        assert answers == [] or all(s == "1" for _, _, s in answers), \
            "retry of the killed attempt answered %s" % answers
        assert x not in live(instance, account, "Inbox")
        assert subjects(instance, account, "Deleted Items") == ["killed delete"]
    finally:
        d.close()
