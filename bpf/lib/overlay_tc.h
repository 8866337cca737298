/* SPDX-License-Identifier: GPL-2.0 */
/* TC egress: VXLAN for what the host itself sends toward another node's overlay prefix. */
#ifndef FRINGE_BPF_OVERLAY_TC_H
#define FRINGE_BPF_OVERLAY_TC_H

#include "common.h"
#include "maps.h"
#include "parse.h"
#include "vxlan.h"

/* BPF_F_ADJ_ROOM_ENCAP_L2 is a macro of the uapi header; spelled out for older ones. */
#define OV_TC_ENCAP_FLAGS(l3)                                                          \
	((l3) | BPF_F_ADJ_ROOM_ENCAP_L4_UDP | BPF_F_ADJ_ROOM_ENCAP_L2_ETH |             \
	 ((__u64)(ETH_HLEN & BPF_ADJ_ROOM_ENCAP_L2_MASK) << BPF_ADJ_ROOM_ENCAP_L2_SHIFT))

/* IP and L4 header bytes of a parsed packet: what GSO repeats in every segment. */
static __always_inline __u32 ov_tc_hdrs(const struct pkt *p, void *data, void *data_end)
{
	__u32 hdrs = p->l4_off - ETH_HLEN;

	if (!p->has_ports)
		return hdrs;
	if (p->proto == IPPROTO_TCP) {
		const __u8 *t = APP_BYTES(data, data_end, p->l4_off + TCP_FLAGS_OFF, 1);

		return t ? hdrs + (*t >> 4) * 4 : hdrs;
	}
	return p->proto == IPPROTO_UDP ? hdrs + sizeof(struct udphdr) : hdrs;
}

/* Make room for the outer headers staged in sc (outer bytes) and the inner
 * Ethernet header, and write both; 0 or a negative error. */
static __always_inline int ov_tc_push(struct __sk_buff *skb, struct ov_scratch *sc,
				      const struct fringe_ov_slot *s, const struct fringe_node *n,
				      __u8 family, __u32 outer, __u64 flags)
{
	struct ethhdr *inner = (void *)(sc->outer + outer);

	ov_mac_copy(inner->h_dest, n->inner_mac);
	ov_mac_copy(inner->h_source, s->local_mac);
	inner->h_proto = family == 4 ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
	if (bpf_skb_adjust_room(skb, outer, BPF_ADJ_ROOM_MAC, flags))
		return -1;
	return bpf_skb_store_bytes(skb, 0, sc->outer, outer + ETH_HLEN, 0);
}

/* A packet of this host for another node's prefix leaves in VXLAN: room for
 * the outer headers and the inner Ethernet header is made after the MAC
 * header (the kernel marks the skb as UDP-tunnelled, so GSO segments it as
 * such, each segment within the MTU), then both are written in one store.
 * The packet is parsed as XDP parses it (parse.h, into the same per-CPU
 * scratch: TC egress runs with bottom halves off, so no XDP run on this CPU
 * interleaves).  Returns a TC action or -reason (stats_exit counts it). */
static __always_inline int overlay_tc_egress(struct __sk_buff *skb)
{
	struct fringe_ov_prefix_key k = { .prefixlen = 8 + 128 };
	const struct fringe_ov_slot *s;
	const struct fringe_node *n;
	struct fringe_overlay *o;
	struct ov_scratch *sc;
	__u32 slot, id, *idp, len = skb->len, seg, outer;
	const __u8 *dmac;
	struct pkt *p;
	__u16 check;
	void *lpm;
	int err;

	o = bpf_map_lookup_elem(&fringe_overlay, &fringe_zero);
	sc = bpf_map_lookup_elem(&fringe_ov_scratch, &fringe_zero);
	p = bpf_map_lookup_elem(&fringe_scratch, &fringe_zero);
	if (!o || !sc || !p)
		return TC_ACT_OK;
	slot = READ_ONCE(o->active) & 1;
	s = &o->slot[slot];
	if (!s->family)
		return TC_ACT_OK;
	__builtin_memset(p, 0, sizeof(*p));
	/* Not IP, malformed, or VLAN-tagged (the tunnel carries untagged frames): as it is. */
	if (parse_packet(skb, p) != PARSE_IP || p->vlan != FRINGE_NO_VLAN)
		return TC_ACT_OK;
	k.family = p->family;
	__builtin_memcpy(k.addr, p->daddr, 16);
	lpm = bpf_map_lookup_elem(&fringe_ov_slot_prefixes, &slot);
	idp = lpm ? bpf_map_lookup_elem(lpm, &k) : NULL;
	if (!idp || *idp == s->self_id)
		return TC_ACT_OK;	/* not for the overlay */
	id = *idp;
	n = ov_node(slot, id);
	if (!n || (n->flags & FRINGE_NODE_SELF))
		return TC_ACT_OK;
	outer = FRINGE_VXLAN_OUTER(n->family);
	seg = skb->gso_segs > 1 ?
		ETH_HLEN + ov_tc_hdrs(p, ctx_data(skb), ctx_data_end(skb)) + skb->gso_size : len;
	if (seg + outer - ETH_HLEN > s->mtu)
		return -FRINGE_DROP_MTU;
	dmac = n->outer_mac;
	if (n->flags & FRINGE_NODE_FIB) {
		dmac = ov_fib_mac(skb, &sc->fib, s, n, seg + outer - ETH_HLEN);
		if (!dmac)
			return -FRINGE_DROP_REDIRECT;
	}
	ov_outer(sc->outer, s, n, dmac, len, ov_src_port(p));
	if (n->family == 6) {
		err = ov_tc_push(skb, sc, s, n, p->family, FRINGE_VXLAN_OUTER_V6,
				 OV_TC_ENCAP_FLAGS(BPF_F_ADJ_ROOM_ENCAP_L3_IPV6));
		if (!err) {
			check = ov_udp6_check(skb, p, len);
			err = bpf_skb_store_bytes(skb, ETH_HLEN + sizeof(struct ipv6hdr) +
						  offsetof(struct udphdr, check), &check, 2, 0);
		}
	} else {
		err = ov_tc_push(skb, sc, s, n, p->family, FRINGE_VXLAN_OUTER_V4,
				 OV_TC_ENCAP_FLAGS(BPF_F_ADJ_ROOM_ENCAP_L3_IPV4));
	}
	if (err)
		return -FRINGE_DROP_REDIRECT;
	ov_count(id, 0, len);
	if (skb->ifindex != s->ifindex)
		return bpf_redirect(s->ifindex, 0);
	return TC_ACT_OK;
}

#endif
