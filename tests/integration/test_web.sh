#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: the daemon's listener with TLS and basic auth serves the dashboard, the JSON API and /metrics; a real Chromium reads the live page; Prometheus scrapes over TLS.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/gateway.sh"
. "$ROOT/scripts/lib/fringe.sh"

require_root
require_cmd ip curl openssl timeout prometheus mosquitto mosquitto_pub chromium "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

PORT=9650		# the daemon's listener, on 127.0.0.1 inside gw
PROM_PORT=9091
OUT=$ROOT/build/test-logs/integration/test_web	# screenshots and the browser's report
USER1=operator PASS1='s3cret, with spaces and a : colon'
USER2=viewer PASS2='an0ther'

harness_tmpdir
rm -rf "$OUT"
mkdir -p "$OUT"
ETC=$TMPD/etc
mkdir -p "$ETC"
CONF=$ETC/fringe.conf
URL=https://127.0.0.1:$PORT

# hcurl ARGS...: curl inside gw against the listener, trusting the test CA.
hcurl() { nsx gw curl -s -m 10 --cacert "$ETC/ca.pem" "$@"; }
# code PATH ARGS...: the HTTP status of one request.
code() { local p=$1; shift; hcurl -o /dev/null -w '%{http_code}' "$@" "$URL$p" || true; }
snapshot() { "$TMPD/snapshot.sh"; }

step "topology, certificates made here (a CA, a server certificate for 127.0.0.1), users"
gw_topology_up
FR_NS=$GW_NS
gw_topology_check
pin_mount
test_certs "$ETC"
# An unrelated key: a certificate with the wrong key must be refused at --check.
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out "$ETC/other.key" 2>/dev/null ||
	fail "openssl genpkey failed"
# SHA-256 of the server's public key: what Chromium is told to trust.
SPKI=$(openssl x509 -in "$ETC/server.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)
hash_pw() { "$PYTHON" -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_SHA512)))' "$1"; }
{
	echo "# dashboard users (made by the test with crypt(3), SHA-512)"
	echo "$USER1:$(hash_pw "$PASS1")"
} >"$ETC/users"
cat >"$ETC/gateway.policy" <<EOF
device sensor1 mac $SENSOR1_MAC ip $SENSOR1_IP class sensor
device sensor2 mac $SENSOR2_MAC ip $SENSOR2_IP class sensor
rule no-telnet proto tcp dport 23 drop
rule sensor-mqtt class sensor dst $CLOUD_IP proto tcp dport 1883 app mqtt allow
rule icmp proto icmp allow
rule icmpv6 proto icmpv6 allow
rule dns proto udp dport 53 allow
default drop
EOF
cat >"$CONF" <<EOF
interface $GW_IF_SENSOR1 mode native
interface $GW_IF_SENSOR2 mode native
interface $GW_IF_SCANNER mode native
policy gateway.policy
metrics 127.0.0.1:$PORT tls server.pem server.key auth users
pin-dir $PIN
EOF
# What the page shows is checked against these documents, taken before and after it is read.
cat >"$TMPD/snapshot.sh" <<EOF
#!/bin/sh
set -e
s=\$(ip netns exec $GW_NS "$FRINGE" --pin-dir "$PIN" stats --json)
p=\$(ip netns exec $GW_NS "$FRINGE" --pin-dir "$PIN" policy show --json)
printf '{"stats": %s, "policy": %s}\n' "\$s" "\$p"
EOF
chmod +x "$TMPD/snapshot.sh"

step "--check: a certificate with the wrong key and a broken users file are refused"
fr_ok daemon --config "$CONF" --check
sed 's/server.key/other.key/' "$CONF" >"$ETC/wrongkey.conf"
expect_fail 1 "certificate with another key" daemon --config "$ETC/wrongkey.conf" --check
grep -q "cannot use TLS certificate $ETC/server.pem with key $ETC/other.key: The certificate and the given key do not match" "$TMPD/err" || fail "no key mismatch message: $(cat "$TMPD/err")"
printf 'operator:$apr1$ahmn2t7H$kDA5yZ5RIm4cciFIDTbbV0\nviewer\n' >"$ETC/badusers"
sed 's/auth users/auth badusers/' "$CONF" >"$ETC/badusers.conf"
expect_fail 1 "broken users file" daemon --config "$ETC/badusers.conf" --check
grep -qF "$ETC/badusers:1:10: error: user 'operator': Apache's MD5" "$TMPD/err" || fail "no located error: $(cat "$TMPD/err")"
grep -qF "$ETC/badusers:2:1: error: expected USER:HASH" "$TMPD/err" || fail "not every error: $(cat "$TMPD/err")"

step "traffic: a broker in the cloud, sensors publishing and pinging, a spoofer"
cat >"$TMPD/mosquitto.conf" <<EOF
listener 1883 $CLOUD_IP
allow_anonymous true
persistence false
EOF
ns_bg cloud "$TMPD/broker.log" timeout 280 mosquitto -c "$TMPD/mosquitto.conf"
wait_listen cloud tcp "$CLOUD_IP" 1883 10 || fail "the broker did not start"
ns_bg gw "$TMPD/daemon.log" "$FRINGE" daemon --config "$CONF"
DPID=$BG_PID
wait_until 20 grep -q 'level=info serving on https://' "$TMPD/daemon.log" ||
	fail "the daemon does not serve: $(tail -n 20 "$TMPD/daemon.log")"
ns_bg sensor1 "$TMPD/ping1.log" timeout 280 ping -i 0.05 -W 1 "$CLOUD_IP"
ns_bg sensor2 "$TMPD/ping2.log" timeout 280 ping -i 0.2 -W 1 "$CLOUD_IP"
# shellcheck disable=SC2016 # the inner script expands its own variables
ns_bg sensor1 "$TMPD/pub.log" timeout 280 bash -c '
	for i in $(seq 1 2000); do
		mosquitto_pub -h "$1" -q 0 -t sensors/sensor1/t -m "$i" || true
		sleep 0.2
	done' _ "$CLOUD_IP"
# The scanner claims sensor1's address: spoofing, counted on its interface and against sensor1.
nsx scanner "$PYTHON" - "$DEV_IF" "$SENSOR1_IP" "$CLOUD_IP" <<'EOF' || fail "scapy could not send"
import sys, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, ICMP, sendp, get_if_hwaddr
iface, src, dst = sys.argv[1:4]
sendp(Ether(src=get_if_hwaddr(iface), dst="ff:ff:ff:ff:ff:ff") / IP(src=src, dst=dst) / ICMP(), iface=iface, count=7, verbose=False)
EOF
_mqtt_seen() { snapshot | "$PYTHON" -c 'import json, sys; sys.exit(json.load(sys.stdin)["stats"]["apps"]["mqtt"]["packets"] == 0)'; }
wait_until 20 _mqtt_seen ||
	fail "no MQTT recognized: $(tail -n 3 "$TMPD/pub.log")"

step "TLS: curl with the test CA gets in, without it does not; plain HTTP does not"
[ "$(code /metrics -u "$USER1:$PASS1")" = 200 ] || fail "GET /metrics with the CA and credentials is not 200"
RC=0
nsx gw curl -s -m 10 -o /dev/null -u "$USER1:$PASS1" "$URL/metrics" || RC=$?
[ "$RC" -eq 60 ] || fail "curl without the CA exited $RC, want 60 (certificate not trusted)"
RC=0
nsx gw curl -s -m 10 -o /dev/null -u "$USER1:$PASS1" "http://127.0.0.1:$PORT/metrics" || RC=$?
[ "$RC" -ne 0 ] || fail "plain HTTP to the TLS listener got an answer"
hcurl -v -o /dev/null -u "$USER1:$PASS1" "$URL/" 2>"$TMPD/tls.txt" || true
grep -q 'SSL connection using TLSv1.[23]' "$TMPD/tls.txt" || fail "not TLS 1.2/1.3: $(grep SSL "$TMPD/tls.txt")"
info "ok: $(grep -o 'SSL connection using .*' "$TMPD/tls.txt")"

step "authentication: 401 on every path without valid credentials, wrong user and wrong password alike"
for p in / /metrics /api/v1/ /api/v1/stats /app.js /no/such/path; do
	[ "$(code "$p")" = 401 ] || fail "$p without credentials is not 401"
	[ "$(code "$p" -u "nobody:$PASS1")" = 401 ] || fail "$p with a wrong user is not 401"
	[ "$(code "$p" -u "$USER1:wrong")" = 401 ] || fail "$p with a wrong password is not 401"
	[ "$(code "$p" -u "$USER1:")" = 401 ] || fail "$p with an empty password is not 401"
done
[ "$(code /metrics -X POST -d x)" = 401 ] || fail "POST without credentials is not 401"
hcurl -D "$TMPD/h401" -o "$TMPD/b401" "$URL/metrics"
grep -qi '^WWW-Authenticate: Basic realm="fringe"' "$TMPD/h401" || fail "no WWW-Authenticate: $(cat "$TMPD/h401")"
# The answers to a wrong user and to a wrong password are the same, byte for byte (but the date).
hcurl -D - -u "nobody:$PASS1" "$URL/metrics" | grep -vi '^date:' >"$TMPD/wrong-user"
hcurl -D - -u "$USER1:nope" "$URL/metrics" | grep -vi '^date:' >"$TMPD/wrong-pass"
cmp -s "$TMPD/wrong-user" "$TMPD/wrong-pass" || fail "a wrong user and a wrong password are told apart: $(diff "$TMPD/wrong-user" "$TMPD/wrong-pass")"
[ "$(code /metrics -X POST -d x -u "$USER1:$PASS1")" = 405 ] || fail "POST with credentials is not 405"
[ "$(code /metrics -X DELETE -u "$USER1:$PASS1")" = 405 ] || fail "DELETE with credentials is not 405"
[ "$(code /no/such/path -u "$USER1:$PASS1")" = 404 ] || fail "an unknown path with credentials is not 404"
hcurl -I -u "$USER1:$PASS1" "$URL/" >"$TMPD/head" || fail "HEAD / failed"
grep -q '^HTTP/1.1 200' "$TMPD/head" || fail "HEAD / is not 200: $(head -1 "$TMPD/head")"
info "ok: 401 for none, wrong user, wrong password, on every path; 405, 404 and HEAD behind them"

step "the users file is followed: a new user gets in, a broken edit keeps the users in force"
[ "$(code /metrics -u "$USER2:$PASS2")" = 401 ] || fail "$USER2 got in before being added"
{ cat "$ETC/users"; echo "$USER2:$(hash_pw "$PASS2")"; } >"$ETC/users.new"
mv "$ETC/users.new" "$ETC/users"
_user2_in() { [ "$(code /metrics -u "$USER2:$PASS2")" = 200 ]; }
wait_until 10 _user2_in || fail "the new user $USER2 was not let in: $(tail -n 5 "$TMPD/daemon.log")"
printf 'broken line\n' >>"$ETC/users"
wait_until 10 grep -qF "$ETC/users:4:1: error: expected USER:HASH" "$TMPD/daemon.log" ||
	fail "the broken users file was not logged: $(tail -n 5 "$TMPD/daemon.log")"
[ "$(code /metrics -u "$USER1:$PASS1")" = 200 ] || fail "a broken users file locked $USER1 out"
info "ok: $(grep -c 'loaded users file' "$TMPD/daemon.log") reload(s); the broken edit left the users in force"

step "headers: a Content-Security-Policy that allows no other origin, on every answer"
hcurl -D "$TMPD/hdr" -o "$TMPD/index.html" -u "$USER1:$PASS1" "$URL/"
CSP=$(sed -n 's/^[Cc]ontent-[Ss]ecurity-[Pp]olicy: //p' "$TMPD/hdr" | tr -d '\r')
[ -n "$CSP" ] || fail "no Content-Security-Policy on /"
case $CSP in *"default-src 'none'"*"script-src 'self'"*"connect-src 'self'"*) ;; *) fail "CSP: $CSP" ;; esac
case $CSP in *unsafe-inline* | *unsafe-eval* | *http:* | *https:* | *'*'*) fail "CSP allows too much: $CSP" ;; esac
grep -qi '^x-content-type-options: nosniff' "$TMPD/hdr" || fail "no nosniff on /"
grep -qi '^content-type: text/html' "$TMPD/hdr" || fail "/ is not text/html"
grep -qi '<script' "$TMPD/index.html" && ! grep -q '<script src="/app.js"' "$TMPD/index.html" && fail "an inline script in the page"
hcurl -D "$TMPD/hdr401" -o /dev/null "$URL/"
grep -qi '^content-security-policy: default-src' "$TMPD/hdr401" || fail "no CSP on the 401 answer"
info "ok: CSP: $CSP"

step "the JSON API: the --json commands' documents"
for d in stats policy nodes flows; do
	hcurl -u "$USER1:$PASS1" -o "$TMPD/api-$d.json" -w '%{content_type}\n' "$URL/api/v1/$d" >"$TMPD/ct" ||
		fail "GET /api/v1/$d failed"
	grep -q '^application/json' "$TMPD/ct" || fail "/api/v1/$d is $(cat "$TMPD/ct")"
done
fr_json "$TMPD/cli-policy.json" policy show --json
fr_json "$TMPD/cli-nodes.json" nodes show --json
fr_json "$TMPD/cli-stats.json" stats --json
"$PYTHON" - "$TMPD" <<'EOF' || fail "the API's documents differ from the commands'"
import json, sys
t = sys.argv[1]
def load(n): return json.load(open("%s/%s.json" % (t, n)))
def shape(d):
    if isinstance(d, dict): return {k: shape(v) for k, v in d.items()}
    if isinstance(d, list): return [shape(v) for v in d[:1]]
    return type(d).__name__
for n in ("stats", "policy", "nodes"):
    a, c = load("api-" + n), load("cli-" + n)
    assert shape(a) == shape(c), "%s: %s != %s" % (n, shape(a), shape(c))
a, c = load("api-policy"), load("cli-policy")
assert [r["name"] for r in a["rules"]] == [r["name"] for r in c["rules"]]
assert a["generation"] == c["generation"]
sa, sc = load("api-stats"), load("cli-stats")
assert [i["name"] for i in sa["interfaces"]] == [i["name"] for i in sc["interfaces"]]
f = load("api-flows")
assert "enabled" in f and "flows" in f
print("same documents")
EOF
[ "$(code '/api/v1/flows?top=0' -u "$USER1:$PASS1")" = 400 ] || fail "?top=0 is not 400"
[ "$(code '/api/v1/flows?top=3' -u "$USER1:$PASS1")" = 200 ] || fail "?top=3 is not 200"
[ "$(code /api/v1/nope -u "$USER1:$PASS1")" = 404 ] || fail "/api/v1/nope is not 404"
hcurl -u "$USER1:$PASS1" "$URL/api/v1/" >"$TMPD/api-index.json"
q "$TMPD/api-index.json" 'sorted(d["endpoints"])' | grep -q "flows.*nodes.*policy.*stats" || fail "the API index: $(cat "$TMPD/api-index.json")"

step "Prometheus scrapes over TLS with basic auth (and a job with a wrong password is refused)"
printf '%s' "$PASS1" >"$ETC/prom-pass"
cat >"$TMPD/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: fringe
    scheme: https
    tls_config:
      ca_file: $ETC/ca.pem
    basic_auth:
      username: $USER1
      password_file: $ETC/prom-pass
    static_configs:
      - targets: ['127.0.0.1:$PORT']
  - job_name: fringe-wrong-password
    scheme: https
    tls_config:
      ca_file: $ETC/ca.pem
    basic_auth:
      username: $USER1
      password: wrong
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF
ns_bg gw "$TMPD/prometheus.log" prometheus --config.file="$TMPD/prometheus.yml" \
	--storage.tsdb.path="$TMPD/prometheus-data" --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn
prom_query() {
	nsx gw "$PYTHON" - "$PROM_PORT" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?query=%s" % (sys.argv[1], urllib.parse.quote(sys.argv[2]))
r = json.load(urllib.request.urlopen(url, timeout=5))["data"]["result"]
print(r[0]["value"][1] if r else "")
EOF
}
_prom_eq() { [ "$(prom_query "$1" 2>/dev/null)" = "$2" ]; }
wait_until 30 _prom_eq 'up{job="fringe"}' 1 || fail "Prometheus does not scrape over TLS: $(tail -n 5 "$TMPD/prometheus.log")"
wait_until 10 _prom_eq 'up{job="fringe-wrong-password"}' 0 || fail "a wrong password scraped"
_prom_icmp() { [ -n "$(prom_query 'fringe_rule_packets_total{rule="icmp"} > 0' 2>/dev/null)" ]; }
wait_until 15 _prom_icmp ||
	fail "no rule counters in Prometheus"
info "ok: up{job=\"fringe\"} 1, up{job=\"fringe-wrong-password\"} 0, icmp $(prom_query 'fringe_rule_packets_total{rule="icmp"}')"
[ "$(prom_query 'fringe_device_spoofed_packets_total{device="sensor1"}')" = 7 ] &&
	[ "$(prom_query 'fringe_device_spoofed_packets_total{device="sensor2"}')" = 0 ] ||
	fail "Prometheus has sensor1/sensor2 spoofed $(prom_query 'fringe_device_spoofed_packets_total{device="sensor1"}')/$(prom_query 'fringe_device_spoofed_packets_total{device="sensor2"}'), want 7/0"

step "Chromium loads the live dashboard (TLS, basic auth): its numbers, its requests, its console"
nsx gw timeout 150 "$PYTHON" "$ROOT/scripts/lib/browser.py" "$URL/" --out "$OUT" \
	--auth "$USER1:$PASS1" --spki "$SPKI" --stats-cmd "$TMPD/snapshot.sh" --timeout 120 \
	>"$TMPD/browser.out" 2>&1 || fail "the browser run failed: $(cat "$TMPD/browser.out"; tail -n 20 "$OUT/chromium.log")"
"$PYTHON" - "$OUT/report.json" "$URL" "$GW_IF_SENSOR1" "$GW_IF_SCANNER" <<'EOF' || fail "the page does not match fringe's counters (above); report: $OUT/report.json"
import json, sys
r = json.load(open(sys.argv[1]))
origin, ifname, scan_if = sys.argv[2], sys.argv[3], sys.argv[4]
dom, before, after = r["dom"], r["before"], r["after"]
bad = []
def grouped(n): return "{:,}".format(n)
def check(key, lo, hi):
    e = dom.get(key)
    if e is None:
        bad.append("%s: not on the page" % key); return
    v = int(e["v"])
    if e["text"] != grouped(v):
        bad.append("%s: shows '%s' for %d" % (key, e["text"], v))
    if not lo <= v <= hi:
        bad.append("%s: %d not within one refresh [%d, %d]" % (key, v, lo, hi))
    print("  %-32s %12s  (fringe: %d .. %d)" % (key, e["text"], lo, hi))
def iface(d, n): return next(i for i in d["stats"]["interfaces"] if i["name"] == n)
def rule(d, n): return next(x for x in d["policy"]["rules"] if x["name"] == n)
def dev(d, n): return next(x for x in d["stats"]["devices"] if x["name"] == n)
check("iface:%s:pass:packets" % ifname, iface(before, ifname)["verdicts"]["pass"]["packets"], iface(after, ifname)["verdicts"]["pass"]["packets"])
check("rule:icmp:packets", rule(before, "icmp")["packets"], rule(after, "icmp")["packets"])
check("app:mqtt:packets", before["stats"]["apps"]["mqtt"]["packets"], after["stats"]["apps"]["mqtt"]["packets"])
check("device:sensor1:packets", dev(before, "sensor1")["packets"], dev(after, "sensor1")["packets"])
check("iface:%s:spoofed" % scan_if, iface(before, scan_if)["spoofed"], iface(after, scan_if)["spoofed"])
# The scanner's 7 packets claimed sensor1's address: sensor1 is flagged, sensor2 is not.
check("device:sensor1:spoofed", dev(before, "sensor1")["spoofed"], dev(after, "sensor1")["spoofed"])
check("device:sensor2:spoofed", dev(before, "sensor2")["spoofed"], dev(after, "sensor2")["spoofed"])
if dev(after, "sensor1")["spoofed"] != 7 or dev(after, "sensor2")["spoofed"] != 0:
    bad.append("fringe counts %d spoofed for sensor1, %d for sensor2; want 7, 0" %
               (dev(after, "sensor1")["spoofed"], dev(after, "sensor2")["spoofed"]))
if "flag:device:sensor1" not in dom:
    bad.append("sensor1, whose address the scanner claimed, is not flagged")
if "flag:device:sensor2" in dom:
    bad.append("sensor2 is flagged, though nobody claimed its address")
if iface(after, ifname)["verdicts"]["pass"]["packets"] <= iface(before, ifname)["verdicts"]["pass"]["packets"]:
    bad.append("no live traffic between the two snapshots")
if "spoofed:%s" % scan_if not in dom:
    bad.append("spoofing on %s is not flagged" % scan_if)
rate = dom.get("rule:icmp:rate", {}).get("text", "–")
try:
    if not 10 <= float(rate.replace(",", "")) <= 40:   # sensor1 at 20/s, sensor2 at 5/s
        bad.append("rule icmp shows %s packets/s, want about 25" % rate)
except ValueError:
    bad.append("rule icmp shows no rate: '%s'" % rate)
print("  rule:icmp:rate %s/s" % rate)
others = [u for u in r["requests"] if not (u == origin or u.startswith(origin + "/"))]
if others: bad.append("requests to another origin: %s" % others)
failed = [x for x in r["responses"] if x[1] != 200]
if failed: bad.append("answers other than 200: %s" % failed)
if r["console"]: bad.append("console: %s" % r["console"])
print("  %d requests, all to %s; console clean" % (len(r["requests"]), origin))
ph = r["phone"]
if ph["page"] > ph["viewport"] or ph["columns"] != 1:
    bad.append("on a phone: page %dpx wide in a %dpx viewport, %d columns" % (ph["page"], ph["viewport"], ph["columns"]))
print("  phone: %dpx page in a %dpx viewport, %d column" % (ph["page"], ph["viewport"], ph["columns"]))
for b in bad: print("FAIL: " + b)
sys.exit(1 if bad else 0)
EOF
[ -s "$OUT/dashboard.png" ] && [ -s "$OUT/dashboard-phone.png" ] || fail "no screenshots in $OUT"
info "ok: screenshots $OUT/dashboard.png, $OUT/dashboard-phone.png"

step "a renewed certificate is served without a restart; a broken renewal keeps the one in force"
# served_fp: the SHA-256 fingerprint of the certificate the listener presents now.
served_fp() {
	echo | nsx gw timeout 5 openssl s_client -connect "127.0.0.1:$PORT" 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
cert_fp() { openssl x509 -in "$1" -noout -fingerprint -sha256; }
OLD_FP=$(cert_fp "$ETC/server.pem")
[ "$(served_fp)" = "$OLD_FP" ] || fail "the listener does not present server.pem"
mkdir "$ETC/renew"
test_certs "$ETC/renew"
# The renewal a tool writes: a new key and certificate, signed by the same CA, renamed in.
openssl x509 -req -in "$ETC/renew/server.csr" -CA "$ETC/ca.pem" -CAkey "$ETC/ca.key" -CAcreateserial \
	-days 2 -extfile "$ETC/renew/ext.cnf" -out "$ETC/renew/server.pem" 2>/dev/null || fail "cannot sign the renewal"
NEW_FP=$(cert_fp "$ETC/renew/server.pem")
cp "$ETC/renew/server.key" "$ETC/server.key.new" && mv "$ETC/server.key.new" "$ETC/server.key"
cp "$ETC/renew/server.pem" "$ETC/server.pem.new" && mv "$ETC/server.pem.new" "$ETC/server.pem"
_renewed() { [ "$(served_fp)" = "$NEW_FP" ]; }
wait_until 10 _renewed || fail "the renewed certificate is not served: $(served_fp); $(tail -n 5 "$TMPD/daemon.log")"
[ "$(code /metrics -u "$USER1:$PASS1")" = 200 ] || fail "no answer with the renewed certificate"
grep -q "level=info loaded TLS certificate $ETC/server.pem" "$TMPD/daemon.log" || fail "no reload line in the log"
# A broken renewal: a key that does not belong to the certificate.
cp "$ETC/other.key" "$ETC/server.key.new" && mv "$ETC/server.key.new" "$ETC/server.key"
wait_until 10 grep -q "level=error TLS certificate $ETC/server.pem not reloaded" "$TMPD/daemon.log" ||
	fail "the mismatched key was not refused: $(tail -n 5 "$TMPD/daemon.log")"
[ "$(served_fp)" = "$NEW_FP" ] || fail "a broken renewal changed the served certificate"
[ "$(code /metrics -u "$USER1:$PASS1")" = 200 ] || fail "a broken renewal broke the listener"
info "ok: $OLD_FP -> $NEW_FP without a restart; a mismatched key left it in force"

step "a listener beyond loopback without auth: a warning at start"
kill -TERM "$DPID"
wait "$DPID" || fail "the daemon did not stop cleanly"
sed "s|^metrics .*|metrics 0.0.0.0:$PORT|" "$CONF" >"$ETC/open.conf"
ns_bg gw "$TMPD/daemon2.log" "$FRINGE" daemon --config "$ETC/open.conf"
DPID=$BG_PID
wait_until 20 grep -q 'serving on http://0.0.0.0' "$TMPD/daemon2.log" || fail "the second daemon did not start: $(tail "$TMPD/daemon2.log")"
grep -q "level=warn the listener on 0.0.0.0:$PORT is reachable beyond this host and has no 'auth FILE'" "$TMPD/daemon2.log" ||
	fail "no warning: $(cat "$TMPD/daemon2.log")"
grep -q 'level=warn the listener' "$TMPD/daemon.log" && fail "the loopback listener with auth warned"
kill -TERM "$DPID"
wait "$DPID" || fail "the second daemon did not stop cleanly"
# The errors expected: the broken users file, the broken renewal.
ERRS=$(grep 'level=error' "$TMPD/daemon.log" | grep -v "$ETC/users\|$ETC/server.pem\|certificate .* with key" || true)
[ -z "$ERRS" ] || fail "errors in the daemon's log: $ERRS"
harness_done
