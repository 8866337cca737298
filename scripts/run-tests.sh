#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run fringe's tests: scripts/run-tests.sh [unit|bpf|integration|fuzz|all] [NAME-FILTER...]
#
# One line per test (PASS name (Ns) / FAIL name / SKIP name: reason), logs in
# build/test-logs/, then "N passed, N failed, N skipped". Exit status 77 from a
# test means skip; its reason is the last line of its output. A test cannot
# pass by skipping: a cmocka binary passes only when its summary shows tests
# that passed (all skipped is SKIP with the first "SKIP:" reason, none run is
# FAIL), and an integration script only when it reached harness_done (its last
# line "PASS: NAME"). Exits non-zero when a test failed, none ran, or (without
# filters) a layer this machine can run (unit; bpf and integration as root)
# ran no test at all.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

LAYER=${1:-all}
[ $# -gt 0 ] && shift
FILTERS=("$@")
case $LAYER in
unit | bpf | integration | fuzz | all) ;;
*)
	echo "usage: scripts/run-tests.sh [unit|bpf|integration|fuzz|all] [NAME-FILTER...]" >&2
	exit 2
	;;
esac

# The runner reads cmocka's plain summary lines.
export CMOCKA_MESSAGE_OUTPUT=STDOUT
BIN_TIMEOUT=${FRINGE_BIN_TIMEOUT:-120}
SCRIPT_TIMEOUT=${FRINGE_SCRIPT_TIMEOUT:-300}
FUZZ_SMOKE_SECONDS=${FUZZ_SMOKE_SECONDS:-15}	# per target: a regression shows, `make fuzz` digs
LOGDIR=build/test-logs
N_PASS=0 N_FAIL=0 N_SKIP=0 N_RUN=0
LEAK_PREFIX=
KIND=			# how run_one judges an exit 0: cmocka or script
EMPTY_LAYERS=()		# layers that could run here and ran no test

is_root() { [ "$(id -u)" -eq 0 ]; }

selected() {
	local f
	[ ${#FILTERS[@]} -eq 0 ] && return 0
	for f in "${FILTERS[@]}"; do
		[[ $1 == *"$f"* ]] && return 0
	done
	return 1
}

report_fail() {
	local name=$1 log=$2 why=$3
	N_FAIL=$((N_FAIL + 1))
	echo "FAIL $name ($why)"
	echo "---- last lines of $log ----"
	tail -n 40 "$log" | sed 's/^/    /'
	echo "----"
}

# run_one NAME TIMEOUT CMD...: run with a time bound and no stdin, log, report.
# With LEAK_PREFIX set, leftovers of that harness prefix fail the test.
run_one() {
	local name=$1 tmo=$2 log rc=0 t0 dt reason
	shift 2
	log=$LOGDIR/$name.log
	mkdir -p "$(dirname "$log")"
	N_RUN=$((N_RUN + 1))
	t0=$(date +%s)
	timeout -k 15 "$tmo" "$@" </dev/null >"$log" 2>&1 || rc=$?
	dt=$(($(date +%s) - t0))
	if [ -n "$LEAK_PREFIX" ] && ! check_leaks "$LEAK_PREFIX" >>"$log" 2>&1; then
		report_fail "$name" "$log" "left namespaces or mounts behind"
		return 0
	fi
	case $rc in
	0)
		judge_pass "$name" "$log" "$dt"
		;;
	77)
		N_SKIP=$((N_SKIP + 1))
		reason=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1 | sed 's/^SKIP:[[:space:]]*//')
		echo "SKIP $name: ${reason:-no reason given}"
		;;
	124 | 137)
		report_fail "$name" "$log" "timed out after ${tmo}s"
		;;
	*)
		report_fail "$name" "$log" "exit $rc, ${dt}s"
		;;
	esac
	return 0
}

# judge_pass NAME LOG SECONDS: an exit 0 is a pass only with evidence that the
# checks ran (cmocka's summary; a script's closing "PASS: NAME" line).
judge_pass() {
	local name=$1 log=$2 dt=$3 sums run passed skipped reason
	if [ "$KIND" = script ]; then
		if [ "$(grep -v '^[[:space:]]*$' "$log" | tail -n 1)" != "PASS: ${name##*/}" ]; then
			report_fail "$name" "$log" "exit 0 without its closing 'PASS: ${name##*/}' (harness_done): its checks did not all run"
			return 0
		fi
	else
		# "[==========] N test(s) run." / "[  PASSED  ] N test(s)." / "[  SKIPPED ] N test(s), listed below:", per group.
		sums=$(awk '/^\[==========\] [0-9]+ test\(s\) run\./ { r += $2; g++ }
			/^\[  PASSED  \] [0-9]+ test\(s\)\./ { p += $4 }
			/^\[  SKIPPED \] [0-9]+ test\(s\), listed below/ { s += $4 }
			END { print g + 0, r + 0, p + 0, s + 0 }' "$log")
		read -r groups run passed skipped <<<"$sums"
		if [ "$groups" -eq 0 ] || [ "$run" -eq 0 ]; then
			report_fail "$name" "$log" "exit 0 but no cmocka test ran"
			return 0
		fi
		if [ "$passed" -eq 0 ]; then
			N_SKIP=$((N_SKIP + 1))
			reason=$(grep -m 1 '^SKIP:' "$log" | sed 's/^SKIP:[[:space:]]*//')
			echo "SKIP $name: ${reason:-all $skipped tests skipped}"
			return 0
		fi
		if [ "$skipped" -gt 0 ]; then
			reason=$(grep -m 1 '^SKIP:' "$log" | sed 's/^SKIP:[[:space:]]*//')
			N_PASS=$((N_PASS + 1))
			echo "PASS $name (${dt}s; $skipped of $run skipped${reason:+: $reason})"
			return 0
		fi
	fi
	N_PASS=$((N_PASS + 1))
	echo "PASS $name (${dt}s)"
}

# run_layer LAYER CAN_RUN: run a layer; without filters, a layer this machine
# can run that passed no test is recorded in EMPTY_LAYERS.
run_layer() {
	local layer=$1 can=$2 before=$N_PASS
	case $layer in
	unit) run_unit ;;
	bpf) run_bpf ;;
	integration) run_integration ;;
	fuzz) run_fuzz ;;
	esac
	if [ "$can" = yes ] && [ ${#FILTERS[@]} -eq 0 ] && [ "$N_PASS" -eq "$before" ]; then
		EMPTY_LAYERS+=("$layer")
	fi
}

skip_one() {
	N_SKIP=$((N_SKIP + 1))
	echo "SKIP $1: $2"
}

run_unit() {
	local b
	KIND=cmocka
	for b in build/tests/unit/*; do
		[[ -f $b && -x $b ]] || continue
		selected "unit/${b##*/}" || continue
		run_one "unit/${b##*/}" "$BIN_TIMEOUT" "$b"
	done
}

run_bpf() {
	local b
	KIND=cmocka
	for b in build/tests/bpf/test_*; do
		[[ -f $b && -x $b ]] || continue
		selected "bpf/${b##*/}" || continue
		if ! is_root; then
			skip_one "bpf/${b##*/}" "needs root (loads BPF programs)"
			continue
		fi
		run_one "bpf/${b##*/}" "$BIN_TIMEOUT" "$b"
	done
}

run_integration() {
	local s idx=0 name
	KIND=script
	if is_root; then
		# Namespaces and pin dirs of runs that were killed before cleaning up.
		(. scripts/lib/netns.sh && harness_reap_stale)
	fi
	for s in tests/integration/test_*.sh; do
		[ -f "$s" ] || continue
		name=integration/$(basename "$s" .sh)
		selected "$name" || continue
		idx=$((idx + 1))
		# A namespace prefix per test, so its leftovers can be found.
		export FRINGE_TEST_PREFIX="fr$$t$idx-"
		is_root && LEAK_PREFIX=$FRINGE_TEST_PREFIX
		run_one "$name" "$SCRIPT_TIMEOUT" bash "$s"
	done
	unset FRINGE_TEST_PREFIX
	LEAK_PREFIX=
}

# A short libFuzzer run of each language parser (tests/fuzz/run-fuzz.sh).
run_fuzz() {
	local s name
	KIND=script
	for s in tests/fuzz/fuzz_*.c; do
		[ -f "$s" ] || continue
		name=$(basename "$s" .c)
		selected "fuzz/$name" || continue
		run_one "fuzz/$name" $((FUZZ_SMOKE_SECONDS + 60)) tests/fuzz/run-fuzz.sh "$name" "$FUZZ_SMOKE_SECONDS"
	done
}

# check_leaks PREFIX: namespaces or bpffs mounts of that harness prefix still
# there are reported (fails) and removed.
check_leaks() {
	local prefix=$1 ns mnt x
	ns=$(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix" || true)
	mnt=$(grep -o "/run/fringe-test-${prefix%-}-[0-9]*" /proc/mounts || true)
	[ -z "$ns$mnt" ] && return 0
	# shellcheck disable=SC2086 # one line, split on purpose
	echo "run-tests.sh: left behind:" $ns $mnt
	for x in $ns; do
		ip netns del "$x" 2>/dev/null || true
	done
	for x in $mnt; do
		umount -l "$x" 2>/dev/null || true
		rmdir "$x" 2>/dev/null || true
	done
	return 1
}

mkdir -p "$LOGDIR"
ROOTED=no
is_root && ROOTED=yes
FUZZ_BUILT=no	# the targets need clang's libFuzzer runtime; without it they skip
compgen -G "build/fuzz/fuzz_*" >/dev/null && FUZZ_BUILT=yes
case $LAYER in
unit) run_layer unit yes ;;
bpf) run_layer bpf "$ROOTED" ;;
integration) run_layer integration "$ROOTED" ;;
fuzz) run_layer fuzz "$FUZZ_BUILT" ;;
all)
	run_layer unit yes
	run_layer bpf "$ROOTED"
	run_layer integration "$ROOTED"
	run_layer fuzz "$FUZZ_BUILT"
	;;
esac

echo "$N_PASS passed, $N_FAIL failed, $N_SKIP skipped"
if [ "$N_FAIL" -gt 0 ]; then
	exit 1
fi
if [ ${#EMPTY_LAYERS[@]} -gt 0 ]; then
	echo "run-tests.sh: no test passed in layer ${EMPTY_LAYERS[*]}, which this machine can run (see the SKIP lines)" >&2
	exit 1
fi
if [ $((N_PASS + N_FAIL)) -eq 0 ]; then
	echo "run-tests.sh: no test ran" >&2
	exit 1
fi
exit 0
