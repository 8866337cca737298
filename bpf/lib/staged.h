/* SPDX-License-Identifier: GPL-2.0 */
/* The staged policy (§11): judge a packet again under slot FRINGE_SLOT_STAGED, count, note changed verdicts. */
#ifndef FRINGE_BPF_STAGED_H
#define FRINGE_BPF_STAGED_H

#include "common.h"
#include "maps.h"
#include "app.h"
#include "policy.h"
#include "stats.h"

static __always_inline __u8 staged_class(__u8 action)
{
	if (action == FRINGE_ACT_ALLOW)
		return FRINGE_VC_ALLOW;
	return action == FRINGE_ACT_DROP ? FRINGE_VC_DROP : FRINGE_VC_STEER;
}

/* The verdict of rule (an index; FRINGE_MAX_RULES or more: the default)
 * under the policy of slot: what the rule says, not what a rate limit did. */
static __always_inline __u8 staged_verdict(__u32 slot, const struct fringe_slot_hdr *hdr, __u32 rule)
{
	const struct fringe_rule_action *a;
	void *rules;

	if (rule >= FRINGE_MAX_RULES)
		return hdr->default_action == FRINGE_ACT_DROP ? FRINGE_VC_DROP : FRINGE_VC_ALLOW;
	rules = bpf_map_lookup_elem(&fringe_slot_rules, &slot);
	a = rules ? bpf_map_lookup_elem(rules, &rule) : NULL;
	return a ? staged_class(a->action) : FRINGE_VC_ALLOW;
}

/* The packet in p, judged under the active policy (p->rule, judged_by),
 * judged again under the staged one. */
static __always_inline void staged_judge(struct xdp_md *ctx, struct pkt *p, struct fringe_meta *meta)
{
	const struct fringe_slot_hdr *hdr = &meta->slot[FRINGE_SLOT_STAGED], *ahdr;
	struct fringe_staged_change *c, fresh = {};
	struct fringe_staged_key k = {};
	__u32 slot = FRINGE_SLOT_STAGED, active = READ_ONCE(meta->active) & 1, rule;
	void *stats, *changes;
	__u32 claimed = FRINGE_NO_DEVICE;	/* not counted for a staged policy */

	stats = held_map(&fringe_staged_stats);
	if (!stats)
		return;
	ahdr = &meta->slot[active];
	/* What the active policy did not need, the staged one may. */
	if ((hdr->dims_used & FRINGE_DIMS_APP) && !(ahdr->dims_used & FRINGE_DIMS_APP))
		app_track(p, hdr->generation);
	p->device = FRINGE_NO_DEVICE;
	if (hdr->dims_used & (1U << FRINGE_DIM_DEVICE))
		p->device = policy_device(slot, p, &claimed);
	/* Its names are learned by the active policy's observer when that one
	 * lists names too; else here, before the answer goes on. */
	if ((hdr->flags & FRINGE_SLOT_DNS) && !(ahdr->flags & FRINGE_SLOT_DNS) &&
	    p->proto == IPPROTO_UDP && p->has_ports && (p->sport == 53 || p->dport == 53))
		fringe_dns_observe(ctx, FRINGE_SLOT_STAGED);
	FRINGE_CALL_SITE();
	rule = fringe_classify(ctx, slot);
	k.to_rule = rule < FRINGE_MAX_RULES ? rule + 1 : 0;
	stats_count(stats, k.to_rule, p->len);

	k.from = staged_verdict(active, ahdr, p->rule);
	k.to = staged_verdict(slot, hdr, rule);
	if (k.from == k.to)
		return;
	k.from_rule = p->head.judged_by ? p->head.judged_by - 1 : 0;
	changes = held_map(&fringe_staged_changes);
	if (!changes)
		return;
	c = bpf_map_lookup_elem(changes, &k);
	if (!c) {
		bpf_map_update_elem(changes, &k, &fresh, BPF_NOEXIST);
		c = bpf_map_lookup_elem(changes, &k);
		if (!c) {
			stats_count(stats, FRINGE_STAGED_LOST, p->len);
			return;
		}
	}
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, p->len);
	/* The last flow: racy between CPUs, but always one packet's. */
	c->last_ns = bpf_ktime_get_ns();
	c->ifindex = ctx->ingress_ifindex;
	c->family = p->family;
	c->proto = p->proto;
	c->sport = p->has_ports ? p->sport : 0;
	c->dport = p->has_ports ? p->dport : 0;
	__builtin_memcpy(c->saddr, p->saddr, 16);
	__builtin_memcpy(c->daddr, p->daddr, 16);
}

#endif
