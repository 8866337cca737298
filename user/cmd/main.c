// SPDX-License-Identifier: GPL-2.0
/* fringe: the controller's entry point, global options and the command table. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "cli.h"
#include "log.h"
#include "metrics.h"

static int cmd_attach(struct cli *g, int argc, char **argv)
{
	static const struct cmd self = { "attach", NULL,
		"fringe attach IFACE [--mode native|generic|auto] [--egress] [--force]" };
	enum fringe_attach_mode mode = ATTACH_AUTO;
	bool force = cli_take_flag(&argc, argv, "--force");
	bool egress = cli_take_flag(&argc, argv, "--egress"), had_xdp;
	const char *m;
	struct maps maps;
	int err = 0;

	m = cli_take_opt(&argc, argv, "--mode", &err);
	if (err || argc != 2 || argv[1][0] == '-')
		return cli_usage(&self);
	if (m && config_parse_mode(m, &mode)) {
		fprintf(stderr, "fringe: unknown mode '%s' (native, generic or auto)\n", m);
		return EXIT_USAGE;
	}
	if (cli_open(g, &maps, MAPS_CREATE))
		return 1;
	/* --egress on an interface fringe already judges adds the TC program only. */
	had_xdp = egress && attach_find_ours(if_nametoindex(argv[1]));
	if (!had_xdp)
		err = attach_xdp(&maps, argv[1], mode, force);
	if (!err && egress)
		err = attach_tc_egress(&maps, argv[1]);
	maps_close(&maps);
	if (!err && !g->json && had_xdp)
		printf("attached to the egress of %s (its ingress already was)\n", argv[1]);
	else if (!err && !g->json)
		printf("attached to %s (%s mode)%s\n", argv[1], config_mode_names[mode],
		       egress ? " and to its egress" : "");
	return err ? 1 : 0;
}

static int cmd_detach(struct cli *g, int argc, char **argv)
{
	static const struct cmd self = { "detach", NULL, "fringe detach IFACE" };
	struct maps maps;
	int err, tc;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage(&self);
	if (cli_open(g, &maps, 0))
		return 1;
	tc = attach_tc_detach(&maps, argv[1]);	/* the egress program, when there */
	err = attach_detach(&maps, argv[1]);
	if (err == -ENOENT && !tc)
		err = 0;
	maps_close(&maps);
	if (!err && !g->json)
		printf("detached from %s\n", argv[1]);
	return err ? 1 : 0;
}

static int cmd_version(struct cli *g, int argc, char **argv)
{
	if (g->json || cli_take_flag(&argc, argv, "--json")) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "version", jstr(FRINGE_VERSION));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		printf("fringe %s\n", FRINGE_VERSION);
	}
	return 0;
}

static int cmd_metrics(struct cli *g, int argc, char **argv)
{
	struct maps m;
	int err;

	if (argc != 1)
		return fprintf(stderr, "Usage: fringe metrics\n"), EXIT_USAGE;
	if (cli_open(g, &m, 0))
		return 1;
	err = metrics_render(&m, stdout);
	maps_close(&m);
	if (err)
		fprintf(stderr, "fringe: cannot write metrics: %s\n", strerror(-err));
	return err ? 1 : 0;
}

static int cmd_help(struct cli *g, int argc, char **argv);

static const struct cmd commands[] = {
	{ "attach", cmd_attach, "attach IFACE [--mode native|generic|auto] [--egress] [--force]" },
	{ "detach", cmd_detach, "detach IFACE" },
	{ "policy", cmd_policy, "policy { check FILE | load FILE [--confirm SECONDS] | confirm | show [--json] | test FILE --pcap CAPTURE [--json] [--verbose] }" },
	{ "learn", cmd_learn, "learn --duration SECONDS --output FILE" },
	{ "nodes", cmd_nodes, "nodes { check FILE | load FILE | show [--json] }" },
	{ "stats", cmd_stats, "stats [--json] [--interval SECONDS]" },
	{ "flows", cmd_flows, "flows [--top N] [--json] | flows --enable | flows --disable" },
	{ "sample", cmd_sample, "sample (--pcap FILE | --sflow HOST:PORT) [--count N] [--duration SECONDS] [--agent ADDR] [--bytes N]" },
	{ "metrics", cmd_metrics, "metrics" },
	{ "daemon", cmd_daemon, "daemon --config FILE [--check]" },
	{ "status", cmd_status, "status [--json]" },
	{ "version", cmd_version, "version [--json]" },
	{ "help", cmd_help, "help" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: fringe [--pin-dir DIR] [-v] [--json] COMMAND ...\n\nCommands:\n");
	for (const struct cmd *c = commands; c->name; c++)
		fprintf(out, "  fringe %s\n", c->grammar);
	fprintf(out, "\nThe pin dir defaults to $FRINGE_PIN_DIR, then %s.\n"
		     "Commands may be shortened to any unambiguous prefix.\n",
		FRINGE_PIN_DIR_DEFAULT);
}

static int cmd_help(struct cli *g, int argc, char **argv)
{
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli g = { .pin_dir = getenv("FRINGE_PIN_DIR") };
	int c;

	while ((c = getopt_long(argc, argv, "+p:vjhV", opts, NULL)) != -1) {
		switch (c) {
		case 'p': g.pin_dir = optarg; break;
		case 'v': g.verbose++; break;
		case 'j': g.json = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': return cmd_version(&g, 0, NULL);
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!g.pin_dir || !*g.pin_dir)
		g.pin_dir = FRINGE_PIN_DIR_DEFAULT;
	log_init(g.verbose >= 2 ? LOG_DEBUG : g.verbose ? LOG_INFO : LOG_WARN);
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return cli_dispatch(&g, commands, "command", argc - optind, argv + optind);
}
