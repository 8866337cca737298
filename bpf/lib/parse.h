/* SPDX-License-Identifier: GPL-2.0 */
/* Packet parsing: Ethernet, two VLAN tags, IPv4 with options, IPv6 extension chain, L4 ports. */
#ifndef FRINGE_BPF_PARSE_H
#define FRINGE_BPF_PARSE_H

#include "common.h"
#include "pkt.h"
#include "app.h"


struct vlan_hdr_ {
	__be16 tci;
	__be16 proto;
};

/* Past the IP packet's own end, or past the frame? The verifier only trusts
 * comparisons with data_end, so both are checked. */
static __always_inline int beyond(void *ptr, void *end, void *data_end)
{
	verifier_barrier(data_end);	/* clang would infer end <= data_end */
	return ptr > data_end || ptr > end;
}
#define BEYOND(ptr, end, data_end) beyond((void *)(ptr), end, data_end)

/* The flow's word of struct pkt (pkt_flow_key), written whole: the memos
 * read it as one 8-byte load, which waits for narrower stores to reach the
 * cache instead of taking its value from them (store-to-load forwarding
 * needs one store that covers the load). */
static __always_inline void pkt_set_flow(struct pkt *p, __u8 family, __u8 proto, __u8 frag,
					 __u64 ports)
{
	*(__u64 *)&p->sport = ports | (__u64)family << 32 | (__u64)proto << 40 | (__u64)frag << 56;
}

/* Ports of TCP, UDP and SCTP sit in the same first four bytes. */
static __always_inline int parse_ports(struct pkt *p, __u8 family, __u8 proto, __u8 frag,
				       void *l4, void *end, void *data, void *data_end)
{
	__u64 ports = 0;

	p->l4_off = l4 - data;
	p->l4_len = end > l4 ? end - l4 : 0;
	if (frag != PKT_FRAG_LATER &&
	    (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP_)) {
		if (BEYOND(l4 + 4, end, data_end))
			return -FRINGE_DROP_MALFORMED;
		/* sport, dport (host order), has_ports */
		ports = bpf_ntohs(((__be16 *)l4)[0]) | (__u64)bpf_ntohs(((__be16 *)l4)[1]) << 16 |
			1ULL << 48;
		/* Read while the header's line is at hand: app_detect needs no
		 * packet pointer for a segment without payload. */
		if (proto == IPPROTO_TCP && !BEYOND(l4 + TCP_FLAGS_OFF + 1, end, data_end))
			p->tcp_hlen = (((__u8 *)l4)[TCP_FLAGS_OFF] >> 4) * 4;
	}
	pkt_set_flow(p, family, proto, frag, ports);
	return 0;
}

/* The IPv6 walk's cursor as data plus an offset the verifier knows only as
 * below 32 KiB.  Each step of the chain leaves cur at an offset known to a
 * different range, and the verifier never prunes states that differ in it:
 * rebased, the steps' states are alike, and the walk is verified once per
 * header kind, not once per combination of lengths (fringe_xdp_ingress:
 * 437,828 -> 255,686 instructions processed).  The mask changes nothing:
 * the longest chain walked ends well before 32 KiB. */
#define PARSE_REBASE_LIMIT 0x8000
_Static_assert(ETH_HLEN + 2 * 4 + 40 + (FRINGE_MAX_EXT_HDRS + 1) * 2048 < PARSE_REBASE_LIMIT,
	       "parse_rebase: the longest extension chain must stay below the mask");
static __always_inline void *parse_rebase(void *cur, void *data)
{
	__u32 off = cur - data;

	verifier_barrier(off);	/* clang would drop the mask */
	return data + (off & (PARSE_REBASE_LIMIT - 1));
}

static __always_inline int parse_ipv4(struct pkt *p, void *data, void *nh, void *data_end)
{
	struct iphdr *ip = nh;
	__u32 hlen, tot, frag;
	void *end;

	if ((void *)(ip + 1) > data_end)
		return -FRINGE_DROP_MALFORMED;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (ip->version != 4 || hlen < sizeof(*ip) || tot < hlen)
		return -FRINGE_DROP_MALFORMED;
	end = nh + tot;			/* ignore Ethernet padding */
	if (end > data_end) {		/* total length beyond the frame */
		if (CTX_WHOLE_FRAME)
			return -FRINGE_DROP_MALFORMED;
		end = data_end;		/* an skb: the headers are what we read */
	}
	/* Each address one 8-byte store (IPv4 in the first four bytes). */
	*(__u64 *)p->saddr = ip->saddr;
	*(__u64 *)p->daddr = ip->daddr;
	/* PKT_FRAG_NONE, _FIRST (more fragments) or _LATER (an offset),
	 * without a branch: one state for the verifier, not three. */
	frag = ((ip->frag_off & bpf_htons(0x3fff)) + 0xffffU) >> 16;
	frag += ((ip->frag_off & bpf_htons(0x1fff)) + 0xffffU) >> 16;
	return parse_ports(p, 4, ip->protocol, frag, nh + hlen, end, data, data_end);
}

static __always_inline int parse_ipv6(struct pkt *p, void *data, void *nh, void *data_end)
{
	struct ipv6hdr *ip6 = nh;
	void *cur, *end;
	__u8 next;

	if ((void *)(ip6 + 1) > data_end)
		return -FRINGE_DROP_MALFORMED;
	if (ip6->version != 6)
		return -FRINGE_DROP_MALFORMED;
	end = (void *)(ip6 + 1) + bpf_ntohs(ip6->payload_len);
	if (end > data_end) {
		if (CTX_WHOLE_FRAME)
			return -FRINGE_DROP_MALFORMED;
		end = data_end;
	}
	/* As two words each, as the memos read them (memo_addr_set's copy). */
	memo_addr_set((struct memo_addr *)p->saddr, (const __u8 *)&ip6->saddr);
	memo_addr_set((struct memo_addr *)p->daddr, (const __u8 *)&ip6->daddr);
	next = ip6->nexthdr;
	cur = ip6 + 1;

	/* FRINGE_MAX_EXT_HDRS headers, plus one step to reach the upper layer. */
	for (int i = 0; i <= FRINGE_MAX_EXT_HDRS; i++) {
		__u8 *h = cur;
		__u32 hl;

		switch (next) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
			if (BEYOND(h + 8, end, data_end))
				return -FRINGE_DROP_MALFORMED;
			hl = ((__u32)h[1] + 1) * 8;
			break;
		case IPPROTO_AH_:
			if (BEYOND(h + 8, end, data_end))
				return -FRINGE_DROP_MALFORMED;
			hl = ((__u32)h[1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT_: {
			__u16 off;

			if (BEYOND(h + 8, end, data_end))
				return -FRINGE_DROP_MALFORMED;
			off = bpf_ntohs(*(__be16 *)(h + 2));
			/* In the scratch, not a register: the verifier would
			 * walk the rest of the chain once per value. */
			p->frag = (off & 0xfff8) ? PKT_FRAG_LATER : PKT_FRAG_FIRST;
			hl = 8;
			break;
		}
		default:
			return parse_ports(p, 6, next, p->frag, cur, end, data, data_end);
		}
		next = h[0];
		cur += hl;
		if (cur > end)
			return -FRINGE_DROP_MALFORMED;
		cur = parse_rebase(cur, data);
		if (p->frag == PKT_FRAG_LATER) {
			/* The rest of the chain is in the first fragment. */
			pkt_set_flow(p, 6, next, PKT_FRAG_LATER, 0);
			p->l4_off = cur - data;
			return 0;
		}
	}
	/* A chain longer than we walk: the upper layer cannot be judged. */
	return -FRINGE_DROP_MALFORMED;
}

/* Returns PARSE_IP, PARSE_NON_IP, or -FRINGE_DROP_MALFORMED. */
static __always_inline int parse_packet(struct __ctx_buff *ctx, struct pkt *p)
{
	void *data = ctx_data(ctx);
	void *data_end = ctx_data_end(ctx);
	struct ethhdr *eth = data;
	__u16 proto, vlan = FRINGE_NO_VLAN;
	__u64 mac;
	void *nh;
	int ret;

	p->len = data_end - data;
	if ((void *)(eth + 1) > data_end) {
		*(__u64 *)p->smac = (__u64)FRINGE_NO_VLAN << 48;
		return PARSE_NON_IP;
	}
	/* As words: struct ethhdr is packed, so its fields would be read a
	 * byte at a time (the frame starts 2-byte aligned at least). */
	mac = *(const __u32 *)((const __u8 *)eth + 6) |
	      (__u64)*(const __u16 *)((const __u8 *)eth + 10) << 32;
	proto = *(const __be16 *)((const __u8 *)eth + 12);
	nh = eth + 1;

#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_hdr_ *vh = nh;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end) {
			*(__u64 *)p->smac = mac | (__u64)vlan << 48;
			return PARSE_NON_IP;
		}
		if (i == 0)
			vlan = bpf_ntohs(vh->tci) & 0x0fff;
		proto = vh->proto;
		nh = vh + 1;
	}
	/* The MAC and the VLAN: one word (pkt_mac_word, rule_memo_mac). */
	*(__u64 *)p->smac = mac | (__u64)vlan << 48;
	if (proto == bpf_htons(ETH_P_IP))
		ret = parse_ipv4(p, data, nh, data_end);
	else if (proto == bpf_htons(ETH_P_IPV6))
		ret = parse_ipv6(p, data, nh, data_end);
	else
		return PARSE_NON_IP;
	if (ret < 0)
		return ret;
	/* app_detect reads the payload through fresh packet pointers, read
	 * again from ctx: the paths of parsing (VLAN tags, IPv6 extension
	 * headers) leave pointers checked to different lengths, which the
	 * verifier would keep apart through everything that follows; it
	 * checks what it reads itself. */
	app_detect(ctx, p);
	return PARSE_IP;
}

#endif
