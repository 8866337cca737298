// SPDX-License-Identifier: GPL-2.0
/* Application recognition (app, modbus-fc, mqtt-type), devices and their counters: fixture tables. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "fixture.h"
#include "fixture_cmocka.h"
#include "flows.h"
#include "pkt.h"

/* Rows override the fields of a base packet. */
#pragma GCC diagnostic ignored "-Woverride-init"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FRAME_CAP 2048

#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }
#define PAYLOAD(...) .payload = BYTES(__VA_ARGS__), .payload_len = sizeof(BYTES(__VA_ARGS__))
#define TEXT(s) .payload = (const uint8_t *)(s), .payload_len = sizeof(s) - 1
/* The client's side: sport 0 in a TCP row means "a fresh flow" (the runner picks a port). */
#define TCP(port, ...) { .src = "10.1.0.1", .dst = "10.2.0.1", .proto = IPPROTO_TCP, \
			 .dport = (port), .tcp_flags = 0x18, __VA_ARGS__ }
#define UDP(port, ...) { .src = "10.1.0.1", .dst = "10.2.0.1", .proto = IPPROTO_UDP, \
			 .sport = 40000, .dport = (port), __VA_ARGS__ }
#define SYN .tcp_flags = 0x02
#define ACK .tcp_flags = 0x10

/* Messages of each protocol, as clients send them. */
#define MQTT_CONNECT PAYLOAD(0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, \
			     0x00, 0x04, 't', 'e', 's', 't')
#define MQTT_PUBLISH PAYLOAD(0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', '4', '2')
#define MQTT_PUBLISH_QOS1 PAYLOAD(0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, '4', '2')
#define MQTT_SUBSCRIBE PAYLOAD(0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 'a', '/', '#', 0x00)
#define MQTT_PINGREQ PAYLOAD(0xc0, 0x00)
#define MQTT_CONNACK PAYLOAD(0x20, 0x02, 0x00, 0x00)
#define MODBUS(fc) PAYLOAD(0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, (fc), 0x00, 0x00, 0x00, 0x0a)
#define COAP_GET PAYLOAD(0x40, 0x01, 0x12, 0x34, 0xb4, 't', 'e', 'm', 'p')
#define DTLS_HELLO PAYLOAD(0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x10)
#define TLS_HELLO PAYLOAD(0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03)
#define BACNET_WHOIS PAYLOAD(0x81, 0x0b, 0x00, 0x0c, 0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x08)
#define OPCUA_HELLO PAYLOAD('H', 'E', 'L', 'F', 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00)
#define DNP3_LINK PAYLOAD(0x05, 0x64, 0x05, 0xc0, 0x01, 0x00, 0x00, 0x04, 0xe9, 0x21)
#define DNS_QUERY_BYTES 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, \
			0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00, \
			0x00, 0x01, 0x00, 0x01
#define NTP_CLIENT PAYLOAD(0x23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, \
			   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

struct app_case {
	const char *name;
	struct pkt_opts pkt;
	uint32_t action;	/* XDP_* */
	const char *rule;	/* the counter that rises by one ("default") */
	int app;		/* enum fringe_app counted in fringe_app_stats; 0: none */
	/* Damage the built frame; returns the new length. */
	size_t (*mutate)(uint8_t *fr, size_t len, const struct pkt_opts *o);
};

#define PASS(r) .action = XDP_PASS, .rule = (r)
#define DROP(r) .action = XDP_DROP, .rule = (r)

/* ---- counters ---------------------------------------------------------------------- */

struct snap {
	uint32_t n;
	char (*names)[FRINGE_NAME_LEN];
	struct fringe_counter *rule;	/* n + 1: [n] is default */
	struct fringe_counter app[FRINGE_APP_COUNT];
};

static void snap_take(struct fx *f, struct snap *s)
{
	const struct fringe_slot_hdr *hdr = maps_active_hdr(&f->m);
	struct fringe_rule_action *a;

	s->n = hdr->n_rules;
	a = calloc(s->n + 1, sizeof(*a));
	s->names = calloc(s->n + 1, sizeof(*s->names));
	s->rule = calloc(s->n + 1, sizeof(*s->rule));
	assert_non_null(a);
	assert_non_null(s->names);
	assert_non_null(s->rule);
	assert_int_equal(maps_read_actions(&f->m, f->m.meta->active & 1, a, s->n), 0);
	for (uint32_t i = 0; i < s->n; i++) {
		memcpy(s->names[i], f->m.names[a[i].counter_id].name, FRINGE_NAME_LEN);
		assert_int_equal(maps_read_rule_counter(&f->m, a[i].counter_id, &s->rule[i]), 0);
	}
	snprintf(s->names[s->n], FRINGE_NAME_LEN, "default");
	assert_int_equal(maps_read_rule_counter(&f->m, 0, &s->rule[s->n]), 0);
	assert_int_equal(maps_read_app_stats(&f->m, s->app), 0);
	free(a);
}

static void snap_free(struct snap *s)
{
	free(s->names);
	free(s->rule);
	memset(s, 0, sizeof(*s));
}

/* ---- the table runner -------------------------------------------------------------- */

static size_t table_rows;	/* rows run, reported at the end */
static uint16_t next_sport = 42000;

static void run_case(struct fx *f, const struct app_case *c)
{
	struct pkt_opts o = c->pkt;
	uint8_t fr[FRAME_CAP];
	struct snap a = {}, b = {};
	uint32_t action = ~0u;
	bool found = false;
	size_t len;
	int err;

	if (o.proto == IPPROTO_TCP && !o.sport && !o.dport)
		fail_msg("%s: table error: no port", c->name);
	if (o.proto == IPPROTO_TCP && !o.sport)
		o.sport = next_sport++;		/* a flow no earlier row confirmed */
	len = pkt_build(fr, sizeof(fr), &o);
	if (!len)
		fail_msg("%s: pkt_build failed", c->name);
	if (c->mutate)
		len = c->mutate(fr, len, &o);

	snap_take(f, &a);
	err = fx_run(f, fr, len, 0, &action);
	snap_take(f, &b);
	if (err)
		fail_msg("%s: test run failed: %s", c->name, strerror(-err));
	if (action != c->action)
		fail_msg("%s: XDP action %u, want %u", c->name, action, c->action);
	assert_int_equal(a.n, b.n);
	for (uint32_t i = 0; i <= a.n; i++) {
		bool hit = !strcmp(a.names[i], c->rule);
		uint64_t dp = b.rule[i].packets - a.rule[i].packets;

		found |= hit;
		if (dp != (hit ? 1 : 0))
			fail_msg("%s: counter of rule '%s' rose by %llu (expected rule: %s)", c->name,
				 a.names[i], (unsigned long long)dp, c->rule);
	}
	if (!found)
		fail_msg("%s: no rule '%s' in the policy", c->name, c->rule);
	for (int i = 0; i < FRINGE_APP_COUNT; i++) {
		uint64_t dp = b.app[i].packets - a.app[i].packets;
		uint64_t db = b.app[i].bytes - a.app[i].bytes;
		bool want = c->app && i == c->app;

		if (dp != (want ? 1 : 0) || db != (want ? len : 0))
			fail_msg("%s: app counter %d rose by %llu packets / %llu bytes (expected app %d)",
				 c->name, i, (unsigned long long)dp, (unsigned long long)db, c->app);
	}
	snap_free(&a);
	snap_free(&b);
	table_rows++;
}

static void run_table(void **state, const char *policy, const struct app_case *cases, size_t n)
{
	struct fx *f = get_fx(state);

	load_ok(f, policy);
	for (size_t i = 0; i < n; i++)
		run_case(f, &cases[i]);
}

/* ---- mutations ----------------------------------------------------------------------- */

static size_t tcp_off(const struct pkt_opts *o)
{
	return pkt_l3_offset(o) + (strchr(o->src, ':') ? 40 : 20);
}

/* The TCP data offset says 60 bytes, more than the segment holds. */
static size_t tcp_doff_beyond(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	fr[tcp_off(o) + 12] = 15 << 4;
	return len;
}

/* The TCP data offset says 16 bytes, less than a TCP header. */
static size_t tcp_doff_short(uint8_t *fr, size_t len, const struct pkt_opts *o)
{
	fr[tcp_off(o) + 12] = 4 << 4;
	return len;
}

/* ---- every application: valid, port-only impostor, truncated --------------------------- */

static const char policy_apps[] =
	"rule mqtt app mqtt allow\n"
	"rule mqtts app mqtts allow\n"
	"rule coap app coap allow\n"
	"rule coaps app coaps allow\n"
	"rule modbus app modbus allow\n"
	"rule bacnet app bacnet allow\n"
	"rule opcua app opcua allow\n"
	"rule dnp3 app dnp3 allow\n"
	"rule dns app dns allow\n"
	"rule ntp app ntp allow\n"
	"rule tcp-other proto tcp drop\n"
	"rule udp-other proto udp drop\n"
	"default drop\n";

static const struct app_case cases_apps[] = {
	/* MQTT: TCP 1883, fixed header */
	{ "mqtt connect", .pkt = TCP(1883, MQTT_CONNECT), PASS("mqtt"), .app = FRINGE_APP_MQTT },
	{ "mqtt publish", .pkt = TCP(1883, MQTT_PUBLISH), PASS("mqtt"), .app = FRINGE_APP_MQTT },
	{ "mqtt connack from the broker (sport)", .pkt = TCP(50000, .sport = 1883, MQTT_CONNACK),
	  PASS("mqtt"), .app = FRINGE_APP_MQTT },
	{ "mqtt over IPv6", .pkt = TCP(1883, .src = "2001:db8::1", .dst = "2001:db8::2",
				       MQTT_SUBSCRIBE), PASS("mqtt"), .app = FRINGE_APP_MQTT },
	{ "mqtt impostor: HTTP on 1883", .pkt = TCP(1883, TEXT("GET / HTTP/1.1\r\n\r\n")),
	  DROP("tcp-other") },
	{ "mqtt impostor: packet type 0", .pkt = TCP(1883, PAYLOAD(0x00, 0x00)), DROP("tcp-other") },
	{ "mqtt impostor: SUBSCRIBE without its flags", .pkt = TCP(1883, PAYLOAD(0x80, 0x00)),
	  DROP("tcp-other") },
	{ "mqtt impostor: PUBLISH with QoS 3", .pkt = TCP(1883, PAYLOAD(0x36, 0x00)),
	  DROP("tcp-other") },
	{ "mqtt publish, remaining length in two bytes (200)",
	  .pkt = TCP(1883, PAYLOAD(0x30, 0xc8, 0x01, 0x80, 0x80, 0x80)), PASS("mqtt"),
	  .app = FRINGE_APP_MQTT },
	{ "mqtt publish, remaining length in four bytes (the largest)",
	  .pkt = TCP(1883, PAYLOAD(0x30, 0xff, 0xff, 0xff, 0x7f, 0x00)), PASS("mqtt"),
	  .app = FRINGE_APP_MQTT },
	{ "mqtt impostor: remaining length of 5 bytes",
	  .pkt = TCP(1883, PAYLOAD(0x30, 0xff, 0xff, 0xff, 0xff, 0x01)), DROP("tcp-other") },
	{ "mqtt truncated: one byte", .pkt = TCP(1883, PAYLOAD(0x10)), DROP("tcp-other") },
	{ "mqtt truncated: remaining length cut", .pkt = TCP(1883, PAYLOAD(0x30, 0x80)),
	  DROP("tcp-other") },
	{ "mqtt on another port", .pkt = TCP(1884, MQTT_CONNECT), DROP("tcp-other") },
	{ "mqtt over UDP is not mqtt", .pkt = UDP(1883, MQTT_CONNECT), DROP("udp-other") },
	/* MQTT over TLS: TCP 8883, a TLS record header */
	{ "mqtts client hello", .pkt = TCP(8883, TLS_HELLO), PASS("mqtts"), .app = FRINGE_APP_MQTTS },
	{ "mqtts impostor: plain MQTT on 8883", .pkt = TCP(8883, MQTT_CONNECT), DROP("tcp-other") },
	{ "mqtts impostor: TLS version 3.9", .pkt = TCP(8883, PAYLOAD(0x16, 0x03, 0x09, 0x00, 0x05)),
	  DROP("tcp-other") },
	{ "mqtts truncated record header", .pkt = TCP(8883, PAYLOAD(0x16, 0x03, 0x01, 0x00)),
	  DROP("tcp-other") },
	/* CoAP: UDP 5683, version 1, token length <= 8 */
	{ "coap get", .pkt = UDP(5683, COAP_GET), PASS("coap"), .app = FRINGE_APP_COAP },
	{ "coap with an 8-byte token", .pkt = UDP(5683, PAYLOAD(0x48, 0x02, 0x12, 0x34, 1, 2, 3, 4, 5,
								 6, 7, 8)),
	  PASS("coap"), .app = FRINGE_APP_COAP },
	{ "coap response 2.05 from the server", .pkt = UDP(40000, .sport = 5683,
							    PAYLOAD(0x60, 0x45, 0x12, 0x34)),
	  PASS("coap"), .app = FRINGE_APP_COAP },
	{ "coap over IPv6", .pkt = UDP(5683, .src = "2001:db8::1", .dst = "2001:db8::2", COAP_GET),
	  PASS("coap"), .app = FRINGE_APP_COAP },
	{ "coap impostor: version 0", .pkt = UDP(5683, PAYLOAD(0x00, 0x01, 0x12, 0x34)),
	  DROP("udp-other") },
	{ "coap impostor: token length 9", .pkt = UDP(5683, PAYLOAD(0x49, 0x01, 0x12, 0x34, 1, 2, 3,
								     4, 5, 6, 7, 8, 9)),
	  DROP("udp-other") },
	{ "coap impostor: code class 3", .pkt = UDP(5683, PAYLOAD(0x40, 0x61, 0x12, 0x34)),
	  DROP("udp-other") },
	{ "coap truncated: 3 bytes", .pkt = UDP(5683, PAYLOAD(0x40, 0x01, 0x12)), DROP("udp-other") },
	{ "coap truncated: token past the end", .pkt = UDP(5683, PAYLOAD(0x44, 0x01, 0x12, 0x34, 1)),
	  DROP("udp-other") },
	{ "coap: empty datagram", .pkt = UDP(5683), DROP("udp-other") },
	/* CoAP over DTLS: UDP 5684, a DTLS record header */
	{ "coaps dtls 1.2 record", .pkt = UDP(5684, DTLS_HELLO), PASS("coaps"), .app = FRINGE_APP_COAPS },
	{ "coaps impostor: TLS, not DTLS", .pkt = UDP(5684, PAYLOAD(0x16, 0x03, 0x03, 0, 0, 0, 0, 0, 0,
								     0, 0, 0x00, 0x10)),
	  DROP("udp-other") },
	{ "coaps impostor: plain CoAP on 5684", .pkt = UDP(5684, COAP_GET), DROP("udp-other") },
	{ "coaps truncated: 12 bytes", .pkt = UDP(5684, PAYLOAD(0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0,
								 0, 0x00)),
	  DROP("udp-other") },
	/* Modbus/TCP: TCP 502, MBAP protocol id 0 and a sane length */
	{ "modbus read holding registers", .pkt = TCP(502, MODBUS(3)), PASS("modbus"),
	  .app = FRINGE_APP_MODBUS },
	{ "modbus response from the server", .pkt = TCP(50000, .sport = 502,
							PAYLOAD(0x00, 0x01, 0x00, 0x00, 0x00, 0x05,
								0x01, 0x03, 0x02, 0x00, 0x2a)),
	  PASS("modbus"), .app = FRINGE_APP_MODBUS },
	{ "modbus impostor: protocol id 1",
	  .pkt = TCP(502, PAYLOAD(0x00, 0x01, 0x00, 0x01, 0x00, 0x06, 0x01, 0x03, 0, 0, 0, 1)),
	  DROP("tcp-other") },
	{ "modbus impostor: length 0",
	  .pkt = TCP(502, PAYLOAD(0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0, 0, 0, 1)),
	  DROP("tcp-other") },
	{ "modbus impostor: length 300",
	  .pkt = TCP(502, PAYLOAD(0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x01, 0x03, 0, 0, 0, 1)),
	  DROP("tcp-other") },
	{ "modbus impostor: text", .pkt = TCP(502, TEXT("SSH-2.0-OpenSSH_9.2\r\n")),
	  DROP("tcp-other") },
	{ "modbus truncated MBAP: 7 bytes",
	  .pkt = TCP(502, PAYLOAD(0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01)), DROP("tcp-other") },
	/* BACnet/IP: UDP 47808, BVLC type 0x81 */
	{ "bacnet who-is", .pkt = UDP(47808, BACNET_WHOIS), PASS("bacnet"), .app = FRINGE_APP_BACNET },
	{ "bacnet impostor: BVLC type 0x82",
	  .pkt = UDP(47808, PAYLOAD(0x82, 0x0b, 0x00, 0x0c, 0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10,
				    0x08)),
	  DROP("udp-other") },
	{ "bacnet impostor: BVLC length is not the datagram's",
	  .pkt = UDP(47808, PAYLOAD(0x81, 0x0b, 0x00, 0x20, 0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10,
				    0x08)),
	  DROP("udp-other") },
	{ "bacnet truncated: 3 bytes", .pkt = UDP(47808, PAYLOAD(0x81, 0x0b, 0x00)), DROP("udp-other") },
	/* OPC UA binary: TCP 4840, message types */
	{ "opcua hello", .pkt = TCP(4840, OPCUA_HELLO), PASS("opcua"), .app = FRINGE_APP_OPCUA },
	{ "opcua secure message", .pkt = TCP(4840, PAYLOAD('M', 'S', 'G', 'F', 0x10, 0, 0, 0, 1, 0, 0,
							    0)),
	  PASS("opcua"), .app = FRINGE_APP_OPCUA },
	{ "opcua impostor: HTTP", .pkt = TCP(4840, TEXT("GET / HTTP/1.1\r\n\r\n")), DROP("tcp-other") },
	{ "opcua impostor: unknown chunk type", .pkt = TCP(4840, PAYLOAD('H', 'E', 'L', 'X', 0x1c, 0,
									  0, 0)),
	  DROP("tcp-other") },
	{ "opcua truncated: 4 bytes", .pkt = TCP(4840, PAYLOAD('H', 'E', 'L', 'F')), DROP("tcp-other") },
	/* DNP3: TCP and UDP 20000, start bytes 0x05 0x64 */
	{ "dnp3 over tcp", .pkt = TCP(20000, DNP3_LINK), PASS("dnp3"), .app = FRINGE_APP_DNP3 },
	{ "dnp3 over udp", .pkt = UDP(20000, DNP3_LINK), PASS("dnp3"), .app = FRINGE_APP_DNP3 },
	{ "dnp3 impostor: start bytes 05 65",
	  .pkt = TCP(20000, PAYLOAD(0x05, 0x65, 0x05, 0xc0, 0x01, 0x00, 0x00, 0x04, 0xe9, 0x21)),
	  DROP("tcp-other") },
	{ "dnp3 truncated: 9 bytes",
	  .pkt = UDP(20000, PAYLOAD(0x05, 0x64, 0x05, 0xc0, 0x01, 0x00, 0x00, 0x04, 0xe9)),
	  DROP("udp-other") },
	/* DNS: UDP/TCP 53, a sane header */
	{ "dns query over udp", .pkt = UDP(53, PAYLOAD(DNS_QUERY_BYTES)), PASS("dns"),
	  .app = FRINGE_APP_DNS },
	{ "dns query over tcp (length first)", .pkt = TCP(53, PAYLOAD(0x00, 29, DNS_QUERY_BYTES)),
	  PASS("dns"), .app = FRINGE_APP_DNS },
	{ "dns impostor: no question",
	  .pkt = UDP(53, PAYLOAD(0x12, 0x34, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				 0x00)),
	  DROP("udp-other") },
	{ "dns impostor: opcode 15",
	  .pkt = UDP(53, PAYLOAD(0x12, 0x34, 0x78, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
				 0x00)),
	  DROP("udp-other") },
	{ "dns truncated: 11 bytes",
	  .pkt = UDP(53, PAYLOAD(0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00)),
	  DROP("udp-other") },
	/* NTP: UDP 123, version and mode, a full header */
	{ "ntp client request", .pkt = UDP(123, NTP_CLIENT), PASS("ntp"), .app = FRINGE_APP_NTP },
	{ "ntp impostor: version 0, mode 0",
	  .pkt = UDP(123, PAYLOAD(0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				  0, 0, 0)),
	  DROP("udp-other") },
	{ "ntp truncated: 47 bytes",
	  .pkt = UDP(123, PAYLOAD(0x23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				  0, 0)),
	  DROP("udp-other") },
	/* TCP without payload on an application's port: a candidate of that application */
	{ "mqtt SYN: a candidate", .pkt = TCP(1883, SYN), PASS("mqtt"), .app = FRINGE_APP_MQTT },
	{ "modbus bare ACK from the server: a candidate", .pkt = TCP(50001, .sport = 502, ACK),
	  PASS("modbus"), .app = FRINGE_APP_MODBUS },
	{ "opcua SYN over IPv6: a candidate", .pkt = TCP(4840, .src = "2001:db8::1",
							  .dst = "2001:db8::2", SYN),
	  PASS("opcua"), .app = FRINGE_APP_OPCUA },
	/* Headers that cannot be judged */
	{ "tcp data offset past the segment", .pkt = TCP(1883, MQTT_CONNECT),
	  .mutate = tcp_doff_beyond, DROP("tcp-other") },
	{ "tcp data offset below 20 bytes", .pkt = TCP(1883, MQTT_CONNECT), .mutate = tcp_doff_short,
	  DROP("tcp-other") },
	{ "a non-first fragment carries no ports, so no app",
	  .pkt = UDP(5683, COAP_GET, .frag = 2), DROP("udp-other") },
	{ "a first fragment is judged", .pkt = UDP(5683, COAP_GET, .frag = 1), PASS("coap"),
	  .app = FRINGE_APP_COAP },
	{ "no application on port 80", .pkt = TCP(80, TEXT("GET / HTTP/1.1\r\n\r\n")),
	  DROP("tcp-other") },
};

static void test_apps(void **state)
{
	run_table(state, policy_apps, cases_apps, ARRAY_SIZE(cases_apps));
}

/* ---- TCP: candidate, confirmation, continuation ------------------------------------- */

static const char policy_fine[] =
	"rule mb-read app modbus modbus-fc 1-4 allow\n"
	"rule mb-write modbus-fc 5,6,15,16 drop\n"
	"rule mb-rest app modbus allow\n"
	"rule mq-connect mqtt-type connect allow\n"
	"rule mq-pub mqtt-type publish allow\n"
	"rule mq-sub mqtt-type subscribe drop\n"
	"rule mq-rest app mqtt allow\n"
	"default drop\n";

/* A segment that continues a message: it fails every header check. */
#define CONTINUATION PAYLOAD(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)

static const struct app_case cases_fine[] = {
	/* modbus-fc: reads 1-4 allowed, writes 5, 6, 15, 16 dropped */
	{ "fc 1 read coils", .pkt = TCP(502, MODBUS(1)), PASS("mb-read"), .app = FRINGE_APP_MODBUS },
	{ "fc 2 read discrete inputs", .pkt = TCP(502, MODBUS(2)), PASS("mb-read"),
	  .app = FRINGE_APP_MODBUS },
	{ "fc 3 read holding registers", .pkt = TCP(502, MODBUS(3)), PASS("mb-read"),
	  .app = FRINGE_APP_MODBUS },
	{ "fc 4 read input registers", .pkt = TCP(502, MODBUS(4)), PASS("mb-read"),
	  .app = FRINGE_APP_MODBUS },
	{ "fc 5 write single coil", .pkt = TCP(502, MODBUS(5)), DROP("mb-write"),
	  .app = FRINGE_APP_MODBUS },
	{ "fc 6 write single register", .pkt = TCP(502, MODBUS(6)), DROP("mb-write"),
	  .app = FRINGE_APP_MODBUS },
	{ "fc 15 write multiple coils", .pkt = TCP(502, MODBUS(15)), DROP("mb-write"),
	  .app = FRINGE_APP_MODBUS },
	{ "fc 16 write multiple registers", .pkt = TCP(502, MODBUS(16)), DROP("mb-write"),
	  .app = FRINGE_APP_MODBUS },
	{ "fc 8 diagnostics: neither list", .pkt = TCP(502, MODBUS(8)), PASS("mb-rest"),
	  .app = FRINGE_APP_MODBUS },
	{ "fc 3 over IPv6", .pkt = TCP(502, .src = "2001:db8::1", .dst = "2001:db8::2", MODBUS(3)),
	  PASS("mb-read"), .app = FRINGE_APP_MODBUS },
	{ "modbus SYN: app rules match, modbus-fc rules do not", .pkt = TCP(502, SYN),
	  PASS("mb-rest"), .app = FRINGE_APP_MODBUS },
	{ "modbus impostor with fc 3", .pkt = TCP(502, PAYLOAD(0x00, 0x01, 0x00, 0x07, 0x00, 0x06,
								0x01, 0x03, 0, 0, 0, 1)),
	  DROP("default") },
	{ "fc 3 on another port", .pkt = TCP(503, MODBUS(3)), DROP("default") },
	/* mqtt-type */
	{ "mqtt CONNECT", .pkt = TCP(1883, MQTT_CONNECT), PASS("mq-connect"), .app = FRINGE_APP_MQTT },
	{ "mqtt PUBLISH QoS 0", .pkt = TCP(1883, MQTT_PUBLISH), PASS("mq-pub"),
	  .app = FRINGE_APP_MQTT },
	{ "mqtt PUBLISH QoS 1", .pkt = TCP(1883, MQTT_PUBLISH_QOS1), PASS("mq-pub"),
	  .app = FRINGE_APP_MQTT },
	{ "mqtt SUBSCRIBE", .pkt = TCP(1883, MQTT_SUBSCRIBE), DROP("mq-sub"), .app = FRINGE_APP_MQTT },
	{ "mqtt PINGREQ: no mqtt-type rule", .pkt = TCP(1883, MQTT_PINGREQ), PASS("mq-rest"),
	  .app = FRINGE_APP_MQTT },
	{ "mqtt SYN: app rules match, mqtt-type rules do not", .pkt = TCP(1883, SYN),
	  PASS("mq-rest"), .app = FRINGE_APP_MQTT },
	{ "mqtt impostor", .pkt = TCP(1883, TEXT("GET / HTTP/1.1\r\n\r\n")), DROP("default") },
	/* A confirmed flow's continuation is the application; an unconfirmed one's is not. */
	{ "flow A: SYN", .pkt = TCP(1883, .sport = 45001, SYN), PASS("mq-rest"),
	  .app = FRINGE_APP_MQTT },
	{ "flow A: continuation before any message: not mqtt",
	  .pkt = TCP(1883, .sport = 45001, CONTINUATION), DROP("default") },
	{ "flow A: CONNECT confirms it", .pkt = TCP(1883, .sport = 45001, MQTT_CONNECT),
	  PASS("mq-connect"), .app = FRINGE_APP_MQTT },
	{ "flow A: continuation: mqtt, no packet type",
	  .pkt = TCP(1883, .sport = 45001, CONTINUATION), PASS("mq-rest"), .app = FRINGE_APP_MQTT },
	{ "flow A: PUBLISH", .pkt = TCP(1883, .sport = 45001, MQTT_PUBLISH), PASS("mq-pub"),
	  .app = FRINGE_APP_MQTT },
	{ "flow A: continuation again", .pkt = TCP(1883, .sport = 45001, CONTINUATION),
	  PASS("mq-rest"), .app = FRINGE_APP_MQTT },
	{ "flow A reversed is another flow: not confirmed",
	  .pkt = TCP(45001, .src = "10.2.0.1", .dst = "10.1.0.1", .sport = 1883, CONTINUATION),
	  DROP("default") },
	{ "flow B (another source port): continuation is not mqtt",
	  .pkt = TCP(1883, .sport = 45002, CONTINUATION), DROP("default") },
	{ "flow C: modbus read confirms", .pkt = TCP(502, .sport = 45003, MODBUS(3)),
	  PASS("mb-read"), .app = FRINGE_APP_MODBUS },
	{ "flow C: continuation: modbus, no function code",
	  .pkt = TCP(502, .sport = 45003, CONTINUATION), PASS("mb-rest"), .app = FRINGE_APP_MODBUS },
	{ "flow C: a write in the same flow is still dropped",
	  .pkt = TCP(502, .sport = 45003, MODBUS(6)), DROP("mb-write"), .app = FRINGE_APP_MODBUS },
	{ "flow D: MQTT on the modbus port does not confirm modbus",
	  .pkt = TCP(502, .sport = 45004, MQTT_CONNECT), DROP("default") },
	{ "flow D: continuation is not modbus", .pkt = TCP(502, .sport = 45004, CONTINUATION),
	  DROP("default") },
	{ "flow E over IPv6: CONNECT confirms",
	  .pkt = TCP(1883, .src = "2001:db8::1", .dst = "2001:db8::2", .sport = 45005, MQTT_CONNECT),
	  PASS("mq-connect"), .app = FRINGE_APP_MQTT },
	{ "flow E over IPv6: continuation",
	  .pkt = TCP(1883, .src = "2001:db8::1", .dst = "2001:db8::2", .sport = 45005, CONTINUATION),
	  PASS("mq-rest"), .app = FRINGE_APP_MQTT },
	{ "flow E's ports from another IPv6 source: not confirmed",
	  .pkt = TCP(1883, .src = "2001:db8::3", .dst = "2001:db8::2", .sport = 45005, CONTINUATION),
	  DROP("default") },
};

static void test_modbus_mqtt_flows(void **state)
{
	run_table(state, policy_fine, cases_fine, ARRAY_SIZE(cases_fine));
}

/* A confirmed flow is remembered as long as the flow state is (each CPU's
 * memo of it too): many segments later it is still the application, and
 * once policies without app rules fill both slots the state is gone, so the
 * next app policy has to see the flow confirmed again. */
static void test_app_flows_forgotten(void **state)
{
	struct fx *f = get_fx(state);
	const struct app_case confirm = { "flow F: CONNECT confirms it",
					  .pkt = TCP(1883, .sport = 45101, MQTT_CONNECT),
					  PASS("mq-connect"), .app = FRINGE_APP_MQTT };
	const struct app_case cont = { "flow F: continuation",
				       .pkt = TCP(1883, .sport = 45101, CONTINUATION),
				       PASS("mq-rest"), .app = FRINGE_APP_MQTT };
	const struct app_case forgotten = { "flow F: continuation, its state gone",
					    .pkt = TCP(1883, .sport = 45101, CONTINUATION),
					    DROP("default") };

	load_ok(f, policy_fine);
	run_case(f, &confirm);
	for (int i = 0; i < 140; i++)	/* past two of the memo's refreshes (APP_MEMO_REFRESH) */
		run_case(f, &cont);
	load_ok(f, "rule x proto udp allow\n");
	load_ok(f, "rule y proto udp allow\n");
	load_ok(f, policy_fine);
	run_case(f, &forgotten);
	run_case(f, &confirm);
	run_case(f, &cont);
}

/* Without app rules there is no flow state: a continuation is not counted as the app,
 * but valid messages and candidates are. */
static const struct app_case cases_no_app_rules[] = {
	{ "mqtt connect", .pkt = TCP(1883, .sport = 46001, MQTT_CONNECT), PASS("default"),
	  .app = FRINGE_APP_MQTT },
	{ "mqtt continuation: no flow state", .pkt = TCP(1883, .sport = 46001, CONTINUATION),
	  PASS("default") },
	{ "mqtt SYN", .pkt = TCP(1883, SYN), PASS("default"), .app = FRINGE_APP_MQTT },
	{ "coap", .pkt = UDP(5683, COAP_GET), PASS("default"), .app = FRINGE_APP_COAP },
	{ "coap impostor", .pkt = UDP(5683, PAYLOAD(0x00, 0x01, 0x12, 0x34)), PASS("default") },
	{ "dns", .pkt = UDP(53, PAYLOAD(DNS_QUERY_BYTES)), DROP("no-dns"), .app = FRINGE_APP_DNS },
};

static void test_app_counters_without_app_rules(void **state)
{
	run_table(state, "rule no-dns proto udp dport 53 drop\n", cases_no_app_rules,
		  ARRAY_SIZE(cases_no_app_rules));
}

/* ---- the flow table remembers what learn needs --------------------------------------- */

static void send_pkt(struct fx *f, const struct pkt_opts *o)
{
	uint8_t fr[FRAME_CAP];
	size_t len = pkt_build(fr, sizeof(fr), o);
	uint32_t action;

	assert_true(len > 0);
	assert_int_equal(fx_run(f, fr, len, 0, &action), 0);
}

static uint8_t flow_app(const struct flow_row *rows, size_t n, uint16_t sport, uint16_t dport)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].key.sport == sport && rows[i].key.dport == dport)
			return rows[i].app;
	fail_msg("no flow %u -> %u", sport, dport);
	return 0;
}

static void test_flow_app(void **state)
{
	struct fx *f = get_fx(state);
	const struct pkt_opts mq_syn = TCP(1883, .sport = 47001, SYN);
	const struct pkt_opts mq_conn = TCP(1883, .sport = 47001, MQTT_CONNECT);
	const struct pkt_opts mq_pub = TCP(1883, .sport = 47001, MQTT_PUBLISH);
	const struct pkt_opts mq_cont = TCP(1883, .sport = 47002, MQTT_CONNECT);
	const struct pkt_opts mq_cont2 = TCP(1883, .sport = 47002, CONTINUATION);
	const struct pkt_opts fake = TCP(1883, .sport = 47003, TEXT("GET / HTTP/1.1\r\n\r\n"));
	const struct pkt_opts syn_only = TCP(1883, .sport = 47004, SYN);
	const struct pkt_opts coap = UDP(5683, .sport = 47005, COAP_GET);
	const struct pkt_opts coap_bad = UDP(5683, .sport = 47006, COAP_GET);
	const struct pkt_opts coap_bad2 = UDP(5683, .sport = 47006, PAYLOAD('.'));
	struct flow_row *rows = NULL;
	size_t n = 0;

	for (int with_app_rules = 0; with_app_rules < 2; with_app_rules++) {
		uint64_t cleared;

		load_ok(f, with_app_rules ? "rule m app mqtt allow\n" : "rule m dport 1883 allow\n");
		assert_int_equal(flows_set_enabled(&f->m, false, &cleared), 0);
		assert_int_equal(flows_set_enabled(&f->m, true, &cleared), 0);
		send_pkt(f, &mq_syn);
		send_pkt(f, &mq_conn);
		send_pkt(f, &mq_pub);
		send_pkt(f, &mq_cont);
		send_pkt(f, &mq_cont2);
		send_pkt(f, &fake);
		send_pkt(f, &syn_only);
		send_pkt(f, &coap);
		send_pkt(f, &coap_bad);
		send_pkt(f, &coap_bad2);
		assert_int_equal(flows_read(&f->m, &rows, &n), 0);
		assert_int_equal(n, 6);
		assert_int_equal(flow_app(rows, n, 47001, 1883), FRINGE_APP_MQTT);
		/* A continuation counts as the app only where the policy keeps flow state. */
		assert_int_equal(flow_app(rows, n, 47002, 1883),
				 with_app_rules ? FRINGE_APP_MQTT
						: FRINGE_APP_MQTT | FRINGE_FLOW_APP_MISMATCH);
		assert_int_equal(flow_app(rows, n, 47003, 1883), FRINGE_FLOW_APP_MISMATCH);
		assert_int_equal(flow_app(rows, n, 47004, 1883), 0);	/* a candidate proves nothing */
		assert_int_equal(flow_app(rows, n, 47005, 5683), FRINGE_APP_COAP);
		/* UDP: a datagram that fails the check marks the flow too. */
		assert_int_equal(flow_app(rows, n, 47006, 5683),
				 FRINGE_APP_COAP | FRINGE_FLOW_APP_MISMATCH);
		free(rows);
		rows = NULL;
	}
}

/* ---- devices, classes, spoofing and per-device counters ------------------------------ */

static const char policy_dev[] =
	"device plc1 mac 02:dd:00:00:00:01 ip 10.60.0.1 class plc\n"
	"device plc2 mac 02:dd:00:00:00:02 ip 10.60.0.2 ip 2001:db8:60::2 class plc\n"
	"device cam mac 02:dd:00:00:00:03 ip 10.60.0.3 class camera\n"
	"device orphan mac 02:dd:00:00:00:04\n"
	"rule plc1-read device plc1 app modbus modbus-fc 3 allow\n"
	"rule plcs class plc proto udp allow\n"
	"rule cam device cam proto tcp dport 554 allow\n"
	"default drop\n";

#define FROM(mac, ip) .smac = (mac), .src = (ip)

static const struct app_case cases_dev[] = {
	{ "plc1 reads", .pkt = TCP(502, FROM("02:dd:00:00:00:01", "10.60.0.1"), MODBUS(3)),
	  PASS("plc1-read"), .app = FRINGE_APP_MODBUS },
	{ "plc1 writes", .pkt = TCP(502, FROM("02:dd:00:00:00:01", "10.60.0.1"), MODBUS(6)),
	  DROP("default"), .app = FRINGE_APP_MODBUS },
	{ "plc2 reads: not plc1", .pkt = TCP(502, FROM("02:dd:00:00:00:02", "10.60.0.2"), MODBUS(3)),
	  DROP("default"), .app = FRINGE_APP_MODBUS },
	{ "plc2 udp: class plc", .pkt = UDP(9000, FROM("02:dd:00:00:00:02", "10.60.0.2")),
	  PASS("plcs") },
	{ "plc2 udp over IPv6", .pkt = UDP(9000, FROM("02:dd:00:00:00:02", "2001:db8:60::2"),
					   .dst = "2001:db8::2"),
	  PASS("plcs") },
	{ "plc1 from an undeclared address: still plc1",
	  .pkt = UDP(9000, FROM("02:dd:00:00:00:01", "10.61.0.9")), PASS("plcs") },
	{ "cam rtsp", .pkt = TCP(554, FROM("02:dd:00:00:00:03", "10.60.0.3")), PASS("cam") },
	{ "cam udp: not a plc", .pkt = UDP(9000, FROM("02:dd:00:00:00:03", "10.60.0.3")),
	  DROP("default") },
	{ "orphan (no address declared)", .pkt = UDP(9000, FROM("02:dd:00:00:00:04", "10.60.0.4")),
	  DROP("default") },
	{ "spoofed: cam's MAC with plc1's address",
	  .pkt = UDP(9000, FROM("02:dd:00:00:00:03", "10.60.0.1")), DROP("default") },
	{ "spoofed: unknown MAC with plc2's IPv6 address",
	  .pkt = UDP(9000, FROM("02:ee:00:00:00:01", "2001:db8:60::2"), .dst = "2001:db8::2"),
	  DROP("default") },
	{ "spoofed: unknown MAC with cam's address, cam's port",
	  .pkt = TCP(554, FROM("02:ee:00:00:00:01", "10.60.0.3")), DROP("default") },
	{ "stranger", .pkt = UDP(9000, FROM("02:ee:00:00:00:02", "10.99.0.1")), DROP("default") },
};

/* A device of the policy in force, by name: false when not listed. */
static bool dev_get(struct fx *f, const char *name, struct maps_device *out)
{
	struct maps_device *d;
	bool found = false;
	size_t n;

	assert_int_equal(maps_read_devices(&f->m, &d, &n), 0);
	for (size_t i = 0; i < n && !found; i++)
		if (!strcmp(d[i].name, name)) {
			*out = d[i];
			found = true;
		}
	free(d);
	return found;
}

/* Per-device counters of the policy in force: name -> packets, -1 when not listed. */
static int64_t dev_packets(struct fx *f, const char *name, uint64_t *bytes)
{
	struct maps_device d;

	if (!dev_get(f, name, &d))
		return -1;
	if (bytes)
		*bytes = d.cnt.bytes;
	return d.cnt.packets;
}

/* Packets that claimed the device's address from another MAC; -1 when not listed. */
static int64_t dev_spoofed(struct fx *f, const char *name, uint32_t *id)
{
	struct maps_device d;

	if (!dev_get(f, name, &d))
		return -1;
	if (id)
		*id = d.id;
	return d.spoofed;
}

static size_t dev_count(struct fx *f)
{
	struct maps_device *d;
	size_t n;

	assert_int_equal(maps_read_devices(&f->m, &d, &n), 0);
	free(d);
	return n;
}

static uint64_t spoofed(struct fx *f)
{
	struct fringe_iface_stats st;

	assert_int_equal(fx_iface_stats(f, f->ifindex, &st), 0);
	return st.spoofed;
}

static void test_devices(void **state)
{
	struct fx *f = get_fx(state);
	uint64_t sp0, bytes = 0;

	load_ok(f, policy_dev);
	assert_int_equal(dev_count(f), 4);
	sp0 = spoofed(f);
	for (size_t i = 0; i < ARRAY_SIZE(cases_dev); i++)
		run_case(f, &cases_dev[i]);
	assert_int_equal(spoofed(f) - sp0, 3);
	/* Counted as the sender, whatever the verdict; spoofed packets count for no device. */
	assert_int_equal(dev_packets(f, "plc1", &bytes), 3);
	assert_int_equal(bytes, 2 * (14 + 20 + 20 + 12) + (14 + 20 + 8));	/* two reads, a datagram */
	assert_int_equal(dev_packets(f, "plc2", NULL), 3);
	assert_int_equal(dev_packets(f, "cam", NULL), 2);
	assert_int_equal(dev_packets(f, "orphan", NULL), 1);
	assert_int_equal(dev_packets(f, "stranger", NULL), -1);
	/* Each spoofed packet counts against the device whose address it claimed,
	 * also when the sender is another declared device (cam as plc1). */
	assert_int_equal(dev_spoofed(f, "plc1", NULL), 1);
	assert_int_equal(dev_spoofed(f, "plc2", NULL), 1);	/* its IPv6 address */
	assert_int_equal(dev_spoofed(f, "cam", NULL), 1);
	assert_int_equal(dev_spoofed(f, "orphan", NULL), 0);
}

/* A flow's later packets take the sender from the rule memo (policy.h,
 * identify_remembered): the same counts as the first packet's, spoofed
 * ones included.  The kernel repeats each packet on one CPU. */
static void test_devices_remembered(void **state)
{
	static const struct pkt_opts own = UDP(9000, FROM("02:dd:00:00:00:02", "10.60.0.2"));
	static const struct pkt_opts spoof = UDP(9000, FROM("02:dd:00:00:00:03", "10.60.0.1"));
	struct fx *f = get_fx(state);
	uint8_t fr[FRAME_CAP];
	uint64_t sp0, plcs0, def0;
	uint32_t action;
	size_t len;

	load_ok(f, policy_dev);
	sp0 = spoofed(f);
	plcs0 = fx_rule_packets(f, "plcs");
	def0 = fx_rule_packets(f, "default");
	len = pkt_build(fr, sizeof(fr), &own);
	assert_int_equal(fx_run_repeat(f, fr, len, 0, 5, &action), 0);
	assert_int_equal(action, XDP_PASS);
	assert_int_equal(fx_rule_packets(f, "plcs") - plcs0, 5);
	assert_int_equal(dev_packets(f, "plc2", NULL), 5);
	/* cam's MAC with plc1's address: no device, plc1's address claimed */
	len = pkt_build(fr, sizeof(fr), &spoof);
	assert_int_equal(fx_run_repeat(f, fr, len, 0, 5, &action), 0);
	assert_int_equal(action, XDP_DROP);
	assert_int_equal(fx_rule_packets(f, "default") - def0, 5);
	assert_int_equal(spoofed(f) - sp0, 5);
	assert_int_equal(dev_spoofed(f, "plc1", NULL), 5);
	assert_int_equal(dev_packets(f, "cam", NULL), 0);
	assert_int_equal(dev_packets(f, "plc1", NULL), 0);
}

/* The memos tell the families apart: an IPv6 source whose first bytes are
 * a declared IPv4 address (10.60.0.1 and a3c:1::) claims nothing, also
 * right after the IPv4 address was claimed from the same MAC. */
static void test_devices_family(void **state)
{
	static const struct pkt_opts v4 = UDP(9000, FROM("02:dd:00:00:00:09", "10.60.0.1"));
	static const struct pkt_opts v6 = UDP(9000, FROM("02:dd:00:00:00:09", "a3c:1::"),
					      .dst = "2001:db8::2");
	struct fx *f = get_fx(state);
	uint8_t fr[FRAME_CAP];
	uint64_t sp0;
	uint32_t action;
	size_t len;

	load_ok(f, policy_dev);
	sp0 = spoofed(f);
	len = pkt_build(fr, sizeof(fr), &v4);
	assert_int_equal(fx_run_repeat(f, fr, len, 0, 2, &action), 0);
	assert_int_equal(spoofed(f) - sp0, 2);
	len = pkt_build(fr, sizeof(fr), &v6);
	assert_int_equal(fx_run_repeat(f, fr, len, 0, 2, &action), 0);
	assert_int_equal(spoofed(f) - sp0, 2);
	assert_int_equal(dev_spoofed(f, "plc1", NULL), 2);
}

/* Devices declared, no rule names one: still identified, counted and spoof-checked. */
static void test_devices_without_device_rules(void **state)
{
	struct fx *f = get_fx(state);
	const struct app_case cases[] = {
		{ "device", .pkt = UDP(9000, FROM("02:dd:00:00:00:01", "10.60.0.1")), PASS("udp") },
		{ "spoofed", .pkt = UDP(9000, FROM("02:dd:00:00:00:09", "10.60.0.1")), PASS("udp") },
		{ "stranger", .pkt = TCP(80, FROM("02:dd:00:00:00:09", "10.60.0.9")),
		  PASS("default") },
	};
	uint64_t sp0;

	load_ok(f, "device plc1 mac 02:dd:00:00:00:01 ip 10.60.0.1\nrule udp proto udp allow\n");
	sp0 = spoofed(f);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(f, &cases[i]);
	assert_int_equal(spoofed(f) - sp0, 1);
	assert_int_equal(dev_packets(f, "plc1", NULL), 1);
	assert_int_equal(dev_spoofed(f, "plc1", NULL), 1);
}

/* Spoof counts follow device names across reloads, like the packet counters;
 * an id given to a new name starts with none of its previous owner's. */
static void test_device_spoofs_reload(void **state)
{
	struct fx *f = get_fx(state);
	const struct pkt_opts as_a = UDP(9000, FROM("02:ee:00:00:00:01", "10.60.0.10"));
	const struct pkt_opts as_b = UDP(9000, FROM("02:dd:00:00:00:0a", "10.60.0.11"));	/* a's MAC */
	const struct pkt_opts as_d = UDP(9000, FROM("02:ee:00:00:00:01", "10.60.0.13"));
	uint32_t id_a, id_d;

	load_ok(f, "device a mac 02:dd:00:00:00:0a ip 10.60.0.10\n"
		   "device b mac 02:dd:00:00:00:0b ip 10.60.0.11\n");
	send_pkt(f, &as_a);
	send_pkt(f, &as_a);
	send_pkt(f, &as_b);
	assert_int_equal(dev_spoofed(f, "a", &id_a), 2);
	assert_int_equal(dev_spoofed(f, "b", NULL), 1);
	assert_int_equal(dev_packets(f, "a", NULL), 0);

	load_ok(f, "device b mac 02:dd:00:00:00:0b ip 10.60.0.11\n"
		   "device c mac 02:dd:00:00:00:0c ip 10.60.0.12\n");
	assert_int_equal(dev_spoofed(f, "b", NULL), 1);
	assert_int_equal(dev_spoofed(f, "c", NULL), 0);
	assert_int_equal(dev_spoofed(f, "a", NULL), -1);
	/* a's MAC is no device's now: the packet claims b's address from a stranger. */
	send_pkt(f, &as_b);
	assert_int_equal(dev_spoofed(f, "b", NULL), 2);

	/* d takes the id a had (the policy in force does not use it): zero, not a's 2. */
	load_ok(f, "device d mac 02:dd:00:00:00:0d ip 10.60.0.13\n"
		   "device b mac 02:dd:00:00:00:0b ip 10.60.0.11\n");
	assert_int_equal(dev_spoofed(f, "d", &id_d), 0);
	assert_int_equal(id_d, id_a);
	assert_int_equal(dev_spoofed(f, "b", NULL), 2);
	send_pkt(f, &as_d);
	assert_int_equal(dev_spoofed(f, "d", NULL), 1);
}

/* More devices spoofed at once than the table holds: the rest are counted
 * on the interface as untracked, and the room comes back when the policy
 * that declared them is gone from both slots. */
static void test_device_spoofs_full(void **state)
{
	enum { N = FRINGE_SPOOF_DEVICES + 44 };
	struct fx *f = get_fx(state);
	struct fringe_iface_stats st0, st1;
	size_t cap = N * 64, len = 0, n;
	char *pol = malloc(cap), ip[16];
	struct maps_device *d;
	uint64_t tracked = 0;

	assert_non_null(pol);
	for (int i = 0; i < N; i++)
		len += snprintf(pol + len, cap - len, "device d%d mac 02:dd:00:00:%02x:%02x ip 10.70.%d.%d\n",
				i, i >> 8, i & 0xff, i >> 8, i & 0xff);
	load_ok(f, pol);
	assert_int_equal(fx_iface_stats(f, f->ifindex, &st0), 0);
	for (int i = 0; i < N; i++) {
		snprintf(ip, sizeof(ip), "10.70.%d.%d", i >> 8, i & 0xff);
		send_pkt(f, &(struct pkt_opts)UDP(9000, FROM("02:ee:00:00:00:01", ip)));
	}
	assert_int_equal(fx_iface_stats(f, f->ifindex, &st1), 0);
	assert_int_equal(st1.spoofed - st0.spoofed, N);
	assert_int_equal(st1.spoofed_untracked - st0.spoofed_untracked, N - FRINGE_SPOOF_DEVICES);
	assert_int_equal(maps_read_devices(&f->m, &d, &n), 0);
	assert_int_equal(n, N);
	for (size_t i = 0; i < n; i++) {
		assert_true(d[i].spoofed <= 1);
		tracked += d[i].spoofed;
	}
	free(d);
	assert_int_equal(tracked, FRINGE_SPOOF_DEVICES);

	/* Twice, so that neither slot holds the big policy: its ids give their room back. */
	load_ok(f, "device x mac 02:dd:00:00:00:0a ip 10.60.0.10\n");
	load_ok(f, "device x mac 02:dd:00:00:00:0a ip 10.60.0.10\n");
	send_pkt(f, &(struct pkt_opts)UDP(9000, FROM("02:ee:00:00:00:02", "10.60.0.10")));
	assert_int_equal(dev_spoofed(f, "x", NULL), 1);
	assert_int_equal(fx_iface_stats(f, f->ifindex, &st0), 0);
	assert_int_equal(st0.spoofed_untracked, st1.spoofed_untracked);
	free(pol);
}

/* Device counters follow names across reloads; a revert to the previous slot shows its devices. */
static void test_device_counters_reload(void **state)
{
	struct fx *f = get_fx(state);
	const struct pkt_opts from_a = UDP(9000, FROM("02:dd:00:00:00:0a", "10.60.0.10"));
	const struct pkt_opts from_b = UDP(9000, FROM("02:dd:00:00:00:0b", "10.60.0.11"));
	const struct pkt_opts from_c = UDP(9000, FROM("02:dd:00:00:00:0c", "10.60.0.12"));

	load_ok(f, "device a mac 02:dd:00:00:00:0a\ndevice b mac 02:dd:00:00:00:0b\n");
	send_pkt(f, &from_a);
	send_pkt(f, &from_b);
	send_pkt(f, &from_b);
	assert_int_equal(dev_packets(f, "a", NULL), 1);
	assert_int_equal(dev_packets(f, "b", NULL), 2);

	/* b survives (declared anew, with an address: the name decides), a goes, c comes. */
	load_ok(f, "device c mac 02:dd:00:00:00:0c\ndevice b mac 02:dd:00:00:00:0b ip 10.60.0.11\n");
	assert_int_equal(dev_count(f), 2);
	assert_int_equal(dev_packets(f, "a", NULL), -1);
	assert_int_equal(dev_packets(f, "b", NULL), 2);
	assert_int_equal(dev_packets(f, "c", NULL), 0);
	send_pkt(f, &from_a);
	send_pkt(f, &from_b);
	send_pkt(f, &from_c);
	assert_int_equal(dev_packets(f, "b", NULL), 3);
	assert_int_equal(dev_packets(f, "c", NULL), 1);

	/* Back to the previous slot (commit-confirm's revert): a and its count return. */
	assert_int_equal(maps_flip(&f->m), 0);
	assert_int_equal(dev_count(f), 2);
	assert_int_equal(dev_packets(f, "a", NULL), 1);
	assert_int_equal(dev_packets(f, "b", NULL), 3);
	assert_int_equal(dev_packets(f, "c", NULL), -1);
	send_pkt(f, &from_a);
	assert_int_equal(dev_packets(f, "a", NULL), 2);

	/* A policy without devices lists none. */
	load_ok(f, "rule x proto udp allow\n");
	assert_int_equal(dev_count(f), 0);
}

static int report_rows(void **state)
{
	fprintf(stderr, "test_app: %zu fixture-table rows run\n", table_rows);
	return 0;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_apps),
		T(test_modbus_mqtt_flows),
		T(test_app_flows_forgotten),
		T(test_app_counters_without_app_rules),
		T(test_flow_app),
		T(test_devices),
		T(test_devices_remembered),
		T(test_devices_family),
		T(test_devices_without_device_rules),
		T(test_device_counters_reload),
		T(test_device_spoofs_reload),
		T(test_device_spoofs_full),
	};
#undef T

	return cmocka_run_group_tests_name("app", tests, NULL, report_rows);
}
