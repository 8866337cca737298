// SPDX-License-Identifier: GPL-2.0
/* `fringe stats`, `fringe status` and `fringe metrics`: counters and the state of the pin dir. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "attach.h"
#include "cli.h"
#include "flows.h"
#include "maps.h"
#include "metrics.h"
#include "overlay.h"
#include "docs.h"
#include "policy_cmd.h"
#include "sampler.h"

static json_object *counter_obj(const struct fringe_counter *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "packets", ju64(c->packets));
	json_object_object_add(o, "bytes", ju64(c->bytes));
	return o;
}

/* Attached interfaces, in slot order; fn gets each one's info. */
static void for_each_iface(struct maps *m,
			   void (*fn)(struct maps *, __u32, const struct fringe_iface_info *, void *),
			   void *arg)
{
	struct fringe_iface_info info;

	for (__u32 s = 1; s < FRINGE_MAX_IFACES; s++)
		if (!bpf_map_lookup_elem(m->fd[M_IFACES], &s, &info) && info.in_use)
			fn(m, s, &info, arg);
}

static void stats_iface(struct maps *m, __u32 slot, const struct fringe_iface_info *info,
			void *arg)
{
	json_object *o = json_object_new_object(), *v = json_object_new_object();
	json_object *d = json_object_new_object();
	struct fringe_iface_stats st;

	maps_read_iface_stats(m, slot, &st);
	json_object_object_add(o, "name", json_object_new_string_len(
		info->name, strnlen(info->name, sizeof(info->name))));
	json_object_object_add(o, "ifindex", ju64(info->ifindex));
	for (int i = 0; i < FRINGE_V_MAX; i++)
		json_object_object_add(v, fringe_verdict_names[i], counter_obj(&st.verdict[i]));
	json_object_object_add(o, "verdicts", v);
	for (int i = 0; i < FRINGE_DROP_MAX; i++)
		if (fringe_drop_reason_names[i])
			json_object_object_add(d, fringe_drop_reason_names[i], ju64(st.drops[i]));
	json_object_object_add(o, "drops", d);
	json_object_object_add(o, "non_ip", ju64(st.non_ip));
	json_object_object_add(o, "fragments", ju64(st.fragments));
	json_object_object_add(o, "spoofed", ju64(st.spoofed));
	json_object_object_add(o, "spoofed_untracked", ju64(st.spoofed_untracked));
	json_object_array_add(arg, o);
}

/* Sampling totals over every rule, and the flow table. */
static void stats_samples_flows(struct maps *m, json_object *doc)
{
	json_object *smp = json_object_new_object();
	uint64_t taken = 0, lost = 0, flows = 0;

	sampler_stats_sum(m, &taken, &lost);
	flows_count(m, &flows);
	json_object_object_add(smp, "taken", ju64(taken));
	json_object_object_add(smp, "lost", ju64(lost));
	json_object_object_add(doc, "samples", smp);
	json_object_object_add(doc, "flows_active", ju64(flows));
	json_object_object_add(doc, "flows_enabled", json_object_new_boolean(flows_enabled(m)));
}

/* Recognized applications (all of them) and the declared devices of the policy in force. */
static void stats_apps_devices(struct maps *m, json_object *doc)
{
	json_object *apps = json_object_new_object(), *devs = json_object_new_array();
	struct fringe_counter cnt[FRINGE_APP_COUNT];
	struct maps_device *d = NULL;
	size_t n = 0;

	maps_read_app_stats(m, cnt);
	for (int a = FRINGE_APP_NONE + 1; a < FRINGE_APP_COUNT; a++)
		json_object_object_add(apps, pol_app_names[a], counter_obj(&cnt[a]));
	json_object_object_add(doc, "apps", apps);
	maps_read_devices(m, &d, &n);
	for (size_t i = 0; i < n; i++) {
		json_object *o = counter_obj(&d[i].cnt);

		json_object_object_add(o, "name", jstr(d[i].name));
		json_object_object_add(o, "spoofed", ju64(d[i].spoofed));
		json_object_array_add(devs, o);
	}
	free(d);
	json_object_object_add(doc, "devices", devs);
}

json_object *stats_doc(struct maps *m)
{
	json_object *doc = json_object_new_object(), *ifs = json_object_new_array();

	for_each_iface(m, stats_iface, ifs);
	json_object_object_add(doc, "interfaces", ifs);
	json_object_object_add(doc, "policy_generation", ju64(maps_active_hdr(m)->generation));
	stats_samples_flows(m, doc);
	stats_apps_devices(m, doc);
	json_object_object_add(doc, "overlay", overlay_show_doc(m));
	return doc;
}

/* One line per node of the overlay: what went into and came out of its tunnel. */
static void stats_overlay_text(json_object *ov)
{
	json_object *nodes = json_object_object_get(ov, "nodes");

	if (!jget_u64(ov, "generation"))
		return;
	printf("overlay (self %s):\n", jget_str(ov, "self"));
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *o = json_object_array_get_idx(nodes, i);

		if (json_object_get_boolean(json_object_object_get(o, "self")))
			continue;
		printf("  %-16s tx %12llu packets %14llu bytes   rx %12llu packets %14llu bytes\n",
		       jget_str(o, "name"), jget_u64(o, "tx_packets"), jget_u64(o, "tx_bytes"),
		       jget_u64(o, "rx_packets"), jget_u64(o, "rx_bytes"));
	}
}

static void stats_text(json_object *doc)
{
	json_object *ifs = json_object_object_get(doc, "interfaces");
	size_t n = json_object_array_length(ifs);

	if (!n)
		printf("no interface attached\n");
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(ifs, i);
		json_object *v = json_object_object_get(o, "verdicts");
		json_object *d = json_object_object_get(o, "drops");
		int shown = 0;

		printf("%s:\n", jget_str(o, "name"));
		json_object_object_foreach(v, name, c)
			printf("  %-10s %14llu packets %16llu bytes\n", name, jget_u64(c, "packets"),
			       jget_u64(c, "bytes"));
		printf("  %-10s", "drops");
		json_object_object_foreach(d, reason, cnt) {
			if (!json_object_get_uint64(cnt))
				continue;
			printf(" %s %llu", reason, (unsigned long long)json_object_get_uint64(cnt));
			shown++;
		}
		printf("%s\n", shown ? "" : " none");
		printf("  %-10s non-ip %llu (passed), fragments %llu, spoofed %llu\n", "other",
		       jget_u64(o, "non_ip"), jget_u64(o, "fragments"), jget_u64(o, "spoofed"));
	}
	{
		json_object *apps = json_object_object_get(doc, "apps");
		json_object *devs = json_object_object_get(doc, "devices");
		int shown = 0, spoofs = 0;

		printf("apps:");
		json_object_object_foreach(apps, app, c) {
			if (!jget_u64(c, "packets"))
				continue;
			printf(" %s %llu/%llu", app, jget_u64(c, "packets"), jget_u64(c, "bytes"));
			shown++;
		}
		printf("%s\n", shown ? " (packets/bytes)" : " none recognized");
		for (size_t i = 0; i < json_object_array_length(devs); i++)
			spoofs += !!jget_u64(json_object_array_get_idx(devs, i), "spoofed");
		for (size_t i = 0; i < json_object_array_length(devs); i++) {
			json_object *o = json_object_array_get_idx(devs, i);

			printf("%s %s %llu/%llu", i ? "," : "devices (packets/bytes):", jget_str(o, "name"),
			       jget_u64(o, "packets"), jget_u64(o, "bytes"));
			if (jget_u64(o, "spoofed"))
				printf(" SPOOFED %llu", jget_u64(o, "spoofed"));
		}
		if (json_object_array_length(devs))
			printf("%s\n", spoofs ? " (SPOOFED: packets claiming its address from another MAC)" : "");
	}
	stats_overlay_text(json_object_object_get(doc, "overlay"));
	printf("samples: %llu taken, %llu lost; flows: %llu active%s\n",
	       jget_u64(json_object_object_get(doc, "samples"), "taken"),
	       jget_u64(json_object_object_get(doc, "samples"), "lost"), jget_u64(doc, "flows_active"),
	       json_object_get_boolean(json_object_object_get(doc, "flows_enabled")) ? ""
										   : " (flow table off)");
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int cmd_stats(struct cli *g, int argc, char **argv)
{
	unsigned long long secs = 0;
	struct maps m;
	int err;

	err = cli_opt_ull(g, "--interval", 1, 86400, "seconds", &secs);
	if (err)
		return err;
	if (cli_open(g, &m, 0))
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	do {
		json_object *doc = stats_doc(&m);

		cli_print(g, doc, stats_text);
		json_object_put(doc);
		for (unsigned long long i = 0; secs && i < secs * 10 && !stop; i++)
			usleep(100000);
	} while (secs && !stop);
	maps_close(&m);
	return 0;
}

/* ---- status -------------------------------------------------------------------- */

static void status_iface(struct maps *m, __u32 slot, const struct fringe_iface_info *info,
			 void *arg)
{
	json_object *o = json_object_new_object();
	unsigned int id = attach_find_ours(info->ifindex);

	json_object_object_add(o, "name", json_object_new_string_len(
		info->name, strnlen(info->name, sizeof(info->name))));
	json_object_object_add(o, "ifindex", ju64(info->ifindex));
	json_object_object_add(o, "mode", jstr(config_mode_names[info->mode % 3]));
	json_object_object_add(o, "prog_id", ju64(id));
	json_object_object_add(o, "attached", json_object_new_boolean(id != 0));
	json_object_object_add(o, "egress", json_object_new_boolean(attach_tc_find(info->ifindex) != 0));
	json_object_array_add(arg, o);
}

static json_object *status_doc(struct cli *g, struct maps *m)
{
	json_object *doc = json_object_new_object(), *ifs = json_object_new_array();
	json_object *maps = json_object_new_array(), *pol = policy_show_doc(m), *p, *sz;
	struct maps_mem mem[M__COUNT];
	uint64_t total = maps_memory(m, mem), per_cpu = 0;

	json_object_object_add(doc, "version", jstr(FRINGE_VERSION));
	json_object_object_add(doc, "pin_dir", jstr(g->pin_dir));
	for_each_iface(m, status_iface, ifs);
	json_object_object_add(doc, "interfaces", ifs);
	p = json_object_new_object();
	json_object_object_add(p, "generation", ju64(jget_u64(pol, "generation")));
	json_object_object_add(p, "rules", ju64(json_object_array_length(
		json_object_object_get(pol, "rules"))));
	json_object_object_add(p, "default", jstr(jget_str(json_object_object_get(pol, "default"),
							   "verdict")));
	json_object_object_add(p, "loaded_at", jstr(jget_str(pol, "loaded_at")));
	json_object_object_add(p, "load_failures", ju64(jget_u64(pol, "load_failures")));
	json_object_object_add(p, "staged_generation", jget_u64(pol, "staged_generation") ?
			       ju64(jget_u64(pol, "staged_generation")) : NULL);
	json_object_object_add(doc, "policy", p);
	json_object_put(pol);
	/* Kernel memory by map family: a slot map or holder with its inner maps. */
	for (int i = 0; i < M__COUNT; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", jstr(mem[i].name));
		json_object_object_add(o, "maps", ju64(mem[i].count));
		json_object_object_add(o, "memlock_bytes", ju64(mem[i].bytes));
		json_object_object_add(o, "per_cpu_bytes", ju64(mem[i].per_cpu));
		json_object_array_add(maps, o);
		per_cpu += mem[i].per_cpu;
	}
	json_object_object_add(doc, "maps", maps);
	json_object_object_add(doc, "memlock_bytes", ju64(total));
	json_object_object_add(doc, "possible_cpus", ju64(m->ncpus));
	json_object_object_add(doc, "per_cpu_bytes", ju64(per_cpu));
	sz = json_object_new_object();
	for (int i = 0; i < FRINGE_SZ_COUNT; i++)
		json_object_object_add(sz, config_sizes[i].name, ju64(m->size[i]));
	json_object_object_add(doc, "sizes", sz);
	return doc;
}

static int by_bytes_desc(const void *a, const void *b)
{
	uint64_t x = jget_u64(*(json_object *const *)a, "memlock_bytes");
	uint64_t y = jget_u64(*(json_object *const *)b, "memlock_bytes");

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Kernel memory: the total, then each family that holds any, largest first. */
static void status_mem_text(json_object *doc)
{
	json_object *maps = json_object_object_get(doc, "maps"), *sz;
	size_t n = json_object_array_length(maps);
	json_object **v = calloc(n + 1, sizeof(*v));
	const char *sep = "";

	printf("kernel memory: %.1f MiB on %llu possible CPUs (%.1f KiB more per additional CPU)\n",
	       jget_u64(doc, "memlock_bytes") / 1048576.0, jget_u64(doc, "possible_cpus"),
	       jget_u64(doc, "per_cpu_bytes") / 1024.0);
	for (size_t i = 0; v && i < n; i++)
		v[i] = json_object_array_get_idx(maps, i);
	if (v)
		qsort(v, n, sizeof(*v), by_bytes_desc);
	for (size_t i = 0; v && i < n; i++) {
		uint64_t b = jget_u64(v[i], "memlock_bytes"), pc = jget_u64(v[i], "per_cpu_bytes");

		if (!b)
			continue;
		printf("  %-26s %9.1f KiB", jget_str(v[i], "name"), b / 1024.0);
		if (jget_u64(v[i], "maps") > 1)
			printf("  %llu maps", jget_u64(v[i], "maps"));
		if (pc >= 512)
			printf("  (%.1f KiB per CPU)", pc / 1024.0);
		printf("\n");
	}
	free(v);
	printf("sizes:");
	sz = json_object_object_get(doc, "sizes");
	json_object_object_foreach(sz, k, val) {
		printf("%s %s %llu", sep, k, (unsigned long long)json_object_get_uint64(val));
		sep = ",";
	}
	printf("\n");
}

static void status_text(json_object *doc)
{
	json_object *ifs = json_object_object_get(doc, "interfaces");
	json_object *p = json_object_object_get(doc, "policy");

	printf("fringe %s, pin dir %s\n", jget_str(doc, "version"), jget_str(doc, "pin_dir"));
	printf("interfaces:\n");
	if (!json_object_array_length(ifs))
		printf("  (none)\n");
	for (size_t i = 0; i < json_object_array_length(ifs); i++) {
		json_object *o = json_object_array_get_idx(ifs, i);
		json_object *att = json_object_object_get(o, "attached");

		printf("  %-16s %-8s prog %-6llu %s\n", jget_str(o, "name"), jget_str(o, "mode"),
		       jget_u64(o, "prog_id"),
		       json_object_get_boolean(att) ? "attached" : "NOT ATTACHED (removed outside fringe?)");
	}
	if (jget_u64(p, "generation"))
		printf("policy: generation %llu, %llu rules, default %s, loaded %s\n",
		       jget_u64(p, "generation"), jget_u64(p, "rules"), jget_str(p, "default"),
		       jget_str(p, "loaded_at"));
	else
		printf("policy: none loaded (every packet passes)\n");
	if (jget_u64(p, "staged_generation"))
		printf("policy staged: generation %llu, judging beside it, deciding nothing (fringe policy diff)\n",
		       jget_u64(p, "staged_generation"));
	printf("policy load failures: %llu\n", jget_u64(p, "load_failures"));
	status_mem_text(doc);
}

int cmd_status(struct cli *g, int argc, char **argv)
{
	json_object *doc;
	struct maps m;

	if (cli_open(g, &m, 0))
		return 1;
	doc = status_doc(g, &m);
	cli_print(g, doc, status_text);
	json_object_put(doc);
	maps_close(&m);
	return 0;
}

/* ---- metrics ------------------------------------------------------------------- */

static void metrics_text(json_object *doc)
{
	fputs(jget_str(doc, "exposition"), stdout);
}

/* The Prometheus exposition; under --json, the same text as {"exposition": ...}. */
int cmd_metrics(struct cli *g, int argc, char **argv)
{
	char *text = NULL;
	size_t len = 0;
	struct maps m;
	FILE *f;
	int err;

	if (cli_open(g, &m, 0))
		return 1;
	f = open_memstream(&text, &len);
	err = f ? metrics_render(&m, f) : -errno;
	if (f && fclose(f) && !err)
		err = -errno;
	maps_close(&m);
	if (err) {
		cli_err("cannot write metrics: %s", strerror(-err));
	} else {
		json_object *doc = json_object_new_object();

		json_object_object_add(doc, "exposition", json_object_new_string_len(text, len));
		cli_print(g, doc, metrics_text);
		json_object_put(doc);
	}
	free(text);
	return err ? 1 : 0;
}
