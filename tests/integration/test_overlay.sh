#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: a four-node overlay (three fringe nodes, one Linux vxlan peer) carries ping and TCP between every pair of workloads.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/fringe.sh"
. "$ROOT/scripts/lib/cluster.sh"

require_root
require_cmd ip bridge ping iperf3 tcpdump nc ss timeout "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

N=4
LINUX=4			# the interoperability peer: a plain Linux vxlan device
FRINGE_NODES="1 2 3"
MOVED=10.210.0.0/24	# a prefix that moves from n2 to n3
MOVED_IP=10.210.0.10

harness_tmpdir

# show_json I FILE: `nodes show --json` of node I into FILE.
show_json() {
	run_rc frn "$1" nodes show --json
	[ "$RC" -eq 0 ] || fail "n$1: nodes show exited $RC: $(head -c 500 "$TMPD/err")"
	cp "$TMPD/out" "$2"
}
# node_tx I NAME: packets node I sent into the tunnel toward NAME.
node_tx() {
	show_json "$1" "$TMPD/show.json"
	q "$TMPD/show.json" "next(n['tx_packets'] for n in d['nodes'] if n['name'] == '$2')"
}
stats_json() {
	run_rc frn "$1" stats --json
	[ "$RC" -eq 0 ] || fail "n$1: stats exited $RC"
	cp "$TMPD/out" "$2"
}
load_nodes() {
	run_rc frn "$1" nodes load "$2"
	[ "$RC" -eq 0 ] || fail "n$1: nodes load $2 exited $RC: $(cat "$TMPD/err")"
}
load_policy() {
	printf '%s\n' "$2" >"$TMPD/p$1.policy"
	run_rc frn "$1" policy load "$TMPD/p$1.policy"
	[ "$RC" -eq 0 ] || fail "n$1: policy load exited $RC: $(cat "$TMPD/err")"
}
all_pairs_ping() {
	local i j
	for ((i = 1; i <= N; i++)); do
		for ((j = 1; j <= N; j++)); do
			[ "$i" -eq "$j" ] && continue
			cl_ping "$i" "$j" || fail "$1: ping w$i -> w$j ($(cl_ip "$j")) failed"
		done
	done
	info "ok: ping between all $((N * (N - 1))) ordered pairs ($1)"
}

step "topology: fabric bridge, $N nodes (n$LINUX is a Linux vxlan peer), a workload each"
CL_VNI[2]=7		# n2 receives on VNI 7; everyone else, the Linux peer included, on 1
cluster_up "$N" "$LINUX"
for i in $FRINGE_NODES; do
	cluster_nodes_file "$i" "$TMPD/nodes$i"
done
info "n1's nodes file:"
sed 's/^/    /' "$TMPD/nodes1"

step "nodes check, then fringe on ul and wl of n1 n2 n3"
for i in $FRINGE_NODES; do
	run_rc frn "$i" nodes check "$TMPD/nodes$i"
	[ "$RC" -eq 0 ] || fail "nodes check n$i: $(cat "$TMPD/err")"
done
grep -q 'ok, 4 nodes, 4 prefixes; self n1' "$TMPD/out" || grep -q 'self n3' "$TMPD/out" ||
	fail "nodes check: unexpected output: $(cat "$TMPD/out")"
# shellcheck disable=SC2119 # every fringe node
cluster_attach || fail "cannot attach fringe to the nodes"
run_rc frn 1 nodes show
grep -q 'no nodes file loaded' "$TMPD/out" || fail "nodes show before any load: $(cat "$TMPD/out")"

step "without a nodes file the workloads cannot reach each other"
! cl_ping 1 2 -c 1 || fail "w1 reached w2 with no overlay"

step "nodes load on every fringe node"
for i in $FRINGE_NODES; do
	load_nodes "$i" "$TMPD/nodes$i"
	info "n$i: $(cat "$TMPD/out")"
done
show_json 1 "$TMPD/show1.json"
[ "$(q "$TMPD/show1.json" 'd["self"]')" = n1 ] || fail "nodes show: self is not n1"
[ "$(q "$TMPD/show1.json" 'sorted(n["name"] for n in d["nodes"])')" = "['n1', 'n2', 'n3', 'n4']" ] ||
	fail "nodes show: unexpected nodes"
q "$TMPD/show1.json" 'all(set(n) >= {"name", "underlay", "prefixes", "tx_packets", "rx_packets"} for n in d["nodes"])' |
	grep -q True || fail "nodes show --json lacks a documented key (docs/overlay.md)"
[ "$(q "$TMPD/show1.json" 'next(n for n in d["nodes"] if n["name"] == "n3")["prefixes"]')" = "['10.200.3.0/24']" ] ||
	fail "nodes show: n3's prefixes"
[ "$(q "$TMPD/show1.json" 'next(n for n in d["nodes"] if n["name"] == "n2")["mac_source"]')" = neighbour ] ||
	fail "nodes show: n2's MAC should come from the neighbour table"
[ "$(q "$TMPD/show1.json" 'd["underlay"]["inner_mtu"]')" = 1450 ] || fail "nodes show: workload MTU"
frn 1 nodes show | sed 's/^/    /'

step "ping between every pair of workloads; tcpdump on the fabric sees VXLAN"
ns_bg fabric "$TMPD/tcpdump.txt" timeout 60 tcpdump -l -n -i br0 -c 40 udp port 4789
DUMP_PID=$BG_PID
sleep 1
all_pairs_ping "first load"
wait_until 10 grep -q 'VXLAN.*vni 7' "$TMPD/tcpdump.txt" ||
	fail "tcpdump on the fabric saw no VXLAN with VNI 7: $(head -c 1500 "$TMPD/tcpdump.txt")"
grep -q 'VXLAN.*vni 1' "$TMPD/tcpdump.txt" || fail "tcpdump saw no VXLAN with VNI 1"
bg_stop "$DUMP_PID"
info "ok: $(grep -c VXLAN "$TMPD/tcpdump.txt") VXLAN packets on br0, e.g.:"
grep -m 2 VXLAN "$TMPD/tcpdump.txt" | sed 's/^/    /'
for j in 2 3 4; do
	[ "$(node_tx 1 "n$j")" -ge 6 ] || fail "n1 counted fewer than 6 packets toward n$j"
done
show_json 2 "$TMPD/show2.json"
[ "$(q "$TMPD/show2.json" 'next(n for n in d["nodes"] if n["name"] == "n4")["rx_packets"]')" -ge 6 ] ||
	fail "n2 counted fewer than 6 packets from the Linux peer n4"

step "TCP (iperf3, 1 s) between every pair of workloads"
for ((i = 1; i <= N; i++)); do
	for ((j = 1; j <= N; j++)); do
		[ "$i" -eq "$j" ] && continue
		ns_bg "w$j" "$TMPD/iperf-s.log" timeout 20 iperf3 -s -1 -B "$(cl_ip "$j")" -p 5201
		wait_listen "w$j" tcp "$(cl_ip "$j")" 5201 || fail "iperf3 server in w$j did not start"
		timeout 20 ip netns exec "$(ns "w$i")" iperf3 -c "$(cl_ip "$j")" -p 5201 -t 1 -J \
			>"$TMPD/iperf.json" 2>&1 || fail "iperf3 w$i -> w$j failed: $(tail -c 500 "$TMPD/iperf.json")"
		bg_stop "$BG_PID"
		MBPS=$(q "$TMPD/iperf.json" 'round(d["end"]["sum_received"]["bits_per_second"] / 1e6)')
		[ "$MBPS" -gt 10 ] || fail "iperf3 w$i -> w$j: only $MBPS Mbit/s"
		printf '  w%d -> w%d %6d Mbit/s\n' "$i" "$j" "$MBPS"
	done
done

step "traffic n1 itself sends: TC egress on its underlay puts it in the tunnel"
run_rc frn 1 attach ul --egress
[ "$RC" -eq 0 ] || fail "attach ul --egress: $(cat "$TMPD/err")"
run_rc frn 1 status --json
cp "$TMPD/out" "$TMPD/status-egress.json"
[ "$(q "$TMPD/status-egress.json" 'next(i for i in d["interfaces"] if i["name"] == "ul")["egress"]')" = True ] ||
	fail "status: no egress program on ul"
# Routes toward the other nodes' prefixes through their underlay addresses,
# within the tunnel's MTU; without fringe they would reach the nodes unwrapped.
for j in 2 3 4; do
	ip -n "$(ns n1)" route add "10.200.$j.0/24" via "$(cl_ul_ip "$j")" dev ul mtu 1450
done
nsx n1 ethtool -K ul tx off >/dev/null 2>&1 || true
for j in 2 3 4; do
	TX=$(node_tx 1 "n$j")
	timeout 10 ip netns exec "$(ns n1)" ping -c 3 -i 0.2 -W 2 "$(cl_ip "$j")" >/dev/null ||
		fail "n1 (the host) cannot ping w$j"
	[ "$(node_tx 1 "n$j")" -ge $((TX + 3)) ] || fail "n1's pings to w$j did not go through the tunnel"
done
ns_bg w4 "$TMPD/iperf-s.log" timeout 20 iperf3 -s -1 -B "$(cl_ip 4)" -p 5201
wait_listen w4 tcp "$(cl_ip 4)" 5201 || fail "iperf3 server in w4 did not start"
timeout 20 ip netns exec "$(ns n1)" iperf3 -c "$(cl_ip 4)" -p 5201 -t 1 -J >"$TMPD/iperf.json" 2>&1 ||
	fail "iperf3 n1 -> w4 failed: $(tail -c 500 "$TMPD/iperf.json")"
bg_stop "$BG_PID"
info "ok: n1's own pings reach w2 w3 w4 in the tunnel; TCP n1 -> w4 (Linux peer) $(q "$TMPD/iperf.json" 'round(d["end"]["sum_received"]["bits_per_second"] / 1e6)') Mbit/s"

step "the policy filters overlay traffic: as it enters the tunnel (n2) and as it leaves (n3)"
load_policy 2 "rule w2-to-w3 src 10.200.2.0/24 dst 10.200.3.0/24 drop"
! cl_ping 2 3 || fail "w2 reached w3 through the drop rule on n2"
cl_ping 2 1 || fail "w2 cannot reach w1 any more"
cl_ping 2 4 || fail "w2 cannot reach w4 any more"
cl_ping 1 3 || fail "w1 cannot reach w3 any more"
run_rc frn 2 policy show --json
cp "$TMPD/out" "$TMPD/pol2.json"
[ "$(q "$TMPD/pol2.json" 'rule("w2-to-w3")["packets"]')" -ge 3 ] || fail "rule w2-to-w3 counted < 3 packets"
load_policy 3 "rule from-w1 src 10.200.1.0/24 proto icmp drop"
! cl_ping 1 3 || fail "w1 reached w3 through the drop rule on n3"
cl_ping 4 3 || fail "w4 (Linux peer) cannot reach w3 any more"
stats_json 3 "$TMPD/stats3.json"
[ "$(q "$TMPD/stats3.json" 'iface("ul")["drops"]["policy"]')" -ge 3 ] ||
	fail "n3 did not count the decapsulated packets it dropped on ul"
load_policy 2 "default allow"
load_policy 3 "default allow"
cl_ping 2 3 || fail "w2 cannot reach w3 after the policy was lifted"
info "ok: drops by rule on both ends; lifted"

step "nodes load of a changed file moves $MOVED from n2 to n3, nothing restarted"
for i in 2 3; do
	ip -n "$(ns "w$i")" addr add "$MOVED_IP/32" dev eth0
	ip -n "$(ns "n$i")" route add "$MOVED" via "$(cl_ip "$i")" dev wl
	ns_bg "w$i" "$TMPD/moved$i.log" timeout 120 nc -lk "$MOVED_IP" 7000
	wait_listen "w$i" tcp "$MOVED_IP" 7000 || fail "listener in w$i did not start"
done
CL_EXTRA_PREFIX[2]=",$MOVED"
for i in $FRINGE_NODES; do
	cluster_nodes_file "$i" "$TMPD/nodes$i"
	load_nodes "$i" "$TMPD/nodes$i"
done
run_rc frn 1 status --json
cp "$TMPD/out" "$TMPD/status-before.json"
printf 'to-n2\n' | timeout 10 ip netns exec "$(ns w1)" nc -N -w 3 "$MOVED_IP" 7000 ||
	fail "w1 cannot reach $MOVED_IP on n2"
wait_until 5 grep -q to-n2 "$TMPD/moved2.log" || fail "$MOVED_IP on n2 got nothing"
TX2=$(node_tx 1 n2) TX3=$(node_tx 1 n3)
CL_EXTRA_PREFIX[2]=
CL_EXTRA_PREFIX[3]=",$MOVED"
for i in $FRINGE_NODES; do
	cluster_nodes_file "$i" "$TMPD/nodes$i"
	load_nodes "$i" "$TMPD/nodes$i"
done
printf 'to-n3\n' | timeout 10 ip netns exec "$(ns w1)" nc -N -w 3 "$MOVED_IP" 7000 ||
	fail "w1 cannot reach $MOVED_IP on n3 after the move"
wait_until 5 grep -q to-n3 "$TMPD/moved3.log" || fail "$MOVED_IP on n3 got nothing after the move"
grep -q to-n3 "$TMPD/moved2.log" && fail "after the move, $MOVED_IP on n2 still got traffic"
[ "$(node_tx 1 n3)" -gt "$TX3" ] || fail "n1 sent nothing more toward n3 after the move"
[ "$(node_tx 1 n2)" -eq "$TX2" ] || fail "n1 still sent toward n2 after the move"
run_rc frn 1 status --json
cp "$TMPD/out" "$TMPD/status-after.json"
[ "$(q "$TMPD/status-before.json" '[i["prog_id"] for i in d["interfaces"]]')" = \
	"$(q "$TMPD/status-after.json" '[i["prog_id"] for i in d["interfaces"]]')" ] ||
	fail "the programs on n1 changed across nodes load"
show_json 1 "$TMPD/show-moved.json"
[ "$(q "$TMPD/show-moved.json" 'next(n for n in d["nodes"] if n["name"] == "n3")["prefixes"]')" = \
	"['10.200.3.0/24', '10.210.0.0/24']" ] || fail "nodes show: n3 should own $MOVED now"
info "ok: n1 sends $MOVED to n3 now (tx n2 $TX2, n3 $TX3 -> $(node_tx 1 n3)); same programs"

step "a bad nodes file is refused with every error located; the overlay stays"
GEN=$(q "$TMPD/show-moved.json" 'd["generation"]')
cat >"$TMPD/bad.nodes" <<'EOF'
self n1
node n1 underlay 10.99.0.1 prefix 10.200.1.0/24
node n1 underlay 10.99.0.9 prefix 10.200.9.0/24
node n2 underlay 10.99.0.2 prefix 10.200.0.0/16 vni 16777216
node n3 underlay nowhere.example prefix 10.200.3.0/24
EOF
run_rc frn 1 nodes load "$TMPD/bad.nodes"
[ "$RC" -eq 1 ] || fail "nodes load of a bad file exited $RC, want 1"
for e in "bad.nodes:3:6: error: duplicate node 'n1'" "bad.nodes:4:53: error: VNI 16777216 is out of range" \
	"bad.nodes:4:35: error: prefix 10.200.0.0/16 of node 'n2' overlaps" \
	"bad.nodes:5:18: error: underlay 'nowhere.example' is not an IP address"; do
	grep -qF "$e" "$TMPD/err" || fail "nodes load: missing '$e' in: $(cat "$TMPD/err")"
done
grep -q '^fringe: ' "$TMPD/err" || fail "nodes load: no 'fringe: ' line"
printf 'self n1\nnode n2 underlay 10.99.0.2 prefix 10.1.0.0/16\n' >"$TMPD/noself.nodes"
run_rc frn 1 nodes load "$TMPD/noself.nodes"
if [ "$RC" -ne 1 ] || ! grep -q "noself.nodes:1:6: error: self 'n1' is not a listed node" "$TMPD/err"; then
	fail "nodes load without self's node: exit $RC: $(cat "$TMPD/err")"
fi
show_json 1 "$TMPD/show-bad.json"
[ "$(q "$TMPD/show-bad.json" 'd["generation"]')" = "$GEN" ] || fail "a bad file changed the generation"
[ "$(q "$TMPD/show-bad.json" 'd["load_failures"]')" -ge 2 ] || fail "bad loads were not counted"
all_pairs_ping "after bad nodes files"

step "an inner packet too big for the underlay is dropped (reason mtu), DF answered with ICMP"
ip -n "$(ns w1)" link set eth0 mtu 1500
ip -n "$(ns n1)" link set wl mtu 1500
cl_ping 1 2 -c 1 -s 1422 -M "do" || fail "a 1450-byte packet did not get through"
timeout 10 ip netns exec "$(ns w1)" ping -c 1 -W 2 -s 1423 -M "do" "$(cl_ip 3)" >"$TMPD/ping-mtu.txt" 2>&1 &&
	fail "a 1451-byte packet got through a 1500-byte underlay"
grep -Eq 'Frag needed.*mtu = 1450' "$TMPD/ping-mtu.txt" ||
	fail "no ICMP fragmentation needed (mtu 1450) came back: $(cat "$TMPD/ping-mtu.txt")"
info "ok: $(grep -m 1 'Frag needed' "$TMPD/ping-mtu.txt")"
timeout 10 ip netns exec "$(ns w1)" ping -c 1 -W 2 -s 1423 -M "do" "$(cl_ip 3)" >"$TMPD/ping-mtu2.txt" 2>&1 || true
grep -q 'mtu=1450' "$TMPD/ping-mtu2.txt" || fail "w1 did not learn the path MTU: $(cat "$TMPD/ping-mtu2.txt")"
! cl_ping 1 4 -c 1 -s 1423 -M dont || fail "a 1451-byte packet without DF got through"
ip -n "$(ns w1)" link set eth0 mtu 1450
ip -n "$(ns n1)" link set wl mtu 1450
stats_json 1 "$TMPD/stats1.json"
[ "$(q "$TMPD/stats1.json" 'iface("wl")["drops"]["mtu"]')" -ge 2 ] || fail "mtu drops not counted on n1 wl"

step "VXLAN from an address not in the nodes file is dropped (reason overlay_unknown_node)"
ip -n "$(ns fabric)" addr add 10.99.0.200/24 dev br0
# shellcheck disable=SC2016 # the Python program expands its own variables
timeout 10 ip netns exec "$(ns fabric)" "$PYTHON" -c '
import socket
inner = bytes.fromhex("02990000000102c80100000a0800") + bytes.fromhex("4500001c000040004001") + \
        b"\0\0" + bytes([10, 200, 9, 10, 10, 200, 1, 10]) + bytes(8)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.99.0.200", 0))
for _ in range(5):
    s.sendto(bytes.fromhex("0800000000000100") + inner, ("10.99.0.1", 4789))
' || fail "cannot send VXLAN from the fabric"
sleep 0.5
stats_json 1 "$TMPD/stats1u.json"
[ "$(q "$TMPD/stats1u.json" 'iface("ul")["drops"]["overlay_unknown_node"]')" -ge 5 ] ||
	fail "VXLAN from 10.99.0.200 was not dropped as overlay_unknown_node"

step "stats and metrics count the overlay per node and direction"
[ "$(q "$TMPD/stats1u.json" 'next(n for n in d["overlay"]["nodes"] if n["name"] == "n2")["tx_packets"]')" -gt 0 ] ||
	fail "stats --json: no overlay tx toward n2"
run_rc frn 1 metrics
grep -Eq '^fringe_overlay_packets_total\{node="n2",direction="tx"\} [1-9]' "$TMPD/out" ||
	fail "metrics: no fringe_overlay_packets_total for n2 tx"
grep -Eq '^fringe_overlay_packets_total\{node="n4",direction="rx"\} [1-9]' "$TMPD/out" ||
	fail "metrics: no fringe_overlay_packets_total for n4 rx"
if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$TMPD/out" >"$TMPD/promtool.txt" 2>&1 ||
		fail "promtool check metrics: $(cat "$TMPD/promtool.txt")"
fi
grep '^fringe_overlay_packets_total' "$TMPD/out" | sed 's/^/    /'

step "the daemon loads the nodes file and follows its edits; a broken edit changes nothing"
GEN=$(q "$TMPD/show-bad.json" 'd["generation"]')
cp "$TMPD/nodes1" "$TMPD/daemon.nodes"
printf 'interface ul\ninterface wl\nnodes daemon.nodes\nmetrics 127.0.0.1:9651\n' >"$TMPD/fringe.conf"
run_rc frn 1 daemon --config "$TMPD/fringe.conf" --check
[ "$RC" -eq 0 ] || fail "daemon --check: $(cat "$TMPD/err")"
ns_bg n1 "$TMPD/daemon.log" timeout 120 "$FRINGE" --pin-dir "${CL_PIN[1]}" -v daemon --config "$TMPD/fringe.conf"
DAEMON_PID=$BG_PID
wait_until 20 grep -q 'loaded nodes file' "$TMPD/daemon.log" ||
	fail "the daemon did not load the nodes file: $(tail -5 "$TMPD/daemon.log")"
show_json 1 "$TMPD/show-d1.json"
GEN1=$(q "$TMPD/show-d1.json" 'd["generation"]')
[ "$GEN1" -gt "$GEN" ] || fail "the daemon's load did not raise the generation ($GEN -> $GEN1)"
# n1 alone learns one more prefix of n3: the table is all this checks.
sed -i 's|^node n3 underlay \(.*\) prefix 10.200.3.0/24|node n3 underlay \1 prefix 10.200.3.0/24,10.250.0.0/16|' "$TMPD/daemon.nodes"
wait_until 10 sh -c "ip netns exec $(ns n1) $FRINGE --pin-dir ${CL_PIN[1]} nodes show | grep -q 10.250.0.0/16" ||
	fail "the daemon did not follow the edited nodes file: $(tail -5 "$TMPD/daemon.log")"
printf 'node n9 underlay 10.99.0.9 prefix 10.200.1.0/24\n' >>"$TMPD/daemon.nodes"
wait_until 10 grep -q 'daemon.nodes:.*overlaps' "$TMPD/daemon.log" ||
	fail "the daemon did not report the broken nodes file: $(tail -5 "$TMPD/daemon.log")"
show_json 1 "$TMPD/show-d2.json"
[ "$(q "$TMPD/show-d2.json" 'd["generation"]')" = "$((GEN1 + 1))" ] ||
	fail "a broken nodes file changed the overlay under the daemon"
bg_stop "$DAEMON_PID"
all_pairs_ping "after the daemon stopped"

step "done"
harness_done
