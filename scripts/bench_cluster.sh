#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The cluster section of `make bench`: how fast N daemons on one etcd converge, and how fast a lease-lapsed node leaves.
#
#   scripts/bench_cluster.sh [OUT.json]        N = 4, 8, 16 (FRINGE_BENCH_CLUSTER="4 8 16")
#
# For each N: N fringe nodes on one fabric bridge and one etcd member (TLS,
# client certificates) in namespaces; fringe attached first (the daemons adopt
# it, so attaching is not what is timed). N-1 daemons start and converge, then
# the last starts: convergence is from its start to the last of the N tables
# holding all N nodes. Then that node crashes (daemon killed, namespaces gone):
# departure is from the kill to the last of the others' tables without it.
# Both come from the daemons' own log timestamps. Goals (issue 11):
# convergence <= 2 s at 16 nodes, departure <= ttl + 1 s.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/lib/netns.sh
. scripts/lib/fringe.sh
. scripts/lib/cluster.sh
. scripts/lib/etcd.sh

TTL=3
OUT_JSON=${1:-build/bench/cluster.json}

require_root
require_cmd ip etcd etcdctl openssl curl unshare "$PYTHON"
[ -x "$FRINGE" ] || fail "$FRINGE is missing: run 'make' first"

# One N, in its own harness (its own namespaces and cleanup): prints a JSON line.
one() {
	local n=$1 i s f last_start last_full t0 gone_ms n1 want
	harness_tmpdir
	cluster_up "$n"
	etcd_up 1
	# shellcheck disable=SC2119 # every node
	cluster_attach >/dev/null || fail "cannot attach fringe"
	cp "$ETCD_CERTS/ca.pem" "$ETCD_CERTS/client.pem" "$ETCD_CERTS/client.key" "$TMPD/"
	cat >"$TMPD/fringe.conf" <<EOF
interface ul mode native
interface wl mode native
cluster etcd $(etcd_urls) ttl $TTL ca ca.pem cert client.pem key client.key
announce prefix auto
EOF
	for ((i = 1; i < n; i++)); do
		cl_daemon_start "$i" "$TMPD/fringe.conf"
	done
	_loaded() { grep -q "cluster: loaded $2 nodes" "$TMPD/d$1.log"; }
	_all_loaded() {
		local k
		for ((k = 1; k <= $1; k++)); do
			_loaded "$k" "$2" || return 1
		done
	}
	wait_until 60 _all_loaded $((n - 1)) $((n - 1)) || fail "$((n - 1)) daemons did not converge"
	sleep 1
	cl_daemon_start "$n" "$TMPD/fringe.conf"
	wait_until 60 _all_loaded "$n" "$n" || fail "$n daemons did not converge"
	last_start=$(cl_log_ms "$TMPD/d$n.log" 'starting: config')
	last_full=0
	for ((i = 1; i <= n; i++)); do
		f=$(cl_log_ms "$TMPD/d$i.log" "cluster: loaded $n nodes" "$last_start")
		[ "$f" -gt "$last_full" ] && last_full=$f
	done
	sleep 1
	t0=$(date +%s%3N)
	cl_daemon_kill "$n"
	ip netns del "$(ns "n$n")"
	ip netns del "$(ns "w$n")"
	n1=$((n - 1))
	_left() {
		local k
		for ((k = 1; k < n; k++)); do
			[ -n "$(cl_log_ms "$TMPD/d$k.log" "cluster: loaded $n1 nodes" "$t0")" ] || return 1
		done
	}
	wait_until $((TTL + 15)) _left || fail "n$n did not leave every table"
	gone_ms=0
	for ((i = 1; i < n; i++)); do
		f=$(cl_log_ms "$TMPD/d$i.log" "cluster: loaded $n1 nodes" "$t0")
		[ "$f" -gt "$gone_ms" ] && gone_ms=$f
	done
	printf '{"nodes": %d, "convergence_ms": %d, "departure_ms": %d, "ttl_s": %d}\n' \
		"$n" $((last_full - last_start)) $((gone_ms - t0)) "$TTL"
}

if [ "${1:-}" = --one ]; then
	one "$2"
	exit 0
fi

harness_tmpdir
mkdir -p "$(dirname "$OUT_JSON")"
: >"$TMPD/rows"
for n in ${FRINGE_BENCH_CLUSTER:-4 8 16}; do
	FRINGE_TEST_PREFIX="fr$$c$n-" timeout 280 "$0" --one "$n" >"$TMPD/one.$n" 2>"$TMPD/err.$n" ||
		{ echo "bench_cluster: N=$n failed: $(tail -n 3 "$TMPD/err.$n" "$TMPD/one.$n")" >&2; continue; }
	tail -n 1 "$TMPD/one.$n" >>"$TMPD/rows"
done
"$PYTHON" - "$TMPD/rows" "$OUT_JSON" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
json.dump(rows, open(sys.argv[2], "w"), indent=1)
print("%-6s %16s %14s %12s" % ("nodes", "convergence_ms", "departure_ms", "ttl+1s goal"))
for r in rows:
    goal = (r["ttl_s"] + 1) * 1000
    print("%-6d %16d %14d %12d%s" % (r["nodes"], r["convergence_ms"], r["departure_ms"], goal,
          "" if r["departure_ms"] <= goal and (r["nodes"] < 16 or r["convergence_ms"] <= 2000)
          else "  (misses its goal)"))
EOF
