/* SPDX-License-Identifier: GPL-2.0 */
/* Test packet builder: Ethernet, VLAN/QinQ, IPv4 (options, fragments), IPv6 (extension chain), L4. */
#ifndef FRINGE_TEST_PKT_H
#define FRINGE_TEST_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pkt_opts {
	const char *src, *dst;		/* "10.0.0.1" or "2001:db8::1": family follows */
	uint8_t proto;			/* IPPROTO_TCP, _UDP, _SCTP (132), _ICMP, _ICMPV6, ... */
	uint16_t sport, dport;
	const char *smac, *dmac;	/* NULL: 02:00:00:00:00:01 / 02:00:00:00:00:02 */
	int n_vlan;			/* 0, 1 or 2 tags */
	uint16_t vlan[2];		/* vlan[0] is the outer tag */
	bool qinq;			/* outer tag type 0x88a8 instead of 0x8100 */
	int frag;			/* 0 none, 1 first fragment (MF set), 2 later fragment;
					 * IPv6 gets a fragment header if v6_ext has none.  A later
					 * fragment still carries the L4 header bytes as payload, so
					 * a parser that wrongly reads its "ports" would match them. */
	const uint8_t *v6_ext;		/* IPv6 extension header types in order (0, 43, 44, 51, 60) */
	int n_v6_ext;
	uint8_t v6_ext_extra;		/* extra 8-byte units in each 0/43/60 header (hdr-ext-len) */
	int ip_options;			/* IPv4 option bytes (multiple of 4, NOPs) */
	const void *payload;		/* L4 payload */
	size_t payload_len;
	uint8_t tcp_flags;		/* default SYN */
};

/* Build the frame into buf; returns its length, or 0 if it does not fit. */
size_t pkt_build(uint8_t *buf, size_t cap, const struct pkt_opts *o);
/* A frame with an arbitrary EtherType and payload (ARP, LLDP, ...). */
size_t pkt_build_raw(uint8_t *buf, size_t cap, uint16_t ethertype, const void *payload,
		     size_t len);
/* Offset of the IP header in a frame built by pkt_build (after VLAN tags). */
size_t pkt_l3_offset(const struct pkt_opts *o);

#endif
