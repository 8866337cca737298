#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: `fringe daemon` in the gateway namespace serves valid metrics to a real Prometheus, reloads on file changes and SIGHUP, survives kill -9 under traffic without losing a packet.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/gateway.sh"
. "$ROOT/scripts/lib/fringe.sh"

require_root
require_cmd ip ping curl ss timeout promtool prometheus etcd etcdctl "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

PORT=9650		# the daemon's metrics, on 127.0.0.1 inside gw
PROM_PORT=9091		# Prometheus, on 127.0.0.1 inside gw
SFLOW_PORT=6343		# an sFlow collector, on 127.0.0.1 inside gw
ETCD_PORT=2379		# one etcd member, on 127.0.0.1 inside gw: the daemon is a cluster member
PINGS=20
KILL_PINGS=600		# at 10 ms: six seconds of traffic across the kill -9

harness_tmpdir
ETC=$TMPD/etc		# plain directory: editors' rename and in-place writes
CM=$TMPD/configmap	# laid out like a Kubernetes ConfigMap volume
mkdir -p "$ETC" "$CM"
CONF=$ETC/fringe.conf
POL=$ETC/gateway.policy

# write_policy FILE EXTRA_RULE: the test policy, plus one rule.
write_policy() {
	cat >"$1" <<EOF
# test_daemon policy
device sensor1 mac $SENSOR1_MAC ip $SENSOR1_IP
rule no-telnet proto tcp dport 23 drop
rule icmp proto icmp allow sample 1/1
$2
default allow
EOF
}

# replace FILE: move FILE.new over FILE, as editors and config tools do.
replace() { mv -f "$1.new" "$1"; }

scrape() { nsx gw curl -sf -m 5 "http://127.0.0.1:$PORT/metrics"; }
# mval FILE SERIES: the value of one series (name and labels, exactly) in a scrape.
mval() { awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) exit 1 }' "$1"; }
# metric SERIES: its value now (fails when the daemon does not answer).
metric() {
	scrape >"$TMPD/scrape" || return 1
	mval "$TMPD/scrape" "$1"
}
# wait_metric SECONDS SERIES OP VALUE: until the series compares (-gt, -eq, ...) true.
_metric_cmp() { local v; v=$(metric "$1") && test "${v%.*}" "$2" "$3"; }
wait_metric() { wait_until "$1" _metric_cmp "$2" "$3" "$4"; }

sflow_flows() { awk '{ n += $1 } END { print n + 0 }' "$TMPD/sflow.log"; }
_sflow_at_least() { [ "$(sflow_flows)" -ge "$1" ]; }
prog_id() { ip -n "$GW_NS" -d link show dev "$1" | grep -o 'prog/xdp id [0-9]*' | awk '{print $3}'; }
has_prog() { [ -n "$(prog_id "$1")" ]; }

# start_daemon LOG: run the daemon in gw (its own PID in DPID), wait until it serves.
start_daemon() {
	ns_bg gw "$1" "$FRINGE" daemon --config "$CONF"
	DPID=$BG_PID
	wait_until 20 scrape || fail "the daemon does not serve metrics: $(tail -n 20 "$1")"
}

# prom_query EXPR: the first value of an instant query on the test's Prometheus ("" when none).
prom_query() {
	nsx gw "$PYTHON" - "$PROM_PORT" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?query=%s" % (sys.argv[1], urllib.parse.quote(sys.argv[2]))
d = json.load(urllib.request.urlopen(url, timeout=5))
r = d["data"]["result"]
print(r[0]["value"][1] if r else "")
EOF
}
_prom_eq() { [ "$(prom_query "$1" 2>/dev/null)" = "$2" ]; }
_prom_nonempty() { [ -n "$(prom_query "$1" 2>/dev/null)" ]; }

step "topology, pin dir, config"
gw_topology_up
FR_NS=$GW_NS
gw_topology_check
pin_mount
write_policy "$POL" ""
cat >"$CONF" <<EOF
# test_daemon: fringe on the sensors' side of the gateway
interface $GW_IF_SENSOR1 mode native
interface $GW_IF_SENSOR2 mode native
interface late0 mode generic   # created later in the test
policy gateway.policy          # relative: next to this file
nodes gateway.nodes            # an overlay toward the cloud's side (no traffic; its series exist)
cluster etcd http://127.0.0.1:$ETCD_PORT ttl 5   # watches the records (plain HTTP: loopback)
metrics 127.0.0.1:$PORT
sflow 127.0.0.1:$SFLOW_PORT   # every echo request is sampled (sample 1/1)
pin-dir $PIN
EOF
cat >"$ETC/gateway.nodes" <<EOF
self gw
node gw underlay $GW_UPLINK_IP prefix 10.201.1.0/24
node cloud underlay $CLOUD_IP mac $CLOUD_MAC prefix 10.201.2.0/24
EOF
info "gw=$GW_NS pin=$PIN config=$CONF"

step "--check: a good config passes, a broken one is refused with located errors"
fr_ok daemon --config "$CONF" --check
printf 'interface gw-s1 mode turbo\nmetrics 127.0.0.1\npolicy\n' >"$TMPD/bad.conf"
expect_fail 1 "broken config" daemon --config "$TMPD/bad.conf"
for want in "$TMPD/bad.conf:1:22: error: " "$TMPD/bad.conf:2:9: error: " "$TMPD/bad.conf:3:7: error: "; do
	grep -qF "$want" "$TMPD/err" || fail "no '$want...' in: $(cat "$TMPD/err")"
done
expect_fail 2 "daemon without --config" daemon

step "one etcd member on gw's loopback, with a peer's record"
ns_bg gw "$TMPD/etcd.log" timeout 280 etcd --name e1 --data-dir "$TMPD/etcd.data" \
	--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
	--listen-peer-urls http://127.0.0.1:$((ETCD_PORT + 1)) --initial-advertise-peer-urls http://127.0.0.1:$((ETCD_PORT + 1)) \
	--initial-cluster "e1=http://127.0.0.1:$((ETCD_PORT + 1))" --logger zap --log-outputs stderr --log-level warn
ectl() { nsx gw env ETCDCTL_API=3 timeout 10 etcdctl --endpoints "http://127.0.0.1:$ETCD_PORT" --dial-timeout 2s "$@"; }
wait_until 20 ectl endpoint health >/dev/null 2>&1 || fail "etcd did not start: $(tail -n 5 "$TMPD/etcd.log")"
# A node that runs fringe elsewhere (no traffic goes to it): the daemon loads it beside the nodes file.
ectl put /fringe/nodes/edge '{"name":"edge","underlay":"10.77.100.20","mac":"02:00:00:00:00:ed","prefixes":["10.201.3.0/24"]}' >/dev/null ||
	fail "cannot put the peer's record"

step "an sFlow collector on gw's loopback"
# One line per sFlow v5 datagram: its flow samples and counter samples.
ns_bg gw "$TMPD/sflow.log" timeout 250 "$PYTHON" -u -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    d = s.recv(65535)
    version, atype = struct.unpack("!II", d[:8])
    if version != 5:
        continue
    off = 8 + (4 if atype == 1 else 16) + 12
    n, = struct.unpack("!I", d[off:off + 4])
    off += 4
    kinds = {1: 0, 2: 0}
    for _ in range(n):
        fmt, length = struct.unpack("!II", d[off:off + 8])
        kinds[fmt & 0xfff] = kinds.get(fmt & 0xfff, 0) + 1
        off += 8 + length
    print(kinds[1], kinds[2])
' "$SFLOW_PORT"
wait_listen gw udp 127.0.0.1 "$SFLOW_PORT" || fail "the sFlow collector did not start"

step "start: attaches, loads, serves on 127.0.0.1:$PORT"
start_daemon "$TMPD/daemon1.log"
for i in $GW_IF_SENSOR1 $GW_IF_SENSOR2; do
	[ -n "$(prog_id "$i")" ] || fail "the daemon did not attach to $i"
done
ID1=$(prog_id "$GW_IF_SENSOR1")
GEN=$(metric fringe_policy_generation) || fail "no fringe_policy_generation"
[ "$GEN" -ge 1 ] || fail "no policy loaded (generation $GEN)"
nsx gw ss -Hltn "sport = :$PORT" | grep -q "127.0.0.1:$PORT" || fail "not listening on 127.0.0.1:$PORT"
grep -q 'level=info .*loaded policy' "$TMPD/daemon1.log" || fail "no 'level=info ... loaded policy' log line"
info "program id on $GW_IF_SENSOR1: $ID1, generation $GEN"
wait_metric 10 fringe_cluster_up -eq 1 || fail "the daemon is not in touch with etcd: $(grep cluster "$TMPD/daemon1.log" | tail -n 3)"
wait_metric 10 fringe_cluster_nodes -eq 3 || fail "the node table is not gw, cloud (file) and edge (etcd): $(metric fringe_cluster_nodes)"
info "ok: cluster up, 3 nodes (edge from etcd)"

step "an interface that appears later is attached"
grep -q "interface 'late0' does not exist; attaching when it appears" "$TMPD/daemon1.log" ||
	fail "no log line about the missing interface late0"
ip -n "$GW_NS" link add late0 type veth peer name late1
ip -n "$GW_NS" link set late0 up
ip -n "$GW_NS" link set late1 up
wait_until 10 has_prog late0 || fail "late0 was not attached after it appeared"
grep -q "attached to 'late0' (generic mode" "$TMPD/daemon1.log" || fail "no attach log line for late0"
wait_until 5 metric 'fringe_packets_total{interface="late0",verdict="pass"}' ||
	fail "no series for late0 in the metrics"

step "promtool check metrics"
scrape >"$TMPD/m0.txt" || fail "scrape failed"
promtool check metrics <"$TMPD/m0.txt" >"$TMPD/promtool.out" 2>&1 ||
	fail "promtool check metrics: $(cat "$TMPD/promtool.out")"
for fam in fringe_packets_total fringe_bytes_total fringe_drops_total fringe_rule_packets_total \
	fringe_rule_bytes_total fringe_policy_generation fringe_policy_rules \
	fringe_policy_load_timestamp_seconds fringe_policy_load_failures_total fringe_map_entries \
	fringe_map_max_entries fringe_build_info fringe_bpf_run_time_seconds_total \
	fringe_bpf_run_count_total; do
	grep -q "^# TYPE $fam " "$TMPD/m0.txt" || fail "family $fam missing"
done
info "ok: $(grep -c '^# TYPE' "$TMPD/m0.txt") families, $(grep -vc '^#' "$TMPD/m0.txt") series"

step "HTTP: the dashboard at /, 404 elsewhere, 405 for other methods, HEAD"
[ "$(nsx gw curl -s -o "$TMPD/index.html" -w '%{http_code}' "http://127.0.0.1:$PORT/")" = 200 ] || fail "/ is not 200"
grep -q '<script src="/app.js"' "$TMPD/index.html" || fail "/ is not the dashboard: $(head -c 300 "$TMPD/index.html")"
[ "$(nsx gw curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metricsx")" = 404 ] || fail "/metricsx is not 404"
[ "$(nsx gw curl -s -o /dev/null -w '%{http_code}' -X POST -d x "http://127.0.0.1:$PORT/metrics")" = 405 ] ||
	fail "POST is not 405"
[ "$(nsx gw curl -s -o /dev/null -w '%{http_code}' -I "http://127.0.0.1:$PORT/metrics")" = 200 ] || fail "HEAD is not 200"
nsx gw curl -sI "http://127.0.0.1:$PORT/metrics" | grep -qi '^content-type: text/plain; version=0.0.4' ||
	fail "no Prometheus text content type"

step "a real Prometheus scrapes the daemon"
cat >"$TMPD/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: fringe
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF
ns_bg gw "$TMPD/prometheus.log" prometheus --config.file="$TMPD/prometheus.yml" \
	--storage.tsdb.path="$TMPD/prometheus-data" --web.listen-address="127.0.0.1:$PROM_PORT" \
	--log.level=warn
wait_until 30 _prom_eq 'up{job="fringe"}' 1 ||
	fail "Prometheus does not scrape fringe: $(tail -n 5 "$TMPD/prometheus.log")"

ICMP0=$(metric 'fringe_rule_packets_total{rule="icmp"}')
PASS0=$(metric "fringe_packets_total{interface=\"$GW_IF_SENSOR1\",verdict=\"pass\"}")
timeout 30 ip netns exec "$SENSOR1_NS" ping -c "$PINGS" -i 0.05 -W 2 "$CLOUD_IP" >/dev/null ||
	fail "ping sensor1 -> cloud failed under the daemon's policy"
ICMP1=$(metric 'fringe_rule_packets_total{rule="icmp"}')
PASS1=$(metric "fringe_packets_total{interface=\"$GW_IF_SENSOR1\",verdict=\"pass\"}")
[ $((ICMP1 - ICMP0)) -eq "$PINGS" ] || fail "rule icmp counted $((ICMP1 - ICMP0)) packets, want $PINGS"
[ $((PASS1 - PASS0)) -ge "$PINGS" ] || fail "pass counted $((PASS1 - PASS0)) packets, want >= $PINGS"
wait_until 15 _prom_eq 'fringe_rule_packets_total{rule="icmp"}' "$ICMP1" ||
	fail "Prometheus has rule icmp at '$(prom_query 'fringe_rule_packets_total{rule="icmp"}')', want $ICMP1"
PROM_PASS=$(prom_query "fringe_packets_total{interface=\"$GW_IF_SENSOR1\",verdict=\"pass\"}")
[ "${PROM_PASS:-0}" -ge "$PASS1" ] || fail "Prometheus has fringe_packets_total $PROM_PASS, want >= $PASS1"
info "ok: $PINGS pings; Prometheus: fringe_rule_packets_total{rule=\"icmp\"} $ICMP1, fringe_packets_total{pass} $PROM_PASS"
wait_until 5 test -s "$TMPD/sflow.log" || fail "no sFlow datagram reached the collector"
wait_until 5 _sflow_at_least "$PINGS" || fail "the collector got $(sflow_flows) sFlow flow samples, want $PINGS"
SAMPLES=$(sflow_flows)
[ "$SAMPLES" -eq "$PINGS" ] || fail "the collector got $SAMPLES sFlow flow samples, want $PINGS (sample 1/1)"
grep -q "exporting samples as sFlow to 127.0.0.1:$SFLOW_PORT" "$TMPD/daemon1.log" || fail "no sFlow start line"
info "ok: sFlow: $(wc -l <"$TMPD/sflow.log") datagrams, $SAMPLES flow samples"
RUNS=$(metric "fringe_bpf_run_count_total{interface=\"$GW_IF_SENSOR1\",program=\"fringe_xdp_ingress\"}") ||
	fail "no fringe_bpf_run_count_total for $GW_IF_SENSOR1"
[ "$RUNS" -ge "$PINGS" ] || fail "fringe_bpf_run_count_total is $RUNS, want >= $PINGS (BPF stats not on?)"
info "ok: kernel BPF stats: $RUNS runs on $GW_IF_SENSOR1"

step "the Grafana dashboard: every query returns series from this Prometheus (a policy staged meanwhile)"
# deploy/grafana/fringe.json: each panel's PromQL, on families the daemon exports.
# A staged policy that would drop the pings: it only counts (the pings pass), and
# its families exist while it is staged.
printf 'rule no-icmp proto icmp drop\ndefault allow\n' >"$ETC/staged.policy"
fr_ok policy stage "$ETC/staged.policy"
# The staged rules' series appear with the stage: once Prometheus has them,
# the pings make their rate (a first sample alone has none).
wait_until 10 _prom_nonempty 'fringe_staged_rule_packets_total{rule="no-icmp"}' ||
	fail "Prometheus has no series of the staged policy's rules"
timeout 30 ip netns exec "$SENSOR1_NS" ping -c 5 -i 0.3 -W 2 "$CLOUD_IP" >/dev/null ||
	fail "a ping failed while a policy was staged (the staged policy decided?)"
wait_until 10 _prom_nonempty 'rate(fringe_staged_rule_packets_total{rule="no-icmp"}[1m]) > 0' ||
	fail "Prometheus has no rate of the staged rule's packets"
wait_until 10 _prom_nonempty 'rate(fringe_staged_changes_total{from="allow",to="drop"}[1m]) > 0' ||
	fail "Prometheus has no rate of verdicts the staged policy would change"
scrape >"$TMPD/m1.txt" || fail "scrape failed"
wait_until 10 _prom_nonempty 'rate(fringe_device_packets_total[1m]) > 0' ||
	fail "Prometheus has no device traffic rate yet"
nsx gw "$PYTHON" "$ROOT/scripts/lib/grafana_check.py" "$ROOT/deploy/grafana/fringe.json" \
	"http://127.0.0.1:$PROM_PORT" "$TMPD/m1.txt" >"$TMPD/grafana.out" 2>&1 ||
	fail "Grafana dashboard queries: $(grep -v '^ok' "$TMPD/grafana.out")"
info "ok: $(tail -n 1 "$TMPD/grafana.out")"
fr_ok policy unstage

step "another fringe command works while the daemon runs (the pin-dir lock is free)"
fr_ok policy load "$POL"
grep -q "a fringe daemon (pid $DPID) manages $PIN" "$TMPD/err" ||
	fail "policy load under a running daemon did not say the daemon manages the pin dir: $(cat "$TMPD/err")"
GEN=$(metric fringe_policy_generation)

step "a second daemon on the same pin dir refuses to start, naming the first"
sed "s/^metrics .*/metrics 127.0.0.1:$((PORT + 1))/" "$CONF" >"$ETC/second.conf"
RC=0
ip netns exec "$GW_NS" timeout 20 "$FRINGE" daemon --config "$ETC/second.conf" >"$TMPD/second.log" 2>&1 || RC=$?
[ "$RC" -eq 1 ] || fail "a second daemon on $PIN exited $RC, want 1: $(tail -n 5 "$TMPD/second.log")"
grep -q "another fringe daemon (pid $DPID) holds pin dir $PIN" "$TMPD/second.log" ||
	fail "the second daemon did not name the first: $(tail -n 5 "$TMPD/second.log")"
scrape >/dev/null || fail "the first daemon stopped serving"

step "a FIFO at the policy path: refused and logged, the daemon keeps serving"
FAIL0=$(metric fringe_policy_load_failures_total)
mkfifo "$POL.new"
replace "$POL"
wait_metric 10 fringe_policy_load_failures_total -gt "$FAIL0" || fail "a FIFO policy was not refused (the daemon hangs?)"
wait_until 5 grep -q "cannot read policy $POL: not a regular file" "$TMPD/daemon1.log" ||
	fail "no clear error for a FIFO: $(tail -n 3 "$TMPD/daemon1.log")"
[ "$(metric fringe_policy_generation)" -eq "$GEN" ] || fail "a FIFO changed the generation"
write_policy "$POL.new" ""
replace "$POL"
wait_metric 10 fringe_policy_generation -gt "$GEN" || fail "the policy was not loaded after the FIFO"
GEN=$(metric fringe_policy_generation)

step "edit: replace the policy by rename -> the generation rises"
write_policy "$POL.new" "rule udp-5000 proto udp dport 5000 allow"
replace "$POL"
wait_metric 10 fringe_policy_generation -gt "$GEN" || fail "generation stayed $GEN after a rename"
GEN=$(metric fringe_policy_generation)
[ "$(metric fringe_policy_rules)" -eq 3 ] || fail "fringe_policy_rules is not 3 after the edit"
info "ok: generation $GEN, 3 rules"

step "edit in place (truncate and write) -> the generation rises"
write_policy "$TMPD/p.tmp" "rule udp-5001 proto udp dport 5001 allow"
cat "$TMPD/p.tmp" >"$POL"
wait_metric 10 fringe_policy_generation -gt "$GEN" || fail "generation stayed $GEN after an in-place write"
GEN=$(metric fringe_policy_generation)

step "a broken edit: load_failures rises, the old policy stays in force"
FAIL0=$(metric fringe_policy_load_failures_total)
TEL0=$(metric 'fringe_rule_packets_total{rule="no-telnet"}')
printf 'rule no-telnet proto tcpx dport 23 drop\nrule icmp proto icmp allow\ndefault maybe\n' >"$POL.new"
replace "$POL"
wait_metric 10 fringe_policy_load_failures_total -gt "$FAIL0" || fail "load failures stayed $FAIL0"
[ "$(metric fringe_policy_generation)" -eq "$GEN" ] || fail "a broken file changed the generation"
wait_until 5 grep -qF "$POL:1:22: error: " "$TMPD/daemon1.log" ||
	fail "the daemon did not log the error as FILE:LINE:COL: $(tail -n 5 "$TMPD/daemon1.log")"
grep -qF "$POL:3:9: error: " "$TMPD/daemon1.log" || fail "the daemon did not log every error"
ns_bg cloud "$TMPD/telnet.log" timeout 60 nc -lk "$CLOUD_IP" 23
wait_listen cloud tcp "$CLOUD_IP" 23 || fail "telnet listener did not start"
if echo x | timeout 10 ip netns exec "$SENSOR1_NS" nc -N -w 2 "$CLOUD_IP" 23 >/dev/null 2>&1; then
	fail "telnet connected: the old policy is not in force"
fi
[ "$(metric 'fringe_rule_packets_total{rule="no-telnet"}')" -gt "$TEL0" ] ||
	fail "rule no-telnet of the old policy did not count"
info "ok: failures $FAIL0 -> $(metric fringe_policy_load_failures_total), generation $GEN kept, telnet still dropped"

step "SIGHUP reloads (a fixed file)"
write_policy "$POL.new" ""
replace "$POL"
wait_metric 10 fringe_policy_generation -gt "$GEN" || fail "the fixed file was not loaded"
GEN=$(metric fringe_policy_generation)
kill -HUP "$DPID"
wait_metric 10 fringe_policy_generation -gt "$GEN" || fail "SIGHUP did not reload"
GEN=$(metric fringe_policy_generation)
grep -q 'level=info SIGHUP' "$TMPD/daemon1.log" || fail "no SIGHUP log line"

step "a ConfigMap-style ..data symlink swap (config re-read, then the policy changes)"
mkdir "$CM/..2026_01"
write_policy "$CM/..2026_01/gateway.policy" "rule cm-v1 proto udp dport 6001 allow"
ln -s ..2026_01 "$CM/..data"
ln -s ..data/gateway.policy "$CM/gateway.policy"
sed "s|^policy .*|policy $CM/gateway.policy|" "$CONF" >"$CONF.new"
replace "$CONF"
wait_metric 10 fringe_policy_generation -gt "$GEN" || fail "the config's new policy path was not loaded"
GEN=$(metric fringe_policy_generation)
grep -q "re-read config" "$TMPD/daemon1.log" || fail "no 're-read config' log line"
# What kubelet does: a new timestamped directory, a new ..data link renamed over the old one.
mkdir "$CM/..2026_02"
write_policy "$CM/..2026_02/gateway.policy" "rule cm-v2 proto udp dport 6002 allow
rule cm-v2b proto udp dport 6003 allow"
ln -s ..2026_02 "$CM/..data_tmp"
mv -T "$CM/..data_tmp" "$CM/..data"
rm -rf "$CM/..2026_01"
wait_metric 10 fringe_policy_generation -gt "$GEN" || fail "the ..data swap was not noticed"
GEN=$(metric fringe_policy_generation)
[ "$(metric fringe_policy_rules)" -eq 4 ] || fail "the swapped-in policy is not in force"
metric 'fringe_rule_packets_total{rule="cm-v2b"}' >/dev/null || fail "no series for the new rule cm-v2b"
info "ok: generation $GEN after the ..data swap"

step "kill -9 under traffic: nothing lost, nothing reset, still attached"
ICMP0=$(metric 'fringe_rule_packets_total{rule="icmp"}')
ns_bg sensor1 "$TMPD/ping.log" timeout 60 ping -c "$KILL_PINGS" -i 0.01 -W 2 "$CLOUD_IP"
PING_PID=$BG_PID
sleep 1.5
V1=$(metric 'fringe_rule_packets_total{rule="icmp"}')
kill -KILL "$DPID"
SF1=$(sflow_flows)
wait "$DPID" 2>/dev/null || true
[ "$(prog_id "$GW_IF_SENSOR1")" = "$ID1" ] || fail "after kill -9, $GW_IF_SENSOR1 runs '$(prog_id "$GW_IF_SENSOR1")', want $ID1"
sleep 1
# No controller now: the data plane judges and counts on its own.
fr_ok metrics
V2=$(mval "$TMPD/out" 'fringe_rule_packets_total{rule="icmp"}')
[ "$V2" -gt "$V1" ] || fail "with the daemon dead the counter did not move ($V1 -> $V2)"
start_daemon "$TMPD/daemon2.log"
V3=$(metric 'fringe_rule_packets_total{rule="icmp"}')
[ "$V3" -ge "$V2" ] || fail "the new daemon's counter went back: $V2 -> $V3"
grep -q "adopted '$GW_IF_SENSOR1'" "$TMPD/daemon2.log" || fail "the new daemon did not adopt $GW_IF_SENSOR1"
[ "$(prog_id "$GW_IF_SENSOR1")" = "$ID1" ] || fail "the new daemon re-attached $GW_IF_SENSOR1"
wait "$PING_PID" || fail "ping across the kill -9 failed: $(tail -n 3 "$TMPD/ping.log")"
wait_until 5 _sflow_at_least $((SF1 + 50)) ||
	fail "the new daemon did not export samples: $SF1 flow samples at the kill, $(sflow_flows) now"
grep -q " $KILL_PINGS received, 0% packet loss" "$TMPD/ping.log" ||
	fail "packets were lost across the kill -9: $(grep transmitted "$TMPD/ping.log")"
ICMP1=$(metric 'fringe_rule_packets_total{rule="icmp"}')
[ $((ICMP1 - ICMP0)) -eq "$KILL_PINGS" ] ||
	fail "rule icmp judged $((ICMP1 - ICMP0)) of $KILL_PINGS echo requests"
info "ok: $KILL_PINGS/$KILL_PINGS replies; icmp $ICMP0 -> $V1 (kill) -> $V2 (no daemon) -> $V3 (new daemon) -> $ICMP1"
wait_until 15 _prom_eq 'fringe_rule_packets_total{rule="icmp"}' "$ICMP1" || fail "Prometheus did not follow the new daemon"
RESETS=$(prom_query 'resets(fringe_rule_packets_total{rule="icmp"}[10m])')
[ "$RESETS" = 0 ] || fail "Prometheus saw $RESETS counter resets across the restart"
info "ok: Prometheus saw no reset across the restart"

step "SIGTERM: clean exit, the data plane stays"
kill -TERM "$DPID"
RC=0
wait "$DPID" || RC=$?
[ "$RC" -eq 0 ] || fail "the daemon exited $RC on SIGTERM"
grep -q 'stays attached' "$TMPD/daemon2.log" || fail "no clean stop line"
[ "$(prog_id "$GW_IF_SENSOR1")" = "$ID1" ] || fail "SIGTERM detached $GW_IF_SENSOR1"
timeout 10 ip netns exec "$SENSOR1_NS" ping -c 3 -i 0.1 -W 2 "$CLOUD_IP" >/dev/null || fail "ping after SIGTERM failed"
fr_ok metrics
[ "$(mval "$TMPD/out" 'fringe_rule_packets_total{rule="icmp"}')" -eq $((ICMP1 + 3)) ] ||
	fail "after SIGTERM the data plane did not count"
if grep -q 'level=error' "$TMPD/daemon2.log"; then
	fail "errors in the second daemon's log: $(grep 'level=error' "$TMPD/daemon2.log" | head -3)"
fi

step "done"
harness_done
