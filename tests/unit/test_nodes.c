/* SPDX-License-Identifier: GPL-2.0 */
/* Unit tests of the nodes file parser (docs/overlay.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nodes.h"
#include "refuse_fifo.h"

static void parse_ok(const char *text, struct nodes *n)
{
	struct diags d = { 0 };
	int rc = nodes_parse(text, strlen(text), &d, n);

	if (rc || d.n) {
		fprintf(stderr, "unexpected errors in:\n%s\n", text);
		diags_print(&d, stderr);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	diags_free(&d);
}

/* The text must fail with exactly the errors given, as "LINE:COL: substring". */
static void parse_errs(const char *text, const char *const *want, size_t n_want)
{
	struct diags d = { 0 };
	struct nodes n;
	int rc = nodes_parse(text, strlen(text), &d, &n);
	bool bad = rc != -EINVAL || d.n != n_want;

	for (size_t i = 0; !bad && i < n_want; i++) {
		char loc[32];
		const char *colon = strchr(want[i], ' ');
		bool hit = false;

		for (size_t k = 0; k < d.nv; k++) {
			snprintf(loc, sizeof(loc), "%d:%d:", d.v[k].loc.line, d.v[k].loc.col);
			if (!strncmp(want[i], loc, strlen(loc)) && colon &&
			    strstr(d.v[k].msg, colon + 1))
				hit = true;
		}
		if (!hit) {
			fprintf(stderr, "missing error '%s'\n", want[i]);
			bad = true;
		}
	}
	if (bad) {
		fprintf(stderr, "for input:\n%s\ngot rc %d and %zu errors:\n", text, rc, d.n);
		diags_print(&d, stderr);
	}
	assert_false(bad);
	assert_int_equal(n.n, 0);	/* freed on failure */
	diags_free(&d);
}

#define ERRS(text, ...)                                                        \
	do {                                                                   \
		static const char *const w_[] = { __VA_ARGS__ };               \
		parse_errs(text, w_, sizeof(w_) / sizeof(w_[0]));              \
	} while (0)

static void test_full(void **state)
{
	struct nodes n;
	char buf[64];

	parse_ok("# three nodes and a Linux vxlan peer\n"
		 "self n1\n"
		 "node n1 underlay 10.99.0.1 mac 02:99:00:00:00:01 prefix 10.200.1.0/24\n"
		 "node n2 underlay 10.99.0.2 prefix 10.200.2.0/24,10.210.0.0/24 vni 42\n"
		 "node n3 underlay 10.99.0.3 prefix 10.200.3.0/24 , fd00:3::/64, 10.220.0.1 \\\n"
		 "        mac 02:99:00:00:00:03\n"
		 "node linux vni 16777215 prefix 10.200.9.0/24 underlay 10.99.0.9\n", &n);
	assert_string_equal(n.self, "n1");
	assert_int_equal(n.self_loc.line, 2);
	assert_int_equal(n.self_loc.col, 6);
	assert_int_equal(n.n, 4);
	assert_int_equal(n.self_idx, 0);
	assert_string_equal(n.v[0].name, "n1");
	assert_int_equal(n.v[0].family, 4);
	assert_memory_equal(n.v[0].underlay, "\x0a\x63\x00\x01", 4);
	assert_true(n.v[0].has_mac);
	assert_memory_equal(n.v[0].mac, "\x02\x99\x00\x00\x00\x01", 6);
	assert_int_equal(n.v[0].vni, FRINGE_VNI_DEFAULT);
	assert_int_equal(n.v[1].vni, 42);
	assert_false(n.v[1].has_mac);
	assert_int_equal(n.v[1].n_prefixes, 2);
	nodes_prefix_str(&n.v[1].prefixes[1], buf, sizeof(buf));
	assert_string_equal(buf, "10.210.0.0/24");
	assert_int_equal(n.v[2].n_prefixes, 3);
	assert_int_equal(n.v[2].prefixes[1].family, 6);
	assert_int_equal(n.v[2].prefixes[1].len, 64);
	assert_int_equal(n.v[2].prefixes[2].len, 32);	/* a bare address is a host */
	assert_int_equal(n.v[2].prefix_loc[1].line, 5);
	assert_true(n.v[2].has_mac);			/* after a continued line */
	assert_int_equal(n.v[3].vni, 16777215);
	assert_non_null(nodes_find(&n, "linux"));
	assert_null(nodes_find(&n, "n4"));
	nodes_free(&n);
}

static void test_ipv6_underlay(void **state)
{
	struct nodes n;

	parse_ok("node a underlay fd99::1 prefix 10.0.1.0/24\n"
		 "node b underlay fd99::2 prefix 10.0.2.0/24\n"
		 "self b\n", &n);
	assert_int_equal(n.v[0].family, 6);
	assert_int_equal(n.self_idx, 1);
	assert_int_equal(nodes_tunnel_family(&n, &n.v[0]), 6);
	nodes_free(&n);
	/* Mixed: a dual-stack self reaches IPv4 and IPv6 nodes, each over its own
	 * family; a dual-stack node over its first listed one. */
	parse_ok("self a\n"
		 "node a underlay 192.0.2.1,fd99::1 prefix 10.0.1.0/24\n"
		 "node b underlay fd99::2 prefix 10.0.2.0/24\n"
		 "node c underlay 192.0.2.3 prefix 10.0.3.0/24\n"
		 "node d underlay fd99::4,192.0.2.4 prefix 10.0.4.0/24\n", &n);
	assert_int_equal(n.v[0].family, 4);
	assert_int_equal(n.v[0].alt_family, 6);
	assert_int_equal(n.v[0].alt_loc.col, 27);
	assert_int_equal(nodes_tunnel_family(&n, &n.v[1]), 6);
	assert_int_equal(nodes_tunnel_family(&n, &n.v[2]), 4);
	assert_int_equal(nodes_tunnel_family(&n, &n.v[3]), 6);
	assert_memory_equal(nodes_underlay(&n.v[3], 4), "\xc0\x00\x02\x04", 4);
	assert_null(nodes_underlay(&n.v[1], 4));
	nodes_free(&n);
	/* An IPv4-only self reaches a dual-stack node over IPv4. */
	parse_ok("self a\n"
		 "node a underlay 192.0.2.1 prefix 10.0.1.0/24\n"
		 "node d underlay fd99::4,192.0.2.4 prefix 10.0.4.0/24\n", &n);
	assert_int_equal(nodes_tunnel_family(&n, &n.v[1]), 4);
	nodes_free(&n);
}

static void test_duplicate_node(void **state)
{
	ERRS("self a\n"
	     "node a underlay 10.0.0.1 prefix 10.1.0.0/16\n"
	     "node a underlay 10.0.0.2 prefix 10.2.0.0/16\n",
	     "3:6: duplicate node 'a' (first declared at 2:6)");
	/* one error per duplicate statement, against the first copy only */
	ERRS("self a\n"
	     "node a underlay 10.0.0.1 prefix 10.1.0.0/16\n"
	     "node a underlay 10.0.0.2 prefix 10.2.0.0/16\n"
	     "node a underlay 10.0.0.3 prefix 10.3.0.0/16\n"
	     "node a underlay 10.0.0.4 prefix 10.4.0.0/16\n",
	     "3:6: duplicate node 'a' (first declared at 2:6)",
	     "4:6: duplicate node 'a' (first declared at 2:6)",
	     "5:6: duplicate node 'a' (first declared at 2:6)");
}

/* 5,000 copies of one name: errors grow with the statements, not their square. */
static void test_many_duplicates(void **state)
{
	size_t lines = 5000, n;
	char *text = malloc(lines * 48);
	struct diags d = { 0 };
	struct nodes out;

	assert_non_null(text);
	n = 0;
	for (size_t i = 0; i < lines; i++)
		n += sprintf(text + n, "node a underlay 10.0.0.1 prefix 10.%zu.%zu.0/24\n",
			     i / 256, i % 256);
	assert_int_equal(nodes_parse(text, n, &d, &out), -EINVAL);
	/* every later copy once, and the file's missing `self` */
	assert_int_equal(d.n, lines - 1 + 1);
	diags_free(&d);
	free(text);
}

/* 5,000 bare copies of one name: the first lacks both options (one error), every later copy is a duplicate. */
static void test_bare_duplicates(void **state)
{
	size_t lines = 5000;
	char *text = malloc(lines * 7);
	struct diags d = { 0 };
	struct nodes out;

	assert_non_null(text);
	for (size_t i = 0; i < lines; i++)
		memcpy(text + 7 * i, "node a\n", 7);
	assert_int_equal(nodes_parse(text, 7 * lines, &d, &out), -EINVAL);
	assert_int_equal(d.n, 1 + (lines - 1) + 1);	/* + no `self` */
	diags_free(&d);
	free(text);
	ERRS("self a\nnode a\n", "2:6: node 'a' needs 'underlay ADDR' and 'prefix CIDR[,CIDR]...'");
}

/* One bad token, one error; the list goes on after it. */
static void test_bad_prefix_token(void **state)
{
	ERRS("self a\n"
	     "node a underlay 10.0.0.1 prefix ,10.9.0.0/16\n",
	     "2:33: expected a prefix, found ','");
	ERRS("self a\n"
	     "node a underlay 10.0.0.1 prefix 10.8.0.0/16,,10.9.0.0/16\n",
	     "2:45: expected a prefix, found ','");
	ERRS("self a\n"
	     "node a underlay 10.0.0.1 prefix { vni 5\n",
	     "2:33: expected a prefix, found '{'");
}

/* 65,536 prefixes on one node: every one kept (and the array grown geometrically). */
static void test_many_prefixes(void **state)
{
	size_t k = 65536, n;
	char *text = malloc(k * 20 + 64);
	struct diags d = { 0 };
	struct nodes out;

	assert_non_null(text);
	n = sprintf(text, "self a\nnode a underlay 192.168.0.1 prefix ");
	for (size_t i = 0; i < k; i++)
		n += sprintf(text + n, "%s10.%zu.%zu.0/24", i ? "," : "", i / 256, i % 256);
	text[n++] = '\n';
	assert_int_equal(nodes_parse(text, n, &d, &out), 0);	/* exactly what the table holds */
	assert_int_equal(d.n, 0);
	assert_int_equal(out.v[0].n_prefixes, k);
	assert_int_equal(out.v[0].prefixes[k - 1].addr[1], 255);
	nodes_free(&out);
	free(text);
}

static void test_overlaps(void **state)
{
	/* Inside one node, across nodes, identical; at the later one in the file. */
	ERRS("self a\n"
	     "node a underlay 10.0.0.1 prefix 10.1.0.0/16,10.1.2.0/24\n"
	     "node b underlay 10.0.0.2 prefix 10.2.0.0/24\n"
	     "node d underlay 10.0.0.4 prefix fd00::/16, fd00:1::/32\n"
	     "node e underlay 10.0.0.5 prefix 192.168.0.0/24 , 192.168.0.0/24\n",
	     "2:45: prefix 10.1.2.0/24 overlaps 10.1.0.0/16, also of node 'a' (2:33)",
	     "4:44: prefix fd00:1::/32 overlaps fd00::/16, also of node 'd' (4:33)",
	     "5:50: prefix 192.168.0.0/24 overlaps 192.168.0.0/24, also of node 'e' (5:33)");
	ERRS("self a\n"
	     "node a underlay 10.0.0.1 prefix 10.1.0.0/16\n"
	     "node b underlay 10.0.0.2 prefix 10.2.0.0/24\n"
	     "node c underlay 10.0.0.3 prefix 10.0.0.0/8\n",
	     "4:33: prefix 10.0.0.0/8 of node 'c' overlaps 10.1.0.0/16 of node 'a' (2:33)",
	     "4:33: prefix 10.0.0.0/8 of node 'c' overlaps 10.2.0.0/24 of node 'b' (3:33)");
	/* Neighbours and different families never overlap. */
	{
		struct nodes n;

		parse_ok("self a\n"
			 "node a underlay 10.0.0.1 prefix 10.1.0.0/24,10.1.1.0/24,::a01:0/120\n"
			 "node b underlay 10.0.0.2 prefix 10.1.2.0/23,0.0.0.0/32\n", &n);
		nodes_free(&n);
	}
}

static void test_self(void **state)
{
	ERRS("node a underlay 10.0.0.1 prefix 10.1.0.0/16\n",
	     "1:1: no 'self' statement");
	ERRS("self x\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16\n",
	     "1:6: self 'x' is not a listed node");
	ERRS("self a\nself a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16\n",
	     "2:1: duplicate 'self' (first given at line 1)");
	ERRS("self\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16\n",
	     "1:5: 'self' needs the name of this node", "1:1: no 'self' statement");
	ERRS("self a b\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16\n",
	     "1:8: unexpected 'b' after the node name", "1:1: no 'self' statement");
}

/* `self auto`: one file for every node; the load picks the node by address. */
static void test_self_auto(void **state)
{
	struct nodes n;

	parse_ok("self auto\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16\n"
		 "node b underlay 10.0.0.2 prefix 10.2.0.0/16\n", &n);
	assert_true(n.self_auto);
	assert_string_equal(n.self, "");
	assert_int_equal(n.n, 2);
	nodes_free(&n);
	ERRS("self auto\nself a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16\n",
	     "2:1: duplicate 'self' (first given at line 1)");
}

static void test_underlay(void **state)
{
	ERRS("self a\nnode a underlay gateway.example prefix 10.1.0.0/16\n",
	     "2:17: underlay 'gateway.example' is not an IP address");
	ERRS("self a\nnode a underlay 10.0.0.300 prefix 10.1.0.0/16\n",
	     "2:17: underlay '10.0.0.300' is not an IP address");
	ERRS("self a\nnode a underlay 10.0.0.1/24 prefix 10.1.0.0/16\n",
	     "2:17: underlay '10.0.0.1/24' is a prefix");
	ERRS("self a\nnode a underlay 224.0.0.1 prefix 10.1.0.0/16\n",
	     "2:17: not a unicast address");
	ERRS("self a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16\n"
	     "node b underlay fd00::2 prefix 10.2.0.0/16\n",
	     "3:17: node 'b' has only an IPv6 underlay, and this node 'a' has no IPv6 underlay address to reach it");
	ERRS("self a\nnode a underlay 10.0.0.1,10.0.0.9 prefix 10.1.0.0/16\n",
	     "2:26: node 'a' has two IPv4 underlay addresses (at most one of each family)");
	ERRS("self a\nnode a underlay 10.0.0.1,fd00::1,fd00::2 prefix 10.1.0.0/16\n",
	     "2:33: at most two underlay addresses, one IPv4 and one IPv6");
	ERRS("self a\nnode a underlay 10.0.0.1, prefix 10.1.0.0/16\n",
	     "2:27: expected an underlay address after ',', found 'prefix'");
	ERRS("self a\nnode a underlay 10.0.0.1,fd00::1 prefix 10.1.0.0/16\n"
	     "node b underlay 10.0.0.2,fd00::1 prefix 10.2.0.0/16\n",
	     "3:26: node 'b' has the underlay address of node 'a' (2:17)");
	ERRS("self a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16\n"
	     "node b underlay 10.0.0.1 prefix 10.2.0.0/16\n",
	     "3:17: node 'b' has the underlay address of node 'a' (2:17)");
	ERRS("self a\nnode a prefix 10.1.0.0/16\n", "2:6: node 'a' needs 'underlay ADDR'");
}

static void test_vni(void **state)
{
	ERRS("self a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16 vni 0\n",
	     "2:49: VNI 0 is out of range (1-16777215)");
	ERRS("self a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16 vni 16777216\n",
	     "2:49: VNI 16777216 is out of range (1-16777215)");
	ERRS("self a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16 vni 99999999999999999999999\n",
	     "2:49: out of range");
	ERRS("self a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16 vni -1\n",
	     "2:49: invalid VNI '-1'");
	ERRS("self a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16 vni\n",
	     "2:48: 'vni' needs a value");
}

static void test_other_errors(void **state)
{
	ERRS("self a\nnode a underlay 10.0.0.1 prefix 10.1.0.1/16\n",
	     "2:33: host bits set in 10.1.0.1/16 (did you mean 10.1.0.0/16?)");
	ERRS("self a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/33\n",
	     "2:33: invalid prefix length");
	ERRS("self a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16,\n",
	     "2:45: expected a prefix after ','");
	ERRS("self a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16 mac 01:00:5e:00:00:01\n",
	     "2:49: not a unicast address");
	ERRS("self a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16 mac 02:00:00:00:00\n",
	     "2:49: invalid MAC address");
	ERRS("self a\nnode a underlay 10.0.0.1 prefx 10.1.0.0/16\n",
	     "2:26: unknown node option 'prefx' (did you mean 'prefix'?)",
	     "2:6: node 'a' needs 'prefix");
	ERRS("self a\nnode a underlay 10.0.0.1 underlay 10.0.0.2 prefix 10.1.0.0/16\n",
	     "2:26: duplicate 'underlay' (first given at 2:8)");
	ERRS("self a\nnode a/b underlay 10.0.0.1 prefix 10.1.0.0/16\n",
	     "2:6: invalid node name 'a/b'", "1:6: self 'a' is not a listed node");
	ERRS("self a\nnod a underlay 10.0.0.1 prefix 10.1.0.0/16\n"
	     "node a underlay 10.0.0.1 prefix 10.1.0.0/16\n",
	     "2:1: unknown statement 'nod' (did you mean 'node'?)");
}

/* Every error of a file is reported, not only the first. */
static void test_all_errors(void **state)
{
	ERRS("self a\n"
	     "node a underlay 10.0.0.1 prefix 10.1.0.0/16 vni 0\n"
	     "node a underlay 10.0.0.2 prefix 10.2.0.0/16\n"
	     "node b underlay nowhere prefix 10.3.0.0/16\n"
	     "node c underlay 10.0.0.3 prefix 10.3.0.0/24\n"
	     "node d underlay 10.0.0.4 prefix 10.4.0.0/16\n"
	     "node e underlay 10.0.0.5 prefix 10.4.1.0/24\n",
	     "2:49: VNI 0 is out of range", "3:6: duplicate node 'a'",
	     "4:17: underlay 'nowhere' is not an IP address",
	     "5:33: prefix 10.3.0.0/24 of node 'c' overlaps 10.3.0.0/16 of node 'b' (4:32)",
	     "7:33: prefix 10.4.1.0/24 of node 'e' overlaps 10.4.0.0/16 of node 'd' (6:33)");
}

static void test_file(void **state)
{
	char path[] = "/tmp/fringe-test-nodes.XXXXXX";
	struct diags d = { 0 };
	struct nodes n;
	int fd = mkstemp(path);
	const char *text = "self a\nnode a underlay 10.0.0.1 prefix 10.1.0.0/16\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(nodes_parse_file(path, &d, &n), 0);
	assert_string_equal(d.file, path);
	assert_int_equal(n.n, 1);
	nodes_free(&n);
	unlink(path);
	d.file = NULL;
	assert_int_equal(nodes_parse_file(path, &d, &n), -ENOENT);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "cannot read"));
	diags_free(&d);
}

static int parse_path(const char *path, struct diags *d)
{
	struct nodes out;
	int err = nodes_parse_file(path, d, &out);

	if (!err)
		nodes_free(&out);
	return err;
}

/* A FIFO as the file is refused at once, never waited on. */
static void test_file_not_regular(void **state)
{
	assert_fifo_refused(parse_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_ipv6_underlay),
		cmocka_unit_test(test_duplicate_node),
		cmocka_unit_test(test_many_duplicates),
		cmocka_unit_test(test_bare_duplicates),
		cmocka_unit_test(test_bad_prefix_token),
		cmocka_unit_test(test_many_prefixes),
		cmocka_unit_test(test_file_not_regular),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_self_auto),
		cmocka_unit_test(test_underlay),
		cmocka_unit_test(test_vni),
		cmocka_unit_test(test_other_errors),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests_name("nodes", tests, NULL, NULL);
}
