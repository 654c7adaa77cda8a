#!/bin/sh
# Replays a fuzz corpus (fuzz/corpus/$FUZZ_TARGET, wbxml by default) through its fuzz target
# built without libFuzzer (fuzz/fuzz_$FUZZ_TARGET_replay) and passes its TAP output through:
# one test per file (t/unit/fuzz_replay_tnef.sh runs it for the TNEF reader).
# The target abort()s when a round-trip invariant breaks; a crash makes this test fail and
# names the offending file(s).  Run by `make check` with top_srcdir/top_builddir set; by
# hand: top_srcdir=../.. top_builddir=. ../../t/unit/fuzz_replay.sh (from the build dir).

here=$(dirname "$0")
: "${top_srcdir:=$here/../..}"
: "${top_builddir:=.}"

target=${FUZZ_TARGET:-wbxml}
replay="$top_builddir/fuzz/fuzz_${target}_replay"
corpus="$top_srcdir/fuzz/corpus/$target"

if [ ! -x "$replay" ]; then
    echo "Bail out! $replay not built (make fuzz/fuzz_${target}_replay)"
    exit 1
fi
if [ ! -d "$corpus" ]; then
    echo "Bail out! corpus directory $corpus not found"
    exit 1
fi

# Line-buffer the replay's stdout when possible so a crash does not swallow the results of
# the files before it (stdout is a pipe under the test driver).
linebuf=
if command -v stdbuf >/dev/null 2>&1; then
    linebuf="stdbuf -oL"
fi

out=$(mktemp "${TMPDIR:-/tmp}/fuzz_replay.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT HUP INT TERM

# Stream TAP through while keeping a copy to count the results on failure.
{ $linebuf "$replay" "$corpus"; echo $? >"$out.rc"; } | tee "$out"
rc=$(cat "$out.rc" 2>/dev/null || echo 99)
rm -f "$out.rc"

if [ "$rc" -eq 0 ]; then
    exit 0
fi

# The replay finished but failed (e.g. an empty corpus): its plan is already out.
if grep -q '^1\.\.' "$out"; then
    echo "Bail out! fuzz_${target}_replay exited with status $rc"
    exit 1
fi

# Crashed: find the culprit(s) one file at a time, then close
# the TAP stream with a failing test and a plan covering everything printed.
n=$(grep -c '^\(not \)\{0,1\}ok ' "$out")
bad=
for f in "$corpus"/*; do
    [ -f "$f" ] || continue
    "$replay" "$f" >/dev/null 2>&1 || bad="$bad $(basename "$f")"
done
n=$((n + 1))
echo "not ok $n - fuzz_${target}_replay exited with status $rc; failing input(s):${bad:- none found alone}"
echo "1..$n"
exit 1
