#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run one libFuzzer target for SECONDS: tests/fuzz/run-fuzz.sh fuzz_policy 15
#
# Seeds from tests/fuzz/corpus/NAME (read only; from examples/ and the unit
# tests), new inputs kept in build/fuzz/corpus-NAME, crashes written to
# build/fuzz/crash-NAME-*. Exit 0 with "PASS: TARGET" after a clean run,
# 1 on a crash, a leak, a sanitizer report or a failed check, 77 when the
# target is not built (no libFuzzer runtime).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
TARGET=${1:?usage: run-fuzz.sh TARGET SECONDS}
SECONDS_=${2:-15}
NAME=${TARGET#fuzz_}
BIN=build/fuzz/$TARGET
SEEDS=tests/fuzz/corpus/$NAME
OUT=build/fuzz/corpus-$NAME
LOG=build/fuzz/$TARGET.log

if [ ! -x "$BIN" ]; then
	echo "SKIP: $BIN is not built (needs clang-19 with libclang-rt-19-dev: make deps)"
	exit 77
fi
mkdir -p "$OUT"
DICT=()
[ -f "tests/fuzz/$NAME.dict" ] && DICT=(-dict="tests/fuzz/$NAME.dict")
RC=0
# One process, bounded in time and memory; a slow input is a failure too.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$BIN" -max_total_time="$SECONDS_" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	-print_final_stats=1 -artifact_prefix="build/fuzz/crash-$NAME-" "${DICT[@]}" \
	"$OUT" "$SEEDS" >"$LOG" 2>&1 || RC=$?
RUNS=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOG" | tail -n 1)
DONE=$(grep -m 1 '^Done [0-9]* runs' "$LOG" || true)
if [ "$RC" -ne 0 ] || [ -z "$DONE" ]; then
	echo "FAIL: $TARGET exited $RC after ${RUNS:-?} runs; the end of $LOG:"
	grep -v '^#[0-9]' "$LOG" | tail -n 40
	exit 1
fi
echo "$TARGET: $DONE; corpus $(find "$OUT" -type f | wc -l) inputs"
echo "PASS: $TARGET"
