// SPDX-License-Identifier: GPL-2.0
/* Test packet builder: Ethernet, VLAN/QinQ, IPv4 (options, fragments), IPv6 (extension chain), L4. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "pkt.h"

#define ETH_HLEN_ 14
#define VLAN_HLEN_ 4
#define IP4_HLEN_ 20
#define IP6_HLEN_ 40
#define AH_LEN_ 24		/* 12 fixed bytes + a 12-byte ICV (HMAC-SHA1-96) */
#define FRAG_LATER_OFF 185	/* 1480 bytes / 8: the second fragment of a 1500-byte MTU */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static int parse_mac(const char *s, const char *dflt, uint8_t mac[6])
{
	unsigned int b[6];

	if (!s)
		s = dflt;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

size_t pkt_l3_offset(const struct pkt_opts *o)
{
	return ETH_HLEN_ + VLAN_HLEN_ * (size_t)(o->n_vlan > 2 ? 2 : o->n_vlan < 0 ? 0 : o->n_vlan);
}

/* Ethernet header and VLAN tags; returns the offset of the EtherType field of the last header. */
static size_t put_l2(uint8_t *buf, const struct pkt_opts *o, const uint8_t dmac[6],
		     const uint8_t smac[6])
{
	size_t off = 12;

	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	for (int i = 0; i < o->n_vlan && i < 2; i++) {
		put16(buf + off, i == 0 && o->qinq ? 0x88a8 : 0x8100);
		put16(buf + off + 2, o->vlan[i] & 0x0fff);
		off += VLAN_HLEN_;
	}
	return off;
}

/* L4 header length for proto (0 for protocols carried as bare payload). */
static size_t l4_hlen(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 20;
	case IPPROTO_UDP:
		return 8;
	case IPPROTO_SCTP:
		return 12;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 8;
	default:
		return 0;
	}
}

/* Write the L4 header and payload at p; returns the bytes written. */
static size_t put_l4(uint8_t *p, const struct pkt_opts *o)
{
	size_t hl = l4_hlen(o->proto), total = hl + o->payload_len;

	memset(p, 0, hl);
	switch (o->proto) {
	case IPPROTO_TCP:
		put16(p, o->sport);
		put16(p + 2, o->dport);
		put32(p + 4, 0x01020304);		/* seq */
		p[12] = 5 << 4;				/* data offset: 20 bytes */
		p[13] = o->tcp_flags ? o->tcp_flags : 0x02;
		put16(p + 14, 65535);			/* window */
		break;
	case IPPROTO_UDP:
		put16(p, o->sport);
		put16(p + 2, o->dport);
		put16(p + 4, total);
		break;
	case IPPROTO_SCTP:
		put16(p, o->sport);
		put16(p + 2, o->dport);
		put32(p + 4, 0xdeadbeef);		/* verification tag */
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		p[0] = o->proto == IPPROTO_ICMP ? 8 : 128;	/* echo request */
		put16(p + 4, 0x4242);			/* identifier */
		put16(p + 6, 1);			/* sequence */
		break;
	}
	if (o->payload_len)
		memcpy(p + hl, o->payload, o->payload_len);
	if (o->proto == IPPROTO_ICMP)
		put16(p + 2, csum_fold(csum_add(0, p, total)));
	return total;
}

static size_t build_ipv4(uint8_t *ip, size_t cap, const struct pkt_opts *o, const struct in_addr *s,
			 const struct in_addr *d)
{
	size_t opt = o->ip_options > 0 ? (size_t)o->ip_options : 0;
	size_t hlen = IP4_HLEN_ + opt, total;
	uint16_t frag = 0x4000;	/* DF on unfragmented packets */

	if (opt % 4 || hlen > 60 || hlen + l4_hlen(o->proto) + o->payload_len > cap)
		return 0;
	memset(ip, 0, hlen);
	memset(ip + IP4_HLEN_, 1, opt);			/* NOP options */
	total = hlen + put_l4(ip + hlen, o);
	ip[0] = 0x40 | hlen / 4;
	put16(ip + 2, total);
	put16(ip + 4, 0x1234);				/* identification */
	if (o->frag == 1)
		frag = 0x2000;				/* MF, offset 0 */
	else if (o->frag == 2)
		frag = FRAG_LATER_OFF;			/* last fragment: offset only */
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = o->proto;
	memcpy(ip + 12, s, 4);
	memcpy(ip + 16, d, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, hlen)));
	return total;
}

/* Length of one IPv6 extension header as built here. */
static size_t ext_len(uint8_t type, const struct pkt_opts *o)
{
	switch (type) {
	case 44:
		return 8;
	case 51:
		return AH_LEN_;
	default:
		return 8 * (1 + (size_t)o->v6_ext_extra);
	}
}

static void put_ext(uint8_t *h, uint8_t type, uint8_t next, const struct pkt_opts *o)
{
	size_t len = ext_len(type, o);

	memset(h, 0, len);
	h[0] = next;
	switch (type) {
	case 44: {
		uint16_t off = o->frag == 2 ? FRAG_LATER_OFF << 3 : 0;

		if (o->frag == 1)
			off |= 1;			/* M: more fragments */
		put16(h + 2, off);
		put32(h + 4, 0xcafe0001);		/* identification */
		break;
	}
	case 51:
		h[1] = len / 4 - 2;			/* AH: (len + 2) * 4 bytes */
		put32(h + 4, 0x100);			/* SPI */
		put32(h + 8, 1);			/* sequence */
		break;
	case 43:
		h[1] = len / 8 - 1;
		h[2] = 4;				/* routing type: segment routing */
		h[3] = 0;				/* segments left */
		break;
	default:				/* 0, 60 and others: options, PadN */
		h[1] = len / 8 - 1;
		h[2] = 1;
		h[3] = len - 4;
		break;
	}
}

static size_t build_ipv6(uint8_t *ip, size_t cap, const struct pkt_opts *o,
			 const struct in6_addr *s, const struct in6_addr *d)
{
	uint8_t types[32];
	int n = 0;
	bool has_frag = false;
	size_t off = IP6_HLEN_, total;

	for (int i = 0; i < o->n_v6_ext; i++) {
		if (n >= (int)sizeof(types) - 1)
			return 0;
		types[n++] = o->v6_ext[i];
		has_frag |= o->v6_ext[i] == 44;
	}
	if (o->frag && !has_frag)
		types[n++] = 44;			/* fragments need a fragment header */

	total = IP6_HLEN_ + l4_hlen(o->proto) + o->payload_len;
	for (int i = 0; i < n; i++)
		total += ext_len(types[i], o);
	if (total > cap)
		return 0;

	memset(ip, 0, IP6_HLEN_);
	ip[0] = 0x60;
	put16(ip + 4, total - IP6_HLEN_);
	ip[6] = n ? types[0] : o->proto;
	ip[7] = 64;
	memcpy(ip + 8, s, 16);
	memcpy(ip + 24, d, 16);
	for (int i = 0; i < n; i++) {
		put_ext(ip + off, types[i], i + 1 < n ? types[i + 1] : o->proto, o);
		off += ext_len(types[i], o);
	}
	off += put_l4(ip + off, o);
	return off;
}

size_t pkt_build(uint8_t *buf, size_t cap, const struct pkt_opts *o)
{
	uint8_t dmac[6], smac[6];
	struct in6_addr s6, d6;
	struct in_addr s4, d4;
	size_t l3, et, n;
	bool v6;

	if (!o->src || !o->dst || o->n_vlan < 0 || o->n_vlan > 2)
		return 0;
	if (parse_mac(o->smac, "02:00:00:00:00:01", smac) ||
	    parse_mac(o->dmac, "02:00:00:00:00:02", dmac))
		return 0;
	v6 = strchr(o->src, ':');
	if (v6 ? inet_pton(AF_INET6, o->src, &s6) != 1 || inet_pton(AF_INET6, o->dst, &d6) != 1 :
		 inet_pton(AF_INET, o->src, &s4) != 1 || inet_pton(AF_INET, o->dst, &d4) != 1)
		return 0;
	l3 = pkt_l3_offset(o);
	if (cap < l3)
		return 0;
	et = put_l2(buf, o, dmac, smac);
	put16(buf + et, v6 ? 0x86dd : 0x0800);
	n = v6 ? build_ipv6(buf + l3, cap - l3, o, &s6, &d6) :
		 build_ipv4(buf + l3, cap - l3, o, &s4, &d4);
	return n ? l3 + n : 0;
}

size_t pkt_build_raw(uint8_t *buf, size_t cap, uint16_t ethertype, const void *payload,
		     size_t len)
{
	static const uint8_t dmac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	if (cap < ETH_HLEN_ + len)
		return 0;
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	put16(buf + 12, ethertype);
	if (len)
		memcpy(buf + ETH_HLEN_, payload, len);
	return ETH_HLEN_ + len;
}
