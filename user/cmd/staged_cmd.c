// SPDX-License-Identifier: GPL-2.0
/* `fringe policy stage|diff|promote|unstage` and `policy show --staged` (SPEC §11). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "confirm.h"
#include "file.h"
#include "log.h"
#include "overlay.h"
#include "policy_cmd.h"
#include "staged.h"

static struct compile_env live_env(struct maps *m)
{
	struct compile_env env = cli_live_env();

	env.resolve_node = overlay_resolve_node;	/* `steer node NAME` */
	env.node_ctx = m;
	return env;
}

static void stage_text(json_object *doc)
{
	printf("staged %s: generation %llu, %llu rules; it judges every packet beside generation %llu and decides none\n",
	       jget_str(doc, "file"), jget_u64(doc, "generation"), jget_u64(doc, "rules"),
	       jget_u64(doc, "active_generation"));
	if (jget_u64(doc, "replaced"))
		printf("it replaces staged generation %llu and its counters\n", jget_u64(doc, "replaced"));
	printf("see what it would change: fringe policy diff\n");
}

int cmd_policy_stage(struct cli *g, int argc, char **argv)
{
	struct compile_env env;
	const struct fringe_slot_hdr *old;
	char *text = NULL;
	size_t len = 0;
	struct policy pol;
	struct compiled c;
	struct maps m;
	uint64_t gen = 0, replaced;
	int err;

	if (cli_open(g, &m, MAPS_CREATE))
		return 1;
	env = live_env(&m);
	/* One read: what is compiled is what is kept for `promote`. */
	if (policy_build_keep(argv[1], &text, &len, &env, &pol, &c, "nothing was staged")) {
		maps_close(&m);
		return 1;
	}
	err = maps_lock(&m);
	old = err ? NULL : staged_hdr(&m);
	replaced = old ? old->generation : 0;
	if (!err)
		err = staged_put(&m, &c, argv[1], text, len, &gen);
	if (err) {
		cli_err("cannot stage policy '%s': %s", argv[1], strerror(-err));
	} else {
		json_object *doc = json_object_new_object();

		json_object_object_add(doc, "file", jstr(argv[1]));
		json_object_object_add(doc, "generation", ju64(gen));
		json_object_object_add(doc, "rules", ju64(pol.n_rules));
		json_object_object_add(doc, "active_generation", ju64(maps_active_hdr(&m)->generation));
		json_object_object_add(doc, "replaced", replaced ? ju64(replaced) : NULL);
		cli_print(g, doc, stage_text);
		json_object_put(doc);
	}
	compiled_free(&c);
	policy_free(&pol);
	free(text);
	maps_close(&m);
	return err ? 1 : 0;
}

static void unstage_text(json_object *doc)
{
	printf("unstaged generation %llu (%s): generation %llu alone judges the packets\n",
	       jget_u64(doc, "generation"), jget_str(doc, "file"), jget_u64(doc, "active_generation"));
}

int cmd_policy_unstage(struct cli *g, int argc, char **argv)
{
	struct staged_source src = {};
	const struct fringe_slot_hdr *h;
	struct maps m;
	uint64_t gen;
	int err;

	if (cli_open(g, &m, 0))
		return 1;
	err = maps_lock(&m);
	h = err ? NULL : staged_hdr(&m);
	if (!err && !h) {
		cli_err("no policy is staged");
		maps_close(&m);
		return 1;
	}
	gen = h ? h->generation : 0;
	if (!err)
		staged_read_source(&m, &src);	/* for the message only */
	if (!err)
		err = staged_remove(&m);
	if (err) {
		cli_err("cannot unstage: %s", strerror(-err));
	} else {
		json_object *doc = json_object_new_object();

		json_object_object_add(doc, "generation", ju64(gen));
		json_object_object_add(doc, "file", jstr(src.path));
		json_object_object_add(doc, "active_generation", ju64(maps_active_hdr(&m)->generation));
		json_object_object_add(doc, "unstaged", json_object_new_boolean(1));
		cli_print(g, doc, unstage_text);
		json_object_put(doc);
	}
	staged_source_free(&src);
	maps_close(&m);
	return err ? 1 : 0;
}

/* `policy promote`: the staged source, compiled again as it was staged, is
 * loaded as `policy load` would (--confirm included); then unstaged. */
int cmd_policy_promote(struct cli *g, int argc, char **argv)
{
	unsigned long long secs = 0;
	struct staged_source src = {};
	struct compile_env env;
	struct policy pol;
	struct compiled c;
	char label[4200];
	struct maps m;
	int err;

	err = cli_opt_ull(g, "--confirm", 1, CONFIRM_MAX_SECONDS, "seconds", &secs);
	if (err)
		return err;
	if (cli_open(g, &m, 0))
		return 1;
	err = maps_lock(&m);
	if (!err && !staged_hdr(&m)) {
		cli_err("no policy is staged: nothing to promote");
		maps_close(&m);
		return 1;
	}
	if (!err)
		err = staged_read_source(&m, &src);
	if (err) {
		cli_err("cannot read the staged policy: %s; nothing was changed", strerror(-err));
		maps_close(&m);
		return 1;
	}
	env = live_env(&m);
	snprintf(label, sizeof(label), "%s (staged generation %llu)", src.path,
		 (unsigned long long)staged_hdr(&m)->generation);
	err = policy_build_text(src.path, src.text, src.len, &env, &pol, &c,
				"it stays staged, nothing was changed");
	if (err) {
		/* A `steer node` whose node left, an interface gone: refused as a load would be. */
		maps_note_load_failure(&m);
		staged_source_free(&src);
		maps_close(&m);
		return 1;
	}
	err = policy_put(g, &m, label, &pol, &c, secs);
	if (!err) {
		int e = staged_remove(&m);

		if (e)
			cli_err("promoted, but cannot unstage: %s (run 'fringe policy unstage')",
				strerror(-e));
		err = e ? 1 : 0;
	}
	compiled_free(&c);
	policy_free(&pol);
	staged_source_free(&src);
	maps_close(&m);
	return err;
}

int cmd_policy_diff(struct cli *g, int argc, char **argv)
{
	json_object *doc;
	struct maps m;
	int err = 0;

	if (cli_open(g, &m, 0))
		return 1;
	doc = staged_diff_doc(&m, &err);
	if (doc && !json_object_get_boolean(json_object_object_get(doc, "staged"))) {
		json_object_put(doc);
		doc = NULL;
		err = -ENOENT;
	}
	if (!doc) {
		if (err == -ENOENT)
			cli_err("no policy is staged (fringe policy stage FILE)");
		else
			cli_err("cannot read the staged policy's changes: %s", strerror(-err));
		maps_close(&m);
		return 1;
	}
	cli_print(g, doc, staged_diff_text);
	json_object_put(doc);
	maps_close(&m);
	return 0;
}

int cmd_policy_show_staged(struct cli *g)
{
	json_object *doc;
	struct maps m;
	int err = 0;

	if (cli_open(g, &m, 0))
		return 1;
	doc = staged_show_doc(&m, &err);
	if (!doc) {
		cli_err("cannot read the staged policy: %s", strerror(-err));
		maps_close(&m);
		return 1;
	}
	cli_print(g, doc, staged_show_text);
	json_object_put(doc);
	maps_close(&m);
	return 0;
}

/* ---- documents ------------------------------------------------------------------------ */

static json_object *verdict_obj(const char *rule, const char *verdict)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "rule", jstr(rule));
	json_object_object_add(o, "verdict", jstr(verdict));
	return o;
}

/* The header both documents share; NULL (and {"staged": false} in *doc) when none. */
static const struct fringe_slot_hdr *staged_head(struct maps *m, json_object *doc)
{
	const struct fringe_slot_hdr *h = staged_hdr(m);
	struct staged_source src;
	char when[64];

	json_object_object_add(doc, "staged", json_object_new_boolean(h != NULL));
	if (!h)
		return NULL;
	json_object_object_add(doc, "generation", ju64(h->generation));
	if (!staged_read_source(m, &src)) {
		json_object_object_add(doc, "file", jstr(src.path));
		staged_source_free(&src);
	}
	policy_time_text(h->load_time_ns, when, sizeof(when));
	json_object_object_add(doc, "staged_at", jstr(when));
	json_object_object_add(doc, "active_generation", ju64(maps_active_hdr(m)->generation));
	return h;
}

json_object *staged_show_doc(struct maps *m, int *err)
{
	json_object *doc = json_object_new_object(), *rules, *def;
	const char (*names)[FRINGE_NAME_LEN] = NULL;
	struct fringe_rule_action *acts = NULL;
	const struct fringe_slot_hdr *h;
	struct fringe_counter *cnt = NULL;
	size_t n = 0;
	char buf[96];

	h = staged_head(m, doc);
	if (!h)
		return doc;
	*err = staged_rule_names(m, &names, &n);
	if (!*err && n != h->n_rules)
		*err = -EIO;
	if (!*err && !(acts = calloc(n + 1, sizeof(*acts))))
		*err = -ENOMEM;
	if (!*err)
		*err = maps_read_actions(m, FRINGE_SLOT_STAGED, acts, n);
	if (!*err)
		*err = staged_read_counters(m, &cnt);
	if (*err) {
		free(acts);
		json_object_put(doc);
		return NULL;
	}
	rules = json_object_new_array();
	for (size_t r = 0; r < n; r++) {
		json_object *o = json_object_new_object();

		policy_verdict_text(&acts[r], buf, sizeof(buf));
		json_object_object_add(o, "name", json_object_new_string_len(
			names[r], strnlen(names[r], FRINGE_NAME_LEN)));
		json_object_object_add(o, "verdict", jstr(buf));
		json_object_object_add(o, "packets", ju64(cnt[r + 1].packets));
		json_object_object_add(o, "bytes", ju64(cnt[r + 1].bytes));
		json_object_array_add(rules, o);
	}
	json_object_object_add(doc, "rules", rules);
	def = json_object_new_object();
	json_object_object_add(def, "verdict",
			       jstr(h->default_action == FRINGE_ACT_DROP ? "drop" : "allow"));
	json_object_object_add(def, "packets", ju64(cnt[0].packets));
	json_object_object_add(def, "bytes", ju64(cnt[0].bytes));
	json_object_object_add(doc, "default", def);
	json_object_object_add(doc, "changes_not_recorded", ju64(cnt[FRINGE_STAGED_LOST].packets));
	free(acts);
	free(cnt);
	return doc;
}

void staged_show_text(json_object *doc)
{
	json_object *rules = json_object_object_get(doc, "rules");
	size_t n = json_object_array_length(rules);

	if (!json_object_get_boolean(json_object_object_get(doc, "staged"))) {
		printf("no policy staged\n");
		return;
	}
	printf("staged policy generation %llu, %zu rules, from %s, staged %s; generation %llu decides\n",
	       jget_u64(doc, "generation"), n, jget_str(doc, "file"), jget_str(doc, "staged_at"),
	       jget_u64(doc, "active_generation"));
	policy_rules_text(doc, "WOULD");
}

static json_object *flow_obj(const struct fringe_staged_change *v)
{
	char a[INET6_ADDRSTRLEN], pb[8], ifname[IF_NAMESIZE] = "";
	int af = v->family == 6 ? AF_INET6 : AF_INET;
	json_object *o = json_object_new_object();
	struct timespec now;
	uint64_t mono;

	if (!if_indextoname(v->ifindex, ifname))
		snprintf(ifname, sizeof(ifname), "#%u", v->ifindex);
	json_object_object_add(o, "interface", jstr(ifname));
	json_object_object_add(o, "proto", jstr(cli_proto_name(v->proto, pb, sizeof(pb))));
	inet_ntop(af, v->saddr, a, sizeof(a));
	json_object_object_add(o, "src", jstr(a));
	inet_ntop(af, v->daddr, a, sizeof(a));
	json_object_object_add(o, "dst", jstr(a));
	json_object_object_add(o, "sport", json_object_new_int(v->sport));
	json_object_object_add(o, "dport", json_object_new_int(v->dport));
	clock_gettime(CLOCK_MONOTONIC, &now);
	mono = now.tv_sec * 1000000000ULL + now.tv_nsec;
	json_object_object_add(o, "seconds_ago", ju64(mono > v->last_ns ? (mono - v->last_ns) / 1000000000ULL : 0));
	return o;
}

json_object *staged_diff_doc(struct maps *m, int *err)
{
	json_object *doc = json_object_new_object(), *changes;
	const char (*names)[FRINGE_NAME_LEN] = NULL;
	struct staged_change *ch = NULL;
	struct fringe_counter *cnt = NULL;
	char from[FRINGE_NAME_LEN + 1], to[FRINGE_NAME_LEN + 1];
	size_t n_names = 0, n = 0;

	if (!staged_head(m, doc))
		return doc;
	*err = staged_rule_names(m, &names, &n_names);
	if (!*err)
		*err = staged_read_changes(m, &ch, &n);
	if (!*err)
		*err = staged_read_counters(m, &cnt);
	if (*err) {
		free(ch);
		json_object_put(doc);
		return NULL;
	}
	changes = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const struct fringe_staged_key *k = &ch[i].key;
		json_object *o = json_object_new_object();

		if (!k->from_rule)
			snprintf(from, sizeof(from), "default");
		else
			snprintf(from, sizeof(from), "%.*s", FRINGE_NAME_LEN,
				 m->names[k->from_rule % FRINGE_MAX_COUNTERS].name);
		if (!k->to_rule || k->to_rule > n_names)
			snprintf(to, sizeof(to), "default");
		else
			snprintf(to, sizeof(to), "%.*s", FRINGE_NAME_LEN, names[k->to_rule - 1]);
		json_object_object_add(o, "from", verdict_obj(from, staged_class_name(k->from)));
		json_object_object_add(o, "to", verdict_obj(to, staged_class_name(k->to)));
		json_object_object_add(o, "packets", ju64(ch[i].v.packets));
		json_object_object_add(o, "bytes", ju64(ch[i].v.bytes));
		json_object_object_add(o, "last_flow", flow_obj(&ch[i].v));
		json_object_array_add(changes, o);
	}
	json_object_object_add(doc, "changes", changes);
	json_object_object_add(doc, "changes_not_recorded", ju64(cnt[FRINGE_STAGED_LOST].packets));
	free(ch);
	free(cnt);
	return doc;
}

void staged_diff_text(json_object *doc)
{
	json_object *changes = json_object_object_get(doc, "changes");
	size_t n = json_object_array_length(changes);
	char a[160], b[160];

	printf("staged generation %llu (%s) against generation %llu: %zu change%s, heaviest first\n",
	       jget_u64(doc, "generation"), jget_str(doc, "file"), jget_u64(doc, "active_generation"),
	       n, n == 1 ? "" : "s");
	if (!n) {
		printf("no packet so far would be judged otherwise\n");
		return;
	}
	printf("%12s  %-30s    %-30s  %s\n", "PACKETS", "IN FORCE: RULE VERDICT", "STAGED: RULE VERDICT",
	       "LAST FLOW");
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(changes, i);
		json_object *f = json_object_object_get(c, "from"), *t = json_object_object_get(c, "to");
		json_object *l = json_object_object_get(c, "last_flow");
		bool v6 = strchr(jget_str(l, "src"), ':') != NULL;

		snprintf(a, sizeof(a), "%s %s", jget_str(f, "rule"), jget_str(f, "verdict"));
		snprintf(b, sizeof(b), "%s %s", jget_str(t, "rule"), jget_str(t, "verdict"));
		printf("%12llu  %-30s -> %-30s  %s %s%s%s:%llu -> %s%s%s:%llu on %s, %llus ago\n",
		       jget_u64(c, "packets"), a, b, jget_str(l, "proto"),
		       v6 ? "[" : "", jget_str(l, "src"), v6 ? "]" : "", jget_u64(l, "sport"),
		       v6 ? "[" : "", jget_str(l, "dst"), v6 ? "]" : "", jget_u64(l, "dport"),
		       jget_str(l, "interface"), jget_u64(l, "seconds_ago"));
	}
	if (jget_u64(doc, "changes_not_recorded"))
		printf("%llu packets of further pairs not recorded (the table of %d pairs is full)\n",
		       jget_u64(doc, "changes_not_recorded"), FRINGE_STAGED_CHANGES);
}
