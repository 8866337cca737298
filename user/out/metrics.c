// SPDX-License-Identifier: GPL-2.0
/* Prometheus text exposition of the data plane's counters (docs/metrics.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cluster.h"
#include "dns.h"
#include "flows.h"
#include "metrics.h"
#include "overlay.h"
#include "policy.h"
#include "sampler.h"
#include "staged.h"

/* Label values: backslash, double quote and newline are escaped. */
static void label(FILE *out, const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++) {
		if (s[i] == '\\' || s[i] == '"')
			fputc('\\', out);
		if (s[i] == '\n')
			fputs("\\n", out);
		else
			fputc(s[i], out);
	}
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

struct iface_row {
	struct fringe_iface_info info;
	struct fringe_iface_stats st;
};

static size_t read_ifaces(struct maps *m, struct iface_row *rows)
{
	size_t n = 0;

	for (__u32 s = 1; s < FRINGE_MAX_IFACES; s++) {
		if (bpf_map_lookup_elem(m->fd[M_IFACES], &s, &rows[n].info) || !rows[n].info.in_use)
			continue;
		if (maps_read_iface_stats(m, s, &rows[n].st))
			continue;
		n++;
	}
	return n;
}

static void iface_families(FILE *out, struct iface_row *rows, size_t n)
{
	for (int bytes = 0; bytes < 2; bytes++) {
		const char *name = bytes ? "fringe_bytes_total" : "fringe_packets_total";

		family(out, name, "counter",
		       bytes ? "Bytes of the packets judged by the XDP program, by interface and verdict."
			     : "Packets judged by the XDP program, by interface and verdict.");
		for (size_t i = 0; i < n; i++)
			for (int v = 0; v < FRINGE_V_MAX; v++) {
				const struct fringe_counter *c = &rows[i].st.verdict[v];

				fprintf(out, "%s{interface=\"", name);
				label(out, rows[i].info.name, sizeof(rows[i].info.name));
				fprintf(out, "\",verdict=\"%s\"} %llu\n", fringe_verdict_names[v],
					(unsigned long long)(bytes ? c->bytes : c->packets));
			}
	}
	family(out, "fringe_drops_total", "counter", "Packets dropped, by interface and reason.");
	for (size_t i = 0; i < n; i++)
		for (int r = 0; r < FRINGE_DROP_MAX; r++) {
			if (!fringe_drop_reason_names[r])
				continue;
			fputs("fringe_drops_total{interface=\"", out);
			label(out, rows[i].info.name, sizeof(rows[i].info.name));
			fprintf(out, "\",reason=\"%s\"} %llu\n", fringe_drop_reason_names[r],
				(unsigned long long)rows[i].st.drops[r]);
		}
	family(out, "fringe_non_ip_packets_total", "counter",
	       "Frames that are neither IPv4 nor IPv6: passed, matched by no rule.");
	for (size_t i = 0; i < n; i++) {
		fputs("fringe_non_ip_packets_total{interface=\"", out);
		label(out, rows[i].info.name, sizeof(rows[i].info.name));
		fprintf(out, "\"} %llu\n", (unsigned long long)rows[i].st.non_ip);
	}
	family(out, "fringe_spoofed_packets_total", "counter",
	       "Packets whose source IP belongs to a declared device with another MAC.");
	for (size_t i = 0; i < n; i++) {
		fputs("fringe_spoofed_packets_total{interface=\"", out);
		label(out, rows[i].info.name, sizeof(rows[i].info.name));
		fprintf(out, "\"} %llu\n", (unsigned long long)rows[i].st.spoofed);
	}
}

bool metrics_bpf_stats;

static bool bpf_stats_on(void)
{
	FILE *f;
	int c = '0';

	if (metrics_bpf_stats)
		return true;
	f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	if (f) {
		c = fgetc(f);
		fclose(f);
	}
	return c == '1';
}

/* The kernel's run time and run count of the program on each interface. */
static void bpf_families(FILE *out, struct iface_row *rows, size_t n)
{
	struct bpf_prog_info *info = calloc(n + 1, sizeof(*info));

	if (!info)
		return;
	for (size_t i = 0; i < n; i++) {
		__u32 len = sizeof(info[i]);
		int fd = rows[i].info.prog_id ? bpf_prog_get_fd_by_id(rows[i].info.prog_id) : -1;

		if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info[i], &len))
			memset(&info[i], 0, sizeof(info[i]));
		if (fd >= 0)
			close(fd);
	}
	family(out, "fringe_bpf_run_time_seconds_total", "counter",
	       "Time the kernel spent running fringe's BPF program, by interface (kernel BPF statistics).");
	for (size_t i = 0; i < n; i++) {
		fputs("fringe_bpf_run_time_seconds_total{interface=\"", out);
		label(out, rows[i].info.name, sizeof(rows[i].info.name));
		fprintf(out, "\",program=\"fringe_xdp_ingress\"} %.9f\n", info[i].run_time_ns / 1e9);
	}
	family(out, "fringe_bpf_run_count_total", "counter",
	       "Runs of fringe's BPF program, by interface (kernel BPF statistics).");
	for (size_t i = 0; i < n; i++) {
		fputs("fringe_bpf_run_count_total{interface=\"", out);
		label(out, rows[i].info.name, sizeof(rows[i].info.name));
		fprintf(out, "\",program=\"fringe_xdp_ingress\"} %llu\n",
			(unsigned long long)info[i].run_cnt);
	}
	free(info);
}

/* Sampling totals (all rules) and the flow table's size (docs/metrics.md). */
static void sample_flow_families(FILE *out, struct maps *m)
{
	uint64_t taken = 0, lost = 0, flows = 0;

	sampler_stats_sum(m, &taken, &lost);
	flows_count(m, &flows);
	family(out, "fringe_samples_total", "counter",
	       "Packets sampled (sample 1/N) and handed to the ring buffer, all rules.");
	fprintf(out, "fringe_samples_total %llu\n", (unsigned long long)taken);
	family(out, "fringe_samples_lost_total", "counter",
	       "Packets selected for sampling that the full ring buffer could not take.");
	fprintf(out, "fringe_samples_lost_total %llu\n", (unsigned long long)lost);
	family(out, "fringe_flows_active", "gauge",
	       "Flows in the flow table (0 while it is off: fringe flows --enable).");
	fprintf(out, "fringe_flows_active %llu\n", (unsigned long long)flows);
}

/* Kernel memory by map family (the kernel's memlock figure), as `fringe status` shows it. */
static void memory_families(FILE *out, struct maps *m)
{
	struct maps_mem mem[M__COUNT];

	maps_memory(m, mem);
	family(out, "fringe_map_bytes", "gauge",
	       "Kernel memory of each fringe map family (a slot map or holder with its inner maps), bytes.");
	for (int i = 0; i < M__COUNT; i++)
		fprintf(out, "fringe_map_bytes{map=\"%s\"} %llu\n", mem[i].name,
			(unsigned long long)mem[i].bytes);
}

static void rule_families(FILE *out, struct maps *m, const struct fringe_slot_hdr *h)
{
	struct fringe_rule_action *acts = calloc(h->n_rules + 1, sizeof(*acts));
	struct fringe_counter *cnt = calloc(h->n_rules + 1, sizeof(*cnt)), *all = NULL;
	uint32_t n = h->n_rules;

	if (!acts || !cnt || maps_read_actions(m, m->meta->active & 1, acts, n) ||
	    maps_read_rule_counters(m, maps_rule_ids_upto(acts, n), &all))
		n = 0;
	for (uint32_t r = 0; r < n; r++)
		cnt[r] = all[acts[r].counter_id % FRINGE_MAX_COUNTERS];
	free(all);
	maps_read_rule_counter(m, 0, &cnt[n]);

	for (int bytes = 0; bytes < 2; bytes++) {
		const char *name = bytes ? "fringe_rule_bytes_total" : "fringe_rule_packets_total";

		family(out, name, "counter",
		       bytes ? "Bytes of the packets each rule matched (rule=\"default\": no rule)."
			     : "Packets each rule matched (rule=\"default\": no rule).");
		for (uint32_t r = 0; r <= n; r++) {
			const char *rule = r < n ? m->names[acts[r].counter_id % FRINGE_MAX_COUNTERS].name
						 : "default";

			fprintf(out, "%s{rule=\"", name);
			label(out, rule, FRINGE_NAME_LEN);
			fprintf(out, "\"} %llu\n",
				(unsigned long long)(bytes ? cnt[r].bytes : cnt[r].packets));
		}
	}
	free(acts);
	free(cnt);
}

/* Recognized applications (every one, at zero from the start) and the
 * declared devices of the policy in force. */
static void app_device_families(FILE *out, struct maps *m)
{
	struct fringe_counter apps[FRINGE_APP_COUNT];
	struct maps_device *dev = NULL;
	size_t n = 0;

	maps_read_app_stats(m, apps);
	maps_read_devices(m, &dev, &n);
	for (int bytes = 0; bytes < 2; bytes++) {
		const char *name = bytes ? "fringe_app_bytes_total" : "fringe_app_packets_total";

		family(out, name, "counter",
		       bytes ? "Bytes of the packets recognized as each application (port and header check)."
			     : "Packets recognized as each application (port and header check).");
		for (int a = FRINGE_APP_NONE + 1; a < FRINGE_APP_COUNT; a++)
			fprintf(out, "%s{app=\"%s\"} %llu\n", name, pol_app_names[a],
				(unsigned long long)(bytes ? apps[a].bytes : apps[a].packets));
	}
	for (int bytes = 0; bytes < 2; bytes++) {
		const char *name = bytes ? "fringe_device_bytes_total" : "fringe_device_packets_total";

		family(out, name, "counter",
		       bytes ? "Bytes sent by each declared device of the policy in force."
			     : "Packets sent by each declared device of the policy in force.");
		for (size_t i = 0; i < n; i++) {
			fprintf(out, "%s{device=\"", name);
			label(out, dev[i].name, FRINGE_NAME_LEN);
			fprintf(out, "\"} %llu\n",
				(unsigned long long)(bytes ? dev[i].cnt.bytes : dev[i].cnt.packets));
		}
	}
	family(out, "fringe_device_spoofed_packets_total", "counter",
	       "Packets that claimed the address of each declared device from another MAC.");
	for (size_t i = 0; i < n; i++) {
		fputs("fringe_device_spoofed_packets_total{device=\"", out);
		label(out, dev[i].name, FRINGE_NAME_LEN);
		fprintf(out, "\"} %llu\n", (unsigned long long)dev[i].spoofed);
	}
	free(dev);
}

/* Packets and bytes through each node's tunnel (docs/metrics.md), from the nodes file in force. */
static void overlay_families(FILE *out, struct maps *m)
{
	struct ov_state s;
	bool ok = !overlay_read(m, &s);

	for (int bytes = 0; bytes < 2; bytes++) {
		const char *name = bytes ? "fringe_overlay_bytes_total" : "fringe_overlay_packets_total";

		family(out, name, "counter",
		       bytes ? "Bytes of the frames tunnelled to (tx) and from (rx) each overlay node, inner frame."
			     : "Packets tunnelled to (tx) and from (rx) each overlay node.");
		for (size_t i = 0; ok && i < s.n_nodes; i++) {
			const struct ov_node *n = &s.nodes[i];

			if (n->node.flags & FRINGE_NODE_SELF)
				continue;
			for (int rx = 0; rx < 2; rx++) {
				const struct fringe_counter *c = rx ? &n->rx : &n->tx;

				fprintf(out, "%s{node=\"", name);
				label(out, n->name, FRINGE_NAME_LEN);
				fprintf(out, "\",direction=\"%s\"} %llu\n", rx ? "rx" : "tx",
					(unsigned long long)(bytes ? c->bytes : c->packets));
			}
		}
	}
	family(out, "fringe_overlay_generation", "gauge",
	       "Generation of the nodes file in force (0: none loaded).");
	fprintf(out, "fringe_overlay_generation %llu\n",
		(unsigned long long)(ok && s.loaded ? s.slot.generation : 0));
	family(out, "fringe_overlay_load_failures_total", "counter",
	       "Nodes files refused (bad file, unresolvable underlay) since the state was created.");
	fprintf(out, "fringe_overlay_load_failures_total %llu\n",
		(unsigned long long)(ok ? s.load_failures : 0));
	if (ok)
		overlay_state_free(&s);
}

/* The cluster member's health and counters (SPEC §14), when one keeps this pin dir. */
static void cluster_families(FILE *out, struct maps *m)
{
	static const char *const types[FRINGE_CEV_MAX] = { "put", "delete", "rejected" };
	struct fringe_cluster_state *st = cluster_state_map(m->pin_dir, false);

	if (!st)
		return;
	family(out, "fringe_cluster_up", "gauge",
	       "1 while the daemon is in touch with an etcd cluster that has quorum.");
	fprintf(out, "fringe_cluster_up %d\n", st->up && cluster_state_live(st) ? 1 : 0);
	family(out, "fringe_cluster_nodes", "gauge", "Nodes in the overlay table, this one included.");
	fprintf(out, "fringe_cluster_nodes %u\n", st->n_nodes);
	family(out, "fringe_cluster_events_total", "counter",
	       "Node records seen in etcd: put, deleted, and rejected (not loaded).");
	for (int i = 0; i < FRINGE_CEV_MAX; i++)
		fprintf(out, "fringe_cluster_events_total{type=\"%s\"} %llu\n", types[i],
			(unsigned long long)st->events[i]);
	family(out, "fringe_cluster_last_sync_timestamp_seconds", "gauge",
	       "When the table was last known to match etcd (Unix time; 0: never).");
	fprintf(out, "fringe_cluster_last_sync_timestamp_seconds %.3f\n", st->last_sync_ns / 1e9);
	cluster_state_unmap(st);
}

/* DNS names in sets: answers by result, what is learned, what was evicted. */
static void dns_families(FILE *out, struct maps *m)
{
	static const struct { enum fringe_dns_result r; const char *name; } results[] = {
		{ FRINGE_DNS_LEARNED, "learned" }, { FRINGE_DNS_NO_MATCH, "no_match" },
		{ FRINGE_DNS_UNSOLICITED, "unsolicited" }, { FRINGE_DNS_MALFORMED, "malformed" },
	};
	struct dns_counts c;

	if (dns_counts(m, &c))
		return;
	family(out, "fringe_dns_answers_total", "counter",
	       "DNS answers seen by result: learned, no_match, unsolicited (no query seen), malformed.");
	for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++)
		fprintf(out, "fringe_dns_answers_total{result=\"%s\"} %llu\n", results[i].name,
			(unsigned long long)c.result[results[i].r]);
	family(out, "fringe_dns_queries_total", "counter", "DNS queries seen (remembered for their answer).");
	fprintf(out, "fringe_dns_queries_total %llu\n", (unsigned long long)c.result[FRINGE_DNS_QUERIES]);
	family(out, "fringe_dns_learned_addresses", "gauge", "Addresses learned for DNS names, unexpired.");
	fprintf(out, "fringe_dns_learned_addresses %llu\n", (unsigned long long)c.learned_now);
	family(out, "fringe_dns_evictions_total", "counter",
	       "Learned addresses removed before their TTL to make room, the soonest to expire first.");
	fprintf(out, "fringe_dns_evictions_total %llu\n", (unsigned long long)c.result[FRINGE_DNS_EVICTED]);
	family(out, "fringe_dns_full_total", "counter",
	       "Addresses not learned because the table was full.");
	fprintf(out, "fringe_dns_full_total %llu\n", (unsigned long long)c.result[FRINGE_DNS_FULL]);
}

/* The staged policy (§11): what its rules counted and the verdicts it would
 * change, summed by pair of verdicts.  The pairs exist at zero while nothing
 * is staged (a new stage starts them again from zero: a counter reset). */
static void staged_families(FILE *out, struct maps *m)
{
	const struct fringe_slot_hdr *h = staged_hdr(m);
	const char (*names)[FRINGE_NAME_LEN] = NULL;
	uint64_t pairs[FRINGE_VC_MAX][FRINGE_VC_MAX] = {};
	struct fringe_counter *cnt = NULL;
	struct staged_change *ch = NULL;
	size_t n = 0, n_ch = 0;
	bool counted;		/* a policy is staged and its counters were read */

	family(out, "fringe_staged_policy_generation", "gauge",
	       "Generation of the staged policy (fringe policy stage); 0: none.");
	fprintf(out, "fringe_staged_policy_generation %llu\n",
		(unsigned long long)(h ? h->generation : 0));
	counted = h && !staged_rule_names(m, &names, &n) && !staged_read_counters(m, &cnt);
	family(out, "fringe_staged_rule_packets_total", "counter",
	       "Packets each rule of the staged policy matched (it decides none).");
	for (size_t r = 0; counted && r < n; r++) {
		fputs("fringe_staged_rule_packets_total{rule=\"", out);
		label(out, names[r], FRINGE_NAME_LEN);
		fprintf(out, "\"} %llu\n", (unsigned long long)cnt[r + 1].packets);
	}
	if (counted)
		fprintf(out, "fringe_staged_rule_packets_total{rule=\"default\"} %llu\n",
			(unsigned long long)cnt[0].packets);
	if (counted && !staged_read_changes(m, &ch, &n_ch))
		for (size_t i = 0; i < n_ch; i++)
			if (ch[i].key.from < FRINGE_VC_MAX && ch[i].key.to < FRINGE_VC_MAX)
				pairs[ch[i].key.from][ch[i].key.to] += ch[i].v.packets;
	family(out, "fringe_staged_changes_total", "counter",
	       "Packets whose verdict the staged policy would change, by verdict in force and staged.");
	for (int f = 0; f < FRINGE_VC_MAX; f++)
		for (int t = 0; t < FRINGE_VC_MAX; t++)
			if (f != t)
				fprintf(out, "fringe_staged_changes_total{from=\"%s\",to=\"%s\"} %llu\n",
					staged_class_name(f), staged_class_name(t),
					(unsigned long long)pairs[f][t]);
	family(out, "fringe_staged_changes_not_recorded_total", "counter",
	       "Changed verdicts of further rule pairs, not recorded: the table of pairs was full.");
	fprintf(out, "fringe_staged_changes_not_recorded_total %llu\n",
		(unsigned long long)(counted ? cnt[FRINGE_STAGED_LOST].packets : 0));
	free(ch);
	free(cnt);
}

int metrics_render(struct maps *m, FILE *out)
{
	static const char *const slot_maps[FRINGE_SM_COUNT] = {
		"bitmaps", "dimtab", "v4", "lpm6", "hash", "rules",
	};
	const struct fringe_slot_hdr *h = maps_active_hdr(m);
	struct iface_row *rows = calloc(FRINGE_MAX_IFACES, sizeof(*rows));
	size_t n;

	if (!rows)
		return -ENOMEM;
	family(out, "fringe_build_info", "gauge", "The running fringe build.");
	fprintf(out, "fringe_build_info{version=\"%s\"} 1\n", FRINGE_VERSION);

	n = read_ifaces(m, rows);
	iface_families(out, rows, n);
	if (bpf_stats_on())
		bpf_families(out, rows, n);
	free(rows);
	rule_families(out, m, h);
	app_device_families(out, m);
	sample_flow_families(out, m);
	memory_families(out, m);
	overlay_families(out, m);
	cluster_families(out, m);
	dns_families(out, m);
	staged_families(out, m);

	family(out, "fringe_policy_generation", "gauge", "Generation of the policy in force.");
	fprintf(out, "fringe_policy_generation %llu\n", (unsigned long long)h->generation);
	family(out, "fringe_policy_rules", "gauge", "Rules in the policy in force.");
	fprintf(out, "fringe_policy_rules %u\n", h->n_rules);
	family(out, "fringe_policy_load_timestamp_seconds", "gauge",
	       "When the policy in force was loaded (Unix time).");
	fprintf(out, "fringe_policy_load_timestamp_seconds %.3f\n", h->load_time_ns / 1e9);
	family(out, "fringe_policy_load_failures_total", "counter",
	       "Policy loads refused (bad file, capacity) since the state was created.");
	fprintf(out, "fringe_policy_load_failures_total %llu\n",
		(unsigned long long)m->meta->load_failures);
	family(out, "fringe_policy_confirm_pending", "gauge",
	       "1 while the policy in force awaits `fringe policy confirm` (load --confirm), else 0.");
	fprintf(out, "fringe_policy_confirm_pending %d\n",
		m->meta->confirm_generation && m->meta->confirm_generation == h->generation);

	family(out, "fringe_map_entries", "gauge", "Entries in the policy maps in force.");
	for (int i = 0; i < FRINGE_SM_COUNT; i++)
		fprintf(out, "fringe_map_entries{map=\"%s\"} %u\n", slot_maps[i], h->entries[i]);
	family(out, "fringe_map_max_entries", "gauge", "Capacity of the policy maps.");
	for (int i = 0; i < FRINGE_SM_COUNT; i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd = maps_slot_inner_fd(m, M_SLOT_FIRST + i, m->meta->active & 1);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			fprintf(out, "fringe_map_max_entries{map=\"%s\"} %u\n", slot_maps[i],
				info.max_entries);
		if (fd >= 0)
			close(fd);
	}
	return ferror(out) ? -EIO : 0;
}
