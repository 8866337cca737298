#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: 16 fringe nodes join one etcd cluster on the 2-core machine; every table holds all 16, sample pairs ping, a crashed node leaves.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/fringe.sh"
. "$ROOT/scripts/lib/cluster.sh"
. "$ROOT/scripts/lib/etcd.sh"

require_root
require_cmd ip ping timeout etcd etcdctl openssl curl unshare "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

N=${FRINGE_CLUSTER_NODES:-16}
TTL=3
PAIRS="1:$N $N:1 2:$((N - 1)) $((N / 2)):$((N / 2 + 1)) 3:9 9:3 12:5 7:$N"

harness_tmpdir

all_have_n() {
	local i want
	want=$(for ((i = 1; i <= N; i++)); do echo "n$i"; done | sort | tr '\n' ' ')
	for ((i = 1; i <= N; i++)); do
		[ "$(cl_names "$i") " = "$want" ] || return 1
	done
}

step "topology: $N fringe nodes on one fabric, one etcd member (TLS) beside them"
t0=$SECONDS
cluster_up "$N"
etcd_up 1
info "built in $((SECONDS - t0)) s"

step "fringe on ul and wl of every node, two at a time (the daemons then adopt it)"
t0=$SECONDS
# shellcheck disable=SC2119 # every node
cluster_attach || fail "cannot attach fringe"
info "attached in $((SECONDS - t0)) s"

cp "$ETCD_CERTS/ca.pem" "$ETCD_CERTS/client.pem" "$ETCD_CERTS/client.key" "$TMPD/"
cat >"$TMPD/fringe.conf" <<EOF
interface ul mode native
interface wl mode native
cluster etcd $(etcd_urls) ttl $TTL ca ca.pem cert client.pem key client.key
announce prefix auto
EOF

step "all $N daemons start at once"
t0=$(date +%s%3N)
for ((i = 1; i <= N; i++)); do
	cl_daemon_start "$i" "$TMPD/fringe.conf"
done
wait_until 60 all_have_n || fail "the tables did not converge: n1 has $(cl_names 1)"
# From the daemons' own clocks: the last one starting, the last table complete.
last_start=0 last_full=0
for ((i = 1; i <= N; i++)); do
	s=$(cl_log_ms "$TMPD/d$i.log" 'starting: config')
	f=$(cl_log_ms "$TMPD/d$i.log" "cluster: loaded $N nodes")
	[ -n "$s" ] && [ -n "$f" ] || fail "n$i's log lacks its start or its full table: $(tail -n 3 "$TMPD/d$i.log")"
	[ "$s" -gt "$last_start" ] && last_start=$s
	[ "$f" -gt "$last_full" ] && last_full=$f
done
info "every table holds all $N nodes $((last_full - last_start)) ms after the last daemon started (all started within $((last_start - t0)) ms of the first)"
[ $((last_full - last_start)) -le 10000 ] || fail "convergence took $((last_full - last_start)) ms"

step "ping a sample of pairs: $PAIRS"
for p in $PAIRS; do
	cl_ping "${p%:*}" "${p#*:}" || fail "ping w${p%:*} -> w${p#*:} failed"
done
info "ok: $(echo "$PAIRS" | wc -w) pairs"

step "n$N crashes (daemon killed, namespaces gone): it leaves every table"
t0=$(date +%s%3N)
cl_daemon_kill "$N"
ip netns del "$(ns "n$N")"
ip netns del "$(ns "w$N")"
N1=$((N - 1))
gone() {
	local i
	for ((i = 1; i < N; i++)); do
		cl_names "$i" | grep -qw "n$N" && return 1
	done
	return 0
}
wait_until $((TTL + 10)) gone || fail "n$N is still listed"
last=0
for ((i = 1; i < N; i++)); do
	f=$(cl_log_ms "$TMPD/d$i.log" "cluster: loaded $N1 nodes" "$t0")
	[ -n "$f" ] && [ "$f" -gt "$last" ] && last=$f
done
info "n$N left every table $((last - t0)) ms after it died (ttl $TTL s)"
[ $((last - t0)) -le $(((TTL + 2) * 1000)) ] || fail "departure took $((last - t0)) ms, more than ttl + 2 s"
run_rc frn 1 cluster status
sed 's/^/    /' "$TMPD/out" | head -n 8
harness_done
