#!/usr/bin/python3
"""The layering check can fail: it is run on small trees made here - one that keeps the
layers, and ones with an upward include, an upward call hidden behind a hand-written
declaration, a cycle between folders, an unlisted header, an over-long file.  Prints TAP."""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, "check_layers.py")
CC = os.environ.get("CC", "cc").split()[0]

LAYERS = """# test
1 core   low.h
2 proto  mid.h
6 eas    high.h
"""


def tree(files, objects=None):
    """A tree in a temporary directory: {path: text}; objects {folder/name.c: text} are
    compiled into build/libzxsync/folder/.libs/name.o."""
    d = tempfile.mkdtemp(prefix="layers-")
    files = dict(files)
    files.setdefault("libzxsync/LAYERS", LAYERS)
    for h in ("low.h", "mid.h", "high.h"):
        files.setdefault("libzxsync/include/zxsync/" + h, "int %s_fn(void);\n" % h[:-2])
    for path, text in files.items():
        full = os.path.join(d, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    for path, text in (objects or {}).items():
        folder, name = path.split("/")
        src = os.path.join(d, "objsrc", name)
        os.makedirs(os.path.dirname(src), exist_ok=True)
        with open(src, "w") as f:
            f.write(text)
        out = os.path.join(d, "build", "libzxsync", folder, ".libs", name[:-2] + ".o")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run([CC, "-c", "-o", out, src], check=True)
    return d


def run(d, build=False):
    cmd = [sys.executable, CHECK, "--root", d]
    if build:
        cmd += ["--build", os.path.join(d, "build")]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout


GOOD = {
    "libzxsync/core/low.c": "#include <zxsync/low.h>\nint low_fn(void) { return 1; }\n",
    "libzxsync/proto/mid.c": "#include <zxsync/mid.h>\n#include <zxsync/low.h>\n"
                             "int mid_fn(void) { return low_fn(); }\n",
    "libzxsync/eas/high.c": '#include <zxsync/high.h>\n#include <zxsync/mid.h>\n'
                            '#include "private.h"\nint high_fn(void) { return mid_fn(); }\n',
    "libzxsync/eas/private.h": "#include <zxsync/low.h>\n",
}
OBJS = {
    "core/low.c": "int low_fn(void) { return 1; }\n",
    "proto/mid.c": "int low_fn(void);\nint mid_fn(void) { return low_fn(); }\n",
    "eas/high.c": "int mid_fn(void);\nint high_fn(void) { return mid_fn(); }\n",
}

cases = []


def case(name, files, expect_ok, needle=None, objects=None):
    cases.append((name, files, expect_ok, needle, objects))


case("a tree that keeps the layers passes", GOOD, True, objects=OBJS)
case("an upward include fails", dict(GOOD, **{
    "libzxsync/core/low.c": "#include <zxsync/high.h>\nint low_fn(void) { return 1; }\n"}),
    False, "libzxsync/core/low.c:1 includes zxsync/high.h: core (level 1) reaches up to eas")
case("an upward relative include fails", dict(GOOD, **{
    "libzxsync/proto/mid.c": '#include "../eas/private.h"\n'}),
    False, "reaches up to eas (level 6)")
case("a public header including a higher one fails", dict(GOOD, **{
    "libzxsync/include/zxsync/low.h": "#include <zxsync/mid.h>\n"}),
    False, "core (level 1) reaches up to proto")
case("an upward call behind a hand-written declaration fails", GOOD, False,
     "core/low.o calls high_fn (eas): level 1 calls level 6",
     objects=dict(OBJS, **{"core/low.c": "int high_fn(void);\n"
                                          "int low_fn(void) { return high_fn(); }\n"}))
case("a cycle between folders of one level fails", dict(GOOD, **{
    "libzxsync/LAYERS": LAYERS + "2 mime  side.h\n",
    "libzxsync/include/zxsync/side.h": "#include <zxsync/mid.h>\n",
    "libzxsync/proto/mid.c": "#include <zxsync/side.h>\n"}),
    False, "no include cycle between folders")
case("a header in no folder's list fails", dict(GOOD, **{
    "libzxsync/include/zxsync/stray.h": "\n"}),
    False, "stray.h is in no folder's list")
case("a folder missing from LAYERS fails", dict(GOOD, **{
    "libzxsync/newthing/x.c": "\n"}),
    False, "folder newthing is not in libzxsync/LAYERS")
case("an over-long file fails", dict(GOOD, **{
    "libzxsync/eas/big.c": "int x;\n" * 2000}),
    False, "big.c has 2000 lines")

print("1..%d" % len(cases))
for i, (name, files, expect_ok, needle, objects) in enumerate(cases, 1):
    d = tree(files, objects)
    try:
        rc, out = run(d, build=objects is not None)
    finally:
        shutil.rmtree(d)
    good = (rc == 0) == expect_ok and (needle is None or needle in out)
    print("%s %d - %s" % ("ok" if good else "not ok", i, name))
    if not good:
        print("# exit %d, output:" % rc)
        for line in out.splitlines():
            print("#   " + line)
