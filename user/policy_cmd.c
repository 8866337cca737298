// SPDX-License-Identifier: GPL-2.0
/* `fringe policy ...`: check, load, show. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "compile.h"
#include "log.h"
#include "maps.h"
#include "policy.h"

/* Parse and compile FILE; errors printed as FILE:LINE:COL. */
static int policy_build(const char *path, const struct compile_env *env, struct policy *pol,
			struct compiled *c)
{
	struct diags d = { .file = path };
	int err;

	err = policy_parse_file(path, &d, pol);
	if (!err) {
		err = compile_policy(pol, env, &d, c);
		if (err)
			policy_free(pol);
	}
	diags_print(&d, stderr);
	if (err && !d.n)
		fprintf(stderr, "fringe: cannot use policy '%s': %s\n", path, strerror(-err));
	else if (err)
		fprintf(stderr, "fringe: policy '%s' has %zu error%s; nothing was changed\n", path,
			d.n, d.n == 1 ? "" : "s");
	diags_free(&d);
	return err;
}

static int policy_check(struct cli *g, int argc, char **argv)
{
	struct compile_env env = { .ncpus = 0 };
	struct policy pol;
	struct compiled c;

	if (argc != 2)
		return fprintf(stderr, "Usage: fringe policy check FILE\n"), EXIT_USAGE;
	if (policy_build(argv[1], &env, &pol, &c))
		return 1;
	if (!g->json)
		printf("%s: ok, %zu rules, %zu sets, %zu devices; %u rule bitmaps, %u IPv4 trie blocks, %zu IPv6 prefixes\n",
		       argv[1], pol.n_rules, pol.n_sets, pol.n_devices, c.n_bitmaps, c.n_v4blocks,
		       c.n_lpm6);
	compiled_free(&c);
	policy_free(&pol);
	return 0;
}

static int policy_load(struct cli *g, int argc, char **argv)
{
	struct compile_env env = cli_live_env();
	const char *confirm;
	struct policy pol;
	struct compiled c;
	struct maps m;
	uint64_t gen = 0;
	int err = 0;

	confirm = cli_take_opt(&argc, argv, "--confirm", &err);
	if (err || argc != 2)
		return fprintf(stderr, "Usage: fringe policy load FILE [--confirm SECONDS]\n"), EXIT_USAGE;
	if (confirm) {
		fprintf(stderr, "fringe: --confirm is not available in this build yet\n");
		return 1;
	}
	if (cli_open(g, &m, MAPS_CREATE))
		return 1;
	if (policy_build(argv[1], &env, &pol, &c)) {
		maps_note_load_failure(&m);
		maps_close(&m);
		return 1;
	}
	err = maps_load_policy(&m, &c, &gen);
	if (err) {
		maps_note_load_failure(&m);
		fprintf(stderr, "fringe: cannot load policy '%s': %s\n", argv[1], strerror(-err));
	} else if (!g->json) {
		printf("loaded %s: generation %llu, %zu rules\n", argv[1], (unsigned long long)gen,
		       pol.n_rules);
	}
	compiled_free(&c);
	policy_free(&pol);
	maps_close(&m);
	return err ? 1 : 0;
}

static void verdict_text(const struct fringe_rule_action *a, char *buf, size_t len)
{
	char ifname[IF_NAMESIZE] = "?";

	switch (a->action) {
	case FRINGE_ACT_ALLOW: snprintf(buf, len, "allow"); break;
	case FRINGE_ACT_DROP: snprintf(buf, len, "drop"); break;
	case FRINGE_ACT_STEER_IFACE:
		if (!if_indextoname(a->target, ifname))
			snprintf(ifname, sizeof(ifname), "#%u", a->target);
		snprintf(buf, len, "steer iface %s", ifname);
		break;
	case FRINGE_ACT_STEER_CPU: snprintf(buf, len, "steer cpu %u", a->target); break;
	case FRINGE_ACT_STEER_NODE: snprintf(buf, len, "steer node %u", a->target); break;
	default: snprintf(buf, len, "steer overlay"); break;
	}
}

static void time_text(uint64_t ns, char *buf, size_t len)
{
	time_t t = ns / 1000000000ULL;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The document behind `policy show`, also used by `status` and metrics. */
json_object *policy_show_doc(struct maps *m)
{
	const struct fringe_slot_hdr *h = maps_active_hdr(m);
	json_object *doc = json_object_new_object(), *rules = json_object_new_array();
	json_object *def = json_object_new_object();
	struct fringe_rule_action *acts = calloc(h->n_rules + 1, sizeof(*acts));
	struct fringe_counter cnt;
	char buf[96];

	json_object_object_add(doc, "generation", ju64(h->generation));
	time_text(h->load_time_ns, buf, sizeof(buf));
	json_object_object_add(doc, "loaded_at", jstr(h->generation ? buf : ""));
	json_object_object_add(doc, "load_failures", ju64(m->meta->load_failures));
	if (acts && maps_read_actions(m, m->meta->active & 1, acts, h->n_rules) == 0) {
		for (uint32_t r = 0; r < h->n_rules; r++) {
			json_object *o = json_object_new_object();
			uint32_t id = acts[r].counter_id % FRINGE_MAX_COUNTERS;

			maps_read_rule_counter(m, id, &cnt);
			verdict_text(&acts[r], buf, sizeof(buf));
			json_object_object_add(o, "name", json_object_new_string_len(
				m->names[id].name, strnlen(m->names[id].name, FRINGE_NAME_LEN)));
			json_object_object_add(o, "verdict", jstr(buf));
			json_object_object_add(o, "packets", ju64(cnt.packets));
			json_object_object_add(o, "bytes", ju64(cnt.bytes));
			if (acts[r].flags & FRINGE_RF_LIMIT)
				json_object_object_add(o, "limited", json_object_new_boolean(1));
			if (acts[r].flags & FRINGE_RF_SAMPLE)
				json_object_object_add(o, "sample_rate", ju64(acts[r].sample_rate));
			json_object_array_add(rules, o);
		}
	}
	free(acts);
	json_object_object_add(doc, "rules", rules);
	maps_read_rule_counter(m, 0, &cnt);
	json_object_object_add(def, "verdict",
			       jstr(h->default_action == FRINGE_ACT_DROP ? "drop" : "allow"));
	json_object_object_add(def, "packets", ju64(cnt.packets));
	json_object_object_add(def, "bytes", ju64(cnt.bytes));
	json_object_object_add(doc, "default", def);
	return doc;
}

static void policy_show_text(json_object *doc)
{
	json_object *rules = json_object_object_get(doc, "rules");
	json_object *def = json_object_object_get(doc, "default");
	size_t n = json_object_array_length(rules);

	if (!jget_u64(doc, "generation")) {
		printf("no policy loaded: every packet passes\n");
		return;
	}
	printf("policy generation %llu, %zu rules, loaded %s\n", jget_u64(doc, "generation"), n,
	       jget_str(doc, "loaded_at"));
	printf("%5s  %-24s %-22s %14s %16s\n", "#", "RULE", "VERDICT", "PACKETS", "BYTES");
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(rules, i);

		printf("%5zu  %-24s %-22s %14llu %16llu\n", i + 1, jget_str(r, "name"),
		       jget_str(r, "verdict"), jget_u64(r, "packets"), jget_u64(r, "bytes"));
	}
	printf("%5s  %-24s %-22s %14llu %16llu\n", "-", "default", jget_str(def, "verdict"),
	       jget_u64(def, "packets"), jget_u64(def, "bytes"));
}

static int policy_show(struct cli *g, int argc, char **argv)
{
	json_object *doc;
	struct maps m;

	if (cli_take_flag(&argc, argv, "--json"))
		g->json = true;
	if (argc != 1)
		return fprintf(stderr, "Usage: fringe policy show [--json]\n"), EXIT_USAGE;
	if (cli_open(g, &m, 0))
		return 1;
	doc = policy_show_doc(&m);
	cli_print(g, doc, policy_show_text);
	json_object_put(doc);
	maps_close(&m);
	return 0;
}

static int policy_unavailable(struct cli *g, int argc, char **argv)
{
	fprintf(stderr, "fringe: 'policy %s' is not available in this build yet\n", argv[0]);
	return 1;
}

int cmd_policy(struct cli *g, int argc, char **argv)
{
	static const struct cmd sub[] = {
		{ "check", policy_check, "policy check FILE" },
		{ "load", policy_load, "policy load FILE [--confirm SECONDS]" },
		{ "confirm", policy_unavailable, "policy confirm" },
		{ "show", policy_show, "policy show [--json]" },
		{ "test", policy_unavailable, "policy test FILE --pcap CAPTURE [--json] [--verbose]" },
		{ NULL, NULL, NULL },
	};

	if (argc < 2) {
		fprintf(stderr, "Usage: fringe policy { check | load | confirm | show | test } ...\n");
		return EXIT_USAGE;
	}
	return cli_dispatch(g, sub, "policy command", argc - 1, argv + 1);
}
