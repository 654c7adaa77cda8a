#!/usr/bin/python3
"""Layering check (ARCHITECTURE.md section 1): libzxsync's folders are layers, read from
libzxsync/LAYERS; every arrow points down.  Prints TAP:

  1. every public header (libzxsync/include/zxsync/) is owned by a folder in LAYERS
  2. no #include of a header of a higher level (in .c files and in headers)
  3. no cycle between folders by #include
  4. no call into a higher level: the undefined symbols of each object file of the build are
     looked up in the objects that define them (nm), so a hand-written declaration does not
     get around check 2  (skipped when no build is at hand)
  5. no cycle between folders by call
  6. no library .c file over MAX_LINES lines

  t/unit/check_layers.py [--root DIR] [--build DIR]

DIR defaults: $top_srcdir and $top_builddir (as `make check` sets them), else the tree this
file is in.  Exit status 1 when a check fails."""
import argparse
import glob
import os
import re
import subprocess
import sys

MAX_LINES = 950
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def read_layers(root):
    """LAYERS -> ({folder: level}, {header: folder}); raises ValueError on a bad line."""
    levels, owner = {}, {}
    folder = None
    with open(os.path.join(root, "libzxsync", "LAYERS")) as f:
        for no, line in enumerate(f, 1):
            line = line.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            words = line.split()
            if not line[0].isspace():
                if len(words) < 2 or not words[0].isdigit():
                    raise ValueError("LAYERS:%d: expected 'level folder headers...'" % no)
                folder = words[1]
                if folder in levels:
                    raise ValueError("LAYERS:%d: folder %s twice" % (no, folder))
                levels[folder] = int(words[0])
                words = words[2:]
            elif folder is None:
                raise ValueError("LAYERS:%d: continuation line before any folder" % no)
            for h in words:
                if h in owner:
                    raise ValueError("LAYERS:%d: header %s owned by %s and %s"
                                     % (no, h, owner[h], folder))
                owner[h] = folder
    return levels, owner


def folder_of(lib, path):
    """The folder (layer) of a file below libzxsync/: its first directory."""
    return os.path.relpath(path, lib).split(os.sep)[0]


def sources(lib):
    for dirpath, dirs, files in os.walk(lib):
        dirs.sort()
        for name in sorted(files):
            if name.endswith((".c", ".h", ".def")):
                yield os.path.join(dirpath, name)


def find_cycle(edges):
    """A cycle in {a: {b: why}} as a list of nodes, or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, {})):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def describe_cycle(cycle, edges):
    return " -> ".join(cycle) + "  (" + "; ".join(
        edges[a][b] for a, b in zip(cycle, cycle[1:])) + ")"


def nm_symbols(obj):
    out = subprocess.run(["nm", "-P", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        sym, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(sym)
        elif kind in "TDBRVWGS":
            defined.add(sym)
    return defined, undefined


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.environ.get("top_srcdir") or
                    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--build", default=os.environ.get("top_builddir"))
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    lib = os.path.join(root, "libzxsync")
    pub = os.path.join(lib, "include", "zxsync")
    results = []

    try:
        levels, owner = read_layers(root)
    except (OSError, ValueError) as e:
        print("1..1\nnot ok 1 - libzxsync/LAYERS is readable\n# %s" % e)
        return 1

    # 1. every public header has an owner, and every owner is a layer
    problems = []
    for path in sorted(glob.glob(os.path.join(pub, "*"))):
        if os.path.basename(path) not in owner:
            problems.append("%s is in no folder's list in libzxsync/LAYERS"
                            % os.path.relpath(path, root))
    for h, f in sorted(owner.items()):
        if not os.path.exists(os.path.join(pub, h)):
            problems.append("LAYERS lists %s (folder %s) but there is no such header" % (h, f))
    for path in sources(lib):
        f = folder_of(lib, path)
        if f != "include" and f not in levels:
            problems.append("%s: folder %s is not in libzxsync/LAYERS"
                            % (os.path.relpath(path, root), f))
            break
    results.append(("every public header and every folder has a layer", problems))

    def layer_of_file(path):
        path = os.path.normpath(path)
        if os.path.dirname(path) == pub:
            return owner.get(os.path.basename(path))
        if not path.startswith(lib + os.sep):
            return None
        return folder_of(lib, path)

    # 2./3. includes
    upward, edges = [], {}
    for path in sources(lib):
        src = layer_of_file(path)
        if src not in levels:
            continue
        with open(path, errors="replace") as f:
            text = f.read()
        for m in INCLUDE.finditer(text):
            kind, name = m.group(1), m.group(2)
            if name.startswith("zxsync/"):
                target = os.path.join(pub, name[len("zxsync/"):])
            elif kind == '"':
                target = os.path.join(os.path.dirname(path), name)
            else:
                continue
            dst = layer_of_file(target)
            if dst is None or dst == src or dst not in levels:
                continue
            line = text.count("\n", 0, m.start()) + 1
            where = "%s:%d includes %s" % (os.path.relpath(path, root), line, name)
            if levels[dst] > levels[src]:
                upward.append("%s: %s (level %d) reaches up to %s (level %d)"
                              % (where, src, levels[src], dst, levels[dst]))
            edges.setdefault(src, {}).setdefault(dst, where)
    results.append(("no #include of a higher layer", upward))
    cycle = find_cycle(edges)
    results.append(("no include cycle between folders",
                    [describe_cycle(cycle, edges)] if cycle else []))

    # 4./5. calls, from the objects of the build
    objs = []
    if args.build:
        blib = os.path.join(os.path.abspath(args.build), "libzxsync")
        for dirpath, dirs, files in os.walk(blib):
            dirs.sort()
            for name in sorted(files):
                if not name.endswith(".o"):
                    continue
                # libtool builds each source twice (.libs/x.o PIC, x.o) when static is on
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, blib).split(os.sep)
                if rel[0] not in levels:
                    continue
                # an object whose source is gone (moved, deleted) is left over from an
                # older build: it must not count
                srcdir = [x for x in rel[:-1] if x != ".libs"]
                base = name[:-2].split("-", 1)[-1] if name.startswith("lib") else name[:-2]
                if os.path.exists(os.path.join(lib, *srcdir, base + ".c")):
                    objs.append((rel[0], path))
    if not objs:
        results.append(("no call into a higher layer # SKIP no build objects", None))
        results.append(("no call cycle between folders # SKIP no build objects", None))
    else:
        where_defined, needs = {}, []
        for folder, path in objs:
            defined, undefined = nm_symbols(path)
            for s in defined:
                where_defined.setdefault(s, (folder, path))
            needs.append((folder, path, undefined))
        upcalls, cedges = [], {}
        seen = set()
        for folder, path, undefined in needs:
            for s in sorted(undefined):
                if s not in where_defined:
                    continue
                dfolder, dpath = where_defined[s]
                if dfolder == folder:
                    continue
                obj = os.path.basename(path).replace("libzxsync_la-", "")
                why = "%s/%s calls %s (%s)" % (folder, obj, s, dfolder)
                if levels[dfolder] > levels[folder] and (folder, obj, s) not in seen:
                    seen.add((folder, obj, s))
                    upcalls.append("%s: level %d calls level %d"
                                   % (why, levels[folder], levels[dfolder]))
                cedges.setdefault(folder, {}).setdefault(dfolder, why)
        results.append(("no call into a higher layer", upcalls))
        cycle = find_cycle(cedges)
        results.append(("no call cycle between folders",
                        [describe_cycle(cycle, cedges)] if cycle else []))

    # 6. file length
    long_files = []
    for path in sources(lib):
        if path.endswith(".c"):
            with open(path, errors="replace") as f:
                n = sum(1 for _ in f)
            if n > MAX_LINES:
                long_files.append("%s has %d lines (at most %d: split it by concept)"
                                  % (os.path.relpath(path, root), n, MAX_LINES))
    results.append(("no library .c file over %d lines" % MAX_LINES, long_files))

    print("1..%d" % len(results))
    failed = 0
    for i, (name, problems) in enumerate(results, 1):
        if problems is None:
            print("ok %d - %s" % (i, name))
        elif problems:
            failed += 1
            print("not ok %d - %s" % (i, name))
            for p in problems:
                print("# " + p)
        else:
            print("ok %d - %s" % (i, name))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
