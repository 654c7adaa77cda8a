"""The mobile anti-DoS filter (spec 5) on its own httpd: a device/account over
mobileAntiDosServiceMaxRequests requests within mobileAntiDosServiceTimeWindow is jailed (503 with
Retry-After = the jail's remaining seconds), the jailing is recorded as a server notification
(`zxsuite core getNotification`) and mailed to ZxMobile_NotificationRecipients once, the limit
holds across two httpd children (shared memory), and `zxsuite mobile doRestartService anti-dos`
frees the jails and resets the counters in every child.

The DoS attributes are global, so this module runs its own httpd on its own database of the
session's PostgreSQL: the low limits never reach the session's instance.  That httpd runs the
worker MPM with two children of one thread each: a keep-alive connection holds its thread, so
with two clients connected each holds one child and their requests alternate between the two
children (the access log records the serving pid to prove it)."""

import json
import os
import re
import shutil
import tempfile
import time
import uuid

import pytest

import zxinstance
from easclient import EASClient
from mailtools import FAKE_SENDMAIL, PASSWORD, FakeSendmail

FOLDERSYNC0 = '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>'
MAX_REQUESTS = 6
JAIL_MS = 20000
ADMINS = ["dos-admin1@example.org", "dos-admin2@example.org"]
MPM_DIRECTIVES = ("StartServers", "ServerLimit", "ThreadLimit", "ThreadsPerChild",
                  "MaxRequestWorkers", "MinSpareThreads", "MaxSpareThreads", "ThreadStackSize",
                  "AsyncRequestWorkerFactor")


class DosInstance(zxinstance.Instance):
    """An httpd of its own (worker MPM, two children of one thread) on database `dbname` of
    the session's PostgreSQL."""

    def __init__(self, dir, session, dbname):
        super().__init__(dir, zxinstance.free_port())
        self.session = session
        self.dbname = dbname
        self.pid_log = os.path.join(self.httpd_dir, "pid.log")

    @property
    def conninfo(self):
        return self.session.conninfo_for(self.dbname)

    def psql(self, sql, dbname=None):
        return self.session.psql(sql, dbname=self.dbname)

    def write_httpd_conf(self, extra=""):
        super().write_httpd_conf(extra)
        with open(self.conf_path) as f:
            lines = f.read().splitlines()
        out = []
        for line in lines:
            if line.split(" ", 1)[0] in MPM_DIRECTIVES:
                continue
            line = re.sub(r"^LoadModule mpm_event_module .*$",
                          "LoadModule mpm_worker_module %s/mod_mpm_worker.so"
                          % zxinstance.APACHE_MODULES, line)
            out.append(line)
        out += ["StartServers 2", "ServerLimit 2", "ThreadLimit 1", "ThreadsPerChild 1",
                "MinSpareThreads 1", "MaxSpareThreads 2", "MaxRequestWorkers 2",
                'LogFormat "%P %>s %r" zxpid', 'CustomLog "{}" zxpid'.format(self.pid_log)]
        with open(self.conf_path, "w") as f:
            f.write("\n".join(out) + "\n")

    def served(self, at_least=0, timeout=5.0):
        """(pid, status) of every request so far, in order.  httpd writes the access log line
        after the response has gone, so wait (up to timeout) for at least that many lines."""
        deadline = time.time() + timeout
        while True:
            try:
                with open(self.pid_log) as f:
                    out = [(int(l.split()[0]), int(l.split()[1])) for l in f if l.strip()]
            except FileNotFoundError:
                out = []
            if len(out) >= at_least or time.time() > deadline:
                return out
            time.sleep(0.05)


@pytest.fixture(scope="module")
def dos(instance):
    """The instance, its account and the fake sendmail; the anti-DoS service on with
    MaxRequests 6 per minute and a 20 s jail."""
    dbname = "zxdos_" + uuid.uuid4().hex[:10]
    tmp = tempfile.mkdtemp(prefix="zxmobile-dos-")
    os.chmod(tmp, 0o755)
    instance.create_database(dbname)
    inst = DosInstance(tmp, instance, dbname)
    maildir = tempfile.mkdtemp(prefix="zx-dos-sendmail-")
    os.chmod(maildir, 0o777)
    fake = FakeSendmail(maildir)
    fake.clear()
    os.chmod(fake.log, 0o666)
    try:
        inst.zxsuite_run("db", "migrate")
        dom = "dos%s.test" % uuid.uuid4().hex[:8]
        inst.zxsuite_run("prov", "createDomain", dom)
        account = "user@" + dom
        inst.zxsuite_run("prov", "createAccount", account, PASSWORD,
                         "zimbraFeatureMobileSyncEnabled", "TRUE")
        for attr, value in (("mobileAntiDosServiceEnabled", "TRUE"),
                            ("mobileAntiDosServiceMaxRequests", str(MAX_REQUESTS)),
                            ("mobileAntiDosServiceTimeWindow", "60000"),
                            ("mobileAntiDosServiceJailDuration", str(JAIL_MS))):
            inst.zxsuite_run("config", "set", "global", attr, value)
        inst.zxsuite_run("config", "set", "global", "ZxMobile_NotificationRecipients",
                         "\n".join(ADMINS))      # multi-valued: one address per line
        os.makedirs(inst.extra_dir, exist_ok=True)
        with open(os.path.join(inst.extra_dir, "zz-fake-sendmail.conf"), "w") as f:
            f.write("ZxMobileSendmail %s --log %s --exit-file %s\n"
                    % (FAKE_SENDMAIL, fake.log, fake.exit_file))
        inst.httpd_up()
        inst.account = account
        inst.fake = fake
        yield inst
    finally:
        inst.httpd_down()
        with open(inst.error_log) as f:
            # AH00286 "server reached MaxRequestWorkers": this instance has 2 workers on
            # purpose; on a loaded machine a request may wait for one, which is no error here
            bad = [l for l in f if re.search(r"\[(?:[a-z_]+:)?(?:error|crit|alert|emerg)\]"
                                              r"|exit signal|child pid \d+ exit", l)
                   and "AH00286" not in l]
        instance.drop_database(dbname)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(maildir, ignore_errors=True)
        assert not bad, "errors in the DoS instance's error log:\n" + "".join(bad)


def recipients_set(dos):
    """ZxMobile_NotificationRecipients holds both admins (multi-valued: one per line)."""
    out = dos.zxsuite_run("--json", "config", "get", "global",
                          "ZxMobile_NotificationRecipients").stdout
    return json.loads(out)["response"]["value"]


def client(dos, device_id):
    return EASClient(dos.url, dos.account, PASSWORD, device_id, "TestPhone", protocol="14.1")


def notifications(dos):
    out = dos.zxsuite_run("--json", "core", "getNotification").stdout
    return json.loads(out)["response"]["notifications"]


def restart_anti_dos(dos):
    out = dos.zxsuite_run("mobile", "doRestartService", "anti-dos").stdout
    assert "service restarted" in out


def wait_until_free(c, timeout=8.0):
    """After doRestartService each child frees its view within a few seconds."""
    end = time.time() + timeout
    r = c.post("FolderSync", FOLDERSYNC0)
    while r.status == 503 and time.time() < end:
        time.sleep(0.25)
        r = c.post("FolderSync", FOLDERSYNC0)
    return r


def test_jail_across_two_children_notification_and_reset(dos):
    assert recipients_set(dos) == ADMINS
    dev = "dos" + uuid.uuid4().hex[:12]
    a, b = client(dos, dev), client(dos, dev)       # one device, two connections
    first_log = len(dos.served())
    try:
        # MaxRequests requests pass, alternating between the two children
        for i in range(MAX_REQUESTS):
            r = (a if i % 2 == 0 else b).post("FolderSync", FOLDERSYNC0)
            assert r.status == 200, (i, r)
        served = dos.served(first_log + MAX_REQUESTS)[first_log:]
        assert [s for _, s in served] == [200] * MAX_REQUESTS
        pids = [p for p, _ in served]
        assert len(set(pids)) == 2, pids                       # two children served them
        assert pids[0::2] == [pids[0]] * (MAX_REQUESTS // 2)   # a always on one,
        assert pids[1::2] == [pids[1]] * (MAX_REQUESTS // 2)   # b on the other

        # the next one, on either child, is over the limit: jailed for the whole duration
        r = a.post("FolderSync", FOLDERSYNC0)
        assert r.status == 503
        assert r.headers["Retry-After"] == str(JAIL_MS // 1000)
        r = b.post("FolderSync", FOLDERSYNC0)
        assert r.status == 503
        left = int(r.headers["Retry-After"])
        assert 1 <= left <= JAIL_MS // 1000
        # OPTIONS too, when its query names the device
        r = b.request("OPTIONS", "%s?User=%s&DeviceId=%s&DeviceType=TestPhone"
                      % (b.path, dos.account, dev), headers=b._common_headers())
        assert r.status == 503 and "Retry-After" in r.headers
        assert [s for _, s in dos.served(first_log + MAX_REQUESTS + 3)[first_log:]][-3:] == \
            [503, 503, 503]

        # one server notification and one mail to both admins for this jailing
        ns = [n for n in notifications(dos) if n["device_id"] == dev]
        assert len(ns) == 1
        n = ns[0]
        assert n["source"] == "anti-dos" and n["module"] == "ZxMobile"
        assert n["level"] == "warning" and n["account"] == dos.account
        assert n["mail"] == "sent"
        assert dev in n["subject"] and dos.account in n["subject"]
        assert "more than %d requests within 60000 ms" % MAX_REQUESTS in n["text"]
        one = json.loads(dos.zxsuite_run("--json", "core", "getNotification", "id",
                                         n["id"]).stdout)["response"]["notifications"]
        assert len(one) == 1 and one[0]["text"] == n["text"]
        human = dos.zxsuite_run("core", "getNotification").stdout
        assert human.startswith("notifications\n") and n["subject"] in human
        sent = [m for m in dos.fake.sent() if dev in m["stdin"]]
        assert len(sent) == 1
        assert sent[0]["argv"] == ["-i", "-f", ADMINS[0]] + ADMINS
        body = sent[0]["stdin"]
        assert "\nTo: %s, %s\n" % tuple(ADMINS) in "\n" + body
        assert "Subject: [zxmobile] Mobile anti-DoS: device %s of %s jailed" % (dev, dos.account) \
            in body
        assert "Auto-Submitted: auto-generated" in body
        assert "Device id:   %s" % dev in body

        # another device of the same account is not jailed (the key is account/device)
        a.close()
        other = client(dos, "dosother" + uuid.uuid4().hex[:8])
        assert other.post("FolderSync", FOLDERSYNC0).status == 200
        other.close()

        # doRestartService anti-dos frees the jail in both children and resets the counters
        mark = len(dos.served())
        restart_anti_dos(dos)
        r = wait_until_free(a)
        assert r.status == 200
        assert b.post("FolderSync", FOLDERSYNC0).status == 200
        deadline = time.time() + 5
        while True:     # (the access log line follows the response)
            free = [(p, s) for p, s in dos.served()[mark:] if s == 200]
            if len(free) >= 2 or time.time() > deadline:
                break
            time.sleep(0.05)
        assert len({p for p, _ in free}) == 2, free   # both children let it through
        for i in range(MAX_REQUESTS - 2):             # counting restarted at the reset
            assert (a if i % 2 == 0 else b).post("FolderSync", FOLDERSYNC0).status == 200, i
        r = b.post("FolderSync", FOLDERSYNC0)
        assert r.status == 503 and r.headers["Retry-After"] == str(JAIL_MS // 1000)
        # a second jailing: a second notification and a second mail
        assert len([n for n in notifications(dos) if n["device_id"] == dev]) == 2
        assert len([m for m in dos.fake.sent() if dev in m["stdin"]]) == 2
    finally:
        a.close()
        b.close()
        restart_anti_dos(dos)


def test_jail_ends_and_service_switch(dos):
    dev = "dosend" + uuid.uuid4().hex[:10]
    c = client(dos, dev)
    try:
        dos.zxsuite_run("config", "set", "global", "mobileAntiDosServiceJailDuration", "1500")
        time.sleep(2.5)                       # the children re-read the settings every 2 s
        for i in range(MAX_REQUESTS):
            assert c.post("FolderSync", FOLDERSYNC0).status == 200, i
        r = c.post("FolderSync", FOLDERSYNC0)
        assert r.status == 503 and r.headers["Retry-After"] == "2"   # 1.5 s, rounded up
        time.sleep(1.7)
        assert c.post("FolderSync", FOLDERSYNC0).status == 200      # the jail is over

        # with the service disabled nothing is counted or refused
        dos.zxsuite_run("config", "set", "global", "mobileAntiDosServiceEnabled", "FALSE")
        time.sleep(2.5)
        for i in range(MAX_REQUESTS * 2):
            assert c.post("FolderSync", FOLDERSYNC0).status == 200, i
        svc = json.loads(dos.zxsuite_run("--json", "mobile", "getServices").stdout)
        assert svc["response"]["services"]["anti-dos"]["could_not_start_because"] == \
            "anti-dos disabled"
    finally:
        c.close()
        dos.zxsuite_run("config", "set", "global", "mobileAntiDosServiceEnabled", "TRUE")
        dos.zxsuite_run("config", "set", "global", "mobileAntiDosServiceJailDuration", str(JAIL_MS))
        restart_anti_dos(dos)
