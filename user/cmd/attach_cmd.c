// SPDX-License-Identifier: GPL-2.0
/* `fringe attach` and `fringe detach`: put the data plane on an interface and take it off. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "attach.h"
#include "cli.h"
#include "config.h"

static void attach_text(json_object *doc)
{
	const char *ifname = jget_str(doc, "interface");
	bool egress = json_object_get_boolean(json_object_object_get(doc, "egress"));

	if (!json_object_get_boolean(json_object_object_get(doc, "ingress_attached_now")))
		printf("attached to the egress of %s (its ingress already was)\n", ifname);
	else
		printf("attached to %s (%s mode)%s\n", ifname, jget_str(doc, "mode"),
		       egress ? " and to its egress" : "");
}

int cmd_attach(struct cli *g, int argc, char **argv)
{
	enum fringe_attach_mode mode = ATTACH_AUTO;
	bool force = cli_flag(g, "--force"), egress = cli_flag(g, "--egress"), had_xdp;
	const char *m = cli_opt(g, "--mode"), *ifname = argv[1], *why;
	const char *const *sz;
	json_object *doc;
	struct maps maps;
	int err = 0, n_sz;

	if (m && config_parse_mode(m, &mode))
		return cli_usage_err(g, "unknown mode '%s' (native, generic or auto)", m);
	/* The state's sizes, when this attach creates it (fringe(8), SIZES). */
	sz = cli_opt_all(g, "--size", &n_sz);
	for (int i = 0; i < n_sz; i++)
		if (config_parse_size_opt(sz[i], g->sizes, &why))
			return cli_usage_err(g, "bad --size '%s': %s", sz[i], why);
	if (cli_open(g, &maps, MAPS_CREATE))
		return 1;
	/* --egress on an interface fringe already judges adds the TC program only. */
	had_xdp = egress && attach_find_ours(if_nametoindex(ifname));
	if (!had_xdp)
		err = attach_xdp(&maps, ifname, mode, force);
	if (!err && egress)
		err = attach_tc_egress(&maps, ifname);
	maps_close(&maps);
	if (err)
		return 1;
	doc = json_object_new_object();
	json_object_object_add(doc, "interface", jstr(ifname));
	json_object_object_add(doc, "ifindex", ju64(if_nametoindex(ifname)));
	json_object_object_add(doc, "mode", jstr(config_mode_names[mode]));
	json_object_object_add(doc, "ingress_attached_now", json_object_new_boolean(!had_xdp));
	json_object_object_add(doc, "egress", json_object_new_boolean(egress));
	json_object_object_add(doc, "program_id", ju64(attach_find_ours(if_nametoindex(ifname))));
	cli_print(g, doc, attach_text);
	json_object_put(doc);
	return 0;
}

static void detach_text(json_object *doc)
{
	printf("detached from %s\n", jget_str(doc, "interface"));
}

int cmd_detach(struct cli *g, int argc, char **argv)
{
	json_object *doc;
	struct maps maps;
	int err, tc;
	bool ingress;

	if (cli_open(g, &maps, 0))
		return 1;
	tc = attach_tc_detach(&maps, argv[1]);	/* the egress program, when there */
	err = attach_detach(&maps, argv[1]);
	ingress = !err;
	if (err == -ENOENT && !tc)
		err = 0;
	maps_close(&maps);
	if (err)
		return 1;
	doc = json_object_new_object();
	json_object_object_add(doc, "interface", jstr(argv[1]));
	json_object_object_add(doc, "ingress", json_object_new_boolean(ingress));
	json_object_object_add(doc, "egress", json_object_new_boolean(!tc));
	cli_print(g, doc, detach_text);
	json_object_put(doc);
	return 0;
}
