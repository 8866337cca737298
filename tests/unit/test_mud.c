/* SPDX-License-Identifier: GPL-2.0 */
/* Unit tests of MUD import: the example profiles translate into policies that check, bad ones fail with a JSON path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compile.h"
#include "file.h"
#include "mud.h"
#include "policy.h"

static char *import_file(const char *path, const struct mud_opts *o)
{
	char *text = NULL, *out = NULL, err[1024];
	size_t len = 0;

	assert_int_equal(file_read(path, 1 << 20, &text, &len), 0);
	if (mud_import(text, len, o, &out, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", path, err);
		fail();
	}
	free(text);
	return out;
}

/* The fragment, after the sets the operator defines, parses and compiles without an error. */
static void check_policy(const char *prelude, const char *frag)
{
	size_t n = strlen(prelude) + strlen(frag) + 1;
	char *text = malloc(n);
	struct diags d = { .file = "fragment" };
	struct compile_env env = { 0 };
	struct compiled c;
	struct policy p;

	snprintf(text, n, "%s%s", prelude, frag);
	if (policy_parse(text, strlen(text), &d, &p)) {
		fprintf(stderr, "%s", text);
		diags_print(&d, stderr);
		fail();
	}
	if (compile_policy(&p, &env, &d, &c)) {
		diags_print(&d, stderr);
		fail();
	}
	compiled_free(&c);
	policy_free(&p);
	diags_free(&d);
	free(text);
}

static void has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	for (; (p = strstr(p, line)); p += n)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return;
	fprintf(stderr, "missing line '%s' in:\n%s", line, text);
	fail();
}

static void test_thermostat(void **state)
{
	struct mud_opts o = { .file = "thermostat.json", .device = "thermo", .mac = "02:00:00:00:00:31",
			      .ips = { "10.1.0.31" }, .n_ips = 1,
			      .map = { { "my-controller", "hubs" } }, .n_map = 1 };
	char *out = import_file("examples/mud/thermostat.json", &o);

	has_line(out, "device thermo mac 02:00:00:00:00:31 ip 10.1.0.31");
	has_line(out, "set thermo.cloud.thermo.example.com { cloud.thermo.example.com }");
	/* An IPv4 ACL's entry is held to IPv4 although the name may resolve to AAAA too. */
	has_line(out, "rule thermo.cloud-tls device thermo src 0.0.0.0/0 dst "
		      "@thermo.cloud.thermo.example.com proto tcp dport 443 allow");
	has_line(out, "rule thermo.local-mqtt device thermo src 0.0.0.0/0 dst @hubs proto tcp dport 1883 allow");
	has_line(out, "rule thermo.local-mqtt-back src @hubs dst 10.1.0.31 proto tcp sport 1883 allow");
	has_line(out, "rule thermo.from-device-default device thermo drop");
	has_line(out, "rule thermo.cloud-tls-back src @thermo.cloud.thermo.example.com dst 10.1.0.31 "
		      "proto tcp sport 443 allow");
	has_line(out, "rule thermo.to-device-default dst 10.1.0.31 drop");
	check_policy("set hubs { 10.1.0.2, 10.1.0.3 }\n", out);
	free(out);
}

/* One name used by two entries in a row, out and back: one set, a policy
 * that parses (fuzz_mud found the set written twice). */
static void test_dns_name_twice_in_a_row(void **state)
{
	static const char mud[] =
		"{\"ietf-mud:mud\": {\"mud-version\": 1, \"mud-url\": \"https://x.example.com/m.json\","
		" \"last-update\": \"2026-11-30T10:00:00+00:00\", \"is-supported\": true,"
		" \"from-device-policy\": {\"access-lists\": {\"access-list\": [{\"name\": \"f\"}]}},"
		" \"to-device-policy\": {\"access-lists\": {\"access-list\": [{\"name\": \"t\"}]}}},"
		" \"ietf-access-control-list:acls\": {\"acl\": ["
		"  {\"name\": \"f\", \"type\": \"ipv4-acl-type\", \"aces\": {\"ace\": [{\"name\": \"out\","
		"   \"matches\": {\"ipv4\": {\"ietf-acldns:dst-dnsname\": \"cloud.example.com\", \"protocol\": 6}},"
		"   \"actions\": {\"forwarding\": \"accept\"}}]}},"
		"  {\"name\": \"t\", \"type\": \"ipv4-acl-type\", \"aces\": {\"ace\": [{\"name\": \"back\","
		"   \"matches\": {\"ipv4\": {\"ietf-acldns:src-dnsname\": \"cloud.example.com\", \"protocol\": 6}},"
		"   \"actions\": {\"forwarding\": \"accept\"}}]}}]}}";
	struct mud_opts o = { .file = "twice.json", .device = "d", .mac = "02:00:00:00:00:01",
			      .ips = { "10.0.0.1" }, .n_ips = 1 };
	char err[1024], *out = NULL;
	const char *first;

	if (mud_import(mud, strlen(mud), &o, &out, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		fail();
	}
	first = strstr(out, "set d.cloud.example.com {");
	assert_non_null(first);
	assert_null(strstr(first + 1, "set d.cloud.example.com {"));
	has_line(out, "rule d.back src @d.cloud.example.com dst 10.0.0.1 proto tcp allow");
	check_policy("", out);
	free(out);
}

static void test_camera(void **state)
{
	struct mud_opts o = { .device = "cam", .mac = "02:00:00:00:00:41",
			      .ips = { "10.1.0.41", "fd01::41" }, .n_ips = 2 };
	char *out = import_file("examples/mud/camera.json", &o);

	has_line(out, "rule cam.rtp-v4 device cam dst 10.20.0.0/24 proto udp sport 6970-6999 allow");
	has_line(out, "rule cam.rtp-v6 device cam dst fd20::/64 proto udp sport 6970-6999 allow");
	/* to-device rules match the device's address of the ACL's family */
	has_line(out, "rule cam.rtsp-v4 src 10.20.0.0/24 dst 10.1.0.41 proto tcp dport 554 allow");
	has_line(out, "rule cam.telnet-v4 dst 10.1.0.41 proto tcp dport 23 drop");
	has_line(out, "rule cam.rtsp-v6 src fd20::/64 dst fd01::41 proto tcp dport 554-555 allow");
	has_line(out, "set cam.addrs { 10.1.0.41, fd01::41 }");
	has_line(out, "rule cam.to-device-default dst @cam.addrs drop");
	check_policy("", out);
	free(out);
}

static void test_lightbulb(void **state)
{
	struct mud_opts o = { .mac = "02:00:00:00:00:51", .ips = { "10.1.0.51" }, .n_ips = 1,
			      .map = { { "my-controller", "hub" }, { "same-manufacturer", "bulbs" } },
			      .n_map = 2 };
	char *out = import_file("examples/mud/lightbulb.json", &o);

	/* Without --device the device is its MAC, and no device line is written. */
	assert_null(strstr(out, "\ndevice "));
	has_line(out, "rule mud.hub-coap mac 02:00:00:00:00:51 src 0.0.0.0/0 dst @hub proto udp dport 5683 allow");
	has_line(out, "rule mud.peers mac 02:00:00:00:00:51 src 0.0.0.0/0 dst @bulbs proto udp dport 5683 allow");
	has_line(out, "rule mud.hub-coap-in src @hub dst 10.1.0.51 proto udp dport 5683 allow");
	check_policy("set hub { 10.1.0.2 }\nset bulbs { 10.1.0.52, 10.1.0.53 }\n", out);
	free(out);
}

/* ---- bad profiles: exit with the JSON path, print nothing ---------------- */

#define HEAD "{\"ietf-mud:mud\": {\"mud-version\": 1, \"from-device-policy\": {\"access-lists\": " \
	     "{\"access-list\": [{\"name\": \"a\"}]}}}, \"ietf-access-control-list:acls\": {\"acl\": " \
	     "[{\"name\": \"a\", \"type\": \"ipv4-acl-type\", \"aces\": {\"ace\": ["
#define TAIL "]}}]}}"
#define ACE(m, act) "{\"name\": \"e0\", \"matches\": {" m "}, \"actions\": {\"forwarding\": \"" act "\"}}"

struct bad {
	const char *json;
	const char *err;	/* the whole message must start with this */
};

static const struct bad bads[] = {
	{ "{\"ietf-mud:mud\": ", "/: error: invalid JSON" },
	{ "[1, 2]", "/: error: expected an object, got an array" },
	{ "{\"ietf-mud:mud\": {}} trailing", "/: error: invalid JSON" },
	{ "{\"ietf-mud:mud\": {\"mud-version\": 1,}}", "/: error: invalid JSON" },
	{ "{\"ietf-access-control-list:acls\": {\"acl\": []}}", "/ietf-mud:mud: error: missing" },
	{ "{\"ietf-mud:mud\": {\"from-device-policy\": 3}, \"ietf-access-control-list:acls\": {\"acl\": []}}",
	  "/ietf-mud:mud/from-device-policy: error: expected an object, got an integer" },
	{ "{\"ietf-mud:mud\": {\"from-device-policy\": {\"access-lists\": {\"access-list\": [{\"name\": \"x\"}]}}},"
	  " \"ietf-access-control-list:acls\": {\"acl\": []}}",
	  "/ietf-mud:mud/from-device-policy/access-lists/access-list/0/name: error: no ACL named 'x'" },
	{ "{\"ietf-mud:mud\": {}, \"ietf-access-control-list:acls\": {\"acl\": []}}",
	  "/ietf-mud:mud: error: neither from-device-policy nor to-device-policy" },
	{ HEAD "{\"name\": \"e0\", \"matches\": [], \"actions\": {\"forwarding\": \"accept\"}}" TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches: error: expected an object, got an array" },
	{ HEAD ACE("\"icmp\": {\"type\": 8}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/icmp: error: unknown ACL match 'icmp'" },
	{ HEAD ACE("\"ipv4\": {\"ttl\": 1}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/ttl: error: unknown ipv4 match" },
	{ HEAD ACE("\"ipv4\": {\"protocol\": \"tcp\"}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/protocol: error: expected an integer, got a string" },
	{ HEAD ACE("\"ipv4\": {\"protocol\": 300}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/protocol: error: 300 is out of range" },
	{ HEAD ACE("\"ietf-mud:mud\": {\"model\": \"urn:x\"}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ietf-mud:mud/model: error: unmapped abstraction 'model'" },
	/* the abstractions' values have their YANG types */
	{ HEAD ACE("\"ietf-mud:mud\": {\"my-controller\": \"hub\"}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ietf-mud:mud/my-controller: error: expected [null] (an empty leaf), got a string" },
	{ HEAD ACE("\"ietf-mud:mud\": {\"manufacturer\": 7}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ietf-mud:mud/manufacturer: error: expected a string, got an integer" },
	/* one set cannot stand for two controllers: refused, not merged */
	{ HEAD ACE("\"ietf-mud:mud\": {\"controller\": \"urn:x\"}", "accept") ","
	  "{\"name\": \"e1\", \"matches\": {\"ietf-mud:mud\": {\"controller\": \"urn:y\"}}, "
	  "\"actions\": {\"forwarding\": \"accept\"}}" TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/1/matches/ietf-mud:mud/controller: error: 'urn:y' here, "
	  "'urn:x' at /ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ietf-mud:mud/controller" },
	{ HEAD ACE("\"ietf-mud:mud\": {\"brand\": [null]}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ietf-mud:mud/brand: error: unknown MUD match" },
	{ HEAD ACE("\"tcp\": {\"ietf-mud:direction-initiated\": \"from-device\"}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/tcp/ietf-mud:direction-initiated: error: fringe judges each packet alone" },
	{ HEAD ACE("\"tcp\": {\"destination-port\": {\"operator\": \"eq\", \"port\": 70000}}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/tcp/destination-port/port: error: 70000 is out of range" },
	{ HEAD ACE("\"tcp\": {\"destination-port\": {\"operator\": \"near\", \"port\": 80}}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/tcp/destination-port/operator: error: unknown operator 'near'" },
	{ HEAD ACE("\"udp\": {\"source-port\": {\"lower-port\": 90, \"upper-port\": 80}}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/udp/source-port/upper-port: error: 80 is out of range" },
	{ HEAD ACE("\"ipv4\": {\"protocol\": 17}, \"tcp\": {}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/tcp: error: a tcp match on an entry whose protocol is 17" },
	{ HEAD ACE("\"ipv6\": {\"protocol\": 6}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches: error: an ipv6 match in an IPv4 ACL" },
	/* a network is parsed whole: nothing after it reaches the policy */
	{ HEAD ACE("\"ipv4\": {\"destination-ipv4-network\": \"10.0.0.0/8 allow\\nrule evil allow\\n#\"}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/destination-ipv4-network: error: invalid prefix length in '10.0.0.0/8 allow?rule evil allow?#'" },
	{ HEAD ACE("\"ipv4\": {\"destination-ipv4-network\": \"10.0.0.0/33\"}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/destination-ipv4-network: error: invalid prefix length in '10.0.0.0/33' (0-32)" },
	{ HEAD ACE("\"ipv4\": {\"source-ipv4-network\": \"10.0.0.1/8\"}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/source-ipv4-network: error: host bits set in 10.0.0.1/8 (did you mean 10.0.0.0/8?)" },
	{ HEAD ACE("\"ipv4\": {\"destination-ipv4-network\": \"fd00::/8\"}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/destination-ipv4-network: error: 'fd00::/8' is not an IPv4 network" },
	{ HEAD ACE("\"ipv4\": {\"ietf-acldns:dst-dnsname\": \"not a name\"}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/ietf-acldns:dst-dnsname: error: 'not a name' is not a DNS name" },
	{ HEAD ACE("\"ipv4\": {\"ietf-acldns:src-dnsname\": \"cam.example.com\"}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/ietf-acldns:src-dnsname: error: a DNS name for the device itself" },
	{ HEAD ACE("\"ipv4\": {\"destination-ipv4-network\": \"10.0.0.0/8\", \"ietf-acldns:dst-dnsname\": \"a.example.com\"}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/ietf-acldns:dst-dnsname: error: a second match on the same address" },
	{ HEAD ACE("", "reject") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/actions/forwarding: error: 'reject' cannot be translated" },
	{ HEAD "{\"name\": \"bad name!\", \"actions\": {\"forwarding\": \"accept\"}}" TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/name: error: 'bad name!' cannot name a rule" },
	{ HEAD ACE("", "accept") "," ACE("", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/1/name: error: a second entry named 'e0'" },
	/* a member given twice: JSON parsers keep one or the other, a reader sees the first */
	{ HEAD ACE("\"ipv4\": {\"destination-ipv4-network\": \"10.1.0.0/24\", "
		   "\"destination-ipv4-network\": \"0.0.0.0/0\"}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/destination-ipv4-network: error: given twice" },
	{ HEAD ACE("\"ipv4\": {\"protocol\": 6}, \"ipv\\u0034\": {\"protocol\": 17}", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4: error: given twice" },
	{ "{\"ietf-mud:mud\": {}, \"a~/b\": [{\"x\": 1, \"y\": {}, \"x\": 2}], \"ietf-access-control-list:acls\": {}}",
	  "/a~0~1b/0/x: error: given twice" },
	/* ACL names are the list's key: a second ACL of the same name would be ignored */
	{ HEAD ACE("", "drop") "]}}, {\"name\": \"a\", \"aces\": {\"ace\": [" ACE("", "accept") TAIL,
	  "/ietf-access-control-list:acls/acl/1/name: error: a second ACL named 'a'" },
	{ HEAD "{\"name\": \"e0\", \"matches\": {}}" TAIL,
	  "/ietf-access-control-list:acls/acl/0/aces/ace/0/actions: error: missing" },
};

static void test_bad_profiles(void **state)
{
	struct mud_opts o = { .device = "d", .mac = "02:00:00:00:00:01",
			      .map = { { "my-controller", "hubs" }, { "manufacturer", "m" }, { "controller", "c" } },
			      .n_map = 3 };

	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		char err[1024], *out = (char *)1;
		int rc = mud_import(bads[i].json, strlen(bads[i].json), &o, &out, err, sizeof(err));

		if (rc != -EINVAL || out || strncmp(err, bads[i].err, strlen(bads[i].err))) {
			fprintf(stderr, "case %zu: rc %d, error '%s'\n  wanted '%s'\n", i, rc, err,
				bads[i].err);
			fail();
		}
	}
}

/* Who the device is must be known: a profile is never widened to everyone. */
static void test_needs_device(void **state)
{
	const char *from = HEAD ACE("", "accept") TAIL;
	const char *to = "{\"ietf-mud:mud\": {\"to-device-policy\": {\"access-lists\": {\"access-list\": "
			 "[{\"name\": \"a\"}]}}}, \"ietf-access-control-list:acls\": {\"acl\": [{\"name\": \"a\","
			 " \"type\": \"ipv6-acl-type\", \"aces\": {\"ace\": [" ACE("", "accept") TAIL;
	struct mud_opts none = { 0 }, v4only = { .ips = { "10.0.0.1" }, .n_ips = 1 };
	char err[1024], *out;

	assert_int_equal(mud_import(from, strlen(from), &none, &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "from-device entries need the device"));
	assert_int_equal(mud_import(to, strlen(to), &none, &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "give --ip ADDR"));
	/* an IPv6 ACL needs an IPv6 address of the device */
	assert_int_equal(mud_import(to, strlen(to), &v4only, &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "(an IPv6 one)"));
	struct mud_opts badmap = { .mac = "02:00:00:00:00:01", .map = { { "vendor", "x" } }, .n_map = 1 };

	assert_int_equal(mud_import(from, strlen(from), &badmap, &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--map vendor=@x"));
	struct mud_opts twice = { .mac = "02:00:00:00:00:01",
				  .map = { { "my-controller", "a" }, { "my-controller", "b" } }, .n_map = 2 };

	assert_int_equal(mud_import(from, strlen(from), &twice, &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--map my-controller given twice"));
}

/* The profile's free text (mud-url, systeminfo, ACL names) stays inside its comment lines. */
static void test_comments_stay_comments(void **state)
{
	const char *json = "{\"ietf-mud:mud\": {\"mud-version\": 1, \"mud-url\": \"https://x.example.com/m.json\\n"
			   "rule url-evil allow\", \"systeminfo\": \"a bulb\\r\\nrule info-evil allow\\u0007\","
			   " \"from-device-policy\": {\"access-lists\": {\"access-list\": [{\"name\": \"a\\n"
			   "rule acl-evil allow\"}]}}}, \"ietf-access-control-list:acls\": {\"acl\": [{\"name\":"
			   " \"a\\nrule acl-evil allow\", \"type\": \"ipv4-acl-type\", \"aces\": {\"ace\": ["
			   ACE("", "accept") TAIL;
	struct mud_opts o = { .device = "d", .mac = "02:00:00:00:00:01", .file = "bad\nrule file-evil allow" };
	char err[1024], *out;

	assert_int_equal(mud_import(json, strlen(json), &o, &out, err, sizeof(err)), 0);
	assert_null(strstr(out, "\nrule url-evil"));
	assert_null(strstr(out, "\nrule info-evil"));
	assert_null(strstr(out, "\nrule acl-evil"));
	assert_null(strstr(out, "\nrule file-evil"));
	has_line(out, "# systeminfo: a bulb??rule info-evil allow?");
	check_policy("", out);
	free(out);

	/* JSON is UTF-8 (RFC 8259): other bytes are refused, not copied into the policy */
	const char *latin1 = "{\"ietf-mud:mud\": {\"systeminfo\": \"caf\xe9\"}}";

	assert_int_equal(mud_import(latin1, strlen(latin1), &o, &out, err, sizeof(err)), -EINVAL);
	assert_null(out);
	assert_non_null(strstr(err, "/: error: invalid JSON"));
}

/* DNS names as set items: canonical form and what is refused. */
static void test_dns_names(void **state)
{
	static const struct { const char *in, *out; } good[] = {
		{ "broker.example.com", "broker.example.com" },
		{ "Broker.Example.COM.", "broker.example.com" },
		{ "*.iot.example.net", "*.iot.example.net" },
		{ "_mqtt._tcp.example.com", "_mqtt._tcp.example.com" },
		{ "1e100.net", "1e100.net" },
	};
	static const char *const bad[] = { "example", "a..b.com", "-a.example.com", "a-.example.com",
		"*.com", "a.*.com", "10.0.0.1", "x.123", "a b.com", "*", "", "." };
	char out[POL_DNS_NAME_LEN], long_name[300];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(policy_dns_name(good[i].in, out));
		assert_string_equal(out, good[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (policy_dns_name(bad[i], out)) {
			fprintf(stderr, "'%s' was taken for a DNS name\n", bad[i]);
			fail();
		}
	/* 253 bytes is the most */
	memset(long_name, 'a', sizeof(long_name));
	for (int i = 63; i < 253; i += 64)
		long_name[i] = '.';
	long_name[253] = 0;
	assert_true(policy_dns_name(long_name, out));
	long_name[253] = 'a', long_name[254] = 0;
	assert_false(policy_dns_name(long_name, out));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thermostat),
		cmocka_unit_test(test_dns_name_twice_in_a_row),
		cmocka_unit_test(test_camera),
		cmocka_unit_test(test_lightbulb),
		cmocka_unit_test(test_bad_profiles),
		cmocka_unit_test(test_needs_device),
		cmocka_unit_test(test_comments_stay_comments),
		cmocka_unit_test(test_dns_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
