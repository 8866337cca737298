#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: the files `learn --output` and `sample --pcap` write: never through a planted link, nothing half-written left, a good file kept when a write fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/gateway.sh"
. "$ROOT/scripts/lib/fringe.sh"

require_root
require_cmd ip ping tcpdump timeout mountpoint
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

harness_tmpdir
POL=$TMPD/writers.policy
cat >"$POL" <<EOF
# test_writers policy: every echo request is sampled
rule icmp proto icmp allow sample 1/1
default allow
EOF
VICTIM=$TMPD/victim		# what a planted link points at: must never change
printf 'precious: not fringe output\n' >"$VICTIM"
cp "$VICTIM" "$TMPD/victim.orig"

pings() { timeout 20 ip netns exec "$SENSOR1_NS" ping -c "$1" -i 0.05 -W 2 "$CLOUD_IP" >/dev/null; }
victim_intact() { cmp -s "$VICTIM" "$TMPD/victim.orig" || fail "$1: the link's target changed: $(head -c 200 "$VICTIM")"; }
# only_files DIR NAME...: DIR holds exactly these names (no temporary left behind).
only_files() {
	local dir=$1 got want
	shift
	got=$(find "$dir" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "$dir holds '$got', want '$want'"
}
# start LOG ARGS...: `fringe ARGS` in gw, in the background; FPID is fringe's own PID.
start() {
	local log=$1
	shift
	ns_bg gw "$log" "$FRINGE" --pin-dir "$PIN" "$@"
	FPID=$BG_PID
}
# learning LOG: wait until learn watches (the flows before it are not counted).
learning() { wait_until 10 grep -q 'learning for' "$1" || fail "learn did not start: $(cat "$1")"; }
# finish PID: its exit status in RC.
finish() {
	RC=0
	wait "$1" || RC=$?
}
# A tmpfs of four pages, filled but for what it holds: every write to it fails (ENOSPC).
full_fs() {
	FULL=$TMPD/full
	mkdir -p "$FULL"
	mount -t tmpfs -o size=16k,mode=0755 fringe-test-full "$FULL" || fail "cannot mount a tmpfs at $FULL"
	harness_on_cleanup "umount -l '$FULL'"
}
fill_fs() { dd if=/dev/zero of="$FULL/filler" bs=4k count=64 >/dev/null 2>&1 || true; }

step "topology, attach, policy"
gw_topology_up
FR_NS=$GW_NS
gw_topology_check
pin_mount
fr_ok attach "$GW_IF_SENSOR1" --mode native
fr_ok policy load "$POL"
pings 3 || fail "ping sensor1 -> cloud failed"
full_fs

# ---- learn --output --------------------------------------------------------------------

step "learn: a symlink planted at the output is replaced, its target untouched"
OUT=$TMPD/lrn/learned.policy
mkdir -p "$TMPD/lrn"
ln -s "$VICTIM" "$OUT"
start "$TMPD/learn1.log" learn --duration 3 --output "$OUT"
learning "$TMPD/learn1.log"
pings 10 || fail "ping during learn failed"
finish "$FPID"
[ "$RC" -eq 0 ] || fail "learn exited $RC: $(cat "$TMPD/learn1.log")"
victim_intact "learn through a link at the output"
if [ -L "$OUT" ] || [ ! -f "$OUT" ]; then fail "$OUT is not a regular file after learn"; fi
grep -q '^rule ' "$OUT" || fail "the learned policy has no rule: $(cat "$OUT")"
fr_ok policy check "$OUT"
only_files "$TMPD/lrn" learned.policy
info "ok: $(tail -n 1 "$TMPD/learn1.log")"

step "learn: a symlink planted at the old temporary name (PATH.tmp.PID) redirects nothing"
OUT=$TMPD/lrn/second.policy
start "$TMPD/learn2.log" learn --duration 3 --output "$OUT"
ln -s "$VICTIM" "$OUT.tmp.$FPID"	# the name fringe used to write through with fopen("w")
learning "$TMPD/learn2.log"
pings 10 || fail "ping during learn failed"
finish "$FPID"
[ "$RC" -eq 0 ] || fail "learn exited $RC: $(cat "$TMPD/learn2.log")"
victim_intact "learn with a link at $OUT.tmp.$FPID"
fr_ok policy check "$OUT"
[ -L "$OUT.tmp.$FPID" ] || fail "the planted link was removed or replaced"
rm -f "$OUT.tmp.$FPID"
only_files "$TMPD/lrn" learned.policy second.policy

step "learn: killed while learning leaves nothing; Ctrl-C writes a whole policy"
OUT=$TMPD/lrn/killed.policy
start "$TMPD/learn3.log" learn --duration 30 --output "$OUT"
learning "$TMPD/learn3.log"
kill -KILL "$FPID"
finish "$FPID"
only_files "$TMPD/lrn" learned.policy second.policy
OUT=$TMPD/lrn/stopped.policy
start "$TMPD/learn4.log" learn --duration 30 --output "$OUT"
learning "$TMPD/learn4.log"
pings 5 || fail "ping during learn failed"
kill -INT "$FPID"
finish "$FPID"
[ "$RC" -eq 0 ] || fail "learn exited $RC on SIGINT: $(cat "$TMPD/learn4.log")"
fr_ok policy check "$OUT"
only_files "$TMPD/lrn" learned.policy second.policy stopped.policy

step "learn: a failed write (disk full) keeps the good file and leaves no temporary"
printf '# a good policy\ndefault allow\n' >"$FULL/gw.policy"
cp "$FULL/gw.policy" "$TMPD/gw.policy.orig"
fill_fs
start "$TMPD/learn5.log" learn --duration 2 --output "$FULL/gw.policy"
learning "$TMPD/learn5.log"
pings 5 || fail "ping during learn failed"
finish "$FPID"
[ "$RC" -eq 1 ] || fail "learn onto a full disk exited $RC, want 1: $(cat "$TMPD/learn5.log")"
grep -q "^fringe: cannot write $FULL/gw.policy: No space left on device" "$TMPD/learn5.log" ||
	fail "no clear error for a full disk: $(cat "$TMPD/learn5.log")"
cmp -s "$FULL/gw.policy" "$TMPD/gw.policy.orig" || fail "the good policy changed: $(cat "$FULL/gw.policy")"
only_files "$FULL" gw.policy filler
rm -f "$FULL/filler" "$FULL/gw.policy"

# ---- sample --pcap ---------------------------------------------------------------------

step "sample --pcap: a symlink or a second hard link at the path is refused, its target untouched"
PC=$TMPD/pcap
mkdir -p "$PC"
ln -s "$VICTIM" "$PC/link.pcap"
expect_fail 1 "sample --pcap through a symlink" sample --pcap "$PC/link.pcap" --duration 1
victim_intact "sample --pcap through a symlink"
[ -L "$PC/link.pcap" ] || fail "the planted symlink was replaced"
ln "$VICTIM" "$PC/hard.pcap"
expect_fail 1 "sample --pcap onto a second hard link" sample --pcap "$PC/hard.pcap" --duration 1
victim_intact "sample --pcap onto a hard link"
rm -f "$PC/link.pcap" "$PC/hard.pcap"

step "sample --pcap: a start that fails (another sampler runs) leaves the existing capture as it was"
start "$TMPD/sample1.log" sample --pcap "$PC/first.pcap" --duration 60
wait_until 10 grep -q '^sampling' "$TMPD/sample1.log" || fail "sample did not start: $(cat "$TMPD/sample1.log")"
A_PID=$FPID
pings 5 || fail "ping during sample failed"
printf 'a capture someone kept\n' >"$PC/kept.pcap"
cp "$PC/kept.pcap" "$TMPD/kept.orig"
expect_fail 1 "a second sampler" sample --pcap "$PC/kept.pcap" --duration 1
cmp -s "$PC/kept.pcap" "$TMPD/kept.orig" || fail "a refused sampler truncated $PC/kept.pcap"

step "sample --pcap: SIGTERM ends a whole capture, every sample in it"
pings 5 || fail "ping during sample failed"
kill -TERM "$A_PID"
finish "$A_PID"
[ "$RC" -eq 0 ] || fail "sample exited $RC on SIGTERM: $(cat "$TMPD/sample1.log")"
tcpdump -nn -r "$PC/first.pcap" >"$TMPD/first.txt" 2>"$TMPD/tcpdump.err" ||
	fail "tcpdump cannot read the capture: $(cat "$TMPD/tcpdump.err")"
N=$(grep -c "$SENSOR1_IP > $CLOUD_IP: ICMP echo request" "$TMPD/first.txt" || true)
[ "$N" -eq 10 ] || fail "the capture holds $N echo requests, want 10: $(head -n 3 "$TMPD/first.txt")"
grep -q "^$N samples written to $PC/first.pcap" "$TMPD/sample1.log" ||
	fail "the summary does not say $N samples: $(tail -n 1 "$TMPD/sample1.log")"
only_files "$PC" first.pcap kept.pcap

step "sample --pcap: a full disk stops the capture with a clear error"
fill_fs
start "$TMPD/sample2.log" sample --pcap "$FULL/full.pcap" --duration 20
wait_until 10 grep -q '^sampling' "$TMPD/sample2.log" || fail "sample did not start: $(cat "$TMPD/sample2.log")"
pings 20 || fail "ping during sample failed"
wait_until 10 bash -c "! kill -0 $FPID 2>/dev/null" || fail "sample kept running on a full disk: $(cat "$TMPD/sample2.log")"
finish "$FPID"
[ "$RC" -eq 1 ] || fail "sample on a full disk exited $RC, want 1: $(cat "$TMPD/sample2.log")"
grep -q "cannot write $FULL/full.pcap: No space left on device" "$TMPD/sample2.log" ||
	fail "no clear error for a full disk: $(cat "$TMPD/sample2.log")"
info "ok: $(grep 'No space' "$TMPD/sample2.log" | head -n 1)"

step "done"
harness_done
