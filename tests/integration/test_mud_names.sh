#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: a thermostat's MUD profile (its cloud by name, its controller) and a light bulb's (my-controller, same-manufacturer) imported, checked and loaded; live lookups through dnsmasq and live traffic reach exactly what the profiles allow.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/gateway.sh"
. "$ROOT/scripts/lib/fringe.sh"

require_root
require_cmd ip timeout dnsmasq "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

harness_tmpdir
POL=$TMPD/site.policy
PROBE=$ROOT/scripts/lib/netprobe.py

# Who is who. sensor1 is the thermostat t1, sensor2 the light bulb b3; the
# scanner's namespace is the local network: the hub (the controller of both),
# a bulb of the same manufacturer and a host of another. The cloud namespace
# runs the resolver and owns the addresses its names resolve to.
T1_IP=$SENSOR1_IP B3_IP=$SENSOR2_IP
HUB=$SCANNER_IP PEER=10.77.3.11 OTHER=10.77.3.12
CLOUD_TLS=10.77.101.20	# t1-eu.cdn.example.net, the CNAME target of cloud.thermo.example.com
CLOUD_TIME=10.77.101.30	# time.thermo.example.com
ADS=10.77.102.5		# ads.example.org, a name in no profile

step "import the profiles, with the site's sets and DNS rules before them"
{
	cat <<EOF
# The site: what the profiles' abstractions mean here, and the resolver.
set t1-controllers { $HUB }
set b3-hubs { $HUB }
set example-bulbs { $PEER }
rule dns-query dst $CLOUD_IP proto udp dport 53 allow
rule dns-answer src $CLOUD_IP proto udp sport 53 allow
EOF
	"$FRINGE" mud import "$ROOT/examples/mud/thermostat.json" --device t1 --mac "$SENSOR1_MAC" \
		--ip "$T1_IP" --map my-controller=@t1-controllers
	"$FRINGE" mud import "$ROOT/examples/mud/lightbulb.json" --device b3 --mac "$SENSOR2_MAC" \
		--ip "$B3_IP" --map my-controller=@b3-hubs --map same-manufacturer=@example-bulbs
} >"$POL" || fail "mud import failed"
sed 's/^/    /' "$POL"
grep -q '^set t1.cloud.thermo.example.com { cloud.thermo.example.com }$' "$POL" ||
	fail "the thermostat's cloud name has no set"
grep -q '^rule t1.cloud-tls device t1 src 0.0.0.0/0 dst @t1.cloud.thermo.example.com proto tcp dport 443 allow$' "$POL" ||
	fail "the cloud-tls entry was not translated as expected"
grep -q '^rule b3.peers device b3 src 0.0.0.0/0 dst @example-bulbs proto udp dport 5683 allow$' "$POL" ||
	fail "the peers entry was not translated as expected"

step "topology; dnsmasq and the servers in the cloud, listeners on the local network"
gw_topology_up
FR_NS=$GW_NS
gw_topology_check
pin_mount
for net in 10.77.101.0/24 10.77.102.0/24; do
	nsx cloud ip route add local "$net" dev lo
	nsx gw ip route add "$net" via "$CLOUD_IP"
done
nsx scanner ip addr add "$PEER/24" dev "$DEV_IF"
nsx scanner ip addr add "$OTHER/24" dev "$DEV_IF"
# TTLs of 1 s: the data plane holds them to 30 s.
ns_bg cloud "$TMPD/dnsmasq.log" timeout 120 dnsmasq --no-daemon --no-resolv --no-hosts --user=root \
	--listen-address="$CLOUD_IP" --bind-interfaces --port=53 --local-ttl=1 --neg-ttl=1 \
	--cache-size=0 --pid-file="$TMPD/dnsmasq.pid" --log-queries \
	--host-record=t1-eu.cdn.example.net,$CLOUD_TLS \
	--cname=cloud.thermo.example.com,t1-eu.cdn.example.net \
	--host-record=time.thermo.example.com,$CLOUD_TIME \
	--host-record=ads.example.org,$ADS
for a in $CLOUD_TLS $ADS; do
	ns_bg cloud "$TMPD/tls-$a.log" timeout 120 "$PYTHON" "$PROBE" serve-tcp "$a" 443
done
for a in $CLOUD_TLS $CLOUD_TIME; do
	ns_bg cloud "$TMPD/ntp-$a.log" timeout 120 "$PYTHON" -u "$PROBE" serve-udp "$a" 123
done
ns_bg scanner "$TMPD/mqtt.log" timeout 120 "$PYTHON" "$PROBE" serve-tcp 0.0.0.0 1883
for a in $HUB $PEER $OTHER; do
	ns_bg scanner "$TMPD/coap-$a.log" timeout 120 "$PYTHON" -u "$PROBE" serve-udp "$a" 5683
done
ns_bg sensor1 "$TMPD/t1.log" timeout 120 "$PYTHON" "$PROBE" serve-tcp "$T1_IP" 8080
ns_bg sensor2 "$TMPD/b3.log" timeout 120 "$PYTHON" -u "$PROBE" serve-udp "$B3_IP" 5683
wait_listen cloud udp "$CLOUD_IP" 53 || fail "dnsmasq did not start: $(tail -n 5 "$TMPD/dnsmasq.log")"
wait_listen cloud tcp "$CLOUD_TLS" 443 || fail "the TLS stand-in did not start"
wait_listen cloud udp "$CLOUD_TIME" 123 || fail "the time server did not start"
wait_listen scanner tcp 0.0.0.0 1883 || fail "the hub's MQTT listener did not start"
wait_listen scanner udp "$OTHER" 5683 || fail "the CoAP listeners did not start"
wait_listen sensor1 tcp "$T1_IP" 8080 || fail "the thermostat's listener did not start"
wait_listen sensor2 udp "$B3_IP" 5683 || fail "the bulb's listener did not start"

step "fringe on the devices' ports, the local network's and the uplink; the policy checked and loaded"
for i in $GW_DEVICE_IFS $GW_IF_UPLINK; do
	fr_ok attach "$i" --mode native
done
fr_ok policy check "$POL"
fr_ok policy load "$POL"

probe() { timeout 20 ip netns exec "$(ns "$1")" "$PYTHON" "$PROBE" "${@:2}"; }
# reach NS JSON-NAME PROBE-ARGS...: run a probe, keep its JSON line, print "connected".
reach() {
	probe "$1" "${@:3}" >"$TMPD/$2.json" || fail "probe $* failed"
	q "$TMPD/$2.json" 'd["connected"]'
}
udp() { probe "$1" udp "${@:2}" || fail "cannot send from $2"; }

step "the thermostat's cloud: dropped before any lookup, reached at once after it"
[ "$(reach sensor1 before connect "$CLOUD_TLS" 443)" = False ] ||
	fail "$CLOUD_TLS:443 was reachable before the thermostat looked its name up"
T0=$(date +%s)
[ "$(reach sensor1 cloud resolve "$CLOUD_IP" cloud.thermo.example.com 443)" = True ] ||
	fail "the connection right after the lookup was dropped: $(cat "$TMPD/cloud.json")"
[ "$(q "$TMPD/cloud.json" 'd["addrs"], d["cnames"]')" = "(['$CLOUD_TLS'], ['t1-eu.cdn.example.net'])" ] ||
	fail "cloud.thermo.example.com did not resolve through its CNAME: $(cat "$TMPD/cloud.json")"
[ "$(reach sensor1 again connect "$CLOUD_TLS" 443)" = True ] || fail "a second connection to the cloud was dropped"

step "a name in no profile: resolved, its address dropped"
[ "$(reach sensor1 ads resolve "$CLOUD_IP" ads.example.org 443)" = False ] ||
	fail "the address of ads.example.org was reachable"
[ "$(q "$TMPD/ads.json" 'd["addrs"]')" = "['$ADS']" ] || fail "ads.example.org did not resolve"

step "time by name over UDP 123; the cloud's address is no time server"
probe sensor1 resolve "$CLOUD_IP" time.thermo.example.com 9 >"$TMPD/time.json" || fail "lookup of the time name failed"
[ "$(q "$TMPD/time.json" 'd["addrs"]')" = "['$CLOUD_TIME']" ] || fail "time.thermo.example.com did not resolve"
udp sensor1 "$T1_IP" "$CLOUD_TLS" 123 ntp-to-the-tls-name
udp sensor1 "$T1_IP" "$CLOUD_TIME" 123 ntp-ok
wait_until 5 grep -q ntp-ok "$TMPD/ntp-$CLOUD_TIME.log" || fail "NTP to the time name's address did not arrive"
sleep 0.5
[ ! -s "$TMPD/ntp-$CLOUD_TLS.log" ] || fail "NTP reached the TLS name's address: $(cat "$TMPD/ntp-$CLOUD_TLS.log")"

step "the thermostat's controller (my-controller) over MQTT; no other local host"
[ "$(reach sensor1 hub connect "$HUB" 1883)" = True ] || fail "the thermostat cannot reach its controller"
[ "$(reach sensor1 other connect "$OTHER" 1883)" = False ] || fail "the thermostat reached $OTHER:1883"
[ "$(reach scanner into connect "$T1_IP" 8080 "$OTHER")" = False ] ||
	fail "$OTHER opened a connection to the thermostat"

step "the bulb: its hub both ways, a bulb of the same manufacturer, not one of another"
udp sensor2 "$B3_IP" "$HUB" 5683 b3-to-hub
udp sensor2 "$B3_IP" "$PEER" 5683 b3-to-peer
udp sensor2 "$B3_IP" "$OTHER" 5683 b3-to-other
udp scanner "$HUB" "$B3_IP" 5683 hub-to-b3
udp scanner "$PEER" "$B3_IP" 5683 peer-to-b3
udp scanner "$OTHER" "$B3_IP" 5683 other-to-b3
wait_until 5 grep -q "^$B3_IP b3-to-hub" "$TMPD/coap-$HUB.log" || fail "the bulb's CoAP to its hub did not arrive"
wait_until 5 grep -q "^$B3_IP b3-to-peer" "$TMPD/coap-$PEER.log" || fail "the bulb's CoAP to a peer did not arrive"
wait_until 5 grep -q "^$HUB hub-to-b3" "$TMPD/b3.log" || fail "the hub's CoAP to the bulb did not arrive"
sleep 0.5
[ ! -s "$TMPD/coap-$OTHER.log" ] || fail "the bulb reached another manufacturer's host: $(cat "$TMPD/coap-$OTHER.log")"
[ "$(grep -c . "$TMPD/b3.log")" -eq 1 ] || fail "the bulb got CoAP from others than its hub: $(cat "$TMPD/b3.log")"

step "dns show lists the learned addresses with the profile's names"
fr_json "$TMPD/dns.json" dns show --json
learned() { q "$TMPD/dns.json" "[(r['names'], r['sets']) for r in d['learned'] if r['address'] == '$1']"; }
info "$CLOUD_TLS: $(learned "$CLOUD_TLS")"
[ "$(learned "$CLOUD_TLS")" = "[(['cloud.thermo.example.com'], ['t1.cloud.thermo.example.com'])]" ] ||
	fail "dns show: $CLOUD_TLS is not listed under cloud.thermo.example.com"
[ "$(learned "$CLOUD_TIME")" = "[(['time.thermo.example.com'], ['t1.time.thermo.example.com'])]" ] ||
	fail "dns show: $CLOUD_TIME is not listed under time.thermo.example.com"
[ "$(learned "$ADS")" = "[]" ] || fail "dns show lists the address of a name in no profile"

step "the counters say which entry decided"
fr_json "$TMPD/show.json" policy show --json
for r in dns-query dns-answer t1.cloud-tls t1.cloud-tls-back t1.time t1.local-mqtt t1.local-mqtt-back \
	t1.from-device-default t1.to-device-default b3.hub-coap b3.peers b3.hub-coap-in \
	b3.from-device-default b3.to-device-default; do
	n=$(q "$TMPD/show.json" "rule(\"$r\")[\"packets\"]")
	info "$r: $n packets"
	[ "$n" -gt 0 ] || fail "rule $r counted no packets"
done

step "past its TTL (1 s, held to 30 s) the cloud's address is dropped again"
WAIT=$((T0 + 32 - $(date +%s)))
[ "$WAIT" -le 0 ] || sleep "$WAIT"
[ "$(reach sensor1 expired connect "$CLOUD_TLS" 443)" = False ] ||
	fail "$CLOUD_TLS:443 still reachable more than 30 s after its lookup"

harness_done
