#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: `sample 1/N` on live traffic to pcap (read back by tcpdump) and to sFlow (decoded by tshark); the flow table.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/gateway.sh"
. "$ROOT/scripts/lib/fringe.sh"

require_root
require_cmd ip ping tcpdump tshark sfacctd timeout "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

RATE=10			# sample 1/RATE
BURST=3000		# datagrams per blast
PAYLOAD=500		# UDP payload bytes: frames of 14 + 20 + 8 + 500
FRAME=$((14 + 20 + 8 + PAYLOAD))
SFLOW_PORT=6343		# the collector listens on gw's loopback
SPORT_S=40700		# UDP port of the sampled rule (no dissector claims it)
SPORT_P=40701		# UDP port of a rule that does not sample
SRC_S=$((SPORT_S + 1000))	# blast's source port towards SPORT_S

harness_tmpdir
POL=$TMPD/sample.policy
cat >"$POL" <<EOF
# test_sample policy
rule sampled proto udp dport $SPORT_S allow sample 1/$RATE
rule plain proto udp dport $SPORT_P allow
rule icmp proto icmp allow
default allow
EOF

# blast PORT COUNT: COUNT datagrams of PAYLOAD bytes from sensor1 to cloud:PORT, one socket.
blast() {
	timeout 60 ip netns exec "$SENSOR1_NS" "$PYTHON" - "$CLOUD_IP" "$1" "$2" "$PAYLOAD" <<'EOF' ||
import socket, sys, time
dst, port, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", port + 1000))
data = b"fringe-sample-test".ljust(size, b".")
for i in range(count):
    s.sendto(data, (dst, port))
    if i % 64 == 63:
        time.sleep(0.001)   # let the veth drain: the pool counts what reached XDP anyway
EOF
		fail "blast to port $1 failed"
}

# rule_packets NAME: the rule's packet counter (its sample pool).
rule_packets() {
	fr_json "$TMPD/show.json" policy show --json
	q "$TMPD/show.json" "rule(\"$1\")[\"packets\"]"
}

# interval MEAN_NUM DEN: 5-sigma bounds of Binomial(MEAN_NUM, 1/DEN) as "LO HI".
interval() {
	"$PYTHON" -c 'import math,sys; m=int(sys.argv[1]); p=1/int(sys.argv[2]); mu=m*p; sd=math.sqrt(m*p*(1-p)); print(max(0, math.floor(mu-5*sd)), math.ceil(mu+5*sd))' "$1" "$2"
}

# sample_start LOG ARGS...: `fringe sample ARGS` in gw, in the background, until it says it
# samples. ARGS bound it in time (--duration); SAMPLE_PID is fringe's own PID.
sample_start() {
	local log=$1; shift
	ns_bg gw "$log" "$FRINGE" --pin-dir "$PIN" sample "$@"
	SAMPLE_PID=$BG_PID
	wait_until 10 grep -q '^sampling' "$log" || fail "fringe sample $* did not start: $(cat "$log")"
}

# sample_stop: SIGINT, as Ctrl-C; it must exit 0 with its summary.
sample_stop() {
	local rc=0
	kill -INT "$SAMPLE_PID" 2>/dev/null || true
	wait "$SAMPLE_PID" || rc=$?
	[ "$rc" -eq 0 ] || fail "fringe sample exited $rc on SIGINT: $(cat "$1")"
}

step "topology, attach, policy"
gw_topology_up
FR_NS=$GW_NS
gw_topology_check
pin_mount
for i in "$GW_IF_SENSOR1" "$GW_IF_SENSOR2"; do
	fr_ok attach "$i" --mode native
done
fr_ok policy load "$POL"
S1_IFINDEX=$(ip netns exec "$GW_NS" cat "/sys/class/net/$GW_IF_SENSOR1/ifindex")
S2_IFINDEX=$(ip netns exec "$GW_NS" cat "/sys/class/net/$GW_IF_SENSOR2/ifindex")
# Sinks, so the blasts draw no ICMP errors.
ns_bg cloud "$TMPD/sink.log" timeout 250 "$PYTHON" -c '
import select, socket, sys
socks = []
for p in sys.argv[2:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(p))); socks.append(s)
while True:
    for s in select.select(socks, [], [])[0]:
        s.recv(65535)' "$CLOUD_IP" "$SPORT_S" "$SPORT_P"
wait_listen cloud udp "$CLOUD_IP" "$SPORT_P" || fail "sinks did not start"

step "sample --pcap: live traffic, read back by tcpdump"
POOL0=$(rule_packets sampled)
sample_start "$TMPD/pcap.log" --pcap "$TMPD/s.pcap" --duration 100
blast $SPORT_S "$BURST"
blast $SPORT_P "$BURST"
sleep 0.5
sample_stop "$TMPD/pcap.log"
POOL=$(($(rule_packets sampled) - POOL0))
read -r LO HI <<<"$(interval "$POOL" "$RATE")"
tcpdump -nn -e -r "$TMPD/s.pcap" >"$TMPD/pcap.txt" 2>"$TMPD/tcpdump.err" ||
	fail "tcpdump cannot read the pcap: $(cat "$TMPD/tcpdump.err")"
N=$(wc -l <"$TMPD/pcap.txt")
info "pool $POOL packets, $N samples (5-sigma interval $LO..$HI); $(tail -n 1 "$TMPD/pcap.log")"
[ "$POOL" -ge $((BURST * 9 / 10)) ] || fail "rule sampled counted $POOL of $BURST packets"
if [ "$N" -lt "$LO" ] || [ "$N" -gt "$HI" ]; then fail "$N samples of $POOL packets at 1/$RATE: outside $LO..$HI"; fi
# Every sample is sensor1 -> cloud:$SPORT_S with its original length, never port $SPORT_P.
GOOD=$(grep -c "length $FRAME: .*$SENSOR1_IP\.$SRC_S > $CLOUD_IP\.$SPORT_S: UDP" "$TMPD/pcap.txt" || true)
[ "$GOOD" -eq "$N" ] || fail "$((N - GOOD)) samples are not sensor1 -> cloud:$SPORT_S of length $FRAME: $(grep -v "length $FRAME: $SENSOR1_IP" "$TMPD/pcap.txt" | head -n 3)"
grep -q "^$N samples written to $TMPD/s.pcap (data plane: $N taken, 0 lost)" "$TMPD/pcap.log" ||
	fail "summary does not say $N written, $N taken, 0 lost: $(tail -n 1 "$TMPD/pcap.log")"
# tcpdump shows the capture length it got, too.
tcpdump -nn -r "$TMPD/s.pcap" -c 1 -v 2>/dev/null | grep -q "length $((FRAME - 14))" ||
	fail "tcpdump -v does not show the IP length $((FRAME - 14))"

step "sample --count: stops by itself"
ns_bg gw "$TMPD/count.log" "$FRINGE" --pin-dir "$PIN" sample --pcap "$TMPD/c.pcap" --count 5 --duration 60
COUNT_PID=$BG_PID
wait_until 10 grep -q '^sampling' "$TMPD/count.log" || fail "sample --count did not start"
blast $SPORT_S 1000
RC=0
wait_until 10 bash -c "! kill -0 $COUNT_PID 2>/dev/null" || fail "sample --count 5 did not stop"
wait "$COUNT_PID" || RC=$?
[ "$RC" -eq 0 ] || fail "sample --count 5 exited $RC: $(cat "$TMPD/count.log")"
[ "$(tcpdump -nn -r "$TMPD/c.pcap" 2>/dev/null | wc -l)" -eq 5 ] || fail "--count 5 did not write 5 packets"
info "ok: $(tail -n 1 "$TMPD/count.log")"

step "sample --sflow to a collector on gw's loopback: pmacct's sfacctd, and tshark capturing"
# sfacctd prints its flows (renormalized by the sampling) as CSV every second.
cat >"$TMPD/sfacctd.conf" <<EOF
daemonize: false
sfacctd_ip: 127.0.0.1
sfacctd_port: $SFLOW_PORT
sfacctd_renormalize: true
plugins: print[p]
aggregate[p]: src_host, dst_host, src_port, dst_port, proto
print_output[p]: csv
print_refresh_time[p]: 1
EOF
ns_bg gw "$TMPD/sfacctd.log" timeout 120 sfacctd -f "$TMPD/sfacctd.conf"
SFACCTD_PID=$BG_PID
wait_listen gw udp 127.0.0.1 "$SFLOW_PORT" 10 || fail "sfacctd did not start: $(tail -n 5 "$TMPD/sfacctd.log")"
ns_bg gw "$TMPD/tshark.log" timeout 120 tshark -n -i lo -f "udp port $SFLOW_PORT" -w "$TMPD/sflow.pcapng"
TSHARK_PID=$BG_PID
wait_until 20 grep -q "Capturing on" "$TMPD/tshark.log" || fail "tshark did not start: $(cat "$TMPD/tshark.log")"
POOL0=$(rule_packets sampled)
sample_start "$TMPD/sflow.log" --sflow "127.0.0.1:$SFLOW_PORT" --duration 100
blast $SPORT_S "$BURST"
sleep 1
sample_stop "$TMPD/sflow.log"
POOL1=$(rule_packets sampled)
sleep 2.5		# sfacctd prints every second
bg_stop "$TSHARK_PID"
SFACCTD_CORE=$(pgrep -P "$SFACCTD_PID") || fail "no sfacctd under timeout ($SFACCTD_PID)"
bg_stop "$SFACCTD_PID"
# sfacctd's core outlives the SIGTERM timeout passes on: bg_stop must end it too.
for k in $SFACCTD_CORE; do	# each of timeout's children, if ever more than one
	! bg_alive "$k" || fail "sfacctd ($k) outlived bg_stop"
done
POOL=$((POOL1 - POOL0))
read -r LO HI <<<"$(interval "$POOL" "$RATE")"
info "$(tail -n 1 "$TMPD/sflow.log")"
SENT=$(sed -n 's/^\([0-9]*\) samples sent to .*/\1/p' "$TMPD/sflow.log")
[ -n "$SENT" ] || fail "no summary from sample --sflow: $(cat "$TMPD/sflow.log")"

tshark -n -r "$TMPD/sflow.pcapng" -Y sflow -V >"$TMPD/sflow.txt" 2>&1 || fail "tshark -V failed: $(tail -n 3 "$TMPD/sflow.txt")"
if grep -qiE 'malformed|exception occurred' "$TMPD/sflow.txt"; then
	fail "tshark reports malformed sFlow: $(grep -iE -m 3 'malformed|exception' "$TMPD/sflow.txt")"
fi
tshark -n -r "$TMPD/sflow.pcapng" -Y sflow -T fields -E separator=";" -e sflow_245.version \
	-e sflow_245.agent -e sflow.flow_sample.sampling_rate -e sflow.flow_sample.sample_pool \
	-e sflow.flow_sample.input_interface -e sflow_245.header.frame_length \
	-e sflow_245.header.payload_stripped -e sflow_245.header_protocol >"$TMPD/sflow.fields"
"$PYTHON" - "$TMPD/sflow.fields" "$RATE" "$POOL0" "$POOL1" "$S1_IFINDEX" "$((FRAME + 4))" \
	"$GW_SENSOR1_IP" "$SENT" <<'EOF' || fail "sFlow fields as tshark decodes them are wrong"
import sys
path, rate, pool0, pool1, ifindex, flen, agent, sent = sys.argv[1:]
def vals(s):
    return [v for v in s.split(",") if v]
flows = 0
last_pool = 0
distinct = set()
for line in open(path):
    ver, ag, rates, pools, ins, flens, stripped, protos = (line.rstrip("\n").split(";") + [""] * 8)[:8]
    assert ver == "5", f"version {ver}"
    assert ag == agent, f"agent {ag}, want {agent}"
    for r in vals(rates):
        assert r == rate, f"sampling rate {r}, want {rate}"
    for p in vals(pools):
        assert int(pool0) < int(p) <= int(pool1), f"sample pool {p} outside ({pool0}, {pool1}]"
        # each sample's pool is the rule's count when it was taken: never back
        assert int(p) >= last_pool, f"sample pool {p} after {last_pool}"
        last_pool = int(p)
        distinct.add(p)
    for i in vals(ins):
        assert i == ifindex, f"input interface {i}, want {ifindex}"
    for f in vals(flens):
        assert f == flen, f"frame length {f}, want {flen}"
    for s in vals(stripped):
        assert s == "4", f"stripped {s}"
    for p in vals(protos):
        assert p == "1", f"header protocol {p}"
    flows += len(vals(rates))
assert flows == int(sent), f"tshark decoded {flows} flow samples, fringe sent {sent}"
# not one pool for all the samples of a poll (collectors that renormalize by
# pool deltas would read a poll's packets as all before its first sample)
assert len(distinct) * 2 >= flows, f"{len(distinct)} distinct pools in {flows} samples"
print(f"  tshark: {flows} flow samples, rate 1/{rate}, agent {agent}, frame length {flen}")
EOF
if [ "$SENT" -lt "$LO" ] || [ "$SENT" -gt "$HI" ]; then
	fail "$SENT samples of $POOL packets at 1/$RATE: outside $LO..$HI"
fi
# The sampled headers, as tshark dissects them: sensor1 -> cloud:$SPORT_S, nothing else.
HDR_IP=$(grep -c "Internet Protocol Version 4, Src: $SENSOR1_IP, Dst: $CLOUD_IP" "$TMPD/sflow.txt" || true)
HDR_UDP=$(grep -c "User Datagram Protocol, Src Port: $SRC_S, Dst Port: $SPORT_S" "$TMPD/sflow.txt" || true)
[ "$HDR_IP" -eq "$SENT" ] || fail "tshark shows $HDR_IP sampled IP headers sensor1 -> cloud, want $SENT"
[ "$HDR_UDP" -eq "$SENT" ] || fail "tshark shows $HDR_UDP sampled UDP headers to port $SPORT_S, want $SENT"
grep -q "Sampling rate: 1 out of $RATE packets\|Sampling rate: $RATE" "$TMPD/sflow.txt" ||
	fail "tshark -V shows no sampling rate $RATE"
# Counter samples of both attached interfaces, with what fringe saw come in.
tshark -n -r "$TMPD/sflow.pcapng" -Y sflow_245.ifindex -T fields -E separator=";" \
	-e sflow_245.ifindex -e sflow_245.ifinpkt >"$TMPD/counters.fields"
"$PYTHON" - "$TMPD/counters.fields" "$S1_IFINDEX" "$S2_IFINDEX" <<'EOF' || fail "counter samples are wrong"
import sys
seen = {}
for line in open(sys.argv[1]):
    idx, pkts = line.strip().split(";")
    for i, p in zip(idx.split(","), pkts.split(",")):
        seen.setdefault(i, []).append(int(p))
assert sys.argv[2] in seen and sys.argv[3] in seen, f"counter samples for {sorted(seen)}"
assert max(seen[sys.argv[2]]) > 0, "no input packets on the sensor1 interface"
print(f"  tshark: counter samples for ifindex {sorted(seen)}")
EOF

# sfacctd: the flow of the sampled headers, its packets estimated from the
# sampling (a binomial estimate: within 5 sigma of the pool), bytes per frame with the FCS.
"$PYTHON" - "$TMPD/sfacctd.log" "$SENSOR1_IP" "$CLOUD_IP" "$SRC_S" "$SPORT_S" "$POOL" "$RATE" \
	"$((FRAME + 4))" <<'EOF' || fail "sfacctd did not decode what fringe sampled: $(grep -v '^INFO' "$TMPD/sfacctd.log" | tail -n 5)"
import math, sys
log, src, dst, sport, dport, pool, rate, flen = sys.argv[1:]
pool, rate, flen = int(pool), int(rate), int(flen)
pkts = byts = 0
for line in open(log):
    f = line.strip().split(",")
    if len(f) != 7 or not f[5].isdigit():
        continue
    assert f[:5] == [src, dst, sport, dport, "udp"], f"unexpected flow {f[:5]}"
    pkts += int(f[5]); byts += int(f[6])
sd = math.sqrt(pool * rate * (1 - 1 / rate))
assert abs(pkts - pool) <= 5 * sd, f"sfacctd estimates {pkts} packets, the pool is {pool} (5 sigma {5 * sd:.0f})"
assert byts == pkts * flen, f"sfacctd bytes {byts}, want {pkts} x {flen}"
print(f"  sfacctd: {src}:{sport} -> {dst}:{dport} udp, {pkts} packets estimated (pool {pool}), {byts} bytes")
EOF

step "bad input: clear messages, exit 1, the data plane unaffected"
PLAIN0=$(rule_packets plain)
expect_fail 2 "sample without an output" sample
expect_fail 2 "sample --count 0" sample --pcap "$TMPD/x.pcap" --count 0
expect_fail 2 "sample --duration x" sample --pcap "$TMPD/x.pcap" --duration x
expect_fail 1 "collector without a port" sample --sflow 127.0.0.1 --duration 2
grep -q "^fringe: cannot send to 127.0.0.1: " "$TMPD/err" || fail "no 'cannot send to' message"
# No route from gw (it has none but its links): refused at once, nothing sent.
expect_fail 1 "unreachable collector" sample --sflow 10.255.0.1:6343 --duration 2
grep -q "^fringe: cannot send to 10.255.0.1:6343: Network is unreachable" "$TMPD/err" ||
	fail "unreachable collector: $(cat "$TMPD/err")"
# Nobody listening: the port unreachable that comes back ends the run.
expect_fail 1 "collector not listening" sample --sflow 127.0.0.1:6399 --duration 5
grep -q "^fringe: cannot send to 127.0.0.1:6399: Connection refused" "$TMPD/err" ||
	fail "collector not listening: $(cat "$TMPD/err")"
expect_fail 1 "pcap in a missing directory" sample --pcap "$TMPD/nonexistent/x.pcap" --duration 2
grep -q "^fringe: cannot write $TMPD/nonexistent/x.pcap: No such file or directory" "$TMPD/err" ||
	fail "unwritable file: $(cat "$TMPD/err")"
expect_fail 1 "pcap onto a directory" sample --pcap "$TMPD" --duration 2
grep -q "^fringe: cannot write $TMPD: Is a directory" "$TMPD/err" || fail "directory: $(cat "$TMPD/err")"
sample_start "$TMPD/holder.log" --pcap /dev/null --duration 60
expect_fail 1 "a second consumer" sample --pcap "$TMPD/y.pcap" --duration 2
grep -q "already drained by another consumer (pid $SAMPLE_PID" "$TMPD/err" ||
	fail "second consumer: $(cat "$TMPD/err")"
[ ! -e "$TMPD/y.pcap" ] || fail "the refused consumer created its file"
sample_stop "$TMPD/holder.log"
sample_start "$TMPD/again.log" --pcap /dev/null --count 1 --duration 5
sample_stop "$TMPD/again.log"
info "ok: the ring is free again once the first consumer stops"
blast $SPORT_P 100
[ "$(rule_packets plain)" -ge $((PLAIN0 + 90)) ] || fail "traffic stopped counting after the errors"
timeout 10 ip netns exec "$SENSOR1_NS" ping -c 1 -W 2 "$CLOUD_IP" >/dev/null || fail "ping fails after the errors"

step "flows: off by default, on when asked, the heaviest first"
fr_json "$TMPD/flows0.json" flows --json
[ "$(q "$TMPD/flows0.json" 'd["enabled"]')" = False ] || fail "flow table on by default"
[ "$(q "$TMPD/flows0.json" 'len(d["flows"])')" = 0 ] || fail "flows listed while the table is off"
fr_ok flows
grep -q "flow table is off" "$TMPD/out" || fail "fringe flows does not say the table is off"
fr_ok flows --enable
blast $SPORT_P 200
blast $SPORT_S 400
timeout 10 ip netns exec "$SENSOR2_NS" ping -c 3 -i 0.2 -W 2 "$CLOUD_IP" >/dev/null || fail "ping sensor2"
timeout 10 ip netns exec "$SENSOR2_NS" ping -6 -c 2 -i 0.2 -W 2 "$CLOUD_IP6" >/dev/null || fail "ping -6 sensor2"
fr_json "$TMPD/flows1.json" flows --json --top 2
info "$(q "$TMPD/flows1.json" '[(f["src"], f["dst"], f["proto"], f["dport"], f["packets"]) for f in d["flows"]]')"
[ "$(q "$TMPD/flows1.json" 'd["active"] >= 3 and len(d["flows"]) == 2')" = True ] ||
	fail "flows --top 2: $(cat "$TMPD/flows1.json")"
TOP='d["flows"][0]'
[ "$(q "$TMPD/flows1.json" "(${TOP}[\"src\"], ${TOP}[\"dst\"], ${TOP}[\"proto\"], ${TOP}[\"sport\"], ${TOP}[\"dport\"], ${TOP}[\"ifname\"], ${TOP}[\"verdict\"], ${TOP}[\"rule\"], ${TOP}[\"vlan\"])")" = \
	"('$SENSOR1_IP', '$CLOUD_IP', 'udp', $SRC_S, $SPORT_S, '$GW_IF_SENSOR1', 'pass', 'sampled', None)" ] ||
	fail "heaviest flow: $(q "$TMPD/flows1.json" "$TOP")"
[ "$(q "$TMPD/flows1.json" "${TOP}[\"packets\"] >= 360 and ${TOP}[\"bytes\"] == ${TOP}[\"packets\"] * $FRAME")" = True ] ||
	fail "heaviest flow counts: $(q "$TMPD/flows1.json" "$TOP")"
[ "$(q "$TMPD/flows1.json" 'd["flows"][1]["dport"]')" = "$SPORT_P" ] || fail "second flow is not the port $SPORT_P one"
[ "$(q "$TMPD/flows1.json" "${TOP}[\"first_seen\"] <= ${TOP}[\"last_seen\"]")" = True ] || fail "first_seen after last_seen"
fr_ok flows --top 5
grep -q "$SENSOR1_IP:$SRC_S .*$CLOUD_IP:$SPORT_S .*pass" "$TMPD/out" || fail "flows text: $(cat "$TMPD/out")"
grep -q "icmp " "$TMPD/out" || fail "flows text has no icmp flow: $(cat "$TMPD/out")"
fr_json "$TMPD/flows2.json" flows --json --top 100
[ "$(q "$TMPD/flows2.json" "any(f['src'] == '$SENSOR2_IP6' and f['dst'] == '$CLOUD_IP6' and f['proto'] == 'icmpv6' and f['ifname'] == '$GW_IF_SENSOR2' and f['packets'] >= 2 for f in d['flows'])")" = True ] ||
	fail "no IPv6 flow $SENSOR2_IP6 -> $CLOUD_IP6: $(cat "$TMPD/flows2.json")"

step "stats and metrics carry the totals"
fr_json "$TMPD/stats.json" stats --json
[ "$(q "$TMPD/stats.json" 'd["samples"]["taken"] > 0 and d["samples"]["lost"] == 0 and d["flows_active"] >= 3')" = True ] ||
	fail "stats --json totals: $(q "$TMPD/stats.json" '(d.get("samples"), d.get("flows_active"))')"
fr_ok stats
grep -q "^samples: [0-9]* taken, 0 lost; flows: [0-9]* active" "$TMPD/out" || fail "stats text: $(tail -n 2 "$TMPD/out")"
fr_ok metrics
for fam in fringe_samples_total fringe_samples_lost_total fringe_flows_active; do
	grep -q "^# TYPE $fam " "$TMPD/out" || fail "metrics lack $fam"
done
TAKEN=$(q "$TMPD/stats.json" 'd["samples"]["taken"]')
grep -q "^fringe_samples_total $TAKEN$" "$TMPD/out" || fail "fringe_samples_total is not $TAKEN"
fr_ok flows --disable
grep -q "flow table off" "$TMPD/out" || fail "flows --disable: $(cat "$TMPD/out")"
fr_json "$TMPD/stats2.json" stats --json
[ "$(q "$TMPD/stats2.json" 'd["flows_active"]')" = 0 ] || fail "flows --disable left flows in the table"

step "done"
harness_done
