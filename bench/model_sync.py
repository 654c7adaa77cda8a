#!/usr/bin/python3
"""The long randomized, model-based sync run of issue 12 (t/e2e/syncmodel.py), optionally with
faults.

  bench/model_sync.py [--seed 1] [--ops 10000] [--accounts 3] [--devices 3] [--faults]
                      [--fault-every 2.0] [--fault-kinds kill-child,graceful,pg-restart]
                      [--quiet] [--keep DIR | --dir DIR --port N]

Starts its own private instance (t/harness/zxinstance.py; needs a build, ZX_BUILDDIR) unless
--dir/--port name a running one.  Several accounts x devices (12.1, 14.1, 16.1) run a seeded
sequence of deliveries, windowed Syncs, read changes, deletes (with and without
DeletesAsMoves), MoveItems, folder create/delete and lost responses; at the end every device and
a brand-new device per account sync everything and are compared with the truth.

--faults: a thread injects, every --fault-every seconds on average, one of: kill -9 of the httpd
child serving the request in flight (else of a random child), a graceful restart
(apache2 -k graceful), a PostgreSQL fast restart (pg_ctl restart -m fast); and 5% of the
deliveries are killed (kill -9 of zxsuite) mid-way.  A device retries a failed request
(connection error, 5xx, Sync status 5) as it was, with the same SyncKey, after a short backoff.

Prints the operations (unless --quiet), the faults and the discrepancies; the last line is
  model: seed=N ops=N faults=K discrepancies=D echo=E false_conflicts=F ...
Exit status 1 when there is any discrepancy."""

import argparse
import os
import random
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "t", "harness"))
sys.path.insert(0, os.path.join(HERE, "..", "t", "e2e"))
import zxinstance  # noqa: E402
from syncmodel import Model  # noqa: E402


def children(ppid):
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/status" % pid) as f:
                for line in f:
                    if line.startswith("PPid:"):
                        if int(line.split()[1]) == ppid:
                            out.append(int(pid))
                        break
        except OSError:
            pass
    return out


def socket_inode(local_port, remote_port):
    """Inode of the server side of a loopback TCP connection (local_port -> remote_port)."""
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    lp = int(parts[1].rsplit(":", 1)[1], 16)
                    rp = int(parts[2].rsplit(":", 1)[1], 16)
                    if lp == local_port and rp == remote_port:
                        return parts[9]
        except OSError:
            pass
    return None


def owner_of(pids, inode):
    target = "socket:[%s]" % inode
    for pid in pids:
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                try:
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == target:
                        return pid
                except OSError:
                    pass
        except OSError:
            pass
    return None


class Faults:
    """A thread that injects faults at random moments into the instance of the model."""

    KINDS = {"kill-child": 6, "graceful": 2, "pg-restart": 1}

    def __init__(self, inst, model, every, seed, kinds=None):
        self.inst = inst
        self.kinds = kinds or sorted(self.KINDS)
        self.model = model
        self.every = every
        self.rng = random.Random(seed * 7919 + 1)
        self.counts = {}
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def count(self, kind):
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def total(self):
        return sum(self.counts.values())

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_ev.set()
        self.thread.join(120)

    def run(self):
        while not self.stop_ev.wait(self.rng.expovariate(1.0 / self.every)):
            kind = self.rng.choices(self.kinds, [self.KINDS[k] for k in self.kinds])[0]
            try:
                getattr(self, kind.replace("-", "_"))()
                self.count(kind)
            except Exception as e:          # a fault that could not be injected
                self.model.log("FAULT %s failed: %s" % (kind, e))

    def kill_child(self):
        master = self.inst.httpd_pid()
        if not master:
            return
        kids = children(master)
        if not kids:
            return
        victim, how = None, "random child"
        dev = self.model.current
        conn = getattr(dev.c, "_conn", None) if dev is not None else None
        sock = getattr(conn, "sock", None) if conn is not None else None
        if sock is not None:
            try:
                inode = socket_inode(self.inst.port, sock.getsockname()[1])
                if inode:
                    victim = owner_of(kids, inode)
                    how = "child serving %s" % dev.name
            except (OSError, socket.error):
                pass
        if victim is None:
            victim = self.rng.choice(kids)
            how = "random child"
        os.kill(victim, signal.SIGKILL)
        self.model.log("FAULT kill -9 httpd %s (pid %d)" % (how, victim))

    def graceful(self):
        self.inst.httpd_ctl("graceful")
        self.model.log("FAULT apache2 -k graceful")

    def pg_restart(self):
        t0 = time.time()
        zxinstance._run([os.path.join(zxinstance._pg_bindir(), "pg_ctl"), "-D", self.inst.pg_data,
                         "-l", self.inst.pg_log, "-m", "fast", "-w", "-t", "60", "restart"],
                        user="postgres")
        self.model.log("FAULT PostgreSQL fast restart (%.1f s)" % (time.time() - t0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ops", type=int, default=10000)
    ap.add_argument("--accounts", type=int, default=3)
    ap.add_argument("--devices", type=int, default=3)
    ap.add_argument("--faults", action="store_true")
    ap.add_argument("--fault-every", type=float, default=2.0,
                    help="mean seconds between two faults (default 2)")
    ap.add_argument("--fault-kinds", default="kill-child,graceful,pg-restart",
                    help="comma-separated subset of kill-child, graceful, pg-restart")
    ap.add_argument("--quiet", action="store_true",
                    help="print only faults, retries and discrepancies")
    ap.add_argument("--keep", help="state directory to keep (default: a temporary one)")
    ap.add_argument("--dir", help="state directory of a running instance to use")
    ap.add_argument("--port", type=int, help="its port (with --dir)")
    args = ap.parse_args()

    def out(line):
        if not args.quiet or "FAULT" in line or "!!" in line or "retrying" in line \
                or "---" in line:
            print(line, flush=True)

    own = not args.dir
    tmp = args.keep or args.dir or tempfile.mkdtemp(prefix="zxmodel-")
    inst = zxinstance.Instance(tmp, args.port or zxinstance.free_port())
    if own:
        inst.up()
    model = faults = None
    t0 = time.time()
    try:
        model = Model(inst, args.seed, accounts=args.accounts, devices=args.devices, log=out,
                      retry_for=120.0 if args.faults else 0.0,
                      deliver_kill=0.05 if args.faults else 0.0)
        if args.faults:
            faults = Faults(inst, model, args.fault_every, args.seed,
                            [k for k in args.fault_kinds.split(",") if k])
            model.faults = faults
            faults.start()
        model.run(args.ops, keep_going=args.faults)
        if faults:
            faults.stop()
            model.log("faults stopped: %s" % faults.counts)
        model.finish()
    finally:
        if faults:
            faults.stop()
        if model:
            model.close()
        if own:
            inst.down()
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
    c = model.counts()
    print(model.summary_text(tail=0).rsplit("\nop log tail:", 1)[0])
    print("took %.0f s; %d requests retried after a failure, %d lost responses replayed; "
          "faults %s" % (time.time() - t0, model.retries, model.replays,
                         faults.counts if faults else {}))
    print("model: seed=%d ops=%d faults=%d discrepancies=%d echo=%d false_conflicts=%d "
          "missing=%d duplicate=%d ghost=%d stray=%d bad_status=%d"
          % (args.seed, args.ops, faults.total() if faults else 0, len(model.discrepancies),
             c.get("echo", 0), c.get("false-conflict", 0), c.get("missing", 0),
             c.get("duplicate", 0), c.get("ghost", 0), c.get("stray", 0),
             c.get("bad-status", 0) + c.get("bad-8", 0)))
    return 1 if model.discrepancies else 0


if __name__ == "__main__":
    sys.exit(main())
