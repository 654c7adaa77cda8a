#!/usr/bin/python3
"""Guard: the project's log lines carry its own tags.  Fails (TAP) on
  - an APLOGNO( in the project's C sources: httpd's own number range is not ours; the module
    tags its lines with ZXLOGNO like the library (zxsync/log.h);
  - a ZXLOGNO number that tags two different messages: one number per message, project-wide,
    so that an operator's grep for ZXnnnnn finds one message.  The same message logged from
    two places (the same text after the tag) may share its number.
Comments are not sources here (log.h shows ZXLOGNO(00042) as an example).

Numbers by area (hundreds): 000xx-001xx core, gate and authentication; 004xx-007xx EAS
commands; 010xx notifications and waits; 011xx provisioning; 012xx suspension; 013xx
Autodiscover; 014xx ABQ; 015xx filters and anti-DoS; 016xx account loggers; 017xx periodic
jobs; 019xx mod_zxmobile (the old AH109nn of the module is ZX019nn).

To list the numbers in use:  grep -rhoE 'ZXLOGNO\\([0-9]+\\)' libzxsync mod_zxmobile cli | sort | uniq -c
"""
import os
import re
import sys

src = os.path.abspath(os.environ.get("top_srcdir",
                                     os.path.join(os.path.dirname(__file__), "..", "..")))
DIRS = ["libzxsync", "mod_zxmobile", "cli", "t/tools", "fuzz", "bench"]

STRING = r'"(?:[^"\\\n]|\\.)*"'
COMMENT_OR_STRING = re.compile(r'//[^\n]*|/\*.*?\*/|' + STRING + r"|'(?:[^'\\\n]|\\.)*'", re.S)


def strip_comments(text):
    """Comments become blanks (line numbers kept); strings and characters stay."""
    def repl(m):
        s = m.group(0)
        if s.startswith("/"):
            return re.sub(r"[^\n]", " ", s)
        return s
    return COMMENT_OR_STRING.sub(repl, text)


TAG = re.compile(r"\bZXLOGNO\(\s*([0-9]+)\s*\)")
# the message after a tag: adjacent string literals and format macros (APR_SIZE_T_FMT ...)
PIECE = re.compile(r"\s*(" + STRING + r"|[A-Z][A-Z0-9_]*\b)")


def message_after(text, pos):
    parts = []
    while True:
        m = PIECE.match(text, pos)
        if not m:
            break
        parts.append(m.group(1))
        pos = m.end()
    return " ".join(parts)


def sources():
    for d in DIRS:
        top = os.path.join(src, d)
        for root, dirs, files in os.walk(top):
            dirs[:] = sorted(x for x in dirs if not x.startswith(".") and x != "corpus")
            for f in sorted(files):
                if f.endswith((".c", ".h", ".def")):
                    yield os.path.join(root, f)


aplogno = []
uses = {}          # number -> {message: [where, ...]}
nfiles = 0
for path in sources():
    nfiles += 1
    rel = os.path.relpath(path, src)
    with open(path, encoding="utf-8", errors="replace") as f:
        text = strip_comments(f.read())
    for m in re.finditer(r"\bAPLOGNO\s*\(", text):
        aplogno.append("%s:%d" % (rel, text.count("\n", 0, m.start()) + 1))
    for m in TAG.finditer(text):
        where = "%s:%d" % (rel, text.count("\n", 0, m.start()) + 1)
        msg = message_after(text, m.end())
        uses.setdefault(m.group(1), {}).setdefault(msg, []).append(where)

n = 0
failed = 0


def report(ok, what):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, what))
    if not ok:
        failed += 1


report(nfiles > 50, "found the sources (%d files under %s)" % (nfiles, ", ".join(DIRS)))
report(len(uses) > 100, "found the ZXLOGNO tags (%d numbers)" % len(uses))
report(not aplogno, "no APLOGNO( (httpd's own number range) in the sources")
for where in aplogno:
    print("#   APLOGNO at %s: use ZXLOGNO with a free number" % where)

widths = {len(k) for k in uses}
report(widths <= {5}, "every ZXLOGNO number has five digits")
shared = [k for k in sorted(uses) if len(uses[k]) > 1]
report(not shared, "every ZXLOGNO number tags one message (%d numbers)" % len(uses))
for number in shared:
    print("# ZX%s tags %d different messages:" % (number, len(uses[number])))
    for msg, wheres in sorted(uses[number].items()):
        print("#   %s: %s" % (", ".join(wheres), msg or "(no literal after the tag)"))
print("1..%d" % n)
sys.exit(1 if failed else 0)
