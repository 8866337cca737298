#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: a staged policy (SPEC §11) on live traffic reports exactly the flows it would break or let in, drops nothing while staged, and is enforced by promote.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/fringe.sh"

require_root
require_cmd ip ping curl timeout bpftool "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

PORT=9661
harness_tmpdir
ns_add g
ns_add c
# No IPv6 here: the counts below are exact, and IPv6 neighbour discovery
# would add packets of its own.
for n in g c; do
	nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
veth_add g x0 10.81.0.1/24 - c x1 10.81.0.2/24 -
pin_mount
FR_NS=$(ns g)

# send N PORT [SPORT [GAP]]: N UDP datagrams from the client to the gateway, GAP s apart.
send() {
	nsx c timeout 30 "$PYTHON" - "$1" "$2" "${3:-0}" "${4:-0.002}" <<'EOF' || fail "the sender failed"
import socket, sys, time
n, port, sport, gap = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if sport:
    s.bind(("10.81.0.2", sport))
for i in range(n):
    s.sendto(b"x" * 32, ("10.81.0.1", port))
    time.sleep(gap)
EOF
}

# A receiver on the gateway counts what arrives on UDP 5000.
recv_start() {
	ns_bg g "$TMPD/recv.out" timeout 120 "$PYTHON" -u -c '
import socket, signal, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.81.0.1", 5000))
n = 0
def done(*a):
    print("received", n, flush=True); sys.exit(0)
signal.signal(signal.SIGTERM, done)
print("ready", flush=True)
while True:
    s.recv(2048); n += 1
'
	RECV_PID=$BG_PID
	wait_until 10 grep -q ready "$TMPD/recv.out" || fail "the receiver did not start"
}
recv_count() {
	sleep 0.5	# what is queued on the socket is read before the count
	bg_stop "$RECV_PID"
	sed -n 's/^received //p' "$TMPD/recv.out"
}

cat >"$TMPD/active.policy" <<'EOF'
rule ping proto icmp allow
rule dns proto udp dport 53 allow
rule block proto udp dport 7000 drop
default allow
EOF
# Tighter: only ping and port 7000 (now allowed); everything else dropped.
cat >"$TMPD/staged.policy" <<'EOF'
# staged for audit
rule ping proto icmp allow
rule open7000 proto udp dport 7000 allow
rule steer-none proto udp dport 9 steer cpu 0
default drop
EOF

step "gateway: fringe on x0, a permissive policy in force"
fr_ok attach x0
fr_ok policy load "$TMPD/active.policy"
json_doc 0 policy show --staged
[ "$(q "$TMPD/out" 'd["staged"]')" = False ] || fail "something is staged before any stage"
expect_fail 1 "diff with nothing staged" policy diff
expect_fail 1 "promote with nothing staged" policy promote
expect_fail 1 "unstage with nothing staged" policy unstage
fr_ok metrics
for want in 'fringe_staged_policy_generation 0' 'fringe_staged_changes_total{from="allow",to="drop"} 0' \
	'fringe_staged_changes_total{from="drop",to="steer"} 0'; do
	grep -qF "$want" "$TMPD/out" || fail "before any stage, metrics lack '$want' (series exist from the start)"
done

step "a broken policy is refused, located, and stages nothing"
printf 'rule a proto udp dport 99999 drop\n' >"$TMPD/bad.policy"
expect_fail 1 "stage a broken policy" policy stage "$TMPD/bad.policy"
grep -q 'bad.policy:1:' "$TMPD/err" || fail "the error is not located: $(cat "$TMPD/err")"
json_doc 0 policy show --staged
[ "$(q "$TMPD/out" 'd["staged"]')" = False ] || fail "a broken policy was staged"

step "stage a default-drop policy"
json_doc 0 policy stage "$TMPD/staged.policy"
STAGED_GEN=$(q "$TMPD/out" 'd["generation"]')
ACTIVE_GEN=$(q "$TMPD/out" 'd["active_generation"]')
info "staged generation $STAGED_GEN beside generation $ACTIVE_GEN"
fr_ok policy show --staged
sed 's/^/    /' "$TMPD/out"
json_doc 0 status
[ "$(q "$TMPD/out" 'd["policy"]["staged_generation"]')" = "$STAGED_GEN" ] || fail "status does not name the staged policy"
json_doc 0 policy show
[ "$(q "$TMPD/out" 'd["staged_generation"]')" = "$STAGED_GEN" ] || fail "policy show does not name the staged policy"
[ "$(q "$TMPD/out" 'd["generation"]')" = "$ACTIVE_GEN" ] || fail "staging changed the policy in force"

step "traffic: 50 to UDP 5000, 30 to UDP 53, 20 to UDP 7000, 10 pings, 15 to UDP 9"
recv_start
send 50 5000 40000
send 30 53 40053
send 20 7000 40070
send 15 9 40009
nsx c ping -c 10 -i 0.05 -W 1 10.81.0.1 >/dev/null || fail "ping failed while staged"
GOT=$(recv_count)
[ "$GOT" -eq 50 ] || fail "the receiver got $GOT of 50 datagrams while the staged policy (default drop) only counts"
info "all 50 datagrams to UDP 5000 arrived: nothing dropped by the staged policy"

json_doc 0 stats
DROPS=$(q "$TMPD/out" 'sum(iface("x0")["drops"].values())')
[ "$DROPS" -eq 20 ] || fail "x0 dropped $DROPS packets; the active policy drops exactly the 20 to UDP 7000"

step "policy show --staged: what the staged rules counted"
json_doc 0 policy show --staged
cp "$TMPD/out" "$TMPD/staged.json"
for want in "ping 10" "open7000 20" "steer-none 15"; do
	set -- $want
	GOTN=$(q "$TMPD/staged.json" "rule('$1')['packets']")
	[ "$GOTN" -eq "$2" ] || fail "staged rule $1 counted $GOTN, want $2"
done
GOTD=$(q "$TMPD/staged.json" 'd["default"]["packets"]')
[ "$GOTD" -eq 80 ] || fail "the staged default counted $GOTD, want 80 (50 to 5000, 30 to 53)"
[ "$(q "$TMPD/staged.json" 'd["default"]["verdict"]')" = drop ] || fail "staged default verdict"
[ "$(q "$TMPD/staged.json" 'd["file"]')" = "$TMPD/staged.policy" ] || fail "staged file"

step "policy diff: exactly the flows whose verdict would change, heaviest first"
fr_ok policy diff
sed 's/^/    /' "$TMPD/out"
json_doc 0 policy diff
cp "$TMPD/out" "$TMPD/diff.json"
"$PYTHON" - "$TMPD/diff.json" <<'EOF' || fail "policy diff is not what was sent (above)"
import json, sys
d = json.load(open(sys.argv[1]))
got = [(c["from"]["rule"], c["from"]["verdict"], c["to"]["rule"], c["to"]["verdict"], c["packets"],
        c["last_flow"]["proto"], c["last_flow"]["src"], c["last_flow"]["sport"],
        c["last_flow"]["dst"], c["last_flow"]["dport"], c["last_flow"]["interface"]) for c in d["changes"]]
want = [
    ("default", "allow", "default", "drop", 50, "udp", "10.81.0.2", 40000, "10.81.0.1", 5000, "x0"),
    ("dns", "allow", "default", "drop", 30, "udp", "10.81.0.2", 40053, "10.81.0.1", 53, "x0"),
    ("block", "drop", "open7000", "allow", 20, "udp", "10.81.0.2", 40070, "10.81.0.1", 7000, "x0"),
    ("default", "allow", "steer-none", "steer", 15, "udp", "10.81.0.2", 40009, "10.81.0.1", 9, "x0"),
]
for w, g in zip(want, got):
    print("   ", g)
assert got == want, "want %r" % (want,)
assert d["changes_not_recorded"] == 0
EOF

step "metrics: fringe_staged_rule_packets_total and fringe_staged_changes_total"
cat >"$TMPD/fringe.conf" <<EOF
interface x0 mode native
policy $TMPD/active.policy
metrics 127.0.0.1:$PORT
pin-dir $PIN
EOF
ns_bg g "$TMPD/daemon.log" "$FRINGE" daemon --config "$TMPD/fringe.conf"
DPID=$BG_PID
scrape() { nsx g curl -sf -m 5 -o "$TMPD/metrics" "http://127.0.0.1:$PORT/metrics"; }
wait_until 30 scrape || fail "the daemon does not serve: $(tail -n 5 "$TMPD/daemon.log")"
for want in 'fringe_staged_rule_packets_total{rule="open7000"} 20' \
	'fringe_staged_rule_packets_total{rule="default"} 80' \
	'fringe_staged_changes_total{from="allow",to="drop"} 80' \
	'fringe_staged_changes_total{from="drop",to="allow"} 20' \
	'fringe_staged_changes_total{from="allow",to="steer"} 15' \
	"fringe_staged_policy_generation $STAGED_GEN"; do
	grep -qF "$want" "$TMPD/metrics" || fail "metrics lack '$want': $(grep staged "$TMPD/metrics" | head -20)"
done
info "metrics agree with policy diff"
nsx g curl -sf -m 5 "http://127.0.0.1:$PORT/api/v1/diff" >"$TMPD/api.json" || fail "no /api/v1/diff"
[ "$(q "$TMPD/api.json" 'len(d["changes"])')" -eq 4 ] || fail "/api/v1/diff differs from policy diff"
bg_stop "$DPID"

step "restage: counters start again from zero"
json_doc 0 policy stage "$TMPD/staged.policy"
[ "$(q "$TMPD/out" 'd["replaced"]')" = "$STAGED_GEN" ] || fail "the restage does not say what it replaced"
STAGED_GEN=$(q "$TMPD/out" 'd["generation"]')
json_doc 0 policy diff
[ "$(q "$TMPD/out" 'len(d["changes"])')" -eq 0 ] || fail "a new stage kept the old changes"

step "promote --confirm: the staged policy decides, atomically; confirm keeps it"
# ip_passed: the IP packets x0 passed (fringe's own counters; ARP is non-IP).
ip_passed() { q "$TMPD/out" 'iface("x0")["verdicts"]["pass"]["packets"] - iface("x0")["non_ip"]'; }
json_doc 0 stats
DROPS0=$(q "$TMPD/out" 'sum(iface("x0")["drops"].values())')
PASS0=$(ip_passed)
recv_start
send 300 5000 41000 0.005 &
SEND_PID=$!
sleep 0.3
json_doc 0 policy promote --confirm 60
NEW_GEN=$(q "$TMPD/out" 'd["generation"]')
wait "$SEND_PID" || fail "the sender failed during promote"
GOT=$(recv_count)
json_doc 0 stats
DROPS1=$(q "$TMPD/out" 'sum(iface("x0")["drops"].values())')
PASS1=$(ip_passed)
info "of 300 datagrams to UDP 5000 sent across the promote, $((PASS1 - PASS0)) passed (before the flip; $GOT read by the receiver), $((DROPS1 - DROPS0)) were dropped (after)"
json_doc 0 policy show
[ "$(q "$TMPD/out" 'd["generation"]')" = "$NEW_GEN" ] || fail "promote did not put generation $NEW_GEN in force"
[ "$(q "$TMPD/out" 'len(d["rules"])')" -eq 3 ] || fail "the promoted policy has not the staged rules"
[ "$(q "$TMPD/out" 'd["default"]["verdict"]')" = drop ] || fail "promoted default is not drop"
# Each datagram was judged by one policy or the other, whole: the old passed
# it, the new dropped it; none was lost between them.  (What arrived is at
# most what passed: a loaded machine may still hold one in a socket.)
[ "$GOT" -gt 0 ] && [ "$DROPS1" -gt "$DROPS0" ] || fail "the stream did not span the promote"
[ $((PASS1 - PASS0 + DROPS1 - DROPS0)) -eq 300 ] ||
	fail "promote: $((PASS1 - PASS0)) passed + $((DROPS1 - DROPS0)) dropped != 300 sent"
[ "$GOT" -le $((PASS1 - PASS0)) ] || fail "$GOT arrived but only $((PASS1 - PASS0)) passed"
json_doc 0 policy show --staged
[ "$(q "$TMPD/out" 'd["staged"]')" = False ] || fail "still staged after promote"
fr_ok policy confirm

step "after promote: UDP 5000 is dropped, UDP 7000 passes"
recv_start
send 10 5000 42000
GOT=$(recv_count)
[ "$GOT" -eq 0 ] || fail "$GOT datagrams to UDP 5000 passed the promoted default drop"
json_doc 0 policy show
P0=$(q "$TMPD/out" "rule('open7000')['packets']")
send 10 7000 42070
json_doc 0 policy show
[ "$(q "$TMPD/out" "rule('open7000')['packets']")" -eq $((P0 + 10)) ] || fail "open7000 did not pass UDP 7000"

step "unstage: the staged program stops judging"
json_doc 0 policy stage "$TMPD/active.policy"
# staged_prog: the programs in fringe_staged_prog (what the main program tail-calls).
staged_prog() { bpftool -j map dump pinned "$PIN/fringe_staged_prog" 2>/dev/null | "$PYTHON" -c 'import json, sys; print(len(json.load(sys.stdin)))'; }
[ "$(staged_prog)" = 1 ] || fail "no staged program to tail-call while a policy is staged"
json_doc 0 policy unstage
[ "$(staged_prog)" = 0 ] || fail "unstage left the staged program in place"
send 5 7000 43000
json_doc 0 policy show --staged
[ "$(q "$TMPD/out" 'd["staged"]')" = False ] || fail "still staged after unstage"
! ls "$PIN" | grep -q fringe_staged_source || fail "unstage left the staged source pinned"
fr_ok metrics
grep -qF 'fringe_staged_policy_generation 0' "$TMPD/out" || fail "metrics still name a staged policy"
harness_done
