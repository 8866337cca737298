/* SPDX-License-Identifier: GPL-2.0 */
/* One packet context for XDP and TC: library code takes struct __ctx_buff and these accessors. */
#ifndef FRINGE_BPF_CTX_H
#define FRINGE_BPF_CTX_H

/*
 * An entry program says which hook it is before it includes anything:
 * fringe_tc.bpf.c defines FRINGE_CTX_SKB (struct __sk_buff), the XDP
 * program defines nothing (struct xdp_md).  Parsing (parse.h) and the
 * counters' one exit (stats.h) are then the same code for both, as in
 * Cilium's bpf/include/bpf/ctx/.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#ifdef FRINGE_CTX_SKB
#define __ctx_buff __sk_buff
#define CTX_ACT_OK	TC_ACT_OK
#define CTX_ACT_DROP	TC_ACT_SHOT
#define CTX_ACT_REDIRECT TC_ACT_REDIRECT
/* data_end ends the linear part, which a GSO packet's payload lies beyond. */
#define CTX_WHOLE_FRAME	0

/* The interface the packet is on: for TC egress, the one it leaves by. */
static __always_inline __u32 ctx_ifindex(const struct __sk_buff *ctx)
{
	return ctx->ifindex;
}

/* Make the first len bytes linear (direct access reaches them); 0 or -errno. */
static __always_inline int ctx_pull(struct __sk_buff *ctx, __u32 len)
{
	return bpf_skb_pull_data(ctx, len < ctx->len ? len : ctx->len);
}

/* A GSO packet: the kernel segments it after the program. */
static __always_inline int ctx_is_gso(const struct __sk_buff *ctx)
{
	return ctx->gso_size != 0;
}

/* The per-interface verdict a TC action counts as: none.  The verdict
 * counters belong to XDP ingress; TC counts only what it drops, by reason. */
static __always_inline int ctx_verdict(int action)
{
	return -1;
}
#else
#define __ctx_buff xdp_md
#define CTX_ACT_OK	XDP_PASS
#define CTX_ACT_DROP	XDP_DROP
#define CTX_ACT_REDIRECT XDP_REDIRECT
#define CTX_WHOLE_FRAME	1

static __always_inline __u32 ctx_ifindex(const struct xdp_md *ctx)
{
	return ctx->ingress_ifindex;
}

/* An XDP frame is linear and never GSO. */
static __always_inline int ctx_pull(struct xdp_md *ctx, __u32 len)
{
	return 0;
}

static __always_inline int ctx_is_gso(const struct xdp_md *ctx)
{
	return 0;
}

static __always_inline int ctx_verdict(int action)
{
	switch (action) {
	case XDP_PASS:		return FRINGE_V_PASS;
	case XDP_TX:		return FRINGE_V_TX;
	case XDP_REDIRECT:	return FRINGE_V_REDIRECT;
	default:		return FRINGE_V_DROP;
	}
}
#endif

static __always_inline void *ctx_data(const struct __ctx_buff *ctx)
{
	return (void *)(long)ctx->data;
}

static __always_inline void *ctx_data_end(const struct __ctx_buff *ctx)
{
	return (void *)(long)ctx->data_end;
}

/* The same, read again (volatile): new pointers, checked to no length yet,
 * where the old ones would carry the lengths one path of parsing checked. */
static __always_inline void *ctx_data_again(const struct __ctx_buff *ctx)
{
	return (void *)(long)*(volatile const __u32 *)&ctx->data;
}

static __always_inline void *ctx_data_end_again(const struct __ctx_buff *ctx)
{
	return (void *)(long)*(volatile const __u32 *)&ctx->data_end;
}

#endif
