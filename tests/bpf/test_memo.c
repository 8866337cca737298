// SPDX-License-Identifier: GPL-2.0
/* The rule memo (fringe_rule_memo): it answers, and only for the packet it was asked about. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "fixture.h"
#include "fixture_cmocka.h"
#include "fringe_xdp.skel.h"
#include "pkt.h"

/* Rows override the fields of a base packet. */
#pragma GCC diagnostic ignored "-Woverride-init"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FRAME_CAP 2048

#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }
#define PAYLOAD(...) .payload = BYTES(__VA_ARGS__), .payload_len = sizeof(BYTES(__VA_ARGS__))
#define V4(...) { .src = "192.168.1.1", .dst = "192.168.2.2", .proto = IPPROTO_TCP, \
		  .sport = 40000, .dport = 9, __VA_ARGS__ }
#define V6(...) { .src = "2001:db8:1::1", .dst = "2001:db8:2::2", .proto = IPPROTO_TCP, \
		  .sport = 40000, .dport = 9, __VA_ARGS__ }
#define MQTT(...) V4(.dport = 1883, .tcp_flags = 0x18, __VA_ARGS__)
#define MQTT_PUBLISH PAYLOAD(0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', '4', '2')
#define MQTT_PINGREQ PAYLOAD(0xc0, 0x00)
#define COAP(...) V4(.proto = IPPROTO_UDP, .dport = 5683, __VA_ARGS__)
#define COAP_GET PAYLOAD(0x40, 0x01, 0x12, 0x34, 0xb4, 't', 'e', 'm', 'p')
#define NOT_COAP PAYLOAD(0xff, 0xff, 0xff, 0xff, 0xff)

/* The memo's entry as bpf/lib/maps.h lays it out (struct rule_memo). */
struct memo_entry {
	uint64_t generation;
	uint64_t words[7];	/* flow, mac, saddr, daddr, who */
	uint32_t rule;
	uint32_t device, claimed;
	uint32_t counter_id;	/* the rule's action, as the slot holds it */
	uint8_t action;		/* 0xff: none kept, the program reads the rule's */
	uint8_t flags;
	uint8_t pad[6];
};
#define MEMO_NO_ACTION 0xff

struct memo {
	int fd;
	int ncpus;
	uint32_t slots;
	struct memo_entry *v;	/* one slot: an entry per possible CPU */
};

static void memo_open(struct fx *f, struct memo *m)
{
	const struct bpf_map *map = f->m.skel->maps.fringe_rule_memo;

	assert_int_equal(bpf_map__value_size(map), sizeof(struct memo_entry));
	m->fd = bpf_map__fd(map);
	m->ncpus = libbpf_num_possible_cpus();
	m->slots = bpf_map__max_entries(map);
	assert_true(m->fd >= 0 && m->ncpus > 0);
	m->v = calloc(m->ncpus, sizeof(*m->v));
	assert_non_null(m->v);
}

/* The entry this CPU wrote under the policy in force: exactly one. */
static struct memo_entry memo_current(struct fx *f, const struct memo *m)
{
	uint64_t gen = fx_generation(f);
	struct memo_entry e = {};
	int found = 0;

	for (uint32_t i = 0; i < m->slots; i++) {
		assert_int_equal(bpf_map_lookup_elem(m->fd, &i, m->v), 0);
		if (m->v[f->cpu].generation == gen) {
			e = m->v[f->cpu];
			found++;
		}
	}
	if (found != 1)
		fail_msg("%d memo entries of generation %llu, want 1", found, (unsigned long long)gen);
	return e;
}

/* Every slot of every CPU holds e: whatever a packet hashes to, it meets e. */
static void memo_fill(const struct memo *m, const struct memo_entry *e)
{
	for (int c = 0; c < m->ncpus; c++)
		m->v[c] = *e;
	for (uint32_t i = 0; i < m->slots; i++)
		assert_int_equal(bpf_map_update_elem(m->fd, &i, m->v, BPF_ANY), 0);
}

/* Run one packet; fail unless `rule` counted it (and no other rule did). */
static void expect_rule(struct fx *f, const char *what, const struct pkt_opts *o, int in,
			const char *rule)
{
	uint8_t fr[FRAME_CAP];
	size_t len = pkt_build(fr, sizeof(fr), o);
	uint64_t before = fx_rule_packets(f, rule), after;
	uint32_t action;

	assert_true(len > 0);
	assert_int_not_equal(before, UINT64_MAX);
	assert_int_equal(fx_run(f, fr, len, in ? f->ifindex2 : f->ifindex, &action), 0);
	after = fx_rule_packets(f, rule);
	if (after != before + 1)
		fail_msg("%s: rule %s counted %llu packets, want 1", what, rule,
			 (unsigned long long)(after - before));
}

/* A memo full of A's answer must not answer B, which differs from A in one
 * thing a rule of the policy looks at. */
struct apart_case {
	const char *name, *policy;
	struct pkt_opts a, b;
	int a_in, b_in;		/* 1: arrives on fx1 */
	const char *rule_a, *rule_b;
};

static const struct apart_case apart[] = {
	{ "source port", "rule r proto tcp sport 1000 allow\ndefault drop\n",
	  V4(.sport = 1000), V4(.sport = 1001), 0, 0, "r", "default" },
	{ "destination port", "rule r dport 80 allow\ndefault drop\n",
	  V4(.dport = 80), V4(.dport = 81), 0, 0, "r", "default" },
	{ "protocol", "rule r proto udp allow\ndefault drop\n",
	  V4(.proto = IPPROTO_UDP), V4(.proto = IPPROTO_TCP), 0, 0, "r", "default" },
	/* Port 0 in a first fragment; a later one has none (its parse reads 0s). */
	{ "ports or none", "rule r proto udp dport 0 allow\ndefault drop\n",
	  V4(.proto = IPPROTO_UDP, .sport = 0, .dport = 0, .frag = 1),
	  V4(.proto = IPPROTO_UDP, .sport = 0, .dport = 0, .frag = 2), 0, 0, "r", "default" },
	{ "IPv4 source", "rule r src 10.0.0.1 allow\ndefault drop\n",
	  V4(.src = "10.0.0.1"), V4(.src = "10.0.0.2"), 0, 0, "r", "default" },
	{ "IPv4 destination", "rule r dst 10.0.0.1 allow\ndefault drop\n",
	  V4(.dst = "10.0.0.1"), V4(.dst = "10.0.0.2"), 0, 0, "r", "default" },
	{ "IPv6 source, first half", "rule r src 2001:db8:1::1 allow\ndefault drop\n",
	  V6(.src = "2001:db8:1::1"), V6(.src = "2001:db8:3::1"), 0, 0, "r", "default" },
	{ "IPv6 destination, second half", "rule r dst 2001:db8:2::2 allow\ndefault drop\n",
	  V6(.dst = "2001:db8:2::2"), V6(.dst = "2001:db8:2::3"), 0, 0, "r", "default" },
	/* The same bytes: 10.0.0.1 and a00:1:: differ in the family alone. */
	{ "family", "rule r src 10.0.0.1 allow\ndefault drop\n",
	  V4(.src = "10.0.0.1", .dst = "10.0.0.2"), V6(.src = "a00:1::", .dst = "a00:2::"), 0, 0,
	  "r", "default" },
	{ "source MAC", "rule r mac 02:00:00:00:00:aa allow\ndefault drop\n",
	  V4(.smac = "02:00:00:00:00:aa"), V4(.smac = "02:00:00:00:00:bb"), 0, 0, "r", "default" },
	/* The device is not in the key: the MAC and the address it is told by are. */
	{ "a spoofed device's address",
	  "device d1 mac 02:00:00:00:00:aa ip 192.168.1.1\nrule r device d1 allow\ndefault drop\n",
	  V4(.smac = "02:00:00:00:00:aa"), V4(.smac = "02:00:00:00:00:bb"), 0, 0, "r", "default" },
	{ "VLAN", "rule r vlan 10 allow\ndefault drop\n",
	  V4(.n_vlan = 1, .vlan = { 10 }), V4(.n_vlan = 1, .vlan = { 11 }), 0, 0, "r", "default" },
	{ "interface", "rule r in fx1 allow\ndefault drop\n", V4(), V4(), 1, 0, "r", "default" },
	{ "application", "rule r app coap allow\ndefault drop\n",
	  COAP(COAP_GET), COAP(NOT_COAP), 0, 0, "r", "default" },
	{ "mqtt-type", "rule r mqtt-type publish allow\ndefault drop\n",
	  MQTT(MQTT_PUBLISH), MQTT(MQTT_PINGREQ), 0, 0, "r", "default" },
};

static void test_memo_tells_packets_apart(void **state)
{
	struct fx *f = get_fx(state);
	struct memo m;

	memo_open(f, &m);
	for (size_t i = 0; i < ARRAY_SIZE(apart); i++) {
		const struct apart_case *c = &apart[i];
		struct memo_entry e;
		char what[96];

		load_ok(f, c->policy);
		snprintf(what, sizeof(what), "%s: packet A", c->name);
		expect_rule(f, what, &c->a, c->a_in, c->rule_a);
		e = memo_current(f, &m);
		memo_fill(&m, &e);
		snprintf(what, sizeof(what), "%s: packet B, the memo full of A", c->name);
		expect_rule(f, what, &c->b, c->b_in, c->rule_b);
	}
	free(m.v);
}

/* The memo answers: an entry saying otherwise is believed (which is why its
 * every word must be the packet's) until the next load.  It answers the
 * rule, and the action of a rule that only allows or drops. */
static void test_memo_answers_until_a_load(void **state)
{
	static const char policy[] = "rule first dport 80 allow\n"
				     "rule second dport 81 drop\n"
				     "default drop\n";
	const struct pkt_opts a = V4(.dport = 80);
	struct fx *f = get_fx(state);
	struct memo_entry e;
	uint32_t first;
	struct memo m;

	memo_open(f, &m);
	load_ok(f, policy);
	expect_rule(f, "first packet", &a, 0, "first");
	expect_rule(f, "second packet", &a, 0, "first");
	e = memo_current(f, &m);
	assert_int_equal(fx_rule_id(f, "first", &first), 0);
	assert_int_equal(e.rule, 0);
	assert_int_equal(e.counter_id, first);
	assert_int_equal(e.action, FRINGE_ACT_ALLOW);
	assert_int_equal(e.flags, 0);
	e.rule++;		/* "second", its action read from the policy */
	e.action = MEMO_NO_ACTION;
	memo_fill(&m, &e);
	expect_rule(f, "the memo says second", &a, 0, "second");
	e.action = FRINGE_ACT_ALLOW;	/* and now the entry's action: first's counter */
	memo_fill(&m, &e);
	expect_rule(f, "the memo says second with first's action", &a, 0, "first");

	/* The same policy again: a new generation, every entry a miss. */
	load_ok(f, policy);
	expect_rule(f, "after a load", &a, 0, "first");
	free(m.v);
}

/* A device policy's packet whose sender the device memo knows but whose
 * flow the rule memo does not (the device's second flow) is written to the
 * entry its lookups read: changed there in place, the entry answers. */
static void test_memo_device_flow_in_place(void **state)
{
	static const char policy[] = "device d1 mac 02:00:00:00:00:aa ip 192.168.1.1\n"
				     "rule a device d1 dport 80 allow\n"
				     "rule b device d1 dport 81 allow\n"
				     "rule c dport 81 drop\n"
				     "default drop\n";
	const struct pkt_opts a = V4(.smac = "02:00:00:00:00:aa", .dport = 80);
	const struct pkt_opts b = V4(.smac = "02:00:00:00:00:aa", .dport = 81);
	struct fx *f = get_fx(state);
	uint64_t gen;
	uint32_t at = UINT32_MAX;
	struct memo m;

	memo_open(f, &m);
	load_ok(f, policy);
	gen = fx_generation(f);
	expect_rule(f, "the device's first flow", &a, 0, "a");
	expect_rule(f, "its second flow", &b, 0, "b");
	for (uint32_t i = 0; i < m.slots; i++) {
		assert_int_equal(bpf_map_lookup_elem(m.fd, &i, m.v), 0);
		if (m.v[f->cpu].generation == gen && m.v[f->cpu].rule == 1) {	/* "b" */
			assert_int_equal(at, UINT32_MAX);
			at = i;
		}
	}
	assert_int_not_equal(at, UINT32_MAX);
	assert_int_equal(bpf_map_lookup_elem(m.fd, &at, m.v), 0);
	m.v[f->cpu].rule = 2;	/* "c", its action read from the policy */
	m.v[f->cpu].action = MEMO_NO_ACTION;
	assert_int_equal(bpf_map_update_elem(m.fd, &at, m.v, BPF_ANY), 0);
	expect_rule(f, "the second flow again: its entry answers", &b, 0, "c");
	free(m.v);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_memo_tells_packets_apart),
		T(test_memo_answers_until_a_load),
		T(test_memo_device_flow_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
