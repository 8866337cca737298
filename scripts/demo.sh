#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The IoT-gateway demo (make demo): a real MQTT broker, sensors, a scanner and a flood, judged by fringe.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/gateway.sh"
FRINGE=${FRINGE:-$ROOT/build/fringe}
POLICY=${POLICY:-$ROOT/examples/iot-gateway.policy}
FLOOD_PACKETS=3000

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it builds network namespaces)" >&2; exit 1; }
[ -x "$FRINGE" ] || { echo "demo: $FRINGE is missing: run make" >&2; exit 1; }
for c in mosquitto mosquitto_pub mosquitto_sub nc ip ping tcpdump; do
	command -v "$c" >/dev/null || { echo "demo: $c is missing: run scripts/deps.sh" >&2; exit 1; }
done

SURPRISES=0
surprise() { echo "  !! unexpected: $*"; SURPRISES=$((SURPRISES + 1)); }
# Interactive steps run in the foreground so Ctrl-C reaches them at once.
tmo() { timeout --foreground -k 2 "$@"; }
fr() { tmo 30 ip netns exec "$GW_NS" "$FRINGE" --pin-dir "$PIN" "$@"; }
indent() { sed 's/^/    /'; }
# Ctrl-C: say so, then the harness removes everything. The trap may run
# inside a redirected command, so it writes to a saved copy of stdout.
exec 9>&1
trap 'printf "\ndemo: interrupted, tearing down\n" >&9; harness_cleanup; exit 130' INT

step "1. The site: three devices and a cloud broker behind a gateway"
harness_tmpdir
gw_topology_up
gw_topology_check
pin_mount
cat <<EOF
    sensor1  $SENSOR1_IP  ($SENSOR1_MAC)  --  $GW_IF_SENSOR1  \\
    sensor2  $SENSOR2_IP  ($SENSOR2_MAC)  --  $GW_IF_SENSOR2   gw  --  $GW_IF_UPLINK  --  cloud $CLOUD_IP (MQTT broker)
    scanner  $SCANNER_IP  ($SCANNER_MAC)  --  $GW_IF_SCANNER /
    (each box is a network namespace; fringe pins its state in $PIN)
EOF

step "2. A mosquitto broker and a subscriber in the cloud"
cat >"$TMPD/mosquitto.conf" <<EOF
listener 1883 $CLOUD_IP
allow_anonymous true
persistence false
EOF
ns_bg cloud "$TMPD/broker.log" timeout 900 mosquitto -c "$TMPD/mosquitto.conf"
wait_listen cloud tcp "$CLOUD_IP" 1883 10 || { cat "$TMPD/broker.log"; fail "the broker did not start"; }
ns_bg cloud "$TMPD/sub.log" timeout 900 mosquitto_sub -h "$CLOUD_IP" -t 'sensors/#' -v
sleep 0.5
echo "    broker listening on $CLOUD_IP:1883, subscribed to sensors/#"

step "3. fringe on the gateway's device ports, policy $(basename "$POLICY")"
for i in $GW_DEVICE_IFS; do
	fr attach "$i" --mode native
	echo "    attached to $i"
done
fr policy check "$POLICY" | indent
fr policy load "$POLICY" | indent
echo "    policy loaded: sensors may publish MQTT; remote admin, unknown devices and floods are not welcome"

# sensor1's side of the wire, for `policy test` at the end.
ip netns exec "$SENSOR1_NS" ethtool -K "$DEV_IF" tso off gso off >/dev/null 2>&1 || true
ns_bg sensor1 "$TMPD/tcpdump.log" timeout 900 tcpdump -i "$DEV_IF" -Q out -U --immediate-mode -n -w "$TMPD/sensor1.pcap"
capture_pid=$BG_PID
wait_until 5 grep -q 'listening on' "$TMPD/tcpdump.log" || surprise "tcpdump did not start"

step "4. Sensors publish readings over MQTT (allowed by sensor-mqtt: app mqtt, from devices of class sensor)"
n0=$(wc -l <"$TMPD/sub.log")
for r in "sensor1 temperature 21.5" "sensor1 temperature 21.7" "sensor2 humidity 48"; do
	read -r dev what val <<<"$r"
	if tmo 10 ip netns exec "$(ns "$dev")" mosquitto_pub -h "$CLOUD_IP" -q 1 -t "sensors/$dev/$what" -m "$val"; then
		echo "    $dev published $what=$val"
	else
		surprise "$dev could not publish"
	fi
done
if tmo 10 ip netns exec "$SENSOR1_NS" ping -c 2 -i 0.3 -W 1 "$CLOUD_IP" >/dev/null; then
	echo "    sensor1 pinged the broker (sensor-ping)"
else
	surprise "sensor1 could not ping the broker"
fi
wait_until 5 test "$(wc -l <"$TMPD/sub.log")" -ge $((n0 + 3)) || surprise "the subscriber did not get all readings"
echo "    the subscriber in the cloud received:"
tail -n +$((n0 + 1)) "$TMPD/sub.log" | sed 's/^/      /'

step "5. The scanner probes the broker (21-23: no-remote-admin; the rest: default drop, it is no known device)"
# Dropped SYNs get no answer at all: every probe times out.
for p in 21 22 23 80 443 1883 8080; do
	if tmo 5 ip netns exec "$SCANNER_NS" nc -z -w 1 "$CLOUD_IP" "$p" 2>/dev/null; then
		surprise "port $p answered the scanner"
	else
		echo "    scanner -> $CLOUD_IP:$p  no answer (dropped)"
	fi
done
if tmo 5 ip netns exec "$SCANNER_NS" ping -c 1 -W 1 "$CLOUD_IP" >/dev/null; then
	surprise "the scanner's ping got through"
else
	echo "    scanner ping -> $CLOUD_IP  no answer (dropped)"
fi
if tmo 5 ip netns exec "$SENSOR1_NS" nc -z -w 1 "$CLOUD_IP" 23 2>/dev/null; then
	surprise "sensor1 reached telnet"
else
	echo "    even sensor1 -> $CLOUD_IP:23  no answer (no-remote-admin)"
fi

step "6. sensor1 speaks HTTP on the MQTT port: the handshake passes as an MQTT candidate, the payload is not MQTT"
printf 'GET / HTTP/1.1\r\n\r\n' | tmo 10 ip netns exec "$SENSOR1_NS" nc -N -w 2 "$CLOUD_IP" 1883 >/dev/null 2>&1 || true
echo "    the broker saw a connection and no request: fringe dropped the first payload (default drop)"
bg_stop "$capture_pid"

step "7. sensor2 goes haywire: $FLOOD_PACKETS CoAP datagrams as fast as it can (limit 100/s)"
ns_bg cloud "$TMPD/flood.out" timeout 60 nc -u -l "$CLOUD_IP" 5683
flood_pid=$BG_PID
wait_listen cloud udp "$CLOUD_IP" 5683 || surprise "the CoAP listener did not start"
# shellcheck disable=SC2016 # the inner script expands its own arguments
sent=$(tmo 30 ip netns exec "$SENSOR2_NS" bash -c '
	exec 3>/dev/udp/$1/5683; t0=$(date +%s%N)
	for ((i = 0; i < $2; i++)); do printf . >&3 2>/dev/null; done
	echo $((($(date +%s%N) - t0) / 1000000))' _ "$CLOUD_IP" "$FLOOD_PACKETS") || sent="?"
sleep 0.5
bg_stop "$flood_pid"
got=$(wc -c <"$TMPD/flood.out")
echo "    sent $FLOOD_PACKETS datagrams in ${sent} ms; the cloud received $got, the rest were dropped (rate_limit)"
[ "$got" -lt "$FLOOD_PACKETS" ] || surprise "the flood was not limited"

step "8. fringe stats (per interface, application and device)"
fr stats | indent

step "9. fringe policy show"
fr policy show | indent

step "10. fringe policy test: sensor1's capture replayed through the policy, on a private instance"
echo "    (what a policy would do with real traffic, before it is loaded; nothing live changes)"
fr policy test "$POLICY" --pcap "$TMPD/sensor1.pcap" 2>/dev/null | indent ||
	surprise "policy test failed"

step "11. The dashboard: fringe daemon serves the site's page (it adopts what is attached)"
DEMO_OUT=$ROOT/build/demo
mkdir -p "$DEMO_OUT"
cat >"$TMPD/fringe.conf" <<EOF
$(for i in $GW_DEVICE_IFS; do echo "interface $i mode native"; done)
policy $POLICY
metrics 127.0.0.1:9650
pin-dir $PIN
EOF
ns_bg gw "$TMPD/daemon.log" "$FRINGE" daemon --config "$TMPD/fringe.conf"
daemon_pid=$BG_PID
if wait_until 20 grep -q 'level=info serving on' "$TMPD/daemon.log"; then
	# A little life on the page while it is drawn: readings, pings, a scan.
	ns_bg sensor1 "$TMPD/live1.log" timeout 60 ping -i 0.1 -W 1 "$CLOUD_IP"
	ns_bg sensor2 "$TMPD/live2.log" timeout 60 bash -c \
		'for i in $(seq 100); do mosquitto_pub -h "$1" -t sensors/sensor2/humidity -m "$i"; sleep 0.3; done' _ "$CLOUD_IP"
	ns_bg scanner "$TMPD/live3.log" timeout 60 bash -c \
		'for p in $(seq 1 400); do nc -z -w 1 "$1" "$p"; done' _ "$CLOUD_IP"
	if command -v chromium >/dev/null &&
		tmo 120 ip netns exec "$GW_NS" /usr/bin/python3 "$ROOT/scripts/lib/browser.py" \
			http://127.0.0.1:9650/ --out "$DEMO_OUT" --settle 15 --timeout 90 >"$TMPD/browser.log" 2>&1; then
		echo "    the dashboard, drawn by headless Chromium: $DEMO_OUT/dashboard.png (and dashboard-phone.png)"
	else
		surprise "no screenshot of the dashboard: $(tail -n 3 "$TMPD/browser.log" 2>/dev/null)"
	fi
	echo "    live at http://127.0.0.1:9650/ inside namespace $GW_NS while the demo runs, e.g.:"
	echo "      ip netns exec $GW_NS curl -s http://127.0.0.1:9650/api/v1/stats"
	echo "    on a real gateway: 'metrics ADDR:PORT tls CERT KEY auth USERS' in fringe.conf, then open https://ADDR:PORT/"
else
	surprise "the daemon did not start: $(tail -n 3 "$TMPD/daemon.log")"
fi
bg_stop "$daemon_pid"

if [ "$SURPRISES" -gt 0 ]; then
	echo
	echo "demo: $SURPRISES step(s) did not behave as expected" >&2
	exit 1
fi
echo
echo "demo: done; tearing down (namespaces, processes, pin dir)"
