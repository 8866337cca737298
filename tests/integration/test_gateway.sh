#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: fringe on the IoT-gateway topology judges live traffic; the CLI rejects bad input with the exit codes of docs/fringe.8.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/gateway.sh"
. "$ROOT/scripts/lib/fringe.sh"

require_root
require_cmd ip ping nc ss timeout "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

FLOOD_PACKETS=2000
FLOOD_RATE=50		# limit N/s in the policy below; burst defaults to N

# tcp_send NS ADDR PORT TEXT: connect, send a line, close. Fails when no connection.
tcp_send() {
	printf '%s\n' "$4" | timeout 10 ip netns exec "$(ns "$1")" nc -N -w 3 "$2" "$3" >/dev/null 2>&1
}

# has_xdp IFACE: a native XDP program sits on gw's IFACE.
has_xdp() { [[ $(ip -n "$GW_NS" link show dev "$1") == *prog/xdp* ]]; }

harness_tmpdir
POL=$TMPD/gateway.policy
BAD=$TMPD/broken.policy

# The test policy. Sensors may speak MQTT to the broker; everyone may ping;
# telnet is dropped by name; a UDP port is rate-limited; all else is dropped.
cat >"$POL" <<EOF
# test_gateway policy
set sensors { $SENSOR1_NET, $SENSOR2_NET }
set brokers { $CLOUD_IP }

rule no-telnet proto tcp dport 23 drop
rule mqtt src @sensors dst @brokers proto tcp dport 1883 allow
rule icmp proto icmp allow
rule udp-flood proto udp dport 9999 allow limit $FLOOD_RATE/s
default drop
EOF

# Three errors, one in a continued statement; columns are 1-based bytes.
cat >"$BAD" <<'EOF'
# broken on purpose
set sensors { 10.77.1.0/24 }
rule no-telnet proto tcpx dport 23 drop
rule mqtt src @sensors proto tcp dport 1883 allow
default maybe
rule big proto tcp \
    dport 99999 drop
EOF

step "topology"
gw_topology_up
FR_NS=$GW_NS
gw_topology_check
pin_mount
info "gw=$GW_NS pin=$PIN"

step "listeners in cloud (telnet 23, mqtt 1883)"
ns_bg cloud "$TMPD/telnet.log" timeout 280 nc -lk "$CLOUD_IP" 23
ns_bg cloud "$TMPD/mqtt.log" timeout 280 nc -lk "$CLOUD_IP" 1883
wait_listen cloud tcp "$CLOUD_IP" 23 || fail "telnet listener did not start"
wait_listen cloud tcp "$CLOUD_IP" 1883 || fail "mqtt listener did not start"

step "baseline without fringe: telnet gets through"
tcp_send sensor1 "$CLOUD_IP" 23 baseline || fail "baseline: sensor1 cannot reach cloud:23"
wait_until 5 grep -q baseline "$TMPD/telnet.log" || fail "baseline: telnet listener got nothing"

step "attach to $GW_DEVICE_IFS (native)"
for i in $GW_DEVICE_IFS; do
	fr_ok attach "$i" --mode native
	has_xdp "$i" || fail "attach $i: no native XDP program on the interface"
done

step "policy check and load"
fr_ok policy check "$POL"
fr_ok policy load "$POL"
fr_json "$TMPD/show0.json" policy show --json
GEN0=$(q "$TMPD/show0.json" 'd["generation"]')
[ "$(q "$TMPD/show0.json" 'sorted(r["name"] for r in d["rules"])')" = \
	"['icmp', 'mqtt', 'no-telnet', 'udp-flood']" ] || fail "policy show: unexpected rules"
[ "$(q "$TMPD/show0.json" 'd["default"]["verdict"]')" = drop ] || fail "policy show: default is not drop"
info "generation $GEN0"
fr_json "$TMPD/stats0.json" stats --json

step "ping sensor1 -> cloud is allowed"
timeout 15 ip netns exec "$SENSOR1_NS" ping -c 3 -i 0.2 -W 2 "$CLOUD_IP" >/dev/null ||
	fail "ping sensor1 -> cloud failed under policy"

step "MQTT (tcp 1883) sensor1 -> cloud is allowed"
tcp_send sensor1 "$CLOUD_IP" 1883 hello-from-sensor1 || fail "sensor1 cannot connect to cloud:1883"
wait_until 5 grep -q hello-from-sensor1 "$TMPD/mqtt.log" || fail "mqtt listener got nothing"

step "telnet (tcp 23) is dropped by rule no-telnet"
! tcp_send sensor1 "$CLOUD_IP" 23 should-not-arrive || fail "telnet sensor1 -> cloud:23 connected"
! tcp_send scanner "$CLOUD_IP" 23 should-not-arrive || fail "telnet scanner -> cloud:23 connected"
if grep -q should-not-arrive "$TMPD/telnet.log"; then fail "telnet payload reached the listener"; fi

step "MQTT from scanner (not a sensor) falls to default drop"
! tcp_send scanner "$CLOUD_IP" 1883 scanner-mqtt || fail "scanner -> cloud:1883 connected"

fr_json "$TMPD/show1.json" policy show --json
fr_json "$TMPD/stats1.json" stats --json
TELNET1=$(q "$TMPD/show1.json" 'rule("no-telnet")["packets"]')
[ "$TELNET1" -gt 0 ] || fail "no-telnet counted no packets"
P0=$(q "$TMPD/stats0.json" 'total_drops("policy")')
P1=$(q "$TMPD/stats1.json" 'total_drops("policy")')
[ "$P1" -gt "$P0" ] || fail "policy drops did not increase ($P0 -> $P1)"
DEF1=$(q "$TMPD/show1.json" 'd["default"]["packets"]')
[ "$DEF1" -gt 0 ] || fail "default drop counted no packets"
[ "$(q "$TMPD/show1.json" 'rule("mqtt")["packets"]')" -gt 0 ] || fail "rule mqtt counted no packets"
[ "$(q "$TMPD/show1.json" 'rule("icmp")["packets"]')" -ge 3 ] || fail "rule icmp counted < 3 packets"
info "no-telnet packets $TELNET1, policy drops $P0 -> $P1, default $DEF1"

step "UDP flood: $FLOOD_PACKETS packets against limit $FLOOD_RATE/s"
ns_bg cloud "$TMPD/flood.out" timeout 60 nc -u -l "$CLOUD_IP" 9999
FLOOD_PID=$BG_PID
wait_listen cloud udp "$CLOUD_IP" 9999 || fail "udp listener did not start"
# One connected socket, one datagram per write; prints elapsed ns and send errors.
# shellcheck disable=SC2016 # the inner script expands its own arguments
SENT=$(timeout 30 ip netns exec "$SENSOR2_NS" bash -c '
	exec 3>/dev/udp/$1/9999; e=0; t0=$(date +%s%N)
	for ((i = 0; i < $2; i++)); do printf . >&3 2>/dev/null || e=$((e + 1)); done
	echo $(($(date +%s%N) - t0)) $e' _ "$CLOUD_IP" "$FLOOD_PACKETS") || fail "flood sender failed"
sleep 0.5
bg_stop "$FLOOD_PID"
read -r FLOOD_NS FLOOD_ERR <<<"$SENT"
GOT=$(wc -c <"$TMPD/flood.out")
fr_json "$TMPD/stats2.json" stats --json
fr_json "$TMPD/show2.json" policy show --json
RL=$(q "$TMPD/stats2.json" 'total_drops("rate_limit")')
# Tokens: a full bucket (burst = one second's worth) plus the refill while sending.
MAX=$(((FLOOD_RATE * FLOOD_NS + 999999999) / 1000000000 + FLOOD_RATE + 2))
MIN=$((FLOOD_RATE * 8 / 10))
info "sent in $((FLOOD_NS / 1000000)) ms ($FLOOD_ERR send errors); received $GOT; rate_limit drops $RL; plausible $MIN..$MAX"
[ "$RL" -gt 0 ] || fail "no rate_limit drops"
[ "$GOT" -le "$MAX" ] || fail "$GOT flood packets passed, more than $MAX"
[ "$GOT" -ge "$MIN" ] || fail "only $GOT flood packets passed, fewer than $MIN"
[ "$(q "$TMPD/show2.json" 'rule("udp-flood")["packets"]')" -ge "$GOT" ] ||
	fail "rule udp-flood counted fewer packets than passed"

step "non-IP frames pass and are counted"
NONIP0=$(q "$TMPD/stats2.json" 'sum(i.get("non_ip", 0) for i in d["interfaces"])')
# Five frames of the local experimental EtherType 0x88b5, plus whatever ARP a flush causes.
ip netns exec "$SENSOR1_NS" "$PYTHON" - "$DEV_IF" "$SENSOR1_MAC" <<'EOF' || fail "cannot send raw frames"
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
frame = b"\xff" * 6 + bytes.fromhex(sys.argv[2].replace(":", "")) + b"\x88\xb5"
frame += b"fringe-test".ljust(46, b"\0")
for _ in range(5):
    s.send(frame)
EOF
ip -n "$SENSOR1_NS" neigh flush dev "$DEV_IF"
timeout 10 ip netns exec "$SENSOR1_NS" ping -c 1 -W 2 "$CLOUD_IP" >/dev/null || fail "ping after neigh flush failed"
fr_json "$TMPD/stats3.json" stats --json
[ "$(q "$TMPD/stats3.json" '"non_ip" in iface("'"$GW_IF_SENSOR1"'")')" = True ] ||
	fail "stats --json has no non_ip counter for $GW_IF_SENSOR1"
NONIP1=$(q "$TMPD/stats3.json" 'sum(i.get("non_ip", 0) for i in d["interfaces"])')
[ "$NONIP1" -ge $((NONIP0 + 6)) ] || fail "non_ip went $NONIP0 -> $NONIP1, want at least +6 (5 frames + ARP)"
info "non_ip $NONIP0 -> $NONIP1"

step "CLI: bad input (the exit codes of docs/fringe.8)"
expect_fail 2 "no command"
expect_fail 2 "unknown command" frobnicate
expect_fail 2 "attach without an interface" attach
expect_fail 1 "attach to a missing interface" attach nosuch0 --mode native
grep -q nosuch0 "$TMPD/err" || fail "attach error does not name the interface"
expect_fail 1 "attach twice" attach "$GW_IF_SENSOR1" --mode native
grep -qi 'already' "$TMPD/err" || fail "second attach does not say it is already attached"
expect_fail 1 "detach with nothing attached" detach "$GW_IF_UPLINK"
expect_fail 1 "detach a missing interface" detach nosuch0

for cmd in check load; do
	run_rc fr policy "$cmd" "$BAD"
	[ "$RC" -eq 1 ] || fail "policy $cmd of a broken file exited $RC, want 1"
	for want in "$BAD:3:22: error: " "$BAD:5:9: error: " "$BAD:7:11: error: "; do
		grep -qF "$want" "$TMPD/err" || fail "policy $cmd: no '$want...' in: $(cat "$TMPD/err")"
	done
	info "ok: policy $cmd of a broken file (exit 1, 3 errors)"
done
fr_json "$TMPD/show3.json" policy show --json
[ "$(q "$TMPD/show3.json" 'd["generation"]')" = "$GEN0" ] || fail "failed load changed the generation"
[ "$(q "$TMPD/show3.json" 'rule("no-telnet")["packets"]')" -ge "$TELNET1" ] ||
	fail "failed load reset the counters"

FILE_PIN=$TMPD/not-a-dir
: >"$FILE_PIN"
for bad in /proc/self "$FILE_PIN"; do
	run_rc ip netns exec "$GW_NS" timeout 30 "$FRINGE" --pin-dir "$bad" policy load "$POL"
	[ "$RC" -eq 1 ] || fail "--pin-dir $bad: exited $RC, want 1"
	grep -q '^fringe: ' "$TMPD/err" || fail "--pin-dir $bad: no 'fringe: ' line on stderr"
	info "ok: --pin-dir $bad (exit 1: $(head -n 1 "$TMPD/err"))"
done
fr_json "$TMPD/show4.json" policy show --json
[ "$(q "$TMPD/show4.json" 'd["generation"]')" = "$GEN0" ] || fail "a bad --pin-dir changed the live policy"

step "reload keeps counters of surviving rules"
fr_ok policy load "$POL"
fr_json "$TMPD/show5.json" policy show --json
[ "$(q "$TMPD/show5.json" 'd["generation"]')" -gt "$GEN0" ] || fail "reload did not raise the generation"
! tcp_send sensor1 "$CLOUD_IP" 23 after-reload || fail "telnet connected after reload"
fr_json "$TMPD/show6.json" policy show --json
[ "$(q "$TMPD/show6.json" 'rule("no-telnet")["packets"]')" -gt "$TELNET1" ] ||
	fail "no-telnet counter did not keep counting across the reload"

step "detach restores plain forwarding"
for i in $GW_DEVICE_IFS; do
	fr_ok detach "$i"
	if has_xdp "$i"; then fail "detach $i left an XDP program"; fi
done
tcp_send sensor1 "$CLOUD_IP" 23 after-detach || fail "telnet still blocked after detach"

step "done"
harness_done
