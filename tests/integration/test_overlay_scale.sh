#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: a 16-node overlay (15 fringe nodes, one Linux vxlan peer) on the 2-core machine: the nodes files load, sample pairs ping.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/fringe.sh"
. "$ROOT/scripts/lib/cluster.sh"

require_root
require_cmd ip bridge ping timeout "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

N=${FRINGE_OVERLAY_NODES:-16}
LINUX=$N
# Ordered pairs: both ends of the line, the Linux peer both ways, and a spread.
PAIRS="1:$N $N:1 2:$((N - 1)) $((N / 2)):$((N / 2 + 1)) 3:9 9:3 12:5 7:$N $N:14 15:4"

harness_tmpdir

step "topology: $N nodes on one fabric bridge, n$LINUX a Linux vxlan peer"
t0=$SECONDS
cluster_up "$N" "$LINUX"
info "built in $((SECONDS - t0)) s"

step "fringe on the $((N - 1)) fringe nodes (ul and wl), two at a time"
t0=$SECONDS
# shellcheck disable=SC2119 # every fringe node
cluster_attach || fail "cannot attach fringe"
info "attached in $((SECONDS - t0)) s"

step "every fringe node loads its nodes file ($N nodes)"
t0=$SECONDS
for ((i = 1; i < N; i++)); do
	cluster_nodes_file "$i" "$TMPD/nodes$i"
	run_rc frn "$i" nodes load "$TMPD/nodes$i"
	[ "$RC" -eq 0 ] || fail "n$i: nodes load exited $RC: $(cat "$TMPD/err")"
done
info "loaded in $((SECONDS - t0)) s"
run_rc frn 1 nodes show --json
cp "$TMPD/out" "$TMPD/show.json"
[ "$(q "$TMPD/show.json" 'len(d["nodes"])')" = "$N" ] || fail "nodes show lists $(q "$TMPD/show.json" 'len(d["nodes"])') nodes, want $N"

step "ping a sample of pairs: $PAIRS"
for p in $PAIRS; do
	i=${p%:*} j=${p#*:}
	cl_ping "$i" "$j" || fail "ping w$i -> w$j failed"
done
info "ok: $(echo "$PAIRS" | wc -w) pairs"
run_rc frn 1 nodes show
sed 's/^/    /' "$TMPD/out"
harness_done
