#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: a config edited while the daemon starts (after it read the config, before it serves) is applied, not lost until the next change.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/gateway.sh"
. "$ROOT/scripts/lib/fringe.sh"

require_root
require_cmd ip curl ss strace timeout pgrep
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

PORT=9660		# the daemon's metrics, on 127.0.0.1 inside gw
HOLD_US=3000000		# how long strace holds the daemon in its listen(): the window

harness_tmpdir
ETC=$TMPD/etc
mkdir -p "$ETC"
CONF=$ETC/fringe.conf

scrape() { nsx gw curl -sf -m 5 "http://127.0.0.1:$PORT/metrics"; }
metric() {
	scrape >"$TMPD/scrape" || return 1
	awk -v s="$1" '$1 == s { print $2; f = 1 } END { if (!f) exit 1 }' "$TMPD/scrape"
}
_metric_eq() { [ "$(metric "$1")" = "$2" ]; }
# write_conf FILE POLICY: the config, naming POLICY.
write_conf() {
	cat >"$1" <<EOF
interface $GW_IF_SENSOR1 mode native
policy $2
metrics 127.0.0.1:$PORT
pin-dir $PIN
EOF
}

step "topology, pin dir, two policies, a config naming the first"
gw_topology_up
FR_NS=$GW_NS
gw_topology_check
pin_mount
printf 'rule icmp proto icmp allow\ndefault allow\n' >"$ETC/one.policy"
printf 'rule icmp proto icmp allow\nrule dns proto udp dport 53 allow\nrule web proto tcp dport 443 allow\ndefault allow\n' \
	>"$ETC/three.policy"
write_conf "$CONF" one.policy

step "start the daemon held in its listen() (strace), after it read its config"
# The start-up window: the config has been read; the listener, the maps and
# the policy come next. strace delays the return from listen() by HOLD_US.
ns_bg gw "$TMPD/daemon.log" strace -f -qq --seccomp-bpf -o /dev/null -e trace=listen \
	-e inject=listen:delay_exit=$HOLD_US "$FRINGE" daemon --config "$CONF"
STRACE_PID=$BG_PID
wait_until 10 pgrep -P "$STRACE_PID" -x fringe || fail "the daemon did not start under strace: $(cat "$TMPD/daemon.log")"
DPID=$(pgrep -P "$STRACE_PID" -x fringe)
_H_PIDS+=("$DPID")
wait_listen gw tcp 127.0.0.1 "$PORT" 10 || fail "the daemon did not reach listen(): $(cat "$TMPD/daemon.log")"
T0=$EPOCHREALTIME
grep -q "starting: config $CONF" "$TMPD/daemon.log" || fail "no start line: $(cat "$TMPD/daemon.log")"
# (No request now: one would wait in the listen queue until the server starts.)

step "edit the config in the window: the new policy path"
write_conf "$CONF.new" three.policy
mv -f "$CONF.new" "$CONF"
T1=$EPOCHREALTIME
# The edit must fall inside the hold, or this test proves nothing.
[ $(( (${T1/./} - ${T0/./}) / 1000 )) -lt $((HOLD_US / 2000)) ] ||
	fail "the edit came $(( (${T1/./} - ${T0/./}) / 1000 )) ms after listen(), not well inside the ${HOLD_US} us hold"
grep -q 'loaded policy' "$TMPD/daemon.log" && fail "a policy was loaded already: the daemon was not held"
info "edited $(( (${T1/./} - ${T0/./}) / 1000 )) ms after the daemon's listen(), which returns after $((HOLD_US / 1000)) ms"

step "the daemon serves, and applies the edited config"
wait_until 15 scrape || fail "the daemon does not serve metrics: $(tail -n 20 "$TMPD/daemon.log")"
wait_until 10 _metric_eq fringe_policy_rules 3 ||
	fail "the config edited during start-up was lost: fringe_policy_rules $(metric fringe_policy_rules), want 3 (three.policy): $(tail -n 10 "$TMPD/daemon.log")"
grep -q "re-read config" "$TMPD/daemon.log" || fail "no 're-read config' log line: $(tail -n 10 "$TMPD/daemon.log")"
info "ok: $(grep -c 'loaded policy' "$TMPD/daemon.log") policy loads; $(grep 're-read config' "$TMPD/daemon.log" | head -n 1)"

step "SIGTERM: a clean stop"
kill -TERM "$DPID"
wait_until 10 bash -c "! kill -0 $DPID 2>/dev/null" || fail "the daemon did not stop on SIGTERM"
wait "$STRACE_PID" || fail "the daemon (under strace) exited non-zero: $(tail -n 5 "$TMPD/daemon.log")"
if grep -q 'level=error' "$TMPD/daemon.log"; then
	fail "errors in the daemon's log: $(grep 'level=error' "$TMPD/daemon.log" | head -3)"
fi

step "done"
harness_done
