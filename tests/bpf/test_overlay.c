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

static int test_local_iface(int family, const uint8_t *addr, struct ov_local *out)
{
	static const uint8_t a[4] = { 192, 0, 2, 1 };

	if (family != 4 || memcmp(addr, a, 4))
		return -EADDRNOTAVAIL;
	memset(out, 0, sizeof(*out));
	out->ifindex = test_ifindex;
	snprintf(out->ifname, sizeof(out->ifname), "fx1");
	memcpy(out->mac, MAC_A, 6);
	out->mtu = underlay_mtu;
	return 0;
}

/* d (192.0.2.4) is in the neighbour table; nobody else is. */
static int test_next_hop(const struct ov_local *l, int family, const uint8_t *addr, uint8_t mac[6],
			 bool *onlink, bool ask)
{
	*onlink = true;
	if (addr[3] != 4)
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
	put16(udp, sport);
	put16(udp + 2, FRINGE_VXLAN_PORT);
	put16(udp + 4, 8 + 8 + len);
	put16(udp + 6, 0);
	memset(vx, 0, 8);
	vx[0] = 0x08;
	vx[4] = vni >> 16;
	vx[5] = vni >> 8;
	vx[6] = vni;
	memcpy(inner, in, len);
	memcpy(inner, inner_dmac, 6);
	memcpy(inner + 6, MAC_A, 6);
	if (!hop)
		return 50 + len;
	if ((inner[14] >> 4) == 4) {
		inner[14 + 8]--;
		put16(inner + 14 + 10, 0);
		put16(inner + 14 + 10, csum(inner + 14, (inner[14] & 0xf) * 4));
	} else {
		inner[14 + 7]--;
	}
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
	put16(udp, 54321);
	put16(udp + 2, FRINGE_VXLAN_PORT);
	put16(udp + 4, 16 + len);
	put16(udp + 6, 0);
	memset(vx, 0, 8);
	vx[0] = 0x08;
	vx[4] = vni >> 16;
	vx[5] = vni >> 8;
	vx[6] = vni;
	memcpy(vx + 8, in, len);
	return 50 + len;
}

/* ---- helpers ------------------------------------------------------------------------- */

static size_t udp4(uint8_t *buf, const char *src, const char *dst, size_t payload)
{
	static uint8_t data[2048];
	struct pkt_opts o = { .src = src, .dst = dst, .proto = IPPROTO_UDP, .sport = 1234,
			      .dport = 5678, .payload = data, .payload_len = payload };
	size_t len;

	for (size_t i = 0; i < payload; i++)
		data[i] = i;
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
	size_t len = udp4(in, "10.1.0.5", "10.2.0.7", 5), olen, vlen;

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
	len = udp4(in, "10.1.0.5", "10.2.0.7", 5);
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

		len = udp4(in, "10.1.0.5", "10.2.0.7", 5);
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
		udp4(in, "10.1.0.5", "10.2.0.7", 5);
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
	len = udp4(in, "10.2.0.7", "10.1.0.9", 5);	/* to this node's own prefix */
	run(f, in, len, f->ifindex, XDP_PASS, out, &olen);
	expect_bytes(out, olen, in, len);
	len = udp4(in, "10.1.0.5", "172.16.0.1", 5);	/* nobody's prefix */
	run(f, in, len, f->ifindex, XDP_PASS, out, &olen);
	expect_bytes(out, olen, in, len);
	len = udp4(in, "10.9.0.5", "10.2.0.7", 5);	/* b's prefix, but arriving on the underlay */
	run(f, in, len, f->ifindex2, XDP_PASS, out, &olen);
	expect_bytes(out, olen, in, len);
	/* A TTL of 1 is the kernel's to answer. */
	len = udp4(in, "10.1.0.5", "10.2.0.7", 5);
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
	len = udp4(in, "10.1.0.5", "10.2.0.7", 1450 - 28);
	assert_int_equal(len, 14 + 1450);
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	wlen = ref_encap(want, in, len, MAC_B, MAC_B, ub, 42, sport_of(in));
	expect_bytes(out, olen, want, wlen);
	assert_int_equal(olen, 14 + 1500);

	/* DF set (as pkt_build does): ICMP "fragmentation needed" back to the
	 * sender, with the tunnel's MTU and the packet's first 28 bytes. */
	len = udp4(in, "10.1.0.5", "10.2.0.7", 1451 - 28);
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
	len = udp4(in, "10.2.0.7", "10.1.0.5", 17);
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
	len = udp4(in, "10.2.0.7", "10.1.0.5", 17);
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
	len = udp4(in, "10.1.0.5", "172.16.0.1", 5);	/* nobody's prefix, steered to b */
	run(f, in, len, f->ifindex, XDP_REDIRECT, out, &olen);
	wlen = ref_encap(want, in, len, MAC_B, MAC_B, ub, 42, sport_of(in));
	expect_bytes(out, olen, want, wlen);
	assert_int_equal(fx_rule_packets(f, "s"), 1);
	/* Also what arrives on the underlay, when a rule says so. */
	run(f, in, len, f->ifindex2, XDP_REDIRECT, out, &olen);

	load_ok(f, "rule s dport 5678 steer overlay\n");
	len = udp4(in, "10.1.0.5", "10.2.0.3", 5);
	run(f, in, len, f->ifindex2, XDP_REDIRECT, out, &olen);	/* even from the underlay */
	wlen = ref_encap(want, in, len, MAC_B, MAC_B, ub, 42, sport_of(in));
	expect_bytes(out, olen, want, wlen);
	len = udp4(in, "10.1.0.5", "172.16.0.1", 5);		/* nobody's: refused */
	run(f, in, len, f->ifindex, XDP_DROP, out, &olen);
	assert_int_equal(drops(f, f->ifindex, FRINGE_DROP_REDIRECT), 1);
	len = udp4(in, "10.2.0.5", "10.1.0.1", 5);		/* this node's: delivered here */
	run(f, in, len, f->ifindex, XDP_PASS, out, &olen);
	expect_bytes(out, olen, in, len);

	/* A node without a known MAC is reached through the FIB per packet; the
	 * fixture's namespace has no route, so the steer is refused. */
	len = udp4(in, "10.1.0.5", "10.3.0.3", 5);
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
	len = udp4(in, "10.1.0.5", "10.2.0.7", 5);
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
	len = udp4(in, "10.1.0.5", "172.16.0.1", 5);
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
	len = udp4(in, "10.1.0.5", "10.2.0.7", 5);
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
	len = udp4(in, "10.1.0.5", "10.2.0.7", 5);
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

	assert_int_equal(system("ip route del 198.51.100.0/24 && ip neigh del 10.77.0.2 dev fx0 && "
				"ip addr del 10.77.0.1/24 dev fx0 && ip -6 addr del fd77::1/64 dev fx0"), 0);
}

/* The TC egress program, on the fixture's maps: the host's own packets leave in VXLAN. */
static void test_tc_egress(void **state)
{
	static const uint8_t ub[4] = { 192, 0, 2, 2 };
	struct fx *f = get_fx(state);
	uint8_t in[FRAME_CAP], out[FRAME_CAP], want[FRAME_CAP];
	struct fringe_tc *tc = fringe_tc__open();
	struct __sk_buff ctx = {};
	struct bpf_map *map;
	size_t len, wlen;
	int fd;

	assert_non_null(tc);
	bpf_object__for_each_map(map, tc->obj) {
		struct bpf_map *x = bpf_object__find_map_by_name(f->m.skel->obj, bpf_map__name(map));

		bpf_map__set_pin_path(map, NULL);
		if (x)
			assert_int_equal(bpf_map__reuse_fd(map, bpf_map__fd(x)), 0);
	}
	assert_int_equal(fringe_tc__load(tc), 0);
	fd = bpf_program__fd(tc->progs.fringe_tc_egress);
	nodes_ok(f, nodes_abcd);

#define TC_RUN(frame, flen, ifx, want_ret)                                                   \
	do {                                                                                 \
		LIBBPF_OPTS(bpf_test_run_opts, o_, .data_in = (frame), .data_size_in = (flen),  \
			    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,       \
			    .ctx_size_in = sizeof(ctx));                                         \
		ctx.ifindex = (ifx);                                                          \
		assert_int_equal(bpf_prog_test_run_opts(fd, &o_), 0);                         \
		assert_int_equal(o_.retval, (want_ret));                                     \
		olen = o_.data_size_out;                                                     \
	} while (0)
	{
		size_t olen;

		/* To b: the same outer headers as from XDP; no hop, so the TTL stays. */
		len = udp4(in, "192.0.2.1", "10.2.0.7", 5);
		TC_RUN(in, len, f->ifindex2, TC_ACT_OK);
		wlen = ref_encap_hop(want, in, len, MAC_B, MAC_B, ub, 42, sport_of(in), false);
		expect_bytes(out, olen, want, wlen);
		assert_int_equal(node_counter(f, "b", false).packets, 1);
		/* IPv6 inside. */
		{
			struct pkt_opts o = { .src = "fd00:1::1", .dst = "fd00:2::2",
					      .proto = IPPROTO_TCP, .sport = 33000, .dport = 22 };

			len = pkt_build(in, sizeof(in), &o);
			TC_RUN(in, len, f->ifindex2, TC_ACT_OK);
			wlen = ref_encap_hop(want, in, len, MAC_B, MAC_B, ub, 42, sport_of(in), false);
			expect_bytes(out, olen, want, wlen);
		}
		/* Sent on another interface: encapsulated, then redirected to the underlay. */
		len = udp4(in, "192.0.2.1", "10.2.0.7", 5);
		TC_RUN(in, len, f->ifindex, TC_ACT_REDIRECT);
		/* Not for the overlay: untouched. */
		len = udp4(in, "192.0.2.1", "10.1.0.9", 5);
		TC_RUN(in, len, f->ifindex2, TC_ACT_OK);
		expect_bytes(out, olen, in, len);
		len = udp4(in, "192.0.2.1", "172.16.0.1", 5);
		TC_RUN(in, len, f->ifindex2, TC_ACT_OK);
		expect_bytes(out, olen, in, len);
		/* Too big for the underlay once wrapped: dropped, reason mtu. */
		len = udp4(in, "192.0.2.1", "10.2.0.7", 1451 - 28);
		TC_RUN(in, len, f->ifindex2, TC_ACT_SHOT);
		assert_int_equal(drops(f, f->ifindex2, FRINGE_DROP_MTU), 1);
	}
#undef TC_RUN
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
	};
#undef T

	return cmocka_run_group_tests_name("overlay", tests, NULL, NULL);
}
