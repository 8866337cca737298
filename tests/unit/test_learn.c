/* SPDX-License-Identifier: GPL-2.0 */
/* Unit tests of `fringe learn`'s policy writer: flows in, a least-privilege policy out. */
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

#include <cmocka.h>

#include "compile.h"
#include "learn.h"
#include "policy.h"

/* Rows leave the fields they do not need out. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SEC 1000000000ULL

struct flow_spec {
	const char *smac, *src, *dst;
	uint8_t proto;
	int sport, dport;		/* -1: no ports */
	uint8_t app;
	uint8_t action;			/* XDP action of the latest packet; 0: pass */
	uint64_t packets;
};

static struct flow_row row(const struct flow_spec *f)
{
	struct flow_row r = { .rule = FRINGE_FLOW_NO_RULE };
	unsigned int m[6];
	bool v6 = strchr(f->src, ':');

	assert_int_equal(sscanf(f->smac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
				&m[5]), 6);
	for (int i = 0; i < 6; i++)
		r.key.smac[i] = m[i];
	r.key.family = v6 ? 6 : 4;
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, f->src, r.key.saddr), 1);
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, f->dst, r.key.daddr), 1);
	r.key.proto = f->proto;
	r.key.ifindex = 3;
	r.key.vlan = FRINGE_NO_VLAN;
	if (f->sport >= 0) {
		r.key.flags = FRINGE_FK_PORTS;
		r.key.sport = f->sport;
		r.key.dport = f->dport;
	}
	r.app = f->app;
	r.action = f->action ? f->action : 2;	/* XDP_PASS */
	r.packets = f->packets ? f->packets : 10;
	r.bytes = r.packets * 100;
	r.first_ns = 100 * SEC;
	r.last_ns = 130 * SEC;
	return r;
}

/* The learned text for the flows; it must be a policy `policy check` accepts. */
static char *learn(const struct flow_spec *f, size_t n, struct learn_summary *sum)
{
	struct flow_row *rows = calloc(n + 1, sizeof(*rows));
	struct compile_env env = { .ncpus = 0 };
	struct diags d = { .file = "<learned>" };
	struct compiled c;
	struct policy p;
	char *text = NULL;
	size_t len = 0;

	assert_non_null(rows);
	for (size_t i = 0; i < n; i++)
		rows[i] = row(&f[i]);
	assert_int_equal(learn_policy_text(rows, n, 30, 1700000000LL * (int64_t)SEC, &text, &len,
					   sum), 0);
	assert_int_equal(strlen(text), len);
	if (policy_parse(text, len, &d, &p) || compile_policy(&p, &env, &d, &c)) {
		diags_print(&d, stderr);
		fail_msg("learned policy does not compile:\n%s", text);
	}
	compiled_free(&c);
	policy_free(&p);
	diags_free(&d);
	free(rows);
	return text;
}

static void has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	for (; (p = strstr(p, line)); p += n)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return;
	fail_msg("no line '%s' in:\n%s", line, text);
}

static void lacks(const char *text, const char *s)
{
	if (strstr(text, s))
		fail_msg("unexpected '%s' in:\n%s", s, text);
}

#define S1 "02:77:01:00:00:0a"
#define S2 "02:77:02:00:00:0a"
#define ROUTER "02:99:00:00:00:01"
#define CLOUD "10.77.100.10"

static void test_devices_and_services(void **state)
{
	const struct flow_spec f[] = {
		/* sensor1: two MQTT connections (one service), CoAP, ping, and IPv6 */
		{ S1, "10.77.1.10", CLOUD, IPPROTO_TCP, 40001, 1883, FRINGE_APP_MQTT },
		{ S1, "10.77.1.10", CLOUD, IPPROTO_TCP, 40002, 1883, FRINGE_APP_MQTT },
		{ S1, "10.77.1.10", CLOUD, IPPROTO_TCP, 40003, 1883, 0 },	/* only a SYN seen */
		{ S1, "10.77.1.10", CLOUD, IPPROTO_UDP, 40004, 5683, FRINGE_APP_COAP },
		{ S1, "10.77.1.10", CLOUD, IPPROTO_ICMP, -1, -1 },
		{ S1, "fd77:1::10", "fd77:100::10", IPPROTO_TCP, 40005, 1883, FRINGE_APP_MQTT },
		/* sensor2: MQTT on 1883 where a payload failed the check: a port rule */
		{ S2, "10.77.2.10", CLOUD, IPPROTO_TCP, 40006, 1883, FRINGE_APP_MQTT },
		{ S2, "10.77.2.10", CLOUD, IPPROTO_TCP, 40007, 1883,
		  FRINGE_APP_MQTT | FRINGE_FLOW_APP_MISMATCH },
		/* sensor2 answers Modbus requests: its service is its source port */
		{ S2, "10.77.2.10", "10.77.100.20", IPPROTO_TCP, 502, 51000, FRINGE_APP_MODBUS },
		{ S2, "10.77.2.10", "10.77.100.20", IPPROTO_TCP, 502, 51001, FRINGE_APP_MODBUS },
		/* sensor2 telnets out and the policy in force drops it: commented out */
		{ S2, "10.77.2.10", CLOUD, IPPROTO_TCP, 40008, 23, 0, 1 },
	};
	struct learn_summary sum;
	char *t = learn(f, ARRAY_SIZE(f), &sum);

	assert_int_equal(sum.flows, ARRAY_SIZE(f));
	assert_int_equal(sum.devices, 2);
	assert_int_equal(sum.rules, 6);
	assert_int_equal(sum.commented, 1);
	has_line(t, "device dev-02-77-01-00-00-0a mac 02:77:01:00:00:0a ip 10.77.1.10 ip fd77:1::10");
	has_line(t, "device dev-02-77-02-00-00-0a mac 02:77:02:00:00:0a ip 10.77.2.10");
	has_line(t, "rule dev-02-77-01-00-00-0a-mqtt device dev-02-77-01-00-00-0a dst 10.77.100.10 "
		    "proto tcp dport 1883 app mqtt allow");
	has_line(t, "rule dev-02-77-01-00-00-0a-coap device dev-02-77-01-00-00-0a dst 10.77.100.10 "
		    "proto udp dport 5683 app coap allow");
	has_line(t, "rule dev-02-77-01-00-00-0a-icmp device dev-02-77-01-00-00-0a dst 10.77.100.10 "
		    "proto icmp allow");
	has_line(t, "rule dev-02-77-01-00-00-0a-mqtt-2 device dev-02-77-01-00-00-0a dst fd77:100::10 "
		    "proto tcp dport 1883 app mqtt allow");
	has_line(t, "rule dev-02-77-02-00-00-0a-tcp1883 device dev-02-77-02-00-00-0a dst 10.77.100.10 "
		    "proto tcp dport 1883 allow");
	has_line(t, "# not every payload passed the mqtt header check: matched by port, not by app");
	has_line(t, "rule dev-02-77-02-00-00-0a-modbus-answers device dev-02-77-02-00-00-0a "
		    "dst 10.77.100.20 proto tcp sport 502 app modbus allow");
	has_line(t, "# rule dev-02-77-02-00-00-0a-tcp23 device dev-02-77-02-00-00-0a dst 10.77.100.10 "
		    "proto tcp dport 23 allow");
	/* The comment of the two-flow MQTT service: what was seen, with wall-clock times. */
	has_line(t, "# 30 packets, 3000 bytes in 3 flows; first seen 2023-11-14T22:15:00Z, "
		    "last seen 2023-11-14T22:15:30Z");
	assert_non_null(strstr(t, "\ndefault drop\n"));
	assert_int_equal(strcmp(t + strlen(t) - strlen("default drop\n"), "default drop\n"), 0);
	free(t);
}

/* A MAC with many source addresses is a router's: its flows are learned by address. */
static void test_router_mac(void **state)
{
	struct flow_spec f[6];
	char src[6][16];
	struct learn_summary sum;
	char *t;

	for (int i = 0; i < 6; i++) {
		snprintf(src[i], sizeof(src[i]), "10.88.0.%d", i + 1);
		f[i] = (struct flow_spec){ ROUTER, src[i], CLOUD, IPPROTO_UDP, 40000 + i, 123,
					   FRINGE_APP_NTP };
	}
	t = learn(f, ARRAY_SIZE(f), &sum);
	assert_int_equal(sum.devices, 6);
	assert_int_equal(sum.rules, 6);
	lacks(t, "device ");
	has_line(t, "rule host-10.88.0.1-ntp src 10.88.0.1 dst 10.77.100.10 proto udp dport 123 "
		    "app ntp allow");
	has_line(t, "rule host-10.88.0.6-ntp src 10.88.0.6 dst 10.77.100.10 proto udp dport 123 "
		    "app ntp allow");
	free(t);
}

/* An address two MACs used is declared for neither (a device's ip must be its own). */
static void test_shared_address(void **state)
{
	const struct flow_spec f[] = {
		{ S1, "10.77.9.9", CLOUD, IPPROTO_ICMP, -1, -1 },
		{ S2, "10.77.9.9", CLOUD, IPPROTO_ICMP, -1, -1 },
		{ S2, "10.77.2.10", CLOUD, IPPROTO_ICMP, -1, -1 },
		{ S2, "0.0.0.0", "255.255.255.255", IPPROTO_UDP, 68, 67 },
	};
	struct learn_summary sum;
	char *t = learn(f, ARRAY_SIZE(f), &sum);

	has_line(t, "device dev-02-77-01-00-00-0a mac 02:77:01:00:00:0a");
	has_line(t, "device dev-02-77-02-00-00-0a mac 02:77:02:00:00:0a ip 10.77.2.10");
	/* DHCP: client port 68 is not a service port, the server's 67 is. */
	has_line(t, "rule dev-02-77-02-00-00-0a-udp67 device dev-02-77-02-00-00-0a "
		    "dst 255.255.255.255 proto udp dport 67 allow");
	free(t);
}

static void test_nothing_seen(void **state)
{
	struct learn_summary sum;
	char *t = learn(NULL, 0, &sum);

	assert_int_equal(sum.rules, 0);
	lacks(t, "\nrule ");
	has_line(t, "# Nothing was seen: this policy drops everything.");
	has_line(t, "default drop");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devices_and_services),
		cmocka_unit_test(test_router_mac),
		cmocka_unit_test(test_shared_address),
		cmocka_unit_test(test_nothing_seen),
	};

	return cmocka_run_group_tests_name("learn", tests, NULL, NULL);
}
