#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: per-packet cost, veth throughput against the floor and nftables, control-plane times, memory.
#
# Writes build/bench/{cost.json, veth.jsonl, cp.jsonl, meta.json, results.json,
# scaling.png} and docs/bench.md (the full report), and prints the table of
# ratios against the goals.  Traffic stays on one veth pair between two
# namespaces created here.  Expects `make tests-build` (the Makefile's bench
# target runs it first).
#
# A section this machine cannot run (no xdp-filter, no nftables, a generator
# the kernel refuses) is reported with its reason and the rest goes on: the
# bench then exits 0.  A fault of fringe's own (a wrong verdict, a load that
# fails) is reported too, and the bench exits 1 after writing the report.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/netns.sh

OUT=build/bench
FRINGE=$PWD/build/fringe
TRAFFICGEN=$PWD/build/tests/tools/trafficgen
REPORT=$PWD/scripts/bench_report.py
SECS=${BENCH_SECONDS:-5}	# per throughput run (nftables)
# The floor and fringe share VETH_ROUNDS rounds on veth.  A round is two
# halves, fringe on one pair in the first and on the other in the second;
# in a half trafficgen sends to the two for VETH_SECS seconds each, a tenth
# of a second at a time, so both meet the same moments of the machine.  A
# round's ratio is the geometric mean of its halves' (one pair's being a
# few % faster than the other cancels out, as a half's cannot), and the goal
# ratio is the median of the rounds' (as in the test-run rounds).  The
# rounds of a run spread by about 0.02 (halves: 0.034), so twenty hold the
# median to about +-0.006.
VETH_ROUNDS=${BENCH_VETH_ROUNDS:-20}
VETH_SECS=${BENCH_VETH_SECONDS:-1}
# Before fringe, the floor on both pairs for VETH_AA_ROUNDS half-length
# rounds: what the method reads when both sides run the same program (A/A).
# One pair can run a few % slower than the other for minutes (an A/A of two
# fringes read 0.97 over 30 runs, later 0.99): hence the halves.
VETH_AA_ROUNDS=${BENCH_VETH_AA_ROUNDS:-7}
RUNS=${BENCH_RUNS:-5}		# per control-plane figure (median)
# BENCH_COST_JSON=FILE reuses an earlier cost.json instead of running bench_cost;
# BENCH_GENERATOR=af-packet drives veth with AF_PACKET even where live frames work.
VETH_RULES=1024 CP_RULES=4096 ITEMS=65536
# 4096 rules need 4101 rule bitmaps; a site with such a policy sets the size at attach.
CP_SIZE=bitmaps=4608
GEN_MAC=02:00:00:00:00:01 DUT_MAC=02:00:00:00:00:02
NOTES=() FAULTS=()

require_root
require_cmd ip bpftool ethtool "$PYTHON"
for f in "$FRINGE" "$TRAFFICGEN" build/tests/tools/bench_cost build/bench/floor.bpf.o \
	 build/bench/trafficgen.bpf.o; do
	[ -e "$f" ] || fail "$f is missing: run 'make tests-build' first"
done
harness_reap_stale
harness_tmpdir
mkdir -p "$OUT"
rm -f "$OUT"/{cost.json,veth.jsonl,veth_ns.jsonl,cp.jsonl,meta.json,results.json,scaling.png}
START=$SECONDS
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
# A bpffs of our own from the start: libxdp (xdp-filter, fringe attach) pins
# there through LIBXDP_BPFFS, and /sys/fs/bpf may not be mounted at all.
pin_mount

note() { NOTES+=("$*"); info "note: $*"; }
fault() { FAULTS+=("$*"); NOTES+=("FAULT: $*"); echo "bench: FAULT: $*" >&2; }
# A JSON number from a document on stdin: jnum EXPR (d is the document).
jnum() { "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

step "per-packet cost (bench_cost, BPF_PROG_TEST_RUN; a few minutes)"
if [ -n "${BENCH_COST_JSON:-}" ]; then	# reuse an earlier run (for work on the other steps)
	cp "$BENCH_COST_JSON" "$TMPD/cost.json" && mv "$TMPD/cost.json" "$OUT/cost.json"
else
	rc=0
	timeout 1200 build/tests/tools/bench_cost >"$TMPD/cost.json" 2>"$TMPD/cost.err" || rc=$?
	cat "$TMPD/cost.err" >&2
	case $rc in
	0) mv "$TMPD/cost.json" "$OUT/cost.json" ;;
	77) note "per-packet cost not measured: $(tail -n1 "$TMPD/cost.err")" ;;
	*) fault "bench_cost failed (exit $rc): $(tail -n1 "$TMPD/cost.err")" ;;
	esac
fi
if [ -e "$OUT/cost.json" ]; then
	info "$(grep -c '"system"' "$OUT/cost.json") rows in $OUT/cost.json"
	"$PYTHON" -c 'import json,sys
for k, v in json.load(open(sys.argv[1])).get("unavailable", {}).items(): print("%s rows missing: %s" % (k, v))' \
		"$OUT/cost.json" | while read -r line; do info "note: $line"; done
fi

step "throughput on veth: trafficgen in 'gen' -> dut0 and dut1 in 'dut', the floor and fringe in turn (changing pairs each half), $VETH_ROUNDS rounds of two halves of ${VETH_SECS}s; nftables on dut0, ${SECS}s"
ns_add gen
ns_add dut
for n in gen dut; do	# no IPv6 chatter: the systems must count only what trafficgen sends
	nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
# Two identical pairs: the floor on one and fringe on the other, changing
# pairs between rounds (the policy stays loaded).  In a round trafficgen
# sends to tg0 and tg1 in turn, a tenth of a second at a time, so both
# systems meet the same moments of the machine; and many rounds fit where
# loading the policy for each allowed seven.
veth_add gen tg0 - "$GEN_MAC" dut dut0 - "$DUT_MAC"
veth_add gen tg1 - "$GEN_MAC" dut dut1 - "$DUT_MAC"
pin_mount
F=("$FRINGE" --pin-dir "$PIN")
for k in fringe nft-plain nft-set; do
	"$PYTHON" "$REPORT" policy "$k" "$VETH_RULES" "$ITEMS" dut0 >"$TMPD/veth-$k.policy"
done

# Each step runs in a subshell: `cannot` ends it with a reason (the machine
# cannot run it), `broken` with a fault of fringe's.
cannot() { echo "$*" >"$TMPD/veth.why"; exit 77; }
broken() { echo "$*" >"$TMPD/veth.why"; exit 1; }
# send SYSTEM [SECONDS [IFNAMES]]: drive the pairs of IFNAMES (tg0; several:
# in turn) for SECONDS (SECS); the trafficgen JSON goes to $TMPD/tg-SYSTEM.json.
send() {
	local secs=${2:-$SECS} ifname=${3:-tg0}

	timeout $((secs + 60)) ip netns exec "$(ns gen)" "$TRAFFICGEN" --ifname "$ifname" --slice 0.1 \
		--duration "$secs" --method "${BENCH_GENERATOR:-auto}" --packet last-rule --dst-mac "$DUT_MAC" --src-mac "$GEN_MAC" \
		>"$TMPD/tg-$1.json" 2>"$TMPD/tg-$1.err" ||
		cannot "trafficgen cannot send: $(tail -n1 "$TMPD/tg-$1.err")"
	grep -q 'using AF_PACKET' "$TMPD/tg-$1.err" && info "$1: $(tail -n1 "$TMPD/tg-$1.err")"
	info "$1: $(cat "$TMPD/tg-$1.json")"
}
# record SYSTEM COUNTED [NOTE [JSON]]: one line of veth.jsonl (COUNTED empty: the
# system's count was unreadable), with the round ($ROUND, 0 for a single run)
# and what trafficgen sent it (JSON: $TMPD/tg-SYSTEM.json).
record() {
	local tg=${4:-$TMPD/tg-$1.json}

	printf '{"system": "%s", "round": %d, "counted": %s, "note": "%s", "trafficgen": %s}\n' \
		"$1" "${ROUND:-0}" "${2:-null}" "${3:-}" "$(cat "$tg")" >>"$OUT/veth.jsonl"
	info "$1: counted $2 of $(jnum 'd["sent"]' <"$tg") sent"
}
# tg_of IFNAME: the round's trafficgen JSON as for IFNAME alone (its sent,
# seconds and pps; the method and packet of the whole).
tg_of() {
	"$PYTHON" -c 'import json,sys
d = json.load(open(sys.argv[1]))
for i in d.pop("interfaces", [d]):
    if i["ifname"] == sys.argv[2]:
        d.update(i)
print(json.dumps(d))' "$TMPD/tg-round.json" "$1" >"$TMPD/tg-$1.json"
}
floor_count() {	# floor_count [DEV]: the floor's count on DEV (dut0)
	local prog map
	prog=$(xdp_prog_id dut "${1:-dut0}")
	map=$(bpftool -j prog show id "$prog" | jnum 'd["map_ids"][0]')
	bpftool -j map dump id "$map" | "$PYTHON" "$REPORT" percpu-sum
}
floor_setup() {
	# The floor: count and drop, attached directly (no dispatcher) in native
	# mode; on dut1 too until fringe takes it, for the A/A rounds.
	for d in dut0 dut1; do
		nsx dut ip link set dev $d xdpdrv object build/bench/floor.bpf.o program floor_xdp_drop ||
			cannot "cannot attach the floor program to $d in native mode"
	done
}
# The pair fringe is on now (dut1 first), and the floor's: the other.
fringe_dev() { cat "$TMPD/fringe.dev" 2>/dev/null || echo dut1; }
floor_dev() { [ "$(fringe_dev)" = dut1 ] && echo dut0 || echo dut1; }
fringe_last() { nsx dut "${F[@]}" policy show --json | jnum 'next(r["packets"] for r in d["rules"] if r["name"] == "last")'; }
fringe_drops() {
	nsx dut "${F[@]}" stats --json |
		jnum "next(i['verdicts']['drop']['packets'] for i in d['interfaces'] if i['name'] == '$(fringe_dev)')"
}
fringe_setup() {
	# fringe: attached through libxdp, the 1024-rule policy whose last rule drops.
	nsx dut ip link set dev dut1 xdp off 2>/dev/null || true
	nsx dut timeout 60 "${F[@]}" attach dut1 >/dev/null 2>"$TMPD/fringe.err" ||
		broken "fringe cannot attach to dut1: $(tail -n1 "$TMPD/fringe.err")"
	echo dut1 >"$TMPD/fringe.dev"
	nsx dut timeout 60 "${F[@]}" policy load "$TMPD/veth-fringe.policy" >/dev/null 2>"$TMPD/fringe.err" ||
		broken "fringe cannot load the ${VETH_RULES}-rule policy: $(tail -n1 "$TMPD/fringe.err")"
}
# swap_pairs: fringe to the floor's pair, the floor to fringe's (the policy
# stays loaded: it lives in the pinned maps).
swap_pairs() {
	local from to

	from=$(fringe_dev) to=$(floor_dev)
	nsx dut timeout 60 "${F[@]}" detach "$from" >/dev/null 2>"$TMPD/fringe.err" ||
		broken "fringe cannot detach from $from: $(tail -n1 "$TMPD/fringe.err")"
	nsx dut ip link set dev "$to" xdp off
	nsx dut ip link set dev "$from" xdpdrv object build/bench/floor.bpf.o program floor_xdp_drop ||
		broken "cannot attach the floor program to $from in native mode"
	nsx dut timeout 60 "${F[@]}" attach "$to" >/dev/null 2>"$TMPD/fringe.err" ||
		broken "fringe cannot attach to $to: $(tail -n1 "$TMPD/fringe.err")"
	echo "$to" >"$TMPD/fringe.dev"
}
# count SYSTEM: what SYSTEM has counted so far (aa-dutN: the floor on dutN).
count() {
	case $1 in
	floor) floor_count "$(floor_dev)" ;;
	aa-dut0) floor_count dut0 ;;
	aa-dut1) floor_count dut1 ;;
	fringe) fringe_last ;;
	esac
}
# turn SYSTEM:IFNAME...: one round, VETH_SECS on each pair in turn; a line of
# veth.jsonl per system (fringe's note: its interface's drop verdicts).
turn() {
	local s ifs= n=0 d0=0 d1=0
	local -A c0

	for s in "$@"; do
		c0[$s]=$(count "${s%:*}") ifs=${ifs:+$ifs,}${s#*:} n=$((n + 1))
	done
	case " $* " in *" fringe:"*) d0=$(fringe_drops) ;; esac
	send round "$((VETH_SECS * n))" "$ifs"
	case " $* " in *" fringe:"*) d1=$(fringe_drops) ;; esac
	for s in "$@"; do
		tg_of "${s#*:}"
		record "${s%:*}" $(($(count "${s%:*}") - ${c0[$s]})) \
			"$([ "${s%:*}" = fringe ] && echo "interface drop verdicts: $((d1 - d0))")" \
			"$TMPD/tg-${s#*:}.json"
	done
}
# The programs' own time a packet in live traffic, from the kernel's program
# statistics (on for these turns only: bpf_stats_on in the loop below): what
# the pps ratio does not show where the generator's share of the path is
# large (AF_PACKET).  The statistics' two clock reads are in both programs'
# figures; their difference is the programs'.  VETH_NS_TURNS turns on the
# pairs as they stand after the rounds, a line of veth_ns.jsonl each
# ("RUN_TIME_NS RUN_CNT" before and after, per system).
VETH_NS_TURNS=${BENCH_VETH_NS_TURNS:-5}
progtime() {
	local i before

	for i in $(seq "$VETH_NS_TURNS"); do
		before="$(xdp_prog_runtime dut "$(floor_dev)") $(xdp_prog_runtime dut "$(fringe_dev)")"
		send progtime "$((VETH_SECS * 2))" tg0,tg1
		# shellcheck disable=SC2086,SC2046 # eight numbers, split on purpose
		set -- $before $(xdp_prog_runtime dut "$(floor_dev)") $(xdp_prog_runtime dut "$(fringe_dev)")
		printf '{"turn": %d, "floor": [%s, %s, %s, %s], "fringe": [%s, %s, %s, %s]}\n' \
			"$i" "$1" "$2" "$5" "$6" "$3" "$4" "$7" "$8" >>"$OUT/veth_ns.jsonl"
	done
}
# nftables, netdev ingress on dut0 (dut0 has GRO on, so veth delivers without XDP).
nft_last_rule() {
	nsx dut nft list chain netdev bench ingress |
		sed -n 's/.*192\.168\.77\.0\/24 tcp dport 8883 counter packets \([0-9]*\).*/\1/p'
}
nft_last_elem() {
	nsx dut nft list map netdev bench rules |
		sed -n 's/.*tcp \. 192\.168\.77\.0\/24 \. 8883 counter packets \([0-9]*\).*/\1/p'
}
veth_nft() {	# veth_nft plain|set
	command -v nft >/dev/null 2>&1 || cannot "nft is not installed (Debian: nftables)"
	nsx dut timeout 120 nft -f "$TMPD/veth-nft-$1.policy" 2>"$TMPD/nft.err" ||
		cannot "nft cannot load the $1 ruleset: $(tail -n1 "$TMPD/nft.err")"
	send "nft-$1"
	if [ "$1" = plain ]; then record nft-plain "$(nft_last_rule)"; else record nft-set "$(nft_last_elem)"; fi
}
runs=("0:floor-setup")
for r in $(seq "$VETH_AA_ROUNDS"); do runs+=("$r:aa"); done
runs+=("0:fringe-setup")
for r in $(seq $((2 * VETH_ROUNDS))); do	# halves: $r is recorded as the round
	[ "$r" = 1 ] || runs+=("$r:swap")
	runs+=("$r:round")
done
runs+=("0:progtime" "0:teardown" "0:nft-plain" "0:nft-set")
failed=" "
for run in "${runs[@]}"; do
	ROUND=${run%%:*} sys=${run#*:}
	case $failed in *" ${sys%-setup} "*) continue ;; esac	# said once, not once a round
	rm -f "$TMPD/veth.why"
	rc=0
	case $sys in
	floor-setup) (floor_setup) || rc=$? ;;
	fringe-setup) (fringe_setup) || rc=$? ;;
	aa) case $failed in *" floor "*) continue ;; esac
		(turn aa-dut0:tg0 aa-dut1:tg1) || rc=$? ;;
	swap)	# only while both run
		case $failed in *" floor "* | *" fringe "*) continue ;; esac
		(swap_pairs) || { rc=$?; failed="$failed fringe floor "; } ;;
	round)	# the systems that could be set up, on their pairs, tg0's first
		on=()
		case $failed in *" floor "*) ;; *) on+=("floor:tg$(floor_dev | tr -dc 0-9)") ;; esac
		case $failed in *" fringe "*) ;; *) on+=("fringe:tg$(fringe_dev | tr -dc 0-9)") ;; esac
		[ ${#on[@]} = 0 ] || { (turn $(printf '%s\n' "${on[@]}" | sort -t: -k2)) || rc=$?; } ;;
	progtime)	# only while both run
		case $failed in *" floor "* | *" fringe "*) continue ;; esac
		if bpf_stats_on; then
			(progtime) || rc=$?
			bpf_stats_restore
		else
			echo "cannot turn kernel.bpf_stats_enabled on" >"$TMPD/veth.why"
			rc=77
		fi ;;
	teardown)
		nsx dut timeout 60 "${F[@]}" detach "$(fringe_dev)" >/dev/null 2>&1 || true
		nsx dut ip link set dev dut0 xdp off 2>/dev/null || true
		nsx dut ip link set dev dut1 xdp off 2>/dev/null || true ;;
	nft-*) (veth_nft "${sys#nft-}") || rc=$? ; nsx dut nft delete table netdev bench 2>/dev/null || true ;;
	esac
	why=$(cat "$TMPD/veth.why" 2>/dev/null || echo "exit $rc")
	[ "$rc" = 0 ] || failed="$failed${sys%-setup} "
	case $rc in
	0) ;;
	77) note "veth ${sys%-setup} not measured: $why" ;;
	*) fault "veth ${sys%-setup}: $why" ;;
	esac
done

step "control plane: CLI at $CP_RULES rules + $ITEMS set items ($RUNS runs each)"
"$PYTHON" "$REPORT" policy fringe "$CP_RULES" "$ITEMS" >"$TMPD/cp.policy"
export CP_FILE=$TMPD/cp.policy
# timed WHAT CMD...: one run, timed inside the dut namespace, as a line of cp.jsonl.
timed() {
	local what=$1 r; shift
	r=$(nsx dut timeout 120 "$PYTHON" "$REPORT" time "$@") || true
	[ -n "$r" ] || r='{"ms": null, "rss_kib": 0, "rc": -1, "stderr": "timed out"}'
	printf '{"what": "%s", %s\n' "$what" "${r#\{}" >>"$OUT/cp.jsonl"
}
# A fresh pin dir per run; unmounted afterwards so the maps of old runs do not pile up.
fresh_pin() {
	[ -z "${CP_PIN:-}" ] || { umount "$CP_PIN" 2>/dev/null || umount -l "$CP_PIN"; }
	pin_mount
	CP_PIN=$PIN
	F=("$FRINGE" --pin-dir "$PIN")
}
CP_PIN=
for i in $(seq "$RUNS"); do
	# Cold: an empty pin dir, so attach creates and pins every map (at the
	# size this policy needs) and the load fills them: both are timed.
	fresh_pin
	# shellcheck disable=SC2016 # expanded by the inner shell
	timed load_cold sh -c '"$@" attach dut0 --size "$0" >/dev/null && "$@" policy load "$CP_FILE"' \
		"$CP_SIZE" "${F[@]}"
	nsx dut timeout 60 "${F[@]}" detach dut0 >/dev/null 2>&1 || true
	# First: attached, no policy yet (the maps exist); then a reload of the same file.
	fresh_pin
	if ! nsx dut timeout 60 "${F[@]}" attach dut0 --size "$CP_SIZE" >/dev/null 2>"$TMPD/attach.err"; then
		fault "control plane: fringe cannot attach to dut0: $(tail -n1 "$TMPD/attach.err")"
		break
	fi
	timed load_first "${F[@]}" policy load "$TMPD/cp.policy"
	timed reload "${F[@]}" policy load "$TMPD/cp.policy"
	if [ "$i" -lt "$RUNS" ]; then
		nsx dut timeout 60 "${F[@]}" detach dut0 >/dev/null 2>&1 || { fault "fringe cannot detach"; break; }
	fi
done
for i in $(seq "$RUNS"); do
	timed show "${F[@]}" policy show --json
done
# policy test --verbose: 100,000 packets against the same policy, each packet's
# rule named by one read of the per-CPU scratch (not a scan of every counter).
"$PYTHON" - "$TMPD/replay.pcap" <<'EOF'
import struct, sys
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
for i in range(100000):
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 46, 1, 0, 64, 17, 0, bytes([10, 0, i >> 8 & 255, i & 255]),
                     bytes([10, 1, 0, 2]))
    f = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + struct.pack(">HHHH", 40000, 1000 + i % 4096, 26, 0) + bytes(18)
    out.write(struct.pack("<IIII", 1000, i, len(f), len(f)) + f)
EOF
for i in $(seq "$RUNS"); do
	timed policy_test_verbose "$FRINGE" policy test "$TMPD/cp.policy" --pcap "$TMPD/replay.pcap" --verbose --json
done
if nsx dut "${F[@]}" metrics >/dev/null 2>"$TMPD/metrics.err"; then
	for i in $(seq "$RUNS"); do
		timed metrics "${F[@]}" metrics
	done
else
	note "fringe metrics skipped: $(tail -n1 "$TMPD/metrics.err")"
fi
# A Prometheus scrape of the daemon at this size, over HTTP on the dut's loopback.
printf 'interface dut0\npolicy %s\nmetrics 127.0.0.1:19650\npin-dir %s\n' "$TMPD/cp.policy" "$PIN" \
	>"$TMPD/bench.conf"
ns_bg dut "$TMPD/daemon.log" timeout 300 "$FRINGE" daemon --config "$TMPD/bench.conf"
DAEMON_PID=$BG_PID
if ! command -v curl >/dev/null 2>&1; then
	note "daemon scrape not measured: curl is not installed"
elif wait_listen dut tcp 127.0.0.1 19650 20; then
	for i in $(seq "$RUNS"); do
		timed scrape curl -sf -o /dev/null http://127.0.0.1:19650/metrics
	done
	# The dashboard's refresh (every 2 s per open page): the daemon's CPU time
	# (utime + stime) over REFRESHES rounds of the page's three API requests.
	dpid=$(pgrep -P "$DAEMON_PID" -x fringe || echo "$DAEMON_PID")
	cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$dpid/stat"; }
	REFRESHES=40
	for i in $(seq "$RUNS"); do
		t0=$(cpu_ticks) bytes=0
		for j in $(seq "$REFRESHES"); do
			for doc in stats policy 'flows?top=10'; do
				b=$(nsx dut curl -sf -o /dev/null -w '%{size_download}' "http://127.0.0.1:19650/api/v1/$doc") || b=0
				bytes=$((bytes + b))
			done
		done
		t1=$(cpu_ticks)
		ms=$("$PYTHON" -c 'import os, sys; print(round((int(sys.argv[2]) - int(sys.argv[1])) * 1000 / os.sysconf("SC_CLK_TCK") / int(sys.argv[3]), 2))' "$t0" "$t1" "$REFRESHES")
		printf '{"what": "dashboard_refresh_cpu", "ms": %s, "rss_kib": %s, "rc": 0, "bytes": %d}\n' \
			"$ms" "$(awk '/^VmRSS:/ { print $2 }' "/proc/$dpid/status")" $((bytes / REFRESHES)) >>"$OUT/cp.jsonl"
		info "dashboard refresh at $CP_RULES rules: $ms ms of the daemon's CPU, $((bytes / REFRESHES)) bytes"
	done
else
	note "daemon scrape skipped: the daemon did not listen ($(tail -n1 "$TMPD/daemon.log"))"
fi
bg_stop "$DAEMON_PID"
memlock=$(nsx dut "${F[@]}" status --json | jnum 'd["memlock_bytes"]') || memlock=null
info "memlock at $CP_RULES rules + $ITEMS items: $memlock bytes"
nsx dut "${F[@]}" detach dut0 >/dev/null || true

step "memory: kernel memory per scenario, controller and daemon RSS (scripts/bench_mem.sh)"
scripts/bench_mem.sh "$OUT/mem.json" || note "the memory section failed (scripts/bench_mem.sh)"

step "cluster: N daemons converging on etcd, a lease-lapsed node leaving (scripts/bench_cluster.sh)"
scripts/bench_cluster.sh "$OUT/cluster.json" || note "the cluster section failed (scripts/bench_cluster.sh)"

step "report"
{
	printf '{"memlock_bytes": %s, "runtime_s": %d, "loadavg_at_start": ["%s"], "notes": [' \
		"$memlock" $((SECONDS - START)) "${LOADAVG_START// /\", \"}"
	sep=
	for n in "${NOTES[@]}"; do
		printf '%s%s' "$sep" "$("$PYTHON" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$n")"
		sep=", "
	done
	printf ']}\n'
} >"$OUT/meta.json"
"$PYTHON" "$REPORT" report "$OUT" "$OUT/results.json" docs/bench.md
echo "bench: done in $((SECONDS - START)) s"
if [ ${#FAULTS[@]} -gt 0 ]; then
	echo "bench: ${#FAULTS[@]} fault(s) of fringe's own, see the notes above" >&2
	exit 1
fi
