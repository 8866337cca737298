/* SPDX-License-Identifier: GPL-2.0 */
/* Counters: per rule, per interface and verdict, per drop reason. */
#ifndef FRINGE_BPF_STATS_H
#define FRINGE_BPF_STATS_H

#include "common.h"
#include "maps.h"

static __always_inline struct fringe_iface_stats *stats_iface(__u32 ifindex)
{
	__u32 *slot = bpf_map_lookup_elem(&fringe_ifslots, &ifindex);

	/* The slot is the key as it lies: no copy on the stack to wait for. */
	return bpf_map_lookup_elem(&fringe_iface_stats, slot ? slot : &fringe_zero);
}

#ifndef FRINGE_CTX_SKB
/* The counter slot of the interface this program is attached to, set by
 * `fringe attach` before the load (each attachment loads its own program),
 * so that the packet's ifindex (three dependent loads, the last from a
 * line of struct net_device the receive path never touches) and
 * fringe_ifslots are not read: 0 (test runs, a program loaded otherwise)
 * looks the slot up by the ifindex.  Read-only data: the verifier knows
 * its value and keeps one of the two ways. */
const volatile __u32 fringe_attach_slot = 0;

static __always_inline struct fringe_iface_stats *stats_iface_here(const struct xdp_md *ctx)
{
	if (fringe_attach_slot)
		return bpf_map_lookup_elem(&fringe_iface_stats, (const __u32 *)&fringe_attach_slot);
	return stats_iface(ctx->ingress_ifindex);
}
#endif

/* One packet of len bytes on entry *key of a (per-CPU) array of struct
 * fringe_counter.  A key that lies in map memory (a rule's counter id) is
 * passed where it lies: no copy on the stack, and its load starts at once. */
static __always_inline void stats_count_at(void *map, const __u32 *key, __u32 len)
{
	struct fringe_counter *c = bpf_map_lookup_elem(map, key);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline void stats_count(void *map, __u32 key, __u32 len)
{
	stats_count_at(map, &key, len);
}

/* A packet claimed the address of the device whose FRINGE_HK_DEV_* value
 * is `claimed` from another MAC: counted against that device (when it has
 * a counter id), on the interface when the spoof table has no room. */
static __always_inline void stats_device_spoofed(struct fringe_iface_stats *st, __u32 claimed)
{
	__u32 cid = (claimed >> FRINGE_DEV_CID_SHIFT) - 1;
	__u64 one = 1, *c;

	if (!(claimed >> FRINGE_DEV_CID_SHIFT))
		return;
	c = bpf_map_lookup_elem(&fringe_device_spoofs, &cid);
	if (c) {
		(*c)++;
		return;
	}
	/* The first on this device: this CPU's value starts at one, the others at zero. */
	if (!bpf_map_update_elem(&fringe_device_spoofs, &cid, &one, BPF_NOEXIST))
		return;
	c = bpf_map_lookup_elem(&fringe_device_spoofs, &cid);	/* another CPU came first */
	if (c)
		(*c)++;
	else if (st)
		st->spoofed_untracked++;
}

/* A result that drops the packet as `reason` but sends an answer out in
 * its place (ICMP "fragmentation needed"): counted as the reason's drop and
 * as a redirect, which is what the program returns. */
#define STATS_ANSWERED	0x20000
#define stats_answered(reason) (STATS_ANSWERED | (reason))

/* The hook's action for a result: an action as is, -reason a drop. */
static __always_inline int stats_action(int ret)
{
	if (ret < 0)
		return CTX_ACT_DROP;
	return ret & STATS_ANSWERED ? CTX_ACT_REDIRECT : ret;
}

/* One packet of len bytes with verdict v on the interface (v < 0: the hook
 * counts no verdicts). */
static __always_inline void stats_verdict(struct fringe_iface_stats *st, int v, __u32 len)
{
	if (v >= 0) {
		st->verdict[v].packets++;
		st->verdict[v].bytes += len;
	}
}

/* The single exit of every program (ctx.h says which hook): helpers return
 * an action, -reason, or stats_answered(reason); this counts the verdict
 * (XDP only) and the drop reason, and returns the action. */
static __always_inline int stats_exit(struct fringe_iface_stats *st, int ret, __u32 len)
{
	int action, v, reason;

	if (ret < 0) {		/* the common drop, its reason given */
		if (st) {
			stats_verdict(st, ctx_verdict(CTX_ACT_DROP), len);
			st->drops[-ret & (FRINGE_DROP_MAX - 1)]++;
		}
		return CTX_ACT_DROP;
	}
	action = stats_action(ret);
	v = ctx_verdict(action);
	reason = ret & STATS_ANSWERED ? ret & (FRINGE_DROP_MAX - 1) : 0;
	if (!st)
		return action;
	stats_verdict(st, v, len);
	if (v == FRINGE_V_DROP && !reason)
		reason = FRINGE_DROP_POLICY;
	if (reason)
		st->drops[reason & (FRINGE_DROP_MAX - 1)]++;
	return action;
}

#endif
