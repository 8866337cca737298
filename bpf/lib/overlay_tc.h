/* SPDX-License-Identifier: GPL-2.0 */
/* TC egress: VXLAN for what the host itself sends toward another node's overlay prefix. */
#ifndef FRINGE_BPF_OVERLAY_TC_H
#define FRINGE_BPF_OVERLAY_TC_H

#include <linux/pkt_cls.h>
#include <linux/tcp.h>

#include "common.h"
#include "maps.h"
#include "vxlan.h"

/* BPF_F_ADJ_ROOM_ENCAP_L2 is a macro of the uapi header; spelled out for older ones. */
#define OV_TC_ENCAP_FLAGS                                                              \
	(BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP |                  \
	 BPF_F_ADJ_ROOM_ENCAP_L2_ETH |                                                 \
	 ((__u64)(ETH_HLEN & BPF_ADJ_ROOM_ENCAP_L2_MASK) << BPF_ADJ_ROOM_ENCAP_L2_SHIFT))

/* The inner flow, for the node lookup and the source port (4-byte aligned addresses). */
struct ov_tc_flow {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 proto;
	__u16 hdrs;		/* IP and L4 header bytes: a GSO segment's overhead */
};

static __always_inline void ov_tc_drop_count(__u32 ifindex, int reason)
{
	__u32 *slot = bpf_map_lookup_elem(&fringe_ifslots, &ifindex);
	__u32 s = slot ? *slot : 0;
	struct fringe_iface_stats *st = bpf_map_lookup_elem(&fringe_iface_stats, &s);

	if (st)
		st->drops[reason & (FRINGE_DROP_MAX - 1)]++;
}

/* Addresses, protocol and ports of an IPv4 or IPv6 packet; 0, or -1 when it is neither. */
static __always_inline int ov_tc_parse(struct __sk_buff *skb, struct ov_tc_flow *fl)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	void *l4;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__u32 hl;

		if ((void *)(ip + 1) > data_end)
			return -1;
		hl = ip->ihl * 4;
		fl->family = 4;
		fl->proto = ip->protocol;
		__builtin_memcpy(fl->saddr, &ip->saddr, 4);
		__builtin_memcpy(fl->daddr, &ip->daddr, 4);
		fl->hdrs = hl;
		if (ip->frag_off & bpf_htons(0x1fff))
			return 0;	/* a later fragment: no ports */
		l4 = (void *)ip + hl;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		fl->family = 6;
		fl->proto = ip6->nexthdr;
		__builtin_memcpy(fl->saddr, &ip6->saddr, 16);
		__builtin_memcpy(fl->daddr, &ip6->daddr, 16);
		fl->hdrs = sizeof(*ip6);
		l4 = ip6 + 1;
	} else {
		return -1;
	}
	if (fl->proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return 0;
		fl->sport = bpf_ntohs(th->source);
		fl->dport = bpf_ntohs(th->dest);
		fl->hdrs += th->doff * 4;
	} else if (fl->proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return 0;
		fl->sport = bpf_ntohs(uh->source);
		fl->dport = bpf_ntohs(uh->dest);
		fl->hdrs += sizeof(*uh);
	}
	return 0;
}

/* A packet of this host for another node's prefix leaves in VXLAN: room for
 * the outer headers and the inner Ethernet header is made after the MAC
 * header (the kernel marks the skb as UDP-tunnelled, so GSO segments it as
 * such, each segment within the MTU), then both are written in one store. */
static __always_inline int overlay_tc_egress(struct __sk_buff *skb)
{
	struct fringe_ov_prefix_key k = { .prefixlen = 8 + 128 };
	struct ov_tc_flow fl = {};
	const struct fringe_ov_slot *s;
	const struct fringe_node *n;
	struct fringe_overlay *o;
	struct ov_scratch *sc;
	struct ethhdr *inner;
	__u32 zero = 0, slot, id, *idp, len = skb->len, seg;
	const __u8 *dmac;
	void *lpm;

	o = bpf_map_lookup_elem(&fringe_overlay, &zero);
	sc = bpf_map_lookup_elem(&fringe_ov_scratch, &zero);
	if (!o || !sc)
		return TC_ACT_OK;
	slot = READ_ONCE(o->active) & 1;
	s = &o->slot[slot];
	if (s->family != 4 || ov_tc_parse(skb, &fl))
		return TC_ACT_OK;
	k.family = fl.family;
	__builtin_memcpy(k.addr, fl.daddr, 16);
	lpm = bpf_map_lookup_elem(&fringe_ov_slot_prefixes, &slot);
	idp = lpm ? bpf_map_lookup_elem(lpm, &k) : NULL;
	if (!idp || *idp == s->self_id)
		return TC_ACT_OK;	/* not for the overlay */
	id = *idp;
	n = ov_node(slot, id);
	if (!n || (n->flags & FRINGE_NODE_SELF))
		return TC_ACT_OK;
	seg = skb->gso_segs > 1 ? ETH_HLEN + fl.hdrs + skb->gso_size : len;
	if (seg + FRINGE_VXLAN_OUTER_V4 - ETH_HLEN > s->mtu) {
		ov_tc_drop_count(skb->ifindex, FRINGE_DROP_MTU);
		return TC_ACT_SHOT;
	}
	dmac = n->outer_mac;
	if (n->flags & FRINGE_NODE_FIB) {
		dmac = ov_fib_mac(skb, &sc->fib, s, n, seg + FRINGE_VXLAN_OUTER_V4 - ETH_HLEN);
		if (!dmac) {
			ov_tc_drop_count(skb->ifindex, FRINGE_DROP_REDIRECT);
			return TC_ACT_SHOT;
		}
	}
	ov_outer(sc->outer, s, n, dmac, len, ov_flow_port(fl.saddr, fl.daddr, fl.proto, fl.sport,
							   fl.dport));
	inner = (void *)(sc->outer + FRINGE_VXLAN_OUTER_V4);
	ov_mac_copy(inner->h_dest, n->inner_mac);
	ov_mac_copy(inner->h_source, s->local_mac);
	inner->h_proto = fl.family == 4 ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
	if (bpf_skb_adjust_room(skb, FRINGE_VXLAN_OUTER_V4, BPF_ADJ_ROOM_MAC, OV_TC_ENCAP_FLAGS) ||
	    bpf_skb_store_bytes(skb, 0, sc->outer, FRINGE_VXLAN_OUTER_V4 + ETH_HLEN, 0)) {
		ov_tc_drop_count(skb->ifindex, FRINGE_DROP_REDIRECT);
		return TC_ACT_SHOT;
	}
	ov_count(id, 0, len);
	if (skb->ifindex != s->ifindex)
		return bpf_redirect(s->ifindex, 0);
	return TC_ACT_OK;
}

#endif
