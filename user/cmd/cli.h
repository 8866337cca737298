/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line plumbing shared by the command modules. */
#ifndef FRINGE_CLI_H
#define FRINGE_CLI_H

#include <stdbool.h>

#include <json-c/json.h>

#include "json.h"
#include "maps.h"

#define EXIT_USAGE 2

struct cli {
	const char *pin_dir;
	int verbose;
	bool json;		/* global --json */
};

struct cmd {
	const char *name;
	int (*fn)(struct cli *g, int argc, char **argv);
	const char *grammar;	/* help, written as a grammar */
};

/* Dispatch argv[0] through a table, accepting unambiguous prefixes. */
int cli_dispatch(struct cli *g, const struct cmd *table, const char *what, int argc, char **argv);
int cli_usage(const struct cmd *c);
/* Print a document: JSON, or text through the command's renderer. */
void cli_print(struct cli *g, json_object *doc, void (*text)(json_object *doc));
int cli_open(struct cli *g, struct maps *m, unsigned int flags);
/* `--json` may stand anywhere after the command; removes recognised flags. */
bool cli_take_flag(int *argc, char **argv, const char *flag);
const char *cli_take_opt(int *argc, char **argv, const char *opt, int *err);


int cmd_policy(struct cli *g, int argc, char **argv);
int cmd_stats(struct cli *g, int argc, char **argv);
int cmd_status(struct cli *g, int argc, char **argv);
int cmd_sample(struct cli *g, int argc, char **argv);
int cmd_flows(struct cli *g, int argc, char **argv);
int cmd_daemon(struct cli *g, int argc, char **argv);
int cmd_learn(struct cli *g, int argc, char **argv);
int cmd_nodes(struct cli *g, int argc, char **argv);

/* Compile env for the running system: interface names and CPUs resolved. */
struct compile_env cli_live_env(void);

#endif
