// SPDX-License-Identifier: GPL-2.0
/* Overlay data-plane tests: VXLAN output bytes, decapsulation, unknown nodes, MTU, steering. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "fixture.h"
#include "fixture_cmocka.h"
#include "fringe_tc.skel.h"
#include "fringe_xdp.skel.h"
#include "netlink.h"
#include "overlay.h"
#include "overlay_doc.h"
#include "pkt.h"

#define FRAME_CAP 4096

/* This node is "a" on fx1 (the underlay); fx0 faces the workloads. */
static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };	/* fx1, as the test env says */
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0x02, 0x02 };
static const uint8_t MAC_NEIGH[6] = { 0x02, 0, 0, 0, 0x04, 0x04 };	/* d's, "from the neighbour table" */
static unsigned int test_ifindex;
static unsigned int underlay_mtu = 1500;
static bool iface_addr6 = true;		/* fx1 has a global IPv6 address */

/* fx1 holds 192.0.2.1 and 2001:db8::1 (A6): whichever the nodes file gives self. */
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

static int test_local_iface(int family, const uint8_t *addr, struct ov_local *out)
{
	static const uint8_t a[4] = { 192, 0, 2, 1 };

	if (family == 4 ? memcmp(addr, a, 4) : memcmp(addr, A6, 16))
		return -EADDRNOTAVAIL;
	memset(out, 0, sizeof(*out));
	out->ifindex = test_ifindex;
	snprintf(out->ifname, sizeof(out->ifname), "fx1");
	memcpy(out->mac, MAC_A, 6);
	out->mtu = underlay_mtu;
	memcpy(out->addr6, A6, 16);
	out->has_addr6 = iface_addr6 || family == 6;
	return 0;
}

/* d (192.0.2.4) is in the neighbour table; nobody else is. */
static int test_next_hop(const struct ov_local *l, int family, const uint8_t *addr, uint8_t mac[6],
			 bool *onlink, bool ask)
{
	*onlink = true;
	if (family != 4 || addr[3] != 4)
		return -ENXIO;	/* never resolved: no waiting */
	memcpy(mac, MAC_NEIGH, 6);
	return 0;
}

static const struct ov_env test_env = {
	.local_iface = test_local_iface,
	.next_hop = test_next_hop,
};

static const char nodes_abcd[] =
	"self a\n"
	"node a underlay 192.0.2.1 prefix 10.1.0.0/24,fd00:1::/64\n"
	"node b underlay 192.0.2.2 mac 02:00:00:00:02:02 prefix 10.2.0.0/24,fd00:2::/64 vni 42\n"
	"node c underlay 192.0.2.3 prefix 10.3.0.0/24\n"	/* no MAC anywhere: FIB per packet */
	"node d underlay 192.0.2.4 prefix 10.4.0.0/24 vni 16777215\n";

static void nodes_ok(struct fx *f, const char *text)
{
	int err;

	test_ifindex = f->ifindex2;
	err = fx_load_nodes(f, text, &test_env);
	if (err)
		fail_msg("fx_load_nodes failed (%s) for:\n%s", strerror(-err), text);
}

/* ---- reference encoding ---------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

static uint32_t mix(uint32_t h, uint32_t w)
{
	w *= 0xcc9e2d51u;
	w = w << 15 | w >> 17;
	h ^= w * 0x1b873593u;
	h = h << 13 | h >> 19;
	return h * 5 + 0xe6546b64u;
}

/* The tunnel's source port as the data plane documents it (overlay.h). */
static uint16_t ref_sport(const uint8_t saddr[16], const uint8_t daddr[16], uint8_t proto,
			  uint16_t sport, uint16_t dport)
{
	uint64_t s0, s1, d0, d1, a, b;
	uint32_t h;

	memcpy(&s0, saddr, 8);
	memcpy(&s1, saddr + 8, 8);
	memcpy(&d0, daddr, 8);
	memcpy(&d1, daddr + 8, 8);
	a = s0 ^ s1;
	b = d0 ^ d1;
	h = mix(0x9e3779b9u ^ proto, (uint32_t)a ^ (uint32_t)(a >> 32));
	h = mix(h, (uint32_t)b ^ (uint32_t)(b >> 32));
	h = mix(h, (uint32_t)sport << 16 | dport);
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	h ^= h << 16;
	return (((uint64_t)h * (FRINGE_OV_SPORT_MAX - FRINGE_OV_SPORT_MIN)) >> 32) + FRINGE_OV_SPORT_MIN;
}

/* UDP (checksum 0) and VXLAN headers at udp for an inner frame of len bytes. */
static void put_udp_vxlan(uint8_t *udp, uint16_t sport, uint32_t vni, size_t len)
{
	uint8_t *vx = udp + 8;

	put16(udp, sport);
	put16(udp + 2, FRINGE_VXLAN_PORT);
	put16(udp + 4, 8 + 8 + len);
	put16(udp + 6, 0);
	memset(vx, 0, 8);
	vx[0] = 0x08;
	vx[4] = vni >> 16;
	vx[5] = vni >> 8;
	vx[6] = vni;
}

/* The inner frame as it leaves: its MACs rewritten, its TTL (hop limit) one lower with hop. */
static void put_inner(uint8_t *inner, const uint8_t *in, size_t len, const uint8_t inner_dmac[6],
		      bool hop)
{
	memcpy(inner, in, len);
	memcpy(inner, inner_dmac, 6);
	memcpy(inner + 6, MAC_A, 6);
	if (!hop)
		return;
	if ((inner[14] >> 4) == 4) {
		inner[14 + 8]--;
		put16(inner + 14 + 10, 0);
		put16(inner + 14 + 10, csum(inner + 14, (inner[14] & 0xf) * 4));
	} else {
		inner[14 + 7]--;
	}
}

/* The frame fringe must send for inner frame `in` (as it arrived) toward a
 * node: outer headers, then the inner frame with its MACs rewritten and its
 * TTL (hop limit) one lower. */
static size_t ref_encap_hop(uint8_t *out, const uint8_t *in, size_t len, const uint8_t outer_dmac[6],
			    const uint8_t inner_dmac[6], const uint8_t dst[4], uint32_t vni,
			    uint16_t sport, bool hop)
{
	uint8_t *ip = out + 14, *udp = ip + 20, *vx = udp + 8, *inner = vx + 8;
	static const uint8_t src[4] = { 192, 0, 2, 1 };

	memcpy(out, outer_dmac, 6);
	memcpy(out + 6, MAC_A, 6);
	put16(out + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, 20 + 8 + 8 + len);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, csum(ip, 20));
	put_udp_vxlan(udp, sport, vni, len);
	put_inner(inner, in, len, inner_dmac, hop);
	return 50 + len;
}

static size_t ref_encap(uint8_t *out, const uint8_t *in, size_t len, const uint8_t outer_dmac[6],
			const uint8_t inner_dmac[6], const uint8_t dst[4], uint32_t vni,
			uint16_t sport)
{
	return ref_encap_hop(out, in, len, outer_dmac, inner_dmac, dst, vni, sport, true);
}

/* VXLAN from underlay address `from` (192.0.2.x) with vni around `in`. */
static size_t vxlan_wrap(uint8_t *out, const uint8_t *in, size_t len, uint8_t from, uint32_t vni,
			 const uint8_t dst_last)
{
	uint8_t *ip = out + 14, *udp = ip + 20, *vx = udp + 8;

	memcpy(out, MAC_A, 6);
	memcpy(out + 6, MAC_B, 6);
	put16(out + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, 36 + len);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	ip[12] = 192, ip[13] = 0, ip[14] = 2, ip[15] = from;
	ip[16] = 192, ip[17] = 0, ip[18] = 2, ip[19] = dst_last;
	put16(ip + 10, csum(ip, 20));
	put_udp_vxlan(udp, 54321, vni, len);
	memcpy(vx + 8, in, len);
	return 50 + len;
}

/* ---- helpers ------------------------------------------------------------------------- */

/* A UDP frame from src to dst (IPv4 or IPv6) with payload bytes. */
static size_t udp_frame(uint8_t *buf, const char *src, const char *dst, size_t payload)
{
	static uint8_t data[2048];
	struct pkt_opts o = { .src = src, .dst = dst, .proto = IPPROTO_UDP, .sport = 1234,
			      .dport = 5678, .payload = data, .payload_len = payload };
	size_t len;

	for (size_t i = 0; i < payload; i++)
		data[i] = i * 7;
	len = pkt_build(buf, FRAME_CAP, &o);
	assert_true(len > 0);
	return len;
}

static uint16_t sport_of(const uint8_t *frame)
{
	uint8_t s[16] = {}, d[16] = {};

	if ((frame[14] >> 4) == 4) {
		memcpy(s, frame + 14 + 12, 4);
		memcpy(d, frame + 14 + 16, 4);
		return ref_sport(s, d, frame[14 + 9], frame[34] << 8 | frame[35],
				 frame[36] << 8 | frame[37]);
	}
	memcpy(s, frame + 14 + 8, 16);
	memcpy(d, frame + 14 + 24, 16);
	return ref_sport(s, d, frame[14 + 6], frame[54] << 8 | frame[55], frame[56] << 8 | frame[57]);
}

/* The same for a packet without ports (ICMP, GRE). */
static uint16_t sport_noports(const uint8_t *frame)
{
	uint8_t s[16] = {}, d[16] = {};

	if ((frame[14] >> 4) == 4) {
		memcpy(s, frame + 14 + 12, 4);
		memcpy(d, frame + 14 + 16, 4);
		return ref_sport(s, d, frame[14 + 9], 0, 0);
	}
	memcpy(s, frame + 14 + 8, 16);
	memcpy(d, frame + 14 + 24, 16);
	return ref_sport(s, d, frame[14 + 6], 0, 0);
}

static void run(struct fx *f, const uint8_t *in, size_t len, uint32_t ifindex, uint32_t want,
		uint8_t *out, size_t *out_len)
{
	uint32_t action;

	*out_len = FRAME_CAP;
	assert_int_equal(fx_run_out(f, in, len, ifindex, &action, out, out_len), 0);
	assert_int_equal(action, want);
}

static void expect_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	if (got_len != want_len || memcmp(got, want, want_len)) {
		fprintf(stderr, "output differs (got %zu bytes, want %zu):\n", got_len, want_len);
		for (size_t i = 0; i < (got_len > want_len ? got_len : want_len); i++)
			if (i >= got_len || i >= want_len || got[i] != want[i])
				fprintf(stderr, "  byte %zu: got %02x want %02x\n", i,
					i < got_len ? got[i] : 0, i < want_len ? want[i] : 0);
		fail();
	}
}

/* Packets and bytes fringe counted toward (tx) or from (rx) a node, over CPUs. */
static struct fringe_counter node_counter(struct fx *f, const char *name, bool rx)
{
	json_object *doc = overlay_show_doc(&f->m), *nodes = json_object_object_get(doc, "nodes");
	struct fringe_counter c = { UINT64_MAX, UINT64_MAX };

	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *o = json_object_array_get_idx(nodes, i);

		if (strcmp(json_object_get_string(json_object_object_get(o, "name")), name))
			continue;
		c.packets = json_object_get_uint64(json_object_object_get(o, rx ? "rx_packets" :
										     "tx_packets"));
		c.bytes = json_object_get_uint64(json_object_object_get(o, rx ? "rx_bytes" :
										   "tx_bytes"));
	}
	json_object_put(doc);
	return c;
}

static uint64_t drops(struct fx *f, uint32_t ifindex, int reason)
{
	struct fringe_iface_stats st;

	assert_int_equal(fx_iface_stats(f, ifindex, &st), 0);
	return st.drops[reason];
}

/* ---- tests --------------------------------------------------------------------------- */

/* Without a nodes file nothing changes: no overlay, UDP 4789 is just UDP. */
static void test_no_overlay(void **state)
{
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], out[FRAME_CAP], vx[FRAME_CAP];
	size_t len = udp_frame(in, "10.1.0.5", "10.2.0.7", 5), olen, vlen;

	run(f, in, len, f->ifindex, XDP_PASS, out, &olen);
	expect_bytes(out, olen, in, len);
	vlen = vxlan_wrap(vx, in, len, 2, 42, 1);
	run(f, vx, vlen, f->ifindex2, XDP_PASS, out, &olen);
	expect_bytes(out, olen, vx, vlen);
	/* `steer overlay` with no nodes file: refused at the steer. */
	load_ok(f, "rule s dport 5678 steer overlay\n");
	run(f, in, len, f->ifindex, XDP_DROP, out, &olen);
	assert_int_equal(drops(f, f->ifindex, FRINGE_DROP_REDIRECT), 1);
}

/* A workload's packet for another node's prefix leaves in VXLAN, byte for byte. */
static void test_encap_bytes(void **state)
{
	static const uint8_t ub[4] = { 192, 0, 2, 2 }, ud[4] = { 192, 0, 2, 4 };
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], out[FRAME_CAP], want[FRAME_CAP];
	size_t len, olen, wlen;
	struct fringe_counter tx0, tx1;

	nodes_ok(f, nodes_abcd);
	tx0 = node_counter(f, "b", false);
	assert_int_equal(tx0.packets, 0);

	/* IPv4 to b: b's MAC from the file, VNI 42. */
	len = udp_frame(in, "10.1.0.5", "10.2.0.7", 5);
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	wlen = ref_encap(want, in, len, MAC_B, MAC_B, ub, 42, sport_of(in));
	expect_bytes(out, olen, want, wlen);
	tx1 = node_counter(f, "b", false);
	assert_int_equal(tx1.packets, 1);
	assert_int_equal(tx1.bytes, len);

	/* TCP to d: the neighbour table's MAC, the largest VNI. */
	{
		struct pkt_opts o = { .src = "10.1.0.5", .dst = "10.4.0.9", .proto = IPPROTO_TCP,
				      .sport = 40000, .dport = 443 };

		len = pkt_build(in, sizeof(in), &o);
		run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
		wlen = ref_encap(want, in, len, MAC_NEIGH, MAC_NEIGH, ud, FRINGE_VNI_MAX, sport_of(in));
		expect_bytes(out, olen, want, wlen);
	}
	/* IPv6 inside, over the IPv4 underlay. */
	{
		struct pkt_opts o = { .src = "fd00:1::5", .dst = "fd00:2::9", .proto = IPPROTO_UDP,
				      .sport = 5353, .dport = 53 };

		len = pkt_build(in, sizeof(in), &o);
		run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
		wlen = ref_encap(want, in, len, MAC_B, MAC_B, ub, 42, sport_of(in));
		expect_bytes(out, olen, want, wlen);
	}
	/* The UDP source port follows the flow, within Linux's range. */
	{
		uint8_t a[FRAME_CAP], b[FRAME_CAP];
		size_t al, bl;
		uint16_t pa, pb;

		len = udp_frame(in, "10.1.0.5", "10.2.0.7", 5);
		run(f, in, len, f->ifindex, XDP_REDIRECT, a, &al);
		in[34] ^= 1;	/* another source port */
		in[40] = 0;	/* the UDP checksum does not matter here */
		run(f, in, len, f->ifindex, XDP_REDIRECT, b, &bl);
		pa = a[34] << 8 | a[35];
		pb = b[34] << 8 | b[35];
		assert_true(pa >= FRINGE_OV_SPORT_MIN && pa < FRINGE_OV_SPORT_MAX);
		assert_true(pb >= FRINGE_OV_SPORT_MIN && pb < FRINGE_OV_SPORT_MAX);
		assert_int_not_equal(pa, pb);
		assert_int_equal(pb, sport_of(in));
		udp_frame(in, "10.1.0.5", "10.2.0.7", 5);
		assert_int_equal(pa, sport_of(in));
	}
}

/* Local prefixes, unknown destinations and the underlay's own traffic pass untouched. */
static void test_not_encapsulated(void **state)
{
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], out[FRAME_CAP];
	size_t len, olen;

	nodes_ok(f, nodes_abcd);
	len = udp_frame(in, "10.2.0.7", "10.1.0.9", 5);	/* to this node's own prefix */
	run(f, in, len, f->ifindex, XDP_PASS, out, &olen);
	expect_bytes(out, olen, in, len);
	len = udp_frame(in, "10.1.0.5", "172.16.0.1", 5);	/* nobody's prefix */
	run(f, in, len, f->ifindex, XDP_PASS, out, &olen);
	expect_bytes(out, olen, in, len);
	len = udp_frame(in, "10.9.0.5", "10.2.0.7", 5);	/* b's prefix, but arriving on the underlay */
	run(f, in, len, f->ifindex2, XDP_PASS, out, &olen);
	expect_bytes(out, olen, in, len);
	/* A TTL of 1 is the kernel's to answer. */
	len = udp_frame(in, "10.1.0.5", "10.2.0.7", 5);
	in[14 + 8] = 1;
	run(f, in, len, f->ifindex, XDP_PASS, out, &olen);
	expect_bytes(out, olen, in, len);
}

/* An inner packet that would not fit the underlay MTU is dropped, reason mtu. */
static void test_mtu(void **state)
{
	static const uint8_t ub[4] = { 192, 0, 2, 2 };
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], out[FRAME_CAP], want[FRAME_CAP];
	size_t len, olen, wlen;

	nodes_ok(f, nodes_abcd);
	/* 1450 bytes of IP: exactly fits 1500 with 50 bytes of VXLAN around it. */
	len = udp_frame(in, "10.1.0.5", "10.2.0.7", 1450 - 28);
	assert_int_equal(len, 14 + 1450);
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	wlen = ref_encap(want, in, len, MAC_B, MAC_B, ub, 42, sport_of(in));
	expect_bytes(out, olen, want, wlen);
	assert_int_equal(olen, 14 + 1500);

	/* DF set (as pkt_build does): ICMP "fragmentation needed" back to the
	 * sender, with the tunnel's MTU and the packet's first 28 bytes. */
	len = udp_frame(in, "10.1.0.5", "10.2.0.7", 1451 - 28);
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);	/* back where it came from */
	assert_int_equal(drops(f, f->ifindex, FRINGE_DROP_MTU), 1);
	{
		static const uint8_t src[4] = { 192, 0, 2, 1 };
		uint8_t *ip = want + 14, *ic = ip + 20;

		memcpy(want, in + 6, 6);
		memcpy(want + 6, in, 6);
		put16(want + 12, 0x0800);
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[1] = 0xc0;
		put16(ip + 2, 20 + 8 + 28);
		ip[8] = 64;
		ip[9] = IPPROTO_ICMP;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, in + 14 + 12, 4);
		put16(ip + 10, csum(ip, 20));
		memset(ic, 0, 8);
		ic[0] = 3;
		ic[1] = 4;
		put16(ic + 6, 1450);
		memcpy(ic + 8, in + 14, 28);
		put16(ic + 2, csum(ic, 8 + 28));
		expect_bytes(out, olen, want, 14 + 20 + 8 + 28);
	}
	/* Without DF it is only dropped. */
	in[14 + 6] = 0;
	put16(in + 14 + 10, 0);
	put16(in + 14 + 10, csum(in + 14, 20));
	run(f, in, len, f->ifindex, XDP_DROP, out, &olen);
	assert_int_equal(drops(f, f->ifindex, FRINGE_DROP_MTU), 2);
	expect_bytes(out, olen, in, len);

	/* The MTU is the underlay interface's at load. */
	underlay_mtu = 9000;
	nodes_ok(f, nodes_abcd);
	underlay_mtu = 1500;
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
}

/* VXLAN from a listed node: the inner frame comes out, judged by the policy. */
static void test_decap(void **state)
{
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], vx[FRAME_CAP], out[FRAME_CAP], want[FRAME_CAP];
	size_t len, vlen, olen;
	struct fringe_counter rx;

	nodes_ok(f, nodes_abcd);
	len = udp_frame(in, "10.2.0.7", "10.1.0.5", 17);
	vlen = vxlan_wrap(vx, in, len, 2, 42, 1);
	/* No route to the workload in the fixture's namespace: handed to the stack. */
	run(f, vx, vlen, f->ifindex2, XDP_PASS, out, &olen);
	memcpy(want, in, len);
	memcpy(want, MAC_A, 6);		/* addressed to this host, as the outer frame was */
	expect_bytes(out, olen, want, len);
	rx = node_counter(f, "b", true);
	assert_int_equal(rx.packets, 1);
	assert_int_equal(rx.bytes, len);

	/* The policy judges the inner packet. */
	load_ok(f, "rule from-b src 10.2.0.0/24 dport 5678 drop\n");
	run(f, vx, vlen, f->ifindex2, XDP_DROP, out, &olen);
	assert_int_equal(fx_rule_packets(f, "from-b"), 1);
	assert_int_equal(drops(f, f->ifindex2, FRINGE_DROP_POLICY), 1);
	assert_int_equal(node_counter(f, "b", true).packets, 2);

	/* Not to this node's underlay address: just UDP, judged as it is. */
	load_ok(f, "default allow\n");
	vlen = vxlan_wrap(vx, in, len, 2, 42, 77);
	run(f, vx, vlen, f->ifindex2, XDP_PASS, out, &olen);
	expect_bytes(out, olen, vx, vlen);
}

/* VXLAN from an unlisted address, or a listed one with another VNI: dropped. */
static void test_unknown_node(void **state)
{
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], vx[FRAME_CAP], out[FRAME_CAP];
	size_t len, vlen, olen;

	nodes_ok(f, nodes_abcd);
	len = udp_frame(in, "10.2.0.7", "10.1.0.5", 17);
	vlen = vxlan_wrap(vx, in, len, 9, 42, 1);
	run(f, vx, vlen, f->ifindex2, XDP_DROP, out, &olen);
	assert_int_equal(drops(f, f->ifindex2, FRINGE_DROP_OVERLAY_UNKNOWN_NODE), 1);
	vlen = vxlan_wrap(vx, in, len, 2, 43, 1);	/* b's VNI is 42, this node's 1 */
	run(f, vx, vlen, f->ifindex2, XDP_DROP, out, &olen);
	vlen = vxlan_wrap(vx, in, len, 1, 1, 1);	/* from this node's own address */
	run(f, vx, vlen, f->ifindex2, XDP_DROP, out, &olen);
	assert_int_equal(drops(f, f->ifindex2, FRINGE_DROP_OVERLAY_UNKNOWN_NODE), 3);
	assert_int_equal(node_counter(f, "b", true).packets, 0);
	/* With this node's own VNI, as b sends when it is a Linux vxlan device. */
	vlen = vxlan_wrap(vx, in, len, 2, 1, 1);
	run(f, vx, vlen, f->ifindex2, XDP_PASS, out, &olen);
	assert_int_equal(node_counter(f, "b", true).packets, 1);
}

/* `steer node NAME` and `steer overlay`. */
static void test_steer(void **state)
{
	static const uint8_t ub[4] = { 192, 0, 2, 2 };
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], out[FRAME_CAP], want[FRAME_CAP];
	size_t len, olen, wlen;

	/* Before the nodes file, `steer node` cannot be resolved. */
	assert_int_not_equal(fx_load(f, "rule s dport 5678 steer node b\n"), 0);
	nodes_ok(f, nodes_abcd);
	assert_int_not_equal(fx_load(f, "rule s dport 5678 steer node zz\n"), 0);
	load_ok(f, "rule s dport 5678 steer node b\n");
	len = udp_frame(in, "10.1.0.5", "172.16.0.1", 5);	/* nobody's prefix, steered to b */
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	wlen = ref_encap(want, in, len, MAC_B, MAC_B, ub, 42, sport_of(in));
	expect_bytes(out, olen, want, wlen);
	assert_int_equal(fx_rule_packets(f, "s"), 1);
	/* Also what arrives on the underlay, when a rule says so. */
	run(f, in, len, f->ifindex2, XDP_REDIRECT, out, &olen);

	load_ok(f, "rule s dport 5678 steer overlay\n");
	len = udp_frame(in, "10.1.0.5", "10.2.0.3", 5);
	run(f, in, len, f->ifindex2, XDP_REDIRECT, out, &olen);	/* even from the underlay */
	wlen = ref_encap(want, in, len, MAC_B, MAC_B, ub, 42, sport_of(in));
	expect_bytes(out, olen, want, wlen);
	len = udp_frame(in, "10.1.0.5", "172.16.0.1", 5);		/* nobody's: refused */
	run(f, in, len, f->ifindex, XDP_DROP, out, &olen);
	assert_int_equal(drops(f, f->ifindex, FRINGE_DROP_REDIRECT), 1);
	len = udp_frame(in, "10.2.0.5", "10.1.0.1", 5);		/* this node's: delivered here */
	run(f, in, len, f->ifindex, XDP_PASS, out, &olen);
	expect_bytes(out, olen, in, len);

	/* A node without a known MAC is reached through the FIB per packet; the
	 * fixture's namespace has no route, so the steer is refused. */
	len = udp_frame(in, "10.1.0.5", "10.3.0.3", 5);
	run(f, in, len, f->ifindex, XDP_DROP, out, &olen);
	assert_int_equal(drops(f, f->ifindex, FRINGE_DROP_REDIRECT), 2);
}

/* A reload moves a prefix; node ids, counters and `steer node` survive. */
static void test_reload(void **state)
{
	static const uint8_t ud[4] = { 192, 0, 2, 4 };
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], out[FRAME_CAP], want[FRAME_CAP];
	size_t len, olen, wlen;
	json_object *doc;

	nodes_ok(f, nodes_abcd);
	load_ok(f, "rule s dport 9999 steer node d\n");
	len = udp_frame(in, "10.1.0.5", "10.2.0.7", 5);
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	assert_int_equal(node_counter(f, "b", false).packets, 1);
	/* b's prefix moves to d; b is listed first no more, e comes before it. */
	nodes_ok(f, "self a\n"
		    "node e underlay 192.0.2.5 mac 02:00:00:00:05:05 prefix 10.5.0.0/24\n"
		    "node a underlay 192.0.2.1 prefix 10.1.0.0/24\n"
		    "node d underlay 192.0.2.4 prefix 10.4.0.0/24,10.2.0.0/24 vni 16777215\n"
		    "node b underlay 192.0.2.2 mac 02:00:00:00:02:02 prefix 10.6.0.0/24 vni 42\n");
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	wlen = ref_encap(want, in, len, MAC_NEIGH, MAC_NEIGH, ud, FRINGE_VNI_MAX, sport_of(in));
	expect_bytes(out, olen, want, wlen);
	assert_int_equal(node_counter(f, "b", false).packets, 1);	/* kept */
	assert_int_equal(node_counter(f, "d", false).packets, 1);
	assert_int_equal(node_counter(f, "e", false).packets, 0);
	/* The policy loaded before the reload still steers to d. */
	len = udp_frame(in, "10.1.0.5", "172.16.0.1", 5);
	in[36] = 9999 >> 8, in[37] = 9999 & 0xff, in[40] = 0, in[41] = 0;
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	assert_int_equal(out[30 + 3], 4);	/* outer destination 192.0.2.4 */
	assert_int_equal(node_counter(f, "d", false).packets, 2);

	doc = overlay_show_doc(&f->m);
	assert_string_equal(json_object_get_string(json_object_object_get(doc, "self")), "a");
	assert_int_equal(json_object_array_length(json_object_object_get(doc, "nodes")), 4);
	json_object_put(doc);

	/* A node removed while a policy steers to it: refused, counted. */
	nodes_ok(f, "self a\nnode a underlay 192.0.2.1 prefix 10.1.0.0/24\n");
	run(f, in, len, f->ifindex, XDP_DROP, out, &olen);
	assert_int_equal(drops(f, f->ifindex, FRINGE_DROP_REDIRECT), 1);
}


/* A node's id (and so its counters) as `nodes show` gives it; -1 when not listed. */
static int64_t node_id(struct fx *f, const char *name)
{
	json_object *doc = overlay_show_doc(&f->m), *nodes = json_object_object_get(doc, "nodes");
	int64_t id = -1;

	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *o = json_object_array_get_idx(nodes, i);

		if (!strcmp(json_object_get_string(json_object_object_get(o, "name")), name))
			id = json_object_get_int64(json_object_object_get(o, "id"));
	}
	json_object_put(doc);
	return id;
}

static uint64_t doc_u64(struct fx *f, const char *key)
{
	json_object *doc = overlay_show_doc(&f->m);
	uint64_t v = json_object_get_uint64(json_object_object_get(doc, key));

	json_object_put(doc);
	return v;
}

/* Ids follow names: a node keeps its id while listed and when it comes back;
 * a new name takes an id never used before one a dropped name held. */
static void test_node_ids(void **state)
{
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], out[FRAME_CAP];
	int64_t a, b, c, d;
	size_t len, olen;

	nodes_ok(f, nodes_abcd);
	a = node_id(f, "a"), b = node_id(f, "b"), c = node_id(f, "c"), d = node_id(f, "d");
	assert_true(a >= 0 && b >= 0 && c >= 0 && d >= 0);
	len = udp_frame(in, "10.1.0.5", "10.2.0.7", 5);
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	assert_int_equal(node_counter(f, "b", false).packets, 1);

	nodes_ok(f, "self a\n"
		    "node d underlay 192.0.2.4 prefix 10.4.0.0/24\n"
		    "node a underlay 192.0.2.1 prefix 10.1.0.0/24\n"
		    "node e underlay 192.0.2.5 mac 02:00:00:00:05:05 prefix 10.5.0.0/24\n");
	assert_int_equal(node_id(f, "a"), a);
	assert_int_equal(node_id(f, "d"), d);
	assert_int_equal(node_id(f, "b"), -1);
	assert_true(node_id(f, "e") != b && node_id(f, "e") != c);
	assert_int_equal(node_counter(f, "e", false).packets, 0);

	/* b returns: its id, and its counters with it. */
	nodes_ok(f, nodes_abcd);
	assert_int_equal(node_id(f, "b"), b);
	assert_int_equal(node_id(f, "c"), c);
	assert_int_equal(node_counter(f, "b", false).packets, 1);
}

/* A load that fails in the kernel (the underlay cannot join the redirect map)
 * changes nothing: same generation, same nodes, same forwarding; counted. */
static void test_failed_load_changes_nothing(void **state)
{
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], out[FRAME_CAP];
	uint64_t gen, failures;
	size_t len, olen;
	int err;

	nodes_ok(f, nodes_abcd);
	gen = doc_u64(f, "generation");
	failures = doc_u64(f, "load_failures");
	test_ifindex = 0x7ffffff0;	/* no such interface */
	err = fx_load_nodes(f, "self a\n"
			       "node a underlay 192.0.2.1 prefix 10.1.0.0/24\n"
			       "node z underlay 192.0.2.9 mac 02:00:00:00:09:09 prefix 10.2.0.0/24\n",
			    &test_env);
	assert_true(err < 0);
	assert_int_equal(doc_u64(f, "generation"), gen);
	assert_int_equal(doc_u64(f, "load_failures"), failures + 1);
	assert_int_equal(node_id(f, "z"), -1);
	assert_true(node_id(f, "b") >= 0 && node_id(f, "d") >= 0);
	len = udp_frame(in, "10.1.0.5", "10.2.0.7", 5);
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	assert_int_equal(out[30 + 3], 2);	/* still to b, 192.0.2.2 */
	assert_int_equal(node_counter(f, "b", false).packets, 1);
}

/* The live environment asks the kernel over rtnetlink (netlink.c): routes,
 * gateways, unreachable destinations, resolved and unknown neighbours. */
static void test_live_netlink(void **state)
{
	static const uint8_t peer[4] = { 10, 77, 0, 2 }, unknown[4] = { 10, 77, 0, 3 };
	static const uint8_t far[4] = { 198, 51, 100, 7 }, gw_want[4] = { 10, 77, 0, 254 };
	static const uint8_t nowhere[4] = { 203, 0, 113, 1 };
	static const uint8_t peer_mac[6] = { 0x02, 0x77, 0, 0, 0, 0x02 };
	struct fx *f = get_fx(state);
	struct ov_local l = { .ifindex = f->ifindex };
	uint8_t gw[16], mac[6], v6[16];
	unsigned int oif = 0;
	bool onlink = false;

	snprintf(l.ifname, sizeof(l.ifname), "fx0");
	assert_int_equal(system("ip addr add 10.77.0.1/24 dev fx0 && "
				"ip -6 addr add fd77::1/64 dev fx0 nodad && "
				"ip neigh replace 10.77.0.2 lladdr 02:77:00:00:00:02 dev fx0 nud permanent && "
				"ip -6 neigh replace fd77::2 lladdr 02:77:00:00:00:02 dev fx0 nud permanent && "
				"ip route replace 198.51.100.0/24 via 10.77.0.254 dev fx0"), 0);

	assert_int_equal(nl_route_get(4, peer, &oif, gw), 0);
	assert_int_equal(oif, f->ifindex);
	assert_memory_equal(gw, (uint8_t[4]){ 0 }, 4);
	assert_int_equal(nl_route_get(4, far, &oif, gw), 0);
	assert_int_equal(oif, f->ifindex);
	assert_memory_equal(gw, gw_want, 4);
	assert_int_equal(nl_route_get(4, nowhere, &oif, gw), -ENETUNREACH);
	inet_pton(AF_INET6, "fd77::2", v6);
	assert_int_equal(nl_route_get(6, v6, &oif, gw), 0);
	assert_int_equal(oif, f->ifindex);

	assert_int_equal(nl_neigh_get(4, peer, f->ifindex, mac), 0);
	assert_memory_equal(mac, peer_mac, 6);
	assert_int_equal(nl_neigh_get(4, unknown, f->ifindex, mac), -ENOENT);
	assert_int_equal(nl_neigh_get(4, peer, f->ifindex2, mac), -ENOENT);	/* not on fx1 */

	/* The overlay's next hop: on-link with a MAC, or a gateway not yet resolved. */
	memset(mac, 0, sizeof(mac));
	assert_int_equal(overlay_live_env.next_hop(&l, 4, peer, mac, &onlink, false), 0);
	assert_true(onlink);
	assert_memory_equal(mac, peer_mac, 6);
	assert_int_equal(overlay_live_env.next_hop(&l, 4, far, mac, &onlink, false), -ENOENT);
	assert_false(onlink);
	assert_int_equal(overlay_live_env.next_hop(&l, 4, nowhere, mac, &onlink, false),
			 -ENETUNREACH);
	/* Over IPv6 too (an IPv6 underlay): the neighbour table's entry. */
	memset(mac, 0, sizeof(mac));
	assert_int_equal(overlay_live_env.next_hop(&l, 6, v6, mac, &onlink, false), 0);
	assert_true(onlink);
	assert_memory_equal(mac, peer_mac, 6);

	assert_int_equal(system("ip route del 198.51.100.0/24 && ip neigh del 10.77.0.2 dev fx0 && "
				"ip -6 neigh del fd77::2 dev fx0 && "
				"ip addr del 10.77.0.1/24 dev fx0 && ip -6 addr del fd77::1/64 dev fx0"), 0);
}

/* ---- IPv6 underlay ------------------------------------------------------------------ */

static const uint8_t B6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t D6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 4 };
static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0x03, 0x03 };
static const uint8_t MAC_D[6] = { 0x02, 0, 0, 0, 0x04, 0x04 };

static const char nodes_v6[] =
	"self a\n"
	"node a underlay 2001:db8::1 prefix 10.1.0.0/24,fd00:1::/64\n"
	"node b underlay 2001:db8::2 mac 02:00:00:00:02:02 prefix 10.2.0.0/24,fd00:2::/64 vni 42\n"
	"node e underlay 2001:db8::5 prefix 10.5.0.0/24\n";	/* no MAC: FIB per packet */

/* Mixed: self is dual-stack; b is IPv6 only, c IPv4 only, d both (IPv6 first). */
static const char nodes_mixed[] =
	"self a\n"
	"node a underlay 192.0.2.1,2001:db8::1 prefix 10.1.0.0/24,fd00:1::/64\n"
	"node b underlay 2001:db8::2 mac 02:00:00:00:02:02 prefix 10.2.0.0/24,fd00:2::/64 vni 42\n"
	"node c underlay 192.0.2.3 mac 02:00:00:00:03:03 prefix 10.3.0.0/24\n"
	"node d underlay 2001:db8::4,192.0.2.4 mac 02:00:00:00:04:04 prefix 10.4.0.0/24 vni 9\n";

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s += i & 1 ? p[i] : (uint32_t)p[i] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* The checksum of an upper-layer packet over IPv6 (RFC 8200 8.1) at l4 of
 * length n, as it should be written (check field zeroed in the sum). */
static uint16_t csum6(const uint8_t *ip6, const uint8_t *l4, size_t n, uint8_t proto, size_t check_at)
{
	uint32_t s = sum16(0, ip6 + 8, 32) + n + proto;
	uint8_t save[2] = { l4[check_at], l4[check_at + 1] };
	uint16_t c;

	((uint8_t *)l4)[check_at] = 0;
	((uint8_t *)l4)[check_at + 1] = 0;
	c = ~fold(sum16(s, l4, n)) & 0xffff;
	((uint8_t *)l4)[check_at] = save[0];
	((uint8_t *)l4)[check_at + 1] = save[1];
	return c;
}

/* Fill in the L4 checksum of an IP frame built by pkt_build (TCP, UDP,
 * ICMPv6); with partial, only the pseudo-header's sum, as a host's stack
 * leaves it for checksum offload. */
static void l4_csum(uint8_t *frame, size_t len, bool partial)
{
	uint8_t *ip = frame + 14, *l4, proto;
	size_t at, n;
	uint32_t s;

	if ((ip[0] >> 4) == 4) {
		l4 = ip + (ip[0] & 0xf) * 4;
		proto = ip[9];
		s = sum16(0, ip + 12, 8);
	} else {
		l4 = ip + 40;
		proto = ip[6];
		s = sum16(0, ip + 8, 32);
	}
	n = frame + len - l4;
	at = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
	s += proto + n;
	l4[at] = l4[at + 1] = 0;
	if (partial) {
		put16(l4 + at, fold(s));
		return;
	}
	put16(l4 + at, ~fold(sum16(s, l4, n)) & 0xffff);
}

/* Outer Ethernet, IPv6, UDP and VXLAN headers for an inner frame of len
 * bytes (the UDP checksum is the caller's, once the inner frame is there). */
static void put_outer6(uint8_t *out, const uint8_t dmac[6], const uint8_t smac[6],
		       const uint8_t src[16], const uint8_t dst[16], uint16_t sport, uint32_t vni,
		       size_t len)
{
	uint8_t *ip6 = out + 14;

	memcpy(out, dmac, 6);
	memcpy(out + 6, smac, 6);
	put16(out + 12, 0x86dd);
	memset(ip6, 0, 40);
	ip6[0] = 0x60;
	put16(ip6 + 4, 16 + len);
	ip6[6] = IPPROTO_UDP;
	ip6[7] = 64;
	memcpy(ip6 + 8, src, 16);
	memcpy(ip6 + 24, dst, 16);
	put_udp_vxlan(ip6 + 40, sport, vni, len);
}

/* The outer UDP checksum of a frame put_outer6 began, as it must be sent. */
static void put_udp6_csum(uint8_t *out, size_t len)
{
	uint16_t c = csum6(out + 14, out + 54, 16 + len, IPPROTO_UDP, 6);

	put16(out + 54 + 6, c ? c : 0xffff);
}

/* The frame fringe must send over IPv6 for inner frame `in` toward a node. */
static size_t ref_encap6(uint8_t *out, const uint8_t *in, size_t len, const uint8_t outer_dmac[6],
			 const uint8_t inner_dmac[6], const uint8_t dst[16], uint32_t vni,
			 uint16_t sport, bool hop)
{
	put_outer6(out, outer_dmac, MAC_A, A6, dst, sport, vni, len);
	put_inner(out + 70, in, len, inner_dmac, hop);
	put_udp6_csum(out, len);
	return 70 + len;
}

/* VXLAN over IPv6 from `from` to `to` with vni around `in`. */
static size_t vxlan6_wrap(uint8_t *out, const uint8_t *in, size_t len, const uint8_t from[16],
			  const uint8_t to[16], uint32_t vni)
{
	put_outer6(out, MAC_A, MAC_B, from, to, 54321, vni, len);
	memcpy(out + 70, in, len);
	put_udp6_csum(out, len);
	return 70 + len;
}


/* Over an IPv6 underlay: outer IPv6 and a UDP checksum a Linux vxlan device
 * accepts, byte for byte, for IPv4 and IPv6 inside, from the inner headers
 * (every length) or, for UDP over IPv4 without a checksum, summed whole
 * (lengths that end in every way the checksum loop can). */
static void test_v6_encap_bytes(void **state)
{
	static const size_t payloads[] = { 0, 1, 2, 3, 5, 255, 256, 257, 1001, 1430 - 48 };
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], out[FRAME_CAP], want[FRAME_CAP];
	size_t len, olen, wlen;

	nodes_ok(f, nodes_v6);
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		len = udp_frame(in, "fd00:1::5", "fd00:2::9", payloads[i]);
		l4_csum(in, len, false);	/* UDP over IPv6 always has one */
		run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
		wlen = ref_encap6(want, in, len, MAC_B, MAC_B, B6, 42, sport_of(in), true);
		expect_bytes(out, olen, want, wlen);
	}
	assert_int_equal(olen, 14 + 1500);	/* the last: exactly the MTU */
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		len = udp_frame(in, "10.1.0.5", "10.2.0.7", payloads[i] + 20);
		run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
		wlen = ref_encap6(want, in, len, MAC_B, MAC_B, B6, 42, sport_of(in), true);
		expect_bytes(out, olen, want, wlen);
	}
	/* TCP inside, its checksum complete: the outer one from the headers. */
	{
		struct pkt_opts o = { .src = "10.1.0.5", .dst = "10.2.0.7", .proto = IPPROTO_TCP,
				      .sport = 40000, .dport = 443, .payload = in + 100, .payload_len = 777 };
		uint8_t tcp[FRAME_CAP];

		len = pkt_build(tcp, sizeof(tcp), &o);
		l4_csum(tcp, len, false);
		run(f, tcp, len, f->ifindex, XDP_REDIRECT, out, &olen);
		wlen = ref_encap6(want, tcp, len, MAC_B, MAC_B, B6, 42, sport_of(tcp), true);
		expect_bytes(out, olen, want, wlen);
	}
	assert_int_equal(node_counter(f, "b", false).packets, 21);
	/* e has no MAC: the FIB per packet, and the fixture's namespace has no route. */
	len = udp_frame(in, "10.1.0.5", "10.5.0.7", 17);
	run(f, in, len, f->ifindex, XDP_DROP, out, &olen);
	assert_int_equal(drops(f, f->ifindex, FRINGE_DROP_REDIRECT), 1);
}

/* VXLAN over IPv6 from a listed node comes out; from anyone else it is dropped. */
static void test_v6_decap_unknown(void **state)
{
	static const uint8_t X6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], vx[FRAME_CAP], out[FRAME_CAP], want[FRAME_CAP];
	size_t len, vlen, olen;

	nodes_ok(f, nodes_v6);
	len = udp_frame(in, "fd00:2::7", "fd00:1::5", 33);
	vlen = vxlan6_wrap(vx, in, len, B6, A6, 42);
	run(f, vx, vlen, f->ifindex2, XDP_PASS, out, &olen);
	memcpy(want, in, len);
	memcpy(want, MAC_A, 6);
	expect_bytes(out, olen, want, len);
	assert_int_equal(node_counter(f, "b", true).packets, 1);
	/* The policy judges what came out. */
	load_ok(f, "rule from-b src fd00:2::/64 drop\n");
	run(f, vx, vlen, f->ifindex2, XDP_DROP, out, &olen);
	assert_int_equal(fx_rule_packets(f, "from-b"), 1);
	load_ok(f, "default allow\n");

	/* An unknown IPv6 source, and b with a VNI neither its own nor ours. */
	vlen = vxlan6_wrap(vx, in, len, X6, A6, 42);
	run(f, vx, vlen, f->ifindex2, XDP_DROP, out, &olen);
	vlen = vxlan6_wrap(vx, in, len, B6, A6, 43);
	run(f, vx, vlen, f->ifindex2, XDP_DROP, out, &olen);
	assert_int_equal(drops(f, f->ifindex2, FRINGE_DROP_OVERLAY_UNKNOWN_NODE), 2);
	/* Not to this node's address: just UDP. */
	vlen = vxlan6_wrap(vx, in, len, B6, X6, 42);
	run(f, vx, vlen, f->ifindex2, XDP_PASS, out, &olen);
	expect_bytes(out, olen, vx, vlen);
	/* VXLAN over IPv4 means nothing to an IPv6-only node: judged as it is. */
	vlen = vxlan_wrap(vx, in, len, 2, 42, 1);
	run(f, vx, vlen, f->ifindex2, XDP_PASS, out, &olen);
	expect_bytes(out, olen, vx, vlen);
	assert_int_equal(node_counter(f, "b", true).packets, 2);	/* decapsulated, then judged */
}

/* The Packet Too Big fringe must send for IPv6 frame `in`. */
static size_t ref_ptb(uint8_t *out, const uint8_t *in, size_t len, const uint8_t src[16], uint32_t mtu)
{
	uint8_t *ip6 = out + 14, *ic = ip6 + 40;
	size_t keep = len - 14 < 1232 ? len - 14 : 1232;

	memcpy(out, in + 6, 6);
	memcpy(out + 6, in, 6);
	put16(out + 12, 0x86dd);
	memset(ip6, 0, 40);
	ip6[0] = 0x60;
	put16(ip6 + 4, 8 + keep);
	ip6[6] = IPPROTO_ICMPV6;
	ip6[7] = 64;
	memcpy(ip6 + 8, src, 16);
	memcpy(ip6 + 24, in + 14 + 8, 16);
	memset(ic, 0, 8);
	ic[0] = 2;
	ic[4] = mtu >> 24;
	ic[5] = mtu >> 16;
	ic[6] = mtu >> 8;
	ic[7] = mtu;
	memcpy(ic + 8, in + 14, keep);
	put16(ic + 2, csum6(ip6, ic, 8 + keep, IPPROTO_ICMPV6, 2));
	return 14 + 48 + keep;
}

/* An inner IPv6 packet too big for the tunnel: ICMPv6 Packet Too Big back
 * to the sender, checksum valid; never about an ICMPv6 error. */
static void test_v6_packet_too_big(void **state)
{
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], out[FRAME_CAP], want[FRAME_CAP];
	size_t len, olen, wlen;

	nodes_ok(f, nodes_v6);
	len = udp_frame(in, "fd00:1::5", "fd00:2::9", 1431 - 48);	/* 1431 bytes of IPv6 */
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	wlen = ref_ptb(want, in, len, A6, 1430);
	assert_int_equal(wlen, 14 + 1280);	/* the quote fills a minimum-MTU packet */
	expect_bytes(out, olen, want, wlen);
	assert_int_equal(drops(f, f->ifindex, FRINGE_DROP_MTU), 1);
	assert_int_equal(node_counter(f, "b", false).packets, 0);

	/* An ICMPv6 error is only dropped; an echo request is answered. */
	{
		static uint8_t data[1400];
		struct pkt_opts o = { .src = "fd00:1::5", .dst = "fd00:2::9", .proto = IPPROTO_ICMPV6,
				      .payload = data, .payload_len = sizeof(data) };

		len = pkt_build(in, sizeof(in), &o);
		run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
		expect_bytes(out, olen, want, ref_ptb(want, in, len, A6, 1430));
		in[14 + 40] = 1;	/* destination unreachable */
		run(f, in, len, f->ifindex, XDP_DROP, out, &olen);
		expect_bytes(out, olen, in, len);
		assert_int_equal(drops(f, f->ifindex, FRINGE_DROP_MTU), 3);
	}
	/* From a multicast source: nobody to tell. */
	len = udp_frame(in, "ff02::1", "fd00:2::9", 1431 - 48);
	run(f, in, len, f->ifindex, XDP_DROP, out, &olen);
	assert_int_equal(drops(f, f->ifindex, FRINGE_DROP_MTU), 4);
	/* An inner IPv4 packet with DF, and self has no IPv4 address: answered
	 * from the packet's destination, as Linux's own tunnels do. */
	len = udp_frame(in, "10.1.0.5", "10.2.0.7", 1431 - 28);
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	assert_int_equal(olen, 14 + 20 + 8 + 28);
	assert_memory_equal(out + 14 + 12, in + 14 + 16, 4);	/* from 10.2.0.7 */
	assert_memory_equal(out + 14 + 16, in + 14 + 12, 4);	/* to 10.1.0.5 */
	assert_int_equal(out[14 + 20 + 6] << 8 | out[14 + 20 + 7], 1430);
	assert_int_equal(csum(out + 14, 20), 0);
	assert_int_equal(csum(out + 14 + 20, 8 + 28), 0);
	assert_int_equal(drops(f, f->ifindex, FRINGE_DROP_MTU), 5);

	/* Over an IPv4 underlay, IPv6 gets Packet Too Big too (MTU 1450), from
	 * the underlay interface's IPv6 address; a short packet is quoted whole. */
	nodes_ok(f, nodes_abcd);
	len = udp_frame(in, "fd00:1::5", "fd00:2::9", 1451 - 48);
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	expect_bytes(out, olen, want, ref_ptb(want, in, len, A6, 1450));
	underlay_mtu = 1270;
	nodes_ok(f, nodes_abcd);
	underlay_mtu = 1500;
	len = udp_frame(in, "fd00:1::5", "fd00:2::9", 1221 - 48);
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	wlen = ref_ptb(want, in, len, A6, 1220);
	assert_int_equal(wlen, 14 + 48 + 1221);
	expect_bytes(out, olen, want, wlen);
	/* No IPv6 address on this node at all: from the packet's destination. */
	iface_addr6 = false;
	nodes_ok(f, nodes_abcd);
	iface_addr6 = true;
	len = udp_frame(in, "fd00:1::5", "fd00:2::9", 1451 - 48);
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	expect_bytes(out, olen, want, ref_ptb(want, in, len, in + 14 + 24, 1450));
}

/* Mixed families: each node over the family it shares with self. */
static void test_mixed_families(void **state)
{
	static const uint8_t uc[4] = { 192, 0, 2, 3 };
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], vx[FRAME_CAP], out[FRAME_CAP], want[FRAME_CAP];
	size_t len, olen, vlen;
	json_object *doc, *nodes;

	nodes_ok(f, nodes_mixed);
	len = udp_frame(in, "10.1.0.5", "10.2.0.7", 40);		/* b: IPv6 */
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	expect_bytes(out, olen, want, ref_encap6(want, in, len, MAC_B, MAC_B, B6, 42, sport_of(in), true));
	len = udp_frame(in, "10.1.0.5", "10.3.0.7", 40);		/* c: IPv4 */
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	expect_bytes(out, olen, want, ref_encap(want, in, len, MAC_C, MAC_C, uc, 1, sport_of(in)));
	len = udp_frame(in, "10.1.0.5", "10.4.0.7", 40);		/* d: both, IPv6 first */
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	expect_bytes(out, olen, want, ref_encap6(want, in, len, MAC_D, MAC_D, D6, 9, sport_of(in), true));
	/* Inner IPv4 with DF too big for the IPv6 tunnel to b: frag needed, MTU
	 * 1430, from self's IPv4 address; for the IPv4 tunnel to c, 1450. */
	len = udp_frame(in, "10.1.0.5", "10.2.0.7", 1431 - 28);
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	assert_int_equal(olen, 14 + 20 + 8 + 28);
	assert_int_equal(out[14 + 20], 3);
	assert_int_equal(out[14 + 20 + 6] << 8 | out[14 + 20 + 7], 1430);
	assert_int_equal(csum(out + 14 + 20, 8 + 28), 0);
	len = udp_frame(in, "10.1.0.5", "10.3.0.7", 1431 - 28);
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	assert_int_equal(olen, 14 + 1431 + 50);

	/* VXLAN from d's IPv4 address and from b's IPv6 one: both are theirs. */
	len = udp_frame(in, "10.4.0.7", "10.1.0.5", 17);
	vlen = vxlan_wrap(vx, in, len, 4, 9, 1);
	run(f, vx, vlen, f->ifindex2, XDP_PASS, out, &olen);
	assert_int_equal(olen, len);
	assert_int_equal(node_counter(f, "d", true).packets, 1);
	len = udp_frame(in, "fd00:2::7", "fd00:1::5", 17);
	vlen = vxlan6_wrap(vx, in, len, B6, A6, 42);
	run(f, vx, vlen, f->ifindex2, XDP_PASS, out, &olen);
	assert_int_equal(node_counter(f, "b", true).packets, 1);
	/* b has no IPv4 address: 192.0.2.2 is nobody. */
	vlen = vxlan_wrap(vx, in, len, 2, 42, 1);
	run(f, vx, vlen, f->ifindex2, XDP_DROP, out, &olen);
	assert_int_equal(drops(f, f->ifindex2, FRINGE_DROP_OVERLAY_UNKNOWN_NODE), 1);

	/* nodes show: every address, the family used and each tunnel's inner MTU. */
	doc = overlay_show_doc(&f->m);
	nodes = json_object_object_get(doc, "nodes");
	assert_string_equal(json_object_to_json_string(json_object_object_get(
				    json_object_object_get(doc, "underlay"), "addresses")),
			    "[ \"192.0.2.1\", \"2001:db8::1\" ]");
	assert_int_equal(json_object_get_int(json_object_object_get(
				 json_object_object_get(doc, "underlay"), "inner_mtu")), 1430);
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *o = json_object_array_get_idx(nodes, i);
		const char *name = json_object_get_string(json_object_object_get(o, "name"));

		if (!strcmp(name, "d")) {
			assert_string_equal(json_object_get_string(json_object_object_get(o, "underlay")),
					    "2001:db8::4");
			assert_int_equal(json_object_array_length(json_object_object_get(o, "underlays")), 2);
			assert_int_equal(json_object_get_int(json_object_object_get(o, "inner_mtu")), 1430);
		} else if (!strcmp(name, "c")) {
			assert_int_equal(json_object_get_int(json_object_object_get(o, "family")), 4);
			assert_int_equal(json_object_get_int(json_object_object_get(o, "inner_mtu")), 1450);
		}
	}
	json_object_put(doc);
}

/* The TC egress program, loaded on the fixture's maps. */
static struct fringe_tc *tc_open(struct fx *f)
{
	struct fringe_tc *tc = fringe_tc__open();
	struct bpf_map *map;

	assert_non_null(tc);
	bpf_object__for_each_map(map, tc->obj) {
		struct bpf_map *x = bpf_object__find_map_by_name(f->m.skel->obj, bpf_map__name(map));

		bpf_map__set_pin_path(map, NULL);
		if (x)
			assert_int_equal(bpf_map__reuse_fd(map, bpf_map__fd(x)), 0);
	}
	assert_int_equal(fringe_tc__load(tc), 0);
	return tc;
}

/* One TC test run of frame leaving by ifindex; the program's return value. */
static int tc_run(struct fringe_tc *tc, const uint8_t *frame, size_t len, uint32_t ifindex,
		  uint8_t *out, size_t *olen)
{
	struct __sk_buff ctx = { .ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .data_out = out,
		    .data_size_out = FRAME_CAP, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(tc->progs.fringe_tc_egress), &o), 0);
	*olen = o.data_size_out;
	return o.retval;
}

/* The TC egress program, on the fixture's maps: the host's own packets leave in VXLAN. */
static void test_tc_egress(void **state)
{
	static const uint8_t ub[4] = { 192, 0, 2, 2 };
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], out[FRAME_CAP], want[FRAME_CAP];
	struct fringe_tc *tc = tc_open(f);
	size_t len, wlen, olen;

	nodes_ok(f, nodes_abcd);
	/* To b: the same outer headers as from XDP; no hop, so the TTL stays. */
	len = udp_frame(in, "192.0.2.1", "10.2.0.7", 5);
	assert_int_equal(tc_run(tc, in, len, f->ifindex2, out, &olen), TC_ACT_OK);
	wlen = ref_encap_hop(want, in, len, MAC_B, MAC_B, ub, 42, sport_of(in), false);
	expect_bytes(out, olen, want, wlen);
	assert_int_equal(node_counter(f, "b", false).packets, 1);
	/* IPv6 inside. */
	{
		struct pkt_opts o = { .src = "fd00:1::1", .dst = "fd00:2::2",
				      .proto = IPPROTO_TCP, .sport = 33000, .dport = 22 };

		len = pkt_build(in, sizeof(in), &o);
		assert_int_equal(tc_run(tc, in, len, f->ifindex2, out, &olen), TC_ACT_OK);
		wlen = ref_encap_hop(want, in, len, MAC_B, MAC_B, ub, 42, sport_of(in), false);
		expect_bytes(out, olen, want, wlen);
	}
	/* Sent on another interface: encapsulated, then redirected to the underlay. */
	len = udp_frame(in, "192.0.2.1", "10.2.0.7", 5);
	assert_int_equal(tc_run(tc, in, len, f->ifindex, out, &olen), TC_ACT_REDIRECT);
	/* Not for the overlay: untouched. */
	len = udp_frame(in, "192.0.2.1", "10.1.0.9", 5);
	assert_int_equal(tc_run(tc, in, len, f->ifindex2, out, &olen), TC_ACT_OK);
	expect_bytes(out, olen, in, len);
	len = udp_frame(in, "192.0.2.1", "172.16.0.1", 5);
	assert_int_equal(tc_run(tc, in, len, f->ifindex2, out, &olen), TC_ACT_OK);
	expect_bytes(out, olen, in, len);
	/* Too big for the underlay once wrapped: dropped, reason mtu. */
	len = udp_frame(in, "192.0.2.1", "10.2.0.7", 1451 - 28);
	assert_int_equal(tc_run(tc, in, len, f->ifindex2, out, &olen), TC_ACT_SHOT);
	assert_int_equal(drops(f, f->ifindex2, FRINGE_DROP_MTU), 1);
	fringe_tc__destroy(tc);
}

/* TC egress over an IPv6 underlay: the outer UDP checksum is right whether
 * the inner L4 checksum is complete or still to be filled in by offload. */
static void test_tc_egress_v6(void **state)
{
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], done[FRAME_CAP], out[FRAME_CAP], want[FRAME_CAP];
	struct fringe_tc *tc = tc_open(f);
	size_t len, wlen, olen;
	static uint8_t data[999];
	static const struct pkt_opts opts[] = {
		{ .src = "10.1.0.1", .dst = "10.2.0.7", .proto = IPPROTO_TCP, .sport = 40000, .dport = 80,
		  .payload = data, .payload_len = 999 },
		{ .src = "10.1.0.1", .dst = "10.2.0.7", .proto = IPPROTO_UDP, .sport = 5000, .dport = 53,
		  .payload = data, .payload_len = 3 },
		{ .src = "fd00:1::1", .dst = "fd00:2::2", .proto = IPPROTO_TCP, .sport = 33000, .dport = 22,
		  .payload = data, .payload_len = 998 },
		{ .src = "fd00:1::1", .dst = "fd00:2::2", .proto = IPPROTO_UDP, .sport = 33000, .dport = 53,
		  .payload = data, .payload_len = 1 },
		{ .src = "fd00:1::1", .dst = "fd00:2::2", .proto = IPPROTO_ICMPV6, .payload = data,
		  .payload_len = 56 },
		{ .src = "10.1.0.1", .dst = "10.2.0.7", .proto = IPPROTO_ICMP, .payload = data,
		  .payload_len = 57 },
		{ .src = "10.1.0.1", .dst = "10.2.0.7", .proto = IPPROTO_UDP, .frag = 1, .payload = data,
		  .payload_len = 301 },
		{ .src = "10.1.0.1", .dst = "10.2.0.7", .proto = IPPROTO_GRE, .payload = data,
		  .payload_len = 41 },
	};

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = i * 13 + 1;
	nodes_ok(f, nodes_v6);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		uint8_t p = opts[i].proto;
		bool lco = (p == IPPROTO_TCP || p == IPPROTO_UDP || p == IPPROTO_ICMPV6) && !opts[i].frag;

		len = pkt_build(in, sizeof(in), &opts[i]);
		assert_true(len > 0);
		if (lco)
			l4_csum(in, len, false);
		memcpy(done, in, len);
		/* The outer checksum covers the inner packet as it will leave. */
		wlen = ref_encap6(want, done, len, MAC_B, MAC_B, B6, 42,
				  p == IPPROTO_TCP || p == IPPROTO_UDP ? sport_of(in) : sport_noports(in),
				  false);
		assert_int_equal(tc_run(tc, in, len, f->ifindex2, out, &olen), TC_ACT_OK);
		expect_bytes(out, olen, want, wlen);
		if (!lco)
			continue;
		/* With only the pseudo-header's sum in the inner checksum (offload to come). */
		l4_csum(in, len, true);
		assert_int_equal(tc_run(tc, in, len, f->ifindex2, out, &olen), TC_ACT_OK);
		expect_bytes(out, 70, want, 70);
	}
	/* Too big for the IPv6 tunnel: 1431 bytes of IP. */
	len = udp_frame(in, "10.1.0.1", "10.2.0.7", 1431 - 28);
	assert_int_equal(tc_run(tc, in, len, f->ifindex2, out, &olen), TC_ACT_SHOT);
	assert_int_equal(drops(f, f->ifindex2, FRINGE_DROP_MTU), 1);
	len = udp_frame(in, "10.1.0.1", "10.2.0.7", 1430 - 28);
	assert_int_equal(tc_run(tc, in, len, f->ifindex2, out, &olen), TC_ACT_OK);
	fringe_tc__destroy(tc);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_no_overlay),
		T(test_encap_bytes),
		T(test_not_encapsulated),
		T(test_mtu),
		T(test_decap),
		T(test_unknown_node),
		T(test_steer),
		T(test_reload),
		T(test_node_ids),
		T(test_failed_load_changes_nothing),
		T(test_live_netlink),
		T(test_tc_egress),
		T(test_v6_encap_bytes),
		T(test_v6_decap_unknown),
		T(test_v6_packet_too_big),
		T(test_mixed_families),
		T(test_tc_egress_v6),
	};
#undef T

	return cmocka_run_group_tests_name("overlay", tests, NULL, NULL);
}
