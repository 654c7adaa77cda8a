#!/usr/bin/python3
"""Authenticated ActiveSync requests per second, with and without the verification cache.

Starts a private instance (t/harness/zxinstance.py), creates an account, and drives the real
httpd with wrk (keep-alive, loopback): FolderSync requests with Basic credentials, answered
after authentication, enablement check and WBXML decoding.  Runs once with the cache
(ZxMobile_AuthCacheSeconds 60) and once without (0): without it every request computes a
yescrypt hash.  Prints the figures; not part of the test suite.

  bench/bench_auth.py [--seconds 10] [--connections 16] [--threads 2] [--keep DIR]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "t", "harness"))
import zxinstance  # noqa: E402

LUA = r"""
wrk.method = "POST"
wrk.path = "/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=bench@bench.test&DeviceId=bench1&DeviceType=Bench"
wrk.headers["Authorization"] = "Basic %s"
wrk.headers["MS-ASProtocolVersion"] = "14.1"
wrk.headers["Content-Type"] = "application/vnd.ms-sync.wbxml"
wrk.body = "\x03\x01\x6a\x00\x00\x07\x56\x52\x03\x30\x00\x01\x01"
local statuses = {}
response = function(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
done = function(summary, latency, requests) end
"""


def run_wrk(inst, seconds, conns, threads, script):
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--latency", "-s", script,
           "http://127.0.0.1:%d" % inst.port]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+(\S+)", out).group(1)
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, p99, int(non2xx.group(1)) if non2xx else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", help="state directory to use and keep")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    d = a.keep or tempfile.mkdtemp(prefix="zxbench-auth-")
    inst = zxinstance.Instance(d, zxinstance.free_port(), log_level="warn", durable=False)
    inst.up()
    try:
        zx = inst.zxsuite_run
        if zx("prov", "getAccount", "bench@bench.test", check=False).returncode != 0:
            zx("prov", "createDomain", "bench.test", check=False)
            zx("prov", "createAccount", "bench@bench.test", "Bench-Pw-1",
               "zimbraFeatureMobileSyncEnabled", "TRUE")
        import base64
        cred = base64.b64encode(b"bench@bench.test:Bench-Pw-1").decode()
        script = os.path.join(d, "bench_auth.lua")
        with open(script, "w") as f:
            f.write(LUA % cred)
        print("zxmobile authenticated requests (FolderSync, 14.1, keep-alive, loopback)")
        print("machine: %d cores, %s" % (os.cpu_count(), open("/proc/cpuinfo").read().split("model name")[1].split(":")[1].split("\n")[0].strip()))
        print("wrk -t%d -c%d -d%ds, same machine as the server" % (a.threads, a.connections, a.seconds))
        results = {}
        for label, ttl in (("with cache (60 s)", "60"), ("without cache (0)", "0")):
            zx("config", "set", "global", "ZxMobile_AuthCacheSeconds", ttl)
            inst.reload()   # new children: empty caches
            run_wrk(inst, 2, a.connections, a.threads, script)   # warm-up
            rps, p50, p99, bad = run_wrk(inst, a.seconds, a.connections, a.threads, script)
            results[label] = rps
            print("  %-20s %9.0f req/s   p50 %-8s p99 %-8s non-2xx %d" % (label, rps, p50, p99, bad))
        zx("config", "unset", "global", "ZxMobile_AuthCacheSeconds")
        r = list(results.values())
        print("  cache speed-up: %.1fx" % (r[0] / r[1] if r[1] else float("inf")))
    finally:
        if not a.keep:
            inst.down()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
