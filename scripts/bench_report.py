#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# Helpers for scripts/bench.sh: write the bench policies, time one command, sum a per-CPU map, report.
"""Subcommands (stdlib only):

  policy KIND RULES ITEMS [DEV]   print the bench policy: KIND fringe, nft-plain or nft-set
  time CMD...                     run CMD (output discarded), print {"ms", "rss_kib", "rc"}
  percpu-sum                      sum the values of `bpftool -j map dump` (stdin), key 0
  stages FILE                     print the per-stage profile of `make bench-stages` (bench_cost's JSON)
  report DIR OUT [MD]             read DIR/{cost,veth,cp,meta}.json*, write OUT, print the table,
                                  draw DIR/scaling.png with gnuplot, write the full report to MD
"""
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

# The bench policy shape of tests/tools/bench_cost.c (bench_policy), except
# that the last rule drops: in throughput runs nothing may go up the stack.


def sensors(items):
    return ["172.%d.%d.%d" % (16 + (i >> 16), (i >> 8) & 255, i & 255) for i in range(items)]


def middle(rules):
    return [(i, "10.%d.%d.0/24" % (i >> 8, i & 255), 1000 + i) for i in range(1, rules - 1)]


def policy(kind, rules, items, dev="eth0"):
    if kind == "fringe":
        out = ["# bench policy: %d rules, %d set items" % (rules, items),
               "set sensors { " + ", ".join(sensors(items)) + " }",
               "rule mqtt src @sensors proto tcp dport 1883 allow"]
        out += ["rule r%d src %s proto udp dport %d drop" % m for m in middle(rules)]
        out += ["rule last src 192.168.77.0/24 proto tcp dport 8883 drop", "default drop"]
    elif kind == "nft-plain":
        # One rule per fringe rule, in order, each with its counter; policy drop is the default.
        out = ["table netdev bench {",
               "\tset sensors { type ipv4_addr; elements = { " + ", ".join(sensors(items)) + " } }",
               '\tchain ingress { type filter hook ingress device "%s" priority 0; policy drop;' % dev,
               "\t\tip saddr @sensors tcp dport 1883 counter accept"]
        out += ["\t\tip saddr %s udp dport %d counter drop" % m[1:] for m in middle(rules)]
        out += ["\t\tip saddr 192.168.77.0/24 tcp dport 8883 counter drop", "\t}", "}"]
    elif kind == "nft-set":
        # Rules 2..N as one lookup: a concatenated interval verdict map with per-element counters.
        elems = ["udp . %s . %d : drop" % m[1:] for m in middle(rules)]
        elems.append("tcp . 192.168.77.0/24 . 8883 : drop")
        out = ["table netdev bench {",
               "\tset sensors { type ipv4_addr; elements = { " + ", ".join(sensors(items)) + " } }",
               "\tmap rules { type inet_proto . ipv4_addr . inet_service : verdict; flags interval; counter;",
               "\t\telements = { " + ", ".join(elems) + " } }",
               '\tchain ingress { type filter hook ingress device "%s" priority 0; policy drop;' % dev,
               "\t\tip saddr @sensors tcp dport 1883 counter accept",
               "\t\tmeta l4proto . ip saddr . th dport vmap @rules", "\t}", "}"]
    else:
        sys.exit("bench_report: unknown policy kind '%s'" % kind)
    print("\n".join(out))


def time_cmd(cmd):
    """Wall time and peak RSS of one run (wait4's rusage, what /usr/bin/time reports)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    ms = (time.perf_counter() - t0) * 1e3
    err = p.stderr.read().decode(errors="replace").strip()
    rc = os.waitstatus_to_exitcode(status)
    out = {"ms": round(ms, 2), "rss_kib": ru.ru_maxrss, "rc": rc}
    if rc:
        out["stderr"] = err.splitlines()[-1] if err else ""
    print(json.dumps(out))


def percpu_sum():
    d = json.load(sys.stdin)
    e = d[0]
    if "formatted" in e:
        return sum(v["value"] for v in e["formatted"]["values"])
    return sum(int.from_bytes(bytes(int(b, 16) for b in v["value"]), "little") for v in e["values"])


# ---------------------------------------------------------------------------- report

def load_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cost_ns(cost, system, packet="last-rule", rules=None, items=None, mode=None):
    for r in cost:
        if (r["system"] == system and r["packet"] == packet and (rules is None or r["rules"] == rules)
                and (items is None or r["set_items"] == items) and (mode is None or r["mode"] == mode)):
            return r["ns"]
    return None


def div(a, b):
    return round(a / b, 3) if a is not None and b else None


def median_of(runs):
    ok = [r["ms"] for r in runs if r.get("rc") == 0]
    return round(statistics.median(ok), 1) if ok else None


def plot(cost, items, outdir):
    gp = shutil.which("gnuplot")
    if not gp:
        return "gnuplot missing"
    packets = ["mqtt-first", "last-rule", "default", "ipv6-2ext"]
    rules = sorted({r["rules"] for r in cost if r["system"] == "fringe"})
    if not rules:
        return "no per-packet cost rows to plot"
    # How classifying scales: every packet a flow's first (the rule memo
    # misses), when the bench has that build; its hits cost the same at any size.
    mode = "first-packet" if any(r.get("mode") == "first-packet" for r in cost) else "classify"
    dat = os.path.join(outdir, "scaling.dat")
    with open(dat, "w") as f:
        f.write("# rules " + " ".join(packets) + "  (fringe, %s, %d set items, ns/packet)\n" % (mode, items))
        for n in rules:
            vals = [cost_ns(cost, "fringe", p, n, items, mode) for p in packets]
            f.write("%d %s\n" % (n, " ".join("NaN" if v is None else str(v) for v in vals)))
    floor = cost_ns(cost, "floor")
    xf = cost_ns(cost, "xdp-filter")
    lines = [
        "set terminal pngcairo size 900,600 noenhanced" if "pngcairo" in terminals(gp) else
        "set terminal png size 900,600",
        "set output '%s'" % os.path.join(outdir, "scaling.png"),
        "set title 'fringe per-packet cost (BPF_PROG_TEST_RUN, %s, %d set items)'" % (mode, items),
        "set xlabel 'rules in the policy'", "set ylabel 'ns per packet'",
        "set logscale x 2", "set key below maxrows 3", "set grid", "set yrange [0:*]",
        "set xrange [%d:%d]" % (min(rules) / 1.5, max(rules) * 1.5),
    ]
    series = ["'%s' using 1:%d with linespoints lw 2 title 'fringe %s'" % (dat, i + 2, p)
              for i, p in enumerate(packets)]
    if floor is not None:
        series.append("%s with lines dt 2 lw 2 lc rgb 'black' title 'floor (count + pass): %s ns'" % (floor, floor))
    if xf is not None:
        series.append("%s with lines dt 4 lw 2 lc rgb 'red' title 'xdp-filter (2 rules): %s ns'" % (xf, xf))
    lines.append("plot " + ", \\\n     ".join(series))
    script = os.path.join(outdir, "scaling.gp")
    with open(script, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = subprocess.run([gp, script], capture_output=True, text=True, timeout=60)
    return None if r.returncode == 0 else "gnuplot failed: " + r.stderr.strip()[-200:]


def terminals(gp):
    r = subprocess.run([gp, "-e", "set terminal"], capture_output=True, text=True, timeout=30)
    return r.stdout + r.stderr


# The goals of the per-packet cost (side-by-side medians), in the order of the report.
# (key, label, goal, numerator, denominator): the contenders of bench_cost's rounds.
HEADLINE_GOALS = (
    ("ratio_floor", "cost fringe@4096/65536 last-rule ÷ floor", 2.5, "fringe_4096", "floor"),
    ("ratio_pass", "cost fringe@4096 ÷ XDP_PASS-only program", 2.5, "fringe_4096", "pass"),
    ("ratio_iot_floor", "cost fringe IoT policy, MQTT PUBLISH ÷ floor", 3.0, "fringe_iot", "floor"),
    ("ratio_16", "cost fringe@4096 ÷ fringe@16 (65536 items)", 1.10, "fringe_4096", "fringe_16"),
    ("ratio_xdp_filter", "cost fringe@4096 ÷ xdp-filter (1 port, 1 addr)", 0.60, "fringe_4096", "xdp_filter"),
    ("ratio_v6_floor", "cost fringe@4096 IPv6 hop-by-hop+routing ÷ floor", 3.0, "fringe_4096_v6", "floor"),
    ("ratio_vlan_floor", "cost fringe@4096 VLAN-tagged IPv4 ÷ floor", 3.0, "fringe_4096_vlan", "floor"),
)
# The same goals for a flow's first packet, which the rule memo has not seen
# (bench_cost's build whose memo always misses): what classifying costs.
FIRST_PACKET_GOALS = (
    ("ratio_miss_floor", "first packet: fringe@4096 last-rule ÷ floor", 2.5, "fringe_4096_miss", "floor"),
    ("ratio_miss_pass", "first packet: fringe@4096 ÷ XDP_PASS-only", 2.5, "fringe_4096_miss", "pass"),
    ("ratio_iot_miss_floor", "first packet: fringe IoT, MQTT PUBLISH ÷ floor", 3.0, "fringe_iot_miss",
     "floor"),
    ("ratio_miss_16", "first packet: fringe@4096 ÷ fringe@16", 1.10, "fringe_4096_miss", "fringe_16_miss"),
    ("ratio_miss_xdp_filter", "first packet: fringe@4096 ÷ xdp-filter", 0.60, "fringe_4096_miss",
     "xdp_filter"),
)


def report(d, out_path, md_path=None):
    cost_path = os.path.join(d, "cost.json")
    costdoc = {"cost": []}
    if os.path.exists(cost_path):
        with open(cost_path) as f:
            costdoc = json.load(f)
    cost = costdoc["cost"]
    meta = json.load(open(os.path.join(d, "meta.json"))) if os.path.exists(os.path.join(d, "meta.json")) else {}
    veth = {}  # system -> its runs (the floor and fringe: one a round)
    for r in load_jsonl(os.path.join(d, "veth.jsonl")):
        veth.setdefault(r["system"], []).append(r)
    cp = load_jsonl(os.path.join(d, "cp.jsonl"))
    notes = list(meta.get("notes", []))
    for what, why in costdoc.get("unavailable", {}).items():
        notes.append("%s rows missing: %s" % (what, why))

    big_r, big_i = 4096, 65536
    goals = []  # one dict per line of the table

    def goal_row(metric, mode, value, op, goal, fmt="%.2f", result=None):
        if result is None:
            result = "n/a" if value is None else \
                ("PASS" if (value <= goal if op == "<=" else value >= goal) else "MISS")
        goals.append({"metric": metric, "mode": mode,
                      "value": None if value is None else float(fmt % value),
                      "op": op, "goal": goal, "result": result, "fmt": fmt})

    floor = cost_ns(cost, "floor")
    xf = cost_ns(cost, "xdp-filter")
    figures = {"cost": {}}
    for mode in ("classify", "flow-cache", "first-packet"):
        big = cost_ns(cost, "fringe", "last-rule", big_r, big_i, mode)
        small = cost_ns(cost, "fringe", "last-rule", 16, big_i, mode)
        r1, r2, r3 = div(big, floor), div(big, small), div(big, xf)
        figures["cost"][mode] = {"fringe_4096_ns": big, "fringe_16_ns": small, "floor_ns": floor,
                                 "xdp_filter_ns": xf, "ratio_floor": r1, "ratio_16": r2,
                                 "ratio_xdp_filter": r3}
    # The goal rows use the side-by-side rounds (bench_cost's "headline"): each
    # round measures every contender back to back, and the ratio is the median
    # of the rounds' ratios, so a slow spell of the machine hits both sides alike.
    head = costdoc.get("headline") or {}
    figures["cost"]["side-by-side"] = head
    # When the machine was busy throughout (bench_cost found too few quiet
    # rounds and used them all), the medians carry the load's extra tens of
    # ns on both sides; the ratio of each contender's fastest round (noise
    # here only adds) is the figure to judge by, and says so.
    rounds = head.get("per_round_ns") or []
    few_quiet = bool(head.get("busy"))
    if few_quiet:
        notes.append("too few side-by-side rounds were free of other load: the goal ratios "
                     "are those of each contender's fastest round (min of rounds), the medians are "
                     "shown as side-by-side")
    for key, label, goal, num, den in HEADLINE_GOALS + FIRST_PACKET_GOALS:
        if few_quiet:
            a = [r[num] for r in rounds if num in r]
            b = [r[den] for r in rounds if den in r]
            goal_row(label, "min-of-rounds", div(min(a), min(b)) if a and b else None, "<=", goal)
        goal_row(label, "side-by-side", head.get(key), "<=", goal)
        if not few_quiet:	# the same median over every round, quiet or not
            goal_row(label, "all rounds", (head.get("all_rounds") or {}).get(key), "<=", goal)
        if key in ("ratio_floor", "ratio_16", "ratio_xdp_filter") and not few_quiet:
            for mode in ("classify", "flow-cache", "first-packet"):
                goal_row(label, mode, figures["cost"][mode][key], "<=", goal)

    # What the features of SPEC §11 and §12 cost a packet, side by side with
    # the same 4096-rule policy alone: no goal of their own.
    for key, label in (("ratio_staged", "cost fringe@4096 with the same policy staged ÷ without"),
                       ("ratio_dns", "cost fringe@4096 whose last rule's set lists DNS names ÷ without")):
        goal_row(label, "side-by-side", head.get(key), "<=", 0, "%.2f", "info")

    # Helper calls per packet on the IPv4 allow path (bench_cost's call-counting
    # build): no goal of their own, each costs 15-20 ns on CPUs with safe-RET.
    calls = costdoc.get("helper_calls") or {}
    figures["helper_calls"] = calls
    for key, label in (("fringe_4096", "helper calls/packet, IPv4 allow, 4096 rules"),
                       ("fringe_iot", "helper calls/packet, IPv4 allow, IoT policy")):
        c = calls.get(key)
        goal_row(label, "call-count", c and c.get("calls_per_packet"), "<=", 0, "%.2f", "info")
        if c and c.get("unattributed_calls"):
            notes.append("%s: %d call(s) of the counting build could not be paired with a site "
                         "and are not counted (bench_cost names them on stderr)" % (key, c["unattributed_calls"]))

    # Throughput on veth: packets the system counted per second of sending,
    # the median of its rounds (the floor and fringe take turns).
    tput = {}
    for name, runs in veth.items():
        per = []
        for r in runs:
            tg = r.get("trafficgen") or {}
            secs, counted = tg.get("seconds"), r.get("counted")
            # pps over the time the kernel timed the live-frame runs (the
            # whole path: generator, veth, the receiver's NAPI and program),
            # not over wall time, of which each run's setup and teardown
            # (an RCU grace period, ~24 ms a run, 60% of it) takes a varying
            # share: an A/A of two floors spreads half as wide this way.
            busy = tg.get("busy_seconds") or secs
            per.append({"round": r.get("round", 0), "ifname": tg.get("ifname"),
                        "sent": tg.get("sent"), "seconds": secs,
                        "busy_seconds": busy, "counted": counted, "method": tg.get("method", "live-frames"),
                        "tx_dropped": tg.get("tx_dropped"), "note": r.get("note"),
                        "wall_pps": round(counted / secs) if counted is not None and secs else None,
                        "pps": round(counted / busy) if counted is not None and busy else None})
        known = [p["pps"] for p in per if p["pps"] is not None]
        known_wall = [p["wall_pps"] for p in per if p["wall_pps"] is not None]
        sent = sum(p["sent"] or 0 for p in per)
        counted = None if any(p["counted"] is None for p in per) else sum(p["counted"] for p in per)
        tput[name] = {"sent": sent, "seconds": sum(p["seconds"] or 0 for p in per), "counted": counted,
                      "method": per[0]["method"], "tx_dropped": sum(p["tx_dropped"] or 0 for p in per),
                      "pps": round(statistics.median(known)) if known else None,
                      "wall_pps": round(statistics.median(known_wall)) if known_wall else None,
                      "rounds": len(per), "per_round": per,
                      "delivered_pct": round(100.0 * counted / sent, 3) if counted is not None and sent else None,
                      "note": per[-1]["note"]}
    figures["veth"] = tput
    for name, t in tput.items():
        if t["counted"] is None:
            notes.append("veth %s: the system's count could not be read" % name)
        elif t["counted"] != t["sent"]:
            notes.append("veth %s: counted %d of %d sent (%s%%; trafficgen saw %s tx drops)"
                         % (name, t["counted"], t["sent"], t["delivered_pct"], t["tx_dropped"]))
    pps = {k: v["pps"] for k, v in tput.items()}
    # The live data plane runs in its default mode; nftables has no stated goal: ≥ 1 (faster) is ours.
    # The mode column names the generator: live-frame test runs, or AF_PACKET
    # where the kernel refuses those (a costlier sender dilutes the ratio toward 1).
    gen = sorted({t["method"] for t in tput.values()})
    gmode = "/".join(gen) if gen else "-"
    if len(gen) > 1:
        notes.append("veth: the systems were driven by different generators (%s): their pps do not compare"
                     % ", ".join(gen))
    def by_round(name, field="pps"):
        """name's FIELD in each round it ran (round 0: a single run)."""
        return {p["round"]: p[field] for p in (tput.get(name) or {}).get("per_round", [])
                if p["pps"] and p["round"]}

    def round_ratios(num, den):
        """num's pps ÷ den's, round by round (the rounds both ran): {round: ratio}."""
        a, b = by_round(num), by_round(den)
        return {r: a[r] / b[r] for r in sorted(a) if r in b}

    # fringe ÷ floor, half by half: in each half the two are sent to in turn
    # (a tenth of a second at a time), and between halves they change pairs.
    by_r = round_ratios("fringe", "floor")
    ratios = list(by_r.values())
    figures["veth_round_ratios"] = [round(x, 3) for x in ratios]
    # The same by the pair fringe was on: how far one pair's drift reached.
    by_pair, fringe_if = {}, by_round("fringe", "ifname")
    for r, x in by_r.items():
        by_pair.setdefault(fringe_if[r], []).append(x)
    figures["veth_ratio_by_pair"] = {k: round(statistics.median(v), 3) for k, v in by_pair.items() if k}
    # A round is two halves, fringe on each pair once (halves 1 and 2, 3
    # and 4, ...); its ratio is the geometric mean of its halves' ratios,
    # in which one pair's being faster than the other (the A/A row) cancels
    # out.  The goal ratio is the median of the rounds.  A half whose
    # partner is missing is left out.
    paired = [math.sqrt(by_r[h] * by_r[h + 1]) for h in sorted(by_r)
              if h % 2 == 1 and h + 1 in by_r and fringe_if.get(h) != fringe_if.get(h + 1)]
    figures["veth_paired_ratios"] = [round(x, 3) for x in paired]
    if paired:
        goal_row("veth fringe@1024 ÷ floor (pps)", "%s, %d rounds" % (gmode, len(paired)),
                 statistics.median(paired), ">=", 0.8)
        goal_row("veth the same, the median of the halves", "%s, %d halves" % (gmode, len(ratios)),
                 statistics.median(ratios), ">=", 0, "%.2f", "info")
    elif ratios:
        goal_row("veth fringe@1024 ÷ floor (pps)", "%s, %d halves" % (gmode, len(ratios)),
                 statistics.median(ratios), ">=", 0.8)
    else:
        goal_row("veth fringe@1024 ÷ floor (pps)", gmode, div(pps.get("fringe"), pps.get("floor")), ">=", 0.8)
    # A/A: the floor on dut1 ÷ the floor on dut0, in the same interleaved
    # rounds before fringe: what the method reads for no difference.
    aa_ratios = list(round_ratios("aa-dut1", "aa-dut0").values())
    figures["veth_aa_round_ratios"] = [round(x, 3) for x in aa_ratios]
    if aa_ratios:
        goal_row("veth A/A: floor on dut1 ÷ floor on dut0 (pps)", "%s, %d rounds" % (gmode, len(aa_ratios)),
                 statistics.median(aa_ratios), ">=", 0, "%.2f", "info")
    # Each program's own time a packet in the same live traffic (bpf_stats):
    # turn by turn, fringe's less the floor's.
    prog_ns = {"floor": [], "fringe": []}
    for t in load_jsonl(os.path.join(d, "veth_ns.jsonl")):
        for k in prog_ns:
            t0, c0, t1, c1 = t[k]
            if c1 > c0:
                prog_ns[k].append((t1 - t0) / (c1 - c0))
    if prog_ns["floor"] and len(prog_ns["floor"]) == len(prog_ns["fringe"]):
        prog_ns["extra"] = [b - a for a, b in zip(prog_ns["floor"], prog_ns["fringe"])]
        figures["veth_prog_ns"] = {k: [round(x, 1) for x in v] for k, v in prog_ns.items()}
        goal_row("veth fringe's program - the floor's, live (ns)", "bpf_stats, %d turns" % len(prog_ns["extra"]),
                 statistics.median(prog_ns["extra"]), ">=", 0, "%.1f", "info")
    goal_row("veth fringe@1024 ÷ nft plain rules (pps)", gmode,
             div(pps.get("fringe"), pps.get("nft-plain")), ">=", 1.0)
    goal_row("veth fringe@1024 ÷ nft set+vmap (pps)", gmode,
             div(pps.get("fringe"), pps.get("nft-set")), ">=", 1.0)
    notes.append("the ≥ 1 goal for fringe ÷ nftables is the bench's own (no target was set)")
    if figures.get("veth_prog_ns"):
        differ = "~%.0f ns of it in this traffic (bpf_stats)" % statistics.median(prog_ns["extra"])
    elif figures["cost"]["classify"]["fringe_4096_ns"] and floor:
        differ = "~%d ns of it in test runs" % (figures["cost"]["classify"]["fringe_4096_ns"] - floor)
    else:
        differ = None
    if pps.get("floor") and differ:
        notes.append("veth: a packet costs %.0f ns end to end with the floor (generator, veth and "
                     "receiver share one CPU); the programs differ by %s, so the veth ratio is "
                     "diluted toward 1: the test-run cost ratios isolate the program"
                     % (1e9 / pps["floor"], differ))

    # Control plane, CLI, 4096 rules + 65,536 items.
    by = {}
    for r in cp:
        by.setdefault(r["what"], []).append(r)
    cpf = {}
    for what, rs in by.items():
        cpf[what] = {"median_ms": median_of(rs), "runs_ms": [r["ms"] for r in rs],
                     "max_rss_kib": max(r["rss_kib"] for r in rs),
                     "failed": sum(1 for r in rs if r["rc"] != 0)}
        for r in rs:
            if r["rc"] != 0:
                notes.append("%s failed (rc %d): %s" % (what, r["rc"], r.get("stderr", "")))
    figures["control_plane"] = cpf
    figures["control_plane_in_process"] = {"load_ms": costdoc.get("load_ms"),
                                           "reload_ms": costdoc.get("reload_ms"),
                                           "bench_rss_kib": costdoc.get("bench_rss_kib"),
                                           "verified_insns": costdoc.get("verified_insns")}
    for what, label in (("load_first", "CLI policy load, first (ms)"), ("reload", "CLI policy load, reload (ms)")):
        goal_row(label, "-", (cpf.get(what) or {}).get("median_ms"), "<=", 250, "%.0f")
    if "scrape" in cpf:
        goal_row("daemon GET /metrics (ms)", "-", cpf["scrape"]["median_ms"], "<=", 50, "%.0f")
    if "policy_test_verbose" in cpf:
        goal_row("policy test --verbose, 100,000 packets (ms)", "-",
                 cpf["policy_test_verbose"]["median_ms"], "<=", 10000, "%.0f")
    if "metrics" in cpf:
        goal_row("CLI metrics (ms)", "-", cpf["metrics"]["median_ms"], "<=", 50, "%.0f")
    else:
        goal_row("CLI metrics (ms)", "-", None, "<=", 50, "%.0f", "SKIP")
    figures["memory"] = {"memlock_bytes": meta.get("memlock_bytes"),
                         "controller_peak_rss_kib": max((cpf[w]["max_rss_kib"] for w in
                                                         ("load_cold", "load_first", "reload") if w in cpf),
                                                        default=None)}

    err = plot(cost, big_i, d)
    if err:
        notes.append("scaling.png: " + err)

    machine = {"nproc": os.cpu_count(), "kernel": platform.release(), "cpu": cpu_model(),
               "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "loadavg_at_start": meta.get("loadavg_at_start"),
               "loadavg_at_end": open("/proc/loadavg").read().split()[:3]}
    doc = {"machine": machine, "figures": figures, "cost": costdoc,
           "goals": [{k: v for k, v in g.items() if k != "fmt"} for g in goals],
           "runtime_s": meta.get("runtime_s"), "notes": notes}
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

    # The table: printed, and the heart of docs/bench.md.
    out = []
    w = out.append
    w("fringe bench — %s, %d CPUs, kernel %s, %s" % (machine["cpu"], machine["nproc"],
                                                     machine["kernel"], machine["date"]))
    w("load average at start %s, at end %s (other load makes every figure noisier)" % (
        " ".join(machine["loadavg_at_start"] or ["?"]), " ".join(machine["loadavg_at_end"])))
    w("")
    w("per-packet cost (ns, BPF_PROG_TEST_RUN, last-rule packet, 65,536 set items, single medians):")
    if cost:
        fc = figures["cost"]
        w("  floor %s   XDP_PASS-only %s   xdp-filter %s   fringe@16 %s/%s/%s   fringe@4096 %s/%s/%s   "
          "(classify/flow-cache/first-packet)" % (
              floor, cost_ns(cost, "pass"), xf, fc["classify"]["fringe_16_ns"],
              fc["flow-cache"]["fringe_16_ns"], fc["first-packet"]["fringe_16_ns"],
              fc["classify"]["fringe_4096_ns"], fc["flow-cache"]["fringe_4096_ns"],
              fc["first-packet"]["fringe_4096_ns"]))
    else:
        w("  (not measured)")
    if head:
        w("")
        w("side by side (ns, median of %s of %d rounds, each contender back to back in every round; "
          "rounds slowed by other load are left out):" % (head.get("rounds_used", head["rounds"]), head["rounds"]))
        names = list(head.get("contenders", {}))
        w("  " + "  ".join("%s=%s" % (n, head.get(n + "_ns")) for n in names))
    if calls:
        w("")
        w("helper calls per packet on the IPv4 allow path (that remain after the kernel's inlining):")
        for key, c in calls.items():
            by = ", ".join("%s %s" % (v, k) for k, v in c["by_target"].items()) or "none"
            w("  %-12s %-12s %.2f   (%s; %d call instructions in the whole program)" % (
                key, c["packet"], c["calls_per_packet"], by, c["calls_in_program_total"]))
    w("")
    w("veth throughput (1024 rules, 65,536 items, last-rule packet; sent, counted: all runs; "
      "pps: the median of a system's runs, over the runs' kernel-timed time; wall pps: over wall time):")
    w("  %-10s %-12s %12s %12s %12s %12s %10s %10s" % ("system", "generator", "sent", "counted", "pps",
                                                       "wall pps", "delivered", "tx_drop"))
    for name in ("floor", "fringe", "nft-plain", "nft-set", "aa-dut0", "aa-dut1"):
        t = tput.get(name)
        if not t and name.startswith("aa-"):
            continue
        if not t:
            w("  %-10s (not run: see the notes)" % name)
            continue
        w("  %-10s %-12s %12s %12s %12s %12s %9s%% %10s   %d run%s of ~%.0f s" % (
            name, t["method"], t["sent"], t["counted"], t["pps"], t["wall_pps"], t["delivered_pct"],
            t["tx_dropped"],
            t["rounds"], "" if t["rounds"] == 1 else "s", t["seconds"] / max(t["rounds"], 1)))
    if figures.get("veth_round_ratios"):
        w("  fringe ÷ floor by half: %s" % " ".join("%.2f" % x for x in figures["veth_round_ratios"]))
    if figures.get("veth_paired_ratios"):
        w("  fringe ÷ floor by round (its two halves' geometric mean): %s" % " ".join(
            "%.2f" % x for x in figures["veth_paired_ratios"]))
    if len(figures.get("veth_ratio_by_pair") or {}) > 1:
        w("  fringe ÷ floor by the pair fringe was on (medians): %s" % ", ".join(
            "dut%s %.2f" % (k[-1], v) for k, v in sorted(figures["veth_ratio_by_pair"].items())))
    if figures.get("veth_aa_round_ratios"):
        w("  A/A (the floor on both pairs) by round: %s" % " ".join("%.2f" % x for x in figures["veth_aa_round_ratios"]))
    if figures.get("veth_prog_ns"):
        pn = figures["veth_prog_ns"]
        w("  each program's own time a packet, live (bpf_stats, its two clock reads in both; medians): "
          "floor %.1f ns, fringe %.1f ns; fringe - floor by turn: %s" % (
              statistics.median(pn["floor"]), statistics.median(pn["fringe"]),
              " ".join("%+.1f" % x for x in pn["extra"])))
    w("")
    w("control plane (CLI, 4096 rules + 65,536 items; median of runs):")
    for what, c in cpf.items():
        w("  %-12s %8s ms   runs %s   peak RSS %d KiB" % (what, c["median_ms"], c["runs_ms"], c["max_rss_kib"]))
    w("  in-process (bench_cost): load %s ms, reload %s ms" % (costdoc.get("load_ms"), costdoc.get("reload_ms")))
    if costdoc.get("verified_insns"):
        w("  verifier: fringe_xdp_ingress took %s of its 1,000,000 instructions processed"
          % format(costdoc["verified_insns"], ","))
    ml = meta.get("memlock_bytes")
    w("  memlock at that size: %s" % ("%.1f MiB" % (ml / 1048576) if ml else "unknown"))
    w("")
    w("  %-50s %-12s %8s %8s  %s" % ("ratio / figure", "mode", "value", "goal", "result"))
    w("  " + "-" * 90)
    last = None
    for g in goals:
        value = "-" if g["value"] is None else g["fmt"] % g["value"]
        goal = "-" if g["result"] == "info" else "%s %s" % ("≤" if g["op"] == "<=" else "≥", g["fmt"] % g["goal"])
        w("  %-50s %-12s %8s %8s  %s" % ("" if g["metric"] == last else g["metric"], g["mode"],
                                         value, goal, g["result"]))
        last = g["metric"]
    if notes:
        w("")
        w("notes:")
        for n in notes:
            w("  - " + n)
    print("\n" + "\n".join(out))
    if md_path:
        write_markdown(md_path, doc, out, head)
        print("\nwrote %s, %s and %s" % (out_path, md_path, os.path.join(d, "scaling.png")))
    else:
        print("\nwrote %s and %s" % (out_path, os.path.join(d, "scaling.png")))


def write_markdown(path, doc, table_lines, head):
    """docs/bench.md: the last run in full, so the README need not carry a dated copy."""
    m = doc["machine"]
    md = ["# fringe bench: the last full run", "",
          "Written by `make bench` (scripts/bench.sh, scripts/bench_report.py); the same figures,",
          "with every row, are in `build/bench/results.json`. How the data plane is built and",
          "where its time goes: design.md (`make bench-stages` profiles it).", "",
          "## Machine", "",
          "| | |", "|---|---|",
          "| CPU | %s, %s CPUs |" % (m["cpu"], m["nproc"]),
          "| kernel | %s |" % m["kernel"],
          "| date | %s |" % m["date"],
          "| load average | %s at start, %s at end |" % (" ".join(m["loadavg_at_start"] or ["?"]),
                                                        " ".join(m["loadavg_at_end"])),
          "| bench run time | %s s |" % doc.get("runtime_s"), "",
          "## Goals", "",
          "| ratio / figure | mode | value | goal | result |", "|---|---|---:|---:|---|"]
    for g in doc["goals"]:
        value = "-" if g["value"] is None else ("%.2f" % g["value"] if g["goal"] < 50 else "%.0f" % g["value"])
        goal = "-" if g["result"] == "info" else "%s %s" % ("≤" if g["op"] == "<=" else "≥", g["goal"])
        md.append("| %s | %s | %s | %s | %s |" % (g["metric"], g["mode"], value, goal, g["result"]))
    if head.get("per_round_ns"):
        names = list(head["contenders"])
        md += ["", "## Side-by-side rounds (ns per packet)", "",
               "Every round runs each contender once on its packet (%s), %s packets each, one "
               "after the other, then the floor again (floor_after); a goal ratio is the median "
               "of the rounds' ratios. This machine has slow spells (a tenth of a second to "
               "seconds) in which the floor costs a quarter more and fringe half more: a round "
               "whose floor, at its start or its end, is more than 15%% above the lowest was in "
               "one and is shown but not used (unless fewer than a quarter of the rounds are "
               "quiet). The goal table gives the median of all rounds too." % (", ".join(
                   "%s: %s" % (n, head["contenders"][n]["packet"]) for n in names),
                   "{:,}".format(head.get("repeat", 0))), "",
               "| round | used | floor_after | " + " | ".join(names) + " |",
               "|---:|---|---:|" + "---:|" * len(names)]
        for i, r in enumerate(head["per_round_ns"]):
            md.append("| %d | %s | %s | %s |" % (i + 1, "yes" if r.get("used", True) else "no",
                                                 r.get("floor_after", "-"),
                                                 " | ".join(str(r.get(n, "-")) for n in names)))
        md.append("| **median** | | | %s |" % " | ".join(str(head.get(n + "_ns", "-")) for n in names))
    md += ["", "## The full report", "", "```"] + table_lines + ["```", ""]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(md))
    os.replace(tmp, path)


def stages(path):
    """What each stage adds, per round (stage N minus the stage before), then the median."""
    with open(path) as f:
        head = json.load(f).get("headline") or {}
    rounds = [r for r in head.get("per_round_ns") or [] if r.get("used", True)]
    if not rounds:
        sys.exit("bench_report: no side-by-side rounds in %s" % path)
    steps = (("floor", None, "the floor (test run, count, pass)"),
             ("stage1_parse", "floor", "parse, app recognition, interface counters, overlay hook"),
             ("stage2_slot", "stage1_parse", "policy slot, app and device counters, flow table"),
             ("stage3_classify", "stage2_slot", "classification: tries, tables, bitmaps"),
             ("fringe_4096", "stage3_classify", "rule action, rule counter, overlay out, exit"))
    print("per-stage cost, 4096 rules + 65,536 items, last-rule packet (ns; median of %d side-by-side "
          "rounds; load average %s)" % (len(rounds), " ".join(open("/proc/loadavg").read().split()[:3])))
    for key, prev, what in steps:
        if prev is None:
            v = statistics.median(r[key] for r in rounds)
            print("  %-16s %6.1f   %s" % (key, v, what))
        else:
            v = statistics.median(r[key] - r[prev] for r in rounds)
            print("  %-16s %+6.1f   %s" % (key, v, what))
    print("  %-16s %6.1f   (the whole program; ÷ floor %.2f)" % (
        "fringe_4096", statistics.median(r["fringe_4096"] for r in rounds), head.get("ratio_floor", 0)))


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    if a[0] == "policy" and len(a) in (4, 5):
        policy(a[1], int(a[2]), int(a[3]), *a[4:])
    elif a[0] == "time" and len(a) > 1:
        time_cmd(a[1:])
    elif a[0] == "percpu-sum":
        print(percpu_sum())
    elif a[0] == "stages" and len(a) == 2:
        stages(a[1])
    elif a[0] == "report" and len(a) in (3, 4):
        report(*a[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
