#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: where XDP cannot be shared, attach refuses a foreign program unless --force; capacity errors change nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"
. "$ROOT/scripts/lib/fringe.sh"

require_root
require_cmd ip xdp-filter timeout bpftool "$PYTHON"
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"

# prog_names IFACE: the name of the XDP program attached to IFACE ("" when none).
prog_names() {
	ip -n "$(ns a)" link show dev "$1" | grep -o 'prog/xdp id [0-9]* name [A-Za-z0-9_]*' |
		sed 's/.* name //' || true
}

harness_tmpdir
ns_add a
ns_add b
veth_add a x0 10.78.0.1/24 - b x1 10.78.0.2/24 -
pin_mount
FR_NS=$(ns a)

step "a foreign program (xdp-filter, through libxdp) on x0"
nsx a env LIBXDP_BPFFS="$PIN" xdp-filter load -m skb x0 >/dev/null 2>&1 || fail "xdp-filter load failed"
harness_on_cleanup "nsx a env LIBXDP_BPFFS=$PIN xdp-filter unload x0 >/dev/null 2>&1"
BEFORE=$(prog_names x0)
info "attached: $BEFORE"

if [[ $BEFORE == *xdp_dispatcher* ]]; then
	info "libxdp's dispatcher runs here: sharing is test_coexist's; no refusal to test"
else
	step "no dispatcher here (xdp-filter is attached alone): attach must refuse"
	expect_fail 1 "attach next to a foreign program" attach x0
	grep -q -- '--force' "$TMPD/err" || fail "the refusal does not mention --force: $(cat "$TMPD/err")"
	[ "$(prog_names x0)" = "$BEFORE" ] || fail "the refused attach changed x0: $(prog_names x0)"

	step "--force replaces it"
	fr_ok attach x0 --force
	AFTER=$(prog_names x0)
	[[ $AFTER == fringe_xdp_ingr* ]] || fail "after --force x0 runs: $AFTER"
	fr_ok detach x0
	[ -z "$(prog_names x0)" ] || fail "detach left $(prog_names x0)"
fi

step "capacity: 4097 rules are refused and nothing changes"
fr_ok attach x0
printf 'rule keep proto icmp allow\n' >"$TMPD/small.policy"
fr_ok policy load "$TMPD/small.policy"
fr_json "$TMPD/show0.json" policy show --json
{
	for i in $(seq 1 4097); do echo "rule r$i proto udp dport $((i % 60000 + 1)) drop"; done
} >"$TMPD/big.policy"
expect_fail 1 "policy load of 4097 rules" policy load "$TMPD/big.policy"
grep -q "big.policy:4097:1: error: .*4096" "$TMPD/err" ||
	fail "capacity error is not located at rule 4097: $(head -3 "$TMPD/err")"
fr_json "$TMPD/show1.json" policy show --json
[ "$(q "$TMPD/show1.json" 'd["generation"]')" = "$(q "$TMPD/show0.json" 'd["generation"]')" ] ||
	fail "a refused load changed the generation"
[ "$(q "$TMPD/show1.json" '[r["name"] for r in d["rules"]]')" = "['keep']" ] ||
	fail "a refused load changed the rules"
fr_ok metrics
grep -q '^fringe_policy_load_failures_total 1$' "$TMPD/out" || fail "load failure not counted in metrics"

step "the attached program counts in the slot recorded for x0, known from its load"
# fringe_attach_slot in the program's read-only data (0 would look the slot
# up by ifindex on every packet) must be the slot fringe_ifslots holds for x0.
PROG=$(xdp_prog_id a x0)
X0=$(nsx a cat /sys/class/net/x0/ifindex)
RODATA=$(for m in $(bpftool -j prog show id "$PROG" | "$PYTHON" -c 'import json,sys; print(*json.load(sys.stdin)["map_ids"])'); do
	bpftool -j map show id "$m" | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); d["name"].endswith(".rodata") and print(d["id"])'
done)
[ -n "$RODATA" ] || fail "the attached program (id $PROG) has no .rodata map"
bpftool -j map dump id "$RODATA" >"$TMPD/rodata.json"
bpftool -j map dump pinned "$PIN/fringe_ifslots" >"$TMPD/ifslots.json"
"$PYTHON" - "$TMPD/rodata.json" "$TMPD/ifslots.json" "$X0" <<'PY' || fail "x0's program does not count in x0's slot"
import json, sys
ro = json.load(open(sys.argv[1]))[0]["formatted"]["value"][".rodata"]
have = next(v["fringe_attach_slot"] for v in ro if "fringe_attach_slot" in v)
want = next(e["formatted"]["value"] for e in json.load(open(sys.argv[2])) if e["formatted"]["key"] == int(sys.argv[3]))
print("  fringe_attach_slot %d, x0's slot %d" % (have, want))
sys.exit(0 if have == want != 0 else 1)
PY

step "attached under traffic, x0 counts every packet its program judges, from the first"
# The slot's counters are cleared before the program that counts in them is
# attached; cleared after, they lost what it counted in between.  No IPv6:
# every packet is then ICMP (rule keep), another IPv4 packet (the default)
# or not IP (non_ip), and nothing arrives once the flood has stopped.
for n in a b; do nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
judged() {	# judged FILE: the packets the rules and the default have counted, from policy show --json
	q "$1" 'sum(r["packets"] for r in d["rules"]) + d["default"]["packets"]'
}
fr_ok detach x0
fr_json "$TMPD/judged0.json" policy show --json
ns_bg b "$TMPD/flood.log" timeout 5 ping -q -f -w 3 10.78.0.1
FLOOD=$BG_PID
sleep 0.5
fr_ok attach x0
wait "$FLOOD" || true
sleep 0.3
fr_json "$TMPD/stats.json" stats --json
fr_json "$TMPD/judged1.json" policy show --json
JUDGED=$(($(judged "$TMPD/judged1.json") - $(judged "$TMPD/judged0.json")))
COUNTED=$(q "$TMPD/stats.json" 'next(sum(v["packets"] for v in i["verdicts"].values()) - i["non_ip"] for i in d["interfaces"] if i["name"] == "x0")')
info "judged $JUDGED, x0's verdicts (IP) $COUNTED"
[ "$JUDGED" -gt 100 ] || fail "the flood reached x0's program $JUDGED times: $(cat "$TMPD/flood.log")"
[ "$COUNTED" = "$JUDGED" ] || fail "x0 counted $COUNTED of the $JUDGED packets its program judged"

step "--json: every command prints one JSON document, failures included"
printf 'rule a proto tcp dport 99999 allow\nrule b src @nosuch allow\n' >"$TMPD/bad.policy"
printf 'self a\nnode a underlay 10.78.0.1 prefix 10.201.1.0/24\nnode b underlay 10.78.0.2 mac 02:00:00:00:00:02 prefix 10.201.2.0/24\n' >"$TMPD/good.nodes"
printf 'self a\nnode a underlay nowhere\n' >"$TMPD/bad.nodes"
printf 'interface nosuch0\npolicy %s\n' "$TMPD/bad.policy" >"$TMPD/bad.conf"
for args in "version" "help" "status" "stats" "flows" "metrics" "policy show" "nodes show" \
	"policy check $TMPD/small.policy" "policy load $TMPD/small.policy --confirm 60" \
	"policy confirm" "nodes check $TMPD/good.nodes" "nodes load $TMPD/good.nodes" \
	"detach x0" "attach x0 --mode generic"; do
	# shellcheck disable=SC2086 # the words of one command line
	json_doc 0 $args
done
[ "$(q "$TMPD/out" 'd["interface"]')" = x0 ] || fail "attach --json names no interface"
json_doc 0 flows --enable
json_doc 0 flows --disable
for args in "policy check $TMPD/bad.policy" "policy load $TMPD/bad.policy" "policy confirm" \
	"nodes check $TMPD/bad.nodes" "nodes load $TMPD/bad.nodes" "attach nosuch0" \
	"detach nosuch0" "policy test $TMPD/small.policy --pcap $TMPD/nosuch.pcap" \
	"daemon --config $TMPD/bad.conf --check"; do
	# shellcheck disable=SC2086
	json_doc 1 $args
done
json_doc 1 policy check "$TMPD/bad.policy"
[ "$(q "$TMPD/out" 'len(d["errors"])')" = 2 ] || fail "policy check --json: not both errors"
[ "$(q "$TMPD/out" '[e["line"] for e in d["errors"]]')" = "[1, 2]" ] ||
	fail "policy check --json: wrong lines"
for args in "attach" "policy load" "policy frob" "sample --count 1" "learn --duration 1 --output -" \
	"stats --interval 0" "flows --enable --top 3"; do
	# shellcheck disable=SC2086
	json_doc 2 $args
done

step "a state pinned in another format is refused, and refusing it changes nothing"
# fringe_meta ends with its format and a pad word (include/fringe/abi.h).
FORMAT=$(sed -n 's/^#define FRINGE_STATE_FORMAT \([0-9]*\).*/\1/p' "$ROOT/include/fringe/abi.h")
[ -n "$FORMAT" ] || fail "no FRINGE_STATE_FORMAT in abi.h"
meta_format() {
	"$PYTHON" - "$PIN/fringe_meta" "$@" <<'EOF'
import json, subprocess, sys
path = sys.argv[1]
key = ["key", "0", "0", "0", "0"]
out = subprocess.run(["bpftool", "-j", "map", "lookup", "pinned", path] + key,
                     check=True, capture_output=True, text=True).stdout
v = [int(b, 16) for b in json.loads(out)["value"]]
if len(sys.argv) > 2:
    v[-8:-4] = list(int(sys.argv[2]).to_bytes(4, "little"))
    subprocess.run(["bpftool", "map", "update", "pinned", path] + key + ["value"] +
                   [str(b) for b in v], check=True)
print(int.from_bytes(bytes(v[-8:-4]), "little"))
EOF
}
[ "$(meta_format)" = "$FORMAT" ] || fail "the state records format $(meta_format), not $FORMAT"
fr_json "$TMPD/show2.json" policy show --json
meta_format 1 >/dev/null
expect_fail 1 "policy show on a state of format 1" policy show
grep -q "another fringe version (format 1, this one writes $FORMAT)" "$TMPD/err" ||
	fail "the refusal does not say why: $(head -c 500 "$TMPD/err")"
expect_fail 1 "policy load on a state of format 1" policy load "$TMPD/small.policy"
[ "$(meta_format)" = 1 ] || fail "a refused command rewrote the state's format"
meta_format "$FORMAT" >/dev/null
fr_json "$TMPD/show3.json" policy show --json
[ "$(q "$TMPD/show3.json" 'd["generation"]')" = "$(q "$TMPD/show2.json" 'd["generation"]')" ] ||
	fail "the refused load changed the policy"
fr_ok detach x0
harness_done
