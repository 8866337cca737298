#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make bench-profile`: where the data plane's time goes, by instruction and
# source line, on a CPU without hardware counters (a VM).
#
# bench_cost runs one packet through the real program in a test-run loop
# (PROFILE=4096: the last-rule packet at 4096 rules; PROFILE=iot: an MQTT
# PUBLISH under examples/iot-gateway.policy) while `perf record` samples the
# CPUs on the timer; bench_cost has written the program's JIT image and line
# table, and bench_profile.py places every sample on its instruction.
# Writes build/bench/profile/{annotated.txt, perf.data, ...}; prints the
# hottest source lines and the share of each part of the program.
# PROFILE_OBJ=file.bpf.o profiles another build on the same maps.
# PROFILE=veth profiles live traffic instead: fringe attached to a veth end
# with the bench's 1024-rule policy, trafficgen sending the last-rule packet
# from a namespace of its own (the program's share of the whole path, and
# its samples by line, as they are when the kernel's path runs between two
# packets).
set -euo pipefail
cd "$(dirname "$0")/.."

WHICH=${PROFILE:-4096}
SECS=${PROFILE_SECONDS:-5}
DIR=build/bench/profile
PYTHON3=${PYTHON3:-/usr/bin/python3}

for tool in perf objdump; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench-profile: needs $tool (apt-get install linux-perf binutils)" >&2
		exit 2
	fi
done
mkdir -p "$DIR"
rm -f "$DIR/jited.txt" "$DIR/jited.bin"

if [ "$WHICH" = veth ]; then
	. scripts/lib/netns.sh
	require_root
	harness_tmpdir
	ns_add gen
	ns_add dut
	veth_add gen tg0 - 02:00:00:00:00:01 dut dut0 - 02:00:00:00:00:02
	pin_mount
	"$PYTHON3" scripts/bench_report.py policy fringe 1024 65536 dut0 >"$TMPD/veth.policy"
	nsx dut build/fringe --pin-dir "$PIN" attach dut0 >/dev/null
	nsx dut build/fringe --pin-dir "$PIN" policy load "$TMPD/veth.policy" >/dev/null
	id=$(xdp_prog_id dut dut0)
	BENCH_ONLY=jit BENCH_PROG_ID=$id BENCH_SPIN_DIR=$DIR build/tests/tools/bench_cost >/dev/null
	ns_bg gen "$TMPD/tg.log" build/tests/tools/trafficgen --ifname tg0 --duration $((SECS + 3)) \
		--dst-mac 02:00:00:00:00:02 --src-mac 02:00:00:00:00:01
	sleep 1.5
	perf record -q -e cpu-clock -F 20000 -a -o "$DIR/perf.data" -- sleep "$SECS"
	wait_until $((SECS + 10)) grep -q busy_pps "$TMPD/tg.log"
	perf script -i "$DIR/perf.data" -F ip,sym 2>/dev/null >"$DIR/samples.txt"
	"$PYTHON3" scripts/bench_profile.py "$DIR" veth
	echo "trafficgen: $(cat "$TMPD/tg.log")"
	# The whole path, by symbol (the idle loop left out): what veth costs beside the program.
	awk '$2 != "pv_native_safe_halt" && $2 != "default_idle" {n[$2]++; t++}
	     END {for (s in n) printf "%6.1f%%  %s\n", 100 * n[s] / t, s}' "$DIR/samples.txt" |
		sort -rn | head -12
	exit 0
fi
env BENCH_ONLY=spin BENCH_SPIN="$WHICH" BENCH_SPIN_DIR="$DIR" BENCH_SPIN_SECS=$((SECS + 4)) \
	${PROFILE_OBJ:+BENCH_NEW_OBJ=$PROFILE_OBJ} build/tests/tools/bench_cost >/dev/null &
spin=$!
trap 'kill $spin 2>/dev/null || true' EXIT
for _ in $(seq 50); do		# the fixtures load in a second or two
	[ -s "$DIR/jited.txt" ] && break
	sleep 0.2
done
if [ ! -s "$DIR/jited.txt" ]; then
	echo "bench-profile: bench_cost wrote no JIT image" >&2
	exit 1
fi
sleep 1
perf record -q -e cpu-clock -F 20000 -a -o "$DIR/perf.data" -- sleep "$SECS"
wait $spin
trap - EXIT
perf script -i "$DIR/perf.data" -F ip,sym 2>/dev/null >"$DIR/samples.txt"
"$PYTHON3" scripts/bench_profile.py "$DIR" "$WHICH"
