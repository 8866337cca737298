#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run fringe's tests: scripts/run-tests.sh [unit|bpf|integration|all] [NAME-FILTER...]
#
# One line per test (PASS name (Ns) / FAIL name / SKIP name: reason), logs in
# build/test-logs/, then "N passed, N failed, N skipped". Exit status 77 from a
# test means skip; its reason is the last line of its output. Exits non-zero
# when a test failed or none ran.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

LAYER=${1:-all}
[ $# -gt 0 ] && shift
FILTERS=("$@")
case $LAYER in
unit | bpf | integration | all) ;;
*)
	echo "usage: scripts/run-tests.sh [unit|bpf|integration|all] [NAME-FILTER...]" >&2
	exit 2
	;;
esac

BIN_TIMEOUT=${FRINGE_BIN_TIMEOUT:-120}
SCRIPT_TIMEOUT=${FRINGE_SCRIPT_TIMEOUT:-300}
LOGDIR=build/test-logs
N_PASS=0 N_FAIL=0 N_SKIP=0 N_RUN=0
LEAK_PREFIX=

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
		N_PASS=$((N_PASS + 1))
		echo "PASS $name (${dt}s)"
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

skip_one() {
	N_SKIP=$((N_SKIP + 1))
	echo "SKIP $1: $2"
}

run_unit() {
	local b
	for b in build/tests/unit/*; do
		[[ -f $b && -x $b ]] || continue
		selected "unit/${b##*/}" || continue
		run_one "unit/${b##*/}" "$BIN_TIMEOUT" "$b"
	done
}

run_bpf() {
	local b
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
case $LAYER in
unit) run_unit ;;
bpf) run_bpf ;;
integration) run_integration ;;
all)
	run_unit
	run_bpf
	run_integration
	;;
esac

echo "$N_PASS passed, $N_FAIL failed, $N_SKIP skipped"
if [ "$N_FAIL" -gt 0 ]; then
	exit 1
fi
if [ $((N_PASS + N_FAIL)) -eq 0 ]; then
	echo "run-tests.sh: no test ran" >&2
	exit 1
fi
exit 0
