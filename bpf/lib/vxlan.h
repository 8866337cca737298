/* SPDX-License-Identifier: GPL-2.0 */
/* VXLAN building blocks shared by the XDP and TC programs: the nodes file in force, nodes, outer headers. */
#ifndef FRINGE_BPF_VXLAN_H
#define FRINGE_BPF_VXLAN_H

#include <linux/udp.h>

#include "common.h"
#include "maps.h"

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
	__u32 zero = 0;
	struct fringe_overlay *o;

	if (slot > 1)
		return NULL;
	o = bpf_map_lookup_elem(&fringe_overlay, &zero);
	if (!o || o->slot[slot].family != 4)
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
	f->family = AF_INET;
	f->l4_protocol = IPPROTO_UDP;
	f->tot_len = len;
	f->ifindex = s->ifindex;
	__builtin_memcpy(&f->ipv4_src, s->local_addr, 4);
	__builtin_memcpy(&f->ipv4_dst, n->underlay, 4);
	if (bpf_fib_lookup(ctx, f, sizeof(*f), BPF_FIB_LOOKUP_OUTPUT) != BPF_FIB_LKUP_RET_SUCCESS)
		return NULL;
	return f->dmac;
}

/* Write the outer Ethernet, IPv4 (DF, TTL 64), UDP (checksum 0) and VXLAN
 * headers toward node n into out (FRINGE_VXLAN_OUTER_V4 bytes, the IPv4
 * header 4-byte aligned) for an inner frame of len bytes. */
static __always_inline void ov_outer(__u8 *out, const struct fringe_ov_slot *s,
				     const struct fringe_node *n, const __u8 *dmac, __u32 len,
				     __u16 sport)
{
	struct ethhdr *eth = (void *)out;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct vxlanhdr_ *vx = (void *)(udp + 1);
	__u32 sum;

	ov_mac_copy(eth->h_dest, dmac);
	ov_mac_copy(eth->h_source, s->local_mac);
	eth->h_proto = bpf_htons(ETH_P_IP);
	*(__u8 *)ip = 0x45;
	ip->tos = 0;
	ip->tot_len = bpf_htons(len + FRINGE_VXLAN_OUTER_V4 - ETH_HLEN);
	ip->id = 0;
	ip->frag_off = bpf_htons(0x4000);	/* DF: fringe enforces the MTU itself */
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	/* The load summed the header's fixed words; add tot_len and fold. */
	sum = n->ip_csum + len + FRINGE_VXLAN_OUTER_V4 - ETH_HLEN;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = bpf_htons(~sum & 0xffff);
	__builtin_memcpy(&ip->saddr, s->local_addr, 4);
	__builtin_memcpy(&ip->daddr, n->underlay, 4);
	udp->source = bpf_htons(sport);
	udp->dest = bpf_htons(FRINGE_VXLAN_PORT);
	udp->len = bpf_htons(len + sizeof(*udp) + sizeof(*vx));
	udp->check = 0;
	vx->flags = bpf_htonl(OV_VXLAN_I);
	vx->vni = bpf_htonl(n->vni << 8);
}

#endif
