"""zxmobile private instances: a PostgreSQL cluster and an httpd loading the freshly built
mod_zxmobile, both under one state directory, both on loopback or unix sockets only.

Used by `t/instance` (README command 1), the end-to-end tests and the benchmarks, so that all
of them drive an instance the same way.  Standard library only (Debian's python3).
"""

import glob
import hashlib
import json
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import contextlib
import tempfile
import time

SRC_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_BUILD_DIR = os.path.join(SRC_DIR, "_build", "gcc")
APACHE_MODULES = "/usr/lib/apache2/modules"
APACHE_BIN = "/usr/sbin/apache2"

DEMO_DOMAIN = "zxmobile.test"
DEMO_ACCOUNT = "demo@" + DEMO_DOMAIN
DEMO_PASSWORD = "demo-Passw0rd"
DB_NAME = "zxmobile"
DB_USER = "zxmobile"


class InstanceError(RuntimeError):
    pass


def _pg_bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(d.split("/")[-2]) if d.split("/")[-2].isdigit() else 0)
    if not dirs:
        raise InstanceError("PostgreSQL server binaries not found (apt-get install postgresql)")
    return dirs[-1]


def _run(cmd, check=True, env=None, user=None, capture=True, timeout=120):
    if user:
        cmd = ["runuser", "-u", user, "--"] + cmd
    p = subprocess.run(cmd, env=env, timeout=timeout, text=True,
                       stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.STDOUT if capture else None)
    if check and p.returncode != 0:
        raise InstanceError("command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd),
                                                             p.stdout or ""))
    return p


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _wait_port(port, host="127.0.0.1", timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _raise_nofile(want=65536):
    """httpd's children inherit this process's file limit: each waiting Ping holds its socket
    and an eventfd, so 1024 (the usual soft limit) is far too few."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return
        except (ValueError, OSError):
            want = hard
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _traversable_by(user, path):
    return _run(["test", "-x", path], check=False, user=user).returncode == 0


class Instance:
    """One private instance.  dir holds httpd/ (config, logs, pid) and pg/ (cluster)."""

    def __init__(self, dir, port=8080, build_dir=None, log_level="info", tls_port=None,
                 durable=True):
        self.dir = os.path.abspath(dir)
        # durable=True (what `./zx up` and `t/instance up` start): PostgreSQL's defaults, so a
        # committed delivery or SyncKey survives a power cut or an OS crash.  Only the test
        # suite's and the benchmarks' throw-away instances pass durable=False: fsync,
        # synchronous_commit and full_page_writes off, trading durability for speed.
        self.durable = durable
        self.port = int(port)
        self.tls_port = int(tls_port) if tls_port else self._default_tls_port()
        self.lmtp_port = self._default_lmtp_port()
        self.build_dir = os.path.abspath(build_dir or os.environ.get("ZX_BUILDDIR")
                                         or DEFAULT_BUILD_DIR)
        self.log_level = log_level
        self.httpd_dir = os.path.join(self.dir, "httpd")
        self.conf_path = os.path.join(self.httpd_dir, "httpd.conf")
        self.extra_dir = os.path.join(self.httpd_dir, "conf.d")
        self.error_log = os.path.join(self.httpd_dir, "error.log")
        self.access_log = os.path.join(self.httpd_dir, "access.log")
        self.pid_file = os.path.join(self.httpd_dir, "httpd.pid")
        self.pg_root = self._pg_root()
        self.pg_data = os.path.join(self.pg_root, "data")
        self.pg_sock = os.path.join(self.pg_root, "sock")
        self.pg_log = os.path.join(self.pg_root, "postgresql.log")

    # ---- paths ----------------------------------------------------------------------------
    def _default_tls_port(self):
        """The TLS port: the one this state directory used before, else 8443 next to 8080,
        else a free one."""
        try:
            with open(os.path.join(self.dir, "tls_port")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return 8443 if self.port == 8080 else free_port()

    def _default_lmtp_port(self):
        """The LMTP listener's port: the one this state directory used before, else a free one."""
        try:
            with open(os.path.join(self.dir, "lmtp_port")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return free_port()

    def _pg_root(self):
        """PostgreSQL runs as 'postgres': its directory must be reachable by that user.
        Inside the state directory when possible, else under /var/tmp (named after it)."""
        marker = os.path.join(self.dir, "pg.location")
        if os.path.exists(marker):
            with open(marker) as f:
                return f.read().strip()
        return os.path.join(self.dir, "pg")

    @property
    def zxsuite(self):
        return os.path.join(self.build_dir, "cli", "zxsuite")

    @property
    def module(self):
        return os.path.join(self.build_dir, "mod_zxmobile", ".libs", "mod_zxmobile.so")

    @property
    def libdir(self):
        return os.path.join(self.build_dir, "libzxsync", ".libs")

    @property
    def conninfo(self):
        return "host=%s dbname=%s user=%s" % (self.pg_sock, DB_NAME, DB_USER)

    def conninfo_for(self, dbname):
        return "host=%s dbname=%s user=%s" % (self.pg_sock, dbname, DB_USER)

    @property
    def url(self):
        return "http://127.0.0.1:%d/Microsoft-Server-ActiveSync" % self.port

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def tls_base_url(self):
        return "https://127.0.0.1:%d" % self.tls_port

    @property
    def tls_url(self):
        return self.tls_base_url + "/Microsoft-Server-ActiveSync"

    @property
    def tls_cert(self):
        """The self-signed certificate of the TLS port (PEM): what clients verify against."""
        return os.path.join(self.httpd_dir, "tls", "cert.pem")

    @property
    def tls_key(self):
        return os.path.join(self.httpd_dir, "tls", "key.pem")

    def env(self):
        """The shell lines `t/instance up` prints."""
        return {
            "ZX_URL": self.url,
            "ZXMOBILE_DB": self.conninfo,
            "ZX_ACCOUNT": DEMO_ACCOUNT,
            "ZX_PASSWORD": DEMO_PASSWORD,
            "ZXSUITE": self.zxsuite,
            "ZX_STATE_DIR": self.dir,
            "ZX_ERROR_LOG": self.error_log,
            "ZX_TLS_URL": self.tls_url,
            "ZX_TLS_CERT": self.tls_cert,
            "ZX_LMTP": "127.0.0.1:%d" % self.lmtp_port,
        }

    # ---- PostgreSQL ----------------------------------------------------------------------------
    def pg_running(self):
        pid = _read_pid(os.path.join(self.pg_data, "postmaster.pid"))
        return pid is not None and _alive(pid)

    def _choose_pg_root(self):
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        if not _traversable_by("postgres", self.dir):
            digest = hashlib.sha1(self.dir.encode()).hexdigest()[:12]
            root = "/var/tmp/zxmobile-pg-" + digest
            with open(os.path.join(self.dir, "pg.location"), "w") as f:
                f.write(root + "\n")
            self.pg_root = root
            self.pg_data = os.path.join(root, "data")
            self.pg_sock = os.path.join(root, "sock")
            self.pg_log = os.path.join(root, "postgresql.log")

    def pg_up(self):
        self._choose_pg_root()
        bindir = _pg_bindir()
        pg = pwd.getpwnam("postgres")
        for d in (self.pg_root, self.pg_sock):
            os.makedirs(d, exist_ok=True)
            os.chown(d, pg.pw_uid, pg.pw_gid)
            os.chmod(d, 0o755)
        if not os.path.exists(os.path.join(self.pg_data, "PG_VERSION")):
            _run([os.path.join(bindir, "initdb"), "-D", self.pg_data, "-U", "postgres",
                  "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"],
                 user="postgres")
        opts = ("-c listen_addresses='' -k %s -c unix_socket_permissions=0777 "
                "-c max_connections=300" % self.pg_sock)
        if not self.durable:    # a throw-away test instance (see __init__)
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        if not self.pg_running():
            _run([os.path.join(bindir, "pg_ctl"), "-D", self.pg_data, "-l", self.pg_log,
                  "-o", opts, "-w", "-t", "60", "start"], user="postgres")
        elif self.durable and self._psql("postgres", "SHOW fsync").strip() != "on":
            # a cluster an older harness started without durability: restart it durable
            _run([os.path.join(bindir, "pg_ctl"), "-D", self.pg_data, "-l", self.pg_log,
                  "-o", opts, "-m", "fast", "-w", "-t", "60", "restart"], user="postgres")
        self._psql("postgres", "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%s') "
                               "THEN CREATE ROLE %s LOGIN CREATEDB; END IF; END$$" % (DB_USER, DB_USER))
        self.create_database(DB_NAME)

    def _psql(self, dbname, sql, user="postgres"):
        return _run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.pg_sock, "-U", user,
                     "-d", dbname, "-At", "-c", sql]).stdout

    def psql(self, sql, dbname=DB_NAME):
        """Run SQL as the application role; returns stdout (unaligned, tuples only)."""
        return self._psql(dbname, sql, user=DB_USER)

    def create_database(self, name):
        exists = self._psql("postgres", "SELECT 1 FROM pg_database WHERE datname = '%s'" % name)
        if not exists.strip():
            _run(["createdb", "-h", self.pg_sock, "-U", "postgres", "-O", DB_USER, name])

    def drop_database(self, name):
        _run(["dropdb", "-h", self.pg_sock, "-U", "postgres", "--if-exists", "--force", name])

    def pg_down(self):
        if self.pg_running():
            _run([os.path.join(_pg_bindir(), "pg_ctl"), "-D", self.pg_data, "-m", "fast", "-w",
                  "stop"], user="postgres")

    def pg_restart(self):
        """A fast restart (pg_ctl restart -m fast): every session is terminated, the server is
        accepting connections again when this returns."""
        _run([os.path.join(_pg_bindir(), "pg_ctl"), "-D", self.pg_data, "-l", self.pg_log,
              "-m", "fast", "-w", "-t", "60", "restart"], user="postgres")

    # ---- zxsuite ------------------------------------------------------------------------------
    def zxsuite_run(self, *args, check=True, db=None):
        env = dict(os.environ)
        env["ZXMOBILE_DB"] = db or self.conninfo
        env["ZXMOBILE_SQLDIR"] = os.path.join(SRC_DIR, "sql")
        p = subprocess.run([self.zxsuite] + list(args), env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if check and p.returncode != 0:
            raise InstanceError("zxsuite %s failed (%d): %s%s" % (" ".join(args), p.returncode,
                                                                  p.stdout, p.stderr))
        return p

    def provision_demo(self):
        self.zxsuite_run("db", "migrate")
        # account loggers write only inside ZxMobile_AccountLoggerDirectory (default
        # /var/log/apache2): for this instance, its httpd log directory - unless set already
        got = json.loads(self.zxsuite_run("--json", "config", "get", "global",
                                          "ZxMobile_AccountLoggerDirectory").stdout)["response"]
        if got.get("isInherited", True):
            self.zxsuite_run("config", "set", "global", "ZxMobile_AccountLoggerDirectory",
                             self.httpd_dir)
        if self.zxsuite_run("prov", "getAccount", DEMO_ACCOUNT, check=False).returncode == 0:
            return
        p = self.zxsuite_run("prov", "createDomain", DEMO_DOMAIN, check=False)
        if p.returncode != 0 and "already exists" not in p.stderr:
            raise InstanceError("cannot create the demo domain: %s" % p.stderr)
        self.zxsuite_run("prov", "createAccount", DEMO_ACCOUNT, DEMO_PASSWORD,
                         "displayName", "Demo User", "zimbraFeatureMobileSyncEnabled", "TRUE")

    # ---- httpd ---------------------------------------------------------------------------------
    def ensure_tls_cert(self):
        """A self-signed certificate (and key) for 127.0.0.1 and localhost, made once with
        openssl and kept in the state directory."""
        if os.path.exists(self.tls_cert) and os.path.exists(self.tls_key):
            return
        tls_dir = os.path.dirname(self.tls_cert)
        os.makedirs(tls_dir, exist_ok=True)
        os.chmod(tls_dir, 0o700)
        if shutil.which("openssl") is None:
            raise InstanceError("openssl not found (apt-get install openssl)")
        _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
              "-nodes", "-days", "3650", "-subj", "/O=zxmobile test instance/CN=127.0.0.1",
              "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:autodiscover.%s" % DEMO_DOMAIN,
              "-addext", "basicConstraints=critical,CA:FALSE",
              "-addext", "keyUsage=critical,digitalSignature",
              "-addext", "extendedKeyUsage=serverAuth",
              "-keyout", self.tls_key, "-out", self.tls_cert])
        os.chmod(self.tls_key, 0o600)

    def write_httpd_conf(self, extra=""):
        for d in (self.httpd_dir, self.extra_dir, os.path.join(self.httpd_dir, "run"),
                  os.path.join(self.httpd_dir, "htdocs")):
            os.makedirs(d, exist_ok=True)
        self.ensure_tls_cert()
        conf = HTTPD_CONF.format(
            root=self.httpd_dir, port=self.port, modules=APACHE_MODULES, module=self.module,
            pid=self.pid_file, error_log=self.error_log, access_log=self.access_log,
            conninfo=self.conninfo, log_level=self.log_level, extra_dir=self.extra_dir,
            public_url=self.base_url, extra=extra,
            tls=TLS_CONF.format(root=self.httpd_dir, modules=APACHE_MODULES, tls_port=self.tls_port,
                                cert=self.tls_cert, key=self.tls_key)
            + LMTP_CONF.format(lmtp_port=self.lmtp_port))
        with open(self.conf_path, "w") as f:
            f.write(conf)
        with open(os.path.join(self.dir, "tls_port"), "w") as f:
            f.write("%d\n" % self.tls_port)
        with open(os.path.join(self.dir, "lmtp_port"), "w") as f:
            f.write("%d\n" % self.lmtp_port)

    def httpd_env(self):
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = self.libdir
        return env

    def httpd_pid(self):
        pid = _read_pid(self.pid_file)
        return pid if pid and _alive(pid) else None

    def httpd_up(self):
        if not os.path.exists(self.module):
            raise InstanceError("module not built: %s (run the build first)" % self.module)
        if self.httpd_pid():
            return
        self.write_httpd_conf()
        self.httpd_ctl("start")
        if not _wait_port(self.port) or not _wait_port(self.tls_port) or \
                not _wait_port(self.lmtp_port):
            raise InstanceError("httpd did not open ports %d, %d and %d; see %s"
                                % (self.port, self.tls_port, self.lmtp_port, self.error_log))
        end = time.time() + 10
        while not self.httpd_pid() and time.time() < end:
            time.sleep(0.05)

    def httpd_ctl(self, action):
        _raise_nofile()
        p = _run([APACHE_BIN, "-f", self.conf_path, "-k", action], check=False,
                 env=self.httpd_env())
        if p.returncode != 0:
            raise InstanceError("apache2 -k %s failed: %s" % (action, p.stdout))
        return p

    def httpd_configtest(self, conf_path=None):
        """apache2 -t on a config; returns (ok, output)."""
        p = _run([APACHE_BIN, "-t", "-f", conf_path or self.conf_path], check=False,
                 env=self.httpd_env())
        return p.returncode == 0, p.stdout

    def httpd_down(self, timeout=20):
        pid = self.httpd_pid()
        if not pid:
            return
        self.httpd_ctl("stop")
        end = time.time() + timeout
        while _alive(pid) and time.time() < end:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, 9)

    def reload(self):
        """Graceful restart after a config change (new module code is not reloaded)."""
        self.httpd_ctl("graceful")
        time.sleep(0.5)

    # ---- whole instance -----------------------------------------------------------------------
    def up(self):
        os.makedirs(self.dir, exist_ok=True)
        self.pg_up()
        self.provision_demo()
        self.httpd_up()
        return self

    def down(self):
        self.httpd_down()
        self.pg_down()

    def status(self):
        return {"httpd": self.httpd_pid(), "postgresql": self.pg_running(),
                "url": self.url, "dir": self.dir}


HTTPD_CONF = """\
# Generated by t/harness/zxinstance.py: a private httpd for zxmobile (loopback only).
ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{pid}"
DefaultRuntimeDir "{root}/run"
Mutex file:{root}/run default
ErrorLog "{error_log}"
LogLevel warn zxmobile:{log_level}
# the last field: "cache" when the answer came from the answer cache (ZxMobileAnswerCache)
LogFormat "%h %l %u %t \\"%r\\" %>s %b %D %{{zxmobile-answer}}n" zx
CustomLog "{access_log}" zx

LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule zxmobile_module {module}

User www-data
Group www-data

# Event MPM sized for push on this 2-core machine (see README, "Sizing httpd"): a waiting
# Ping holds one worker thread (blocked in poll, no database connection, small stack), so
# MaxRequestWorkers bounds the devices that can wait at once: here 12 x 1024.
StartServers 2
ServerLimit 12
ThreadLimit 1024
ThreadsPerChild 1024
MaxRequestWorkers 12288
MinSpareThreads 512
MaxSpareThreads 2560
ThreadStackSize 262144
MaxMemFree 32
MaxConnectionsPerChild 0
KeepAlive On
KeepAliveTimeout 60
MaxKeepAliveRequests 0
# Timeout covers a waiting Ping or hanging Sync (up to an hour); reading the request does not
# get that long (README "Limits and hardening"): the headers within 20 s (up to 40 s while they
# come at 500 bytes/s or more), the body within 20 s, extended for as long as it comes at 500
# bytes/s or more.  mod_reqtimeout acts on reading only, never on the wait of a Ping or Sync.
Timeout 3600
LoadModule reqtimeout_module {modules}/mod_reqtimeout.so
RequestReadTimeout header=20-40,MinRate=500 body=20,MinRate=500

<Directory />
    Require all denied
    AllowOverride None
</Directory>
DocumentRoot "{root}/htdocs"
<Directory "{root}/htdocs">
    Require all granted
</Directory>

ZxMobileEnable On
ZxMobileDatabase "{conninfo}"
# no MTA: mail between the instance's accounts is delivered, the rest refused (README,
# "Sending mail"); the tests point it at a fake sendmail or a test SMTP server
ZxMobileMailTransport none
ZxMobilePublicURL {public_url}
{tls}
{extra}
IncludeOptional "{extra_dir}/*.conf"
"""

# The TLS port (mod_ssl, README "TLS"): the same endpoints, with the instance's self-signed
# certificate.  Its virtual host inherits the ZxMobile* directives and announces its own URL.
TLS_CONF = """\
LoadModule socache_shmcb_module {modules}/mod_socache_shmcb.so
LoadModule ssl_module {modules}/mod_ssl.so
Listen 127.0.0.1:{tls_port} https
SSLSessionCache "shmcb:{root}/run/ssl_scache(512000)"
# Mozilla's "intermediate" configuration (README, "TLS"): TLS 1.2 with AEAD suites and forward
# secrecy only (no CBC, no RSA key exchange), and TLS 1.3.
SSLProtocol -all +TLSv1.2 +TLSv1.3
SSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305
SSLHonorCipherOrder off
SSLSessionTickets off
<VirtualHost 127.0.0.1:{tls_port}>
    ServerName 127.0.0.1
    SSLEngine on
    SSLCertificateFile "{cert}"
    SSLCertificateKeyFile "{key}"
    ZxMobilePublicURL https://127.0.0.1:{tls_port}
</VirtualHost>
"""

# The LMTP listener (README "Mail in: LMTP"): an MTA delivers into the mailboxes over
# loopback.  The "lmtp" protocol of the Listen keeps httpd's accept filter for HTTP (which
# waits for the client to speak first) off this port: in LMTP the server speaks first.
LMTP_CONF = """\
Listen 127.0.0.1:{lmtp_port} lmtp
<VirtualHost 127.0.0.1:{lmtp_port}>
    ServerName 127.0.0.1
    ZxMobileLMTP On
    Timeout 300
</VirtualHost>
"""


@contextlib.contextmanager
def another_httpd(instance, extra_conf=""):
    """Another httpd (its own parent, children and listeners) on instance's database - a
    second node - with extra_conf lines in its conf.d; stopped and removed afterwards."""
    tmp = tempfile.mkdtemp(prefix="zxmobile-node2-")
    node = Instance(tmp, free_port())
    node.pg_sock = instance.pg_sock
    if extra_conf:
        os.makedirs(node.extra_dir, exist_ok=True)
        with open(os.path.join(node.extra_dir, "node.conf"), "w") as f:
            f.write(extra_conf)
    try:
        node.httpd_up()
        yield node
    finally:
        node.httpd_down()
        shutil.rmtree(tmp, ignore_errors=True)
