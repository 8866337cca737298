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
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "../bpf/fixture.h"
#include "../bpf/pkt.h"
#include "compile.h"
#include "fringe_xdp.skel.h"
#include "policy.h"

#ifndef REPEAT
#define REPEAT 1000000
#endif
#ifndef RUNS
#define RUNS 5
#endif
#define IOT_POLICY "examples/iot-gateway.policy"
/* The data plane (the object fringe's skeleton holds). */
#define FRINGE_OBJ "build/bpf/fringe_xdp.bpf.o"
/* The data plane built so that its rule memo always misses: a flow's first packet. */
#define MEMO_MISS_OBJ "build/bench/fringe_memo_miss.bpf.o"

enum bench_pkt { P_MQTT, P_LAST, P_DEFAULT, P_V6, P_VLAN, P_IOT, P_COUNT };
static const char *const packet_names[P_COUNT] = {
	"mqtt-first", "last-rule", "default", "ipv6-hbh-rh", "vlan-last-rule", "iot-publish",
};

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

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (s = calloc(1, n + 1)) && fread(s, 1, n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

static size_t bench_packet(int which, uint8_t *buf, size_t cap)
{
	static const uint8_t mqtt_connect[] = { 0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
						0x02, 0x00, 0x3c, 0x00, 0x00 };
	/* PUBLISH, QoS 0, topic "t/temp", payload "21.5". */
	static const uint8_t mqtt_publish[] = { 0x30, 0x0c, 0x00, 0x06, 't', '/', 't', 'e', 'm', 'p',
						'2', '1', '.', '5' };
	static const uint8_t hbh_rh[] = { 0, 43 };
	struct pkt_opts o = { .proto = IPPROTO_TCP, .sport = 40000 };

	switch (which) {
	case P_MQTT:
		o.src = "172.16.1.2", o.dst = "10.200.0.1", o.dport = 1883;
		o.payload = mqtt_connect, o.payload_len = sizeof(mqtt_connect);
		break;
	case P_VLAN:
		o.n_vlan = 1, o.vlan[0] = 100;
		/* fall through */
	case P_LAST:
		o.src = "192.168.77.9", o.dst = "10.200.0.1", o.dport = 8883;
		break;
	case P_DEFAULT:
		o.src = "192.168.99.9", o.dst = "10.200.0.1", o.dport = 9999;
		break;
	case P_V6:
		o.src = "2001:db8::1", o.dst = "2001:db8::2", o.dport = 8883;
		o.v6_ext = hbh_rh, o.n_v6_ext = 2;
		break;
	default:	/* sensor1 of examples/iot-gateway.policy publishes to the broker */
		o.src = "10.77.1.10", o.dst = "10.77.100.10", o.dport = 1883;
		o.smac = "02:77:01:00:00:0a";
		o.payload = mqtt_publish, o.payload_len = sizeof(mqtt_publish);
		o.tcp_flags = 0x18;	/* PSH, ACK */
		break;
	}
	return pkt_build(buf, cap, &o);
}

/* The verdict each system must give each packet; a cost measured on another
 * path is not the cost it claims to be, so a mismatch fails the bench. */
static uint32_t expected_action(const char *system, int pkt)
{
	if (!strcmp(system, "floor") || !strcmp(system, "pass"))
		return XDP_PASS;
	if (!strcmp(system, "xdp-filter"))	/* drops destination port 1883 */
		return pkt == P_MQTT || pkt == P_IOT ? XDP_DROP : XDP_PASS;
	if (!strcmp(system, "fringe-iot"))
		return pkt == P_IOT ? XDP_PASS : XDP_DROP;
	/* the bench policy: IPv4 only, default drop */
	return pkt == P_MQTT || pkt == P_LAST || pkt == P_VLAN ? XDP_PASS : XDP_DROP;
}

static int cmp_u32(const void *a, const void *b)
{
	return (*(const uint32_t *)a > *(const uint32_t *)b) - (*(const uint32_t *)a < *(const uint32_t *)b);
}

static uint8_t frames[P_COUNT][256];
static size_t lens[P_COUNT];
static int wrong_actions;	/* measurements refused for a wrong action */

/* One run of `repeat` packets: the kernel's average ns per packet; -EPROTO
 * when the run's action is not the expected one (the run then fails). */
static int cost_run(const char *system, int prog_fd, uint32_t ifindex, int pkt, int repeat, uint32_t *ns)
{
	uint32_t want = expected_action(system, pkt);
	struct xdp_md ctx = { .data_end = lens[pkt], .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frames[pkt], .data_size_in = lens[pkt],
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	/* BENCH_ANY_ACTION: for BENCH_ONLY=ab against a build that stops
	 * early (-DFRINGE_PROFILE_STAGE=N), whose verdict is not fringe's. */
	if (o.retval != want && !getenv("BENCH_ANY_ACTION")) {
		fprintf(stderr, "bench_cost: %s returned XDP action %u on the %s packet, not %u: "
			"its cost would be another path's\n", system, o.retval, packet_names[pkt], want);
		wrong_actions++;
		return -EPROTO;
	}
	*ns = o.duration;
	return 0;
}

/* Median over RUNS runs of REPEAT packets. */
static int cost_ns(const char *system, int prog_fd, uint32_t ifindex, int pkt, uint32_t *median)
{
	uint32_t d[RUNS];

	for (int r = 0; r < RUNS; r++) {
		int err = cost_run(system, prog_fd, ifindex, pkt, REPEAT, &d[r]);

		if (err)
			return err;
	}
	qsort(d, RUNS, sizeof(*d), cmp_u32);
	*median = d[RUNS / 2];
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	return (*(const double *)a > *(const double *)b) - (*(const double *)a < *(const double *)b);
}

#ifndef ROUNDS
#define ROUNDS 61
#endif
#ifndef HEAD_REPEAT
#define HEAD_REPEAT 200000
#endif

/* One contender of the side-by-side rounds: a program and the packet it judges. */
struct contender {
	const char *key;	/* name in the JSON */
	const char *system;	/* for expected_action */
	int prog_fd;		/* < 0: not available, skipped */
	int pkt;
	uint32_t ns[ROUNDS];
};

/* A goal ratio: contender num ÷ contender den, per round, then the median. */
static const struct {
	const char *key, *num, *den;
} ratios[] = {
	{ "ratio_floor", "fringe_4096", "floor" },
	{ "ratio_pass", "fringe_4096", "pass" },
	{ "ratio_iot_floor", "fringe_iot", "floor" },
	{ "ratio_16", "fringe_4096", "fringe_16" },
	{ "ratio_xdp_filter", "fringe_4096", "xdp_filter" },
	{ "ratio_v6_floor", "fringe_4096_v6", "floor" },
	{ "ratio_vlan_floor", "fringe_4096_vlan", "floor" },
	/* a flow's first packet: the rule memo misses (MEMO_MISS_OBJ) */
	{ "ratio_miss_floor", "fringe_4096_miss", "floor" },
	{ "ratio_miss_pass", "fringe_4096_miss", "pass" },
	{ "ratio_iot_miss_floor", "fringe_iot_miss", "floor" },
	{ "ratio_miss_16", "fringe_4096_miss", "fringe_16_miss" },
	{ "ratio_miss_xdp_filter", "fringe_4096_miss", "xdp_filter" },
	/* BENCH_ONLY=ab: a build against another */
	{ "ab_4096", "new_4096", "base_4096" },
	{ "ab_iot", "new_iot", "base_iot" },
	{ "ab_v6", "new_v6", "base_v6" },
	{ "ab_base_iot_floor", "base_iot", "floor" },
	{ "ab_new_iot_floor", "new_iot", "floor" },
	{ "ab_base_4096_floor", "base_4096", "floor" },
	{ "ab_new_4096_floor", "new_4096", "floor" },
	{ "ratio_staged", "fringe_4096_staged", "fringe_4096" },
	{ "ratio_dns", "fringe_4096_dns", "fringe_4096" },
};

static struct contender *find_contender(struct contender *c, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(c[i].key, key))
			return c[i].prog_fd >= 0 ? &c[i] : NULL;
	return NULL;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return v[n / 2];
}

/* Every goal ratio whose two contenders ran: "key": the median over the
 * rounds r < n with use[r] (use NULL: all of them), each after lead (the
 * first after first_lead, the others after ", "). */
static void print_ratios(struct contender *c, int nc, int n, const bool *use, const char *first_lead)
{
	const char *lead = first_lead;
	double v[ROUNDS];

	for (size_t k = 0; k < sizeof(ratios) / sizeof(*ratios); k++) {
		struct contender *a = find_contender(c, nc, ratios[k].num);
		struct contender *b = find_contender(c, nc, ratios[k].den);
		int m = 0;

		if (!a || !b)
			continue;
		for (int r = 0; r < n; r++)
			if (!use || use[r])
				v[m++] = (double)a->ns[r] / b->ns[r];
		printf("%s\"%s\": %.3f", lead, ratios[k].key, median(v, m));
		lead = ", ";
	}
}

/* The goal ratios, measured side by side: each round runs every contender
 * once, one after the other, HEAD_REPEAT packets each (a third of a second
 * for the whole round); a ratio is the median of the rounds' ratios. */
static void headline(struct contender *c, int nc, uint32_t ifindex)
{
	uint32_t after[ROUNDS];	/* the floor again, at the end of each round */
	bool quiet[ROUNDS];
	double v[ROUNDS];
	int n = 0, kept = 0;
	bool busy = false;

	if (strcmp(c[0].key, "floor"))
		return;	/* the first contender is the floor: it judges the rounds */
	for (int r = 0; r < ROUNDS; r++) {
		int ok = 1;

		for (int i = 0; i < nc && ok; i++)
			if (c[i].prog_fd >= 0 && cost_run(c[i].system, c[i].prog_fd, ifindex, c[i].pkt,
							  HEAD_REPEAT, &c[i].ns[n]))
				ok = 0;
		if (ok && cost_run(c[0].system, c[0].prog_fd, ifindex, c[0].pkt, HEAD_REPEAT, &after[n]))
			ok = 0;
		n += ok;
	}
	if (!n)
		return;
	/* This shared machine has slow spells of a tenth of a second to a few
	 * seconds, in which the floor costs a quarter more (28 -> 36 ns) and
	 * fringe half more (66 -> 97 ns at 4096 rules): something beside us on
	 * the host takes cache from a program that touches many lines.  A
	 * round inside such a spell measures the neighbour, so a round counts
	 * only when the floor, at its start and at its end, is within 15% of
	 * the lowest floor of the run; when fewer than a quarter of the rounds
	 * (or three) are quiet, the machine was busy throughout and all count.
	 * The medians of all rounds are printed beside ("all_rounds"). */
	{
		uint32_t lo = UINT32_MAX;

		for (int r = 0; r < n; r++) {
			lo = c[0].ns[r] < lo ? c[0].ns[r] : lo;
			lo = after[r] < lo ? after[r] : lo;
		}
		for (int r = 0; r < n; r++) {
			uint32_t hi = c[0].ns[r] > after[r] ? c[0].ns[r] : after[r];

			quiet[r] = hi * 100 <= lo * 115;
			kept += quiet[r];
		}
		if (kept < 3 || kept * 4 < n) {
			for (int r = 0; r < n; r++)
				quiet[r] = 1;
			kept = n;
			busy = true;
		}
	}
	printf("  \"headline\": {\"rounds\": %d, \"repeat\": %d, \"packet\": \"last-rule\", "
	       "\"set_items\": 65536, \"rounds_used\": %d, \"busy\": %s", n, HEAD_REPEAT, kept,
	       busy ? "true" : "false");
	for (int i = 0; i < nc; i++) {
		int m = 0;

		if (c[i].prog_fd < 0)
			continue;
		for (int r = 0; r < n; r++)
			if (quiet[r])
				v[m++] = c[i].ns[r];
		printf(", \"%s_ns\": %.0f", c[i].key, median(v, m));
	}
	print_ratios(c, nc, n, quiet, ", ");
	printf(",\n    \"all_rounds\": {");
	print_ratios(c, nc, n, NULL, "");
	printf("},\n    \"contenders\": {");
	for (int i = 0, first = 1; i < nc; i++) {
		if (c[i].prog_fd < 0)
			continue;
		printf("%s\"%s\": {\"packet\": \"%s\"}", first ? "" : ", ", c[i].key,
		       packet_names[c[i].pkt]);
		first = 0;
	}
	printf("},\n    \"per_round_ns\": [");
	for (int r = 0; r < n; r++) {
		printf("%s{\"used\": %s, \"floor_after\": %u", r ? ", " : "", quiet[r] ? "true" : "false",
		       after[r]);
		for (int i = 0; i < nc; i++) {
			if (c[i].prog_fd < 0)
				continue;
			printf(", \"%s\": %u", c[i].key, c[i].ns[r]);
		}
		printf("}");
	}
	printf("]},\n");
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int prog_fd_by_name(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	return p ? bpf_program__fd(p) : -1;
}

/* Why a row is missing, printed into the JSON ("unavailable"). */
static char xf_reason[256];
static char xf_bpffs[64];

/* Run a shell command; on failure, its last line of output becomes xf_reason. */
static int xf_run(const char *cmd)
{
	char line[512], full[512];
	FILE *f;
	int rc;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	f = popen(full, "r");
	if (!f)
		return -1;
	line[0] = '\0';
	while (fgets(line, sizeof(line), f))
		;
	rc = pclose(f);
	if (rc) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(xf_reason, sizeof(xf_reason), "'%s' failed: %s", cmd, line);
	}
	return rc;
}

/* xdp-filter from Debian's xdp-tools, loaded on fx1 with one port and one
 * address rule.  libxdp and xdp-filter pin under a bpffs: the one in
 * LIBXDP_BPFFS, or a private one mounted here (a fresh machine may have none
 * at /sys/fs/bpf). */
static int xdp_filter_fd(uint32_t ifindex)
{
	__u32 id = 0;

	if (system("command -v xdp-filter >/dev/null 2>&1")) {
		snprintf(xf_reason, sizeof(xf_reason), "xdp-filter is not installed (Debian: xdp-tools)");
		return -1;
	}
	if (!getenv("LIBXDP_BPFFS")) {
		char cmd[160];

		snprintf(xf_bpffs, sizeof(xf_bpffs), "/run/fringe-bench-bpffs-%d", (int)getpid());
		snprintf(cmd, sizeof(cmd), "mkdir -p %s && mount -t bpf bpf %s", xf_bpffs, xf_bpffs);
		if (xf_run(cmd)) {
			rmdir(xf_bpffs);
			xf_bpffs[0] = '\0';
			return -1;
		}
		setenv("LIBXDP_BPFFS", xf_bpffs, 1);
	}
	if (xf_run("xdp-filter load -m skb fx1") || xf_run("xdp-filter port 1883") ||
	    xf_run("xdp-filter ip 10.1.2.3"))
		return -1;
	if (bpf_xdp_query_id(ifindex, XDP_FLAGS_SKB_MODE, &id) || !id) {
		snprintf(xf_reason, sizeof(xf_reason), "no XDP program on fx1 after 'xdp-filter load'");
		return -1;
	}
	return bpf_prog_get_fd_by_id(id);
}

static void xdp_filter_unload(int fd)
{
	if (fd >= 0) {
		close(fd);
		xf_run("xdp-filter unload fx1");
	}
	if (xf_bpffs[0]) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "umount %s && rmdir %s", xf_bpffs, xf_bpffs);
		xf_run(cmd);
	}
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, out);
	}
	fputc('"', out);
}

static void print_row(FILE *out, const char *system, int rules, int items, const char *mode,
		      int pkt, uint32_t ns, bool *first)
{
	fprintf(out, "%s\n    {\"system\": \"%s\", \"rules\": %d, \"set_items\": %d, \"mode\": \"%s\", "
		     "\"packet\": \"%s\", \"ns\": %u, \"action\": %u}",
		*first ? "" : ",", system, rules, items, mode, packet_names[pkt], ns,
		expected_action(system, pkt));
	*first = false;
}

/* ---- helper calls on a path ------------------------------------------------
 * build/bench/fringe_calls.bpf.o is the data plane built with
 * FRINGE_COUNT_CALLS (bpf/lib/calls.h): every helper call site first bumps
 * its counter in the section .data.calls.  Loaded on the maps of a fixture, it
 * judges a packet exactly as the fixture's program does; its translated code
 * (bpftool prog dump xlated) shows which calls the kernel left, each after
 * the counter bump of its site.  Runs of those sites per packet are the
 * calls the path makes. */

#define CALLS_REPEAT 1000
#define CALL_SITE_REACH 16	/* instructions from a site's bump to its call, at most */
#define MAX_CALLS 256

struct call_site {
	uint32_t key;
	char target[64];
	char where[48];		/* file:line of the call in the source */
};

static int prog_id(int fd)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? -1 : (int)info.id;
}

/* The `call` instructions of a program's translated code, each with the key
 * of the call-site counter read last before it (cs_map_id), or with key
 * UINT32_MAX when cs_map_id is 0.  Returns how many, or -1. */
static int xlated_calls(int id, uint32_t cs_map_id, struct call_site *out, int cap, int *unattributed)
{
	char cmd[96], line[512], where[48];
	long key = -1, lock_key = -1, bump_at = 0;
	int n = 0;
	FILE *f;

	*unattributed = 0;
	snprintf(cmd, sizeof(cmd), "bpftool prog dump xlated id %d linum 2>/dev/null", id);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	where[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, ": (");
		char *src = strstr(line, "[file:");

		if (line[0] == ';' && src) {	/* source line: [file:PATH line_num:N ...] */
			char path[256];
			int ln;

			if (sscanf(src, "[file:%255s line_num:%d", path, &ln) == 2)
				snprintf(where, sizeof(where), "%.40s:%d",
					 strrchr(path, '/') ? strrchr(path, '/') + 1 : path, ln);
			continue;
		}
		unsigned int mid;
		long imm;

		if (!p)
			continue;
		/* A site's counter: its address, the section's map plus an offset. */
		if ((p = strstr(line, "map[id:")) && sscanf(p, "map[id:%u][0]+%ld", &mid, &imm) == 2 &&
		    cs_map_id && mid == cs_map_id)
			key = imm / 8, bump_at = strtol(line, NULL, 10);
		if ((p = strstr(line, ") call "))) {
			char *t = p + 7;

			if (n == cap)
				break;
			/* A site's bump comes right before its call, only its
			 * arguments between: a bump further back is an inlined
			 * lookup's, and this call has no site of its own. */
			if (strtol(line, NULL, 10) - bump_at > CALL_SITE_REACH)
				key = -1;
			t[strcspn(t, "#\n")] = '\0';
			if (!strncmp(t, "pc", 2))
				snprintf(t, 20, "bpf-to-bpf");
			/* bpf_spin_unlock has no site of its own (no call may be made
			 * inside a lock): it runs as often as the last lock's site. */
			if (!strcmp(t, "bpf_spin_lock"))
				lock_key = key;
			else if (!strcmp(t, "bpf_spin_unlock"))
				key = lock_key;
			snprintf(out[n].target, sizeof(out[n].target), "%s", t);
			snprintf(out[n].where, sizeof(out[n].where), "%s", where);
			out[n].key = cs_map_id ? (uint32_t)key : UINT32_MAX;
			if (cs_map_id && key < 0) {
				fprintf(stderr, "bench_cost: call of %s at %s has no counted site\n", t, where);
				(*unattributed)++;
			}
			n++;
			key = -1;	/* a site's bump precedes its one call */
		}
	}
	pclose(f);
	return n;
}

/* The runs of every call site so far: the counters' section, read whole. */
static int site_counts(int map_fd, uint64_t *v)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(map_fd, &zero, v);
}

/* The counter slot a program is loaded for (fringe_attach_slot, set in its
 * read-only data as `fringe attach` sets it): FX_SLOT0, fx0's, so that what
 * is measured is the program an attached interface runs.  BENCH_ATTACH_SLOT=0
 * measures the path of a program loaded otherwise, which finds its slot by
 * the packet's ifindex (the earlier bench's figures). */
static uint32_t attach_slot(void)
{
	const char *v = getenv("BENCH_ATTACH_SLOT");

	return v ? (uint32_t)atoi(v) : FX_SLOT0;
}

/* The object's .rodata (libbpf names it after the object: "fringe_x.rodata"). */
static bool is_rodata(const struct bpf_map *map)
{
	const char *n = bpf_map__name(map);
	size_t len = strlen(n);

	return bpf_map__is_internal(map) && len >= 7 && !strcmp(n + len - 7, ".rodata");
}

/* Set the variable `name` (a u32) of obj's .rodata before its load.  0, or
 * -ENOENT when the build has no such variable (an earlier commit's). */
static int set_rodata_u32(struct bpf_object *obj, const char *name, uint32_t v)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	struct bpf_map *map, *ro = NULL;
	const void *init;
	size_t size;
	char *data;
	int id, err;

	bpf_object__for_each_map(map, obj)
		if (is_rodata(map))
			ro = map;
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	if (!ro || id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		init = bpf_map__initial_value(ro, &size);
		if (!init || vs->size != sizeof(v) || vs->offset + sizeof(v) > size)
			return -EINVAL;
		data = malloc(size);
		if (!data)
			return -ENOMEM;
		memcpy(data, init, size);
		memcpy(data + vs->offset, &v, sizeof(v));
		err = bpf_map__set_initial_value(ro, data, size);
		free(data);
		return err;
	}
	return -ENOENT;
}

/* Load another build of the data plane (obj_path) on the maps of f, for
 * fx0's counter slot (attach_slot): it then judges packets under f's
 * policy.  Its program's fd, or -1. */
static int load_on_maps(struct fx *f, const char *obj_path, struct bpf_object **objp)
{
	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	struct bpf_map *map;
	int err;

	*objp = obj;
	if (!obj) {
		fprintf(stderr, "bench_cost: cannot open %s\n", obj_path);
		return -1;
	}
	err = set_rodata_u32(obj, "fringe_attach_slot", attach_slot());
	if (err && attach_slot())
		fprintf(stderr, "bench_cost: %s: cannot set its counter slot (%s): measured as loaded\n",
			obj_path, strerror(-err));
	bpf_object__for_each_map(map, obj) {
		struct bpf_map *same = bpf_object__find_map_by_name(f->m.skel->obj, bpf_map__name(map));

		bpf_map__set_pin_path(map, NULL);
		/* A map the two builds define differently (a private memo
		 * whose layout changed) is the build's own, and so is the
		 * read-only data that holds this load's counter slot. */
		if (same && (bpf_map__value_size(same) != bpf_map__value_size(map) ||
			     is_rodata(map)))
			continue;
		if (same && bpf_map__fd(same) >= 0 && bpf_map__reuse_fd(map, bpf_map__fd(same)))
			return -1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "bench_cost: cannot load %s on the fixture's maps\n", obj_path);
		return -1;
	}
	return prog_fd_by_name(obj, "fringe_xdp_ingress");
}

/* Print "label": {...}: the calls per packet of pkt under the policy of f,
 * by target, and the calls left in f's own program. */
static int count_calls(struct fx *f, const char *label, const char *system, int pkt, bool *first)
{
	const char *obj_path = "build/bench/fringe_calls.bpf.o";
	static struct call_site prod[MAX_CALLS], var[MAX_CALLS];
	int n_prod, n_var, unattr, cs_fd, vfd, err = -1;
	struct bpf_map_info mi = {};
	uint32_t mlen = sizeof(mi), action, n_sites;
	uint64_t *before = NULL, *after = NULL, total = 0;
	struct bpf_object *obj;

	vfd = load_on_maps(f, obj_path, &obj);
	if (vfd < 0)
		return -1;
	cs_fd = bpf_object__find_map_fd_by_name(obj, ".data.calls");
	if (vfd < 0 || cs_fd < 0 || bpf_obj_get_info_by_fd(cs_fd, &mi, &mlen))
		goto out;
	n_sites = mi.value_size / sizeof(uint64_t);
	before = calloc(n_sites + 1, sizeof(uint64_t));
	after = calloc(n_sites + 1, sizeof(uint64_t));
	if (!before || !after)
		goto out;
	n_prod = xlated_calls(prog_id(f->prog_fd), 0, prod, MAX_CALLS, &unattr);
	n_var = xlated_calls(prog_id(vfd), mi.id, var, MAX_CALLS, &unattr);
	if (n_prod < 0 || n_var < 0) {
		fprintf(stderr, "bench_cost: cannot read the translated programs (bpftool)\n");
		goto out;
	}
	/* One run first: a first packet may create state (a flow) that later ones find. */
	{
		struct xdp_md ctx = { .data_end = lens[pkt], .ingress_ifindex = f->ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frames[pkt], .data_size_in = lens[pkt],
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

		if (bpf_prog_test_run_opts(vfd, &o) || site_counts(cs_fd, before))
			goto out;
		o.repeat = CALLS_REPEAT;
		if (bpf_prog_test_run_opts(vfd, &o) || site_counts(cs_fd, after))
			goto out;
		action = o.retval;
	}
	if (action != expected_action(system, pkt)) {
		fprintf(stderr, "bench_cost: the call-counting build returned %u on %s, not %u\n", action,
			packet_names[pkt], expected_action(system, pkt));
		wrong_actions++;
		goto out;
	}
	printf("%s\n    \"%s\": {\"packet\": \"%s\", \"by_target\": {", *first ? "" : ",", label,
	       packet_names[pkt]);
	*first = false;
	for (int i = 0, shown = 0; i < n_var; i++) {
		uint64_t runs;

		if (var[i].key >= n_sites)
			continue;
		runs = after[var[i].key] - before[var[i].key];
		if (!runs)
			continue;
		total += runs;
		printf("%s\"%s at %s\": %.2f", shown++ ? ", " : "", var[i].target, var[i].where,
		       (double)runs / CALLS_REPEAT);
	}
	printf("}, \"calls_per_packet\": %.2f, \"unattributed_calls\": %d, \"calls_in_program\": {",
	       (double)total / CALLS_REPEAT, unattr);
	/* The production program's calls, by target: what the kernel did not inline. */
	for (int i = 0, shown = 0; i < n_prod; i++) {
		int k = 0, seen = 0;

		for (int j = 0; j < i; j++)
			seen |= !strcmp(prod[j].target, prod[i].target);
		if (seen)
			continue;
		for (int j = i; j < n_prod; j++)
			k += !strcmp(prod[j].target, prod[i].target);
		printf("%s\"%s\": %d", shown++ ? ", " : "", prod[i].target, k);
	}
	printf("}, \"calls_in_program_total\": %d}", n_prod);
	err = 0;
out:
	free(before);
	free(after);
	bpf_object__close(obj);
	return err;
}

/* The bench policy whose last rule's sources are a set that also lists DNS
 * names (none learned): what a policy with names costs (SPEC §12). */
static char *bench_policy_dns(int rules, int items)
{
	static const char from[] = "rule last src 192.168.77.0/24";
	static const char to[] = "set cloud { 192.168.77.0/24, broker.example.com, *.iot.example.net }\n"
				 "rule last src @cloud";
	char *s = bench_policy(rules, items), *at = s ? strstr(s, from) : NULL, *out;
	size_t head, len;

	if (!at) {
		free(s);
		return NULL;
	}
	head = at - s;
	len = strlen(s) - strlen(from) + strlen(to);
	out = malloc(len + 1);
	if (out)
		sprintf(out, "%.*s%s%s", (int)head, s, to, at + strlen(from));
	free(s);
	return out;
}

/* f->prog_fd becomes the data plane as `fringe attach` loads it for fx0
 * (load_on_maps), on f's maps: the fixture's own program is loaded for no
 * interface.  fx_close closes it. */
static int fx_attached(struct fx *f)
{
	int fd = load_on_maps(f, FRINGE_OBJ, &f->attached);

	if (fd < 0)
		return -EINVAL;
	f->prog_fd = fd;
	return 0;
}

/* Open a private instance and load policy text into it; 0 or -errno. */
static int fx_with(struct fx *f, const char *text)
{
	int err;

	if (!text)
		return -ENOMEM;
	err = fx_open(f);
	if (!err)
		err = fx_attached(f);
	return err ? err : fx_load(f, text);
}

/* The JIT image of prog_fd (dir/jited.bin, its functions one after the
 * other) and dir/jited.txt: "func ADDR LEN" per function, then "ADDR
 * FILE:LINE SOURCE" per line-table entry, addresses as the kernel placed
 * them (what perf's samples show). */
static int jit_dump(int prog_fd, const char *dir)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), nl, njl, nks, nfl, jl;
	struct bpf_line_info *li = NULL;
	__u64 *jli = NULL, *ks = NULL;
	__u32 *fl = NULL;
	unsigned char *img = NULL;
	struct btf *btf = NULL;
	char path[512];
	FILE *out = NULL;
	int err = -1;

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -1;
	nl = info.nr_line_info, njl = info.nr_jited_line_info, jl = info.jited_prog_len;
	nks = info.nr_jited_ksyms, nfl = info.nr_jited_func_lens;
	li = calloc(nl + 1, sizeof(*li)), jli = calloc(njl + 1, 8), ks = calloc(nks + 1, 8);
	fl = calloc(nfl + 1, 4), img = malloc(jl + 1);
	if (!li || !jli || !ks || !fl || !img)
		goto out;
	memset(&info, 0, sizeof(info));
	info.nr_line_info = nl, info.line_info_rec_size = sizeof(*li), info.line_info = (__u64)(long)li;
	info.nr_jited_line_info = njl, info.jited_line_info_rec_size = 8;
	info.jited_line_info = (__u64)(long)jli;
	info.jited_prog_len = jl, info.jited_prog_insns = (__u64)(long)img;
	info.nr_jited_ksyms = nks, info.jited_ksyms = (__u64)(long)ks;
	info.nr_jited_func_lens = nfl, info.jited_func_lens = (__u64)(long)fl;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) || !jl)
		goto out;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		goto out;
	snprintf(path, sizeof(path), "%s/jited.bin", dir);
	out = fopen(path, "w");
	if (!out || fwrite(img, 1, jl, out) != jl || fclose(out))
		goto out;
	snprintf(path, sizeof(path), "%s/jited.txt", dir);
	out = fopen(path, "w");
	if (!out)
		goto out;
	for (__u32 i = 0; i < nks && i < nfl; i++)
		fprintf(out, "func %llx %u\n", (unsigned long long)ks[i], fl[i]);
	for (__u32 i = 0; i < njl && i < nl; i++) {
		const char *file = btf__name_by_offset(btf, li[i].file_name_off);
		const char *line = btf__name_by_offset(btf, li[i].line_off);
		const char *base = file ? strrchr(file, '/') : NULL;

		fprintf(out, "%llx\t%s:%u\t%s\n", (unsigned long long)jli[i],
			base ? base + 1 : file ? file : "?", BPF_LINE_INFO_LINE_NUM(li[i].line_col),
			line ? line : "");
	}
	err = fclose(out) ? -1 : 0;
	out = NULL;
out:
	if (out)
		fclose(out);
	btf__free(btf);
	free(li), free(jli), free(ks), free(fl), free(img);
	if (err)
		fprintf(stderr, "bench_cost: cannot write the JIT image and line table to %s\n", dir);
	return err;
}

int main(int argc, char **argv)
{
	static const int rule_counts_all[] = { 16, 256, 1024, 4096 }, rule_counts_quick[] = { 16, 4096 };
	static const int item_counts_all[] = { 1000, 65536 }, item_counts_quick[] = { 65536 };
	/* BENCH_QUICK: the extremes only, classification only (per-stage profiles). */
	bool quick = getenv("BENCH_QUICK") != NULL;
	/* BENCH_ONLY=headline,calls: those sections only (work on the data plane). */
	const char *only = getenv("BENCH_ONLY");
	bool do_table = !only, do_head = !only || strstr(only, "headline");
	bool do_calls = !only || strstr(only, "calls");
	const int *rule_counts = quick ? rule_counts_quick : rule_counts_all;
	const int *item_counts = quick ? item_counts_quick : item_counts_all;
	size_t n_rules = quick ? 2 : 4, n_items = quick ? 1 : 2;
	const char *floor_obj = argc > 1 ? argv[1] : "build/bench/floor.bpf.o";
	struct bpf_object *fobj = NULL;
	struct fx f, f16, f4096, fiot;
	int floor_prog, pass_prog, xf_prog, miss_prog = -1;
	struct bpf_object *miss_obj = NULL;
	char *iot_text;
	bool first = true;
	uint32_t ns;
	int err;

	/* BENCH_ONLY=jit: the JIT image and line table of the loaded program
	 * BENCH_PROG_ID (one a live interface runs) to BENCH_SPIN_DIR, for
	 * scripts/bench_profile.py to place samples of live traffic. */
	if (only && strstr(only, "jit")) {
		const char *dir = getenv("BENCH_SPIN_DIR") ? getenv("BENCH_SPIN_DIR") : "build/bench/profile";
		int fd = getenv("BENCH_PROG_ID") ? bpf_prog_get_fd_by_id(atoi(getenv("BENCH_PROG_ID"))) : -1;

		if (fd < 0 || jit_dump(fd, dir)) {
			fprintf(stderr, "bench_cost: no program %s to dump\n",
				getenv("BENCH_PROG_ID") ? getenv("BENCH_PROG_ID") : "(BENCH_PROG_ID unset)");
			return 1;
		}
		return 0;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	err = fx_open(&f);
	if (err) {
		fprintf(stderr, "bench_cost: cannot open a private data plane: %s\n", strerror(-err));
		return err == -EPERM ? 77 : 1;
	}
	if (fx_attached(&f)) {
		fprintf(stderr, "bench_cost: cannot load %s as attached\n", FRINGE_OBJ);
		return 1;
	}
	for (int p = 0; p < P_COUNT; p++)
		lens[p] = bench_packet(p, frames[p], sizeof(frames[p]));

	printf("{\n  \"repeat\": %d, \"runs\": %d,\n  \"cost\": [", REPEAT, RUNS);
	fobj = bpf_object__open_file(floor_obj, NULL);
	if (!fobj || bpf_object__load(fobj)) {
		fprintf(stderr, "bench_cost: cannot load the floor programs %s\n", floor_obj);
		return 1;
	}
	floor_prog = prog_fd_by_name(fobj, "floor_xdp");
	pass_prog = prog_fd_by_name(fobj, "pass_xdp");
	if (floor_prog < 0 || pass_prog < 0) {
		fprintf(stderr, "bench_cost: %s lacks floor_xdp or pass_xdp\n", floor_obj);
		return 1;
	}
	for (int p = 0; p < P_COUNT && do_table; p++)
		if (!cost_ns("floor", floor_prog, f.ifindex, p, &ns))
			print_row(stdout, "floor", 0, 0, "-", p, ns, &first);
	for (int p = 0; p < P_COUNT && do_table; p++)
		if (!cost_ns("pass", pass_prog, f.ifindex, p, &ns))
			print_row(stdout, "pass", 0, 0, "-", p, ns, &first);
	xf_prog = do_table || do_head ? xdp_filter_fd(f.ifindex2) : -1;
	if (xf_prog >= 0 && !do_table) {
		;
	} else if (xf_prog >= 0) {
		for (int p = 0; p < P_COUNT; p++)
			if (!cost_ns("xdp-filter", xf_prog, f.ifindex, p, &ns))
				print_row(stdout, "xdp-filter", 2, 0, "-", p, ns, &first);
	} else if (xf_reason[0]) {
		fprintf(stderr, "bench_cost: xdp-filter unavailable, its rows are missing: %s\n",
			xf_reason);
	}

	if (do_table)
		miss_prog = load_on_maps(&f, MEMO_MISS_OBJ, &miss_obj);
	for (size_t ri = 0; ri < n_rules && do_table; ri++) {
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
				for (int p = 0; p < P_COUNT; p++)
					if (!cost_ns("fringe", f.prog_fd, f.ifindex, p, &ns))
						print_row(stdout, "fringe", rule_counts[ri], item_counts[ii],
							  cache ? "flow-cache" : "classify", p, ns, &first);
			}
			/* Every packet a flow's first: the build whose rule memo misses. */
			for (int p = 0; p < P_COUNT && miss_prog >= 0; p++)
				if (!cost_ns("fringe", miss_prog, f.ifindex, p, &ns))
					print_row(stdout, "fringe", rule_counts[ri], item_counts[ii],
						  "first-packet", p, ns, &first);
		}
	}
	iot_text = read_file(IOT_POLICY);
	if (!iot_text || fx_with(&fiot, iot_text)) {
		fprintf(stderr, "bench_cost: cannot load %s\n", IOT_POLICY);
		return 1;
	}
	for (int p = 0; p < P_COUNT && do_table; p++)
		if (!cost_ns("fringe-iot", fiot.prog_fd, f.ifindex, p, &ns))
			print_row(stdout, "fringe-iot", 0, 0, "classify", p, ns, &first);
	printf("\n  ],\n");
	if (xf_prog < 0 && xf_reason[0]) {
		printf("  \"unavailable\": {\"xdp-filter\": ");
		json_str(stdout, xf_reason);
		printf("},\n");
	}

	/* Private instances side by side for the goal ratios. */
	if (do_head) {
		char *p16 = bench_policy(16, 65536), *p4096 = bench_policy(4096, 65536);
		char *pdns = bench_policy_dns(4096, 65536);
		struct fx fst, fdns;

		/* The same policy staged beside itself: a second classification. */
		if (!fx_with(&f16, p16) && !fx_with(&f4096, p4096) && !fx_with(&fst, p4096) &&
		    !fx_stage(&fst, p4096) && !fx_with(&fdns, pdns)) {
			struct contender c[] = {
				{ .key = "floor", .system = "floor", .prog_fd = floor_prog, .pkt = P_LAST },
				{ .key = "pass", .system = "pass", .prog_fd = pass_prog, .pkt = P_LAST },
				{ .key = "xdp_filter", .system = "xdp-filter", .prog_fd = xf_prog, .pkt = P_LAST },
				{ .key = "fringe_16", .system = "fringe", .prog_fd = f16.prog_fd, .pkt = P_LAST },
				{ .key = "fringe_4096", .system = "fringe", .prog_fd = f4096.prog_fd, .pkt = P_LAST },
				{ .key = "fringe_4096_v6", .system = "fringe", .prog_fd = f4096.prog_fd, .pkt = P_V6 },
				{ .key = "fringe_4096_vlan", .system = "fringe", .prog_fd = f4096.prog_fd, .pkt = P_VLAN },
				{ .key = "fringe_iot", .system = "fringe-iot", .prog_fd = fiot.prog_fd, .pkt = P_IOT },
				{ .key = "fringe_4096_staged", .system = "fringe", .prog_fd = fst.prog_fd, .pkt = P_LAST },
				{ .key = "fringe_4096_dns", .system = "fringe", .prog_fd = fdns.prog_fd, .pkt = P_LAST },
				{ .key = "fringe_16_miss", .system = "fringe", .pkt = P_LAST },
				{ .key = "fringe_4096_miss", .system = "fringe", .pkt = P_LAST },
				{ .key = "fringe_iot_miss", .system = "fringe-iot", .pkt = P_IOT },
			};
			struct bpf_object *mo[3] = {};

			c[10].prog_fd = load_on_maps(&f16, MEMO_MISS_OBJ, &mo[0]);
			c[11].prog_fd = load_on_maps(&f4096, MEMO_MISS_OBJ, &mo[1]);
			c[12].prog_fd = load_on_maps(&fiot, MEMO_MISS_OBJ, &mo[2]);
			headline(c, sizeof(c) / sizeof(*c), f.ifindex);
			for (int i = 0; i < 3; i++)
				bpf_object__close(mo[i]);
		} else {
			fprintf(stderr, "bench_cost: cannot load the side-by-side policies\n");
		}
		free(p16);
		free(p4096);
		free(pdns);
		fx_close(&f16);
		fx_close(&f4096);
		fx_close(&fst);
		fx_close(&fdns);
	}
	xdp_filter_unload(xf_prog);
	bpf_object__close(miss_obj);

	/* Helper calls on the IPv4 allow path of the 4096-rule and the IoT policy. */
	if (do_calls) {
		char *p4096 = bench_policy(4096, 65536);
		bool cfirst = true;

		printf("  \"helper_calls\": {");
		if (!fx_with(&f4096, p4096))
			count_calls(&f4096, "fringe_4096", "fringe", P_LAST, &cfirst);
		count_calls(&fiot, "fringe_iot", "fringe-iot", P_IOT, &cfirst);
		printf("\n  },\n");
		free(p4096);
		fx_close(&f4096);
	}

	/* Where the time goes: builds that stop after each stage, on the maps of
	 * the 4096-rule policy, side by side with the floor and the full program. */
	if (only && strstr(only, "stages")) {
		char *p4096 = bench_policy(4096, 65536);
		struct bpf_object *so[4] = {};
		char path[64];

		if (!fx_with(&f4096, p4096)) {
			struct contender c[] = {
				{ .key = "floor", .system = "floor", .prog_fd = floor_prog, .pkt = P_LAST },
				{ .key = "pass", .system = "pass", .prog_fd = pass_prog, .pkt = P_LAST },
				{ .key = "stage1_parse", .system = "fringe", .pkt = P_LAST },
				{ .key = "stage2_slot", .system = "fringe", .pkt = P_LAST },
				{ .key = "stage3_classify", .system = "fringe", .pkt = P_LAST },
				{ .key = "fringe_4096", .system = "fringe", .prog_fd = f4096.prog_fd, .pkt = P_LAST },
				/* BENCH_BASE_OBJ: another build of the data plane (an
				 * earlier commit's), to weigh a change side by side. */
				{ .key = "base_4096", .system = "fringe", .prog_fd = -1, .pkt = P_LAST },
			};

			if (getenv("BENCH_BASE_OBJ"))
				c[6].prog_fd = load_on_maps(&f4096, getenv("BENCH_BASE_OBJ"), &so[3]);
			for (int i = 0; i < 3; i++) {
				snprintf(path, sizeof(path), "build/bench/fringe_stage%d.bpf.o", i + 1);
				c[2 + i].prog_fd = load_on_maps(&f4096, path, &so[i]);
			}
			headline(c, sizeof(c) / sizeof(*c), f.ifindex);
		}
		for (int i = 0; i < 4; i++)
			bpf_object__close(so[i]);
		free(p4096);
		fx_close(&f4096);
	}

	/* BENCH_ONLY=spin (`make bench-profile`): BENCH_SPIN's packet (4096: the
	 * last-rule packet at 4096 rules; iot: the MQTT PUBLISH under the IoT
	 * example) runs for BENCH_SPIN_SECS seconds while `perf record` samples
	 * the CPU; the program's JIT image and line table go to BENCH_SPIN_DIR
	 * first, to place each sample on its instruction and source line. */
	if (only && strstr(only, "spin")) {
		const char *which = getenv("BENCH_SPIN") ? getenv("BENCH_SPIN") : "4096";
		const char *dir = getenv("BENCH_SPIN_DIR") ? getenv("BENCH_SPIN_DIR") : "build/bench/profile";
		int secs = getenv("BENCH_SPIN_SECS") ? atoi(getenv("BENCH_SPIN_SECS")) : 10;
		char *p4096 = bench_policy(4096, 65536);
		bool iot = !strcmp(which, "iot");
		struct bpf_object *o = NULL;
		int fd = -1;

		if (!iot && strcmp(which, "4096")) {
			fprintf(stderr, "bench_cost: BENCH_SPIN is 4096 or iot, not %s\n", which);
			return 2;
		}
		if (iot || !fx_with(&f4096, p4096))
			fd = iot ? fiot.prog_fd : f4096.prog_fd;
		if (fd >= 0 && getenv("BENCH_NEW_OBJ"))
			fd = load_on_maps(iot ? &fiot : &f4096, getenv("BENCH_NEW_OBJ"), &o);
		if (fd < 0 || jit_dump(fd, dir)) {
			fprintf(stderr, "bench_cost: nothing to spin\n");
			return 1;
		}
		fprintf(stderr, "bench_cost: spinning for %d s\n", secs);
		/* A wrong verdict would profile another path: stop at once. */
		err = 0;
		for (double end = now_ms() + secs * 1000.0; now_ms() < end && !err;)
			err = cost_ns(iot ? "fringe-iot" : "fringe", fd, f.ifindex, iot ? P_IOT : P_LAST,
				      &ns);
		bpf_object__close(o);
		free(p4096);
		return err ? 1 : 0;
	}

	/* BENCH_ONLY=ab: two builds of the data plane side by side, BENCH_BASE_OBJ
	 * (say an earlier commit's) against BENCH_NEW_OBJ (default: this
	 * tree's), each loaded on the maps of the same fixtures, on the
	 * headline's packets: what a change buys, as ratios new ÷ base. */
	if (only && strstr(only, "ab") && getenv("BENCH_BASE_OBJ")) {
		const char *base = getenv("BENCH_BASE_OBJ"), *nobj = getenv("BENCH_NEW_OBJ");
		char *p4096 = bench_policy(4096, 65536);
		struct bpf_object *so[4] = {};

		if (!fx_with(&f4096, p4096)) {
			struct contender c[] = {
				{ .key = "floor", .system = "floor", .prog_fd = floor_prog, .pkt = P_LAST },
				{ .key = "base_4096", .system = "fringe", .pkt = P_LAST },
				{ .key = "new_4096", .system = "fringe", .pkt = P_LAST },
				{ .key = "base_iot", .system = "fringe-iot", .pkt = P_IOT },
				{ .key = "new_iot", .system = "fringe-iot", .pkt = P_IOT },
				{ .key = "base_v6", .system = "fringe", .pkt = P_V6 },
				{ .key = "new_v6", .system = "fringe", .pkt = P_V6 },
			};

			c[1].prog_fd = c[5].prog_fd = load_on_maps(&f4096, base, &so[0]);
			c[2].prog_fd = c[6].prog_fd =
				nobj ? load_on_maps(&f4096, nobj, &so[1]) : f4096.prog_fd;
			c[3].prog_fd = load_on_maps(&fiot, base, &so[2]);
			c[4].prog_fd = nobj ? load_on_maps(&fiot, nobj, &so[3]) : fiot.prog_fd;
			headline(c, sizeof(c) / sizeof(*c), f.ifindex);
		}
		for (int i = 0; i < 4; i++)
			bpf_object__close(so[i]);
		free(p4096);
		fx_close(&f4096);
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
		/* How much of the verifier's budget (1,000,000 instructions
		 * processed) the data plane's main program takes: the room
		 * left for features. */
		{
			struct bpf_prog_info info = {};
			__u32 len = sizeof(info);

			if (!bpf_obj_get_info_by_fd(f.prog_fd, &info, &len))
				printf("  \"verified_insns\": %u,\n", info.verified_insns);
		}
		printf("  \"load_ms\": %.1f,\n  \"reload_ms\": %.1f,\n  \"bench_rss_kib\": %ld\n}\n",
		       t1 - t0, t2 - t1, ru.ru_maxrss);
		free(text);
	}
	free(iot_text);
	fx_close(&fiot);
	bpf_object__close(fobj);
	fx_close(&f);
	if (wrong_actions) {
		fprintf(stderr, "bench_cost: %d measurements gave an unexpected XDP action\n",
			wrong_actions);
		return 1;
	}
	return 0;
}
