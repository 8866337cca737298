#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: an IPv6 underlay (three fringe nodes, one Linux vxlan peer over IPv6) carries IPv4 and IPv6 workloads; Packet Too Big reaches the sender.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/fringe.sh"
. "$ROOT/scripts/lib/cluster.sh"

require_root
require_cmd ip bridge ping iperf3 tcpdump nstat timeout "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

N=4
LINUX=4			# a plain Linux vxlan device over IPv6, default settings (UDP checksums on)
FRINGE_NODES="1 2 3"
CL_UL6=1
CL_INNER6=1

harness_tmpdir

show_json() {
	run_rc frn "$1" nodes show --json
	[ "$RC" -eq 0 ] || fail "n$1: nodes show exited $RC: $(head -c 500 "$TMPD/err")"
	cp "$TMPD/out" "$2"
}
node_tx() {
	show_json "$1" "$TMPD/show.json"
	q "$TMPD/show.json" "next(n['tx_packets'] for n in d['nodes'] if n['name'] == '$2')"
}
stats_json() {
	run_rc frn "$1" stats --json
	[ "$RC" -eq 0 ] || fail "n$1: stats exited $RC"
	cp "$TMPD/out" "$2"
}
ping6_w() {	# ping6_w I J [ARGS]: ping w_J's IPv6 address from w_I
	local i=$1 j=$2; shift 2
	timeout 20 ip netns exec "$(ns "w$i")" ping -6 -c 3 -i 0.2 -W 2 "$@" "$(cl_ip6 "$j")" >/dev/null 2>&1
}
# The Linux peer's count of UDP/IPv6 datagrams it dropped for a bad checksum.
linux_csum_errors() {
	nsx "n$LINUX" nstat -az Udp6InCsumErrors | awk '$1 == "Udp6InCsumErrors" { print $2 }'
}

step "topology: IPv6 fabric, $N nodes (n$LINUX is a Linux vxlan peer over IPv6), workloads with IPv4 and IPv6"
cluster_up "$N" "$LINUX"
for i in $FRINGE_NODES; do
	cluster_nodes_file "$i" "$TMPD/nodes$i"
done
info "n1's nodes file:"
sed 's/^/    /' "$TMPD/nodes1"
for i in $FRINGE_NODES; do
	run_rc frn "$i" nodes check "$TMPD/nodes$i"
	[ "$RC" -eq 0 ] || fail "nodes check n$i: $(cat "$TMPD/err")"
done
# shellcheck disable=SC2119 # every fringe node
cluster_attach || fail "cannot attach fringe to the nodes"
for i in $FRINGE_NODES; do
	run_rc frn "$i" nodes load "$TMPD/nodes$i"
	[ "$RC" -eq 0 ] || fail "n$i: nodes load exited $RC: $(cat "$TMPD/err")"
	info "n$i: $(cat "$TMPD/out")"
done

step "nodes show: IPv6 underlay addresses, neighbour discovery, the 70-byte overhead"
show_json 1 "$TMPD/show1.json"
[ "$(q "$TMPD/show1.json" 'd["underlay"]["address"]')" = fd99::1 ] || fail "nodes show: self's address"
[ "$(q "$TMPD/show1.json" 'd["underlay"]["inner_mtu"]')" = 1430 ] || fail "nodes show: workload MTU not 1430"
[ "$(q "$TMPD/show1.json" 'next(n for n in d["nodes"] if n["name"] == "n2")["underlay"]')" = fd99::2 ] ||
	fail "nodes show: n2's underlay"
[ "$(q "$TMPD/show1.json" 'next(n for n in d["nodes"] if n["name"] == "n2")["mac_source"]')" = neighbour ] ||
	fail "nodes show: n2's MAC should come from the IPv6 neighbour table"
[ "$(q "$TMPD/show1.json" 'next(n for n in d["nodes"] if n["name"] == "n4")["family"]')" = 6 ] ||
	fail "nodes show: n4 is not reached over IPv6"
frn 1 nodes show | sed 's/^/    /'

step "ping (IPv4 and IPv6 inside) between every pair of workloads; tcpdump sees UDP/IPv6 4789"
ns_bg fabric "$TMPD/tcpdump.txt" timeout 60 tcpdump -l -n -v -i br0 -c 60 ip6 and udp port 4789
DUMP_PID=$BG_PID
sleep 1
ERR0=$(linux_csum_errors)
for ((i = 1; i <= N; i++)); do
	for ((j = 1; j <= N; j++)); do
		[ "$i" -eq "$j" ] && continue
		cl_ping "$i" "$j" || fail "ping w$i -> w$j ($(cl_ip "$j")) failed"
		ping6_w "$i" "$j" || fail "ping -6 w$i -> w$j ($(cl_ip6 "$j")) failed"
	done
done
info "ok: ping and ping -6 between all $((N * (N - 1))) ordered pairs"
wait_until 10 grep -q 'fd99::1\.[0-9]* > fd99::4\.4789: .*VXLAN' "$TMPD/tcpdump.txt" ||
	fail "tcpdump on the fabric saw no VXLAN over IPv6 from n1 to the Linux peer: $(head -c 1500 "$TMPD/tcpdump.txt")"
grep -q 'fd99::4\.[0-9]* > fd99::[123]\.4789: .*VXLAN' "$TMPD/tcpdump.txt" ||
	fail "tcpdump saw no VXLAN over IPv6 from the Linux peer"
grep -q 'bad udp cksum' "$TMPD/tcpdump.txt" && fail "tcpdump saw a bad UDP checksum: $(grep -m 2 'bad udp' "$TMPD/tcpdump.txt")"
bg_stop "$DUMP_PID"
info "ok: $(grep -c VXLAN "$TMPD/tcpdump.txt") VXLAN-over-IPv6 packets on br0, e.g.:"
grep -m 2 -B1 'VXLAN' "$TMPD/tcpdump.txt" | sed 's/^/    /'
[ "$(linux_csum_errors)" = "$ERR0" ] || fail "the Linux peer counted UDP/IPv6 checksum errors"
for j in 2 3 4; do
	[ "$(node_tx 1 "n$j")" -ge 12 ] || fail "n1 counted fewer than 12 packets toward n$j"
done

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
[ "$(linux_csum_errors)" = "$ERR0" ] || fail "the Linux peer counted UDP/IPv6 checksum errors under TCP"
info "ok: the Linux peer counted no UDP/IPv6 checksum error ($(linux_csum_errors))"

step "an inner IPv6 packet too big for the tunnel: ICMPv6 Packet Too Big reaches the sender"
ip -n "$(ns w1)" link set eth0 mtu 1500
ip -n "$(ns n1)" link set wl mtu 1500
ping6_w 1 2 -c 1 -s $((1430 - 48)) -M "do" || fail "a 1430-byte IPv6 packet did not get through"
timeout 10 ip netns exec "$(ns w1)" ping -6 -c 1 -W 2 -s $((1431 - 48)) -M "do" "$(cl_ip6 3)" \
	>"$TMPD/ptb.txt" 2>&1 && fail "a 1431-byte IPv6 packet got through an IPv6 tunnel on a 1500-byte underlay"
grep -Eiq 'packet too big.*mtu.?=.?1430' "$TMPD/ptb.txt" ||
	fail "no Packet Too Big (mtu 1430) came back: $(cat "$TMPD/ptb.txt")"
info "ok: $(grep -Ei -m 1 'packet too big' "$TMPD/ptb.txt")"
ip -n "$(ns w1)" -6 route get "$(cl_ip6 3)" >"$TMPD/route.txt"
grep -q 'mtu 1430' "$TMPD/route.txt" || fail "w1 did not learn the path MTU: $(cat "$TMPD/route.txt")"
info "ok: w1's route cache: $(tr -s ' ' <"$TMPD/route.txt" | head -1)"
# IPv4 inside: ICMP "fragmentation needed"; with no IPv4 underlay address n1
# answers from the packet's destination, as Linux's own tunnels do.
timeout 10 ip netns exec "$(ns w1)" ping -c 1 -W 2 -s $((1431 - 28)) -M "do" "$(cl_ip 3)" \
	>"$TMPD/fragneeded.txt" 2>&1 && fail "a 1431-byte IPv4 packet with DF got through"
grep -Eq "From $(cl_ip 3).*Frag needed.*mtu = 1430" "$TMPD/fragneeded.txt" ||
	fail "no fragmentation needed (mtu 1430) came back: $(cat "$TMPD/fragneeded.txt")"
info "ok: $(grep -m 1 'Frag needed' "$TMPD/fragneeded.txt")"
# TCP to the Linux peer's workload with 1500-byte links at both ends (so the
# MSS they agree on does not fit the tunnel): Packet Too Big, then the transfer.
ip -n "$(ns w4)" link set eth0 mtu 1500
ip -n "$(ns n4)" link set wl mtu 1500
ns_bg w4 "$TMPD/iperf-s.log" timeout 20 iperf3 -s -1 -B "$(cl_ip6 4)" -p 5202
wait_listen w4 tcp "$(cl_ip6 4)" 5202 || fail "iperf3 server in w4 did not start"
timeout 20 ip netns exec "$(ns w1)" iperf3 -6 -c "$(cl_ip6 4)" -p 5202 -t 1 -J >"$TMPD/iperf6.json" 2>&1 ||
	fail "iperf3 over IPv6 w1 -> w4 with a 1500-byte link failed: $(tail -c 500 "$TMPD/iperf6.json")"
bg_stop "$BG_PID"
info "ok: TCP over IPv6 w1 (MTU 1500) -> w4 (Linux peer): $(q "$TMPD/iperf6.json" 'round(d["end"]["sum_received"]["bits_per_second"] / 1e6)') Mbit/s after Packet Too Big"
for i in 1 4; do
	ip -n "$(ns "w$i")" link set eth0 mtu 1430
	ip -n "$(ns "n$i")" link set wl mtu 1430
done
stats_json 1 "$TMPD/stats1.json"
[ "$(q "$TMPD/stats1.json" 'iface("wl")["drops"]["mtu"]')" -ge 3 ] ||
	fail "mtu drops not counted on n1 wl: $(q "$TMPD/stats1.json" 'iface("wl")')"

step "VXLAN over IPv6 from an address not in the nodes file is dropped (overlay_unknown_node)"
ip -n "$(ns fabric)" addr add fd99::200/64 dev br0 nodad
# shellcheck disable=SC2016 # the Python program expands its own variables
timeout 10 ip netns exec "$(ns fabric)" "$PYTHON" -c '
import socket
inner = bytes.fromhex("02990000000102c80100000a0800") + bytes.fromhex("4500001c000040004001") + \
        b"\0\0" + bytes([10, 200, 9, 10, 10, 200, 1, 10]) + bytes(8)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("fd99::200", 0))
for _ in range(5):
    s.sendto(bytes.fromhex("0800000000000100") + inner, ("fd99::1", 4789))
' || fail "cannot send VXLAN from the fabric"
sleep 0.5
stats_json 1 "$TMPD/stats1u.json"
[ "$(q "$TMPD/stats1u.json" 'iface("ul")["drops"]["overlay_unknown_node"]')" -ge 5 ] ||
	fail "VXLAN from fd99::200 was not dropped as overlay_unknown_node"

step "the host's own packets (TC egress on ul) leave in VXLAN over IPv6"
run_rc frn 1 attach ul --egress
[ "$RC" -eq 0 ] || fail "attach ul --egress: $(cat "$TMPD/err")"
for j in 2 3 4; do
	ip -n "$(ns n1)" route add "10.200.$j.0/24" via inet6 "$(cl_ul_ip "$j")" dev ul mtu 1430
	ip -n "$(ns n1)" -6 route add "fd00:200:$j::/64" via "$(cl_ul_ip "$j")" dev ul mtu 1430
done
nsx n1 ethtool -K ul tx off >/dev/null 2>&1 || true
ERR0=$(linux_csum_errors)
for j in 2 3 4; do
	TX=$(node_tx 1 "n$j")
	timeout 10 ip netns exec "$(ns n1)" ping -c 3 -i 0.2 -W 2 "$(cl_ip "$j")" >/dev/null ||
		fail "n1 (the host) cannot ping w$j"
	timeout 10 ip netns exec "$(ns n1)" ping -6 -c 3 -i 0.2 -W 2 -s 1000 "$(cl_ip6 "$j")" >/dev/null ||
		fail "n1 (the host) cannot ping -6 w$j"
	[ "$(node_tx 1 "n$j")" -ge $((TX + 6)) ] || fail "n1's pings to w$j did not go through the tunnel"
done
[ "$(linux_csum_errors)" = "$ERR0" ] || fail "the Linux peer counted checksum errors in n1's own packets"
# TCP leaves in GSO batches, whose segments carry a zero UDP checksum (docs/overlay.md): a fringe node takes them.
ns_bg w2 "$TMPD/iperf-s.log" timeout 20 iperf3 -s -1 -B "$(cl_ip 2)" -p 5201
wait_listen w2 tcp "$(cl_ip 2)" 5201 || fail "iperf3 server in w2 did not start"
timeout 20 ip netns exec "$(ns n1)" iperf3 -c "$(cl_ip 2)" -p 5201 -t 1 -J >"$TMPD/iperf.json" 2>&1 ||
	fail "iperf3 n1 -> w2 failed: $(tail -c 500 "$TMPD/iperf.json")"
bg_stop "$BG_PID"
info "ok: n1's own pings (IPv4, IPv6) reach w2 w3 w4 over IPv6; TCP n1 -> w2 $(q "$TMPD/iperf.json" 'round(d["end"]["sum_received"]["bits_per_second"] / 1e6)') Mbit/s"

step "done"
harness_done
