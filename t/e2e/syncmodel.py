"""A randomized, model-based driver of e-mail sync (issue 12), reusable by the e2e suite
(t/e2e/test_syncmodel.py) and the long run with faults (bench/model_sync.py).

Several accounts, several devices per account at mixed protocol versions.  Every change goes
through the driver, so the model knows the TRUTH: per account and folder the messages (by their
unique subject) with their read flag, a version counter per message and its server id when
known.  Each device's VIEW is built only from the server's answers (Sync Add/Change/Delete/
SoftDelete, MoveItems DstMsgId, FolderSync adds/deletes, FolderCreate): {folder: {server id:
[subject, read]}}.  A sequence of operations drawn from `random.Random(seed)` is reproducible.

Discrepancies (kind, device, folder, detail, op number):
  compared when a device is fully synced (every folder synced until no MoreAvailable):
    missing       the truth has the message in the folder, the device does not
    duplicate     two server ids with one subject in a folder, or one subject in two folders
    ghost         a server id the server no longer has (the message is gone or has another id)
    wrong-folder  the device holds the message in another folder than the truth
    wrong-flag    the read flag differs
    truth-db      the model's truth differs from the database (a bug of the model or of the
                  store: the rest of the comparison is then doubtful)
  protocol-level, checked on every answer:
    dup-add       an Add for a server id the device already holds
    stray         a Change/Delete for a server id the device does not hold
    echo          the device's own change came back: after its MoveItems (X in F -> Y in G) an
                  Add of Y in G or a Delete of X in F; after its Sync Delete of X a Delete of X;
                  a Change of the version the device made itself
    redundant     a Change of the version the device already has (made by someone else), or a
                  Change of an item Added in the same response
    false-conflict  Status 7 for a Change although nobody changed the item after the version
                  the device last received
    missed-conflict a Change applied although another device had changed the item since
    bad-8         Status 8 for a Delete/Change of an item that is in that folder
    bad-status    any other unexpected status (MoveItems, FolderCreate/Delete, Sync)
    replay        a lost response repeated with the same SyncKey answered differently

Expected server semantics: a device's own changes are never echoed to it; other devices get the
Delete in the source and the Add in the destination of a move; Status 7 only when someone else
changed the item after the version the device last received (Conflict 1: the server wins, the
change is not applied and the server's version comes as a Change); a repeated request with the
old key is answered as the first attempt (client commands applied once)."""

import json
import os
import random
import signal
import subprocess
import time
import uuid
from xml.sax.saxutils import escape

from easclient import EASClient

VERSIONS = ("12.1", "14.1", "16.1")
PASSWORD = "Model-Pw-1"
OPTIONS = ('<Options><BodyPreference xmlns="AirSyncBase:"><Type>1</Type>'
           '<TruncationSize>64</TruncationSize></BodyPreference></Options>')
INBOX, DELETED = "Inbox", "Deleted Items"
TRACKED_TYPES = {"2": INBOX, "4": DELETED}      # + user mail folders (type 12)


class TransportError(Exception):
    """A request that failed below EAS (connection, 5xx) and was not retried."""


class Msg:
    __slots__ = ("subject", "folder", "read", "version", "sid", "by", "old", "unsure")

    def __init__(self, subject, folder, sid):
        self.subject, self.folder, self.read, self.version, self.sid = subject, folder, 0, 0, sid
        self.by = None      # the device that made the latest version (None: the server)
        self.old = set()    # server ids it had before moves
        self.unsure = None  # the device that moved it, until it is sent the item again

    def moved(self, folder, sid, dev):
        if self.sid is not None:
            self.old.add(self.sid)
        self.folder, self.sid = folder, sid
        self.bump(dev)
        self.unsure = dev.name if dev is not None else None

    def bump(self, dev=None):
        self.version += 1
        self.by = dev.name if dev is not None else None


class Account:
    def __init__(self, name, index):
        self.name = name
        self.index = index
        self.folders = {}           # fid -> name (tracked mail folders that exist)
        self.msgs = {}              # subject -> Msg
        self.devices = []

    def fid(self, name):
        for f, n in self.folders.items():
            if n == name:
                return f
        return None

    def by_sid(self, fid, sid):
        for m in self.msgs.values():
            if m.folder == fid and m.sid == sid:
                return m
        return None


class ModelDevice:
    """A device: its EAS client, its keys and its view, built only from answers."""

    def __init__(self, model, account, index, version):
        self.model = model
        self.account = account
        self.version = version
        self.name = "a%d.d%d(%s)" % (account.index, index, version)
        self.device_id = "mdl%s" % uuid.uuid4().hex[:12]
        self.c = EASClient(model.instance.url, account.name, PASSWORD, self.device_id,
                           "ModelPhone", protocol=version, timeout=model.timeout)
        self.reset()

    def reset(self):
        """Forget everything (a phone that starts over)."""
        self.hier_key = "0"
        self.folders = {}           # fid -> name, from FolderSync (tracked only)
        self.keys = {}              # fid -> SyncKey
        self.view = {}              # fid -> {sid: [subject, read]}
        self.more = {}              # fid -> True while MoreAvailable is pending
        self.seen = {}              # sid -> version of the message last received
        self.forbid = set()         # (op, fid, sid) that would be an echo

    def close(self):
        self.c.close()

    def fully_synced(self, fid):
        return self.keys.get(fid, "0") != "0" and not self.more.get(fid)


class Model:
    def __init__(self, instance, seed, accounts=3, devices=3, faults=None, log=None,
                 timeout=60.0, deliver_kill=0.0, retry_for=0.0):
        self.instance = instance
        self.seed = seed
        self.rng = random.Random(seed)
        self.faults = faults
        self.retry_for = retry_for          # seconds a device retries a failed request
        self.deliver_kill = deliver_kill    # probability a delivery is killed mid-way
        self.timeout = timeout
        self.log_cb = log
        self.oplog = []
        self.discrepancies = []
        self.op_no = 0
        self.counter = 0
        self.retries = 0
        self.replays = 0
        self.current = None                 # the device whose request is in flight
        self.jitter = random.Random(seed + 1)
        self.tag = "s%d%s" % (seed, uuid.uuid4().hex[:4])
        self.accounts = []
        for i in range(accounts):
            acc = Account(self._new_account(i), i)
            self.accounts.append(acc)
            vers = [VERSIONS[j % len(VERSIONS)] for j in range(devices)]
            self.rng.shuffle(vers)
            for j, v in enumerate(vers):
                acc.devices.append(ModelDevice(self, acc, j, v))
        for acc in self.accounts:
            for d in acc.devices:
                self.foldersync(d)
            # the truth's folders: from the first device's hierarchy (standard folders exist)
            acc.folders = dict(acc.devices[0].folders)

    # ---- bookkeeping ----------------------------------------------------------------------------
    def log(self, text):
        line = "#%d %s" % (self.op_no, text)
        self.oplog.append(line)
        if self.log_cb:
            self.log_cb(line)

    def report(self, kind, dev, fid, detail):
        acc = dev.account if isinstance(dev, ModelDevice) else dev
        who = dev.name if isinstance(dev, ModelDevice) else "a%d" % acc.index
        fname = acc.folders.get(fid) or (dev.folders.get(fid) if isinstance(dev, ModelDevice)
                                         else None) or fid
        d = {"kind": kind, "device": who, "folder": fname, "detail": detail, "op": self.op_no}
        self.discrepancies.append(d)
        self.log("!! %s %s [%s] %s" % (kind, who, fname, detail))

    def counts(self):
        out = {}
        for d in self.discrepancies:
            out[d["kind"]] = out.get(d["kind"], 0) + 1
        return out

    def summary_text(self, tail=40):
        lines = ["seed=%d: %d discrepancies %s" % (self.seed, len(self.discrepancies),
                                                   json.dumps(self.counts(), sort_keys=True))]
        for d in self.discrepancies[:60]:
            lines.append("  op#%(op)d %(kind)s %(device)s [%(folder)s] %(detail)s" % d)
        if len(self.discrepancies) > 60:
            lines.append("  ... %d more" % (len(self.discrepancies) - 60))
        lines.append("op log tail:")
        lines += ["  " + x for x in self.oplog[-tail:]]
        return "\n".join(lines)

    # ---- server side helpers --------------------------------------------------------------------
    def _zx(self, *args, data=None, check=True):
        env = dict(os.environ)
        env["ZXMOBILE_DB"] = self.instance.conninfo
        p = subprocess.run([self.instance.zxsuite] + list(args), input=data, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("zxsuite %s: %d %s" % (args, p.returncode, p.stderr))
        return p

    def _new_account(self, i):
        dom = "mdl%d%s.test" % (i, uuid.uuid4().hex[:8])
        name = "user@" + dom
        self._retry_cmd(lambda: self._zx("prov", "createDomain", dom, check=False))
        self._retry_cmd(lambda: self._zx("prov", "createAccount", name, PASSWORD,
                                         "zimbraFeatureMobileSyncEnabled", "TRUE", check=False))
        return name

    def _retry_cmd(self, fn):
        end = time.time() + max(self.retry_for, 1)
        while True:
            p = fn()
            if p.returncode == 0 or b"exists" in p.stderr:
                return p
            if time.time() > end:
                raise AssertionError("command failed: %d %s" % (p.returncode, p.stderr))
            time.sleep(0.3)

    def db_rows(self, query, *params):
        def lit(v):
            return "'" + str(v).replace("'", "''") + "'"
        end = time.time() + max(self.retry_for, 1)
        while True:
            try:
                out = self.instance.psql(query % tuple(lit(v) for v in params))
                return [line.split("|") for line in out.splitlines() if line]
            except Exception:
                if time.time() > end:
                    raise
                time.sleep(0.3)

    def db_items(self, acc):
        """Live items of the account: {subject: (folder id, read 0/1, id)}."""
        rows = self.db_rows(
            "SELECT coalesce(i.subject,''), i.folder_id, i.read, i.id FROM items i "
            "JOIN accounts a ON a.id = i.account_id JOIN domains d ON d.id = a.domain_id "
            "WHERE a.local_part || '@' || d.name = %s AND NOT i.deleted", acc.name)
        out = {}
        for subj, fid, read, iid in rows:
            out.setdefault(subj, []).append((fid, 1 if read == "t" else 0, iid))
        return out

    def db_folders(self, acc):
        rows = self.db_rows(
            "SELECT f.id, f.name FROM folders f JOIN accounts a ON a.id = f.account_id "
            "JOIN domains d ON d.id = a.domain_id WHERE a.local_part || '@' || d.name = %s "
            "AND NOT f.deleted AND (f.type IN (2, 4) OR NOT f.system)", acc.name)
        return {fid: name for fid, name in rows}

    def resync_truth(self, acc):
        """After an ambiguous fault (a request whose outcome the device cannot know) the truth of
        the account is read back from the database; a message that differs gets a new version
        (so a device that saw the old one conflicts), the others keep theirs."""
        items = self.db_items(acc)
        acc.folders = self.db_folders(acc)
        changed = 0
        for subj in list(acc.msgs):
            m = acc.msgs[subj]
            rows = items.get(subj)
            if not rows:
                del acc.msgs[subj]
                changed += 1
                continue
            fid, read, iid = rows[0]
            if (fid, iid) != (m.folder, m.sid):
                m.moved(fid, iid, None)
                changed += 1
            elif read != m.read:
                m.bump()
                changed += 1
            m.read = read
        for subj, rows in items.items():
            if subj.startswith("M-%s-" % self.tag) and subj not in acc.msgs:
                m = acc.msgs[subj] = Msg(subj, rows[0][0], rows[0][2])
                m.read = rows[0][1]
                changed += 1
        self.log("truth of a%d read back from the database: %d messages differed"
                 % (acc.index, changed))

    # ---- transport ------------------------------------------------------------------------------
    def post(self, dev, cmd, xml):
        """One EAS request; with retry_for, a failed request (connection error, 5xx, Sync status
        5 is handled by the caller) is sent again as it was, after a short backoff."""
        end = time.time() + self.retry_for
        delay = 0.1
        failed = False
        while True:
            try:
                self.current = dev
                r = dev.c.post(cmd, xml)
                try:
                    top = r.wbxml.findtext("Status") if r.status == 200 and r.body else None
                except Exception:           # not WBXML: judged by the caller
                    top = None
                if r.status < 500 and top not in ("110", "111"):
                    return r, failed
                # a server error (HTTP 5xx; from 14.0 the common status 110/111 in a 200)
                err = "HTTP %d %s" % (r.status, top or r.headers.get("Retry-After") or "")
            except Exception as e:      # connection refused/reset, timeout
                dev.c.close()
                err = "%s: %s" % (type(e).__name__, e)
            failed = True
            self.retries += 1
            self.log("%s %s failed (%s), retrying the same request" % (dev.name, cmd, err))
            if time.time() > end:
                raise TransportError("%s %s: %s" % (dev.name, cmd, err))
            time.sleep(delay + self.jitter.random() * 0.1)
            delay = min(delay * 2, 2.0)

    # ---- FolderSync / FolderCreate / FolderDelete -----------------------------------------------
    def foldersync(self, dev):
        xml = ('<FolderSync xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey></FolderSync>'
               % escape(dev.hier_key))
        r, _ = self.post(dev, "FolderSync", xml)
        doc = r.wbxml
        st = doc.findtext("Status")
        if st == "9":
            self.report("bad-status", dev, None, "FolderSync key %s: status 9" % dev.hier_key)
            dev.reset()
            return self.foldersync(dev)
        if st != "1":
            self.report("bad-status", dev, None, "FolderSync status %s" % st)
            return
        dev.hier_key = doc.findtext("SyncKey")
        for a in doc.findall("Changes/Add"):
            t, fid, name = a.findtext("Type"), a.findtext("ServerId"), a.findtext("DisplayName")
            if t in TRACKED_TYPES or (t == "12" and name.startswith("F-")):
                if fid in dev.folders:
                    self.report("echo", dev, fid, "FolderSync Add of a folder it has")
                dev.folders[fid] = name
                dev.view.setdefault(fid, {})
        for d in doc.findall("Changes/Delete"):
            fid = d.findtext("ServerId")
            if fid in dev.folders:
                self.drop_folder(dev, fid)

    def drop_folder(self, dev, fid):
        dev.folders.pop(fid, None)
        dev.keys.pop(fid, None)
        dev.more.pop(fid, None)
        for sid in dev.view.pop(fid, {}):
            dev.seen.pop(sid, None)

    def folder_create(self, dev):
        self.foldersync(dev)
        acc = dev.account
        self.counter += 1
        name = "F-%s-%d" % (self.tag, self.counter)
        xml = ('<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey><ParentId>0'
               '</ParentId><DisplayName>%s</DisplayName><Type>12</Type></FolderCreate>'
               % (escape(dev.hier_key), name))
        r, failed = self.post(dev, "FolderCreate", xml)
        st = r.wbxml.findtext("Status")
        self.log("%s FolderCreate %s -> %s %s" % (dev.name, name, st,
                                                   r.wbxml.findtext("ServerId")))
        if st == "1":
            fid = r.wbxml.findtext("ServerId")
            dev.hier_key = r.wbxml.findtext("SyncKey")
            acc.folders[fid] = name
            dev.folders[fid] = name
            dev.view[fid] = {}
        elif failed or (st == "9" and self.faults):
            # the first attempt (or the FolderSync before it, cut by a fault) may have been
            # done: the device starts its hierarchy over, as status 9 tells it to
            self.resync_truth(acc)
            dev.reset()
            self.foldersync(dev)
        else:
            self.report("bad-status", dev, None, "FolderCreate %s: status %s" % (name, st))

    def folder_delete(self, dev):
        self.foldersync(dev)
        acc = dev.account
        mine = [f for f, n in dev.folders.items() if n.startswith("F-")]
        if not mine:
            return self.folder_create(dev)
        fid = self.rng.choice(mine)
        xml = ('<FolderDelete xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey><ServerId>%s'
               '</ServerId></FolderDelete>' % (escape(dev.hier_key), fid))
        r, failed = self.post(dev, "FolderDelete", xml)
        st = r.wbxml.findtext("Status")
        self.log("%s FolderDelete %s (%s) -> %s" % (dev.name, fid, dev.folders[fid], st))
        if st == "1":
            dev.hier_key = r.wbxml.findtext("SyncKey")
            acc.folders.pop(fid, None)
            for subj in [s for s, m in acc.msgs.items() if m.folder == fid]:
                del acc.msgs[subj]
            self.drop_folder(dev, fid)
        elif failed:
            self.resync_truth(acc)
            dev.reset()
            self.foldersync(dev)
        else:
            self.report("bad-status", dev, fid, "FolderDelete: status %s" % st)

    # ---- delivery -------------------------------------------------------------------------------
    def deliver(self, acc, fid=None):
        self.counter += 1
        subject = "M-%s-%05d" % (self.tag, self.counter)
        data = ("From: Ann <ann@example.com>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@model>"
                "\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain\r\n\r\nbody of %s\r\n"
                % (acc.name, subject, subject, subject)).encode()
        fid = fid or acc.fid(INBOX)
        fname = acc.folders[fid]
        args = ["--json", "mailbox", "deliver", acc.name] + ([fname] if fname != INBOX else [])
        env = dict(os.environ)
        env["ZXMOBILE_DB"] = self.instance.conninfo
        if self.deliver_kill and self.rng.random() < self.deliver_kill:
            p = subprocess.Popen([self.instance.zxsuite] + args, env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            p.stdin.write(data)
            p.stdin.close()
            time.sleep(self.rng.random() * 0.08)
            killed = p.poll() is None
            if killed:
                os.kill(p.pid, signal.SIGKILL)
            p.wait()
            p.stdout.close()
            p.stderr.close()
            rows = self.db_items(acc).get(subject)
            self.log("FAULT deliver %s killed=%s -> landed %s" % (subject, killed, rows))
            if self.faults is not None:
                self.faults.count("deliver-kill")
            if rows:
                if len(rows) > 1 or rows[0][0] != fid:
                    self.report("truth-db", acc, fid, "killed delivery %s: %s" % (subject, rows))
                m = acc.msgs[subject] = Msg(subject, rows[0][0], rows[0][2])
                return m
        end = time.time() + max(self.retry_for, 1)
        while True:
            p = subprocess.run([self.instance.zxsuite] + args, input=data, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            if p.returncode == 0:
                break
            self.log("deliver %s exit %d: %s" % (subject, p.returncode, p.stderr[:200]))
            if time.time() > end or not self.retry_for:
                raise AssertionError("deliver failed: %d %s" % (p.returncode, p.stderr))
            # exit 75 (temporary) or a killed connection: was it committed before it failed?
            rows = self.db_items(acc).get(subject)
            if rows:
                self.log("deliver %s had landed: %s" % (subject, rows))
                m = acc.msgs[subject] = Msg(subject, rows[0][0], rows[0][2])
                return m
            time.sleep(0.3)
        sid = json.loads(p.stdout)["response"]["itemId"]
        m = acc.msgs[subject] = Msg(subject, fid, str(sid))
        self.log("deliver %s -> a%d %s sid=%s" % (subject, acc.index, fname, sid))
        return m

    # ---- Sync -----------------------------------------------------------------------------------
    def sync_xml(self, key, fid, window=None, commands="", dam=None):
        x = ('<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>%s</SyncKey>'
             '<CollectionId>%s</CollectionId>' % (escape(key), fid))
        if dam is not None:
            x += "<DeletesAsMoves>%d</DeletesAsMoves>" % dam
        if window is not None and key != "0":
            x += "<WindowSize>%d</WindowSize>" % window
        x += OPTIONS
        if commands:
            x += "<Commands>%s</Commands>" % commands
        return x + "</Collection></Collections></Sync>"

    def sync(self, dev, fid, window=None, cmds=(), dam=None, lose=False):
        """One Sync of one collection of dev, with client commands cmds: [("Change", sid, read)
        | ("Delete", sid)].  lose: the first answer is thrown away and the same request sent
        again with the same key.  Returns True when MoreAvailable."""
        if fid not in dev.folders:
            return False
        key = dev.keys.get(fid, "0")
        if key == "0":
            cmds = ()
            # a new state lists the folder as it is: the items the device moved there come as
            # Adds like any other (the device starts that folder over)
            dev.forbid = {f for f in dev.forbid if f[1] != fid}
            for sid in dev.view.get(fid, {}):
                dev.seen.pop(sid, None)
            dev.view[fid] = {}
        acc = dev.account
        fname = dev.folders[fid]
        # what the commands should do, from the truth before the request
        plan = []
        body = ""
        for c in cmds:
            sid = c[1]
            m = acc.by_sid(fid, sid)
            if c[0] == "Change":
                body += ('<Change><ServerId>%s</ServerId><ApplicationData><Read xmlns="Email:">%d'
                         '</Read></ApplicationData></Change>' % (sid, c[2]))
                conflict = m is not None and m.version > dev.seen.get(sid, -1)
            else:
                body += "<Delete><ServerId>%s</ServerId></Delete>" % sid
                conflict = False
            plan.append((c, m, conflict))
        xml = self.sync_xml(key, fid, window, body, dam)
        desc = "%s Sync %s key=%s win=%s%s%s" % (
            dev.name, fname, key, window,
            (" dam=%s" % dam) if dam is not None else "",
            (" cmds=%s" % [tuple(x) for x in cmds]) if cmds else "")
        first = None
        for attempt in range(50):
            r, failed = self.post(dev, "Sync", xml)
            col = self._collection(r)
            if col is not None and col.findtext("Status") == "5":
                self.log("%s: status 5, retrying" % desc)
                time.sleep(0.2)
                continue
            if lose and first is None:
                first = self._summary(col)
                self.replays += 1
                self.log("%s -> %s (LOST, sending it again)" % (desc, first))
                continue
            break
        summ = self._summary(col)
        self.log("%s -> %s" % (desc, summ))
        if first is not None and first != summ:
            self.report("replay", dev, fid, "first answer %s, repeated request %s"
                        % (first, summ))
        if col is None:
            if cmds:
                self.report("bad-status", dev, fid, "empty answer to a Sync with commands")
            return False
        st = col.findtext("Status")
        if st == "3":
            self.report("bad-status", dev, fid, "Sync key %s: status 3" % key)
            self.restart_folder(dev, fid)
            return False
        if st == "12":
            if fid in acc.folders:
                self.report("bad-status", dev, fid, "Sync of an existing folder: status 12")
            self.foldersync(dev)
            if fid in dev.folders:
                self.drop_folder(dev, fid)
            return False
        if st != "1":
            self.report("bad-status", dev, fid, "Sync status %s" % st)
            return False
        dev.keys[fid] = col.findtext("SyncKey")
        view = dev.view.setdefault(fid, {})
        responses = {}
        for resp in col.findall("Responses/*"):
            responses[(resp.name, resp.findtext("ServerId"))] = resp.findtext("Status")
        conflicted = set()
        for (c, m, conflict) in plan:
            op, sid = c[0], c[1]
            status = responses.get((op, sid))
            if op == "Change":
                if status in (None, "1"):
                    if m is None:
                        continue        # gone meanwhile: nothing to apply
                    # after its own move of a version it may not have had, the device's change
                    # wins (README "When changes meet")
                    if conflict and m.unsure != dev.name:
                        self.report("missed-conflict", dev, fid, "Change %s (%s) applied, "
                                    "version %d > seen %s" % (sid, m.subject, m.version,
                                                              dev.seen.get(sid)))
                    m.read = c[2]
                    m.bump(dev)
                    dev.seen[sid] = m.version
                    if sid in view:
                        view[sid][1] = c[2]
                elif status == "7":
                    conflicted.add(sid)
                    if m is not None and not conflict:
                        self.report("false-conflict", dev, fid, "Change %s (%s) status 7, device "
                                    "had seen version %s = latest %d" % (
                                        sid, m.subject, dev.seen.get(sid), m.version))
                elif status == "8":
                    if m is not None:
                        self.report("bad-8", dev, fid, "Change %s (%s): status 8, item is there"
                                    % (sid, m.subject))
                else:
                    self.report("bad-status", dev, fid, "Change %s: status %s" % (sid, status))
            else:
                if status in (None, "1"):
                    if m is None:
                        continue        # gone meanwhile: the server's Delete is no echo
                    view.pop(sid, None)
                    dev.forbid.add(("Delete", fid, sid))
                    if fid == acc.fid(DELETED) or dam == 0:
                        del acc.msgs[m.subject]
                    else:
                        m.moved(acc.fid(DELETED), None, dev)
                elif status == "8":
                    if m is not None:
                        self.report("bad-8", dev, fid, "Delete %s (%s): status 8, item is there"
                                    % (sid, m.subject))
                else:
                    self.report("bad-status", dev, fid, "Delete %s: status %s" % (sid, status))
        self.apply_commands(dev, fid, col, conflicted)
        for (c, m, conflict) in plan:
            if c[0] == "Delete":
                view.pop(c[1], None)     # deleted on the device, whatever the server said
        more = col.find("MoreAvailable") is not None
        dev.more[fid] = more
        return more

    @staticmethod
    def _collection(r):
        """The response's Collection; a top-level Status (no Collections) is returned as a
        Node standing for the collection, so that status 5 is retried like the
        collection's."""
        if not r.body:
            return None
        col = r.wbxml.find("Collections/Collection")
        if col is None and r.wbxml.findtext("Status"):
            return r.wbxml
        assert col is not None, r.wbxml
        return col

    @staticmethod
    def _summary(col):
        if col is None:
            return "empty"
        parts = [col.findtext("Status")]
        parts += ["%s:%s" % (c.name, c.findtext("ServerId")) for c in col.findall("Commands/*")]
        parts += ["R%s:%s=%s" % (c.name, c.findtext("ServerId"), c.findtext("Status"))
                  for c in col.findall("Responses/*")]
        if col.find("MoreAvailable") is not None:
            parts.append("More")
        return " ".join(parts)

    def apply_commands(self, dev, fid, col, conflicted=()):
        acc = dev.account
        view = dev.view.setdefault(fid, {})
        added = set()
        for c in col.findall("Commands/*"):
            sid = c.findtext("ServerId")
            if c.name == "Add":
                added.add(sid)
                subj = c.findtext("ApplicationData/Subject") or ""
                read = int(c.findtext("ApplicationData/Read") or 0)
                if ("Add", fid, sid) in dev.forbid:
                    self.report("echo", dev, fid, "Add %s (%s) after its own MoveItems"
                                % (sid, subj))
                elif sid in view:
                    self.report("dup-add", dev, fid, "Add %s (%s), held as %s"
                                % (sid, subj, view[sid][0]))
                view[sid] = [subj, read]
                m = acc.msgs.get(subj)
                if m is not None:
                    if m.folder == fid and m.sid is None:
                        m.sid = sid         # a DeletesAsMoves copy: its id is learnt here
                    dev.seen[sid] = m.version
            elif c.name == "Change":
                read = c.findtext("ApplicationData/Read")
                if sid not in view:
                    self.report("stray", dev, fid, "Change %s not held" % sid)
                    continue
                subj = view[sid][0]
                m = acc.msgs.get(subj)
                if sid in added:
                    self.report("redundant", dev, fid, "Change %s (%s) after its Add in the "
                                "same response" % (sid, subj))
                elif (m is not None and sid not in conflicted and m.sid == sid
                        and dev.seen.get(sid) == m.version):
                    if m.unsure == dev.name:
                        # the server cannot know whether the mover had got the last change
                        # of the item before it moved it (that answer may have been lost): the
                        # current flags, or the device's change merged into them, may come
                        # once more as a Change - not an echo of the move (an Add or a
                        # Delete), and harmless
                        m.unsure = None
                    elif m.by == dev.name:
                        self.report("echo", dev, fid, "Change %s (%s): its own change (version "
                                    "%d) came back" % (sid, subj, m.version))
                    else:
                        self.report("redundant", dev, fid, "Change %s (%s) of the version it "
                                    "has (%d)" % (sid, subj, m.version))
                if read is not None:
                    view[sid][1] = int(read)
                if m is not None:
                    dev.seen[sid] = m.version
            elif c.name in ("Delete", "SoftDelete"):
                if ("Delete", fid, sid) in dev.forbid:
                    self.report("echo", dev, fid, "%s %s of its own move/delete" % (c.name, sid))
                elif sid not in view:
                    self.report("stray", dev, fid, "%s %s not held" % (c.name, sid))
                view.pop(sid, None)
                dev.seen.pop(sid, None)

    def restart_folder(self, dev, fid):
        dev.keys[fid] = "0"
        for sid in dev.view.get(fid, {}):
            dev.seen.pop(sid, None)
        dev.view[fid] = {}
        dev.more[fid] = False

    def sync_until_done(self, dev, fid, max_rounds=400):
        if fid not in dev.folders:
            return
        if dev.keys.get(fid, "0") == "0":
            self.sync(dev, fid)
        for _ in range(max_rounds):
            if fid not in dev.folders:
                return
            if not self.sync(dev, fid, window=self.rng.randint(1, 50)):
                return
        self.report("bad-status", dev, fid, "MoreAvailable after %d rounds" % max_rounds)

    # ---- MoveItems ------------------------------------------------------------------------------
    def move(self, dev, moves):
        """moves: [(sid, src fid, dst fid)]."""
        acc = dev.account
        xml = '<MoveItems xmlns="Move:">%s</MoveItems>' % "".join(
            "<Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move>"
            % mv for mv in moves)
        plan = [(mv, acc.by_sid(mv[1], mv[0]), mv[2] in acc.folders) for mv in moves]
        r, failed = self.post(dev, "MoveItems", xml)
        assert r.status == 200 and r.wbxml is not None and r.wbxml.name == "MoveItems", r
        res = [(x.findtext("SrcMsgId"), x.findtext("Status"), x.findtext("DstMsgId"))
               for x in r.wbxml.findall("Response")]
        self.log("%s MoveItems %s -> %s" % (dev.name, moves, res))
        ambiguous = False
        for (mv, m, dst_ok), (src, st, dst) in zip(plan, res):
            sid, f, g = mv
            if st == "3" and dst:
                if m is None:
                    self.report("bad-status", dev, f, "MoveItems %s: status 3 but the item is "
                                "gone" % sid)
                    continue
                # the device moved what it had of the message: when that was not the latest
                # version, the current flags are news to it (a Change of the new item, and a
                # change it makes before getting that may meet a conflict)
                stale = dev.seen.get(sid) != m.version
                m.moved(g, dst, dev)
                entry = dev.view.get(f, {}).pop(sid, [m.subject, m.read])
                dev.seen.pop(sid, None)
                if g in dev.view:
                    dev.view[g][dst] = entry
                dev.seen[dst] = m.version - 1 if stale else m.version
                dev.forbid.add(("Delete", f, sid))
                dev.forbid.add(("Add", g, dst))
            elif failed:
                ambiguous = True
            elif m is not None and dst_ok:
                self.report("bad-status", dev, f, "MoveItems %s (%s) -> %s: status %s"
                            % (sid, m.subject, g, st))
            elif m is None and st not in ("1", "2" if not dst_ok else "1"):
                self.report("bad-status", dev, f, "MoveItems of a gone item %s: status %s"
                            % (sid, st))
            elif m is not None and not dst_ok and st != "2":
                self.report("bad-status", dev, f, "MoveItems to a gone folder: status %s" % st)
        if len(res) != len(moves):
            self.report("bad-status", dev, None, "MoveItems: %d responses for %d moves"
                        % (len(res), len(moves)))
        if ambiguous:
            # the first attempt may have moved it: the device cannot know the new id
            self.resync_truth(acc)
            dev.reset()
            self.foldersync(dev)

    # ---- the random run -------------------------------------------------------------------------
    def held(self, dev, fid=None):
        """[(fid, sid)] the device holds (in one folder or all), in the order it learnt them:
        the random choices do not depend on the values of server ids, so a seed gives the same
        operations on any instance."""
        out = []
        for f in list(dev.view) if fid is None else [fid]:
            out += [(f, s) for s in dev.view.get(f, {})]
        return out

    def step(self):
        rng = self.rng
        self.op_no += 1
        acc = rng.choice(self.accounts)
        dev = rng.choice(acc.devices)
        folders = list(dev.folders)
        op = rng.choices(
            ["deliver", "sync", "change", "delete", "move", "lost", "fcreate", "fdelete",
             "foldersync", "stop"],
            [16, 30, 12, 7, 12, 8, 2, 1, 3, 1])[0]
        if op == "deliver":
            user = [f for f, n in acc.folders.items() if n.startswith("F-")]
            fid = rng.choice(user) if user and rng.random() < 0.2 else None
            self.deliver(acc, fid)
        elif op in ("sync", "lost"):
            fid = rng.choice(folders)
            cmds = []
            if op == "lost" and rng.random() < 0.6:
                cmds = self.random_cmds(dev, fid)
            dam = rng.choice([None, 0, 1]) if any(c[0] == "Delete" for c in cmds) else None
            self.sync(dev, fid, window=rng.randint(1, 50), cmds=cmds, dam=dam,
                      lose=op == "lost")
            # continue MoreAvailable or not
            while dev.more.get(fid) and rng.random() < 0.6:
                self.sync(dev, fid, window=rng.randint(1, 50))
        elif op in ("change", "delete"):
            fid = rng.choice(folders)
            cmds = self.random_cmds(dev, fid, kind=op)
            if not cmds:
                return self.sync(dev, fid, window=rng.randint(1, 50))
            dam = rng.choice([None, 0, 1]) if op == "delete" else None
            self.sync(dev, fid, window=rng.randint(1, 50), cmds=cmds, dam=dam)
        elif op == "move":
            held = self.held(dev)
            if not held:
                return
            n = rng.choice([1, 1, 1, 2, 3])
            picks = rng.sample(held, min(n, len(held)))
            moves = []
            for f, sid in picks:
                dsts = [g for g in folders if g != f]
                if dsts:
                    moves.append((sid, f, rng.choice(dsts)))
            if moves:
                self.move(dev, moves)
        elif op == "fcreate":
            self.folder_create(dev)
        elif op == "fdelete":
            self.folder_delete(dev)
        elif op == "foldersync":
            self.foldersync(dev)
        elif op == "stop":
            # a device stops in the middle of a window and starts again later: nothing to do
            # but the log line (the next Sync of that folder continues)
            self.log("%s pauses" % dev.name)

    def random_cmds(self, dev, fid, kind=None):
        held = self.held(dev, fid)
        if not held:
            return []
        cmds = []
        for _, sid in self.rng.sample(held, min(len(held), self.rng.choice([1, 1, 2, 3]))):
            k = kind or self.rng.choice(["change", "change", "delete"])
            if k == "change":
                cmds.append(("Change", sid, self.rng.randint(0, 1)))
            else:
                cmds.append(("Delete", sid))
        return cmds

    def run(self, ops, keep_going=False):
        """ops operations; keep_going (the fault run): an operation that fails in the driver
        (a request that kept failing, an answer it cannot read) is reported as "driver-error",
        the device starts over and its account's truth is read back from the database."""
        for _ in range(ops):
            if not keep_going:
                self.step()
                continue
            try:
                self.step()
            except Exception as e:
                dev = self.current
                self.report("driver-error", dev if dev is not None else self.accounts[0], None,
                            "%s: %s" % (type(e).__name__, e))
                if dev is not None:
                    self.resync_truth(dev.account)
                    dev.c.close()
                    dev.reset()
                    try:
                        self.foldersync(dev)
                    except Exception as e2:
                        self.log("%s cannot FolderSync: %s" % (dev.name, e2))

    # ---- comparison -----------------------------------------------------------------------------
    def finish(self, new_device=True):
        """Every device syncs everything and is compared; then a brand-new device per account
        syncs from scratch and must equal the truth; the truth is checked against the
        database."""
        self.op_no += 1
        self.log("---- final sync and comparison")
        for acc in self.accounts:
            for dev in acc.devices:
                self.foldersync(dev)
                for fid in list(dev.folders):
                    self.sync_until_done(dev, fid)
                self.compare(dev)
            if new_device:
                fresh = ModelDevice(self, acc, len(acc.devices), self.rng.choice(VERSIONS))
                fresh.name = "a%d.new(%s)" % (acc.index, fresh.version)
                try:
                    self.foldersync(fresh)
                    for fid in list(fresh.folders):
                        self.sync_until_done(fresh, fid)
                    self.compare(fresh)
                finally:
                    fresh.close()
            self.compare_db(acc)
        return self.discrepancies

    def compare(self, dev):
        acc = dev.account
        valid = {}                          # subject -> [(fid, sid)] not gone nor stale
        for fid in sorted(dev.folders):
            if not dev.fully_synced(fid):
                continue
            for sid, (subj, read) in sorted(dev.view.get(fid, {}).items()):
                m = acc.msgs.get(subj)
                if m is None:
                    self.report("ghost", dev, fid, "%s (%s) is deleted on the server"
                                % (sid, subj))
                elif sid in m.old or (m.sid is not None and m.sid != sid):
                    self.report("ghost", dev, fid, "%s (%s): the message is %s in %s now" % (
                        sid, subj, m.sid, acc.folders.get(m.folder, m.folder)))
                else:
                    valid.setdefault(subj, []).append((fid, sid))
                    if m.folder != fid:
                        self.report("wrong-folder", dev, fid, "%s (%s) is in %s" % (
                            sid, subj, acc.folders.get(m.folder, m.folder)))
                    elif read != m.read:
                        self.report("wrong-flag", dev, fid, "%s (%s) read=%d, truth %d"
                                    % (sid, subj, read, m.read))
        for subj, held in sorted(valid.items()):
            if len(held) > 1:
                self.report("duplicate", dev, held[0][0], "%s held as %s" % (subj, held))
        for subj, m in sorted(acc.msgs.items()):
            if m.folder not in dev.folders or not dev.fully_synced(m.folder):
                if m.folder in acc.folders and m.folder not in dev.folders:
                    self.report("missing", dev, m.folder, "folder %s unknown to the device"
                                % acc.folders[m.folder])
                continue
            if not valid.get(subj):
                self.report("missing", dev, m.folder, "%s (sid %s)" % (subj, m.sid))

    def compare_db(self, acc):
        db = self.db_items(acc)
        for subj, m in acc.msgs.items():
            rows = db.get(subj)
            if not rows:
                self.report("truth-db", acc, m.folder, "%s: not in the database" % subj)
            elif len(rows) > 1:
                self.report("truth-db", acc, m.folder, "%s: %d rows %s" % (subj, len(rows), rows))
            elif (rows[0][0], rows[0][1]) != (m.folder, m.read) or \
                    (m.sid is not None and rows[0][2] != m.sid):
                self.report("truth-db", acc, m.folder, "%s: model %s/read=%d/sid=%s, db %s"
                            % (subj, m.folder, m.read, m.sid, rows[0]))
        for subj in db:
            if subj.startswith("M-%s-" % self.tag) and subj not in acc.msgs:
                self.report("truth-db", acc, db[subj][0][0], "%s in the database only: %s"
                            % (subj, db[subj]))

    def close(self):
        for acc in self.accounts:
            for d in acc.devices:
                d.close()
