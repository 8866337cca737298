#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: nodes find each other on a real three-member etcd cluster (TLS, client certificates): join, power-off, move, kill -9, etcd faults, hostile records.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/fringe.sh"
. "$ROOT/scripts/lib/cluster.sh"
. "$ROOT/scripts/lib/etcd.sh"

require_root
require_cmd ip bridge ping timeout etcd etcdctl openssl curl unshare "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

N=7			# n1-n5 and n7 run fringe daemons, n6 is a Linux vxlan peer
LINUX=6
FIRST="1 2 3 4 5"	# started at once; n7 joins later
TTL=4
MOVED=10.210.0.0/24	# a workload's prefix that moves from n2 to n4
MOVED_IP=10.210.0.10

harness_tmpdir
declare -a DPID=()

# ---- helpers ----------------------------------------------------------------------

ms() { date +%s%3N; }

# The one config every node runs (the host name, the underlay, the MAC and the
# prefixes are found on each node).
write_config() {
	mkdir -p "$TMPD/conf"
	cp "$ETCD_CERTS/ca.pem" "$ETCD_CERTS/client.pem" "$ETCD_CERTS/client.key" "$TMPD/conf/"
	cat >"$TMPD/conf/fringe.conf" <<EOF
# the same file on every node
interface ul mode native
interface wl mode native
cluster etcd $(etcd_urls) ttl $TTL ca ca.pem cert client.pem key client.key
announce prefix auto
nodes static.nodes
EOF
	cat >"$TMPD/conf/static.nodes" <<EOF
# peers that do not run fringe: the Linux vxlan node
self auto
node n$LINUX underlay $(cl_ul_ip $LINUX) mac $(cl_ul_mac $LINUX) prefix 10.200.$LINUX.0/24
EOF
}

daemon_start() { cl_daemon_start "$1" "$TMPD/conf/fringe.conf"; DPID[$1]=${CL_DPID[$1]}; }
daemon_kill() { cl_daemon_kill "$1"; }
node_names() { cl_names "$1"; }
has_nodes() { [ "$(node_names "$1")" = "$2" ]; }

# all_have "LIST" NODES...: every listed fringe node's table is exactly LIST.
all_have() {
	local want=$1 i; shift
	for i in "$@"; do
		has_nodes "$i" "$want" || return 1
	done
}

metric() {
	nsx "n$1" curl -s --max-time 2 http://127.0.0.1:9650/metrics | awk -v m="$2" '$1 == m { print $2 }'
}

all_pairs_ping() {
	local i j nodes=($1) count=0
	for i in "${nodes[@]}"; do
		for j in "${nodes[@]}"; do
			[ "$i" = "$j" ] && continue
			cl_ping "$i" "$j" || fail "$2: ping w$i -> w$j ($(cl_ip "$j")) failed"
			count=$((count + 1))
		done
	done
	info "ok: ping between all $count ordered pairs ($2)"
}

# flow_start SRC DST COUNT: a ping flow at 1000 packets a second; flow_check says the loss.
flow_start() {
	FLOW_LOG=$TMPD/flow.$1.$2.log
	ns_bg "w$1" "$FLOW_LOG" ping -q -i 0.001 -c "$3" -W 1 "$(cl_ip "$2")"
	FLOW_PID=$BG_PID
}
flow_check() {
	wait "$FLOW_PID" || true
	local sent got
	sent=$(awk '/packets transmitted/ { print $1 }' "$FLOW_LOG")
	got=$(awk '/packets transmitted/ { print $4 }' "$FLOW_LOG")
	[ -n "$sent" ] || fail "$1: the flow printed no summary: $(cat "$FLOW_LOG")"
	info "$1: $sent packets sent at 1000/s, $got received, $((sent - got)) lost"
	[ "$sent" = "$got" ] || fail "$1: $((sent - got)) of $sent packets lost"
}

# ---- the cluster ------------------------------------------------------------------------

step "topology: $N nodes on the fabric (n$LINUX a Linux vxlan peer), three etcd members e1-e3 beside them"
cluster_up "$N" "$LINUX"
t0=$(ms)
etcd_up 3
info "etcd (3 members, TLS, --client-cert-auth) healthy in $(($(ms) - t0)) ms: $(etcd_urls)"
write_config
sed 's/^/    /' "$TMPD/conf/fringe.conf"

step "etcd refuses a client without a certificate of its CA"
if nsx e1 curl -s --max-time 3 --cacert "$ETCD_CERTS/ca.pem" --cert "$ETCD_CERTS/stranger.pem" \
	--key "$ETCD_CERTS/stranger.key" "https://$(etcd_ip 1):2379/v3/kv/range" -d '{"key":"AA=="}' \
	>"$TMPD/stranger.out" 2>&1 && grep -q header "$TMPD/stranger.out"; then
	fail "etcd answered a client with a foreign certificate"
fi
info "ok: refused"

step "the same config checks on every node"
run_rc "$FRINGE" daemon --config "$TMPD/conf/fringe.conf" --check
[ "$RC" -eq 0 ] || fail "daemon --check: $(cat "$TMPD/err")"
sed 's/^/    /' "$TMPD/out"

step "n1-n5 start their daemons at once; every table holds n1-n6"
t0=$(ms)
for i in $FIRST; do
	daemon_start "$i"
done
WANT="n1 n2 n3 n4 n5 n6"
wait_until 30 all_have "$WANT" $FIRST || {
	for i in $FIRST; do info "n$i: $(node_names "$i")"; tail -n 5 "$TMPD/d$i.log"; done
	fail "the tables did not converge"
}
info "converged in $(($(ms) - t0)) ms (from the first daemon starting, attach included)"
run_rc frn 1 nodes show
sed 's/^/    /' "$TMPD/out"
grep -q 'etcd' "$TMPD/out" || fail "nodes show does not say where nodes come from"
all_pairs_ping "1 2 3 4 5 6" "n1-n5 from etcd, n6 from the static file"
run_rc frn 1 cluster status
[ "$RC" -eq 0 ] || fail "cluster status: $(cat "$TMPD/err")"
sed 's/^/    /' "$TMPD/out"
run_rc frn 1 cluster status --json
cp "$TMPD/out" "$TMPD/status.json"
[ "$(q "$TMPD/status.json" 'd["up"] and d["announced"] and d["lease"] is not None and len(d["endpoints"]) == 3')" = True ] ||
	fail "cluster status --json: $(head -c 800 "$TMPD/status.json")"
[ "$(metric 1 fringe_cluster_up)" = 1 ] || fail "fringe_cluster_up is not 1"
if command -v promtool >/dev/null 2>&1; then
	nsx n1 curl -s --max-time 2 http://127.0.0.1:9650/metrics >"$TMPD/metrics.txt"
	promtool check metrics <"$TMPD/metrics.txt" >"$TMPD/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(head -n 5 "$TMPD/promtool.out")"
	info "ok: promtool accepts the metrics with the fringe_cluster_* families"
fi
[ "$(metric 1 fringe_cluster_nodes)" = 6 ] || fail "fringe_cluster_nodes is $(metric 1 fringe_cluster_nodes), want 6"
# The dashboard's API lists the cluster's document, the same as the command's.
nsx n1 curl -sf --max-time 5 http://127.0.0.1:9650/api/v1/ >"$TMPD/api-index.json" || fail "no API index on n1"
[ "$(q "$TMPD/api-index.json" 'd["endpoints"].get("cluster")')" = /api/v1/cluster ] ||
	fail "the API does not list the cluster: $(cat "$TMPD/api-index.json")"
nsx n1 curl -sf --max-time 5 http://127.0.0.1:9650/api/v1/cluster >"$TMPD/api-cluster.json" || fail "no /api/v1/cluster on n1"
[ "$(q "$TMPD/api-cluster.json" 'sorted(d) == sorted(json.load(open("'"$TMPD/status.json"'"))) and d["up"] and len(d["endpoints"]) == 3')" = True ] ||
	fail "/api/v1/cluster differs from cluster status --json: $(head -c 800 "$TMPD/api-cluster.json")"

# ---- join ------------------------------------------------------------------------------

# reach_all I NODES: w_I answers a ping from every one of NODES' workloads.
reach_all() {
	local i=$1 j; shift
	for j in "$@"; do
		timeout 2 ip netns exec "$(ns "w$j")" ping -c 1 -W 0.3 "$(cl_ip "$i")" >/dev/null 2>&1 || return 1
	done
}

step "join: n7 starts its daemon; every peer reaches w7 within 3 s"
frn 7 attach ul --mode native >/dev/null && frn 7 attach wl --mode native >/dev/null ||
	fail "cannot attach fringe on n7"
t0=$(ms)
daemon_start 7
wait_until 10 reach_all 7 1 2 3 4 5 6 || fail "w7 is not reachable from every peer: $(tail -n 5 "$TMPD/d7.log")"
JOIN_MS=$(($(ms) - t0))
info "join: w7 reachable from all 6 peers ${JOIN_MS} ms after its daemon started (goal 3000 ms)"
[ "$JOIN_MS" -le 3000 ] || fail "join took $JOIN_MS ms, more than 3 s"
ALL="1 2 3 4 5 7"
wait_until 5 all_have "n1 n2 n3 n4 n5 n6 n7" $ALL || fail "not every table holds n7"

# ---- kill -9 and a restart within the lease: no packet lost, no record lost --------------------

step "kill -9 of n5's daemon and a restart within the lease, under a 1000 pps flow w1 -> w5"
del_before=$(metric 1 'fringe_cluster_events_total{type="delete"}')
gen_before=$(frn 1 nodes show --json | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
flow_start 1 5 3000
sleep 0.5
daemon_kill 5
info "n5's daemon killed"
sleep 1
daemon_start 5
wait_until 10 grep -q 'took back lease' "$TMPD/d5.log" || fail "n5 did not take its lease back: $(tail -n 5 "$TMPD/d5.log")"
info "n5: $(grep -o 'took back lease.*' "$TMPD/d5.log")"
flow_check "kill -9 and restart of n5's daemon"
del_after=$(metric 1 'fringe_cluster_events_total{type="delete"}')
gen_after=$(frn 1 nodes show --json | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
[ "$del_before" = "$del_after" ] || fail "n1 saw a record deleted during n5's restart ($del_before -> $del_after)"
[ "$gen_before" = "$gen_after" ] || fail "n1 reloaded its table during n5's restart (generation $gen_before -> $gen_after)"
info "ok: no record deleted, n1's table untouched (generation $gen_after)"

# ---- workload move ------------------------------------------------------------------------------

owner_of() {
	frn "$1" nodes show --json 2>/dev/null | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
print(next((n["name"] for n in d["nodes"] if sys.argv[1] in n["prefixes"]), "-"))' "$2"
}
all_owner() {
	local want=$1 i; shift
	for i in $ALL; do
		[ "$(owner_of "$i" "$MOVED")" = "$want" ] || return 1
	done
}
moved_reachable() { timeout 2 ip netns exec "$(ns w1)" ping -c 1 -W 0.3 "$MOVED_IP" >/dev/null 2>&1; }

step "workload move: $MOVED_IP lives on n2, then moves to n4 (announce prefix auto, SIGHUP)"
ip -n "$(ns n2)" addr add 10.210.0.1/24 dev wl
ip -n "$(ns w2)" addr add "$MOVED_IP/24" dev eth0
kill -HUP "${DPID[2]}"
wait_until 10 all_owner n2 || fail "not every node has $MOVED on n2"
wait_until 5 moved_reachable || fail "w1 cannot reach $MOVED_IP on n2"
info "ok: $MOVED on n2 in every table, $MOVED_IP reachable"
ip -n "$(ns n2)" addr del 10.210.0.1/24 dev wl
ip -n "$(ns w2)" addr del "$MOVED_IP/24" dev eth0
ip -n "$(ns n4)" addr add 10.210.0.1/24 dev wl
ip -n "$(ns w4)" addr add "$MOVED_IP/24" dev eth0
t0=$(ms)
kill -HUP "${DPID[2]}"
kill -HUP "${DPID[4]}"
wait_until 10 all_owner n4 || fail "not every node follows $MOVED to n4"
MOVE_TABLES_MS=$(($(ms) - t0))
wait_until 10 moved_reachable || fail "w1 cannot reach $MOVED_IP on n4"
MOVE_MS=$(($(ms) - t0))
info "move: every table has $MOVED on n4 after ${MOVE_TABLES_MS} ms, $MOVED_IP reachable from w1 after ${MOVE_MS} ms (goal 3000 ms)"
[ "$MOVE_MS" -le 3000 ] || fail "the move took $MOVE_MS ms, more than 3 s"

# ---- power-off ------------------------------------------------------------------------------------

step "power-off: n3's daemon killed and its namespaces gone; n3 leaves every table within ttl + 2 s"
ALL="1 2 4 5 7"
t0=$(ms)
daemon_kill 3
ip netns del "$(ns n3)"
ip netns del "$(ns w3)"
wait_until $((TTL + 8)) all_have "n1 n2 n4 n5 n6 n7" $ALL || fail "n3 is still listed: $(node_names 1)"
GONE_MS=$(($(ms) - t0))
info "power-off: n3 left every table ${GONE_MS} ms after it died (ttl ${TTL} s; goal $(((TTL + 2) * 1000)) ms)"
[ "$GONE_MS" -le $(((TTL + 2) * 1000)) ] || fail "n3 left after $GONE_MS ms, more than ttl + 2 s"
all_pairs_ping "1 2 4 5 6 7" "after n3's power-off"

# ---- etcd faults ----------------------------------------------------------------------------------

gens() {
	local i out=
	for i in $ALL; do
		out+="$(frn "$i" nodes show --json | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["generation"])') "
	done
	echo "$out"
}
all_up() {
	local i
	for i in $ALL; do
		[ "$(metric "$i" fringe_cluster_up)" = "$1" ] || return 1
	done
}

step "losing one etcd member (e1, kill -9) under a 1000 pps flow w1 -> w2: nothing changes"
g0=$(gens)
flow_start 1 2 4000
sleep 0.5
etcd_stop 1
up_seen=1
for k in $(seq 30); do
	for i in $ALL; do
		[ "$(metric "$i" fringe_cluster_up)" = 1 ] || up_seen=0
	done
	sleep 0.1
done
flow_check "losing etcd member e1"
[ "$up_seen" = 1 ] || fail "fringe_cluster_up dropped to 0 on a node while two of three members served"
[ "$(gens)" = "$g0" ] || fail "a table was reloaded when e1 went away: $g0 -> $(gens)"
wait_until 10 all_have "n1 n2 n4 n5 n6 n7" $ALL || fail "the tables changed"
info "ok: fringe_cluster_up stayed 1 on every node, no table reloaded"
grep -hE 'lost etcd member|failed over' "$TMPD"/d*.log | sed 's/^/    /' | head -n 5

step "losing quorum (e2 too): zero loss between existing nodes, fringe_cluster_up 0, then recovery and resync"
ALL="1 2 4 5"		# n7 powers off during the outage
g0=$(gens)
flow_start 2 5 8000
sleep 0.3
t0=$(ms)
etcd_stop 2
wait_until 15 all_up 0 || fail "fringe_cluster_up did not drop to 0 on every node"
info "fringe_cluster_up 0 on every node $(($(ms) - t0)) ms after quorum was lost"
run_rc frn 1 cluster status
sed 's/^/    /' "$TMPD/out" | head -n 6
# Meanwhile n7 powers off: its lease can only lapse once quorum is back.
daemon_kill 7
ip netns del "$(ns n7)"
ip netns del "$(ns w7)"
sleep 2
all_pairs_ping "1 2 4 5 6" "without quorum"
[ "$(gens)" = "$g0" ] || fail "a table changed without quorum: $g0 -> $(gens)"
t0=$(ms)
etcd_start 1
etcd_start 2
wait_until 30 all_up 1 || fail "fringe_cluster_up did not come back to 1"
RECOVER_MS=$(($(ms) - t0))
info "recovery: fringe_cluster_up 1 on every node ${RECOVER_MS} ms after the members restarted"
wait_until $((TTL + 15)) all_have "n1 n2 n4 n5 n6" $ALL || fail "n7 (gone during the outage) is still listed: $(node_names 1)"
info "resync: n7, which died during the outage, left every table $(($(ms) - t0)) ms after quorum returned"
flow_check "quorum lost and regained"

# ---- hostile records ----------------------------------------------------------------------------------

step "hostile records: rejected, logged, counted, never loaded, never stopping a daemon"
rej0=$(metric 1 'fringe_cluster_events_total{type="rejected"}')
rec() { printf '{"name":"%s","underlay":"%s","mac":"02:00:00:00:00:aa","prefixes":["%s"]}' "$1" "$2" "$3"; }
ectl put /fringe/nodes/bad-json '{"name":"bad-json","underlay":' >/dev/null
ectl put /fringe/nodes/thief "$(rec thief 10.99.0.77 10.200.1.0/24)" >/dev/null		# n1's prefix
ectl put /fringe/nodes/mcast "$(rec mcast 239.1.2.3 10.230.0.0/24)" >/dev/null
ectl put /fringe/nodes/own "$(rec own 10.99.0.1 10.231.0.0/24)" >/dev/null			# n1's underlay
ectl put /fringe/nodes/n6 "$(rec n6 10.99.0.66 10.232.0.0/24)" >/dev/null			# the static file's name
ectl put /fringe/nodes/impostor "$(rec n2 10.99.0.78 10.233.0.0/24)" >/dev/null		# another's name
"$PYTHON" - "$TMPD/huge.json" <<'PYEOF'
import base64, json, sys
v = json.dumps({"name": "huge", "underlay": "10.99.0.79", "mac": "02:00:00:00:00:ab",
                "prefixes": ["10.234.0.0/24"], "pad": "x" * (1 << 20)})
json.dump({"key": base64.b64encode(b"/fringe/nodes/huge").decode(), "value": base64.b64encode(v.encode()).decode()},
          open(sys.argv[1], "w"))
PYEOF
etcd_gw /v3/kv/put "@$TMPD/huge.json" >/dev/null || fail "cannot put the 1 MB record"
t0=$(ms)
for b in $(seq 0 9); do
	"$PYTHON" - "$b" >"$TMPD/junk.json" <<'PYEOF'
import base64, json, sys
b = int(sys.argv[1])
ops = []
for i in range(b * 1000, b * 1000 + 1000):
    key = "/fringe/nodes/junk/%05d" % i if i % 2 else "/fringe/nodes/j%05d" % i
    ops.append({"request_put": {"key": base64.b64encode(key.encode()).decode(),
                                "value": base64.b64encode(b"\x00junk" * 3).decode()}})
print(json.dumps({"success": ops}))
PYEOF
	etcd_gw /v3/kv/txn "@$TMPD/junk.json" >/dev/null || fail "cannot put junk batch $b"
done
info "10,000 junk keys written in $(($(ms) - t0)) ms"
want_rej=$((rej0 + 10007))
rejected_all() { [ "$(metric "$1" 'fringe_cluster_events_total{type="rejected"}')" -ge "$want_rej" ]; }
wait_until 30 rejected_all 1 || fail "n1 counted $(metric 1 'fringe_cluster_events_total{type="rejected"}') rejections, want >= $want_rej"
for i in $ALL; do
	kill -0 "${DPID[$i]}" 2>/dev/null || fail "n$i's daemon died: $(tail -n 5 "$TMPD/d$i.log")"
done
all_have "n1 n2 n4 n5 n6" $ALL || fail "a hostile record was loaded: $(node_names 1)"
info "ok: n1 counted $(($(metric 1 'fringe_cluster_events_total{type="rejected"}') - rej0)) rejections; every table still n1 n2 n4 n5 n6"
for why in "not JSON" "already claimed by node 'n1'" "239.1.2.3 is not a unicast address" 	"10.99.0.1 is an address of this host" "name 'n6' is already held (by the nodes file)" 	"name 'n2' is not the key's 'impostor'" "at most 4096" "is not a node name" "more records rejected"; do
	grep -q "$why" "$TMPD/d1.log" || fail "n1's log does not say '$why'"
done
grep 'rejected record' "$TMPD/d1.log" | head -n 8 | sed 's/^/    /'
all_pairs_ping "1 2 4 5 6" "with hostile records in etcd"
ectl del --prefix /fringe/nodes/j >/dev/null
ectl del /fringe/nodes/bad-json >/dev/null

step "SIGTERM: the daemons stop, the data plane stays"
for i in $ALL; do
	kill -TERM "${DPID[$i]}"
	wait "${DPID[$i]}" || fail "n$i's daemon exited $? on SIGTERM"
done
cl_ping 1 2 || fail "the data plane stopped with the daemons"
run_rc frn 1 cluster status --json
cp "$TMPD/out" "$TMPD/status.json"
[ "$(q "$TMPD/status.json" 'd["daemon_running"] or d["up"]')" = False ] || fail "cluster status says up with no daemon"
info "ok"

echo
echo "measured: join ${JOIN_MS} ms, move ${MOVE_MS} ms, power-off ${GONE_MS} ms (ttl ${TTL} s), quorum recovery ${RECOVER_MS} ms"
harness_done
