// SPDX-License-Identifier: GPL-2.0
/* `fringe policy test`: replay a capture through a policy on a private, unattached data plane. */
#define _GNU_SOURCE	/* sched_setaffinity */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
/* pcap/bpf.h redefines the kernel's struct bpf_insn: only the reading API is needed. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
struct bpf_program;
#include <pcap/dlt.h>
#include <pcap/pcap.h>

#include "fringe_xdp.skel.h"
#include "policy_cmd.h"

/*
 * Nothing live is touched: the policy goes into a fresh instance of the BPF
 * object (maps_open MAPS_PRIVATE: its own maps, pinned nowhere, attached
 * nowhere) and every frame runs through BPF_PROG_TEST_RUN.  Frames arrive
 * on no interface (the test run's loopback), so `in IFACE` rules match none
 * of them; `limit` buckets fill at replay speed, not the capture's.  Rule
 * counters count every match, so per-rule hits are the live ones.
 */

/* Interfaces named by the policy that this host lacks: a placeholder index,
 * so the file still compiles (`in` then matches nothing, `steer iface` fails). */
#define PLACEHOLDER_IFINDEX 0x7f000000u
static unsigned int placeholders;

static unsigned int test_resolve(const char *name)
{
	unsigned int i = if_nametoindex(name);

	return i ? i : PLACEHOLDER_IFINDEX + ++placeholders;
}

/* Why a frame was not replayed; each is counted and reported. */
enum skip_reason {
	SKIP_SNAP,	/* cut by the capture's snap length: cannot be judged as sent */
	SKIP_RUNT,	/* shorter than an Ethernet header: a test run refuses it */
	SKIP_TOO_LONG,	/* longer than the test run's linear buffer: the program would see part of it */
	SKIP_REFUSED,	/* any other refusal of the test run */
	SKIP__COUNT,
};
static const char *const skip_names[SKIP__COUNT] = { "snap_length", "runt", "too_long", "refused" };

struct replay {
	struct maps m;
	int prog_fd;
	uint32_t n_rules;
	int cpu;			/* the replay is pinned here: the scratch read is this CPU's */
	uint64_t skipped[SKIP__COUNT];
	int refused_errno;		/* the first refusal's, for the warning */
	json_object *warnings;
};

static void replay_warn(struct replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void replay_warn(struct replay *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cli_note("fringe: warning: %s", buf);
	json_object_array_add(r->warnings, jstr(buf));
}

/* "tcp 10.0.0.1:5000 > 10.0.0.2:80", "arp", ... from the frame, for the trace. */
static void frame_summary(const uint8_t *p, size_t len, char *buf, size_t size)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], pn[16];
	size_t off = 14, l4 = 0;
	uint16_t type;
	uint8_t proto = 0;
	bool v6 = false, ports = false, later = false;

	if (len < 14) {
		snprintf(buf, size, "runt frame");
		return;
	}
	type = p[12] << 8 | p[13];
	for (int i = 0; i < 2 && (type == 0x8100 || type == 0x88a8) && len >= off + 4; i++) {
		type = p[off + 2] << 8 | p[off + 3];
		off += 4;
	}
	if (type == 0x0800 && len >= off + 20) {
		inet_ntop(AF_INET, p + off + 12, s, sizeof(s));
		inet_ntop(AF_INET, p + off + 16, d, sizeof(d));
		proto = p[off + 9];
		later = ((p[off + 6] & 0x1f) << 8 | p[off + 7]) != 0;
		l4 = off + (p[off] & 0xf) * 4;
	} else if (type == 0x86dd && len >= off + 40) {
		v6 = true;
		inet_ntop(AF_INET6, p + off + 8, s, sizeof(s));
		inet_ntop(AF_INET6, p + off + 24, d, sizeof(d));
		proto = p[off + 6];
		l4 = off + 40;
		for (int i = 0; i < 8 && l4 + 8 <= len; i++) {
			if (proto == 0 || proto == 43 || proto == 60) {
				proto = p[l4];
				l4 += (p[l4 + 1] + 1) * 8;
			} else if (proto == 44) {
				later = (p[l4 + 2] << 8 | p[l4 + 3]) & 0xfff8;
				proto = p[l4];
				l4 += 8;
			} else if (proto == 51) {
				proto = p[l4];
				l4 += (p[l4 + 1] + 2) * 4;
			} else {
				break;
			}
		}
	} else {
		snprintf(buf, size, type == 0x0806 ? "arp" : "ethertype 0x%04x", type);
		return;
	}
	switch (proto) {
	case 6: snprintf(pn, sizeof(pn), "tcp"); ports = true; break;
	case 17: snprintf(pn, sizeof(pn), "udp"); ports = true; break;
	case 132: snprintf(pn, sizeof(pn), "sctp"); ports = true; break;
	case 1: snprintf(pn, sizeof(pn), "icmp"); break;
	case 58: snprintf(pn, sizeof(pn), "icmpv6"); break;
	default: snprintf(pn, sizeof(pn), "proto %u", proto); break;
	}
	if (ports && !later && l4 + 4 <= len)
		snprintf(buf, size, v6 ? "%s [%s]:%u > [%s]:%u" : "%s %s:%u > %s:%u", pn, s,
			 p[l4] << 8 | p[l4 + 1], d, p[l4 + 2] << 8 | p[l4 + 3]);
	else
		snprintf(buf, size, "%s %s > %s%s", pn, s, d, later ? " (fragment)" : "");
}

static const char *verdict_of(uint32_t action)
{
	switch (action) {
	case XDP_PASS: return "pass";
	case XDP_TX: return "tx";
	case XDP_REDIRECT: return "redirect";
	default: return "drop";
	}
}

/* The rule that judged the frame just run: its name, "default", or NULL (non-IP,
 * malformed). One read of the per-CPU scratch head, whatever the number of rules. */
static const char *judged_rule(struct replay *r)
{
	uint32_t by;

	if (maps_read_judged_by(&r->m, r->cpu, &by) || !by || by > FRINGE_MAX_COUNTERS)
		return NULL;
	/* A rule literally named "default" has its own id; id 0 is the default. */
	return by == 1 ? "default" : r->m.names[by - 1].name;
}

/* The largest frame a test run hands the program in one piece: a page less
 * XDP_PACKET_HEADROOM (256) and the struct skb_shared_info the kernel keeps
 * at its end (320 bytes, cache-aligned, on 64-bit kernels). A larger frame is
 * cut into fragments the program (not a frags program) never sees, so it
 * would be judged on its first part: not as the live data plane judges it. */
static size_t linear_max(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return (page > 0 ? (size_t)page : 4096) - 256 - 320;
}

/* Pin the replay to the CPU it runs on: a test run runs on the caller's
 * CPU, and the scratch read after it must be that CPU's. */
static int replay_pin(struct replay *r)
{
	cpu_set_t set;

	r->cpu = sched_getcpu();
	if (r->cpu < 0)
		return -errno;
	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static json_object *counter_obj(const char *name, const char *verdict, const struct fringe_counter *c)
{
	json_object *o = json_object_new_object();

	if (name)
		json_object_object_add(o, "name", jstr(name));
	json_object_object_add(o, "verdict", jstr(verdict));
	json_object_object_add(o, "packets", ju64(c->packets));
	json_object_object_add(o, "bytes", ju64(c->bytes));
	return o;
}

/* Rules, default, verdicts, drops, applications and devices of the private instance. */
static void replay_totals(struct replay *r, const struct fringe_rule_action *acts,
			  uint8_t default_action, json_object *doc)
{
	json_object *rules = json_object_new_array(), *v = json_object_new_object();
	json_object *drops = json_object_new_object(), *apps = json_object_new_object();
	json_object *devs = json_object_new_array();
	struct fringe_counter c, appc[FRINGE_APP_COUNT];
	struct fringe_iface_stats st;
	struct maps_device *d = NULL;
	size_t nd = 0;
	char buf[96];

	maps_read_iface_stats(&r->m, 0, &st);
	for (int i = 0; i < FRINGE_V_MAX; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "packets", ju64(st.verdict[i].packets));
		json_object_object_add(o, "bytes", ju64(st.verdict[i].bytes));
		json_object_object_add(v, fringe_verdict_names[i], o);
	}
	json_object_object_add(doc, "verdicts", v);
	for (int i = 0; i < FRINGE_DROP_MAX; i++)
		if (fringe_drop_reason_names[i])
			json_object_object_add(drops, fringe_drop_reason_names[i], ju64(st.drops[i]));
	json_object_object_add(doc, "drops", drops);
	json_object_object_add(doc, "non_ip", ju64(st.non_ip));
	for (uint32_t i = 0; i < r->n_rules; i++) {
		maps_read_rule_counter(&r->m, acts[i].counter_id, &c);
		policy_verdict_text(&acts[i], buf, sizeof(buf));
		json_object_array_add(rules, counter_obj(r->m.names[acts[i].counter_id].name, buf, &c));
	}
	json_object_object_add(doc, "rules", rules);
	maps_read_rule_counter(&r->m, 0, &c);
	json_object_object_add(doc, "default", counter_obj(NULL, default_action == FRINGE_ACT_DROP ?
							    "drop" : "allow", &c));
	maps_read_app_stats(&r->m, appc);
	for (int a = FRINGE_APP_NONE + 1; a < FRINGE_APP_COUNT; a++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "packets", ju64(appc[a].packets));
		json_object_object_add(o, "bytes", ju64(appc[a].bytes));
		json_object_object_add(apps, pol_app_names[a], o);
	}
	json_object_object_add(doc, "apps", apps);
	maps_read_devices(&r->m, &d, &nd);
	for (size_t i = 0; i < nd; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", jstr(d[i].name));
		json_object_object_add(o, "packets", ju64(d[i].cnt.packets));
		json_object_object_add(o, "bytes", ju64(d[i].cnt.bytes));
		json_object_array_add(devs, o);
	}
	free(d);
	json_object_object_add(doc, "devices", devs);
}

static void test_text(json_object *doc)
{
	json_object *trace = json_object_object_get(doc, "trace");
	json_object *rules = json_object_object_get(doc, "rules");
	json_object *def = json_object_object_get(doc, "default");
	json_object *v = json_object_object_get(doc, "verdicts");
	json_object *drops = json_object_object_get(doc, "drops");
	json_object *apps = json_object_object_get(doc, "apps");
	json_object *devs = json_object_object_get(doc, "devices");
	int shown = 0;

	if (trace) {
		printf("%7s  %-12s %5s  %-54s %-16s %s\n", "#", "TIME", "LEN", "PACKET", "VERDICT", "RULE");
		for (size_t i = 0; i < json_object_array_length(trace); i++) {
			json_object *t = json_object_array_get_idx(trace, i);
			const char *rule = json_object_get_string(json_object_object_get(t, "rule"));
			char verdict[40];

			snprintf(verdict, sizeof(verdict), "%s%s%s", jget_str(t, "verdict"),
				 *jget_str(t, "reason") ? "/" : "", jget_str(t, "reason"));
			printf("%7llu  %12.6f %5llu  %-54s %-16s %s\n", jget_u64(t, "n"),
			       json_object_get_double(json_object_object_get(t, "time")),
			       jget_u64(t, "len"), jget_str(t, "packet"), verdict, rule ? rule : "-");
		}
		printf("\n");
	}
	printf("%s: %llu packets of %s replayed in a private instance (nothing live was touched)",
	       jget_str(doc, "policy"), jget_u64(doc, "packets"), jget_str(doc, "capture"));
	if (jget_u64(doc, "skipped")) {
		const char *sep = " (";

		printf("; %llu skipped", jget_u64(doc, "skipped"));
		json_object_object_foreach(json_object_object_get(doc, "skipped_reasons"), why, k) {
			if (!json_object_get_uint64(k))
				continue;
			printf("%s%s %llu", sep, why, (unsigned long long)json_object_get_uint64(k));
			sep = ", ";
		}
		printf(")");
	}
	printf("\nverdicts:");
	json_object_object_foreach(v, name, c)
		printf(" %s %llu", name, jget_u64(c, "packets"));
	printf("; drops:");
	json_object_object_foreach(drops, reason, cnt) {
		if (!json_object_get_uint64(cnt))
			continue;
		printf(" %s %llu", reason, (unsigned long long)json_object_get_uint64(cnt));
		shown++;
	}
	printf("%s; non-ip %llu\napps:", shown ? "" : " none", jget_u64(doc, "non_ip"));
	shown = 0;
	json_object_object_foreach(apps, app, ac) {
		if (!jget_u64(ac, "packets"))
			continue;
		printf(" %s %llu", app, jget_u64(ac, "packets"));
		shown++;
	}
	printf("%s\n", shown ? "" : " none recognized");
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		json_object *o = json_object_array_get_idx(devs, i);

		printf("%s %s %llu", i ? "," : "devices:", jget_str(o, "name"), jget_u64(o, "packets"));
	}
	if (json_object_array_length(devs))
		printf("\n");
	printf("%5s  %-24s %-22s %14s %16s\n", "#", "RULE", "VERDICT", "PACKETS", "BYTES");
	for (size_t i = 0; i < json_object_array_length(rules); i++) {
		json_object *o = json_object_array_get_idx(rules, i);

		printf("%5zu  %-24s %-22s %14llu %16llu\n", i + 1, jget_str(o, "name"),
		       jget_str(o, "verdict"), jget_u64(o, "packets"), jget_u64(o, "bytes"));
	}
	printf("%5s  %-24s %-22s %14llu %16llu\n", "-", "default", jget_str(def, "verdict"),
	       jget_u64(def, "packets"), jget_u64(def, "bytes"));
}

/* Warnings about what a replay cannot reproduce. */
static void replay_warnings(struct replay *r, const struct policy *pol, const struct compiled *c)
{
	for (size_t i = 0; i < pol->n_rules; i++) {
		const struct pol_rule *R = &pol->rules[i];

		if (R->matches & POL_M_IN)
			replay_warn(r, "rule '%s' matches 'in %s': replayed packets arrive on no interface, so it matches none of them",
			     R->name, R->in_iface);
		if (R->action == FRINGE_ACT_STEER_IFACE && !if_nametoindex(R->steer_iface))
			replay_warn(r, "rule '%s' steers to '%s', which this host lacks: its packets count as redirect_failed drops here",
			     R->name, R->steer_iface);
		if (R->limit.on)
			replay_warn(r, "rule '%s' has a limit: its bucket fills at replay speed, not the capture's; its hits are exact, its drops are not",
			     R->name);
	}
}

int cmd_policy_test(struct cli *g, int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	bool verbose = cli_flag(g, "--verbose");
	struct compile_env env = cli_live_env();
	struct fringe_rule_action *acts = NULL;
	json_object *doc = NULL, *trace = NULL;
	struct replay r = { .prog_fd = -1 };
	struct pcap_pkthdr *ph;
	const uint8_t *data;
	const char *capture;
	double t0 = -1;
	uint64_t n = 0, skipped = 0;
	json_object *reasons = json_object_new_object();
	size_t lin_max = linear_max();
	struct policy pol;
	struct compiled c;
	pcap_t *pc = NULL;
	int err = 0, rc, dlt;

	capture = cli_opt(g, "--pcap");
	env.resolve_ifname = test_resolve;
	if (policy_build(argv[1], &env, &pol, &c))
		return 1;
	pc = pcap_open_offline(capture, errbuf);
	if (!pc) {
		cli_err("cannot read capture '%s': %s", capture, errbuf);
		err = -EINVAL;
		goto out;
	}
	dlt = pcap_datalink(pc);
	if (dlt != DLT_EN10MB) {
		cli_err("capture '%s' has link type %s, not Ethernet: capture on one interface (tcpdump -i IFACE -w FILE), not 'any'",
		capture, pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
		err = -EINVAL;
		goto out;
	}
	r.warnings = json_object_new_array();
	replay_warnings(&r, &pol, &c);

	err = maps_open(&r.m, NULL, MAPS_PRIVATE);
	if (err) {
		cli_err("cannot create a private data plane for the replay: %s",
		strerror(-err));
		goto out;
	}
	/* Steering targets this host lacks stay out of the devmap: those rules fail to redirect. */
	{
		size_t k = 0;

		for (size_t i = 0; i < c.n_steer_ifindex; i++)
			if (c.steer_ifindex[i] < PLACEHOLDER_IFINDEX)
				c.steer_ifindex[k++] = c.steer_ifindex[i];
		c.n_steer_ifindex = k;
	}
	err = maps_load_policy(&r.m, &c, NULL);
	if (err) {
		cli_err("cannot load policy '%s' into the private data plane: %s",
		argv[1], strerror(-err));
		goto out;
	}
	r.prog_fd = bpf_program__fd(r.m.skel->progs.fringe_xdp_ingress);
	r.n_rules = maps_active_hdr(&r.m)->n_rules;
	acts = calloc(r.n_rules + 1, sizeof(*acts));
	if (!acts || maps_read_actions(&r.m, r.m.meta->active & 1, acts, r.n_rules)) {
		err = -ENOMEM;
		goto out;
	}
	if (verbose) {
		err = replay_pin(&r);
		if (err) {
			cli_err("cannot pin the replay to one CPU: %s", strerror(-err));
			goto out;
		}
	}
	if (verbose)
		trace = json_object_new_array();

	while ((rc = pcap_next_ex(pc, &ph, &data)) == 1) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = ph->caplen,
			    .repeat = 1);
		struct fringe_iface_stats before, after;
		double t = ph->ts.tv_sec + ph->ts.tv_usec / 1e6;
		char summary[160];
		const char *rule, *reason = "";

		if (t0 < 0)
			t0 = t;
		if (ph->caplen < ph->len || ph->caplen < ETH_HLEN || ph->caplen > lin_max) {
			r.skipped[ph->caplen < ph->len ? SKIP_SNAP :
				  ph->caplen < ETH_HLEN ? SKIP_RUNT : SKIP_TOO_LONG]++;
			continue;
		}
		if (verbose)
			maps_read_iface_stats(&r.m, 0, &before);
		if (bpf_prog_test_run_opts(r.prog_fd, &opts)) {
			/* One odd frame never stops the replay: counted, said once. */
			if (!r.skipped[SKIP_REFUSED]++)
				r.refused_errno = errno;
			continue;
		}
		n++;
		if (!verbose)
			continue;
		rule = judged_rule(&r);
		maps_read_iface_stats(&r.m, 0, &after);
		for (int i = 0; i < FRINGE_DROP_MAX; i++)
			if (after.drops[i] != before.drops[i] && fringe_drop_reason_names[i])
				reason = fringe_drop_reason_names[i];
		if (!reason[0] && after.non_ip != before.non_ip)
			reason = "non-ip";
		frame_summary(data, ph->caplen, summary, sizeof(summary));
		{
			json_object *o = json_object_new_object();

			json_object_object_add(o, "n", ju64(n));
			json_object_object_add(o, "time", json_object_new_double(t - t0));
			json_object_object_add(o, "len", ju64(ph->caplen));
			json_object_object_add(o, "packet", jstr(summary));
			json_object_object_add(o, "verdict", jstr(verdict_of(opts.retval)));
			json_object_object_add(o, "reason", jstr(reason));
			json_object_object_add(o, "rule", rule ? jstr(rule) : NULL);
			json_object_array_add(trace, o);
		}
	}
	if (rc == PCAP_ERROR) {
		cli_err("cannot read capture '%s': %s", capture, pcap_geterr(pc));
		err = -EIO;
		goto out;
	}
	if (r.skipped[SKIP_SNAP])
		replay_warn(&r, "%llu packets were cut by the capture's snap length and not replayed (capture with -s 0)",
		     (unsigned long long)r.skipped[SKIP_SNAP]);
	if (r.skipped[SKIP_RUNT])
		replay_warn(&r, "%llu frames shorter than an Ethernet header (14 bytes) were not replayed: a test run refuses them",
		     (unsigned long long)r.skipped[SKIP_RUNT]);
	if (r.skipped[SKIP_TOO_LONG])
		replay_warn(&r, "%llu frames longer than %zu bytes (GRO/TSO aggregates or jumbo frames) were not replayed: a test run would show the program only their first %zu bytes; capture where offloads are off",
		     (unsigned long long)r.skipped[SKIP_TOO_LONG], lin_max, lin_max);
	if (r.skipped[SKIP_REFUSED])
		replay_warn(&r, "%llu frames were refused by the kernel's test run (the first: %s) and not replayed",
		     (unsigned long long)r.skipped[SKIP_REFUSED], strerror(r.refused_errno));
	for (int k = 0; k < SKIP__COUNT; k++) {
		skipped += r.skipped[k];
		json_object_object_add(reasons, skip_names[k], ju64(r.skipped[k]));
	}

	doc = json_object_new_object();
	json_object_object_add(doc, "policy", jstr(argv[1]));
	json_object_object_add(doc, "capture", jstr(capture));
	json_object_object_add(doc, "packets", ju64(n));
	json_object_object_add(doc, "skipped", ju64(skipped));
	json_object_object_add(doc, "skipped_reasons", reasons);
	reasons = NULL;
	replay_totals(&r, acts, maps_active_hdr(&r.m)->default_action, doc);
	json_object_object_add(doc, "warnings", json_object_get(r.warnings));
	if (trace) {
		json_object_object_add(doc, "trace", trace);
		trace = NULL;
	}
	cli_print(g, doc, test_text);
out:
	json_object_put(reasons);
	json_object_put(doc);
	json_object_put(trace);
	json_object_put(r.warnings);
	if (pc)
		pcap_close(pc);
	if (r.m.skel || r.m.meta)
		maps_close(&r.m);
	free(acts);
	compiled_free(&c);
	policy_free(&pol);
	return err ? 1 : 0;
}
