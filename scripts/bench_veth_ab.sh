#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Two builds of fringe side by side on veth: what a data-plane change buys
# in live traffic, where test runs cannot see it.
#
#   scripts/bench_veth_ab.sh BASE_FRINGE [NEW_FRINGE [RUNS]]
#
# BASE_FRINGE (say an earlier commit's build/fringe) is attached to dut0 and
# NEW_FRINGE (default: this tree's build/fringe) to dut1, each with its own
# pin dir and the bench's 1024-rule policy; trafficgen sends the last-rule
# packet to the two in turn, a tenth of a second at a time, RUNS (10) times
# 2 s.  Prints new ÷ base of the packets per second over the live-frame
# runs' own time, each run's and the median.  The same build on both sides
# (an A/A) has read 0.97-1.05 a run here, medians within 0.01 of 1.
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
for side in "$BASE:dut0" "$NEW:dut1"; do
	bin=${side%:*} dev=${side##*:}
	pin_mount
	nsx dut "$bin" --pin-dir "$PIN" attach "$dev" >/dev/null || fail "$bin cannot attach to $dev"
	nsx dut "$bin" --pin-dir "$PIN" policy load "$TMPD/veth.policy" >/dev/null ||
		fail "$bin cannot load the policy"
done
for i in $(seq "$RUNS"); do
	nsx gen build/tests/tools/trafficgen --ifname tg0,tg1 --slice 0.1 --duration 2 \
		--dst-mac "$DUT_MAC" --src-mac "$GEN_MAC" >"$TMPD/run$i.json" ||
		fail "trafficgen cannot send"
done
"$PYTHON" - "$TMPD" "$RUNS" <<'EOF'
import json, statistics, sys
r = []
for i in range(1, int(sys.argv[2]) + 1):
    d = json.load(open("%s/run%d.json" % (sys.argv[1], i)))
    pps = {x["ifname"]: x["busy_pps"] for x in d["interfaces"]}
    r.append(pps["tg1"] / pps["tg0"])
print("new ÷ base, veth pps (%s): median %.3f; runs %s" % (
    d["method"], statistics.median(r), " ".join("%.3f" % x for x in r)))
EOF
