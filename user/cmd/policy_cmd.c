// SPDX-License-Identifier: GPL-2.0
/* `fringe policy ...`: check, load, confirm, show. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "compile.h"
#include "log.h"
#include "maps.h"
#include "overlay.h"
#include "policy.h"
#include "policy_cmd.h"
#include "confirm.h"
#include "staged.h"

/* Parse and compile text (path's, or read from path when NULL: then kept in
 * *keep when asked); errors printed as PATH:LINE:COL, then one line ending
 * in `what` (what did not happen). */
static int build(const char *path, const char *text, size_t len, char **keep, size_t *keep_len,
		 const struct compile_env *env, struct policy *pol, struct compiled *c,
		 const char *what)
{
	struct diags d = { .file = path };
	char *buf = NULL;
	int err = 0;

	if (!text) {
		err = diags_read_file(&d, path, POLICY_MAX_FILE, &buf, &len);
		text = buf;
	}
	if (!err)
		err = policy_parse(text, len, &d, pol);
	if (!err) {
		err = compile_policy(pol, env, &d, c);
		if (err)
			policy_free(pol);
	}
	cli_diags(&d);
	if (err && !d.n)
		cli_err("cannot use policy '%s': %s; %s", path, strerror(-err), what);
	else if (err)
		cli_err("policy '%s' has %zu error%s; %s", path, d.n, d.n == 1 ? "" : "s", what);
	diags_free(&d);
	if (keep && !err) {
		*keep = buf;
		*keep_len = len;
	} else {
		free(buf);
	}
	return err;
}

int policy_build(const char *path, const struct compile_env *env, struct policy *pol,
		 struct compiled *c)
{
	return build(path, NULL, 0, NULL, NULL, env, pol, c, "nothing was changed");
}

int policy_build_keep(const char *path, char **text, size_t *len, const struct compile_env *env,
		      struct policy *pol, struct compiled *c, const char *what)
{
	*text = NULL;
	*len = 0;
	return build(path, NULL, 0, text, len, env, pol, c, what);
}

int policy_build_text(const char *path, const char *text, size_t len,
		      const struct compile_env *env, struct policy *pol, struct compiled *c,
		      const char *what)
{
	return build(path, text, len, NULL, NULL, env, pol, c, what);
}

static void policy_check_text(json_object *doc)
{
	printf("%s: ok, %llu rules, %llu sets, %llu devices; %llu rule bitmaps, %llu IPv4 trie blocks, %llu IPv6 prefixes\n",
	       jget_str(doc, "file"), jget_u64(doc, "rules"), jget_u64(doc, "sets"),
	       jget_u64(doc, "devices"), jget_u64(doc, "rule_bitmaps"),
	       jget_u64(doc, "ipv4_trie_blocks"), jget_u64(doc, "ipv6_prefixes"));
}

int cmd_policy_check(struct cli *g, int argc, char **argv)
{
	struct compile_env env = { .ncpus = 0 };
	char meta[PATH_MAX];
	struct maps m;
	struct policy pol;
	struct compiled c;
	json_object *doc;

	if (policy_build(argv[1], &env, &pol, &c))
		return 1;
	/* A pinned state holds what its sizes allow: say now what a load would refuse. */
	snprintf(meta, sizeof(meta), "%s/%s", g->pin_dir, maps_names[M_META]);
	if (!access(meta, F_OK) && !cli_open(g, &m, 0)) {
		int err = maps_check_sizes(&m, &c);

		maps_close(&m);
		if (err) {
			compiled_free(&c);
			policy_free(&pol);
			return 1;
		}
	}
	doc = json_object_new_object();
	json_object_object_add(doc, "file", jstr(argv[1]));
	json_object_object_add(doc, "ok", json_object_new_boolean(1));
	json_object_object_add(doc, "rules", ju64(pol.n_rules));
	json_object_object_add(doc, "sets", ju64(pol.n_sets));
	json_object_object_add(doc, "devices", ju64(pol.n_devices));
	json_object_object_add(doc, "rule_bitmaps", ju64(c.n_bitmaps));
	json_object_object_add(doc, "ipv4_trie_blocks", ju64(c.n_v4blocks));
	json_object_object_add(doc, "ipv6_prefixes", ju64(c.n_lpm6));
	cli_print(g, doc, policy_check_text);
	json_object_put(doc);
	compiled_free(&c);
	policy_free(&pol);
	return 0;
}


void policy_time_text(uint64_t ns, char *buf, size_t len)
{
	time_t t = ns / 1000000000ULL;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A load while another policy awaits confirmation would overwrite the policy
 * that the revert restores: refused.  An overdue one is reverted first. */
static int policy_load_pending_check(struct maps *m)
{
	uint64_t gen, deadline, from, to;
	struct timespec now;
	int err = confirm_revert_due(m, &from, &to);

	if (err < 0) {
		cli_err("cannot revert the unconfirmed policy: %s", strerror(-err));
		return err;
	}
	if (err > 0)
		cli_note("fringe: policy generation %llu was not confirmed in time: restored generation %llu",
			 (unsigned long long)from, (unsigned long long)to);
	if (!confirm_pending(m, &gen, &deadline))
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	cli_err("policy generation %llu awaits confirmation (it reverts in %llu s): "
		"run 'fringe policy confirm' first, or wait for the revert",
		(unsigned long long)gen,
		(unsigned long long)((deadline - (now.tv_sec * 1000000000ULL + now.tv_nsec)) /
				     1000000000ULL + 1));
	return -EBUSY;
}

static void policy_load_text(json_object *doc)
{
	json_object *pc = json_object_object_get(doc, "awaiting_confirmation");

	printf("loaded %s: generation %llu, %llu rules\n", jget_str(doc, "file"),
	       jget_u64(doc, "generation"), jget_u64(doc, "rules"));
	if (!pc)
		return;
	if (jget_u64(pc, "reverts_to"))
		printf("awaiting confirmation: run 'fringe policy confirm' within %llu s (by %s), or generation %llu comes back by itself\n",
		       jget_u64(pc, "seconds"), jget_str(pc, "deadline"), jget_u64(pc, "reverts_to"));
	else
		printf("awaiting confirmation: run 'fringe policy confirm' within %llu s (by %s), or no policy (every packet passes) comes back by itself\n",
		       jget_u64(pc, "seconds"), jget_str(pc, "deadline"));
}

/* Put a compiled policy in force as `policy load` does (label: the file it
 * came from), with --confirm's guard when secs; under the pin dir's lock.
 * 0, or 1 when it failed (reported, counted). */
int policy_put(struct cli *g, struct maps *m, const char *label, const struct policy *pol,
	       const struct compiled *c, unsigned long long secs)
{
	uint64_t gen = 0, prev = 0, next = 0;
	int err = maps_lock(m);

	if (!err)
		err = policy_load_pending_check(m);
	if (err)
		return 1;
	prev = maps_active_hdr(m)->generation;
	if (secs) {
		/* The generation the load gives (maps_load_policy, under this lock). */
		next = maps_next_generation(m);
		err = confirm_arm(m, next, secs);
		if (err)
			cli_err("cannot start the confirmation timer: %s; nothing was changed",
				strerror(-err));
	}
	if (!err) {
		err = maps_load_policy(m, c, &gen);
		if (err)	/* counted by the load */
			cli_err("cannot load policy '%s': %s", label, strerror(-err));
		if (secs && (err || gen != next)) {
			confirm_disarm(m, next);
			if (!err) {	/* cannot happen under the lock; never leave it unguarded */
				maps_flip(m);
				cli_err("policy generation changed under the lock; restored the previous policy");
				err = -EAGAIN;
			}
		}
	}
	if (!err) {
		json_object *doc = json_object_new_object(), *pc = NULL;

		json_object_object_add(doc, "file", jstr(label));
		json_object_object_add(doc, "generation", ju64(gen));
		json_object_object_add(doc, "previous_generation", ju64(prev));
		json_object_object_add(doc, "rules", ju64(pol->n_rules));
		if (secs) {
			char when[64];

			policy_time_text(m->meta->confirm_deadline_ns, when, sizeof(when));
			pc = json_object_new_object();
			json_object_object_add(pc, "generation", ju64(gen));
			json_object_object_add(pc, "seconds", ju64(secs));
			json_object_object_add(pc, "deadline", jstr(when));
			json_object_object_add(pc, "reverts_to", ju64(prev));
		}
		json_object_object_add(doc, "awaiting_confirmation", pc);
		cli_print(g, doc, policy_load_text);
		json_object_put(doc);
	}
	return err ? 1 : 0;
}

int cmd_policy_load(struct cli *g, int argc, char **argv)
{
	struct compile_env env = cli_live_env();
	unsigned long long secs = 0;
	struct policy pol;
	struct compiled c;
	struct maps m;
	int err;

	err = cli_opt_ull(g, "--confirm", 1, CONFIRM_MAX_SECONDS, "seconds", &secs);
	if (err)
		return err;
	if (cli_open(g, &m, MAPS_CREATE))
		return 1;
	env.resolve_node = overlay_resolve_node;	/* `steer node NAME` */
	env.node_ctx = &m;
	if (policy_build(argv[1], &env, &pol, &c)) {
		maps_note_load_failure(&m);
		maps_close(&m);
		return 1;
	}
	err = policy_put(g, &m, argv[1], &pol, &c, secs);
	compiled_free(&c);
	policy_free(&pol);
	maps_close(&m);
	return err;
}

static void policy_confirm_text(json_object *doc)
{
	printf("confirmed policy generation %llu: it stays in force\n", jget_u64(doc, "generation"));
}

int cmd_policy_confirm(struct cli *g, int argc, char **argv)
{
	uint64_t gen = 0;
	struct maps m;
	int err;

	if (cli_open(g, &m, 0))
		return 1;
	err = confirm_commit(&m, &gen);
	if (err == -ENOENT)
		cli_err("no policy awaits confirmation (generation %llu is in force)",
			(unsigned long long)maps_active_hdr(&m)->generation);
	else if (err == -ETIMEDOUT)
		cli_err("too late: generation %llu was not confirmed in time; generation %llu is back in force",
			(unsigned long long)gen, (unsigned long long)maps_active_hdr(&m)->generation);
	else if (err)
		cli_err("cannot confirm: %s", strerror(-err));
	else {
		json_object *doc = json_object_new_object();

		json_object_object_add(doc, "generation", ju64(gen));
		json_object_object_add(doc, "confirmed", json_object_new_boolean(1));
		cli_print(g, doc, policy_confirm_text);
		json_object_put(doc);
	}
	maps_close(&m);
	return err ? 1 : 0;
}

void policy_verdict_text(const struct fringe_rule_action *a, char *buf, size_t len)
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


/* The document behind `policy show`, also used by `status` and metrics. */
json_object *policy_show_doc(struct maps *m)
{
	const struct fringe_slot_hdr *h = maps_active_hdr(m);
	json_object *doc = json_object_new_object(), *rules = json_object_new_array();
	json_object *def = json_object_new_object();
	struct fringe_rule_action *acts = calloc(h->n_rules + 1, sizeof(*acts));
	struct fringe_counter cnt, *all = NULL;
	char buf[96];

	json_object_object_add(doc, "generation", ju64(h->generation));
	policy_time_text(h->load_time_ns, buf, sizeof(buf));
	json_object_object_add(doc, "loaded_at", jstr(h->generation ? buf : ""));
	json_object_object_add(doc, "load_failures", ju64(m->meta->load_failures));
	if (acts && maps_read_actions(m, m->meta->active & 1, acts, h->n_rules) == 0 &&
	    !maps_read_rule_counters(m, maps_rule_ids_upto(acts, h->n_rules), &all)) {
		for (uint32_t r = 0; r < h->n_rules; r++) {
			json_object *o = json_object_new_object();
			uint32_t id = acts[r].counter_id % FRINGE_MAX_COUNTERS;

			cnt = all[id];
			policy_verdict_text(&acts[r], buf, sizeof(buf));
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
	free(all);
	json_object_object_add(doc, "rules", rules);
	maps_read_rule_counter(m, 0, &cnt);
	json_object_object_add(def, "verdict",
			       jstr(h->default_action == FRINGE_ACT_DROP ? "drop" : "allow"));
	json_object_object_add(def, "packets", ju64(cnt.packets));
	json_object_object_add(def, "bytes", ju64(cnt.bytes));
	json_object_object_add(doc, "default", def);
	{
		uint64_t pgen, deadline;
		json_object *pc = NULL;

		if (confirm_pending(m, &pgen, &deadline) && pgen == h->generation) {
			pc = json_object_new_object();
			policy_time_text(deadline, buf, sizeof(buf));
			json_object_object_add(pc, "generation", ju64(pgen));
			json_object_object_add(pc, "deadline", jstr(buf));
			json_object_object_add(pc, "reverts_to", ju64(m->meta->slot[!(m->meta->active & 1)].generation));
		}
		json_object_object_add(doc, "awaiting_confirmation", pc);
	}
	json_object_object_add(doc, "staged_generation",
			       staged_hdr(m) ? ju64(staged_hdr(m)->generation) : NULL);
	return doc;
}

void policy_rules_text(json_object *doc, const char *verdict_title)
{
	json_object *rules = json_object_object_get(doc, "rules");
	json_object *def = json_object_object_get(doc, "default");
	size_t n = json_object_array_length(rules);

	printf("%5s  %-24s %-22s %14s %16s\n", "#", "RULE", verdict_title, "PACKETS", "BYTES");
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(rules, i);

		printf("%5zu  %-24s %-22s %14llu %16llu\n", i + 1, jget_str(r, "name"),
		       jget_str(r, "verdict"), jget_u64(r, "packets"), jget_u64(r, "bytes"));
	}
	printf("%5s  %-24s %-22s %14llu %16llu\n", "-", "default", jget_str(def, "verdict"),
	       jget_u64(def, "packets"), jget_u64(def, "bytes"));
}

static void policy_show_text(json_object *doc)
{
	json_object *rules = json_object_object_get(doc, "rules");
	size_t n = json_object_array_length(rules);

	if (!jget_u64(doc, "generation")) {
		printf("no policy loaded: every packet passes\n");
		return;
	}
	printf("policy generation %llu, %zu rules, loaded %s\n", jget_u64(doc, "generation"), n,
	       jget_str(doc, "loaded_at"));
	if (json_object_object_get(doc, "awaiting_confirmation")) {
		json_object *pc = json_object_object_get(doc, "awaiting_confirmation");

		if (jget_u64(pc, "reverts_to"))
			printf("awaiting 'fringe policy confirm' until %s, else generation %llu comes back\n",
			       jget_str(pc, "deadline"), jget_u64(pc, "reverts_to"));
		else
			printf("awaiting 'fringe policy confirm' until %s, else no policy (every packet passes)\n",
			       jget_str(pc, "deadline"));
	}
	policy_rules_text(doc, "VERDICT");
	if (jget_u64(doc, "staged_generation"))
		printf("staged beside it: generation %llu, deciding nothing (fringe policy show --staged, fringe policy diff)\n",
		       jget_u64(doc, "staged_generation"));
}

int cmd_policy_show(struct cli *g, int argc, char **argv)
{
	json_object *doc;
	struct maps m;

	if (cli_flag(g, "--staged"))
		return cmd_policy_show_staged(g);
	if (cli_open(g, &m, 0))
		return 1;
	doc = policy_show_doc(&m);
	cli_print(g, doc, policy_show_text);
	json_object_put(doc);
	maps_close(&m);
	return 0;
}
