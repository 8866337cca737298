// SPDX-License-Identifier: GPL-2.0
/* XDP data-plane tests: fixture tables of packet, verdict, rule counter and interface counters. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "fixture.h"
#include "fixture_cmocka.h"
#include "pkt.h"

/* Rows override the fields of a base packet (V4/V6 below). */
#pragma GCC diagnostic ignored "-Woverride-init"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FRAME_CAP 2048

/* ---- counter snapshots ----------------------------------------------------- */

/* Every rule counter of the active policy, default included, and the interface stats. */
struct snap {
	uint32_t n;
	char (*names)[FRINGE_NAME_LEN];
	struct fringe_counter *rule;	/* n + 1: [n] is default */
	struct fringe_iface_stats ifs[3];	/* fx0, fx1, other (slot 0) */
};

static void snap_take(struct fx *f, struct snap *s)
{
	const struct fringe_slot_hdr *hdr = maps_active_hdr(&f->m);
	struct fringe_rule_action *a;

	s->n = hdr->n_rules;
	a = calloc(s->n + 1, sizeof(*a));
	s->names = calloc(s->n + 1, sizeof(*s->names));
	s->rule = calloc(s->n + 1, sizeof(*s->rule));
	assert_non_null(a);
	assert_non_null(s->names);
	assert_non_null(s->rule);
	assert_int_equal(maps_read_actions(&f->m, f->m.meta->active & 1, a, s->n), 0);
	for (uint32_t i = 0; i < s->n; i++) {
		memcpy(s->names[i], f->m.names[a[i].counter_id].name, FRINGE_NAME_LEN);
		assert_int_equal(maps_read_rule_counter(&f->m, a[i].counter_id, &s->rule[i]), 0);
	}
	snprintf(s->names[s->n], FRINGE_NAME_LEN, "default");
	assert_int_equal(maps_read_rule_counter(&f->m, 0, &s->rule[s->n]), 0);
	free(a);
	assert_int_equal(fx_iface_stats(f, f->ifindex, &s->ifs[0]), 0);
	assert_int_equal(fx_iface_stats(f, f->ifindex2, &s->ifs[1]), 0);
	assert_int_equal(maps_read_iface_stats(&f->m, 0, &s->ifs[2]), 0);
}

static void snap_free(struct snap *s)
{
	free(s->names);
	free(s->rule);
	memset(s, 0, sizeof(*s));
}

static const char *ifs_field(size_t k, char *buf, size_t len)
{
	size_t nv = 2 * FRINGE_V_MAX;

	if (k < nv)
		snprintf(buf, len, "verdict[%s].%s", fringe_verdict_names[k / 2],
			 k % 2 ? "bytes" : "packets");
	else if (k < nv + FRINGE_DROP_MAX)
		snprintf(buf, len, "drops[%s]",
			 fringe_drop_reason_names[k - nv] ? fringe_drop_reason_names[k - nv] : "?");
	else
		snprintf(buf, len, "%s",
			 (const char *[]){ "non_ip", "fragments", "spoofed", "spoofed_untracked" }[k - nv - FRINGE_DROP_MAX]);
	return buf;
}

/* Rule counters: `rule` (or none when NULL) rose by `packets` and `bytes`, the others stayed. */
static void expect_rules(const char *what, const struct snap *a, const struct snap *b,
			 const char *rule, uint64_t packets, uint64_t bytes)
{
	bool found = !rule;

	assert_int_equal(a->n, b->n);
	for (uint32_t i = 0; i <= a->n; i++) {
		bool hit = rule && !strcmp(a->names[i], rule);
		uint64_t dp = b->rule[i].packets - a->rule[i].packets;
		uint64_t db = b->rule[i].bytes - a->rule[i].bytes;

		found |= hit;
		if (dp != (hit ? packets : 0) || db != (hit ? bytes : 0))
			fail_msg("%s: counter of '%s' rose by %llu packets / %llu bytes, want %llu / %llu"
				 " (expected rule: %s)", what, a->names[i], (unsigned long long)dp,
				 (unsigned long long)db, (unsigned long long)(hit ? packets : 0),
				 (unsigned long long)(hit ? bytes : 0), rule ? rule : "none");
	}
	if (!found)
		fail_msg("%s: no rule '%s' in the active policy", what, rule);
}

/* The per-CPU scratch names the rule that judged the frame (what
 * `policy test --verbose` reads): its counter id + 1, 0 when none did. */
static void expect_judged_by(struct fx *f, const char *what, const char *rule)
{
	uint32_t by = ~0u;
	const char *name;
	int err = maps_read_judged_by(&f->m, f->cpu, &by);

	if (err)
		fail_msg("%s: cannot read the scratch: %s", what, strerror(-err));
	if (by >= FRINGE_MAX_COUNTERS + 1)
		fail_msg("%s: scratch says judged by %u: no such counter", what, by);
	name = !by ? NULL : by == 1 ? "default" : f->m.names[by - 1].name;
	if (!name != !rule || (rule && strcmp(name, rule)))
		fail_msg("%s: scratch says judged by '%s', want '%s'", what, name ? name : "no rule",
			 rule ? rule : "no rule");
}

/* Interface stats: b == a + want_delta on every field of every interface. */
static void expect_ifs(const char *what, const struct snap *a, const struct snap *b,
		       const struct fringe_iface_stats delta[3])
{
	static const char *const ifn[3] = { "fx0", "fx1", "other" };
	char buf[64];

	for (int i = 0; i < 3; i++) {
		const uint64_t *x = (const uint64_t *)&a->ifs[i], *y = (const uint64_t *)&b->ifs[i];
		const uint64_t *d = (const uint64_t *)&delta[i];

		for (size_t k = 0; k < sizeof(struct fringe_iface_stats) / 8; k++)
			if (y[k] - x[k] != d[k])
				fail_msg("%s: %s %s rose by %llu, want %llu", what, ifn[i],
					 ifs_field(k, buf, sizeof(buf)),
					 (unsigned long long)(y[k] - x[k]), (unsigned long long)d[k]);
	}
}

static int verdict_of(uint32_t action)
{
	switch (action) {
	case XDP_PASS: return FRINGE_V_PASS;
	case XDP_TX: return FRINGE_V_TX;
	case XDP_REDIRECT: return FRINGE_V_REDIRECT;
	default: return FRINGE_V_DROP;
	}
}

/* ---- the fixture table ----------------------------------------------------- */

enum {
	X_NON_IP = 1 << 0,	/* non_ip +1 */
	X_FRAG = 1 << 1,	/* fragments +1 */
	X_SPOOFED = 1 << 2,	/* spoofed +1 */
};

struct xdp_case {
	const char *name;
	const char *policy;		/* NULL: the table's policy */
	struct pkt_opts pkt;
	uint16_t raw_type;		/* non-zero: pkt_build_raw(raw_type, raw, raw_len) */
	const void *raw;
	size_t raw_len;
	/* Damage the built frame; returns the new length. */
	size_t (*mutate)(uint8_t *fr, size_t len, const struct pkt_opts *o);
	int in;				/* ingress: 0 fx0, 1 fx1 */
	uint32_t action;		/* XDP_* */
	const char *rule;		/* counter that rises by 1 ("default"); NULL: none */
	uint8_t reason;			/* drop reason counted when action is XDP_DROP */
	uint8_t flags;			/* X_* */
};

#define V4(...) { .src = "192.168.1.1", .dst = "192.168.2.2", .proto = IPPROTO_TCP, \
		  .sport = 40000, .dport = 9, __VA_ARGS__ }
#define V6(...) { .src = "2001:db8:1::1", .dst = "2001:db8:2::2", .proto = IPPROTO_TCP, \
		  .sport = 40000, .dport = 9, __VA_ARGS__ }
#define PASS(r) .action = XDP_PASS, .rule = (r)
#define DROP(r) .action = XDP_DROP, .rule = (r), .reason = FRINGE_DROP_POLICY
#define REDIRECT(r) .action = XDP_REDIRECT, .rule = (r)
#define MALFORMED .action = XDP_DROP, .rule = NULL, .reason = FRINGE_DROP_MALFORMED
#define EXT(...) .v6_ext = (const uint8_t[]){ __VA_ARGS__ }, \
		 .n_v6_ext = sizeof((const uint8_t[]){ __VA_ARGS__ })

static size_t build_case(const struct xdp_case *c, uint8_t *fr)
{
	size_t len;

	if (c->raw_type)
		len = pkt_build_raw(fr, FRAME_CAP, c->raw_type, c->raw, c->raw_len);
	else
		len = pkt_build(fr, FRAME_CAP, &c->pkt);
	if (!len)
		fail_msg("%s: pkt_build failed", c->name);
	if (c->mutate)
		len = c->mutate(fr, len, &c->pkt);
	return len;
}

static void run_case(struct fx *f, const char *table_policy, const char **loaded,
		     const struct xdp_case *c)
{
	const char *policy = c->policy ? c->policy : table_policy;
	struct fringe_iface_stats delta[3] = {};
	struct fringe_iface_stats *d;
	uint8_t fr[FRAME_CAP];
	struct snap a = {}, b = {};
	uint32_t ifindex = c->in ? f->ifindex2 : f->ifindex, action = ~0u;
	size_t len;
	int err, v;

	if (c->action == XDP_DROP && !c->reason)
		fail_msg("%s: table error: a drop needs a reason", c->name);
	if (policy != *loaded) {
		load_ok(f, policy);
		*loaded = policy;
	}
	len = build_case(c, fr);

	snap_take(f, &a);
	err = fx_run(f, fr, len, ifindex, &action);
	snap_take(f, &b);
	if (err)
		fail_msg("%s: test run failed: %s", c->name, strerror(-err));
	if (action != c->action)
		fail_msg("%s: XDP action %u, want %u", c->name, action, c->action);

	expect_rules(c->name, &a, &b, c->rule, 1, len);
	expect_judged_by(f, c->name, c->rule);
	d = &delta[c->in ? 1 : 0];
	v = verdict_of(c->action);
	d->verdict[v].packets = 1;
	d->verdict[v].bytes = len;
	if (v == FRINGE_V_DROP)
		d->drops[c->reason] = 1;
	d->non_ip = !!(c->flags & X_NON_IP);
	d->fragments = !!(c->flags & X_FRAG);
	d->spoofed = !!(c->flags & X_SPOOFED);
	expect_ifs(c->name, &a, &b, delta);
	snap_free(&a);
	snap_free(&b);
}

static size_t table_rows;	/* rows run, reported at the end */

static void run_rows(struct fx *f, const char *policy, const char *loaded,
		     const struct xdp_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_case(f, policy, &loaded, &cases[i]);
	table_rows += n;
}

static void run_table(void **state, const char *policy, const struct xdp_case *cases, size_t n)
{
	run_rows(get_fx(state), policy, NULL, cases, n);
}

/* ---- addresses: literal, CIDR, sets, nesting -------------------------------------- */

static const char policy_addr[] =
	"set mixed { 10.9.0.0/16, 2001:db8:9::/48, 203.0.113.5 }\n"
	"rule src_lit src 192.0.2.7 drop\n"
	"rule src_cidr src 198.51.100.0/24 allow\n"
	"rule dst_lit dst 192.0.2.99 drop\n"
	"rule dst_cidr6 dst 2001:db8:d::/64 allow\n"
	"rule both src 10.70.0.0/16 dst 10.80.0.0/16 proto tcp dport 22 allow\n"
	"rule src_set src @mixed drop\n"
	"rule dst_set dst @mixed allow\n"
	"# the longer prefix belongs to the later rule: first match still wins\n"
	"rule wide src 172.16.0.0/12 proto udp drop\n"
	"rule narrow src 172.16.5.0/24 allow\n"
	"# the longer prefix belongs to the earlier rule\n"
	"rule inner src 10.1.2.0/24 drop\n"
	"rule outer src 10.1.0.0/16 allow\n"
	"rule v6_wide src 2001:db8:a::/48 proto udp drop\n"
	"rule v6_narrow src 2001:db8:a:1::/64 allow\n"
	"rule any4 src 0.0.0.0/0 proto 99 drop\n"
	"default drop\n";

static const struct xdp_case cases_addr[] = {
	{ "src literal", .pkt = V4(.src = "192.0.2.7"), DROP("src_lit") },
	{ "src literal, next address", .pkt = V4(.src = "192.0.2.8"), DROP("default") },
	{ "src CIDR", .pkt = V4(.src = "198.51.100.200"), PASS("src_cidr") },
	{ "src CIDR, outside", .pkt = V4(.src = "198.51.101.1"), DROP("default") },
	{ "dst literal", .pkt = V4(.dst = "192.0.2.99"), DROP("dst_lit") },
	{ "dst literal is not src", .pkt = V4(.src = "192.0.2.99"), DROP("default") },
	{ "dst CIDR v6", .pkt = V6(.dst = "2001:db8:d::ffff"), PASS("dst_cidr6") },
	{ "dst CIDR v6, outside", .pkt = V6(.dst = "2001:db8:d:1::1"), DROP("default") },
	{ "src+dst+proto+dport", .pkt = V4(.src = "10.70.1.1", .dst = "10.80.2.2", .dport = 22),
	  PASS("both") },
	{ "src+dst+proto+dport, dst off", .pkt = V4(.src = "10.70.1.1", .dst = "10.81.2.2",
						     .dport = 22), DROP("default") },
	{ "src+dst+proto+dport, udp", .pkt = V4(.src = "10.70.1.1", .dst = "10.80.2.2",
						 .dport = 22, .proto = IPPROTO_UDP), DROP("default") },
	{ "src @set v4 /16", .pkt = V4(.src = "10.9.200.1"), DROP("src_set") },
	{ "src @set v4 /32", .pkt = V4(.src = "203.0.113.5"), DROP("src_set") },
	{ "src @set v4 /32, neighbour", .pkt = V4(.src = "203.0.113.6"), DROP("default") },
	{ "src @set v6 /48", .pkt = V6(.src = "2001:db8:9:ffff::1"), DROP("src_set") },
	{ "dst @set v4", .pkt = V4(.dst = "10.9.0.1"), PASS("dst_set") },
	{ "dst @set v6", .pkt = V6(.dst = "2001:db8:9::1"), PASS("dst_set") },
	{ "nested: earlier short prefix wins", .pkt = V4(.src = "172.16.5.9", .proto = IPPROTO_UDP),
	  DROP("wide") },
	{ "nested: later long prefix when the earlier misses", .pkt = V4(.src = "172.16.5.9"),
	  PASS("narrow") },
	{ "nested: short prefix only", .pkt = V4(.src = "172.20.0.1", .proto = IPPROTO_UDP),
	  DROP("wide") },
	{ "nested: short prefix, proto off", .pkt = V4(.src = "172.20.0.1"), DROP("default") },
	{ "nested: earlier long prefix", .pkt = V4(.src = "10.1.2.3"), DROP("inner") },
	{ "nested: later short prefix", .pkt = V4(.src = "10.1.3.3"), PASS("outer") },
	{ "nested: neither", .pkt = V4(.src = "10.2.0.1"), DROP("default") },
	{ "nested v6: earlier short prefix wins", .pkt = V6(.src = "2001:db8:a:1::5",
							     .proto = IPPROTO_UDP), DROP("v6_wide") },
	{ "nested v6: later long prefix", .pkt = V6(.src = "2001:db8:a:1::5"), PASS("v6_narrow") },
	{ "nested v6: neither", .pkt = V6(.src = "2001:db8:a:2::5"), DROP("default") },
	{ "0.0.0.0/0 matches any v4", .pkt = V4(.proto = 99), DROP("any4") },
	{ "0.0.0.0/0 does not match v6", .pkt = V6(.proto = 99), DROP("default") },
};

static void test_match_addr(void **state)
{
	run_table(state, policy_addr, cases_addr, ARRAY_SIZE(cases_addr));
}

/* ---- protocols and ports -------------------------------------------------------- */

static const char policy_l4[] =
	"set webports { 80, 443, 8000-8080 }\n"
	"set srcports { 3000-3010, 4000 }\n"
	"rule ssh proto tcp dport 22 drop\n"
	"rule gre proto 47 drop\n"
	"rule ngap proto sctp dport 38412 allow\n"
	"rule d_range dport 1000-1999 drop\n"
	"rule d_list dport 53,123,161 allow\n"
	"rule d_set dport @webports drop\n"
	"rule s_port proto udp sport 5353 drop\n"
	"rule s_range sport 60000-60010 allow\n"
	"rule s_and_d sport 7000 dport 7001 drop\n"
	"rule s_list proto udp sport 111,222 drop\n"
	"rule s_set sport @srcports allow\n"
	"rule tcp_num proto 6 dport 9999 allow\n"
	"rule icmp4 proto icmp drop\n"
	"rule icmp6 proto icmpv6 allow\n"
	"rule udp_any proto udp allow\n"
	"default drop\n";

/* The first four payload bytes of a non-port protocol look like ports 1500 -> 1500. */
static const uint8_t fake_ports[8] = { 0x05, 0xdc, 0x05, 0xdc, 0, 0, 0, 0 };

static const struct xdp_case cases_l4[] = {
	{ "proto tcp + dport", .pkt = V4(.dport = 22), DROP("ssh") },
	{ "proto tcp + dport, udp", .pkt = V4(.dport = 22, .proto = IPPROTO_UDP), PASS("udp_any") },
	{ "proto tcp + dport v6", .pkt = V6(.dport = 22), DROP("ssh") },
	{ "proto by number", .pkt = V4(.proto = 47, .payload = fake_ports, .payload_len = 8),
	  DROP("gre") },
	{ "ports do not apply to other protocols",
	  .pkt = V4(.proto = 50, .payload = fake_ports, .payload_len = 8), DROP("default") },
	{ "proto sctp + dport", .pkt = V4(.proto = IPPROTO_SCTP, .dport = 38412), PASS("ngap") },
	{ "dport without proto applies to sctp", .pkt = V4(.proto = IPPROTO_SCTP, .dport = 1500),
	  DROP("d_range") },
	{ "dport range low end", .pkt = V4(.dport = 1000), DROP("d_range") },
	{ "dport range high end", .pkt = V4(.dport = 1999), DROP("d_range") },
	{ "dport range below", .pkt = V4(.dport = 999), DROP("default") },
	{ "dport range above", .pkt = V4(.dport = 2000), DROP("default") },
	{ "dport list, udp", .pkt = V4(.dport = 53, .proto = IPPROTO_UDP), PASS("d_list") },
	{ "dport list, tcp", .pkt = V4(.dport = 161), PASS("d_list") },
	{ "dport list, gap", .pkt = V4(.dport = 54), DROP("default") },
	{ "dport @set single", .pkt = V4(.dport = 443), DROP("d_set") },
	{ "dport @set range low", .pkt = V4(.dport = 8000), DROP("d_set") },
	{ "dport @set range high", .pkt = V4(.dport = 8080), DROP("d_set") },
	{ "dport @set above", .pkt = V4(.dport = 8081), DROP("default") },
	{ "dport @set v6", .pkt = V6(.dport = 80), DROP("d_set") },
	{ "sport + proto udp", .pkt = V4(.sport = 5353, .proto = IPPROTO_UDP), DROP("s_port") },
	{ "sport + proto udp, tcp", .pkt = V4(.sport = 5353), DROP("default") },
	{ "sport range", .pkt = V4(.sport = 60010), PASS("s_range") },
	{ "sport range above", .pkt = V4(.sport = 60011), DROP("default") },
	{ "sport is not dport", .pkt = V4(.sport = 9, .dport = 60005), DROP("default") },
	{ "sport and dport", .pkt = V4(.sport = 7000, .dport = 7001), DROP("s_and_d") },
	{ "sport and dport, dport off", .pkt = V4(.sport = 7000, .dport = 7002), DROP("default") },
	{ "sport list", .pkt = V4(.sport = 222, .proto = IPPROTO_UDP), DROP("s_list") },
	{ "sport list, tcp", .pkt = V4(.sport = 222), DROP("default") },
	{ "sport @set range", .pkt = V4(.sport = 3010), PASS("s_set") },
	{ "sport @set single, v6 sctp", .pkt = V6(.sport = 4000, .proto = IPPROTO_SCTP),
	  PASS("s_set") },
	{ "sport @set, gap", .pkt = V4(.sport = 3011), DROP("default") },
	{ "proto 6 by number", .pkt = V4(.dport = 9999), PASS("tcp_num") },
	{ "proto by number v6", .pkt = V6(.proto = 47), DROP("gre") },
	{ "icmp echo", .pkt = V4(.proto = IPPROTO_ICMP), DROP("icmp4") },
	{ "icmpv6 echo", .pkt = V6(.proto = IPPROTO_ICMPV6), PASS("icmp6") },
	{ "udp v6", .pkt = V6(.proto = IPPROTO_UDP), PASS("udp_any") },
};

static void test_match_l4(void **state)
{
	run_table(state, policy_l4, cases_l4, ARRAY_SIZE(cases_l4));
}

/* ---- interface, MAC, devices, classes, VLANs ------------------------------------ */

static const char policy_l2[] =
	"set macs { 02:aa:00:00:00:01, 02:aa:00:00:00:02 }\n"
	"device cam1 mac 02:cc:00:00:00:01 ip 10.50.0.1 class camera\n"
	"device cam2 mac 02:cc:00:00:00:02 ip 10.50.0.2 ip 2001:db8:50::2 class camera\n"
	"device therm mac 02:cc:00:00:00:03 ip 10.50.0.3 class sensor\n"
	"rule in_fx1 in fx1 dport 7 drop\n"
	"rule mac_lit mac 02:bb:00:00:00:01 drop\n"
	"rule mac_set mac @macs allow\n"
	"rule dev_therm device therm allow\n"
	"rule cls_cam class camera proto udp allow\n"
	"rule vlan10 vlan 10 allow\n"
	"rule vlan20 vlan 20 proto tcp dport 80 allow\n"
	"rule combo src 10.60.0.0/16 mac 02:dd:00:00:00:01 vlan 30 proto tcp dport 443 allow\n"
	"default drop\n";

static const struct xdp_case cases_l2[] = {
	{ "in fx1", .pkt = V4(.dport = 7), .in = 1, DROP("in_fx1") },
	{ "in fx1, packet on fx0", .pkt = V4(.dport = 7), DROP("default") },
	{ "in fx1, other port", .pkt = V4(.dport = 8), .in = 1, DROP("default") },
	{ "mac literal", .pkt = V4(.smac = "02:bb:00:00:00:01"), DROP("mac_lit") },
	{ "mac literal is the source", .pkt = V4(.dmac = "02:bb:00:00:00:01"), DROP("default") },
	{ "mac @set", .pkt = V4(.smac = "02:aa:00:00:00:02"), PASS("mac_set") },
	{ "mac @set v6", .pkt = V6(.smac = "02:aa:00:00:00:01"), PASS("mac_set") },
	{ "mac @set, neighbour", .pkt = V4(.smac = "02:aa:00:00:00:03"), DROP("default") },
	{ "device by mac and ip", .pkt = V4(.smac = "02:cc:00:00:00:03", .src = "10.50.0.3"),
	  PASS("dev_therm") },
	{ "device by mac, undeclared ip", .pkt = V6(.smac = "02:cc:00:00:00:03",
						     .src = "2001:db8:77::1"), PASS("dev_therm") },
	{ "class", .pkt = V4(.smac = "02:cc:00:00:00:01", .src = "10.50.0.1",
			     .proto = IPPROTO_UDP), PASS("cls_cam") },
	{ "class, other member, v6", .pkt = V6(.smac = "02:cc:00:00:00:02", .src = "2001:db8:50::2",
					       .proto = IPPROTO_UDP), PASS("cls_cam") },
	{ "class, proto off", .pkt = V4(.smac = "02:cc:00:00:00:01", .src = "10.50.0.1"),
	  DROP("default") },
	{ "spoofed: device MAC with another device's IP",
	  .pkt = V4(.smac = "02:cc:00:00:00:03", .src = "10.50.0.1", .proto = IPPROTO_UDP),
	  DROP("default"), .flags = X_SPOOFED },
	{ "spoofed: unknown MAC with a device's IP", .pkt = V4(.src = "10.50.0.3"),
	  DROP("default"), .flags = X_SPOOFED },
	{ "spoofed v6", .pkt = V6(.smac = "02:cc:00:00:00:01", .src = "2001:db8:50::2",
				  .proto = IPPROTO_UDP), DROP("default"), .flags = X_SPOOFED },
	{ "vlan", .pkt = V4(.n_vlan = 1, .vlan = { 10 }), PASS("vlan10") },
	{ "vlan, other id", .pkt = V4(.n_vlan = 1, .vlan = { 11 }), DROP("default") },
	{ "vlan: untagged matches no vlan rule", .pkt = V4(.dport = 80), DROP("default") },
	{ "vlan: QinQ outer tag", .pkt = V4(.n_vlan = 2, .vlan = { 10, 20 }, .qinq = true,
					    .proto = IPPROTO_UDP), PASS("vlan10") },
	{ "vlan: QinQ inner tag is not matched", .pkt = V4(.n_vlan = 2, .vlan = { 11, 10 },
							   .qinq = true), DROP("default") },
	{ "vlan: QinQ parsed through to ports", .pkt = V4(.n_vlan = 2, .vlan = { 20, 10 },
							  .qinq = true, .dport = 80),
	  PASS("vlan20") },
	{ "vlan: double 802.1Q to ports, v6", .pkt = V6(.n_vlan = 2, .vlan = { 20, 10 },
							.dport = 80), PASS("vlan20") },
	{ "vlan: QinQ, port off", .pkt = V4(.n_vlan = 2, .vlan = { 20, 10 }, .qinq = true,
					    .dport = 81), DROP("default") },
	{ "combination", .pkt = V4(.src = "10.60.1.1", .smac = "02:dd:00:00:00:01", .n_vlan = 1,
				   .vlan = { 30 }, .dport = 443), PASS("combo") },
	{ "combination, vlan off", .pkt = V4(.src = "10.60.1.1", .smac = "02:dd:00:00:00:01",
					     .n_vlan = 1, .vlan = { 31 }, .dport = 443),
	  DROP("default") },
	{ "combination, mac off", .pkt = V4(.src = "10.60.1.1", .smac = "02:dd:00:00:00:02",
					    .n_vlan = 1, .vlan = { 30 }, .dport = 443),
	  DROP("default") },
	{ "combination, src off", .pkt = V4(.src = "10.61.1.1", .smac = "02:dd:00:00:00:01",
					    .n_vlan = 1, .vlan = { 30 }, .dport = 443),
	  DROP("default") },
	{ "combination, dport off", .pkt = V4(.src = "10.60.1.1", .smac = "02:dd:00:00:00:01",
					      .n_vlan = 1, .vlan = { 30 }, .dport = 444),
	  DROP("default") },
};

static void test_match_l2(void **state)
{
	run_table(state, policy_l2, cases_l2, ARRAY_SIZE(cases_l2));
}

/* ---- first match and default --------------------------------------------------- */

static const char policy_order[] =
	"rule first proto tcp drop\n"
	"rule second dport 80 allow\n"
	"rule third src 10.0.0.0/8 drop\n";

static const char policy_default_drop_first[] =
	"default drop\n"
	"rule a proto udp allow\n";

static const char policy_default_allow[] =
	"rule a proto udp drop\n"
	"default allow\n";

static const char policy_empty[] = "# nothing but a comment\n";

static const char policy_only_default_drop[] = "default drop\n";

static const struct xdp_case cases_order[] = {
	{ "first of two matching rules", .pkt = V4(.dport = 80), DROP("first") },
	{ "second rule", .pkt = V4(.dport = 80, .proto = IPPROTO_UDP), PASS("second") },
	{ "third rule", .pkt = V4(.src = "10.1.1.1", .dport = 81, .proto = IPPROTO_UDP),
	  DROP("third") },
	{ "no default line: allow", .pkt = V4(.proto = IPPROTO_ICMP), PASS("default") },
	{ "no default line: allow v6", .pkt = V6(.proto = IPPROTO_UDP), PASS("default") },
	{ "default drop written first", .policy = policy_default_drop_first, .pkt = V4(),
	  DROP("default") },
	{ "rule after the default line", .policy = policy_default_drop_first,
	  .pkt = V4(.proto = IPPROTO_UDP), PASS("a") },
	{ "default allow", .policy = policy_default_allow, .pkt = V4(), PASS("default") },
	{ "default allow, rule drops", .policy = policy_default_allow,
	  .pkt = V6(.proto = IPPROTO_UDP), DROP("a") },
	{ "empty policy allows", .policy = policy_empty, .pkt = V6(), PASS("default") },
	{ "only default drop", .policy = policy_only_default_drop, .pkt = V4(), DROP("default") },
};

static void test_first_match_default(void **state)
{
	run_table(state, policy_order, cases_order, ARRAY_SIZE(cases_order));
}

/* ---- header parsing: options, extension chains, fragments, ICMP ----------------- */

static const char policy_hdrs[] =
	"rule tcp80 proto tcp dport 80 drop\n"
	"rule tcp_any proto tcp allow\n"
	"rule udp53 dport 53 allow\n"
	"rule udp_any proto udp drop\n"
	"rule icmp4 proto icmp allow\n"
	"rule icmp6 proto icmpv6 drop\n"
	"rule sctp_any proto sctp drop\n"
	"default drop\n";

/* Ethernet padding after a short IPv4 packet: the packet ends at tot_len. */
static size_t pad_to_60(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	if (len < 60)
		memset(fr + len, 0xee, 60 - len);
	return len < 60 ? 60 : len;
}

/* A later IPv4 fragment with no payload at all: nothing to read, nothing malformed. */
static size_t v4_header_only(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	size_t l3 = pkt_l3_offset(o);

	fr[l3 + 2] = 0;
	fr[l3 + 3] = 20;
	return l3 + 20;
}

static const struct xdp_case cases_parse[] = {
	{ "ipv4 options 4 bytes", .pkt = V4(.dport = 80, .ip_options = 4), DROP("tcp80") },
	{ "ipv4 options 40 bytes", .pkt = V4(.dport = 80, .ip_options = 40), DROP("tcp80") },
	{ "ipv4 options, udp", .pkt = V4(.dport = 53, .ip_options = 8, .proto = IPPROTO_UDP),
	  PASS("udp53") },
	{ "ipv4 options behind a vlan tag", .pkt = V4(.dport = 80, .ip_options = 12, .n_vlan = 1,
						      .vlan = { 5 }), DROP("tcp80") },
	{ "ipv4 ethernet padding", .pkt = V4(.dport = 53, .proto = IPPROTO_UDP),
	  .mutate = pad_to_60, PASS("udp53") },
	{ "ipv4 first fragment has ports", .pkt = V4(.dport = 53, .proto = IPPROTO_UDP, .frag = 1),
	  PASS("udp53"), .flags = X_FRAG },
	{ "ipv4 first fragment, tcp", .pkt = V4(.dport = 80, .frag = 1), DROP("tcp80"),
	  .flags = X_FRAG },
	{ "ipv4 later fragment: no ports, proto rule", .pkt = V4(.dport = 53, .proto = IPPROTO_UDP,
								 .frag = 2),
	  DROP("udp_any"), .flags = X_FRAG },
	{ "ipv4 later fragment, tcp", .pkt = V4(.dport = 80, .frag = 2), PASS("tcp_any"),
	  .flags = X_FRAG },
	{ "ipv4 later fragment with options", .pkt = V4(.dport = 53, .proto = IPPROTO_UDP,
							.frag = 2, .ip_options = 8),
	  DROP("udp_any"), .flags = X_FRAG },
	{ "ipv4 later fragment, empty", .pkt = V4(.dport = 53, .proto = IPPROTO_UDP, .frag = 2),
	  .mutate = v4_header_only, DROP("udp_any"), .flags = X_FRAG },
	{ "ipv6 hop-by-hop", .pkt = V6(.dport = 80, EXT(0)), DROP("tcp80") },
	{ "ipv6 hbh + routing + dest-opts", .pkt = V6(.dport = 80, EXT(0, 43, 60)), DROP("tcp80") },
	{ "ipv6 24-byte hbh + routing + dest-opts", .pkt = V6(.dport = 53, .proto = IPPROTO_UDP,
							      EXT(0, 43, 60), .v6_ext_extra = 2),
	  PASS("udp53") },
	{ "ipv6 AH", .pkt = V6(.dport = 80, EXT(51)), DROP("tcp80") },
	{ "ipv6 hbh + AH + dest-opts", .pkt = V6(.dport = 53, .proto = IPPROTO_UDP, EXT(0, 51, 60)),
	  PASS("udp53") },
	{ "ipv6 eight extension headers", .pkt = V6(.dport = 80, EXT(0, 60, 43, 51, 60, 43, 51, 60)),
	  DROP("tcp80") },
	{ "ipv6 first fragment has ports", .pkt = V6(.dport = 53, .proto = IPPROTO_UDP, .frag = 1),
	  PASS("udp53"), .flags = X_FRAG },
	{ "ipv6 later fragment: no ports", .pkt = V6(.dport = 53, .proto = IPPROTO_UDP, .frag = 2),
	  DROP("udp_any"), .flags = X_FRAG },
	{ "ipv6 hbh + later fragment", .pkt = V6(.dport = 80, .frag = 2, EXT(0, 44)),
	  PASS("tcp_any"), .flags = X_FRAG },
	{ "ipv6 atomic fragment has ports", .pkt = V6(.dport = 80, EXT(44)), DROP("tcp80"),
	  .flags = X_FRAG },
	{ "ipv6 behind QinQ with a chain", .pkt = V6(.dport = 80, EXT(0, 60), .n_vlan = 2,
						     .vlan = { 100, 200 }, .qinq = true),
	  DROP("tcp80") },
	{ "icmp echo", .pkt = V4(.proto = IPPROTO_ICMP), PASS("icmp4") },
	{ "icmp echo, options", .pkt = V4(.proto = IPPROTO_ICMP, .ip_options = 4), PASS("icmp4") },
	{ "icmpv6 echo", .pkt = V6(.proto = IPPROTO_ICMPV6), DROP("icmp6") },
	{ "icmpv6 behind hop-by-hop", .pkt = V6(.proto = IPPROTO_ICMPV6, EXT(0)), DROP("icmp6") },
	{ "sctp port rule", .pkt = V6(.proto = IPPROTO_SCTP, .dport = 53), PASS("udp53") },
	{ "sctp proto rule", .pkt = V4(.proto = IPPROTO_SCTP, .dport = 54), DROP("sctp_any") },
};

static void test_parse_headers(void **state)
{
	run_table(state, policy_hdrs, cases_parse, ARRAY_SIZE(cases_parse));
}

/* ---- malformed IP: dropped, counted as malformed, no rule counter moves --------- */

static const char policy_any[] =
	"rule all4 src 0.0.0.0/0 allow\n"
	"rule all6 src ::/0 allow\n";

static size_t m_ihl4(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	fr[pkt_l3_offset(o)] = 0x44;
	return len;
}

static size_t m_ihl0(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	fr[pkt_l3_offset(o)] = 0x40;
	return len;
}

static size_t m_version6_in_v4(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	fr[pkt_l3_offset(o)] = 0x65;
	return len;
}

static size_t m_tot_len_plus1(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	size_t l3 = pkt_l3_offset(o);
	uint16_t tot = (fr[l3 + 2] << 8 | fr[l3 + 3]) + 1;

	fr[l3 + 2] = tot >> 8;
	fr[l3 + 3] = tot & 0xff;
	return len;
}

static size_t m_tot_len_below_ihl(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	size_t l3 = pkt_l3_offset(o);

	fr[l3 + 2] = 0;
	fr[l3 + 3] = 19;
	return len;
}

/* IHL 15 (60 bytes) with tot_len 40. */
static size_t m_ihl_beyond_tot(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	fr[pkt_l3_offset(o)] = 0x4f;
	return len;
}

static size_t m_cut_ip4_hdr(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	return pkt_l3_offset(o) + 19;
}

/* Keep the IPv4 header and `keep` bytes of L4, with a consistent tot_len. */
static size_t cut_v4_l4(uint8_t *fr, const struct pkt_opts *o, size_t keep)
{
	size_t l3 = pkt_l3_offset(o), hl = (fr[l3] & 0xf) * 4;

	fr[l3 + 2] = (hl + keep) >> 8;
	fr[l3 + 3] = (hl + keep) & 0xff;
	return l3 + hl + keep;
}

static size_t m_v4_l4_2(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	return cut_v4_l4(fr, o, 2);
}

static size_t m_v4_l4_3(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	return cut_v4_l4(fr, o, 3);
}

/* The frame ends inside the ports while tot_len still claims the whole packet. */
static size_t m_v4_frame_cut_in_ports(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	size_t l3 = pkt_l3_offset(o), hl = (fr[l3] & 0xf) * 4;

	return l3 + hl + 2;
}

static size_t m_cut_ip6_hdr(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	return pkt_l3_offset(o) + 39;
}

static size_t m_version4_in_v6(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	fr[pkt_l3_offset(o)] = 0x40;
	return len;
}

static size_t m_v6_plen_plus1(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	size_t l3 = pkt_l3_offset(o);
	uint16_t pl = (fr[l3 + 4] << 8 | fr[l3 + 5]) + 1;

	fr[l3 + 4] = pl >> 8;
	fr[l3 + 5] = pl & 0xff;
	return len;
}

/* Keep `keep` bytes after the fixed IPv6 header, payload_len consistent. */
static size_t cut_v6(uint8_t *fr, const struct pkt_opts *o, size_t keep)
{
	size_t l3 = pkt_l3_offset(o);

	fr[l3 + 4] = keep >> 8;
	fr[l3 + 5] = keep & 0xff;
	return l3 + 40 + keep;
}

/* The first extension header claims 8 * (1 + 200) bytes. */
static size_t m_v6_ext_len_huge(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	fr[pkt_l3_offset(o) + 40 + 1] = 200;
	return len;
}

static size_t m_v6_ext_cut4(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	return cut_v6(fr, o, 4);
}

/* The chain is intact but payload_len ends inside the second header. */
static size_t m_v6_plen_in_chain(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	cut_v6(fr, o, 12);
	return len;
}

static size_t m_v6_l4_2(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	return cut_v6(fr, o, 2);
}

static size_t m_v6_chain_l4_3(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	return cut_v6(fr, o, 16 + 3);	/* two 8-byte headers, then 3 bytes of UDP */
}

static const struct xdp_case cases_malformed[] = {
	{ "ipv4 IHL 4", .pkt = V4(), .mutate = m_ihl4, MALFORMED },
	{ "ipv4 IHL 0", .pkt = V4(.proto = IPPROTO_UDP), .mutate = m_ihl0, MALFORMED },
	{ "ipv4 version 6 in an IPv4 frame", .pkt = V4(), .mutate = m_version6_in_v4, MALFORMED },
	{ "ipv4 tot_len one beyond the frame", .pkt = V4(), .mutate = m_tot_len_plus1, MALFORMED },
	{ "ipv4 tot_len beyond the frame, vlan", .pkt = V4(.n_vlan = 1, .vlan = { 7 }),
	  .mutate = m_tot_len_plus1, MALFORMED },
	{ "ipv4 tot_len below the header", .pkt = V4(), .mutate = m_tot_len_below_ihl, MALFORMED },
	{ "ipv4 IHL beyond tot_len", .pkt = V4(), .mutate = m_ihl_beyond_tot, MALFORMED },
	{ "ipv4 header truncated", .pkt = V4(), .mutate = m_cut_ip4_hdr, MALFORMED },
	{ "ipv4 header truncated behind QinQ", .pkt = V4(.n_vlan = 2, .vlan = { 1, 2 },
							 .qinq = true),
	  .mutate = m_cut_ip4_hdr, MALFORMED },
	{ "ipv4 only an ethernet header", .raw_type = 0x0800, MALFORMED },
	{ "ipv4 tcp ports truncated", .pkt = V4(), .mutate = m_v4_l4_2, MALFORMED },
	{ "ipv4 udp ports truncated", .pkt = V4(.proto = IPPROTO_UDP), .mutate = m_v4_l4_3,
	  MALFORMED },
	{ "ipv4 sctp ports truncated", .pkt = V4(.proto = IPPROTO_SCTP), .mutate = m_v4_l4_2,
	  MALFORMED },
	{ "ipv4 options, tcp ports truncated", .pkt = V4(.ip_options = 8), .mutate = m_v4_l4_3,
	  MALFORMED },
	{ "ipv4 frame ends inside the ports", .pkt = V4(), .mutate = m_v4_frame_cut_in_ports,
	  MALFORMED },
	{ "ipv4 first fragment too short for ports", .pkt = V4(.frag = 1), .mutate = m_v4_l4_2,
	  MALFORMED },
	{ "ipv6 header truncated", .pkt = V6(), .mutate = m_cut_ip6_hdr, MALFORMED },
	{ "ipv6 version 4 in an IPv6 frame", .pkt = V6(), .mutate = m_version4_in_v6, MALFORMED },
	{ "ipv6 payload_len beyond the frame", .pkt = V6(), .mutate = m_v6_plen_plus1, MALFORMED },
	{ "ipv6 payload_len beyond the frame, chain", .pkt = V6(EXT(0, 60)),
	  .mutate = m_v6_plen_plus1, MALFORMED },
	{ "ipv6 extension header longer than the frame", .pkt = V6(EXT(0)),
	  .mutate = m_v6_ext_len_huge, MALFORMED },
	{ "ipv6 AH longer than the frame", .pkt = V6(EXT(60, 51)), .mutate = m_v6_ext_len_huge,
	  MALFORMED },
	{ "ipv6 chain cut inside a header", .pkt = V6(EXT(0)), .mutate = m_v6_ext_cut4, MALFORMED },
	{ "ipv6 chain past payload_len", .pkt = V6(EXT(0, 43, 60)), .mutate = m_v6_plen_in_chain,
	  MALFORMED },
	{ "ipv6 nine extension headers", .pkt = V6(EXT(0, 60, 43, 60, 43, 60, 43, 60, 60)),
	  MALFORMED },
	{ "ipv6 tcp ports truncated", .pkt = V6(), .mutate = m_v6_l4_2, MALFORMED },
	{ "ipv6 udp ports truncated after a chain", .pkt = V6(.proto = IPPROTO_UDP, EXT(0, 60)),
	  .mutate = m_v6_chain_l4_3, MALFORMED },
};

static void test_malformed(void **state)
{
	run_table(state, policy_any, cases_malformed, ARRAY_SIZE(cases_malformed));
}

/* ---- frames that are not IP ---------------------------------------------------- */

static const char policy_drop_all[] =
	"rule all4 src 0.0.0.0/0 drop\n"
	"rule all6 src ::/0 drop\n"
	"default drop\n";

static const uint8_t arp_req[28] = {
	0, 1, 0x08, 0, 6, 4, 0, 1,			/* ethernet/IPv4, request */
	2, 0, 0, 0, 0, 1, 192, 168, 1, 1,		/* sender */
	0, 0, 0, 0, 0, 0, 192, 168, 2, 2,		/* target */
};
static const uint8_t lldp[16] = { 0x02, 0x07, 0x04, 2, 0, 0, 0, 0, 1, 0x04, 0x03, 0x05, 'f',
				  'x', 0x00, 0x00 };
static const uint8_t vlan_arp[4 + 28] = { 0x00, 0x0a, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1 };
static const uint8_t vlan_cut[2] = { 0x00, 0x0a };
static const uint8_t qinq_inner_cut[6] = { 0x00, 0x0a, 0x81, 0x00, 0x00 };

static const struct xdp_case cases_non_ip[] = {
	{ "arp", .raw_type = 0x0806, .raw = arp_req, .raw_len = sizeof(arp_req),
	  PASS(NULL), .flags = X_NON_IP },
	{ "lldp", .raw_type = 0x88cc, .raw = lldp, .raw_len = sizeof(lldp), PASS(NULL),
	  .flags = X_NON_IP },
	{ "arp on fx1", .raw_type = 0x0806, .raw = arp_req, .raw_len = sizeof(arp_req), .in = 1,
	  PASS(NULL), .flags = X_NON_IP },
	{ "arp behind a vlan tag", .raw_type = 0x8100, .raw = vlan_arp, .raw_len = sizeof(vlan_arp),
	  PASS(NULL), .flags = X_NON_IP },
	{ "802.3 length field", .raw_type = 0x0026, .raw = lldp, .raw_len = sizeof(lldp),
	  PASS(NULL), .flags = X_NON_IP },
	{ "runt: ethernet header only, vlan type", .raw_type = 0x8100, PASS(NULL),
	  .flags = X_NON_IP },
	{ "runt: vlan tag cut", .raw_type = 0x8100, .raw = vlan_cut, .raw_len = sizeof(vlan_cut),
	  PASS(NULL), .flags = X_NON_IP },
	{ "runt: QinQ inner tag cut", .raw_type = 0x88a8, .raw = qinq_inner_cut,
	  .raw_len = sizeof(qinq_inner_cut), PASS(NULL), .flags = X_NON_IP },
	{ "ip still judged", .pkt = V4(), DROP("all4") },
};

static void test_non_ip(void **state)
{
	run_table(state, policy_drop_all, cases_non_ip, ARRAY_SIZE(cases_non_ip));
}

/* Shorter than an Ethernet header: the kernel refuses to run it, so nothing is counted. */
static void test_runt_below_ethernet(void **state)
{
	struct fx *f = get_fx(state);
	uint8_t fr[13] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08 };
	struct snap a = {}, b = {};
	struct fringe_iface_stats zero[3] = {};
	uint32_t action;

	load_ok(f, policy_drop_all);
	snap_take(f, &a);
	for (size_t len = 0; len < sizeof(fr); len++)
		assert_int_equal(fx_run(f, fr, len, 0, &action), -EINVAL);
	snap_take(f, &b);
	expect_rules("runt", &a, &b, NULL, 0, 0);
	expect_ifs("runt", &a, &b, zero);
	snap_free(&a);
	snap_free(&b);
}

/* ---- steering ---------------------------------------------------------------------- */

static const char policy_steer[] =
	"rule to_fx1 dport 9 steer iface fx1\n"
	"rule to_cpu proto udp dport 10 steer cpu 0\n"
	"rule back_to_fx0 in fx1 dport 11 steer iface fx0\n";

static const struct xdp_case cases_steer[] = {
	{ "steer iface", .pkt = V4(.dport = 9), REDIRECT("to_fx1") },
	{ "steer iface v6", .pkt = V6(.dport = 9, .proto = IPPROTO_UDP), REDIRECT("to_fx1") },
	{ "steer iface from the peer", .pkt = V4(.dport = 9), .in = 1, REDIRECT("to_fx1") },
	{ "steer cpu", .pkt = V4(.dport = 10, .proto = IPPROTO_UDP), REDIRECT("to_cpu") },
	{ "steer cpu, tcp falls to default", .pkt = V4(.dport = 10), PASS("default") },
	{ "steer by ingress", .pkt = V4(.dport = 11), .in = 1, REDIRECT("back_to_fx0") },
	{ "steer by ingress, wrong ingress", .pkt = V4(.dport = 11), PASS("default") },
};

static void test_steer(void **state)
{
	run_table(state, policy_steer, cases_steer, ARRAY_SIZE(cases_steer));
}

/* A load that fails leaves the policy in force: same generation, same verdicts. */
static void expect_load_fails(struct fx *f, const char *policy, const uint8_t *fr, size_t len,
			      uint32_t want_action, const char *want_rule)
{
	uint64_t gen = fx_generation(f), before;
	uint32_t action;
	int err;

	err = fx_load(f, policy);
	if (!err)
		fail_msg("policy loaded but must be refused:\n%s", policy);
	assert_int_equal(fx_generation(f), gen);
	before = fx_rule_packets(f, want_rule);
	assert_int_not_equal(before, UINT64_MAX);
	assert_int_equal(fx_run(f, fr, len, 0, &action), 0);
	assert_int_equal(action, want_action);
	assert_int_equal(fx_rule_packets(f, want_rule), before + 1);
}

static void test_steer_rejected(void **state)
{
	struct fx *f = get_fx(state);
	struct pkt_opts o = V4(.dport = 9);
	uint8_t fr[FRAME_CAP];
	size_t len = pkt_build(fr, sizeof(fr), &o);
	char buf[128];

	assert_true(len > 0);
	load_ok(f, policy_steer);
	expect_load_fails(f, "rule s dport 9 steer iface nosuch\n", fr, len, XDP_REDIRECT, "to_fx1");
	expect_load_fails(f, "rule s dport 9 steer node x\n", fr, len, XDP_REDIRECT, "to_fx1");
	/* `steer overlay` needs no node named at load: test_overlay covers it. */
	snprintf(buf, sizeof(buf), "rule s dport 9 steer cpu %d\n", libbpf_num_possible_cpus());
	expect_load_fails(f, buf, fr, len, XDP_REDIRECT, "to_fx1");
	expect_load_fails(f, "rule s in nosuch drop\n", fr, len, XDP_REDIRECT, "to_fx1");
}

/* ---- token buckets ---------------------------------------------------------------- */

struct limit_step {
	const char *src;	/* NULL: the base packet's */
	uint16_t dport;		/* 0: the base packet's */
	char expect;		/* 'P' pass, 'D' rate-limit drop, 'R' redirect */
	const char *rule;	/* NULL: the case's rule */
};

struct limit_case {
	const char *name;
	const char *policy;
	struct pkt_opts pkt;
	size_t frame_len;	/* 0: as built */
	const char *rule;
	int n;			/* n identical steps of pattern, or steps[] when pattern is NULL */
	const char *pattern;
	struct limit_step steps[16];
};

static const uint8_t zeros[2048];

#define STEP(s, p, e, ...) { .src = (s), .dport = (p), .expect = (e), __VA_ARGS__ }

/* Names differ between cases: a rule whose name survives a reload keeps its bucket. */
static const struct limit_case limit_cases[] = {
	{ "5/s burst 5: ten back-to-back", .policy = "rule lim_pps proto udp allow limit 5/s burst 5\n",
	  .pkt = V4(.proto = IPPROTO_UDP), .rule = "lim_pps", .n = 10, .pattern = "PPPPPDDDDD" },
	{ "burst defaults to one second", .policy = "rule lim_dflt proto udp allow limit 4/s\n",
	  .pkt = V4(.proto = IPPROTO_UDP), .rule = "lim_dflt", .n = 6, .pattern = "PPPPDD" },
	{ "60/min burst 3", .policy = "rule lim_ppm proto tcp allow limit 60/min burst 3\n",
	  .pkt = V4(), .rule = "lim_ppm", .n = 6, .pattern = "PPPDDD" },
	{ "8kbit/s burst 1000 with 400-byte frames",
	  .policy = "rule lim_bps allow limit 8kbit/s burst 1000\n",
	  .pkt = V4(.proto = IPPROTO_UDP, .payload = zeros, .payload_len = 400 - 14 - 20 - 8),
	  .frame_len = 400, .rule = "lim_bps", .n = 5, .pattern = "PPDDD" },
	{ "steer with a limit", .policy = "rule lim_steer dport 9 steer iface fx1 limit 2/s burst 2\n",
	  .pkt = V4(), .rule = "lim_steer", .n = 4, .pattern = "RRDD" },
	{ "per-src: one bucket per source", .policy = "rule lim_src allow limit 2/s burst 2 per-src\n",
	  .pkt = V4(.proto = IPPROTO_UDP), .rule = "lim_src",
	  .steps = { STEP("10.0.0.1", 0, 'P'), STEP("10.0.0.1", 0, 'P'), STEP("10.0.0.1", 0, 'D'),
		     STEP("10.0.0.2", 0, 'P'), STEP("10.0.0.2", 0, 'P'), STEP("10.0.0.2", 0, 'D'),
		     STEP("10.0.0.1", 0, 'D'), STEP("2001:db8::1", 0, 'P'),
		     STEP("2001:db8::1", 0, 'P'), STEP("2001:db8::1", 0, 'D'),
		     STEP("2001:db8::2", 0, 'P') } },
	{ "per-src byte rate", .policy = "rule lim_src_bps allow limit 8kbit/s burst 800 per-src\n",
	  .pkt = V4(.proto = IPPROTO_UDP, .payload = zeros, .payload_len = 400 - 14 - 20 - 8),
	  .frame_len = 400, .rule = "lim_src_bps",
	  .steps = { STEP("10.0.0.1", 0, 'P'), STEP("10.0.0.1", 0, 'P'), STEP("10.0.0.1", 0, 'D'),
		     STEP("10.0.0.2", 0, 'P'), STEP("10.0.0.2", 0, 'P'), STEP("10.0.0.2", 0, 'D') } },
	{ "two limited rules have their own buckets",
	  .policy = "rule l1 dport 1 allow limit 1/s burst 1\n"
		    "rule l2 dport 2 allow limit 1/s burst 1\n",
	  .pkt = V4(),
	  .steps = { STEP(NULL, 1, 'P', .rule = "l1"), STEP(NULL, 2, 'P', .rule = "l2"),
		     STEP(NULL, 1, 'D', .rule = "l1"), STEP(NULL, 2, 'D', .rule = "l2") } },
};

static void run_limit_case(struct fx *f, const struct limit_case *lc)
{
	int n = lc->pattern ? lc->n : 0;
	uint8_t fr[FRAME_CAP];
	char what[160];

	if (!lc->pattern)
		while (n < (int)ARRAY_SIZE(lc->steps) && lc->steps[n].expect)
			n++;
	load_ok(f, lc->policy);
	for (int i = 0; i < n; i++) {
		const struct limit_step *st = lc->pattern ? NULL : &lc->steps[i];
		char e = st ? st->expect : lc->pattern[i];
		const char *rule = st && st->rule ? st->rule : lc->rule;
		struct pkt_opts o = lc->pkt;
		struct fringe_iface_stats delta[3] = {};
		struct snap a = {}, b = {};
		uint32_t action, want;
		size_t len;
		int v;

		if (st && st->src) {
			o.src = st->src;
			o.dst = strchr(st->src, ':') ? "2001:db8:2::2" : "192.168.2.2";
		}
		if (st && st->dport)
			o.dport = st->dport;
		len = pkt_build(fr, sizeof(fr), &o);
		assert_true(len > 0);
		if (lc->frame_len)
			assert_int_equal(len, lc->frame_len);
		want = e == 'P' ? XDP_PASS : e == 'R' ? XDP_REDIRECT : XDP_DROP;
		snprintf(what, sizeof(what), "%s, packet %d", lc->name, i + 1);

		snap_take(f, &a);
		assert_int_equal(fx_run(f, fr, len, 0, &action), 0);
		snap_take(f, &b);
		if (action != want)
			fail_msg("%s: XDP action %u, want %u ('%c')", what, action, want, e);
		/* The rule counts every match, limited or not. */
		expect_rules(what, &a, &b, rule, 1, len);
		v = verdict_of(want);
		delta[0].verdict[v].packets = 1;
		delta[0].verdict[v].bytes = len;
		if (want == XDP_DROP)
			delta[0].drops[FRINGE_DROP_RATE_LIMIT] = 1;
		expect_ifs(what, &a, &b, delta);
		snap_free(&a);
		snap_free(&b);
	}
}

static void test_limits(void **state)
{
	struct fx *f = get_fx(state);

	for (size_t i = 0; i < ARRAY_SIZE(limit_cases); i++)
		run_limit_case(f, &limit_cases[i]);
	table_rows += ARRAY_SIZE(limit_cases);
}

/* ---- reloads ------------------------------------------------------------------------ */

static uint32_t counter_id_of(struct fx *f, const char *name)
{
	const struct fringe_slot_hdr *hdr = maps_active_hdr(&f->m);
	struct fringe_rule_action a[16];
	uint32_t id = UINT32_MAX;

	assert_true(hdr->n_rules <= ARRAY_SIZE(a));
	assert_int_equal(maps_read_actions(&f->m, f->m.meta->active & 1, a, hdr->n_rules), 0);
	for (uint32_t i = 0; i < hdr->n_rules; i++)
		if (!strcmp(f->m.names[a[i].counter_id].name, name))
			id = a[i].counter_id;
	assert_int_not_equal(id, UINT32_MAX);
	return id;
}

/* Run one packet to dport from src; check the action and that `rule` rose by one. */
static void hit(struct fx *f, const char *src, uint16_t dport, uint32_t want_action,
		const char *rule)
{
	struct pkt_opts o = V4(.src = src, .dport = dport, .proto = IPPROTO_UDP);
	uint8_t fr[FRAME_CAP];
	size_t len = pkt_build(fr, sizeof(fr), &o);
	struct snap a = {}, b = {};
	uint32_t action;
	char what[96];

	assert_true(len > 0);
	snprintf(what, sizeof(what), "udp %s -> dport %u (rule %s)", src, dport, rule);
	snap_take(f, &a);
	assert_int_equal(fx_run(f, fr, len, 0, &action), 0);
	snap_take(f, &b);
	if (action != want_action)
		fail_msg("%s: XDP action %u, want %u", what, action, want_action);
	expect_rules(what, &a, &b, rule, 1, len);
	snap_free(&a);
	snap_free(&b);
}

static void test_reload_keeps_counters(void **state)
{
	struct fx *f = get_fx(state);
	uint32_t id_gone, id_gone_ps;
	uint64_t gen;

	load_ok(f, "rule keep dport 80 allow\n"
		   "rule gone dport 81 drop\n"
		   "rule gone_ps dport 82 allow limit 1/s burst 1 per-src\n");
	gen = fx_generation(f);
	assert_true(gen > 0);
	for (int i = 0; i < 3; i++)
		hit(f, "10.0.0.1", 80, XDP_PASS, "keep");
	hit(f, "10.0.0.1", 81, XDP_DROP, "gone");
	hit(f, "10.0.0.1", 81, XDP_DROP, "gone");
	hit(f, "10.0.0.1", 82, XDP_PASS, "gone_ps");
	hit(f, "10.0.0.1", 82, XDP_DROP, "gone_ps");
	assert_int_equal(fx_rule_packets(f, "keep"), 3);
	assert_int_equal(fx_rule_packets(f, "gone"), 2);
	id_gone = counter_id_of(f, "gone");
	id_gone_ps = counter_id_of(f, "gone_ps");

	/* `keep` moves; `fresh` takes the index and the traffic of `gone`. */
	load_ok(f, "rule newr dport 83 drop\n"
		   "rule fresh dport 81 allow\n"
		   "rule keep dport 80 allow\n");
	assert_int_equal(fx_generation(f), gen + 1);
	assert_int_equal(fx_rule_packets(f, "keep"), 3);
	assert_int_equal(fx_rule_packets(f, "newr"), 0);
	assert_int_equal(fx_rule_packets(f, "fresh"), 0);
	assert_int_equal(fx_rule_packets(f, "gone"), UINT64_MAX);
	hit(f, "10.0.0.1", 80, XDP_PASS, "keep");
	assert_int_equal(fx_rule_packets(f, "keep"), 4);
	hit(f, "10.0.0.1", 81, XDP_PASS, "fresh");
	assert_int_equal(fx_rule_packets(f, "fresh"), 1);

	/* Counter ids freed by the previous load are reused: they start from zero,
	 * buckets included (per-source ones too). */
	load_ok(f, "rule keep dport 80 allow\n"
		   "rule reuse2 dport 81 drop\n"
		   "rule reuse dport 82 allow limit 1/s burst 1 per-src\n");
	assert_int_equal(fx_generation(f), gen + 2);
	assert_int_equal(counter_id_of(f, "reuse2"), id_gone);
	assert_int_equal(counter_id_of(f, "reuse"), id_gone_ps);
	assert_int_equal(fx_rule_packets(f, "keep"), 4);
	assert_int_equal(fx_rule_packets(f, "reuse2"), 0);
	assert_int_equal(fx_rule_packets(f, "reuse"), 0);
	assert_int_equal(fx_rule_packets(f, "fresh"), UINT64_MAX);
	hit(f, "10.0.0.1", 82, XDP_PASS, "reuse");
	hit(f, "10.0.0.1", 82, XDP_DROP, "reuse");
	hit(f, "10.0.0.1", 81, XDP_DROP, "reuse2");
	assert_int_equal(fx_rule_packets(f, "reuse"), 2);
	assert_int_equal(fx_rule_packets(f, "reuse2"), 1);
	assert_int_equal(fx_rule_packets(f, "keep"), 4);
}

static void test_failed_load_keeps_policy(void **state)
{
	struct fx *f = get_fx(state);
	struct pkt_opts o = V4(.dport = 80);
	uint8_t fr[FRAME_CAP];
	size_t len = pkt_build(fr, sizeof(fr), &o);

	assert_true(len > 0);
	load_ok(f, "rule a dport 80 drop\n");
	assert_int_equal(fx_generation(f), 1);
	expect_load_fails(f, "rule b dport 80 allow\nrule c dport\n", fr, len, XDP_DROP, "a");
	expect_load_fails(f, "rule b dport 80 allow\nrule c src @nosuch drop\n", fr, len, XDP_DROP,
			  "a");
	expect_load_fails(f, "rule b dport 80 allow\nrule c dport 81 steer iface nosuch\n", fr, len,
			  XDP_DROP, "a");
	expect_load_fails(f, "rule b dport 80 allow\ndefault maybe\n", fr, len, XDP_DROP, "a");
	assert_int_equal(fx_rule_packets(f, "b"), UINT64_MAX);
	assert_int_equal(fx_rule_packets(f, "a"), 4);
	assert_int_equal(fx_generation(f), 1);
}

/* ---- scale: 4096 rules and a set of 65,536 addresses -------------------------------- */

static char *scale_policy(void)
{
	size_t cap = 8 << 20, n = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	n += snprintf(s + n, cap - n, "set big {");
	for (int i = 0; i < 65536; i++)
		n += snprintf(s + n, cap - n, "%s 100.64.%d.%d", i ? "," : "", i >> 8, i & 255);
	n += snprintf(s + n, cap - n, " }\n");
	for (int i = 0; i < FRINGE_MAX_RULES - 1; i++)
		n += snprintf(s + n, cap - n, "rule r%d src 10.%d.%d.0/24 dport %d %s\n", i, i >> 8,
			      i & 255, 1000 + i, i % 2 ? "allow" : "drop");
	n += snprintf(s + n, cap - n, "rule last src @big dport 9000 allow\ndefault drop\n");
	assert_true(n < cap);
	return s;
}

static void test_scale(void **state)
{
	struct fx *f = get_fx(state);
	char *policy = scale_policy();
	const struct xdp_case cases[] = {
		{ "first rule", .pkt = V4(.src = "10.0.0.7", .dport = 1000), DROP("r0") },
		{ "second rule", .pkt = V4(.src = "10.0.1.7", .dport = 1001), PASS("r1") },
		{ "rule 4094", .pkt = V4(.src = "10.15.254.9", .dport = 1000 + 4094), DROP("r4094") },
		{ "rule 4094, wrong port", .pkt = V4(.src = "10.15.254.9", .dport = 1000 + 4093),
		  DROP("default") },
		{ "last rule, first set item", .pkt = V4(.src = "100.64.0.0", .dport = 9000),
		  PASS("last") },
		{ "last rule, last set item", .pkt = V4(.src = "100.64.255.255", .dport = 9000,
							.proto = IPPROTO_UDP), PASS("last") },
		{ "set, wrong port", .pkt = V4(.src = "100.64.1.1", .dport = 9001), DROP("default") },
		{ "outside the set", .pkt = V4(.src = "100.65.0.0", .dport = 9000), DROP("default") },
		{ "no rule", .pkt = V4(.src = "192.168.1.1", .dport = 1000), DROP("default") },
		{ "v6, no rule", .pkt = V6(.dport = 9000), DROP("default") },
	};

	load_ok(f, policy);
	assert_int_equal(maps_active_hdr(&f->m)->n_rules, FRINGE_MAX_RULES);
	run_rows(f, policy, policy, cases, ARRAY_SIZE(cases));
	free(policy);
}

/* ---- the fixture API itself ------------------------------------------------------ */

static void test_fixture_api(void **state)
{
	struct fx *f = get_fx(state);
	struct pkt_opts o = V4(.dport = 80);
	uint8_t fr[FRAME_CAP], out[FRAME_CAP];
	size_t len = pkt_build(fr, sizeof(fr), &o), out_len = sizeof(out);
	struct fringe_iface_stats st0, st1;
	uint32_t action = 0;

	assert_true(len > 0);
	assert_int_not_equal(f->ifindex, 0);
	assert_int_not_equal(f->ifindex2, 0);
	assert_int_not_equal(f->ifindex, f->ifindex2);
	assert_true(f->prog_fd >= 0);
	assert_int_equal(fx_generation(f), 0);
	load_ok(f, "rule web dport 80 allow\nrule other dport 81 drop\n");
	assert_int_equal(fx_generation(f), 1);
	assert_int_equal(fx_rule_packets(f, "web"), 0);
	assert_int_equal(fx_rule_packets(f, "nosuch"), UINT64_MAX);
	assert_int_equal(fx_rule_bytes(f, "nosuch"), UINT64_MAX);
	assert_int_equal(fx_default_packets(f), 0);
	assert_int_equal(fx_rule_packets(f, "default"), 0);

	assert_int_equal(fx_iface_stats(f, f->ifindex, &st0), 0);
	assert_int_equal(fx_run_repeat(f, fr, len, 0, 5, &action), 0);
	assert_int_equal(action, XDP_PASS);
	assert_int_equal(fx_rule_packets(f, "web"), 5);
	assert_int_equal(fx_rule_bytes(f, "web"), 5 * len);
	assert_int_equal(fx_rule_packets(f, "other"), 0);
	assert_int_equal(fx_iface_stats(f, f->ifindex, &st1), 0);
	assert_int_equal(st1.verdict[FRINGE_V_PASS].packets - st0.verdict[FRINGE_V_PASS].packets, 5);

	/* A pass leaves the frame as it was. */
	assert_int_equal(fx_run_out(f, fr, len, f->ifindex2, &action, out, &out_len), 0);
	assert_int_equal(action, XDP_PASS);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, fr, len);
	assert_int_equal(fx_rule_packets(f, "web"), 6);
	assert_int_equal(fx_iface_stats(f, f->ifindex2, &st1), 0);
	assert_int_equal(st1.verdict[FRINGE_V_PASS].packets, 1);

	/* No match: default (allow, no default line), counted under id 0. */
	o.dport = 82;
	len = pkt_build(fr, sizeof(fr), &o);
	assert_int_equal(fx_run(f, fr, len, 0, &action), 0);
	assert_int_equal(action, XDP_PASS);
	assert_int_equal(fx_default_packets(f), 1);
	assert_int_equal(fx_rule_packets(f, "default"), 1);
}

static int report_rows(void **state)
{
	fprintf(stderr, "test_xdp: %zu fixture-table rows run\n", table_rows);
	return 0;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_fixture_api),
		T(test_match_addr),
		T(test_match_l4),
		T(test_match_l2),
		T(test_first_match_default),
		T(test_parse_headers),
		T(test_malformed),
		T(test_non_ip),
		T(test_runt_below_ethernet),
		T(test_steer),
		T(test_steer_rejected),
		T(test_limits),
		T(test_reload_keeps_counters),
		T(test_failed_load_keeps_policy),
		T(test_scale),
	};
#undef T

	return cmocka_run_group_tests_name("xdp", tests, NULL, report_rows);
}
