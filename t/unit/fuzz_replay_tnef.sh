#!/bin/sh
# Replays the TNEF fuzz corpus (fuzz/corpus/tnef) through fuzz/fuzz_tnef_replay: see
# fuzz_replay.sh.
FUZZ_TARGET=tnef exec "$(dirname "$0")/fuzz_replay.sh"
