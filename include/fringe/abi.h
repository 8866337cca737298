/* SPDX-License-Identifier: GPL-2.0 */
/* The data-plane ABI: map keys and values, enums and limits shared by BPF and user space. */
#ifndef FRINGE_ABI_H
#define FRINGE_ABI_H

#include <linux/types.h>
#include <linux/bpf.h>

#ifndef __FRINGE_BPF__
#define FRINGE_STATIC_ASSERT(c, m) _Static_assert(c, m)
#else
#define FRINGE_STATIC_ASSERT(c, m)
#endif

/* ---- limits ---------------------------------------------------------- */
#define FRINGE_MAX_RULES	4096			/* rules in one policy */
#define FRINGE_DNS_MAX_SETS	32	/* sets listing DNS names in one policy: bits of a mask */
#define FRINGE_BITMAP_WORDS	(FRINGE_MAX_RULES / 64)	/* 64-bit words per rule bitmap */
#define FRINGE_MAX_BITMAPS	16384			/* distinct rule bitmaps in one policy */
#define FRINGE_MAX_SET_ITEMS	(1 << 20)		/* LPM/hash entries in one policy */
#define FRINGE_MAX_COUNTERS	(2 * FRINGE_MAX_RULES + 64) /* rule counter ids; 0 is `default` */
#define FRINGE_MAX_IFACES	64			/* attached interfaces; stats slot 0 is "other" */
#define FRINGE_IFINDEX_LIMIT	65536			/* ifindexes the slot table can index */
#define FRINGE_MAX_DEVICES	1024			/* declared devices in one policy */
#define FRINGE_NAME_LEN		64			/* rule/device/node names, NUL included */
#define FRINGE_IFNAME_LEN	16
#define FRINGE_MAX_EXT_HDRS	8			/* IPv6 extension headers walked */
#define FRINGE_SRC_BUCKETS	65536			/* per-source token buckets (LRU), by default */
#define FRINGE_NO_PORT		65536			/* port-table index of "packet has no port" */
#define FRINGE_NO_VLAN		4096			/* vlan-table index of "untagged" */
#define FRINGE_NO_DEVICE	FRINGE_MAX_DEVICES	/* device-table index of "not a device" */
#define FRINGE_MAX_DEVICE_IDS	(2 * FRINGE_MAX_DEVICES) /* device counter ids: two policies' worth */
#define FRINGE_SPOOF_DEVICES	256	/* devices whose spoofed packets are counted apart, at once */
#define FRINGE_MAX_APPS		32

/* ---- classification dimensions -------------------------------------- */
/* Every MATCH field is one dimension; a packet's value in each used
 * dimension selects a rule bitmap, and the first bit set in all of them
 * is the matching rule (docs/design.md). */
enum fringe_dim {
	FRINGE_DIM_IN,		/* ingress ifindex: hash lookup */
	FRINGE_DIM_SRC,		/* source address: LPM */
	FRINGE_DIM_DST,		/* destination address: LPM */
	FRINGE_DIM_PROTO,	/* L4 protocol: table */
	FRINGE_DIM_SPORT,	/* table */
	FRINGE_DIM_DPORT,	/* table */
	FRINGE_DIM_MAC,		/* source MAC: hash lookup */
	FRINGE_DIM_VLAN,	/* outer VLAN id: table */
	FRINGE_DIM_DEVICE,	/* declared source device (device, class): table */
	FRINGE_DIM_APP,		/* recognized application: table */
	FRINGE_DIM_APPX,	/* modbus function code / MQTT packet type: table */
	FRINGE_DIM_MAX,
};
/* The dimensions that need an application's flow state (app.h). */
#define FRINGE_DIMS_APP	(1U << FRINGE_DIM_APP | 1U << FRINGE_DIM_APPX)

/* Offsets into the per-policy dimension table (one u32 bitmap index each).
 * The data plane reads the sections up to FRINGE_TAB_SIZE; DPORT and PROTO,
 * past its end, are the compiler's intermediate steps toward FRINGE_TAB_L4
 * (FRINGE_TAB_COMPILE_SIZE), never loaded: each table entry costs 8 bytes of
 * kernel memory per policy slot. */
#define FRINGE_TAB_SPORT	0
#define FRINGE_TAB_VLAN		(FRINGE_TAB_SPORT + FRINGE_NO_PORT + 1)
#define FRINGE_TAB_DEVICE	(FRINGE_TAB_VLAN + FRINGE_NO_VLAN + 1)
#define FRINGE_TAB_APP		(FRINGE_TAB_DEVICE + FRINGE_NO_DEVICE + 1)
#define FRINGE_TAB_APPX		(FRINGE_TAB_APP + FRINGE_MAX_APPS)
/* Protocol and destination port together, so one read serves both: the
 * rules admitting (TCP, UDP or SCTP, port), then those admitting a packet
 * without ports, by protocol number (FRINGE_DIM_PROTO in the data plane). */
#define FRINGE_TAB_L4		(FRINGE_TAB_APPX + FRINGE_APPX_NONE + 1)
#define FRINGE_L4_UDP		65536
#define FRINGE_L4_SCTP		(2 * 65536)
#define FRINGE_L4_NOPORT	(3 * 65536)
/* Per set of DNS names (its index among such sets), the rules whose `src`
 * (then `dst`) names it: what a learned address adds to the trie's bitmap. */
#define FRINGE_TAB_DNS		(FRINGE_TAB_L4 + FRINGE_L4_NOPORT + 256)
#define FRINGE_TAB_SIZE		(FRINGE_TAB_DNS + 2 * FRINGE_DNS_MAX_SETS)
#define FRINGE_TAB_DPORT	FRINGE_TAB_SIZE
#define FRINGE_TAB_PROTO	(FRINGE_TAB_DPORT + FRINGE_NO_PORT + 1)
#define FRINGE_TAB_COMPILE_SIZE	(FRINGE_TAB_PROTO + 256)

/* The APPX dimension's values: an application's finer field. */
#define FRINGE_APPX_MODBUS	0	/* + Modbus function code (0-255) */
#define FRINGE_APPX_MQTT	256	/* + MQTT control packet type (0-15) */
#define FRINGE_APPX_NONE	272	/* neither, or no message to judge */

/* A set of rules: bit r of word r/64.  summary bit w is set iff word w is non-zero,
 * so intersecting the summaries first skips the words no rule can match in. */
struct fringe_bitmap {
	__u64 summary;
	__u64 word[FRINGE_BITMAP_WORDS];
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_bitmap) == 520, "bitmap size");

/* IPv4 addresses: a multibit trie of arrays, one level per octet; the
 * first octet picks a root block, so a lookup reads at most three blocks
 * (one per further octet), then a bitmap, whatever the number of prefixes.
 * Blocks 0-255 are `src` for each first octet, 256-511
 * `dst`; an entry, indexed by the next octet, is FRINGE_V4_LEAF | a bitmap
 * index, or the block that the octet after it indexes, as it is: the data
 * plane looks the entry up in the blocks as it lies in the block, with no
 * copy of it as the key on the stack, and a leaf is the lookup that fails. */
#define FRINGE_V4_BLOCKS	8192
#define FRINGE_V4_ROOTS		512	/* blocks of the first octets of src, then dst */
#define FRINGE_V4_LEAF		0x80000000u

struct fringe_v4_block {
	__u32 next[256];
};

/* IPv6 addresses: an LPM trie whose key leads with the field byte
 * (FRINGE_DIM_SRC/DST), so one trie serves both. */
struct fringe_lpm6_key {
	__u32 prefixlen;
	__u8 field;
	__u8 addr[16];
} __attribute__((packed));
FRINGE_STATIC_ASSERT(sizeof(struct fringe_lpm6_key) == 21, "lpm6 key");

/* IPv6 host addresses (/128) are not in the trie but in the hash (FRINGE_HK_SRC6,
 * FRINGE_HK_DST6): a deep trie of many hosts is slow.  The trie holds a /64
 * above them whose value carries FRINGE_LPM_HOSTS, and only then is the hash
 * probed; the low 16 bits are the bitmap when the probe misses. */
#define FRINGE_LPM_HOSTS	0x80000000u
#define FRINGE_LPM_BITMAP_MASK	0xffffu
#define FRINGE_HOST_COVER6	64

/* Hashed per-policy lookups (MAC dimension, `in`, device identification). */
enum fringe_hkey_kind {
	FRINGE_HK_MAC = 1,	/* data: 6-byte MAC -> bitmap index */
	FRINGE_HK_IN,		/* data: __u32 ifindex -> bitmap index */
	FRINGE_HK_DEV_MAC,	/* data: 6-byte MAC -> device id */
	FRINGE_HK_DEV_IP4,	/* data: IPv4 address -> device id */
	FRINGE_HK_DEV_IP6,	/* data: IPv6 address -> device id */
	FRINGE_HK_SRC6,		/* data: IPv6 host address -> bitmap index (FRINGE_LPM_HOSTS) */
	FRINGE_HK_DST6,
	FRINGE_HK_DNS_NAME,	/* data: __u64 fringe_dns_hash of a name -> mask of its sets */
	FRINGE_HK_DNS_WILD,	/* data: __u64 hash of W, for `*.W` -> mask of its sets */
};
/* Values of the FRINGE_HK_DEV_* entries: the device's index in its policy
 * (the FRINGE_TAB_DEVICE offset) in the low bits, and its counter id + 1
 * (fringe_device_stats, fringe_device_names) above; 0 there: not counted. */
#define FRINGE_DEV_INDEX_MASK	0xffffu
#define FRINGE_DEV_CID_SHIFT	16
struct fringe_hkey {
	__u8 kind;
	__u8 pad[3];
	__u8 data[16];
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_hkey) == 20, "hkey");

/* ---- verdicts, actions, drop reasons --------------------------------- */
enum fringe_action {
	FRINGE_ACT_ALLOW,
	FRINGE_ACT_DROP,
	FRINGE_ACT_STEER_IFACE,	/* target: ifindex, through fringe_devmap */
	FRINGE_ACT_STEER_CPU,	/* target: cpu, through fringe_cpumap */
	FRINGE_ACT_STEER_NODE,	/* target: node id (overlay) */
	FRINGE_ACT_STEER_OVERLAY,
};

enum fringe_rule_flags {
	FRINGE_RF_LIMIT		= 1 << 0,	/* token bucket */
	FRINGE_RF_PER_SRC	= 1 << 1,	/* one bucket per source address */
	FRINGE_RF_BYTES		= 1 << 2,	/* bucket counts bytes, not packets */
	FRINGE_RF_SAMPLE	= 1 << 3,
};

struct fringe_rule_action {
	__u32 counter_id;	/* index into fringe_rule_stats, stable across reloads */
	__u8 action;		/* enum fringe_action */
	__u8 flags;		/* enum fringe_rule_flags */
	__u16 pad;
	__u32 target;
	__u32 sample_rate;	/* 1 in N */
	/* Token bucket, in units chosen by the compiler so every rate is an
	 * integer number of units per nanosecond (FRINGE_UNITS_*). */
	__u64 rate;		/* units added per ns */
	__u64 burst;		/* bucket depth in units */
	__u64 cost;		/* units per packet, or per byte with RF_BYTES */
	__u64 fill_ns;		/* time to fill an empty bucket: caps the refill */
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_rule_action) == 48, "action size");

#define FRINGE_UNITS_PER_PACKET	60000000000ULL	/* N/min -> N units/ns, N/s -> 60N */
#define FRINGE_UNITS_PER_BYTE	8000000ULL	/* N bit/s -> N/1000 units/ns (kbit/s -> N) */

/* Interface verdict counters (the `verdict` label of the metrics: docs/metrics.md). */
enum fringe_stat_verdict {
	FRINGE_V_PASS,
	FRINGE_V_DROP,
	FRINGE_V_REDIRECT,
	FRINGE_V_TX,
	FRINGE_V_MAX,
};

/* Drop reasons: helpers return -reason, one exit path counts it. */
enum fringe_drop_reason {
	FRINGE_DROP_NONE,
	FRINGE_DROP_POLICY,
	FRINGE_DROP_RATE_LIMIT,
	FRINGE_DROP_MALFORMED,
	FRINGE_DROP_MTU,
	FRINGE_DROP_OVERLAY_UNKNOWN_NODE,
	FRINGE_DROP_REDIRECT,		/* steer target missing or refused */
	FRINGE_DROP_MAX = 16,
};

/* The head of the per-CPU packet scratch (fringe_scratch, whose value is
 * the BPF side's struct pkt): which rule judged the packet being handled.
 * `policy test --verbose` reads it after each test run to name the
 * packet's rule with one lookup instead of reading every rule counter. */
struct fringe_scratch_head {
	__u32 judged_by;	/* the rule's counter id + 1 (1: default); 0: no rule (non-IP, malformed) */
	__u32 ret;		/* the hook's action, kept for the staged policy's program */
};
_Static_assert(sizeof(struct fringe_scratch_head) == 8, "ABI: fringe_scratch_head");

struct fringe_counter {
	__u64 packets;
	__u64 bytes;
};

/* Per-CPU, per interface slot. */
struct fringe_iface_stats {
	struct fringe_counter verdict[FRINGE_V_MAX];
	__u64 drops[FRINGE_DROP_MAX];
	__u64 non_ip;		/* neither IPv4 nor IPv6: passed, matched no rule */
	__u64 fragments;	/* IP fragments seen */
	__u64 spoofed;		/* a declared device's IP from another MAC */
	__u64 spoofed_untracked; /* of those, claiming a device fringe_device_spoofs had no room for */
};

/* Token bucket, in the units of fringe_rule_action: a packet costs
 * FRINGE_UNITS_PER_PACKET (a byte FRINGE_UNITS_PER_BYTE), so the refill over
 * elapsed ns is elapsed_ns * rate, with no division on the fast path. */
struct fringe_bucket {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 tokens;
	__u64 last_ns;		/* 0: never used, bucket starts full */
};

struct fringe_src_bucket {
	__u64 tokens;
	__u64 last_ns;
};

struct fringe_src_bucket_key {
	__u32 counter_id;
	__u8 family;		/* 4 or 6 */
	__u8 pad[3];
	__u8 addr[16];
};

/* ---- policy slots ----------------------------------------------------- */
/* Two complete policies live side by side; `active` picks the one packets use.
 * A load fills the other slot and flips `active` with one aligned store.
 * A third slot holds the staged policy (§11), which only counts. */
#define FRINGE_SLOT_STAGED	2
#define FRINGE_POLICY_SLOTS	3
struct fringe_slot_hdr {
	__u64 generation;
	__u64 load_time_ns;	/* CLOCK_REALTIME of the load */
	__u32 n_rules;
	__u32 dims_used;	/* 1 << FRINGE_DIM_* */
	__u8 default_action;	/* FRINGE_ACT_ALLOW or FRINGE_ACT_DROP */
	__u8 features;		/* enum fringe_slot_features: on-demand maps it needs */
	__u8 flags;		/* FRINGE_SLOT_* */
	__u8 pad;
	__u32 miss_bitmap[FRINGE_DIM_MAX]; /* bitmap of a hashed/LPM miss (wildcard rules) */
	/* Entries of the slot's inner maps (fringe_map_entries), by enum fringe_slot_map. */
	__u32 entries[8];
	__u32 pad2;
};

enum fringe_slot_flags {
	FRINGE_SLOT_DNS = 1 << 0,	/* sets list DNS names: watch DNS, consult learned addresses */
};

/* The per-policy inner maps, in fringe_slot_hdr.entries order. */
enum fringe_slot_map {
	FRINGE_SM_BITMAPS,
	FRINGE_SM_DIMTAB,
	FRINGE_SM_V4,
	FRINGE_SM_LPM6,
	FRINGE_SM_HASH,
	FRINGE_SM_RULES,
	FRINGE_SM_COUNT,
};

/* What a slot's policy needs of the maps made on demand (maps.h). */
enum fringe_slot_features {
	FRINGE_SF_PER_SRC	= 1 << 0,	/* fringe_src_buckets */
	FRINGE_SF_APP		= 1 << 1,	/* fringe_app_flows */
	FRINGE_SF_DNS		= 1 << 2,	/* fringe_dns_queries, fringe_dns_learned */
};

/* Sizes a site sets (daemon config `size NAME N`, `attach --size NAME=N`;
 * user/lang/config.h has their names, defaults and bounds).  The pinned
 * state records them in fringe_meta.sizes: the policy slots' arrays and the
 * device tables keep the size they were created with (an array inner map
 * must match its slot's template for the data plane's lookups to be
 * inlined), the on-demand maps take the recorded size when created. */
enum fringe_size {
	FRINGE_SZ_BITMAPS,	/* rule bitmaps per policy slot */
	FRINGE_SZ_V4_BLOCKS,	/* IPv4 trie blocks per policy slot */
	FRINGE_SZ_DEVICES,	/* declared devices per policy */
	FRINGE_SZ_FLOWS,	/* flow table entries */
	FRINGE_SZ_SRC_BUCKETS,	/* per-source token buckets */
	FRINGE_SZ_APP_FLOWS,	/* TCP flows confirmed as an application */
	FRINGE_SZ_SAMPLE_RING,	/* bytes of the sample ring buffer (a power of 2) */
	FRINGE_SZ_DNS_ADDRESSES,	/* addresses learned from DNS answers */
	FRINGE_SZ_COUNT,
};
#define FRINGE_SZ_SLOTS	8

enum fringe_meta_flags {
	/* Keep the flow table, and use it as a verdict cache.  Off by default:
	 * an LRU hash lookup costs more than classification itself here
	 * (docs/design.md, `make bench`). */
	FRINGE_META_FLOWS = 1 << 0,
	/* A staged policy is in slot FRINGE_SLOT_STAGED: judge every packet
	 * by it as well, through the program in fringe_staged_prog. */
	FRINGE_META_STAGED = 1 << 1,
	/* A nodes file has been loaded: the XDP program looks at fringe_overlay
	 * (whose active slot says whether one is in force).  Without it, the
	 * overlay costs a packet one test of this word.  Set before the first
	 * nodes file's slot flips, never cleared (maps_open sets it on a state
	 * from before the flag). */
	FRINGE_META_OVERLAY = 1 << 2,
};

struct fringe_meta {
	__u32 active;		/* 0 or 1 */
	__u32 magic;		/* FRINGE_META_MAGIC once initialised */
	__u32 flags;		/* enum fringe_meta_flags */
	__u32 sample_bytes;	/* bytes of each sampled packet; 0: FRINGE_SAMPLE_BYTES */
	__u64 load_failures;
	struct fringe_slot_hdr slot[FRINGE_POLICY_SLOTS]; /* [FRINGE_SLOT_STAGED]: the staged policy */
	__u64 confirm_deadline_ns; /* CLOCK_REALTIME; 0: nothing to confirm */
	__u64 confirm_generation;  /* the generation that needs `policy confirm` */
	__u32 sizes[FRINGE_SZ_SLOTS];	/* by enum fringe_size; 0: the default */
	__u32 format;		/* FRINGE_STATE_FORMAT of the fringe that made the state */
	__u32 pad3;
};
#define FRINGE_META_MAGIC 0x46524e47	/* "FRNG" */
/* What the pinned maps hold, beyond their sizes: a fringe that writes them
 * otherwise refuses a state of another format (user/kernel/maps.c), as it
 * refuses one whose meta has another size.  2: the IPv4 trie's leaves carry
 * FRINGE_V4_LEAF (1, unnumbered: its children carried a flag). */
#define FRINGE_STATE_FORMAT 2

/* ---- the staged policy ------------------------------------------------ */
/* What a staged policy counts: fringe_staged_stats (per CPU) by staged rule
 * index + 1 (0: its default; FRINGE_STAGED_LOST: changes not recorded,
 * the table being full), and fringe_staged_changes, the packets whose verdict
 * it would change, by pair of rules.  Both made at `policy stage`. */
#define FRINGE_STAGED_LOST	(FRINGE_MAX_RULES + 1)
#define FRINGE_STAGED_COUNTERS	(FRINGE_MAX_RULES + 2)
#define FRINGE_STAGED_CHANGES	1024	/* distinct (rule, verdict) pairs kept */

/* A verdict as §11 names them: steering of any kind is `steer`. */
enum fringe_verdict_class {
	FRINGE_VC_ALLOW,
	FRINGE_VC_DROP,
	FRINGE_VC_STEER,
	FRINGE_VC_MAX,
};

struct fringe_staged_key {
	__u32 from_rule;	/* the active rule's counter id (0: its default) */
	__u32 to_rule;		/* the staged rule's index + 1 (0: its default) */
	__u8 from;		/* enum fringe_verdict_class */
	__u8 to;
	__u8 pad[2];
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_staged_key) == 12, "staged key");

struct fringe_staged_change {
	__u64 packets;
	__u64 bytes;
	__u64 last_ns;		/* bpf_ktime_get_ns of the last packet */
	/* The last packet's flow: */
	__u32 ifindex;
	__u8 family;		/* 4 or 6 */
	__u8 proto;
	__u16 sport;		/* host order; 0 without ports */
	__u16 dport;
	__u16 pad;
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_staged_change) == 72, "staged change");

/* ---- flows ------------------------------------------------------------- */
/* The flow table is also the verdict cache: a flow remembers the rule that
 * matched it under the policy generation in force, so later packets of the
 * flow skip classification until the next load. */
#define FRINGE_MAX_FLOWS	32768		/* the default size of the flow table (size flows) */
#define FRINGE_FLOW_NO_RULE	0xffffffffu	/* the flow fell to `default` */

enum fringe_flow_key_flags {
	FRINGE_FK_PORTS = 1 << 0,	/* sport/dport are valid */
	FRINGE_FK_LATER_FRAG = 1 << 1,	/* a non-first fragment */
};

/* Everything a rule can match on, so a cached verdict is exact. */
struct fringe_flow_key {
	__u32 ifindex;
	__u16 vlan;
	__u8 family;
	__u8 proto;
	__u16 sport;
	__u16 dport;
	__u8 smac[6];
	__u8 flags;		/* enum fringe_flow_key_flags */
	__u8 pad;
	__u8 saddr[16];
	__u8 daddr[16];
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_flow_key) == 52, "flow key");

/* Per CPU (LRU_PERCPU_HASH): user space sums packets/bytes, takes min/max times. */
struct fringe_flow {
	__u64 generation;	/* policy generation the cached rule belongs to */
	__u32 rule;		/* cached first match, or FRINGE_FLOW_NO_RULE */
	__u8 action;		/* last XDP action */
	__u8 spoofed;		/* cached: the source claims another device's IP */
	__u8 app;		/* enum fringe_app a payload was recognized as, | FRINGE_FLOW_APP_MISMATCH */
	__u8 pad;
	__u64 packets;
	__u64 bytes;
	__u64 first_ns;		/* CLOCK_MONOTONIC (coarse) */
	__u64 last_ns;
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_flow) == 48, "flow");
/* A payload on an application's port failed its header check (`learn` then
 * writes a port rule, not an `app` rule). */
#define FRINGE_FLOW_APP_MISMATCH 0x80

/* ---- sampling ---------------------------------------------------------- */
/* `sample 1/N`: one matching packet in N, chosen at random, goes to user
 * space through the fringe_samples ring buffer with its first bytes. */
#define FRINGE_SAMPLE_BYTES	128		/* default bytes per sample */
#define FRINGE_SAMPLE_MAX	256		/* most bytes a sample can carry */
#define FRINGE_SAMPLE_RING	(1 << 20)	/* ring buffer bytes, by default */

struct fringe_sample {
	__u64 timestamp_ns;	/* CLOCK_MONOTONIC */
	__u32 ifindex;		/* ingress interface */
	__u32 counter_id;	/* the rule (fringe_rule_names) */
	__u32 orig_len;		/* frame length on the wire */
	__u32 cap_len;		/* bytes of data[] that hold the frame */
	__u32 sample_rate;	/* the rule's N */
	__u32 pad;
	__u8 data[FRINGE_SAMPLE_MAX];
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_sample) == 32 + FRINGE_SAMPLE_MAX, "sample");

/* By counter id (shared by the CPUs): taken + lost = selected; the rule's packet
 * counter is the sample pool (the packets that could have been chosen). */
struct fringe_sample_stats {
	__u64 taken;		/* delivered to the ring buffer */
	__u64 lost;		/* selected, but the ring buffer was full */
};

/* Interface table, written by attach. */
struct fringe_iface_info {
	__u32 ifindex;
	__u8 in_use;
	__u8 mode;		/* enum fringe_attach_mode */
	__u8 egress;
	__u8 pad;
	char name[FRINGE_IFNAME_LEN];
	__u32 prog_id;
	__u32 pad2;
};

struct fringe_rule_name {
	char name[FRINGE_NAME_LEN];
};

/* Device counter id -> its name, and the policy slots that declare it
 * (bit s: slot s), so a reader lists the devices of the policy in force. */
struct fringe_device_name {
	char name[FRINGE_NAME_LEN];
	__u32 slots;
	__u32 pad;
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_device_name) == 72, "device name");

/* Applications recognized by the data plane (`app A`, IoT issue). */
enum fringe_app {
	FRINGE_APP_NONE,
	FRINGE_APP_MQTT,
	FRINGE_APP_MQTTS,
	FRINGE_APP_COAP,
	FRINGE_APP_COAPS,
	FRINGE_APP_MODBUS,
	FRINGE_APP_BACNET,
	FRINGE_APP_OPCUA,
	FRINGE_APP_DNP3,
	FRINGE_APP_DNS,
	FRINGE_APP_NTP,
	FRINGE_APP_COUNT,
};

#ifndef __FRINGE_BPF__
/* Names as they appear in stats, metrics labels and JSON (index = enum value). */
static const char *const fringe_drop_reason_names[FRINGE_DROP_MAX] = {
	[FRINGE_DROP_NONE] = NULL,
	[FRINGE_DROP_POLICY] = "policy",
	[FRINGE_DROP_RATE_LIMIT] = "rate_limit",
	[FRINGE_DROP_MALFORMED] = "malformed",
	[FRINGE_DROP_MTU] = "mtu",
	[FRINGE_DROP_OVERLAY_UNKNOWN_NODE] = "overlay_unknown_node",
	[FRINGE_DROP_REDIRECT] = "redirect_failed",
};
static const char *const fringe_verdict_names[FRINGE_V_MAX] = {
	[FRINGE_V_PASS] = "pass",
	[FRINGE_V_DROP] = "drop",
	[FRINGE_V_REDIRECT] = "redirect",
	[FRINGE_V_TX] = "tx",
};
#endif

/* TCP flows whose payload passed an application's header check (app.h). */
struct fringe_app_flow_key {
	__u8 family;
	__u8 proto;
	__u16 sport;
	__u16 dport;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
};
#define FRINGE_APP_FLOWS	8192		/* the default (size app-flows) */

/* ---- overlay (docs/overlay.md) -------------------------------------- */
/* The nodes file compiles into a node table (by node id), an LPM map from
 * overlay prefix to node id and a hash from underlay address to node id.
 * Like policies they live in two slots; fringe_overlay.active picks one.
 * Node ids follow node names across loads (fringe_node_names), so a policy's
 * `steer node NAME` and the per-node counters survive a reload. */
#define FRINGE_MAX_NODES	1024
#define FRINGE_MAX_OV_PREFIXES	65536
#define FRINGE_VXLAN_PORT	4789
#define FRINGE_VNI_MAX		16777215
#define FRINGE_VNI_DEFAULT	1
/* Outer Ethernet + IPv4 + UDP + VXLAN: an inner IP packet of at most
 * underlay MTU - 50 bytes fits (1450 on a 1500-byte underlay); over an
 * IPv6 underlay the outer IPv6 header is 20 bytes longer (1430). */
#define FRINGE_VXLAN_OUTER_V4	50
#define FRINGE_VXLAN_OUTER_V6	70
#define FRINGE_VXLAN_OUTER(family) ((family) == 6 ? FRINGE_VXLAN_OUTER_V6 : FRINGE_VXLAN_OUTER_V4)
#define FRINGE_IPV6_MIN_MTU	1280	/* RFC 8200: every IPv6 link carries this */
/* UDP source ports of the tunnel: Linux's udp_flow_src_port() over the
 * default ip_local_port_range, from a hash of the inner flow. */
#define FRINGE_OV_SPORT_MIN	32768
#define FRINGE_OV_SPORT_MAX	60999
#define FRINGE_OV_ANY		0xffffu	/* `steer overlay`: whichever node owns the destination */

enum fringe_node_flags {
	FRINGE_NODE_IN_USE	= 1 << 0,
	FRINGE_NODE_SELF	= 1 << 1,	/* this node: its prefixes are local */
	FRINGE_NODE_FIB		= 1 << 2,	/* outer MAC unresolved at load: bpf_fib_lookup per packet */
	FRINGE_NODE_MAC_GIVEN	= 1 << 3,	/* `mac` in the nodes file */
};

/* A node's VNI is the one it receives on: fringe sends to a node with that
 * node's VNI, and accepts VXLAN from a node with the sender's VNI (what a
 * Linux vxlan device, which has one VNI for everything, sends) or its own. */

/* A node may have an underlay address of each family; fringe sends to the
 * one whose family this node has too (the first listed when both are), and
 * accepts VXLAN from either.
 * Inner array of a slot, by node id. */
struct fringe_node {
	__u8 underlay[16];	/* the address sent to; IPv4 in the first 4 bytes */
	__u8 outer_mac[6];	/* outer destination: the node, or the next hop toward it */
	__u8 inner_mac[6];	/* inner destination: the node's MAC (a Linux vxlan peer's device) */
	__u32 vni;		/* host order */
	__u32 flags;		/* enum fringe_node_flags */
	/* Sum of 16-bit words, host order, that the load can add up: IPv4, the
	 * outer header's except tot_len; IPv6, the UDP pseudo-header's
	 * addresses and next header (the UDP checksum is not optional there). */
	__u32 ip_csum;
	__u8 family;		/* of underlay: 4 or 6 */
	__u8 pad[7];
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_node) == 48, "node");

/* Overlay prefix -> node id (LPM; the family byte leads, like fringe_lpm6_key). */
struct fringe_ov_prefix_key {
	__u32 prefixlen;	/* 8 + prefix length */
	__u8 family;		/* 4 or 6 */
	__u8 addr[16];
} __attribute__((packed));
FRINGE_STATIC_ASSERT(sizeof(struct fringe_ov_prefix_key) == 21, "overlay prefix key");

/* Underlay address -> node id: who may send us VXLAN. */
struct fringe_ov_underlay_key {
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_ov_underlay_key) == 20, "underlay key");

/* fringe_ov_slot.families: the underlay families this node tunnels over. */
#define FRINGE_OV_FAMILY(f)	(1u << (f))	/* f: 4 or 6 */

/* One loaded nodes file: the local end of the tunnels. */
struct fringe_ov_slot {
	__u64 generation;	/* 0: no nodes file in this slot */
	__u64 load_time_ns;	/* CLOCK_REALTIME */
	__u32 self_id;		/* this node's id */
	__u32 ifindex;		/* the underlay interface (holds self's underlay addresses) */
	__u32 mtu;		/* its MTU: the outer IP packet's limit */
	__u32 n_nodes;
	__u32 n_prefixes;
	__u8 family;		/* self's first underlay family, 4 or 6; 0 when the slot is empty */
	__u8 families;		/* FRINGE_OV_FAMILY() of each of self's underlay addresses */
	__u8 local_mac[6];	/* the underlay interface's MAC (2-byte aligned) */
	__u8 local_addr6[16];	/* self's IPv6 underlay address; else one of the interface's
				 * (the source of Packet Too Big only); else zero */
	__u8 local_addr4[4];	/* self's IPv4 underlay address (when families says so) */
	__u32 self_vni;		/* this node's VNI, host order */
	__u32 pad;
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_ov_slot) == 72, "overlay slot");
FRINGE_STATIC_ASSERT(__builtin_offsetof(struct fringe_ov_slot, local_addr6) % 4 == 0, "addr6 aligned");

struct fringe_overlay {
	__u32 active;		/* 0 or 1 */
	__u32 pad;
	__u64 load_failures;	/* `nodes load` refused */
	struct fringe_ov_slot slot[2];
};

/* Per CPU, by node id. */
struct fringe_node_stats {
	struct fringe_counter tx;	/* encapsulated toward the node */
	struct fringe_counter rx;	/* decapsulated from it */
};

struct fringe_node_name {
	char name[FRINGE_NAME_LEN];
};

/* ---- pin names ------------------------------------------------------- */
#define FRINGE_PIN_DIR_DEFAULT	"/sys/fs/bpf/fringe"

/* ---- DNS names in sets (docs/policy.md, "DNS names") ------------------- */

#define FRINGE_DNS_LEARNED_MAX	65536	/* learned addresses (fringe_dns_learned) */
#define FRINGE_DNS_QUERIES_MAX	2048	/* queries awaiting their answer (a few ms each) */
#define FRINGE_DNS_QUERY_NS	(5ULL * 1000000000)	/* how long a query waits */
#define FRINGE_DNS_TTL_MIN	30	/* seconds a learned address is held at least */
#define FRINGE_DNS_TTL_MAX	86400	/* and at most */
#define FRINGE_DNS_KEYS		4	/* names remembered per learned address */

#define FRINGE_DNS_NAMES_MAX	4096	/* fringe_dns_names: the policy's names, for display */

/* A name of the policy in force, by its key in fringe_dns_learned.keys:
 * what `fringe dns show` prints (user space writes and reads it). */
struct fringe_dns_name {
	char name[256];		/* "broker.example.com" or "*.example.net" */
	char sets[128];		/* the sets listing it, comma-separated */
};

/* A query seen going out: the answer must come back the same way. */
struct fringe_dns_query_key {
	__u8 family;
	__u8 pad;
	__u16 txid;		/* network order, as on the wire */
	__u16 client_port;	/* host order */
	__u16 pad2;
	__u8 client[16];
	__u8 server[16];
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_dns_query_key) == 40, "dns query key");

struct fringe_dns_query {
	__u64 qname;		/* fringe_dns_hash of the question */
	__u64 expires_ns;	/* bpf_ktime_get_ns */
};

struct fringe_dns_addr_key {
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};
FRINGE_STATIC_ASSERT(sizeof(struct fringe_dns_addr_key) == 20, "dns addr key");

/* A learned address.  `sets` is a mask of the policy of `generation`; after
 * a reload the data plane finds the sets again from `keys` (the names and
 * wildcards that matched, as FRINGE_HK_DNS_* keys: hash << 1 | wildcard). */
struct fringe_dns_learned {
	__u64 expires_ns;	/* bpf_ktime_get_ns */
	__u64 generation;
	__u64 keys[FRINGE_DNS_KEYS];
	__u64 qname;		/* the question that taught it */
	__u32 sets;
	__u32 ttl;		/* seconds, as held */
};

/* Per-CPU counters of DNS answers (fringe_dns_stats). */
enum fringe_dns_result {
	FRINGE_DNS_LEARNED,	/* an answer taught at least one address */
	FRINGE_DNS_NO_MATCH,	/* a solicited answer with no address for a listed name */
	FRINGE_DNS_UNSOLICITED,	/* no query seen for it: teaches nothing */
	FRINGE_DNS_MALFORMED,	/* truncated, looping, or otherwise broken */
	FRINGE_DNS_QUERIES,	/* queries seen */
	FRINGE_DNS_INSERTED,	/* addresses newly learned */
	FRINGE_DNS_FULL,	/* addresses not learned: the table was full */
	FRINGE_DNS_EXPIRED,	/* removed after their TTL (user space counts, on CPU 0) */
	FRINGE_DNS_EVICTED,	/* removed before it, the soonest to expire (user space) */
	FRINGE_DNS__COUNT,
};

/*
 * The hash of a DNS name, shared by the compiler and the data plane: FNV-1a
 * over the labels from the last to the first, each as its length and then
 * its bytes in little-endian 64-bit chunks (zero-padded), letters folded to
 * lower case by or-ing 0x20 into each byte of a label.  Hashing from the
 * right gives every suffix's hash on the way: `*.example.com` is looked up
 * as the hash of `example.com`.
 */
#define FRINGE_DNS_FNV_BASIS	0xcbf29ce484222325ULL
#define FRINGE_DNS_FNV_PRIME	0x100000001b3ULL

static inline __u64 fringe_dns_hash_label(__u64 h, const __u8 *label, __u32 len)
{
	h = (h ^ len) * FRINGE_DNS_FNV_PRIME;
	for (__u32 k = 0; k < len; k += 8) {
		__u64 chunk = 0;

		for (__u32 b = 0; b < 8 && k + b < len; b++)
			chunk |= (__u64)(label[k + b] | 0x20) << (8 * b);
		h = (h ^ chunk) * FRINGE_DNS_FNV_PRIME;
	}
	return h;
}

#endif /* FRINGE_ABI_H */
