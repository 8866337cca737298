# SPDX-License-Identifier: GPL-2.0
# Test-host harness (source it): namespaces, veth pairs, background processes, bpffs pin dirs, one cleanup.
#
# Everything created here is recorded and removed by harness_cleanup, which
# runs on EXIT, INT and TERM. Scripts that need extra teardown register it
# with harness_on_cleanup instead of setting their own trap.
#
#   ns_add SHORT                      create namespace $(ns SHORT), lo up
#   ns SHORT                          print the full namespace name
#   nsx SHORT CMD...                  run CMD inside the namespace
#   veth_add NS_A IF_A ADDR_A MAC_A NS_B IF_B ADDR_B MAC_B
#                                     veth pair between two namespaces; ADDR is
#                                     CIDR or "-", MAC is an address or "-"
#   ns_bg SHORT LOG CMD...            run CMD in the background in a namespace
#                                     (SHORT "-" = current one); PID in BG_PID
#   bg_stop PID                       stop a recorded background process now
#                                     (and its children: timeout's command)
#   bg_alive PID                      PID runs (not ended, not a zombie)
#   xdp_prog_id SHORT DEV             id of the XDP program on DEV in a namespace
#   xdp_prog_runtime SHORT DEV        "RUN_TIME_NS RUN_CNT" of that program
#   bpf_stats_on / bpf_stats_restore  kernel.bpf_stats_enabled on; as it was
#                                     (also on cleanup)
#   pin_mount                         private bpffs under /run, path in PIN
#   harness_tmpdir                    private temp dir, path in TMPD
#   skip REASON / fail REASON         exit 77 / exit 1 with the reason
#   harness_done                      the last line of a passing script: prints
#                                     "PASS: NAME"; exit 0 without it fails
#   require_root, require_cmd CMD...  skip when missing (require_cmd: missing_dep)
#   missing_dep REASON                skip; under `make test` (FRINGE_DEPS=installed) fail
#   wait_until SECONDS CMD...         poll CMD every 0.1 s until it succeeds
#   wait_listen SHORT tcp|udp ADDR PORT [SECONDS]
#   run_rc CMD...                     run CMD, stdout/stderr to $TMPD/out, $TMPD/err, status in RC
#   json_eval FILE EXPR               print a Python expression over the JSON in FILE (d)
#   step TITLE / info TEXT            narration
#   harness_on_cleanup CMD            extra teardown, run first by harness_cleanup
#   harness_cleanup                   the one teardown (idempotent, silent)
#   harness_reap_stale                remove what killed runs left (their PID is gone)
#
# Namespaces are "$NS_PREFIX$SHORT". PYTHON is Debian's /usr/bin/python3.
# skip/fail inside $(...) only end the subshell: call them at top level.

# Unique per run so parallel and stale runs never collide. The runner may
# hand one down; nested harnesses (a script run by a test) get their own.
NS_PREFIX=${FRINGE_TEST_PREFIX:-fr$$-}
unset FRINGE_TEST_PREFIX
PYTHON=/usr/bin/python3

_H_NS=()		# namespaces created
_H_PIDS=()		# background processes started
_H_PINS=()		# bpffs mounts
_H_DIRS=()		# temp dirs
_H_HOOKS=()		# extra cleanup commands, run first (last registered first)
_H_DONE=0
_H_PASSED=0		# harness_done was reached
BG_PID=
PIN=
TMPD=
RC=0

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
info() { echo "  $*"; }
# The script's checks all ran: the runner wants this line last (scripts/run-tests.sh).
harness_done() { _H_PASSED=1; echo "PASS: $(basename "$0" .sh)"; }
step() { printf '\n==> %s\n' "$*"; }

require_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }
# missing_dep REASON: something scripts/deps.sh installs is not there.  Under
# `make test`, which runs deps.sh first (FRINGE_DEPS=installed), that is a
# fault of deps.sh and the test fails, so that no test skips unseen on a
# fresh machine; a script run by hand skips.
missing_dep() {
	[ "${FRINGE_DEPS:-}" != installed ] || fail "$* (scripts/deps.sh should have installed it)"
	skip "$*"
}
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing_dep "needs $c"
	done
}

ns() { printf '%s%s' "$NS_PREFIX" "$1"; }
nsx() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

ns_add() {
	local n; n=$(ns "$1")
	ip netns add "$n" || fail "cannot create namespace $n"
	_H_NS+=("$n")
	ip -n "$n" link set lo up
	# No duplicate address detection (links are private) and no router
	# solicitations: IPv6 works at once and adds no background noise.
	ip netns exec "$n" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.router_solicitations=0 \
		>/dev/null 2>&1 || true
}

# veth_add NS_A IF_A ADDR_A MAC_A NS_B IF_B ADDR_B MAC_B
# Both ends are created directly in their namespaces, never in the root one.
# GRO is switched on at both ends: a veth drops frames XDP-redirected into it
# unless its peer runs XDP or has GRO on.
veth_add() {
	local na nb; na=$(ns "$1"); nb=$(ns "$5")
	local ia=$2 aa=$3 ma=$4 ib=$6 ab=$7 mb=$8
	local opt_a=() opt_b=()
	[ "$ma" = - ] || opt_a=(address "$ma")
	[ "$mb" = - ] || opt_b=(address "$mb")
	ip -n "$na" link add "$ia" "${opt_a[@]}" type veth peer name "$ib" "${opt_b[@]}" netns "$nb" ||
		fail "cannot create veth $ia ($na) <-> $ib ($nb)"
	[ "$aa" = - ] || ip -n "$na" addr add "$aa" dev "$ia"
	[ "$ab" = - ] || ip -n "$nb" addr add "$ab" dev "$ib"
	ip -n "$na" link set "$ia" up
	ip -n "$nb" link set "$ib" up
	ip netns exec "$na" ethtool -K "$ia" gro on >/dev/null 2>&1 || true
	ip netns exec "$nb" ethtool -K "$ib" gro on >/dev/null 2>&1 || true
}

# ns_bg SHORT LOG CMD... — `ip netns exec` execs CMD, so BG_PID is CMD's own PID.
# Background commands of a non-interactive shell ignore SIGINT: cleanup
# stops them with SIGTERM.
ns_bg() {
	local n=$1 log=$2; shift 2
	if [ "$n" = - ]; then
		"$@" >"$log" 2>&1 </dev/null &
	else
		ip netns exec "$(ns "$n")" "$@" >"$log" 2>&1 </dev/null &
	fi
	BG_PID=$!
	_H_PIDS+=("$BG_PID")
}

# bg_stop PID: SIGTERM, then SIGKILL after 2 s; waits so the PID is reaped.
# Its children too: a wrapper such as timeout(1) passes the SIGTERM on and
# exits, and a child that does not exit on it would outlive the test.
bg_stop() {
	local p=$1 i k kids
	kids=$(pgrep -P "$p" 2>/dev/null || true)
	if kill -TERM "$p" 2>/dev/null; then
		for i in $(seq 20); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	fi
	wait "$p" 2>/dev/null || true
	for k in $kids; do
		kill -TERM "$k" 2>/dev/null || continue
		_bg_wait_end "$k" || { kill -KILL "$k" 2>/dev/null; _bg_wait_end "$k"; } || true
	done
}

# _bg_wait_end PID: up to 2 s for PID to end (not ours to reap); 1 if it runs on.
_bg_wait_end() {
	local i
	for i in $(seq 20); do
		bg_alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

# bg_alive PID: the process runs (a zombie, not yet reaped by whoever
# adopted it, has ended).
bg_alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1	# after the name: the state
	st=${st%% *}
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# xdp_prog_id SHORT DEV: the id of the XDP program attached to DEV in
# namespace SHORT (empty when none).
xdp_prog_id() {
	nsx "$1" ip -j link show dev "$2" |
		"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0].get("xdp", {}).get("prog", {}).get("id", ""))'
}

# xdp_prog_runtime SHORT DEV: "RUN_TIME_NS RUN_CNT" of the XDP program on
# DEV, the kernel's program statistics (counted while bpf_stats_on).
xdp_prog_runtime() {
	bpftool -j prog show id "$(xdp_prog_id "$1" "$2")" |
		"$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(d.get("run_time_ns", 0), d.get("run_cnt", 0))'
}

# bpf_stats_on: the kernel's program statistics on (kernel.bpf_stats_enabled;
# they add two clock reads to every run of every program).  bpf_stats_restore
# puts the setting back as it was, and so does the cleanup.  Call both in
# the script's own shell, not a subshell: the cleanup is registered there.
bpf_stats_on() {
	if [ -z "${_H_STATS_WAS:-}" ]; then
		_H_STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null) || return 1
		harness_on_cleanup bpf_stats_restore
	fi
	sysctl -qw kernel.bpf_stats_enabled=1
}
bpf_stats_restore() {
	[ -z "${_H_STATS_WAS:-}" ] || sysctl -qw kernel.bpf_stats_enabled="$_H_STATS_WAS"
}

# A private bpffs for --pin-dir: `ip netns exec` remounts /sys, so a pin dir
# under /sys/fs/bpf would not be visible inside the namespaces.
pin_mount() {
	PIN=/run/fringe-test-${NS_PREFIX%-}-${#_H_PINS[@]}
	mkdir -p "$PIN" || fail "cannot create $PIN"
	_H_PINS+=("$PIN")
	mount -t bpf bpf "$PIN" || fail "cannot mount bpffs at $PIN"
	# libxdp keeps its dispatcher pins in a bpffs too; give it this one.
	export LIBXDP_BPFFS=${LIBXDP_BPFFS:-$PIN}
}

harness_tmpdir() {
	TMPD=$(mktemp -d /tmp/fringe-test.XXXXXX) || fail "mktemp failed"
	_H_DIRS+=("$TMPD")
}

harness_on_cleanup() { _H_HOOKS+=("$*"); }

# Idempotent; never fails; prints nothing (a skip reason must stay the last line).
harness_cleanup() {
	local i p n d
	[ "$_H_DONE" = 1 ] && return 0
	_H_DONE=1
	set +e
	for ((i = ${#_H_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${_H_HOOKS[i]}" >/dev/null 2>&1
	done
	for p in "${_H_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${_H_PIDS[@]}"; do
		bg_stop "$p"
	done
	for n in "${_H_NS[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	for d in "${_H_PINS[@]}"; do
		if mountpoint -q "$d"; then
			umount "$d" 2>/dev/null || umount -l "$d" 2>/dev/null
		fi
		rmdir "$d" 2>/dev/null
	done
	for d in "${_H_DIRS[@]}"; do
		rm -rf -- "$d"
	done
	_H_PIDS=() _H_NS=() _H_PINS=() _H_DIRS=() _H_HOOKS=()
	return 0
}

# Remove namespaces and pin dirs that a killed run left behind (its PID is gone).
harness_reap_stale() {
	local n d pid
	for n in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $n =~ ^fr([0-9]+)[a-z0-9]*- ]] || continue
		pid=${BASH_REMATCH[1]}
		kill -0 "$pid" 2>/dev/null || ip netns del "$n" 2>/dev/null
	done
	for d in /run/fringe-test-fr*; do
		[ -d "$d" ] || continue
		[[ $d =~ ^/run/fringe-test-fr([0-9]+) ]] || continue
		pid=${BASH_REMATCH[1]}
		kill -0 "$pid" 2>/dev/null && continue
		mountpoint -q "$d" && { umount "$d" 2>/dev/null || umount -l "$d" 2>/dev/null; }
		rmdir "$d" 2>/dev/null
	done
	return 0
}

# In a test script (test_*.sh), an exit 0 that did not pass harness_done (a
# stray `exit 0`, an early return of the main flow) is a failure, never a
# silent pass. Tools that source this file (demo, bench) are not held to it.
_harness_exit() {
	local rc=$?
	harness_cleanup
	if [ "$rc" -eq 0 ] && [ "$_H_PASSED" != 1 ] && [ "$BASH_SUBSHELL" -eq 0 ] &&
		[[ $(basename "$0") == test_*.sh ]]; then
		echo "FAIL: $(basename "$0" .sh) exited 0 before harness_done: its checks did not all run" >&2
		exit 1
	fi
}
trap _harness_exit EXIT
trap 'harness_cleanup; exit 130' INT
trap 'harness_cleanup; exit 143' TERM

wait_until() {
	local t=$1 end; shift
	end=$((SECONDS + t))
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

_listening() { nsx "$1" ss -Hln "--$2" "src $3:$4" | grep -q .; }
wait_listen() { wait_until "${5:-5}" _listening "$1" "$2" "$3" "$4"; }

# run_rc CMD...: never trips set -e; RC holds the exit status.
# shellcheck disable=SC2034 # RC is read by the sourcing script
run_rc() {
	[ -n "$TMPD" ] || harness_tmpdir
	RC=0
	"$@" >"$TMPD/out" 2>"$TMPD/err" || RC=$?
}

# json_eval FILE EXPR: EXPR sees d (the document) and helpers:
# iface(NAME), rule(NAME), total_drops(REASON), find(OBJ, KEY) (first value
# of KEY anywhere in OBJ, or None).
json_eval() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
def iface(n):
    return next(i for i in d["interfaces"] if i["name"] == n)
def rule(n):
    return next(r for r in d["rules"] if r["name"] == n)
def total_drops(reason):
    return sum(i.get("drops", {}).get(reason, 0) for i in d["interfaces"])
def find(o, key):
    if isinstance(o, dict):
        if key in o:
            return o[key]
        o = list(o.values())
    if isinstance(o, list):
        for v in o:
            r = find(v, key)
            if r is not None:
                return r
    return None
print(eval(sys.argv[2]))
EOF
}
