/* SPDX-License-Identifier: GPL-2.0 */
/* Unit tests of the command line: the table, prefixes, options, the generated docs, JSON results and errors.
 *
 * `test_cli --write-man docs/fringe.8 README.md` (make man) rewrites the man
 * page's SYNOPSIS and the README's command summary from the command table;
 * the tests fail while they differ. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "cli.h"

#define MAN_PAGE "docs/fringe.8"
#define README "README.md"
#define README_FROM "<!-- the command table (user/cmd/commands.c);"
#define README_TO "<!-- end of the command table -->"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	size_t n = 0;

	if (!f)
		return NULL;
	if (getdelim(&s, &n, '\0', f) < 0) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

static char *generated(void (*fn)(FILE *))
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	fn(f);
	fclose(f);
	return s;
}

/* The man page's SYNOPSIS: from ".SH SYNOPSIS" to the next ".SH". */
static char *man_section(char *page, char **end)
{
	char *start = strstr(page, ".SH SYNOPSIS\n"), *next;

	if (!start)
		return NULL;
	next = strstr(start + 1, "\n.SH ");
	*end = next ? next + 1 : start + strlen(start);
	return start;
}

/* The README's summary: the lines between its two marker lines. */
static char *readme_section(char *page, char **end)
{
	char *start = strstr(page, README_FROM);

	if (!start || !(start = strchr(start, '\n')))
		return NULL;
	start++;
	*end = strstr(start, README_TO);
	return *end ? start : NULL;
}

static void check_generated(const char *path, char *(*section)(char *, char **),
			    void (*fn)(FILE *))
{
	char *page = slurp(path), *want = generated(fn), *start, *end;

	if (!page)
		fail_msg("cannot read %s (run from the repository's root)", path);
	start = section(page, &end);
	if (!start)
		fail_msg("%s lacks the section generated from the command table", path);
	if ((size_t)(end - start) != strlen(want) || strncmp(start, want, end - start)) {
		fprintf(stderr, "want:\n%s\nhave:\n%.*s\n", want, (int)(end - start), start);
		fail_msg("%s differs from the command table: run 'make man'", path);
	}
	free(page);
	free(want);
}

static void test_man_synopsis_from_table(void **state)
{
	check_generated(MAN_PAGE, man_section, cli_man_synopsis);
}

static void test_readme_summary_from_table(void **state)
{
	check_generated(README, readme_section, cli_summary);
}

/* Every option of the table is in its command's usage line, once. */
static void test_usage_names_every_option(void **state)
{
	for (const struct cli_cmd *c = cli_commands; c->name; c++) {
		char *s = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&s, &n);

		cli_synopsis(f, c, false);
		fclose(f);
		assert_non_null(strstr(s, c->name));
		assert_non_null(c->help);
		for (const struct cli_opt *o = c->opts; o && o->name; o++) {
			char *hit = strstr(s, o->name);

			if (!hit)
				fail_msg("'%s' lacks %s: %s", c->name, o->name, s);
			assert_non_null(o->help);
		}
		free(s);
	}
}

/* ---- running the command line in-process ---- */

struct run {
	int rc;
	char *out;		/* stdout */
	char *err;		/* stderr */
};

static char *read_fd(int fd)
{
	char *s = calloc(1, 1 << 16);
	ssize_t k;
	size_t n = 0;

	lseek(fd, 0, SEEK_SET);
	while (n < (1 << 16) - 1 && (k = read(fd, s + n, (1 << 16) - 1 - n)) > 0)
		n += k;
	close(fd);
	return s;
}

static struct run run(const char *first, ...)
{
	char *argv[16] = { "fringe" };
	struct cli g = { .pin_dir = "/nonexistent/fringe-test-cli" };
	int argc = 1, out = fileno(tmpfile()), err = fileno(tmpfile()), so = dup(1), se = dup(2);
	struct run r;
	va_list ap;

	va_start(ap, first);
	for (const char *a = first; a && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(err, 2);
	r.rc = cli_main(&g, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	r.out = read_fd(out);
	r.err = read_fd(err);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* stdout holds exactly one JSON document (an object). */
static json_object *one_doc(const char *out)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, out, strlen(out));
	size_t used = json_tokener_get_parse_end(tok);

	if (!o || !json_object_is_type(o, json_type_object))
		fail_msg("not one JSON object on stdout: '%s'", out);
	if (out[used + strspn(out + used, " \t\n")])
		fail_msg("more than one document on stdout: '%s'", out);
	json_tokener_free(tok);
	return o;
}

static char *temp_file(const char *text)
{
	char *path = strdup("/tmp/fringe-test-cli.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static const char good_policy[] =
	"set sensors { 10.0.0.1, 10.0.0.2 }\n"
	"rule mqtt src @sensors proto tcp dport 1883 allow\n"
	"rule dns proto udp dport 53 allow\n"
	"default drop\n";

static void test_prefixes_resolve(void **state)
{
	char *p = temp_file(good_policy);
	struct run r = run("--json", "pol", "ch", p, NULL);
	json_object *d;

	assert_int_equal(r.rc, 0);
	d = one_doc(r.out);
	assert_int_equal(jget_u64(d, "rules"), 2);
	assert_int_equal(jget_u64(d, "sets"), 1);
	assert_string_equal(jget_str(d, "file"), p);
	json_object_put(d);
	run_free(&r);

	r = run("policy", "check", p, NULL);	/* text */
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, ": ok, 2 rules, 1 sets"));
	run_free(&r);

	r = run("pol", "--json", "check", p, NULL);	/* a global option between the words */
	assert_int_equal(r.rc, 0);
	d = one_doc(r.out);
	assert_int_equal(jget_u64(d, "rules"), 2);
	json_object_put(d);
	run_free(&r);

	r = run("--pin-dir=/nonexistent/x", "policy", "show", "--json", NULL);
	assert_int_equal(r.rc, 1);
	d = one_doc(r.out);
	assert_non_null(strstr(jget_str(d, "error"), "/nonexistent/x"));
	json_object_put(d);
	run_free(&r);

	r = run("s", NULL);	/* stats, sample or status */
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_non_null(strstr(r.err, "ambiguous command 's'"));
	run_free(&r);

	r = run("policy", "frob", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_non_null(strstr(r.err, "unknown policy command 'frob'"));
	run_free(&r);
	unlink(p);
	free(p);
}

static void test_options_checked_against_table(void **state)
{
	char *p = temp_file(good_policy);
	struct run r = run("policy", "check", p, "--bogus", NULL);
	json_object *d;

	assert_int_equal(r.rc, EXIT_USAGE);
	assert_non_null(strstr(r.err, "unknown option '--bogus'"));
	assert_non_null(strstr(r.err, "Usage: fringe policy check FILE"));
	run_free(&r);

	/* a short option is one too, not a file name */
	r = run("policy", "check", "-x", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_non_null(strstr(r.err, "unknown option '-x'"));
	run_free(&r);

	r = run("--json", "learn", "--duration", "5", NULL);	/* --output is required */
	assert_int_equal(r.rc, EXIT_USAGE);
	d = one_doc(r.out);
	assert_non_null(strstr(jget_str(d, "error"), "needs --output"));
	assert_string_equal(jget_str(d, "usage"), "fringe learn --duration SECONDS --output FILE");
	json_object_put(d);
	run_free(&r);

	r = run("flows", "--enable", "--disable", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_non_null(strstr(r.err, "--enable and --disable exclude each other"));
	run_free(&r);

	r = run("policy", "load", p, "--confirm", "0", "--json", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	d = one_doc(r.out);
	assert_non_null(strstr(jget_str(d, "error"), "bad --confirm '0'"));
	json_object_put(d);
	run_free(&r);

	r = run("policy", "load", p, "--confirm=x", NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	run_free(&r);

	r = run("policy", "check", NULL);	/* FILE missing */
	assert_int_equal(r.rc, EXIT_USAGE);
	assert_non_null(strstr(r.err, "needs FILE"));
	run_free(&r);

	r = run("policy", "check", p, p, NULL);
	assert_int_equal(r.rc, EXIT_USAGE);
	run_free(&r);

	r = run("policy", "load", "--help", NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "Usage: fringe policy load FILE [--confirm SECONDS]"));
	run_free(&r);
	unlink(p);
	free(p);
}

/* A file's errors under --json: {"errors": [{file, line, col, message}...]}, all of them. */
static void test_file_errors_as_json(void **state)
{
	char *p = temp_file("rule a proto tcp dport 99999 allow\nrule b src @nosuch allow\ndefault drop\n");
	struct run r = run("--json", "policy", "check", p, NULL);
	json_object *d, *errs, *e;

	assert_int_equal(r.rc, 1);
	d = one_doc(r.out);
	errs = json_object_object_get(d, "errors");
	assert_non_null(errs);
	assert_int_equal(json_object_array_length(errs), 2);
	e = json_object_array_get_idx(errs, 0);
	assert_string_equal(jget_str(e, "file"), p);
	assert_int_equal(jget_u64(e, "line"), 1);
	assert_true(jget_u64(e, "col") > 1);
	assert_true(strlen(jget_str(e, "message")) > 0);
	assert_int_equal(jget_u64(json_object_array_get_idx(errs, 1), "line"), 2);
	assert_non_null(strstr(jget_str(d, "error"), "has 2 errors"));
	/* ... besides the usual stderr lines */
	assert_non_null(strstr(r.err, ":1:"));
	assert_non_null(strstr(r.err, "fringe: policy"));
	json_object_put(d);
	run_free(&r);

	r = run("--json", "nodes", "check", "/nonexistent/nodes", NULL);
	assert_int_equal(r.rc, 1);
	d = one_doc(r.out);
	assert_non_null(strstr(jget_str(d, "error"), "/nonexistent/nodes"));
	json_object_put(d);
	run_free(&r);
	unlink(p);
	free(p);
}

/* Every command accepts --json: a failure (here: no pin dir) is one {"error"} document. */
static void test_every_command_json(void **state)
{
	for (const struct cli_cmd *c = cli_commands; c->name; c++) {
		char name[64], *words[3] = { NULL }, *save = NULL;
		struct run r;
		json_object *d;
		int n = 0;

		snprintf(name, sizeof(name), "%s", c->name);
		for (char *w = strtok_r(name, " ", &save); w && n < 2; w = strtok_r(NULL, " ", &save))
			words[n++] = w;
		/* No arguments: a usage error, or (no pin dir) an error, or a result. */
		r = words[1] ? run(words[0], words[1], "--json", NULL) : run(words[0], "--json", NULL);
		if (!*r.out)
			fail_msg("'fringe %s --json' printed nothing on stdout (exit %d): %s", c->name,
				 r.rc, r.err);
		d = one_doc(r.out);
		if (r.rc)
			assert_true(strlen(jget_str(d, "error")) > 0);
		json_object_put(d);
		run_free(&r);
	}
}

static void test_help_and_version_json(void **state)
{
	struct run r = run("--json", "help", NULL);
	json_object *d = one_doc(r.out), *cmds = json_object_object_get(d, "commands");
	size_t n = 0;

	for (const struct cli_cmd *c = cli_commands; c->name; c++)
		n++;
	assert_int_equal(r.rc, 0);
	assert_int_equal(json_object_array_length(cmds), n);
	json_object_put(d);
	run_free(&r);

	r = run("help", "pol", NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "fringe policy load FILE"));
	assert_null(strstr(r.out, "fringe nodes"));
	run_free(&r);

	r = run("vers", "--json", NULL);
	d = one_doc(r.out);
	/* not FRINGE_VERSION: this file and cli.c may be built at different commits */
	assert_true(strlen(jget_str(d, "version")) > 0);
	json_object_put(d);
	run_free(&r);
}

static int write_section(const char *path, char *(*section)(char *, char **), void (*fn)(FILE *))
{
	char *page = slurp(path), *want = generated(fn), *start, *end;
	FILE *f;

	if (!page || !(start = section(page, &end))) {
		fprintf(stderr, "test_cli: no generated section in %s\n", path);
		return 1;
	}
	f = fopen(path, "w");
	if (!f || fprintf(f, "%.*s%s%s", (int)(start - page), page, want, end) < 0 || fclose(f)) {
		perror(path);
		return 1;
	}
	free(page);
	free(want);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_man_synopsis_from_table),
		cmocka_unit_test(test_readme_summary_from_table),
		cmocka_unit_test(test_usage_names_every_option),
		cmocka_unit_test(test_prefixes_resolve),
		cmocka_unit_test(test_options_checked_against_table),
		cmocka_unit_test(test_file_errors_as_json),
		cmocka_unit_test(test_every_command_json),
		cmocka_unit_test(test_help_and_version_json),
	};

	if (argc == 4 && !strcmp(argv[1], "--write-man"))
		return write_section(argv[2], man_section, cli_man_synopsis) ||
		       write_section(argv[3], readme_section, cli_summary);
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
