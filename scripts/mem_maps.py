#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Kernel memory of one fringe instance: bytes_memlock of its maps, from bpftool.

    mem_maps.py PIN_DIR [--json] [--bpftool PATH]

fringe's maps are those pinned in PIN_DIR, the inner maps its slot maps
(array-of-maps) hold, and every map of the programs that use them (the
per-program scratch and .rodata maps of each attached program).  Prints one
line per map family (the slot maps' inner maps count under their outer map)
and the total, or with --json {"total": B, "ncpus": N, "maps": {name:
{"bytes": B, "percpu": bool, "count": K, "per_cpu": B}}, "per_cpu": B}, where
per_cpu is what one more possible CPU would add (per_cpu_bytes).  The kernel's bytes_memlock is
its own estimate of what a map uses (map_mem_usage, kernel 6.4 and later)."""
import json
import os
import subprocess
import sys

PERCPU = {"percpu_array", "percpu_hash", "lru_percpu_hash", "percpu_cgroup_storage"}
HASHES = {"hash", "percpu_hash", "lru_hash", "lru_percpu_hash"}
HASHTAB_MAP_LOCK_COUNT = 8


def per_cpu_bytes(m):
    """What one more possible CPU adds to a map, after the kernel's map_mem_usage
    (array_map_mem_usage, htab_map_mem_usage): a per-CPU copy of every value, a
    hash's per-CPU lock counters, a preallocated plain hash's spare element."""
    vs = (m.get("bytes_value", 0) + 7) & ~7
    n = m.get("max_entries", 0)
    t = m["type"]
    if t == "percpu_array":
        return vs * n
    if t not in HASHES:
        return 0
    prealloc = not (m.get("flags", 0) & 1)	# BPF_F_NO_PREALLOC
    b = 4 * HASHTAB_MAP_LOCK_COUNT
    if t in ("percpu_hash", "lru_percpu_hash"):
        return b + (vs * n if prealloc else 0)	# no-prealloc: per element in use
    if t == "hash" and prealloc:		# one extra element and its pointer
        ks = (m.get("bytes_key", 0) + 7) & ~7
        b += 48 + ks + vs + 8
    return b


def bpftool(tool, *args):
    out = subprocess.run([tool, "-j", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out) if out.strip() else None


def possible_cpus():
    n = 0
    with open("/sys/devices/system/cpu/possible") as f:
        for part in f.read().strip().split(","):
            lo, _, hi = part.partition("-")
            n += int(hi or lo) - int(lo) + 1
    return n


def collect(pin_dir, tool):
    maps = {m["id"]: m for m in bpftool(tool, "map", "list") or []}
    family = {}			# map id -> the family it counts under
    for f in sorted(os.listdir(pin_dir)):
        path = os.path.join(pin_dir, f)
        try:
            m = bpftool(tool, "map", "show", "pinned", path)
        except (subprocess.CalledProcessError, json.JSONDecodeError):
            continue		# not a map (libxdp's dispatcher pins, programs)
        family[m["id"]] = f
        if m["type"] in ("array_of_maps", "hash_of_maps"):
            for e in bpftool(tool, "map", "dump", "pinned", path) or []:
                inner = e.get("value", e.get("formatted", {}).get("value"))
                if isinstance(inner, list):	# raw bytes: little-endian u32 id
                    inner = int.from_bytes(bytes(int(b, 16) for b in inner[:4]), "little")
                if isinstance(inner, int) and inner:
                    family[inner] = f
    ours = set(family)
    for p in bpftool(tool, "prog", "list") or []:
        ids = set(p.get("map_ids", []))
        if ids & ours:
            for i in ids - ours:
                family[i] = "(program) " + maps.get(i, {}).get("name", str(i))
    out = {}
    for i, fam in family.items():
        m = maps.get(i)
        if not m:
            continue
        e = out.setdefault(fam, {"bytes": 0, "percpu": m["type"] in PERCPU, "count": 0,
                                 "per_cpu": 0})
        e["bytes"] += int(m.get("bytes_memlock", 0))
        e["per_cpu"] += per_cpu_bytes(m)
        e["count"] += 1
    return out


def main():
    args = sys.argv[1:]
    tool = "bpftool"
    if "--bpftool" in args:
        k = args.index("--bpftool")
        tool = args[k + 1]
        del args[k:k + 2]
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    if len(args) != 1:
        sys.exit(__doc__)
    fams = collect(args[0], tool)
    total = sum(e["bytes"] for e in fams.values())
    if as_json:
        print(json.dumps({"total": total, "ncpus": possible_cpus(), "maps": fams,
                          "per_cpu": sum(e["per_cpu"] for e in fams.values())}))
        return
    for name, e in sorted(fams.items(), key=lambda kv: -kv[1]["bytes"]):
        print("%-36s %10.1f KiB%s%s" % (name, e["bytes"] / 1024, " per-cpu" if e["percpu"] else "",
                                        " (%d maps)" % e["count"] if e["count"] > 1 else ""))
    print("%-36s %10.2f MiB (%d possible CPUs)" % ("total", total / 1048576, possible_cpus()))
    print("%-36s %10.1f KiB" % ("per additional possible CPU", sum(e["per_cpu"] for e in fams.values()) / 1024))


if __name__ == "__main__":
    main()
