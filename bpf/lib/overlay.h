/* SPDX-License-Identifier: GPL-2.0 */
/* Overlay: VXLAN (RFC 7348) decapsulation at ingress, encapsulation toward other nodes, steering. */
#ifndef FRINGE_BPF_OVERLAY_H
#define FRINGE_BPF_OVERLAY_H

#include "common.h"
#include "maps.h"
#include "pkt.h"
#include "stats.h"
#include "vxlan.h"

/* judge() results beyond the XDP actions: encapsulate toward a node; the
 * low 16 bits hold its id, or FRINGE_OV_ANY for the destination's owner. */
#define OV_STEER	0x10000

/* The node whose prefix holds the destination, or OV_NO_NODE. */
static __always_inline __u32 ov_owner(struct ov_scratch *sc, __u32 slot, const struct pkt *p)
{
	struct fringe_ov_prefix_key *k = &sc->key;
	void *lpm = bpf_map_lookup_elem(&fringe_ov_slot_prefixes, &slot);
	__u32 *id;

	if (!lpm)
		return OV_NO_NODE;
	k->prefixlen = 8 + 128;
	k->family = p->family;
	__builtin_memcpy(k->addr, p->daddr, 16);
	id = bpf_map_lookup_elem(lpm, k);
	return id ? *id : OV_NO_NODE;
}

/* The `steer node` / `steer overlay` verdict, carried out by overlay_out. */
static __always_inline int overlay_verdict(const struct fringe_rule_action *a)
{
	return OV_STEER | (a->action == FRINGE_ACT_STEER_NODE ? a->target & 0xffff : FRINGE_OV_ANY);
}

/* Decapsulate VXLAN from a listed node: 0 (the frame is now the inner one)
 * or -reason.  A global function, so the verifier checks it once instead of
 * once more for every path through the rest of the program; the call costs
 * tens of nanoseconds, and only VXLAN to this node makes it. */
__attribute__((noinline)) int fringe_ov_decap(struct xdp_md *ctx, __u32 slot, __u32 self_vni)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct fringe_ov_underlay_key k = { .family = 4 };
	struct ethhdr *eth = data, *inner;
	const struct fringe_node *n;
	struct ov_scratch *sc;
	struct vxlanhdr_ *vx;
	struct udphdr *udp;
	__u32 *id, hl, node;
	void *under;

	slot &= 1;
	if ((void *)(eth + 1) > data_end)
		return -FRINGE_DROP_MALFORMED;
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return -FRINGE_DROP_MALFORMED;
		k.family = 6;
		__builtin_memcpy(k.addr, &ip6->saddr, 16);
		udp = (void *)(ip6 + 1);
	} else {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return -FRINGE_DROP_MALFORMED;
		hl = ip->ihl * 4;
		if (hl < sizeof(*ip))
			return -FRINGE_DROP_MALFORMED;
		__builtin_memcpy(k.addr, &ip->saddr, 4);
		udp = (void *)ip + hl;
	}
	vx = (void *)(udp + 1);
	inner = (void *)(vx + 1);
	if ((void *)(inner + 1) > data_end)
		return -FRINGE_DROP_MALFORMED;
	under = bpf_map_lookup_elem(&fringe_ov_slot_underlay, &slot);
	id = under ? bpf_map_lookup_elem(under, &k) : NULL;
	if (!id)
		return -FRINGE_DROP_OVERLAY_UNKNOWN_NODE;
	node = *id;
	n = ov_node(slot, node);
	/* A listed address with a VNI neither its own nor ours is not that node's tunnel. */
	if (!n || (n->flags & FRINGE_NODE_SELF) || !(vx->flags & bpf_htonl(OV_VXLAN_I)) ||
	    (vx->vni != bpf_htonl(n->vni << 8) && vx->vni != bpf_htonl(self_vni << 8)))
		return -FRINGE_DROP_OVERLAY_UNKNOWN_NODE;
	/* Addressed to this host outside, so inside: an XDP_PASS reaches our stack. */
	__builtin_memcpy(inner->h_dest, eth->h_dest, ETH_ALEN);
	ov_count(node, 1, data_end - (void *)inner);
	if (bpf_xdp_adjust_head(ctx, (void *)inner - data))
		return -FRINGE_DROP_MALFORMED;
	sc = bpf_map_lookup_elem(&fringe_ov_scratch, &fringe_zero);
	if (sc)
		sc->rx_node = node;
	return 0;
}

/* VXLAN to one of this node's underlay addresses (UDP 4789, not a
 * fragment; over IPv6, UDP right after the fixed header, as every VXLAN
 * sender puts it; the outer UDP checksum is not verified: the inner packet
 * carries its own): hand it to fringe_ov_decap, so the rest of the program
 * judges the inner frame.
 * Returns 0 (decapsulated, or not ours: the frame stays as it is) or
 * -reason; the scratch says which nodes file the packet uses, and p->ov
 * whether there is one: without a nodes file the overlay scratch is never
 * touched, here or in overlay_out. */
static __always_inline int overlay_rx(struct xdp_md *ctx, struct pkt *p, __u32 loaded)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const struct fringe_ov_slot *s;
	struct ethhdr *eth = data;
	struct fringe_overlay *o;
	struct ov_scratch *sc;
	struct udphdr *udp;
	struct iphdr *ip;
	__u32 hl, slot;
	int r;

	if (!loaded)	/* no nodes file was ever loaded (FRINGE_META_OVERLAY) */
		return 0;
	o = bpf_map_lookup_elem(&fringe_overlay, &fringe_zero);
	if (!o)
		return 0;
	/* One read of the switch, like the policy's: a packet sees one nodes file. */
	slot = READ_ONCE(o->active) & 1;
	s = &o->slot[slot];
	if (!s->family)
		return 0;
	sc = bpf_map_lookup_elem(&fringe_ov_scratch, &fringe_zero);
	if (!sc)
		return 0;
	sc->slot = slot;
	sc->rx_node = OV_NO_NODE;
	sc->ifindex = s->ifindex;
	p->ov = 1;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		const __u32 *a = (const void *)s->local_addr6, *d;

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP ||
		    !(s->families & FRINGE_OV_FAMILY(6)))
			return 0;
		d = (const __u32 *)&ip6->daddr;
		if ((d[0] ^ a[0]) | (d[1] ^ a[1]) | (d[2] ^ a[2]) | (d[3] ^ a[3]))
			return 0;
		udp = (void *)(ip6 + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP ||
		    !(s->families & FRINGE_OV_FAMILY(4)) ||
		    ip->daddr != *(const __u32 *)s->local_addr4)
			return 0;
		if (ip->frag_off & bpf_htons(0x3fff))
			return 0;	/* a fragment: the kernel reassembles it */
		hl = ip->ihl * 4;
		if (hl < sizeof(*ip))
			return 0;
		udp = (void *)ip + hl;
	} else {
		return 0;
	}
	if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(FRINGE_VXLAN_PORT))
		return 0;
	FRINGE_CALL_SITE();
	r = fringe_ov_decap(ctx, slot, s->self_vni);
	verifier_barrier(r);	/* clang knows which reasons the callee returns */
	return r;
}

/* RFC 1624 incremental update, as the kernel's ip_decrease_ttl. */
static __always_inline void ov_decrease_ttl(struct iphdr *ip)
{
	__u32 check = ip->check;

	check += bpf_htons(0x0100);
	ip->check = (__u16)(check + (check >= 0xFFFF));
	ip->ttl--;
}

/* ICMP "fragmentation needed" (RFC 792, RFC 1191); linux/icmp.h drags in libc. */
struct icmp_frag_ {
	__u8 type;		/* 3: destination unreachable */
	__u8 code;		/* 4: fragmentation needed and DF set */
	__sum16 checksum;
	__be16 unused;
	__be16 mtu;		/* next-hop MTU */
};
#define ICMP_ECHOREPLY_	0
#define ICMP_ECHO_	8

/* The reply's own IPv4 and ICMP headers, put in front of the packet it quotes. */
#define OV_ICMP_HDRS	28
#define OV_ICMP_QUOTE	(60 + 8)	/* at most: the packet's IPv4 header and 8 bytes after */

static __always_inline __u16 ov_csum(void *p, __u32 size)
{
	__u32 sum = bpf_csum_diff(NULL, 0, p, size, 0);

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* The answer to an oversized packet leaves by the interface it came in by
 * (a redirect, not XDP_TX, which a veth delivers only to a peer that runs
 * XDP itself).  The packet is dropped all the same: the exit counts reason
 * mtu, and the redirect. */
static __always_inline int ov_answer(struct xdp_md *ctx)
{
	if (bpf_redirect(ctx->ingress_ifindex, 0) != XDP_REDIRECT)
		return -FRINGE_DROP_MTU;
	return stats_answered(FRINGE_DROP_MTU);
}

/* An IPv4 packet with DF set that the tunnel cannot carry: answer as a
 * router does, ICMP "fragmentation needed" with the tunnel's MTU (what an
 * inner IP packet may be), from this node's IPv4 underlay address, back out
 * of the interface it came in by (reason mtu).  stats_answered(mtu), or
 * -FRINGE_DROP_MTU when no answer is due (no DF, a later fragment, an ICMP
 * error).  Never rate-limited: Linux exempts path MTU discovery from its
 * ICMP rate limits too.  A node without an IPv4 underlay address answers
 * from the packet's destination, as Linux's own tunnels do for the packets
 * they bridge (iptunnel_pmtud_build_icmp). */
static __always_inline int ov_frag_needed(struct xdp_md *ctx, const struct pkt *p,
					  const struct fringe_ov_slot *s, __u32 mtu)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data, *old;
	struct iphdr *ip = (void *)(eth + 1), *orig;
	struct icmp_frag_ *ic;
	__u64 len;
	__u32 keep;

	if (p->vlan != FRINGE_NO_VLAN || (void *)ip + OV_ICMP_QUOTE > data_end)
		return -FRINGE_DROP_MTU;
	if ((ip->frag_off & bpf_htons(0x5fff)) != bpf_htons(0x4000))
		return -FRINGE_DROP_MTU;	/* no DF, or not a first fragment */
	if ((ip->daddr & bpf_htonl(0xf0000000)) == bpf_htonl(0xe0000000) || ip->daddr == 0xffffffff)
		return -FRINGE_DROP_MTU;	/* to a group: no address to answer from */
	keep = ip->ihl * 4;
	if (ip->protocol == IPPROTO_ICMP) {
		__u8 type = 0xff;

		/* A helper, not a pointer: the verifier loses this offset's range. */
		bpf_xdp_load_bytes(ctx, ETH_HLEN + (keep & 0x3c), &type, 1);
		if (type != ICMP_ECHO_ && type != ICMP_ECHOREPLY_)
			return -FRINGE_DROP_MTU;	/* never an error about an error */
	}
	keep = (keep & 0x3c) + 8;
	if (bpf_xdp_adjust_head(ctx, -OV_ICMP_HDRS))
		return -FRINGE_DROP_MTU;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + OV_ICMP_HDRS + ETH_HLEN + OV_ICMP_QUOTE > data_end)
		return -FRINGE_DROP_MTU;
	eth = data;
	ip = (void *)(eth + 1);
	ic = (void *)(ip + 1);
	orig = (void *)(ic + 1);	/* the packet's IPv4 header: the quote starts there */
	old = data + OV_ICMP_HDRS;	/* its Ethernet header, under the new IPv4 and ICMP ones */
	ov_mac_copy(eth->h_dest, old->h_source);
	ov_mac_copy(eth->h_source, old->h_dest);
	eth->h_proto = bpf_htons(ETH_P_IP);
	*(__u8 *)ip = 0x45;
	ip->tos = 0xc0;
	ip->tot_len = bpf_htons(OV_ICMP_HDRS + keep);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->check = 0;
	ip->daddr = orig->saddr;
	if (s->families & FRINGE_OV_FAMILY(4))
		__builtin_memcpy(&ip->saddr, s->local_addr4, 4);
	else
		ip->saddr = orig->daddr;
	ic->type = 3;
	ic->code = 4;
	ic->checksum = 0;
	ic->unused = 0;
	ic->mtu = bpf_htons(mtu);
	ip->check = ov_csum(ip, sizeof(*ip));
	ic->checksum = ov_csum(ic, sizeof(*ic) + keep);
	len = data_end - data;
	verifier_barrier(len);	/* a length, not pointer arithmetic in 32 bits */
	if (bpf_xdp_adjust_tail(ctx, (int)(ETH_HLEN + OV_ICMP_HDRS + keep) - (int)len))
		return -FRINGE_DROP_MTU;
	return ov_answer(ctx);
}

/* ICMPv6 Packet Too Big (RFC 4443 3.2) */
struct icmp6_ptb_ {
	__u8 type;		/* 2 */
	__u8 code;		/* 0 */
	__sum16 checksum;
	__be32 mtu;
};
#define OV_PTB_HDRS	(40 + 8)	/* the reply's IPv6 and ICMPv6 headers */
#define OV_PTB_QUOTE	(FRINGE_IPV6_MIN_MTU - OV_PTB_HDRS)	/* the reply fits any IPv6 link */

/* An IPv6 packet the tunnel cannot carry: the IPv4 path's rules in IPv6's
 * words, ICMPv6 Packet Too Big with the tunnel's MTU, quoting as much of the
 * packet as a 1280-byte reply holds, from this node's IPv6 underlay address
 * (or, with none, the underlay interface's; with neither, the packet's
 * destination, as ov_frag_needed), back out of the interface it came in by
 * (reason mtu).  stats_answered(mtu), or -FRINGE_DROP_MTU when no answer is
 * due (an ICMPv6 error, a source that is not unicast). */
static __always_inline int ov_pkt_too_big(struct xdp_md *ctx, const struct pkt *p,
					  const struct fringe_ov_slot *s, __u32 mtu)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data, *old;
	struct ipv6hdr *ip6 = (void *)(eth + 1), *orig;
	const __u32 *a = (const void *)s->local_addr6;
	struct icmp6_ptb_ *ic;
	__u32 keep, sum, len, own;

	if (p->vlan != FRINGE_NO_VLAN || (void *)(ip6 + 1) > data_end)
		return -FRINGE_DROP_MTU;
	own = a[0] | a[1] | a[2] | a[3];
	if (!own && ip6->daddr.in6_u.u6_addr8[0] == 0xff)
		return -FRINGE_DROP_MTU;	/* to a group: no address to answer from */
	if (ip6->saddr.in6_u.u6_addr8[0] == 0xff ||
	    !(ip6->saddr.in6_u.u6_addr32[0] | ip6->saddr.in6_u.u6_addr32[1] |
	      ip6->saddr.in6_u.u6_addr32[2] | ip6->saddr.in6_u.u6_addr32[3]))
		return -FRINGE_DROP_MTU;	/* multicast or unspecified: nobody to tell */
	if (ip6->nexthdr == IPPROTO_ICMPV6) {
		__u8 type = 0;

		bpf_xdp_load_bytes(ctx, ETH_HLEN + sizeof(*ip6), &type, 1);
		if (type < 128)
			return -FRINGE_DROP_MTU;	/* never an error about an error */
	}
	len = data_end - data - ETH_HLEN;
	keep = len < OV_PTB_QUOTE ? len : OV_PTB_QUOTE;
	if (bpf_xdp_adjust_head(ctx, -OV_PTB_HDRS))
		return -FRINGE_DROP_MTU;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + OV_PTB_HDRS + ETH_HLEN + sizeof(*ip6) > data_end)
		return -FRINGE_DROP_MTU;
	eth = data;
	ip6 = (void *)(eth + 1);
	ic = (void *)(ip6 + 1);
	orig = (void *)(ic + 1);	/* the packet's IPv6 header: the quote starts there */
	old = data + OV_PTB_HDRS;	/* its Ethernet header, under the new headers */
	ov_mac_copy(eth->h_dest, old->h_source);
	ov_mac_copy(eth->h_source, old->h_dest);
	eth->h_proto = bpf_htons(ETH_P_IPV6);
	*(__be32 *)ip6 = bpf_htonl(0x60000000);
	ip6->payload_len = bpf_htons(sizeof(*ic) + keep);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = 64;
	__builtin_memcpy(&ip6->daddr, &orig->saddr, 16);
	if (own)
		__builtin_memcpy(&ip6->saddr, s->local_addr6, 16);
	else
		__builtin_memcpy(&ip6->saddr, &orig->daddr, 16);
	ic->type = 2;
	ic->code = 0;
	/* The pseudo-header (RFC 8200 8.1) but for the addresses, which the sum below takes. */
	ic->checksum = bpf_htons(ov_fold(IPPROTO_ICMPV6 + sizeof(*ic) + keep));
	ic->mtu = bpf_htonl(mtu);
	len = data_end - data;
	verifier_barrier(len);	/* a length, not pointer arithmetic in 32 bits */
	if (bpf_xdp_adjust_tail(ctx, (int)(ETH_HLEN + OV_PTB_HDRS + keep) - (int)len))
		return -FRINGE_DROP_MTU;
	FRINGE_CALL_SITE();
	sum = fringe_ov_sum(ctx, ETH_HLEN + 8, 32);	/* source and destination */
	FRINGE_CALL_SITE();
	sum = ov_fold(sum) + ov_fold(fringe_ov_sum(ctx, ETH_HLEN + sizeof(*ip6), sizeof(*ic) + keep));
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	ic = data + ETH_HLEN + sizeof(*ip6);
	if ((void *)(ic + 1) > data_end)
		return -FRINGE_DROP_MTU;
	ic->checksum = ~ov_fold(sum) & 0xffff;
	return ov_answer(ctx);
}

/* The answer to a packet too big for the tunnel, by its family. */
static __always_inline int ov_too_big(struct xdp_md *ctx, const struct pkt *p,
				      const struct fringe_ov_slot *s, __u32 mtu)
{
	return p->family == 4 ? ov_frag_needed(ctx, p, s, mtu) : ov_pkt_too_big(ctx, p, s, mtu);
}

/* Wrap the frame in outer Ethernet, IP (the node's family), UDP and VXLAN
 * with the node's VNI, and send it out of the underlay interface. */
static __always_inline int ov_encap(struct xdp_md *ctx, const struct pkt *p, struct ov_scratch *sc,
				    const struct fringe_ov_slot *s, __u32 slot, __u32 id)
{
	const struct fringe_node *n = ov_node(slot, id);
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 len = data_end - data, outer;
	const __u8 *dmac;

	if (!n || (n->flags & FRINGE_NODE_SELF) || p->vlan != FRINGE_NO_VLAN)
		return -FRINGE_DROP_REDIRECT;
	outer = FRINGE_VXLAN_OUTER(n->family);
	if (len + outer - ETH_HLEN > s->mtu)
		return ov_too_big(ctx, p, s, s->mtu - outer);
	if ((void *)(eth + 1) > data_end)
		return -FRINGE_DROP_MALFORMED;
	dmac = n->outer_mac;
	if (n->flags & FRINGE_NODE_FIB) {
		dmac = ov_fib_mac(ctx, &sc->fib, s, n, len + outer - ETH_HLEN);
		if (!dmac)
			return -FRINGE_DROP_REDIRECT;
	}
	/* This is a router's hop: the TTL goes down, and at its end the kernel answers. */
	if (p->family == 4) {
		struct iphdr *in = (void *)(eth + 1);

		if ((void *)(in + 1) > data_end)
			return -FRINGE_DROP_MALFORMED;
		if (in->ttl <= 1)
			return XDP_PASS;
		ov_decrease_ttl(in);
	} else {
		struct ipv6hdr *in6 = (void *)(eth + 1);

		if ((void *)(in6 + 1) > data_end)
			return -FRINGE_DROP_MALFORMED;
		if (in6->hop_limit <= 1)
			return XDP_PASS;
		in6->hop_limit--;
	}
	ov_mac_copy(eth->h_dest, n->inner_mac);
	ov_mac_copy(eth->h_source, s->local_mac);

	/* The outer headers, staged in the scratch. */
	ov_outer(sc->outer, s, n, dmac, len, ov_src_port(p));
	ov_count(id, 0, len);

	if (n->family == 6) {
		struct udphdr *udp;
		__u16 check;

		if (bpf_xdp_adjust_head(ctx, -FRINGE_VXLAN_OUTER_V6))
			return -FRINGE_DROP_REDIRECT;
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		if (data + FRINGE_VXLAN_OUTER_V6 > data_end)
			return -FRINGE_DROP_REDIRECT;
		__builtin_memcpy(data, sc->outer, FRINGE_VXLAN_OUTER_V6);
		check = ov_udp6_check(ctx, p, len);
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		udp = data + ETH_HLEN + sizeof(struct ipv6hdr);
		if ((void *)(udp + 1) > data_end)
			return -FRINGE_DROP_REDIRECT;
		udp->check = check;
	} else {
		if (bpf_xdp_adjust_head(ctx, -FRINGE_VXLAN_OUTER_V4))
			return -FRINGE_DROP_REDIRECT;
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		if (data + FRINGE_VXLAN_OUTER_V4 > data_end)
			return -FRINGE_DROP_REDIRECT;
		__builtin_memcpy(data, sc->outer, FRINGE_VXLAN_OUTER_V4);
	}
	return bpf_redirect_map(&fringe_devmap, sc->ifindex, 0) == XDP_REDIRECT ?
		       XDP_REDIRECT : -FRINGE_DROP_REDIRECT;
}

/* A decapsulated packet the policy let in: route it to the local workload
 * interface with the kernel's FIB, or hand it to the stack when the FIB has
 * no complete answer (no neighbour yet, not forwarded, back out the underlay). */
static __always_inline int ov_deliver(struct xdp_md *ctx, const struct pkt *p, struct ov_scratch *sc)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup *f = &sc->fib;
	struct ethhdr *eth = data;
	long rc;

	if (p->vlan != FRINGE_NO_VLAN || (void *)(eth + 1) > data_end)
		return XDP_PASS;
	__builtin_memset(f, 0, sizeof(*f));
	f->ifindex = ctx->ingress_ifindex;
	if (p->family == 4) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->ttl <= 1)
			return XDP_PASS;
		f->family = AF_INET;
		f->tos = ip->tos;
		f->l4_protocol = ip->protocol;
		f->tot_len = bpf_ntohs(ip->tot_len);
		f->ipv4_src = ip->saddr;
		f->ipv4_dst = ip->daddr;
		rc = bpf_fib_lookup(ctx, f, sizeof(*f), 0);
		if (rc != BPF_FIB_LKUP_RET_SUCCESS || f->ifindex == ctx->ingress_ifindex)
			return XDP_PASS;
		ov_decrease_ttl(ip);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->hop_limit <= 1)
			return XDP_PASS;
		f->family = AF_INET6;
		f->l4_protocol = ip6->nexthdr;
		f->tot_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		__builtin_memcpy(f->ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(f->ipv6_dst, &ip6->daddr, 16);
		rc = bpf_fib_lookup(ctx, f, sizeof(*f), 0);
		if (rc != BPF_FIB_LKUP_RET_SUCCESS || f->ifindex == ctx->ingress_ifindex)
			return XDP_PASS;
		ip6->hop_limit--;
	}
	ov_mac_copy(eth->h_dest, f->dmac);
	ov_mac_copy(eth->h_source, f->smac);
	return bpf_redirect(f->ifindex, 0);
}

/* After the policy, for the overlay's packets: carry out `steer node|overlay`,
 * deliver what came out of a tunnel, and send allowed traffic for another
 * node's prefix into one (not what arrived on the underlay itself, so
 * nothing loops).  ret is judge()'s result; returns an XDP action or
 * -reason.  A global function, verified once rather than for every path out
 * of classification; overlay_out calls it only when a nodes file is loaded. */
__attribute__((noinline)) int fringe_ov_forward(struct xdp_md *ctx, int ret)
{
	const struct fringe_ov_slot *s;
	struct ov_scratch *sc;
	struct pkt *p;
	__u32 slot, id;

	sc = bpf_map_lookup_elem(&fringe_ov_scratch, &fringe_zero);
	p = bpf_map_lookup_elem(&fringe_scratch, &fringe_zero);
	if (!sc || !p)
		return -FRINGE_DROP_REDIRECT;
	slot = sc->slot;
	s = ov_slot(slot);
	if (!s)
		return ret < OV_STEER ? ret : -FRINGE_DROP_REDIRECT;
	slot &= 1;
	if (ret >= OV_STEER) {
		id = ret & 0xffff;
		if (id == FRINGE_OV_ANY) {
			id = ov_owner(sc, slot, p);
			if (id == OV_NO_NODE)
				return -FRINGE_DROP_REDIRECT;
			if (id == s->self_id)
				goto local;
		}
	} else {
		if (sc->rx_node != OV_NO_NODE)
			goto local;
		id = ov_owner(sc, slot, p);
		if (id == OV_NO_NODE || id == s->self_id)
			return ret;
	}
	return ov_encap(ctx, p, sc, s, slot, id);
local:
	return sc->rx_node != OV_NO_NODE ? ov_deliver(ctx, p, sc) : XDP_PASS;
}

static __always_inline int overlay_out(struct xdp_md *ctx, const struct pkt *p, int ret)
{
	struct ov_scratch *sc;
	int r;

	if (ret != XDP_PASS && ret < OV_STEER)
		return ret;
	if (!p->ov)	/* no nodes file: `steer node|overlay` has nowhere to go */
		return ret < OV_STEER ? ret : -FRINGE_DROP_REDIRECT;
	sc = bpf_map_lookup_elem(&fringe_ov_scratch, &fringe_zero);
	if (!sc || sc->slot > 1)
		return ret < OV_STEER ? ret : -FRINGE_DROP_REDIRECT;
	/* Host traffic on the underlay that the policy let through: nothing to do. */
	if (ret == XDP_PASS && sc->rx_node == OV_NO_NODE && ctx->ingress_ifindex == sc->ifindex)
		return ret;
	FRINGE_CALL_SITE();
	r = fringe_ov_forward(ctx, ret);
	verifier_barrier(r);	/* as in overlay_rx */
	return r;
}

#endif
