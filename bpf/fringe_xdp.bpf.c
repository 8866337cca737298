// SPDX-License-Identifier: GPL-2.0
/* fringe_xdp_ingress: parse, classify against the active policy, act, count. */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/policy.h"
#include "lib/limit.h"
#include "lib/stats.h"

char LICENSE[] SEC("license") = "GPL";

/* Turn the matched rule's action into an XDP action, or a negative drop reason. */
static __always_inline int act(const struct fringe_rule_action *a, const struct pkt *p)
{
	long r;

	if ((a->flags & FRINGE_RF_LIMIT) && limit_check(a, p) < 0)
		return -FRINGE_DROP_RATE_LIMIT;

	switch (a->action) {
	case FRINGE_ACT_ALLOW:
		return XDP_PASS;
	case FRINGE_ACT_STEER_IFACE:
		r = bpf_redirect_map(&fringe_devmap, a->target, 0);
		return r == XDP_REDIRECT ? XDP_REDIRECT : -FRINGE_DROP_REDIRECT;
	case FRINGE_ACT_STEER_CPU:
		r = bpf_redirect_map(&fringe_cpumap, a->target, 0);
		return r == XDP_REDIRECT ? XDP_REDIRECT : -FRINGE_DROP_REDIRECT;
	default:
		return -FRINGE_DROP_POLICY;
	}
}

SEC("xdp")
int fringe_xdp_ingress(struct xdp_md *ctx)
{
	struct fringe_iface_stats *st = stats_iface(ctx->ingress_ifindex);
	struct pkt p = {};
	struct fringe_meta *meta;
	const struct fringe_slot_hdr *hdr;
	const struct fringe_rule_action *a;
	void *rules;
	__u32 zero = 0, slot, rule;
	int spoofed = 0, ret;

	ret = parse_packet(ctx, &p);
	if (ret < 0)
		return stats_exit(st, XDP_DROP, -ret, p.len);
	if (ret == PARSE_NON_IP) {
		if (st)
			st->non_ip++;
		return stats_exit(st, XDP_PASS, 0, p.len);
	}
	if (st && p.frag)
		st->fragments++;

	meta = bpf_map_lookup_elem(&fringe_meta, &zero);
	if (!meta)
		return stats_exit(st, XDP_PASS, 0, p.len);
	/* One read of the switch: this packet sees one complete policy. */
	slot = READ_ONCE(meta->active) & 1;
	hdr = &meta->slot[slot];

	rule = policy_classify(ctx, &p, slot, hdr, &spoofed);
	if (spoofed && st)
		st->spoofed++;

	if (rule == POLICY_NO_MATCH || rule >= FRINGE_MAX_RULES) {
		stats_rule(0, p.len);
		if (hdr->default_action == FRINGE_ACT_DROP)
			return stats_exit(st, XDP_DROP, FRINGE_DROP_POLICY, p.len);
		return stats_exit(st, XDP_PASS, 0, p.len);
	}

	rules = bpf_map_lookup_elem(&fringe_slot_rules, &slot);
	if (!rules)
		return stats_exit(st, XDP_PASS, 0, p.len);
	a = bpf_map_lookup_elem(rules, &rule);
	if (!a)
		return stats_exit(st, XDP_PASS, 0, p.len);
	stats_rule(a->counter_id, p.len);

	ret = act(a, &p);
	if (ret < 0)
		return stats_exit(st, XDP_DROP, -ret, p.len);
	return stats_exit(st, ret, 0, p.len);
}
