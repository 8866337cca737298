#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: DNS names in sets on the live gateway: dnsmasq answers, devices connect right after their lookups, forged answers teach nothing, addresses expire, a full table evicts.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/gateway.sh"
. "$ROOT/scripts/lib/fringe.sh"

require_root
require_cmd ip timeout dnsmasq curl "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"
"$PYTHON" -c 'import scapy.all' 2>/dev/null || missing_dep "scapy is missing (python3-scapy)"

RACE=200		# lookups, each followed at once by a connection
FILL=70000		# distinct names resolved, more than the 65,536 the table holds
PORT=9651

harness_tmpdir
POL=$TMPD/dns.policy
CONF=$TMPD/fringe.conf

# Names: dnsmasq synthesizes A-B-C-D.race.example.net -> A.B.C.D (and so
# for the other zones); the cloud namespace owns those addresses.
cat >"$POL" <<'EOF'
set cloud { *.race.example.net, *.fill.example.com }
rule dns-query proto udp dport 53 allow
rule dns-answer proto udp sport 53 allow
rule to-cloud dst @cloud proto tcp dport 8080 allow
rule from-cloud src @cloud proto tcp sport 8080 allow
default drop
EOF

step "topology, dnsmasq and a TCP server in the cloud"
gw_topology_up
FR_NS=$GW_NS
gw_topology_check
pin_mount
for net in 10.77.101.0/24 10.77.102.0/24; do
	nsx cloud ip route add local "$net" dev lo
	nsx gw ip route add "$net" via "$CLOUD_IP"
done
ns_bg cloud "$TMPD/dnsmasq.log" dnsmasq --no-daemon --no-resolv --no-hosts --user=root \
	--listen-address="$CLOUD_IP" --bind-interfaces --port=53 --local-ttl=1 --neg-ttl=1 \
	--dns-forward-max=10000 --cache-size=0 --pid-file="$TMPD/dnsmasq.pid" \
	--synth-domain=race.example.net,10.77.101.0/24 \
	--synth-domain=other.example.org,10.77.102.0/24 \
	--synth-domain=fill.example.com,10.80.0.0/15 \
	--cname=alias.example.org,10-77-101-250.race.example.net
wait_listen cloud udp "$CLOUD_IP" 53 || fail "dnsmasq did not start: $(tail -n 5 "$TMPD/dnsmasq.log")"
ns_bg cloud "$TMPD/server.log" timeout 280 "$PYTHON" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(512)
while True:
    c, _ = s.accept(); c.close()'
wait_listen cloud tcp 0.0.0.0 8080 || fail "the TCP server did not start"

# The device's client: resolve through the cloud's dnsmasq, then connect at once.
cat >"$TMPD/client.py" <<'PY'
import json, socket, struct, sys, time
import netprobe

SERVER = sys.argv[1]

def query(name):
    """A records of name (through its CNAME chain), asked of SERVER over UDP."""
    return netprobe.query(SERVER, name)[0]

def connect(addr, timeout=2.0):
    try:
        socket.create_connection((addr, 8080), timeout=timeout).close()
        return True
    except OSError:
        return False

what = sys.argv[2]
if what == "race":
    ok = failed = unresolved = 0
    t0 = time.time()
    for i in range(1, int(sys.argv[3]) + 1):
        addrs = query("10-77-101-%d.race.example.net" % i)
        if not addrs:
            unresolved += 1
        elif connect(addrs[0]):
            ok += 1
        else:
            failed += 1
    print(json.dumps({"ok": ok, "failed": failed, "unresolved": unresolved,
                      "seconds": round(time.time() - t0, 2)}))
elif what == "one":
    addrs = query(sys.argv[3])
    print(json.dumps({"addrs": addrs, "connected": bool(addrs) and connect(addrs[-1])}))
elif what == "connect":
    print(json.dumps({"connected": connect(sys.argv[3])}))
elif what == "fill":
    n, rate = int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    t0 = time.time()
    got = 0
    for i in range(n):
        name = "10-%d-%d-%d.fill.example.com" % (80 + (i >> 16), (i >> 8) & 255, i & 255)
        q = struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0)
        q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
        q += struct.pack(">HH", 1, 1)
        while True:
            try:
                s.sendto(q, (SERVER, 53))
                break
            except BlockingIOError:
                time.sleep(0.001)
        while True:
            try:
                s.recv(4096)
                got += 1
            except BlockingIOError:
                break
        lag = t0 + (i + 1) / rate - time.time()
        if lag > 0:
            time.sleep(lag)
    end = time.time() + 3
    while time.time() < end:
        try:
            s.recv(4096)
            got += 1
        except BlockingIOError:
            time.sleep(0.01)
    print(json.dumps({"sent": n, "answers": got, "seconds": round(time.time() - t0, 1)}))
PY
client() { timeout 200 ip netns exec "$(ns "$1")" env PYTHONPATH="$ROOT/scripts/lib" "$PYTHON" "$TMPD/client.py" "$CLOUD_IP" "${@:2}"; }

step "fringe's daemon on the sensor's port, the scanner's port and the uplink"
cat >"$CONF" <<EOF
interface $GW_IF_SENSOR1 mode native
interface $GW_IF_SCANNER mode native
interface $GW_IF_UPLINK mode native
policy $POL
metrics 127.0.0.1:$PORT
pin-dir $PIN
EOF
ns_bg gw "$TMPD/daemon.log" "$FRINGE" -v -v daemon --config "$CONF"
wait_until 20 nsx gw curl -sf "http://127.0.0.1:$PORT/metrics" -o /dev/null ||
	fail "the daemon does not serve: $(tail -n 20 "$TMPD/daemon.log")"

step "an address nobody resolved: dropped"
client sensor1 connect 10.77.101.1 >"$TMPD/c0.json"
[ "$(q "$TMPD/c0.json" 'd["connected"]')" = False ] || fail "10.77.101.1:8080 was reachable before any lookup"

step "$RACE lookups, each followed at once by a connection"
client sensor1 race "$RACE" >"$TMPD/race.json" || fail "the race client failed"
info "$(cat "$TMPD/race.json")"
[ "$(q "$TMPD/race.json" 'd["unresolved"]')" -eq 0 ] || fail "some names did not resolve"
[ "$(q "$TMPD/race.json" 'd["failed"]')" -eq 0 ] || fail "connections right after their lookups were dropped"
[ "$(q "$TMPD/race.json" 'd["ok"]')" -eq "$RACE" ] || fail "not every connection succeeded"

step "an unlisted name, a CNAME chain"
client sensor1 one 10-77-102-5.other.example.org >"$TMPD/other.json"
[ "$(q "$TMPD/other.json" 'd["addrs"]')" = "['10.77.102.5']" ] || fail "other.example.org did not resolve"
[ "$(q "$TMPD/other.json" 'd["connected"]')" = False ] || fail "an unlisted name's address was reachable"
client sensor1 one alias.example.org >"$TMPD/alias.json"
[ "$(q "$TMPD/alias.json" 'd["addrs"]')" = "['10.77.101.250']" ] || fail "the CNAME did not resolve: $(cat "$TMPD/alias.json")"
[ "$(q "$TMPD/alias.json" 'd["connected"]')" = True ] || fail "the CNAME chain's address was not learned"

step "an answer forged from another host teaches nothing"
fr_json "$TMPD/dns0.json" dns show --json
U0=$(q "$TMPD/dns0.json" 'd["answers"]["unsolicited"]')
timeout 30 ip netns exec "$SCANNER_NS" "$PYTHON" - "$CLOUD_IP" "$SENSOR1_IP" "$GW_SCANNER_MAC" <<'PY' >/dev/null 2>&1 ||
from scapy.all import Ether, IP, UDP, DNS, DNSQR, DNSRR, sendp
import sys
cloud, sensor, gwmac = sys.argv[1:4]
name = "10-77-101-231.race.example.net"
pkt = (Ether(dst=gwmac) / IP(src=cloud, dst=sensor) / UDP(sport=53, dport=40000) /
       DNS(id=4242, qr=1, aa=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, ttl=300, rdata="10.77.101.231")))
sendp(pkt, iface="eth0", count=3, verbose=False)
PY
	fail "scapy could not send the forged answer"
for _ in $(seq 50); do
	fr_json "$TMPD/dns1.json" dns show --json
	[ "$(q "$TMPD/dns1.json" 'd["answers"]["unsolicited"]')" -ge $((U0 + 3)) ] && break
	sleep 0.1
done
[ "$(q "$TMPD/dns1.json" 'd["answers"]["unsolicited"]')" -ge $((U0 + 3)) ] ||
	fail "the forged answers were not counted as unsolicited"
client sensor1 connect 10.77.101.231 >"$TMPD/forged.json"
[ "$(q "$TMPD/forged.json" 'd["connected"]')" = False ] || fail "a forged answer taught an address"
[ "$(q "$TMPD/dns1.json" '[r for r in d["learned"] if r["address"] == "10.77.101.231"]')" = "[]" ] ||
	fail "dns show lists the forged address"
[ "$(q "$TMPD/dns1.json" '[r["names"] for r in d["learned"] if r["address"] == "10.77.101.250"]')" = \
	"[['*.race.example.net']]" ] || fail "dns show: the CNAME's address lacks its name"

step "expiry: the TTL (1 s) is held to 30 s, then the address is dropped again"
T0=$(date +%s)
client sensor1 connect 10.77.101.2 >"$TMPD/e0.json"
[ "$(q "$TMPD/e0.json" 'd["connected"]')" = True ] || fail "10.77.101.2 was not learned"
sleep $((T0 + 32 - $(date +%s)))
client sensor1 connect 10.77.101.3 >"$TMPD/e1.json"
[ "$(q "$TMPD/e1.json" 'd["connected"]')" = False ] || fail "10.77.101.3 still reachable more than 30 s after its lookup"

step "$FILL names to fill the table of 65,536 and evict"
client sensor1 fill "$FILL" 5000 >"$TMPD/fill.json" || fail "the fill client failed"
info "$(cat "$TMPD/fill.json")"
sleep 2
fr_json "$TMPD/dns2.json" dns show --json
LEARNED=$(q "$TMPD/dns2.json" 'd["answers"]["learned"]')
NOW=$(q "$TMPD/dns2.json" 'd["learned_addresses"]')
EVICTED=$(q "$TMPD/dns2.json" 'd["evictions"]')
FULL=$(q "$TMPD/dns2.json" 'd["full"]')
info "answers learned $LEARNED, addresses now $NOW, evictions $EVICTED, not learned (full) $FULL"
[ "$LEARNED" -ge $((FILL * 99 / 100)) ] || fail "fewer than 99% of $FILL answers taught an address"
[ "$NOW" -le 65536 ] || fail "more than 65,536 addresses held"
[ "$EVICTED" -gt 0 ] || fail "nothing was evicted"
# The newest are kept: the last name resolved is still learned.
[ "$(q "$TMPD/dns2.json" "len([r for r in d['learned'] if r['address'] == '10.81.$(((FILL - 1) >> 8 & 255)).$(((FILL - 1) & 255))'])")" -eq 1 ] ||
	{ grep dns: "$TMPD/daemon.log" | tail; fail "the last address learned is not in the table"; }
nsx gw curl -sf "http://127.0.0.1:$PORT/metrics" -o "$TMPD/metrics.txt" || fail "no metrics"
grep -q '^fringe_dns_answers_total{result="unsolicited"} [1-9]' "$TMPD/metrics.txt" || fail "metrics lack unsolicited answers"
grep -q "^fringe_dns_evictions_total $EVICTED" "$TMPD/metrics.txt" || true
grep -q '^fringe_dns_learned_addresses [1-9]' "$TMPD/metrics.txt" || fail "metrics lack learned addresses"

harness_done
