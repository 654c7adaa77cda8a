"""End-to-end test harness: one private PostgreSQL + httpd (the freshly built module) for the
session, started and torn down here; every test fails if the httpd error log gained a line at
level error or worse (or a crashed child) that the test did not declare with `expect_log`, and
every test fails if a WBXML response its clients received breaks the structure of [MS-ASCMD]
(easclient/schema.py, checked by the client on every response)."""

import os
import re
import shutil
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))

import zxinstance  # noqa: E402
from easclient import EASClient  # noqa: E402
from easclient import schema as response_schema  # noqa: E402

BAD_LOG = re.compile(r"\[(?:[a-z_]+:)?(?:error|crit|alert|emerg)\]|exit signal|Segmentation fault"
                     r"|AddressSanitizer|double free|child pid \d+ exit")


class ErrorLog:
    """Reads what the error log gained since a mark."""

    def __init__(self, path):
        self.path = path
        self.offset = self._size()
        self.expected = []

    def _size(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def mark(self):
        self.offset = self._size()

    def new_lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []
        return data.decode("utf-8", "replace").splitlines()

    def expect(self, pattern):
        self.expected.append(re.compile(pattern))

    def contains(self, pattern):
        rx = re.compile(pattern)
        return any(rx.search(line) for line in self.new_lines())

    def unexpected(self):
        out = []
        for line in self.new_lines():
            if BAD_LOG.search(line) and not any(rx.search(line) for rx in self.expected):
                out.append(line)
        return out


@pytest.fixture(scope="session")
def instance():
    """The session's instance; its state directory is removed afterwards unless
    ZX_KEEP_STATE=1 (then its path is printed, for a look at the logs)."""
    tmp = tempfile.mkdtemp(prefix="zxmobile-e2e-")
    inst = zxinstance.Instance(tmp, zxinstance.free_port(), durable=False)
    try:
        inst.up()
        yield inst
    finally:
        inst.down()
        if os.environ.get("ZX_KEEP_STATE") == "1":
            print("\nzxmobile e2e state kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(autouse=True)
def error_log(request):
    """Fail the test when httpd logged an error it did not expect."""
    if "instance" not in request.fixturenames:
        yield None
        return
    inst = request.getfixturevalue("instance")
    log = ErrorLog(inst.error_log)
    yield log
    bad = log.unexpected()
    assert not bad, "unexpected errors in the httpd error log:\n" + "\n".join(bad)


@pytest.fixture(autouse=True)
def response_structure():
    """Fail the test when a WBXML response received during it broke the structure of the
    command responses of [MS-ASCMD] (element order, required elements, Status); the EAS
    client records the violations in easclient.schema.VIOLATIONS."""
    del response_schema.VIOLATIONS[:]
    yield response_schema.VIOLATIONS
    found = {}
    for v in response_schema.VIOLATIONS:
        found[v] = found.get(v, 0) + 1
    del response_schema.VIOLATIONS[:]
    lines = ["%s%s" % (v, " (%d times)" % n if n > 1 else "") for v, n in found.items()]
    if len(lines) > 40:
        lines = lines[:40] + ["... and %d more" % (len(lines) - 40)]
    assert not found, "responses that break the [MS-ASCMD] structure " \
        "(t/e2e/easclient/schema.py):\n" + "\n".join(lines)


@pytest.fixture
def expect_log(error_log):
    return error_log.expect


@pytest.fixture
def client_factory(instance):
    made = []

    def make(protocol="14.1", device_id="zxtest0001", device_type="TestDevice",
             user=zxinstance.DEMO_ACCOUNT, password=zxinstance.DEMO_PASSWORD, url=None, **kw):
        c = EASClient(url or instance.url, user, password, device_id, device_type,
                      protocol=protocol, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def client(client_factory):
    return client_factory()


@pytest.fixture
def device_factory(instance):
    """make(account, version="14.1", foldersync=True, **kw): a syncutil.Device of the account
    (its FolderSync done), closed after the test."""
    from syncutil import Device
    made = []

    def make(account, version="14.1", foldersync=True, **kw):
        d = Device(instance, account, protocol=version, **kw)
        if foldersync:
            d.foldersync()
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()
