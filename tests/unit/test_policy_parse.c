/* SPDX-License-Identifier: GPL-2.0 */
/* Unit tests of the lexer, the diagnostics and the policy parser (docs/policy.md). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "lex.h"
#include "nodes.h"
#include "policy.h"
#include "refuse_fifo.h"
#include "file.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ------------------------------------------------------------- */

static void parse_ok(const char *text, struct policy *p)
{
	struct diags d = { 0 };
	int rc = policy_parse(text, strlen(text), &d, p);

	if (rc || d.n) {
		fprintf(stderr, "unexpected errors in:\n%s\n", text);
		diags_print(&d, stderr);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	diags_free(&d);
}

struct err_case {
	const char *text;
	int line, col;
	const char *msg;	/* substring of the one expected message */
};

static bool policy_is_zero(const struct policy *p)
{
	return !p->sets && !p->n_sets && !p->devices && !p->n_devices && !p->rules && !p->n_rules &&
	       !p->has_default && p->default_action == FRINGE_ACT_ALLOW;
}

/* The text must fail with exactly one error, at line:col, quoting msg. */
static void expect_error_len(const char *text, size_t len, int line, int col, const char *msg)
{
	struct diags d = { 0 };
	struct policy p;
	int rc;

	memset(&p, 0xa5, sizeof(p));	/* must be zeroed on failure */
	rc = policy_parse(text, len, &d, &p);
	if (rc != -EINVAL || d.n != 1 || d.v[0].loc.line != line || d.v[0].loc.col != col ||
	    !strstr(d.v[0].msg, msg)) {
		fprintf(stderr, "input:\n%s\nwant exactly <input>:%d:%d: error: ...%s...\ngot rc=%d:\n",
			text, line, col, msg, rc);
		diags_print(&d, stderr);
		fail();
	}
	assert_true(policy_is_zero(&p));
	diags_free(&d);
}

static void expect_error(const char *text, int line, int col, const char *msg)
{
	expect_error_len(text, strlen(text), line, col, msg);
}

static void expect_errors(const struct err_case *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		expect_error(v[i].text, v[i].line, v[i].col, v[i].msg);
}

static void assert_loc(struct pol_loc loc, int line, int col)
{
	assert_int_equal(loc.line, line);
	assert_int_equal(loc.col, col);
}

static void assert_tok(const struct lex_tok *t, enum lex_kind kind, const char *s, int line, int col)
{
	assert_int_equal(t->kind, kind);
	assert_string_equal(t->s, s);
	assert_int_equal(t->len, strlen(s));
	assert_loc(t->loc, line, col);
}

static int midx(uint32_t bit)
{
	return __builtin_ctz(bit);
}

/* ---- lexer ------------------------------------------------------------- */

static void test_lex_tokens(void **state)
{
	const char *text = "set a { 10.0.0.0/8, 2001:db8::/32,aa:bb:cc:dd:ee:ff }\n"
			   "rule r dport 80,443 sport 1-4 src @set limit 100/s\n";
	struct lex_file f;
	const struct lex_tok *t;

	assert_int_equal(lex_statements(text, strlen(text), NULL, &f), 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.stmt[0].n, 9);
	t = f.stmt[0].tok;
	assert_tok(&t[0], LEX_WORD, "set", 1, 1);
	assert_tok(&t[1], LEX_WORD, "a", 1, 5);
	assert_tok(&t[2], LEX_LBRACE, "{", 1, 7);
	assert_tok(&t[3], LEX_WORD, "10.0.0.0/8", 1, 9);
	assert_tok(&t[4], LEX_COMMA, ",", 1, 19);
	assert_tok(&t[5], LEX_WORD, "2001:db8::/32", 1, 21);
	assert_tok(&t[6], LEX_COMMA, ",", 1, 34);
	assert_tok(&t[7], LEX_WORD, "aa:bb:cc:dd:ee:ff", 1, 35);
	assert_tok(&t[8], LEX_RBRACE, "}", 1, 53);
	assert_int_equal(f.stmt[1].n, 12);
	t = f.stmt[1].tok;
	assert_tok(&t[3], LEX_WORD, "80", 2, 14);
	assert_tok(&t[4], LEX_COMMA, ",", 2, 16);
	assert_tok(&t[5], LEX_WORD, "443", 2, 17);
	assert_tok(&t[7], LEX_WORD, "1-4", 2, 27);
	assert_tok(&t[9], LEX_WORD, "@set", 2, 35);
	assert_tok(&t[11], LEX_WORD, "100/s", 2, 46);
	lex_free(&f);
}

static void test_lex_comments(void **state)
{
	const char *text = "# only a comment\n\n   \nrule a allow # trailing } {\nfoo#bar\n\t# indented\n";
	struct lex_file f;

	assert_int_equal(lex_statements(text, strlen(text), NULL, &f), 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.stmt[0].n, 3);
	assert_tok(&f.stmt[0].tok[2], LEX_WORD, "allow", 4, 8);
	assert_int_equal(f.stmt[1].n, 1);
	assert_tok(&f.stmt[1].tok[0], LEX_WORD, "foo", 5, 1);
	lex_free(&f);

	assert_int_equal(lex_statements("", 0, NULL, &f), 0);
	assert_int_equal(f.n, 0);
	assert_null(f.stmt);
	lex_free(&f);
}

static void test_lex_continuation(void **state)
{
	const char *text = "a \\\n b\\\n\t c \\   # why not\n  d\ne\n";
	struct lex_file f;

	assert_int_equal(lex_statements(text, strlen(text), NULL, &f), 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.stmt[0].n, 4);
	assert_tok(&f.stmt[0].tok[0], LEX_WORD, "a", 1, 1);
	assert_tok(&f.stmt[0].tok[1], LEX_WORD, "b", 2, 2);	/* `\` ends the word */
	assert_tok(&f.stmt[0].tok[2], LEX_WORD, "c", 3, 3);
	assert_tok(&f.stmt[0].tok[3], LEX_WORD, "d", 4, 3);
	assert_tok(&f.stmt[1].tok[0], LEX_WORD, "e", 5, 1);
	lex_free(&f);

	/* a `\` that is not last is a word character; one in a comment does nothing */
	text = "a\\b c\\ d # e \\\nf\n";
	assert_int_equal(lex_statements(text, strlen(text), NULL, &f), 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.stmt[0].n, 3);
	assert_tok(&f.stmt[0].tok[0], LEX_WORD, "a\\b", 1, 1);
	assert_tok(&f.stmt[0].tok[1], LEX_WORD, "c\\", 1, 5);
	assert_tok(&f.stmt[1].tok[0], LEX_WORD, "f", 2, 1);
	lex_free(&f);

	/* continued onto a blank line: the statement ends there; `\` at EOF is fine */
	text = "a \\\n\nb \\";
	assert_int_equal(lex_statements(text, strlen(text), NULL, &f), 0);
	assert_int_equal(f.n, 2);
	assert_tok(&f.stmt[0].tok[0], LEX_WORD, "a", 1, 1);
	assert_int_equal(f.stmt[1].n, 1);
	assert_tok(&f.stmt[1].tok[0], LEX_WORD, "b", 3, 1);
	lex_free(&f);
}

static void test_lex_crlf_bom(void **state)
{
	const char *text = "\xef\xbb\xbf" "a b \\\r\nc\r\nd\r\n";
	struct lex_file f;

	assert_int_equal(lex_statements(text, strlen(text), NULL, &f), 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.stmt[0].n, 3);
	assert_tok(&f.stmt[0].tok[0], LEX_WORD, "a", 1, 1);
	assert_tok(&f.stmt[0].tok[2], LEX_WORD, "c", 2, 1);
	assert_tok(&f.stmt[1].tok[0], LEX_WORD, "d", 3, 1);
	lex_free(&f);
}

static void test_lex_utf8(void **state)
{
	static const struct {
		const char *text;
		int col;
		const char *msg;
	} bad[] = {
		{ "ok x\x80y", 5, "invalid UTF-8 byte 0x80" },		/* lone continuation */
		{ "ok \xc0\xaf", 4, "invalid UTF-8 byte 0xc0" },	/* overlong '/' */
		{ "ok \xe0\x80\xaf", 4, "invalid UTF-8 byte 0xe0" },	/* overlong */
		{ "ok \xed\xa0\x80", 4, "invalid UTF-8 byte 0xed" },	/* surrogate */
		{ "ok \xf4\x90\x80\x80", 4, "invalid UTF-8 byte 0xf4" }, /* above U+10FFFF */
		{ "ok \xe2\x82", 4, "invalid UTF-8 byte 0xe2" },	/* truncated */
		{ "ok # \xff in a comment", 6, "invalid UTF-8 byte 0xff" },
		{ "ok \x01", 4, "control character 0x01" },
		{ "ok \x7f", 4, "control character 0x7f" },
	};
	struct diags d = { 0 };
	struct lex_file f;
	const char *good = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n";
	size_t i;

	assert_int_equal(lex_statements(good, strlen(good), &d, &f), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(f.n, 1);
	assert_tok(&f.stmt[0].tok[0], LEX_WORD, "caf\xc3\xa9", 1, 1);
	assert_tok(&f.stmt[0].tok[1], LEX_WORD, "\xe2\x82\xac", 1, 7);
	assert_tok(&f.stmt[0].tok[2], LEX_WORD, "\xf0\x9f\x98\x80", 1, 11);
	lex_free(&f);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[64];

		snprintf(text, sizeof(text), "first\n%s\nlast", bad[i].text);
		assert_int_equal(lex_statements(text, strlen(text), &d, &f), -EINVAL);
		assert_int_equal(d.n, 1);
		assert_loc(d.v[0].loc, 2, bad[i].col);
		assert_non_null(strstr(d.v[0].msg, bad[i].msg));
		/* the bad statement is dropped, the others kept */
		assert_int_equal(f.n, 2);
		assert_string_equal(f.stmt[0].tok[0].s, "first");
		assert_string_equal(f.stmt[1].tok[0].s, "last");
		lex_free(&f);
		diags_free(&d);
	}

	/* NUL, and a whole continued statement dropped with one report per line */
	assert_int_equal(lex_statements("a \\\nb\0\0\nc", 9, &d, &f), -EINVAL);
	assert_int_equal(d.n, 1);
	assert_loc(d.v[0].loc, 2, 2);
	assert_string_equal(d.v[0].msg, "NUL byte in input");
	assert_int_equal(f.n, 1);
	assert_string_equal(f.stmt[0].tok[0].s, "c");
	lex_free(&f);
	diags_free(&d);
}

/* ---- diagnostics --------------------------------------------------------- */

static void test_diags_print(void **state)
{
	struct diags d = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	diags_add(&d, (struct pol_loc){ 3, 2 }, "third %d", 3);
	diags_add(&d, (struct pol_loc){ 1, 9 }, "second");
	diags_add(&d, (struct pol_loc){ 1, 1 }, "first '%s'", "x");
	diags_add(&d, (struct pol_loc){ 3, 2 }, "fourth, same place");
	diags_add(NULL, (struct pol_loc){ 1, 1 }, "ignored");
	assert_int_equal(d.n, 4);

	out = open_memstream(&buf, &len);
	assert_non_null(out);
	diags_print(&d, out);
	d.file = "p.pol";
	diags_print(&d, out);
	fclose(out);
	assert_string_equal(buf,
			    "<input>:1:1: error: first 'x'\n"
			    "<input>:1:9: error: second\n"
			    "<input>:3:2: error: third 3\n"
			    "<input>:3:2: error: fourth, same place\n"
			    "p.pol:1:1: error: first 'x'\n"
			    "p.pol:1:9: error: second\n"
			    "p.pol:3:2: error: third 3\n"
			    "p.pol:3:2: error: fourth, same place\n");
	free(buf);
	diags_free(&d);
	assert_null(d.v);
	assert_int_equal(d.n, 0);
}

/* Errors beyond the cap are counted, not kept: the first 100 by place in
 * full, then one line with how many more; the count stays exact. */
/* The address space in use now, from /proc/self/statm. */
static size_t vm_size(void)
{
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lu", &pages), 1);
	fclose(f);
	return pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* One diagnostic, at line:col, saying the file holds too many tokens. */
static void assert_token_cap(struct diags *d, int line, int col)
{
	char want[64];

	assert_int_equal(d->n, 1);
	assert_int_equal(d->v[0].loc.line, line);
	assert_int_equal(d->v[0].loc.col, col);
	snprintf(want, sizeof(want), "more than %u words and punctuation", LEX_MAX_TOKENS);
	assert_non_null(strstr(d->v[0].msg, want));
	diags_free(d);
}

/* 16 MiB of commas (a token a byte) is refused at the first token past
 * LEX_MAX_TOKENS, in a few MiB more than the file itself: it took 24 bytes
 * a token before (416 MB), and ENOMEM under this limit. */
static void test_lex_token_cap(void **state)
{
	const size_t len = 16u << 20;
	const char head[] = "rule a allow\n";	/* three tokens, then a line of commas */
	struct rlimit old, lim;
	struct diags d = { 0 };
	struct lex_file f;
	struct policy p;
	struct nodes nd;
	struct config c;
	char *text = malloc(len);

	assert_non_null(text);
	memcpy(text, head, sizeof(head) - 1);
	memset(text + sizeof(head) - 1, ',', len - (sizeof(head) - 1));
	getrlimit(RLIMIT_AS, &old);
	lim.rlim_cur = vm_size() + (48u << 20);
	lim.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_AS, &lim), 0);
	int lexed = lex_statements(text, len, &d, &f);
	int parsed = policy_parse(text, len, NULL, &p);
	int nodes = nodes_parse(text, len, NULL, &nd);
	int config = config_parse(text, len, ".", NULL, &c);
	setrlimit(RLIMIT_AS, &old);
	assert_int_equal(lexed, -E2BIG);
	assert_int_equal(f.n, 0);
	assert_null(f.stmt);
	assert_token_cap(&d, 2, LEX_MAX_TOKENS - 3 + 1);
	/* every language refuses it with that one error */
	assert_int_equal(parsed, -EINVAL);
	assert_int_equal(nodes, -EINVAL);
	assert_int_equal(config, -EINVAL);
	assert_int_equal(policy_parse(text, len, &d, &p), -EINVAL);
	assert_token_cap(&d, 2, LEX_MAX_TOKENS - 3 + 1);
	assert_int_equal(nodes_parse(text, len, &d, &nd), -EINVAL);
	assert_token_cap(&d, 2, LEX_MAX_TOKENS - 3 + 1);
	assert_int_equal(config_parse(text, len, ".", &d, &c), -EINVAL);
	assert_token_cap(&d, 2, LEX_MAX_TOKENS - 3 + 1);

	/* LEX_MAX_TOKENS exactly is a file the lexer takes */
	assert_int_equal(lex_statements(text, sizeof(head) - 1 + LEX_MAX_TOKENS - 3, &d, &f), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.stmt[1].n, LEX_MAX_TOKENS - 3);
	assert_tok(&f.stmt[1].tok[f.stmt[1].n - 1], LEX_COMMA, ",", 2, LEX_MAX_TOKENS - 3);
	lex_free(&f);
	free(text);
}

static void test_diags_cap(void **state)
{
	struct diags d = { .file = "p.pol" };
	char *buf = NULL, *line;
	size_t len = 0, lines = 0;
	FILE *out;
	int i;

	for (i = 250; i >= 1; i--)	/* added last-first: the kept ones are still the first */
		diags_add(&d, (struct pol_loc){ i, 1 }, "error on line %d", i);
	assert_int_equal(d.n, 250);
	assert_true(d.cap <= 100);	/* memory bounded by the cap, not by the errors */
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	diags_print(&d, out);
	fclose(out);
	for (line = buf; (line = strchr(line, '\n')); line++)
		lines++;
	assert_int_equal(lines, 101);
	assert_non_null(strstr(buf, "p.pol:1:1: error: error on line 1\n"));
	assert_non_null(strstr(buf, "p.pol:100:1: error: error on line 100\n"));
	assert_null(strstr(buf, "error on line 101\n"));
	assert_non_null(strstr(buf, "p.pol: 150 more errors not shown\n"));
	free(buf);
	diags_free(&d);

	/* a parser fed 200,000 bad lines: exact count, bounded list */
	{
		size_t n = 200000;
		char *text = malloc(2 * n);
		struct policy p;

		assert_non_null(text);
		for (size_t k = 0; k < n; k++)
			memcpy(text + 2 * k, "x\n", 2);
		assert_int_equal(policy_parse(text, 2 * n, &d, &p), -EINVAL);
		assert_int_equal(d.n, n);
		assert_true(d.cap <= 100);
		assert_int_equal(d.v[0].loc.line, 1);
		diags_free(&d);
		free(text);
	}
}

/* ---- valid policies ------------------------------------------------------ */

static void test_sets(void **state)
{
	struct policy p;
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	parse_ok("set nets { 10.0.0.0/8, 2001:db8::/32, 192.168.1.7, 10.0.0.0/8, \\\n"
		 "           ::1, 192.168.0.0/16 }\n"
		 "set ports { 8080, 80-90, 443, 85, 91, 0 }\n"
		 "set macs { AA:bb:cc:dd:ee:ff, 00:11:22:33:44:55, aa:bb:cc:dd:ee:ff, }\n", &p);
	assert_int_equal(p.n_sets, 3);

	assert_string_equal(p.sets[0].name, "nets");
	assert_int_equal(p.sets[0].kind, POL_SET_PREFIX);
	assert_loc(p.sets[0].loc, 1, 5);
	assert_int_equal(p.sets[0].n_pfx, 5);	/* duplicate 10.0.0.0/8 removed, v4 before v6 */
	assert_int_equal(p.sets[0].pfx[0].family, 4);
	assert_int_equal(p.sets[0].pfx[0].len, 8);
	assert_memory_equal(p.sets[0].pfx[0].addr, "\x0a\x00\x00\x00", 4);
	assert_int_equal(p.sets[0].pfx[1].len, 16);
	assert_memory_equal(p.sets[0].pfx[1].addr, "\xc0\xa8\x00\x00", 4);
	assert_int_equal(p.sets[0].pfx[2].len, 32);
	assert_memory_equal(p.sets[0].pfx[2].addr, "\xc0\xa8\x01\x07", 4);
	assert_int_equal(p.sets[0].pfx[3].family, 6);
	assert_int_equal(p.sets[0].pfx[3].len, 128);
	assert_int_equal(p.sets[0].pfx[3].addr[15], 1);
	assert_int_equal(p.sets[0].pfx[4].family, 6);
	assert_int_equal(p.sets[0].pfx[4].len, 32);
	assert_memory_equal(p.sets[0].pfx[4].addr, v6, 16);

	assert_int_equal(p.sets[1].kind, POL_SET_PORT);
	assert_int_equal(p.sets[1].n_ports, 4);
	assert_int_equal(p.sets[1].ports[0].lo, 0);
	assert_int_equal(p.sets[1].ports[0].hi, 0);
	assert_int_equal(p.sets[1].ports[1].lo, 80);
	assert_int_equal(p.sets[1].ports[1].hi, 91);	/* 91 is adjacent: merged */
	assert_int_equal(p.sets[1].ports[2].lo, 443);
	assert_int_equal(p.sets[1].ports[3].lo, 8080);
	assert_int_equal(p.sets[1].ports[3].hi, 8080);

	assert_int_equal(p.sets[2].kind, POL_SET_MAC);
	assert_int_equal(p.sets[2].n_macs, 2);
	assert_memory_equal(p.sets[2].macs[0], "\x00\x11\x22\x33\x44\x55", 6);
	assert_memory_equal(p.sets[2].macs[1], "\xaa\xbb\xcc\xdd\xee\xff", 6);
	policy_free(&p);
	assert_true(policy_is_zero(&p));
}

static void test_devices(void **state)
{
	struct policy p;

	parse_ok("device plc-1 mac 00:11:22:33:44:55 ip 10.0.0.5 ip fe80::5 class plc\n"
		 "device cam.2 class camera mac 00:11:22:33:44:66\n"
		 "device bare mac 00:11:22:33:44:77\n", &p);
	assert_int_equal(p.n_devices, 3);
	assert_string_equal(p.devices[0].name, "plc-1");
	assert_loc(p.devices[0].loc, 1, 8);
	assert_memory_equal(p.devices[0].mac, "\x00\x11\x22\x33\x44\x55", 6);
	assert_int_equal(p.devices[0].n_ips, 2);
	assert_int_equal(p.devices[0].ips[0].family, 4);
	assert_int_equal(p.devices[0].ips[0].len, 32);
	assert_memory_equal(p.devices[0].ips[0].addr, "\x0a\x00\x00\x05", 4);
	assert_int_equal(p.devices[0].ips[1].family, 6);
	assert_int_equal(p.devices[0].ips[1].len, 128);
	assert_int_equal(p.devices[0].ips[1].addr[0], 0xfe);
	assert_int_equal(p.devices[0].ips[1].addr[15], 5);
	assert_string_equal(p.devices[0].class_name, "plc");
	assert_string_equal(p.devices[1].class_name, "camera");
	assert_memory_equal(p.devices[1].mac, "\x00\x11\x22\x33\x44\x66", 6);
	assert_int_equal(p.devices[2].n_ips, 0);
	assert_null(p.devices[2].ips);
	assert_string_equal(p.devices[2].class_name, "");
	policy_free(&p);
}

static void test_rule_every_match(void **state)
{
	struct policy p;
	const struct pol_rule *r;

	parse_ok("device d1 mac 02:00:00:00:00:01 class sensor\n"
		 "rule all in eth0 src 10.1.0.0/16 dst 2001:db8::1 proto tcp sport 1024-65535 \\\n"
		 "    dport 502 mac 02:00:00:00:00:01 device d1 class sensor vlan 4095 \\\n"
		 "    app modbus modbus-fc 1-4,6,16 allow\n"
		 "rule m mqtt-type connect,publish,14 proto 6 allow\n", &p);
	assert_int_equal(p.n_rules, 2);
	r = &p.rules[0];
	assert_string_equal(r->name, "all");
	assert_loc(r->loc, 2, 6);
	assert_int_equal(r->matches, POL_M_IN | POL_M_SRC | POL_M_DST | POL_M_PROTO | POL_M_SPORT |
			 POL_M_DPORT | POL_M_MAC | POL_M_DEVICE | POL_M_CLASS | POL_M_VLAN | POL_M_APP |
			 POL_M_MODBUS_FC);
	assert_string_equal(r->in_iface, "eth0");
	assert_loc(r->match_loc[midx(POL_M_IN)], 2, 10);
	assert_int_equal(r->n_src, 1);
	assert_int_equal(r->src_set, -1);
	assert_int_equal(r->src[0].family, 4);
	assert_int_equal(r->src[0].len, 16);
	assert_memory_equal(r->src[0].addr, "\x0a\x01\x00\x00", 4);
	assert_loc(r->match_loc[midx(POL_M_SRC)], 2, 18);
	assert_int_equal(r->n_dst, 1);
	assert_int_equal(r->dst[0].family, 6);
	assert_int_equal(r->dst[0].len, 128);
	assert_loc(r->match_loc[midx(POL_M_DST)], 2, 34);
	assert_int_equal(r->proto, 6);
	assert_loc(r->match_loc[midx(POL_M_PROTO)], 2, 50);
	assert_int_equal(r->n_sport, 1);
	assert_int_equal(r->sport[0].lo, 1024);
	assert_int_equal(r->sport[0].hi, 65535);
	assert_loc(r->match_loc[midx(POL_M_SPORT)], 2, 60);
	assert_int_equal(r->n_dport, 1);
	assert_int_equal(r->dport[0].lo, 502);
	assert_int_equal(r->dport[0].hi, 502);
	assert_loc(r->match_loc[midx(POL_M_DPORT)], 3, 5);
	assert_int_equal(r->n_mac, 1);
	assert_memory_equal(r->mac[0], "\x02\x00\x00\x00\x00\x01", 6);
	assert_loc(r->match_loc[midx(POL_M_MAC)], 3, 15);
	assert_int_equal(r->device, 0);
	assert_loc(r->match_loc[midx(POL_M_DEVICE)], 3, 37);
	assert_string_equal(r->class_name, "sensor");
	assert_loc(r->match_loc[midx(POL_M_CLASS)], 3, 47);
	assert_int_equal(r->vlan, 4095);
	assert_loc(r->match_loc[midx(POL_M_VLAN)], 3, 60);
	assert_int_equal(r->app, FRINGE_APP_MODBUS);
	assert_loc(r->match_loc[midx(POL_M_APP)], 4, 5);
	assert_loc(r->match_loc[midx(POL_M_MODBUS_FC)], 4, 16);
	/* codes 1, 2, 3, 4, 6 in byte 0; 16 is bit 0 of byte 2 */
	assert_int_equal(r->modbus_fc[0], 0x5e);
	assert_int_equal(r->modbus_fc[1], 0);
	assert_int_equal(r->modbus_fc[2], 0x01);
	assert_int_equal(r->action, FRINGE_ACT_ALLOW);
	assert_loc(r->action_loc, 4, 35);
	assert_false(r->limit.on);
	assert_int_equal(r->sample_rate, 0);

	/* mqtt-type implies app mqtt, located at the mqtt-type keyword */
	r = &p.rules[1];
	assert_int_equal(r->matches, POL_M_MQTT_TYPE | POL_M_APP | POL_M_PROTO);
	assert_int_equal(r->app, FRINGE_APP_MQTT);
	assert_int_equal(r->mqtt_types, (1 << 1) | (1 << 3) | (1 << 14));
	assert_loc(r->match_loc[midx(POL_M_APP)], 5, 8);
	assert_int_equal(r->device, -1);
	policy_free(&p);
}

static void test_rule_defaults(void **state)
{
	struct policy p;
	const struct pol_rule *r;

	parse_ok("rule any drop\n", &p);
	r = &p.rules[0];
	assert_int_equal(r->matches, 0);
	assert_int_equal(r->action, FRINGE_ACT_DROP);
	assert_int_equal(r->device, -1);
	assert_int_equal(r->src_set, -1);
	assert_int_equal(r->dport_set, -1);
	assert_null(r->src);
	assert_null(r->dport);
	assert_false(p.has_default);
	assert_int_equal(p.default_action, FRINGE_ACT_ALLOW);
	policy_free(&p);

	parse_ok("default drop\n", &p);
	assert_true(p.has_default);
	assert_int_equal(p.default_action, FRINGE_ACT_DROP);
	policy_free(&p);

	parse_ok("default allow\n", &p);
	assert_true(p.has_default);
	assert_int_equal(p.default_action, FRINGE_ACT_ALLOW);
	policy_free(&p);
}

static void test_rule_set_refs(void **state)
{
	struct policy p;
	const struct pol_rule *r;

	/* used before they are declared, devices and sets alike */
	parse_ok("rule r src @nets dst @nets sport @ports dport @ports mac @macs device cam allow\n"
		 "rule s dport @ports proto udp drop\n"
		 "set macs { 00:00:00:00:00:02, 00:00:00:00:00:01 }\n"
		 "set nets { 10.0.0.0/8, ::/0 }\n"
		 "set ports { 53, 123 }\n"
		 "device cam mac 00:00:00:00:00:09\n", &p);
	r = &p.rules[0];
	assert_int_equal(r->src_set, 1);
	assert_ptr_equal(r->src, p.sets[1].pfx);	/* shared, not copied */
	assert_int_equal(r->n_src, 2);
	assert_int_equal(r->dst_set, 1);
	assert_int_equal(r->n_dst, 2);
	assert_int_equal(r->src[1].family, 6);
	assert_int_equal(r->src[1].len, 0);
	assert_int_equal(r->sport_set, 2);
	assert_int_equal(r->dport_set, 2);
	assert_int_equal(r->n_dport, 2);
	assert_int_equal(r->dport[0].lo, 53);
	assert_int_equal(r->dport[1].lo, 123);
	assert_int_equal(r->mac_set, 0);
	assert_int_equal(r->n_mac, 2);
	assert_memory_equal(r->mac[0], "\x00\x00\x00\x00\x00\x01", 6);
	assert_int_equal(r->device, 0);
	assert_int_equal(p.rules[1].dport_set, 2);
	assert_int_equal(p.rules[1].proto, 17);
	policy_free(&p);
}

static void test_verdicts(void **state)
{
	struct policy p;

	parse_ok("rule a allow\n"
		 "rule b drop\n"
		 "rule c steer iface eth1\n"
		 "rule d steer cpu 3\n"
		 "rule e steer node node-2\n"
		 "rule f src 10.0.0.0/8 steer overlay\n", &p);
	assert_int_equal(p.n_rules, 6);
	assert_int_equal(p.rules[0].action, FRINGE_ACT_ALLOW);
	assert_int_equal(p.rules[1].action, FRINGE_ACT_DROP);
	assert_int_equal(p.rules[2].action, FRINGE_ACT_STEER_IFACE);
	assert_string_equal(p.rules[2].steer_iface, "eth1");
	assert_int_equal(p.rules[3].action, FRINGE_ACT_STEER_CPU);
	assert_int_equal(p.rules[3].steer_cpu, 3);
	assert_int_equal(p.rules[4].action, FRINGE_ACT_STEER_NODE);
	assert_string_equal(p.rules[4].steer_node, "node-2");
	assert_int_equal(p.rules[5].action, FRINGE_ACT_STEER_OVERLAY);
	assert_loc(p.rules[5].action_loc, 6, 23);
	policy_free(&p);
}

static void test_modifiers(void **state)
{
	struct policy p;
	const struct pol_rule *r;

	parse_ok("rule a allow limit 100/s\n"
		 "rule b allow limit 5/min burst 10 per-src\n"
		 "rule c allow limit 10mbit/s per-src burst 15000 sample 1/100\n"
		 "rule d allow sample 1/1 limit 1kbit/s\n"
		 "rule e drop limit 2Gbit/s\n", &p);
	r = &p.rules[0];
	assert_true(r->limit.on);
	assert_int_equal(r->limit.unit, POL_RATE_PPS);
	assert_int_equal(r->limit.rate, 100);
	assert_int_equal(r->limit.burst, 0);
	assert_false(r->limit.per_src);
	r = &p.rules[1];
	assert_int_equal(r->limit.unit, POL_RATE_PPM);
	assert_int_equal(r->limit.rate, 5);
	assert_int_equal(r->limit.burst, 10);
	assert_true(r->limit.per_src);
	r = &p.rules[2];
	assert_int_equal(r->limit.unit, POL_RATE_BPS);
	assert_int_equal(r->limit.rate, 10000000);
	assert_int_equal(r->limit.burst, 15000);
	assert_true(r->limit.per_src);
	assert_int_equal(r->sample_rate, 100);
	r = &p.rules[3];
	assert_int_equal(r->sample_rate, 1);
	assert_int_equal(r->limit.unit, POL_RATE_BPS);
	assert_int_equal(r->limit.rate, 1000);
	r = &p.rules[4];
	assert_int_equal(r->limit.rate, 2000000000ull);
	assert_int_equal(r->action, FRINGE_ACT_DROP);
	policy_free(&p);
}

static void test_port_normalization(void **state)
{
	struct policy p;
	const struct pol_rule *r;

	parse_ok("rule a dport 443,80,81-90, 85,91,1000-2000,1500,\\\n 443 sport 0-65535,7 allow\n", &p);
	r = &p.rules[0];
	assert_int_equal(r->n_dport, 3);
	assert_int_equal(r->dport[0].lo, 80);
	assert_int_equal(r->dport[0].hi, 91);
	assert_int_equal(r->dport[1].lo, 443);
	assert_int_equal(r->dport[1].hi, 443);
	assert_int_equal(r->dport[2].lo, 1000);
	assert_int_equal(r->dport[2].hi, 2000);
	assert_int_equal(r->n_sport, 1);
	assert_int_equal(r->sport[0].lo, 0);
	assert_int_equal(r->sport[0].hi, 65535);
	assert_loc(r->match_loc[midx(POL_M_SPORT)], 2, 6);
	policy_free(&p);
}

static void test_protocols_and_apps(void **state)
{
	static const struct {
		const char *name;
		uint8_t num;
	} protos[] = { { "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 }, { "sctp", 132 },
		       { "0", 0 }, { "255", 255 }, { "47", 47 } };
	static const char *const apps[] = { "mqtt", "mqtts", "coap", "coaps", "modbus", "bacnet",
					    "opcua", "dnp3", "dns", "ntp" };
	char text[128];
	struct policy p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		snprintf(text, sizeof(text), "rule r proto %s allow\n", protos[i].name);
		parse_ok(text, &p);
		assert_int_equal(p.rules[0].proto, protos[i].num);
		policy_free(&p);
	}
	for (i = 0; i < ARRAY_SIZE(apps); i++) {
		assert_int_equal(pol_app_lookup(apps[i]), (int)i + 1);
		assert_string_equal(pol_app_names[i + 1], apps[i]);
		snprintf(text, sizeof(text), "rule r app %s allow\n", apps[i]);
		parse_ok(text, &p);
		assert_int_equal(p.rules[0].app, i + 1);
		assert_int_equal(p.rules[0].matches, POL_M_APP);
		policy_free(&p);
	}
	assert_int_equal(FRINGE_APP_MODBUS, pol_app_lookup("modbus"));
	assert_int_equal(pol_app_lookup("none"), 0);
	assert_int_equal(pol_app_lookup("http"), 0);
	assert_null(pol_app_names[FRINGE_APP_COUNT]);

	/* ports with sctp/udp, and with no proto at all */
	parse_ok("rule a proto sctp dport 9 allow\nrule b proto 17 sport 53 allow\nrule c dport 22 drop\n"
		 "rule d app modbus modbus-fc 5 allow\nrule e mqtt-type 15 app mqtt allow\n", &p);
	assert_int_equal(p.rules[0].proto, 132);
	assert_int_equal(p.rules[2].matches, POL_M_DPORT);
	assert_int_equal(p.rules[3].app, FRINGE_APP_MODBUS);
	assert_loc(p.rules[3].match_loc[midx(POL_M_APP)], 4, 8);	/* explicit app keeps its place */
	assert_int_equal(p.rules[3].modbus_fc[0], 1 << 5);
	assert_int_equal(p.rules[4].mqtt_types, 1 << 15);
	policy_free(&p);
}

static void test_names_and_comments(void **state)
{
	char text[256];
	struct policy p;

	/* 63 characters is the longest name */
	snprintf(text, sizeof(text), "rule %.63s allow\n",
		 "A-z_0.9-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	parse_ok(text, &p);
	assert_int_equal(strlen(p.rules[0].name), 63);
	policy_free(&p);

	/* a `\` in a comment does not continue, one before a comment does */
	parse_ok("# header\n"
		 "\n"
		 "rule web proto tcp allow  # trailing \\\n"
		 "rule web2 dport 80 \\ # a comment after the continuation\n"
		 "  allow\n"
		 "  # indented comment\n"
		 "default drop # trailing\n", &p);
	assert_int_equal(p.n_rules, 2);
	assert_loc(p.rules[0].loc, 3, 6);
	assert_loc(p.rules[1].action_loc, 5, 3);
	assert_int_equal(p.default_action, FRINGE_ACT_DROP);
	policy_free(&p);
}

/* ---- errors -------------------------------------------------------------- */

static void test_errors_statements(void **state)
{
	static const struct err_case cases[] = {
		{ "rul r allow", 1, 1, "unknown statement 'rul' (did you mean 'rule'?)" },
		{ "policy x", 1, 1, "unknown statement 'policy' (expected set, device, rule or default)" },
		{ "# c\n{ x", 2, 1, "unexpected '{' at the start of a statement" },
		{ "default allow\ndefault drop", 2, 1, "duplicate 'default' (first at 1:1)" },
		{ "default maybe", 1, 9, "invalid default 'maybe' (expected allow or drop)" },
		{ "default drop now", 1, 14, "unexpected 'now' after 'default drop'" },
		{ "default", 1, 1, "missing allow or drop after 'default'" },
		{ "default ,", 1, 9, "expected allow or drop after 'default', got ','" },
		{ "rule r allow\x01", 1, 13, "control character 0x01" },
		{ "rule r\xff allow", 1, 7, "invalid UTF-8 byte 0xff" },
		{ "rule caf\xc3\xa9 allow", 1, 6, "invalid rule name 'caf\xc3\xa9'" },
	};

	expect_errors(cases, ARRAY_SIZE(cases));
	expect_error_len("rule r allow\n\0", 14, 2, 1, "NUL byte in input");
}

static void test_errors_sets(void **state)
{
	static const struct err_case cases[] = {
		{ "set", 1, 1, "missing a set name after 'set'" },
		{ "set bad! { 1 }", 1, 5, "invalid set name 'bad!'" },
		{ "set a { 1 }\nset a { 2 }", 2, 5, "duplicate set 'a' (first declared at 1:5)" },
		{ "set a", 1, 5, "missing '{' after set name 'a'" },
		{ "set a 1", 1, 7, "expected '{' after set name 'a', got '1'" },
		{ "set a { }", 1, 5, "set 'a' is empty" },
		{ "set a { 1, 10.0.0.1 }", 1, 12, "set 'a' mixes ports with addresses: '10.0.0.1'" },
		{ "set a { ::1, 00:11:22:33:44:55 }", 1, 14, "set 'a' mixes addresses with MAC addresses" },
		{ "set a { 1, 2", 1, 7, "unterminated set 'a' (missing '}')" },
		{ "set a { 1 2 }", 1, 11, "expected ',' or '}' after '1', got '2'" },
		{ "set a { 1 } x", 1, 13, "unexpected 'x' after '}'" },
		{ "set a { , 1 }", 1, 9, "unexpected ',' in set 'a'" },
		{ "set a { 1,, 2 }", 1, 11, "unexpected ',' in set 'a'" },
		{ "set a { 10.0.0.1/8 }", 1, 9, "host bits set in 10.0.0.1/8 (did you mean 10.0.0.0/8?)" },
		{ "set a { 2001:db8::1/32 }", 1, 9, "host bits set in 2001:db8::1/32 (did you mean 2001:db8::/32?)" },
		{ "set a { 10.0.0.0/33 }", 1, 9, "invalid prefix length in '10.0.0.0/33' (0-32)" },
		{ "set a { ::/129 }", 1, 9, "invalid prefix length in '::/129' (0-128)" },
		{ "set a { 10.0.0.0/ }", 1, 9, "invalid prefix length in '10.0.0.0/'" },
		{ "set a { 10.0.0.256 }", 1, 9, "invalid address '10.0.0.256'" },
		{ "set a { 2001:db8:::1 }", 1, 9, "invalid address '2001:db8:::1'" },
		{ "set a { aa:bb:cc:dd:ee:gg }", 1, 9, "invalid MAC address 'aa:bb:cc:dd:ee:gg'" },
		{ "set a { 90-80 }", 1, 9, "invalid port range '90-80' (start above end)" },
		{ "set a { 65536 }", 1, 9, "invalid port '65536' (0-65535)" },
		{ "set a { 1-x }", 1, 9, "invalid port range '1-x'" },
		{ "set a { foo }", 1, 9, "invalid set item 'foo'" },
		/* errors inside continued statements are on their physical line */
		{ "set a { 10.0.0.1, \\\n  ::2, \\\n  x..y }", 3, 3, "invalid DNS name 'x..y' in set 'a'" },
		/* DNS names (docs/policy.md): labels, a wildcard only in front, no TLD alone */
		{ "set a { broker.example.com, *.com }", 1, 29, "invalid DNS name '*.com'" },
		{ "set a { a.*.example.com }", 1, 9, "invalid DNS name 'a.*.example.com'" },
		{ "set a { -x.example.com }", 1, 9, "invalid DNS name '-x.example.com'" },
		{ "set a { broker.example.com, 80 }", 1, 29, "set 'a' mixes addresses with ports: '80'" },
		{ "set a { 1, \\\n  2, \\\n  99999999999999999999 }", 3, 3, "invalid port '99999999999999999999'" },
	};

	expect_errors(cases, ARRAY_SIZE(cases));
}

static void test_errors_devices(void **state)
{
	static const struct err_case cases[] = {
		{ "device", 1, 1, "missing a device name after 'device'" },
		{ "device d", 1, 8, "device 'd' needs 'mac MAC'" },
		{ "device d ip 10.0.0.1", 1, 8, "device 'd' needs 'mac MAC'" },
		{ "device d mac 00:11:22:33:44:55 mac 00:11:22:33:44:66", 1, 32,
		  "duplicate 'mac' in device 'd' (first at 1:10)" },
		{ "device d mac 00:11:22:33:44:55\ndevice e mac 00:11:22:33:44:55", 2, 14,
		  "MAC 00:11:22:33:44:55 already belongs to device 'd'" },
		{ "device d mac 00:11:22:33:44:55\ndevice d mac 00:11:22:33:44:66", 2, 8,
		  "duplicate device 'd' (first declared at 1:8)" },
		{ "device d mac 00:11:22:33:44:55 ip 10.0.0.0/24", 1, 35,
		  "expected a host address, not the prefix '10.0.0.0/24'" },
		{ "device d mac 00:11:22:33:44:55 ip 10.0.0.1\ndevice e mac 00:11:22:33:44:66 ip 10.0.0.1", 2, 35,
		  "address 10.0.0.1 already belongs to device 'd'" },
		{ "device d mac 00:11:22:33:44:55 ip 10.0.0.1 ip 10.0.0.1", 1, 47,
		  "duplicate address 10.0.0.1 in device 'd' (first at 1:35)" },
		{ "device d mac 00:11:22:33:44:55 colour red", 1, 32,
		  "unknown device attribute 'colour' (expected mac, ip or class)" },
		{ "device d mac 00:11:22:33:44:55 clas x", 1, 32, "did you mean 'class'?" },
		{ "device d mac 00:11:22:33:44:55 class", 1, 32, "missing a class name after 'class'" },
		{ "device d mac 00:11:22:33:44:55 class a class b", 1, 40, "duplicate 'class' in device 'd'" },
		{ "device d mac 00:11:22:33:44:55 class a/b", 1, 38, "invalid class name 'a/b'" },
		{ "device d mac 00:11:22:33:44", 1, 14, "invalid MAC address '00:11:22:33:44'" },
		{ "device d mac 00:11:22:33:44:55 ip nope", 1, 35, "invalid address 'nope'" },
		{ "device d mac 00:11:22:33:44:55 { }", 1, 32, "unexpected '{' in device 'd'" },
	};

	expect_errors(cases, ARRAY_SIZE(cases));
}

static void test_errors_rules(void **state)
{
	static const struct err_case cases[] = {
		{ "rule", 1, 1, "missing a rule name after 'rule'" },
		{ "rule bad$name allow", 1, 6, "invalid rule name 'bad$name'" },
		{ "rule aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa allow", 1, 6,
		  "invalid rule name" },
		{ "rule r", 1, 6, "rule 'r' has no verdict" },
		{ "rule r dport 80", 1, 6, "rule 'r' has no verdict" },
		{ "rule r allow\nrule r drop", 2, 6, "duplicate rule 'r' (first declared at 1:6)" },
		{ "rule r allow src 10.0.0.1", 1, 14, "match 'src' after the verdict" },
		{ "rule r allow drop", 1, 14, "second verdict 'drop' in rule 'r' (first at 1:8)" },
		{ "rule r allow ,", 1, 14, "unexpected ',' in rule 'r'" },
		{ "rule r dscp 4 allow", 1, 8, "unknown keyword 'dscp' in rule 'r'" },
		{ "rule r dprot 80 allow", 1, 8, "unknown keyword 'dprot' in rule 'r' (did you mean 'dport'?)" },
		{ "rule r in eth0123456789abc allow", 1, 11, "invalid interface name 'eth0123456789abc'" },
		{ "rule r in a/b allow", 1, 11, "invalid interface name 'a/b'" },
		{ "rule r src", 1, 8, "missing an address, CIDR or @set after 'src'" },
		{ "rule r src 10.0.0.1/8 allow", 1, 12, "host bits set in 10.0.0.1/8" },
		{ "rule r dst 10.0.0.300 allow", 1, 12, "invalid address '10.0.0.300'" },
		{ "rule r src @nope allow", 1, 12, "unknown set '@nope'" },
		{ "rule r src @ allow", 1, 12, "invalid set reference '@'" },
		{ "rule r proto tpc allow", 1, 14, "unknown protocol 'tpc' (did you mean 'tcp'?)" },
		{ "rule r proto gre allow", 1, 14, "unknown protocol 'gre'" },
		{ "rule r proto 256 allow", 1, 14, "invalid protocol number '256' (0-255)" },
		{ "rule r proto icmp dport 80 allow", 1, 19, "'dport' needs proto tcp, udp or sctp, not 'icmp'" },
		{ "rule r sport 7 proto 1 allow", 1, 8, "'sport' needs proto tcp, udp or sctp, not '1'" },
		{ "rule r dport 80 dport 81 allow", 1, 17, "duplicate 'dport' in rule 'r' (first at 1:8)" },
		{ "rule r dport 80, allow", 1, 18, "invalid port 'allow'" },
		{ "rule r dport 80,", 1, 16, "missing a port after ','" },
		{ "rule r dport 18446744073709551617 allow", 1, 14, "invalid port '18446744073709551617'" },
		{ "rule r dport 9-1 allow", 1, 14, "invalid port range '9-1' (start above end)" },
		{ "rule r dport @hosts allow\nset hosts { 10.0.0.1 }", 1, 14,
		  "set '@hosts' holds addresses; 'dport' needs ports" },
		{ "set p { 80 }\nrule r src @p allow", 2, 12, "set '@p' holds ports; 'src' needs addresses" },
		{ "set p { 80 }\nrule r mac @p allow", 2, 12, "set '@p' holds ports; 'mac' needs MAC addresses" },
		{ "rule r mac 00:11:22:33:44 allow", 1, 12, "invalid MAC address '00:11:22:33:44'" },
		{ "rule r device ghost allow", 1, 15, "unknown device 'ghost'" },
		{ "rule r device bad! allow", 1, 15, "invalid device name 'bad!'" },
		{ "device d mac 00:00:00:00:00:01 class cam\nrule r class cams allow", 2, 14,
		  "no device has class 'cams'" },
		{ "rule r class c/d allow", 1, 14, "invalid class name 'c/d'" },
		{ "rule r vlan 4096 allow", 1, 13, "invalid VLAN id '4096' (0-4095)" },
		{ "rule r vlan -1 allow", 1, 13, "invalid VLAN id '-1'" },
		{ "rule r app mqt allow", 1, 12, "unknown application 'mqt' (did you mean 'mqtt'?)" },
		{ "rule r app http allow", 1, 12, "unknown application 'http'" },
		{ "rule r app mqtt modbus-fc 3 allow", 1, 17, "'modbus-fc' needs app modbus, not 'mqtt'" },
		{ "rule r mqtt-type publish app coap allow", 1, 8, "'mqtt-type' needs app mqtt, not 'coap'" },
		{ "rule r modbus-fc 3 mqtt-type publish allow", 1, 20, "cannot both match" },
		{ "rule r app modbus app modbus allow", 1, 19, "duplicate 'app' in rule 'r'" },
		{ "rule r modbus-fc 0 allow", 1, 18, "invalid function code '0' (1-255)" },
		{ "rule r modbus-fc 1-256 allow", 1, 18, "invalid function code range '1-256' (1-255)" },
		{ "rule r modbus-fc 1,,2 allow", 1, 20, "expected a function code after ',', got ','" },
		{ "rule r mqtt-type conect allow", 1, 18, "unknown MQTT packet type 'conect' (did you mean 'connect'?)" },
		{ "rule r mqtt-type 16 allow", 1, 18, "unknown MQTT packet type '16'" },
		/* errors inside continued statements are on their physical line */
		{ "rule r \\\n  proto tcp \\\n  dport 80-70 \\\n  allow", 3, 9, "invalid port range '80-70'" },
		{ "rule r \\ # why\n  vlan x allow", 2, 8, "invalid VLAN id 'x'" },
		{ "rule r \\\n  dport 80 \\\n  proto icmp allow", 2, 3, "'dport' needs proto" },
	};

	expect_errors(cases, ARRAY_SIZE(cases));
}

static void test_errors_verdicts_modifiers(void **state)
{
	static const struct err_case cases[] = {
		{ "rule r steer", 1, 8, "missing a steer target (iface, cpu, node or overlay) after 'steer'" },
		{ "rule r steer allow", 1, 14, "unknown steer target 'allow'" },
		{ "rule r steer nod n1", 1, 14, "unknown steer target 'nod' (did you mean 'node'?)" },
		{ "rule r steer cpu x", 1, 18, "invalid CPU number 'x'" },
		{ "rule r steer cpu 4294967296", 1, 18, "invalid CPU number '4294967296'" },
		{ "rule r steer iface", 1, 14, "missing an interface name after 'iface'" },
		{ "rule r steer iface ../x", 1, 20, "invalid interface name '../x'" },
		{ "rule r steer node bad/name", 1, 19, "invalid node name 'bad/name'" },
		{ "rule r limit 10/s allow", 1, 8, "modifier 'limit' before the verdict" },
		{ "rule r sample 1/10 allow", 1, 8, "modifier 'sample' before the verdict" },
		{ "rule r allow limit", 1, 14, "missing a rate after 'limit'" },
		{ "rule r allow limit 10/h", 1, 20, "invalid rate '10/h'" },
		{ "rule r allow limit 10", 1, 20, "invalid rate '10'" },
		{ "rule r allow limit 10kbit/min", 1, 20, "invalid rate '10kbit/min'" },
		{ "rule r allow limit 10tbit/s", 1, 20, "invalid rate '10tbit/s'" },
		{ "rule r allow limit /s", 1, 20, "invalid rate '/s'" },
		{ "rule r allow limit 0/s", 1, 20, "rate '0/s' must be above 0" },
		{ "rule r allow limit 0mbit/s", 1, 20, "rate '0mbit/s' must be above 0" },
		{ "rule r allow limit 99999999999gbit/s", 1, 20, "rate '99999999999gbit/s' is too large" },
		{ "rule r allow limit 99999999999999999999/s", 1, 20, "is too large" },
		{ "rule r allow limit 10/s burst 0", 1, 31, "invalid burst '0' (a number above 0)" },
		{ "rule r allow limit 10/s burst", 1, 25, "missing a burst size after 'burst'" },
		{ "rule r allow limit 10/s burst 5 burst 6", 1, 33, "duplicate 'burst' in rule 'r'" },
		{ "rule r allow limit 10/s per-src per-src", 1, 33, "duplicate 'per-src' in rule 'r'" },
		{ "rule r allow limit 10/s limit 5/s", 1, 25, "duplicate 'limit' in rule 'r'" },
		{ "rule r allow per-src", 1, 14, "'per-src' must follow 'limit RATE'" },
		{ "rule r allow sample 1/10 burst 5", 1, 26, "'burst' must follow 'limit RATE'" },
		{ "rule r allow sample 2/3", 1, 21, "invalid sample rate '2/3' (expected 1/N, N from 1)" },
		{ "rule r allow sample 1/0", 1, 21, "invalid sample rate '1/0'" },
		{ "rule r allow sample 1/4294967296", 1, 21, "invalid sample rate '1/4294967296'" },
		{ "rule r allow sample 10", 1, 21, "invalid sample rate '10'" },
		{ "rule r allow sample 1/10 sample 1/5", 1, 26, "duplicate 'sample' in rule 'r'" },
	};

	expect_errors(cases, ARRAY_SIZE(cases));
}

/* Every error of the file is reported, sorted, and none cascades. */
static void test_errors_many(void **state)
{
	const char *text = "set a { 1, x }\n"			/* 1:12 */
			   "rule r1 dport @a allow\n"		/* set a failed: no second error */
			   "rule r2 proto tpc allow\n"		/* 3:15 */
			   "default allow\n"
			   "default drop\n"			/* 5:1 */
			   "device d class cam mac 00:00:00:00:00:0g\n"	/* 6:24 */
			   "rule r3 device d class cam allow\n"	/* d failed, its class is known */
			   "rule r4 \\\n"
			   "   dport 1-0 allow\n"			/* 9:10 */
			   "rule r5 allow\n";
	static const struct {
		int line, col;
		const char *msg;
	} want[] = {
		{ 1, 12, "invalid set item 'x'" },
		{ 3, 15, "unknown protocol 'tpc'" },
		{ 5, 1, "duplicate 'default'" },
		{ 6, 24, "invalid MAC address '00:00:00:00:00:0g'" },
		{ 9, 10, "invalid port range '1-0'" },
	};
	struct diags d = { .file = "p.pol" };
	struct policy p;
	char *buf = NULL, *line;
	size_t len = 0, i;
	FILE *out;

	assert_int_equal(policy_parse(text, strlen(text), &d, &p), -EINVAL);
	assert_true(policy_is_zero(&p));
	assert_int_equal(d.n, ARRAY_SIZE(want));
	out = open_memstream(&buf, &len);
	diags_print(&d, out);
	fclose(out);
	line = buf;
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		char prefix[64];
		char *nl = strchr(line, '\n');

		assert_non_null(nl);
		*nl = '\0';
		snprintf(prefix, sizeof(prefix), "p.pol:%d:%d: error: ", want[i].line, want[i].col);
		assert_memory_equal(line, prefix, strlen(prefix));
		assert_non_null(strstr(line, want[i].msg));
		line = nl + 1;
	}
	assert_string_equal(line, "");
	free(buf);
	diags_free(&d);
}

static char *repeat(const char *head, const char *item, size_t n, const char *tail)
{
	size_t lh = strlen(head), li = strlen(item), lt = strlen(tail), i;
	char *s = malloc(lh + n * li + lt + 1), *w = s;

	assert_non_null(s);
	memcpy(w, head, lh);
	w += lh;
	for (i = 0; i < n; i++, w += li)
		memcpy(w, item, li);
	memcpy(w, tail, lt + 1);
	return s;
}

static void test_capacity_rules(void **state)
{
	size_t n = FRINGE_MAX_RULES + 1, i, off = 0;
	char *text = malloc(n * 32);
	struct policy p;

	assert_non_null(text);
	for (i = 0; i < FRINGE_MAX_RULES; i++)
		off += sprintf(text + off, "rule r%zu dport %zu allow\n", i, i);
	parse_ok(text, &p);
	assert_int_equal(p.n_rules, FRINGE_MAX_RULES);
	assert_string_equal(p.rules[4095].name, "r4095");
	policy_free(&p);

	sprintf(text + off, "rule r%zu drop\n", i);
	expect_error(text, FRINGE_MAX_RULES + 1, 1, "too many rules (more than 4096)");
	free(text);
}

static void test_capacity_set_items(void **state)
{
	char *text;
	struct policy p;

	text = repeat("set big { ", "7,", FRINGE_MAX_SET_ITEMS, "8 }\n");
	/* one item too many, reported where it is written */
	expect_error(text, 1, 11 + 2 * FRINGE_MAX_SET_ITEMS, "too many set items (more than 1048576");
	free(text);

	text = repeat("set big { ", "7,", FRINGE_MAX_SET_ITEMS - 1, "8 }\nrule r dport @big allow\n");
	parse_ok(text, &p);
	assert_int_equal(p.sets[0].n_ports, 1);	/* 7 and 8 merged */
	assert_int_equal(p.sets[0].ports[0].lo, 7);
	assert_int_equal(p.sets[0].ports[0].hi, 8);
	policy_free(&p);
	free(text);
}

static void test_parse_file(void **state)
{
	char path[] = "/tmp/fringe-test-policy-XXXXXX";
	const char *text = "rule r dport 80 allow\nrule s proto tpc allow\n";
	struct diags d = { 0 };
	struct policy p;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);

	assert_int_equal(policy_parse_file(path, &d, &p), -EINVAL);
	assert_ptr_equal(d.file, path);
	assert_int_equal(d.n, 1);
	assert_loc(d.v[0].loc, 2, 14);
	diags_free(&d);

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, 22), 22);
	close(fd);
	d.file = "given";
	assert_int_equal(policy_parse_file(path, &d, &p), 0);
	assert_string_equal(d.file, "given");
	assert_int_equal(p.n_rules, 1);
	assert_int_equal(p.rules[0].dport[0].lo, 80);
	policy_free(&p);
	unlink(path);

	d.file = NULL;
	assert_int_equal(policy_parse_file(path, &d, &p), -ENOENT);
	assert_int_equal(d.n, 1);
	assert_loc(d.v[0].loc, 0, 0);
	assert_non_null(strstr(d.v[0].msg, "cannot read /tmp/fringe-test-policy-"));
	assert_non_null(strstr(d.v[0].msg, ": No such file or directory"));
	assert_true(policy_is_zero(&p));
	diags_free(&d);

	assert_int_equal(policy_parse_file("/", NULL, &p), -EISDIR);
}

static int parse_path(const char *path, struct diags *d)
{
	struct policy p;
	int err = policy_parse_file(path, d, &p);

	if (!err)
		policy_free(&p);
	return err;
}

/* A FIFO or a device given as the policy is refused at once with a clear
 * error; it never hangs the reader nor reads /dev/zero into memory. */
static void test_parse_file_not_regular(void **state)
{
	struct rlimit old, lim = { 1u << 30, 1u << 30 };
	struct diags d = { 0 };

	assert_fifo_refused(parse_path);
	getrlimit(RLIMIT_AS, &old);
	lim.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_AS, &lim);	/* 512 MiB of zeros would not fit twice */
	assert_int_equal(parse_path("/dev/zero", &d), -FILE_ENOTREG);
	setrlimit(RLIMIT_AS, &old);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "cannot read /dev/zero: not a regular file"));
	diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lex_tokens),
		cmocka_unit_test(test_lex_comments),
		cmocka_unit_test(test_lex_continuation),
		cmocka_unit_test(test_lex_crlf_bom),
		cmocka_unit_test(test_lex_utf8),
		cmocka_unit_test(test_diags_print),
		cmocka_unit_test(test_diags_cap),
		cmocka_unit_test(test_lex_token_cap),
		cmocka_unit_test(test_parse_file_not_regular),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_rule_every_match),
		cmocka_unit_test(test_rule_defaults),
		cmocka_unit_test(test_rule_set_refs),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_port_normalization),
		cmocka_unit_test(test_protocols_and_apps),
		cmocka_unit_test(test_names_and_comments),
		cmocka_unit_test(test_errors_statements),
		cmocka_unit_test(test_errors_sets),
		cmocka_unit_test(test_errors_devices),
		cmocka_unit_test(test_errors_rules),
		cmocka_unit_test(test_errors_verdicts_modifiers),
		cmocka_unit_test(test_errors_many),
		cmocka_unit_test(test_capacity_rules),
		cmocka_unit_test(test_capacity_set_items),
		cmocka_unit_test(test_parse_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
