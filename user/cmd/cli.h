/* SPDX-License-Identifier: GPL-2.0 */
/* The command line: the command table, its parser, and the one sink for output and errors. */
#ifndef FRINGE_CLI_H
#define FRINGE_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include <json-c/json.h>

#include "diag.h"
#include "json.h"
#include "maps.h"

#define EXIT_USAGE 2

#define CLI_MAX_POS 4		/* positional arguments of one command */
#define CLI_MAX_OPTS 12		/* options of one command */
#define CLI_MAX_VALUES 16	/* values of one repeatable option */

/* An option of a command (xdp-tools' DEFINE_OPTION). */
struct cli_opt {
	const char *name;	/* "--mode" */
	const char *arg;	/* what its value is ("SECONDS"); NULL: a flag */
	unsigned int flags;	/* CLI_OPT_* */
	int group;		/* options of one group > 0 exclude each other */
	const char *help;
};
#define CLI_OPT_REQUIRED 1	/* must be given (in a group: one of the group) */
#define CLI_OPT_MULTI 2		/* may be given more than once */
#define CLI_OPT_COMBINE 4	/* may be given with the others of its group */

struct cli;

/* A command (xdp-tools' DEFINE_COMMAND): one row of cli_commands[]. */
struct cli_cmd {
	const char *name;	/* "attach", "policy load": one or two words */
	/* argv[0] is the command's name, argv[1..argc-1] its positionals;
	 * options through cli_flag/cli_opt.  0, 1 (failed, reported) or EXIT_USAGE. */
	int (*fn)(struct cli *g, int argc, char **argv);
	const char *args;	/* positionals: "FILE", "IFACE", "[COMMAND]" */
	const struct cli_opt *opts;	/* ends with an empty entry; NULL: none */
	const char *help;	/* one line */
};

/* The table, in help order (commands.c); ends with an empty entry. */
extern const struct cli_cmd cli_commands[];
/* Options every command accepts, also before the command. */
extern const struct cli_opt cli_global_opts[];

struct cli {
	const char *pin_dir;
	int verbose;
	bool json;		/* --json: one JSON document on stdout, errors too */
	const struct cli_cmd *cmd;	/* the command being run */
	/* Its options as given: values per entry of cmd->opts. */
	const char *val[CLI_MAX_OPTS][CLI_MAX_VALUES];
	int n_val[CLI_MAX_OPTS];
	bool printed;		/* a document went to stdout */
	json_object *errors;	/* file errors, for {"errors": [...]} */
	char *error;		/* the first error reported, for {"error": ...} */
	char *usage;		/* the usage line of a usage error */
	uint32_t sizes[FRINGE_SZ_COUNT];	/* attach --size NAME=N; 0: the default */
};

/* Parse argv, run the command, print the JSON error document when it failed. */
int cli_main(struct cli *g, int argc, char **argv);

/* ---- options of the command being run ---- */
bool cli_flag(struct cli *g, const char *name);
/* The (last) value of an option, or NULL. */
const char *cli_opt(struct cli *g, const char *name);
/* Every value of a CLI_OPT_MULTI option, in order; *n their count. */
const char *const *cli_opt_all(struct cli *g, const char *name, int *n);
/* An integer option in [min, max], reported as a usage error when bad
 * ("bad --top 'x' (WHAT, MIN-MAX)").  0 absent or good (*v set), EXIT_USAGE. */
int cli_opt_ull(struct cli *g, const char *name, unsigned long long min, unsigned long long max,
		const char *what, unsigned long long *v);

/* ---- the sink: every line a command writes goes through these ---- */
/* "fringe: MESSAGE" on stderr; the first one is the JSON {"error": ...}. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_err, then "Usage: fringe COMMAND ..." for the command being run: EXIT_USAGE. */
int cli_usage_err(struct cli *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line for the operator on stderr (progress, a summary), never in JSON. */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A file's located errors: FILE:LINE:COL lines on stderr, {"errors": [...]} under --json. */
void cli_diags(const struct diags *d);
/* Print a document: JSON (one per call), or text through the command's renderer. */
void cli_print(struct cli *g, json_object *doc, void (*text)(json_object *doc));

/* Synopsis of a command ("fringe policy load FILE [--confirm SECONDS]"), as
 * text or as roff for the man page. */
void cli_synopsis(FILE *out, const struct cli_cmd *c, bool roff);
/* The SYNOPSIS section of fringe(8), between ".SH SYNOPSIS" and the next ".SH". */
void cli_man_synopsis(FILE *out);
/* The README's command summary: every synopsis, indented as a code block. */
void cli_summary(FILE *out);
/* The usage text of `fringe help`. */
void cli_help(FILE *out, const char *only);

int cli_open(struct cli *g, struct maps *m, unsigned int flags);

int cmd_attach(struct cli *g, int argc, char **argv);
int cmd_detach(struct cli *g, int argc, char **argv);
int cmd_policy_check(struct cli *g, int argc, char **argv);
int cmd_policy_load(struct cli *g, int argc, char **argv);
int cmd_policy_confirm(struct cli *g, int argc, char **argv);
int cmd_policy_show(struct cli *g, int argc, char **argv);
int cmd_policy_test(struct cli *g, int argc, char **argv);
int cmd_policy_stage(struct cli *g, int argc, char **argv);
int cmd_policy_diff(struct cli *g, int argc, char **argv);
int cmd_policy_promote(struct cli *g, int argc, char **argv);
int cmd_policy_unstage(struct cli *g, int argc, char **argv);
int cmd_learn(struct cli *g, int argc, char **argv);
int cmd_dns_show(struct cli *g, int argc, char **argv);
int cmd_mud_import(struct cli *g, int argc, char **argv);
int cmd_nodes_check(struct cli *g, int argc, char **argv);
int cmd_nodes_load(struct cli *g, int argc, char **argv);
int cmd_nodes_show(struct cli *g, int argc, char **argv);
int cmd_stats(struct cli *g, int argc, char **argv);
int cmd_flows(struct cli *g, int argc, char **argv);
int cmd_sample(struct cli *g, int argc, char **argv);
int cmd_metrics(struct cli *g, int argc, char **argv);
int cmd_daemon(struct cli *g, int argc, char **argv);
int cmd_status(struct cli *g, int argc, char **argv);
int cmd_cluster_status(struct cli *g, int argc, char **argv);
int cmd_version(struct cli *g, int argc, char **argv);
int cmd_help(struct cli *g, int argc, char **argv);

/* "tcp", "udp", "icmp", "icmpv6", "sctp", or the number in buf. */
const char *cli_proto_name(uint8_t proto, char *buf, size_t len);

/* "42s", "5m3s", "2h10m", "3d4h": a short age. */
void cli_duration(unsigned long long s, char *buf, size_t len);

/* Compile env for the running system: interface names and CPUs resolved. */
struct compile_env cli_live_env(void);

#endif
