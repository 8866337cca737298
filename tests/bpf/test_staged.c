// SPDX-License-Identifier: GPL-2.0
/* Staged policies (SPEC §11): the active policy decides, the staged one counts its rules and the verdicts it would change. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

#include <cmocka.h>

#include "fixture.h"
#include "fixture_cmocka.h"
#include "pkt.h"
#include "staged.h"

#define FRAME_CAP 2048

static const char *const active_policy =
	"rule web proto tcp dport 80 allow\n"
	"rule ssh proto tcp dport 22 drop\n"
	"default allow\n";

static const char *const staged_policy =
	"device cam mac 02:00:00:00:00:0c ip 10.9.0.12\n"
	"rule web proto tcp dport 80 drop\n"		/* 1: allow -> drop */
	"rule ssh2 proto tcp dport 22 allow\n"		/* 2: drop -> allow */
	"rule to-fx1 proto udp dport 5 steer iface fx1\n" /* 3: allow -> steer */
	"rule coap app coap drop\n"			/* 4: an app the active policy has no use for */
	"rule cam-ntp device cam proto udp dport 123 allow\n" /* 5: a device it does not declare */
	"rule same proto udp dport 53 allow\n"		/* 6: no change */
	"default drop\n";

/* One frame of the table below. */
struct row {
	const char *what;
	const char *src, *smac;
	uint8_t proto;
	uint16_t dport;
	uint32_t action;	/* the active policy's: the packet's fate */
	uint32_t staged_rule;	/* staged rule index + 1, 0: its default */
	int changed;		/* the staged verdict differs */
	uint8_t from, to;	/* FRINGE_VC_* when changed */
	const char *from_rule;	/* the active rule, "default" */
};

static const struct row rows[] = {
	{ "tcp 80: allowed, would drop", "10.9.0.1", NULL, IPPROTO_TCP, 80, XDP_PASS, 1, 1,
	  FRINGE_VC_ALLOW, FRINGE_VC_DROP, "web" },
	{ "tcp 22: dropped, would allow", "10.9.0.1", NULL, IPPROTO_TCP, 22, XDP_DROP, 2, 1,
	  FRINGE_VC_DROP, FRINGE_VC_ALLOW, "ssh" },
	{ "udp 5: allowed, would steer", "10.9.0.1", NULL, IPPROTO_UDP, 5, XDP_PASS, 3, 1,
	  FRINGE_VC_ALLOW, FRINGE_VC_STEER, "default" },
	{ "coap: allowed, would drop by app", "10.9.0.1", NULL, IPPROTO_UDP, 5683, XDP_PASS, 4, 1,
	  FRINGE_VC_ALLOW, FRINGE_VC_DROP, "default" },
	{ "ntp from cam: allowed either way", "10.9.0.12", "02:00:00:00:00:0c", IPPROTO_UDP, 123,
	  XDP_PASS, 5, 0, 0, 0, NULL },
	{ "ntp from another MAC with cam's address: would drop", "10.9.0.12",
	  "02:00:00:00:00:0d", IPPROTO_UDP, 123, XDP_PASS, 0, 1, FRINGE_VC_ALLOW, FRINGE_VC_DROP,
	  "default" },
	{ "udp 53: allowed either way", "10.9.0.1", NULL, IPPROTO_UDP, 53, XDP_PASS, 6, 0, 0, 0,
	  NULL },
	{ "udp 9: allowed, would drop by default", "10.9.0.1", NULL, IPPROTO_UDP, 9, XDP_PASS, 0, 1,
	  FRINGE_VC_ALLOW, FRINGE_VC_DROP, "default" },
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

static size_t frame(uint8_t *buf, const struct row *r, uint16_t sport)
{
	static const uint8_t coap[] = { 0x40, 0x01, 0x12, 0x34, 0xb1, 't' };	/* CON GET */
	struct pkt_opts o = {
		.src = r->src, .dst = "10.9.1.1", .proto = r->proto, .sport = sport,
		.dport = r->dport, .smac = r->smac,
		.payload = r->dport == 5683 ? coap : NULL,
		.payload_len = r->dport == 5683 ? sizeof(coap) : 0,
	};
	size_t len = pkt_build(buf, FRAME_CAP, &o);

	assert_true(len > 0);
	return len;
}

static uint32_t run(struct fx *f, const uint8_t *buf, size_t len, uint32_t repeat)
{
	uint32_t action = UINT32_MAX;

	assert_int_equal(fx_run_repeat(f, buf, len, 0, repeat, &action), 0);
	return action;
}

static void stage_ok(struct fx *f, const char *policy)
{
	int err = fx_stage(f, policy);

	if (err)
		fail_msg("fx_stage failed (%s) for policy:\n%s", strerror(-err), policy);
}

/* Each row i sent i + 1 times (counts tell the rows apart), from sport 1000 + i. */
static void test_table(void **state)
{
	struct fx *f = get_fx(state);
	uint8_t buf[FRAME_CAP];
	struct fringe_counter *cnt = NULL;
	struct staged_change *ch = NULL;
	uint64_t want[FRINGE_MAX_RULES + 2] = {};
	size_t n = 0, n_changed = 0;

	load_ok(f, active_policy);
	stage_ok(f, staged_policy);
	for (size_t i = 0; i < N_ROWS; i++) {
		size_t len = frame(buf, &rows[i], 1000 + i);
		uint32_t action = run(f, buf, len, i + 1);

		if (action != rows[i].action)
			fail_msg("%s: action %u, want %u (the active policy decides)", rows[i].what,
				 action, rows[i].action);
		want[rows[i].staged_rule] += i + 1;
		n_changed += rows[i].changed;
	}
	assert_int_equal(staged_read_counters(&f->m, &cnt), 0);
	for (uint32_t r = 0; r <= 6; r++)
		if (cnt[r].packets != want[r])
			fail_msg("staged counter %u: %llu packets, want %llu", r,
				 (unsigned long long)cnt[r].packets, (unsigned long long)want[r]);
	assert_int_equal(cnt[FRINGE_STAGED_LOST].packets, 0);

	assert_int_equal(staged_read_changes(&f->m, &ch, &n), 0);
	/* The two rows to the staged default from the active default share a pair. */
	assert_int_equal(n, n_changed - 1);
	for (size_t i = 0; i < N_ROWS; i++) {
		const struct row *r = &rows[i];
		uint32_t from_id = UINT32_MAX;
		uint64_t pkts = 0;
		bool found = false;

		if (!r->changed)
			continue;
		assert_int_equal(fx_rule_id(f, r->from_rule, &from_id), 0);
		for (size_t j = 0; j < N_ROWS; j++)
			if (rows[j].changed && rows[j].staged_rule == r->staged_rule &&
			    !strcmp(rows[j].from_rule, r->from_rule) && rows[j].from == r->from)
				pkts += j + 1;
		for (size_t k = 0; k < n; k++) {
			const struct staged_change *c = &ch[k];

			if (c->key.from_rule != from_id || c->key.to_rule != r->staged_rule)
				continue;
			found = true;
			if (c->key.from != r->from || c->key.to != r->to || c->v.packets != pkts)
				fail_msg("%s: pair %u/%u -> %u/%u, %llu packets; want %u/%u -> %u/%u, %llu",
					 r->what, c->key.from_rule, c->key.from, c->key.to_rule, c->key.to,
					 (unsigned long long)c->v.packets, from_id, r->from,
					 r->staged_rule, r->to, (unsigned long long)pkts);
		}
		if (!found)
			fail_msg("%s: no change recorded", r->what);
	}
	/* Heaviest first, and the last flow is a packet's own. */
	for (size_t k = 1; k < n; k++)
		assert_true(ch[k - 1].v.packets >= ch[k].v.packets);
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(ch[k].v.family, 4);
		assert_int_equal(ch[k].v.ifindex, f->ifindex);
		assert_true(ch[k].v.sport >= 1000 && ch[k].v.sport < 1000 + N_ROWS);
		assert_int_equal(ch[k].v.dport, rows[ch[k].v.sport - 1000].dport);
	}
	free(cnt);
	free(ch);
}

/* Without a staged policy the program never reaches the staged one; after
 * unstage its maps are gone and verdicts are the active policy's. */
static void test_unstage(void **state)
{
	struct fx *f = get_fx(state);
	struct fringe_counter *cnt = NULL;
	uint8_t buf[FRAME_CAP];
	size_t len = frame(buf, &rows[1], 1001);

	load_ok(f, active_policy);
	assert_int_equal(staged_remove(&f->m), -ENOENT);
	assert_int_equal(run(f, buf, len, 3), XDP_DROP);
	assert_int_equal(staged_read_counters(&f->m, &cnt), -ENOENT);
	stage_ok(f, staged_policy);
	assert_int_equal(run(f, buf, len, 3), XDP_DROP);
	assert_int_equal(staged_read_counters(&f->m, &cnt), 0);
	assert_int_equal(cnt[2].packets, 3);
	free(cnt);
	assert_int_equal(staged_remove(&f->m), 0);
	assert_int_equal(run(f, buf, len, 3), XDP_DROP);
	assert_int_equal(staged_read_counters(&f->m, &cnt), -ENOENT);
	assert_null(staged_hdr(&f->m));
}

/* A reload of the active policy leaves the staged one judging; a restage
 * starts from zero. */
static void test_reload_and_restage(void **state)
{
	struct fx *f = get_fx(state);
	struct fringe_counter *cnt = NULL;
	struct staged_change *ch = NULL;
	uint8_t buf[FRAME_CAP];
	size_t n = 0, len = frame(buf, &rows[0], 1000);

	load_ok(f, active_policy);
	stage_ok(f, staged_policy);
	assert_int_equal(run(f, buf, len, 4), XDP_PASS);
	load_ok(f, "rule web proto tcp dport 80 drop\ndefault allow\n");
	assert_int_equal(run(f, buf, len, 2), XDP_DROP);
	assert_int_equal(staged_read_counters(&f->m, &cnt), 0);
	assert_int_equal(cnt[1].packets, 6);
	free(cnt);
	/* Under the new active policy web drops too: no change for those two. */
	assert_int_equal(staged_read_changes(&f->m, &ch, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ch[0].v.packets, 4);
	free(ch);
	assert_int_not_equal(staged_hdr(&f->m)->generation, fx_generation(f));
	stage_ok(f, staged_policy);
	assert_int_equal(staged_read_counters(&f->m, &cnt), 0);
	assert_int_equal(cnt[1].packets, 0);
	free(cnt);
	assert_int_equal(staged_read_changes(&f->m, &ch, &n), 0);
	assert_int_equal(n, 0);
	free(ch);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_table),
		T(test_unstage),
		T(test_reload_and_restage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
