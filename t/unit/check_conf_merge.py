#!/usr/bin/python3
"""Guard (after mod_auth_openidc): every field of zxm_srv_conf is handled both in
zxm_create_srv_conf and in zxm_merge_srv_conf, so a new directive cannot silently lose its
value in a virtual host.  Prints TAP."""
import os
import re
import sys

src = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), "..", ".."))
header = open(os.path.join(src, "mod_zxmobile", "zxm_config.h")).read()
code = open(os.path.join(src, "mod_zxmobile", "zxm_config.c")).read()

struct = re.search(r"typedef struct \{(.*?)\} zxm_srv_conf;", header, re.S)
fields = re.findall(r"^\s*[A-Za-z_][\w\s\*]*?\**\s*(\w+);", struct.group(1), re.M)


def body(fn):
    m = re.search(r"\n[^\n]*\b%s\([^)]*\)\s*\{(.*?)\n\}" % fn, code, re.S)
    if not m:
        print("Bail out! function %s not found" % fn)
        sys.exit(1)
    return m.group(1)


create, merge = body("zxm_create_srv_conf"), body("zxm_merge_srv_conf")
n = 0
failed = 0
for f in fields:
    for name, text in (("create", create), ("merge", merge)):
        n += 1
        ok = re.search(r"->%s\b" % re.escape(f), text) is not None
        if name == "merge":
            # merge must read both the base and the added value, or say it is derived
            ok = ok and (re.search(r"add->%s\b" % f, text) is not None)
        print("%s %d - field %s handled in %s" % ("ok" if ok else "not ok", n, f, name))
        failed += not ok
if len(fields) < 5:
    n += 1
    failed += 1
    print("not ok %d - parsed only %d fields: the guard is broken" % (n, len(fields)))
print("1..%d" % n)
sys.exit(1 if failed else 0)
