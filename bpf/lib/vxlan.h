/* SPDX-License-Identifier: GPL-2.0 */
/* VXLAN building blocks shared by the XDP and TC programs: the nodes file in force, nodes, outer headers. */
#ifndef FRINGE_BPF_VXLAN_H
#define FRINGE_BPF_VXLAN_H

#include <linux/udp.h>

#include "common.h"
#include "maps.h"
#include "pkt.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

#define OV_NO_NODE	0xffffffffu
#define OV_VXLAN_I	0x08000000u	/* flags word: the VNI is valid */

struct vxlanhdr_ {
	__be32 flags;
	__be32 vni;		/* VNI << 8 */
};

/* MACs as three 16-bit words: every MAC fringe copies is 2-byte aligned,
 * and byte copies make clang hold six values at once (stack spills). */
static __always_inline void ov_mac_copy(void *dst, const void *src)
{
	__u16 *d = __builtin_assume_aligned(dst, 2);
	const __u16 *s = __builtin_assume_aligned(src, 2);

	d[0] = s[0];
	d[1] = s[1];
	d[2] = s[2];
}

/* The nodes file in slot `slot`, or NULL when none is loaded there. */
static __always_inline const struct fringe_ov_slot *ov_slot(__u32 slot)
{
	struct fringe_overlay *o;

	if (slot > 1)
		return NULL;
	o = bpf_map_lookup_elem(&fringe_overlay, &fringe_zero);
	if (!o || !o->slot[slot].family)
		return NULL;
	return &o->slot[slot];
}

static __always_inline const struct fringe_node *ov_node(__u32 slot, __u32 id)
{
	void *nodes = bpf_map_lookup_elem(&fringe_ov_slot_nodes, &slot);
	const struct fringe_node *n;

	if (!nodes)
		return NULL;
	n = bpf_map_lookup_elem(nodes, &id);
	return n && (n->flags & FRINGE_NODE_IN_USE) ? n : NULL;
}

static __always_inline void ov_count(__u32 id, int rx, __u32 len)
{
	struct fringe_node_stats *ns = bpf_map_lookup_elem(&fringe_node_stats, &id);
	struct fringe_counter *c;

	if (!ns)
		return;
	c = rx ? &ns->rx : &ns->tx;
	c->packets++;
	c->bytes += len;
}

static __always_inline __u32 ov_mix(__u32 h, __u32 w)
{
	w *= 0xcc9e2d51u;
	w = w << 15 | w >> 17;
	h ^= w * 0x1b873593u;
	h = h << 13 | h >> 19;
	return h * 5 + 0xe6546b64u;
}

/* The tunnel's UDP source port: a hash of the inner flow (addresses folded
 * to 32 bits, protocol, ports; murmur3 rounds), spread over the range as
 * Linux's udp_flow_src_port() does, so a flow keeps its port and flows
 * spread over ECMP paths.  sa and da are 16 bytes, 4-byte aligned (IPv4 in
 * the first 4, zeros after). */
static __always_inline __u16 ov_flow_port(const __u8 *sa8, const __u8 *da8, __u8 proto, __u16 sport,
					  __u16 dport)
{
	const __u64 *sa = __builtin_assume_aligned(sa8, 4);
	const __u64 *da = __builtin_assume_aligned(da8, 4);
	__u64 a, b;
	__u32 h;

	a = sa[0] ^ sa[1];
	b = da[0] ^ da[1];
	h = ov_mix(0x9e3779b9u ^ proto, (__u32)a ^ (__u32)(a >> 32));
	h = ov_mix(h, (__u32)b ^ (__u32)(b >> 32));
	h = ov_mix(h, (__u32)sport << 16 | dport);
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	h ^= h << 16;
	return (((__u64)h * (FRINGE_OV_SPORT_MAX - FRINGE_OV_SPORT_MIN)) >> 32) + FRINGE_OV_SPORT_MIN;
}

static __always_inline __u16 ov_src_port(const struct pkt *p)
{
	return ov_flow_port(p->saddr, p->daddr, p->proto, p->sport, p->dport);
}

/* The next hop's MAC toward a node the load could not resolve (ctx: XDP or skb). */
static __always_inline const __u8 *ov_fib_mac(void *ctx, struct bpf_fib_lookup *f,
					      const struct fringe_ov_slot *s,
					      const struct fringe_node *n, __u32 len)
{
	__builtin_memset(f, 0, sizeof(*f));
	f->l4_protocol = IPPROTO_UDP;
	f->tot_len = len;
	f->ifindex = s->ifindex;
	if (n->family == 6) {
		f->family = AF_INET6;
		__builtin_memcpy(f->ipv6_src, s->local_addr6, 16);
		__builtin_memcpy(f->ipv6_dst, n->underlay, 16);
	} else {
		f->family = AF_INET;
		__builtin_memcpy(&f->ipv4_src, s->local_addr4, 4);
		__builtin_memcpy(&f->ipv4_dst, n->underlay, 4);
	}
	if (bpf_fib_lookup(ctx, f, sizeof(*f), BPF_FIB_LOOKUP_OUTPUT) != BPF_FIB_LKUP_RET_SUCCESS)
		return NULL;
	return f->dmac;
}

static __always_inline __u32 ov_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	return (sum & 0xffff) + (sum >> 16);
}

/* Write the outer Ethernet, IP, UDP and VXLAN headers toward node n into
 * out (the IP header 4-byte aligned) for an inner frame of len bytes;
 * returns their length, FRINGE_VXLAN_OUTER(n->family).  IPv4: DF, TTL 64,
 * UDP checksum 0 (RFC 7348).  IPv6: hop limit 64, and the UDP checksum
 * holds the pseudo-header's sum, folded, in network order: the caller adds
 * the rest and complements it (IPv6 allows no zero checksum unless the
 * receiver is configured for it, which a default Linux vxlan device is not). */
static __always_inline __u32 ov_outer(__u8 *out, const struct fringe_ov_slot *s,
				      const struct fringe_node *n, const __u8 *dmac, __u32 len,
				      __u16 sport)
{
	struct ethhdr *eth = (void *)out;
	struct iphdr *ip = (void *)(eth + 1);
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct udphdr *udp;
	struct vxlanhdr_ *vx;
	__u32 sum, ulen = len + sizeof(*udp) + sizeof(*vx);

	ov_mac_copy(eth->h_dest, dmac);
	ov_mac_copy(eth->h_source, s->local_mac);
	if (n->family == 6) {
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		*(__be32 *)ip6 = bpf_htonl(0x60000000);	/* version 6, no class, no flow label */
		ip6->payload_len = bpf_htons(ulen);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = 64;
		__builtin_memcpy(&ip6->saddr, s->local_addr6, 16);
		__builtin_memcpy(&ip6->daddr, n->underlay, 16);
		udp = (void *)(ip6 + 1);
		/* The load summed the addresses and next header; add the length. */
		udp->check = bpf_htons(ov_fold(n->ip_csum + ulen));
	} else {
		eth->h_proto = bpf_htons(ETH_P_IP);
		*(__u8 *)ip = 0x45;
		ip->tos = 0;
		ip->tot_len = bpf_htons(len + FRINGE_VXLAN_OUTER_V4 - ETH_HLEN);
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000);	/* DF: fringe enforces the MTU itself */
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		/* The load summed the header's fixed words; add tot_len and fold. */
		sum = ov_fold(n->ip_csum + len + FRINGE_VXLAN_OUTER_V4 - ETH_HLEN);
		ip->check = bpf_htons(~sum & 0xffff);
		__builtin_memcpy(&ip->saddr, s->local_addr4, 4);
		__builtin_memcpy(&ip->daddr, n->underlay, 4);
		udp = (void *)(ip + 1);
		udp->check = 0;
	}
	vx = (void *)(udp + 1);
	udp->source = bpf_htons(sport);
	udp->dest = bpf_htons(FRINGE_VXLAN_PORT);
	udp->len = bpf_htons(ulen);
	vx->flags = bpf_htonl(OV_VXLAN_I);
	vx->vni = bpf_htonl(n->vni << 8);
	return FRINGE_VXLAN_OUTER(n->family);
}

/* Bytes summed by ov_sum_pkt at most (past that, the rest is left out). */
#define OV_SUM_CHUNK	256
#define OV_SUM_MAX	(16 * OV_SUM_CHUNK)

/* The ones' complement sum (32 bits, memory order, unfolded) of len bytes of
 * the packet from off. */
static __always_inline __u32 ov_sum_pkt(void *data, void *data_end, __u32 off, __u32 len, __u32 seed)
{
	__u8 *p = data + (off & 0xff);
	__u8 tail[4] = {};
	__u32 sum = seed;

	for (int i = 0; i < OV_SUM_MAX / OV_SUM_CHUNK && len >= OV_SUM_CHUNK; i++) {
		if ((void *)(p + OV_SUM_CHUNK) > data_end)
			return sum;
		sum = bpf_csum_diff(NULL, 0, (void *)p, OV_SUM_CHUNK, sum);
		p += OV_SUM_CHUNK;
		len -= OV_SUM_CHUNK;
	}
#define OV_SUM_STEP(n)                                                          \
	if (len & (n)) {                                                        \
		if ((void *)(p + (n)) > data_end)                               \
			return sum;                                             \
		sum = bpf_csum_diff(NULL, 0, (void *)p, (n), sum);              \
		p += (n);                                                       \
	}
	OV_SUM_STEP(128)
	OV_SUM_STEP(64)
	OV_SUM_STEP(32)
	OV_SUM_STEP(16)
	OV_SUM_STEP(8)
	OV_SUM_STEP(4)
#undef OV_SUM_STEP
	/* The last 1-3 bytes, zero-padded: they start 4-aligned from off. */
	if ((len & 3) >= 1 && (void *)(p + 1) <= data_end)
		tail[0] = p[0];
	if ((len & 3) >= 2 && (void *)(p + 2) <= data_end)
		tail[1] = p[1];
	if ((len & 3) >= 3 && (void *)(p + 3) <= data_end)
		tail[2] = p[2];
	return bpf_csum_diff(NULL, 0, (void *)tail, sizeof(tail), sum);
}

/* ov_sum_pkt over the packet (the linear part of an skb); a global
 * function, so its loop is verified once per program. */
__attribute__((noinline)) __u32 fringe_ov_sum(struct __ctx_buff *ctx, __u32 off, __u32 len)
{
	return ov_sum_pkt(ctx_data(ctx), ctx_data_end(ctx), off, len, 0);
}

/* A UDP checksum from its sum: 0 is sent as 0xffff (RFC 768). */
static __always_inline __u16 ov_csum_final(__u32 sum)
{
	__u16 c = ~ov_fold(sum) & 0xffff;

	return c ? c : 0xffff;
}

/* The outer UDP checksum of a VXLAN-over-IPv6 packet just built (its check
 * field holds the pseudo-header's sum), for an inner frame of len bytes
 * parsed into p.  The inner L4 segment is not summed: once its checksum is
 * filled in, it sums to the complement of its pseudo-header's sum, whatever
 * it holds (Linux's local checksum offload, LCO).  That costs the same for
 * every size (summing a 1400-byte packet cost about twice what the rest of
 * the encapsulation does), and is right for the host's packets whose own
 * checksum the offload fills in after TC.  Where no such checksum covers
 * the rest (fragments, other protocols, UDP without one over IPv4, a
 * routing header), the packet is complete and summed as it is.  A GSO
 * packet gets 0: the kernel's segmentation cannot be told from here to
 * checksum each segment (docs/overlay.md). */
static __always_inline __u16 ov_udp6_check(struct __ctx_buff *ctx, const struct pkt *p, __u32 len)
{
	__u32 ulen = len + sizeof(struct udphdr) + sizeof(struct vxlanhdr_), sum, pseudo;
	__u32 off = ETH_HLEN + sizeof(struct ipv6hdr), l4 = p->l4_off & 0xff, hdrs;
	int lco = p->frag == PKT_FRAG_NONE &&
		  (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP ||
		   p->proto == (p->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6)) &&
		  (p->family == 4 || l4 == ETH_HLEN + sizeof(struct ipv6hdr));

	if (ctx_is_gso(ctx))
		return 0;
	if (lco && p->family == 4 && p->proto == IPPROTO_UDP) {
		/* Over IPv4 a zero UDP checksum is none at all (the inner
		 * frame lies behind the outer headers now). */
		__u32 at = FRINGE_VXLAN_OUTER_V6 + l4 + offsetof(struct udphdr, check);
		__u16 *c;

		if (ctx_pull(ctx, at + 2))
			return 0;
		c = ctx_data(ctx) + at;
		lco = (void *)(c + 1) <= ctx_data_end(ctx) && *c;
	}
	if (!lco) {
		if (ctx_pull(ctx, off + ulen))
			return 0;
		FRINGE_CALL_SITE();
		return ov_csum_final(fringe_ov_sum(ctx, off, ulen));
	}
	/* UDP, VXLAN, the inner Ethernet and IP headers. */
	hdrs = sizeof(struct udphdr) + sizeof(struct vxlanhdr_) + l4;
	if (ctx_pull(ctx, off + hdrs))
		return 0;
	FRINGE_CALL_SITE();
	sum = ov_fold(fringe_ov_sum(ctx, off, hdrs));
	if (p->proto == IPPROTO_ICMP)
		return ov_csum_final(sum);	/* sums to zero, and has no pseudo-header */
	pseudo = bpf_csum_diff(NULL, 0, (void *)p->saddr, 16, 0);
	pseudo = bpf_csum_diff(NULL, 0, (void *)p->daddr, 16, pseudo);
	pseudo = ov_fold(ov_fold(pseudo) + bpf_htons(ov_fold(p->proto + len - l4)));
	return ov_csum_final(sum + (~pseudo & 0xffff));
}

#endif
