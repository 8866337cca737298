#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Place perf's samples on the JIT image of fringe_xdp_ingress (bench_profile.sh).

DIR holds jited.bin (the functions' images one after the other), jited.txt
("func ADDR LEN" lines, then "ADDR<TAB>FILE:LINE<TAB>SOURCE" per line-table
entry) and samples.txt (`perf script -F ip,sym`).  Writes DIR/annotated.txt:
the disassembly, each instruction with its share of the program's samples and
under the source line it belongs to; prints the hottest lines and the share
of each part of the program.  A sample lands on the instruction that waited
(retirement), often the one after a slow load: read shares by line and by
part, not by the single instruction.
"""
import collections
import glob
import re
import subprocess
import sys

# Parts of the program, by the function a source line lies in: first the
# functions named whole, then the first prefix that matches; a function in
# neither list is its own part.
WHOLE = {
    "act": "the rule's action",
    "judge": "judging: slot, features, rule, counters' calls",
    "fringe_xdp_ingress": "entry and exit: prologue, scratch, verdict",
}
PREFIXES = [
    (("stats_",), "counters (interface, rule, application, device)"),
    (("rule_memo_", "policy_classify_remembered"), "the rule memo"),
    (("identify_remembered", "fringe_identify", "dev_memo_", "policy_device", "app_memo_",
      "app_track", "app_needs_flow", "app_flow_key", "memo_", "pkt_flow_word", "pkt_mac_word"),
     "device and application memos (identify)"),
    (("app_",), "application recognition"),
    (("parse_", "beyond", "ctx_"), "parsing"),
    (("policy_", "fringe_dns_", "dns_"), "classification"),
    (("overlay_", "ov_", "fringe_ov_"), "overlay"),
]

# A function's first line: a name and "(" at column 0, not a declaration.
FUNC = re.compile(r"^(?!typedef|struct|enum|union|static const|#)"
                  r"[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\s*\([^;]*$")


def functions(paths):
    """file name -> sorted (first line, function) of the BPF sources."""
    out = {}
    for path in paths:
        starts = []
        for n, l in enumerate(open(path), 1):
            m = FUNC.match(re.sub(r"__attribute__\(\(\w+\)\)\s*", "", l))
            if m and m.group(1) not in ("SEC", "if", "for", "while", "switch"):
                starts.append((n, m.group(1)))
        out[path.rsplit("/", 1)[-1]] = starts
    return out


def part(loc, funcs):
    name, _, line = loc.rpartition(":")
    line = int(line) if line.isdigit() else 0
    fn = None
    for start, f in funcs.get(name, []):
        if start > line:
            break
        fn = f
    if fn is None:
        return name
    if fn in WHOLE:
        return WHOLE[fn]
    return next((what for prefixes, what in PREFIXES if fn.startswith(prefixes)), fn)


def main():
    d = sys.argv[1]
    which = sys.argv[2] if len(sys.argv) > 2 else ""
    funcs, lines = [], []
    for l in open(f"{d}/jited.txt"):
        if l.startswith("func "):
            _, a, n = l.split()
            funcs.append((int(a, 16), int(n)))
        else:
            a, loc, src = (l.rstrip("\n").split("\t", 2) + [""])[:3]
            lines.append((int(a, 16), loc, src.strip()))
    starts, off = [], 0
    for _, n in funcs:
        starts.append(off)
        off += n

    def img_off(ip):
        for (a, n), s in zip(funcs, starts):
            if a <= ip < a + n:
                return s + ip - a
        return None

    hits, total, outside = collections.Counter(), 0, collections.Counter()
    for l in open(f"{d}/samples.txt"):
        p = l.split()
        if not p:
            continue
        o = img_off(int(p[0], 16))
        if o is None:
            outside[p[1] if len(p) > 1 else "?"] += 1
        else:
            hits[o] += 1
            total += 1
    if not total:
        print("bench-profile: no sample fell in the program", file=sys.stderr)
        return 1
    at = {}
    for a, loc, src in lines:
        o = img_off(a)
        if o is not None:
            at[o] = (loc, src)
    dis = subprocess.run(["objdump", "-D", "-b", "binary", "-mi386:x86-64", "--no-show-raw-insn",
                          f"{d}/jited.bin"], capture_output=True, text=True, check=True).stdout
    funcs_at = functions(glob.glob("bpf/*.c") + glob.glob("bpf/lib/*.h"))
    out, by_line, by_part, cur = [], collections.Counter(), collections.Counter(), None
    for l in dis.splitlines():
        m = re.match(r"^\s*([0-9a-f]+):\s*(.*)$", l)
        if not m:
            continue
        o = int(m.group(1), 16)
        if o in starts:
            out.append(f"==== function {starts.index(o)}")
        if o in at:
            cur = at[o]
            out.append(f"            ; {cur[0]}  {cur[1]}")
        c = hits.get(o, 0)
        if cur:
            by_line[cur] += c
            by_part[part(cur[0], funcs_at)] += c
        out.append((f"{100.0 * c / total:6.2f} " if c else "       ") + f"{o:5x}: {m.group(2)}")
    with open(f"{d}/annotated.txt", "w") as f:
        f.write("\n".join(out) + "\n")
    loop = sum(v for k, v in outside.items() if k.startswith("bpf_test"))
    print(f"profile of fringe_xdp_ingress ({which}): {total} samples in the program, "
          f"{loop} in the test-run loop around it")
    print("\nby part of the program:")
    for k, v in by_part.most_common():
        if v:
            print(f"  {100.0 * v / total:5.1f}%  {k}")
    print("\nhottest source lines:")
    for (loc, src), v in by_line.most_common(20):
        print(f"  {100.0 * v / total:5.1f}%  {loc:22} {src[:70]}")
    print(f"\nevery instruction: {d}/annotated.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
