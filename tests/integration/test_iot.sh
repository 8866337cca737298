#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: app/device rules with real IoT clients, policy test against live counts, learn, commit-confirm.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/gateway.sh"
. "$ROOT/scripts/lib/fringe.sh"

require_root
require_cmd ip ping nc ss timeout tcpdump ethtool mosquitto mosquitto_pub mosquitto_sub \
	coap-server-notls coap-client-notls mbpoll "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"
"$PYTHON" -c 'import pymodbus.server' 2>/dev/null || missing_dep "needs python3-pymodbus"

CONFIRM=2		# seconds for the commit-confirm checks

harness_tmpdir

# ---- traffic ------------------------------------------------------------------------

# in NS CMD...: a client in a device namespace, time-bounded, no stdin.
in_ns() { local n=$1; shift; timeout 15 ip netns exec "$(ns "$n")" "$@" </dev/null; }

mqtt_pub() { in_ns "$1" mosquitto_pub -h "$CLOUD_IP" -q 1 -t "iot/$1" -m "$2"; }
coap_get() { in_ns "$1" coap-client-notls -B 2 -m get "coap://$CLOUD_IP/" 2>&1; }
# modbus_read NS: the first holding register, or nothing (mbpoll prints "[1]: 	VALUE").
modbus_read() {
	in_ns "$1" mbpoll -m tcp -a 1 -r 1 -c 1 -t 4 -1 -o 1 "$CLOUD_IP" 2>/dev/null |
		sed -n 's/^\[1\]:[[:space:]]*//p'
}
modbus_write() { in_ns "$1" mbpoll -m tcp -a 1 -r 1 -t 4 -1 -o 1 "$CLOUD_IP" "$2" >/dev/null 2>&1; }
ping_cloud() { in_ns "$1" ping -c "${2:-1}" -i 0.2 -W 1 "$CLOUD_IP" >/dev/null 2>&1; }
# udp_garbage NS PORT: one datagram that is no protocol's header.
udp_garbage() {
	in_ns "$1" "$PYTHON" -c 'import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(b"\x00\x00not-coap", (sys.argv[1], int(sys.argv[2])))' "$CLOUD_IP" "$2"
}
# tcp_garbage NS PORT: a TCP connection whose payload is no protocol's header.
tcp_garbage() {
	printf 'GET / HTTP/1.1\r\n\r\n' |
		timeout 10 ip netns exec "$(ns "$1")" nc -N -w 2 "$CLOUD_IP" "$2" >/dev/null 2>&1 || true
}

# quiet NS: wait until the namespace's TCP connections are closed (TIME-WAIT sends nothing).
quiet() {
	wait_until 15 bash -c '! ip netns exec "$1" ss -Htan | grep -v -e TIME-WAIT -e LISTEN | grep -q .' \
		_ "$(ns "$1")" || fail "$1 still has TCP connections: $(nsx "$1" ss -Htan)"
}

# rule_packets FILE NAME: a rule's packets in a `policy show --json` document ("default" too).
rule_packets() { q "$1" 'd["default"]["packets"] if "'"$2"'" == "default" else rule("'"$2"'")["packets"]'; }
generation() { fr_json "$TMPD/gen.json" policy show --json; q "$TMPD/gen.json" 'd["generation"]'; }
# gen_is N: the policy in force has generation N (for wait_until: evaluated at each try).
gen_is() { [ "$(generation)" = "$1" ]; }

# ---- the site -----------------------------------------------------------------------

step "topology, fringe on the device ports"
gw_topology_up
FR_NS=$GW_NS
gw_topology_check
pin_mount
for i in $GW_DEVICE_IFS; do
	fr_ok attach "$i" --mode native
done
# Connections closed with data unacknowledged (dropped on purpose below) give
# up after a retry, so they do not linger into the next step.
for d in sensor1 sensor2; do
	nsx "$d" sysctl -qw net.ipv4.tcp_orphan_retries=1
done
# This test's traffic is IPv4: IPv6 neighbor discovery between the devices and
# the gateway would add packets that no client sent (the BPF tests cover IPv6).
for d in sensor1 sensor2 scanner; do
	nsx "$d" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
		"net.ipv6.conf.$DEV_IF.disable_ipv6=1"
done

step "servers in the cloud: mosquitto, coap-server, a pymodbus server, a plain TCP listener"
cat >"$TMPD/mosquitto.conf" <<EOF
listener 1883 $CLOUD_IP
allow_anonymous true
persistence false
EOF
ns_bg cloud "$TMPD/broker.log" timeout 280 mosquitto -c "$TMPD/mosquitto.conf"
ns_bg cloud "$TMPD/coap.log" timeout 280 coap-server-notls -A "$CLOUD_IP" -p 5683
cat >"$TMPD/mbserver.py" <<'EOF'
# A Modbus/TCP server: 100 holding registers, all 17.
import sys
from pymodbus.server import StartTcpServer
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusSlaveContext, ModbusServerContext
block = lambda: ModbusSequentialDataBlock(0, [17] * 100)
store = ModbusSlaveContext(di=block(), co=block(), hr=block(), ir=block())
StartTcpServer(context=ModbusServerContext(slaves=store, single=True), address=(sys.argv[1], 502))
EOF
ns_bg cloud "$TMPD/modbus.log" timeout 280 "$PYTHON" "$TMPD/mbserver.py" "$CLOUD_IP"
ns_bg cloud "$TMPD/web.log" timeout 280 nc -lk "$CLOUD_IP" 8080
wait_listen cloud tcp "$CLOUD_IP" 1883 10 || fail "mosquitto did not start: $(cat "$TMPD/broker.log")"
wait_listen cloud udp "$CLOUD_IP" 5683 10 || fail "coap-server did not start: $(cat "$TMPD/coap.log")"
wait_listen cloud tcp "$CLOUD_IP" 502 15 || fail "the Modbus server did not start: $(cat "$TMPD/modbus.log")"
wait_listen cloud tcp "$CLOUD_IP" 8080 10 || fail "the TCP listener did not start"
ns_bg cloud "$TMPD/sub.log" timeout 280 mosquitto_sub -h "$CLOUD_IP" -t 'iot/#' -v
sleep 0.5

# ---- app, modbus-fc, mqtt-type, devices with real clients -------------------------------

POL=$TMPD/iot.policy
cat >"$POL" <<EOF
device sensor1 mac $SENSOR1_MAC ip $SENSOR1_IP class sensor
device sensor2 mac $SENSOR2_MAC ip $SENSOR2_IP class sensor
rule no-subscribe class sensor dst $CLOUD_IP mqtt-type subscribe drop
rule mqtt class sensor dst $CLOUD_IP proto tcp dport 1883 app mqtt allow
rule coap class sensor dst $CLOUD_IP proto udp dport 5683 app coap allow
rule modbus-read class sensor dst $CLOUD_IP modbus-fc 1-4 allow
rule modbus-write class sensor dst $CLOUD_IP modbus-fc 5,6,15,16 drop
rule modbus class sensor dst $CLOUD_IP proto tcp dport 502 app modbus allow
rule not-mqtt proto tcp dport 1883 drop
rule not-coap proto udp dport 5683 drop
rule icmp proto icmp allow
default drop
EOF
step "policy with app, modbus-fc, mqtt-type, device and class rules"
fr_ok policy check "$POL"
fr_ok policy load "$POL"
GEN_IOT=$(generation)

step "capture sensor1's traffic (tcpdump, offloads off: frames as on the wire)"
nsx sensor1 ethtool -K "$DEV_IF" tso off gso off gro off >/dev/null 2>&1 || true
ns_bg sensor1 "$TMPD/tcpdump.log" timeout 120 tcpdump -i "$DEV_IF" -Q out -U --immediate-mode -s 0 -n -w "$TMPD/sensor1.pcap"
TCPDUMP_PID=$BG_PID
wait_until 10 grep -q 'listening on' "$TMPD/tcpdump.log" || fail "tcpdump did not start: $(cat "$TMPD/tcpdump.log")"
sleep 0.5
fr_json "$TMPD/live0.json" policy show --json

step "MQTT: sensor1 publishes through the gateway (app mqtt)"
mqtt_pub sensor1 reading-1 || fail "mosquitto_pub from sensor1 failed under app mqtt"
mqtt_pub sensor1 reading-2 || fail "second mosquitto_pub from sensor1 failed"
wait_until 5 grep -q 'iot/sensor1 reading-2' "$TMPD/sub.log" || fail "the subscriber did not get sensor1's readings"
info "ok: the cloud's subscriber got: $(grep -c iot/sensor1 "$TMPD/sub.log") readings"

step "MQTT: a SUBSCRIBE from sensor1 is dropped (mqtt-type subscribe)"
if in_ns sensor1 mosquitto_sub -h "$CLOUD_IP" -t 'iot/#' -C 1 -W 3 >"$TMPD/sub1.out" 2>&1; then
	fail "mosquitto_sub from sensor1 got a message: its SUBSCRIBE was not dropped"
fi
info "ok: mosquitto_sub from sensor1 got nothing"

step "MQTT port, not MQTT: the handshake is a candidate, the payload is dropped"
tcp_garbage sensor1 1883

step "CoAP: coap-client GET through the gateway (app coap); a non-CoAP datagram is dropped"
coap_get sensor1 >"$TMPD/coap1.out" || true
grep -q libcoap "$TMPD/coap1.out" || fail "coap-client from sensor1 got no answer: $(cat "$TMPD/coap1.out")"
udp_garbage sensor1 5683

step "Modbus: mbpoll reads (fc 3) and is allowed; its write (fc 6) is dropped"
V=$(modbus_read sensor1)
[ "$V" = 17 ] || fail "mbpoll read from sensor1 returned '$V', want 17"
if modbus_write sensor1 99; then fail "mbpoll write from sensor1 succeeded: modbus-fc 6 was not dropped"; fi
V=$(modbus_read sensor1)
[ "$V" = 17 ] || fail "after the dropped write the register is '$V', want 17"
info "ok: read 17, the write of 99 never arrived"

step "ICMP"
ping_cloud sensor1 2 || fail "ping from sensor1 failed"
quiet sensor1
sleep 1
bg_stop "$TCPDUMP_PID"
fr_json "$TMPD/live1.json" policy show --json

step "counters: every rule saw its traffic"
for r in mqtt no-subscribe not-mqtt coap not-coap modbus-read modbus-write modbus icmp; do
	n=$(( $(rule_packets "$TMPD/live1.json" "$r") - $(rule_packets "$TMPD/live0.json" "$r") ))
	[ "$n" -gt 0 ] || fail "rule $r counted no packets"
	info "$r: $n packets"
done

step "stats and metrics: applications and devices"
fr_json "$TMPD/stats.json" stats --json
for a in mqtt coap modbus; do
	[ "$(q "$TMPD/stats.json" 'd["apps"]["'"$a"'"]["packets"]')" -gt 0 ] || fail "stats: app $a counted nothing"
done
[ "$(q "$TMPD/stats.json" 'len(d["apps"])')" -ge 10 ] || fail "stats: not every app is listed"
[ "$(q "$TMPD/stats.json" 'next(x["packets"] for x in d["devices"] if x["name"] == "sensor1")')" -gt 0 ] ||
	fail "stats: device sensor1 counted nothing"
[ "$(q "$TMPD/stats.json" 'sorted(x["name"] for x in d["devices"])')" = "['sensor1', 'sensor2']" ] ||
	fail "stats: devices are not the declared ones"
fr_ok metrics
cp "$TMPD/out" "$TMPD/metrics.txt"
for a in mqtt mqtts coap coaps modbus bacnet opcua dnp3 dns ntp; do
	grep -q "^fringe_app_packets_total{app=\"$a\"} " "$TMPD/metrics.txt" || fail "metrics: no series for app $a"
done
grep -qE '^fringe_app_packets_total\{app="mqtt"\} [1-9]' "$TMPD/metrics.txt" || fail "metrics: mqtt counted nothing"
grep -qE '^fringe_device_packets_total\{device="sensor1"\} [1-9]' "$TMPD/metrics.txt" ||
	fail "metrics: no packets for device sensor1"
if command -v promtool >/dev/null; then
	promtool check metrics <"$TMPD/metrics.txt" >"$TMPD/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$TMPD/promtool.out")"
fi

# ---- policy test: the capture replayed gives the live per-rule counts ----------------------

step "policy test on the tcpdump capture: the same per-rule counts as live"
fr_json "$TMPD/replay.json" policy test "$POL" --pcap "$TMPD/sensor1.pcap" --json
"$PYTHON" - "$TMPD/live0.json" "$TMPD/live1.json" "$TMPD/replay.json" <<'EOF' || fail "replayed counts differ from live ones"
import json, sys
a, b, r = (json.load(open(f)) for f in sys.argv[1:])
live = {x["name"]: y["packets"] - x["packets"] for x, y in zip(a["rules"], b["rules"])}
live["default"] = b["default"]["packets"] - a["default"]["packets"]
rep = {x["name"]: x["packets"] for x in r["rules"]}
rep["default"] = r["default"]["packets"]
bad = [k for k in live if live[k] != rep.get(k)]
for k in sorted(live):
    print(f"  {k:14} live {live[k]:5}  replay {rep.get(k)}")
print(f"  replayed {r['packets']} packets, skipped {r['skipped']}")
sys.exit(1 if bad or sum(live.values()) == 0 else 0)
EOF
fr_ok policy test "$POL" --pcap "$TMPD/sensor1.pcap" --verbose
grep -q 'modbus-write' "$TMPD/out" && grep -q 'drop/policy' "$TMPD/out" ||
	fail "policy test --verbose shows no dropped modbus write: $(head -c 1500 "$TMPD/out")"
[ "$(generation)" = "$GEN_IOT" ] || fail "policy test changed the live policy"
# A capture of another link type is refused, and a missing one.
"$PYTHON" - "$TMPD/sll.pcap" <<'EOF'
import struct, sys
# pcap header with link type 113 (Linux cooked capture, as tcpdump -i any writes).
open(sys.argv[1], "wb").write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 113))
EOF
expect_fail 1 "policy test of a cooked capture" policy test "$POL" --pcap "$TMPD/sll.pcap"
grep -q 'not Ethernet' "$TMPD/err" || fail "cooked capture: no clear message: $(cat "$TMPD/err")"
expect_fail 1 "policy test of a missing capture" policy test "$POL" --pcap "$TMPD/nosuch.pcap"
expect_fail 2 "policy test without --pcap" policy test "$POL"

step "spoofing: sensor2 pings with sensor1's address; counted against sensor1, in stats and metrics"
quiet sensor2
fr_json "$TMPD/spoof0.json" stats --json
nsx sensor2 ip addr add "$SENSOR1_IP/32" dev "$DEV_IF"
in_ns sensor2 ping -c 3 -i 0.2 -W 1 -I "$SENSOR1_IP" "$CLOUD_IP" >/dev/null 2>&1 || true	# the replies go to sensor1
nsx sensor2 ip addr del "$SENSOR1_IP/32" dev "$DEV_IF"
fr_json "$TMPD/spoof1.json" stats --json
"$PYTHON" - "$TMPD/spoof0.json" "$TMPD/spoof1.json" "$GW_IF_SENSOR2" <<'EOF' || fail "the spoofed pings were not counted as they should"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
dev = lambda d, n: next(x for x in d["devices"] if x["name"] == n)
iface = lambda d, n: next(x for x in d["interfaces"] if x["name"] == n)
got = {n: dev(b, n)["spoofed"] - dev(a, n)["spoofed"] for n in ("sensor1", "sensor2")}
got["sensor2 packets"] = dev(b, "sensor2")["packets"] - dev(a, "sensor2")["packets"]
got["interface"] = iface(b, sys.argv[3])["spoofed"] - iface(a, sys.argv[3])["spoofed"]
print("  " + ", ".join("%s +%d" % kv for kv in got.items()))
# Three echo requests claimed sensor1's address from sensor2's MAC: sensor1's
# spoof count, not sensor2's packets (spoofed packets count for no device).
sys.exit(0 if got == {"sensor1": 3, "sensor2": 0, "sensor2 packets": 0, "interface": 3} else 1)
EOF
fr_ok metrics
grep -qx 'fringe_device_spoofed_packets_total{device="sensor1"} '"$(q "$TMPD/spoof1.json" 'next(x["spoofed"] for x in d["devices"] if x["name"] == "sensor1")')" "$TMPD/out" &&
	grep -qx 'fringe_device_spoofed_packets_total{device="sensor2"} 0' "$TMPD/out" ||
	fail "metrics: $(grep fringe_device_spoofed "$TMPD/out")"

# ---- learn -----------------------------------------------------------------------------

step "learn over demo-like traffic (no policy judging: everything passes)"
printf 'default allow\n' >"$TMPD/open.policy"
fr_ok policy load "$TMPD/open.policy"
quiet sensor1
quiet sensor2
LEARNED=$TMPD/learned.policy
ns_bg - "$TMPD/learn.log" ip netns exec "$GW_NS" timeout 60 "$FRINGE" --pin-dir "$PIN" \
	learn --duration 8 --output "$LEARNED"
LEARN_PID=$BG_PID
sleep 1
demo_traffic() {
	mqtt_pub sensor1 "learn-$1" || return 1
	[ "$(modbus_read sensor1)" = 17 ] || return 1
	grep -q libcoap <(coap_get sensor2) || return 1
	ping_cloud sensor2 2 || return 1
}
demo_traffic 1 || fail "demo traffic failed while learning"
wait "$LEARN_PID" || fail "fringe learn failed: $(cat "$TMPD/learn.log")"
info "$(tail -n 1 "$TMPD/learn.log")"
sed 's/^/    | /' "$LEARNED"
fr_ok policy check "$LEARNED"
grep -q '^default drop' "$LEARNED" || fail "learned policy does not end with default drop"
grep -qE '^# [0-9]+ packets?, [0-9]+ bytes .*first seen .*last seen' "$LEARNED" ||
	fail "learned rules carry no comment of what was seen"
for want in "device dev-${SENSOR1_MAC//:/-} .*dport 1883 app mqtt allow" \
	"device dev-${SENSOR1_MAC//:/-} .*dport 502 app modbus allow" \
	"device dev-${SENSOR2_MAC//:/-} .*dport 5683 app coap allow" \
	"device dev-${SENSOR2_MAC//:/-} dst $CLOUD_IP proto icmp allow"; do
	grep -qE "^rule .*$want" "$LEARNED" || fail "learned policy has no rule matching '$want'"
done
[ "$(grep -c '^rule ' "$LEARNED")" -eq 4 ] || fail "learned policy has $(grep -c '^rule ' "$LEARNED") rules, want 4"
fr_ok flows --json
[ "$(q "$TMPD/out" 'd["enabled"]')" = False ] || fail "learn left the flow table on"

step "the learned policy lets the same traffic through and drops what was not seen"
fr_ok policy load "$LEARNED"
fr_json "$TMPD/learn0.json" policy show --json
demo_traffic 2 || fail "the learned policy blocks traffic that was seen while learning"
if in_ns sensor1 nc -z -w 2 "$CLOUD_IP" 8080; then fail "an unseen flow (sensor1 -> tcp 8080) got through"; fi
if ping_cloud scanner; then fail "an unseen device (the scanner) got through"; fi
if timeout 3 ip netns exec "$SENSOR2_NS" mosquitto_pub -h "$CLOUD_IP" -t iot/x -m unseen </dev/null; then
	fail "an unseen service of a known device (sensor2 MQTT) got through"
fi
fr_json "$TMPD/learn1.json" policy show --json
[ "$(rule_packets "$TMPD/learn1.json" default)" -gt "$(rule_packets "$TMPD/learn0.json" default)" ] ||
	fail "default drop counted none of the unseen flows"
info "ok: seen traffic passes; sensor1 -> 8080, the scanner and sensor2's MQTT are dropped"

# ---- commit-confirm --------------------------------------------------------------------

NOPING=$TMPD/noping.policy
grep -v '^rule icmp ' "$POL" >"$NOPING"
fr_ok policy load "$POL"
GEN_BASE=$(generation)

step "commit-confirm: a load without confirmation reverts within $CONFIRM s + 1 s"
ping_cloud sensor1 || fail "ping fails under the base policy"
t0=$(date +%s%N)
fr_ok policy load "$NOPING" --confirm "$CONFIRM"
grep -q 'policy confirm' "$TMPD/out" || fail "load --confirm does not say what to do: $(cat "$TMPD/out")"
GEN_NEW=$(generation)
[ "$GEN_NEW" -gt "$GEN_BASE" ] || fail "load --confirm did not put the new policy in force"
if ping_cloud sensor1; then fail "ping passed under the unconfirmed policy (it has no icmp rule)"; fi
expect_fail 1 "a second load while a confirmation is pending" policy load "$POL"
grep -q 'awaits confirmation' "$TMPD/err" || fail "second load: no clear message: $(cat "$TMPD/err")"
fr_json "$TMPD/pending.json" policy show --json
[ "$(q "$TMPD/pending.json" 'd["awaiting_confirmation"]["reverts_to"]')" = "$GEN_BASE" ] ||
	fail "policy show does not say what is pending"
wait_until $((CONFIRM + 3)) gen_is "$GEN_BASE" || fail "no revert to generation $GEN_BASE"
dt=$((($(date +%s%N) - t0) / 1000000))
info "reverted to generation $GEN_BASE after ${dt} ms"
[ "$dt" -le $(((CONFIRM + 1) * 1000)) ] || fail "the revert took $dt ms, more than $((CONFIRM + 1)) s"
ping_cloud sensor1 || fail "ping still fails after the revert"
expect_fail 1 "confirm with nothing pending" policy confirm

step "commit-confirm: a confirmed load stays"
fr_ok policy load "$NOPING" --confirm "$CONFIRM"
GEN_NEW=$(generation)
fr_ok policy confirm
grep -q "confirmed policy generation $GEN_NEW" "$TMPD/out" || fail "confirm does not say what it confirmed"
sleep $((CONFIRM + 1)).5
[ "$(generation)" = "$GEN_NEW" ] || fail "the confirmed policy was reverted"
if ping_cloud sensor1; then fail "ping passed: the confirmed policy is not in force"; fi
fr_ok policy load "$POL"
GEN_BASE=$(generation)

step "commit-confirm: killing the loading shell does not prevent the revert"
t0=$(date +%s%N)
# A session of its own, like an operator's ssh login: the loader, then a shell that lingers.
setsid bash -c 'ip netns exec "$1" "$2" --pin-dir "$3" policy load "$4" --confirm "$5" >"$6" 2>&1; exec sleep 60' \
	_ "$GW_NS" "$FRINGE" "$PIN" "$NOPING" "$CONFIRM" "$TMPD/killed.out" </dev/null >/dev/null 2>&1 &
LOADER=$!
_H_PIDS+=("$LOADER")
wait_until 10 grep -q '^loaded' "$TMPD/killed.out" || fail "the loader did not load: $(cat "$TMPD/killed.out")"
kill -KILL -- "-$LOADER" 2>/dev/null || kill -KILL "$LOADER"
wait "$LOADER" 2>/dev/null || true
[ "$(generation)" -gt "$GEN_BASE" ] || fail "the killed loader's policy is not in force"
wait_until $((CONFIRM + 3)) gen_is "$GEN_BASE" || fail "no revert after the loader was killed"
dt=$((($(date +%s%N) - t0) / 1000000))
info "reverted after ${dt} ms, the loading session killed"
[ "$dt" -le $(((CONFIRM + 1) * 1000)) ] || fail "the revert took $dt ms, more than $((CONFIRM + 1)) s"
ping_cloud sensor1 || fail "ping fails after the revert"

step "done"
harness_done
