// SPDX-License-Identifier: GPL-2.0
/* DNS names in sets: queries remembered, answers learned (CNAME chains, wildcards, TTLs), forged and broken answers refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "fixture.h"
#include "staged.h"
#include "fixture_cmocka.h"
#include "fringe_xdp.skel.h"
#include "pkt.h"

#define CLIENT "10.1.0.2"
#define CLIENT6 "fd01::2"
#define SERVER "10.9.0.53"
#define SERVER6 "fd09::53"
#define FRAME_CAP 4096

#define POLICY_HEAD								\
	"rule dns-out proto udp dport 53 allow\n"				\
	"rule dns-in proto udp sport 53 allow\n"

/* ---- a DNS message builder ------------------------------------------------ */

struct msg {
	uint8_t b[2048];
	size_t n;
};

static void put8(struct msg *m, uint8_t v) { m->b[m->n++] = v; }
static void put16(struct msg *m, uint16_t v) { put8(m, v >> 8); put8(m, v & 0xff); }
static void put32(struct msg *m, uint32_t v) { put16(m, v >> 16); put16(m, v & 0xffff); }

static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);

		put8(m, len);
		memcpy(m->b + m->n, name, len);
		m->n += len;
		name += len + (dot ? 1 : 0);
	}
	put8(m, 0);
}

/* Header and one question (A); id, QR and the answer count given. */
static void msg_start(struct msg *m, uint16_t id, bool answer, uint16_t ancount, const char *qname,
		      uint16_t qtype)
{
	m->n = 0;
	put16(m, id);
	put16(m, answer ? 0x8180 : 0x0100);
	put16(m, 1);
	put16(m, ancount);
	put16(m, 0);
	put16(m, 0);
	put_name(m, qname);
	put16(m, qtype);
	put16(m, 1);
}

/* A record whose owner is a compression pointer to offset 12 (the question) or a name. */
static void rr_head(struct msg *m, const char *owner, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	if (owner)
		put_name(m, owner);
	else
		put16(m, 0xc00c);
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
	put16(m, rdlen);
}

static void rr_a(struct msg *m, const char *owner, const char *addr, uint32_t ttl)
{
	uint8_t a[4];

	inet_pton(AF_INET, addr, a);
	rr_head(m, owner, 1, ttl, 4);
	memcpy(m->b + m->n, a, 4);
	m->n += 4;
}

static void rr_aaaa(struct msg *m, const char *owner, const char *addr, uint32_t ttl)
{
	uint8_t a[16];

	inet_pton(AF_INET6, addr, a);
	rr_head(m, owner, 28, ttl, 16);
	memcpy(m->b + m->n, a, 16);
	m->n += 16;
}

static void rr_cname(struct msg *m, const char *owner, const char *target, uint32_t ttl)
{
	size_t at;

	rr_head(m, owner, 5, ttl, 0);
	at = m->n;
	put_name(m, target);
	m->b[at - 2] = (m->n - at) >> 8;
	m->b[at - 1] = (m->n - at) & 0xff;
}

/* ---- running packets ------------------------------------------------------- */

static uint32_t run_udp(struct fx *f, const char *src, const char *dst, uint16_t sport, uint16_t dport,
			const struct msg *m)
{
	struct pkt_opts o = { .src = src, .dst = dst, .proto = IPPROTO_UDP, .sport = sport,
			      .dport = dport, .payload = m->b, .payload_len = m->n };
	uint8_t frame[FRAME_CAP];
	uint32_t action;
	size_t len = pkt_build(frame, sizeof(frame), &o);

	assert_true(len > 0);
	assert_int_equal(fx_run(f, frame, len, 0, &action), 0);
	return action;
}

static void query(struct fx *f, uint16_t id, const char *qname)
{
	struct msg m;

	msg_start(&m, id, false, 0, qname, 1);
	assert_int_equal(run_udp(f, CLIENT, SERVER, 40000, 53, &m), XDP_PASS);
}

static void answer(struct fx *f, const struct msg *m)
{
	assert_int_equal(run_udp(f, SERVER, CLIENT, 53, 40000, m), XDP_PASS);
}

/* The verdict for a TCP SYN from the client to addr:port. */
/* A query for name, and its answer of one A record. */
static void lookup_a(struct fx *f, uint16_t id, const char *name, const char *addr, uint32_t ttl)
{
	struct msg m;

	query(f, id, name);
	msg_start(&m, id, true, 1, name, 1);
	rr_a(&m, NULL, addr, ttl);
	answer(f, &m);
}

static uint32_t connect_to(struct fx *f, const char *addr, uint16_t port)
{
	struct pkt_opts o = { .src = strchr(addr, ':') ? CLIENT6 : CLIENT, .dst = addr,
			      .proto = IPPROTO_TCP, .sport = 50000, .dport = port, .tcp_flags = 0x02 };
	uint8_t frame[FRAME_CAP];
	uint32_t action;
	size_t len = pkt_build(frame, sizeof(frame), &o);

	assert_int_equal(fx_run(f, frame, len, 0, &action), 0);
	return action;
}

static uint64_t dns_stat(struct fx *f, enum fringe_dns_result what)
{
	int fd = bpf_map__fd(f->m.skel->maps.fringe_dns_stats), n = libbpf_num_possible_cpus();
	uint64_t v[n > 0 ? n : 1], sum = 0;
	uint32_t k = what;

	assert_int_equal(bpf_map_lookup_elem(fd, &k, v), 0);
	for (int i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

/* The learned entry for addr, or -ENOENT. */
static int learned(struct fx *f, const char *addr, struct fringe_dns_learned *l)
{
	struct fringe_dns_addr_key k = { .family = strchr(addr, ':') ? 6 : 4 };

	inet_pton(k.family == 4 ? AF_INET : AF_INET6, addr, k.addr);
	int fd = maps_held_fd(&f->m, M_DNS_LEARNED), err;

	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &k, l) ? -errno : 0;
	close(fd);
	return err;
}

static const char cloud_policy[] = POLICY_HEAD
	"set cloud { broker.example.com, *.iot.example.net, 198.51.100.7 }\n"
	"rule to-cloud dst @cloud proto tcp dport 8883 allow\n"
	"default drop\n";

static const char no_names_policy[] = POLICY_HEAD
	"rule to-cloud dst 198.51.100.7 proto tcp dport 8883 allow\ndefault drop\n";

/* ---- tests ------------------------------------------------------------------ */

static void test_learn_then_connect(void **state)
{
	struct fx *f = get_fx(state);
	struct fringe_dns_learned l;
	struct msg m;
	uint64_t learned0;

	load_ok(f, cloud_policy);
	/* The listed address always; the name's address only once learned. */
	assert_int_equal(connect_to(f, "198.51.100.7", 8883), XDP_PASS);
	assert_int_equal(connect_to(f, "203.0.113.10", 8883), XDP_DROP);

	learned0 = dns_stat(f, FRINGE_DNS_LEARNED);
	query(f, 0x1234, "broker.example.com");
	msg_start(&m, 0x1234, true, 1, "broker.example.com", 1);
	rr_a(&m, NULL, "203.0.113.10", 300);
	answer(f, &m);
	assert_int_equal(dns_stat(f, FRINGE_DNS_LEARNED), learned0 + 1);
	assert_int_equal(learned(f, "203.0.113.10", &l), 0);
	assert_int_equal(l.ttl, 300);
	assert_int_equal(l.sets, 1);

	/* The connection right after the lookup: allowed, by the rule. */
	assert_int_equal(connect_to(f, "203.0.113.10", 8883), XDP_PASS);
	assert_int_equal(fx_rule_packets(f, "to-cloud"), 2);
	/* Other ports of that address stay dropped: the rule says 8883. */
	assert_int_equal(connect_to(f, "203.0.113.10", 80), XDP_DROP);
}

static void test_wildcard_and_case(void **state)
{
	struct fx *f = get_fx(state);
	struct msg m;

	load_ok(f, cloud_policy);
	/* Below the wildcard, in any case. */
	query(f, 7, "Dev1.IoT.example.NET");
	msg_start(&m, 7, true, 1, "Dev1.IoT.example.NET", 1);
	rr_a(&m, NULL, "203.0.113.21", 60);
	answer(f, &m);
	assert_int_equal(connect_to(f, "203.0.113.21", 8883), XDP_PASS);
	/* `*.iot.example.net` does not cover iot.example.net itself. */
	query(f, 8, "iot.example.net");
	msg_start(&m, 8, true, 1, "iot.example.net", 1);
	rr_a(&m, NULL, "203.0.113.22", 60);
	answer(f, &m);
	assert_int_equal(connect_to(f, "203.0.113.22", 8883), XDP_DROP);
	/* An unlisted name teaches nothing either. */
	query(f, 9, "www.example.org");
	msg_start(&m, 9, true, 1, "www.example.org", 1);
	rr_a(&m, NULL, "203.0.113.23", 60);
	answer(f, &m);
	assert_int_equal(connect_to(f, "203.0.113.23", 8883), XDP_DROP);
}

static void test_cname_chain(void **state)
{
	struct fx *f = get_fx(state);
	struct msg m;

	load_ok(f, cloud_policy);
	/* alias -> cdn -> broker.example.com (listed): the address is the broker's. */
	query(f, 0x2222, "alias.example.org");
	msg_start(&m, 0x2222, true, 3, "alias.example.org", 1);
	rr_cname(&m, NULL, "edge.cdn.example.org", 60);
	rr_cname(&m, "edge.cdn.example.org", "broker.example.com", 60);
	rr_a(&m, "broker.example.com", "203.0.113.30", 60);
	answer(f, &m);
	assert_int_equal(connect_to(f, "203.0.113.30", 8883), XDP_PASS);

	/* A record of a name outside the chain is not learned. */
	query(f, 0x2223, "broker.example.com");
	msg_start(&m, 0x2223, true, 2, "broker.example.com", 1);
	rr_a(&m, NULL, "203.0.113.31", 60);
	rr_a(&m, "evil.example.org", "203.0.113.32", 60);
	answer(f, &m);
	assert_int_equal(connect_to(f, "203.0.113.31", 8883), XDP_PASS);
	assert_int_equal(connect_to(f, "203.0.113.32", 8883), XDP_DROP);
}

static void test_aaaa(void **state)
{
	struct fx *f = get_fx(state);
	struct msg m;
	struct pkt_opts o;
	uint8_t frame[FRAME_CAP];
	uint32_t action;
	size_t len;

	load_ok(f, cloud_policy);
	/* The query over IPv6, the answer an AAAA. */
	msg_start(&m, 0x3333, false, 0, "broker.example.com", 28);
	assert_int_equal(run_udp(f, CLIENT6, SERVER6, 40001, 53, &m), XDP_PASS);
	msg_start(&m, 0x3333, true, 1, "broker.example.com", 28);
	rr_aaaa(&m, NULL, "2001:db8::77", 60);
	assert_int_equal(run_udp(f, SERVER6, CLIENT6, 53, 40001, &m), XDP_PASS);
	o = (struct pkt_opts){ .src = CLIENT6, .dst = "2001:db8::77", .proto = IPPROTO_TCP,
			       .sport = 50000, .dport = 8883, .tcp_flags = 0x02 };
	len = pkt_build(frame, sizeof(frame), &o);
	assert_int_equal(fx_run(f, frame, len, 0, &action), 0);
	assert_int_equal(action, XDP_PASS);
	assert_int_equal(connect_to(f, "2001:db8::78", 8883), XDP_DROP);
}

/* Answers nobody asked for teach nothing and are counted. */
static void test_unsolicited(void **state)
{
	struct fx *f = get_fx(state);
	uint64_t u0;
	struct msg m;

	load_ok(f, cloud_policy);
	u0 = dns_stat(f, FRINGE_DNS_UNSOLICITED);
	/* no query at all */
	msg_start(&m, 0x4444, true, 1, "broker.example.com", 1);
	rr_a(&m, NULL, "203.0.113.40", 60);
	answer(f, &m);
	/* a query, but the answer's id differs */
	query(f, 0x4445, "broker.example.com");
	msg_start(&m, 0x4446, true, 1, "broker.example.com", 1);
	rr_a(&m, NULL, "203.0.113.41", 60);
	answer(f, &m);
	/* the right id, another question */
	msg_start(&m, 0x4445, true, 1, "mail.example.com", 1);
	rr_a(&m, NULL, "203.0.113.42", 60);
	answer(f, &m);
	/* from another server than the one asked */
	query(f, 0x4447, "broker.example.com");
	msg_start(&m, 0x4447, true, 1, "broker.example.com", 1);
	rr_a(&m, NULL, "203.0.113.43", 60);
	assert_int_equal(run_udp(f, "10.9.0.99", CLIENT, 53, 40000, &m), XDP_PASS);
	assert_int_equal(dns_stat(f, FRINGE_DNS_UNSOLICITED), u0 + 4);
	for (int i = 40; i <= 43; i++) {
		char a[32];

		snprintf(a, sizeof(a), "203.0.113.%d", i);
		assert_int_equal(connect_to(f, a, 8883), XDP_DROP);
	}
	/* One answer per query: a second copy of a good answer teaches nothing. */
	query(f, 0x4448, "broker.example.com");
	msg_start(&m, 0x4448, true, 1, "broker.example.com", 1);
	rr_a(&m, NULL, "203.0.113.44", 60);
	answer(f, &m);
	msg_start(&m, 0x4448, true, 1, "broker.example.com", 1);
	rr_a(&m, NULL, "203.0.113.45", 60);
	answer(f, &m);
	assert_int_equal(connect_to(f, "203.0.113.44", 8883), XDP_PASS);
	assert_int_equal(connect_to(f, "203.0.113.45", 8883), XDP_DROP);
	assert_int_equal(dns_stat(f, FRINGE_DNS_UNSOLICITED), u0 + 5);
}

/* Broken answers: counted malformed, nothing learned, the packet still judged. */
static void test_malformed_answers(void **state)
{
	struct fx *f = get_fx(state);
	struct msg m;
	uint64_t bad0, nomatch0;
	uint16_t id = 0x5000;

	load_ok(f, cloud_policy);
	bad0 = dns_stat(f, FRINGE_DNS_MALFORMED);
	nomatch0 = dns_stat(f, FRINGE_DNS_NO_MATCH);

	/* 1. a compression pointer to itself in the answer's owner */
	query(f, ++id, "broker.example.com");
	msg_start(&m, id, true, 1, "broker.example.com", 1);
	put16(&m, 0xc000 | (uint16_t)m.n);	/* points at itself */
	put16(&m, 1), put16(&m, 1), put32(&m, 60), put16(&m, 4), put32(&m, 0xcb007164);
	answer(f, &m);
	/* 2. a pointer forward (a loop could be built from these) */
	query(f, ++id, "broker.example.com");
	msg_start(&m, id, true, 1, "broker.example.com", 1);
	put16(&m, 0xc000 | (uint16_t)(m.n + 2));
	put_name(&m, "broker.example.com");
	put16(&m, 1), put16(&m, 1), put32(&m, 60), put16(&m, 4), put32(&m, 0xcb007165);
	answer(f, &m);
	/* 3. rdlength past the end */
	query(f, ++id, "broker.example.com");
	msg_start(&m, id, true, 1, "broker.example.com", 1);
	rr_head(&m, NULL, 1, 60, 40);
	put32(&m, 0xcb007166);
	answer(f, &m);
	/* 4. a huge answer count with one record: the good record teaches nothing either */
	query(f, ++id, "broker.example.com");
	msg_start(&m, id, true, 0xffff, "broker.example.com", 1);
	rr_a(&m, NULL, "203.0.113.103", 60);
	answer(f, &m);
	/* 5. truncated inside the question */
	query(f, ++id, "broker.example.com");
	msg_start(&m, id, true, 1, "broker.example.com", 1);
	m.n = 20;
	answer(f, &m);
	/* 6. a label type fringe refuses (0x40) */
	query(f, ++id, "broker.example.com");
	msg_start(&m, id, true, 1, "broker.example.com", 1);
	put8(&m, 0x41), put8(&m, 'x'), put8(&m, 0);
	put16(&m, 1), put16(&m, 1), put32(&m, 60), put16(&m, 4), put32(&m, 0xcb007168);
	answer(f, &m);
	/* 7. a name of more than 255 bytes */
	query(f, ++id, "broker.example.com");
	msg_start(&m, id, true, 1, "broker.example.com", 1);
	for (int i = 0; i < 5; i++) {
		put8(&m, 60);
		memset(m.b + m.n, 'a', 60);
		m.n += 60;
	}
	put8(&m, 0);
	put16(&m, 1), put16(&m, 1), put32(&m, 60), put16(&m, 4), put32(&m, 0xcb007169);
	answer(f, &m);
	assert_int_equal(dns_stat(f, FRINGE_DNS_MALFORMED), bad0 + 7);
	for (int i = 100; i <= 105; i++) {
		char a[32];

		snprintf(a, sizeof(a), "203.0.113.%d", i);
		assert_int_equal(connect_to(f, a, 8883), XDP_DROP);
	}
	/* 8. no answer records, and NXDOMAIN: no_match, not malformed */
	query(f, ++id, "broker.example.com");
	msg_start(&m, id, true, 0, "broker.example.com", 1);
	answer(f, &m);
	query(f, ++id, "broker.example.com");
	msg_start(&m, id, true, 0, "broker.example.com", 1);
	m.b[3] = 0x83;		/* RCODE 3 */
	answer(f, &m);
	assert_int_equal(dns_stat(f, FRINGE_DNS_NO_MATCH), nomatch0 + 2);
	assert_int_equal(dns_stat(f, FRINGE_DNS_MALFORMED), bad0 + 7);
}

/* TTLs are held to 30 s .. 1 day; an expired address matches no more. */
static void test_ttl(void **state)
{
	struct fx *f = get_fx(state);
	struct fringe_dns_learned l;
	struct fringe_dns_addr_key k = { .family = 4 };
	struct msg m;
	int fd;

	load_ok(f, cloud_policy);
	fd = maps_held_fd(&f->m, M_DNS_LEARNED);	/* made by the load */
	assert_true(fd >= 0);
	query(f, 0x6001, "broker.example.com");
	msg_start(&m, 0x6001, true, 2, "broker.example.com", 1);
	rr_a(&m, NULL, "203.0.113.60", 5);
	rr_a(&m, NULL, "203.0.113.61", 30 * 86400);
	answer(f, &m);
	assert_int_equal(learned(f, "203.0.113.60", &l), 0);
	assert_int_equal(l.ttl, FRINGE_DNS_TTL_MIN);
	assert_int_equal(learned(f, "203.0.113.61", &l), 0);
	assert_int_equal(l.ttl, FRINGE_DNS_TTL_MAX);
	assert_int_equal(connect_to(f, "203.0.113.60", 8883), XDP_PASS);
	/* Time passes: the entry's expiry is now. */
	inet_pton(AF_INET, "203.0.113.60", k.addr);
	assert_int_equal(learned(f, "203.0.113.60", &l), 0);
	l.expires_ns = 1;
	assert_int_equal(bpf_map_update_elem(fd, &k, &l, BPF_EXIST), 0);
	assert_int_equal(connect_to(f, "203.0.113.60", 8883), XDP_DROP);
	assert_int_equal(connect_to(f, "203.0.113.61", 8883), XDP_PASS);
}

/* A reload keeps what was learned for names the new policy still lists. */
static void test_reload(void **state)
{
	struct fx *f = get_fx(state);
	struct msg m;

	load_ok(f, cloud_policy);
	query(f, 0x7001, "broker.example.com");
	msg_start(&m, 0x7001, true, 1, "broker.example.com", 1);
	rr_a(&m, NULL, "203.0.113.70", 60);
	answer(f, &m);
	assert_int_equal(connect_to(f, "203.0.113.70", 8883), XDP_PASS);
	/* Another order of sets: the name's bit changes; still allowed. */
	load_ok(f, POLICY_HEAD
		"set other { printer.example.com }\n"
		"set cloud2 { broker.example.com }\n"
		"rule printers dst @other proto tcp dport 631 allow\n"
		"rule to-cloud dst @cloud2 proto tcp dport 8883 allow\n"
		"default drop\n");
	assert_int_equal(connect_to(f, "203.0.113.70", 8883), XDP_PASS);
	assert_int_equal(connect_to(f, "203.0.113.70", 631), XDP_DROP);
	/* A policy that no longer lists the name: dropped. */
	load_ok(f, POLICY_HEAD
		"set cloud3 { other.example.com }\n"
		"rule to-cloud dst @cloud3 proto tcp dport 8883 allow\n"
		"default drop\n");
	assert_int_equal(connect_to(f, "203.0.113.70", 8883), XDP_DROP);
}

/* A policy without names never looks at DNS. */
static void test_no_names_no_learning(void **state)
{
	struct fx *f = get_fx(state);
	uint64_t q0;

	load_ok(f, no_names_policy);
	q0 = dns_stat(f, FRINGE_DNS_QUERIES);
	lookup_a(f, 0x8001, "broker.example.com", "203.0.113.80", 60);
	assert_int_equal(dns_stat(f, FRINGE_DNS_QUERIES), q0);
	assert_int_equal(learned(f, "203.0.113.80", &(struct fringe_dns_learned){ 0 }), -ENOENT);
}

/* The staged packets' counter of staged rule index r (0-based; -1: default). */
static uint64_t staged_packets(struct fx *f, int r)
{
	struct fringe_counter *cnt = NULL;
	uint64_t v;

	assert_int_equal(staged_read_counters(&f->m, &cnt), 0);
	v = cnt[r + 1].packets;
	free(cnt);
	return v;
}

/* A staged policy's names are learned whether or not the policy in force
 * lists names of its own (SPEC §11, §12): by the staged program's observer,
 * or by the active one's, which records the staged names' keys too. */
static void test_staged_names(void **state)
{
	struct fx *f = get_fx(state);
	const char *const actives[] = {
		POLICY_HEAD "default allow\n",
		POLICY_HEAD "set other { printer.example.com }\n"
			"rule printers dst @other proto tcp dport 631 allow\ndefault allow\n",
	};
	struct msg m;

	for (int i = 0; i < 2; i++) {
		char addr[32], other[32];

		snprintf(addr, sizeof(addr), "203.0.113.%d", 90 + i);
		snprintf(other, sizeof(other), "203.0.113.%d", 95 + i);
		load_ok(f, actives[i]);
		assert_int_equal(fx_stage(f, cloud_policy), 0);
		query(f, 0x9001 + i, "broker.example.com");
		msg_start(&m, 0x9001 + i, true, 1, "broker.example.com", 1);
		rr_a(&m, NULL, addr, 300);
		answer(f, &m);
		assert_int_equal(learned(f, addr, &(struct fringe_dns_learned){ 0 }), 0);
		/* The policy in force decides (allow); the staged rule counts. */
		assert_int_equal(connect_to(f, addr, 8883), XDP_PASS);
		assert_int_equal(staged_packets(f, 2), 1);
		assert_int_equal(connect_to(f, other, 8883), XDP_PASS);
		assert_int_equal(staged_packets(f, 2), 1);
		assert_int_equal(staged_packets(f, -1), 1);
		/* The active policy's own names still work beside them. */
		if (i == 1) {
			query(f, 0x9101, "printer.example.com");
			msg_start(&m, 0x9101, true, 1, "printer.example.com", 1);
			rr_a(&m, NULL, "203.0.113.99", 300);
			answer(f, &m);
			assert_int_equal(connect_to(f, "203.0.113.99", 631), XDP_PASS);
			assert_int_equal(fx_rule_packets(f, "printers"), 1);
		}
		assert_int_equal(staged_remove(&f->m), 0);
	}
}

/* The entries of a holder's map, or -1 when the holder is empty. */
static long held_entries(struct fx *f, enum map_id holder, uint32_t *max_entries)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	uint8_t key[64], next[64];
	long n = 0;
	int fd = maps_held_fd(&f->m, holder);

	if (fd < 0)
		return -1;
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	assert_true(info.key_size <= sizeof(key));
	if (max_entries)
		*max_entries = info.max_entries;
	for (void *prev = NULL; !bpf_map_get_next_key(fd, prev, next); prev = key, n++)
		memcpy(key, next, info.key_size);
	close(fd);
	return n;
}

/* The DNS tables exist only while a slot's policy lists names: made by the
 * load that brings names (before its flip), gone once neither slot has any. */
static void test_tables_on_demand(void **state)
{
	static const enum map_id tables[] = { M_DNS_QUERIES, M_DNS_LEARNED, M_DNS_NAMES };
	struct fx *f = get_fx(state);
	uint32_t max = 0;

	for (size_t i = 0; i < 3; i++)
		assert_int_equal(held_entries(f, tables[i], NULL), -1);	/* nothing loaded */
	load_ok(f, no_names_policy);
	load_ok(f, no_names_policy);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(held_entries(f, tables[i], NULL), -1);
	/* Names: the tables, at their sizes; the names for `dns show`. */
	load_ok(f, cloud_policy);
	assert_int_equal(held_entries(f, M_DNS_LEARNED, &max), 0);
	assert_int_equal(max, FRINGE_DNS_LEARNED_MAX);
	assert_int_equal(held_entries(f, M_DNS_QUERIES, &max), 0);
	assert_int_equal(max, FRINGE_DNS_QUERIES_MAX);
	assert_int_equal(held_entries(f, M_DNS_NAMES, NULL), 2);
	lookup_a(f, 0x9001, "broker.example.com", "203.0.113.90", 60);
	assert_int_equal(held_entries(f, M_DNS_LEARNED, NULL), 1);
	/* One load without names: the other slot still lists them (a commit
	 * that is not confirmed goes back to it), so what was learned stays. */
	load_ok(f, no_names_policy);
	assert_int_equal(held_entries(f, M_DNS_LEARNED, NULL), 1);
	assert_int_equal(held_entries(f, M_DNS_NAMES, NULL), 0);	/* the policy in force has none */
	assert_int_equal(maps_flip(&f->m), 0);	/* back to the policy with names */
	assert_int_equal(connect_to(f, "203.0.113.90", 8883), XDP_PASS);
	assert_int_equal(maps_flip(&f->m), 0);
	/* Neither slot lists names: the tables go. */
	load_ok(f, no_names_policy);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(held_entries(f, tables[i], NULL), -1);
	assert_int_equal(connect_to(f, "203.0.113.90", 8883), XDP_DROP);
	/* Names again: new, empty tables. */
	load_ok(f, cloud_policy);
	assert_int_equal(held_entries(f, M_DNS_LEARNED, NULL), 0);
	assert_int_equal(connect_to(f, "203.0.113.90", 8883), XDP_DROP);
}

/* A staged policy with names brings the tables too (the staged program
 * observes DNS when the policy in force lists no name); unstaged, they go. */
static void test_staged_tables(void **state)
{
	struct fx *f = get_fx(state);

	load_ok(f, no_names_policy);
	assert_int_equal(held_entries(f, M_DNS_LEARNED, NULL), -1);
	assert_int_equal(fx_stage(f, cloud_policy), 0);
	assert_int_equal(held_entries(f, M_DNS_LEARNED, NULL), 0);
	assert_int_equal(held_entries(f, M_DNS_QUERIES, NULL), 0);
	lookup_a(f, 0xc001, "broker.example.com", "203.0.113.93", 60);
	assert_int_equal(held_entries(f, M_DNS_LEARNED, NULL), 1);
	/* A policy load keeps them while the staged policy lists names. */
	load_ok(f, no_names_policy);
	load_ok(f, no_names_policy);
	assert_int_equal(held_entries(f, M_DNS_LEARNED, NULL), 1);
	assert_int_equal(staged_remove(&f->m), 0);
	assert_int_equal(held_entries(f, M_DNS_LEARNED, NULL), -1);
	assert_int_equal(held_entries(f, M_DNS_QUERIES, NULL), -1);
	assert_int_equal(held_entries(f, M_DNS_NAMES, NULL), -1);
}

/* A slot that lists names with its tables gone (removed by hand) learns
 * nothing and matches no learned address, but judges the rest as before. */
static void test_names_without_tables(void **state)
{
	struct fx *f = get_fx(state);
	uint64_t q0, l0;

	load_ok(f, cloud_policy);
	assert_int_equal(maps_release(&f->m, M_DNS_QUERIES), 0);
	assert_int_equal(maps_release(&f->m, M_DNS_LEARNED), 0);
	q0 = dns_stat(f, FRINGE_DNS_QUERIES);
	l0 = dns_stat(f, FRINGE_DNS_LEARNED);
	lookup_a(f, 0xa001, "broker.example.com", "203.0.113.91", 60);
	assert_int_equal(dns_stat(f, FRINGE_DNS_QUERIES), q0);
	assert_int_equal(dns_stat(f, FRINGE_DNS_LEARNED), l0);
	assert_int_equal(connect_to(f, "203.0.113.91", 8883), XDP_DROP);
	assert_int_equal(connect_to(f, "198.51.100.7", 8883), XDP_PASS);
	/* Only the learned table back: queries are not remembered, nothing is learned. */
	assert_int_equal(maps_hold(&f->m, M_DNS_LEARNED), 0);
	lookup_a(f, 0xa002, "broker.example.com", "203.0.113.92", 60);
	assert_int_equal(dns_stat(f, FRINGE_DNS_LEARNED), l0);
	assert_int_equal(held_entries(f, M_DNS_LEARNED, NULL), 0);
}

/* `size dns-addresses`: the learned table's size; full, it takes no more
 * (counted), and a resize keeps what was learned. */
static void test_size_dns_addresses(void **state)
{
	struct fx *f = get_fx(state);
	uint32_t want[FRINGE_SZ_COUNT] = { [FRINGE_SZ_DNS_ADDRESSES] = 64 }, max = 0;
	char addr[32];
	uint64_t full0;

	assert_int_equal(maps_apply_sizes(&f->m, want), 0);
	load_ok(f, cloud_policy);
	assert_int_equal(held_entries(f, M_DNS_LEARNED, &max), 0);
	assert_int_equal(max, 64);
	full0 = dns_stat(f, FRINGE_DNS_FULL);
	for (int i = 0; i < 66; i++) {
		snprintf(addr, sizeof(addr), "203.0.114.%d", i);
		lookup_a(f, 0xb000 + i, "broker.example.com", addr, 300);
	}
	assert_int_equal(held_entries(f, M_DNS_LEARNED, NULL), 64);
	assert_int_equal(dns_stat(f, FRINGE_DNS_FULL), full0 + 2);
	assert_int_equal(connect_to(f, "203.0.114.0", 8883), XDP_PASS);
	assert_int_equal(connect_to(f, "203.0.114.65", 8883), XDP_DROP);
	/* Larger: made anew, with what was learned. */
	want[FRINGE_SZ_DNS_ADDRESSES] = 1024;
	assert_int_equal(maps_apply_sizes(&f->m, want), 0);
	assert_int_equal(held_entries(f, M_DNS_LEARNED, &max), 64);
	assert_int_equal(max, 1024);
	assert_int_equal(connect_to(f, "203.0.114.0", 8883), XDP_PASS);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_learn_then_connect),
		T(test_wildcard_and_case),
		T(test_cname_chain),
		T(test_aaaa),
		T(test_unsolicited),
		T(test_malformed_answers),
		T(test_ttl),
		T(test_reload),
		T(test_no_names_no_learning),
		T(test_staged_names),
		T(test_tables_on_demand),
		T(test_staged_tables),
		T(test_names_without_tables),
		T(test_size_dns_addresses),
	};
#undef T

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
