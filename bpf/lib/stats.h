/* SPDX-License-Identifier: GPL-2.0 */
/* Counters: per rule, per interface and verdict, per drop reason. */
#ifndef FRINGE_BPF_STATS_H
#define FRINGE_BPF_STATS_H

#include "common.h"
#include "maps.h"

static __always_inline struct fringe_iface_stats *stats_iface(__u32 ifindex)
{
	__u32 *slot = bpf_map_lookup_elem(&fringe_ifslots, &ifindex);
	__u32 s = slot ? *slot : 0;

	return bpf_map_lookup_elem(&fringe_iface_stats, &s);
}

static __always_inline void stats_rule(__u32 counter_id, __u32 len)
{
	struct fringe_counter *c = bpf_map_lookup_elem(&fringe_rule_stats, &counter_id);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/* The single exit: count the XDP action, and the reason when it drops. */
static __always_inline int stats_exit(struct fringe_iface_stats *st, int action, int reason,
				      __u32 len)
{
	__u32 v;

	if (reason > 0)
		action = XDP_DROP;
	switch (action) {
	case XDP_PASS:		v = FRINGE_V_PASS; break;
	case XDP_TX:		v = FRINGE_V_TX; break;
	case XDP_REDIRECT:	v = FRINGE_V_REDIRECT; break;
	default:		v = FRINGE_V_DROP; break;
	}
	if (st) {
		st->verdict[v].packets++;
		st->verdict[v].bytes += len;
		if (v == FRINGE_V_DROP)
			st->drops[(reason > 0 ? reason : FRINGE_DROP_POLICY) & (FRINGE_DROP_MAX - 1)]++;
	}
	return action;
}

#endif
