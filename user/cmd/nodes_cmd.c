// SPDX-License-Identifier: GPL-2.0
/* `fringe nodes ...`: check, load and show the overlay's nodes file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "maps.h"
#include "nodes.h"
#include "overlay.h"
#include "overlay_doc.h"

/* Parse FILE and resolve it (env NULL: no kernel, as `check`); errors as FILE:LINE:COL. */
int overlay_build_file(const char *path, const struct ov_env *env, struct nodes *n, struct ov_built *b)
{
	struct diags d = { .file = path };
	int err;

	err = nodes_parse_file(path, &d, n);
	if (!err && env) {
		err = overlay_resolve_self(n, env, &d);
		if (err)
			nodes_free(n);
	}
	if (!err) {
		err = overlay_build(n, env, &d, b);
		if (err)
			nodes_free(n);
	}
	cli_diags(&d);
	if (err && !d.n)
		cli_err("cannot use nodes file '%s': %s", path, strerror(-err));
	else if (err)
		cli_err("nodes file '%s' has %zu error%s; nothing was changed", path, d.n,
			d.n == 1 ? "" : "s");
	diags_free(&d);
	return err;
}

static size_t count_prefixes(const struct nodes *n)
{
	size_t k = 0;

	for (size_t i = 0; i < n->n; i++)
		k += n->v[i].n_prefixes;
	return k;
}

static void nodes_check_text(json_object *doc)
{
	printf("%s: ok, %llu nodes, %llu prefixes; self %s\n", jget_str(doc, "file"),
	       jget_u64(doc, "nodes"), jget_u64(doc, "prefixes"), jget_str(doc, "self"));
}

/* What `nodes check` and `nodes load` say about a file. */
static json_object *nodes_file_doc(const char *path, const struct nodes *n)
{
	json_object *doc = json_object_new_object();

	json_object_object_add(doc, "file", jstr(path));
	json_object_object_add(doc, "ok", json_object_new_boolean(1));
	json_object_object_add(doc, "nodes", ju64(n->n));
	json_object_object_add(doc, "prefixes", ju64(count_prefixes(n)));
	json_object_object_add(doc, "self", jstr(n->self_auto ? "auto" : n->self));
	return doc;
}

int cmd_nodes_check(struct cli *g, int argc, char **argv)
{
	json_object *doc;
	struct ov_built b;
	struct nodes n;

	if (overlay_build_file(argv[1], NULL, &n, &b))
		return 1;
	doc = nodes_file_doc(argv[1], &n);
	cli_print(g, doc, nodes_check_text);
	json_object_put(doc);
	overlay_built_free(&b);
	nodes_free(&n);
	return 0;
}

static void nodes_load_text(json_object *doc)
{
	json_object *u = json_object_object_get(doc, "underlay");

	printf("loaded %s: generation %llu, %llu nodes, %llu prefixes; self %s on %s (mtu %llu, workloads %llu)\n",
	       jget_str(doc, "file"), jget_u64(doc, "generation"), jget_u64(doc, "nodes"),
	       jget_u64(doc, "prefixes"), jget_str(doc, "self"), jget_str(u, "interface"),
	       jget_u64(u, "mtu"), jget_u64(u, "inner_mtu"));
}

int cmd_nodes_load(struct cli *g, int argc, char **argv)
{
	struct ov_built b;
	struct nodes n;
	struct maps m;
	uint64_t gen = 0;
	int err;

	if (cli_open(g, &m, MAPS_CREATE))
		return 1;
	if (overlay_build_file(argv[1], &overlay_live_env, &n, &b)) {
		overlay_note_load_failure(&m);
		maps_close(&m);
		return 1;
	}
	err = overlay_load(&m, &n, &b, &gen);
	if (err) {
		cli_err("cannot load nodes file '%s': %s", argv[1], strerror(-err));
	} else {
		json_object *doc = nodes_file_doc(argv[1], &n), *u = json_object_new_object();

		json_object_object_add(doc, "generation", ju64(gen));
		json_object_object_add(u, "interface", jstr(b.local.ifname));
		json_object_object_add(u, "mtu", ju64(b.local.mtu));
		json_object_object_add(u, "inner_mtu", ju64(b.inner_mtu));
		json_object_object_add(doc, "underlay", u);
		cli_print(g, doc, nodes_load_text);
		json_object_put(doc);
	}
	overlay_built_free(&b);
	nodes_free(&n);
	maps_close(&m);
	return err ? 1 : 0;
}

static void nodes_show_text(json_object *doc)
{
	json_object *nodes = json_object_object_get(doc, "nodes");
	json_object *u = json_object_object_get(doc, "underlay");
	json_object *al = json_object_object_get(u, "addresses");
	size_t n = json_object_array_length(nodes);
	int w = 15;

	if (!jget_u64(doc, "generation")) {
		printf("no nodes file loaded: no overlay\n");
		return;
	}
	printf("nodes generation %llu, loaded %s; self %s on %s", jget_u64(doc, "generation"),
	       jget_str(doc, "loaded_at"), jget_str(doc, "self"), jget_str(u, "interface"));
	for (size_t k = 0; k < json_object_array_length(al); k++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(al, k)));
	printf(" (mtu %llu; workloads %llu)\n", jget_u64(u, "mtu"), jget_u64(u, "inner_mtu"));
	/* IPv6 underlays are wider than the column IPv4 needs. */
	for (size_t i = 0; i < n; i++) {
		int l = strlen(jget_str(json_object_array_get_idx(nodes, i), "underlay"));

		if (l > w)
			w = l;
	}
	printf("%-16s %-*s %8s %-17s %-9s %-6s %8s %12s %12s  %s\n", "NODE", w, "UNDERLAY", "VNI",
	       "MAC", "FROM", "SOURCE", "AGE", "TX_PACKETS", "RX_PACKETS", "PREFIXES");
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(nodes, i);
		json_object *p = json_object_object_get(o, "prefixes");
		json_object *mac = json_object_object_get(o, "mac");

		char age[24];

		cli_duration(jget_u64(o, "age_seconds"), age, sizeof(age));
		printf("%-16s %-*s %8llu %-17s %-9s %-6s %8s %12llu %12llu ",
		       jget_str(o, "name"),
		       w, jget_str(o, "underlay"), jget_u64(o, "vni"),
		       mac ? json_object_get_string(mac) : "-", jget_str(o, "mac_source"),
		       jget_str(o, "source"), age,
		       jget_u64(o, "tx_packets"), jget_u64(o, "rx_packets"));
		for (size_t k = 0; k < json_object_array_length(p); k++)
			printf("%s%s", k ? "," : " ",
			       json_object_get_string(json_object_array_get_idx(p, k)));
		printf("\n");
	}
}

int cmd_nodes_show(struct cli *g, int argc, char **argv)
{
	json_object *doc;
	struct maps m;

	if (cli_open(g, &m, 0))
		return 1;
	doc = overlay_show_doc(&m);
	cli_print(g, doc, nodes_show_text);
	json_object_put(doc);
	maps_close(&m);
	return 0;
}
