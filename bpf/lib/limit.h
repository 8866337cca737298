/* SPDX-License-Identifier: GPL-2.0 */
/* Token buckets for `limit`: one per rule, or one per rule and source address. */
#ifndef FRINGE_BPF_LIMIT_H
#define FRINGE_BPF_LIMIT_H

#include "common.h"
#include "maps.h"
#include "parse.h"

/* Refill by the time elapsed, then take one packet's cost: 1 when it conforms. */
static __always_inline int bucket_update(__u64 *tokens_p, __u64 *last_p,
					 const struct fringe_rule_action *a, __u64 now, __u32 len)
{
	__u64 cost = a->flags & FRINGE_RF_BYTES ? a->cost * len : a->cost;
	__u64 tokens, elapsed;
	int ok;

	if (!*last_p) {
		tokens = a->burst;
	} else {
		elapsed = now - *last_p;
		if ((__s64)elapsed < 0)
			elapsed = 0;
		if (elapsed > a->fill_ns)
			elapsed = a->fill_ns;
		tokens = *tokens_p + elapsed * a->rate;
		if (tokens > a->burst)
			tokens = a->burst;
	}
	ok = tokens >= cost;
	if (ok)
		tokens -= cost;
	*tokens_p = tokens;
	*last_p = now;
	return ok;
}

static __always_inline int bucket_take(struct fringe_bucket *b, const struct fringe_rule_action *a,
				       __u64 now, __u32 len)
{
	int ok;

	bpf_spin_lock(&b->lock);
	ok = bucket_update(&b->tokens, &b->last_ns, a, now, len);
	bpf_spin_unlock(&b->lock);
	return ok;
}

/* 0 when the packet conforms to the rule's limit, -FRINGE_DROP_RATE_LIMIT otherwise. */
static __always_inline int limit_check(const struct fringe_rule_action *a, const struct pkt *p)
{
	__u64 now = bpf_ktime_get_ns();
	struct fringe_bucket *b;

	if (a->flags & FRINGE_RF_PER_SRC) {
		struct fringe_src_bucket_key k = { .counter_id = a->counter_id, .family = p->family };
		/* Installed by the load of any policy with a per-src rule. */
		void *buckets = held_map(&fringe_src_buckets);

		if (!buckets)
			return 0;
		__builtin_memcpy(k.addr, p->saddr, 16);
		struct fringe_src_bucket *sb = bpf_map_lookup_elem(buckets, &k);

		if (!sb) {
			struct fringe_src_bucket fresh = {};

			/* Concurrent inserts for the same source: the first one wins. */
			bpf_map_update_elem(buckets, &k, &fresh, BPF_NOEXIST);
			sb = bpf_map_lookup_elem(buckets, &k);
			if (!sb)
				return 0;	/* evicted while racing: let it through */
		}
		/* LRU maps cannot hold a spin lock: a source is mostly served by one
		 * CPU (RSS), and a race costs at most one packet's admission. */
		return bucket_update(&sb->tokens, &sb->last_ns, a, now, p->len) ?
			0 : -FRINGE_DROP_RATE_LIMIT;
	} else {
		__u32 id = a->counter_id;

		b = bpf_map_lookup_elem(&fringe_buckets, &id);
		if (!b)
			return 0;
	}
	return bucket_take(b, a, now, p->len) ? 0 : -FRINGE_DROP_RATE_LIMIT;
}

#endif
