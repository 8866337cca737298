// SPDX-License-Identifier: GPL-2.0
/* bench_cost: per-packet cost of fringe, the floor program and xdp-filter, by BPF_PROG_TEST_RUN. */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "../bpf/fixture.h"
#include "../bpf/pkt.h"
#include "compile.h"
#include "policy.h"

#define REPEAT 1000000
#define RUNS 5

static const char *const packet_names[] = { "mqtt-first", "last-rule", "default", "ipv6-2ext" };
/* The XDP action each system must give each packet: a cost measured on a
 * packet that took another path is no measure, so a mismatch fails the run. */
static const uint32_t want_floor[4] = { XDP_PASS, XDP_PASS, XDP_PASS, XDP_PASS };
static const uint32_t want_fringe[4] = { XDP_PASS, XDP_PASS, XDP_DROP, XDP_DROP };
/* xdp-filter denies port 1883 (and 10.1.2.3, which no packet carries). */
static const uint32_t want_xdp_filter[4] = { XDP_DROP, XDP_PASS, XDP_PASS, XDP_PASS };
static int wrong_actions;	/* measurements refused for a wrong action */

/* The bench policy: rule 1 admits MQTT from a set of sensors, rules 2..N-1
 * drop UDP from distinct /24s to distinct ports, rule N admits MQTT over TLS
 * from one /24; everything else falls to `default drop`. */
static char *bench_policy(int rules, int items)
{
	size_t cap = (size_t)items * 24 + (size_t)rules * 96 + 4096, n = 0;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	n += sprintf(s + n, "set sensors { ");
	for (int i = 0; i < items; i++)
		n += sprintf(s + n, "%s172.%d.%d.%d", i ? ", " : "", 16 + (i >> 16), (i >> 8) & 255,
			     i & 255);
	n += sprintf(s + n, " }\nrule mqtt src @sensors proto tcp dport 1883 allow\n");
	for (int i = 1; i < rules - 1; i++)
		n += sprintf(s + n, "rule r%d src 10.%d.%d.0/24 proto udp dport %d drop\n", i, i >> 8,
			     i & 255, 1000 + i);
	n += sprintf(s + n, "rule last src 192.168.77.0/24 proto tcp dport 8883 allow\n"
			    "default drop\n");
	return s;
}

static size_t bench_packet(int which, uint8_t *buf, size_t cap)
{
	static const uint8_t mqtt_connect[] = { 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
						0x02, 0x00, 0x3c, 0x00, 0x00 };
	static const uint8_t ext2[] = { 0, 60 };
	struct pkt_opts o = { .proto = IPPROTO_TCP, .sport = 40000 };

	switch (which) {
	case 0:
		o.src = "172.16.1.2", o.dst = "10.200.0.1", o.dport = 1883;
		o.payload = mqtt_connect, o.payload_len = sizeof(mqtt_connect);
		break;
	case 1:
		o.src = "192.168.77.9", o.dst = "10.200.0.1", o.dport = 8883;
		break;
	case 2:
		o.src = "192.168.99.9", o.dst = "10.200.0.1", o.dport = 9999;
		break;
	default:
		o.src = "2001:db8::1", o.dst = "2001:db8::2", o.proto = IPPROTO_UDP, o.dport = 53;
		o.v6_ext = ext2, o.n_v6_ext = 2;
		break;
	}
	return pkt_build(buf, cap, &o);
}

static int cmp_u32(const void *a, const void *b)
{
	return (*(const uint32_t *)a > *(const uint32_t *)b) - (*(const uint32_t *)a < *(const uint32_t *)b);
}

/* Median over RUNS of the kernel's average ns per run of `repeat` packets;
 * -EPROTO when a run's action is not `want`. */
static int cost_ns(int prog_fd, uint32_t ifindex, const void *frame, size_t len, uint32_t *median,
		   uint32_t *action, uint32_t want, const char *what)
{
	uint32_t d[RUNS];

	for (int r = 0; r < RUNS; r++) {
		struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = REPEAT);

		if (bpf_prog_test_run_opts(prog_fd, &o))
			return -errno;
		d[r] = o.duration;
		*action = o.retval;
		if (o.retval != want) {
			fprintf(stderr, "bench_cost: %s: XDP action %u where %u was expected\n", what,
				o.retval, want);
			wrong_actions++;
			return -EPROTO;
		}
	}
	qsort(d, RUNS, sizeof(*d), cmp_u32);
	*median = d[RUNS / 2];
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	return (*(const double *)a > *(const double *)b) - (*(const double *)a < *(const double *)b);
}

#define ROUNDS 9

/* The goal ratios, measured side by side: each round runs the floor,
 * xdp-filter, fringe at 16 and at 4096 rules (two private instances) on the
 * last-rule packet, one after the other; the ratios are the medians of the
 * rounds' ratios, so a slow spell of this shared machine hits both sides. */
static void headline(int floor_fd, int xf_fd, struct fx *f16, struct fx *f4096, uint32_t ifindex,
		     const void *frame, size_t len)
{
	double r_floor[ROUNDS], r_16[ROUNDS], r_xf[ROUNDS], fl[ROUNDS], big[ROUNDS];
	uint32_t a[4], t[4];
	int n = 0;

	for (int r = 0; r < ROUNDS; r++) {
		if (cost_ns(floor_fd, ifindex, frame, len, &t[0], &a[0], want_floor[1], "floor") ||
		    cost_ns(f16->prog_fd, ifindex, frame, len, &t[1], &a[1], want_fringe[1], "fringe-16") ||
		    cost_ns(f4096->prog_fd, ifindex, frame, len, &t[2], &a[2], want_fringe[1], "fringe-4096"))
			continue;
		t[3] = 0;
		if (xf_fd >= 0 &&
		    cost_ns(xf_fd, ifindex, frame, len, &t[3], &a[3], want_xdp_filter[1], "xdp-filter"))
			t[3] = 0;
		fl[n] = t[0];
		big[n] = t[2];
		r_floor[n] = (double)t[2] / t[0];
		r_16[n] = (double)t[2] / t[1];
		r_xf[n] = t[3] ? (double)t[2] / t[3] : 0;
		n++;
	}
	if (!n)
		return;
	qsort(r_floor, n, sizeof(double), cmp_double);
	qsort(r_16, n, sizeof(double), cmp_double);
	qsort(r_xf, n, sizeof(double), cmp_double);
	qsort(fl, n, sizeof(double), cmp_double);
	qsort(big, n, sizeof(double), cmp_double);
	printf("  \"headline\": {\"rounds\": %d, \"packet\": \"last-rule\", \"set_items\": 65536, "
	       "\"floor_ns\": %.0f, \"fringe_4096_ns\": %.0f, \"ratio_floor\": %.3f, "
	       "\"ratio_16\": %.3f, \"ratio_xdp_filter\": %.3f},\n",
	       n, fl[n / 2], big[n / 2], r_floor[n / 2], r_16[n / 2], xf_fd >= 0 ? r_xf[n / 2] : 0.0);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int floor_fd(const char *obj_path, struct bpf_object **obj)
{
	struct bpf_program *p;

	*obj = bpf_object__open_file(obj_path, NULL);
	if (!*obj || bpf_object__load(*obj))
		return -1;
	p = bpf_object__find_program_by_name(*obj, "floor_xdp");
	return p ? bpf_program__fd(p) : -1;
}

/* xdp-filter from Debian's xdp-tools, loaded on fx1 with one port and one address rule. */
static int xdp_filter_fd(uint32_t ifindex)
{
	__u32 id = 0;

	if (system("xdp-filter load -m skb fx1 >/dev/null 2>&1") ||
	    system("xdp-filter port 1883 >/dev/null 2>&1") ||
	    system("xdp-filter ip 10.1.2.3 >/dev/null 2>&1"))
		return -1;
	if (bpf_xdp_query_id(ifindex, XDP_FLAGS_SKB_MODE, &id) || !id)
		return -1;
	return bpf_prog_get_fd_by_id(id);
}

static void print_row(FILE *out, const char *system, int rules, int items, const char *mode,
		      int pkt, uint32_t ns, uint32_t action, bool *first)
{
	fprintf(out, "%s\n    {\"system\": \"%s\", \"rules\": %d, \"set_items\": %d, \"mode\": \"%s\", "
		     "\"packet\": \"%s\", \"ns\": %u, \"action\": %u}",
		*first ? "" : ",", system, rules, items, mode, packet_names[pkt], ns, action);
	*first = false;
}

int main(int argc, char **argv)
{
	static const int rule_counts_all[] = { 16, 256, 1024, 4096 }, rule_counts_quick[] = { 16, 4096 };
	static const int item_counts_all[] = { 1000, 65536 }, item_counts_quick[] = { 65536 };
	/* BENCH_QUICK: the extremes only, classification only (per-stage profiles). */
	bool quick = getenv("BENCH_QUICK") != NULL;
	const int *rule_counts = quick ? rule_counts_quick : rule_counts_all;
	const int *item_counts = quick ? item_counts_quick : item_counts_all;
	size_t n_rules = quick ? 2 : 4, n_items = quick ? 1 : 2;
	const char *floor_obj = argc > 1 ? argv[1] : "build/bench/floor.bpf.o";
	uint8_t frames[4][256];
	size_t lens[4];
	struct bpf_object *fobj = NULL;
	struct fx f, f16, f4096;
	int floor_prog, xf_prog;
	bool first = true;
	uint32_t ns, action;
	int err, fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	err = fx_open(&f);
	if (err) {
		fprintf(stderr, "bench_cost: cannot open a private data plane: %s\n", strerror(-err));
		return err == -EPERM ? 77 : 1;
	}
	for (int p = 0; p < 4; p++)
		lens[p] = bench_packet(p, frames[p], sizeof(frames[p]));

	printf("{\n  \"repeat\": %d, \"runs\": %d,\n  \"cost\": [", REPEAT, RUNS);
	fd = floor_fd(floor_obj, &fobj);
	if (fd < 0) {
		fprintf(stderr, "bench_cost: cannot load the floor program %s\n", floor_obj);
		return 1;
	}
	for (int p = 0; p < 4; p++)
		if (!cost_ns(fd, f.ifindex, frames[p], lens[p], &ns, &action, want_floor[p], packet_names[p]))
			print_row(stdout, "floor", 0, 0, "-", p, ns, action, &first);
	floor_prog = fd;
	fd = quick ? -1 : xdp_filter_fd(f.ifindex2);
	xf_prog = fd;
	if (fd >= 0) {
		for (int p = 0; p < 4; p++)
			if (!cost_ns(fd, f.ifindex, frames[p], lens[p], &ns, &action,
				     want_xdp_filter[p], packet_names[p]))
				print_row(stdout, "xdp-filter", 2, 0, "-", p, ns, action, &first);
	} else if (!quick) {
		fprintf(stderr, "bench_cost: xdp-filter unavailable; its rows are missing\n");
	}

	for (size_t ri = 0; ri < n_rules; ri++) {
		for (size_t ii = 0; ii < n_items; ii++) {
			char *text = bench_policy(rule_counts[ri], item_counts[ii]);

			if (!text || fx_load(&f, text)) {
				fprintf(stderr, "bench_cost: cannot load the %d-rule policy\n",
					rule_counts[ri]);
				return 1;
			}
			free(text);
			for (int cache = quick ? 0 : 1; cache >= 0; cache--) {
				if (cache)
					f.m.meta->flags |= FRINGE_META_FLOWS;
				else
					f.m.meta->flags &= ~FRINGE_META_FLOWS;
				for (int p = 0; p < 4; p++)
					if (!cost_ns(f.prog_fd, f.ifindex, frames[p], lens[p], &ns,
						     &action, want_fringe[p], packet_names[p]))
						print_row(stdout, "fringe", rule_counts[ri], item_counts[ii],
							  cache ? "flow-cache" : "classify", p, ns, action,
							  &first);
			}
		}
	}
	printf("\n  ],\n");

	/* Two instances side by side for the goal ratios. */
	{
		char *p16 = bench_policy(16, 65536), *p4096 = bench_policy(4096, 65536);

		if (p16 && p4096 && !fx_open(&f16) && !fx_open(&f4096) && !fx_load(&f16, p16) &&
		    !fx_load(&f4096, p4096))
			headline(floor_prog, xf_prog, &f16, &f4096, f.ifindex, frames[1], lens[1]);
		free(p16);
		free(p4096);
		fx_close(&f16);
		fx_close(&f4096);
	}
	if (xf_prog >= 0) {
		close(xf_prog);
		system("xdp-filter unload fx1 >/dev/null 2>&1");
	}

	/* Control plane at the largest size, in-process: parse + compile + load, then reload. */
	{
		char *text = bench_policy(4096, 65536);
		double t0 = now_ms(), t1, t2;
		struct rusage ru;

		err = fx_load(&f, text);
		t1 = now_ms();
		if (!err)
			err = fx_load(&f, text);
		t2 = now_ms();
		if (err) {
			fprintf(stderr, "bench_cost: the timed 4096-rule load failed: %s\n",
				strerror(-err));
			return 1;
		}
		getrusage(RUSAGE_SELF, &ru);
		printf("  \"load_ms\": %.1f,\n  \"reload_ms\": %.1f,\n  \"bench_rss_kib\": %ld\n}\n",
		       t1 - t0, t2 - t1, ru.ru_maxrss);
		free(text);
	}
	bpf_object__close(fobj);
	fx_close(&f);
	if (wrong_actions) {
		fprintf(stderr, "bench_cost: %d measurements gave an unexpected XDP action\n",
			wrong_actions);
		return 1;
	}
	return 0;
}
