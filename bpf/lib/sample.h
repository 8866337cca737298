/* SPDX-License-Identifier: GPL-2.0 */
/* `sample 1/N`: random 1-in-N header sampling into a ring buffer, without a wake-up per sample. */
#ifndef FRINGE_BPF_SAMPLE_H
#define FRINGE_BPF_SAMPLE_H

#include "common.h"
#include "maps.h"
#include "parse.h"


static __always_inline void sample_maybe(struct xdp_md *ctx, const struct fringe_rule_action *a,
					 const struct pkt *p, const struct fringe_meta *meta)
{
	struct fringe_sample_stats *st;
	struct fringe_sample *s;
	__u32 id = a->counter_id, cap;
	__u64 flags;
	void *ring;

	/* Random, not every Nth: no periodic traffic pattern can hide from it. */
	if (a->sample_rate > 1 && bpf_get_prandom_u32() % a->sample_rate)
		return;
	st = bpf_map_lookup_elem(&fringe_sample_stats, &id);
	if (!st)
		return;
	ring = held_map(&fringe_samples);	/* held since the policy's load */
	if (!ring) {
		__sync_fetch_and_add(&st->lost, 1);
		return;
	}
	s = bpf_ringbuf_reserve(ring, sizeof(*s), 0);
	if (!s) {
		__sync_fetch_and_add(&st->lost, 1);
		return;
	}
	cap = meta->sample_bytes ? meta->sample_bytes : FRINGE_SAMPLE_BYTES;
	if (cap > p->len)
		cap = p->len;
	if (cap > FRINGE_SAMPLE_MAX)
		cap = FRINGE_SAMPLE_MAX;
	/* 1..FRINGE_SAMPLE_MAX as the verifier must see it; clang knows the mask
	 * changes nothing. */
	cap -= 1;
	verifier_barrier(cap);
	cap = (cap & (FRINGE_SAMPLE_MAX - 1)) + 1;
	s->timestamp_ns = bpf_ktime_get_ns();
	s->ifindex = ctx->ingress_ifindex;
	s->counter_id = id;
	s->orig_len = p->len;
	s->sample_rate = a->sample_rate;
	s->pad = 0;
	s->cap_len = 0;
	if (bpf_xdp_load_bytes(ctx, 0, s->data, cap) == 0)
		s->cap_len = cap;
	/* Wake the consumer only when the ring is a quarter full: a wake-up
	 * costs far more than a sample, and the consumer also polls on a timer.
	 * The ring's size is the one recorded (it keeps it while it exists). */
	flags = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) >
				meta->sizes[FRINGE_SZ_SAMPLE_RING] / 4 ?
		BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(s, flags);
	__sync_fetch_and_add(&st->taken, 1);
}

#endif
