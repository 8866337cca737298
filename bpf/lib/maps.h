/* SPDX-License-Identifier: GPL-2.0 */
/* Every map of the data plane, pinned by name in the pin dir and shared by all programs. */
#ifndef FRINGE_BPF_MAPS_H
#define FRINGE_BPF_MAPS_H

#include "common.h"
#include "pkt.h"

/* Policy slots and the active-slot switch (struct fringe_meta, index 0). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fringe_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_meta SEC(".maps");

/* ---- per-policy maps: one inner map per slot, replaced whole by a load ---- */

/* Rule bitmaps, indexed by the values the other per-policy maps hold. */
struct fringe_inner_bitmaps {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FRINGE_MAX_BITMAPS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fringe_bitmap);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_bitmaps);
} fringe_slot_bitmaps SEC(".maps");

/* Directly indexed dimensions (ports, proto, vlan, device, app): FRINGE_TAB_*. */
struct fringe_inner_dimtab {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FRINGE_TAB_SIZE);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_dimtab);
} fringe_slot_dimtab SEC(".maps");

/* IPv4 source/destination: blocks of the octet trie (struct fringe_v4_block). */
struct fringe_inner_v4 {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FRINGE_V4_BLOCKS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fringe_v4_block);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_v4);
} fringe_slot_v4 SEC(".maps");

/* IPv6 source/destination prefixes -> bitmap index. */
struct fringe_inner_lpm6 {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FRINGE_MAX_SET_ITEMS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fringe_lpm6_key);
	__type(value, __u32);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_lpm6);
} fringe_slot_lpm6 SEC(".maps");

/* Hashed lookups: MAC and `in` dimensions, device identification, IPv6 hosts. */
struct fringe_inner_hash {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FRINGE_MAX_SET_ITEMS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fringe_hkey);
	__type(value, __u32);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_hash);
} fringe_slot_hash SEC(".maps");

/* Rule index (file order) -> action. */
struct fringe_inner_rules {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FRINGE_MAX_RULES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fringe_rule_action);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_rules);
} fringe_slot_rules SEC(".maps");

/* ---- state that outlives a policy ---------------------------------------- */

/* Rule counters by counter id (0: default); ids follow rule names across reloads. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FRINGE_MAX_COUNTERS);
	__type(key, __u32);
	__type(value, struct fringe_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_rule_stats SEC(".maps");

/* Counter id -> rule name, written by the controller only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FRINGE_MAX_COUNTERS);
	__type(key, __u32);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(value, struct fringe_rule_name);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_rule_names SEC(".maps");

/* Token buckets of `limit` rules, by counter id. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FRINGE_MAX_COUNTERS);
	__type(key, __u32);
	__type(value, struct fringe_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_buckets SEC(".maps");

/* Token buckets of `limit ... per-src` rules, by counter id and source address. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FRINGE_SRC_BUCKETS);
	__type(key, struct fringe_src_bucket_key);
	__type(value, struct fringe_src_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_src_buckets SEC(".maps");

/* ifindex -> interface stats slot (0: not attached). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FRINGE_IFINDEX_LIMIT);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_ifslots SEC(".maps");

/* Interface stats slot -> what is attached there. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FRINGE_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct fringe_iface_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_ifaces SEC(".maps");

/* Per-CPU verdict and drop counters by interface slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FRINGE_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct fringe_iface_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_iface_stats SEC(".maps");

/* Flow table and verdict cache (struct fringe_flow). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, FRINGE_MAX_FLOWS);
	__type(key, struct fringe_flow_key);
	__type(value, struct fringe_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_flows SEC(".maps");

/* Sampled packets (struct fringe_sample), consumed by `fringe sample`. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FRINGE_SAMPLE_RING);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_samples SEC(".maps");

/* Samples taken and lost, per CPU, by counter id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FRINGE_MAX_COUNTERS);
	__type(key, __u32);
	__type(value, struct fringe_sample_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_sample_stats SEC(".maps");

/* TCP flows confirmed as an application (app.h), by 5-tuple -> enum fringe_app. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FRINGE_APP_FLOWS);
	__type(key, struct fringe_app_flow_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_app_flows SEC(".maps");

/* Packets and bytes per recognized application, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FRINGE_APP_COUNT);
	__type(key, __u32);
	__type(value, struct fringe_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_app_stats SEC(".maps");

/* Per-CPU scratch for the packet being judged (struct pkt). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pkt);
} fringe_scratch SEC(".maps");

/* `steer iface`: ifindex -> egress device. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_devmap SEC(".maps");

/* `steer cpu`: cpu -> queue. */
struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_cpumap SEC(".maps");

/* clang describes types that only inner-map templates name as forward
 * declarations, which libbpf cannot size; this carries their full BTF. */
struct fringe_inner_types {
	struct fringe_rule_action action;
	struct fringe_bitmap bitmap;
	struct fringe_v4_block v4;
	struct fringe_lpm6_key lpm6;
	struct fringe_hkey hkey;
};
__attribute__((noinline)) int fringe_btf_inner_types(struct fringe_inner_types *t)
{
	return t != 0;
}

#endif
