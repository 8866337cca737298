/* SPDX-License-Identifier: GPL-2.0 */
/* Every map of the data plane, pinned by name in the pin dir and shared by all programs. */
#ifndef FRINGE_BPF_MAPS_H
#define FRINGE_BPF_MAPS_H

#include "common.h"
#include "pkt.h"

/* The key 0 in read-only data: a lookup reads it from there, not from a
 * store to the stack it would wait for, and it takes no stack. */
static const __u32 fringe_zero = 0;

/* The holder of an on-demand map (below): its map, or NULL while there is none. */
static __always_inline void *held_map(void *holder)
{
	return bpf_map_lookup_elem(holder, &fringe_zero);
}

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
	__uint(max_entries, FRINGE_POLICY_SLOTS);
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
	__uint(max_entries, FRINGE_POLICY_SLOTS);
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
	__uint(max_entries, FRINGE_POLICY_SLOTS);
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
	__uint(max_entries, FRINGE_POLICY_SLOTS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_lpm6);
} fringe_slot_lpm6 SEC(".maps");

/* A key of the hash below, to build on the stack: struct fringe_hkey is
 * byte-aligned, and clang zeroes a byte-aligned struct one byte at a time
 * (20 stores); this one is zeroed in three. */
union hkey_buf {
	struct fringe_hkey k;
	__u64 w[3];
};
#define HKEY_ZERO { .w = { 0, 0, 0 } }

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
	__uint(max_entries, FRINGE_POLICY_SLOTS);
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
	__uint(max_entries, FRINGE_POLICY_SLOTS);
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

/* ---- state made on demand: a holder of one entry, empty while unused ----
 * The flow table, the per-source buckets and the application flows are
 * created (sized by the site's settings, FRINGE_SZ_*) only while a policy or
 * `flows --enable` needs them, and installed in entry 0 of their holder; a
 * holder's lookup is an inlined array read, and an empty holder turns the
 * feature off for the packet. */

/* Token buckets of `limit ... per-src` rules, by counter id and source address. */
struct fringe_inner_src_buckets {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FRINGE_SRC_BUCKETS);
	__type(key, struct fringe_src_bucket_key);
	__type(value, struct fringe_src_bucket);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_src_buckets);
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

/* Flow table and verdict cache (struct fringe_flow), while `flows --enable`. */
struct fringe_inner_flows {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, FRINGE_MAX_FLOWS);
	__type(key, struct fringe_flow_key);
	__type(value, struct fringe_flow);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_flows);
} fringe_flows SEC(".maps");

/* Sampled packets (struct fringe_sample), consumed by `fringe sample`: made
 * when a policy with `sample` rules is loaded or a consumer starts, then kept
 * (a consumer holds it open). */
struct fringe_inner_samples {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FRINGE_SAMPLE_RING);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_samples);
} fringe_samples SEC(".maps");

/* Samples taken and lost, by counter id: shared, not per CPU (a sampled
 * packet already takes the ring's lock; an atomic add is nothing beside it). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FRINGE_MAX_COUNTERS);
	__type(key, __u32);
	__type(value, struct fringe_sample_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_sample_stats SEC(".maps");

/* TCP flows confirmed as an application (app.h), by 5-tuple -> enum fringe_app,
 * while a policy has app rules. */
struct fringe_inner_app_flows {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FRINGE_APP_FLOWS);
	__type(key, struct fringe_app_flow_key);
	__type(value, __u32);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_app_flows);
} fringe_app_flows SEC(".maps");

/* The staged policy (§11): its counters, per CPU, by staged rule index + 1,
 * and the packets whose verdict it would change, by pair of rules (abi.h);
 * made at `policy stage`, gone at `policy unstage`. */
struct fringe_inner_staged_stats {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FRINGE_STAGED_COUNTERS);
	__type(key, __u32);
	__type(value, struct fringe_counter);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_staged_stats);
} fringe_staged_stats SEC(".maps");

struct fringe_inner_staged_changes {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FRINGE_STAGED_CHANGES);
	/* Sizes, not types: BTF would carry these structs as forward
	 * declarations only (no global or function signature names them). */
	__uint(key_size, sizeof(struct fringe_staged_key));
	__uint(value_size, sizeof(struct fringe_staged_change));
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_staged_changes);
} fringe_staged_changes SEC(".maps");

/* The staged policy's program (fringe_xdp_staged), tail-called after the
 * verdict while a policy is staged: loaded at `policy stage`. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_staged_prog SEC(".maps");

/* Packets and bytes per recognized application, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FRINGE_APP_COUNT);
	__type(key, __u32);
	__type(value, struct fringe_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_app_stats SEC(".maps");

/* Packets and bytes per declared device, per CPU, by device counter id
 * (FRINGE_DEV_CID_SHIFT); ids follow device names across reloads. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FRINGE_MAX_DEVICE_IDS);
	__type(key, __u32);
	__type(value, struct fringe_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_device_stats SEC(".maps");

/* Spoofed packets by the device counter id of the device whose address
 * they claim, per CPU.  A hash made as used (no preallocation): a site pays
 * for the devices under attack, not for every device it may declare; the
 * controller drops the ids no policy slot holds at each load. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, FRINGE_SPOOF_DEVICES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_device_spoofs SEC(".maps");

/* Device counter id -> name and slots (struct fringe_device_name), written by the controller only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FRINGE_MAX_DEVICE_IDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fringe_device_name);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_device_names SEC(".maps");

/* Per-CPU scratch for the packet being judged (struct pkt).  Pinned: the
 * staged policy's program, loaded apart, reads the facts the program that
 * tail-calls it parsed (XDP programs do not nest on a CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pkt);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_scratch SEC(".maps");

/* This CPU's packet scratch and the policy switch, where every program and
 * global function that judges the packet starts: 0, or -1 when either is
 * missing (never: both are one-entry arrays, but the verifier asks). */
static __always_inline int scratch_and_meta(struct pkt **p, struct fringe_meta **meta)
{
	*p = bpf_map_lookup_elem(&fringe_scratch, &fringe_zero);
	*meta = bpf_map_lookup_elem(&fringe_meta, &fringe_zero);
	return *p && *meta ? 0 : -1;
}

/* Per-CPU scratch for a flow's key and a new flow's value (flow.h): off the
 * stack, whose 512 bytes the program and its global functions share. */
struct flow_scratch {
	struct fringe_flow_key key;
	struct fringe_flow fresh;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flow_scratch);
} fringe_flow_scratch SEC(".maps");

/* ---- memos: answers the hot path would otherwise find by hash lookups ----
 * Per CPU, direct-mapped by a hash of the question, each answer tagged with
 * the policy generation it was found under (generations are never reused):
 * a load or a switch of slots makes every memo a miss, never a wrong
 * answer.  A hit costs inlined array reads and compares instead of a
 * helper call and a hash of the key. */
#define FRINGE_MEMO_SLOTS	256	/* per CPU and memo, a power of two */

/* A memo's index for a question folded to one word: one multiply, the top bits. */
static __always_inline __u32 memo_slot(__u64 x)
{
	return ((x * 0xff51afd7ed558ccdULL) >> 56) & (FRINGE_MEMO_SLOTS - 1);
}

/* The same for a question folded to two words. */
static __always_inline __u32 memo_index(__u64 a, __u64 b)
{
	return memo_slot(a ^ (b * 0x9e3779b97f4a7c15ULL));
}

/* An address as a memo keeps it: two words (IPv4: the first four bytes, then zeros). */
struct memo_addr {
	__u64 w[2];
};

/* Packet addresses (struct pkt) are 8-byte aligned: read as words. */
static __always_inline __u64 memo_addr_fold(const __u8 *addr)
{
	const __u64 *w = (const __u64 *)addr;

	return w[0] ^ w[1];
}

/* Nonzero when the address differs from the memo's: no branch of its own. */
static __always_inline __u64 memo_addr_differs(const struct memo_addr *m, const __u8 *addr)
{
	const __u64 *w = (const __u64 *)addr;

	return (m->w[0] ^ w[0]) | (m->w[1] ^ w[1]);
}

static __always_inline void memo_addr_set(struct memo_addr *m, const __u8 *addr)
{
	const __u64 *w = (const __u64 *)addr;

	m->w[0] = w[0];
	m->w[1] = w[1];
}

/* Device identification (policy.h): (MAC, family, source address) -> the device. */
struct dev_memo {
	__u64 generation;	/* 0: empty */
	__u64 mac;		/* pkt_mac_word: the MAC and the family */
	struct memo_addr saddr;
	__u32 device;		/* policy_device's answer */
	__u32 claimed;		/* the device whose address a spoofed packet claims */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FRINGE_MEMO_SLOTS);
	__type(key, __u32);
	__type(value, struct dev_memo);
} fringe_dev_memo SEC(".maps");

/* TCP flows confirmed as an application (app.h): what fringe_app_flows holds. */
struct app_memo {
	__u64 generation;	/* 0: empty */
	__u64 flow;		/* pkt_flow_word: ports, family, protocol */
	struct memo_addr saddr, daddr;
	__u8 app;		/* enum fringe_app the flow was confirmed as */
	__u8 hits;		/* hits since fringe_app_flows was last consulted */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FRINGE_MEMO_SLOTS);
	__type(key, __u32);
	__type(value, struct app_memo);
} fringe_app_memo SEC(".maps");

/* Classification (policy.h): what policy_classify reads of a packet -> the
 * first rule that matches it.  Three words beside the addresses, each as it
 * lies in struct pkt: flow (ports, family, protocol), mac (the MAC and the
 * VLAN) and who (the interface, the application and its detail).  Not the
 * device: the MAC and the source address tell it under a generation, so
 * the entry can answer it too (identify_remembered). */
struct rule_memo {
	__u64 generation;	/* 0: empty */
	__u64 flow;
	__u64 mac;
	struct memo_addr saddr, daddr;
	__u64 who;
	__u32 rule;		/* policy_classify's answer */
	__u32 device;		/* and the sender, as identification found it */
	__u32 claimed;
	/* The rule's action as the slot holds it under the generation, so that
	 * a hit that allows or drops reads nothing more (rule_memo_verdict):
	 * its counter id, action (RULE_MEMO_NO_ACTION: look it up) and flags. */
	__u32 counter_id;
	__u8 action;
	__u8 flags;
	__u8 pad[6];
};
#define RULE_MEMO_NO_ACTION 0xff
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FRINGE_MEMO_SLOTS);
	__type(key, __u32);
	__type(value, struct rule_memo);
} fringe_rule_memo SEC(".maps");

/* ---- DNS names in sets (dns.h) ---- */

/* All three on demand (holders, like the flow table): made by the load of a
 * policy whose sets list DNS names, before its flip; dropped when neither
 * slot's policy lists any. */

/* Queries seen, waiting for their answer (one answer each). */
struct fringe_inner_dns_queries {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FRINGE_DNS_QUERIES_MAX);
	__type(key, struct fringe_dns_query_key);
	__type(value, struct fringe_dns_query);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_dns_queries);
} fringe_dns_queries SEC(".maps");

/* Addresses learned from answers, with their sets and expiry (size
 * dns-addresses).  Not preallocated: its memory follows what is learned.
 * Full, it takes no new address; the daemon evicts the soonest to expire
 * before that happens. */
struct fringe_inner_dns_learned {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FRINGE_DNS_LEARNED_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fringe_dns_addr_key);
	__type(value, struct fringe_dns_learned);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_dns_learned);
} fringe_dns_learned SEC(".maps");

/* The names of the policy in force, for `fringe dns show` (user space only;
 * names past FRINGE_DNS_NAMES_MAX are learned all the same, shown without one). */
struct fringe_inner_dns_names {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FRINGE_DNS_NAMES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct fringe_dns_name);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_dns_names);
} fringe_dns_names SEC(".maps");

/* enum fringe_dns_result -> answers (and queries, insertions), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FRINGE_DNS__COUNT);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_dns_stats SEC(".maps");

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

/* ---- overlay (docs/overlay.md): a nodes file per slot, like policies ---- */

/* The two overlay slots and the switch between them (struct fringe_overlay, index 0). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fringe_overlay);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_overlay SEC(".maps");

/* Node id -> where and how to reach it (struct fringe_node). */
struct fringe_inner_nodes {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FRINGE_MAX_NODES);
	__type(key, __u32);
	__type(value, struct fringe_node);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_nodes);
} fringe_ov_slot_nodes SEC(".maps");

/* Overlay prefix -> the node id that owns it. */
struct fringe_inner_ov_prefixes {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FRINGE_MAX_OV_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fringe_ov_prefix_key);
	__type(value, __u32);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_ov_prefixes);
} fringe_ov_slot_prefixes SEC(".maps");

/* Underlay address -> node id: the nodes VXLAN is accepted from. */
struct fringe_inner_ov_underlay {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FRINGE_MAX_NODES);
	__type(key, struct fringe_ov_underlay_key);
	__type(value, __u32);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct fringe_inner_ov_underlay);
} fringe_ov_slot_underlay SEC(".maps");

/* Node id -> name, written by the controller; ids follow names across loads. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FRINGE_MAX_NODES);
	__type(key, __u32);
	__type(value, struct fringe_node_name);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_node_names SEC(".maps");

/* Packets and bytes tunnelled to and from each node, per CPU, by node id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FRINGE_MAX_NODES);
	__type(key, __u32);
	__type(value, struct fringe_node_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fringe_node_stats SEC(".maps");

/* What one packet knows of the overlay, per CPU: kept in map memory, not on
 * the stack, so the verifier's paths through decapsulation converge before
 * parsing instead of doubling everything after it. */
struct ov_scratch {
	struct bpf_fib_lookup fib;	/* bpf_fib_lookup's parameters */
	__u32 slot;			/* the overlay slot the packet uses (set when pkt.ov) */
	__u32 rx_node;			/* decapsulated from this node, or OV_NO_NODE */
	__u32 ifindex;			/* the underlay interface of that slot */
	struct fringe_ov_prefix_key key;	/* of the LPM lookup, off the stack too */
	__u8 pad[5];			/* the outer IP header 4-byte aligned */
	/* The outer Ethernet, IP, UDP and VXLAN headers, built here before
	 * bpf_xdp_adjust_head so nothing needs to live across it (stack). */
	__u8 outer[FRINGE_VXLAN_OUTER_V6 + ETH_HLEN];	/* + the inner Ethernet header (TC) */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ov_scratch);
} fringe_ov_scratch SEC(".maps");

/* clang describes types that only inner-map templates name as forward
 * declarations, which libbpf cannot size; this carries their full BTF. */
struct fringe_inner_types {
	struct fringe_rule_action action;
	struct fringe_bitmap bitmap;
	struct fringe_v4_block v4;
	struct fringe_lpm6_key lpm6;
	struct fringe_hkey hkey;
	struct fringe_node node;
	struct fringe_ov_prefix_key ov_prefix;
	struct fringe_ov_underlay_key ov_underlay;
	struct fringe_flow_key flow_key;
	struct fringe_flow flow;
	struct fringe_src_bucket_key src_key;
	struct fringe_src_bucket src;
	struct fringe_app_flow_key app_key;
	struct fringe_dns_query_key dns_query_key;
	struct fringe_dns_query dns_query;
	struct fringe_dns_addr_key dns_addr_key;
	struct fringe_dns_learned dns_learned;
	struct fringe_dns_name dns_name;
};
__attribute__((noinline)) int fringe_btf_inner_types(struct fringe_inner_types *t)
{
	return t != 0;
}

#endif
