#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Two builds of fringe side by side on veth: what a data-plane change buys
# in live traffic, where test runs cannot see it.
#
#   scripts/bench_veth_ab.sh BASE_FRINGE [NEW_FRINGE [RUNS]]
#
# BASE_FRINGE (say an earlier commit's build/fringe) and NEW_FRINGE (default:
# this tree's build/fringe), each with its own pin dir and the bench's
# 1024-rule policy, are attached to the two veth pairs; trafficgen sends the
# last-rule packet to the two in turn, a tenth of a second at a time, RUNS
# (10) times 2 s with BASE on dut0 and NEW on dut1, then RUNS times with the
# sides swapped.  One build on both pairs has read up to 3 % slower on the
# second pair for a quarter of an hour (medians of 30 runs 0.97-0.99), then
# not: swapped halfway, the pairs weigh the same in both builds.  Prints new
# ÷ base of the packets per second over the live-frame runs' own time: the
# median of all runs, and each half's.
#
# VETH_AB_SLICE sets how long trafficgen stays on one pair before it
# turns to the other (0.1 s, as `make bench`).
#
# VETH_AB_NS=1 adds RUNS more runs, on the second arrangement, with the
# kernel's program statistics on (kernel.bpf_stats_enabled, put back as it
# was): each program's own time per packet in live traffic, and new - base
# in ns.  The statistics add the same two clock reads to every run of every
# program (about 50 ns here), so only the difference is the programs';
# their runs are kept apart from the packet-rate runs, whose path they would
# lengthen.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/netns.sh

BASE=${1:?usage: bench_veth_ab.sh BASE_FRINGE [NEW_FRINGE [RUNS]]}
NEW=${2:-$PWD/build/fringe}
RUNS=${3:-10}
GEN_MAC=02:00:00:00:00:01 DUT_MAC=02:00:00:00:00:02

require_root
require_cmd ip ethtool
for f in "$BASE" "$NEW" build/tests/tools/trafficgen build/bench/trafficgen.bpf.o; do
	[ -x "$f" ] || [ -e "$f" ] || fail "$f is missing (make tests-build)"
done
harness_tmpdir
ns_add gen
ns_add dut
veth_add gen tg0 - "$GEN_MAC" dut dut0 - "$DUT_MAC"
veth_add gen tg1 - "$GEN_MAC" dut dut1 - "$DUT_MAC"
"$PYTHON" scripts/bench_report.py policy fringe 1024 65536 dut0 >"$TMPD/veth.policy"
pin_mount
BASE_PIN=$PIN
pin_mount
NEW_PIN=$PIN
# arrange BASE_DEV NEW_DEV: each build on its pair (nothing else attached
# to either), with the policy in its pin dir.
arrange() {
	local side bin pin dev

	for side in "$BASE:$BASE_PIN:$1" "$NEW:$NEW_PIN:$2"; do
		IFS=: read -r bin pin dev <<<"$side"
		nsx dut "$bin" --pin-dir "$pin" detach dut0 >/dev/null 2>&1 || true
		nsx dut "$bin" --pin-dir "$pin" detach dut1 >/dev/null 2>&1 || true
	done
	for side in "$BASE:$BASE_PIN:$1" "$NEW:$NEW_PIN:$2"; do
		IFS=: read -r bin pin dev <<<"$side"
		nsx dut "$bin" --pin-dir "$pin" attach "$dev" >/dev/null || fail "$bin cannot attach to $dev"
		nsx dut "$bin" --pin-dir "$pin" policy load "$TMPD/veth.policy" >/dev/null ||
			fail "$bin cannot load the policy"
	done
}
send() {	# send FILE: one run of 2 s, the two pairs in turn
	nsx gen build/tests/tools/trafficgen --ifname tg0,tg1 --slice "${VETH_AB_SLICE:-0.1}" --duration 2 \
		--dst-mac "$DUT_MAC" --src-mac "$GEN_MAC" >"$1" || fail "trafficgen cannot send"
}
arrange dut0 dut1
for i in $(seq "$RUNS"); do
	send "$TMPD/run-a$i.json"
done
arrange dut1 dut0
for i in $(seq "$RUNS"); do
	send "$TMPD/run-b$i.json"
done
if [ "${VETH_AB_NS:-0}" = 1 ]; then
	# prog_time: "run_time_ns run_cnt" of BASE's program (on dut1 now), then NEW's.
	prog_time() { echo "$(xdp_prog_runtime dut dut1) $(xdp_prog_runtime dut dut0)"; }
	bpf_stats_on || fail "cannot turn kernel.bpf_stats_enabled on"
	for i in $(seq "$RUNS"); do
		before=$(prog_time)
		send "$TMPD/ns$i.json"
		echo "$before $(prog_time)" >>"$TMPD/ns.txt"
	done
	bpf_stats_restore
fi
"$PYTHON" - "$TMPD" "$RUNS" <<'EOF'
import json, statistics, sys
half = {}
for side, new_if, base_if in (("a", "tg1", "tg0"), ("b", "tg0", "tg1")):
    half[side] = []
    for i in range(1, int(sys.argv[2]) + 1):
        d = json.load(open("%s/run-%s%d.json" % (sys.argv[1], side, i)))
        pps = {x["ifname"]: x["busy_pps"] for x in d["interfaces"]}
        half[side].append(pps[new_if] / pps[base_if])
r = half["a"] + half["b"]
print("new ÷ base, veth pps (%s): median %.3f (new on dut1: %.3f, on dut0: %.3f)" % (
    d["method"], statistics.median(r), statistics.median(half["a"]), statistics.median(half["b"])))
print("  runs %s | %s" % (" ".join("%.3f" % x for x in half["a"]), " ".join("%.3f" % x for x in half["b"])))
EOF
[ -s "$TMPD/ns.txt" ] || exit 0
"$PYTHON" - "$TMPD/ns.txt" <<'EOF'
import statistics, sys
base, new = [], []
for line in open(sys.argv[1]):
    t0, c0, t1, c1, u0, d0, u1, d1 = map(int, line.split())
    base.append((u0 - t0) / max(1, d0 - c0))
    new.append((u1 - t1) / max(1, d1 - c1))
diff = [n - b for b, n in zip(base, new)]
print("each program's own time a packet, live (bpf_stats, with their own cost in both):")
print("  base %.1f ns, new %.1f ns, new - base %+.1f ns (medians); runs %s" % (
    statistics.median(base), statistics.median(new), statistics.median(diff),
    " ".join("%+.1f" % x for x in diff)))
EOF
