#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Integration: `policy test` on odd captures (frames of 0, 1, 13 bytes, larger than a page, 100,000 bytes) and --verbose naming each packet's rule.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/netns.sh"

FRINGE=${FRINGE:-$ROOT/build/fringe}
require_root
[ -x "$FRINGE" ] || skip "build/fringe is not built (run make)"
harness_tmpdir
trap harness_cleanup EXIT

# A private instance, nothing live: no namespace needed, a bounded run.
ft() { timeout 60 "$FRINGE" --pin-dir "$TMPD/nopin" "$@"; }

cat >"$TMPD/p.policy" <<'P'
rule web proto tcp dport 80 allow
rule dns proto udp dport 53 drop
default allow
P

# Frames: runts (0, 1, 13: a test run needs 14), an ordinary TCP/80 and
# UDP/53, a 1514, 3520 (the most a test run gives the program in one piece
# with 4 KiB pages) and 3521 (cut into fragments the program would not see),
# a jumbo of 9000, GRO aggregates of 16 KiB and 64 KiB, and 100,000 bytes
# (refused by the kernel: ENOMEM); then one ordinary frame more, to show the
# replay went on to the end.
"$PYTHON" - "$TMPD/odd.pcap" <<'PY'
import struct, sys
def eth_ipv4(proto, dport, total):
    ip_len = total - 14
    l4 = struct.pack(">HHIIBBHHH", 40000, dport, 1, 0, 0x50, 0x10, 65535, 0, 0) if proto == 6 \
        else struct.pack(">HHHH", 40000, dport, ip_len - 20, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, min(ip_len, 65535), 1, 0, 64, proto, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    f = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + l4
    return f + b"\0" * (total - len(f))
frames = [b"", b"\x01", b"\x02" * 13, eth_ipv4(6, 80, 60), eth_ipv4(17, 53, 60),
          eth_ipv4(6, 80, 1514), eth_ipv4(6, 80, 3520), eth_ipv4(6, 80, 3521),
          eth_ipv4(6, 80, 9000), eth_ipv4(6, 80, 16384),
          eth_ipv4(6, 80, 65535), b"\x02" * 100000, eth_ipv4(6, 80, 60)]
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
for i, f in enumerate(frames):
    out.write(struct.pack("<IIII", 1000 + i, 0, len(f), len(f)) + f)
PY

step "policy test on frames of 0, 1, 13, 60, 1514, 3520, 3521, 9000, 16384, 65535, 100000 bytes"
RC=0
ft policy test "$TMPD/p.policy" --pcap "$TMPD/odd.pcap" --json >"$TMPD/r.json" 2>"$TMPD/r.err" || RC=$?
[ "$RC" -eq 0 ] || fail "policy test aborted (exit $RC): $(head -c 1000 "$TMPD/r.err")"
"$PYTHON" - "$TMPD/r.json" <<'PY' || fail "odd frames were not all judged or skipped with a reason: $(head -c 2000 "$TMPD/r.json")"
import json, sys
d = json.load(open(sys.argv[1]))
skipped = d["skipped"]
reasons = d["skipped_reasons"]
print("  judged", d["packets"], "skipped", skipped, "reasons", reasons)
rules = {r["name"]: r["packets"] for r in d["rules"]}
ok = d["packets"] + skipped == 13 and sum(reasons.values()) == skipped
ok = ok and reasons["runt"] == 3        # 0, 1, 13: shorter than an Ethernet header
ok = ok and reasons["too_long"] == 5    # 3521, 9000, 16384, 65535, 100000
ok = ok and reasons["refused"] == 0 and reasons["snap_length"] == 0
# every frame the program sees whole is judged as live: 60, 1514, 3520 and the last
ok = ok and d["packets"] == 5 and rules["dns"] == 1 and rules["web"] == 4
ok = ok and d["drops"]["malformed"] == 0
ok = ok and sum("not replayed" in w for w in d["warnings"]) == 2
sys.exit(0 if ok else 1)
PY

step "policy test --verbose: one trace line per judged frame, each naming its rule"
ft policy test "$TMPD/p.policy" --pcap "$TMPD/odd.pcap" --json --verbose >"$TMPD/v.json" 2>"$TMPD/v.err" ||
	fail "policy test --verbose failed: $(head -c 1000 "$TMPD/v.err")"
"$PYTHON" - "$TMPD/v.json" <<'PY' || fail "verbose trace wrong: $(head -c 3000 "$TMPD/v.json")"
import json, sys
d = json.load(open(sys.argv[1]))
t = d["trace"]
for x in t:
    print("  ", x["n"], x["len"], x["packet"], x["verdict"], x["reason"], x["rule"])
ok = len(t) == d["packets"]
byname = [x["rule"] for x in t]
ok = ok and byname.count("dns") == 1 and byname.count("web") == d["rules"][0]["packets"]
ok = ok and all(x["rule"] in ("web", "dns", "default", None) for x in t)
ok = ok and [x["verdict"] for x in t if x["rule"] == "dns"] == ["drop"]
sys.exit(0 if ok else 1)
PY

step "policy test --verbose on 100,000 packets and 4,096 rules finishes"
"$PYTHON" - "$TMPD/big.pcap" "$TMPD/big.policy" <<'PY'
import struct, sys
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
for i in range(100000):
    dport = 1000 + i % 4096
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 46, 1, 0, 64, 17, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    f = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + struct.pack(">HHHH", 40000, dport, 26, 0) + b"\0" * 18
    out.write(struct.pack("<IIII", 1000, i, len(f), len(f)) + f)
with open(sys.argv[2], "w") as p:
    for r in range(4096):
        p.write(f"rule r{r} proto udp dport {1000 + r} allow\n")
PY
# Bounded by the harness's timeout, not timed here (make bench measures it).
RC=0
timeout 240 "$FRINGE" policy test "$TMPD/big.policy" --pcap "$TMPD/big.pcap" --json --verbose \
	>"$TMPD/b.json" 2>"$TMPD/b.err" || RC=$?
[ "$RC" -eq 0 ] || fail "policy test --verbose on 100,000 packets: exit $RC $(head -c 500 "$TMPD/b.err")"
"$PYTHON" - "$TMPD/b.json" <<'PY' || fail "big verbose trace wrong"
import json, sys
d = json.load(open(sys.argv[1]))
t = d["trace"]
ok = len(t) == 100000 and all(x["rule"] == "r%d" % (i % 4096) for i, x in enumerate(t))
sys.exit(0 if ok else 1)
PY
harness_done
