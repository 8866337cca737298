#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: a camera's MUD profile imported, checked and loaded on the gateway; live traffic reaches exactly what it allows.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/gateway.sh"
. "$ROOT/scripts/lib/fringe.sh"

require_root
require_cmd ip nc ss timeout "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

harness_tmpdir
MUD=$TMPD/camera.json
POL=$TMPD/camera.policy

# sensor1 plays the camera; the cloud namespace is its recorder. The profile
# is examples/mud/camera.json with the recorder's networks of this topology,
# and the RTSP reply over IPv6 added.
"$PYTHON" - "$ROOT/examples/mud/camera.json" "$MUD" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
acls = {a["name"]: a for a in d["ietf-access-control-list:acls"]["acl"]}
def nets(acl, key, value):
    for ace in acls[acl]["aces"]["ace"]:
        m = ace["matches"].get("ipv4") or ace["matches"].get("ipv6")
        if key in m:
            m[key] = value
nets("c2-from-v4", "destination-ipv4-network", "10.77.100.0/24")
nets("c2-to-v4", "source-ipv4-network", "10.77.100.0/24")
nets("c2-from-v6", "destination-ipv6-network", "fd77:100::/64")
nets("c2-to-v6", "source-ipv6-network", "fd77:100::/64")
acls["c2-from-v6"]["aces"]["ace"].append({
    "name": "rtsp-v6-reply",
    "matches": {"ipv6": {"destination-ipv6-network": "fd77:100::/64", "protocol": 6},
                "tcp": {"source-port": {"lower-port": 554, "upper-port": 555}}},
    "actions": {"forwarding": "accept"}})
json.dump(d, open(sys.argv[2], "w"), indent=1)
PY

step "import the profile"
{
	echo "# the site's own rules before the device's profile"
	echo "rule nd proto icmpv6 allow"
	"$FRINGE" mud import "$MUD" --device cam --mac "$SENSOR1_MAC" --ip "$SENSOR1_IP" --ip "$SENSOR1_IP6"
} >"$POL" || fail "mud import failed"
sed 's/^/    /' "$POL"
grep -q '^rule cam.rtp-v4 device cam dst 10.77.100.0/24 proto udp sport 6970-6999 allow$' "$POL" ||
	fail "the rtp-v4 entry was not translated as expected"
# A bad profile prints nothing and names the JSON path.
sed 's/"accept"/"reject"/' "$MUD" >"$TMPD/bad.json"
run_rc "$FRINGE" mud import "$TMPD/bad.json" --device cam --mac "$SENSOR1_MAC" --ip "$SENSOR1_IP"
[ "$RC" -eq 1 ] || fail "mud import of a rejecting profile exited $RC, want 1"
[ ! -s "$TMPD/out" ] || fail "mud import of a bad profile printed a policy"
grep -q "^$TMPD/bad.json: /ietf-access-control-list:acls/acl/0/aces/ace/0/actions/forwarding: error: 'reject'" \
	"$TMPD/err" || fail "no error with the JSON path: $(cat "$TMPD/err")"

step "topology; fringe on the camera's port and the uplink"
gw_topology_up
FR_NS=$GW_NS
gw_topology_check
pin_mount
fr_ok attach "$GW_IF_SENSOR1" --mode native
fr_ok attach "$GW_IF_UPLINK" --mode native
fr_ok policy check "$POL"
fr_ok policy load "$POL"

# udp_to NS SRC DST SPORT DPORT TEXT: one datagram from SRC:SPORT.
udp_to() {
	nsx "$1" "$PYTHON" -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[3])))
s.sendto(sys.argv[5].encode() + b"\n", (sys.argv[2], int(sys.argv[4])))' "$2" "$3" "$4" "$5" "$6"
}
# tcp_to NS DST PORT TEXT: connect, send a line; fails when no connection.
tcp_to() {
	printf '%s\n' "$4" | timeout 8 ip netns exec "$(ns "$1")" nc -N -w 3 "$2" "$3" >/dev/null 2>&1
}

step "listeners: the recorder (udp 5000, tcp 80) and the camera (tcp 554, 23, 80)"
ns_bg cloud "$TMPD/rec4.log" timeout 200 nc -u -lk "$CLOUD_IP" 5000
ns_bg cloud "$TMPD/rec6.log" timeout 200 nc -6 -u -lk "$CLOUD_IP6" 5000
ns_bg cloud "$TMPD/web.log" timeout 200 nc -lk "$CLOUD_IP" 80
for port in 554 23 80; do
	ns_bg sensor1 "$TMPD/cam$port.log" timeout 200 nc -lk "$SENSOR1_IP" "$port"
	ns_bg sensor1 "$TMPD/cam6-$port.log" timeout 200 nc -6 -lk "$SENSOR1_IP6" "$port"
done
wait_listen cloud udp "$CLOUD_IP" 5000 || fail "recorder did not start"
wait_listen sensor1 tcp "$SENSOR1_IP" 554 || fail "camera's rtsp listener did not start"

step "what the profile allows"
udp_to sensor1 "$SENSOR1_IP" "$CLOUD_IP" 6980 5000 rtp-v4-ok
udp_to sensor1 "$SENSOR1_IP6" "$CLOUD_IP6" 6999 5000 rtp-v6-ok
wait_until 5 grep -q rtp-v4-ok "$TMPD/rec4.log" || fail "RTP over IPv4 from sport 6980 did not arrive"
wait_until 5 grep -q rtp-v6-ok "$TMPD/rec6.log" || fail "RTP over IPv6 from sport 6999 did not arrive"
tcp_to cloud "$SENSOR1_IP" 554 rtsp-v4-ok || fail "the recorder cannot open RTSP (IPv4) to the camera"
tcp_to cloud "$SENSOR1_IP6" 554 rtsp-v6-ok || fail "the recorder cannot open RTSP (IPv6) to the camera"
wait_until 5 grep -q rtsp-v4-ok "$TMPD/cam554.log" || fail "RTSP payload (IPv4) did not arrive"
wait_until 5 grep -q rtsp-v6-ok "$TMPD/cam6-554.log" || fail "RTSP payload (IPv6) did not arrive"

step "what it does not"
udp_to sensor1 "$SENSOR1_IP" "$CLOUD_IP" 7000 5000 rtp-wrong-port
udp_to sensor1 "$SENSOR1_IP" "$CLOUD_IP" 6980 5000 rtp-again-ok
wait_until 5 grep -q rtp-again-ok "$TMPD/rec4.log" || fail "the second allowed datagram did not arrive"
if grep -q rtp-wrong-port "$TMPD/rec4.log"; then fail "UDP from sport 7000 reached the recorder"; fi
! tcp_to sensor1 "$CLOUD_IP" 80 cam-web || fail "the camera opened a web connection to the cloud"
! tcp_to cloud "$SENSOR1_IP" 23 telnet || fail "telnet to the camera connected"
! tcp_to cloud "$SENSOR1_IP" 80 web-in || fail "the cloud opened port 80 on the camera"
for f in web cam23 cam80; do
	[ ! -s "$TMPD/$f.log" ] || fail "$f.log got data: $(head -c 200 "$TMPD/$f.log")"
done

step "the counters say which entry decided"
fr_json "$TMPD/show.json" policy show --json
for r in cam.rtp-v4 cam.rtp-v6 cam.rtsp-v4 cam.rtsp-v4-reply cam.rtsp-v6 cam.rtsp-v6-reply \
	cam.telnet-v4 cam.from-device-default cam.to-device-default; do
	n=$(q "$TMPD/show.json" "rule(\"$r\")[\"packets\"]")
	info "$r: $n packets"
	[ "$n" -gt 0 ] || fail "rule $r counted no packets"
done

harness_done
