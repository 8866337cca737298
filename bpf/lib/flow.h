/* SPDX-License-Identifier: GPL-2.0 */
/* Flow table: per-flow counters, and the verdict cache that lets a flow skip classification. */
#ifndef FRINGE_BPF_FLOW_H
#define FRINGE_BPF_FLOW_H

#include "common.h"
#include "maps.h"
#include "parse.h"

static __always_inline void flow_key(struct fringe_flow_key *k, const struct pkt *p, __u32 ifindex)
{
	k->ifindex = ifindex;
	k->vlan = p->vlan;
	k->family = p->family;
	k->proto = p->proto;
	k->sport = p->sport;
	k->dport = p->dport;
	__builtin_memcpy(k->smac, p->smac, 6);
	k->flags = (p->has_ports ? FRINGE_FK_PORTS : 0) |
		   (p->frag == PKT_FRAG_LATER ? FRINGE_FK_LATER_FRAG : 0);
	k->pad = 0;
	__builtin_memcpy(k->saddr, p->saddr, 16);
	__builtin_memcpy(k->daddr, p->daddr, 16);
}

/* The flow's entry on this CPU, created when new; NULL when the map refuses
 * or there is no flow table (switched on, but not yet or no longer held).
 * The key and a new entry's value are built in per-CPU scratch. */
static __always_inline struct fringe_flow *flow_get(const struct pkt *p, __u32 ifindex, __u64 now)
{
	void *flows = held_map(&fringe_flows);
	struct flow_scratch *s;
	struct fringe_flow *f;

	if (!flows)
		return NULL;
	s = bpf_map_lookup_elem(&fringe_flow_scratch, &fringe_zero);
	if (!s)
		return NULL;
	flow_key(&s->key, p, ifindex);
	f = bpf_map_lookup_elem(flows, &s->key);
	if (f)
		return f;
	__builtin_memset(&s->fresh, 0, sizeof(s->fresh));
	s->fresh.rule = FRINGE_FLOW_NO_RULE;
	s->fresh.first_ns = now;
	bpf_map_update_elem(flows, &s->key, &s->fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(flows, &s->key);
}

static __always_inline void flow_account(struct fringe_flow *f, __u32 len, __u64 now)
{
	if (!f->first_ns)	/* first packet of the flow on this CPU */
		f->first_ns = now;
	f->packets++;
	f->bytes += len;
	f->last_ns = now;
}

#endif
