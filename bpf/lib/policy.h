/* SPDX-License-Identifier: GPL-2.0 */
/* Classification: per-dimension lookups, bitmap intersection, first matching rule. */
#ifndef FRINGE_BPF_POLICY_H
#define FRINGE_BPF_POLICY_H

#include "common.h"
#include "maps.h"
#include "parse.h"
#include "dns.h"

#define POLICY_NO_MATCH ((__u32)-1)

struct policy_ctx {
	void *bitmaps;		/* inner maps of the active slot */
	void *dimtab;
	void *hash;
	void *v4;		/* the IPv4 octet trie's blocks (IPv4 packets only) */
	const struct fringe_slot_hdr *hdr;
};

static __always_inline struct fringe_bitmap *policy_bitmap(struct policy_ctx *pc, __u32 idx)
{
	return bpf_map_lookup_elem(pc->bitmaps, &idx);
}

static __always_inline struct fringe_bitmap *policy_tab_bitmap(struct policy_ctx *pc, __u32 tab_idx)
{
	__u32 *idx = bpf_map_lookup_elem(pc->dimtab, &tab_idx);

	/* The entry is the key as it lies: no copy on the stack to wait for. */
	return idx ? bpf_map_lookup_elem(pc->bitmaps, idx) : NULL;
}

/* A hashed dimension: a miss means the rules that do not constrain it. */
static __always_inline struct fringe_bitmap *policy_hash_bitmap(struct policy_ctx *pc, __u8 kind,
								 const void *data, __u32 size, int dim)
{
	union hkey_buf k = HKEY_ZERO;
	__u32 *idx;

	if (!pc->hash)
		return NULL;
	k.k.kind = kind;
	__builtin_memcpy(k.k.data, data, size);
	idx = bpf_map_lookup_elem(pc->hash, &k.k);
	return policy_bitmap(pc, idx ? *idx : pc->hdr->miss_bitmap[dim]);
}

/* The rules an IPv6 address admits: the LPM trie, then the host hash when
 * the trie entry says hosts hang beneath it (FRINGE_LPM_HOSTS).  Its keys
 * are built here, not in policy_addr_bitmap: declared there, clang zeroed
 * them byte by byte (the key structs are byte-aligned) on every IPv4 packet. */
static __always_inline struct fringe_bitmap *policy_addr6_bitmap(__u32 slot, __u8 field,
								  const __u8 *addr,
								  struct policy_ctx *pc)
{
	union {
		struct fringe_lpm6_key k;
		__u64 w[3];
	} lk = { .w = { 0, 0, 0 } };
	union hkey_buf hk = HKEY_ZERO;
	void *trie;
	__u32 *idx, v;

	/* An empty trie (an IPv4-only policy) answers no without a call. */
	if (!pc->hdr->entries[FRINGE_SM_LPM6])
		return NULL;
	trie = bpf_map_lookup_elem(&fringe_slot_lpm6, &slot);
	if (!trie)
		return NULL;
	lk.k.prefixlen = 8 + 128;
	lk.k.field = field;
	__builtin_memcpy(lk.k.addr, addr, 16);
	idx = bpf_map_lookup_elem(trie, &lk.k);
	if (!idx)
		return NULL;
	v = *idx;
	if (!(v & FRINGE_LPM_HOSTS))
		return policy_bitmap(pc, v);
	if (!pc->hash)
		return NULL;
	hk.k.kind = field == FRINGE_DIM_SRC ? FRINGE_HK_SRC6 : FRINGE_HK_DST6;
	__builtin_memcpy(hk.k.data, addr, 16);
	idx = bpf_map_lookup_elem(pc->hash, &hk.k);
	return policy_bitmap(pc, idx ? *idx : v & FRINGE_LPM_BITMAP_MASK);
}

/* The rules an address admits: IPv4 walks the octet trie (at most three
 * block reads, blocks the slot's trie, looked up once per packet), IPv6
 * policy_addr6_bitmap. */
static __always_inline struct fringe_bitmap *policy_addr_bitmap(__u32 slot, const struct pkt *p,
								 __u8 field, const __u8 *addr,
								 struct policy_ctx *pc)
{
	struct fringe_v4_block *blk;
	__u32 b, v, *e;

	if (p->family != 4)
		return policy_addr6_bitmap(slot, field, addr, pc);
	if (!pc->v4)
		return NULL;
	b = (field == FRINGE_DIM_SRC ? 0 : 256) + addr[0];
	blk = bpf_map_lookup_elem(pc->v4, &b);
#pragma unroll
	for (int i = 1; i < 4; i++) {
		if (!blk)
			return NULL;
		e = &blk->next[addr[i]];
		/* A child block is its entry as it lies; a leaf fails the lookup. */
		blk = bpf_map_lookup_elem(pc->v4, e);
		if (!blk) {
			v = *e;
			return v & FRINGE_V4_LEAF ? policy_bitmap(pc, v & ~FRINGE_V4_LEAF) : NULL;
		}
	}
	return NULL;
}

/* Whether the packet's address as field is in the learned table at all: an
 * inlined holder read and one hash lookup, the key in scratch (no stack),
 * so that an address never learned costs no call of fringe_dns_union. */
static __always_inline int policy_dns_known(const struct pkt *p, __u8 field)
{
	void *learned = bpf_map_lookup_elem(&fringe_dns_learned, &fringe_zero);
	struct dns_scratch *s = bpf_map_lookup_elem(&fringe_dns_scratch, &fringe_zero);
	struct fringe_dns_addr_key *k;

	if (!learned || !s)
		return 0;
	k = &s->ak;
	__builtin_memset(k, 0, sizeof(*k));
	k->family = p->family;
	if (p->family == 4)
		__builtin_memcpy(k->addr, field == FRINGE_DIM_SRC ? p->saddr : p->daddr, 4);
	else
		__builtin_memcpy(k->addr, field == FRINGE_DIM_SRC ? p->saddr : p->daddr, 16);
	FRINGE_CALL_SITE();
	return bpf_map_lookup_elem(learned, k) != NULL;
}

/* A learned address (dns.h) adds the rules naming its sets to the trie's:
 * their union, in per-CPU scratch.  Policies without names skip it. */
static __always_inline struct fringe_bitmap *policy_addr_dns(struct fringe_bitmap *b, __u8 field,
							      __u32 slot, struct policy_ctx *pc,
							      const struct pkt *p)
{
	struct dns_scratch *s;

	if (!b || !(pc->hdr->flags & FRINGE_SLOT_DNS) || !policy_dns_known(p, field) ||
	    !({ FRINGE_CALL_SITE(); fringe_dns_union(b, field, slot); }))
		return b;
	s = bpf_map_lookup_elem(&fringe_dns_scratch, &fringe_zero);
	return s ? &s->bm[field == FRINGE_DIM_SRC ? 0 : 1] : b;
}

static __always_inline __u32 policy_l4_index(const struct pkt *p)
{
	if (!p->has_ports)
		return FRINGE_L4_NOPORT + p->proto;
	if (p->proto == IPPROTO_TCP)
		return p->dport;
	return (p->proto == IPPROTO_UDP ? FRINGE_L4_UDP : FRINGE_L4_SCTP) + p->dport;
}

/* Which declared device sent this packet (its FRINGE_HK_DEV_* value):
 * FRINGE_NO_DEVICE when none, or when the source IP belongs to a device whose
 * MAC is not this one (spoofed: *claimed is then that device's value, else
 * left alone).  Runs before classification, also for packets whose flow has
 * a cached rule: it feeds the per-device counters. */
static __always_inline __u32 policy_device(__u32 slot, const struct pkt *p, __u32 *claimed)
{
	union hkey_buf k = HKEY_ZERO;
	__u32 *by_mac, *by_ip, dev;
	void *hash = bpf_map_lookup_elem(&fringe_slot_hash, &slot);

	if (!hash)
		return FRINGE_NO_DEVICE;
	k.k.kind = FRINGE_HK_DEV_MAC;
	__builtin_memcpy(k.k.data, p->smac, 6);
	by_mac = bpf_map_lookup_elem(hash, &k.k);
	dev = by_mac ? *by_mac : FRINGE_NO_DEVICE;

	k.w[0] = k.w[1] = k.w[2] = 0;
	if (p->family == 4) {
		k.k.kind = FRINGE_HK_DEV_IP4;
		__builtin_memcpy(k.k.data, p->saddr, 4);
	} else {
		k.k.kind = FRINGE_HK_DEV_IP6;
		__builtin_memcpy(k.k.data, p->saddr, 16);
	}
	by_ip = bpf_map_lookup_elem(hash, &k.k);
	if (by_ip && *by_ip != dev) {
		*claimed = *by_ip;
		return FRINGE_NO_DEVICE;
	}
	return dev;
}

/* ---- the rule memo (fringe_rule_memo) ---- */

/* The words a packet's rule depends on, as the memo keeps them: everything
 * policy_classify reads but the device, which is the MAC's and the source
 * address's under the generation.  Read as they lie in struct pkt: each
 * instruction here is paid by every packet. */
static __always_inline __u64 rule_memo_flow(const struct pkt *p)
{
	return pkt_flow_key(p);
}

static __always_inline __u64 rule_memo_mac(const struct pkt *p)
{
	return *(const __u64 *)p->smac;		/* the MAC, then the VLAN */
}

static __always_inline __u64 rule_memo_who(const struct pkt *p, __u32 ifindex)
{
	return (__u64)ifindex << 32 | (*(const __u32 *)&p->appx & 0xffffff);	/* appx, app */
}

/* Whether the policy may use the rule memo: not one with DNS names, whose
 * answers change within a generation as the data plane learns addresses. */
static __always_inline int rule_memo_serves(const struct fringe_slot_hdr *hdr)
{
	return !(hdr->flags & FRINGE_SLOT_DNS);
}

/* `make bench` measures a flow's first packet with a build in which every
 * lookup misses (-DFRINGE_RULE_MEMO_MISS): the compare is still made. */
static __always_inline __u64 rule_memo_miss(void)
{
	__u64 miss = 0;

#ifdef FRINGE_RULE_MEMO_MISS
	miss = 1;
	asm volatile("" : "+r"(miss));
#endif
	return miss;
}

/* The entry answers for p under the policy of generation: the words
 * compared at once, one branch. */
static __always_inline int rule_memo_holds(const struct rule_memo *m, const struct pkt *p,
					   __u32 ifindex, __u64 generation)
{
	return !((m->generation ^ generation) | (m->flow ^ rule_memo_flow(p)) |
		 (m->mac ^ rule_memo_mac(p)) | (m->who ^ rule_memo_who(p, ifindex)) |
		 memo_addr_differs(&m->saddr, p->saddr) | memo_addr_differs(&m->daddr, p->daddr) |
		 rule_memo_miss());
}

/* The action of rule under the policy in slot: NULL for none (the default). */
static __always_inline const struct fringe_rule_action *rule_action(__u32 slot, __u32 rule)
{
	void *rules = bpf_map_lookup_elem(&fringe_slot_rules, &slot);

	return rules ? bpf_map_lookup_elem(rules, &rule) : NULL;
}

/* The entry's rule only allows or drops, and counts: its action is whole in
 * the entry (otherwise the rule's action is read for its limit, sample or
 * target). */
static __always_inline int rule_memo_verdict(const struct rule_memo *m)
{
	return m->action <= FRINGE_ACT_DROP && !(m->flags & (FRINGE_RF_LIMIT | FRINGE_RF_SAMPLE));
}

static __always_inline void rule_memo_set(struct rule_memo *m, const struct pkt *p, __u32 ifindex,
					  __u64 generation, __u32 rule, const struct fringe_rule_action *a)
{
	m->generation = generation;
	m->flow = rule_memo_flow(p);
	m->mac = rule_memo_mac(p);
	m->who = rule_memo_who(p, ifindex);
	memo_addr_set(&m->saddr, p->saddr);
	memo_addr_set(&m->daddr, p->daddr);
	m->rule = rule;
	m->device = p->device;
	m->claimed = p->claimed;
	m->action = RULE_MEMO_NO_ACTION;
	if (a) {
		m->counter_id = a->counter_id;
		m->action = a->action;
		m->flags = a->flags;
	}
}

/* This CPU's device memo entry for p's (MAC, source address) (NULL never
 * happens: the index is below the memo's size). */
static __always_inline struct dev_memo *dev_memo_of(const struct pkt *p)
{
	__u32 idx = memo_index(pkt_mac_word(p), memo_addr_fold(p->saddr));

	return bpf_map_lookup_elem(&fringe_dev_memo, &idx);
}

/* The entry answers for p under the policy of generation: the words
 * compared at once, one branch. */
static __always_inline int dev_memo_holds(const struct dev_memo *m, const struct pkt *p,
					  __u64 generation)
{
	return !((m->generation ^ generation) | (m->mac ^ pkt_mac_word(p)) |
		 memo_addr_differs(&m->saddr, p->saddr));
}

/* policy_device, remembered per CPU (fringe_dev_memo): its two hash
 * lookups only for a (MAC, source address) this CPU has not met under the
 * policy in force.  *claimed as policy_device leaves it (the caller's
 * FRINGE_NO_DEVICE unless spoofed). */
static __always_inline __u32 policy_device_memo(__u32 slot, const struct fringe_slot_hdr *hdr,
						const struct pkt *p, __u32 *claimed)
{
	struct dev_memo *m = dev_memo_of(p);

	if (!m)
		return policy_device(slot, p, claimed);
	if (dev_memo_holds(m, p, hdr->generation)) {
		*claimed = m->claimed;
		return m->device;
	}
	m->device = policy_device(slot, p, claimed);
	m->claimed = *claimed;
	m->generation = hdr->generation;
	memo_addr_set(&m->saddr, p->saddr);
	m->mac = pkt_mac_word(p);
	return m->device;
}

/* What fringe_identify would answer, when this CPU's memos hold all of it:
 * 1 and p->device, p->app and *claimed set as it sets them; else 0 and
 * nothing changed (the call then does it all).  Inline, a hit costs no
 * call; the answers are read from map memory either way, so the verifier's
 * paths meet again right after.  The device comes from the rule memo when
 * it knows the packet (then p->rule too, p->memo saying so), else from the
 * device memo; the application first, as the rule memo's key holds it.
 * idx: flow_memo_index(p), the entry of both memos. */
static __always_inline int identify_remembered(struct pkt *p, const struct fringe_slot_hdr *hdr,
					       __u32 ifindex, __u32 idx, __u32 *claimed)
{
	struct app_memo *am = NULL;
	struct rule_memo *rm;
	struct dev_memo *dm;
	__u8 app = p->app;

	if ((hdr->dims_used & FRINGE_DIMS_APP) && app_needs_flow(p)) {
		am = bpf_map_lookup_elem(&fringe_app_memo, &idx);
		/* (the hit that is due to consult fringe_app_flows goes to the call) */
		if (!am || !app_memo_holds(am, p, hdr->generation) ||
		    !((__u8)(am->hits + 1) % APP_MEMO_REFRESH))
			return 0;
		if (p->app_state == APP_UNCONFIRMED && am->app == p->app_maybe)
			p->app = am->app;
	}
	if (hdr->dims_used & (1U << FRINGE_DIM_DEVICE)) {
		rm = bpf_map_lookup_elem(&fringe_rule_memo, &idx);
		if (rm && rule_memo_serves(hdr) && rule_memo_holds(rm, p, ifindex, hdr->generation)) {
			p->memo = RULE_MEMO_HIT;
			p->rule = rm->rule;
			p->device = rm->device;
			*claimed = rm->claimed;
		} else {
			dm = dev_memo_of(p);
			if (!dm || !dev_memo_holds(dm, p, hdr->generation)) {
				p->app = app;
				return 0;
			}
			p->memo = RULE_MEMO_MISSED;
			p->device = dm->device;
			*claimed = dm->claimed;
		}
	}
	if (am)
		am->hits++;
	return 1;
}

/* Who sent the packet in fringe_scratch (p->device) and which application's
 * flow it continues (p->app, app_track), under the policy in slot: the
 * device it claims when spoofed, else FRINGE_NO_DEVICE.  A function of its
 * own, verified once: inlined, its memos' branches were walked again for
 * every path that reaches them (a third more instructions for the
 * verifier); the call costs less than one of the hash lookups it saves. */
__noinline int fringe_identify(__u32 slot_arg)
{
	__u32 slot = slot_arg & 1, claimed = FRINGE_NO_DEVICE;
	const struct fringe_slot_hdr *hdr;
	struct fringe_meta *meta;
	struct pkt *p;

	if (scratch_and_meta(&p, &meta))
		return FRINGE_NO_DEVICE;
	hdr = &meta->slot[slot];
	if (hdr->dims_used & FRINGE_DIMS_APP)
		app_track(p, hdr->generation);
	if (hdr->dims_used & (1U << FRINGE_DIM_DEVICE))
		p->device = policy_device_memo(slot, hdr, p, &claimed);
	return claimed;
}

/* The first rule in every bitmap of bm[from..to) (the summaries ANDed into
 * summary): the lowest word whose bit survives, ANDed across the bitmaps.
 * from and to are constants, so the inner loop unrolls to plain loads. */
static __always_inline __u32 policy_first(__u64 summary, struct fringe_bitmap **bm, const int from,
					  const int to)
{
	while (summary && can_loop) {	/* at most 64 turns: a bit goes each */
		__u32 w = __builtin_ctzll(summary);
		__u64 acc = ~0ULL;

		verifier_barrier(w);	/* clang knows ctz < 64 and would drop the mask */
		w &= FRINGE_BITMAP_WORDS - 1;
#pragma unroll
		for (int d = from; d < to; d++)
			if (d != FRINGE_DIM_DPORT)	/* with the protocol: always all */
				acc &= bm[d]->word[w];
		if (acc)
			return w * 64 + __builtin_ctzll(acc);
		summary &= summary - 1;
	}
	return POLICY_NO_MATCH;
}

/* Dimensions most policies constrain: addresses, protocol and port.  When
 * no rule constrains another one, the rest of the dimensions cost one test. */
#define POLICY_DIMS_COMMON                                                             \
	(1U << FRINGE_DIM_SRC | 1U << FRINGE_DIM_DST | 1U << FRINGE_DIM_PROTO |         \
	 1U << FRINGE_DIM_DPORT)

/* The index of the first rule that matches, or POLICY_NO_MATCH.
 * Bitmap 0 of every policy holds all its rules; dimensions no rule constrains
 * use it, so each dimension leaves the verifier with one state, not two.
 * The device dimension reads p->device (policy_device). */
static __always_inline __u32 policy_classify(struct xdp_md *ctx, struct pkt *p, __u32 slot,
					     const struct fringe_slot_hdr *hdr)
{
	struct fringe_bitmap *bm[FRINGE_DIM_MAX];
	struct policy_ctx pc = { .hdr = hdr };
	__u32 used = hdr->dims_used;
	__u32 ifindex = ctx->ingress_ifindex;
	struct fringe_bitmap *all;
	__u64 summary, acc0;
	int small;

	pc.bitmaps = bpf_map_lookup_elem(&fringe_slot_bitmaps, &slot);
	pc.dimtab = bpf_map_lookup_elem(&fringe_slot_dimtab, &slot);
	if (!pc.bitmaps || !pc.dimtab)
		return POLICY_NO_MATCH;
	/* The hash only serves MAC, `in` and IPv6 hosts here. */
	if (used & (1U << FRINGE_DIM_MAC | 1U << FRINGE_DIM_IN) || p->family == 6) {
		pc.hash = bpf_map_lookup_elem(&fringe_slot_hash, &slot);
		if (!pc.hash)
			return POLICY_NO_MATCH;
	}
	if (p->family == 4 && (used & (1U << FRINGE_DIM_SRC | 1U << FRINGE_DIM_DST)))
		pc.v4 = bpf_map_lookup_elem(&fringe_slot_v4, &slot);
	all = policy_bitmap(&pc, 0);
	if (!all)
		return POLICY_NO_MATCH;
	summary = all->summary;
	/* A policy of at most 64 rules is one word: each dimension's word 0 is
	 * ANDed in as it is found, and no second pass reads the bitmaps again. */
	small = hdr->n_rules <= 64;
	acc0 = all->word[0];

#define DIM(d, expr)                                             \
	do {                                                     \
		struct fringe_bitmap *b_ = all;                  \
		if (used & (1U << (d))) {                        \
			b_ = (expr);                             \
			if (!b_)                                 \
				return POLICY_NO_MATCH;          \
			summary &= b_->summary;                  \
			acc0 &= b_->word[0];                     \
		}                                                \
		bm[d] = b_;                                      \
	} while (0)

	DIM(FRINGE_DIM_SRC, policy_addr_dns(policy_addr_bitmap(slot, p, FRINGE_DIM_SRC, p->saddr, &pc),
					    FRINGE_DIM_SRC, slot, &pc, p));
	DIM(FRINGE_DIM_DST, policy_addr_dns(policy_addr_bitmap(slot, p, FRINGE_DIM_DST, p->daddr, &pc),
					    FRINGE_DIM_DST, slot, &pc, p));
	/* Protocol and destination port in one read (FRINGE_TAB_L4). */
	DIM(FRINGE_DIM_PROTO, policy_tab_bitmap(&pc, FRINGE_TAB_L4 + policy_l4_index(p)));
	if (!(used & ~POLICY_DIMS_COMMON)) {
		if (small)
			return acc0 ? __builtin_ctzll(acc0) : POLICY_NO_MATCH;
		return policy_first(summary, bm, FRINGE_DIM_SRC, FRINGE_DIM_PROTO + 1);
	}
	bm[FRINGE_DIM_DPORT] = all;
	DIM(FRINGE_DIM_IN, policy_hash_bitmap(&pc, FRINGE_HK_IN, &ifindex, 4, FRINGE_DIM_IN));
	DIM(FRINGE_DIM_SPORT, policy_tab_bitmap(&pc, FRINGE_TAB_SPORT +
						 (p->has_ports ? p->sport : FRINGE_NO_PORT)));
	DIM(FRINGE_DIM_MAC, policy_hash_bitmap(&pc, FRINGE_HK_MAC, p->smac, 6, FRINGE_DIM_MAC));
	DIM(FRINGE_DIM_VLAN, policy_tab_bitmap(&pc, FRINGE_TAB_VLAN + (p->vlan & 0x1fff)));
	DIM(FRINGE_DIM_DEVICE, policy_tab_bitmap(&pc, FRINGE_TAB_DEVICE +
						  (p->device & FRINGE_DEV_INDEX_MASK & 0x7ff)));
	DIM(FRINGE_DIM_APP, policy_tab_bitmap(&pc, FRINGE_TAB_APP + (p->app & (FRINGE_MAX_APPS - 1))));
	DIM(FRINGE_DIM_APPX, policy_tab_bitmap(&pc, FRINGE_TAB_APPX + (p->appx & 0x1ff)));
#undef DIM
	if (small)
		return acc0 ? __builtin_ctzll(acc0) : POLICY_NO_MATCH;
	return policy_first(summary, bm, 0, FRINGE_DIM_MAX);
}

/* policy_classify for the packet in fringe_scratch under the policy in slot
 * (active or staged).  A function of its own: a flow's later packets take
 * their rule from the rule memo and jump over this one call, so the path
 * they run stays a few contiguous cache lines of code instead of crossing
 * the tries and the bitmaps; and the verifier walks classification once. */
__noinline __u32 fringe_classify(struct xdp_md *ctx, __u32 slot_arg)
{
	__u32 slot = slot_arg < FRINGE_POLICY_SLOTS ? slot_arg : 0;
	struct fringe_meta *meta;
	struct pkt *p;

	if (scratch_and_meta(&p, &meta))
		return POLICY_NO_MATCH;
	return policy_classify(ctx, p, slot, &meta->slot[slot]);
}

/* policy_classify for the active policy, remembered per CPU: a packet like
 * one this CPU classified under the same generation costs the memo's
 * compare instead of the tries and the bitmaps (rule_memo_serves says for
 * which policies); idx is the packet's entry (flow_memo_index), or
 * FRINGE_MEMO_SLOTS when it is not known yet.  *entry: the memo entry
 * that holds the answer, with the rule's action (a hit, or the entry a
 * miss has just filled); NULL when the memo does not serve.
 * plain (a constant): the packet is judged by classification alone (no
 * DNS names, no identification), so the memo serves and nothing has
 * asked it yet: the tests that say so cost nothing. */
static __always_inline __u32 policy_classify_remembered(struct xdp_md *ctx, struct pkt *p,
							__u32 slot, __u32 ifindex,
							const struct fringe_slot_hdr *hdr, __u32 idx,
							struct rule_memo **entry, const int plain)
{
	int serves = plain || rule_memo_serves(hdr);
	struct rule_memo *m;
	__u32 rule;

	if (!plain && p->memo == RULE_MEMO_HIT) {	/* identify_remembered asked it */
		*entry = bpf_map_lookup_elem(&fringe_rule_memo, &idx);
		return p->rule;
	}
	if (idx >= FRINGE_MEMO_SLOTS)
		idx = flow_memo_index(p);
	m = bpf_map_lookup_elem(&fringe_rule_memo, &idx);
	if (!m)		/* never: the index is below the memo's size */
		return POLICY_NO_MATCH;
	if (serves && (plain || p->memo != RULE_MEMO_MISSED) &&
	    rule_memo_holds(m, p, ifindex, hdr->generation)) {
		*entry = m;
		return m->rule;
	}
	FRINGE_CALL_SITE();
	rule = fringe_classify(ctx, slot);
	if (serves) {
		rule_memo_set(m, p, ifindex, hdr->generation, rule,
			      rule < FRINGE_MAX_RULES ? rule_action(slot, rule) : NULL);
		*entry = m;	/* the action just read: not again */
	}
	return rule;
}

#endif
