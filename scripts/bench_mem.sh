#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The memory section of `make bench`: fringe's kernel memory per scenario, the controller's and the daemon's RSS.
#
#   scripts/bench_mem.sh [OUT.json]
#
# Kernel memory is the sum of bytes_memlock of fringe's maps (scripts/mem_maps.py:
# the maps pinned in the pin dir, the slots' inner maps and the programs' own
# maps). Each scenario runs on a fresh bpffs pin dir and one veth pair between
# two namespaces created here; policies are loaded twice, so both policy slots
# are filled as after any reload. Prints the table and writes the figures as
# JSON (default build/bench/mem.json). Expects `make` to have built build/fringe.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/netns.sh

FRINGE=$PWD/build/fringe
OUT_JSON=${1:-build/bench/mem.json}
MEM=$PWD/scripts/mem_maps.py
REPORT=$PWD/scripts/bench_report.py
IOT=$PWD/examples/iot-gateway.policy
MiB=1048576
# The big policy needs 4101 rule bitmaps: a site with it sets `size bitmaps`.
BIG_BITMAPS=4608

require_root
require_cmd ip bpftool "$PYTHON"
[ -x "$FRINGE" ] || fail "$FRINGE is missing: run 'make' first"
harness_reap_stale
harness_tmpdir
mkdir -p "$(dirname "$OUT_JSON")"
ns_add dut
ns_add peer
veth_add dut d0 10.79.0.1/24 - peer p0 10.79.0.2/24 -
"$PYTHON" "$REPORT" policy fringe 4096 65536 >"$TMPD/big.policy"

fresh_pin() {
	[ -z "${PIN:-}" ] || { umount "$PIN" 2>/dev/null || umount -l "$PIN"; }
	pin_mount
	F=(ip netns exec "$(ns dut)" timeout 120 "$FRINGE" --pin-dir "$PIN")
}
ok() { "${F[@]}" "$@" >"$TMPD/out" 2>"$TMPD/err" || fail "fringe $*: $(tail -n 3 "$TMPD/err")"; }
# measure NAME: one scenario's figures as a line of $TMPD/scen.jsonl.
measure() {
	"$PYTHON" "$MEM" "$PIN" --json >"$TMPD/m.json" || fail "cannot read the maps of $PIN"
	printf '{"scenario": "%s", "mem": %s}\n' "$1" "$(cat "$TMPD/m.json")" >>"$TMPD/scen.jsonl"
	info "$1: $("$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f MiB" % (d["total"] / 1048576))' "$TMPD/m.json")"
}
# rss CMD...: the peak RSS (KiB) of one run.
rss() { "$PYTHON" "$REPORT" time "$@" | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(d["rss_kib"] if d["rc"] == 0 else "null")'; }

step "kernel memory per scenario"
fresh_pin
ok attach d0
measure attached
ok policy load "$IOT"
ok policy load "$IOT"
measure iot
ok flows --enable
measure iot_flows
ok flows --disable
ok detach d0
fresh_pin
ok attach d0 --size "bitmaps=$BIG_BITMAPS"
ok policy load "$TMPD/big.policy"
ok policy load "$TMPD/big.policy"
measure big
ctl_big=$(rss "${F[@]}" policy load "$TMPD/big.policy")
ok detach d0

step "the controller's and the daemon's RSS (example policy)"
fresh_pin
ok attach d0
ctl_iot=$(rss "${F[@]}" policy load "$IOT")
ctl_status=$(rss "${F[@]}" status --json)
printf 'interface d0\npolicy %s\nmetrics 127.0.0.1:19651\npin-dir %s\n' "$IOT" "$PIN" >"$TMPD/mem.conf"
ns_bg dut "$TMPD/daemon.log" timeout 120 "$FRINGE" daemon --config "$TMPD/mem.conf"
DPID=$BG_PID
daemon_rss=null
if wait_listen dut tcp 127.0.0.1 19651 20; then
	nsx dut curl -sf -o /dev/null http://127.0.0.1:19651/metrics || true
	# BG_PID is timeout's: the daemon is its child.
	dpid=$(cat "/proc/$DPID/task/$DPID/children" 2>/dev/null | awk '{print $1}')
	daemon_rss=$(awk '/^VmRSS:/ {print $2}' "/proc/${dpid:-$DPID}/status")
else
	info "the daemon did not listen: $(tail -n 1 "$TMPD/daemon.log")"
fi
bg_stop "$DPID"
ok detach d0

step "policy check refusing 16 MiB of commas (a token a byte): bounded by the file, not by the tokens"
head -c $((16 * MiB)) /dev/zero | tr '\0' , >"$TMPD/commas.policy"
ctl_commas=$("$PYTHON" "$REPORT" time "$FRINGE" policy check "$TMPD/commas.policy" |
	"$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(d["rss_kib"] if d["rc"] == 1 else "null")')

"$PYTHON" - "$TMPD/scen.jsonl" "$OUT_JSON" "$ctl_iot" "$ctl_big" "$ctl_status" "$daemon_rss" "$ctl_commas" <<'EOF'
import json, sys
scen = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
num = lambda s: None if s in ("", "null") else int(s)
rss = {"controller_policy_load_iot_kib": num(sys.argv[3]), "controller_policy_load_big_kib": num(sys.argv[4]),
       "controller_status_kib": num(sys.argv[5]), "daemon_iot_kib": num(sys.argv[6]),
       "controller_policy_check_commas_16mib_kib": num(sys.argv[7])}
MiB = 1048576
goals = {"attached": 4, "iot": 12, "iot_flows": 24, "big": 80}
titles = {"attached": "attached, no policy", "iot": "examples/iot-gateway.policy, flows off",
          "iot_flows": "the same, flows --enable", "big": "4096 rules + 65,536 set items"}
doc = {"scenarios": {}, "rss": rss}
print("\nkernel memory (sum of bytes_memlock of fringe's maps, %d possible CPUs)" % scen[0]["mem"]["ncpus"])
print("  %-42s %10s %8s" % ("scenario", "MiB", "goal"))
for s in scen:
    m = s["mem"]
    doc["scenarios"][s["scenario"]] = m
    tot = m["total"] / MiB
    g = goals.get(s["scenario"])
    print("  %-42s %10.2f %8s %s" % (titles.get(s["scenario"], s["scenario"]), tot, "<= %d" % g if g else "",
                                   "" if g is None else ("ok" if tot <= g else "MISSED")))
iot = doc["scenarios"].get("iot")
if iot:
    per_cpu = iot["per_cpu"] / MiB
    doc["per_cpu_growth_iot"] = iot["per_cpu"]
    print("  %-42s %10.3f %8s %s" % ("growth per additional possible CPU (iot)", per_cpu, "<= 1",
                                   "ok" if per_cpu <= 1 else "MISSED"))
    print("\nlargest maps, example policy (KiB):")
    for name, e in sorted(iot["maps"].items(), key=lambda kv: -kv[1]["bytes"])[:8]:
        print("  %-40s %9.1f%s" % (name, e["bytes"] / 1024, "  (%.1f per CPU)" % (e["per_cpu"] / 1024) if e["per_cpu"] >= 512 else ""))
print("\nRSS (KiB): " + ", ".join("%s %s" % (k, v) for k, v in rss.items()))
json.dump(doc, open(sys.argv[2], "w"), indent=1)
EOF
