// SPDX-License-Identifier: GPL-2.0
/* fringe_xdp_ingress: parse, find the flow's rule (cached or classified), act, count. */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/policy.h"
#include "lib/flow.h"
#include "lib/limit.h"
#include "lib/sample.h"
#include "lib/stats.h"
#include "lib/overlay.h"
#include "lib/staged.h"

char LICENSE[] SEC("license") = "GPL";

/* Per-stage cost profiling (`make bench-stages`, docs/design.md): a build
 * with -DFRINGE_PROFILE_STAGE=N returns right after stage N (1 parse, 2
 * policy slot and flow, 3 classification); 0, the default, runs everything. */
#ifndef FRINGE_PROFILE_STAGE
#define FRINGE_PROFILE_STAGE 0
#endif
#define PROFILE_STOP(n, v)                                                        \
	do {                                                                      \
		if (FRINGE_PROFILE_STAGE == (n)) {                                \
			asm volatile("" : : "r"(v)); /* keep the stage's work */ \
			return XDP_PASS;                                          \
		}                                                                 \
	} while (0)

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
	case FRINGE_ACT_STEER_NODE:
	case FRINGE_ACT_STEER_OVERLAY:
		return overlay_verdict(a);	/* carried out by overlay_out */
	default:
		return -FRINGE_DROP_POLICY;
	}
}

/* The dimensions that need flow state for applications and declared
 * devices (identification, before classification). */
#define JUDGE_DIMS_IDENTIFY (FRINGE_DIMS_APP | 1U << FRINGE_DIM_DEVICE)

/* Whether judging needs more than classification: the flow table (`flows
 * --enable`), applications' and devices' flow state, DNS names.  One test
 * when the policy and the node use none of them. */
static __always_inline int judge_has_features(const struct fringe_meta *meta,
					      const struct fringe_slot_hdr *hdr)
{
	return (meta->flags & FRINGE_META_FLOWS) |
	       (hdr->dims_used & JUDGE_DIMS_IDENTIFY) |
	       (hdr->flags & FRINGE_SLOT_DNS);
}

/* What comes before classification when judge_has_features: the flow,
 * who sent the packet (and the application its flow continues), the
 * device counter, DNS answers.
 * Returns the packet's memo index if it was made (else FRINGE_MEMO_SLOTS). */
static __always_inline __u32 judge_prepare(struct xdp_md *ctx, struct pkt *p,
					   struct fringe_iface_stats *st, struct fringe_meta *meta,
					   const struct fringe_slot_hdr *hdr, __u32 slot,
					   struct fringe_flow **flp, __u64 *now)
{
	__u32 claimed = FRINGE_NO_DEVICE;
	/* The packet's entry in this CPU's application and rule memos: one
	 * hash for both, made by whichever asks first (FRINGE_MEMO_SLOTS: not
	 * yet); what it hashes stays as it is through judge. */
	__u32 memo_idx = FRINGE_MEMO_SLOTS;
	struct fringe_flow *fl = NULL;

	if (meta->flags & FRINGE_META_FLOWS) {
		*now = bpf_ktime_get_coarse_ns();
		fl = flow_get(p, ctx->ingress_ifindex, *now);
		*flp = fl;
	}
	/* Flow state for applications and declared devices (who sent this, or
	 * who it pretends to be): hash lookups, remembered per CPU, and only
	 * when rules need them. */
	if (hdr->dims_used & JUDGE_DIMS_IDENTIFY) {
		memo_idx = flow_memo_index(p);
		if (!identify_remembered(p, hdr, ctx->ingress_ifindex, memo_idx, &claimed)) {
			FRINGE_CALL_SITE();
			claimed = fringe_identify(slot);
		}
		verifier_barrier(claimed);
		p->claimed = claimed;	/* for the rule memo */
		if (claimed != FRINGE_NO_DEVICE) {
			stats_device_spoofed(st, claimed);
			if (st)
				st->spoofed++;
		}
	}
	/* Counted and noted here, so no value of it lives on through
	 * classification (the verifier would walk that once per value).  The
	 * flow's note is the answer its cached rule was given: the flow's key
	 * holds the MAC and the address, the rule is of this generation. */
	if (fl)
		fl->spoofed = claimed != FRINGE_NO_DEVICE;
	if (p->device >> FRINGE_DEV_CID_SHIFT)
		stats_count(&fringe_device_stats, (p->device >> FRINGE_DEV_CID_SHIFT) - 1, p->len);

	/* DNS answers teach the addresses of the names in the policy's sets. */
	if ((hdr->flags & FRINGE_SLOT_DNS) && p->proto == IPPROTO_UDP && p->has_ports &&
	    (p->sport == 53 || p->dport == 53)) {	/* no call for the other packets */
		FRINGE_CALL_SITE();
		fringe_dns_observe(ctx, slot);
	}
	return memo_idx;
}

/* The rule when judge_has_features: the flow's cached rule, or
 * classification; the flow accounted. */
static __always_inline __u32 judge_rule(struct xdp_md *ctx, struct pkt *p, __u32 slot,
					const struct fringe_slot_hdr *hdr, __u32 memo_idx,
					struct fringe_flow *fl, __u64 now, struct rule_memo **entry)
{
	__u32 rule;

	/* A flow's cached rule holds only when no rule looks past the ports:
	 * `mqtt-type` and `modbus-fc` differ from one packet to the next. */
	if (fl && fl->generation == hdr->generation &&
	    !(hdr->dims_used & FRINGE_DIMS_APP)) {
		rule = fl->rule;
	} else {
		rule = policy_classify_remembered(ctx, p, slot, ctx->ingress_ifindex, hdr, memo_idx,
						  entry, 0);
		if (fl) {
			fl->generation = hdr->generation;
			fl->rule = rule;
		}
	}
	if (fl) {
		flow_account(fl, p->len, now);
		/* What `learn` needs to write `app A`: a payload passed A's check, and none failed. */
		if (p->app_state == APP_SEEN || p->app_state == APP_CONFIRMS)
			fl->app |= p->app;
		else if ((p->app_state == APP_UNCONFIRMED && !p->app) || p->app_state == APP_FAILED)
			fl->app |= FRINGE_FLOW_APP_MISMATCH;
	}
	return rule;
}

/* The packet was judged by the rule counting on *counter_id (0: the
 * default): its counter, and what user space reads of it (judged_by). */
static __always_inline void judge_count(struct pkt *p, const __u32 *counter_id)
{
	p->head.judged_by = *counter_id + 1;
	stats_count_at(&fringe_rule_stats, counter_id, p->len);
}

/* An allow or a drop (the default's action, or a rule's the memo holds)
 * as judge returns it. */
static __always_inline int judge_allow_drop(__u8 action)
{
	return action == FRINGE_ACT_DROP ? -FRINGE_DROP_POLICY : XDP_PASS;
}

/* Judge an IP packet under the active policy: an XDP action or -reason. */
static __always_inline int judge(struct xdp_md *ctx, struct pkt *p, struct fringe_iface_stats *st,
				 struct fringe_meta *meta, struct fringe_flow **flp)
{
	const struct fringe_rule_action *a;
	const struct fringe_slot_hdr *hdr;
	struct rule_memo *m = NULL;
	__u32 slot, rule, memo_idx;
	__u64 now = 0;

	PROFILE_STOP(1, p->proto);
	/* One read of the switch: this packet sees one complete policy. */
	slot = READ_ONCE(meta->active) & 1;
	hdr = &meta->slot[slot];
	p->staged = meta->flags & FRINGE_META_STAGED;
	p->device = FRINGE_NO_DEVICE;
	if (judge_has_features(meta, hdr)) {
		memo_idx = judge_prepare(ctx, p, st, meta, hdr, slot, flp, &now);
		PROFILE_STOP(2, hdr);
		rule = judge_rule(ctx, p, slot, hdr, memo_idx, *flp, now, &m);
	} else {
		/* Classification alone.  The memo tells interfaces apart
		 * only when a rule does (`in`): no rule then depends on the
		 * interface. */
		__u32 ifindex = hdr->dims_used & (1U << FRINGE_DIM_IN) ? ctx->ingress_ifindex : 0;

		PROFILE_STOP(2, hdr);
		rule = policy_classify_remembered(ctx, p, slot, ifindex, hdr,
						  FRINGE_MEMO_SLOTS, &m, 1);
	}
	PROFILE_STOP(3, rule);
	p->rule = rule;
	/* The application as identification left it (a continuation's is
	 * its flow's). */
	if (p->app)
		stats_count(&fringe_app_stats, p->app, p->len);

	if (rule >= FRINGE_MAX_RULES) {
		judge_count(p, &fringe_zero);	/* the default's counter */
		return judge_allow_drop(hdr->default_action);
	}
	/* The memo's entry holds the rule's action: allowing or dropping
	 * reads no more. */
	if (m && rule_memo_verdict(m)) {
		judge_count(p, &m->counter_id);
		return judge_allow_drop(m->action);
	}
	a = rule_action(slot, rule);
	if (!a)
		return XDP_PASS;
	judge_count(p, &a->counter_id);
	if (a->flags & FRINGE_RF_SAMPLE)
		sample_maybe(ctx, a, p, meta);
	return act(a, p);
}

SEC("xdp")
int fringe_xdp_ingress(struct xdp_md *ctx)
{
	struct fringe_iface_stats *st = stats_iface_here(ctx);
	struct fringe_flow *fl = NULL;
	struct fringe_meta *meta;
	struct pkt *p;
	int ret = 0;

	/* The packet's facts live in per-CPU scratch, not on the stack: the
	 * verifier does not track values in map memory, so the many paths of
	 * parsing converge instead of multiplying through classification. */
	if (scratch_and_meta(&p, &meta))
		return XDP_PASS;
	__builtin_memset(p, 0, sizeof(*p));
	/* VXLAN from a listed node: what follows judges the inner frame. */
	ret = overlay_rx(ctx, p, meta->flags & FRINGE_META_OVERLAY);
	if (ret < 0)
		return stats_exit(st, ret, ctx->data_end - ctx->data);
	ret = parse_packet(ctx, p);
	if (ret == PARSE_NON_IP) {
		if (st)
			st->non_ip++;
		return stats_exit(st, XDP_PASS, p->len);
	}
	if (ret == PARSE_IP) {
		if (st && p->frag)
			st->fragments++;
		ret = judge(ctx, p, st, meta, &fl);
		ret = overlay_out(ctx, p, ret);
		if (fl)
			fl->action = stats_action(ret);
	}
	ret = stats_exit(st, ret, p->len);
	/* The one test a staged policy costs while there is none. */
	if (p->staged) {
		p->head.ret = ret;
		bpf_tail_call(ctx, &fringe_staged_prog, 0);
	}
	return ret;
}

/* The staged policy (§11): judges the packet the active policy has just
 * judged, counts, and notes a verdict it would change; the packet's fate is
 * the active policy's.  A program of its own, tail-called, so that it adds
 * nothing to the main program's stack or verification. */
SEC("xdp")
int fringe_xdp_staged(struct xdp_md *ctx)
{
	struct fringe_meta *meta;
	struct pkt *p;

	if (scratch_and_meta(&p, &meta))
		return XDP_PASS;
	if (meta->flags & FRINGE_META_STAGED)
		staged_judge(ctx, p, meta);
	return p->head.ret <= XDP_REDIRECT ? p->head.ret : XDP_PASS;
}
