// SPDX-License-Identifier: GPL-2.0
/* `fringe sample` (samples to pcap or sFlow) and `fringe flows` (the flow table). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "clock.h"
#include "cli.h"
#include "docs.h"
#include "flows.h"
#include "log.h"
#include "sampler.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/* SIGINT/SIGTERM end the wait at once: no SA_RESTART. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* "rule (1/N), ..." for the rules of the policy in force that sample. */
static int sampled_rules(struct maps *m, char *buf, size_t len)
{
	const struct fringe_slot_hdr *h = maps_active_hdr(m);
	struct fringe_rule_action *a = calloc(h->n_rules + 1, sizeof(*a));
	size_t used = 0;
	int n = 0;

	buf[0] = '\0';
	if (!a || maps_read_actions(m, m->meta->active & 1, a, h->n_rules)) {
		free(a);
		return 0;
	}
	for (uint32_t r = 0; r < h->n_rules; r++) {
		if (!(a[r].flags & FRINGE_RF_SAMPLE))
			continue;
		if (used < len)
			used += snprintf(buf + used, len - used, "%s%.*s (1/%u)", n ? ", " : "",
					 FRINGE_NAME_LEN, m->names[a[r].counter_id % FRINGE_MAX_COUNTERS].name,
					 a[r].sample_rate);
		n++;
	}
	free(a);
	return n;
}

int cmd_sample(struct cli *g, int argc, char **argv)
{
	struct sampler_opts o = {};
	const char *duration = cli_opt(g, "--duration");
	unsigned long long bytes = 0, count = 0;
	struct sampler_totals t;
	struct sampler *s = NULL;
	char rules[512], target[400];
	uint64_t deadline = 0;
	struct maps m;
	int err = 0, n;

	o.pcap_path = cli_opt(g, "--pcap");
	o.sflow_target = cli_opt(g, "--sflow");
	o.agent = cli_opt(g, "--agent");
	err = cli_opt_ull(g, "--bytes", 1, FRINGE_SAMPLE_MAX, "bytes per sample", &bytes);
	if (!err)
		err = cli_opt_ull(g, "--count", 1, ~0ULL, "a number of samples", &count);
	if (err)
		return err;
	o.max_samples = count;
	if (duration) {
		char *end;
		double secs = strtod(duration, &end);

		if (*end || !(secs > 0 && secs <= 31536000))
			return cli_usage_err(g, "bad --duration '%s' (seconds, more than 0)", duration);
		deadline = mono_ns() + (uint64_t)(secs * 1e9);
	}
	if (g->json && o.pcap_path && !strcmp(o.pcap_path, "-"))
		return cli_usage_err(g, "--json and --pcap - would both write to stdout");
	if (cli_open(g, &m, 0))
		return 1;
	/* Bytes per sample is a data-plane setting: it stays for later samplers. */
	if (bytes)
		m.meta->sample_bytes = bytes;
	catch_signals();
	err = sampler_open(&s, &m, &o);
	if (err)
		goto out;

	n = sampled_rules(&m, rules, sizeof(rules));
	snprintf(target, sizeof(target), "%s%s%s", o.pcap_path ? o.pcap_path : "",
		 o.pcap_path && o.sflow_target ? " and " : "", o.sflow_target ? o.sflow_target : "");
	if (n)
		cli_note("sampling rule%s %s to %s; Ctrl-C stops", n > 1 ? "s" : "", rules, target);
	else
		pr_warn("no rule of the policy in force has 'sample 1/N': nothing to sample yet; waiting");

	while (!stop) {
		int timeout = SAMPLER_POLL_MS;

		if (deadline) {
			uint64_t now = mono_ns();

			if (now >= deadline)
				break;
			if (deadline - now < SAMPLER_POLL_MS * 1000000ULL)
				timeout = (deadline - now) / 1000000;
		}
		err = sampler_poll(s, timeout);
		if (err) {
			if (err == 1)
				err = 0;	/* --count reached */
			break;
		}
	}
	if (!err)
		err = sampler_flush(s);
	sampler_get_totals(s, &t);
	if (!err || t.written) {
		char sent[256] = "", stale[64] = "";

		if (o.sflow_target)
			snprintf(sent, sizeof(sent), "sent to %s in %llu datagrams", o.sflow_target,
				 (unsigned long long)t.datagrams);
		if (t.stale)
			snprintf(stale, sizeof(stale), "; %llu older sample%s discarded",
				 (unsigned long long)t.stale, t.stale == 1 ? "" : "s");
		cli_note("%llu sample%s %s%s%s%s (data plane: %llu taken, %llu lost)%s",
			 (unsigned long long)t.written, t.written == 1 ? "" : "s",
			 o.pcap_path ? "written to " : "", o.pcap_path ? o.pcap_path : "",
			 o.pcap_path && o.sflow_target ? " and " : "", sent,
			 (unsigned long long)t.taken, (unsigned long long)t.lost, stale);
	}
	if (g->json && !err) {
		json_object *doc = json_object_new_object();

		json_object_object_add(doc, "written", ju64(t.written));
		json_object_object_add(doc, "datagrams", ju64(t.datagrams));
		json_object_object_add(doc, "taken", ju64(t.taken));
		json_object_object_add(doc, "lost", ju64(t.lost));
		json_object_object_add(doc, "stale", ju64(t.stale));
		cli_print(g, doc, NULL);
		json_object_put(doc);
	}
out:
	sampler_close(s);
	maps_close(&m);
	return err ? 1 : 0;
}

/* ---- flows ------------------------------------------------------------------------- */


static const char *const xdp_action_names[] = { "aborted", "drop", "pass", "tx", "redirect" };

static void iso_time(uint64_t mono, int64_t wall_offset, char *buf, size_t len)
{
	time_t t = (time_t)((mono + wall_offset) / 1000000000ULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void ifname_of(struct maps *m, uint32_t ifindex, char *buf, size_t len)
{
	struct fringe_iface_info info;
	char tmp[IF_NAMESIZE];

	for (__u32 s = 1; s < FRINGE_MAX_IFACES; s++)
		if (!bpf_map_lookup_elem(m->fd[M_IFACES], &s, &info) && info.in_use &&
		    info.ifindex == ifindex) {
			snprintf(buf, len, "%.*s", FRINGE_IFNAME_LEN, info.name);
			return;
		}
	if (if_indextoname(ifindex, tmp))
		snprintf(buf, len, "%s", tmp);
	else
		snprintf(buf, len, "#%u", ifindex);
}

static int by_bytes(const void *a, const void *b)
{
	const struct flow_row *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return 0;
}

static json_object *flow_obj(struct maps *m, const struct flow_row *r, int64_t wall_offset,
			     const struct fringe_rule_action *acts, uint64_t now)
{
	const struct fringe_slot_hdr *h = maps_active_hdr(m);
	int af = r->key.family == 6 ? AF_INET6 : AF_INET;
	json_object *o = json_object_new_object();
	char buf[INET6_ADDRSTRLEN + 8];
	bool ports = r->key.flags & FRINGE_FK_PORTS;

	inet_ntop(af, r->key.saddr, buf, sizeof(buf));
	json_object_object_add(o, "src", jstr(buf));
	inet_ntop(af, r->key.daddr, buf, sizeof(buf));
	json_object_object_add(o, "dst", jstr(buf));
	json_object_object_add(o, "proto", jstr(cli_proto_name(r->key.proto, buf, sizeof(buf))));
	json_object_object_add(o, "sport", ports ? ju64(r->key.sport) : NULL);
	json_object_object_add(o, "dport", ports ? ju64(r->key.dport) : NULL);
	ifname_of(m, r->key.ifindex, buf, sizeof(buf));
	json_object_object_add(o, "ifname", jstr(buf));
	json_object_object_add(o, "vlan", r->key.vlan < FRINGE_NO_VLAN ? ju64(r->key.vlan) : NULL);
	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", r->key.smac[0], r->key.smac[1],
		 r->key.smac[2], r->key.smac[3], r->key.smac[4], r->key.smac[5]);
	json_object_object_add(o, "smac", jstr(buf));
	json_object_object_add(o, "packets", ju64(r->packets));
	json_object_object_add(o, "bytes", ju64(r->bytes));
	iso_time(r->first_ns, wall_offset, buf, sizeof(buf));
	json_object_object_add(o, "first_seen", jstr(buf));
	iso_time(r->last_ns, wall_offset, buf, sizeof(buf));
	json_object_object_add(o, "last_seen", jstr(buf));
	json_object_object_add(o, "idle_seconds",
			       ju64(now > r->last_ns ? (now - r->last_ns) / 1000000000ULL : 0));
	json_object_object_add(o, "verdict", jstr(r->action < 5 ? xdp_action_names[r->action] : "?"));
	/* The application its payloads were recognized as (none failed the check). */
	json_object_object_add(o, "app", r->app && r->app < FRINGE_APP_COUNT ?
				 jstr(pol_app_names[r->app]) : NULL);
	/* The rule is known when the flow was judged under the policy in force. */
	if (r->generation && r->generation == h->generation) {
		if (r->rule == FRINGE_FLOW_NO_RULE)
			json_object_object_add(o, "rule", jstr("default"));
		else if (r->rule < h->n_rules && acts)
			json_object_object_add(o, "rule", json_object_new_string_len(
				m->names[acts[r->rule].counter_id % FRINGE_MAX_COUNTERS].name,
				strnlen(m->names[acts[r->rule].counter_id % FRINGE_MAX_COUNTERS].name,
					FRINGE_NAME_LEN)));
	}
	if (!json_object_object_get_ex(o, "rule", NULL))
		json_object_object_add(o, "rule", NULL);
	return o;
}

/* "addr:port", "[addr6]:port" or the bare address when the flow has no ports. */
static void endpoint(json_object *f, const char *addr_key, const char *port_key, char *buf,
		     size_t len)
{
	json_object *port = json_object_object_get(f, port_key);
	const char *addr = jget_str(f, addr_key);

	if (!port)
		snprintf(buf, len, "%s", addr);
	else
		snprintf(buf, len, strchr(addr, ':') ? "[%s]:%d" : "%s:%d", addr,
			 json_object_get_int(port));
}

static void flows_text(json_object *doc)
{
	json_object *flows = json_object_object_get(doc, "flows");
	size_t n = json_object_array_length(flows);
	int ws = strlen("SOURCE"), wd = strlen("DESTINATION");
	char s[64], d[64], vlan[8];

	if (!json_object_get_boolean(json_object_object_get(doc, "enabled"))) {
		printf("the flow table is off; 'fringe flows --enable' turns it on "
		       "(it costs a hash lookup per packet: see docs/design.md)\n");
		return;
	}
	printf("%llu active flows%s\n", jget_u64(doc, "active"), n ? ", heaviest first:" : "");
	if (!n)
		return;
	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(flows, i);
		int a, b;

		endpoint(f, "src", "sport", s, sizeof(s));
		endpoint(f, "dst", "dport", d, sizeof(d));
		a = strlen(s);
		b = strlen(d);
		ws = a > ws ? a : ws;
		wd = b > wd ? b : wd;
	}
	printf("%-10s %-6s %-*s %-*s %4s %10s %12s %-8s %-16s %5s\n", "IFACE", "PROTO", ws, "SOURCE",
	       wd, "DESTINATION", "VLAN", "PACKETS", "BYTES", "VERDICT", "RULE", "IDLE");
	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(flows, i);
		json_object *vl = json_object_object_get(f, "vlan");
		json_object *rule = json_object_object_get(f, "rule");

		endpoint(f, "src", "sport", s, sizeof(s));
		endpoint(f, "dst", "dport", d, sizeof(d));
		snprintf(vlan, sizeof(vlan), vl ? "%d" : "-", vl ? json_object_get_int(vl) : 0);
		printf("%-10s %-6s %-*s %-*s %4s %10llu %12llu %-8s %-16s %4llus\n",
		       jget_str(f, "ifname"), jget_str(f, "proto"), ws, s, wd, d, vlan,
		       jget_u64(f, "packets"), jget_u64(f, "bytes"), jget_str(f, "verdict"),
		       rule ? json_object_get_string(rule) : "?", jget_u64(f, "idle_seconds"));
	}
}

json_object *flows_doc(struct maps *m, size_t top, int *err)
{
	const struct fringe_slot_hdr *h = maps_active_hdr(m);
	json_object *doc = json_object_new_object(), *arr = json_object_new_array();
	struct fringe_rule_action *acts = calloc(h->n_rules + 1, sizeof(*acts));
	struct flow_row *rows = NULL;
	struct timespec rt, mono;
	int64_t wall_offset;
	size_t n = 0;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	wall_offset = (int64_t)(rt.tv_sec - mono.tv_sec) * 1000000000LL + (rt.tv_nsec - mono.tv_nsec);
	if (acts && maps_read_actions(m, m->meta->active & 1, acts, h->n_rules)) {
		free(acts);
		acts = NULL;
	}
	*err = flows_read(m, &rows, &n);
	if (*err)
		pr_err("cannot read the flow table: %s", strerror(-*err));
	qsort(rows, n, sizeof(*rows), by_bytes);
	for (size_t i = 0; i < n && i < top; i++)
		json_object_array_add(arr, flow_obj(m, &rows[i], wall_offset, acts,
						    mono.tv_sec * 1000000000ULL + mono.tv_nsec));
	json_object_object_add(doc, "enabled", json_object_new_boolean(flows_enabled(m)));
	json_object_object_add(doc, "active", ju64(n));
	json_object_object_add(doc, "flows", arr);
	free(rows);
	free(acts);
	return doc;
}

static void flows_switch_text(json_object *doc)
{
	if (json_object_get_boolean(json_object_object_get(doc, "enabled")))
		printf("flow table on (a hash lookup per packet; 'fringe flows --disable' turns it off)\n");
	else
		printf("flow table off (%llu flows cleared)\n", jget_u64(doc, "cleared"));
}

int cmd_flows(struct cli *g, int argc, char **argv)
{
	bool enable = cli_flag(g, "--enable"), disable = cli_flag(g, "--disable");
	unsigned long long top = 10;
	json_object *doc;
	struct maps m;
	int err;

	if ((enable || disable) && cli_opt(g, "--top"))
		return cli_usage_err(g, "--top lists flows; --enable and --disable switch the table");
	err = cli_opt_ull(g, "--top", 1, ~0ULL, "a number of flows", &top);
	if (err)
		return err;
	if (cli_open(g, &m, 0))
		return 1;
	if (enable || disable) {
		uint64_t cleared = 0;

		err = flows_set_enabled(&m, enable, &cleared);
		if (!err) {
			doc = json_object_new_object();
			json_object_object_add(doc, "enabled", json_object_new_boolean(enable));
			json_object_object_add(doc, "cleared", ju64(cleared));
			cli_print(g, doc, flows_switch_text);
			json_object_put(doc);
		}
		maps_close(&m);
		return err ? 1 : 0;
	}
	doc = flows_doc(&m, top, &err);
	if (!err)
		cli_print(g, doc, flows_text);
	json_object_put(doc);
	maps_close(&m);
	return err ? 1 : 0;
}
