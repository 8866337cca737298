// SPDX-License-Identifier: GPL-2.0
/* The command line: parse argv against the command table, render usage and
 * the man page's synopsis from it, and the one sink every command writes
 * through (documents on stdout, "fringe: " lines on stderr, JSON errors). */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cli.h"
#include "compile.h"
#include "log.h"
#include "log_libs.h"

#define JSON_OUT (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

/* The one command line of this process: the sink reports into it. */
static struct cli *cur;

/* ---- the sink ---------------------------------------------------------------- */

/* Every error line (ours and the lower layers' pr_err) passes here. */
static void record_error(const char *msg)
{
	if (cur && !cur->error)
		cur->error = strdup(msg);
}

static void cli_verr(const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	pr_err("%s", msg ? msg : fmt);
	free(msg);
}

void cli_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_verr(fmt, ap);
	va_end(ap);
}

void cli_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_diags(const struct diags *d)
{
	diags_print(d, stderr);
	if (!cur || !cur->json)
		return;
	if (!cur->errors)
		cur->errors = json_object_new_array();
	for (size_t i = 0; i < d->n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "file", jstr(d->file));
		json_object_object_add(o, "line", json_object_new_int(d->v[i].loc.line));
		json_object_object_add(o, "col", json_object_new_int(d->v[i].loc.col));
		json_object_object_add(o, "message", jstr(d->v[i].msg));
		json_object_array_add(cur->errors, o);
	}
}

void cli_print(struct cli *g, json_object *doc, void (*text)(json_object *doc))
{
	if (g->json)
		printf("%s\n", json_object_to_json_string_ext(doc, JSON_OUT));
	else if (text)
		text(doc);
	g->printed = true;
	fflush(stdout);
}

/* A failed command under --json: {"error": ...}, with "errors" for a file's. */
static void print_error_doc(struct cli *g)
{
	json_object *doc = json_object_new_object();

	json_object_object_add(doc, "error", jstr(g->error ? g->error : "failed"));
	if (g->usage)
		json_object_object_add(doc, "usage", jstr(g->usage));
	if (g->errors) {
		json_object_object_add(doc, "errors", g->errors);
		g->errors = NULL;
	}
	printf("%s\n", json_object_to_json_string_ext(doc, JSON_OUT));
	json_object_put(doc);
	fflush(stdout);
}

/* ---- rendering the table ------------------------------------------------------- */

/* Text as is; roff with '-' and '\' escaped, in bold or italic. */
static void put(FILE *out, const char *s, bool roff, char font)
{
	if (!roff) {
		fputs(s, out);
		return;
	}
	fprintf(out, "\\f%c", font);
	for (; *s; s++) {
		if (*s == '-' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputs("\\fR", out);
}

static void put_opt(FILE *out, const struct cli_opt *o, bool roff)
{
	put(out, o->name, roff, 'B');
	if (o->arg) {
		fputc(' ', out);
		put(out, o->arg, roff, 'I');
	}
}

static void put_opts(FILE *out, const struct cli_opt *opts, bool roff)
{
	for (const struct cli_opt *o = opts; o && o->name; o++) {
		bool req = o->flags & CLI_OPT_REQUIRED;

		if (o->group) {
			const struct cli_opt *p;
			int n = 0;

			for (p = opts; p != o && p->group != o->group; p++)
				;
			if (p != o)
				continue;	/* the group was written at its first member */
			for (p = o; p->name; p++)
				req |= p->group == o->group && (p->flags & CLI_OPT_REQUIRED);
			fputs(req ? " (" : " [", out);
			for (p = o; p->name; p++) {
				if (p->group != o->group)
					continue;
				if (n++)
					fputs(" | ", out);
				put_opt(out, p, roff);
			}
			fputs(req ? ")" : "]", out);
			continue;
		}
		fputs(req ? " " : " [", out);
		put_opt(out, o, roff);
		fputs(req ? "" : "]", out);
		if (o->flags & CLI_OPT_MULTI)
			fputs("...", out);
	}
}

void cli_synopsis(FILE *out, const struct cli_cmd *c, bool roff)
{
	char *words = strdup(c->args), *save = NULL, name[64];

	snprintf(name, sizeof(name), "fringe %s", c->name);
	put(out, name, roff, 'B');
	for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		bool opt = w[0] == '[';

		fputs(opt ? " [" : " ", out);
		if (opt)
			w[strlen(w) - 1] = '\0';
		put(out, opt ? w + 1 : w, roff, 'I');
		fputs(opt ? "]" : "", out);
	}
	free(words);
	put_opts(out, c->opts, roff);
}

static void global_synopsis(FILE *out, bool roff)
{
	put(out, "fringe", roff, 'B');
	put_opts(out, cli_global_opts, roff);
	fputc(' ', out);
	put(out, "COMMAND", roff, 'I');
	fputs(" ...", out);
}

void cli_man_synopsis(FILE *out)
{
	fputs(".SH SYNOPSIS\n", out);
	global_synopsis(out, true);
	fputs("\n.PP\n", out);
	for (const struct cli_cmd *c = cli_commands; c->name; c++) {
		cli_synopsis(out, c, true);
		fputs("\n.br\n", out);
	}
}

void cli_summary(FILE *out)
{
	fputs("\n    ", out);
	global_synopsis(out, false);
	fputc('\n', out);
	for (const struct cli_cmd *c = cli_commands; c->name; c++) {
		fputs("    ", out);
		cli_synopsis(out, c, false);
		fputc('\n', out);
	}
	fputc('\n', out);
}

/* Does c fall under what the operator named ("policy", "pol", "policy load")? */
static bool cmd_under(const struct cli_cmd *c, const char *only)
{
	size_t n = strlen(only);

	return !strncmp(c->name, only, n) && (!c->name[n] || c->name[n] == ' ' || !strchr(only, ' '));
}

void cli_help(FILE *out, const char *only)
{
	if (!only) {
		fputs("Usage: ", out);
		global_synopsis(out, false);
		fputs("\n\nCommands:\n", out);
	}
	for (const struct cli_cmd *c = cli_commands; c->name; c++) {
		if (only && !cmd_under(c, only))
			continue;
		fputs(only ? "Usage: " : "  ", out);
		cli_synopsis(out, c, false);
		fprintf(out, "\n      %s\n", c->help);
		for (const struct cli_opt *o = c->opts; only && o && o->name; o++) {
			char buf[64];

			snprintf(buf, sizeof(buf), "%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
			fprintf(out, "        %-28s %s\n", buf, o->help);
		}
	}
	if (!only) {
		fputs("\nOptions of every command:\n", out);
		for (const struct cli_opt *o = cli_global_opts; o->name; o++) {
			char buf[64];

			snprintf(buf, sizeof(buf), "%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
			fprintf(out, "  %-30s %s\n", buf, o->help);
		}
		fprintf(out, "\nThe pin dir defaults to $FRINGE_PIN_DIR, then %s.\n"
			     "Commands may be shortened to any unambiguous prefix ('fringe pol sh').\n",
			FRINGE_PIN_DIR_DEFAULT);
	}
}

static json_object *help_doc(const char *only)
{
	json_object *doc = json_object_new_object(), *cmds = json_object_new_array();

	for (const struct cli_cmd *c = cli_commands; c->name; c++) {
		json_object *o = json_object_new_object(), *opts = json_object_new_array();
		char *syn = NULL;
		size_t len = 0;
		FILE *f;

		if (only && !cmd_under(c, only))
			continue;
		f = open_memstream(&syn, &len);
		if (f) {
			cli_synopsis(f, c, false);
			fclose(f);
		}
		json_object_object_add(o, "command", jstr(c->name));
		json_object_object_add(o, "synopsis", jstr(syn));
		json_object_object_add(o, "help", jstr(c->help));
		free(syn);
		for (const struct cli_opt *p = c->opts; p && p->name; p++) {
			json_object *po = json_object_new_object();

			json_object_object_add(po, "name", jstr(p->name));
			if (p->arg)
				json_object_object_add(po, "value", jstr(p->arg));
			json_object_object_add(po, "required",
					       json_object_new_boolean(p->flags & CLI_OPT_REQUIRED));
			json_object_object_add(po, "help", jstr(p->help));
			json_object_array_add(opts, po);
		}
		json_object_object_add(o, "options", opts);
		json_object_array_add(cmds, o);
	}
	json_object_object_add(doc, "commands", cmds);
	return doc;
}

/* ---- errors of the command line ------------------------------------------------ */

int cli_usage_err(struct cli *g, const char *fmt, ...)
{
	char *syn = NULL;
	size_t len = 0;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	cli_verr(fmt, ap);
	va_end(ap);
	if (!g->cmd)
		return EXIT_USAGE;
	f = open_memstream(&syn, &len);
	if (f) {
		cli_synopsis(f, g->cmd, false);
		fclose(f);
		fprintf(stderr, "Usage: %s\n", syn);
		free(g->usage);
		g->usage = syn;
	}
	return EXIT_USAGE;
}

/* ---- parsing ------------------------------------------------------------------- */

/* First words in table order, each once; returns how many. */
static int first_words(const char *v[], int cap)
{
	int n = 0;

	for (const struct cli_cmd *c = cli_commands; c->name; c++) {
		size_t len = strcspn(c->name, " ");
		int k;

		for (k = 0; k < n; k++)
			if (strlen(v[k]) == len && !strncmp(v[k], c->name, len))
				break;
		if (k == n && n < cap)
			v[n++] = strndup(c->name, len);
	}
	return n;
}

/* Resolve an unambiguous prefix among words: its index, -1 none, -2 ambiguous. */
static int resolve(const char *const *words, int n, const char *w, const char *what)
{
	size_t len = strlen(w);
	int hit = -1;

	for (int i = 0; i < n; i++) {
		if (!strcmp(words[i], w))
			return i;
		if (len && !strncmp(words[i], w, len)) {
			if (hit >= 0) {
				cli_err("ambiguous %s '%s' ('%s' or '%s')", what, w, words[hit], words[i]);
				return -2;
			}
			hit = i;
		}
	}
	if (hit < 0)
		cli_err("unknown %s '%s'; try 'fringe help'", what, w);
	return hit;
}

static int take_global(struct cli *g, int argc, char **argv, int *i);

/* The command under argv[*i] (one or two words), or NULL with the error reported. */
static const struct cli_cmd *find_cmd(struct cli *g, int argc, char **argv, int *i, int *rc)
{
	const char *firsts[64] = { 0 }, *seconds[64] = { 0 };
	const struct cli_cmd *sub[64];
	int nf = first_words(firsts, 64), k, ns = 0;
	const struct cli_cmd *hit = NULL;

	*rc = EXIT_USAGE;
	k = resolve(firsts, nf, argv[*i], "command");
	if (k >= 0) {
		size_t len = strlen(firsts[k]);

		for (const struct cli_cmd *c = cli_commands; c->name; c++) {
			if (strncmp(c->name, firsts[k], len) || (c->name[len] && c->name[len] != ' '))
				continue;
			if (!c->name[len]) {
				hit = c;
				break;
			}
			if (ns < 64) {
				sub[ns] = c;
				seconds[ns++] = c->name + len + 1;
			}
		}
		(*i)++;
		/* global options may stand between the words: fringe policy --json show */
		while (!hit && *i < argc && argv[*i][0] == '-') {
			int t = take_global(g, argc, argv, i);

			if (t == EXIT_USAGE)
				goto done;	/* reported */
			if (!t)
				break;
			(*i)++;
		}
		if (!hit && (*i >= argc || argv[*i][0] == '-')) {
			if (*i < argc && (!strcmp(argv[*i], "--help") || !strcmp(argv[*i], "-h"))) {
				cli_help(stdout, firsts[k]);
				*rc = 0;
			} else {
				cli_err("'%s' needs a command (fringe help %s)", firsts[k], firsts[k]);
				cli_help(stderr, firsts[k]);
			}
		} else if (!hit) {
			char what[48];

			snprintf(what, sizeof(what), "%s command", firsts[k]);
			int s = resolve(seconds, ns, argv[*i], what);

			if (s >= 0) {
				hit = sub[s];
				(*i)++;
			}
		}
	}
done:
	for (int f = 0; f < nf; f++)
		free((char *)firsts[f]);
	g->cmd = hit;
	return hit;
}

static int opt_index(const struct cli_opt *opts, const char *arg, const char **val)
{
	for (int k = 0; opts && opts[k].name; k++) {
		size_t len = strlen(opts[k].name);

		if (strncmp(arg, opts[k].name, len))
			continue;
		if (!arg[len]) {
			*val = NULL;
			return k;
		}
		if (arg[len] == '=' && opts[k].arg) {
			*val = arg + len + 1;
			return k;
		}
	}
	return -1;
}

/* A global option at argv[*i]: 1 taken, 0 not one, EXIT_USAGE. */
static int take_global(struct cli *g, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v;

	if (a[0] == '-' && a[1] == 'v' && strspn(a + 1, "v") == strlen(a + 1)) {
		g->verbose += strlen(a + 1);
		return 1;
	}
	if (!strcmp(a, "--verbose") && !(g->cmd && opt_index(g->cmd->opts, a, &v) >= 0)) {
		g->verbose++;
		return 1;
	}
	if (!strcmp(a, "--json")) {
		g->json = true;
		return 1;
	}
	if (!strncmp(a, "--pin-dir", 9) && (!a[9] || a[9] == '=')) {
		v = a[9] ? a + 10 : NULL;
		if (!v && *i + 1 >= argc)
			return cli_usage_err(g, "--pin-dir needs a value");
		g->pin_dir = v ? v : argv[++*i];
		return 1;
	}
	return 0;
}

/* The command's options and positionals from argv[i..]; pos gets the positionals. */
static int parse_args(struct cli *g, int argc, char **argv, int i, char **pos, int *npos)
{
	const struct cli_cmd *c = g->cmd;
	const struct cli_opt *opts = c->opts;
	int min = 0, max = 0, rc;
	bool dashdash = false;

	for (const char *p = c->args; *p; p += strspn(p, " ")) {
		size_t w = strcspn(p, " ");

		if (!w)
			break;
		/* "[COMMAND...]": any number, up to CLI_MAX_POS */
		max = w > 3 && !strncmp(p + w - 4, "...", 3) ? CLI_MAX_POS : max + 1;
		min += p[0] != '[';
		p += w;
	}
	*npos = 0;
	pos[(*npos)++] = (char *)c->name;
	for (; i < argc; i++) {
		const char *a = argv[i], *v;
		int k;

		if (dashdash || a[0] != '-' || !a[1]) {
			if (*npos > max)
				return cli_usage_err(g, "unexpected argument '%s'", a);
			pos[(*npos)++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			cli_help(stdout, c->name);
			return -1;
		}
		k = opt_index(opts, a, &v);
		if (k < 0) {
			rc = take_global(g, argc, argv, &i);
			if (rc == 1)
				continue;
			if (rc)
				return rc;
			return cli_usage_err(g, "unknown option '%s' for 'fringe %s'", a, c->name);
		}
		if (!opts[k].arg && v)
			return cli_usage_err(g, "%s takes no value", opts[k].name);
		if (opts[k].arg && !v) {
			if (i + 1 >= argc)
				return cli_usage_err(g, "%s needs a value (%s)", opts[k].name,
						     opts[k].arg);
			v = argv[++i];
		}
		if (g->n_val[k] && !(opts[k].flags & CLI_OPT_MULTI))
			return cli_usage_err(g, "%s given twice", opts[k].name);
		if (g->n_val[k] >= CLI_MAX_VALUES)
			return cli_usage_err(g, "%s given more than %d times", opts[k].name,
					     CLI_MAX_VALUES);
		g->val[k][g->n_val[k]++] = (char *)(v ? v : "");
	}
	if (*npos - 1 < min)
		return cli_usage_err(g, "'fringe %s' needs %s", c->name, c->args);
	for (int k = 0; opts && opts[k].name; k++) {
		bool any = false;

		if (!opts[k].group) {
			if ((opts[k].flags & CLI_OPT_REQUIRED) && !g->n_val[k])
				return cli_usage_err(g, "'fringe %s' needs %s", c->name, opts[k].name);
			continue;
		}
		for (int j = 0; opts[j].name; j++) {
			if (opts[j].group != opts[k].group)
				continue;
			any |= g->n_val[j] > 0;
			if (j != k && g->n_val[j] && g->n_val[k] &&
			    !(opts[k].flags & opts[j].flags & CLI_OPT_COMBINE))
				return cli_usage_err(g, "%s and %s exclude each other",
						     opts[j < k ? j : k].name, opts[j < k ? k : j].name);
		}
		if ((opts[k].flags & CLI_OPT_REQUIRED) && !any) {
			char names[128] = "";

			for (int j = 0; opts[j].name; j++)
				if (opts[j].group == opts[k].group)
					snprintf(names + strlen(names), sizeof(names) - strlen(names),
						 "%s%s", names[0] ? " or " : "", opts[j].name);
			return cli_usage_err(g, "'fringe %s' needs %s", c->name, names);
		}
	}
	return 0;
}

int cli_main(struct cli *g, int argc, char **argv)
{
	char *pos[CLI_MAX_POS + 2];
	int i = 1, rc = 0, npos = 0;

	cur = g;
	log_error_hook = record_error;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cli_help(stdout, NULL);
			return 0;
		}
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V"))
			return cmd_version(g, 0, NULL);
		rc = take_global(g, argc, argv, &i);
		if (rc != 1) {
			rc = rc ? rc : (cli_err("unknown option '%s'", argv[i]), EXIT_USAGE);
			goto out;
		}
	}
	rc = 0;
	if (!g->pin_dir || !*g->pin_dir)
		g->pin_dir = FRINGE_PIN_DIR_DEFAULT;
	if (i >= argc) {
		cli_err("which command? (fringe help)");
		cli_help(stderr, NULL);
		rc = EXIT_USAGE;
		goto out;
	}
	if (!find_cmd(g, argc, argv, &i, &rc))
		goto out;
	rc = parse_args(g, argc, argv, i, pos, &npos);
	if (rc) {
		rc = rc < 0 ? 0 : rc;	/* -1: --help was printed */
		goto out;
	}
	if (!g->pin_dir || !*g->pin_dir)
		g->pin_dir = FRINGE_PIN_DIR_DEFAULT;
	log_init(g->verbose >= 2 ? LOG_DEBUG : g->verbose ? LOG_INFO : LOG_WARN);
	log_libs_init();
	pos[npos] = NULL;
	rc = g->cmd->fn(g, npos, pos);
out:
	fflush(stdout);
	if (g->json && rc && !g->printed)
		print_error_doc(g);
	json_object_put(g->errors);
	free(g->error);
	free(g->usage);
	g->errors = NULL;
	g->error = g->usage = NULL;
	log_error_hook = NULL;
	cur = NULL;
	return rc;
}

/* ---- options of the command being run ---------------------------------------- */

static int opt_of(struct cli *g, const char *name)
{
	for (int k = 0; g->cmd && g->cmd->opts && g->cmd->opts[k].name; k++)
		if (!strcmp(g->cmd->opts[k].name, name))
			return k;
	return -1;
}

bool cli_flag(struct cli *g, const char *name)
{
	int k = opt_of(g, name);

	return k >= 0 && g->n_val[k];
}

const char *cli_opt(struct cli *g, const char *name)
{
	int k = opt_of(g, name);

	return k >= 0 && g->n_val[k] ? g->val[k][g->n_val[k] - 1] : NULL;
}

const char *const *cli_opt_all(struct cli *g, const char *name, int *n)
{
	int k = opt_of(g, name);

	*n = k >= 0 ? g->n_val[k] : 0;
	return k >= 0 ? g->val[k] : NULL;
}

int cli_opt_ull(struct cli *g, const char *name, unsigned long long min, unsigned long long max,
		const char *what, unsigned long long *v)
{
	const char *s = cli_opt(g, name);
	unsigned long long x;
	char *end;

	if (!s)
		return 0;
	errno = 0;
	x = strtoull(s, &end, 10);
	if ((!*s || *end || errno || *s == '-' || x < min || x > max) && max == ~0ULL)
		return cli_usage_err(g, "bad %s '%s' (%s, from %llu)", name, s, what, min);
	if (!*s || *end || errno || *s == '-' || x < min || x > max)
		return cli_usage_err(g, "bad %s '%s' (%s, %llu-%llu)", name, s, what, min, max);
	*v = x;
	return 0;
}

/* ---- commands of the command line itself ------------------------------------- */

static void version_text(json_object *doc)
{
	printf("fringe %s\n", jget_str(doc, "version"));
}

int cmd_version(struct cli *g, int argc, char **argv)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "version", jstr(FRINGE_VERSION));
	cli_print(g, o, version_text);
	json_object_put(o);
	return 0;
}

int cmd_help(struct cli *g, int argc, char **argv)
{
	char only[128] = "";
	json_object *doc;
	int rc = 0;

	for (int i = 1; i < argc; i++)	/* "fringe help policy load" */
		snprintf(only + strlen(only), sizeof(only) - strlen(only), "%s%s", i > 1 ? " " : "",
			 argv[i]);
	doc = help_doc(argc > 1 ? only : NULL);

	if (!json_object_array_length(json_object_object_get(doc, "commands"))) {
		cli_err("unknown command '%s'; try 'fringe help'", only);
		rc = EXIT_USAGE;
	} else if (g->json) {
		cli_print(g, doc, NULL);
	} else {
		cli_help(stdout, argc > 1 ? only : NULL);
	}
	json_object_put(doc);
	return rc;
}

int cli_open(struct cli *g, struct maps *m, unsigned int flags)
{
	int err = maps_open_sized(m, g->pin_dir, flags, g->sizes);
	long daemon;

	/* A writer while a daemon runs: serialised with it by the pin dir's
	 * lock (maps_lock), but the daemon puts its own files back in force. */
	if (!err && (flags & MAPS_CREATE) && (daemon = maps_daemon_holder(g->pin_dir)) &&
	    daemon != (long)getpid())
		pr_warn("a fringe daemon (pid %ld) manages %s: this change lasts until it reloads its own files (on their next change or SIGHUP)",
			daemon, g->pin_dir);
	return err;
}

static unsigned int live_ifindex(const char *name)
{
	return if_nametoindex(name);
}

struct compile_env cli_live_env(void)
{
	int n = libbpf_num_possible_cpus();

	return (struct compile_env){ .resolve_ifname = live_ifindex, .ncpus = n > 0 ? n : 0 };
}

const char *cli_proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmpv6";
	case 132: return "sctp";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

void cli_duration(unsigned long long s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%llus", s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh%llum", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%llud%lluh", s / 86400, s % 86400 / 3600);
}
