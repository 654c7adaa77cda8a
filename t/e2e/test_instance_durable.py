"""The instance `t/instance up` (and so `./zx up`) starts is durable: its PostgreSQL keeps
the defaults fsync, synchronous_commit and full_page_writes on.  Only the test suite's
throw-away instances (conftest: durable=False) trade durability for speed."""

import os
import shutil
import subprocess
import sys
import tempfile

import zxinstance

INSTANCE = os.path.join(zxinstance.SRC_DIR, "t", "instance")


def test_t_instance_up_is_durable(instance):
    tmp = tempfile.mkdtemp(prefix="zxmobile-durable-")
    env = dict(os.environ)
    env.setdefault("ZX_BUILDDIR", instance.build_dir)
    try:
        up = subprocess.run([sys.executable, INSTANCE, "up", "--dir", tmp,
                             "--port", str(zxinstance.free_port())],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=300)
        assert up.returncode == 0, up.stderr.decode()
        inst = zxinstance.Instance(tmp, 1)   # only for its PostgreSQL paths and psql
        got = inst._psql("postgres", "SELECT current_setting('fsync') || ' ' || "
                         "current_setting('synchronous_commit') || ' ' || "
                         "current_setting('full_page_writes')").strip()
        assert got == "on on on"
        # the suite's own instance is the throw-away kind
        assert instance._psql("postgres", "SHOW fsync").strip() == "off"
    finally:
        subprocess.run([sys.executable, INSTANCE, "down", "--dir", tmp], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)
