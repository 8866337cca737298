/* SPDX-License-Identifier: GPL-2.0 */
/* Unit tests of the daemon's config file parser (docs/deploy.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "refuse_fifo.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void parse_ok(const char *text, struct config *c)
{
	struct diags d = { 0 };
	int rc = config_parse(text, strlen(text), "/etc/fringe", &d, c);

	if (rc || d.n) {
		fprintf(stderr, "unexpected errors in:\n%s\n", text);
		diags_print(&d, stderr);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	diags_free(&d);
}

static void test_full(void **state)
{
	struct config c;
	const struct sockaddr_in *a4;

	parse_ok("# gateway\n"
		 "interface eth1 mode native\n"
		 "interface eth2            # auto by default\n"
		 "interface wlan0 mode generic\n"
		 "policy gateway.policy\n"
		 "nodes /srv/fringe/nodes\n"
		 "metrics 0.0.0.0:9100\n"
		 "sflow collector.example:6343\n"
		 "pin-dir /sys/fs/bpf/fringe\n", &c);
	assert_int_equal(c.n_ifaces, 3);
	assert_string_equal(c.ifaces[0].name, "eth1");
	assert_int_equal(c.ifaces[0].mode, ATTACH_NATIVE);
	assert_int_equal(c.ifaces[1].mode, ATTACH_AUTO);
	assert_int_equal(c.ifaces[2].mode, ATTACH_GENERIC);
	assert_int_equal(c.ifaces[2].loc.line, 4);
	assert_string_equal(c.policy, "/etc/fringe/gateway.policy");	/* relative: next to the config */
	assert_string_equal(c.nodes, "/srv/fringe/nodes");
	assert_string_equal(c.metrics, "0.0.0.0:9100");
	a4 = (const struct sockaddr_in *)&c.metrics_addr;
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(ntohs(a4->sin_port), 9100);
	assert_int_equal(c.metrics_addrlen, sizeof(*a4));
	assert_string_equal(c.sflow, "collector.example:6343");
	assert_string_equal(c.pin_dir, "/sys/fs/bpf/fringe");
	config_free(&c);
}

static void test_defaults(void **state)
{
	struct config c;
	const struct sockaddr_in *a4;

	parse_ok("", &c);
	assert_int_equal(c.n_ifaces, 0);
	assert_null(c.policy);
	assert_null(c.nodes);
	assert_null(c.sflow);
	assert_null(c.pin_dir);
	assert_string_equal(c.metrics, "127.0.0.1:9650");
	a4 = (const struct sockaddr_in *)&c.metrics_addr;
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(ntohs(a4->sin_port), 9650);
	config_free(&c);
}

static void test_metrics_tls_auth(void **state)
{
	struct config c;

	parse_ok("metrics 0.0.0.0:9650 tls tls/cert.pem /etc/ssl/key.pem auth users\n", &c);
	assert_string_equal(c.metrics, "0.0.0.0:9650");
	assert_string_equal(c.tls_cert, "/etc/fringe/tls/cert.pem");	/* relative: next to the config */
	assert_string_equal(c.tls_key, "/etc/ssl/key.pem");
	assert_string_equal(c.auth, "/etc/fringe/users");
	config_free(&c);
	parse_ok("metrics [::1]:9650 auth /etc/fringe/users tls c.pem k.pem\n", &c);	/* any order */
	assert_string_equal(c.auth, "/etc/fringe/users");
	assert_string_equal(c.tls_key, "/etc/fringe/k.pem");
	config_free(&c);
	parse_ok("metrics 127.0.0.1:9650\n", &c);
	assert_null(c.tls_cert);
	assert_null(c.auth);
	config_free(&c);
}

static void test_ipv6_and_continuation(void **state)
{
	struct config c;
	const struct sockaddr_in6 *a6;

	parse_ok("metrics [::1]:9650\n"
		 "interface \\\n"
		 "    eth0 mode auto\n"
		 "sflow [fd00::1]:6343\n", &c);
	a6 = (const struct sockaddr_in6 *)&c.metrics_addr;
	assert_int_equal(a6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(a6->sin6_port), 9650);
	assert_true(IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr));
	assert_int_equal(c.n_ifaces, 1);
	assert_int_equal(c.ifaces[0].loc.line, 3);
	assert_int_equal(c.ifaces[0].loc.col, 5);
	config_free(&c);
}

struct err_case {
	const char *text;
	int line, col;
	const char *msg;
};

static const struct err_case err_cases[] = {
	{ "interfce eth0\n", 1, 1, "did you mean 'interface'" },
	{ "listen 1.2.3.4:5\n", 1, 1, "unknown directive 'listen'" },
	{ "interface\n", 1, 10, "needs an interface name" },
	{ "interface eth0 mode fast\n", 1, 21, "unknown mode 'fast'" },
	{ "interface eth0 mode\n", 1, 20, "needs native, generic or auto" },
	{ "interface eth0 native\n", 1, 16, "expected 'mode'" },
	{ "interface eth0 mode auto extra\n", 1, 26, "unexpected 'extra'" },
	{ "interface averyveryverylongname\n", 1, 11, "bad interface name" },
	{ "interface eth0\ninterface eth0\n", 2, 11, "listed twice (first at line 1)" },
	{ "policy a\npolicy b\n", 2, 1, "duplicate 'policy' (first given at line 1)" },
	{ "policy\n", 1, 7, "'policy' needs a file path" },
	{ "policy a b\n", 1, 10, "unexpected 'b'" },
	{ "pin-dir { x }\n", 1, 9, "expected a directory, found '{'" },
	{ "metrics 127.0.0.1\n", 1, 9, "expected ADDR:PORT" },
	{ "metrics 127.0.0.1:0\n", 1, 9, "port must be 1-65535" },
	{ "metrics 127.0.0.1:65536\n", 1, 9, "port must be 1-65535" },
	{ "metrics localhost:9650\n", 1, 9, "numeric address" },
	{ "metrics ::1:9650\n", 1, 9, "in brackets" },
	{ "metrics [::1]9650\n", 1, 9, "expected [IPv6]:PORT" },
	{ "metrics [::zz]:9650\n", 1, 9, "bad IPv6 address" },
	{ "metrics 127.0.0.1:9650 tls\n", 1, 27, "'tls' needs a certificate file and a private key file" },
	{ "metrics 127.0.0.1:9650 tls c.pem\n", 1, 33, "'tls' needs a private key file (PEM) after the certificate" },
	{ "metrics 127.0.0.1:9650 tls c.pem { }\n", 1, 34, "expected a private key file (PEM) after the certificate, found '{'" },
	{ "metrics 127.0.0.1:9650 auth\n", 1, 28, "'auth' needs a users file" },
	{ "metrics 127.0.0.1:9650 auth a auth b\n", 1, 31, "duplicate 'auth'" },
	{ "metrics 127.0.0.1:9650 tls c k tls c k\n", 1, 32, "duplicate 'tls'" },
	{ "metrics 127.0.0.1:9650 tsl c k\n", 1, 24, "unexpected 'tsl' after the metrics address (expected 'tls' or 'auth')" },
	{ "metrics nowhere tls c k\n", 1, 9, "bad metrics address 'nowhere'" },
	{ "sflow collector\n", 1, 7, "expected HOST:PORT" },
	{ "sflow collector:x\n", 1, 7, "port must be 1-65535" },
	{ "sflow a:1\nsflow b:2\n", 2, 1, "duplicate 'sflow'" },
	{ "sflow coll/ector:6343\n", 1, 7, "bad host name" },
	{ "sflow a..b:6343\n", 1, 7, "bad host name" },
	{ "sflow -a.b:6343\n", 1, 7, "bad host name" },
	{ "sflow aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b:6343\n", 1, 7,
	  "bad host name" },	/* a label of 64 */
	{ ", policy x\n", 1, 1, "unexpected ','" },
	{ "policy a\n\ninterface eth0 \\\n   mode slow\n", 4, 9, "unknown mode 'slow'" },
	/* cluster */
	{ "cluster\n", 1, 8, "'cluster' needs 'etcd URL" },
	{ "cluster consul http://127.0.0.1:8500\n", 1, 9, "needs 'etcd URL" },
	{ "cluster etcd\n", 1, 13, "at least one etcd member" },
	{ "cluster etcd http://10.0.0.1:2379\n", 1, 14, "plain http to an address other than loopback is refused" },
	{ "cluster etcd http://etcd.example\n", 1, 14, "plain http" },
	{ "cluster etcd ftp://127.0.0.1\n", 1, 14, "expected http://HOST" },
	{ "cluster etcd https://a:99999\n", 1, 14, "port must be 1-65535" },
	{ "cluster etcd https://a/v3\n", 1, 14, "a path is not expected" },
	{ "cluster etcd https://[fd00::1\n", 1, 14, "closing ']'" },
	{ "cluster etcd https://a,https://a:2379\n", 1, 24, "listed twice" },
	{ "cluster etcd https://a,\n", 1, 24, "expected an etcd URL after ','" },
	{ "cluster etcd https://a ttl 1\n", 1, 28, "bad ttl '1' (seconds, 2-3600)" },
	{ "cluster etcd https://a ttl x\n", 1, 28, "bad ttl 'x'" },
	{ "cluster etcd https://a prefix fringe\n", 1, 31, "bad key prefix 'fringe'" },
	{ "cluster etcd https://a cert c.pem\n", 1, 24, "'cert' needs 'key' too" },
	{ "cluster etcd https://a ttl 5 ttl 6\n", 1, 30, "duplicate 'ttl'" },
	{ "cluster etcd https://a tll 5\n", 1, 24, "did you mean 'ttl'" },
	{ "cluster etcd https://a ca\n", 1, 26, "'ca' needs a file path" },
	{ "cluster etcd http://127.0.0.1 ca ca.pem\n", 1, 14, "ca, cert and key are for https://" },
	{ "cluster etcd https://a\ncluster etcd https://b\n", 2, 1, "duplicate 'cluster'" },
	{ "cluster etcd https://a\n", 1, 1, "a node that does not announce itself needs a nodes file" },
	/* announce */
	{ "announce prefix 10.0.0.0/24\n", 1, 1, "needs a 'cluster etcd URL...' line" },
	{ "cluster etcd https://a\nannounce name n1\n", 2, 17, "needs 'prefix CIDR" },
	{ "cluster etcd https://a\nannounce prefix auto\n", 2, 1, "'announce prefix auto' takes the networks of the 'interface' lines" },
	{ "cluster etcd https://a\nannounce name bad/name prefix 10.0.0.0/24\n", 2, 15, "invalid node name" },
	{ "cluster etcd https://a\nannounce underlay 224.0.0.1 prefix 10.0.0.0/24\n", 2, 19, "not a unicast address" },
	{ "cluster etcd https://a\nannounce underlay eth0 prefix 10.0.0.0/24\n", 2, 19, "not an IP address (or 'auto')" },
	{ "cluster etcd https://a\nannounce mac ff:ff:ff:ff:ff:ff prefix 10.0.0.0/24\n", 2, 14, "invalid MAC address" },
	{ "cluster etcd https://a\nannounce prefix 10.0.0.1/24\n", 2, 17, "host bits set" },
	{ "cluster etcd https://a\nannounce prefix 10.0.0.0/24,10.0.0.128/25\n", 2, 29, "overlaps another announced prefix" },
	{ "cluster etcd https://a\nannounce prefix 10.0.0.0/24 vni 0\n", 2, 33, "invalid VNI '0'" },
	{ "cluster etcd https://a\nannounce prefix 10.0.0.0/24 prefx 1\n", 2, 29, "did you mean 'prefix'" },
	{ "cluster etcd https://a\nannounce prefix 10.0.0.0/24 name a name b\n", 2, 36, "duplicate 'name'" },
	{ "size flow 100\n", 1, 6, "unknown size 'flow' (bitmaps, v4-blocks" },
	{ "size flows\n", 1, 1, "'size' needs NAME N" },
	{ "size flows 10 20\n", 1, 15, "'size' needs NAME N" },
	{ "size flows many\n", 1, 12, "expected a number" },
	{ "size flows -5\n", 1, 12, "expected a number" },
	{ "size bitmaps 99999\n", 1, 14, "bitmaps is 16 to 16384" },
	{ "size v4-blocks 100\n", 1, 16, "v4-blocks is 528 to 8192" },
	{ "size sample-ring 100000\n", 1, 18, "a power of 2" },
	{ "size dns-addresses 10\n", 1, 20, "dns-addresses is 64 to 4194304" },
	{ "size flows 100\nsize flows 200\n", 2, 6, "duplicate 'size flows' (first given at line 1)" },
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(err_cases); i++) {
		const struct err_case *e = &err_cases[i];
		struct diags d = { 0 };
		struct config c;
		int rc;

		memset(&c, 0xa5, sizeof(c));
		rc = config_parse(e->text, strlen(e->text), NULL, &d, &c);
		if (rc != -EINVAL || d.n != 1 || d.v[0].loc.line != e->line ||
		    d.v[0].loc.col != e->col || !strstr(d.v[0].msg, e->msg)) {
			fprintf(stderr, "input:\n%swant <input>:%d:%d: error: ...%s...\ngot rc=%d:\n",
				e->text, e->line, e->col, e->msg, rc);
			diags_print(&d, stderr);
			fail();
		}
		/* failure leaves nothing behind */
		assert_null(c.ifaces);
		assert_null(c.policy);
		assert_int_equal(c.n_ifaces, 0);
		diags_free(&d);
	}
}

static void test_cluster(void **state)
{
	struct config c;

	parse_ok("cluster etcd https://10.0.0.1:2379,https://[fd00::2],https://etcd-3.example:4001/ \\\n"
		 "        prefix /site/a/ ttl 30 ca /etc/fringe/ca.pem cert client.pem key client.key\n"
		 "announce name edge-1 underlay 10.99.0.1 mac 02:00:00:00:00:01 prefix 10.200.1.0/24,fd00:1::/64 vni 7\n",
		 &c);
	assert_int_equal(c.cluster.loc.line, 1);
	assert_int_equal(c.cluster.n_urls, 3);
	assert_string_equal(c.cluster.urls[0], "https://10.0.0.1:2379");
	assert_string_equal(c.cluster.urls[1], "https://[fd00::2]:2379");
	assert_string_equal(c.cluster.urls[2], "https://etcd-3.example:4001");
	assert_string_equal(c.cluster.prefix, "/site/a");
	assert_int_equal(c.cluster.ttl, 30);
	assert_string_equal(c.cluster.ca, "/etc/fringe/ca.pem");
	assert_string_equal(c.cluster.cert, "/etc/fringe/client.pem");	/* next to the config */
	assert_string_equal(c.cluster.key, "/etc/fringe/client.key");
	assert_false(c.cluster.insecure);
	assert_int_equal(c.announce.loc.line, 3);
	assert_string_equal(c.announce.name, "edge-1");
	assert_int_equal(c.announce.family, 4);
	assert_memory_equal(c.announce.underlay, "\x0a\x63\x00\x01", 4);
	assert_true(c.announce.has_mac);
	assert_int_equal(c.announce.n_prefixes, 2);
	assert_int_equal(c.announce.prefixes[1].family, 6);
	assert_int_equal(c.announce.prefixes[1].len, 64);
	assert_int_equal(c.announce.vni, 7);
	config_free(&c);

	/* Defaults: prefix /fringe, ttl 10, name and underlay and mac auto. */
	parse_ok("cluster etcd http://127.0.0.1:2379,http://localhost,http://[::1]:23\n"
		 "announce prefix 10.200.1.0/24\n", &c);
	assert_string_equal(c.cluster.prefix, "/fringe");
	assert_int_equal(c.cluster.ttl, 10);
	assert_string_equal(c.cluster.urls[1], "http://localhost:2379");
	assert_null(c.cluster.ca);
	assert_string_equal(c.announce.name, "");
	assert_int_equal(c.announce.family, 0);
	assert_false(c.announce.has_mac);
	assert_int_equal(c.announce.vni, 1);
	config_free(&c);

	/* insecure allows plain http elsewhere, wherever it stands on the line. */
	parse_ok("cluster etcd http://10.0.0.1,http://10.0.0.2 insecure prefix /\n"
		 "announce underlay auto mac auto prefix 10.200.1.0/24\n", &c);
	assert_true(c.cluster.insecure);
	assert_string_equal(c.cluster.prefix, "");
	assert_int_equal(c.cluster.n_urls, 2);
	config_free(&c);

	/* One config for every node: prefix auto takes the networks of the interfaces. */
	parse_ok("interface ul\ninterface wl\ncluster etcd https://e1\nannounce prefix auto vni 3\n", &c);
	assert_true(c.announce.prefix_auto);
	assert_int_equal(c.announce.n_prefixes, 0);
	assert_int_equal(c.announce.vni, 3);
	config_free(&c);

	/* A watcher only (no announce): a node listed in the nodes file. */
	parse_ok("cluster etcd https://e1\nnodes nodes.conf\n", &c);
	assert_int_equal(c.announce.loc.line, 0);
	config_free(&c);
}

static void test_announce_equal(void **state)
{
	struct config a, b;

	parse_ok("cluster etcd https://e\nannounce name x prefix 10.0.0.0/24 vni 3\n", &a);
	parse_ok("cluster etcd https://f\nannounce vni 3 prefix 10.0.0.0/24 name x\n", &b);
	assert_true(config_announce_equal(&a.announce, &b.announce));
	config_free(&b);
	parse_ok("cluster etcd https://e\nannounce name x prefix 10.0.0.0/24,10.1.0.0/24 vni 3\n", &b);
	assert_false(config_announce_equal(&a.announce, &b.announce));
	config_free(&a);
	config_free(&b);
}

/* A name listed three times: one error for each later copy, not one per earlier copy. */
static void test_listed_thrice(void **state)
{
	static const char *const texts[] = {
		"interface eth0\ninterface eth0\ninterface eth0\n",
		"cluster etcd https://a,https://a,https://a\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		struct diags d = { 0 };
		struct config c;

		assert_int_equal(config_parse(texts[i], strlen(texts[i]), NULL, &d, &c), -EINVAL);
		if (d.n != 2) {
			diags_print(&d, stderr);
			fail_msg("%zu errors for '%s', want 2", d.n, texts[i]);
		}
		assert_true(d.v[0].loc.line != d.v[1].loc.line || d.v[0].loc.col != d.v[1].loc.col);
		diags_free(&d);
	}
}

/* A 5,000-character sFlow host is refused (a DNS name is at most 253). */
static void test_long_host(void **state)
{
	char text[5100];
	struct diags d = { 0 };
	struct config c;
	size_t n = 0;

	n += sprintf(text, "sflow ");
	for (int i = 0; i < 1000; i++)
		n += sprintf(text + n, "abcd.");
	sprintf(text + n, "x:6343\n");
	assert_int_equal(config_parse(text, strlen(text), NULL, &d, &c), -EINVAL);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "host name longer than 253"));
	diags_free(&d);
	/* 253 is fine */
	n = sprintf(text, "sflow ");
	for (int i = 0; i < 63; i++)
		n += sprintf(text + n, "abc.");
	sprintf(text + n, "x:6343\n");
	assert_int_equal(config_parse(text, strlen(text), NULL, &d, &c), 0);
	assert_int_equal(d.n, 0);
	config_free(&c);
}

/* `size NAME N` in the config and NAME=N on the command line. */
static void test_sizes(void **state)
{
	uint32_t sz[FRINGE_SZ_COUNT] = { 0 };
	const char *why = NULL;
	struct config c;

	parse_ok("size flows 100000\nsize bitmaps 4608\nsize sample-ring 262144\n", &c);
	assert_int_equal(c.sizes[FRINGE_SZ_FLOWS], 100000);
	assert_int_equal(c.sizes[FRINGE_SZ_BITMAPS], 4608);
	assert_int_equal(c.sizes[FRINGE_SZ_SAMPLE_RING], 262144);
	assert_int_equal(c.sizes[FRINGE_SZ_V4_BLOCKS], 0);	/* not given: the default */
	config_free(&c);

	assert_int_equal(config_parse_size_opt("src-buckets=1000", sz, &why), 0);
	assert_int_equal(sz[FRINGE_SZ_SRC_BUCKETS], 1000);
	assert_int_equal(config_parse_size_opt("dns-addresses=4096", sz, &why), 0);
	assert_int_equal(sz[FRINGE_SZ_DNS_ADDRESSES], 4096);
	assert_int_equal(config_parse_size_opt("devices=2000", sz, &why), -EINVAL);
	assert_non_null(strstr(why, "devices is 1 to 1024"));
	assert_int_equal(config_parse_size_opt("flows", sz, &why), -EINVAL);
	assert_non_null(strstr(why, "NAME=N"));
	assert_int_equal(config_parse_size_opt("nosuch=1", sz, &why), -EINVAL);
	assert_non_null(strstr(why, "unknown size 'nosuch'"));
	/* Every size has a name, bounds around its default and a cost to document. */
	for (int i = 0; i < FRINGE_SZ_COUNT; i++) {
		assert_non_null(config_sizes[i].name);
		assert_non_null(config_sizes[i].cost);
		assert_true(config_sizes[i].min <= config_sizes[i].def);
		assert_true(config_sizes[i].def <= config_sizes[i].max);
		assert_int_equal(config_size_id(config_sizes[i].name), i);
	}
}

/* Every error of a file is reported, not only the first. */
static void test_all_errors(void **state)
{
	const char *text = "interface eth0 mode turbo\n"
			   "policy\n"
			   "metrics nowhere\n"
			   "bogus\n"
			   "sflow [::1]:6343\n";
	struct diags d = { .file = "fringe.conf" };
	struct config c;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(config_parse(text, strlen(text), NULL, &d, &c), -EINVAL);
	assert_int_equal(d.n, 4);
	f = open_memstream(&out, &len);
	diags_print(&d, f);
	fclose(f);
	assert_non_null(strstr(out, "fringe.conf:1:21: error: unknown mode 'turbo'"));
	assert_non_null(strstr(out, "fringe.conf:2:7: error: 'policy' needs a file path"));
	assert_non_null(strstr(out, "fringe.conf:3:9: error: bad metrics address 'nowhere'"));
	assert_non_null(strstr(out, "fringe.conf:4:1: error: unknown directive 'bogus'"));
	free(out);
	diags_free(&d);
}

/* The lexer's encoding checks apply (same lexical rules as the policy). */
static void test_encoding(void **state)
{
	static const char text[] = "policy a\ninterface e\xff" "0\n";
	struct diags d = { 0 };
	struct config c;

	assert_int_equal(config_parse(text, sizeof(text) - 1, NULL, &d, &c), -EINVAL);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].loc.line, 2);
	assert_int_equal(d.v[0].loc.col, 12);
	assert_non_null(strstr(d.v[0].msg, "invalid UTF-8"));
	diags_free(&d);
}

static void test_file(void **state)
{
	char dir[] = "/tmp/fringe-config-test.XXXXXX", path[256], cwd[4096];
	struct diags d = { 0 };
	struct config c;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fringe.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("policy sub/p.policy\nnodes ../n\n", f);
	fclose(f);
	assert_int_equal(config_parse_file(path, &d, &c), 0);
	assert_string_equal(d.file, path);
	assert_non_null(strstr(c.policy, "/sub/p.policy"));
	assert_int_equal(strncmp(c.policy, dir, strlen(dir)), 0);
	config_free(&c);

	/* A relative config path still yields absolute paths. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	d.file = NULL;
	assert_int_equal(config_parse_file("fringe.conf", &d, &c), 0);
	assert_int_equal(c.policy[0], '/');
	config_free(&c);
	assert_int_equal(chdir(cwd), 0);

	unlink(path);
	d.file = NULL;
	assert_int_equal(config_parse_file(path, &d, &c), -ENOENT);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].loc.line, 0);
	assert_non_null(strstr(d.v[0].msg, "cannot read"));
	diags_free(&d);
	rmdir(dir);
}

static int parse_path(const char *path, struct diags *d)
{
	struct config out;
	int err = config_parse_file(path, d, &out);

	if (!err)
		config_free(&out);
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
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_ipv6_and_continuation),
		cmocka_unit_test(test_metrics_tls_auth),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_cluster),
		cmocka_unit_test(test_announce_equal),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_encoding),
		cmocka_unit_test(test_long_host),
		cmocka_unit_test(test_listed_thrice),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_not_regular),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
