// SPDX-License-Identifier: GPL-2.0
/* sFlow v5 encoder: the exact bytes of a datagram, a flow sample and a counter sample, and packing limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "sflow.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static const struct sflow_agent agent4 = { .family = AF_INET, .addr = { 192, 0, 2, 1 },
					   .sub_agent_id = 3 };

static void test_flow_sample_bytes(void **state)
{
	static const uint8_t hdr[6] = { 1, 2, 3, 4, 5, 6 };
	struct sflow_flow f = {
		.sequence = 9, .source_ifindex = 0x01000005, .sampling_rate = 100,
		.sample_pool = 12345, .drops = 2, .input = 5, .output = 0,
		.frame_length = 64, .stripped = 4, .header = hdr, .header_len = sizeof(hdr),
	};
	/* datagram header (28) + flow sample (8 + 32 + 8 + 16 + 8) */
	static const uint32_t want[] = {
		5, 1, 0xc0000201, 3, 77, 1234, 1,		/* version, IPv4 agent, sub-agent, seq, uptime, 1 sample */
		1, 64,						/* flow_sample, length */
		9, 5, 100, 12345, 2, 5, 0, 1,			/* seq, source (class 0, 24-bit index), rate, pool, drops, in, out, 1 record */
		1, 24, 1, 64, 4, 6,				/* sampled_header, length, ethernet, frame length, stripped, 6 bytes */
		0x01020304, 0x05060000,				/* the bytes, padded */
	};
	struct sflow_dgram d;
	size_t len;

	sflow_begin(&d, &agent4);
	assert_true(sflow_add_flow(&d, &f));
	len = sflow_finish(&d, 77, 1234);
	assert_int_equal(len, sizeof(want));
	assert_int_equal(sflow_flow_size(sizeof(hdr)), 72);
	for (size_t i = 0; i < sizeof(want) / 4; i++)
		if (be32(d.buf + 4 * i) != want[i])
			fail_msg("word %zu: 0x%08x, want 0x%08x", i, be32(d.buf + 4 * i), want[i]);
}

static void test_counter_sample_bytes(void **state)
{
	struct sflow_if_counters c = {
		.sequence = 2, .ifindex = 7, .type = SFLOW_IFTYPE_ETHERNET, .speed = 10000000000ULL,
		.direction = 1, .status = 3, .in_octets = 0x100000002ULL, .in_ucast = 10,
		.in_mcast = SFLOW_UNKNOWN32, .in_bcast = SFLOW_UNKNOWN32, .in_discards = 4,
		.in_errors = 1, .in_unknown_protos = SFLOW_UNKNOWN32, .out_octets = 99,
		.out_ucast = 8, .out_mcast = SFLOW_UNKNOWN32, .out_bcast = SFLOW_UNKNOWN32,
		.promiscuous = 2,
	};
	static const uint32_t want[] = {
		2, 108, 2, 7, 1,				/* counters_sample, length, seq, source, 1 record */
		1, 88,						/* generic interface counters */
		7, 6, 2, 0x540be400, 1, 3,			/* ifIndex, type, speed (64-bit), direction, status */
		1, 2, 10, ~0u, ~0u, 4, 1, ~0u,			/* in octets (64-bit), ucast, mcast, bcast, discards, errors, unknown */
		0, 99, 8, ~0u, ~0u, 0, 0, 2,			/* out octets (64-bit), ucast, mcast, bcast, discards, errors, promiscuous */
	};
	struct sflow_dgram d;
	size_t len;

	sflow_begin(&d, &agent4);
	assert_true(sflow_add_counters(&d, &c));
	len = sflow_finish(&d, 1, 0);
	assert_int_equal(len, 28 + sizeof(want));
	for (size_t i = 0; i < sizeof(want) / 4; i++)
		if (be32(d.buf + 28 + 4 * i) != want[i])
			fail_msg("word %zu: 0x%08x, want 0x%08x", i, be32(d.buf + 28 + 4 * i), want[i]);
}

static void test_ipv6_agent_and_packing(void **state)
{
	struct sflow_agent a6 = { .family = AF_INET6, .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	static uint8_t hdr[128];
	struct sflow_flow f = { .header = hdr, .header_len = sizeof(hdr), .frame_length = 1518 };
	struct sflow_dgram d;
	int n = 0;

	sflow_begin(&d, &a6);
	assert_int_equal(sflow_header_len(&a6), 40);
	assert_int_equal(sflow_finish(&d, 1, 0), 0);	/* nothing to send */
	while (sflow_add_flow(&d, &f))
		n++;
	/* (1400 - 40) / (64 + 128) samples fit; the datagram stays under the limit. */
	assert_int_equal(n, (SFLOW_DATAGRAM_MAX - 40) / 192);
	assert_true(sflow_finish(&d, 1, 0) <= SFLOW_DATAGRAM_MAX);
	assert_int_equal(be32(d.buf + 4), 2);		/* address type IPv6 */
	assert_memory_equal(d.buf + 8, a6.addr, 16);
	assert_int_equal(be32(d.buf + 36), n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_sample_bytes),
		cmocka_unit_test(test_counter_sample_bytes),
		cmocka_unit_test(test_ipv6_agent_and_packing),
	};

	return cmocka_run_group_tests_name("sflow", tests, NULL, NULL);
}
